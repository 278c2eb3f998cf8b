/* store-query.c: the run store read back as the JSON the API serves: one
 * run whole, pages of runs, and a run's findings, events and samples. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/finding.h"
#include "hotsoak/util.h"
#include "store-int.h"

#define NS_PER_MS	1000000ULL

/*
 * Every q_* function returning a json_t * returns a new reference, which
 * the caller owns (or hands on with json_*_set_new); NULL only when out of
 * memory, which jansson's setters take without harm.
 */

/*
 * The columns every view of a run starts with, in this order, so one
 * function turns them into JSON.
 */
#define Q_RUN_COLUMNS \
	"id, plan, seed, backend, status, verdict, reason, created_ns, " \
	"started_ns, finished_ns"
#define Q_RUN_NCOLUMNS	10

/*
 * A JSON string of len bytes at s. JSON has no room for bytes that are not
 * UTF-8, and a name typed in Latin-1 must not make a run unreadable: such
 * bytes become U+FFFD.
 */
json_t *
q_string(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	json_t			*v;
	char			*buf;
	size_t			 i, n, out = 0;

	if ((v = json_stringn(s, len)) != NULL)
		return v;
	if ((buf = malloc(len * 3 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i += n) {
		if ((n = utf8_seq_len(p + i, len - i)) != 0) {
			memcpy(buf + out, p + i, n);
			out += n;
		} else {
			memcpy(buf + out, "\xef\xbf\xbd", 3);
			out += 3;
			n = 1;
		}
	}
	v = json_stringn(buf, out);
	free(buf);
	return v;
}

json_t *
q_text(sqlite3_stmt *stmt, int col)
{
	const char	*s;

	if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
		return json_null();
	s = (const char *)sqlite3_column_text(stmt, col);
	if (s == NULL)
		return json_null();
	return q_string(s, (size_t)sqlite3_column_bytes(stmt, col));
}

/* JSON integers are signed: an unsigned value past them shows as the most. */
json_t *
q_u64(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

json_t *
q_col_u64(sqlite3_stmt *stmt, int col)
{
	if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
		return json_null();
	return q_u64(store_u64(sqlite3_column_int64(stmt, col)));
}

/* A seed must come back exact to replay a run: past JSON's integers, a string. */
json_t *
q_seed(uint64_t seed)
{
	char	buf[32];

	if (seed <= INT64_MAX)
		return json_integer((json_int_t)seed);
	snprintf(buf, sizeof buf, "%" PRIu64, seed);
	return json_string(buf);
}

/* Sets name (RFC 3339) and name_ns from a time column; null both if NULL. */
void
q_set_time(json_t *o, const char *name, sqlite3_stmt *stmt, int col)
{
	char		key[64], buf[STORE_TIME_MAX];
	uint64_t	ns;

	snprintf(key, sizeof key, "%s_ns", name);
	if (sqlite3_column_type(stmt, col) == SQLITE_NULL) {
		json_object_set_new(o, name, json_null());
		json_object_set_new(o, key, json_null());
		return;
	}
	ns = store_u64(sqlite3_column_int64(stmt, col));
	store_time_format(ns, buf, sizeof buf);
	json_object_set_new(o, name, json_string(buf));
	json_object_set_new(o, key, q_u64(ns));
}

/*
 * A JSON column as the value it holds; text that does not parse (written
 * by hand, say) is shown as the string it is.
 */
json_t *
q_json(sqlite3_stmt *stmt, int col)
{
	json_t		*v;
	const char	*s;
	size_t		 len;

	if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
		return json_null();
	s = (const char *)sqlite3_column_text(stmt, col);
	if (s == NULL)
		return json_null();
	len = (size_t)sqlite3_column_bytes(stmt, col);
	if ((v = json_loadb(s, len, JSON_DECODE_ANY, NULL)) != NULL)
		return v;
	return q_string(s, len);
}

unsigned
q_limit(unsigned limit)
{
	if (limit == 0)
		return STORE_PAGE_DEFAULT;
	return limit > STORE_PAGE_MAX ? STORE_PAGE_MAX : limit;
}

void
q_clear_cause(char **cause)
{
	if (cause != NULL)
		*cause = NULL;
}

json_t *
q_oom(char **cause)
{
	cause_set(cause, "store: out of memory");
	return NULL;
}

/*
 * The members of a run that come from the Q_RUN_COLUMNS at the start of
 * the row; source_col is the column of "source", or -1 to leave it out.
 * The caller owns the object.
 */
static json_t *
q_run_core(sqlite3_stmt *stmt, int source_col)
{
	json_t		*o;
	uint64_t	 started, end;

	if ((o = json_object()) == NULL)
		return NULL;
	json_object_set_new(o, "id",
	    json_integer(sqlite3_column_int64(stmt, 0)));
	json_object_set_new(o, "plan", q_text(stmt, 1));
	if (source_col != -1)
		json_object_set_new(o, "source", q_text(stmt, source_col));
	json_object_set_new(o, "seed",
	    q_seed(store_u64(sqlite3_column_int64(stmt, 2))));
	json_object_set_new(o, "backend", q_text(stmt, 3));
	json_object_set_new(o, "status", q_text(stmt, 4));
	json_object_set_new(o, "verdict", q_text(stmt, 5));
	json_object_set_new(o, "reason", q_text(stmt, 6));
	q_set_time(o, "created", stmt, 7);
	q_set_time(o, "started", stmt, 8);
	q_set_time(o, "finished", stmt, 9);

	if (sqlite3_column_type(stmt, 8) == SQLITE_NULL) {
		json_object_set_new(o, "elapsed_ms", json_null());
		return o;
	}
	started = store_u64(sqlite3_column_int64(stmt, 8));
	if (sqlite3_column_type(stmt, 9) != SQLITE_NULL)
		end = store_u64(sqlite3_column_int64(stmt, 9));
	else
		end = clock_wall_ns();
	/* The wall clock can step back; elapsed time does not. */
	json_object_set_new(o, "elapsed_ms",
	    q_u64(end > started ? (end - started) / NS_PER_MS : 0));
	return o;
}

/* "steps" of run id into o. */
static int
q_run_steps(struct store *st, json_t *o, int64_t id, char **cause)
{
	sqlite3_stmt	*stmt;
	json_t		*steps, *s;
	int		 rc;

	if (store_prepare(st, &stmt, "SELECT seq, path, action, name, "
	    "started_ns, finished_ns, outcome, detail FROM steps WHERE run = ? "
	    "ORDER BY seq", cause) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	steps = json_array();
	json_object_set_new(o, "steps", steps);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((s = json_object()) == NULL)
			break;
		json_object_set_new(s, "seq",
		    json_integer(sqlite3_column_int64(stmt, 0)));
		json_object_set_new(s, "path", q_text(stmt, 1));
		json_object_set_new(s, "action", q_text(stmt, 2));
		json_object_set_new(s, "name", q_text(stmt, 3));
		q_set_time(s, "started", stmt, 4);
		q_set_time(s, "finished", stmt, 5);
		json_object_set_new(s, "outcome", q_text(stmt, 6));
		json_object_set_new(s, "detail", q_json(stmt, 7));
		json_array_append_new(steps, s);
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, cause, "read steps");
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

/* "findings": {"total", "by_kind"} of run id into o, every known kind shown. */
int
q_run_findings(struct store *st, json_t *o, int64_t id, char **cause)
{
	sqlite3_stmt	*stmt;
	json_t		*f, *by_kind;
	json_int_t	 total = 0, n;
	const char	*kind;
	int		 i, rc;

	by_kind = json_object();
	for (i = 0; i < FINDING_KIND_COUNT; i++)
		json_object_set_new(by_kind, finding_kinds[i].name,
		    json_integer(0));
	if (store_prepare(st, &stmt, "SELECT kind, count(*) FROM findings "
	    "WHERE run = ? GROUP BY kind ORDER BY kind", cause) != 0) {
		json_decref(by_kind);
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		kind = (const char *)sqlite3_column_text(stmt, 0);
		n = sqlite3_column_int64(stmt, 1);
		total += n;
		if (kind != NULL)
			json_object_set_new(by_kind, kind, json_integer(n));
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, cause, "count findings");
		sqlite3_finalize(stmt);
		json_decref(by_kind);
		return -1;
	}
	sqlite3_finalize(stmt);
	f = json_object();
	json_object_set_new(f, "total", json_integer(total));
	json_object_set_new(f, "by_kind", by_kind);
	json_object_set_new(o, "findings", f);
	return 0;
}

/*
 * The last summary's members at the top level of o. The run's own members
 * are all set by now, and a summary does not get to replace them.
 */
static void
q_run_summary(json_t *o, sqlite3_stmt *stmt, int col)
{
	json_t		*sum, *v;
	const char	*key;

	sum = q_json(stmt, col);
	if (json_is_object(sum)) {
		json_object_foreach(sum, key, v) {
			if (json_object_get(o, key) == NULL)
				json_object_set(o, key, v);
		}
	}
	json_decref(sum);
}

json_t *
store_run_get(struct store *st, int64_t id, char **cause)
{
	sqlite3_stmt	*stmt;
	json_t		*o = NULL;
	int		 rc;

	q_clear_cause(cause);
	if (store_begin(st, false, cause) != 0)
		return NULL;
	if (store_prepare(st, &stmt, "SELECT " Q_RUN_COLUMNS ", source, "
	    "summary, campaign_run, plan_index, repetition, attempt, rerun "
	    "FROM runs WHERE id = ?", cause) != 0)
		goto fail;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(stmt);
		store_rollback(st);
		return NULL;
	}
	if (rc != SQLITE_ROW) {
		store_fail(st, cause, "read run");
		sqlite3_finalize(stmt);
		goto fail;
	}
	if ((o = q_run_core(stmt, Q_RUN_NCOLUMNS)) == NULL) {
		sqlite3_finalize(stmt);
		q_oom(cause);
		goto fail;
	}
	if (q_run_steps(st, o, id, cause) != 0 ||
	    q_run_findings(st, o, id, cause) != 0) {
		sqlite3_finalize(stmt);
		goto fail;
	}
	/* Where the run belongs: a campaign's attempt, a rerun, or neither. */
	json_object_set_new(o, "campaign_run", q_col_u64(stmt,
	    Q_RUN_NCOLUMNS + 2));
	json_object_set_new(o, "plan_index", q_col_u64(stmt, Q_RUN_NCOLUMNS + 3));
	json_object_set_new(o, "repetition", q_col_u64(stmt, Q_RUN_NCOLUMNS + 4));
	json_object_set_new(o, "attempt", q_col_u64(stmt, Q_RUN_NCOLUMNS + 5));
	json_object_set_new(o, "rerun", q_col_u64(stmt, Q_RUN_NCOLUMNS + 6));
	q_run_summary(o, stmt, Q_RUN_NCOLUMNS + 1);
	sqlite3_finalize(stmt);
	if (store_commit(st, cause) != 0)
		goto fail;
	return o;

fail:
	store_rollback(st);
	json_decref(o);
	return NULL;
}

char *
store_run_plan_text(struct store *st, int64_t id, char **cause)
{
	sqlite3_stmt	*stmt;
	const char	*s;
	char		*text;
	int		 rc;

	q_clear_cause(cause);
	if (store_prepare(st, &stmt, "SELECT plan_text FROM runs WHERE id = ?",
	    cause) != 0)
		return NULL;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(stmt);
		return NULL;
	}
	if (rc != SQLITE_ROW) {
		store_fail(st, cause, "read plan text");
		sqlite3_finalize(stmt);
		return NULL;
	}
	s = (const char *)sqlite3_column_text(stmt, 0);
	text = strndup(s != NULL ? s : "", s != NULL ?
	    (size_t)sqlite3_column_bytes(stmt, 0) : 0);
	sqlite3_finalize(stmt);
	if (text == NULL)
		cause_set(cause, "store: out of memory");
	return text;
}

json_t *
store_runs_list(struct store *st, const struct store_runs_filter *f,
    char **cause)
{
	static const struct store_runs_filter	 any;
	sqlite3_stmt				*stmt;
	json_t					*o, *runs, *r;
	char					 sql[1024];
	unsigned				 limit, n = 0;
	int64_t					 last = 0;
	int					 rc;

	q_clear_cause(cause);
	if (f == NULL)
		f = &any;
	limit = q_limit(f->limit);

	/* Only constant pieces go into the text; every value is bound. */
	snprintf(sql, sizeof sql, "SELECT " Q_RUN_COLUMNS ", (SELECT count(*) "
	    "FROM findings WHERE findings.run = runs.id) FROM runs WHERE 1%s%s"
	    "%s%s%s ORDER BY id DESC LIMIT ?6",
	    f->status != NULL ? " AND status = ?1" : "",
	    f->verdict != NULL ? " AND verdict = ?2" : "",
	    f->plan != NULL ? " AND plan = ?3" : "",
	    f->since_ns != 0 ? " AND created_ns >= ?4" : "",
	    f->before != 0 ? " AND id < ?5" : "");
	if (store_prepare(st, &stmt, sql, cause) != 0)
		return NULL;
	sqlite3_bind_text(stmt, 1, f->status, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, f->verdict, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, f->plan, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, f->since_ns > INT64_MAX ? INT64_MAX :
	    (int64_t)f->since_ns);
	sqlite3_bind_int64(stmt, 5, f->before);
	/* One more than the page: whether it exists says if there is a next. */
	sqlite3_bind_int64(stmt, 6, (int64_t)limit + 1);

	if ((o = json_object()) == NULL || (runs = json_array()) == NULL) {
		json_decref(o);
		sqlite3_finalize(stmt);
		return q_oom(cause);
	}
	json_object_set_new(o, "runs", runs);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == limit)
			break;
		if ((r = q_run_core(stmt, -1)) == NULL)
			continue;
		json_object_set_new(r, "findings",
		    json_integer(sqlite3_column_int64(stmt, Q_RUN_NCOLUMNS)));
		json_array_append_new(runs, r);
		last = sqlite3_column_int64(stmt, 0);
		n++;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_fail(st, cause, "list runs");
		sqlite3_finalize(stmt);
		json_decref(o);
		return NULL;
	}
	sqlite3_finalize(stmt);
	json_object_set_new(o, "next", rc == SQLITE_ROW ? json_integer(last) :
	    json_null());
	return o;
}

