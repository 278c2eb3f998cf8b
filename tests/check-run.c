/* check-run.c: the run state machine against a fake backend and a scripted
 * agent on the run's own socket: verdicts, steps, timeline, seeds, aborts. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>

#include "hotsoak/backend.h"
#include "hotsoak/proto.h"
#include "hotsoak/util.h"
#include "common.h"
#include "log.h"
#include "run.h"
#include "store.h"

/* How the fake partition behaves in one test. */
struct script {
	bool		 start_fails;	/* backend start reports an error */
	bool		 no_connect;	/* the agent never dials */
	bool		 deaf_to_cpus;	/* hot-added CPUs never show in the topology */
	bool		 crash_on_replace; /* the partition crashes when held */
	bool		 crash_refused;	/* the agent answers crash with failed */
	bool		 crash_unanswered; /* the guest dies before its reply leaves */
	uint64_t	 corrupt_after;	/* reports before a corruption finding; 0: never */
	uint64_t	 verified_per_report;
	bool		 target_missing; /* add_target finds no disk with the serial */
	unsigned	 targets;	/* add_target requests answered with a disk */
	char		 target_serial[64]; /* the last one asked for */
};

static struct script	 script;
static int		 starts;	/* backend starts seen: one per pass */

struct fake_backend;

struct fake_agent {
	struct fake_backend	*fb;
	struct bufferevent	*bev;
	struct proto_reader	 rd;
	struct event		*tick;
	uint64_t		 next_id;
	uint64_t		 seq;
	uint64_t		 verified;
	bool			 running, held;
	unsigned		 cpus;
	uint64_t		 memory;
	uint64_t		 reports;
};

struct fake_backend {
	struct backend		 b;
	struct backend_env	 env;
	struct fake_agent	*agent;
	unsigned		 cpus;
	uint64_t		 memory;
	char			 io[256];
	/* Timers die with the backend: a run may end before they fire. */
	struct event		*notice;	/* the guest sees a hot-add */
	struct event		*panic;		/* the guest's crash is reported */
};

/* A deferred callback, as the backend contract wants. */
struct later {
	backend_done_cb	 cb;
	void		*arg;
	int		 error;
	const char	*cause;
	json_t		*result;	/* NULL: an empty object */
};

static void
later_fire(evutil_socket_t fd, short what, void *arg)
{
	struct later	*l = arg;
	json_t		*r = l->result != NULL ? l->result : json_object();

	l->cb(l->arg, l->error, l->cause, l->error ? NULL : r);
	json_decref(r);
	free(l);
}

static void
later(struct fake_backend *fb, backend_done_cb cb, void *arg, int error,
    const char *cause)
{
	struct later	*l = calloc(1, sizeof *l);

	ck_assert_ptr_nonnull(l);
	l->cb = cb;
	l->arg = arg;
	l->error = error;
	l->cause = cause;
	ck_assert_int_eq(event_base_once(fb->env.base, -1, EV_TIMEOUT,
	    later_fire, l, NULL), 0);
}

static void
agent_send(struct fake_agent *a, char *line)
{
	ck_assert_ptr_nonnull(line);
	bufferevent_write(a->bev, line, strlen(line));
	free(line);
}

static void
agent_request(struct fake_agent *a, enum proto_type t, json_t *fields)
{
	agent_send(a, proto_encode(t, ++a->next_id, 0, fields, NULL));
}

static json_t *
agent_topology(const struct fake_agent *a)
{
	return json_pack("{sI s{sI} s{sI sI}}", "time_ns",
	    (json_int_t)clock_wall_ns(), "cpus", "online", (json_int_t)a->cpus,
	    "memory", "online_bytes", (json_int_t)a->memory,
	    "block_size", (json_int_t)(128 << 20));
}

static json_t *
agent_counters(const struct fake_agent *a)
{
	return json_pack("{sI sI sI sI sI sI sI sI sI}", "ios",
	    (json_int_t)a->verified * 2, "reads", (json_int_t)a->verified,
	    "writes", (json_int_t)a->verified, "bytes_read",
	    (json_int_t)a->verified * 4096, "bytes_written",
	    (json_int_t)a->verified * 4096, "blocks_verified",
	    (json_int_t)a->verified, "errors", 0, "timeouts", 0,
	    "corruptions", 0);
}

static json_t *
agent_latency(void)
{
	return json_pack("{sI sI sI sI sI sI}", "count", 10, "p50_ns", 100000,
	    "p90_ns", 200000, "p99_ns", 300000, "p999_ns", 400000,
	    "max_ns", 500000);
}

