/* check-stamp.c: the block format on disk, byte by byte, and what stamp_check
 * and stamp_check_alone make of every way a disk can mangle a block. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/stamp.h"

#define RUN		0x5eed00005eed0001ULL
#define OTHER_RUN	0x0badc0de0badc0deULL
#define BS		4096
#define NSEC		(BS / STAMP_SECTOR)
#define OFF		(BS * 7ULL)
#define TIME0		1700000000000000000ULL

static uint64_t	rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A zeroed block of size bytes; the caller frees. */
static uint8_t *
block_new(size_t size)
{
	uint8_t	*p = malloc(size);

	ck_assert_ptr_nonnull(p);
	memset(p, 0, size);
	return p;
}

/* Generation gen of (run, off); writer, sequence and time follow from gen. */
static void
fill(uint8_t *p, size_t bs, uint64_t run, uint64_t off, uint64_t gen)
{
	struct stamp_id	id;

	memset(&id, 0, sizeof id);
	id.run_id = run;
	id.offset = off;
	id.generation = gen;
	id.writer = 3;
	id.sequence = gen * 10;
	id.timestamp_ns = TIME0 + gen;
	stamp_fill(p, bs, &id);
}

/* Sectors [from, NSEC) of p replaced by those of generation gen (0: zeros). */
static void
tear(uint8_t *p, size_t from, uint64_t gen)
{
	uint8_t	*q = block_new(BS);

	if (gen != 0)
		fill(q, BS, RUN, OFF, gen);
	memcpy(p + from * STAMP_SECTOR, q + from * STAMP_SECTOR,
	    (NSEC - from) * STAMP_SECTOR);
	free(q);
}

static void
flip(uint8_t *p, size_t byte, int bit)
{
	p[byte] ^= (uint8_t)(1U << bit);
}

static int
stamp_is_zero(const struct stamp *st)
{
	static const struct stamp	zero;

	return memcmp(st, &zero, sizeof zero) == 0;
}

/* One check's outcome; outputs are poisoned first so unset ones show. */
struct verdict {
	enum stamp_result	result;
	struct stamp		found;
	size_t			bad;
};

static struct verdict
judge_len(const uint8_t *p, size_t len, size_t bs, uint64_t off, uint64_t gen,
    uint64_t maybe)
{
	struct stamp_expect	e;
	struct verdict		v;

	memset(&e, 0, sizeof e);
	e.run_id = RUN;
	e.offset = off;
	e.block_size = bs;
	e.generation = gen;
	e.maybe_generation = maybe;
	memset(&v.found, 0xa5, sizeof v.found);
	v.bad = 9999;
	v.result = stamp_check(p, len, &e, &v.found, &v.bad);
	return v;
}

static struct verdict
judge(const uint8_t *p, uint64_t gen, uint64_t maybe)
{
	return judge_len(p, BS, BS, OFF, gen, maybe);
}

static struct verdict
alone_len(const uint8_t *p, size_t len, uint64_t off, uint64_t run)
{
	struct verdict	v;

	memset(&v.found, 0xa5, sizeof v.found);
	v.bad = 9999;
	v.result = stamp_check_alone(p, len, BS, off, run, &v.found, &v.bad);
	return v;
}

static struct verdict
alone(const uint8_t *p, uint64_t run)
{
	return alone_len(p, BS, OFF, run);
}

#define ck_result(v, want) do {						\
	struct verdict	v_ = (v);					\
	ck_assert_msg(v_.result == (want), "%s: got %s (sector %zu), want %s", \
	    #v, stamp_result_names[v_.result], v_.bad, stamp_result_names[want]); \
} while (0)

#define ck_verdict(v, want, sector) do {				\
	struct verdict	w_ = (v);					\
	ck_assert_msg(w_.result == (want) && w_.bad == (sector),	\
	    "%s: got %s at sector %zu, want %s at sector %zu", #v,	\
	    stamp_result_names[w_.result], w_.bad,			\
	    stamp_result_names[want], (size_t)(sector));		\
} while (0)

