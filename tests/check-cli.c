/* check-cli.c: the `hotsoak` commands that talk to hotsoakd, run against a
 * canned evhttp server on loopback that records what they asked. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <jansson.h>

#include "hotsoak/util.h"
#include "cmd.h"
#include "cmd-client.h"

#define ROUTES_MAX	16
#define BODIES_MAX	8
#define RECS_MAX	64
#define HELD_MAX	8
#define BIG_BODY	(17U << 20)	/* past the client's 16 MiB cap */

/* One canned answer: the bodies are served in turn, the last repeats. */
struct route {
	char		 method[8];
	char		 path[256];	/* with '?': the whole URI must match */
	int		 status;
	const char	*ctype;
	const char	*location;
	const char	*bodies[BODIES_MAX];
	size_t		 nbodies;
	size_t		 next;
	int		 hold;		/* never answer (until the server stops) */
	int		 big;		/* answer BIG_BODY bytes */
};

/* One request as the server saw it. */
struct rec {
	char	 method[8];
	char	 uri[1024];
	char	 ctype[128];
	char	 auth[256];
	int	 has_auth;
	char	*body;
};

struct srv {
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	struct event_base	*base;
	struct evhttp		*http;
	struct event		*tick;
	int			 port;
	char			 url[64];
	volatile sig_atomic_t	 stop;
	struct route		 routes[ROUTES_MAX];
	size_t			 nroutes;
	struct rec		 recs[RECS_MAX];
	size_t			 nrecs;
	struct evhttp_request	*held[HELD_MAX];
	size_t			 nheld;
};

static struct srv	 srv;
static char		 tmpdir[64];

static const char *
srv_method(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	default:
		return "OTHER";
	}
}

static void
srv_cb(struct evhttp_request *req, void *arg)
{
	struct srv		*s = arg;
	struct evkeyvalq	*ih = evhttp_request_get_input_headers(req);
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	struct evbuffer		*out;
	struct route		*rt = NULL;
	struct rec		*r;
	const char		*uri = evhttp_request_get_uri(req), *h, *method;
	size_t			 i, plen, len;
	char			*big;

	method = srv_method(evhttp_request_get_command(req));
	pthread_mutex_lock(&s->lock);
	if (s->nrecs < RECS_MAX) {
		r = &s->recs[s->nrecs++];
		snprintf(r->method, sizeof r->method, "%s", method);
		snprintf(r->uri, sizeof r->uri, "%s", uri);
		h = evhttp_find_header(ih, "Content-Type");
		snprintf(r->ctype, sizeof r->ctype, "%s", h != NULL ? h : "");
		h = evhttp_find_header(ih, "Authorization");
		r->has_auth = h != NULL;
		snprintf(r->auth, sizeof r->auth, "%s", h != NULL ? h : "");
		len = evbuffer_get_length(in);
		r->body = calloc(1, len + 1);
		evbuffer_copyout(in, r->body, len);
	}
	plen = strcspn(uri, "?");
	for (i = 0; i < s->nroutes; i++) {
		if (strcmp(s->routes[i].method, method) != 0)
			continue;
		if (strchr(s->routes[i].path, '?') != NULL ?
		    strcmp(s->routes[i].path, uri) == 0 :
		    strlen(s->routes[i].path) == plen &&
		    strncmp(s->routes[i].path, uri, plen) == 0) {
			rt = &s->routes[i];
			break;
		}
	}
	out = evbuffer_new();
	if (rt == NULL) {
		evbuffer_add_printf(out, "{\"error\":\"not found\","
		    "\"detail\":\"nothing at %s\"}", uri);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "application/json");
		evhttp_send_reply(req, 404, NULL, out);
		goto out;
	}
	if (rt->hold) {
		if (s->nheld < HELD_MAX)
			s->held[s->nheld++] = req;
		goto out;
	}
	if (rt->big) {
		big = malloc(BIG_BODY);
		memset(big, '[', BIG_BODY);
		evbuffer_add(out, big, BIG_BODY);
		free(big);
	} else if (rt->nbodies > 0) {
		i = rt->next < rt->nbodies ? rt->next : rt->nbodies - 1;
		rt->next++;
		evbuffer_add(out, rt->bodies[i], strlen(rt->bodies[i]));
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    rt->ctype != NULL ? rt->ctype : "application/json");
	if (rt->location != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Location", rt->location);
	evhttp_send_reply(req, rt->status, NULL, out);
out:
	pthread_mutex_unlock(&s->lock);
	evbuffer_free(out);
}

static void
srv_tick(evutil_socket_t fd, short events, void *arg)
{
	struct srv	*s = arg;
	size_t		 i;

	if (!s->stop)
		return;
	/* A held request is ours until answered, even after its client left. */
	for (i = 0; i < s->nheld; i++)
		evhttp_send_error(s->held[i], 503, NULL);
	s->nheld = 0;
	event_base_loopbreak(s->base);
}

