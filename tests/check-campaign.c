/* check-campaign.c: campaigns, retries, schedules and reruns against the
 * real store, with a scripted runner that records runs the way the run set
 * does, and a clock the tests set. */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "campaigns.h"
#include "plans-dir.h"
#include "reruns.h"
#include "runner.h"
#include "runs.h"
#include "store.h"
#include "common.h"
#include "fake-runner.h"

#define JOBS_MAX	64

/* A verdict for an attempt, by plan index, repetition and attempt. */
struct script {
	unsigned	 plan, repetition, attempt;
	const char	*verdict;
	const char	*finding;	/* a finding title to record, or NULL */
};

struct job {
	struct fake	*f;
	int64_t		 id;
	const char	*verdict;
	const char	*finding;
	void		(*done)(void *, int64_t, const char *);
	void		*arg;
	int		 live;
};

struct fake {
	struct event_base	*base;
	struct store		*st;
	const struct script	*script;
	size_t			 nscript;
	int			 hold;		/* runs do not end by themselves */
	struct job		 jobs[JOBS_MAX];
	size_t			 njobs;
	unsigned		 running, max_running, submitted;
	int			 refuse;	/* submissions refused (busy) */
	time_t			 now;
};

static char			 tmpdir[256];
static struct fake		 F;
static struct runner		 R;
static struct plans_dir		*PD;

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void
write_file(const char *name, const char *text)
{
	char	 path[512];
	FILE	*fp;

	snprintf(path, sizeof path, "%s/plans/%s", tmpdir, name);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
}

/* Two quick local plans; the runs are the fake runner's, nothing starts. */
static const char plan_a[] =
    "version: 1\nname: alpha\nseed: 7\ntarget: { backend: local }\n"
    "workload: { io: { size: 1MiB } }\nsteps:\n  - wait: 1s\n";
static const char plan_b[] =
    "version: 1\nname: beta\ntarget: { backend: local }\n"
    "workload: { io: { size: 1MiB } }\nsteps:\n  - wait: 1s\n";

static void
job_end(struct job *j, const char *verdict)
{
	struct store_finding	 f;
	char			*cause = NULL;

	if (!j->live)
		return;
	j->live = 0;
	if (j->finding != NULL) {
		memset(&f, 0, sizeof f);
		f.run = j->id;
		f.kind = "io_timeout";
		f.title = j->finding;
		f.time_ns = clock_wall_ns();
		f.source = "agent";
		ck_assert_int_eq(store_finding_add(F.st, &f, NULL, &cause), 0);
	}
	ck_assert_int_eq(store_run_finish(F.st, j->id, verdict, "scripted",
	    clock_wall_ns(), NULL, NULL, &cause), 0);
	F.running--;
	j->done(j->arg, j->id, verdict);
}

static void
job_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job	*j = arg;

	job_end(j, j->verdict);
}

static int
fake_submit(void *arg, struct plan_file *pf, const char *text,
    const struct runs_submit_opts *o, int64_t *id, char **cause)
{
	struct timeval		 tv = { 0, 5000 };
	struct job		*j;
	size_t			 i;

	if (F.refuse > 0) {
		F.refuse--;
		plan_file_free(pf);
		return cause_set(cause, "busy");
	}
	ck_assert_uint_lt(F.njobs, JOBS_MAX);
	ck_assert_int_eq(fake_runner_record(F.st, pf, "test", text, o, id,
	    cause), 0);
	j = &F.jobs[F.njobs++];
	memset(j, 0, sizeof *j);
	j->id = *id;
	j->done = o->done;
	j->arg = o->arg;
	j->live = 1;
	j->verdict = "pass";
	for (i = 0; i < F.nscript; i++) {
		const struct script *s = &F.script[i];

		if (s->plan == o->plan_index && s->repetition == o->repetition &&
		    s->attempt == o->attempt) {
			j->verdict = s->verdict;
			j->finding = s->finding;
		}
	}
	F.submitted++;
	if (++F.running > F.max_running)
		F.max_running = F.running;
	if (!F.hold)
		event_base_once(F.base, -1, EV_TIMEOUT, job_cb, j, &tv);
	return 0;
}

static int
fake_abort(void *arg, int64_t id)
{
	size_t	i;

	for (i = 0; i < F.njobs; i++)
		if (F.jobs[i].id == id && F.jobs[i].live) {
			job_end(&F.jobs[i], "aborted");
			return 0;
		}
	return 1;
}

