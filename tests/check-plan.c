/* check-plan.c: the plan loader: shipped plans, defaults, located errors,
 * limits on hostile input, campaigns, and the JSON that --print writes. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common.h"
#include "step.h"

#define MINIMAL \
	"version: 1\n" \
	"name: t\n" \
	"target:\n" \
	"  backend: local\n" \
	"  cpus: {boot: 1, max: 4}\n" \
	"  memory: {boot: 256MiB, max: 1GiB}\n" \
	"steps:\n" \
	"  - hot_add: {cpu: 1}\n"

static json_t *
plan_json(const char *text)
{
	char		*s = test_json(text);
	json_error_t	 err;
	json_t		*o = json_loads(s, 0, &err);

	ck_assert_msg(o != NULL, "bad JSON at %d:%d: %s", err.line, err.column,
	    err.text);
	free(s);
	return o;
}

/* The value at a path of object keys and array indexes ("steps", "0", "hot_add"). */
static json_t *
jpath(json_t *o, const char *path)
{
	char	*copy = strdup(path), *tok, *save = NULL;

	for (tok = strtok_r(copy, ".", &save); tok != NULL && o != NULL;
	    tok = strtok_r(NULL, ".", &save)) {
		if (json_is_array(o))
			o = json_array_get(o, (size_t)atoi(tok));
		else
			o = json_object_get(o, tok);
	}
	free(copy);
	ck_assert_msg(o != NULL, "no %s in the plan JSON", path);
	return o;
}

static void
ck_jstr(json_t *o, const char *path, const char *want)
{
	json_t	*v = jpath(o, path);

	ck_assert_msg(json_is_string(v), "%s is not a string", path);
	ck_assert_str_eq(json_string_value(v), want);
}

static void
ck_jint(json_t *o, const char *path, long long want)
{
	json_t	*v = jpath(o, path);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", path);
	ck_assert_int_eq(json_integer_value(v), want);
}

START_TEST(shipped_plans_load)
{
	static const char *const names[] = { "local-smoke", "local-soak",
	    "qemu-hotadd", "qemu-hot-replace", "qemu-attach", "libvirt-hotadd",
	    "nightly", "qemu-io-bridge", NULL };
	char			 plans[4096];
	struct plan_load_opts	 opts = { plans };
	struct plan_diags	 d;
	struct plan_file	*pf;
	char			 rel[128];
	size_t			 i;

	snprintf(plans, sizeof plans, "%s", test_srcpath("plans"));
	for (i = 0; names[i] != NULL; i++) {
		snprintf(rel, sizeof rel, "plans/%s.yaml", names[i]);
		plan_diags_init(&d);
		pf = plan_file_load_path(test_srcpath(rel), &opts, &d);
		if (pf == NULL)
			plan_diags_print(&d, stderr);
		ck_assert_msg(pf != NULL, "%s rejected", rel);
		ck_assert_uint_eq(d.n, 0);
		if (pf->kind == PLAN_FILE_PLAN)
			ck_assert_str_eq(pf->plan->name, names[i]);
		else
			ck_assert_str_eq(pf->campaign->name, names[i]);
		plan_file_free(pf);
		plan_diags_free(&d);
	}
}
END_TEST

