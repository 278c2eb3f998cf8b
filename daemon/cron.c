/* cron.c: parses five-field cron schedules and the @-shortcuts into bitmasks,
 * and finds the next local minute a schedule fires, for campaign schedules. */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotsoak/cron.h"

/* Fields in an expression, in order. */
enum cron_field_id {
	CRON_MINUTE,		/* 0-59 */
	CRON_HOUR,		/* 0-23 */
	CRON_MDAY,		/* 1-31 */
	CRON_MONTH,		/* 1-12 or jan-dec */
	CRON_WDAY,		/* 0-7 or sun-sat, 7 is Sunday again */
	CRON_FIELDS		/* number of fields, not a field */
};

/* What cron_resolve made of one wall-clock minute. */
enum cron_resolve {
	CRON_FOUND,		/* it fires at *t */
	CRON_SKIP,		/* not here: past, or a gap in real time */
	CRON_FAIL		/* mktime cannot represent it: give up */
};

/*
 * Numbers saturate here, far past every field's range and far below INT_MAX,
 * so a string of a million digits is an out-of-range number and no overflow.
 */
#define CRON_NUMBER_MAX	1000000

/* Bytes of the expression a message quotes; a 1 MB junk field stays short. */
#define CRON_QUOTE_MAX	24
#define CRON_QUOTE_SIZE	(CRON_QUOTE_MAX * 4 + sizeof "...")

/* Give up after this many years: "0 0 30 2 *" would otherwise run forever. */
#define CRON_YEARS	8

/* Further than any zone has been from UTC (Asia/Manila's local mean time was
 * -15:56), so a day and two hours either side of a wall-clock time read as UTC
 * brackets the instants it can be. */
#define CRON_GAP_SPAN	((time_t)26 * 3600)

#define CRON_MINUTES_ALL ((UINT64_C(1) << 60) - 1)
#define CRON_HOURS_ALL	((UINT32_C(1) << 24) - 1)
#define CRON_MONTHS_ALL	0x1ffe
#define CRON_WDAYS_ALL	0x7f

struct cron_field {
	const char		*name;		/* in messages: "day-of-month" */
	int			 min;
	int			 max;
	const char *const	*names;		/* names of min, min + 1, ..., or NULL */
	const char		*name_kind;	/* "unknown <kind> name" */
};

static const char *const cron_month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL
};

static const char *const cron_wday_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

static const struct cron_field cron_fields[CRON_FIELDS] = {
	{ "minute",		0, 59, NULL,			NULL },
	{ "hour",		0, 23, NULL,			NULL },
	{ "day-of-month",	1, 31, NULL,			NULL },
	{ "month",		1, 12, cron_month_names,	"month" },
	/* 7 is accepted because Vixie cron does; it is folded into bit 0. */
	{ "day-of-week",	0, 7,  cron_wday_names,		"weekday" },
};

/* Sorted by name. Matched without regard to case, like the names. */
static const struct cron_shortcut {
	const char	*name;
	const char	*expansion;
} cron_shortcuts[] = {
	{ "@annually",	"0 0 1 1 *" },
	{ "@daily",	"0 0 * * *" },
	{ "@hourly",	"0 * * * *" },
	{ "@midnight",	"0 0 * * *" },
	{ "@monthly",	"0 0 1 * *" },
	/*
	 * 02:00 local time, the usual nightly soak slot. Where clocks change
	 * at 02:00 (EU, US) that minute is missing one night a year and the
	 * run starts at 03:00 instead; where 02:00 comes twice it runs once.
	 */
	{ "@nightly",	"0 2 * * *" },
	{ "@weekly",	"0 0 * * 0" },
	{ "@yearly",	"0 0 1 1 *" },
};

struct cron_parser {
	const char	*expr;
	char		**cause;
	size_t		*at;
};

/* A local wall-clock minute, kept apart from struct tm so mktime cannot
 * renormalize it behind our back. */
struct cron_wall {
	long long	year;
	int		mon;		/* 1-12 */
	int		mday;
	int		hour;
	int		min;
};

