/* store-fill.c: fills a run store with months of nightly campaign history
 * through the store API, for tests/bench/reports to measure the reports on. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "hotsoak/util.h"
#include "store-int.h"

#define NS_PER_MS	1000000ULL
#define NS_PER_S	1000000000ULL
#define NS_PER_DAY	(86400ULL * NS_PER_S)
#define FILL_NIGHT_AT	(2ULL * 3600 * NS_PER_S)	/* 02:00 UTC */
/* The last night starts this long before now, so that it is over. */
#define FILL_MARGIN	(2ULL * 3600 * NS_PER_S)
#define FILL_NIGHT_MAX	(90ULL * 60 * NS_PER_S)	/* a night's runs fit in this */
#define FILL_PASSES	4		/* passes of each plan's steps */
#define FILL_SAMPLES	60		/* samples of a run that passes */
#define FILL_SAMPLE_MS	5000
#define FILL_RUN_MS	(FILL_SAMPLES * FILL_SAMPLE_MS)
#define FILL_CAMPAIGN	"nightly-bench"

/* Deterministic: the same options fill the same store. */
struct fill_rng {
	uint64_t	state;
};

struct fill_opts {
	unsigned	 nights;
	unsigned	 plans;
	unsigned	 repeat;
	unsigned	 fail_permille;	/* first attempts that fail */
	unsigned	 flaky_permille; /* of those, retries that pass */
	uint64_t	 seed;
	const char	*dir;
};

/* One attempt of a night, planned before it is written. */
struct fill_attempt {
	unsigned	 plan, repetition, attempt;
	uint64_t	 created_ns, started_ns, finished_ns;
	unsigned	 passes;	/* a failing run stops early */
	bool		 pass;
	int64_t		 id;		/* its run, once written */
};

struct fill_counts {
	uint64_t	campaign_runs, runs, events, samples, findings, steps;
	int64_t		last_campaign_run, last_run, failed_run;
};

static uint64_t
fill_next(struct fill_rng *r)
{
	uint64_t	v = splitmix64(r->state);

	r->state += 0x9e3779b97f4a7c15ULL;
	return v;
}

/* Uniform in [0, n). */
static uint64_t
fill_below(struct fill_rng *r, uint64_t n)
{
	return n == 0 ? 0 : fill_next(r) % n;
}

/* Uniform in [0, 1). */
static double
fill_unit(struct fill_rng *r)
{
	return (double)(fill_next(r) >> 11) * 0x1p-53;
}

/* base plus a long tail: most values near base, a few near base + spread. */
static uint64_t
fill_skewed(struct fill_rng *r, uint64_t base, uint64_t spread)
{
	double	u = fill_unit(r);

	return base + (uint64_t)(u * u * u * (double)spread);
}

static char *
fill_plan_name(unsigned i)
{
	char	*s;

	if (asprintf(&s, "bench-plan-%02u", i) == -1)
		return NULL;
	return s;
}

static char *
fill_file_name(const char *name)
{
	char	*s;

	if (asprintf(&s, "%s.yaml", name) == -1)
		return NULL;
	return s;
}

/* The plan as a user would write it; allocated, the caller frees. */
static char *
fill_plan_text(const char *name, unsigned i)
{
	char	*s;

	if (asprintf(&s, "# %s: hot-add and replace under I/O, nightly.\n"
	    "version: 1\nname: %s\ndescription: CPU and memory hot-add, then a "
	    "memory replace, under verified I/O (%u workers)\ntarget:\n"
	    "  backend: local\n  cpus: { boot: 1, max: 4 }\n"
	    "  memory: { boot: 512MiB, max: 2GiB }\n"
	    "agent: { heartbeat: 500ms }\nworkload:\n"
	    "  io: { size: 64MiB, workers: %u, queue_depth: 8, verify: true }\n"
	    "checks: { io_timeout: 30s, max_latency: 2s }\nsteps:\n"
	    "  - repeat: %u\n    steps:\n      - hot_add: { cpu: 1 }\n"
	    "      - hot_add: { memory: 256MiB }\n"
	    "      - hot_replace: { unit: memory, outage: 3s }\n"
	    "      - wait: 60s\n", name, name, 2 + i % 3, 2 + i % 3,
	    FILL_PASSES) == -1)
		return NULL;
	return s;
}

