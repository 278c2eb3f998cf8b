/* reruns.c: reproduction. A rerun runs a finished run's plan text, as it
 * was submitted, with the seed it ran with, N times; the store then says
 * how often each of its findings came back. */
#include "config.h"

#include <sys/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "log.h"
#include "reruns.h"
#include "runner.h"
#include "runs.h"
#include "store.h"

#define RERUN_BUSY_RETRY_S	2

struct rerun {
	struct reruns		*rs;
	int64_t			 id;
	int64_t			 source;	/* the run reproduced */
	char			*name;		/* the plan's file, for errors */
	char			*text;
	uint64_t		 seed;
	unsigned		 times, parallel;
	unsigned		 started, in_flight, ended;
	struct event		*retry;
	TAILQ_ENTRY(rerun)	 entry;
};

struct reruns {
	struct event_base	*base;
	struct store		*store;
	const struct runner	*runner;
	char			*base_dir;
	bool			 closing;
	unsigned		 active;
	TAILQ_HEAD(, rerun)	 list;
};

struct reruns *
reruns_new(struct event_base *base, struct store *store,
    const struct runner *runner, const char *base_dir, char **cause)
{
	struct reruns	*rs;

	if ((rs = calloc(1, sizeof *rs)) == NULL || (base_dir != NULL &&
	    (rs->base_dir = strdup(base_dir)) == NULL)) {
		free(rs);
		cause_set(cause, "out of memory");
		return NULL;
	}
	rs->base = base;
	rs->store = store;
	rs->runner = runner;
	TAILQ_INIT(&rs->list);
	return rs;
}

static void
rerun_free(struct rerun *r)
{
	if (r == NULL)
		return;
	if (r->retry != NULL)
		event_free(r->retry);
	free(r->name);
	free(r->text);
	free(r);
}

/* A new plan file of the rerun's text; NULL with *cause. */
static struct plan_file *
rerun_load(const struct reruns *rs, const char *name, const char *text,
    char **cause)
{
	struct plan_load_opts	 opts;
	struct plan_diags	 d;
	struct plan_file	*pf;

	memset(&opts, 0, sizeof opts);
	opts.base_dir = rs->base_dir;
	plan_diags_init(&d);
	pf = plan_file_load_buffer(name, text, strlen(text), &opts, &d);
	if (pf == NULL)
		cause_set(cause, "run's plan no longer loads: %s", d.n > 0 ?
		    d.v[0].message : "?");
	else if (pf->kind != PLAN_FILE_PLAN) {
		plan_file_free(pf);
		pf = NULL;
		cause_set(cause, "the run's plan is not a test plan");
	}
	plan_diags_free(&d);
	return pf;
}

static void rerun_fill(struct rerun *);

/* Every run is back (or no more will start): record, and forget it. */
static void
rerun_end(struct rerun *r)
{
	struct reruns	*rs = r->rs;
	char		*cause = NULL;

	if (store_rerun_finish(rs->store, r->id, clock_wall_ns(), &cause) == -1) {
		log_warnx("rerun %" PRId64 ": not recorded: %s", r->id, cause);
		free(cause);
	} else
		log_info("rerun %" PRId64 " of run %" PRId64 ": %u of %u runs "
		    "done", r->id, r->source, r->ended, r->times);
	TAILQ_REMOVE(&rs->list, r, entry);
	rs->active--;
	rerun_free(r);
}

static void
rerun_run_done(void *arg, int64_t id, const char *verdict)
{
	struct rerun	*r = arg;

	r->in_flight--;
	r->ended++;
	rerun_fill(r);
}

static void
rerun_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	rerun_fill(arg);
}

static void
rerun_fill(struct rerun *r)
{
	struct timeval		 tv = { RERUN_BUSY_RETRY_S, 0 };
	struct runs_submit_opts	 o;
	struct plan_file	*pf;
	char			*cause = NULL;
	int64_t			 id;

	while (!r->rs->closing && r->started < r->times &&
	    r->in_flight < r->parallel) {
		if ((pf = rerun_load(r->rs, r->name, r->text, &cause)) == NULL) {
			log_warnx("rerun %" PRId64 ": %s", r->id, cause);
			free(cause);
			r->times = r->started;	/* nothing more can start */
			break;
		}
		memset(&o, 0, sizeof o);
		o.rerun = r->id;
		o.attempt = r->started + 1;
		o.has_seed = true;
		o.seed = r->seed;
		o.done = rerun_run_done;
		o.arg = r;
		if (r->rs->runner->submit(r->rs->runner->arg, pf, r->text, &o,
		    &id, &cause) == -1) {
			log_warnx("rerun %" PRId64 ": run %u not started: %s",
			    r->id, r->started + 1, cause);
			free(cause);
			evtimer_add(r->retry, &tv);
			return;
		}
		r->started++;
		r->in_flight++;
	}
	if (r->in_flight == 0 && (r->started == r->times || r->rs->closing))
		rerun_end(r);
}

