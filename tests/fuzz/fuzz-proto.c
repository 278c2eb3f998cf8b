/* fuzz-proto.c: libFuzzer target for the agent protocol reader: any bytes,
 * split anywhere, read by both sides; one handler call per line, bounded
 * memory, and every message it accepts re-encodes to one that reads the same. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: a flags byte, two seed bytes, then the stream.
 *   flags & 0x11 == 0x11
 *		insert a run of 'x' near PROTO_MAX_LINE long (flags >> 5 says
 *		how near), to reach the limit: libFuzzer inputs are small, and
 *		this is slow, so one input in four
 *   flags & 2	feed in reads of up to 64 KiB, else of 1 to 16 bytes (1 to
 *		4096 with the run, which is slow enough as it is)
 *   flags & 4	a handler stops the reader after a few calls ...
 *   flags & 8	... and frees it from inside the call
 */
struct side {
	struct proto_reader	*r;
	enum proto_side		 side;
	size_t			 calls;
	size_t			 stop_at;	/* 0: never */
	bool			 free_inside;
};

static const char *const codes[] = { PROTO_E_MALFORMED, PROTO_E_OVERSIZED,
    PROTO_E_UNKNOWN_TYPE, PROTO_E_BAD_FIELD, PROTO_E_WRONG_DIRECTION };

/* What the reader owes: one call per non-empty line, one per oversized. */
static size_t
expected_calls(const uint8_t *p, size_t n)
{
	size_t	calls = 0, cur = 0, content, i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (cur <= PROTO_MAX_LINE) {
				content = cur;
				if (content > 0 && p[i - 1] == '\r')
					content--;
				if (content > 0)
					calls++;
			}
			cur = 0;
		} else if (++cur == PROTO_MAX_LINE + 1)
			calls++;
	}
	return calls;
}

struct echo {
	const struct proto_msg	*want;
	size_t			 calls;
};

static int
echo_msg(void *arg, const struct proto_msg *m)
{
	struct echo	*e = arg;

	e->calls++;
	if (m->type != e->want->type || m->id != e->want->id ||
	    m->re != e->want->re || m->has_re != e->want->has_re)
		abort();
	if (!json_equal(m->obj, e->want->obj))
		abort();
	return 0;
}

static int
echo_bad(void *arg, const struct proto_bad *b)
{
	abort();
}

static const struct proto_handler echo_handler = { echo_msg, echo_bad };

/* What the reader accepted, the encoder must produce and the reader read back. */
static void
reencode(enum proto_side side, const struct proto_msg *m)
{
	struct proto_reader	 r;
	struct echo		 e = { m, 0 };
	json_t			*fields;
	char			*line;
	size_t			 len;

	if ((fields = json_copy(m->obj)) == NULL)
		abort();
	json_object_del(fields, "type");
	json_object_del(fields, "id");
	json_object_del(fields, "re");
	errno = 0;
	if ((line = proto_encode(m->type, m->id, m->re, fields, &len)) == NULL) {
		/* Only size may differ: 1e-5 comes back as 1.0000000000000001e-05. */
		if (errno != EMSGSIZE)
			abort();
		return;
	}
	if (len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
		abort();
	proto_reader_init(&r, side);
	if (proto_reader_feed(&r, line, len, &echo_handler, &e) != 0 ||
	    e.calls != 1 || proto_reader_buffered(&r) != 0)
		abort();
	proto_reader_free(&r);
	free(line);
}

static int
side_stop(struct side *s)
{
	if (s->stop_at == 0 || s->calls < s->stop_at)
		return 0;
	if (s->free_inside) {
		proto_reader_free(s->r);
		free(s->r);
		s->r = NULL;
	}
	return 1;
}

static int
on_msg(void *arg, const struct proto_msg *m)
{
	struct side			*s = arg;
	const struct proto_type_entry	*e;

	s->calls++;
	if ((unsigned)m->type >= PROTO_TYPE_COUNT || m->obj == NULL)
		abort();
	e = &proto_types[m->type];
	if ((e->to & (1U << s->side)) == 0)
		abort();
	if (e->request ? (m->id < 1 || m->id > PROTO_MAX_ID) : m->id != 0)
		abort();
	if (m->has_re ? (m->re < 1 || m->re > PROTO_MAX_ID) : m->re != 0)
		abort();
	if (m->has_re && m->type != PROTO_REPLY && m->type != PROTO_ERROR)
		abort();
	if (m->type == PROTO_REPLY && !m->has_re)
		abort();
	reencode(s->side, m);
	return side_stop(s);
}

static int
on_bad(void *arg, const struct proto_bad *b)
{
	struct side	*s = arg;
	const char	*p;
	size_t		 i;
	bool		 known = false;

	s->calls++;
	for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
		known |= strcmp(b->code, codes[i]) == 0;
	if (!known || b->detail == NULL || strlen(b->detail) >= 256)
		abort();
	for (p = b->detail; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e)
			abort();
	}
	if ((b->field != NULL) != (strcmp(b->code, PROTO_E_BAD_FIELD) == 0))
		abort();
	if (b->re > PROTO_MAX_ID || b->type < -1 || b->type >= PROTO_TYPE_COUNT)
		abort();
	if (!b->answer && b->type != PROTO_REPLY && b->type != PROTO_ERROR)
		abort();
	return side_stop(s);
}

