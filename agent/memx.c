/* memx.c: a write-then-verify pass over fresh memory, with a pattern that
 * says which page a wrong word belongs to, in two complementary passes. */
#include "config.h"

#include <sys/mman.h>
#include <sys/sysinfo.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memx.h"
#include "hotsoak/util.h"

#define PAGE_WORDS	(MEMX_PAGE / sizeof(uint64_t))
/*
 * Word i of page p holds base[i] ^ p * PAGE_MUL. The multiplier is odd, so
 * it can be undone: a wrong word that is another page's pattern names
 * that page, and a flipped bit turns into a huge, impossible page number.
 */
#define PAGE_MUL	0x9e3779b97f4a7c15ULL

/* PAGE_MUL's inverse modulo 2^64, by Newton's iteration (each doubles the good bits). */
static uint64_t
page_mul_inverse(void)
{
	uint64_t	x = PAGE_MUL;
	int		i;

	for (i = 0; i < 6; i++)
		x *= 2 - PAGE_MUL * x;
	return x;
}

/* The per-offset part of the pattern; MEMX_INVERT in seed complements it all. */
static void
pattern_base(uint64_t seed, uint64_t base[PAGE_WORDS])
{
	uint64_t	flip = (seed & MEMX_INVERT) ? ~0ULL : 0;
	size_t		i;

	seed &= ~MEMX_INVERT;
	for (i = 0; i < PAGE_WORDS; i++)
		base[i] = splitmix64(seed ^ splitmix64(i)) ^ flip;
}

void
memx_fill(void *buf, size_t len, uint64_t seed)
{
	uint64_t	 base[PAGE_WORDS], key, *w = buf;
	size_t		 words = len / sizeof *w, i, n;
	uint64_t	 p;

	pattern_base(seed, base);
	for (p = 0; words > 0; p++) {
		n = words < PAGE_WORDS ? words : PAGE_WORDS;
		key = p * PAGE_MUL;
		for (i = 0; i < n; i++)
			w[i] = base[i] ^ key;
		w += n;
		words -= n;
	}
}

/* Slow path, once per wrong word. */
static void
note_mismatch(struct memx_result *r, const uint64_t *base, uint64_t p,
    size_t i, uint64_t expected, uint64_t found, uint64_t npages)
{
	uint64_t	q;

	if (r->mismatches++ > 0)
		return;
	r->first_page = p;
	r->first_offset = i * sizeof(uint64_t);
	r->first_expected = expected;
	r->first_found = found;
	q = (found ^ base[i]) * page_mul_inverse();
	r->first_found_page = q < npages ? q : MEMX_NO_PAGE;
}

uint64_t
memx_verify(const void *buf, size_t len, uint64_t seed, struct memx_result *r)
{
	uint64_t	 base[PAGE_WORDS], key, npages;
	const uint64_t	*w = buf;
	size_t		 words = len / sizeof *w, i, n;
	uint64_t	 p, before;

	memset(r, 0, sizeof *r);
	r->passes = 1;
	r->bytes = words * sizeof *w;
	r->first_found_page = MEMX_NO_PAGE;
	npages = (words + PAGE_WORDS - 1) / PAGE_WORDS;
	pattern_base(seed, base);
	for (p = 0; words > 0; p++) {
		n = words < PAGE_WORDS ? words : PAGE_WORDS;
		key = p * PAGE_MUL;
		before = r->mismatches;
		for (i = 0; i < n; i++)
			if (w[i] != (base[i] ^ key))
				note_mismatch(r, base, p, i, base[i] ^ key, w[i],
				    npages);
		if (r->mismatches != before)
			r->bad_pages++;
		w += n;
		words -= n;
	}
	return r->mismatches;
}

/*
 * What can be had without swapping or waking the OOM killer: MemAvailable,
 * else (old kernels, no /proc) free plus buffer memory.
 */
static uint64_t
available_bytes(void)
{
	FILE			*f;
	char			 line[256];
	unsigned long long	 kb;
	struct sysinfo		 si;

	if ((f = fopen("/proc/meminfo", "re")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL) {
			if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
				fclose(f);
				return (uint64_t)kb * 1024;
			}
		}
		fclose(f);
	}
	if (sysinfo(&si) == -1)
		return 0;
	return ((uint64_t)si.freeram + si.bufferram) * si.mem_unit;
}

uint64_t
memx_max_bytes(void)
{
	uint64_t	avail = available_bytes();

	return avail > MEMX_RESERVE ? avail - MEMX_RESERVE : 0;
}

int
memx_run(uint64_t bytes, uint64_t seed, struct memx_result *r, char **cause)
{
	struct memx_result	 one;
	uint64_t		 t0, t1, t2, start, avail, len, pass_seed;
	uint64_t		 fill_ns = 0, verify_ns = 0;
	long			 pagesize;
	unsigned		 pass;
	void			*mem;

	memset(r, 0, sizeof *r);
	r->first_found_page = MEMX_NO_PAGE;
	if (bytes == 0)
		return cause_set(cause, "nothing to exercise: 0 bytes");
	if ((pagesize = sysconf(_SC_PAGESIZE)) <= 0)
		pagesize = MEMX_PAGE;
	if (bytes > UINT64_MAX - (uint64_t)pagesize || bytes > SIZE_MAX)
		return cause_set(cause, "cannot map %" PRIu64 " bytes", bytes);
	len = (bytes + (uint64_t)pagesize - 1) / (uint64_t)pagesize *
	    (uint64_t)pagesize;
	/*
	 * mmap itself rarely says no (overcommit); the faults do, and then
	 * the OOM killer picks someone. Refuse up front instead.
	 */
	avail = available_bytes();
	if (avail < MEMX_RESERVE || len > avail - MEMX_RESERVE)
		return cause_set(cause, "%" PRIu64 " bytes is more than the %" PRIu64
		    " available less a %" PRIu64 " MiB reserve", len, avail,
		    (uint64_t)(MEMX_RESERVE >> 20));

	start = clock_mono_ns();
	/* Prefaulted in one go: far fewer traps (dear under TCG), and fill times measure memory. */
	mem = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		return cause_set(cause, "mmap %" PRIu64 " bytes: %s", len,
		    strerror(errno));
	for (pass = 0; pass < 2; pass++) {
		pass_seed = pass == 0 ? seed & ~MEMX_INVERT : seed | MEMX_INVERT;
		t0 = clock_mono_ns();
		memx_fill(mem, (size_t)len, pass_seed);
		/* The stores must reach memory before the loads: no forwarding. */
		__asm__ __volatile__("" ::: "memory");
		t1 = clock_mono_ns();
		memx_verify(mem, (size_t)len, pass_seed, &one);
		t2 = clock_mono_ns();
		fill_ns += t1 - t0;
		verify_ns += t2 - t1;
		if (one.mismatches > 0 && r->mismatches == 0) {
			r->first_pass = pass;
			r->first_page = one.first_page;
			r->first_offset = one.first_offset;
			r->first_expected = one.first_expected;
			r->first_found = one.first_found;
			r->first_found_page = one.first_found_page;
		}
		r->mismatches += one.mismatches;
		r->bad_pages += one.bad_pages;
		r->passes++;
	}
	r->bytes = len;
	r->fill_ms = fill_ns / 1000000;
	r->verify_ms = verify_ns / 1000000;
	munmap(mem, (size_t)len);
	r->ms = (clock_mono_ns() - start) / 1000000;
	return 0;
}
