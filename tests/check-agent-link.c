/* check-agent-link.c: the daemon's end of the agent protocol against fake
 * agents writing raw JSON lines on socketpairs, and against the real agent. */
#include "config.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "agent-link.h"
#include "faketree.h"
#include "hotsoak/util.h"

#define TOKEN		"tok-5e1b"
#define BOOT_ID		"boot-al-1"
#define MAX_SEEN	64

/* What a request's callback was told. */
struct result {
	unsigned	 calls;
	int		 error;
	char		 code[64];
	char		 detail[256];
	json_t		*reply;
	uint64_t	 at_ms;
	/* Optional things the callback does, to test reentrancy. */
	bool		 free_link;
	bool		 request_again;
	struct result	*again;		/* where the new request reports */
	int		 again_rc;	/* what agent_link_request returned */
};

/* One link, one fake agent and what the hooks saw (a process per test). */
static struct {
	struct event_base	*base;
	struct agent_link	*link;
	int			 fa;		/* the fake agent's end */
	size_t			 inlen;		/* bytes in inbuf */
	bool			 eof;
	bool			 in_call;	/* the test is inside an agent_link_* call */
	unsigned		 hooks_in_call;	/* hooks run inside one: must stay 0 */
	unsigned		 hellos;
	struct agent_hello	 hello;
	char			 hello_agent[64], hello_host[64];
	char			 hello_boot[64];
	unsigned		 messages;
	enum proto_type		 msg_type[MAX_SEEN];
	json_int_t		 msg_id[MAX_SEEN];
	unsigned		 heartbeats;
	unsigned		 downs;
	char			 down_why[256];
	unsigned		 hangs;
	uint64_t		 hang_silent_ms;
	uint64_t		 hang_at_ms;
	unsigned		 refused;
	char			 refused_code[64];
	bool			 free_on_message;
	char			 dir[PATH_MAX - 64];	/* the test's, in case_dir */
	char			 root[PATH_MAX];
} T;

static char	inbuf[1 << 21];

static uint64_t
now_ms(void)
{
	return clock_mono_ns() / 1000000;
}

/* Runs the link's event base for ms. */
static void
pump(unsigned ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;

	event_base_loopexit(T.base, &tv);
	event_base_dispatch(T.base);
}

#define WAIT_FOR(cond, ms) do {						\
	uint64_t	end_ = now_ms() + (ms);				\
									\
	while (!(cond) && now_ms() < end_)				\
		pump(5);						\
} while (0)

/* Calls into the link: any hook it runs in there is a defect. */
#define CALL(x) do {							\
	T.in_call = true;						\
	x;								\
	T.in_call = false;						\
} while (0)

/* hooks */

static void
hook_entered(void)
{
	if (T.in_call)
		T.hooks_in_call++;
}

static void
hook_hello(void *arg, const struct agent_hello *h)
{
	hook_entered();
	T.hellos++;
	T.hello = *h;
	snprintf(T.hello_agent, sizeof T.hello_agent, "%s", h->agent);
	snprintf(T.hello_host, sizeof T.hello_host, "%s", h->hostname);
	snprintf(T.hello_boot, sizeof T.hello_boot, "%s", h->boot_id);
	T.hello.agent = T.hello_agent;
	T.hello.hostname = T.hello_host;
	T.hello.boot_id = T.hello_boot;
}

static void
hook_message(void *arg, enum proto_type t, json_t *msg)
{
	hook_entered();
	if (T.messages < MAX_SEEN) {
		T.msg_type[T.messages] = t;
		T.msg_id[T.messages] = json_integer_value(json_object_get(msg,
		    "id"));
	}
	T.messages++;
	if (T.free_on_message) {
		agent_link_free(T.link);
		T.link = NULL;
	}
}

static void
hook_heartbeat(void *arg, json_t *msg)
{
	hook_entered();
	ck_assert_ptr_nonnull(json_object_get(msg, "seq"));
	T.heartbeats++;
}

static void
hook_down(void *arg, const char *why)
{
	hook_entered();
	T.downs++;
	snprintf(T.down_why, sizeof T.down_why, "%s", why);
}

static void
hook_hang(void *arg, uint64_t silent_ms)
{
	hook_entered();
	T.hangs++;
	T.hang_silent_ms = silent_ms;
	T.hang_at_ms = now_ms();
}

static void
hook_refused(void *arg, const char *code, const char *detail)
{
	hook_entered();
	ck_assert_ptr_nonnull(detail);
	T.refused++;
	snprintf(T.refused_code, sizeof T.refused_code, "%s", code);
}

static const struct agent_link_hooks hooks = {
	hook_hello, hook_message, hook_heartbeat, hook_down, hook_hang,
	hook_refused, NULL
};

static void	result_cb(void *, int, const char *, const char *, json_t *);

static void
result_cb(void *arg, int error, const char *code, const char *detail,
    json_t *reply)
{
	struct result	*r = arg;
	char		*cause = NULL;

	r->calls++;
	r->error = error;
	snprintf(r->code, sizeof r->code, "%s", code != NULL ? code : "");
	snprintf(r->detail, sizeof r->detail, "%s", detail != NULL ? detail :
	    "");
	if (error == 0) {
		ck_assert_ptr_nonnull(reply);
		json_decref(r->reply);
		r->reply = json_incref(reply);
	} else
		ck_assert_ptr_null(reply);
	r->at_ms = now_ms();
	if (r->request_again) {
		r->request_again = false;
		r->again_rc = agent_link_request(T.link, PROTO_GET_TOPOLOGY,
		    NULL, 0, result_cb, r->again, &cause);
		free(cause);
	}
	if (r->free_link) {
		agent_link_free(T.link);
		T.link = NULL;
	}
}

/* the fake agent */

