/* store-summary.c: the morning report: pass, fail, error and flaky counts
 * per plan and per finding kind over a window of time. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/finding.h"
#include "hotsoak/util.h"
#include "store-int.h"

#define SUM_ATTEMPTS_MAX	128	/* attempts of one repetition weighed */

/* The outcome words counted everywhere, in the order shown. */
static const char *const sum_words[] = {
	"pass", "fail", "error", "flaky", "aborted", "interrupted", NULL
};

struct sum_run {
	int64_t		 id;
	char		*plan;
	char		*verdict;	/* NULL: not finished */
	int64_t		 crun;		/* 0: not a campaign's */
	int64_t		 plan_index, repetition;
	bool		 open;		/* its campaign may still retry it */
	unsigned	 findings[FINDING_KIND_COUNT];
};

struct sum_runs {
	struct sum_run	*v;
	size_t		 n;
};

static void
sum_runs_free(struct sum_runs *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].plan);
		free(s->v[i].verdict);
	}
	free(s->v);
}

static json_t *
sum_counts_new(void)
{
	json_t	*o = json_object();
	size_t	 i;

	json_object_set_new(o, "outcomes", json_integer(0));
	json_object_set_new(o, "runs", json_integer(0));
	for (i = 0; sum_words[i] != NULL; i++)
		json_object_set_new(o, sum_words[i], json_integer(0));
	return o;
}

static void
sum_add(json_t *o, const char *key, json_int_t by)
{
	json_object_set_new(o, key, json_integer(
	    json_integer_value(json_object_get(o, key)) + by));
}

/* The runs of the window, oldest group first, each group's attempts in order. */
static int
sum_read_runs(struct store *st, uint64_t since, uint64_t until,
    struct sum_runs *s, char **cause)
{
	sqlite3_stmt	*stmt;
	struct sum_run	*r, *nv;
	const char	*t;
	int		 rc;

	if (store_prepare(st, &stmt, "SELECT r.id, r.plan, r.verdict, "
	    "coalesce(r.campaign_run, 0), coalesce(r.plan_index, 0), "
	    "coalesce(r.repetition, 0), coalesce(r.attempt, 1), c.status, "
	    "coalesce(c.retries, 0) FROM runs r LEFT JOIN campaign_runs c ON "
	    "c.id = r.campaign_run WHERE r.created_ns >= ?1 AND r.created_ns < "
	    "?2 ORDER BY coalesce(r.campaign_run, 0), r.plan_index, "
	    "r.repetition, r.attempt, r.id", cause) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, store_i64(since));
	sqlite3_bind_int64(stmt, 2, store_i64(until));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((nv = reallocarray(s->v, s->n + 1, sizeof *nv)) == NULL) {
			sqlite3_finalize(stmt);
			return cause_set(cause, "store: out of memory");
		}
		s->v = nv;
		r = &s->v[s->n++];
		memset(r, 0, sizeof *r);
		r->id = sqlite3_column_int64(stmt, 0);
		r->plan = strdup((const char *)sqlite3_column_text(stmt, 1));
		if ((t = (const char *)sqlite3_column_text(stmt, 2)) != NULL)
			r->verdict = strdup(t);
		r->crun = sqlite3_column_int64(stmt, 3);
		r->plan_index = sqlite3_column_int64(stmt, 4);
		r->repetition = sqlite3_column_int64(stmt, 5);
		t = (const char *)sqlite3_column_text(stmt, 7);
		/* More attempts may come while its campaign runs. */
		r->open = r->crun != 0 && t != NULL && strcmp(t, "finished") != 0
		    && sqlite3_column_int64(stmt, 6) < 1 +
		    sqlite3_column_int64(stmt, 8);
		if (r->plan == NULL || (t != NULL && r->verdict == NULL &&
		    sqlite3_column_type(stmt, 2) != SQLITE_NULL)) {
			sqlite3_finalize(stmt);
			return cause_set(cause, "store: out of memory");
		}
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_fail(st, cause, "summary runs");
	return 0;
}

