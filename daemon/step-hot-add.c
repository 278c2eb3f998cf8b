/* step-hot-add.c: `hot_add: {cpu: N}` or `{memory: SIZE}` adds a partition
 * unit while I/O runs, the seeds' first operation. */
#include "config.h"

#include <inttypes.h>

#include "step.h"

struct hot_add_args {
	unsigned	cpu;		/* CPUs to add; 0: none */
	uint64_t	memory;		/* bytes to add; 0: none */
	bool		online;		/* the agent onlines what the kernel left offline */
};

static const struct field hot_add_fields[] = {
	{ "cpu", FIELD_UINT, offsetof(struct hot_add_args, cpu), FIELD_OPTIONAL,
	  .min = 1, .max = 1024, .help = "number of CPUs to add" },
	{ "memory", FIELD_SIZE, offsetof(struct hot_add_args, memory),
	  FIELD_OPTIONAL, .min = 1, .max = 1ULL << 50,
	  .help = "amount of memory to add" },
	{ "online", FIELD_BOOL, offsetof(struct hot_add_args, online), 0,
	  .help = "have the agent online new CPUs and memory blocks" },
	FIELD_END
};

static void
hot_add_init(void *data)
{
	struct hot_add_args	*a = data;

	a->online = true;
}

/*
 * Linux on x86-64 onlines memory in 128MiB blocks, so a DIMM of any other
 * size leaves part of itself unusable; virtio-mem plugs 2MiB blocks. Both
 * hold for QEMU driven directly or through libvirt.
 */
#define DIMM_ALIGN	(128ULL << 20)
#define VIRTIO_MEM_ALIGN (2ULL << 20)

static int
hot_add_check(struct plan_parser *pp, const struct pnode *n, void *data)
{
	struct hot_add_args		*a = data;
	const struct plan_target	*t = &pp->plan->target;
	const struct pnode		*mem;
	uint64_t			 align;

	if (a->cpu == 0 && a->memory == 0)
		return pp_error(pp, n, "hot_add needs `cpu: N` or `memory: SIZE`");
	if (a->cpu != 0 && a->memory != 0)
		return pp_error(pp, pnode_map_get(n, "memory"), "hot_add takes "
		    "`cpu` or `memory`, not both (make two steps)");
	/* Nothing to compare against when the target itself is wrong. */
	if (!pp->target_ok)
		return 0;
	if (a->memory != 0 && t->backend != PLAN_BACKEND_LOCAL) {
		align = t->memory_hotplug == PLAN_MEMHP_PC_DIMM ? DIMM_ALIGN :
		    VIRTIO_MEM_ALIGN;
		mem = pnode_map_get(n, "memory");
		if (a->memory % align != 0)
			return pp_error(pp, mem, "hot_add memory must be a multiple "
			    "of %" PRIu64 "MiB with %s hot-plug", align >> 20,
			    plan_memhp_names[t->memory_hotplug]);
	}
	return 0;
}

static void
hot_add_demand(const void *data, struct plan_demand *d)
{
	const struct hot_add_args	*a = data;

	d->cpus = a->cpu;
	d->memory = a->memory;
	d->memory_ops = a->memory != 0;
}

static int
hot_add_exec(struct step_run *sr, const void *data)
{
	const struct hot_add_args	*a = data;

	return step_run_hot_add(sr, a->cpu, a->memory);
}

const struct step_entry step_hot_add = {
	.name = "hot_add",
	.summary = "add CPUs or memory to the running partition",
	.size = sizeof(struct hot_add_args),
	.fields = hot_add_fields,
	.init = hot_add_init,
	.check = hot_add_check,
	.demand = hot_add_demand,
	.exec = hot_add_exec,
};