/* Takes what the link wrote into inbuf; sets T.eof at its end. */
static void
fake_pull(void)
{
	ssize_t	n;

	while (T.fa != -1 && T.inlen < sizeof inbuf) {
		n = recv(T.fa, inbuf + T.inlen, sizeof inbuf - T.inlen,
		    MSG_DONTWAIT);
		if (n > 0) {
			T.inlen += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			T.eof = true;
		return;
	}
}

/* Drops what the link wrote so far; returns its lines. */
static size_t
fake_discard(void)
{
	size_t	lines = 0, i;

	fake_pull();
	for (i = 0; i < T.inlen; i++)
		lines += inbuf[i] == '\n';
	T.inlen = 0;
	return lines;
}

/*
 * Writes all of buf, running the link while the socket is full (and
 * throwing its answers away when discard); false once the link hung up.
 */
static bool
fake_write(const void *buf, size_t len, bool discard)
{
	const char	*p = buf;
	uint64_t	 end = now_ms() + 20000;
	ssize_t		 n;

	while (len > 0) {
		n = send(T.fa, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ck_assert_msg(now_ms() < end,
			    "the link stopped reading");
			pump(1);
			if (discard)
				fake_discard();
			continue;
		}
		return false;
	}
	return true;
}

/* Sends m (stolen) as one line. */
static void
fake_send(json_t *m)
{
	char	*s;
	size_t	 len;

	ck_assert_ptr_nonnull(m);
	s = json_dumps(m, JSON_COMPACT);
	ck_assert_ptr_nonnull(s);
	len = strlen(s);
	s[len] = '\n';
	ck_assert(fake_write(s, len + 1, false));
	free(s);
	json_decref(m);
}

static void
fake_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fake_sendf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	ck_assert_int_ge(n, 0);
	ck_assert(fake_write(s, (size_t)n, false));
	free(s);
}

/* The next line the link wrote, parsed; NULL if none came within ms. */
static json_t *
fake_line(unsigned ms)
{
	uint64_t	 end = now_ms() + ms;
	json_error_t	 err;
	json_t		*m;
	char		*nl;
	size_t		 n;

	for (;;) {
		if ((nl = memchr(inbuf, '\n', T.inlen)) != NULL) {
			n = (size_t)(nl - inbuf);
			m = json_loadb(inbuf, n, JSON_REJECT_DUPLICATES, &err);
			ck_assert_msg(m != NULL,
			    "the link wrote a bad line: %s", err.text);
			memmove(inbuf, nl + 1, T.inlen - n - 1);
			T.inlen -= n + 1;
			return m;
		}
		fake_pull();
		if (memchr(inbuf, '\n', T.inlen) != NULL)
			continue;
		if (T.eof || now_ms() >= end)
			return NULL;
		pump(2);
	}
}

/* Whether the link hung up within ms, with no line unread. */
static bool
fake_eof(unsigned ms)
{
	uint64_t	end = now_ms() + ms;

	for (;;) {
		fake_pull();
		if (T.eof)
			return T.inlen == 0;
		if (now_ms() >= end)
			return false;
		pump(2);
	}
}

/* Asserts that the link says nothing for ms. */
static void
fake_quiet(unsigned ms)
{
	json_t	*m = fake_line(ms);

	ck_assert_msg(m == NULL, "unexpected line: %s",
	    json_string_value(json_object_get(m, "type")));
}

static const char *
jstr(json_t *m, const char *key)
{
	const char	*s = json_string_value(json_object_get(m, key));

	ck_assert_msg(s != NULL, "no string %s", key);
	return s;
}

static json_int_t
jint(json_t *m, const char *key)
{
	json_t	*v = json_object_get(m, key);

	ck_assert_msg(json_is_integer(v), "no integer %s", key);
	return json_integer_value(v);
}

/* Asserts m (freed) is an error answering re (0: null) with code. */
static void
expect_error(json_t *m, json_int_t re, const char *code)
{
	ck_assert_msg(m != NULL, "no error %s", code);
	ck_assert_str_eq(jstr(m, "type"), "error");
	if (re == 0)
		ck_assert(json_is_null(json_object_get(m, "re")));
	else
		ck_assert_int_eq(jint(m, "re"), re);
	ck_assert_str_eq(jstr(m, "error"), code);
	jstr(m, "detail");
	json_decref(m);
}

/* Asserts m (freed) is a reply to re carrying members more members. */
static void
expect_reply(json_t *m, json_int_t re, size_t more)
{
	ck_assert_msg(m != NULL, "no reply to %lld", (long long)re);
	ck_assert_str_eq(jstr(m, "type"), "reply");
	ck_assert_int_eq(jint(m, "re"), re);
	ck_assert_uint_eq(json_object_size(m), 2 + more);
	json_decref(m);
}

/* A new fake agent on a socketpair the link adopts, replacing the last. */
static void
fake_connect(void)
{
	char	*cause = NULL;
	int	 sv[2], rc;

	if (T.fa != -1)
		close(T.fa);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
	    0);
	CALL(rc = agent_link_adopt(T.link, sv[0], &cause));
	ck_assert_msg(rc == 0, "adopt: %s", cause);
	T.fa = sv[1];
	T.inlen = 0;
	T.eof = false;
}

static void
send_hello(json_int_t id, int version, const char *token, const char *boot,
    json_int_t pid, bool resumed)
{
	fake_send(json_pack("{s:s, s:I, s:i, s:s, s:s, s:s, s:s, s:I, s:b, "
	    "s:i}", "type", "hello", "id", id, "version", version, "token",
	    token, "agent", "hotsoak-agent 0.1.0", "hostname", "guest-1",
	    "boot_id", boot, "pid", pid, "resumed", resumed, "outbox", 3));
}

/* A hello the link must accept. */
static void
hello_ok(json_int_t id, const char *boot, json_int_t pid, bool resumed)
{
	unsigned	 before = T.hellos;
	json_t		*m;

	send_hello(id, PROTO_VERSION, TOKEN, boot, pid, resumed);
	m = fake_line(3000);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(jstr(m, "type"), "reply");
	ck_assert_int_eq(jint(m, "re"), id);
	ck_assert_int_eq(jint(m, "version"), PROTO_VERSION);
	json_decref(m);
	WAIT_FOR(T.hellos == before + 1, 2000);
	ck_assert_uint_eq(T.hellos, before + 1);
	ck_assert(agent_link_up(T.link));
}

