/* check-qmp.c: the QMP client against a fake QEMU monitor on a socketpair,
 * run from the test's event loop, its detached reader, and a real QEMU. */
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
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "hotsoak/util.h"
#include "qmp.h"

/* What QEMU 7.2 says first, as it says it. */
#define GREETING	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, " \
	"\"minor\": 2, \"major\": 7}, \"package\": \"Debian 1:7.2+dfsg-7\"}, " \
	"\"capabilities\": [\"oob\"]}}\r\n"
#define CAPS_OK		"{\"return\": {}}\r\n"
#define MAX_SEEN	32
#define QEMU_PROG	"qemu-system-x86_64"

/* What a command's callback was told. */
struct result {
	unsigned	 calls;
	unsigned	 seq;		/* T.seq when it ran */
	int		 error;
	char		 class[64];
	char		 desc[256];
	json_t		*ret;
	uint64_t	 at_ms;
	bool		 free_qmp;	/* the callback frees the client */
	bool		 command_again;	/* the callback sends another */
	int		 again_rc;
};

/* One client, one fake QEMU and what the hooks saw (a process per test). */
static struct {
	struct event_base	*base;
	struct qmp		*qmp;
	int			 fq;		/* the fake QEMU's end */
	struct event		*fq_ev;
	char			 in[1 << 16];	/* what the client wrote, unsplit */
	size_t			 inlen;
	json_t			*got;		/* its lines, parsed, oldest first */
	bool			 eof;
	bool			 auto_caps;	/* answer qmp_capabilities at once */
	bool			 deaf;		/* ... and read no more after it */
	unsigned		 caps_seen;

	unsigned		 seq;		/* hooks and callbacks, in order */
	bool			 in_call;	/* the test is inside a qmp_* call */
	bool			 in_free;	/* ... and it is qmp_free */
	unsigned		 hooks_in_call;	/* hooks run inside one: must stay 0 */
	unsigned		 readies;
	unsigned		 ready_seq;
	char			 greeting_pkg[64];
	unsigned		 events;
	char			 ev_name[MAX_SEEN][32];
	uint64_t		 ev_ns[MAX_SEEN];
	json_t			*ev_data[MAX_SEEN];
	unsigned		 downs;
	unsigned		 down_seq;
	char			 down_why[256];
	bool			 free_on_ready;
	bool			 free_on_event;
	bool			 free_on_down;

	char			 dir[PATH_MAX - 64];
	pid_t			 qemu;
} T;

static uint64_t
now_ms(void)
{
	return clock_mono_ns() / 1000000;
}

/* Runs the event base for ms. */
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

/* Calls into the client: any hook it runs in there is a defect. */
#define CALL(x) do {							\
	T.in_call = true;						\
	x;								\
	T.in_call = false;						\
} while (0)

/* qmp_free, which runs the callbacks it cancels, and no hook. */
#define FREE(x) do {							\
	T.in_free = true;						\
	CALL(qmp_free(x));						\
	T.in_free = false;						\
} while (0)

/* hooks */

static void
hook_entered(void)
{
	if (T.in_call)
		T.hooks_in_call++;
	T.seq++;
}

/* Command callbacks may run inside qmp_free, which cancels them. */
static void
cb_entered(void)
{
	if (T.in_call && !T.in_free)
		T.hooks_in_call++;
	T.seq++;
}

static void
hook_ready(void *arg, json_t *greeting)
{
	const char	*pkg;

	hook_entered();
	T.readies++;
	T.ready_seq = T.seq;
	ck_assert(json_is_object(json_object_get(greeting, "QMP")));
	pkg = json_string_value(json_object_get(json_object_get(
	    json_object_get(greeting, "QMP"), "version"), "package"));
	snprintf(T.greeting_pkg, sizeof T.greeting_pkg, "%s", pkg ? pkg : "");
	if (T.free_on_ready) {
		qmp_free(T.qmp);
		T.qmp = NULL;
	}
}

static void
hook_event(void *arg, const char *name, json_t *data, uint64_t time_ns)
{
	hook_entered();
	ck_assert_ptr_nonnull(name);
	if (T.events < MAX_SEEN) {
		snprintf(T.ev_name[T.events], sizeof T.ev_name[0], "%s", name);
		T.ev_ns[T.events] = time_ns;
		T.ev_data[T.events] = data != NULL ? json_deep_copy(data) :
		    NULL;
	}
	T.events++;
	if (T.free_on_event) {
		qmp_free(T.qmp);
		T.qmp = NULL;
	}
}

static void
hook_down(void *arg, const char *why)
{
	hook_entered();
	ck_assert_ptr_nonnull(why);
	T.downs++;
	T.down_seq = T.seq;
	snprintf(T.down_why, sizeof T.down_why, "%s", why);
	if (T.free_on_down) {
		qmp_free(T.qmp);
		T.qmp = NULL;
	}
}

static const struct qmp_hooks hooks = { hook_ready, hook_event, hook_down,
    NULL };

static void
result_cb(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	struct result	*r = arg;
	char		*cause = NULL;

	cb_entered();
	r->calls++;
	r->seq = T.seq;
	r->error = error;
	if (error == 0) {
		ck_assert_ptr_null(class);
		ck_assert_ptr_nonnull(ret);
		json_decref(r->ret);
		r->ret = json_incref(ret);
	} else {
		ck_assert_int_eq(error, -1);
		ck_assert_ptr_nonnull(class);
		ck_assert_ptr_nonnull(desc);
		ck_assert_ptr_null(ret);
		snprintf(r->class, sizeof r->class, "%s", class);
		snprintf(r->desc, sizeof r->desc, "%s", desc);
	}
	r->at_ms = now_ms();
	if (r->command_again) {
		r->command_again = false;
		r->again_rc = qmp_command(T.qmp, "query-status", NULL, 0, NULL,
		    NULL, &cause);
		free(cause);
	}
	if (r->free_qmp) {
		qmp_free(T.qmp);
		T.qmp = NULL;
	}
}

/* the fake QEMU */

/* Takes the client's lines into T.got; QEMU would answer capabilities. */
static void
fake_read_cb(evutil_socket_t fd, short events, void *arg)
{
	json_error_t	 err;
	json_t		*m;
	ssize_t		 n;
	char		*nl;
	size_t		 len;

	n = recv(T.fq, T.in + T.inlen, sizeof T.in - T.inlen, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		T.eof = true;
		event_del(T.fq_ev);
		return;
	}
	T.inlen += (size_t)n;
	while ((nl = memchr(T.in, '\n', T.inlen)) != NULL) {
		len = (size_t)(nl - T.in);
		m = json_loadb(T.in, len, JSON_REJECT_DUPLICATES, &err);
		ck_assert_msg(m != NULL, "the client wrote a bad line: %s",
		    err.text);
		ck_assert(json_is_object(m));
		memmove(T.in, nl + 1, T.inlen - len - 1);
		T.inlen -= len + 1;
		if (json_object_get(m, "execute") != NULL &&
		    strcmp(json_string_value(json_object_get(m, "execute")),
		    "qmp_capabilities") == 0) {
			/* The client's own: never with an id, never twice. */
			ck_assert_ptr_null(json_object_get(m, "id"));
			json_decref(m);
			T.caps_seen++;
			ck_assert_uint_eq(T.caps_seen, 1);
			if (T.auto_caps)
				ck_assert_int_eq(send(T.fq, CAPS_OK,
				    strlen(CAPS_OK), MSG_NOSIGNAL),
				    (ssize_t)strlen(CAPS_OK));
			if (T.deaf) {
				event_del(T.fq_ev);
				return;
			}
			continue;
		}
		ck_assert_int_eq(json_array_append_new(T.got, m), 0);
	}
	ck_assert_uint_lt(T.inlen, sizeof T.in);
}

