/* promcheck.c: a strict reader of the Prometheus text exposition format
 * 0.0.4: it exits 1 with "LINE N: reason" at the first thing wrong. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/util.h"

/*
 * What it holds an exposition to, beyond the grammar (names, escapes,
 * floats, integer timestamps, the final newline):
 * - HELP and TYPE at most once per family, before its first sample;
 * - a family's samples in one block, and no series twice;
 * - le only on histogram buckets, quantile only on summaries;
 * - counters named *_total, never below 0;
 * - histograms: every series has _bucket{le}s cumulative in le order, one
 *   le="+Inf" equal to _count, a _sum and a _count;
 * - summaries: quantile values from 0 to 1.
 */

#define PC_MAX_LABELS	64

enum pc_type {
	PC_UNTYPED,		/* no TYPE line, or "untyped" */
	PC_COUNTER,
	PC_GAUGE,
	PC_HISTOGRAM,
	PC_SUMMARY
};

static const char *const pc_type_names[] = {
	"untyped", "counter", "gauge", "histogram", "summary", NULL
};

struct pc_family {
	char		*name;
	enum pc_type	 type;
	bool		 help;		/* a HELP line was seen */
	bool		 typed;		/* a TYPE line was seen */
	bool		 sampled;	/* a sample was seen */
	bool		 closed;	/* another family's lines came after it */
};

struct pc_label {
	char	name[256];
	char	*value;		/* unescaped, allocated */
};

/* A histogram's series, apart from le. */
struct pc_bucket {
	double		 le;
	double		 count;
	unsigned long	 line;
};
struct pc_group {
	char			*key;		/* its labels but le */
	struct pc_bucket	*b;
	size_t			 nb;
	bool			 has_sum, has_count;
	double			 count;
	unsigned long		 line;		/* its first sample */
};

struct pc {
	unsigned long		 line;
	struct pc_family	*fam;		/* every family seen */
	size_t			 nfam;
	struct pc_family	*cur;		/* the family of the last lines */
	char			**series;	/* the current family's, as keys */
	size_t			 nseries;
	struct pc_group		*groups;	/* the current histogram's */
	size_t			 ngroups;
};

