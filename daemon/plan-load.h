/* plan-load.h: the loader's parts as they call one another: the plan body,
 * its target block, campaigns, and helpers to find nodes for errors. */
#ifndef HOTSOAK_PLAN_LOAD_H
#define HOTSOAK_PLAN_LOAD_H

#include <jansson.h>

#include "plan-decode.h"

/* Read a plan's keys from root into p (defaults already set by plan_init). */
int	plan_decode(struct plan_parser *, const struct pnode *root, struct plan *);
json_t	*plan_encode(const struct plan *);
/* Defaults; -1 only when out of memory. */
int	plan_init(struct plan *);

/* The target block: a FIELD_CUSTOM of the plan table. */
int	target_decode(struct plan_parser *, const struct pnode *, void *plan);
json_t	*target_encode(const void *plan);
int	target_init(struct plan_target *);
void	target_free(struct plan_target *);

int	campaign_decode(struct plan_parser *, const struct pnode *root,
	    struct campaign *);
json_t	*campaign_encode(const struct campaign *);

/*
 * The node at the end of a key path from n, such as ("target", "cpus",
 * "max"), or the deepest node on the way when the path stops early: an
 * error about a defaulted key points at the block that left it out.
 */
const struct pnode *pnode_path(const struct pnode *, ...);

/* strdup into *dst, freeing the old value; -1 when out of memory. */
int	set_string(char **dst, const char *src);

/* [A-Za-z0-9][A-Za-z0-9._-]{0,63}: names go into URLs and file names. */
int	check_name(struct plan_parser *, const struct pnode *, const char *);

#endif