/*
 * Writes all of buf, running the client while the socket is full; false
 * once the client hung up.
 */
static bool
fake_write(const void *buf, size_t len)
{
	const char	*p = buf;
	uint64_t	 end = now_ms() + 20000;
	ssize_t		 n;

	while (len > 0) {
		n = send(T.fq, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ck_assert_msg(now_ms() < end,
			    "the client stopped reading");
			pump(1);
			continue;
		}
		return false;
	}
	return true;
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
	ck_assert(fake_write(s, (size_t)n));
	free(s);
}

/* The next command the client sent, within ms (NULL: none). */
static json_t *
fake_next(unsigned ms)
{
	json_t	*m;

	WAIT_FOR(json_array_size(T.got) > 0, ms);
	if (json_array_size(T.got) == 0)
		return NULL;
	m = json_incref(json_array_get(T.got, 0));
	json_array_remove(T.got, 0);
	return m;
}

/* The id of the next command, which must be name; its arguments to args. */
static json_int_t
fake_command(const char *name, json_t **args)
{
	json_t		*m = fake_next(3000), *id;
	json_int_t	 n;

	ck_assert_msg(m != NULL, "no %s command", name);
	ck_assert_str_eq(json_string_value(json_object_get(m, "execute")),
	    name);
	id = json_object_get(m, "id");
	ck_assert_msg(json_is_integer(id), "%s without an integer id", name);
	n = json_integer_value(id);
	if (args != NULL)
		*args = json_incref(json_object_get(m, "arguments"));
	json_decref(m);
	return n;
}

/* Whether the client hung up within ms. */
static bool
fake_eof(unsigned ms)
{
	WAIT_FOR(T.eof, ms);
	return T.eof;
}

/* A new client on a socketpair, with the fake QEMU at the other end. */
static void
fake_connect(void)
{
	char	*cause = NULL;
	int	 sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
	    0);
	CALL(T.qmp = qmp_new(T.base, sv[0], &hooks, &cause));
	ck_assert_msg(T.qmp != NULL, "qmp_new: %s", cause);
	T.fq = sv[1];
	T.eof = false;
	T.inlen = 0;
	T.caps_seen = 0;
	T.readies = 0;
	ck_assert_int_eq(json_array_clear(T.got), 0);
	ck_assert_int_eq(evutil_make_socket_nonblocking(T.fq), 0);
	T.fq_ev = event_new(T.base, T.fq, EV_READ | EV_PERSIST, fake_read_cb,
	    NULL);
	ck_assert_ptr_nonnull(T.fq_ev);
	ck_assert_int_eq(event_add(T.fq_ev, NULL), 0);
}

/* Greeting and capabilities: the client is ready. */
static void
fake_up(void)
{
	fake_sendf("%s", GREETING);
	WAIT_FOR(T.readies == 1, 3000);
	ck_assert_uint_eq(T.readies, 1);
	ck_assert_uint_eq(T.caps_seen, 1);
	ck_assert(qmp_ready(T.qmp));
}

/* Sends name with args (stolen) through the client; asserts it took it. */
static void
command(const char *name, json_t *args, uint64_t timeout_ms, struct result *r)
{
	char	*cause = NULL;
	int	 rc;

	CALL(rc = qmp_command(T.qmp, name, args, timeout_ms, result_cb, r,
	    &cause));
	ck_assert_msg(rc == 0, "qmp_command %s: %s", name, cause);
}

/* Asserts that the client refuses name, and never calls back for it. */
static void
command_refused(const char *name, json_t *args, const char *why)
{
	struct result	 r = { 0 };
	char		*cause = NULL;
	int		 rc;

	CALL(rc = qmp_command(T.qmp, name, args, 0, result_cb, &r, &cause));
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, why) != NULL, "refused %s: %s", name,
	    cause);
	free(cause);
	pump(20);
	ck_assert_uint_eq(r.calls, 0);
}

/* fixtures */

static void
setup(void)
{
	memset(&T, 0, sizeof T);
	T.fq = -1;
	T.auto_caps = true;
	T.base = event_base_new();
	ck_assert_ptr_nonnull(T.base);
	T.got = json_array();
	ck_assert_ptr_nonnull(T.got);
}

static void
teardown(void)
{
	unsigned	i;

	FREE(T.qmp);
	T.qmp = NULL;
	if (T.fq_ev != NULL)
		event_free(T.fq_ev);
	if (T.fq != -1)
		close(T.fq);
	for (i = 0; i < MAX_SEEN; i++)
		json_decref(T.ev_data[i]);
	json_decref(T.got);
	event_base_free(T.base);
	ck_assert_uint_eq(T.hooks_in_call, 0);
}

/* handshake */

START_TEST(handshake)
{
	struct qmp_stats	st;

	T.auto_caps = false;
	fake_connect();
	ck_assert_ptr_null(qmp_version(T.qmp));
	ck_assert(!qmp_ready(T.qmp));
	/* QEMU speaks first: nothing is sent before its greeting. */
	pump(50);
	ck_assert_uint_eq(T.caps_seen, 0);
	ck_assert_uint_eq(json_array_size(T.got), 0);

	fake_sendf("%s", GREETING);
	WAIT_FOR(T.caps_seen == 1, 3000);
	ck_assert_uint_eq(T.caps_seen, 1);
	ck_assert_str_eq(qmp_version(T.qmp), "7.2.0");
	/* Not ready until qmp_capabilities is answered. */
	pump(50);
	ck_assert(!qmp_ready(T.qmp));
	ck_assert_uint_eq(T.readies, 0);

	fake_sendf("%s", CAPS_OK);
	WAIT_FOR(T.readies == 1, 3000);
	ck_assert_uint_eq(T.readies, 1);
	ck_assert(qmp_ready(T.qmp));
	ck_assert_str_eq(T.greeting_pkg, "Debian 1:7.2+dfsg-7");
	pump(50);
	ck_assert_uint_eq(T.readies, 1);
	ck_assert_uint_eq(T.downs, 0);
	qmp_stats(T.qmp, &st);
	ck_assert_uint_eq(st.commands, 0);
}
END_TEST

START_TEST(caps_refused)
{
	struct result	r = { 0 };

	T.auto_caps = false;
	fake_connect();
	command("query-status", NULL, 0, &r);
	fake_sendf("%s", GREETING);
	WAIT_FOR(T.caps_seen == 1, 3000);
	fake_sendf("{\"error\": {\"class\": \"GenericError\", \"desc\": "
	    "\"Capabilities negotiation is already complete\"}}\r\n");
	WAIT_FOR(T.downs == 1, 3000);
	ck_assert_uint_eq(T.downs, 1);
	ck_assert_msg(strstr(T.down_why, "qmp_capabilities refused: "
	    "GenericError: Capabilities negotiation") != NULL, "%s",
	    T.down_why);
	ck_assert_uint_eq(T.readies, 0);
	/* The queued one was never sent, and failed before down. */
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_str_eq(r.class, QMP_E_DOWN);
	ck_assert_uint_lt(r.seq, T.down_seq);
	ck_assert(fake_eof(2000));
	ck_assert_uint_eq(json_array_size(T.got), 0);
	ck_assert(!qmp_ready(T.qmp));
}
END_TEST

/* commands */

