/* check-backend-local.c: the local backend with the real hotsoak-agent and a
 * minimal daemon on a private unix socket: confinement, hot-add, replace
 * holds, crashes, stop and restart, and the backend table around it. */
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "hotsoak/backend.h"
#include "hotsoak/plan.h"
#include "hotsoak/proto.h"
#include "backend-local.h"

#define TOKEN		"tok-local-7e21"
#define MIB		(1024ULL * 1024)
#define BOOT_MEMORY	(256 * MIB)
#define HEARTBEAT_MS	100

/* What one backend callback said; calls counts them (exactly one is right). */
struct outcome {
	int		 calls;
	int		 error;
	char		*cause;
	json_t		*result;
};

/* The fake daemon, the backend and what they saw; one test per process. */
static struct {
	char			 dir[64];
	char			 sock[128];
	char			 channel[160];
	char			 token_file[128];
	char			 run_dir[128];
	char			 binary[PATH_MAX];
	struct plan		 plan;
	struct event_base	*base;
	struct backend		*backend;

	int			 lfd;
	struct event		*accept_ev;
	int			 cfd;
	struct event		*read_ev;
	struct proto_reader	 reader;
	json_t			*hellos;	/* every hello, in order */
	json_t			*topologies;	/* the agent's topology messages */
	unsigned		 heartbeats;
	uint64_t		 next_id;
	uint64_t		 want_re;	/* the request a call waits on */
	json_t			*answer;

	json_t			*events;	/* {event, title, detail} */
} T;

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Turns the loop for ms, whatever happens. */
static void
spin(unsigned ms)
{
	struct timeval	tv = { ms / 1000, (suseconds_t)(ms % 1000) * 1000 };

	event_base_loopexit(T.base, &tv);
	event_base_dispatch(T.base);
}

/* Turns the loop until cond holds or ms pass; whether it holds. */
static bool
spin_until(bool (*cond)(const void *), const void *arg, unsigned ms)
{
	uint64_t	end = now_ms() + ms;

	while (!cond(arg)) {
		if (now_ms() >= end)
			return false;
		spin(10);
	}
	return true;
}

/* the fake daemon */

static void
daemon_send(const char *line, size_t len)
{
	ssize_t	n;

	ck_assert_int_ne(T.cfd, -1);
	while (len > 0) {
		n = send(T.cfd, line, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		ck_assert_msg(n > 0, "send to the agent: %s", strerror(errno));
		line += n;
		len -= (size_t)n;
	}
}

static int
daemon_on_msg(void *arg, const struct proto_msg *m)
{
	char	*line;
	size_t	 len;

	switch (m->type) {
	case PROTO_HELLO:
		json_array_append(T.hellos, m->obj);
		line = proto_encode_reply(m->id, json_pack("{s:i}", "version",
		    PROTO_VERSION), &len);
		ck_assert_ptr_nonnull(line);
		daemon_send(line, len);
		free(line);
		break;
	case PROTO_HEARTBEAT:
		T.heartbeats++;
		break;
	case PROTO_REPLY:
	case PROTO_ERROR:
		if (m->re == T.want_re && T.answer == NULL)
			T.answer = json_incref(m->obj);
		break;
	case PROTO_TOPOLOGY:
		json_array_append(T.topologies, m->obj);
		/* FALLTHROUGH */
	case PROTO_REPORT:
	case PROTO_FINDING:
		line = proto_encode_reply(m->id, NULL, &len);
		ck_assert_ptr_nonnull(line);
		daemon_send(line, len);
		free(line);
		break;
	default:
		break;
	}
	return 0;
}

static int
daemon_on_bad(void *arg, const struct proto_bad *bad)
{
	ck_abort_msg("the agent sent a bad line: %s: %s", bad->code,
	    bad->detail);
	return 1;
}

static const struct proto_handler daemon_handler = {
	daemon_on_msg, daemon_on_bad
};

static void
daemon_hangup(void)
{
	if (T.read_ev != NULL)
		event_free(T.read_ev);
	T.read_ev = NULL;
	if (T.cfd != -1)
		close(T.cfd);
	T.cfd = -1;
	proto_reader_reset(&T.reader);
}

static void
daemon_readable(evutil_socket_t fd, short what, void *arg)
{
	char	buf[65536];
	ssize_t	n;

	n = read(fd, buf, sizeof buf);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		daemon_hangup();
		return;
	}
	proto_reader_feed(&T.reader, buf, (size_t)n, &daemon_handler, NULL);
}

/* A reconnecting (or restarted) agent replaces the connection. */
static void
daemon_accept(evutil_socket_t fd, short what, void *arg)
{
	int	c;

	if ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	daemon_hangup();
	T.cfd = c;
	T.read_ev = event_new(T.base, c, EV_READ | EV_PERSIST, daemon_readable,
	    NULL);
	ck_assert_ptr_nonnull(T.read_ev);
	event_add(T.read_ev, NULL);
}

static void
daemon_listen(void)
{
	struct sockaddr_un	sun;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(T.sock), sizeof sun.sun_path);
	memcpy(sun.sun_path, T.sock, strlen(T.sock));
	T.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(T.lfd, 0);
	ck_assert_int_eq(bind(T.lfd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(T.lfd, 4), 0);
	T.accept_ev = event_new(T.base, T.lfd, EV_READ | EV_PERSIST,
	    daemon_accept, NULL);
	ck_assert_ptr_nonnull(T.accept_ev);
	event_add(T.accept_ev, NULL);
}

static bool
answered(const void *arg)
{
	return T.answer != NULL;
}

/* A request of the daemon's (fields stolen); its reply, or the test fails. */
static json_t *
daemon_call(enum proto_type type, json_t *fields)
{
	json_t	*a;
	char	*line;
	size_t	 len;

	T.want_re = ++T.next_id;
	json_decref(T.answer);
	T.answer = NULL;
	line = proto_encode(type, T.want_re, 0, fields, &len);
	ck_assert_ptr_nonnull(line);
	daemon_send(line, len);
	free(line);
	ck_assert_msg(spin_until(answered, NULL, 5000), "no answer to %s",
	    proto_type_name(type));
	a = T.answer;
	T.answer = NULL;
	ck_assert_msg(strcmp(json_string_value(json_object_get(a, "type")),
	    "reply") == 0, "%s failed: %s", proto_type_name(type),
	    json_string_value(json_object_get(a, "detail")));
	return a;
}