static time_t
fake_now(void *arg)
{
	return F.now;
}

static void
setup(void)
{
	const char	*tmp = getenv("TMPDIR");
	char		 path[300], *cause = NULL;

	setenv("TZ", "UTC", 1);
	tzset();
	snprintf(tmpdir, sizeof tmpdir, "%s/check-campaign.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof path, "%s/plans", tmpdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	memset(&F, 0, sizeof F);
	ck_assert_ptr_nonnull(F.base = event_base_new());
	ck_assert_ptr_nonnull(F.st = store_open(tmpdir, &cause));
	write_file("alpha.yaml", plan_a);
	write_file("beta.yaml", plan_b);
	R.submit = fake_submit;
	R.abort = fake_abort;
	R.arg = &F;
	PD = NULL;
}

static void
teardown(void)
{
	plans_dir_free(PD);
	store_close(F.st);
	event_base_free(F.base);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct campaigns *
open_campaigns(bool no_schedule)
{
	struct campaigns_config	 cc;
	struct campaigns	*cs;
	char			 path[300], *cause = NULL;

	snprintf(path, sizeof path, "%s/plans", tmpdir);
	ck_assert_ptr_nonnull(PD = plans_dir_open(path, &cause));
	memset(&cc, 0, sizeof cc);
	cc.runner = &R;
	cc.now = fake_now;
	cc.no_schedule = no_schedule;
	ck_assert_ptr_nonnull(cs = campaigns_new(F.base, F.st, PD, &cc, &cause));
	return cs;
}

/* Runs the loop until no campaign run is in flight (10 s at most). */
static void
drain(struct campaigns *cs)
{
	uint64_t	until = clock_mono_ns() + 10000000000ULL;

	while (campaigns_active(cs) > 0 && clock_mono_ns() < until)
		event_base_loop(F.base, EVLOOP_ONCE);
	/* The last notice comes from the loop too. */
	event_base_loop(F.base, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(campaigns_active(cs), 0);
}

static int64_t
start(struct campaigns *cs, const char *name)
{
	char	*cause = NULL;
	int64_t	 id = 0, running = 0;

	ck_assert_int_eq(campaigns_start(cs, name, "request", &id, &running,
	    NULL, &cause), CAMPAIGNS_OK);
	return id;
}

static const char *
jstr(json_t *o, const char *path)
{
	return json_string_value(json_object_get(o, path));
}

static json_int_t
jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

START_TEST(flaky_keeps_both_attempts)
{
	static const struct script s[] = {
		{ 0, 1, 1, "fail", "I/O timeout on sector 8" },
		{ 0, 1, 2, "pass", NULL },
	};
	struct campaigns	*cs;
	json_t			*cr, *p, *rep, *atts, *run, *sum, *plans;
	char			*cause = NULL, *text;
	int64_t			 id, r1, r2;
	size_t			 i;

	F.script = s;
	F.nscript = 2;
	write_file("c.yaml", "version: 1\nkind: campaign\nname: night\n"
	    "plans: [alpha.yaml, beta.yaml]\nretries: 1\n");
	cs = open_campaigns(true);
	id = start(cs, "night");
	drain(cs);
	ck_assert_ptr_nonnull(cr = store_campaign_run_get(F.st, id, &cause));
	ck_assert_str_eq(jstr(cr, "verdict"), "flaky");
	ck_assert_str_eq(jstr(cr, "status"), "finished");
	ck_assert_int_eq(jint(json_object_get(cr, "counts"), "flaky"), 1);
	ck_assert_int_eq(jint(json_object_get(cr, "counts"), "pass"), 1);
	ck_assert_int_eq(jint(json_object_get(cr, "counts"), "attempts"), 3);
	p = json_array_get(json_object_get(cr, "plans"), 0);
	ck_assert_str_eq(jstr(p, "plan"), "alpha");
	ck_assert_str_eq(jstr(p, "verdict"), "flaky");
	rep = json_array_get(json_object_get(p, "repetitions"), 0);
	ck_assert_str_eq(jstr(rep, "verdict"), "flaky");
	atts = json_object_get(rep, "attempts");
	ck_assert_uint_eq(json_array_size(atts), 2);
	ck_assert_str_eq(jstr(json_array_get(atts, 0), "verdict"), "fail");
	ck_assert_str_eq(jstr(json_array_get(atts, 1), "verdict"), "pass");
	ck_assert_int_eq(jint(json_object_get(json_array_get(atts, 0),
	    "findings"), "total"), 1);
	r1 = jint(json_array_get(atts, 0), "run");
	r2 = jint(json_array_get(atts, 1), "run");
	ck_assert_int_ne(r1, r2);
	/* Both attempts are runs of their own in the store, tagged. */
	ck_assert_ptr_nonnull(run = store_run_get(F.st, r1, &cause));
	ck_assert_str_eq(jstr(run, "verdict"), "fail");
	ck_assert_int_eq(jint(run, "campaign_run"), id);
	ck_assert_int_eq(jint(run, "attempt"), 1);
	json_decref(run);
	ck_assert_ptr_nonnull(run = store_run_get(F.st, r2, &cause));
	ck_assert_str_eq(jstr(run, "verdict"), "pass");
	ck_assert_int_eq(jint(run, "attempt"), 2);
	json_decref(run);
	/* The retry is in the campaign run's events. */
	text = json_dumps(json_object_get(cr, "events"), JSON_COMPACT);
	ck_assert_ptr_nonnull(strstr(text, "\"retry\""));
	free(text);
	json_decref(cr);

	/* The morning report counts the repetition once, as flaky. */
	ck_assert_ptr_nonnull(sum = store_summary(F.st, 1, 0, &cause));
	ck_assert_int_eq(jint(json_object_get(sum, "totals"), "flaky"), 1);
	ck_assert_int_eq(jint(json_object_get(sum, "totals"), "pass"), 1);
	ck_assert_int_eq(jint(json_object_get(sum, "totals"), "fail"), 0);
	ck_assert_int_eq(jint(json_object_get(sum, "totals"), "outcomes"), 2);
	ck_assert_int_eq(jint(json_object_get(sum, "totals"), "runs"), 3);
	plans = json_object_get(sum, "plans");
	ck_assert_str_eq(jstr(json_array_get(plans, 0), "plan"), "alpha");
	ck_assert_int_eq(jint(json_array_get(plans, 0), "flaky"), 1);
	ck_assert_int_eq(jint(json_array_get(plans, 0), "runs"), 2);
	json_array_foreach(json_object_get(sum, "finding_kinds"), i, p)
		if (strcmp(jstr(p, "kind"), "io_timeout") == 0) {
			ck_assert_int_eq(jint(p, "findings"), 1);
			ck_assert_int_eq(jint(p, "flaky"), 1);
		}
	ck_assert_uint_eq(json_array_size(json_object_get(sum,
	    "campaign_runs")), 1);
	json_decref(sum);
	campaigns_free(cs);
}
END_TEST

START_TEST(retries_run_out)
{
	static const struct script s[] = {
		{ 1, 1, 1, "fail", "x" }, { 1, 1, 2, "error", NULL },
		{ 1, 1, 3, "fail", "y" },
	};
	struct campaigns	*cs;
	json_t			*cr, *rep;
	char			*cause = NULL;
	int64_t			 id;

	F.script = s;
	F.nscript = 3;
	write_file("c.yaml", "version: 1\nkind: campaign\nname: night\n"
	    "plans: [alpha.yaml, beta.yaml]\nretries: 2\n");
	cs = open_campaigns(true);
	id = start(cs, "night");
	drain(cs);
	ck_assert_ptr_nonnull(cr = store_campaign_run_get(F.st, id, &cause));
	ck_assert_str_eq(jstr(cr, "verdict"), "fail");
	ck_assert_ptr_nonnull(strstr(jstr(cr, "reason"), "beta.yaml"));
	rep = json_array_get(json_object_get(json_array_get(json_object_get(cr,
	    "plans"), 1), "repetitions"), 0);
	ck_assert_str_eq(jstr(rep, "verdict"), "fail");
	ck_assert_uint_eq(json_array_size(json_object_get(rep, "attempts")), 3);
	json_decref(cr);
	campaigns_free(cs);
}
END_TEST

START_TEST(parallel_and_repeat)
{
	struct campaigns	*cs;
	json_t			*cr;
	char			*cause = NULL;
	int64_t			 id;

	F.refuse = 1;	/* the run set is full once: the campaign waits */
	write_file("c.yaml", "version: 1\nkind: campaign\nname: night\n"
	    "plans: [alpha.yaml, beta.yaml]\nrepeat: 3\nparallel: 2\n");
	cs = open_campaigns(true);
	id = start(cs, "night");
	drain(cs);
	ck_assert_uint_eq(F.submitted, 6);
	ck_assert_uint_eq(F.max_running, 2);
	ck_assert_ptr_nonnull(cr = store_campaign_run_get(F.st, id, &cause));
	ck_assert_str_eq(jstr(cr, "verdict"), "pass");
	ck_assert_int_eq(jint(json_object_get(cr, "counts"), "pass"), 6);
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(
	    json_object_get(cr, "plans"), 1), "repetitions")), 3);
	json_decref(cr);
	campaigns_free(cs);
}
END_TEST

