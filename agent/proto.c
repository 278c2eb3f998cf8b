/* proto.c: the agent protocol's message table, line reader and encoder;
 * linked into both hotsoak-agent and hotsoakd, so it needs only libc and jansson. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/proto.h"
#include "hotsoak/util.h"

#define READER_MIN	4096		/* first allocation for an unfinished line */
#define READER_KEEP	(64 * 1024)	/* larger buffers go back after their line */
#define DETAIL_SIZE	256		/* a refusal's detail, NUL included */
#define NAME_SHOWN	40		/* bytes of a peer's string quoted in a detail */

static const char *const memory_states[] = { "online", "online_movable", NULL };
/* How crash brings the guest kernel down; a new way is one more name here. */
static const char *const crash_methods[] = { "sysrq", NULL };

#define NEED(n, t)	{ (n), (t), false, NULL }
#define MAY(n, t)	{ (n), (t), true, NULL }
#define NO_FIELDS	{ { NULL, 0, false, NULL } }

/*
 * Indexed by enum proto_type. "id" is implied by request; "re" is listed
 * where a type answers one. PROTOCOL.md describes the same table.
 */
const struct proto_type_entry proto_types[PROTO_TYPE_COUNT] = {
	[PROTO_HELLO] = { "hello", PROTO_TO_DAEMON, true, true,
	    "who the agent is; first on every connection", {
		NEED("version", PROTO_F_UINT), NEED("token", PROTO_F_STRING),
		NEED("agent", PROTO_F_STRING), NEED("hostname", PROTO_F_STRING),
		NEED("boot_id", PROTO_F_STRING), NEED("pid", PROTO_F_UINT),
		NEED("resumed", PROTO_F_BOOL), NEED("outbox", PROTO_F_UINT) } },
	[PROTO_REPLY] = { "reply", PROTO_TO_BOTH, false, false,
	    "a request succeeded; any other members are its results", {
		NEED("re", PROTO_F_ID) } },
	[PROTO_ERROR] = { "error", PROTO_TO_BOTH, false, false,
	    "a request or a line failed", {
		NEED("re", PROTO_F_ID_OR_NULL), NEED("error", PROTO_F_STRING),
		NEED("detail", PROTO_F_STRING) } },
	[PROTO_CONFIGURE] = { "configure", PROTO_TO_AGENT, true, false,
	    "the workload and the agent's settings", {
		NEED("workload", PROTO_F_OBJECT), MAY("memory", PROTO_F_OBJECT),
		NEED("heartbeat_ms", PROTO_F_UINT), NEED("report_ms", PROTO_F_UINT),
		NEED("online", PROTO_F_BOOL) } },
	[PROTO_START] = { "start", PROTO_TO_AGENT, true, false,
	    "start the configured workload", NO_FIELDS },
	[PROTO_STOP] = { "stop", PROTO_TO_AGENT, true, false,
	    "stop the workload and settle its last report", NO_FIELDS },
	[PROTO_QUIESCE] = { "quiesce", PROTO_TO_AGENT, true, false,
	    "hold new I/O and drain what is in flight", {
		NEED("timeout_ms", PROTO_F_UINT) } },
	[PROTO_RESUME] = { "resume", PROTO_TO_AGENT, true, false,
	    "undo quiesce or pseudo_s4", NO_FIELDS },
	[PROTO_PSEUDO_S4] = { "pseudo_s4", PROTO_TO_AGENT, true, false,
	    "enter the guest's pseudo-S4 at a test level", {
		NEED("level", PROTO_F_STRING), NEED("timeout_ms", PROTO_F_UINT) } },
	[PROTO_ONLINE] = { "online", PROTO_TO_AGENT, true, false,
	    "online the CPUs and memory blocks that are offline", {
		NEED("cpus", PROTO_F_BOOL), NEED("memory", PROTO_F_BOOL),
		{ "memory_state", PROTO_F_STRING, true, memory_states } } },
	[PROTO_GET_TOPOLOGY] = { "get_topology", PROTO_TO_AGENT, true, false,
	    "ask for a topology message", NO_FIELDS },
	[PROTO_CRASH] = { "crash", PROTO_TO_AGENT, true, false,
	    "crash the guest kernel on purpose; answered before it goes down", {
		{ "method", PROTO_F_STRING, false, crash_methods } } },
	[PROTO_ADD_TARGET] = { "add_target", PROTO_TO_AGENT, true, false,
	    "find a hot-added disk by its serial and run verified I/O on it too", {
		NEED("serial", PROTO_F_STRING), NEED("size", PROTO_F_UINT),
		NEED("within_ms", PROTO_F_UINT) } },
	[PROTO_HEARTBEAT] = { "heartbeat", PROTO_TO_DAEMON, false, false,
	    "the agent is alive; never answered", {
		NEED("seq", PROTO_F_UINT), NEED("uptime_ms", PROTO_F_UINT),
		NEED("state", PROTO_F_STRING) } },
	[PROTO_REPORT] = { "report", PROTO_TO_DAEMON, true, false,
	    "counters and latencies of one interval", {
		NEED("seq", PROTO_F_UINT), NEED("interval_ms", PROTO_F_UINT),
		NEED("counters", PROTO_F_OBJECT), NEED("latency", PROTO_F_OBJECT) } },
	[PROTO_FINDING] = { "finding", PROTO_TO_DAEMON, true, false,
	    "something went wrong in the guest", {
		NEED("kind", PROTO_F_STRING), NEED("title", PROTO_F_STRING),
		NEED("time_ns", PROTO_F_UINT), MAY("detail", PROTO_F_OBJECT) } },
	[PROTO_TOPOLOGY] = { "topology", PROTO_TO_DAEMON, true, false,
	    "the CPUs and memory the guest sees", {
		NEED("time_ns", PROTO_F_UINT), NEED("cpus", PROTO_F_OBJECT),
		NEED("memory", PROTO_F_OBJECT) } },
};