static bool
hellos_at_least(const void *arg)
{
	return json_array_size(T.hellos) >= *(const size_t *)arg;
}

/* Waits for hello number n (from 1) and returns it (borrowed). */
static json_t *
wait_hello(size_t n)
{
	ck_assert_msg(spin_until(hellos_at_least, &n, 10000),
	    "the agent did not say hello");
	return json_array_get(T.hellos, n - 1);
}

static void
configure(void)
{
	char	disk[160];

	snprintf(disk, sizeof disk, "%s/disk.img", T.run_dir);
	json_decref(daemon_call(PROTO_CONFIGURE, json_pack("{s:{s:s, s:i, s:i,"
	    " s:i, s:b}, s:i, s:i, s:b}", "workload", "path", disk, "size",
	    1 << 20, "block_size", 4096, "workers", 1, "direct", 0,
	    "heartbeat_ms", HEARTBEAT_MS, "report_ms", 1000, "online", 1)));
}

static json_t *
topology(void)
{
	return daemon_call(PROTO_GET_TOPOLOGY, NULL);
}

static json_int_t
topo_int(json_t *t, const char *group, const char *key)
{
	json_t	*v = json_object_get(json_object_get(t, group), key);

	ck_assert_msg(json_is_integer(v), "topology %s.%s missing", group, key);
	return json_integer_value(v);
}

struct topo_want {
	const char	*group;
	const char	*key;
	json_int_t	 want;
};

static bool
topology_told(const void *arg)
{
	const struct topo_want	*w = arg;
	json_t			*m;
	size_t			 i;

	json_array_foreach(T.topologies, i, m)
		if (json_integer_value(json_object_get(json_object_get(m,
		    w->group), w->key)) == w->want)
			return true;
	return false;
}

/*
 * Whether the agent reports group.key as want on its own within ms: it
 * does at once for a uevent, and only at its next rescan (every 5 s) for
 * a change nobody told it about.
 */
static bool
topology_message(const char *group, const char *key, json_int_t want,
    unsigned ms)
{
	struct topo_want	w = { group, key, want };

	return spin_until(topology_told, &w, ms);
}

/* Polls the agent's view until group.key is want, for up to ms. */
static bool
topology_reaches(const char *group, const char *key, json_int_t want,
    unsigned ms)
{
	uint64_t	 end = now_ms() + ms;
	json_t		*t;
	json_int_t	 v;

	for (;;) {
		t = topology();
		v = topo_int(t, group, key);
		json_decref(t);
		if (v == want)
			return true;
		if (now_ms() >= end)
			return false;
		spin(50);
	}
}

/* the backend's side */

static void
on_done(void *arg, int error, const char *cause, json_t *result)
{
	struct outcome	*o = arg;

	o->calls++;
	o->error = error;
	free(o->cause);
	o->cause = cause != NULL ? strdup(cause) : NULL;
	json_decref(o->result);
	o->result = json_incref(result);
}

static void
outcome_clear(struct outcome *o)
{
	free(o->cause);
	json_decref(o->result);
	memset(o, 0, sizeof *o);
}

static bool
outcome_done(const void *arg)
{
	return ((const struct outcome *)arg)->calls > 0;
}

/* Waits for o's callback: exactly once, and error as expected. */
static void
outcome_wait(struct outcome *o, int error, unsigned ms)
{
	ck_assert_msg(spin_until(outcome_done, o, ms), "no callback");
	/* A second call would come in the turns that follow. */
	spin(20);
	ck_assert_int_eq(o->calls, 1);
	ck_assert_msg(o->error == error, "error %d (%s), wanted %d", o->error,
	    o->cause != NULL ? o->cause : "", error);
}

static void
on_event(void *arg, enum backend_event ev, const char *title, json_t *detail)
{
	json_array_append_new(T.events, json_pack("{s:s, s:s, s:o?}", "event",
	    backend_event_names[ev], "title", title, "detail", detail));
}

/* The first event named ev, or NULL (borrowed). */
static json_t *
event_find(const char *ev)
{
	json_t	*e;
	size_t	 i;

	json_array_foreach(T.events, i, e)
		if (strcmp(json_string_value(json_object_get(e, "event")), ev) ==
		    0)
			return e;
	return NULL;
}

static bool
event_seen(const void *arg)
{
	return event_find(arg) != NULL;
}

static struct backend *
create(int cgroup)
{
	struct backend_env	 env;
	char			*cause = NULL;

	T.plan.target.local.cgroup = cgroup;
	memset(&env, 0, sizeof env);
	env.base = T.base;
	env.plan = &T.plan;
	env.run_id = 42;
	env.run_dir = T.run_dir;
	env.agent_channel = T.channel;
	env.token_file = T.token_file;
	env.agent_binary = T.binary;
	env.hooks.event = on_event;
	T.backend = backend_create(&env, &cause);
	ck_assert_msg(T.backend != NULL, "backend_create: %s", cause);
	ck_assert_str_eq(backend_name(T.backend), "local");
	return T.backend;
}

/* Starts the partition and waits for the agent's hello; its pid. */
static pid_t
start(int cgroup)
{
	struct outcome	o = { 0 };
	json_t		*h;
	pid_t		 pid;

	create(cgroup);
	backend_start(T.backend, on_done, &o);
	ck_assert_int_eq(o.calls, 0);
	outcome_wait(&o, 0, 5000);
	pid = (pid_t)json_integer_value(json_object_get(o.result, "pid"));
	ck_assert_int_gt(pid, 0);
	h = wait_hello(1);
	ck_assert_str_eq(json_string_value(json_object_get(h, "token")), TOKEN);
	ck_assert_int_eq(json_integer_value(json_object_get(h, "pid")), pid);
	ck_assert_msg(spin_until(event_seen, "info", 1000),
	    "no confinement event");
	outcome_clear(&o);
	return pid;
}

