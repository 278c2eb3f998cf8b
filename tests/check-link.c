/* check-link.c: linked mode against a fake daemon on a private unix socket:
 * handshake and backoff, reports and findings through the outbox across
 * reconnects, bad lines, quiesce, pseudo-S4, crash, hot-add and a
 * hot-added disk found by its serial on fake sysfs and proc trees, the virtio, TCP and kernel-log inputs, and the real
 * binary under SIGTERM. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agent.h"
#include "channel.h"
#include "link.h"
#include "log.h"
#include "topo.h"
#include "faketree.h"

#define BS		4096
#define TARGET_SIZE	(256 * BS)
#define TOKEN		"tok-3f9a"
#define BOOT_ID		"boot-test-1"

/* One fake daemon and one agent per test (each test runs in its own process). */
static struct {
	char		 dir[PATH_MAX];
	char		 sock[PATH_MAX + 16];
	char		 root[PATH_MAX + 16];
	char		 target[PATH_MAX + 16];
	int		 lfd;		/* listening */
	int		 cfd;		/* the agent's connection */
	char		*buf;		/* what cfd gave, not yet a line */
	size_t		 len;
	uint64_t	 next_id;	/* the fake daemon's request ids */
	bool		 ack_reports, ack_findings, ack_topology;
	json_t		*acked;		/* ids answered, in order */
	unsigned	 heartbeats;
	json_t		*last_heartbeat;
	struct agent	*agent;
	pthread_t	 thread;
	bool		 running;
	int		 uevents;	/* the test's end of the uevent socketpair */
} F;

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
nap_ms(unsigned ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* fake sysfs trees */

static void
putf(const char *content, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
putf(const char *content, const char *fmt, ...)
{
	va_list	ap;
	char	rel[256];

	va_start(ap, fmt);
	vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	ft_put(rel, content);
}

/* The CPUs this process may run on: the per-cpu workers it gets. */
static unsigned
affinity_count(void)
{
	cpu_set_t	set;

	ck_assert_int_eq(sched_getaffinity(0, sizeof set, &set), 0);
	return (unsigned)CPU_COUNT(&set);
}

/* The k-th CPU number (from 0) this process may not run on: a hot-add's. */
static unsigned
spare_cpu(unsigned k)
{
	cpu_set_t	set;
	unsigned	i;

	ck_assert_int_eq(sched_getaffinity(0, sizeof set, &set), 0);
	for (i = 0; i < CPU_SETSIZE; i++)
		if (!CPU_ISSET(i, &set) && k-- == 0)
			return i;
	ck_abort_msg("no spare CPU number");
	return 0;
}

/*
 * The machine as this process sees it, online, and no list files, so
 * that online files say what runs: memory blocks 0-5 of 128 MiB online.
 */
static void
tree_setup(void)
{
	cpu_set_t	set;
	unsigned	i;

	snprintf(F.root, sizeof F.root, "%s/root", F.dir);
	ft_mkdirs(F.root);
	ft_put("proc/sys/kernel/random/boot_id", BOOT_ID "\n");
	ft_put("proc/meminfo", "MemTotal:         786432 kB\n"
	    "MemFree:          500000 kB\nMemAvailable:     600000 kB\n");
	ck_assert_int_eq(sched_getaffinity(0, sizeof set, &set), 0);
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			putf("1\n", "sys/devices/system/cpu/cpu%u/online", i);
	ft_put("sys/devices/system/memory/block_size_bytes", "8000000\n");
	for (i = 0; i < 6; i++) {
		putf("online\n", "sys/devices/system/memory/memory%u/state", i);
		putf("00000000\n",
		    "sys/devices/system/memory/memory%u/phys_index", i);
	}
	ft_put("sys/power/disk", "[shutdown] platform reboot\n");
	ft_put("sys/power/pm_test", "[none] core processors platform devices "
	    "freezer\n");
	ft_put("sys/power/state", "freeze mem disk\n");
}

/* the fake daemon */

static void
listen_unix(void)
{
	struct sockaddr_un	sun;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(F.sock), sizeof sun.sun_path);
	memcpy(sun.sun_path, F.sock, strlen(F.sock));
	F.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(F.lfd, 0);
	ck_assert_int_eq(bind(F.lfd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(F.lfd, 4), 0);
}

/*
 * One folder for the whole case, made and removed by the parent, so it
 * goes even when a failed test skips its teardown; one folder per test in it.
 */
static char	case_dir[PATH_MAX - 64];

static void
case_setup(void)
{
	ft_set_root(F.root);
	ft_case_dir(case_dir, sizeof case_dir, "check-link");
}

static void
case_teardown(void)
{
	ft_rmtree(case_dir);
}

static void
setup(void)
{
	memset(&F, 0, sizeof F);
	F.lfd = F.cfd = F.uevents = -1;
	/* Short: a unix socket's path has room for 107 bytes. */
	snprintf(F.dir, sizeof F.dir, "%s/t.XXXXXX", case_dir);
	if (mkdtemp(F.dir) == NULL)
		ck_abort_msg("mkdtemp %s: %s", F.dir, strerror(errno));
	snprintf(F.sock, sizeof F.sock, "%s/d.sock", F.dir);
	snprintf(F.target, sizeof F.target, "%s/target", F.dir);
	F.buf = malloc(1 << 20);
	F.acked = json_array();
	F.next_id = 100;
	F.ack_reports = F.ack_findings = F.ack_topology = true;
	tree_setup();
	listen_unix();
	log_set_level(LOG_LEVEL_INFO);
}

static void
agent_stop(void)
{
	if (!F.running)
		return;
	agent_request_stop(F.agent);
	pthread_join(F.thread, NULL);
	agent_free(F.agent);
	F.running = false;
}

static void
teardown(void)
{
	agent_stop();
	if (F.cfd != -1)
		close(F.cfd);
	if (F.lfd != -1)
		close(F.lfd);
	if (F.uevents != -1)
		close(F.uevents);
	json_decref(F.acked);
	json_decref(F.last_heartbeat);
	free(F.buf);
	ft_rmtree(F.dir);
}

static void *
agent_thread(void *arg)
{
	agent_run(arg);
	return NULL;
}

/* Start the agent in this process; o NULL: the usual options. */
static void
agent_start_opts(struct agent_opts *o)
{
	char	*cause = NULL;

	F.agent = agent_new(o, &cause);
	ck_assert_msg(F.agent != NULL, "agent_new: %s", cause);
	ck_assert_int_eq(pthread_create(&F.thread, NULL, agent_thread,
	    F.agent), 0);
	F.running = true;
}

static void
default_opts(struct agent_opts *o, char *chan, size_t len)
{
	memset(o, 0, sizeof *o);
	snprintf(chan, len, "unix:%s", F.sock);
	o->channel = chan;
	o->root = F.root;
	o->token = TOKEN;
	o->uevent_fd = TOPO_WATCH_POLL;
	o->memx_max = 1 << 20;
}

static void
agent_start(void)
{
	struct agent_opts	o;
	char			chan[PATH_MAX + 32];

	default_opts(&o, chan, sizeof chan);
	agent_start_opts(&o);
}

/* With a socketpair for uevents; the test keeps F.uevents. */
static void
agent_start_uevents(void)
{
	struct agent_opts	o;
	char			chan[PATH_MAX + 32];
	int			sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv),
	    0);
	default_opts(&o, chan, sizeof chan);
	o.uevent_fd = sv[0];
	F.uevents = sv[1];
	agent_start_opts(&o);
}

static bool
fake_accept(int ms)
{
	struct pollfd	pfd = { F.lfd, POLLIN, 0 };

	if (F.cfd != -1)
		close(F.cfd);
	F.cfd = -1;
	F.len = 0;
	if (poll(&pfd, 1, ms) != 1)
		return false;
	F.cfd = accept4(F.lfd, NULL, NULL, SOCK_CLOEXEC);
	return F.cfd != -1;
}

static void
fake_hangup(void)
{
	close(F.cfd);
	F.cfd = -1;
	F.len = 0;
}

static void
fake_write(const char *data, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = send(F.cfd, data, len, MSG_NOSIGNAL);
		if (n == -1 && errno == ENOTSOCK)
			n = write(F.cfd, data, len);
		if (n == -1 && errno == EINTR)
			continue;
		ck_assert_msg(n > 0, "write to the agent: %s", strerror(errno));
		data += n;
		len -= (size_t)n;
	}
}

static void
fake_line_out(const char *line)
{
	fake_write(line, strlen(line));
}

static void
fake_send(json_t *o)
{
	char	*s = json_dumps(o, JSON_COMPACT);

	ck_assert_ptr_nonnull(s);
	fake_write(s, strlen(s));
	fake_write("\n", 1);
	free(s);
	json_decref(o);
}

