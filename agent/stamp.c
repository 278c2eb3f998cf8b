/* stamp.c: the blocks the agent writes (a little-endian stamp and a payload
 * regenerable from run, offset and generation) and what one read back is. */
#include "config.h"

#include <stdint.h>
#include <pthread.h>
#include <string.h>

#include "hotsoak/stamp.h"

/* Where each field of the stamp sits on disk; header_crc covers [0, 60). */
#define OFF_MAGIC	0
#define OFF_VERSION	8
#define OFF_HSIZE	10
#define OFF_WRITER	12
#define OFF_OFFSET	16
#define OFF_RUN_ID	24
#define OFF_GEN		32
#define OFF_SEQUENCE	40
#define OFF_TIME	48
#define OFF_PAYLOAD_CRC	56
#define OFF_HEADER_CRC	60

#define WORD		8	/* payload made and compared 8 bytes a step */
#define SECTOR_WORDS	(STAMP_SECTOR / WORD)
#define HEADER_WORDS	(STAMP_HEADER_SIZE / WORD)

/*
 * Sector 0 within this many bits of a stamp of ours (the fields we can
 * predict plus its 448 payload bytes) is that stamp rotted, not replaced:
 * unrelated data differs in about half of those ~3900 bits.
 */
#define ROT_BITS	64

/* Generations either side of the stamp's own that stamp_check_alone tries. */
#define ALONE_SPAN	3

/* The candidate writes a torn block's sectors may come from, at most. */
#define MAX_SOURCES	(2 * ALONE_SPAN + 2)

const char *const stamp_result_names[STAMP_RESULT_COUNT] = {
	[STAMP_OK] = "ok",
	[STAMP_UNWRITTEN] = "unwritten",
	[STAMP_BITROT] = "bitrot",
	[STAMP_MISDIRECTED] = "misdirected",
	[STAMP_STALE] = "stale",
	[STAMP_TORN] = "torn",
	[STAMP_ZEROED] = "zeroed",
	[STAMP_FOREIGN] = "foreign",
};

/* A write a sector may have come from: a generation's payload, or zeros. */
struct source {
	uint64_t	generation;	/* 0: zeros, a block before its first write */
	uint64_t	seed;		/* payload_seed of that generation */
};

/*
 * Byte order by memcpy and a swap on big-endian hosts: the compiler makes
 * each a single load or store, and the stamp never depends on the host.
 */
static inline uint64_t
get64(const uint8_t *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline uint32_t
get32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline void
put64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, sizeof v);
}

static inline void
put32(uint8_t *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	memcpy(p, &v, sizeof v);
}

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* splitmix64's finalizer: every input bit reaches every output bit. */
static inline uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#define GAMMA	0x9e3779b97f4a7c15ULL

/*
 * Word w of a block's payload is base[w mod 8192] ^ seed ^ (w / 8192) *
 * GAMMA, where base is one fixed random table and seed is the block's key
 * from (run, offset, generation). Any word of any generation can be made on
 * its own, every word of two generations differs (by their seeds' XOR), and
 * filling a block costs one XOR stream: the payload must not be what slows
 * a verified hammer down against an unverified one.
 */
#define BASE_SHIFT	13
#define BASE_WORDS	(1U << BASE_SHIFT)

static uint64_t		base[BASE_WORDS];
static pthread_once_t	base_once = PTHREAD_ONCE_INIT;

static void
base_init(void)
{
	uint64_t	x = 0x5eed0f407501a4e1ULL;
	unsigned	i;

	for (i = 0; i < BASE_WORDS; i++, x += GAMMA)
		base[i] = mix64(x);
}

static inline uint64_t
payload_word(uint64_t seed, size_t w)
{
	return base[w & (BASE_WORDS - 1)] ^ seed ^
	    (uint64_t)(w >> BASE_SHIFT) * GAMMA;
}

static uint64_t
payload_seed(uint64_t run_id, uint64_t offset, uint64_t generation)
{
	pthread_once(&base_once, base_init);
	return mix64(mix64(mix64(run_id ^ GAMMA) ^ offset) ^ generation);
}

/* Writes the payload words [w, wend) of the block at p. */
static void
payload_fill(uint8_t *p, uint64_t seed, size_t w, size_t wend)
{
	uint64_t	v;

	for (; w < wend; w++) {
		v = payload_word(seed, w);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		memcpy(p + w * WORD, &v, sizeof v);	/* vectorizes */
#else
		put64(p + w * WORD, v);
#endif
	}
}

/*
 * The bits by which the payload in sector s of the block at p differs
 * from that of seed (sector 0 without its stamp). Stops counting once
 * past limit, so limit 0 is a cheap "does it match".
 */
