/* check-proto.c: the agent wire protocol: every type through encoder and
 * reader, every way a line is refused, and the reader's bounds on memory. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/proto.h"

#define MAX_EVENTS	64
#define SMALL		4096	/* "a small constant" over the line limit */

/* One handler call, copied so it outlives the call. */
struct ev {
	bool		 bad;
	/* on_msg */
	enum proto_type	 type;
	uint64_t	 id;
	uint64_t	 re;
	bool		 has_re;
	json_t		*obj;		/* a reference of our own */
	/* on_bad */
	char		 code[32];
	char		 detail[512];
	char		 field[32];
	int		 btype;
	bool		 answer;
};

struct sink {
	struct ev		 ev[MAX_EVENTS];
	size_t			 n;
	size_t			 stop_at;	/* stop after this many calls; 0: never */
	struct proto_reader	*free_me;	/* freed (heap) by the stopping call */
};

static int
sink_stop(struct sink *s)
{
	if (s->stop_at == 0 || s->n < s->stop_at)
		return 0;
	if (s->free_me != NULL) {
		proto_reader_free(s->free_me);
		free(s->free_me);
		s->free_me = NULL;
	}
	return 1;
}

static int
on_msg(void *arg, const struct proto_msg *m)
{
	struct sink	*s = arg;
	struct ev	*e;

	ck_assert_uint_lt(s->n, MAX_EVENTS);
	e = &s->ev[s->n++];
	memset(e, 0, sizeof *e);
	e->type = m->type;
	e->id = m->id;
	e->re = m->re;
	e->has_re = m->has_re;
	ck_assert_ptr_nonnull(m->obj);
	e->obj = json_incref(m->obj);
	return sink_stop(s);
}

static int
on_bad(void *arg, const struct proto_bad *b)
{
	struct sink	*s = arg;
	struct ev	*e;
	const char	*p;

	ck_assert_uint_lt(s->n, MAX_EVENTS);
	e = &s->ev[s->n++];
	memset(e, 0, sizeof *e);
	e->bad = true;
	e->re = b->re;
	e->btype = b->type;
	e->answer = b->answer;
	ck_assert_ptr_nonnull(b->code);
	ck_assert_ptr_nonnull(b->detail);
	snprintf(e->code, sizeof e->code, "%s", b->code);
	snprintf(e->detail, sizeof e->detail, "%s", b->detail);
	if (b->field != NULL)
		snprintf(e->field, sizeof e->field, "%s", b->field);
	/* Details go into logs and back over the wire. */
	ck_assert_uint_lt(strlen(b->detail), 256);
	for (p = b->detail; *p != '\0'; p++)
		ck_assert_msg(*p >= 0x20 && *p <= 0x7e, "detail `%s` has byte "
		    "0x%02x", b->detail, (unsigned char)*p);
	return sink_stop(s);
}

static const struct proto_handler handler = { on_msg, on_bad };

static void
sink_free(struct sink *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		json_decref(s->ev[i].obj);
	memset(s, 0, sizeof *s);
}

static int
feed_n(struct proto_reader *r, struct sink *s, const char *p, size_t n)
{
	return proto_reader_feed(r, p, n, &handler, s);
}

static int
feed(struct proto_reader *r, struct sink *s, const char *text)
{
	return feed_n(r, s, text, strlen(text));
}

/* Reads one line on side and expects one refusal with code (and field). */
static void
expect_bad(int line, enum proto_side side, const char *text, size_t len,
    const char *code, const char *field, uint64_t re)
{
	struct proto_reader	r;
	struct sink		s = { 0 };

	proto_reader_init(&r, side);
	ck_assert_int_eq(feed_n(&r, &s, text, len), 0);
	ck_assert_int_eq(feed(&r, &s, "\n"), 0);
	ck_assert_msg(s.n == 1, "line %d: %zu calls, expected 1", line, s.n);
	ck_assert_msg(s.ev[0].bad, "line %d: `%.*s` accepted", line, (int)len,
	    text);
	ck_assert_msg(strcmp(s.ev[0].code, code) == 0, "line %d: code %s, "
	    "expected %s (%s)", line, s.ev[0].code, code, s.ev[0].detail);
	if (field != NULL) {
		char	quoted[64];

		ck_assert_msg(strcmp(s.ev[0].field, field) == 0, "line %d: field "
		    "`%s`, expected `%s`", line, s.ev[0].field, field);
		snprintf(quoted, sizeof quoted, "`%s`", field);
		ck_assert_msg(strstr(s.ev[0].detail, quoted) != NULL, "line %d: "
		    "detail `%s` does not name %s", line, s.ev[0].detail, quoted);
	} else
		ck_assert_str_eq(s.ev[0].field, "");
	ck_assert_msg(s.ev[0].re == re, "line %d: re %llu, expected %llu", line,
	    (unsigned long long)s.ev[0].re, (unsigned long long)re);
	ck_assert_uint_eq(r.stats.messages, 0);
	sink_free(&s);
	proto_reader_free(&r);
}

#define BAD(side, text, code, field, re) \
	expect_bad(__LINE__, (side), (text), strlen(text), (code), (field), (re))

/* Reads one line on side and expects one message of type t; returns its object. */
static json_t *
expect_msg(enum proto_side side, const char *text, enum proto_type t)
{
	struct proto_reader	 r;
	struct sink		 s = { 0 };
	json_t			*obj;

	proto_reader_init(&r, side);
	ck_assert_int_eq(feed(&r, &s, text), 0);
	ck_assert_int_eq(feed(&r, &s, "\n"), 0);
	ck_assert_msg(s.n == 1 && !s.ev[0].bad, "`%s` refused: %s", text,
	    s.n ? s.ev[0].detail : "no call");
	ck_assert_int_eq(s.ev[0].type, t);
	obj = json_incref(s.ev[0].obj);
	sink_free(&s);
	proto_reader_free(&r);
	return obj;
}

#define AGENT	PROTO_SIDE_AGENT
#define DAEMON	PROTO_SIDE_DAEMON

/*
 * One valid message of every type, spelled out independently of proto.c's
 * table, and the side that reads it.
 */
