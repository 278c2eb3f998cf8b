/* memx.h: exercise memory as a driver engineer checks a hot-add: map it,
 * write a pattern that names each page, and read every word back. */
#ifndef HOTSOAK_AGENT_MEMX_H
#define HOTSOAK_AGENT_MEMX_H

#include <stddef.h>
#include <stdint.h>

/*
 * The unit a pattern names, whatever the MMU's page size, so results read
 * the same on every machine; "page" below means this unit.
 */
#define MEMX_PAGE	4096
/* first_found_page when the wrong word is no page's pattern (a flipped bit, say). */
#define MEMX_NO_PAGE	UINT64_MAX
/*
 * Seeds that differ only in this bit write complementary patterns:
 * memx_run uses both, so every bit is seen holding 0 and holding 1.
 */
#define MEMX_INVERT	(1ULL << 63)
/* memx_run leaves this much of MemAvailable alone, so it never wakes the OOM killer. */
#define MEMX_RESERVE	(64ULL << 20)

struct memx_result {
	uint64_t	bytes;		/* bytes checked in each pass */
	unsigned	passes;
	uint64_t	ms;		/* the whole run: map, passes, unmap */
	uint64_t	fill_ms;	/* all passes */
	uint64_t	verify_ms;	/* all passes */
	uint64_t	mismatches;	/* words that read back wrong, all passes */
	uint64_t	bad_pages;	/* pages with a wrong word, summed over passes */
	/* The first wrong word; meaningful when mismatches > 0. */
	unsigned	first_pass;	/* from 0 */
	uint64_t	first_page;	/* page index from the start of the memory */
	size_t		first_offset;	/* byte offset in that page */
	uint64_t	first_expected;
	uint64_t	first_found;
	/*
	 * The page whose pattern the wrong word holds: a page mapped at the
	 * wrong place, or a write that landed in the wrong page. MEMX_NO_PAGE
	 * when it is nobody's.
	 */
	uint64_t	first_found_page;
};

/*
 * Map bytes (rounded up to the page size) of fresh anonymous memory,
 * prefaulted, and for a pattern from seed and then its complement, write
 * it all and check every word; unmap. Fresh memory comes from the highest
 * zone first, so right after an online_movable hot-add that is the new
 * memory. Mismatches are results, not errors: -1 (with an allocated
 * *cause the caller frees) only when it could not run: 0 bytes, more than
 * MemAvailable less MEMX_RESERVE, or the mapping failed.
 */
int	memx_run(uint64_t bytes, uint64_t seed, struct memx_result *,
	    char **cause);

/* The most memx_run accepts now: available memory less MEMX_RESERVE, or 0. */
uint64_t memx_max_bytes(void);

/*
 * The halves of a pass, for tests that damage memory in between and for
 * callers with their own memory. buf is 8-byte aligned; a tail of len
 * that is not a whole word is left alone. The pattern of page p, word i
 * depends on seed, p and i only, so the same buffer verifies wherever it
 * sits in memory.
 */
void	memx_fill(void *buf, size_t len, uint64_t seed);

/* Check what memx_fill(buf, len, seed) wrote; fills r (one pass) and returns its mismatches. */
uint64_t memx_verify(const void *buf, size_t len, uint64_t seed,
	    struct memx_result *r);

#endif