/* An acknowledgement; one the agent cannot get any more is not one. */
static void
fake_reply(json_int_t re)
{
	char	line[128];
	int	n;

	n = snprintf(line, sizeof line, "{\"type\":\"reply\",\"re\":%lld}\n",
	    (long long)re);
	if (F.cfd == -1 || send(F.cfd, line, (size_t)n, MSG_NOSIGNAL) != n)
		return;
	json_array_append_new(F.acked, json_integer(re));
}

/* The next line from the agent within ms (NULL: none, or it hung up). */
static char *
fake_line(int ms)
{
	struct pollfd	 pfd;
	uint64_t	 end = now_ms() + (uint64_t)ms, t;
	char		*nl, *line;
	ssize_t		 n;

	for (;;) {
		if ((nl = memchr(F.buf, '\n', F.len)) != NULL) {
			line = strndup(F.buf, (size_t)(nl - F.buf));
			F.len -= (size_t)(nl - F.buf) + 1;
			memmove(F.buf, nl + 1, F.len);
			return line;
		}
		t = now_ms();
		if (t >= end || F.cfd == -1)
			return NULL;
		pfd.fd = F.cfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(end - t)) != 1)
			return NULL;
		ck_assert_uint_lt(F.len, (1 << 20) - 65536);
		n = read(F.cfd, F.buf + F.len, 65536);
		if (n <= 0)
			return NULL;
		F.len += (size_t)n;
	}
}

static const char *
type_of(const json_t *m)
{
	return json_string_value(json_object_get(m, "type"));
}

static json_int_t
int_of(const json_t *m, const char *key)
{
	const json_t	*v = json_object_get(m, key);

	ck_assert_msg(json_is_integer(v), "`%s` is not an integer", key);
	return json_integer_value(v);
}

static const char *
str_of(const json_t *m, const char *key)
{
	const json_t	*v = json_object_get(m, key);

	ck_assert_msg(json_is_string(v), "`%s` is not a string", key);
	return json_string_value(v);
}

/* The next message, answered as the policy says; heartbeats are counted. */
static json_t *
fake_msg(int ms)
{
	json_error_t	 err;
	const char	*type;
	char		*line;
	json_t		*m;

	if ((line = fake_line(ms)) == NULL)
		return NULL;
	m = json_loads(line, 0, &err);
	ck_assert_msg(m != NULL, "the agent sent a bad line `%s`: %s", line,
	    err.text);
	free(line);
	type = type_of(m);
	if (strcmp(type, "heartbeat") == 0) {
		F.heartbeats++;
		json_decref(F.last_heartbeat);
		F.last_heartbeat = json_incref(m);
	} else if ((strcmp(type, "report") == 0 && F.ack_reports) ||
	    (strcmp(type, "finding") == 0 && F.ack_findings) ||
	    (strcmp(type, "topology") == 0 && F.ack_topology))
		fake_reply(int_of(m, "id"));
	return m;
}

/* The next message of type within ms, or NULL; others pass by. */
static json_t *
fake_wait(const char *type, int ms)
{
	uint64_t	 end = now_ms() + (uint64_t)ms, t;
	json_t		*m;

	while ((t = now_ms()) < end) {
		if ((m = fake_msg((int)(end - t))) == NULL)
			return NULL;
		if (strcmp(type_of(m), type) == 0)
			return m;
		json_decref(m);
	}
	return NULL;
}

/* Nothing from the agent for ms. */
static void
assert_quiet(int ms)
{
	struct pollfd	pfd = { F.cfd, POLLIN, 0 };

	ck_assert_uint_eq(F.len, 0);
	ck_assert_msg(poll(&pfd, 1, ms) == 0, "the agent spoke out of turn");
}

/*
 * Reads the hello, checks who it is, waits quiet_ms to see that nothing
 * else comes before the answer, and answers ok.
 */
static json_t *
fake_hello_quiet(bool resumed, int quiet_ms)
{
	json_t	*h;

	ck_assert_msg(fake_accept(3000), "the agent did not connect");
	h = fake_msg(3000);
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(type_of(h), "hello");
	ck_assert_int_eq(int_of(h, "version"), 1);
	ck_assert_str_eq(str_of(h, "token"), TOKEN);
	ck_assert_str_eq(str_of(h, "boot_id"), BOOT_ID);
	ck_assert(json_is_true(json_object_get(h, "resumed")) == resumed);
	if (quiet_ms > 0)
		assert_quiet(quiet_ms);
	fake_send(json_pack("{s:s, s:I, s:i}", "type", "reply", "re",
	    int_of(h, "id"), "version", 1));
	return h;
}

static json_t *
fake_hello(bool resumed)
{
	return fake_hello_quiet(resumed, 0);
}

/* Sends a request of the daemon's and returns its answer (NULL: none in ms). */
static json_t *
fake_call(json_t *req, int ms)
{
	json_int_t	 id = (json_int_t)F.next_id++;
	uint64_t	 end = now_ms() + (uint64_t)ms, t;
	json_t		*m, *re;
	const char	*type;

	json_object_set_new(req, "id", json_integer(id));
	fake_send(req);
	while ((t = now_ms()) < end) {
		if ((m = fake_msg((int)(end - t))) == NULL)
			return NULL;
		type = type_of(m);
		re = json_object_get(m, "re");
		if ((strcmp(type, "reply") == 0 || strcmp(type, "error") == 0) &&
		    json_is_integer(re) && json_integer_value(re) == id)
			return m;
		json_decref(m);
	}
	return NULL;
}

/* A call that must succeed. */
static json_t *
call_ok(json_t *req, int ms)
{
	json_t	*m = fake_call(req, ms);

	ck_assert_msg(m != NULL, "no answer");
	ck_assert_msg(strcmp(type_of(m), "reply") == 0, "error %s: %s",
	    json_string_value(json_object_get(m, "error")),
	    json_string_value(json_object_get(m, "detail")));
	return m;
}

/* A call that must fail with code; the detail must hold needle (or NULL). */
static void
call_error(json_t *req, const char *code, const char *needle)
{
	json_t	*m = fake_call(req, 3000);

	ck_assert_msg(m != NULL, "no answer");
	ck_assert_str_eq(type_of(m), "error");
	ck_assert_str_eq(str_of(m, "error"), code);
	/* "^text": the detail starts with it (the field it names comes first). */
	if (needle != NULL && needle[0] == '^')
		ck_assert_msg(strncmp(str_of(m, "detail"), needle + 1,
		    strlen(needle + 1)) == 0, "detail `%s` does not start with `%s`",
		    str_of(m, "detail"), needle + 1);
	else if (needle != NULL)
		ck_assert_msg(strstr(str_of(m, "detail"), needle) != NULL,
		    "detail `%s` lacks `%s`", str_of(m, "detail"), needle);
	json_decref(m);
}

static json_t *
workload(unsigned read_percent, unsigned workers)
{
	return json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:s, s:b, s:i, s:b,"
	    " s:i}", "path", F.target, "size", TARGET_SIZE, "block_size", BS,
	    "queue_depth", 2, "workers", workers, "read_percent", read_percent,
	    "pattern", "random", "verify", 1, "io_timeout_ms", 10000,
	    "direct", 0, "seed", 7);
}

static void
configure(json_t *w, unsigned heartbeat_ms, unsigned report_ms, bool online)
{
	json_decref(call_ok(json_pack("{s:s, s:o, s:i, s:i, s:b}",
	    "type", "configure", "workload", w, "heartbeat_ms", heartbeat_ms,
	    "report_ms", report_ms, "online", online), 3000));
}

static json_t *
start(void)
{
	return call_ok(json_pack("{s:s}", "type", "start"), 5000);
}

/* Zeroes block blk of the target behind the agent's back. */
static void
zero_block(unsigned blk)
{
	char	zero[BS];
	int	fd = open(F.target, O_WRONLY);

	memset(zero, 0, sizeof zero);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, zero, BS, (off_t)blk * BS), BS);
	close(fd);
}

/* The next request of the agent's (heartbeats skipped), or NULL. */
static json_t *
next_request(int ms)
{
	uint64_t	 end = now_ms() + (uint64_t)ms, t;
	json_t		*m;

	while ((t = now_ms()) < end) {
		if ((m = fake_msg((int)(end - t))) == NULL)
			return NULL;
		if (json_object_get(m, "id") != NULL)
			return m;
		json_decref(m);
	}
	return NULL;
}

static bool
acked(json_int_t id)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(F.acked, i, v)
		if (json_integer_value(v) == id)
			return true;
	return false;
}

/* tests */