static const struct sample {
	enum proto_type	 type;
	const char	*name;
	uint64_t	 id;
	uint64_t	 re;
	enum proto_side	 reader;
	const char	*fields;
} samples[] = {
	{ PROTO_HELLO, "hello", 1, 0, DAEMON,
	    "{\"version\":1,\"token\":\"s3cret\",\"agent\":\"hotsoak-agent 0.1.0\","
	    "\"hostname\":\"guest-1\",\"boot_id\":\"6f1e2d3c\",\"pid\":4242,"
	    "\"resumed\":false,\"outbox\":0}" },
	{ PROTO_REPLY, "reply", 0, 1, AGENT, "{\"version\":1}" },
	{ PROTO_ERROR, "error", 0, 9, DAEMON,
	    "{\"error\":\"busy\",\"detail\":\"quiescing\"}" },
	{ PROTO_CONFIGURE, "configure", 2, 0, AGENT,
	    "{\"workload\":{\"io\":[{\"path\":\"/dev/vdb\"}]},\"memory\":{\"mib\":64},"
	    "\"heartbeat_ms\":1000,\"report_ms\":5000,\"online\":true}" },
	{ PROTO_START, "start", 3, 0, AGENT, NULL },
	{ PROTO_STOP, "stop", 4, 0, AGENT, "{}" },
	{ PROTO_QUIESCE, "quiesce", 5, 0, AGENT, "{\"timeout_ms\":30000}" },
	{ PROTO_RESUME, "resume", 6, 0, AGENT, NULL },
	{ PROTO_PSEUDO_S4, "pseudo_s4", 7, 0, AGENT,
	    "{\"level\":\"devices\",\"timeout_ms\":60000}" },
	{ PROTO_ONLINE, "online", 8, 0, AGENT,
	    "{\"cpus\":true,\"memory\":false,\"memory_state\":\"online_movable\"}" },
	{ PROTO_GET_TOPOLOGY, "get_topology", 9, 0, AGENT, NULL },
	{ PROTO_CRASH, "crash", 12, 0, AGENT, "{\"method\":\"sysrq\"}" },
	{ PROTO_ADD_TARGET, "add_target", 13, 0, AGENT,
	    "{\"serial\":\"hotsoak-io1\",\"size\":33554432,\"within_ms\":30000}" },
	{ PROTO_HEARTBEAT, "heartbeat", 0, 0, DAEMON,
	    "{\"seq\":17,\"uptime_ms\":123456,\"state\":\"running\"}" },
	{ PROTO_REPORT, "report", 10, 0, DAEMON,
	    "{\"seq\":3,\"interval_ms\":5000,\"counters\":{\"reads\":10},"
	    "\"latency\":{\"p99_us\":800}}" },
	{ PROTO_FINDING, "finding", 11, 0, DAEMON,
	    "{\"kind\":\"corruption\",\"title\":\"stale block at 4096\","
	    "\"time_ns\":1700000000123456789,\"detail\":{\"offset\":4096}}" },
	{ PROTO_TOPOLOGY, "topology", 9007199254740991, 0, DAEMON,
	    "{\"time_ns\":1700000000000000000,\"cpus\":{\"online\":[0,1,2]},"
	    "\"memory\":{\"blocks\":12}}" },
};

#define NSAMPLES	(sizeof samples / sizeof samples[0])

static json_t *
sample_fields(const struct sample *sm)
{
	json_t	*f;

	if (sm->fields == NULL)
		return NULL;
	f = json_loads(sm->fields, 0, NULL);
	ck_assert_ptr_nonnull(f);
	return f;
}

static char *
sample_line(const struct sample *sm, size_t *len)
{
	char	*line;

	line = proto_encode(sm->type, sm->id, sm->re, sample_fields(sm), len);
	ck_assert_msg(line != NULL, "%s: encode failed: %s", sm->name,
	    strerror(errno));
	return line;
}

/* The message in e is sm, every field intact. */
static void
check_sample(const struct sample *sm, const struct ev *e)
{
	json_t		*want, *v;
	const char	*key;

	ck_assert_msg(!e->bad, "%s refused: %s", sm->name, e->detail);
	ck_assert_int_eq(e->type, sm->type);
	ck_assert_uint_eq(e->id, sm->id);
	ck_assert_uint_eq(e->re, sm->re);
	ck_assert_int_eq(e->has_re, sm->re != 0);
	ck_assert_str_eq(json_string_value(json_object_get(e->obj, "type")),
	    sm->name);
	if ((want = sample_fields(sm)) == NULL)
		return;
	json_object_foreach(want, key, v)
		ck_assert_msg(json_equal(json_object_get(e->obj, key), v),
		    "%s: `%s` changed", sm->name, key);
	json_decref(want);
}

START_TEST(type_table)
{
	size_t	i;
	int	t;

	ck_assert_uint_eq(NSAMPLES, PROTO_TYPE_COUNT);
	for (i = 0; i < NSAMPLES; i++) {
		ck_assert_int_eq(samples[i].type, (int)i);
		ck_assert_str_eq(proto_type_name(samples[i].type),
		    samples[i].name);
		ck_assert_int_eq(proto_type_find(samples[i].name),
		    samples[i].type);
		ck_assert_msg(proto_types[i].summary != NULL, "%s",
		    samples[i].name);
	}
	ck_assert_int_eq(proto_type_find("Hello"), -1);
	ck_assert_int_eq(proto_type_find(""), -1);
	ck_assert_int_eq(proto_type_find(NULL), -1);
	ck_assert_ptr_null(proto_type_name(PROTO_TYPE_COUNT));

	for (t = 0; t < PROTO_TYPE_COUNT; t++) {
		bool	notification = t == PROTO_HEARTBEAT || t == PROTO_REPLY ||
			    t == PROTO_ERROR;

		ck_assert_msg(proto_is_request(t) == !notification, "%s",
		    proto_type_name(t));
		ck_assert_int_eq(proto_types[t].handshake, t == PROTO_HELLO);
		switch (t) {
		case PROTO_REPLY:
		case PROTO_ERROR:
			ck_assert_uint_eq(proto_types[t].to, PROTO_TO_BOTH);
			break;
		case PROTO_HELLO:
		case PROTO_HEARTBEAT:
		case PROTO_REPORT:
		case PROTO_FINDING:
		case PROTO_TOPOLOGY:
			ck_assert_uint_eq(proto_types[t].to, PROTO_TO_DAEMON);
			break;
		default:
			ck_assert_uint_eq(proto_types[t].to, PROTO_TO_AGENT);
		}
	}
	ck_assert(!proto_is_request(PROTO_TYPE_COUNT));
}
END_TEST

START_TEST(round_trip_every_type)
{
	struct proto_reader	 r;
	struct sink		 s = { 0 };
	size_t			 i, len;
	char			*line;
	int			 side;

	for (i = 0; i < NSAMPLES; i++) {
		line = sample_line(&samples[i], &len);
		ck_assert_uint_eq(strlen(line), len);
		ck_assert_msg(strchr(line, '\n') == line + len - 1, "%s: `%s`",
		    samples[i].name, line);
		for (side = AGENT; side <= DAEMON; side++) {
			if ((proto_types[i].to & (1U << side)) == 0)
				continue;
			proto_reader_init(&r, side);
			ck_assert_int_eq(feed_n(&r, &s, line, len), 0);
			ck_assert_uint_eq(s.n, 1);
			check_sample(&samples[i], &s.ev[0]);
			/* The reader let go of its reference: ours is the last. */
			ck_assert_int_eq(s.ev[0].obj->refcount, 1);
			ck_assert_uint_eq(r.stats.messages, 1);
			ck_assert_uint_eq(r.stats.lines, 1);
			ck_assert_uint_eq(proto_reader_buffered(&r), 0);
			sink_free(&s);
			proto_reader_free(&r);
		}
		free(line);
	}
}
END_TEST

