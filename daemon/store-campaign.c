/* store-campaign.c: campaign runs in the store: their rows and events, and
 * each read back with its plans, repetitions and every attempt's verdict. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/finding.h"
#include "hotsoak/util.h"
#include "store-int.h"

#define NS_PER_MS	1000000ULL
#define CR_EVENTS_MAX	200	/* a campaign run's events shown with it */

/* Worst first: a campaign is as bad as its worst repetition. */
static const char *const store_verdict_rank[] = {
	"fail", "error", "aborted", "interrupted", "flaky", "pass", NULL
};

static int
verdict_rank(const char *v)
{
	int	i;

	for (i = 0; store_verdict_rank[i] != NULL; i++)
		if (strcmp(store_verdict_rank[i], v) == 0)
			return i;
	return 0;	/* an unknown word counts as the worst */
}

const char *
store_verdict_worse(const char *a, const char *b)
{
	if (a == NULL)
		return b;
	if (b == NULL)
		return a;
	return verdict_rank(a) <= verdict_rank(b) ? a : b;
}

const char *
store_repetition_verdict(const char *const *v, size_t n, bool open)
{
	size_t	i;

	if (n == 0 || v[n - 1] == NULL)
		return NULL;
	if (strcmp(v[n - 1], "pass") == 0) {
		/* A pass after anything else is a flaky pass, never a plain one. */
		for (i = 0; i + 1 < n; i++)
			if (v[i] == NULL || strcmp(v[i], "pass") != 0)
				return "flaky";
		return "pass";
	}
	return open ? NULL : v[n - 1];
}

