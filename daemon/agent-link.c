/* agent-link.c: the daemon's end of the agent protocol on libevent: one live
 * connection, the hello, de-duplicated agent requests, our requests, hangs. */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "agent-link.h"
#include "hotsoak/util.h"

#define AL_OUTPUT_MAX		(1U << 20)	/* unsent bytes: the agent stopped reading */
#define AL_READ_CHUNK		16384		/* what one bufferevent read brings at most */
#define AL_INSTANCES_MAX	64		/* agent instances remembered for de-dup */
#define AL_LINGER_MS		1000		/* to flush a refusal before hanging up */
#define AL_RELISTEN_MS		200		/* pause after accept failed (no descriptors) */
#define AL_WHY_MAX		160
#define MS_NS			1000000ULL
#define AL_MAX_MS		(UINT64_MAX / MS_NS / 4) /* so deadlines never wrap */

/* A request of ours waiting for its answer. */
struct al_pending {
	struct agent_link	*link;
	uint64_t		 id;
	enum proto_type		 type;
	agent_link_cb		 cb;
	void			*arg;
	struct event		*timer;		/* NULL: waits as long as the link */
	const char		*code;		/* failed with no answer: why */
	char			 detail[AL_WHY_MAX];
	TAILQ_ENTRY(al_pending)	 entry;
};
TAILQ_HEAD(al_pendings, al_pending);

enum al_conn_state {
	AL_CONN_HELLO,		/* connected; only a hello is served */
	AL_CONN_UP,		/* hello accepted: requests flow both ways */
	AL_CONN_CLOSING,	/* hello refused: flushing the error, then closing */
	AL_CONN_DEAD		/* closed; its down hook and failed requests wait */
};

/*
 * One connection. Its memory outlives its socket: a handler on the stack
 * may still hold it after a hook closed it, so the deferred callback frees
 * it once its down hook and failed requests have been delivered.
 */
struct al_conn {
	struct agent_link	*link;
	enum al_conn_state	 state;
	struct bufferevent	*bev;
	struct proto_reader	 reader;
	struct al_instance	*inst;		/* AL_CONN_UP: whose requests these are */
	bool			 notify;	/* AL_CONN_DEAD: the down hook is due */
	char			 why[AL_WHY_MAX];
	struct al_pendings	 failed;	/* the link's requests it took down */
	TAILQ_ENTRY(al_conn)	 entry;
};
TAILQ_HEAD(al_conns, al_conn);

/* An agent process, named by its hello, and the requests of it handled. */
struct al_instance {
	char			*boot_id;
	uint64_t		 pid;
	uint64_t		 highest;	/* largest request id applied; 0: none */
	TAILQ_ENTRY(al_instance) entry;
};
TAILQ_HEAD(al_instances, al_instance);

struct agent_link {
	struct event_base	*base;
	char			*token;
	size_t			 token_len;
	uint64_t		 hang_after_ms;
	struct agent_link_hooks	 hooks;

	struct evconnlistener	*listener;
	char			*path;
	dev_t			 path_dev;	/* to unlink our socket, not a successor's */
	ino_t			 path_ino;
	struct event		*relisten;

	struct al_conn		*conn;		/* the live one: AL_CONN_HELLO or AL_CONN_UP */
	struct al_conns		 closing;
	struct al_conns		 dead;		/* oldest first */
	struct event		*defer;		/* delivers what dead connections owe */

	struct al_pendings	 pending;	/* oldest first */
	uint64_t		 next_id;

	struct al_instances	 instances;	/* the last accepted hello's first */
	size_t			 ninstances;

	struct event		*hang;
	bool			 watching;
	bool			 alive_known;	/* a hello was accepted: silence can count */
	bool			 hung;		/* the hang hook ran for this silence */
	uint64_t		 alive_ns;	/* last hello or heartbeat */

	unsigned		 busy;		/* our libevent callbacks on the stack */
	bool			 freed;		/* agent_link_free ran; destroy when not busy */
	struct agent_link_stats	 stats;
};

static void	al_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	al_accept_error_cb(struct evconnlistener *, void *);
static void	al_relisten_cb(evutil_socket_t, short, void *);
static void	al_defer_cb(evutil_socket_t, short, void *);
static void	al_hang_cb(evutil_socket_t, short, void *);
static void	al_timeout_cb(evutil_socket_t, short, void *);
static void	conn_read_cb(struct bufferevent *, void *);
static void	conn_flushed_cb(struct bufferevent *, void *);
static void	conn_event_cb(struct bufferevent *, short, void *);

