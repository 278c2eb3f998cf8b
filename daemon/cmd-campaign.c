/* cmd-campaign.c: `hotsoak campaign start|show|abort` starts a campaign run
 * and follows it, shows a campaign or one of its runs, and stops one. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd-client.h"
#include "cmd-table.h"
#include "cmd-wait.h"

#define CAMPAIGN_LINE	256

/* A repetition's or a plan's count members, in the order they are shown. */
static const char *const campaign_counts[] = {
	"pass", "fail", "error", "flaky", "aborted", "interrupted", "running",
	"pending", NULL
};

/* "1 pass, 1 flaky, 2 pending" from COUNTS; "" when all are zero. */
static void
campaign_fmt_counts(const json_t *counts, const char *sep, char *buf,
    size_t len)
{
	uint64_t	v;
	size_t		i, off = 0;

	buf[0] = '\0';
	for (i = 0; campaign_counts[i] != NULL && off < len; i++) {
		if (client_uint(counts, campaign_counts[i], &v) != 0 || v == 0)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%llu %s",
		    off > 0 ? sep : "", (unsigned long long)v,
		    campaign_counts[i]);
	}
}

/* "run 102 fail (2 findings), run 103 pass" */
static void
campaign_fmt_attempts(const json_t *attempts, char *buf, size_t len)
{
	const json_t	*a;
	const char	*what;
	uint64_t	 nf;
	char		 id[32];
	size_t		 i, off = 0;

	buf[0] = '\0';
	json_array_foreach(attempts, i, a) {
		if (off >= len)
			break;
		if (client_id(a, "run", id, sizeof id) != 0)
			snprintf(id, sizeof id, "?");
		if ((what = client_str(a, "verdict")) == NULL &&
		    (what = client_str(a, "status")) == NULL)
			what = "pending";
		off += (size_t)snprintf(buf + off, len - off, "%srun %s %s",
		    i > 0 ? ", " : "", id, what);
		if (off < len && client_uint(client_obj(a, "findings"), "total",
		    &nf) == 0 && nf > 0)
			off += (size_t)snprintf(buf + off, len - off,
			    " (%llu finding%s)", (unsigned long long)nf,
			    nf == 1 ? "" : "s");
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "-");
}

/* The table's columns, in order. */
enum campaign_col {
	CAMPAIGN_PLAN,		/* plan name, on its first repetition's row */
	CAMPAIGN_VERDICT,	/* the plan's verdict, likewise */
	CAMPAIGN_REP,		/* "#2 flaky" */
	CAMPAIGN_ATTEMPTS,	/* the repetition's runs and their verdicts */
	CAMPAIGN_NCOLS		/* number of columns, not a column */
};

static const char *const campaign_heads[CAMPAIGN_NCOLS] = {
	"PLAN", "VERDICT", "REPETITION", "ATTEMPTS"
};

/* One row per repetition of every plan. */
static int
campaign_print_plans(const json_t *plans)
{
	struct table	*t;
	const json_t	*p, *reps, *rep;
	const char	*name, *verdict, *rv;
	char		 buf[1024];
	uint64_t	 n;
	size_t		 i, j;
	int		 rc;

	if ((t = table_new(CAMPAIGN_NCOLS, campaign_heads, 0)) == NULL) {
		fprintf(stderr, "hotsoak: out of memory\n");
		return -1;
	}
	json_array_foreach(plans, i, p) {
		if ((name = client_str(p, "plan")) == NULL &&
		    (name = client_str(p, "file")) == NULL)
			name = "?";
		verdict = client_str(p, "verdict");
		reps = client_arr(p, "repetitions");
		table_row(t);
		table_cell(t, CAMPAIGN_PLAN, "%s", name);
		table_cell(t, CAMPAIGN_VERDICT, "%s", verdict != NULL ? verdict :
		    "-");
		if (reps == NULL || json_array_size(reps) == 0) {
			table_cell(t, CAMPAIGN_REP, "-");
			table_cell(t, CAMPAIGN_ATTEMPTS, "-");
			continue;
		}
		json_array_foreach(reps, j, rep) {
			if (j > 0)
				table_row(t);
			if (client_uint(rep, "repetition", &n) != 0)
				n = j + 1;
			rv = client_str(rep, "verdict");
			/* A repetition still going has a run in flight or none. */
			if (rv == NULL)
				rv = json_array_size(client_arr(rep,
				    "attempts")) > 0 ? "running" : "pending";
			table_cell(t, CAMPAIGN_REP, "#%llu %s",
			    (unsigned long long)n, rv);
			campaign_fmt_attempts(client_arr(rep, "attempts"), buf,
			    sizeof buf);
			table_cell(t, CAMPAIGN_ATTEMPTS, "%s", buf);
		}
	}
	rc = table_print(t);
	table_free(t);
	return rc;
}

