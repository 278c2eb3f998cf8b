/* units.c: durations and sizes as plans write them, parsed strictly (a typo
 * must not become a 1000x longer soak) and printed back canonically. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/units.h"

struct unit {
	const char	*name;
	uint64_t	 factor;
};

/* Largest first: formatting takes the first that divides, parsing checks order. */
static const struct unit duration_units[] = {
	{ "d", 86400000 },
	{ "h", 3600000 },
	{ "m", 60000 },
	{ "s", 1000 },
	{ "ms", 1 },
};
#define N_DURATION_UNITS (sizeof duration_units / sizeof duration_units[0])

static const struct unit size_units[] = {
	{ "PiB", 1ULL << 50 }, { "P", 1ULL << 50 }, { "p", 1ULL << 50 },
	{ "TiB", 1ULL << 40 }, { "T", 1ULL << 40 }, { "t", 1ULL << 40 },
	{ "GiB", 1ULL << 30 }, { "G", 1ULL << 30 }, { "g", 1ULL << 30 },
	{ "MiB", 1ULL << 20 }, { "M", 1ULL << 20 }, { "m", 1ULL << 20 },
	{ "KiB", 1ULL << 10 }, { "K", 1ULL << 10 }, { "k", 1ULL << 10 },
	{ "B", 1 },
};
#define N_SIZE_UNITS (sizeof size_units / sizeof size_units[0])

static int
fail(char **cause, size_t *at, size_t where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char **cause, size_t *at, size_t where, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
	*at = where;
	return -1;
}

/* Reads decimal digits at s[*i]; -1 on overflow. */
static int
read_number(const char *s, size_t *i, uint64_t *out)
{
	uint64_t	v = 0;
	unsigned	d;

	while (isdigit((unsigned char)s[*i])) {
		d = (unsigned)(s[*i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
		(*i)++;
	}
	*out = v;
	return 0;
}

/* Length of the unit word at s: letters only, so "5s10" ends at the digit. */
static size_t
unit_len(const char *s)
{
	size_t	n = 0;

	while (isalpha((unsigned char)s[n]))
		n++;
	return n;
}

static int
check_common(const char *s, const char *what, char **cause, size_t *at)
{
	if (*s == '\0')
		return fail(cause, at, 0, "empty %s", what);
	if (*s == '-')
		return fail(cause, at, 0, "negative %s `%s`", what, s);
	if (!isdigit((unsigned char)*s))
		return fail(cause, at, 0, "%s `%s` must start with a number", what, s);
	return 0;
}

int
units_parse_duration(const char *s, uint64_t *ms, char **cause, size_t *at)
{
	uint64_t	total = 0, v;
	size_t		i = 0, start, n, u, last = N_DURATION_UNITS;

	if (check_common(s, "duration", cause, at) == -1)
		return -1;
	while (s[i] != '\0') {
		start = i;
		if (!isdigit((unsigned char)s[i]))
			return fail(cause, at, i, "expected a number at `%s` in duration `%s`",
			    s + i, s);
		if (read_number(s, &i, &v) == -1)
			return fail(cause, at, start, "duration `%s` is too large", s);
		if (s[i] == '.' || s[i] == ',')
			return fail(cause, at, i, "fractions are not supported in "
			    "durations; write `1500ms` for 1.5s");
		n = unit_len(s + i);
		if (n == 0) {
			if (s[i] == '\0' && start == 0)
				return fail(cause, at, 0, "duration `%s` has no unit; "
				    "write %ss, %sm or %sms", s, s, s, s);
			return fail(cause, at, i, "expected a unit (ms, s, m, h, d) "
			    "after %" PRIu64 " in duration `%s`", v, s);
		}
		for (u = 0; u < N_DURATION_UNITS; u++)
			if (strlen(duration_units[u].name) == n &&
			    strncmp(s + i, duration_units[u].name, n) == 0)
				break;
		if (u == N_DURATION_UNITS)
			return fail(cause, at, i, "unknown unit `%.*s` in duration "
			    "`%s`; use ms, s, m, h or d", (int)n, s + i, s);
		if (last != N_DURATION_UNITS && u <= last)
			return fail(cause, at, i, "units in duration `%s` must go "
			    "from largest to smallest, each once (`1h30m`)", s);
		last = u;
		if (v > UINT64_MAX / duration_units[u].factor ||
		    total > UINT64_MAX - v * duration_units[u].factor)
			return fail(cause, at, start, "duration `%s` is too large", s);
		total += v * duration_units[u].factor;
		i += n;
	}
	*ms = total;
	return 0;
}

int
units_parse_size(const char *s, uint64_t *bytes, char **cause, size_t *at)
{
	uint64_t	v;
	size_t		i = 0, n, u;

	if (check_common(s, "size", cause, at) == -1)
		return -1;
	if (read_number(s, &i, &v) == -1)
		return fail(cause, at, 0, "size `%s` is too large", s);
	if (s[i] == '.' || s[i] == ',')
		return fail(cause, at, i, "fractions are not supported in sizes; "
		    "write `1536MiB` for 1.5GiB");
	n = unit_len(s + i);
	if (s[i + n] != '\0')
		return fail(cause, at, i + n, "unexpected `%s` after size `%.*s`",
		    s + i + n, (int)(i + n), s);
	if (n == 0) {
		*bytes = v;
		return 0;
	}
	for (u = 0; u < N_SIZE_UNITS; u++)
		if (strcmp(s + i, size_units[u].name) == 0)
			break;
	if (u == N_SIZE_UNITS) {
		/* "MB" could mean 10^6 or 2^20; plans are exact, so ask. */
		if (n == 2 && (s[i + 1] == 'B' || s[i + 1] == 'b') &&
		    strchr("kKmMgGtTpP", s[i]) != NULL)
			return fail(cause, at, i, "ambiguous unit `%s`: write "
			    "`%c%s` (binary) or a byte count",
			    s + i, toupper((unsigned char)s[i]), "iB");
		return fail(cause, at, i, "unknown unit `%s` in size `%s`; use "
		    "B, KiB, MiB, GiB, TiB (or k, M, G, T)", s + i, s);
	}
	if (v > UINT64_MAX / size_units[u].factor)
		return fail(cause, at, 0, "size `%s` is too large", s);
	*bytes = v * size_units[u].factor;
	return 0;
}

void
units_format_duration(uint64_t ms, char *buf, size_t len)
{
	size_t		u, off = 0;
	uint64_t	v;
	int		w;

	if (ms == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	buf[0] = '\0';
	for (u = 0; u < N_DURATION_UNITS && ms > 0; u++) {
		v = ms / duration_units[u].factor;
		if (v == 0)
			continue;
		ms -= v * duration_units[u].factor;
		w = snprintf(buf + off, len - off, "%" PRIu64 "%s", v,
		    duration_units[u].name);
		if (w < 0 || (size_t)w >= len - off)
			return;
		off += (size_t)w;
	}
}

void
units_format_size(uint64_t bytes, char *buf, size_t len)
{
	size_t	u;

	/* Only the IEC spellings print: every third entry starts a unit. */
	for (u = 0; u + 1 < N_SIZE_UNITS; u += 3) {
		if (bytes != 0 && bytes % size_units[u].factor == 0) {
			snprintf(buf, len, "%" PRIu64 "%s",
			    bytes / size_units[u].factor, size_units[u].name);
			return;
		}
	}
	snprintf(buf, len, "%" PRIu64, bytes);
}
