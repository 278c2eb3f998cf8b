/* check-cron.c: cron expression parsing (masks, names, steps, shortcuts and
 * every error with its offset) and cron_next across boundaries and DST. */

#include "config.h"

#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotsoak/cron.h"
#include "common.h"

#define nitems(a)	(sizeof (a) / sizeof (a)[0])

#define MIN		((time_t)60)
#define HOUR		(60 * MIN)
#define DAY		(24 * HOUR)

/* Fixed instants, so no test depends on when it runs. 2024-01-01 is a Monday. */
#define JAN1_2024	((time_t)1704067200)	/* 2024-01-01 00:00:00Z */
#define MAR1_2024	((time_t)1709251200)	/* 2024-03-01 00:00:00Z */
#define FEB29_2028	((time_t)1835395200)	/* 2028-02-29 00:00:00Z */
#define MAR1_2096	((time_t)3981398400)	/* 2096-03-01 00:00:00Z */
#define FEB29_2104	((time_t)4233686400)	/* 2104-02-29 00:00:00Z */

/* Europe/Berlin: 2024-03-31 02:00 CET became 03:00 CEST (01:00Z), and
 * 2024-10-27 03:00 CEST became 02:00 CET (01:00Z). */
#define BER_SPRING	((time_t)1711846800)	/* 2024-03-31 01:00:00Z */
#define BER_AUTUMN	((time_t)1729990800)	/* 2024-10-27 01:00:00Z */

/* America/New_York: 2024-03-10 02:00 EST became 03:00 EDT (07:00Z), and
 * 2024-11-03 02:00 EDT became 01:00 EST (06:00Z). */
#define NYC_SPRING	((time_t)1710054000)	/* 2024-03-10 07:00:00Z */
#define NYC_AUTUMN	((time_t)1730613600)	/* 2024-11-03 06:00:00Z */
#define NYC_MAR9_NOON	((time_t)1710003600)	/* 2024-03-09 12:00 EST */
#define NYC_MAR11_2AM	((time_t)1710136800)	/* 2024-03-11 02:00 EDT */

/* Australia/Lord_Howe moves half an hour: 2024-04-07 02:00 +11 became 01:30
 * +1030, and 2024-10-06 02:00 +1030 became 02:30 +11. */
#define LHI_AUTUMN	((time_t)1712415600)	/* 2024-04-06 15:00:00Z */
#define LHI_SPRING	((time_t)1728142200)	/* 2024-10-05 15:30:00Z */

/* Pacific/Apia skipped a whole day: 2011-12-29 24:00 -10 became 2011-12-31
 * 00:00 +14. */
#define APIA_JUMP	((time_t)1325239200)	/* 2011-12-30 10:00:00Z */

/* Berlin left local mean time (+0:53:28) for CET: 1893-03-31 23:59:59 LMT
 * became 1893-04-01 00:06:32 CET, in the middle of a minute. */
#define BER_CET		((time_t)-2422054408)	/* 1893-03-31 23:06:32Z */

#define BIT(n)		(UINT64_C(1) << (n))

static void
use_tz(const char *tz)
{
	ck_assert_int_eq(setenv("TZ", tz, 1), 0);
	tzset();
}

/*
 * Zone rules must really be loaded, or the DST tests prove nothing: without
 * them the zone is UTC, and the wall clock at probe is not hour:min.
 */
static void
use_zone(const char *tz, time_t probe, int hour, int min)
{
	struct tm	tm;

	use_tz(tz);
	ck_assert_ptr_nonnull(localtime_r(&probe, &tm));
	ck_assert_msg(tm.tm_hour == hour && tm.tm_min == min,
	    "%s zone data missing (got %02d:%02d, want %02d:%02d)", tz,
	    tm.tm_hour, tm.tm_min, hour, min);
}

static void
use_berlin(void)
{
	use_zone("Europe/Berlin", BER_SPRING, 3, 0);
}

static const char *
fmt_utc(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	if (t == (time_t)-1)
		snprintf(buf, len, "-1");
	else if (gmtime_r(&t, &tm) == NULL)
		snprintf(buf, len, "%lld", (long long)t);
	else
		strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm);
	return (buf);
}

static struct cron
parse_ok(const char *expr)
{
	struct cron	 c;
	char		*cause = NULL;
	size_t		 at = 0;
	int		 rc;

	memset(&c, 0, sizeof c);
	rc = cron_parse(expr, &c, &cause, &at);
	ck_assert_msg(rc == 0, "\"%s\" failed at %zu: %s", expr, at,
	    cause != NULL ? cause : "(null)");
	free(cause);
	return (c);
}

static void
assert_same(const char *a, const char *b)
{
	struct cron	ca = parse_ok(a), cb = parse_ok(b);

	ck_assert_msg(ca.minutes == cb.minutes, "%s vs %s: minutes", a, b);
	ck_assert_msg(ca.hours == cb.hours, "%s vs %s: hours", a, b);
	ck_assert_msg(ca.mdays == cb.mdays, "%s vs %s: mdays", a, b);
	ck_assert_msg(ca.months == cb.months, "%s vs %s: months", a, b);
	ck_assert_msg(ca.wdays == cb.wdays, "%s vs %s: wdays", a, b);
	ck_assert_msg(ca.dom_star == cb.dom_star, "%s vs %s: dom_star", a, b);
	ck_assert_msg(ca.dow_star == cb.dow_star, "%s vs %s: dow_star", a, b);
}

static void
assert_next(const char *expr, time_t after, time_t want)
{
	struct cron	c = parse_ok(expr);
	time_t		got = cron_next(&c, after);
	char		b1[64], b2[64], b3[64];

	ck_assert_msg(got == want, "\"%s\" after %s: got %s, want %s", expr,
	    fmt_utc(after, b1, sizeof b1), fmt_utc(got, b2, sizeof b2),
	    fmt_utc(want, b3, sizeof b3));
}

START_TEST(test_parse_every)
{
	struct cron	c = parse_ok("* * * * *");

	ck_assert(c.minutes == BIT(60) - 1);
	ck_assert_uint_eq(c.hours, BIT(24) - 1);
	ck_assert_uint_eq(c.mdays, 0xfffffffe);
	ck_assert_uint_eq(c.months, 0x1ffe);
	ck_assert_uint_eq(c.wdays, 0x7f);
	ck_assert_uint_eq(c.dom_star, 1);
	ck_assert_uint_eq(c.dow_star, 1);
}
END_TEST