static int	al_on_msg(void *, const struct proto_msg *);
static int	al_on_bad(void *, const struct proto_bad *);

static const struct proto_handler al_handler = { al_on_msg, al_on_bad };

static uint64_t
ms_to_ns(uint64_t ms)
{
	return (ms > AL_MAX_MS ? AL_MAX_MS : ms) * MS_NS;
}

static struct timeval
ns_to_tv(uint64_t ns)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(ns / 1000000000ULL);
	tv.tv_usec = (suseconds_t)(ns % 1000000000ULL / 1000);
	return tv;
}

/*
 * Every callback of ours that libevent calls brackets itself with these: a
 * hook may call agent_link_free, which then leaves the memory to the
 * outermost al_leave. After al_leave the link must not be touched.
 */
static void
al_enter(struct agent_link *l)
{
	l->busy++;
}

static void	al_destroy(struct agent_link *);

static void
al_leave(struct agent_link *l)
{
	if (--l->busy == 0 && l->freed)
		al_destroy(l);
}

/* pending requests */

static void
pending_free(struct al_pending *p)
{
	if (p->timer != NULL)
		event_free(p->timer);
	free(p);
}

/* Calls p's callback once, p already off every list; p is freed first. */
static void
pending_finish(struct al_pending *p, int error, const char *code,
    const char *detail, json_t *reply)
{
	agent_link_cb	 cb = p->cb;
	void		*arg = p->arg;
	char		 buf[AL_WHY_MAX];

	if (detail == p->detail) {
		memcpy(buf, p->detail, sizeof buf);
		detail = buf;
	}
	pending_free(p);
	if (cb != NULL)
		cb(arg, error, code, detail, reply);
}

/* Moves every waiting request to to, failed with code and detail. */
static void
pending_fail_all(struct agent_link *l, struct al_pendings *to,
    const char *code, const char *detail)
{
	struct al_pending	*p;

	while ((p = TAILQ_FIRST(&l->pending)) != NULL) {
		TAILQ_REMOVE(&l->pending, p, entry);
		if (p->timer != NULL)
			event_del(p->timer);
		p->code = code;
		snprintf(p->detail, sizeof p->detail, "%s", detail);
		TAILQ_INSERT_TAIL(to, p, entry);
	}
}

static void
al_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct al_pending	*p = arg;
	struct agent_link	*l = p->link;

	al_enter(l);
	TAILQ_REMOVE(&l->pending, p, entry);
	snprintf(p->detail, sizeof p->detail, "no answer to %s %" PRIu64
	    " in time", proto_type_name(p->type), p->id);
	pending_finish(p, -1, AGENT_LINK_E_TIMEOUT, p->detail, NULL);
	al_leave(l);
}

/* agent instances */

/*
 * The instance named boot_id and pid, made if new, moved to the front;
 * NULL when out of memory. The link frees instances.
 */
static struct al_instance *
instance_get(struct agent_link *l, const char *boot_id, uint64_t pid)
{
	struct al_instance	*i;

	TAILQ_FOREACH(i, &l->instances, entry) {
		if (i->pid == pid && strcmp(i->boot_id, boot_id) == 0) {
			TAILQ_REMOVE(&l->instances, i, entry);
			TAILQ_INSERT_HEAD(&l->instances, i, entry);
			return i;
		}
	}
	if ((i = calloc(1, sizeof *i)) == NULL)
		return NULL;
	if ((i->boot_id = strdup(boot_id)) == NULL) {
		free(i);
		return NULL;
	}
	i->pid = pid;
	TAILQ_INSERT_HEAD(&l->instances, i, entry);
	/* The oldest is an agent long gone; the live one is at the front. */
	if (++l->ninstances > AL_INSTANCES_MAX) {
		i = TAILQ_LAST(&l->instances, al_instances);
		TAILQ_REMOVE(&l->instances, i, entry);
		free(i->boot_id);
		free(i);
		l->ninstances--;
	}
	return TAILQ_FIRST(&l->instances);
}

/* hang watch */

static void
hang_arm(struct agent_link *l)
{
	struct timeval	tv;
	uint64_t	due, now;

	if (l->freed || !l->watching || !l->alive_known || l->hung ||
	    l->hang_after_ms == 0) {
		event_del(l->hang);
		return;
	}
	due = l->alive_ns + ms_to_ns(l->hang_after_ms);
	now = clock_mono_ns();
	tv = ns_to_tv(due > now ? due - now : 0);
	evtimer_add(l->hang, &tv);
}

static void
al_alive(struct agent_link *l)
{
	l->alive_ns = clock_mono_ns();
	l->alive_known = true;
	l->hung = false;
	hang_arm(l);
}

