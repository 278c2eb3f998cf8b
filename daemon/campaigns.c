/* campaigns.c: the campaigns of the plans folder and their schedules. One
 * timer looks at every schedule at least once a minute, so a wall clock
 * that is set or steps over daylight saving time is followed; a campaign
 * whose time comes while it still runs is skipped, and that is recorded. */
#include "config.h"

#include <sys/queue.h>

#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "hotsoak/cron.h"
#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "campaign-run.h"
#include "campaigns.h"
#include "log.h"
#include "plans-dir.h"
#include "runner.h"
#include "store.h"

#define CAMPAIGNS_LOOK_S	60	/* the longest the timer sleeps */
#define CAMPAIGNS_RUNS_SHOWN	20
#define CAMPAIGNS_EVENTS_SHOWN	50
#define NS_PER_S		1000000000ULL

/* One campaign file of the plans folder. */
struct camp {
	char		*name;		/* its `name:`; the file's name when invalid */
	char		*stem;		/* the file's name without .yaml */
	char		*file;		/* its path */
	struct plan_file *pf;		/* NULL: it does not load */
	char		*json;		/* the normalized campaign */
	json_t		*errors;	/* ["FILE:L:C: error: ...", ...] */
	time_t		 next;		/* the schedule's next time; 0: none */
};

struct camp_running {
	struct crun			*crun;
	struct campaigns		*cs;
	TAILQ_ENTRY(camp_running)	 entry;
};

struct campaigns {
	struct event_base		*base;
	struct store			*store;
	struct plans_dir		*plans;
	struct campaigns_config		 cfg;
	struct camp			*v;
	size_t				 n;
	struct event			*timer;
	bool				 closing;
	unsigned			 active;
	TAILQ_HEAD(, camp_running)	 running;
};

static time_t
campaigns_now(const struct campaigns *cs)
{
	return cs->cfg.now != NULL ? cs->cfg.now(cs->cfg.now_arg) : time(NULL);
}

static void
camp_clear(struct camp *c)
{
	free(c->name);
	free(c->stem);
	free(c->file);
	plan_file_free(c->pf);
	free(c->json);
	json_decref(c->errors);
	memset(c, 0, sizeof *c);
}

static void
camps_free(struct camp *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		camp_clear(&v[i]);
	free(v);
}

/*
 * Does the file that did not load say it is a campaign? Its errors are a
 * campaign's errors (a bad schedule, say) and it is listed as one.
 */
static bool
camp_says_campaign(const char *path)
{
	regex_t	 re;
	char	*text;
	bool	 yes = false;

	if ((text = plans_read_text(path, NULL)) == NULL)
		return false;
	if (regcomp(&re, "^kind:[ \t]*[\"']?campaign[\"']?[ \t]*(#.*)?$",
	    REG_EXTENDED | REG_NOSUB | REG_NEWLINE) == 0) {
		yes = regexec(&re, text, 0, NULL, 0) == 0;
		regfree(&re);
	}
	free(text);
	return yes;
}

static struct plan_file *
camp_load(const struct campaigns *cs, const char *file, struct plan_diags *d)
{
	struct plan_load_opts	opts;
	struct plan_file	*pf;

	memset(&opts, 0, sizeof opts);
	opts.base_dir = plans_dir_path(cs->plans);
	if ((pf = plan_file_load_path(file, &opts, d)) != NULL &&
	    pf->kind != PLAN_FILE_CAMPAIGN) {
		plan_file_free(pf);
		return NULL;
	}
	return pf;
}

/* The first match of name among the campaigns: its `name:` first, then its file's. */
static struct camp *
camp_find(struct campaigns *cs, const char *name)
{
	size_t	i;

	for (i = 0; i < cs->n; i++)
		if (strcmp(cs->v[i].name, name) == 0)
			return &cs->v[i];
	for (i = 0; i < cs->n; i++)
		if (strcmp(cs->v[i].stem, name) == 0)
			return &cs->v[i];
	return NULL;
}

static struct camp_running *
camp_running_of(struct campaigns *cs, const char *name)
{
	struct camp_running	*r;

	TAILQ_FOREACH(r, &cs->running, entry)
		if (strcmp(crun_campaign(r->crun), name) == 0)
			return r;
	return NULL;
}