static unsigned
sector_diff(const uint8_t *p, uint64_t seed, size_t s, unsigned limit)
{
	size_t		w = s == 0 ? HEADER_WORDS : s * SECTOR_WORDS;
	size_t		wend = (s + 1) * SECTOR_WORDS;
	unsigned	bits = 0;

	for (; w < wend; w++) {
		bits += (unsigned)__builtin_popcountll(get64(p + w * WORD) ^
		    payload_word(seed, w));
		if (bits > limit)
			break;
	}
	return bits;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int
sector_zero(const uint8_t *p, size_t s)
{
	if (s == 0)
		return all_zero(p + STAMP_HEADER_SIZE,
		    STAMP_SECTOR - STAMP_HEADER_SIZE);
	return all_zero(p + s * STAMP_SECTOR, STAMP_SECTOR);
}

/*
 * Reads the stamp at p into *st whatever it holds; 0 when it is an intact
 * stamp of ours (magic, version, size and header CRC), else -1.
 */
static int
stamp_decode(const uint8_t *p, struct stamp *st)
{
	st->magic = get64(p + OFF_MAGIC);
	st->version = get16(p + OFF_VERSION);
	st->header_size = get16(p + OFF_HSIZE);
	st->writer = get32(p + OFF_WRITER);
	st->offset = get64(p + OFF_OFFSET);
	st->run_id = get64(p + OFF_RUN_ID);
	st->generation = get64(p + OFF_GEN);
	st->sequence = get64(p + OFF_SEQUENCE);
	st->timestamp_ns = get64(p + OFF_TIME);
	st->payload_crc = get32(p + OFF_PAYLOAD_CRC);
	st->header_crc = get32(p + OFF_HEADER_CRC);
	if (st->magic != STAMP_MAGIC || st->version != STAMP_VERSION ||
	    st->header_size != STAMP_HEADER_SIZE)
		return -1;
	if (crc32c(0, p, OFF_HEADER_CRC) != st->header_crc)
		return -1;
	return 0;
}

void
stamp_fill(void *block, size_t block_size, const struct stamp_id *id)
{
	uint8_t		*p = block;

	payload_fill(p, payload_seed(id->run_id, id->offset, id->generation),
	    HEADER_WORDS, block_size / WORD);
	put64(p + OFF_MAGIC, STAMP_MAGIC);
	put16(p + OFF_VERSION, STAMP_VERSION);
	put16(p + OFF_HSIZE, STAMP_HEADER_SIZE);
	put32(p + OFF_WRITER, id->writer);
	put64(p + OFF_OFFSET, id->offset);
	put64(p + OFF_RUN_ID, id->run_id);
	put64(p + OFF_GEN, id->generation);
	put64(p + OFF_SEQUENCE, id->sequence);
	put64(p + OFF_TIME, id->timestamp_ns);
	put32(p + OFF_PAYLOAD_CRC, crc32c(0, p + STAMP_HEADER_SIZE,
	    block_size - STAMP_HEADER_SIZE));
	put32(p + OFF_HEADER_CRC, crc32c(0, p, OFF_HEADER_CRC));
}

static int
payload_ok(const uint8_t *p, size_t block_size, const struct stamp *st)
{
	return crc32c(0, p + STAMP_HEADER_SIZE,
	    block_size - STAMP_HEADER_SIZE) == st->payload_crc;
}

/* Adds generation g of (run_id, offset) to the candidates, once. */
static void
source_add(struct source *src, size_t *n, uint64_t run_id, uint64_t offset,
    uint64_t g)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		if (src[i].generation == g)
			return;
	if (*n == MAX_SOURCES)
		return;
	src[*n].generation = g;
	src[*n].seed = g == 0 ? 0 : payload_seed(run_id, offset, g);
	(*n)++;
}

/* Which of the n candidates wrote sector s, or -1 when none did. */
static int
sector_source(const uint8_t *p, size_t s, const struct source *src, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (src[i].generation == 0 ? sector_zero(p, s) :
		    sector_diff(p, src[i].seed, s, 0) == 0)
			return (int)i;
	}
	return -1;
}

/*
 * A stamp that decoded over a payload its CRC disagrees with. A disk
 * writes a sector whole or not at all, so the block is torn when every
 * sector came whole from one of the candidate writes and more than one
 * of them is there; anything else is rot. src[0] is the stamp's own
 * write, the only one sector 0 can be from since its stamp is intact.
 * *bad_sector is the first sector not from src[0]: for a torn block where
 * the other write starts, for rot the first damaged sector.
 */