static void __attribute__((noreturn, format(printf, 2, 3)))
pc_fail(const struct pc *pc, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "LINE %lu: ", pc->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *
pc_alloc(void *p, size_t n, size_t size)
{
	if ((p = realloc(p, n * size == 0 ? 1 : n * size)) == NULL) {
		fprintf(stderr, "promcheck: out of memory\n");
		exit(2);
	}
	return p;
}

static char *
pc_strdup(const char *s)
{
	char	*d = pc_alloc(NULL, strlen(s) + 1, 1);

	return strcpy(d, s);
}

static bool
pc_name_start(int c, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (colon && c == ':');
}

static bool
pc_name_char(int c, bool colon)
{
	return pc_name_start(c, colon) || (c >= '0' && c <= '9');
}

/* The name at *p (metric names may hold ':'), copied into buf. */
static bool
pc_name(const char **p, char *buf, size_t len, bool colon)
{
	size_t	n = 0;

	if (!pc_name_start((unsigned char)**p, colon))
		return false;
	while (pc_name_char((unsigned char)**p, colon)) {
		if (n + 1 >= len)
			return false;
		buf[n++] = *(*p)++;
	}
	buf[n] = '\0';
	return true;
}

static void
pc_blanks(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

static void
pc_check_utf8(const struct pc *pc, const char *s, const char *what)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 left = strlen(s), n;

	while (left > 0) {
		if ((n = utf8_seq_len(p, left)) == 0)
			pc_fail(pc, "%s is not UTF-8", what);
		p += n;
		left -= n;
	}
}

/*
 * A float as the format writes one: decimal with optional fraction and
 * exponent, or [+-]Inf, or NaN. Consumes it from *p.
 */
static bool
pc_float(const char **p, double *v)
{
	const char	*s = *p, *q = s;
	char		 buf[128];
	size_t		 n;
	bool		 digits = false;

	if (*q == '+' || *q == '-')
		q++;
	if (strncmp(q, "Inf", 3) == 0) {
		q += 3;
		*v = *s == '-' ? -INFINITY : INFINITY;
		goto done;
	}
	if (q == s && strncmp(q, "NaN", 3) == 0) {
		q += 3;
		*v = NAN;
		goto done;
	}
	for (; *q >= '0' && *q <= '9'; q++)
		digits = true;
	if (*q == '.') {
		for (q++; *q >= '0' && *q <= '9'; q++)
			digits = true;
	}
	if (!digits)
		return false;
	if (*q == 'e' || *q == 'E') {
		q++;
		if (*q == '+' || *q == '-')
			q++;
		if (*q < '0' || *q > '9')
			return false;
		while (*q >= '0' && *q <= '9')
			q++;
	}
	n = (size_t)(q - s);
	if (n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*v = strtod(buf, NULL);
done:
	/* Whatever follows a number is a blank or the end. */
	if (*q != '\0' && *q != ' ' && *q != '\t')
		return false;
	*p = q;
	return true;
}

static struct pc_family *
pc_family_find(struct pc *pc, const char *name)
{
	size_t	i;

	for (i = 0; i < pc->nfam; i++)
		if (strcmp(pc->fam[i].name, name) == 0)
			return &pc->fam[i];
	return NULL;
}

static void pc_close(struct pc *);

/* The family name's lines start (or go on) here. */
static struct pc_family *
pc_family_enter(struct pc *pc, const char *name)
{
	struct pc_family	*f;
	size_t			 cur = 0;

	if (pc->cur != NULL && strcmp(pc->cur->name, name) == 0)
		return pc->cur;
	if ((f = pc_family_find(pc, name)) != NULL && f->closed)
		pc_fail(pc, "the lines of %s are not together: other metrics "
		    "came between", name);
	if (pc->cur != NULL) {
		cur = (size_t)(pc->cur - pc->fam);
		pc_close(pc);
		pc->fam[cur].closed = true;
	}
	if (f == NULL) {
		pc->fam = pc_alloc(pc->fam, pc->nfam + 1, sizeof *pc->fam);
		f = &pc->fam[pc->nfam++];
		memset(f, 0, sizeof *f);
		f->name = pc_strdup(name);
	}
	pc->cur = f;
	return f;
}

/* # HELP name docstring / # TYPE name type */
static void
pc_meta(struct pc *pc, const char *p)
{
	struct pc_family	*f;
	char			 name[1024];
	bool			 help = strncmp(p, "HELP", 4) == 0;
	const char		*q;
	size_t			 i;

	p += 4;
	if (*p != ' ' && *p != '\t')
		pc_fail(pc, "no blank after %s", help ? "HELP" : "TYPE");
	pc_blanks(&p);
	if (!pc_name(&p, name, sizeof name, true))
		pc_fail(pc, "%s names no valid metric (want "
		    "[a-zA-Z_:][a-zA-Z0-9_:]*)", help ? "HELP" : "TYPE");
	if (*p != '\0' && *p != ' ' && *p != '\t')
		pc_fail(pc, "bad character '%c' in the metric name of %s", *p,
		    help ? "HELP" : "TYPE");
	f = pc_family_enter(pc, name);
	if (help) {
		if (f->help)
			pc_fail(pc, "a second HELP for %s", name);
		f->help = true;
		if (*p != '\0')
			p++;	/* the one blank before the text */
		for (q = p; *q != '\0'; q++) {
			if (*q != '\\')
				continue;
			if (q[1] != '\\' && q[1] != 'n')
				pc_fail(pc, "HELP text escapes only \\\\ and \\n, "
				    "not \\%c", q[1] != '\0' ? q[1] : ' ');
			q++;
		}
		pc_check_utf8(pc, p, "the HELP text");
		return;
	}
	if (f->typed)
		pc_fail(pc, "a second TYPE for %s", name);
	if (f->sampled)
		pc_fail(pc, "TYPE of %s after its samples", name);
	pc_blanks(&p);
	for (i = 0; pc_type_names[i] != NULL; i++) {
		size_t	n = strlen(pc_type_names[i]);

		if (strncmp(p, pc_type_names[i], n) == 0) {
			q = p + n;
			pc_blanks(&q);
			if (*q == '\0')
				break;
		}
	}
	if (pc_type_names[i] == NULL)
		pc_fail(pc, "unknown TYPE `%s` (counter, gauge, histogram, "
		    "summary or untyped)", p);
	f->typed = true;
	f->type = (enum pc_type)i;
	if (f->type == PC_COUNTER && (strlen(name) < 6 ||
	    strcmp(name + strlen(name) - 6, "_total") != 0))
		pc_fail(pc, "counter %s is not named *_total", name);
}

/* The label set {...} at *p, unescaped; *n gets how many. */
static void
pc_labels(struct pc *pc, const char **pp, struct pc_label *l, size_t *n)
{
	const char	*p = *pp;
	char		*v;
	size_t		 i, len;

	*n = 0;
	p++;	/* { */
	for (;;) {
		pc_blanks(&p);
		if (*p == '}')
			break;
		if (*n == PC_MAX_LABELS)
			pc_fail(pc, "more than %d labels", PC_MAX_LABELS);
		if (!pc_name(&p, l[*n].name, sizeof l[*n].name, false))
			pc_fail(pc, "bad label name (want [a-zA-Z_][a-zA-Z0-9_]*)");
		if (strncmp(l[*n].name, "__", 2) == 0)
			pc_fail(pc, "label %s: names starting __ are reserved",
			    l[*n].name);
		for (i = 0; i < *n; i++)
			if (strcmp(l[i].name, l[*n].name) == 0)
				pc_fail(pc, "label %s given twice", l[*n].name);
		pc_blanks(&p);
		if (*p++ != '=')
			pc_fail(pc, "label %s: no '=' after the name", l[*n].name);
		pc_blanks(&p);
		if (*p++ != '"')
			pc_fail(pc, "label %s: the value is not in double quotes",
			    l[*n].name);
		v = pc_alloc(NULL, strlen(p) + 1, 1);
		len = 0;
		for (;; p++) {
			if (*p == '\0') {
				free(v);
				pc_fail(pc, "label %s: the value has no closing "
				    "quote", l[*n].name);
			}
			if (*p == '"')
				break;
			if (*p != '\\') {
				v[len++] = *p;
				continue;
			}
			p++;
			if (*p == '\\' || *p == '"')
				v[len++] = *p;
			else if (*p == 'n')
				v[len++] = '\n';
			else {
				free(v);
				pc_fail(pc, "label %s: bad escape \\%c (only \\\\, "
				    "\\\" and \\n)", l[*n].name, *p != '\0' ? *p :
				    ' ');
			}
		}
		p++;	/* " */
		v[len] = '\0';
		l[*n].value = v;
		(*n)++;
		pc_check_utf8(pc, v, "a label value");
		pc_blanks(&p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != '}')
			pc_fail(pc, "expected ',' or '}' after label %s",
			    l[*n - 1].name);
	}
	*pp = p + 1;
}

static int
pc_label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pc_label *)a)->name,
	    ((const struct pc_label *)b)->name);
}

