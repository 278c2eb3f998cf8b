/* run-step.c: walks a plan's steps (nested repeat and random included) and
 * carries out each step's operation: sleeps, hot-adds, replaces, expects. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "hotsoak/util.h"
#include "log.h"
#include "run-int.h"
#include "step.h"
#include "store.h"

#define EXPECT_POLL_MS		250
#define TOPOLOGY_TIMEOUT_MS	5000
/* How long pseudo-S4 may take beyond the outage before it is a failure. */
#define S4_EXTRA_MS		120000
/* From sending pseudo_s4 to holding the VM: the guest's devices go down first. */
#define S4_SETTLE_MS		500
/* A quiesce gets the I/O deadline plus this to drain. */
#define QUIESCE_EXTRA_MS	5000

/* A callback's ticket: the operation it belongs to may have been cancelled. */
struct run_ticket {
	struct run	*run;
	unsigned	 gen;
};

static struct run_ticket *
ticket_new(struct run *run)
{
	struct run_ticket	*t;

	if ((t = malloc(sizeof *t)) == NULL)
		return NULL;
	t->run = run;
	t->gen = run->op.gen;
	return t;
}

/* The run a ticket belongs to while its operation is current, else NULL; frees t. */
static struct run *
ticket_take(struct run_ticket *t)
{
	struct run	*run = t->run;
	unsigned	 gen = t->gen;

	free(t);
	if (run->freeing || gen != run->op.gen || run->op.kind == OP_NONE)
		return NULL;
	return run;
}

static void
op_timer(struct run *run, uint64_t ms, event_callback_fn cb)
{
	struct timeval	tv;

	evtimer_del(run->op.timer);
	event_assign(run->op.timer, run->env.base, -1, 0, cb, run);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(run->op.timer, &tv);
}

/* Abandon the current operation; callbacks still out find a new gen. */
void
run_op_cancel(struct run *run)
{
	if (run->op.kind != OP_NONE && run->step != NULL)
		run_step_end(run, "cancelled");
	if (run->op.kind == OP_REPLACE) {
		agent_link_watch(run->link, true);
		run->replace_window = false;
	}
	run->op.kind = OP_NONE;
	run->op.gen++;
	evtimer_del(run->op.timer);
	json_decref(run->op.detail);
	run->op.detail = NULL;
}

static void
step_put(struct run *run, const char *outcome, uint64_t finished_ns)
{
	struct store_step	 s;
	char			*cause = NULL;

	memset(&s, 0, sizeof s);
	s.run = run->id;
	s.seq = run->step_seq - 1;
	s.path = run->step_path;
	s.action = run->step->entry->name;
	s.name = run->step->name;
	s.started_ns = run->step_started_ns;
	s.finished_ns = finished_ns;
	s.outcome = outcome;
	s.detail = run->op.detail;
	if (store_step_put(run->env.store, &s, &cause) == -1) {
		log_warnx("run %" PRId64 ": step not stored: %s", run->id, cause);
		free(cause);
	}
}

/* Record the step's end; the caller moves on (or not). */
void
run_step_end(struct run *run, const char *outcome)
{
	if (run->step == NULL)
		return;
	step_put(run, outcome, clock_wall_ns());
	run->step = NULL;
	run->step_label[0] = '\0';
}

/* The operation ended well: record it and go on with the next step. */
static void
op_done(struct run *run)
{
	run->op.kind = OP_NONE;
	run->op.gen++;
	evtimer_del(run->op.timer);
	run_step_end(run, "done");
	json_decref(run->op.detail);
	run->op.detail = NULL;
	run_summary_write(run, false);
	run_steps_next(run);
}

static int
op_begin(struct run *run, int kind)
{
	run->op.kind = kind;
	run->op.gen++;
	run->op.started_ns = clock_mono_ns();
	json_decref(run->op.detail);
	run->op.detail = json_object();
	return STEP_WAIT;
}

/* sleep */

static void
sleep_fired(evutil_socket_t fd, short what, void *arg)
{
	struct run	*run = arg;

	if (run->op.kind == OP_SLEEP)
		op_done(run);
}

int
step_run_sleep(struct step_run *sr, uint64_t ms)
{
	struct run	*run = sr->run;

	op_begin(run, OP_SLEEP);
	op_timer(run, ms, sleep_fired);
	return STEP_WAIT;
}

/* hot_add */