START_TEST(test_parse_lists_ranges)
{
	struct cron	c = parse_ok("0,15,30,45 9-17 1,15,31 1-6 1-5");

	ck_assert(c.minutes == (BIT(0) | BIT(15) | BIT(30) | BIT(45)));
	ck_assert_uint_eq(c.hours, (BIT(18) - 1) & ~(BIT(9) - 1));
	ck_assert_uint_eq(c.mdays, BIT(1) | BIT(15) | BIT(31));
	ck_assert_uint_eq(c.months, 0x7e);
	ck_assert_uint_eq(c.wdays, 0x3e);
	ck_assert_uint_eq(c.dom_star, 0);
	ck_assert_uint_eq(c.dow_star, 0);

	c = parse_ok("59 23 31 12 6");
	ck_assert(c.minutes == BIT(59));
	ck_assert_uint_eq(c.hours, BIT(23));
	ck_assert_uint_eq(c.mdays, BIT(31));
	ck_assert_uint_eq(c.months, BIT(12));
	ck_assert_uint_eq(c.wdays, BIT(6));

	/* Leading zeros are just digits. */
	c = parse_ok("007 01 09 02 00");
	ck_assert(c.minutes == BIT(7));
	ck_assert_uint_eq(c.hours, BIT(1));
	ck_assert_uint_eq(c.mdays, BIT(9));
	ck_assert_uint_eq(c.months, BIT(2));
	ck_assert_uint_eq(c.wdays, BIT(0));
}
END_TEST

START_TEST(test_parse_steps)
{
	struct cron	c = parse_ok("*/15 */5 */10 */4 */2");

	ck_assert(c.minutes == (BIT(0) | BIT(15) | BIT(30) | BIT(45)));
	ck_assert_uint_eq(c.hours, BIT(0) | BIT(5) | BIT(10) | BIT(15) | BIT(20));
	/* A star starts at the field's minimum: day 1, month 1. */
	ck_assert_uint_eq(c.mdays, BIT(1) | BIT(11) | BIT(21) | BIT(31));
	ck_assert_uint_eq(c.months, BIT(1) | BIT(5) | BIT(9));
	ck_assert_uint_eq(c.wdays, BIT(0) | BIT(2) | BIT(4) | BIT(6));
	/* A stepped star is still a star to the day rule (Vixie cron). */
	ck_assert_uint_eq(c.dom_star, 1);
	ck_assert_uint_eq(c.dow_star, 1);

	c = parse_ok("10-50/20 1-23/11 3-9/3 2-12/5 1-5/2");
	ck_assert(c.minutes == (BIT(10) | BIT(30) | BIT(50)));
	ck_assert_uint_eq(c.hours, BIT(1) | BIT(12) | BIT(23));
	ck_assert_uint_eq(c.mdays, BIT(3) | BIT(6) | BIT(9));
	ck_assert_uint_eq(c.months, BIT(2) | BIT(7) | BIT(12));
	ck_assert_uint_eq(c.wdays, BIT(1) | BIT(3) | BIT(5));

	/* N/STEP runs from N to the field's maximum, as in Vixie cron. */
	c = parse_ok("5/20 20/2 29/1 11/1 4/3");
	ck_assert(c.minutes == (BIT(5) | BIT(25) | BIT(45)));
	ck_assert_uint_eq(c.hours, BIT(20) | BIT(22));
	ck_assert_uint_eq(c.mdays, BIT(29) | BIT(30) | BIT(31));
	ck_assert_uint_eq(c.months, BIT(11) | BIT(12));
	ck_assert_uint_eq(c.wdays, BIT(4) | BIT(0));	/* 4, 7 = Sunday */

	c = parse_ok("*/59 * * jun/2 *");
	ck_assert(c.minutes == (BIT(0) | BIT(59)));
	ck_assert_uint_eq(c.months, BIT(6) | BIT(8) | BIT(10) | BIT(12));
}
END_TEST

START_TEST(test_parse_names)
{
	struct cron	c = parse_ok("0 0 * JAN-Mar,dec Mon-fri");

	ck_assert_uint_eq(c.months, BIT(1) | BIT(2) | BIT(3) | BIT(12));
	ck_assert_uint_eq(c.wdays, 0x3e);

	c = parse_ok("0 0 * * sun");
	ck_assert_uint_eq(c.wdays, BIT(0));
	c = parse_ok("0 0 * * 7");
	ck_assert_uint_eq(c.wdays, BIT(0));
	c = parse_ok("0 0 * * 5-7");
	ck_assert_uint_eq(c.wdays, BIT(0) | BIT(5) | BIT(6));
	c = parse_ok("0 0 * * SAT,tue,7");
	ck_assert_uint_eq(c.wdays, BIT(0) | BIT(2) | BIT(6));
	c = parse_ok("0 0 * may-aug,1 *");
	ck_assert_uint_eq(c.months, BIT(1) | BIT(5) | BIT(6) | BIT(7) | BIT(8));
	c = parse_ok("0 0 * feb-11/3 *");
	ck_assert_uint_eq(c.months, BIT(2) | BIT(5) | BIT(8) | BIT(11));
}
END_TEST

START_TEST(test_parse_star_flags)
{
	struct cron	c;

	c = parse_ok("* * */1 * */1");
	ck_assert_uint_eq(c.dom_star, 1);
	ck_assert_uint_eq(c.dow_star, 1);

	/* A range that happens to cover everything still restricts. */
	c = parse_ok("* * 1-31 * 0-7");
	ck_assert_uint_eq(c.mdays, 0xfffffffe);
	ck_assert_uint_eq(c.wdays, 0x7f);
	ck_assert_uint_eq(c.dom_star, 0);
	ck_assert_uint_eq(c.dow_star, 0);

	/* Vixie cron and cronie look only at the field's first byte. */
	c = parse_ok("* * */2 * mon");
	ck_assert_uint_eq(c.dom_star, 1);
	ck_assert_uint_eq(c.dow_star, 0);
	c = parse_ok("0 0 1,15 * */2");
	ck_assert_uint_eq(c.dom_star, 0);
	ck_assert_uint_eq(c.dow_star, 1);
	c = parse_ok("0 0 * * */2");
	ck_assert_uint_eq(c.dom_star, 1);
	ck_assert_uint_eq(c.dow_star, 1);
	c = parse_ok("* * */31 * 1-5/2");
	ck_assert_uint_eq(c.mdays, BIT(1));
	ck_assert_uint_eq(c.dom_star, 1);
	ck_assert_uint_eq(c.dow_star, 0);

	c = parse_ok("* * *,5 * 1");
	ck_assert_uint_eq(c.dom_star, 1);
	ck_assert_uint_eq(c.dow_star, 0);
	c = parse_ok("* * 5,* * 1,*");
	ck_assert_uint_eq(c.dom_star, 0);
	ck_assert_uint_eq(c.dow_star, 0);
	c = parse_ok("* * 5 * *,1");
	ck_assert_uint_eq(c.dom_star, 0);
	ck_assert_uint_eq(c.dow_star, 1);

	c = parse_ok("0 0 1 * *");
	ck_assert_uint_eq(c.dom_star, 0);
	ck_assert_uint_eq(c.dow_star, 1);
}
END_TEST