/* 2026-11-21 10:03:30 UTC */
#define T0	((time_t)1795255410)

static size_t
count_cruns(void)
{
	struct store_crun_filter f;
	json_t			*l;
	char			*cause = NULL;
	size_t			 n;

	memset(&f, 0, sizeof f);
	ck_assert_ptr_nonnull(l = store_campaign_runs_list(F.st, &f, &cause));
	n = json_array_size(json_object_get(l, "campaign_runs"));
	json_decref(l);
	return n;
}

START_TEST(schedule_on_time_and_never_twice)
{
	struct store_crun_filter f;
	struct campaigns	*cs;
	json_t			*c, *ev, *cr, *list;
	char			*cause = NULL;
	size_t			 i;
	int			 skipped = 0;

	F.now = T0;
	F.hold = 1;
	write_file("c.yaml", "version: 1\nkind: campaign\nname: night\n"
	    "plans: [alpha.yaml]\nschedule: \"*/5 * * * *\"\n");
	cs = open_campaigns(false);
	ck_assert_ptr_nonnull(c = campaigns_get(cs, "night", &cause));
	ck_assert_str_eq(jstr(c, "next_run"), "2026-11-21T10:05:00.000Z");
	ck_assert(json_is_null(json_object_get(c, "last_run")));
	json_decref(c);

	/* Not a second early. */
	F.now = T0 + 89;
	campaigns_tick(cs);
	ck_assert_uint_eq(count_cruns(), 0);
	F.now = T0 + 90;
	campaigns_tick(cs);
	ck_assert_uint_eq(count_cruns(), 1);
	ck_assert_uint_eq(campaigns_active(cs), 1);
	memset(&f, 0, sizeof f);
	ck_assert_ptr_nonnull(list = store_campaign_runs_list(F.st, &f,
	    &cause));
	cr = json_array_get(json_object_get(list, "campaign_runs"), 0);
	ck_assert_str_eq(jstr(cr, "trigger"), "schedule");
	ck_assert_str_eq(jstr(cr, "scheduled"), "2026-11-21T10:05:00.000Z");
	json_decref(list);
	/* A tick in the same minute starts nothing more. */
	F.now = T0 + 100;
	campaigns_tick(cs);
	ck_assert_uint_eq(count_cruns(), 1);

	/* Its next time comes while it still runs: skipped, and said. */
	F.now = T0 + 390;
	campaigns_tick(cs);
	ck_assert_uint_eq(count_cruns(), 1);
	ck_assert_ptr_nonnull(c = campaigns_get(cs, "night", &cause));
	json_array_foreach(json_object_get(c, "events"), i, ev)
		if (strcmp(jstr(ev, "kind"), "skipped") == 0)
			skipped++;
	ck_assert_int_eq(skipped, 1);
	ck_assert(json_is_integer(json_object_get(c, "running")));
	ck_assert_str_eq(jstr(c, "next_run"), "2026-11-21T10:15:00.000Z");
	json_decref(c);

	/* Once it ends, the next time starts it again. */
	for (i = 0; i < F.njobs; i++)
		job_end(&F.jobs[i], "pass");
	drain(cs);
	F.hold = 0;
	F.now = T0 + 690;
	campaigns_tick(cs);
	ck_assert_uint_eq(count_cruns(), 2);
	drain(cs);
	ck_assert_ptr_nonnull(c = campaigns_get(cs, "night", &cause));
	ck_assert_str_eq(jstr(json_object_get(c, "last_run"), "verdict"), "pass");
	ck_assert_uint_eq(json_array_size(json_object_get(c, "runs")), 2);
	json_decref(c);
	campaigns_free(cs);
}
END_TEST

