/* qmp.c: the daemon's QMP client on libevent: QEMU's greeting and
 * qmp_capabilities, commands matched to replies by id, events, time-outs. */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "qmp.h"
#include "hotsoak/util.h"

#define QMP_OUTPUT_MAX		(1U << 20)	/* unsent bytes: QEMU stopped reading */
#define QMP_READ_CHUNK		16384		/* what one bufferevent read brings at most */
#define QMP_BUF_MIN		4096
#define QMP_BUF_KEEP		65536		/* a longer line's buffer is not kept */
#define QMP_LATE_MAX		256		/* timed-out ids whose answers are expected */
#define QMP_WHY_MAX		256
#define QMP_NAME_MAX		64		/* of a command's name, kept for messages */
#define MS_NS			1000000ULL
#define QMP_MAX_MS		(UINT64_MAX / MS_NS / 4) /* so deadlines never wrap */
#define US_NS			1000ULL
#define S_NS			1000000000ULL

/* The one command this file sends itself; it has no id, and so its answer. */
static const char	qmp_capabilities_line[] = "{\"execute\":\"qmp_capabilities\"}\n";

enum qmp_cmd_state {
	QMP_CMD_QUEUED,		/* encoded, waiting for ready to be sent */
	QMP_CMD_SENT,		/* written; its answer awaited */
	QMP_CMD_FAILED		/* no answer will come: its callback is owed */
};

/* A command of the owner's, from qmp_command to its callback. */
struct qmp_cmd {
	struct qmp		*qmp;
	uint64_t		 id;
	enum qmp_cmd_state	 state;
	char			 name[QMP_NAME_MAX];
	char			*line;		/* QMP_CMD_QUEUED: what to send */
	size_t			 len;
	uint64_t		 timeout_ms;
	struct event		*timer;		/* NULL: waits as long as the link */
	qmp_cb			 cb;
	void			*arg;
	const char		*class;		/* QMP_CMD_FAILED: a QMP_E_* */
	char			 desc[QMP_WHY_MAX];
	TAILQ_ENTRY(qmp_cmd)	 entry;
};
TAILQ_HEAD(qmp_cmds, qmp_cmd);

enum qmp_state {
	QMP_S_GREETING,		/* connected; the first message must be the greeting */
	QMP_S_CAPS,		/* qmp_capabilities sent; its answer awaited */
	QMP_S_READY,		/* commands flow */
	QMP_S_DOWN		/* over; the down hook and failed commands may be owed */
};

/*
 * One client. The owner may free it from inside any hook or callback, so
 * every entry from libevent (and qmp_feed) brackets itself with
 * qmp_enter/qmp_leave and the memory goes at the outermost qmp_leave.
 */
struct qmp {
	struct event_base	*base;		/* NULL: detached, fed by qmp_feed */
	struct bufferevent	*bev;		/* NULL once down, or detached */
	struct qmp_hooks	 hooks;
	enum qmp_state		 state;
	json_t			*greeting;
	char			 version[72];	/* "7.2.0"; "" before the greeting */

	char			*buf;		/* the unfinished line, no '\n' */
	size_t			 len;
	size_t			 cap;
	uint64_t		 offset;	/* bytes read from QEMU so far */
	uint64_t		 line_at;	/* where the line in buf starts */

	struct qmp_cmds		 queued;	/* before ready, id order */
	struct qmp_cmds		 sent;		/* id order */
	struct qmp_cmds		 failed;	/* id order; delivered before down */
	uint64_t		 next_id;
	uint64_t		 late[QMP_LATE_MAX]; /* 0: a free slot */
	size_t			 late_next;

	struct event		*defer;		/* delivers what a socket's end owes */
	bool			 notify;	/* the down hook is owed */
	char			 why[QMP_WHY_MAX]; /* "": not down, or freed first */

	unsigned		 busy;		/* our callbacks on the stack */
	bool			 feeding;	/* inside qmp_feed */
	bool			 freed;		/* qmp_free ran; destroy when not busy */
	struct qmp_stats	 stats;
};