/* The normalized plan, compact JSON; allocated, the caller frees. */
static char *
fill_plan_json(const char *name, unsigned i)
{
	json_t	*j;
	char	*s;

	j = json_pack("{sI ss ss s{ss s{sI sI} s{ss ss}} s{ss} s{s{ss sI sI sb}} "
	    "s{ss ss} s[{sI s[{s{sI}} {s{ss}} {s{ss ss}} {ss}]}]}",
	    "version", (json_int_t)1, "name", name,
	    "description", "CPU and memory hot-add, then a memory replace",
	    "target", "backend", "local", "cpus", "boot", (json_int_t)1, "max",
	    (json_int_t)4, "memory", "boot", "512MiB", "max", "2GiB",
	    "agent", "heartbeat", "500ms",
	    "workload", "io", "size", "64MiB", "workers", (json_int_t)(2 + i % 3),
	    "queue_depth", (json_int_t)8, "verify", 1,
	    "checks", "io_timeout", "30s", "max_latency", "2s",
	    "steps", "repeat", (json_int_t)FILL_PASSES, "steps",
	    "hot_add", "cpu", (json_int_t)1, "hot_add", "memory", "256MiB",
	    "hot_replace", "unit", "memory", "outage", "3s", "wait", "60s");
	if (j == NULL)
		return NULL;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static char *
fill_campaign_json(const struct fill_opts *o, char **files, unsigned parallel)
{
	json_t	*j, *plans;
	char	*s;
	unsigned i;

	plans = json_array();
	for (i = 0; i < o->plans; i++)
		json_array_append_new(plans, json_string(files[i]));
	j = json_pack("{sI ss ss ss so sI sI sI ss}", "version", (json_int_t)1,
	    "kind", "campaign", "name", FILL_CAMPAIGN, "description",
	    "Nightly soak of the bench plans.", "plans", plans,
	    "repeat", (json_int_t)o->repeat, "parallel", (json_int_t)parallel,
	    "retries", (json_int_t)1, "schedule", "0 2 * * *");
	if (j == NULL)
		return NULL;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

/* The step path of pass p (from 0), sub-step k, as the engine names them. */
static void
fill_step_path(char *buf, size_t len, unsigned p, unsigned k)
{
	snprintf(buf, len, "0.%u/%u.%u", p + 1, FILL_PASSES, k);
}

static const char *const fill_step_actions[] = {
	"hot_add", "hot_add", "hot_replace", "wait"
};

/*
 * A failing run's findings: one to three, of the kinds a soak finds.
 * *first gets the first one's title for the run's reason (static buffer).
 */
static int
fill_findings(struct store *st, struct fill_rng *r, int64_t run,
    uint64_t t0, uint64_t t1, struct fill_counts *c, const char **first,
    char **cause)
{
	static char		 reason[256];
	struct store_finding	 f;
	json_t			*detail;
	char			 title[160], step[32];
	uint64_t		 off;
	unsigned		 i, n = 1 + (unsigned)fill_below(r, 3), kind, p;
	int			 rc;

	for (i = 0; i < n; i++) {
		kind = (unsigned)fill_below(r, 10);
		off = fill_below(r, 64ULL << 20) & ~4095ULL;
		p = (unsigned)fill_below(r, FILL_PASSES);
		if (kind < 5) {
			snprintf(title, sizeof title, "read of 4096 bytes at "
			    "offset 0x%" PRIx64 " on worker %u still in flight "
			    "after 30000 ms", off, (unsigned)fill_below(r, 4));
			detail = json_pack("{sI sI sI ss}", "offset",
			    (json_int_t)off, "length", (json_int_t)4096,
			    "elapsed_ms", (json_int_t)(30000 + fill_below(r, 500)),
			    "op", "read");
			f.kind = "io_timeout";
			f.source = "agent";
		} else if (kind < 8) {
			snprintf(title, sizeof title, "block at offset 0x%" PRIx64
			    " read back with crc32c 0x%08x, written 0x%08x", off,
			    (unsigned)fill_next(r), (unsigned)fill_next(r));
			detail = json_pack("{sI sI sI}", "offset", (json_int_t)off,
			    "length", (json_int_t)4096, "generation",
			    (json_int_t)fill_below(r, 1000));
			f.kind = "corruption";
			f.source = "agent";
		} else {
			snprintf(title, sizeof title, "BUG: unable to handle page "
			    "fault for address: ffff%012" PRIx64,
			    fill_next(r) >> 16);
			detail = json_pack("{ss ss}", "console", "[  312.418] BUG: "
			    "unable to handle page fault\n[  312.419] #PF: "
			    "supervisor read access in kernel mode\n[  312.420] "
			    "RIP: 0010:memmap_init_range+0x1a4/0x220",
			    "stop", "Oops");
			f.kind = "bugcheck";
			f.source = "backend";
		}
		fill_step_path(step, sizeof step, p, 2);
		f.run = run;
		f.title = title;
		f.time_ns = t0 + fill_below(r, t1 - t0);
		f.step = step;
		f.detail = detail;
		rc = store_finding_add(st, &f, NULL, cause);
		json_decref(detail);
		if (rc != 0)
			return -1;
		c->findings++;
		if (i == 0) {
			snprintf(reason, sizeof reason, "%s: %s", f.kind, title);
			*first = reason;
		}
	}
	return 0;
}

static int
fill_event(struct store *st, int64_t run, uint64_t t, const char *kind,
    const char *step, json_t *detail, struct fill_counts *c, char **cause)
{
	int	rc;

	rc = store_event_add(st, run, t, kind, step, detail, cause);
	json_decref(detail);
	if (rc == 0)
		c->events++;
	return rc;
}

/*
 * The timeline of one pass (9 events) and its steps, from t; *t moves on.
 * replaces and hot_ms collect what the run's summary shows.
 */
static int
fill_pass(struct store *st, struct fill_rng *r, int64_t run, unsigned p,
    unsigned *seq, uint64_t *t, json_t *replaces, json_t *hot_ms,
    struct fill_counts *c, char **cause)
{
	struct store_step	 s;
	json_t			*d;
	char			 path[4][32];
	uint64_t		 cpu_ms, mem_ms, held, stall, at[5];
	unsigned		 k;

	for (k = 0; k < 4; k++)
		fill_step_path(path[k], sizeof path[k], p, k);
	cpu_ms = fill_skewed(r, 40, 900);
	mem_ms = fill_skewed(r, 180, 4000);
	held = 3000 + fill_skewed(r, 2, 120);
	stall = held + fill_skewed(r, 20, 600);
	at[0] = *t;
	if (fill_event(st, run, *t, "hot_add", path[0], json_pack("{ss sI sI}",
	    "unit", "cpu", "count", (json_int_t)1, "online",
	    (json_int_t)(1 + p)), c, cause) != 0)
		return -1;
	*t += cpu_ms * NS_PER_MS;
	if (fill_event(st, run, *t, "hot_add_seen", path[0],
	    json_pack("{ss sI sI ss}", "unit", "cpu", "online",
	    (json_int_t)(2 + p), "latency_ms", (json_int_t)cpu_ms, "step",
	    path[0]), c, cause) != 0)
		return -1;
	at[1] = *t;
	if (fill_event(st, run, *t, "hot_add", path[1], json_pack("{ss sI sI sI}",
	    "unit", "memory", "bytes", (json_int_t)(256LL << 20), "blocks",
	    (json_int_t)2, "online", (json_int_t)(512 + 256 * p)), c,
	    cause) != 0)
		return -1;
	*t += mem_ms * NS_PER_MS;
	if (fill_event(st, run, *t, "hot_add_seen", path[1],
	    json_pack("{ss sI sI ss}", "unit", "memory", "online",
	    (json_int_t)(768 + 256 * p), "latency_ms", (json_int_t)mem_ms,
	    "step", path[1]), c, cause) != 0)
		return -1;
	json_array_append_new(hot_ms, json_integer((json_int_t)cpu_ms));
	json_array_append_new(hot_ms, json_integer((json_int_t)mem_ms));
	at[2] = *t;
	if (fill_event(st, run, *t, "replace", path[2], json_pack("{ss ss}",
	    "event", "started", "unit", "memory"), c, cause) != 0 ||
	    fill_event(st, run, *t + NS_PER_MS, "partition", path[2],
	    json_pack("{ss sI ss}", "event", "started", "outage_ms",
	    (json_int_t)3000, "unit", "memory"), c, cause) != 0)
		return -1;
	*t += held * NS_PER_MS;
	if (fill_event(st, run, *t, "partition", path[2], json_pack("{ss sI ss}",
	    "event", "stopped", "held_ms", (json_int_t)held, "unit", "memory"),
	    c, cause) != 0)
		return -1;
	*t += 200 * NS_PER_MS;
	d = json_pack("{ss ss sI sI sI sI}", "unit", "memory", "method",
	    "offline", "outage_ms", (json_int_t)3000, "host_held_ms",
	    (json_int_t)held, "stall_ms", (json_int_t)stall, "blocks",
	    (json_int_t)2);
	json_array_append(replaces, d);
	if (fill_event(st, run, *t, "replace", path[2], d, c, cause) != 0)
		return -1;
	at[3] = *t;
	*t += 60 * NS_PER_S;
	at[4] = *t;
	if (fill_event(st, run, *t, "pass", NULL, json_pack("{sI}", "pass",
	    (json_int_t)(p + 1)), c, cause) != 0)
		return -1;
	for (k = 0; k < 4; k++) {
		memset(&s, 0, sizeof s);
		s.run = run;
		s.seq = (*seq)++;
		s.path = path[k];
		s.action = fill_step_actions[k];
		s.started_ns = at[k];
		s.finished_ns = at[k + 1];
		s.outcome = "done";
		if (store_step_put(st, &s, cause) != 0)
			return -1;
		c->steps++;
	}
	return 0;
}

static int
fill_samples(struct store *st, struct fill_rng *r, int64_t run, uint64_t t,
    unsigned n, bool stuck, struct fill_counts *c, char **cause)
{
	struct store_sample	s;
	unsigned		i;

	for (i = 0; i < n; i++) {
		memset(&s, 0, sizeof s);
		s.run = run;
		s.time_ns = t + (uint64_t)(i + 1) * FILL_SAMPLE_MS * NS_PER_MS;
		s.interval_ms = FILL_SAMPLE_MS + fill_below(r, 20);
		s.ios = 60000 + fill_below(r, 40000);
		s.bytes = s.ios * 4096 * (1 + fill_below(r, 4));
		s.p50_ns = 60000 + fill_below(r, 40000);
		s.p90_ns = s.p50_ns * 3 + fill_below(r, 50000);
		s.p99_ns = s.p90_ns * 4 + fill_skewed(r, 0, 2000000);
		s.p999_ns = s.p99_ns * 3 + fill_skewed(r, 0, 10000000);
		s.max_ns = s.p999_ns + fill_skewed(r, 0, 50000000);
		if (stuck && i + 1 == n)
			s.max_ns = 30000000000ULL + fill_below(r, 500000000);
		s.inflight = (unsigned)fill_below(r, 33);
		s.workers = 4;
		if (store_sample_add(st, &s, cause) != 0)
			return -1;
		c->samples++;
	}
	return 0;
}

/* One attempt, whole: its row, timeline, samples, findings and verdict. */
static int
fill_run(struct store *st, struct fill_rng *r, int64_t crun,
    struct fill_attempt *a, char **names, char **files, char **texts,
    char **jsons, struct fill_counts *c, char **cause)
{
	struct store_run_new	 n;
	json_t			*replaces, *hot_ms, *summary;
	const char		*reason = NULL;
	uint64_t		 t, pid;
	unsigned		 p, seq = 0, passes = a->passes, samples;
	int64_t			 id;
	int			 rc = -1;

	memset(&n, 0, sizeof n);
	n.plan = names[a->plan];
	n.source = files[a->plan];
	n.plan_text = texts[a->plan];
	n.plan_json = jsons[a->plan];
	n.seed = fill_next(r);
	n.backend = "local";
	n.created_ns = a->created_ns;
	n.campaign_run = crun;
	n.plan_index = a->plan;
	n.repetition = a->repetition;
	n.attempt = a->attempt;
	if (store_run_create(st, &n, &id, cause) != 0 ||
	    store_run_started(st, id, a->started_ns, cause) != 0)
		return -1;
	c->runs++;
	c->last_run = a->id = id;
	replaces = json_array();
	hot_ms = json_array();
	pid = 1000 + fill_below(r, 30000);
	t = a->started_ns;
	if (fill_event(st, id, t, "run", NULL, json_pack("{ss ss sI ss}",
	    "event", "started", "plan", n.plan, "seed",
	    (json_int_t)(n.seed & INT64_MAX), "backend", "local"), c,
	    cause) != 0)
		goto out;
	t += (1500 + fill_below(r, 1000)) * NS_PER_MS;
	if (fill_event(st, id, t, "agent", NULL, json_pack("{ss ss sI sb sb sb "
	    "sb}", "event", "hello", "agent", "hotsoak-agent " PACKAGE_VERSION,
	    "pid", (json_int_t)pid, "resumed", 0, "same_instance", 0,
	    "restarted", 0, "rebooted", 0), c, cause) != 0 ||
	    fill_event(st, id, t + 5 * NS_PER_MS, "workload", NULL,
	    json_pack("{ss s{ss sI sI}}", "event", "started", "io", "size",
	    "64MiB", "workers", (json_int_t)4, "queue_depth", (json_int_t)8), c,
	    cause) != 0)
		goto out;
	for (p = 0; p < passes; p++)
		if (fill_pass(st, r, id, p, &seq, &t, replaces, hot_ms, c,
		    cause) != 0)
			goto out;
	samples = FILL_SAMPLES * passes / FILL_PASSES;
	if (fill_samples(st, r, id, a->started_ns, samples, !a->pass, c,
	    cause) != 0)
		goto out;
	if (fill_event(st, id, a->finished_ns - 50 * NS_PER_MS, "workload",
	    NULL, json_pack("{ss ss}", "event", "stopped", "why", a->pass ?
	    "done" : "finding"), c, cause) != 0)
		goto out;
	if (!a->pass) {
		if (fill_findings(st, r, id, a->started_ns, a->finished_ns, c,
		    &reason, cause) != 0)
			goto out;
		c->failed_run = id;
	}
	summary = json_pack("{s{sI sI sI sI sI sI sI sI sI} s{sI sI sI sn sn sn} "
	    "s{sI sI sI sI} s{sI sI sI sI sI} sO sO s{sI sI} s{ss ss ss sI} ss "
	    "sI sI}",
	    "counters", "ios", (json_int_t)(samples * 80000ULL), "reads",
	    (json_int_t)(samples * 40000ULL), "writes",
	    (json_int_t)(samples * 40000ULL), "bytes_read",
	    (json_int_t)(samples * 40000ULL * 8192), "bytes_written",
	    (json_int_t)(samples * 40000ULL * 8192), "blocks_verified",
	    (json_int_t)(samples * 39000ULL), "errors", (json_int_t)0,
	    "timeouts", (json_int_t)(a->pass ? 0 : 1), "corruptions",
	    (json_int_t)0,
	    "step", "index", (json_int_t)(a->pass ? 1 : 0), "total",
	    (json_int_t)1, "pass", (json_int_t)passes, "path", "action", "name",
	    "fault_ops", "hot_add_cpu", (json_int_t)passes, "hot_add_memory",
	    (json_int_t)passes, "hot_add_io_bridge", (json_int_t)0,
	    "hot_replace", (json_int_t)passes,
	    "latency", "p50_ns", (json_int_t)82000, "p90_ns", (json_int_t)260000,
	    "p99_ns", (json_int_t)1100000, "p999_ns", (json_int_t)6400000,
	    "max_ns", (json_int_t)(a->pass ? 48000000 : 30120000000LL),
	    "hot_add_latency_ms", hot_ms, "replaces", replaces,
	    "topology", "cpus", (json_int_t)(1 + passes), "memory_mib",
	    (json_int_t)(512 + 256 * passes),
	    "agent", "agent", "hotsoak-agent " PACKAGE_VERSION, "hostname",
	    "bench-guest", "boot_id", "5b1d9c1e-3f0a-4c2e-9d57-6a1f2e8b4c70",
	    "pid", (json_int_t)pid,
	    "state", "done", "passes", (json_int_t)passes, "max_latency_ns",
	    (json_int_t)(a->pass ? 48000000 : 30120000000LL));
	if (summary == NULL) {
		cause_set(cause, "store-fill: out of memory");
		goto out;
	}
	rc = store_run_finish(st, id, a->pass ? "pass" : "fail", a->pass ?
	    "every step done, no findings" : reason, a->finished_ns, summary,
	    NULL, cause);
	json_decref(summary);
out:
	json_decref(replaces);
	json_decref(hot_ms);
	return rc;
}

static int
fill_cmp_created(const void *a, const void *b)
{
	const struct fill_attempt	*x = a, *y = b;

	return x->created_ns < y->created_ns ? -1 :
	    x->created_ns > y->created_ns;
}

/*
 * The attempts of one night on parallel lanes from start: every plan's
 * repetitions in order, a failed first attempt retried on its lane. The
 * caller frees *out.
 */
static int
fill_schedule(struct fill_rng *r, const struct fill_opts *o, unsigned lanes,
    uint64_t start, struct fill_attempt **out, size_t *nout, char **cause)
{
	struct fill_attempt	*v, *a;
	uint64_t		*lane;
	size_t			 n = 0, max = (size_t)o->plans * o->repeat * 2;
	unsigned		 p, rep, k, best, att;
	bool			 pass;

	if ((v = calloc(max, sizeof *v)) == NULL ||
	    (lane = calloc(lanes, sizeof *lane)) == NULL) {
		free(v);
		return cause_set(cause, "store-fill: out of memory");
	}
	for (k = 0; k < lanes; k++)
		lane[k] = start + (100 + k * 30) * NS_PER_MS;
	for (p = 0; p < o->plans; p++)
		for (rep = 1; rep <= o->repeat; rep++) {
			best = 0;
			for (k = 1; k < lanes; k++)
				if (lane[k] < lane[best])
					best = k;
			for (att = 1; att <= 2; att++) {
				pass = att == 1 ?
				    fill_below(r, 1000) >= o->fail_permille :
				    fill_below(r, 1000) < o->flaky_permille;
				a = &v[n];
				a->plan = p;
				a->repetition = rep;
				a->attempt = att;
				a->created_ns = lane[best];
				a->started_ns = a->created_ns + (50 +
				    fill_below(r, 200)) * NS_PER_MS;
				/* A failing run stops in one of its passes. */
				a->passes = pass ? FILL_PASSES : 1 +
				    (unsigned)fill_below(r, FILL_PASSES);
				a->finished_ns = a->started_ns + (FILL_RUN_MS /
				    FILL_PASSES * a->passes + 10000 +
				    fill_below(r, 20000)) * NS_PER_MS;
				a->pass = pass;
				lane[best] = a->finished_ns + (20 +
				    fill_below(r, 200)) * NS_PER_MS;
				n++;
				if (pass)
					break;
			}
		}
	free(lane);
	qsort(v, n, sizeof *v, fill_cmp_created);
	*out = v;
	*nout = n;
	return 0;
}

/* One event of the campaign run; takes detail. */
static int
fill_campaign_event(struct store *st, int64_t crun, uint64_t t,
    const char *kind, json_t *detail, char **cause)
{
	int	rc;

	rc = store_campaign_event_add(st, FILL_CAMPAIGN, crun, t, kind, detail,
	    cause);
	json_decref(detail);
	return rc;
}

/* One night's campaign run, in one write transaction. */
static int
fill_night(struct store *st, struct fill_rng *r, const struct fill_opts *o,
    unsigned lanes, const char *cjson, uint64_t night, char **names,
    char **files, char **texts, char **jsons, struct fill_counts *c,
    char **cause)
{
	struct store_campaign_run_new	 cn;
	struct fill_attempt		*v = NULL;
	const char			*verdict = NULL, *rv, *vs[2];
	const char *const		 words[] = {
		"pass", "flaky", "fail", NULL
	};
	unsigned			 counts[3] = { 0, 0, 0 }, w;
	char				 reason[256], *first = NULL;
	uint64_t			 end = night;
	size_t				 n = 0, i, j, len;
	int64_t				 crun;
	int				 rc = -1;

	if (fill_schedule(r, o, lanes, night, &v, &n, cause) != 0)
		return -1;
	if (store_begin(st, true, cause) != 0) {
		free(v);
		return -1;
	}
	memset(&cn, 0, sizeof cn);
	cn.campaign = FILL_CAMPAIGN;
	cn.source = "/etc/hotsoak/plans/" FILL_CAMPAIGN ".yaml";
	cn.campaign_json = cjson;
	cn.trigger = "schedule";
	cn.created_ns = night + 20 * NS_PER_MS;
	cn.scheduled_ns = night;
	cn.repeat = o->repeat;
	cn.parallel = lanes;
	cn.retries = 1;
	if (store_campaign_run_create(st, &cn, &crun, cause) != 0)
		goto out;
	c->campaign_runs++;
	c->last_campaign_run = crun;
	if (fill_campaign_event(st, crun, cn.created_ns, "started",
	    json_pack("{ss sI sI sI sI}", "trigger", "schedule", "plans",
	    (json_int_t)o->plans, "repeat", (json_int_t)o->repeat, "parallel",
	    (json_int_t)lanes, "retries", (json_int_t)1), cause) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (fill_run(st, r, crun, &v[i], names, files, texts, jsons, c,
		    cause) != 0)
			goto out;
		if (v[i].finished_ns > end)
			end = v[i].finished_ns;
		if (v[i].attempt != 2)
			continue;
		/* The attempt it retries ended before it began: written. */
		for (j = 0; j < i; j++)
			if (v[j].plan == v[i].plan &&
			    v[j].repetition == v[i].repetition)
				break;
		if (fill_campaign_event(st, crun, v[i].created_ns, "retry",
		    json_pack("{ss sI sI sI ss}", "plan", files[v[i].plan],
		    "repetition", (json_int_t)v[i].repetition, "attempt",
		    (json_int_t)2, "after_run", (json_int_t)v[j].id,
		    "after_verdict", "fail"), cause) != 0)
			goto out;
	}
	/* Each repetition's verdict as the campaign counts it. */
	for (i = 0; i < n; i++) {
		if (v[i].attempt != 1)
			continue;
		vs[0] = v[i].pass ? "pass" : "fail";
		rv = vs[0];
		if (!v[i].pass) {
			vs[1] = "fail";
			for (j = 0; j < n; j++)
				if (v[j].attempt == 2 && v[j].plan == v[i].plan &&
				    v[j].repetition == v[i].repetition)
					vs[1] = v[j].pass ? "pass" : "fail";
			rv = store_repetition_verdict(vs, 2, false);
		}
		for (w = 0; words[w] != NULL && strcmp(words[w], rv) != 0; w++)
			;
		if (words[w] != NULL)
			counts[w]++;
		if (verdict == NULL ||
		    store_verdict_worse(verdict, rv) != verdict) {
			verdict = rv;
			free(first);
			first = fill_plan_name(v[i].plan);
		}
	}
	len = 0;
	reason[0] = '\0';
	for (w = 0; words[w] != NULL; w++) {
		if (counts[w] == 0)
			continue;
		len += (size_t)snprintf(reason + len, sizeof reason - len,
		    "%s%u %s", len ? ", " : "", counts[w], words[w]);
	}
	if (verdict != NULL && strcmp(verdict, "pass") != 0 && first != NULL)
		snprintf(reason + len, sizeof reason - len, " (first %s: %s.yaml)",
		    verdict, first);
	if (verdict == NULL)
		verdict = "pass";
	if (store_campaign_run_finish(st, crun, verdict, reason, end + NS_PER_MS,
	    cause) != 0 ||
	    fill_campaign_event(st, crun, end + NS_PER_MS, "finished",
	    json_pack("{ss ss}", "verdict", verdict, "reason", reason),
	    cause) != 0)
		goto out;
	rc = store_commit(st, cause);
out:
	if (rc != 0)
		store_rollback(st);
	free(first);
	free(v);
	return rc;
}

static int
fill(const struct fill_opts *o, struct fill_counts *c, char **cause)
{
	struct store	*st;
	struct fill_rng	 r = { o->seed };
	char		**names, **files, **texts, **jsons, *cjson = NULL;
	uint64_t	 now, last, span;
	unsigned	 i, lanes;
	int		 rc = -1;

	names = calloc(o->plans, sizeof *names);
	files = calloc(o->plans, sizeof *files);
	texts = calloc(o->plans, sizeof *texts);
	jsons = calloc(o->plans, sizeof *jsons);
	if (names == NULL || files == NULL || texts == NULL || jsons == NULL)
		goto oom;
	for (i = 0; i < o->plans; i++)
		if ((names[i] = fill_plan_name(i)) == NULL ||
		    (files[i] = fill_file_name(names[i])) == NULL ||
		    (texts[i] = fill_plan_text(names[i], i)) == NULL ||
		    (jsons[i] = fill_plan_json(names[i], i)) == NULL)
			goto oom;
	/* As many lanes as keep a night's runs within FILL_NIGHT_MAX. */
	span = (uint64_t)o->plans * o->repeat * (FILL_RUN_MS + 20000) *
	    NS_PER_MS;
	lanes = (unsigned)((span + FILL_NIGHT_MAX - 1) / FILL_NIGHT_MAX);
	if (lanes < 2)
		lanes = 2;
	if ((cjson = fill_campaign_json(o, files, lanes)) == NULL)
		goto oom;

	/* The newest night is the last 02:00 UTC that is over by now. */
	now = clock_wall_ns();
	last = (now - FILL_MARGIN) / NS_PER_DAY * NS_PER_DAY + FILL_NIGHT_AT;
	if (last > now - FILL_MARGIN)
		last -= NS_PER_DAY;
	if ((st = store_open(o->dir, cause)) == NULL)
		goto out;
	for (i = 0; i < o->nights; i++)
		if (fill_night(st, &r, o, lanes, cjson, last - (uint64_t)
		    (o->nights - 1 - i) * NS_PER_DAY, names, files, texts, jsons,
		    c, cause) != 0)
			break;
	rc = i == o->nights ? 0 : -1;
	store_close(st);
	goto out;
oom:
	cause_set(cause, "store-fill: out of memory");
out:
	for (i = 0; i < o->plans; i++) {
		if (names != NULL)
			free(names[i]);
		if (files != NULL)
			free(files[i]);
		if (texts != NULL)
			free(texts[i]);
		if (jsons != NULL)
			free(jsons[i]);
	}
	free(names);
	free(files);
	free(texts);
	free(jsons);
	free(cjson);
	return rc;
}

static int
fill_number(const char *s, unsigned max, unsigned *v)
{
	unsigned long	 n;
	char		*end;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n == 0 || n > max)
		return -1;
	*v = (unsigned)n;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: store-fill [-D nights] [-P plans] [-R repeat] "
	    "[-f fail-permille] [-s seed] state-dir\n");
}

