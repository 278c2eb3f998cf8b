/* run-verdict.c: pass, fail, error or aborted from a run's findings, its
 * errors and what it actually did. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "run-verdict.h"

const char *const run_verdict_names[RUN_VERDICT_COUNT] = {
	"pass", "fail", "error", "aborted", "interrupted"
};

/*
 * "io_timeout 3, corruption 1" for the kinds that fail this run. An expect
 * that did not hold fails the run whatever checks.fail_on says.
 */
static void
failing_kinds(const struct run_outcome *o, char *buf, size_t len)
{
	size_t	i, off = 0;
	int	n;

	buf[0] = '\0';
	for (i = 0; i < FINDING_KIND_COUNT; i++) {
		if (o->findings[i] == 0 ||
		    (!o->fail_on[i] && i != FINDING_EXPECT_FAILED))
			continue;
		n = snprintf(buf + off, len - off, "%s%s %u", off ? ", " : "",
		    finding_kinds[i].name, o->findings[i]);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

enum run_verdict
run_verdict_decide(const struct run_outcome *o, char *buf, size_t len)
{
	char	kinds[256];

	failing_kinds(o, kinds, sizeof kinds);
	if (kinds[0] != '\0') {
		snprintf(buf, len, "failing findings: %s%s", kinds,
		    o->aborted ? " (then aborted)" : "");
		return RUN_FAIL;
	}
	if (o->aborted) {
		snprintf(buf, len, "aborted: %s", o->abort_reason ?
		    o->abort_reason : "by request");
		return RUN_ABORTED;
	}
	if (o->error != NULL || o->findings[FINDING_BACKEND_ERROR] != 0) {
		snprintf(buf, len, "harness error: %s", o->error ? o->error :
		    "the backend reported an error");
		return RUN_ERROR;
	}
	if (!o->steps_finished) {
		snprintf(buf, len, "harness error: the steps did not finish");
		return RUN_ERROR;
	}
	if (o->fault_ops == 0) {
		snprintf(buf, len, "proved nothing: no hot-add or replace was "
		    "performed");
		return RUN_ERROR;
	}
	if (o->blocks_verified == 0) {
		snprintf(buf, len, "proved nothing: the agent verified no block%s",
		    o->verify ? "" : " (workload.io.verify is none)");
		return RUN_ERROR;
	}
	snprintf(buf, len, "every step ran, every expect held, no failing "
	    "finding (%" PRIu64 " fault operations, %" PRIu64 " blocks verified)",
	    o->fault_ops, o->blocks_verified);
	return RUN_PASS;
}
