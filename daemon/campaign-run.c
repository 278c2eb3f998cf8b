/* campaign-run.c: one run of a campaign. Each plan runs `repeat` times
 * (a repetition); a repetition that does not pass is tried again up to
 * `retries` times, and every attempt is a run of its own in the store, so
 * a pass after a failure is reported flaky, never as a plain pass. */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "campaign-run.h"
#include "log.h"
#include "plans-dir.h"
#include "runner.h"
#include "runs.h"
#include "store.h"

#define CRUN_BUSY_RETRY_S	2	/* the run set was full: try again after */

/* One repetition of one plan: the unit a verdict is given to. */
struct crun_slot {
	unsigned	 plan;		/* index in the campaign's plans */
	unsigned	 repetition;	/* from 1 */
	unsigned	 attempts;	/* started so far */
	const char	*last;		/* the latest finished attempt's verdict */
	int64_t		 run;		/* the attempt in flight; 0: none */
};

struct crun {
	struct crun_config	 cfg;
	char			*base_dir;
	int64_t			 id;
	char			*name;
	unsigned		 nplans;
	char			**files;	/* as the campaign names them */
	char			**paths;	/* the files in base_dir */
	char			**texts;	/* read at the start */
	unsigned		 parallel;
	unsigned		 retries;
	struct crun_slot	*slots;		/* repetition-major: plans interleave */
	unsigned		 nslots;
	unsigned		*queue;		/* slot indices waiting to start */
	unsigned		 qhead, qlen;	/* a ring of nslots entries */
	unsigned		 in_flight;
	bool			 aborting;
	char			*abort_why;
	bool			 done;		/* recorded; the owner is told */
	struct event		*retry;		/* refill after a busy run set */
};

int64_t
crun_id(const struct crun *cr)
{
	return cr->id;
}

const char *
crun_campaign(const struct crun *cr)
{
	return cr->name;
}

static void
crun_event(struct crun *cr, const char *kind, json_t *detail)
{
	char	*cause = NULL;

	if (store_campaign_event_add(cr->cfg.store, cr->name, cr->id,
	    clock_wall_ns(), kind, detail, &cause) == -1) {
		log_warnx("campaign run %" PRId64 ": event %s not stored: %s",
		    cr->id, kind, cause);
		free(cause);
	}
	json_decref(detail);
}

/* The slot's verdict now that nothing more will start for it. */
static const char *
crun_slot_verdict(const struct crun *cr, const struct crun_slot *s)
{
	if (s->attempts == 0 || s->last == NULL)
		return cr->aborting ? "aborted" : "error";
	if (strcmp(s->last, "pass") == 0)
		return s->attempts > 1 ? "flaky" : "pass";
	return s->last;
}

static void
crun_told(evutil_socket_t fd, short what, void *arg)
{
	struct crun	*cr = arg;

	cr->cfg.finished(cr->cfg.arg, cr);
}

/* Everything is back: the verdict, its reason, and the owner told. */
static void
crun_finish(struct crun *cr)
{
	static const char *const words[] = {
		"pass", "flaky", "fail", "error", "aborted", "interrupted", NULL
	};
	unsigned	 counts[8], i, w;
	const char	*verdict = NULL, *v, *worst_plan = NULL;
	char		 reason[512], *cause = NULL;
	size_t		 len = 0;
	int		 n;
	bool		 first;

	if (cr->done)
		return;		/* an abort's runs may come back at once */
	memset(counts, 0, sizeof counts);
	for (i = 0; i < cr->nslots; i++) {
		v = crun_slot_verdict(cr, &cr->slots[i]);
		for (w = 0; words[w] != NULL && strcmp(words[w], v) != 0; w++)
			;
		counts[w]++;
		if (verdict == NULL || store_verdict_worse(verdict, v) != verdict) {
			verdict = v;
			worst_plan = cr->files[cr->slots[i].plan];
		}
	}
	if (verdict == NULL)
		verdict = "pass";	/* a campaign of nothing: cannot load */
	reason[0] = '\0';
	if (cr->aborting && cr->abort_why != NULL) {
		n = snprintf(reason, sizeof reason, "aborted %s: ",
		    cr->abort_why);
		len = n > 0 && (size_t)n < sizeof reason ? (size_t)n : 0;
	}
	first = true;
	for (w = 0; words[w] != NULL; w++) {
		if (counts[w] == 0)
			continue;
		n = snprintf(reason + len, sizeof reason - len, "%s%u %s",
		    first ? "" : ", ", counts[w], words[w]);
		if (n > 0 && (size_t)n < sizeof reason - len)
			len += (size_t)n;
		first = false;
	}
	if (worst_plan != NULL && strcmp(verdict, "pass") != 0 &&
	    strcmp(verdict, "aborted") != 0)
		snprintf(reason + len, sizeof reason - len, " (first %s: %s)",
		    verdict, worst_plan);
	if (store_campaign_run_finish(cr->cfg.store, cr->id, verdict, reason,
	    clock_wall_ns(), &cause) == -1) {
		log_warnx("campaign run %" PRId64 ": verdict not stored: %s",
		    cr->id, cause);
		free(cause);
	}
	crun_event(cr, "finished", json_pack("{ss ss}", "verdict", verdict,
	    "reason", reason));
	log_info("campaign %s run %" PRId64 ": %s: %s", cr->name, cr->id,
	    verdict, reason);
	cr->done = true;
	if (event_base_once(cr->cfg.base, -1, EV_TIMEOUT, crun_told, cr,
	    NULL) == -1)
		log_warnx("campaign run %" PRId64 ": cannot tell its owner", cr->id);
}