START_TEST(round_trip)
{
	static const size_t	 sizes[] = { 512, 4096, 65536 };
	struct verdict		 v;
	uint8_t			*p;
	size_t			 i, bs;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		bs = sizes[i];
		p = block_new(bs);
		fill(p, bs, RUN, bs * 11, 3);
		v = judge_len(p, bs, bs, bs * 11, 3, 3);
		ck_assert_msg(v.result == STAMP_OK, "%zu: %s", bs,
		    stamp_result_names[v.result]);
		ck_assert_uint_eq(v.bad, 0);
		ck_assert_uint_eq(v.found.magic, STAMP_MAGIC);
		ck_assert_uint_eq(v.found.version, STAMP_VERSION);
		ck_assert_uint_eq(v.found.header_size, STAMP_HEADER_SIZE);
		ck_assert_uint_eq(v.found.writer, 3);
		ck_assert_uint_eq(v.found.offset, bs * 11);
		ck_assert_uint_eq(v.found.run_id, RUN);
		ck_assert_uint_eq(v.found.generation, 3);
		ck_assert_uint_eq(v.found.sequence, 30);
		ck_assert_uint_eq(v.found.timestamp_ns, TIME0 + 3);
		ck_assert_uint_eq(v.found.payload_crc,
		    crc32c(0, p + STAMP_HEADER_SIZE, bs - STAMP_HEADER_SIZE));
		ck_assert_uint_eq(v.found.header_crc, crc32c(0, p, 60));
		v.result = stamp_check_alone(p, bs, bs, bs * 11, RUN, &v.found,
		    &v.bad);
		ck_assert_int_eq(v.result, STAMP_OK);
		ck_assert_uint_eq(v.found.generation, 3);
		v.result = stamp_check_alone(p, bs, bs, bs * 11, 0, &v.found,
		    &v.bad);
		ck_assert_int_eq(v.result, STAMP_OK);
		free(p);
	}
}
END_TEST

START_TEST(little_endian_layout)
{
	static const uint8_t	 want[56] = {
		'!', 'H', 'O', 'T', 'S', 'O', 'A', 'K',		/* magic */
		0x01, 0x00, 0x40, 0x00,				/* version, size */
		0xdd, 0xcc, 0xbb, 0xaa,				/* writer */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,	/* offset */
		0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,	/* run_id */
		0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21,	/* generation */
		0x38, 0x37, 0x36, 0x35, 0x34, 0x33, 0x32, 0x31,	/* sequence */
		0x48, 0x47, 0x46, 0x45, 0x44, 0x43, 0x42, 0x41,	/* timestamp */
	};
	struct stamp_id	 id;
	uint8_t		*p = block_new(BS);
	uint32_t	 pcrc, hcrc;
	size_t		 i;

	id.writer = 0xaabbccdd;
	id.offset = 0x0102030405060708ULL;
	id.run_id = 0x1112131415161718ULL;
	id.generation = 0x2122232425262728ULL;
	id.sequence = 0x3132333435363738ULL;
	id.timestamp_ns = 0x4142434445464748ULL;
	stamp_fill(p, BS, &id);
	for (i = 0; i < sizeof want; i++)
		ck_assert_msg(p[i] == want[i], "byte %zu is %02x, want %02x", i,
		    p[i], want[i]);
	pcrc = crc32c(0, p + 64, BS - 64);
	hcrc = crc32c(0, p, 60);
	for (i = 0; i < 4; i++) {
		ck_assert_uint_eq(p[56 + i], (pcrc >> (8 * i)) & 0xff);
		ck_assert_uint_eq(p[60 + i], (hcrc >> (8 * i)) & 0xff);
	}
	free(p);
}
END_TEST