START_TEST(hello_then_heartbeats)
{
	json_t		*h, *m;
	json_int_t	 seq = 0;
	uint64_t	 t0;
	unsigned	 n;

	agent_start();
	ck_assert(fake_accept(3000));
	h = fake_msg(3000);
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(type_of(h), "hello");
	ck_assert_int_eq(int_of(h, "version"), 1);
	ck_assert_str_eq(str_of(h, "token"), TOKEN);
	ck_assert_str_eq(str_of(h, "boot_id"), BOOT_ID);
	ck_assert_int_eq(int_of(h, "pid"), getpid());
	ck_assert_int_eq(int_of(h, "outbox"), 0);
	ck_assert(json_is_false(json_object_get(h, "resumed")));
	ck_assert(strncmp(str_of(h, "agent"), "hotsoak-agent ", 14) == 0);
	ck_assert_uint_gt(strlen(str_of(h, "hostname")), 0);
	/* Nothing else until the hello is answered. */
	assert_quiet(300);
	fake_send(json_pack("{s:s, s:I, s:i}", "type", "reply", "re",
	    int_of(h, "id"), "version", 1));
	json_decref(h);

	/* A heartbeat at once, then every heartbeat_ms. */
	m = fake_wait("heartbeat", 1000);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(str_of(m, "state"), "idle");
	json_decref(m);
	configure(workload(50, 1), 100, 1000, false);
	F.heartbeats = 0;
	t0 = now_ms();
	while (now_ms() - t0 < 1000) {
		if ((m = fake_msg((int)(1000 - (now_ms() - t0)))) == NULL)
			break;
		if (strcmp(type_of(m), "heartbeat") == 0) {
			ck_assert_int_gt(int_of(m, "seq"), seq);
			seq = int_of(m, "seq");
			ck_assert_str_eq(str_of(m, "state"), "idle");
		}
		json_decref(m);
	}
	n = F.heartbeats;
	ck_assert_msg(n >= 8 && n <= 12, "%u heartbeats in 1 s at 100 ms", n);
}
END_TEST

START_TEST(hello_refused_backs_off)
{
	json_t		*h;
	uint64_t	 t[4];
	int		 i;

	agent_start();
	/* unauthorized, three times: retried after 100, 200, 400 ms. */
	for (i = 0; i < 4; i++) {
		ck_assert_msg(fake_accept(3000), "no reconnect %d", i);
		t[i] = now_ms();
		h = fake_msg(3000);
		ck_assert_ptr_nonnull(h);
		ck_assert_str_eq(type_of(h), "hello");
		ck_assert(json_is_true(json_object_get(h, "resumed")) == (i > 0));
		if (i == 3) {
			fake_send(json_pack("{s:s, s:I}", "type", "reply", "re",
			    int_of(h, "id")));
			json_decref(h);
			break;
		}
		fake_send(json_pack("{s:s, s:I, s:s, s:s}", "type", "error",
		    "re", int_of(h, "id"), "error", "unauthorized", "detail",
		    "bad token"));
		json_decref(h);
	}
	ck_assert_uint_ge(t[1] - t[0], 90);
	ck_assert_uint_ge(t[2] - t[1], 190);
	ck_assert_uint_ge(t[3] - t[2], 390);
	ck_assert_uint_lt(t[3] - t[0], 2500);
	/* Accepted at last: the agent is up and talking. */
	h = fake_wait("heartbeat", 2000);
	ck_assert_ptr_nonnull(h);
	json_decref(h);
}
END_TEST

START_TEST(connects_when_daemon_comes_late)
{
	json_t	*h;

	/* No listener yet: the agent retries until there is one. */
	close(F.lfd);
	unlink(F.sock);
	F.lfd = -1;
	agent_start();
	nap_ms(450);
	listen_unix();
	h = fake_hello(false);
	json_decref(h);
}
END_TEST

START_TEST(reports_grow_and_stop_settles)
{
	json_t		*m, *c;
	json_int_t	 ios = 0, seq = 0;
	int		 i;
	bool		 final_report = false;

	agent_start();
	json_decref(fake_hello(false));
	configure(workload(50, 2), 1000, 100, false);
	m = start();
	ck_assert_int_eq(int_of(m, "workers"), 2);
	ck_assert_uint_eq(strlen(str_of(m, "run_id")), 18);
	ck_assert(strncmp(str_of(m, "run_id"), "0x", 2) == 0);
	json_decref(m);
	/* A second start while running is refused, the run goes on. */
	call_error(json_pack("{s:s}", "type", "start"), "busy", "running");
	call_error(json_pack("{s:s, s:o, s:i, s:i, s:b}", "type", "configure",
	    "workload", workload(50, 2), "heartbeat_ms", 1000, "report_ms",
	    100, "online", 0), "busy", NULL);
	for (i = 0; i < 3; i++) {
		m = fake_wait("report", 2000);
		ck_assert_msg(m != NULL, "report %d missing", i);
		ck_assert_int_gt(int_of(m, "seq"), seq);
		seq = int_of(m, "seq");
		ck_assert_str_eq(str_of(m, "state"), "running");
		c = json_object_get(m, "totals");
		ck_assert_int_gt(int_of(c, "ios"), ios);
		ios = int_of(c, "ios");
		ck_assert_int_eq(int_of(c, "corruptions"), 0);
		ck_assert_int_gt(int_of(json_object_get(m, "counters"), "ios"), 0);
		ck_assert_int_gt(int_of(json_object_get(m, "latency"), "count"),
		    0);
		ck_assert_int_gt(int_of(m, "interval_ms"), 50);
		json_decref(m);
	}
	/* stop: the last report first, then the reply with the totals. */
	json_object_set_new(m = json_pack("{s:s}", "type", "stop"), "id",
	    json_integer((json_int_t)F.next_id));
	fake_send(m);
	for (;;) {
		m = fake_msg(5000);
		ck_assert_msg(m != NULL, "no answer to stop");
		if (strcmp(type_of(m), "report") == 0)
			final_report = true;
		if (strcmp(type_of(m), "reply") == 0)
			break;
		ck_assert_str_ne(type_of(m), "error");
		json_decref(m);
	}
	ck_assert_int_eq(int_of(m, "re"), (json_int_t)F.next_id++);
	ck_assert(final_report);
	c = json_object_get(m, "counters");
	ck_assert_int_ge(int_of(c, "ios"), ios);
	/* The final verify pass read every block. */
	ck_assert_int_ge(int_of(c, "blocks_verified"), TARGET_SIZE / BS);
	ck_assert_int_ge(int_of(json_object_get(m, "latency"), "count"),
	    int_of(c, "ios"));
	json_decref(m);
	call_error(json_pack("{s:s}", "type", "stop"), "busy", "no workload");
}
END_TEST

START_TEST(findings_kept_until_acked)
{
	json_t		*m, *h, *d;
	json_int_t	 fid[2] = { 0, 0 }, off, id, last;
	uint64_t	 end;
	size_t		 i, outbox;
	int		 found = 0, seen_f;

	agent_start();
	json_decref(fake_hello(false));
	/* Reads only after the fill: damage stays until it is read. */
	configure(workload(100, 2), 1000, 100, false);
	json_decref(start());
	F.ack_findings = false;
	zero_block(3);
	zero_block(7);
	end = now_ms() + 4000;
	while (found < 2 && now_ms() < end) {
		if ((m = fake_wait("finding", (int)(end - now_ms()))) == NULL)
			break;
		ck_assert_str_eq(str_of(m, "kind"), "corruption");
		d = json_object_get(m, "detail");
		ck_assert_str_eq(str_of(d, "class"), "zeroed");
		off = int_of(d, "offset");
		ck_assert_msg(off == 3 * BS || off == 7 * BS, "offset %lld",
		    (long long)off);
		ck_assert_int_gt(int_of(m, "time_ns"), 0);
		fid[found++] = int_of(m, "id");
		json_decref(m);
	}
	ck_assert_int_eq(found, 2);
	/* The same damage read again is one finding, not one per read. */
	ck_assert_ptr_null(fake_wait("finding", 300));
	m = fake_wait("report", 1000);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_gt(int_of(m, "repeats"), 0);
	json_decref(m);

	/* The daemon goes away before acknowledging the findings. */
	F.ack_reports = false;
	fake_hangup();
	/* Queued requests wait for the hello's answer. */
	h = fake_hello_quiet(true, 200);
	outbox = (size_t)int_of(h, "outbox");
	ck_assert_uint_ge(outbox, 2);
	json_decref(h);
	/* The first `outbox` requests are the resends, in order, original ids. */
	seen_f = 0;
	last = 0;
	for (i = 0; i < outbox; i++) {
		m = next_request(2000);
		ck_assert_msg(m != NULL, "resend %zu missing", i);
		id = int_of(m, "id");
		ck_assert_msg(!acked(id), "acked %lld resent", (long long)id);
		ck_assert_int_gt(id, last);
		last = id;
		if (id == fid[0] || id == fid[1]) {
			ck_assert_str_eq(type_of(m), "finding");
			seen_f++;
		}
		fake_reply(id);
		json_decref(m);
	}
	ck_assert_int_eq(seen_f, 2);

	/* All acknowledged now: the next connection resends none of them. */
	nap_ms(150);
	fake_hangup();
	h = fake_hello(true);
	outbox = (size_t)int_of(h, "outbox");
	json_decref(h);
	for (i = 0; i < outbox + 3; i++) {
		if ((m = next_request(300)) == NULL)
			break;
		id = int_of(m, "id");
		ck_assert_msg(!acked(id), "acked %lld resent", (long long)id);
		fake_reply(id);
		json_decref(m);
	}
}
END_TEST