static void *
srv_main(void *arg)
{
	struct srv	*s = arg;
	sigset_t	 set;

	/*
	 * ^C in the tests is for the command under test, on the main thread;
	 * a client that hangs up on a big reply must not kill the tests.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	event_base_dispatch(s->base);
	return NULL;
}

static void
srv_start(void)
{
	struct evhttp_bound_socket	*bound;
	struct sockaddr_in		 sin;
	socklen_t			 len = sizeof sin;
	struct timeval			 tv = { 0, 10000 };

	memset(&srv, 0, sizeof srv);
	pthread_mutex_init(&srv.lock, NULL);
	ck_assert_ptr_nonnull(srv.base = event_base_new());
	ck_assert_ptr_nonnull(srv.http = evhttp_new(srv.base));
	evhttp_set_allowed_methods(srv.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_DELETE);
	evhttp_set_gencb(srv.http, srv_cb, &srv);
	bound = evhttp_bind_socket_with_handle(srv.http, "127.0.0.1", 0);
	ck_assert_ptr_nonnull(bound);
	ck_assert_int_eq(getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&sin, &len), 0);
	srv.port = ntohs(sin.sin_port);
	snprintf(srv.url, sizeof srv.url, "http://127.0.0.1:%d", srv.port);
	srv.tick = event_new(srv.base, -1, EV_PERSIST, srv_tick, &srv);
	event_add(srv.tick, &tv);
	ck_assert_int_eq(pthread_create(&srv.thread, NULL, srv_main, &srv), 0);
}

static void
srv_stop(void)
{
	size_t	i;

	srv.stop = 1;
	pthread_join(srv.thread, NULL);
	event_free(srv.tick);
	evhttp_free(srv.http);
	event_base_free(srv.base);
	for (i = 0; i < srv.nrecs; i++)
		free(srv.recs[i].body);
	pthread_mutex_destroy(&srv.lock);
}

/* Serve status and the bodies (NULL-terminated) in turn at method path. */
static struct route *
srv_route(const char *method, const char *path, int status, ...)
{
	struct route	*rt;
	va_list		 ap;
	const char	*b;

	pthread_mutex_lock(&srv.lock);
	ck_assert_uint_lt(srv.nroutes, ROUTES_MAX);
	rt = &srv.routes[srv.nroutes++];
	memset(rt, 0, sizeof *rt);
	snprintf(rt->method, sizeof rt->method, "%s", method);
	snprintf(rt->path, sizeof rt->path, "%s", path);
	rt->status = status;
	va_start(ap, status);
	while ((b = va_arg(ap, const char *)) != NULL &&
	    rt->nbodies < BODIES_MAX)
		rt->bodies[rt->nbodies++] = b;
	va_end(ap);
	pthread_mutex_unlock(&srv.lock);
	return rt;
}

/* How many requests for method and a URI starting with prefix came. */
static size_t
srv_count(const char *method, const char *prefix)
{
	size_t	i, n = 0;

	pthread_mutex_lock(&srv.lock);
	for (i = 0; i < srv.nrecs; i++)
		if (strcmp(srv.recs[i].method, method) == 0 &&
		    strncmp(srv.recs[i].uri, prefix, strlen(prefix)) == 0)
			n++;
	pthread_mutex_unlock(&srv.lock);
	return n;
}

/* The first request for method and a URI starting with prefix (a copy). */
static struct rec
srv_find(const char *method, const char *prefix)
{
	struct rec	r;
	size_t		i;

	memset(&r, 0, sizeof r);
	pthread_mutex_lock(&srv.lock);
	for (i = 0; i < srv.nrecs; i++)
		if (strcmp(srv.recs[i].method, method) == 0 &&
		    strncmp(srv.recs[i].uri, prefix, strlen(prefix)) == 0) {
			r = srv.recs[i];
			break;
		}
	pthread_mutex_unlock(&srv.lock);
	ck_assert_msg(r.method[0] != '\0', "no %s %s came", method, prefix);
	return r;
}

/* One command's outcome. */
struct out {
	int	 rc;
	char	*out;
	char	*err;
};

/* All of fd from its start, NUL-terminated; the caller frees it. */
static char *
slurp(int fd)
{
	char	*buf = NULL;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;

	lseek(fd, 0, SEEK_SET);
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		if ((n = read(fd, buf + len, cap - len - 1)) <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

static void
out_free(struct out *o)
{
	free(o->out);
	free(o->err);
}

/*
 * Run a command in this process: args end in NULL, the first is its name.
 * What it printed is allocated; out_free frees it.
 */
static struct out
cli(const char *name, ...)
{
	const struct cmd_entry	*cmd;
	struct out		 o;
	va_list			 ap;
	char			*argv[32], path[128];
	int			 argc = 0, fo, fe, so, se, i;

	argv[argc++] = strdup(name);
	va_start(ap, name);
	while (argc < 31 && (argv[argc] = (char *)(uintptr_t)va_arg(ap,
	    const char *)) != NULL) {
		argv[argc] = strdup(argv[argc]);
		argc++;
	}
	va_end(ap);
	argv[argc] = NULL;
	ck_assert_ptr_nonnull(cmd = cmd_find(name));

	snprintf(path, sizeof path, "%s/stdout", tmpdir);
	fo = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	snprintf(path, sizeof path, "%s/stderr", tmpdir);
	fe = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert(fo != -1 && fe != -1);
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	dup2(fo, 1);
	dup2(fe, 2);
	o.rc = cmd->exec(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	o.out = slurp(fo);
	o.err = slurp(fe);
	close(fo);
	close(fe);
	for (i = 0; i < argc; i++)
		free(argv[i]);
	return o;
}

#define ck_has(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, \
	    "`%s` not in:\n%s", (needle), (hay))
#define ck_hasnt(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) == NULL, \
	    "`%s` unexpected in:\n%s", (needle), (hay))

static void
setup(void)
{
	/* The tester's own settings must not leak in. */
	unsetenv("HOTSOAK_SERVER");
	unsetenv("HOTSOAK_TOKEN");
	unsetenv("HOTSOAK_TOKEN_FILE");
	unsetenv("HOTSOAK_TIMEOUT");
	srv_start();
}

static void
teardown(void)
{
	srv_stop();
}

static const char *
tmpfile_with(const char *name, const char *text)
{
	static char	path[128];
	FILE		*f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	return path;
}

#define PLAN_YAML \
	"version: 1\nname: local-smoke\ntarget: {backend: local}\n" \
	"steps:\n  - hot_add: {cpu: 1}\n"
#define CREATED \
	"{\"id\": 12, \"plan\": \"local-smoke\", \"seed\": 1, " \
	"\"status\": \"queued\"}"

START_TEST(run_file_posts_yaml)
{
	const char	*plan = tmpfile_with("smoke.yaml", PLAN_YAML);
	struct out	 o;
	struct rec	 r;
	char		 want[256];

	srv_route("POST", "/api/v1/runs", 201, CREATED, NULL)->location =
	    "/api/v1/runs/12";
	o = cli("run", "--server", srv.url, plan, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	snprintf(want, sizeof want, "run 12: local-smoke (seed 1) submitted, "
	    "%s/api/v1/runs/12\n", srv.url);
	ck_assert_str_eq(o.out, want);
	r = srv_find("POST", "/api/v1/runs");
	ck_assert_str_eq(r.uri, "/api/v1/runs");
	ck_assert_str_eq(r.ctype, "application/yaml");
	ck_assert_str_eq(r.body, PLAN_YAML);
	ck_assert(!r.has_auth);
	out_free(&o);
}
END_TEST

START_TEST(run_name_posts_json)
{
	struct out	 o;
	struct rec	 r;
	json_t		*j;

	/* No id in the body: the Location names the run. */
	srv_route("POST", "/api/v1/runs", 201, "{\"plan\": \"nightly\"}",
	    NULL)->location = "/api/v1/runs/31";
	o = cli("run", "nightly", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_has(o.out, "run 31: nightly submitted");
	r = srv_find("POST", "/api/v1/runs");
	ck_assert_str_eq(r.ctype, "application/json");
	ck_assert_ptr_nonnull(j = json_loads(r.body, 0, NULL));
	ck_assert_str_eq(json_string_value(json_object_get(j, "plan")),
	    "nightly");
	json_decref(j);
	out_free(&o);

	/* A path that is no file is a mistake, not a name. */
	o = cli("run", "--server", srv.url, "plans/nosuch.yaml", NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "cannot read plans/nosuch.yaml");
	ck_assert_uint_eq(srv_count("POST", "/"), 1);
	out_free(&o);
}
END_TEST

/* As the engine shows a step: index from 1, path from 0. */
#define RUNNING(idx, action, pass) \
	"{\"id\": 7, \"plan\": \"p\", \"status\": \"running\", " \
	"\"elapsed_ms\": 1500, \"step\": {\"index\": " #idx ", \"total\": 3, " \
	"\"pass\": " #pass ", \"action\": \"" action "\"}, " \
	"\"counters\": {\"ios\": 1200000, \"blocks_verified\": 310000}, " \
	"\"findings\": {\"total\": 0, \"by_kind\": {}}}"

static const struct {
	const char	*verdict;
	int		 rc;
	const char	*shown;
} verdicts[] = {
	{ "pass", CMD_OK, "verdict: PASS" },
	{ "fail", CMD_FAILED, "verdict: FAIL" },
	{ "error", CMD_ERROR, "verdict: ERROR" },
	{ "aborted", CMD_ERROR, "verdict: ABORTED" },
	{ "interrupted", CMD_ERROR, "verdict: INTERRUPTED" },
};

START_TEST(run_wait_follows_to_verdict)
{
	char		finished[512];
	struct out	o;

	snprintf(finished, sizeof finished, "{\"id\": 7, \"plan\": \"p\", "
	    "\"status\": \"finished\", \"verdict\": \"%s\", \"reason\": "
	    "\"because\", \"findings\": {\"total\": 0, \"by_kind\": {}}}",
	    verdicts[_i].verdict);
	srv_route("POST", "/api/v1/runs", 201, "{\"id\": 7}", NULL);
	srv_route("GET", "/api/v1/runs/7", 200, RUNNING(1, "hot_add", 1),
	    RUNNING(1, "hot_add", 1), RUNNING(2, "hot_replace", 1),
	    RUNNING(1, "hot_add", 2), finished, NULL);
	o = cli("run", "--server", srv.url, "p", "--wait", "--interval", "10ms",
	    NULL);
	ck_assert_int_eq(o.rc, verdicts[_i].rc);
	/* Not a terminal: one line per step, not per poll. */
	ck_has(o.out, "step 1/3 hot_add  ios 1.20M  verified 310k  findings 0");
	ck_has(o.out, "step 2/3 hot_replace  ios");
	ck_has(o.out, "step 1/3 hot_add pass 2  ios");
	ck_assert_ptr_eq(strstr(strstr(o.out, "step 1/3 hot_add  ") + 1,
	    "step 1/3 hot_add  "), NULL);
	ck_has(o.out, verdicts[_i].shown);
	ck_has(o.out, "because");
	ck_assert_uint_eq(srv_count("GET", "/api/v1/runs/7"), 5);
	out_free(&o);
}
END_TEST

START_TEST(run_invalid_plan_lists_errors)
{
	struct out	o;

	srv_route("POST", "/api/v1/runs", 400, "{\"error\": \"invalid plan\", "
	    "\"detail\": \"2 errors\", \"errors\": [{\"file\": \"p.yaml\", "
	    "\"line\": 3, \"column\": 5, \"message\": \"unknown key `stpes`\"}, "
	    "\"p.yaml:7:1: error: hot_add needs `cpu: N`\"]}", NULL);
	o = cli("run", "--server", srv.url, tmpfile_with("p.yaml", "x: 1\n"),
	    NULL);
	ck_assert_int_eq(o.rc, CMD_FAILED);
	ck_has(o.err, "p.yaml:3:5: error: unknown key `stpes`\n");
	ck_has(o.err, "p.yaml:7:1: error: hot_add needs `cpu: N`\n");
	ck_assert_str_eq(o.out, "");
	out_free(&o);
}
END_TEST

#define FULL_RUN \
	"{\"id\": 12, \"plan\": \"local-smoke\", \"seed\": 1, " \
	"\"backend\": \"local\", \"status\": \"finished\", \"verdict\": " \
	"\"pass\", \"reason\": \"every step ran, no failing findings\", " \
	"\"started\": \"2026-11-21T10:00:00.123Z\", \"elapsed_ms\": 14200, " \
	"\"steps\": [{\"path\": \"0\", \"outcome\": \"done\"}, " \
	"{\"path\": \"1\", \"outcome\": \"done\"}, " \
	"{\"path\": \"1.0/2.0\", \"outcome\": \"done\"}], " \
	"\"step\": {\"index\": 1, \"total\": 2}, " \
	"\"counters\": {\"ios\": 1230000, \"reads\": 610000, \"writes\": " \
	"620000, \"bytes_read\": 2500000000, \"bytes_written\": 2546586573, " \
	"\"blocks_verified\": 1200000, \"errors\": 0}, " \
	"\"latency\": {\"count\": 1230000, \"p50_ns\": 120000, \"p90_ns\": " \
	"400000, \"p99_ns\": 1400000, \"p999_ns\": 3000000, \"max_ns\": " \
	"5000000}, \"fault_ops\": {\"hot_add_cpu\": 1, \"hot_add_memory\": 1, " \
	"\"hot_replace\": 1}, \"findings\": {\"total\": 4, \"by_kind\": " \
	"{\"io_timeout\": 3, \"io_error\": 0, \"corruption\": 1}}}"

#define FINDINGS \
	"{\"run\": 12, \"findings\": [" \
	"{\"id\": 1, \"kind\": \"io_timeout\", \"title\": \"read took 31s\", " \
	"\"time\": \"2026-11-21T10:00:03.000Z\", \"step\": \"1 hot_replace\", " \
	"\"detail\": {\"offset\": 4096}}, " \
	"{\"id\": 2, \"kind\": \"corruption\", \"title\": \"stale block\", " \
	"\"time\": \"2026-11-21T10:00:04.000Z\", \"step\": null, " \
	"\"detail\": null}]}"

START_TEST(show_prints_summary)
{
	struct out	o;

	srv_route("GET", "/api/v1/runs/12", 200, FULL_RUN, NULL);
	srv_route("GET", "/api/v1/runs/12/findings", 200, FINDINGS, NULL);
	o = cli("show", "12", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_has(o.out, "run 12: local-smoke  seed 1  backend local\n");
	ck_has(o.out, "verdict: PASS  every step ran, no failing findings\n");
	ck_has(o.out, "started 2026-11-21T10:00:00.123Z  elapsed 14.2s  "
	    "steps 2/2\n");
	ck_has(o.out, "I/O: 1.23M ios (610k reads, 620k writes), 4.7 GiB, "
	    "1.20M blocks verified\n");
	ck_has(o.out, "latency: p50 120us  p90 400us  p99 1.4ms  p99.9 3.0ms  "
	    "max 5.0ms\n");
	ck_has(o.out, "faults: hot_add_cpu 1  hot_add_memory 1  "
	    "hot_replace 1\n");
	ck_has(o.out, "findings: 4 (io_timeout 3, corruption 1)\n");
	ck_has(o.out, "#1 io_timeout 1 hot_replace  read took 31s\n");
	ck_has(o.out, "#2 corruption -              stale block\n");
	ck_has(o.out, "2 more: hotsoak findings 12\n");
	ck_hasnt(o.out, "errors");	/* zero failures are not news */
	ck_assert_str_eq(srv_find("GET", "/api/v1/runs/12/findings").uri,
	    "/api/v1/runs/12/findings?limit=10");
	out_free(&o);

	o = cli("show", "--json", "12", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_has(o.out, "\"hot_add_memory\": 1");
	out_free(&o);
}
END_TEST

START_TEST(show_exit_follows_status)
{
	struct out	o;

	srv_route("GET", "/api/v1/runs/3", 200, "{\"id\": 3, \"status\": "
	    "\"running\", \"findings\": {\"total\": 0, \"by_kind\": {}}}", NULL);
	srv_route("GET", "/api/v1/runs/4", 200, "{\"id\": 4, \"status\": "
	    "\"finished\", \"verdict\": \"fail\", \"reason\": \"2 findings\"}",
	    NULL);
	o = cli("show", "--server", srv.url, "3", NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_has(o.out, "status: running\n");
	ck_has(o.out, "findings: none\n");
	out_free(&o);
	o = cli("show", "--server", srv.url, "4", NULL);
	ck_assert_int_eq(o.rc, CMD_FAILED);
	ck_has(o.out, "verdict: FAIL  2 findings\n");
	out_free(&o);
	o = cli("show", "--server", srv.url, "99", NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "nothing at /api/v1/runs/99");
	out_free(&o);
	o = cli("show", "--server", srv.url, "../etc", NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "bad run id");
	out_free(&o);
}
END_TEST

/* Whatever a server says, show prints what it can and does not crash. */
static const char *const garbage[] = {
	"{}",
	"{\"id\": \"x\", \"plan\": 5, \"counters\": null, \"latency\": "
	"\"fast\", \"fault_ops\": [1], \"step\": 5, \"steps\": {}, "
	"\"findings\": \"many\", \"status\": \"finished\", \"verdict\": 5}",
	"{\"id\": -1, \"seed\": 1.5, \"counters\": {\"ios\": -1, \"reads\": "
	"\"a\", \"bytes_read\": 1e300, \"writes\": 1e30}, \"latency\": "
	"{\"p50_ns\": null, \"p90_ns\": -3, \"max_ns\": 1e20}, \"findings\": "
	"{\"total\": 2, \"by_kind\": []}, \"fault_ops\": {\"x\": \"y\"}, "
	"\"steps\": [null, 1, {\"path\": 3}, {\"path\": \"0\"}], "
	"\"status\": \"finished\", \"verdict\": \"fail\"}",
	"{\"id\": 5, \"findings\": {\"total\": 3}, \"status\": \"finished\", "
	"\"verdict\": \"pass\", \"reason\": \"\\u001b[2Jgotcha\"}",
	"{\"elapsed_ms\": 9223372036854775807, \"step\": {\"total\": "
	"-4, \"index\": \"a\"}, \"counters\": {\"ios\": 99999999999999999}}",
	"[1, 2]",
	"\"str\"",
	"42",
	"null",
	"{\"id\": 1, \"id\": 2}",
	"{\"truncated\": ",
};

START_TEST(show_survives_garbage)
{
	struct out	 o;
	json_t		*j;
	int		 object;

	j = json_loads(garbage[_i], JSON_REJECT_DUPLICATES, NULL);
	object = json_is_object(j);
	json_decref(j);
	srv_route("GET", "/api/v1/runs/5", 200, garbage[_i], NULL);
	o = cli("show", "5", "--server", srv.url, NULL);
	if (garbage[_i][0] == '{' && strstr(garbage[_i], "\"verdict\": "
	    "\"pass\"") != NULL)
		ck_assert_int_eq(o.rc, CMD_OK);
	else if (strstr(garbage[_i], "\"verdict\": \"fail\"") != NULL)
		ck_assert_int_eq(o.rc, CMD_FAILED);
	else
		ck_assert_int_eq(o.rc, CMD_ERROR);
	if (!object)
		ck_has(o.err, "GET /api/v1/runs/5: the server's reply is not");
	else
		ck_has(o.out, "run ");
	/* No escape sequence reaches the terminal. */
	ck_hasnt(o.out, "\033");
	out_free(&o);
}
END_TEST

START_TEST(runs_table_and_filters)
{
	struct out	o;
	struct rec	r;

	srv_route("GET", "/api/v1/runs", 200, "{\"runs\": ["
	    "{\"id\": 12, \"plan\": \"local-smoke\", \"status\": \"finished\", "
	    "\"verdict\": \"pass\", \"created\": \"2026-11-21T10:00:00.123Z\", "
	    "\"elapsed_ms\": 14200, \"findings\": 0}, "
	    "{\"id\": 11, \"plan\": \"a-much-longer-plan-name\", \"status\": "
	    "\"running\", \"verdict\": null, \"created\": "
	    "\"2026-11-21T09:00:00.000Z\", \"elapsed_ms\": null, "
	    "\"findings\": 3}], \"next\": 11}", NULL);
	o = cli("runs", "--server", srv.url, "--status", "running", "--plan",
	    "a b&c", "--since", "2026-11-21T10:00:00+01:00", "--limit", "5",
	    "--verdict", "pass", NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	r = srv_find("GET", "/api/v1/runs");
	ck_has(r.uri, "status=running");
	ck_has(r.uri, "verdict=pass");
	ck_has(r.uri, "plan=a%20b%26c");
	ck_has(r.uri, "since=2026-11-21T10%3A00%3A00%2B01%3A00");
	ck_has(r.uri, "limit=5");
	ck_assert_ptr_eq(strchr(r.uri, ' '), NULL);
	ck_has(o.out, "ID  PLAN                     STATUS    VERDICT  CREATED"
	    "                   ELAPSED  FINDINGS\n");
	ck_has(o.out, "12  local-smoke              finished  pass     "
	    "2026-11-21T10:00:00.123Z    14.2s         0\n");
	ck_has(o.out, "11  a-much-longer-plan-name  running   -        "
	    "2026-11-21T09:00:00.000Z        -         3\n");
	ck_has(o.out, "older runs: add --before 11\n");
	out_free(&o);

	o = cli("runs", "--server", srv.url, "--json", NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_assert_str_eq(srv.recs[1].uri, "/api/v1/runs");
	json_decref(json_loads(o.out, 0, NULL));
	ck_has(o.out, "\"a-much-longer-plan-name\"");
	out_free(&o);

	o = cli("runs", "--server", srv.url, "--limit", "x", NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	out_free(&o);
}
END_TEST

START_TEST(findings_table)
{
	struct out	o;

	srv_route("GET", "/api/v1/runs/12/findings", 200, FINDINGS, NULL);
	o = cli("findings", "12", "--server", srv.url, "-v", NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_has(o.out, "ID  TIME                      KIND        STEP           "
	    "TITLE\n");
	ck_has(o.out, " 1  2026-11-21T10:00:03.000Z  io_timeout  1 hot_replace  "
	    "read took 31s\n    {\"offset\":4096}\n");
	ck_has(o.out, " 2  2026-11-21T10:00:04.000Z  corruption  -              "
	    "stale block\n");
	/* One page said all: fewer than asked for. */
	ck_assert_uint_eq(srv_count("GET", "/api/v1/runs/12/findings"), 1);
	out_free(&o);

	/* The server may not filter; the command does. */
	o = cli("findings", "12", "--server", srv.url, "--kind", "corruption",
	    NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_has(srv.recs[1].uri, "kind=corruption");
	ck_hasnt(o.out, "io_timeout");
	ck_has(o.out, "stale block");
	out_free(&o);
}
END_TEST

START_TEST(abort_exit_codes)
{
	struct out	o;

	srv_route("DELETE", "/api/v1/runs/5", 202, "{\"id\": 5}", NULL);
	srv_route("DELETE", "/api/v1/runs/6", 409, "{\"error\": \"conflict\", "
	    "\"detail\": \"run 6 is finished\"}", NULL);
	o = cli("abort", "5", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_assert_str_eq(o.out, "run 5: aborting\n");
	out_free(&o);
	o = cli("abort", "6", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_FAILED);
	ck_has(o.err, "conflict: run 6 is finished (HTTP 409)");
	out_free(&o);
	o = cli("abort", "7", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "(HTTP 404)");
	out_free(&o);
	ck_assert_uint_eq(srv_count("DELETE", "/api/v1/runs/"), 3);
}
END_TEST

START_TEST(token_only_when_configured)
{
	struct out	 o;
	const char	*tf = tmpfile_with("token", "filetoken\n");

	srv_route("DELETE", "/api/v1/runs/5", 202, "{}", NULL);
	o = cli("abort", "5", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_assert(!srv.recs[0].has_auth);
	out_free(&o);

	setenv("HOTSOAK_TOKEN", "s3cret", 1);
	o = cli("abort", "5", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_assert_str_eq(srv.recs[1].auth, "Bearer s3cret");
	out_free(&o);

	/* A file beats the variable; its newline is not part of the token. */
	o = cli("abort", "5", "--server", srv.url, "--token-file", tf, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_assert_str_eq(srv.recs[2].auth, "Bearer filetoken");
	out_free(&o);

	o = cli("abort", "5", "--server", srv.url, "--token-file",
	    "/nonexistent/token", NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "cannot read token file /nonexistent/token");
	ck_assert_uint_eq(srv.nrecs, 3);
	out_free(&o);
}
END_TEST

START_TEST(unauthorized_says_how)
{
	struct out	o;

	srv_route("POST", "/api/v1/runs", 401, "{\"error\": \"unauthorized\"}",
	    NULL);
	o = cli("run", "p", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "the server wants a token: --token-file FILE or "
	    "$HOTSOAK_TOKEN");
	out_free(&o);
}
END_TEST

START_TEST(unreachable_server)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	struct out		o;
	char			url[64], want[128];
	int			fd;

	/* A port that was free a moment ago and has no listener. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(sin.sin_port));
	setenv("HOTSOAK_SERVER", url, 1);
	o = cli("show", "1", NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	snprintf(want, sizeof want, "hotsoak: cannot reach %s: Connection "
	    "refused\n", url);
	ck_assert_str_eq(o.err, want);
	out_free(&o);

	o = cli("runs", "--server", "https://127.0.0.1:1", NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "only http://");
	out_free(&o);
}
END_TEST

START_TEST(non_json_error_body)
{
	struct route	*rt;
	struct out	 o;

	rt = srv_route("GET", "/api/v1/runs/1", 500, "<html>\n<b>oops</b>",
	    NULL);
	rt->ctype = "text/html";
	o = cli("show", "--server", srv.url, "1", NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "GET /api/v1/runs/1: the server answered HTTP 500");
	ck_has(o.err, "not JSON: <html>\n");
	out_free(&o);

	/* A 200 that is not JSON is as much an error. */
	rt = srv_route("GET", "/api/v1/runs", 200, "runs: none", NULL);
	rt->ctype = "text/plain";
	o = cli("runs", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "the server's reply is not JSON: runs: none");
	out_free(&o);
}
END_TEST

START_TEST(slow_and_huge_replies)
{
	struct out	o;
	uint64_t	t0;

	srv_route("GET", "/api/v1/runs/1", 200, NULL)->hold = 1;
	srv_route("GET", "/api/v1/runs/2", 200, NULL)->big = 1;
	t0 = clock_mono_ns();
	o = cli("show", "--server", srv.url, "--timeout", "300ms", "1", NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "no reply from");
	ck_assert_uint_lt(clock_mono_ns() - t0, 5000000000ULL);
	out_free(&o);

	o = cli("show", "--server", srv.url, "2", NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "is over 16777216 bytes");
	out_free(&o);
}
END_TEST

static void *
interrupter(void *arg)
{
	sigset_t	set;
	int		i;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* Once the waiting has begun. */
	for (i = 0; i < 500 && srv_count("GET", "/api/v1/runs/7") < 2; i++)
		usleep(10000);
	kill(getpid(), SIGINT);
	return NULL;
}

START_TEST(run_wait_interrupted)
{
	struct sigaction	 sa, before;
	struct out		 o;
	pthread_t		 t;

	sigaction(SIGINT, NULL, &before);
	srv_route("POST", "/api/v1/runs", 201, "{\"id\": 7}", NULL);
	srv_route("GET", "/api/v1/runs/7", 200, RUNNING(1, "wait", 1), NULL);
	pthread_create(&t, NULL, interrupter, NULL);
	o = cli("run", "--server", srv.url, "p", "--wait", "--interval", "50ms",
	    NULL);
	pthread_join(t, NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "hotsoak abort 7");
	ck_hasnt(o.err, "hotsoak: interrupted");
	/* Waiting stopped; the run was left alone. */
	ck_assert_uint_eq(srv_count("DELETE", "/"), 0);
	/* And ^C does what it did before. */
	sigaction(SIGINT, NULL, &sa);
	ck_assert_ptr_eq((void *)(uintptr_t)sa.sa_handler,
	    (void *)(uintptr_t)before.sa_handler);
	out_free(&o);
}
END_TEST

/* A campaign run of one plan, two repetitions, the second passing on retry. */
#define CRUN_HEAD(status, verdict) \
	"{\"id\": 41, \"campaign\": \"nightly\", \"trigger\": \"request\", " \
	"\"status\": \"" status "\", \"verdict\": " verdict ", " \
	"\"reason\": \"\", \"repeat\": 2, \"retries\": 1, \"elapsed_ms\": 5000, "
#define CRUN_RUNNING_1 \
	CRUN_HEAD("running", "null") \
	"\"counts\": {\"pass\": 1, \"running\": 1, \"attempts\": 2}, " \
	"\"plans\": [{\"index\": 0, \"plan\": \"local-smoke\", \"verdict\": " \
	"null, \"repetitions\": [{\"repetition\": 1, \"verdict\": \"pass\", " \
	"\"attempts\": [{\"attempt\": 1, \"run\": 100, \"verdict\": \"pass\", " \
	"\"status\": \"finished\"}]}, {\"repetition\": 2, \"verdict\": null, " \
	"\"attempts\": [{\"attempt\": 1, \"run\": 101, \"verdict\": null, " \
	"\"status\": \"running\"}]}]}]}"
#define CRUN_RUNNING_2 \
	CRUN_HEAD("running", "null") \
	"\"counts\": {\"pass\": 1, \"running\": 1, \"attempts\": 3}, " \
	"\"plans\": []}"
#define CRUN_FLAKY \
	CRUN_HEAD("finished", "\"flaky\"") \
	"\"counts\": {\"pass\": 1, \"flaky\": 1, \"attempts\": 3}, " \
	"\"plans\": [{\"index\": 0, \"plan\": \"local-smoke\", \"verdict\": " \
	"\"flaky\", \"repetitions\": [{\"repetition\": 1, \"verdict\": " \
	"\"pass\", \"attempts\": [{\"attempt\": 1, \"run\": 100, \"verdict\": " \
	"\"pass\", \"status\": \"finished\", \"findings\": {\"total\": 0}}]}, " \
	"{\"repetition\": 2, \"verdict\": \"flaky\", \"attempts\": [" \
	"{\"attempt\": 1, \"run\": 101, \"verdict\": \"fail\", \"status\": " \
	"\"finished\", \"findings\": {\"total\": 2, \"by_kind\": " \
	"{\"corruption\": 2}}}, {\"attempt\": 2, \"run\": 102, \"verdict\": " \
	"\"pass\", \"status\": \"finished\", \"findings\": {\"total\": 0}}]}]}, " \
	"{\"index\": 1, \"plan\": \"qemu-smoke\", \"verdict\": \"pass\", " \
	"\"repetitions\": []}]}"

START_TEST(campaign_start_wait_flaky)
{
	struct out	o;
	struct rec	r;
	char		want[256];

	setenv("HOTSOAK_TOKEN", "s3cret", 1);
	srv_route("POST", "/api/v1/campaigns/nightly/start", 201,
	    CRUN_HEAD("running", "null") "\"counts\": {\"attempts\": 0}}",
	    NULL)->location = "/api/v1/campaign-runs/41";
	srv_route("GET", "/api/v1/campaign-runs/41", 200, CRUN_RUNNING_1,
	    CRUN_RUNNING_1, CRUN_RUNNING_2, CRUN_FLAKY, NULL);
	o = cli("campaign", "start", "nightly", "--wait", "--interval", "10ms",
	    "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_FLAKY);
	r = srv_find("POST", "/api/v1/campaigns/");
	ck_assert_str_eq(r.uri, "/api/v1/campaigns/nightly/start");
	ck_assert_str_eq(r.auth, "Bearer s3cret");
	ck_assert_str_eq(r.body, "");
	snprintf(want, sizeof want, "campaign run 41: nightly started, "
	    "%s/api/v1/campaign-runs/41\n", srv.url);
	ck_has(o.out, want);
	/* Not a terminal: a line when the counts change, not per poll. */
	ck_has(o.out, "[   5.0s] attempts 2  1 pass  1 running\n");
	ck_has(o.out, "[   5.0s] attempts 3  1 pass  1 running\n");
	ck_assert_ptr_eq(strstr(strstr(o.out, "attempts 2  ") + 1,
	    "attempts 2  "), NULL);
	ck_has(o.out, "campaign run 41: nightly  trigger request  repeat 2  "
	    "retries 1\n");
	ck_has(o.out, "verdict: FLAKY\n");
	ck_has(o.out, "elapsed 5.0s  attempts 3\n");
	ck_has(o.out, "repetitions: 1 pass, 1 flaky\n");
	ck_has(o.out, "PLAN         VERDICT  REPETITION  ATTEMPTS\n");
	ck_has(o.out, "local-smoke  flaky    #1 pass     run 100 pass\n");
	ck_has(o.out, "                      #2 flaky    run 101 fail "
	    "(2 findings), run 102 pass\n");
	ck_has(o.out, "qemu-smoke   pass     -           -\n");
	ck_assert_uint_eq(srv_count("GET", "/api/v1/campaign-runs/41"), 4);
	ck_assert_str_eq(o.err, "");
	out_free(&o);

	/* The same table for the campaign run by id, with the same exit. */
	o = cli("campaign", "show", "41", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_FLAKY);
	ck_has(o.out, "#2 flaky    run 101 fail (2 findings), run 102 pass\n");
	out_free(&o);
}
END_TEST

START_TEST(campaign_start_refused)
{
	struct out	o;

	srv_route("POST", "/api/v1/campaigns/nightly/start", 409,
	    "{\"error\": \"already running\", \"campaign_run\": 40}", NULL);
	o = cli("campaign", "start", "--server", srv.url, "nightly", NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_assert_str_eq(o.err, "hotsoak: campaign nightly is already running "
	    "(campaign run 40)\n");
	ck_assert_str_eq(o.out, "");
	out_free(&o);

	/* A name travels encoded; an unknown one is the server's 404. */
	o = cli("campaign", "start", "--server", srv.url, "no such", NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_assert_str_eq(srv_find("POST", "/api/v1/campaigns/no").uri,
	    "/api/v1/campaigns/no%20such/start");
	ck_has(o.err, "(HTTP 404)");
	out_free(&o);

	o = cli("campaign", "launch", "nightly", NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "unknown campaign command `launch`");
	out_free(&o);
	ck_assert_uint_eq(srv_count("POST", "/"), 2);
}
END_TEST

START_TEST(campaign_abort_name_or_id)
{
	struct out	o;
	struct rec	r;

	setenv("HOTSOAK_TOKEN", "s3cret", 1);
	srv_route("POST", "/api/v1/campaigns/nightly/abort", 202,
	    CRUN_RUNNING_2, NULL);
	srv_route("DELETE", "/api/v1/campaign-runs/41", 202, CRUN_RUNNING_2,
	    NULL);
	srv_route("POST", "/api/v1/campaigns/weekly/abort", 409, "{\"error\": "
	    "\"conflict\", \"detail\": \"campaign weekly is not running\"}",
	    NULL);
	o = cli("campaign", "abort", "nightly", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_assert_str_eq(o.out, "campaign run 41 (nightly): aborting\n");
	r = srv_find("POST", "/api/v1/campaigns/nightly/abort");
	ck_assert_str_eq(r.auth, "Bearer s3cret");
	ck_assert_str_eq(r.body, "");
	out_free(&o);

	o = cli("campaign", "abort", "41", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_assert_str_eq(o.out, "campaign run 41: aborting\n");
	r = srv_find("DELETE", "/api/v1/campaign-runs/");
	ck_assert_str_eq(r.uri, "/api/v1/campaign-runs/41");
	ck_assert_str_eq(r.auth, "Bearer s3cret");
	out_free(&o);

	o = cli("campaign", "abort", "weekly", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_FAILED);
	ck_has(o.err, "campaign weekly is not running (HTTP 409)");
	out_free(&o);
	ck_assert_uint_eq(srv.nrecs, 3);
}
END_TEST

/* 2026-11-22T02:00:00Z */
#define NEXT_NS	"1795312800000000000"

START_TEST(campaign_show_name)
{
	struct out	o;

	setenv("TZ", "UTC", 1);
	tzset();
	srv_route("GET", "/api/v1/campaigns/nightly", 200, "{\"name\": "
	    "\"nightly\", \"file\": \"nightly.yaml\", \"description\": "
	    "\"every night\", \"plans\": [\"local-smoke.yaml\", "
	    "\"qemu-smoke.yaml\"], \"repeat\": 2, \"parallel\": 1, \"retries\": "
	    "1, \"schedule\": \"0 2 * * *\", \"valid\": true, \"errors\": [], "
	    "\"next_run\": \"2026-11-22T02:00:00Z\", \"next_run_ns\": " NEXT_NS
	    ", \"running\": 42, \"last_run\": null, \"runs\": [{\"id\": 41, "
	    "\"trigger\": \"schedule\", \"status\": \"finished\", \"verdict\": "
	    "\"flaky\", \"started\": \"2026-11-21T02:00:00Z\", \"elapsed_ms\": "
	    "125000, \"counts\": {\"pass\": 1, \"flaky\": 1}}], \"events\": [{"
	    "\"id\": 7, \"time\": \"2026-11-21T02:00:00Z\", \"kind\": "
	    "\"skipped\", \"campaign_run\": null, \"detail\": \"run 40 still "
	    "going\"}]}", NULL);
	o = cli("campaign", "show", "nightly", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_has(o.out, "campaign nightly (nightly.yaml)\n  every night\n");
	ck_has(o.out, "plans: local-smoke.yaml, qemu-smoke.yaml\n");
	ck_has(o.out, "repeat 2  parallel 1  retries 1\n");
	ck_has(o.out, "schedule: 0 2 * * *  next run 2026-11-22 02:00:00 UTC\n");
	ck_has(o.out, "running: campaign run 42\n");
	ck_has(o.out, "\nrecent runs:\nID  TRIGGER   STATUS    VERDICT  STARTED  "
	    "             ELAPSED  REPETITIONS\n");
	ck_has(o.out, "41  schedule  finished  flaky    2026-11-21T02:00:00Z    "
	    "2m05s  1 pass, 1 flaky\n");
	ck_has(o.out, "2026-11-21T02:00:00Z  skipped    -  run 40 still going\n");
	ck_hasnt(o.out, "invalid");
	out_free(&o);
}
END_TEST

START_TEST(campaigns_listing)
{
	struct out	o;

	setenv("TZ", "UTC", 1);
	tzset();
	srv_route("GET", "/api/v1/campaigns", 200, "{\"campaigns\": ["
	    "{\"name\": \"nightly\", \"schedule\": \"0 2 * * *\", \"valid\": "
	    "true, \"errors\": [], \"next_run_ns\": " NEXT_NS ", \"running\": "
	    "null, \"last_run\": {\"id\": 41, \"status\": \"finished\", "
	    "\"verdict\": \"flaky\"}}, "
	    "{\"name\": \"by-hand\", \"schedule\": null, \"valid\": true, "
	    "\"errors\": [], \"next_run_ns\": null, \"running\": 43, "
	    "\"last_run\": {\"id\": 43, \"status\": \"running\", \"verdict\": "
	    "null}}, "
	    "{\"name\": \"broken\", \"schedule\": \"@daily\", \"valid\": false, "
	    "\"errors\": [\"broken.yaml:3:5: error: unknown plan `nope`\", "
	    "\"broken.yaml:4:1: error: second\"], \"next_run\": null, "
	    "\"running\": null, \"last_run\": null}]}", NULL);
	o = cli("campaigns", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_assert_str_eq(o.out,
	    "NAME     SCHEDULE   NEXT RUN          LAST RUN    RUNNING\n"
	    "nightly  0 2 * * *  2026-11-22 02:00  41 flaky    -\n"
	    "by-hand  -          -                 43 running  43\n"
	    "broken   @daily     -                 -           -\n"
	    "    invalid: broken.yaml:3:5: error: unknown plan `nope`\n");
	ck_assert_str_eq(srv_find("GET", "/api/v1/campaigns").uri,
	    "/api/v1/campaigns");
	out_free(&o);
}
END_TEST

#define RERUN_RUNNING \
	"{\"id\": 5, \"run\": 12, \"plan\": \"local-smoke\", \"seed\": 1, " \
	"\"times\": 3, \"parallel\": 2, \"status\": \"running\", " \
	"\"elapsed_ms\": 4100, \"completed\": 1, \"verdicts\": {\"fail\": 1}, " \
	"\"runs\": [], \"reproduction\": [], \"new_findings\": []}"
#define RERUN_DONE \
	"{\"id\": 5, \"run\": 12, \"plan\": \"local-smoke\", \"seed\": 1, " \
	"\"times\": 3, \"parallel\": 2, \"status\": \"finished\", " \
	"\"completed\": 3, \"verdicts\": {\"pass\": 1, \"fail\": 2}, " \
	"\"runs\": [{\"id\": 21, \"status\": \"finished\", \"verdict\": " \
	"\"fail\", \"findings\": 2}, {\"id\": 22, \"status\": \"finished\", " \
	"\"verdict\": \"pass\", \"findings\": 0}, {\"id\": 23, \"status\": " \
	"\"finished\", \"verdict\": \"fail\", \"findings\": 1}], " \
	"\"reproduction\": [{\"kind\": \"io_timeout\", \"title\": \"read took " \
	"31s\", \"seen\": 2, \"of\": 3, \"rate\": 0.6666666666666666}, " \
	"{\"kind\": \"corruption\", \"title\": \"stale block\", \"seen\": 0, " \
	"\"of\": 3, \"rate\": 0}], \"new_findings\": [{\"kind\": " \
	"\"io_error\", \"title\": \"EIO on write\", \"seen\": 1}]}"

START_TEST(rerun_wait_rates)
{
	struct out	 o;
	struct rec	 r;
	json_t		*j;
	char		 want[256];

	setenv("HOTSOAK_TOKEN", "s3cret", 1);
	srv_route("POST", "/api/v1/runs/12/rerun", 201, RERUN_RUNNING,
	    NULL)->location = "/api/v1/reruns/5";
	srv_route("GET", "/api/v1/reruns/5", 200, RERUN_RUNNING, RERUN_DONE,
	    NULL);
	o = cli("rerun", "12", "--times", "3", "--parallel", "2", "--wait",
	    "--interval", "10ms", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	r = srv_find("POST", "/api/v1/runs/12/rerun");
	ck_assert_str_eq(r.ctype, "application/json");
	ck_assert_str_eq(r.auth, "Bearer s3cret");
	ck_assert_ptr_nonnull(j = json_loads(r.body, 0, NULL));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "times")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "parallel")), 2);
	json_decref(j);
	snprintf(want, sizeof want, "rerun 5: run 12 3 times, "
	    "%s/api/v1/reruns/5\n", srv.url);
	ck_has(o.out, want);
	ck_has(o.out, "[   4.1s] 1/3 done  1 fail\n");
	ck_has(o.out, "rerun 5 of run 12: local-smoke  seed 1  3 times\n");
	ck_has(o.out, "runs: 21 fail (2 findings), 22 pass, 23 fail "
	    "(1 finding)\n");
	ck_has(o.out, "KIND        TITLE          SEEN  RATE\n");
	ck_has(o.out, "io_timeout  read took 31s   2/3   67%\n");
	ck_has(o.out, "corruption  stale block     0/3    0%\n");
	ck_has(o.out, "new findings:\nKIND      TITLE         SEEN\n"
	    "io_error  EIO on write     1\n");
	out_free(&o);

	/* Without --parallel the server's default holds; --times is needed. */
	o = cli("rerun", "12", "--times", "1", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_assert_str_eq(srv.recs[3].body, "{\"times\":1}");
	out_free(&o);
	o = cli("rerun", "12", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "usage: hotsoak rerun --times N");
	out_free(&o);
	o = cli("rerun", "12", "--times", "0", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "bad --times `0`");
	out_free(&o);
	ck_assert_uint_eq(srv_count("POST", "/"), 2);
}
END_TEST

#define JUNIT_XML \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<testsuites name=\"hotsoak\" tests=\"1\" failures=\"0\">\n" \
	"  <testsuite name=\"local-smoke\"><testcase name=\"run 12\"/>" \
	"</testsuite>\n</testsuites>\n"

/* The whole of path, or NULL when there is no such file. */
static char *
file_text(const char *path)
{
	char	*text;
	int	 fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	text = slurp(fd);
	close(fd);
	return text;
}

START_TEST(report_junit_and_json)
{
	struct route	*rt;
	struct out	 o;
	json_t		*j;
	char		 file[128], tmp[160], *text;

	rt = srv_route("GET", "/api/v1/runs/12/junit.xml", 200, JUNIT_XML,
	    NULL);
	rt->ctype = "application/xml";
	srv_route("GET", "/api/v1/runs/12/findings", 200, FINDINGS, NULL);
	srv_route("GET", "/api/v1/runs/12", 200, FULL_RUN, NULL);
	srv_route("GET", "/api/v1/campaign-runs/41", 200, CRUN_FLAKY, NULL);
	snprintf(file, sizeof file, "%s/junit.xml", tmpdir);
	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	o = cli("report", "12", "--junit", file, "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_assert_ptr_nonnull(text = file_text(file));
	ck_assert_str_eq(text, JUNIT_XML);
	free(text);
	ck_assert_int_eq(access(tmp, F_OK), -1);
	out_free(&o);

	o = cli("report", "12", "--junit", "-", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_assert_str_eq(o.out, JUNIT_XML);
	out_free(&o);

	/* No XML for the campaign run: no file, and an old one stays. */
	o = cli("report", "41", "--campaign", "--junit", file, "--server",
	    srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_has(o.err, "nothing at /api/v1/campaign-runs/41/junit.xml");
	ck_assert_ptr_nonnull(text = file_text(file));
	ck_assert_str_eq(text, JUNIT_XML);
	free(text);
	ck_assert_int_eq(access(tmp, F_OK), -1);
	unlink(file);
	out_free(&o);
	o = cli("report", "41", "--campaign", "--junit", file, "--server",
	    srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_ERROR);
	ck_assert_int_eq(access(file, F_OK), -1);
	ck_assert_int_eq(access(tmp, F_OK), -1);
	out_free(&o);

	/* The run's JSON carries its findings. */
	snprintf(file, sizeof file, "%s/run.json", tmpdir);
	o = cli("report", "--json", file, "12", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_assert_ptr_nonnull(j = json_load_file(file, 0, NULL));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), 12);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "findings_list")),
	    2);
	json_decref(j);
	out_free(&o);

	/* A campaign run's exit follows its verdict: flaky is 3. */
	o = cli("report", "41", "--campaign", "--json", "-", "--server",
	    srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_FLAKY);
	ck_assert_ptr_nonnull(j = json_loads(o.out, 0, NULL));
	ck_assert_str_eq(json_string_value(json_object_get(j, "verdict")),
	    "flaky");
	ck_assert_ptr_null(json_object_get(j, "findings_list"));
	json_decref(j);
	out_free(&o);
	o = cli("report", "41", "--campaign", "--server", srv.url, NULL);
	ck_assert_int_eq(o.rc, CMD_FLAKY);
	ck_has(o.out, "verdict: FLAKY\n");
	out_free(&o);
}
END_TEST

#define SUMMARY_JSON \
	"{\"since\": \"2026-11-21T09:00:00Z\", \"until\": " \
	"\"2026-11-22T09:00:00Z\", \"totals\": {\"outcomes\": 12, \"runs\": " \
	"15, \"pass\": 9, \"fail\": 1, \"error\": 0, \"flaky\": 2, " \
	"\"aborted\": 0, \"interrupted\": 0}, \"plans\": [{\"plan\": " \
	"\"local-smoke\", \"outcomes\": 10, \"runs\": 13, \"pass\": 7, " \
	"\"fail\": 1, \"error\": 0, \"flaky\": 2, \"aborted\": 0, " \
	"\"interrupted\": 0, \"last_run\": 102, \"last_verdict\": \"pass\"}], " \
	"\"finding_kinds\": [{\"kind\": \"corruption\", \"findings\": 4, " \
	"\"outcomes\": 3, \"fail\": 1, \"error\": 0, \"flaky\": 2, " \
	"\"pass\": 0}], \"campaign_runs\": [{\"id\": 41, \"campaign\": " \
	"\"nightly\", \"trigger\": \"schedule\", \"status\": \"finished\", " \
	"\"verdict\": \"flaky\", \"started\": \"2026-11-22T02:00:00Z\", " \
	"\"counts\": {\"attempts\": 3}}]}"

START_TEST(summary_query_and_tables)
{
	struct out	o;

	srv_route("GET", "/api/v1/summary", 200, SUMMARY_JSON, NULL);
	o = cli("summary", "--server", srv.url, "--since",
	    "2026-11-21T10:00:00+01:00", "--until", "1 h", NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_assert_str_eq(srv.recs[0].uri, "/api/v1/summary?since="
	    "2026-11-21T10%3A00%3A00%2B01%3A00&until=1%20h");
	ck_has(o.out, "since 2026-11-21T09:00:00Z  until 2026-11-22T09:00:00Z\n");
	ck_has(o.out, "outcomes 12 (15 runs): 9 pass, 1 fail, 2 flaky\n");
	ck_has(o.out, "PLAN         OUTCOMES  RUNS  PASS  FAIL  ERROR  FLAKY  "
	    "ABORTED  INTERRUPTED  LAST RUN\n");
	ck_has(o.out, "local-smoke        10    13     7     1      0      2  "
	    "      0            0  102 pass\n");
	ck_has(o.out, "FINDING KIND  FINDINGS  OUTCOMES  FAIL  ERROR  FLAKY  "
	    "PASS\n");
	ck_has(o.out, "corruption           4         3     1      0      2  "
	    "   0\n");
	ck_has(o.out, "41  nightly   schedule  flaky    2026-11-22T02:00:00Z  "
	    "       3\n");
	out_free(&o);

	o = cli("summary", "--server", srv.url, "--json", NULL);
	ck_assert_int_eq(o.rc, CMD_OK);
	ck_assert_str_eq(srv.recs[1].uri, "/api/v1/summary");
	ck_has(o.out, "\"local-smoke\"");
	out_free(&o);

	o = cli("summary", "--server", srv.url, "--since", "7d", NULL);
	ck_assert_str_eq(srv.recs[2].uri, "/api/v1/summary?since=7d");
	out_free(&o);
}
END_TEST

/* The program itself, for options given before the command's name. */
START_TEST(binary_global_options)
{
	const char	*bin = getenv("HOTSOAK_CLI"), *top;
	char		 path[128], built[1024], *text;
	pid_t		 pid;
	int		 status, fd;

	/* make check says where the build is; by hand, say HOTSOAK_CLI. */
	if (bin == NULL && (top = getenv("top_builddir")) != NULL) {
		snprintf(built, sizeof built, "%s/hotsoak", top);
		bin = built;
	}
	if (bin == NULL)
		bin = "./hotsoak";
	ck_assert_msg(access(bin, X_OK) == 0, "no program %s (set HOTSOAK_CLI)",
	    bin);
	srv_route("GET", "/api/v1/runs", 200, "{\"runs\": [{\"id\": 1, "
	    "\"plan\": \"from-binary\"}]}", NULL);
	snprintf(path, sizeof path, "%s/bin.out", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ne(fd, -1);
	if ((pid = fork()) == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin, "hotsoak", "--server", srv.url, "--timeout=5s", "runs",
		    "--limit", "2", (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	text = slurp(fd);
	close(fd);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "status %d: %s", status, text);
	ck_has(text, "from-binary");
	ck_assert_str_eq(srv_find("GET", "/api/v1/runs").uri,
	    "/api/v1/runs?limit=2");
	free(text);
}
END_TEST

START_TEST(formats)
{
	char	buf[CLIENT_FMT_MAX];

	client_fmt_count(999, buf, sizeof buf);
	ck_assert_str_eq(buf, "999");
	client_fmt_count(999999, buf, sizeof buf);
	ck_assert_str_eq(buf, "1.00M");
	client_fmt_count(12345, buf, sizeof buf);
	ck_assert_str_eq(buf, "12.3k");
	client_fmt_bytes(512, buf, sizeof buf);
	ck_assert_str_eq(buf, "512 B");
	client_fmt_bytes(3ULL << 40, buf, sizeof buf);
	ck_assert_str_eq(buf, "3.0 TiB");
	client_fmt_ns(800, buf, sizeof buf);
	ck_assert_str_eq(buf, "800ns");
	client_fmt_ns(999999, buf, sizeof buf);
	ck_assert_str_eq(buf, "1.0ms");
	client_fmt_ns(125ULL * 1000000000, buf, sizeof buf);
	ck_assert_str_eq(buf, "2m05s");
	client_fmt_ns(UINT64_MAX, buf, sizeof buf);
	ck_assert_str_eq(buf, "213503d23h");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("cli");
	TCase	*tc = tcase_create("client");
	SRunner	*sr;
	char	 cmd[128];
	int	 failed;

	/* One folder for every test: they run one at a time. */
	snprintf(tmpdir, sizeof tmpdir, "/tmp/check-cli.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, run_file_posts_yaml);
	tcase_add_test(tc, run_name_posts_json);
	tcase_add_loop_test(tc, run_wait_follows_to_verdict, 0,
	    sizeof verdicts / sizeof verdicts[0]);
	tcase_add_test(tc, run_invalid_plan_lists_errors);
	tcase_add_test(tc, show_prints_summary);
	tcase_add_test(tc, show_exit_follows_status);
	tcase_add_loop_test(tc, show_survives_garbage, 0,
	    sizeof garbage / sizeof garbage[0]);
	tcase_add_test(tc, runs_table_and_filters);
	tcase_add_test(tc, findings_table);
	tcase_add_test(tc, abort_exit_codes);
	tcase_add_test(tc, token_only_when_configured);
	tcase_add_test(tc, unauthorized_says_how);
	tcase_add_test(tc, unreachable_server);
	tcase_add_test(tc, non_json_error_body);
	tcase_add_test(tc, slow_and_huge_replies);
	tcase_add_test(tc, run_wait_interrupted);
	tcase_add_test(tc, campaign_start_wait_flaky);
	tcase_add_test(tc, campaign_start_refused);
	tcase_add_test(tc, campaign_abort_name_or_id);
	tcase_add_test(tc, campaign_show_name);
	tcase_add_test(tc, campaigns_listing);
	tcase_add_test(tc, rerun_wait_rates);
	tcase_add_test(tc, report_junit_and_json);
	tcase_add_test(tc, summary_query_and_tables);
	tcase_add_test(tc, binary_global_options);
	tcase_add_test(tc, formats);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
