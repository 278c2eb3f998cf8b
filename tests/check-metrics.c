/* check-metrics.c: GET /metrics: the store's counts and histograms read
 * back exactly, the text checked by promcheck and promtool, and served. */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sqlite3.h>

#include "hotsoak/plan.h"
#include "api.h"
#include "common.h"
#include "metrics.h"
#include "runs.h"
#include "store.h"

#define T0	1795255200000000000ULL	/* 2026-11-21T10:00:00Z */
#define MS	1000000ULL
#define S	1000000000ULL

/* A plan name as users may write one: quote, backslash, newline. */
#define ODD_PLAN	"soak \"nightly\" C:\\vm\nsecond line"
#define ODD_LABEL	"soak \\\"nightly\\\" C:\\\\vm\\nsecond line"

static int64_t
run_add(struct store *st, const char *plan, const char *backend,
    const char *verdict, bool started)
{
	struct store_run_new	 n;
	char			*cause = NULL;
	int64_t			 id;

	memset(&n, 0, sizeof n);
	n.plan = plan;
	n.source = "(request)";
	n.plan_text = "version: 1\n";
	n.seed = 7;
	n.backend = backend;
	n.created_ns = T0;
	ck_assert_msg(store_run_create(st, &n, &id, &cause) == 0, "%s", cause);
	if (started || verdict != NULL)
		ck_assert_msg(store_run_started(st, id, T0 + S, &cause) == 0,
		    "%s", cause);
	if (verdict != NULL)
		ck_assert_msg(store_run_finish(st, id, verdict, "done",
		    T0 + 60 * S, NULL, NULL, &cause) == 0, "%s", cause);
	return id;
}

static void
finding_add(struct store *st, int64_t run, const char *kind)
{
	struct store_finding	 f;
	char			*cause = NULL;

	memset(&f, 0, sizeof f);
	f.run = run;
	f.kind = kind;
	f.title = "something went wrong";
	f.time_ns = T0 + 2 * S;
	f.source = "engine";
	ck_assert_msg(store_finding_add(st, &f, NULL, &cause) == 0, "%s", cause);
}

/* An event whose detail is the JSON text json (stolen parse). */
static void
ev_add(struct store *st, int64_t run, const char *kind, const char *json)
{
	json_error_t	 e;
	json_t		*d;
	char		*cause = NULL;

	d = json_loads(json, 0, &e);
	ck_assert_msg(d != NULL, "%s: %s", json, e.text);
	ck_assert_msg(store_event_add(st, run, T0 + 3 * S, kind, "2 hot_add", d,
	    &cause) == 0, "%s", cause);
	json_decref(d);
}

static void
sample_add(struct store *st, int64_t run, uint64_t interval_ms, uint64_t ios,
    uint64_t bytes, uint64_t p50, uint64_t p99, uint64_t max)
{
	struct store_sample	 s;
	char			*cause = NULL;

	memset(&s, 0, sizeof s);
	s.run = run;
	s.time_ns = T0 + 5 * S;
	s.interval_ms = interval_ms;
	s.ios = ios;
	s.bytes = bytes;
	s.p50_ns = p50;
	s.p90_ns = p50;
	s.p99_ns = p99;
	s.p999_ns = p99;
	s.max_ns = max;
	s.inflight = 4;
	s.workers = 2;
	ck_assert_msg(store_sample_add(st, &s, &cause) == 0, "%s", cause);
}

/* A row the store itself would never write: detail that is not JSON. */
static void
raw_event(const char *dir, int64_t run, const char *kind, const char *detail)
{
	sqlite3	*db;
	char	 path[PATH_MAX], *sql;

	snprintf(path, sizeof path, "%s/%s", dir, STORE_FILE);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sql = sqlite3_mprintf("INSERT INTO events (run, time_ns, kind, detail) "
	    "VALUES (%lld, 1, %Q, %Q)", (long long)run, kind, detail);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK,
	    "%s", sqlite3_errmsg(db));
	sqlite3_free(sql);
	sqlite3_close(db);
}

/*
 * The store every exact test reads: five finished runs, a queued one,
 * three running (one with samples, one idle, one not sampled yet),
 * findings, hot-adds and replaces with known figures.
 */
struct fixture {
	int64_t	pass1, running, idle, unsampled;
};