/* The next time of c's schedule after now; 0 when none or scheduling is off. */
static time_t
camp_next(const struct campaigns *cs, const struct camp *c, time_t now)
{
	time_t	t;

	if (cs->cfg.no_schedule || c->pf == NULL ||
	    c->pf->campaign->schedule == NULL)
		return 0;
	t = cron_next(&c->pf->campaign->cron, now);
	return t == (time_t)-1 ? 0 : t;
}

static void campaigns_arm(struct campaigns *);

/* Reads the campaigns of the plans folder into a new list. */
static int
campaigns_read(struct campaigns *cs, struct camp **out, size_t *nout)
{
	struct plan_diags	 d;
	struct camp		*v = NULL, *c, *nv;
	json_t			*list, *e;
	const char		*kind, *file;
	size_t			 i, n = 0, j;

	*out = NULL;
	*nout = 0;
	if (cs->plans == NULL)
		return 0;
	if ((list = plans_dir_list(cs->plans)) == NULL)
		return -1;
	json_array_foreach(json_object_get(list, "plans"), i, e) {
		kind = json_string_value(json_object_get(e, "kind"));
		file = json_string_value(json_object_get(e, "file"));
		if (file == NULL || (kind != NULL && strcmp(kind, "campaign") !=
		    0) || (kind == NULL && !camp_says_campaign(file)))
			continue;
		if ((nv = reallocarray(v, n + 1, sizeof *v)) == NULL)
			goto fail;
		v = nv;
		c = &v[n++];
		memset(c, 0, sizeof *c);
		plan_diags_init(&d);
		c->pf = camp_load(cs, file, &d);
		plan_diags_free(&d);
		c->stem = strdup(json_string_value(json_object_get(e, "name")));
		c->file = strdup(file);
		c->name = strdup(c->pf != NULL ? c->pf->campaign->name :
		    c->stem);
		c->errors = json_incref(json_object_get(e, "errors"));
		if (c->pf != NULL)
			c->json = plan_file_to_json(c->pf);
		if (c->stem == NULL || c->file == NULL || c->name == NULL)
			goto fail;
		/* Two files may not share a name: the later one is refused. */
		for (j = 0; j + 1 < n; j++) {
			if (strcmp(v[j].name, c->name) != 0 || c->pf == NULL)
				continue;
			plan_file_free(c->pf);
			c->pf = NULL;
			json_decref(c->errors);
			c->errors = json_array();
			json_array_append_new(c->errors, json_sprintf("%s: error: "
			    "campaign `%s` is also defined in %s", c->file,
			    c->name, v[j].file));
		}
	}
	json_decref(list);
	*out = v;
	*nout = n;
	return 0;
fail:
	json_decref(list);
	camps_free(v, n);
	return -1;
}

static int
camp_cmp(const void *a, const void *b)
{
	return strcmp(((const struct camp *)a)->name,
	    ((const struct camp *)b)->name);
}

