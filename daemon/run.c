/* run.c: one run as an explicit state machine: partition up, agent linked
 * and configured, steps under the workload, final verify, verdict stored. */
#include "config.h"

#include <sys/stat.h>
#include <sys/random.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "hotsoak/util.h"
#include "log.h"
#include "run-int.h"
#include "step.h"
#include "store.h"

static void	run_drive(struct run *);
static void	run_end(struct run *);

static const char *const run_state_names[] = {
	"new", "starting", "connecting", "configuring", "loading", "stepping",
	"draining", "stopping", "done"
};

/* Time for the agent's start (a fill) and stop (a verify) of big targets. */
#define RUN_LOAD_TIMEOUT_MS	(30ULL * 60 * 1000)
#define RUN_CONFIGURE_TIMEOUT_MS 30000
/* A dropped channel is judged after this, so a crash report can explain it. */
#define RUN_DOWN_GRACE_MS	1000
/* Summaries are written at most this often while reports stream in. */
#define RUN_SUMMARY_EVERY_NS	(1000ULL * 1000 * 1000)

int64_t
run_id(const struct run *run)
{
	return run->id;
}

const char *
run_verdict(const struct run *run)
{
	return run->verdict;
}

/* The step label of the timeline and findings, NULL outside a step. */
static const char *
run_step_label(const struct run *run)
{
	return run->step_label[0] != '\0' ? run->step_label : NULL;
}

void
run_event(struct run *run, const char *kind, json_t *detail)
{
	char	*cause = NULL;

	if (store_event_add(run->env.store, run->id, clock_wall_ns(), kind,
	    run_step_label(run), detail, &cause) == -1) {
		log_warnx("run %" PRId64 ": event %s not stored: %s", run->id,
		    kind, cause);
		free(cause);
	}
	json_decref(detail);
}

void
run_finding(struct run *run, int kind, const char *source, const char *title,
    json_t *detail)
{
	struct store_finding	 f;
	char			*cause = NULL;
	int64_t			 id;

	memset(&f, 0, sizeof f);
	f.run = run->id;
	f.kind = finding_kinds[kind].name;
	f.title = title;
	f.time_ns = clock_wall_ns();
	f.step = run_step_label(run);
	f.source = source;
	f.detail = detail;
	run->findings[kind]++;
	if (store_finding_add(run->env.store, &f, &id, &cause) == -1) {
		/* Still counted: the verdict must not pass a run that found this. */
		log_warnx("run %" PRId64 ": finding not stored: %s", run->id,
		    cause);
		free(cause);
	}
	log_info("run %" PRId64 ": finding %s: %s", run->id, f.kind, title);
	json_decref(detail);
}

/* Records the first harness error and ends the run; later ones are events. */
void
run_fail(struct run *run, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	log_warnx("run %" PRId64 ": %s", run->id, msg ? msg : "error");
	run_event(run, "error", json_pack("{s:s}", "detail", msg ? msg : "?"));
	if (run->error == NULL) {
		run->error = msg;
		msg = NULL;
	}
	free(msg);
	run_end(run);
}

static void
run_set_state(struct run *run, int state)
{
	log_debug("run %" PRId64 ": %s -> %s", run->id,
	    run_state_names[run->state], run_state_names[state]);
	run->state = state;
}

static json_t *
counters_json(const struct run_counters *a, const struct run_counters *b)
{
	return json_pack("{sI sI sI sI sI sI sI sI sI}",
	    "ios", (json_int_t)(a->ios + b->ios),
	    "reads", (json_int_t)(a->reads + b->reads),
	    "writes", (json_int_t)(a->writes + b->writes),
	    "bytes_read", (json_int_t)(a->bytes_read + b->bytes_read),
	    "bytes_written", (json_int_t)(a->bytes_written + b->bytes_written),
	    "blocks_verified", (json_int_t)(a->blocks_verified + b->blocks_verified),
	    "errors", (json_int_t)(a->errors + b->errors),
	    "timeouts", (json_int_t)(a->timeouts + b->timeouts),
	    "corruptions", (json_int_t)(a->corruptions + b->corruptions));
}