/* One kind of list a run keeps, paged by id. */
struct q_list {
	const char	*member;	/* the array's name in the answer */
	const char	*sql;		/* ?1 run, ?2 after, ?3 limit */
	json_t		*(*row)(sqlite3_stmt *);
};

static json_t *
q_finding_row(sqlite3_stmt *stmt)
{
	json_t	*o = json_object();

	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(stmt, 0)));
	json_object_set_new(o, "kind", q_text(stmt, 1));
	json_object_set_new(o, "title", q_text(stmt, 2));
	q_set_time(o, "time", stmt, 3);
	json_object_set_new(o, "step", q_text(stmt, 4));
	json_object_set_new(o, "source", q_text(stmt, 5));
	json_object_set_new(o, "detail", q_json(stmt, 6));
	return o;
}

static json_t *
q_event_row(sqlite3_stmt *stmt)
{
	json_t	*o = json_object();

	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(stmt, 0)));
	q_set_time(o, "time", stmt, 1);
	json_object_set_new(o, "kind", q_text(stmt, 2));
	json_object_set_new(o, "step", q_text(stmt, 3));
	json_object_set_new(o, "detail", q_json(stmt, 4));
	return o;
}

static json_t *
q_sample_row(sqlite3_stmt *stmt)
{
	static const char	*names[] = {
		"interval_ms", "ios", "bytes", "p50_ns", "p90_ns", "p99_ns",
		"p999_ns", "max_ns", "inflight", "workers"
	};
	json_t			*o = json_object();
	size_t			 i;

	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(stmt, 0)));
	q_set_time(o, "time", stmt, 1);
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		json_object_set_new(o, names[i], q_col_u64(stmt, (int)i + 2));
	return o;
}

