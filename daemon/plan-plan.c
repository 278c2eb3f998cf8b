/* plan-plan.c: a test plan's keys (agent, workload, steps, checks), their
 * defaults, and the rules that span blocks, such as "the steps fit max". */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/units.h"
#include "plan-load.h"
#include "step.h"

const char *const plan_io_pattern_names[] = { "random", "sequential", NULL };
const char *const plan_verify_names[] = { "crc32c", "none", NULL };

#define P(f)		offsetof(struct plan, f)
#define DAY_MS		86400000ULL

static int
version_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	return 0;	/* read and checked before anything else */
}

static json_t *
version_encode(const void *base)
{
	return json_integer(PLAN_VERSION);
}

static int
kind_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	return 0;	/* read first: it chooses the table */
}

static json_t *
kind_plan_encode(const void *base)
{
	return json_string("plan");
}

/* A number for a fixed seed, or `random` for one chosen per run. */
static int
seed_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	struct plan	*p = base;

	/* A keyword may be quoted (JSON always is); a number may not. */
	if (n->type == PNODE_SCALAR && strcmp(n->text, "random") == 0) {
		p->seed_random = true;
		return 0;
	}
	if (n->type != PNODE_SCALAR || pnode_is_null(n))
		return pp_error(pp, n, "`seed` must be a whole number or `random`, "
		    "not %s", pnode_describe(n));
	if (!n->quoted && strspn(n->text, "0123456789") != n->len)
		return pp_error(pp, n, "`seed` must be a whole number or `random`, "
		    "got `%s`", n->text);
	p->seed_random = false;
	return decode_u64(pp, n, "seed", 0, INT64_MAX, &p->seed);
}

static json_t *
seed_encode(const void *base)
{
	const struct plan	*p = base;

	if (p->seed_random)
		return json_string("random");
	return json_integer((json_int_t)p->seed);
}

static int
target_field_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	return target_decode(pp, n, base);
}

/* The daemon's end of the agent link: auto, unix:PATH or tcp:HOST:PORT. */
static int
channel_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	struct plan	*p = base;
	char		*s = NULL, *colon, *end;
	unsigned long	 port;

	if (decode_string(pp, n, "agent.channel", &s) == -1)
		return -1;
	if (strcmp(s, "auto") == 0)
		goto ok;
	if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] == '\0' || strlen(s + 5) >= 108) {
			free(s);
			return pp_error(pp, n, "`agent.channel` unix:PATH needs a "
			    "path of 1 to 107 bytes");
		}
		goto ok;
	}
	if (strncmp(s, "tcp:", 4) == 0) {
		colon = strrchr(s + 4, ':');
		if (colon == NULL || colon == s + 4 || colon[1] == '\0') {
			free(s);
			return pp_error(pp, n, "`agent.channel` must be "
			    "tcp:HOST:PORT");
		}
		port = strtoul(colon + 1, &end, 10);
		if (*end != '\0' || port == 0 || port > 65535 ||
		    colon[1] == '-' || colon[1] == '+') {
			pp_error(pp, n, "`agent.channel` port `%s` must be 1 to "
			    "65535",
			    colon + 1);
			free(s);
			return -1;
		}
		goto ok;
	}
	pp_error(pp, n, "`agent.channel` `%s` is unknown; expected auto, "
	    "unix:PATH or tcp:HOST:PORT", s);
	free(s);
	return -1;
ok:
	free(p->agent.channel);
	p->agent.channel = s;
	return 0;
}

static json_t *
channel_encode(const void *base)
{
	return json_string(((const struct plan *)base)->agent.channel);
}

static const struct field agent_fields[] = {
	{ "channel", FIELD_CUSTOM, 0, 0, .decode = channel_decode,
	  .encode = channel_encode,
	  .help = "the daemon's end of the agent link" },
	{ "heartbeat", FIELD_DURATION, P(agent.heartbeat_ms), 0, .min = 10,
	  .max = 3600000, .help = "how often the agent reports it is alive" },
	{ "hang_after", FIELD_DURATION, P(agent.hang_after_ms), 0, .min = 1,
	  .max = DAY_MS, .help = "agent silence that is a hang finding" },
	{ "connect_timeout", FIELD_DURATION, P(agent.connect_timeout_ms), 0,
	  .min = 1000, .max = 3600000,
	  .help = "from partition start to the agent's hello" },
	FIELD_END
};

