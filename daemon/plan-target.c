/* plan-target.c: the `target` block: which backend drives the partition, its
 * boot and maximum CPUs and memory, and that backend's own settings. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/units.h"
#include "plan-load.h"

const char *const plan_backend_names[] = { "local", "qemu", "libvirt", NULL };
const char *const plan_accel_names[] = { "auto", "kvm", "tcg", NULL };
const char *const plan_memhp_names[] = { "pc-dimm", "virtio-mem", NULL };
const char *const plan_cgroup_names[] = { "auto", "v1", "v2", "none", NULL };

#define SLOTS_UNSET	(~0U)
#define MAX_CPUS	1024
#define MIN_MEMORY	(1ULL << 20)
#define MAX_MEMORY	(16ULL << 40)
#define QEMU_ALIGN	(2ULL << 20)

#define T(f)	offsetof(struct plan, target.f)

static const struct field cpus_fields[] = {
	{ "boot", FIELD_UINT, T(cpus_boot), 0, .min = 1, .max = MAX_CPUS,
	  .help = "CPUs online when the partition starts" },
	{ "max", FIELD_UINT, T(cpus_max), 0, .min = 1, .max = MAX_CPUS,
	  .help = "CPUs the partition can grow to" },
	FIELD_END
};

static const struct field memory_fields[] = {
	{ "boot", FIELD_SIZE, T(memory_boot), 0, .min = MIN_MEMORY,
	  .max = MAX_MEMORY, .help = "memory when the partition starts" },
	{ "slots", FIELD_UINT, T(memory_slots), 0, .min = 0, .max = 256,
	  .help = "hot-plug memory slots (DIMM sockets)" },
	{ "max", FIELD_SIZE, T(memory_max), 0, .min = MIN_MEMORY,
	  .max = MAX_MEMORY, .help = "memory the partition can grow to" },
	{ "hotplug", FIELD_ENUM, T(memory_hotplug), 0, .names = plan_memhp_names,
	  .help = "how memory is hot-added (qemu, libvirt)" },
	FIELD_END
};

static int
extra_args_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	struct plan_qemu	*q = &((struct plan *)base)->target.qemu;
	size_t			 i;
	int			 rc = 0;

	if (q->extra_args != NULL)
		return 0;
	if (n->type != PNODE_SEQ)
		return pp_error(pp, n, "`target.qemu.extra_args` must be a list of "
		    "strings, not %s", pnode_describe(n));
	if ((q->extra_args = calloc(n->n + 1, sizeof *q->extra_args)) == NULL)
		return pp_error(pp, n, "out of memory");
	for (i = 0; i < n->n; i++) {
		if (decode_string(pp, n->kids[i], "target.qemu.extra_args",
		    &q->extra_args[q->n_extra_args]) == -1)
			rc = -1;
		else
			q->n_extra_args++;
	}
	return rc;
}

static json_t *
extra_args_encode(const void *base)
{
	const struct plan_qemu	*q = &((const struct plan *)base)->target.qemu;
	json_t			*a;
	size_t			 i;

	if (q->n_extra_args == 0 || (a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < q->n_extra_args; i++)
		json_array_append_new(a, json_string(q->extra_args[i]));
	return a;
}

/* Keys that describe a VM hotsoak starts, meaningless when attaching. */
static const char *const launch_only[] = { "binary", "accel", "machine",
    "cpu_model", "kernel", "initrd", "append", "disk_size", "extra_args", NULL };

static const struct field qemu_fields[] = {
	{ "binary", FIELD_STRING, T(qemu.binary), 0,
	  .help = "the QEMU program" },
	{ "accel", FIELD_ENUM, T(qemu.accel), 0, .names = plan_accel_names,
	  .help = "auto (KVM where a guest really runs under it, else TCG), kvm, tcg" },
	{ "machine", FIELD_STRING, T(qemu.machine), 0,
	  .help = "the machine type" },
	{ "cpu_model", FIELD_STRING, T(qemu.cpu_model), FIELD_OPTIONAL,
	  .help = "the CPU model; default qemu64 under TCG, host under KVM" },
	{ "kernel", FIELD_STRING, T(qemu.kernel), FIELD_OPTIONAL,
	  .help = "guest kernel; default the built guest image's" },
	{ "initrd", FIELD_STRING, T(qemu.initrd), FIELD_OPTIONAL,
	  .help = "guest initramfs; default the built guest image's" },
	{ "append", FIELD_STRING, T(qemu.append), FIELD_OPTIONAL,
	  .help = "extra kernel command line" },
	{ "disk_size", FIELD_SIZE, T(qemu.disk_size), 0, .min = MIN_MEMORY,
	  .max = 1ULL << 40, .help = "size of the run's private disk" },
	{ "extra_args", FIELD_CUSTOM, 0, FIELD_OPTIONAL,
	  .decode = extra_args_decode, .encode = extra_args_encode,
	  .help = "more QEMU arguments, appended" },
	{ "qmp", FIELD_STRING, T(qemu.qmp), FIELD_OPTIONAL,
	  .help = "attach to a running VM: unix:PATH of its QMP socket" },
	FIELD_END
};