static void	qmp_read_cb(struct bufferevent *, void *);
static void	qmp_event_cb(struct bufferevent *, short, void *);
static void	qmp_defer_cb(evutil_socket_t, short, void *);
static void	qmp_timeout_cb(evutil_socket_t, short, void *);
static void	qmp_kill(struct qmp *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static struct timeval
ms_to_tv(uint64_t ms)
{
	struct timeval	tv;

	if (ms > QMP_MAX_MS)
		ms = QMP_MAX_MS;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
	return tv;
}

static void
qmp_enter(struct qmp *q)
{
	q->busy++;
}

static void	qmp_destroy(struct qmp *);

/* After qmp_leave the client must not be touched: it may be gone. */
static void
qmp_leave(struct qmp *q)
{
	if (--q->busy == 0 && q->freed)
		qmp_destroy(q);
}

/* Whether a handler must stop: the link went down or a hook freed it. */
static bool
qmp_gone(const struct qmp *q)
{
	return q->freed || q->state == QMP_S_DOWN;
}

/* Text that came from QEMU goes to logs: printable ASCII only. */
static void
printable(char *s)
{
	unsigned char	*p;

	for (p = (unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	}
}

/* A JSON value's kind, for messages. */
static const char *
describe(const json_t *v)
{
	if (v == NULL)
		return "missing";
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

/* Offset of the first NUL or byte that is not valid UTF-8, or n. */
static size_t
text_check(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, k;

	while (i < n) {
		if (p[i] == '\0' || (k = utf8_seq_len(p + i, n - i)) == 0)
			return i;
		i += k;
	}
	return n;
}

/* commands */

static void
cmd_free(struct qmp_cmd *c)
{
	if (c->timer != NULL)
		event_free(c->timer);
	free(c->line);
	free(c);
}

static struct qmp_cmds *
cmd_list(struct qmp *q, struct qmp_cmd *c)
{
	switch (c->state) {
	case QMP_CMD_QUEUED:
		return &q->queued;
	case QMP_CMD_SENT:
		return &q->sent;
	case QMP_CMD_FAILED:
		break;
	}
	return &q->failed;
}

/*
 * Calls c's callback once, c already off every list and freed first, so
 * that the callback may send commands or free the client.
 */
static void
cmd_finish(struct qmp_cmd *c, int error, const char *class, const char *desc,
    json_t *ret)
{
	qmp_cb	 cb = c->cb;
	void	*arg = c->arg;
	char	 buf[QMP_WHY_MAX];

	if (desc == c->desc) {
		memcpy(buf, c->desc, sizeof buf);
		desc = buf;
	}
	cmd_free(c);
	if (cb != NULL)
		cb(arg, error, class, desc, ret);
}

/* Moves the commands on from to the end of to, failed with class and desc. */
static void
cmd_fail_all(struct qmp_cmds *from, struct qmp_cmds *to, const char *class,
    const char *desc)
{
	struct qmp_cmd	*c;

	while ((c = TAILQ_FIRST(from)) != NULL) {
		TAILQ_REMOVE(from, c, entry);
		if (c->timer != NULL)
			event_del(c->timer);
		c->state = QMP_CMD_FAILED;
		c->class = class;
		snprintf(c->desc, sizeof c->desc, "%s", desc);
		TAILQ_INSERT_TAIL(to, c, entry);
	}
}

/* An id whose command timed out after it was sent: its answer may come. */
static void
late_remember(struct qmp *q, uint64_t id)
{
	/* The oldest is forgotten: an answer that late is QEMU's defect. */
	q->late[q->late_next] = id;
	q->late_next = (q->late_next + 1) % QMP_LATE_MAX;
}

/* Whether id timed out; it is forgotten, as only one answer may come. */
static bool
late_take(struct qmp *q, uint64_t id)
{
	size_t	i;

	for (i = 0; i < QMP_LATE_MAX; i++) {
		if (q->late[i] == id) {
			q->late[i] = 0;
			return true;
		}
	}
	return false;
}

static void
qmp_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct qmp_cmd	*c = arg;
	struct qmp	*q = c->qmp;

	qmp_enter(q);
	TAILQ_REMOVE(cmd_list(q, c), c, entry);
	if (c->state == QMP_CMD_SENT) {
		late_remember(q, c->id);
		snprintf(c->desc, sizeof c->desc, "no answer to %s (id %"
		    PRIu64 ") within %" PRIu64 " ms", c->name, c->id,
		    c->timeout_ms);
	} else
		snprintf(c->desc, sizeof c->desc, "%s (id %" PRIu64 ") not "
		    "sent: QMP was not ready within %" PRIu64 " ms", c->name,
		    c->id, c->timeout_ms);
	q->stats.timeouts++;
	cmd_finish(c, -1, QMP_E_TIMEOUT, c->desc, NULL);
	qmp_leave(q);
}

/* output */

/*
 * Queues len bytes for QEMU (dropped when detached); -1 when they could
 * not be (nothing queued). A QEMU that stops reading ends the link, later.
 */
static int
qmp_write(struct qmp *q, const char *line, size_t len)
{
	size_t	queued;

	if (q->bev == NULL)
		return q->state == QMP_S_DOWN ? -1 : 0;
	if (bufferevent_write(q->bev, line, len) == -1)
		return -1;
	queued = evbuffer_get_length(bufferevent_get_output(q->bev));
	if (queued > QMP_OUTPUT_MAX)
		qmp_kill(q, "QMP: output backlog: %zu bytes unsent, QEMU is not "
		    "reading", queued);
	return 0;
}

/* Sends what was queued before ready, oldest first. */
static void
qmp_flush_queued(struct qmp *q)
{
	struct qmp_cmd	*c;

	while (q->state == QMP_S_READY &&
	    (c = TAILQ_FIRST(&q->queued)) != NULL) {
		if (qmp_write(q, c->line, c->len) == -1) {
			qmp_kill(q, "QMP: out of memory for output");
			return;
		}
		/* A backlog ended the link: c failed with the rest. */
		if (q->state == QMP_S_DOWN)
			return;
		TAILQ_REMOVE(&q->queued, c, entry);
		free(c->line);
		c->line = NULL;
		c->state = QMP_CMD_SENT;
		TAILQ_INSERT_TAIL(&q->sent, c, entry);
		q->stats.commands++;
	}
}

/* the end of the link */

/*
 * Ends the link at once: the socket closes, every command fails with
 * QMP_E_DOWN, and the callbacks and the down hook are owed, delivered by
 * qmp_deliver (deferred on the event base, or at the end of qmp_feed).
 */
static void
qmp_kill(struct qmp *q, const char *fmt, ...)
{
	va_list	ap;

	if (q->state == QMP_S_DOWN)
		return;
	va_start(ap, fmt);
	vsnprintf(q->why, sizeof q->why, fmt, ap);
	va_end(ap);
	printable(q->why);
	q->state = QMP_S_DOWN;
	/* Safe inside the bufferevent's own callbacks: they hold a reference. */
	if (q->bev != NULL)
		bufferevent_free(q->bev);
	q->bev = NULL;
	/* Sent ones have the smaller ids: the queue is empty once ready. */
	cmd_fail_all(&q->sent, &q->failed, QMP_E_DOWN, q->why);
	cmd_fail_all(&q->queued, &q->failed, QMP_E_DOWN, q->why);
	if (q->freed)
		return;
	q->notify = true;
	if (q->defer != NULL)
		event_active(q->defer, EV_TIMEOUT, 0);
}

/* The failed commands' callbacks, then the down hook; none once freed. */
static void
qmp_deliver(struct qmp *q)
{
	struct qmp_cmd	*c;

	while (!q->freed && (c = TAILQ_FIRST(&q->failed)) != NULL) {
		TAILQ_REMOVE(&q->failed, c, entry);
		cmd_finish(c, -1, c->class, c->desc, NULL);
	}
	if (!q->freed && q->notify) {
		q->notify = false;
		if (q->hooks.down != NULL)
			q->hooks.down(q->hooks.arg, q->why);
	}
}

static void
qmp_defer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct qmp	*q = arg;

	qmp_enter(q);
	qmp_deliver(q);
	qmp_leave(q);
}

/*
 * QEMU hung up: the socket's EOF or reset, or qmp_feed's empty input.
 * QEMU 7.2 resets about half its connections when it quits, though it
 * has read all of ours: that is a close like any other.
 */
static void
qmp_eof(struct qmp *q, bool reset)
{
	const char	*how = reset ? " (connection reset)" : "";

	if (q->len != 0)
		qmp_kill(q, "QMP: closed by QEMU in the middle of a message "
		    "(%zu bytes from byte %" PRIu64 " unfinished)%s", q->len,
		    q->line_at, how);
	else if (q->state == QMP_S_GREETING)
		qmp_kill(q, "QMP: closed by QEMU before its greeting%s", how);
	else
		qmp_kill(q, "QMP: closed by QEMU%s", how);
}

/* messages */

static void
qmp_on_greeting(struct qmp *q, json_t *m, uint64_t at)
{
	json_t	*body, *qemu, *v[3];
	int	 i;

	if (q->state != QMP_S_GREETING) {
		qmp_kill(q, "QMP: a second greeting at byte %" PRIu64, at);
		return;
	}
	body = json_object_get(m, "QMP");
	if (!json_is_object(body)) {
		qmp_kill(q, "QMP: malformed greeting at byte %" PRIu64 ": "
		    "\"QMP\" is %s, not an object", at, describe(body));
		return;
	}
	qemu = json_object_get(json_object_get(body, "version"), "qemu");
	v[0] = json_object_get(qemu, "major");
	v[1] = json_object_get(qemu, "minor");
	v[2] = json_object_get(qemu, "micro");
	for (i = 0; i < 3; i++) {
		if (!json_is_integer(v[i]) || json_integer_value(v[i]) < 0) {
			qmp_kill(q, "QMP: malformed greeting at byte %" PRIu64
			    ": no version.qemu major, minor and micro numbers",
			    at);
			return;
		}
	}
	if (!json_is_array(json_object_get(body, "capabilities"))) {
		qmp_kill(q, "QMP: malformed greeting at byte %" PRIu64 ": "
		    "\"capabilities\" is %s, not an array", at,
		    describe(json_object_get(body, "capabilities")));
		return;
	}
	snprintf(q->version, sizeof q->version, "%" JSON_INTEGER_FORMAT ".%"
	    JSON_INTEGER_FORMAT ".%" JSON_INTEGER_FORMAT,
	    json_integer_value(v[0]), json_integer_value(v[1]),
	    json_integer_value(v[2]));
	q->greeting = json_incref(m);
	/* No oob: replies then come in the order of the commands. */
	if (qmp_write(q, qmp_capabilities_line,
	    sizeof qmp_capabilities_line - 1) == -1) {
		qmp_kill(q, "QMP: out of memory for output");
		return;
	}
	if (q->state == QMP_S_GREETING)
		q->state = QMP_S_CAPS;
}

/*
 * The answer to qmp_capabilities: ready, or the end. What was queued goes
 * first, so that commands the ready hook sends come after it.
 */
static void
qmp_on_caps(struct qmp *q, const char *class, const char *desc)
{
	if (class != NULL) {
		qmp_kill(q, "QMP: qmp_capabilities refused: %s: %s", class,
		    desc);
		return;
	}
	q->state = QMP_S_READY;
	qmp_flush_queued(q);
	if (qmp_gone(q))
		return;
	if (q->hooks.ready != NULL)
		q->hooks.ready(q->hooks.arg, q->greeting);
}

/* "return" or "error": the answer to qmp_capabilities or to a command. */
static void
qmp_on_answer(struct qmp *q, json_t *m, bool is_error, uint64_t at)
{
	struct qmp_cmd	*c;
	json_t		*err, *idv;
	const char	*class = NULL, *desc = NULL;
	uint64_t	 id;

	if (is_error) {
		err = json_object_get(m, "error");
		class = json_string_value(json_object_get(err, "class"));
		desc = json_string_value(json_object_get(err, "desc"));
		if (class == NULL || desc == NULL) {
			qmp_kill(q, "QMP: an error at byte %" PRIu64 " without "
			    "class and desc strings", at);
			return;
		}
	}
	if (q->state == QMP_S_GREETING) {
		qmp_kill(q, "QMP: the first message, at byte %" PRIu64 ", is "
		    "%s, not QEMU's greeting", at, is_error ? "an error" :
		    "a return");
		return;
	}
	idv = json_object_get(m, "id");
	if (q->state == QMP_S_CAPS && idv == NULL) {
		qmp_on_caps(q, class, desc);
		return;
	}
	/* Every command of ours carries an id: one without answers nothing. */
	if (idv == NULL) {
		qmp_kill(q, "QMP: %s without an id at byte %" PRIu64,
		    is_error ? "an error" : "a return", at);
		return;
	}
	if (!json_is_integer(idv) || json_integer_value(idv) < 1) {
		qmp_kill(q, "QMP: %s at byte %" PRIu64 " has an id that is %s,"
		    " not one of ours", is_error ? "an error" : "a return", at,
		    describe(idv));
		return;
	}
	id = (uint64_t)json_integer_value(idv);
	TAILQ_FOREACH(c, &q->sent, entry) {
		if (c->id == id)
			break;
	}
	if (c == NULL) {
		if (late_take(q, id)) {
			q->stats.late++;
			return;
		}
		qmp_kill(q, "QMP: %s at byte %" PRIu64 " with id %" PRIu64
		    " matches no command", is_error ? "an error" : "a return",
		    at, id);
		return;
	}
	TAILQ_REMOVE(&q->sent, c, entry);
	q->stats.answered++;
	if (is_error)
		cmd_finish(c, -1, class, desc, NULL);
	else
		cmd_finish(c, 0, NULL, NULL, json_object_get(m, "return"));
}

/* QEMU's timestamp in CLOCK_REALTIME ns; 0 when missing or malformed. */
static uint64_t
qmp_timestamp(json_t *m)
{
	json_t		*ts = json_object_get(m, "timestamp");
	json_t		*s = json_object_get(ts, "seconds");
	json_t		*us = json_object_get(ts, "microseconds");
	json_int_t	 sv, usv;

	if (!json_is_integer(s) || !json_is_integer(us))
		return 0;
	sv = json_integer_value(s);
	usv = json_integer_value(us);
	/* QEMU sends -1 and -1 when its clock failed. */
	if (sv < 0 || usv < 0 || usv >= 1000000 ||
	    (uint64_t)sv > (UINT64_MAX - (uint64_t)usv * US_NS) / S_NS)
		return 0;
	return (uint64_t)sv * S_NS + (uint64_t)usv * US_NS;
}

static void
qmp_on_event(struct qmp *q, json_t *m, uint64_t at)
{
	const char	*name = json_string_value(json_object_get(m, "event"));

	if (name == NULL) {
		qmp_kill(q, "QMP: an event at byte %" PRIu64 " without a "
		    "string name", at);
		return;
	}
	if (q->state == QMP_S_GREETING) {
		qmp_kill(q, "QMP: the first message, at byte %" PRIu64 ", is "
		    "an event, not QEMU's greeting", at);
		return;
	}
	q->stats.events++;
	if (q->hooks.event != NULL)
		q->hooks.event(q->hooks.arg, name, json_object_get(m, "data"),
		    qmp_timestamp(m));
}

/* What a message is by the members that name its kind. */
enum qmp_kind {
	QMP_K_GREETING,		/* "QMP" */
	QMP_K_RETURN,		/* "return" */
	QMP_K_ERROR,		/* "error" */
	QMP_K_EVENT,		/* "event" */
	QMP_K_COUNT
};

static const char *const qmp_kind_keys[QMP_K_COUNT] = {
	[QMP_K_GREETING] = "QMP",
	[QMP_K_RETURN] = "return",
	[QMP_K_ERROR] = "error",
	[QMP_K_EVENT] = "event",
};

static void
qmp_on_message(struct qmp *q, json_t *m, uint64_t at)
{
	int	kind = -1, i, n = 0;

	for (i = 0; i < QMP_K_COUNT; i++) {
		if (json_object_get(m, qmp_kind_keys[i]) != NULL) {
			kind = i;
			n++;
		}
	}
	if (n != 1) {
		qmp_kill(q, "QMP: the message at byte %" PRIu64 " is %s "
		    "greeting, return, error or event", at, n == 0 ?
		    "neither" : "more than one of");
		return;
	}
	switch ((enum qmp_kind)kind) {
	case QMP_K_GREETING:
		qmp_on_greeting(q, m, at);
		break;
	case QMP_K_RETURN:
	case QMP_K_ERROR:
		qmp_on_answer(q, m, kind == QMP_K_ERROR, at);
		break;
	case QMP_K_EVENT:
		qmp_on_event(q, m, at);
		break;
	case QMP_K_COUNT:
		break;
	}
}

/* One whole line from byte at, without its '\n'. */

/*
 * QEMU sends uint64 members as plain JSON numbers, and jansson cannot hold
 * one above INT64_MAX. A copy of the line with every such integer (outside
 * strings) turned into a decimal string, its length in *outn; NULL when
 * out of memory. The caller frees it.
 */
static char *
qmp_quote_big(const char *p, size_t n, size_t *outn)
{
	char		*out, *o, num[32];
	size_t		 i = 0, j, len;
	bool		 instr = false;
	unsigned long long v;

	if ((out = malloc(n * 2 + 1)) == NULL)
		return NULL;
	o = out;
	while (i < n) {
		if (instr) {
			if (p[i] == '\\' && i + 1 < n)
				*o++ = p[i++];
			else if (p[i] == '"')
				instr = false;
			*o++ = p[i++];
			continue;
		}
		if (p[i] == '"') {
			instr = true;
			*o++ = p[i++];
			continue;
		}
		if (p[i] < '0' || p[i] > '9' || (i > 0 && (p[i - 1] == '-' ||
		    p[i - 1] == '.' || (p[i - 1] >= '0' && p[i - 1] <= '9')))) {
			*o++ = p[i++];
			continue;
		}
		for (j = i; j < n && p[j] >= '0' && p[j] <= '9'; j++)
			;
		len = j - i;
		if (len < sizeof num && (j == n || (p[j] != '.' && p[j] != 'e' &&
		    p[j] != 'E'))) {
			memcpy(num, p + i, len);
			num[len] = '\0';
			errno = 0;
			v = strtoull(num, NULL, 10);
			if (errno == 0 && v > (unsigned long long)INT64_MAX) {
				*o++ = '"';
				memcpy(o, p + i, len);
				o += len;
				*o++ = '"';
				i = j;
				continue;
			}
		}
		memcpy(o, p + i, len);
		o += len;
		i = j;
	}
	*outn = (size_t)(o - out);
	return out;
}

static void
qmp_on_line(struct qmp *q, const char *p, size_t n, uint64_t at)
{
	json_error_t	 err;
	json_t		*m;
	size_t		 i, bn;
	char		*big;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n > QMP_MAX_MESSAGE) {
		qmp_kill(q, "QMP: the message at byte %" PRIu64 " is longer "
		    "than %d bytes", at, QMP_MAX_MESSAGE);
		return;
	}
	for (i = 0; i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r');
	    i++)
		;
	if (i == n)
		return;
	if ((i = text_check(p, n)) != n) {
		qmp_kill(q, "QMP: malformed message at byte %" PRIu64 ": %s",
		    at + i, p[i] == '\0' ? "a NUL byte" : "invalid UTF-8");
		return;
	}
	/*
	 * No JSON_DISABLE_EOF_CHECK: two messages on one line are an error.
	 * JSON_DECODE_ANY, so that a scalar is named for what it is.
	 */
	m = json_loadb(p, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
	if (m == NULL && strstr(err.text, "too big") != NULL &&
	    (big = qmp_quote_big(p, n, &bn)) != NULL) {
		/* QEMU's uint64 members (GUEST_PANICKED's args): as strings. */
		m = json_loadb(big, bn, JSON_REJECT_DUPLICATES |
		    JSON_DECODE_ANY, &err);
		free(big);
	}
	if (m == NULL) {
		if (json_error_code(&err) == json_error_out_of_memory)
			qmp_kill(q, "QMP: out of memory for the message at "
			    "byte %" PRIu64, at);
		else
			qmp_kill(q, "QMP: malformed message at byte %" PRIu64
			    ": %s", at + (uint64_t)(err.position > 0 ?
			    err.position : 0), err.text);
		return;
	}
	if (!json_is_object(m))
		qmp_kill(q, "QMP: the message at byte %" PRIu64 " is %s, not "
		    "an object", at, describe(m));
	else
		qmp_on_message(q, m, at);
	json_decref(m);
}

/*
 * Keeps n more bytes of an unfinished line in q->buf (the client's, freed
 * by qmp_destroy or once a long line is done); the caller checked the size.
 */
static int
qmp_buf_append(struct qmp *q, const char *p, size_t n)
{
	size_t	 need = q->len + n, cap;
	char	*nbuf;

	if (need > q->cap) {
		cap = q->cap != 0 ? q->cap : QMP_BUF_MIN;
		while (cap < need)
			cap *= 2;
		if (cap > QMP_MAX_MESSAGE + 1)
			cap = QMP_MAX_MESSAGE + 1;
		if ((nbuf = realloc(q->buf, cap)) == NULL)
			return -1;
		q->buf = nbuf;
		q->cap = cap;
	}
	memcpy(q->buf + q->len, p, n);
	q->len = need;
	return 0;
}

/*
 * The reader: bytes as they come, split anywhere, into lines. At most
 * QMP_MAX_MESSAGE bytes and a '\r' of one line are ever kept: a longer
 * one ends the link as soon as it is known to be longer.
 */
static void
qmp_read(struct qmp *q, const char *p, size_t n)
{
	const char	*nl;
	size_t		 k;

	while (n > 0 && !qmp_gone(q)) {
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t)(nl - p) : n;
		if (k > QMP_MAX_MESSAGE + 1 - q->len ||
		    (nl == NULL && q->len + k == QMP_MAX_MESSAGE + 1 &&
		    p[k - 1] != '\r')) {
			qmp_kill(q, "QMP: the message at byte %" PRIu64 " is "
			    "longer than %d bytes", q->line_at,
			    QMP_MAX_MESSAGE);
			return;
		}
		if (nl == NULL) {
			if (qmp_buf_append(q, p, k) == -1)
				qmp_kill(q, "QMP: out of memory reading a "
				    "message");
			q->offset += k;
			return;
		}
		q->offset += k + 1;
		if (q->len == 0)
			/* The whole line is in p: no copy. */
			qmp_on_line(q, p, k, q->line_at);
		else if (qmp_buf_append(q, p, k) == -1) {
			qmp_kill(q, "QMP: out of memory reading a message");
			return;
		} else {
			/* A hook cannot reach buf: qmp_feed refuses reentry. */
			qmp_on_line(q, q->buf, q->len, q->line_at);
			q->len = 0;
			if (q->cap > QMP_BUF_KEEP) {
				free(q->buf);
				q->buf = NULL;
				q->cap = 0;
			}
		}
		q->line_at = q->offset;
		p = nl + 1;
		n -= k + 1;
	}
}

