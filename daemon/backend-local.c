/* backend-local.c: the `local` backend, a simulation of a partition for
 * trying hotsoak on one machine: the agent's process tree on this host,
 * confined to the CPUs and memory given, seeing a fake sysfs kept here. */
#include "config.h"

#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "backend-local.h"
#include "hotsoak/backend.h"
#include "hotsoak/plan.h"
#include "hotsoak/units.h"
#include "hotsoak/util.h"

/* Memory blocks as x86-64 Linux makes them: block_size_bytes "8000000". */
#define LOCAL_BLOCK_SIZE	(128ULL << 20)
#define LOCAL_STOP_GRACE_MS	5000	/* SIGTERM, then SIGKILL */
#define LOCAL_HOLD_POLL_MS	10	/* freeze and thaw checks */
#define LOCAL_HOLD_MAX_MS	5000	/* a freeze or thaw that takes longer failed */
#define LOCAL_EXIT_POLL_MS	200	/* waitid polling where there is no pidfd */
#define LOCAL_REAP_MAX_MS	2000	/* free's wait for a SIGKILLed agent */
#define LOCAL_LOG_TAIL_LINES	20
#define LOCAL_LOG_TAIL_BYTES	8192
#define LOCAL_UEVENT_MAX	512	/* one kernel-format uevent */

#define CPU_DIR		"sys/devices/system/cpu"
#define MEM_DIR		"sys/devices/system/memory"

#define MS_NS		1000000ULL

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

enum local_state {
	LOCAL_CREATED,		/* never started */
	LOCAL_STARTING,		/* forked; the agent not exec'd yet */
	LOCAL_RUNNING,		/* the agent runs */
	LOCAL_STOPPING,		/* stop asked; waiting for the agent to go */
	LOCAL_GONE		/* the agent is gone (or never started): may start again */
};

enum local_hold {
	LOCAL_HOLD_NONE,	/* the partition runs */
	LOCAL_HOLD_FREEZING,	/* replace_begin asked for the freeze */
	LOCAL_HOLD_FROZEN,	/* held: the replace outage */
	LOCAL_HOLD_THAWING	/* replace_end asked for the thaw */
};

/* What the forked child says through its CLOEXEC pipe when it fails. */
enum local_child_step {
	LOCAL_CHILD_CONFINE,	/* joining a cgroup, or the affinity */
	LOCAL_CHILD_STDIO,	/* the log and /dev/null as 0, 1, 2 */
	LOCAL_CHILD_FDS,	/* keeping only the uevent descriptor */
	LOCAL_CHILD_EXEC	/* execv itself */
};

struct local_child_report {
	int		step;		/* enum local_child_step */
	int		index;		/* LOCAL_CHILD_CONFINE: which procs file */
	int		error;		/* errno */
};

/* A caller's callback not called yet. */
struct local_done {
	backend_done_cb	 cb;
	void		*arg;
};

enum local_delivery_kind {
	LOCAL_DELIVER_DONE,	/* an operation's callback */
	LOCAL_DELIVER_EVENT	/* a hooks.event */
};

/* Calls made from the event loop, never from inside a backend call. */
struct local_delivery {
	enum local_delivery_kind kind;
	struct local_done	 done;
	int			 error;
	char			*cause;
	json_t			*result;	/* or the event's detail */
	enum backend_event	 event;
	char			*title;
	TAILQ_ENTRY(local_delivery) entry;
};
TAILQ_HEAD(local_deliveries, local_delivery);

/* A uevent the agent's socket had no room for yet. */
struct local_uevent {
	size_t		 len;
	TAILQ_ENTRY(local_uevent) entry;
	char		 msg[];
};
TAILQ_HEAD(local_uevents, local_uevent);

struct local {
	struct backend		 backend;	/* first: the wrappers find the ops here */
	struct event_base	*base;
	struct backend_hooks	 hooks;
	int64_t			 run_id;

	char			*run_dir;
	char			*root;		/* the fake sysfs and /proc */
	char			*io_path;
	char			*log_path;
	char			*agent_binary;
	char			*channel;
	char			*token_file;
	char			*cgroup_name;

	int			 cgroup;	/* enum plan_cgroup */
	unsigned		 cpus_boot;
	unsigned		 cpus_max;
	uint64_t		 memory_boot;
	uint64_t		 memory_max;

	/* Virtual CPU n runs on host CPU host_cpus[n % nhost]. */
	int			*host_cpus;
	unsigned		 nhost;

	unsigned		 cpus_given;
	uint64_t		 memory_given;
	unsigned		 blocks;	/* memory blocks in the fake tree */
	unsigned		 seqnum;	/* the uevents' SEQNUM */

	enum local_state	 state;
	enum local_hold		 hold;
	bool			 freeing;
	bool			 confined;
	struct local_confine	 confine;

	pid_t			 pid;		/* the agent and its process group */
	int			 pidfd;
	struct event		*exit_ev;	/* pidfd readable, or the waitid poll */
	int			 exec_fd;	/* the child's CLOEXEC pipe */
	struct event		*exec_ev;
	char			*exec_error;	/* what the child said before exec failed */
	char			*exit_text;	/* how the agent went */

	int			 uevent_fd;
	struct event		*uevent_ev;
	struct local_uevents	 uevents;

	struct event		*kill_ev;
	unsigned		 kill_stage;	/* 0: SIGTERM sent; 1: SIGKILL sent */

	struct event		*hold_ev;
	uint64_t		 hold_asked_ns;
	uint64_t		 frozen_ns;

	struct event		*deliver_ev;
	struct local_deliveries	 deliveries;

	bool			 start_pending;
	struct local_done	 start_op;
	bool			 hold_pending;
	struct local_done	 hold_op;
	struct local_done	*stop_ops;
	size_t			 nstop;
};

