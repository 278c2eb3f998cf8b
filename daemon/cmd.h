/* cmd.h: the `hotsoak` CLI's commands as a table, one file each
 * (cmd-<name>.c); adding a command is a new file and one table line. */
#ifndef HOTSOAK_CMD_H
#define HOTSOAK_CMD_H

/* What the process exits with; commands return one of these. */
enum cmd_status {
	CMD_OK = 0,		/* success, or the run passed */
	CMD_FAILED = 1,		/* invalid input, or the run failed */
	CMD_ERROR = 2,		/* usage or harness error */
	CMD_FLAKY = 3		/* a campaign passed only on a retry */
};

struct cmd_entry {
	const char	*name;
	const char	*usage;		/* arguments, for help */
	const char	*summary;	/* one line */
	/* argv[0] is the command name; returns an enum cmd_status. */
	int		(*exec)(int argc, char **argv);
};

extern const struct cmd_entry *const cmd_table[];

const struct cmd_entry *cmd_find(const char *name);

extern const struct cmd_entry cmd_validate;
extern const struct cmd_entry cmd_run;
extern const struct cmd_entry cmd_runs;
extern const struct cmd_entry cmd_show;
extern const struct cmd_entry cmd_findings;
extern const struct cmd_entry cmd_abort;
extern const struct cmd_entry cmd_campaigns;
extern const struct cmd_entry cmd_campaign;
extern const struct cmd_entry cmd_rerun;
extern const struct cmd_entry cmd_report;
extern const struct cmd_entry cmd_summary;

#endif