START_TEST(model_of_local_soak)
{
	struct plan_diags	 d;
	struct plan_file	*pf;
	struct plan		*p;

	plan_diags_init(&d);
	pf = plan_file_load_path(test_srcpath("plans/local-soak.yaml"), NULL, &d);
	ck_assert_ptr_nonnull(pf);
	p = pf->plan;
	ck_assert_int_eq(pf->kind, PLAN_FILE_PLAN);
	ck_assert(p->seed_random);
	ck_assert_uint_eq(p->duration_ms, 600000);
	ck_assert_int_eq(p->target.backend, PLAN_BACKEND_LOCAL);
	ck_assert_uint_eq(p->target.cpus_boot, 1);
	ck_assert_uint_eq(p->target.cpus_max, 2);
	ck_assert_uint_eq(p->target.memory_boot, 256ULL << 20);
	ck_assert_uint_eq(p->target.memory_max, 1ULL << 30);
	ck_assert_uint_eq(p->agent.heartbeat_ms, 500);
	ck_assert_uint_eq(p->agent.hang_after_ms, 5000);
	ck_assert_uint_eq(p->workload.io.size, 64ULL << 20);
	ck_assert_uint_eq(p->workload.io.queue_depth, 8);
	ck_assert_uint_eq(p->workload.io.workers, 0);
	ck_assert_int_eq(p->workload.io.verify, PLAN_VERIFY_CRC32C);
	ck_assert_uint_eq(p->workload.memory.size, 64ULL << 20);
	ck_assert_uint_eq(p->steps.n, 5);
	ck_assert_str_eq(p->steps.v[0].name, "settle");
	ck_assert_str_eq(p->steps.v[0].entry->name, "wait");
	ck_assert_str_eq(p->steps.v[3].entry->name, "repeat");
	ck_assert_str_eq(p->steps.v[4].entry->name, "random");
	ck_assert_uint_eq(p->steps.v[1].mark.line, 41);
	ck_assert(p->checks.fail_on[FINDING_CORRUPTION]);
	ck_assert(!p->checks.fail_on[FINDING_SLOW_IO]);
	ck_assert_uint_eq(p->checks.max_latency_ms, 10000);
	plan_file_free(pf);
	plan_diags_free(&d);
}
END_TEST

START_TEST(defaults_filled_in)
{
	struct plan_diags	 d;
	struct plan_file	*pf;
	struct plan		*p;
	json_t			*o;
	int			 k;

	plan_diags_init(&d);
	pf = test_load("version: 1\nname: t\ntarget: {backend: qemu}\n"
	    "steps: [wait: 1s]\n", &d);
	ck_assert_ptr_nonnull(pf);
	p = pf->plan;
	ck_assert(p->seed_random);
	ck_assert_uint_eq(p->duration_ms, 0);
	ck_assert_uint_eq(p->target.cpus_boot, 1);
	ck_assert_uint_eq(p->target.cpus_max, 1);	/* max defaults to boot */
	ck_assert_uint_eq(p->target.memory_boot, 512ULL << 20);
	ck_assert_uint_eq(p->target.memory_max, 512ULL << 20);
	ck_assert_uint_eq(p->target.memory_slots, 0);	/* no room, no slots */
	ck_assert_str_eq(p->target.qemu.binary, "qemu-system-x86_64");
	ck_assert_int_eq(p->target.qemu.accel, PLAN_ACCEL_AUTO);
	ck_assert_uint_eq(p->target.qemu.disk_size, 256ULL << 20);
	ck_assert_ptr_null(p->target.qemu.qmp);
	ck_assert_str_eq(p->agent.channel, "auto");
	ck_assert_uint_eq(p->agent.heartbeat_ms, 1000);
	ck_assert_uint_eq(p->agent.hang_after_ms, 10000);
	ck_assert_str_eq(p->workload.io.path, "auto");
	ck_assert_uint_eq(p->workload.io.block_size, 4096);
	ck_assert_uint_eq(p->workload.io.io_timeout_ms, 30000);
	ck_assert(p->workload.io.direct);
	ck_assert_uint_eq(p->workload.memory.size, 0);
	for (k = 0; k < FINDING_KIND_COUNT; k++)
		ck_assert_int_eq(p->checks.fail_on[k], finding_kinds[k].fails_run);
	plan_file_free(pf);
	plan_diags_free(&d);

	/* Slots default to 4 once memory can grow. */
	o = plan_json(MINIMAL);
	ck_jint(o, "target.memory.slots", 4);
	ck_jstr(o, "target.memory.max", "1GiB");
	ck_jstr(o, "seed", "random");
	ck_jstr(o, "workload.io.workers", "per-cpu");
	ck_jstr(o, "target.local.cgroup", "auto");
	ck_assert_ptr_null(json_object_get(jpath(o, "target"), "qemu"));
	ck_assert_ptr_null(json_object_get(o, "duration"));
	json_decref(o);
}
END_TEST

