/* step-hot-replace.c: `hot_replace: {unit, outage}` is the seeds' pseudo-S4
 * cycle: drivers suspended, the partition held for the outage, resumed. */
#include "config.h"

#include "step.h"

/* Spelled as enum replace_unit and enum replace_method (run-step.h) count. */
const char *const replace_unit_names[] = { "cpu", "memory", NULL };
const char *const replace_method_names[] = { "pseudo-s4", "quiesce", "hold",
    NULL };

struct hot_replace_args {
	int		unit;		/* enum replace_unit */
	int		method;		/* enum replace_method */
	uint64_t	outage_ms;	/* how long the partition is held */
};

static const struct field hot_replace_fields[] = {
	{ "unit", FIELD_ENUM, offsetof(struct hot_replace_args, unit),
	  FIELD_REQUIRED, .names = replace_unit_names,
	  .help = "the partition unit replaced" },
	{ "outage", FIELD_DURATION, offsetof(struct hot_replace_args, outage_ms),
	  FIELD_REQUIRED, .min = 1, .max = 3600000,
	  .help = "how long the partition is held stopped" },
	{ "method", FIELD_ENUM, offsetof(struct hot_replace_args, method), 0,
	  .names = replace_method_names,
	  .help = "how the guest takes part in the replace" },
	FIELD_END
};

static void
hot_replace_init(void *data)
{
	((struct hot_replace_args *)data)->method = -1;	/* by backend */
}

/*
 * On the local backend the "guest" is this host: its hibernation test mode
 * would suspend the host's own drivers, so a local replace holds the
 * partition (frozen with its I/O in flight, the nearest thing to devices
 * in D3) or quiesces the agent first.
 */
static int
hot_replace_check(struct plan_parser *pp, const struct pnode *n, void *data)
{
	struct hot_replace_args	*a = data;
	const struct plan_target *t = &pp->plan->target;
	bool			 local = t->backend == PLAN_BACKEND_LOCAL;
	bool			 given = a->method != -1;

	if (!given)
		a->method = local ? REPLACE_HOLD : REPLACE_PSEUDO_S4;
	if (a->method == REPLACE_PSEUDO_S4 && local && pp->target_ok)
		return pp_error(pp, pnode_map_get(n, "method"), "method pseudo-s4 "
		    "would suspend this host's own drivers; the local backend "
		    "replaces with `hold` or `quiesce`");
	/*
	 * Linux's virtio_mem driver refuses to freeze ("save/restore not
	 * supported"), so a guest with a virtio-mem device never gets through
	 * the hibernation test mode: every replace would be an error.
	 */
	if (a->method == REPLACE_PSEUDO_S4 && pp->target_ok &&
	    t->backend == PLAN_BACKEND_QEMU && t->qemu.qmp == NULL &&
	    t->memory_hotplug == PLAN_MEMHP_VIRTIO_MEM &&
	    t->memory_max > t->memory_boot)
		return pp_error(pp, given ? pnode_map_get(n, "method") : n,
		    "method pseudo-s4 cannot run with a virtio-mem device (the "
		    "guest's virtio_mem driver refuses hibernation); use "
		    "`hotplug: pc-dimm`, or `method: hold` or `quiesce`");
	return 0;
}

static int
hot_replace_exec(struct step_run *sr, const void *data)
{
	const struct hot_replace_args	*a = data;

	return step_run_replace(sr, a->unit, a->method, a->outage_ms);
}

const struct step_entry step_hot_replace = {
	.name = "hot_replace",
	.summary = "replace a partition unit through a pseudo-S4 cycle",
	.size = sizeof(struct hot_replace_args),
	.fields = hot_replace_fields,
	.init = hot_replace_init,
	.check = hot_replace_check,
	.exec = hot_replace_exec,
};
