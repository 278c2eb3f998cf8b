/* cmd-validate.c: `hotsoak validate [--print] PLAN...` checks plans and
 * campaigns as the daemon will read them, every error located. */
#include "config.h"

#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/plan.h"
#include "cmd.h"

/* A campaign's plans are named relative to the campaign's own folder. */
static int
validate_one(const char *path, int print)
{
	struct plan_diags	 diags;
	struct plan_load_opts	 opts;
	struct plan_file	*pf;
	char			*copy, *json;
	int			 rc = CMD_OK;

	if ((copy = strdup(path)) == NULL) {
		fprintf(stderr, "%s: error: out of memory\n", path);
		return CMD_FAILED;
	}
	memset(&opts, 0, sizeof opts);
	opts.base_dir = strcmp(path, "-") == 0 ? "." : dirname(copy);
	plan_diags_init(&diags);
	pf = plan_file_load_path(path, &opts, &diags);
	plan_diags_print(&diags, stderr);
	if (pf == NULL)
		rc = CMD_FAILED;
	else if (print) {
		if ((json = plan_file_to_json(pf)) == NULL) {
			fprintf(stderr, "%s: error: out of memory\n", path);
			rc = CMD_FAILED;
		} else {
			printf("%s\n", json);
			free(json);
		}
	}
	plan_file_free(pf);
	plan_diags_free(&diags);
	free(copy);
	return rc;
}

static int
validate_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "print", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch, print = 0, i, rc = CMD_OK;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "ph", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			print = 1;
			break;
		case 'h':
			printf("usage: hotsoak validate [--print] PLAN...\n");
			return CMD_OK;
		default:
			fprintf(stderr, "usage: hotsoak validate [--print] PLAN...\n");
			return CMD_ERROR;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "usage: hotsoak validate [--print] PLAN...\n");
		return CMD_ERROR;
	}
	for (i = optind; i < argc; i++)
		if (validate_one(argv[i], print) != CMD_OK)
			rc = CMD_FAILED;
	return rc;
}

const struct cmd_entry cmd_validate = {
	.name = "validate",
	.usage = "[--print] PLAN...",
	.summary = "check plans and campaigns; --print shows them normalized as JSON",
	.exec = validate_exec,
};