static void
hot_add_done(void *arg, int error, const char *cause, json_t *result)
{
	struct run		*run = ticket_take(arg);
	struct run_seen		*s;
	struct backend_topology	 t;
	char			*why = NULL;
	uint64_t		 took;

	if (run == NULL)
		return;
	took = (clock_mono_ns() - run->op.started_ns) / 1000000;
	if (error) {
		run_finding(run, FINDING_BACKEND_ERROR, "backend", cause ? cause :
		    "hot-add failed", json_pack("{sI sI}", "cpus",
		    (json_int_t)run->op.cpus, "memory", (json_int_t)run->op.memory));
		run_step_end(run, "error");
		run_fail(run, "hot-add failed: %s", cause ? cause : "?");
		return;
	}
	if (run->op.cpus != 0)
		run->fault_hot_add_cpu += run->op.cpus;
	else
		run->fault_hot_add_memory++;
	json_object_set_new(run->op.detail, "backend_ms", json_integer(
	    (json_int_t)took));
	run_event(run, "hot_add", json_pack("{sI sI sI sO*}", "cpus",
	    (json_int_t)run->op.cpus, "memory", (json_int_t)run->op.memory,
	    "took_ms", (json_int_t)took, "result", result));
	if (run->nseen < RUN_MAX_SEEN) {
		s = &run->seen[run->nseen++];
		s->cpu = run->op.cpus != 0;
		/*
		 * What the guest must reach: the hypervisor's count after the
		 * hot-add, which does not depend on the agent having reported
		 * its topology yet; else the guest's last count plus the add.
		 */
		if (backend_topology(run->backend, &t, &why) == 0)
			s->want = s->cpu ? t.cpus : t.memory;
		else {
			free(why);
			s->want = s->cpu ? (uint64_t)run->topo_cpus + run->op.cpus :
			    run->topo_memory + run->op.memory;
		}
		s->sent_ns = run->op.started_ns;
		s->step = strdup(run->step_label);
	}
	op_done(run);
	run_topology_seen(run);
}

int
step_run_hot_add(struct step_run *sr, unsigned cpus, uint64_t memory)
{
	struct run		*run = sr->run;
	struct run_ticket	*t;

	op_begin(run, OP_HOT_ADD);
	run->op.cpus = cpus;
	run->op.memory = memory;
	if ((t = ticket_new(run)) == NULL)
		return STEP_FAILED;
	if (cpus != 0)
		backend_hot_add_cpu(run->backend, cpus, hot_add_done, t);
	else
		backend_hot_add_memory(run->backend, memory, hot_add_done, t);
	return STEP_WAIT;
}

/*
 * The hypervisor's view of the unit against the guest's, once the guest
 * has seen a hot-add: they must agree, or one of them is wrong about the
 * partition (a CPU the guest never onlined, memory it lost). NULL when
 * the backend cannot say (new reference).
 */
static json_t *
run_views(struct run *run, bool cpu)
{
	struct backend_topology	 t;
	char			*cause = NULL;
	uint64_t		 hv, guest;
	bool			 agree;

	if (backend_topology(run->backend, &t, &cause) == -1) {
		free(cause);
		return NULL;
	}
	hv = cpu ? t.cpus : t.memory;
	guest = cpu ? run->topo_cpus : run->topo_memory;
	agree = hv == guest;
	if (!agree)
		run_finding(run, FINDING_WARNING, "engine", cpu ? "the hypervisor "
		    "and the guest disagree on the CPU count" : "the hypervisor and "
		    "the guest disagree on the memory size", json_pack("{sI sI}",
		    "hypervisor", (json_int_t)hv, "guest", (json_int_t)guest));
	return json_pack("{s{sI sI} s{sI sI} sb}", "hypervisor", "cpus",
	    (json_int_t)t.cpus, "memory", (json_int_t)t.memory, "guest", "cpus",
	    (json_int_t)run->topo_cpus, "memory", (json_int_t)run->topo_memory,
	    "agree", agree);
}

/*
 * A hot-add is seen when the agent's topology first shows it: the time
 * from the backend's command to then is what the seeds care about (how
 * long software takes to notice new processors or memory).
 */
void
run_topology_seen(struct run *run)
{
	struct run_seen	*s;
	uint64_t	 have, ms;
	unsigned	 i = 0;

	while (i < run->nseen) {
		s = &run->seen[i];
		have = s->cpu ? run->topo_cpus : run->topo_memory;
		if (have < s->want) {
			i++;
			continue;
		}
		ms = (clock_mono_ns() - s->sent_ns) / 1000000;
		json_array_append_new(run->hot_add_ms, json_integer((json_int_t)ms));
		run_event(run, "hot_add_seen", json_pack("{ss sI sI ss* so*}", "unit",
		    s->cpu ? "cpu" : "memory", "online", (json_int_t)have,
		    "latency_ms", (json_int_t)ms, "step", s->step, "views",
		    run_views(run, s->cpu)));
		free(s->step);
		run->seen[i] = run->seen[--run->nseen];
	}
}

/* hot_add io_bridge: the bridge and its disk, then the agent's run on it */

