/* check-hist.c: latency histograms: exact answers on known distributions,
 * the 1/32 error bound over the whole range, merging, JSON, and threads. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

/* Fixed-size and big: the tests keep theirs static rather than on the stack. */
static struct hist	h, h2, h3, h4;

static void
setup(void)
{
	hist_reset(&h);
	hist_reset(&h2);
	hist_reset(&h3);
	hist_reset(&h4);
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Roughly log-uniform from 1 µs to 65 ms, like real I/O latencies. */
static uint64_t
latency(uint64_t *s)
{
	uint64_t	r = xorshift(s);

	return (1000 + r % 1000) << (r >> 60) % 17;
}

START_TEST(empty)
{
	json_t	*j;

	ck_assert_uint_eq(hist_count(&h), 0);
	ck_assert_uint_eq(hist_min(&h), 0);
	ck_assert_uint_eq(hist_max(&h), 0);
	ck_assert(hist_mean(&h) == 0);
	ck_assert_uint_eq(hist_percentile(&h, 50), 0);
	ck_assert_uint_eq(hist_percentile(&h, 100), 0);
	ck_assert_ptr_nonnull(j = hist_to_json(&h));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 0);
	ck_assert(json_is_null(json_object_get(j, "min_ns")));
	ck_assert(json_is_null(json_object_get(j, "p999_ns")));
	json_decref(j);

	/* A zeroed struct is as good as an initialized one. */
	{
		static struct hist	zero;

		hist_record(&zero, 7);
		ck_assert_uint_eq(hist_min(&zero), 7);
		ck_assert_uint_eq(hist_max(&zero), 7);
		memset(&h2, 0xa5, sizeof h2);
		hist_init(&h2);
		ck_assert_uint_eq(hist_count(&h2), 0);
		hist_record(&h2, 9);
		ck_assert_uint_eq(hist_min(&h2), 9);
		ck_assert_uint_eq(hist_percentile(&h2, 50), 9);
	}
}
END_TEST

START_TEST(single_value)
{
	static const double	ps[] = { 0, 0.001, 1, 50, 99, 99.9, 99.999, 100 };
	size_t			i;

	hist_record(&h, 12345);
	ck_assert_uint_eq(hist_count(&h), 1);
	ck_assert_uint_eq(hist_min(&h), 12345);
	ck_assert_uint_eq(hist_max(&h), 12345);
	ck_assert(hist_mean(&h) == 12345);
	/* Every percentile of one value is that value, not its bucket's edge. */
	for (i = 0; i < sizeof ps / sizeof ps[0]; i++)
		ck_assert_uint_eq(hist_percentile(&h, ps[i]), 12345);
}
END_TEST

START_TEST(uniform)
{
	uint64_t	v;

	/* 1 µs, 2 µs, ... 1000 µs, recorded in a scrambled order. */
	for (v = 0; v < 1000; v++)
		hist_record(&h, ((v * 617) % 1000 + 1) * 1000);
	ck_assert_uint_eq(hist_count(&h), 1000);
	ck_assert_uint_eq(hist_min(&h), 1000);
	ck_assert_uint_eq(hist_max(&h), 1000000);
	ck_assert(hist_mean(&h) == 500500);
	/* Upper edges of the buckets of 500, 900, 990 and 999 µs. */
	ck_assert_uint_eq(hist_percentile(&h, 50), 507903);
	ck_assert_uint_eq(hist_percentile(&h, 90), 901119);
	ck_assert_uint_eq(hist_percentile(&h, 99), 999423);
	ck_assert_uint_eq(hist_percentile(&h, 99.9), 999423);
	ck_assert_uint_eq(hist_percentile(&h, 100), 1000000);
	ck_assert_uint_eq(hist_percentile(&h, 0), 1000);
	/* 0.1 % is rank 1 of 1000, which is the minimum. */
	ck_assert_uint_eq(hist_percentile(&h, 0.1), 1000);
	/* Out of range clamps. */
	ck_assert_uint_eq(hist_percentile(&h, 150), 1000000);
	ck_assert_uint_eq(hist_percentile(&h, -3), 1000);
}
END_TEST

