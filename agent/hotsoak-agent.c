/* hotsoak-agent.c: main of the agent that runs inside the partition under
 * test: parses the command line and starts standalone or linked mode. */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hotsoak/units.h"
#include "agent.h"
#include "log.h"
#include "standalone.h"
#include "topo.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: hotsoak-agent --channel SPEC [--token-file FILE] [--root DIR]\n"
	    "           [--kmsg PATH|none] [--uevent-fd N] [--log-level LEVEL]\n"
	    "       hotsoak-agent --standalone --target PATH --size SIZE "
	    "--seconds N [options] [--json]\n"
	    "       hotsoak-agent --standalone --verify-only --target PATH "
	    "--size SIZE [--block-size SIZE] [--seed N] [--state FILE] [--json]\n"
	    "\n"
	    "standalone options:\n"
	    "  --block-size SIZE   bytes per I/O (4KiB)\n"
	    "  --queue-depth N     I/Os in flight per worker (4)\n"
	    "  --workers N|per-cpu workers (per-cpu: one pinned to each CPU)\n"
	    "  --read-percent N    share of reads, 0-100 (50)\n"
	    "  --sequential        walk the target in order (default random)\n"
	    "  --seed N            seed of offsets and payloads (1)\n"
	    "  --io-timeout DUR    deadline of every I/O (30s)\n"
	    "  --engine aio|sync   how I/O is issued (aio)\n"
	    "  --buffered          no O_DIRECT\n"
	    "  --no-verify         no stamps: timeouts and errors only\n"
	    "  --no-fill           skip writing every block first\n"
	    "  --no-final-verify   skip reading every block at the end\n"
	    "  --keep              keep the target and TARGET.hotsoak-state\n"
	    "  --state FILE        where --keep writes and --verify-only reads state\n"
	    "  --verify-only       re-read a kept target and check every block\n"
	    "  --json              print the summary as JSON\n"
	    "exit: 0 no findings, 1 findings, 2 usage or setup error\n"
	    "\n"
	    "linked mode (driven by hotsoakd):\n"
	    "  --channel SPEC      unix:PATH, tcp:HOST:PORT, virtio:NAME (a\n"
	    "                      virtio-serial port by name), dev:PATH or /PATH\n"
	    "  --token-file FILE   the hello's token (else $HOTSOAK_TOKEN)\n"
	    "  --root DIR          prefix of /sys, /proc and /dev (tests)\n"
	    "  --kmsg PATH|none    kernel log to watch (/dev/kmsg)\n"
	    "  --uevent-fd N       read kernel-format uevents from inherited\n"
	    "                      datagram socket N instead of the kernel's\n"
	    "                      (a simulated partition, or tests)\n"
	    "  --log-level LEVEL   error, warn, info (default) or debug\n"
	    "exit: 0 after SIGTERM or SIGINT, 2 on a usage or setup error\n");
}

static int
parse_size_arg(const char *opt, const char *arg, uint64_t *out)
{
	char	*cause = NULL;
	size_t	 at;

	if (units_parse_size(arg, out, &cause, &at) == -1) {
		fprintf(stderr, "hotsoak-agent: --%s: %s\n", opt,
		    cause ? cause : "bad size");
		free(cause);
		return -1;
	}
	return 0;
}