int
main(int argc, char **argv)
{
	struct fill_opts	 o;
	struct fill_counts	 c;
	char			*cause = NULL;
	unsigned		 fail = 30;
	int			 ch;

	memset(&o, 0, sizeof o);
	memset(&c, 0, sizeof c);
	o.nights = 90;
	o.plans = 10;
	o.repeat = 3;
	o.flaky_permille = 600;
	o.seed = 20261121;
	while ((ch = getopt(argc, argv, "D:P:R:f:s:")) != -1) {
		switch (ch) {
		case 'D':
			if (fill_number(optarg, 3650, &o.nights) != 0)
				goto bad;
			break;
		case 'P':
			if (fill_number(optarg, 1000, &o.plans) != 0)
				goto bad;
			break;
		case 'R':
			if (fill_number(optarg, 100, &o.repeat) != 0)
				goto bad;
			break;
		case 'f':
			/* 0 is allowed here: a history without failures. */
			if (strcmp(optarg, "0") == 0)
				fail = 0;
			else if (fill_number(optarg, 1000, &fail) != 0)
				goto bad;
			break;
		case 's':
			o.seed = strtoull(optarg, NULL, 0);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (argc - optind != 1) {
		usage();
		return 2;
	}
	o.fail_permille = fail;
	o.dir = argv[optind];
	if (fill(&o, &c, &cause) != 0) {
		fprintf(stderr, "store-fill: %s\n", cause != NULL ? cause :
		    "out of memory");
		free(cause);
		return 1;
	}
	printf("nights %u\ncampaign_runs %" PRIu64 "\nruns %" PRIu64
	    "\nevents %" PRIu64 "\nsamples %" PRIu64 "\nfindings %" PRIu64
	    "\nsteps %" PRIu64 "\nlast_campaign_run %" PRId64 "\nlast_run %"
	    PRId64 "\nfailed_run %" PRId64 "\n", o.nights, c.campaign_runs,
	    c.runs, c.events, c.samples, c.findings, c.steps,
	    c.last_campaign_run, c.last_run, c.failed_run);
	return 0;

bad:
	fprintf(stderr, "store-fill: -%c %s: not a number in range\n", ch,
	    optarg);
	usage();
	return 2;
}