static enum stamp_result
sectors_judge(const uint8_t *p, size_t nsec, const struct source *src,
    size_t n, size_t *bad_sector)
{
	size_t	s, first = nsec;
	int	k, whole = 1, mixed = 0;

	for (s = 0; s < nsec; s++) {
		k = sector_source(p, s, src, s == 0 ? 1 : n);
		if (k != 0 && first == nsec)
			first = s;
		if (k < 0)
			whole = 0;
		else if (k > 0)
			mixed = 1;
	}
	/* All sectors the stamp's own: only its payload_crc is wrong. */
	*bad_sector = first == nsec ? 0 : first;
	return whole && mixed ? STAMP_TORN : STAMP_BITROT;
}

static unsigned
popcount64(uint64_t v)
{
	return (unsigned)__builtin_popcountll(v);
}

/* Bits by which the fields of raw we can predict differ from those of g. */
static unsigned
header_diff(const struct stamp *raw, uint64_t run_id, uint64_t offset,
    uint64_t g)
{
	return popcount64(raw->magic ^ STAMP_MAGIC) +
	    popcount64(raw->version ^ STAMP_VERSION) +
	    popcount64(raw->header_size ^ STAMP_HEADER_SIZE) +
	    popcount64(raw->offset ^ offset) +
	    popcount64(raw->run_id ^ run_id) +
	    popcount64(raw->generation ^ g);
}

/*
 * Is sector 0 a stamp of (run_id, offset, g) with a few bits flipped? The
 * fields we cannot predict (writer, sequence, time, CRCs) are left out:
 * their rot is what the header CRC caught.
 */
static int
sector0_rotted(const uint8_t *p, const struct stamp *raw, uint64_t run_id,
    uint64_t offset, uint64_t g)
{
	unsigned	bits;

	if (g == 0)
		return 0;
	bits = header_diff(raw, run_id, offset, g);
	if (bits > ROT_BITS)
		return 0;
	bits += sector_diff(p, payload_seed(run_id, offset, g), 0,
	    ROT_BITS - bits);
	return bits <= ROT_BITS;
}

/*
 * stamp_check for an intact stamp. A valid CRC cannot come from decay, so
 * a stamp whose generation was never issued for this block (0, or past
 * every generation issued) was written by someone else: most likely an
 * earlier run with the same run_id, hence FOREIGN rather than BITROT.
 */
static enum stamp_result
check_stamp(const uint8_t *p, size_t bs, const struct stamp_expect *e,
    const struct stamp *st, size_t *bad_sector)
{
	struct source	src[MAX_SOURCES];
	size_t		n = 0;
	uint64_t	g = st->generation, last;

	if (st->run_id != e->run_id)
		return STAMP_FOREIGN;
	if (st->offset != e->offset)
		return STAMP_MISDIRECTED;
	last = e->generation > e->maybe_generation ? e->generation :
	    e->maybe_generation;
	if (g == 0 || g > last)
		return STAMP_FOREIGN;
	if (payload_ok(p, bs, st)) {
		/*
		 * Generations of a block count its writes, so any g above the
		 * acknowledged one (and at most last) was issued and never
		 * acknowledged; maybe_generation is accepted even below the
		 * acknowledged one, as a timed-out write may land late.
		 */
		if (g >= e->generation || g == e->maybe_generation)
			return STAMP_OK;
		return STAMP_STALE;
	}
	/*
	 * The writes a torn block is made of: this stamp's, the one before it
	 * (a new stamp over an old tail; for generation 1 that is 0, the
	 * zeros of a block not yet written) and the expected ones (an old
	 * stamp over a new tail).
	 */
	source_add(src, &n, e->run_id, e->offset, g);
	source_add(src, &n, e->run_id, e->offset, g - 1);
	if (e->generation != 0)
		source_add(src, &n, e->run_id, e->offset, e->generation);
	if (e->maybe_generation != 0)
		source_add(src, &n, e->run_id, e->offset, e->maybe_generation);
	return sectors_judge(p, bs / STAMP_SECTOR, src, n, bad_sector);
}

/*
 * stamp_check for a block that is neither zero nor an intact stamp: a
 * rotted stamp of ours, a tear that left sector 0 zero, something of ours
 * with sector 0 ruined, or nothing of ours at all.
 */
static enum stamp_result
check_nostamp(const uint8_t *p, size_t bs, const struct stamp_expect *e)
{
	struct source	src[MAX_SOURCES];
	struct stamp	raw;
	size_t		n = 0, s, nsec = bs / STAMP_SECTOR, mine = 0;
	int		k, whole = 1;

	(void)stamp_decode(p, &raw);
	if (sector0_rotted(p, &raw, e->run_id, e->offset, e->generation) ||
	    sector0_rotted(p, &raw, e->run_id, e->offset, e->maybe_generation))
		return STAMP_BITROT;

	if (e->generation != 0)
		source_add(src, &n, e->run_id, e->offset, e->generation);
	if (e->maybe_generation != 0)
		source_add(src, &n, e->run_id, e->offset, e->maybe_generation);
	source_add(src, &n, e->run_id, e->offset, 0);
	for (s = 1; s < nsec; s++) {
		k = sector_source(p, s, src, n);
		if (k < 0)
			whole = 0;
		else if (src[k].generation != 0)
			mine++;
	}
	if (mine == 0)
		return STAMP_FOREIGN;
	if (whole && all_zero(p, STAMP_SECTOR))
		return STAMP_TORN;
	return STAMP_BITROT;
}

