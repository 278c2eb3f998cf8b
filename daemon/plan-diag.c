/* plan-diag.c: the list of located errors a load collects, kept in file
 * order and capped so a hostile file cannot make the list itself large. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/plan.h"
#include "plan-decode.h"

void
plan_diags_init(struct plan_diags *d)
{
	memset(d, 0, sizeof *d);
}

void
plan_diags_free(struct plan_diags *d)
{
	size_t	i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].message);
	}
	free(d->v);
	plan_diags_init(d);
}

/* Copies file and message; an allocation failure drops the error but counts it. */
void
plan_diags_add(struct plan_diags *d, const char *file, struct plan_mark mark,
    const char *message)
{
	struct plan_diag	*v;
	size_t			 cap;

	if (d->n >= PLAN_DIAGS_COLLECT) {
		d->dropped++;
		return;
	}
	if (d->n == d->cap) {
		cap = d->cap ? d->cap * 2 : 8;
		if ((v = realloc(d->v, cap * sizeof *v)) == NULL) {
			d->dropped++;
			return;
		}
		d->v = v;
		d->cap = cap;
	}
	v = &d->v[d->n];
	v->file = strdup(file);
	v->message = strdup(message);
	v->mark = mark;
	if (v->file == NULL || v->message == NULL) {
		free(v->file);
		free(v->message);
		d->dropped++;
		return;
	}
	d->n++;
}

void
plan_diags_addf(struct plan_diags *d, const char *file, struct plan_mark mark,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg == NULL) {
		d->dropped++;
		return;
	}
	plan_diags_add(d, file, mark, msg);
	free(msg);
}

/* Callers sort one file's errors at a time, so only the place counts. */
static int
diag_cmp(const struct plan_diag *x, const struct plan_diag *y)
{
	if (x->mark.line != y->mark.line)
		return x->mark.line < y->mark.line ? -1 : 1;
	if (x->mark.column != y->mark.column)
		return x->mark.column < y->mark.column ? -1 : 1;
	return 0;
}

/*
 * The schema walk visits keys in dependency order (backend before the
 * backend's settings), so errors are sorted back into file order here.
 * Ties keep the order they were found in.
 */
void
plan_diags_sort(struct plan_diags *d, size_t from)
{
	size_t	i, j;

	/* Insertion sort: stable, and lists are at most PLAN_DIAGS_COLLECT long. */
	for (i = from + 1; i < d->n; i++) {
		struct plan_diag tmp = d->v[i];

		for (j = i; j > from && diag_cmp(&d->v[j - 1], &tmp) > 0; j--)
			d->v[j] = d->v[j - 1];
		d->v[j] = tmp;
	}
}

/* Keeps the first `keep` errors, counting the rest as dropped. */
void
plan_diags_truncate(struct plan_diags *d, size_t keep)
{
	while (d->n > keep) {
		d->n--;
		free(d->v[d->n].file);
		free(d->v[d->n].message);
		d->dropped++;
	}
}

void
plan_diags_print(const struct plan_diags *d, FILE *f)
{
	size_t	i;

	for (i = 0; i < d->n; i++) {
		if (d->v[i].mark.line == 0)
			fprintf(f, "%s: error: %s\n", d->v[i].file,
			    d->v[i].message);
		else
			fprintf(f, "%s:%u:%u: error: %s\n", d->v[i].file,
			    d->v[i].mark.line, d->v[i].mark.column,
			    d->v[i].message);
	}
	if (d->dropped > 0 && d->n > 0)
		fprintf(f, "%s: error: %zu more errors not shown\n",
		    d->v[d->n - 1].file, d->dropped);
}