static void
qmp_read_cb(struct bufferevent *bev, void *arg)
{
	struct qmp	*q = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		 buf[QMP_READ_CHUNK];
	int		 n;

	qmp_enter(q);
	/* Drained as read: only the reader's buffer holds an unfinished line. */
	while (!qmp_gone(q) && (n = evbuffer_remove(in, buf, sizeof buf)) > 0)
		qmp_read(q, buf, (size_t)n);
	qmp_leave(q);
}

static void
qmp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct qmp	*q = arg;
	int		 serrno = EVUTIL_SOCKET_ERROR();

	qmp_enter(q);
	if (what & BEV_EVENT_EOF)
		qmp_eof(q, false);
	else if ((what & BEV_EVENT_ERROR) && serrno == ECONNRESET)
		qmp_eof(q, true);
	else if (what & BEV_EVENT_ERROR)
		qmp_kill(q, "QMP: connection error: %s", serrno != 0 ?
		    strerror(serrno) : "unknown");
	qmp_leave(q);
}

/* the client */

/* Frees what is left; the lists are empty unless qmp_new failed. */
static void
qmp_destroy(struct qmp *q)
{
	struct qmp_cmds	*lists[] = { &q->queued, &q->sent, &q->failed };
	struct qmp_cmd	*c;
	size_t		 i;

	if (q->bev != NULL)
		bufferevent_free(q->bev);
	for (i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		while ((c = TAILQ_FIRST(lists[i])) != NULL) {
			TAILQ_REMOVE(lists[i], c, entry);
			cmd_free(c);
		}
	}
	if (q->defer != NULL)
		event_free(q->defer);
	json_decref(q->greeting);
	free(q->buf);
	free(q);
}