/* What GET /api/v1/runs/{id} shows beyond the store's own columns. */
static json_t *
run_summary(struct run *run)
{
	json_t	*s, *step;
	size_t	 total = run->plan->steps.n;

	step = json_pack("{sI sI sI ss* ss* ss*}",
	    "index", (json_int_t)run->top_index, "total", (json_int_t)total,
	    "pass", (json_int_t)run->pass,
	    "path", run->step != NULL ? run->step_path : NULL,
	    "action", run->step != NULL ? run->step->entry->name : NULL,
	    "name", run->step != NULL ? run->step->name : NULL);
	s = json_pack("{so so* s{sI sI sI sI} sO* sO* sO* sO* sO* ss sI sI}",
	    "counters", counters_json(&run->acc, &run->cur),
	    "step", step,
	    "fault_ops", "hot_add_cpu", (json_int_t)run->fault_hot_add_cpu,
	    "hot_add_memory", (json_int_t)run->fault_hot_add_memory,
	    "hot_add_io_bridge", (json_int_t)run->fault_hot_add_io_bridge,
	    "hot_replace", (json_int_t)run->fault_replace,
	    "latency", run->latency,
	    "hot_add_latency_ms", run->hot_add_ms,
	    "replaces", run->replaces,
	    "topology", run->topology,
	    "agent", run->agent_info,
	    "state", run_state_names[run->state],
	    "passes", (json_int_t)run->pass,
	    "max_latency_ns", (json_int_t)run->max_latency_ns);
	return s;
}

void
run_summary_write(struct run *run, bool force)
{
	json_t		*s;
	char		*cause = NULL;
	uint64_t	 now = clock_mono_ns();

	if (!force && now - run->last_summary_ns < RUN_SUMMARY_EVERY_NS)
		return;
	run->last_summary_ns = now;
	if ((s = run_summary(run)) == NULL)
		return;
	if (store_run_summary(run->env.store, run->id, s, &cause) == -1) {
		log_warnx("run %" PRId64 ": summary not stored: %s", run->id,
		    cause);
		free(cause);
	}
	json_decref(s);
}

/* Defers run_drive to the loop, so hooks never recurse into the machine. */
static void
run_kick(struct run *run)
{
	event_active(run->kick, 0, 0);
}

static void
run_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	run_drive(arg);
}

/* The agent: configure, start, stop, and what it sends. */

static json_t *
run_configure_json(struct run *run)
{
	const struct plan	*p = run->plan;
	const struct plan_io	*io = &p->workload.io;
	const char		*path = io->path;
	json_t			*w, *o;

	if (path == NULL || strcmp(path, "auto") == 0)
		path = backend_io_path(run->backend);
	w = json_pack("{ss sI sI sI sI ss sb sI sb sI sb ss}",
	    "path", path, "size", (json_int_t)io->size,
	    "block_size", (json_int_t)io->block_size,
	    "queue_depth", (json_int_t)io->queue_depth,
	    "read_percent", (json_int_t)io->read_percent,
	    "pattern", plan_io_pattern_names[io->pattern],
	    "verify", io->verify == PLAN_VERIFY_CRC32C,
	    "io_timeout_ms", (json_int_t)io->io_timeout_ms,
	    "direct", io->direct,
	    "seed", (json_int_t)(run->seed & INT64_MAX),
	    "fill", 1, "engine", "aio");
	if (w == NULL)
		return NULL;
	if (io->workers == 0)
		json_object_set_new(w, "workers", json_string("per-cpu"));
	else
		json_object_set_new(w, "workers", json_integer(io->workers));
	/*
	 * Hot-added memory goes to the kernel's own zone: hibernation (the
	 * pseudo-S4 of a replace) preallocates its image outside
	 * ZONE_MOVABLE, and fails ("Image allocation is N pages short") once
	 * a hot-add made part of memory movable. hotsoak never hot-removes.
	 */
	o = json_pack("{so sI sI sb ss}", "workload", w,
	    "heartbeat_ms", (json_int_t)p->agent.heartbeat_ms,
	    "report_ms", (json_int_t)1000, "online", 1,
	    "memory_state", "online_kernel");
	if (o != NULL && p->workload.memory.size != 0)
		json_object_set_new(o, "memory", json_pack("{sI sI}",
		    "size", (json_int_t)p->workload.memory.size,
		    "interval_ms", (json_int_t)p->workload.memory.interval_ms));
	return o;
}

