/* cmd-summary.c: `hotsoak summary` is the morning report: outcomes of the
 * last day (or --since/--until) per plan and per finding kind. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd-client.h"
#include "cmd-table.h"
#include "cmd-wait.h"

/* The verdicts an outcome can have, in the order they are shown. */
static const char *const summary_verdicts[] = {
	"pass", "fail", "error", "flaky", "aborted", "interrupted", NULL
};

/* The per-plan table's columns, in order. */
enum plan_col {
	PLAN_NAME,		/* plan name */
	PLAN_OUTCOMES,		/* runs outside campaigns + repetitions */
	PLAN_RUNS,		/* runs made, retries included */
	PLAN_PASS,		/* then one column per verdict ... */
	PLAN_FAIL,
	PLAN_ERROR,
	PLAN_FLAKY,
	PLAN_ABORTED,
	PLAN_INTERRUPTED,
	PLAN_LAST,		/* last run: id and verdict */
	PLAN_NCOLS		/* number of columns, not a column */
};

static const char *const plan_heads[PLAN_NCOLS] = {
	"PLAN", "OUTCOMES", "RUNS", "PASS", "FAIL", "ERROR", "FLAKY", "ABORTED",
	"INTERRUPTED", "LAST RUN"
};

/* The per-kind table's columns, in order. */
enum kind_col {
	KIND_NAME,		/* finding kind */
	KIND_FINDINGS,		/* how many findings */
	KIND_OUTCOMES,		/* outcomes with at least one */
	KIND_FAIL,		/* of those, by verdict ... */
	KIND_ERROR,
	KIND_FLAKY,
	KIND_PASS,
	KIND_NCOLS		/* number of columns, not a column */
};

static const char *const kind_heads[KIND_NCOLS] = {
	"FINDING KIND", "FINDINGS", "OUTCOMES", "FAIL", "ERROR", "FLAKY", "PASS"
};

/* The member each count column shows. */
static const char *const kind_keys[KIND_NCOLS] = {
	"kind", "findings", "outcomes", "fail", "error", "flaky", "pass"
};

/* The campaign runs' columns, in order. */
enum crun_col {
	CRUN_ID,		/* campaign run id */
	CRUN_CAMPAIGN,		/* campaign name */
	CRUN_TRIGGER,		/* schedule or request */
	CRUN_VERDICT,		/* pass, flaky, ... or the status */
	CRUN_STARTED,		/* when */
	CRUN_ATTEMPTS,		/* runs made */
	CRUN_NCOLS		/* number of columns, not a column */
};

static const char *const crun_heads[CRUN_NCOLS] = {
	"ID", "CAMPAIGN", "TRIGGER", "VERDICT", "STARTED", "ATTEMPTS"
};

/* A cell of a count member: the number, or "-" when it is not there. */
static void
summary_num(struct table *t, size_t col, const json_t *j, const char *key)
{
	uint64_t	v;

	if (client_uint(j, key, &v) == 0)
		table_cell(t, col, "%llu", (unsigned long long)v);
	else
		table_cell(t, col, "-");
}

/* "outcomes 12 (15 runs): 9 pass, 1 fail, 2 flaky" */
static void
summary_totals(const json_t *s)
{
	const json_t	*tot = client_obj(s, "totals");
	const char	*since, *until;
	uint64_t	 v;
	size_t		 i;
	int		 any = 0;

	since = client_str(s, "since");
	until = client_str(s, "until");
	printf("since %s  until %s\n", since != NULL ? since : "?",
	    until != NULL ? until : "now");
	printf("outcomes %llu", client_uint(tot, "outcomes", &v) == 0 ?
	    (unsigned long long)v : 0ULL);
	if (client_uint(tot, "runs", &v) == 0)
		printf(" (%llu run%s)", (unsigned long long)v, v == 1 ? "" : "s");
	for (i = 0; summary_verdicts[i] != NULL; i++) {
		if (client_uint(tot, summary_verdicts[i], &v) != 0 || v == 0)
			continue;
		printf("%s%llu %s", any ? ", " : ": ", (unsigned long long)v,
		    summary_verdicts[i]);
		any = 1;
	}
	printf("\n");
}

static void
summary_plans(const json_t *plans)
{
	struct table	*t;
	const json_t	*p;
	const char	*s;
	char		 id[32];
	size_t		 i, v;

	if ((t = table_new(PLAN_NCOLS, plan_heads, ((1U << PLAN_LAST) - 1) &
	    ~(1U << PLAN_NAME))) == NULL)
		return;
	json_array_foreach(plans, i, p) {
		table_row(t);
		table_cell_str(t, PLAN_NAME, client_str(p, "plan"), "?");
		summary_num(t, PLAN_OUTCOMES, p, "outcomes");
		summary_num(t, PLAN_RUNS, p, "runs");
		for (v = 0; summary_verdicts[v] != NULL; v++)
			summary_num(t, PLAN_PASS + v, p, summary_verdicts[v]);
		if (client_id(p, "last_run", id, sizeof id) == 0) {
			s = client_str(p, "last_verdict");
			table_cell(t, PLAN_LAST, "%s %s", id, s != NULL ? s : "-");
		} else
			table_cell(t, PLAN_LAST, "-");
	}
	table_print(t);
	table_free(t);
}

