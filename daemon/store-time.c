/* store-time.c: the times the store shows and the API accepts: RFC 3339 in
 * UTC with milliseconds out, RFC 3339 with any offset or unix seconds in. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store.h"

#define NS_PER_S	1000000000ULL
#define S_PER_DAY	86400

/*
 * Days since 1970-01-01 of a proleptic Gregorian date and back (Howard
 * Hinnant's algorithms), so neither way depends on the TZ or on time_t.
 */
static int64_t
time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
time_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t		era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void
store_time_format(uint64_t ns, char *buf, size_t len)
{
	uint64_t	s = ns / NS_PER_S;
	unsigned	ms = (unsigned)(ns % NS_PER_S / 1000000);
	unsigned	sod = (unsigned)(s % S_PER_DAY);
	int64_t		y;
	unsigned	m, d;

	if (buf == NULL || len == 0)
		return;
	time_civil_from_days((int64_t)(s / S_PER_DAY), &y, &m, &d);
	snprintf(buf, len, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
	    (long long)y, m, d, sod / 3600, sod / 60 % 60, sod % 60, ms);
}

/* n digits at *p into *v; advances *p. */
static bool
time_digits(const char **p, unsigned n, unsigned *v)
{
	unsigned	i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	return true;
}

static bool
time_expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

static unsigned
time_month_days(unsigned y, unsigned m)
{
	static const unsigned	days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* Unix seconds: s is all digits. */
static int
time_parse_unix(const char *s, uint64_t *ns)
{
	uint64_t	v = 0;

	for (; *s != '\0'; s++) {
		if (v > (UINT64_MAX / NS_PER_S - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ns = v * NS_PER_S;
	return 0;
}

int
store_time_parse(const char *s, uint64_t *ns)
{
	const char	*p = s;
	unsigned	 y, mo, d, h, mi, sec, oh, om, frac = 0, scale;
	int64_t		 secs, offset = 0;

	if (s == NULL || ns == NULL || *s == '\0')
		return -1;
	if (s[strspn(s, "0123456789")] == '\0')
		return time_parse_unix(s, ns);

	if (!time_digits(&p, 4, &y) || !time_expect(&p, '-') ||
	    !time_digits(&p, 2, &mo) || !time_expect(&p, '-') ||
	    !time_digits(&p, 2, &d))
		return -1;
	if (*p != 'T' && *p != 't')
		return -1;
	p++;
	if (!time_digits(&p, 2, &h) || !time_expect(&p, ':') ||
	    !time_digits(&p, 2, &mi) || !time_expect(&p, ':') ||
	    !time_digits(&p, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > time_month_days(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)	/* 60: a leap second */
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		/* Nanoseconds are all a time keeps; more digits are read, not kept. */
		for (scale = 100000000; *p >= '0' && *p <= '9'; p++) {
			frac += (unsigned)(*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		const char	*sign = p++;

		if (!time_digits(&p, 2, &oh) || !time_expect(&p, ':') ||
		    !time_digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
		offset = (int64_t)oh * 3600 + om * 60;
		if (*sign == '-')
			offset = -offset;
	} else
		return -1;
	if (*p != '\0')
		return -1;

	secs = time_days_from_civil(y, mo, d) * S_PER_DAY + h * 3600 + mi * 60 +
	    sec - offset;
	if (secs < 0 || (uint64_t)secs > UINT64_MAX / NS_PER_S ||
	    (uint64_t)secs * NS_PER_S > UINT64_MAX - frac)
		return -1;
	*ns = (uint64_t)secs * NS_PER_S + frac;
	return 0;
}
