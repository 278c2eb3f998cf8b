/* metrics.c: GET /metrics's body: the store's counts and histograms and the
 * daemon's own state written out in the Prometheus text format 0.0.4. */
#include "config.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/util.h"
#include "metrics.h"
#include "store.h"

#define MX_NS_PER_S	1e9
#define MX_MS_PER_S	1e3

/* Between mx_locale_c and mx_locale_restore: printf and strtod agree on ".". */
static void
mx_float(double v, char *buf, size_t len)
{
	int	prec;

	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/*
	 * Whole numbers in full ("10", not "1e+01"): a bucket's le is a label
	 * and must read the same as every other exporter's.
	 */
	if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v) {
		snprintf(buf, len, "%.0f", v);
		return;
	}
	/* 17 digits always read back; fewer usually do, and read better. */
	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
}

/*
 * Switches this thread to the C locale's numbers ("0.5", never "0,5"),
 * and back when given what it returned. (locale_t)0 when it cannot, and
 * then numbers follow the process's locale, which hotsoakd leaves at C.
 */
static locale_t
mx_locale_c(locale_t *c)
{
	if ((*c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0)) == (locale_t)0)
		return (locale_t)0;
	return uselocale(*c);
}

static void
mx_locale_restore(locale_t old, locale_t c)
{
	if (c == (locale_t)0)
		return;
	if (old != (locale_t)0)
		uselocale(old);
	freelocale(c);
}

void
metrics_float(double v, char *buf, size_t len)
{
	locale_t	c, old;

	old = mx_locale_c(&c);
	mx_float(v, buf, len);
	mx_locale_restore(old, c);
}

/*
 * s escaped as the format wants: in label values backslash, double quote
 * and newline; in HELP (quote false) backslash and newline. Plan names
 * come from users, in any bytes: what is not UTF-8 becomes U+FFFD, as the
 * format's text is UTF-8.
 */
static void
mx_escape(FILE *f, const char *s, bool quote)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 left = strlen(s), n;

	while (left > 0) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '"' && quote)
			fputs("\\\"", f);
		else if ((n = utf8_seq_len(p, left)) != 0) {
			fwrite(p, 1, n, f);
			p += n;
			left -= n;
			continue;
		} else
			fputs("\xef\xbf\xbd", f);
		p++;
		left--;
	}
}

static void
mx_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	mx_escape(f, help, false);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

/*
 * One sample: name{k1="v1",...} value. The labels come as name, value
 * pairs after the value, ended by NULL.
 */
static void
mx_sample(FILE *f, const char *name, const char *value, ...)
{
	va_list		 ap;
	const char	*k, *v;
	bool		 first = true;

	fputs(name, f);
	va_start(ap, value);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		fprintf(f, "%s%s=\"", first ? "{" : ",", k);
		mx_escape(f, v, true);
		fputc('"', f);
		first = false;
	}
	va_end(ap);
	fprintf(f, "%s %s\n", first ? "" : "}", value);
}