START_TEST(busy_abort_and_interrupt)
{
	struct campaigns	*cs;
	json_t			*cr;
	char			*cause = NULL;
	int64_t			 id, id2 = 0, running = 0;
	unsigned		 n;

	F.hold = 1;
	write_file("c.yaml", "version: 1\nkind: campaign\nname: night\n"
	    "plans: [alpha.yaml, beta.yaml]\nrepeat: 2\n");
	cs = open_campaigns(true);
	id = start(cs, "night");
	ck_assert_int_eq(campaigns_start(cs, "c", "request", &id2, &running,
	    NULL, &cause), CAMPAIGNS_BUSY);
	ck_assert_int_eq(running, id);
	ck_assert_ptr_nonnull(strstr(cause, "already running"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(campaigns_start(cs, "nope", "request", &id2, &running,
	    NULL, &cause), CAMPAIGNS_UNKNOWN);
	free(cause);
	cause = NULL;

	/* A daemon killed now leaves it interrupted at the next start. */
	ck_assert_int_eq(store_interrupt_unfinished(F.st, clock_wall_ns(), &n,
	    &cause), 0);
	ck_assert_ptr_nonnull(cr = store_campaign_run_get(F.st, id, &cause));
	ck_assert_str_eq(jstr(cr, "verdict"), "interrupted");
	json_decref(cr);
	campaigns_free(cs);
	plans_dir_free(PD);

	/* Abort: the run in flight is aborted, the rest never start. */
	F.njobs = 0;
	F.running = 0;
	cs = open_campaigns(true);
	id = start(cs, "night");
	id2 = 0;
	ck_assert_int_eq(campaigns_abort(cs, "night", &id2), 0);
	ck_assert_int_eq(id2, id);
	drain(cs);
	ck_assert_ptr_nonnull(cr = store_campaign_run_get(F.st, id, &cause));
	ck_assert_str_eq(jstr(cr, "verdict"), "aborted");
	ck_assert_int_eq(jint(json_object_get(cr, "counts"), "aborted"), 4);
	ck_assert_int_eq(jint(json_object_get(cr, "counts"), "attempts"), 1);
	json_decref(cr);
	ck_assert_int_eq(campaigns_abort(cs, "night", &id2), 1);
	campaigns_free(cs);
}
END_TEST

START_TEST(bad_cron_is_located)
{
	struct campaigns	*cs;
	struct plan_diags	 d;
	json_t			*list, *c;
	char			*cause = NULL;
	int64_t			 id = 0, running = 0;

	write_file("c.yaml", "version: 1\nkind: campaign\nname: night\n"
	    "plans: [alpha.yaml]\nschedule: \"0 25 * * *\"\n");
	cs = open_campaigns(false);
	ck_assert_ptr_nonnull(list = campaigns_list(cs, &cause));
	ck_assert_uint_eq(json_array_size(list), 1);
	c = json_array_get(list, 0);
	ck_assert(json_is_false(json_object_get(c, "valid")));
	ck_assert_str_eq(jstr(c, "name"), "c");
	/* file:line:column, at the hour field. */
	ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(
	    json_object_get(c, "errors"), 0)), "c.yaml:5:14: error:"));
	json_decref(list);
	plan_diags_init(&d);
	ck_assert_int_eq(campaigns_start(cs, "c", "request", &id, &running, &d,
	    &cause), CAMPAIGNS_INVALID);
	ck_assert_uint_ge(d.n, 1);
	ck_assert_uint_eq(d.v[0].mark.line, 5);
	ck_assert_uint_eq(d.v[0].mark.column, 14);
	plan_diags_free(&d);
	free(cause);
	campaigns_free(cs);
}
END_TEST