static void
summary_kinds(const json_t *kinds)
{
	struct table	*t;
	const json_t	*k;
	size_t		 i, col;

	if ((t = table_new(KIND_NCOLS, kind_heads, ((1U << KIND_NCOLS) - 1) &
	    ~(1U << KIND_NAME))) == NULL)
		return;
	json_array_foreach(kinds, i, k) {
		table_row(t);
		table_cell_str(t, KIND_NAME, client_str(k, "kind"), "?");
		for (col = KIND_FINDINGS; col < KIND_NCOLS; col++)
			summary_num(t, col, k, kind_keys[col]);
	}
	table_print(t);
	table_free(t);
}

static void
summary_cruns(const json_t *cruns)
{
	struct table	*t;
	const json_t	*b;
	char		 id[32];
	size_t		 i;

	if ((t = table_new(CRUN_NCOLS, crun_heads, 1U << CRUN_ID |
	    1U << CRUN_ATTEMPTS)) == NULL)
		return;
	json_array_foreach(cruns, i, b) {
		table_row(t);
		table_cell_str(t, CRUN_ID, client_id_text(b, "id", id, sizeof id,
		    NULL), "?");
		table_cell_str(t, CRUN_CAMPAIGN, client_str(b, "campaign"), "?");
		table_cell_str(t, CRUN_TRIGGER, client_str(b, "trigger"), "-");
		table_cell_str(t, CRUN_VERDICT, client_str_either(b, "verdict",
		    "status"), "?");
		table_cell_str(t, CRUN_STARTED, client_str_either(b, "started",
		    "created"), "-");
		summary_num(t, CRUN_ATTEMPTS, client_obj(b, "counts"),
		    "attempts");
	}
	table_print(t);
	table_free(t);
}

static void
summary_print(struct client *c, const json_t *s)
{
	const json_t	*plans, *kinds, *cruns;

	(void)c;	/* the summary holds all it shows */
	summary_totals(s);
	plans = client_arr(s, "plans");
	if (json_array_size(plans) > 0) {
		printf("\n");
		summary_plans(plans);
	}
	kinds = client_arr(s, "finding_kinds");
	printf("\n");
	if (json_array_size(kinds) > 0)
		summary_kinds(kinds);
	else
		printf("findings: none\n");
	cruns = client_arr(s, "campaign_runs");
	if (json_array_size(cruns) > 0) {
		printf("\ncampaign runs:\n");
		summary_cruns(cruns);
	}
	fflush(stdout);
}

#define SUMMARY_USAGE	"summary [--since WHEN] [--until WHEN] [--json] " \
			CLIENT_USAGE "\n" \
			"WHEN is RFC 3339, unix seconds, or a time ago: 24h, 7d, " \
			"90m (the default since is 24h)"

/* --since and --until as given; the server reads them. */
struct summary_when {
	const char	*since;
	const char	*until;
};

static int
summary_option(void *arg, int ch, int *status)
{
	struct summary_when	*w = arg;

	(void)status;	/* any WHEN goes: the server says what it cannot read */
	if (ch == 's')
		w->since = optarg;
	else
		w->until = optarg;
	return 0;
}

static const struct option summary_longopts[] = {
	{ "since", required_argument, NULL, 's' },
	{ "until", required_argument, NULL, 'u' },
	{ NULL, 0, NULL, 0 }
};

static const struct object_view summary_view = {
	.print = summary_print,
	.refused = CMD_FAILED,		/* a WHEN it could not read */
};

static int
summary_exec(int argc, char **argv)
{
	struct summary_when	 w = { NULL, NULL };
	const struct client_own	 own = { "s:u:", summary_longopts,
				    summary_option, &w };
	struct client_opts	 o;
	struct client_flags	 f;
	struct client		 c;
	char			*path = NULL;
	int			 rc;

	if (client_getopt_flags(&o, &f, argc, argv, CLIENT_FLAGS_JSON, &own,
	    SUMMARY_USAGE, &rc) != 0)
		return rc;
	if (optind != argc)
		return client_usage(stderr, SUMMARY_USAGE);
	if (client_open(&c, &o) != CMD_OK)
		return CMD_ERROR;
	if ((path = strdup(CLIENT_API "/summary")) == NULL ||
	    (w.since != NULL && client_query_add(&path, "since", w.since) != 0) ||
	    (w.until != NULL && client_query_add(&path, "until", w.until) != 0)) {
		fprintf(stderr, "hotsoak: out of memory\n");
		rc = CMD_ERROR;
	} else
		rc = object_show(&c, path, &f, &summary_view);
	client_clear(&c);
	free(path);
	return rc;
}

const struct cmd_entry cmd_summary = {
	.name = "summary",
	.usage = "[--since WHEN] [--until WHEN] [--json]",
	.summary = "outcomes per plan and per finding kind since WHEN "
	    "(default 24h ago)",
	.exec = summary_exec,
};
