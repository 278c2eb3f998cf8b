/* cmd-rerun.c: `hotsoak rerun ID --times N` runs a run's exact plan text and
 * seed again N times; --wait shows how often each of its findings came back. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd-client.h"
#include "cmd-table.h"
#include "cmd-wait.h"

#define RERUN_LINE	256

/* "1 pass, 2 fail" from "verdicts"; "" when there are none. */
static void
rerun_fmt_verdicts(const json_t *verdicts, char *buf, size_t len)
{
	const char	*key;
	const json_t	*v;
	char		 name[64];
	size_t		 off = 0;

	buf[0] = '\0';
	json_object_foreach((json_t *)(uintptr_t)verdicts, key, v) {
		if (off >= len)
			break;
		if (!json_is_integer(v) || json_integer_value(v) <= 0)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%lld %s",
		    off > 0 ? ", " : "", (long long)json_integer_value(v),
		    client_clean(key, name, sizeof name));
	}
}

/* "[   4.1s] 1/3 done  1 fail" */
static void
rerun_progress(const json_t *rr, uint64_t waited_ns, char *line, size_t len,
    char *key, size_t keylen)
{
	char		clock[CLIENT_FMT_MAX + 4], buf[RERUN_LINE];
	uint64_t	done, times;

	wait_clock(rr, waited_ns, clock, sizeof clock);
	if (client_uint(rr, "completed", &done) != 0)
		done = 0;
	rerun_fmt_verdicts(client_obj(rr, "verdicts"), buf, sizeof buf);
	if (client_uint(rr, "times", &times) == 0)
		snprintf(key, keylen, "%llu/%llu done%s%s",
		    (unsigned long long)done, (unsigned long long)times,
		    buf[0] != '\0' ? "  " : "", buf);
	else
		snprintf(key, keylen, "%llu done%s%s", (unsigned long long)done,
		    buf[0] != '\0' ? "  " : "", buf);
	snprintf(line, len, "%s %s", clock, key);
}

/* The reproduction table's columns, in order. */
enum repro_col {
	REPRO_KIND,		/* finding kind */
	REPRO_TITLE,		/* finding title */
	REPRO_SEEN,		/* "2/3": reruns that found it, of those done */
	REPRO_RATE,		/* "67%" */
	REPRO_NCOLS		/* number of columns, not a column */
};

static const char *const repro_heads[REPRO_NCOLS] = {
	"KIND", "TITLE", "SEEN", "RATE"
};

static const char *const fresh_heads[3] = { "KIND", "TITLE", "SEEN" };

static void
rerun_print_repro(const json_t *list)
{
	struct table	*t;
	const json_t	*f, *rate;
	uint64_t	 seen, of;
	double		 pct;
	size_t		 i;

	if ((t = table_new(REPRO_NCOLS, repro_heads, 1U << REPRO_SEEN |
	    1U << REPRO_RATE)) == NULL)
		return;
	json_array_foreach(list, i, f) {
		table_row(t);
		table_cell_str(t, REPRO_KIND, client_str(f, "kind"), "?");
		table_cell_str(t, REPRO_TITLE, client_str(f, "title"), "");
		if (client_uint(f, "seen", &seen) != 0 ||
		    client_uint(f, "of", &of) != 0) {
			table_cell(t, REPRO_SEEN, "?");
			table_cell(t, REPRO_RATE, "-");
			continue;
		}
		table_cell(t, REPRO_SEEN, "%llu/%llu", (unsigned long long)seen,
		    (unsigned long long)of);
		/* The server's rate when it sends one, else ours. */
		rate = json_object_get(f, "rate");
		if (json_is_number(rate) && json_number_value(rate) >= 0 &&
		    json_number_value(rate) <= 1)
			pct = json_number_value(rate) * 100;
		else if (of > 0)
			pct = (double)seen * 100 / (double)of;
		else
			pct = -1;
		if (pct < 0)
			table_cell(t, REPRO_RATE, "-");
		else
			table_cell(t, REPRO_RATE, "%.0f%%", pct);
	}
	table_print(t);
	table_free(t);
}

static void
rerun_print_fresh(const json_t *list)
{
	struct table	*t;
	const json_t	*f;
	uint64_t	 seen;
	size_t		 i;

	if ((t = table_new(3, fresh_heads, 1U << 2)) == NULL)
		return;
	json_array_foreach(list, i, f) {
		table_row(t);
		table_cell_str(t, REPRO_KIND, client_str(f, "kind"), "?");
		table_cell_str(t, REPRO_TITLE, client_str(f, "title"), "");
		if (client_uint(f, "seen", &seen) == 0)
			table_cell(t, 2, "%llu", (unsigned long long)seen);
		else
			table_cell(t, 2, "?");
	}
	table_print(t);
	table_free(t);
}

/* "runs: 21 pass, 22 fail (2 findings), 23 running" */
static void
rerun_print_runs(const json_t *runs)
{
	const json_t	*r;
	const char	*what;
	char		 id[32];
	uint64_t	 nf;
	size_t		 i;

	if (json_array_size(runs) == 0)
		return;
	printf("runs:");
	json_array_foreach(runs, i, r) {
		if ((what = client_str_either(r, "verdict", "status")) == NULL)
			what = "?";
		printf("%s %s %s", i > 0 ? "," : "", client_id_text(r, "id", id,
		    sizeof id, "?"), what);
		if (client_uint(r, "findings", &nf) == 0 && nf > 0)
			printf(" (%llu finding%s)", (unsigned long long)nf,
			    nf == 1 ? "" : "s");
	}
	printf("\n");
}

