/* plan-decode.c: reads a YAML block against a keyword table, reporting every
 * unknown, duplicate, missing or ill-typed key, and prints a block back. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/units.h"
#include "plan-decode.h"

static int
pp_verror(struct plan_parser *pp, struct plan_mark mark, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

static int
pp_verror(struct plan_parser *pp, struct plan_mark mark, const char *fmt,
    va_list ap)
{
	char	*msg;

	pp->errors++;
	if (vasprintf(&msg, fmt, ap) == -1) {
		pp->diags->dropped++;
		return -1;
	}
	plan_diags_add(pp->diags, pp->file, mark, msg);
	free(msg);
	return -1;
}

int
pp_error(struct plan_parser *pp, const struct pnode *n, const char *fmt, ...)
{
	va_list			ap;
	struct plan_mark	mark = { 1, 1 };

	if (n != NULL)
		mark = n->mark;
	else if (pp->root != NULL)
		mark = pp->root->mark;
	va_start(ap, fmt);
	pp_verror(pp, mark, fmt, ap);
	va_end(ap);
	return -1;
}

int
pp_error_at(struct plan_parser *pp, struct plan_mark mark, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	pp_verror(pp, mark, fmt, ap);
	va_end(ap);
	return -1;
}

/* Scalar text, or an error naming what was there instead. */
static const char *
scalar_text(struct plan_parser *pp, const struct pnode *n, const char *key,
    const char *want)
{
	if (n->type != PNODE_SCALAR || pnode_is_null(n)) {
		pp_error(pp, n, "`%s` must be %s, not %s", key, want,
		    pnode_describe(n));
		return NULL;
	}
	return n->text;
}

