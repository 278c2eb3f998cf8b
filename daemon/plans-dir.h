/* plans-dir.h: the daemon's plans folder: the list of plans and campaigns
 * it offers (reloaded on SIGHUP) and safe lookup of a plan by name. */
#ifndef HOTSOAK_PLANS_DIR_H
#define HOTSOAK_PLANS_DIR_H

#include <jansson.h>

struct plans_dir;

/* NULL with an allocated *cause when dir cannot be read. Loads at once. */
struct plans_dir *plans_dir_open(const char *dir, char **cause);
/* Re-read the folder (SIGHUP); the old list stays on error. */
int	plans_dir_reload(struct plans_dir *, char **cause);
void	plans_dir_free(struct plans_dir *);
const char *plans_dir_path(const struct plans_dir *);

/*
 * {"plans": [{"name", "file", "kind": "plan"|"campaign", "description",
 * "backend", "valid": bool, "errors": ["FILE:L:C: error: ...", ...]}]}
 * sorted by name, as of the last load. Caller owns the result.
 */
json_t	*plans_dir_list(const struct plans_dir *);

/*
 * The path of the plan called name: "local-smoke", "local-smoke.yaml" or
 * ".yml". A name with '/', a leading '.', a NUL, control characters or
 * over 128 bytes is refused (-1, *cause "bad plan name ..."), so no name
 * reaches outside the folder; an unknown one is -1 with *cause "no plan
 * named ..." and *missing set (may be NULL). On success *path is
 * allocated; the caller frees it.
 */
int	plans_dir_resolve(const struct plans_dir *, const char *name,
	    char **path, int *missing, char **cause);

/*
 * The text of the plan file at path as a run records it (at most
 * PLAN_MAX_BYTES, no NUL); allocated, the caller frees. NULL with *cause.
 */
char	*plans_read_text(const char *path, char **cause);

#endif
