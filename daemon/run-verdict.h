/* run-verdict.h: the rule that turns what a run saw into its verdict, kept
 * apart from the engine so it can be read, and tested, on its own. */
#ifndef HOTSOAK_RUN_VERDICT_H
#define HOTSOAK_RUN_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotsoak/finding.h"

enum run_verdict {
	RUN_PASS,		/* every step ran, every expect held, no failing finding */
	RUN_FAIL,		/* the system under test failed: a failing finding */
	RUN_ERROR,		/* the harness or backend failed, or the run proved nothing */
	RUN_ABORTED,		/* stopped by a user or by hotsoakd stopping */
	RUN_INTERRUPTED,	/* hotsoakd died while it ran (set by the store) */
	RUN_VERDICT_COUNT	/* number of verdicts, not a verdict */
};

extern const char *const run_verdict_names[RUN_VERDICT_COUNT];

/* What the verdict is decided from. */
struct run_outcome {
	bool		 aborted;
	const char	*abort_reason;	/* with aborted */
	const char	*error;		/* the first harness error, or NULL */
	bool		 steps_finished; /* the last step of the last pass ended */
	unsigned	 findings[FINDING_KIND_COUNT];
	const bool	*fail_on;	/* the plan's checks.fail_on */
	uint64_t	 fault_ops;	/* hot-adds and replaces the backend performed */
	uint64_t	 blocks_verified;
	bool		 verify;	/* the plan's workload verifies data */
};

/*
 * The verdict, and its reason (one line for people) into buf. Failing
 * findings come first: they are evidence about the system under test even
 * when the harness failed afterwards. A run that performed no fault
 * operation, or verified no block, is never a pass.
 */
enum run_verdict run_verdict_decide(const struct run_outcome *, char *buf,
		    size_t len);

#endif