/* `per-cpu` (one worker on each online CPU) or a fixed count. */
static int
workers_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	struct plan	*p = base;
	uint64_t	 v;

	if (n->type == PNODE_SCALAR && strcmp(n->text, "per-cpu") == 0) {
		p->workload.io.workers = 0;
		return 0;
	}
	if (n->type == PNODE_SCALAR && !n->quoted && n->text[0] != '\0' &&
	    strspn(n->text, "0123456789") != n->len && n->text[0] != '-')
		return pp_error(pp, n, "`workload.io.workers` must be `per-cpu` or "
		    "a number, got `%s`", n->text);
	if (decode_u64(pp, n, "workload.io.workers", 1, 1024, &v) == -1)
		return -1;
	p->workload.io.workers = (unsigned)v;
	return 0;
}

static json_t *
workers_encode(const void *base)
{
	const struct plan	*p = base;

	if (p->workload.io.workers == 0)
		return json_string("per-cpu");
	return json_integer(p->workload.io.workers);
}

static const struct field io_fields[] = {
	{ "path", FIELD_STRING, P(workload.io.path), 0,
	  .help = "block device or file the agent hammers; auto: the backend's disk" },
	{ "size", FIELD_SIZE, P(workload.io.size), 0, .min = 512,
	  .max = 1ULL << 50, .help = "bytes of the target exercised" },
	{ "block_size", FIELD_SIZE, P(workload.io.block_size), 0, .min = 512,
	  .max = 64ULL << 20, .help = "bytes per I/O" },
	{ "queue_depth", FIELD_UINT, P(workload.io.queue_depth), 0, .min = 1,
	  .max = 1024, .help = "I/Os in flight per worker" },
	{ "workers", FIELD_CUSTOM, 0, 0, .decode = workers_decode,
	  .encode = workers_encode, .help = "per-cpu or a number" },
	{ "read_percent", FIELD_UINT, P(workload.io.read_percent), 0, .min = 0,
	  .max = 100, .help = "share of I/Os that are reads" },
	{ "pattern", FIELD_ENUM, P(workload.io.pattern), 0,
	  .names = plan_io_pattern_names, .help = "random or sequential" },
	{ "verify", FIELD_ENUM, P(workload.io.verify), 0,
	  .names = plan_verify_names, .help = "crc32c or none" },
	{ "io_timeout", FIELD_DURATION, P(workload.io.io_timeout_ms), 0,
	  .min = 1, .max = DAY_MS, .help = "deadline of every I/O" },
	{ "direct", FIELD_BOOL, P(workload.io.direct), 0,
	  .help = "bypass the page cache (O_DIRECT)" },
	FIELD_END
};

static const struct field memload_fields[] = {
	{ "size", FIELD_SIZE, P(workload.memory.size), FIELD_REQUIRED,
	  .min = 1ULL << 20, .max = 1ULL << 50,
	  .help = "memory the agent fills and verifies" },
	{ "interval", FIELD_DURATION, P(workload.memory.interval_ms), 0,
	  .min = 1, .max = DAY_MS, .help = "pause between fill-verify passes" },
	FIELD_END
};

static int
memload_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	return decode_map(pp, n, memload_fields, base, "workload.memory");
}

static json_t *
memload_encode(const void *base)
{
	if (((const struct plan *)base)->workload.memory.size == 0)
		return NULL;
	return encode_map(memload_fields, base);
}

static const struct field workload_fields[] = {
	{ "io", FIELD_MAP, 0, 0, .sub = io_fields,
	  .help = "the verified I/O hammer" },
	{ "memory", FIELD_CUSTOM, 0, 0, .decode = memload_decode,
	  .encode = memload_encode, .help = "memory to fill and verify" },
	FIELD_END
};

static int
steps_field_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	return steps_decode_field(pp, n, &((struct plan *)base)->steps, "steps");
}

static json_t *
steps_field_encode(const void *base)
{
	return steps_encode(&((const struct plan *)base)->steps);
}