START_TEST(steps_to_json)
{
	json_t	*o = plan_json(MINIMAL
	    "  - name: grow\n"
	    "    hot_add: {memory: 512M, online: false}\n"
	    "  - expect: {guest_cpus: 2}\n"
	    "  - hot_replace: {unit: cpu, outage: 1500ms}\n"
	    "  - repeat:\n"
	    "      times: 2\n"
	    "      steps: [{wait: 1h30m}]\n"
	    "  - random: {interval: 5s..1m, times: 3, choose: [{wait: 1s}]}\n"
	    "  - random: {interval: 10s, choose: [{wait: 1s}]}\n");

	ck_jint(o, "steps.0.hot_add.cpu", 1);
	ck_jstr(o, "steps.1.name", "grow");
	ck_jstr(o, "steps.1.hot_add.memory", "512MiB");
	ck_assert(json_is_false(jpath(o, "steps.1.hot_add.online")));
	ck_jstr(o, "steps.2.expect.within", "30s");
	ck_jstr(o, "steps.3.hot_replace.outage", "1s500ms");
	/* The local backend's replace holds: pseudo-S4 would be the host's. */
	ck_jstr(o, "steps.3.hot_replace.method", "hold");
	ck_jint(o, "steps.4.repeat.times", 2);
	ck_jstr(o, "steps.4.repeat.steps.0.wait", "1h30m");
	ck_jstr(o, "steps.5.random.interval", "5s..1m");
	ck_jint(o, "steps.5.random.times", 3);
	ck_jstr(o, "steps.6.random.interval", "10s");
	ck_jint(o, "steps.6.random.times", 1);
	json_decref(o);
}
END_TEST

START_TEST(print_round_trips)
{
	static const char *const names[] = { "plans/local-smoke.yaml",
	    "plans/local-soak.yaml", "plans/qemu-hotadd.yaml",
	    "plans/qemu-hot-replace.yaml", "plans/qemu-attach.yaml",
	    "plans/libvirt-hotadd.yaml", "plans/qemu-io-bridge.yaml", NULL };
	struct plan_diags	 d;
	struct plan_file	*pf, *again;
	char			*a, *b;
	size_t			 i;

	for (i = 0; names[i] != NULL; i++) {
		plan_diags_init(&d);
		pf = plan_file_load_path(test_srcpath(names[i]), NULL, &d);
		ck_assert_ptr_nonnull(pf);
		a = plan_file_to_json(pf);
		again = plan_file_load_buffer("p.json", a, strlen(a), NULL, &d);
		if (again == NULL)
			plan_diags_print(&d, stderr);
		ck_assert_msg(again != NULL, "%s: --print output rejected", names[i]);
		b = plan_file_to_json(again);
		ck_assert_str_eq(a, b);
		free(a);
		free(b);
		plan_file_free(pf);
		plan_file_free(again);
		plan_diags_free(&d);
	}
}
END_TEST

