/* link.c: the connection to hotsoakd as one state machine (down, connecting,
 * hello, up) with backoff, JSON-line framing, and the outbox of requests
 * that waits for the daemon's answers across reconnects. */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "link.h"
#include "log.h"
#include "hotsoak/util.h"

#define READ_CHUNK	(64 * 1024)
#define READ_ROUNDS	16		/* chunks per wake-up, so others get a turn */
#define WBUF_SOFT	(64 * 1024)	/* outbox lines wait while this much is unsent */
#define WBUF_HARD	(16U << 20)	/* a peer this far behind is not reading */
#define MS		1000000ULL

/* outbox */

struct outbox {
	struct outbox_msg	*v;
	size_t			 n;
	size_t			 cap;
	size_t			 nsent;		/* v[0..nsent) went out on this connection */
	size_t			 bytes;
	size_t			 max_msgs, max_bytes;
	uint64_t		 dropped_reports;
	uint64_t		 dropped_other;
};

struct outbox *
outbox_new(size_t max_msgs, size_t max_bytes)
{
	struct outbox	*o;

	if ((o = calloc(1, sizeof *o)) == NULL)
		return NULL;
	o->max_msgs = max_msgs ? max_msgs : OUTBOX_MAX_MSGS;
	o->max_bytes = max_bytes ? max_bytes : OUTBOX_MAX_BYTES;
	return o;
}

void
outbox_free(struct outbox *o)
{
	size_t	i;

	if (o == NULL)
		return;
	for (i = 0; i < o->n; i++)
		free(o->v[i].line);
	free(o->v);
	free(o);
}

static void
outbox_remove(struct outbox *o, size_t i)
{
	o->bytes -= o->v[i].len;
	free(o->v[i].line);
	memmove(&o->v[i], &o->v[i + 1], (o->n - i - 1) * sizeof o->v[0]);
	o->n--;
	/* Sent ones are a prefix: removing one of them shortens it. */
	if (i < o->nsent)
		o->nsent--;
}

static bool
outbox_over(const struct outbox *o, size_t len, size_t factor)
{
	return o->n + 1 > o->max_msgs * factor ||
	    o->bytes + len > o->max_bytes * factor;
}

int
outbox_push(struct outbox *o, uint64_t id, enum proto_type t, char *line,
    size_t len)
{
	struct outbox_msg	*nv;
	size_t			 i, ncap;

	while (outbox_over(o, len, 1)) {
		for (i = 0; i < o->n && o->v[i].type != PROTO_REPORT; i++)
			;
		if (i == o->n)
			break;
		outbox_remove(o, i);
		o->dropped_reports++;
	}
	if (outbox_over(o, len, 1) && (t == PROTO_REPORT ||
	    outbox_over(o, len, OUTBOX_HARD_FACTOR))) {
		if (t == PROTO_REPORT)
			o->dropped_reports++;
		else
			o->dropped_other++;
		free(line);
		return -1;
	}
	if (o->n == o->cap) {
		ncap = o->cap ? o->cap * 2 : 64;
		if ((nv = reallocarray(o->v, ncap, sizeof *nv)) == NULL) {
			o->dropped_other += t != PROTO_REPORT;
			o->dropped_reports += t == PROTO_REPORT;
			free(line);
			return -1;
		}
		o->v = nv;
		o->cap = ncap;
	}
	o->v[o->n].id = id;
	o->v[o->n].type = t;
	o->v[o->n].line = line;
	o->v[o->n].len = len;
	o->n++;
	o->bytes += len;
	return 0;
}

int
outbox_ack(struct outbox *o, uint64_t id, enum proto_type *t)
{
	size_t	i;

	/* Answers come mostly in order: the one wanted is near the front. */
	for (i = 0; i < o->n; i++) {
		if (o->v[i].id != id)
			continue;
		if (t != NULL)
			*t = o->v[i].type;
		outbox_remove(o, i);
		return 0;
	}
	return -1;
}

const struct outbox_msg *
outbox_next_unsent(struct outbox *o)
{
	if (o->nsent >= o->n)
		return NULL;
	return &o->v[o->nsent++];
}