START_TEST(bimodal)
{
	int	i;

	/* 90 % fast hits, 10 % that waited on a hot-add: 100 µs and 10 ms. */
	for (i = 0; i < 1000; i++)
		hist_record(&h, i % 10 == 3 ? 10000000 : 100000);
	ck_assert_uint_eq(hist_percentile(&h, 50), 100351);
	ck_assert_uint_eq(hist_percentile(&h, 90), 100351);
	/* The slow mode's bucket reaches past the max, so the max is the answer. */
	ck_assert_uint_eq(hist_percentile(&h, 90.1), 10000000);
	ck_assert_uint_eq(hist_percentile(&h, 99), 10000000);
	ck_assert_uint_eq(hist_percentile(&h, 99.9), 10000000);
	ck_assert(hist_mean(&h) == 1090000);
}
END_TEST

/* p50 of {0, v, UINT64_MAX} is v's bucket's upper edge: the bound itself. */
static void
check_bound(uint64_t v)
{
	uint64_t	got;

	hist_reset(&h);
	hist_record(&h, 0);
	hist_record(&h, v);
	hist_record(&h, UINT64_MAX);
	got = hist_percentile(&h, 50);
	ck_assert_msg(got >= v, "%llu reported as %llu, below it",
	    (unsigned long long)v, (unsigned long long)got);
	ck_assert_msg((double)(got - v) <= 0.032 * (double)v,
	    "%llu reported as %llu: %.3f %% off", (unsigned long long)v,
	    (unsigned long long)got, 100.0 * (double)(got - v) / (double)v);
	if (v < 64)
		ck_assert_uint_eq(got, v);
}

START_TEST(error_bound)
{
	uint64_t	v, worst_v = 0;
	double		x, err, worst = 0;
	int		k;

	for (v = 0; v < 5000; v++)
		check_bound(v);
	for (x = 5000; x < 1.8e19; x *= 1.0007)
		check_bound((uint64_t)x);
	for (k = 6; k < 64; k++) {
		check_bound((UINT64_C(1) << k) - 1);
		check_bound(UINT64_C(1) << k);
		check_bound((UINT64_C(1) << k) + 1);
	}
	check_bound(3600ULL * 1000000000);	/* an hour */
	check_bound(UINT64_MAX - 1);

	/* The bound is tight: just above a power of two is 1/32 off. */
	for (v = 64; v < 200000; v++) {
		hist_reset(&h);
		hist_record(&h, 0);
		hist_record(&h, v);
		hist_record(&h, UINT64_MAX);
		err = (double)(hist_percentile(&h, 50) - v) / (double)v;
		if (err > worst) {
			worst = err;
			worst_v = v;
		}
	}
	ck_assert_msg(worst > 0.030 && worst <= 1.0 / 32, "worst %.4f at %llu",
	    worst, (unsigned long long)worst_v);
}
END_TEST

START_TEST(max_exact)
{
	uint64_t	s = 42, v, max = 0, min = UINT64_MAX;
	int		i;

	for (i = 0; i < 100000; i++) {
		v = latency(&s) + (uint64_t)i % 7;
		if (v > max)
			max = v;
		if (v < min)
			min = v;
		hist_record(&h, v);
	}
	ck_assert_uint_eq(hist_max(&h), max);
	ck_assert_uint_eq(hist_min(&h), min);
	ck_assert_uint_eq(hist_percentile(&h, 100), max);
	ck_assert_uint_le(hist_percentile(&h, 99.999), max);
	ck_assert_uint_ge(hist_percentile(&h, 0.001), min);
}
END_TEST