static const char *const signal_names[] = {
	[SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT",
	[SIGILL] = "SIGILL", [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE", [SIGKILL] = "SIGKILL",
	[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
	[SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP",
	[SIGTSTP] = "SIGTSTP", [SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",
	[SIGURG] = "SIGURG", [SIGXCPU] = "SIGXCPU", [SIGXFSZ] = "SIGXFSZ",
	[SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
	[SIGWINCH] = "SIGWINCH", [SIGIO] = "SIGIO", [SIGPWR] = "SIGPWR",
	[SIGSYS] = "SIGSYS",
};

static void	local_exit_check(struct local *);
static void	kill_timeout(evutil_socket_t, short, void *);
static void	hold_poll(evutil_socket_t, short, void *);

static const char *
signal_name(int sig, char *buf, size_t len)
{
	if (sig > 0 && (size_t)sig < sizeof signal_names /
	    sizeof signal_names[0] && signal_names[sig] != NULL)
		return signal_names[sig];
	snprintf(buf, len, "SIG%d", sig);
	return buf;
}

static struct local *
to_local(struct backend *b)
{
	return (struct local *)b;
}

/* delivery: every callback and event goes through the event loop */

static void
local_deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	struct local		*l = arg;
	struct local_delivery	*d;

	if ((d = TAILQ_FIRST(&l->deliveries)) == NULL)
		return;
	TAILQ_REMOVE(&l->deliveries, d, entry);
	/*
	 * One per turn and l untouched after the call: the callback may free
	 * the backend, which drops this event with it.
	 */
	if (!TAILQ_EMPTY(&l->deliveries))
		event_active(l->deliver_ev, EV_TIMEOUT, 1);
	if (d->kind == LOCAL_DELIVER_DONE)
		d->done.cb(d->done.arg, d->error, d->cause, d->result);
	else if (l->hooks.event != NULL) {
		l->hooks.event(l->hooks.arg, d->event, d->title, d->result);
		d->result = NULL;
	}
	json_decref(d->result);
	free(d->cause);
	free(d->title);
	free(d);
}

static void
local_deliver(struct local *l, struct local_delivery *d)
{
	TAILQ_INSERT_TAIL(&l->deliveries, d, entry);
	event_active(l->deliver_ev, EV_TIMEOUT, 1);
}

/* Queue cb's call: error 0 with result (stolen), or -1 with cause. */
static void
local_done(struct local *l, struct local_done done, int error,
    const char *cause, json_t *result)
{
	struct local_delivery	*d;

	/* Out of memory: the call must still come; wait for room. */
	while ((d = calloc(1, sizeof *d)) == NULL)
		usleep(1000);
	d->kind = LOCAL_DELIVER_DONE;
	d->done = done;
	d->error = error;
	if (error) {
		d->cause = strdup(cause != NULL ? cause : "?");
		json_decref(result);
	} else
		d->result = result;
	local_deliver(l, d);
}

static void
local_ok(struct local *l, backend_done_cb cb, void *arg, json_t *result)
{
	struct local_done	done = { cb, arg };

	local_done(l, done, 0, NULL, result);
}

static void
local_fail(struct local *l, backend_done_cb cb, void *arg, const char *cause)
{
	struct local_done	done = { cb, arg };

	local_done(l, done, -1, cause, NULL);
}

/* A hooks.event to queue; detail is stolen. */
static void
local_event(struct local *l, enum backend_event ev, json_t *detail,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
local_event(struct local *l, enum backend_event ev, json_t *detail,
    const char *fmt, ...)
{
	struct local_delivery	*d;
	va_list			 ap;

	if ((d = calloc(1, sizeof *d)) == NULL) {
		json_decref(detail);
		return;
	}
	d->kind = LOCAL_DELIVER_EVENT;
	d->event = ev;
	d->result = detail;
	va_start(ap, fmt);
	if (vasprintf(&d->title, fmt, ap) == -1)
		d->title = NULL;
	va_end(ap);
	if (d->title == NULL) {
		json_decref(detail);
		free(d);
		return;
	}
	local_deliver(l, d);
}

/* the fake sysfs and /proc the agent reads */

static int
mkdirs(const char *path, char **cause)
{
	char	buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return cause_set(cause, "%s: %s", path, strerror(ENAMETOOLONG));
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return cause_set(cause, "%s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, 0755) == -1 && errno != EEXIST)
		return cause_set(cause, "%s: %s", buf, strerror(errno));
	return 0;
}

/*
 * Write path whole through a temporary name: the agent reads these files
 * while they change and must never see one empty.
 */
static int
put_file(const char *path, const char *content, char **cause)
{
	char	tmp[PATH_MAX];
	size_t	len = strlen(content);
	ssize_t	r;
	int	fd, saved;

	if (snprintf(tmp, sizeof tmp, "%s.new", path) >= (int)sizeof tmp)
		return cause_set(cause, "%s: %s", path, strerror(ENAMETOOLONG));
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		return cause_set(cause, "%s: %s", tmp, strerror(errno));
	do
		r = write(fd, content, len);
	while (r == -1 && errno == EINTR);
	saved = r == -1 ? errno : EIO;
	if (close(fd) == -1 && r != -1) {
		r = -1;
		saved = errno;
	}
	if (r == -1 || (size_t)r != len) {
		unlink(tmp);
		return cause_set(cause, "%s: %s", tmp, strerror(saved));
	}
	if (rename(tmp, path) == -1) {
		saved = errno;
		unlink(tmp);
		return cause_set(cause, "%s: %s", path, strerror(saved));
	}
	return 0;
}

static int
tree_put(struct local *l, const char *rel, const char *content, char **cause)
{
	char	path[PATH_MAX];

	if (snprintf(path, sizeof path, "%s/%s", l->root, rel) >=
	    (int)sizeof path)
		return cause_set(cause, "%s/%s: %s", l->root, rel,
		    strerror(ENAMETOOLONG));
	return put_file(path, content, cause);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag == FTW_DP)
		return rmdir(path) == -1 && errno != ENOENT ? -1 : 0;
	return unlink(path) == -1 && errno != ENOENT ? -1 : 0;
}

static int
rmtree(const char *path, char **cause)
{
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == -1 &&
	    errno != ENOENT)
		return cause_set(cause, "cannot remove %s: %s", path,
		    strerror(errno));
	return 0;
}

/*
 * A new folder prefix+index (cpuN, memoryN) with its files, made under a
 * hidden name and renamed into place, so it appears whole: a cpuN seen
 * without its online file would pass for a CPU that cannot go offline.
 */
static int
tree_add_dir(struct local *l, const char *parent, const char *prefix,
    unsigned index, const char *const files[][2], char **cause)
{
	char	tmp[PATH_MAX], final[PATH_MAX], path[PATH_MAX + 64];
	size_t	i;

	if (snprintf(tmp, sizeof tmp, "%s/%s/.%s%u.new", l->root, parent,
	    prefix, index) >= (int)sizeof tmp ||
	    snprintf(final, sizeof final, "%s/%s/%s%u", l->root, parent, prefix,
	    index) >= (int)sizeof final)
		return cause_set(cause, "%s: %s", l->root,
		    strerror(ENAMETOOLONG));
	if (mkdir(tmp, 0755) == -1)
		return cause_set(cause, "%s: %s", tmp, strerror(errno));
	for (i = 0; files[i][0] != NULL; i++) {
		snprintf(path, sizeof path, "%s/%s", tmp, files[i][0]);
		if (put_file(path, files[i][1], cause) == -1)
			goto fail;
	}
	if (rename(tmp, final) == -1) {
		cause_set(cause, "%s: %s", final, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	rmtree(tmp, NULL);
	return -1;
}

static int
tree_add_cpu(struct local *l, unsigned n, bool online, char **cause)
{
	const char *const files[][2] = {
		{ "online", online ? "1\n" : "0\n" },
		{ NULL, NULL }
	};

	return tree_add_dir(l, CPU_DIR, "cpu", n, files, cause);
}

static int
tree_add_block(struct local *l, unsigned n, bool online, char **cause)
{
	char	phys[32];
	const char *const files[][2] = {
		{ "state", online ? "online\n" : "offline\n" },
		{ "phys_index", phys },
		{ NULL, NULL }
	};

	snprintf(phys, sizeof phys, "%08x\n", n);
	return tree_add_dir(l, MEM_DIR, "memory", n, files, cause);
}

static void
tree_remove(struct local *l, const char *parent, const char *prefix,
    unsigned index)
{
	char	path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s/%s%u", l->root, parent, prefix,
	    index);
	rmtree(path, NULL);
}

/* MemTotal is the memory given: the fake kernel onlines what it gets. */
static int
tree_meminfo(struct local *l, uint64_t memory, char **cause)
{
	char	buf[128];

	snprintf(buf, sizeof buf, "MemTotal:       %8" PRIu64 " kB\n",
	    memory / 1024);
	return tree_put(l, "proc/meminfo", buf, cause);
}

static uint64_t
blocks_for(uint64_t memory)
{
	return (memory + LOCAL_BLOCK_SIZE - 1) / LOCAL_BLOCK_SIZE;
}

/* A random version 4 UUID, as the kernel's boot_id, into buf. */
static void
make_uuid(char *buf, size_t len)
{
	uint8_t		b[16];
	uint64_t	x;
	size_t		got = 0;
	ssize_t		r;

	while (got < sizeof b) {
		r = getrandom(b + got, sizeof b - got, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			/* No entropy source: still different each boot. */
			for (x = splitmix64(clock_wall_ns() ^ (uint64_t)getpid());
			    got < sizeof b; got++, x = splitmix64(x))
				b[got] = (uint8_t)x;
			break;
		}
		got += (size_t)r;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6],
	    b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/*
 * The partition at boot: CPUs 0..boot-1 and the blocks of memory_boot
 * online, no present/online list files (the agent then reads the cpuN
 * folders, and its own writes to cpuN/online show), a new boot_id.
 */
static int
tree_build(struct local *l, char **cause)
{
	char		 buf[PATH_MAX], uuid[40];
	unsigned	 i;

	if (rmtree(l->root, cause) == -1)
		return -1;
	snprintf(buf, sizeof buf, "%s/" CPU_DIR, l->root);
	if (mkdirs(buf, cause) == -1)
		return -1;
	snprintf(buf, sizeof buf, "%s/" MEM_DIR, l->root);
	if (mkdirs(buf, cause) == -1)
		return -1;
	snprintf(buf, sizeof buf, "%s/proc/sys/kernel/random", l->root);
	if (mkdirs(buf, cause) == -1)
		return -1;
	if (l->cpus_max > 1)
		snprintf(buf, sizeof buf, "0-%u\n", l->cpus_max - 1);
	else
		snprintf(buf, sizeof buf, "0\n");
	if (tree_put(l, CPU_DIR "/possible", buf, cause) == -1)
		return -1;
	for (i = 0; i < l->cpus_boot; i++)
		if (tree_add_cpu(l, i, true, cause) == -1)
			return -1;
	snprintf(buf, sizeof buf, "%llx\n", (unsigned long long)LOCAL_BLOCK_SIZE);
	if (tree_put(l, MEM_DIR "/block_size_bytes", buf, cause) == -1)
		return -1;
	l->blocks = (unsigned)blocks_for(l->memory_boot);
	for (i = 0; i < l->blocks; i++)
		if (tree_add_block(l, i, true, cause) == -1)
			return -1;
	if (tree_meminfo(l, l->memory_boot, cause) == -1)
		return -1;
	make_uuid(uuid, sizeof uuid);
	snprintf(buf, sizeof buf, "%s\n", uuid);
	return tree_put(l, "proc/sys/kernel/random/boot_id", buf, cause);
}

/* The host CPUs of virtual CPUs 0..n-1. */
static void
host_set(struct local *l, unsigned n, cpu_set_t *set)
{
	unsigned	i;

	CPU_ZERO(set);
	for (i = 0; i < n; i++)
		CPU_SET(l->host_cpus[i % l->nhost], set);
}

/* uevents */

static void
uevent_flush(struct local *l)
{
	struct local_uevent	*u;
	ssize_t			 r;

	while ((u = TAILQ_FIRST(&l->uevents)) != NULL) {
		r = send(l->uevent_fd, u->msg, u->len, MSG_DONTWAIT |
		    MSG_NOSIGNAL);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* The agent's queue is full (or it is frozen): later. */
			event_add(l->uevent_ev, NULL);
			return;
		}
		/* Sent, or the agent is gone: its exit says the rest. */
		TAILQ_REMOVE(&l->uevents, u, entry);
		free(u);
	}
}

static void
uevent_writable(evutil_socket_t fd, short what, void *arg)
{
	uevent_flush(arg);
}

static void
uevents_drop(struct local *l)
{
	struct local_uevent	*u;

	while ((u = TAILQ_FIRST(&l->uevents)) != NULL) {
		TAILQ_REMOVE(&l->uevents, u, entry);
		free(u);
	}
}

/* A kernel-format uevent ("add@/devices/...\0ACTION=add\0..."), in order. */
static int
uevent_send(struct local *l, const char *action, const char *subsystem,
    const char *prefix, unsigned index, char **cause)
{
	struct local_uevent	*u;
	char			 devpath[128], buf[LOCAL_UEVENT_MAX];
	int			 n;

	if (l->uevent_fd == -1)
		return 0;
	snprintf(devpath, sizeof devpath, "%s%u", prefix, index);
	n = snprintf(buf, sizeof buf, "%s@%s%cACTION=%s%cDEVPATH=%s%c"
	    "SUBSYSTEM=%s%cSEQNUM=%u%c", action, devpath, 0, action, 0, devpath,
	    0, subsystem, 0, ++l->seqnum, 0);
	if (n < 0 || (size_t)n >= sizeof buf)
		return cause_set(cause, "uevent for %s too long", devpath);
	if ((u = malloc(sizeof *u + (size_t)n)) == NULL)
		return cause_set(cause, "%s", strerror(ENOMEM));
	u->len = (size_t)n;
	memcpy(u->msg, buf, (size_t)n);
	TAILQ_INSERT_TAIL(&l->uevents, u, entry);
	uevent_flush(l);
	return 0;
}

/* the agent process */

/* The last lines of agent.log, for a crash's detail: a new reference. */
static json_t *
log_tail(struct local *l)
{
	char	 buf[LOCAL_LOG_TAIL_BYTES + 1], *p;
	off_t	 size;
	ssize_t	 r;
	int	 fd, lines = 0;

	if ((fd = open(l->log_path, O_RDONLY | O_CLOEXEC)) == -1)
		return json_string("");
	size = lseek(fd, 0, SEEK_END);
	if (size > LOCAL_LOG_TAIL_BYTES)
		(void)lseek(fd, size - LOCAL_LOG_TAIL_BYTES, SEEK_SET);
	else
		(void)lseek(fd, 0, SEEK_SET);
	r = read(fd, buf, LOCAL_LOG_TAIL_BYTES);
	close(fd);
	if (r <= 0)
		return json_string("");
	buf[r] = '\0';
	/* NULs would cut the string short; json wants valid UTF-8 too. */
	for (p = buf; p < buf + r; p++)
		if (*p == '\0' || (unsigned char)*p >= 0x80)
			*p = '?';
	p = buf + r;
	if (p > buf && p[-1] == '\n')
		p--;
	while (p > buf) {
		if (p[-1] == '\n' && ++lines == LOCAL_LOG_TAIL_LINES)
			break;
		p--;
	}
	return json_string(p);
}

static void
exit_describe(const siginfo_t *si, char *buf, size_t len)
{
	char	name[16];

	if (si->si_code == 0)
		snprintf(buf, len, "is gone; its exit status was reaped "
		    "elsewhere");
	else if (si->si_code == CLD_EXITED)
		snprintf(buf, len, "exited with status %d", si->si_status);
	else
		snprintf(buf, len, "killed by signal %d (%s)%s", si->si_status,
		    signal_name(si->si_status, name, sizeof name),
		    si->si_code == CLD_DUMPED ? ", core dumped" : "");
}

static void
stop_ops_finish(struct local *l, int error, const char *cause)
{
	size_t	i;

	for (i = 0; i < l->nstop; i++)
		local_done(l, l->stop_ops[i], error, cause, error ? NULL :
		    json_pack("{s:s}", "exit", l->exit_text != NULL ?
		    l->exit_text : "never started"));
	free(l->stop_ops);
	l->stop_ops = NULL;
	l->nstop = 0;
}

static int
stop_ops_add(struct local *l, backend_done_cb cb, void *arg)
{
	struct local_done	*n;

	if ((n = reallocarray(l->stop_ops, l->nstop + 1, sizeof *n)) == NULL)
		return -1;
	l->stop_ops = n;
	n[l->nstop].cb = cb;
	n[l->nstop].arg = arg;
	l->nstop++;
	return 0;
}

static void
hold_finish(struct local *l, int error, const char *cause, json_t *result)
{
	if (l->hold_ev != NULL)
		evtimer_del(l->hold_ev);
	if (!l->hold_pending) {
		json_decref(result);
		return;
	}
	l->hold_pending = false;
	local_done(l, l->hold_op, error, cause, result);
}

static void
start_finish(struct local *l, int error, const char *cause, json_t *result)
{
	if (!l->start_pending) {
		json_decref(result);
		return;
	}
	l->start_pending = false;
	local_done(l, l->start_op, error, cause, result);
}

/* Thaw the partition, for a caller that could do nothing about a failure. */
static void
thaw_anyway(struct local *l)
{
	char	*cause = NULL;

	(void)l->confine.ops->thaw(&l->confine, &cause);
	free(cause);
}

/* SIGKILL to the agent and its process group. */
static void
agent_kill(struct local *l)
{
	(void)kill(-l->pid, SIGKILL);
	(void)kill(l->pid, SIGKILL);
	/* A frozen process keeps even SIGKILL pending until thawed. */
	if (l->confined)
		thaw_anyway(l);
}

/* Stop watching fd: the event, then the descriptor; either may be unset. */
static void
watch_close(struct event **ev, int *fd)
{
	if (*ev != NULL) {
		event_free(*ev);
		*ev = NULL;
	}
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

/* Remove what start made around the process: watches, socket, cgroups. */
static void
local_release(struct local *l)
{
	char	*cause = NULL;

	watch_close(&l->exit_ev, &l->pidfd);
	watch_close(&l->exec_ev, &l->exec_fd);
	watch_close(&l->uevent_ev, &l->uevent_fd);
	uevents_drop(l);
	if (l->kill_ev != NULL)
		evtimer_del(l->kill_ev);
	if (l->hold_ev != NULL)
		evtimer_del(l->hold_ev);
	if (l->confined) {
		if (local_confine_teardown(&l->confine, &cause) == -1 &&
		    !l->freeing)
			local_event(l, BACKEND_EV_INFO, NULL, "%s", cause);
		free(cause);
		l->confined = false;
	}
	l->confine.pid = 0;
	l->pid = -1;
	l->hold = LOCAL_HOLD_NONE;
}

/* What the child's pipe says: EOF once exec succeeded, a report if not. */
static void
exec_settle(struct local *l)
{
	struct local_child_report	 r;
	const char			*what;
	ssize_t				 n;
	int				 saved;

	if (l->exec_fd == -1)
		return;
	do
		n = read(l->exec_fd, &r, sizeof r);
	while (n == -1 && errno == EINTR);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	saved = errno;
	watch_close(&l->exec_ev, &l->exec_fd);
	if (n == (ssize_t)sizeof r) {
		free(l->exec_error);
		switch (r.step) {
		case LOCAL_CHILD_CONFINE:
			what = r.index >= 0 && (size_t)r.index <
			    l->confine.ndirs && l->confine.procs[r.index] != NULL ?
			    l->confine.procs[r.index] : "the CPU affinity";
			if (asprintf(&l->exec_error, "cannot confine "
			    "hotsoak-agent: %s: %s", what,
			    strerror(r.error)) == -1)
				l->exec_error = NULL;
			break;
		case LOCAL_CHILD_STDIO:
		case LOCAL_CHILD_FDS:
			if (asprintf(&l->exec_error, "cannot set up the "
			    "descriptors of hotsoak-agent: %s",
			    strerror(r.error)) == -1)
				l->exec_error = NULL;
			break;
		default:
			if (asprintf(&l->exec_error, "cannot run %s: %s",
			    l->agent_binary, strerror(r.error)) == -1)
				l->exec_error = NULL;
			break;
		}
		/* The child exits at once: its exit finishes the start. */
		return;
	}
	if (n == -1) {
		free(l->exec_error);
		if (asprintf(&l->exec_error, "reading from the child: %s",
		    strerror(saved)) == -1)
			l->exec_error = NULL;
		return;
	}
	if (l->state != LOCAL_STARTING)
		return;
	l->state = LOCAL_RUNNING;
	start_finish(l, 0, NULL, json_pack("{s:i, s:s, s:i, s:I, s:s, s:s}",
	    "pid", (int)l->pid, "confinement", l->confine.ops->name,
	    "cpus", (int)l->cpus_given, "memory", (json_int_t)l->memory_given,
	    "root", l->root, "log", l->log_path));
}

static void
exec_readable(evutil_socket_t fd, short what, void *arg)
{
	struct local	*l = arg;

	exec_settle(l);
	/* A report means the child is exiting; pick that up now if it has. */
	if (l->exec_error != NULL)
		local_exit_check(l);
}

/* The agent is gone (si says how): settle whoever waits, tell the run. */
static void
local_gone(struct local *l, const siginfo_t *si)
{
	enum local_state	 was = l->state;
	char			 text[96], name[16];
	pid_t			 pid = l->pid;
	int			 sig = si->si_status;

	exec_settle(l);
	if (l->state == LOCAL_RUNNING && was == LOCAL_STARTING)
		was = LOCAL_RUNNING;
	exit_describe(si, text, sizeof text);
	free(l->exit_text);
	l->exit_text = strdup(text);
	if (l->hold_pending)
		hold_finish(l, -1, "hotsoak-agent exited", NULL);
	local_release(l);
	l->state = LOCAL_GONE;
	switch (was) {
	case LOCAL_STARTING:
		if (l->exec_error != NULL)
			start_finish(l, -1, l->exec_error, NULL);
		else {
			char	*cause = NULL;

			cause_set(&cause, "hotsoak-agent %s before it ran", text);
			start_finish(l, -1, cause, NULL);
			free(cause);
		}
		break;
	case LOCAL_STOPPING:
		stop_ops_finish(l, 0, NULL);
		break;
	case LOCAL_RUNNING:
		if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED)
			local_event(l, BACKEND_EV_CRASH, json_pack("{s:i, s:s,"
			    " s:b, s:i, s:o}", "signal", sig, "name",
			    signal_name(sig, name, sizeof name), "core_dumped",
			    si->si_code == CLD_DUMPED, "pid", (int)pid,
			    "log_tail", log_tail(l)),
			    "hotsoak-agent was killed by signal %d (%s)", sig,
			    signal_name(sig, name, sizeof name));
		else if (si->si_code == 0)
			local_event(l, BACKEND_EV_ERROR, json_pack("{s:i, s:o}",
			    "pid", (int)pid, "log_tail", log_tail(l)),
			    "hotsoak-agent %s", text);
		else if (sig != 0)
			local_event(l, BACKEND_EV_ERROR, json_pack("{s:i, s:i,"
			    " s:o}", "status", sig, "pid", (int)pid, "log_tail",
			    log_tail(l)), "hotsoak-agent exited with status %d",
			    sig);
		else
			local_event(l, BACKEND_EV_EXITED, json_pack("{s:i, s:i}",
			    "status", 0, "pid", (int)pid),
			    "hotsoak-agent exited with status 0");
		break;
	case LOCAL_CREATED:
	case LOCAL_GONE:
		break;
	}
	free(l->exec_error);
	l->exec_error = NULL;
}

/* Reap the agent if it has exited; rearm the poll when it has not. */
static void
local_exit_check(struct local *l)
{
	siginfo_t	si;
	struct timeval	tv = { 0, LOCAL_EXIT_POLL_MS * 1000 };

	if (l->pid <= 0)
		return;
	memset(&si, 0, sizeof si);
	/* Look first, reap after: the zombie keeps its group id from reuse. */
	if (waitid(P_PID, (id_t)l->pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    -1) {
		if (errno == EINTR)
			goto again;
		/*
		 * Reaped by someone else (a waitpid(-1), SIGCHLD ignored):
		 * gone, how is unknown (si_code 0).
		 */
		memset(&si, 0, sizeof si);
		local_gone(l, &si);
		return;
	}
	if (si.si_pid == 0)
		goto again;
	(void)kill(-l->pid, SIGKILL);
	memset(&si, 0, sizeof si);
	while (waitid(P_PID, (id_t)l->pid, &si, WEXITED | WNOHANG) == -1 &&
	    errno == EINTR)
		;
	local_gone(l, &si);
	return;
again:
	if (l->exit_ev != NULL)
		event_add(l->exit_ev, l->pidfd == -1 ? &tv : NULL);
}

static void
exit_ready(evutil_socket_t fd, short what, void *arg)
{
	local_exit_check(arg);
}

/* The daemon's pid, for the child's parent-death check. */
static pid_t	local_parent;

/*
 * The forked child: confine itself, take the log as stdout and stderr,
 * keep only the uevent descriptor, exec. Async-signal-safe calls only.
 */
static void __attribute__((noreturn))
child_exec(const struct local *l, int errfd, int ufd, int logfd, int nullfd,
    char *const argv[])
{
	struct local_child_report	r;
	struct sigaction		sa;
	sigset_t			none;
	int				sig, i;

	memset(&r, 0, sizeof r);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)setpgid(0, 0);
	/*
	 * The partition dies with the daemon that drives it: a killed hotsoakd
	 * must not leave agents behind that nobody will ever stop. The check
	 * after it covers a daemon that died before the prctl.
	 */
	r.step = LOCAL_CHILD_CONFINE;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != local_parent)
		goto fail;
	if (local_confine_enter(&l->confine, &r.index) == -1) {
		r.step = LOCAL_CHILD_CONFINE;
		goto fail;
	}
	r.step = LOCAL_CHILD_STDIO;
	if (dup2(nullfd, 0) == -1 || dup2(logfd, 1) == -1 ||
	    dup2(logfd, 2) == -1)
		goto fail;
	/* Whatever else the daemon has open stays with it. */
	r.step = LOCAL_CHILD_FDS;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == -1)
#endif
		for (i = 3; i < 65536; i++)
			(void)fcntl(i, F_SETFD, FD_CLOEXEC);
	if (fcntl(ufd, F_SETFD, 0) == -1)
		goto fail;
	r.step = LOCAL_CHILD_EXEC;
	execv(argv[0], argv);
fail:
	r.error = errno;
	(void)!write(errfd, &r, sizeof r);
	_exit(127);
}

/* fd itself when above 2, else a copy that is: 0-2 become the child's stdio. */
static int
fd_high(int fd)
{
	int	nfd;

	if (fd == -1 || fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

static int
local_spawn(struct local *l, char **cause)
{
	/* execv wants char *: writable copies of the option names. */
	static char	 o_channel[] = "--channel", o_token[] = "--token-file";
	static char	 o_root[] = "--root", o_kmsg[] = "--kmsg", none[] = "none";
	static char	 o_uevent[] = "--uevent-fd";
	char		 fdarg[16], *argv[16];
	int		 ep[2] = { -1, -1 }, sv[2] = { -1, -1 };
	int		 logfd = -1, nullfd = -1, n = 0, saved;
	struct timeval	 tv = { 0, LOCAL_EXIT_POLL_MS * 1000 };
	pid_t		 pid;

	if (pipe2(ep, O_CLOEXEC) == -1)
		return cause_set(cause, "pipe: %s", strerror(errno));
	ep[0] = fd_high(ep[0]);
	ep[1] = fd_high(ep[1]);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == -1) {
		cause_set(cause, "socketpair: %s", strerror(errno));
		goto fail;
	}
	sv[0] = fd_high(sv[0]);
	sv[1] = fd_high(sv[1]);
	logfd = fd_high(open(l->log_path, O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC, 0644));
	nullfd = fd_high(open("/dev/null", O_RDONLY | O_CLOEXEC));
	if (ep[0] == -1 || ep[1] == -1 || sv[0] == -1 || sv[1] == -1 ||
	    logfd == -1 || nullfd == -1) {
		cause_set(cause, "%s: %s", logfd == -1 ? l->log_path :
		    "descriptors", strerror(errno));
		goto fail;
	}
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(ep[0], F_SETFL, O_NONBLOCK) == -1) {
		cause_set(cause, "fcntl: %s", strerror(errno));
		goto fail;
	}
	snprintf(fdarg, sizeof fdarg, "%d", sv[1]);
	argv[n++] = l->agent_binary;
	argv[n++] = o_channel;
	argv[n++] = l->channel;
	if (l->token_file != NULL) {
		argv[n++] = o_token;
		argv[n++] = l->token_file;
	}
	argv[n++] = o_root;
	argv[n++] = l->root;
	/* The host's kernel log is not the partition's. */
	argv[n++] = o_kmsg;
	argv[n++] = none;
	argv[n++] = o_uevent;
	argv[n++] = fdarg;
	argv[n] = NULL;

	local_parent = getpid();
	if ((pid = fork()) == -1) {
		cause_set(cause, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		child_exec(l, ep[1], sv[1], logfd, nullfd, argv);
	/* Both sides set the group, so it is there whichever runs first. */
	(void)setpgid(pid, pid);
	close(ep[1]);
	close(sv[1]);
	close(logfd);
	close(nullfd);
	l->pid = pid;
	l->confine.pid = pid;
	l->exec_fd = ep[0];
	l->uevent_fd = sv[0];
	l->seqnum = 0;
	l->exec_ev = event_new(l->base, l->exec_fd, EV_READ | EV_PERSIST,
	    exec_readable, l);
	l->uevent_ev = event_new(l->base, l->uevent_fd, EV_WRITE,
	    uevent_writable, l);
	/* Only this child, never a waitpid(-1): 64 runs share the daemon. */
#ifdef SYS_pidfd_open
	l->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	if (l->pidfd != -1)
		l->exit_ev = event_new(l->base, l->pidfd, EV_READ, exit_ready, l);
	else
		l->exit_ev = evtimer_new(l->base, exit_ready, l);
	if (l->exec_ev == NULL || l->uevent_ev == NULL || l->exit_ev == NULL) {
		saved = ENOMEM;
		(void)kill(-pid, SIGKILL);
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		local_release(l);
		return cause_set(cause, "%s", strerror(saved));
	}
	event_add(l->exec_ev, NULL);
	event_add(l->exit_ev, l->pidfd != -1 ? NULL : &tv);
	return 0;
fail:
	saved = errno;
	if (ep[0] != -1)
		close(ep[0]);
	if (ep[1] != -1)
		close(ep[1]);
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	if (logfd != -1)
		close(logfd);
	if (nullfd != -1)
		close(nullfd);
	errno = saved;
	return -1;
}

/* the ops */

static const char *
not_running(struct local *l)
{
	switch (l->state) {
	case LOCAL_CREATED:
		return "the partition was not started";
	case LOCAL_STARTING:
		return "the partition is still starting";
	case LOCAL_STOPPING:
		return "the partition is stopping";
	case LOCAL_GONE:
		return "hotsoak-agent is not running";
	case LOCAL_RUNNING:
		break;
	}
	return NULL;
}

/* The caller frees the result with backend_free, or *cause on NULL. */
static struct backend *
local_create(const struct backend_env *env, char **cause)
{
	const struct plan_target	*t = &env->plan->target;
	struct local			*l;
	cpu_set_t			 allowed;
	unsigned			 i;

	if (env->base == NULL || env->run_dir == NULL ||
	    env->agent_channel == NULL || env->agent_binary == NULL) {
		cause_set(cause, "local: the run gave no %s", env->base == NULL ?
		    "event base" : env->run_dir == NULL ? "run folder" :
		    env->agent_channel == NULL ? "agent channel" :
		    "hotsoak-agent binary");
		return NULL;
	}
	if (t->cpus_boot == 0 || t->cpus_max < t->cpus_boot ||
	    t->memory_boot == 0 || t->memory_max < t->memory_boot) {
		cause_set(cause, "local: the target needs 1 <= cpus.boot <= "
		    "cpus.max and 0 < memory.boot <= memory.max");
		return NULL;
	}
	if (sched_getaffinity(0, sizeof allowed, &allowed) == -1) {
		cause_set(cause, "sched_getaffinity: %s", strerror(errno));
		return NULL;
	}
	if ((l = calloc(1, sizeof *l)) == NULL) {
		cause_set(cause, "%s", strerror(ENOMEM));
		return NULL;
	}
	l->backend.ops = &backend_local;
	l->base = env->base;
	l->hooks = env->hooks;
	l->run_id = env->run_id;
	l->cgroup = t->local.cgroup;
	l->cpus_boot = t->cpus_boot;
	l->cpus_max = t->cpus_max;
	l->memory_boot = t->memory_boot;
	l->memory_max = t->memory_max;
	l->cpus_given = t->cpus_boot;
	l->memory_given = t->memory_boot;
	l->state = LOCAL_CREATED;
	l->pid = -1;
	l->pidfd = l->exec_fd = l->uevent_fd = -1;
	TAILQ_INIT(&l->deliveries);
	TAILQ_INIT(&l->uevents);
	if ((l->host_cpus = calloc((size_t)CPU_COUNT(&allowed),
	    sizeof *l->host_cpus)) == NULL)
		goto oom;
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &allowed))
			l->host_cpus[l->nhost++] = (int)i;
	if ((l->run_dir = strdup(env->run_dir)) == NULL ||
	    (l->agent_binary = strdup(env->agent_binary)) == NULL ||
	    (l->channel = strdup(env->agent_channel)) == NULL ||
	    (env->token_file != NULL &&
	    (l->token_file = strdup(env->token_file)) == NULL) ||
	    asprintf(&l->root, "%s/root", env->run_dir) == -1 ||
	    asprintf(&l->io_path, "%s/disk.img", env->run_dir) == -1 ||
	    asprintf(&l->log_path, "%s/agent.log", env->run_dir) == -1 ||
	    asprintf(&l->cgroup_name, "hotsoak-run-%" PRId64 "-%ld",
	    env->run_id, (long)getpid()) == -1)
		goto oom;
	if ((l->deliver_ev = event_new(l->base, -1, 0, local_deliver_cb, l)) ==
	    NULL || (l->kill_ev = evtimer_new(l->base, kill_timeout, l)) ==
	    NULL || (l->hold_ev = evtimer_new(l->base, hold_poll, l)) == NULL)
		goto oom;
	return &l->backend;
oom:
	cause_set(cause, "%s", strerror(ENOMEM));
	backend_local.free(&l->backend);
	return NULL;
}

static void
local_start(struct backend *b, backend_done_cb cb, void *arg)
{
	struct local	*l = to_local(b);
	char		*cause = NULL, *skipped = NULL, hosts[1024];
	cpu_set_t	 cpus;
	json_t		*detail;
	size_t		 i;

	if (l->freeing) {
		local_fail(l, cb, arg, "cancelled");
		return;
	}
	if (l->state != LOCAL_CREATED && l->state != LOCAL_GONE) {
		local_fail(l, cb, arg, l->state == LOCAL_STOPPING ?
		    "the partition is stopping" : "the partition was started "
		    "already");
		return;
	}
	/* A start after a stop is a new boot: the boot's CPUs and memory. */
	l->cpus_given = l->cpus_boot;
	l->memory_given = l->memory_boot;
	free(l->exit_text);
	l->exit_text = NULL;
	if (tree_build(l, &cause) == -1)
		goto fail;
	host_set(l, l->cpus_given, &cpus);
	if (local_confine_setup(&l->confine, l->cgroup, l->cgroup_name, &cpus,
	    l->memory_given, &skipped, &cause) == -1)
		goto fail;
	l->confined = true;
	if (local_spawn(l, &cause) == -1) {
		local_release(l);
		goto fail;
	}
	l->state = LOCAL_STARTING;
	l->start_pending = true;
	l->start_op.cb = cb;
	l->start_op.arg = arg;

	local_cpulist(&cpus, hosts, sizeof hosts);
	detail = json_pack("{s:s, s:[], s:s, s:o, s:s*}", "strategy",
	    l->confine.ops->name, "cgroups", "host_cpus", hosts,
	    "memory_limit", l->confine.memory != 0 ?
	    json_integer((json_int_t)l->confine.memory) : json_null(),
	    "passed_over", skipped);
	for (i = 0; detail != NULL && i < l->confine.ndirs; i++)
		json_array_append_new(json_object_get(detail, "cgroups"),
		    json_string(l->confine.dirs[i]));
	local_event(l, BACKEND_EV_INFO, detail, "confinement: %s",
	    l->confine.ops->what);
	free(skipped);
	return;
fail:
	l->state = LOCAL_GONE;
	local_fail(l, cb, arg, cause);
	free(cause);
	free(skipped);
}

static void
kill_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct local	*l = arg;
	struct timeval	 tv = { LOCAL_STOP_GRACE_MS / 1000,
			    (LOCAL_STOP_GRACE_MS % 1000) * 1000 };
	char		*cause = NULL;

	if (l->state != LOCAL_STOPPING || l->pid <= 0)
		return;
	if (l->kill_stage == 0) {
		l->kill_stage = 1;
		agent_kill(l);
		evtimer_add(l->kill_ev, &tv);
		return;
	}
	cause_set(&cause, "hotsoak-agent (pid %ld) is still there %d ms after "
	    "SIGKILL", (long)l->pid, LOCAL_STOP_GRACE_MS);
	stop_ops_finish(l, -1, cause);
	free(cause);
}

static void
local_stop(struct backend *b, backend_done_cb cb, void *arg)
{
	struct local	*l = to_local(b);
	struct timeval	 tv = { LOCAL_STOP_GRACE_MS / 1000,
			    (LOCAL_STOP_GRACE_MS % 1000) * 1000 };
	int		 sig = SIGTERM;

	if (l->freeing) {
		local_fail(l, cb, arg, "cancelled");
		return;
	}
	switch (l->state) {
	case LOCAL_CREATED:
	case LOCAL_GONE:
		local_ok(l, cb, arg, json_pack("{s:s}", "exit",
		    l->exit_text != NULL ? l->exit_text : "never started"));
		return;
	case LOCAL_STOPPING:
		if (stop_ops_add(l, cb, arg) == -1)
			local_fail(l, cb, arg, strerror(ENOMEM));
		return;
	case LOCAL_STARTING:
		start_finish(l, -1, "stopped before hotsoak-agent started",
		    NULL);
		/* Not exec'd yet: nothing of the agent's to flush. */
		sig = SIGKILL;
		break;
	case LOCAL_RUNNING:
		break;
	}
	if (stop_ops_add(l, cb, arg) == -1) {
		local_fail(l, cb, arg, strerror(ENOMEM));
		return;
	}
	l->state = LOCAL_STOPPING;
	if (l->hold_pending)
		hold_finish(l, -1, "the partition is stopping", NULL);
	/* Signals wait while the partition is held: let it go first. */
	if (l->hold != LOCAL_HOLD_NONE)
		thaw_anyway(l);
	l->hold = LOCAL_HOLD_NONE;
	(void)kill(l->pid, sig);
	l->kill_stage = 0;
	evtimer_add(l->kill_ev, &tv);
}

/* The hot adds: add's outcome for n to cb, through the event loop. */
static void
local_add(struct backend *b,
    int (*add)(struct local *, uint64_t, json_t **, char **), uint64_t n,
    backend_done_cb cb, void *arg)
{
	struct local	*l = to_local(b);
	json_t		*result = NULL;
	char		*cause = NULL;

	if (l->freeing)
		local_fail(l, cb, arg, "cancelled");
	else if (add(l, n, &result, &cause) == -1)
		local_fail(l, cb, arg, cause);
	else
		local_ok(l, cb, arg, result);
	free(cause);
}

static int
cpu_add(struct local *l, uint64_t n, json_t **result, char **cause)
{
	cpu_set_t	 old, wide;
	unsigned	 count, i, made;
	char		 hosts[1024];
	json_t		*added;

	if (not_running(l) != NULL)
		return cause_set(cause, "%s", not_running(l));
	if (n == 0)
		return cause_set(cause, "nothing to add: 0 CPUs");
	if (n > l->cpus_max - l->cpus_given)
		return cause_set(cause, "cpus.max is %u: %u CPUs given, "
		    "%" PRIu64 " more asked", l->cpus_max, l->cpus_given, n);
	count = (unsigned)n;
	/* The CPUs first, so the agent can use them once it hears of them. */
	old = l->confine.cpus;
	host_set(l, l->cpus_given + count, &wide);
	if (l->confine.ops->set_cpus(&l->confine, &wide, cause) == -1)
		return -1;
	for (made = 0; made < count; made++) {
		/* Present and offline, as a hot-added CPU is before onlining. */
		if (tree_add_cpu(l, l->cpus_given + made, false, cause) == -1) {
			for (i = 0; i < made; i++)
				tree_remove(l, CPU_DIR, "cpu", l->cpus_given + i);
			(void)l->confine.ops->set_cpus(&l->confine, &old, NULL);
			return -1;
		}
	}
	if ((added = json_array()) == NULL)
		return cause_set(cause, "%s", strerror(ENOMEM));
	for (i = 0; i < count; i++) {
		json_array_append_new(added, json_integer(l->cpus_given + i));
		if (uevent_send(l, "add", "cpu", "/devices/system/cpu/cpu",
		    l->cpus_given + i, cause) == -1) {
			l->cpus_given += count;
			json_decref(added);
			return -1;
		}
	}
	l->cpus_given += count;
	local_cpulist(&wide, hosts, sizeof hosts);
	*result = json_pack("{s:o, s:i, s:s}", "added", added, "cpus",
	    (int)l->cpus_given, "host_cpus", hosts);
	return 0;
}

static void
local_hot_add_cpu(struct backend *b, unsigned count, backend_done_cb cb,
    void *arg)
{
	local_add(b, cpu_add, count, cb, arg);
}

static int
memory_add(struct local *l, uint64_t bytes, json_t **result, char **cause)
{
	char		 a[UNITS_FORMAT_MAX], g[UNITS_FORMAT_MAX];
	char		 m[UNITS_FORMAT_MAX];
	uint64_t	 given, old_limit = l->confine.memory;
	unsigned	 blocks, i;
	json_t		*added;

	if (not_running(l) != NULL)
		return cause_set(cause, "%s", not_running(l));
	if (bytes == 0)
		return cause_set(cause, "nothing to add: 0 bytes");
	if (bytes > l->memory_max - l->memory_given) {
		units_format_size(l->memory_max, m, sizeof m);
		units_format_size(l->memory_given, g, sizeof g);
		units_format_size(bytes, a, sizeof a);
		return cause_set(cause, "memory.max is %s: %s given, %s more "
		    "asked", m, g, a);
	}
	given = l->memory_given + bytes;
	/*
	 * sysfs shows whole blocks even when what was given ends inside one;
	 * the limit and MemTotal say the exact amount.
	 */
	blocks = (unsigned)blocks_for(given);
	/* The room first, so what the agent onlines it can also fill. */
	if (l->confine.ops->set_memory(&l->confine, given, cause) == -1)
		return -1;
	for (i = l->blocks; i < blocks; i++) {
		if (tree_add_block(l, i, false, cause) == -1)
			goto undo;
	}
	if (tree_meminfo(l, given, cause) == -1)
		goto undo;
	if ((added = json_array()) == NULL) {
		cause_set(cause, "%s", strerror(ENOMEM));
		goto undo;
	}
	for (i = l->blocks; i < blocks; i++)
		json_array_append_new(added, json_integer(i));
	l->memory_given = given;
	i = l->blocks;
	l->blocks = blocks;
	for (; i < blocks; i++) {
		if (uevent_send(l, "add", "memory",
		    "/devices/system/memory/memory", i, cause) == -1) {
			json_decref(added);
			return -1;
		}
	}
	*result = json_pack("{s:o, s:I, s:o}", "added_blocks", added,
	    "memory", (json_int_t)given, "limit", l->confine.memory != 0 ?
	    json_integer((json_int_t)l->confine.memory) : json_null());
	return 0;
undo:
	while (i-- > l->blocks)
		tree_remove(l, MEM_DIR, "memory", i);
	(void)tree_meminfo(l, l->memory_given, NULL);
	(void)l->confine.ops->set_memory(&l->confine, old_limit, NULL);
	return -1;
}

static void
local_hot_add_memory(struct backend *b, uint64_t bytes, backend_done_cb cb,
    void *arg)
{
	local_add(b, memory_add, bytes, cb, arg);
}

/* replace: freeze and thaw, polled on a timer */

static void
hold_check(struct local *l)
{
	struct timeval	 tv = { 0, LOCAL_HOLD_POLL_MS * 1000 };
	bool		 freezing = l->hold == LOCAL_HOLD_FREEZING;
	uint64_t	 now = clock_mono_ns();
	char		*cause = NULL;
	int		 r;

	r = l->confine.ops->settled(&l->confine, freezing, &cause);
	if (r == 1) {
		if (freezing) {
			l->hold = LOCAL_HOLD_FROZEN;
			l->frozen_ns = now;
			hold_finish(l, 0, NULL, json_pack("{s:s, s:I}", "method",
			    l->confine.ops->method, "took_ms",
			    (json_int_t)((now - l->hold_asked_ns) / MS_NS)));
		} else {
			l->hold = LOCAL_HOLD_NONE;
			hold_finish(l, 0, NULL, json_pack("{s:I}", "held_ms",
			    (json_int_t)((now - l->frozen_ns) / MS_NS)));
		}
		return;
	}
	if (r == 0 && now - l->hold_asked_ns < LOCAL_HOLD_MAX_MS * MS_NS) {
		evtimer_add(l->hold_ev, &tv);
		return;
	}
	if (r == 0)
		cause_set(&cause, "%s: the partition is not %s after %d ms",
		    l->confine.ops->method, freezing ? "frozen" : "thawed",
		    LOCAL_HOLD_MAX_MS);
	if (freezing) {
		/* Half frozen is no state to leave a partition in. */
		thaw_anyway(l);
		l->hold = LOCAL_HOLD_NONE;
	} else
		l->hold = LOCAL_HOLD_FROZEN;
	hold_finish(l, -1, cause, NULL);
	free(cause);
}

static void
hold_poll(evutil_socket_t fd, short what, void *arg)
{
	struct local	*l = arg;

	if (l->hold == LOCAL_HOLD_FREEZING || l->hold == LOCAL_HOLD_THAWING)
		hold_check(l);
}

static void
hold_begin(struct local *l, bool freeze, backend_done_cb cb, void *arg)
{
	char	*cause = NULL;
	int	 r;

	if (l->freeing) {
		local_fail(l, cb, arg, "cancelled");
		return;
	}
	if (not_running(l) != NULL) {
		local_fail(l, cb, arg, not_running(l));
		return;
	}
	if (l->hold == LOCAL_HOLD_FREEZING || l->hold == LOCAL_HOLD_THAWING) {
		local_fail(l, cb, arg, "a replace is under way");
		return;
	}
	if (freeze != (l->hold == LOCAL_HOLD_NONE)) {
		local_fail(l, cb, arg, freeze ? "the partition is held already" :
		    "the partition is not held");
		return;
	}
	r = freeze ? l->confine.ops->freeze(&l->confine, &cause) :
	    l->confine.ops->thaw(&l->confine, &cause);
	if (r == -1) {
		local_fail(l, cb, arg, cause);
		free(cause);
		return;
	}
	l->hold = freeze ? LOCAL_HOLD_FREEZING : LOCAL_HOLD_THAWING;
	l->hold_asked_ns = clock_mono_ns();
	l->hold_pending = true;
	l->hold_op.cb = cb;
	l->hold_op.arg = arg;
	hold_check(l);
}

static void
local_replace_begin(struct backend *b, backend_done_cb cb, void *arg)
{
	hold_begin(to_local(b), true, cb, arg);
}

static void
local_replace_end(struct backend *b, backend_done_cb cb, void *arg)
{
	hold_begin(to_local(b), false, cb, arg);
}

static int
local_topology(struct backend *b, struct backend_topology *t, char **cause)
{
	struct local	*l = to_local(b);

	t->cpus = l->cpus_given;
	t->memory = l->memory_given;
	return 0;
}

static const char *
local_io_path(struct backend *b)
{
	return to_local(b)->io_path;
}

/* free: waits a bounded time for the SIGKILLed agent, nothing else. */
static void
reap_blocking(struct local *l)
{
	struct pollfd	pfd;
	siginfo_t	si;
	uint64_t	end = clock_mono_ns() + LOCAL_REAP_MAX_MS * MS_NS;
	struct timespec	nap = { 0, 10 * 1000000L };

	for (;;) {
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)l->pid, &si, WEXITED | WNOHANG) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (si.si_pid != 0 || clock_mono_ns() >= end)
			return;
		if (l->pidfd != -1) {
			pfd.fd = l->pidfd;
			pfd.events = POLLIN;
			(void)poll(&pfd, 1, 10);
		} else
			(void)nanosleep(&nap, NULL);
	}
}

static void
local_free(struct backend *b)
{
	struct local		*l = to_local(b);
	struct local_delivery	*d;
	struct local_done	 done;
	size_t			 i;

	if (l == NULL)
		return;
	l->freeing = true;
	/* Whoever waits hears "cancelled" now; they may not call back in. */
	if (l->start_pending) {
		l->start_pending = false;
		l->start_op.cb(l->start_op.arg, -1, "cancelled", NULL);
	}
	if (l->hold_pending) {
		l->hold_pending = false;
		l->hold_op.cb(l->hold_op.arg, -1, "cancelled", NULL);
	}
	for (i = 0; i < l->nstop; i++) {
		done = l->stop_ops[i];
		done.cb(done.arg, -1, "cancelled", NULL);
	}
	free(l->stop_ops);
	l->stop_ops = NULL;
	l->nstop = 0;
	while ((d = TAILQ_FIRST(&l->deliveries)) != NULL) {
		TAILQ_REMOVE(&l->deliveries, d, entry);
		if (d->kind == LOCAL_DELIVER_DONE)
			d->done.cb(d->done.arg, -1, "cancelled", NULL);
		json_decref(d->result);
		free(d->cause);
		free(d->title);
		free(d);
	}
	if (l->pid > 0) {
		agent_kill(l);
		reap_blocking(l);
	}
	local_release(l);
	if (l->deliver_ev != NULL)
		event_free(l->deliver_ev);
	if (l->kill_ev != NULL)
		event_free(l->kill_ev);
	if (l->hold_ev != NULL)
		event_free(l->hold_ev);
	free(l->exec_error);
	free(l->exit_text);
	free(l->host_cpus);
	free(l->run_dir);
	free(l->root);
	free(l->io_path);
	free(l->log_path);
	free(l->agent_binary);
	free(l->channel);
	free(l->token_file);
	free(l->cgroup_name);
	free(l);
}

const struct backend_ops backend_local = {
	.name = "local",
	.create = local_create,
	.start = local_start,
	.stop = local_stop,
	.hot_add_cpu = local_hot_add_cpu,
	.hot_add_memory = local_hot_add_memory,
	.replace_begin = local_replace_begin,
	.replace_end = local_replace_end,
	.topology = local_topology,
	.io_path = local_io_path,
	.free = local_free,
};
