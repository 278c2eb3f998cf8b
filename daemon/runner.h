/* runner.h: how campaign runs and reruns make runs: through the daemon's
 * run set, or through a scripted runner in the tests. */
#ifndef HOTSOAK_RUNNER_H
#define HOTSOAK_RUNNER_H

#include <stdint.h>

struct plan_file;
struct runs;
struct runs_submit_opts;

struct runner {
	/* As runs_submit_opts: pf is stolen; opts->done is called later. */
	int	(*submit)(void *arg, struct plan_file *pf, const char *text,
		    const struct runs_submit_opts *opts, int64_t *id,
		    char **cause);
	/* As runs_abort: 0 when the abort began, 1 when not in flight. */
	int	(*abort)(void *arg, int64_t id);
	void	*arg;
};

/* The runner of a daemon's run set (borrowed; it must outlive the runner). */
void	runner_of_runs(struct runner *, struct runs *);

#endif
