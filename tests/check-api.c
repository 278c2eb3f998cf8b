/* check-api.c: the REST API on loopback with a real store and fake runs:
 * routes, errors, auth, body limits, the plans folder, campaigns, reruns,
 * reports, the OpenAPI paths. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <yaml.h>

#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "api-int.h"
#include "campaigns.h"
#include "plans-dir.h"
#include "reruns.h"
#include "runner.h"
#include "runs.h"
#include "store.h"
#include "fake-runner.h"

#define DEADLINE_MS	15000		/* one exchange with the server */
#define MIB		(1024 * 1024)
#define JOBS_MAX	64		/* runs of the held runner, a test */
/* The clock campaigns see: 2026-11-21T10:00:00Z, a Saturday. */
#define CAMPAIGN_NOW	((time_t)1795255200)

static char	base[1024];		/* removed after the tests */

/*
 * A run that campaigns and reruns made through the held runner: in the
 * store as running until the test ends it, or an abort does.
 */
struct job {
	int64_t		 id;
	bool		 live;		/* not finished in the store */
	bool		 told;		/* its done callback was called */
	void		(*done)(void *, int64_t, const char *);
	void		*arg;
	const char	*verdict;
};

/* One server: its folder, store, fake runs, plans folder and API. */
struct fx {
	char			 dir[1200];
	char			 plans_dir[1300];
	struct event_base	*base;
	struct store		*store;
	struct runs		*runs;
	struct plans_dir	*plans;
	struct campaigns	*campaigns;
	struct reruns		*reruns;
	struct runner		 runner;
	struct job		 jobs[JOBS_MAX];
	size_t			 njobs;
	struct event		*tell;		/* tells the runs aborted */
	struct api		*api;
	char			*bound;
	uint16_t		 port;
};
static struct fx	fx;

struct fx_opts {
	const char	*token;
	size_t		 body_max;
	unsigned	 max_active;
	bool		 no_plans;
	bool		 campaigns;	/* and reruns, on the held runner */
};

/* One HTTP response as read off the wire. */
struct resp {
	int		 status;
	char		 head[16384];
	char		*body;
	size_t		 len;
	json_t		*json;
};

static const char *
srcpath(const char *rel)
{
	static char	 buf[2 * PATH_MAX + 2];
	const char	*top = getenv("top_srcdir");

	snprintf(buf, sizeof buf, "%s/%s", top != NULL ? top : ".", rel);
	return buf;
}

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
base_make(void)
{
	const char	*tmp = getenv("TMPDIR");

	snprintf(base, sizeof base, "%s/check-api.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(base));
}

static int
base_remove_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	return remove(path);
}

static void
base_remove(void)
{
	if (base[0] != '\0')
		nftw(base, base_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The whole of a file; allocated, NUL-terminated. */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	long	 n;

	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static void
spew(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* Copies the shipped plans into dir. */
static void
copy_plans(const char *dir)
{
	static const char *const names[] = {
		"libvirt-hotadd.yaml", "local-smoke.yaml", "local-soak.yaml",
		"nightly.yaml", "qemu-attach.yaml", "qemu-hot-replace.yaml",
		"qemu-hotadd.yaml", NULL
	};
	char	path[PATH_MAX], *text;
	size_t	i;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	for (i = 0; names[i] != NULL; i++) {
		snprintf(path, sizeof path, "plans/%s", names[i]);
		text = slurp(srcpath(path), NULL);
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		spew(path, text);
		free(text);
	}
}

/*
 * The held runner: what the run set does for campaigns and reruns, but a
 * run only ends when the test ends it (job_end) or it is aborted.
 */
static int
held_submit(void *arg, struct plan_file *pf, const char *text,
    const struct runs_submit_opts *o, int64_t *id, char **cause)
{
	struct job		*j;

	ck_assert_uint_lt(fx.njobs, JOBS_MAX);
	if (fake_runner_record(fx.store, pf, NULL, text, o, id, cause) == -1)
		return -1;
	j = &fx.jobs[fx.njobs++];
	memset(j, 0, sizeof *j);
	j->id = *id;
	j->live = true;
	j->done = o->done;
	j->arg = o->arg;
	return 0;
}

/* Finishes job j in the store, with a finding titled finding if not NULL. */
static void
job_record(struct job *j, const char *verdict, const char *finding)
{
	struct store_finding	 f;
	char			*cause = NULL;

	ck_assert(j->live);
	if (finding != NULL) {
		memset(&f, 0, sizeof f);
		f.run = j->id;
		f.kind = "io_timeout";
		f.title = finding;
		f.time_ns = clock_wall_ns();
		f.source = "agent";
		ck_assert_msg(store_finding_add(fx.store, &f, NULL, &cause) == 0,
		    "finding: %s", cause);
	}
	ck_assert_msg(store_run_finish(fx.store, j->id, verdict, "held",
	    clock_wall_ns(), NULL, NULL, &cause) == 0, "finish: %s", cause);
	j->live = false;
	j->verdict = verdict;
}

/* Ends job j now and tells its owner, as the run set does once recorded. */
static void
job_end(struct job *j, const char *verdict, const char *finding)
{
	if (j == NULL) {
		ck_abort_msg("no run is in flight to end");
		return;
	}
	job_record(j, verdict, finding);
	j->told = true;
	j->done(j->arg, j->id, verdict);
}

/* Aborted runs are told from the loop, never from inside the abort. */
static void
held_tell(evutil_socket_t fd, short what, void *arg)
{
	struct job	*j;
	size_t		 i;

	for (i = 0; i < fx.njobs; i++) {
		j = &fx.jobs[i];
		if (!j->live && !j->told) {
			j->told = true;
			j->done(j->arg, j->id, j->verdict);
		}
	}
}

static int
held_abort(void *arg, int64_t id)
{
	struct timeval	 now = { 0, 0 };
	size_t		 i;

	for (i = 0; i < fx.njobs; i++)
		if (fx.jobs[i].id == id && fx.jobs[i].live) {
			job_record(&fx.jobs[i], "aborted", NULL);
			evtimer_add(fx.tell, &now);
			return 0;
		}
	return 1;
}

static time_t
campaign_now(void *arg)
{
	return CAMPAIGN_NOW;
}

/* The first job still running, or NULL. */
static struct job *
job_live(void)
{
	size_t	i;

	for (i = 0; i < fx.njobs; i++)
		if (fx.jobs[i].live)
			return &fx.jobs[i];
	return NULL;
}

static unsigned
jobs_live(void)
{
	unsigned	n = 0;
	size_t		i;

	for (i = 0; i < fx.njobs; i++)
		n += fx.jobs[i].live;
	return n;
}

/* Runs the loop until no campaign run or rerun is in flight. */
static void
settle(void)
{
	uint64_t	end = now_ms() + DEADLINE_MS;

	while ((campaigns_active(fx.campaigns) > 0 ||
	    reruns_active(fx.reruns) > 0) && now_ms() < end)
		event_base_loop(fx.base, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(campaigns_active(fx.campaigns), 0);
	ck_assert_uint_eq(reruns_active(fx.reruns), 0);
}

static void
fx_start(const struct fx_opts *o)
{
	struct campaigns_config	 cc;
	struct runs_config	 rc;
	struct api_config	 ac;
	char			*cause = NULL, *colon;

	memset(&fx, 0, sizeof fx);
	snprintf(fx.dir, sizeof fx.dir, "%s/t.XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(fx.dir));
	snprintf(fx.plans_dir, sizeof fx.plans_dir, "%s/plans", fx.dir);
	copy_plans(fx.plans_dir);

	ck_assert_ptr_nonnull(fx.base = event_base_new());
	fx.store = store_open(fx.dir, &cause);
	ck_assert_msg(fx.store != NULL, "store_open: %s", cause);
	memset(&rc, 0, sizeof rc);
	rc.state_dir = fx.dir;
	rc.max_active = o != NULL ? o->max_active : 0;
	ck_assert_ptr_nonnull(fx.runs = runs_new(fx.base, fx.store, &rc,
	    &cause));
	if (o == NULL || !o->no_plans) {
		fx.plans = plans_dir_open(fx.plans_dir, &cause);
		ck_assert_msg(fx.plans != NULL, "plans_dir_open: %s", cause);
	}
	if (o != NULL && o->campaigns) {
		/* Schedules in UTC, on a clock that stands still. */
		setenv("TZ", "UTC", 1);
		tzset();
		fx.runner.submit = held_submit;
		fx.runner.abort = held_abort;
		ck_assert_ptr_nonnull(fx.tell = evtimer_new(fx.base, held_tell,
		    NULL));
		memset(&cc, 0, sizeof cc);
		cc.runner = &fx.runner;
		cc.now = campaign_now;
		fx.campaigns = campaigns_new(fx.base, fx.store, fx.plans, &cc,
		    &cause);
		ck_assert_msg(fx.campaigns != NULL, "campaigns_new: %s", cause);
		fx.reruns = reruns_new(fx.base, fx.store, &fx.runner,
		    fx.plans_dir, &cause);
		ck_assert_msg(fx.reruns != NULL, "reruns_new: %s", cause);
	}
	memset(&ac, 0, sizeof ac);
	ac.campaigns = fx.campaigns;
	ac.reruns = fx.reruns;
	ac.token = o != NULL ? o->token : NULL;
	ac.body_max = o != NULL ? o->body_max : 0;
	ac.version = "9.9.9-test";
	ac.state_dir = fx.dir;
	fx.api = api_new(fx.base, fx.store, fx.runs, fx.plans, &ac, &cause);
	ck_assert_msg(fx.api != NULL, "api_new: %s", cause);
	ck_assert_msg(api_listen(fx.api, "127.0.0.1:0", &fx.bound, &cause) ==
	    0, "api_listen: %s", cause);
	ck_assert_msg(strncmp(fx.bound, "127.0.0.1:", 10) == 0, "bound %s",
	    fx.bound);
	colon = strrchr(fx.bound, ':');
	fx.port = (uint16_t)atoi(colon + 1);
	ck_assert_uint_ne(fx.port, 0);
}

static void
fx_stop(void)
{
	api_free(fx.api);
	/* What the loop still owes them, before they go. */
	if (fx.tell != NULL)
		event_free(fx.tell);
	event_base_loop(fx.base, EVLOOP_NONBLOCK);
	campaigns_free(fx.campaigns);
	reruns_free(fx.reruns);
	runs_free(fx.runs);
	plans_dir_free(fx.plans);
	store_close(fx.store);
	/* Let libevent finish what the frees left for the loop. */
	event_base_loop(fx.base, EVLOOP_NONBLOCK);
	event_base_free(fx.base);
	free(fx.bound);
	memset(&fx, 0, sizeof fx);
}

/* Runs the server for a moment, then waits a little for fd. */
static void
pump(int fd, short events)
{
	struct pollfd	p;

	event_base_loop(fx.base, EVLOOP_NONBLOCK);
	p.fd = fd;
	p.events = events;
	p.revents = 0;
	poll(&p, 1, 1);
	event_base_loop(fx.base, EVLOOP_NONBLOCK);
}

static int
cl_open(void)
{
	struct sockaddr_in	sin;
	int			fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(fx.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		ck_assert_int_eq(errno, EINPROGRESS);
	return fd;
}

/* Writes all of buf while the server runs; -1 when the server hung up. */
static int
cl_write_try(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	uint64_t	 end = now_ms() + DEADLINE_MS;
	size_t		 off = 0;
	ssize_t		 n;

	while (off < len) {
		n = send(fd, p + off, len - off, MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else if (n == -1 && errno != EAGAIN && errno != EINPROGRESS &&
		    errno != ENOTCONN && errno != EINTR)
			return -1;
		if (off < len)
			pump(fd, POLLOUT);
		ck_assert_msg(now_ms() < end, "send timed out at %zu of %zu",
		    off, len);
	}
	return 0;
}

static void
cl_write(int fd, const void *buf, size_t len)
{
	ck_assert_msg(cl_write_try(fd, buf, len) == 0, "send: %s",
	    strerror(errno));
}

/* Up to len bytes; 0 at end of file, -1 on a reset, waiting until end. */
static ssize_t
cl_recv(int fd, void *buf, size_t len, uint64_t end)
{
	ssize_t	n;

	for (;;) {
		n = recv(fd, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno == ECONNRESET)
			return -1;
		ck_assert_msg(errno == EAGAIN || errno == EINTR || errno ==
		    ENOTCONN, "recv: %s", strerror(errno));
		if (now_ms() >= end)
			return -2;
		pump(fd, POLLIN);
	}
}

static void
resp_free(struct resp *r)
{
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof *r);
}

/* The value of header name in r (a static copy), or NULL. */
static const char *
resp_header(const struct resp *r, const char *name)
{
	static char	 value[4096];
	const char	*p = strstr(r->head, "\r\n"), *v, *e;
	size_t		 len = strlen(name);

	while (p != NULL && p[2] != '\0') {
		p += 2;
		if (strncasecmp(p, name, len) == 0 && p[len] == ':') {
			v = p + len + 1;
			v += strspn(v, " ");
			e = strstr(v, "\r\n");
			snprintf(value, sizeof value, "%.*s", (int)(e - v), v);
			return value;
		}
		p = strstr(p, "\r\n");
	}
	return NULL;
}

/*
 * Reads one response, byte by byte up to its body so a pipelined one after
 * it stays unread. false when the connection ended before any byte.
 */
static bool
cl_read(int fd, struct resp *r, bool head_only)
{
	uint64_t	 end = now_ms() + DEADLINE_MS;
	size_t		 n = 0, want, got = 0;
	const char	*cl, *ct;
	json_error_t	 jerr;
	ssize_t		 k;

	memset(r, 0, sizeof *r);
	while (n < 4 || memcmp(r->head + n - 4, "\r\n\r\n", 4) != 0) {
		ck_assert_uint_lt(n, sizeof r->head - 1);
		k = cl_recv(fd, r->head + n, 1, end);
		ck_assert_msg(k != -2, "no response in time (%zu bytes: %.*s)",
		    n, (int)n, r->head);
		if (k <= 0) {
			ck_assert_msg(n == 0, "connection ended in a head: %.*s",
			    (int)n, r->head);
			return false;
		}
		n++;
	}
	r->head[n] = '\0';
	ck_assert_msg(sscanf(r->head, "HTTP/1.1 %d ", &r->status) == 1,
	    "status line: %s", r->head);
	cl = resp_header(r, "Content-Length");
	ck_assert_msg(cl != NULL, "no Content-Length: %s", r->head);
	want = head_only ? 0 : (size_t)strtoul(cl, NULL, 10);
	r->body = calloc(1, want + 1);
	ck_assert_ptr_nonnull(r->body);
	while (got < want) {
		k = cl_recv(fd, r->body + got, want - got, end);
		ck_assert_msg(k > 0, "body cut at %zu of %zu", got, want);
		got += (size_t)k;
	}
	r->len = want;
	ct = resp_header(r, "Content-Type");
	if (!head_only && ct != NULL && strcmp(ct, "application/json") == 0) {
		r->json = json_loadb(r->body, r->len, 0, &jerr);
		ck_assert_msg(r->json != NULL, "reply is not JSON: %s: %s",
		    jerr.text, r->body);
	}
	return true;
}

/* Does the server close fd within the deadline? */
static bool
cl_closed(int fd)
{
	uint64_t	end = now_ms() + DEADLINE_MS;
	char		buf[65536];
	ssize_t		k;

	for (;;) {
		k = cl_recv(fd, buf, sizeof buf, end);
		if (k == 0 || k == -1)
			return true;
		if (k == -2)
			return false;
	}
}

/* One request on a connection of its own. extra: more header lines. */
static void
http(struct resp *r, const char *method, const char *path, const char *extra,
    const void *body, size_t len)
{
	char	head[8192];
	int	fd = cl_open();

	if (body != NULL)
		snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: test\r\n%s"
		    "Content-Length: %zu\r\n\r\n", method, path, extra != NULL ?
		    extra : "", len);
	else
		snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: test\r\n"
		    "%s\r\n", method, path, extra != NULL ? extra : "");
	cl_write(fd, head, strlen(head));
	if (body != NULL)
		cl_write(fd, body, len);
	ck_assert_msg(cl_read(fd, r, strcmp(method, "HEAD") == 0),
	    "%s %s: no reply", method, path);
	close(fd);
}

static void
get(struct resp *r, const char *path)
{
	http(r, "GET", path, NULL, NULL, 0);
}

static void
post_yaml(struct resp *r, const char *text)
{
	http(r, "POST", API_PREFIX "/runs", "Content-Type: application/yaml\r\n",
	    text, strlen(text));
}

static void
post_json(struct resp *r, const char *json)
{
	http(r, "POST", API_PREFIX "/runs", "Content-Type: application/json\r\n",
	    json, strlen(json));
}

static const char *
jstr(const json_t *j, const char *key)
{
	const json_t	*v = json_object_get(j, key);

	ck_assert_msg(json_is_string(v), "`%s` is not a string", key);
	return json_string_value(v);
}

static json_int_t
jint(const json_t *j, const char *key)
{
	const json_t	*v = json_object_get(j, key);

	ck_assert_msg(json_is_integer(v), "`%s` is not an integer", key);
	return json_integer_value(v);
}

/* r is a JSON error reply with this status and error. */
#define ck_error(r, code, err) do {					\
	ck_assert_msg((r)->status == (code), "status %d, want %d: %s",	\
	    (r)->status, (code), (r)->body);				\
	ck_assert_str_eq(resp_header((r), "Content-Type"),		\
	    "application/json");					\
	ck_assert_msg(json_is_object((r)->json), "no JSON: %s", (r)->body); \
	ck_assert_str_eq(jstr((r)->json, "error"), (err));		\
	ck_assert_msg(strlen(jstr((r)->json, "detail")) > 0, "no detail"); \
} while (0)

#define ck_status(r, code) ck_assert_msg((r)->status == (code),	\
	"status %d, want %d: %s", (r)->status, (code), (r)->body)

/* GET path answers code with error err. */
#define ck_get_error(path, code, err) do {				\
	struct resp	r_;						\
									\
	get(&r_, (path));						\
	ck_error(&r_, (code), (err));					\
	resp_free(&r_);							\
} while (0)

/* GET path answers 400 "bad parameter", naming parameter param. */
#define ck_bad_parameter(path, param) do {				\
	struct resp	r_;						\
									\
	get(&r_, (path));						\
	ck_error(&r_, 400, "bad parameter");				\
	ck_assert_str_eq(jstr(r_.json, "parameter"), (param));		\
	resp_free(&r_);							\
} while (0)

