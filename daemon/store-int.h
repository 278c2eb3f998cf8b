/* store-int.h: what the run store's files share: the handle, statement and
 * transaction wrappers that turn SQLite errors into causes. */
#ifndef HOTSOAK_STORE_INT_H
#define HOTSOAK_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "store.h"

struct store {
	sqlite3		*db;
	char		*path;		/* dir/STORE_FILE, for messages */
};

/* Sets *cause to "store: what: <SQLite's message>" and returns -1. */
int		 store_fail(struct store *, char **cause, const char *what);

/* Prepares the constant sql; -1 with *cause. The caller finalizes. */
int		 store_prepare(struct store *, sqlite3_stmt **, const char *sql,
		     char **cause);
/* Steps a statement that returns no rows, then finalizes it. */
int		 store_step_done(struct store *, sqlite3_stmt *, const char *what,
		     char **cause);

/*
 * Read transactions (BEGIN) give the queries one snapshot; write ones
 * (BEGIN IMMEDIATE) take the lock first so they never fail half way for
 * want of it.
 */
int		 store_begin(struct store *, bool write, char **cause);
int		 store_commit(struct store *, char **cause);
void		 store_rollback(struct store *);

/*
 * 1 when run id exists, 0 when not, -1 with *cause on error. Inside a
 * transaction when the caller wants the answer to hold.
 */
int		 store_run_exists(struct store *, int64_t id, char **cause);

/*
 * SQLite integers are signed: unsigned values (seeds) keep their bit
 * pattern in the column and get it back on the way out.
 */
int64_t		 store_i64(uint64_t);
uint64_t	 store_u64(int64_t);

/* Binds a time (0: NULL) or v as compact JSON text (NULL: NULL). */
void		 store_bind_time(sqlite3_stmt *, int i, uint64_t ns);
int		 store_bind_json(struct store *, sqlite3_stmt *, int i,
		     const json_t *v, const char *what, char **cause);

/*
 * Column readers of store-query.c for the other query files. Each json_t *
 * is a new reference the caller owns; NULL only when out of memory.
 */
json_t		*q_string(const char *s, size_t len);	/* bad UTF-8 made U+FFFD */
json_t		*q_text(sqlite3_stmt *, int col);	/* NULL column: null */
json_t		*q_u64(uint64_t);
json_t		*q_col_u64(sqlite3_stmt *, int col);
json_t		*q_seed(uint64_t);
/* Sets name (RFC 3339) and name_ns from a time column; null both if NULL. */
void		 q_set_time(json_t *o, const char *name, sqlite3_stmt *, int col);
json_t		*q_json(sqlite3_stmt *, int col);	/* a JSON column's value */
unsigned	 q_limit(unsigned limit);
void		 q_clear_cause(char **cause);
json_t		*q_oom(char **cause);
/* o["findings"] = {"total", "by_kind": {every kind: N}} of run id. */
int		 q_run_findings(struct store *, json_t *o, int64_t id,
		     char **cause);

#endif
