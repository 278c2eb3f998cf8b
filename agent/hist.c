/* hist.c: log-bucketed latency histograms (32 linear steps per power of two)
 * that an I/O worker records into while the reporter snapshots and merges. */
#include "config.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hist.h"

/*
 * Single writer: a relaxed load and store is enough to count, and unlike
 * atomic_fetch_add it costs no locked instruction on the I/O path.
 */
#define LOAD(p)		atomic_load_explicit((p), memory_order_relaxed)
#define STORE(p, v)	atomic_store_explicit((p), (v), memory_order_relaxed)

/* Percentiles are taken to a thousandth: p99.999 is 99999 of 100000. */
#define PCT_SCALE	100000

static unsigned
bucket_of(uint64_t v)
{
	unsigned	shift;

	if (v < 2 * HIST_SUB)
		return (unsigned)v;
	/* Keep the top HIST_SUB_BITS + 1 bits: v >> shift is in [32, 64). */
	shift = (unsigned)(63 - __builtin_clzll(v)) - HIST_SUB_BITS;
	return HIST_SUB * shift + (unsigned)(v >> shift);
}

/* The largest value bucket i holds. */
static uint64_t
bucket_high(unsigned i)
{
	unsigned	shift;
	uint64_t	sub;

	if (i < 2 * HIST_SUB)
		return i;
	shift = i / HIST_SUB - 1;
	sub = i - HIST_SUB * shift;
	/* Not ((sub + 1) << shift) - 1: that overflows in the top bucket. */
	return (sub << shift) + ((UINT64_C(1) << shift) - 1);
}

/* The smallest value bucket i holds. */
static uint64_t
bucket_low(unsigned i)
{
	unsigned	shift;

	if (i < 2 * HIST_SUB)
		return i;
	shift = i / HIST_SUB - 1;
	return (uint64_t)(i - HIST_SUB * shift) << shift;
}

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

void
hist_init(struct hist *h)
{
	hist_reset(h);
}

void
hist_reset(struct hist *h)
{
	unsigned	i;

	for (i = 0; i < HIST_BUCKETS; i++)
		STORE(&h->counts[i], 0);
	STORE(&h->total, 0);
	STORE(&h->sum, 0);
	STORE(&h->min_inv, 0);
	STORE(&h->max, 0);
}

void
hist_record(struct hist *h, uint64_t ns)
{
	_Atomic uint64_t	*c = &h->counts[bucket_of(ns)];

	if (~ns > LOAD(&h->min_inv))
		STORE(&h->min_inv, ~ns);
	if (ns > LOAD(&h->max))
		STORE(&h->max, ns);
	STORE(&h->sum, add_sat(LOAD(&h->sum), ns));
	/* Release: whoever sees this count sees min, max and sum above. */
	atomic_store_explicit(c, LOAD(c) + 1, memory_order_release);
	STORE(&h->total, LOAD(&h->total) + 1);
}

/*
 * Reads src's buckets (acquire, pairing with hist_record) and then its
 * min, max and sum, so those cover every value counted. Returns the count.
 */
static uint64_t
read_into(struct hist *dst, const struct hist *src, bool add)
{
	uint64_t	c, total = 0;
	unsigned	i;

	for (i = 0; i < HIST_BUCKETS; i++) {
		c = atomic_load_explicit(&src->counts[i], memory_order_acquire);
		if (add)
			STORE(&dst->counts[i], LOAD(&dst->counts[i]) + c);
		else
			STORE(&dst->counts[i], c);
		total += c;
	}
	return total;
}

void
hist_snapshot(struct hist *dst, const struct hist *src)
{
	STORE(&dst->total, read_into(dst, src, false));
	STORE(&dst->min_inv, LOAD(&src->min_inv));
	STORE(&dst->max, LOAD(&src->max));
	STORE(&dst->sum, LOAD(&src->sum));
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
	uint64_t	total, v;

	total = read_into(dst, src, true);
	if (total == 0)
		return;
	STORE(&dst->total, LOAD(&dst->total) + total);
	/* An empty side has min_inv and max 0, which lose both comparisons. */
	if ((v = LOAD(&src->min_inv)) > LOAD(&dst->min_inv))
		STORE(&dst->min_inv, v);
	if ((v = LOAD(&src->max)) > LOAD(&dst->max))
		STORE(&dst->max, v);
	STORE(&dst->sum, add_sat(LOAD(&dst->sum), LOAD(&src->sum)));
}

