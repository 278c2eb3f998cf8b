/* hotsoak.c: main of the `hotsoak` CLI: takes the options that hold for
 * every command, finds the command in the table and hands it the rest. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd-client.h"

static void
usage(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: hotsoak " CLIENT_USAGE " COMMAND [ARGS]\n\n"
	    "commands:\n");
	for (i = 0; cmd_table[i] != NULL; i++)
		fprintf(f, "  %s %s\n      %s\n", cmd_table[i]->name,
		    cmd_table[i]->usage, cmd_table[i]->summary);
	fprintf(f, "\noptions, before or after the command:\n"
	    "  --server URL       hotsoakd's API (default $HOTSOAK_SERVER, "
	    "else " CLIENT_SERVER_DEFAULT ")\n"
	    "  --token-file FILE  the API token, sent as a bearer token (default "
	    "$HOTSOAK_TOKEN_FILE,\n"
	    "                     else the token in $HOTSOAK_TOKEN)\n"
	    "  --timeout DUR      per request to the server (default "
	    "$HOTSOAK_TIMEOUT, else 30s)\n"
	    "\nexit status: 0 done, or the run passed; 1 the run failed, or "
	    "the input was refused;\n"
	    "2 usage, the server could not be reached or did not know the "
	    "run, or the run ended\n"
	    "in error, aborted or interrupted; 3 a campaign run was flaky "
	    "(passed only on a retry)\n");
}

int
main(int argc, char **argv)
{
	const struct cmd_entry	*cmd;
	char			*cause = NULL;
	int			 n;

	if ((n = client_global_options(argc - 1, argv + 1, &cause)) == -1) {
		fprintf(stderr, "hotsoak: %s\n", cause != NULL ? cause :
		    "out of memory");
		free(cause);
		usage(stderr);
		return CMD_ERROR;
	}
	argc -= n;
	argv += n;
	if (argc < 2) {
		usage(stderr);
		return CMD_ERROR;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CMD_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("hotsoak %s\n", PACKAGE_VERSION);
		return CMD_OK;
	}
	if ((cmd = cmd_find(argv[1])) == NULL) {
		fprintf(stderr, "hotsoak: unknown command `%s`\n", argv[1]);
		usage(stderr);
		return CMD_ERROR;
	}
	return cmd->exec(argc - 1, argv + 1);
}
