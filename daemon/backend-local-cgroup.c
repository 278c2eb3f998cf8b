/* backend-local-cgroup.c: the local backend's confinement strategies: cgroup
 * v2, cgroup v1 (cpuset, memory, freezer) and none (affinity and signals). */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend-local.h"
#include "hotsoak/plan.h"
#include "hotsoak/util.h"

#define CGROUP_ROOT		"/sys/fs/cgroup"
#define CGROUP_SMALL_FILE	4096	/* what we read of a cgroup file */
#define CGROUP_RMDIR_TRIES	5	/* an emptied cgroup can lag its last exit */
#define CGROUP_RMDIR_NAP_NS	2000000

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC	0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif

/* The v1 hierarchies a partition needs, in dirs[] order. */
enum v1_hier {
	V1_CPUSET,		/* which host CPUs the partition has */
	V1_MEMORY,		/* how much memory */
	V1_FREEZER,		/* the replace outage */
	V1_COUNT		/* number of hierarchies, not one */
};

static const char *const v1_names[V1_COUNT] = {
	[V1_CPUSET] = "cpuset",
	[V1_MEMORY] = "memory",
	[V1_FREEZER] = "freezer",
};

void
local_cpulist(const cpu_set_t *set, char *buf, size_t len)
{
	size_t	off = 0;
	int	i, j, n;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, set))
			continue;
		for (j = i; j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, set); j++)
			;
		if (i == j)
			n = snprintf(buf + off, len - off, "%s%d",
			    off > 0 ? "," : "", i);
		else
			n = snprintf(buf + off, len - off, "%s%d-%d",
			    off > 0 ? "," : "", i, j);
		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = '\0';
			return;
		}
		off += (size_t)n;
		i = j;
	}
}

/*
 * One write(2): cgroup files act on each write, so it must not be split.
 * errno is kept on -1 for callers that explain some of them.
 */