START_TEST(errors_located)
{
	ck_plan_error(MINIMAL "bogus: 1\n", 9, 1, "unknown key `bogus`");
	ck_plan_error(MINIMAL "chekcs: {}\n", 9, 1, "did you mean `checks`?");
	ck_plan_error(MINIMAL "workload: {io: {blok_size: 4k}}\n", 9, 17,
	    "did you mean `block_size`?");
	/* A unit error points into the scalar, at the unit. */
	ck_plan_error(MINIMAL "duration: 10x\n", 9, 13, "unknown unit `x`");
	ck_plan_error(MINIMAL "duration: \"10x\"\n", 9, 14, "unknown unit `x`");
	ck_plan_error(MINIMAL "duration: -5m\n", 9, 11, "negative");
	ck_plan_error(MINIMAL "workload: {io: {size: 99999999999999999999GiB}}\n",
	    9, 23, "too large");
	ck_plan_error(MINIMAL "name: again\n", 9, 1, "duplicate key `name`");
	ck_plan_error("version: 1\ntarget: {backend: local}\nsteps: [wait: 1s]\n",
	    1, 1, "missing required key `name`");
	ck_plan_error("version: 1\nname: t\ntarget: {backend: lokal}\n"
	    "steps: [wait: 1s]\n", 3, 19, "did you mean `local`?");
	ck_plan_error("version: 1\nname: t\ntarget: {backend: local, cpus: "
	    "{boot: 4, max: 2}}\nsteps: [wait: 1s]\n", 3, 47,
	    "below target.cpus.boot");
	ck_plan_error(MINIMAL "  - hot_ad: {cpu: 1}\n", 9, 5,
	    "did you mean `hot_add`?");
	ck_plan_error(MINIMAL "  - wait: 0s\n", 9, 11, "must not be zero");
	ck_plan_error(MINIMAL "workload: {io: {queue_depth: \"4\"}}\n", 9, 30,
	    "not a quoted string");
	ck_plan_error(MINIMAL "workload: {io: {direct: yes}}\n", 9, 25,
	    "true or false");
	ck_plan_error(MINIMAL "workload: [io]\n", 9, 11, "must be a mapping");
	ck_plan_error(MINIMAL "  - hot_add: {cpu: 3}\n", 7, 1,
	    "can hot-add 4 CPUs in one pass, but target.cpus allows 3");
}
END_TEST

START_TEST(all_errors_in_file_order)
{
	struct plan_diags	 d;
	size_t			 i;

	plan_diags_init(&d);
	/* target is read before steps and checks, but errors print in file order. */
	ck_assert_ptr_null(test_load("version: 1\nname: t\n"
	    "steps: [{wat: 1s}]\n"
	    "checks: {fail_on: [nope]}\n"
	    "target: {backend: nope}\n", &d));
	ck_assert_uint_eq(d.n, 3);
	ck_assert_uint_eq(d.v[0].mark.line, 3);
	ck_assert_uint_eq(d.v[1].mark.line, 4);
	ck_assert_uint_eq(d.v[2].mark.line, 5);
	for (i = 0; i < d.n; i++)
		ck_assert_str_eq(d.v[i].file, "t.yaml");
	plan_diags_free(&d);
}
END_TEST

START_TEST(too_many_errors_capped)
{
	struct plan_diags	 d;
	char			*text, *p;
	int			 i;

	text = malloc(200 * 16 + 64);
	p = text + sprintf(text, "version: 1\n");
	for (i = 0; i < 200; i++)
		p += sprintf(p, "junk%d: 1\n", i);
	plan_diags_init(&d);
	ck_assert_ptr_null(test_load(text, &d));
	ck_assert_uint_eq(d.n, PLAN_MAX_DIAGS);
	ck_assert_uint_ge(d.dropped, 200 - PLAN_MAX_DIAGS);
	plan_diags_free(&d);
	free(text);
}
END_TEST

/* Refused at the first anchor: nothing is expanded, so it is fast and small. */
START_TEST(billion_laughs_fails_fast)
{
	static const char bomb[] =
	    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
	struct plan_diags	d;

	plan_diags_init(&d);
	ck_assert_ptr_null(test_load(bomb, &d));
	ck_assert_uint_eq(d.n, 1);
	ck_assert_uint_eq(d.v[0].mark.line, 1);
	ck_assert_uint_eq(d.v[0].mark.column, 4);
	ck_assert_ptr_nonnull(strstr(d.v[0].message, "anchors"));
	plan_diags_free(&d);

	ck_plan_error("a: *x\n", 1, 4, "aliases");
}
END_TEST