START_TEST(test_parse_whitespace)
{
	assert_same(" \t0  0\t* *   *\n ", "0 0 * * *");
	assert_same("\n@daily\t", "0 0 * * *");
}
END_TEST

static const struct {
	const char	*shortcut;
	const char	*means;
} shortcuts[] = {
	{ "@yearly",	"0 0 1 1 *" },
	{ "@annually",	"0 0 1 1 *" },
	{ "@monthly",	"0 0 1 * *" },
	{ "@weekly",	"0 0 * * 0" },
	{ "@daily",	"0 0 * * *" },
	{ "@midnight",	"0 0 * * *" },
	{ "@hourly",	"0 * * * *" },
	{ "@nightly",	"0 2 * * *" },
	{ "@DAILY",	"0 0 * * *" },
	{ "  @Hourly  ", "0 * * * *" },
};

START_TEST(test_parse_shortcuts)
{
	assert_same(shortcuts[_i].shortcut, shortcuts[_i].means);
}
END_TEST

START_TEST(test_parse_nightly)
{
	struct cron	c = parse_ok("@nightly");

	ck_assert(c.minutes == BIT(0));
	ck_assert_uint_eq(c.hours, BIT(2));
	ck_assert_uint_eq(c.dom_star, 1);
	ck_assert_uint_eq(c.dow_star, 1);
}
END_TEST

/* Every kind of error, with its message and the offset it points at. */
static const struct {
	const char	*expr;
	const char	*cause;
	size_t		 at;
} bad[] = {
	{ "",			"empty schedule", 0 },
	{ " \t ",		"empty schedule", 3 },
	{ "* * * *",		"expected 5 fields, got 4", 7 },
	{ "* * * *  ",		"expected 5 fields, got 4", 9 },
	{ "0",			"expected 5 fields, got 1", 1 },
	{ "* * * * * *",	"expected 5 fields, got 6", 10 },
	{ "* * * * *  x y",	"expected 5 fields, got 7", 11 },
	{ "61 * * * *",		"minute 61 is out of range 0-59", 0 },
	{ "1,60 * * * *",	"minute 60 is out of range 0-59", 2 },
	{ "* 24 * * *",		"hour 24 is out of range 0-23", 2 },
	{ "* 1-24 * * *",	"hour 24 is out of range 0-23", 4 },
	{ "* * 0 * *",		"day-of-month 0 is out of range 1-31", 4 },
	{ "* * 32 * *",		"day-of-month 32 is out of range 1-31", 4 },
	{ "* * * 0 *",		"month 0 is out of range 1-12", 6 },
	{ "* * * 13 *",		"month 13 is out of range 1-12", 6 },
	{ "* * * * 8",		"day-of-week 8 is out of range 0-7", 8 },
	{ "4294967357 * * * *",	"minute 4294967357 is out of range 0-59", 0 },
	{ "99999999999999999999 * * * *",
	    "minute 99999999999999999999 is out of range 0-59", 0 },
	{ "* */0 * * *",	"step 0 in hour field", 4 },
	{ "0/00 * * * *",	"step 0 in minute field", 2 },
	{ "*/60 * * * *",	"step 60 in minute field is out of range 1-59", 2 },
	{ "* * * * */8",	"step 8 in day-of-week field is out of range 1-7", 10 },
	{ "*/18446744073709551617 * * * *",
	    "step 18446744073709551617 in minute field is out of range 1-59", 2 },
	{ "* * * foo *",	"unknown month name `foo`", 6 },
	{ "* * * january *",	"unknown month name `january`", 6 },
	{ "* * * jan-foo *",	"unknown month name `foo`", 10 },
	{ "* * * * funday",	"unknown weekday name `funday`", 8 },
	{ "* * 10-5 * *",	"range 10-5 runs backwards in day-of-month field", 4 },
	{ "* * * * fri-mon",	"range fri-mon runs backwards in day-of-week field", 8 },
	{ "0 0 * dec-jan/2 *",	"range dec-jan runs backwards in month field", 6 },
	{ "1,,2 * * * *",	"empty item in minute field", 2 },
	{ ",1 * * * *",		"empty item in minute field", 0 },
	{ "* 1, * * *",		"empty item in hour field", 4 },
	{ "5x * * * *",		"unexpected `x` in minute field", 1 },
	{ "* mon * * *",	"unexpected `mon` in hour field", 2 },
	{ "* * * * mon2",	"unexpected `2` in day-of-week field", 11 },
	{ "*-5 * * * *",	"unexpected `-` in minute field", 1 },
	{ "1--5 * * * *",	"unexpected `-` in minute field", 2 },
	{ "1/2/3 * * * *",	"unexpected `/` in minute field", 3 },
	{ "** * * * *",		"unexpected `*` in minute field", 1 },
	{ "*/mon * * * *",	"unexpected `mon` in minute field", 2 },
	{ "? * * * *",		"unexpected `?` in minute field", 0 },
	{ "1- * * * *",		"missing end of range in minute field", 2 },
	{ "*/ * * * *",		"missing step in minute field", 2 },
	{ "\xff * * * *",	"unexpected `\\xff` in minute field", 0 },
	{ "* * * * \xc3\xa9",	"unexpected `\\xc3` in day-of-week field", 8 },
	{ "@foo",		"unknown shortcut `@foo`", 0 },
	{ "  @reboot",		"unknown shortcut `@reboot`", 2 },
	{ "@",			"unknown shortcut `@`", 0 },
	{ "@daily x",		"unexpected `x` after @daily", 7 },
	{ "@daily 0 0 * * *",	"unexpected `0` after @daily", 7 },
	{ "* @daily * * *",	"unexpected `@` in hour field", 2 },
};

