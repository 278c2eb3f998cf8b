/* store-metrics.c: the counts and histograms GET /metrics shows, read from
 * the run store in one snapshot, aggregated by SQLite. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/finding.h"
#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "store-int.h"

/*
 * 50 ms to a minute: a CPU shows up in the guest in well under a second,
 * memory blocks take longer, and a replace holds the partition for the
 * plan's outage, seconds to a minute.
 */
const uint64_t store_metrics_bounds_ms[STORE_METRICS_BUCKETS] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000
};

/* Shown even before the first of their kind, so that graphs start at 0. */
static const char *const sm_statuses[] = {
	"queued", "running", "finished", NULL
};
static const char *const sm_verdicts[] = {
	"pass", "fail", "error", "aborted", "interrupted", NULL
};
static const char *const sm_units[] = { "cpu", "memory", "io_bridge", NULL };

/*
 * A JSON number at path of the detail column, else NULL: a string or an
 * object there must not count as a latency of 0.
 */
#define SM_NUM(path) \
	"CASE WHEN json_type(detail, '" path "') IN ('integer', 'real') " \
	"THEN json_extract(detail, '" path "') END"

/*
 * Ends the subquery that works out each row's values. A LIMIT keeps SQLite
 * from flattening it into the aggregate above, which would copy the JSON
 * lookups of v into each of a histogram's dozen columns: over months of
 * events that was 2.5 times the work. -1 is no limit.
 */
#define SM_ONCE	" LIMIT -1"

/*
 * The histogram columns of value v: count(v), total(v), then one
 * sum(v <= bound) per bucket; sum() over no row is NULL, read as 0.
 */
static void
sm_hist_sql(char *buf, size_t len, const char *v)
{
	size_t	i, used;

	used = (size_t)snprintf(buf, len, "count(%s), total(%s)", v, v);
	for (i = 0; i < STORE_METRICS_BUCKETS && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used,
		    ", sum(%s <= %" PRIu64 ")", v, store_metrics_bounds_ms[i]);
}

/* Reads the histogram columns sm_hist_sql made, from column col on. */
static int
sm_hist_row(sqlite3_stmt *stmt, int col, struct store_metrics_hist *h)
{
	size_t	i;

	h->count = store_u64(sqlite3_column_int64(stmt, col++));
	h->sum_ms = sqlite3_column_double(stmt, col++);
	for (i = 0; i < STORE_METRICS_BUCKETS; i++)
		h->le[i] = store_u64(sqlite3_column_int64(stmt, col++));
	return col;
}

/*
 * The entry of c named name, added with n = 0 when missing; NULL when out
 * of memory. The list owns its names.
 */
static struct store_metrics_count *
sm_count_get(struct store_metrics_counts *c, const char *name)
{
	struct store_metrics_count	*v;
	size_t				 i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return &c->v[i];
	if ((v = reallocarray(c->v, c->n + 1, sizeof *v)) == NULL)
		return NULL;
	c->v = v;
	if ((v[c->n].name = strdup(name)) == NULL)
		return NULL;
	v[c->n].n = 0;
	return &v[c->n++];
}

static int
sm_counts_zero(struct store_metrics_counts *c, const char *const *names,
    char **cause)
{
	for (; *names != NULL; names++)
		if (sm_count_get(c, *names) == NULL)
			return cause_set(cause, "store: out of memory");
	return 0;
}

/* Text of a column, "" for NULL (a name is never NULL in the schema). */
static const char *
sm_text(sqlite3_stmt *stmt, int col)
{
	const char	*s = (const char *)sqlite3_column_text(stmt, col);

	return s != NULL ? s : "";
}