static void
fixture_fill(const char *dir, struct store *st, struct fixture *fx)
{
	fx->pass1 = run_add(st, "smoke", "local", "pass", true);
	run_add(st, "smoke", "local", "pass", true);
	run_add(st, "smoke", "qemu", "fail", true);
	run_add(st, "smoke", "qemu", "error", true);
	run_add(st, "smoke", "local", "aborted", true);
	run_add(st, "smoke", "local", NULL, false);	/* queued */
	fx->running = run_add(st, ODD_PLAN, "qemu", NULL, true);
	fx->idle = run_add(st, "idle", "local", NULL, true);
	fx->unsampled = run_add(st, "fresh", "local", NULL, true);

	finding_add(st, fx->pass1, "io_timeout");
	finding_add(st, fx->running, "io_timeout");
	finding_add(st, fx->running, "corruption");
	/* A kind this build does not know still shows. */
	finding_add(st, fx->running, "from_the_future");

	/* cpu: 30, 50 (on a bound: in it), 120, 700 ms; one without a number. */
	ev_add(st, fx->running, "hot_add_seen",
	    "{\"unit\": \"cpu\", \"online\": 2, \"latency_ms\": 30}");
	ev_add(st, fx->running, "hot_add_seen",
	    "{\"unit\": \"cpu\", \"online\": 3, \"latency_ms\": 50}");
	ev_add(st, fx->running, "hot_add_seen",
	    "{\"unit\": \"cpu\", \"online\": 4, \"latency_ms\": 120}");
	ev_add(st, fx->pass1, "hot_add_seen",
	    "{\"unit\": \"cpu\", \"online\": 2, \"latency_ms\": 700}");
	ev_add(st, fx->pass1, "hot_add_seen",
	    "{\"unit\": \"cpu\", \"online\": 2, \"latency_ms\": \"fast\"}");
	/* memory: 2.6 s and 70 s, past the last bound. */
	ev_add(st, fx->running, "hot_add_seen",
	    "{\"unit\": \"memory\", \"online\": 1024, \"latency_ms\": 2600}");
	ev_add(st, fx->running, "hot_add_seen",
	    "{\"unit\": \"memory\", \"online\": 2048, \"latency_ms\": 70000}");
	/* The command itself is not the guest seeing it. */
	ev_add(st, fx->running, "hot_add",
	    "{\"unit\": \"cpu\", \"count\": 1, \"latency_ms\": 5}");
	raw_event(dir, fx->running, "hot_add_seen", "{not json");

	/* qemu: the host's own hold and the guest's stall. */
	ev_add(st, fx->running, "replace", "{\"unit\": \"memory\", "
	    "\"method\": \"pseudo_s4\", \"outage_ms\": 3000, \"held_ms\": 3010, "
	    "\"resume\": {\"qmp\": \"cont\", \"host_held_ms\": 3005}, "
	    "\"stall_ms\": 2900}");
	/* local: the freezer's hold, no stall. */
	ev_add(st, fx->pass1, "replace", "{\"unit\": \"memory\", "
	    "\"method\": \"quiesce\", \"outage_ms\": 1000, \"held_ms\": 1003, "
	    "\"resume\": {\"held_ms\": 1000}}");
	/* Only the engine's measure. */
	ev_add(st, fx->pass1, "replace", "{\"unit\": \"cpu\", \"method\": "
	    "\"quiesce\", \"outage_ms\": 500, \"held_ms\": 520}");
	/* Not a completed replace. */
	ev_add(st, fx->running, "replace",
	    "{\"event\": \"resume failed\", \"code\": \"timeout\"}");

	/* Only the latest sample counts. */
	sample_add(st, fx->running, 1000, 1, 4096, 1, 1, 1);
	sample_add(st, fx->running, 2000, 5000, 20971520, 1500000, 8000000,
	    250000000);
	sample_add(st, fx->idle, 1000, 0, 0, 0, 0, 0);
}

/* Renders the metrics of st; the caller frees. */
static char *
render(struct store *st, unsigned active)
{
	struct store_metrics	*m;
	struct metrics_info	 info;
	char			*text, *cause = NULL;
	size_t			 len;

	m = store_metrics_read(st, &cause);
	ck_assert_msg(m != NULL, "store_metrics_read: %s", cause);
	info.version = "1.2.3-test";
	info.active_runs = active;
	text = metrics_render(m, &info, &len, &cause);
	ck_assert_msg(text != NULL, "metrics_render: %s", cause);
	ck_assert_uint_eq(strlen(text), len);
	store_metrics_free(m);
	return text;
}

/* Is line, whole, a line of text? */
static bool
has_line(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

/*
 * Check's messages are short: the exposition a failure is about goes to
 * stderr, the reason into the message.
 */
#define ck_text(cond, text, ...) do {					\
	if (!(cond))							\
		fprintf(stderr, "--- the exposition:\n%s---\n", (text));	\
	ck_assert_msg((cond), __VA_ARGS__);				\
} while (0)
#define ck_line(text, line) \
	ck_text(has_line((text), (line)), (text), "no line `%s`", (line))

/* The path of a program the build made, under $top_builddir. */
static const char *
builtpath(const char *rel)
{
	static char	 buf[2 * PATH_MAX + 2];
	const char	*top = getenv("top_builddir");

	snprintf(buf, sizeof buf, "%s/%s", top != NULL ? top : ".", rel);
	return buf;
}