static int	cron_error(struct cron_parser *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Classify bytes ourselves: <ctype.h> follows the locale and is UB on
 * negative chars, and an expression may hold any byte. */
static int
cron_isspace(char ch)
{
	return (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	    ch == '\v' || ch == '\f');
}

static int
cron_isdigit(char ch)
{
	return (ch >= '0' && ch <= '9');
}

static int
cron_isalpha(char ch)
{
	return ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'));
}

static char
cron_tolower(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ((char)(ch - 'A' + 'a'));
	return (ch);
}

/* Whether s[0..len) is name, ignoring ASCII case. */
static int
cron_name_is(const char *s, size_t len, const char *name)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (name[i] == '\0' || cron_tolower(s[i]) != name[i])
			return (0);
	}
	return (name[i] == '\0');
}

static size_t
cron_skip_space(const char *s, size_t i)
{
	while (cron_isspace(s[i]))
		i++;
	return (i);
}

/*
 * Copy s[0..len) into buf for a message, with bytes outside printable ASCII
 * as \xHH so a message stays clean text, and long spans cut short.
 */
static const char *
cron_quote(const char *s, size_t len, char buf[CRON_QUOTE_SIZE])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 ch;
	size_t			 i, out = 0;

	for (i = 0; i < len && i < CRON_QUOTE_MAX; i++) {
		ch = (unsigned char)s[i];
		if (ch > 0x20 && ch < 0x7f)
			buf[out++] = (char)ch;
		else {
			buf[out++] = '\\';
			buf[out++] = 'x';
			buf[out++] = hex[ch >> 4];
			buf[out++] = hex[ch & 0xf];
		}
	}
	if (len > CRON_QUOTE_MAX) {
		memcpy(buf + out, "...", 3);
		out += 3;
	}
	buf[out] = '\0';
	return (buf);
}

/*
 * Fail with a message at byte offset off. Built with vsnprintf and malloc,
 * not vasprintf, so this file needs no feature-test macros. If memory runs
 * out *cause is NULL; the -1 still stands.
 */
static int
cron_error(struct cron_parser *p, size_t off, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;
	int	 len;

	if (p->at != NULL)
		*p->at = off;
	if (p->cause == NULL)
		return (-1);
	*p->cause = NULL;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || (msg = malloc((size_t)len + 1)) == NULL)
		return (-1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)len + 1, fmt, ap);
	va_end(ap);
	*p->cause = msg;
	return (-1);
}

/* A word quotes whole ("unexpected `mon`"), anything else one byte. */
static int
cron_unexpected(struct cron_parser *p, const struct cron_field *f, size_t i)
{
	const char	*s = p->expr;
	char		 buf[CRON_QUOTE_SIZE];
	size_t		 len = 1;

	if (cron_isalpha(s[i])) {
		while (cron_isalpha(s[i + len]))
			len++;
	}
	return (cron_error(p, i, "unexpected `%s` in %s field",
	    cron_quote(s + i, len, buf), f->name));
}

/* Digits at *ip, saturating at CRON_NUMBER_MAX. */
static int
cron_number(const char *s, size_t *ip, size_t end)
{
	size_t	i = *ip;
	int	n = 0;

	for (; i < end && cron_isdigit(s[i]); i++) {
		if (n < CRON_NUMBER_MAX)
			n = n * 10 + (s[i] - '0');
		if (n > CRON_NUMBER_MAX)
			n = CRON_NUMBER_MAX;
	}
	*ip = i;
	return (n);
}

/* A number or a name in field f at *ip, which it advances. */
static int
cron_parse_value(struct cron_parser *p, const struct cron_field *f,
    size_t *ip, size_t end, int *v)
{
	const char	*s = p->expr;
	char		 buf[CRON_QUOTE_SIZE];
	size_t		 start = *ip, i = *ip;
	int		 n;

	if (cron_isdigit(s[i])) {
		n = cron_number(s, &i, end);
		if (n >= CRON_NUMBER_MAX) {
			return (cron_error(p, start,
			    "%s %s is out of range %d-%d", f->name,
			    cron_quote(s + start, i - start, buf),
			    f->min, f->max));
		}
		if (n < f->min || n > f->max) {
			return (cron_error(p, start,
			    "%s %d is out of range %d-%d", f->name, n,
			    f->min, f->max));
		}
	} else if (cron_isalpha(s[i]) && f->names != NULL) {
		while (i < end && cron_isalpha(s[i]))
			i++;
		for (n = 0; f->names[n] != NULL; n++) {
			if (cron_name_is(s + start, i - start, f->names[n]))
				break;
		}
		if (f->names[n] == NULL) {
			return (cron_error(p, start, "unknown %s name `%s`",
			    f->name_kind,
			    cron_quote(s + start, i - start, buf)));
		}
		n += f->min;
	} else
		return (cron_unexpected(p, f, i));

	*ip = i;
	*v = n;
	return (0);
}

