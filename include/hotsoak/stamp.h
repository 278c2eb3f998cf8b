/* stamp.h: the format of every block the agent writes (a 64-byte stamp and
 * a payload regenerable from the run, offset and generation) and its check. */
#ifndef HOTSOAK_STAMP_H
#define HOTSOAK_STAMP_H

#include <stddef.h>
#include <stdint.h>

#define STAMP_MAGIC		0x4b414f53544f4821ULL	/* "!HOTSOAK" little-endian */
#define STAMP_VERSION		1
#define STAMP_HEADER_SIZE	64
#define STAMP_SECTOR		512	/* the unit a torn write tears along */
#define STAMP_MIN_BLOCK		512

/*
 * The stamp at the start of every block, little-endian on disk whatever
 * the host. header_crc is the CRC32C of the 60 bytes before it; payload_crc
 * the CRC32C of the block after the stamp.
 */
struct stamp {
	uint64_t	magic;		/* STAMP_MAGIC */
	uint16_t	version;	/* STAMP_VERSION */
	uint16_t	header_size;	/* STAMP_HEADER_SIZE */
	uint32_t	writer;		/* the worker that wrote it */
	uint64_t	offset;		/* byte offset of this block in the target */
	uint64_t	run_id;		/* which run wrote it (from the seed) */
	uint64_t	generation;	/* this block's write count in the run, from 1 */
	uint64_t	sequence;	/* the writer's own write count */
	uint64_t	timestamp_ns;	/* CLOCK_REALTIME when the write was issued */
	uint32_t	payload_crc;
	uint32_t	header_crc;
};

/* What a block read back turned out to be. */
enum stamp_result {
	STAMP_OK,		/* the expected stamp, payload intact */
	STAMP_UNWRITTEN,	/* all zero where nothing was written yet: fine */
	STAMP_BITROT,		/* a CRC is wrong and no other story fits */
	STAMP_MISDIRECTED,	/* a valid stamp of another offset */
	STAMP_STALE,		/* a valid stamp of an older generation: a lost write */
	STAMP_TORN,		/* sectors of different writes, or a short block */
	STAMP_ZEROED,		/* all zero where a write was acknowledged */
	STAMP_FOREIGN,		/* a valid stamp of another run, or none at all */
	STAMP_RESULT_COUNT
};

/* "bitrot", "misdirected", ...: the names findings carry. */
extern const char *const stamp_result_names[STAMP_RESULT_COUNT];

/* Who writes a block, and which version of it. */
struct stamp_id {
	uint64_t	run_id;
	uint64_t	offset;
	uint64_t	generation;
	uint32_t	writer;
	uint64_t	sequence;
	uint64_t	timestamp_ns;
};

/*
 * Fill block_size bytes at block (a multiple of STAMP_SECTOR, at least
 * STAMP_MIN_BLOCK) with the payload of (run_id, offset, generation) and
 * the stamp describing it.
 */
void	stamp_fill(void *block, size_t block_size, const struct stamp_id *);

/* What the reader expects of one block. */
struct stamp_expect {
	uint64_t	run_id;
	uint64_t	offset;
	uint64_t	block_size;
	/* Last acknowledged generation; 0: never written in this run. */
	uint64_t	generation;
	/*
	 * A write of this generation was issued but never acknowledged (it
	 * timed out or the agent stopped): finding it is not corruption. 0: none.
	 */
	uint64_t	maybe_generation;
};

/*
 * Check len bytes read back at block against e. The stamp found (when one
 * could be decoded) goes to *found, else *found is zeroed; *bad_sector is
 * the first sector that disagrees (or 0). len < block_size is STAMP_TORN.
 * Only the first e->block_size bytes count.
 *
 * An intact stamp (magic, version, size, header CRC) is FOREIGN when of
 * another run or of a generation never issued here (0, or past both
 * generation and maybe_generation: an earlier run with the same run_id),
 * else MISDIRECTED when of another offset, whatever e->generation. With
 * its payload CRC right it is OK from generation up to maybe_generation
 * (and at maybe_generation even below it: a timed-out write may land
 * late), else STALE. With it wrong it is TORN when every sector came whole
 * from the stamp's write, the one before it (zeros before generation 1),
 * generation or maybe_generation, and more than one of those is there;
 * else BITROT; either way at the first sector not of the stamp's write.
 * All zero is UNWRITTEN for generation 0, else ZEROED. Without an intact
 * stamp: sector 0 a few bits off the stamp expected is BITROT; sector 0
 * zero over sectors of generation, maybe_generation or zeros is TORN; no
 * sector of ours is FOREIGN; anything else BITROT at sector 0.
 * TORN does not say whether the write that tore was acknowledged.
 */
enum stamp_result stamp_check(const void *block, size_t len,
		    const struct stamp_expect *e, struct stamp *found,
		    size_t *bad_sector);

/*
 * Self-consistency only, for a target whose history is unknown (verify-only
 * mode): the stamp's CRCs, its offset against `offset`, zeroed, torn.
 * run_id 0 accepts any run. All zero is UNWRITTEN and an old intact block
 * OK: a lost write cannot be seen without history. A torn block is
 * recognised when its sectors are of generations within 3 of the stamp's
 * (zeros under generation 1), or when sector 0 is zero over generation 1
 * of run_id (not 0); a block without an intact stamp or one a few bits
 * off is FOREIGN.
 */
enum stamp_result stamp_check_alone(const void *block, size_t len,
		    uint64_t block_size, uint64_t offset, uint64_t run_id,
		    struct stamp *found, size_t *bad_sector);

/* CRC-32C (Castagnoli, iSCSI), hardware where the CPU has it. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
/* The portable version, for tests and CPUs without SSE4.2. */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);
/* "sse4.2" or "table": which one crc32c uses here. */
const char *crc32c_impl(void);

#endif