/* text into a new file under test_base; static buffer with its path. */
static const char *
spill(const char *text, size_t len)
{
	static char	path[PATH_MAX];
	int		fd;

	snprintf(path, sizeof path, "%s/expo.XXXXXX", test_base);
	ck_assert_int_ge(fd = mkstemp(path), 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* argv's exit status on len bytes of text; *out its words (allocated). */
static int
spawn_text(const char *const argv[], const char *text, size_t len,
    char **out)
{
	const char	*in = spill(text, len);
	int		 rc;

	rc = test_spawn(argv, in, 1, out);
	unlink(in);
	return rc;
}

/* promcheck's exit status on len bytes of text; *out its words. */
static int
promcheck_n(const char *text, size_t len, char **out)
{
	const char	*argv[] = { builtpath("tests/promcheck"), NULL };

	return spawn_text(argv, text, len, out);
}

static int
promcheck(const char *text, char **out)
{
	return promcheck_n(text, strlen(text), out);
}

/*
 * promtool, from $PROMTOOL, the PATH, or tests/cache (make fetches it
 * there); NULL when there is none, with why in *why.
 */
static const char *
promtool_find(char *why, size_t len)
{
	static char	 path[2 * PATH_MAX + 2];
	const char	*env = getenv("PROMTOOL"), *p, *e;
	char		 skip[2 * PATH_MAX + 2];
	FILE		*f;
	size_t		 n;

	if (env != NULL && *env != '\0')
		return env;
	for (p = getenv("PATH"); p != NULL && *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ":");
		snprintf(path, sizeof path, "%.*s/promtool", (int)(e - p), p);
		if (access(path, X_OK) == 0)
			return path;
	}
	snprintf(path, sizeof path, "%s", builtpath("tests/cache/promtool"));
	if (access(path, X_OK) == 0)
		return path;
	snprintf(why, len, "promtool is not in PATH nor in tests/cache "
	    "(`make tests/cache/promtool` fetches it)");
	snprintf(skip, sizeof skip, "%s", builtpath("tests/cache/promtool.skip"));
	if ((f = fopen(skip, "r")) != NULL) {
		n = fread(why, 1, len - 1, f);
		why[n] = '\0';
		why[strcspn(why, "\n")] = '\0';
		fclose(f);
	}
	return NULL;
}

/*
 * promtool check metrics on text: true with its exit status in *rc and
 * its words in *out (allocated). Without promtool, false having said
 * SKIP (for who) and why.
 */
static bool
promtool(const char *who, const char *text, int *rc, char **out)
{
	const char	*argv[] = { NULL, "check", "metrics", NULL };
	char		 why[512];

	if ((argv[0] = promtool_find(why, sizeof why)) == NULL) {
		printf("SKIP: %s: %s\n", who, why);
		return false;
	}
	*rc = spawn_text(argv, text, strlen(text), out);
	return true;
}

/*
 * promtool check metrics on text: every complaint, lint included, fails.
 * Without promtool the strict checker alone stands.
 */
static void
promtool_ok(const char *text)
{
	char	*out = NULL;
	int	 rc;

	if (!promtool("promtool check metrics", text, &rc, &out))
		return;
	ck_text(rc == 0 && out[strspn(out, " \n")] == '\0', text,
	    "promtool check metrics: exit %d: %.1000s", rc, out);
	free(out);
}

static void
exposition_ok(const char *text)
{
	char	*out = NULL;
	int	 rc;

	rc = promcheck(text, &out);
	ck_text(rc == 0, text, "promcheck: exit %d: %.1000s", rc, out);
	free(out);
	promtool_ok(text);
}

/*
 * A store in a fresh folder, filled with the fixture (*st; the caller
 * closes it), rendered with active runs in flight: the text, which the
 * caller frees (exposition_done does both).
 */
static char *
fixture_render(struct store **st, struct fixture *fx, unsigned active)
{
	const char	*dir = test_dir();

	*st = test_store_open(dir);
	fixture_fill(dir, *st, fx);
	return render(*st, active);
}

/* Every bucket line of buckets, each prefix then its "le" and count. */
static void
ck_buckets(const char *t, const char *prefix, const char *const *buckets)
{
	char	line[256];
	size_t	i;

	for (i = 0; buckets[i] != NULL; i++) {
		snprintf(line, sizeof line, "%s%s", prefix, buckets[i]);
		ck_line(t, line);
	}
}

/* t checked as an exposition, then t freed and st closed. */
static void
exposition_done(char *t, struct store *st)
{
	exposition_ok(t);
	free(t);
	store_close(st);
}

START_TEST(counts_exact)
{
	struct store	*st;
	struct fixture	 fx;
	char		*t;

	t = fixture_render(&st, &fx, 2);

	ck_line(t, "hotsoak_up 1");
	ck_line(t, "hotsoak_build_info{version=\"1.2.3-test\"} 1");
	ck_line(t, "hotsoak_runs{status=\"queued\"} 1");
	ck_line(t, "hotsoak_runs{status=\"running\"} 3");
	ck_line(t, "hotsoak_runs{status=\"finished\"} 5");
	ck_line(t, "hotsoak_runs_total{verdict=\"pass\"} 2");
	ck_line(t, "hotsoak_runs_total{verdict=\"fail\"} 1");
	ck_line(t, "hotsoak_runs_total{verdict=\"error\"} 1");
	ck_line(t, "hotsoak_runs_total{verdict=\"aborted\"} 1");
	ck_line(t, "hotsoak_runs_total{verdict=\"interrupted\"} 0");
	ck_line(t, "hotsoak_findings_total{kind=\"io_timeout\"} 2");
	ck_line(t, "hotsoak_findings_total{kind=\"corruption\"} 1");
	ck_line(t, "hotsoak_findings_total{kind=\"bugcheck\"} 0");
	ck_line(t, "hotsoak_findings_total{kind=\"backend_error\"} 0");
	ck_line(t, "hotsoak_findings_total{kind=\"from_the_future\"} 1");
	ck_line(t, "hotsoak_active_runs 2");
	ck_line(t, "hotsoak_active_targets{backend=\"local\"} 2");
	ck_line(t, "hotsoak_active_targets{backend=\"qemu\"} 1");
	ck_line(t, "hotsoak_active_targets{backend=\"libvirt\"} 0");
	ck_line(t, "# TYPE hotsoak_runs_total counter");
	ck_line(t, "# TYPE hotsoak_runs gauge");
	exposition_done(t, st);
}
END_TEST

START_TEST(running_run_samples)
{
	struct store	*st;
	struct fixture	 fx;
	char		*t, line[512];

	t = fixture_render(&st, &fx, 3);

	/* 20 MiB and 5000 I/Os in 2 s; the earlier sample is not it. */
	snprintf(line, sizeof line, "hotsoak_run_io_bytes_per_second{run=\"%"
	    PRId64 "\",plan=\"" ODD_LABEL "\"} 10485760", fx.running);
	ck_line(t, line);
	snprintf(line, sizeof line, "hotsoak_run_io_ops_per_second{run=\"%"
	    PRId64 "\",plan=\"" ODD_LABEL "\"} 2500", fx.running);
	ck_line(t, line);
	snprintf(line, sizeof line, "hotsoak_run_io_latency_seconds{run=\"%"
	    PRId64 "\",plan=\"" ODD_LABEL "\",quantile=\"0.5\"} 0.0015",
	    fx.running);
	ck_line(t, line);
	snprintf(line, sizeof line, "hotsoak_run_io_latency_seconds{run=\"%"
	    PRId64 "\",plan=\"" ODD_LABEL "\",quantile=\"0.99\"} 0.008",
	    fx.running);
	ck_line(t, line);
	snprintf(line, sizeof line, "hotsoak_run_io_latency_seconds{run=\"%"
	    PRId64 "\",plan=\"" ODD_LABEL "\",quantile=\"1\"} 0.25",
	    fx.running);
	ck_line(t, line);
	ck_line(t, "# TYPE hotsoak_run_io_latency_seconds summary");

	/* Idle: no I/O in its interval, so rates of 0 and no latency. */
	snprintf(line, sizeof line, "hotsoak_run_io_ops_per_second{run=\"%"
	    PRId64 "\",plan=\"idle\"} 0", fx.idle);
	ck_line(t, line);
	snprintf(line, sizeof line, "{run=\"%" PRId64 "\",plan=\"idle\","
	    "quantile=", fx.idle);
	ck_text(strstr(t, line) == NULL, t, "latency of an idle run");
	/* No sample yet: nothing. */
	snprintf(line, sizeof line, "{run=\"%" PRId64 "\"", fx.unsampled);
	ck_text(strstr(t, line) == NULL, t, "a run without samples");
	/* Finished runs are not live. */
	snprintf(line, sizeof line, "{run=\"%" PRId64 "\"", fx.pass1);
	ck_text(strstr(t, line) == NULL, t, "a finished run");
	exposition_done(t, st);
}
END_TEST

START_TEST(hot_add_histogram)
{
	static const char *const cpu[] = {
		"0.05\"} 2", "0.1\"} 2", "0.25\"} 3", "0.5\"} 3", "1\"} 4",
		"2.5\"} 4", "5\"} 4", "10\"} 4", "30\"} 4", "60\"} 4",
		"+Inf\"} 4", NULL
	};
	static const char *const mem[] = {
		"0.05\"} 0", "1\"} 0", "2.5\"} 0", "5\"} 1", "60\"} 1",
		"+Inf\"} 2", NULL
	};
	struct store	*st;
	struct fixture	 fx;
	char		*t;

	t = fixture_render(&st, &fx, 0);
	/* Five seen, one of them without a latency to put in a bucket. */
	ck_line(t, "hotsoak_hot_add_operations_total{unit=\"cpu\"} 5");
	ck_line(t, "hotsoak_hot_add_operations_total{unit=\"memory\"} 2");
	ck_line(t, "hotsoak_hot_add_operations_total{unit=\"io_bridge\"} 0");
	ck_line(t, "# TYPE hotsoak_hot_add_latency_seconds histogram");
	ck_buckets(t, "hotsoak_hot_add_latency_seconds_bucket"
	    "{unit=\"cpu\",le=\"", cpu);
	ck_line(t, "hotsoak_hot_add_latency_seconds_sum{unit=\"cpu\"} 0.9");
	ck_line(t, "hotsoak_hot_add_latency_seconds_count{unit=\"cpu\"} 4");
	ck_buckets(t, "hotsoak_hot_add_latency_seconds_bucket"
	    "{unit=\"memory\",le=\"", mem);
	ck_line(t, "hotsoak_hot_add_latency_seconds_sum{unit=\"memory\"} 72.6");
	ck_line(t, "hotsoak_hot_add_latency_seconds_count{unit=\"memory\"} 2");
	ck_line(t, "hotsoak_hot_add_latency_seconds_bucket{unit=\"io_bridge\","
	    "le=\"+Inf\"} 0");
	ck_line(t, "hotsoak_hot_add_latency_seconds_sum{unit=\"io_bridge\"} 0");
	exposition_done(t, st);
}
END_TEST

START_TEST(replace_histograms)
{
	static const char *const held[] = {
		"0.5\"} 0", "1\"} 2", "2.5\"} 2", "5\"} 3", "60\"} 3",
		"+Inf\"} 3", NULL
	};
	static const char *const stall[] = {
		"2.5\"} 0", "5\"} 1", "+Inf\"} 1", NULL
	};
	struct store	*st;
	struct fixture	 fx;
	char		*t;

	t = fixture_render(&st, &fx, 0);
	ck_line(t, "hotsoak_replace_operations_total 3");
	/* The host's 3005 and 1000 ms where it told, the engine's 520. */
	ck_buckets(t, "hotsoak_replace_held_seconds_bucket{le=\"", held);
	ck_line(t, "hotsoak_replace_held_seconds_sum 4.525");
	ck_line(t, "hotsoak_replace_held_seconds_count 3");
	ck_buckets(t, "hotsoak_replace_stall_seconds_bucket{le=\"", stall);
	ck_line(t, "hotsoak_replace_stall_seconds_sum 2.9");
	ck_line(t, "hotsoak_replace_stall_seconds_count 1");
	exposition_done(t, st);
}
END_TEST

START_TEST(empty_store)
{
	const char	*dir = test_dir();
	struct store	*st = test_store_open(dir);
	char		*t;

	t = render(st, 0);
	ck_line(t, "hotsoak_runs{status=\"running\"} 0");
	ck_line(t, "hotsoak_runs_total{verdict=\"pass\"} 0");
	ck_line(t, "hotsoak_replace_operations_total 0");
	ck_line(t, "hotsoak_replace_held_seconds_bucket{le=\"+Inf\"} 0");
	ck_line(t, "hotsoak_replace_held_seconds_count 0");
	ck_line(t, "hotsoak_active_runs 0");
	ck_line(t, "# TYPE hotsoak_run_io_bytes_per_second gauge");
	exposition_done(t, st);
}
END_TEST

/* Plan names are any bytes: the text stays UTF-8 and escaped. */
START_TEST(label_values_escaped)
{
	const char	*dir = test_dir();
	struct store	*st = test_store_open(dir);
	int64_t		 id;
	char		*t, line[256];

	id = run_add(st, "caf\xe9 \xe2\x82\xac", "local", NULL, true);
	sample_add(st, id, 1000, 10, 40960, 1000, 2000, 3000);
	t = render(st, 1);
	snprintf(line, sizeof line, "hotsoak_run_io_ops_per_second{run=\"%"
	    PRId64 "\",plan=\"caf\xef\xbf\xbd \xe2\x82\xac\"} 10", id);
	ck_line(t, line);
	exposition_done(t, st);
}
END_TEST

START_TEST(floats_round_trip)
{
	static const struct {
		double		 v;
		const char	*text;
	} cases[] = {
		{ 0.05, "0.05" }, { 10, "10" }, { 60, "60" }, { 0, "0" },
		{ 0.0015, "0.0015" }, { 1e300, "1e+300" }, { -2.5, "-2.5" },
		{ 1.0 / 3, "0.3333333333333333" }, { 1e-7, "1e-07" },
		{ 308257825.8258258, "308257825.8258258" },
	};
	static const char *const locales[] = {
		"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "ru_RU.UTF-8", NULL
	};
	char	buf[METRICS_FLOAT_MAX];
	size_t	i;
	int	l;

	metrics_float(NAN, buf, sizeof buf);
	ck_assert_str_eq(buf, "NaN");
	metrics_float(INFINITY, buf, sizeof buf);
	ck_assert_str_eq(buf, "+Inf");
	metrics_float(-INFINITY, buf, sizeof buf);
	ck_assert_str_eq(buf, "-Inf");
	/* A decimal comma in the process's locale changes nothing. */
	for (l = -1; l < 0 || locales[l] != NULL; l++) {
		if (l >= 0 && setlocale(LC_NUMERIC, locales[l]) == NULL)
			continue;
		for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			metrics_float(cases[i].v, buf, sizeof buf);
			ck_assert_str_eq(buf, cases[i].text);
		}
	}
	setlocale(LC_NUMERIC, "C");
}
END_TEST