/* The text of plans/name; allocated, the caller frees. */
static char *
plan_text(const char *name)
{
	char	path[PATH_MAX];

	snprintf(path, sizeof path, "plans/%s", name);
	return slurp(srcpath(path), NULL);
}

/* Starts a run of plans/name; returns its id. */
static int64_t
start_run(const char *name)
{
	struct resp	 r;
	char		*text = plan_text(name);
	int64_t		 id;

	post_yaml(&r, text);
	free(text);
	ck_status(&r, 201);
	id = jint(r.json, "id");
	resp_free(&r);
	return id;
}

/* runs */

START_TEST(post_yaml_created)
{
	struct resp	 r, g;
	char		*text = plan_text("local-smoke.yaml");
	static const char *const ctypes[] = {
		"", "Content-Type: text/plain\r\n",
		"Content-Type: TEXT/YAML; charset=utf-8\r\n",
		"Content-Type: application/x-yaml\r\n",
		"Content-Type: text/x-yaml\r\n", NULL
	};
	size_t		 i;

	fx_start(NULL);
	post_yaml(&r, text);
	ck_status(&r, 201);
	ck_assert_str_eq(resp_header(&r, "Location"), "/api/v1/runs/1");
	ck_assert_str_eq(resp_header(&r, "Content-Type"), "application/json");
	ck_assert_str_eq(resp_header(&r, "Cache-Control"), "no-store");
	ck_assert_int_eq(jint(r.json, "id"), 1);
	ck_assert_str_eq(jstr(r.json, "plan"), "local-smoke");
	ck_assert_int_eq(jint(r.json, "seed"), 1);
	ck_assert_str_eq(jstr(r.json, "source"), "request.yaml");
	ck_assert_str_eq(jstr(r.json, "status"), "running");
	ck_assert_str_eq(jstr(r.json, "backend"), "local");

	/* The Location answers with the same run. */
	get(&g, resp_header(&r, "Location"));
	ck_status(&g, 200);
	ck_assert_int_eq(jint(g.json, "id"), 1);
	ck_assert_str_eq(jstr(g.json, "plan"), "local-smoke");
	resp_free(&g);
	resp_free(&r);

	/* Every YAML media type, and none, is a plan. */
	for (i = 0; ctypes[i] != NULL; i++) {
		http(&r, "POST", API_PREFIX "/runs", ctypes[i], text,
		    strlen(text));
		ck_status(&r, 201);
		ck_assert_int_eq(jint(r.json, "id"), (json_int_t)i + 2);
		resp_free(&r);
	}
	free(text);
	fx_stop();
}
END_TEST

START_TEST(post_yaml_invalid)
{
	struct resp	 r;
	const json_t	*e;

	fx_start(NULL);
	post_yaml(&r, "version: 1\nname: bad\nsteps:\n  - wiat: 2s\n");
	ck_error(&r, 400, "invalid plan");
	ck_assert_str_eq(jstr(r.json, "detail"), "request.yaml:4:5: error: "
	    "unknown step `wiat`; did you mean `wait`?");
	e = json_array_get(json_object_get(r.json, "errors"), 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jstr(e, "file"), "request.yaml");
	ck_assert_int_eq(jint(e, "line"), 4);
	ck_assert_int_eq(jint(e, "column"), 5);
	ck_assert_msg(strstr(jstr(e, "message"), "wiat") != NULL, "message");
	resp_free(&r);

	/* A YAML syntax error, located. */
	post_yaml(&r, "version: 1\nname: \"bad\nsteps: []\n");
	ck_error(&r, 400, "invalid plan");
	e = json_array_get(json_object_get(r.json, "errors"), 0);
	ck_assert_int_eq(jint(e, "line"), 2);
	ck_assert_int_eq(jint(e, "column"), 7);
	resp_free(&r);

	/* Several errors, all listed in file order. */
	post_yaml(&r, "version: 1\nname: bad\nseed: -1\nsteps:\n  - wiat: 2s\n");
	ck_error(&r, 400, "invalid plan");
	ck_assert_uint_ge(json_array_size(json_object_get(r.json, "errors")), 2);
	ck_assert_int_eq(jint(json_array_get(json_object_get(r.json,
	    "errors"), 0), "line"), 3);
	resp_free(&r);

	/* Empty, binary, and not UTF-8. */
	post_yaml(&r, "");
	ck_error(&r, 400, "invalid plan");
	resp_free(&r);
	http(&r, "POST", API_PREFIX "/runs", NULL, "version: 1\0\n", 12);
	ck_error(&r, 400, "invalid plan");
	resp_free(&r);
	post_yaml(&r, "version: 1\nname: \xff\xfe\n");
	ck_error(&r, 400, "invalid plan");
	resp_free(&r);

	/* A campaign is not a run. */
	post_yaml(&r, "version: 1\nkind: campaign\nname: c\nplans: "
	    "[local-smoke.yaml]\n");
	ck_error(&r, 400, "not a plan");
	resp_free(&r);

	/* Nothing was started. */
	get(&r, API_PREFIX "/runs");
	ck_status(&r, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "runs")), 0);
	resp_free(&r);
	fx_stop();
}
END_TEST

START_TEST(post_named)
{
	struct resp	 r;
	char		 path[PATH_MAX], json[512], name[300];
	const json_t	*e;

	fx_start(NULL);
	post_json(&r, "{\"plan\": \"local-smoke\"}");
	ck_status(&r, 201);
	ck_assert_str_eq(jstr(r.json, "plan"), "local-smoke");
	snprintf(path, sizeof path, "%s/local-smoke.yaml", fx.plans_dir);
	ck_assert_str_eq(jstr(r.json, "source"), path);
	ck_assert_str_eq(resp_header(&r, "Location"), "/api/v1/runs/1");
	resp_free(&r);

	/* The text recorded is the file's. */
	{
		char	*want = slurp(path, NULL), *cause = NULL;
		char	*got = store_run_plan_text(fx.store, 1, &cause);

		ck_assert_ptr_nonnull(got);
		ck_assert_str_eq(got, want);
		free(got);
		free(want);
	}

	http(&r, "POST", API_PREFIX "/runs",
	    "Content-Type: application/json; charset=utf-8\r\n",
	    "{\"plan\":\"local-soak.yaml\"}", 26);
	ck_status(&r, 201);
	ck_assert_str_eq(jstr(r.json, "plan"), "local-soak");
	resp_free(&r);

	/* Names that reach outside the folder, or are no names. */
	post_json(&r, "{\"plan\": \"../etc/passwd\"}");
	ck_error(&r, 400, "bad plan name");
	resp_free(&r);
	post_json(&r, "{\"plan\": \"a/b\"}");
	ck_error(&r, 400, "bad plan name");
	resp_free(&r);
	post_json(&r, "{\"plan\": \".hidden\"}");
	ck_error(&r, 400, "bad plan name");
	resp_free(&r);
	post_json(&r, "{\"plan\": \"local-smoke\\u0000x\"}");
	ck_error(&r, 400, "bad plan name");
	resp_free(&r);
	post_json(&r, "{\"plan\": \"a\\u0001b\"}");
	ck_error(&r, 400, "bad plan name");
	resp_free(&r);
	post_json(&r, "{\"plan\": \"\"}");
	ck_error(&r, 400, "bad plan name");
	resp_free(&r);
	memset(name, 'a', 200);
	name[200] = '\0';
	snprintf(json, sizeof json, "{\"plan\": \"%s\"}", name);
	post_json(&r, json);
	ck_error(&r, 400, "bad plan name");
	resp_free(&r);

	/* Unknown, a campaign, and a file that does not load. */
	post_json(&r, "{\"plan\": \"nope\"}");
	ck_error(&r, 404, "not found");
	ck_assert_msg(strstr(jstr(r.json, "detail"), "nope") != NULL, "detail");
	resp_free(&r);
	post_json(&r, "{\"plan\": \"nightly\"}");
	ck_error(&r, 400, "not a plan");
	resp_free(&r);
	snprintf(path, sizeof path, "%s/broken.yaml", fx.plans_dir);
	spew(path, "version: 1\nname: broken\nsteps:\n  - wiat: 2s\n");
	post_json(&r, "{\"plan\": \"broken\"}");
	ck_error(&r, 400, "invalid plan");
	e = json_array_get(json_object_get(r.json, "errors"), 0);
	ck_assert_str_eq(jstr(e, "file"), path);
	ck_assert_int_eq(jint(e, "line"), 4);
	resp_free(&r);

	/* JSON of another shape. */
	post_json(&r, "{\"plan\": 5}");
	ck_error(&r, 400, "bad request");
	resp_free(&r);
	post_json(&r, "{\"plan\": \"local-smoke\", \"seed\": 3}");
	ck_error(&r, 400, "bad request");
	resp_free(&r);
	post_json(&r, "[\"local-smoke\"]");
	ck_error(&r, 400, "bad request");
	resp_free(&r);
	post_json(&r, "{\"plan\": \"local-smoke\", \"plan\": \"x\"}");
	ck_error(&r, 400, "bad request");
	resp_free(&r);
	post_json(&r, "version: 1\n");
	ck_error(&r, 400, "bad request");
	resp_free(&r);
	fx_stop();
}
END_TEST

START_TEST(post_named_without_plans_dir)
{
	struct fx_opts	o = { .no_plans = true };
	struct resp	r;

	fx_start(&o);
	post_json(&r, "{\"plan\": \"local-smoke\"}");
	ck_error(&r, 404, "not found");
	resp_free(&r);
	get(&r, API_PREFIX "/plans");
	ck_status(&r, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "plans")),
	    0);
	resp_free(&r);
	fx_stop();
}
END_TEST

START_TEST(post_media_types)
{
	struct resp	 r;
	char		*text = plan_text("local-smoke.yaml");

	fx_start(NULL);
	http(&r, "POST", API_PREFIX "/runs", "Content-Type: text/html\r\n",
	    text, strlen(text));
	ck_error(&r, 415, "unsupported media type");
	resp_free(&r);
	http(&r, "POST", API_PREFIX "/runs",
	    "Content-Type: application/xml\r\n", text, strlen(text));
	ck_error(&r, 415, "unsupported media type");
	resp_free(&r);
	http(&r, "POST", API_PREFIX "/runs",
	    "Content-Type: multipart/form-data; boundary=x\r\n", text,
	    strlen(text));
	ck_error(&r, 415, "unsupported media type");
	resp_free(&r);
	free(text);
	fx_stop();
}
END_TEST

START_TEST(busy_when_full)
{
	struct fx_opts	 o = { .max_active = 1 };
	struct resp	 r;
	char		*text = plan_text("local-smoke.yaml");

	fx_start(&o);
	post_yaml(&r, text);
	ck_status(&r, 201);
	resp_free(&r);
	post_yaml(&r, text);
	ck_error(&r, 503, "busy");
	resp_free(&r);
	free(text);
	fx_stop();
}
END_TEST

START_TEST(get_unknown_ids)
{
	static const char *const bad[] = {
		"0", "01", "-1", "+1", "abc", "1.0", "1e3", "%31", "0x1",
		"99999999999999999999", "9223372036854775808", "1%00", NULL
	};
	static const char *const missing[] = {
		API_PREFIX "/runs/9223372036854775807",
		/* The pages of a run that does not exist. */
		API_PREFIX "/runs/2/findings",
		API_PREFIX "/runs/2/events",
		API_PREFIX "/runs/2/samples",
		/* Paths the server does not know. */
		"/", API_PREFIX "/runs/", API_PREFIX "//runs",
		API_PREFIX "/runs/1/nope", "/api/v2/runs",
		NULL
	};
	struct resp	r;
	char		path[256];
	size_t		i;

	fx_start(NULL);
	start_run("local-smoke.yaml");
	get(&r, API_PREFIX "/runs/99");
	ck_error(&r, 404, "not found");
	ck_assert_str_eq(jstr(r.json, "detail"), "no run 99");
	resp_free(&r);
	for (i = 0; bad[i] != NULL; i++) {
		snprintf(path, sizeof path, API_PREFIX "/runs/%s", bad[i]);
		ck_get_error(path, 404, "not found");
		snprintf(path, sizeof path, API_PREFIX "/runs/%s/findings",
		    bad[i]);
		ck_get_error(path, 404, "not found");
	}
	for (i = 0; missing[i] != NULL; i++) {
		ck_get_error(missing[i], 404, "not found");
	}
	fx_stop();
}
END_TEST