START_TEST(encode_exact)
{
	char	*line;
	size_t	 len = 0;

	line = proto_encode(PROTO_START, 5, 0, NULL, &len);
	ck_assert_str_eq(line, "{\"type\":\"start\",\"id\":5}\n");
	ck_assert_uint_eq(len, strlen(line));
	free(line);

	line = proto_encode_error(0, PROTO_E_MALFORMED, "bad\nline", NULL);
	ck_assert_str_eq(line, "{\"type\":\"error\",\"re\":null,\"error\":"
	    "\"malformed\",\"detail\":\"bad\\nline\"}\n");
	free(line);

	line = proto_encode_reply(7, json_pack("{s:i}", "cpus", 4), &len);
	ck_assert_str_eq(line, "{\"type\":\"reply\",\"re\":7,\"cpus\":4}\n");
	free(line);

	line = proto_encode(PROTO_HEARTBEAT, 0, 0, json_pack("{s:i,s:i,s:s}",
	    "seq", 1, "uptime_ms", 2, "state", "multi\nline"), &len);
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strchr(line, '\n') == line + len - 1, "`%s`", line);
	free(line);
}
END_TEST

START_TEST(encode_refused)
{
	json_t	*big;
	char	*pad;

	struct {
		enum proto_type	 t;
		uint64_t	 id, re;
		const char	*fields;
		int		 err;
	} cases[] = {
		{ PROTO_START, 0, 0, NULL, EINVAL },		/* request, no id */
		{ PROTO_START, PROTO_MAX_ID + 1, 0, NULL, EINVAL },
		{ PROTO_START, 1, 1, NULL, EINVAL },		/* re on a request */
		{ PROTO_HEARTBEAT, 3, 0,			/* notification with id */
		    "{\"seq\":1,\"uptime_ms\":1,\"state\":\"x\"}", EINVAL },
		{ PROTO_HEARTBEAT, 0, 0, "{\"seq\":1,\"uptime_ms\":1}", EINVAL },
		{ PROTO_HEARTBEAT, 0, 0,
		    "{\"seq\":-1,\"uptime_ms\":1,\"state\":\"x\"}", EINVAL },
		{ PROTO_REPLY, 0, 0, NULL, EINVAL },		/* reply to nothing */
		{ PROTO_REPLY, 0, PROTO_MAX_ID + 1, NULL, EINVAL },
		{ PROTO_START, 1, 0, "{\"type\":\"stop\"}", EINVAL },
		{ PROTO_START, 1, 0, "{\"id\":2}", EINVAL },
		{ PROTO_REPLY, 0, 1, "{\"re\":2}", EINVAL },
		{ PROTO_START, 1, 0, "[]", EINVAL },
		{ PROTO_TYPE_COUNT, 1, 0, NULL, EINVAL },
		{ PROTO_ONLINE, 1, 0, "{\"cpus\":true,\"memory\":true,"
		    "\"memory_state\":\"offline\"}", EINVAL },
		{ PROTO_CRASH, 1, 0, NULL, EINVAL },		/* no method */
		{ PROTO_CRASH, 1, 0, "{\"method\":\"kexec\"}", EINVAL },
	};
	size_t	i;
	json_t	*f;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		f = cases[i].fields ? json_loads(cases[i].fields, 0, NULL) : NULL;
		errno = 0;
		/* fields is stolen on failure too: the leak checker is watching. */
		ck_assert_msg(proto_encode(cases[i].t, cases[i].id, cases[i].re, f,
		    NULL) == NULL, "case %zu encoded", i);
		ck_assert_msg(errno == cases[i].err, "case %zu: errno %d", i, errno);
	}

	pad = malloc(PROTO_MAX_LINE + 1);
	memset(pad, 'x', PROTO_MAX_LINE);
	pad[PROTO_MAX_LINE] = '\0';
	big = json_pack("{s:i,s:i,s:{s:s},s:{}}", "seq", 1, "interval_ms", 1,
	    "counters", "pad", pad, "latency");
	free(pad);
	errno = 0;
	ck_assert_ptr_null(proto_encode(PROTO_REPORT, 1, 0, big, NULL));
	ck_assert_int_eq(errno, EMSGSIZE);

	errno = 0;
	ck_assert_ptr_null(proto_encode_error(1, NULL, "x", NULL));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(proto_encode_error(1, "", "x", NULL));
}
END_TEST

START_TEST(encode_error_detail)
{
	struct proto_reader	 r;
	struct sink		 s = { 0 };
	char			*line, *longd;
	const char		*d;
	size_t			 len;

	/* Invalid UTF-8 (a cut sequence, a lone continuation) is mended. */
	line = proto_encode_error(4, PROTO_E_FAILED, "open: \xc3 \x80 caf\xc3\xa9",
	    &len);
	ck_assert_ptr_nonnull(line);
	proto_reader_init(&r, AGENT);
	ck_assert_int_eq(feed_n(&r, &s, line, len), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert(!s.ev[0].bad);
	ck_assert_int_eq(s.ev[0].type, PROTO_ERROR);
	ck_assert_uint_eq(s.ev[0].re, 4);
	d = json_string_value(json_object_get(s.ev[0].obj, "detail"));
	ck_assert_str_eq(d, "open: ? ? caf\xc3\xa9");
	free(line);
	sink_free(&s);

	/* A huge detail is cut, not refused. */
	longd = malloc(3 * PROTO_MAX_LINE);
	memset(longd, 'd', 3 * PROTO_MAX_LINE - 1);
	longd[3 * PROTO_MAX_LINE - 1] = '\0';
	line = proto_encode_error(0, PROTO_E_FAILED, longd, &len);
	free(longd);
	ck_assert_ptr_nonnull(line);
	ck_assert_int_eq(feed_n(&r, &s, line, len), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert(!s.ev[0].has_re);
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(s.ev[0].obj,
	    "detail"))), PROTO_MAX_DETAIL);
	free(line);
	sink_free(&s);
	proto_reader_free(&r);
}
END_TEST

/* The stream of every message the daemon reads, each encoded. */
static char *
daemon_stream(size_t *len, size_t *count)
{
	char	*all = NULL, *line;
	size_t	 i, n, total = 0;

	*count = 0;
	for (i = 0; i < NSAMPLES; i++) {
		if ((proto_types[i].to & PROTO_TO_DAEMON) == 0)
			continue;
		line = sample_line(&samples[i], &n);
		all = realloc(all, total + n + 1);
		memcpy(all + total, line, n + 1);
		total += n;
		free(line);
		(*count)++;
	}
	*len = total;
	return all;
}