void
campaigns_reload(struct campaigns *cs)
{
	struct camp	*v, *old;
	size_t		 n, i;
	time_t		 now = campaigns_now(cs);
	char		 when[STORE_TIME_MAX];

	if (campaigns_read(cs, &v, &n) == -1) {
		log_warnx("campaigns not reloaded: out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		old = camp_find(cs, v[i].name);
		/* An unchanged schedule keeps its time: a reload skips nothing. */
		if (old != NULL && old->pf != NULL && v[i].pf != NULL &&
		    old->pf->campaign->schedule != NULL &&
		    v[i].pf->campaign->schedule != NULL &&
		    strcmp(old->pf->campaign->schedule,
		    v[i].pf->campaign->schedule) == 0)
			v[i].next = old->next;
		else
			v[i].next = camp_next(cs, &v[i], now);
	}
	camps_free(cs->v, cs->n);
	/* A folder without campaigns gives no array: qsort wants one. */
	if (n > 0)
		qsort(v, n, sizeof *v, camp_cmp);
	cs->v = v;
	cs->n = n;
	for (i = 0; i < n; i++) {
		if (v[i].pf == NULL)
			log_warnx("campaign %s does not load: %s", v[i].file,
			    json_string_value(json_array_get(v[i].errors, 0)));
		else if (v[i].next != 0) {
			store_time_format((uint64_t)v[i].next * NS_PER_S, when,
			    sizeof when);
			log_info("campaign %s: next run %s (schedule \"%s\", "
			    "local time)", v[i].name, when,
			    v[i].pf->campaign->schedule);
		}
	}
	campaigns_arm(cs);
}

static void
campaigns_crun_finished(void *arg, struct crun *crun)
{
	struct camp_running	*r = arg;
	struct campaigns	*cs = r->cs;

	TAILQ_REMOVE(&cs->running, r, entry);
	cs->active--;
	crun_free(r->crun);
	free(r);
}

static int
campaigns_start_at(struct campaigns *cs, const char *name,
    const char *trigger, uint64_t scheduled_ns, int64_t *id, int64_t *running,
    struct plan_diags *diags, char **cause)
{
	struct crun_config	 cfg;
	struct plan_diags	 d;
	struct plan_file	*pf;
	struct camp_running	*r;
	struct camp		*c;
	char			*json;

	if (cs->closing) {
		cause_set(cause, "hotsoakd is stopping");
		return CAMPAIGNS_STOPPING;
	}
	if ((c = camp_find(cs, name)) == NULL) {
		cause_set(cause, "no campaign named `%.128s` in the plans folder",
		    name);
		return CAMPAIGNS_UNKNOWN;
	}
	if ((r = camp_running_of(cs, c->name)) != NULL) {
		if (running != NULL)
			*running = crun_id(r->crun);
		cause_set(cause, "campaign %s is already running (campaign run %"
		    PRId64 ")", c->name, crun_id(r->crun));
		return CAMPAIGNS_BUSY;
	}
	/* The file as it is now: an edit without a reload still counts. */
	plan_diags_init(&d);
	pf = camp_load(cs, c->file, diags != NULL ? diags : &d);
	plan_diags_free(&d);
	if (pf == NULL) {
		cause_set(cause, "campaign %s (%s) does not load", c->name,
		    c->file);
		return CAMPAIGNS_INVALID;
	}
	if ((r = calloc(1, sizeof *r)) == NULL ||
	    (json = plan_file_to_json(pf)) == NULL) {
		free(r);
		plan_file_free(pf);
		cause_set(cause, "out of memory");
		return CAMPAIGNS_FAILED;
	}
	memset(&cfg, 0, sizeof cfg);
	cfg.base = cs->base;
	cfg.store = cs->store;
	cfg.runner = cs->cfg.runner;
	cfg.base_dir = plans_dir_path(cs->plans);
	cfg.finished = campaigns_crun_finished;
	cfg.arg = r;
	r->cs = cs;
	r->crun = crun_start(&cfg, pf->campaign, c->file, json, trigger,
	    scheduled_ns, cause);
	free(json);
	plan_file_free(pf);
	if (r->crun == NULL) {
		free(r);
		return CAMPAIGNS_FAILED;
	}
	TAILQ_INSERT_TAIL(&cs->running, r, entry);
	cs->active++;
	*id = crun_id(r->crun);
	return CAMPAIGNS_OK;
}

int
campaigns_start(struct campaigns *cs, const char *name, const char *trigger,
    int64_t *id, int64_t *running, struct plan_diags *diags, char **cause)
{
	return campaigns_start_at(cs, name, trigger, 0, id, running, diags,
	    cause);
}

int
campaigns_abort(struct campaigns *cs, const char *name, int64_t *id)
{
	struct camp_running	*r;
	struct camp		*c;

	TAILQ_FOREACH(r, &cs->running, entry) {
		if (name == NULL && crun_id(r->crun) == *id)
			break;
		if (name != NULL && ((c = camp_find(cs, name)) != NULL ?
		    strcmp(crun_campaign(r->crun), c->name) == 0 :
		    strcmp(crun_campaign(r->crun), name) == 0))
			break;
	}
	if (r == NULL)
		return 1;
	*id = crun_id(r->crun);
	crun_abort(r->crun, "by request");
	return 0;
}

/* A line of the campaign's own timeline; detail is stolen. */
static void
camp_event(struct campaigns *cs, const char *name, const char *kind,
    json_t *detail)
{
	char	*cause = NULL;

	if (store_campaign_event_add(cs->store, name, 0, clock_wall_ns(), kind,
	    detail, &cause) == -1) {
		log_warnx("campaign %s: event %s not stored: %s", name, kind,
		    cause);
		free(cause);
	}
	json_decref(detail);
}

/* The campaign's time came: start it, or record why not. */
static void
campaigns_fire(struct campaigns *cs, struct camp *c, time_t at)
{
	struct camp_running	*r;
	char			*cause = NULL, when[STORE_TIME_MAX];
	int64_t			 id, running = 0;

	store_time_format((uint64_t)at * NS_PER_S, when, sizeof when);
	if ((r = camp_running_of(cs, c->name)) != NULL) {
		log_warnx("campaign %s: its %s start is skipped: campaign run %"
		    PRId64 " still runs", c->name, when, crun_id(r->crun));
		camp_event(cs, c->name, "skipped", json_pack("{ss sI ss}",
		    "scheduled", when, "running", (json_int_t)crun_id(r->crun),
		    "why", "the campaign's previous run is still running"));
		return;
	}
	if (campaigns_start_at(cs, c->name, "schedule", (uint64_t)at *
	    NS_PER_S, &id, &running, NULL, &cause) != CAMPAIGNS_OK) {
		log_warnx("campaign %s: scheduled start failed: %s", c->name,
		    cause);
		camp_event(cs, c->name, "start_failed", json_pack("{ss ss}",
		    "scheduled", when, "why", cause != NULL ? cause : "?"));
	}
	free(cause);
}

void
campaigns_tick(struct campaigns *cs)
{
	time_t	now = campaigns_now(cs);
	size_t	i;

	for (i = 0; i < cs->n && !cs->closing; i++) {
		if (cs->v[i].next == 0 || cs->v[i].next > now)
			continue;
		/* However late the loop is, a missed time starts one run. */
		campaigns_fire(cs, &cs->v[i], cs->v[i].next);
		cs->v[i].next = camp_next(cs, &cs->v[i], now);
	}
	campaigns_arm(cs);
}

static void
campaigns_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	campaigns_tick(arg);
}