START_TEST(replies_out_of_order)
{
	struct result		 r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
	struct qmp_stats	 st;
	json_int_t		 id1, id2, id3;
	json_t			*args = NULL;

	fake_connect();
	fake_up();
	command("query-status", NULL, 2000, &r1);
	command("device_add", json_pack("{s:s, s:s, s:i}", "driver",
	    "virtio-blk-pci", "id", "disk1", "addr", 5), 2000, &r2);
	command("query-cpus-fast", NULL, 0, &r3);
	id1 = fake_command("query-status", &args);
	ck_assert_ptr_null(args);
	id2 = fake_command("device_add", &args);
	ck_assert_str_eq(json_string_value(json_object_get(args, "driver")),
	    "virtio-blk-pci");
	ck_assert_int_eq(json_integer_value(json_object_get(args, "addr")), 5);
	json_decref(args);
	id3 = fake_command("query-cpus-fast", NULL);
	/* Our own ids, from 1 up. */
	ck_assert_int_eq(id1, 1);
	ck_assert_int_eq(id2, 2);
	ck_assert_int_eq(id3, 3);

	/* Last first, an event in between, then the error, then the first. */
	fake_sendf("{\"return\": [{\"cpu-index\": 0}, {\"cpu-index\": 1}], "
	    "\"id\": %lld}\r\n", (long long)id3);
	fake_sendf("{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\":"
	    " 123456}, \"event\": \"DEVICE_DELETED\", \"data\": {\"device\": "
	    "\"disk0\", \"path\": \"/machine/peripheral/disk0\"}}\r\n");
	fake_sendf("{\"id\": %lld, \"error\": {\"class\": \"GenericError\", "
	    "\"desc\": \"Duplicate device ID 'disk1'\"}}\r\n", (long long)id2);
	fake_sendf("{\"return\": {\"status\": \"running\", \"singlestep\": "
	    "false, \"running\": true}, \"id\": %lld}\r\n", (long long)id1);
	WAIT_FOR(r1.calls && r2.calls && r3.calls, 3000);

	ck_assert_uint_eq(r3.calls, 1);
	ck_assert_int_eq(r3.error, 0);
	ck_assert_uint_eq(json_array_size(r3.ret), 2);
	ck_assert_uint_eq(T.events, 1);
	ck_assert_str_eq(T.ev_name[0], "DEVICE_DELETED");
	ck_assert_uint_eq(T.ev_ns[0], 1700000000123456000ULL);
	ck_assert_str_eq(json_string_value(json_object_get(T.ev_data[0],
	    "device")), "disk0");
	ck_assert_uint_eq(r2.calls, 1);
	ck_assert_int_eq(r2.error, -1);
	ck_assert_str_eq(r2.class, "GenericError");
	ck_assert_str_eq(r2.desc, "Duplicate device ID 'disk1'");
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_int_eq(r1.error, 0);
	ck_assert_str_eq(json_string_value(json_object_get(r1.ret, "status")),
	    "running");
	/* In the order the answers came, not the commands went. */
	ck_assert_uint_lt(r3.seq, r2.seq);
	ck_assert_uint_lt(r2.seq, r1.seq);

	/* The timers of answered commands are gone. */
	pump(100);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_uint_eq(r2.calls, 1);
	qmp_stats(T.qmp, &st);
	ck_assert_uint_eq(st.commands, 3);
	ck_assert_uint_eq(st.answered, 3);
	ck_assert_uint_eq(st.events, 1);
	ck_assert_uint_eq(st.timeouts, 0);
	ck_assert_uint_eq(T.downs, 0);
	json_decref(r1.ret);
	json_decref(r3.ret);
}
END_TEST

/* A callback that sends again: the new command goes out with the next id. */
START_TEST(command_from_callback)
{
	struct result	r = { 0 };
	json_int_t	id;

	fake_connect();
	fake_up();
	r.command_again = true;
	command("query-status", NULL, 0, &r);
	id = fake_command("query-status", NULL);
	fake_sendf("{\"return\": {}, \"id\": %lld}\r\n", (long long)id);
	ck_assert_int_eq(fake_command("query-status", NULL), id + 1);
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_int_eq(r.again_rc, 0);
	json_decref(r.ret);
}
END_TEST

START_TEST(command_refusals)
{
	fake_connect();
	fake_up();
	command_refused("", NULL, "no command name");
	command_refused(NULL, NULL, "no command name");
	command_refused("device_add", json_pack("[i]", 1), "not an object");
	command_refused("bad\xff", NULL, "cannot encode");
	pump(20);
	ck_assert_uint_eq(json_array_size(T.got), 0);

	/* After the end, nothing goes. */
	event_del(T.fq_ev);
	close(T.fq);
	T.fq = -1;
	WAIT_FOR(T.downs == 1, 3000);
	ck_assert_uint_eq(T.downs, 1);
	ck_assert_str_eq(T.down_why, "QMP: closed by QEMU");
	command_refused("query-status", json_object(), "closed by QEMU");
}
END_TEST

START_TEST(events_timestamps)
{
	static const struct {
		const char	*ts;
		uint64_t	 ns;
	} cases[] = {
		{ ", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}", 1000002000ULL },
		{ ", \"timestamp\": {\"seconds\": 0, \"microseconds\": 999999}", 999999000ULL },
		{ "", 0 },
		{ ", \"timestamp\": {\"seconds\": -1, \"microseconds\": -1}", 0 },
		{ ", \"timestamp\": {\"seconds\": \"1\", \"microseconds\": 2}", 0 },
		{ ", \"timestamp\": {\"seconds\": 1, \"microseconds\": 1000000}", 0 },
		{ ", \"timestamp\": {\"seconds\": 1}", 0 },
		{ ", \"timestamp\": [1, 2]", 0 },
		{ ", \"timestamp\": {\"seconds\": 9223372036854775807, \"microseconds\": 0}", 0 },
		{ ", \"timestamp\": {\"seconds\": 18446744073, \"microseconds\": 0}", 18446744073000000000ULL },
	};
	const size_t	 n = sizeof cases / sizeof cases[0];
	char		 line[256];
	size_t		 i, j, len;

	fake_connect();
	fake_up();
	for (i = 0; i < n; i++)
		fake_sendf("{\"event\": \"E%zu\"%s}\r\n", i, cases[i].ts);
	/* No data member, then one split byte by byte, with \n alone. */
	len = (size_t)snprintf(line, sizeof line, "{\"event\": \"SHUTDOWN\", "
	    "\"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}, "
	    "\"timestamp\": {\"seconds\": 5, \"microseconds\": 6}}\n");
	for (j = 0; j < len; j++) {
		ck_assert(fake_write(line + j, 1));
		pump(1);
	}
	WAIT_FOR(T.events == n + 1, 3000);
	ck_assert_uint_eq(T.events, n + 1);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof line, "E%zu", i);
		ck_assert_str_eq(T.ev_name[i], line);
		ck_assert_msg(T.ev_ns[i] == cases[i].ns, "case %zu: %" PRIu64,
		    i, T.ev_ns[i]);
		ck_assert_ptr_null(T.ev_data[i]);
	}
	ck_assert_str_eq(T.ev_name[n], "SHUTDOWN");
	ck_assert_uint_eq(T.ev_ns[n], 5000006000ULL);
	ck_assert(json_is_true(json_object_get(T.ev_data[n], "guest")));
	ck_assert_uint_eq(T.downs, 0);
	ck_assert(qmp_ready(T.qmp));
}
END_TEST