START_TEST(byte_by_byte)
{
	struct proto_reader	 r;
	struct sink		 s = { 0 };
	char			*all;
	size_t			 len, count, i, before, k;

	all = daemon_stream(&len, &count);
	ck_assert_uint_ge(count, 7);
	proto_reader_init(&r, DAEMON);
	for (i = 0; i < len; i++) {
		before = s.n;
		ck_assert_int_eq(feed_n(&r, &s, all + i, 1), 0);
		/* A message exactly when its newline arrives, never before. */
		ck_assert_uint_eq(s.n, before + (all[i] == '\n'));
		ck_assert_uint_le(r.cap, PROTO_MAX_LINE);
	}
	ck_assert_uint_eq(s.n, count);
	for (i = k = 0; i < NSAMPLES; i++) {
		if (proto_types[i].to & PROTO_TO_DAEMON)
			check_sample(&samples[i], &s.ev[k++]);
	}
	sink_free(&s);
	proto_reader_free(&r);
	free(all);
}
END_TEST

START_TEST(split_everywhere)
{
	struct proto_reader	 r;
	struct sink		 s = { 0 };
	char			*all;
	size_t			 len, count, cut;

	/* Every split of the stream into two reads gives the same messages. */
	all = daemon_stream(&len, &count);
	for (cut = 0; cut <= len; cut++) {
		proto_reader_init(&r, DAEMON);
		ck_assert_int_eq(feed_n(&r, &s, all, cut), 0);
		ck_assert_int_eq(feed_n(&r, &s, all + cut, len - cut), 0);
		ck_assert_uint_eq(s.n, count);
		ck_assert_int_eq(s.ev[count - 1].type, PROTO_TOPOLOGY);
		ck_assert_uint_eq(s.ev[count - 1].id, PROTO_MAX_ID);
		sink_free(&s);
		proto_reader_free(&r);
	}
	free(all);
}
END_TEST

START_TEST(several_in_one_buffer)
{
	struct proto_reader	r;
	struct sink		s = { 0 };

	proto_reader_init(&r, AGENT);
	ck_assert_int_eq(feed(&r, &s,
	    "{\"type\":\"start\",\"id\":1}\n"
	    "{\"type\":\"stop\",\"id\":2}\r\n"
	    "\n"
	    "\r\n"
	    "{\"type\":\"resume\",\"id\":3}\n"), 0);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_int_eq(s.ev[0].type, PROTO_START);
	ck_assert_int_eq(s.ev[1].type, PROTO_STOP);
	ck_assert_int_eq(s.ev[2].type, PROTO_RESUME);
	ck_assert_uint_eq(s.ev[2].id, 3);
	ck_assert_uint_eq(r.stats.lines, 5);
	ck_assert_uint_eq(r.stats.messages, 3);
	ck_assert_uint_eq(r.stats.malformed, 0);
	sink_free(&s);
	proto_reader_free(&r);
}
END_TEST

START_TEST(malformed)
{
	static const struct {
		const char	*text;
		size_t		 len;	/* 0: strlen */
		const char	*says;	/* in the detail, or NULL */
	} cases[] = {
		{ "not json", 0, NULL },
		{ "[1,2,3]", 0, "not an object" },
		{ "{\"type\":\"start\",\"id\":1} junk", 0, NULL },
		{ "{\"type\":\"start\",\"id\":1}{}", 0, NULL },
		{ "\"start\"", 0, NULL },
		{ "42", 0, NULL },
		{ "null", 0, NULL },
		{ "   ", 0, NULL },
		{ "{\"type\":\"start\",\"id\":1", 0, NULL },
		{ "{\"type\":\"st\0art\",\"id\":1}", 24, "NUL byte at offset 11" },
		{ "\0", 1, "NUL" },
		{ "{\"type\":\"start\",\"id\":1,\"x\":\"\xff\"}", 0,
		    "UTF-8 at offset 28" },
		{ "{\"type\":\"start\",\"id\":1,\"x\":\"\xc0\xaf\"}", 0, "UTF-8" },
		{ "{\"type\":\"start\",\"id\":1,\"x\":\"\xe0\x80\xaf\"}", 0,
		    "UTF-8" },
		{ "{\"type\":\"start\",\"id\":1,\"x\":\"\xed\xa0\x80\"}", 0,
		    "UTF-8" },
		{ "{\"type\":\"start\",\"id\":1,\"x\":\"\xf0\x80\x80\xaf\"}", 0,
		    "UTF-8" },
		{ "{\"type\":\"start\",\"id\":1,\"x\":\"\xf4\x90\x80\x80\"}", 0,
		    "UTF-8" },
		{ "{\"type\":\"start\",\"id\":1,\"x\":\"\xe2\x82\"}", 0, "UTF-8" },
		{ "{\"type\":\"start\",\"id\":1}\xe2", 0, "UTF-8" },
		{ "{\"type\":\"start\",\"id\":1,\"id\":2}", 0, "duplicate" },
		{ "{\"type\":\"start\",\"id\":1,\"x\":\"a\\u0000b\"}", 0, NULL },
		{ "{\"type\":\"start\",\"id\":99999999999999999999}", 0, NULL },
		{ "{\"type\":\"start\",\"id\":1,\"x\":\"tab\there\"}", 0, NULL },
	};
	struct proto_reader	 r;
	struct sink		 s = { 0 };
	size_t			 i, len;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		proto_reader_init(&r, AGENT);
		ck_assert_int_eq(feed_n(&r, &s, cases[i].text, len), 0);
		ck_assert_int_eq(feed(&r, &s, "\n{\"type\":\"start\",\"id\":2}\n"),
		    0);
		ck_assert_msg(s.n == 2, "case %zu: %zu calls", i, s.n);
		ck_assert_msg(s.ev[0].bad, "case %zu accepted", i);
		ck_assert_msg(strcmp(s.ev[0].code, PROTO_E_MALFORMED) == 0,
		    "case %zu: %s (%s)", i, s.ev[0].code, s.ev[0].detail);
		ck_assert_uint_eq(s.ev[0].re, 0);
		ck_assert(s.ev[0].answer);
		ck_assert_int_eq(s.ev[0].btype, -1);
		ck_assert_msg(cases[i].says == NULL || strstr(s.ev[0].detail,
		    cases[i].says) != NULL, "case %zu: `%s` lacks `%s`", i,
		    s.ev[0].detail, cases[i].says);
		/* The next line is read as if nothing had happened. */
		ck_assert(!s.ev[1].bad);
		ck_assert_uint_eq(s.ev[1].id, 2);
		ck_assert_uint_eq(r.stats.malformed, 1);
		ck_assert_uint_eq(r.stats.messages, 1);
		sink_free(&s);
		proto_reader_free(&r);
	}

	/* Not over-strict: UTF-8 of every length, escapes, extra members. */
	json_decref(expect_msg(AGENT, "{\"type\":\"start\",\"id\":1,\"note\":"
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5 \\u00e9\\ud83d\\udd25\","
	    "\"future\":{\"x\":[1,2]}}", PROTO_START));
	json_decref(expect_msg(AGENT, " {\"type\" : \"start\" , \"id\" : 1} \t",
	    PROTO_START));
}
END_TEST