static void crun_fill(struct crun *);

static void
crun_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	crun_fill(arg);
}

static void
crun_push(struct crun *cr, unsigned slot, bool front)
{
	if (front) {
		cr->qhead = (cr->qhead + cr->nslots - 1) % cr->nslots;
		cr->queue[cr->qhead] = slot;
	} else
		cr->queue[(cr->qhead + cr->qlen) % cr->nslots] = slot;
	cr->qlen++;
}

/* A run of the campaign is recorded. */
static void
crun_run_done(void *arg, int64_t id, const char *verdict)
{
	struct crun		*cr = arg;
	struct crun_slot	*s = NULL;
	unsigned		 i;
	bool			 again;

	for (i = 0; i < cr->nslots; i++)
		if (cr->slots[i].run == id) {
			s = &cr->slots[i];
			break;
		}
	if (s == NULL || cr->done)
		return;
	s->run = 0;
	cr->in_flight--;
	if (verdict == NULL)
		verdict = "error";	/* its verdict could not be stored */
	s->last = verdict;
	/* An abort is somebody's decision, not a result worth a retry. */
	again = !cr->aborting && s->attempts < 1 + cr->retries &&
	    (strcmp(verdict, "fail") == 0 || strcmp(verdict, "error") == 0);
	if (again) {
		crun_event(cr, "retry", json_pack("{ss sI sI sI ss}", "plan",
		    cr->files[s->plan], "repetition", (json_int_t)s->repetition,
		    "attempt", (json_int_t)s->attempts + 1, "after_run",
		    (json_int_t)id, "after_verdict", verdict));
		/* A retry goes first: its repetition is the one still open. */
		crun_push(cr, (unsigned)(s - cr->slots), true);
	}
	crun_fill(cr);
}

/* Starts the next attempt of slot; -1 when the run set is full. */
static int
crun_submit(struct crun *cr, unsigned slot)
{
	struct crun_slot	*s = &cr->slots[slot];
	struct runs_submit_opts	 o;
	struct plan_load_opts	 lo;
	struct plan_diags	 d;
	struct plan_file	*pf;
	char			*cause = NULL;
	int64_t			 id;

	memset(&lo, 0, sizeof lo);
	lo.base_dir = cr->base_dir;
	plan_diags_init(&d);
	pf = plan_file_load_buffer(cr->paths[s->plan], cr->texts[s->plan],
	    strlen(cr->texts[s->plan]), &lo, &d);
	plan_diags_free(&d);
	if (pf == NULL) {
		/* It loaded at the start; only memory can be missing now. */
		s->attempts++;
		s->last = "error";
		crun_event(cr, "error", json_pack("{ss ss}", "plan",
		    cr->files[s->plan], "error", "the plan no longer loads"));
		return 0;
	}
	memset(&o, 0, sizeof o);
	o.campaign_run = cr->id;
	o.plan_index = s->plan;
	o.repetition = s->repetition;
	o.attempt = s->attempts + 1;
	o.done = crun_run_done;
	o.arg = cr;
	if (cr->cfg.runner->submit(cr->cfg.runner->arg, pf, cr->texts[s->plan],
	    &o, &id, &cause) == -1) {
		log_warnx("campaign run %" PRId64 ": %s #%u not started: %s",
		    cr->id, cr->files[s->plan], s->repetition, cause);
		free(cause);
		return -1;
	}
	s->attempts++;
	s->run = id;
	cr->in_flight++;
	return 0;
}

/* Starts what may start; finishes when nothing is left. */
static void
crun_fill(struct crun *cr)
{
	struct timeval	tv = { CRUN_BUSY_RETRY_S, 0 };
	unsigned	slot;

	if (cr->done)
		return;
	while (!cr->aborting && cr->qlen > 0 && cr->in_flight < cr->parallel) {
		slot = cr->queue[cr->qhead];
		if (crun_submit(cr, slot) == -1) {
			/* The run set is full or stopping: try again soon. */
			evtimer_add(cr->retry, &tv);
			return;
		}
		cr->qhead = (cr->qhead + 1) % cr->nslots;
		cr->qlen--;
	}
	if (cr->in_flight == 0 && (cr->qlen == 0 || cr->aborting))
		crun_finish(cr);
}