START_TEST(test_parse_errors)
{
	struct cron	 c;
	char		*cause = NULL;
	size_t		 at = 12345;
	int		 rc;

	memset(&c, 0, sizeof c);
	rc = cron_parse(bad[_i].expr, &c, &cause, &at);
	ck_assert_msg(rc == -1, "\"%s\" parsed", bad[_i].expr);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, bad[_i].cause);
	ck_assert_msg(at == bad[_i].at, "\"%s\": at %zu, want %zu",
	    bad[_i].expr, at, bad[_i].at);
	free(cause);
}
END_TEST

/* Megabytes of digits or junk: an error, bounded message, no overflow. */
START_TEST(test_parse_errors_huge)
{
	struct cron	 c;
	size_t		 len = 1 << 20, at;
	char		*expr, *cause;

	ck_assert_ptr_nonnull(expr = malloc(len + sizeof " * * * *"));
	memset(expr, '9', len);
	strcpy(expr + len, " * * * *");
	cause = NULL;
	ck_assert_int_eq(cron_parse(expr, &c, &cause, &at), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause,
	    "minute 999999999999999999999999... is out of range 0-59");
	ck_assert_uint_eq(at, 0);
	free(cause);

	memset(expr, 'x', len);
	cause = NULL;
	ck_assert_int_eq(cron_parse(expr, &c, &cause, &at), -1);
	ck_assert_str_eq(cause,
	    "unexpected `xxxxxxxxxxxxxxxxxxxxxxxx...` in minute field");
	ck_assert_uint_eq(at, 0);
	free(cause);

	/* Many fields: counted, and the first extra one is pointed at. */
	memset(expr, ' ', len);
	memcpy(expr, "* * * * * *", 11);
	expr[len - 1] = '5';
	cause = NULL;
	ck_assert_int_eq(cron_parse(expr, &c, &cause, &at), -1);
	ck_assert_str_eq(cause, "expected 5 fields, got 11");
	ck_assert_uint_eq(at, 10);
	free(cause);
	free(expr);
}
END_TEST

START_TEST(test_parse_error_leaves_cron)
{
	struct cron	 c = parse_ok("1 2 3 4 5");
	char		*cause = NULL;
	size_t		 at;

	ck_assert_int_eq(cron_parse("1 2 3 4 mon-", &c, &cause, &at), -1);
	ck_assert_str_eq(cause, "missing end of range in day-of-week field");
	ck_assert_uint_eq(at, 12);
	free(cause);
	ck_assert(c.minutes == BIT(1));
	ck_assert_uint_eq(c.wdays, BIT(5));

	/* A caller that only wants yes or no may pass NULL for both. */
	ck_assert_int_eq(cron_parse("nope", &c, NULL, NULL), -1);
	ck_assert_int_eq(cron_parse("@daily", &c, NULL, NULL), 0);
	ck_assert_uint_eq(c.hours, BIT(0));
}
END_TEST

START_TEST(test_next_minute)
{
	use_tz("UTC0");
	assert_next("* * * * *", JAN1_2024, JAN1_2024 + MIN);
	assert_next("* * * * *", JAN1_2024 + 30, JAN1_2024 + MIN);
	assert_next("* * * * *", JAN1_2024 + 59, JAN1_2024 + MIN);
	assert_next("* * * * *", JAN1_2024 - 1, JAN1_2024);
	assert_next("*/15 * * * *", JAN1_2024 + 14 * MIN + 59,
	    JAN1_2024 + 15 * MIN);
	assert_next("*/15 * * * *", JAN1_2024 + 15 * MIN, JAN1_2024 + 30 * MIN);
	assert_next("0 * * * *", JAN1_2024, JAN1_2024 + HOUR);
}
END_TEST

START_TEST(test_next_hour_day)
{
	use_tz("UTC0");
	assert_next("5 * * * *", JAN1_2024 + 10 * HOUR + 6 * MIN,
	    JAN1_2024 + 11 * HOUR + 5 * MIN);
	assert_next("5 * * * *", JAN1_2024 + 23 * HOUR + 6 * MIN,
	    JAN1_2024 + DAY + 5 * MIN);
	assert_next("30 9 * * *", JAN1_2024 + 10 * HOUR,
	    JAN1_2024 + DAY + 9 * HOUR + 30 * MIN);
	assert_next("30 9 * * *", JAN1_2024 + 9 * HOUR + 29 * MIN,
	    JAN1_2024 + 9 * HOUR + 30 * MIN);
	assert_next("0 9-17/4 * * *", JAN1_2024 + 13 * HOUR,
	    JAN1_2024 + 17 * HOUR);
	assert_next("0 9-17/4 * * *", JAN1_2024 + 17 * HOUR,
	    JAN1_2024 + DAY + 9 * HOUR);
}
END_TEST

START_TEST(test_next_month_year)
{
	use_tz("UTC0");
	assert_next("0 0 1 * *", JAN1_2024 + 14 * DAY, JAN1_2024 + 31 * DAY);
	/* February 2024 has no 31st: straight on to March. */
	assert_next("0 12 31 * *", JAN1_2024 + 30 * DAY + 13 * HOUR,
	    JAN1_2024 + (31 + 29 + 30) * DAY + 12 * HOUR);
	assert_next("0 0 1 1 *", JAN1_2024, JAN1_2024 + 366 * DAY);
	assert_next("59 23 31 12 *", JAN1_2024 + 365 * DAY + 23 * HOUR + 59 * MIN,
	    JAN1_2024 + (366 + 364) * DAY + 23 * HOUR + 59 * MIN);
	assert_next("* * * * *", JAN1_2024 + 365 * DAY + 23 * HOUR + 59 * MIN,
	    JAN1_2024 + 366 * DAY);
	assert_next("0 0 * jul *", JAN1_2024 + 200 * DAY, JAN1_2024 + 201 * DAY);
	assert_next("0 0 * jul *", JAN1_2024 + 213 * DAY,
	    JAN1_2024 + (366 + 181) * DAY);
}
END_TEST

START_TEST(test_next_feb29)
{
	use_tz("UTC0");
	assert_next("0 0 29 2 *", MAR1_2024 - DAY - 1, MAR1_2024 - DAY);
	assert_next("0 0 29 2 *", MAR1_2024, FEB29_2028);
	/* 2100 is not a leap year: nearly eight years, still in range. */
	assert_next("0 0 29 2 *", MAR1_2096, FEB29_2104);
	assert_next("0 0 29 2 *", MAR1_2096 - DAY, FEB29_2104);
}
END_TEST