/* The source run's seed, exact; -1 when the store has none. */
static int
rerun_seed(const json_t *run, uint64_t *seed)
{
	const json_t	*s = json_object_get(run, "seed");
	char		*end;

	if (json_is_integer(s) && json_integer_value(s) >= 0) {
		*seed = (uint64_t)json_integer_value(s);
		return 0;
	}
	if (!json_is_string(s))
		return -1;
	errno = 0;
	*seed = strtoull(json_string_value(s), &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

int
reruns_start(struct reruns *rs, int64_t run, unsigned times,
    unsigned parallel, int64_t *id, char **cause)
{
	struct plan_file	*pf;
	struct rerun		*r;
	json_t			*src;
	const char		*source;
	char			*why = NULL;

	if (rs->closing) {
		cause_set(cause, "hotsoakd is stopping");
		return RERUNS_STOPPING;
	}
	if (times < 1 || times > RERUNS_TIMES_MAX || parallel < 1 ||
	    parallel > RERUNS_PARALLEL_MAX) {
		cause_set(cause, "times is 1 to %d and parallel 1 to %d",
		    RERUNS_TIMES_MAX, RERUNS_PARALLEL_MAX);
		return RERUNS_BAD;
	}
	if ((src = store_run_get(rs->store, run, &why)) == NULL) {
		if (why == NULL) {
			cause_set(cause, "no run %" PRId64, run);
			return RERUNS_UNKNOWN;
		}
		*cause = why;
		return RERUNS_FAILED;
	}
	if ((r = calloc(1, sizeof *r)) == NULL) {
		json_decref(src);
		cause_set(cause, "out of memory");
		return RERUNS_FAILED;
	}
	r->rs = rs;
	r->source = run;
	r->times = times;
	r->parallel = parallel;
	source = json_string_value(json_object_get(src, "source"));
	if (rerun_seed(src, &r->seed) == -1 ||
	    (r->name = strdup(source != NULL ? source : "(request)")) == NULL ||
	    (r->retry = evtimer_new(rs->base, rerun_retry_cb, r)) == NULL) {
		json_decref(src);
		rerun_free(r);
		cause_set(cause, "run %" PRId64 " has no seed on record, or out "
		    "of memory", run);
		return RERUNS_FAILED;
	}
	json_decref(src);
	if ((r->text = store_run_plan_text(rs->store, run, cause)) == NULL) {
		rerun_free(r);
		return RERUNS_FAILED;
	}
	/* Refused now rather than N errors later. */
	if ((pf = rerun_load(rs, r->name, r->text, cause)) == NULL) {
		rerun_free(r);
		return RERUNS_BAD;
	}
	plan_file_free(pf);
	if (store_rerun_create(rs->store, run, times, parallel, clock_wall_ns(),
	    &r->id, cause) == -1) {
		rerun_free(r);
		return RERUNS_FAILED;
	}
	TAILQ_INSERT_TAIL(&rs->list, r, entry);
	rs->active++;
	*id = r->id;
	log_info("rerun %" PRId64 ": run %" PRId64 "'s plan, seed %" PRIu64
	    ", %u times, %u at once", r->id, run, r->seed, times, parallel);
	rerun_fill(r);
	return RERUNS_OK;
}

unsigned
reruns_active(const struct reruns *rs)
{
	return rs->active;
}

void
reruns_shutdown(struct reruns *rs)
{
	struct rerun	*r, *next;

	rs->closing = true;
	/* Those waiting on a busy run set end now; the rest as runs return. */
	for (r = TAILQ_FIRST(&rs->list); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		evtimer_del(r->retry);
		if (r->in_flight == 0)
			rerun_end(r);
	}
}

void
reruns_free(struct reruns *rs)
{
	struct rerun	*r;

	if (rs == NULL)
		return;
	while ((r = TAILQ_FIRST(&rs->list)) != NULL) {
		TAILQ_REMOVE(&rs->list, r, entry);
		rerun_free(r);
	}
	free(rs->base_dir);
	free(rs);
}