START_TEST(run_pages)
{
	struct store_finding	 f;
	struct store_sample	 s;
	struct resp		 r;
	char			*cause = NULL;
	const json_t		*a;
	int64_t			 fid;

	fx_start(NULL);
	start_run("local-smoke.yaml");
	memset(&f, 0, sizeof f);
	f.run = 1;
	f.kind = "warning";
	f.title = "one";
	f.time_ns = 1;
	f.source = "agent";
	ck_assert_int_eq(store_finding_add(fx.store, &f, &fid, &cause), 0);
	f.title = "two";
	f.time_ns = 2;
	ck_assert_int_eq(store_finding_add(fx.store, &f, &fid, &cause), 0);
	ck_assert_int_eq(store_event_add(fx.store, 1, 3, "hot_add", "1 hot_add",
	    NULL, &cause), 0);
	memset(&s, 0, sizeof s);
	s.run = 1;
	s.time_ns = 4;
	s.ios = 7;
	ck_assert_int_eq(store_sample_add(fx.store, &s, &cause), 0);

	get(&r, API_PREFIX "/runs/1/findings");
	ck_status(&r, 200);
	ck_assert_int_eq(jint(r.json, "run"), 1);
	a = json_object_get(r.json, "findings");
	ck_assert_uint_eq(json_array_size(a), 2);
	ck_assert_str_eq(jstr(json_array_get(a, 0), "title"), "one");
	resp_free(&r);
	get(&r, API_PREFIX "/runs/1/findings?limit=1");
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "findings")),
	    1);
	resp_free(&r);
	get(&r, API_PREFIX "/runs/1/findings?after=1&limit=500");
	a = json_object_get(r.json, "findings");
	ck_assert_uint_eq(json_array_size(a), 1);
	ck_assert_str_eq(jstr(json_array_get(a, 0), "title"), "two");
	resp_free(&r);
	get(&r, API_PREFIX "/runs/1/events");
	ck_status(&r, 200);
	ck_assert_str_eq(jstr(json_array_get(json_object_get(r.json, "events"),
	    0), "kind"), "hot_add");
	resp_free(&r);
	get(&r, API_PREFIX "/runs/1/samples?after=0");
	ck_status(&r, 200);
	ck_assert_int_eq(jint(json_array_get(json_object_get(r.json,
	    "samples"), 0), "ios"), 7);
	resp_free(&r);

	/* The run counts its findings. */
	get(&r, API_PREFIX "/runs/1");
	ck_assert_int_eq(jint(json_object_get(r.json, "findings"), "total"), 2);
	resp_free(&r);

	ck_bad_parameter(API_PREFIX "/runs/1/events?after=-1", "after");
	ck_bad_parameter(API_PREFIX "/runs/1/samples?limit=501", "limit");
	ck_bad_parameter(API_PREFIX "/runs/1/findings?status=running",
	    "status");
	fx_stop();
}
END_TEST

/* The ids of a list reply, as "3,2,1". */
static const char *
list_ids(const struct resp *r)
{
	static char	 buf[256];
	const json_t	*runs = json_object_get(r->json, "runs"), *v;
	size_t		 i, n = 0;

	ck_assert_msg(json_is_array(runs), "no runs: %s", r->body);
	buf[0] = '\0';
	json_array_foreach(runs, i, v)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%" JSON_INTEGER_FORMAT,
		    i ? "," : "", jint(v, "id"));
	return buf;
}

START_TEST(list_filters_and_pages)
{
	struct resp	 r;
	char		*cause = NULL, path[256], when[STORE_TIME_MAX];
	bool		 already;

	fx_start(NULL);
	start_run("local-smoke.yaml");
	start_run("local-soak.yaml");
	start_run("local-smoke.yaml");
	ck_assert_int_eq(store_run_finish(fx.store, 1, "pass", "all good",
	    clock_wall_ns(), NULL, &already, &cause), 0);

	get(&r, API_PREFIX "/runs");
	ck_status(&r, 200);
	ck_assert_str_eq(list_ids(&r), "3,2,1");
	ck_assert(json_is_null(json_object_get(r.json, "next")));
	resp_free(&r);
	get(&r, API_PREFIX "/runs?status=running");
	ck_assert_str_eq(list_ids(&r), "3,2");
	resp_free(&r);
	get(&r, API_PREFIX "/runs?status=finished&verdict=pass");
	ck_assert_str_eq(list_ids(&r), "1");
	resp_free(&r);
	get(&r, API_PREFIX "/runs?verdict=fail");
	ck_assert_str_eq(list_ids(&r), "");
	resp_free(&r);
	get(&r, API_PREFIX "/runs?plan=local-soak");
	ck_assert_str_eq(list_ids(&r), "2");
	resp_free(&r);
	get(&r, API_PREFIX "/runs?plan=local%2Dsmoke");
	ck_assert_str_eq(list_ids(&r), "3,1");
	resp_free(&r);

	/* Pages: limit, then next as before. */
	get(&r, API_PREFIX "/runs?limit=2");
	ck_assert_str_eq(list_ids(&r), "3,2");
	ck_assert_int_eq(jint(r.json, "next"), 2);
	resp_free(&r);
	get(&r, API_PREFIX "/runs?limit=2&before=2");
	ck_assert_str_eq(list_ids(&r), "1");
	ck_assert(json_is_null(json_object_get(r.json, "next")));
	resp_free(&r);

	/* since: unix seconds and RFC 3339. */
	get(&r, API_PREFIX "/runs?since=0");
	ck_assert_str_eq(list_ids(&r), "3,2,1");
	resp_free(&r);
	store_time_format(clock_wall_ns() + 3600ULL * 1000000000ULL, when,
	    sizeof when);
	snprintf(path, sizeof path, API_PREFIX "/runs?since=%s", when);
	get(&r, path);
	ck_status(&r, 200);
	ck_assert_str_eq(list_ids(&r), "");
	resp_free(&r);
	get(&r, API_PREFIX "/runs?since=2000-01-01T00:00:00%2B01:00");
	ck_assert_str_eq(list_ids(&r), "3,2,1");
	resp_free(&r);
	fx_stop();
}
END_TEST

START_TEST(list_bad_parameters)
{
	static const struct {
		const char	*query;
		const char	*param;
	} bad[] = {
		{ "limit=0", "limit" },
		{ "limit=501", "limit" },
		{ "limit=abc", "limit" },
		{ "limit=01", "limit" },
		{ "limit=-1", "limit" },
		{ "limit=", "limit" },
		{ "limit", "limit" },
		{ "limit=99999999999999999999999", "limit" },
		{ "status=done", "status" },
		{ "status=RUNNING", "status" },
		{ "verdict=passed", "verdict" },
		{ "plan=../x", "plan" },
		{ "plan=", "plan" },
		{ "since=yesterday", "since" },
		{ "since=2026-13-01T00:00:00Z", "since" },
		{ "before=0", "before" },
		{ "before=x", "before" },
		{ "page=2", "page" },
		{ "limit=1&limit=2", "limit" },
		{ "LIMIT=1", "LIMIT" },
		{ NULL, NULL }
	};
	struct resp	r;
	char		path[512];
	size_t		i;

	fx_start(NULL);
	for (i = 0; bad[i].query != NULL; i++) {
		snprintf(path, sizeof path, API_PREFIX "/runs?%s", bad[i].query);
		get(&r, path);
		ck_error(&r, 400, "bad parameter");
		ck_assert_msg(strcmp(jstr(r.json, "parameter"), bad[i].param) ==
		    0, "%s: parameter %s", bad[i].query, jstr(r.json,
		    "parameter"));
		ck_assert_msg(strstr(jstr(r.json, "detail"), bad[i].param) !=
		    NULL, "%s: detail %s", bad[i].query, jstr(r.json, "detail"));
		resp_free(&r);
	}
	/* A NUL, too many parameters, and parameters where none are taken. */
	ck_get_error(API_PREFIX "/runs?plan=a%00b", 400, "bad parameter");
	ck_get_error(API_PREFIX "/runs?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9"
	    "&j=10&k=11&l=12&m=13&n=14&o=15&p=16&q=17", 400, "bad parameter");
	ck_bad_parameter("/healthz?verbose=1", "verbose");
	ck_get_error(API_PREFIX "/plans?x", 400, "bad parameter");
	/* Harmless separators are not parameters. */
	get(&r, API_PREFIX "/runs?&limit=5&");
	ck_status(&r, 200);
	resp_free(&r);
	fx_stop();
}
END_TEST

START_TEST(methods_not_allowed)
{
	struct resp	r;

	fx_start(NULL);
	http(&r, "PUT", API_PREFIX "/runs", NULL, "x", 1);
	ck_error(&r, 405, "method not allowed");
	ck_assert_str_eq(resp_header(&r, "Allow"), "GET, HEAD, POST");
	resp_free(&r);
	http(&r, "PATCH", API_PREFIX "/runs/1", NULL, "{}", 2);
	ck_error(&r, 405, "method not allowed");
	ck_assert_str_eq(resp_header(&r, "Allow"), "GET, HEAD, DELETE");
	resp_free(&r);
	http(&r, "DELETE", "/healthz", NULL, NULL, 0);
	ck_error(&r, 405, "method not allowed");
	ck_assert_str_eq(resp_header(&r, "Allow"), "GET, HEAD");
	resp_free(&r);
	http(&r, "POST", API_PREFIX "/runs/1/findings", NULL, "", 0);
	ck_error(&r, 405, "method not allowed");
	ck_assert_str_eq(resp_header(&r, "Allow"), "GET, HEAD");
	resp_free(&r);
	http(&r, "OPTIONS", API_PREFIX "/plans", NULL, NULL, 0);
	ck_error(&r, 405, "method not allowed");
	resp_free(&r);
	http(&r, "TRACE", API_PREFIX "/runs", NULL, NULL, 0);
	ck_error(&r, 405, "method not allowed");
	ck_assert_str_eq(resp_header(&r, "Allow"), "GET, HEAD, POST");
	resp_free(&r);
	/* An unknown path is 404 whatever the method. */
	http(&r, "PUT", API_PREFIX "/nope", NULL, "x", 1);
	ck_error(&r, 404, "not found");
	resp_free(&r);
	fx_stop();
}
END_TEST

START_TEST(head_like_get)
{
	struct resp	g, h;

	fx_start(NULL);
	/* A reply that does not change from one moment to the next. */
	get(&g, API_PREFIX "/plans");
	ck_status(&g, 200);
	http(&h, "HEAD", API_PREFIX "/plans", NULL, NULL, 0);
	ck_status(&h, 200);
	ck_assert_str_eq(resp_header(&h, "Content-Type"), "application/json");
	/* The length of the body a GET gets, and no body. */
	ck_assert_uint_eq(strtoul(resp_header(&h, "Content-Length"), NULL, 10),
	    g.len);
	resp_free(&g);
	resp_free(&h);
	http(&h, "HEAD", API_PREFIX "/runs/7", NULL, NULL, 0);
	ck_status(&h, 404);
	resp_free(&h);

	/* Keep-alive after a HEAD: the next reply is whole. */
	{
		const char	*two = "HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
		    "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
		int		 fd = cl_open();

		cl_write(fd, two, strlen(two));
		ck_assert(cl_read(fd, &h, true));
		ck_status(&h, 200);
		resp_free(&h);
		ck_assert(cl_read(fd, &g, false));
		ck_status(&g, 200);
		ck_assert_str_eq(jstr(g.json, "status"), "ok");
		resp_free(&g);
		close(fd);
	}
	fx_stop();
}
END_TEST

/* console */

/* Writes len bytes of text as run id's console log, as QEMU does. */
static void
console_put(int64_t id, const char *text, size_t len)
{
	char	path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof path, "%s/runs", fx.dir);
	ck_assert(mkdir(path, 0700) == 0 || errno == EEXIST);
	snprintf(path, sizeof path, "%s/runs/%" PRId64, fx.dir, id);
	ck_assert(mkdir(path, 0700) == 0 || errno == EEXIST);
	snprintf(path, sizeof path, "%s/runs/%" PRId64 "/console.log", fx.dir,
	    id);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* GET the console of run id with query q ("" for none): 200 and its text. */
static void
console_get(struct resp *r, int64_t id, const char *q)
{
	char	path[256];

	snprintf(path, sizeof path, API_PREFIX "/runs/%" PRId64 "/console%s",
	    id, q);
	get(r, path);
	ck_status(r, 200);
	ck_assert_str_eq(resp_header(r, "Content-Type"),
	    "text/plain; charset=utf-8");
	ck_assert_str_eq(resp_header(r, "X-Content-Type-Options"), "nosniff");
}

