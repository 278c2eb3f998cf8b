/* crc32c.c: CRC-32C (Castagnoli) for the stamps: the SSE4.2 crc32 instruction
 * on three interleaved streams where the CPU has it, slicing-by-8 elsewhere. */
#include "config.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* -DCRC32C_TABLE_ONLY builds what a CPU without SSE4.2 runs, to test it. */
#if defined(__x86_64__) && !defined(CRC32C_TABLE_ONLY)
#include <nmmintrin.h>
#define CRC32C_HAVE_HW	1
#else
#define CRC32C_HAVE_HW	0
#endif

#include "hotsoak/stamp.h"

#define CRC32C_POLY	0x82f63b78U	/* Castagnoli, bit-reflected */

/*
 * The hardware path runs three independent crc32 chains over three
 * adjacent stretches, since the instruction's latency is three times its
 * throughput; the stretches are then joined by shifting the earlier CRCs
 * over the later stretches with the zero operators below.  LONG suits
 * 64 KiB blocks, SHORT the 4 KiB payloads that dominate the benchmark.
 */
#define CRC32C_LONG	8192
#define CRC32C_SHORT	256

/* Slicing-by-8: table[k][b] is the CRC of byte b followed by k zero bytes. */
static uint32_t		crc32c_table[8][256];
/* Feed CRC32C_LONG / CRC32C_SHORT zero bytes to a raw CRC, by its bytes. */
static uint32_t		crc32c_long[4][256];
static uint32_t		crc32c_short[4][256];
static pthread_once_t	crc32c_once = PTHREAD_ONCE_INIT;

static void	crc32c_init(void);

/* Loads are memcpy so any alignment is legal; compilers make them one mov. */
static inline uint64_t
load_le64(const unsigned char *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* The product of the GF(2) 32x32 matrix mat and the vector vec. */
static uint32_t
gf2_times(const uint32_t *mat, uint32_t vec)
{
	uint32_t	sum = 0;

	for (; vec != 0; vec >>= 1, mat++)
		if (vec & 1)
			sum ^= *mat;
	return sum;
}

static void
gf2_square(uint32_t *sq, const uint32_t *mat)
{
	int	n;

	for (n = 0; n < 32; n++)
		sq[n] = gf2_times(mat, mat[n]);
}

/*
 * Tables applying the operator "feed len zero bytes" (len a power of two)
 * to a raw CRC one byte at a time: the operator is linear, so its effect
 * on the four bytes of the CRC can be looked up separately and xored.
 */
static void
zeros_tables(uint32_t zeros[4][256], size_t len)
{
	uint32_t	op[32], tmp[32];
	uint32_t	row = 1;
	int		n;

	/* One zero bit: shift right, folding the polynomial in on a carry. */
	op[0] = CRC32C_POLY;
	for (n = 1; n < 32; n++) {
		op[n] = row;
		row <<= 1;
	}
	/* Squaring doubles the zeros: thrice for a byte, then up to len. */
	for (n = 0; n < 3; n++) {
		gf2_square(tmp, op);
		memcpy(op, tmp, sizeof op);
	}
	for (; len > 1; len >>= 1) {
		gf2_square(tmp, op);
		memcpy(op, tmp, sizeof op);
	}
	for (n = 0; n < 256; n++) {
		zeros[0][n] = gf2_times(op, (uint32_t)n);
		zeros[1][n] = gf2_times(op, (uint32_t)n << 8);
		zeros[2][n] = gf2_times(op, (uint32_t)n << 16);
		zeros[3][n] = gf2_times(op, (uint32_t)n << 24);
	}
}

static void
tables_init(void)
{
	uint32_t	c;
	int		n, k;

	for (n = 0; n < 256; n++) {
		c = (uint32_t)n;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc32c_table[0][n] = c;
	}
	for (n = 0; n < 256; n++) {
		c = crc32c_table[0][n];
		for (k = 1; k < 8; k++) {
			c = crc32c_table[0][c & 0xff] ^ (c >> 8);
			crc32c_table[k][n] = c;
		}
	}
	zeros_tables(crc32c_long, CRC32C_LONG);
	zeros_tables(crc32c_short, CRC32C_SHORT);
}

uint32_t
crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	uint64_t		 w;
	uint32_t		 c;

	pthread_once(&crc32c_once, crc32c_init);
	c = ~crc;
	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c = crc32c_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
		len--;
	}
	for (; len >= 8; p += 8, len -= 8) {
		w = load_le64(p) ^ c;
		c = crc32c_table[7][w & 0xff] ^
		    crc32c_table[6][(w >> 8) & 0xff] ^
		    crc32c_table[5][(w >> 16) & 0xff] ^
		    crc32c_table[4][(w >> 24) & 0xff] ^
		    crc32c_table[3][(w >> 32) & 0xff] ^
		    crc32c_table[2][(w >> 40) & 0xff] ^
		    crc32c_table[1][(w >> 48) & 0xff] ^
		    crc32c_table[0][w >> 56];
	}
	while (len-- > 0)
		c = crc32c_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