static const char *const side_names[] = {
	[PROTO_SIDE_AGENT] = "agent",
	[PROTO_SIDE_DAEMON] = "daemon",
};

const char *
proto_type_name(enum proto_type t)
{
	if ((unsigned)t >= PROTO_TYPE_COUNT)
		return NULL;
	return proto_types[t].name;
}

int
proto_type_find(const char *name)
{
	int	t;

	if (name == NULL)
		return -1;
	for (t = 0; t < PROTO_TYPE_COUNT; t++) {
		if (strcmp(proto_types[t].name, name) == 0)
			return t;
	}
	return -1;
}

bool
proto_is_request(enum proto_type t)
{
	return (unsigned)t < PROTO_TYPE_COUNT && proto_types[t].request;
}

/* Whether e answers a request (its table lists "re"). */
static bool
type_answers(const struct proto_type_entry *e)
{
	const struct proto_field	*f;

	for (f = e->fields; f->name != NULL; f++) {
		if (strcmp(f->name, "re") == 0)
			return true;
	}
	return false;
}

/* Offset of the first byte that is not valid UTF-8, or n. */
static size_t
utf8_check(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, k;

	while (i < n) {
		if ((k = utf8_seq_len(p + i, n - i)) == 0)
			return i;
		i += k;
	}
	return n;
}

/* A JSON value's kind as a message names it, with an integer's value. */
static const char *
describe(const json_t *v, char *buf, size_t len)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

static bool
is_id(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 1 &&
	    (uint64_t)json_integer_value(v) <= PROTO_MAX_ID;
}

