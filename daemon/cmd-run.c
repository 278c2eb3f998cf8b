/* cmd-run.c: `hotsoak run PLAN` submits a plan file or names one of the
 * daemon's plans; --wait follows the run to its verdict with a live line. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hotsoak/util.h"
#include "cmd.h"
#include "cmd-client.h"
#include "cmd-wait.h"

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
	uint64_t	 index, total, v, pass;
	char		 num[CLIENT_FMT_MAX];
	size_t		 off;

#define APPEND(...) do {						\
	if (off < len)							\
		off += (size_t)snprintf(line + off, len - off, __VA_ARGS__); \
} while (0)

	wait_clock(run, waited_ns, line, len);
	off = strlen(line);

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

/* Not the run: aborting someone's soak by reflex would be worse. */
static const struct wait_follow run_follow = {
	.collection = CLIENT_API "/runs",
	.noun = "run",
	.stop = "stop it with: hotsoak abort ",
	.stop_id = 1,
	.progress = run_progress,
	.print = show_print_run,
	.status = show_run_status,
};

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
	struct client_opts	 o;
	struct client_flags	 f;
	struct client		 c;
	struct client_reply	 r;
	const char		*ctype = NULL, *plan;
	char			*body = NULL, id[32], seed[32];
	size_t			 len = 0;
	int			 rc;

	if (client_getopt_flags(&o, &f, argc, argv, CLIENT_FLAGS_WAIT |
	    CLIENT_FLAGS_JSON, NULL, RUN_USAGE, &rc) != 0)
		return rc;
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
	if (client_created_id(&r, id, sizeof id) != 0) {
		fprintf(stderr, "hotsoak: the server accepted the plan but its "
		    "reply names no run id\n");
		rc = CMD_ERROR;
		goto out;
	}
	if ((plan = client_str(r.json, "plan")) == NULL)
		plan = argv[optind];
	if (client_seed(r.json, seed, sizeof seed) != 0)
		seed[0] = '\0';
	client_started(&f, r.json, "run %s: %s%s%s%s submitted, %s" CLIENT_API
	    "/runs/%s\n", id, plan, seed[0] != '\0' ? " (seed " : "", seed,
	    seed[0] != '\0' ? ")" : "", c.server, id);
	if (f.wait)
		rc = wait_follow(&c, &run_follow, id, &f);
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