/* Expositions promcheck must refuse, and the reason it gives. */
static const struct {
	const char	*name;
	const char	*text;
	const char	*error;
} bad_cases[] = {
	{ "duplicate series",
	  "# TYPE a gauge\na{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n",
	  "LINE 3: a second sample of the same series" },
	{ "buckets not cumulative",
	  "# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"2\"} 3\n"
	  "h_bucket{le=\"+Inf\"} 5\nh_sum 4\nh_count 5\n",
	  "LINE 3: histogram h: buckets are not cumulative" },
	{ "buckets not cumulative in le order",
	  "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 5\nh_bucket{le=\"2\"} 3\n"
	  "h_bucket{le=\"0.5\"} 4\nh_sum 4\nh_count 5\n",
	  "LINE 3: histogram h: buckets are not cumulative" },
	{ "bad escape",
	  "# TYPE a gauge\na{x=\"\\t\"} 1\n",
	  "LINE 2: label x: bad escape \\t" },
	{ "bad escape in HELP",
	  "# HELP a the \\\"a\\\"\n# TYPE a gauge\na 1\n",
	  "LINE 1: HELP text escapes only" },
	{ "+Inf is not _count",
	  "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
	  "h_sum 4\nh_count 3\n",
	  "histogram h: _count 3 is not the le=\"+Inf\" bucket's 2" },
	{ "no +Inf bucket",
	  "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 4\nh_count 1\n",
	  "LINE 2: histogram h: a series without an le=\"+Inf\" bucket" },
	{ "no _sum",
	  "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
	  "histogram h: a series without _sum" },
	{ "bucket without le",
	  "# TYPE h histogram\nh_bucket 1\n",
	  "LINE 2: histogram h: a bucket without le" },
	{ "no final newline",
	  "# TYPE a gauge\na 1",
	  "LINE 2: the last line has no newline" },
	{ "TYPE after samples",
	  "a 1\n# TYPE a gauge\n",
	  "LINE 2: TYPE of a after its samples" },
	{ "TYPE twice",
	  "# TYPE a gauge\n# TYPE a gauge\na 1\n",
	  "LINE 2: a second TYPE" },
	{ "HELP twice",
	  "# HELP a x\n# HELP a y\na 1\n",
	  "LINE 2: a second HELP" },
	{ "family split",
	  "# TYPE a gauge\na{x=\"1\"} 1\n# TYPE b gauge\nb 1\na{x=\"2\"} 1\n",
	  "LINE 5: the lines of a are not together" },
	{ "bad metric name",
	  "# TYPE a gauge\n1a 1\n",
	  "LINE 2: bad metric name" },
	{ "bad character in a name",
	  "a-b 1\n",
	  "LINE 1: expected a blank and the value after a" },
	{ "reserved label name",
	  "a{__name__=\"b\"} 1\n",
	  "LINE 1: label __name__: names starting __ are reserved" },
	{ "label name with a colon",
	  "a{x:y=\"b\"} 1\n",
	  "LINE 1: label x: no '='" },
	{ "label twice",
	  "a{x=\"1\",x=\"2\"} 1\n",
	  "LINE 1: label x given twice" },
	{ "unterminated value",
	  "a{x=\"1} 1\n",
	  "LINE 1: label x: the value has no closing quote" },
	{ "bad value",
	  "a 1.2.3\n",
	  "LINE 1: the value of a is not a float" },
	{ "word for a value",
	  "a infinity\n",
	  "LINE 1: the value of a is not a float" },
	{ "float timestamp",
	  "a 1 1.5\n",
	  "LINE 1: the timestamp of a is not an integer" },
	{ "counter without _total",
	  "# TYPE requests counter\nrequests 1\n",
	  "LINE 1: counter requests is not named *_total" },
	{ "negative counter",
	  "# TYPE r_total counter\nr_total -1\n",
	  "LINE 2: counter r_total is -1" },
	{ "le on a gauge",
	  "# TYPE a gauge\na{le=\"1\"} 1\n",
	  "LINE 2: a: le is a histogram bucket's label" },
	{ "quantile on a gauge",
	  "# TYPE a gauge\na{quantile=\"0.5\"} 1\n",
	  "LINE 2: a: quantile is a summary's label" },
	{ "summary quantile out of range",
	  "# TYPE s summary\ns{quantile=\"1.5\"} 1\n",
	  "LINE 2: summary s: a quantile label from 0 to 1" },
	{ "unknown type",
	  "# TYPE a meter\na 1\n",
	  "LINE 1: unknown TYPE `meter`" },
	{ "not UTF-8",
	  "a{x=\"caf\xe9\"} 1\n",
	  "LINE 1: a label value is not UTF-8" },
	{ "carriage return",
	  "a 1\r\n",
	  "LINE 1: the value of a is not a float" },
};