void
outbox_rewind(struct outbox *o)
{
	o->nsent = 0;
}

size_t
outbox_count(const struct outbox *o)
{
	return o->n;
}

const struct outbox_msg *
outbox_at(const struct outbox *o, size_t i)
{
	return i < o->n ? &o->v[i] : NULL;
}

void
outbox_get_stats(const struct outbox *o, struct outbox_stats *s)
{
	s->count = o->n;
	s->bytes = o->bytes;
	s->dropped_reports = o->dropped_reports;
	s->dropped_other = o->dropped_other;
}

/* link */

struct wbuf {
	char	*data;
	size_t	 off;		/* written already */
	size_t	 len;		/* filled */
	size_t	 cap;
};

struct link {
	struct channel		*ch;
	char			*token;		/* who we are, for every hello */
	char			*agent;
	char			*hostname;
	char			*boot_id;
	uint64_t		 pid;
	struct link_cb		 cb;
	void			*arg;
	enum link_state		 state;
	int			 fd;
	uint64_t		 conn;		/* connections made; the current one's number */
	uint64_t		 next_id;
	uint64_t		 hello_id;
	uint64_t		 backoff_ms;
	uint64_t		 backoff_min, backoff_max;
	uint64_t		 next_attempt_ns;	/* LINK_DOWN */
	uint64_t		 deadline_ns;	/* LINK_CONNECTING, LINK_HELLO */
	bool			 failing;	/* the last attempt failed too */
	char			*drop_why;	/* set inside a read, acted on after */
	struct proto_reader	 reader;
	struct wbuf		 out;
	struct outbox		*outbox;
	uint64_t		 answers;
	struct link_stats	 stats;
};

static size_t
wbuf_pending(const struct wbuf *b)
{
	return b->len - b->off;
}

static void
wbuf_clear(struct wbuf *b)
{
	b->off = b->len = 0;
}