/* From the add_target request to the guest showing the disk (an ACPI scan under TCG). */
#define BRIDGE_FIND_MS		30000
/* add_target answers once the disk is filled and its run started: this much more, */
#define BRIDGE_ANSWER_EXTRA_MS	10000
/* ... plus the fill at this rate (TCG fills about 10MiB/s; leave room). */
#define BRIDGE_FILL_BYTES_PER_S	(4ULL << 20)

/* The I/O bridge step failed: a finding says where, and the run ends. */
static void
bridge_fail(struct run *run, const char *source, const char *title,
    json_t *detail)
{
	run_finding(run, FINDING_BACKEND_ERROR, source, title, detail);
	run_step_end(run, "error");
	run_fail(run, "hot-add io_bridge: %s", title);
}

static void
bridge_unsupported(evutil_socket_t fd, short what, void *arg)
{
	struct run	*run = arg;
	char		 title[128];

	if (run->op.kind != OP_HOT_ADD)
		return;
	snprintf(title, sizeof title, "backend %s cannot hot-add an I/O bridge",
	    backend_name(run->backend));
	bridge_fail(run, "engine", title, json_pack("{ss}", "unit", "io_bridge"));
}

/*
 * The agent found the disk and runs verified I/O on it: the hot-add is
 * seen. latency_ms runs from the backend call (device_add of the bridge)
 * to that answer, fill included; found_ms to the disk appearing.
 */
static void
bridge_target_done(void *arg, int error, const char *code, const char *detail,
    json_t *reply)
{
	struct run	*run = ticket_take(arg);
	json_t		*be;
	uint64_t	 ms, found = 0;
	char		 title[512];

	if (run == NULL)
		return;
	be = json_object_get(run->op.detail, "backend");
	if (error) {
		snprintf(title, sizeof title, "the guest did not start I/O on the "
		    "hot-added disk: %s: %s", code, detail != NULL ? detail : "");
		bridge_fail(run, "agent", title, json_pack("{ss sO* ss ss*}", "unit",
		    "io_bridge", "backend", be, "code", code, "detail", detail));
		return;
	}
	ms = (clock_mono_ns() - run->op.started_ns) / 1000000;
	if (json_is_integer(json_object_get(reply, "found_ms")))
		found = (run->op.target_sent_ns - run->op.started_ns) / 1000000 +
		    (uint64_t)json_integer_value(json_object_get(reply, "found_ms"));
	json_object_set(run->op.detail, "agent", reply);
	json_object_set_new(run->op.detail, "latency_ms", json_integer(
	    (json_int_t)ms));
	json_array_append_new(run->hot_add_ms, json_integer((json_int_t)ms));
	run_event(run, "hot_add_seen", json_pack("{ss sI sI sO* sO* sO* sO* sO*"
	    " sO* ss}", "unit", "io_bridge", "latency_ms", (json_int_t)ms,
	    "found_ms", (json_int_t)found, "path", json_object_get(reply, "path"),
	    "serial", json_object_get(reply, "serial"), "fill_ms",
	    json_object_get(reply, "fill_ms"), "workers", json_object_get(reply,
	    "workers"), "bridge", json_object_get(be, "bridge"), "size",
	    json_object_get(reply, "size"), "step", run->step_label));
	op_done(run);
}

static void
bridge_added(void *arg, int error, const char *cause, json_t *result)
{
	struct run		*run = ticket_take(arg);
	struct run_ticket	*t;
	const char		*serial;
	uint64_t		 took, timeout;
	char			*why = NULL, title[256];

	if (run == NULL)
		return;
	took = (clock_mono_ns() - run->op.started_ns) / 1000000;
	if (error) {
		bridge_fail(run, "backend", cause != NULL ? cause : "hot-add failed",
		    json_pack("{ss sI}", "unit", "io_bridge", "disk_size",
		    (json_int_t)run->op.disk_size));
		return;
	}
	/* The unit is in the partition: a fault done, whatever the guest makes of it. */
	run->fault_hot_add_io_bridge++;
	json_object_set_new(run->op.detail, "backend_ms", json_integer(
	    (json_int_t)took));
	json_object_set(run->op.detail, "backend", result);
	run_event(run, "hot_add", json_pack("{ss sI sI sI sO*}", "unit",
	    "io_bridge", "disk_size", (json_int_t)run->op.disk_size, "io_size",
	    (json_int_t)run->op.io_size, "took_ms", (json_int_t)took, "result",
	    result));
	if ((serial = json_string_value(json_object_get(result, "serial"))) ==
	    NULL) {
		bridge_fail(run, "backend", "the backend did not say the new disk's "
		    "serial", NULL);
		return;
	}
	if ((t = ticket_new(run)) == NULL) {
		bridge_fail(run, "engine", "out of memory", NULL);
		return;
	}
	timeout = BRIDGE_FIND_MS + BRIDGE_ANSWER_EXTRA_MS +
	    run->op.io_size * 1000 / BRIDGE_FILL_BYTES_PER_S;
	run->op.target_sent_ns = clock_mono_ns();
	if (agent_link_request(run->link, PROTO_ADD_TARGET, json_pack("{ss sI sI}",
	    "serial", serial, "size", (json_int_t)run->op.io_size, "within_ms",
	    (json_int_t)BRIDGE_FIND_MS), timeout, bridge_target_done, t,
	    &why) == -1) {
		free(t);
		snprintf(title, sizeof title, "add_target not sent to the agent: %s",
		    why != NULL ? why : "?");
		free(why);
		bridge_fail(run, "engine", title, NULL);
	}
}

