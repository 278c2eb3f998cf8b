/* store-rerun.c: reruns in the store: a run's plan and seed run again N
 * times, and how often each of its findings came back. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/util.h"
#include "store-int.h"

int
store_rerun_create(struct store *st, int64_t run, unsigned times,
    unsigned parallel, uint64_t created_ns, int64_t *id, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (store_prepare(st, &stmt, "INSERT INTO reruns (run, times, parallel, "
	    "status, created_ns) VALUES (?, ?, ?, 'running', ?)", cause) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, run);
	sqlite3_bind_int64(stmt, 2, times);
	sqlite3_bind_int64(stmt, 3, parallel);
	sqlite3_bind_int64(stmt, 4, store_i64(created_ns));
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
		sqlite3_finalize(stmt);
		return cause_set(cause, "store: add rerun: no run %" PRId64, run);
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, cause, "add rerun");
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/*
 * For each distinct (kind, title) of the source run: in how many of the
 * finished reruns it came back; and those the source run did not have.
 */
static int
rr_rates(struct store *st, int64_t id, int64_t source, json_int_t completed,
    json_t *o, char **cause)
{
	sqlite3_stmt	*stmt;
	json_t		*repro, *fresh, *e;
	json_int_t	 seen;
	int		 rc;

	if (store_prepare(st, &stmt, "SELECT s.kind, s.title, (SELECT count("
	    "DISTINCT f.run) FROM findings f JOIN runs r ON r.id = f.run WHERE "
	    "r.rerun = ?1 AND r.status = 'finished' AND f.kind = s.kind AND "
	    "f.title = s.title) FROM (SELECT kind, title, min(id) AS first FROM "
	    "findings WHERE run = ?2 GROUP BY kind, title) s ORDER BY s.first",
	    cause) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, source);
	repro = json_array();
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		seen = sqlite3_column_int64(stmt, 2);
		e = json_object();
		json_object_set_new(e, "kind", q_text(stmt, 0));
		json_object_set_new(e, "title", q_text(stmt, 1));
		json_object_set_new(e, "seen", json_integer(seen));
		json_object_set_new(e, "of", json_integer(completed));
		json_object_set_new(e, "rate", completed > 0 ?
		    json_real((double)seen / (double)completed) : json_null());
		json_array_append_new(repro, e);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		json_decref(repro);
		return store_fail(st, cause, "reproduction rates");
	}
	json_object_set_new(o, "reproduction", repro);

	if (store_prepare(st, &stmt, "SELECT f.kind, f.title, count(DISTINCT "
	    "f.run), min(f.id) AS first FROM findings f JOIN runs r ON r.id = "
	    "f.run WHERE r.rerun = ?1 AND NOT EXISTS (SELECT 1 FROM findings s "
	    "WHERE s.run = ?2 AND s.kind = f.kind AND s.title = f.title) GROUP "
	    "BY f.kind, f.title ORDER BY first", cause) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, source);
	fresh = json_array();
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		e = json_object();
		json_object_set_new(e, "kind", q_text(stmt, 0));
		json_object_set_new(e, "title", q_text(stmt, 1));
		json_object_set_new(e, "seen",
		    json_integer(sqlite3_column_int64(stmt, 2)));
		json_array_append_new(fresh, e);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		json_decref(fresh);
		return store_fail(st, cause, "new findings of a rerun");
	}
	json_object_set_new(o, "new_findings", fresh);
	return 0;
}

/* The rerun's runs, its verdict counts and how many finished, into o. */
static int
rr_runs(struct store *st, int64_t id, json_t *o, json_int_t *completed,
    char **cause)
{
	sqlite3_stmt	*stmt;
	json_t		*runs, *verdicts, *r;
	const char	*v;
	int		 rc;

	if (store_prepare(st, &stmt, "SELECT r.id, r.status, r.verdict, "
	    "(SELECT count(*) FROM findings f WHERE f.run = r.id) FROM runs r "
	    "WHERE r.rerun = ? ORDER BY r.id", cause) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	runs = json_array();
	verdicts = json_object();
	*completed = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		r = json_object();
		json_object_set_new(r, "id",
		    json_integer(sqlite3_column_int64(stmt, 0)));
		json_object_set_new(r, "status", q_text(stmt, 1));
		json_object_set_new(r, "verdict", q_text(stmt, 2));
		json_object_set_new(r, "findings",
		    json_integer(sqlite3_column_int64(stmt, 3)));
		json_array_append_new(runs, r);
		if ((v = (const char *)sqlite3_column_text(stmt, 2)) != NULL) {
			(*completed)++;
			json_object_set_new(verdicts, v, json_integer(
			    json_integer_value(json_object_get(verdicts, v)) + 1));
		}
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		json_decref(runs);
		json_decref(verdicts);
		return store_fail(st, cause, "read rerun runs");
	}
	json_object_set_new(o, "runs", runs);
	json_object_set_new(o, "completed", json_integer(*completed));
	json_object_set_new(o, "verdicts", verdicts);
	return 0;
}