/* Sector s of a and b differ (sector 0 past the stamp): writes tell apart. */
static int
sector_differs(const uint8_t *a, const uint8_t *b, size_t s)
{
	size_t	from = s == 0 ? STAMP_HEADER_SIZE : s * STAMP_SECTOR;

	return memcmp(a + from, b + from, (s + 1) * STAMP_SECTOR - from) != 0;
}

START_TEST(payload_is_pure)
{
	struct stamp_id	 id;
	uint8_t		*a = block_new(BS), *b = block_new(BS);
	size_t		 s;

	fill(a, BS, RUN, OFF, 5);
	/* Only (run, offset, generation) may shape the payload. */
	memset(&id, 0, sizeof id);
	id.run_id = RUN;
	id.offset = OFF;
	id.generation = 5;
	id.writer = 77;
	id.sequence = 123456;
	id.timestamp_ns = 42;
	stamp_fill(b, BS, &id);
	ck_assert_mem_eq(a + 64, b + 64, BS - 64);
	ck_assert_int_ne(memcmp(a, b, 64), 0);

	fill(b, BS, RUN, OFF, 6);
	for (s = 0; s < NSEC; s++)
		ck_assert_msg(sector_differs(a, b, s), "generation: sector %zu", s);
	fill(b, BS, RUN, OFF + BS, 5);
	for (s = 0; s < NSEC; s++)
		ck_assert_msg(sector_differs(a, b, s), "offset: sector %zu", s);
	fill(b, BS, OTHER_RUN, OFF, 5);
	for (s = 0; s < NSEC; s++)
		ck_assert_msg(sector_differs(a, b, s), "run: sector %zu", s);
	/* Not zero, no short period: no dedup or zero-fill can fake it. */
	ck_assert_int_ne(memcmp(a + 64, a + 64 + 8, BS - 64 - 8), 0);
	ck_assert_int_ne(memcmp(a + 64, a + 64 + 512, 512), 0);
	free(a);
	free(b);
}
END_TEST

START_TEST(payload_bit_flip)
{
	uint8_t		*p = block_new(BS);
	struct verdict	 v;
	size_t		 s;

	for (s = 0; s < NSEC; s++) {
		fill(p, BS, RUN, OFF, 3);
		flip(p, s * STAMP_SECTOR + 100 + s, (int)(s % 8));
		v = judge(p, 3, 3);
		ck_verdict(v, STAMP_BITROT, s);
		/* The stamp itself is intact and reported. */
		ck_assert_uint_eq(v.found.generation, 3);
		ck_verdict(alone(p, RUN), STAMP_BITROT, s);
	}
	fill(p, BS, RUN, OFF, 3);
	flip(p, BS - 1, 7);
	ck_verdict(judge(p, 3, 3), STAMP_BITROT, NSEC - 1);
	fill(p, BS, RUN, OFF, 3);
	flip(p, 64, 0);
	ck_verdict(judge(p, 3, 3), STAMP_BITROT, 0);
	ck_verdict(alone(p, 0), STAMP_BITROT, 0);

	fill(p, 512, RUN, 512, 1);
	flip(p, 511, 2);
	ck_verdict(judge_len(p, 512, 512, 512, 1, 1), STAMP_BITROT, 0);
	free(p);
}
END_TEST

