/* hotsoakd.c: main of the controller daemon: flags, the store, the plans
 * folder, the run set and the REST API on one libevent base; signals. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "hotsoak/util.h"
#include "api.h"
#include "campaigns.h"
#include "log.h"
#include "plans-dir.h"
#include "reruns.h"
#include "runner.h"
#include "runs.h"
#include "store.h"

#define DEFAULT_LISTEN		"127.0.0.1:8470"
#define DEFAULT_STATE_DIR	LOCALSTATEDIR "/lib/hotsoak"
#define DEFAULT_PLANS_DIR	SYSCONFDIR "/hotsoak/plans"
#define TOKEN_MAX		4096

struct daemon_ctx {
	struct event_base	*base;
	struct runs		*runs;
	struct plans_dir	*plans;
	struct campaigns	*campaigns;
	struct reruns		*reruns;
	bool			 stopping;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: hotsoakd [--listen HOST:PORT] [--state-dir DIR] "
	    "[--plans-dir DIR]\n"
	    "                [--token-file FILE] [--agent PATH] [--guest-dir DIR]\n"
	    "                [--max-runs N] [--no-schedule]\n"
	    "                [--foreground] [--log-level LEVEL]\n"
	    "\n"
	    "  --listen HOST:PORT  REST API address (" DEFAULT_LISTEN "; port 0:\n"
	    "                      any free port, written to STATE/hotsoakd.url)\n"
	    "  --state-dir DIR     run store and run folders (" DEFAULT_STATE_DIR ")\n"
	    "  --plans-dir DIR     plans offered by name (" DEFAULT_PLANS_DIR ")\n"
	    "  --token-file FILE   POST and DELETE need Authorization: Bearer <its text>\n"
	    "  --agent PATH        hotsoak-agent for the local backend (next to\n"
	    "                      hotsoakd, else " BINDIR "/hotsoak-agent)\n"
	    "  --guest-dir DIR     the guest image `make guest` built, for the qemu\n"
	    "                      backend (guest/ next to hotsoakd, else\n"
	    "                      " PKGLIBDIR "/guest)\n"
	    "  --max-runs N        runs in flight at most (256)\n"
	    "  --no-schedule       campaigns start only by request, not on their\n"
	    "                      schedules\n"
	    "  --foreground        do not detach\n"
	    "  --log-level LEVEL   error, warn, info (default) or debug\n"
	    "signals: TERM and INT stop (runs in flight are recorded aborted),\n"
	    "HUP re-reads the plans folder and its campaigns' schedules\n"
	    "campaign schedules are in local time (TZ)\n");
}

/* The token, without a trailing newline; NULL with *cause on error. */
static char *
read_token(const char *path, char **cause)
{
	char	 buf[TOKEN_MAX + 1];
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cause_set(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n < 0) {
		cause_set(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (n > TOKEN_MAX) {
		cause_set(cause, "%s: longer than %d bytes", path, TOKEN_MAX);
		return NULL;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (n == 0 || strlen(buf) != (size_t)n) {
		cause_set(cause, "%s: empty, or holds a NUL byte", path);
		return NULL;
	}
	return strdup(buf);
}

/* hotsoak-agent beside this binary (a build tree), else the installed one. */
static char *
find_agent(void)
{
	char	self[PATH_MAX], *slash, *path;
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if (asprintf(&path, "%s/hotsoak-agent", self) != -1) {
				if (access(path, X_OK) == 0)
					return path;
				free(path);
			}
		}
	}
	return strdup(BINDIR "/hotsoak-agent");
}

/* guest/ beside this binary (a build tree), else the installed image. */
static char *
find_guest_dir(void)
{
	char	self[PATH_MAX], *slash, *path;
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if (asprintf(&path, "%s/guest", self) != -1) {
				if (access(path, X_OK) == 0)
					return path;
				free(path);
			}
		}
	}
	return strdup(PKGLIBDIR "/guest");
}

static void
stopped(void *arg)
{
	struct daemon_ctx	*d = arg;

	log_info("every run is recorded; exiting");
	event_base_loopbreak(d->base);
}