START_TEST(test_next_weekday)
{
	use_tz("UTC0");
	assert_next("0 12 * * mon", JAN1_2024 + 2 * DAY,
	    JAN1_2024 + 7 * DAY + 12 * HOUR);
	assert_next("0 0 * * 7", JAN1_2024, JAN1_2024 + 6 * DAY);
	assert_next("0 0 * * 0", JAN1_2024, JAN1_2024 + 6 * DAY);
	assert_next("0 8 * * mon-fri", JAN1_2024 + 4 * DAY + 9 * HOUR,
	    JAN1_2024 + 7 * DAY + 8 * HOUR);
	assert_next("@weekly", JAN1_2024, JAN1_2024 + 6 * DAY);
}
END_TEST

/* Vixie cron: a day field that begins with a star defers to the other one;
 * two that do not match either way. */
START_TEST(test_next_dom_dow)
{
	use_tz("UTC0");
	/* The 13th or any Friday: Fri 5th, Fri 12th, Sat 13th, Fri 19th. */
	assert_next("0 0 13 * 5", JAN1_2024, JAN1_2024 + 4 * DAY);
	assert_next("0 0 13 * 5", JAN1_2024 + 4 * DAY, JAN1_2024 + 11 * DAY);
	assert_next("0 0 13 * 5", JAN1_2024 + 11 * DAY, JAN1_2024 + 12 * DAY);
	assert_next("0 0 13 * 5", JAN1_2024 + 12 * DAY, JAN1_2024 + 18 * DAY);
	assert_next("0 0 13 * *", JAN1_2024, JAN1_2024 + 12 * DAY);
	assert_next("0 0 * * 5", JAN1_2024, JAN1_2024 + 4 * DAY);
	assert_next("0 0 13 * */1", JAN1_2024, JAN1_2024 + 12 * DAY);
	assert_next("0 0 */1 * 5", JAN1_2024 + 4 * DAY, JAN1_2024 + 11 * DAY);
	/* 1-31 is no star: OR with Friday, so every day. */
	assert_next("0 0 1-31 * 5", JAN1_2024 + 4 * DAY, JAN1_2024 + 5 * DAY);
	/* A month restricts both: February 30th or a Monday in February. */
	assert_next("0 0 30 2 1", JAN1_2024, JAN1_2024 + 35 * DAY);

	/*
	 * A stepped star is a star: odd days that are Mondays (AND), so after
	 * Mon 1st the 15th and the 29th, then Mon 5 February; not odd days or
	 * Mondays (Wed 3rd, Mon 8th).
	 */
	assert_next("0 0 */2 * mon", JAN1_2024 - 1, JAN1_2024);
	assert_next("0 0 */2 * mon", JAN1_2024, JAN1_2024 + 14 * DAY);
	assert_next("0 0 */2 * mon", JAN1_2024 + 14 * DAY,
	    JAN1_2024 + 28 * DAY);
	assert_next("0 0 */2 * mon", JAN1_2024 + 28 * DAY,
	    JAN1_2024 + 35 * DAY);
	/* Neither begins with a star: the 1st, the 15th or any Monday. */
	assert_next("0 0 1,15 * mon", JAN1_2024, JAN1_2024 + 7 * DAY);
	assert_next("0 0 1,15 * mon", JAN1_2024 + 7 * DAY,
	    JAN1_2024 + 14 * DAY);
	assert_next("0 0 1,15 * mon", JAN1_2024 + 14 * DAY,
	    JAN1_2024 + 21 * DAY);
	assert_next("0 0 1,15 * mon", JAN1_2024 + 28 * DAY,
	    JAN1_2024 + 31 * DAY);
	/* Sun, Tue, Thu, Sat: Tue 2nd, Thu 4th, Sat 6th, Sun 7th. */
	assert_next("0 0 * * */2", JAN1_2024, JAN1_2024 + DAY);
	assert_next("0 0 * * */2", JAN1_2024 + DAY, JAN1_2024 + 3 * DAY);
	assert_next("0 0 * * */2", JAN1_2024 + 5 * DAY, JAN1_2024 + 6 * DAY);
	/* The 1st and 15th only on those weekdays: 1 and 15 January are
	 * Mondays, 1 and 15 February Thursdays. */
	assert_next("0 0 1,15 * */2", JAN1_2024 - 1, JAN1_2024 + 31 * DAY);
	assert_next("0 0 1,15 * */2", JAN1_2024 + 31 * DAY,
	    JAN1_2024 + 45 * DAY);
	/* "*,15" begins with a star too: every Friday, no 15th. */
	assert_next("0 0 *,15 * 5", JAN1_2024 + 5 * DAY, JAN1_2024 + 11 * DAY);
}
END_TEST

static double
elapsed(const struct timespec *a)
{
	struct timespec	b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((double)(b.tv_sec - a->tv_sec) +
	    (double)(b.tv_nsec - a->tv_nsec) / 1e9);
}

/* Stepping minute by minute would take millions of mktime calls here. */
START_TEST(test_next_never)
{
	static const char *const never[] = {
		"0 0 30 2 *", "0 0 31 4 *", "* * 31 2,4,6,9,11 *",
		"* * 30,31 2 *",
	};
	struct timespec	start;
	struct cron	c;
	size_t		i;
	int		round;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (round = 0; round < 2; round++) {
		if (round == 0)
			use_tz("UTC0");
		else
			use_berlin();
		for (i = 0; i < nitems(never); i++) {
			c = parse_ok(never[i]);
			ck_assert_msg(cron_next(&c, JAN1_2024) == (time_t)-1,
			    "%s matched", never[i]);
			ck_assert_msg(cron_next(&c, MAR1_2096) == (time_t)-1,
			    "%s matched", never[i]);
		}
	}
	ck_assert_msg(elapsed(&start) < 0.5, "took %.3fs", elapsed(&start));
}
END_TEST

/* A struct nobody parsed: empty or out-of-range bits must not hang. */
START_TEST(test_next_odd_struct)
{
	struct cron	c;

	use_tz("UTC0");
	memset(&c, 0, sizeof c);
	ck_assert(cron_next(&c, JAN1_2024) == (time_t)-1);
	c.minutes = BIT(63) | BIT(61);
	c.hours = 0xff000000;
	c.months = 0xe001;
	c.mdays = 1;
	c.wdays = 0x80;
	ck_assert(cron_next(&c, JAN1_2024) == (time_t)-1);
	c = parse_ok("* * * * *");
	c.minutes |= BIT(62);
	ck_assert(cron_next(&c, JAN1_2024) == JAN1_2024 + MIN);
}
END_TEST