START_TEST(promcheck_rejects)
{
	char	*out = NULL;
	int	 rc;

	rc = promcheck(bad_cases[_i].text, &out);
	ck_assert_msg(rc == 1, "%s: exit %d (%s)", bad_cases[_i].name, rc, out);
	ck_assert_msg(strstr(out, bad_cases[_i].error) != NULL,
	    "%s: `%s` wanted, got `%s`", bad_cases[_i].name,
	    bad_cases[_i].error, out);
	free(out);
}
END_TEST

/* What the format allows, at its edges: promcheck must not refuse it. */
START_TEST(promcheck_accepts)
{
	static const char	 good[] =
	    "# A comment, and an empty line next.\n"
	    "\n"
	    "# HELP a_total Escapes: \\\\ and \\n; \"quotes\" are plain here.\n"
	    "# TYPE a_total counter\n"
	    "a_total{path=\"C:\\\\x\",q=\"say \\\"hi\\\"\",nl=\"1\\n2\",} 3 "
	    "1700000000000\n"
	    "a_total{path=\"\"} +Inf\n"
	    "# TYPE g gauge\n"
	    "g NaN\n"
	    "g{x=\"1\"} -Inf -5\n"
	    "g{x=\"2\"}\t1.5e-3\n"
	    "ns:with_colon 2\n"
	    "# TYPE h histogram\n"
	    "h_bucket{a=\"x\",le=\"0.5\"} 1\n"
	    "h_bucket{a=\"x\",le=\"+Inf\"} 3\n"
	    "h_bucket{a=\"x\",le=\"1\"} 2\n"
	    "h_sum{a=\"x\"} 2.5\n"
	    "h_count{a=\"x\"} 3\n"
	    "h_bucket{a=\"y\",le=\"+Inf\"} 0\n"
	    "h_sum{a=\"y\"} 0\n"
	    "h_count{a=\"y\"} 0\n"
	    "# TYPE s summary\n"
	    "s{quantile=\"0.99\"} 1\n"
	    "s_sum 10\n"
	    "s_count 4\n"
	    "# TYPE e gauge\n";
	char	*out = NULL;
	int	 rc;

	rc = promcheck(good, &out);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	free(out);
	rc = promcheck("", &out);
	ck_assert_msg(rc == 0, "empty: exit %d: %s", rc, out);
	free(out);
	/* A NUL is never text. */
	rc = promcheck_n("a 1\nb\0 2\n", 9, &out);
	ck_assert_msg(rc == 1 && strstr(out, "LINE 2: a NUL byte") != NULL,
	    "exit %d: %s", rc, out);
	free(out);
}
END_TEST