START_TEST(nesting_limit)
{
	char			 text[256];
	struct plan_diags	 d;
	int			 depth;

	/* The top mapping counts: PLAN_MAX_DEPTH - 1 lists fit, one more does not. */
	for (depth = PLAN_MAX_DEPTH - 1; depth <= PLAN_MAX_DEPTH; depth++) {
		snprintf(text, sizeof text, "x: %.*s%.*s\n", depth,
		    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", depth,
		    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
		plan_diags_init(&d);
		ck_assert_ptr_null(test_load(text, &d));
		ck_assert_uint_ge(d.n, 1);
		if (depth < PLAN_MAX_DEPTH)
			ck_assert_ptr_null(strstr(d.v[0].message, "nesting"));
		else
			ck_assert_ptr_nonnull(strstr(d.v[0].message, "nesting"));
		plan_diags_free(&d);
	}
}
END_TEST

START_TEST(node_limit)
{
	struct plan_diags	 d;
	size_t			 n = PLAN_MAX_NODES + 10, i;
	char			*text = malloc(n * 2 + 16), *p = text;

	p += sprintf(p, "x: [");
	for (i = 0; i < n; i++)
		p += sprintf(p, "1,");
	sprintf(p, "1]\n");
	plan_diags_init(&d);
	ck_assert_ptr_null(test_load(text, &d));
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].message, "YAML nodes"));
	plan_diags_free(&d);
	free(text);
}
END_TEST

START_TEST(size_limit)
{
	char			 path[] = "/tmp/hotsoak-big.XXXXXX";
	struct plan_diags	 d;
	char			*buf;
	int			 fd;

	/* An endless source is read only up to the limit, then refused. */
	plan_diags_init(&d);
	ck_assert_ptr_null(plan_file_load_path("/dev/zero", NULL, &d));
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].message, "limit"));
	plan_diags_free(&d);

	/* A regular file over the limit is refused before it is read. */
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	buf = calloc(1, PLAN_MAX_BYTES + 1);
	memset(buf, '#', PLAN_MAX_BYTES);
	ck_assert_int_eq(write(fd, buf, PLAN_MAX_BYTES + 1), PLAN_MAX_BYTES + 1);
	close(fd);
	plan_diags_init(&d);
	ck_assert_ptr_null(plan_file_load_path(path, NULL, &d));
	ck_assert_uint_eq(d.n, 1);
	ck_assert_uint_eq(d.v[0].mark.line, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].message, "limit"));
	plan_diags_free(&d);
	unlink(path);

	/* From a buffer too. */
	plan_diags_init(&d);
	ck_assert_ptr_null(plan_file_load_buffer("big", buf, PLAN_MAX_BYTES + 1,
	    NULL, &d));
	ck_assert_str_eq(d.v[0].file, "big");
	plan_diags_free(&d);
	free(buf);
}
END_TEST

START_TEST(buffer_name_in_errors)
{
	struct plan_diags	 d;
	static const char	 text[] = "version: 1\nname: t\n";

	plan_diags_init(&d);
	ck_assert_ptr_null(plan_file_load_buffer("posted-plan", text,
	    sizeof text - 1, NULL, &d));
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0].file, "posted-plan");
	ck_assert_ptr_nonnull(strstr(d.v[0].message, "missing required key `steps`"));
	plan_diags_free(&d);
}
END_TEST

START_TEST(seed_and_version)
{
	json_t	*o = plan_json("version: 1\nname: t\nseed: 9223372036854775807\n"
	    "target: {backend: local}\nsteps: [wait: 1s]\n");

	ck_jint(o, "seed", 9223372036854775807LL);
	json_decref(o);
	ck_plan_error("version: 1\nname: t\nseed: 9223372036854775808\n"
	    "target: {backend: local}\nsteps: [wait: 1s]\n", 3, 7, "between");
	ck_plan_error("version: 2\nname: t\n", 1, 10, "version 2 is not supported");
	ck_plan_error("name: t\ntarget: {backend: local}\nsteps: [wait: 1s]\n",
	    1, 1, "missing required key `version`");
}
END_TEST