/* Heartbeats and reports while running, nothing while held. */
static void
agent_tick(evutil_socket_t fd, short what, void *arg)
{
	struct fake_agent	*a = arg;

	if (a->held)
		return;
	agent_send(a, proto_encode(PROTO_HEARTBEAT, 0, 0, json_pack(
	    "{sI sI ss}", "seq", (json_int_t)++a->seq, "uptime_ms", 1,
	    "state", a->running ? "running" : "idle"), NULL));
	if (!a->running)
		return;
	a->verified += script.verified_per_report;
	a->reports++;
	agent_request(a, PROTO_REPORT, json_pack("{sI sI so so so}", "seq",
	    (json_int_t)a->reports, "interval_ms", 50, "counters",
	    agent_counters(a), "totals", agent_counters(a), "latency",
	    agent_latency()));
	if (script.corrupt_after != 0 && a->reports == script.corrupt_after)
		agent_request(a, PROTO_FINDING, json_pack("{ss ss sI s{sI ss}}",
		    "kind", "corruption", "title", "block at 8192 reads stale",
		    "time_ns", (json_int_t)clock_wall_ns(), "detail", "offset",
		    (json_int_t)8192, "class", "stale"));
}

/* The fake backend's timers (below): a hot-add seen, a panic reported. */
static void notice(evutil_socket_t, short, void *);
static void guest_panicked(evutil_socket_t, short, void *);
/* Past the plans' hang_after, so a silence the run watched would be a hang. */
static const struct timeval panic_after = { 2, 500000 };

static int
agent_on_msg(void *arg, const struct proto_msg *m)
{
	struct fake_agent	*a = arg;
	json_t			*r = NULL;

	switch (m->type) {
	case PROTO_START:
		a->running = true;
		r = json_pack("{ss sI}", "run_id", "0x0000000000000001",
		    "workers", 1);
		break;
	case PROTO_STOP:
		a->running = false;
		r = json_pack("{so so}", "counters", agent_counters(a),
		    "latency", agent_latency());
		break;
	case PROTO_GET_TOPOLOGY:
		r = agent_topology(a);
		json_object_del(r, "type");
		break;
	case PROTO_QUIESCE:
		r = json_pack("{sI sI}", "drained_ms", 1, "inflight_at_start", 3);
		break;
	case PROTO_RESUME:
		r = json_pack("{ss}", "state", "running");
		break;
	case PROTO_CONFIGURE:
		ck_assert(json_is_object(json_object_get(m->obj, "workload")));
		r = json_object();
		break;
	case PROTO_ADD_TARGET:
		snprintf(script.target_serial, sizeof script.target_serial, "%s",
		    json_string_value(json_object_get(m->obj, "serial")));
		if (script.target_missing) {
			agent_send(a, proto_encode_error(m->id, PROTO_E_FAILED,
			    "no block device with serial `hotsoak-io1` appeared "
			    "within 30000 ms (serials seen: vda=(none))", NULL));
			return 0;
		}
		script.targets++;
		r = json_pack("{ss sO sI sI si sO}", "path", "/dev/vdb", "serial",
		    json_object_get(m->obj, "serial"), "found_ms", 40, "fill_ms", 5,
		    "workers", 1, "size", json_object_get(m->obj, "size"));
		break;
	case PROTO_CRASH:
		if (script.crash_refused) {
			agent_send(a, proto_encode_error(m->id, PROTO_E_FAILED,
			    "/proc/sysrq-trigger: No such file or directory", NULL));
			return 0;
		}
		evtimer_add(a->fb->panic, &panic_after);
		a->held = true;
		if (script.crash_unanswered)
			return 0;
		r = json_pack("{ss}", "method", "sysrq");
		break;
	default:
		return 0;	/* replies to our own requests */
	}
	agent_send(a, proto_encode_reply(m->id, r, NULL));
	return 0;
}

static int
agent_on_bad(void *arg, const struct proto_bad *b)
{
	ck_abort_msg("the daemon sent a bad line: %s %s", b->code, b->detail);
	return 0;
}

static const struct proto_handler agent_handler = { agent_on_msg, agent_on_bad };

static void
agent_read(struct bufferevent *bev, void *arg)
{
	struct fake_agent	*a = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	size_t			 n;

	while ((n = evbuffer_get_length(in)) != 0) {
		n = n > 4096 ? 4096 : n;
		proto_reader_feed(&a->rd, evbuffer_pullup(in, (ev_ssize_t)n), n,
		    &agent_handler, a);
		evbuffer_drain(in, n);
	}
}

static void
agent_free(struct fake_agent *a)
{
	if (a == NULL)
		return;
	event_free(a->tick);
	bufferevent_free(a->bev);
	proto_reader_free(&a->rd);
	free(a);
}

/* Dials the run's socket and says hello with the run's token. */
static struct fake_agent *
agent_new(struct fake_backend *fb)
{
	struct fake_agent	*a = calloc(1, sizeof *a);
	struct sockaddr_un	 sun;
	struct timeval		 tv = { 0, 50000 };
	char			 token[128] = "";
	FILE			*f;
	int			 fd;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(f = fopen(fb->env.token_file, "r"));
	ck_assert_ptr_nonnull(fgets(token, sizeof token, f));
	fclose(f);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert(strncmp(fb->env.agent_channel, "unix:", 5) == 0);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s",
	    fb->env.agent_channel + 5);
	ck_assert_int_ne(fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), -1);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	evutil_make_socket_nonblocking(fd);
	a->bev = bufferevent_socket_new(fb->env.base, fd, BEV_OPT_CLOSE_ON_FREE);
	proto_reader_init(&a->rd, PROTO_SIDE_AGENT);
	bufferevent_setcb(a->bev, agent_read, NULL, NULL, a);
	bufferevent_enable(a->bev, EV_READ);
	a->fb = fb;
	a->cpus = fb->cpus;
	a->memory = fb->memory;
	agent_request(a, PROTO_HELLO, json_pack("{sI ss ss ss ss sI sb sI}",
	    "version", 1, "token", token, "agent", "fake-agent 1", "hostname",
	    "fake", "boot_id", "b00t", "pid", (json_int_t)(1000 + starts),
	    "resumed", 0, "outbox", 0));
	a->tick = event_new(fb->env.base, -1, EV_PERSIST, agent_tick, a);
	evtimer_add(a->tick, &tv);
	return a;
}

