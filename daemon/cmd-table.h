/* cmd-table.h: the tables the commands print: each column as wide as its
 * widest cell, numbers on the right, a note under a row when one is set. */
#ifndef HOTSOAK_CMD_TABLE_H
#define HOTSOAK_CMD_TABLE_H

#include <stddef.h>

struct table;

/*
 * A table of ncols columns under heads (borrowed: they outlive it); bit
 * 1 << col of right puts that column on the right. NULL when out of
 * memory; the caller frees it with table_free.
 */
struct table	*table_new(size_t ncols, const char *const *heads,
		    unsigned right);
void		 table_free(struct table *);

/*
 * A new row, its cells "" until set. Running out of memory is remembered
 * and table_print reports it, so building a table checks nothing.
 */
void	table_row(struct table *);
/* Cell col of the last row, formatted, control characters as '?'. */
void	table_cell(struct table *, size_t col, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Cell col of the last row: s, else missing when s is NULL. */
void	table_cell_str(struct table *, size_t col, const char *s,
	    const char *missing);
/* A line printed under the last row, indented by four spaces. */
void	table_note(struct table *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* How many rows there are. */
size_t	table_rows(const struct table *);

/* On stdout; -1 having said so on stderr when building ran out of memory. */
int	table_print(const struct table *);

#endif