static int
put(const char *path, const char *value, char **cause)
{
	size_t	len = strlen(value);
	ssize_t	r;
	int	fd, saved;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
		saved = errno;
		cause_set(cause, "%s: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	do
		r = write(fd, value, len);
	while (r == -1 && errno == EINTR);
	saved = r == -1 ? errno : EIO;
	close(fd);
	if (r == -1 || (size_t)r != len) {
		cause_set(cause, "%s: writing `%s`: %s", path, value,
		    r == -1 ? strerror(saved) : "short write");
		errno = saved;
		return -1;
	}
	return 0;
}

/* The start of a small file, NUL-terminated, trailing newline dropped. */
static int
get(const char *path, char *buf, size_t len, char **cause)
{
	ssize_t	r;
	int	fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	do
		r = read(fd, buf, len - 1);
	while (r == -1 && errno == EINTR);
	saved = errno;
	close(fd);
	if (r == -1)
		return cause_set(cause, "%s: %s", path, strerror(saved));
	buf[r] = '\0';
	if (r > 0 && buf[r - 1] == '\n')
		buf[r - 1] = '\0';
	return 0;
}

/* Whether word is one of the blank-separated words of list. */
static bool
has_word(const char *list, const char *word)
{
	size_t		 wl = strlen(word);
	const char	*p = list;

	while ((p = strstr(p, word)) != NULL) {
		if ((p == list || p[-1] == ' ' || p[-1] == ',') &&
		    (p[wl] == '\0' || p[wl] == ' ' || p[wl] == ',' ||
		    p[wl] == '\n'))
			return true;
		p += wl;
	}
	return false;
}

/*
 * The daemon's own cgroup in the v1 hierarchy of controller, or the v2
 * one when controller is NULL ("0::/path"). Allocated; the caller frees.
 */
static char *
own_cgroup(const char *controller, char **cause)
{
	FILE	*f;
	char	 line[4096], *list, *path, *out = NULL;

	if ((f = fopen("/proc/self/cgroup", "re")) == NULL) {
		cause_set(cause, "/proc/self/cgroup: %s", strerror(errno));
		return NULL;
	}
	while (out == NULL && fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((list = strchr(line, ':')) == NULL ||
		    (path = strchr(list + 1, ':')) == NULL)
			continue;
		*list++ = '\0';
		*path++ = '\0';
		if (controller == NULL ? strcmp(line, "0") == 0 &&
		    *list == '\0' : has_word(list, controller))
			out = strdup(path);
	}
	fclose(f);
	if (out == NULL)
		cause_set(cause, "/proc/self/cgroup names no %s%s cgroup",
		    controller != NULL ? controller : "v2",
		    controller != NULL ? " v1" : "");
	return out;
}

/* Whether dir is the root of a cgroup (magic) file system. */
static int
is_mount(const char *dir, long magic, char **cause)
{
	struct statfs	sfs;

	if (statfs(dir, &sfs) == -1)
		return cause_set(cause, "%s: %s", dir, strerror(errno));
	if ((long)sfs.f_type != magic)
		return cause_set(cause, "%s is not a %s mount", dir,
		    magic == CGROUP2_SUPER_MAGIC ? "cgroup2" : "cgroup");
	return 0;
}

/* a/b, allocated (the caller frees); NULL when out of memory. */
static char *
join(const char *a, const char *b)
{
	char	*s;

	/* The daemon's own cgroup "/" must not make "//". */
	if (asprintf(&s, "%s%s%s", a, a[strlen(a) - 1] == '/' || b[0] == '/' ?
	    "" : "/", b) == -1)
		return NULL;
	return s;
}

/*
 * mkdir a cgroup, taking over an empty one a crashed daemon with the
 * same pid left; adds it to c->dirs. The path is stolen.
 */
static int
make_group(struct local_confine *c, char *dir, char **cause)
{
	if (dir == NULL)
		return cause_set(cause, "%s", strerror(ENOMEM));
	if (mkdir(dir, 0755) == -1 && (errno != EEXIST || rmdir(dir) == -1 ||
	    mkdir(dir, 0755) == -1)) {
		cause_set(cause, "cannot make cgroup %s: %s", dir,
		    strerror(errno));
		free(dir);
		return -1;
	}
	c->dirs[c->ndirs++] = dir;
	return 0;
}

/* dir/name, allocated; NULL when out of memory. */
static char *
file_in(const char *dir, const char *name)
{
	return join(dir, name);
}

/* get of dir/name. */
static int
get_in(const char *dir, const char *name, char *buf, size_t len,
    char **cause)
{
	char	*f;
	int	 rc;

	if ((f = file_in(dir, name)) == NULL)
		return cause_set(cause, "%s", strerror(ENOMEM));
	rc = get(f, buf, len, cause);
	free(f);
	return rc;
}

/* put to dir/name; errno is kept on -1, as put keeps it. */
static int
put_in(const char *dir, const char *name, const char *value, char **cause)
{
	char	*f;
	int	 rc, saved;

	if ((f = file_in(dir, name)) == NULL) {
		cause_set(cause, "%s", strerror(ENOMEM));
		errno = ENOMEM;
		return -1;
	}
	rc = put(f, value, cause);
	saved = errno;
	free(f);
	errno = saved;
	return rc;
}

static void
nap_ns(long ns)
{
	struct timespec	ts = { 0, ns };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
local_confine_teardown(struct local_confine *c, char **cause)
{
	size_t	i;
	int	tries, rc = 0;

	for (i = c->ndirs; i-- > 0;) {
		for (tries = 0; rmdir(c->dirs[i]) == -1; tries++) {
			if (errno == ENOENT)
				break;
			if (errno != EBUSY || tries + 1 == CGROUP_RMDIR_TRIES) {
				if (rc == 0)
					rc = cause_set(cause, "cgroup %s left "
					    "behind: %s", c->dirs[i],
					    strerror(errno));
				break;
			}
			nap_ns(CGROUP_RMDIR_NAP_NS);
		}
		free(c->dirs[i]);
		c->dirs[i] = NULL;
	}
	c->ndirs = 0;
	for (i = 0; c->procs[i] != NULL; i++) {
		free(c->procs[i]);
		c->procs[i] = NULL;
	}
	free(c->cpus_file);
	free(c->memory_file);
	free(c->freeze_file);
	free(c->events_file);
	c->cpus_file = c->memory_file = c->freeze_file = c->events_file = NULL;
	return rc;
}

static int
add_procs(struct local_confine *c, const char *dir)
{
	size_t	n;

	for (n = 0; c->procs[n] != NULL; n++)
		;
	return (c->procs[n] = file_in(dir, "cgroup.procs")) == NULL ? -1 : 0;
}

static int
group_set_cpus(struct local_confine *c, const cpu_set_t *cpus, char **cause)
{
	char	list[1024];

	local_cpulist(cpus, list, sizeof list);
	if (put(c->cpus_file, list, cause) == -1)
		return -1;
	c->cpus = *cpus;
	return 0;
}

/* unlimited is how the hierarchy spells no limit, for memory 0. */
static int
group_set_memory(struct local_confine *c, uint64_t memory,
    const char *unlimited, char **cause)
{
	char	v[32];

	if (memory == 0)
		snprintf(v, sizeof v, "%s", unlimited);
	else
		snprintf(v, sizeof v, "%" PRIu64, memory);
	if (put(c->memory_file, v, cause) == -1)
		return -1;
	c->memory = memory;
	return 0;
}

/*
 * The last of a setup, once the cgroups and their files are there: the
 * memory nodes into the cpuset at dir, the CPUs, the memory limit, and
 * whether the freezer will take a write.
 */
static int
group_start(struct local_confine *c, const char *dir, const char *mems,
    const cpu_set_t *cpus, uint64_t memory,
    int (*set_memory)(struct local_confine *, uint64_t, char **),
    char **cause)
{
	if (put_in(dir, "cpuset.mems", mems, cause) == -1 ||
	    group_set_cpus(c, cpus, cause) == -1 ||
	    set_memory(c, memory, cause) == -1)
		return -1;
	if (access(c->freeze_file, W_OK) == -1)
		return cause_set(cause, "%s: %s", c->freeze_file,
		    strerror(errno));
	return 0;
}

/* cgroup v2 */

static int
v2_set_memory(struct local_confine *c, uint64_t memory, char **cause)
{
	return group_set_memory(c, memory, "max", cause);
}

static int
v2_setup(struct local_confine *c, const char *name, const cpu_set_t *cpus,
    uint64_t memory, char **cause)
{
	char	 buf[CGROUP_SMALL_FILE], *own = NULL, *parent = NULL;
	char	 mems[CGROUP_SMALL_FILE];
	int	 rc = -1;

	if (is_mount(CGROUP_ROOT, CGROUP2_SUPER_MAGIC, cause) == -1)
		return -1;
	if (get(CGROUP_ROOT "/cgroup.controllers", buf, sizeof buf,
	    cause) == -1)
		return -1;
	if (!has_word(buf, "cpuset") || !has_word(buf, "memory"))
		return cause_set(cause, CGROUP_ROOT "/cgroup.controllers has "
		    "`%s`, not both cpuset and memory", buf);
	if ((own = own_cgroup(NULL, cause)) == NULL)
		return -1;
	if ((parent = join(CGROUP_ROOT, own)) == NULL)
		goto oom;
	if (get_in(parent, "cgroup.controllers", buf, sizeof buf, cause) == -1)
		goto out;
	if (!has_word(buf, "cpuset") || !has_word(buf, "memory")) {
		cause_set(cause, "cpuset and memory are not delegated to %s "
		    "(it has `%s`)", parent, buf);
		goto out;
	}
	if (get_in(parent, "cgroup.subtree_control", buf, sizeof buf,
	    cause) == -1)
		goto out;
	/*
	 * A cgroup holding processes (the daemon's, unless it is the root)
	 * cannot hand controllers to children: EBUSY, and v1 or none then.
	 */
	if ((!has_word(buf, "cpuset") || !has_word(buf, "memory")) &&
	    put_in(parent, "cgroup.subtree_control", "+cpuset +memory",
	    cause) == -1) {
		if (errno == EBUSY) {
			free(*cause);
			cause_set(cause, "%s holds hotsoakd itself, and cgroup "
			    "v2 lets a cgroup with processes (other than the "
			    "root) give no controllers to children: run "
			    "hotsoakd in the root cgroup, or use cgroup v1 or "
			    "none", parent);
		}
		goto out;
	}
	if (get_in(parent, "cpuset.mems.effective", mems, sizeof mems,
	    cause) == -1)
		goto out;
	if (make_group(c, join(parent, name), cause) == -1)
		goto out;
	if ((c->cpus_file = file_in(c->dirs[0], "cpuset.cpus")) == NULL ||
	    (c->memory_file = file_in(c->dirs[0], "memory.max")) == NULL ||
	    (c->freeze_file = file_in(c->dirs[0], "cgroup.freeze")) == NULL ||
	    (c->events_file = file_in(c->dirs[0], "cgroup.events")) == NULL ||
	    add_procs(c, c->dirs[0]) == -1)
		goto oom;
	rc = group_start(c, c->dirs[0], mems, cpus, memory, v2_set_memory,
	    cause);
	goto out;
oom:
	cause_set(cause, "%s", strerror(ENOMEM));
out:
	free(parent);
	free(own);
	return rc;
}

static int
v2_freeze(struct local_confine *c, char **cause)
{
	return put(c->freeze_file, "1", cause);
}

static int
v2_thaw(struct local_confine *c, char **cause)
{
	return put(c->freeze_file, "0", cause);
}

static int
v2_settled(struct local_confine *c, bool frozen, char **cause)
{
	char	 buf[CGROUP_SMALL_FILE], *p;

	if (get(c->events_file, buf, sizeof buf, cause) == -1)
		return -1;
	for (p = buf; p != NULL; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, "frozen ", 7) == 0)
			return (p[7] == '1') == frozen;
	}
	return cause_set(cause, "%s has no `frozen` line", c->events_file);
}