static void
send_report(json_int_t id)
{
	fake_send(json_pack("{s:s, s:I, s:I, s:i, s:{s:i}, s:{}}", "type",
	    "report", "id", id, "seq", id, "interval_ms", 1000, "counters",
	    "ios", 10, "latency"));
}

static void
send_heartbeat(json_int_t seq)
{
	fake_send(json_pack("{s:s, s:I, s:I, s:s}", "type", "heartbeat", "seq",
	    seq, "uptime_ms", seq * 50, "state", "running"));
}

/* A report the link must acknowledge; returns whether it was passed on. */
static bool
report_acked(json_int_t id)
{
	unsigned	before = T.messages;

	send_report(id);
	expect_reply(fake_line(3000), id, 0);
	if (T.messages == before)
		return false;
	ck_assert_uint_eq(T.messages, before + 1);
	ck_assert_int_eq(T.msg_type[before], PROTO_REPORT);
	ck_assert_int_eq(T.msg_id[before], id);
	return true;
}

/* The request of the link's that the fake agent read next. */
static json_int_t
fake_request(const char *type)
{
	json_t		*m = fake_line(3000);
	json_int_t	 id;

	ck_assert_msg(m != NULL, "no %s request", type);
	ck_assert_str_eq(jstr(m, "type"), type);
	id = jint(m, "id");
	json_decref(m);
	return id;
}

/* fixtures */

static void
link_make(uint64_t hang_after_ms)
{
	struct agent_link_opts	 o = { TOKEN, hang_after_ms };
	char			*cause = NULL;

	agent_link_free(T.link);
	T.link = agent_link_new(T.base, &o, &hooks, &cause);
	ck_assert_msg(T.link != NULL, "agent_link_new: %s", cause);
}

static void
setup(void)
{
	memset(&T, 0, sizeof T);
	T.fa = -1;
	T.base = event_base_new();
	ck_assert_ptr_nonnull(T.base);
	link_make(0);
}

static void
teardown(void)
{
	CALL(agent_link_free(T.link));
	T.link = NULL;
	if (T.fa != -1)
		close(T.fa);
	event_base_free(T.base);
	ck_assert_uint_eq(T.hooks_in_call, 0);
}

/* handshake */

START_TEST(hello_wrong_token)
{
	static const char	*const bad[] = {
		"tok-5e1c", "tok-5e1", "tok-5e1bb", "", "TOK-5E1B"
	};
	struct agent_link_stats	 st;
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fake_connect();
		send_hello(1, PROTO_VERSION, bad[i], BOOT_ID, 10, false);
		expect_error(fake_line(3000), 1, PROTO_E_UNAUTHORIZED);
		ck_assert_msg(fake_eof(3000), "no hang-up after token %s",
		    bad[i]);
		ck_assert_uint_eq(T.refused, i + 1);
		ck_assert_str_eq(T.refused_code, PROTO_E_UNAUTHORIZED);
		ck_assert(!agent_link_up(T.link));
	}
	pump(20);
	agent_link_stats(T.link, &st);
	ck_assert_uint_eq(st.refused, 5);
	ck_assert_uint_eq(st.connects, 0);
	ck_assert_uint_eq(st.drops, 0);
	ck_assert_uint_eq(T.hellos, 0);
	/* Never up, so never down. */
	ck_assert_uint_eq(T.downs, 0);
}
END_TEST

START_TEST(hello_wrong_version)
{
	fake_connect();
	send_hello(4, 2, TOKEN, BOOT_ID, 10, false);
	expect_error(fake_line(3000), 4, PROTO_E_VERSION);
	ck_assert(fake_eof(3000));
	ck_assert_uint_eq(T.refused, 1);
	ck_assert_str_eq(T.refused_code, PROTO_E_VERSION);
	ck_assert_uint_eq(T.hellos, 0);

	/* The next connection is heard afresh. */
	fake_connect();
	hello_ok(5, BOOT_ID, 10, true);
}
END_TEST

START_TEST(hello_first)
{
	struct agent_link_stats	 st;
	char			*cause = NULL;
	int			 rc;

	fake_connect();
	CALL(rc = agent_link_request(T.link, PROTO_GET_TOPOLOGY, NULL, 0,
	    result_cb, NULL, &cause));
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);

	send_report(3);
	expect_error(fake_line(3000), 3, PROTO_E_HANDSHAKE);
	/* Notifications are dropped unanswered, answers to nothing ignored. */
	send_heartbeat(1);
	fake_send(json_pack("{s:s, s:i}", "type", "reply", "re", 77));
	fake_quiet(100);
	ck_assert_uint_eq(T.heartbeats, 0);
	ck_assert_uint_eq(T.messages, 0);
	ck_assert(!agent_link_up(T.link));

	hello_ok(4, BOOT_ID, 312, false);
	ck_assert_str_eq(T.hello.agent, "hotsoak-agent 0.1.0");
	ck_assert_str_eq(T.hello.hostname, "guest-1");
	ck_assert_str_eq(T.hello.boot_id, BOOT_ID);
	ck_assert_uint_eq(T.hello.pid, 312);
	ck_assert(!T.hello.resumed);
	ck_assert_uint_eq(T.hello.outbox, 3);
	ck_assert(!T.hello.same_instance && !T.hello.restarted &&
	    !T.hello.rebooted);

	send_heartbeat(2);
	WAIT_FOR(T.heartbeats == 1, 2000);
	ck_assert_uint_eq(T.heartbeats, 1);

	/* One hello per connection. */
	send_hello(9, PROTO_VERSION, TOKEN, BOOT_ID, 312, false);
	expect_error(fake_line(3000), 9, PROTO_E_HANDSHAKE);
	ck_assert(agent_link_up(T.link));
	ck_assert_uint_eq(T.hellos, 1);

	agent_link_stats(T.link, &st);
	ck_assert_uint_eq(st.connects, 1);
	ck_assert_uint_eq(st.heartbeats, 1);
	ck_assert_uint_ne(st.last_heartbeat_ns, 0);
	ck_assert_uint_eq(st.stray, 1);
	/* The early report, the early heartbeat, the second hello. */
	ck_assert_uint_eq(st.refused, 3);
	ck_assert_uint_eq(T.refused, 3);
}
END_TEST

