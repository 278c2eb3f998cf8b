/* step-wait.c: `wait: 5s` lets the workload run untouched for a while, the
 * quiet stretch between faults where slow failures surface. */
#include "config.h"

#include "step.h"

struct wait_args {
	uint64_t	ms;
};

static int
wait_parse(struct plan_parser *pp, const struct pnode *n, void *data)
{
	struct wait_args	*a = data;

	return decode_duration(pp, n, "wait", 1, 30ULL * 86400000, &a->ms);
}

static json_t *
wait_encode(const void *data)
{
	const struct wait_args	*a = data;

	return encode_duration(a->ms);
}

static int
wait_exec(struct step_run *sr, const void *data)
{
	const struct wait_args	*a = data;

	return step_run_sleep(sr, a->ms);
}

const struct step_entry step_wait = {
	.name = "wait",
	.summary = "let the workload run for a duration",
	.size = sizeof(struct wait_args),
	.parse = wait_parse,
	.encode = wait_encode,
	.exec = wait_exec,
};