static void
al_hang_cb(evutil_socket_t fd, short events, void *arg)
{
	struct agent_link	*l = arg;
	uint64_t		 now = clock_mono_ns();

	if (!l->watching || !l->alive_known || l->hung)
		return;
	/* libevent's clock is cached from the loop's start: it can be early. */
	if (now < l->alive_ns + ms_to_ns(l->hang_after_ms)) {
		hang_arm(l);
		return;
	}
	l->hung = true;
	al_enter(l);
	if (l->hooks.hang != NULL)
		l->hooks.hang(l->hooks.arg, (now - l->alive_ns) / MS_NS);
	al_leave(l);
}

/* connections */

/* Closes c at once; what the run must hear of it goes out deferred. */
static void
conn_kill(struct al_conn *c, const char *why)
{
	struct agent_link	*l = c->link;
	bool			 was_up = c->state == AL_CONN_UP;

	switch (c->state) {
	case AL_CONN_DEAD:
		return;
	case AL_CONN_CLOSING:
		TAILQ_REMOVE(&l->closing, c, entry);
		break;
	case AL_CONN_HELLO:
	case AL_CONN_UP:
		if (l->conn == c)
			l->conn = NULL;
		break;
	}
	/* Safe inside the bufferevent's own callbacks: it holds a reference. */
	bufferevent_free(c->bev);
	c->bev = NULL;
	proto_reader_free(&c->reader);
	c->state = AL_CONN_DEAD;
	c->inst = NULL;
	snprintf(c->why, sizeof c->why, "%s", why);
	if (was_up && !l->freed) {
		l->stats.drops++;
		c->notify = true;
		pending_fail_all(l, &c->failed, AGENT_LINK_E_LINK_DOWN, c->why);
	}
	TAILQ_INSERT_TAIL(&l->dead, c, entry);
	if (!l->freed)
		event_active(l->defer, EV_TIMEOUT, 0);
}

static void
conn_free(struct al_conn *c)
{
	struct al_pending	*p;

	while ((p = TAILQ_FIRST(&c->failed)) != NULL) {
		TAILQ_REMOVE(&c->failed, p, entry);
		pending_free(p);
	}
	free(c);
}

/*
 * A new live connection on fd, replacing the old one; -1 with *cause, the
 * fd then still the caller's. The link frees connections.
 */
static int
conn_new(struct agent_link *l, int fd, char **cause)
{
	struct al_conn	*c;

	if (evutil_make_socket_nonblocking(fd) == -1)
		return cause_set(cause, "descriptor %d: %s", fd,
		    strerror(errno));
	(void)evutil_make_socket_closeonexec(fd);
	if ((c = calloc(1, sizeof *c)) == NULL)
		return cause_set(cause, "%s", strerror(ENOMEM));
	c->link = l;
	TAILQ_INIT(&c->failed);
	proto_reader_init(&c->reader, PROTO_SIDE_DAEMON);
	c->bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		free(c);
		return cause_set(cause, "cannot make a bufferevent");
	}
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1) {
		/* Not pollable (a regular file, say); fd stays the caller's. */
		bufferevent_setfd(c->bev, -1);
		bufferevent_free(c->bev);
		free(c);
		return cause_set(cause, "descriptor %d cannot be polled", fd);
	}
	if (l->conn != NULL)
		conn_kill(l->conn, "replaced by a new connection");
	c->state = AL_CONN_HELLO;
	l->conn = c;
	return 0;
}

/* Whether the handler must stop: c closed or the link freed by a hook. */
static int
conn_gone(const struct al_conn *c)
{
	return c->link->freed || (c->state != AL_CONN_HELLO &&
	    c->state != AL_CONN_UP);
}

/*
 * Queues a line (freed here; NULL: encoding failed) and drops a
 * connection whose agent has stopped reading. -1 when c is closed.
 */
static int
conn_send(struct al_conn *c, char *line, size_t len)
{
	char	why[AL_WHY_MAX];
	size_t	queued;
	int	rc;

	if (line == NULL) {
		conn_kill(c, "out of memory for an answer");
		return -1;
	}
	rc = bufferevent_write(c->bev, line, len);
	free(line);
	if (rc == -1) {
		conn_kill(c, "out of memory for output");
		return -1;
	}
	queued = evbuffer_get_length(bufferevent_get_output(c->bev));
	if (queued > AL_OUTPUT_MAX) {
		snprintf(why, sizeof why, "output backlog: %zu bytes unsent, "
		    "the agent is not reading", queued);
		conn_kill(c, why);
		return -1;
	}
	return 0;
}