static int
member_u64(json_t *o, const char *key, uint64_t *out)
{
	json_t	*v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* The agent's totals for the pass, from a report's totals or stop's counters. */
static void
run_take_totals(struct run *run, json_t *t)
{
	struct run_counters	*c = &run->cur;

	if (!json_is_object(t))
		return;
	(void)member_u64(t, "ios", &c->ios);
	(void)member_u64(t, "reads", &c->reads);
	(void)member_u64(t, "writes", &c->writes);
	(void)member_u64(t, "bytes_read", &c->bytes_read);
	(void)member_u64(t, "bytes_written", &c->bytes_written);
	(void)member_u64(t, "blocks_verified", &c->blocks_verified);
	(void)member_u64(t, "errors", &c->errors);
	(void)member_u64(t, "timeouts", &c->timeouts);
	(void)member_u64(t, "corruptions", &c->corruptions);
}

/* checks.max_latency: the first slow I/O is a finding, the rest counted. */
static void
run_take_latency(struct run *run, json_t *lat, bool whole)
{
	uint64_t	max = 0, bound = run->plan->checks.max_latency_ms;

	if (!json_is_object(lat))
		return;
	if (member_u64(lat, "max_ns", &max) == 0 && max > run->max_latency_ns)
		run->max_latency_ns = max;
	if (whole || run->latency == NULL || !json_is_true(json_object_get(
	    run->latency, "whole"))) {
		json_decref(run->latency);
		run->latency = json_deep_copy(lat);
		if (run->latency != NULL)
			json_object_set_new(run->latency, "whole",
			    json_boolean(whole));
	}
	if (bound != 0 && max > bound * 1000000ULL && !run->slow_io_seen) {
		run->slow_io_seen = true;
		run_finding(run, FINDING_SLOW_IO, "agent", "an I/O was slower "
		    "than checks.max_latency", json_pack("{sI sI}",
		    "max_latency_ms", (json_int_t)bound,
		    "max_ns", (json_int_t)max));
	}
}

static void
run_on_report(struct run *run, json_t *msg)
{
	struct store_sample	 s;
	json_t			*c = json_object_get(msg, "counters");
	json_t			*lat = json_object_get(msg, "latency");
	uint64_t		 br = 0, bw = 0, v = 0;
	char			*cause = NULL;

	run_take_totals(run, json_object_get(msg, "totals"));
	run_take_latency(run, lat, false);
	memset(&s, 0, sizeof s);
	s.run = run->id;
	s.time_ns = clock_wall_ns();
	(void)member_u64(msg, "interval_ms", &s.interval_ms);
	(void)member_u64(c, "ios", &s.ios);
	(void)member_u64(c, "bytes_read", &br);
	(void)member_u64(c, "bytes_written", &bw);
	s.bytes = br + bw;
	if (member_u64(c, "inflight", &v) == 0)
		s.inflight = (unsigned)v;
	if (member_u64(c, "workers", &v) == 0)
		s.workers = (unsigned)v;
	(void)member_u64(lat, "p50_ns", &s.p50_ns);
	(void)member_u64(lat, "p90_ns", &s.p90_ns);
	(void)member_u64(lat, "p99_ns", &s.p99_ns);
	(void)member_u64(lat, "p999_ns", &s.p999_ns);
	(void)member_u64(lat, "max_ns", &s.max_ns);
	if (store_sample_add(run->env.store, &s, &cause) == -1) {
		log_warnx("run %" PRId64 ": sample not stored: %s", run->id, cause);
		free(cause);
	}
	run_summary_write(run, false);
}

static void
run_on_agent_finding(struct run *run, json_t *msg)
{
	const char	*kind = json_string_value(json_object_get(msg, "kind"));
	const char	*title = json_string_value(json_object_get(msg, "title"));
	json_t		*detail = json_object_get(msg, "detail");
	int		 k;

	if ((k = finding_kind_find(kind)) == -1 || k == FINDING_BACKEND_ERROR) {
		/* A kind this daemon does not know is kept, as a warning. */
		detail = json_is_object(detail) ? json_deep_copy(detail) :
		    json_object();
		json_object_set_new(detail, "agent_kind", json_string(kind));
		run_finding(run, FINDING_WARNING, "agent", title, detail);
		return;
	}
	detail = json_is_object(detail) ? json_deep_copy(detail) : json_object();
	/*
	 * The agent tells of an I/O that outlived a replace once the partition
	 * runs again, when the next step has begun: name the replace too.
	 */
	if ((k == FINDING_IO_TIMEOUT || k == FINDING_IO_ERROR) &&
	    run->replace_end_ns != 0 && clock_mono_ns() - run->replace_end_ns <
	    (run->plan->workload.io.io_timeout_ms + 2000) * 1000000ULL)
		json_object_set_new(detail, "after_replace",
		    json_string(run->replace_label));
	run_finding(run, k, "agent", title, detail);
}

static void
run_on_topology(struct run *run, json_t *msg)
{
	json_t		*cpus = json_object_get(msg, "cpus");
	json_t		*mem = json_object_get(msg, "memory");
	json_t		*changes = json_object_get(msg, "changes");
	uint64_t	 v;

	json_decref(run->topology);
	run->topology = json_deep_copy(msg);
	if (run->topology != NULL) {
		json_object_del(run->topology, "type");
		json_object_del(run->topology, "id");
		json_object_del(run->topology, "changes");
	}
	if (member_u64(cpus, "online", &v) == 0)
		run->topo_cpus = (unsigned)v;
	if (member_u64(mem, "online_bytes", &v) == 0)
		run->topo_memory = v;
	if (json_is_array(changes) && json_array_size(changes) != 0)
		run_event(run, "topology", json_pack("{sO sI sI}", "changes",
		    changes, "cpus_online", (json_int_t)run->topo_cpus,
		    "memory_online", (json_int_t)run->topo_memory));
	run_topology_seen(run);
	run_summary_write(run, false);
}

static void
link_hello(void *arg, const struct agent_hello *h)
{
	struct run	*run = arg;

	json_decref(run->agent_info);
	run->agent_info = json_pack("{ss ss ss sI}", "agent", h->agent,
	    "hostname", h->hostname, "boot_id", h->boot_id,
	    "pid", (json_int_t)h->pid);
	run_event(run, "agent", json_pack("{ss ss sI sb sb sb sb}",
	    "event", "hello", "agent", h->agent, "pid", (json_int_t)h->pid,
	    "resumed", h->resumed, "same_instance", h->same_instance,
	    "restarted", h->restarted, "rebooted", h->rebooted));
	if (run->down_timer != NULL && evtimer_pending(run->down_timer, NULL) &&
	    h->same_instance) {
		/* The same agent came back before the drop was judged. */
		evtimer_del(run->down_timer);
		run_event(run, "agent", json_pack("{ss ss*}", "event",
		    "reconnected", "after", run->down_why));
	}
	/* A fast agent may say hello before the backend's start returns. */
	if (run->state == RUN_S_STARTING || run->state == RUN_S_CONNECTING) {
		run->hello_seen = true;
		run_kick(run);
	}
}

static void
link_message(void *arg, enum proto_type t, json_t *msg)
{
	struct run	*run = arg;

	if (run->state == RUN_S_DONE)
		return;
	switch (t) {
	case PROTO_REPORT:
		run_on_report(run, msg);
		break;
	case PROTO_FINDING:
		run_on_agent_finding(run, msg);
		break;
	case PROTO_TOPOLOGY:
		run_on_topology(run, msg);
		break;
	default:
		break;
	}
}

static void
link_heartbeat(void *arg, json_t *msg)
{
}

static bool
run_agent_expected(const struct run *run)
{
	return run->state >= RUN_S_CONFIGURING && run->state <= RUN_S_DRAINING &&
	    !run->agent_dead && !run->ending;
}

static void
run_down_judge(evutil_socket_t fd, short what, void *arg)
{
	struct run	*run = arg;

	if (!run_agent_expected(run) || agent_link_up(run->link))
		return;
	run_finding(run, FINDING_HANG, "engine", "the agent's channel dropped "
	    "outside a replace window", json_pack("{ss*}", "why",
	    run->down_why));
}

static void
link_down(void *arg, const char *why)
{
	struct run	*run = arg;
	struct timeval	 tv = { RUN_DOWN_GRACE_MS / 1000,
			    (RUN_DOWN_GRACE_MS % 1000) * 1000 };

	free(run->down_why);
	run->down_why = why != NULL ? strdup(why) : NULL;
	if (!run_agent_expected(run))
		return;
	if (run->replace_window) {
		run_event(run, "agent", json_pack("{ss ss* sb}", "event",
		    "channel dropped", "why", why, "expected", 1));
		return;
	}
	run_event(run, "agent", json_pack("{ss ss* sb}", "event",
	    "channel dropped", "why", why, "expected", 0));
	evtimer_add(run->down_timer, &tv);
}

static void
link_hang(void *arg, uint64_t silent_ms)
{
	struct run	*run = arg;
	char		 title[128];

	if (!run_agent_expected(run))
		return;
	snprintf(title, sizeof title, "no heartbeat from the agent for %" PRIu64
	    " ms", silent_ms);
	run_finding(run, FINDING_HANG, "engine", title, json_pack("{sI sI}",
	    "silent_ms", (json_int_t)silent_ms, "hang_after_ms",
	    (json_int_t)run->plan->agent.hang_after_ms));
}

static void
link_refused(void *arg, const char *code, const char *detail)
{
	struct run	*run = arg;

	run_event(run, "agent", json_pack("{ss ss* ss*}", "event", "refused",
	    "code", code, "detail", detail));
}

/* The backend's own reports. */

static void
backend_hook(void *arg, enum backend_event ev, const char *title,
    json_t *detail)
{
	struct run	*run = arg;

	switch (ev) {
	case BACKEND_EV_INFO:
		run_event(run, "backend", json_pack("{ss ss* sO*}", "event",
		    backend_event_names[ev], "title", title, "detail", detail));
		json_decref(detail);
		return;
	case BACKEND_EV_CRASH:
		if (run->state == RUN_S_DONE || run->state == RUN_S_STOPPING) {
			json_decref(detail);
			return;
		}
		run->agent_dead = true;
		run_finding(run, FINDING_BUGCHECK, "backend", title, detail);
		run_end(run);
		return;
	case BACKEND_EV_STOPPED:
	case BACKEND_EV_EXITED:
	case BACKEND_EV_ERROR:
	default:
		if (run->state == RUN_S_DONE || run->state == RUN_S_STOPPING) {
			json_decref(detail);
			return;
		}
		run->agent_dead = ev != BACKEND_EV_STOPPED;
		run_finding(run, FINDING_BACKEND_ERROR, "backend", title, detail);
		run_fail(run, "%s", title);
		return;
	}
}

/* A backend that dials the agent's channel hands the connection over. */
static int
backend_agent_fd(void *arg, int fd, char **cause)
{
	struct run	*run = arg;

	return agent_link_adopt(run->link, fd, cause);
}

/* Replies that move the machine. */

static void
configure_done(void *arg, int error, const char *code, const char *detail,
    json_t *reply)
{
	struct run	*run = arg;

	if (run->freeing || run->state != RUN_S_CONFIGURING)
		return;
	if (error) {
		run_fail(run, "the agent refused configure: %s: %s", code,
		    detail ? detail : "");
		return;
	}
	run_kick(run);
}

static void
start_done(void *arg, int error, const char *code, const char *detail,
    json_t *reply)
{
	struct run	*run = arg;

	if (run->freeing || run->state != RUN_S_LOADING)
		return;
	if (error) {
		run_fail(run, "the agent could not start its workload: %s: %s",
		    code, detail ? detail : "");
		return;
	}
	run_event(run, "workload", json_pack("{ss sO*}", "event", "started",
	    "reply", reply));
	run_set_state(run, RUN_S_STEPPING);
	run_summary_write(run, true);
	run_steps_begin(run);
}

static void
run_pass_close(struct run *run)
{
	struct run_counters	*a = &run->acc, *c = &run->cur;

	a->ios += c->ios;
	a->reads += c->reads;
	a->writes += c->writes;
	a->bytes_read += c->bytes_read;
	a->bytes_written += c->bytes_written;
	a->blocks_verified += c->blocks_verified;
	a->errors += c->errors;
	a->timeouts += c->timeouts;
	a->corruptions += c->corruptions;
	memset(c, 0, sizeof *c);
}

static void
stop_done(void *arg, int error, const char *code, const char *detail,
    json_t *reply)
{
	struct run	*run = arg;

	if (run->freeing || run->state != RUN_S_DRAINING)
		return;
	if (error) {
		/* A failed verify pass has already raised its findings. */
		run_event(run, "workload", json_pack("{ss ss* ss*}", "event",
		    "stop failed", "code", code, "detail", detail));
		if (strcmp(code, PROTO_E_FAILED) != 0 && !run->aborted &&
		    run->findings[FINDING_HANG] == 0 && !run->agent_dead)
			run_fail(run, "the agent did not stop its workload: %s: %s",
			    code, detail ? detail : "");
	} else {
		run_take_totals(run, json_object_get(reply, "counters"));
		run_take_latency(run, json_object_get(reply, "latency"), true);
		/* targets: each hot-added disk's own counters, verify included. */
		run_event(run, "workload", json_pack("{ss sO* sO*}", "event",
		    "stopped", "counters", json_object_get(reply, "counters"),
		    "targets", json_object_get(reply, "targets")));
	}
	run_pass_close(run);
	run_set_state(run, RUN_S_STOPPING);
	run_kick(run);
}

static void
backend_started(void *arg, int error, const char *cause, json_t *result)
{
	struct run	*run = arg;
	struct timeval	 tv;
	uint64_t	 ms = run->plan->agent.connect_timeout_ms;

	if (run->freeing)
		return;
	if (run->state != RUN_S_STARTING)
		return;
	if (error) {
		run_finding(run, FINDING_BACKEND_ERROR, "backend",
		    cause ? cause : "the partition did not start", NULL);
		run->agent_dead = true;
		run_fail(run, "the partition did not start: %s", cause ? cause :
		    "?");
		return;
	}
	run->backend_started = true;
	run_event(run, "partition", json_pack("{ss sI sO*}", "event", "started",
	    "pass", (json_int_t)run->pass, "result", result));
	run_set_state(run, RUN_S_CONNECTING);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(run->timer, &tv);
	run_kick(run);
}

static void
backend_stopped(void *arg, int error, const char *cause, json_t *result)
{
	struct run	*run = arg;

	if (run->freeing || run->state != RUN_S_STOPPING)
		return;
	run->backend_started = false;
	run_event(run, "partition", json_pack("{ss sO* ss*}", "event", "stopped",
	    "result", result, "error", error ? cause : NULL));
	if (run->restart && !run->ending) {
		run->restart = false;
		run->agent_dead = false;
		run->stop_sent = false;
		run->steps_finished = false;
		run->pass++;
		run->hello_seen = false;
		run_set_state(run, RUN_S_STARTING);
		run_event(run, "pass", json_pack("{sI}", "pass",
		    (json_int_t)run->pass));
		backend_start(run->backend, backend_started, run);
		return;
	}
	run_set_state(run, RUN_S_DONE);
	run_kick(run);
}

static void
connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct run	*run = arg;

	if (run->state != RUN_S_CONNECTING)
		return;
	run_finding(run, FINDING_BACKEND_ERROR, "engine", "the agent did not "
	    "connect in time", json_pack("{sI}", "connect_timeout_ms",
	    (json_int_t)run->plan->agent.connect_timeout_ms));
	run_fail(run, "the agent did not connect within %" PRIu64 " ms",
	    run->plan->agent.connect_timeout_ms);
}