static const struct q_list q_findings = {
	"findings",
	"SELECT id, kind, title, time_ns, step, source, detail FROM findings "
	"WHERE run = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
	q_finding_row
};
static const struct q_list q_events = {
	"events",
	"SELECT id, time_ns, kind, step, detail FROM events "
	"WHERE run = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
	q_event_row
};
static const struct q_list q_samples = {
	"samples",
	"SELECT id, time_ns, interval_ms, ios, bytes, p50_ns, p90_ns, p99_ns, "
	"p999_ns, max_ns, inflight, workers FROM samples "
	"WHERE run = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
	q_sample_row
};

/*
 * {"run": id, member: [...]}: rows of run after the id after, in the order
 * they were added (which is time order). NULL with *cause NULL when the
 * run does not exist. The caller owns the result.
 */
static json_t *
q_list_get(struct store *st, const struct q_list *ql, int64_t run,
    int64_t after, unsigned limit, char **cause)
{
	sqlite3_stmt	*stmt = NULL;
	json_t		*o = NULL, *a;
	int		 rc;

	q_clear_cause(cause);
	if (store_begin(st, false, cause) != 0)
		return NULL;
	switch (store_run_exists(st, run, cause)) {
	case -1:
		goto fail;
	case 0:
		store_rollback(st);
		return NULL;
	}
	if (store_prepare(st, &stmt, ql->sql, cause) != 0)
		goto fail;
	sqlite3_bind_int64(stmt, 1, run);
	sqlite3_bind_int64(stmt, 2, after > 0 ? after : 0);
	sqlite3_bind_int64(stmt, 3, q_limit(limit));
	if ((o = json_object()) == NULL || (a = json_array()) == NULL) {
		q_oom(cause);
		goto fail;
	}
	json_object_set_new(o, "run", json_integer(run));
	json_object_set_new(o, ql->member, a);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		json_array_append_new(a, ql->row(stmt));
	if (rc != SQLITE_DONE) {
		store_fail(st, cause, ql->member);
		goto fail;
	}
	sqlite3_finalize(stmt);
	if (store_commit(st, cause) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;

fail:
	sqlite3_finalize(stmt);
	store_rollback(st);
	json_decref(o);
	return NULL;
}

json_t *
store_findings_list(struct store *st, int64_t run, int64_t after,
    unsigned limit, char **cause)
{
	return q_list_get(st, &q_findings, run, after, limit, cause);
}

json_t *
store_events_list(struct store *st, int64_t run, int64_t after,
    unsigned limit, char **cause)
{
	return q_list_get(st, &q_events, run, after, limit, cause);
}

json_t *
store_samples_list(struct store *st, int64_t run, int64_t after,
    unsigned limit, char **cause)
{
	return q_list_get(st, &q_samples, run, after, limit, cause);
}