/* Hangs up once the last line has gone, or after AL_LINGER_MS. */
static void
conn_hangup(struct al_conn *c)
{
	struct agent_link	*l = c->link;
	struct timeval		 tv = ns_to_tv(ms_to_ns(AL_LINGER_MS));

	if (l->conn == c)
		l->conn = NULL;
	c->state = AL_CONN_CLOSING;
	TAILQ_INSERT_TAIL(&l->closing, c, entry);
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_kill(c, "hello refused");
		return;
	}
	bufferevent_setcb(c->bev, NULL, conn_flushed_cb, conn_event_cb, c);
	bufferevent_set_timeouts(c->bev, NULL, &tv);
}

static void
conn_flushed_cb(struct bufferevent *bev, void *arg)
{
	struct al_conn		*c = arg;
	struct agent_link	*l = c->link;

	al_enter(l);
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_kill(c, "hello refused");
	al_leave(l);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct al_conn		*c = arg;
	struct agent_link	*l = c->link;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			 buf[AL_READ_CHUNK];
	int			 n;

	al_enter(l);
	/* Drained as fed: the reader alone holds an unfinished line. */
	while (c->state == AL_CONN_HELLO || c->state == AL_CONN_UP) {
		if ((n = evbuffer_remove(in, buf, sizeof buf)) <= 0)
			break;
		if (proto_reader_feed(&c->reader, buf, (size_t)n, &al_handler,
		    c) == -1)
			conn_kill(c, "out of memory reading a line");
	}
	if (c->state == AL_CONN_CLOSING)
		evbuffer_drain(in, evbuffer_get_length(in));
	al_leave(l);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct al_conn		*c = arg;
	struct agent_link	*l = c->link;
	char			 why[AL_WHY_MAX];
	int			 serrno = EVUTIL_SOCKET_ERROR();

	al_enter(l);
	if (what & BEV_EVENT_EOF) {
		snprintf(why, sizeof why, "%s",
		    proto_reader_buffered(&c->reader) ?
		    "closed by the agent in the middle of a line" :
		    "closed by the agent");
	} else if (what & BEV_EVENT_ERROR) {
		snprintf(why, sizeof why, "connection error: %s",
		    serrno != 0 ? strerror(serrno) : "unknown");
	} else
		snprintf(why, sizeof why, "timed out flushing the last line");
	conn_kill(c, why);
	al_leave(l);
}

/* Delivers, oldest first, the down hooks and failed requests of the dead. */
static void
al_defer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct agent_link	*l = arg;
	struct al_conn		*c;
	struct al_pending	*p;

	al_enter(l);
	while (!l->freed && (c = TAILQ_FIRST(&l->dead)) != NULL) {
		if (c->notify) {
			c->notify = false;
			if (l->hooks.down != NULL)
				l->hooks.down(l->hooks.arg, c->why);
			continue;
		}
		if ((p = TAILQ_FIRST(&c->failed)) != NULL) {
			TAILQ_REMOVE(&c->failed, p, entry);
			pending_finish(p, -1, p->code, p->detail, NULL);
			continue;
		}
		TAILQ_REMOVE(&l->dead, c, entry);
		conn_free(c);
	}
	al_leave(l);
}

/* messages */

/* Counts a refused line and tells the run; nonzero when c went meanwhile. */
static int
al_refused(struct al_conn *c, const char *code, const char *detail)
{
	struct agent_link	*l = c->link;

	l->stats.refused++;
	if (l->hooks.refused != NULL)
		l->hooks.refused(l->hooks.arg, code, detail);
	return conn_gone(c);
}

/* Answers error code to request id (0: a notification, not answered). */
static int
al_refuse(struct al_conn *c, uint64_t id, const char *code,
    const char *detail)
{
	char	*line;
	size_t	 len = 0;

	if (id != 0) {
		line = proto_encode_error(id, code, detail, &len);
		if (conn_send(c, line, len) == -1)
			return 1;
	}
	return al_refused(c, code, detail);
}

static int
al_on_bad(void *arg, const struct proto_bad *bad)
{
	struct al_conn	*c = arg;
	char		*line;
	size_t		 len = 0;

	if (bad->answer) {
		line = proto_encode_error(bad->re, bad->code, bad->detail,
		    &len);
		if (conn_send(c, line, len) == -1)
			return 1;
	}
	return al_refused(c, bad->code, bad->detail);
}