static const struct proto_handler handler = { on_msg, on_bad };

static uint32_t
next(uint32_t *x)
{
	/* xorshift32: splits that replay from the input alone. */
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void
run_side(enum proto_side side, const uint8_t *p, size_t n, uint8_t flags,
    size_t run, uint32_t seed)
{
	struct side	s = { 0 };
	size_t		i, chunk, max;
	int		rv;

	max = (flags & 2) ? 65536 : run ? 4096 : 16;
	s.side = side;
	if ((s.r = malloc(sizeof *s.r)) == NULL)
		return;
	proto_reader_init(s.r, side);
	if (flags & 4) {
		s.stop_at = 1 + seed % 4;
		s.free_inside = (flags & 8) != 0;
	}
	for (i = 0; i < n; i += chunk) {
		chunk = 1 + next(&seed) % max;
		if (chunk > n - i)
			chunk = n - i;
		rv = proto_reader_feed(s.r, p + i, chunk, &handler, &s);
		if (rv == 1) {
			if (s.stop_at == 0 || s.calls != s.stop_at)
				abort();
			break;
		}
		if (rv != 0)
			abort();
		if (s.r->cap > PROTO_MAX_LINE || s.r->len > s.r->cap)
			abort();
	}
	if (s.stop_at == 0 || s.calls < s.stop_at) {
		if (s.calls != expected_calls(p, n))
			abort();
		if (s.r->stats.messages + s.r->stats.malformed +
		    s.r->stats.oversized + s.r->stats.unknown +
		    s.r->stats.bad_field + s.r->stats.wrong_direction != s.calls)
			abort();
	}
	proto_reader_free(s.r);
	free(s.r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		*stream;
	size_t		 n, at, run = 0;
	uint32_t	 seed;
	uint8_t		 flags;

	if (size < 3)
		return 0;
	flags = data[0];
	seed = (uint32_t)data[1] << 8 | data[2] | 1U << 16;
	data += 3;
	size -= 3;
	if ((flags & 0x11) == 0x11)
		run = PROTO_MAX_LINE - 256 + (size_t)(flags >> 5) * 64;
	if ((stream = malloc(size + run + 1)) == NULL)
		return 0;
	at = size ? seed % (size + 1) : 0;
	memcpy(stream, data, at);
	memset(stream + at, 'x', run);
	memcpy(stream + at + run, data + at, size - at);
	n = size + run;

	run_side(PROTO_SIDE_AGENT, stream, n, flags, run, seed);
	run_side(PROTO_SIDE_DAEMON, stream, n, flags, run, seed * 2654435761U);
	free(stream);
	return 0;
}