START_TEST(timeout_late_reply)
{
	struct result		 r = { 0 }, r2 = { 0 };
	struct qmp_stats	 st;
	json_int_t		 id, id2;
	uint64_t		 t0;

	fake_connect();
	fake_up();
	t0 = now_ms();
	command("query-block", NULL, 100, &r);
	id = fake_command("query-block", NULL);
	WAIT_FOR(r.calls == 1, 3000);
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_int_eq(r.error, -1);
	ck_assert_str_eq(r.class, QMP_E_TIMEOUT);
	ck_assert_msg(strstr(r.desc, "query-block") != NULL, "%s", r.desc);
	ck_assert_uint_ge(r.at_ms - t0, 95);
	ck_assert_uint_lt(r.at_ms - t0, 1000);

	/* Its answer comes after all: ignored, counted, the link stays up. */
	fake_sendf("{\"return\": [], \"id\": %lld}\r\n", (long long)id);
	command("query-status", NULL, 2000, &r2);
	id2 = fake_command("query-status", NULL);
	ck_assert_int_gt(id2, id);
	fake_sendf("{\"return\": {\"status\": \"paused\"}, \"id\": %lld}\r\n",
	    (long long)id2);
	WAIT_FOR(r2.calls == 1, 3000);
	ck_assert_uint_eq(r2.calls, 1);
	ck_assert_int_eq(r2.error, 0);
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_uint_eq(T.downs, 0);
	qmp_stats(T.qmp, &st);
	ck_assert_uint_eq(st.timeouts, 1);
	ck_assert_uint_eq(st.late, 1);
	ck_assert_uint_eq(st.answered, 1);

	/* A second answer to it answers nothing: the end. */
	fake_sendf("{\"return\": [], \"id\": %lld}\r\n", (long long)id);
	WAIT_FOR(T.downs == 1, 3000);
	ck_assert_uint_eq(T.downs, 1);
	ck_assert_msg(strstr(T.down_why, "matches no command") != NULL, "%s",
	    T.down_why);
	json_decref(r2.ret);
}
END_TEST

START_TEST(queued_before_ready)
{
	struct result	r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
	json_t		*m;
	json_int_t	 id1, id2;

	T.auto_caps = false;
	fake_connect();
	command("query-status", NULL, 0, &r1);
	command("stop", json_object(), 5000, &r2);
	/* Its time runs out before QEMU is ready: never sent. */
	command("cont", NULL, 50, &r3);
	ck_assert(!qmp_ready(T.qmp));
	WAIT_FOR(r3.calls == 1, 3000);
	ck_assert_uint_eq(r3.calls, 1);
	ck_assert_str_eq(r3.class, QMP_E_TIMEOUT);
	ck_assert_uint_eq(json_array_size(T.got), 0);

	fake_sendf("%s", GREETING);
	WAIT_FOR(T.caps_seen == 1, 3000);
	/* Capabilities first, alone, until answered. */
	pump(50);
	ck_assert_uint_eq(json_array_size(T.got), 0);
	fake_sendf("%s", CAPS_OK);
	id1 = fake_command("query-status", NULL);
	id2 = fake_command("stop", &m);
	ck_assert(json_is_object(m));
	json_decref(m);
	ck_assert_int_eq(id1, 1);
	ck_assert_int_eq(id2, 2);
	ck_assert_uint_eq(T.readies, 1);
	fake_sendf("{\"return\": {}, \"id\": 2}\r\n{\"return\": {}, \"id\": 1}"
	    "\r\n");
	WAIT_FOR(r1.calls == 1 && r2.calls == 1, 3000);
	ck_assert_int_eq(r1.error, 0);
	ck_assert_int_eq(r2.error, 0);
	ck_assert_ptr_null(fake_next(50));
	json_decref(r1.ret);
	json_decref(r2.ret);
}
END_TEST

START_TEST(free_cancels)
{
	struct result	r1 = { 0 }, r2 = { 0 }, q1 = { 0 };

	fake_connect();
	fake_up();
	command("query-status", NULL, 1000, &r1);
	command("query-version", NULL, 0, &r2);
	fake_command("query-status", NULL);
	/* The first one's callback tries to send again: refused. */
	r1.command_again = true;
	FREE(T.qmp);
	T.qmp = NULL;
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_str_eq(r1.class, QMP_E_CANCELLED);
	ck_assert_int_eq(r1.again_rc, -1);
	ck_assert_uint_eq(r2.calls, 1);
	ck_assert_str_eq(r2.class, QMP_E_CANCELLED);
	ck_assert_uint_lt(r1.seq, r2.seq);
	ck_assert(fake_eof(2000));
	/* Cancelled is the end: no down, no timer. */
	pump(1100);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_uint_eq(T.downs, 0);

	/* Queued, never sent, cancelled just the same. */
	event_del(T.fq_ev);
	event_free(T.fq_ev);
	close(T.fq);
	fake_connect();
	command("query-status", NULL, 0, &q1);
	FREE(T.qmp);
	T.qmp = NULL;
	ck_assert_uint_eq(q1.calls, 1);
	ck_assert_str_eq(q1.class, QMP_E_CANCELLED);
	qmp_free(NULL);
}
END_TEST

START_TEST(down_fails_pending_first)
{
	struct result	r1 = { 0 }, r2 = { 0 };

	fake_connect();
	fake_up();
	command("query-status", NULL, 5000, &r1);
	command("query-version", NULL, 0, &r2);
	fake_command("query-status", NULL);
	fake_command("query-version", NULL);
	event_del(T.fq_ev);
	close(T.fq);
	T.fq = -1;
	WAIT_FOR(T.downs == 1, 3000);
	ck_assert_uint_eq(T.downs, 1);
	ck_assert_str_eq(T.down_why, "QMP: closed by QEMU");
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_str_eq(r1.class, QMP_E_DOWN);
	ck_assert_str_eq(r1.desc, "QMP: closed by QEMU");
	ck_assert_uint_eq(r2.calls, 1);
	ck_assert_str_eq(r2.class, QMP_E_DOWN);
	/* In id order, then down. */
	ck_assert_uint_lt(r1.seq, r2.seq);
	ck_assert_uint_lt(r2.seq, T.down_seq);
	ck_assert(!qmp_ready(T.qmp));
	/* The first one's timer went with it. */
	pump(200);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_uint_eq(T.downs, 1);
}
END_TEST

/* A hook or a callback frees the client with more to deliver. */
START_TEST(free_from_inside)
{
	struct result	r1 = { 0 }, r2 = { 0 };

	/* A command's callback, from a read with an event after it. */
	fake_connect();
	fake_up();
	command("query-status", NULL, 0, &r1);
	command("query-version", NULL, 100, &r2);
	fake_command("query-status", NULL);
	r1.free_qmp = true;
	fake_sendf("{\"return\": {}, \"id\": 1}\r\n{\"event\": \"STOP\"}\r\n");
	WAIT_FOR(r1.calls == 1, 3000);
	ck_assert_ptr_null(T.qmp);
	ck_assert_uint_eq(r2.calls, 1);
	ck_assert_str_eq(r2.class, QMP_E_CANCELLED);
	pump(200);
	ck_assert_uint_eq(T.events, 0);
	ck_assert_uint_eq(r2.calls, 1);
	json_decref(r1.ret);
	event_del(T.fq_ev);
	event_free(T.fq_ev);
	close(T.fq);

	/* The event hook, in the middle of a read. */
	memset(&r1, 0, sizeof r1);
	memset(&r2, 0, sizeof r2);
	fake_connect();
	fake_up();
	command("query-status", NULL, 0, &r1);
	T.free_on_event = true;
	fake_sendf("{\"event\": \"STOP\"}\r\n{\"event\": \"RESUME\"}\r\n"
	    "{\"return\": {}, \"id\": 1}\r\n");
	WAIT_FOR(T.events == 1, 3000);
	ck_assert_ptr_null(T.qmp);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_str_eq(r1.class, QMP_E_CANCELLED);
	pump(50);
	ck_assert_uint_eq(T.events, 1);
	T.free_on_event = false;
	event_del(T.fq_ev);
	event_free(T.fq_ev);
	close(T.fq);

	/* The first of two failed commands' callbacks, then down is not called. */
	memset(&r1, 0, sizeof r1);
	memset(&r2, 0, sizeof r2);
	fake_connect();
	fake_up();
	command("query-status", NULL, 0, &r1);
	command("query-version", NULL, 0, &r2);
	r1.free_qmp = true;
	fake_sendf("garbage\r\n");
	WAIT_FOR(r1.calls == 1, 3000);
	ck_assert_str_eq(r1.class, QMP_E_DOWN);
	ck_assert_uint_eq(r2.calls, 1);
	ck_assert_str_eq(r2.class, QMP_E_DOWN);
	pump(50);
	ck_assert_uint_eq(T.downs, 0);
	event_del(T.fq_ev);
	event_free(T.fq_ev);
	close(T.fq);

	/* The down hook. */
	T.free_on_down = true;
	fake_connect();
	fake_up();
	fake_sendf("[]\r\n{\"event\": \"STOP\"}\r\n");
	WAIT_FOR(T.downs == 1, 3000);
	ck_assert_ptr_null(T.qmp);
	pump(50);
	ck_assert_uint_eq(T.downs, 1);
	event_del(T.fq_ev);
	event_free(T.fq_ev);
	close(T.fq);

	/* The ready hook, with queued commands just sent. */
	memset(&r1, 0, sizeof r1);
	T.free_on_ready = true;
	fake_connect();
	command("query-status", NULL, 0, &r1);
	fake_sendf("%s", GREETING);
	WAIT_FOR(T.readies == 1, 3000);
	ck_assert_ptr_null(T.qmp);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_str_eq(r1.class, QMP_E_CANCELLED);
	ck_assert(fake_eof(2000));
}
END_TEST

