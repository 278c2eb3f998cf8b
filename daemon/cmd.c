/* cmd.c: the table of `hotsoak` commands and the lookup main uses. */
#include "config.h"

#include <string.h>

#include "cmd.h"

const struct cmd_entry *const cmd_table[] = {
	&cmd_validate,
	&cmd_run,
	&cmd_runs,
	&cmd_show,
	&cmd_findings,
	&cmd_abort,
	&cmd_campaigns,
	&cmd_campaign,
	&cmd_rerun,
	&cmd_report,
	&cmd_summary,
	NULL
};

const struct cmd_entry *
cmd_find(const char *name)
{
	size_t	i;

	for (i = 0; cmd_table[i] != NULL; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
	return NULL;
}
