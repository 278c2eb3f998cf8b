/* check-units.c: durations and sizes as plans spell them: every accepted
 * form, every refused one with its offset, and the canonical round trip. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/units.h"
#include "common.h"

static uint64_t
dur(const char *s)
{
	uint64_t	 v = 0;
	char		*cause = NULL;
	size_t		 at = 0;

	if (units_parse_duration(s, &v, &cause, &at) == -1)
		ck_abort_msg("duration `%s` refused: %s", s, cause);
	return v;
}

static uint64_t
size(const char *s)
{
	uint64_t	 v = 0;
	char		*cause = NULL;
	size_t		 at = 0;

	if (units_parse_size(s, &v, &cause, &at) == -1)
		ck_abort_msg("size `%s` refused: %s", s, cause);
	return v;
}

typedef int (*parser)(const char *, uint64_t *, char **, size_t *);

static void
refused(parser p, const char *s, size_t want_at, const char *needle)
{
	uint64_t	 v = 12345;
	char		*cause = NULL;
	size_t		 at = 999;

	ck_assert_msg(p(s, &v, &cause, &at) == -1, "`%s` accepted as %llu", s,
	    (unsigned long long)v);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, needle) != NULL, "`%s`: cause `%s` lacks `%s`",
	    s, cause, needle);
	ck_assert_msg(at == want_at, "`%s`: offset %zu, expected %zu", s, at,
	    want_at);
	ck_assert_uint_eq(v, 12345);	/* untouched on error */
	free(cause);
}

START_TEST(duration_units)
{
	ck_assert_uint_eq(dur("250ms"), 250);
	ck_assert_uint_eq(dur("5s"), 5000);
	ck_assert_uint_eq(dur("10m"), 600000);
	ck_assert_uint_eq(dur("8h"), 28800000);
	ck_assert_uint_eq(dur("1d"), 86400000);
	ck_assert_uint_eq(dur("0s"), 0);
	ck_assert_uint_eq(dur("1h30m"), 5400000);
	ck_assert_uint_eq(dur("1d2h3m4s5ms"), 93784005);
	ck_assert_uint_eq(dur("90s"), 90000);
	ck_assert_uint_eq(dur("007s"), 7000);
}
END_TEST

START_TEST(duration_refused)
{
	refused(units_parse_duration, "", 0, "empty");
	refused(units_parse_duration, "10x", 2, "unknown unit `x`");
	refused(units_parse_duration, "-5m", 0, "negative");
	refused(units_parse_duration, "5", 0, "no unit");
	refused(units_parse_duration, "1.5s", 1, "fractions");
	refused(units_parse_duration, "s", 0, "must start with a number");
	refused(units_parse_duration, "+5s", 0, "must start with a number");
	refused(units_parse_duration, "30m1h", 4, "largest to smallest");
	refused(units_parse_duration, "1s1s", 3, "largest to smallest");
	refused(units_parse_duration, "1h30", 4, "expected a unit");
	refused(units_parse_duration, "5 s", 1, "expected a unit");
	refused(units_parse_duration, "99999999999999999999s", 0, "too large");
	/* Fits in 64 bits as a number, not once multiplied to milliseconds. */
	refused(units_parse_duration, "18446744073709551615d", 0, "too large");
	refused(units_parse_duration, "213503982334d1d", 14, "largest to smallest");
	refused(units_parse_duration, "5sec", 1, "unknown unit `sec`");
	refused(units_parse_duration, "5S", 1, "unknown unit `S`");
}
END_TEST

START_TEST(duration_sum_overflow)
{
	uint64_t	 v;
	char		*cause = NULL;
	size_t		 at;

	/* Each group fits, the sum does not. */
	ck_assert_int_eq(units_parse_duration("213503982334d23h", &v, &cause,
	    &at), -1);
	ck_assert_ptr_nonnull(strstr(cause, "too large"));
	free(cause);
}
END_TEST

START_TEST(size_units)
{
	ck_assert_uint_eq(size("4096"), 4096);
	ck_assert_uint_eq(size("0"), 0);
	ck_assert_uint_eq(size("512KiB"), 512 * 1024);
	ck_assert_uint_eq(size("4MiB"), 4ULL << 20);
	ck_assert_uint_eq(size("1GiB"), 1ULL << 30);
	ck_assert_uint_eq(size("2TiB"), 2ULL << 40);
	ck_assert_uint_eq(size("1PiB"), 1ULL << 50);
	ck_assert_uint_eq(size("4k"), 4096);
	ck_assert_uint_eq(size("4K"), 4096);
	ck_assert_uint_eq(size("1G"), 1ULL << 30);
	ck_assert_uint_eq(size("3m"), 3ULL << 20);
	ck_assert_uint_eq(size("16B"), 16);
	ck_assert_uint_eq(size("16383PiB"), 16383ULL << 50);
}
END_TEST

START_TEST(size_refused)
{
	refused(units_parse_size, "", 0, "empty");
	refused(units_parse_size, "10x", 2, "unknown unit `x`");
	refused(units_parse_size, "-5MiB", 0, "negative");
	refused(units_parse_size, "99999999999999999999GiB", 0, "too large");
	refused(units_parse_size, "16384PiB", 0, "too large");
	refused(units_parse_size, "4MB", 1, "ambiguous unit `MB`");
	refused(units_parse_size, "4kb", 1, "ambiguous unit `kb`");
	refused(units_parse_size, "1.5GiB", 1, "fractions");
	refused(units_parse_size, "4 KiB", 1, "unexpected");
	refused(units_parse_size, "4KiB2", 4, "unexpected `2`");
	refused(units_parse_size, "4kib", 1, "unknown unit `kib`");
	refused(units_parse_size, "GiB", 0, "must start with a number");
}
END_TEST

START_TEST(format_round_trip)
{
	static const uint64_t durations[] = { 0, 1, 250, 1000, 1500, 60000,
	    5400000, 86400000, 93784005, UINT64_MAX };
	static const uint64_t sizes[] = { 1, 512, 1000, 4096, 6144, 1ULL << 20,
	    3ULL << 30, (1ULL << 40) + 4096, 1ULL << 50, UINT64_MAX };
	char		buf[UNITS_FORMAT_MAX];
	size_t		i;

	for (i = 0; i < sizeof durations / sizeof durations[0]; i++) {
		units_format_duration(durations[i], buf, sizeof buf);
		ck_assert_uint_eq(dur(buf), durations[i]);
	}
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		units_format_size(sizes[i], buf, sizeof buf);
		ck_assert_uint_eq(size(buf), sizes[i]);
	}
	units_format_duration(5400000, buf, sizeof buf);
	ck_assert_str_eq(buf, "1h30m");
	units_format_duration(1500, buf, sizeof buf);
	ck_assert_str_eq(buf, "1s500ms");
	units_format_duration(0, buf, sizeof buf);
	ck_assert_str_eq(buf, "0s");
	units_format_size(6144, buf, sizeof buf);
	ck_assert_str_eq(buf, "6KiB");
	units_format_size(1000, buf, sizeof buf);
	ck_assert_str_eq(buf, "1000");
	units_format_size(3ULL << 30, buf, sizeof buf);
	ck_assert_str_eq(buf, "3GiB");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("units");
	TCase	*tc = tcase_create("parse");

	tcase_add_test(tc, duration_units);
	tcase_add_test(tc, duration_refused);
	tcase_add_test(tc, duration_sum_overflow);
	tcase_add_test(tc, size_units);
	tcase_add_test(tc, size_refused);
	tcase_add_test(tc, format_round_trip);
	suite_add_tcase(s, tc);
	return test_run(s);
}
