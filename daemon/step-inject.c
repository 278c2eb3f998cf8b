/* step-inject.c: `inject: {fault: panic}` breaks the guest on purpose, to
 * prove that the harness turns a crash during I/O into a finding. */
#include "config.h"

#include "step.h"

/* Spelled as enum inject_fault (run-step.h) counts. */
const char *const inject_fault_names[] = { "panic", NULL };

/*
 * Why a fault cannot run on the local backend, where the "guest" is this
 * host and the agent's fault would be done to it. NULL: it can.
 */
static const char *const inject_local_why[] = {
	[INJECT_PANIC] = "would crash this host's kernel",
};

struct inject_args {
	int	fault;		/* enum inject_fault */
};

static const struct field inject_fields[] = {
	{ "fault", FIELD_ENUM, offsetof(struct inject_args, fault),
	  FIELD_REQUIRED, .names = inject_fault_names,
	  .help = "what is done to the guest" },
	FIELD_END
};

static int
inject_check(struct plan_parser *pp, const struct pnode *n, void *data)
{
	struct inject_args	*a = data;
	const char		*why = inject_local_why[a->fault];

	if (!pp->target_ok || pp->plan->target.backend != PLAN_BACKEND_LOCAL ||
	    why == NULL)
		return 0;
	return pp_error(pp, pnode_map_get(n, "fault"), "inject: %s %s; it "
	    "needs a guest (backend qemu or libvirt)",
	    inject_fault_names[a->fault], why);
}

static int
inject_exec(struct step_run *sr, const void *data)
{
	const struct inject_args	*a = data;

	return step_run_inject(sr, a->fault);
}

const struct step_entry step_inject = {
	.name = "inject",
	.summary = "inject a fault into the guest: a kernel panic",
	.size = sizeof(struct inject_args),
	.fields = inject_fields,
	.check = inject_check,
	.exec = inject_exec,
};