void
campaign_print_run(struct client *c, const json_t *crun)
{
	const json_t	*plans;
	const char	*name, *trigger, *verdict, *status, *reason, *when;
	char		 id[32], buf[CAMPAIGN_LINE], el[CLIENT_FMT_MAX];
	uint64_t	 v;
	int		 any = 0;

	name = client_str(crun, "campaign");
	printf("campaign run %s: %s", client_id_text(crun, "id", id, sizeof id,
	    "?"), name != NULL ? name : "?");
	if ((trigger = client_str(crun, "trigger")) != NULL)
		printf("  trigger %s", trigger);
	if (client_uint(crun, "repeat", &v) == 0)
		printf("  repeat %llu", (unsigned long long)v);
	if (client_uint(crun, "retries", &v) == 0)
		printf("  retries %llu", (unsigned long long)v);
	printf("\n");

	verdict = client_str(crun, "verdict");
	status = client_str(crun, "status");
	reason = client_str(crun, "reason");
	if (verdict != NULL)
		printf("verdict: %s", client_upper(verdict, buf, sizeof buf));
	else
		printf("status: %s", status != NULL ? status : "unknown");
	if (reason != NULL && *reason != '\0')
		printf("  %s", reason);
	printf("\n");

	if ((when = client_str_either(crun, "started", "created")) != NULL) {
		printf("started %s", when);
		any = 1;
	}
	if (client_uint(crun, "elapsed_ms", &v) == 0) {
		client_fmt_ms(v, el, sizeof el);
		printf("%selapsed %s", any ? "  " : "", el);
		any = 1;
	}
	if (client_uint(client_obj(crun, "counts"), "attempts", &v) == 0) {
		printf("%sattempts %llu", any ? "  " : "",
		    (unsigned long long)v);
		any = 1;
	}
	if (any)
		printf("\n");
	campaign_fmt_counts(client_obj(crun, "counts"), ", ", buf, sizeof buf);
	if (buf[0] != '\0')
		printf("repetitions: %s\n", buf);
	if ((plans = client_arr(crun, "plans")) != NULL &&
	    json_array_size(plans) > 0)
		campaign_print_plans(plans);
	fflush(stdout);
}

int
campaign_run_status(const json_t *crun)
{
	const char	*status;

	status = client_str(crun, "status");
	if (status != NULL && strcmp(status, "running") == 0)
		return CMD_OK;
	return client_verdict_status(client_str(crun, "verdict"));
}

/* "[  12.3s] attempts 3  1 pass  1 flaky  1 running  2 pending" */
static void
campaign_progress(const json_t *crun, uint64_t waited_ns, char *line,
    size_t len, char *key, size_t keylen)
{
	const json_t	*counts = client_obj(crun, "counts");
	char		 clock[CLIENT_FMT_MAX + 4], buf[CAMPAIGN_LINE];
	uint64_t	 n;

	wait_clock(crun, waited_ns, clock, sizeof clock);
	campaign_fmt_counts(counts, "  ", buf, sizeof buf);
	if (client_uint(counts, "attempts", &n) != 0)
		n = 0;
	snprintf(key, keylen, "attempts %llu%s%s", (unsigned long long)n,
	    buf[0] != '\0' ? "  " : "", buf);
	snprintf(line, len, "%s %s", clock, key);
}