/* de-dup */

START_TEST(resent_requests_applied_once)
{
	struct agent_link_stats	st;

	fake_connect();
	hello_ok(1, BOOT_ID, 100, false);
	ck_assert(report_acked(5));
	ck_assert(!report_acked(5));
	ck_assert(!report_acked(4));
	ck_assert_uint_eq(T.messages, 1);

	/* The same agent again: its outbox resent, then new ones. */
	fake_connect();
	hello_ok(7, BOOT_ID, 100, true);
	ck_assert(T.hello.same_instance);
	ck_assert(!T.hello.restarted && !T.hello.rebooted);
	ck_assert(T.hello.resumed);
	ck_assert(!report_acked(5));
	ck_assert(report_acked(6));
	ck_assert(!report_acked(6));

	/* A new process: its ids start afresh. */
	fake_connect();
	hello_ok(1, BOOT_ID, 101, false);
	ck_assert(T.hello.restarted);
	ck_assert(!T.hello.same_instance && !T.hello.rebooted);
	ck_assert(report_acked(1));
	ck_assert(report_acked(2));

	/* A new boot. */
	fake_connect();
	hello_ok(1, "boot-al-2", 101, false);
	ck_assert(T.hello.rebooted);
	ck_assert(!T.hello.same_instance && !T.hello.restarted);
	ck_assert(report_acked(1));

	/* Findings and topology are requests like reports. */
	fake_send(json_pack("{s:s, s:i, s:s, s:s, s:i}", "type", "finding",
	    "id", 2, "kind", "corruption", "title", "bitrot at 4096",
	    "time_ns", 1));
	expect_reply(fake_line(3000), 2, 0);
	fake_send(json_pack("{s:s, s:i, s:s, s:s, s:i}", "type", "finding",
	    "id", 2, "kind", "corruption", "title", "bitrot at 4096",
	    "time_ns", 1));
	expect_reply(fake_line(3000), 2, 0);
	fake_send(json_pack("{s:s, s:i, s:i, s:{}, s:{}}", "type", "topology",
	    "id", 3, "time_ns", 1, "cpus", "memory"));
	expect_reply(fake_line(3000), 3, 0);
	ck_assert_uint_eq(T.messages, 7);
	ck_assert_int_eq(T.msg_type[5], PROTO_FINDING);
	ck_assert_int_eq(T.msg_type[6], PROTO_TOPOLOGY);

	agent_link_stats(T.link, &st);
	ck_assert_uint_eq(st.connects, 4);
	ck_assert_uint_eq(st.drops, 3);
	ck_assert_uint_eq(st.resent, 5);
	WAIT_FOR(T.downs == 3, 2000);
	ck_assert_uint_eq(T.downs, 3);
	ck_assert_str_eq(T.down_why, "replaced by a new connection");
}
END_TEST

/* the daemon's requests */

START_TEST(request_reply_and_error)
{
	struct result	 r = { 0 }, r2 = { 0 }, r3 = { 0 };
	json_int_t	 id, id2, id3;
	char		*cause = NULL;
	int		 rc;

	fake_connect();
	hello_ok(1, BOOT_ID, 100, false);

	CALL(rc = agent_link_request(T.link, PROTO_GET_TOPOLOGY, NULL, 2000,
	    result_cb, &r, &cause));
	ck_assert_msg(rc == 0, "request: %s", cause);
	id = fake_request("get_topology");
	ck_assert_int_ge(id, 1);
	ck_assert_uint_eq(r.calls, 0);
	fake_send(json_pack("{s:s, s:I, s:i, s:{s:i, s:s}, s:{s:i}}", "type",
	    "reply", "re", id, "time_ns", 5, "cpus", "online", 4, "list", "0-3",
	    "memory", "blocks", 6));
	WAIT_FOR(r.calls == 1, 2000);
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_int_eq(r.error, 0);
	ck_assert_int_eq(jint(json_object_get(r.reply, "cpus"), "online"), 4);
	ck_assert_int_eq(jint(json_object_get(r.reply, "memory"), "blocks"), 6);

	/* An error answer, to a later (higher) id. */
	CALL(rc = agent_link_request(T.link, PROTO_QUIESCE, json_pack("{s:i}",
	    "timeout_ms", 1000), 2000, result_cb, &r2, &cause));
	ck_assert_int_eq(rc, 0);
	id2 = fake_request("quiesce");
	ck_assert_int_gt(id2, id);
	fake_send(json_pack("{s:s, s:I, s:s, s:s}", "type", "error", "re", id2,
	    "error", "busy", "detail", "nothing running"));
	WAIT_FOR(r2.calls == 1, 2000);
	ck_assert_uint_eq(r2.calls, 1);
	ck_assert_int_eq(r2.error, -1);
	ck_assert_str_eq(r2.code, "busy");
	ck_assert_str_eq(r2.detail, "nothing running");

	/* A reply whose callback asks again. */
	r.request_again = true;
	r.again = &r3;
	CALL(rc = agent_link_request(T.link, PROTO_GET_TOPOLOGY, NULL, 0,
	    result_cb, &r, &cause));
	ck_assert_int_eq(rc, 0);
	id = fake_request("get_topology");
	fake_send(json_pack("{s:s, s:I}", "type", "reply", "re", id));
	id3 = fake_request("get_topology");
	ck_assert_int_gt(id3, id);
	ck_assert_uint_eq(r.calls, 2);
	ck_assert_int_eq(r.again_rc, 0);
	fake_send(json_pack("{s:s, s:I}", "type", "reply", "re", id3));
	WAIT_FOR(r3.calls == 1, 2000);
	ck_assert_uint_eq(r3.calls, 1);
	ck_assert_int_eq(r3.error, 0);

	/* Not a request to the agent: nothing sent, no callback. */
	CALL(rc = agent_link_request(T.link, PROTO_REPORT, NULL, 0, result_cb,
	    &r, &cause));
	ck_assert_int_eq(rc, -1);
	free(cause);
	cause = NULL;
	CALL(rc = agent_link_request(T.link, PROTO_QUIESCE, NULL, 0, result_cb,
	    &r, &cause));
	ck_assert_int_eq(rc, -1);
	free(cause);
	fake_quiet(50);
	ck_assert_uint_eq(r.calls, 2);
	json_decref(r.reply);
	json_decref(r3.reply);
}
END_TEST