/* promtool, when there is one, refuses what promcheck refuses. */
START_TEST(promtool_rejects_broken)
{
	char	*out = NULL;
	int	 rc;

	if (!promtool("promtool_rejects_broken", bad_cases[0].text, &rc, &out))
		return;
	ck_assert_msg(rc != 0, "promtool took a duplicate series: %s", out);
	free(out);
}
END_TEST

/* The API: GET /metrics through evhttp, as a scraper sees it. */
struct reply {
	int		 status;
	char		*ctype;
	char		*body;
	bool		 done;
};

static void
reply_cb(struct evhttp_request *req, void *arg)
{
	struct reply	*r = arg;
	struct evbuffer	*in;
	const char	*ct;
	size_t		 n;

	r->done = true;
	if (req == NULL)
		return;
	r->status = evhttp_request_get_response_code(req);
	ct = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	r->ctype = ct != NULL ? strdup(ct) : NULL;
	in = evhttp_request_get_input_buffer(req);
	n = evbuffer_get_length(in);
	r->body = calloc(1, n + 1);
	evbuffer_remove(in, r->body, n);
}

static void
fetch(struct event_base *eb, uint16_t port, enum evhttp_cmd_type m,
    struct reply *r)
{
	struct evhttp_connection	*conn;
	struct evhttp_request		*req;

