/* runs.c: the runs in flight in one hotsoakd: each submitted plan gets a
 * store row, a seed and a run; finished runs leave the set. */
#include "config.h"

#include <sys/queue.h>
#include <sys/random.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "log.h"
#include "run.h"
#include "runner.h"
#include "runs.h"
#include "store.h"

#define RUNS_MAX_DEFAULT	256

struct runs_entry {
	struct run		*run;		/* NULL: its set-up failed */
	int64_t			 id;
	struct runs		*runs;
	const char		*verdict;	/* what was recorded, static */
	void			(*done)(void *, int64_t, const char *);
	void			*done_arg;
	TAILQ_ENTRY(runs_entry)	 entry;
};

struct runs {
	struct event_base	*base;
	struct store		*store;
	char			*state_dir;
	char			*agent_binary;
	char			*guest_dir;
	unsigned		 max_active;
	unsigned		 active;
	bool			 closing;
	void			(*closed)(void *);
	void			*closed_arg;
	TAILQ_HEAD(, runs_entry) list;
};

struct runs *
runs_new(struct event_base *base, struct store *store,
    const struct runs_config *cfg, char **cause)
{
	struct runs	*rs;

	if ((rs = calloc(1, sizeof *rs)) == NULL ||
	    (rs->state_dir = strdup(cfg->state_dir)) == NULL ||
	    (rs->agent_binary = strdup(cfg->agent_binary)) == NULL ||
	    (cfg->guest_dir != NULL &&
	    (rs->guest_dir = strdup(cfg->guest_dir)) == NULL)) {
		runs_free(rs);
		cause_set(cause, "out of memory");
		return NULL;
	}
	rs->base = base;
	rs->store = store;
	rs->max_active = cfg->max_active ? cfg->max_active : RUNS_MAX_DEFAULT;
	TAILQ_INIT(&rs->list);
	return rs;
}

static void
runs_reap(evutil_socket_t fd, short what, void *arg)
{
	struct runs_entry	*e = arg;
	struct runs		*rs = e->runs;

	if (e->done != NULL)
		e->done(e->done_arg, e->id, e->verdict);
	run_free(e->run);
	free(e);
	if (rs->closing && rs->active == 0 && rs->closed != NULL) {
		rs->closed(rs->closed_arg);
		rs->closed = NULL;
	}
}

/* A run whose set-up failed: its owner is told, nothing else is in flight. */
static void
runs_reap_failed(evutil_socket_t fd, short what, void *arg)
{
	struct runs_entry	*e = arg;

	e->done(e->done_arg, e->id, e->verdict);
	free(e);
}

/* The run is recorded; free it from the loop, not from inside its own call. */
static void
runs_finished(void *arg, struct run *run)
{
	struct runs_entry	*e = arg;
	struct runs		*rs = e->runs;

	TAILQ_REMOVE(&rs->list, e, entry);
	rs->active--;
	e->verdict = run_verdict(run);
	if (event_base_once(rs->base, -1, EV_TIMEOUT, runs_reap, e, NULL) == -1)
		log_warnx("run %" PRId64 ": cannot schedule its cleanup", e->id);
}

/* A seed from the plan, or chosen now and recorded: every run replays. */
static uint64_t
runs_seed(const struct plan *p)
{
	uint64_t	s = 0;

	if (!p->seed_random)
		return p->seed;
	if (getrandom(&s, sizeof s, 0) != (ssize_t)sizeof s)
		s = splitmix64(clock_wall_ns() ^ clock_mono_ns());
	/* Kept under 2^63 so that every JSON reader holds it exactly as an integer. */
	return s & INT64_MAX;
}

int
runs_submit(struct runs *rs, struct plan_file *pf, const char *text,
    int64_t *id, char **cause)
{
	return runs_submit_opts(rs, pf, text, NULL, id, cause);
}