static struct backend *
fake_create(const struct backend_env *env, char **cause)
{
	struct fake_backend	*fb = calloc(1, sizeof *fb);

	ck_assert_ptr_nonnull(fb);
	fb->env = *env;
	snprintf(fb->io, sizeof fb->io, "%s/disk.img", env->run_dir);
	ck_assert_ptr_nonnull(fb->notice = evtimer_new(env->base, notice, fb));
	ck_assert_ptr_nonnull(fb->panic = evtimer_new(env->base, guest_panicked,
	    fb));
	return &fb->b;
}

static void
fake_start(struct backend *b, backend_done_cb cb, void *arg)
{
	struct fake_backend	*fb = (struct fake_backend *)b;

	starts++;
	fb->cpus = fb->env.plan->target.cpus_boot;
	fb->memory = fb->env.plan->target.memory_boot;
	if (script.start_fails) {
		later(fb, cb, arg, -1, "no such partition");
		return;
	}
	if (!script.no_connect)
		fb->agent = agent_new(fb);
	later(fb, cb, arg, 0, NULL);
}

static void
fake_stop(struct backend *b, backend_done_cb cb, void *arg)
{
	struct fake_backend	*fb = (struct fake_backend *)b;

	agent_free(fb->agent);
	fb->agent = NULL;
	later(fb, cb, arg, 0, NULL);
}

/* The guest notices a hot-add a little later, unless told to be deaf. */
static void
notice(evutil_socket_t fd, short what, void *arg)
{
	struct fake_backend	*fb = arg;

	if (fb->agent == NULL)
		return;
	if (!script.deaf_to_cpus)
		fb->agent->cpus = fb->cpus;
	fb->agent->memory = fb->memory;
	agent_request(fb->agent, PROTO_TOPOLOGY, agent_topology(fb->agent));
}

static void
fake_hot_add_cpu(struct backend *b, unsigned n, backend_done_cb cb, void *arg)
{
	struct fake_backend	*fb = (struct fake_backend *)b;
	struct timeval		 tv = { 0, 30000 };

	fb->cpus += n;
	evtimer_add(fb->notice, &tv);
	later(fb, cb, arg, 0, NULL);
}

static void
fake_hot_add_memory(struct backend *b, uint64_t bytes, backend_done_cb cb,
    void *arg)
{
	struct fake_backend	*fb = (struct fake_backend *)b;
	struct timeval		 tv = { 0, 30000 };

	fb->memory += bytes;
	evtimer_add(fb->notice, &tv);
	later(fb, cb, arg, 0, NULL);
}

/* A bridge with a disk behind it, named as the qemu backend names them. */
static void
fake_hot_add_io_bridge(struct backend *b, uint64_t disk_size,
    backend_done_cb cb, void *arg)
{
	struct fake_backend	*fb = (struct fake_backend *)b;
	struct later		*l = calloc(1, sizeof *l);

	ck_assert_ptr_nonnull(l);
	l->cb = cb;
	l->arg = arg;
	l->result = json_pack("{ss ss ss sI}", "bridge", "hotsoak-br1", "disk",
	    "hotsoak-vblk-io1", "serial", "hotsoak-io1", "size",
	    (json_int_t)disk_size);
	ck_assert_int_eq(event_base_once(fb->env.base, -1, EV_TIMEOUT,
	    later_fire, l, NULL), 0);
}

static void
fake_replace_begin(struct backend *b, backend_done_cb cb, void *arg)
{
	struct fake_backend	*fb = (struct fake_backend *)b;

	if (fb->agent != NULL)
		fb->agent->held = true;
	if (script.crash_on_replace)
		fb->env.hooks.event(fb->env.hooks.arg, BACKEND_EV_CRASH,
		    "hotsoak-agent was killed by signal 9 (SIGKILL)",
		    json_pack("{si}", "signal", 9));
	later(fb, cb, arg, 0, NULL);
}

static void
fake_replace_end(struct backend *b, backend_done_cb cb, void *arg)
{
	struct fake_backend	*fb = (struct fake_backend *)b;

	if (fb->agent != NULL)
		fb->agent->held = false;
	later(fb, cb, arg, 0, NULL);
}