static int
wbuf_append(struct wbuf *b, const char *data, size_t len)
{
	char	*nd;
	size_t	 ncap;

	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	if (b->off > b->cap / 2) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->len + len > b->cap) {
		for (ncap = b->cap ? b->cap : 4096; ncap < b->len + len; ncap *= 2)
			;
		if ((nd = realloc(b->data, ncap)) == NULL)
			return -1;
		b->data = nd;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

static void	link_drop(struct link *, const char *why, uint64_t now_ns);
static void	outbox_out(struct link *);

static int	link_on_msg(void *, const struct proto_msg *);
static int	link_on_bad(void *, const struct proto_bad *);

static const struct proto_handler link_handler = { link_on_msg, link_on_bad };

struct link *
link_new(struct channel *ch, const struct link_identity *id,
    const struct link_cb *cb, void *arg, unsigned backoff_min_ms,
    unsigned backoff_max_ms, char **cause)
{
	struct link	*l;

	*cause = NULL;
	if ((l = calloc(1, sizeof *l)) == NULL)
		goto oom;
	l->ch = ch;
	l->fd = -1;
	l->state = LINK_DOWN;
	l->cb = *cb;
	l->arg = arg;
	l->next_id = 1;
	l->backoff_min = backoff_min_ms ? backoff_min_ms : LINK_BACKOFF_MIN_MS;
	l->backoff_max = backoff_max_ms ? backoff_max_ms : LINK_BACKOFF_MAX_MS;
	if (l->backoff_max < l->backoff_min)
		l->backoff_max = l->backoff_min;
	l->backoff_ms = l->backoff_min;
	proto_reader_init(&l->reader, PROTO_SIDE_AGENT);
	if ((l->outbox = outbox_new(0, 0)) == NULL ||
	    (l->token = strdup(id->token ? id->token : "")) == NULL ||
	    (l->agent = strdup(id->agent)) == NULL ||
	    (l->hostname = strdup(id->hostname)) == NULL ||
	    (l->boot_id = strdup(id->boot_id)) == NULL)
		goto oom;
	l->pid = id->pid;
	return l;
oom:
	if (l == NULL)
		channel_free(ch);
	link_free(l);
	if (asprintf(cause, "%s", strerror(ENOMEM)) == -1)
		*cause = NULL;
	return NULL;
}

void
link_free(struct link *l)
{
	if (l == NULL)
		return;
	if (l->fd != -1)
		close(l->fd);
	channel_free(l->ch);
	proto_reader_free(&l->reader);
	outbox_free(l->outbox);
	free(l->out.data);
	free(l->drop_why);
	free(l->token);
	free(l->agent);
	free(l->hostname);
	free(l->boot_id);
	free(l);
}

enum link_state
link_state(const struct link *l)
{
	return l->state;
}

const char *
link_channel(const struct link *l)
{
	return channel_spec(l->ch);
}

int
link_fd(const struct link *l, short *events)
{
	*events = 0;
	switch (l->state) {
	case LINK_DOWN:
		return -1;
	case LINK_CONNECTING:
		*events = POLLOUT;
		return l->fd;
	case LINK_HELLO:
	case LINK_UP:
		*events = POLLIN;
		if (wbuf_pending(&l->out) > 0 || (l->state == LINK_UP &&
		    l->outbox->nsent < l->outbox->n))
			*events |= POLLOUT;
		return l->fd;
	}
	return -1;
}

static void
schedule_retry(struct link *l, uint64_t now)
{
	if (l->fd != -1)
		close(l->fd);
	l->fd = -1;
	l->state = LINK_DOWN;
	wbuf_clear(&l->out);
	proto_reader_reset(&l->reader);
	outbox_rewind(l->outbox);
	l->next_attempt_ns = now + l->backoff_ms * MS;
	l->backoff_ms *= 2;
	if (l->backoff_ms > l->backoff_max)
		l->backoff_ms = l->backoff_max;
}

static void
attempt_failed(struct link *l, const char *why, uint64_t now)
{
	if (!l->failing)
		log_warnx("cannot connect to %s: %s; retrying with backoff",
		    channel_spec(l->ch), why ? why : "?");
	else
		log_debug("cannot connect to %s: %s", channel_spec(l->ch),
		    why ? why : "?");
	l->failing = true;
	schedule_retry(l, now);
	log_debug("next attempt in %llu ms",
	    (unsigned long long)((l->next_attempt_ns - now) / MS));
}

static void
link_drop(struct link *l, const char *why, uint64_t now)
{
	log_info("connection to %s lost: %s", channel_spec(l->ch), why);
	schedule_retry(l, now);
	log_info("reconnecting in %llu ms (%zu queued)",
	    (unsigned long long)((l->next_attempt_ns - now) / MS),
	    outbox_count(l->outbox));
}

/* Channel open: say hello, and nothing else until it is accepted. */
static void
connected(struct link *l, uint64_t now)
{
	json_t	*f;
	char	*line;
	size_t	 len;

	l->conn++;
	l->stats.connections++;
	l->state = LINK_HELLO;
	l->deadline_ns = now + LINK_HELLO_TIMEOUT_MS * MS;
	wbuf_clear(&l->out);
	proto_reader_reset(&l->reader);
	outbox_rewind(l->outbox);
	l->hello_id = l->next_id++;
	f = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:b, s:I}",
	    "version", PROTO_VERSION, "token", l->token,
	    "agent", l->agent, "hostname", l->hostname,
	    "boot_id", l->boot_id, "pid", (json_int_t)l->pid,
	    "resumed", l->conn > 1,
	    "outbox", (json_int_t)outbox_count(l->outbox));
	if ((line = proto_encode(PROTO_HELLO, l->hello_id, 0, f, &len)) == NULL ||
	    wbuf_append(&l->out, line, len) == -1) {
		free(line);
		attempt_failed(l, "cannot build the hello", now);
		return;
	}
	free(line);
	log_debug("connected to %s; hello %llu sent", channel_spec(l->ch),
	    (unsigned long long)l->hello_id);
}