START_TEST(demand_multiplies)
{
	/* repeat multiplies, random counts its largest choice every time. */
	ck_plan_error("version: 1\nname: t\ntarget: {backend: local, cpus: "
	    "{boot: 1, max: 4}}\nsteps:\n"
	    "  - repeat: {times: 2, steps: [hot_add: {cpu: 2}]}\n", 4, 1,
	    "can hot-add 4 CPUs");
	ck_plan_error("version: 1\nname: t\ntarget: {backend: local, cpus: "
	    "{boot: 1, max: 4}}\nsteps:\n"
	    "  - random: {interval: 1s, times: 4, choose: [wait: 1s, "
	    "hot_add: {cpu: 1}]}\n", 4, 1, "can hot-add 4 CPUs");
	ck_plan_error("version: 1\nname: t\ntarget: {backend: qemu, memory: "
	    "{boot: 512MiB, slots: 1, max: 4GiB}}\nsteps:\n"
	    "  - repeat: {times: 2, steps: [hot_add: {memory: 128MiB}]}\n", 4, 1,
	    "2 DIMMs");
	/* Saturates rather than wrapping round to a small number. */
	ck_plan_error("version: 1\nname: t\ntarget: {backend: local}\nsteps:\n"
	    "  - repeat: {times: 1000000, steps: [repeat: {times: 1000000, "
	    "steps: [repeat: {times: 1000000, steps: [repeat: {times: 1000000, "
	    "steps: [hot_add: {cpu: 1024}]}]}]}]}\n", 4, 1, "can hot-add");
}
END_TEST

/* hot_add io_bridge: defaults resolved, and the rules a user would trip on. */
START_TEST(io_bridge_step)
{
	static const char	 head[] = "version: 1\nname: t\n"
	    "target: {backend: qemu, cpus: {boot: 1, max: 2}}\n"
	    "workload: {io: {size: 16MiB}}\nsteps:\n";
	char			 text[512];
	json_t			*o;

	snprintf(text, sizeof text, "%s  - hot_add: {io_bridge: {}}\n"
	    "  - hot_add: {io_bridge: {disk_size: 32MiB}}\n"
	    "  - hot_add:\n      io_bridge: {disk_size: 128MiB, io_size: 4MiB}\n"
	    "  - hot_add: {cpu: 1}\n", head);
	o = plan_json(text);
	ck_jstr(o, "steps.0.hot_add.io_bridge.disk_size", "64MiB");
	ck_jstr(o, "steps.0.hot_add.io_bridge.io_size", "64MiB");
	ck_jstr(o, "steps.1.hot_add.io_bridge.io_size", "32MiB");
	ck_jstr(o, "steps.2.hot_add.io_bridge.disk_size", "128MiB");
	ck_jstr(o, "steps.2.hot_add.io_bridge.io_size", "4MiB");
	/* A CPU step says nothing of bridges. */
	ck_assert_ptr_null(json_object_get(jpath(o, "steps.3.hot_add"),
	    "io_bridge"));
	json_decref(o);

	ck_plan_error("version: 1\nname: t\ntarget: {backend: local}\nsteps:\n"
	    "  - hot_add: {io_bridge: {}}\n", 5, 26, "needs target.backend qemu; "
	    "the local backend cannot hot-add an I/O bridge");
	ck_plan_error("version: 1\nname: t\ntarget: {backend: libvirt, libvirt: "
	    "{domain: d}}\nagent: {channel: \"unix:/a.sock\"}\n"
	    "workload: {io: {path: /dev/vdb}}\nsteps:\n"
	    "  - hot_add: {io_bridge: {}}\n", 7, 26, "the libvirt backend cannot");
	snprintf(text, sizeof text, "%s  - hot_add: {io_bridge: {disk_sise: "
	    "1GiB}}\n", head);
	ck_plan_error(text, 6, 27, "did you mean `disk_size`?");
	snprintf(text, sizeof text, "%s  - hot_add: {io_bridge: {disk_size: "
	    "512KiB}}\n", head);
	ck_plan_error(text, 6, 38, "`hot_add.io_bridge.disk_size` must be between "
	    "1MiB and 1TiB");
	snprintf(text, sizeof text, "%s  - hot_add: {io_bridge: {disk_size: "
	    "2MiB, io_size: 6KiB}}\n", head);
	ck_plan_error(text, 6, 53, "io_size must be a multiple of "
	    "workload.io.block_size (4KiB)");
	snprintf(text, sizeof text, "%s  - hot_add: {memory: 128MiB, io_bridge: "
	    "{}}\n", head);
	ck_plan_error(text, 6, 42, "hot_add takes one of `cpu`, `memory` and "
	    "`io_bridge`");
	snprintf(text, sizeof text, "%s  - hot_add: {io_bridge: 64MiB}\n", head);
	ck_plan_error(text, 6, 26, "`hot_add.io_bridge` must be a mapping");
}
END_TEST