/* QEMU stops reading: the link ends rather than buffer without bound. */
START_TEST(output_backlog)
{
	struct result	 r[8];
	json_t		*args;
	char		*big, *cause = NULL;
	size_t		 i, n;
	int		 rc = 0;

	memset(r, 0, sizeof r);
	fake_connect();
	fake_up();
	event_del(T.fq_ev);
	big = malloc(300 * 1024);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', 300 * 1024 - 1);
	big[300 * 1024 - 1] = '\0';
	/* The loop does not run in between: all of it stays queued. */
	for (n = 0; n < 8; n++) {
		args = json_pack("{s:s}", "blob", big);
		CALL(rc = qmp_command(T.qmp, "guest-file-write", args, 0,
		    result_cb, &r[n], &cause));
		if (rc == -1)
			break;
	}
	free(big);
	/* 4 x 300 KiB is past 1 MiB: the fourth is taken, the fifth is not. */
	ck_assert_uint_eq(n, 4);
	ck_assert_msg(strstr(cause, "output backlog") != NULL, "%s", cause);
	free(cause);
	/* Never from inside qmp_command. */
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(r[i].calls, 0);
	ck_assert_uint_eq(T.downs, 0);
	WAIT_FOR(T.downs == 1, 3000);
	ck_assert_uint_eq(T.downs, 1);
	ck_assert_msg(strstr(T.down_why, "output backlog") != NULL, "%s",
	    T.down_why);
	ck_assert_uint_eq(r[n].calls, 0);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(r[i].calls, 1);
		ck_assert_str_eq(r[i].class, QMP_E_DOWN);
		ck_assert_uint_lt(r[i].seq, T.down_seq);
	}
}
END_TEST

/* The same, with the backlog made of commands queued before ready. */
START_TEST(output_backlog_queued)
{
	struct result	 r[4];
	char		*big;
	size_t		 i;

	memset(r, 0, sizeof r);
	T.deaf = true;
	fake_connect();
	big = malloc(300 * 1024);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', 300 * 1024 - 1);
	big[300 * 1024 - 1] = '\0';
	for (i = 0; i < 4; i++)
		command("guest-file-write", json_pack("{s:s}", "blob", big), 0,
		    &r[i]);
	free(big);
	fake_sendf("%s", GREETING);
	WAIT_FOR(T.downs == 1, 3000);
	ck_assert_uint_eq(T.downs, 1);
	ck_assert_msg(strstr(T.down_why, "output backlog") != NULL, "%s",
	    T.down_why);
	/* Ready never came: the link ended while sending the queue. */
	ck_assert_uint_eq(T.readies, 0);
	for (i = 0; i < 4; i++) {
		ck_assert_uint_eq(r[i].calls, 1);
		ck_assert_str_eq(r[i].class, QMP_E_DOWN);
		ck_assert_uint_lt(r[i].seq, T.down_seq);
	}
	/* In id order. */
	for (i = 1; i < 4; i++)
		ck_assert_uint_lt(r[i - 1].seq, r[i].seq);
}
END_TEST

/* protocol violations */

/* What a fake QEMU sends to get the client to hang up, and why it must. */
struct bad_case {
	const char	*name;
	bool		 greet;		/* greeting and capabilities first */
	const char	*bytes;
	size_t		 len;		/* 0: strlen(bytes) */
	bool		 oversized;	/* QMP_MAX_MESSAGE + 1 bytes of 'x' instead */
	bool		 eof;		/* hang up after them */
	const char	*why;		/* in the down hook's why */
};

#define B(s)	s, sizeof s - 1

static const struct bad_case bad_cases[] = {
	{ "truncated then EOF", true, B("{\"return\": {\"status\": \"runn"),
	    false, true, "closed by QEMU in the middle of a message (27 bytes "
	    "from byte " },
	{ "not an object", true, B("[\"return\", {}]\r\n"), false, false,
	    "is an array, not an object" },
	{ "a string", true, B("\"QMP\"\r\n"), false, false,
	    "is a string, not an object" },
	{ "garbage", true, B("\x01\x02garbage}{\r\n"), false, false,
	    "QMP: malformed message at byte " },
	{ "two on a line", true, B("{\"event\": \"A\"} {\"event\": \"B\"}\r\n"),
	    false, false, "QMP: malformed message at byte " },
	{ "invalid UTF-8", true, B("{\"event\": \"STOP\xc3\x28\"}\r\n"), false,
	    false, "invalid UTF-8" },
	{ "overlong UTF-8", true, B("{\"event\": \"\xc0\xaf\"}\r\n"), false,
	    false, "invalid UTF-8" },
	{ "NUL", true, B("{\"event\": \"ST\0P\"}\r\n"), false, false,
	    "a NUL byte" },
	{ "oversized", true, NULL, 0, true, false,
	    "is longer than 1048576 bytes" },
	{ "unknown id", true, B("{\"return\": {}, \"id\": 99}\r\n"), false,
	    false, "with id 99 matches no command" },
	{ "string id", true, B("{\"return\": {}, \"id\": \"1\"}\r\n"), false,
	    false, "has an id that is a string" },
	{ "no id", true, B("{\"return\": {}}\r\n"), false, false,
	    "a return without an id" },
	{ "missing greeting", false, B("{\"return\": {}}\r\n"), false, false,
	    "the first message, at byte 0, is a return, not QEMU's greeting" },
	{ "event first", false, B("{\"event\": \"STOP\"}\r\n"), false, false,
	    "is an event, not QEMU's greeting" },
	{ "EOF first", false, B(""), false, true,
	    "closed by QEMU before its greeting" },
	{ "error without class", true,
	    B("{\"error\": {\"desc\": \"no class\"}, \"id\": 1}\r\n"), false,
	    false, "without class and desc strings" },
	{ "error not an object", true, B("{\"error\": \"bad\", \"id\": 1}\r\n"),
	    false, false, "without class and desc strings" },
	{ "greeting not an object", false, B("{\"QMP\": \"7.2.0\"}\r\n"), false,
	    false, "malformed greeting at byte 0: \"QMP\" is a string, not an "
	    "object" },
	{ "greeting without version", false,
	    B("{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n"), false,
	    false, "no version.qemu major, minor and micro" },
	{ "greeting negative version", false,
	    B("{\"QMP\": {\"version\": {\"qemu\": {\"major\": -7, \"minor\": 2, "
	    "\"micro\": 0}}, \"capabilities\": []}}\r\n"), false, false,
	    "no version.qemu major, minor and micro" },
	{ "greeting without capabilities", false,
	    B("{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, \"minor\": 2, "
	    "\"micro\": 0}}}}\r\n"), false, false,
	    "\"capabilities\" is missing, not an array" },
	{ "second greeting", true, B(GREETING), false, false,
	    "a second greeting" },
	{ "neither", true, B("{\"greeting\": {}}\r\n"), false, false,
	    "is neither greeting, return, error or event" },
	{ "both", true, B("{\"return\": {}, \"event\": \"X\", \"id\": 1}\r\n"),
	    false, false, "is more than one of greeting, return, error or event" },
	{ "event without a name", true, B("{\"event\": 5}\r\n"), false, false,
	    "an event at byte " },
	{ "duplicate key", true, B("{\"event\": \"A\", \"event\": \"B\"}\r\n"),
	    false, false, "malformed message at byte " },
};