#if CRC32C_HAVE_HW
static inline uint32_t
zeros_shift(uint32_t zeros[4][256], uint32_t c)
{
	return zeros[0][c & 0xff] ^ zeros[1][(c >> 8) & 0xff] ^
	    zeros[2][(c >> 16) & 0xff] ^ zeros[3][c >> 24];
}

/*
 * Three chains over [p, p+n), [p+n, p+2n), [p+2n, p+3n); returns the CRC
 * of all 3n bytes.  The later chains start from 0 so the earlier result
 * can be shifted over them and xored in (the CRC is linear).
 */
__attribute__((target("sse4.2")))
static inline uint64_t
hw_triple(uint64_t c0, const unsigned char *p, size_t n,
    uint32_t zeros[4][256])
{
	const unsigned char	*end = p + n;
	uint64_t		 c1 = 0, c2 = 0;

	do {
		c0 = _mm_crc32_u64(c0, load_le64(p));
		c1 = _mm_crc32_u64(c1, load_le64(p + n));
		c2 = _mm_crc32_u64(c2, load_le64(p + 2 * n));
		p += 8;
	} while (p < end);
	c0 = zeros_shift(zeros, (uint32_t)c0) ^ c1;
	return zeros_shift(zeros, (uint32_t)c0) ^ c2;
}

__attribute__((target("sse4.2")))
static uint32_t
crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	uint64_t		 c;

	c = ~crc;
	/* Aligned 8-byte loads never straddle a cache line. */
	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c = _mm_crc32_u8((uint32_t)c, *p++);
		len--;
	}
	while (len >= 3 * CRC32C_LONG) {
		c = hw_triple(c, p, CRC32C_LONG, crc32c_long);
		p += 3 * CRC32C_LONG;
		len -= 3 * CRC32C_LONG;
	}
	while (len >= 3 * CRC32C_SHORT) {
		c = hw_triple(c, p, CRC32C_SHORT, crc32c_short);
		p += 3 * CRC32C_SHORT;
		len -= 3 * CRC32C_SHORT;
	}
	for (; len >= 8; p += 8, len -= 8)
		c = _mm_crc32_u64(c, load_le64(p));
	while (len-- > 0)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}
#endif

/* Which one crc32c runs, decided once so crc32c_impl cannot disagree. */
static uint32_t	(*crc32c_fn)(uint32_t, const void *, size_t) = crc32c_sw;

static void
crc32c_init(void)
{
	tables_init();
#if CRC32C_HAVE_HW
	if (__builtin_cpu_supports("sse4.2"))
		crc32c_fn = crc32c_hw;
#endif
}

uint32_t
crc32c(uint32_t crc, const void *buf, size_t len)
{
	/* After the first call, one load and a branch. */
	pthread_once(&crc32c_once, crc32c_init);
	return crc32c_fn(crc, buf, len);
}

const char *
crc32c_impl(void)
{
	pthread_once(&crc32c_once, crc32c_init);
#if CRC32C_HAVE_HW
	if (crc32c_fn == crc32c_hw)
		return "sse4.2";
#endif
	return "table";
}