START_TEST(test_dst_spring)
{
	use_berlin();
	/*
	 * 02:00-02:59 does not exist on 2024-03-31: a fixed time in it runs
	 * late, once, at 03:00 CEST, and the next is a day later.
	 */
	assert_next("30 2 * * *", BER_SPRING - 14 * HOUR, BER_SPRING);
	assert_next("30 2 * * *", BER_SPRING, BER_SPRING + DAY - 30 * MIN);
	assert_next("0 2 * * *", BER_SPRING - 14 * HOUR, BER_SPRING);
	assert_next("0 2 * * *", BER_SPRING, BER_SPRING + DAY - HOUR);
	assert_next("@nightly", BER_SPRING - 14 * HOUR, BER_SPRING);
	assert_next("@nightly", BER_SPRING, BER_SPRING + DAY - HOUR);
	/* From just before the jump too, not only from the day before. */
	assert_next("30 2 * * *", BER_SPRING - MIN, BER_SPRING);
	assert_next("30 2 * * *", BER_SPRING - 1, BER_SPRING);
	assert_next("30 2 * * *", BER_SPRING - 60 * MIN - 1, BER_SPRING);
	/* Three matches in the gap still make one run. */
	assert_next("*/20 2 * * *", BER_SPRING - HOUR, BER_SPRING);
	assert_next("*/20 2 * * *", BER_SPRING, BER_SPRING + DAY - HOUR);
	/* A late 02:00 and a real 03:00 are one run; 03:30 is its own. */
	assert_next("0,30 2,3 * * *", BER_SPRING - HOUR, BER_SPRING);
	assert_next("0,30 2,3 * * *", BER_SPRING, BER_SPRING + 30 * MIN);
	/* The day fields count on the day the gap is in (a Sunday). */
	assert_next("30 2 * * sun", BER_SPRING - 2 * DAY, BER_SPRING);
	assert_next("30 2 * * sun", BER_SPRING,
	    BER_SPRING + 7 * DAY - 30 * MIN);
	assert_next("30 2 * * sat", BER_SPRING - HOUR,
	    BER_SPRING + 6 * DAY - 30 * MIN);

	/*
	 * Schedules that fire every minute or every hour follow real time: no
	 * late run for the minutes the clock skipped.
	 */
	assert_next("* * * * *", BER_SPRING - MIN, BER_SPRING);
	assert_next("* * * * *", BER_SPRING, BER_SPRING + MIN);
	assert_next("*/15 * * * *", BER_SPRING - 15 * MIN, BER_SPRING);
	assert_next("10 * * * *", BER_SPRING - 30 * MIN, BER_SPRING + 10 * MIN);
	assert_next("* 2 * * *", BER_SPRING - HOUR, BER_SPRING + DAY - HOUR);
	assert_next("0 3 * * *", BER_SPRING - 2 * HOUR, BER_SPRING);
	assert_next("30 1 * * *", BER_SPRING - HOUR, BER_SPRING - 30 * MIN);
}
END_TEST

START_TEST(test_dst_autumn)
{
	use_berlin();
	/* 02:00-02:59 happens twice on 2024-10-27; a fixed time runs once,
	 * at the first, and after either the next is a day later. */
	assert_next("30 2 * * *", BER_AUTUMN - 15 * HOUR,
	    BER_AUTUMN - 30 * MIN);
	assert_next("30 2 * * *", BER_AUTUMN - 30 * MIN,
	    BER_AUTUMN + DAY + 30 * MIN);
	assert_next("30 2 * * *", BER_AUTUMN + 10 * MIN,
	    BER_AUTUMN + DAY + 30 * MIN);
	assert_next("@nightly", BER_AUTUMN - HOUR, BER_AUTUMN + DAY);
	/* Every-hour schedules follow real time through the repeated hour. */
	assert_next("*/15 * * * *", BER_AUTUMN - 15 * MIN, BER_AUTUMN);
	assert_next("*/15 * * * *", BER_AUTUMN + 45 * MIN, BER_AUTUMN + HOUR);
	assert_next("* * * * *", BER_AUTUMN - MIN, BER_AUTUMN);
	assert_next("0 * * * *", BER_AUTUMN - 30 * MIN, BER_AUTUMN);
	assert_next("0 3 * * *", BER_AUTUMN - 30 * MIN, BER_AUTUMN + HOUR);
	/* In time order: 02:50 CEST, 02:00 CET, 02:50 CET, 03:00 CET. */
	assert_next("0,50 * * * *", BER_AUTUMN - 15 * MIN, BER_AUTUMN - 10 * MIN);
	assert_next("0,50 * * * *", BER_AUTUMN - 10 * MIN, BER_AUTUMN);
	assert_next("0,50 * * * *", BER_AUTUMN, BER_AUTUMN + 50 * MIN);
	assert_next("0,50 * * * *", BER_AUTUMN + 50 * MIN, BER_AUTUMN + HOUR);
	assert_next("* 2 * * *", BER_AUTUMN - MIN, BER_AUTUMN);
	assert_next("* 2 * * *", BER_AUTUMN + 59 * MIN, BER_AUTUMN + DAY);
}
END_TEST

START_TEST(test_dst_new_york)
{
	use_zone("America/New_York", NYC_SPRING, 3, 0);
	/* 02:00 is the missing hour in the US too: @nightly runs at 03:00. */
	assert_next("@nightly", NYC_MAR9_NOON, NYC_SPRING);
	assert_next("@nightly", NYC_SPRING, NYC_MAR11_2AM);
	assert_next("30 2 * * *", NYC_SPRING - 2 * HOUR, NYC_SPRING);
	assert_next("30 2 * * *", NYC_SPRING - 1, NYC_SPRING);
	assert_next("30 2 * * *", NYC_SPRING, NYC_MAR11_2AM + 30 * MIN);
	assert_next("15 * * * *", NYC_SPRING - 30 * MIN, NYC_SPRING + 15 * MIN);
	assert_next("* * * * *", NYC_SPRING - MIN, NYC_SPRING);

	/* 01:00-01:59 comes twice on 2024-11-03: a fixed time runs at the
	 * first, every-minute schedules at both, and 02:00 EST is new. */
	assert_next("30 1 * * *", NYC_AUTUMN - 2 * HOUR, NYC_AUTUMN - 30 * MIN);
	assert_next("30 1 * * *", NYC_AUTUMN - 30 * MIN,
	    NYC_AUTUMN + DAY + 30 * MIN);
	assert_next("*/30 * * * *", NYC_AUTUMN - MIN, NYC_AUTUMN);
	assert_next("*/30 * * * *", NYC_AUTUMN, NYC_AUTUMN + 30 * MIN);
	assert_next("@nightly", NYC_AUTUMN - 3 * HOUR, NYC_AUTUMN + HOUR);
}
END_TEST