/* name and the labels but skip, sorted, as one unambiguous string. */
static char *
pc_key(const char *name, struct pc_label *l, size_t n, const char *skip)
{
	char	*k;
	size_t	 len = strlen(name) + 2, i, at;

	qsort(l, n, sizeof *l, pc_label_cmp);
	for (i = 0; i < n; i++)
		len += strlen(l[i].name) + strlen(l[i].value) + 48;
	k = pc_alloc(NULL, len, 1);
	at = (size_t)snprintf(k, len, "%s|", name);
	for (i = 0; i < n; i++) {
		if (skip != NULL && strcmp(l[i].name, skip) == 0)
			continue;
		at += (size_t)snprintf(k + at, len - at, "%zu:%s=%zu:%s;",
		    strlen(l[i].name), l[i].name, strlen(l[i].value), l[i].value);
	}
	return k;
}

static const char *
pc_label_get(const struct pc_label *l, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return l[i].value;
	return NULL;
}

/* A whole label value as a float, the way le and quantile hold one. */
static bool
pc_label_float(const char *s, double *v)
{
	const char	*p = s;

	return pc_float(&p, v) && *p == '\0';
}

static struct pc_group *
pc_group(struct pc *pc, char *key)
{
	size_t	i;

	for (i = 0; i < pc->ngroups; i++)
		if (strcmp(pc->groups[i].key, key) == 0) {
			free(key);
			return &pc->groups[i];
		}
	pc->groups = pc_alloc(pc->groups, pc->ngroups + 1, sizeof *pc->groups);
	memset(&pc->groups[pc->ngroups], 0, sizeof *pc->groups);
	pc->groups[pc->ngroups].key = key;
	pc->groups[pc->ngroups].line = pc->line;
	return &pc->groups[pc->ngroups++];
}

static int
pc_bucket_cmp(const void *a, const void *b)
{
	double	x = ((const struct pc_bucket *)a)->le;
	double	y = ((const struct pc_bucket *)b)->le;

	return x < y ? -1 : x > y;
}