int
step_run_hot_add_io_bridge(struct step_run *sr, uint64_t disk_size,
    uint64_t io_size)
{
	struct run		*run = sr->run;
	struct run_ticket	*t;

	op_begin(run, OP_HOT_ADD);
	run->op.cpus = 0;
	run->op.memory = 0;
	run->op.disk_size = disk_size;
	run->op.io_size = io_size != 0 ? io_size : disk_size;
	run->op.target_sent_ns = 0;
	json_object_set_new(run->op.detail, "unit", json_string("io_bridge"));
	/* Failed from the loop, as every other outcome of a step arrives. */
	if (!backend_has_hot_add_io_bridge(run->backend)) {
		op_timer(run, 0, bridge_unsupported);
		return STEP_WAIT;
	}
	if ((t = ticket_new(run)) == NULL)
		return STEP_FAILED;
	backend_hot_add_io_bridge(run->backend, disk_size, bridge_added, t);
	return STEP_WAIT;
}

/* hot_replace */

static void replace_next(struct run *);

static void
replace_record(struct run *run)
{
	json_t	*d = run->op.detail;

	json_object_set_new(d, "unit", json_string(replace_unit_names[run->op.unit]));
	json_object_set_new(d, "method",
	    json_string(replace_method_names[run->op.method]));
	json_object_set_new(d, "outage_ms", json_integer(
	    (json_int_t)run->op.outage_ms));
	json_array_append(run->replaces, d);
	run_event(run, "replace", json_deep_copy(d));
}

static void
replace_agent_done(void *arg, int error, const char *code, const char *detail,
    json_t *reply)
{
	struct run	*run = ticket_take(arg);
	json_t		*d;

	if (run == NULL)
		return;
	d = run->op.detail;
	if (run->op.phase == RP_QUIESCE) {
		if (error) {
			/* The workload could not drain in time: stuck I/O. */
			run_finding(run, FINDING_IO_TIMEOUT, "agent", "the workload "
			    "did not drain before the replace", json_pack("{ss ss*}",
			    "code", code, "detail", detail));
		} else
			json_object_set(d, "quiesce", reply);
		run->op.phase = RP_BEGIN;
		replace_next(run);
		return;
	}
	if (run->op.phase == RP_RESUME && run->op.method == REPLACE_QUIESCE) {
		if (error)
			run_event(run, "replace", json_pack("{ss ss* ss*}", "event",
			    "resume failed", "code", code, "detail", detail));
		run->op.phase = RP_DONE;
		replace_next(run);
		return;
	}
	/* pseudo_s4's answer: it may come before or after the hold ends. */
	run->op.s4_answered = true;
	if (error) {
		if (strcmp(code, "link_down") == 0 || strcmp(code, "timeout") == 0)
			run_finding(run, FINDING_HANG, "engine", "the guest did not "
			    "come back from pseudo-S4", json_pack("{ss ss*}", "code",
			    code, "detail", detail));
		else
			run_finding(run, FINDING_BACKEND_ERROR, "agent",
			    "pseudo-S4 failed in the guest", json_pack("{ss ss*}",
			    "code", code, "detail", detail));
	} else {
		json_object_set(d, "pseudo_s4", reply);
		if (json_is_integer(json_object_get(reply, "stall_ms")))
			json_object_set(d, "stall_ms", json_object_get(reply,
			    "stall_ms"));
	}
	if (run->op.hold_done) {
		run->op.phase = RP_DONE;
		replace_next(run);
	}
}