/* One comma-separated item, s[start..end), into *bits. */
static int
cron_parse_item(struct cron_parser *p, const struct cron_field *f,
    size_t start, size_t end, uint64_t *bits)
{
	const char	*s = p->expr;
	char		 buf[CRON_QUOTE_SIZE];
	size_t		 i = start, range_end, step_at;
	int		 lo, hi, step = 1, v, single = 0;

	if (s[i] == '*') {
		lo = f->min;
		hi = f->max;
		i++;
	} else {
		if (cron_parse_value(p, f, &i, end, &lo) != 0)
			return (-1);
		hi = lo;
		single = 1;
		if (i < end && s[i] == '-') {
			i++;
			if (i == end) {
				return (cron_error(p, i,
				    "missing end of range in %s field",
				    f->name));
			}
			if (cron_parse_value(p, f, &i, end, &hi) != 0)
				return (-1);
			single = 0;
		}
	}
	range_end = i;

	if (i < end && s[i] == '/') {
		i++;
		if (i == end)
			return (cron_error(p, i, "missing step in %s field",
			    f->name));
		if (!cron_isdigit(s[i]))
			return (cron_unexpected(p, f, i));
		step_at = i;
		step = cron_number(s, &i, end);
		if (step == 0)
			return (cron_error(p, step_at, "step 0 in %s field",
			    f->name));
		if (step > f->max) {
			return (cron_error(p, step_at,
			    "step %s in %s field is out of range 1-%d",
			    cron_quote(s + step_at, i - step_at, buf),
			    f->name, f->max));
		}
		/* "5/10" is "5-59/10", as in Vixie cron. */
		if (single)
			hi = f->max;
	}
	if (i < end)
		return (cron_unexpected(p, f, i));

	if (lo > hi) {
		return (cron_error(p, start, "range %s runs backwards in %s field",
		    cron_quote(s + start, range_end - start, buf), f->name));
	}
	for (v = lo; v <= hi; v += step)
		*bits |= UINT64_C(1) << v;
	return (0);
}

/*
 * Field id, s[start..end), into *bits. *star is set when the field's text
 * begins with a star, which is how Vixie cron and cronie decide that a day
 * field defers to the other one: a star, a star with a step and "*,5" all
 * do, a full range such as 1-31 and "5,*" do not.
 */
static int
cron_parse_field(struct cron_parser *p, enum cron_field_id id, size_t start,
    size_t end, uint64_t *bits, int *star)
{
	const struct cron_field	*f = &cron_fields[id];
	const char		*s = p->expr;
	size_t			 item = start, stop;

	*bits = 0;
	for (;;) {
		for (stop = item; stop < end && s[stop] != ','; stop++)
			/* nothing */;
		if (stop == item)
			return (cron_error(p, item, "empty item in %s field",
			    f->name));
		if (cron_parse_item(p, f, item, stop, bits) != 0)
			return (-1);
		if (stop == end)
			break;
		item = stop + 1;
	}
	*star = s[start] == '*';
	return (0);
}