/* Whether a equals b, taking a time that depends on their lengths only. */
static bool
token_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	volatile unsigned char	d = 0;
	size_t			i, n = alen > blen ? alen : blen;

	for (i = 0; i < n; i++)
		d |= (unsigned char)((i < alen ? a[i] : 0) ^
		    (i < blen ? b[i] : 0));
	return d == 0 && alen == blen;
}

/* Refuses a hello: the error, then hang up, as the protocol says. */
static int
al_hello_refuse(struct al_conn *c, uint64_t id, const char *code,
    const char *detail)
{
	struct agent_link	*l = c->link;
	char			*line;
	size_t			 len = 0;

	line = proto_encode_error(id, code, detail, &len);
	if (conn_send(c, line, len) == -1)
		return 1;
	conn_hangup(c);
	l->stats.refused++;
	if (l->hooks.refused != NULL)
		l->hooks.refused(l->hooks.arg, code, detail);
	return 1;
}

static int
al_hello(struct al_conn *c, const struct proto_msg *msg)
{
	struct agent_link	*l = c->link;
	struct al_instance	*prev, *inst;
	struct agent_hello	 h;
	json_t			*o = msg->obj, *tok;
	json_int_t		 version;
	char			 detail[AL_WHY_MAX], *line;
	size_t			 len = 0;

	if (c->state != AL_CONN_HELLO)
		return al_refuse(c, msg->id, PROTO_E_HANDSHAKE,
		    "a hello was already accepted on this connection");
	version = json_integer_value(json_object_get(o, "version"));
	if (version != PROTO_VERSION) {
		snprintf(detail, sizeof detail, "this daemon speaks version "
		    "%d, not %lld", PROTO_VERSION, (long long)version);
		return al_hello_refuse(c, msg->id, PROTO_E_VERSION, detail);
	}
	tok = json_object_get(o, "token");
	if (!token_equal(json_string_value(tok), json_string_length(tok),
	    l->token, l->token_len))
		return al_hello_refuse(c, msg->id, PROTO_E_UNAUTHORIZED,
		    "the token was refused");

	memset(&h, 0, sizeof h);
	h.agent = json_string_value(json_object_get(o, "agent"));
	h.hostname = json_string_value(json_object_get(o, "hostname"));
	h.boot_id = json_string_value(json_object_get(o, "boot_id"));
	h.pid = (uint64_t)json_integer_value(json_object_get(o, "pid"));
	h.resumed = json_is_true(json_object_get(o, "resumed"));
	h.outbox = (uint64_t)json_integer_value(json_object_get(o, "outbox"));
	if ((prev = TAILQ_FIRST(&l->instances)) != NULL) {
		if (strcmp(prev->boot_id, h.boot_id) != 0)
			h.rebooted = true;
		else if (prev->pid != h.pid)
			h.restarted = true;
		else
			h.same_instance = true;
	}
	if ((inst = instance_get(l, h.boot_id, h.pid)) == NULL) {
		conn_kill(c, "out of memory for the hello");
		return 1;
	}
	line = proto_encode_reply(msg->id, json_pack("{s:i}", "version",
	    PROTO_VERSION), &len);
	if (conn_send(c, line, len) == -1)
		return 1;
	c->state = AL_CONN_UP;
	c->inst = inst;
	l->stats.connects++;
	al_alive(l);
	if (l->hooks.hello != NULL)
		l->hooks.hello(l->hooks.arg, &h);
	return conn_gone(c);
}

/* Anything but a hello before one was accepted. */
static int
al_early(struct al_conn *c, const struct proto_msg *msg)
{
	char	detail[AL_WHY_MAX];

	snprintf(detail, sizeof detail, "%s before the hello was accepted%s",
	    proto_type_name(msg->type), msg->id == 0 ? " (dropped)" : "");
	return al_refuse(c, msg->id, PROTO_E_HANDSHAKE, detail);
}

/* report, finding, topology: answered every time, applied once. */
static int
al_agent_request(struct al_conn *c, const struct proto_msg *msg)
{
	struct agent_link	*l = c->link;
	char			*line;
	size_t			 len = 0;
	bool			 resent;

	if (c->state != AL_CONN_UP)
		return al_early(c, msg);
	resent = msg->id <= c->inst->highest;
	if (!resent)
		c->inst->highest = msg->id;
	line = proto_encode_reply(msg->id, NULL, &len);
	if (conn_send(c, line, len) == -1)
		return 1;
	if (resent) {
		l->stats.resent++;
		return 0;
	}
	if (l->hooks.message != NULL)
		l->hooks.message(l->hooks.arg, msg->type, msg->obj);
	return conn_gone(c);
}