static void
replace_backend_done(void *arg, int error, const char *cause, json_t *result)
{
	struct run	*run = ticket_take(arg);

	if (run == NULL)
		return;
	if (error) {
		run_finding(run, FINDING_BACKEND_ERROR, "backend", cause ? cause :
		    "replace failed", NULL);
		run_step_end(run, "error");
		run_fail(run, "replace: %s", cause ? cause : "?");
		return;
	}
	if (run->op.phase == RP_BEGIN) {
		run->op.held_ns = clock_mono_ns();
		json_object_set(run->op.detail, "hold", result);
		run->op.phase = RP_HOLD;
	} else {
		json_object_set_new(run->op.detail, "held_ms", json_integer(
		    (json_int_t)((clock_mono_ns() - run->op.held_ns) / 1000000)));
		json_object_set(run->op.detail, "resume", result);
		run->op.hold_done = true;
		run->fault_replace++;
		agent_link_watch(run->link, true);
		run->op.phase = RP_RESUME;
	}
	replace_next(run);
}

/*
 * The backend saw the guest's devices go down (or gave up waiting): the
 * hold may start. A backend that cannot tell is not a failure of the run;
 * the replace goes on and its record says the window was not confirmed.
 */
static void
replace_prepared(void *arg, int error, const char *cause, json_t *result)
{
	struct run	*run = ticket_take(arg);

	if (run == NULL || run->op.phase != RP_SUSPEND)
		return;
	if (error) {
		json_object_set_new(run->op.detail, "devices_suspended",
		    json_false());
		run_event(run, "replace", json_pack("{ss ss*}", "event",
		    "suspend not confirmed", "detail", cause));
	} else {
		json_object_set_new(run->op.detail, "devices_suspended",
		    json_true());
		if (result != NULL)
			json_object_set(run->op.detail, "suspended", result);
	}
	run->op.phase = RP_BEGIN;
	replace_next(run);
}

static void
replace_timer(evutil_socket_t fd, short what, void *arg)
{
	struct run	*run = arg;
	uint64_t	 held_ms;

	if (run->op.kind != OP_REPLACE)
		return;
	if (run->op.phase == RP_SUSPEND)
		run->op.phase = RP_BEGIN;
	else if (run->op.phase == RP_HOLD) {
		/*
		 * libevent's timers run on the coarse clock and may fire a few
		 * ms early: the hold lasts at least the outage asked for.
		 */
		held_ms = (clock_mono_ns() - run->op.held_ns) / 1000000;
		if (held_ms < run->op.outage_ms) {
			op_timer(run, run->op.outage_ms - held_ms, replace_timer);
			return;
		}
		run->op.phase = RP_END;
	}
	replace_next(run);
}

static int
replace_agent(struct run *run, enum proto_type t, json_t *members,
    uint64_t timeout_ms)
{
	struct run_ticket	*tk;
	char			*cause = NULL;

	if ((tk = ticket_new(run)) == NULL) {
		json_decref(members);
		return -1;
	}
	if (agent_link_request(run->link, t, members, timeout_ms,
	    replace_agent_done, tk, &cause) == -1) {
		free(tk);
		run_event(run, "replace", json_pack("{ss ss*}", "event",
		    "agent request failed", "detail", cause));
		free(cause);
		return -1;
	}
	return 0;
}

/* One phase after another; each waits on one callback or timer. */
static void
replace_next(struct run *run)
{
	struct run_ticket	*t;
	struct run_op		*op = &run->op;

	switch (op->phase) {
	case RP_QUIESCE:
		if (replace_agent(run, PROTO_QUIESCE, json_pack("{sI}",
		    "timeout_ms", (json_int_t)(run->plan->workload.io.io_timeout_ms +
		    QUIESCE_EXTRA_MS)), run->plan->workload.io.io_timeout_ms +
		    2 * QUIESCE_EXTRA_MS) == -1) {
			op->phase = RP_BEGIN;
			replace_next(run);
		}
		return;
	case RP_SUSPEND:
		if (replace_agent(run, PROTO_PSEUDO_S4, json_pack("{ss sI}",
		    "level", "devices", "timeout_ms", (json_int_t)(op->outage_ms +
		    S4_EXTRA_MS)), op->outage_ms + S4_EXTRA_MS + 10000) == -1)
			op->s4_answered = true;
		if (!op->s4_answered && backend_has_replace_prepare(run->backend)) {
			if ((t = ticket_new(run)) == NULL)
				return;
			backend_replace_prepare(run->backend, replace_prepared, t);
			return;
		}
		op_timer(run, S4_SETTLE_MS, replace_timer);
		return;
	case RP_BEGIN:
		/* Silence is expected from here until the partition runs again. */
		agent_link_watch(run->link, false);
		run->replace_window = true;
		if ((t = ticket_new(run)) == NULL)
			return;
		backend_replace_begin(run->backend, replace_backend_done, t);
		return;
	case RP_HOLD:
		op_timer(run, op->outage_ms, replace_timer);
		return;
	case RP_END:
		if ((t = ticket_new(run)) == NULL)
			return;
		backend_replace_end(run->backend, replace_backend_done, t);
		return;
	case RP_RESUME:
		if (op->method == REPLACE_QUIESCE) {
			if (replace_agent(run, PROTO_RESUME, NULL, 30000) == -1) {
				op->phase = RP_DONE;
				replace_next(run);
			}
			return;
		}
		if (op->method == REPLACE_PSEUDO_S4 && !op->s4_answered)
			return;	/* replace_agent_done finishes it */
		op->phase = RP_DONE;
		replace_next(run);
		return;
	case RP_DONE:
		run->replace_window = false;
		snprintf(run->replace_label, sizeof run->replace_label, "%s",
		    run->step_label);
		run->replace_end_ns = clock_mono_ns();
		replace_record(run);
		op_done(run);
		return;
	}
}

