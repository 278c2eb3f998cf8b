/* store.c: the run store's database: open in WAL mode, migrate the schema
 * one version at a time, and every write the run engine makes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hotsoak/util.h"
#include "store-int.h"

#define STORE_BUSY_MS	5000

/*
 * migrations[i] takes a database from user_version i to i + 1, in one
 * transaction with the version bump. Only ever append: a released entry is
 * what databases in the field went through.
 */
static const char *const store_migrations[] = {
	/* 0 -> 1: runs and what they record. */
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  plan TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  plan_text TEXT NOT NULL,"
	"  plan_json TEXT,"
	"  seed INTEGER NOT NULL,"
	"  backend TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  verdict TEXT,"
	"  reason TEXT,"
	"  created_ns INTEGER NOT NULL,"
	"  started_ns INTEGER,"
	"  finished_ns INTEGER,"
	"  summary TEXT"
	");"
	"CREATE INDEX runs_status ON runs(status);"
	"CREATE INDEX runs_verdict ON runs(verdict);"
	"CREATE INDEX runs_plan ON runs(plan);"
	"CREATE INDEX runs_created ON runs(created_ns);"
	"CREATE TABLE steps ("
	"  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  path TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  name TEXT,"
	"  started_ns INTEGER,"
	"  finished_ns INTEGER,"
	"  outcome TEXT NOT NULL,"
	"  detail TEXT,"
	"  PRIMARY KEY (run, seq)"
	");"
	"CREATE TABLE findings ("
	"  id INTEGER PRIMARY KEY,"
	"  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL,"
	"  title TEXT NOT NULL,"
	"  time_ns INTEGER NOT NULL,"
	"  step TEXT,"
	"  source TEXT NOT NULL,"
	"  detail TEXT"
	");"
	"CREATE INDEX findings_run ON findings(run, id);"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  time_ns INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  step TEXT,"
	"  detail TEXT"
	");"
	"CREATE INDEX events_run ON events(run, id);"
	"CREATE TABLE samples ("
	"  id INTEGER PRIMARY KEY,"
	"  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  time_ns INTEGER NOT NULL,"
	"  interval_ms INTEGER NOT NULL,"
	"  ios INTEGER NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  p50_ns INTEGER NOT NULL,"
	"  p90_ns INTEGER NOT NULL,"
	"  p99_ns INTEGER NOT NULL,"
	"  p999_ns INTEGER NOT NULL,"
	"  max_ns INTEGER NOT NULL,"
	"  inflight INTEGER NOT NULL,"
	"  workers INTEGER NOT NULL"
	");"
	"CREATE INDEX samples_run ON samples(run, id);",

	/* 1 -> 2: campaigns, retries and reruns; what /metrics counts. */
	"CREATE TABLE campaign_runs ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  campaign TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  campaign_json TEXT,"
	"  trigger TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  verdict TEXT,"
	"  reason TEXT,"
	"  created_ns INTEGER NOT NULL,"
	"  started_ns INTEGER,"
	"  finished_ns INTEGER,"
	"  scheduled_ns INTEGER,"
	"  repeat INTEGER NOT NULL,"
	"  parallel INTEGER NOT NULL,"
	"  retries INTEGER NOT NULL"
	");"
	"CREATE INDEX campaign_runs_campaign ON campaign_runs(campaign, id);"
	"CREATE INDEX campaign_runs_created ON campaign_runs(created_ns);"
	"CREATE TABLE campaign_events ("
	"  id INTEGER PRIMARY KEY,"
	"  campaign TEXT NOT NULL,"
	"  campaign_run INTEGER REFERENCES campaign_runs(id) ON DELETE CASCADE,"
	"  time_ns INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  detail TEXT"
	");"
	"CREATE INDEX campaign_events_campaign ON campaign_events(campaign, id);"
	"CREATE INDEX campaign_events_run ON campaign_events(campaign_run, id);"
	"CREATE TABLE reruns ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  times INTEGER NOT NULL,"
	"  parallel INTEGER NOT NULL,"
	"  status TEXT NOT NULL,"
	"  created_ns INTEGER NOT NULL,"
	"  finished_ns INTEGER,"
	"  result TEXT"
	");"
	"ALTER TABLE runs ADD COLUMN campaign_run INTEGER "
	"  REFERENCES campaign_runs(id);"
	"ALTER TABLE runs ADD COLUMN plan_index INTEGER;"
	"ALTER TABLE runs ADD COLUMN repetition INTEGER;"
	"ALTER TABLE runs ADD COLUMN attempt INTEGER;"
	"ALTER TABLE runs ADD COLUMN rerun INTEGER REFERENCES reruns(id);"
	"CREATE INDEX runs_campaign_run ON runs(campaign_run, plan_index, "
	"  repetition, attempt);"
	"CREATE INDEX runs_rerun ON runs(rerun);"
	"CREATE INDEX events_kind ON events(kind);"
	"CREATE INDEX findings_kind ON findings(kind);",
};
_Static_assert(sizeof store_migrations / sizeof store_migrations[0] ==
    STORE_SCHEMA_VERSION, "one migration per schema version");

