/* check-backend-qemu.c: the qemu backend without QEMU: its command line
 * from plans, and attach mode against a scripted fake QMP server (a thread
 * on a unix socket in a temporary folder): start, CPU hot-add, an I/O
 * bridge with its disk (and the undo when QEMU refuses it), a Hyper-V
 * bug check, a QEMU error answer, and malformed QMP input, which must be a
 * backend error and never a crash. The VM tests boot the real thing. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "hotsoak/backend.h"
#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "backend-qemu.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, " \
	"\"minor\": 2, \"major\": 7}, \"package\": \"\"}, \"capabilities\": []}}\r\n"

/* What the fake QEMU does after answering its n-th command (0: never). */
struct fake_qmp {
	int		 lfd;
	unsigned	 after;		/* commands answered before `then` */
	const char	*then;		/* raw bytes sent then */
	const char	*fail;		/* a command answered with GenericError */
	unsigned	 answered;
	char		 seen[16][64];	/* commands, in order */
	json_t		*device_add;	/* the last device_add's arguments */
	pthread_t	 thread;
	unsigned	 fail_nth;	/* this command (from 1) gets GenericError; 0: none */
	const char	*fail_id;	/* the device_add of this id gets GenericError */
	json_t		*log;		/* [[command, arguments or null], ...] */
	const char	*qom_type;	/* qom-get's answer; NULL: {} */
};

static struct {
	char		 dir[64];
	char		 qmp[128];
	char		 agent[128];
	int		 agent_lfd;
	struct event_base *base;
	struct plan_file *pf;
	struct fake_qmp	 fq;
	/* What the backend reported. */
	int		 events[BACKEND_EV_COUNT];
	char		 title[256];
	json_t		*detail;
	int		 done, error;
	char		 cause[256];
	int		 agent_fds;
} T;

static void
send_all(int fd, const char *s)
{
	size_t	n = strlen(s);
	ssize_t	w;

	while (n > 0 && (w = write(fd, s, n)) > 0) {
		s += w;
		n -= (size_t)w;
	}
}

static const char *
answer(struct fake_qmp *f, const char *cmd, json_t *args)
{
	if (f->log != NULL)
		json_array_append_new(f->log, json_pack("[sO?]", cmd, args));
	if ((f->fail_nth != 0 && f->answered + 1 == f->fail_nth) ||
	    (f->fail_id != NULL && strcmp(cmd, "device_add") == 0 &&
	    json_is_string(json_object_get(args, "id")) && strcmp(f->fail_id,
	    json_string_value(json_object_get(args, "id"))) == 0))
		return "{\"error\": {\"class\": \"GenericError\", \"desc\": "
		    "\"Device initialization failed\"}";
	if (strcmp(cmd, "qom-get") == 0 && f->qom_type != NULL) {
		static char	qom[256];

		snprintf(qom, sizeof qom, "{\"return\": \"%s\"", f->qom_type);
		return qom;
	}
	if (f->fail != NULL && strcmp(cmd, f->fail) == 0)
		return "{\"error\": {\"class\": \"GenericError\", \"desc\": "
		    "\"not now\"}";
	if (strcmp(cmd, "query-hotpluggable-cpus") == 0)
		return "{\"return\": [{\"type\": \"qemu64-x86_64-cpu\", "
		    "\"vcpus-count\": 1, \"props\": {\"core-id\": 2, "
		    "\"thread-id\": 0, \"socket-id\": 0}}, {\"type\": "
		    "\"qemu64-x86_64-cpu\", \"vcpus-count\": 1, \"props\": "
		    "{\"core-id\": 1, \"thread-id\": 0, \"socket-id\": 0}}, "
		    "{\"type\": \"qemu64-x86_64-cpu\", \"vcpus-count\": 1, "
		    "\"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": "
		    "0}, \"qom-path\": \"/machine/unattached/device[0]\"}]";
	if (strcmp(cmd, "query-memory-size-summary") == 0)
		return "{\"return\": {\"base-memory\": 536870912, "
		    "\"plugged-memory\": 0}";
	if (strcmp(cmd, "device_add") == 0) {
		json_decref(f->device_add);
		f->device_add = json_incref(args);
	}
	return "{\"return\": {}";
}