START_TEST(bad_lines_get_errors)
{
	static const char *const lines[] = {
		"this is not json\n",
		"{\"type\":\"bogus\",\"id\":5}\n",
		"{\"type\":\"hello\",\"id\":6,\"version\":1}\n",
		"{\"type\":\"heartbeat\",\"seq\":1,\"uptime_ms\":1,\"state\":\"x\"}\n",
		"{\"type\":\"quiesce\",\"id\":8}\n",
	};
	static const struct {
		const char	*code;
		json_int_t	 re;	/* 0: null */
	} want[] = {
		{ "malformed", 0 }, { "unknown_type", 5 },
		{ "wrong_direction", 6 }, { "wrong_direction", 0 },
		{ "bad_field", 8 },
	};
	json_t		*m, *w;
	char		*big;
	size_t		 i;

	agent_start();
	json_decref(fake_hello(false));
	for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		fake_line_out(lines[i]);
		m = fake_wait("error", 2000);
		ck_assert_msg(m != NULL, "no error for line %zu", i);
		ck_assert_str_eq(str_of(m, "error"), want[i].code);
		if (want[i].re == 0)
			ck_assert(json_is_null(json_object_get(m, "re")));
		else
			ck_assert_int_eq(int_of(m, "re"), want[i].re);
		json_decref(m);
	}
	/* Longer than a line may be: refused once, the next line is read. */
	big = malloc(300 * 1024 + 2);
	memset(big, 'x', 300 * 1024);
	big[0] = '{';
	big[300 * 1024] = '\n';
	fake_write(big, 300 * 1024 + 1);
	free(big);
	m = fake_wait("error", 2000);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(str_of(m, "error"), "oversized");
	json_decref(m);
	/* Answers are never answered, even to nothing. */
	fake_line_out("{\"type\":\"reply\",\"re\":999}\n");
	fake_line_out("{\"type\":\"error\",\"re\":null,\"error\":\"x\","
	    "\"detail\":\"y\"}\n");
	ck_assert_ptr_null(fake_wait("error", 300));

	/* Requests the agent refuses, with a detail that names the member. */
	call_error(json_pack("{s:s}", "type", "start"), "busy", "configure");
	w = workload(50, 1);
	json_object_set_new(w, "block_size", json_integer(1000));
	call_error(json_pack("{s:s, s:o, s:i, s:i, s:b}", "type", "configure",
	    "workload", w, "heartbeat_ms", 1000, "report_ms", 1000, "online", 0),
	    "bad_field", "workload.block_size");
	w = workload(50, 1);
	json_object_set_new(w, "path", json_string("auto"));
	call_error(json_pack("{s:s, s:o, s:i, s:i, s:b}", "type", "configure",
	    "workload", w, "heartbeat_ms", 1000, "report_ms", 1000, "online", 0),
	    "bad_field", "workload.path");
	w = workload(50, 1);
	json_object_set_new(w, "read_percent", json_integer(101));
	call_error(json_pack("{s:s, s:o, s:i, s:i, s:b}", "type", "configure",
	    "workload", w, "heartbeat_ms", 1000, "report_ms", 1000, "online", 0),
	    "bad_field", "^workload.read_percent: must be 0 to 100");
	call_error(json_pack("{s:s, s:o, s:i, s:i, s:b}", "type", "configure",
	    "workload", workload(50, 1), "heartbeat_ms", 0, "report_ms", 1000,
	    "online", 0), "bad_field", "^heartbeat_ms: must be");
	call_error(json_pack("{s:s, s:i}", "type", "quiesce", "timeout_ms", 100),
	    "busy", "no workload");
	/* A target that cannot be opened: start fails, and says where. */
	w = workload(50, 1);
	json_object_set_new(w, "path", json_string("/nonexistent-dir/target"));
	configure(w, 1000, 1000, false);
	call_error(json_pack("{s:s}", "type", "start"), "failed",
	    "/nonexistent-dir/target");

	/* And it carries on. */
	m = call_ok(json_pack("{s:s}", "type", "get_topology"), 3000);
	ck_assert_int_eq(int_of(json_object_get(m, "cpus"), "online"),
	    (json_int_t)affinity_count());
	ck_assert_int_eq(int_of(json_object_get(m, "memory"), "blocks"), 6);
	ck_assert_int_eq(int_of(json_object_get(m, "memory"), "block_size"),
	    128 << 20);
	ck_assert_int_eq(int_of(json_object_get(m, "memory"), "total_kb"),
	    786432);
	json_decref(m);
}
END_TEST

START_TEST(quiesce_holds_io)
{
	json_t	*m;
	bool	 quiet = false;
	int	 i;

	agent_start();
	json_decref(fake_hello(false));
	configure(workload(50, 2), 50, 100, false);
	json_decref(start());
	m = call_ok(json_pack("{s:s, s:i}", "type", "quiesce", "timeout_ms",
	    5000), 3000);
	ck_assert_int_ge(int_of(m, "drained_ms"), 0);
	ck_assert_int_ge(int_of(m, "inflight_at_start"), 0);
	json_decref(m);
	m = fake_wait("heartbeat", 1000);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(str_of(m, "state"), "quiesced");
	json_decref(m);
	/* A whole interval while quiesced: no I/O at all. */
	for (i = 0; i < 4 && !quiet; i++) {
		m = fake_wait("report", 1000);
		ck_assert_ptr_nonnull(m);
		quiet = int_of(json_object_get(m, "counters"), "ios") == 0;
		json_decref(m);
	}
	ck_assert_msg(quiet, "I/O went on while quiesced");
	m = call_ok(json_pack("{s:s}", "type", "resume"), 3000);
	ck_assert_str_eq(str_of(m, "state"), "running");
	json_decref(m);
	json_decref(fake_wait("report", 1000));
	m = fake_wait("report", 1000);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_gt(int_of(json_object_get(m, "counters"), "ios"), 0);
	json_decref(m);
}
END_TEST

/* The kernel's part, faked: /sys/power/state is a FIFO read late. */
struct s4_kernel {
	char	state[64], pm_test[64], disk[64];
	int	delay_ms;
};

static void *
s4_kernel_main(void *arg)
{
	struct s4_kernel	*k = arg;
	char			 path[PATH_MAX + 64];
	ssize_t			 n;
	int			 fd;

	nap_ms((unsigned)k->delay_ms);
	/*
	 * The agent writes pm_test, then blocks opening state until this
	 * open: what pm_test and disk hold now is what they held when "disk"
	 * was written (the agent resets pm_test only after that).
	 */
	for (n = 0; n < 200 && strcmp(ft_get("sys/power/pm_test"), "devices"); n++)
		nap_ms(10);
	snprintf(k->pm_test, sizeof k->pm_test, "%s", ft_get("sys/power/pm_test"));
	snprintf(k->disk, sizeof k->disk, "%s", ft_get("sys/power/disk"));
	snprintf(path, sizeof path, "%s", ft_at("sys/power/state"));
	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	n = read(fd, k->state, sizeof k->state - 1);
	k->state[n > 0 ? n : 0] = '\0';
	close(fd);
	return NULL;
}

