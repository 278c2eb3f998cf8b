/* check-store.c: the run store: the file it makes, schema versions, every
 * write read back as the API's JSON, paging, times, and SIGKILL safety. */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "hotsoak/finding.h"
#include "common.h"
#include "store.h"

#define T0	1795255200000000000ULL	/* 2026-11-21T10:00:00Z */
#define MS	1000000ULL
#define S	1000000000ULL

static char *
db_path(const char *dir)
{
	static char	path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", dir, STORE_FILE);
	return path;
}

static int64_t
run_new(struct store *st, const char *plan, uint64_t seed, uint64_t created)
{
	struct store_run_new	 rn = {
		.plan = plan,
		.source = "plans/x.yaml",
		.plan_text = "name: x\n",
		.plan_json = "{\"name\":\"x\"}",
		.seed = seed,
		.backend = "local",
		.created_ns = created,
	};
	int64_t			 id = 0;
	char			*cause = NULL;

	ck_assert_msg(store_run_create(st, &rn, &id, &cause) == 0,
	    "create: %s", cause ? cause : "?");
	ck_assert_int_gt(id, 0);
	return id;
}

static void
run_finish(struct store *st, int64_t id, const char *verdict, uint64_t at)
{
	char	*cause = NULL;
	bool	 already = true;

	ck_assert_msg(store_run_finish(st, id, verdict, "because", at, NULL,
	    &already, &cause) == 0, "finish: %s", cause ? cause : "?");
	ck_assert(!already);
}

/* Member key of o, asserted present with the type. */
static json_t *
member(const json_t *o, const char *key, json_type type)
{
	json_t	*v = json_object_get(o, key);

	ck_assert_msg(v != NULL, "no member %s", key);
	ck_assert_msg(json_typeof(v) == type, "member %s has type %d, not %d",
	    key, (int)json_typeof(v), (int)type);
	return v;
}

static const char *
member_str(const json_t *o, const char *key)
{
	return json_string_value(member(o, key, JSON_STRING));
}

static json_int_t
member_int(const json_t *o, const char *key)
{
	return json_integer_value(member(o, key, JSON_INTEGER));
}

/* One value from a PRAGMA on a connection of our own, not the store's. */
static char *
pragma_other(const char *dir, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*stmt;
	char		*v = NULL;

	ck_assert_int_eq(sqlite3_open(db_path(dir), &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL),
	    SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = strdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	ck_assert_ptr_nonnull(v);
	return v;
}

static void
exec_other(const char *dir, const char *sql)
{
	sqlite3	*db;
	char	*err = NULL;

	ck_assert_int_eq(sqlite3_open(db_path(dir), &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK,
	    "%s: %s", sql, err ? err : "?");
	sqlite3_close(db);
}

START_TEST(open_creates_wal_private)
{
	const char	*dir = test_dir();
	struct store	*st;
	struct stat	 sb;
	char		*v, want[16];

	st = test_store_open(dir);
	ck_assert_int_eq(stat(db_path(dir), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);

	v = pragma_other(dir, "PRAGMA journal_mode");
	ck_assert_str_eq(v, "wal");
	free(v);
	v = pragma_other(dir, "PRAGMA user_version");
	snprintf(want, sizeof want, "%d", STORE_SCHEMA_VERSION);
	ck_assert_str_eq(v, want);
	free(v);
	store_close(st);

	/* Opening again migrates nothing and keeps what is there. */
	st = test_store_open(dir);
	ck_assert_int_eq(run_new(st, "a", 1, T0), 1);
	store_close(st);
	st = test_store_open(dir);
	ck_assert_int_eq(run_new(st, "a", 1, T0), 2);
	store_close(st);
	store_close(NULL);
}
END_TEST

/* Schema version 1 as released: what databases in the field hold. */
static const char store_schema_v1[] =
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
	"CREATE INDEX samples_run ON samples(run, id);";

START_TEST(open_migrates_schema_1)
{
	const char	*dir = test_dir();
	struct store_campaign_run_new cn;
	struct store	*st;
	char		*cause = NULL, *v, want[16];
	int64_t		 id;
	json_t		*run;

	/* A daemon of the first release left a finished run with a finding. */
	exec_other(dir, store_schema_v1);
	exec_other(dir, "INSERT INTO runs (plan, source, plan_text, seed, "
	    "backend, status, verdict, reason, created_ns, started_ns, "
	    "finished_ns) VALUES ('old', 'old.yaml', 'version: 1', 7, 'local', "
	    "'finished', 'fail', 'a corruption', 1, 2, 3);"
	    "INSERT INTO findings (run, kind, title, time_ns, source) VALUES "
	    "(1, 'corruption', 'stale block at 4096', 2, 'agent');"
	    "INSERT INTO events (run, time_ns, kind) VALUES (1, 2, 'hot_add');"
	    "PRAGMA user_version = 1;");

	st = test_store_open(dir);
	v = pragma_other(dir, "PRAGMA user_version");
	snprintf(want, sizeof want, "%d", STORE_SCHEMA_VERSION);
	ck_assert_str_eq(v, want);
	free(v);
	/* Nothing it held is lost, and it belongs to no campaign. */
	ck_assert_ptr_nonnull(run = store_run_get(st, 1, &cause));
	ck_assert_str_eq(json_string_value(json_object_get(run, "verdict")),
	    "fail");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    run, "findings"), "total")), 1);
	ck_assert(json_is_null(json_object_get(run, "campaign_run")));
	ck_assert(json_is_null(json_object_get(run, "rerun")));
	json_decref(run);
	/* What schema 2 adds works on it: a campaign run, a rerun of the run. */
	memset(&cn, 0, sizeof cn);
	cn.campaign = "nightly";
	cn.source = "nightly.yaml";
	cn.trigger = "request";
	cn.created_ns = 10;
	cn.repeat = 1;
	cn.parallel = 1;
	ck_assert_int_eq(store_campaign_run_create(st, &cn, &id, &cause), 0);
	ck_assert_int_eq(id, 1);
	ck_assert_int_eq(store_rerun_create(st, 1, 3, 1, 11, &id, &cause), 0);
	ck_assert_ptr_nonnull(run = store_rerun_get(st, id, &cause));
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(run, "reproduction"), 0), "title")),
	    "stale block at 4096");
	json_decref(run);
	store_close(st);
}
END_TEST

START_TEST(open_refuses_newer_schema)
{
	const char	*dir = test_dir();
	struct store	*st;
	char		*cause = NULL, sql[64], want[128], *v;

	store_close(test_store_open(dir));
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d",
	    STORE_SCHEMA_VERSION + 1);
	exec_other(dir, sql);

	st = store_open(dir, &cause);
	ck_assert_ptr_null(st);
	ck_assert_ptr_nonnull(cause);
	snprintf(want, sizeof want, "database schema version %d is newer "
	    "than this hotsoakd (%d)", STORE_SCHEMA_VERSION + 1,
	    STORE_SCHEMA_VERSION);
	ck_assert_msg(strstr(cause, want) != NULL, "cause: %s", cause);
	free(cause);

	/* Refused means untouched. */
	v = pragma_other(dir, "PRAGMA user_version");
	ck_assert_int_eq(atoi(v), STORE_SCHEMA_VERSION + 1);
	free(v);
}
END_TEST