/* The steps of this pass ended: another pass, or the end. */
void
run_steps_finished(struct run *run)
{
	uint64_t	elapsed_ms = (clock_mono_ns() - run->started_ns) / 1000000;

	run->step = NULL;
	run->step_label[0] = '\0';
	run->steps_finished = true;
	if (run->plan->duration_ms != 0 && elapsed_ms < run->plan->duration_ms)
		run->restart = true;
	run_end(run);
}

/* Commit the verdict, then tell the owner. */
static void
run_record(struct run *run)
{
	struct run_outcome	 o;
	enum run_verdict	 v;
	char			 reason[512], *cause = NULL;
	json_t			*s;
	bool			 already;

	memset(&o, 0, sizeof o);
	o.aborted = run->aborted;
	o.abort_reason = run->abort_reason;
	o.error = run->error;
	o.steps_finished = run->steps_finished;
	memcpy(o.findings, run->findings, sizeof o.findings);
	o.fail_on = run->plan->checks.fail_on;
	o.fault_ops = run->fault_hot_add_cpu + run->fault_hot_add_memory +
	    run->fault_hot_add_io_bridge + run->fault_replace;
	o.blocks_verified = run->acc.blocks_verified + run->cur.blocks_verified;
	o.verify = run->plan->workload.io.verify == PLAN_VERIFY_CRC32C;
	v = run_verdict_decide(&o, reason, sizeof reason);
	run->verdict = run_verdict_names[v];
	s = run_summary(run);
	if (store_run_finish(run->env.store, run->id, run_verdict_names[v],
	    reason, clock_wall_ns(), s, &already, &cause) == -1) {
		log_warnx("run %" PRId64 ": verdict not stored: %s", run->id,
		    cause);
		free(cause);
	}
	json_decref(s);
	log_info("run %" PRId64 " (%s): %s: %s", run->id, run->plan->name ?
	    run->plan->name : "?", run_verdict_names[v], reason);
}