START_TEST(pseudo_s4_cycle)
{
	struct s4_kernel	 k;
	pthread_t		 th;
	json_t			*m, *req;
	json_int_t		 id;
	bool			 busy = false, s4_seen = false;

	unlink(ft_at("sys/power/state"));
	ck_assert_int_eq(mkfifo(ft_at("sys/power/state"), 0600), 0);
	memset(&k, 0, sizeof k);
	k.delay_ms = 600;
	agent_start();
	json_decref(fake_hello(false));
	configure(workload(50, 2), 50, 1000, false);
	json_decref(start());
	ck_assert_int_eq(pthread_create(&th, NULL, s4_kernel_main, &k), 0);
	req = json_pack("{s:s, s:s, s:i, s:I}", "type", "pseudo_s4", "level",
	    "devices", "timeout_ms", 10000, "id", (json_int_t)(id =
	    (json_int_t)F.next_id++));
	fake_send(req);
	/* While the kernel holds the write: heartbeats say s4, a second is busy. */
	fake_send(json_pack("{s:s, s:s, s:i, s:I}", "type", "pseudo_s4", "level",
	    "devices", "timeout_ms", 10000, "id", (json_int_t)F.next_id++));
	for (;;) {
		m = fake_msg(5000);
		ck_assert_msg(m != NULL, "no answer to pseudo_s4");
		if (strcmp(type_of(m), "heartbeat") == 0 &&
		    strcmp(str_of(m, "state"), "s4") == 0)
			s4_seen = true;
		if (strcmp(type_of(m), "error") == 0) {
			ck_assert_int_eq(int_of(m, "re"), id + 1);
			ck_assert_str_eq(str_of(m, "error"), "busy");
			busy = true;
		}
		if (strcmp(type_of(m), "reply") == 0 && int_of(m, "re") == id)
			break;
		json_decref(m);
	}
	pthread_join(th, NULL);
	ck_assert(busy);
	ck_assert(s4_seen);
	ck_assert_str_eq(k.state, "disk");
	ck_assert_str_eq(k.pm_test, "devices");
	ck_assert_str_eq(k.disk, "platform");
	ck_assert_str_eq(ft_get("sys/power/pm_test"), "none");
	ck_assert_str_eq(str_of(m, "level"), "devices");
	ck_assert_int_ge(int_of(m, "kernel_ms"), k.delay_ms / 2);
	/* I/O went on while the state write was held: no stall of that length. */
	ck_assert_int_ge(int_of(m, "stall_ms"), 0);
	ck_assert_int_lt(int_of(m, "stall_ms"), k.delay_ms * 3 / 4);
	ck_assert_int_eq(int_of(m, "io_timeouts"), 0);
	ck_assert_int_eq(int_of(m, "io_errors"), 0);
	ck_assert_int_gt(int_of(m, "ios"), 0);
	json_decref(m);
	m = fake_wait("heartbeat", 1000);
	ck_assert_str_eq(str_of(m, "state"), "running");
	json_decref(m);

	/* A test level only; a missing file names itself. */
	call_error(json_pack("{s:s, s:s, s:i}", "type", "pseudo_s4", "level",
	    "none", "timeout_ms", 1000), "bad_field", "level");
	unlink(ft_at("sys/power/pm_test"));
	call_error(json_pack("{s:s, s:s, s:i}", "type", "pseudo_s4", "level",
	    "devices", "timeout_ms", 1000), "failed", "pm_test: No such file");
}
END_TEST

/* The crash request on a fake root, whose trigger is a plain file. */
START_TEST(crash_writes_the_trigger)
{
	json_t	*m;
	int	 i;

	ft_put("proc/sysrq-trigger", "");
	agent_start();
	json_decref(fake_hello(false));
	configure(workload(50, 1), 50, 1000, false);
	json_decref(start());
	/* One method only: the reader refuses another before any handler. */
	call_error(json_pack("{s:s, s:s}", "type", "crash", "method", "kexec"),
	    "bad_field", "method");
	ck_assert_str_eq(ft_get("proc/sysrq-trigger"), "");
	m = call_ok(json_pack("{s:s, s:s}", "type", "crash", "method", "sysrq"),
	    3000);
	ck_assert_str_eq(str_of(m, "method"), "sysrq");
	json_decref(m);
	/* The write follows the reply (and a sync). */
	for (i = 0; i < 500 && strcmp(ft_get("proc/sysrq-trigger"), "c"); i++)
		nap_ms(10);
	ck_assert_str_eq(ft_get("proc/sysrq-trigger"), "c");
	/* A kernel that did not go down leaves the agent working. */
	m = fake_wait("heartbeat", 2000);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(str_of(m, "state"), "running");
	json_decref(m);

	/* No trigger (a kernel without SysRq): an error, before any reply. */
	unlink(ft_at("proc/sysrq-trigger"));
	call_error(json_pack("{s:s, s:s}", "type", "crash", "method", "sysrq"),
	    "failed", "/proc/sysrq-trigger: No such file or directory");
	ck_assert_str_eq(ft_get("proc/sysrq-trigger"), "<missing>");
}
END_TEST

/*
 * A real kernel never returns from the trigger's write, so the reply must
 * be on the wire before it: here the trigger is a full FIFO whose write
 * blocks until the test reads, and the reply must come all the same.
 */
START_TEST(crash_reply_leaves_before_the_write)
{
	char	 page[4096], got[8192];
	size_t	 filled = 0, drained = 0;
	ssize_t	 n;
	uint64_t end;
	json_t	*m;
	int	 fd;
	char	 last = 0;

	unlink(ft_at("proc/sysrq-trigger"));
	ck_assert_int_eq(mkfifo(ft_at("proc/sysrq-trigger"), 0600), 0);
	/* Both ends, so the agent's open does not wait for a reader. */
	fd = open(ft_at("proc/sysrq-trigger"), O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	memset(page, 'x', sizeof page);
	while ((n = write(fd, page, sizeof page)) > 0)
		filled += (size_t)n;
	while ((n = write(fd, page, 1)) > 0)
		filled += (size_t)n;
	ck_assert_int_eq(errno, EAGAIN);
	agent_start();
	json_decref(fake_hello(false));
	m = call_ok(json_pack("{s:s, s:s}", "type", "crash", "method", "sysrq"),
	    5000);
	ck_assert_str_eq(str_of(m, "method"), "sysrq");
	json_decref(m);
	/* Room in the pipe lets the write through: `c` comes last. */
	end = now_ms() + 5000;
	while (now_ms() < end && (drained <= filled || last != 'c')) {
		if ((n = read(fd, got, sizeof got)) > 0) {
			drained += (size_t)n;
			last = got[n - 1];
		} else
			nap_ms(10);
	}
	close(fd);
	ck_assert_uint_eq(drained, filled + 1);
	ck_assert_int_eq(last, 'c');
}
END_TEST

/* The answer to request id within ms; other messages pass by (and are acked). */
static json_t *
answer_to(json_int_t id, int ms)
{
	uint64_t	 end = now_ms() + (uint64_t)ms, t;
	json_t		*m, *re;

	while ((t = now_ms()) < end) {
		if ((m = fake_msg((int)(end - t))) == NULL)
			return NULL;
		re = json_object_get(m, "re");
		if ((strcmp(type_of(m), "reply") == 0 ||
		    strcmp(type_of(m), "error") == 0) && json_is_integer(re) &&
		    json_integer_value(re) == id)
			return m;
		json_decref(m);
	}
	return NULL;
}

/* Zeroes block blk of the file at path behind the agent's back. */
static void
zero_block_at(const char *path, unsigned blk)
{
	char	zero[BS];
	int	fd = open(path, O_WRONLY);

	memset(zero, 0, sizeof zero);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, zero, BS, (off_t)blk * BS), BS);
	close(fd);
}

#define DISK_BLOCKS	64

/*
 * A disk hot-added behind a new bridge, faked: its sysfs serial appears
 * while add_target waits, then its /dev node (a regular file here). The
 * agent finds it by serial, fills it and runs verified I/O on it beside
 * the workload: in the reports, findings, quiesce and stop.
 */