/* The five fields starting at or after offset i. */
static int
cron_parse_fields(struct cron_parser *p, size_t i, struct cron *c)
{
	const char	*s = p->expr;
	size_t		 start[CRON_FIELDS], end[CRON_FIELDS], extra = 0, n = 0;
	uint64_t	 bits[CRON_FIELDS];
	int		 star[CRON_FIELDS], k;

	for (i = cron_skip_space(s, i); s[i] != '\0'; i = cron_skip_space(s, i)) {
		if (n < CRON_FIELDS)
			start[n] = i;
		else if (n == CRON_FIELDS)
			extra = i;
		while (s[i] != '\0' && !cron_isspace(s[i]))
			i++;
		if (n < CRON_FIELDS)
			end[n] = i;
		n++;
	}
	if (n != CRON_FIELDS) {
		return (cron_error(p, n < CRON_FIELDS ? i : extra,
		    "expected %d fields, got %zu", CRON_FIELDS, n));
	}

	for (k = 0; k < CRON_FIELDS; k++) {
		if (cron_parse_field(p, k, start[k], end[k], &bits[k],
		    &star[k]) != 0)
			return (-1);
	}

	memset(c, 0, sizeof *c);
	c->minutes = bits[CRON_MINUTE];
	c->hours = (uint32_t)bits[CRON_HOUR];
	c->mdays = (uint32_t)bits[CRON_MDAY];
	c->months = (uint16_t)bits[CRON_MONTH];
	c->wdays = (uint8_t)((bits[CRON_WDAY] | bits[CRON_WDAY] >> 7) &
	    CRON_WDAYS_ALL);
	c->dom_star = star[CRON_MDAY] != 0;
	c->dow_star = star[CRON_WDAY] != 0;
	return (0);
}

/* An @-shortcut at offset i, alone but for whitespace. */
static int
cron_parse_shortcut(struct cron_parser *p, size_t i, struct cron *c)
{
	const struct cron_shortcut	*sc = NULL;
	const char			*s = p->expr;
	char				 buf[CRON_QUOTE_SIZE];
	size_t				 end, j;

	for (end = i; s[end] != '\0' && !cron_isspace(s[end]); end++)
		/* nothing */;
	for (j = 0; j < sizeof cron_shortcuts / sizeof cron_shortcuts[0]; j++) {
		if (cron_name_is(s + i, end - i, cron_shortcuts[j].name)) {
			sc = &cron_shortcuts[j];
			break;
		}
	}
	if (sc == NULL) {
		return (cron_error(p, i, "unknown shortcut `%s`",
		    cron_quote(s + i, end - i, buf)));
	}

	i = cron_skip_space(s, end);
	if (s[i] != '\0') {
		for (end = i; s[end] != '\0' && !cron_isspace(s[end]); end++)
			/* nothing */;
		return (cron_error(p, i, "unexpected `%s` after %s",
		    cron_quote(s + i, end - i, buf), sc->name));
	}

	/* The expansions are constant and valid: this cannot fail. */
	p->expr = sc->expansion;
	return (cron_parse_fields(p, 0, c));
}

int
cron_parse(const char *expr, struct cron *c, char **cause, size_t *at)
{
	struct cron_parser	p = { expr, cause, at };
	struct cron		nc;
	size_t			i;

	i = cron_skip_space(expr, 0);
	if (expr[i] == '\0')
		return (cron_error(&p, i, "empty schedule"));
	if (expr[i] == '@') {
		if (cron_parse_shortcut(&p, i, &nc) != 0)
			return (-1);
	} else if (cron_parse_fields(&p, i, &nc) != 0)
		return (-1);
	*c = nc;	/* only on success: a failed parse leaves *c alone */
	return (0);
}

/* Lowest bit of mask above bit n (n may be -1), or -1. */
static int
cron_bit_after(uint64_t mask, int n)
{
	int	i;

	for (i = n + 1; i < 64; i++) {
		if (mask >> i & 1)
			return (i);
	}
	return (-1);
}

static int
cron_leap(long long y)
{
	return ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0);
}

static int
cron_days_in(long long y, int mon)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (mon == 2 && cron_leap(y))
		return (29);
	return (days[mon - 1]);
}

/* Weekday of a proleptic Gregorian date (Sakamoto's method), 0 = Sunday. */
static int
cron_wday(long long y, int mon, int mday)
{
	static const int t[] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };

	/* 400 Gregorian years are 20871 whole weeks: fold y to keep the
	 * divisions below on positive numbers. */
	y %= 400;
	if (y < 0)
		y += 400;
	y += 400;
	if (mon < 3)
		y--;
	return ((int)((y + y / 4 - y / 100 + y / 400 + t[mon - 1] + mday) % 7));
}

/*
 * Vixie cron: when either day field begins with a star both must match, so
 * every second day (a star, step 2) and "mon" is odd days that are Mondays;
 * otherwise either may, so "1,15" and "mon" is the 1st, the 15th and every
 * Monday.
 */