static const struct field libvirt_fields[] = {
	{ "uri", FIELD_STRING, T(libvirt.uri), 0,
	  .help = "libvirt connection URI" },
	{ "domain", FIELD_STRING, T(libvirt.domain), FIELD_REQUIRED,
	  .help = "the existing domain to drive" },
	FIELD_END
};

static const struct field local_fields[] = {
	{ "cgroup", FIELD_ENUM, T(local.cgroup), 0, .names = plan_cgroup_names,
	  .help = "how the partition is confined" },
	FIELD_END
};

/* Each backend's own block, indexed by enum plan_backend. */
static const struct field *const backend_fields[PLAN_BACKEND_COUNT] = {
	[PLAN_BACKEND_LOCAL] = local_fields,
	[PLAN_BACKEND_QEMU] = qemu_fields,
	[PLAN_BACKEND_LIBVIRT] = libvirt_fields,
};

static int
backend_block_decode(struct plan_parser *pp, const struct pnode *n, void *base,
    int backend)
{
	struct plan	*p = base;
	char		 where[32];

	if (pp->backend_bad)
		return 0;	/* the unknown backend is the error to fix first */
	if (p->target.backend != backend)
		return pp_error(pp, pp->key, "`%s` settings given, but "
		    "target.backend is `%s`", plan_backend_names[backend],
		    plan_backend_names[p->target.backend]);
	snprintf(where, sizeof where, "target.%s", plan_backend_names[backend]);
	return decode_map(pp, n, backend_fields[backend], base, where);
}

static int
local_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	return backend_block_decode(pp, n, base, PLAN_BACKEND_LOCAL);
}

static int
qemu_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	return backend_block_decode(pp, n, base, PLAN_BACKEND_QEMU);
}

static int
libvirt_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	return backend_block_decode(pp, n, base, PLAN_BACKEND_LIBVIRT);
}

static int
backend_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	if (decode_enum(pp, n, "target.backend", plan_backend_names,
	    &((struct plan *)base)->target.backend) == -1) {
		pp->backend_bad = true;
		return -1;
	}
	return 0;
}

static const struct field target_fields[] = {
	{ "backend", FIELD_CUSTOM, 0, 0, .decode = backend_decode,
	  .help = "local (the default), qemu or libvirt" },
	{ "cpus", FIELD_MAP, 0, 0, .sub = cpus_fields, .help = "boot and max CPUs" },
	{ "memory", FIELD_MAP, 0, 0, .sub = memory_fields,
	  .help = "boot, slots and max memory" },
	{ "local", FIELD_CUSTOM, 0, 0, .decode = local_decode,
	  .help = "settings of the local backend" },
	{ "qemu", FIELD_CUSTOM, 0, 0, .decode = qemu_decode,
	  .help = "settings of the qemu backend" },
	{ "libvirt", FIELD_CUSTOM, 0, 0, .decode = libvirt_decode,
	  .help = "settings of the libvirt backend" },
	FIELD_END
};

int
target_init(struct plan_target *t)
{
	memset(t, 0, sizeof *t);
	t->backend = PLAN_BACKEND_LOCAL;
	t->cpus_boot = 1;
	t->memory_boot = 512ULL << 20;
	t->memory_slots = SLOTS_UNSET;
	t->memory_hotplug = PLAN_MEMHP_PC_DIMM;
	t->qemu.accel = PLAN_ACCEL_AUTO;
	t->qemu.disk_size = 256ULL << 20;
	if (set_string(&t->qemu.binary, "qemu-system-x86_64") == -1 ||
	    set_string(&t->qemu.machine, "pc") == -1 ||
	    set_string(&t->libvirt.uri, "qemu:///system") == -1)
		return -1;
	return 0;
}

void
target_free(struct plan_target *t)
{
	size_t	i;

	free(t->qemu.binary);
	free(t->qemu.machine);
	free(t->qemu.cpu_model);
	free(t->qemu.kernel);
	free(t->qemu.initrd);
	free(t->qemu.append);
	for (i = 0; i < t->qemu.n_extra_args; i++)
		free(t->qemu.extra_args[i]);
	free(t->qemu.extra_args);
	free(t->qemu.qmp);
	free(t->libvirt.uri);
	free(t->libvirt.domain);
}