/*
 * The one place the machine moves forward: every hook records what
 * happened and kicks; this decides what to do next from the state.
 */
static void
run_drive(struct run *run)
{
	char	*cause = NULL;
	json_t	*cfg;

	switch (run->state) {
	case RUN_S_CONNECTING:
		/* The last pass's agent may look up until its hang-up is read. */
		if (!run->hello_seen || !agent_link_up(run->link))
			return;
		evtimer_del(run->timer);
		if ((cfg = run_configure_json(run)) == NULL) {
			run_fail(run, "cannot build the agent's configuration");
			return;
		}
		run_set_state(run, RUN_S_CONFIGURING);
		if (agent_link_request(run->link, PROTO_CONFIGURE, cfg,
		    RUN_CONFIGURE_TIMEOUT_MS, configure_done, run, &cause) == -1) {
			run_fail(run, "configure: %s", cause);
			free(cause);
		}
		return;
	case RUN_S_CONFIGURING:
		run_set_state(run, RUN_S_LOADING);
		if (agent_link_request(run->link, PROTO_START, NULL,
		    RUN_LOAD_TIMEOUT_MS, start_done, run, &cause) == -1) {
			run_fail(run, "start: %s", cause);
			free(cause);
		}
		return;
	case RUN_S_DRAINING:
		return;
	case RUN_S_STOPPING:
		if (run->stop_sent)
			return;
		run->stop_sent = true;
		backend_stop(run->backend, backend_stopped, run);
		return;
	case RUN_S_DONE:
		if (run->finished_called)
			return;
		run->finished_called = true;
		agent_link_watch(run->link, false);
		run_record(run);
		run->env.finished(run->env.arg, run);
		return;
	default:
		return;
	}
}