static int
fail_on_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	struct plan	*p = base;
	bool		 seen[FINDING_KIND_COUNT];
	const char	*names[FINDING_KIND_COUNT + 1], *near;
	size_t		 i;
	int		 k, rc = 0;

	if (n->type != PNODE_SEQ)
		return pp_error(pp, n, "`checks.fail_on` must be a list of finding "
		    "kinds, not %s", pnode_describe(n));
	if (n->n == 0)
		return pp_error(pp, n, "`checks.fail_on` is empty: no finding could "
		    "fail the run");
	for (k = 0; k < FINDING_KIND_COUNT; k++)
		names[k] = finding_kinds[k].name;
	names[k] = NULL;
	memset(seen, 0, sizeof seen);
	for (i = 0; i < n->n; i++) {
		const struct pnode *item = n->kids[i];

		if (item->type != PNODE_SCALAR || pnode_is_null(item)) {
			rc = pp_error(pp, item, "`checks.fail_on` items are finding "
			    "kinds, not %s", pnode_describe(item));
			continue;
		}
		if ((k = finding_kind_find(item->text)) == -1) {
			near = suggest_nearest(item->text, names);
			rc = near != NULL ?
			    pp_error(pp, item, "unknown finding kind `%s`; did you "
			    "mean `%s`?", item->text, near) :
			    pp_error(pp, item, "unknown finding kind `%s`",
			    item->text);
			continue;
		}
		if (k == FINDING_BACKEND_ERROR) {
			rc = pp_error(pp, item, "backend_error always makes the "
			    "verdict `error`; it cannot be in fail_on");
			continue;
		}
		if (seen[k]) {
			rc = pp_error(pp, item, "`%s` is listed twice in "
			    "checks.fail_on", item->text);
			continue;
		}
		seen[k] = true;
	}
	if (rc == 0)
		memcpy(p->checks.fail_on, seen, sizeof seen);
	return rc;
}

static json_t *
fail_on_encode(const void *base)
{
	const struct plan	*p = base;
	json_t			*a;
	int			 k;

	if ((a = json_array()) == NULL)
		return NULL;
	for (k = 0; k < FINDING_KIND_COUNT; k++)
		if (p->checks.fail_on[k])
			json_array_append_new(a, json_string(finding_kinds[k].name));
	return a;
}

static const struct field checks_fields[] = {
	{ "fail_on", FIELD_CUSTOM, 0, 0, .decode = fail_on_decode,
	  .encode = fail_on_encode, .help = "finding kinds that fail the run" },
	{ "max_latency", FIELD_DURATION, P(checks.max_latency_ms),
	  FIELD_OPTIONAL, .min = 1, .max = DAY_MS,
	  .help = "an I/O slower than this is a slow_io finding" },
	FIELD_END
};

/* Order matters: target before steps, whose checks read the target. */
static const struct field plan_fields[] = {
	{ "version", FIELD_CUSTOM, 0, 0, .decode = version_decode,
	  .encode = version_encode, .help = "plan language version: 1" },
	{ "kind", FIELD_CUSTOM, 0, 0, .decode = kind_decode,
	  .encode = kind_plan_encode, .help = "plan (the default) or campaign" },
	{ "name", FIELD_STRING, P(name), FIELD_REQUIRED,
	  .help = "the plan's name in runs and reports" },
	{ "description", FIELD_STRING, P(description), FIELD_OPTIONAL,
	  .help = "what the plan proves" },
	{ "seed", FIELD_CUSTOM, 0, 0, .decode = seed_decode,
	  .encode = seed_encode, .help = "seed of every random choice" },
	{ "duration", FIELD_DURATION, P(duration_ms), FIELD_OPTIONAL, .min = 1,
	  .max = 365 * DAY_MS, .help = "soak: loop the steps until it elapses" },
	{ "target", FIELD_CUSTOM, 0, FIELD_ALWAYS, .decode = target_field_decode,
	  .encode = target_encode, .help = "the partition under test" },
	{ "agent", FIELD_MAP, 0, 0, .sub = agent_fields,
	  .help = "the link to the in-partition agent" },
	{ "workload", FIELD_MAP, 0, 0, .sub = workload_fields,
	  .help = "what the agent runs while faults happen" },
	{ "steps", FIELD_CUSTOM, 0, FIELD_REQUIRED, .decode = steps_field_decode,
	  .encode = steps_field_encode, .help = "the faults, in order" },
	{ "checks", FIELD_MAP, 0, 0, .sub = checks_fields,
	  .help = "what fails the run" },
	FIELD_END
};