static void
attempt(struct link *l, uint64_t now)
{
	char	*cause = NULL;
	bool	 pending;
	int	 fd;

	fd = channel_connect(l->ch, &pending, &cause);
	if (fd == -1) {
		attempt_failed(l, cause, now);
		free(cause);
		return;
	}
	l->fd = fd;
	if (pending) {
		l->state = LINK_CONNECTING;
		l->deadline_ns = now + LINK_CONNECT_TIMEOUT_MS * MS;
		return;
	}
	connected(l, now);
}

void
link_tick(struct link *l, uint64_t now)
{
	switch (l->state) {
	case LINK_DOWN:
		if (now >= l->next_attempt_ns)
			attempt(l, now);
		break;
	case LINK_CONNECTING:
		if (now >= l->deadline_ns) {
			close(l->fd);
			l->fd = -1;
			/* The next address, if the name has one. */
			attempt(l, now);
		}
		break;
	case LINK_HELLO:
		if (now >= l->deadline_ns)
			link_drop(l, "no answer to the hello", now);
		break;
	case LINK_UP:
		break;
	}
}

int
link_timeout_ms(const struct link *l, uint64_t now)
{
	uint64_t	at;

	switch (l->state) {
	case LINK_DOWN:
		at = l->next_attempt_ns;
		break;
	case LINK_CONNECTING:
	case LINK_HELLO:
		at = l->deadline_ns;
		break;
	case LINK_UP:
	default:
		return -1;
	}
	if (at <= now)
		return 0;
	/* Round up: waking a little early would spin until the deadline. */
	return (int)((at - now + MS - 1) / MS);
}

static void
set_drop(struct link *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_drop(struct link *l, const char *fmt, ...)
{
	va_list	ap;

	if (l->drop_why != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&l->drop_why, fmt, ap) == -1)
		l->drop_why = NULL;
	va_end(ap);
	if (l->drop_why == NULL)
		l->drop_why = strdup("error");
}

static void
hello_answered(struct link *l, const struct proto_msg *msg)
{
	const char	*code, *detail;

	if (msg->type == PROTO_REPLY) {
		l->state = LINK_UP;
		l->backoff_ms = l->backoff_min;
		l->failing = false;
		log_info("connected to %s%s, %zu queued to resend",
		    channel_spec(l->ch), l->conn > 1 ? " (resumed)" : "",
		    outbox_count(l->outbox));
		if (l->cb.on_up != NULL)
			l->cb.on_up(l->arg, l->conn > 1);
		return;
	}
	code = json_string_value(json_object_get(msg->obj, "error"));
	detail = json_string_value(json_object_get(msg->obj, "detail"));
	l->stats.hellos_refused++;
	log_warnx("the daemon refused the hello: %s: %s", code, detail);
	set_drop(l, "hello refused (%s)", code);
}

static void
answered(struct link *l, const struct proto_msg *msg)
{
	enum proto_type	 t;

	if (!msg->has_re) {
		log_warnx("the daemon refused a line: %s: %s",
		    json_string_value(json_object_get(msg->obj, "error")),
		    json_string_value(json_object_get(msg->obj, "detail")));
		return;
	}
	if (outbox_ack(l->outbox, msg->re, &t) == -1) {
		l->stats.answers_unknown++;
		log_debug("answer to %llu, which is not queued",
		    (unsigned long long)msg->re);
		return;
	}
	if (msg->type == PROTO_ERROR)
		log_warnx("the daemon refused %s %llu: %s: %s", proto_type_name(t),
		    (unsigned long long)msg->re,
		    json_string_value(json_object_get(msg->obj, "error")),
		    json_string_value(json_object_get(msg->obj, "detail")));
}