void
crun_abort(struct crun *cr, const char *why)
{
	unsigned	i;

	if (cr->aborting || cr->done)
		return;
	cr->aborting = true;
	cr->abort_why = strdup(why != NULL ? why : "by request");
	cr->qlen = 0;
	evtimer_del(cr->retry);
	crun_event(cr, "abort", json_pack("{ss}", "why", why != NULL ? why :
	    "by request"));
	for (i = 0; i < cr->nslots; i++)
		if (cr->slots[i].run != 0)
			cr->cfg.runner->abort(cr->cfg.runner->arg,
			    cr->slots[i].run);
	/* Runs come back through crun_run_done, from the loop. */
	if (cr->in_flight == 0)
		crun_finish(cr);
}

void
crun_free(struct crun *cr)
{
	unsigned	i;

	if (cr == NULL)
		return;
	for (i = 0; i < cr->nplans; i++) {
		if (cr->files != NULL)
			free(cr->files[i]);
		if (cr->paths != NULL)
			free(cr->paths[i]);
		if (cr->texts != NULL)
			free(cr->texts[i]);
	}
	free(cr->files);
	free(cr->paths);
	free(cr->texts);
	free(cr->slots);
	free(cr->queue);
	free(cr->name);
	free(cr->base_dir);
	free(cr->abort_why);
	if (cr->retry != NULL)
		event_free(cr->retry);
	free(cr);
}

/* Reads every plan of c now; -1 with *cause naming the one that failed. */
static int
crun_read_plans(struct crun *cr, const struct campaign *c, char **cause)
{
	unsigned	i;

	cr->nplans = (unsigned)c->n_plans;
	if ((cr->files = calloc(cr->nplans, sizeof *cr->files)) == NULL ||
	    (cr->paths = calloc(cr->nplans, sizeof *cr->paths)) == NULL ||
	    (cr->texts = calloc(cr->nplans, sizeof *cr->texts)) == NULL)
		return cause_set(cause, "out of memory");
	for (i = 0; i < cr->nplans; i++) {
		if ((cr->files[i] = strdup(c->plans[i])) == NULL ||
		    asprintf(&cr->paths[i], "%s/%s", cr->base_dir,
		    c->plans[i]) == -1) {
			cr->paths[i] = NULL;
			return cause_set(cause, "out of memory");
		}
		if ((cr->texts[i] = plans_read_text(cr->paths[i], cause)) == NULL)
			return -1;
	}
	return 0;
}

struct crun *
crun_start(const struct crun_config *cfg, const struct campaign *c,
    const char *source, const char *campaign_json, const char *trigger,
    uint64_t scheduled_ns, char **cause)
{
	struct store_campaign_run_new	 n;
	struct crun			*cr;
	unsigned			 r, p, i;

	if (c->n_plans == 0 || c->repeat == 0 ||
	    c->n_plans * (uint64_t)c->repeat > 1000000) {
		cause_set(cause, "a campaign of %zu plans repeated %u times "
		    "cannot run", c->n_plans, c->repeat);
		return NULL;
	}
	if ((cr = calloc(1, sizeof *cr)) == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	cr->cfg = *cfg;
	cr->parallel = c->parallel != 0 ? c->parallel : 1;
	cr->retries = c->retries;
	cr->nslots = (unsigned)c->n_plans * c->repeat;
	if ((cr->name = strdup(c->name)) == NULL ||
	    (cr->base_dir = strdup(cfg->base_dir)) == NULL ||
	    (cr->slots = calloc(cr->nslots, sizeof *cr->slots)) == NULL ||
	    (cr->queue = calloc(cr->nslots, sizeof *cr->queue)) == NULL ||
	    (cr->retry = evtimer_new(cfg->base, crun_retry_cb, cr)) == NULL) {
		cause_set(cause, "out of memory");
		goto fail;
	}
	if (crun_read_plans(cr, c, cause) == -1)
		goto fail;
	/* Repetition-major, so that parallel runs are of different plans. */
	i = 0;
	for (r = 1; r <= c->repeat; r++)
		for (p = 0; p < cr->nplans; p++) {
			cr->slots[i].plan = p;
			cr->slots[i].repetition = r;
			crun_push(cr, i++, false);
		}

	memset(&n, 0, sizeof n);
	n.campaign = c->name;
	n.source = source;
	n.campaign_json = campaign_json;
	n.trigger = trigger;
	n.created_ns = clock_wall_ns();
	n.scheduled_ns = scheduled_ns;
	n.repeat = c->repeat;
	n.parallel = cr->parallel;
	n.retries = c->retries;
	if (store_campaign_run_create(cfg->store, &n, &cr->id, cause) == -1)
		goto fail;
	crun_event(cr, "started", json_pack("{ss sI sI sI sI}", "trigger",
	    trigger, "plans", (json_int_t)cr->nplans, "repeat",
	    (json_int_t)c->repeat, "parallel", (json_int_t)cr->parallel,
	    "retries", (json_int_t)c->retries));
	log_info("campaign %s run %" PRId64 " (%s): %u plans x %u, %u at once, "
	    "%u retries", cr->name, cr->id, trigger, cr->nplans, c->repeat,
	    cr->parallel, c->retries);
	crun_fill(cr);
	return cr;

fail:
	crun_free(cr);
	return NULL;
}