	memset(r, 0, sizeof *r);
	conn = evhttp_connection_base_new(eb, NULL, "127.0.0.1", port);
	ck_assert_ptr_nonnull(conn);
	req = evhttp_request_new(reply_cb, r);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
	    "127.0.0.1");
	ck_assert_int_eq(evhttp_make_request(conn, req, m, "/metrics"), 0);
	while (!r->done)
		event_base_loop(eb, EVLOOP_ONCE);
	evhttp_connection_free(conn);
}

static void
reply_free(struct reply *r)
{
	free(r->ctype);
	free(r->body);
}

START_TEST(served_over_http)
{
	static const char	 plan[] = "version: 1\nname: served\nseed: 1\n"
	    "target:\n  backend: local\nsteps:\n  - wait: 1s\n";
	const char		*dir = test_dir();
	struct event_base	*eb;
	struct store		*st;
	struct runs		*runs;
	struct api		*api;
	struct runs_config	 rc;
	struct api_config	 ac;
	struct plan_diags	 d;
	struct plan_file	*pf;
	struct reply		 r1, r2;
	char			*cause = NULL, *bound = NULL;
	int64_t			 id;
	uint16_t		 port;

	ck_assert_ptr_nonnull(eb = event_base_new());
	st = test_store_open(dir);
	memset(&rc, 0, sizeof rc);
	rc.state_dir = dir;
	ck_assert_ptr_nonnull(runs = runs_new(eb, st, &rc, &cause));
	memset(&ac, 0, sizeof ac);
	ac.version = "9.9.9-test";
	api = api_new(eb, st, runs, NULL, &ac, &cause);
	ck_assert_msg(api != NULL, "api_new: %s", cause);
	ck_assert_msg(api_listen(api, "127.0.0.1:0", &bound, &cause) == 0,
	    "api_listen: %s", cause);
	port = (uint16_t)atoi(strrchr(bound, ':') + 1);

	fetch(eb, port, EVHTTP_REQ_GET, &r1);
	ck_assert_int_eq(r1.status, 200);
	ck_assert_str_eq(r1.ctype, "text/plain; version=0.0.4; charset=utf-8");
	ck_line(r1.body, "hotsoak_up 1");
	ck_line(r1.body, "hotsoak_build_info{version=\"9.9.9-test\"} 1");
	ck_line(r1.body, "hotsoak_active_runs 0");
	exposition_ok(r1.body);

	/* Nothing written: the same text. */
	fetch(eb, port, EVHTTP_REQ_GET, &r2);
	ck_assert_str_eq(r2.body, r1.body);
	reply_free(&r2);

	/* A run in flight and a finding: both show at once. */
	plan_diags_init(&d);
	pf = test_load(plan, &d);
	ck_assert_msg(pf != NULL, "%s", d.n ? d.v[0].message : "?");
	plan_diags_free(&d);
	ck_assert_msg(runs_submit(runs, pf, plan, &id, &cause) == 0, "%s",
	    cause);
	finding_add(st, id, "hang");
	fetch(eb, port, EVHTTP_REQ_GET, &r2);
	ck_assert_int_eq(r2.status, 200);
	ck_line(r2.body, "hotsoak_active_runs 1");
	ck_line(r2.body, "hotsoak_active_targets{backend=\"local\"} 1");
	ck_line(r2.body, "hotsoak_findings_total{kind=\"hang\"} 1");
	ck_line(r2.body, "hotsoak_runs{status=\"running\"} 1");
	exposition_ok(r2.body);
	reply_free(&r2);

	/* HEAD: the headers alone. */
	fetch(eb, port, EVHTTP_REQ_HEAD, &r2);
	ck_assert_int_eq(r2.status, 200);
	ck_assert_str_eq(r2.ctype, "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_str_eq(r2.body, "");
	reply_free(&r2);

	/* Read-only: anything else is a JSON 405. */
	fetch(eb, port, EVHTTP_REQ_POST, &r2);
	ck_assert_int_eq(r2.status, 405);
	ck_assert_str_eq(r2.ctype, "application/json");
	ck_assert_ptr_nonnull(strstr(r2.body, "method not allowed"));
	reply_free(&r2);

	reply_free(&r1);
	api_free(api);
	runs_free(runs);
	store_close(st);
	event_base_loop(eb, EVLOOP_NONBLOCK);
	event_base_free(eb);
	free(bound);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc;

	/* Unchecked: made and removed once per case, by the runner. */
	tc = tcase_create("store");
	tcase_add_unchecked_fixture(tc, test_base_make, test_base_remove);
	tcase_add_test(tc, counts_exact);
	tcase_add_test(tc, running_run_samples);
	tcase_add_test(tc, hot_add_histogram);
	tcase_add_test(tc, replace_histograms);
	tcase_add_test(tc, empty_store);
	tcase_add_test(tc, label_values_escaped);
	tcase_add_test(tc, floats_round_trip);
	suite_add_tcase(s, tc);
	tc = tcase_create("checker");
	tcase_add_unchecked_fixture(tc, test_base_make, test_base_remove);
	tcase_add_loop_test(tc, promcheck_rejects, 0,
	    (int)(sizeof bad_cases / sizeof bad_cases[0]));
	tcase_add_test(tc, promcheck_accepts);
	tcase_add_test(tc, promtool_rejects_broken);
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_add_unchecked_fixture(tc, test_base_make, test_base_remove);
	tcase_add_test(tc, served_over_http);
	suite_add_tcase(s, tc);
	return test_run(s);
}
