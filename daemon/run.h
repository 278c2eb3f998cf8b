/* run.h: one run of a plan: an explicit state machine on the daemon's event
 * base that starts the partition, drives its steps and records a verdict. */
#ifndef HOTSOAK_RUN_H
#define HOTSOAK_RUN_H

#include <stdint.h>

struct event_base;
struct plan_file;
struct store;
struct run;
struct backend_ops;

/* Where a run lives and whom it tells when it is over. */
struct run_env {
	struct event_base *base;
	struct store	*store;
	const char	*state_dir;	/* the run's folder is state_dir/runs/<id> */
	const char	*agent_binary;
	const char	*guest_dir;	/* the built guest image; NULL: none */
	/* The backend to use instead of the plan's (tests); NULL: the plan's. */
	const struct backend_ops *backend_ops;
	/*
	 * Called once, after the verdict is committed and the partition is
	 * gone; the run may be freed from here on (not inside the call).
	 */
	void		(*finished)(void *arg, struct run *);
	void		*arg;
};

/*
 * A run of pf's plan (stolen, whatever the result) under id, a row the
 * caller already made in the store, with seed. NULL with an allocated
 * *cause. Nothing starts before run_start. Free with run_free.
 */
struct run	*run_new(const struct run_env *, struct plan_file *pf, int64_t id,
		    uint64_t seed, char **cause);
/* Starts the state machine; every outcome ends in env->finished. */
void		 run_start(struct run *);
/* Stops the run early; its verdict is "aborted" with why as the reason. */
void		 run_abort(struct run *, const char *why);
int64_t		 run_id(const struct run *);
/* The verdict recorded ("pass", "fail", ...); NULL before the run ends. */
const char	*run_verdict(const struct run *);
/* Tears down what still runs without recording anything; NULL is a no-op. */
void		 run_free(struct run *);

#endif