static int
why_fmt(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
why_fmt(char *why, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* Checks member f of obj; on failure writes why and returns -1. */
static int
check_field(const char *type, const struct proto_field *f, const json_t *v,
    char *why, size_t len)
{
	const char *const	*c;
	const char		*want = NULL, *s;
	char			 got[32], list[128];

	if (v == NULL) {
		if (f->optional)
			return 0;
		return why_fmt(why, len, "%s: `%s` is missing", type, f->name);
	}
	switch (f->type) {
	case PROTO_F_UINT:
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			want = "a non-negative integer";
		break;
	case PROTO_F_ID:
		if (!is_id(v))
			want = "an integer from 1 to 9007199254740991";
		break;
	case PROTO_F_ID_OR_NULL:
		if (!json_is_null(v) && !is_id(v))
			want = "null or an integer from 1 to 9007199254740991";
		break;
	case PROTO_F_STRING:
		if (!json_is_string(v)) {
			want = "a string";
			break;
		}
		if (f->choices == NULL)
			break;
		s = json_string_value(v);
		list[0] = '\0';
		for (c = f->choices; *c != NULL; c++) {
			if (strcmp(*c, s) == 0)
				return 0;
			snprintf(list + strlen(list), sizeof list - strlen(list),
			    "%s%s", c == f->choices ? "" : ", ", *c);
		}
		return why_fmt(why, len, "%s: `%s` must be one of %s, not \"%.*s\"%s",
		    type, f->name, list, NAME_SHOWN, s,
		    strlen(s) > NAME_SHOWN ? "..." : "");
	case PROTO_F_BOOL:
		if (!json_is_boolean(v))
			want = "true or false";
		break;
	case PROTO_F_OBJECT:
		if (!json_is_object(v))
			want = "an object";
		break;
	}
	if (want == NULL)
		return 0;
	return why_fmt(why, len, "%s: `%s` must be %s, not %s", type, f->name,
	    want, describe(v, got, sizeof got));
}

/*
 * The members of obj against e: the id a request needs and others must not
 * have, "re" only on answers, then the table's fields. On failure sets
 * *field to the member at fault and writes why. Both the reader and the
 * encoder use it, so what one side sends the other accepts.
 */
static int
check_members(const struct proto_type_entry *e, const json_t *obj,
    const char **field, char *why, size_t len)
{
	const struct proto_field	*f;
	const json_t			*id;
	char				 got[32];

	id = json_object_get(obj, "id");
	*field = "id";
	if (e->request && id == NULL)
		return why_fmt(why, len, "%s: `id` is missing; a request needs one",
		    e->name);
	if (e->request && !is_id(id))
		return why_fmt(why, len, "%s: `id` must be an integer from 1 to "
		    "9007199254740991, not %s", e->name, describe(id, got,
		    sizeof got));
	/* A sender waiting for an answer to a notification would wait forever. */
	if (!e->request && id != NULL)
		return why_fmt(why, len, "%s: `id` not allowed: %s is never "
		    "answered", e->name, e->name);
	*field = "re";
	if (!type_answers(e) && json_object_get(obj, "re") != NULL)
		return why_fmt(why, len, "%s: `re` not allowed: only a reply or "
		    "an error answers a request", e->name);
	for (f = e->fields; f->name != NULL; f++) {
		*field = f->name;
		if (check_field(e->name, f, json_object_get(obj, f->name), why,
		    len) == -1)
			return -1;
	}
	*field = NULL;
	return 0;
}

void
proto_reader_init(struct proto_reader *r, enum proto_side side)
{
	memset(r, 0, sizeof *r);
	r->side = side;
}

void
proto_reader_reset(struct proto_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = r->cap = 0;
	r->skipping = false;
}

void
proto_reader_free(struct proto_reader *r)
{
	if (r != NULL)
		proto_reader_reset(r);
}

size_t
proto_reader_buffered(const struct proto_reader *r)
{
	return r->len;
}

/* A line is done with: one long line must not pin 256 KiB for good. */
static void
reader_clear(struct proto_reader *r)
{
	r->len = 0;
	if (r->cap > READER_KEEP) {
		free(r->buf);
		r->buf = NULL;
		r->cap = 0;
	}
}

/* The caller has made sure r->len + n <= PROTO_MAX_LINE. */
static int
reader_append(struct proto_reader *r, const char *p, size_t n)
{
	size_t	 need = r->len + n, cap;
	char	*nbuf;

	if (n == 0)
		return 0;
	if (need > r->cap) {
		cap = r->cap != 0 ? r->cap : READER_MIN;
		while (cap < need)
			cap *= 2;
		if (cap > PROTO_MAX_LINE)
			cap = PROTO_MAX_LINE;
		if ((nbuf = realloc(r->buf, cap)) == NULL)
			return -1;
		r->buf = nbuf;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, n);
	r->len = need;
	return 0;
}

/* What one line came to. */
struct line {
	struct proto_msg msg;
	struct proto_bad bad;
	char		 detail[DETAIL_SIZE];
};

enum line_result {
	LINE_MSG,	/* l->msg holds a message for on_msg */
	LINE_BAD,	/* l->bad holds a refusal for on_bad */
	LINE_NOMEM	/* neither: out of memory */
};

static enum line_result
refuse(struct line *l, uint64_t *counter, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Fills in the refusal. The detail may quote the peer's bytes, and goes to
 * logs and back over the wire, so it is cut to printable ASCII.
 */
static enum line_result
refuse(struct line *l, uint64_t *counter, const char *code, const char *fmt, ...)
{
	va_list		 ap;
	unsigned char	*p;

	(*counter)++;
	l->bad.code = code;
	va_start(ap, fmt);
	vsnprintf(l->detail, sizeof l->detail, fmt, ap);
	va_end(ap);
	for (p = (unsigned char *)l->detail; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	}
	l->bad.detail = l->detail;
	return LINE_BAD;
}

static enum line_result
parse_line(struct proto_reader *r, const char *p, size_t n, struct line *l)
{
	const struct proto_type_entry	*e;
	struct proto_stats		*st = &r->stats;
	json_t				*obj, *v;
	json_error_t			 err;
	const char			*name, *field;
	char				 why[DETAIL_SIZE];
	size_t				 at;
	int				 t;

	memset(l, 0, sizeof *l);
	l->bad.type = -1;
	l->bad.answer = true;

	/* jansson refuses these too, but names neither the fault nor its place. */
	if ((name = memchr(p, '\0', n)) != NULL)
		return refuse(l, &st->malformed, PROTO_E_MALFORMED,
		    "NUL byte at offset %zu", (size_t)(name - p));
	if ((at = utf8_check(p, n)) != n)
		return refuse(l, &st->malformed, PROTO_E_MALFORMED,
		    "invalid UTF-8 at offset %zu", at);
	/* No JSON_DISABLE_EOF_CHECK: trailing junk is an error. */
	if ((obj = json_loadb(p, n, JSON_REJECT_DUPLICATES, &err)) == NULL) {
		if (json_error_code(&err) == json_error_out_of_memory)
			return LINE_NOMEM;
		return refuse(l, &st->malformed, PROTO_E_MALFORMED,
		    "%s at offset %d", err.text, err.position);
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		return refuse(l, &st->malformed, PROTO_E_MALFORMED,
		    "a JSON array, not an object");
	}

	/* The id first, so that every later refusal can name the request. */
	if (is_id(v = json_object_get(obj, "id")))
		l->bad.re = (uint64_t)json_integer_value(v);

	if ((v = json_object_get(obj, "type")) == NULL || !json_is_string(v)) {
		l->bad.field = "type";
		if (v == NULL)
			refuse(l, &st->bad_field, PROTO_E_BAD_FIELD,
			    "`type` is missing");
		else
			refuse(l, &st->bad_field, PROTO_E_BAD_FIELD,
			    "`type` must be a string, not %s",
			    describe(v, why, sizeof why));
		goto bad;
	}
	name = json_string_value(v);
	if ((t = proto_type_find(name)) == -1) {
		refuse(l, &st->unknown, PROTO_E_UNKNOWN_TYPE,
		    "unknown message type \"%.*s\"%s", NAME_SHOWN, name,
		    strlen(name) > NAME_SHOWN ? "..." : "");
		goto bad;
	}
	e = &proto_types[t];
	l->bad.type = t;
	l->bad.answer = !type_answers(e);
	if ((e->to & (1U << r->side)) == 0) {
		refuse(l, &st->wrong_direction, PROTO_E_WRONG_DIRECTION,
		    "%s goes to the %s, never to the %s", e->name,
		    side_names[!r->side], side_names[r->side]);
		goto bad;
	}
	if (check_members(e, obj, &field, why, sizeof why) == -1) {
		l->bad.field = field;
		refuse(l, &st->bad_field, PROTO_E_BAD_FIELD, "%s", why);
		goto bad;
	}

	st->messages++;
	l->msg.type = (enum proto_type)t;
	l->msg.obj = obj;
	if (e->request)
		l->msg.id = (uint64_t)json_integer_value(json_object_get(obj, "id"));
	if (is_id(v = json_object_get(obj, "re"))) {
		l->msg.re = (uint64_t)json_integer_value(v);
		l->msg.has_re = true;
	}
	return LINE_MSG;

bad:
	json_decref(obj);
	return LINE_BAD;
}

/* One whole line, without its '\n'. Returns 0, 1 (stop) or -1. */
static int
reader_line(struct proto_reader *r, const char *p, size_t n,
    const struct proto_handler *h, void *arg)
{
	struct line		l;
	enum line_result	res;
	int			rv = 0;

	r->stats.lines++;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n == 0) {
		reader_clear(r);
		return 0;
	}
	res = parse_line(r, p, n, &l);
	/* Before the handler: it may free r. */
	reader_clear(r);
	switch (res) {
	case LINE_NOMEM:
		errno = ENOMEM;
		return -1;
	case LINE_BAD:
		if (h->on_bad != NULL)
			rv = h->on_bad(arg, &l.bad);
		break;
	case LINE_MSG:
		if (h->on_msg != NULL)
			rv = h->on_msg(arg, &l.msg);
		json_decref(l.msg.obj);
		break;
	}
	return rv != 0 ? 1 : 0;
}

/* The line has passed PROTO_MAX_LINE; ended says its '\n' is in hand. */
static int
reader_oversized(struct proto_reader *r, bool ended,
    const struct proto_handler *h, void *arg)
{
	struct line	l;

	memset(&l, 0, sizeof l);
	l.bad.type = -1;
	l.bad.answer = true;
	reader_clear(r);
	if (ended)
		r->stats.lines++;
	else
		r->skipping = true;
	refuse(&l, &r->stats.oversized, PROTO_E_OVERSIZED,
	    "line longer than %d bytes", PROTO_MAX_LINE);
	if (h->on_bad != NULL && h->on_bad(arg, &l.bad) != 0)
		return 1;
	return 0;
}

int
proto_reader_feed(struct proto_reader *r, const void *buf, size_t len,
    const struct proto_handler *h, void *arg)
{
	const char	*p = buf, *nl;
	size_t		 n;
	int		 rv;

	while (len > 0) {
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) : len;
		if (r->skipping) {
			if (nl == NULL)
				return 0;
			r->skipping = false;
			r->stats.lines++;
		} else if (n > PROTO_MAX_LINE - r->len) {
			if ((rv = reader_oversized(r, nl != NULL, h, arg)) != 0)
				return rv;
			if (nl == NULL)
				return 0;
		} else if (nl == NULL) {
			if (reader_append(r, p, n) == -1)
				goto nomem;
			return 0;
		} else if (r->len == 0) {
			/* The whole line is in buf: no copy. */
			if ((rv = reader_line(r, p, n, h, arg)) != 0)
				return rv;
		} else {
			if (reader_append(r, p, n) == -1)
				goto nomem;
			if ((rv = reader_line(r, r->buf, r->len, h, arg)) != 0)
				return rv;
		}
		p = nl + 1;
		len -= n + 1;
	}
	return 0;

nomem:
	/* Drop to the next '\n' so a caller that carries on finds a line start. */
	reader_clear(r);
	r->skipping = nl == NULL;
	errno = ENOMEM;
	return -1;
}

/* Serializes obj (which it drops) to a '\n'-terminated line. */
static char *
encode_obj(json_t *obj, size_t *lenp)
{
	const size_t	 flags = JSON_COMPACT;
	size_t		 n;
	char		*line;

	/* Sized first, so an oversized message is never built in full. */
	if ((n = json_dumpb(obj, NULL, 0, flags)) == 0) {
		json_decref(obj);
		errno = ENOMEM;
		return NULL;
	}
	if (n > PROTO_MAX_LINE) {
		json_decref(obj);
		errno = EMSGSIZE;
		return NULL;
	}
	if ((line = malloc(n + 2)) == NULL) {
		json_decref(obj);
		errno = ENOMEM;
		return NULL;
	}
	/* Our malloc, not jansson's allocator: the caller frees with free(). */
	if (json_dumpb(obj, line, n, flags) != n) {
		json_decref(obj);
		free(line);
		errno = ENOMEM;
		return NULL;
	}
	json_decref(obj);
	line[n] = '\n';
	line[n + 1] = '\0';
	if (lenp != NULL)
		*lenp = n + 1;
	return line;
}

char *
proto_encode(enum proto_type t, uint64_t id, uint64_t re, json_t *fields,
    size_t *len)
{
	const struct proto_type_entry	*e;
	json_t				*obj = NULL, *v;
	const char			*field;
	char				 why[DETAIL_SIZE];
	int				 serrno = EINVAL;

	if ((unsigned)t >= PROTO_TYPE_COUNT)
		goto fail;
	e = &proto_types[t];
	if (fields != NULL && !json_is_object(fields))
		goto fail;
	if (fields != NULL && (json_object_get(fields, "type") != NULL ||
	    json_object_get(fields, "id") != NULL ||
	    json_object_get(fields, "re") != NULL))
		goto fail;
	if (id > PROTO_MAX_ID || re > PROTO_MAX_ID ||
	    (id != 0) != e->request || (re != 0 && !type_answers(e)))
		goto fail;

	serrno = ENOMEM;
	if ((obj = json_object()) == NULL)
		goto fail;
	/* type, id and re lead, so a person reading a log sees them first. */
	if (json_object_set_new(obj, "type", json_string(e->name)) == -1)
		goto fail;
	if (e->request &&
	    json_object_set_new(obj, "id", json_integer((json_int_t)id)) == -1)
		goto fail;
	if (type_answers(e)) {
		v = re != 0 ? json_integer((json_int_t)re) : json_null();
		if (json_object_set_new(obj, "re", v) == -1)
			goto fail;
	}
	if (fields != NULL && json_object_update(obj, fields) == -1)
		goto fail;
	json_decref(fields);
	fields = NULL;

	if (check_members(e, obj, &field, why, sizeof why) == -1) {
		serrno = EINVAL;
		goto fail;
	}
	return encode_obj(obj, len);

fail:
	json_decref(obj);
	json_decref(fields);
	errno = serrno;
	return NULL;
}

char *
proto_encode_reply(uint64_t re, json_t *fields, size_t *len)
{
	return proto_encode(PROTO_REPLY, 0, re, fields, len);
}

char *
proto_encode_error(uint64_t re, const char *code, const char *detail,
    size_t *len)
{
	json_t		*fields;
	char		 buf[PROTO_MAX_DETAIL + 1];
	size_t		 n, i, k;

	if (code == NULL || *code == '\0') {
		errno = EINVAL;
		return NULL;
	}
	if (detail == NULL)
		detail = "";
	/* An error must get out: cut it short and mend its UTF-8. */
	n = strnlen(detail, PROTO_MAX_DETAIL);
	memcpy(buf, detail, n);
	buf[n] = '\0';
	for (i = 0; i < n; i += k) {
		if ((k = utf8_seq_len((unsigned char *)buf + i, n - i)) == 0) {
			buf[i] = '?';
			k = 1;
		}
	}
	if ((fields = json_pack("{s:s, s:s}", "error", code, "detail",
	    buf)) == NULL) {
		/* json_pack fails on a code that is not UTF-8 too. */
		errno = EINVAL;
		return NULL;
	}
	return proto_encode(PROTO_ERROR, 0, re, fields, len);
}