/* Jumps that are not an hour on the hour. */
START_TEST(test_dst_odd_jumps)
{
	/* Lord Howe Island: 02:00-02:29 does not exist on 2024-10-06. */
	use_zone("Australia/Lord_Howe", LHI_SPRING, 2, 30);
	assert_next("0 2 * * *", LHI_SPRING - 3 * HOUR, LHI_SPRING);
	assert_next("15 2 * * *", LHI_SPRING - 3 * HOUR, LHI_SPRING);
	assert_next("45 2 * * *", LHI_SPRING - 3 * HOUR, LHI_SPRING + 15 * MIN);
	assert_next("0,45 2 * * *", LHI_SPRING, LHI_SPRING + 15 * MIN);
	assert_next("*/15 * * * *", LHI_SPRING - MIN, LHI_SPRING);
	assert_next("10 * * * *", LHI_SPRING - 20 * MIN, LHI_SPRING + 40 * MIN);

	/* Apia: all of 2011-12-30 is missing; what it matched runs once. */
	use_zone("Pacific/Apia", APIA_JUMP, 0, 0);
	assert_next("0 2 * * *", APIA_JUMP - 12 * HOUR, APIA_JUMP);
	assert_next("0 2 * * *", APIA_JUMP, APIA_JUMP + 2 * HOUR);
	assert_next("0 12 30 12 *", APIA_JUMP - DAY, APIA_JUMP);
	assert_next("0 12 30 12 *", APIA_JUMP,
	    APIA_JUMP + 366 * DAY - 12 * HOUR);
	assert_next("30 * * * *", APIA_JUMP - 10 * MIN, APIA_JUMP + 30 * MIN);
	assert_next("0 * * * *", APIA_JUMP - MIN, APIA_JUMP);

	/* Landing mid-minute, a late run waits for the next whole one. */
	use_zone("Europe/Berlin", BER_CET + 28, 0, 7);
	assert_next("0 0 * * *", BER_CET - HOUR, BER_CET + 28);
	assert_next("6 0 * * *", BER_CET - HOUR, BER_CET + 28);
	assert_next("7 0 * * *", BER_CET - HOUR, BER_CET + 28);
	assert_next("0,8 0 * * *", BER_CET + 28, BER_CET + 28 + MIN);
	assert_next("* * * * *", BER_CET - 1, BER_CET + 28);
}
END_TEST

/*
 * Against the obvious oracle, a minute-by-minute scan in UTC for 40 days:
 * whatever cron_next skips, it must skip exactly what the scan would.
 */
static const char *const oracle_exprs[] = {
	"*/7 * * * *", "5,35 */5 * * *", "0 0 13 * 5", "0 0 1-7 * 1",
	"15 10 * * 1-5", "0 12 */10 * *", "30 4 1,15 * 0", "0 0 * jan,mar *",
	"59 23 * * 6", "0 0 29 * *", "0 9-17/2 * * mon-fri", "10-50/20 3 * * *",
	"0 0 31 * *", "*/45 1 * * 7", "0 0 30 2 2", "59 * 28-31 * *",
	"1 2 3 4 *", "0 0 1 * *", "0 0 * * *", "* 23 29 2 *",
	"0 0 */2 * mon", "0 0 1,15 * mon", "0 0 1,15 * */2", "0 0 *,15 * 5",
	"0 0 */3 * 1-5", "0 0 2-31/2 * 0,6",
};

static int
oracle_matches(const struct cron *c, const struct tm *tm)
{
	int	dom, dow;

	if (!(c->minutes >> tm->tm_min & 1) || !(c->hours >> tm->tm_hour & 1) ||
	    !(c->months >> (tm->tm_mon + 1) & 1))
		return (0);
	dom = c->mdays >> tm->tm_mday & 1;
	dow = c->wdays >> tm->tm_wday & 1;
	if (c->dom_star || c->dow_star)
		return (dom && dow);
	return (dom || dow);
}

START_TEST(test_next_oracle)
{
	static const time_t starts[] = {
		JAN1_2024 + 29 * DAY + 23 * HOUR + 59 * MIN + 30,
		JAN1_2024 - 1,
		MAR1_2024 - 2 * DAY + 12 * HOUR,
		MAR1_2096 - 40 * DAY + 7,
	};
	const time_t	 horizon = 40 * DAY;
	struct cron	 c = parse_ok(oracle_exprs[_i]);
	struct tm	 tm;
	time_t		 after, t, got, want;
	size_t		 i;
	char		 b1[64], b2[64], b3[64];

	use_tz("UTC0");
	for (i = 0; i < nitems(starts); i++) {
		after = starts[i];
		want = (time_t)-1;
		for (t = after - after % MIN + MIN; t <= after + horizon;
		    t += MIN) {
			ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
			if (oracle_matches(&c, &tm)) {
				want = t;
				break;
			}
		}
		got = cron_next(&c, after);
		if (want == (time_t)-1)
			ck_assert_msg(got == (time_t)-1 || got > after + horizon,
			    "\"%s\" after %s: got %s, none in 40 days",
			    oracle_exprs[_i], fmt_utc(after, b1, sizeof b1),
			    fmt_utc(got, b2, sizeof b2));
		else
			ck_assert_msg(got == want, "\"%s\" after %s: got %s, "
			    "want %s", oracle_exprs[_i],
			    fmt_utc(after, b1, sizeof b1),
			    fmt_utc(got, b2, sizeof b2),
			    fmt_utc(want, b3, sizeof b3));
	}
}
END_TEST

/*
 * Against an oracle that walks real time a minute at a time for a day either
 * side of a clock change: a schedule that covers every minute or every hour
 * fires whenever the wall clock matches; any other fires the first time the
 * wall clock shows a minute it matches, and once just after a jump over one.
 */