/* The verdicts the API knows; anything else is a caller's mistake. */
static const char *const store_verdicts[] = {
	"pass", "fail", "error", "aborted", "interrupted", NULL
};

int
store_fail(struct store *st, char **cause, const char *what)
{
	return cause_set(cause, "store: %s: %s", what, sqlite3_errmsg(st->db));
}

int
store_prepare(struct store *st, sqlite3_stmt **stmt, const char *sql,
    char **cause)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) != SQLITE_OK) {
		*stmt = NULL;
		return store_fail(st, cause, "prepare");
	}
	return 0;
}

int
store_step_done(struct store *st, sqlite3_stmt *stmt, const char *what,
    char **cause)
{
	int	rc;

	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		/* The message goes with the statement: take it first. */
		store_fail(st, cause, what);
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

uint64_t
store_generation(struct store *st)
{
	/* Every write goes through this one connection, and each changes rows. */
	return (uint64_t)sqlite3_total_changes64(st->db);
}

int
store_begin(struct store *st, bool write, char **cause)
{
	const char	*sql = write ? "BEGIN IMMEDIATE" : "BEGIN";

	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, cause, "begin");
	return 0;
}

int
store_commit(struct store *st, char **cause)
{
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(st, cause, "commit");
		store_rollback(st);
		return -1;
	}
	return 0;
}

void
store_rollback(struct store *st)
{
	/* SQLite may have rolled back already (after a full disk, say). */
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int
store_run_exists(struct store *st, int64_t id, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (store_prepare(st, &stmt, "SELECT 1 FROM runs WHERE id = ?",
	    cause) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_fail(st, cause, "find run");
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW;
}

int64_t
store_i64(uint64_t v)
{
	if (v <= INT64_MAX)
		return (int64_t)v;
	return -(int64_t)(UINT64_MAX - v) - 1;
}

uint64_t
store_u64(int64_t v)
{
	return (uint64_t)v;
}

/* A time of 0 is "not yet": NULL in the column, null in the JSON. */
void
store_bind_time(sqlite3_stmt *stmt, int i, uint64_t ns)
{
	if (ns == 0)
		sqlite3_bind_null(stmt, i);
	else
		sqlite3_bind_int64(stmt, i, store_i64(ns));
}

/*
 * Binds v as compact JSON text, or NULL when v is NULL. SQLite copies the
 * text, so nothing stays allocated.
 */
int
store_bind_json(struct store *st, sqlite3_stmt *stmt, int i, const json_t *v,
    const char *what, char **cause)
{
	char	*text;
	int	 rc;

	if (v == NULL) {
		sqlite3_bind_null(stmt, i);
		return 0;
	}
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL)
		return cause_set(cause, "store: %s cannot be encoded as JSON",
		    what);
	rc = sqlite3_bind_text(stmt, i, text, -1, SQLITE_TRANSIENT);
	free(text);
	if (rc != SQLITE_OK)
		return store_fail(st, cause, what);
	return 0;
}

/* A row of a run that is not there breaks its foreign key: say so. */
static int
store_insert_fail(struct store *st, sqlite3_stmt *stmt, int rc, int64_t run,
    const char *what, char **cause)
{
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		cause_set(cause, "store: %s: no run %" PRId64, what, run);
	else
		store_fail(st, cause, what);
	sqlite3_finalize(stmt);
	return -1;
}

static int
store_user_version(struct store *st, int *version, char **cause)
{
	sqlite3_stmt	*stmt;

	if (store_prepare(st, &stmt, "PRAGMA user_version", cause) != 0)
		return -1;
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_fail(st, cause, "read schema version");
		sqlite3_finalize(stmt);
		return -1;
	}
	*version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return 0;
}