/* What QEMU's GUEST_PANICKED becomes: the run's bugcheck. */
static void
guest_panicked(evutil_socket_t fd, short what, void *arg)
{
	struct fake_backend	*fb = arg;

	fb->env.hooks.event(fb->env.hooks.arg, BACKEND_EV_CRASH,
	    "the guest kernel panicked: sysrq triggered crash",
	    json_pack("{ss}", "source", "console"));
}

static int
fake_topology(struct backend *b, struct backend_topology *t, char **cause)
{
	struct fake_backend	*fb = (struct fake_backend *)b;

	t->cpus = fb->cpus;
	t->memory = fb->memory;
	return 0;
}

static const char *
fake_io_path(struct backend *b)
{
	return ((struct fake_backend *)b)->io;
}

static void
fake_free(struct backend *b)
{
	struct fake_backend	*fb = (struct fake_backend *)b;

	agent_free(fb->agent);
	event_free(fb->notice);
	event_free(fb->panic);
	free(fb);
}

static const struct backend_ops fake_ops = {
	.name = "fake",
	.create = fake_create,
	.start = fake_start,
	.stop = fake_stop,
	.hot_add_cpu = fake_hot_add_cpu,
	.hot_add_memory = fake_hot_add_memory,
	.replace_begin = fake_replace_begin,
	.replace_end = fake_replace_end,
	.topology = fake_topology,
	.io_path = fake_io_path,
	.free = fake_free,
	.hot_add_io_bridge = fake_hot_add_io_bridge,
};

/* The same backend without the optional I/O bridge op. */
static const struct backend_ops fake_ops_no_bridge = {
	.name = "fake",
	.create = fake_create,
	.start = fake_start,
	.stop = fake_stop,
	.hot_add_cpu = fake_hot_add_cpu,
	.hot_add_memory = fake_hot_add_memory,
	.replace_begin = fake_replace_begin,
	.replace_end = fake_replace_end,
	.topology = fake_topology,
	.io_path = fake_io_path,
	.free = fake_free,
};

/* The ops the next harness_run uses. */
static const struct backend_ops *harness_ops = &fake_ops;

/* One run of text to its end; returns the stored run (caller decrefs). */
struct harness {
	struct event_base	*base;
	struct store		*store;
	char			 dir[64];
	struct run		*run;
	bool			 done;
	const char		*abort_after_step; /* unused: aborts use a timer */
};

static void
finished(void *arg, struct run *run)
{
	struct harness	*h = arg;

	h->done = true;
	event_base_loopbreak(h->base);
}