enum stamp_result
stamp_check(const void *block, size_t len, const struct stamp_expect *e,
    struct stamp *found, size_t *bad_sector)
{
	const uint8_t	*p = block;
	size_t		 bs = (size_t)e->block_size;
	int		 ok;

	*bad_sector = 0;
	ok = len >= STAMP_HEADER_SIZE && stamp_decode(p, found) == 0;
	if (!ok)
		memset(found, 0, sizeof *found);
	if (len < bs) {
		*bad_sector = len / STAMP_SECTOR;
		return STAMP_TORN;
	}
	if (ok)
		return check_stamp(p, bs, e, found, bad_sector);
	if (all_zero(p, bs))
		return e->generation == 0 ? STAMP_UNWRITTEN : STAMP_ZEROED;
	return check_nostamp(p, bs, e);
}

/*
 * stamp_check_alone's rotted-stamp test: without history the stamp's own
 * run and generation are the best guess, else the same with one bit
 * flipped, as the bit that broke the header CRC may be in them.
 */
static int
alone_rotted(const uint8_t *p, const struct stamp *raw, uint64_t offset,
    uint64_t run_id)
{
	uint64_t	run = run_id != 0 ? run_id : raw->run_id;
	int		b;

	if (sector0_rotted(p, raw, run, offset, raw->generation))
		return 1;
	for (b = 0; b < 64; b++) {
		if (sector0_rotted(p, raw, run, offset,
		    raw->generation ^ (1ULL << b)))
			return 1;
		if (run_id == 0 &&
		    sector0_rotted(p, raw, run ^ (1ULL << b), offset,
		    raw->generation))
			return 1;
	}
	return 0;
}

enum stamp_result
stamp_check_alone(const void *block, size_t len, uint64_t block_size,
    uint64_t offset, uint64_t run_id, struct stamp *found, size_t *bad_sector)
{
	const uint8_t	*p = block;
	struct source	 src[MAX_SOURCES];
	struct stamp	 raw;
	size_t		 bs = (size_t)block_size, n = 0, s;
	uint64_t	 g, d;
	int		 ok, k, mine = 0, whole = 1;

	*bad_sector = 0;
	ok = len >= STAMP_HEADER_SIZE && stamp_decode(p, found) == 0;
	if (!ok)
		memset(found, 0, sizeof *found);
	if (len < bs) {
		*bad_sector = len / STAMP_SECTOR;
		return STAMP_TORN;
	}
	if (ok) {
		g = found->generation;
		if (run_id != 0 && found->run_id != run_id)
			return STAMP_FOREIGN;
		if (found->offset != offset)
			return STAMP_MISDIRECTED;
		/* We number writes from 1: a valid stamp of 0 is not ours. */
		if (g == 0)
			return STAMP_FOREIGN;
		if (payload_ok(p, bs, found))
			return STAMP_OK;
		/*
		 * No history: the generations around the stamp's own, and
		 * the zeros (generation 0) only under a first write.
		 */
		source_add(src, &n, found->run_id, offset, g);
		if (g == 1)
			source_add(src, &n, found->run_id, offset, 0);
		for (d = 1; d <= ALONE_SPAN; d++) {
			if (g > d)
				source_add(src, &n, found->run_id, offset,
				    g - d);
			if (g <= UINT64_MAX - d)
				source_add(src, &n, found->run_id, offset,
				    g + d);
		}
		return sectors_judge(p, bs / STAMP_SECTOR, src, n, bad_sector);
	}
	if (all_zero(p, bs))
		return STAMP_UNWRITTEN;

	(void)stamp_decode(p, &raw);
	if (alone_rotted(p, &raw, offset, run_id))
		return STAMP_BITROT;
	/*
	 * Without a stamp the generation of the rest is unknowable, except
	 * under a torn first write: sector 0 still zero, the rest zero or
	 * generation 1 of the run we were told.
	 */
	if (run_id == 0 || !all_zero(p, STAMP_SECTOR))
		return STAMP_FOREIGN;
	source_add(src, &n, run_id, offset, 1);
	source_add(src, &n, run_id, offset, 0);
	for (s = 1; s < bs / STAMP_SECTOR; s++) {
		k = sector_source(p, s, src, n);
		if (k < 0)
			whole = 0;
		else if (k == 0)
			mine = 1;
	}
	return whole && mine ? STAMP_TORN : STAMP_FOREIGN;
}