/* A client with nothing to read from (qmp_free frees it); NULL: no memory. */
static struct qmp *
qmp_alloc(const struct qmp_hooks *hooks)
{
	struct qmp	*q;

	if ((q = calloc(1, sizeof *q)) == NULL)
		return NULL;
	TAILQ_INIT(&q->queued);
	TAILQ_INIT(&q->sent);
	TAILQ_INIT(&q->failed);
	q->next_id = 1;
	q->state = QMP_S_GREETING;
	if (hooks != NULL)
		q->hooks = *hooks;
	return q;
}

/* Whether fd can carry QMP; -1 with *cause when not. */
static int
qmp_fd_check(int fd, char **cause)
{
	struct stat	st;
	socklen_t	len;
	int		type;

	if (fstat(fd, &st) == -1)
		return cause_set(cause, "QMP: descriptor %d: %s", fd,
		    strerror(errno));
	/*
	 * A file is always ready, so there is nothing to wait on; and epoll
	 * refuses it only when the loop next runs, too late to say.
	 */
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
		return cause_set(cause, "QMP: descriptor %d cannot be polled: "
		    "a file, not a stream", fd);
	len = sizeof type;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	    type != SOCK_STREAM)
		return cause_set(cause, "QMP: descriptor %d: not a stream "
		    "socket", fd);
	return 0;
}