static int
sum_by_id(const void *key, const void *elem)
{
	int64_t			 id = *(const int64_t *)key;
	const struct sum_run	*r = elem;

	return id < r->id ? -1 : id > r->id;
}

static int
sum_cmp_id(const void *a, const void *b)
{
	const struct sum_run	*x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int
sum_cmp_group(const void *a, const void *b)
{
	const struct sum_run	*x = a, *y = b;

	if (x->crun != y->crun)
		return x->crun < y->crun ? -1 : 1;
	if (x->crun == 0)
		return x->id < y->id ? -1 : x->id > y->id;
	if (x->plan_index != y->plan_index)
		return x->plan_index < y->plan_index ? -1 : 1;
	if (x->repetition != y->repetition)
		return x->repetition < y->repetition ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Each run's findings by kind, into the runs sorted by id. */
static int
sum_read_findings(struct store *st, uint64_t since, uint64_t until,
    struct sum_runs *s, char **cause)
{
	sqlite3_stmt	*stmt;
	struct sum_run	*r;
	const char	*kind;
	int64_t		 id;
	int		 k, rc;

	/* An empty window: nothing to count, and no array to sort or search. */
	if (s->n == 0)
		return 0;
	qsort(s->v, s->n, sizeof *s->v, sum_cmp_id);
	if (store_prepare(st, &stmt, "SELECT f.run, f.kind, count(*) FROM "
	    "findings f JOIN runs r ON r.id = f.run WHERE r.created_ns >= ?1 "
	    "AND r.created_ns < ?2 GROUP BY f.run, f.kind", cause) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, store_i64(since));
	sqlite3_bind_int64(stmt, 2, store_i64(until));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		id = sqlite3_column_int64(stmt, 0);
		kind = (const char *)sqlite3_column_text(stmt, 1);
		if ((r = bsearch(&id, s->v, s->n, sizeof *s->v, sum_by_id)) ==
		    NULL || kind == NULL || (k = finding_kind_find(kind)) == -1)
			continue;
		r->findings[k] += (unsigned)sqlite3_column_int64(stmt, 2);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_fail(st, cause, "summary findings");
	qsort(s->v, s->n, sizeof *s->v, sum_cmp_group);
	return 0;
}

/* The plan's entry in plans (an object by name), made on first use. */
static json_t *
sum_plan(json_t *plans, const char *name)
{
	json_t	*p;

	if ((p = json_object_get(plans, name)) != NULL)
		return p;
	p = sum_counts_new();
	json_object_set_new(p, "plan", json_string(name));
	json_object_set_new(p, "last_run", json_null());
	json_object_set_new(p, "last_verdict", json_null());
	json_object_set_new(plans, name, p);
	return p;
}

/* Counts one outcome: the runs s->v[from..to), all of one group. */
static void
sum_outcome(const struct sum_runs *s, size_t from, size_t to, json_t *totals,
    json_t *plans, json_t *kinds)
{
	const char	*vs[SUM_ATTEMPTS_MAX], *verdict;
	const struct sum_run *last = &s->v[to - 1];
	unsigned	 found[FINDING_KIND_COUNT];
	json_t		*p, *k;
	size_t		 i, n = 0;
	int		 j;

	memset(found, 0, sizeof found);
	for (i = from; i < to; i++) {
		if (n < SUM_ATTEMPTS_MAX)
			vs[n++] = s->v[i].verdict;
		for (j = 0; j < FINDING_KIND_COUNT; j++)
			found[j] += s->v[i].findings[j];
	}
	if (last->crun == 0)
		verdict = last->verdict;
	else
		verdict = store_repetition_verdict(vs, n, last->open);
	if (verdict == NULL)
		return;		/* still running: counted once it ends */
	p = sum_plan(plans, last->plan);
	sum_add(totals, "outcomes", 1);
	sum_add(totals, "runs", (json_int_t)(to - from));
	sum_add(totals, verdict, 1);
	sum_add(p, "outcomes", 1);
	sum_add(p, "runs", (json_int_t)(to - from));
	sum_add(p, verdict, 1);
	if (json_integer_value(json_object_get(p, "last_run")) < last->id) {
		json_object_set_new(p, "last_run", json_integer(last->id));
		json_object_set_new(p, "last_verdict", json_string(verdict));
	}
	for (j = 0; j < FINDING_KIND_COUNT; j++) {
		if (found[j] == 0)
			continue;
		k = json_array_get(kinds, (size_t)j);
		sum_add(k, "findings", found[j]);
		sum_add(k, "outcomes", 1);
		sum_add(k, verdict, 1);
	}
}

static int
sum_cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool
sum_same_group(const struct sum_run *a, const struct sum_run *b)
{
	return a->crun != 0 && a->crun == b->crun &&
	    a->plan_index == b->plan_index && a->repetition == b->repetition;
}

/* plans (by name) as an array sorted by name; steals the object. */
static json_t *
sum_plans_array(json_t *plans)
{
	const char	**names, *name;
	json_t		*arr = json_array(), *v;
	size_t		 i = 0, n = json_object_size(plans);

	if ((names = calloc(n ? n : 1, sizeof *names)) == NULL) {
		json_decref(plans);
		return arr;
	}
	json_object_foreach(plans, name, v)
		names[i++] = name;
	qsort(names, n, sizeof *names, sum_cmp_name);
	for (i = 0; i < n; i++)
		json_array_append(arr, json_object_get(plans, names[i]));
	free(names);
	json_decref(plans);
	return arr;
}

json_t *
store_summary(struct store *st, uint64_t since, uint64_t until, char **cause)
{
	struct sum_runs		 s = { NULL, 0 };
	struct store_crun_filter cf;
	json_t			*o = NULL, *totals, *plans, *kinds, *k, *cr;
	char			 buf[STORE_TIME_MAX];
	size_t			 i, from;
	int			 j;

	q_clear_cause(cause);
	if (until == 0)
		until = clock_wall_ns();
	if (store_begin(st, false, cause) != 0)
		return NULL;
	if (sum_read_runs(st, since, until, &s, cause) != 0 ||
	    sum_read_findings(st, since, until, &s, cause) != 0) {
		store_rollback(st);
		sum_runs_free(&s);
		return NULL;
	}
	if (store_commit(st, cause) != 0) {
		sum_runs_free(&s);
		return NULL;
	}
	totals = sum_counts_new();
	plans = json_object();
	kinds = json_array();
	for (j = 0; j < FINDING_KIND_COUNT; j++) {
		k = json_object();
		json_object_set_new(k, "kind", json_string(finding_kinds[j].name));
		json_object_set_new(k, "findings", json_integer(0));
		json_object_set_new(k, "outcomes", json_integer(0));
		for (i = 0; sum_words[i] != NULL; i++)
			json_object_set_new(k, sum_words[i], json_integer(0));
		json_array_append_new(kinds, k);
	}
	for (from = 0; from < s.n; from = i) {
		for (i = from + 1; i < s.n && sum_same_group(&s.v[from],
		    &s.v[i]); i++)
			;
		sum_outcome(&s, from, i, totals, plans, kinds);
	}
	sum_runs_free(&s);

	memset(&cf, 0, sizeof cf);
	cf.since_ns = since;
	cf.until_ns = until;
	cf.limit = STORE_PAGE_MAX;
	if ((cr = store_campaign_runs_list(st, &cf, cause)) == NULL) {
		json_decref(totals);
		json_decref(plans);
		json_decref(kinds);
		return NULL;
	}
	o = json_object();
	store_time_format(since, buf, sizeof buf);
	json_object_set_new(o, "since", json_string(buf));
	json_object_set_new(o, "since_ns", q_u64(since));
	store_time_format(until, buf, sizeof buf);
	json_object_set_new(o, "until", json_string(buf));
	json_object_set_new(o, "until_ns", q_u64(until));
	json_object_set_new(o, "totals", totals);
	json_object_set_new(o, "plans", sum_plans_array(plans));
	json_object_set_new(o, "finding_kinds", kinds);
	json_object_set_new(o, "campaign_runs",
	    json_incref(json_object_get(cr, "campaign_runs")));
	json_decref(cr);
	return o;
}
