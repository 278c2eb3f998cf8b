/* finding.c: the finding kinds, in the order of enum finding_kind; adding a
 * kind is one enum value and one line here. */
#include "config.h"

#include <string.h>

#include "hotsoak/finding.h"

const struct finding_kind_entry finding_kinds[FINDING_KIND_COUNT] = {
	[FINDING_IO_TIMEOUT] = { "io_timeout", true,
	    "an I/O was still in flight past its io_timeout" },
	[FINDING_IO_ERROR] = { "io_error", true,
	    "an I/O completed with an error such as EIO" },
	[FINDING_CORRUPTION] = { "corruption", true,
	    "data read back, or memory checked, did not match what was written" },
	[FINDING_BUGCHECK] = { "bugcheck", true,
	    "the guest kernel crashed: panic, BUG, Oops or a STOP code" },
	[FINDING_HANG] = { "hang", true,
	    "the agent missed its heartbeat deadline" },
	[FINDING_EXPECT_FAILED] = { "expect_failed", true,
	    "an expect step did not hold within its deadline" },
	[FINDING_SLOW_IO] = { "slow_io", true,
	    "an I/O completed, but slower than checks.max_latency" },
	[FINDING_WARNING] = { "warning", false,
	    "the guest kernel warned (WARNING:, hung task, soft lockup, RCU stall, "
	    "I/O error lines) and carried on" },
	[FINDING_BACKEND_ERROR] = { "backend_error", false,
	    "the hypervisor or the harness failed: the verdict is error, not fail" },
};

int
finding_kind_find(const char *name)
{
	int	i;

	for (i = 0; i < FINDING_KIND_COUNT; i++)
		if (strcmp(finding_kinds[i].name, name) == 0)
			return i;
	return -1;
}