START_TEST(truncated_pending)
{
	struct proto_reader	 r;
	struct sink		 s = { 0 };
	const char		*part = "{\"type\":\"start\",\"id\":1";

	proto_reader_init(&r, AGENT);
	ck_assert_int_eq(feed(&r, &s, part), 0);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_uint_eq(proto_reader_buffered(&r), strlen(part));
	ck_assert_int_eq(feed(&r, &s, "}\r"), 0);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_int_eq(feed(&r, &s, "\n"), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert(!s.ev[0].bad);
	ck_assert_uint_eq(proto_reader_buffered(&r), 0);
	sink_free(&s);

	/* A new connection must not glue its first line to the old half. */
	ck_assert_int_eq(feed(&r, &s, "{\"type\":\"start\""), 0);
	proto_reader_reset(&r);
	ck_assert_uint_eq(proto_reader_buffered(&r), 0);
	ck_assert_int_eq(feed(&r, &s, "{\"type\":\"stop\",\"id\":9}\n"), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert(!s.ev[0].bad);
	ck_assert_int_eq(s.ev[0].type, PROTO_STOP);
	ck_assert_uint_eq(r.stats.messages, 2);		/* reset keeps stats */
	sink_free(&s);

	/* Freed with a half line in it: the leak checker is watching. */
	ck_assert_int_eq(feed(&r, &s, part), 0);
	proto_reader_free(&r);
	proto_reader_free(NULL);
}
END_TEST

/* A valid start line of exactly n bytes before its newline, plus the newline. */
static char *
padded_line(size_t n)
{
	const char	*head = "{\"type\":\"start\",\"id\":1,\"pad\":\"";
	size_t		 h = strlen(head);
	char		*line;

	ck_assert_uint_gt(n, h + 2);
	line = malloc(n + 2);
	memcpy(line, head, h);
	memset(line + h, 'x', n - h - 2);
	memcpy(line + n - 2, "\"}\n", 4);
	return line;
}

START_TEST(line_limit)
{
	struct proto_reader	 r;
	struct sink		 s = { 0 };
	char			*line;
	const char		*next = "{\"type\":\"stop\",\"id\":2}\n";
	size_t			 sizes[] = { 1, 1000, 4096, PROTO_MAX_LINE + 10 };
	size_t			 k, i, n, len;

	/* Exactly the limit is a line. */
	line = padded_line(PROTO_MAX_LINE);
	proto_reader_init(&r, AGENT);
	ck_assert_int_eq(feed_n(&r, &s, line, PROTO_MAX_LINE + 1), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_msg(!s.ev[0].bad, "%s", s.ev[0].detail);
	ck_assert_uint_le(r.cap, PROTO_MAX_LINE);
	sink_free(&s);
	proto_reader_free(&r);
	/* A '\r' before the '\n' counts towards it. */
	line[PROTO_MAX_LINE] = '\r';
	proto_reader_init(&r, AGENT);
	ck_assert_int_eq(feed_n(&r, &s, line, PROTO_MAX_LINE + 1), 0);
	ck_assert_int_eq(feed(&r, &s, "\n"), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.ev[0].code, PROTO_E_OVERSIZED);
	sink_free(&s);
	proto_reader_free(&r);
	free(line);

	/* One byte more is reported once, in reads of any size. */
	line = padded_line(PROTO_MAX_LINE + 1);
	len = PROTO_MAX_LINE + 2;
	for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		proto_reader_init(&r, AGENT);
		for (i = 0; i < len; i += n) {
			n = len - i < sizes[k] ? len - i : sizes[k];
			ck_assert_int_eq(feed_n(&r, &s, line + i, n), 0);
			ck_assert_uint_le(r.cap, PROTO_MAX_LINE);
		}
		ck_assert_int_eq(feed(&r, &s, next), 0);
		ck_assert_msg(s.n == 2, "reads of %zu: %zu calls", sizes[k], s.n);
		ck_assert(s.ev[0].bad);
		ck_assert_str_eq(s.ev[0].code, PROTO_E_OVERSIZED);
		ck_assert_uint_eq(s.ev[0].re, 0);
		ck_assert(s.ev[0].answer);
		ck_assert(!s.ev[1].bad);
		ck_assert_int_eq(s.ev[1].type, PROTO_STOP);
		ck_assert_uint_eq(r.stats.oversized, 1);
		ck_assert_uint_eq(r.stats.lines, 2);
		ck_assert_uint_eq(r.stats.malformed, 0);
		sink_free(&s);
		proto_reader_free(&r);
	}
	free(line);
}
END_TEST

START_TEST(memory_bounded)
{
	struct proto_reader	 r;
	struct sink		 s = { 0 };
	char			*junk, *line;
	size_t			 i, chunk = 64 * 1024, total = 3 * 1024 * 1024;

	/* Megabytes with no newline: one report, and nothing kept. */
	junk = malloc(chunk);
	memset(junk, 'x', chunk);
	proto_reader_init(&r, DAEMON);
	for (i = 0; i < total; i += chunk) {
		ck_assert_int_eq(feed_n(&r, &s, junk, chunk), 0);
		ck_assert_uint_le(r.cap, PROTO_MAX_LINE + SMALL);
		ck_assert_uint_le(proto_reader_buffered(&r), PROTO_MAX_LINE);
	}
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.ev[0].code, PROTO_E_OVERSIZED);
	ck_assert_uint_eq(proto_reader_buffered(&r), 0);
	ck_assert_int_eq(feed(&r, &s, "\n{\"type\":\"heartbeat\",\"seq\":1,"
	    "\"uptime_ms\":2,\"state\":\"idle\"}\n"), 0);
	ck_assert_uint_eq(s.n, 2);
	ck_assert(!s.ev[1].bad);
	sink_free(&s);

	/* One long line must not pin its buffer for the connection's life. */
	line = padded_line(200 * 1024);
	proto_reader_free(&r);
	proto_reader_init(&r, AGENT);
	for (i = 0; i < 200 * 1024 + 1; i += 1024)
		ck_assert_int_eq(feed_n(&r, &s, line + i, i + 1024 > 200 * 1024 +
		    1 ? 200 * 1024 + 1 - i : 1024), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert(!s.ev[0].bad);
	ck_assert_uint_le(r.cap, 64 * 1024);
	sink_free(&s);
	proto_reader_free(&r);
	free(line);
	free(junk);
}
END_TEST

START_TEST(unknown_type)
{
	struct proto_reader	r;
	struct sink		s = { 0 };
	char			line[256];

	BAD(DAEMON, "{\"type\":\"frobnicate\",\"id\":7}", PROTO_E_UNKNOWN_TYPE,
	    NULL, 7);
	BAD(AGENT, "{\"type\":\"frobnicate\",\"id\":-7}", PROTO_E_UNKNOWN_TYPE,
	    NULL, 0);
	BAD(AGENT, "{\"type\":\"frobnicate\"}", PROTO_E_UNKNOWN_TYPE, NULL, 0);
	BAD(AGENT, "{\"type\":\"\",\"id\":1}", PROTO_E_UNKNOWN_TYPE, NULL, 1);
	BAD(AGENT, "{\"type\":\"START\",\"id\":1}", PROTO_E_UNKNOWN_TYPE, NULL, 1);

	/* The name is quoted, cut short and made printable. */
	snprintf(line, sizeof line, "{\"type\":\"%s\\n\\u0007%s\",\"id\":3}\n",
	    "a-very-long-type-name-from-the-futur\xc3\xa9", "-version-seven-or-so-"
	    "0123456789012345678901234567890123456789");
	proto_reader_init(&r, AGENT);
	ck_assert_int_eq(feed(&r, &s, line), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.ev[0].code, PROTO_E_UNKNOWN_TYPE);
	ck_assert_ptr_nonnull(strstr(s.ev[0].detail, "a-very-long-type-name-"
	    "from-the-futur????\"..."));
	ck_assert_ptr_null(strstr(s.ev[0].detail, "0123456789"));
	ck_assert_uint_eq(s.ev[0].re, 3);
	ck_assert(s.ev[0].answer);
	ck_assert_uint_eq(r.stats.unknown, 1);
	sink_free(&s);
	proto_reader_free(&r);
}
END_TEST

START_TEST(bad_fields)
{
	/* Missing, ill-typed or out of range, each named, the id echoed. */
	BAD(DAEMON, "{\"type\":\"report\",\"id\":4,\"interval_ms\":5,"
	    "\"counters\":{},\"latency\":{}}", PROTO_E_BAD_FIELD, "seq", 4);
	BAD(DAEMON, "{\"type\":\"report\",\"id\":4,\"seq\":\"3\",\"interval_ms\":5,"
	    "\"counters\":{},\"latency\":{}}", PROTO_E_BAD_FIELD, "seq", 4);
	BAD(DAEMON, "{\"type\":\"report\",\"id\":4,\"seq\":3,\"interval_ms\":5,"
	    "\"counters\":[],\"latency\":{}}", PROTO_E_BAD_FIELD, "counters", 4);
	BAD(DAEMON, "{\"type\":\"hello\",\"id\":1,\"version\":1,\"token\":\"t\","
	    "\"agent\":\"a\",\"hostname\":5,\"boot_id\":\"b\",\"pid\":1,"
	    "\"resumed\":false,\"outbox\":0}", PROTO_E_BAD_FIELD, "hostname", 1);
	BAD(DAEMON, "{\"type\":\"hello\",\"id\":1,\"version\":1,\"token\":\"t\","
	    "\"agent\":\"a\",\"hostname\":\"h\",\"boot_id\":\"b\",\"pid\":1,"
	    "\"resumed\":1,\"outbox\":0}", PROTO_E_BAD_FIELD, "resumed", 1);
	BAD(DAEMON, "{\"type\":\"hello\",\"id\":1,\"version\":1,\"token\":\"t\","
	    "\"agent\":\"a\",\"hostname\":\"h\",\"boot_id\":\"b\",\"pid\":1,"
	    "\"resumed\":true}", PROTO_E_BAD_FIELD, "outbox", 1);
	BAD(DAEMON, "{\"type\":\"heartbeat\",\"seq\":-1,\"uptime_ms\":1,"
	    "\"state\":\"x\"}", PROTO_E_BAD_FIELD, "seq", 0);
	BAD(DAEMON, "{\"type\":\"heartbeat\",\"seq\":1,\"uptime_ms\":1,"
	    "\"state\":null}", PROTO_E_BAD_FIELD, "state", 0);
	BAD(DAEMON, "{\"type\":\"finding\",\"id\":6,\"kind\":\"hang\",\"title\":"
	    "\"t\",\"time_ns\":1.5}", PROTO_E_BAD_FIELD, "time_ns", 6);
	BAD(DAEMON, "{\"type\":\"finding\",\"id\":6,\"kind\":\"hang\",\"title\":"
	    "\"t\",\"time_ns\":1,\"detail\":\"x\"}", PROTO_E_BAD_FIELD, "detail", 6);
	BAD(DAEMON, "{\"type\":\"topology\",\"id\":6,\"time_ns\":1,\"cpus\":{}}",
	    PROTO_E_BAD_FIELD, "memory", 6);
	BAD(AGENT, "{\"type\":\"configure\",\"id\":2,\"heartbeat_ms\":1,"
	    "\"report_ms\":1,\"online\":true}", PROTO_E_BAD_FIELD, "workload", 2);
	BAD(AGENT, "{\"type\":\"configure\",\"id\":2,\"workload\":{},"
	    "\"memory\":null,\"heartbeat_ms\":1,\"report_ms\":1,\"online\":true}",
	    PROTO_E_BAD_FIELD, "memory", 2);
	BAD(AGENT, "{\"type\":\"online\",\"id\":8,\"cpus\":true,\"memory\":true,"
	    "\"memory_state\":\"offline\"}", PROTO_E_BAD_FIELD, "memory_state", 8);
	BAD(AGENT, "{\"type\":\"quiesce\",\"id\":5,\"timeout_ms\":1e3}",
	    PROTO_E_BAD_FIELD, "timeout_ms", 5);
	BAD(AGENT, "{\"type\":\"pseudo_s4\",\"id\":5,\"timeout_ms\":1}",
	    PROTO_E_BAD_FIELD, "level", 5);
	/* crash knows one method; a daemon cannot ask for another by mistake. */
	BAD(AGENT, "{\"type\":\"crash\",\"id\":12}", PROTO_E_BAD_FIELD,
	    "method", 12);
	BAD(AGENT, "{\"type\":\"crash\",\"id\":12,\"method\":\"SYSRQ\"}",
	    PROTO_E_BAD_FIELD, "method", 12);
	BAD(AGENT, "{\"type\":\"crash\",\"id\":12,\"method\":true}",
	    PROTO_E_BAD_FIELD, "method", 12);
	/* add_target: a serial to look for, a size and a deadline, all required. */
	BAD(AGENT, "{\"type\":\"add_target\",\"id\":13,\"size\":4096,"
	    "\"within_ms\":1}", PROTO_E_BAD_FIELD, "serial", 13);
	BAD(AGENT, "{\"type\":\"add_target\",\"id\":13,\"serial\":7,"
	    "\"size\":4096,\"within_ms\":1}", PROTO_E_BAD_FIELD, "serial", 13);
	BAD(AGENT, "{\"type\":\"add_target\",\"id\":13,\"serial\":\"s\","
	    "\"size\":-4096,\"within_ms\":1}", PROTO_E_BAD_FIELD, "size", 13);
	BAD(AGENT, "{\"type\":\"add_target\",\"id\":13,\"serial\":\"s\","
	    "\"size\":4096}", PROTO_E_BAD_FIELD, "within_ms", 13);
	BAD(AGENT, "{\"id\":3}", PROTO_E_BAD_FIELD, "type", 3);
	BAD(AGENT, "{\"type\":5,\"id\":3}", PROTO_E_BAD_FIELD, "type", 3);
	BAD(AGENT, "{\"type\":[\"start\"],\"id\":3}", PROTO_E_BAD_FIELD, "type", 3);
	BAD(AGENT, "{\"type\":\"start\",\"id\":3,\"re\":2}", PROTO_E_BAD_FIELD,
	    "re", 3);
	BAD(AGENT, "{\"type\":\"reply\"}", PROTO_E_BAD_FIELD, "re", 0);
	BAD(AGENT, "{\"type\":\"reply\",\"re\":0}", PROTO_E_BAD_FIELD, "re", 0);
	BAD(AGENT, "{\"type\":\"reply\",\"re\":\"1\"}", PROTO_E_BAD_FIELD, "re", 0);
	BAD(AGENT, "{\"type\":\"reply\",\"re\":null}", PROTO_E_BAD_FIELD, "re", 0);
	BAD(AGENT, "{\"type\":\"error\",\"re\":1,\"detail\":\"d\"}",
	    PROTO_E_BAD_FIELD, "error", 0);
	BAD(AGENT, "{\"type\":\"error\",\"re\":1,\"error\":\"e\"}",
	    PROTO_E_BAD_FIELD, "detail", 0);

	/* Optional members may be left out; unknown ones are ignored. */
	json_decref(expect_msg(AGENT, "{\"type\":\"configure\",\"id\":2,"
	    "\"workload\":{},\"heartbeat_ms\":1,\"report_ms\":1,\"online\":false}",
	    PROTO_CONFIGURE));
	json_decref(expect_msg(AGENT, "{\"type\":\"online\",\"id\":8,\"cpus\":"
	    "true,\"memory\":false}", PROTO_ONLINE));
	json_decref(expect_msg(AGENT, "{\"type\":\"online\",\"id\":8,\"cpus\":"
	    "true,\"memory\":true,\"memory_state\":\"online\"}", PROTO_ONLINE));
	json_decref(expect_msg(DAEMON, "{\"type\":\"finding\",\"id\":6,\"kind\":"
	    "\"hang\",\"title\":\"t\",\"time_ns\":0}", PROTO_FINDING));
	json_decref(expect_msg(AGENT, "{\"type\":\"start\",\"id\":1,\"at\":\"now\","
	    "\"v2\":{\"x\":null}}", PROTO_START));
}
END_TEST

START_TEST(answers_are_not_answered)
{
	struct proto_reader	r;
	struct sink		s = { 0 };

	proto_reader_init(&r, DAEMON);
	ck_assert_int_eq(feed(&r, &s,
	    "{\"type\":\"reply\",\"re\":-1}\n"
	    "{\"type\":\"error\",\"re\":2}\n"
	    "{\"type\":\"report\",\"id\":3}\n"
	    "{\"type\":\"heartbeat\"}\n"), 0);
	ck_assert_uint_eq(s.n, 4);
	ck_assert(!s.ev[0].answer);
	ck_assert_int_eq(s.ev[0].btype, PROTO_REPLY);
	ck_assert(!s.ev[1].answer);
	ck_assert_int_eq(s.ev[1].btype, PROTO_ERROR);
	ck_assert(s.ev[2].answer);
	ck_assert_int_eq(s.ev[2].btype, PROTO_REPORT);
	ck_assert_uint_eq(s.ev[2].re, 3);
	ck_assert(s.ev[3].answer);
	sink_free(&s);
	proto_reader_free(&r);
}
END_TEST

START_TEST(wrong_direction)
{
	struct proto_reader	r;
	struct sink		s = { 0 };

	BAD(AGENT, "{\"type\":\"heartbeat\",\"seq\":1,\"uptime_ms\":2,"
	    "\"state\":\"running\"}", PROTO_E_WRONG_DIRECTION, NULL, 0);
	BAD(AGENT, "{\"type\":\"report\",\"id\":5,\"seq\":1,\"interval_ms\":5,"
	    "\"counters\":{},\"latency\":{}}", PROTO_E_WRONG_DIRECTION, NULL, 5);
	BAD(AGENT, "{\"type\":\"hello\",\"id\":1}", PROTO_E_WRONG_DIRECTION,
	    NULL, 1);
	BAD(DAEMON, "{\"type\":\"start\",\"id\":3}", PROTO_E_WRONG_DIRECTION,
	    NULL, 3);
	BAD(DAEMON, "{\"type\":\"crash\",\"id\":3,\"method\":\"sysrq\"}",
	    PROTO_E_WRONG_DIRECTION, NULL, 3);
	BAD(DAEMON, "{\"type\":\"add_target\",\"id\":3,\"serial\":\"s\","
	    "\"size\":4096,\"within_ms\":1}", PROTO_E_WRONG_DIRECTION, NULL, 3);
	/* Direction first: its fields do not matter to a side that never reads it. */
	BAD(DAEMON, "{\"type\":\"configure\",\"id\":3}", PROTO_E_WRONG_DIRECTION,
	    NULL, 3);

	proto_reader_init(&r, AGENT);
	ck_assert_int_eq(feed(&r, &s, "{\"type\":\"get_topology\",\"id\":1}\n"
	    "{\"type\":\"topology\",\"id\":1,\"time_ns\":1,\"cpus\":{},"
	    "\"memory\":{}}\n"), 0);
	ck_assert_uint_eq(s.n, 2);
	ck_assert(!s.ev[0].bad);
	ck_assert_str_eq(s.ev[1].code, PROTO_E_WRONG_DIRECTION);
	ck_assert_int_eq(s.ev[1].btype, PROTO_TOPOLOGY);
	ck_assert_uint_eq(r.stats.wrong_direction, 1);
	sink_free(&s);
	proto_reader_free(&r);
}
END_TEST

START_TEST(ids)
{
	static const char *const refused[] = {
		"0", "-1", "9007199254740992", "9223372036854775807", "1.0",
		"1e0", "\"1\"", "true", "null", "[1]", "{}",
	};
	char			 line[128];
	size_t			 i;
	json_t			*obj;
	struct proto_reader	 r;
	struct sink		 s = { 0 };

	for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		snprintf(line, sizeof line, "{\"type\":\"start\",\"id\":%s}",
		    refused[i]);
		BAD(AGENT, line, PROTO_E_BAD_FIELD, "id", 0);
		snprintf(line, sizeof line, "{\"type\":\"reply\",\"re\":%s}",
		    refused[i]);
		BAD(AGENT, line, PROTO_E_BAD_FIELD, "re", 0);
	}
	BAD(AGENT, "{\"type\":\"start\"}", PROTO_E_BAD_FIELD, "id", 0);

	proto_reader_init(&r, AGENT);
	ck_assert_int_eq(feed(&r, &s,
	    "{\"type\":\"start\",\"id\":1}\n"
	    "{\"type\":\"start\",\"id\":9007199254740991}\n"
	    "{\"type\":\"reply\",\"re\":9007199254740991}\n"
	    "{\"type\":\"error\",\"re\":null,\"error\":\"busy\",\"detail\":\"\"}\n"
	    "{\"type\":\"error\",\"re\":5,\"error\":\"busy\",\"detail\":\"\"}\n"),
	    0);
	ck_assert_uint_eq(s.n, 5);
	ck_assert_uint_eq(s.ev[0].id, 1);
	ck_assert_uint_eq(s.ev[1].id, PROTO_MAX_ID);
	ck_assert_uint_eq(s.ev[2].re, PROTO_MAX_ID);
	ck_assert(s.ev[2].has_re);
	ck_assert_uint_eq(s.ev[2].id, 0);
	ck_assert(!s.ev[3].bad);
	ck_assert(!s.ev[3].has_re);
	ck_assert_uint_eq(s.ev[3].re, 0);
	ck_assert(s.ev[4].has_re);
	ck_assert_uint_eq(s.ev[4].re, 5);
	sink_free(&s);
	proto_reader_free(&r);

	/* Ids are exact integers, even ones a double barely holds. */
	obj = expect_msg(DAEMON, "{\"type\":\"report\",\"id\":9007199254740991,"
	    "\"seq\":0,\"interval_ms\":0,\"counters\":{},\"latency\":{}}",
	    PROTO_REPORT);
	json_decref(obj);
}
END_TEST

START_TEST(notification_with_id)
{
	/* Refused, with the id echoed, so a confused sender stops waiting. */
	BAD(DAEMON, "{\"type\":\"heartbeat\",\"id\":5,\"seq\":1,\"uptime_ms\":2,"
	    "\"state\":\"running\"}", PROTO_E_BAD_FIELD, "id", 5);
	BAD(DAEMON, "{\"type\":\"heartbeat\",\"id\":0,\"seq\":1,\"uptime_ms\":2,"
	    "\"state\":\"running\"}", PROTO_E_BAD_FIELD, "id", 0);
	BAD(DAEMON, "{\"type\":\"heartbeat\",\"re\":5,\"seq\":1,\"uptime_ms\":2,"
	    "\"state\":\"running\"}", PROTO_E_BAD_FIELD, "re", 0);
	BAD(AGENT, "{\"type\":\"reply\",\"id\":4,\"re\":3}", PROTO_E_BAD_FIELD,
	    "id", 4);
}
END_TEST

START_TEST(counters)
{
	struct proto_reader	 r;
	struct sink		 s = { 0 };
	char			*big;

	big = malloc(PROTO_MAX_LINE + 2);
	memset(big, 'y', PROTO_MAX_LINE + 1);
	big[PROTO_MAX_LINE + 1] = '\n';
	proto_reader_init(&r, DAEMON);
	ck_assert_int_eq(feed(&r, &s,
	    "{\"type\":\"heartbeat\",\"seq\":1,\"uptime_ms\":2,\"state\":\"x\"}\n"
	    "{\"type\":\"report\",\"id\":1,\"seq\":1,\"interval_ms\":5,"
	    "\"counters\":{},\"latency\":{}}\n"
	    "garbage\n"
	    "\n"), 0);
	ck_assert_int_eq(feed_n(&r, &s, big, PROTO_MAX_LINE + 2), 0);
	ck_assert_int_eq(feed(&r, &s,
	    "{\"type\":\"gossip\",\"id\":2}\n"
	    "{\"type\":\"report\",\"id\":3}\n"
	    "{\"type\":\"configure\",\"id\":4}\r\n"
	    "\r\n"
	    "{\"type\":\"heartbeat\",\"seq\":2,\"uptime_ms\":3,\"state\":\"x\"}"),
	    0);
	ck_assert_uint_eq(r.stats.lines, 9);
	ck_assert_uint_eq(r.stats.messages, 2);
	ck_assert_uint_eq(r.stats.malformed, 1);
	ck_assert_uint_eq(r.stats.oversized, 1);
	ck_assert_uint_eq(r.stats.unknown, 1);
	ck_assert_uint_eq(r.stats.bad_field, 1);
	ck_assert_uint_eq(r.stats.wrong_direction, 1);
	ck_assert_uint_eq(s.n, 7);
	ck_assert_int_eq(feed(&r, &s, "\n"), 0);
	ck_assert_uint_eq(r.stats.messages, 3);
	ck_assert_uint_eq(r.stats.lines, 10);
	sink_free(&s);
	proto_reader_free(&r);
	free(big);
}
END_TEST

START_TEST(handler_stops)
{
	struct proto_reader	*r;
	struct sink		 s = { 0 };
	const char		*three = "{\"type\":\"start\",\"id\":1}\n"
				    "nonsense\n"
				    "{\"type\":\"stop\",\"id\":2}\n"
				    "{\"type\":\"res";

	/* Stopping at the first: nothing after it is read. */
	r = malloc(sizeof *r);
	proto_reader_init(r, AGENT);
	s.stop_at = 1;
	ck_assert_int_eq(feed(r, &s, three), 1);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(r->stats.messages, 1);
	ck_assert_uint_eq(r->stats.malformed, 0);
	sink_free(&s);

	/* A handler may free the reader (hang up) from inside, on a bad line too. */
	s.stop_at = 2;
	s.free_me = r;
	ck_assert_int_eq(feed(r, &s, three), 1);
	ck_assert_uint_eq(s.n, 2);
	ck_assert(s.ev[1].bad);
	ck_assert_ptr_null(s.free_me);
	sink_free(&s);

	/* The same when the line was gathered over several reads. */
	r = malloc(sizeof *r);
	proto_reader_init(r, AGENT);
	s.stop_at = 1;
	s.free_me = r;
	ck_assert_int_eq(feed(r, &s, "{\"type\":\"st"), 0);
	ck_assert_int_eq(feed(r, &s, "op\",\"id\":1}\n{\"type\":\"start\","
	    "\"id\":2}\n"), 1);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_ptr_null(s.free_me);
	sink_free(&s);

	/* And on an oversized line. */
	{
		char	*big = malloc(PROTO_MAX_LINE + 100);

		memset(big, 'z', PROTO_MAX_LINE + 100);
		r = malloc(sizeof *r);
		proto_reader_init(r, AGENT);
		s.stop_at = 1;
		s.free_me = r;
		ck_assert_int_eq(feed_n(r, &s, big, PROTO_MAX_LINE + 100), 1);
		ck_assert_ptr_null(s.free_me);
		ck_assert_str_eq(s.ev[0].code, PROTO_E_OVERSIZED);
		sink_free(&s);
		free(big);
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("proto");
	TCase	*tc = tcase_create("proto");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, type_table);
	tcase_add_test(tc, round_trip_every_type);
	tcase_add_test(tc, encode_exact);
	tcase_add_test(tc, encode_refused);
	tcase_add_test(tc, encode_error_detail);
	tcase_add_test(tc, byte_by_byte);
	tcase_add_test(tc, split_everywhere);
	tcase_add_test(tc, several_in_one_buffer);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, truncated_pending);
	tcase_add_test(tc, line_limit);
	tcase_add_test(tc, memory_bounded);
	tcase_add_test(tc, unknown_type);
	tcase_add_test(tc, bad_fields);
	tcase_add_test(tc, answers_are_not_answered);
	tcase_add_test(tc, wrong_direction);
	tcase_add_test(tc, ids);
	tcase_add_test(tc, notification_with_id);
	tcase_add_test(tc, counters);
	tcase_add_test(tc, handler_stops);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