/* CLIENT_API "/campaigns/NAME[/then]" (allocated; the caller frees), or
 * NULL having said so. */
static char *
campaign_path(const char *name, const char *then)
{
	char	*path;

	if ((path = strdup(CLIENT_API "/campaigns")) == NULL ||
	    client_path_add(&path, name) != 0) {
		free(path);
		fprintf(stderr, "hotsoak: out of memory\n");
		return NULL;
	}
	if (then != NULL && client_path_add(&path, then) != 0) {
		free(path);
		fprintf(stderr, "hotsoak: out of memory\n");
		return NULL;
	}
	return path;
}

/* One verb of `hotsoak campaign`. */
struct campaign_sub {
	const char	*name;
	const char	*usage;		/* after "campaign " */
	int		(*exec)(int argc, char **argv);
};

#define START_USAGE	"campaign start [--wait] [--json] [--interval DUR] " \
			CLIENT_USAGE " NAME"

static const struct wait_follow campaign_follow = {
	.collection = CLIENT_API "/campaign-runs",
	.noun = "campaign run",
	.stop = "stop it with: hotsoak campaign abort ",
	.stop_id = 1,
	.progress = campaign_progress,
	.print = campaign_print_run,
	.status = campaign_run_status,
};

static int
campaign_start(int argc, char **argv)
{
	struct client_opts	 o;
	struct client_flags	 f;
	struct client		 c;
	struct client_reply	 r;
	const char		*name;
	char			*path = NULL, id[32], other[32];
	int			 rc;

	if (client_getopt_flags(&o, &f, argc, argv, CLIENT_FLAGS_WAIT |
	    CLIENT_FLAGS_JSON, NULL, START_USAGE, &rc) != 0)
		return rc;
	if (argc - optind != 1 || *argv[optind] == '\0')
		return client_usage(stderr, START_USAGE);
	name = argv[optind];
	if (client_open(&c, &o) != CMD_OK)
		return CMD_ERROR;
	memset(&r, 0, sizeof r);
	if ((path = campaign_path(name, "start")) == NULL) {
		rc = CMD_ERROR;
		goto out;
	}
	/* One at a time is the rule: say which one holds the place. */
	c.own_status = 409;
	rc = client_call(&c, HTTP_POST, path, NULL, "", 0, &r);
	c.own_status = 0;
	if (r.status == 409) {
		if (client_id(r.json, "campaign_run", other, sizeof other) == 0)
			fprintf(stderr, "hotsoak: campaign %s is already running "
			    "(campaign run %s)\n", name, other);
		else
			fprintf(stderr, "hotsoak: campaign %s is already "
			    "running\n", name);
		rc = CMD_ERROR;
		goto out;
	}
	if (rc != CMD_OK)
		goto out;
	if (client_created_id(&r, id, sizeof id) != 0) {
		fprintf(stderr, "hotsoak: the server started campaign %s but "
		    "its reply names no campaign run id\n", name);
		rc = CMD_ERROR;
		goto out;
	}
	client_started(&f, r.json, "campaign run %s: %s started, %s"
	    CLIENT_API "/campaign-runs/%s\n", id, name, c.server, id);
	if (f.wait)
		rc = wait_follow(&c, &campaign_follow, id, &f);
out:
	client_reply_clear(&r);
	client_clear(&c);
	free(path);
	return rc;
}

/* "2026-11-22 02:00:00 CET" from *_ns, else the RFC 3339 text, else "-". */
static void
campaign_when(const json_t *j, const char *key, const char *key_ns,
    char *buf, size_t len)
{
	const char	*s;
	uint64_t	 ns;

	if (client_uint(j, key_ns, &ns) == 0)
		client_fmt_local(ns, 1, buf, len);
	else if ((s = client_str(j, key)) != NULL)
		client_clean(s, buf, len);
	else
		snprintf(buf, len, "-");
}