START_TEST(inject_step)
{
	static const char	 qemu[] = "version: 1\nname: t\n"
	    "target: {backend: qemu}\nsteps:\n  - wait: 1s\n  - name: crash\n"
	    "    inject: {fault: panic}\n";
	struct plan_diags	 d;
	struct plan_file	*pf;
	const struct plan_step	*st;
	json_t			*o;

	plan_diags_init(&d);
	pf = test_load(qemu, &d);
	ck_assert_ptr_nonnull(pf);
	ck_assert_uint_eq(pf->plan->steps.n, 2);
	st = &pf->plan->steps.v[1];
	ck_assert_ptr_eq(step_find("inject"), &step_inject);
	ck_assert_ptr_eq(st->entry, &step_inject);
	ck_assert_str_eq(st->name, "crash");
	ck_assert_uint_eq(st->mark.line, 7);
	plan_file_free(pf);
	plan_diags_free(&d);
	o = plan_json(qemu);
	ck_jstr(o, "steps.1.inject.fault", "panic");
	ck_jstr(o, "steps.1.name", "crash");
	json_decref(o);

	/* The local backend's "guest" is this host: refused, nested too. */
	ck_plan_error("version: 1\nname: t\ntarget: {backend: local}\nsteps:\n"
	    "  - inject: {fault: panic}\n", 5, 21, "inject: panic would crash "
	    "this host's kernel; it needs a guest");
	ck_plan_error("version: 1\nname: t\nsteps:\n  - wait: 1s\n"
	    "  - inject: {fault: panic}\n", 5, 21, "this host's kernel");
	ck_plan_error("version: 1\nname: t\ntarget: {backend: local}\nsteps:\n"
	    "  - repeat: {times: 2, steps: [inject: {fault: panic}]}\n", 5, 48,
	    "this host's kernel");
	ck_plan_error("version: 1\nname: t\ntarget: {backend: qemu}\nsteps:\n"
	    "  - inject: {fault: panik}\n", 5, 21, "did you mean `panic`?");
	ck_plan_error("version: 1\nname: t\ntarget: {backend: qemu}\nsteps:\n"
	    "  - inject: {}\n", 5, 13, "missing required key `fault` in inject");
	ck_plan_error("version: 1\nname: t\ntarget: {backend: qemu}\nsteps:\n"
	    "  - inject: panic\n", 5, 13, "must be a mapping");

	/* A target in error is reported once, not again by the step. */
	plan_diags_init(&d);
	ck_assert_ptr_null(test_load("version: 1\nname: t\n"
	    "target: {backend: lokal}\nsteps:\n  - inject: {fault: panic}\n", &d));
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].message, "did you mean `local`?"));
	plan_diags_free(&d);
}
END_TEST

