/* cmd-abort.c: `hotsoak abort ID` asks hotsoakd to stop a run in flight;
 * the run is then recorded with verdict "aborted". */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd-client.h"

static int
abort_usage(FILE *f)
{
	fprintf(f, "usage: hotsoak abort " CLIENT_USAGE " ID\n");
	return f == stdout ? CMD_OK : CMD_ERROR;
}

static int
abort_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		CLIENT_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct client_opts	 o;
	struct client		 c;
	struct client_reply	 r;
	char			*path = NULL, *cause = NULL;
	int			 ch, rc;

	memset(&o, 0, sizeof o);
	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (client_option(&o, ch, optarg))
			continue;
		if (ch == 'h')
			return abort_usage(stdout);
		return abort_usage(stderr);
	}
	if (argc - optind != 1)
		return abort_usage(stderr);
	if (client_check_id(argv[optind]) != 0) {
		fprintf(stderr, "hotsoak: bad run id `%s`: runs are numbered\n",
		    argv[optind]);
		return CMD_ERROR;
	}
	if (client_init(&c, &o, &cause) != 0) {
		fprintf(stderr, "hotsoak: %s\n", cause != NULL ? cause :
		    "out of memory");
		free(cause);
		return CMD_ERROR;
	}
	if (asprintf(&path, CLIENT_API "/runs/%s", argv[optind]) == -1) {
		client_clear(&c);
		return CMD_ERROR;
	}
	/* 409 (not in flight) is CMD_FAILED, 404 CMD_ERROR: as the API says. */
	rc = client_call(&c, HTTP_DELETE, path, NULL, NULL, 0, &r);
	if (rc == CMD_OK)
		printf("run %s: aborting\n", argv[optind]);
	client_reply_clear(&r);
	client_clear(&c);
	free(path);
	return rc;
}

const struct cmd_entry cmd_abort = {
	.name = "abort",
	.usage = "ID",
	.summary = "stop a run in flight (recorded as aborted)",
	.exec = abort_exec,
};
