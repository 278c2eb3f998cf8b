/* cmd-run.c: `hotsoak run PLAN` submits a plan file or names one of the
 * daemon's plans; --wait follows the run to its verdict with a live line. */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hotsoak/units.h"
#include "hotsoak/util.h"
#include "cmd.h"
#include "cmd-client.h"

#define RUN_INTERVAL_MS	1000	/* --wait polls this often unless told */
#define RUN_SLICE_MS	100	/* a wait between polls looks at ^C this often */
#define RUN_LINE_MAX	512

static volatile sig_atomic_t	run_interrupted;

static void
run_sigint(int sig)
{
	run_interrupted = 1;
}

/*
 * The plan file at path, read whole (the caller frees), or NULL with an
 * allocated *cause. The server refuses anything near this size anyway.
 */
static char *
run_read_file(const char *path, size_t *len, char **cause)
{
	char	*buf = NULL, *p;
	size_t	 cap = 0;
	ssize_t	 n;
	int	 fd;

	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cause_set(cause, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (*len == cap) {
			if (cap >= HTTP_BODY_MAX) {
				cause_set(cause, "%s is over %u bytes", path,
				    HTTP_BODY_MAX);
				goto fail;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if ((p = realloc(buf, cap + 1)) == NULL) {
				cause_set(cause, "out of memory");
				goto fail;
			}
			buf = p;
		}
		n = read(fd, buf + *len, cap - *len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cause_set(cause, "cannot read %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	buf[*len] = '\0';
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

/* The run's id from the reply's "id", else from the Location's last part. */
static int
run_created_id(const struct client_reply *r, char *buf, size_t len)
{
	const char	*p;

	if (client_id(r->json, "id", buf, len) == 0 &&
	    client_check_id(buf) == 0)
		return 0;
	if (r->location == NULL)
		return -1;
	if ((p = strrchr(r->location, '/')) == NULL)
		return -1;
	snprintf(buf, len, "%s", p + 1);
	return client_check_id(buf);
}

/* Terminal columns, so the live line never wraps; 0 when unknown. */
static size_t
run_columns(void)
{
	struct winsize	ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == -1 || ws.ws_col == 0)
		return 0;
	return ws.ws_col;
}

/*
 * "[  12.3s] step 3/6 hot_add  ios 1.2M  verified 310k  findings 0" into
 * line; *key gets what identifies the step, so a change shows.
 */
static void
run_progress(const json_t *run, uint64_t waited_ns, char *line, size_t len,
    char *key, size_t keylen)
{
	const json_t	*step, *counters;
	const char	*status, *action, *name, *path;
	uint64_t	 ms, index, total, v, started, pass;
	char		 el[CLIENT_FMT_MAX], num[CLIENT_FMT_MAX];
	size_t		 off;

#define APPEND(...) do {						\
	if (off < len)							\
		off += (size_t)snprintf(line + off, len - off, __VA_ARGS__); \
} while (0)

	off = 0;
	if (client_uint(run, "elapsed_ms", &ms) == 0)
		client_fmt_ms(ms, el, sizeof el);
	else if (client_uint(run, "started_ns", &started) == 0 &&
	    clock_wall_ns() > started)
		client_fmt_ns(clock_wall_ns() - started, el, sizeof el);
	else
		client_fmt_ns(waited_ns, el, sizeof el);
	APPEND("[%7s]", el);

	status = client_str(run, "status");
	step = client_obj(run, "step");
	action = client_str(step, "action");
	name = client_str(step, "name");
	path = client_str(step, "path");
	if (status != NULL && strcmp(status, "running") != 0) {
		APPEND(" %s", status);
		snprintf(key, keylen, "%s", status);
	} else if (step != NULL) {
		APPEND(" step");
		/* index counts top-level steps from 1; 0 is before the first. */
		if (client_uint(step, "index", &index) == 0) {
			if (client_uint(step, "total", &total) == 0) {
				if (index > total)
					index = total;
				APPEND(" %llu/%llu", (unsigned long long)index,
				    (unsigned long long)total);
			} else
				APPEND(" %llu", (unsigned long long)index);
		} else if (path != NULL)
			APPEND(" %s", path);
		if (action != NULL)
			APPEND(" %s", action);
		if (name != NULL && (action == NULL || strcmp(name, action) != 0))
			APPEND(" (%s)", name);
		/* A plan that runs for a duration goes through its steps again. */
		if (client_uint(step, "pass", &pass) != 0)
			pass = 0;
		if (pass > 1)
			APPEND(" pass %llu", (unsigned long long)pass);
		snprintf(key, keylen, "step %s %llu %s %s %llu", path != NULL ?
		    path : "", client_uint(step, "index", &index) == 0 ?
		    (unsigned long long)index : 0ULL, action != NULL ? action : "",
		    name != NULL ? name : "", (unsigned long long)pass);
	} else {
		APPEND(" running");
		snprintf(key, keylen, "running");
	}
	if ((counters = client_obj(run, "counters")) != NULL) {
		if (client_uint(counters, "ios", &v) == 0) {
			client_fmt_count(v, num, sizeof num);
			APPEND("  ios %s", num);
		}
		if (client_uint(counters, "blocks_verified", &v) == 0) {
			client_fmt_count(v, num, sizeof num);
			APPEND("  verified %s", num);
		}
	}
	if (client_uint(client_obj(run, "findings"), "total", &v) == 0)
		APPEND("  findings %llu", (unsigned long long)v);
#undef APPEND
}

/* Sleeps ms unless ^C comes first. */
static void
run_sleep(uint64_t ms)
{
	struct timespec	ts;
	uint64_t	slice;

	while (ms > 0 && !run_interrupted) {
		slice = ms < RUN_SLICE_MS ? ms : RUN_SLICE_MS;
		ts.tv_sec = (time_t)(slice / 1000);
		ts.tv_nsec = (long)(slice % 1000) * 1000000;
		nanosleep(&ts, NULL);
		ms -= slice;
	}
}

/*
 * Poll the run until it finishes, then show it. ^C stops the waiting,
 * not the run: aborting someone's soak by reflex would be worse.
 */
static int
run_wait(struct client *c, const char *id, uint64_t interval_ms, int json)
{
	struct sigaction	 sa, old;
	struct client_reply	 r;
	const char		*status;
	char			*path = NULL, line[RUN_LINE_MAX];
	char			 key[RUN_LINE_MAX], last[RUN_LINE_MAX];
	uint64_t		 start = clock_mono_ns();
	size_t			 cols;
	int			 tty, drawn = 0, rc;

	memset(&r, 0, sizeof r);
	if (asprintf(&path, CLIENT_API "/runs/%s", id) == -1)
		return CMD_ERROR;
	tty = !json && isatty(STDOUT_FILENO);
	cols = tty ? run_columns() : 0;
	last[0] = '\0';

	run_interrupted = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = run_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);	/* no SA_RESTART: sleeps end early */
	c->stop = &run_interrupted;

	for (;;) {
		client_reply_clear(&r);
		rc = client_get(c, path, &r);
		if (run_interrupted)
			break;
		if (rc != CMD_OK) {
			rc = CMD_ERROR;
			goto out;
		}
		if ((status = client_str(r.json, "status")) == NULL) {
			fprintf(stderr, "hotsoak: GET %s: the reply names no "
			    "status\n", path);
			rc = CMD_ERROR;
			goto out;
		}
		if (strcmp(status, "finished") == 0)
			break;
		if (!json) {
			run_progress(r.json, clock_mono_ns() - start, line,
			    sizeof line, key, sizeof key);
			if (tty) {
				if (cols > 1 && strlen(line) > cols - 1)
					line[cols - 1] = '\0';
				printf("\r%s\033[K", line);
				drawn = 1;
			} else if (strcmp(key, last) != 0) {
				printf("%s\n", line);
				snprintf(last, sizeof last, "%s", key);
			}
			fflush(stdout);
		}
		run_sleep(interval_ms);
		if (run_interrupted)
			break;
	}
	if (drawn)
		printf("\r\033[K");
	if (run_interrupted) {
		fflush(stdout);
		fprintf(stderr, "hotsoak: stopped waiting; run %s goes on "
		    "(stop it with: hotsoak abort %s)\n", id, id);
		rc = CMD_ERROR;
		goto out;
	}
	/* The summary's own requests should not see a later ^C as ours. */
	c->stop = NULL;
	if (json)
		client_print_json(r.json);
	else
		show_print_run(c, r.json);
	rc = show_run_status(r.json);
out:
	fflush(stdout);
	c->stop = NULL;
	sigaction(SIGINT, &old, NULL);
	client_reply_clear(&r);
	free(path);
	return rc;
}

#define RUN_USAGE	"run [--wait] [--json] [--interval DUR] " CLIENT_USAGE \
			" PLAN\n" \
			"PLAN is a plan file to send, or the name of a plan " \
			"in the daemon's plans folder"

/* The request body for PLAN (allocated; the caller frees *body) and its type. */
static int
run_body(const char *plan, char **body, size_t *len, const char **ctype)
{
	struct stat	 st;
	json_t		*j;
	char		*cause = NULL;

	if (stat(plan, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			fprintf(stderr, "hotsoak: %s is not a plan file\n", plan);
			return -1;
		}
		if ((*body = run_read_file(plan, len, &cause)) == NULL) {
			fprintf(stderr, "hotsoak: %s\n", cause != NULL ? cause :
			    "out of memory");
			free(cause);
			return -1;
		}
		*ctype = "application/yaml";
		return 0;
	}
	/* Names never have a '/', so this was meant as a file. */
	if (strchr(plan, '/') != NULL) {
		fprintf(stderr, "hotsoak: cannot read %s: %s\n", plan,
		    strerror(errno));
		return -1;
	}
	if ((j = json_pack("{s:s}", "plan", plan)) == NULL ||
	    (*body = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		fprintf(stderr, "hotsoak: plan name `%s` is not UTF-8\n", plan);
		return -1;
	}
	json_decref(j);
	*len = strlen(*body);
	*ctype = "application/json";
	return 0;
}

static int
run_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "interval", required_argument, NULL, 'i' },
		CLIENT_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct client_opts	 o;
	struct client		 c;
	struct client_reply	 r;
	const char		*ctype = NULL, *plan;
	char			*body = NULL, *cause = NULL, id[32], seed[32];
	uint64_t		 interval = RUN_INTERVAL_MS;
	size_t			 len = 0, at;
	int			 ch, wait = 0, json = 0, rc;

	memset(&o, 0, sizeof o);
	optind = 0;
	while ((ch = client_getopt(&o, argc, argv, "wji:h", longopts)) != -1) {
		switch (ch) {
		case 'w':
			wait = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'i':
			if (units_parse_duration(optarg, &interval, &cause,
			    &at) != 0 || interval == 0) {
				fprintf(stderr, "hotsoak: bad --interval `%s`: "
				    "%s\n", optarg, cause != NULL ? cause :
				    "must be more than 0");
				free(cause);
				return CMD_ERROR;
			}
			break;
		case 'h':
			return client_usage(stdout, RUN_USAGE);
		default:
			return client_usage(stderr, RUN_USAGE);
		}
	}
	if (argc - optind != 1)
		return client_usage(stderr, RUN_USAGE);
	if (client_open(&c, &o) != CMD_OK)
		return CMD_ERROR;
	if (run_body(argv[optind], &body, &len, &ctype) != 0) {
		client_clear(&c);
		return CMD_ERROR;
	}
	rc = client_call(&c, HTTP_POST, CLIENT_API "/runs", ctype, body, len,
	    &r);
	free(body);
	if (rc != CMD_OK)
		goto out;
	if (run_created_id(&r, id, sizeof id) != 0) {
		fprintf(stderr, "hotsoak: the server accepted the plan but its "
		    "reply names no run id\n");
		rc = CMD_ERROR;
		goto out;
	}
	if (json && !wait)
		client_print_json(r.json);
	else {
		if ((plan = client_str(r.json, "plan")) == NULL)
			plan = argv[optind];
		if (client_seed(r.json, seed, sizeof seed) != 0)
			seed[0] = '\0';
		/* With --json only the final object goes to stdout. */
		fprintf(json ? stderr : stdout, "run %s: %s%s%s%s submitted, "
		    "%s" CLIENT_API "/runs/%s\n", id, plan, seed[0] != '\0' ?
		    " (seed " : "", seed, seed[0] != '\0' ? ")" : "", c.server,
		    id);
		fflush(stdout);
	}
	if (wait)
		rc = run_wait(&c, id, interval, json);
out:
	client_reply_clear(&r);
	client_clear(&c);
	return rc;
}

const struct cmd_entry cmd_run = {
	.name = "run",
	.usage = "PLAN [--wait] [--json] [--interval DUR]",
	.summary = "start a run of a plan file or a named plan; --wait follows it",
	.exec = run_exec,
};