START_TEST(run_console)
{
	static const char text[] = "SeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n"
	    "[    0.000000] Linux version 6.1.0-18-amd64\r\n"
	    "[    1.000000] Run /init as init process\r\n"
	    "line 4\n"
	    "login: ";
	static const char *const bad[] = {
		"0", "100001", "abc", "-1", "", "01", "1e3", "%2B1", NULL
	};
	struct resp	 r;
	char		 path[256], *big;
	size_t		 i, bigsz = (size_t)17 << 20, skipped;
	int64_t		 qemu, local, early;

	fx_start(NULL);
	qemu = start_run("qemu-hotadd.yaml");
	local = start_run("local-smoke.yaml");
	early = start_run("qemu-hotadd.yaml");
	console_put(qemu, text, sizeof text - 1);

	/* The whole log, as QEMU wrote it. */
	console_get(&r, qemu, "");
	ck_assert_uint_eq(r.len, sizeof text - 1);
	ck_assert_int_eq(memcmp(r.body, text, r.len), 0);
	ck_assert_ptr_null(resp_header(&r, "X-Console-Skipped"));
	resp_free(&r);
	snprintf(path, sizeof path, API_PREFIX "/runs/%" PRId64 "/console", qemu);
	http(&r, "HEAD", path, NULL, NULL, 0);
	ck_status(&r, 200);
	ck_assert_uint_eq(strtoul(resp_header(&r, "Content-Length"), NULL, 10),
	    sizeof text - 1);
	resp_free(&r);

	/* Its last lines; a last line without its newline is one. */
	console_get(&r, qemu, "?tail=1");
	ck_assert_str_eq(r.body, "login: ");
	resp_free(&r);
	console_get(&r, qemu, "?tail=2");
	ck_assert_str_eq(r.body, "line 4\nlogin: ");
	resp_free(&r);
	console_get(&r, qemu, "?tail=4");
	ck_assert_str_eq(r.body, text + strlen("SeaBIOS (version "
	    "1.16.2-debian-1.16.2-1)\r\n"));
	resp_free(&r);
	console_get(&r, qemu, "?tail=100000");
	ck_assert_str_eq(r.body, text);
	resp_free(&r);
	console_put(qemu, "one\ntwo\n", 8);
	console_get(&r, qemu, "?tail=1");
	ck_assert_str_eq(r.body, "two\n");
	resp_free(&r);

	for (i = 0; bad[i] != NULL; i++) {
		snprintf(path, sizeof path, API_PREFIX "/runs/%" PRId64
		    "/console?tail=%s", qemu, bad[i]);
		ck_bad_parameter(path, "tail");
	}
	snprintf(path, sizeof path, API_PREFIX "/runs/%" PRId64
	    "/console?lines=3", qemu);
	ck_get_error(path, 400, "bad parameter");

	/* No console: a local run has none, a guest not started none yet. */
	snprintf(path, sizeof path, API_PREFIX "/runs/%" PRId64 "/console",
	    local);
	get(&r, path);
	ck_error(&r, 404, "not found");
	ck_assert_ptr_nonnull(strstr(jstr(r.json, "detail"), "local backend"));
	resp_free(&r);
	snprintf(path, sizeof path, API_PREFIX "/runs/%" PRId64 "/console",
	    early);
	get(&r, path);
	ck_error(&r, 404, "not found");
	ck_assert_ptr_nonnull(strstr(jstr(r.json, "detail"), "yet"));
	resp_free(&r);
	get(&r, API_PREFIX "/runs/99/console");
	ck_error(&r, 404, "not found");
	ck_assert_str_eq(jstr(r.json, "detail"), "no run 99");
	resp_free(&r);
	ck_get_error(API_PREFIX "/runs/99/console?tail=0", 400,
	    "bad parameter");

	/* An empty log is a log. */
	console_put(early, "", 0);
	console_get(&r, early, "");
	ck_assert_uint_eq(r.len, 0);
	resp_free(&r);

	/*
	 * Past 16 MiB: the last 16 MiB from a line start, and how much was
	 * left out; the same when the lines asked for are more than that.
	 */
	ck_assert_ptr_nonnull(big = malloc(bigsz + 1));
	for (i = 0; i < bigsz / 256; i++)
		snprintf(big + 256 * i, 257, "%0255zu\n", i);
	console_put(qemu, big, bigsz);
	for (i = 0; i < 2; i++) {
		console_get(&r, qemu, i == 0 ? "" : "?tail=100000");
		ck_assert_ptr_nonnull(resp_header(&r, "X-Console-Skipped"));
		skipped = strtoul(resp_header(&r, "X-Console-Skipped"), NULL,
		    10);
		ck_assert_uint_le(r.len, (size_t)16 << 20);
		ck_assert_uint_gt(r.len, ((size_t)16 << 20) - 256);
		ck_assert_uint_eq(skipped + r.len, bigsz);
		ck_assert_int_eq(big[skipped - 1], '\n');
		ck_assert_int_eq(memcmp(r.body, big + skipped, r.len), 0);
		resp_free(&r);
	}
	console_get(&r, qemu, "?tail=1000");
	ck_assert_ptr_null(resp_header(&r, "X-Console-Skipped"));
	ck_assert_uint_eq(r.len, 1000 * 256);
	ck_assert_int_eq(memcmp(r.body, big + bigsz - r.len, r.len), 0);
	resp_free(&r);
	free(big);
	fx_stop();
}
END_TEST

/* auth */

START_TEST(token_guards_writes)
{
	static const char *const wrong[] = {
		"", "Authorization: Bearer nope\r\n",
		"Authorization: Bearer s3cret-tokeN\r\n",
		"Authorization: Bearer s3cret-token-and-more\r\n",
		"Authorization: Bearer s3cret-toke\r\n",
		"Authorization: Basic czNjcmV0LXRva2Vu\r\n",
		"Authorization: s3cret-token\r\n",
		"Authorization: Bearer\r\n", NULL
	};
	struct fx_opts	 o = { .token = "s3cret-token" };
	struct resp	 r;
	char		*text = plan_text("local-smoke.yaml"), hdr[256];
	size_t		 i;

	fx_start(&o);
	for (i = 0; wrong[i] != NULL; i++) {
		snprintf(hdr, sizeof hdr, "%sContent-Type: application/yaml\r\n",
		    wrong[i]);
		http(&r, "POST", API_PREFIX "/runs", hdr, text, strlen(text));
		ck_error(&r, 401, "unauthorized");
		ck_assert_msg(strncmp(resp_header(&r, "WWW-Authenticate"),
		    "Bearer", 6) == 0, "WWW-Authenticate");
		resp_free(&r);
	}
	http(&r, "POST", API_PREFIX "/runs", "Authorization: Bearer "
	    "s3cret-token\r\nContent-Type: application/yaml\r\n", text,
	    strlen(text));
	ck_status(&r, 201);
	resp_free(&r);
	/* The scheme is case-insensitive, the token is not. */
	http(&r, "POST", API_PREFIX "/runs", "Authorization: bearer "
	    "s3cret-token\r\n", text, strlen(text));
	ck_status(&r, 201);
	resp_free(&r);

	/* Reads stay open. */
	get(&r, API_PREFIX "/runs");
	ck_status(&r, 200);
	ck_assert_str_eq(list_ids(&r), "2,1");
	resp_free(&r);
	get(&r, "/healthz");
	ck_status(&r, 200);
	resp_free(&r);
	get(&r, API_PREFIX "/plans");
	ck_status(&r, 200);
	resp_free(&r);

	/* DELETE is a write. */
	http(&r, "DELETE", API_PREFIX "/runs/1", NULL, NULL, 0);
	ck_error(&r, 401, "unauthorized");
	resp_free(&r);
	http(&r, "DELETE", API_PREFIX "/runs/1", "Authorization: Bearer "
	    "s3cret-token\r\n", NULL, 0);
	ck_status(&r, 202);
	resp_free(&r);
	free(text);
	fx_stop();
}
END_TEST

START_TEST(empty_token_refused)
{
	struct event_base	*eb = event_base_new();
	struct api_config	 ac;
	char			*cause = NULL;

	memset(&ac, 0, sizeof ac);
	ac.token = "";
	ck_assert_ptr_null(api_new(eb, NULL, NULL, NULL, &ac, &cause));
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	ac.token = NULL;
	ac.body_max = (size_t)API_BODY_LIMIT + 1;
	ck_assert_ptr_null(api_new(eb, NULL, NULL, NULL, &ac, &cause));
	free(cause);
	event_base_free(eb);
}
END_TEST

/* abort */

START_TEST(delete_in_flight_then_finished)
{
	struct resp	 r;
	char		*cause = NULL;
	bool		 already;

	fx_start(NULL);
	start_run("local-smoke.yaml");
	start_run("local-smoke.yaml");
	http(&r, "DELETE", API_PREFIX "/runs/1", NULL, NULL, 0);
	ck_status(&r, 202);
	ck_assert_int_eq(jint(r.json, "id"), 1);
	ck_assert_str_eq(jstr(r.json, "status"), "aborting");
	resp_free(&r);
	get(&r, API_PREFIX "/runs/1");
	ck_assert_str_eq(jstr(r.json, "verdict"), "aborted");
	resp_free(&r);
	http(&r, "DELETE", API_PREFIX "/runs/1", NULL, NULL, 0);
	ck_error(&r, 409, "conflict");
	ck_assert_str_eq(jstr(r.json, "detail"),
	    "run 1 already finished: aborted");
	resp_free(&r);

	/* A run that finished on its own. */
	ck_assert_int_eq(store_run_finish(fx.store, 2, "pass", "ok",
	    clock_wall_ns(), NULL, &already, &cause), 0);
	http(&r, "DELETE", API_PREFIX "/runs/2", NULL, NULL, 0);
	ck_error(&r, 409, "conflict");
	ck_assert_str_eq(jstr(r.json, "detail"), "run 2 already finished: pass");
	resp_free(&r);

	http(&r, "DELETE", API_PREFIX "/runs/3", NULL, NULL, 0);
	ck_error(&r, 404, "not found");
	resp_free(&r);
	http(&r, "DELETE", API_PREFIX "/runs/x", NULL, NULL, 0);
	ck_error(&r, 404, "not found");
	resp_free(&r);
	fx_stop();
}
END_TEST

/* campaigns, reruns and reports */

#define TOKEN_HEADER	"Authorization: Bearer sekrit\r\n"

static void
post_rerun(struct resp *r, int64_t run, const char *body)
{
	char	path[128];

	snprintf(path, sizeof path, API_PREFIX "/runs/%" PRId64 "/rerun", run);
	http(r, "POST", path, "Content-Type: application/json\r\n", body,
	    strlen(body));
}

/* A POST with no body, with the token when auth. */
static void
post_empty(struct resp *r, const char *path, bool auth)
{
	http(r, "POST", path, auth ? TOKEN_HEADER : NULL, "", 0);
}

static const json_t *
jget(const json_t *j, const char *key)
{
	const json_t	*v = json_object_get(j, key);

	ck_assert_msg(v != NULL, "no member `%s`", key);
	return v;
}

/* The campaign named name in a campaign list reply. */
static const json_t *
campaign_of(const struct resp *r, const char *name)
{
	const json_t	*c;
	size_t		 i;

	json_array_foreach(json_object_get(r->json, "campaigns"), i, c)
		if (strcmp(jstr(c, "name"), name) == 0)
			return c;
	ck_abort_msg("no campaign %s in %s", name, r->body);
	return NULL;
}

/* The ids of a campaign run list, as "3,2". */
static const char *
crun_ids(const struct resp *r)
{
	static char	 buf[256];
	const json_t	*c;
	size_t		 i, n = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(r->json, "campaign_runs"), i, c) {
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%"
		    JSON_INTEGER_FORMAT, i > 0 ? "," : "", jint(c, "id"));
		ck_assert_uint_lt(n, sizeof buf);
	}
	return buf;
}

/* Ends every run campaigns and reruns make: the first fail, the rest pass. */
static void
drive_first_fails(void)
{
	uint64_t	 end = now_ms() + DEADLINE_MS;
	struct job	*j;
	bool		 failed = false;

	while (campaigns_active(fx.campaigns) > 0 ||
	    reruns_active(fx.reruns) > 0) {
		ck_assert_msg(now_ms() < end, "campaign still runs");
		if ((j = job_live()) == NULL) {
			event_base_loop(fx.base, EVLOOP_NONBLOCK);
			continue;
		}
		job_end(j, failed ? "pass" : "fail", failed ? NULL :
		    "I/O timeout on sector 8");
		failed = true;
	}
	settle();
}

START_TEST(campaigns_listed_and_located)
{
	struct fx_opts	 o = { .token = "sekrit", .campaigns = true };
	struct resp	 r;
	const json_t	*c, *e;
	char		 path[PATH_MAX], want[PATH_MAX + 64], *cause = NULL;

	fx_start(&o);
	get(&r, API_PREFIX "/campaigns");
	ck_status(&r, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "campaigns")),
	    1);
	c = campaign_of(&r, "nightly");
	ck_assert(json_is_true(jget(c, "valid")));
	ck_assert_uint_eq(json_array_size(jget(c, "errors")), 0);
	snprintf(path, sizeof path, "%s/nightly.yaml", fx.plans_dir);
	ck_assert_str_eq(jstr(c, "file"), path);
	ck_assert_str_eq(jstr(c, "schedule"), "0 2 * * *");
	ck_assert_str_eq(json_string_value(json_array_get(jget(c, "plans"), 1)),
	    "local-soak.yaml");
	ck_assert_int_eq(jint(c, "repeat"), 3);
	ck_assert_int_eq(jint(c, "parallel"), 2);
	ck_assert_int_eq(jint(c, "retries"), 1);
	/* Its next 02:00 after the campaigns' clock, in UTC. */
	ck_assert_str_eq(jstr(c, "next_run"), "2026-11-22T02:00:00.000Z");
	ck_assert_int_eq(jint(c, "next_run_ns"), (json_int_t)(CAMPAIGN_NOW +
	    16 * 3600) * 1000000000LL);
	ck_assert(json_is_null(jget(c, "running")));
	ck_assert(json_is_null(jget(c, "last_run")));
	resp_free(&r);

	/* A campaign whose schedule does not parse, seen after a reload. */
	snprintf(path, sizeof path, "%s/weekly.yaml", fx.plans_dir);
	spew(path, "version: 1\nkind: campaign\nname: weekly\nplans: "
	    "[local-smoke.yaml]\nschedule: \"61 * * * *\"\n");
	ck_assert_int_eq(plans_dir_reload(fx.plans, &cause), 0);
	campaigns_reload(fx.campaigns);
	get(&r, API_PREFIX "/campaigns");
	ck_status(&r, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "campaigns")),
	    2);
	ck_assert_str_eq(jstr(json_array_get(json_object_get(r.json,
	    "campaigns"), 1), "name"), "weekly");
	c = campaign_of(&r, "weekly");
	ck_assert(json_is_false(jget(c, "valid")));
	ck_assert(json_is_null(jget(c, "next_run")));
	ck_assert(json_is_null(jget(c, "schedule")));
	snprintf(want, sizeof want, "%s:5:12: error: ", path);
	e = json_array_get(jget(c, "errors"), 0);
	ck_assert_msg(json_is_string(e) && strncmp(json_string_value(e), want,
	    strlen(want)) == 0, "errors: %s", r.body);
	resp_free(&r);
	get(&r, API_PREFIX "/campaigns/weekly");
	ck_status(&r, 200);
	ck_assert(json_is_false(jget(r.json, "valid")));
	resp_free(&r);

	/* Starting it is refused with every error placed. */
	post_empty(&r, API_PREFIX "/campaigns/weekly/start", true);
	ck_error(&r, 400, "invalid plan");
	e = json_array_get(json_object_get(r.json, "errors"), 0);
	ck_assert_str_eq(jstr(e, "file"), path);
	ck_assert_int_eq(jint(e, "line"), 5);
	ck_assert_int_eq(jint(e, "column"), 12);
	ck_assert_ptr_nonnull(strstr(jstr(e, "message"), "61"));
	ck_assert_ptr_nonnull(strstr(jstr(r.json, "detail"), want));
	resp_free(&r);

	/* Names that are none, and names of nothing: JSON 404s. */
	get(&r, API_PREFIX "/campaigns/nope");
	ck_error(&r, 404, "not found");
	ck_assert_ptr_nonnull(strstr(jstr(r.json, "detail"), "nope"));
	resp_free(&r);
	ck_get_error(API_PREFIX "/campaigns/..%2F", 404, "not found");
	ck_get_error(API_PREFIX "/campaigns/a*b", 404, "not found");
	ck_get_error(API_PREFIX "/campaigns/.hidden", 404, "not found");
	memset(want, 'a', 65);
	snprintf(path, sizeof path, API_PREFIX "/campaigns/%.65s", want);
	ck_get_error(path, 404, "not found");
	snprintf(path, sizeof path, API_PREFIX "/campaigns/%.64s/start", want);
	post_empty(&r, path, true);
	ck_error(&r, 404, "not found");
	resp_free(&r);
	post_empty(&r, API_PREFIX "/campaigns/nope/start", true);
	ck_error(&r, 404, "not found");
	resp_free(&r);
	post_empty(&r, API_PREFIX "/campaigns/nope/abort", true);
	ck_error(&r, 404, "not found");
	resp_free(&r);

	/* Writes need the token; nothing starts without it. */
	post_empty(&r, API_PREFIX "/campaigns/nightly/start", false);
	ck_error(&r, 401, "unauthorized");
	resp_free(&r);
	http(&r, "POST", API_PREFIX "/campaigns/nightly/start",
	    "Authorization: Bearer wrong\r\n", "", 0);
	ck_error(&r, 401, "unauthorized");
	resp_free(&r);
	post_empty(&r, API_PREFIX "/campaigns/nightly/abort", false);
	ck_error(&r, 401, "unauthorized");
	resp_free(&r);
	ck_assert_uint_eq(fx.njobs, 0);
	get(&r, API_PREFIX "/campaign-runs");
	ck_status(&r, 200);
	ck_assert_str_eq(crun_ids(&r), "");
	ck_assert(json_is_null(jget(r.json, "next")));
	resp_free(&r);

	http(&r, "GET", API_PREFIX "/campaigns/nightly/start", NULL, NULL, 0);
	ck_error(&r, 405, "method not allowed");
	ck_assert_str_eq(resp_header(&r, "Allow"), "POST");
	resp_free(&r);
	fx_stop();
}
END_TEST

