/* cmd-findings.c: `hotsoak findings ID` lists what a run found, page after
 * page of the API, as a table (-v adds each finding's detail). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd-client.h"

#define FINDINGS_PAGE		500	/* the API's largest page */
#define FINDINGS_PAGES_MAX	10000	/* five million findings is plenty */

/*
 * Every finding of run id (of kind when not NULL) into all, following
 * "after" from page to page. A server that ignores "after" repeats its
 * first page; only ids past the last seen are kept, so that ends it.
 */
int
findings_fetch(struct client *c, const char *id, const char *kind,
    json_t *all)
{
	struct client_reply	 r;
	const json_t		*list, *f;
	const char		*k;
	char			*path = NULL, after[32];
	uint64_t		 last = 0, fid;
	size_t			 i, pages, fresh;
	int			 rc = CMD_OK, first = 1;

	memset(&r, 0, sizeof r);
	for (pages = 0; pages < FINDINGS_PAGES_MAX; pages++) {
		client_reply_clear(&r);
		free(path);
		path = NULL;
		snprintf(after, sizeof after, "%llu", (unsigned long long)last);
		if (asprintf(&path, CLIENT_API "/runs/%s/findings?limit=%d", id,
		    FINDINGS_PAGE) == -1 ||
		    (!first && client_query_add(&path, "after", after) != 0) ||
		    (kind != NULL && client_query_add(&path, "kind", kind) != 0)) {
			fprintf(stderr, "hotsoak: out of memory\n");
			rc = CMD_ERROR;
			break;
		}
		if ((rc = client_get(c, path, &r)) != CMD_OK)
			break;
		if ((list = client_arr(r.json, "findings")) == NULL) {
			fprintf(stderr, "hotsoak: GET %s: the reply holds no "
			    "list of findings\n", path);
			rc = CMD_ERROR;
			break;
		}
		fresh = 0;
		json_array_foreach(list, i, f) {
			if (client_uint(f, "id", &fid) == 0) {
				if (!first && fid <= last)
					continue;
				if (fid > last)
					last = fid;
			} else if (!first)
				continue;
			fresh++;
			/* In case the server does not filter by kind. */
			if (kind != NULL && ((k = client_str(f, "kind")) == NULL ||
			    strcmp(k, kind) != 0))
				continue;
			json_array_append(all, (json_t *)(uintptr_t)f);
		}
		first = 0;
		if (fresh == 0 || json_array_size(list) < FINDINGS_PAGE)
			break;
	}
	client_reply_clear(&r);
	free(path);
	return rc;
}

static void
findings_print(const json_t *all, int verbose)
{
	const json_t	*f, *detail;
	const char	*s;
	char		 fid[32], *d;
	size_t		 i, w[4] = { 2, 4, 4, 4 }, n;

	json_array_foreach(all, i, f) {
		if (client_id(f, "id", fid, sizeof fid) == 0 &&
		    (n = strlen(fid)) > w[0])
			w[0] = n;
		if ((s = client_str(f, "time")) != NULL && (n = strlen(s)) > w[1])
			w[1] = n;
		if ((s = client_str(f, "kind")) != NULL && (n = strlen(s)) > w[2])
			w[2] = n;
		if ((s = client_str(f, "step")) != NULL && (n = strlen(s)) > w[3])
			w[3] = n;
	}
	printf("%*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], "ID", (int)w[1], "TIME",
	    (int)w[2], "KIND", (int)w[3], "STEP", "TITLE");
	json_array_foreach(all, i, f) {
		if (client_id(f, "id", fid, sizeof fid) != 0)
			snprintf(fid, sizeof fid, "?");
		printf("%*s  ", (int)w[0], fid);
		s = client_str(f, "time");
		printf("%-*s  ", (int)w[1], s != NULL ? s : "-");
		s = client_str(f, "kind");
		printf("%-*s  ", (int)w[2], s != NULL ? s : "?");
		s = client_str(f, "step");
		printf("%-*s  ", (int)w[3], s != NULL ? s : "-");
		s = client_str(f, "title");
		printf("%s\n", s != NULL ? s : "");
		detail = json_object_get(f, "detail");
		if (verbose && detail != NULL && !json_is_null(detail) &&
		    (d = json_dumps(detail, JSON_COMPACT | JSON_ENCODE_ANY)) !=
		    NULL) {
			printf("%*s  %s\n", (int)w[0], "", d);
			free(d);
		}
	}
}

#define FINDINGS_USAGE	"findings [--kind K] [-v] [--json] " CLIENT_USAGE " ID"

static int
findings_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		CLIENT_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct client_opts	 o;
	struct client		 c;
	const char		*kind = NULL, *id;
	json_t			*all = NULL, *out;
	int			 ch, json = 0, verbose = 0, rc;

	memset(&o, 0, sizeof o);
	optind = 0;
	while ((ch = client_getopt(&o, argc, argv, "k:vjh", longopts)) != -1) {
		switch (ch) {
		case 'k':
			kind = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return client_usage(stdout, FINDINGS_USAGE);
		default:
			return client_usage(stderr, FINDINGS_USAGE);
		}
	}
	if (argc - optind != 1)
		return client_usage(stderr, FINDINGS_USAGE);
	id = argv[optind];
	if (client_open_run(&c, &o, id, NULL) != CMD_OK)
		return CMD_ERROR;
	if ((all = json_array()) == NULL) {
		client_clear(&c);
		return CMD_ERROR;
	}
	if ((rc = findings_fetch(&c, id, kind, all)) != CMD_OK) {
		if (rc == CMD_FAILED)
			rc = CMD_ERROR;	/* nothing of ours was refused */
		goto out;
	}
	if (json) {
		out = json_pack("{s:I, s:O}", "run",
		    (json_int_t)strtoll(id, NULL, 10), "findings", all);
		if (out != NULL)
			client_print_json(out);
		json_decref(out);
	} else if (json_array_size(all) == 0)
		printf("no findings\n");
	else
		findings_print(all, verbose);
out:
	json_decref(all);
	client_clear(&c);
	return rc;
}

const struct cmd_entry cmd_findings = {
	.name = "findings",
	.usage = "[--kind K] [-v] [--json] ID",
	.summary = "list a run's findings (-v: with their detail)",
	.exec = findings_exec,
};