const struct local_confine_ops local_confine_v2 = {
	.name = "cgroup v2",
	.what = "cgroup v2 cpuset+memory+freeze",
	.method = "freezer v2",
	.setup = v2_setup,
	.set_cpus = group_set_cpus,
	.set_memory = v2_set_memory,
	.freeze = v2_freeze,
	.thaw = v2_thaw,
	.settled = v2_settled,
};

/* cgroup v1 */

static int
v1_set_memory(struct local_confine *c, uint64_t memory, char **cause)
{
	/* -1 is v1's "no limit". */
	return group_set_memory(c, memory, "-1", cause);
}

static int
v1_setup(struct local_confine *c, const char *name, const cpu_set_t *cpus,
    uint64_t memory, char **cause)
{
	char	 mount[PATH_MAX], mems[CGROUP_SMALL_FILE], *own, *parent;
	char	*parents[V1_COUNT] = { NULL };
	int	 i, rc = -1;

	/* Check every hierarchy before making anything. */
	for (i = 0; i < V1_COUNT; i++) {
		snprintf(mount, sizeof mount, CGROUP_ROOT "/%s", v1_names[i]);
		if (is_mount(mount, CGROUP_SUPER_MAGIC, cause) == -1)
			goto out;
		if ((own = own_cgroup(v1_names[i], cause)) == NULL)
			goto out;
		parent = join(mount, own);
		free(own);
		if ((parents[i] = parent) == NULL)
			goto oom;
	}
	/* A new cpuset has no CPUs and no memory nodes: no process can join it. */
	if (get_in(parents[V1_CPUSET], "cpuset.mems", mems, sizeof mems,
	    cause) == -1)
		goto out;
	if (mems[0] == '\0' && get_in(parents[V1_CPUSET],
	    "cpuset.effective_mems", mems, sizeof mems, cause) == -1)
		goto out;
	for (i = 0; i < V1_COUNT; i++) {
		if (make_group(c, join(parents[i], name), cause) == -1)
			goto out;
		if (add_procs(c, c->dirs[i]) == -1)
			goto oom;
	}
	if ((c->cpus_file = file_in(c->dirs[V1_CPUSET], "cpuset.cpus")) == NULL ||
	    (c->memory_file = file_in(c->dirs[V1_MEMORY],
	    "memory.limit_in_bytes")) == NULL ||
	    (c->freeze_file = file_in(c->dirs[V1_FREEZER], "freezer.state")) ==
	    NULL)
		goto oom;
	rc = group_start(c, c->dirs[V1_CPUSET], mems, cpus, memory,
	    v1_set_memory, cause);
	goto out;
oom:
	rc = cause_set(cause, "%s", strerror(ENOMEM));
out:
	for (i = 0; i < V1_COUNT; i++)
		free(parents[i]);
	return rc;
}