static int
store_refuse_newer(int version, char **cause)
{
	return cause_set(cause, "database schema version %d is newer than this "
	    "hotsoakd (%d)", version, STORE_SCHEMA_VERSION);
}

static int
store_migrate(struct store *st, char **cause)
{
	char	sql[64];
	int	version;

	for (;;) {
		if (store_begin(st, true, cause) != 0)
			return -1;
		/* Read under the lock: another daemon may have migrated. */
		if (store_user_version(st, &version, cause) != 0)
			goto fail;
		if (version > STORE_SCHEMA_VERSION) {
			store_rollback(st);
			return store_refuse_newer(version, cause);
		}
		if (version == STORE_SCHEMA_VERSION)
			break;
		if (version < 0) {
			cause_set(cause, "database schema version %d is not one "
			    "of hotsoakd's", version);
			goto fail;
		}
		if (sqlite3_exec(st->db, store_migrations[version], NULL, NULL,
		    NULL) != SQLITE_OK) {
			cause_set(cause, "store: migration to schema version %d: "
			    "%s", version + 1, sqlite3_errmsg(st->db));
			goto fail;
		}
		/* PRAGMA takes no parameters; the number is our own. */
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version + 1);
		if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			store_fail(st, cause, "set schema version");
			goto fail;
		}
		if (store_commit(st, cause) != 0)
			return -1;
	}
	return store_commit(st, cause);

fail:
	store_rollback(st);
	return -1;
}

/* Runs a PRAGMA and checks the one value it answers, when want is not NULL. */
static int
store_pragma(struct store *st, const char *sql, const char *want, char **cause)
{
	sqlite3_stmt	*stmt;
	const char	*got;
	int		 rc;

	if (store_prepare(st, &stmt, sql, cause) != 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_fail(st, cause, sql);
		sqlite3_finalize(stmt);
		return -1;
	}
	if (want != NULL) {
		got = rc == SQLITE_ROW ?
		    (const char *)sqlite3_column_text(stmt, 0) : NULL;
		if (got == NULL || strcasecmp(got, want) != 0) {
			cause_set(cause, "store: %s: got %s, not %s", sql,
			    got != NULL ? got : "nothing", want);
			sqlite3_finalize(stmt);
			return -1;
		}
	}
	sqlite3_finalize(stmt);
	return 0;
}

/*
 * The file is made here, not by SQLite, so it is private from the start:
 * plans and findings are nobody else's business. SQLite gives the -wal
 * and -shm files the database's mode.
 */
static int
store_create_file(const char *path, char **cause)
{
	int	fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd == -1)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