static int
al_heartbeat(struct al_conn *c, const struct proto_msg *msg)
{
	struct agent_link	*l = c->link;

	if (c->state != AL_CONN_UP)
		return al_early(c, msg);
	l->stats.heartbeats++;
	al_alive(l);
	l->stats.last_heartbeat_ns = l->alive_ns;
	if (l->hooks.heartbeat != NULL)
		l->hooks.heartbeat(l->hooks.arg, msg->obj);
	return conn_gone(c);
}

/* reply and error: the answer to one of ours, or stray. */
static int
al_answer(struct al_conn *c, const struct proto_msg *msg)
{
	struct agent_link	*l = c->link;
	struct al_pending	*p = NULL;
	const char		*code, *detail;

	if (c->state == AL_CONN_UP && msg->has_re) {
		TAILQ_FOREACH(p, &l->pending, entry) {
			if (p->id == msg->re)
				break;
		}
	}
	if (p == NULL) {
		l->stats.stray++;
		return 0;
	}
	TAILQ_REMOVE(&l->pending, p, entry);
	if (msg->type == PROTO_REPLY)
		pending_finish(p, 0, NULL, NULL, msg->obj);
	else {
		code = json_string_value(json_object_get(msg->obj, "error"));
		detail = json_string_value(json_object_get(msg->obj, "detail"));
		pending_finish(p, -1, code, detail, NULL);
	}
	return conn_gone(c);
}

/*
 * What a message from the agent gets, by type; each handler minds the
 * handshake. The reader has refused the types that go to the agent.
 */
static int (*const al_handlers[PROTO_TYPE_COUNT])(struct al_conn *,
    const struct proto_msg *) = {
	[PROTO_HELLO] = al_hello,
	[PROTO_REPLY] = al_answer,
	[PROTO_ERROR] = al_answer,
	[PROTO_HEARTBEAT] = al_heartbeat,
	[PROTO_REPORT] = al_agent_request,
	[PROTO_FINDING] = al_agent_request,
	[PROTO_TOPOLOGY] = al_agent_request,
};

static int
al_on_msg(void *arg, const struct proto_msg *msg)
{
	struct al_conn	*c = arg;
	char		 detail[AL_WHY_MAX];

	if ((unsigned)msg->type < PROTO_TYPE_COUNT &&
	    al_handlers[msg->type] != NULL)
		return al_handlers[msg->type](c, msg);
	if (c->state != AL_CONN_UP)
		return al_early(c, msg);
	/* A type newer than this file: the agent must not wait forever. */
	snprintf(detail, sizeof detail, "%s is not handled by this daemon",
	    proto_type_name(msg->type));
	return al_refuse(c, msg->id, PROTO_E_UNKNOWN_TYPE, detail);
}

/* listening */

/* Whether something answers at the unix socket sun names. */
static bool
socket_in_use(const struct sockaddr_un *sun)
{
	int	fd, rc;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return false;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof *sun);
	/* EAGAIN: its backlog is full, so it listens. */
	rc = rc == 0 || errno == EAGAIN || errno == EINPROGRESS;
	close(fd);
	return rc;
}

static void
listen_close(struct agent_link *l)
{
	struct stat	st;

	if (l->listener != NULL)
		evconnlistener_free(l->listener);
	l->listener = NULL;
	if (l->relisten != NULL)
		event_del(l->relisten);
	if (l->path != NULL && lstat(l->path, &st) == 0 &&
	    S_ISSOCK(st.st_mode) && st.st_dev == l->path_dev &&
	    st.st_ino == l->path_ino)
		unlink(l->path);
	free(l->path);
	l->path = NULL;
}

int
agent_link_listen(struct agent_link *l, const char *path, char **cause)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd, serrno;

	if (l->freed)
		return cause_set(cause, "the link is closing");
	if (l->listener != NULL)
		return cause_set(cause, "already listening on %s", l->path);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (*path == '\0' || strlen(path) >= sizeof sun.sun_path)
		return cause_set(cause, "%s: not a usable unix socket path",
		    path);
	memcpy(sun.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return cause_set(cause, "%s: exists and is not a "
			    "socket", path);
		if (socket_in_use(&sun))
			return cause_set(cause, "%s: another program listens "
			    "there", path);
		if (unlink(path) == -1 && errno != ENOENT)
			return cause_set(cause, "%s: %s", path,
			    strerror(errno));
	} else if (errno != ENOENT)
		return cause_set(cause, "%s: %s", path, strerror(errno));

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return cause_set(cause, "socket: %s", strerror(errno));
	/* Linux gives the bound file this mode, so it is never wider. */
	(void)fchmod(fd, 0600);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		serrno = errno;
		close(fd);
		return cause_set(cause, "%s: %s", path, strerror(serrno));
	}
	if (chmod(path, 0600) == -1 || lstat(path, &st) == -1) {
		serrno = errno;
		goto fail;
	}
	l->path_dev = st.st_dev;
	l->path_ino = st.st_ino;
	if ((l->path = strdup(path)) == NULL) {
		serrno = ENOMEM;
		goto fail;
	}
	l->listener = evconnlistener_new(l->base, al_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16, fd);
	if (l->listener == NULL) {
		serrno = errno;
		free(l->path);
		l->path = NULL;
		goto fail;
	}
	evconnlistener_set_error_cb(l->listener, al_accept_error_cb);
	return 0;