/* Rows of (name, count) from sql into c. */
static int
sm_counts_read(struct store *st, struct store_metrics_counts *c,
    const char *sql, const char *what, char **cause)
{
	struct store_metrics_count	*e;
	sqlite3_stmt			*stmt;
	int				 rc;

	if (store_prepare(st, &stmt, sql, cause) != 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((e = sm_count_get(c, sm_text(stmt, 0))) == NULL) {
			sqlite3_finalize(stmt);
			return cause_set(cause, "store: out of memory");
		}
		e->n = store_u64(sqlite3_column_int64(stmt, 1));
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, cause, what);
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

/*
 * The running runs, each with its newest sample: samples_run(run, id)
 * finds it without reading the run's older ones.
 */
static int
sm_runs_read(struct store *st, struct store_metrics *m, char **cause)
{
	struct store_metrics_run	*r, *v;
	sqlite3_stmt			*stmt;
	int				 rc;

	if (store_prepare(st, &stmt, "SELECT r.id, r.plan, r.backend, s.id, "
	    "s.interval_ms, s.ios, s.bytes, s.p50_ns, s.p99_ns, s.max_ns "
	    "FROM runs AS r LEFT JOIN samples AS s ON s.id = (SELECT max(id) "
	    "FROM samples WHERE samples.run = r.id) WHERE r.status = 'running' "
	    "ORDER BY r.id", cause) != 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((v = reallocarray(m->runs, m->nruns + 1, sizeof *v)) == NULL)
			goto oom;
		m->runs = v;
		r = &v[m->nruns];
		memset(r, 0, sizeof *r);
		r->plan = strdup(sm_text(stmt, 1));
		r->backend = strdup(sm_text(stmt, 2));
		/* Counted now, so that store_metrics_free frees what came. */
		m->nruns++;
		if (r->plan == NULL || r->backend == NULL)
			goto oom;
		r->id = sqlite3_column_int64(stmt, 0);
		r->sampled = sqlite3_column_type(stmt, 3) != SQLITE_NULL;
		r->interval_ms = store_u64(sqlite3_column_int64(stmt, 4));
		r->ios = store_u64(sqlite3_column_int64(stmt, 5));
		r->bytes = store_u64(sqlite3_column_int64(stmt, 6));
		r->p50_ns = store_u64(sqlite3_column_int64(stmt, 7));
		r->p99_ns = store_u64(sqlite3_column_int64(stmt, 8));
		r->max_ns = store_u64(sqlite3_column_int64(stmt, 9));
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, cause, "read running runs");
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;

oom:
	sqlite3_finalize(stmt);
	return cause_set(cause, "store: out of memory");
}

static struct store_metrics_hot_add *
sm_hot_add_get(struct store_metrics *m, const char *unit)
{
	struct store_metrics_hot_add	*v;
	size_t				 i;

	for (i = 0; i < m->nhot_add; i++)
		if (strcmp(m->hot_add[i].unit, unit) == 0)
			return &m->hot_add[i];
	if ((v = reallocarray(m->hot_add, m->nhot_add + 1, sizeof *v)) == NULL)
		return NULL;
	m->hot_add = v;
	memset(&v[m->nhot_add], 0, sizeof v[m->nhot_add]);
	if ((v[m->nhot_add].unit = strdup(unit)) == NULL)
		return NULL;
	return &v[m->nhot_add++];
}

/*
 * hot_add_seen events by unit. The events table grows for as long as the
 * daemon keeps runs: the kind is the only column this may filter on, and
 * json_valid keeps a hand-edited detail from failing the whole query.
 */
static int
sm_hot_add_read(struct store *st, struct store_metrics *m, char **cause)
{
	struct store_metrics_hot_add	*h;
	sqlite3_stmt			*stmt;
	char				 hist[1024], sql[2048];
	const char *const		*u;
	int				 rc;

	for (u = sm_units; *u != NULL; u++)
		if (sm_hot_add_get(m, *u) == NULL)
			return cause_set(cause, "store: out of memory");
	sm_hist_sql(hist, sizeof hist, "v");
	snprintf(sql, sizeof sql, "SELECT u, count(*), %s FROM (SELECT "
	    "coalesce(json_extract(detail, '$.unit'), 'unknown') AS u, "
	    SM_NUM("$.latency_ms") " AS v FROM events WHERE "
	    "kind = 'hot_add_seen' AND json_valid(detail)" SM_ONCE ") "
	    "GROUP BY u ORDER BY u", hist);
	if (store_prepare(st, &stmt, sql, cause) != 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((h = sm_hot_add_get(m, sm_text(stmt, 0))) == NULL) {
			sqlite3_finalize(stmt);
			return cause_set(cause, "store: out of memory");
		}
		h->operations = store_u64(sqlite3_column_int64(stmt, 1));
		sm_hist_row(stmt, 2, &h->latency);
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, cause, "read hot-add events");
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

/*
 * Completed replace operations: the "replace" events that carry outage_ms
 * (the others tell of a step of one going wrong). The host's hold is the
 * backend's own measure where it gives one (qemu: host_held_ms, from the
 * stop to the cont; local: held_ms, frozen to thawed), else the engine's.
 */
static int
sm_replace_read(struct store *st, struct store_metrics *m, char **cause)
{
	sqlite3_stmt	*stmt;
	char		 held[1024], stall[1024], sql[4096];
	int		 col;

	sm_hist_sql(held, sizeof held, "h");
	sm_hist_sql(stall, sizeof stall, "s");
	snprintf(sql, sizeof sql, "SELECT count(*), %s, %s FROM (SELECT "
	    "coalesce(" SM_NUM("$.host_held_ms") ", "
	    SM_NUM("$.resume.host_held_ms") ", " SM_NUM("$.resume.held_ms")
	    ", " SM_NUM("$.held_ms") ") AS h, " SM_NUM("$.stall_ms") " AS s "
	    "FROM events WHERE kind = 'replace' AND json_valid(detail) AND "
	    "json_type(detail, '$.outage_ms') IS NOT NULL" SM_ONCE ")", held,
	    stall);
	if (store_prepare(st, &stmt, sql, cause) != 0)
		return -1;
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_fail(st, cause, "read replace events");
		sqlite3_finalize(stmt);
		return -1;
	}
	m->replaces = store_u64(sqlite3_column_int64(stmt, 0));
	col = sm_hist_row(stmt, 1, &m->replace_held);
	sm_hist_row(stmt, col, &m->replace_stall);
	sqlite3_finalize(stmt);
	return 0;
}

static int
sm_read(struct store *st, struct store_metrics *m, char **cause)
{
	const char	*kinds[FINDING_KIND_COUNT + 1];
	int		 i;

	for (i = 0; i < FINDING_KIND_COUNT; i++)
		kinds[i] = finding_kinds[i].name;
	kinds[i] = NULL;
	if (sm_counts_zero(&m->status, sm_statuses, cause) != 0 ||
	    sm_counts_zero(&m->verdict, sm_verdicts, cause) != 0 ||
	    sm_counts_zero(&m->findings, kinds, cause) != 0 ||
	    sm_counts_zero(&m->backends, plan_backend_names, cause) != 0)
		return -1;
	/* The runs' status and verdict indexes answer these two alone. */
	if (sm_counts_read(st, &m->status, "SELECT status, count(*) FROM runs "
	    "GROUP BY status ORDER BY status", "count runs", cause) != 0 ||
	    sm_counts_read(st, &m->verdict, "SELECT verdict, count(*) FROM runs "
	    "WHERE verdict IS NOT NULL GROUP BY verdict ORDER BY verdict",
	    "count verdicts", cause) != 0 ||
	    sm_counts_read(st, &m->findings, "SELECT kind, count(*) FROM "
	    "findings GROUP BY kind ORDER BY kind", "count findings",
	    cause) != 0 ||
	    sm_counts_read(st, &m->backends, "SELECT backend, count(*) FROM runs "
	    "WHERE status = 'running' GROUP BY backend ORDER BY backend",
	    "count targets", cause) != 0)
		return -1;
	if (sm_runs_read(st, m, cause) != 0 ||
	    sm_hot_add_read(st, m, cause) != 0 ||
	    sm_replace_read(st, m, cause) != 0)
		return -1;
	return 0;
}

struct store_metrics *
store_metrics_read(struct store *st, char **cause)
{
	struct store_metrics	*m;

	if ((m = calloc(1, sizeof *m)) == NULL) {
		cause_set(cause, "store: out of memory");
		return NULL;
	}
	if (store_begin(st, false, cause) != 0)
		goto fail;
	if (sm_read(st, m, cause) != 0) {
		store_rollback(st);
		goto fail;
	}
	if (store_commit(st, cause) != 0)
		goto fail;
	return m;

fail:
	store_metrics_free(m);
	return NULL;
}

static void
sm_counts_free(struct store_metrics_counts *c)
{
	size_t	i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].name);
	free(c->v);
}

void
store_metrics_free(struct store_metrics *m)
{
	size_t	i;

	if (m == NULL)
		return;
	sm_counts_free(&m->status);
	sm_counts_free(&m->verdict);
	sm_counts_free(&m->findings);
	sm_counts_free(&m->backends);
	for (i = 0; i < m->nruns; i++) {
		free(m->runs[i].plan);
		free(m->runs[i].backend);
	}
	free(m->runs);
	for (i = 0; i < m->nhot_add; i++)
		free(m->hot_add[i].unit);
	free(m->hot_add);
	free(m);
}