static void
harness_init(struct harness *h)
{
	char	*cause = NULL;

	memset(h, 0, sizeof *h);
	snprintf(h->dir, sizeof h->dir, "/tmp/check-run.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(h->dir));
	ck_assert_ptr_nonnull(h->base = event_base_new());
	h->store = store_open(h->dir, &cause);
	ck_assert_msg(h->store != NULL, "%s", cause);
}

static void
harness_free(struct harness *h)
{
	char	cmd[128];

	store_close(h->store);
	event_base_free(h->base);
	snprintf(cmd, sizeof cmd, "rm -rf %s", h->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
abort_fired(evutil_socket_t fd, short what, void *arg)
{
	run_abort(arg, "by the test");
}

/* Runs the plan; abort_ms nonzero aborts it then. Returns store_run_get. */
static json_t *
harness_run(struct harness *h, const char *text, uint64_t seed,
    unsigned abort_ms, int64_t *idp)
{
	struct plan_diags	 d;
	struct plan_file	*pf;
	struct store_run_new	 n;
	struct run_env		 env;
	struct timeval		 limit = { 20, 0 }, ab;
	char			*cause = NULL;
	int64_t			 id;
	json_t			*r;

	plan_diags_init(&d);
	pf = plan_file_load_buffer("t.yaml", text, strlen(text), NULL, &d);
	if (pf == NULL)
		plan_diags_print(&d, stderr);
	ck_assert_ptr_nonnull(pf);
	plan_diags_free(&d);
	memset(&n, 0, sizeof n);
	n.plan = "t";
	n.source = "t.yaml";
	n.plan_text = text;
	n.plan_json = "{}";
	n.seed = seed;
	n.backend = "fake";
	n.created_ns = clock_wall_ns();
	ck_assert_int_eq(store_run_create(h->store, &n, &id, &cause), 0);
	memset(&env, 0, sizeof env);
	env.base = h->base;
	env.store = h->store;
	env.state_dir = h->dir;
	env.agent_binary = "/nonexistent";
	env.backend_ops = harness_ops;
	env.finished = finished;
	env.arg = h;
	h->run = run_new(&env, pf, id, seed, &cause);
	ck_assert_msg(h->run != NULL, "%s", cause);
	run_start(h->run);
	if (abort_ms != 0) {
		ab.tv_sec = abort_ms / 1000;
		ab.tv_usec = (abort_ms % 1000) * 1000;
		event_base_once(h->base, -1, EV_TIMEOUT, abort_fired, h->run, &ab);
	}
	event_base_loopexit(h->base, &limit);
	event_base_dispatch(h->base);
	ck_assert_msg(h->done, "the run did not finish within 20 s");
	run_free(h->run);
	/* Let deferred callbacks of the freed run's parts drain. */
	event_base_loop(h->base, EVLOOP_NONBLOCK);
	r = store_run_get(h->store, id, &cause);
	ck_assert_ptr_nonnull(r);
	if (idp != NULL)
		*idp = id;
	return r;
}

#define PLAN_HEAD \
	"version: 1\nname: t\nseed: 7\n" \
	"target:\n  backend: local\n  cpus: { boot: 1, max: 4 }\n" \
	"  memory: { boot: 256MiB, max: 1GiB }\n" \
	"agent: { heartbeat: 20ms, hang_after: 2s, connect_timeout: 1s }\n" \
	"workload:\n  io: { size: 1MiB, io_timeout: 5s }\n"

static const char *
verdict(json_t *r)
{
	return json_string_value(json_object_get(r, "verdict"));
}

static json_int_t
by_kind(json_t *r, const char *kind)
{
	return json_integer_value(json_object_get(json_object_get(
	    json_object_get(r, "findings"), "by_kind"), kind));
}

/* Whether the run's timeline has an event of kind. */
static bool
has_event(struct harness *h, int64_t id, const char *kind)
{
	json_t	*l, *e;
	char	*cause = NULL;
	size_t	 i;
	bool	 found = false;

	ck_assert_ptr_nonnull(l = store_events_list(h->store, id, 0, 500, &cause));
	json_array_foreach(json_object_get(l, "events"), i, e)
		if (strcmp(json_string_value(json_object_get(e, "kind")), kind) == 0)
			found = true;
	json_decref(l);
	return found;
}

START_TEST(pass_with_hot_adds_and_replace)
{
	struct harness	 h;
	json_t		*r, *steps;
	int64_t		 id;

	memset(&script, 0, sizeof script);
	script.verified_per_report = 100;
	harness_init(&h);
	r = harness_run(&h, PLAN_HEAD "steps:\n  - wait: 100ms\n"
	    "  - hot_add: { cpu: 1 }\n"
	    "  - expect: { guest_cpus: 2, within: 2s }\n"
	    "  - hot_add: { memory: 128MiB }\n"
	    "  - expect: { guest_memory_at_least: 384MiB, within: 2s }\n"
	    "  - hot_replace: { unit: memory, outage: 200ms }\n"
	    "  - hot_replace: { unit: cpu, outage: 100ms, method: quiesce }\n",
	    7, 0, &id);
	ck_assert_msg(strcmp(verdict(r), "pass") == 0, "verdict %s: %s",
	    verdict(r), json_string_value(json_object_get(r, "reason")));
	steps = json_object_get(r, "steps");
	ck_assert_int_eq(json_array_size(steps), 7);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(steps,
	    5), "outcome")), "done");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r,
	    "fault_ops"), "hot_replace")), 2);
	ck_assert_int_eq(json_array_size(json_object_get(r,
	    "hot_add_latency_ms")), 2);
	ck_assert(json_integer_value(json_object_get(json_object_get(r,
	    "counters"), "blocks_verified")) > 0);
	ck_assert(has_event(&h, id, "hot_add"));
	ck_assert(has_event(&h, id, "hot_add_seen"));
	ck_assert(has_event(&h, id, "replace"));
	/* The hold silenced heartbeats, which is no hang. */
	ck_assert_int_eq(by_kind(r, "hang"), 0);
	json_decref(r);
	harness_free(&h);
}
END_TEST

START_TEST(expect_that_never_holds_fails)
{
	struct harness	 h;
	json_t		*r;

	memset(&script, 0, sizeof script);
	script.verified_per_report = 100;
	script.deaf_to_cpus = true;
	harness_init(&h);
	r = harness_run(&h, PLAN_HEAD "steps:\n  - hot_add: { cpu: 1 }\n"
	    "  - expect: { guest_cpus: 2, within: 400ms }\n", 7, 0, NULL);
	ck_assert_str_eq(verdict(r), "fail");
	ck_assert_int_eq(by_kind(r, "expect_failed"), 1);
	json_decref(r);
	harness_free(&h);
}

END_TEST

START_TEST(no_fault_is_no_pass)
{
	struct harness	 h;
	json_t		*r;

	memset(&script, 0, sizeof script);
	script.verified_per_report = 100;
	harness_init(&h);
	r = harness_run(&h, PLAN_HEAD "steps:\n  - wait: 200ms\n", 7, 0, NULL);
	ck_assert_str_eq(verdict(r), "error");
	ck_assert(strstr(json_string_value(json_object_get(r, "reason")),
	    "no hot-add") != NULL);
	json_decref(r);
	harness_free(&h);
}
END_TEST

START_TEST(no_verified_block_is_no_pass)
{
	struct harness	 h;
	json_t		*r;

	memset(&script, 0, sizeof script);
	harness_init(&h);
	r = harness_run(&h, PLAN_HEAD "steps:\n  - hot_add: { cpu: 1 }\n", 7, 0,
	    NULL);
	ck_assert_str_eq(verdict(r), "error");
	ck_assert(strstr(json_string_value(json_object_get(r, "reason")),
	    "verified no block") != NULL);
	json_decref(r);
	harness_free(&h);
}
END_TEST