int
decode_string(struct plan_parser *pp, const struct pnode *n, const char *key,
    char **out)
{
	const char	*s;

	size_t		 i;

	if ((s = scalar_text(pp, n, key, "a string")) == NULL)
		return -1;
	if (*s == '\0')
		return pp_error(pp, n, "`%s` must not be empty", key);
	/* Escapes ("\x01") must not smuggle in what the reader refuses raw. */
	for (i = 0; i < n->len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			return pp_error(pp, n, "`%s` must not contain control "
			    "character 0x%02x", key, c);
		/* C1 controls, U+0080 to U+009F, as UTF-8. */
		if (c == 0xc2 && i + 1 < n->len &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return pp_error(pp, n, "`%s` must not contain control "
			    "character U+%04X", key, (unsigned char)s[i + 1]);
	}
	free(*out);
	if ((*out = strdup(s)) == NULL)
		return pp_error(pp, n, "out of memory");
	return 0;
}

/*
 * Numbers are plain decimal: a quoted "4" is a string in YAML, and 0x10 or
 * 1e3 in a plan is more likely a mistake than a wish.
 */
int
decode_u64(struct plan_parser *pp, const struct pnode *n, const char *key,
    uint64_t min, uint64_t max, uint64_t *out)
{
	const char	*s;
	uint64_t	 v = 0;
	unsigned	 d;
	size_t		 i;

	if ((s = scalar_text(pp, n, key, "a whole number")) == NULL)
		return -1;
	if (n->quoted && *s != '\0' && strspn(s, "0123456789") == n->len)
		return pp_error(pp, n, "`%s` must be a whole number, not a quoted "
		    "string; write %s without quotes", key, s);
	if (n->quoted)
		return pp_error(pp, n, "`%s` must be a whole number, got the "
		    "string `%s`", key, s);
	if (*s == '-' && s[1] != '\0')
		return pp_error(pp, n, "`%s` must not be negative (got %s)", key, s);
	for (i = 0; s[i] != '\0'; i++) {
		if (!isdigit((unsigned char)s[i]))
			return pp_error(pp, n, "`%s` must be a whole number, got `%s`",
			    key, s);
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return pp_error(pp, n, "`%s` is too large (%s)", key, s);
		v = v * 10 + d;
	}
	if (v < min || v > max) {
		if (min == 1 && v == 0)
			return pp_error(pp, n, "`%s` must be at least 1", key);
		if (max == UINT64_MAX)
			return pp_error(pp, n, "`%s` must be at least %" PRIu64
			    ", got %" PRIu64, key, min, v);
		return pp_error(pp, n, "`%s` must be between %" PRIu64 " and %"
		    PRIu64 ", got %" PRIu64, key, min, max, v);
	}
	*out = v;
	return 0;
}

static void
strlcat_bytes(char *buf, size_t len)
{
	size_t	n = strlen(buf);

	snprintf(buf + n, len - n, " bytes");
}

typedef int (*unit_parser)(const char *, uint64_t *, char **, size_t *);
typedef void (*unit_formatter)(uint64_t, char *, size_t);

static int
decode_unit(struct plan_parser *pp, const struct pnode *n, const char *key,
    uint64_t min, uint64_t max, uint64_t *out, const char *what,
    unit_parser parse, unit_formatter format)
{
	const char	*s;
	char		*cause = NULL, lo[UNITS_FORMAT_MAX], hi[UNITS_FORMAT_MAX];
	size_t		 at = 0;
	uint64_t	 v;

	if ((s = scalar_text(pp, n, key, what)) == NULL)
		return -1;
	if (parse(s, &v, &cause, &at) == -1) {
		pp_error_at(pp, pnode_mark_at(n, at), "`%s`: %s", key,
		    cause ? cause : "out of memory");
		free(cause);
		return -1;
	}
	if (v < min || v > max) {
		format(min, lo, sizeof lo);
		format(max, hi, sizeof hi);
		/* "at least 512" alone does not say 512 what. */
		if (format == units_format_size && isdigit((unsigned char)
		    lo[strlen(lo) - 1]))
			strlcat_bytes(lo, sizeof lo);
		if (v == 0)
			return pp_error(pp, n, "`%s` must not be zero (at least %s)",
			    key, lo);
		if (max == UINT64_MAX)
			return pp_error(pp, n, "`%s` must be at least %s, got %s",
			    key, lo, s);
		return pp_error(pp, n, "`%s` must be between %s and %s, got %s",
		    key, lo, hi, s);
	}
	*out = v;
	return 0;
}

int
decode_size(struct plan_parser *pp, const struct pnode *n, const char *key,
    uint64_t min, uint64_t max, uint64_t *out)
{
	return decode_unit(pp, n, key, min, max, out, "a size such as 4MiB",
	    units_parse_size, units_format_size);
}

int
decode_duration(struct plan_parser *pp, const struct pnode *n, const char *key,
    uint64_t min, uint64_t max, uint64_t *out)
{
	return decode_unit(pp, n, key, min, max, out, "a duration such as 5s",
	    units_parse_duration, units_format_duration);
}

char *
names_join(const char *const *names)
{
	size_t	 len = 1, i;
	char	*s;

	for (i = 0; names[i] != NULL; i++)
		len += strlen(names[i]) + 2;
	if ((s = malloc(len)) == NULL)
		return NULL;
	*s = '\0';
	for (i = 0; names[i] != NULL; i++) {
		if (i > 0)
			strcat(s, ", ");
		strcat(s, names[i]);
	}
	return s;
}

int
decode_enum(struct plan_parser *pp, const struct pnode *n, const char *key,
    const char *const *names, int *out)
{
	const char	*s, *near;
	char		*all;
	int		 i;

	if ((s = scalar_text(pp, n, key, "a name")) == NULL)
		return -1;
	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	all = names_join(names);
	near = suggest_nearest(s, names);
	if (near != NULL)
		pp_error(pp, n, "`%s` `%s` is unknown; did you mean `%s`? (one "
		    "of %s)", key, s, near, all ? all : "");
	else
		pp_error(pp, n, "`%s` `%s` is unknown; expected one of %s", key,
		    s, all ? all : "");
	free(all);
	return -1;
}

static int
decode_bool(struct plan_parser *pp, const struct pnode *n, const char *key,
    bool *out)
{
	const char	*s;

	if ((s = scalar_text(pp, n, key, "true or false")) == NULL)
		return -1;
	if (n->quoted && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0))
		return pp_error(pp, n, "`%s` must be true or false without quotes "
		    "(a quoted `%s` is a string)", key, s);
	if (!n->quoted && strcmp(s, "true") == 0)
		*out = true;
	else if (!n->quoted && strcmp(s, "false") == 0)
		*out = false;
	else
		return pp_error(pp, n, "`%s` must be true or false, got `%s`",
		    key, s);
	return 0;
}

