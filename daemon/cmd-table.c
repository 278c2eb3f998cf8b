/* cmd-table.c: a table of text cells printed in aligned columns, for the
 * listings of the commands that talk to hotsoakd. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-table.h"

struct table_line {
	char	**cells;	/* ncols, each allocated or NULL ("") */
	char	 *note;		/* NULL: none */
};

struct table {
	size_t			 ncols;
	const char *const	*heads;
	unsigned		 right;
	struct table_line	*lines;
	size_t			 nlines;
	size_t			 cap;
	int			 oom;	/* something was lost */
};

struct table *
table_new(size_t ncols, const char *const *heads, unsigned right)
{
	struct table	*t;

	if ((t = calloc(1, sizeof *t)) == NULL)
		return NULL;
	t->ncols = ncols;
	t->heads = heads;
	t->right = right;
	return t;
}

void
table_free(struct table *t)
{
	size_t	i, col;

	if (t == NULL)
		return;
	for (i = 0; i < t->nlines; i++) {
		for (col = 0; col < t->ncols; col++)
			free(t->lines[i].cells[col]);
		free(t->lines[i].cells);
		free(t->lines[i].note);
	}
	free(t->lines);
	free(t);
}

void
table_row(struct table *t)
{
	struct table_line	*p;
	size_t			 cap;

	if (t->nlines == t->cap) {
		cap = t->cap == 0 ? 16 : t->cap * 2;
		if ((p = reallocarray(t->lines, cap, sizeof *p)) == NULL) {
			t->oom = 1;
			return;
		}
		t->lines = p;
		t->cap = cap;
	}
	p = &t->lines[t->nlines];
	p->note = NULL;
	if ((p->cells = calloc(t->ncols, sizeof *p->cells)) == NULL) {
		t->oom = 1;
		return;
	}
	t->nlines++;
}

size_t
table_rows(const struct table *t)
{
	return t->nlines;
}

/* *slot (freed first) becomes fmt and ap, control characters blunted. */
static void
table_set(struct table *t, char **slot, const char *fmt, va_list ap)
{
	char	*s, *p;

	if (vasprintf(&s, fmt, ap) == -1) {
		t->oom = 1;
		return;
	}
	for (p = s; *p != '\0'; p++)
		if (iscntrl((unsigned char)*p))
			*p = '?';
	free(*slot);
	*slot = s;
}

void
table_cell(struct table *t, size_t col, const char *fmt, ...)
{
	va_list	ap;

	if (t->nlines == 0 || col >= t->ncols)
		return;
	va_start(ap, fmt);
	table_set(t, &t->lines[t->nlines - 1].cells[col], fmt, ap);
	va_end(ap);
}

void
table_cell_str(struct table *t, size_t col, const char *s,
    const char *missing)
{
	table_cell(t, col, "%s", s != NULL ? s : missing);
}

void
table_note(struct table *t, const char *fmt, ...)
{
	va_list	ap;

	if (t->nlines == 0)
		return;
	va_start(ap, fmt);
	table_set(t, &t->lines[t->nlines - 1].note, fmt, ap);
	va_end(ap);
}

static void
table_print_line(const struct table *t, const size_t *w,
    const char *const *cells)
{
	const char	*s;
	size_t		 col;
	int		 last;

	for (col = 0; col < t->ncols; col++) {
		s = cells[col] != NULL ? cells[col] : "";
		last = col + 1 == t->ncols;
		/* The last column is not padded: no trailing blanks. */
		if (t->right & (1U << col))
			printf("%*s", (int)w[col], s);
		else
			printf("%-*s", last ? 0 : (int)w[col], s);
		printf("%s", last ? "\n" : "  ");
	}
}

int
table_print(const struct table *t)
{
	size_t	*w, i, col, n;

	if (t->oom || (w = calloc(t->ncols, sizeof *w)) == NULL) {
		fprintf(stderr, "hotsoak: out of memory\n");
		return -1;
	}
	for (col = 0; col < t->ncols; col++)
		w[col] = strlen(t->heads[col]);
	for (i = 0; i < t->nlines; i++)
		for (col = 0; col < t->ncols; col++)
			if (t->lines[i].cells[col] != NULL &&
			    (n = strlen(t->lines[i].cells[col])) > w[col])
				w[col] = n;
	table_print_line(t, w, t->heads);
	for (i = 0; i < t->nlines; i++) {
		table_print_line(t, w, (const char *const *)t->lines[i].cells);
		if (t->lines[i].note != NULL)
			printf("    %s\n", t->lines[i].note);
	}
	free(w);
	return 0;
}