int
step_run_replace(struct step_run *sr, int unit, int method, uint64_t outage_ms)
{
	struct run	*run = sr->run;

	op_begin(run, OP_REPLACE);
	run->op.unit = unit;
	run->op.method = method;
	run->op.outage_ms = outage_ms;
	run->op.s4_answered = false;
	run->op.hold_done = false;
	/* A dropped channel from here on is part of the replace. */
	run->replace_window = true;
	switch (method) {
	case REPLACE_QUIESCE:
		run->op.phase = RP_QUIESCE;
		break;
	case REPLACE_PSEUDO_S4:
		run->op.phase = RP_SUSPEND;
		break;
	default:
		run->op.phase = RP_BEGIN;
		break;
	}
	replace_next(run);
	return STEP_WAIT;
}

/* expect */

static bool
expect_holds(const struct run *run)
{
	return run->topo_cpus >= run->op.cpus && (run->op.cpus == 0 ||
	    run->topo_cpus == run->op.cpus) && run->topo_memory >= run->op.memory;
}

static void expect_poll(evutil_socket_t, short, void *);

static void
expect_check(struct run *run)
{
	json_t	*d = run->op.detail;
	char	 title[160];

	json_object_set_new(d, "guest_cpus", json_integer(run->topo_cpus));
	json_object_set_new(d, "guest_memory", json_integer(
	    (json_int_t)run->topo_memory));
	if (expect_holds(run)) {
		json_object_set_new(d, "held_after_ms", json_integer((json_int_t)
		    ((clock_mono_ns() - run->op.started_ns) / 1000000)));
		run_event(run, "expect", json_pack("{ss sO}", "event", "held",
		    "detail", d));
		op_done(run);
		return;
	}
	if (clock_mono_ns() >= run->op.deadline_ns) {
		if (run->op.cpus != 0 && run->topo_cpus != run->op.cpus)
			snprintf(title, sizeof title, "the guest shows %u CPUs "
			    "online, not %u", run->topo_cpus, run->op.cpus);
		else
			snprintf(title, sizeof title, "the guest shows %" PRIu64
			    " MiB of memory online, under %" PRIu64 " MiB",
			    run->topo_memory >> 20, run->op.memory >> 20);
		json_object_set_new(d, "want_cpus", json_integer(run->op.cpus));
		json_object_set_new(d, "want_memory_at_least", json_integer(
		    (json_int_t)run->op.memory));
		run_finding(run, FINDING_EXPECT_FAILED, "engine", title,
		    json_deep_copy(d));
		op_done(run);
		return;
	}
	op_timer(run, EXPECT_POLL_MS, expect_poll);
}

static void
expect_topology(void *arg, int error, const char *code, const char *detail,
    json_t *reply)
{
	struct run	*run = ticket_take(arg);
	uint64_t	 v;
	json_t		*o;

	if (run == NULL)
		return;
	run->op.polling = false;
	if (!error) {
		o = json_object_get(json_object_get(reply, "cpus"), "online");
		if (json_is_integer(o) && (v = (uint64_t)json_integer_value(o)))
			run->topo_cpus = (unsigned)v;
		o = json_object_get(json_object_get(reply, "memory"),
		    "online_bytes");
		if (json_is_integer(o))
			run->topo_memory = (uint64_t)json_integer_value(o);
		run_topology_seen(run);
	}
	expect_check(run);
}

static void
expect_poll(evutil_socket_t fd, short what, void *arg)
{
	struct run		*run = arg;
	struct run_ticket	*t;
	char			*cause = NULL;

	if (run->op.kind != OP_EXPECT || run->op.polling)
		return;
	if (!agent_link_up(run->link) || (t = ticket_new(run)) == NULL) {
		expect_check(run);
		return;
	}
	if (agent_link_request(run->link, PROTO_GET_TOPOLOGY, NULL,
	    TOPOLOGY_TIMEOUT_MS, expect_topology, t, &cause) == -1) {
		free(t);
		free(cause);
		expect_check(run);
		return;
	}
	run->op.polling = true;
}