static int
v1_freeze(struct local_confine *c, char **cause)
{
	return put(c->freeze_file, "FROZEN", cause);
}

static int
v1_thaw(struct local_confine *c, char **cause)
{
	return put(c->freeze_file, "THAWED", cause);
}

static int
v1_settled(struct local_confine *c, bool frozen, char **cause)
{
	char	buf[64];

	if (get(c->freeze_file, buf, sizeof buf, cause) == -1)
		return -1;
	return strcmp(buf, frozen ? "FROZEN" : "THAWED") == 0;
}

const struct local_confine_ops local_confine_v1 = {
	.name = "cgroup v1",
	.what = "cgroup v1 cpuset+memory+freezer",
	.method = "freezer v1",
	.setup = v1_setup,
	.set_cpus = group_set_cpus,
	.set_memory = v1_set_memory,
	.freeze = v1_freeze,
	.thaw = v1_thaw,
	.settled = v1_settled,
};

/* none: affinity and signals */

static int
none_setup(struct local_confine *c, const char *name, const cpu_set_t *cpus,
    uint64_t memory, char **cause)
{
	c->affinity = true;
	c->cpus = *cpus;
	c->memory = 0;
	return 0;
}

/* Calls cb for every thread of the agent; -1 when it is gone. */
static int
each_thread(struct local_confine *c, int (*cb)(pid_t, void *), void *arg,
    char **cause)
{
	char		 path[64];
	DIR		*d;
	struct dirent	*de;
	int		 rc = 0;

	snprintf(path, sizeof path, "/proc/%ld/task", (long)c->pid);
	if ((d = opendir(path)) == NULL)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		rc = cb((pid_t)strtol(de->d_name, NULL, 10), arg);
	}
	closedir(d);
	return rc;
}

