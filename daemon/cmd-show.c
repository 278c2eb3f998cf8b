/* cmd-show.c: `hotsoak show ID` prints a run's summary (verdict, I/O,
 * latency, faults, findings) and exits with what its verdict stands for. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd-client.h"
#include "cmd-wait.h"

#define SHOW_FINDINGS	10	/* findings listed under the summary */

/* "run 12: local-smoke  seed 1  backend local" */
static void
show_title(const json_t *run)
{
	const char	*plan, *backend;
	char		 id[32], seed[32];

	if (client_id(run, "id", id, sizeof id) != 0)
		snprintf(id, sizeof id, "?");
	plan = client_str(run, "plan");
	printf("run %s: %s", id, plan != NULL ? plan : "(unnamed plan)");
	if (client_seed(run, seed, sizeof seed) == 0)
		printf("  seed %s", seed);
	if ((backend = client_str(run, "backend")) != NULL)
		printf("  backend %s", backend);
	printf("\n");
}

/* "verdict: PASS  reason", or the status of a run not finished. */
static void
show_outcome(const json_t *run)
{
	const char	*status, *verdict, *reason;
	char		 buf[64];

	status = client_str(run, "status");
	verdict = client_str(run, "verdict");
	reason = client_str(run, "reason");
	if (verdict != NULL)
		printf("verdict: %s", client_upper(verdict, buf, sizeof buf));
	else
		printf("status: %s", status != NULL ? status : "unknown");
	if (reason != NULL && *reason != '\0')
		printf("  %s", reason);
	printf("\n");
}

/* Top-level steps that have ended, from the "steps" array. */
static int
show_steps_done(const json_t *run, uint64_t *done)
{
	const json_t	*steps, *s;
	const char	*path, *outcome;
	size_t		 i;

	if ((steps = client_arr(run, "steps")) == NULL)
		return -1;
	*done = 0;
	json_array_foreach(steps, i, s) {
		path = client_str(s, "path");
		outcome = client_str(s, "outcome");
		/* "3.1/2.0" is inside step 3; only "3" counts. */
		if (path == NULL || strpbrk(path, "./") != NULL)
			continue;
		if (outcome != NULL && strcmp(outcome, "running") != 0)
			(*done)++;
	}
	return 0;
}

/* "started ...  elapsed 14.2s  steps 6/6" */
static void
show_times(const json_t *run)
{
	const char	*started, *created;
	uint64_t	 ms, done = 0, total, passes;
	char		 buf[CLIENT_FMT_MAX];
	int		 any = 0, have_done;

	if ((started = client_str(run, "started")) != NULL) {
		printf("started %s", started);
		any = 1;
	} else if ((created = client_str(run, "created")) != NULL) {
		printf("created %s", created);
		any = 1;
	}
	if (client_uint(run, "elapsed_ms", &ms) == 0) {
		client_fmt_ms(ms, buf, sizeof buf);
		printf("%selapsed %s", any ? "  " : "", buf);
		any = 1;
	}
	have_done = show_steps_done(run, &done) == 0;
	if (client_uint(run, "passes", &passes) == 0 && passes > 1 &&
	    client_uint(client_obj(run, "step"), "total", &total) == 0) {
		/* A soak loops over its steps: say how often, not 100/5. */
		printf("%ssteps %llu in %llu passes of %llu", any ? "  " : "",
		    (unsigned long long)done, (unsigned long long)passes,
		    (unsigned long long)total);
		any = 1;
	} else if (client_uint(client_obj(run, "step"), "total", &total) == 0) {
		printf("%ssteps %llu/%llu", any ? "  " : "",
		    (unsigned long long)done, (unsigned long long)total);
		any = 1;
	} else if (have_done) {
		printf("%ssteps %llu", any ? "  " : "", (unsigned long long)done);
		any = 1;
	}
	if (any)
		printf("\n");
}

/* Prints ", N what" for a counter that is there; returns whether it was. */
static int
show_count(const json_t *counters, const char *key, const char *what,
    const char *sep)
{
	uint64_t	v;
	char		buf[CLIENT_FMT_MAX];

	if (client_uint(counters, key, &v) != 0)
		return 0;
	client_fmt_count(v, buf, sizeof buf);
	printf("%s%s %s", sep, buf, what);
	return 1;
}