START_TEST(agent_corruption_fails_with_step)
{
	struct harness	 h;
	json_t		*r, *l, *f;
	char		*cause = NULL;
	int64_t		 id;

	memset(&script, 0, sizeof script);
	script.verified_per_report = 100;
	script.corrupt_after = 2;
	harness_init(&h);
	r = harness_run(&h, PLAN_HEAD "steps:\n  - hot_add: { cpu: 1 }\n"
	    "  - name: soak\n    wait: 500ms\n", 7, 0, &id);
	ck_assert_str_eq(verdict(r), "fail");
	ck_assert_int_eq(by_kind(r, "corruption"), 1);
	l = store_findings_list(h.store, id, 0, 10, &cause);
	f = json_array_get(json_object_get(l, "findings"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(f, "source")), "agent");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(f,
	    "detail"), "offset")), 8192);
	ck_assert_ptr_nonnull(json_string_value(json_object_get(f, "step")));
	json_decref(l);
	json_decref(r);
	harness_free(&h);
}
END_TEST

START_TEST(crash_ends_the_run_as_fail)
{
	struct harness	 h;
	json_t		*r;

	memset(&script, 0, sizeof script);
	script.verified_per_report = 100;
	script.crash_on_replace = true;
	harness_init(&h);
	r = harness_run(&h, PLAN_HEAD "steps:\n  - hot_replace: { unit: cpu, "
	    "outage: 100ms }\n  - wait: 5s\n", 7, 0, NULL);
	ck_assert_str_eq(verdict(r), "fail");
	ck_assert_int_eq(by_kind(r, "bugcheck"), 1);
	/* The 5 s wait never ran: the run ended with the partition. */
	ck_assert(json_integer_value(json_object_get(r, "elapsed_ms")) < 4000);
	json_decref(r);
	harness_free(&h);
}
END_TEST

#define PLAN_HEAD_QEMU \
	"version: 1\nname: t\nseed: 7\n" \
	"target:\n  backend: qemu\n  cpus: { boot: 1, max: 4 }\n" \
	"  memory: { boot: 256MiB, max: 1GiB }\n" \
	"agent: { heartbeat: 20ms, hang_after: 2s, connect_timeout: 1s }\n" \
	"workload:\n  io: { size: 1MiB, io_timeout: 5s }\n"

/* The panic an inject step asks for is a bugcheck; silence meanwhile is not a hang. */
START_TEST(inject_panic_is_bugcheck)
{
	struct harness	 h;
	json_t		*r, *l, *steps;
	char		*cause = NULL;
	int64_t		 id;
	int		 unanswered;

	for (unanswered = 0; unanswered < 2; unanswered++) {
		memset(&script, 0, sizeof script);
		script.verified_per_report = 100;
		script.crash_unanswered = unanswered;
		harness_init(&h);
		r = harness_run(&h, PLAN_HEAD_QEMU "steps:\n  - wait: 100ms\n"
		    "  - inject: { fault: panic }\n  - wait: 5s\n", 7, 0, &id);
		ck_assert_msg(strcmp(verdict(r), "fail") == 0, "verdict %s: %s",
		    verdict(r), json_string_value(json_object_get(r, "reason")));
		ck_assert_int_eq(by_kind(r, "bugcheck"), 1);
		ck_assert_int_eq(by_kind(r, "hang"), 0);
		ck_assert_int_eq(by_kind(r, "expect_failed"), 0);
		ck_assert_int_eq(by_kind(r, "backend_error"), 0);
		ck_assert(has_event(&h, id, "inject"));
		/* The panic ended the run: the 5 s wait after it never ran. */
		steps = json_object_get(r, "steps");
		ck_assert_int_eq(json_array_size(steps), 2);
		ck_assert(json_integer_value(json_object_get(r, "elapsed_ms")) <
		    5000);
		l = store_findings_list(h.store, id, 0, 10, &cause);
		ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
		    json_object_get(l, "findings"), 0), "step")), "1 inject");
		json_decref(l);
		json_decref(r);
		harness_free(&h);
	}
}
END_TEST

START_TEST(inject_refused_is_error)
{
	struct harness	 h;
	json_t		*r;

	memset(&script, 0, sizeof script);
	script.verified_per_report = 100;
	script.crash_refused = true;
	harness_init(&h);
	r = harness_run(&h, PLAN_HEAD_QEMU "steps:\n  - inject: { fault: panic }\n"
	    "  - wait: 5s\n", 7, 0, NULL);
	ck_assert_str_eq(verdict(r), "error");
	ck_assert_int_eq(by_kind(r, "backend_error"), 1);
	ck_assert_int_eq(by_kind(r, "bugcheck"), 0);
	ck_assert(strstr(json_string_value(json_object_get(r, "reason")),
	    "inject panic: the agent refused: failed: /proc/sysrq-trigger") !=
	    NULL);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(r, "steps"), 0), "outcome")), "error");
	json_decref(r);
	harness_free(&h);
}
END_TEST