START_TEST(open_failures)
{
	const char	*dir = test_dir();
	char		*cause = NULL, missing[PATH_MAX];
	FILE		*f;

	snprintf(missing, sizeof missing, "%s/nowhere", dir);
	ck_assert_ptr_null(store_open(missing, &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "nowhere") != NULL, "cause: %s", cause);
	free(cause);
	cause = NULL;

	ck_assert_ptr_null(store_open(NULL, &cause));
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;

	/* Not a database: SQLite's words reach the cause. */
	f = fopen(db_path(dir), "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not a database at all ", f);
	fclose(f);
	ck_assert_ptr_null(store_open(dir, &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "not a database") != NULL, "cause: %s",
	    cause);
	free(cause);
}
END_TEST

START_TEST(run_round_trip)
{
	const char	*dir = test_dir();
	struct store	*st = test_store_open(dir);
	json_t		*r, *sum, *by_kind, *f;
	char		*cause = NULL, *text;
	int64_t		 id;
	bool		 already = true;
	int		 i;

	id = run_new(st, "local-smoke", 42, T0);
	ck_assert_int_eq(id, 1);

	/* Queued: no start, no end, no verdict. */
	r = store_run_get(st, id, &cause);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(member_int(r, "id"), id);
	ck_assert_str_eq(member_str(r, "plan"), "local-smoke");
	ck_assert_str_eq(member_str(r, "source"), "plans/x.yaml");
	ck_assert_int_eq(member_int(r, "seed"), 42);
	ck_assert_str_eq(member_str(r, "backend"), "local");
	ck_assert_str_eq(member_str(r, "status"), "queued");
	member(r, "verdict", JSON_NULL);
	member(r, "reason", JSON_NULL);
	ck_assert_str_eq(member_str(r, "created"), "2026-11-21T10:00:00.000Z");
	ck_assert_int_eq(member_int(r, "created_ns"), (json_int_t)T0);
	member(r, "started", JSON_NULL);
	member(r, "started_ns", JSON_NULL);
	member(r, "finished", JSON_NULL);
	member(r, "finished_ns", JSON_NULL);
	member(r, "elapsed_ms", JSON_NULL);
	ck_assert_uint_eq(json_array_size(member(r, "steps", JSON_ARRAY)), 0);
	f = member(r, "findings", JSON_OBJECT);
	ck_assert_int_eq(member_int(f, "total"), 0);
	by_kind = member(f, "by_kind", JSON_OBJECT);
	ck_assert_uint_eq(json_object_size(by_kind), FINDING_KIND_COUNT);
	for (i = 0; i < FINDING_KIND_COUNT; i++)
		ck_assert_int_eq(member_int(by_kind, finding_kinds[i].name), 0);
	json_decref(r);

	ck_assert_int_eq(store_run_started(st, id, T0 + 2 * S, &cause), 0);
	sum = json_pack("{s:{s:i}, s:{s:i}, s:s, s:s, s:i, s:[]}", "counters",
	    "ios", 10, "latency", "p99_ns", 5000, "step", "3 hot_add",
	    "status", "hijacked", "id", 999, "topology");
	ck_assert_int_eq(store_run_summary(st, id, sum, &cause), 0);
	json_decref(sum);

	/* Running: elapsed counts to now, the summary shows at the top. */
	r = store_run_get(st, id, &cause);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(member_str(r, "status"), "running");
	ck_assert_str_eq(member_str(r, "started"), "2026-11-21T10:00:02.000Z");
	ck_assert_int_eq(member_int(r, "started_ns"), (json_int_t)(T0 + 2 * S));
	ck_assert_int_ge(member_int(r, "elapsed_ms"), 0);
	ck_assert_int_eq(member_int(member(r, "counters", JSON_OBJECT), "ios"),
	    10);
	ck_assert_str_eq(member_str(r, "step"), "3 hot_add");
	member(r, "topology", JSON_ARRAY);
	/* ... but does not replace the run's own members. */
	ck_assert_str_eq(member_str(r, "status"), "running");
	ck_assert_int_eq(member_int(r, "id"), id);
	json_decref(r);

	sum = json_pack("{s:{s:i}, s:{s:i}}", "counters", "ios", 77,
	    "fault_ops", "hot_add", 2);
	ck_assert_int_eq(store_run_finish(st, id, "pass", "all 3 steps done",
	    T0 + 5 * S + 250 * MS, sum, &already, &cause), 0);
	ck_assert(!already);
	json_decref(sum);

	r = store_run_get(st, id, &cause);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(cause);
	ck_assert_str_eq(member_str(r, "status"), "finished");
	ck_assert_str_eq(member_str(r, "verdict"), "pass");
	ck_assert_str_eq(member_str(r, "reason"), "all 3 steps done");
	ck_assert_str_eq(member_str(r, "finished"), "2026-11-21T10:00:05.250Z");
	ck_assert_int_eq(member_int(r, "finished_ns"),
	    (json_int_t)(T0 + 5 * S + 250 * MS));
	ck_assert_int_eq(member_int(r, "elapsed_ms"), 3250);
	ck_assert_int_eq(member_int(member(r, "counters", JSON_OBJECT), "ios"),
	    77);
	ck_assert_int_eq(member_int(member(r, "fault_ops", JSON_OBJECT),
	    "hot_add"), 2);
	/* The final summary replaced the live one whole. */
	ck_assert_ptr_null(json_object_get(r, "latency"));
	json_decref(r);

	text = store_run_plan_text(st, id, &cause);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "name: x\n");
	free(text);

	/* A summary that raced the end does not replace the final one. */
	sum = json_pack("{s:{s:i}}", "counters", "ios", 1);
	ck_assert_int_eq(store_run_summary(st, id, sum, &cause), 0);
	json_decref(sum);
	r = store_run_get(st, id, &cause);
	ck_assert_int_eq(member_int(member(r, "counters", JSON_OBJECT), "ios"),
	    77);
	json_decref(r);
	store_close(st);
}
END_TEST

