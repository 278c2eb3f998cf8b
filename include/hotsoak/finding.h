/* finding.h: the kinds of thing a run can find, one table entry each, so
 * plans, the engine, the store and the reports agree on names and defaults. */
#ifndef HOTSOAK_FINDING_H
#define HOTSOAK_FINDING_H

#include <stdbool.h>

enum finding_kind {
	FINDING_IO_TIMEOUT,	/* an I/O still in flight past its io_timeout */
	FINDING_IO_ERROR,	/* an I/O that completed with an error (EIO, ...) */
	FINDING_CORRUPTION,	/* data read back or memory checked did not match */
	FINDING_BUGCHECK,	/* the guest kernel crashed (panic, BUG, Oops, STOP) */
	FINDING_HANG,		/* the agent stopped answering heartbeats */
	FINDING_EXPECT_FAILED,	/* an expect step did not hold within its deadline */
	FINDING_SLOW_IO,	/* an I/O completed, but slower than checks.max_latency */
	FINDING_WARNING,	/* the kernel warned: WARNING:, hung task, lockup, RCU stall, I/O error line */
	FINDING_BACKEND_ERROR,	/* the hypervisor or harness failed: an error verdict */
	FINDING_KIND_COUNT	/* number of kinds, not a kind */
};

struct finding_kind_entry {
	const char	*name;		/* spelling in plans, JSON and reports */
	bool		 fails_run;	/* in checks.fail_on unless the plan says otherwise */
	const char	*summary;	/* one line for docs and help */
};

extern const struct finding_kind_entry finding_kinds[FINDING_KIND_COUNT];

/* Kind named name, or -1. */
int	finding_kind_find(const char *name);

#endif