START_TEST(add_target_runs_a_second_disk)
{
	char		 dev[PATH_MAX + 32];
	json_t		*m, *tl, *d;
	json_int_t	 id, blocks;
	bool		 seen_in_report = false, found = false;
	int		 i;

	ft_mkdirs(ft_at("sys/block/vda"));
	ft_mkdirs(ft_at("dev"));
	agent_start();
	json_decref(fake_hello(false));
	/* No workload yet: nothing to join. */
	call_error(json_pack("{s:s, s:s, s:i, s:i}", "type", "add_target",
	    "serial", "hotsoak-io1", "size", DISK_BLOCKS * BS, "within_ms", 100),
	    "busy", "no workload");
	/* Reads only after the fill: damage stays until it is read. */
	configure(workload(100, 1), 1000, 100, false);
	json_decref(start());
	call_error(json_pack("{s:s, s:s, s:i, s:i}", "type", "add_target",
	    "serial", "hotsoak-io1", "size", BS + 512, "within_ms", 100),
	    "bad_field", "^size: must be a multiple");
	/* A disk that never comes: the error names what was there. */
	call_error(json_pack("{s:s, s:s, s:i, s:i}", "type", "add_target",
	    "serial", "hotsoak-io9", "size", DISK_BLOCKS * BS, "within_ms", 200),
	    "failed", "no block device with serial `hotsoak-io9` appeared within "
	    "200 ms (serials seen: vda=(none))");

	/* The disk arrives while the request waits: sysfs first, then /dev. */
	id = (json_int_t)F.next_id++;
	fake_send(json_pack("{s:s, s:I, s:s, s:i, s:i}", "type", "add_target",
	    "id", id, "serial", "hotsoak-io1", "size", DISK_BLOCKS * BS,
	    "within_ms", 5000));
	nap_ms(300);
	ft_put("sys/block/vdb/serial", "hotsoak-io1\n");
	nap_ms(150);
	snprintf(dev, sizeof dev, "%s", ft_at("dev/vdb"));
	ft_put("dev/vdb", "");
	m = answer_to(id, 10000);
	ck_assert_msg(m != NULL, "no answer to add_target");
	ck_assert_msg(strcmp(type_of(m), "reply") == 0, "add_target: %s",
	    json_string_value(json_object_get(m, "detail")));
	ck_assert_str_eq(str_of(m, "path"), dev);
	ck_assert_str_eq(str_of(m, "serial"), "hotsoak-io1");
	ck_assert_int_ge(int_of(m, "found_ms"), 400);
	ck_assert_int_lt(int_of(m, "found_ms"), 3000);
	ck_assert_int_eq(int_of(m, "workers"), 1);
	ck_assert_int_eq(int_of(m, "size"), DISK_BLOCKS * BS);
	ck_assert_int_ge(int_of(m, "fill_ms"), 0);
	/* Its own stamps: not the workload's run id. */
	ck_assert_uint_eq(strlen(str_of(m, "run_id")), 18);
	json_decref(m);
	call_error(json_pack("{s:s, s:s, s:i, s:i}", "type", "add_target",
	    "serial", "hotsoak-io1", "size", DISK_BLOCKS * BS, "within_ms", 100),
	    "failed", "already a target");

	/* Reports list it, and its I/O is in the totals. */
	for (i = 0; i < 20 && !seen_in_report; i++) {
		m = fake_wait("report", 2000);
		ck_assert_ptr_nonnull(m);
		tl = json_object_get(m, "targets");
		if (json_array_size(tl) == 1) {
			d = json_array_get(tl, 0);
			ck_assert_str_eq(str_of(d, "path"), dev);
			ck_assert_str_eq(str_of(d, "serial"), "hotsoak-io1");
			if (int_of(json_object_get(d, "totals"), "ios") > DISK_BLOCKS) {
				seen_in_report = true;
				ck_assert_int_gt(int_of(json_object_get(m, "totals"),
				    "ios"), int_of(json_object_get(d, "totals"), "ios"));
			}
		}
		json_decref(m);
	}
	ck_assert_msg(seen_in_report, "no report showed I/O on the new disk");

	/* Damage on the new disk is found there, and says which disk. */
	zero_block_at(dev, 5);
	for (i = 0; i < 40 && !found; i++) {
		if ((m = fake_wait("finding", 500)) == NULL)
			continue;
		d = json_object_get(m, "detail");
		if (strcmp(str_of(m, "kind"), "corruption") == 0 &&
		    json_is_string(json_object_get(d, "path"))) {
			ck_assert_str_eq(str_of(d, "path"), dev);
			ck_assert_str_eq(str_of(d, "serial"), "hotsoak-io1");
			ck_assert_int_eq(int_of(d, "offset"), 5 * BS);
			ck_assert_str_eq(str_of(d, "class"), "zeroed");
			ck_assert_msg(strncmp(str_of(m, "title"), dev, strlen(dev)) ==
			    0, "title %s", str_of(m, "title"));
			found = true;
		}
		json_decref(m);
	}
	ck_assert_msg(found, "no corruption finding for the new disk");
	/* quiesce holds the new disk's I/O with the workload's. */
	json_decref(call_ok(json_pack("{s:s, s:i}", "type", "quiesce",
	    "timeout_ms", 5000), 3000));
	/* Held: neither disk does I/O for a whole interval. */
	for (i = 0; i < 6; i++) {
		m = fake_wait("report", 1000);
		ck_assert_ptr_nonnull(m);
		blocks = int_of(json_object_get(m, "counters"), "ios");
		json_decref(m);
		if (i > 0 && blocks == 0)
			break;
	}
	ck_assert_msg(blocks == 0, "I/O went on while quiesced");
	m = call_ok(json_pack("{s:s}", "type", "resume"), 3000);
	ck_assert_str_eq(str_of(m, "state"), "running");
	json_decref(m);

	/* stop: both disks verified, each disk's counters in targets. */
	m = call_ok(json_pack("{s:s}", "type", "stop"), 10000);
	tl = json_object_get(m, "targets");
	ck_assert_int_eq(json_array_size(tl), 1);
	d = json_object_get(json_array_get(tl, 0), "totals");
	ck_assert_int_ge(int_of(d, "blocks_verified"), DISK_BLOCKS);
	ck_assert_int_ge(int_of(json_object_get(m, "counters"),
	    "blocks_verified"), TARGET_SIZE / BS + DISK_BLOCKS);
	json_decref(m);
	call_error(json_pack("{s:s, s:s, s:i, s:i}", "type", "add_target",
	    "serial", "hotsoak-io1", "size", DISK_BLOCKS * BS, "within_ms", 100),
	    "busy", "no workload");
}
END_TEST

START_TEST(online_request)
{
	unsigned	 a = spare_cpu(0), b = spare_cpu(1), i;
	json_t		*m, *c;
	size_t		 k;
	bool		 cpu_a = false, mem6 = false;

	putf("0\n", "sys/devices/system/cpu/cpu%u/online", a);
	putf("0\n", "sys/devices/system/cpu/cpu%u/online", b);
	for (i = 6; i < 8; i++) {
		putf("offline\n", "sys/devices/system/memory/memory%u/state", i);
		putf("00000000\n",
		    "sys/devices/system/memory/memory%u/phys_index", i);
	}
	agent_start();
	json_decref(fake_hello(false));
	m = call_ok(json_pack("{s:s, s:b, s:b, s:s}", "type", "online", "cpus", 1,
	    "memory", 1, "memory_state", "online_movable"), 3000);
	ck_assert_int_eq(int_of(m, "cpus_onlined"), 2);
	ck_assert_int_eq(int_of(m, "blocks_onlined"), 2);
	json_decref(m);
	{
		char	rel[128];

		snprintf(rel, sizeof rel, "sys/devices/system/cpu/cpu%u/online",
		    a);
		ck_assert_str_eq(ft_get(rel), "1");
	}
	ck_assert_str_eq(ft_get("sys/devices/system/memory/memory7/state"),
	    "online_movable");
	/* What changed goes to the daemon as a topology message. */
	m = fake_wait("topology", 2000);
	ck_assert_ptr_nonnull(m);
	json_array_foreach(json_object_get(m, "changes"), k, c) {
		if (strcmp(str_of(c, "change"), "cpu-online") == 0 &&
		    int_of(c, "index") == a)
			cpu_a = true;
		if (strcmp(str_of(c, "change"), "mem-online") == 0 &&
		    int_of(c, "index") == 6)
			mem6 = true;
	}
	ck_assert(cpu_a);
	ck_assert(mem6);
	ck_assert_int_eq(int_of(json_object_get(m, "memory"), "blocks_online"),
	    8);
	json_decref(m);
}
END_TEST

static void
send_uevent(const char *action, const char *devpath, const char *subsystem)
{
	static unsigned	seq = 4000;
	char		buf[512];
	int		n;

	n = snprintf(buf, sizeof buf, "%s@%s%cACTION=%s%cDEVPATH=%s%c"
	    "SUBSYSTEM=%s%cSEQNUM=%u%c", action, devpath, 0, action, 0, devpath,
	    0, subsystem, 0, seq++, 0);
	ck_assert_int_eq(send(F.uevents, buf, (size_t)n, 0), n);
}

/* The topology message whose changes hold change/index, within ms. */
static json_t *
wait_change(const char *change, unsigned index, int ms)
{
	uint64_t	 end = now_ms() + (uint64_t)ms;
	json_t		*m, *c;
	size_t		 k;

	while (now_ms() < end) {
		if ((m = fake_wait("topology", (int)(end - now_ms()))) == NULL)
			return NULL;
		json_array_foreach(json_object_get(m, "changes"), k, c)
			if (strcmp(str_of(c, "change"), change) == 0 &&
			    int_of(c, "index") == index)
				return m;
		json_decref(m);
	}
	return NULL;
}

static const json_t *
change_in(const json_t *m, const char *change, unsigned index)
{
	const json_t	*c;
	size_t		 k;

	json_array_foreach(json_object_get(m, "changes"), k, c)
		if (strcmp(str_of(c, "change"), change) == 0 &&
		    int_of(c, "index") == index)
			return c;
	return NULL;
}