/* An entry of "errors": a string, or an object with a message. */
static const char *
campaign_error_text(const json_t *e)
{
	if (json_is_string(e))
		return json_string_value(e);
	if (client_str(e, "message") != NULL)
		return client_str(e, "message");
	return client_str(e, "detail");
}

/* The columns of a campaign's recent runs. */
enum recent_col {
	RECENT_ID,		/* campaign run id */
	RECENT_TRIGGER,		/* schedule or request */
	RECENT_STATUS,		/* running, finished */
	RECENT_VERDICT,		/* pass, flaky, ... or - */
	RECENT_STARTED,		/* when it began */
	RECENT_ELAPSED,		/* how long it took */
	RECENT_REPS,		/* repetitions by verdict */
	RECENT_NCOLS		/* number of columns, not a column */
};

static const char *const recent_heads[RECENT_NCOLS] = {
	"ID", "TRIGGER", "STATUS", "VERDICT", "STARTED", "ELAPSED",
	"REPETITIONS"
};

static void
campaign_print_recent(const json_t *runs)
{
	struct table	*t;
	const json_t	*b;
	char		 buf[CAMPAIGN_LINE];
	uint64_t	 v;
	size_t		 i;

	if ((t = table_new(RECENT_NCOLS, recent_heads, 1U << RECENT_ID |
	    1U << RECENT_ELAPSED)) == NULL)
		return;
	json_array_foreach(runs, i, b) {
		table_row(t);
		table_cell_str(t, RECENT_ID, client_id_text(b, "id", buf,
		    sizeof buf, NULL), "?");
		table_cell_str(t, RECENT_TRIGGER, client_str(b, "trigger"), "-");
		table_cell_str(t, RECENT_STATUS, client_str(b, "status"), "?");
		table_cell_str(t, RECENT_VERDICT, client_str(b, "verdict"), "-");
		table_cell_str(t, RECENT_STARTED, client_str_either(b,
		    "started", "created"), "-");
		if (client_uint(b, "elapsed_ms", &v) == 0) {
			client_fmt_ms(v, buf, sizeof buf);
			table_cell(t, RECENT_ELAPSED, "%s", buf);
		} else
			table_cell(t, RECENT_ELAPSED, "-");
		campaign_fmt_counts(client_obj(b, "counts"), ", ", buf,
		    sizeof buf);
		table_cell(t, RECENT_REPS, "%s", buf[0] != '\0' ? buf : "-");
	}
	table_print(t);
	table_free(t);
}

/* The columns of a campaign's events. */
enum event_col {
	EVENT_TIME,		/* when */
	EVENT_KIND,		/* started, finished, skipped, ... */
	EVENT_RUN,		/* campaign run id or - */
	EVENT_DETAIL,		/* what happened */
	EVENT_NCOLS		/* number of columns, not a column */
};

static const char *const event_heads[EVENT_NCOLS] = {
	"TIME", "KIND", "RUN", "DETAIL"
};

static void
campaign_print_events(const json_t *events)
{
	struct table	*t;
	const json_t	*e;
	char		 buf[CAMPAIGN_LINE];
	size_t		 i;

	if ((t = table_new(EVENT_NCOLS, event_heads, 1U << EVENT_RUN)) == NULL)
		return;
	json_array_foreach(events, i, e) {
		table_row(t);
		table_cell_str(t, EVENT_TIME, client_str(e, "time"), "-");
		table_cell_str(t, EVENT_KIND, client_str(e, "kind"), "?");
		table_cell_str(t, EVENT_RUN, client_id_text(e, "campaign_run",
		    buf, sizeof buf, NULL), "-");
		table_cell_str(t, EVENT_DETAIL, client_str(e, "detail"), "");
	}
	table_print(t);
	table_free(t);
}