START_TEST(campaign_runs_start_abort_show)
{
	struct fx_opts	 o = { .token = "sekrit", .campaigns = true };
	struct resp	 r;
	const json_t	*p, *rep, *atts, *a, *flaky = NULL;
	char		 path[PATH_MAX];
	json_int_t	 run;
	size_t		 i, j;

	fx_start(&o);
	post_empty(&r, API_PREFIX "/campaigns/nightly/start", true);
	ck_status(&r, 201);
	ck_assert_str_eq(resp_header(&r, "Location"),
	    "/api/v1/campaign-runs/1");
	ck_assert_int_eq(jint(r.json, "id"), 1);
	ck_assert_str_eq(jstr(r.json, "campaign"), "nightly");
	ck_assert_str_eq(jstr(r.json, "trigger"), "request");
	ck_assert_str_eq(jstr(r.json, "status"), "running");
	ck_assert(json_is_null(jget(r.json, "verdict")));
	ck_assert(json_is_null(jget(r.json, "scheduled")));
	/* Two at once of 2 plans x 3 repetitions. */
	ck_assert_int_eq(jint(jget(r.json, "counts"), "running"), 2);
	ck_assert_int_eq(jint(jget(r.json, "counts"), "pending"), 4);
	ck_assert_int_eq(jint(jget(r.json, "counts"), "attempts"), 2);
	ck_assert_uint_eq(json_array_size(jget(r.json, "plans")), 2);
	resp_free(&r);
	ck_assert_uint_eq(jobs_live(), 2);

	/* Never two at once. */
	post_empty(&r, API_PREFIX "/campaigns/nightly/start", true);
	ck_error(&r, 409, "already running");
	ck_assert_int_eq(jint(r.json, "campaign_run"), 1);
	resp_free(&r);
	ck_assert_uint_eq(fx.njobs, 2);
	get(&r, API_PREFIX "/campaigns/nightly");
	ck_status(&r, 200);
	ck_assert_int_eq(jint(r.json, "running"), 1);
	ck_assert_int_eq(jint(jget(r.json, "last_run"), "id"), 1);
	ck_assert_int_eq(jint(json_array_get(jget(r.json, "runs"), 0), "id"),
	    1);
	ck_assert_str_eq(jstr(json_array_get(jget(r.json, "events"), 0),
	    "kind"), "started");
	resp_free(&r);

	/* Each attempt is a run that says where it belongs. */
	snprintf(path, sizeof path, API_PREFIX "/runs/%" PRId64,
	    fx.jobs[0].id);
	get(&r, path);
	ck_status(&r, 200);
	ck_assert_int_eq(jint(r.json, "campaign_run"), 1);
	ck_assert_int_eq(jint(r.json, "plan_index"), 0);
	ck_assert_int_eq(jint(r.json, "repetition"), 1);
	ck_assert_int_eq(jint(r.json, "attempt"), 1);
	ck_assert(json_is_null(jget(r.json, "rerun")));
	resp_free(&r);

	/* The first attempt fails, its retry and the rest pass: flaky. */
	drive_first_fails();
	get(&r, API_PREFIX "/campaign-runs/1");
	ck_status(&r, 200);
	ck_assert_str_eq(jstr(r.json, "status"), "finished");
	ck_assert_str_eq(jstr(r.json, "verdict"), "flaky");
	snprintf(path, sizeof path, "%s/nightly.yaml", fx.plans_dir);
	ck_assert_str_eq(jstr(r.json, "source"), path);
	ck_assert_int_eq(jint(r.json, "repeat"), 3);
	ck_assert_int_eq(jint(r.json, "retries"), 1);
	ck_assert_int_eq(jint(jget(r.json, "counts"), "flaky"), 1);
	ck_assert_int_eq(jint(jget(r.json, "counts"), "pass"), 5);
	ck_assert_int_eq(jint(jget(r.json, "counts"), "attempts"), 7);
	ck_assert_int_eq(jint(jget(r.json, "counts"), "running"), 0);
	json_array_foreach(jget(r.json, "plans"), i, p) {
		ck_assert_int_eq(jint(p, "index"), (json_int_t)i);
		ck_assert_str_eq(jstr(p, "plan"), i == 0 ? "local-smoke" :
		    "local-soak");
		ck_assert_uint_eq(json_array_size(jget(p, "repetitions")), 3);
		json_array_foreach(jget(p, "repetitions"), j, rep) {
			ck_assert_int_eq(jint(rep, "repetition"),
			    (json_int_t)j + 1);
			if (strcmp(jstr(rep, "verdict"), "flaky") == 0) {
				ck_assert_ptr_null(flaky);
				flaky = rep;
				ck_assert_str_eq(jstr(p, "verdict"), "flaky");
			} else
				ck_assert_str_eq(jstr(rep, "verdict"), "pass");
		}
	}
	ck_assert_ptr_nonnull(flaky);
	atts = jget(flaky, "attempts");
	ck_assert_uint_eq(json_array_size(atts), 2);
	a = json_array_get(atts, 0);
	ck_assert_int_eq(jint(a, "attempt"), 1);
	ck_assert_str_eq(jstr(a, "verdict"), "fail");
	ck_assert_int_eq(jint(jget(a, "findings"), "total"), 1);
	ck_assert_int_eq(jint(jget(jget(a, "findings"), "by_kind"),
	    "io_timeout"), 1);
	run = jint(a, "run");
	a = json_array_get(atts, 1);
	ck_assert_int_eq(jint(a, "attempt"), 2);
	ck_assert_str_eq(jstr(a, "verdict"), "pass");
	ck_assert_int_ne(jint(a, "run"), run);
	ck_assert_str_eq(jstr(json_array_get(jget(r.json, "events"), 0),
	    "kind"), "finished");
	resp_free(&r);

	/* Its report: one testcase per attempt. */
	get(&r, API_PREFIX "/campaign-runs/1/junit.xml");
	ck_status(&r, 200);
	ck_assert_str_eq(resp_header(&r, "Content-Type"),
	    "application/xml; charset=utf-8");
	ck_assert_msg(strncmp(r.body, "<?xml", 5) == 0, "%s", r.body);
	ck_assert_ptr_nonnull(strstr(r.body, "nightly/local-smoke"));
	ck_assert_ptr_nonnull(strstr(r.body, "nightly/local-soak"));
	ck_assert_ptr_nonnull(strstr(r.body, "tests=\"7\""));
	ck_assert_ptr_nonnull(strstr(r.body, "I/O timeout on sector 8"));
	resp_free(&r);
	snprintf(path, sizeof path, API_PREFIX "/runs/%" JSON_INTEGER_FORMAT
	    "/junit.xml", run);
	get(&r, path);
	ck_status(&r, 200);
	ck_assert_str_eq(resp_header(&r, "Content-Type"),
	    "application/xml; charset=utf-8");
	ck_assert_msg(strncmp(r.body, "<?xml", 5) == 0, "%s", r.body);
	ck_assert_ptr_nonnull(strstr(r.body, "<failure"));
	resp_free(&r);

	/* The morning report counts repetitions, the retry inside one. */
	get(&r, API_PREFIX "/summary");
	ck_status(&r, 200);
	ck_assert_int_eq(jint(jget(r.json, "totals"), "outcomes"), 6);
	ck_assert_int_eq(jint(jget(r.json, "totals"), "runs"), 7);
	ck_assert_int_eq(jint(jget(r.json, "totals"), "flaky"), 1);
	ck_assert_int_eq(jint(jget(r.json, "totals"), "fail"), 0);
	ck_assert_str_eq(crun_ids(&r), "1");
	resp_free(&r);

	/* A finished campaign run is no longer abortable. */
	http(&r, "DELETE", API_PREFIX "/campaign-runs/1", TOKEN_HEADER, NULL,
	    0);
	ck_error(&r, 409, "not running");
	resp_free(&r);
	post_empty(&r, API_PREFIX "/campaigns/nightly/abort", true);
	ck_error(&r, 409, "not running");
	resp_free(&r);
	get(&r, API_PREFIX "/campaigns");
	ck_assert_str_eq(jstr(jget(campaign_of(&r, "nightly"), "last_run"),
	    "verdict"), "flaky");
	ck_assert(json_is_null(jget(campaign_of(&r, "nightly"), "running")));
	resp_free(&r);

	/* Abort by name: 202 at once, the verdict once its runs are back. */
	post_empty(&r, API_PREFIX "/campaigns/nightly/start", true);
	ck_status(&r, 201);
	ck_assert_str_eq(resp_header(&r, "Location"),
	    "/api/v1/campaign-runs/2");
	resp_free(&r);
	post_empty(&r, API_PREFIX "/campaigns/nightly/abort", true);
	ck_status(&r, 202);
	ck_assert_int_eq(jint(r.json, "id"), 2);
	ck_assert_str_eq(resp_header(&r, "Location"),
	    "/api/v1/campaign-runs/2");
	resp_free(&r);
	settle();
	post_empty(&r, API_PREFIX "/campaigns/nightly/abort", true);
	ck_error(&r, 409, "not running");
	resp_free(&r);
	get(&r, API_PREFIX "/campaign-runs/2");
	ck_status(&r, 200);
	ck_assert_str_eq(jstr(r.json, "verdict"), "aborted");
	ck_assert_int_eq(jint(jget(r.json, "counts"), "aborted"), 6);
	resp_free(&r);

	/* Abort by id. */
	post_empty(&r, API_PREFIX "/campaigns/nightly/start", true);
	ck_status(&r, 201);
	resp_free(&r);
	http(&r, "DELETE", API_PREFIX "/campaign-runs/3", NULL, NULL, 0);
	ck_error(&r, 401, "unauthorized");
	resp_free(&r);
	http(&r, "DELETE", API_PREFIX "/campaign-runs/3", TOKEN_HEADER, NULL,
	    0);
	ck_status(&r, 202);
	ck_assert_int_eq(jint(r.json, "id"), 3);
	resp_free(&r);
	settle();
	get(&r, API_PREFIX "/campaign-runs/3");
	ck_assert_str_eq(jstr(r.json, "verdict"), "aborted");
	resp_free(&r);
	ck_assert_uint_eq(jobs_live(), 0);

	/* Pages, newest first; briefs carry counts but no plans. */
	get(&r, API_PREFIX "/campaign-runs?campaign=nightly&limit=2");
	ck_status(&r, 200);
	ck_assert_str_eq(crun_ids(&r), "3,2");
	ck_assert_int_eq(jint(r.json, "next"), 2);
	p = json_array_get(jget(r.json, "campaign_runs"), 0);
	ck_assert_ptr_null(json_object_get(p, "plans"));
	ck_assert_int_eq(jint(jget(p, "counts"), "aborted"), 6);
	resp_free(&r);
	get(&r, API_PREFIX "/campaign-runs?before=2");
	ck_assert_str_eq(crun_ids(&r), "1");
	ck_assert(json_is_null(jget(r.json, "next")));
	resp_free(&r);
	get(&r, API_PREFIX "/campaign-runs?campaign=weekly");
	ck_status(&r, 200);
	ck_assert_str_eq(crun_ids(&r), "");
	resp_free(&r);
	ck_bad_parameter(API_PREFIX "/campaign-runs?limit=0", "limit");
	ck_bad_parameter(API_PREFIX "/campaign-runs?before=x", "before");

	/* Unknown ids. */
	ck_get_error(API_PREFIX "/campaign-runs/999", 404, "not found");
	http(&r, "DELETE", API_PREFIX "/campaign-runs/999", TOKEN_HEADER, NULL,
	    0);
	ck_error(&r, 404, "not found");
	resp_free(&r);
	ck_get_error(API_PREFIX "/campaign-runs/999/junit.xml", 404,
	    "not found");
	ck_get_error(API_PREFIX "/campaign-runs/0", 404, "not found");
	ck_get_error(API_PREFIX "/runs/999/junit.xml", 404, "not found");
	fx_stop();
}
END_TEST

START_TEST(campaigns_without_plans_dir)
{
	struct fx_opts	 o = { .no_plans = true };
	struct resp	 r;

	fx_start(&o);
	get(&r, API_PREFIX "/campaigns");
	ck_status(&r, 200);
	ck_assert_uint_eq(json_array_size(jget(r.json, "campaigns")), 0);
	resp_free(&r);
	ck_get_error(API_PREFIX "/campaigns/nightly", 503, "unavailable");
	post_empty(&r, API_PREFIX "/campaigns/nightly/start", false);
	ck_error(&r, 503, "unavailable");
	resp_free(&r);
	start_run("local-smoke.yaml");
	post_rerun(&r, 1, "{\"times\": 1}");
	ck_error(&r, 503, "unavailable");
	resp_free(&r);
	fx_stop();
}
END_TEST

/* POST .../rerun with body; the reply is a 400 naming param (NULL: none). */
static void
rerun_refused(const char *body, const char *error, const char *param)
{
	struct resp	r;

	post_rerun(&r, 1, body);
	ck_error(&r, 400, error);
	if (param != NULL)
		ck_assert_msg(json_is_string(json_object_get(r.json,
		    "parameter")) && strcmp(jstr(r.json, "parameter"), param) ==
		    0, "%s: %s", body, r.body);
	else
		ck_assert_ptr_null(json_object_get(r.json, "parameter"));
	resp_free(&r);
}