/* The detail of the run's first event of kind that has unit (a new reference). */
static json_t *
event_of(struct harness *h, int64_t id, const char *kind, const char *unit)
{
	json_t	*l, *e, *d, *found = NULL;
	char	*cause = NULL;
	size_t	 i;

	ck_assert_ptr_nonnull(l = store_events_list(h->store, id, 0, 500, &cause));
	json_array_foreach(json_object_get(l, "events"), i, e) {
		d = json_object_get(e, "detail");
		if (found == NULL && strcmp(json_string_value(json_object_get(e,
		    "kind")), kind) == 0 && json_is_string(json_object_get(d,
		    "unit")) && strcmp(json_string_value(json_object_get(d,
		    "unit")), unit) == 0)
			found = json_incref(d);
	}
	json_decref(l);
	ck_assert_msg(found != NULL, "no %s event for %s", kind, unit);
	return found;
}

/* An I/O bridge: the backend plugs it, the agent runs I/O on its disk. */
START_TEST(io_bridge_hot_add_passes)
{
	struct harness	 h;
	json_t		*r, *d;
	int64_t		 id;

	memset(&script, 0, sizeof script);
	script.verified_per_report = 100;
	harness_init(&h);
	r = harness_run(&h, PLAN_HEAD_QEMU "steps:\n  - wait: 100ms\n"
	    "  - hot_add: { io_bridge: { disk_size: 8MiB, io_size: 4MiB } }\n"
	    "  - wait: 100ms\n", 7, 0, &id);
	ck_assert_msg(strcmp(verdict(r), "pass") == 0, "verdict %s: %s",
	    verdict(r), json_string_value(json_object_get(r, "reason")));
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r,
	    "fault_ops"), "hot_add_io_bridge")), 1);
	ck_assert_int_eq(json_array_size(json_object_get(r,
	    "hot_add_latency_ms")), 1);
	/* The agent was asked for the serial the backend gave the disk. */
	ck_assert_uint_eq(script.targets, 1);
	ck_assert_str_eq(script.target_serial, "hotsoak-io1");
	d = event_of(&h, id, "hot_add", "io_bridge");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "disk_size")),
	    8 << 20);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "io_size")),
	    4 << 20);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(d,
	    "result"), "bridge")), "hotsoak-br1");
	json_decref(d);
	d = event_of(&h, id, "hot_add_seen", "io_bridge");
	ck_assert_str_eq(json_string_value(json_object_get(d, "path")),
	    "/dev/vdb");
	ck_assert_int_ge(json_integer_value(json_object_get(d, "found_ms")), 40);
	ck_assert_int_ge(json_integer_value(json_object_get(d, "latency_ms")),
	    json_integer_value(json_object_get(d, "found_ms")) - 40);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "size")),
	    4 << 20);
	json_decref(d);
	json_decref(r);
	harness_free(&h);
}
END_TEST

/* A backend without the op: the step fails, and says which backend. */
START_TEST(io_bridge_unsupported_is_error)
{
	struct harness	 h;
	json_t		*r;

	memset(&script, 0, sizeof script);
	script.verified_per_report = 100;
	harness_init(&h);
	harness_ops = &fake_ops_no_bridge;
	r = harness_run(&h, PLAN_HEAD_QEMU "steps:\n"
	    "  - hot_add: { io_bridge: {} }\n  - wait: 5s\n", 7, 0, NULL);
	harness_ops = &fake_ops;
	ck_assert_str_eq(verdict(r), "error");
	ck_assert(strstr(json_string_value(json_object_get(r, "reason")),
	    "backend fake cannot hot-add an I/O bridge") != NULL);
	ck_assert_uint_eq(script.targets, 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(r, "steps"), 0), "outcome")), "error");
	json_decref(r);
	harness_free(&h);
}
END_TEST

/* The guest never shows the disk: a backend_error finding, an error verdict. */
START_TEST(io_bridge_disk_not_found_is_error)
{
	struct harness	 h;
	json_t		*r;

	memset(&script, 0, sizeof script);
	script.verified_per_report = 100;
	script.target_missing = true;
	harness_init(&h);
	r = harness_run(&h, PLAN_HEAD_QEMU "steps:\n"
	    "  - hot_add: { io_bridge: {} }\n  - wait: 5s\n", 7, 0, NULL);
	ck_assert_str_eq(verdict(r), "error");
	ck_assert_int_eq(by_kind(r, "backend_error"), 1);
	ck_assert(strstr(json_string_value(json_object_get(r, "reason")),
	    "did not start I/O on the hot-added disk: failed: no block device "
	    "with serial `hotsoak-io1`") != NULL);
	json_decref(r);
	harness_free(&h);
}
END_TEST

START_TEST(abort_is_aborted)
{
	struct harness	 h;
	json_t		*r;

	memset(&script, 0, sizeof script);
	script.verified_per_report = 100;
	harness_init(&h);
	r = harness_run(&h, PLAN_HEAD "steps:\n  - hot_add: { cpu: 1 }\n"
	    "  - wait: 10s\n", 7, 300, NULL);
	ck_assert_str_eq(verdict(r), "aborted");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(r, "steps"), 1), "outcome")), "cancelled");
	json_decref(r);
	harness_free(&h);
}
END_TEST