static int
link_on_msg(void *arg, const struct proto_msg *msg)
{
	struct link	*l = arg;
	struct link_req	 req;

	if (msg->type == PROTO_REPLY || msg->type == PROTO_ERROR) {
		if (l->state == LINK_HELLO && msg->has_re &&
		    msg->re == l->hello_id) {
			hello_answered(l, msg);
			/* Refused: stop reading; the daemon hangs up anyway. */
			return l->drop_why != NULL;
		}
		if (l->state == LINK_UP)
			answered(l, msg);
		return 0;
	}
	if (l->state != LINK_UP) {
		l->stats.requests_early++;
		log_warnx("ignored %s %llu: it came before the hello was accepted",
		    proto_type_name(msg->type), (unsigned long long)msg->id);
		return 0;
	}
	req.id = msg->id;
	req.conn = l->conn;
	req.type = msg->type;
	if (l->cb.on_request != NULL)
		l->cb.on_request(l->arg, &req, msg);
	return 0;
}

/* Appends an encoded line (freed here; NULL: the encoder failed). */
static int
queue_line(struct link *l, char *line, size_t len)
{
	int	rc = 0;

	if (line == NULL)
		return -1;
	if (wbuf_pending(&l->out) + len > WBUF_HARD) {
		set_drop(l, "the daemon is not reading (%zu bytes unsent)",
		    wbuf_pending(&l->out));
		rc = -1;
	} else if (wbuf_append(&l->out, line, len) == -1) {
		set_drop(l, "out of memory for output");
		rc = -1;
	}
	free(line);
	return rc;
}

static int
link_on_bad(void *arg, const struct proto_bad *bad)
{
	struct link	*l = arg;
	char		*line;
	size_t		 len = 0;

	l->stats.lines_refused++;
	log_info("refused a line from the daemon: %s: %s", bad->code,
	    bad->detail);
	if (bad->answer && l->state == LINK_UP) {
		line = proto_encode_error(bad->re, bad->code, bad->detail, &len);
		queue_line(l, line, len);
	}
	return 0;
}

static void
link_read(struct link *l, uint64_t now)
{
	char	buf[READ_CHUNK];
	ssize_t	n;
	int	round, rc;

	for (round = 0; round < READ_ROUNDS && l->drop_why == NULL; round++) {
		n = read(l->fd, buf, sizeof buf);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			set_drop(l, "read: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			set_drop(l, proto_reader_buffered(&l->reader) ?
			    "closed by the daemon in the middle of a line" :
			    "closed by the daemon");
			break;
		}
		rc = proto_reader_feed(&l->reader, buf, (size_t)n, &link_handler,
		    l);
		if (rc == -1)
			set_drop(l, "out of memory reading a line");
		/* rc 1: a handler stopped the read and set drop_why. */
	}
}

static void
link_write(struct link *l)
{
	struct wbuf	*b = &l->out;
	ssize_t		 n;

	while (wbuf_pending(b) > 0) {
		if (channel_is_socket(l->ch))
			n = send(l->fd, b->data + b->off, wbuf_pending(b),
			    MSG_NOSIGNAL);
		else
			n = write(l->fd, b->data + b->off, wbuf_pending(b));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			set_drop(l, "write: %s", strerror(errno));
			return;
		}
		b->off += (size_t)n;
	}
	wbuf_clear(b);
}

static void
check_drop(struct link *l, uint64_t now)
{
	char	*why = l->drop_why;

	if (why == NULL)
		return;
	l->drop_why = NULL;
	link_drop(l, why, now);
	free(why);
}

void
link_flush(struct link *l, uint64_t now)
{
	if (l->state != LINK_HELLO && l->state != LINK_UP)
		return;
	outbox_out(l);
	link_write(l);
	check_drop(l, now);
}

void
link_handle(struct link *l, short revents, uint64_t now)
{
	char	*cause = NULL;

	if (l->state == LINK_CONNECTING) {
		if ((revents & (POLLOUT | POLLERR | POLLHUP)) == 0)
			return;
		if (channel_finish(l->ch, l->fd, &cause) == 0) {
			connected(l, now);
			link_flush(l, now);
			return;
		}
		log_debug("%s", cause ? cause : "connect failed");
		free(cause);
		close(l->fd);
		l->fd = -1;
		attempt(l, now);
		return;
	}
	if (l->state != LINK_HELLO && l->state != LINK_UP)
		return;
	if (revents & POLLNVAL)
		set_drop(l, "descriptor closed");
	else if (revents & (POLLIN | POLLHUP | POLLERR))
		link_read(l, now);
	if (l->drop_why == NULL)
		link_flush(l, now);
	check_drop(l, now);
}