START_TEST(uevent_cpu_onlined_and_worked)
{
	unsigned	 x = spare_cpu(0), n = affinity_count();
	char		 dev[128], rel[128];
	const json_t	*c;
	json_t		*m;
	int		 i;
	bool		 grew = false;

	agent_start_uevents();
	json_decref(fake_hello(false));
	configure(workload(50, 0), 1000, 100, true);
	m = start();
	ck_assert_int_eq(int_of(m, "workers"), n);
	json_decref(m);

	/* A CPU appears, offline, as QEMU's device_add leaves it. */
	putf("0\n", "sys/devices/system/cpu/cpu%u/online", x);
	snprintf(dev, sizeof dev, "/devices/system/cpu/cpu%u", x);
	send_uevent("add", dev, "cpu");
	m = wait_change("cpu-added", x, 3000);
	ck_assert_msg(m != NULL, "no topology message for cpu%u", x);
	snprintf(rel, sizeof rel, "sys/devices/system/cpu/cpu%u/online", x);
	ck_assert_str_eq(ft_get(rel), "1");
	c = change_in(m, "cpu-added", x);
	ck_assert_int_ge(int_of(c, "online_ms"), 0);
	ck_assert_ptr_null(json_object_get(c, "online_error"));
	ck_assert_ptr_nonnull(change_in(m, "cpu-online", x));
	ck_assert_int_eq(int_of(json_object_get(m, "cpus"), "online"), n + 1);
	ck_assert_int_gt(int_of(m, "time_ns"), 0);
	json_decref(m);
	/* And a worker started on it. */
	for (i = 0; i < 10 && !grew; i++) {
		m = fake_wait("report", 1000);
		ck_assert_ptr_nonnull(m);
		grew = int_of(json_object_get(m, "counters"), "workers") ==
		    (json_int_t)n + 1;
		json_decref(m);
	}
	ck_assert_msg(grew, "no worker on the new CPU");

	/* A memory block appears: onlined as configured, and exercised. */
	ft_put("sys/devices/system/memory/memory8/phys_index", "00000008\n");
	ft_put("sys/devices/system/memory/memory8/state", "offline\n");
	send_uevent("add", "/devices/system/memory/memory8", "memory");
	m = wait_change("mem-added", 8, 3000);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(ft_get("sys/devices/system/memory/memory8/state"),
	    "online_movable");
	ck_assert_int_ge(int_of(change_in(m, "mem-added", 8), "online_ms"), 0);
	ck_assert_ptr_nonnull(change_in(m, "mem-online", 8));
	ck_assert_int_eq(int_of(json_object_get(m, "memory"), "blocks_online"),
	    7);
	json_decref(m);
}
END_TEST

START_TEST(uevent_without_online_leaves_it)
{
	unsigned	 x = spare_cpu(0);
	char		 dev[128], rel[128];
	json_t		*m;

	agent_start_uevents();
	json_decref(fake_hello(false));
	configure(workload(50, 1), 1000, 1000, false);
	putf("0\n", "sys/devices/system/cpu/cpu%u/online", x);
	snprintf(dev, sizeof dev, "/devices/system/cpu/cpu%u", x);
	send_uevent("add", dev, "cpu");
	m = wait_change("cpu-added", x, 3000);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_null(json_object_get(change_in(m, "cpu-added", x),
	    "online_ms"));
	json_decref(m);
	snprintf(rel, sizeof rel, "sys/devices/system/cpu/cpu%u/online", x);
	ck_assert_str_eq(ft_get(rel), "0\n");
}
END_TEST

/* A pty stands in for the virtio-serial port: a character device both ways. */
START_TEST(virtio_port_by_name)
{
	struct agent_opts	 o;
	struct termios		 t;
	char			 chan[64], *cause = NULL, path[PATH_MAX];
	json_t			*h;
	int			 m, saved;

	ck_assert_int_eq(channel_virtio_find(F.root, "org.hotsoak.agent", path,
	    sizeof path, &cause), -1);
	ck_assert_msg(strstr(cause, "org.hotsoak.agent") != NULL, "%s", cause);
	free(cause);

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_int_ge(m, 0);
	ck_assert_int_eq(grantpt(m), 0);
	ck_assert_int_eq(unlockpt(m), 0);
	ck_assert_int_eq(tcgetattr(m, &t), 0);
	cfmakeraw(&t);
	ck_assert_int_eq(tcsetattr(m, TCSANOW, &t), 0);
	ft_put("sys/class/virtio-ports/vport0p1/name", "org.qemu.guest_agent.0\n");
	ft_put("sys/class/virtio-ports/vport1p2/name", "org.hotsoak.agent\n");
	ft_mkdirs(ft_at("dev"));
	ck_assert_int_eq(symlink(ptsname(m), ft_at("dev/vport1p2")), 0);
	ck_assert_int_eq(channel_virtio_find(F.root, "org.hotsoak.agent", path,
	    sizeof path, &cause), 0);
	ck_assert_str_eq(path, ft_at("dev/vport1p2"));

	memset(&o, 0, sizeof o);
	snprintf(chan, sizeof chan, "virtio:org.hotsoak.agent");
	o.channel = chan;
	o.root = F.root;
	o.token = TOKEN;
	o.uevent_fd = TOPO_WATCH_POLL;
	agent_start_opts(&o);
	/* The fake daemon's end is the pty's master. */
	close(F.lfd);
	F.lfd = -1;
	saved = F.cfd;
	F.cfd = m;
	h = fake_msg(3000);
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(type_of(h), "hello");
	ck_assert_str_eq(str_of(h, "token"), TOKEN);
	fake_send(json_pack("{s:s, s:I}", "type", "reply", "re",
	    int_of(h, "id")));
	json_decref(h);
	h = call_ok(json_pack("{s:s}", "type", "get_topology"), 3000);
	json_decref(h);
	agent_stop();
	close(m);
	F.cfd = saved;
}
END_TEST

START_TEST(tcp_channel)
{
	struct sockaddr_in	 sin;
	struct agent_opts	 o;
	socklen_t		 len = sizeof sin;
	char			 chan[64];
	json_t			*h;

	close(F.lfd);
	F.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(F.lfd, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(F.lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(F.lfd, 4), 0);
	ck_assert_int_eq(getsockname(F.lfd, (struct sockaddr *)&sin, &len), 0);
	memset(&o, 0, sizeof o);
	snprintf(chan, sizeof chan, "tcp:127.0.0.1:%u", ntohs(sin.sin_port));
	o.channel = chan;
	o.root = F.root;
	o.token = TOKEN;
	o.uevent_fd = TOPO_WATCH_POLL;
	agent_start_opts(&o);
	h = fake_hello(false);
	json_decref(h);
	h = fake_wait("heartbeat", 2000);
	ck_assert_ptr_nonnull(h);
	json_decref(h);
}
END_TEST

START_TEST(channel_specs)
{
	static const struct {
		const char		*spec;
		int			 kind;	/* -1: refused */
		const char		*needle;
	} cases[] = {
		{ "unix:/run/hotsoak.sock", CHANNEL_UNIX, NULL },
		{ "unix:@hotsoak", CHANNEL_UNIX, NULL },
		{ "unix:", -1, "socket path" },
		{ "tcp:10.0.2.2:7011", CHANNEL_TCP, NULL },
		{ "tcp:[::1]:7011", CHANNEL_TCP, NULL },
		{ "tcp:host.example:1", CHANNEL_TCP, NULL },
		{ "tcp:host", -1, "HOST:PORT" },
		{ "tcp:host:0", -1, "1 to 65535" },
		{ "tcp:host:http", -1, "not a number" },
		{ "tcp:[::1:80", -1, "unbalanced" },
		{ "virtio:org.hotsoak.agent", CHANNEL_VIRTIO, NULL },
		{ "virtio:", -1, "virtio:NAME" },
		{ "dev:/dev/vport0p1", CHANNEL_DEV, NULL },
		{ "/dev/hvc1", CHANNEL_DEV, NULL },
		{ "dev:vport0p1", -1, "absolute" },
		{ "serial:/dev/ttyS1", -1, "expected" },
	};
	struct channel	*ch;
	char		*cause;
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cause = NULL;
		ch = channel_new(cases[i].spec, NULL, &cause);
		if (cases[i].kind == -1) {
			ck_assert_msg(ch == NULL, "%s accepted", cases[i].spec);
			ck_assert_msg(strstr(cause, cases[i].needle) != NULL,
			    "%s: `%s` lacks `%s`", cases[i].spec, cause,
			    cases[i].needle);
			free(cause);
			continue;
		}
		ck_assert_msg(ch != NULL, "%s: %s", cases[i].spec, cause);
		ck_assert_int_eq(channel_kind(ch), cases[i].kind);
		channel_free(ch);
	}
}
END_TEST