/* A campaign (GET /api/v1/campaigns/NAME): its setup, runs and events. */
static void
campaign_print(struct client *c, const json_t *cj)
{
	const json_t	*plans, *errors, *e, *runs, *events;
	const char	*name, *file, *desc, *sched;
	char		 buf[CAMPAIGN_LINE], id[32];
	uint64_t	 v;
	size_t		 i;

	(void)c;	/* the campaign holds all it shows */
	name = client_str(cj, "name");
	file = client_str(cj, "file");
	printf("campaign %s", name != NULL ? name : "?");
	if (file != NULL)
		printf(" (%s)", file);
	printf("\n");
	if ((desc = client_str(cj, "description")) != NULL && *desc != '\0')
		printf("  %s\n", desc);
	if ((plans = client_arr(cj, "plans")) != NULL) {
		printf("plans:");
		json_array_foreach(plans, i, e)
			if (json_is_string(e))
				printf("%s %s", i > 0 ? "," : "",
				    json_string_value(e));
		printf("\n");
	}
	if (client_uint(cj, "repeat", &v) == 0)
		printf("repeat %llu", (unsigned long long)v);
	if (client_uint(cj, "parallel", &v) == 0)
		printf("  parallel %llu", (unsigned long long)v);
	if (client_uint(cj, "retries", &v) == 0)
		printf("  retries %llu", (unsigned long long)v);
	printf("\n");
	if ((sched = client_str(cj, "schedule")) != NULL) {
		campaign_when(cj, "next_run", "next_run_ns", buf, sizeof buf);
		printf("schedule: %s  next run %s\n", sched, buf);
	} else
		printf("schedule: none (started on request)\n");
	if (client_id(cj, "running", id, sizeof id) == 0)
		printf("running: campaign run %s\n", id);
	errors = client_arr(cj, "errors");
	if (json_is_false(json_object_get(cj, "valid")) ||
	    json_array_size(errors) > 0) {
		printf("invalid:\n");
		json_array_foreach(errors, i, e)
			if (campaign_error_text(e) != NULL)
				printf("  %s\n", campaign_error_text(e));
	}
	if ((runs = client_arr(cj, "runs")) != NULL) {
		if (json_array_size(runs) == 0)
			printf("runs: none yet\n");
		else {
			printf("\nrecent runs:\n");
			campaign_print_recent(runs);
		}
	}
	if ((events = client_arr(cj, "events")) != NULL &&
	    json_array_size(events) > 0) {
		printf("\nevents:\n");
		campaign_print_events(events);
	}
	fflush(stdout);
}

/* What campaign show and abort are about: a campaign or one of its runs. */
struct campaign_target {
	struct client	 c;
	const char	*arg;		/* NAME or ID as given */
	int		 byid;		/* arg is a campaign run's ID */
	char		*path;		/* its path; the campaign's then under it */
};

/*
 * Options of argv into f, NAME|ID into t and the client opened: 0 (clear
 * t with campaign_target_clear), else -1 with the status to exit with in
 * *status, having said why.
 */
static int
campaign_target_open(struct campaign_target *t, struct client_flags *f,
    int argc, char **argv, unsigned flags, const char *usage,
    const char *then, int *status)
{
	struct client_opts	o;

	memset(t, 0, sizeof *t);
	if (client_getopt_flags(&o, f, argc, argv, flags, NULL, usage,
	    status) != 0)
		return -1;
	if (argc - optind != 1 || *argv[optind] == '\0') {
		*status = client_usage(stderr, usage);
		return -1;
	}
	t->arg = argv[optind];
	t->byid = client_check_id(t->arg) == 0;
	if (client_open(&t->c, &o) != CMD_OK) {
		*status = CMD_ERROR;
		return -1;
	}
	if (!t->byid)
		t->path = campaign_path(t->arg, then);
	else if (asprintf(&t->path, CLIENT_API "/campaign-runs/%s",
	    t->arg) == -1) {
		t->path = NULL;
		fprintf(stderr, "hotsoak: out of memory\n");
	}
	if (t->path == NULL) {
		client_clear(&t->c);
		*status = CMD_ERROR;
		return -1;
	}
	return 0;
}