START_TEST(reruns_refused_and_measured)
{
	struct fx_opts		 o = { .campaigns = true };
	struct store_finding	 f;
	struct resp		 r;
	const json_t		*x;
	char			*cause = NULL, path[256];
	json_int_t		 seed;

	fx_start(&o);
	/* Run 1 failed with a finding; how often does it come back? */
	start_run("local-smoke.yaml");
	memset(&f, 0, sizeof f);
	f.run = 1;
	f.kind = "io_timeout";
	f.title = "I/O timeout on sector 8";
	f.time_ns = clock_wall_ns();
	f.source = "agent";
	ck_assert_int_eq(store_finding_add(fx.store, &f, NULL, &cause), 0);
	ck_assert_int_eq(store_run_finish(fx.store, 1, "fail", "found",
	    clock_wall_ns(), NULL, NULL, &cause), 0);

	rerun_refused("times=3", "bad request", NULL);
	rerun_refused("", "bad request", NULL);
	rerun_refused("[3]", "bad request", NULL);
	rerun_refused("{\"times\": 0}", "bad parameter", "times");
	rerun_refused("{\"times\": 101}", "bad parameter", "times");
	rerun_refused("{\"times\": -1}", "bad parameter", "times");
	rerun_refused("{\"times\": \"3\"}", "bad parameter", "times");
	rerun_refused("{\"times\": 3.0}", "bad parameter", "times");
	rerun_refused("{\"times\": null}", "bad parameter", "times");
	rerun_refused("{\"bogus\": 1}", "bad parameter", "bogus");
	rerun_refused("{\"times\": 2, \"bogus\": 1}", "bad parameter", "bogus");
	rerun_refused("{}", "bad parameter", "times");
	rerun_refused("{\"parallel\": 2}", "bad parameter", "times");
	rerun_refused("{\"times\": 2, \"parallel\": 0}", "bad parameter",
	    "parallel");
	rerun_refused("{\"times\": 2, \"parallel\": 17}", "bad parameter",
	    "parallel");
	rerun_refused("{\"times\": 2, \"times\": 3}", "bad request", NULL);
	ck_assert_uint_eq(fx.njobs, 0);

	post_rerun(&r, 999, "{\"times\": 1}");
	ck_error(&r, 404, "not found");
	resp_free(&r);
	ck_get_error(API_PREFIX "/reruns/999", 404, "not found");
	ck_get_error(API_PREFIX "/reruns/x", 404, "not found");
	ck_assert_uint_eq(fx.njobs, 0);

	get(&r, API_PREFIX "/runs/1");
	seed = jint(r.json, "seed");
	resp_free(&r);
	post_rerun(&r, 1, "{\"times\": 3, \"parallel\": 2}");
	ck_status(&r, 201);
	ck_assert_str_eq(resp_header(&r, "Location"), "/api/v1/reruns/1");
	ck_assert_int_eq(jint(r.json, "id"), 1);
	ck_assert_int_eq(jint(r.json, "run"), 1);
	ck_assert_str_eq(jstr(r.json, "plan"), "local-smoke");
	ck_assert_int_eq(jint(r.json, "seed"), seed);
	ck_assert_int_eq(jint(r.json, "times"), 3);
	ck_assert_int_eq(jint(r.json, "parallel"), 2);
	ck_assert_str_eq(jstr(r.json, "status"), "running");
	ck_assert_uint_eq(json_array_size(jget(r.json, "runs")), 2);
	ck_assert_int_eq(jint(r.json, "completed"), 0);
	x = json_array_get(jget(r.json, "reproduction"), 0);
	ck_assert_str_eq(jstr(x, "title"), "I/O timeout on sector 8");
	ck_assert(json_is_null(jget(x, "rate")));
	resp_free(&r);
	ck_assert_uint_eq(jobs_live(), 2);

	/* Its runs run the same seed and say whose they are. */
	snprintf(path, sizeof path, API_PREFIX "/runs/%" PRId64,
	    fx.jobs[1].id);
	get(&r, path);
	ck_assert_int_eq(jint(r.json, "rerun"), 1);
	ck_assert_int_eq(jint(r.json, "attempt"), 2);
	ck_assert_int_eq(jint(r.json, "seed"), seed);
	ck_assert(json_is_null(jget(r.json, "campaign_run")));
	resp_free(&r);

	/* Two of three find it again, one finds something new. */
	job_end(&fx.jobs[0], "fail", "I/O timeout on sector 8");
	job_end(&fx.jobs[1], "pass", NULL);
	ck_assert_uint_eq(jobs_live(), 1);
	job_end(job_live(), "fail", "I/O timeout on sector 8");
	settle();
	get(&r, API_PREFIX "/reruns/1");
	ck_status(&r, 200);
	ck_assert_str_eq(jstr(r.json, "status"), "finished");
	ck_assert_int_eq(jint(r.json, "completed"), 3);
	ck_assert_int_eq(jint(jget(r.json, "verdicts"), "fail"), 2);
	ck_assert_int_eq(jint(jget(r.json, "verdicts"), "pass"), 1);
	x = json_array_get(jget(r.json, "reproduction"), 0);
	ck_assert_int_eq(jint(x, "seen"), 2);
	ck_assert_int_eq(jint(x, "of"), 3);
	ck_assert(json_real_value(jget(x, "rate")) > 0.66 &&
	    json_real_value(jget(x, "rate")) < 0.67);
	ck_assert_uint_eq(json_array_size(jget(r.json, "new_findings")), 0);
	resp_free(&r);
	fx_stop();
}
END_TEST

/* GET /api/v1/summary?query is a 400 naming param. */
static void
summary_refused(const char *query, const char *param)
{
	struct resp	r;
	char		path[256];

	snprintf(path, sizeof path, API_PREFIX "/summary?%s", query);
	get(&r, path);
	ck_error(&r, 400, "bad parameter");
	ck_assert_msg(strcmp(jstr(r.json, "parameter"), param) == 0, "%s: %s",
	    query, r.body);
	resp_free(&r);
}

START_TEST(summary_windows)
{
	struct store_finding	 f;
	struct resp		 r;
	const json_t		*p, *k;
	char			*cause = NULL, path[256];
	size_t			 i;
	bool			 seen = false;

	fx_start(NULL);
	summary_refused("since=yesterday", "since");
	summary_refused("since=", "since");
	summary_refused("until=tomorrow", "until");
	summary_refused("since=1h&until=2h", "until");
	summary_refused("since=2200-01-01T00:00:00Z", "until");
	summary_refused("since=2999-01-01T00:00:00Z", "since");
	summary_refused("until=1", "until");
	summary_refused("since=1795255200&until=2026-11-21T10:00:00Z", "until");
	summary_refused("since=7d&since=1d", "since");
	summary_refused("bogus=1", "bogus");

	/* Local-smoke passes, then fails with a finding; local-soak runs on. */
	start_run("local-smoke.yaml");
	start_run("local-smoke.yaml");
	start_run("local-soak.yaml");
	ck_assert_int_eq(store_run_finish(fx.store, 1, "pass", "ok",
	    clock_wall_ns(), NULL, NULL, &cause), 0);
	memset(&f, 0, sizeof f);
	f.run = 2;
	f.kind = "corruption";
	f.title = "stale block at 4096";
	f.time_ns = clock_wall_ns();
	f.source = "agent";
	ck_assert_int_eq(store_finding_add(fx.store, &f, NULL, &cause), 0);
	ck_assert_int_eq(store_run_finish(fx.store, 2, "fail", "found",
	    clock_wall_ns(), NULL, NULL, &cause), 0);

	get(&r, API_PREFIX "/summary");
	ck_status(&r, 200);
	ck_assert_int_eq(jint(r.json, "until_ns") - jint(r.json, "since_ns"),
	    24LL * 3600 * 1000000000LL);
	ck_assert_uint_eq(strlen(jstr(r.json, "since")), 24);
	ck_assert_uint_eq(strlen(jstr(r.json, "until")), 24);
	ck_assert_int_eq(jint(jget(r.json, "totals"), "outcomes"), 2);
	ck_assert_int_eq(jint(jget(r.json, "totals"), "runs"), 2);
	ck_assert_int_eq(jint(jget(r.json, "totals"), "pass"), 1);
	ck_assert_int_eq(jint(jget(r.json, "totals"), "fail"), 1);
	ck_assert_int_eq(jint(jget(r.json, "totals"), "flaky"), 0);
	/* The run still going is not counted. */
	ck_assert_uint_eq(json_array_size(jget(r.json, "plans")), 1);
	p = json_array_get(jget(r.json, "plans"), 0);
	ck_assert_str_eq(jstr(p, "plan"), "local-smoke");
	ck_assert_int_eq(jint(p, "outcomes"), 2);
	ck_assert_int_eq(jint(p, "last_run"), 2);
	ck_assert_str_eq(jstr(p, "last_verdict"), "fail");
	json_array_foreach(jget(r.json, "finding_kinds"), i, k) {
		if (strcmp(jstr(k, "kind"), "corruption") != 0) {
			ck_assert_int_eq(jint(k, "findings"), 0);
			continue;
		}
		seen = true;
		ck_assert_int_eq(jint(k, "findings"), 1);
		ck_assert_int_eq(jint(k, "outcomes"), 1);
		ck_assert_int_eq(jint(k, "fail"), 1);
	}
	ck_assert(seen);
	ck_assert_uint_eq(json_array_size(jget(r.json, "campaign_runs")), 0);
	resp_free(&r);

	/* The other spellings of a time. */
	get(&r, API_PREFIX "/summary?since=1h30m");
	ck_status(&r, 200);
	ck_assert_int_eq(jint(r.json, "until_ns") - jint(r.json, "since_ns"),
	    5400LL * 1000000000LL);
	ck_assert_int_eq(jint(jget(r.json, "totals"), "outcomes"), 2);
	resp_free(&r);
	get(&r, API_PREFIX "/summary?since=0");
	ck_status(&r, 200);
	ck_assert_str_eq(jstr(r.json, "since"), "1970-01-01T00:00:00.000Z");
	ck_assert_int_eq(jint(jget(r.json, "totals"), "outcomes"), 2);
	resp_free(&r);
	/* A window that ended before the runs began. */
	snprintf(path, sizeof path, API_PREFIX "/summary?since=2h&until=%"
	    PRIu64, (uint64_t)(clock_wall_ns() / 1000000000ULL - 3600));
	get(&r, path);
	ck_status(&r, 200);
	ck_assert_int_eq(jint(jget(r.json, "totals"), "outcomes"), 0);
	ck_assert_uint_eq(json_array_size(jget(r.json, "plans")), 0);
	resp_free(&r);
	get(&r, API_PREFIX "/summary?since=2000-01-01T00:00:00Z&until=1h");
	ck_status(&r, 200);
	ck_assert_str_eq(jstr(r.json, "since"), "2000-01-01T00:00:00.000Z");
	resp_free(&r);
	fx_stop();
}
END_TEST

/* health and plans */

START_TEST(healthz)
{
	struct resp	r;

	fx_start(NULL);
	get(&r, "/healthz");
	ck_status(&r, 200);
	ck_assert_str_eq(jstr(r.json, "status"), "ok");
	ck_assert_str_eq(jstr(r.json, "version"), "9.9.9-test");
	ck_assert_int_eq(jint(r.json, "active_runs"), 0);
	ck_assert_int_ge(jint(r.json, "uptime_s"), 0);
	ck_assert_int_le(jint(r.json, "uptime_s"), 60);
	resp_free(&r);
	start_run("local-smoke.yaml");
	start_run("local-soak.yaml");
	get(&r, "/healthz");
	ck_assert_int_eq(jint(r.json, "active_runs"), 2);
	resp_free(&r);
	fx_stop();
}
END_TEST

START_TEST(plans_listed)
{
	static const char *const names[] = {
		"libvirt-hotadd", "local-smoke", "local-soak", "nightly",
		"qemu-attach", "qemu-hot-replace", "qemu-hotadd", NULL
	};
	struct resp	 r;
	const json_t	*plans, *p;
	char		*cause = NULL, path[PATH_MAX];
	size_t		 i;

	fx_start(NULL);
	get(&r, API_PREFIX "/plans");
	ck_status(&r, 200);
	plans = json_object_get(r.json, "plans");
	ck_assert_uint_eq(json_array_size(plans), 7);
	for (i = 0; names[i] != NULL; i++) {
		p = json_array_get(plans, i);
		ck_assert_str_eq(jstr(p, "name"), names[i]);
		ck_assert_msg(json_is_true(json_object_get(p, "valid")),
		    "%s is not valid: %s", names[i], r.body);
		ck_assert_uint_eq(json_array_size(json_object_get(p, "errors")),
		    0);
		snprintf(path, sizeof path, "%s/%s.yaml", fx.plans_dir,
		    names[i]);
		ck_assert_str_eq(jstr(p, "file"), path);
	}
	p = json_array_get(plans, 1);
	ck_assert_str_eq(jstr(p, "kind"), "plan");
	ck_assert_str_eq(jstr(p, "backend"), "local");
	ck_assert_msg(strstr(jstr(p, "description"), "Hot-add") != NULL, "desc");
	p = json_array_get(plans, 3);
	ck_assert_str_eq(jstr(p, "kind"), "campaign");
	ck_assert(json_is_null(json_object_get(p, "backend")));
	resp_free(&r);

	/* A broken file, seen after a reload. */
	snprintf(path, sizeof path, "%s/broken.yaml", fx.plans_dir);
	spew(path, "version: 1\nname: broken\nsteps:\n  - wiat: 2s\n");
	ck_assert_int_eq(plans_dir_reload(fx.plans, &cause), 0);
	get(&r, API_PREFIX "/plans");
	plans = json_object_get(r.json, "plans");
	ck_assert_uint_eq(json_array_size(plans), 8);
	p = json_array_get(plans, 0);
	ck_assert_str_eq(jstr(p, "name"), "broken");
	ck_assert(json_is_false(json_object_get(p, "valid")));
	ck_assert(json_is_null(json_object_get(p, "kind")));
	snprintf(path, sizeof path, "%s/broken.yaml:4:5: error: unknown step "
	    "`wiat`; did you mean `wait`?", fx.plans_dir);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(p,
	    "errors"), 0)), path);
	resp_free(&r);
	fx_stop();
}
END_TEST

/* body limits */

/* len bytes of YAML comment; allocated, the caller frees. */
static char *
big_body(size_t len)
{
	char	*b = malloc(len);

	ck_assert_ptr_nonnull(b);
	memset(b, '#', len);
	return b;
}

/*
 * A chunked POST to path of len bytes of body in chunks of size, in an
 * allocated buffer (the caller frees) with room for a trailer line.
 */
static char *
chunked(const char *path, const char *body, size_t len, size_t size,
    size_t *out_len)
{
	char	*buf, *p;
	size_t	 off, n, cap = len + (len / size + 2) * 32 + 256;

	p = buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	p += sprintf(p, "POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: "
	    "application/yaml\r\nTransfer-Encoding: chunked\r\n\r\n", path);
	for (off = 0; off < len; off += n) {
		n = len - off < size ? len - off : size;
		p += sprintf(p, "%zx\r\n", n);
		memcpy(p, body + off, n);
		p += n;
		p += sprintf(p, "\r\n");
	}
	p += sprintf(p, "0\r\n\r\n");
	*out_len = (size_t)(p - buf);
	return buf;
}

