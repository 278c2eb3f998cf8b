/* metrics.h: the run store's counts and the daemon's state as the
 * Prometheus text exposition format, version 0.0.4. */
#ifndef HOTSOAK_METRICS_H
#define HOTSOAK_METRICS_H

#include <stddef.h>

struct store_metrics;

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* What the store does not know. */
struct metrics_info {
	const char	*version;	/* hotsoak_build_info's label */
	unsigned	 active_runs;	/* runs in flight in this daemon */
};

/*
 * The exposition of m and info: every family with its HELP and TYPE, in
 * a fixed order, label values escaped and made UTF-8, numbers printed in
 * the C locale, shortest first that reads back the same. Allocated,
 * NUL-terminated (the caller frees); *len gets its length. NULL with an
 * allocated *cause.
 */
char	*metrics_render(const struct store_metrics *m,
	    const struct metrics_info *info, size_t *len, char **cause);

/*
 * v as the format writes a float into buf (at least METRICS_FLOAT_MAX
 * bytes): "NaN", "+Inf", "-Inf", or the shortest %g that strtod reads
 * back as v, whatever the process's locale.
 */
#define METRICS_FLOAT_MAX	32
void	 metrics_float(double v, char *buf, size_t len);

#endif