int
step_run_expect(struct step_run *sr, unsigned cpus, uint64_t memory,
    uint64_t within_ms)
{
	struct run	*run = sr->run;

	op_begin(run, OP_EXPECT);
	run->op.cpus = cpus;
	run->op.memory = memory;
	run->op.polling = false;
	run->op.deadline_ns = clock_mono_ns() + within_ms * 1000000ULL;
	expect_poll(-1, 0, run);
	return STEP_WAIT;
}

/* repeat and random: frames on the run's stack */

static struct run_frame *
frame_push(struct run *run, int kind, const struct plan_steps *steps)
{
	struct run_frame	*f;

	if (run->nframes >= RUN_MAX_FRAMES)
		return NULL;
	f = &run->frames[run->nframes++];
	memset(f, 0, sizeof *f);
	f->kind = kind;
	f->steps = steps;
	f->end = steps->n;
	snprintf(f->path, sizeof f->path, "%.200s", run->step_path);
	return f;
}

int
step_run_repeat(struct step_run *sr, const struct plan_steps *steps,
    unsigned times)
{
	struct run		*run = sr->run;
	struct run_frame	*f;

	if ((f = frame_push(run, FRAME_REPEAT, steps)) == NULL)
		return STEP_FAILED;
	f->times = times;
	run_step_end(run, "done");
	return STEP_DONE;
}

int
step_run_random(struct step_run *sr, const struct plan_steps *choose,
    uint64_t min_ms, uint64_t max_ms, unsigned times)
{
	struct run		*run = sr->run;
	struct run_frame	*f;

	if ((f = frame_push(run, FRAME_RANDOM, choose)) == NULL)
		return STEP_FAILED;
	f->times = times;
	f->min_ms = min_ms;
	f->max_ms = max_ms;
	run_step_end(run, "done");
	return STEP_DONE;
}

/* The next seeded number; a run's choices replay from its seed. */
static uint64_t
run_random(struct run *run)
{
	run->rng = splitmix64(run->rng);
	return run->rng;
}

static void
random_fired(evutil_socket_t fd, short what, void *arg)
{
	struct run	*run = arg;

	if (run->op.kind != OP_SLEEP)
		return;
	run->op.kind = OP_NONE;
	run->op.gen++;
	run_steps_next(run);
}

/* Start one step: record it, then its exec hook. */
static int
step_begin(struct run *run, struct run_frame *f, const struct plan_step *st,
    size_t index)
{
	int	 rc;

	if (run->nframes == 1)
		run->top_index = index + 1;
	if (f->kind == FRAME_LIST && run->nframes == 1)
		snprintf(run->step_path, sizeof run->step_path, "%zu", index);
	else if (f->kind == FRAME_LIST)
		snprintf(run->step_path, sizeof run->step_path, "%.200s.%zu", f->path,
		    index);
	else
		snprintf(run->step_path, sizeof run->step_path, "%.200s[%u].%zu",
		    f->path, f->iter + 1, index);
	run->step = st;
	run->step_started_ns = clock_wall_ns();
	run->step_seq++;
	snprintf(run->step_label, sizeof run->step_label, "%s %s%s%.60s",
	    run->step_path, st->entry->name, st->name ? " " : "",
	    st->name ? st->name : "");
	json_decref(run->op.detail);
	run->op.detail = NULL;
	step_put(run, "running", 0);
	log_debug("run %" PRId64 ": step %s", run->id, run->step_label);
	rc = st->entry->exec(&run->sr, st->data);
	if (rc == STEP_FAILED)
		run_step_end(run, "error");
	return rc;
}

/* Run steps until one waits, the list ends, or something fails. */
void
run_steps_next(struct run *run)
{
	struct run_frame	*f;
	const struct plan_step	*st;
	uint64_t		 ms;
	size_t			 k;
	int			 rc;

	while (run->state == RUN_S_STEPPING && !run->ending) {
		if (run->nframes == 0) {
			run_steps_finished(run);
			return;
		}
		f = &run->frames[run->nframes - 1];
		if (f->kind == FRAME_RANDOM) {
			if (f->iter >= f->times) {
				run->nframes--;
				continue;
			}
			if (!f->waited) {
				f->waited = true;
				ms = f->min_ms + (f->max_ms > f->min_ms ?
				    run_random(run) % (f->max_ms - f->min_ms + 1) : 0);
				run->op.kind = OP_SLEEP;
				run->op.gen++;
				op_timer(run, ms, random_fired);
				return;
			}
			f->waited = false;
			k = (size_t)(run_random(run) % f->steps->n);
			st = &f->steps->v[k];
			f->iter++;
			rc = step_begin(run, f, st, k);
		} else {
			if (f->index >= f->end) {
				if (f->kind == FRAME_REPEAT && ++f->iter < f->times) {
					f->index = 0;
					continue;
				}
				run->nframes--;
				continue;
			}
			k = f->index++;
			st = &f->steps->v[k];
			rc = step_begin(run, f, st, k);
		}
		if (rc == STEP_WAIT)
			return;
		if (rc == STEP_FAILED) {
			run_fail(run, "step %s could not start", run->step_path);
			return;
		}
	}
}