fail:
	unlink(path);
	close(fd);
	return cause_set(cause, "%s: %s", path, strerror(serrno));
}

static void
al_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct agent_link	*l = arg;

	al_enter(l);
	if (conn_new(l, fd, NULL) == -1)
		close(fd);
	al_leave(l);
}

/* Out of descriptors, say: pause rather than spin on the ready socket. */
static void
al_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct agent_link	*l = arg;
	struct timeval		 tv = ns_to_tv(ms_to_ns(AL_RELISTEN_MS));

	evconnlistener_disable(lev);
	evtimer_add(l->relisten, &tv);
}

static void
al_relisten_cb(evutil_socket_t fd, short events, void *arg)
{
	struct agent_link	*l = arg;

	if (l->listener != NULL)
		evconnlistener_enable(l->listener);
}

/* the link */

struct agent_link *
agent_link_new(struct event_base *base, const struct agent_link_opts *opts,
    const struct agent_link_hooks *hooks, char **cause)
{
	struct agent_link	*l;

	if (opts->token == NULL || *opts->token == '\0') {
		cause_set(cause, "the agent link needs a token");
		return NULL;
	}
	if ((l = calloc(1, sizeof *l)) == NULL)
		goto oom;
	l->base = base;
	TAILQ_INIT(&l->closing);
	TAILQ_INIT(&l->dead);
	TAILQ_INIT(&l->pending);
	TAILQ_INIT(&l->instances);
	l->next_id = 1;
	l->watching = true;
	l->hang_after_ms = opts->hang_after_ms;
	if (hooks != NULL)
		l->hooks = *hooks;
	if ((l->token = strdup(opts->token)) == NULL)
		goto oom;
	l->token_len = strlen(l->token);
	l->defer = event_new(base, -1, 0, al_defer_cb, l);
	l->hang = evtimer_new(base, al_hang_cb, l);
	l->relisten = evtimer_new(base, al_relisten_cb, l);
	if (l->defer == NULL || l->hang == NULL || l->relisten == NULL)
		goto oom;
	return l;

oom:
	if (l != NULL)
		al_destroy(l);
	cause_set(cause, "%s", strerror(ENOMEM));
	return NULL;
}

int
agent_link_adopt(struct agent_link *l, int fd, char **cause)
{
	struct stat	st;
	socklen_t	len;
	int		type;

	if (l->freed)
		return cause_set(cause, "the link is closing");
	if (fd < 0)
		return cause_set(cause, "descriptor %d: %s", fd,
		    strerror(EBADF));
	if (fstat(fd, &st) == -1)
		return cause_set(cause, "descriptor %d: %s", fd,
		    strerror(errno));
	/* Files are always ready: nothing to wait on, never an agent. */
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
		return cause_set(cause, "descriptor %d: a file, not a stream",
		    fd);
	len = sizeof type;
	/* Not a socket at all (a serial port, say) is a stream too. */
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	    type != SOCK_STREAM)
		return cause_set(cause, "descriptor %d: not a stream socket",
		    fd);
	return conn_new(l, fd, cause);
}