START_TEST(bad_input)
{
	const struct bad_case	*bc = &bad_cases[_i];
	struct result		 r = { 0 };
	struct qmp_stats	 st;
	char			*big;
	bool			 greeted = bc->greet;

	fake_connect();
	if (greeted) {
		fake_up();
		command("query-status", NULL, 0, &r);
		ck_assert_int_eq(fake_command("query-status", NULL), 1);
	}
	if (bc->oversized) {
		big = malloc(QMP_MAX_MESSAGE + 1);
		ck_assert_ptr_nonnull(big);
		memset(big, 'x', QMP_MAX_MESSAGE + 1);
		/* No newline: the client must not wait for one. */
		fake_write(big, QMP_MAX_MESSAGE + 1);
		free(big);
	} else
		fake_write(bc->bytes, bc->len);
	if (bc->eof) {
		event_del(T.fq_ev);
		close(T.fq);
		T.fq = -1;
	}
	WAIT_FOR(T.downs == 1, 5000);
	ck_assert_msg(T.downs == 1, "%s: no down", bc->name);
	ck_assert_msg(strstr(T.down_why, bc->why) != NULL,
	    "%s: down \"%s\", not \"%s\"", bc->name, T.down_why, bc->why);
	ck_assert_msg(strncmp(T.down_why, "QMP: ", 5) == 0, "%s", T.down_why);
	ck_assert(!qmp_ready(T.qmp));
	if (greeted) {
		ck_assert_uint_eq(r.calls, 1);
		ck_assert_str_eq(r.class, QMP_E_DOWN);
		ck_assert_str_eq(r.desc, T.down_why);
		ck_assert_uint_lt(r.seq, T.down_seq);
	}
	if (!bc->eof)
		ck_assert(fake_eof(2000));
	/* Once. */
	pump(50);
	ck_assert_uint_eq(T.downs, 1);
	qmp_stats(T.qmp, &st);
	ck_assert_uint_eq(st.answered, 0);
}
END_TEST

/* Where in the stream a fault was: what a person needs to find it. */
START_TEST(bad_input_offset)
{
	char	want[128];

	fake_connect();
	fake_up();
	fake_sendf("{\"event\": \"STOP\"}\r\n{\"event\": tru}\r\n");
	WAIT_FOR(T.downs == 1, 3000);
	ck_assert_uint_eq(T.downs, 1);
	/* jansson stops after the token it cannot read, "tru". */
	snprintf(want, sizeof want, "QMP: malformed message at byte %zu: ",
	    strlen(GREETING) + strlen(CAPS_OK) + 19 + 13);
	ck_assert_msg(strncmp(T.down_why, want, strlen(want)) == 0,
	    "\"%s\", not \"%s...\"", T.down_why, want);
	ck_assert_uint_eq(T.events, 1);
}
END_TEST

/* One line at the limit, split anywhere, is still a message. */
START_TEST(longest_message)
{
	char		*line;
	size_t		 len, at;

	fake_connect();
	fake_up();
	/* {"event": "E", "data": {"s": "xxx...x"}} of QMP_MAX_MESSAGE bytes. */
	len = QMP_MAX_MESSAGE;
	line = malloc(len + 2);
	ck_assert_ptr_nonnull(line);
	at = (size_t)sprintf(line, "{\"event\": \"E\", \"data\": {\"s\": \"");
	memset(line + at, 'x', len - at - 3);
	memcpy(line + len - 3, "\"}}\r\n", 5);
	ck_assert(fake_write(line, len + 2));
	free(line);
	WAIT_FOR(T.events == 1, 5000);
	ck_assert_uint_eq(T.events, 1);
	ck_assert_uint_eq(json_string_length(json_object_get(T.ev_data[0],
	    "s")), len - at - 3);
	ck_assert_uint_eq(T.downs, 0);
	ck_assert(qmp_ready(T.qmp));
}
END_TEST

/* the detached reader */