START_TEST(finish_rules)
{
	const char	*dir = test_dir();
	struct store	*st = test_store_open(dir);
	json_t		*r, *sum;
	char		*cause = NULL;
	int64_t		 id;
	bool		 already = false;

	id = run_new(st, "p", 1, T0);
	ck_assert_int_eq(store_run_started(st, id, T0 + S, &cause), 0);
	run_finish(st, id, "fail", T0 + 2 * S);

	/* A second finish (an abort racing the end) changes nothing. */
	sum = json_pack("{s:i}", "late", 1);
	ck_assert_int_eq(store_run_finish(st, id, "aborted", "late abort",
	    T0 + 9 * S, sum, &already, &cause), 0);
	json_decref(sum);
	ck_assert(already);
	ck_assert_ptr_null(cause);
	r = store_run_get(st, id, &cause);
	ck_assert_str_eq(member_str(r, "verdict"), "fail");
	ck_assert_str_eq(member_str(r, "reason"), "because");
	ck_assert_int_eq(member_int(r, "finished_ns"), (json_int_t)(T0 + 2 * S));
	ck_assert_ptr_null(json_object_get(r, "late"));
	json_decref(r);

	/* A finished run does not start again. */
	ck_assert_int_eq(store_run_started(st, id, T0, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;

	ck_assert_int_eq(store_run_finish(st, 99, "pass", NULL, T0, NULL,
	    &already, &cause), -1);
	ck_assert_msg(cause != NULL && strstr(cause, "no run 99") != NULL,
	    "cause: %s", cause ? cause : "(null)");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_run_started(st, 99, T0, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_run_summary(st, 99, NULL, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;

	id = run_new(st, "p", 1, T0);
	ck_assert_int_eq(store_run_finish(st, id, "great", NULL, T0, NULL,
	    NULL, &cause), -1);
	ck_assert_msg(cause != NULL && strstr(cause, "great") != NULL,
	    "cause: %s", cause ? cause : "(null)");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_run_finish(st, id, NULL, NULL, T0, NULL, NULL,
	    &cause), -1);
	free(cause);
	cause = NULL;
	sum = json_integer(3);
	ck_assert_int_eq(store_run_summary(st, id, sum, &cause), -1);
	free(cause);
	cause = NULL;
	json_decref(sum);

	/* A reason may be absent; a queued run may end unstarted. */
	ck_assert_int_eq(store_run_finish(st, id, "aborted", NULL, T0 + S, NULL,
	    NULL, &cause), 0);
	r = store_run_get(st, id, &cause);
	member(r, "reason", JSON_NULL);
	member(r, "elapsed_ms", JSON_NULL);
	member(r, "started", JSON_NULL);
	ck_assert_str_eq(member_str(r, "finished"), "2026-11-21T10:00:01.000Z");
	json_decref(r);
	store_close(st);
}
END_TEST

START_TEST(steps_upsert)
{
	const char	*dir = test_dir();
	struct store	*st = test_store_open(dir);
	struct store_step s = { 0 };
	json_t		*r, *steps, *s0, *s1, *detail;
	char		*cause = NULL;
	int64_t		 id;

	id = run_new(st, "p", 1, T0);
	s.run = id;
	s.seq = 0;
	s.path = "0";
	s.action = "hot_add";
	s.name = "add two CPUs";
	s.started_ns = T0 + S;
	s.outcome = "running";
	ck_assert_int_eq(store_step_put(st, &s, &cause), 0);

	s.seq = 1;
	s.path = "1.0/2.0";
	s.action = "wait";
	s.name = NULL;
	s.started_ns = T0 + 3 * S;
	ck_assert_int_eq(store_step_put(st, &s, &cause), 0);

	/* The same (run, seq) again is the step's end, not a new step. */
	detail = json_pack("{s:i}", "cpus", 2);
	s.seq = 0;
	s.path = "0";
	s.action = "hot_add";
	s.name = "add two CPUs";
	s.started_ns = T0 + S;
	s.finished_ns = T0 + 2 * S + 500 * MS;
	s.outcome = "done";
	s.detail = detail;
	ck_assert_int_eq(store_step_put(st, &s, &cause), 0);
	json_decref(detail);
	s.detail = NULL;

	r = store_run_get(st, id, &cause);
	ck_assert_ptr_nonnull(r);
	steps = member(r, "steps", JSON_ARRAY);
	ck_assert_uint_eq(json_array_size(steps), 2);
	s0 = json_array_get(steps, 0);
	s1 = json_array_get(steps, 1);
	ck_assert_int_eq(member_int(s0, "seq"), 0);
	ck_assert_str_eq(member_str(s0, "path"), "0");
	ck_assert_str_eq(member_str(s0, "action"), "hot_add");
	ck_assert_str_eq(member_str(s0, "name"), "add two CPUs");
	ck_assert_str_eq(member_str(s0, "started"), "2026-11-21T10:00:01.000Z");
	ck_assert_int_eq(member_int(s0, "started_ns"), (json_int_t)(T0 + S));
	ck_assert_str_eq(member_str(s0, "finished"), "2026-11-21T10:00:02.500Z");
	ck_assert_int_eq(member_int(s0, "finished_ns"),
	    (json_int_t)(T0 + 2 * S + 500 * MS));
	ck_assert_str_eq(member_str(s0, "outcome"), "done");
	ck_assert_int_eq(member_int(member(s0, "detail", JSON_OBJECT), "cpus"),
	    2);
	ck_assert_int_eq(member_int(s1, "seq"), 1);
	ck_assert_str_eq(member_str(s1, "path"), "1.0/2.0");
	member(s1, "name", JSON_NULL);
	member(s1, "finished", JSON_NULL);
	member(s1, "finished_ns", JSON_NULL);
	member(s1, "detail", JSON_NULL);
	ck_assert_str_eq(member_str(s1, "outcome"), "running");
	json_decref(r);

	/* No run, no step; missing members are refused, not crashed on. */
	s.run = 77;
	ck_assert_int_eq(store_step_put(st, &s, &cause), -1);
	ck_assert_msg(cause != NULL && strstr(cause, "no run 77") != NULL,
	    "cause: %s", cause ? cause : "(null)");
	free(cause);
	cause = NULL;
	s.run = id;
	s.path = NULL;
	ck_assert_int_eq(store_step_put(st, &s, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	store_close(st);
}
END_TEST

START_TEST(findings_events_samples)
{
	static const char *kinds[] = {
		"io_error", "corruption", "io_error", "custom_kind", "hang"
	};
	const char	*dir = test_dir();
	struct store	*st = test_store_open(dir);
	struct store_finding f = { 0 };
	struct store_sample sm = { 0 };
	json_t		*r, *l, *a, *e, *by_kind, *detail;
	char		*cause = NULL, title[32];
	int64_t		 id, other, fid, ids[5];
	size_t		 i;

	id = run_new(st, "p", 1, T0);
	other = run_new(st, "q", 1, T0);
	detail = json_pack("{s:s, s:I}", "file", "/data/f1", "offset",
	    (json_int_t)4096);
	for (i = 0; i < 5; i++) {
		snprintf(title, sizeof title, "finding %zu", i);
		f.run = id;
		f.kind = kinds[i];
		f.title = title;
		f.time_ns = T0 + i * S;
		f.step = i % 2 ? "3 hot_add" : NULL;
		f.source = "agent";
		f.detail = i == 0 ? detail : NULL;
		ck_assert_int_eq(store_finding_add(st, &f, &ids[i], &cause), 0);
		if (i > 0)
			ck_assert_int_gt(ids[i], ids[i - 1]);
		/* Another run's rows must not show in this one's lists. */
		f.run = other;
		ck_assert_int_eq(store_finding_add(st, &f, &fid, &cause), 0);
		ck_assert_int_eq(store_event_add(st, other, T0, "noise", NULL,
		    NULL, &cause), 0);
		ck_assert_int_eq(store_event_add(st, id, T0 + i * S,
		    i == 0 ? "hot_add" : "wait", i == 0 ? "0 hot_add" : NULL,
		    i == 0 ? detail : NULL, &cause), 0);
		sm.run = id;
		sm.time_ns = T0 + i * S;
		sm.interval_ms = 1000;
		sm.ios = 100 + i;
		sm.bytes = i == 4 ? UINT64_MAX : 4096 * (100 + i);
		sm.p50_ns = 1000;
		sm.p90_ns = 2000;
		sm.p99_ns = 3000;
		sm.p999_ns = 4000;
		sm.max_ns = 5000 + i;
		sm.inflight = 8;
		sm.workers = 4;
		ck_assert_int_eq(store_sample_add(st, &sm, &cause), 0);
	}
	json_decref(detail);

	/* The run counts its findings by kind, known kinds at zero too. */
	r = store_run_get(st, id, &cause);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(member_int(member(r, "findings", JSON_OBJECT),
	    "total"), 5);
	by_kind = member(member(r, "findings", JSON_OBJECT), "by_kind",
	    JSON_OBJECT);
	ck_assert_int_eq(member_int(by_kind, "io_error"), 2);
	ck_assert_int_eq(member_int(by_kind, "corruption"), 1);
	ck_assert_int_eq(member_int(by_kind, "hang"), 1);
	ck_assert_int_eq(member_int(by_kind, "custom_kind"), 1);
	ck_assert_int_eq(member_int(by_kind, "bugcheck"), 0);
	ck_assert_uint_eq(json_object_size(by_kind), FINDING_KIND_COUNT + 1);
	json_decref(r);

	/* Findings: all, then in pages of 2 through after. */
	l = store_findings_list(st, id, 0, 0, &cause);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(member_int(l, "run"), id);
	a = member(l, "findings", JSON_ARRAY);
	ck_assert_uint_eq(json_array_size(a), 5);
	e = json_array_get(a, 0);
	ck_assert_int_eq(member_int(e, "id"), ids[0]);
	ck_assert_str_eq(member_str(e, "kind"), "io_error");
	ck_assert_str_eq(member_str(e, "title"), "finding 0");
	ck_assert_str_eq(member_str(e, "time"), "2026-11-21T10:00:00.000Z");
	ck_assert_int_eq(member_int(e, "time_ns"), (json_int_t)T0);
	member(e, "step", JSON_NULL);
	ck_assert_str_eq(member_str(e, "source"), "agent");
	ck_assert_str_eq(member_str(member(e, "detail", JSON_OBJECT), "file"),
	    "/data/f1");
	e = json_array_get(a, 1);
	ck_assert_str_eq(member_str(e, "step"), "3 hot_add");
	member(e, "detail", JSON_NULL);
	json_decref(l);

	l = store_findings_list(st, id, 0, 2, &cause);
	a = member(l, "findings", JSON_ARRAY);
	ck_assert_uint_eq(json_array_size(a), 2);
	ck_assert_int_eq(member_int(json_array_get(a, 1), "id"), ids[1]);
	json_decref(l);
	l = store_findings_list(st, id, ids[1], 2, &cause);
	a = member(l, "findings", JSON_ARRAY);
	ck_assert_uint_eq(json_array_size(a), 2);
	ck_assert_int_eq(member_int(json_array_get(a, 0), "id"), ids[2]);
	ck_assert_int_eq(member_int(json_array_get(a, 1), "id"), ids[3]);
	json_decref(l);
	l = store_findings_list(st, id, ids[3], 2, &cause);
	a = member(l, "findings", JSON_ARRAY);
	ck_assert_uint_eq(json_array_size(a), 1);
	ck_assert_str_eq(member_str(json_array_get(a, 0), "title"), "finding 4");
	json_decref(l);
	l = store_findings_list(st, id, ids[4], 2, &cause);
	ck_assert_uint_eq(json_array_size(member(l, "findings", JSON_ARRAY)), 0);
	json_decref(l);

	/* Events. */
	l = store_events_list(st, id, 0, 0, &cause);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(member_int(l, "run"), id);
	a = member(l, "events", JSON_ARRAY);
	ck_assert_uint_eq(json_array_size(a), 5);
	e = json_array_get(a, 0);
	member(e, "id", JSON_INTEGER);
	ck_assert_str_eq(member_str(e, "time"), "2026-11-21T10:00:00.000Z");
	ck_assert_int_eq(member_int(e, "time_ns"), (json_int_t)T0);
	ck_assert_str_eq(member_str(e, "kind"), "hot_add");
	ck_assert_str_eq(member_str(e, "step"), "0 hot_add");
	member(e, "detail", JSON_OBJECT);
	e = json_array_get(a, 4);
	ck_assert_str_eq(member_str(e, "kind"), "wait");
	member(e, "step", JSON_NULL);
	ck_assert_str_eq(member_str(e, "time"), "2026-11-21T10:00:04.000Z");
	fid = member_int(json_array_get(a, 2), "id");
	json_decref(l);
	l = store_events_list(st, id, fid, 10, &cause);
	ck_assert_uint_eq(json_array_size(member(l, "events", JSON_ARRAY)), 2);
	json_decref(l);

	/* Samples; a count past JSON's integers shows as the largest. */
	l = store_samples_list(st, id, 0, 3, &cause);
	ck_assert_ptr_nonnull(l);
	a = member(l, "samples", JSON_ARRAY);
	ck_assert_uint_eq(json_array_size(a), 3);
	e = json_array_get(a, 1);
	ck_assert_str_eq(member_str(e, "time"), "2026-11-21T10:00:01.000Z");
	ck_assert_int_eq(member_int(e, "time_ns"), (json_int_t)(T0 + S));
	ck_assert_int_eq(member_int(e, "interval_ms"), 1000);
	ck_assert_int_eq(member_int(e, "ios"), 101);
	ck_assert_int_eq(member_int(e, "bytes"), 4096 * 101);
	ck_assert_int_eq(member_int(e, "p50_ns"), 1000);
	ck_assert_int_eq(member_int(e, "p90_ns"), 2000);
	ck_assert_int_eq(member_int(e, "p99_ns"), 3000);
	ck_assert_int_eq(member_int(e, "p999_ns"), 4000);
	ck_assert_int_eq(member_int(e, "max_ns"), 5001);
	ck_assert_int_eq(member_int(e, "inflight"), 8);
	ck_assert_int_eq(member_int(e, "workers"), 4);
	fid = member_int(json_array_get(a, 2), "id");
	json_decref(l);
	l = store_samples_list(st, id, fid, 3, &cause);
	a = member(l, "samples", JSON_ARRAY);
	ck_assert_uint_eq(json_array_size(a), 2);
	ck_assert_int_eq(member_int(json_array_get(a, 1), "bytes"), INT64_MAX);
	json_decref(l);

	/* Rows for a run that does not exist are refused by name. */
	f.run = 1000;
	ck_assert_int_eq(store_finding_add(st, &f, NULL, &cause), -1);
	ck_assert_msg(cause != NULL && strstr(cause, "no run 1000") != NULL,
	    "cause: %s", cause ? cause : "(null)");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_event_add(st, 1000, T0, "x", NULL, NULL, &cause),
	    -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	sm.run = 1000;
	ck_assert_int_eq(store_sample_add(st, &sm, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	f.run = id;
	f.kind = NULL;
	ck_assert_int_eq(store_finding_add(st, &f, NULL, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	store_close(st);
}
END_TEST

/* The ids of a runs page, and its next (0 for null). */
static size_t
page(struct store *st, const struct store_runs_filter *flt, int64_t *ids,
    size_t max, int64_t *next)
{
	json_t	*l, *runs, *r, *nx;
	char	*cause = NULL;
	size_t	 i;

	l = store_runs_list(st, flt, &cause);
	ck_assert_msg(l != NULL, "list: %s", cause ? cause : "?");
	runs = member(l, "runs", JSON_ARRAY);
	ck_assert_uint_le(json_array_size(runs), max);
	json_array_foreach(runs, i, r)
		ids[i] = member_int(r, "id");
	nx = json_object_get(l, "next");
	ck_assert_ptr_nonnull(nx);
	ck_assert(json_is_null(nx) || json_is_integer(nx));
	*next = json_is_integer(nx) ? json_integer_value(nx) : 0;
	i = json_array_size(runs);
	json_decref(l);
	return i;
}

START_TEST(runs_list_filters_and_pages)
{
	const char		*dir = test_dir();
	struct store		*st = test_store_open(dir);
	struct store_runs_filter flt;
	json_t			*l, *r;
	char			*cause = NULL;
	int64_t			 ids[16], next;
	int			 i;

	/*
	 * Seven runs, created a second apart: 1-4 plan "a", 5-7 plan "b";
	 * 1, 2, 5 pass; 3 fails; 4, 6 run; 7 waits.
	 */
	for (i = 1; i <= 7; i++)
		ck_assert_int_eq(run_new(st, i <= 4 ? "a" : "b", i,
		    T0 + i * S), i);
	for (i = 1; i <= 6; i++)
		ck_assert_int_eq(store_run_started(st, i, T0 + i * S + MS,
		    &cause), 0);
	run_finish(st, 1, "pass", T0 + 10 * S);
	run_finish(st, 2, "pass", T0 + 10 * S);
	run_finish(st, 5, "pass", T0 + 10 * S);
	run_finish(st, 3, "fail", T0 + 10 * S);
	{
		struct store_finding f = { .run = 3, .kind = "corruption",
		    .title = "t", .time_ns = T0, .source = "agent" };

		ck_assert_int_eq(store_finding_add(st, &f, NULL, &cause), 0);
		ck_assert_int_eq(store_finding_add(st, &f, NULL, &cause), 0);
	}

	/* Newest first, every member typed. */
	l = store_runs_list(st, NULL, &cause);
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(json_array_size(member(l, "runs", JSON_ARRAY)), 7);
	member(l, "next", JSON_NULL);
	r = json_array_get(json_object_get(l, "runs"), 4);
	ck_assert_int_eq(member_int(r, "id"), 3);
	ck_assert_str_eq(member_str(r, "plan"), "a");
	ck_assert_int_eq(member_int(r, "seed"), 3);
	ck_assert_str_eq(member_str(r, "backend"), "local");
	ck_assert_str_eq(member_str(r, "status"), "finished");
	ck_assert_str_eq(member_str(r, "verdict"), "fail");
	ck_assert_str_eq(member_str(r, "reason"), "because");
	ck_assert_str_eq(member_str(r, "created"), "2026-11-21T10:00:03.000Z");
	ck_assert_int_eq(member_int(r, "created_ns"), (json_int_t)(T0 + 3 * S));
	ck_assert_str_eq(member_str(r, "started"), "2026-11-21T10:00:03.001Z");
	member(r, "started_ns", JSON_INTEGER);
	ck_assert_str_eq(member_str(r, "finished"), "2026-11-21T10:00:10.000Z");
	member(r, "finished_ns", JSON_INTEGER);
	ck_assert_int_eq(member_int(r, "elapsed_ms"), 6999);
	ck_assert_int_eq(member_int(r, "findings"), 2);
	ck_assert_ptr_null(json_object_get(r, "steps"));
	r = json_array_get(json_object_get(l, "runs"), 0);
	ck_assert_int_eq(member_int(r, "id"), 7);
	ck_assert_str_eq(member_str(r, "status"), "queued");
	member(r, "verdict", JSON_NULL);
	member(r, "started", JSON_NULL);
	member(r, "elapsed_ms", JSON_NULL);
	ck_assert_int_eq(member_int(r, "findings"), 0);
	json_decref(l);

	/* Three pages of 3, 3 and 1, linked by next. */
	memset(&flt, 0, sizeof flt);
	flt.limit = 3;
	ck_assert_uint_eq(page(st, &flt, ids, 3, &next), 3);
	ck_assert_int_eq(ids[0], 7);
	ck_assert_int_eq(ids[2], 5);
	ck_assert_int_eq(next, 5);
	flt.before = next;
	ck_assert_uint_eq(page(st, &flt, ids, 3, &next), 3);
	ck_assert_int_eq(ids[0], 4);
	ck_assert_int_eq(ids[2], 2);
	ck_assert_int_eq(next, 2);
	flt.before = next;
	ck_assert_uint_eq(page(st, &flt, ids, 3, &next), 1);
	ck_assert_int_eq(ids[0], 1);
	ck_assert_int_eq(next, 0);
	/* A full last page says so: no next. */
	flt.before = 0;
	flt.limit = 7;
	ck_assert_uint_eq(page(st, &flt, ids, 7, &next), 7);
	ck_assert_int_eq(next, 0);

	memset(&flt, 0, sizeof flt);
	flt.status = "finished";
	ck_assert_uint_eq(page(st, &flt, ids, 16, &next), 4);
	ck_assert_int_eq(ids[0], 5);
	ck_assert_int_eq(ids[3], 1);
	flt.status = "running";
	ck_assert_uint_eq(page(st, &flt, ids, 16, &next), 2);
	ck_assert_int_eq(ids[0], 6);
	ck_assert_int_eq(ids[1], 4);

	memset(&flt, 0, sizeof flt);
	flt.verdict = "pass";
	ck_assert_uint_eq(page(st, &flt, ids, 16, &next), 3);
	flt.plan = "a";
	ck_assert_uint_eq(page(st, &flt, ids, 16, &next), 2);
	ck_assert_int_eq(ids[0], 2);
	ck_assert_int_eq(ids[1], 1);

	memset(&flt, 0, sizeof flt);
	flt.plan = "b";
	ck_assert_uint_eq(page(st, &flt, ids, 16, &next), 3);
	flt.since_ns = T0 + 6 * S;
	ck_assert_uint_eq(page(st, &flt, ids, 16, &next), 2);
	ck_assert_int_eq(ids[1], 6);
	flt.plan = NULL;
	flt.since_ns = T0 + 4 * S;
	flt.status = "running";
	ck_assert_uint_eq(page(st, &flt, ids, 16, &next), 2);
	flt.limit = 1;
	ck_assert_uint_eq(page(st, &flt, ids, 1, &next), 1);
	ck_assert_int_eq(ids[0], 6);
	ck_assert_int_eq(next, 6);
	flt.before = next;
	ck_assert_uint_eq(page(st, &flt, ids, 1, &next), 1);
	ck_assert_int_eq(ids[0], 4);
	ck_assert_int_eq(next, 0);

	/* Nothing matches: an empty page, not an error. */
	memset(&flt, 0, sizeof flt);
	flt.plan = "zzz";
	ck_assert_uint_eq(page(st, &flt, ids, 16, &next), 0);
	ck_assert_int_eq(next, 0);
	memset(&flt, 0, sizeof flt);
	flt.since_ns = UINT64_MAX;
	ck_assert_uint_eq(page(st, &flt, ids, 16, &next), 0);
	store_close(st);
}
END_TEST

START_TEST(unknown_run)
{
	const char	*dir = test_dir();
	struct store	*st = test_store_open(dir);
	static char	 stale[] = "stale";
	char		*cause = stale;

	run_new(st, "p", 1, T0);
	ck_assert_ptr_null(store_run_get(st, 2, &cause));
	ck_assert_ptr_null(cause);
	cause = stale;
	ck_assert_ptr_null(store_run_plan_text(st, 2, &cause));
	ck_assert_ptr_null(cause);
	cause = stale;
	ck_assert_ptr_null(store_findings_list(st, 2, 0, 0, &cause));
	ck_assert_ptr_null(cause);
	ck_assert_ptr_null(store_events_list(st, 0, 0, 0, &cause));
	ck_assert_ptr_null(cause);
	ck_assert_ptr_null(store_samples_list(st, -1, 0, 0, &cause));
	ck_assert_ptr_null(cause);
	ck_assert_ptr_null(store_run_get(st, INT64_MAX, &cause));
	ck_assert_ptr_null(cause);
	store_close(st);
}
END_TEST

START_TEST(seed_exact)
{
	static const uint64_t seeds[] = {
		0, 1, INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX - 1,
		UINT64_MAX
	};
	const char	*dir = test_dir();
	struct store	*st = test_store_open(dir);
	json_t		*r, *s;
	char		*cause = NULL, want[32];
	size_t		 i;
	int64_t		 id;

	for (i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
		id = run_new(st, "p", seeds[i], T0);
		r = store_run_get(st, id, &cause);
		ck_assert_ptr_nonnull(r);
		s = json_object_get(r, "seed");
		if (seeds[i] <= INT64_MAX) {
			ck_assert(json_is_integer(s));
			ck_assert_uint_eq((uint64_t)json_integer_value(s),
			    seeds[i]);
		} else {
			snprintf(want, sizeof want, "%" PRIu64, seeds[i]);
			ck_assert(json_is_string(s));
			ck_assert_str_eq(json_string_value(s), want);
		}
		json_decref(r);
	}
	r = store_run_get(st, 6, &cause);
	ck_assert_str_eq(member_str(r, "seed"), "18446744073709551615");
	json_decref(r);
	store_close(st);
}
END_TEST

START_TEST(strings_as_given)
{
	static const char *texts[] = {
		"it's \"quoted\"; DROP TABLE runs; --",
		"two\nlines\r\n\ttabbed",
		"h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x94\xa5 \xe4\xb8\xad",
		"%s%n%x \\ back\\slash ? ?1 :name @x $y",
		"",
	};
	const char	*dir = test_dir();
	struct store	*st = test_store_open(dir);
	struct store_run_new rn = { 0 };
	json_t		*r, *l;
	char		*cause = NULL, *text;
	int64_t		 id;
	size_t		 i;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		rn.plan = rn.source = rn.plan_text = rn.backend = texts[i];
		rn.created_ns = T0;
		ck_assert_int_eq(store_run_create(st, &rn, &id, &cause), 0);
		ck_assert_int_eq(store_run_finish(st, id, "error", texts[i], T0,
		    NULL, NULL, &cause), 0);
		ck_assert_int_eq(store_event_add(st, id, T0, texts[i], texts[i],
		    NULL, &cause), 0);
		r = store_run_get(st, id, &cause);
		ck_assert_ptr_nonnull(r);
		ck_assert_str_eq(member_str(r, "plan"), texts[i]);
		ck_assert_str_eq(member_str(r, "source"), texts[i]);
		ck_assert_str_eq(member_str(r, "backend"), texts[i]);
		ck_assert_str_eq(member_str(r, "reason"), texts[i]);
		json_decref(r);
		text = store_run_plan_text(st, id, &cause);
		ck_assert_ptr_nonnull(text);
		ck_assert_str_eq(text, texts[i]);
		free(text);
		l = store_events_list(st, id, 0, 0, &cause);
		ck_assert_str_eq(member_str(json_array_get(member(l, "events",
		    JSON_ARRAY), 0), "step"), texts[i]);
		json_decref(l);
	}
	/* The runs table survived the first name. */
	l = store_runs_list(st, NULL, &cause);
	ck_assert_uint_eq(json_array_size(member(l, "runs", JSON_ARRAY)), 5);
	json_decref(l);

	/* Bytes that are not UTF-8 still make a readable run. */
	rn.plan = rn.source = rn.plan_text = rn.backend = "caf\xe9 \xff\xc3";
	ck_assert_int_eq(store_run_create(st, &rn, &id, &cause), 0);
	r = store_run_get(st, id, &cause);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(member_str(r, "plan"),
	    "caf\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd");
	json_decref(r);
	text = store_run_plan_text(st, id, &cause);
	ck_assert_str_eq(text, "caf\xe9 \xff\xc3");
	free(text);
	store_close(st);
}
END_TEST

START_TEST(ids_never_reused)
{
	const char	*dir = test_dir();
	struct store	*st = test_store_open(dir);
	struct store_finding f = { .kind = "hang", .title = "t",
	    .source = "engine" };
	char		*cause = NULL, *v;

	ck_assert_int_eq(run_new(st, "p", 1, T0), 1);
	ck_assert_int_eq(run_new(st, "p", 1, T0), 2);
	f.run = 2;
	ck_assert_int_eq(store_finding_add(st, &f, NULL, &cause), 0);
	store_close(st);
	/* Deleting the newest run takes its rows with it... */
	exec_other(dir, "PRAGMA foreign_keys = ON; DELETE FROM runs WHERE id = 2");
	v = pragma_other(dir, "SELECT count(*) FROM findings");
	ck_assert_str_eq(v, "0");
	free(v);
	/* ... and its id stays spent. */
	st = test_store_open(dir);
	ck_assert_int_eq(run_new(st, "p", 1, T0), 3);
	store_close(st);
}
END_TEST

START_TEST(sqlite_errors_are_causes)
{
	const char	*dir = test_dir();
	struct store	*st = test_store_open(dir);
	struct store_run_new rn = { .plan = "p", .source = "s",
	    .plan_text = "t", .backend = "local", .created_ns = T0 };
	sqlite3		*db;
	char		*cause = NULL;
	int64_t		 id = 0;

	/* Another writer holds the lock past the busy timeout. */
	ck_assert_int_eq(sqlite3_open(db_path(dir), &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(store_run_create(st, &rn, &id, &cause), -1);
	ck_assert_msg(cause != NULL && strstr(cause, "locked") != NULL,
	    "cause: %s", cause ? cause : "(null)");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(store_run_create(st, &rn, &id, &cause), 0);
	ck_assert_int_eq(id, 1);

	/* Nothing given where something is needed: a cause, no crash. */
	rn.backend = NULL;
	ck_assert_int_eq(store_run_create(st, &rn, &id, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_run_create(st, NULL, &id, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_sample_add(st, NULL, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_event_add(st, 1, T0, NULL, NULL, NULL, &cause),
	    -1);
	free(cause);
	store_close(st);
}
END_TEST

struct time_case {
	const char	*text;
	int		 rc;
	uint64_t	 ns;
};

START_TEST(time_parse_table)
{
	static const struct time_case cases[] = {
		{ "1970-01-01T00:00:00Z", 0, 0 },
		{ "2026-11-21T10:00:00Z", 0, T0 },
		{ "2026-11-21T10:00:00.123Z", 0, T0 + 123 * MS },
		{ "2026-11-21t10:00:00.123z", 0, T0 + 123 * MS },
		{ "2026-11-21T11:00:00.123+01:00", 0, T0 + 123 * MS },
		{ "2026-11-21T05:30:00.123-04:30", 0, T0 + 123 * MS },
		{ "2026-11-21T10:00:00+00:00", 0, T0 },
		{ "2026-11-21T10:00:00.5Z", 0, T0 + 500 * MS },
		{ "2026-11-21T10:00:00.123456789Z", 0, T0 + 123456789 },
		{ "2026-11-21T10:00:00.1234567899Z", 0, T0 + 123456789 },
		{ "2024-02-29T00:00:00Z", 0, 1709164800 * S },
		{ "2000-02-29T00:00:00Z", 0, 951782400 * S },
		{ "1999-12-31T23:59:59Z", 0, 946684799 * S },
		{ "1999-12-31T23:59:60Z", 0, 946684800 * S },
		{ "1970-01-01T01:00:00+01:00", 0, 0 },
		{ "2023-11-14T23:13:20+01:00", 0, 1700000000 * S },
		{ "1700000000", 0, 1700000000 * S },
		{ "0", 0, 0 },
		{ "0001795255200", 0, T0 },
		{ "18446744073", 0, 18446744073 * S },

		{ "", -1, 0 },
		{ "now", -1, 0 },
		{ "-1", -1, 0 },
		{ "+1", -1, 0 },
		{ " 1", -1, 0 },
		{ "1 ", -1, 0 },
		{ "1.5", -1, 0 },
		{ "18446744074", -1, 0 },
		{ "99999999999999999999999", -1, 0 },
		{ "2026-13-01T00:00:00Z", -1, 0 },
		{ "2026-00-10T00:00:00Z", -1, 0 },
		{ "2026-01-00T00:00:00Z", -1, 0 },
		{ "2026-01-32T00:00:00Z", -1, 0 },
		{ "2026-02-29T00:00:00Z", -1, 0 },
		{ "1900-02-29T00:00:00Z", -1, 0 },
		{ "2026-04-31T00:00:00Z", -1, 0 },
		{ "2026-01-01T24:00:00Z", -1, 0 },
		{ "2026-01-01T00:60:00Z", -1, 0 },
		{ "2026-01-01T00:00:61Z", -1, 0 },
		{ "2026-01-01T00:00:00", -1, 0 },
		{ "2026-01-01 00:00:00Z", -1, 0 },
		{ "2026-01-01T00:00:00Zjunk", -1, 0 },
		{ "2026-01-01T00:00:00Z ", -1, 0 },
		{ "2026-01-01T00:00:00.Z", -1, 0 },
		{ "2026-01-01T00:00:00.12xZ", -1, 0 },
		{ "2026-01-01T00:00:00+0100", -1, 0 },
		{ "2026-01-01T00:00:00+01", -1, 0 },
		{ "2026-01-01T00:00:00+24:00", -1, 0 },
		{ "2026-01-01T00:00:00+01:60", -1, 0 },
		{ "2026-01-01T00:00:00+01:00x", -1, 0 },
		{ "2026-01-01", -1, 0 },
		{ "2026-01-01T", -1, 0 },
		{ "26-01-01T00:00:00Z", -1, 0 },
		{ "2026-1-01T00:00:00Z", -1, 0 },
		{ "2026-01-01T0:00:00Z", -1, 0 },
		{ "1969-12-31T23:59:59Z", -1, 0 },
		{ "1970-01-01T00:30:00+01:00", -1, 0 },
		{ "2600-01-01T00:00:00Z", -1, 0 },
		{ "２０２６-01-01T00:00:00Z", -1, 0 },
	};
	size_t		i;
	uint64_t	ns;
	int		rc;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ns = 12345;
		rc = store_time_parse(cases[i].text, &ns);
		ck_assert_msg(rc == cases[i].rc, "\"%s\": %d, not %d",
		    cases[i].text, rc, cases[i].rc);
		if (rc == 0)
			ck_assert_msg(ns == cases[i].ns, "\"%s\": %" PRIu64
			    ", not %" PRIu64, cases[i].text, ns, cases[i].ns);
	}
	ck_assert_int_eq(store_time_parse(NULL, &ns), -1);
}
END_TEST

START_TEST(time_format_table)
{
	static const struct time_case cases[] = {
		{ "1970-01-01T00:00:00.000Z", 0, 0 },
		{ "2026-11-21T10:00:00.123Z", 0, T0 + 123 * MS + 999999 },
		{ "2023-11-14T22:13:20.123Z", 0, 1700000000123456789ULL },
		{ "2000-02-29T00:00:00.000Z", 0, 951782400 * S },
		{ "1999-12-31T23:59:59.999Z", 0, 946684800 * S - 1 },
		{ "2554-07-21T23:34:33.709Z", 0, UINT64_MAX },
	};
	char		buf[STORE_TIME_MAX];
	uint64_t	ns;
	size_t		i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		store_time_format(cases[i].ns, buf, sizeof buf);
		ck_assert_str_eq(buf, cases[i].text);
		/* What goes out comes back, to the millisecond. */
		ck_assert_int_eq(store_time_parse(buf, &ns), 0);
		ck_assert_uint_eq(ns, cases[i].ns - cases[i].ns % MS);
	}
	/* A short buffer is cut, not overrun. */
	memset(buf, 'x', sizeof buf);
	store_time_format(T0, buf, 5);
	ck_assert_str_eq(buf, "2026");
	ck_assert_int_eq(buf[5], 'x');
}
END_TEST

/* Waits for pid and asserts it died of SIGKILL. */
static void
wait_killed(pid_t pid)
{
	int	status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "child status %#x (exit %d)", status,
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

START_TEST(finish_survives_sigkill)
{
	const char	*dir = test_dir();
	struct store	*st;
	json_t		*r, *sum;
	pid_t		 pid;
	int64_t		 id;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		st = store_open(dir, NULL);
		if (st == NULL)
			_exit(10);
		if (store_run_create(st, &(struct store_run_new){ .plan = "p",
		    .source = "s", .plan_text = "t", .backend = "local",
		    .seed = 9, .created_ns = T0 }, &id, NULL) != 0)
			_exit(11);
		if (store_run_started(st, id, T0 + S, NULL) != 0)
			_exit(12);
		sum = json_pack("{s:{s:i}}", "counters", "ios", 123);
		if (store_run_finish(st, id, "fail", "corruption at 4096",
		    T0 + 2 * S, sum, NULL, NULL) != 0)
			_exit(13);
		/* No close, no exit handlers: as if the power went. */
		raise(SIGKILL);
		_exit(14);
	}
	wait_killed(pid);

	st = test_store_open(dir);
	r = store_run_get(st, 1, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(member_str(r, "status"), "finished");
	ck_assert_str_eq(member_str(r, "verdict"), "fail");
	ck_assert_str_eq(member_str(r, "reason"), "corruption at 4096");
	ck_assert_int_eq(member_int(r, "finished_ns"), (json_int_t)(T0 + 2 * S));
	ck_assert_int_eq(member_int(member(r, "counters", JSON_OBJECT), "ios"),
	    123);
	json_decref(r);
	store_close(st);
}
END_TEST

START_TEST(interrupt_after_sigkill)
{
	const char	*dir = test_dir();
	struct store	*st;
	json_t		*r, *step;
	char		*cause = NULL;
	unsigned	 count = 99;
	pid_t		 pid;
	int64_t		 id;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct store_run_new rn = { .plan = "p", .source = "s",
		    .plan_text = "t", .backend = "local", .created_ns = T0 };
		struct store_step s = { .seq = 0, .path = "0",
		    .action = "hot_add", .started_ns = T0 + S,
		    .outcome = "running" };

		if ((st = store_open(dir, NULL)) == NULL)
			_exit(10);
		/* 1 finished, 2 running with a step under way, 3 queued. */
		if (store_run_create(st, &rn, &id, NULL) != 0 ||
		    store_run_finish(st, id, "pass", "ok", T0 + S, NULL, NULL,
		    NULL) != 0)
			_exit(11);
		if (store_run_create(st, &rn, &id, NULL) != 0 ||
		    store_run_started(st, id, T0 + S, NULL) != 0)
			_exit(12);
		s.run = id;
		if (store_step_put(st, &s, NULL) != 0)
			_exit(13);
		if (store_run_create(st, &rn, &id, NULL) != 0)
			_exit(14);
		raise(SIGKILL);
		_exit(15);
	}
	wait_killed(pid);

	st = test_store_open(dir);
	ck_assert_int_eq(store_interrupt_unfinished(st, T0 + 60 * S, &count,
	    &cause), 0);
	ck_assert_uint_eq(count, 2);

	r = store_run_get(st, 1, &cause);
	ck_assert_str_eq(member_str(r, "verdict"), "pass");
	ck_assert_int_eq(member_int(r, "finished_ns"), (json_int_t)(T0 + S));
	json_decref(r);

	r = store_run_get(st, 2, &cause);
	ck_assert_str_eq(member_str(r, "status"), "finished");
	ck_assert_str_eq(member_str(r, "verdict"), "interrupted");
	ck_assert_msg(strstr(member_str(r, "reason"), "running") != NULL,
	    "reason: %s", member_str(r, "reason"));
	ck_assert_int_eq(member_int(r, "finished_ns"),
	    (json_int_t)(T0 + 60 * S));
	ck_assert_int_eq(member_int(r, "elapsed_ms"), 59000);
	step = json_array_get(member(r, "steps", JSON_ARRAY), 0);
	ck_assert_ptr_nonnull(step);
	ck_assert_str_eq(member_str(step, "outcome"), "cancelled");
	ck_assert_int_eq(member_int(step, "finished_ns"),
	    (json_int_t)(T0 + 60 * S));
	json_decref(r);

	r = store_run_get(st, 3, &cause);
	ck_assert_str_eq(member_str(r, "status"), "finished");
	ck_assert_str_eq(member_str(r, "verdict"), "interrupted");
	ck_assert_msg(strstr(member_str(r, "reason"), "queued") != NULL,
	    "reason: %s", member_str(r, "reason"));
	member(r, "elapsed_ms", JSON_NULL);
	json_decref(r);

	/* Nothing left to interrupt. */
	ck_assert_int_eq(store_interrupt_unfinished(st, T0 + 70 * S, NULL,
	    &cause), 0);
	ck_assert_int_eq(store_interrupt_unfinished(st, T0 + 70 * S, &count,
	    &cause), 0);
	ck_assert_uint_eq(count, 0);
	store_close(st);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc = tcase_create("store");

	tcase_set_timeout(tc, 60);
	/* Unchecked: made and removed once, by the runner, even on failure. */
	tcase_add_unchecked_fixture(tc, test_base_make, test_base_remove);
	tcase_add_test(tc, open_creates_wal_private);
	tcase_add_test(tc, open_refuses_newer_schema);
	tcase_add_test(tc, open_migrates_schema_1);
	tcase_add_test(tc, open_failures);
	tcase_add_test(tc, run_round_trip);
	tcase_add_test(tc, finish_rules);
	tcase_add_test(tc, steps_upsert);
	tcase_add_test(tc, findings_events_samples);
	tcase_add_test(tc, runs_list_filters_and_pages);
	tcase_add_test(tc, unknown_run);
	tcase_add_test(tc, seed_exact);
	tcase_add_test(tc, strings_as_given);
	tcase_add_test(tc, ids_never_reused);
	tcase_add_test(tc, sqlite_errors_are_causes);
	tcase_add_test(tc, time_parse_table);
	tcase_add_test(tc, time_format_table);
	tcase_add_test(tc, finish_survives_sigkill);
	tcase_add_test(tc, interrupt_after_sigkill);
	suite_add_tcase(s, tc);
	return test_run(s);
}
