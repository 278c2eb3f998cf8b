/* runs.h: the runs in flight in one daemon: submit, abort, shut down; each
 * run is a state machine (run.h) on the daemon's one event base. */
#ifndef HOTSOAK_RUNS_H
#define HOTSOAK_RUNS_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct plan_file;
struct store;
struct runs;

struct runs_config {
	const char	*state_dir;	/* runs get state_dir/runs/<id>/ while they run */
	const char	*agent_binary;	/* hotsoak-agent for backends that start it here */
	const char	*guest_dir;	/* the built guest image (qemu); NULL: none */
	unsigned	 max_active;	/* submissions past this are refused (0: 256) */
};

/* NULL with an allocated *cause. Free with runs_free. Strings are copied. */
struct runs	*runs_new(struct event_base *, struct store *,
		    const struct runs_config *, char **cause);

/*
 * Start a run of pf's plan (pf must hold a plan, not a campaign; stolen,
 * whatever the result). text is the plan as submitted (borrowed). *id
 * gets the run's id: it is in the store, "queued" then "running", before
 * this returns. -1 with an allocated *cause: too many runs, or the store
 * failed.
 */
int	runs_submit(struct runs *, struct plan_file *pf, const char *text,
	    int64_t *id, char **cause);

/*
 * What a submission may add: where the run belongs (a campaign's attempt,
 * a rerun), a seed to use instead of the plan's, and whom to tell once the
 * run is recorded. All zero: a plain run, as runs_submit.
 */
struct runs_submit_opts {
	int64_t		 campaign_run;	/* 0: none */
	unsigned	 plan_index;	/* in the campaign's plans, from 0 */
	unsigned	 repetition;	/* from 1 */
	unsigned	 attempt;	/* from 1; 0: none */
	int64_t		 rerun;		/* 0: none */
	bool		 has_seed;	/* run with seed, not the plan's */
	uint64_t	 seed;
	/*
	 * Called from the event loop once the run's verdict is committed
	 * (verdict NULL when it could not be), also for a run whose set-up
	 * failed; never from inside runs_submit, and not for runs torn down
	 * by runs_free.
	 */
	void		(*done)(void *arg, int64_t id, const char *verdict);
	void		*arg;
};

/* runs_submit with opts (NULL: none). */
int	runs_submit_opts(struct runs *, struct plan_file *pf, const char *text,
	    const struct runs_submit_opts *opts, int64_t *id, char **cause);

/*
 * Abort a run in flight: it stops and is recorded "aborted". Returns 0
 * when the abort began, 1 when no run with that id is in flight (it may
 * be finished or unknown: ask the store).
 */
int	runs_abort(struct runs *, int64_t id);

/* Runs in flight now. */
unsigned runs_active(const struct runs *);

/*
 * Abort every run in flight and call done(arg) once all are recorded
 * (at once when none runs). New submissions are refused from here on.
 */
void	runs_shutdown(struct runs *, void (*done)(void *), void *arg);

/* Frees; runs still in flight are torn down unrecorded. NULL is a no-op. */
void	runs_free(struct runs *);

#endif