int
agent_link_request(struct agent_link *l, enum proto_type t, json_t *members,
    uint64_t timeout_ms, agent_link_cb cb, void *arg, char **cause)
{
	struct al_conn		*c = l->conn;
	struct al_pending	*p;
	struct timeval		 tv;
	char			*line;
	size_t			 len = 0, queued;
	char			 why[AL_WHY_MAX];

	if (l->freed || c == NULL || c->state != AL_CONN_UP) {
		json_decref(members);
		return cause_set(cause, "no agent connected");
	}
	if ((unsigned)t >= PROTO_TYPE_COUNT || !proto_is_request(t) ||
	    (proto_types[t].to & PROTO_TO_AGENT) == 0) {
		json_decref(members);
		return cause_set(cause, "%s is not a request to the agent",
		    proto_type_name(t) != NULL ? proto_type_name(t) : "?");
	}
	if (l->next_id > PROTO_MAX_ID) {
		json_decref(members);
		return cause_set(cause, "request ids are used up");
	}
	if ((p = calloc(1, sizeof *p)) == NULL) {
		json_decref(members);
		return cause_set(cause, "%s", strerror(ENOMEM));
	}
	if (timeout_ms != 0 &&
	    (p->timer = evtimer_new(l->base, al_timeout_cb, p)) == NULL) {
		free(p);
		json_decref(members);
		return cause_set(cause, "%s", strerror(ENOMEM));
	}
	if ((line = proto_encode(t, l->next_id, 0, members, &len)) == NULL) {
		pending_free(p);
		return cause_set(cause, "cannot encode %s: %s",
		    proto_type_name(t), strerror(errno));
	}
	if (bufferevent_write(c->bev, line, len) == -1) {
		free(line);
		pending_free(p);
		return cause_set(cause, "%s", strerror(ENOMEM));
	}
	free(line);
	p->link = l;
	p->id = l->next_id++;
	p->type = t;
	p->cb = cb;
	p->arg = arg;
	TAILQ_INSERT_TAIL(&l->pending, p, entry);
	if (p->timer != NULL) {
		tv = ns_to_tv(ms_to_ns(timeout_ms));
		evtimer_add(p->timer, &tv);
	}
	/* Sent as far as the run can tell: cb hears of the drop, deferred. */
	queued = evbuffer_get_length(bufferevent_get_output(c->bev));
	if (queued > AL_OUTPUT_MAX) {
		snprintf(why, sizeof why, "output backlog: %zu bytes unsent, "
		    "the agent is not reading", queued);
		conn_kill(c, why);
	}
	return 0;
}

bool
agent_link_up(const struct agent_link *l)
{
	return l->conn != NULL && l->conn->state == AL_CONN_UP;
}

void
agent_link_watch(struct agent_link *l, bool on)
{
	if (on && !l->watching) {
		l->watching = true;
		l->alive_ns = clock_mono_ns();
		l->hung = false;
	} else if (!on)
		l->watching = false;
	hang_arm(l);
}

void
agent_link_stats(const struct agent_link *l, struct agent_link_stats *st)
{
	*st = l->stats;
}

static void
al_destroy(struct agent_link *l)
{
	struct al_conn		*c;
	struct al_pending	*p;
	struct al_instance	*i;

	listen_close(l);
	if (l->conn != NULL)
		conn_kill(l->conn, "the link was closed");
	while ((c = TAILQ_FIRST(&l->closing)) != NULL)
		conn_kill(c, "the link was closed");
	while ((c = TAILQ_FIRST(&l->dead)) != NULL) {
		TAILQ_REMOVE(&l->dead, c, entry);
		conn_free(c);
	}
	while ((p = TAILQ_FIRST(&l->pending)) != NULL) {
		TAILQ_REMOVE(&l->pending, p, entry);
		pending_free(p);
	}
	while ((i = TAILQ_FIRST(&l->instances)) != NULL) {
		TAILQ_REMOVE(&l->instances, i, entry);
		free(i->boot_id);
		free(i);
	}
	if (l->defer != NULL)
		event_free(l->defer);
	if (l->hang != NULL)
		event_free(l->hang);
	if (l->relisten != NULL)
		event_free(l->relisten);
	free(l->token);
	free(l);
}

void
agent_link_free(struct agent_link *l)
{
	struct al_pendings	 todo;
	struct al_conn		*c;
	struct al_pending	*p;

	if (l == NULL || l->freed)
		return;
	l->freed = true;
	al_enter(l);
	listen_close(l);
	event_del(l->hang);
	event_del(l->defer);
	/* Collect first: a callback may issue requests or free things. */
	TAILQ_INIT(&todo);
	TAILQ_FOREACH(c, &l->dead, entry)
		TAILQ_CONCAT(&todo, &c->failed, entry);
	pending_fail_all(l, &todo, AGENT_LINK_E_CANCELLED,
	    "the link was closed");
	if (l->conn != NULL)
		conn_kill(l->conn, "the link was closed");
	while ((c = TAILQ_FIRST(&l->closing)) != NULL)
		conn_kill(c, "the link was closed");
	while ((p = TAILQ_FIRST(&todo)) != NULL) {
		TAILQ_REMOVE(&todo, p, entry);
		pending_finish(p, -1, p->code, p->detail, NULL);
	}
	al_leave(l);
}