struct none_cpus {
	const cpu_set_t	*old, *new;
};

/*
 * Threads that still have the partition's whole set follow it; a worker
 * the agent pinned to one CPU keeps its pin.
 */
static int
none_thread_cpus(pid_t tid, void *arg)
{
	struct none_cpus	*nc = arg;
	cpu_set_t		 now;

	if (sched_getaffinity(tid, sizeof now, &now) == -1)
		return 0;	/* gone meanwhile */
	if (CPU_EQUAL(&now, nc->old))
		(void)sched_setaffinity(tid, sizeof *nc->new, nc->new);
	return 0;
}

static int
none_set_cpus(struct local_confine *c, const cpu_set_t *cpus, char **cause)
{
	struct none_cpus	nc = { &c->cpus, cpus };

	if (c->pid > 0 && each_thread(c, none_thread_cpus, &nc, cause) == -1)
		return -1;
	c->cpus = *cpus;
	return 0;
}

static int
none_set_memory(struct local_confine *c, uint64_t memory, char **cause)
{
	return 0;
}

static int
none_freeze(struct local_confine *c, char **cause)
{
	if (kill(-c->pid, SIGSTOP) == -1)
		return cause_set(cause, "SIGSTOP to process group %ld: %s",
		    (long)c->pid, strerror(errno));
	return 0;
}

