/* request.c: the daemon's requests to the agent: a table of handlers, each
 * ending in exactly one reply or error (or a job whose end answers), the
 * configure checks, and the helper-thread jobs for start and stop. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-int.h"
#include "io-json.h"
#include "log.h"
#include "hotsoak/util.h"

#define CONFIG_MS_MIN	10
#define CONFIG_MS_MAX	3600000ULL

const char *const agent_job_names[AGENT_JOB_COUNT] = {
	[AGENT_JOB_START] = "start",
	[AGENT_JOB_STOP] = "stop",
	[AGENT_JOB_QUIESCE] = "quiesce",
	[AGENT_JOB_PSEUDO_S4] = "pseudo_s4",
	[AGENT_JOB_ADD_TARGET] = "add_target",
};

typedef enum agent_req_result (*agent_req_fn)(struct agent *,
    const struct link_req *, const json_t *);

struct agent_req_entry {
	enum proto_type	 type;
	agent_req_fn	 handler;
	bool		 exclusive;	/* refused (busy) while a job runs */
};

static enum agent_req_result	req_configure(struct agent *,
				    const struct link_req *, const json_t *);
static enum agent_req_result	req_start(struct agent *,
				    const struct link_req *, const json_t *);
static enum agent_req_result	req_stop(struct agent *,
				    const struct link_req *, const json_t *);
static enum agent_req_result	req_resume(struct agent *,
				    const struct link_req *, const json_t *);
static enum agent_req_result	req_online(struct agent *,
				    const struct link_req *, const json_t *);
static enum agent_req_result	req_get_topology(struct agent *,
				    const struct link_req *, const json_t *);

static const struct agent_req_entry agent_req_table[] = {
	{ PROTO_CONFIGURE, req_configure, true },
	{ PROTO_START, req_start, true },
	{ PROTO_STOP, req_stop, true },
	{ PROTO_QUIESCE, s4_quiesce, true },
	{ PROTO_RESUME, req_resume, true },
	{ PROTO_PSEUDO_S4, s4_pseudo, true },
	{ PROTO_ONLINE, req_online, false },
	{ PROTO_GET_TOPOLOGY, req_get_topology, false },
	/* Not refused while a job runs: a panic waits for nothing. */
	{ PROTO_CRASH, crash_request, false },
	{ PROTO_ADD_TARGET, target_add, true },
	{ PROTO_TYPE_COUNT, NULL, false }
};

const char *
agent_req_missing(void)
{
	const struct agent_req_entry	*e;
	int				 t;

	for (t = 0; t < PROTO_TYPE_COUNT; t++) {
		if (!proto_types[t].request ||
		    !(proto_types[t].to & PROTO_TO_AGENT))
			continue;
		for (e = agent_req_table; e->handler != NULL; e++)
			if ((int)e->type == t)
				break;
		if (e->handler == NULL)
			return proto_types[t].name;
	}
	return NULL;
}

static enum agent_req_result
reply(struct agent *a, const struct link_req *req, json_t *fields)
{
	link_reply(a->link, req, fields);
	return AGENT_REQ_DONE;
}