START_TEST(extremes)
{
	json_t	*j;

	hist_record(&h, 0);
	hist_record(&h, 3600ULL * 1000000000);
	ck_assert_uint_eq(hist_min(&h), 0);
	ck_assert_uint_eq(hist_max(&h), 3600ULL * 1000000000);
	ck_assert_uint_eq(hist_percentile(&h, 50), 0);
	ck_assert_uint_eq(hist_percentile(&h, 51), 3600ULL * 1000000000);
	ck_assert(hist_mean(&h) == 1800.0 * 1000000000);

	/* The top of the range counts too; the sum saturates, JSON caps. */
	hist_record(&h, UINT64_MAX);
	hist_record(&h, UINT64_MAX);
	ck_assert_uint_eq(hist_count(&h), 4);
	ck_assert_uint_eq(hist_max(&h), UINT64_MAX);
	ck_assert_uint_eq(hist_percentile(&h, 60), UINT64_MAX);
	ck_assert(hist_mean(&h) == (double)UINT64_MAX / 4);
	ck_assert_ptr_nonnull(j = hist_to_json(&h));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "max_ns")), INT64_MAX);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "min_ns")), 0);
	json_decref(j);

	/* Only UINT64_MAX: its complement is 0, which must not read as empty. */
	hist_reset(&h2);
	hist_record(&h2, UINT64_MAX);
	ck_assert_uint_eq(hist_min(&h2), UINT64_MAX);
	hist_merge(&h3, &h2);
	ck_assert_uint_eq(hist_min(&h3), UINT64_MAX);
	ck_assert_uint_eq(hist_count(&h3), 1);
}
END_TEST

static void
assert_same(const struct hist *a, const struct hist *b)
{
	double	p;

	ck_assert_uint_eq(hist_count(a), hist_count(b));
	ck_assert_uint_eq(hist_min(a), hist_min(b));
	ck_assert_uint_eq(hist_max(a), hist_max(b));
	ck_assert(hist_mean(a) == hist_mean(b));
	for (p = 0; p <= 100; p += 0.1)
		ck_assert_uint_eq(hist_percentile(a, p), hist_percentile(b, p));
	ck_assert(memcmp(a->counts, b->counts, sizeof a->counts) == 0);
}

START_TEST(merge)
{
	uint64_t	s = 7, v;
	int		i;

	/* a gets the fast half, b the slow: merged must equal all in one. */
	for (i = 0; i < 50000; i++) {
		v = latency(&s);
		hist_record(v < 100000 ? &h : &h2, v);
		hist_record(&h3, v);
	}
	ck_assert_uint_gt(hist_count(&h), 0);
	ck_assert_uint_gt(hist_count(&h2), 0);
	hist_merge(&h4, &h);
	hist_merge(&h4, &h2);
	assert_same(&h4, &h3);

	/* Merging an empty one changes nothing, into an empty one copies. */
	hist_reset(&h);
	hist_merge(&h4, &h);
	assert_same(&h4, &h3);
	hist_reset(&h4);
	hist_merge(&h4, &h3);
	assert_same(&h4, &h3);

	/* A snapshot is the same histogram. */
	hist_snapshot(&h, &h3);
	assert_same(&h, &h3);
}
END_TEST

START_TEST(delta)
{
	uint64_t	s = 11, v, lo = UINT64_MAX, hi = 0, sum = 0;
	int		i;

	/* h runs on; h2 is a copy taken halfway; h3 has only the second half. */
	for (i = 0; i < 20000; i++)
		hist_record(&h, latency(&s));
	hist_snapshot(&h2, &h);
	for (i = 0; i < 20000; i++) {
		v = latency(&s) + 5000000;	/* the interval is slower */
		hist_record(&h, v);
		hist_record(&h3, v);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		sum += v;
	}
	hist_delta(&h4, &h, &h2);
	ck_assert_uint_eq(hist_count(&h4), 20000);
	ck_assert(memcmp(h4.counts, h3.counts, sizeof h3.counts) == 0);
	ck_assert_uint_eq(hist_percentile(&h4, 50), hist_percentile(&h3, 50));
	ck_assert_uint_eq(hist_percentile(&h4, 99), hist_percentile(&h3, 99));
	/* The max is the run's max here; the min is its bucket's floor. */
	ck_assert_uint_eq(hist_max(&h4), hi);
	ck_assert_uint_le(hist_min(&h4), lo);
	ck_assert_uint_ge(hist_min(&h4), lo - lo / 32);
	ck_assert_uint_eq(atomic_load(&h4.sum), sum);

	/* Nothing new: an empty interval. */
	hist_snapshot(&h2, &h);
	hist_delta(&h4, &h, &h2);
	ck_assert_uint_eq(hist_count(&h4), 0);
	ck_assert_uint_eq(hist_max(&h4), 0);
	ck_assert_uint_eq(hist_min(&h4), 0);
}
END_TEST