static int
none_thaw(struct local_confine *c, char **cause)
{
	if (kill(-c->pid, SIGCONT) == -1)
		return cause_set(cause, "SIGCONT to process group %ld: %s",
		    (long)c->pid, strerror(errno));
	return 0;
}

struct none_count {
	unsigned	threads, stopped;
};

static int
none_thread_state(pid_t tid, void *arg)
{
	struct none_count	*n = arg;
	char			 path[96], buf[512], *p;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)tid);
	if (get(path, buf, sizeof buf, NULL) == -1)
		return 0;
	/* The name in parentheses may hold anything: the state follows the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return 0;
	n->threads++;
	if (p[2] == 'T' || p[2] == 't')
		n->stopped++;
	return 0;
}

static int
none_settled(struct local_confine *c, bool frozen, char **cause)
{
	struct none_count	n = { 0, 0 };

	if (each_thread(c, none_thread_state, &n, cause) == -1)
		return -1;
	if (n.threads == 0)
		return cause_set(cause, "hotsoak-agent (pid %ld) has no threads "
		    "left", (long)c->pid);
	return frozen ? n.stopped == n.threads : n.stopped == 0;
}

const struct local_confine_ops local_confine_none = {
	.name = "none",
	.what = "none: CPU affinity, SIGSTOP/SIGCONT, no memory limit",
	.method = "SIGSTOP",
	.setup = none_setup,
	.set_cpus = none_set_cpus,
	.set_memory = none_set_memory,
	.freeze = none_freeze,
	.thaw = none_thaw,
	.settled = none_settled,
};

int
local_confine_setup(struct local_confine *c, int which, const char *name,
    const cpu_set_t *cpus, uint64_t memory, char **skipped, char **cause)
{
	static const struct local_confine_ops *const order[] = {
		&local_confine_v2, &local_confine_v1, &local_confine_none
	};
	const struct local_confine_ops *ops;
	char	*why = NULL, *all = NULL, *more;
	size_t	 i;

	*skipped = NULL;
	memset(c, 0, sizeof *c);
	if (which != PLAN_CGROUP_AUTO) {
		ops = which == PLAN_CGROUP_V1 ? &local_confine_v1 :
		    which == PLAN_CGROUP_V2 ? &local_confine_v2 :
		    &local_confine_none;
		if (ops->setup(c, name, cpus, memory, &why) == -1) {
			local_confine_teardown(c, NULL);
			cause_set(cause, "%s: %s", ops->name, why != NULL ? why :
			    "?");
			free(why);
			return -1;
		}
		c->ops = ops;
		return 0;
	}
	for (i = 0; i < sizeof order / sizeof order[0]; i++) {
		if (order[i]->setup(c, name, cpus, memory, &why) == 0) {
			c->ops = order[i];
			*skipped = all;
			return 0;
		}
		local_confine_teardown(c, NULL);
		memset(c, 0, sizeof *c);
		if (asprintf(&more, "%s%s%s: %s", all != NULL ? all : "",
		    all != NULL ? "; " : "", order[i]->name,
		    why != NULL ? why : "?") == -1)
			more = NULL;
		free(all);
		free(why);
		all = more;
		why = NULL;
	}
	/* none cannot fail; here only if it could. */
	cause_set(cause, "no confinement: %s", all != NULL ? all : "?");
	free(all);
	return -1;
}

int
local_confine_enter(const struct local_confine *c, int *step)
{
	static const char	zero[] = "0";
	int			i, fd, saved;
	ssize_t			r;

	for (i = 0; c->procs[i] != NULL; i++) {
		*step = i;
		if ((fd = open(c->procs[i], O_WRONLY | O_CLOEXEC)) == -1)
			return -1;
		/* "0" is the writer itself, the one pid it knows for sure. */
		do
			r = write(fd, zero, 1);
		while (r == -1 && errno == EINTR);
		saved = errno;
		close(fd);
		if (r != 1) {
			errno = r == -1 ? saved : EIO;
			return -1;
		}
	}
	*step = i;
	if (c->affinity && sched_setaffinity(0, sizeof c->cpus, &c->cpus) == -1)
		return -1;
	return 0;
}