/* The fake QEMU: a greeting, then one answer per line, as QEMU would. */
static void *
fake_main(void *arg)
{
	struct fake_qmp	*f = arg;
	char		 buf[65536], reply[1024];
	size_t		 len = 0;
	ssize_t		 n;
	char		*nl;
	json_t		*m, *id;
	const char	*cmd;
	int		 fd;

	if ((fd = accept(f->lfd, NULL, NULL)) == -1)
		return NULL;
	send_all(fd, GREETING);
	for (;;) {
		if ((n = read(fd, buf + len, sizeof buf - 1 - len)) <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			m = json_loads(buf, 0, NULL);
			cmd = json_string_value(json_object_get(m, "execute"));
			id = json_object_get(m, "id");
			if (cmd != NULL) {
				if (f->answered < 16)
					snprintf(f->seen[f->answered], 64, "%s", cmd);
				snprintf(reply, sizeof reply, "%s%s%" JSON_INTEGER_FORMAT
				    "}\r\n", answer(f, cmd, json_object_get(m,
				    "arguments")), id != NULL ? ", \"id\": " : "",
				    id != NULL ? json_integer_value(id) : (json_int_t)0);
				if (id == NULL)
					snprintf(reply, sizeof reply, "%s}\r\n",
					    answer(f, cmd, NULL));
				send_all(fd, reply);
				f->answered++;
				if (f->then != NULL && f->answered == f->after)
					send_all(fd, f->then);
			}
			json_decref(m);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
	}
	close(fd);
	return NULL;
}

static int
listen_unix(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	ck_assert_int_ne(fd = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

static void
hook_event(void *arg, enum backend_event ev, const char *title, json_t *detail)
{
	T.events[ev]++;
	if (ev != BACKEND_EV_INFO) {
		snprintf(T.title, sizeof T.title, "%s", title);
		json_decref(T.detail);
		T.detail = detail;
		event_base_loopbreak(T.base);
	} else
		json_decref(detail);
}

static int
hook_agent_fd(void *arg, int fd, char **cause)
{
	T.agent_fds++;
	close(fd);
	return 0;
}

static void
done(void *arg, int error, const char *cause, json_t *result)
{
	T.done++;
	T.error = error;
	snprintf(T.cause, sizeof T.cause, "%s", cause != NULL ? cause : "");
	event_base_loopbreak(T.base);
}

static void
loop(unsigned ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(T.base, &tv);
	event_base_dispatch(T.base);
}

static struct plan_file *
load(const char *text)
{
	struct plan_diags	 d;
	struct plan_file	*pf;

	plan_diags_init(&d);
	pf = plan_file_load_buffer("t.yaml", text, strlen(text), NULL, &d);
	if (pf == NULL)
		plan_diags_print(&d, stderr);
	plan_diags_free(&d);
	ck_assert_ptr_nonnull(pf);
	return pf;
}

/* An attached backend, started against the fake QEMU. */
static struct backend *
attach(void)
{
	struct backend_env	 env;
	struct backend		*b;
	char			 text[1024], *cause = NULL;

	snprintf(text, sizeof text, "version: 1\nname: t\ntarget:\n"
	    "  backend: qemu\n  cpus: { boot: 1, max: 3 }\n"
	    "  memory: { boot: 512MiB, slots: 2, max: 1GiB }\n"
	    "  qemu: { qmp: \"unix:%s\" }\n"
	    "agent: { channel: \"unix:%s\" }\n"
	    "workload:\n  io: { path: /dev/vdb, size: 1MiB }\n"
	    "steps:\n  - hot_add: { cpu: 1 }\n", T.qmp, T.agent);
	T.pf = load(text);
	T.fq.lfd = listen_unix(T.qmp);
	T.agent_lfd = listen_unix(T.agent);
	ck_assert_int_eq(pthread_create(&T.fq.thread, NULL, fake_main, &T.fq),
	    0);
	memset(&env, 0, sizeof env);
	env.base = T.base;
	env.plan = T.pf->plan;
	env.run_id = 1;
	env.run_dir = T.dir;
	env.hooks.event = hook_event;
	env.hooks.agent_fd = hook_agent_fd;
	b = backend_create(&env, &cause);
	ck_assert_msg(b != NULL, "%s", cause);
	backend_start(b, done, NULL);
	loop(5000);
	ck_assert_int_eq(T.done, 1);
	ck_assert_msg(T.error == 0, "start: %s", T.cause);
	ck_assert_int_eq(T.agent_fds, 1);
	return b;
}

static void
setup(void)
{
	memset(&T, 0, sizeof T);
	snprintf(T.dir, sizeof T.dir, "/tmp/hotsoak-qemu.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(T.dir));
	snprintf(T.qmp, sizeof T.qmp, "%s/qmp.sock", T.dir);
	snprintf(T.agent, sizeof T.agent, "%s/agent.sock", T.dir);
	T.fq.lfd = T.agent_lfd = -1;
	ck_assert_ptr_nonnull(T.base = event_base_new());
}

static void
teardown(void)
{
	if (T.fq.lfd != -1) {
		shutdown(T.fq.lfd, SHUT_RDWR);
		close(T.fq.lfd);
		pthread_join(T.fq.thread, NULL);
	}
	if (T.agent_lfd != -1)
		close(T.agent_lfd);
	json_decref(T.fq.device_add);
	json_decref(T.detail);
	plan_file_free(T.pf);
	event_base_free(T.base);
	unlink(T.qmp);
	unlink(T.agent);
	rmdir(T.dir);
}

static void
stop_and_free(struct backend *b)
{
	T.done = 0;
	backend_stop(b, done, NULL);
	loop(3000);
	ck_assert_int_eq(T.done, 1);
	backend_free(b);
}

/* The hypervisor's view comes from QMP; a CPU goes into the lowest free slot. */
START_TEST(attach_hot_add_cpu)
{
	struct backend		*b = attach();
	struct backend_topology	 t;
	char			*cause = NULL;

	ck_assert_int_eq(backend_topology(b, &t, &cause), 0);
	ck_assert_uint_eq(t.cpus, 1);
	ck_assert_uint_eq(t.memory, 512ULL << 20);
	ck_assert_str_eq(backend_io_path(b), "/dev/vdb");
	T.done = 0;
	backend_hot_add_cpu(b, 1, done, NULL);
	loop(5000);
	ck_assert_int_eq(T.done, 1);
	ck_assert_msg(T.error == 0, "%s", T.cause);
	ck_assert_ptr_nonnull(T.fq.device_add);
	ck_assert_str_eq(json_string_value(json_object_get(T.fq.device_add,
	    "driver")), "qemu64-x86_64-cpu");
	ck_assert_int_eq(json_integer_value(json_object_get(T.fq.device_add,
	    "core-id")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(T.fq.device_add,
	    "id")), "hotsoak-cpu0");
	ck_assert_int_eq(backend_topology(b, &t, &cause), 0);
	ck_assert_uint_eq(t.cpus, 2);
	/* The fake lists two free slots however many were plugged: not three. */
	T.done = 0;
	backend_hot_add_cpu(b, 3, done, NULL);
	loop(5000);
	ck_assert_int_eq(T.done, 1);
	ck_assert_int_eq(T.error, -1);
	ck_assert_str_eq(T.cause, "fewer free CPU slots than CPUs to add");
	stop_and_free(b);
}
END_TEST

/* QEMU's own error answer fails the operation with its description. */
START_TEST(attach_error_answer)
{
	struct backend	*b;

	T.fq.fail = "object-add";
	b = attach();
	T.done = 0;
	backend_hot_add_memory(b, 256ULL << 20, done, NULL);
	loop(5000);
	ck_assert_int_eq(T.done, 1);
	ck_assert_int_eq(T.error, -1);
	ck_assert_str_eq(T.cause, "not now");
	ck_assert_int_eq(T.events[BACKEND_EV_ERROR], 0);
	stop_and_free(b);
}
END_TEST

/* GUEST_PANICKED with Hyper-V crash parameters: a crash titled by its STOP code. */
START_TEST(attach_hyperv_bugcheck)
{
	struct backend	*b;
	json_t		*p;

	T.fq.after = 3;		/* capabilities, the two queries */
	T.fq.then = "{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": "
	    "\"pause\", \"info\": {\"type\": \"hyper-v\", \"arg1\": 209, \"arg2\": "
	    "18446735277616529408, \"arg3\": 2, \"arg4\": 0, \"arg5\": "
	    "18446735277632000000}}, \"timestamp\": {\"seconds\": 1, "
	    "\"microseconds\": 0}}\r\n";
	b = attach();
	if (T.events[BACKEND_EV_CRASH] == 0)
		loop(3000);
	ck_assert_int_eq(T.events[BACKEND_EV_CRASH], 1);
	ck_assert_str_eq(T.title, "STOP 0x000000D1 DRIVER_IRQL_NOT_LESS_OR_EQUAL");
	p = json_object_get(T.detail, "parameters");
	ck_assert_str_eq(json_string_value(json_array_get(p, 0)),
	    "0xFFFFF80000000000");
	ck_assert_str_eq(json_string_value(json_object_get(T.detail, "source")),
	    "GUEST_PANICKED");
	stop_and_free(b);
}
END_TEST

/* Garbage from the monitor: a backend error, and the backend still stops. */
START_TEST(attach_malformed_qmp)
{
	static const char *const garbage[] = {
		"this is not JSON\r\n",
		"[1, 2, 3]\r\n",
		"{\"return\": {}, \"id\": 4242}\r\n",
		"{\"event\": 7}\r\n",
		"{\"error\": {\"desc\": \"no class\"}, \"id\": 1}\r\n",
		"{\"return\": \xff}\r\n",
	};
	size_t		 i;
	struct backend	*b;

	for (i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
		if (i > 0) {
			teardown();
			setup();
		}
		T.fq.after = 3;
		T.fq.then = garbage[i];
		b = attach();
		if (T.events[BACKEND_EV_ERROR] == 0)
			loop(3000);
		ck_assert_msg(T.events[BACKEND_EV_ERROR] == 1, "case %zu: no "
		    "backend error", i);
		ck_assert_msg(strstr(T.title, "QEMU's monitor failed: QMP:") ==
		    T.title, "case %zu: %s", i, T.title);
		/* Nothing works on a dead monitor, and it says so. */
		T.done = 0;
		backend_hot_add_cpu(b, 1, done, NULL);
		loop(3000);
		ck_assert_int_eq(T.done, 1);
		ck_assert_int_eq(T.error, -1);
		stop_and_free(b);
	}
}
END_TEST

static json_t	*bridge_result;

static void
bridge_done(void *arg, int error, const char *cause, json_t *result)
{
	json_decref(bridge_result);
	bridge_result = json_incref(result);
	done(arg, error, cause, result);
}

/* The arguments of the n-th command QEMU got (from 0), which must be cmd. */
static json_t *
logged(size_t n, const char *cmd)
{
	json_t	*e = json_array_get(T.fq.log, n);

	ck_assert_msg(e != NULL, "no command %zu (%zu sent)", n,
	    json_array_size(T.fq.log));
	ck_assert_msg(strcmp(json_string_value(json_array_get(e, 0)), cmd) == 0,
	    "command %zu is %s, not %s", n, json_string_value(json_array_get(e,
	    0)), cmd);
	return json_array_get(e, 1);
}

static const char *
sv(json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	ck_assert_msg(s != NULL, "no string %s", key);
	return s;
}

/*
 * An I/O bridge: the bridge in slot 0x11 of pci.0 and, without waiting, a
 * file node, a raw node and a virtio disk with a serial behind it; a disk
 * QEMU refuses leaves the nodes deleted and the bridge named in the error.
 */
START_TEST(attach_io_bridge)
{
	struct backend	*b;
	struct stat	 st;
	json_t		*a;
	char		 file[128], file2[128];
	size_t		 base;

	T.fq.log = json_array();
	b = attach();
	base = json_array_size(T.fq.log);
	T.done = 0;
	backend_hot_add_io_bridge(b, 32ULL << 20, bridge_done, NULL);
	ck_assert_int_eq(T.done, 0);
	loop(5000);
	ck_assert_int_eq(T.done, 1);
	ck_assert_msg(T.error == 0, "%s", T.cause);
	snprintf(file, sizeof file, "%s/io-bridge1.raw", T.dir);
	ck_assert_str_eq(sv(bridge_result, "bridge"), "hotsoak-br1");
	ck_assert_str_eq(sv(bridge_result, "disk"), "hotsoak-vblk-io1");
	ck_assert_str_eq(sv(bridge_result, "serial"), "hotsoak-io1");
	ck_assert_str_eq(sv(bridge_result, "node"), "hotsoak-io1");
	ck_assert_str_eq(sv(bridge_result, "file"), file);
	ck_assert_int_eq(json_integer_value(json_object_get(bridge_result,
	    "size")), 32 << 20);
	ck_assert(json_is_integer(json_object_get(bridge_result, "qmp_ms")));
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_eq(st.st_size, 32 << 20);
	logged(base, "qom-get");
	a = logged(base + 1, "device_add");
	ck_assert_str_eq(sv(a, "driver"), "pci-bridge");
	ck_assert_str_eq(sv(a, "id"), "hotsoak-br1");
	ck_assert_str_eq(sv(a, "bus"), "pci.0");
	ck_assert_str_eq(sv(a, "addr"), "0x11");
	ck_assert_int_eq(json_integer_value(json_object_get(a, "chassis_nr")), 1);
	a = logged(base + 2, "blockdev-add");
	ck_assert_str_eq(sv(a, "driver"), "file");
	ck_assert_str_eq(sv(a, "filename"), file);
	ck_assert_str_eq(sv(a, "node-name"), "hotsoak-io1-file");
	a = logged(base + 3, "blockdev-add");
	ck_assert_str_eq(sv(a, "driver"), "raw");
	ck_assert_str_eq(sv(a, "file"), "hotsoak-io1-file");
	ck_assert_str_eq(sv(a, "node-name"), "hotsoak-io1");
	a = logged(base + 4, "device_add");
	ck_assert_str_eq(sv(a, "driver"), "virtio-blk-pci");
	ck_assert_str_eq(sv(a, "drive"), "hotsoak-io1");
	ck_assert_str_eq(sv(a, "bus"), "hotsoak-br1");
	ck_assert_str_eq(sv(a, "serial"), "hotsoak-io1");
	ck_assert_str_eq(sv(a, "id"), "hotsoak-vblk-io1");

	/* The second bridge's disk is refused: its nodes go, the bridge stays. */
	/*
	 * By its id, not its place in the line: an answer of the first bridge
	 * may still be on its way when this is set.
	 */
	T.fq.fail_id = "hotsoak-vblk-io2";
	T.done = 0;
	backend_hot_add_io_bridge(b, 8ULL << 20, bridge_done, NULL);
	loop(5000);
	ck_assert_int_eq(T.done, 1);
	ck_assert_int_eq(T.error, -1);
	ck_assert_str_eq(T.cause, "device_add hotsoak-vblk-io2: Device "
	    "initialization failed; the bridge stays in the VM (a hot-added "
	    "bridge cannot be removed safely)");
	a = logged(base + 6, "device_add");
	ck_assert_str_eq(sv(a, "addr"), "0x12");
	loop(300);
	ck_assert_str_eq(sv(logged(base + 10, "blockdev-del"), "node-name"),
	    "hotsoak-io2");
	ck_assert_str_eq(sv(logged(base + 11, "blockdev-del"), "node-name"),
	    "hotsoak-io2-file");
	snprintf(file2, sizeof file2, "%s/io-bridge2.raw", T.dir);
	ck_assert_int_eq(stat(file2, &st), 0);
	/* The VM's end takes the disk files with it. */
	stop_and_free(b);
	ck_assert_int_eq(stat(file, &st), -1);
	ck_assert_int_eq(stat(file2, &st), -1);
	json_decref(bridge_result);
	bridge_result = NULL;
	json_decref(T.fq.log);
}
END_TEST

/* q35: no bus number for a hot-added bridge; refused before anything is plugged. */
START_TEST(attach_io_bridge_not_on_q35)
{
	struct backend	*b;
	struct stat	 st;
	char		 file[128];
	size_t		 base;

	T.fq.log = json_array();
	T.fq.qom_type = "pc-q35-7.2-machine";
	b = attach();
	base = json_array_size(T.fq.log);
	T.done = 0;
	backend_hot_add_io_bridge(b, 32ULL << 20, bridge_done, NULL);
	loop(5000);
	ck_assert_int_eq(T.done, 1);
	ck_assert_int_eq(T.error, -1);
	ck_assert_str_eq(T.cause, "io_bridge needs machine pc with QEMU 7.2: a "
	    "hot-added bridge on q35 gets no bus number unless a root port "
	    "reserved one at boot (this VM is pc-q35-7.2-machine)");
	loop(200);
	ck_assert_uint_eq(json_array_size(T.fq.log), base + 1);
	snprintf(file, sizeof file, "%s/io-bridge1.raw", T.dir);
	ck_assert_int_eq(stat(file, &st), -1);
	stop_and_free(b);
	json_decref(bridge_result);
	bridge_result = NULL;
	json_decref(T.fq.log);
}
END_TEST

/* A plan's command line: topology, the guest image, the sockets, pvpanic. */
START_TEST(argv_launch)
{
	static char	 kernel[] = "/g/vmlinux", initrd[] = "/g/initramfs.cpio.gz";
	static char	 qmp[] = "/r/qmp.sock", agent[] = "/r/vm-agent.sock";
	static char	 console[] = "/r/console.log", disk[] = "/r,odd/disk.raw";
	static char	 token[] = "/r/token";
	struct qemu	 q;
	char		**v, *line;

	T.pf = load("version: 1\nname: t\ntarget:\n  backend: qemu\n"
	    "  cpus: { boot: 1, max: 4 }\n"
	    "  memory: { boot: 512MiB, slots: 2, max: 1GiB }\n"
	    "  qemu: { accel: tcg, append: \"x=1\", extra_args: [\"-S\"] }\n"
	    "steps:\n  - hot_add: { cpu: 1 }\n");
	memset(&q, 0, sizeof q);
	q.plan = T.pf->plan;
	q.run_id = 7;
	q.accel = PLAN_ACCEL_TCG;
	q.kernel = kernel;
	q.initrd = initrd;
	q.qmp_path = qmp;
	q.agent_path = agent;
	q.console_path = console;
	q.disk_path = disk;
	q.token_file = token;
	q.cache = "none";
	v = qemu_argv_build(&q, NULL);
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_nonnull(line = qemu_argv_join(v));
	ck_assert_msg(strstr(line, " -accel tcg -cpu qemu64 -smp 1,maxcpus=4 -m "
	    "512M,slots=2,maxmem=1024M -kernel /g/vmlinux -initrd "
	    "/g/initramfs.cpio.gz -append 'console=ttyS0 panic=0 "
	    "no_console_suspend x=1'") != NULL, "%s", line);
	ck_assert_msg(strstr(line, "-qmp unix:/r/qmp.sock,server=on,wait=off") !=
	    NULL, "%s", line);
	ck_assert_msg(strstr(line, "file=/r,,odd/disk.raw,if=none") != NULL,
	    "commas doubled: %s", line);
	ck_assert_msg(strstr(line, "-device pvpanic -action panic=pause "
	    "-no-reboot -fw_cfg name=opt/org.hotsoak/token,file=/r/token") !=
	    NULL, "%s", line);
	ck_assert_msg(strstr(line, "name=org.hotsoak.agent") != NULL, "%s", line);
	ck_assert_msg(strstr(line, "virtio-mem") == NULL, "%s", line);
	ck_assert_str_eq(v[0], "qemu-system-x86_64");
	ck_assert_msg(strcmp(line + strlen(line) - 3, " -S") == 0,
	    "extra args last: %s", line);
	free(line);
	qemu_argv_free(v);
	plan_file_free(T.pf);

	/* KVM takes the host's CPU; virtio-mem is a device from the start. */
	T.pf = load("version: 1\nname: t\ntarget:\n  backend: qemu\n"
	    "  cpus: { boot: 2, max: 2 }\n"
	    "  memory: { boot: 512MiB, max: 1GiB, hotplug: virtio-mem }\n"
	    "  qemu: { accel: kvm }\n"
	    "steps:\n  - hot_add: { memory: 256MiB }\n");
	q.plan = T.pf->plan;
	q.accel = PLAN_ACCEL_KVM;
	ck_assert_ptr_nonnull(v = qemu_argv_build(&q, NULL));
	ck_assert_ptr_nonnull(line = qemu_argv_join(v));
	ck_assert_msg(strstr(line, "-accel kvm -cpu host") != NULL, "%s", line);
	ck_assert_msg(strstr(line, "-object memory-backend-ram,id=hotsoak-vmem-ram,"
	    "size=512M -device virtio-mem-pci,id=hotsoak-vmem,memdev="
	    "hotsoak-vmem-ram,block-size=2M,requested-size=0") != NULL, "%s",
	    line);
	ck_assert_msg(strstr(line, "quiet") != NULL, "%s", line);
	free(line);
	qemu_argv_free(v);
}
END_TEST

/* No guest image: a clear error, before anything starts. */
START_TEST(launch_needs_image)
{
	struct backend_env	 env;
	char			*cause = NULL;

	T.pf = load("version: 1\nname: t\ntarget:\n  backend: qemu\n"
	    "  cpus: { boot: 1, max: 2 }\n  memory: { boot: 512MiB, max: 1GiB }\n"
	    "steps:\n  - hot_add: { cpu: 1 }\n");
	memset(&env, 0, sizeof env);
	env.base = T.base;
	env.plan = T.pf->plan;
	env.run_dir = T.dir;
	env.token_file = "/nonexistent/token";
	env.guest_dir = T.dir;
	ck_assert_ptr_null(backend_create(&env, &cause));
	ck_assert_msg(strstr(cause, "run `make guest`") != NULL, "%s", cause);
	free(cause);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("backend-qemu");
	TCase	*tc = tcase_create("qemu");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, argv_launch);
	tcase_add_test(tc, launch_needs_image);
	tcase_add_test(tc, attach_hot_add_cpu);
	tcase_add_test(tc, attach_error_answer);
	tcase_add_test(tc, attach_hyperv_bugcheck);
	tcase_add_test(tc, attach_malformed_qmp);
	tcase_add_test(tc, attach_io_bridge);
	tcase_add_test(tc, attach_io_bridge_not_on_q35);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