START_TEST(rerun_rates)
{
	static const struct script s[] = {
		{ 0, 0, 1, "fail", "I/O timeout on sector 8" },
		{ 0, 0, 2, "pass", NULL },
		{ 0, 0, 3, "fail", "I/O timeout on sector 8" },
	};
	struct store_run_new	 n;
	struct store_finding	 f;
	struct reruns		*rr;
	json_t			*x, *rep;
	char			*cause = NULL;
	int64_t			 src, id = 0;
	uint64_t		 deadline;

	/* The run reproduced: two findings, one of which comes back. */
	memset(&n, 0, sizeof n);
	n.plan = "alpha";
	n.source = "alpha.yaml";
	n.plan_text = plan_a;
	n.seed = 0xfeedULL;
	n.backend = "local";
	n.created_ns = clock_wall_ns();
	ck_assert_int_eq(store_run_create(F.st, &n, &src, &cause), 0);
	memset(&f, 0, sizeof f);
	f.run = src;
	f.kind = "io_timeout";
	f.title = "I/O timeout on sector 8";
	f.time_ns = clock_wall_ns();
	f.source = "agent";
	ck_assert_int_eq(store_finding_add(F.st, &f, NULL, &cause), 0);
	f.kind = "corruption";
	f.title = "stale block at 4096";
	ck_assert_int_eq(store_finding_add(F.st, &f, NULL, &cause), 0);
	ck_assert_int_eq(store_run_finish(F.st, src, "fail", "x",
	    clock_wall_ns(), NULL, NULL, &cause), 0);

	F.script = s;
	F.nscript = 3;
	ck_assert_ptr_nonnull(rr = reruns_new(F.base, F.st, &R, NULL, &cause));
	ck_assert_int_eq(reruns_start(rr, src, 0, 1, &id, &cause), RERUNS_BAD);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(reruns_start(rr, 999, 3, 1, &id, &cause),
	    RERUNS_UNKNOWN);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(reruns_start(rr, src, 3, 1, &id, &cause), RERUNS_OK);
	deadline = clock_mono_ns() + 10000000000ULL;
	while (reruns_active(rr) > 0 && clock_mono_ns() < deadline)
		event_base_loop(F.base, EVLOOP_ONCE);
	ck_assert_uint_eq(reruns_active(rr), 0);
	/* One at a time, each with the source run's seed. */
	ck_assert_uint_eq(F.max_running, 1);
	ck_assert_ptr_nonnull(x = store_rerun_get(F.st, id, &cause));
	ck_assert_str_eq(jstr(x, "status"), "finished");
	ck_assert_int_eq(jint(x, "completed"), 3);
	ck_assert_int_eq(jint(x, "seed"), 0xfeed);
	ck_assert_int_eq(jint(json_array_get(json_object_get(x, "runs"), 0),
	    "findings"), 1);
	rep = json_array_get(json_object_get(x, "reproduction"), 0);
	ck_assert_str_eq(jstr(rep, "title"), "I/O timeout on sector 8");
	ck_assert_int_eq(jint(rep, "seen"), 2);
	ck_assert_int_eq(jint(rep, "of"), 3);
	ck_assert(json_real_value(json_object_get(rep, "rate")) > 0.66 &&
	    json_real_value(json_object_get(rep, "rate")) < 0.67);
	rep = json_array_get(json_object_get(x, "reproduction"), 1);
	ck_assert_str_eq(jstr(rep, "kind"), "corruption");
	ck_assert_int_eq(jint(rep, "seen"), 0);
	ck_assert_int_eq(jint(json_object_get(x, "verdicts"), "fail"), 2);
	ck_assert_int_eq(jint(json_object_get(x, "verdicts"), "pass"), 1);
	json_decref(x);
	reruns_free(rr);
}
END_TEST