static enum agent_req_result
refuse(struct agent *a, const struct link_req *req, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum agent_req_result
refuse(struct agent *a, const struct link_req *req, const char *code,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*detail = NULL;

	va_start(ap, fmt);
	if (vasprintf(&detail, fmt, ap) == -1)
		detail = NULL;
	va_end(ap);
	link_error(a->link, req, code, "%s", detail ? detail : code);
	free(detail);
	return AGENT_REQ_DONE;
}

void
agent_on_request(void *arg, const struct link_req *req,
    const struct proto_msg *msg)
{
	struct agent			*a = arg;
	const struct agent_req_entry	*e;
	uint64_t			 before = link_answers(a->link);
	enum agent_req_result		 r;

	for (e = agent_req_table; e->handler != NULL; e++)
		if (e->type == req->type)
			break;
	log_info("request %s %llu", proto_type_name(req->type),
	    (unsigned long long)req->id);
	if (e->handler == NULL) {
		refuse(a, req, PROTO_E_UNKNOWN_TYPE, "%s: this agent has no "
		    "handler for it", proto_type_name(req->type));
		return;
	}
	if (e->exclusive && a->job != NULL) {
		refuse(a, req, PROTO_E_BUSY, "%s %llu is still in progress",
		    agent_job_names[a->job->kind],
		    (unsigned long long)a->job->req.id);
		return;
	}
	r = e->handler(a, req, msg->obj);
	/* The table's promise: every request gets exactly one answer. */
	if (r == AGENT_REQ_DONE && link_answers(a->link) == before) {
		log_errorx("%s %llu: handler gave no answer",
		    proto_type_name(req->type), (unsigned long long)req->id);
		link_error(a->link, req, PROTO_E_FAILED, "internal error: "
		    "no answer");
	}
}

/* configure */

/* A member of o, checked; NULL *field on success, else *why is set. */
struct check {
	const json_t	*o;
	const char	*prefix;
	char		 field[64];
	char		 why[300];
	bool		 bad;
};

static void
check_fail(struct check *c, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
check_fail(struct check *c, const char *name, const char *fmt, ...)
{
	va_list	ap;
	char	msg[200];

	if (c->bad)
		return;
	c->bad = true;
	snprintf(c->field, sizeof c->field, "%s%s", c->prefix ? c->prefix : "",
	    name);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(c->why, sizeof c->why, "%s: %s", c->field, msg);
}

static uint64_t
get_uint(struct check *c, const char *name, bool required, uint64_t def,
    uint64_t min, uint64_t max)
{
	const json_t	*v = json_object_get(c->o, name);
	json_int_t	 i;

	if (v == NULL) {
		if (required)
			check_fail(c, name, "missing");
		return def;
	}
	if (!json_is_integer(v) || (i = json_integer_value(v)) < 0) {
		check_fail(c, name, "must be a non-negative integer");
		return def;
	}
	if ((uint64_t)i < min || (uint64_t)i > max) {
		check_fail(c, name, "must be %llu to %llu, not %lld",
		    (unsigned long long)min, (unsigned long long)max,
		    (long long)i);
		return def;
	}
	return (uint64_t)i;
}

static bool
get_bool(struct check *c, const char *name, bool def)
{
	const json_t	*v = json_object_get(c->o, name);

	if (v == NULL)
		return def;
	if (!json_is_boolean(v)) {
		check_fail(c, name, "must be true or false");
		return def;
	}
	return json_is_true(v);
}

/* One of choices (NULL-terminated), as its index; def when absent. */
static int
get_choice(struct check *c, const char *name, const char *const *choices,
    int def)
{
	const json_t	*v = json_object_get(c->o, name);
	int		 i;

	if (v == NULL)
		return def;
	if (json_is_string(v))
		for (i = 0; choices[i] != NULL; i++)
			if (strcmp(json_string_value(v), choices[i]) == 0)
				return i;
	check_fail(c, name, "must be one of %s%s%s%s%s", choices[0],
	    choices[1] ? ", " : "", choices[1] ? choices[1] : "",
	    choices[1] && choices[2] ? ", " : "",
	    choices[1] && choices[2] ? choices[2] : "");
	return def;
}

static void
parse_workload(struct check *c, struct agent_workload *w)
{
	static const char *const patterns[] = { "random", "sequential", NULL };
	static const char *const verifies[] = { "crc32c", "none", NULL };
	static const char *const engines[] = { "aio", "sync", NULL };
	const json_t	*v;

	memset(w, 0, sizeof *w);
	v = json_object_get(c->o, "path");
	if (v == NULL || !json_is_string(v) || json_string_length(v) == 0)
		check_fail(c, "path", "must be the path of a file or device");
	else if (strcmp(json_string_value(v), "auto") == 0)
		check_fail(c, "path", "`auto` is the daemon's to resolve; send "
		    "the disk's path");
	else if (json_string_value(v)[0] != '/')
		check_fail(c, "path", "must be absolute");
	w->block_size = get_uint(c, "block_size", false, 4096, STAMP_MIN_BLOCK,
	    64ULL << 20);
	if (!c->bad && w->block_size % STAMP_SECTOR != 0)
		check_fail(c, "block_size", "must be a multiple of %d",
		    STAMP_SECTOR);
	w->size = get_uint(c, "size", true, 0, 1, INT64_MAX);
	if (!c->bad && (w->size < w->block_size || w->size % w->block_size))
		check_fail(c, "size", "must be a multiple of block_size (%llu)",
		    (unsigned long long)w->block_size);
	if (!c->bad && w->size / w->block_size > IO_MAX_BLOCKS)
		check_fail(c, "size", "is %llu blocks; at most %llu: use a "
		    "larger block_size", (unsigned long long)(w->size /
		    w->block_size), (unsigned long long)IO_MAX_BLOCKS);
	w->queue_depth = (unsigned)get_uint(c, "queue_depth", false, 4, 1,
	    IO_MAX_DEPTH);
	v = json_object_get(c->o, "workers");
	if (v != NULL && json_is_string(v)) {
		if (strcmp(json_string_value(v), "per-cpu") != 0)
			check_fail(c, "workers", "must be `per-cpu` or a number");
		w->workers = 0;
	} else
		w->workers = (unsigned)get_uint(c, "workers", false, 0, 0,
		    IO_MAX_WORKERS);
	w->read_percent = (unsigned)get_uint(c, "read_percent", false, 50, 0,
	    100);
	w->sequential = get_choice(c, "pattern", patterns, 0) == 1;
	v = json_object_get(c->o, "verify");
	if (v != NULL && json_is_boolean(v))
		w->verify = json_is_true(v);
	else
		w->verify = get_choice(c, "verify", verifies, 0) == 0;
	w->io_timeout_ms = get_uint(c, "io_timeout_ms", false, 30000, 1,
	    86400000ULL);
	w->direct = get_bool(c, "direct", true);
	w->fill = get_bool(c, "fill", true);
	w->seed = get_uint(c, "seed", false, 1, 0, INT64_MAX);
	w->engine = get_choice(c, "engine", engines, 0) == 1 ?
	    &io_engine_sync : &io_engine_aio;
	if (!c->bad && (w->path = strdup(json_string_value(json_object_get(c->o,
	    "path")))) == NULL)
		check_fail(c, "path", "out of memory");
}

static enum agent_req_result
req_configure(struct agent *a, const struct link_req *req, const json_t *obj)
{
	static const char *const states[] = { "online", "online_movable",
	    "online_kernel", NULL };
	struct agent_config	 cfg;
	struct check		 c;
	const json_t		*mem;
	int			 st;

	if (a->state != AGENT_IDLE)
		return refuse(a, req, PROTO_E_BUSY, "the workload is %s: stop it "
		    "before configuring again", agent_state_names[a->state]);
	memset(&cfg, 0, sizeof cfg);
	memset(&c, 0, sizeof c);
	c.o = obj;
	cfg.heartbeat_ms = get_uint(&c, "heartbeat_ms", true, 0, CONFIG_MS_MIN,
	    CONFIG_MS_MAX);
	cfg.report_ms = get_uint(&c, "report_ms", true, 0, CONFIG_MS_MIN,
	    CONFIG_MS_MAX);
	cfg.online = get_bool(&c, "online", false);
	st = get_choice(&c, "memory_state", states, 1);
	snprintf(cfg.memory_state, sizeof cfg.memory_state, "%s", states[st]);
	if (!c.bad) {
		c.o = json_object_get(obj, "workload");
		c.prefix = "workload.";
		parse_workload(&c, &cfg.w);
	}
	if (!c.bad && (mem = json_object_get(obj, "memory")) != NULL) {
		c.o = mem;
		c.prefix = "memory.";
		cfg.mem_size = get_uint(&c, "size", false, 0, 0, INT64_MAX);
		cfg.mem_interval_ms = get_uint(&c, "interval_ms", false, 10000,
		    CONFIG_MS_MIN, CONFIG_MS_MAX);
	}
	if (c.bad) {
		free(cfg.w.path);
		return refuse(a, req, PROTO_E_BAD_FIELD, "%s", c.why);
	}
	cfg.configured = true;
	free(a->cfg.w.path);
	a->cfg = cfg;
	a->next_heartbeat_ns = clock_mono_ns() + cfg.heartbeat_ms * MS_NS;
	log_info("configured: %s, %llu bytes in %llu-byte blocks, depth %u, "
	    "%s workers, heartbeat %llu ms, report %llu ms%s", cfg.w.path,
	    (unsigned long long)cfg.w.size, (unsigned long long)cfg.w.block_size,
	    cfg.w.queue_depth, cfg.w.workers ? "fixed" : "per-cpu",
	    (unsigned long long)cfg.heartbeat_ms,
	    (unsigned long long)cfg.report_ms, cfg.online ? ", online" : "");
	return reply(a, req, NULL);
}

/* jobs */

void
agent_job_free(struct agent_job *j)
{
	if (j == NULL)
		return;
	free(j->w.path);
	free(j->cause);
	json_decref(j->result);
	free(j);
}

/* Helper threads end here: the loop joins and answers. */
static void
job_post(struct agent_job *j)
{
	struct agent_event	*e;

	/* Without memory for the event the loop would wait forever: spin. */
	while ((e = calloc(1, sizeof *e)) == NULL)
		usleep(1000);
	e->kind = AGENT_EV_JOB;
	e->job = j;
	agent_post(j->a, e);
}

static void *
job_main(void *arg)
{
	struct agent_job	*j = arg;
	void			*(*fn)(void *) = j->fn;

	fn(j);
	job_post(j);
	return NULL;
}

int
agent_job_launch(struct agent *a, struct agent_job *j, void *(*fn)(void *))
{
	int	err;

	j->a = a;
	j->fn = fn;
	j->prev_state = a->state;
	a->job = j;
	if ((err = pthread_create(&j->thread, NULL, job_main, j)) != 0) {
		a->job = NULL;
		errno = err;
		return -1;
	}
	return 0;
}

static void
job_answer(struct agent *a, struct agent_job *j)
{
	if (j->answered) {
		log_info("%s %llu finished after its answer: %s",
		    agent_job_names[j->kind], (unsigned long long)j->req.id,
		    j->rc == 0 ? "done" : j->cause ? j->cause : "failed");
		return;
	}
	j->answered = true;
	if (j->rc == 0) {
		link_reply(a->link, &j->req, j->result);
		j->result = NULL;
	} else
		link_error(a->link, &j->req, j->code ? j->code : PROTO_E_FAILED,
		    "%s", j->cause ? j->cause : "failed");
}

/* The engine's settings for workload w (the caller sets path and events). */
void
agent_io_config(const struct agent *a, const struct agent_workload *w,
    struct io_config *c)
{
	memset(c, 0, sizeof *c);
	c->size = w->size;
	c->block_size = w->block_size;
	c->queue_depth = w->queue_depth;
	c->workers = w->workers;
	c->read_percent = w->read_percent;
	c->sequential = w->sequential;
	c->verify = w->verify;
	c->direct = w->direct;
	c->io_timeout_ns = w->io_timeout_ms * MS_NS;
	c->seed = w->seed;
	c->engine = a->engine != NULL ? a->engine : w->engine;
}

static void *
start_main(void *arg)
{
	struct agent_job	*j = arg;
	struct agent		*a = j->a;
	struct io_config	 c;
	struct io_run		*run;
	const char		*step = "";

	agent_io_config(a, &j->w, &c);
	c.path = j->w.path;
	c.on_event = agent_io_event;
	c.arg = a;
	j->rc = -1;
	j->code = PROTO_E_FAILED;
	if ((run = io_run_new(&c, &j->cause)) == NULL)
		return NULL;
	if (j->w.fill && io_run_fill(run, &j->cause) == -1)
		step = "fill: ";
	else if (io_run_start(run, &j->cause) == -1)
		step = "start: ";
	else {
		j->made = run;
		j->rc = 0;
		return NULL;
	}
	io_run_free(run);
	if (j->cause != NULL && *step != '\0') {
		char	*c2 = NULL;

		if (asprintf(&c2, "%s%s", step, j->cause) != -1) {
			free(j->cause);
			j->cause = c2;
		}
	}
	return NULL;
}

static enum agent_req_result
req_start(struct agent *a, const struct link_req *req, const json_t *obj)
{
	struct agent_job	*j;

	if (!a->cfg.configured)
		return refuse(a, req, PROTO_E_BUSY, "not configured: send "
		    "configure first");
	if (a->state != AGENT_IDLE)
		return refuse(a, req, PROTO_E_BUSY, "the workload is already %s",
		    agent_state_names[a->state]);
	if ((j = calloc(1, sizeof *j)) == NULL)
		return refuse(a, req, PROTO_E_FAILED, "out of memory");
	j->kind = AGENT_JOB_START;
	j->req = *req;
	j->w = a->cfg.w;
	if ((j->w.path = strdup(a->cfg.w.path)) == NULL ||
	    agent_job_launch(a, j, start_main) == -1) {
		agent_job_free(j);
		return refuse(a, req, PROTO_E_FAILED, "cannot start a thread: %s",
		    strerror(errno));
	}
	return AGENT_REQ_WAIT;
}

static void
start_done(struct agent *a, struct agent_job *j)
{
	struct io_totals	t;
	char			hex[19];

	if (j->rc == 0) {
		a->run = j->made;
		j->made = NULL;
		report_start(a);
		io_run_totals(a->run, &t);
		snprintf(hex, sizeof hex, "0x%016llx",
		    (unsigned long long)io_run_id(a->run));
		j->result = json_pack("{s:s, s:i}", "run_id", hex,
		    "workers", (int)t.workers);
		a->next_report_ns = clock_mono_ns() + a->cfg.report_ms * MS_NS;
		if (a->cfg.mem_size > 0)
			a->next_memload_ns = clock_mono_ns() +
			    a->cfg.mem_interval_ms * MS_NS;
		agent_set_state(a, AGENT_RUNNING);
		log_info("workload %s started on %s with %u workers", hex,
		    a->cfg.w.path, t.workers);
	}
	job_answer(a, j);
}

static void *
stop_main(void *arg)
{
	struct agent_job	*j = arg;
	char			*cause = NULL;
	unsigned		 i;

	io_run_stop(j->run);
	for (i = 0; i < j->nextra; i++)
		io_run_stop(j->extra[i]->run);
	j->rc = io_run_verify(j->run, &j->cause);
	/* Every disk is read back, whatever another one's pass did. */
	for (i = 0; i < j->nextra; i++) {
		if (io_run_verify(j->extra[i]->run, &cause) == -1 && j->rc == 0) {
			j->rc = -1;
			cause_set(&j->cause, "%s: %s", j->extra[i]->path,
			    cause != NULL ? cause : "verify failed");
		}
		free(cause);
		cause = NULL;
	}
	if (j->rc == -1)
		j->code = PROTO_E_FAILED;
	return NULL;
}

static enum agent_req_result
req_stop(struct agent *a, const struct link_req *req, const json_t *obj)
{
	struct agent_job	*j;

	if (a->run == NULL)
		return refuse(a, req, PROTO_E_BUSY, "no workload is running");
	if ((j = calloc(1, sizeof *j)) == NULL)
		return refuse(a, req, PROTO_E_FAILED, "out of memory");
	j->kind = AGENT_JOB_STOP;
	j->req = *req;
	j->run = a->run;
	targets_borrow(a, j);
	if (agent_job_launch(a, j, stop_main) == -1) {
		agent_job_free(j);
		return refuse(a, req, PROTO_E_FAILED, "cannot start a thread: %s",
		    strerror(errno));
	}
	/* Until the job ends, the run is the job's and reports wait. */
	a->next_report_ns = 0;
	a->next_memload_ns = 0;
	return AGENT_REQ_WAIT;
}

static void
stop_done(struct agent *a, struct agent_job *j)
{
	struct io_totals	 t;
	struct hist		*h;

	/* The last report: from the one before to the end of the verify pass. */
	report_send(a, clock_mono_ns());
	io_run_totals(a->run, &t);
	targets_add_totals(a, &t);
	if ((h = calloc(1, sizeof *h)) != NULL) {
		io_run_latency(a->run, h);
		targets_add_latency(a, h);
	}
	if (j->rc == 0) {
		j->result = json_pack("{s:o, s:o}", "counters",
		    io_totals_to_json(&t), "latency", h ? hist_to_json(h) :
		    json_object());
		/* Each hot-added disk's own counters, its verify pass included. */
		if (j->result != NULL && a->ntargets > 0)
			json_object_set_new(j->result, "targets",
			    targets_to_json(a));
	}
	free(h);
	log_info("workload stopped: %llu I/Os, %llu blocks verified, %llu "
	    "errors, %llu timeouts, %llu corruptions",
	    (unsigned long long)t.ios, (unsigned long long)t.verified,
	    (unsigned long long)t.errors, (unsigned long long)t.timeouts,
	    (unsigned long long)t.corruptions);
	io_run_free(a->run);
	a->run = NULL;
	j->run = NULL;
	targets_free(a);
	j->nextra = 0;
	agent_set_state(a, AGENT_IDLE);
	job_answer(a, j);
}

void
agent_job_done(struct agent *a, struct agent_job *j)
{
	pthread_join(j->thread, NULL);
	a->job = NULL;
	switch (j->kind) {
	case AGENT_JOB_START:
		start_done(a, j);
		break;
	case AGENT_JOB_STOP:
		stop_done(a, j);
		break;
	case AGENT_JOB_QUIESCE:
		s4_quiesce_done(a, j);
		break;
	case AGENT_JOB_PSEUDO_S4:
		s4_done(a, j);
		break;
	case AGENT_JOB_ADD_TARGET:
		target_add_done(a, j);
		break;
	case AGENT_JOB_COUNT:
		break;
	}
	agent_job_free(j);
}

/* the rest */

static enum agent_req_result
req_resume(struct agent *a, const struct link_req *req, const json_t *obj)
{
	/* Resuming what is not held is no error: the daemon may not know. */
	if (a->run != NULL && a->state == AGENT_QUIESCED) {
		io_run_resume(a->run);
		targets_resume(a);
		agent_set_state(a, AGENT_RUNNING);
	}
	return reply(a, req, json_pack("{s:s}", "state",
	    agent_state_names[a->state]));
}

static enum agent_req_result
req_online(struct agent *a, const struct link_req *req, const json_t *obj)
{
	const json_t	*st = json_object_get(obj, "memory_state");
	unsigned	 cpus = 0, blocks = 0;
	char		*cause = NULL, *mcause = NULL;
	int		 rc = 0;

	if (json_is_true(json_object_get(obj, "cpus")))
		rc |= topo_online_cpus(a->root, &cpus, &cause);
	if (json_is_true(json_object_get(obj, "memory")))
		rc |= topo_online_memory(a->root, st ? json_string_value(st) :
		    a->cfg.memory_state, &blocks, &mcause);
	log_info("online: %u CPUs and %u memory blocks brought online", cpus,
	    blocks);
	/* What changed goes out as a topology message too, and gets workers. */
	hotplug_rescan(a);
	if (rc != 0) {
		refuse(a, req, PROTO_E_FAILED, "%s%s%s (%u CPUs, %u memory "
		    "blocks onlined)", cause ? cause : "",
		    cause && mcause ? "; " : "", mcause ? mcause : "", cpus, blocks);
		free(cause);
		free(mcause);
		return AGENT_REQ_DONE;
	}
	return reply(a, req, json_pack("{s:i, s:i}", "cpus_onlined", (int)cpus,
	    "blocks_onlined", (int)blocks));
}

static enum agent_req_result
req_get_topology(struct agent *a, const struct link_req *req,
    const json_t *obj)
{
	struct topo	*t;
	char		*cause = NULL;
	json_t		*snap;

	if (a->topo != NULL) {
		hotplug_rescan(a);
		return reply(a, req, hotplug_snapshot_json(
		    topo_watch_snapshot(a->topo)));
	}
	if ((t = calloc(1, sizeof *t)) == NULL)
		return refuse(a, req, PROTO_E_FAILED, "out of memory");
	if (topo_read(a->root, t, &cause) == -1) {
		free(t);
		refuse(a, req, PROTO_E_FAILED, "%s", cause ? cause : "?");
		free(cause);
		return AGENT_REQ_DONE;
	}
	snap = hotplug_snapshot_json(t);
	free(t);
	return reply(a, req, snap);
}
