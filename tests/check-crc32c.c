/* check-crc32c.c: CRC-32C against the published vectors, the hardware path
 * against the table and a bit-at-a-time reference, and chaining. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/stamp.h"

/* An odd size past both interleave strides (3 x 8192 and 3 x 256 bytes). */
#define BIG	(65536 + 3 * 256 + 77)

static uint64_t	rng_state = 0x243f6a8885a308d3ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
random_fill(unsigned char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)rng();
}

/* The definition itself, sharing nothing with the code under test. */
static uint32_t
crc32c_bitwise(uint32_t crc, const unsigned char *p, size_t n)
{
	int	k;

	crc = ~crc;
	while (n-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78U : crc >> 1;
	}
	return ~crc;
}

/* Asserts that all three implementations give want for p[0, n). */
static void
expect_crc(const void *p, size_t n, uint32_t want, const char *what)
{
	ck_assert_msg(crc32c(0, p, n) == want, "%s: crc32c %08x, want %08x",
	    what, crc32c(0, p, n), want);
	ck_assert_msg(crc32c_sw(0, p, n) == want, "%s: crc32c_sw %08x, want %08x",
	    what, crc32c_sw(0, p, n), want);
	ck_assert_msg(crc32c_bitwise(0, p, n) == want, "%s: reference %08x",
	    what, crc32c_bitwise(0, p, n));
}

START_TEST(rfc3720_vectors)
{
	/* RFC 3720 B.4, as the CRC's value (the RFC lists its wire bytes). */
	static const unsigned char pdu[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
		0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	unsigned char	b[32];
	int		i;

	memset(b, 0, sizeof b);
	expect_crc(b, sizeof b, 0x8a9136aa, "32 zeros");
	memset(b, 0xff, sizeof b);
	expect_crc(b, sizeof b, 0x62a8ab43, "32 x 0xff");
	for (i = 0; i < 32; i++)
		b[i] = (unsigned char)i;
	expect_crc(b, sizeof b, 0x46dd794e, "0..31");
	for (i = 0; i < 32; i++)
		b[i] = (unsigned char)(31 - i);
	expect_crc(b, sizeof b, 0x113fdb5c, "31..0");
	expect_crc(pdu, sizeof pdu, 0xd9963a56, "iSCSI read PDU");
}
END_TEST

START_TEST(check_value)
{
	expect_crc("123456789", 9, 0xe3069283, "123456789");
	expect_crc("", 0, 0, "empty");
	/* crc is the previous CRC, not a raw register: no bytes, no change. */
	ck_assert_uint_eq(crc32c(0x12345678, "", 0), 0x12345678);
	ck_assert_uint_eq(crc32c_sw(0x12345678, "", 0), 0x12345678);
}
END_TEST

START_TEST(hw_matches_table_every_length)
{
	unsigned char	*buf = malloc(1024 + 64);
	size_t		 n, off;
	uint32_t	 seed, want;

	ck_assert_ptr_nonnull(buf);
	random_fill(buf, 1024 + 64);
	for (n = 0; n <= 1024; n++) {
		off = rng() % 64;
		seed = (uint32_t)rng();
		want = crc32c_bitwise(seed, buf + off, n);
		ck_assert_msg(crc32c(seed, buf + off, n) == want,
		    "crc32c: length %zu at offset %zu", n, off);
		ck_assert_msg(crc32c_sw(seed, buf + off, n) == want,
		    "crc32c_sw: length %zu at offset %zu", n, off);
	}
	free(buf);
}
END_TEST

START_TEST(hw_matches_table_big)
{
	unsigned char	*buf = malloc(BIG + 16);
	size_t		 off, lens[] = { 3 * 256, 3 * 256 + 8, 3 * 8192,
			    3 * 8192 - 8, 3 * 8192 + 3 * 256 + 5, 4032, 65472, BIG };
	size_t		 i;
	uint32_t	 want;

	ck_assert_ptr_nonnull(buf);
	random_fill(buf, BIG + 16);
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		for (off = 0; off < 16; off += 3) {
			want = crc32c_bitwise(0, buf + off, lens[i]);
			ck_assert_msg(crc32c(0, buf + off, lens[i]) == want,
			    "crc32c: length %zu at offset %zu", lens[i], off);
			ck_assert_msg(crc32c_sw(0, buf + off, lens[i]) == want,
			    "crc32c_sw: length %zu at offset %zu", lens[i], off);
		}
	}
	free(buf);
}
END_TEST

START_TEST(incremental)
{
	unsigned char	*buf = malloc(BIG);
	size_t		 cut, n;
	uint32_t	 whole, whole_sw;

	ck_assert_ptr_nonnull(buf);
	random_fill(buf, BIG);
	whole = crc32c(0, buf, BIG);
	whole_sw = crc32c_sw(0, buf, BIG);
	ck_assert_uint_eq(whole, whole_sw);
	for (n = 0; n < 200; n++) {
		cut = n < 20 ? n : rng() % (BIG + 1);
		ck_assert_msg(crc32c(crc32c(0, buf, cut), buf + cut, BIG - cut) ==
		    whole, "crc32c chained at %zu", cut);
		ck_assert_msg(crc32c_sw(crc32c_sw(0, buf, cut), buf + cut,
		    BIG - cut) == whole, "crc32c_sw chained at %zu", cut);
		/* Either may continue the other's CRC. */
		ck_assert_msg(crc32c_sw(crc32c(0, buf, cut), buf + cut,
		    BIG - cut) == whole, "mixed chain at %zu", cut);
	}
	free(buf);
}
END_TEST

START_TEST(impl_uses_the_cpu)
{
	const char	*impl = crc32c_impl();

	ck_assert_msg(strcmp(impl, "sse4.2") == 0 || strcmp(impl, "table") == 0,
	    "crc32c_impl: `%s`", impl);
#if defined(__x86_64__) && !defined(CRC32C_TABLE_ONLY)
	/* A CPU with the instruction must use it: the hot path needs it. */
	if (__builtin_cpu_supports("sse4.2"))
		ck_assert_str_eq(impl, "sse4.2");
	else
		ck_assert_str_eq(impl, "table");
#else
	ck_assert_str_eq(impl, "table");
#endif
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("crc32c");
	TCase	*tc = tcase_create("crc32c");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, rfc3720_vectors);
	tcase_add_test(tc, check_value);
	tcase_add_test(tc, hw_matches_table_every_length);
	tcase_add_test(tc, hw_matches_table_big);
	tcase_add_test(tc, incremental);
	tcase_add_test(tc, impl_uses_the_cpu);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