static int
cron_day_matches(const struct cron *c, const struct cron_wall *w)
{
	int	dom, dow;

	dom = (c->mdays >> w->mday & 1) != 0;
	dow = (c->wdays >> cron_wday(w->year, w->mon, w->mday) & 1) != 0;
	if (c->dom_star || c->dow_star)
		return (dom && dow);
	return (dom || dow);
}

/* Bring a field that was stepped one past its end back into range. */
static void
cron_wall_carry(struct cron_wall *w)
{
	if (w->min > 59) {
		w->min = 0;
		w->hour++;
	}
	if (w->hour > 23) {
		w->hour = 0;
		w->mday++;
	}
	if (w->mday > cron_days_in(w->year, w->mon)) {
		w->mday = 1;
		w->mon++;
	}
	if (w->mon > 12) {
		w->mon = 1;
		w->year++;
	}
}

static int
cron_wall_cmp(const struct cron_wall *a, const struct cron_wall *b)
{
	if (a->year != b->year)
		return (a->year < b->year ? -1 : 1);
	if (a->mon != b->mon)
		return (a->mon < b->mon ? -1 : 1);
	if (a->mday != b->mday)
		return (a->mday < b->mday ? -1 : 1);
	if (a->hour != b->hour)
		return (a->hour < b->hour ? -1 : 1);
	if (a->min != b->min)
		return (a->min < b->min ? -1 : 1);
	return (0);
}

