/* hotsoak.c: main of the `hotsoak` CLI: finds the command in the table and
 * hands it the rest of the command line. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"

static void
usage(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: hotsoak COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; cmd_table[i] != NULL; i++)
		fprintf(f, "  %-10s %-22s %s\n", cmd_table[i]->name,
		    cmd_table[i]->usage, cmd_table[i]->summary);
}

int
main(int argc, char **argv)
{
	const struct cmd_entry	*cmd;

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