int
store_campaign_run_create(struct store *st,
    const struct store_campaign_run_new *cn, int64_t *id, char **cause)
{
	sqlite3_stmt	*stmt;

	if (cn == NULL || cn->campaign == NULL || cn->source == NULL ||
	    cn->trigger == NULL || cn->repeat == 0 || cn->parallel == 0)
		return cause_set(cause, "store: a campaign run needs a campaign, "
		    "a source, a trigger, repeat and parallel");
	if (store_prepare(st, &stmt, "INSERT INTO campaign_runs (campaign, "
	    "source, campaign_json, trigger, status, created_ns, started_ns, "
	    "scheduled_ns, repeat, parallel, retries) VALUES (?, ?, ?, ?, "
	    "'running', ?, ?, ?, ?, ?, ?)", cause) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, cn->campaign, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, cn->source, -1, SQLITE_STATIC);
	if (cn->campaign_json != NULL)
		sqlite3_bind_text(stmt, 3, cn->campaign_json, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, cn->trigger, -1, SQLITE_STATIC);
	store_bind_time(stmt, 5, cn->created_ns);
	store_bind_time(stmt, 6, cn->created_ns);
	store_bind_time(stmt, 7, cn->scheduled_ns);
	sqlite3_bind_int64(stmt, 8, cn->repeat);
	sqlite3_bind_int64(stmt, 9, cn->parallel);
	sqlite3_bind_int64(stmt, 10, cn->retries);
	if (store_step_done(st, stmt, "add campaign run", cause) != 0)
		return -1;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_campaign_run_finish(struct store *st, int64_t id, const char *verdict,
    const char *reason, uint64_t finished_ns, char **cause)
{
	sqlite3_stmt	*stmt;

	if (verdict == NULL)
		return cause_set(cause, "store: a campaign run ends with a verdict");
	if (store_prepare(st, &stmt, "UPDATE campaign_runs SET status = "
	    "'finished', verdict = ?, reason = ?, finished_ns = ? WHERE id = ? "
	    "AND status != 'finished'", cause) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, verdict, -1, SQLITE_STATIC);
	if (reason != NULL)
		sqlite3_bind_text(stmt, 2, reason, -1, SQLITE_STATIC);
	store_bind_time(stmt, 3, finished_ns);
	sqlite3_bind_int64(stmt, 4, id);
	if (store_step_done(st, stmt, "finish campaign run", cause) != 0)
		return -1;
	if (sqlite3_changes(st->db) == 0)
		return cause_set(cause, "store: finish campaign run: no campaign "
		    "run %" PRId64 " in flight", id);
	return 0;
}

int
store_campaign_event_add(struct store *st, const char *campaign,
    int64_t campaign_run, uint64_t time_ns, const char *kind,
    const json_t *detail, char **cause)
{
	sqlite3_stmt	*stmt;

	if (store_prepare(st, &stmt, "INSERT INTO campaign_events (campaign, "
	    "campaign_run, time_ns, kind, detail) VALUES (?, ?, ?, ?, ?)",
	    cause) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, campaign, -1, SQLITE_STATIC);
	if (campaign_run != 0)
		sqlite3_bind_int64(stmt, 2, campaign_run);
	sqlite3_bind_int64(stmt, 3, store_i64(time_ns));
	sqlite3_bind_text(stmt, 4, kind, -1, SQLITE_STATIC);
	if (store_bind_json(st, stmt, 5, detail, "campaign event", cause) != 0) {
		sqlite3_finalize(stmt);
		return -1;
	}
	return store_step_done(st, stmt, "add campaign event", cause);
}

/* Counts of repetitions by verdict; a new object the caller owns. */
static json_t *
cr_counts_new(void)
{
	return json_pack("{sI sI sI sI sI sI sI sI sI}", "pass", 0LL, "fail",
	    0LL, "error", 0LL, "flaky", 0LL, "aborted", 0LL, "interrupted", 0LL,
	    "running", 0LL, "pending", 0LL, "attempts", 0LL);
}

static void
cr_count(json_t *counts, const char *key, json_int_t by)
{
	json_t	*v = json_object_get(counts, key);

	json_object_set_new(counts, key, json_integer(
	    json_integer_value(v) + by));
}

/* One attempt: a run of the campaign. */
struct cr_attempt {
	int64_t		 run;
	unsigned	 plan;
	unsigned	 repetition;
	unsigned	 attempt;
	char		*name;		/* the plan's name as the run recorded it */
	char		*status;
	char		*verdict;	/* NULL while it runs */
	json_t		*json;		/* the attempt as shown */
};

struct cr_rows {
	struct cr_attempt *v;
	size_t		 n;
};

static void
cr_rows_free(struct cr_rows *rows)
{
	size_t	i;

	for (i = 0; i < rows->n; i++) {
		free(rows->v[i].name);
		free(rows->v[i].status);
		free(rows->v[i].verdict);
		json_decref(rows->v[i].json);
	}
	free(rows->v);
	rows->v = NULL;
	rows->n = 0;
}

/* Every attempt of campaign run id, in plan, repetition, attempt order. */
static int
cr_rows_read(struct store *st, int64_t id, struct cr_rows *rows, char **cause)
{
	sqlite3_stmt		*stmt;
	struct cr_attempt	*a, *nv;
	json_t			*o;
	uint64_t		 started, end;
	size_t			 i;
	int			 rc;

	if (store_prepare(st, &stmt, "SELECT id, seed, status, verdict, reason, "
	    "started_ns, finished_ns, plan_index, repetition, attempt, plan "
	    "FROM runs "
	    "WHERE campaign_run = ? ORDER BY plan_index, repetition, attempt, id",
	    cause) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((nv = reallocarray(rows->v, rows->n + 1, sizeof *nv)) ==
		    NULL) {
			sqlite3_finalize(stmt);
			return cause_set(cause, "store: out of memory");
		}
		rows->v = nv;
		a = &rows->v[rows->n++];
		memset(a, 0, sizeof *a);
		a->run = sqlite3_column_int64(stmt, 0);
		a->plan = (unsigned)sqlite3_column_int64(stmt, 7);
		a->repetition = (unsigned)sqlite3_column_int64(stmt, 8);
		a->attempt = (unsigned)sqlite3_column_int64(stmt, 9);
		a->status = strdup((const char *)sqlite3_column_text(stmt, 2));
		a->name = strdup((const char *)sqlite3_column_text(stmt, 10));
		if (sqlite3_column_type(stmt, 3) != SQLITE_NULL)
			a->verdict = strdup((const char *)
			    sqlite3_column_text(stmt, 3));
		a->json = o = json_object();
		json_object_set_new(o, "attempt", json_integer(a->attempt));
		json_object_set_new(o, "run", json_integer(a->run));
		json_object_set_new(o, "seed",
		    q_seed(store_u64(sqlite3_column_int64(stmt, 1))));
		json_object_set_new(o, "status", q_text(stmt, 2));
		json_object_set_new(o, "verdict", q_text(stmt, 3));
		json_object_set_new(o, "reason", q_text(stmt, 4));
		q_set_time(o, "started", stmt, 5);
		q_set_time(o, "finished", stmt, 6);
		if (sqlite3_column_type(stmt, 5) == SQLITE_NULL)
			json_object_set_new(o, "elapsed_ms", json_null());
		else {
			started = store_u64(sqlite3_column_int64(stmt, 5));
			end = sqlite3_column_type(stmt, 6) != SQLITE_NULL ?
			    store_u64(sqlite3_column_int64(stmt, 6)) :
			    clock_wall_ns();
			json_object_set_new(o, "elapsed_ms", q_u64(end > started ?
			    (end - started) / NS_PER_MS : 0));
		}
		if (a->status == NULL || a->name == NULL || o == NULL) {
			sqlite3_finalize(stmt);
			return cause_set(cause, "store: out of memory");
		}
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, cause, "read campaign attempts");
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	for (i = 0; i < rows->n; i++)
		if (q_run_findings(st, rows->v[i].json, rows->v[i].run, cause) != 0)
			return -1;
	return 0;
}

/* What a campaign run's row says about it, for building its view. */
struct cr_head {
	bool		 running;
	const char	*verdict;	/* the recorded one; NULL while it runs */
	unsigned	 repeat;
	unsigned	 retries;
};

/*
 * The repetitions of plan index p (attempts rows[from..to)) into a new
 * "repetitions" array, counting into counts (the plan's) and total (the
 * run's); *verdict gets the plan's verdict so far (NULL: not decided).
 */
static json_t *
cr_repetitions(const struct cr_head *h, const struct cr_rows *rows,
    size_t from, size_t to, json_t *counts, json_t *total,
    const char **verdict, bool *decided)
{
	const char	*vs[128], *rv;
	json_t		*reps, *rep, *atts;
	unsigned	 r;
	size_t		 i, n;
	bool		 open, live;

	reps = json_array();
	*verdict = NULL;
	*decided = true;
	i = from;
	for (r = 1; r <= h->repeat; r++) {
		rep = json_object();
		atts = json_array();
		n = 0;
		live = false;
		for (; i < to && rows->v[i].repetition == r; i++) {
			json_array_append(atts, rows->v[i].json);
			if (n < sizeof vs / sizeof vs[0])
				vs[n++] = rows->v[i].verdict;
			if (rows->v[i].verdict == NULL)
				live = true;
			cr_count(counts, "attempts", 1);
			cr_count(total, "attempts", 1);
		}
		/* Attempts past the campaign's repeat (a changed file) are skipped. */
		open = h->running && n < 1 + h->retries;
		rv = store_repetition_verdict(vs, n, open);
		if (rv == NULL && !h->running && h->verdict != NULL &&
		    (strcmp(h->verdict, "aborted") == 0 ||
		    strcmp(h->verdict, "interrupted") == 0))
			rv = h->verdict;	/* never started, or cut short */
		json_object_set_new(rep, "repetition", json_integer(r));
		json_object_set_new(rep, "verdict", rv ? json_string(rv) :
		    json_null());
		json_object_set_new(rep, "attempts", atts);
		json_array_append_new(reps, rep);
		if (rv != NULL) {
			cr_count(counts, rv, 1);
			cr_count(total, rv, 1);
			*verdict = store_verdict_worse(*verdict, rv);
		} else {
			*decided = false;
			cr_count(counts, live ? "running" : "pending", 1);
			cr_count(total, live ? "running" : "pending", 1);
		}
	}
	return reps;
}

/* The plan names of a campaign's normalized JSON; a new array, maybe empty. */
static json_t *
cr_plan_names(sqlite3_stmt *stmt, int col)
{
	json_t	*c, *plans;

	c = q_json(stmt, col);
	plans = json_object_get(c, "plans");
	plans = json_is_array(plans) ? json_incref(plans) : json_array();
	json_decref(c);
	return plans;
}

/* "local-smoke" of "local-smoke.yaml"; a new string, or null. */
static json_t *
plan_stem(const char *file)
{
	const char	*slash, *dot;

	if (file == NULL)
		return json_null();
	slash = strrchr(file, '/');
	if (slash != NULL)
		file = slash + 1;
	dot = strrchr(file, '.');
	return json_stringn(file, dot != NULL && dot != file ?
	    (size_t)(dot - file) : strlen(file));
}

#define CR_COLUMNS \
	"id, campaign, trigger, status, verdict, reason, created_ns, " \
	"started_ns, finished_ns, scheduled_ns, source, campaign_json, " \
	"repeat, parallel, retries"

/*
 * A campaign run from its row (CR_COLUMNS): the brief form, or with full
 * its plans, repetitions and attempts too. The caller owns the result.
 */
static json_t *
cr_build(struct store *st, sqlite3_stmt *row, bool full, char **cause)
{
	struct cr_rows	 rows = { NULL, 0 };
	struct cr_head	 h;
	json_t		*o, *total, *plans = NULL, *names, *p, *counts;
	const char	*pv, *file;
	uint64_t	 started, end;
	size_t		 idx, from, to;
	int64_t		 id = sqlite3_column_int64(row, 0);
	bool		 decided;

	memset(&h, 0, sizeof h);
	h.running = strcmp((const char *)sqlite3_column_text(row, 3),
	    "finished") != 0;
	h.verdict = (const char *)sqlite3_column_text(row, 4);
	h.repeat = (unsigned)sqlite3_column_int64(row, 12);
	h.retries = (unsigned)sqlite3_column_int64(row, 14);
	if (cr_rows_read(st, id, &rows, cause) != 0) {
		cr_rows_free(&rows);
		return NULL;
	}
	if ((o = json_object()) == NULL || (total = cr_counts_new()) == NULL) {
		json_decref(o);
		cr_rows_free(&rows);
		return q_oom(cause);
	}
	json_object_set_new(o, "id", json_integer(id));
	json_object_set_new(o, "campaign", q_text(row, 1));
	json_object_set_new(o, "trigger", q_text(row, 2));
	json_object_set_new(o, "status", q_text(row, 3));
	json_object_set_new(o, "verdict", q_text(row, 4));
	json_object_set_new(o, "reason", q_text(row, 5));
	q_set_time(o, "created", row, 6);
	q_set_time(o, "started", row, 7);
	q_set_time(o, "finished", row, 8);
	q_set_time(o, "scheduled", row, 9);
	if (sqlite3_column_type(row, 7) == SQLITE_NULL)
		json_object_set_new(o, "elapsed_ms", json_null());
	else {
		started = store_u64(sqlite3_column_int64(row, 7));
		end = sqlite3_column_type(row, 8) != SQLITE_NULL ?
		    store_u64(sqlite3_column_int64(row, 8)) : clock_wall_ns();
		json_object_set_new(o, "elapsed_ms", q_u64(end > started ?
		    (end - started) / NS_PER_MS : 0));
	}

	names = cr_plan_names(row, 11);
	plans = json_array();
	from = 0;
	for (idx = 0; idx < json_array_size(names) || from < rows.n; idx++) {
		for (to = from; to < rows.n && rows.v[to].plan == idx; to++)
			;
		if (idx >= json_array_size(names) && to == from) {
			/* Rows of a plan index the file no longer has. */
			from++;
			continue;
		}
		file = json_string_value(json_array_get(names, idx));
		p = json_object();
		counts = cr_counts_new();
		json_object_set_new(p, "index", json_integer((json_int_t)idx));
		/* The plan's own name once a run of it recorded one. */
		json_object_set_new(p, "plan", to > from ?
		    json_string(rows.v[from].name) : plan_stem(file));
		json_object_set_new(p, "file", file ? json_string(file) :
		    json_null());
		json_object_set_new(p, "repetitions", cr_repetitions(&h, &rows,
		    from, to, counts, total, &pv, &decided));
		json_object_set_new(p, "verdict", decided && pv ?
		    json_string(pv) : json_null());
		json_object_set_new(p, "counts", counts);
		json_array_append_new(plans, p);
		from = to;
	}
	json_decref(names);
	json_object_set_new(o, "counts", total);
	if (full) {
		json_object_set_new(o, "source", q_text(row, 10));
		json_object_set_new(o, "repeat", json_integer(h.repeat));
		json_object_set_new(o, "parallel",
		    json_integer(sqlite3_column_int64(row, 13)));
		json_object_set_new(o, "retries", json_integer(h.retries));
		json_object_set_new(o, "plans", plans);
	} else
		json_decref(plans);
	cr_rows_free(&rows);
	return o;
}

/* Events of a campaign (run 0: all its runs) or of one campaign run. */
static json_t *
cr_events(struct store *st, const char *campaign, int64_t run, unsigned limit,
    char **cause)
{
	sqlite3_stmt	*stmt;
	json_t		*list, *e;
	int		 rc;

	if (store_prepare(st, &stmt, run != 0 ?
	    "SELECT id, time_ns, kind, campaign_run, detail FROM campaign_events "
	    "WHERE campaign_run = ?2 ORDER BY id DESC LIMIT ?3" :
	    "SELECT id, time_ns, kind, campaign_run, detail FROM campaign_events "
	    "WHERE campaign = ?1 ORDER BY id DESC LIMIT ?3", cause) != 0)
		return NULL;
	if (campaign != NULL)
		sqlite3_bind_text(stmt, 1, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, run);
	sqlite3_bind_int64(stmt, 3, limit);
	list = json_array();
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		e = json_object();
		json_object_set_new(e, "id",
		    json_integer(sqlite3_column_int64(stmt, 0)));
		q_set_time(e, "time", stmt, 1);
		json_object_set_new(e, "kind", q_text(stmt, 2));
		json_object_set_new(e, "campaign_run", q_col_u64(stmt, 3));
		json_object_set_new(e, "detail", q_json(stmt, 4));
		json_array_append_new(list, e);
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, cause, "read campaign events");
		sqlite3_finalize(stmt);
		json_decref(list);
		return NULL;
	}
	sqlite3_finalize(stmt);
	return list;
}