START_TEST(campaign_checks_its_plans)
{
	char			 dir[] = "/tmp/hotsoak-camp.XXXXXX", path[256];
	struct plan_load_opts	 opts;
	struct plan_diags	 d;
	struct plan_file	*pf;
	FILE			*f;
	static const char	 good[] = "version: 1\nkind: campaign\n"
	    "name: c\nplans: [good.yaml]\nschedule: '@nightly'\n";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/good.yaml", dir);
	f = fopen(path, "w");
	fputs(MINIMAL, f);
	fclose(f);
	snprintf(path, sizeof path, "%s/bad.yaml", dir);
	f = fopen(path, "w");
	fputs("version: 1\nname: bad\ntarget: {backend: local}\nsteps: []\n", f);
	fclose(f);

	opts.base_dir = dir;
	plan_diags_init(&d);
	pf = plan_file_load_buffer("c.yaml", good, sizeof good - 1, &opts, &d);
	ck_assert_ptr_nonnull(pf);
	ck_assert_int_eq(pf->kind, PLAN_FILE_CAMPAIGN);
	ck_assert_uint_eq(pf->campaign->n_plans, 1);
	ck_assert_uint_eq(pf->campaign->repeat, 1);
	ck_assert_uint_eq(pf->campaign->cron.hours, 1U << 2);
	plan_file_free(pf);

	/* The campaign's error first, then the plan's under its own name. */
	static const char bad[] = "version: 1\nkind: campaign\nname: c\n"
	    "plans: [bad.yaml, missing.yaml]\nparallel: 0\n";
	ck_assert_ptr_null(plan_file_load_buffer("c.yaml", bad, sizeof bad - 1,
	    &opts, &d));
	ck_assert_uint_eq(d.n, 5);
	ck_assert_str_eq(d.v[0].file, "c.yaml");
	ck_assert_uint_eq(d.v[0].mark.column, 9);
	ck_assert_ptr_nonnull(strstr(d.v[0].message, "bad.yaml"));
	ck_assert_ptr_nonnull(strstr(d.v[1].message, "missing.yaml"));
	ck_assert_uint_eq(d.v[2].mark.line, 5);
	ck_assert_ptr_nonnull(strstr(d.v[3].file, "bad.yaml"));
	ck_assert_ptr_nonnull(strstr(d.v[3].message, "steps"));
	ck_assert_ptr_nonnull(strstr(d.v[4].file, "missing.yaml"));
	plan_diags_free(&d);

	snprintf(path, sizeof path, "%s/good.yaml", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/bad.yaml", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(campaign_names_and_schedule)
{
	ck_plan_error("version: 1\nkind: campaign\nname: c\nplans: [../x.yaml]\n",
	    4, 9, "must not leave");
	ck_plan_error("version: 1\nkind: campaign\nname: c\nplans: [/etc/x]\n",
	    4, 9, "relative");
	ck_plan_error("version: 1\nkind: campaign\nname: c\nplans: [a, a]\n",
	    4, 12, "listed twice");
	ck_plan_error("version: 1\nkind: campaign\nname: c\nplans: [a]\n"
	    "schedule: 61 * * * *\n", 5, 11, "minute");
	ck_plan_error("version: 1\nkind: campaign\nname: c\nplans: [a]\n"
	    "schedule: \"0 0 30 2 *\"\n", 5, 11, "never fires");
	ck_plan_error("version: 1\nkind: campain\nname: c\n", 2, 7,
	    "did you mean `campaign`?");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("plan");
	TCase	*tc = tcase_create("load");

	tcase_add_test(tc, shipped_plans_load);
	tcase_add_test(tc, model_of_local_soak);
	tcase_add_test(tc, defaults_filled_in);
	tcase_add_test(tc, steps_to_json);
	tcase_add_test(tc, print_round_trips);
	tcase_add_test(tc, errors_located);
	tcase_add_test(tc, all_errors_in_file_order);
	tcase_add_test(tc, too_many_errors_capped);
	tcase_add_test(tc, billion_laughs_fails_fast);
	tcase_add_test(tc, nesting_limit);
	tcase_add_test(tc, node_limit);
	tcase_add_test(tc, size_limit);
	tcase_add_test(tc, buffer_name_in_errors);
	tcase_add_test(tc, seed_and_version);
	tcase_add_test(tc, demand_multiplies);
	tcase_add_test(tc, inject_step);
	tcase_add_test(tc, io_bridge_step);
	tcase_add_test(tc, campaign_checks_its_plans);
	tcase_add_test(tc, campaign_names_and_schedule);
	suite_add_tcase(s, tc);
	return test_run(s);
}