int
plan_init(struct plan *p)
{
	int	k;

	memset(p, 0, sizeof *p);
	p->version = PLAN_VERSION;
	p->seed_random = true;
	p->agent.heartbeat_ms = 1000;
	p->agent.hang_after_ms = 10000;
	p->agent.connect_timeout_ms = 120000;
	p->workload.io.size = 64ULL << 20;
	p->workload.io.block_size = 4096;
	p->workload.io.queue_depth = 4;
	p->workload.io.workers = 0;
	p->workload.io.read_percent = 50;
	p->workload.io.pattern = PLAN_IO_RANDOM;
	p->workload.io.verify = PLAN_VERIFY_CRC32C;
	p->workload.io.io_timeout_ms = 30000;
	p->workload.io.direct = true;
	p->workload.memory.interval_ms = 10000;
	for (k = 0; k < FINDING_KIND_COUNT; k++)
		p->checks.fail_on[k] = finding_kinds[k].fails_run;
	if (target_init(&p->target) == -1 ||
	    set_string(&p->agent.channel, "auto") == -1 ||
	    set_string(&p->workload.io.path, "auto") == -1)
		return -1;
	return 0;
}

void
plan_free(struct plan *p)
{
	if (p == NULL)
		return;
	free(p->source);
	free(p->name);
	free(p->description);
	target_free(&p->target);
	free(p->agent.channel);
	free(p->workload.io.path);
	steps_free(&p->steps);
	free(p);
}

/*
 * Where to point an error about a setting left `auto` for a VM hotsoak does
 * not start: the setting when written, else what makes the VM not ours.
 */
static const struct pnode *
not_started_at(const struct pnode *root, const struct pnode *setting,
    const struct plan *p)
{
	if (setting != root && setting->type == PNODE_SCALAR)
		return setting;
	if (p->target.backend == PLAN_BACKEND_QEMU)
		return pnode_path(root, "target", "qemu", "qmp", NULL);
	return pnode_path(root, "target", "backend", NULL);
}

static int
check_io(struct plan_parser *pp, const struct pnode *root, struct plan *p)
{
	const struct plan_io	*io = &p->workload.io;
	char			 a[UNITS_FORMAT_MAX], b[UNITS_FORMAT_MAX];
	int			 rc = 0;

	/* Sector-aligned, power-of-two blocks: O_DIRECT needs them, and a
	 * block's stamp must not straddle a sector a torn write could split. */
	if (io->block_size % 512 != 0 ||
	    (io->block_size & (io->block_size - 1)) != 0)
		rc = pp_error(pp, pnode_path(root, "workload", "io", "block_size",
		    NULL), "workload.io.block_size must be a power of two and a "
		    "multiple of 512");
	else if (io->size % io->block_size != 0) {
		units_format_size(io->block_size, a, sizeof a);
		rc = pp_error(pp, pnode_path(root, "workload", "io", "size", NULL),
		    "workload.io.size must be a multiple of block_size (%s)", a);
	}
	/* hotsoak makes a disk only for partitions it starts itself. */
	if (strcmp(io->path, "auto") == 0 && pp->target_ok &&
	    ((p->target.backend == PLAN_BACKEND_QEMU && p->target.qemu.qmp) ||
	    p->target.backend == PLAN_BACKEND_LIBVIRT))
		rc = pp_error(pp, not_started_at(root, pnode_path(root,
		    "workload", "io", "path", NULL), p),
		    "workload.io.path must name the guest's device or file for a "
		    "VM hotsoak does not start (path `auto` is made at launch)");
	if (p->workload.memory.size != 0 && pp->target_ok &&
	    p->workload.memory.size >= p->target.memory_boot) {
		units_format_size(p->workload.memory.size, a, sizeof a);
		units_format_size(p->target.memory_boot, b, sizeof b);
		rc = pp_error(pp, pnode_path(root, "workload", "memory", "size",
		    NULL), "workload.memory.size (%s) must be below "
		    "target.memory.boot (%s): the guest needs memory of its own",
		    a, b);
	}
	if (p->target.backend == PLAN_BACKEND_QEMU && p->target.qemu.qmp == NULL &&
	    strcmp(io->path, "auto") == 0 && io->size > p->target.qemu.disk_size) {
		units_format_size(io->size, a, sizeof a);
		units_format_size(p->target.qemu.disk_size, b, sizeof b);
		rc = pp_error(pp, pnode_path(root, "workload", "io", "size", NULL),
		    "workload.io.size (%s) is larger than the run's disk "
		    "(target.qemu.disk_size %s)", a, b);
	}
	return rc;
}