/* Sleeps until the nearest schedule, a minute at most. */
static void
campaigns_arm(struct campaigns *cs)
{
	struct timeval	tv;
	time_t		now = campaigns_now(cs), wait = CAMPAIGNS_LOOK_S;
	size_t		i;
	bool		any = false;

	for (i = 0; i < cs->n; i++) {
		if (cs->v[i].next == 0)
			continue;
		any = true;
		if (cs->v[i].next - now < wait)
			wait = cs->v[i].next - now;
	}
	evtimer_del(cs->timer);
	if (!any || cs->closing)
		return;
	tv.tv_sec = wait > 0 ? wait : 0;
	tv.tv_usec = wait > 0 ? 0 : 1000;
	evtimer_add(cs->timer, &tv);
}

struct campaigns *
campaigns_new(struct event_base *base, struct store *store,
    struct plans_dir *plans, const struct campaigns_config *cfg,
    char **cause)
{
	struct campaigns	*cs;

	if ((cs = calloc(1, sizeof *cs)) == NULL ||
	    (cs->timer = evtimer_new(base, campaigns_timer_cb, cs)) == NULL) {
		free(cs);
		cause_set(cause, "out of memory");
		return NULL;
	}
	cs->base = base;
	cs->store = store;
	cs->plans = plans;
	cs->cfg = *cfg;
	TAILQ_INIT(&cs->running);
	campaigns_reload(cs);
	return cs;
}

