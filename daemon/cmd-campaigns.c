/* cmd-campaigns.c: `hotsoak campaigns` lists the daemon's campaigns with
 * their schedule, next and last run; an invalid one shows its first error. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd-client.h"
#include "cmd-table.h"

/* The table's columns, in order. */
enum campaigns_col {
	CAMPAIGNS_NAME,		/* campaign name */
	CAMPAIGNS_SCHEDULE,	/* cron line, or - when started on request */
	CAMPAIGNS_NEXT,		/* next scheduled start, local time */
	CAMPAIGNS_LAST,		/* last campaign run: id and verdict */
	CAMPAIGNS_RUNNING,	/* campaign run in flight, or - */
	CAMPAIGNS_NCOLS		/* number of columns, not a column */
};

static const char *const campaigns_heads[CAMPAIGNS_NCOLS] = {
	"NAME", "SCHEDULE", "NEXT RUN", "LAST RUN", "RUNNING"
};

#define CAMPAIGNS_CELL	128

static void
campaigns_row(struct table *t, const json_t *cj)
{
	const json_t	*last, *errors, *e;
	const char	*s;
	char		 buf[CAMPAIGNS_CELL], id[32];
	uint64_t	 ns;

	table_row(t);
	table_cell_str(t, CAMPAIGNS_NAME, client_str(cj, "name"), "?");
	table_cell_str(t, CAMPAIGNS_SCHEDULE, client_str(cj, "schedule"), "-");
	/* The daemon's clock decides; shown in ours. */
	if (client_uint(cj, "next_run_ns", &ns) == 0)
		client_fmt_local(ns, 0, buf, sizeof buf);
	else if ((s = client_str(cj, "next_run")) != NULL)
		snprintf(buf, sizeof buf, "%s", s);
	else
		snprintf(buf, sizeof buf, "-");
	table_cell(t, CAMPAIGNS_NEXT, "%s", buf);
	last = client_obj(cj, "last_run");
	if (client_id(last, "id", id, sizeof id) == 0) {
		if ((s = client_str_either(last, "verdict", "status")) == NULL)
			s = "?";
		table_cell(t, CAMPAIGNS_LAST, "%s %s", id, s);
	} else
		table_cell(t, CAMPAIGNS_LAST, "-");
	table_cell_str(t, CAMPAIGNS_RUNNING, client_id_text(cj, "running", id,
	    sizeof id, NULL), "-");

	errors = client_arr(cj, "errors");
	if (!json_is_false(json_object_get(cj, "valid")) &&
	    json_array_size(errors) == 0)
		return;
	e = json_array_get(errors, 0);
	if (json_is_string(e))
		s = json_string_value(e);
	else if ((s = client_str(e, "message")) == NULL)
		s = client_str(e, "detail");
	table_note(t, "invalid: %s", s != NULL ? s : "(no reason given)");
}

#define CAMPAIGNS_USAGE	"campaigns [--json] " CLIENT_USAGE

static int
campaigns_exec(int argc, char **argv)
{
	struct client_opts	 o;
	struct client_flags	 f;
	struct client		 c;
	struct client_reply	 r;
	struct table		*t = NULL;
	const json_t		*list, *cj;
	size_t			 i;
	int			 rc;

	if (client_getopt_flags(&o, &f, argc, argv, CLIENT_FLAGS_JSON,
	    NULL, CAMPAIGNS_USAGE, &rc) != 0)
		return rc;
	if (optind != argc)
		return client_usage(stderr, CAMPAIGNS_USAGE);
	if (client_open(&c, &o) != CMD_OK)
		return CMD_ERROR;
	if ((rc = client_get(&c, CLIENT_API "/campaigns", &r)) != CMD_OK) {
		rc = CMD_ERROR;	/* nothing of ours was refused */
		goto out;
	}
	if (f.json) {
		client_print_json(r.json);
		goto out;
	}
	if ((list = client_arr(r.json, "campaigns")) == NULL) {
		fprintf(stderr, "hotsoak: GET " CLIENT_API "/campaigns: the "
		    "reply holds no list of campaigns\n");
		rc = CMD_ERROR;
		goto out;
	}
	if (json_array_size(list) == 0) {
		printf("no campaigns\n");
		goto out;
	}
	if ((t = table_new(CAMPAIGNS_NCOLS, campaigns_heads, 0)) == NULL) {
		fprintf(stderr, "hotsoak: out of memory\n");
		rc = CMD_ERROR;
		goto out;
	}
	json_array_foreach(list, i, cj)
		campaigns_row(t, cj);
	if (table_print(t) != 0)
		rc = CMD_ERROR;
out:
	table_free(t);
	client_reply_clear(&r);
	client_clear(&c);
	return rc;
}

const struct cmd_entry cmd_campaigns = {
	.name = "campaigns",
	.usage = "[--json]",
	.summary = "list campaigns: schedule, next run, last run, running",
	.exec = campaigns_exec,
};
