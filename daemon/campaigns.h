/* campaigns.h: the campaigns of the plans folder: each started on its cron
 * schedule or by request, never two runs of one campaign at once. */
#ifndef HOTSOAK_CAMPAIGNS_H
#define HOTSOAK_CAMPAIGNS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

struct event_base;
struct plan_diags;
struct plans_dir;
struct runner;
struct store;
struct campaigns;

struct campaigns_config {
	const struct runner *runner;	/* borrowed; outlives the campaigns */
	/* The wall clock schedules follow; NULL: time(). Tests set their own. */
	time_t		(*now)(void *arg);
	void		*now_arg;
	bool		 no_schedule;	/* campaigns start by request only */
};

/*
 * The campaigns of plans (borrowed, may be NULL: none), loaded now, and
 * their schedules armed on base. NULL with an allocated *cause.
 */
struct campaigns *campaigns_new(struct event_base *, struct store *,
		    struct plans_dir *, const struct campaigns_config *,
		    char **cause);

/* Re-reads the campaigns after plans_dir_reload and re-arms schedules. */
void	campaigns_reload(struct campaigns *);

/* Why campaigns_start refused. */
enum campaigns_refusal {
	CAMPAIGNS_OK,
	CAMPAIGNS_UNKNOWN,	/* no campaign of that name */
	CAMPAIGNS_INVALID,	/* it does not load: *diags has why */
	CAMPAIGNS_BUSY,		/* one of it runs: *running is its id */
	CAMPAIGNS_STOPPING,	/* hotsoakd is stopping */
	CAMPAIGNS_FAILED	/* the store or memory: *cause */
};

/*
 * Starts a run of the campaign called name (its `name:`, or its file's
 * name) now, for trigger "request" or "schedule". *id gets the campaign
 * run. Returns an enum campaigns_refusal; diags (may be NULL) gets the
 * load errors of an invalid campaign, *cause a message for any refusal
 * (allocated, the caller frees).
 */
int	campaigns_start(struct campaigns *, const char *name, const char *trigger,
	    int64_t *id, int64_t *running, struct plan_diags *diags,
	    char **cause);

/*
 * Aborts campaign run id, or the running run of campaign name (id 0).
 * 0: the abort began (*id gets the run); 1: none of it is in flight.
 */
int	campaigns_abort(struct campaigns *, const char *name, int64_t *id);

/*
 * [{"name", "file", "description", "plans", "repeat", "parallel",
 * "retries", "schedule", "valid", "errors", "next_run", "next_run_ns",
 * "running", "last_run"}] sorted by name. NULL with *cause on a store
 * error. The caller owns the result.
 */
json_t	*campaigns_list(struct campaigns *, char **cause);
/*
 * One campaign as in the list, with "runs" (its latest campaign runs) and
 * "events" (its latest events). NULL with *cause NULL: no such campaign.
 */
json_t	*campaigns_get(struct campaigns *, const char *name, char **cause);

/* Looks at the schedules now (the timer does it on its own). */
void	campaigns_tick(struct campaigns *);

/* Campaign runs in flight. */
unsigned campaigns_active(const struct campaigns *);

/*
 * Aborts every campaign run in flight, as "hotsoakd is stopping"; they are
 * recorded once their runs come back. Nothing starts from here on.
 */
void	campaigns_shutdown(struct campaigns *);

/* Frees; campaign runs in flight are dropped unrecorded. NULL is a no-op. */
void	campaigns_free(struct campaigns *);

#endif
