/* hist.h: latency histograms for the I/O workers: log-bucketed like
 * HdrHistogram, one writer each, read and merged by a reporter while live. */
#ifndef HOTSOAK_AGENT_HIST_H
#define HOTSOAK_AGENT_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>

/*
 * Values are nanoseconds, the whole uint64_t range. 0..63 have a bucket
 * each; above that every power of two [2^k, 2^(k+1)) is cut into HIST_SUB
 * equal buckets, so a bucket is at most 1/32 (3.125 %) of its values wide.
 */
#define HIST_SUB_BITS	5
#define HIST_SUB	(1 << HIST_SUB_BITS)			/* 32 */
#define HIST_BUCKETS	(HIST_SUB * (64 - HIST_SUB_BITS + 1))	/* 1920 */

/*
 * Fixed size (15 KiB), nothing allocated. A zeroed struct is an empty
 * histogram, so static, calloc'd and "= { 0 }" ones need no init.
 *
 * Threads: one owner records, resets and merges into it. Any thread may read
 * it at any time: each counter is atomic, and a bucket is published after
 * min, max and sum, so a reader that sees a value's bucket also sees it in
 * max. A reader does not see the histogram at one instant, though: take a
 * hist_snapshot and query that.
 */
struct hist {
	_Atomic uint64_t	counts[HIST_BUCKETS];
	_Atomic uint64_t	total;
	_Atomic uint64_t	sum;		/* saturates at UINT64_MAX */
	_Atomic uint64_t	min_inv;	/* ~min, so that zero means empty */
	_Atomic uint64_t	max;
};

/* Makes h an empty histogram, as zeroing it does. */
void		 hist_init(struct hist *h);

/* Owner only: forget everything. */
void		 hist_reset(struct hist *h);

/* Owner only: count one value. O(1), no locks, no atomic read-modify-write. */
void		 hist_record(struct hist *h, uint64_t ns);

/*
 * Copies src, which its owner may be recording into, to dst, which the
 * caller owns, as one consistent histogram: dst's count is the sum of its
 * buckets and every value in them is within dst's min and max.
 */
void		 hist_snapshot(struct hist *dst, const struct hist *src);

/* Adds src (live or not, as for hist_snapshot) into dst, which the caller owns. */
void		 hist_merge(struct hist *dst, const struct hist *src);

/*
 * dst = now - before, bucket by bucket, where before is an earlier copy of
 * the same growing histogram: the values of one interval. dst's min and
 * max are the bounds of its lowest and highest buckets, kept within now's
 * min and max (so exact when they are what changed); dst is the caller's.
 */
void		 hist_delta(struct hist *dst, const struct hist *now,
		    const struct hist *before);

uint64_t	 hist_count(const struct hist *h);
uint64_t	 hist_min(const struct hist *h);	/* exact; 0 when empty */
uint64_t	 hist_max(const struct hist *h);	/* exact; 0 when empty */
double		 hist_mean(const struct hist *h);	/* 0 when empty */

/*
 * The value at percentile p (0..100, to 0.001): an upper bound for the
 * value of that rank, at most 1/32 above it and never above the maximum.
 * The lowest rank gives the minimum and the highest the maximum, exactly.
 * 0 when empty.
 */
uint64_t	 hist_percentile(const struct hist *h, double p);

/*
 * {"count", "min_ns", "max_ns", "mean_ns", "p50_ns", "p90_ns", "p99_ns",
 * "p999_ns"} of a snapshot of h; values are null when h is empty, and
 * capped at INT64_MAX (JSON integers are signed). Returns a new reference
 * the caller json_decref's, or NULL when out of memory.
 */
json_t		*hist_to_json(const struct hist *h);

#endif