START_TEST(request_timeout)
{
	struct agent_link_stats	 st;
	struct result		 r = { 0 };
	json_int_t		 id;
	uint64_t		 t0;
	char			*cause = NULL;
	int			 rc;

	fake_connect();
	hello_ok(1, BOOT_ID, 100, false);
	t0 = now_ms();
	CALL(rc = agent_link_request(T.link, PROTO_GET_TOPOLOGY, NULL, 100,
	    result_cb, &r, &cause));
	ck_assert_int_eq(rc, 0);
	id = fake_request("get_topology");
	WAIT_FOR(r.calls == 1, 3000);
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_int_eq(r.error, -1);
	ck_assert_str_eq(r.code, AGENT_LINK_E_TIMEOUT);
	ck_assert_uint_ge(r.at_ms - t0, 95);
	ck_assert_uint_lt(r.at_ms - t0, 1000);

	/* Too late, and an answer to nothing: both ignored. */
	fake_send(json_pack("{s:s, s:I}", "type", "reply", "re", id));
	fake_send(json_pack("{s:s, s:i, s:s, s:s}", "type", "error", "re", 999,
	    "error", "failed", "detail", "x"));
	fake_quiet(100);
	ck_assert_uint_eq(r.calls, 1);
	agent_link_stats(T.link, &st);
	ck_assert_uint_eq(st.stray, 2);
	ck_assert(agent_link_up(T.link));
}
END_TEST

START_TEST(request_link_down)
{
	struct agent_link_stats	 st;
	struct result		 r = { 0 }, r2 = { 0 };
	char			*cause = NULL;
	int			 rc;

	fake_connect();
	hello_ok(1, BOOT_ID, 100, false);
	CALL(rc = agent_link_request(T.link, PROTO_GET_TOPOLOGY, NULL, 5000,
	    result_cb, &r, &cause));
	ck_assert_int_eq(rc, 0);
	CALL(rc = agent_link_request(T.link, PROTO_START, NULL, 0, result_cb,
	    &r2, &cause));
	ck_assert_int_eq(rc, 0);
	fake_request("get_topology");
	fake_request("start");
	close(T.fa);
	T.fa = -1;
	WAIT_FOR(r.calls == 1 && r2.calls == 1 && T.downs == 1, 3000);
	ck_assert_uint_eq(T.downs, 1);
	ck_assert_str_eq(T.down_why, "closed by the agent");
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_str_eq(r.code, AGENT_LINK_E_LINK_DOWN);
	ck_assert_uint_eq(r2.calls, 1);
	ck_assert_str_eq(r2.code, AGENT_LINK_E_LINK_DOWN);
	ck_assert(!agent_link_up(T.link));
	agent_link_stats(T.link, &st);
	ck_assert_uint_eq(st.drops, 1);

	/* Nothing to send it on: no callback. */
	CALL(rc = agent_link_request(T.link, PROTO_START, NULL, 0, result_cb,
	    &r, &cause));
	ck_assert_int_eq(rc, -1);
	free(cause);
	/* The timer of the failed one is gone with it. */
	pump(200);
	ck_assert_uint_eq(r.calls, 1);
}
END_TEST

/* A new connection drops the old; the run hears of it afterwards. */
START_TEST(request_adopt_replaces)
{
	struct result	 r = { 0 };
	char		*cause = NULL;
	int		 rc, old;

	fake_connect();
	hello_ok(1, BOOT_ID, 100, false);
	CALL(rc = agent_link_request(T.link, PROTO_STOP, NULL, 0, result_cb,
	    &r, &cause));
	ck_assert_int_eq(rc, 0);
	fake_request("stop");
	old = dup(T.fa);
	fake_connect();
	ck_assert_uint_eq(r.calls, 0);
	ck_assert_uint_eq(T.downs, 0);
	ck_assert(!agent_link_up(T.link));
	WAIT_FOR(r.calls == 1 && T.downs == 1, 2000);
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_str_eq(r.code, AGENT_LINK_E_LINK_DOWN);
	ck_assert_uint_eq(T.downs, 1);
	/* The old agent's end sees the hang-up. */
	ck_assert_int_eq(recv(old, inbuf, 1, 0), 0);
	close(old);
	hello_ok(2, BOOT_ID, 100, true);
}
END_TEST

START_TEST(free_cancels)
{
	struct result	 r = { 0 }, r2 = { 0 };
	char		*cause = NULL;
	int		 rc;

	fake_connect();
	hello_ok(1, BOOT_ID, 100, false);
	CALL(rc = agent_link_request(T.link, PROTO_GET_TOPOLOGY, NULL, 1000,
	    result_cb, &r, &cause));
	ck_assert_int_eq(rc, 0);
	CALL(rc = agent_link_request(T.link, PROTO_GET_TOPOLOGY, NULL, 0,
	    result_cb, &r2, &cause));
	ck_assert_int_eq(rc, 0);
	/* The first one's callback tries to ask again: refused. */
	r.request_again = true;
	r.again = &r2;
	T.in_call = true;
	agent_link_free(T.link);
	T.in_call = false;
	T.link = NULL;
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_str_eq(r.code, AGENT_LINK_E_CANCELLED);
	ck_assert_int_eq(r.again_rc, -1);
	ck_assert_uint_eq(r2.calls, 1);
	ck_assert_str_eq(r2.code, AGENT_LINK_E_CANCELLED);
	ck_assert(fake_eof(2000));
	pump(50);
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_uint_eq(T.downs, 0);
}
END_TEST