struct store *
store_open(const char *dir, char **cause)
{
	struct store	*st;
	int		 rc, version;

	if (dir == NULL || *dir == '\0') {
		cause_set(cause, "store: no state folder");
		return NULL;
	}
	if ((st = calloc(1, sizeof *st)) == NULL) {
		cause_set(cause, "store: %s", strerror(errno));
		return NULL;
	}
	if (asprintf(&st->path, "%s/%s", dir, STORE_FILE) == -1) {
		st->path = NULL;
		cause_set(cause, "store: %s", strerror(ENOMEM));
		goto fail;
	}
	if (store_create_file(st->path, cause) != 0)
		goto fail;

	rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		cause_set(cause, "%s: %s", st->path, st->db != NULL ?
		    sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);

	/* Before anything writes: a newer schema is not ours to touch. */
	if (store_user_version(st, &version, cause) != 0)
		goto fail;
	if (version > STORE_SCHEMA_VERSION) {
		store_refuse_newer(version, cause);
		goto fail;
	}
	/*
	 * WAL lets the API read while a run writes. synchronous FULL makes a
	 * commit durable when it returns, which finishing a run and adding a
	 * finding promise; the rest write too little to care.
	 */
	if (store_pragma(st, "PRAGMA journal_mode = WAL", "wal", cause) != 0)
		goto fail;
	if (store_pragma(st, "PRAGMA synchronous = FULL", NULL, cause) != 0)
		goto fail;
	if (store_pragma(st, "PRAGMA foreign_keys = ON", NULL, cause) != 0)
		goto fail;
	if (store_pragma(st, "PRAGMA foreign_keys", "1", cause) != 0)
		goto fail;
	if (store_migrate(st, cause) != 0)
		goto fail;
	return st;

fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

int
store_interrupt_unfinished(struct store *st, uint64_t now_ns, unsigned *count,
    char **cause)
{
	sqlite3_stmt	*stmt;
	unsigned	 n;

	if (count != NULL)
		*count = 0;
	if (store_begin(st, true, cause) != 0)
		return -1;
	/* Their steps will not finish either. */
	if (store_prepare(st, &stmt, "UPDATE steps SET outcome = 'cancelled', "
	    "finished_ns = ?1 WHERE outcome = 'running' AND run IN "
	    "(SELECT id FROM runs WHERE status != 'finished')", cause) != 0)
		goto fail;
	store_bind_time(stmt, 1, now_ns);
	if (store_step_done(st, stmt, "interrupt steps", cause) != 0)
		goto fail;

	if (store_prepare(st, &stmt, "UPDATE runs SET status = 'finished', "
	    "verdict = 'interrupted', reason = 'hotsoakd stopped while the run "
	    "was ' || status, finished_ns = ?1 WHERE status != 'finished'",
	    cause) != 0)
		goto fail;
	store_bind_time(stmt, 1, now_ns);
	if (store_step_done(st, stmt, "interrupt runs", cause) != 0)
		goto fail;
	n = (unsigned)sqlite3_changes(st->db);

	/* Campaign runs and reruns die with the daemon that drove them. */
	if (store_prepare(st, &stmt, "UPDATE campaign_runs SET status = "
	    "'finished', verdict = 'interrupted', reason = 'hotsoakd stopped "
	    "while the campaign ran', finished_ns = ?1 WHERE status != "
	    "'finished'", cause) != 0)
		goto fail;
	store_bind_time(stmt, 1, now_ns);
	if (store_step_done(st, stmt, "interrupt campaign runs", cause) != 0)
		goto fail;
	if (store_prepare(st, &stmt, "UPDATE reruns SET status = 'finished', "
	    "finished_ns = ?1 WHERE status != 'finished'", cause) != 0)
		goto fail;
	store_bind_time(stmt, 1, now_ns);
	if (store_step_done(st, stmt, "interrupt reruns", cause) != 0)
		goto fail;
	if (store_commit(st, cause) != 0)
		return -1;
	if (count != NULL)
		*count = n;
	return 0;

fail:
	store_rollback(st);
	return -1;
}

int
store_run_create(struct store *st, const struct store_run_new *rn, int64_t *id,
    char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (rn == NULL || rn->plan == NULL || rn->source == NULL ||
	    rn->plan_text == NULL || rn->backend == NULL)
		return cause_set(cause, "store: a run needs a plan, a source, "
		    "the plan's text and a backend");
	if (store_prepare(st, &stmt, "INSERT INTO runs (plan, source, "
	    "plan_text, plan_json, seed, backend, status, created_ns, "
	    "campaign_run, plan_index, repetition, attempt, rerun) VALUES "
	    "(?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)", cause) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, rn->plan, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, rn->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, rn->plan_text, -1, SQLITE_STATIC);
	if (rn->plan_json != NULL)
		sqlite3_bind_text(stmt, 4, rn->plan_json, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 4);
	sqlite3_bind_int64(stmt, 5, store_i64(rn->seed));
	sqlite3_bind_text(stmt, 6, rn->backend, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 7, store_i64(rn->created_ns));
	/* A campaign's attempt, or none of the three. */
	if (rn->campaign_run != 0) {
		sqlite3_bind_int64(stmt, 8, rn->campaign_run);
		sqlite3_bind_int64(stmt, 9, rn->plan_index);
		sqlite3_bind_int64(stmt, 10, rn->repetition);
	}
	if (rn->attempt != 0)
		sqlite3_bind_int64(stmt, 11, rn->attempt);
	if (rn->rerun != 0)
		sqlite3_bind_int64(stmt, 12, rn->rerun);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
		sqlite3_finalize(stmt);
		return cause_set(cause, "store: add run: no campaign run %"
		    PRId64 " or rerun %" PRId64, rn->campaign_run, rn->rerun);
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, cause, "add run");
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/*
 * After an UPDATE of run id that changed nothing: the run is missing or
 * already finished. Returns the cause's -1 either way.
 */
static int
store_run_unchanged(struct store *st, int64_t id, const char *what,
    char **cause)
{
	switch (store_run_exists(st, id, cause)) {
	case -1:
		return -1;
	case 0:
		return cause_set(cause, "store: %s: no run %" PRId64, what, id);
	default:
		return cause_set(cause, "store: %s: run %" PRId64 " is finished",
		    what, id);
	}
}

int
store_run_started(struct store *st, int64_t id, uint64_t started_ns,
    char **cause)
{
	sqlite3_stmt	*stmt;

	if (store_prepare(st, &stmt, "UPDATE runs SET status = 'running', "
	    "started_ns = ? WHERE id = ? AND status != 'finished'", cause) != 0)
		return -1;
	store_bind_time(stmt, 1, started_ns);
	sqlite3_bind_int64(stmt, 2, id);
	if (store_step_done(st, stmt, "start run", cause) != 0)
		return -1;
	if (sqlite3_changes(st->db) == 0)
		return store_run_unchanged(st, id, "start run", cause);
	return 0;
}

int
store_run_summary(struct store *st, int64_t id, const json_t *summary,
    char **cause)
{
	sqlite3_stmt	*stmt;

	if (summary != NULL && !json_is_object(summary))
		return cause_set(cause, "store: a run's summary is an object");
	/*
	 * A finished run keeps its final summary: a report that raced the
	 * end of the run must not replace it.
	 */
	if (store_prepare(st, &stmt, "UPDATE runs SET summary = ? WHERE id = ? "
	    "AND status != 'finished'", cause) != 0)
		return -1;
	if (store_bind_json(st, stmt, 1, summary, "summary", cause) != 0) {
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_bind_int64(stmt, 2, id);
	if (store_step_done(st, stmt, "update summary", cause) != 0)
		return -1;
	if (sqlite3_changes(st->db) == 0) {
		switch (store_run_exists(st, id, cause)) {
		case -1:
			return -1;
		case 0:
			return cause_set(cause, "store: update summary: no run %"
			    PRId64, id);
		}
	}
	return 0;
}

int
store_run_finish(struct store *st, int64_t id, const char *verdict,
    const char *reason, uint64_t finished_ns, const json_t *summary,
    bool *already, char **cause)
{
	sqlite3_stmt	*stmt;
	size_t		 i;

	if (already != NULL)
		*already = false;
	for (i = 0; verdict != NULL && store_verdicts[i] != NULL; i++)
		if (strcmp(verdict, store_verdicts[i]) == 0)
			break;
	if (verdict == NULL || store_verdicts[i] == NULL)
		return cause_set(cause, "store: finish run: bad verdict %s",
		    verdict != NULL ? verdict : "(none)");
	if (summary != NULL && !json_is_object(summary))
		return cause_set(cause, "store: a run's summary is an object");

	/* One statement is one transaction: the run ends whole or not at all. */
	if (store_prepare(st, &stmt, "UPDATE runs SET status = 'finished', "
	    "verdict = ?, reason = ?, finished_ns = ?, "
	    "summary = coalesce(?, summary) "
	    "WHERE id = ? AND status != 'finished'", cause) != 0)
		return -1;
	sqlite3_bind_text(stmt, 1, verdict, -1, SQLITE_STATIC);
	if (reason != NULL)
		sqlite3_bind_text(stmt, 2, reason, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 2);
	store_bind_time(stmt, 3, finished_ns);
	if (store_bind_json(st, stmt, 4, summary, "summary", cause) != 0) {
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_bind_int64(stmt, 5, id);
	if (store_step_done(st, stmt, "finish run", cause) != 0)
		return -1;
	if (sqlite3_changes(st->db) != 0)
		return 0;
	switch (store_run_exists(st, id, cause)) {
	case -1:
		return -1;
	case 0:
		return cause_set(cause, "store: finish run: no run %" PRId64, id);
	}
	if (already != NULL)
		*already = true;
	return 0;
}

int
store_step_put(struct store *st, const struct store_step *s, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (s == NULL || s->path == NULL || s->action == NULL ||
	    s->outcome == NULL)
		return cause_set(cause, "store: a step needs a path, an action "
		    "and an outcome");
	if (store_prepare(st, &stmt, "INSERT INTO steps (run, seq, path, "
	    "action, name, started_ns, finished_ns, outcome, detail) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run, seq) DO UPDATE SET "
	    "path = excluded.path, action = excluded.action, "
	    "name = excluded.name, started_ns = excluded.started_ns, "
	    "finished_ns = excluded.finished_ns, outcome = excluded.outcome, "
	    "detail = excluded.detail", cause) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, s->run);
	sqlite3_bind_int64(stmt, 2, s->seq);
	sqlite3_bind_text(stmt, 3, s->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, s->action, -1, SQLITE_STATIC);
	if (s->name != NULL)
		sqlite3_bind_text(stmt, 5, s->name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 5);
	store_bind_time(stmt, 6, s->started_ns);
	store_bind_time(stmt, 7, s->finished_ns);
	sqlite3_bind_text(stmt, 8, s->outcome, -1, SQLITE_STATIC);
	if (store_bind_json(st, stmt, 9, s->detail, "step detail", cause) != 0) {
		sqlite3_finalize(stmt);
		return -1;
	}
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE)
		return store_insert_fail(st, stmt, rc, s->run, "put step", cause);
	sqlite3_finalize(stmt);
	return 0;
}

int
store_finding_add(struct store *st, const struct store_finding *f, int64_t *id,
    char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (f == NULL || f->kind == NULL || f->title == NULL ||
	    f->source == NULL)
		return cause_set(cause, "store: a finding needs a kind, a title "
		    "and a source");
	if (store_prepare(st, &stmt, "INSERT INTO findings (run, kind, title, "
	    "time_ns, step, source, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
	    cause) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, f->run);
	sqlite3_bind_text(stmt, 2, f->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, f->title, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, store_i64(f->time_ns));
	if (f->step != NULL)
		sqlite3_bind_text(stmt, 5, f->step, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 5);
	sqlite3_bind_text(stmt, 6, f->source, -1, SQLITE_STATIC);
	if (store_bind_json(st, stmt, 7, f->detail, "finding detail",
	    cause) != 0) {
		sqlite3_finalize(stmt);
		return -1;
	}
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE)
		return store_insert_fail(st, stmt, rc, f->run, "add finding",
		    cause);
	sqlite3_finalize(stmt);
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_event_add(struct store *st, int64_t run, uint64_t time_ns,
    const char *kind, const char *step, const json_t *detail, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (kind == NULL)
		return cause_set(cause, "store: an event needs a kind");
	if (store_prepare(st, &stmt, "INSERT INTO events (run, time_ns, kind, "
	    "step, detail) VALUES (?, ?, ?, ?, ?)", cause) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, run);
	sqlite3_bind_int64(stmt, 2, store_i64(time_ns));
	sqlite3_bind_text(stmt, 3, kind, -1, SQLITE_STATIC);
	if (step != NULL)
		sqlite3_bind_text(stmt, 4, step, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 4);
	if (store_bind_json(st, stmt, 5, detail, "event detail", cause) != 0) {
		sqlite3_finalize(stmt);
		return -1;
	}
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE)
		return store_insert_fail(st, stmt, rc, run, "add event", cause);
	sqlite3_finalize(stmt);
	return 0;
}

int
store_sample_add(struct store *st, const struct store_sample *s, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (s == NULL)
		return cause_set(cause, "store: no sample");
	if (store_prepare(st, &stmt, "INSERT INTO samples (run, time_ns, "
	    "interval_ms, ios, bytes, p50_ns, p90_ns, p99_ns, p999_ns, max_ns, "
	    "inflight, workers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    cause) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, s->run);
	sqlite3_bind_int64(stmt, 2, store_i64(s->time_ns));
	sqlite3_bind_int64(stmt, 3, store_i64(s->interval_ms));
	sqlite3_bind_int64(stmt, 4, store_i64(s->ios));
	sqlite3_bind_int64(stmt, 5, store_i64(s->bytes));
	sqlite3_bind_int64(stmt, 6, store_i64(s->p50_ns));
	sqlite3_bind_int64(stmt, 7, store_i64(s->p90_ns));
	sqlite3_bind_int64(stmt, 8, store_i64(s->p99_ns));
	sqlite3_bind_int64(stmt, 9, store_i64(s->p999_ns));
	sqlite3_bind_int64(stmt, 10, store_i64(s->max_ns));
	sqlite3_bind_int64(stmt, 11, s->inflight);
	sqlite3_bind_int64(stmt, 12, s->workers);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE)
		return store_insert_fail(st, stmt, rc, s->run, "add sample",
		    cause);
	sqlite3_finalize(stmt);
	return 0;
}