static void
cron_wall_from(struct cron_wall *w, const struct tm *tm)
{
	w->year = (long long)tm->tm_year + 1900;
	w->mon = tm->tm_mon + 1;
	w->mday = tm->tm_mday;
	w->hour = tm->tm_hour;
	w->min = tm->tm_min;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (Hinnant's method). */
static long long
cron_days_from_civil(long long y, int mon, int mday)
{
	long long	era, yoe, doy;

	if (mon <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (mon > 2 ? mon - 3 : mon + 9) + 2) / 5 + mday - 1;
	return (era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468);
}

/* 1 if the wall clock at t is past the start of minute w, 0 if not, -1 if
 * localtime_r cannot tell. */
static int
cron_wall_passed(time_t t, const struct cron_wall *w)
{
	struct tm		tm;
	struct cron_wall	got;
	int			cmp;

	if (localtime_r(&t, &tm) == NULL)
		return (-1);
	cron_wall_from(&got, &tm);
	cmp = cron_wall_cmp(&got, w);
	return (cmp > 0 || (cmp == 0 && tm.tm_sec > 0));
}

/*
 * The first whole minute after the clock jumped over wall minute w, which
 * has no instant of its own. Bisects for the first instant whose wall clock
 * is past w between w read as UTC and CRON_GAP_SPAN either side, then rounds
 * up to a minute: a jump from a local mean time offset can land mid-minute.
 */
static int
cron_gap_end(const struct cron_wall *w, time_t *t)
{
	struct tm	tm;
	long long	wsec;
	time_t		lo, hi, mid;
	int		passed;

	wsec = cron_days_from_civil(w->year, w->mon, w->mday) * 86400 +
	    w->hour * 3600 + w->min * 60;
	if (__builtin_sub_overflow(wsec, CRON_GAP_SPAN, &lo) ||
	    __builtin_add_overflow(wsec, CRON_GAP_SPAN, &hi))
		return (-1);
	if (cron_wall_passed(lo, w) != 0 || cron_wall_passed(hi, w) != 1)
		return (-1);
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if ((passed = cron_wall_passed(mid, w)) == -1)
			return (-1);
		if (passed)
			hi = mid;
		else
			lo = mid;
	}
	if (localtime_r(&hi, &tm) == NULL)
		return (-1);
	if (tm.tm_sec > 0 && tm.tm_sec < 60 &&
	    __builtin_add_overflow(hi, (time_t)(60 - tm.tm_sec), &hi))
		return (-1);
	*t = hi;
	return (0);
}

/*
 * The instant wall-clock minute w fires at, if any. mktime is asked with
 * each tm_isdst and every answer is checked with localtime_r, which finds
 * both instants of a minute the clock repeats and none for one it skips,
 * whatever mktime normalizes a missing minute to.
 *
 * A repeated minute fires once, at its first instant, so "0 2 * * *" does not
 * run twice the night clocks go back. A schedule that fires every minute or
 * every hour (realtime) instead follows real time through the repeated hour,
 * as Vixie cron runs wildcard jobs, so a quarter-hourly schedule has no
 * 75-minute hole.
 *
 * A skipped minute runs late, at the first whole minute after the jump, as
 * cronie runs fixed-time jobs the clock jumps over: a nightly soak must not
 * lose the night 02:00 never comes. Only once, though: the walk reaches the
 * gap's first matching minute first, every later one would land on the same
 * instant, and the next call starts past it. A realtime schedule gets no such
 * run; it goes on to its next minute that exists.
 */
static enum cron_resolve
cron_resolve(const struct cron_wall *w, time_t after, int realtime, time_t *t)
{
	static const int	 isdst[] = { -1, 0, 1 };
	struct tm		 tm, back;
	struct cron_wall	 got;
	time_t			 u, first = 0, next = 0;
	size_t			 i;
	int			 made = 0, have_first = 0, have_next = 0;

	for (i = 0; i < sizeof isdst / sizeof isdst[0]; i++) {
		memset(&tm, 0, sizeof tm);
		tm.tm_year = (int)(w->year - 1900);
		tm.tm_mon = w->mon - 1;
		tm.tm_mday = w->mday;
		tm.tm_hour = w->hour;
		tm.tm_min = w->min;
		tm.tm_isdst = isdst[i];
		if ((u = mktime(&tm)) == (time_t)-1)
			continue;
		made = 1;
		if (localtime_r(&u, &back) == NULL || back.tm_sec != 0)
			continue;
		cron_wall_from(&got, &back);
		if (cron_wall_cmp(&got, w) != 0)
			continue;
		if (!have_first || u < first) {
			first = u;
			have_first = 1;
		}
		if (u > after && (!have_next || u < next)) {
			next = u;
			have_next = 1;
		}
	}
	if (!made)
		return (CRON_FAIL);
	if (realtime && have_next) {
		*t = next;
		return (CRON_FOUND);
	}
	if (!realtime && have_first && first > after) {
		*t = first;
		return (CRON_FOUND);
	}
	if (!realtime && !have_first && cron_gap_end(w, &u) == 0 && u > after) {
		*t = u;
		return (CRON_FOUND);
	}
	return (CRON_SKIP);
}

/* Seconds local time is ahead of UTC at t. Computed rather than read from
 * tm_gmtoff, which strict C/POSIX modes hide. */
static int
cron_offset(time_t t, long long *off)
{
	struct tm	tm;

	if (localtime_r(&t, &tm) == NULL)
		return (-1);
	*off = cron_days_from_civil((long long)tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday) * 86400 + tm.tm_hour * 3600 +
	    tm.tm_min * 60 + tm.tm_sec - (long long)t;
	return (0);
}

/*
 * The instant within a day after t at which the clock next goes back, or -1.
 * A day is far longer than any real DST or zone change steps back.
 */
static time_t
cron_fallback_after(time_t t)
{
	long long	off0, off;
	time_t		lo = t, hi, mid;

	if (__builtin_add_overflow(t, (time_t)(25 * 3600), &hi))
		return ((time_t)-1);
	if (cron_offset(lo, &off0) != 0 || cron_offset(hi, &off) != 0 ||
	    off >= off0)
		return ((time_t)-1);
	/* Offset is off0 at lo and less at hi: close in on the change. */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (cron_offset(mid, &off) != 0)
			return ((time_t)-1);
		if (off == off0)
			lo = mid;
		else
			hi = mid;
	}
	return (hi);
}

/*
 * Walk wall-clock time forward from w a field at a time: a month, day or
 * hour that cannot match is passed whole, so even a schedule that never fires
 * costs a few hundred steps over eight years, and only a full match calls
 * mktime.
 */