START_TEST(to_json)
{
	json_t	*j;
	char	*s;
	int	 i;

	for (i = 1; i <= 1000; i++)
		hist_record(&h, (uint64_t)i * 1000);
	ck_assert_ptr_nonnull(j = hist_to_json(&h));
	ck_assert_ptr_nonnull(s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT));
	ck_assert_str_eq(s, "{\"count\":1000,\"max_ns\":1000000,\"mean_ns\":500500,"
	    "\"min_ns\":1000,\"p50_ns\":507903,\"p90_ns\":901119,\"p999_ns\":999423,"
	    "\"p99_ns\":999423}");
	free(s);
	json_decref(j);
}
END_TEST

/* ---- One writer per histogram, a reporter merging snapshots ---- */

#define THREAD_VALUES	400000

struct writer {
	struct hist	*h;
	uint64_t	 seed;
};

static void *
writer_run(void *arg)
{
	struct writer	*w = arg;
	uint64_t	 s = w->seed;
	int		 i;

	for (i = 0; i < THREAD_VALUES; i++)
		hist_record(w->h, latency(&s));
	return NULL;
}

static atomic_int	writers_done;
static int		reader_rounds;

static void *
reader_run(void *arg)
{
	static struct hist	snap, merged;
	uint64_t		last[2] = { 0, 0 }, n, prev;
	struct hist		*src[2] = { &h, &h2 };
	double			p;
	int			i, done;

	do {
		done = atomic_load(&writers_done);
		hist_reset(&merged);
		for (i = 0; i < 2; i++) {
			hist_snapshot(&snap, src[i]);
			n = hist_count(&snap);
			ck_assert_uint_ge(n, last[i]);	/* counts only grow */
			last[i] = n;
			if (n > 0)
				ck_assert_uint_le(hist_percentile(&snap, 100),
				    hist_max(&snap));
			hist_merge(&merged, &snap);
		}
		ck_assert_uint_eq(hist_count(&merged), last[0] + last[1]);
		/* Percentiles of a consistent snapshot rise from min to max. */
		prev = hist_min(&merged);
		for (p = 0; p <= 100 && last[0] + last[1] > 0; p += 2.5) {
			n = hist_percentile(&merged, p);
			ck_assert_uint_ge(n, prev);
			ck_assert_uint_le(n, hist_max(&merged));
			prev = n;
		}
		reader_rounds++;
	} while (!done);
	/* The round after the writers finished saw all they wrote. */
	ck_assert_uint_eq(last[0], THREAD_VALUES);
	ck_assert_uint_eq(last[1], THREAD_VALUES);
	return arg;
}

START_TEST(threads)
{
	struct writer	w[2] = { { &h, 11 }, { &h2, 23 } };
	pthread_t	tw[2], tr;
	uint64_t	s;
	int		i, k;

	atomic_store(&writers_done, 0);
	ck_assert_int_eq(pthread_create(&tr, NULL, reader_run, NULL), 0);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&tw[i], NULL, writer_run, &w[i]), 0);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(tw[i], NULL), 0);
	atomic_store(&writers_done, 1);
	ck_assert_int_eq(pthread_join(tr, NULL), 0);
	ck_assert_int_ge(reader_rounds, 1);

	/* Nothing was lost: the same values recorded in one place agree. */
	for (i = 0; i < 2; i++) {
		s = w[i].seed;
		for (k = 0; k < THREAD_VALUES; k++)
			hist_record(&h3, latency(&s));
	}
	hist_merge(&h4, &h);
	hist_merge(&h4, &h2);
	assert_same(&h4, &h3);
	ck_assert_uint_eq(hist_count(&h), THREAD_VALUES);
	ck_assert_uint_eq(hist_count(&h2), THREAD_VALUES);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("hist");
	TCase	*tc = tcase_create("hist");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, empty);
	tcase_add_test(tc, single_value);
	tcase_add_test(tc, uniform);
	tcase_add_test(tc, bimodal);
	tcase_add_test(tc, error_bound);
	tcase_add_test(tc, max_exact);
	tcase_add_test(tc, extremes);
	tcase_add_test(tc, merge);
	tcase_add_test(tc, delta);
	tcase_add_test(tc, to_json);
	tcase_add_test(tc, threads);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
