/* cmd-report.c: `hotsoak report ID` saves a run's or a campaign run's JUnit
 * XML and JSON for a CI system, or prints a summary; exits by the verdict. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd-client.h"

/*
 * len bytes of data into path, "-" being stdout. A file is written beside
 * itself and renamed into place, so a reader never sees half of one and a
 * failure leaves what was there. 0, else -1 having said why.
 */
static int
report_write(const char *path, const char *data, size_t len)
{
	char	*tmp = NULL;
	size_t	 off = 0;
	ssize_t	 n;
	int	 fd;

	if (strcmp(path, "-") == 0) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
			fprintf(stderr, "hotsoak: cannot write to stdout: %s\n",
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	if (asprintf(&tmp, "%s.tmp", path) == -1) {
		fprintf(stderr, "hotsoak: out of memory\n");
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		fprintf(stderr, "hotsoak: cannot create %s: %s\n", tmp,
		    strerror(errno));
		free(tmp);
		return -1;
	}
	while (off < len) {
		if ((n = write(fd, data + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		fprintf(stderr, "hotsoak: cannot rename %s to %s: %s\n", tmp,
		    path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
fail:
	fprintf(stderr, "hotsoak: cannot write %s: %s\n", tmp, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

/* The exit status of a run or campaign run: its verdict once finished. */
static int
report_status(const json_t *j)
{
	const char	*status;

	status = client_str(j, "status");
	if (status != NULL && (strcmp(status, "running") == 0 ||
	    strcmp(status, "queued") == 0))
		return CMD_OK;
	return client_verdict_status(client_str(j, "verdict"));
}

/* path's JUnit XML into file; an enum cmd_status, having said why. */
static int
report_junit(struct client *c, const char *path, const char *file)
{
	char	*xml_path = NULL, *xml = NULL;
	size_t	 len;
	int	 rc;

	if (asprintf(&xml_path, "%s/junit.xml", path) == -1) {
		fprintf(stderr, "hotsoak: out of memory\n");
		return CMD_ERROR;
	}
	/* Fetched whole before the file is touched. */
	if ((rc = client_get_raw(c, xml_path, &xml, &len)) != CMD_OK)
		rc = CMD_ERROR;
	else if (report_write(file, xml, len) != 0)
		rc = CMD_ERROR;
	free(xml);
	free(xml_path);
	return rc;
}

/*
 * The object as JSON into file; a run gains its findings as
 * "findings_list". An enum cmd_status, having said why.
 */
static int
report_json(struct client *c, json_t *j, int campaign, const char *id,
    const char *file)
{
	json_t	*all;
	char	*text, *p;
	size_t	 len;
	int	 rc;

	if (!campaign) {
		if ((all = json_array()) == NULL) {
			fprintf(stderr, "hotsoak: out of memory\n");
			return CMD_ERROR;
		}
		if ((rc = findings_fetch(c, id, NULL, all)) != CMD_OK) {
			json_decref(all);
			return CMD_ERROR;
		}
		if (json_object_set_new(j, "findings_list", all) != 0) {
			fprintf(stderr, "hotsoak: out of memory\n");
			return CMD_ERROR;
		}
	}
	if ((text = json_dumps(j, JSON_INDENT(2))) == NULL ||
	    (len = strlen(text)) == 0 || (p = realloc(text, len + 2)) == NULL) {
		free(text);
		fprintf(stderr, "hotsoak: out of memory\n");
		return CMD_ERROR;
	}
	/* A text file ends in a newline. */
	text = p;
	text[len++] = '\n';
	text[len] = '\0';
	rc = report_write(file, text, len) == 0 ? CMD_OK : CMD_ERROR;
	free(text);
	return rc;
}

#define REPORT_USAGE	"report [--campaign] [--junit FILE] [--json FILE] " \
			CLIENT_USAGE " ID\n" \
			"ID is a run, with --campaign a campaign run; FILE " \
			"\"-\" is stdout; with neither file, a summary"

static int
report_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "campaign", no_argument, NULL, 'c' },
		{ "junit", required_argument, NULL, 'x' },
		{ "json", required_argument, NULL, 'j' },
		CLIENT_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct client_opts	 o;
	struct client		 c;
	struct client_reply	 r;
	const char		*junit = NULL, *json = NULL, *id;
	char			*path = NULL;
	int			 ch, campaign = 0, rc, status;

	memset(&o, 0, sizeof o);
	optind = 0;
	while ((ch = client_getopt(&o, argc, argv, "cx:j:h", longopts)) != -1) {
		switch (ch) {
		case 'c':
			campaign = 1;
			break;
		case 'x':
			junit = optarg;
			break;
		case 'j':
			json = optarg;
			break;
		case 'h':
			return client_usage(stdout, REPORT_USAGE);
		default:
			return client_usage(stderr, REPORT_USAGE);
		}
	}
	if (argc - optind != 1)
		return client_usage(stderr, REPORT_USAGE);
	if (junit != NULL && json != NULL && strcmp(junit, json) == 0) {
		fprintf(stderr, "hotsoak: --junit and --json both name %s\n",
		    junit);
		return CMD_ERROR;
	}
	id = argv[optind];
	if (client_check_id(id) != 0) {
		fprintf(stderr, "hotsoak: bad %s id `%s`: they are numbered\n",
		    campaign ? "campaign run" : "run", id);
		return CMD_ERROR;
	}
	if (client_open(&c, &o) != CMD_OK)
		return CMD_ERROR;
	memset(&r, 0, sizeof r);
	if (asprintf(&path, CLIENT_API "/%s/%s", campaign ? "campaign-runs" :
	    "runs", id) == -1) {
		path = NULL;
		rc = CMD_ERROR;
		goto out;
	}
	/* The object first: its verdict is the exit status in every case. */
	if ((rc = client_get(&c, path, &r)) != CMD_OK) {
		rc = CMD_ERROR;	/* nothing of ours was refused */
		goto out;
	}
	status = report_status(r.json);
	if (junit == NULL && json == NULL) {
		if (campaign)
			campaign_print_run(&c, r.json);
		else
			show_print_run(&c, r.json);
		rc = status;
		goto out;
	}
	if (junit != NULL &&
	    (rc = report_junit(&c, path, junit)) != CMD_OK)
		goto out;
	if (json != NULL &&
	    (rc = report_json(&c, r.json, campaign, id, json)) != CMD_OK)
		goto out;
	rc = status;
out:
	client_reply_clear(&r);
	client_clear(&c);
	free(path);
	return rc;
}

const struct cmd_entry cmd_report = {
	.name = "report",
	.usage = "ID [--campaign] [--junit FILE] [--json FILE]",
	.summary = "a run's (--campaign: campaign run's) JUnit XML or JSON to "
	    "a file, or a summary",
	.exec = report_exec,
};