bool
link_drain(struct link *l, unsigned timeout_ms)
{
	struct pollfd	pfd;
	uint64_t	end = clock_mono_ns() + timeout_ms * MS, now;

	for (;;) {
		now = clock_mono_ns();
		if (l->state != LINK_UP)
			return false;
		link_flush(l, now);
		if (l->state != LINK_UP)
			return false;
		if (wbuf_pending(&l->out) == 0 &&
		    l->outbox->nsent == l->outbox->n)
			return true;
		if (now >= end)
			return false;
		pfd.fd = l->fd;
		pfd.events = POLLOUT;
		(void)poll(&pfd, 1, (int)((end - now) / MS) + 1);
	}
}

uint64_t
link_request(struct link *l, enum proto_type t, json_t *fields)
{
	uint64_t	 id = l->next_id;
	char		*line;
	size_t		 len;

	if ((line = proto_encode(t, id, 0, fields, &len)) == NULL) {
		log_warnx("cannot encode a %s: %s", proto_type_name(t),
		    strerror(errno));
		return 0;
	}
	l->next_id++;
	if (outbox_push(l->outbox, id, t, line, len) == -1) {
		log_warnx("outbox full: %s %llu dropped", proto_type_name(t),
		    (unsigned long long)id);
		return 0;
	}
	return id;
}

int
link_notify(struct link *l, enum proto_type t, json_t *fields)
{
	char	*line;
	size_t	 len = 0;

	/* A heartbeat that cannot go now is worthless later. */
	if (l->state != LINK_UP || wbuf_pending(&l->out) >= WBUF_SOFT) {
		json_decref(fields);
		return -1;
	}
	line = proto_encode(t, 0, 0, fields, &len);
	return queue_line(l, line, len);
}

/* Outbox lines the output has room for, oldest first. */
static void
outbox_out(struct link *l)
{
	const struct outbox_msg	*m;

	while (l->state == LINK_UP && wbuf_pending(&l->out) < WBUF_SOFT &&
	    (m = outbox_next_unsent(l->outbox)) != NULL) {
		if (wbuf_append(&l->out, m->line, m->len) == -1) {
			/* Not sent after all: the next flush tries again. */
			l->outbox->nsent--;
			break;
		}
	}
}

static bool
answer_ok(struct link *l, const struct link_req *req)
{
	l->answers++;
	if (req->conn == l->conn && l->state == LINK_UP) {
		/* What was queued before this answer goes out before it. */
		outbox_out(l);
		return true;
	}
	l->stats.answers_lost++;
	log_info("the answer to %s %llu is lost: its connection is gone",
	    proto_type_name(req->type), (unsigned long long)req->id);
	return false;
}

int
link_reply(struct link *l, const struct link_req *req, json_t *fields)
{
	char	*line;
	size_t	 len = 0;

	if (!answer_ok(l, req)) {
		json_decref(fields);
		return -1;
	}
	line = proto_encode_reply(req->id, fields, &len);
	return queue_line(l, line, len);
}

int
link_error(struct link *l, const struct link_req *req, const char *code,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*detail = NULL, *line;
	size_t	 len = 0;
	int	 rc;

	va_start(ap, fmt);
	if (vasprintf(&detail, fmt, ap) == -1)
		detail = NULL;
	va_end(ap);
	log_info("%s %llu failed: %s: %s", proto_type_name(req->type),
	    (unsigned long long)req->id, code, detail ? detail : "");
	if (!answer_ok(l, req)) {
		free(detail);
		return -1;
	}
	line = proto_encode_error(req->id, code, detail, &len);
	rc = queue_line(l, line, len);
	free(detail);
	return rc;
}

uint64_t
link_answers(const struct link *l)
{
	return l->answers;
}

void
link_get_stats(const struct link *l, struct link_stats *s)
{
	*s = l->stats;
	outbox_get_stats(l->outbox, &s->outbox);
	s->proto = l->reader.stats;
}