START_TEST(detached)
{
	const char	 greeting_caps[] = GREETING CAPS_OK;
	struct result	 r = { 0 }, r2 = { 0 };
	char		*cause = NULL;
	size_t		 i;
	int		 rc;

	T.qmp = qmp_new_detached(&hooks);
	ck_assert_ptr_nonnull(T.qmp);
	command("query-status", NULL, 10, &r);
	/* Split anywhere: one byte at a time. */
	for (i = 0; i < sizeof greeting_caps - 1; i++) {
		rc = qmp_feed(T.qmp, greeting_caps + i, 1, &cause);
		ck_assert_msg(rc == 0, "feed: %s", cause);
	}
	ck_assert_uint_eq(T.readies, 1);
	ck_assert(qmp_ready(T.qmp));
	ck_assert_str_eq(qmp_version(T.qmp), "7.2.0");
	/* No clock: no time-out. */
	ck_assert_uint_eq(r.calls, 0);
	command("query-version", NULL, 0, &r2);
	ck_assert_uint_eq(r2.calls, 0);
	ck_assert_int_eq(qmp_feed(T.qmp, B("{\"return\": {\"a\": 1}, \"id\": 2}"
	    "\n{\"event\": \"RESET\", \"timestamp\": {\"seconds\": 3, "
	    "\"microseconds\": 4}}\r\n{\"return\": 7, \"id\": 1}\n"), &cause),
	    0);
	ck_assert_uint_eq(r2.calls, 1);
	ck_assert_int_eq(json_integer_value(json_object_get(r2.ret, "a")), 1);
	ck_assert_uint_eq(T.events, 1);
	ck_assert_str_eq(T.ev_name[0], "RESET");
	ck_assert_uint_eq(T.ev_ns[0], 3000004000ULL);
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_int_eq(json_integer_value(r.ret), 7);

	/* Refused input: -1, a cause, the down hook, then -1 for good. */
	command("query-status", NULL, 0, &r);
	ck_assert_int_eq(qmp_feed(T.qmp, B("{\"event\": \"X\"}\n\xff\n"),
	    &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, T.down_why);
	ck_assert_msg(strstr(cause, "invalid UTF-8") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_uint_eq(T.events, 2);
	ck_assert_uint_eq(T.downs, 1);
	ck_assert_uint_eq(r.calls, 2);
	ck_assert_str_eq(r.class, QMP_E_DOWN);
	ck_assert_int_eq(qmp_feed(T.qmp, B("{\"event\": \"X\"}\n"), &cause),
	    -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	ck_assert_uint_eq(T.downs, 1);
	ck_assert_uint_eq(T.events, 2);
	json_decref(r.ret);
	json_decref(r2.ret);
}
END_TEST

/*
 * GUEST_PANICKED's hyper-v args are uint64 and a Windows STOP parameter is
 * often a kernel address above INT64_MAX, which jansson cannot hold: such
 * an integer arrives as its decimal string, the rest as integers.
 */
START_TEST(big_integers)
{
	const char	 greeting_caps[] = GREETING CAPS_OK;
	char		*cause = NULL;
	json_t		*info;

	T.qmp = qmp_new_detached(&hooks);
	ck_assert_ptr_nonnull(T.qmp);
	ck_assert_int_eq(qmp_feed(T.qmp, greeting_caps,
	    sizeof greeting_caps - 1, &cause), 0);
	ck_assert_int_eq(qmp_feed(T.qmp, B("{\"event\": \"GUEST_PANICKED\", "
	    "\"data\": {\"action\": \"pause\", \"info\": {\"type\": "
	    "\"hyper-v\", \"arg1\": 209, \"arg2\": 18446735277616529408, "
	    "\"arg3\": 2, \"arg4\": 0, \"arg5\": 9223372036854775808, "
	    "\"note\": \"18446744073709551615 in a string stays\"}}, "
	    "\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\n"),
	    &cause), 0);
	ck_assert_uint_eq(T.downs, 0);
	ck_assert_uint_eq(T.events, 1);
	ck_assert_str_eq(T.ev_name[0], "GUEST_PANICKED");
	info = json_object_get(T.ev_data[0], "info");
	ck_assert_int_eq(json_integer_value(json_object_get(info, "arg1")), 209);
	ck_assert_str_eq(json_string_value(json_object_get(info, "arg2")),
	    "18446735277616529408");
	ck_assert_str_eq(json_string_value(json_object_get(info, "arg5")),
	    "9223372036854775808");
	ck_assert_str_eq(json_string_value(json_object_get(info, "note")),
	    "18446744073709551615 in a string stays");
	/* A number too big even for a uint64 is still refused. */
	ck_assert_int_eq(qmp_feed(T.qmp, B("{\"event\": \"X\", \"data\": "
	    "{\"a\": 184467440737095516150}}\n"), &cause), -1);
	ck_assert_uint_eq(T.downs, 1);
	free(cause);
}
END_TEST

START_TEST(detached_eof_and_free)
{
	struct result	 r = { 0 };
	char		*cause = NULL;

	/* An empty feed is QEMU hanging up. */
	T.qmp = qmp_new_detached(&hooks);
	ck_assert_int_eq(qmp_feed(T.qmp, B(GREETING CAPS_OK "{\"ret"),
	    &cause), 0);
	command("query-status", NULL, 0, &r);
	ck_assert_int_eq(qmp_feed(T.qmp, "", 0, &cause), -1);
	ck_assert_msg(strstr(cause, "in the middle of a message") != NULL,
	    "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_str_eq(r.class, QMP_E_DOWN);
	ck_assert_uint_eq(T.downs, 1);
	qmp_free(T.qmp);

	/* Freed by a hook inside qmp_feed: the rest is not read. */
	T.qmp = qmp_new_detached(&hooks);
	T.free_on_event = true;
	ck_assert_int_eq(qmp_feed(T.qmp, B(GREETING CAPS_OK "{\"event\": \"A\"}"
	    "\n{\"event\": \"B\"}\n"), &cause), 0);
	ck_assert_ptr_null(T.qmp);
	ck_assert_uint_eq(T.events, 1);

	/* Freed by the down hook. */
	T.free_on_event = false;
	T.free_on_down = true;
	T.qmp = qmp_new_detached(&hooks);
	ck_assert_int_eq(qmp_feed(T.qmp, B("{\"event\": \"A\"}\n"), &cause),
	    -1);
	ck_assert_ptr_null(T.qmp);
	ck_assert_msg(strstr(cause, "not QEMU's greeting") != NULL, "%s",
	    cause);
	free(cause);
}
END_TEST

START_TEST(new_refuses)
{
	char	*cause = NULL;
	int	 fd;

	ck_assert_ptr_null(qmp_new(T.base, -1, &hooks, &cause));
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;

	/* A file cannot be waited on; it is closed all the same. */
	fd = memfd_create("check-qmp", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_null(qmp_new(T.base, fd, &hooks, &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "cannot be polled") != NULL, "%s", cause);
	free(cause);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

/* unix sockets and the real QEMU */

/*
 * One folder under /tmp for the case, made and removed by the parent, so
 * it goes even when a failed test skips its teardown.
 */
static char	case_dir[64];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
case_setup(void)
{
	snprintf(case_dir, sizeof case_dir, "/tmp/check-qmp.XXXXXX");
	if (mkdtemp(case_dir) == NULL)
		ck_abort_msg("mkdtemp %s: %s", case_dir, strerror(errno));
}

static void
case_teardown(void)
{
	nftw(case_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
dir_setup(void)
{
	setup();
	snprintf(T.dir, sizeof T.dir, "%s/t.XXXXXX", case_dir);
	if (mkdtemp(T.dir) == NULL)
		ck_abort_msg("mkdtemp %s: %s", T.dir, strerror(errno));
}

static void
dir_teardown(void)
{
	int	status;

	/* Only the QEMU this test started, by its pid. */
	if (T.qemu > 0) {
		kill(T.qemu, SIGKILL);
		waitpid(T.qemu, &status, 0);
		T.qemu = 0;
	}
	teardown();
	nftw(T.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

START_TEST(connect_unix)
{
	struct sockaddr_un	 sun;
	char			 path[PATH_MAX], spec[PATH_MAX + 8];
	char			 longp[200], *cause = NULL;
	int			 ls, fd, fl;

	snprintf(path, sizeof path, "%s/qmp.sock", T.dir);
	ck_assert_int_eq(qmp_connect_unix(path, &cause), -1);
	ck_assert_msg(strstr(cause, strerror(ENOENT)) != NULL, "%s", cause);
	free(cause);
	cause = NULL;

	memset(longp, 'a', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = '\0';
	ck_assert_int_eq(qmp_connect_unix(longp, &cause), -1);
	ck_assert_msg(strstr(cause, "longer than") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(qmp_connect_unix("unix:", &cause), -1);
	free(cause);
	cause = NULL;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof sun.sun_path);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%.*s",
	    (int)sizeof sun.sun_path - 1, path);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(ls, 0);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(ls, 4), 0);
	/* A plain path, then "unix:" and the path. */
	fd = qmp_connect_unix(path, &cause);
	ck_assert_msg(fd >= 0, "connect %s: %s", path, cause);
	close(fd);
	T.fq = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(T.fq, 0);
	close(T.fq);
	snprintf(spec, sizeof spec, "unix:%s", path);
	fd = qmp_connect_unix(spec, &cause);
	ck_assert_msg(fd >= 0, "connect %s: %s", spec, cause);
	fl = fcntl(fd, F_GETFL);
	ck_assert(fl & O_NONBLOCK);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	/* And it carries QMP. */
	T.fq = accept4(ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	ck_assert_int_ge(T.fq, 0);
	close(ls);
	T.qmp = qmp_new(T.base, fd, &hooks, &cause);
	ck_assert_ptr_nonnull(T.qmp);
	T.fq_ev = event_new(T.base, T.fq, EV_READ | EV_PERSIST, fake_read_cb,
	    NULL);
	ck_assert_int_eq(event_add(T.fq_ev, NULL), 0);
	fake_up();
}
END_TEST

/* The QEMU on PATH, or NULL. */
static bool
qemu_found(char *buf, size_t len)
{
	const char	*path = getenv("PATH");
	const char	*p, *end;

	for (p = path != NULL ? path : "/usr/bin:/bin"; *p != '\0'; p = end) {
		end = strchrnul(p, ':');
		snprintf(buf, len, "%.*s/%s", (int)(end - p), p, QEMU_PROG);
		if (end > p && access(buf, X_OK) == 0)
			return true;
		if (*end == ':')
			end++;
	}
	return false;
}

/* What QEMU wrote, for a failed test's message. */
static const char *
qemu_log(const char *path)
{
	static char	buf[2048];
	ssize_t		n = 0;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

START_TEST(real_qemu)
{
	struct result	 st = { 0 }, ver = { 0 }, bad = { 0 }, quit = { 0 };
	char		 prog[PATH_MAX], sock[PATH_MAX], spec[PATH_MAX + 32];
	char		 logf[PATH_MAX], want[64], *cause = NULL;
	json_t		*q;
	pid_t		 parent;
	uint64_t	 end;
	unsigned	 i, maj, min, mic;
	int		 fd = -1, status, logfd, n = 0;

	if (!qemu_found(prog, sizeof prog)) {
		fprintf(stderr, "check-qmp: " QEMU_PROG " is not installed: "
		    "the real QEMU test is skipped\n");
		return;
	}
	snprintf(sock, sizeof sock, "%s/qmp.sock", T.dir);
	snprintf(spec, sizeof spec, "unix:%s,server=on,wait=off", sock);
	snprintf(logf, sizeof logf, "%s/qemu.log", T.dir);
	parent = getpid();
	T.qemu = fork();
	ck_assert_int_ge(T.qemu, 0);
	if (T.qemu == 0) {
		/* A failed test exits without its teardown: QEMU goes along. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent)
			_exit(127);
		logfd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		fd = open("/dev/null", O_RDONLY);
		if (logfd == -1 || fd == -1 || dup2(fd, 0) == -1 ||
		    dup2(logfd, 1) == -1 || dup2(logfd, 2) == -1)
			_exit(127);
		execl(prog, prog, "-nodefaults", "-no-user-config",
		    "-nographic", "-machine", "none", "-qmp", spec,
		    "-monitor", "none", (char *)NULL);
		_exit(127);
	}

	/* The socket is there once QEMU is up; until then, ENOENT. */
	end = now_ms() + 15000;
	while ((fd = qmp_connect_unix(sock, &cause)) == -1) {
		free(cause);
		cause = NULL;
		ck_assert_msg(waitpid(T.qemu, &status, WNOHANG) == 0,
		    "QEMU exited: %s", qemu_log(logf));
		ck_assert_msg(now_ms() < end, "no QMP socket: %s",
		    qemu_log(logf));
		usleep(20000);
	}
	CALL(T.qmp = qmp_new(T.base, fd, &hooks, &cause));
	ck_assert_msg(T.qmp != NULL, "qmp_new: %s", cause);
	WAIT_FOR(T.readies == 1 || T.downs != 0, 10000);
	ck_assert_msg(T.readies == 1, "not ready: %s", T.down_why);
	ck_assert_ptr_nonnull(qmp_version(T.qmp));
	ck_assert_msg(sscanf(qmp_version(T.qmp), "%u.%u.%u%n", &maj, &min,
	    &mic, &n) == 3 && (size_t)n == strlen(qmp_version(T.qmp)) &&
	    maj >= 7, "version %s", qmp_version(T.qmp));

	command("query-status", NULL, 5000, &st);
	command("query-version", NULL, 5000, &ver);
	command("no-such-command", NULL, 5000, &bad);
	WAIT_FOR(st.calls && ver.calls && bad.calls, 5000);
	ck_assert_msg(st.calls == 1 && st.error == 0, "query-status: %s %s",
	    st.class, st.desc);
	ck_assert(json_is_string(json_object_get(st.ret, "status")));
	ck_assert(json_is_boolean(json_object_get(st.ret, "running")));
	ck_assert_msg(ver.calls == 1 && ver.error == 0, "query-version: %s %s",
	    ver.class, ver.desc);
	/* The greeting's version is query-version's. */
	q = json_object_get(ver.ret, "qemu");
	snprintf(want, sizeof want, "%" JSON_INTEGER_FORMAT ".%"
	    JSON_INTEGER_FORMAT ".%" JSON_INTEGER_FORMAT,
	    json_integer_value(json_object_get(q, "major")),
	    json_integer_value(json_object_get(q, "minor")),
	    json_integer_value(json_object_get(q, "micro")));
	ck_assert_str_eq(qmp_version(T.qmp), want);
	ck_assert_uint_eq(bad.calls, 1);
	ck_assert_str_eq(bad.class, "CommandNotFound");
	ck_assert(qmp_ready(T.qmp));

	command("quit", NULL, 5000, &quit);
	WAIT_FOR(T.downs == 1, 10000);
	ck_assert_msg(T.downs == 1, "no down after quit");
	/* QEMU 7.2 often resets the connection as it quits. */
	ck_assert_msg(strcmp(T.down_why, "QMP: closed by QEMU") == 0 ||
	    strcmp(T.down_why, "QMP: closed by QEMU (connection reset)") == 0,
	    "%s", T.down_why);
	ck_assert_uint_eq(quit.calls, 1);
	ck_assert_msg(quit.error == 0, "quit: %s %s", quit.class, quit.desc);
	for (i = 0; i < T.events && i < MAX_SEEN; i++)
		if (strcmp(T.ev_name[i], "SHUTDOWN") == 0)
			break;
	ck_assert_msg(i < T.events, "no SHUTDOWN event");
	ck_assert_str_eq(json_string_value(json_object_get(T.ev_data[i],
	    "reason")), "host-qmp-quit");
	/* Within a minute of our clock. */
	ck_assert_uint_gt(T.ev_ns[i], clock_wall_ns() - 60000000000ULL);
	ck_assert_uint_lt(T.ev_ns[i], clock_wall_ns() + 60000000000ULL);

	end = now_ms() + 10000;
	while (waitpid(T.qemu, &status, WNOHANG) == 0) {
		ck_assert_msg(now_ms() < end, "QEMU did not exit on quit");
		usleep(10000);
	}
	T.qemu = 0;
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "QEMU: status %d: %s", status, qemu_log(logf));
	json_decref(st.ret);
	json_decref(ver.ret);
	json_decref(quit.ret);
}
END_TEST

static Suite *
qmp_suite(void)
{
	Suite	*s = suite_create("qmp");
	TCase	*tc;

	tc = tcase_create("fake");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, handshake);
	tcase_add_test(tc, caps_refused);
	tcase_add_test(tc, replies_out_of_order);
	tcase_add_test(tc, command_from_callback);
	tcase_add_test(tc, command_refusals);
	tcase_add_test(tc, events_timestamps);
	tcase_add_test(tc, timeout_late_reply);
	tcase_add_test(tc, queued_before_ready);
	tcase_add_test(tc, free_cancels);
	tcase_add_test(tc, down_fails_pending_first);
	tcase_add_test(tc, free_from_inside);
	tcase_add_test(tc, output_backlog);
	tcase_add_test(tc, output_backlog_queued);
	tcase_add_loop_test(tc, bad_input, 0,
	    (int)(sizeof bad_cases / sizeof bad_cases[0]));
	tcase_add_test(tc, bad_input_offset);
	tcase_add_test(tc, longest_message);
	tcase_add_test(tc, detached);
	tcase_add_test(tc, detached_eof_and_free);
	tcase_add_test(tc, big_integers);
	tcase_add_test(tc, new_refuses);
	suite_add_tcase(s, tc);

	tc = tcase_create("socket");
	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, connect_unix);
	tcase_add_test(tc, real_qemu);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	/* The client writes to a QEMU that may have gone. */
	signal(SIGPIPE, SIG_IGN);
	sr = srunner_create(qmp_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