/*
 * Leave the steps: drain the workload when the agent can still answer,
 * then stop the partition. Safe to call more than once.
 */
static void
run_end(struct run *run)
{
	char	*cause = NULL;

	if (run->state == RUN_S_DONE || run->state == RUN_S_STOPPING ||
	    run->state == RUN_S_DRAINING)
		return;
	if (!run->restart)
		run->ending = true;
	run_op_cancel(run);
	evtimer_del(run->timer);
	if (run->state == RUN_S_NEW) {
		run_set_state(run, RUN_S_DONE);
		run_kick(run);
		return;
	}
	if (run->state == RUN_S_STARTING) {
		/* backend_started sees the state and stops nothing twice. */
		run_set_state(run, RUN_S_STOPPING);
		run_kick(run);
		return;
	}
	if (run->state == RUN_S_STEPPING && !run->aborted && !run->agent_dead &&
	    agent_link_up(run->link)) {
		run_set_state(run, RUN_S_DRAINING);
		run_summary_write(run, true);
		if (agent_link_request(run->link, PROTO_STOP, NULL,
		    RUN_LOAD_TIMEOUT_MS, stop_done, run, &cause) == 0)
			return;
		free(cause);
	}
	run_pass_close(run);
	run_set_state(run, RUN_S_STOPPING);
	run_kick(run);
}