START_TEST(kernel_log_findings)
{
	static const char *const oops[] = {
		"BUG: kernel NULL pointer dereference, address: 0000000000000008",
		"#PF: supervisor read access in kernel mode",
		"#PF: error_code(0x0000) - not-present page",
		"Oops: 0000 [#1] PREEMPT SMP NOPTI",
		"CPU: 1 PID: 412 Comm: kworker/1:2 Not tainted 6.1.0-18-amd64 #1",
		"RIP: 0010:virtblk_done+0x4a/0x110 [virtio_blk]",
		"Call Trace:",
		" <TASK>",
		" vring_interrupt+0x66/0xa0 [virtio_ring]",
		" </TASK>",
		"---[ end trace 0000000000000000 ]---",
	};
	struct agent_opts	 o;
	char			 chan[PATH_MAX + 32], fifo[PATH_MAX + 16];
	const json_t		*d;
	json_t			*m;
	FILE			*w;
	size_t			 i;
	int			 fd;

	snprintf(fifo, sizeof fifo, "%s/kmsg", F.dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	default_opts(&o, chan, sizeof chan);
	o.kmsg = fifo;
	agent_start_opts(&o);
	json_decref(fake_hello(false));
	ck_assert_int_ge(fd = open(fifo, O_WRONLY | O_CLOEXEC), 0);
	ck_assert_ptr_nonnull(w = fdopen(fd, "w"));
	for (i = 0; i < sizeof oops / sizeof oops[0]; i++)
		fprintf(w, "1,%zu,%zu,-;%s\n", 500 + i, 9000000 + i, oops[i]);
	/* The writer going away ends the log: the open report closes. */
	fclose(w);
	m = fake_wait("finding", 4000);
	ck_assert_msg(m != NULL, "no finding for the oops");
	ck_assert_str_eq(str_of(m, "kind"), "bugcheck");
	ck_assert_msg(strstr(str_of(m, "title"), "NULL pointer") != NULL,
	    "title: %s", str_of(m, "title"));
	d = json_object_get(m, "detail");
	ck_assert_uint_ge(json_array_size(json_object_get(d, "lines")), 6);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(d,
	    "lines"), 0)), oops[0]);
	ck_assert_int_eq(int_of(d, "ts_usec"), 9000000);
	ck_assert_uint_gt(strlen(str_of(d, "rule")), 0);
	json_decref(m);
}
END_TEST

START_TEST(outbox_bounds)
{
	struct outbox		*o = outbox_new(4, 1 << 20);
	struct outbox_stats	 st;
	const struct outbox_msg	*m;
	uint64_t		 id = 1;
	size_t			 i;

#define PUSH(t)	outbox_push(o, id++, (t), strdup("{}\n"), 3)
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(PUSH(PROTO_REPORT), 0);	/* 1 */
	ck_assert_int_eq(PUSH(PROTO_FINDING), 0);	/* 2 */
	ck_assert_int_eq(PUSH(PROTO_REPORT), 0);	/* 3 */
	ck_assert_int_eq(PUSH(PROTO_FINDING), 0);	/* 4 */
	ck_assert_ptr_eq(outbox_next_unsent(o)->line, outbox_at(o, 0)->line);
	/* Full: the oldest report goes, never a finding. */
	ck_assert_int_eq(PUSH(PROTO_REPORT), 0);	/* 5, drops 1 */
	ck_assert_int_eq(outbox_at(o, 0)->id, 2);
	ck_assert_int_eq(PUSH(PROTO_TOPOLOGY), 0);	/* 6, drops 3 */
	ck_assert_int_eq(PUSH(PROTO_FINDING), 0);	/* 7, drops 5 */
	/* Only findings and topology left: a report has no room... */
	ck_assert_int_eq(PUSH(PROTO_REPORT), -1);	/* 8 */
	/* ...a finding does, up to the hard bound. */
	for (i = 0; i < 4 * 4 - 4; i++)
		ck_assert_int_eq(PUSH(PROTO_FINDING), 0);
	ck_assert_int_eq(PUSH(PROTO_FINDING), -1);
	outbox_get_stats(o, &st);
	ck_assert_uint_eq(st.count, 16);
	ck_assert_uint_eq(st.dropped_reports, 4);
	ck_assert_uint_eq(st.dropped_other, 1);
	/* In order, by id; an ack takes one out wherever it is. */
	ck_assert_int_eq(outbox_at(o, 0)->id, 2);
	ck_assert_int_eq(outbox_at(o, 1)->id, 4);
	ck_assert_int_eq(outbox_at(o, 2)->id, 6);
	ck_assert_int_eq(outbox_ack(o, 4, NULL), 0);
	ck_assert_int_eq(outbox_ack(o, 4, NULL), -1);
	ck_assert_int_eq(outbox_ack(o, 1, NULL), -1);
	/* Message 1 went out and was dropped: sending starts at 2. */
	ck_assert_int_eq(outbox_next_unsent(o)->id, 2);
	ck_assert_int_eq(outbox_next_unsent(o)->id, 6);
	/* A new connection sends everything again, in order. */
	outbox_rewind(o);
	ck_assert_int_eq(outbox_next_unsent(o)->id, 2);
	i = 1;
	while ((m = outbox_next_unsent(o)) != NULL)
		i++;
	ck_assert_uint_eq(i, outbox_count(o));
	outbox_free(o);

	/* The byte bound works the same way. */
	o = outbox_new(100, 10);
	id = 1;
	ck_assert_int_eq(outbox_push(o, id++, PROTO_REPORT, strdup("123456\n"),
	    7), 0);
	ck_assert_int_eq(outbox_push(o, id++, PROTO_FINDING, strdup("123456\n"),
	    7), 0);
	ck_assert_int_eq(outbox_count(o), 1);
	ck_assert_int_eq(outbox_at(o, 0)->id, 2);
	outbox_free(o);
#undef PUSH
}
END_TEST

/* The real binary: token from a file, SIGTERM ends it cleanly. */
START_TEST(binary_sigterm)
{
	const char	*top = getenv("top_builddir");
	char		 prog[PATH_MAX], tokf[PATH_MAX + 16], chan[PATH_MAX + 32];
	json_t		*m;
	pid_t		 pid;
	int		 status = -1, i;
	bool		 report = false;
	FILE		*f;

	snprintf(prog, sizeof prog, "%s/hotsoak-agent", top ? top : ".");
	ck_assert_msg(access(prog, X_OK) == 0, "%s: %s", prog, strerror(errno));
	snprintf(tokf, sizeof tokf, "%s/token", F.dir);
	ck_assert_ptr_nonnull(f = fopen(tokf, "w"));
	fputs(TOKEN "\n", f);
	fclose(f);
	snprintf(chan, sizeof chan, "unix:%s", F.sock);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl(prog, prog, "--channel", chan, "--token-file", tokf,
		    "--root", F.root, "--kmsg", "none", (char *)NULL);
		_exit(127);
	}
	m = fake_hello(false);
	ck_assert_int_eq(int_of(m, "pid"), pid);
	json_decref(m);
	configure(workload(50, 1), 1000, 5000, false);
	json_decref(start());
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	/* The last report is flushed before it goes. */
	while ((m = fake_msg(5000)) != NULL) {
		if (strcmp(type_of(m), "report") == 0)
			report = true;
		json_decref(m);
	}
	for (i = 0; i < 500; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		nap_ms(10);
	}
	if (i == 500) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ck_abort_msg("the agent did not exit on SIGTERM");
	}
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert(report);
}
END_TEST

static Suite *
link_suite(void)
{
	Suite	*s = suite_create("link");
	TCase	*tc;

	tc = tcase_create("link");
	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, outbox_bounds);
	tcase_add_test(tc, channel_specs);
	tcase_add_test(tc, hello_then_heartbeats);
	tcase_add_test(tc, hello_refused_backs_off);
	tcase_add_test(tc, connects_when_daemon_comes_late);
	tcase_add_test(tc, reports_grow_and_stop_settles);
	tcase_add_test(tc, findings_kept_until_acked);
	tcase_add_test(tc, bad_lines_get_errors);
	tcase_add_test(tc, quiesce_holds_io);
	tcase_add_test(tc, pseudo_s4_cycle);
	tcase_add_test(tc, crash_writes_the_trigger);
	tcase_add_test(tc, crash_reply_leaves_before_the_write);
	tcase_add_test(tc, online_request);
	tcase_add_test(tc, add_target_runs_a_second_disk);
	tcase_add_test(tc, uevent_cpu_onlined_and_worked);
	tcase_add_test(tc, uevent_without_online_leaves_it);
	tcase_add_test(tc, virtio_port_by_name);
	tcase_add_test(tc, tcp_channel);
	tcase_add_test(tc, kernel_log_findings);
	tcase_add_test(tc, binary_sigterm);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	/* Writes to an agent that has gone must fail, not kill the tests. */
	signal(SIGPIPE, SIG_IGN);
	sr = srunner_create(link_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