static const struct {
	const char	*tz;
	time_t		 change;
	int		 hour, min;	/* local wall clock at change */
} dst_windows[] = {
	{ "Europe/Berlin",	BER_SPRING,	3, 0 },
	{ "Europe/Berlin",	BER_AUTUMN,	2, 0 },
	{ "America/New_York",	NYC_SPRING,	3, 0 },
	{ "America/New_York",	NYC_AUTUMN,	1, 0 },
	{ "Australia/Lord_Howe", LHI_SPRING,	2, 30 },
	{ "Australia/Lord_Howe", LHI_AUTUMN,	1, 30 },
	{ "Pacific/Apia",	APIA_JUMP,	0, 0 },
};

static const char *const dst_exprs[] = {
	"30 2 * * *", "0 2 * * *", "*/20 2 * * *", "0,30 2,3 * * *",
	"15 1-3 * * *", "45 0-4/2 * * *", "*/10 1-3 * * *", "59 1 * * *",
	"0 3 * * *", "30 2 * * sun", "0 12 30 12 *", "30 1 * * *",
	"0 0-5 * * *", "0-59/2 0-22 * * *",
	"* * * * *", "*/15 * * * *", "10 * * * *", "* 2 * * *",
	"0,50 * * * *", "*/7 * * * *", "45 * * * 0", "* * 30,31 * *",
};

#define DST_SPAN	(26 * HOUR)
#define DST_STEPS	(2 * DST_SPAN / MIN + 1)

/* The local wall-clock minute at t, counted from 1970-01-01 00:00. */
static long long
wall_minute(time_t t, struct tm *tm)
{
	struct tm	copy;

	ck_assert_ptr_nonnull(localtime_r(&t, tm));
	copy = *tm;
	copy.tm_sec = 0;
	return ((long long)timegm(&copy) / 60);
}

START_TEST(test_dst_oracle)
{
	static char	 fires[DST_STEPS];
	struct cron	 c = parse_ok(dst_exprs[_i]);
	struct tm	 tm, gap;
	long long	 w, prev, seen, m;
	time_t		 start, t, u, after, got, want;
	size_t		 z, k, j;
	int		 realtime;
	char		 b1[64], b2[64], b3[64];

	realtime = c.minutes == BIT(60) - 1 || c.hours == BIT(24) - 1;
	for (z = 0; z < nitems(dst_windows); z++) {
		use_zone(dst_windows[z].tz, dst_windows[z].change,
		    dst_windows[z].hour, dst_windows[z].min);
		start = dst_windows[z].change - DST_SPAN;

		seen = LLONG_MIN;
		for (t = start - 3 * HOUR; t < start; t += MIN) {
			if ((w = wall_minute(t, &tm)) > seen)
				seen = w;
		}
		prev = wall_minute(start - MIN, &tm);
		for (k = 0; k < DST_STEPS; k++) {
			t = start + (time_t)k * MIN;
			w = wall_minute(t, &tm);
			fires[k] = oracle_matches(&c, &tm) &&
			    (realtime || w > seen);
			for (m = prev + 1; !realtime && !fires[k] && m < w;
			    m++) {
				u = (time_t)(m * 60);
				ck_assert_ptr_nonnull(gmtime_r(&u, &gap));
				fires[k] = oracle_matches(&c, &gap);
			}
			if (w > seen)
				seen = w;
			prev = w;
		}

		/* From every firing, from the middle of every 7th minute and of
		 * the minutes around the change. */
		after = start - 1;
		for (k = 0; k <= DST_STEPS; k++) {
			if (k < DST_STEPS && !fires[k])
				continue;
			want = k < DST_STEPS ? start + (time_t)k * MIN :
			    (time_t)-1;
			got = cron_next(&c, after);
			if (want == (time_t)-1 && got > start + DST_SPAN * 2)
				continue;
			ck_assert_msg(got == want,
			    "%s \"%s\" after %s: got %s, want %s",
			    dst_windows[z].tz, dst_exprs[_i],
			    fmt_utc(after, b1, sizeof b1),
			    fmt_utc(got, b2, sizeof b2),
			    fmt_utc(want, b3, sizeof b3));
			after = want;
		}
		for (k = 0; k < DST_STEPS; k++) {
			if (k % 7 != 0 && (k + 2 < DST_SPAN / MIN ||
			    k > DST_SPAN / MIN + 2))
				continue;
			for (j = k; j < DST_STEPS && !fires[j]; j++)
				/* nothing */;
			if (j == DST_STEPS)
				break;
			after = start + (time_t)k * MIN - 30;
			want = start + (time_t)j * MIN;
			got = cron_next(&c, after);
			ck_assert_msg(got == want,
			    "%s \"%s\" after %s: got %s, want %s",
			    dst_windows[z].tz, dst_exprs[_i],
			    fmt_utc(after, b1, sizeof b1),
			    fmt_utc(got, b2, sizeof b2),
			    fmt_utc(want, b3, sizeof b3));
		}
	}
}
END_TEST

static Suite *
cron_suite(void)
{
	Suite	*s = suite_create("cron");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_every);
	tcase_add_test(tc, test_parse_lists_ranges);
	tcase_add_test(tc, test_parse_steps);
	tcase_add_test(tc, test_parse_names);
	tcase_add_test(tc, test_parse_star_flags);
	tcase_add_test(tc, test_parse_whitespace);
	tcase_add_loop_test(tc, test_parse_shortcuts, 0, nitems(shortcuts));
	tcase_add_test(tc, test_parse_nightly);
	tcase_add_loop_test(tc, test_parse_errors, 0, nitems(bad));
	tcase_add_test(tc, test_parse_errors_huge);
	tcase_add_test(tc, test_parse_error_leaves_cron);
	suite_add_tcase(s, tc);

	tc = tcase_create("next");
	tcase_add_test(tc, test_next_minute);
	tcase_add_test(tc, test_next_hour_day);
	tcase_add_test(tc, test_next_month_year);
	tcase_add_test(tc, test_next_feb29);
	tcase_add_test(tc, test_next_weekday);
	tcase_add_test(tc, test_next_dom_dow);
	tcase_add_test(tc, test_next_never);
	tcase_add_test(tc, test_next_odd_struct);
	tcase_add_loop_test(tc, test_next_oracle, 0, nitems(oracle_exprs));
	suite_add_tcase(s, tc);

	tc = tcase_create("dst");
	tcase_add_test(tc, test_dst_spring);
	tcase_add_test(tc, test_dst_autumn);
	tcase_add_test(tc, test_dst_new_york);
	tcase_add_test(tc, test_dst_odd_jumps);
	tcase_add_loop_test(tc, test_dst_oracle, 0, nitems(dst_exprs));
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return test_run(cron_suite());
}