json_t *
store_campaign_run_get(struct store *st, int64_t id, char **cause)
{
	sqlite3_stmt	*stmt;
	json_t		*o = NULL, *ev;
	int		 rc;

	q_clear_cause(cause);
	if (store_begin(st, false, cause) != 0)
		return NULL;
	if (store_prepare(st, &stmt, "SELECT " CR_COLUMNS " FROM campaign_runs "
	    "WHERE id = ?", cause) != 0)
		goto fail;
	sqlite3_bind_int64(stmt, 1, id);
	if ((rc = sqlite3_step(stmt)) == SQLITE_DONE) {
		sqlite3_finalize(stmt);
		store_rollback(st);
		return NULL;
	}
	if (rc != SQLITE_ROW) {
		store_fail(st, cause, "read campaign run");
		sqlite3_finalize(stmt);
		goto fail;
	}
	o = cr_build(st, stmt, true, cause);
	sqlite3_finalize(stmt);
	if (o == NULL || (ev = cr_events(st, NULL, id, CR_EVENTS_MAX,
	    cause)) == NULL)
		goto fail;
	json_object_set_new(o, "events", ev);
	if (store_commit(st, cause) != 0)
		goto fail;
	return o;
fail:
	store_rollback(st);
	json_decref(o);
	return NULL;
}