static int
decode_field(struct plan_parser *pp, const struct field *f,
    const struct pnode *v, void *base, const char *where)
{
	char		*p = (char *)base + f->off;
	uint64_t	 u = 0;
	char		 key[128];

	/* Messages name the key in full: which `max`, cpus or memory? */
	snprintf(key, sizeof key, "%s%s%s", where, *where ? "." : "", f->key);
	switch (f->type) {
	case FIELD_STRING:
		return decode_string(pp, v, key, (char **)(void *)p);
	case FIELD_UINT:
		if (decode_u64(pp, v, key, f->min, f->max, &u) == -1)
			return -1;
		*(unsigned *)(void *)p = (unsigned)u;
		return 0;
	case FIELD_BOOL:
		return decode_bool(pp, v, key, (bool *)(void *)p);
	case FIELD_SIZE:
		return decode_size(pp, v, key, f->min, f->max,
		    (uint64_t *)(void *)p);
	case FIELD_DURATION:
		return decode_duration(pp, v, key, f->min, f->max,
		    (uint64_t *)(void *)p);
	case FIELD_ENUM:
		return decode_enum(pp, v, key, f->names, (int *)(void *)p);
	case FIELD_MAP:
		return decode_map(pp, v, f->sub, base, key);
	case FIELD_CUSTOM:
		return f->decode(pp, v, base);
	}
	return -1;
}

int
decode_map(struct plan_parser *pp, const struct pnode *map,
    const struct field *table, void *base, const char *where)
{
	const struct field	*f;
	const struct pnode	*key, *seen;
	const char		*near;
	size_t			 i;
	int			 rc = 0, known;

	if (map->type != PNODE_MAP) {
		if (*where == '\0')
			return pp_error(pp, map, "a plan must be a mapping of keys, "
			    "not %s", pnode_describe(map));
		return pp_error(pp, map, "`%s` must be a mapping, not %s", where,
		    pnode_describe(map));
	}

	for (f = table; f->key != NULL; f++) {
		seen = NULL;
		for (i = 0; i + 1 < map->n; i += 2) {
			key = map->kids[i];
			if (key->type != PNODE_SCALAR || strcmp(key->text, f->key))
				continue;
			if (seen != NULL) {
				rc = pp_error(pp, key, "duplicate key `%s`%s%s "
				    "(first at line %u)", f->key,
				    *where ? " in " : "", where, seen->mark.line);
				continue;
			}
			seen = key;
			pp->key = key;
			if (decode_field(pp, f, map->kids[i + 1], base, where) == -1)
				rc = -1;
		}
		if (seen == NULL && (f->flags & FIELD_REQUIRED))
			rc = pp_error(pp, map, "missing required key `%s`%s%s",
			    f->key, *where ? " in " : "", where);
		if (seen == NULL && (f->flags & FIELD_ALWAYS) &&
		    f->decode(pp, NULL, base) == -1)
			rc = -1;
	}

	/* Anything the table does not name is a typo or a misplaced key. */
	for (i = 0; i + 1 < map->n; i += 2) {
		key = map->kids[i];
		if (key->type != PNODE_SCALAR) {
			rc = pp_error(pp, key, "keys must be plain names, not %s",
			    pnode_describe(key));
			continue;
		}
		known = 0;
		for (f = table; f->key != NULL; f++)
			if (strcmp(key->text, f->key) == 0)
				known = 1;
		if (known)
			continue;
		near = suggest_nearest_field(key->text, table);
		if (near != NULL)
			rc = pp_error(pp, key, "unknown key `%s`%s%s; did you mean "
			    "`%s`?", key->text, *where ? " in " : "", where, near);
		else
			rc = pp_error(pp, key, "unknown key `%s`%s%s", key->text,
			    *where ? " in " : "", where);
	}
	return rc;
}