struct qmp *
qmp_new(struct event_base *base, int fd, const struct qmp_hooks *hooks,
    char **cause)
{
	struct qmp	*q;

	if (fd < 0) {
		cause_set(cause, "QMP: descriptor %d: %s", fd, strerror(EBADF));
		return NULL;
	}
	if (base == NULL) {
		close(fd);
		cause_set(cause, "QMP: no event base");
		return NULL;
	}
	if (qmp_fd_check(fd, cause) == -1) {
		close(fd);
		return NULL;
	}
	if ((q = qmp_alloc(hooks)) == NULL) {
		close(fd);
		cause_set(cause, "%s", strerror(ENOMEM));
		return NULL;
	}
	q->base = base;
	if ((q->defer = event_new(base, -1, 0, qmp_defer_cb, q)) == NULL) {
		close(fd);
		goto fail;
	}
	if (evutil_make_socket_nonblocking(fd) == -1 ||
	    (q->bev = bufferevent_socket_new(base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		goto fail;
	}
	bufferevent_setcb(q->bev, qmp_read_cb, NULL, qmp_event_cb, q);
	if (bufferevent_enable(q->bev, EV_READ | EV_WRITE) == -1) {
		/* A regular file, say: nothing to wait on. The bev closes fd. */
		qmp_destroy(q);
		cause_set(cause, "QMP: descriptor %d cannot be polled", fd);
		return NULL;
	}
	return q;

fail:
	qmp_destroy(q);
	cause_set(cause, "QMP: cannot make a bufferevent: %s",
	    strerror(ENOMEM));
	return NULL;
}

struct qmp *
qmp_new_detached(const struct qmp_hooks *hooks)
{
	return qmp_alloc(hooks);
}

int
qmp_connect_unix(const char *path, char **cause)
{
	struct sockaddr_un	sun;
	size_t			len;
	int			fd, serrno;

	if (strncmp(path, "unix:", 5) == 0)
		path += 5;
	len = strlen(path);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (len == 0)
		return cause_set(cause, "QMP: no socket path");
	if (len >= sizeof sun.sun_path)
		return cause_set(cause, "QMP: %s: longer than the %zu bytes of "
		    "a unix socket path", path, sizeof sun.sun_path - 1);
	memcpy(sun.sun_path, path, len);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return cause_set(cause, "QMP: socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		serrno = errno;
		close(fd);
		/* A full backlog: Linux fails nonblocking unix connects. */
		return cause_set(cause, "QMP: %s: %s", path,
		    serrno == EAGAIN ? "QEMU's listen backlog is full" :
		    strerror(serrno));
	}
	return fd;
}

int
qmp_command(struct qmp *q, const char *command, json_t *arguments,
    uint64_t timeout_ms, qmp_cb cb, void *arg, char **cause)
{
	struct qmp_cmd	*c;
	struct timeval	 tv;
	json_t		*msg;
	char		*line, *nline;
	size_t		 len;

	if (q->freed || q->state == QMP_S_DOWN) {
		json_decref(arguments);
		return cause_set(cause, "%s", q->why[0] != '\0' ? q->why :
		    "QMP: the client is closed");
	}
	if (command == NULL || *command == '\0') {
		json_decref(arguments);
		return cause_set(cause, "QMP: no command name");
	}
	if (arguments != NULL && !json_is_object(arguments)) {
		cause_set(cause, "QMP: the arguments of %.*s are %s, not an "
		    "object", QMP_NAME_MAX, command, describe(arguments));
		json_decref(arguments);
		return -1;
	}
	/* json_pack refuses a name that is not UTF-8. */
	msg = json_pack("{s:s, s:I}", "execute", command, "id",
	    (json_int_t)q->next_id);
	if (msg == NULL || (arguments != NULL &&
	    json_object_set_new(msg, "arguments", arguments) == -1)) {
		if (msg == NULL)
			json_decref(arguments);
		json_decref(msg);
		return cause_set(cause, "QMP: cannot encode %.*s", QMP_NAME_MAX,
		    command);
	}
	line = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (line == NULL)
		return cause_set(cause, "QMP: cannot encode %.*s", QMP_NAME_MAX,
		    command);
	if ((len = strlen(line)) > QMP_MAX_MESSAGE) {
		free(line);
		return cause_set(cause, "QMP: %.*s is longer than %d bytes "
		    "encoded", QMP_NAME_MAX, command, QMP_MAX_MESSAGE);
	}
	if ((nline = realloc(line, len + 2)) == NULL) {
		free(line);
		return cause_set(cause, "%s", strerror(ENOMEM));
	}
	line = nline;
	line[len++] = '\n';
	line[len] = '\0';

	/* The client's until cmd_finish, just before the callback. */
	if ((c = calloc(1, sizeof *c)) == NULL) {
		free(line);
		return cause_set(cause, "%s", strerror(ENOMEM));
	}
	/* Without an event base there is no clock: detached ones wait. */
	if (timeout_ms != 0 && q->base != NULL &&
	    (c->timer = evtimer_new(q->base, qmp_timeout_cb, c)) == NULL) {
		free(c);
		free(line);
		return cause_set(cause, "%s", strerror(ENOMEM));
	}
	c->qmp = q;
	c->id = q->next_id;
	snprintf(c->name, sizeof c->name, "%s", command);
	printable(c->name);
	c->timeout_ms = timeout_ms;
	c->cb = cb;
	c->arg = arg;
	if (q->state == QMP_S_READY) {
		if (qmp_write(q, line, len) == -1) {
			free(line);
			cmd_free(c);
			return cause_set(cause, "QMP: out of memory for output");
		}
		free(line);
		c->state = QMP_CMD_SENT;
		q->stats.commands++;
		/* A backlog ended the link: c fails, deferred, with the rest. */
		TAILQ_INSERT_TAIL(q->state == QMP_S_DOWN ? &q->failed :
		    &q->sent, c, entry);
		if (q->state == QMP_S_DOWN) {
			c->state = QMP_CMD_FAILED;
			c->class = QMP_E_DOWN;
			snprintf(c->desc, sizeof c->desc, "%s", q->why);
		}
	} else {
		/* A queued command's time runs from now: the owner waits. */
		c->line = line;
		c->len = len;
		c->state = QMP_CMD_QUEUED;
		TAILQ_INSERT_TAIL(&q->queued, c, entry);
	}
	q->next_id++;
	if (c->timer != NULL && c->state != QMP_CMD_FAILED) {
		tv = ms_to_tv(timeout_ms);
		evtimer_add(c->timer, &tv);
	}
	return 0;
}

bool
qmp_ready(const struct qmp *q)
{
	return !q->freed && q->state == QMP_S_READY;
}

const char *
qmp_version(const struct qmp *q)
{
	return q->version[0] != '\0' ? q->version : NULL;
}

void
qmp_stats(const struct qmp *q, struct qmp_stats *st)
{
	*st = q->stats;
}

void
qmp_free(struct qmp *q)
{
	struct qmp_cmds	 todo;
	struct qmp_cmd	*c;

	if (q == NULL || q->freed)
		return;
	q->freed = true;
	qmp_enter(q);
	if (q->defer != NULL)
		event_del(q->defer);
	if (q->bev != NULL)
		bufferevent_free(q->bev);
	q->bev = NULL;
	q->notify = false;
	/* Collect first: a callback may send commands or free again. */
	TAILQ_INIT(&todo);
	TAILQ_CONCAT(&todo, &q->failed, entry);
	cmd_fail_all(&q->sent, &todo, QMP_E_CANCELLED,
	    "the QMP client was closed");
	cmd_fail_all(&q->queued, &todo, QMP_E_CANCELLED,
	    "the QMP client was closed");
	q->state = QMP_S_DOWN;
	while ((c = TAILQ_FIRST(&todo)) != NULL) {
		TAILQ_REMOVE(&todo, c, entry);
		cmd_finish(c, -1, c->class, c->desc, NULL);
	}
	qmp_leave(q);
}

int
qmp_feed(struct qmp *q, const void *buf, size_t len, char **cause)
{
	char	why[QMP_WHY_MAX];

	if (q->freed)
		return cause_set(cause, "QMP: the client is closed");
	if (q->base != NULL)
		return cause_set(cause, "QMP: this client reads its socket");
	if (q->feeding)
		return cause_set(cause, "QMP: qmp_feed from inside a hook");
	if (q->state == QMP_S_DOWN)
		return cause_set(cause, "%s", q->why);
	qmp_enter(q);
	q->feeding = true;
	if (len == 0)
		qmp_eof(q, false);
	else
		qmp_read(q, buf, len);
	why[0] = '\0';
	if (q->state == QMP_S_DOWN && !q->freed)
		memcpy(why, q->why, sizeof why);
	/* Detached, nothing defers: what is owed is delivered here. */
	qmp_deliver(q);
	q->feeding = false;
	qmp_leave(q);
	if (why[0] != '\0')
		return cause_set(cause, "%s", why);
	return 0;
}