START_TEST(header_bit_flip)
{
	/* magic, version, size, writer, offset, run, generation, sequence,
	 * time, both CRCs */
	static const size_t	 bytes[] = { 0, 7, 8, 10, 13, 20, 27, 33, 39,
				    45, 50, 57, 62 };
	uint8_t			*p = block_new(BS);
	struct verdict		 v;
	size_t			 i;
	int			 bit;

	for (i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
		bit = (int)(i % 8);
		fill(p, BS, RUN, OFF, 3);
		flip(p, bytes[i], bit);
		v = judge(p, 3, 3);
		ck_assert_msg(v.result == STAMP_BITROT && v.bad == 0,
		    "byte %zu: %s at %zu", bytes[i], stamp_result_names[v.result],
		    v.bad);
		ck_assert_msg(stamp_is_zero(&v.found), "byte %zu: found not zeroed",
		    bytes[i]);
		/* The unacknowledged write's block rots the same way. */
		v = judge(p, 2, 3);
		ck_assert_msg(v.result == STAMP_BITROT, "byte %zu (maybe): %s",
		    bytes[i], stamp_result_names[v.result]);
		v = alone(p, RUN);
		ck_assert_msg(v.result == STAMP_BITROT, "byte %zu alone: %s",
		    bytes[i], stamp_result_names[v.result]);
		v = alone(p, 0);
		ck_assert_msg(v.result == STAMP_BITROT, "byte %zu alone, any run: %s",
		    bytes[i], stamp_result_names[v.result]);
	}
	/* A block of one sector has no other sectors to vouch for it. */
	fill(p, 512, RUN, 512, 2);
	flip(p, 40, 3);
	ck_verdict(judge_len(p, 512, 512, 512, 2, 2), STAMP_BITROT, 0);
	/* A few bits more, across fields. */
	fill(p, BS, RUN, OFF, 3);
	flip(p, 1, 1);
	flip(p, 17, 4);
	flip(p, 26, 6);
	flip(p, 200, 3);
	ck_verdict(judge(p, 3, 3), STAMP_BITROT, 0);
	free(p);
}
END_TEST

START_TEST(zeroed_and_unwritten)
{
	uint8_t		*p = block_new(BS);
	struct verdict	 v;

	v = judge(p, 3, 3);
	ck_verdict(v, STAMP_ZEROED, 0);
	ck_assert(stamp_is_zero(&v.found));
	ck_verdict(judge(p, 1, 0), STAMP_ZEROED, 0);
	v = judge(p, 0, 0);
	ck_verdict(v, STAMP_UNWRITTEN, 0);
	ck_assert(stamp_is_zero(&v.found));
	/* An unacknowledged first write that never landed is no loss. */
	ck_verdict(judge(p, 0, 1), STAMP_UNWRITTEN, 0);
	ck_verdict(alone(p, RUN), STAMP_UNWRITTEN, 0);
	ck_verdict(alone(p, 0), STAMP_UNWRITTEN, 0);
	free(p);
}
END_TEST

START_TEST(misdirected)
{
	uint8_t		*p = block_new(BS);
	struct verdict	 v;

	/* The block written for offset X, read back at offset Y. */
	fill(p, BS, RUN, BS * 5, 3);
	v = judge_len(p, BS, BS, BS * 9, 3, 3);
	ck_verdict(v, STAMP_MISDIRECTED, 0);
	ck_assert_uint_eq(v.found.offset, BS * 5);
	ck_assert_uint_eq(v.found.generation, 3);
	/* Whatever generation Y expects. */
	ck_verdict(judge_len(p, BS, BS, BS * 9, 0, 0), STAMP_MISDIRECTED, 0);
	v = alone_len(p, BS, BS * 9, RUN);
	ck_verdict(v, STAMP_MISDIRECTED, 0);
	ck_assert_uint_eq(v.found.offset, BS * 5);
	ck_verdict(alone_len(p, BS, BS * 9, 0), STAMP_MISDIRECTED, 0);
	free(p);
}
END_TEST

START_TEST(stale)
{
	uint8_t		*p = block_new(BS);
	struct verdict	 v;

	fill(p, BS, RUN, OFF, 1);
	v = judge(p, 2, 2);
	ck_verdict(v, STAMP_STALE, 0);
	ck_assert_uint_eq(v.found.generation, 1);
	fill(p, BS, RUN, OFF, 2);
	ck_verdict(judge(p, 5, 0), STAMP_STALE, 0);
	/* Without history an old block is just a good block. */
	ck_verdict(alone(p, RUN), STAMP_OK, 0);
	free(p);
}
END_TEST