/* The rerun as store_rerun_get shows it, inside the caller's transaction. */
static json_t *
rr_build(struct store *st, int64_t id, char **cause)
{
	sqlite3_stmt	*stmt;
	json_t		*o;
	json_int_t	 completed;
	int64_t		 source;
	int		 rc;

	if (store_prepare(st, &stmt, "SELECT x.id, x.run, r.plan, r.seed, "
	    "x.times, x.parallel, x.status, x.created_ns, x.finished_ns FROM "
	    "reruns x JOIN runs r ON r.id = x.run WHERE x.id = ?", cause) != 0)
		return NULL;
	sqlite3_bind_int64(stmt, 1, id);
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		if (rc != SQLITE_DONE)
			store_fail(st, cause, "read rerun");
		sqlite3_finalize(stmt);
		return NULL;
	}
	source = sqlite3_column_int64(stmt, 1);
	o = json_object();
	json_object_set_new(o, "id", json_integer(id));
	json_object_set_new(o, "run", json_integer(source));
	json_object_set_new(o, "plan", q_text(stmt, 2));
	json_object_set_new(o, "seed",
	    q_seed(store_u64(sqlite3_column_int64(stmt, 3))));
	json_object_set_new(o, "times",
	    json_integer(sqlite3_column_int64(stmt, 4)));
	json_object_set_new(o, "parallel",
	    json_integer(sqlite3_column_int64(stmt, 5)));
	json_object_set_new(o, "status", q_text(stmt, 6));
	q_set_time(o, "created", stmt, 7);
	q_set_time(o, "finished", stmt, 8);
	sqlite3_finalize(stmt);
	if (rr_runs(st, id, o, &completed, cause) != 0 ||
	    rr_rates(st, id, source, completed, o, cause) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
store_rerun_get(struct store *st, int64_t id, char **cause)
{
	json_t	*o;

	q_clear_cause(cause);
	if (store_begin(st, false, cause) != 0)
		return NULL;
	o = rr_build(st, id, cause);
	if (o == NULL || store_commit(st, cause) != 0) {
		store_rollback(st);
		json_decref(o);
		return NULL;
	}
	return o;
}

int
store_rerun_finish(struct store *st, int64_t id, uint64_t finished_ns,
    char **cause)
{
	sqlite3_stmt	*stmt;
	json_t		*o, *result;

	if (store_begin(st, true, cause) != 0)
		return -1;
	if ((o = rr_build(st, id, cause)) == NULL) {
		if (cause != NULL && *cause == NULL)
			cause_set(cause, "store: finish rerun: no rerun %" PRId64,
			    id);
		goto fail;
	}
	result = json_pack("{sO sO sO sO}", "verdicts", json_object_get(o,
	    "verdicts"), "completed", json_object_get(o, "completed"),
	    "reproduction", json_object_get(o, "reproduction"), "new_findings",
	    json_object_get(o, "new_findings"));
	json_decref(o);
	if (store_prepare(st, &stmt, "UPDATE reruns SET status = 'finished', "
	    "finished_ns = ?, result = ? WHERE id = ?", cause) != 0) {
		json_decref(result);
		goto fail;
	}
	store_bind_time(stmt, 1, finished_ns);
	if (store_bind_json(st, stmt, 2, result, "rerun result", cause) != 0) {
		sqlite3_finalize(stmt);
		json_decref(result);
		goto fail;
	}
	json_decref(result);
	sqlite3_bind_int64(stmt, 3, id);
	if (store_step_done(st, stmt, "finish rerun", cause) != 0)
		goto fail;
	return store_commit(st, cause);
fail:
	store_rollback(st);
	return -1;
}