static int
parse_uint_arg(const char *opt, const char *arg, uint64_t min, uint64_t max,
    uint64_t *out)
{
	char			*end;
	unsigned long long	 v;

	if (*arg < '0' || *arg > '9') {
		fprintf(stderr, "hotsoak-agent: --%s: `%s` is not a number\n", opt,
		    arg);
		return -1;
	}
	v = strtoull(arg, &end, 10);
	if (*end != '\0' || v < min || v > max) {
		fprintf(stderr, "hotsoak-agent: --%s: `%s` must be %llu to %llu\n",
		    opt, arg, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

enum {
	OPT_TARGET = 256, OPT_SIZE, OPT_SECONDS, OPT_BLOCK_SIZE, OPT_QUEUE_DEPTH,
	OPT_WORKERS, OPT_READ_PERCENT, OPT_SEQUENTIAL, OPT_SEED, OPT_IO_TIMEOUT,
	OPT_ENGINE, OPT_BUFFERED, OPT_NO_VERIFY, OPT_NO_FILL, OPT_NO_FINAL,
	OPT_KEEP, OPT_STATE, OPT_VERIFY_ONLY, OPT_JSON, OPT_STANDALONE, OPT_HELP,
	OPT_CHANNEL, OPT_TOKEN_FILE, OPT_ROOT, OPT_KMSG, OPT_LOG_LEVEL,
	OPT_UEVENT_FD
};

static const struct option longopts[] = {
	{ "standalone", no_argument, NULL, OPT_STANDALONE },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "block-size", required_argument, NULL, OPT_BLOCK_SIZE },
	{ "queue-depth", required_argument, NULL, OPT_QUEUE_DEPTH },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "read-percent", required_argument, NULL, OPT_READ_PERCENT },
	{ "sequential", no_argument, NULL, OPT_SEQUENTIAL },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "io-timeout", required_argument, NULL, OPT_IO_TIMEOUT },
	{ "engine", required_argument, NULL, OPT_ENGINE },
	{ "buffered", no_argument, NULL, OPT_BUFFERED },
	{ "no-verify", no_argument, NULL, OPT_NO_VERIFY },
	{ "no-fill", no_argument, NULL, OPT_NO_FILL },
	{ "no-final-verify", no_argument, NULL, OPT_NO_FINAL },
	{ "keep", no_argument, NULL, OPT_KEEP },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "verify-only", no_argument, NULL, OPT_VERIFY_ONLY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "channel", required_argument, NULL, OPT_CHANNEL },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "kmsg", required_argument, NULL, OPT_KMSG },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "uevent-fd", required_argument, NULL, OPT_UEVENT_FD },
	{ NULL, 0, NULL, 0 }
};