START_TEST(maybe_generation)
{
	uint8_t	*p = block_new(BS);

	/* The write in flight when the agent lost track landed... */
	fill(p, BS, RUN, OFF, 4);
	ck_verdict(judge(p, 3, 4), STAMP_OK, 0);
	/* ...or did not. */
	fill(p, BS, RUN, OFF, 3);
	ck_verdict(judge(p, 3, 4), STAMP_OK, 0);
	/* An earlier unacknowledged write in the same gap landed. */
	fill(p, BS, RUN, OFF, 4);
	ck_verdict(judge(p, 2, 5), STAMP_OK, 0);
	/* A timed-out write that landed after the acknowledged one. */
	fill(p, BS, RUN, OFF, 2);
	ck_verdict(judge(p, 3, 2), STAMP_OK, 0);
	/* The first write, never acknowledged, landed. */
	fill(p, BS, RUN, OFF, 1);
	ck_verdict(judge(p, 0, 1), STAMP_OK, 0);
	/* But not the one before the acknowledged one. */
	ck_verdict(judge(p, 2, 0), STAMP_STALE, 0);
	free(p);
}
END_TEST

START_TEST(never_issued)
{
	uint8_t		*p = block_new(BS);
	struct verdict	 v;

	/* Valid CRCs, our run and offset, but a generation never issued. */
	fill(p, BS, RUN, OFF, 5);
	v = judge(p, 3, 3);
	ck_verdict(v, STAMP_FOREIGN, 0);
	ck_assert_uint_eq(v.found.generation, 5);
	/* A block this run never wrote: an earlier run with the same id. */
	ck_verdict(judge(p, 0, 0), STAMP_FOREIGN, 0);
	free(p);
}
END_TEST

START_TEST(torn_new_stamp_old_tail)
{
	uint8_t		*p = block_new(BS);
	struct verdict	 v;
	size_t		 k;

	for (k = 1; k < NSEC; k++) {
		fill(p, BS, RUN, OFF, 2);
		tear(p, k, 1);
		v = judge(p, 2, 2);
		ck_verdict(v, STAMP_TORN, k);
		ck_assert_uint_eq(v.found.generation, 2);
		/* The torn write was never acknowledged: still torn. */
		ck_verdict(judge(p, 1, 2), STAMP_TORN, k);
		ck_verdict(alone(p, RUN), STAMP_TORN, k);
		ck_verdict(alone(p, 0), STAMP_TORN, k);
	}
	free(p);
}
END_TEST

START_TEST(torn_old_stamp_new_tail)
{
	uint8_t		*p = block_new(BS);
	struct verdict	 v;
	size_t		 k;

	for (k = 1; k < NSEC; k++) {
		fill(p, BS, RUN, OFF, 1);
		tear(p, k, 2);
		v = judge(p, 2, 2);
		ck_verdict(v, STAMP_TORN, k);
		ck_assert_uint_eq(v.found.generation, 1);
		ck_verdict(alone(p, RUN), STAMP_TORN, k);
	}
	/* A few generations apart: the lost ones between are another story. */
	fill(p, BS, RUN, OFF, 5);
	tear(p, 4, 8);
	ck_verdict(judge(p, 8, 8), STAMP_TORN, 4);
	ck_verdict(alone(p, 0), STAMP_TORN, 4);
	free(p);
}
END_TEST

START_TEST(torn_first_write)
{
	uint8_t		*p = block_new(BS);
	struct verdict	 v;

	/* Generation 1 over a never-written (zero) block, cut short. */
	fill(p, BS, RUN, OFF, 1);
	tear(p, 3, 0);
	ck_verdict(judge(p, 0, 1), STAMP_TORN, 3);
	ck_verdict(judge(p, 1, 1), STAMP_TORN, 3);
	ck_verdict(alone(p, 0), STAMP_TORN, 3);

	/* Only the tail landed: no stamp, sector 0 still zero. */
	memset(p, 0, BS);
	fill(p, BS, RUN, OFF, 1);
	memset(p, 0, 4 * STAMP_SECTOR);
	v = judge(p, 1, 1);
	ck_verdict(v, STAMP_TORN, 0);
	ck_assert(stamp_is_zero(&v.found));
	ck_verdict(judge(p, 0, 1), STAMP_TORN, 0);
	ck_verdict(alone(p, RUN), STAMP_TORN, 0);
	/* Without the run nothing says the rest is ours. */
	ck_verdict(alone(p, 0), STAMP_FOREIGN, 0);
	free(p);
}
END_TEST