static void
on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon_ctx	*d = arg;

	if (d->stopping) {
		log_warnx("second signal: exiting without waiting");
		event_base_loopbreak(d->base);
		return;
	}
	d->stopping = true;
	log_info("signal %d: stopping %u runs in flight", (int)sig,
	    runs_active(d->runs));
	/* Campaigns and reruns first: they must not start what stops next. */
	campaigns_shutdown(d->campaigns);
	reruns_shutdown(d->reruns);
	runs_shutdown(d->runs, stopped, d);
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct daemon_ctx	*d = arg;
	char			*cause = NULL;

	if (d->plans == NULL)
		return;
	if (plans_dir_reload(d->plans, &cause) == -1) {
		log_warnx("plans folder not reloaded: %s", cause);
		free(cause);
		return;
	}
	campaigns_reload(d->campaigns);
	log_info("plans folder %s reloaded", plans_dir_path(d->plans));
}

static int
write_url(const char *state_dir, const char *bound)
{
	char	 path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE	*f;

	snprintf(path, sizeof path, "%s/hotsoakd.url", state_dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(f, "http://%s\n", bound);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

enum {
	OPT_LISTEN = 256, OPT_STATE_DIR, OPT_PLANS_DIR, OPT_TOKEN_FILE,
	OPT_AGENT, OPT_GUEST_DIR, OPT_MAX_RUNS, OPT_NO_SCHEDULE, OPT_FOREGROUND,
	OPT_LOG_LEVEL, OPT_HELP,
	OPT_VERSION
};

static const struct option options[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "plans-dir", required_argument, NULL, OPT_PLANS_DIR },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "agent", required_argument, NULL, OPT_AGENT },
	{ "guest-dir", required_argument, NULL, OPT_GUEST_DIR },
	{ "max-runs", required_argument, NULL, OPT_MAX_RUNS },
	{ "no-schedule", no_argument, NULL, OPT_NO_SCHEDULE },
	{ "foreground", no_argument, NULL, OPT_FOREGROUND },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char **argv)
{
	struct daemon_ctx	 d;
	struct runs_config	 rc;
	struct api_config	 ac;
	struct campaigns_config	 cc;
	struct runner		 runner;
	struct api		*api = NULL;
	struct store		*store = NULL;
	struct event		*ev_term = NULL, *ev_int = NULL, *ev_hup = NULL;
	const char		*listen_at = DEFAULT_LISTEN;
	const char		*state_dir = DEFAULT_STATE_DIR;
	const char		*plans_dir = DEFAULT_PLANS_DIR;
	const char		*token_file = NULL;
	char			*agent = NULL, *token = NULL, *cause = NULL;
	char			*guest_dir = NULL;
	char			*bound = NULL, *state_abs = NULL;
	unsigned long		 max_runs = 0;
	unsigned		 interrupted = 0;
	bool			 foreground = false, no_schedule = false;
	int			 opt, level, status = 2;
	char			*end;

	log_init("hotsoakd", getenv("JOURNAL_STREAM") != NULL);
	memset(&d, 0, sizeof d);
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case OPT_LISTEN:
			listen_at = optarg;
			break;
		case OPT_STATE_DIR:
			state_dir = optarg;
			break;
		case OPT_PLANS_DIR:
			plans_dir = optarg;
			break;
		case OPT_TOKEN_FILE:
			token_file = optarg;
			break;
		case OPT_AGENT:
			free(agent);
			agent = strdup(optarg);
			break;
		case OPT_GUEST_DIR:
			free(guest_dir);
			guest_dir = realpath(optarg, NULL);
			if (guest_dir == NULL) {
				fprintf(stderr, "hotsoakd: --guest-dir %s: %s\n",
				    optarg, strerror(errno));
				return 2;
			}
			break;
		case OPT_MAX_RUNS:
			errno = 0;
			max_runs = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || max_runs == 0 ||
			    max_runs > 100000) {
				fprintf(stderr, "hotsoakd: --max-runs: 1 to 100000\n");
				return 2;
			}
			break;
		case OPT_NO_SCHEDULE:
			no_schedule = true;
			break;
		case OPT_FOREGROUND:
			foreground = true;
			break;
		case OPT_LOG_LEVEL:
			if ((level = log_level_find(optarg)) == -1) {
				fprintf(stderr, "hotsoakd: --log-level: error, warn, "
				    "info or debug\n");
				return 2;
			}
			log_set_level((enum log_level)level);
			break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("hotsoakd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	if (mkdir(state_dir, 0700) == -1 && errno != EEXIST) {
		log_errorx("--state-dir %s: %s", state_dir, strerror(errno));
		goto out;
	}
	/* Run folders and the agent's sockets need a path that survives a chdir. */
	if ((state_abs = realpath(state_dir, NULL)) == NULL) {
		log_errorx("--state-dir %s: %s", state_dir, strerror(errno));
		goto out;
	}
	if (token_file != NULL && (token = read_token(token_file, &cause)) ==
	    NULL) {
		log_errorx("--token-file: %s", cause);
		goto out;
	}
	if (agent == NULL && (agent = find_agent()) == NULL)
		goto out;
	if (guest_dir == NULL && (guest_dir = find_guest_dir()) == NULL)
		goto out;
	if ((d.base = event_base_new()) == NULL) {
		log_errorx("cannot make an event base");
		goto out;
	}
	if ((store = store_open(state_abs, &cause)) == NULL) {
		log_errorx("store: %s", cause);
		goto out;
	}
	if (store_interrupt_unfinished(store, clock_wall_ns(), &interrupted,
	    &cause) == -1) {
		log_errorx("store: %s", cause);
		goto out;
	}
	if (interrupted != 0)
		log_warnx("%u runs were in flight when hotsoakd last stopped; "
		    "they are recorded as interrupted", interrupted);
	if ((d.plans = plans_dir_open(plans_dir, &cause)) == NULL) {
		log_warnx("plans folder: %s (runs by name are refused)", cause);
		free(cause);
		cause = NULL;
	}
	memset(&rc, 0, sizeof rc);
	rc.state_dir = state_abs;
	rc.agent_binary = agent;
	rc.guest_dir = guest_dir;
	rc.max_active = (unsigned)max_runs;
	if ((d.runs = runs_new(d.base, store, &rc, &cause)) == NULL) {
		log_errorx("%s", cause);
		goto out;
	}
	runner_of_runs(&runner, d.runs);
	memset(&cc, 0, sizeof cc);
	cc.runner = &runner;
	cc.no_schedule = no_schedule;
	if ((d.campaigns = campaigns_new(d.base, store, d.plans, &cc,
	    &cause)) == NULL || (d.reruns = reruns_new(d.base, store, &runner,
	    d.plans != NULL ? plans_dir_path(d.plans) : NULL, &cause)) == NULL) {
		log_errorx("%s", cause);
		goto out;
	}
	memset(&ac, 0, sizeof ac);
	ac.token = token;
	ac.campaigns = d.campaigns;
	ac.reruns = d.reruns;
	ac.version = PACKAGE_VERSION;
	ac.state_dir = state_abs;
	if ((api = api_new(d.base, store, d.runs, d.plans, &ac, &cause)) ==
	    NULL || api_listen(api, listen_at, &bound, &cause) == -1) {
		log_errorx("REST API on %s: %s", listen_at, cause);
		goto out;
	}
	if (!api_is_loopback(bound) && token == NULL)
		log_warnx("listening on %s, beyond loopback, without a token: "
		    "anyone who can reach it can start runs", bound);
	if (write_url(state_abs, bound) == -1)
		log_warn("%s/hotsoakd.url", state_abs);
	if ((ev_term = evsignal_new(d.base, SIGTERM, on_stop_signal, &d)) ==
	    NULL || (ev_int = evsignal_new(d.base, SIGINT, on_stop_signal,
	    &d)) == NULL || (ev_hup = evsignal_new(d.base, SIGHUP, on_hup,
	    &d)) == NULL || evsignal_add(ev_term, NULL) == -1 ||
	    evsignal_add(ev_int, NULL) == -1 || evsignal_add(ev_hup, NULL) ==
	    -1) {
		log_errorx("cannot watch signals");
		goto out;
	}
	if (!foreground && daemon(1, 1) == -1) {
		log_warn("daemon");
		goto out;
	}
	log_info("hotsoakd %s: REST API on http://%s, state in %s, agent %s",
	    PACKAGE_VERSION, bound, state_abs, agent);
	if (event_base_dispatch(d.base) == -1) {
		log_errorx("event loop failed");
		goto out;
	}
	status = 0;
out:
	free(cause);
	if (ev_term != NULL)
		event_free(ev_term);
	if (ev_int != NULL)
		event_free(ev_int);
	if (ev_hup != NULL)
		event_free(ev_hup);
	api_free(api);
	campaigns_free(d.campaigns);
	reruns_free(d.reruns);
	runs_free(d.runs);
	plans_dir_free(d.plans);
	store_close(store);
	if (d.base != NULL)
		event_base_free(d.base);
	free(bound);
	free(token);
	free(agent);
	free(guest_dir);
	free(state_abs);
	return status;
}