json_t *
encode_size(uint64_t v)
{
	char	buf[UNITS_FORMAT_MAX];

	units_format_size(v, buf, sizeof buf);
	/* A bare byte count prints as a number, as a user would write it. */
	if (isdigit((unsigned char)buf[strlen(buf) - 1]))
		return json_integer((json_int_t)v);
	return json_string(buf);
}

json_t *
encode_duration(uint64_t v)
{
	char	buf[UNITS_FORMAT_MAX];

	units_format_duration(v, buf, sizeof buf);
	return json_string(buf);
}

static json_t *
encode_field(const struct field *f, const void *base)
{
	const char	*p = (const char *)base + f->off;
	uint64_t	 u;
	json_t		*o;

	switch (f->type) {
	case FIELD_STRING:
		if (*(char *const *)(const void *)p == NULL)
			return NULL;
		return json_string(*(char *const *)(const void *)p);
	case FIELD_UINT:
		u = *(const unsigned *)(const void *)p;
		if (u == 0 && (f->flags & FIELD_OPTIONAL))
			return NULL;
		return json_integer((json_int_t)u);
	case FIELD_SIZE:
	case FIELD_DURATION:
		u = *(const uint64_t *)(const void *)p;
		if (u == 0 && (f->flags & FIELD_OPTIONAL))
			return NULL;
		return f->type == FIELD_SIZE ? encode_size(u) : encode_duration(u);
	case FIELD_BOOL:
		return json_boolean(*(const bool *)(const void *)p);
	case FIELD_ENUM:
		return json_string(f->names[*(const int *)(const void *)p]);
	case FIELD_MAP:
		o = encode_map(f->sub, base);
		if (o != NULL && json_object_size(o) == 0 &&
		    (f->flags & FIELD_OPTIONAL)) {
			json_decref(o);
			return NULL;
		}
		return o;
	case FIELD_CUSTOM:
		return f->encode ? f->encode(base) : NULL;
	}
	return NULL;
}

json_t *
encode_map(const struct field *table, const void *base)
{
	const struct field	*f;
	json_t			*o, *v;

	if ((o = json_object()) == NULL)
		return NULL;
	for (f = table; f->key != NULL; f++) {
		if ((v = encode_field(f, base)) != NULL)
			json_object_set_new(o, f->key, v);
	}
	return o;
}

/*
 * Edit distance counting a swap of two neighbours as one edit ("wiat" is
 * one typo from "wait"), bounded: names are short, anything long no typo.
 */
static size_t
distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), i, j, cost, best;
	size_t	d[65][65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			cost = tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]);
			best = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 &&
			    tolower((unsigned char)a[i - 1]) ==
			    tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) ==
			    tolower((unsigned char)b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* Near enough: a third of the word may be wrong, and at least one letter. */
static int
near_enough(const char *word, size_t d)
{
	size_t	limit = strlen(word) / 3;

	return d <= (limit < 1 ? 1 : limit);
}

const char *
suggest_nearest(const char *word, const char *const *candidates)
{
	const char	*best = NULL;
	size_t		 d, best_d = SIZE_MAX, i;

	for (i = 0; candidates[i] != NULL; i++) {
		if ((d = distance(word, candidates[i])) < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best != NULL && near_enough(word, best_d) ? best : NULL;
}

const char *
suggest_nearest_field(const char *word, const struct field *table)
{
	const char	*best = NULL;
	size_t		 d, best_d = SIZE_MAX;

	for (; table->key != NULL; table++) {
		if ((d = distance(word, table->key)) < best_d) {
			best_d = d;
			best = table->key;
		}
	}
	return best != NULL && near_enough(word, best_d) ? best : NULL;
}