/* What cannot carry the protocol is refused and left to the caller. */
START_TEST(adopt_refuses)
{
	char	*cause = NULL;
	int	 sv[2], fd, rc;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv),
	    0);
	CALL(rc = agent_link_adopt(T.link, sv[0], &cause));
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	ck_assert_int_ne(fcntl(sv[0], F_GETFD), -1);
	close(sv[0]);
	close(sv[1]);

	/* A file: always ready, so there is nothing to wait on. */
	fd = memfd_create("agent-link", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	CALL(rc = agent_link_adopt(T.link, fd, &cause));
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	ck_assert_int_ne(fcntl(fd, F_GETFD), -1);
	close(fd);
	ck_assert(!agent_link_up(T.link));
	pump(20);
}
END_TEST

/* A callback or a hook that frees the link, with more to deliver. */
START_TEST(free_from_inside)
{
	struct result	 r = { 0 }, r2 = { 0 };
	char		*cause = NULL;
	int		 rc;

	fake_connect();
	hello_ok(1, BOOT_ID, 100, false);
	CALL(rc = agent_link_request(T.link, PROTO_START, NULL, 0, result_cb,
	    &r, &cause));
	ck_assert_int_eq(rc, 0);
	CALL(rc = agent_link_request(T.link, PROTO_STOP, NULL, 100, result_cb,
	    &r2, &cause));
	ck_assert_int_eq(rc, 0);
	r.free_link = true;
	close(T.fa);
	T.fa = -1;
	WAIT_FOR(r.calls == 1 && r2.calls == 1, 2000);
	ck_assert_ptr_null(T.link);
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_uint_eq(r2.calls, 1);
	ck_assert_str_eq(r.code, AGENT_LINK_E_LINK_DOWN);
	ck_assert_str_eq(r2.code, AGENT_LINK_E_LINK_DOWN);
	pump(200);
	ck_assert_uint_eq(r2.calls, 1);

	/* A hook that frees it in the middle of a read. */
	link_make(300);
	fake_connect();
	hello_ok(1, BOOT_ID, 100, false);
	CALL(rc = agent_link_request(T.link, PROTO_START, NULL, 0, result_cb,
	    &r2, &cause));
	ck_assert_int_eq(rc, 0);
	fake_request("start");
	T.free_on_message = true;
	fake_sendf("{\"type\":\"report\",\"id\":1,\"seq\":1,\"interval_ms\":1,"
	    "\"counters\":{},\"latency\":{}}\n{\"type\":\"report\",\"id\":2,"
	    "\"seq\":2,\"interval_ms\":1,\"counters\":{},\"latency\":{}}\n"
	    "{\"type\":\"heartbeat\",\"seq\":1,\"uptime_ms\":1,"
	    "\"state\":\"x\"}\n");
	WAIT_FOR(T.link == NULL, 2000);
	ck_assert_ptr_null(T.link);
	/* Nothing after the line whose hook freed it. */
	ck_assert_uint_eq(T.messages, 1);
	ck_assert_uint_eq(T.heartbeats, 0);
	ck_assert_uint_eq(r2.calls, 2);
	ck_assert_str_eq(r2.code, AGENT_LINK_E_CANCELLED);
	ck_assert(fake_eof(2000));
	pump(400);
	ck_assert_uint_eq(T.messages, 1);
	ck_assert_uint_eq(T.hangs, 0);
}
END_TEST

/* hang watch */

START_TEST(hang_once_per_silence)
{
	uint64_t	last = 0;
	json_int_t	seq;

	link_make(200);
	fake_connect();
	hello_ok(1, BOOT_ID, 100, false);
	for (seq = 1; seq <= 12; seq++) {
		send_heartbeat(seq);
		last = now_ms();
		pump(50);
	}
	ck_assert_uint_eq(T.hangs, 0);
	WAIT_FOR(T.hangs > 0, 2000);
	ck_assert_uint_eq(T.hangs, 1);
	ck_assert_uint_ge(T.hang_at_ms - last, 195);
	ck_assert_uint_lt(T.hang_at_ms - last, 500);
	ck_assert_uint_ge(T.hang_silent_ms, 200);
	ck_assert_uint_lt(T.hang_silent_ms, 500);
	/* Still on: the same silence, no second hang. */
	CALL(agent_link_watch(T.link, true));
	pump(500);
	ck_assert_uint_eq(T.hangs, 1);

	/* It came back; a new silence is a new hang. */
	send_heartbeat(seq);
	last = now_ms();
	WAIT_FOR(T.hangs > 1, 2000);
	ck_assert_uint_eq(T.hangs, 2);
	ck_assert_uint_ge(T.hang_at_ms - last, 195);

	/* Silence is silence, linked or not. */
	send_heartbeat(seq + 1);
	WAIT_FOR(T.heartbeats == seq + 1, 1000);
	close(T.fa);
	T.fa = -1;
	last = now_ms();
	WAIT_FOR(T.hangs > 2, 2000);
	ck_assert_uint_eq(T.hangs, 3);
	ck_assert_uint_eq(T.downs, 1);
	ck_assert_uint_lt(T.hang_at_ms - last, 500);
}
END_TEST

START_TEST(hang_watch_off)
{
	uint64_t	t0;

	link_make(200);
	fake_connect();
	hello_ok(1, BOOT_ID, 100, false);
	CALL(agent_link_watch(T.link, false));
	pump(500);
	ck_assert_uint_eq(T.hangs, 0);
	CALL(agent_link_watch(T.link, false));
	pump(100);

	/* On again: the deadline starts now, not at the last heartbeat. */
	t0 = now_ms();
	CALL(agent_link_watch(T.link, true));
	pump(100);
	ck_assert_uint_eq(T.hangs, 0);
	WAIT_FOR(T.hangs > 0, 2000);
	ck_assert_uint_eq(T.hangs, 1);
	ck_assert_uint_ge(T.hang_at_ms - t0, 195);
	ck_assert_uint_lt(T.hang_at_ms - t0, 500);

	/* No hang watch before the first hello. */
	link_make(100);
	fake_connect();
	pump(300);
	ck_assert_uint_eq(T.hangs, 1);
}
END_TEST

/* garbage */