/* An attached VM is the user's: hotsoak cannot choose how it was started. */
static int
check_attach(struct plan_parser *pp, const struct pnode *qn,
    const struct plan_qemu *q)
{
	const struct pnode	*n = pnode_map_get(qn, "qmp"), *k;
	const char		*path;
	size_t			 i;
	int			 rc = 0;

	if (strncmp(q->qmp, "unix:", 5) != 0 || q->qmp[5] == '\0')
		return pp_error(pp, n, "`target.qemu.qmp` must be unix:PATH, the QMP "
		    "socket of a running VM");
	path = q->qmp + 5;
	if (strlen(path) >= 108)
		return pp_error(pp, n, "`target.qemu.qmp` socket path is longer than "
		    "a unix socket allows (107 bytes)");
	for (i = 0; launch_only[i] != NULL; i++) {
		if ((k = pnode_map_get(qn, launch_only[i])) == NULL)
			continue;
		rc = pp_error(pp, k, "`%s` has no meaning when attaching to a "
		    "running VM with `qmp`", launch_only[i]);
	}
	return rc;
}

static int
check_target(struct plan_parser *pp, const struct pnode *tn,
    struct plan_target *t)
{
	const struct pnode	*mem;
	char			 a[UNITS_FORMAT_MAX], b[UNITS_FORMAT_MAX];
	int			 rc = 0;

	if (t->cpus_max == 0)
		t->cpus_max = t->cpus_boot;
	else if (t->cpus_max < t->cpus_boot)
		rc = pp_error(pp, pnode_path(tn, "cpus", "max", NULL),
		    "target.cpus.max (%u) is below target.cpus.boot (%u)",
		    t->cpus_max, t->cpus_boot);

	if (t->memory_max == 0)
		t->memory_max = t->memory_boot;
	else if (t->memory_max < t->memory_boot) {
		units_format_size(t->memory_max, a, sizeof a);
		units_format_size(t->memory_boot, b, sizeof b);
		rc = pp_error(pp, pnode_path(tn, "memory", "max", NULL),
		    "target.memory.max (%s) is below target.memory.boot (%s)", a, b);
	}
	if (t->memory_slots == SLOTS_UNSET)
		t->memory_slots = t->memory_max > t->memory_boot ? 4 : 0;

	mem = pnode_map_get(pnode_map_get(tn, "memory"), "hotplug");
	if (t->backend == PLAN_BACKEND_LOCAL && mem != NULL)
		rc = pp_error(pp, mem, "target.memory.hotplug applies to the qemu and "
		    "libvirt backends; the local backend raises a memory limit");

	/* libvirt drives QEMU too: the same memory rules hold. */
	if (t->backend != PLAN_BACKEND_LOCAL) {
		if (t->memory_boot % QEMU_ALIGN != 0)
			rc = pp_error(pp, pnode_path(tn, "memory", "boot", NULL),
			    "target.memory.boot must be a multiple of 2MiB for %s",
			    plan_backend_names[t->backend]);
		if (t->memory_max % QEMU_ALIGN != 0)
			rc = pp_error(pp, pnode_path(tn, "memory", "max", NULL),
			    "target.memory.max must be a multiple of 2MiB for %s",
			    plan_backend_names[t->backend]);
	}
	if (t->backend == PLAN_BACKEND_QEMU) {
		if (t->qemu.qmp != NULL &&
		    check_attach(pp, pnode_map_get(tn, "qemu"), &t->qemu) == -1)
			rc = -1;
	}
	if (t->backend == PLAN_BACKEND_LIBVIRT && t->libvirt.domain == NULL &&
	    pnode_map_get(tn, "libvirt") == NULL)
		rc = pp_error(pp, tn, "the libvirt backend needs `libvirt: "
		    "{domain: NAME}`");
	return rc;
}

/*
 * Called with n NULL when the plan has no target: the defaults (the local
 * backend) still need resolving. Steps check themselves against the target
 * only when it read cleanly, so one mistake is not reported three times.
 */
int
target_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	struct plan	*p = base;
	int		 rc = 0;

	if (n != NULL && decode_map(pp, n, target_fields, base, "target") == -1)
		rc = -1;
	if (check_target(pp, n, &p->target) == -1)
		rc = -1;
	pp->target_ok = rc == 0;
	return rc;
}

json_t *
target_encode(const void *base)
{
	const struct plan	*p = base;
	json_t			*o, *mem, *blk;
	size_t			 i;

	if ((o = json_object()) == NULL)
		return NULL;
	json_object_set_new(o, "backend",
	    json_string(plan_backend_names[p->target.backend]));
	json_object_set_new(o, "cpus", encode_map(cpus_fields, base));
	mem = encode_map(memory_fields, base);
	if (p->target.backend == PLAN_BACKEND_LOCAL)
		json_object_del(mem, "hotplug");
	json_object_set_new(o, "memory", mem);
	/* Only the chosen backend's block: another's would not load back. */
	blk = encode_map(backend_fields[p->target.backend], base);
	if (p->target.backend == PLAN_BACKEND_QEMU && p->target.qemu.qmp != NULL)
		for (i = 0; launch_only[i] != NULL; i++)
			json_object_del(blk, launch_only[i]);
	json_object_set_new(o, plan_backend_names[p->target.backend], blk);
	return o;
}