/* The token file's content without its trailing blanks; NULL on error. */
static char *
read_token(const char *path)
{
	char	buf[4096];
	ssize_t	n;
	size_t	len = 0;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "hotsoak-agent: --token-file %s: %s\n", path,
		    strerror(errno));
		return NULL;
	}
	while (len < sizeof buf - 1 &&
	    (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (len == sizeof buf - 1) {
		fprintf(stderr, "hotsoak-agent: --token-file %s: too long\n",
		    path);
		return NULL;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	buf[len] = '\0';
	return strdup(buf);
}

/*
 * --uevent-fd: a descriptor inherited from whoever started us, so check it
 * is there and keeps message boundaries before the watch relies on it.
 */
static int
parse_uevent_fd(const char *arg, int *out)
{
	uint64_t	v;
	int		type;
	socklen_t	tl = sizeof type;

	if (parse_uint_arg("uevent-fd", arg, 0, INT_MAX, &v) == -1)
		return -1;
	if (getsockopt((int)v, SOL_SOCKET, SO_TYPE, &type, &tl) == -1) {
		fprintf(stderr, "hotsoak-agent: --uevent-fd %s: %s\n", arg,
		    errno == EBADF ? "not an open descriptor" :
		    errno == ENOTSOCK ? "not a socket" : strerror(errno));
		return -1;
	}
	if (type != SOCK_DGRAM && type != SOCK_SEQPACKET) {
		fprintf(stderr, "hotsoak-agent: --uevent-fd %s: not a datagram "
		    "socket (uevents are one message each)\n", arg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static struct agent *the_agent;

static void
on_signal(int sig)
{
	if (the_agent != NULL)
		agent_request_stop(the_agent);
}

/* Linked mode: the agent driven by hotsoakd until SIGTERM or SIGINT. */
static int
linked_main(struct agent_opts *ao, const char *token_file)
{
	struct sigaction	 sa;
	char			*token = NULL, *cause = NULL;
	int			 rc;

	if (token_file != NULL) {
		if ((token = read_token(token_file)) == NULL)
			return 2;
		ao->token = token;
	} else
		ao->token = getenv("HOTSOAK_TOKEN");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if ((the_agent = agent_new(ao, &cause)) == NULL) {
		fprintf(stderr, "hotsoak-agent: %s\n", cause ? cause : "?");
		free(cause);
		free(token);
		return 2;
	}
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	rc = agent_run(the_agent);
	agent_free(the_agent);
	the_agent = NULL;
	free(token);
	return rc;
}

int
main(int argc, char **argv)
{
	struct agent_opts	 ao;
	const char		*token_file = NULL;
	int			 level;
	struct standalone_opts	 o;
	uint64_t		 v;
	char			*cause = NULL;
	size_t			 at;
	int			 ch, standalone = 0;

	memset(&o, 0, sizeof o);
	memset(&ao, 0, sizeof ao);
	ao.kmsg = "/dev/kmsg";
	ao.uevent_fd = TOPO_WATCH_NETLINK;
	o.block_size = 4096;
	o.queue_depth = 4;
	o.read_percent = 50;
	o.seed = 1;
	o.io_timeout_ms = 30000;
	o.verify = o.direct = o.fill = o.final_verify = true;
	o.engine = &io_engine_aio;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_STANDALONE:
			standalone = 1;
			break;
		case OPT_TARGET:
			o.target = optarg;
			break;
		case OPT_SIZE:
			if (parse_size_arg("size", optarg, &o.size) == -1)
				return 2;
			break;
		case OPT_SECONDS:
			if (parse_uint_arg("seconds", optarg, 0, 31536000,
			    &o.seconds) == -1)
				return 2;
			break;
		case OPT_BLOCK_SIZE:
			if (parse_size_arg("block-size", optarg, &o.block_size) == -1)
				return 2;
			break;
		case OPT_QUEUE_DEPTH:
			if (parse_uint_arg("queue-depth", optarg, 1, IO_MAX_DEPTH,
			    &v) == -1)
				return 2;
			o.queue_depth = (unsigned)v;
			break;
		case OPT_WORKERS:
			if (strcmp(optarg, "per-cpu") == 0)
				o.workers = 0;
			else if (parse_uint_arg("workers", optarg, 1,
			    IO_MAX_WORKERS, &v) == -1)
				return 2;
			else
				o.workers = (unsigned)v;
			break;
		case OPT_READ_PERCENT:
			if (parse_uint_arg("read-percent", optarg, 0, 100, &v) == -1)
				return 2;
			o.read_percent = (unsigned)v;
			break;
		case OPT_SEQUENTIAL:
			o.sequential = true;
			break;
		case OPT_SEED:
			if (parse_uint_arg("seed", optarg, 0, UINT64_MAX,
			    &o.seed) == -1)
				return 2;
			o.seed_set = true;
			break;
		case OPT_IO_TIMEOUT:
			if (units_parse_duration(optarg, &o.io_timeout_ms, &cause,
			    &at) == -1 || o.io_timeout_ms == 0) {
				fprintf(stderr, "hotsoak-agent: --io-timeout: %s\n",
				    cause ? cause : "must not be zero");
				free(cause);
				return 2;
			}
			break;
		case OPT_ENGINE:
			if ((o.engine = io_engine_find(optarg)) == NULL) {
				fprintf(stderr, "hotsoak-agent: --engine: unknown "
				    "engine `%s` (aio, sync)\n", optarg);
				return 2;
			}
			break;
		case OPT_BUFFERED:
			o.direct = false;
			break;
		case OPT_NO_VERIFY:
			o.verify = false;
			break;
		case OPT_NO_FILL:
			o.fill = false;
			break;
		case OPT_NO_FINAL:
			o.final_verify = false;
			break;
		case OPT_KEEP:
			o.keep = true;
			break;
		case OPT_STATE:
			o.state = optarg;
			break;
		case OPT_VERIFY_ONLY:
			o.verify_only = true;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_CHANNEL:
			ao.channel = optarg;
			break;
		case OPT_TOKEN_FILE:
			token_file = optarg;
			break;
		case OPT_ROOT:
			ao.root = optarg;
			break;
		case OPT_KMSG:
			ao.kmsg = strcmp(optarg, "none") == 0 ? NULL : optarg;
			break;
		case OPT_UEVENT_FD:
			if (parse_uevent_fd(optarg, &ao.uevent_fd) == -1)
				return 2;
			break;
		case OPT_LOG_LEVEL:
			if ((level = log_level_find(optarg)) == -1) {
				fprintf(stderr, "hotsoak-agent: --log-level: `%s` is "
				    "not error, warn, info or debug\n", optarg);
				return 2;
			}
			log_set_level((enum log_level)level);
			break;
		case OPT_HELP:
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (standalone && (ao.channel != NULL ||
	    ao.uevent_fd >= 0)) || (!standalone && ao.channel == NULL)) {
		usage(stderr);
		return 2;
	}
	if (!standalone)
		return linked_main(&ao, token_file);
	if (o.target == NULL || o.size == 0) {
		fprintf(stderr, "hotsoak-agent: --target and --size are required\n");
		return 2;
	}
	if (o.block_size < STAMP_MIN_BLOCK || o.block_size % STAMP_SECTOR ||
	    o.size % o.block_size) {
		fprintf(stderr, "hotsoak-agent: --block-size must be a multiple of "
		    "512 dividing --size\n");
		return 2;
	}
	return standalone_run(&o);
}