/* "I/O: 1.23M ios (610k reads, 620k writes), 4.7 GiB, 1.20M blocks verified" */
static void
show_io(const json_t *run)
{
	const json_t	*c;
	uint64_t	 r, w, bytes = 0, v;
	char		 buf[CLIENT_FMT_MAX];
	int		 any = 0, have_bytes = 0, n;

	if ((c = client_obj(run, "counters")) == NULL)
		return;
	printf("I/O:");
	if (show_count(c, "ios", "ios", " "))
		any = 1;
	n = client_uint(c, "reads", &r) == 0;
	n |= (client_uint(c, "writes", &w) == 0) << 1;
	if (n != 0) {
		printf(any ? " (" : " ");
		if (n & 1) {
			client_fmt_count(r, buf, sizeof buf);
			printf("%s reads%s", buf, n == 3 ? ", " : "");
		}
		if (n & 2) {
			client_fmt_count(w, buf, sizeof buf);
			printf("%s writes", buf);
		}
		printf(any ? ")" : "");
		any = 1;
	}
	if (client_uint(c, "bytes_read", &v) == 0) {
		bytes += v;
		have_bytes = 1;
	}
	if (client_uint(c, "bytes_written", &v) == 0) {
		bytes += v;
		have_bytes = 1;
	}
	if (have_bytes) {
		client_fmt_bytes(bytes, buf, sizeof buf);
		printf("%s%s", any ? ", " : " ", buf);
		any = 1;
	}
	any |= show_count(c, "blocks_verified", "blocks verified",
	    any ? ", " : " ");
	/* The failures are worth a place only when they happened. */
	if (client_uint(c, "errors", &v) == 0 && v != 0)
		any |= show_count(c, "errors", "errors", any ? ", " : " ");
	if (client_uint(c, "timeouts", &v) == 0 && v != 0)
		any |= show_count(c, "timeouts", "timeouts", any ? ", " : " ");
	if (client_uint(c, "corruptions", &v) == 0 && v != 0)
		any |= show_count(c, "corruptions", "corruptions",
		    any ? ", " : " ");
	printf("%s\n", any ? "" : " none");
}

/* "latency: p50 120us  p90 400us  p99 1.4ms  p99.9 3.0ms  max 5.0ms" */
static void
show_latency(const json_t *run)
{
	static const struct {
		const char	*key;
		const char	*label;
	} pcts[] = {
		{ "p50_ns", "p50" }, { "p90_ns", "p90" }, { "p99_ns", "p99" },
		{ "p999_ns", "p99.9" }, { "max_ns", "max" },
	};
	const json_t	*l;
	uint64_t	 v;
	char		 buf[CLIENT_FMT_MAX];
	size_t		 i;
	int		 any = 0;

	if ((l = client_obj(run, "latency")) == NULL)
		return;
	for (i = 0; i < sizeof pcts / sizeof pcts[0]; i++) {
		if (client_uint(l, pcts[i].key, &v) != 0)
			continue;
		client_fmt_ns(v, buf, sizeof buf);
		printf("%s %s %s", any ? " " : "latency:", pcts[i].label, buf);
		any = 1;
	}
	if (any)
		printf("\n");
}

/* "faults: hot_add_cpu 1  hot_replace 1" */
static void
show_faults(const json_t *run)
{
	const json_t	*f, *v;
	const char	*key;
	char		 name[64];
	int		 any = 0;

	if ((f = client_obj(run, "fault_ops")) == NULL)
		return;
	printf("faults:");
	json_object_foreach((json_t *)(uintptr_t)f, key, v) {
		if (!json_is_integer(v))
			continue;
		printf("%s %s %lld", any ? " " : "", client_clean(key, name,
		    sizeof name), (long long)json_integer_value(v));
		any = 1;
	}
	printf("%s\n", any ? "" : " none");
}