START_TEST(repetition_verdicts)
{
	const char	*pf[] = { "pass", "fail" }, *fp[] = { "fail", "pass" };
	const char	*ep[] = { "error", "error", "pass" }, *p[] = { "pass" };
	const char	*fr[] = { "fail", NULL };

	ck_assert_str_eq(store_repetition_verdict(p, 1, false), "pass");
	ck_assert_str_eq(store_repetition_verdict(fp, 2, false), "flaky");
	ck_assert_str_eq(store_repetition_verdict(ep, 3, true), "flaky");
	ck_assert_str_eq(store_repetition_verdict(pf, 2, false), "fail");
	ck_assert_ptr_null(store_repetition_verdict(fp, 1, true));
	ck_assert_str_eq(store_repetition_verdict(fp, 1, false), "fail");
	ck_assert_ptr_null(store_repetition_verdict(fr, 2, false));
	ck_assert_str_eq(store_verdict_worse("flaky", "fail"), "fail");
	ck_assert_str_eq(store_verdict_worse("pass", "flaky"), "flaky");
	ck_assert_str_eq(store_verdict_worse("aborted", "error"), "error");
}
END_TEST

static Suite *
campaign_suite(void)
{
	Suite	*s = suite_create("campaign");
	TCase	*tc = tcase_create("campaign");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, flaky_keeps_both_attempts);
	tcase_add_test(tc, retries_run_out);
	tcase_add_test(tc, parallel_and_repeat);
	tcase_add_test(tc, schedule_on_time_and_never_twice);
	tcase_add_test(tc, busy_abort_and_interrupt);
	tcase_add_test(tc, bad_cron_is_located);
	tcase_add_test(tc, rerun_rates);
	tcase_add_test(tc, repetition_verdicts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run(campaign_suite());
}