/* A finished rerun: what came back of the source run's findings, and what is new. */
static void
rerun_print(struct client *c, const json_t *rr)
{
	const json_t	*repro, *fresh;
	const char	*plan;
	char		 id[32], src[32], seed[32], buf[RERUN_LINE];
	uint64_t	 times;

	plan = client_str(rr, "plan");
	printf("rerun %s of run %s: %s", client_id_text(rr, "id", id,
	    sizeof id, "?"), client_id_text(rr, "run", src, sizeof src, "?"),
	    plan != NULL ? plan : "?");
	if (client_seed(rr, seed, sizeof seed) == 0)
		printf("  seed %s", seed);
	if (client_uint(rr, "times", &times) == 0)
		printf("  %llu time%s", (unsigned long long)times,
		    times == 1 ? "" : "s");
	printf("\n");
	rerun_fmt_verdicts(client_obj(rr, "verdicts"), buf, sizeof buf);
	printf("verdicts: %s\n", buf[0] != '\0' ? buf : "none");
	rerun_print_runs(client_arr(rr, "runs"));

	repro = client_arr(rr, "reproduction");
	if (json_array_size(repro) == 0)
		printf("reproduction: run %s had no findings to look for\n", src);
	else {
		printf("reproduction:\n");
		rerun_print_repro(repro);
	}
	fresh = client_arr(rr, "new_findings");
	if (json_array_size(fresh) == 0)
		printf("new findings: none\n");
	else {
		printf("new findings:\n");
		rerun_print_fresh(fresh);
	}
	fflush(stdout);
}

/* N of --times or --parallel: a count from 1; CMD_OK or CMD_ERROR said. */
static int
rerun_count(const char *opt, const char *arg, uint64_t *n)
{
	if (client_check_id(arg) == 0 && (*n = strtoull(arg, NULL, 10)) > 0 &&
	    *n <= 1000000)
		return CMD_OK;
	fprintf(stderr, "hotsoak: bad %s `%s`: give a number from 1\n", opt,
	    arg);
	return CMD_ERROR;
}

#define RERUN_USAGE	"rerun --times N [--parallel P] [--wait] [--json] " \
			"[--interval DUR] " CLIENT_USAGE " ID\n" \
			"exit status with --wait: 0 once the reruns finished, " \
			"whatever they found; 2 when waiting failed"

static const struct wait_follow rerun_follow = {
	.collection = CLIENT_API "/reruns",
	.noun = "rerun",
	.stop = "its runs can be stopped with: hotsoak abort RUN",
	.progress = rerun_progress,
	.print = rerun_print,
};

/* --times and --parallel; 0 when not given. */
struct rerun_counts {
	uint64_t	times;
	uint64_t	parallel;
};

static int
rerun_option(void *arg, int ch, int *status)
{
	struct rerun_counts	*n = arg;

	if (rerun_count(ch == 'n' ? "--times" : "--parallel", optarg,
	    ch == 'n' ? &n->times : &n->parallel) == CMD_OK)
		return 0;
	*status = CMD_ERROR;
	return -1;
}

static const struct option rerun_longopts[] = {
	{ "times", required_argument, NULL, 'n' },
	{ "parallel", required_argument, NULL, 'p' },
	{ NULL, 0, NULL, 0 }
};

static int
rerun_exec(int argc, char **argv)
{
	struct rerun_counts	 n = { 0, 0 };
	const struct client_own	 own = { "n:p:", rerun_longopts,
				    rerun_option, &n };
	struct client_opts	 o;
	struct client_flags	 f;
	struct client		 c;
	struct client_reply	 r;
	json_t			*req = NULL;
	const char		*id;
	char			*path = NULL, *body = NULL, rid[32];
	int			 rc;

	if (client_getopt_flags(&o, &f, argc, argv, CLIENT_FLAGS_WAIT |
	    CLIENT_FLAGS_JSON, &own, RERUN_USAGE, &rc) != 0)
		return rc;
	if (argc - optind != 1 || n.times == 0)
		return client_usage(stderr, RERUN_USAGE);
	id = argv[optind];
	if (client_open_run(&c, &o, id, &path) != CMD_OK)
		return CMD_ERROR;
	memset(&r, 0, sizeof r);
	/* The server's default parallelism holds unless one is asked for. */
	if ((req = json_pack("{s:I}", "times", (json_int_t)n.times)) == NULL ||
	    (n.parallel > 0 && json_object_set_new(req, "parallel",
	    json_integer((json_int_t)n.parallel)) != 0) ||
	    client_path_add(&path, "rerun") != 0 ||
	    (body = json_dumps(req, JSON_COMPACT)) == NULL) {
		fprintf(stderr, "hotsoak: out of memory\n");
		rc = CMD_ERROR;
		goto out;
	}
	rc = client_call(&c, HTTP_POST, path, "application/json", body,
	    strlen(body), &r);
	if (rc != CMD_OK)
		goto out;
	if (client_created_id(&r, rid, sizeof rid) != 0) {
		fprintf(stderr, "hotsoak: the server accepted the rerun but its "
		    "reply names no rerun id\n");
		rc = CMD_ERROR;
		goto out;
	}
	client_started(&f, r.json, "rerun %s: run %s %llu time%s, %s"
	    CLIENT_API "/reruns/%s\n", rid, id, (unsigned long long)n.times,
	    n.times == 1 ? "" : "s", c.server, rid);
	if (f.wait)
		rc = wait_follow(&c, &rerun_follow, rid, &f);
out:
	json_decref(req);
	free(body);
	client_reply_clear(&r);
	client_clear(&c);
	free(path);
	return rc;
}

const struct cmd_entry cmd_rerun = {
	.name = "rerun",
	.usage = "ID --times N [--parallel P] [--wait] [--json]",
	.summary = "run a run's plan and seed N times more; --wait shows how "
	    "often its findings recur",
	.exec = rerun_exec,
};