static void
stop(struct outcome *o)
{
	backend_stop(T.backend, on_done, o);
	ck_assert_int_eq(o->calls, 0);
	outcome_wait(o, 0, 8000);
}

/* host facts */

/* The host CPUs of virtual CPUs 0..n-1, as a list. */
static void
host_cpus(unsigned n, char *buf, size_t len)
{
	cpu_set_t	allowed, set;
	int		cpus[CPU_SETSIZE], i, k = 0;
	unsigned	v;

	ck_assert_int_eq(sched_getaffinity(0, sizeof allowed, &allowed), 0);
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &allowed))
			cpus[k++] = i;
	CPU_ZERO(&set);
	for (v = 0; v < n; v++)
		CPU_SET(cpus[v % (unsigned)k], &set);
	local_cpulist(&set, buf, len);
}

/* A line of /proc/pid/status, the value after the tab; static buffer. */
static const char *
proc_status(pid_t pid, const char *key)
{
	static char	 value[256];
	char		 path[64], line[512];
	FILE		*f;
	size_t		 kl = strlen(key);

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	value[0] = '\0';
	if ((f = fopen(path, "re")) == NULL)
		return value;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			snprintf(value, sizeof value, "%s", line + kl + 1 +
			    strspn(line + kl + 1, " \t"));
			value[strcspn(value, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
	return value;
}

/* The first line of a file, static buffer; "<missing>" when it is not there. */
static const char *
first_line(const char *path)
{
	static char	 buf[512];
	FILE		*f;

	if ((f = fopen(path, "re")) == NULL)
		return "<missing>";
	if (fgets(buf, sizeof buf, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static bool
file_has_pid(const char *path, pid_t pid)
{
	char	 line[64];
	FILE	*f;
	bool	 found = false;

	if ((f = fopen(path, "re")) == NULL)
		return false;
	while (!found && fgets(line, sizeof line, f) != NULL)
		found = strtol(line, NULL, 10) == (long)pid;
	fclose(f);
	return found;
}

/* Whether /proc/pid/cgroup puts pid in a cgroup called name of controller's hierarchy. */
static bool
proc_cgroup_is(pid_t pid, const char *controller, const char *name)
{
	char	 path[64], line[1024], *list, *cg, *base;
	FILE	*f;
	bool	 found = false;

	snprintf(path, sizeof path, "/proc/%ld/cgroup", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return false;
	while (!found && fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((list = strchr(line, ':')) == NULL ||
		    (cg = strchr(list + 1, ':')) == NULL)
			continue;
		*cg++ = '\0';
		if (strcmp(list + 1, controller) != 0)
			continue;
		base = strrchr(cg, '/');
		found = base != NULL && strcmp(base + 1, name) == 0;
	}
	fclose(f);
	return found;
}

/* Whether this host gives cgroup v1 to root, as the confined tests need. */
static bool
have_v1(void)
{
	return geteuid() == 0 && access("/sys/fs/cgroup/cpuset/cgroup.procs",
	    W_OK) == 0 && access("/sys/fs/cgroup/memory/cgroup.procs",
	    W_OK) == 0 && access("/sys/fs/cgroup/freezer/cgroup.procs", W_OK) == 0;
}

/* The cgroups of the confinement event (borrowed). */
static json_t *
cgroups(void)
{
	json_t	*e = event_find("info");

	ck_assert_ptr_nonnull(e);
	return json_object_get(json_object_get(e, "detail"), "cgroups");
}

/* The cgroup whose path holds needle ("cpuset", "memory", "freezer"). */
static const char *
cgroup_dir(const char *needle)
{
	json_t	*d;
	size_t	 i;

	json_array_foreach(cgroups(), i, d)
		if (strstr(json_string_value(d), needle) != NULL)
			return json_string_value(d);
	ck_abort_msg("no %s cgroup", needle);
	return NULL;
}

static const char *
cgroup_file(const char *needle, const char *file)
{
	static char	path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", cgroup_dir(needle), file);
	return path;
}

static bool
process_gone(pid_t pid)
{
	return kill(pid, 0) == -1 && errno == ESRCH;
}

/* fixtures */

static void
write_file(const char *path, const char *content)
{
	FILE	*f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(content, f);
	fclose(f);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/*
 * One folder for the case, made and removed by the runner process, so it
 * goes even when a failed test skips its teardown; one per test in it.
 */
static char	case_dir[32];

/*
 * A failed test ends in _exit and Check kills its process group, but the
 * agent has a group of its own: adopted by the runner (a subreaper), it is
 * thawed, killed by pid, reaped and its cgroups removed here.
 */
static void
stray_remove(pid_t pid)
{
	char	 path[64], line[1024], dirs[8][PATH_MAX], *list, *cg;
	char	 state[PATH_MAX + 16];
	FILE	*f;
	int	 n = 0, i, fd;

	snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return;
	if (fgets(line, sizeof line, f) == NULL ||
	    strncmp(line, "hotsoak-agent", 13) != 0) {
		fclose(f);
		return;
	}
	fclose(f);
	snprintf(path, sizeof path, "/proc/%ld/cgroup", (long)pid);
	if ((f = fopen(path, "re")) != NULL) {
		while (n < 8 && fgets(line, sizeof line, f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if ((list = strchr(line, ':')) == NULL ||
			    (cg = strchr(list + 1, ':')) == NULL ||
			    strstr(cg, "/hotsoak-run-") == NULL)
				continue;
			*cg++ = '\0';
			snprintf(dirs[n++], sizeof dirs[0], "/sys/fs/cgroup/%s%s",
			    list + 1, cg);
		}
		fclose(f);
	}
	for (i = 0; i < n; i++) {
		snprintf(state, sizeof state, "%.4000s/freezer.state", dirs[i]);
		if ((fd = open(state, O_WRONLY | O_CLOEXEC)) != -1) {
			(void)!write(fd, "THAWED", 6);
			close(fd);
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	for (i = 0; i < n; i++)
		rmdir(dirs[i]);
}

static void
strays_remove(void)
{
	char		 path[300], buf[512], *p;
	DIR		*d;
	struct dirent	*de;
	FILE		*f;
	long		 ppid;

	if ((d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		p = fgets(buf, sizeof buf, f);
		fclose(f);
		/* pid (comm) state ppid: the name may hold anything. */
		if (p == NULL || (p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %*c %ld", &ppid) != 1 || ppid != getpid())
			continue;
		stray_remove((pid_t)strtol(de->d_name, NULL, 10));
	}
	closedir(d);
}

static void
case_setup(void)
{
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	snprintf(case_dir, sizeof case_dir, "/tmp/cbl.XXXXXX");
	if (mkdtemp(case_dir) == NULL)
		ck_abort_msg("mkdtemp: %s", strerror(errno));
}

static void
case_teardown(void)
{
	strays_remove();
	nftw(case_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
setup(void)
{
	const char	*top = getenv("top_builddir");

	memset(&T, 0, sizeof T);
	T.lfd = T.cfd = -1;
	snprintf(T.dir, sizeof T.dir, "%s/t.XXXXXX", case_dir);
	ck_assert_ptr_nonnull(mkdtemp(T.dir));
	snprintf(T.sock, sizeof T.sock, "%s/agent.sock", T.dir);
	snprintf(T.channel, sizeof T.channel, "unix:%s", T.sock);
	snprintf(T.token_file, sizeof T.token_file, "%s/token", T.dir);
	snprintf(T.run_dir, sizeof T.run_dir, "%s/run", T.dir);
	if (top == NULL)
		top = getenv("top_srcdir");
	snprintf(T.binary, sizeof T.binary, "%s/hotsoak-agent",
	    top != NULL ? top : ".");
	ck_assert_msg(access(T.binary, X_OK) == 0, "%s: %s (set top_builddir)",
	    T.binary, strerror(errno));
	ck_assert_int_eq(mkdir(T.run_dir, 0700), 0);
	write_file(T.token_file, TOKEN "\n");

	T.plan.target.backend = PLAN_BACKEND_LOCAL;
	T.plan.target.cpus_boot = 1;
	T.plan.target.cpus_max = 2;
	T.plan.target.memory_boot = BOOT_MEMORY;
	T.plan.target.memory_max = BOOT_MEMORY + 128 * MIB;

	T.base = event_base_new();
	ck_assert_ptr_nonnull(T.base);
	T.hellos = json_array();
	T.topologies = json_array();
	T.events = json_array();
	proto_reader_init(&T.reader, PROTO_SIDE_DAEMON);
	daemon_listen();
}

static void
teardown(void)
{
	backend_free(T.backend);
	T.backend = NULL;
	daemon_hangup();
	if (T.accept_ev != NULL)
		event_free(T.accept_ev);
	if (T.lfd != -1)
		close(T.lfd);
	proto_reader_free(&T.reader);
	json_decref(T.hellos);
	json_decref(T.topologies);
	json_decref(T.events);
	json_decref(T.answer);
	event_base_free(T.base);
	nftw(T.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* tests */

START_TEST(start_confines_the_agent)
{
	char		 want[256], boot_id[128], path[PATH_MAX];
	json_t		*e, *t, *h;
	const char	*cg;
	pid_t		 pid;
	size_t		 i;

	if (!have_v1()) {
		fprintf(stderr, "start_confines_the_agent: no cgroup v1 here, "
		    "skipped\n");
		return;
	}
	pid = start(PLAN_CGROUP_V1);
	e = event_find("info");
	ck_assert_str_eq(json_string_value(json_object_get(e, "title")),
	    "confinement: cgroup v1 cpuset+memory+freezer");
	ck_assert_int_eq(json_array_size(cgroups()), 3);

	/* In every cgroup, named after the run and the daemon. */
	snprintf(want, sizeof want, "hotsoak-run-42-%ld", (long)getpid());
	for (i = 0; i < json_array_size(cgroups()); i++) {
		cg = json_string_value(json_array_get(cgroups(), i));
		ck_assert_msg(strstr(cg, want) != NULL, "cgroup %s", cg);
		snprintf(path, sizeof path, "%s/cgroup.procs", cg);
		ck_assert_msg(file_has_pid(path, pid), "%d not in %s", pid, path);
	}
	ck_assert_msg(proc_cgroup_is(pid, "cpuset", want), "not in the cpuset");
	ck_assert_msg(proc_cgroup_is(pid, "memory", want), "not in the memcg");
	ck_assert_msg(proc_cgroup_is(pid, "freezer", want), "not in the freezer");
	host_cpus(1, want, sizeof want);
	ck_assert_str_eq(proc_status(pid, "Cpus_allowed_list"), want);
	ck_assert_str_eq(first_line(cgroup_file("cpuset", "cpuset.cpus")), want);
	snprintf(want, sizeof want, "%llu", (unsigned long long)BOOT_MEMORY);
	ck_assert_str_eq(first_line(cgroup_file("memory",
	    "memory.limit_in_bytes")), want);

	/* The agent sees the boot partition, and a fresh boot_id. */
	configure();
	t = topology();
	ck_assert_int_eq(topo_int(t, "cpus", "online"), 1);
	ck_assert_int_eq(topo_int(t, "cpus", "possible"), 2);
	ck_assert_int_eq(topo_int(t, "memory", "blocks_online"), 2);
	ck_assert_int_eq(topo_int(t, "memory", "block_size"), 128 * MIB);
	ck_assert_int_eq(topo_int(t, "memory", "total_kb"), BOOT_MEMORY / 1024);
	json_decref(t);
	h = wait_hello(1);
	snprintf(path, sizeof path, "%s/root/proc/sys/kernel/random/boot_id",
	    T.run_dir);
	snprintf(boot_id, sizeof boot_id, "%s", first_line(path));
	ck_assert_uint_eq(strlen(boot_id), 36);
	ck_assert_str_eq(json_string_value(json_object_get(h, "boot_id")),
	    boot_id);
}
END_TEST

START_TEST(hot_add_cpu_widens_and_onlines)
{
	struct outcome	 o = { 0 };
	struct backend_topology bt;
	char		 want[256], *cause = NULL;
	pid_t		 pid;
	bool		 v1 = have_v1();

	pid = start(v1 ? PLAN_CGROUP_V1 : PLAN_CGROUP_NONE);
	configure();
	backend_hot_add_cpu(T.backend, 1, on_done, &o);
	ck_assert_int_eq(o.calls, 0);
	outcome_wait(&o, 0, 2000);
	ck_assert_int_eq(json_integer_value(json_object_get(o.result, "cpus")),
	    2);
	outcome_clear(&o);
	ck_assert_msg(topology_message("cpus", "online", 2, 2000),
	    "the agent did not online the new CPU at the uevent");
	ck_assert(topology_reaches("cpus", "online", 2, 1000));
	host_cpus(2, want, sizeof want);
	if (v1)
		ck_assert_str_eq(first_line(cgroup_file("cpuset",
		    "cpuset.cpus")), want);
	ck_assert_str_eq(proc_status(pid, "Cpus_allowed_list"), want);
	ck_assert_int_eq(backend_topology(T.backend, &bt, &cause), 0);
	ck_assert_uint_eq(bt.cpus, 2);

	/* Past cpus.max. */
	backend_hot_add_cpu(T.backend, 1, on_done, &o);
	outcome_wait(&o, -1, 2000);
	ck_assert_msg(strstr(o.cause, "cpus.max is 2") != NULL, "%s", o.cause);
	outcome_clear(&o);
}
END_TEST

START_TEST(hot_add_memory_raises_the_limit)
{
	struct outcome	 o = { 0 };
	struct backend_topology bt;
	char		 want[64], *cause = NULL;
	json_t		*t;
	bool		 v1 = have_v1();

	start(v1 ? PLAN_CGROUP_V1 : PLAN_CGROUP_NONE);
	configure();
	backend_hot_add_memory(T.backend, 128 * MIB, on_done, &o);
	ck_assert_int_eq(o.calls, 0);
	outcome_wait(&o, 0, 2000);
	outcome_clear(&o);
	if (v1) {
		snprintf(want, sizeof want, "%llu", (unsigned long long)
		    (BOOT_MEMORY + 128 * MIB));
		ck_assert_str_eq(first_line(cgroup_file("memory",
		    "memory.limit_in_bytes")), want);
	}
	ck_assert_msg(topology_message("memory", "blocks_online", 3, 2000),
	    "the agent did not online the new block at the uevent");
	ck_assert(topology_reaches("memory", "blocks_online", 3, 1000));
	t = topology();
	ck_assert_int_eq(topo_int(t, "memory", "total_kb"),
	    (BOOT_MEMORY + 128 * MIB) / 1024);
	json_decref(t);
	ck_assert_int_eq(backend_topology(T.backend, &bt, &cause), 0);
	ck_assert_uint_eq(bt.memory, BOOT_MEMORY + 128 * MIB);

	backend_hot_add_memory(T.backend, 128 * MIB, on_done, &o);
	outcome_wait(&o, -1, 2000);
	ck_assert_msg(strstr(o.cause, "memory.max is 384MiB") != NULL, "%s",
	    o.cause);
	outcome_clear(&o);
}
END_TEST

/* Holds the partition, sees it held and silent, lets it go, hears it again. */
static void
replace_cycle(const char *method, pid_t pid)
{
	struct outcome	o = { 0 };
	unsigned	before;
	json_int_t	held;

	configure();
	before = T.heartbeats;
	spin(3 * HEARTBEAT_MS);
	ck_assert_uint_gt(T.heartbeats, before);

	backend_replace_begin(T.backend, on_done, &o);
	ck_assert_int_eq(o.calls, 0);
	outcome_wait(&o, 0, 6000);
	ck_assert_str_eq(json_string_value(json_object_get(o.result, "method")),
	    method);
	ck_assert(json_is_integer(json_object_get(o.result, "took_ms")));
	outcome_clear(&o);
	if (strcmp(method, "freezer v1") == 0)
		ck_assert_str_eq(first_line(cgroup_file("freezer",
		    "freezer.state")), "FROZEN");
	else
		ck_assert_msg(strncmp(proc_status(pid, "State"), "T", 1) == 0,
		    "state %s", proc_status(pid, "State"));
	/* What was on its way has come; after that, silence. */
	spin(2 * HEARTBEAT_MS);
	before = T.heartbeats;
	spin(6 * HEARTBEAT_MS);
	ck_assert_uint_eq(T.heartbeats, before);

	/* Held twice is refused. */
	backend_replace_begin(T.backend, on_done, &o);
	outcome_wait(&o, -1, 1000);
	outcome_clear(&o);

	backend_replace_end(T.backend, on_done, &o);
	outcome_wait(&o, 0, 6000);
	held = json_integer_value(json_object_get(o.result, "held_ms"));
	ck_assert_int_ge(held, 6 * HEARTBEAT_MS);
	outcome_clear(&o);
	ck_assert_msg(strncmp(proc_status(pid, "State"), "T", 1) != 0,
	    "still stopped");
	before = T.heartbeats;
	spin(5 * HEARTBEAT_MS);
	ck_assert_uint_gt(T.heartbeats, before);

	backend_replace_end(T.backend, on_done, &o);
	outcome_wait(&o, -1, 1000);
	ck_assert_str_eq(o.cause, "the partition is not held");
	outcome_clear(&o);
}

START_TEST(replace_freezes_cgroup)
{
	pid_t	pid;

	if (!have_v1()) {
		fprintf(stderr, "replace_freezes_cgroup: no cgroup v1 here, "
		    "skipped\n");
		return;
	}
	pid = start(PLAN_CGROUP_V1);
	replace_cycle("freezer v1", pid);
}
END_TEST

START_TEST(none_uses_affinity_and_signals)
{
	struct outcome	 o = { 0 };
	json_t		*e;
	char		 want[256];
	pid_t		 pid;

	pid = start(PLAN_CGROUP_NONE);
	e = event_find("info");
	ck_assert_msg(strstr(json_string_value(json_object_get(e, "title")),
	    "confinement: none") != NULL, "%s",
	    json_string_value(json_object_get(e, "title")));
	ck_assert_msg(strstr(json_string_value(json_object_get(e, "title")),
	    "no memory limit") != NULL, "the limit that is not there is unsaid");
	ck_assert_int_eq(json_array_size(cgroups()), 0);
	host_cpus(1, want, sizeof want);
	ck_assert_str_eq(proc_status(pid, "Cpus_allowed_list"), want);

	replace_cycle("SIGSTOP", pid);

	backend_hot_add_cpu(T.backend, 1, on_done, &o);
	outcome_wait(&o, 0, 2000);
	outcome_clear(&o);
	ck_assert_msg(topology_message("cpus", "online", 2, 2000),
	    "the agent did not online the new CPU at the uevent");
	host_cpus(2, want, sizeof want);
	ck_assert_str_eq(proc_status(pid, "Cpus_allowed_list"), want);
}
END_TEST

START_TEST(sigkill_is_a_crash)
{
	struct outcome	 o = { 0 };
	json_t		*e, *d;
	uint64_t	 t0;
	pid_t		 pid;

	pid = start(have_v1() ? PLAN_CGROUP_V1 : PLAN_CGROUP_NONE);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	t0 = now_ms();
	ck_assert_msg(spin_until(event_seen, "crash", 1000),
	    "no crash event within 1 s");
	ck_assert_uint_le(now_ms() - t0, 1000);
	e = event_find("crash");
	ck_assert_str_eq(json_string_value(json_object_get(e, "title")),
	    "hotsoak-agent was killed by signal 9 (SIGKILL)");
	d = json_object_get(e, "detail");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "signal")), 9);
	ck_assert_str_eq(json_string_value(json_object_get(d, "name")),
	    "SIGKILL");
	ck_assert(json_is_false(json_object_get(d, "core_dumped")));
	ck_assert_int_eq(json_integer_value(json_object_get(d, "pid")), pid);
	ck_assert(json_is_string(json_object_get(d, "log_tail")));
	ck_assert(process_gone(pid));

	/* Hot-adds to a dead partition fail; stop is still fine. */
	backend_hot_add_cpu(T.backend, 1, on_done, &o);
	outcome_wait(&o, -1, 1000);
	outcome_clear(&o);
	stop(&o);
	ck_assert_str_eq(json_string_value(json_object_get(o.result, "exit")),
	    "killed by signal 9 (SIGKILL)");
	outcome_clear(&o);
}
END_TEST

START_TEST(exit_status_is_an_error)
{
	struct outcome	 o = { 0 };
	json_t		*e, *d;
	const char	*tail;

	/* A channel the agent refuses: it says why and exits 2. */
	snprintf(T.channel, sizeof T.channel, "bogus");
	create(PLAN_CGROUP_NONE);
	backend_start(T.backend, on_done, &o);
	outcome_wait(&o, 0, 5000);
	outcome_clear(&o);
	ck_assert_msg(spin_until(event_seen, "error", 5000), "no error event");
	e = event_find("error");
	ck_assert_str_eq(json_string_value(json_object_get(e, "title")),
	    "hotsoak-agent exited with status 2");
	d = json_object_get(e, "detail");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "status")), 2);
	tail = json_string_value(json_object_get(d, "log_tail"));
	ck_assert_msg(tail != NULL && strstr(tail, "channel `bogus`") != NULL,
	    "log tail `%s`", tail != NULL ? tail : "");
	ck_assert_ptr_null(event_find("crash"));
	ck_assert_ptr_null(event_find("exited"));
}
END_TEST

START_TEST(stop_removes_everything)
{
	struct outcome	 o = { 0 };
	char		 dirs[3][PATH_MAX];
	struct stat	 st;
	size_t		 i, n = 0;
	pid_t		 pid;
	bool		 v1 = have_v1();

	pid = start(v1 ? PLAN_CGROUP_V1 : PLAN_CGROUP_NONE);
	for (i = 0; i < json_array_size(cgroups()) && i < 3; i++, n++)
		snprintf(dirs[i], sizeof dirs[i], "%s", json_string_value(
		    json_array_get(cgroups(), i)));
	ck_assert_uint_eq(n, v1 ? 3 : 0);
	stop(&o);
	ck_assert_str_eq(json_string_value(json_object_get(o.result, "exit")),
	    "exited with status 0");
	outcome_clear(&o);
	ck_assert(process_gone(pid));
	for (i = 0; i < n; i++)
		ck_assert_msg(stat(dirs[i], &st) == -1 && errno == ENOENT,
		    "%s is still there", dirs[i]);
	/* Asked for: no crash, no error. */
	spin(100);
	ck_assert_ptr_null(event_find("crash"));
	ck_assert_ptr_null(event_find("error"));
	ck_assert_ptr_null(event_find("exited"));

	/* Again: nothing left to stop, still one answer. */
	stop(&o);
	outcome_clear(&o);
}
END_TEST

START_TEST(restart_is_a_new_boot)
{
	struct outcome	 o = { 0 };
	json_t		*h1, *h2;
	pid_t		 pid;

	pid = start(PLAN_CGROUP_AUTO);
	configure();
	backend_hot_add_cpu(T.backend, 1, on_done, &o);
	outcome_wait(&o, 0, 2000);
	outcome_clear(&o);
	stop(&o);
	outcome_clear(&o);
	ck_assert(process_gone(pid));

	backend_start(T.backend, on_done, &o);
	outcome_wait(&o, 0, 5000);
	ck_assert_int_ne(json_integer_value(json_object_get(o.result, "pid")),
	    pid);
	outcome_clear(&o);
	h2 = wait_hello(2);
	h1 = json_array_get(T.hellos, 0);
	ck_assert_str_ne(json_string_value(json_object_get(h1, "boot_id")),
	    json_string_value(json_object_get(h2, "boot_id")));
	/* The boot's CPUs again. */
	configure();
	ck_assert(topology_reaches("cpus", "online", 1, 2000));
}
END_TEST

START_TEST(bad_binary_fails_start)
{
	struct outcome	 o = { 0 };
	struct stat	 st;
	json_t		*d;
	size_t		 i;

	snprintf(T.binary, sizeof T.binary, "%s/no-such-agent", T.dir);
	create(have_v1() ? PLAN_CGROUP_V1 : PLAN_CGROUP_NONE);
	backend_start(T.backend, on_done, &o);
	ck_assert_int_eq(o.calls, 0);
	outcome_wait(&o, -1, 3000);
	ck_assert_msg(strstr(o.cause, "No such file or directory") != NULL &&
	    strstr(o.cause, "no-such-agent") != NULL, "%s", o.cause);
	outcome_clear(&o);
	/* Whatever it made is gone again, and no crash is claimed. */
	spin(100);
	json_array_foreach(cgroups(), i, d)
		ck_assert_msg(stat(json_string_value(d), &st) == -1,
		    "%s is still there", json_string_value(d));
	ck_assert_ptr_null(event_find("crash"));
	ck_assert_ptr_null(event_find("error"));
	stop(&o);
	outcome_clear(&o);
}
END_TEST

START_TEST(free_cancels_what_is_pending)
{
	struct outcome	 o = { 0 }, r = { 0 };
	pid_t		 pid;

	pid = start(have_v1() ? PLAN_CGROUP_V1 : PLAN_CGROUP_NONE);
	/* A stop under way and a hot-add answered but not yet delivered. */
	backend_stop(T.backend, on_done, &o);
	backend_hot_add_cpu(T.backend, 1, on_done, &r);
	backend_free(T.backend);
	T.backend = NULL;
	ck_assert_int_eq(o.calls, 1);
	ck_assert_int_eq(o.error, -1);
	ck_assert_str_eq(o.cause, "cancelled");
	ck_assert_int_eq(r.calls, 1);
	ck_assert_str_eq(r.cause, "cancelled");
	ck_assert(process_gone(pid));
	outcome_clear(&o);
	outcome_clear(&r);
}
END_TEST

/*
 * A held agent misses nothing: the uevents its socket has no room for
 * wait their turn, and the hot-add does not fail for them.
 */
START_TEST(held_agent_gets_every_uevent)
{
	struct outcome	 o = { 0 };
	json_t		*added;

	/* 512 blocks: more uevents than a socket buffer holds. */
	T.plan.target.memory_max = BOOT_MEMORY + 64 * 1024 * MIB;
	start(PLAN_CGROUP_AUTO);
	configure();
	backend_replace_begin(T.backend, on_done, &o);
	outcome_wait(&o, 0, 6000);
	outcome_clear(&o);
	backend_hot_add_memory(T.backend, 64 * 1024 * MIB, on_done, &o);
	outcome_wait(&o, 0, 2000);
	added = json_object_get(o.result, "added_blocks");
	ck_assert_uint_eq(json_array_size(added), 512);
	ck_assert_int_eq(json_integer_value(json_array_get(added, 0)), 2);
	outcome_clear(&o);
	spin(100);
	backend_replace_end(T.backend, on_done, &o);
	outcome_wait(&o, 0, 6000);
	outcome_clear(&o);
	/* Sooner than the agent's own rescan would find them. */
	ck_assert_msg(topology_message("memory", "blocks_online", 514, 2500),
	    "the agent did not hear of every block");
}
END_TEST

/* The agent keeps what it was given and nothing else the daemon had open. */
START_TEST(agent_inherits_only_the_uevent_socket)
{
	char		 marker[160], path[PATH_MAX], link[PATH_MAX], args[4096];
	char		*p;
	ssize_t		 n;
	pid_t		 pid;
	int		 fd, ufd = -1;
	DIR		*d;
	struct dirent	*de;

	snprintf(marker, sizeof marker, "%s/marker", T.dir);
	fd = open(marker, O_WRONLY | O_CREAT, 0600);	/* no O_CLOEXEC */
	ck_assert_int_ge(fd, 0);
	pid = start(PLAN_CGROUP_NONE);

	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	n = read(fd, args, sizeof args - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	for (p = args; p < args + n; p += strlen(p) + 1)
		if (strcmp(p, "--uevent-fd") == 0)
			ufd = atoi(p + strlen(p) + 1);
		else if (strcmp(p, "--kmsg") == 0)
			ck_assert_str_eq(p + strlen(p) + 1, "none");
	ck_assert_int_ge(ufd, 3);
	snprintf(path, sizeof path, "/proc/%ld/fd/%d", (long)pid, ufd);
	n = readlink(path, link, sizeof link - 1);
	ck_assert_int_gt(n, 0);
	link[n] = '\0';
	ck_assert_msg(strncmp(link, "socket:", 7) == 0, "fd %d is %s", ufd, link);

	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	ck_assert_ptr_nonnull(d = opendir(path));
	while ((de = readdir(d)) != NULL) {
		snprintf(path, sizeof path, "/proc/%ld/fd/%s", (long)pid,
		    de->d_name);
		if ((n = readlink(path, link, sizeof link - 1)) <= 0)
			continue;
		link[n] = '\0';
		ck_assert_msg(strcmp(link, marker) != 0,
		    "the agent inherited the daemon's fd %s", de->d_name);
	}
	closedir(d);
}
END_TEST

/* Where there is no cgroup v2, asking for it fails the start and says why. */
START_TEST(v2_refused_where_missing)
{
	struct outcome	 o = { 0 };
	const char	*passed;

	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
		fprintf(stderr, "v2_refused_where_missing: cgroup v2 is here, "
		    "skipped\n");
		return;
	}
	create(PLAN_CGROUP_V2);
	backend_start(T.backend, on_done, &o);
	outcome_wait(&o, -1, 2000);
	ck_assert_msg(strncmp(o.cause, "cgroup v2: ", 11) == 0, "%s", o.cause);
	outcome_clear(&o);
	ck_assert_ptr_null(event_find("info"));
	backend_free(T.backend);
	T.backend = NULL;

	/* auto passes over it, and says so. */
	start(PLAN_CGROUP_AUTO);
	passed = json_string_value(json_object_get(json_object_get(
	    event_find("info"), "detail"), "passed_over"));
	ck_assert_msg(passed != NULL && strncmp(passed, "cgroup v2: ", 11) == 0,
	    "passed over: %s", passed != NULL ? passed : "nothing");
}
END_TEST

/* Loop tests: 0 holds with the v1 freezer, 1 with SIGSTOP. */
static int
held_strategy(int i)
{
	if (i == 0 && !have_v1())
		return -1;
	return i == 0 ? PLAN_CGROUP_V1 : PLAN_CGROUP_NONE;
}

static pid_t
start_held(int cgroup)
{
	struct outcome	o = { 0 };
	pid_t		pid;

	pid = start(cgroup);
	backend_replace_begin(T.backend, on_done, &o);
	outcome_wait(&o, 0, 6000);
	outcome_clear(&o);
	return pid;
}

/* Stop lets a held partition go first, or its agent could not die. */
START_TEST(stop_while_held)
{
	struct outcome	 o = { 0 };
	struct stat	 st;
	char		 dir[PATH_MAX] = "";
	uint64_t	 t0;
	pid_t		 pid;
	int		 cgroup = held_strategy(_i);

	if (cgroup == -1)
		return;
	pid = start_held(cgroup);
	if (cgroup == PLAN_CGROUP_V1)
		snprintf(dir, sizeof dir, "%s", cgroup_dir("freezer"));
	t0 = now_ms();
	stop(&o);
	/* SIGTERM did it: no wait for the SIGKILL 5 s later. */
	ck_assert_uint_lt(now_ms() - t0, 4000);
	ck_assert_str_eq(json_string_value(json_object_get(o.result, "exit")),
	    "exited with status 0");
	outcome_clear(&o);
	ck_assert(process_gone(pid));
	if (dir[0] != '\0')
		ck_assert_msg(stat(dir, &st) == -1, "%s is still there", dir);
}
END_TEST

START_TEST(free_while_held)
{
	pid_t	pid;
	int	cgroup = held_strategy(_i);

	if (cgroup == -1)
		return;
	pid = start_held(cgroup);
	backend_free(T.backend);
	T.backend = NULL;
	ck_assert(process_gone(pid));
}
END_TEST

START_TEST(table_and_checks)
{
	struct backend_env	 env;
	struct backend_ops	 ops;
	char			*cause = NULL;

	ck_assert_ptr_eq(backend_table[PLAN_BACKEND_LOCAL], &backend_local);
	ck_assert_int_eq(backend_ops_check(&backend_local, &cause), 0);
	ops = backend_local;
	ops.replace_end = NULL;
	ck_assert_int_eq(backend_ops_check(&ops, &cause), -1);
	ck_assert_str_eq(cause, "backend `local` has no replace_end hook");
	free(cause);
	cause = NULL;

	ck_assert_ptr_eq(backend_table[PLAN_BACKEND_QEMU], &backend_qemu);
	ck_assert_int_eq(backend_ops_check(&backend_qemu, &cause), 0);
	T.plan.target.backend = PLAN_BACKEND_LIBVIRT;
	memset(&env, 0, sizeof env);
	env.base = T.base;
	env.plan = &T.plan;
	env.run_dir = T.run_dir;
	env.agent_channel = T.channel;
	env.agent_binary = T.binary;
	ck_assert_ptr_null(backend_create(&env, &cause));
	ck_assert_str_eq(cause, "backend `libvirt` is not available in this build");
	free(cause);
	backend_free(NULL);
}
END_TEST

/* The agent's --uevent-fd: anything but an inherited datagram socket is a usage error. */
START_TEST(agent_checks_uevent_fd)
{
	static const struct {
		const char	*arg;
		const char	*says;
	} cases[] = {
		{ "x", "is not a number" },
		{ "CLOSED", "not an open descriptor" },
		{ "FILE", "not a socket" },
		{ "STREAM", "not a datagram socket" },
	};
	char	 out[1024], fdarg[16];
	size_t	 i;
	ssize_t	 n;
	pid_t	 pid;
	int	 p[2], sv[2], status, file, closed;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	file = open(T.token_file, O_RDONLY);
	ck_assert_int_ge(file, 0);
	/* High, so the pipes below never take the number again. */
	closed = fcntl(file, F_DUPFD, 900);
	ck_assert_int_ge(closed, 900);
	close(closed);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (strcmp(cases[i].arg, "STREAM") == 0)
			snprintf(fdarg, sizeof fdarg, "%d", sv[0]);
		else if (strcmp(cases[i].arg, "FILE") == 0)
			snprintf(fdarg, sizeof fdarg, "%d", file);
		else if (strcmp(cases[i].arg, "CLOSED") == 0)
			snprintf(fdarg, sizeof fdarg, "%d", closed);
		else
			snprintf(fdarg, sizeof fdarg, "%s", cases[i].arg);
		ck_assert_int_eq(pipe(p), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			dup2(p[1], 2);
			execl(T.binary, T.binary, "--channel", T.channel,
			    "--uevent-fd", fdarg, (char *)NULL);
			_exit(127);
		}
		close(p[1]);
		n = read(p[0], out, sizeof out - 1);
		close(p[0]);
		out[n > 0 ? n : 0] = '\0';
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 2);
		ck_assert_msg(strstr(out, cases[i].says) != NULL,
		    "--uevent-fd %s: `%s`", fdarg, out);
	}
	close(file);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static Suite *
backend_local_suite(void)
{
	Suite	*s = suite_create("backend-local");
	TCase	*tc;

	tc = tcase_create("local");
	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, table_and_checks);
	tcase_add_test(tc, agent_checks_uevent_fd);
	tcase_add_test(tc, start_confines_the_agent);
	tcase_add_test(tc, hot_add_cpu_widens_and_onlines);
	tcase_add_test(tc, hot_add_memory_raises_the_limit);
	tcase_add_test(tc, replace_freezes_cgroup);
	tcase_add_test(tc, none_uses_affinity_and_signals);
	tcase_add_test(tc, sigkill_is_a_crash);
	tcase_add_test(tc, exit_status_is_an_error);
	tcase_add_test(tc, stop_removes_everything);
	tcase_add_test(tc, restart_is_a_new_boot);
	tcase_add_test(tc, bad_binary_fails_start);
	tcase_add_test(tc, free_cancels_what_is_pending);
	tcase_add_test(tc, held_agent_gets_every_uevent);
	tcase_add_test(tc, agent_inherits_only_the_uevent_socket);
	tcase_add_test(tc, v2_refused_where_missing);
	tcase_add_loop_test(tc, stop_while_held, 0, 2);
	tcase_add_loop_test(tc, free_while_held, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(backend_local_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