void
run_steps_begin(struct run *run)
{
	struct run_frame	*f;

	run->nframes = 0;
	run->top_index = 0;
	run->step_path[0] = '\0';
	f = frame_push(run, FRAME_LIST, &run->plan->steps);
	(void)f;
	run_steps_next(run);
}

/* inject */

/* The agent answers a crash request before it writes the trigger. */
#define INJECT_ANSWER_MS	10000
/* From the agent's answer to the backend's crash report. */
#define INJECT_CRASH_MS		30000

/* What each enum inject_fault asks of the agent. */
static const struct inject_request {
	enum proto_type	 type;
	const char	*method;
} inject_requests[] = {
	[INJECT_PANIC] = { PROTO_CRASH, "sysrq" },
};

/*
 * From the request on, the guest is meant to die: a dropped channel and
 * missing heartbeats are expected, as in a replace's hold, and the
 * backend's crash report, not a hang, says what happened. Undone when the
 * guest lives on.
 */
static void
inject_expect_silence(struct run *run, bool on)
{
	agent_link_watch(run->link, !on);
	run->replace_window = on;
}

static void
inject_overdue(evutil_socket_t fd, short what, void *arg)
{
	struct run	*run = arg;
	char		 title[128];

	if (run->op.kind != OP_INJECT)
		return;
	snprintf(title, sizeof title, "inject %s: the guest did not crash within "
	    "%d s", inject_fault_names[run->op.fault], INJECT_CRASH_MS / 1000);
	inject_expect_silence(run, false);
	run_finding(run, FINDING_EXPECT_FAILED, "engine", title,
	    json_deep_copy(run->op.detail));
	run_step_end(run, "error");
	run_fail(run, "%s", title);
}

static void
inject_answered(void *arg, int error, const char *code, const char *detail,
    json_t *reply)
{
	struct run	*run = ticket_take(arg);
	const char	*name;
	char		 title[256];
	json_t		*answer;

	if (run == NULL)
		return;
	name = inject_fault_names[run->op.fault];
	if (error && strcmp(code, AGENT_LINK_E_LINK_DOWN) != 0 &&
	    strcmp(code, AGENT_LINK_E_TIMEOUT) != 0) {
		/* Refused: the guest is as it was and the step did nothing. */
		inject_expect_silence(run, false);
		snprintf(title, sizeof title, "inject %s: the agent refused: %s: %s",
		    name, code, detail ? detail : "");
		run_event(run, "inject", json_pack("{ss ss ss ss*}", "fault", name,
		    "event", "refused", "code", code, "detail", detail));
		run_finding(run, FINDING_BACKEND_ERROR, "agent", title, json_pack(
		    "{ss ss ss*}", "fault", name, "code", code, "detail", detail));
		run_step_end(run, "error");
		run_fail(run, "%s", title);
		return;
	}
	/* No answer is no failure: the guest may die before its reply leaves. */
	answer = error ? json_pack("{ss ss*}", "code", code, "detail", detail) :
	    json_incref(reply);
	json_object_set(run->op.detail, "agent", answer);
	run_event(run, "inject", json_pack("{ss ss so}", "fault", name, "event",
	    error ? "no answer" : "accepted", "agent", answer));
	op_timer(run, INJECT_CRASH_MS, inject_overdue);
}

int
step_run_inject(struct step_run *sr, int fault)
{
	struct run			*run = sr->run;
	const struct inject_request	*rq = &inject_requests[fault];
	const char			*name = inject_fault_names[fault];
	struct run_ticket		*t;
	char				*cause = NULL;

	op_begin(run, OP_INJECT);
	run->op.fault = fault;
	json_object_set_new(run->op.detail, "fault", json_string(name));
	json_object_set_new(run->op.detail, "method", json_string(rq->method));
	if ((t = ticket_new(run)) == NULL)
		return STEP_FAILED;
	if (agent_link_request(run->link, rq->type, json_pack("{ss}", "method",
	    rq->method), INJECT_ANSWER_MS, inject_answered, t, &cause) == -1) {
		free(t);
		run_event(run, "inject", json_pack("{ss ss ss*}", "fault", name,
		    "event", "agent request failed", "detail", cause));
		free(cause);
		return STEP_FAILED;
	}
	inject_expect_silence(run, true);
	run_event(run, "inject", json_pack("{ss ss ss}", "fault", name, "event",
	    "sent", "method", rq->method));
	return STEP_WAIT;
}