/* Up to SHOW_FINDINGS findings, fetched, one line each. */
static void
show_finding_list(struct client *c, const char *id, uint64_t total)
{
	struct client_reply	 r;
	const json_t		*list, *f;
	const char		*kind, *step, *title;
	char			*path = NULL, fid[32];
	size_t			 i, shown = 0;
	int			 kw = 4, fw = 2, sw = 1, n;

	if (asprintf(&path, CLIENT_API "/runs/%s/findings?limit=%d", id,
	    SHOW_FINDINGS) == -1)
		return;
	if (client_get(c, path, &r) != CMD_OK ||
	    (list = client_arr(r.json, "findings")) == NULL)
		goto out;
	json_array_foreach(list, i, f) {
		if (i == SHOW_FINDINGS)
			break;
		if ((kind = client_str(f, "kind")) != NULL &&
		    (n = (int)strlen(kind)) > kw)
			kw = n;
		if (client_id(f, "id", fid, sizeof fid) == 0 &&
		    (n = (int)strlen(fid) + 1) > fw)
			fw = n;
		if ((step = client_str(f, "step")) != NULL &&
		    (n = (int)strlen(step)) > sw)
			sw = n;
	}
	json_array_foreach(list, i, f) {
		if (i == SHOW_FINDINGS)
			break;
		if (client_id(f, "id", fid + 1, sizeof fid - 1) != 0)
			snprintf(fid + 1, sizeof fid - 1, "?");
		fid[0] = '#';
		kind = client_str(f, "kind");
		step = client_str(f, "step");
		title = client_str(f, "title");
		printf("  %-*s %-*s %-*s  %s\n", fw, fid, kw, kind != NULL ?
		    kind : "?", sw, step != NULL ? step : "-", title != NULL ?
		    title : "");
		shown++;
	}
	if (total > shown)
		printf("  ... %llu more: hotsoak findings %s\n",
		    (unsigned long long)(total - shown), id);
out:
	client_reply_clear(&r);
	free(path);
}

/* "findings: 4 (io_timeout 3, corruption 1)" and the first few. */
static void
show_findings(struct client *c, const json_t *run)
{
	const json_t	*f, *by, *v;
	const char	*key;
	uint64_t	 total;
	char		 id[32], name[64];
	int		 any = 0;

	f = json_object_get(run, "findings");
	/* A listing's row carries the total as a bare number. */
	if (json_is_integer(f) && json_integer_value(f) >= 0) {
		total = (uint64_t)json_integer_value(f);
		by = NULL;
	} else if (client_uint(f, "total", &total) == 0)
		by = client_obj(f, "by_kind");
	else
		return;
	if (total == 0) {
		printf("findings: none\n");
		return;
	}
	printf("findings: %llu", (unsigned long long)total);
	if (by != NULL) {
		json_object_foreach((json_t *)(uintptr_t)by, key, v) {
			if (!json_is_integer(v) || json_integer_value(v) <= 0)
				continue;
			printf("%s%s %lld", any ? ", " : " (", client_clean(key,
			    name, sizeof name), (long long)json_integer_value(v));
			any = 1;
		}
		if (any)
			printf(")");
	}
	printf("\n");
	fflush(stdout);
	if (client_id(run, "id", id, sizeof id) == 0 && client_check_id(id) == 0)
		show_finding_list(c, id, total);
}

void
show_print_run(struct client *c, const json_t *run)
{
	show_title(run);
	show_outcome(run);
	show_times(run);
	show_io(run);
	show_latency(run);
	show_faults(run);
	show_findings(c, run);
	fflush(stdout);
}

int
show_run_status(const json_t *run)
{
	const char	*status, *verdict;

	status = client_str(run, "status");
	verdict = client_str(run, "verdict");
	if (status != NULL && (strcmp(status, "running") == 0 ||
	    strcmp(status, "queued") == 0))
		return CMD_OK;
	/* Flaky is a campaign's word: a run that says so is in error. */
	if (verdict != NULL && strcmp(verdict, "flaky") == 0)
		return CMD_ERROR;
	return client_verdict_status(verdict);
}

#define SHOW_USAGE	"show [--json] " CLIENT_USAGE " ID"

static const struct object_view show_view = {
	.print = show_print_run,
	.status = show_run_status,
	.refused = CMD_ERROR,		/* nothing of ours was refused */
};

static int
show_exec(int argc, char **argv)
{
	struct client_opts	 o;
	struct client_flags	 f;
	struct client		 c;
	char			*path;
	int			 rc;

	if (client_getopt_flags(&o, &f, argc, argv, CLIENT_FLAGS_JSON, NULL,
	    SHOW_USAGE, &rc) != 0)
		return rc;
	if (argc - optind != 1)
		return client_usage(stderr, SHOW_USAGE);
	if (client_open_run(&c, &o, argv[optind], &path) != CMD_OK)
		return CMD_ERROR;
	rc = object_show(&c, path, &f, &show_view);
	client_clear(&c);
	free(path);
	return rc;
}

const struct cmd_entry cmd_show = {
	.name = "show",
	.usage = "[--json] ID",
	.summary = "a run's verdict, I/O, latency, faults and findings",
	.exec = show_exec,
};