json_t *
store_campaign_runs_list(struct store *st, const struct store_crun_filter *f,
    char **cause)
{
	sqlite3_stmt	*stmt;
	json_t		*list = NULL, *o, *page;
	unsigned	 limit = q_limit(f->limit), n = 0;
	int64_t		 last = 0;
	int		 rc;

	q_clear_cause(cause);
	if (store_begin(st, false, cause) != 0)
		return NULL;
	if (store_prepare(st, &stmt, "SELECT " CR_COLUMNS " FROM campaign_runs "
	    "WHERE (?1 IS NULL OR campaign = ?1) AND (?2 = 0 OR id < ?2) AND "
	    "(?3 = 0 OR created_ns >= ?3) AND (?4 = 0 OR created_ns < ?4) "
	    "ORDER BY id DESC LIMIT ?5", cause) != 0)
		goto fail;
	if (f->campaign != NULL)
		sqlite3_bind_text(stmt, 1, f->campaign, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, f->before);
	sqlite3_bind_int64(stmt, 3, store_i64(f->since_ns));
	sqlite3_bind_int64(stmt, 4, store_i64(f->until_ns));
	sqlite3_bind_int64(stmt, 5, (sqlite3_int64)limit + 1);
	list = json_array();
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (++n > limit)
			break;
		if ((o = cr_build(st, stmt, false, cause)) == NULL) {
			sqlite3_finalize(stmt);
			goto fail;
		}
		last = sqlite3_column_int64(stmt, 0);
		json_array_append_new(list, o);
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_fail(st, cause, "list campaign runs");
		sqlite3_finalize(stmt);
		goto fail;
	}
	sqlite3_finalize(stmt);
	if (store_commit(st, cause) != 0)
		goto fail;
	page = json_object();
	json_object_set_new(page, "campaign_runs", list);
	json_object_set_new(page, "next", n > limit ? json_integer(last) :
	    json_null());
	return page;
fail:
	store_rollback(st);
	json_decref(list);
	return NULL;
}

json_t *
store_campaign_events_list(struct store *st, const char *campaign,
    unsigned limit, char **cause)
{
	q_clear_cause(cause);
	return cr_events(st, campaign, 0, q_limit(limit), cause);
}
