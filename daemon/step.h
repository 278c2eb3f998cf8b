/* step.h: plan step actions as a table, one file each (step-<action>.c);
 * adding an action is a new file and one line in step_table. */
#ifndef HOTSOAK_STEP_H
#define HOTSOAK_STEP_H

#include <jansson.h>

#include "hotsoak/plan.h"
#include "plan-decode.h"
#include "run-step.h"

struct step_entry {
	const char	*name;		/* the key that names the action in a plan */
	const char	*summary;	/* one line for docs and help */
	size_t		 size;		/* of the action's argument struct */
	/* Arguments given as a mapping, read with this table ... */
	const struct field *fields;
	/* ... or any other shape, read by this hook instead. */
	int		(*parse)(struct plan_parser *, const struct pnode *,
			    void *data);
	void		(*init)(void *data);	/* defaults, before parsing */
	/* Whole-step rules the table cannot say; node is the step's value. */
	int		(*check)(struct plan_parser *, const struct pnode *,
			    void *data);
	json_t		*(*encode)(const void *data);	/* NULL: encode_map(fields) */
	void		(*demand)(const void *data, struct plan_demand *);
	void		(*free)(void *data);	/* what data owns, not data */
	/*
	 * Execute the step in a run: an enum step_result, usually from one of
	 * the step_run_* calls of run-step.h. The engine owns every timer and
	 * request those start, so cancelling a step needs no hook here.
	 */
	int		(*exec)(struct step_run *, const void *data);
};

extern const struct step_entry *const step_table[];

/* The entry named name, or NULL. */
const struct step_entry *step_find(const char *name);

/*
 * Read a list of steps at node into steps (which the caller frees with
 * steps_free); where names the list in messages. Records every error.
 */
int	steps_parse(struct plan_parser *, const struct pnode *, const char *where,
	    struct plan_steps *);
void	steps_free(struct plan_steps *);
json_t	*steps_encode(const struct plan_steps *);
/* The most one pass of steps can add to the partition. */
void	steps_demand(const struct plan_steps *, struct plan_demand *);

/* Decode hook for a FIELD_CUSTOM `steps` list in a struct plan_steps. */
int	steps_decode_field(struct plan_parser *, const struct pnode *,
	    struct plan_steps *, const char *key);

/* Saturating arithmetic, so a hostile repeat count cannot wrap a demand. */
uint64_t sat_add(uint64_t, uint64_t);
uint64_t sat_mul(uint64_t, uint64_t);

extern const struct step_entry step_wait;
extern const struct step_entry step_hot_add;
extern const struct step_entry step_hot_replace;
extern const struct step_entry step_expect;
extern const struct step_entry step_repeat;
extern const struct step_entry step_random;
extern const struct step_entry step_inject;

#endif