static void
campaign_target_clear(struct campaign_target *t)
{
	client_clear(&t->c);
	free(t->path);
}

#define SHOW_USAGE	"campaign show [--json] " CLIENT_USAGE " NAME|ID\n" \
			"an ID (digits only) is a campaign run, anything else " \
			"a campaign's name"

/* Nothing of ours is refused: a failed GET is CMD_ERROR. */
static const struct object_view campaign_view = {
	.print = campaign_print,
	.refused = CMD_ERROR,
};
static const struct object_view campaign_run_view = {
	.print = campaign_print_run,
	.status = campaign_run_status,
	.refused = CMD_ERROR,
};

static int
campaign_show(int argc, char **argv)
{
	struct campaign_target	t;
	struct client_flags	f;
	int			rc;

	if (campaign_target_open(&t, &f, argc, argv, CLIENT_FLAGS_JSON,
	    SHOW_USAGE, NULL, &rc) != 0)
		return rc;
	rc = object_show(&t.c, t.path, &f, t.byid ? &campaign_run_view :
	    &campaign_view);
	campaign_target_clear(&t);
	return rc;
}

#define ABORT_USAGE	"campaign abort " CLIENT_USAGE " NAME|ID\n" \
			"NAME stops the campaign's running instance, an ID " \
			"(digits only) that campaign run"

static int
campaign_abort(int argc, char **argv)
{
	struct campaign_target	t;
	struct client_flags	f;
	struct client_reply	r;
	char			id[32];
	int			rc;

	if (campaign_target_open(&t, &f, argc, argv, CLIENT_FLAGS_NONE,
	    ABORT_USAGE, "abort", &rc) != 0)
		return rc;
	/* 409 (none running, or finished) is CMD_FAILED, as the API says. */
	rc = client_call(&t.c, t.byid ? HTTP_DELETE : HTTP_POST, t.path, NULL,
	    t.byid ? NULL : "", 0, &r);
	if (rc == CMD_OK && t.byid)
		printf("campaign run %s: aborting\n", t.arg);
	else if (rc == CMD_OK && client_id(r.json, "id", id, sizeof id) == 0)
		printf("campaign run %s (%s): aborting\n", id, t.arg);
	else if (rc == CMD_OK)
		printf("campaign %s: aborting\n", t.arg);
	client_reply_clear(&r);
	campaign_target_clear(&t);
	return rc;
}

static const struct campaign_sub campaign_subs[] = {
	{ "start", "start NAME [--wait] [--json] [--interval DUR]",
	    campaign_start },
	{ "show", "show [--json] NAME|ID", campaign_show },
	{ "abort", "abort NAME|ID", campaign_abort },
	{ NULL, NULL, NULL }
};

static int
campaign_usage(FILE *f)
{
	size_t	i;

	fprintf(f, "usage:");
	for (i = 0; campaign_subs[i].name != NULL; i++)
		fprintf(f, " hotsoak campaign %s\n%s", campaign_subs[i].usage,
		    campaign_subs[i + 1].name != NULL ? "      " : "");
	return f == stdout ? CMD_OK : CMD_ERROR;
}

static int
campaign_exec(int argc, char **argv)
{
	size_t	i;

	if (argc < 2)
		return campaign_usage(stderr);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return campaign_usage(stdout);
	for (i = 0; campaign_subs[i].name != NULL; i++)
		if (strcmp(campaign_subs[i].name, argv[1]) == 0)
			return campaign_subs[i].exec(argc - 1, argv + 1);
	fprintf(stderr, "hotsoak: unknown campaign command `%s`\n", argv[1]);
	return campaign_usage(stderr);
}

const struct cmd_entry cmd_campaign = {
	.name = "campaign",
	.usage = "start NAME [--wait] | show NAME|ID | abort NAME|ID",
	.summary = "start a campaign run (--wait follows it), show or stop one",
	.exec = campaign_exec,
};