static time_t
cron_walk(const struct cron *c, struct cron_wall w,
    const struct cron_wall *limit, time_t after, int realtime)
{
	uint64_t	minutes = c->minutes & CRON_MINUTES_ALL;
	uint32_t	hours = c->hours & CRON_HOURS_ALL;
	uint16_t	months = c->months & CRON_MONTHS_ALL;
	time_t		t;
	int		n;

	for (;;) {
		cron_wall_carry(&w);
		if (cron_wall_cmp(&w, limit) > 0)
			return ((time_t)-1);

		if ((months >> w.mon & 1) == 0) {
			if ((n = cron_bit_after(months, w.mon)) == -1) {
				w.year++;
				n = cron_bit_after(months, -1);
			}
			w.mon = n;
			w.mday = 1;
			w.hour = w.min = 0;
			continue;
		}
		if (!cron_day_matches(c, &w)) {
			w.mday++;
			w.hour = w.min = 0;
			continue;
		}
		if ((hours >> w.hour & 1) == 0) {
			if ((n = cron_bit_after(hours, w.hour)) == -1) {
				w.mday++;
				n = 0;
			}
			w.hour = n;
			w.min = 0;
			continue;
		}
		if ((minutes >> w.min & 1) == 0) {
			if ((n = cron_bit_after(minutes, w.min)) == -1) {
				w.hour++;
				n = 0;
			}
			w.min = n;
			continue;
		}

		switch (cron_resolve(&w, after, realtime, &t)) {
		case CRON_FOUND:
			return (t);
		case CRON_SKIP:
			w.min++;
			break;
		case CRON_FAIL:
			return ((time_t)-1);
		}
	}
}

time_t
cron_next(const struct cron *c, time_t after)
{
	struct cron_wall	 w, limit, start;
	struct tm		 tm;
	time_t			 t0, t, back;
	int			 realtime;

	/* Empty masks (a struct nobody parsed) would never advance a walk. */
	if ((c->minutes & CRON_MINUTES_ALL) == 0 ||
	    (c->hours & CRON_HOURS_ALL) == 0 ||
	    (c->months & CRON_MONTHS_ALL) == 0)
		return ((time_t)-1);
	realtime = (c->minutes & CRON_MINUTES_ALL) == CRON_MINUTES_ALL ||
	    (c->hours & CRON_HOURS_ALL) == CRON_HOURS_ALL;

	tzset();
	if (localtime_r(&after, &tm) == NULL)
		return ((time_t)-1);
	/* Every year a walk may reach must still fit struct tm for mktime. */
	if (tm.tm_year > INT_MAX - CRON_YEARS - 2)
		return ((time_t)-1);
	cron_wall_from(&limit, &tm);
	start = limit;
	start.min++;
	cron_wall_carry(&start);
	limit.year += CRON_YEARS;

	/*
	 * Start from the wall clock of after plus one or that of the instant
	 * the next minute begins, whichever is earlier. Just after the clock
	 * goes back the second is an hour earlier on the wall, and a realtime
	 * schedule must not skip that hour; just before it jumps forward the
	 * first is inside the jump, and a fixed-time schedule must see the
	 * minutes it skips to run late for them.
	 */
	if (__builtin_sub_overflow(after, (time_t)tm.tm_sec, &t0) ||
	    __builtin_add_overflow(t0, (time_t)60, &t0))
		return ((time_t)-1);
	if (localtime_r(&t0, &tm) == NULL)
		return ((time_t)-1);
	cron_wall_from(&w, &tm);
	if (cron_wall_cmp(&start, &w) < 0)
		w = start;
	t = cron_walk(c, w, &limit, after, realtime);

	/*
	 * A walk runs in wall-clock order, which is not time order once the
	 * clock goes back: from 02:45 CEST it reaches 02:46 .. 02:59 and then
	 * 03:00 CET, never the second 02:00 .. 02:45 that comes between. For a
	 * realtime schedule walk again from the moment the clock goes back;
	 * the earlier of the two answers is the right one.
	 */
	if (realtime && (back = cron_fallback_after(t0)) != (time_t)-1 &&
	    (t == (time_t)-1 || back < t) && localtime_r(&back, &tm) != NULL) {
		cron_wall_from(&w, &tm);
		back = cron_walk(c, w, &limit, after, realtime);
		if (back != (time_t)-1 && (t == (time_t)-1 || back < t))
			t = back;
	}
	return (t);
}