START_TEST(zeros_are_no_tear_later)
{
	uint8_t	*p = block_new(BS);

	/* Generation 5 sat on generation 4, never on zeros: lost sectors. */
	fill(p, BS, RUN, OFF, 5);
	tear(p, 4, 0);
	ck_verdict(judge(p, 5, 5), STAMP_BITROT, 4);
	ck_verdict(alone(p, RUN), STAMP_BITROT, 4);
	free(p);
}
END_TEST

START_TEST(torn_and_rotten)
{
	uint8_t	*p = block_new(BS);

	fill(p, BS, RUN, OFF, 2);
	tear(p, 3, 1);
	flip(p, 6 * STAMP_SECTOR + 9, 5);
	/* No story of whole sectors: rot, from the first foreign sector. */
	ck_verdict(judge(p, 2, 2), STAMP_BITROT, 3);
	ck_verdict(alone(p, RUN), STAMP_BITROT, 3);
	free(p);
}
END_TEST

START_TEST(short_read)
{
	uint8_t		*p = block_new(BS);
	struct verdict	 v;

	fill(p, BS, RUN, OFF, 3);
	v = judge_len(p, 2560, BS, OFF, 3, 3);
	ck_verdict(v, STAMP_TORN, 5);
	ck_assert_uint_eq(v.found.generation, 3);
	ck_verdict(judge_len(p, 512, BS, OFF, 3, 3), STAMP_TORN, 1);
	ck_verdict(judge_len(p, 4095, BS, OFF, 3, 3), STAMP_TORN, 7);
	v = judge_len(p, 30, BS, OFF, 3, 3);
	ck_verdict(v, STAMP_TORN, 0);
	ck_assert(stamp_is_zero(&v.found));
	ck_verdict(judge_len(p, 0, BS, OFF, 3, 3), STAMP_TORN, 0);
	ck_verdict(alone_len(p, 2560, OFF, RUN), STAMP_TORN, 5);
	ck_verdict(alone_len(p, 0, OFF, RUN), STAMP_TORN, 0);
	/* More than a block: only the block counts. */
	free(p);
	p = block_new(2 * BS);
	fill(p, BS, RUN, OFF, 3);
	memset(p + BS, 0x5a, BS);
	ck_verdict(judge_len(p, 2 * BS, BS, OFF, 3, 3), STAMP_OK, 0);
	free(p);
}
END_TEST

START_TEST(foreign)
{
	uint8_t		*p = block_new(BS);
	struct verdict	 v;
	size_t		 i;

	for (i = 0; i < BS; i++)
		p[i] = (uint8_t)rng();
	v = judge(p, 3, 3);
	ck_verdict(v, STAMP_FOREIGN, 0);
	ck_assert(stamp_is_zero(&v.found));
	ck_verdict(judge(p, 0, 0), STAMP_FOREIGN, 0);
	ck_verdict(alone(p, RUN), STAMP_FOREIGN, 0);
	ck_verdict(alone(p, 0), STAMP_FOREIGN, 0);

	/* Random bytes after a real magic: still nobody's stamp. */
	memcpy(p, "!HOTSOAK", 8);
	ck_verdict(judge(p, 3, 3), STAMP_FOREIGN, 0);
	ck_verdict(alone(p, 0), STAMP_FOREIGN, 0);

	/* Another run's block at our offset. */
	fill(p, BS, OTHER_RUN, OFF, 3);
	v = judge(p, 3, 3);
	ck_verdict(v, STAMP_FOREIGN, 0);
	ck_assert_uint_eq(v.found.run_id, OTHER_RUN);
	ck_verdict(judge(p, 0, 0), STAMP_FOREIGN, 0);
	ck_verdict(alone(p, RUN), STAMP_FOREIGN, 0);
	ck_verdict(alone(p, 0), STAMP_OK, 0);
	free(p);
}
END_TEST