void
run_abort(struct run *run, const char *why)
{
	if (run->state == RUN_S_DONE || run->aborted)
		return;
	run->aborted = true;
	run->restart = false;
	free(run->abort_reason);
	run->abort_reason = strdup(why != NULL ? why : "by request");
	run_event(run, "abort", json_pack("{ss}", "why", run->abort_reason ?
	    run->abort_reason : "?"));
	if (run->state == RUN_S_DRAINING) {
		/* Do not wait for a long verify pass: stop the partition now. */
		run_set_state(run, RUN_S_STOPPING);
		run_kick(run);
		return;
	}
	run_end(run);
}

/* Set-up: the run's folder, its token, its agent socket. */

static int
run_make_dir(struct run *run, char **cause)
{
	char		 path[4096], hex[65];
	unsigned char	 raw[32];
	size_t		 i;
	int		 fd;

	snprintf(path, sizeof path, "%s/runs", run->env.state_dir);
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	if (asprintf(&run->dir, "%s/runs/%" PRId64, run->env.state_dir,
	    run->id) == -1) {
		run->dir = NULL;
		return cause_set(cause, "out of memory");
	}
	if (mkdir(run->dir, 0700) == -1 && errno != EEXIST)
		return cause_set(cause, "%s: %s", run->dir, strerror(errno));
	if (asprintf(&run->sock, "%s/agent.sock", run->dir) == -1 ||
	    asprintf(&run->channel, "unix:%s", run->sock) == -1 ||
	    asprintf(&run->token_file, "%s/token", run->dir) == -1)
		return cause_set(cause, "out of memory");
	if (strlen(run->sock) >= 108)
		return cause_set(cause, "the state folder's path is too long for "
		    "a unix socket: %s", run->sock);
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return cause_set(cause, "getrandom: %s", strerror(errno));
	for (i = 0; i < sizeof raw; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	if ((run->token = strdup(hex)) == NULL)
		return cause_set(cause, "out of memory");
	if ((fd = open(run->token_file, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) == -1)
		return cause_set(cause, "%s: %s", run->token_file, strerror(errno));
	if (write(fd, hex, 64) != 64) {
		close(fd);
		return cause_set(cause, "%s: short write", run->token_file);
	}
	close(fd);
	return 0;
}

struct run *
run_new(const struct run_env *env, struct plan_file *pf, int64_t id,
    uint64_t seed, char **cause)
{
	struct run			*run;
	struct backend_env		 be;
	struct agent_link_opts		 lo;
	struct agent_link_hooks		 lh;

	if ((run = calloc(1, sizeof *run)) == NULL) {
		plan_file_free(pf);
		cause_set(cause, "out of memory");
		return NULL;
	}
	run->env = *env;
	run->id = id;
	run->seed = seed;
	run->rng = splitmix64(seed ^ 0x686f74736f616bULL);
	run->pf = pf;
	run->plan = pf->plan;
	run->sr.run = run;
	run->pass = 1;
	if ((run->timer = evtimer_new(env->base, connect_timeout, run)) == NULL ||
	    (run->kick = event_new(env->base, -1, 0, run_kick_cb, run)) == NULL ||
	    (run->down_timer = evtimer_new(env->base, run_down_judge, run)) ==
	    NULL || (run->op.timer = evtimer_new(env->base, NULL, NULL)) == NULL ||
	    (run->hot_add_ms = json_array()) == NULL ||
	    (run->replaces = json_array()) == NULL) {
		cause_set(cause, "out of memory");
		goto fail;
	}
	if (run_make_dir(run, cause) == -1)
		goto fail;

	memset(&lo, 0, sizeof lo);
	lo.token = run->token;
	lo.hang_after_ms = run->plan->agent.hang_after_ms;
	memset(&lh, 0, sizeof lh);
	lh.hello = link_hello;
	lh.message = link_message;
	lh.heartbeat = link_heartbeat;
	lh.down = link_down;
	lh.hang = link_hang;
	lh.refused = link_refused;
	lh.arg = run;
	if ((run->link = agent_link_new(env->base, &lo, &lh, cause)) == NULL)
		goto fail;
	if (agent_link_listen(run->link, run->sock, cause) == -1)
		goto fail;

	memset(&be, 0, sizeof be);
	be.base = env->base;
	be.plan = run->plan;
	be.run_id = id;
	be.run_dir = run->dir;
	be.agent_channel = run->channel;
	be.token_file = run->token_file;
	be.agent_binary = env->agent_binary;
	be.guest_dir = env->guest_dir;
	be.hooks.event = backend_hook;
	be.hooks.agent_fd = backend_agent_fd;
	be.hooks.arg = run;
	be.ops = env->backend_ops;
	if ((run->backend = backend_create(&be, cause)) == NULL)
		goto fail;
	return run;
fail:
	run_free(run);
	return NULL;
}

void
run_start(struct run *run)
{
	char	*cause = NULL;

	run->started_ns = clock_mono_ns();
	if (store_run_started(run->env.store, run->id, clock_wall_ns(),
	    &cause) == -1) {
		log_warnx("run %" PRId64 ": %s", run->id, cause);
		free(cause);
	}
	run_event(run, "run", json_pack("{ss ss* sI ss}", "event", "started",
	    "plan", run->plan->name, "seed", (json_int_t)(run->seed & INT64_MAX),
	    "backend", backend_name(run->backend)));
	run_set_state(run, RUN_S_STARTING);
	backend_start(run->backend, backend_started, run);
}

void
run_free(struct run *run)
{
	char	 path[4096];

	if (run == NULL)
		return;
	run->freeing = true;
	run->op.gen++;
	/* Both cancel what is pending; their callbacks see run->freeing. */
	agent_link_free(run->link);
	backend_free(run->backend);
	if (run->timer != NULL)
		event_free(run->timer);
	if (run->kick != NULL)
		event_free(run->kick);
	if (run->down_timer != NULL)
		event_free(run->down_timer);
	if (run->op.timer != NULL)
		event_free(run->op.timer);
	if (run->dir != NULL) {
		/* The log stays as the run's artifact; the big target goes. */
		snprintf(path, sizeof path, "%s/disk.img", run->dir);
		(void)unlink(path);
		if (run->token_file != NULL)
			(void)unlink(run->token_file);
	}
	while (run->nseen > 0)
		free(run->seen[--run->nseen].step);
	json_decref(run->op.detail);
	json_decref(run->latency);
	json_decref(run->topology);
	json_decref(run->hot_add_ms);
	json_decref(run->replaces);
	json_decref(run->agent_info);
	free(run->down_why);
	free(run->abort_reason);
	free(run->error);
	free(run->dir);
	free(run->sock);
	free(run->channel);
	free(run->token);
	free(run->token_file);
	plan_file_free(run->pf);
	free(run);
}