static const char *
mx_u64(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

static const char *
mx_double(double v, char *buf, size_t len)
{
	mx_float(v, buf, len);
	return buf;
}

/* Every entry of c as a sample of name labelled label=entry. */
static void
mx_counts(FILE *f, const char *name, const char *label,
    const struct store_metrics_counts *c)
{
	char	num[METRICS_FLOAT_MAX];
	size_t	i;

	for (i = 0; i < c->n; i++)
		mx_sample(f, name, mx_u64(c->v[i].n, num, sizeof num), label,
		    c->v[i].name, NULL);
}

/*
 * A histogram in seconds from one in milliseconds: its cumulative
 * buckets, the +Inf one (every observation), the sum and the count. label
 * may be NULL for none.
 */
static void
mx_hist(FILE *f, const char *name, const char *label, const char *value,
    const struct store_metrics_hist *h)
{
	char	bucket[128], sum[128], count[128], le[METRICS_FLOAT_MAX];
	char	num[METRICS_FLOAT_MAX];
	size_t	i;

	snprintf(bucket, sizeof bucket, "%s_bucket", name);
	snprintf(sum, sizeof sum, "%s_sum", name);
	snprintf(count, sizeof count, "%s_count", name);
	for (i = 0; i < STORE_METRICS_BUCKETS; i++) {
		mx_float((double)store_metrics_bounds_ms[i] / MX_MS_PER_S, le,
		    sizeof le);
		mx_u64(h->le[i], num, sizeof num);
		if (label != NULL)
			mx_sample(f, bucket, num, label, value, "le", le, NULL);
		else
			mx_sample(f, bucket, num, "le", le, NULL);
	}
	mx_u64(h->count, num, sizeof num);
	if (label != NULL)
		mx_sample(f, bucket, num, label, value, "le", "+Inf", NULL);
	else
		mx_sample(f, bucket, num, "le", "+Inf", NULL);
	mx_double(h->sum_ms / MX_MS_PER_S, num, sizeof num);
	if (label != NULL)
		mx_sample(f, sum, num, label, value, NULL);
	else
		mx_sample(f, sum, num, NULL);
	mx_u64(h->count, num, sizeof num);
	if (label != NULL)
		mx_sample(f, count, num, label, value, NULL);
	else
		mx_sample(f, count, num, NULL);
}

static void
mx_daemon(FILE *f, const struct store_metrics *m,
    const struct metrics_info *info)
{
	char	num[METRICS_FLOAT_MAX];

	mx_family(f, "hotsoak_up", "gauge", "1 while hotsoakd answers.");
	mx_sample(f, "hotsoak_up", "1", NULL);
	mx_family(f, "hotsoak_build_info", "gauge",
	    "Always 1; the version of hotsoakd is its label.");
	mx_sample(f, "hotsoak_build_info", "1", "version", info->version != NULL ?
	    info->version : PACKAGE_VERSION, NULL);

	mx_family(f, "hotsoak_runs", "gauge",
	    "Runs in the run store by status.");
	mx_counts(f, "hotsoak_runs", "status", &m->status);
	mx_family(f, "hotsoak_runs_total", "counter",
	    "Runs finished, by verdict.");
	mx_counts(f, "hotsoak_runs_total", "verdict", &m->verdict);
	mx_family(f, "hotsoak_findings_total", "counter",
	    "Findings raised by all runs, by kind.");
	mx_counts(f, "hotsoak_findings_total", "kind", &m->findings);

	mx_family(f, "hotsoak_active_runs", "gauge",
	    "Runs in flight in this hotsoakd.");
	mx_sample(f, "hotsoak_active_runs", mx_u64(info->active_runs, num,
	    sizeof num), NULL);
	mx_family(f, "hotsoak_active_targets", "gauge",
	    "Partitions under test now (running runs), by backend.");
	mx_counts(f, "hotsoak_active_targets", "backend", &m->backends);
}

/* A rate of each running run over its latest sample: bytes, else I/Os, a second. */
static void
mx_run_rate(FILE *f, const struct store_metrics *m, const char *name,
    const char *help, bool bytes)
{
	const struct store_metrics_run	*r;
	char				 id[32], num[METRICS_FLOAT_MAX];
	double				 s;
	size_t				 i;

	mx_family(f, name, "gauge", help);
	for (i = 0; i < m->nruns; i++) {
		r = &m->runs[i];
		if (!r->sampled || r->interval_ms == 0)
			continue;
		s = (double)r->interval_ms / MX_MS_PER_S;
		snprintf(id, sizeof id, "%" PRId64, r->id);
		mx_sample(f, name, mx_double((double)(bytes ? r->bytes :
		    r->ios) / s, num, sizeof num), "run", id, "plan", r->plan,
		    NULL);
	}
}

/* The workload of each running run, from its latest sample. */
static void
mx_runs(FILE *f, const struct store_metrics *m)
{
	static const char *const	 quantiles[] = { "0.5", "0.99", "1" };
	const struct store_metrics_run	*r;
	char				 id[32], num[METRICS_FLOAT_MAX];
	double				 lat[3];
	size_t				 i, q;

	mx_run_rate(f, m, "hotsoak_run_io_bytes_per_second",
	    "Bytes read and written per second by a running run's workload, "
	    "over its latest sample.", true);
	mx_run_rate(f, m, "hotsoak_run_io_ops_per_second",
	    "I/Os completed per second by a running run's workload, over its "
	    "latest sample.", false);
	/*
	 * A summary: quantiles over a window, the latest sample's. It has no
	 * _sum or _count, which the samples do not keep.
	 */
	mx_family(f, "hotsoak_run_io_latency_seconds", "summary",
	    "I/O latency of a running run's workload over its latest sample: "
	    "median, 99th percentile and maximum (quantile 1).");
	for (i = 0; i < m->nruns; i++) {
		r = &m->runs[i];
		/* No I/O in the interval: no latency to speak of. */
		if (!r->sampled || r->ios == 0)
			continue;
		snprintf(id, sizeof id, "%" PRId64, r->id);
		lat[0] = (double)r->p50_ns / MX_NS_PER_S;
		lat[1] = (double)r->p99_ns / MX_NS_PER_S;
		lat[2] = (double)r->max_ns / MX_NS_PER_S;
		for (q = 0; q < 3; q++)
			mx_sample(f, "hotsoak_run_io_latency_seconds", mx_double(
			    lat[q], num, sizeof num), "run", id, "plan", r->plan,
			    "quantile", quantiles[q], NULL);
	}
}

static void
mx_operations(FILE *f, const struct store_metrics *m)
{
	char	num[METRICS_FLOAT_MAX];
	size_t	i;

	mx_family(f, "hotsoak_hot_add_operations_total", "counter",
	    "Hot-added units the guest was seen to take, by unit.");
	for (i = 0; i < m->nhot_add; i++)
		mx_sample(f, "hotsoak_hot_add_operations_total", mx_u64(
		    m->hot_add[i].operations, num, sizeof num), "unit",
		    m->hot_add[i].unit, NULL);
	mx_family(f, "hotsoak_hot_add_latency_seconds", "histogram",
	    "Time from the hypervisor's hot-add to the guest showing the "
	    "unit, by unit.");
	for (i = 0; i < m->nhot_add; i++)
		mx_hist(f, "hotsoak_hot_add_latency_seconds", "unit",
		    m->hot_add[i].unit, &m->hot_add[i].latency);

	mx_family(f, "hotsoak_replace_operations_total", "counter",
	    "Hot replace (pseudo-S4) operations completed.");
	mx_sample(f, "hotsoak_replace_operations_total", mx_u64(m->replaces,
	    num, sizeof num), NULL);
	mx_family(f, "hotsoak_replace_held_seconds", "histogram",
	    "How long the host held the partition stopped in a replace.");
	mx_hist(f, "hotsoak_replace_held_seconds", NULL, NULL,
	    &m->replace_held);
	mx_family(f, "hotsoak_replace_stall_seconds", "histogram",
	    "How long the guest's I/O stalled across a replace, as the agent "
	    "measured it.");
	mx_hist(f, "hotsoak_replace_stall_seconds", NULL, NULL,
	    &m->replace_stall);
}

char *
metrics_render(const struct store_metrics *m, const struct metrics_info *info,
    size_t *len, char **cause)
{
	FILE		*f;
	char		*text = NULL;
	size_t		 size = 0;
	locale_t	 c, old;
	bool		 bad;

	if ((f = open_memstream(&text, &size)) == NULL) {
		cause_set(cause, "metrics: out of memory");
		return NULL;
	}
	old = mx_locale_c(&c);
	mx_daemon(f, m, info);
	mx_runs(f, m);
	mx_operations(f, m);
	mx_locale_restore(old, c);
	bad = ferror(f) != 0;
	if (fclose(f) != 0 || bad) {
		free(text);
		cause_set(cause, "metrics: out of memory");
		return NULL;
	}
	if (len != NULL)
		*len = size;
	return text;
}