/* One campaign as listed; a new object the caller owns. */
static json_t *
camp_json(struct campaigns *cs, const struct camp *c, char **cause)
{
	struct store_crun_filter f;
	struct camp_running	*r;
	const struct campaign	*k = c->pf != NULL ? c->pf->campaign : NULL;
	json_t			*o, *plans, *last;
	char			 buf[STORE_TIME_MAX];
	size_t			 i;

	memset(&f, 0, sizeof f);
	f.campaign = c->name;
	f.limit = 1;
	if ((last = store_campaign_runs_list(cs->store, &f, cause)) == NULL)
		return NULL;
	o = json_object();
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "file", json_string(c->file));
	json_object_set_new(o, "description", k != NULL && k->description ?
	    json_string(k->description) : json_null());
	plans = json_array();
	for (i = 0; k != NULL && i < k->n_plans; i++)
		json_array_append_new(plans, json_string(k->plans[i]));
	json_object_set_new(o, "plans", plans);
	json_object_set_new(o, "repeat", k ? json_integer(k->repeat) :
	    json_null());
	json_object_set_new(o, "parallel", k ? json_integer(k->parallel) :
	    json_null());
	json_object_set_new(o, "retries", k ? json_integer(k->retries) :
	    json_null());
	json_object_set_new(o, "schedule", k && k->schedule ?
	    json_string(k->schedule) : json_null());
	json_object_set_new(o, "valid", json_boolean(c->pf != NULL));
	json_object_set_new(o, "errors", c->errors != NULL ?
	    json_incref(c->errors) : json_array());
	if (c->next != 0) {
		store_time_format((uint64_t)c->next * NS_PER_S, buf, sizeof buf);
		json_object_set_new(o, "next_run", json_string(buf));
		json_object_set_new(o, "next_run_ns",
		    json_integer((json_int_t)c->next * (json_int_t)NS_PER_S));
	} else {
		json_object_set_new(o, "next_run", json_null());
		json_object_set_new(o, "next_run_ns", json_null());
	}
	r = camp_running_of(cs, c->name);
	json_object_set_new(o, "running", r != NULL ?
	    json_integer(crun_id(r->crun)) : json_null());
	json_object_set_new(o, "last_run", json_incref(json_array_get(
	    json_object_get(last, "campaign_runs"), 0) ?: json_null()));
	json_decref(last);
	return o;
}

json_t *
campaigns_list(struct campaigns *cs, char **cause)
{
	json_t	*list, *o;
	size_t	 i;

	if (cause != NULL)
		*cause = NULL;
	list = json_array();
	for (i = 0; i < cs->n; i++) {
		if ((o = camp_json(cs, &cs->v[i], cause)) == NULL) {
			json_decref(list);
			return NULL;
		}
		json_array_append_new(list, o);
	}
	return list;
}

json_t *
campaigns_get(struct campaigns *cs, const char *name, char **cause)
{
	struct store_crun_filter f;
	struct camp		*c;
	json_t			*o, *runs, *events;

	if (cause != NULL)
		*cause = NULL;
	if ((c = camp_find(cs, name)) == NULL)
		return NULL;
	if ((o = camp_json(cs, c, cause)) == NULL) {
		if (cause != NULL && *cause == NULL)
			cause_set(cause, "out of memory");
		return NULL;
	}
	memset(&f, 0, sizeof f);
	f.campaign = c->name;
	f.limit = CAMPAIGNS_RUNS_SHOWN;
	if ((runs = store_campaign_runs_list(cs->store, &f, cause)) == NULL ||
	    (events = store_campaign_events_list(cs->store, c->name,
	    CAMPAIGNS_EVENTS_SHOWN, cause)) == NULL) {
		json_decref(runs);
		json_decref(o);
		if (cause != NULL && *cause == NULL)
			cause_set(cause, "out of memory");
		return NULL;
	}
	json_object_set_new(o, "runs", json_incref(json_object_get(runs,
	    "campaign_runs")));
	json_decref(runs);
	json_object_set_new(o, "events", events);
	return o;
}

unsigned
campaigns_active(const struct campaigns *cs)
{
	return cs->active;
}

void
campaigns_shutdown(struct campaigns *cs)
{
	struct camp_running	*r;

	cs->closing = true;
	evtimer_del(cs->timer);
	TAILQ_FOREACH(r, &cs->running, entry)
		crun_abort(r->crun, "because hotsoakd is stopping");
}

void
campaigns_free(struct campaigns *cs)
{
	struct camp_running	*r;

	if (cs == NULL)
		return;
	while ((r = TAILQ_FIRST(&cs->running)) != NULL) {
		TAILQ_REMOVE(&cs->running, r, entry);
		crun_free(r->crun);
		free(r);
	}
	camps_free(cs->v, cs->n);
	if (cs->timer != NULL)
		event_free(cs->timer);
	free(cs);
}
