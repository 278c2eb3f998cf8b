/* cmd-abort.c: `hotsoak abort ID` asks hotsoakd to stop a run in flight;
 * the run is then recorded with verdict "aborted". */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd-client.h"

#define ABORT_USAGE	"abort " CLIENT_USAGE " ID"

static int
abort_exec(int argc, char **argv)
{
	struct client_opts	 o;
	struct client_flags	 f;
	struct client		 c;
	struct client_reply	 r;
	char			*path;
	int			 rc;

	if (client_getopt_flags(&o, &f, argc, argv, CLIENT_FLAGS_NONE, NULL,
	    ABORT_USAGE, &rc) != 0)
		return rc;
	if (argc - optind != 1)
		return client_usage(stderr, ABORT_USAGE);
	if (client_open_run(&c, &o, argv[optind], &path) != CMD_OK)
		return CMD_ERROR;
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