START_TEST(start_failure_is_error)
{
	struct harness	 h;
	json_t		*r;

	memset(&script, 0, sizeof script);
	script.start_fails = true;
	harness_init(&h);
	r = harness_run(&h, PLAN_HEAD "steps:\n  - hot_add: { cpu: 1 }\n", 7, 0,
	    NULL);
	ck_assert_str_eq(verdict(r), "error");
	ck_assert(strstr(json_string_value(json_object_get(r, "reason")),
	    "no such partition") != NULL);
	json_decref(r);
	harness_free(&h);
}
END_TEST

START_TEST(silent_agent_is_error_in_time)
{
	struct harness	 h;
	json_t		*r;

	memset(&script, 0, sizeof script);
	script.no_connect = true;
	harness_init(&h);
	r = harness_run(&h, PLAN_HEAD "steps:\n  - hot_add: { cpu: 1 }\n", 7, 0,
	    NULL);
	ck_assert_str_eq(verdict(r), "error");
	ck_assert(strstr(json_string_value(json_object_get(r, "reason")),
	    "did not connect") != NULL);
	ck_assert(json_integer_value(json_object_get(r, "elapsed_ms")) < 3000);
	json_decref(r);
	harness_free(&h);
}
END_TEST

/* The order of random's choices, as step paths and actions. */
static char *
random_order(uint64_t seed)
{
	struct harness	 h;
	json_t		*r, *s;
	size_t		 i;
	char		*out = calloc(1, 4096);

	memset(&script, 0, sizeof script);
	script.verified_per_report = 100;
	harness_init(&h);
	r = harness_run(&h, PLAN_HEAD "steps:\n  - random:\n"
	    "      interval: 1ms..20ms\n      times: 12\n      choose:\n"
	    "        - wait: 1ms\n        - wait: 2ms\n"
	    "        - hot_replace: { unit: cpu, outage: 1ms }\n", seed, 0, NULL);
	json_array_foreach(json_object_get(r, "steps"), i, s) {
		strcat(out, json_string_value(json_object_get(s, "path")));
		strcat(out, " ");
	}
	json_decref(r);
	harness_free(&h);
	return out;
}

START_TEST(random_replays_from_its_seed)
{
	char	*a = random_order(42), *b = random_order(42), *c = random_order(43);

	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	/* 12 choices, each a path like "0[3].2" under the random step. */
	ck_assert(strstr(a, "0[12].") != NULL);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(repeat_paths_and_soak_passes)
{
	struct harness	 h;
	json_t		*r, *s;
	size_t		 i, inner = 0;
	int64_t		 id;

	memset(&script, 0, sizeof script);
	script.verified_per_report = 100;
	starts = 0;
	harness_init(&h);
	r = harness_run(&h, PLAN_HEAD "duration: 1s\nsteps:\n  - repeat:\n"
	    "      times: 2\n      steps:\n        - hot_add: { cpu: 1 }\n"
	    "        - wait: 50ms\n", 7, 0, &id);
	ck_assert_msg(strcmp(verdict(r), "pass") == 0, "%s",
	    json_string_value(json_object_get(r, "reason")));
	json_array_foreach(json_object_get(r, "steps"), i, s)
		if (strcmp(json_string_value(json_object_get(s, "path")),
		    "0[2].1") == 0)
			inner++;
	ck_assert(inner >= 2);	/* once per pass */
	/* Every pass starts the partition again, from its boot topology. */
	ck_assert(starts >= 2);
	ck_assert(json_integer_value(json_object_get(r, "passes")) >= 2);
	ck_assert(has_event(&h, id, "pass"));
	json_decref(r);
	harness_free(&h);
}
END_TEST

static Suite *
run_suite(void)
{
	Suite	*s = suite_create("run");
	TCase	*tc = tcase_create("engine");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pass_with_hot_adds_and_replace);
	tcase_add_test(tc, expect_that_never_holds_fails);
	tcase_add_test(tc, no_fault_is_no_pass);
	tcase_add_test(tc, no_verified_block_is_no_pass);
	tcase_add_test(tc, agent_corruption_fails_with_step);
	tcase_add_test(tc, crash_ends_the_run_as_fail);
	tcase_add_test(tc, inject_panic_is_bugcheck);
	tcase_add_test(tc, inject_refused_is_error);
	tcase_add_test(tc, io_bridge_hot_add_passes);
	tcase_add_test(tc, io_bridge_unsupported_is_error);
	tcase_add_test(tc, io_bridge_disk_not_found_is_error);
	tcase_add_test(tc, abort_is_aborted);
	tcase_add_test(tc, start_failure_is_error);
	tcase_add_test(tc, silent_agent_is_error_in_time);
	tcase_add_test(tc, random_replays_from_its_seed);
	tcase_add_test(tc, repeat_paths_and_soak_passes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	/* A fake agent writing to a run that just hung up must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	log_init("check-run", 0);
	return test_run(run_suite());
}
