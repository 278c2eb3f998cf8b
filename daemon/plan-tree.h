/* plan-tree.h: a plan file as a small tree of located YAML nodes, built
 * from libyaml's events under fixed limits, for the schema walk to read. */
#ifndef HOTSOAK_PLAN_TREE_H
#define HOTSOAK_PLAN_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "hotsoak/plan.h"

enum pnode_type {
	PNODE_SCALAR,		/* text, plain or quoted */
	PNODE_SEQ,		/* kids are the items */
	PNODE_MAP		/* kids alternate key, value */
};

struct pnode {
	enum pnode_type	 type;
	struct plan_mark mark;		/* where the node starts */
	bool		 quoted;	/* scalar written in quotes or as a block */
	bool		 exact;		/* one-line scalar without escapes: bytes map to columns */
	char		*text;		/* scalar value, NUL-terminated */
	size_t		 len;
	struct pnode	**kids;
	size_t		 n;
	size_t		 cap;
};

/*
 * Parse len bytes at buf (named file in errors) into a tree. Returns the
 * root, which the caller frees with pnode_free, or NULL with the error in
 * diags. A file holding no document returns NULL with an "empty" error.
 */
struct pnode	*ptree_parse(const char *file, const unsigned char *buf,
		    size_t len, struct plan_diags *);
void		 pnode_free(struct pnode *);

/* The value for key in map, the first if it repeats, or NULL. */
const struct pnode *pnode_map_get(const struct pnode *map, const char *key);

/* The key node itself, for errors about the key's whole value, or NULL. */
const struct pnode *pnode_map_key(const struct pnode *map, const char *key);

/* A plain scalar that YAML reads as null: empty, "~" or "null". */
bool		 pnode_is_null(const struct pnode *);

/* "a mapping", "a sequence", "a string"...: for wrong-type messages. */
const char	*pnode_describe(const struct pnode *);

/* The mark of byte offset `at` in a scalar, where it can be known. */
struct plan_mark pnode_mark_at(const struct pnode *, size_t at);

#endif