static const char healthz_req[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";

/* The connection still serves: a GET on it gets its answer. */
static void
still_serves(int fd)
{
	struct resp	r;

	cl_write(fd, healthz_req, strlen(healthz_req));
	ck_assert_msg(cl_read(fd, &r, false), "the connection was closed");
	ck_status(&r, 200);
	ck_assert_str_eq(jstr(r.json, "status"), "ok");
	resp_free(&r);
}

START_TEST(too_large_content_length)
{
	struct resp	 r;
	char		*body = big_body(2 * MIB), head[256];
	int		 fd;

	fx_start(NULL);
	fd = cl_open();
	snprintf(head, sizeof head, "POST " API_PREFIX "/runs HTTP/1.1\r\n"
	    "Host: t\r\nContent-Type: application/yaml\r\nContent-Length: "
	    "%d\r\n\r\n", 2 * MIB);
	cl_write(fd, head, strlen(head));
	cl_write(fd, body, 2 * MIB);
	ck_assert(cl_read(fd, &r, false));
	ck_error(&r, 413, "body too large");
	ck_assert_ptr_null(resp_header(&r, "Connection"));
	resp_free(&r);
	still_serves(fd);
	close(fd);

	/* Nothing was started. */
	get(&r, "/healthz");
	ck_assert_int_eq(jint(r.json, "active_runs"), 0);
	resp_free(&r);
	free(body);
	fx_stop();
}
END_TEST

START_TEST(too_large_chunked)
{
	struct resp	 r;
	char		*body = big_body(2 * MIB), *req;
	size_t		 len;
	int		 fd;

	fx_start(NULL);
	req = chunked(API_PREFIX "/runs", body, 2 * MIB, 65536, &len);
	fd = cl_open();
	cl_write(fd, req, len);
	ck_assert(cl_read(fd, &r, false));
	ck_error(&r, 413, "body too large");
	resp_free(&r);
	still_serves(fd);
	close(fd);

	/* One chunk larger than the limit at once. */
	free(req);
	req = chunked(API_PREFIX "/runs", body, 2 * MIB, 2 * MIB, &len);
	fd = cl_open();
	cl_write(fd, req, len);
	ck_assert(cl_read(fd, &r, false));
	ck_error(&r, 413, "body too large");
	resp_free(&r);
	still_serves(fd);
	close(fd);
	free(req);
	free(body);
	fx_stop();
}
END_TEST

START_TEST(limit_is_inclusive)
{
	struct fx_opts	 o = { .body_max = 4096 };
	struct resp	 r;
	char		*body = big_body(4097), *req;
	size_t		 len;
	int		 fd;

	fx_start(&o);
	/* 4096 bytes of comment: an empty plan, not too large. */
	http(&r, "POST", API_PREFIX "/runs", NULL, body, 4096);
	ck_error(&r, 400, "invalid plan");
	resp_free(&r);
	http(&r, "POST", API_PREFIX "/runs", NULL, body, 4097);
	ck_error(&r, 413, "body too large");
	resp_free(&r);

	req = chunked(API_PREFIX "/runs", body, 4096, 1000, &len);
	fd = cl_open();
	cl_write(fd, req, len);
	ck_assert(cl_read(fd, &r, false));
	ck_error(&r, 400, "invalid plan");
	resp_free(&r);
	close(fd);
	free(req);
	req = chunked(API_PREFIX "/runs", body, 4097, 1000, &len);
	fd = cl_open();
	cl_write(fd, req, len);
	ck_assert(cl_read(fd, &r, false));
	ck_error(&r, 413, "body too large");
	resp_free(&r);
	still_serves(fd);
	close(fd);
	free(req);

	/* A refused body on any path, and on a write without its token. */
	http(&r, "POST", "/nowhere", NULL, body, 4097);
	ck_error(&r, 413, "body too large");
	resp_free(&r);
	http(&r, "DELETE", API_PREFIX "/runs/1", NULL, body, 4097);
	ck_error(&r, 413, "body too large");
	resp_free(&r);
	free(body);
	fx_stop();
}
END_TEST

START_TEST(too_large_pipelined_and_trickled)
{
	struct fx_opts	 o = { .body_max = 64 };
	struct resp	 r;
	char		 buf[4096], body[200], *req;
	size_t		 len, i;
	int		 fd;

	fx_start(&o);
	memset(body, '#', sizeof body);

	/* A refused body and the next request in one write. */
	len = (size_t)snprintf(buf, sizeof buf, "POST /api/v1/runs HTTP/1.1\r\n"
	    "Host: t\r\nContent-Length: 200\r\n\r\n%.200s%s"
	    "POST /api/v1/runs HTTP/1.1\r\nHost: t\r\nContent-Length: 200\r\n"
	    "\r\n%.200s%s", body, healthz_req, body, healthz_req);
	fd = cl_open();
	cl_write(fd, buf, len);
	for (i = 0; i < 4; i++) {
		ck_assert(cl_read(fd, &r, false));
		ck_status(&r, i % 2 == 0 ? 413 : 200);
		resp_free(&r);
	}
	close(fd);

	/* The same a byte at a time, chunked, with a trailer. */
	req = chunked(API_PREFIX "/runs", body, sizeof body, 30, &len);
	memcpy(req + len - 2, "X-T: 1\r\n\r\n", 10);
	len += 8;
	fd = cl_open();
	for (i = 0; i < len; i++)
		cl_write(fd, req + i, 1);
	for (i = 0; i < strlen(healthz_req); i++)
		cl_write(fd, healthz_req + i, 1);
	ck_assert(cl_read(fd, &r, false));
	ck_error(&r, 413, "body too large");
	resp_free(&r);
	ck_assert(cl_read(fd, &r, false));
	ck_status(&r, 200);
	resp_free(&r);
	close(fd);
	free(req);

	/* Under the limit, a byte at a time, the body arrives whole. */
	{
		const char *small = "POST /api/v1/runs HTTP/1.1\r\nHost: t\r\n"
		    "Content-Length: 11\r\n\r\nversion: 1\n";

		fd = cl_open();
		for (i = 0; i < strlen(small); i++)
			cl_write(fd, small + i, 1);
		ck_assert(cl_read(fd, &r, false));
		ck_error(&r, 400, "invalid plan");
		ck_assert_msg(strstr(jstr(r.json, "detail"), "name") != NULL,
		    "%s", jstr(r.json, "detail"));
		resp_free(&r);
		still_serves(fd);
		close(fd);
	}
	fx_stop();
}
END_TEST

START_TEST(too_large_closes_when_it_must)
{
	struct resp	r;
	char		head[256];
	int		fd;

	fx_start(NULL);
	/* A client waiting for 100 Continue gets the 413 instead. */
	snprintf(head, sizeof head, "POST " API_PREFIX "/runs HTTP/1.1\r\n"
	    "Host: t\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n",
	    2 * MIB);
	fd = cl_open();
	cl_write(fd, head, strlen(head));
	ck_assert(cl_read(fd, &r, false));
	ck_error(&r, 413, "body too large");
	ck_assert_str_eq(resp_header(&r, "Connection"), "close");
	resp_free(&r);
	ck_assert(cl_closed(fd));
	close(fd);

	/* A length far past what is worth reading. */
	fd = cl_open();
	snprintf(head, sizeof head, "POST " API_PREFIX "/runs HTTP/1.1\r\n"
	    "Host: t\r\nContent-Length: 1099511627776\r\n\r\n");
	cl_write(fd, head, strlen(head));
	ck_assert(cl_read(fd, &r, false));
	ck_error(&r, 413, "body too large");
	ck_assert_str_eq(resp_header(&r, "Connection"), "close");
	resp_free(&r);
	ck_assert(cl_closed(fd));
	close(fd);

	/* A chunked body that never ends is cut off past 64 MiB. */
	{
		char	*block = big_body(MIB);
		size_t	 sent = 0;

		fd = cl_open();
		snprintf(head, sizeof head, "POST " API_PREFIX "/runs HTTP/1.1\r\n"
		    "Host: t\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "fffffffffff\r\n");
		cl_write(fd, head, strlen(head));
		ck_assert(cl_read(fd, &r, false));
		ck_error(&r, 413, "body too large");
		ck_assert_ptr_null(resp_header(&r, "Connection"));
		resp_free(&r);
		while (sent < 80 * (size_t)MIB && cl_write_try(fd, block, MIB) ==
		    0)
			sent += MIB;
		ck_assert_msg(sent < 80 * (size_t)MIB, "still reading at %zu",
		    sent);
		ck_assert(cl_closed(fd));
		close(fd);
		free(block);
	}
	get(&r, "/healthz");
	ck_status(&r, 200);
	resp_free(&r);
	fx_stop();
}
END_TEST

/* robustness */

/* Sends raw, reads for a moment, hangs up; the server must live on. */
static void
poke(const void *raw, size_t len, unsigned wait_ms)
{
	uint64_t	end;
	char		buf[4096];
	ssize_t		k;
	int		fd = cl_open();

	(void)cl_write_try(fd, raw, len);
	end = now_ms() + wait_ms;
	while (now_ms() < end) {
		k = recv(fd, buf, sizeof buf, 0);
		if (k == 0 || (k == -1 && errno != EAGAIN))
			break;
		pump(fd, POLLIN);
	}
	close(fd);
	pump(-1, 0);
}

START_TEST(never_crashes)
{
	static const char *const nasty[] = {
		"\r\n\r\n",
		"GARBAGE\r\n\r\n",
		"GET\r\n\r\n",
		"GET / HTTP/1.1 extra\r\n\r\n",
		"GET /healthz HTTP/9.9\r\n\r\n",
		"GET /healthz HTTP/1.0\r\n\r\n",
		"GET http://example/healthz HTTP/1.1\r\n\r\n",
		"GET /api/v1/runs/%00 HTTP/1.1\r\n\r\n",
		"GET /api/v1/runs?plan=%zz%&limit=%%% HTTP/1.1\r\n\r\n",
		"GET /api/v1/runs?=1&&&=&a== HTTP/1.1\r\n\r\n",
		"GET /api/v1/runs?%ff%fe=%c0%80 HTTP/1.1\r\n\r\n",
		"GET /api/v1/runs/\xff\xfe HTTP/1.1\r\n\r\n",
		"GET /api/v1/runs?plan=\x01\x02 HTTP/1.1\r\n\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nContent-Length: 99999999999999999999"
		    "999\r\n\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nContent-Length: 5\r\n"
		    "Content-Length: 3000000\r\n\r\nhello",
		"POST /api/v1/runs HTTP/1.1\r\nContent-Length: 3000000\r\n"
		    "Content-Length: 5\r\n\r\nhello",
		"POST /api/v1/runs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "zz\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "-5\r\nhello\r\n0\r\n\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "ffffffffffffffff\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5;ext=1\r\nhello\r\n0\r\n\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
		    "Content-Length: 3000000\r\n\r\n0\r\n\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nContent-Length: 3000000\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"
		    "Content-Length: 3000000\r\n\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"
		    "junk",
		"POST /api/v1/runs HTTP/1.1\r\nContent-Length:\r\n 3000000\r\n\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nContent-Length: 3000000\r\n"
		    " 1\r\n\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nHeader-without-colon\r\n\r\n",
		"POST /api/v1/runs HTTP/1.1\r\nExpect: bogus\r\n"
		    "Content-Length: 3\r\n\r\nabc",
		"POST /api/v1/runs HTTP/1.1\n\nPOST /api/v1/runs HTTP/1.1\n"
		    "Content-Length: 3000000\n\n",
		"DELETE /api/v1/runs/1 HTTP/1.1\r\nContent-Length: 3000000\r\n\r\n"
		    "partial",
		"HEAD /api/v1/runs HTTP/1.1\r\nContent-Length: 3000000\r\n\r\n",
		"TRACE / HTTP/1.1\r\n\r\n",
		"CONNECT example:1 HTTP/1.1\r\n\r\n",
		"PATCH /api/v1/runs/1 HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
		"OPTIONS * HTTP/1.1\r\n\r\n",
		NULL
	};
	char		*big;
	size_t		 i, j, len;
	unsigned	 seed = 12345;
	struct resp	 r;
	int		 open_fds[4];
	static const char nul_head[] = "POST /api/v1/runs HTTP/1.1\r\n\0X: y"
	    "\r\nContent-Length: 3\r\n\r\nabc";
	static const char nul_blank[] = "POST /api/v1/runs HTTP/1.1\r\n"
	    "Content-Length: 3\r\n\0\r\n\r\nabc";
	static const char mid_body[] = "POST /api/v1/runs HTTP/1.1\r\n"
	    "Content-Length: 100\r\n\r\nabc";
	static const char mid_drop[] = "POST /api/v1/runs HTTP/1.1\r\n"
	    "Content-Length: 3000000\r\n\r\nabc";
	size_t		 n_nasty;

	fx_start(NULL);
	for (i = 0; nasty[i] != NULL; i++) {
		poke(nasty[i], strlen(nasty[i]), 30);
		get(&r, "/healthz");
		ck_assert_msg(r.status == 200, "after `%s`: %d", nasty[i],
		    r.status);
		resp_free(&r);
	}

	n_nasty = i;

	/* A NUL in the head, huge headers, lines and queries. */
	poke(nul_head, sizeof nul_head - 1, 30);
	poke(nul_blank, sizeof nul_blank - 1, 30);
	big = malloc(300000);
	ck_assert_ptr_nonnull(big);
	len = (size_t)sprintf(big, "GET /healthz HTTP/1.1\r\nX: ");
	memset(big + len, 'a', 200000);
	len += 200000;
	len += (size_t)sprintf(big + len, "\r\n\r\n");
	poke(big, len, 50);
	len = (size_t)sprintf(big, "GET /api/v1/runs?");
	for (j = 0; j < 3000; j++)
		len += (size_t)sprintf(big + len, "a%zu=%zu&", j, j);
	len += (size_t)sprintf(big + len, " HTTP/1.1\r\n\r\n");
	poke(big, len, 50);
	memset(big, 'A', 100000);
	poke(big, 100000, 50);
	len = (size_t)sprintf(big, "GET /api/v1/runs?limit=");
	memset(big + len, '9', 8000);
	len += 8000;
	len += (size_t)sprintf(big + len, " HTTP/1.1\r\n\r\n");
	poke(big, len, 50);

	/* Random bytes, and requests with random bytes changed. */
	for (i = 0; i < 150; i++) {
		const char	*src = nasty[(size_t)rand_r(&seed) % n_nasty];
		size_t		 n = strlen(src), k;

		memcpy(big, src, n);
		if (i % 3 == 0) {
			n = (size_t)(rand_r(&seed) % 512) + 1;
			for (k = 0; k < n; k++)
				big[k] = (char)rand_r(&seed);
		} else {
			for (k = 0; k < 4; k++)
				big[rand_r(&seed) % n] = (char)rand_r(&seed);
		}
		poke(big, n, 5);
	}
	free(big);
	get(&r, "/healthz");
	ck_status(&r, 200);
	resp_free(&r);

	/* Connections left mid-head, mid-body and mid-drop at shutdown. */
	open_fds[0] = cl_open();
	cl_write(open_fds[0], "GET /hea", 8);
	open_fds[1] = cl_open();
	cl_write(open_fds[1], mid_body, strlen(mid_body));
	open_fds[2] = cl_open();
	cl_write(open_fds[2], mid_drop, strlen(mid_drop));
	open_fds[3] = cl_open();
	for (j = 0; j < 20; j++)
		pump(open_fds[3], POLLIN);
	fx_stop();
	for (j = 0; j < 4; j++)
		close(open_fds[j]);
}
END_TEST

START_TEST(listen_addresses)
{
	static const char *const bad[] = {
		"127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:70000",
		"127.0.0.1:-1", "127.0.0.1:8o", "::1:8080", "[::1]8080",
		NULL
	};
	char	*cause = NULL, *bound = NULL;
	size_t	 i;

	fx_start(NULL);
	for (i = 0; bad[i] != NULL; i++) {
		ck_assert_msg(api_listen(fx.api, bad[i], &bound, &cause) == -1,
		    "%s listened", bad[i]);
		ck_assert_ptr_nonnull(cause);
		free(cause);
		cause = NULL;
	}
	/* The port in use. */
	ck_assert_int_eq(api_listen(fx.api, fx.bound, NULL, &cause), -1);
	free(cause);
	cause = NULL;
	/* IPv6 comes back in brackets, where the host has it. */
	if (api_listen(fx.api, "[::1]:0", &bound, &cause) == 0) {
		ck_assert_msg(strncmp(bound, "[::1]:", 6) == 0, "%s", bound);
		ck_assert(api_is_loopback(bound));
		free(bound);
	} else
		free(cause);
	fx_stop();

	ck_assert(api_is_loopback("127.0.0.1:8080"));
	ck_assert(api_is_loopback("127.9.9.9:1"));
	ck_assert(api_is_loopback("[::1]:8080"));
	ck_assert(api_is_loopback("[::ffff:127.0.0.1]:80"));
	ck_assert(api_is_loopback("localhost:8080"));
	ck_assert(!api_is_loopback("0.0.0.0:8080"));
	ck_assert(!api_is_loopback("[::]:8080"));
	ck_assert(!api_is_loopback("192.168.1.5:8080"));
	ck_assert(!api_is_loopback("128.0.0.1:80"));
	ck_assert(!api_is_loopback("example.com:80"));
	ck_assert(!api_is_loopback("127.0.0.1"));
	ck_assert(!api_is_loopback(NULL));
}
END_TEST

/* the plans folder */

START_TEST(plans_dir_resolve_names)
{
	static const char *const bad[] = {
		"../etc/passwd", "a/b", "/etc/passwd", ".hidden", "..", ".",
		"", "a\x01" "b", "a\x7f", "local-smoke\n", NULL
	};
	struct plans_dir	*pd;
	char			 dir[1300], path[PATH_MAX], *p = NULL;
	char			*cause = NULL, name[200];
	int			 missing;
	size_t			 i;

	snprintf(dir, sizeof dir, "%s/r.XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/plans");
	copy_plans(dir);
	pd = plans_dir_open(dir, &cause);
	ck_assert_ptr_nonnull(pd);
	ck_assert_str_eq(plans_dir_path(pd), dir);

	snprintf(path, sizeof path, "%s/local-smoke.yaml", dir);
	ck_assert_int_eq(plans_dir_resolve(pd, "local-smoke", &p, &missing,
	    &cause), 0);
	ck_assert_str_eq(p, path);
	free(p);
	ck_assert_int_eq(plans_dir_resolve(pd, "local-smoke.yaml", &p, NULL,
	    &cause), 0);
	ck_assert_str_eq(p, path);
	free(p);

	for (i = 0; bad[i] != NULL; i++) {
		missing = -1;
		ck_assert_msg(plans_dir_resolve(pd, bad[i], &p, &missing, &cause)
		    == -1, "`%s` resolved", bad[i]);
		ck_assert_ptr_null(p);
		ck_assert_int_eq(missing, 0);
		ck_assert_msg(strncmp(cause, "bad plan name", 13) == 0, "%s",
		    cause);
		free(cause);
		cause = NULL;
	}
	memset(name, 'a', 129);
	name[129] = '\0';
	ck_assert_int_eq(plans_dir_resolve(pd, name, &p, &missing, &cause), -1);
	ck_assert_int_eq(missing, 0);
	free(cause);
	name[128] = '\0';
	ck_assert_int_eq(plans_dir_resolve(pd, name, &p, &missing, &cause), -1);
	ck_assert_int_eq(missing, 1);
	free(cause);

	ck_assert_int_eq(plans_dir_resolve(pd, "nope", &p, &missing, &cause),
	    -1);
	ck_assert_int_eq(missing, 1);
	ck_assert_msg(strstr(cause, "no plan named `nope`") != NULL, "%s",
	    cause);
	free(cause);
	ck_assert_int_eq(plans_dir_resolve(pd, "local-smoke.yml", &p, &missing,
	    &cause), -1);
	ck_assert_int_eq(missing, 1);
	free(cause);
	/* A folder is not a plan, nor a file of another kind. */
	snprintf(path, sizeof path, "%s/sub.yaml", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(plans_dir_resolve(pd, "sub", &p, &missing, &cause),
	    -1);
	ck_assert_int_eq(missing, 1);
	free(cause);
	snprintf(path, sizeof path, "%s/notes.txt", dir);
	spew(path, "x");
	ck_assert_int_eq(plans_dir_resolve(pd, "notes.txt", &p, &missing,
	    &cause), -1);
	free(cause);
	plans_dir_free(pd);
	plans_dir_free(NULL);
}
END_TEST

START_TEST(plans_dir_reloads)
{
	static const char *const ok = "version: 1\nname: twin\nsteps:\n"
	    "  - wait: 1s\n";
	struct plans_dir	*pd;
	char			 dir[1200], path[PATH_MAX], moved[1300];
	char			*cause = NULL, *p;
	json_t			*l;
	const json_t		*e;
	size_t			 i;

	ck_assert_ptr_null(plans_dir_open("/nonexistent/plans", &cause));
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;

	snprintf(dir, sizeof dir, "%s/d.XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_ptr_nonnull(pd = plans_dir_open(dir, &cause));
	l = plans_dir_list(pd);
	ck_assert_uint_eq(json_array_size(json_object_get(l, "plans")), 0);
	json_decref(l);

	/* .yaml and .yml of one stem; hidden files and others are ignored. */
	snprintf(path, sizeof path, "%s/twin.yaml", dir);
	spew(path, ok);
	snprintf(path, sizeof path, "%s/twin.yml", dir);
	spew(path, ok);
	snprintf(path, sizeof path, "%s/solo.yml", dir);
	spew(path, ok);
	snprintf(path, sizeof path, "%s/.hidden.yaml", dir);
	spew(path, ok);
	snprintf(path, sizeof path, "%s/readme.txt", dir);
	spew(path, ok);
	ck_assert_int_eq(plans_dir_reload(pd, &cause), 0);
	l = plans_dir_list(pd);
	ck_assert_uint_eq(json_array_size(json_object_get(l, "plans")), 3);
	{
		static const char *const names[] = { "solo", "twin",
		    "twin.yml" };

		for (i = 0; i < 3; i++) {
			e = json_array_get(json_object_get(l, "plans"), i);
			ck_assert_str_eq(jstr(e, "name"), names[i]);
			ck_assert(json_is_true(json_object_get(e, "valid")));
		}
	}
	json_decref(l);
	ck_assert_int_eq(plans_dir_resolve(pd, "twin", &p, NULL, &cause), 0);
	ck_assert_msg(strstr(p, "/twin.yaml") != NULL, "%s", p);
	free(p);
	ck_assert_int_eq(plans_dir_resolve(pd, "twin.yml", &p, NULL, &cause), 0);
	ck_assert_msg(strstr(p, "/twin.yml") != NULL, "%s", p);
	free(p);
	ck_assert_int_eq(plans_dir_resolve(pd, "solo", &p, NULL, &cause), 0);
	free(p);

	/* A folder gone: the old list stays. */
	snprintf(moved, sizeof moved, "%s.moved", dir);
	ck_assert_int_eq(rename(dir, moved), 0);
	ck_assert_int_eq(plans_dir_reload(pd, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	l = plans_dir_list(pd);
	ck_assert_uint_eq(json_array_size(json_object_get(l, "plans")), 3);
	json_decref(l);
	ck_assert_int_eq(rename(moved, dir), 0);
	plans_dir_free(pd);
}
END_TEST

/* the OpenAPI document */

#define ROUTES_MAX	64

struct doc_routes {
	char	v[ROUTES_MAX][2][256];	/* method, path */
	size_t	n;
	char	openapi[32];		/* the document's `openapi` */
	char	version[32];		/* its `info.version` */
};

static void
yp_next(yaml_parser_t *p, yaml_event_t *e)
{
	ck_assert_msg(yaml_parser_parse(p, e), "openapi.yaml:%zu:%zu: %s",
	    p->problem_mark.line + 1, p->problem_mark.column + 1, p->problem);
}

/* Skips the node that starts with e (deleted). */
static void
yp_skip(yaml_parser_t *p, yaml_event_t *e)
{
	int	depth = 0;

	for (;;) {
		if (e->type == YAML_MAPPING_START_EVENT ||
		    e->type == YAML_SEQUENCE_START_EVENT)
			depth++;
		else if (e->type == YAML_MAPPING_END_EVENT ||
		    e->type == YAML_SEQUENCE_END_EVENT)
			depth--;
		yaml_event_delete(e);
		if (depth == 0)
			return;
		yp_next(p, e);
	}
}

/* The scalar of e (deleted) into buf; false at the end of a mapping. */
static bool
yp_key(yaml_parser_t *p, char *buf, size_t len)
{
	yaml_event_t	e;

	yp_next(p, &e);
	if (e.type == YAML_MAPPING_END_EVENT) {
		yaml_event_delete(&e);
		return false;
	}
	ck_assert_int_eq(e.type, YAML_SCALAR_EVENT);
	snprintf(buf, len, "%s", (const char *)e.data.scalar.value);
	yaml_event_delete(&e);
	return true;
}

static void
yp_expect(yaml_parser_t *p, yaml_event_type_t t)
{
	yaml_event_t	e;

	yp_next(p, &e);
	ck_assert_int_eq(e.type, t);
	yaml_event_delete(&e);
}

/* Every (method, path) under `paths` of the document. */
static void
doc_routes(const char *file, struct doc_routes *out)
{
	static const char *const methods[] = {
		"get", "put", "post", "delete", "options", "head", "patch",
		"trace", NULL
	};
	yaml_parser_t	 p;
	yaml_event_t	 e;
	char		 key[256], path[256], m[64];
	char		*text;
	size_t		 len, i;
	bool		 found = false;

	memset(out, 0, sizeof *out);
	text = slurp(file, &len);
	ck_assert(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	yp_expect(&p, YAML_STREAM_START_EVENT);
	yp_expect(&p, YAML_DOCUMENT_START_EVENT);
	yp_expect(&p, YAML_MAPPING_START_EVENT);
	while (yp_key(&p, key, sizeof key)) {
		if (strcmp(key, "openapi") == 0) {
			ck_assert(yp_key(&p, out->openapi, sizeof out->openapi));
			continue;
		}
		if (strcmp(key, "info") == 0) {
			yp_expect(&p, YAML_MAPPING_START_EVENT);
			while (yp_key(&p, m, sizeof m)) {
				if (strcmp(m, "version") == 0) {
					ck_assert(yp_key(&p, out->version,
					    sizeof out->version));
					continue;
				}
				yp_next(&p, &e);
				yp_skip(&p, &e);
			}
			continue;
		}
		if (strcmp(key, "paths") != 0) {
			yp_next(&p, &e);
			yp_skip(&p, &e);
			continue;
		}
		found = true;
		yp_expect(&p, YAML_MAPPING_START_EVENT);
		while (yp_key(&p, path, sizeof path)) {
			yp_expect(&p, YAML_MAPPING_START_EVENT);
			while (yp_key(&p, m, sizeof m)) {
				for (i = 0; methods[i] != NULL; i++)
					if (strcmp(methods[i], m) == 0)
						break;
				if (methods[i] != NULL) {
					ck_assert_uint_lt(out->n, ROUTES_MAX);
					snprintf(out->v[out->n][0], 256, "%s", m);
					snprintf(out->v[out->n][1], 256, "%s",
					    path);
					out->n++;
				}
				yp_next(&p, &e);
				yp_skip(&p, &e);
			}
		}
	}
	yp_expect(&p, YAML_DOCUMENT_END_EVENT);
	yp_expect(&p, YAML_STREAM_END_EVENT);
	yaml_parser_delete(&p);
	free(text);
	ck_assert_msg(found, "openapi.yaml has no paths");
}

START_TEST(openapi_matches_routes)
{
	struct doc_routes	 d;
	const struct api_route	*rt;
	char			 m[16];
	size_t			 i, j, nroutes = 0;
	bool			 hit;

	doc_routes(srcpath("daemon/openapi.yaml"), &d);
	ck_assert_str_eq(d.openapi, "3.0.3");
	ck_assert_str_eq(d.version, "0.1.0");
	for (rt = api_routes; rt->pattern != NULL; rt++) {
		switch (rt->method) {
		case EVHTTP_REQ_GET:
			snprintf(m, sizeof m, "get");
			break;
		case EVHTTP_REQ_POST:
			snprintf(m, sizeof m, "post");
			break;
		case EVHTTP_REQ_DELETE:
			snprintf(m, sizeof m, "delete");
			break;
		default:
			ck_abort_msg("route %s has a method the test does not "
			    "know", rt->pattern);
		}
		for (hit = false, i = 0; i < d.n; i++)
			if (strcmp(d.v[i][0], m) == 0 &&
			    strcmp(d.v[i][1], rt->pattern) == 0)
				hit = true;
		ck_assert_msg(hit, "%s %s is not in openapi.yaml", m,
		    rt->pattern);
		nroutes++;
	}
	/* And nothing the server does not route. */
	for (i = 0; i < d.n; i++) {
		for (hit = false, rt = api_routes; rt->pattern != NULL; rt++)
			if (strcmp(d.v[i][1], rt->pattern) == 0)
				hit = true;
		ck_assert_msg(hit, "openapi.yaml has %s %s, which is no route",
		    d.v[i][0], d.v[i][1]);
		for (j = i + 1; j < d.n; j++)
			ck_assert(strcmp(d.v[i][0], d.v[j][0]) != 0 ||
			    strcmp(d.v[i][1], d.v[j][1]) != 0);
	}
	ck_assert_uint_eq(d.n, nroutes);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("api");
	TCase	*tc = tcase_create("api");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 120);
	/* Unchecked: made and removed once, by the runner, even on failure. */
	tcase_add_unchecked_fixture(tc, base_make, base_remove);
	tcase_add_test(tc, post_yaml_created);
	tcase_add_test(tc, post_yaml_invalid);
	tcase_add_test(tc, post_named);
	tcase_add_test(tc, post_named_without_plans_dir);
	tcase_add_test(tc, post_media_types);
	tcase_add_test(tc, busy_when_full);
	tcase_add_test(tc, get_unknown_ids);
	tcase_add_test(tc, run_pages);
	tcase_add_test(tc, run_console);
	tcase_add_test(tc, list_filters_and_pages);
	tcase_add_test(tc, list_bad_parameters);
	tcase_add_test(tc, methods_not_allowed);
	tcase_add_test(tc, head_like_get);
	tcase_add_test(tc, token_guards_writes);
	tcase_add_test(tc, empty_token_refused);
	tcase_add_test(tc, delete_in_flight_then_finished);
	tcase_add_test(tc, healthz);
	tcase_add_test(tc, plans_listed);
	tcase_add_test(tc, too_large_content_length);
	tcase_add_test(tc, too_large_chunked);
	tcase_add_test(tc, limit_is_inclusive);
	tcase_add_test(tc, too_large_pipelined_and_trickled);
	tcase_add_test(tc, too_large_closes_when_it_must);
	tcase_add_test(tc, never_crashes);
	tcase_add_test(tc, listen_addresses);
	tcase_add_test(tc, plans_dir_resolve_names);
	tcase_add_test(tc, plans_dir_reloads);
	tcase_add_test(tc, campaigns_listed_and_located);
	tcase_add_test(tc, campaign_runs_start_abort_show);
	tcase_add_test(tc, campaigns_without_plans_dir);
	tcase_add_test(tc, reruns_refused_and_measured);
	tcase_add_test(tc, summary_windows);
	tcase_add_test(tc, openapi_matches_routes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
