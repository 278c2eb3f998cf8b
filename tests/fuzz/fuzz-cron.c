/* fuzz-cron.c: libFuzzer target for campaign schedules: any expression, time
 * zone and start time; what parses must find a later minute that matches, or
 * run late for one the clock skipped. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotsoak/cron.h"

static const char *zones[] = { "Europe/Berlin", "America/New_York",
    "Australia/Lord_Howe", "Pacific/Apia", "UTC0", "Asia/Kathmandu",
    "America/Sao_Paulo", "Europe/Dublin" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
matches(const struct cron *c, const struct tm *tm)
{
	int dom, dow;

	if (!(c->minutes >> tm->tm_min & 1) || !(c->hours >> tm->tm_hour & 1) ||
	    !(c->months >> (tm->tm_mon + 1) & 1))
		return 0;
	dom = c->mdays >> tm->tm_mday & 1;
	dow = c->wdays >> tm->tm_wday & 1;
	return (c->dom_star || c->dow_star) ? (dom && dow) : (dom || dow);
}

/*
 * A fixed-time schedule (minute and hour fields both short of every value)
 * runs late, at the first whole minute after the clock jumps forward over a
 * minute it matches: t must be just after such a jump, and some wall-clock
 * minute the jump skipped must match.
 */
static int
caught_up(const struct cron *c, time_t t)
{
	struct tm before, at, g;
	time_t prev = t - 60, from, to, u;

	if (c->minutes == (UINT64_C(1) << 60) - 1 ||
	    c->hours == (UINT32_C(1) << 24) - 1)
		return 0;
	if (localtime_r(&prev, &before) == NULL || localtime_r(&t, &at) == NULL)
		return 0;
	before.tm_sec = at.tm_sec = 0;
	from = timegm(&before);
	to = timegm(&at);
	if (from == (time_t)-1 || to == (time_t)-1)
		return 0;
	/* No zone has jumped more than a day. */
	for (u = from + 60; u < to && u - from <= 2 * 86400; u += 60) {
		if (gmtime_r(&u, &g) != NULL && matches(c, &g))
			return 1;
	}
	return 0;
}

static void
check_result(const struct cron *c, time_t after, time_t t)
{
	struct tm tm;

	if (t == (time_t)-1)
		return;
	if (t <= after) abort();
	if (t - after > (time_t)9 * 366 * 86400) abort();
	if (localtime_r(&t, &tm) == NULL || tm.tm_sec != 0) abort();
	if (!matches(c, &tm) && !caught_up(c, t))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cron	 c;
	char		*expr, *cause = NULL;
	size_t		 at = (size_t)-1, len;
	int64_t		 raw;
	time_t		 after, t;
	int		 mode;

	if (size < 10)
		return 0;
	memcpy(&raw, data, 8);
	mode = data[8];
	setenv("TZ", zones[data[9] % (sizeof zones / sizeof zones[0])], 1);
	tzset();
	data += 10;
	size -= 10;
	/* Mostly plausible instants, sometimes any 64-bit value. */
	after = (mode & 1) ? (time_t)raw : (time_t)((uint64_t)raw % 8000000000ULL);

	if (mode & 2) {
		/* A raw struct, as a careless caller might build. */
		memset(&c, 0, sizeof c);
		if (size >= 20) {
			memcpy(&c.minutes, data, 8);
			memcpy(&c.hours, data + 8, 4);
			memcpy(&c.mdays, data + 12, 4);
			memcpy(&c.months, data + 16, 2);
			c.wdays = data[18];
			c.dom_star = data[19] & 1;
			c.dow_star = data[19] >> 1 & 1;
		}
		t = cron_next(&c, after);
		if (t != (time_t)-1 && t <= after) abort();
		return 0;
	}

	expr = malloc(size + 1);
	memcpy(expr, data, size);
	expr[size] = '\0';
	len = strlen(expr);
	if (cron_parse(expr, &c, &cause, &at) == 0) {
		if (cause != NULL) abort();
		if ((c.minutes >> 60) || (c.hours >> 24) || (c.mdays & 1) ||
		    (c.months & 0xe001) || (c.wdays & 0x80))
			abort();
		if (c.minutes == 0 || c.hours == 0 || c.months == 0)
			abort();
		t = cron_next(&c, after);
		check_result(&c, after, t);
		if (t != (time_t)-1)
			check_result(&c, t, cron_next(&c, t));
	} else {
		if (cause == NULL || at > len || strlen(cause) > 200)
			abort();
		for (const char *p = cause; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				abort();
		free(cause);
	}
	free(expr);
	return 0;
}