/* The histogram's series are all read: are they whole and cumulative? */
static void
pc_close(struct pc *pc)
{
	struct pc_group	*g;
	size_t		 i, j;
	unsigned long	 line = pc->line;

	for (i = 0; i < pc->ngroups; i++) {
		g = &pc->groups[i];
		qsort(g->b, g->nb, sizeof *g->b, pc_bucket_cmp);
		for (j = 1; j < g->nb; j++) {
			if (g->b[j].count < g->b[j - 1].count) {
				pc->line = g->b[j].line;
				pc_fail(pc, "histogram %s: buckets are not "
				    "cumulative: le=%g holds %g, less than "
				    "le=%g's %g", pc->cur->name, g->b[j].le,
				    g->b[j].count, g->b[j - 1].le,
				    g->b[j - 1].count);
			}
		}
		pc->line = g->line;
		if (g->nb == 0 || g->b[g->nb - 1].le != INFINITY)
			pc_fail(pc, "histogram %s: a series without an "
			    "le=\"+Inf\" bucket", pc->cur->name);
		if (!g->has_count)
			pc_fail(pc, "histogram %s: a series without _count",
			    pc->cur->name);
		if (!g->has_sum)
			pc_fail(pc, "histogram %s: a series without _sum",
			    pc->cur->name);
		if (g->count != g->b[g->nb - 1].count)
			pc_fail(pc, "histogram %s: _count %g is not the "
			    "le=\"+Inf\" bucket's %g", pc->cur->name, g->count,
			    g->b[g->nb - 1].count);
		free(g->key);
		free(g->b);
	}
	free(pc->groups);
	pc->groups = NULL;
	pc->ngroups = 0;
	for (i = 0; i < pc->nseries; i++)
		free(pc->series[i]);
	free(pc->series);
	pc->series = NULL;
	pc->nseries = 0;
	pc->line = line;
}

/* The family a sample name belongs to: x for x_bucket of histogram x, ... */
static const char *
pc_sample_family(struct pc *pc, const char *name, char *buf, size_t len,
    const char **suffix)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count", NULL };
	struct pc_family	*f;
	size_t			 i, n = strlen(name), s;

	*suffix = "";
	for (i = 0; sfx[i] != NULL; i++) {
		s = strlen(sfx[i]);
		if (n <= s || strcmp(name + n - s, sfx[i]) != 0 || n - s >= len)
			continue;
		memcpy(buf, name, n - s);
		buf[n - s] = '\0';
		if ((f = pc_family_find(pc, buf)) == NULL)
			continue;
		if (f->type == PC_HISTOGRAM || (f->type == PC_SUMMARY && i > 0)) {
			*suffix = sfx[i];
			return buf;
		}
	}
	return name;
}