void
hist_delta(struct hist *dst, const struct hist *now, const struct hist *before)
{
	uint64_t	a, b, total = 0, lo = 0, hi = 0, sa, sb;
	unsigned	i, first = HIST_BUCKETS, last = 0;

	for (i = 0; i < HIST_BUCKETS; i++) {
		a = atomic_load_explicit(&now->counts[i], memory_order_acquire);
		b = LOAD(&before->counts[i]);
		a = a > b ? a - b : 0;
		STORE(&dst->counts[i], a);
		if (a == 0)
			continue;
		total += a;
		if (first == HIST_BUCKETS)
			first = i;
		last = i;
	}
	STORE(&dst->total, total);
	if (total == 0) {
		STORE(&dst->min_inv, 0);
		STORE(&dst->max, 0);
		STORE(&dst->sum, 0);
		return;
	}
	lo = bucket_low(first);
	if (lo < ~LOAD(&now->min_inv))
		lo = ~LOAD(&now->min_inv);
	hi = bucket_high(last);
	if (hi > LOAD(&now->max))
		hi = LOAD(&now->max);
	if (hi < lo)
		hi = lo;
	STORE(&dst->min_inv, ~lo);
	STORE(&dst->max, hi);
	sa = LOAD(&now->sum);
	sb = LOAD(&before->sum);
	STORE(&dst->sum, sa == UINT64_MAX ? UINT64_MAX : sa > sb ? sa - sb : 0);
}

uint64_t
hist_count(const struct hist *h)
{
	return LOAD(&h->total);
}

uint64_t
hist_min(const struct hist *h)
{
	return hist_count(h) == 0 ? 0 : ~LOAD(&h->min_inv);
}

uint64_t
hist_max(const struct hist *h)
{
	return hist_count(h) == 0 ? 0 : LOAD(&h->max);
}

double
hist_mean(const struct hist *h)
{
	uint64_t	n = hist_count(h);

	return n == 0 ? 0 : (double)LOAD(&h->sum) / (double)n;
}

uint64_t
hist_percentile(const struct hist *h, double p)
{
	uint64_t	n = 0, pm, rank, cum = 0, hi, max;
	unsigned	i;

	/*
	 * Count the buckets rather than trust total. On a live histogram the
	 * answer is safe to compute but approximate: query a snapshot.
	 */
	for (i = 0; i < HIST_BUCKETS; i++)
		n += atomic_load_explicit(&h->counts[i], memory_order_acquire);
	if (n == 0)
		return 0;
	if (!(p > 0))			/* NaN too */
		pm = 0;
	else if (p >= 100)
		pm = PCT_SCALE;
	else
		pm = (uint64_t)(p * (PCT_SCALE / 100) + 0.5);
	/* ceil(n * pm / PCT_SCALE) without overflowing or rounding n. */
	rank = n / PCT_SCALE * pm +
	    ((n % PCT_SCALE) * pm + PCT_SCALE - 1) / PCT_SCALE;
	max = LOAD(&h->max);
	if (rank <= 1)
		return ~LOAD(&h->min_inv);
	if (rank >= n)
		return max;
	for (i = 0; i < HIST_BUCKETS; i++) {
		cum += LOAD(&h->counts[i]);
		if (cum >= rank) {
			hi = bucket_high(i);
			return hi < max ? hi : max;
		}
	}
	return max;	/* not reached: counts only grow */
}

/* JSON integers are signed. */
static json_t *
json_ns(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

json_t *
hist_to_json(const struct hist *h)
{
	static const struct {
		const char	*key;
		double		 p;
	} pcts[] = {
		{ "p50_ns", 50 }, { "p90_ns", 90 },
		{ "p99_ns", 99 }, { "p999_ns", 99.9 },
	};
	struct hist	 snap;
	json_t		*o;
	double		 mean;
	size_t		 i;
	bool		 empty;
	int		 rc = 0;

	hist_snapshot(&snap, h);
	empty = hist_count(&snap) == 0;
	if ((o = json_object()) == NULL)
		return NULL;
	rc |= json_object_set_new(o, "count", json_ns(hist_count(&snap)));
	rc |= json_object_set_new(o, "min_ns",
	    empty ? json_null() : json_ns(hist_min(&snap)));
	rc |= json_object_set_new(o, "max_ns",
	    empty ? json_null() : json_ns(hist_max(&snap)));
	mean = hist_mean(&snap);
	rc |= json_object_set_new(o, "mean_ns", empty ? json_null() :
	    json_ns(mean >= 0x1p63 ? UINT64_MAX : (uint64_t)(mean + 0.5)));
	for (i = 0; i < sizeof pcts / sizeof pcts[0]; i++)
		rc |= json_object_set_new(o, pcts[i].key, empty ? json_null() :
		    json_ns(hist_percentile(&snap, pcts[i].p)));
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
