/* step-hot-add.c: `hot_add: {cpu: N}`, `{memory: SIZE}` or `{io_bridge:
 * {disk_size: SIZE}}` adds a partition unit while I/O runs, the seeds'
 * first operation. */
#include "config.h"

#include <inttypes.h>

#include "hotsoak/units.h"
#include "step.h"

struct hot_add_args {
	unsigned	cpu;		/* CPUs to add; 0: none */
	uint64_t	memory;		/* bytes to add; 0: none */
	bool		online;		/* the agent onlines what the kernel left offline */
	bool		io_bridge;	/* an I/O host bridge with a disk behind it */
	uint64_t	disk_size;	/* io_bridge: the new disk's size */
	uint64_t	io_size;	/* io_bridge: bytes of it exercised; 0: disk_size */
};

#define IO_BRIDGE_DISK_DEFAULT	(64ULL << 20)
#define IO_BRIDGE_DISK_MIN	(1ULL << 20)
#define IO_BRIDGE_DISK_MAX	(1ULL << 40)

static const struct field io_bridge_fields[] = {
	{ "disk_size", FIELD_SIZE, offsetof(struct hot_add_args, disk_size), 0,
	  .min = IO_BRIDGE_DISK_MIN, .max = IO_BRIDGE_DISK_MAX,
	  .help = "size of the disk behind the new bridge" },
	{ "io_size", FIELD_SIZE, offsetof(struct hot_add_args, io_size),
	  FIELD_OPTIONAL, .min = 1, .max = IO_BRIDGE_DISK_MAX,
	  .help = "bytes of that disk the agent exercises; default all of it" },
	FIELD_END
};

static int
io_bridge_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	struct hot_add_args	*a = base;

	a->io_bridge = true;
	return decode_map(pp, n, io_bridge_fields, base, "hot_add.io_bridge");
}

static json_t *
io_bridge_encode(const void *base)
{
	const struct hot_add_args	*a = base;

	return a->io_bridge ? encode_map(io_bridge_fields, base) : NULL;
}

static const struct field hot_add_fields[] = {
	{ "cpu", FIELD_UINT, offsetof(struct hot_add_args, cpu), FIELD_OPTIONAL,
	  .min = 1, .max = 1024, .help = "number of CPUs to add" },
	{ "memory", FIELD_SIZE, offsetof(struct hot_add_args, memory),
	  FIELD_OPTIONAL, .min = 1, .max = 1ULL << 50,
	  .help = "amount of memory to add" },
	{ "io_bridge", FIELD_CUSTOM, 0, FIELD_OPTIONAL, .decode = io_bridge_decode,
	  .encode = io_bridge_encode,
	  .help = "an I/O host bridge with a new disk behind it (qemu)" },
	{ "online", FIELD_BOOL, offsetof(struct hot_add_args, online), 0,
	  .help = "have the agent online new CPUs and memory blocks" },
	FIELD_END
};

static void
hot_add_init(void *data)
{
	struct hot_add_args	*a = data;

	a->online = true;
	a->disk_size = IO_BRIDGE_DISK_DEFAULT;
}

/*
 * Linux on x86-64 onlines memory in 128MiB blocks, so a DIMM of any other
 * size leaves part of itself unusable; virtio-mem plugs 2MiB blocks. Both
 * hold for QEMU driven directly or through libvirt.
 */
#define DIMM_ALIGN	(128ULL << 20)
#define VIRTIO_MEM_ALIGN (2ULL << 20)

/*
 * The bridge's disk is exercised in whole workload blocks, and only a VM
 * hotsoak launches can get one: the disk is a file in the run's folder and
 * the bridge needs a free slot of pci.0.
 */
static int
io_bridge_check(struct plan_parser *pp, const struct pnode *n,
    struct hot_add_args *a)
{
	const struct plan_target	*t = &pp->plan->target;
	const struct pnode		*bn = pnode_map_get(n, "io_bridge");
	const struct pnode		*dn = pnode_map_get(bn, "disk_size");
	const struct pnode		*in = pnode_map_get(bn, "io_size");
	uint64_t			 bs = pp->plan->workload.io.block_size;
	char				 b[UNITS_FORMAT_MAX];

	if (t->backend != PLAN_BACKEND_QEMU)
		return pp_error(pp, bn, "hot_add io_bridge needs target.backend "
		    "qemu; the %s backend cannot hot-add an I/O bridge",
		    plan_backend_names[t->backend]);
	if (t->qemu.qmp != NULL)
		return pp_error(pp, bn, "hot_add io_bridge needs a VM hotsoak "
		    "launches, not one attached with target.qemu.qmp (the new disk "
		    "is a file in the run's folder)");
	/* A bad block size has its own error; nothing to measure against. */
	if (bs < 512 || bs % 512 != 0 || (bs & (bs - 1)) != 0)
		return 0;
	units_format_size(bs, b, sizeof b);
	if (a->disk_size % bs != 0)
		return pp_error(pp, dn != NULL ? dn : bn, "hot_add io_bridge "
		    "disk_size must be a multiple of workload.io.block_size (%s)", b);
	if (a->io_size == 0)
		a->io_size = a->disk_size;
	if (a->io_size > a->disk_size)
		return pp_error(pp, in, "hot_add io_bridge io_size is larger than "
		    "its disk_size");
	if (a->io_size < bs || a->io_size % bs != 0)
		return pp_error(pp, in, "hot_add io_bridge io_size must be a "
		    "multiple of workload.io.block_size (%s)", b);
	return 0;
}

static int
hot_add_check(struct plan_parser *pp, const struct pnode *n, void *data)
{
	struct hot_add_args		*a = data;
	const struct plan_target	*t = &pp->plan->target;
	const struct pnode		*mem;
	uint64_t			 align;

	if (a->cpu == 0 && a->memory == 0 && !a->io_bridge)
		return pp_error(pp, n, "hot_add needs `cpu: N`, `memory: SIZE` or "
		    "`io_bridge: {disk_size: SIZE}`");
	if (a->io_bridge && (a->cpu != 0 || a->memory != 0))
		return pp_error(pp, pnode_map_get(n, "io_bridge"), "hot_add takes "
		    "one of `cpu`, `memory` and `io_bridge` (make two steps)");
	if (a->cpu != 0 && a->memory != 0)
		return pp_error(pp, pnode_map_get(n, "memory"), "hot_add takes "
		    "`cpu` or `memory`, not both (make two steps)");
	/* Nothing to compare against when the target itself is wrong. */
	if (!pp->target_ok)
		return 0;
	if (a->io_bridge)
		return io_bridge_check(pp, n, a);
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

	if (a->io_bridge)
		return step_run_hot_add_io_bridge(sr, a->disk_size, a->io_size);
	return step_run_hot_add(sr, a->cpu, a->memory);
}

const struct step_entry step_hot_add = {
	.name = "hot_add",
	.summary = "add CPUs, memory or an I/O bridge to the running partition",
	.size = sizeof(struct hot_add_args),
	.fields = hot_add_fields,
	.init = hot_add_init,
	.check = hot_add_check,
	.demand = hot_add_demand,
	.exec = hot_add_exec,
};