int
runs_submit_opts(struct runs *rs, struct plan_file *pf, const char *text,
    const struct runs_submit_opts *opts, int64_t *id, char **cause)
{
	static const struct runs_submit_opts none;
	struct store_run_new	 n;
	struct runs_entry	*e = NULL;
	struct run_env		 env;
	const struct plan	*p;
	char			*json = NULL, *why = NULL;
	int			 rc = -1;

	if (pf == NULL || pf->kind != PLAN_FILE_PLAN || pf->plan == NULL) {
		cause_set(cause, "not a test plan");
		goto out;
	}
	if (rs->closing) {
		cause_set(cause, "hotsoakd is stopping");
		goto out;
	}
	if (rs->active >= rs->max_active) {
		cause_set(cause, "%u runs are in flight, the most this hotsoakd "
		    "takes", rs->active);
		goto out;
	}
	if (opts == NULL)
		opts = &none;
	p = pf->plan;
	memset(&n, 0, sizeof n);
	n.plan = p->name != NULL ? p->name : "(unnamed)";
	n.source = p->source != NULL ? p->source : "(request)";
	n.plan_text = text;
	n.plan_json = json = plan_file_to_json(pf);
	n.seed = opts->has_seed ? opts->seed : runs_seed(p);
	n.backend = plan_backend_names[p->target.backend];
	n.created_ns = clock_wall_ns();
	n.campaign_run = opts->campaign_run;
	n.plan_index = opts->plan_index;
	n.repetition = opts->repetition;
	n.attempt = opts->attempt;
	n.rerun = opts->rerun;
	if (store_run_create(rs->store, &n, id, cause) == -1)
		goto out;
	if ((e = calloc(1, sizeof *e)) == NULL) {
		cause_set(cause, "out of memory");
		goto out;
	}
	e->id = *id;
	e->runs = rs;
	e->done = opts->done;
	e->done_arg = opts->arg;
	memset(&env, 0, sizeof env);
	env.base = rs->base;
	env.store = rs->store;
	env.state_dir = rs->state_dir;
	env.agent_binary = rs->agent_binary;
	env.guest_dir = rs->guest_dir;
	env.finished = runs_finished;
	env.arg = e;
	e->run = run_new(&env, pf, *id, n.seed, &why);
	pf = NULL;
	if (e->run == NULL) {
		/* The row exists: it must not stay queued forever. */
		if (store_run_finish(rs->store, *id, "error", why ? why :
		    "cannot set up the run", clock_wall_ns(), NULL, NULL,
		    cause) == -1)
			goto out;
		log_warnx("run %" PRId64 ": %s", *id, why ? why : "set-up failed");
		/* Its owner hears of it from the loop, as of any other run. */
		e->verdict = "error";
		if (e->done == NULL || event_base_once(rs->base, -1, EV_TIMEOUT,
		    runs_reap_failed, e, NULL) == -1)
			free(e);
		e = NULL;
		rc = 0;
		goto out;
	}
	TAILQ_INSERT_TAIL(&rs->list, e, entry);
	rs->active++;
	log_info("run %" PRId64 ": %s (seed %" PRIu64 ") on %s", *id, n.plan,
	    n.seed, n.backend);
	run_start(e->run);
	e = NULL;
	rc = 0;
out:
	free(e);
	free(why);
	free(json);
	plan_file_free(pf);
	return rc;
}

int
runs_abort(struct runs *rs, int64_t id)
{
	struct runs_entry	*e;

	TAILQ_FOREACH(e, &rs->list, entry) {
		if (e->id == id) {
			run_abort(e->run, "by request");
			return 0;
		}
	}
	return 1;
}

unsigned
runs_active(const struct runs *rs)
{
	return rs->active;
}

void
runs_shutdown(struct runs *rs, void (*done)(void *), void *arg)
{
	struct runs_entry	*e, *next;

	rs->closing = true;
	rs->closed = done;
	rs->closed_arg = arg;
	if (rs->active == 0) {
		rs->closed = NULL;
		done(arg);
		return;
	}
	/* run_abort may finish a run at once, which unlinks it: walk safely. */
	for (e = TAILQ_FIRST(&rs->list); e != NULL; e = next) {
		next = TAILQ_NEXT(e, entry);
		run_abort(e->run, "hotsoakd is stopping");
	}
}

void
runs_free(struct runs *rs)
{
	struct runs_entry	*e;

	if (rs == NULL)
		return;
	while ((e = TAILQ_FIRST(&rs->list)) != NULL) {
		TAILQ_REMOVE(&rs->list, e, entry);
		run_free(e->run);
		free(e);
	}
	free(rs->state_dir);
	free(rs->agent_binary);
	free(rs->guest_dir);
	free(rs);
}

static int
runs_runner_submit(void *arg, struct plan_file *pf, const char *text,
    const struct runs_submit_opts *opts, int64_t *id, char **cause)
{
	return runs_submit_opts(arg, pf, text, opts, id, cause);
}

static int
runs_runner_abort(void *arg, int64_t id)
{
	return runs_abort(arg, id);
}

void
runner_of_runs(struct runner *r, struct runs *rs)
{
	r->submit = runs_runner_submit;
	r->abort = runs_runner_abort;
	r->arg = rs;
}