static void
pc_sample(struct pc *pc, const char *p)
{
	struct pc_label		 l[PC_MAX_LABELS];
	struct pc_family	*f;
	struct pc_group		*g;
	char			 name[1024], fname[1024], *key;
	const char		*family, *suffix, *le, *q;
	double			 v, lev;
	size_t			 n = 0, i;

	if (!pc_name(&p, name, sizeof name, true))
		pc_fail(pc, "bad metric name (want [a-zA-Z_:][a-zA-Z0-9_:]*)");
	if (*p == '{')
		pc_labels(pc, &p, l, &n);
	if (*p != ' ' && *p != '\t')
		pc_fail(pc, "expected a blank and the value after %s", name);
	pc_blanks(&p);
	if (!pc_float(&p, &v))
		pc_fail(pc, "the value of %s is not a float", name);
	pc_blanks(&p);
	if (*p != '\0') {
		q = p;
		if (*q == '-')
			q++;
		if (*q < '0' || *q > '9')
			pc_fail(pc, "the timestamp of %s is not an integer", name);
		while (*q >= '0' && *q <= '9')
			q++;
		pc_blanks(&q);
		if (*q != '\0')
			pc_fail(pc, "the timestamp of %s is not an integer", name);
	}

	family = pc_sample_family(pc, name, fname, sizeof fname, &suffix);
	f = pc_family_enter(pc, family);
	f->sampled = true;
	key = pc_key(name, l, n, NULL);
	for (i = 0; i < pc->nseries; i++)
		if (strcmp(pc->series[i], key) == 0)
			pc_fail(pc, "a second sample of the same series of %s",
			    name);
	pc->series = pc_alloc(pc->series, pc->nseries + 1, sizeof *pc->series);
	pc->series[pc->nseries++] = key;

	le = pc_label_get(l, n, "le");
	if (f->type != PC_HISTOGRAM && le != NULL)
		pc_fail(pc, "%s: le is a histogram bucket's label", name);
	if (f->type != PC_SUMMARY && pc_label_get(l, n, "quantile") != NULL)
		pc_fail(pc, "%s: quantile is a summary's label", name);
	if (f->type == PC_COUNTER && (v < 0 || isnan(v)))
		pc_fail(pc, "counter %s is %g", name, v);

	if (f->type == PC_SUMMARY) {
		q = pc_label_get(l, n, "quantile");
		if (*suffix == '\0' && (q == NULL || !pc_label_float(q, &lev) ||
		    !(lev >= 0 && lev <= 1)))
			pc_fail(pc, "summary %s: a quantile label from 0 to 1 is "
			    "needed", name);
		if (*suffix != '\0' && q != NULL)
			pc_fail(pc, "summary %s: quantile on %s", family, name);
	}
	if (f->type == PC_HISTOGRAM) {
		if (*suffix == '\0')
			pc_fail(pc, "histogram %s: sample %s is not _bucket, _sum "
			    "or _count", family, name);
		if (strcmp(suffix, "_bucket") != 0 && le != NULL)
			pc_fail(pc, "histogram %s: le on %s", family, name);
		g = pc_group(pc, pc_key(family, l, n, "le"));
		if (strcmp(suffix, "_bucket") == 0) {
			if (le == NULL)
				pc_fail(pc, "histogram %s: a bucket without le",
				    family);
			if (!pc_label_float(le, &lev) || isnan(lev))
				pc_fail(pc, "histogram %s: le=\"%s\" is not a "
				    "number", family, le);
			for (i = 0; i < g->nb; i++)
				if (g->b[i].le == lev)
					pc_fail(pc, "histogram %s: a second bucket "
					    "le=%g", family, lev);
			if (v < 0 || isnan(v))
				pc_fail(pc, "histogram %s: a bucket of %g", family,
				    v);
			g->b = pc_alloc(g->b, g->nb + 1, sizeof *g->b);
			g->b[g->nb].le = lev;
			g->b[g->nb].count = v;
			g->b[g->nb].line = pc->line;
			g->nb++;
		} else if (strcmp(suffix, "_sum") == 0)
			g->has_sum = true;
		else {
			g->has_count = true;
			g->count = v;
		}
	}
	for (i = 0; i < n; i++)
		free(l[i].value);
}

static void
pc_line(struct pc *pc, const char *p)
{
	pc_blanks(&p);
	if (*p == '\0')
		return;
	if (*p == '#') {
		p++;
		if (*p != ' ' && *p != '\t')
			return;		/* a comment */
		pc_blanks(&p);
		if (strncmp(p, "HELP", 4) == 0 || strncmp(p, "TYPE", 4) == 0) {
			if (p[4] == ' ' || p[4] == '\t' || p[4] == '\0') {
				pc_meta(pc, p);
				return;
			}
		}
		return;
	}
	pc_sample(pc, p);
}

int
main(int argc, char **argv)
{
	struct pc	 pc;
	FILE		*f = stdin;
	char		*buf = NULL, *line, *nl;
	size_t		 len = 0, cap = 0, n, i;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-' && argv[1][1] != '\0')) {
		fprintf(stderr, "usage: promcheck [FILE]\n");
		return 2;
	}
	if (argc == 2 && strcmp(argv[1], "-") != 0 &&
	    (f = fopen(argv[1], "rb")) == NULL) {
		fprintf(stderr, "promcheck: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	do {
		if (cap - len < 65536)
			buf = pc_alloc(buf, cap += 65536 * 4, 1);
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		fprintf(stderr, "promcheck: read error\n");
		return 2;
	}
	buf[len] = '\0';

	memset(&pc, 0, sizeof pc);
	if (memchr(buf, '\0', len) != NULL) {
		pc.line = 1;
		for (i = 0; buf[i] != '\0'; i++)
			pc.line += buf[i] == '\n';
		pc_fail(&pc, "a NUL byte");
	}
	for (line = buf; *line != '\0'; line = nl + 1) {
		pc.line++;
		if ((nl = strchr(line, '\n')) == NULL)
			pc_fail(&pc, "the last line has no newline");
		*nl = '\0';
		pc_line(&pc, line);
	}
	pc.line++;
	if (pc.cur != NULL)
		pc_close(&pc);
	for (i = 0; i < pc.nfam; i++)
		free(pc.fam[i].name);
	free(pc.fam);
	free(buf);
	if (f != stdin)
		fclose(f);
	return 0;
}
