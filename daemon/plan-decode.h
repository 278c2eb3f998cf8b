/* plan-decode.h: the keyword tables plans are checked against and the
 * typed decoders behind them; one table both reads a block and prints it. */
#ifndef HOTSOAK_PLAN_DECODE_H
#define HOTSOAK_PLAN_DECODE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hotsoak/plan.h"
#include "plan-tree.h"

/* One load in progress: where errors go, and what has been read so far. */
struct plan_parser {
	const char		*file;
	struct plan_diags	*diags;
	const struct plan_load_opts *opts;
	struct plan		*plan;	/* the plan being read, for cross-checks */
	const struct pnode	*root;	/* for errors about a key that is absent */
	const struct pnode	*key;	/* key of the value being decoded */
	bool			 target_ok; /* target read cleanly: steps may check against it */
	bool			 backend_bad; /* target.backend unknown: skip backend rules */
	int			 errors; /* errors this load added */
	struct plan_diags	 nested; /* errors of the plans a campaign names */
};

enum field_type {
	FIELD_STRING,		/* char *, allocated */
	FIELD_UINT,		/* unsigned, decimal */
	FIELD_BOOL,		/* bool: true or false */
	FIELD_SIZE,		/* uint64_t bytes: "4KiB" */
	FIELD_DURATION,		/* uint64_t milliseconds: "5s" */
	FIELD_ENUM,		/* int: index into names */
	FIELD_MAP,		/* a nested block read with its own table */
	FIELD_CUSTOM		/* decode/encode hooks do the work */
};

#define FIELD_REQUIRED	0x1	/* missing is an error */
#define FIELD_OPTIONAL	0x2	/* 0 or NULL means absent: not printed */
#define FIELD_ALWAYS	0x4	/* FIELD_CUSTOM: decode(NULL) when absent, to resolve defaults */

struct field {
	const char	*key;
	enum field_type	 type;
	size_t		 off;		/* into the block's struct */
	unsigned	 flags;
	uint64_t	 min;		/* numbers, sizes (bytes), durations (ms) */
	uint64_t	 max;
	const char *const *names;	/* FIELD_ENUM, NULL-terminated */
	const struct field *sub;	/* FIELD_MAP: its table, same struct */
	/* FIELD_CUSTOM: read node into the struct at base; 0 or -1. */
	int		(*decode)(struct plan_parser *, const struct pnode *,
			    void *base);
	/* FIELD_CUSTOM: the value to print, or NULL to leave the key out. */
	json_t		*(*encode)(const void *base);
	const char	*help;		/* one line: what the key means */
};

#define FIELD_END	{ .key = NULL }

/* Records an error at node (the root when NULL) or mark; returns -1. */
int	pp_error(struct plan_parser *, const struct pnode *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	pp_error_at(struct plan_parser *, struct plan_mark, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Read mapping node against table into base. Keys are visited in table
 * order, so a key may depend on one listed before it. where names the
 * block in messages ("workload.io"); keys are named in full
 * ("workload.io.size"). Returns 0, or -1 after recording every error.
 */
int	decode_map(struct plan_parser *, const struct pnode *,
	    const struct field *, void *base, const char *where);

/* The same block as a JSON object, keys in table order. Caller owns it. */
json_t	*encode_map(const struct field *, const void *base);

/* Typed scalar readers; each records its own error, naming key. */
int	decode_string(struct plan_parser *, const struct pnode *, const char *key,
	    char **out);
int	decode_u64(struct plan_parser *, const struct pnode *, const char *key,
	    uint64_t min, uint64_t max, uint64_t *out);
int	decode_size(struct plan_parser *, const struct pnode *, const char *key,
	    uint64_t min, uint64_t max, uint64_t *out);
int	decode_duration(struct plan_parser *, const struct pnode *,
	    const char *key, uint64_t min, uint64_t max, uint64_t *out);
int	decode_enum(struct plan_parser *, const struct pnode *, const char *key,
	    const char *const *names, int *out);

/* "a, b, c" from a NULL-terminated list, for messages. Caller frees. */
char	*names_join(const char *const *);

json_t	*encode_size(uint64_t);
json_t	*encode_duration(uint64_t);

/*
 * The candidate nearest to word by edit distance, when near enough to be
 * a likely typo, else NULL. candidates is NULL-terminated.
 */
const char *suggest_nearest(const char *word, const char *const *candidates);
const char *suggest_nearest_field(const char *word, const struct field *);

/* Into the plan diags, used by the tree builder and the loader. */
void	plan_diags_add(struct plan_diags *, const char *file, struct plan_mark,
	    const char *message);
void	plan_diags_addf(struct plan_diags *, const char *file, struct plan_mark,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	plan_diags_sort(struct plan_diags *, size_t from);
void	plan_diags_truncate(struct plan_diags *, size_t keep);

#endif