static int
check_agent(struct plan_parser *pp, const struct pnode *root, struct plan *p)
{
	const struct plan_agent	*ag = &p->agent;
	int			 rc = 0;

	const struct pnode	*ch = pnode_map_get(pnode_map_get(root, "agent"),
				    "channel");

	/* One late heartbeat is jitter; two missed in a row is a hang. */
	if (ag->hang_after_ms < 2 * ag->heartbeat_ms)
		rc = pp_error(pp, pnode_path(root, "agent", "hang_after", NULL),
		    "agent.hang_after must be at least twice agent.heartbeat, or "
		    "one late heartbeat is a hang");
	/*
	 * hotsoak sets the channel up only for partitions it starts itself.
	 * A channel that failed to read is its own error, not this one.
	 */
	if (ch != NULL && (ch->type != PNODE_SCALAR || strcmp(ch->text, "auto")))
		return rc;
	if (!pp->target_ok)
		return rc;
	if (strcmp(ag->channel, "auto") == 0 &&
	    ((p->target.backend == PLAN_BACKEND_QEMU && p->target.qemu.qmp) ||
	    p->target.backend == PLAN_BACKEND_LIBVIRT))
		rc = pp_error(pp, not_started_at(root, pnode_path(root, "agent",
		    "channel", NULL), p),
		    "agent.channel must be unix:PATH or tcp:HOST:PORT for a VM "
		    "hotsoak does not start (channel `auto` is set up at launch)");
	return rc;
}

/* One pass of the steps must fit in what the target can grow to. */
static int
check_demand(struct plan_parser *pp, const struct pnode *root, struct plan *p)
{
	const struct plan_target	*t = &p->target;
	const struct pnode		*sn = pnode_map_key(root, "steps");
	struct plan_demand		 d = { 0, 0, 0 };
	char				 a[UNITS_FORMAT_MAX], b[UNITS_FORMAT_MAX];
	int				 rc = 0;

	steps_demand(&p->steps, &d);
	if (d.cpus > (uint64_t)(t->cpus_max - t->cpus_boot))
		rc = pp_error(pp, sn, "the steps can hot-add %" PRIu64 " CPU%s in "
		    "one pass, but target.cpus allows %u (boot %u, max %u)",
		    d.cpus, d.cpus == 1 ? "" : "s", t->cpus_max - t->cpus_boot,
		    t->cpus_boot, t->cpus_max);
	if (d.memory > t->memory_max - t->memory_boot) {
		units_format_size(d.memory, a, sizeof a);
		units_format_size(t->memory_max - t->memory_boot, b, sizeof b);
		rc = pp_error(pp, sn, "the steps can hot-add %s of memory in one "
		    "pass, but target.memory allows %s (max minus boot)", a, b);
	}
	if (t->backend != PLAN_BACKEND_LOCAL &&
	    t->memory_hotplug == PLAN_MEMHP_PC_DIMM && d.memory_ops > t->memory_slots)
		rc = pp_error(pp, sn, "the steps can hot-add %" PRIu64 " DIMM%s in "
		    "one pass, but target.memory.slots is %u", d.memory_ops,
		    d.memory_ops == 1 ? "" : "s", t->memory_slots);
	return rc;
}

int
plan_decode(struct plan_parser *pp, const struct pnode *root, struct plan *p)
{
	int	rc;

	pp->plan = p;
	rc = decode_map(pp, root, plan_fields, p, "");
	if (p->name != NULL &&
	    check_name(pp, pnode_map_get(root, "name"), p->name) == -1)
		rc = -1;
	/* Both, always: every error of a file in one go. */
	if (check_io(pp, root, p) == -1)
		rc = -1;
	if (check_agent(pp, root, p) == -1)
		rc = -1;
	/* Demand only means something once every step parsed. */
	if (rc == 0 && check_demand(pp, root, p) == -1)
		rc = -1;
	return rc;
}

json_t *
plan_encode(const struct plan *p)
{
	return encode_map(plan_fields, p);
}