START_TEST(ruined_stamp_sector)
{
	uint8_t		*p = block_new(BS);
	struct verdict	 v;
	size_t		 i;

	/* Sector 0 overwritten with junk, the rest still ours: not foreign. */
	fill(p, BS, RUN, OFF, 3);
	for (i = 0; i < STAMP_SECTOR; i++)
		p[i] = (uint8_t)rng();
	v = judge(p, 3, 3);
	ck_verdict(v, STAMP_BITROT, 0);
	ck_assert(stamp_is_zero(&v.found));
	free(p);
}
END_TEST

START_TEST(big_block_tear)
{
	size_t		 bs = 65536, k = 100;
	uint8_t		*p = block_new(bs), *q = block_new(bs);

	fill(p, bs, RUN, bs, 7);
	fill(q, bs, RUN, bs, 6);
	memcpy(p + k * STAMP_SECTOR, q + k * STAMP_SECTOR,
	    bs - k * STAMP_SECTOR);
	ck_verdict(judge_len(p, bs, bs, bs, 7, 7), STAMP_TORN, k);
	fill(p, bs, RUN, bs, 7);
	flip(p, 77 * STAMP_SECTOR + 300, 1);
	ck_verdict(judge_len(p, bs, bs, bs, 7, 7), STAMP_BITROT, 77);
	free(p);
	free(q);
}
END_TEST

START_TEST(result_names)
{
	int	i, j;

	ck_assert_str_eq(stamp_result_names[STAMP_OK], "ok");
	ck_assert_str_eq(stamp_result_names[STAMP_UNWRITTEN], "unwritten");
	ck_assert_str_eq(stamp_result_names[STAMP_BITROT], "bitrot");
	ck_assert_str_eq(stamp_result_names[STAMP_MISDIRECTED], "misdirected");
	ck_assert_str_eq(stamp_result_names[STAMP_STALE], "stale");
	ck_assert_str_eq(stamp_result_names[STAMP_TORN], "torn");
	ck_assert_str_eq(stamp_result_names[STAMP_ZEROED], "zeroed");
	ck_assert_str_eq(stamp_result_names[STAMP_FOREIGN], "foreign");
	for (i = 0; i < STAMP_RESULT_COUNT; i++) {
		ck_assert_ptr_nonnull(stamp_result_names[i]);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(stamp_result_names[i],
			    stamp_result_names[j]);
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("stamp");
	TCase	*tc = tcase_create("stamp");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, little_endian_layout);
	tcase_add_test(tc, payload_is_pure);
	tcase_add_test(tc, payload_bit_flip);
	tcase_add_test(tc, header_bit_flip);
	tcase_add_test(tc, zeroed_and_unwritten);
	tcase_add_test(tc, misdirected);
	tcase_add_test(tc, stale);
	tcase_add_test(tc, maybe_generation);
	tcase_add_test(tc, never_issued);
	tcase_add_test(tc, torn_new_stamp_old_tail);
	tcase_add_test(tc, torn_old_stamp_new_tail);
	tcase_add_test(tc, torn_first_write);
	tcase_add_test(tc, zeros_are_no_tear_later);
	tcase_add_test(tc, torn_and_rotten);
	tcase_add_test(tc, short_read);
	tcase_add_test(tc, foreign);
	tcase_add_test(tc, ruined_stamp_sector);
	tcase_add_test(tc, big_block_tear);
	tcase_add_test(tc, result_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