START_TEST(bad_lines)
{
	struct agent_link_stats	 st;
	char			*big;
	size_t			 n = 300 * 1024;

	fake_connect();
	hello_ok(1, BOOT_ID, 100, false);

	fake_sendf("{nope\n");
	expect_error(fake_line(3000), 0, PROTO_E_MALFORMED);
	fake_sendf("{\"type\":\"report\",\"id\":8,\"seq\":1}\n");
	expect_error(fake_line(3000), 8, PROTO_E_BAD_FIELD);
	fake_sendf("{\"type\":\"start\",\"id\":9}\n");
	expect_error(fake_line(3000), 9, PROTO_E_WRONG_DIRECTION);
	fake_sendf("{\"type\":\"launch\",\"id\":10}\n");
	expect_error(fake_line(3000), 10, PROTO_E_UNKNOWN_TYPE);
	fake_write("{\"type\":\0}\n", 11, false);
	expect_error(fake_line(3000), 0, PROTO_E_MALFORMED);
	/* Never answered: two peers would trade errors forever. */
	fake_sendf("{\"type\":\"error\",\"re\":null}\n");
	fake_quiet(100);

	big = malloc(n + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', n);
	big[n] = '\n';
	ck_assert(fake_write(big, n + 1, false));
	free(big);
	expect_error(fake_line(3000), 0, PROTO_E_OVERSIZED);
	ck_assert(report_acked(7));
	ck_assert(agent_link_up(T.link));

	agent_link_stats(T.link, &st);
	ck_assert_uint_eq(st.refused, 7);
	ck_assert_uint_eq(T.refused, 7);
	ck_assert_uint_eq(T.downs, 0);
}
END_TEST

START_TEST(byte_flood)
{
	unsigned char	*junk;
	size_t		 n = 4U << 20, i, lines;
	uint64_t	 x = 42;

	fake_connect();
	hello_ok(1, BOOT_ID, 100, false);
	junk = malloc(n);
	ck_assert_ptr_nonnull(junk);
	for (i = 0; i < n; i++) {
		x = splitmix64(x);
		/* Long stretches without a newline, some lines, some JSON. */
		junk[i] = (unsigned char)x;
		if (junk[i] == '\n' && (x >> 40) % 64 != 0)
			junk[i] = '{';
	}
	ck_assert(fake_write(junk, n, true));
	free(junk);
	fake_sendf("\n");
	pump(50);
	lines = fake_discard();
	ck_assert_uint_gt(lines, 0);
	ck_assert(agent_link_up(T.link));
	ck_assert(report_acked(3));
	ck_assert_uint_eq(T.downs, 0);
}
END_TEST

START_TEST(output_backlog)
{
	char		*lines;
	size_t		 n = 200000, i;
	bool		 ok;

	fake_connect();
	hello_ok(1, BOOT_ID, 100, false);
	lines = malloc(2 * n);
	ck_assert_ptr_nonnull(lines);
	for (i = 0; i < n; i++) {
		lines[2 * i] = 'x';
		lines[2 * i + 1] = '\n';
	}
	/* Every line earns an error, and the agent reads none of them. */
	ok = fake_write(lines, 2 * n, false);
	free(lines);
	WAIT_FOR(T.downs == 1, 5000);
	ck_assert_uint_eq(T.downs, 1);
	ck_assert_msg(strncmp(T.down_why, "output backlog", 14) == 0, "%s",
	    T.down_why);
	ck_assert(!agent_link_up(T.link));
	(void)ok;
	/* Its side sees the hang-up after what was sent. */
	WAIT_FOR((fake_discard(), T.eof), 5000);
	ck_assert(T.eof);
}
END_TEST

/* the unix socket and the real agent */

static void
put_fmt(const char *content, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put_fmt(const char *content, const char *fmt, ...)
{
	va_list	ap;
	char	rel[256];

	va_start(ap, fmt);
	vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	ft_put(rel, content);
}

/* A machine with this process's CPUs and six 128 MiB memory blocks. */
static void
tree_setup(void)
{
	cpu_set_t	set;
	unsigned	i;

	snprintf(T.root, sizeof T.root, "%s/root", T.dir);
	ft_set_root(T.root);
	ft_mkdirs(T.root);
	ft_put("proc/sys/kernel/random/boot_id", BOOT_ID "\n");
	ft_put("proc/meminfo", "MemTotal:         786432 kB\n"
	    "MemFree:          500000 kB\nMemAvailable:     600000 kB\n");
	ck_assert_int_eq(sched_getaffinity(0, sizeof set, &set), 0);
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			put_fmt("1\n", "sys/devices/system/cpu/cpu%u/online",
			    i);
	ft_put("sys/devices/system/memory/block_size_bytes", "8000000\n");
	for (i = 0; i < 6; i++) {
		put_fmt("online\n", "sys/devices/system/memory/memory%u/state",
		    i);
		put_fmt("00000000\n",
		    "sys/devices/system/memory/memory%u/phys_index", i);
	}
	ft_put("sys/power/disk", "[shutdown] platform reboot\n");
	ft_put("sys/power/pm_test", "[none] core processors platform devices "
	    "freezer\n");
	ft_put("sys/power/state", "freeze mem disk\n");
}

/*
 * One folder for the case, made and removed by the parent, so it goes
 * even when a failed test skips its teardown; one folder per test in it.
 */
static char	case_dir[PATH_MAX - 128];

static void
case_setup(void)
{
	ft_case_dir(case_dir, sizeof case_dir, "check-agent-link");
}

static void
case_teardown(void)
{
	ft_rmtree(case_dir);
}

static void
dir_setup(void)
{
	setup();
	/* Short: a unix socket's path has room for 107 bytes. */
	snprintf(T.dir, sizeof T.dir, "%s/t.XXXXXX", case_dir);
	if (mkdtemp(T.dir) == NULL)
		ck_abort_msg("mkdtemp %s: %s", T.dir, strerror(errno));
}

static void
dir_teardown(void)
{
	teardown();
	ft_rmtree(T.dir);
}

/* A unix stream socket connected to path, or -1. */
static int
dial(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Leaves a socket file at path that nobody listens on. */
static void
stale_socket(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%.*s", (int)sizeof sun.sun_path - 1, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	close(fd);
}

START_TEST(listen_socket_file)
{
	struct agent_link_opts	 o = { TOKEN, 0 };
	struct agent_link	*other;
	struct stat		 st;
	char			 path[PATH_MAX], *cause = NULL;
	int			 fd, first, rc;
	FILE			*f;

	snprintf(path, sizeof path, "%s/d.sock", T.dir);
	/* A stale socket is replaced. */
	stale_socket(path);
	CALL(rc = agent_link_listen(T.link, path, &cause));
	ck_assert_msg(rc == 0, "listen: %s", cause);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);

	/* One that answers is not. */
	other = agent_link_new(T.base, &o, &hooks, &cause);
	ck_assert_ptr_nonnull(other);
	ck_assert_int_eq(agent_link_listen(other, path, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "listens"));
	free(cause);
	cause = NULL;

	/* A newer connection replaces the older. */
	first = dial(path);
	ck_assert_int_ge(first, 0);
	T.fa = first;
	hello_ok(1, BOOT_ID, 100, false);
	fd = dial(path);
	ck_assert_int_ge(fd, 0);
	WAIT_FOR(T.downs == 1, 2000);
	ck_assert_uint_eq(T.downs, 1);
	ck_assert(fake_eof(2000));
	close(first);
	T.fa = fd;
	T.inlen = 0;
	T.eof = false;
	hello_ok(2, BOOT_ID, 100, true);
	ck_assert(T.hello.same_instance);

	/* Freed, it takes its socket file along. */
	CALL(agent_link_free(T.link));
	T.link = NULL;
	ck_assert_int_eq(lstat(path, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert(fake_eof(2000));

	/* Not a socket: left alone. */
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("keep\n", f);
	fclose(f);
	ck_assert_int_eq(agent_link_listen(other, path, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "not a socket"));
	free(cause);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	agent_link_free(other);
}
END_TEST

START_TEST(real_agent)
{
	const char	*top = getenv("top_builddir");
	char		 prog[PATH_MAX], tokf[PATH_MAX], sock[PATH_MAX];
	char		 chan[PATH_MAX + 8], *cause = NULL;
	struct result	 r = { 0 };
	json_t		*cpus, *mem;
	pid_t		 pid, parent;
	int		 status = 0, i, rc;
	FILE		*f;

	snprintf(prog, sizeof prog, "%s/hotsoak-agent", top ? top : ".");
	ck_assert_msg(access(prog, X_OK) == 0, "%s: %s", prog, strerror(errno));
	tree_setup();
	snprintf(tokf, sizeof tokf, "%s/token", T.dir);
	ck_assert_ptr_nonnull(f = fopen(tokf, "w"));
	fputs(TOKEN "\n", f);
	fclose(f);
	snprintf(sock, sizeof sock, "%s/d.sock", T.dir);
	snprintf(chan, sizeof chan, "unix:%s", sock);
	CALL(rc = agent_link_listen(T.link, sock, &cause));
	ck_assert_msg(rc == 0, "listen: %s", cause);

	parent = getpid();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* A failed test exits without its teardown: take the agent along. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() != parent)
			_exit(127);
		execl(prog, prog, "--channel", chan, "--token-file", tokf,
		    "--root", T.root, "--kmsg", "none", (char *)NULL);
		_exit(127);
	}
	WAIT_FOR(T.hellos == 1 && T.heartbeats >= 1, 10000);
	ck_assert_uint_eq(T.hellos, 1);
	ck_assert_uint_ge(T.heartbeats, 1);
	ck_assert_str_eq(T.hello.boot_id, BOOT_ID);
	ck_assert_uint_eq(T.hello.pid, (uint64_t)pid);
	ck_assert(strncmp(T.hello.agent, "hotsoak-agent ", 14) == 0);
	ck_assert(!T.hello.resumed);

	CALL(rc = agent_link_request(T.link, PROTO_GET_TOPOLOGY, NULL, 5000,
	    result_cb, &r, &cause));
	ck_assert_msg(rc == 0, "request: %s", cause);
	WAIT_FOR(r.calls == 1, 6000);
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_msg(r.error == 0, "%s: %s", r.code, r.detail);
	cpus = json_object_get(r.reply, "cpus");
	mem = json_object_get(r.reply, "memory");
	ck_assert(json_is_object(cpus));
	ck_assert(json_is_object(mem));
	ck_assert_int_ge(jint(cpus, "online"), 1);
	ck_assert_int_eq(jint(mem, "blocks"), 6);
	json_decref(r.reply);

	/* A second heartbeat, a second apart. */
	WAIT_FOR(T.heartbeats >= 2, 3000);
	ck_assert_uint_ge(T.heartbeats, 2);

	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	for (i = 0; i < 500; i++) {
		pump(10);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	if (i == 500) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ck_abort_msg("the agent did not exit on SIGTERM");
	}
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	WAIT_FOR(T.downs == 1, 2000);
	ck_assert_uint_eq(T.downs, 1);
	ck_assert_uint_eq(T.refused, 0);
}
END_TEST

static Suite *
agent_link_suite(void)
{
	Suite	*s = suite_create("agent-link");
	TCase	*tc;

	tc = tcase_create("fake");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, hello_wrong_token);
	tcase_add_test(tc, hello_wrong_version);
	tcase_add_test(tc, hello_first);
	tcase_add_test(tc, resent_requests_applied_once);
	tcase_add_test(tc, request_reply_and_error);
	tcase_add_test(tc, request_timeout);
	tcase_add_test(tc, request_link_down);
	tcase_add_test(tc, request_adopt_replaces);
	tcase_add_test(tc, adopt_refuses);
	tcase_add_test(tc, free_cancels);
	tcase_add_test(tc, free_from_inside);
	tcase_add_test(tc, hang_once_per_silence);
	tcase_add_test(tc, hang_watch_off);
	tcase_add_test(tc, bad_lines);
	tcase_add_test(tc, byte_flood);
	tcase_add_test(tc, output_backlog);
	suite_add_tcase(s, tc);

	tc = tcase_create("socket");
	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, listen_socket_file);
	tcase_add_test(tc, real_agent);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	/* The link writes to agents that may have gone. */
	signal(SIGPIPE, SIG_IGN);
	sr = srunner_create(agent_link_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
