/* cmd-runs.c: `hotsoak runs` lists runs, newest first, as a table; the
 * filters go to the server as query parameters. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd-client.h"

/* The table's columns, in order. */
enum runs_col {
	RUNS_ID,		/* run id */
	RUNS_PLAN,		/* plan name */
	RUNS_STATUS,		/* queued, running, finished */
	RUNS_VERDICT,		/* pass, fail, ... or - */
	RUNS_CREATED,		/* when submitted */
	RUNS_ELAPSED,		/* how long it ran */
	RUNS_FINDINGS,		/* how many findings */
	RUNS_NCOLS		/* number of columns, not a column */
};

static const char *const runs_heads[RUNS_NCOLS] = {
	"ID", "PLAN", "STATUS", "VERDICT", "CREATED", "ELAPSED", "FINDINGS"
};

#define RUNS_CELL	128

/* The cells of one row, each cleaned and cut to fit. */
static void
runs_row(const json_t *run, char cells[RUNS_NCOLS][RUNS_CELL])
{
	const json_t	*f;
	const char	*s;
	uint64_t	 v;

	if (client_id(run, "id", cells[RUNS_ID], RUNS_CELL) != 0)
		snprintf(cells[RUNS_ID], RUNS_CELL, "?");
	s = client_str(run, "plan");
	snprintf(cells[RUNS_PLAN], RUNS_CELL, "%s", s != NULL ? s : "?");
	s = client_str(run, "status");
	snprintf(cells[RUNS_STATUS], RUNS_CELL, "%s", s != NULL ? s : "?");
	s = client_str(run, "verdict");
	snprintf(cells[RUNS_VERDICT], RUNS_CELL, "%s", s != NULL ? s : "-");
	s = client_str(run, "created");
	snprintf(cells[RUNS_CREATED], RUNS_CELL, "%s", s != NULL ? s : "-");
	if (client_uint(run, "elapsed_ms", &v) == 0)
		client_fmt_ms(v, cells[RUNS_ELAPSED], RUNS_CELL);
	else
		snprintf(cells[RUNS_ELAPSED], RUNS_CELL, "-");
	/* A bare count here; a run object's {"total"} is taken too. */
	f = json_object_get(run, "findings");
	if (json_is_integer(f) && json_integer_value(f) >= 0)
		snprintf(cells[RUNS_FINDINGS], RUNS_CELL, "%lld",
		    (long long)json_integer_value(f));
	else if (client_uint(f, "total", &v) == 0)
		snprintf(cells[RUNS_FINDINGS], RUNS_CELL, "%llu",
		    (unsigned long long)v);
	else
		snprintf(cells[RUNS_FINDINGS], RUNS_CELL, "-");
}

static void
runs_print(const json_t *list)
{
	char		 cells[RUNS_NCOLS][RUNS_CELL];
	const json_t	*run;
	size_t		 i, col, w[RUNS_NCOLS], n;

	for (col = 0; col < RUNS_NCOLS; col++)
		w[col] = strlen(runs_heads[col]);
	json_array_foreach(list, i, run) {
		runs_row(run, cells);
		for (col = 0; col < RUNS_NCOLS; col++)
			if ((n = strlen(cells[col])) > w[col])
				w[col] = n;
	}
	for (col = 0; col < RUNS_NCOLS; col++)
		printf("%-*s%s", col + 1 < RUNS_NCOLS ? (int)w[col] : 0,
		    runs_heads[col], col + 1 < RUNS_NCOLS ? "  " : "\n");
	json_array_foreach(list, i, run) {
		runs_row(run, cells);
		for (col = 0; col < RUNS_NCOLS; col++) {
			/* Numbers line up on the right. */
			if (col == RUNS_ID || col == RUNS_ELAPSED ||
			    col == RUNS_FINDINGS)
				printf("%*s", (int)w[col], cells[col]);
			else
				printf("%-*s", col + 1 < RUNS_NCOLS ?
				    (int)w[col] : 0, cells[col]);
			printf("%s", col + 1 < RUNS_NCOLS ? "  " : "\n");
		}
	}
}

#define RUNS_USAGE	"runs [--status S] [--verdict V] [--plan P] " \
			"[--since TIME] [--limit N] [--before ID] [--json] " \
			CLIENT_USAGE

static int
runs_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "verdict", required_argument, NULL, 'V' },
		{ "plan", required_argument, NULL, 'p' },
		{ "since", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'n' },
		{ "before", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		CLIENT_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	/* Query parameter names, in the order of filters[]. */
	static const char *const names[] = { "status", "verdict", "plan",
	    "since", "limit", "before" };
	const char		*filters[6] = { NULL };
	struct client_opts	 o;
	struct client		 c;
	struct client_reply	 r;
	const json_t		*list;
	char			*path = NULL, next[32];
	size_t			 i;
	int			 ch, json = 0, rc;

	memset(&o, 0, sizeof o);
	optind = 0;
	while ((ch = client_getopt(&o, argc, argv, "s:V:p:S:n:b:jh",
	    longopts)) != -1) {
		switch (ch) {
		case 's':
			filters[0] = optarg;
			break;
		case 'V':
			filters[1] = optarg;
			break;
		case 'p':
			filters[2] = optarg;
			break;
		case 'S':
			filters[3] = optarg;
			break;
		case 'n':
			if (client_check_id(optarg) != 0 ||
			    strtoull(optarg, NULL, 10) == 0) {
				fprintf(stderr, "hotsoak: bad --limit `%s`: "
				    "give a number of runs\n", optarg);
				return CMD_ERROR;
			}
			filters[4] = optarg;
			break;
		case 'b':
			if (client_check_id(optarg) != 0) {
				fprintf(stderr, "hotsoak: bad --before `%s`: "
				    "give a run id\n", optarg);
				return CMD_ERROR;
			}
			filters[5] = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return client_usage(stdout, RUNS_USAGE);
		default:
			return client_usage(stderr, RUNS_USAGE);
		}
	}
	if (optind != argc)
		return client_usage(stderr, RUNS_USAGE);
	if (client_open(&c, &o) != CMD_OK)
		return CMD_ERROR;
	if ((path = strdup(CLIENT_API "/runs")) == NULL)
		goto oom;
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (filters[i] != NULL &&
		    client_query_add(&path, names[i], filters[i]) != 0)
			goto oom;

	if ((rc = client_get(&c, path, &r)) != CMD_OK)
		goto out;
	if (json) {
		client_print_json(r.json);
		goto out;
	}
	if ((list = client_arr(r.json, "runs")) == NULL) {
		fprintf(stderr, "hotsoak: GET %s: the reply holds no list of "
		    "runs\n", path);
		rc = CMD_ERROR;
		goto out;
	}
	if (json_array_size(list) == 0)
		printf("no runs\n");
	else
		runs_print(list);
	if (client_id(r.json, "next", next, sizeof next) == 0 &&
	    client_check_id(next) == 0)
		printf("older runs: add --before %s\n", next);
out:
	client_reply_clear(&r);
	client_clear(&c);
	free(path);
	return rc;
oom:
	fprintf(stderr, "hotsoak: out of memory\n");
	client_clear(&c);
	free(path);
	return CMD_ERROR;
}

const struct cmd_entry cmd_runs = {
	.name = "runs",
	.usage = "[--status S] [--verdict V] [--plan P] [--since T] [--limit N] [--json]",
	.summary = "list runs, newest first",
	.exec = runs_exec,
};
