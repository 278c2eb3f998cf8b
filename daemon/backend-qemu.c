/* backend-qemu.c: the qemu backend: a real guest kernel under QEMU (KVM
 * where it really runs guests, else TCG), driven over QMP. Launch mode
 * starts one VM per run in the run's private folder; attach mode drives a
 * VM the user manages through its QMP socket and agent channel. This file
 * owns the VM's life: start, QMP events, the console, exit and stop. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "hotsoak/backend.h"
#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "backend-qemu.h"
#include "console.h"
#include "kmsg.h"
#include "log.h"
#include "proc.h"
#include "qmp.h"
#include "stopcode.h"

#define QEMU_CONNECT_RETRY_MS	50
#define QEMU_LOG_TAIL		4096	/* bytes of QEMU's own log in a finding */
#define QEMU_CONSOLE_TAIL	40	/* console lines in an exit finding */

static void	qemu_connect_qmp(evutil_socket_t, short, void *);
static void	qemu_launch(struct qemu *);
static void	qemu_panic_grace(evutil_socket_t, short, void *);

/* Reports */

void
qemu_report(struct qemu *q, enum backend_event ev, json_t *detail,
    const char *fmt, ...)
{
	char	*title = NULL;
	va_list	 ap;

	if (q->freeing || (ev != BACKEND_EV_INFO && q->reported)) {
		json_decref(detail);
		return;
	}
	if (ev != BACKEND_EV_INFO)
		q->reported = true;
	if (ev == BACKEND_EV_CRASH)
		q->crashed = true;
	va_start(ap, fmt);
	if (vasprintf(&title, fmt, ap) == -1)
		title = NULL;
	va_end(ap);
	if (q->hooks.event != NULL)
		q->hooks.event(q->hooks.arg, ev, title != NULL ? title : "?",
		    detail);
	else
		json_decref(detail);
	free(title);
}

/* Bytes as a JSON string, anything but printable UTF-8 made '?'. */
static json_t *
text_json(const char *buf, size_t n)
{
	json_t	*s;
	char	*copy;
	size_t	 i;

	if ((s = json_stringn(buf, n)) != NULL)
		return s;
	if ((copy = malloc(n + 1)) == NULL)
		return json_string("");
	for (i = 0; i < n; i++)
		copy[i] = (buf[i] & 0x80) || buf[i] == '\0' ? '?' : buf[i];
	s = json_stringn(copy, n);
	free(copy);
	return s != NULL ? s : json_string("");
}

/* The end of QEMU's own log, for findings about it (new reference). */
static json_t *
qemu_log_tail(const struct qemu *q)
{
	char	 buf[QEMU_LOG_TAIL + 1];
	ssize_t	 n;
	off_t	 end;
	int	 fd;

	if (q->log_path == NULL || (fd = open(q->log_path, O_RDONLY |
	    O_CLOEXEC)) == -1)
		return json_string("");
	end = lseek(fd, 0, SEEK_END);
	if (end > QEMU_LOG_TAIL)
		(void)lseek(fd, end - QEMU_LOG_TAIL, SEEK_SET);
	else
		(void)lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, QEMU_LOG_TAIL);
	close(fd);
	if (n < 0)
		n = 0;
	return text_json(buf, (size_t)n);
}

/* What the console last said, for findings (new reference). */
static json_t *
qemu_console_tail(struct qemu *q)
{
	if (q->console == NULL)
		return json_array();
	console_watch_poll(q->console);
	return console_watch_tail(q->console, QEMU_CONSOLE_TAIL);
}

/* Operations: one at a time, each ends exactly once. */

int
qemu_op_take(struct qemu *q, enum qemu_op_kind kind, backend_done_cb cb,
    void *arg)
{
	if (q->op.kind != QEMU_OP_NONE)
		return -1;	/* the engine never overlaps operations */
	memset(&q->op, 0, sizeof q->op);
	q->op.kind = kind;
	q->op.cb = cb;
	q->op.arg = arg;
	q->op.t0_ns = clock_mono_ns();
	return 0;
}

void
qemu_op_end(struct qemu *q, int error, const char *cause, json_t *result)
{
	backend_done_cb	 cb = q->op.cb;
	void		*arg = q->op.arg;

	json_decref(q->op.result);
	json_decref(q->op.slots);
	memset(&q->op, 0, sizeof q->op);
	/* Last: the callback may free the backend. */
	if (cb != NULL)
		cb(arg, error ? -1 : 0, error ? cause : NULL, result);
	json_decref(result);
}

static void
qemu_later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qemu	*q = arg;
	char		*cause = q->later_cause;

	q->later_cause = NULL;
	if (q->op.kind == QEMU_OP_NONE) {
		free(cause);
		return;
	}
	if (q->later_error)
		qemu_op_end(q, -1, cause != NULL ? cause : "?", NULL);
	else
		qemu_op_end(q, 0, NULL, json_incref(q->op.result));
	free(cause);
}

void
qemu_op_end_later(struct qemu *q, const char *fmt, ...)
{
	va_list	ap;

	free(q->later_cause);
	q->later_cause = NULL;
	q->later_error = fmt != NULL;
	if (fmt != NULL) {
		va_start(ap, fmt);
		if (vasprintf(&q->later_cause, fmt, ap) == -1)
			q->later_cause = NULL;
		va_end(ap);
	}
	event_active(q->later, 0, 0);
}

/* A callback for a backend call that cannot run now (another is pending). */
struct qemu_busy {
	struct event	*ev;
	backend_done_cb	 cb;
	void		*arg;
};

static void
qemu_busy_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qemu_busy	*b = arg;

	event_free(b->ev);
	b->cb(b->arg, -1, "the qemu backend is busy with another operation",
	    NULL);
	free(b);
}

/* Refuse cb from the loop (never inside the caller's call). */
void
qemu_refuse(struct qemu *q, backend_done_cb cb, void *arg)
{
	struct qemu_busy	*b;

	if ((b = calloc(1, sizeof *b)) == NULL)
		return;
	b->cb = cb;
	b->arg = arg;
	if ((b->ev = event_new(q->base, -1, 0, qemu_busy_cb, b)) == NULL) {
		free(b);
		return;
	}
	event_active(b->ev, 0, 0);
}

/* QMP */

int
qemu_cmd(struct qemu *q, const char *command, json_t *args,
    void (*cb)(void *, int, const char *, const char *, json_t *))
{
	char	*cause = NULL;

	if (q->qmp == NULL) {
		json_decref(args);
		return -1;
	}
	if (qmp_command(q->qmp, command, args, QEMU_QMP_TIMEOUT_MS, cb, q,
	    &cause) == -1) {
		log_warnx("run %" PRId64 ": QMP %s: %s", q->run_id, command,
		    cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* GUEST_PANICKED: a bugcheck, with the console's crash lines and a STOP code. */
static void
qemu_ev_panicked(struct qemu *q, json_t *data, uint64_t time_ns)
{
	json_t		*d, *crash = NULL;
	const char	*title = NULL;
	uint64_t	 now = clock_wall_ns();

	if (q->crashed)
		return;
	evtimer_del(q->panic_timer);
	json_decref(q->panic_detail);
	q->panic_detail = NULL;
	d = stopcode_panic_detail(data);
	if (d == NULL)
		d = json_object();
	if (q->console != NULL) {
		/* The VM is paused now: its last line will not end by itself. */
		console_watch_flush(q->console);
		crash = console_watch_crash(q->console);
	}
	if (crash != NULL)
		json_object_set_new(d, "console", crash);
	json_object_set_new(d, "source", json_string("GUEST_PANICKED"));
	if (time_ns != 0)
		json_object_set_new(d, "qmp_event_ns", json_integer(
		    (json_int_t)time_ns));
	json_object_set_new(d, "reported_ns", json_integer((json_int_t)now));
	/* A STOP code names a Windows bug check better than any console line. */
	if (json_is_string(json_object_get(d, "title")))
		title = json_string_value(json_object_get(d, "title"));
	else if (crash != NULL && json_is_string(json_object_get(crash, "title")))
		title = json_string_value(json_object_get(crash, "title"));
	if (title != NULL)
		qemu_report(q, BACKEND_EV_CRASH, d, "%s", title);
	else
		qemu_report(q, BACKEND_EV_CRASH, d, "the guest kernel panicked "
		    "(GUEST_PANICKED, no console lines)");
}

static void
qemu_status_done(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	struct qemu	*q = arg;
	const char	*status;

	if (error || q->holding || q->state != QEMU_RUNNING)
		return;
	status = json_string_value(json_object_get(ret, "status"));
	if (status == NULL || strcmp(status, "running") == 0 ||
	    strcmp(status, "guest-panicked") == 0)
		return;
	if (strcmp(status, "internal-error") == 0)
		qemu_report(q, BACKEND_EV_ERROR, json_pack("{ss so}", "status",
		    status, "qemu_log", qemu_log_tail(q)), "the hypervisor failed:"
		    " QEMU status internal-error (a KVM internal error)");
	else if (strcmp(status, "io-error") == 0)
		qemu_report(q, BACKEND_EV_ERROR, json_pack("{ss}", "status",
		    status), "the host's disk image failed: QEMU status io-error");
	else
		qemu_report(q, BACKEND_EV_STOPPED, json_pack("{ss}", "status",
		    status), "the VM stopped by itself (QEMU status %s)", status);
}

static void
qemu_ev_stop(struct qemu *q, json_t *data, uint64_t time_ns)
{
	if (q->holding) {
		q->stop_ns = time_ns;
		return;
	}
	/* Not ours: ask why (a panic, an internal error, a host I/O error). */
	(void)qemu_cmd(q, "query-status", NULL, qemu_status_done);
}

static void
qemu_ev_shutdown(struct qemu *q, json_t *data, uint64_t time_ns)
{
	const char	*reason;

	if (q->state == QEMU_STOPPING || q->state == QEMU_GONE)
		return;
	reason = json_string_value(json_object_get(data, "reason"));
	if (reason == NULL)
		reason = "unknown";
	if (strcmp(reason, "guest-panic") == 0)
		return;		/* GUEST_PANICKED says more */
	if (strcmp(reason, "guest-reset") == 0)
		qemu_report(q, BACKEND_EV_CRASH, json_pack("{ss so}", "reason",
		    reason, "console", qemu_console_tail(q)), "the guest reset "
		    "itself (a triple fault or a reboot)");
	else if (strcmp(reason, "guest-shutdown") == 0)
		qemu_report(q, BACKEND_EV_STOPPED, json_pack("{ss so}", "reason",
		    reason, "console", qemu_console_tail(q)), "the guest powered "
		    "itself off");
	else
		qemu_report(q, BACKEND_EV_EXITED, json_pack("{ss}", "reason",
		    reason), "QEMU is shutting down (%s)", reason);
}

/* Events only worth a line in the timeline. */
static void
qemu_ev_info(struct qemu *q, const char *name, json_t *data)
{
	qemu_report(q, BACKEND_EV_INFO, json_pack("{ss sO*}", "qmp", name,
	    "data", data), "QMP %s", name);
}

static void
qemu_qmp_event(void *arg, const char *name, json_t *data, uint64_t time_ns)
{
	struct qemu	*q = arg;

	if (strcmp(name, "GUEST_PANICKED") == 0)
		qemu_ev_panicked(q, data, time_ns);
	else if (strcmp(name, "STOP") == 0)
		qemu_ev_stop(q, data, time_ns);
	else if (strcmp(name, "SHUTDOWN") == 0)
		qemu_ev_shutdown(q, data, time_ns);
	else if (strcmp(name, "RESUME") == 0) {
		if (!q->holding)
			qemu_ev_info(q, name, data);
	} else
		qemu_ev_info(q, name, data);
}

static void
qemu_gone_timer(evutil_socket_t fd, short what, void *arg)
{
	struct qemu	*q = arg;

	if (q->state == QEMU_GONE || q->state == QEMU_STOPPING)
		return;
	qemu_report(q, BACKEND_EV_ERROR, json_pack("{ss* so}", "qmp", q->qmp_why,
	    "qemu_log", qemu_log_tail(q)), "QEMU's monitor failed while the VM "
	    "runs: %s", q->qmp_why != NULL ? q->qmp_why : "?");
}

static void
qemu_qmp_down(void *arg, const char *why)
{
	struct qemu	*q = arg;
	struct timeval	 tv = { QEMU_GONE_MS / 1000, (QEMU_GONE_MS % 1000) * 1000 };

	log_info("run %" PRId64 ": QMP: %s", q->run_id, why);
	if (q->state == QEMU_STOPPING || q->state == QEMU_GONE || q->freeing)
		return;
	if (q->op.kind == QEMU_OP_START) {
		q->state = QEMU_GONE;
		qemu_op_end(q, -1, why, NULL);
		return;
	}
	/*
	 * A monitor that ends is most often QEMU dying, whose exit status
	 * says more: wait a moment for it. If QEMU lives on, its monitor
	 * failed (garbage, a protocol violation): an error either way.
	 */
	free(q->qmp_why);
	q->qmp_why = strdup(why);
	if (proc_running(q->proc)) {
		evtimer_del(q->timer);
		event_assign(q->timer, q->base, -1, 0, qemu_gone_timer, q);
		evtimer_add(q->timer, &tv);
		return;
	}
	qemu_report(q, BACKEND_EV_ERROR, json_pack("{ss}", "qmp", why),
	    "QEMU's monitor failed: %s", why);
}

/* Start */

static void
qemu_started(struct qemu *q)
{
	json_t	*r;

	q->state = QEMU_RUNNING;
	r = json_pack("{ss sb sI sI}", "qemu", q->qmp != NULL &&
	    qmp_version(q->qmp) != NULL ? qmp_version(q->qmp) : "?",
	    "attach", q->attach, "cpus", (json_int_t)q->cpus,
	    "memory", (json_int_t)q->memory);
	if (!q->attach && r != NULL) {
		json_object_set_new(r, "pid", json_integer(proc_pid(q->proc)));
		json_object_set_new(r, "accel", json_string(q->accel ==
		    PLAN_ACCEL_KVM ? "kvm" : "tcg"));
		json_object_set_new(r, "boot_ms", json_integer((json_int_t)
		    ((clock_mono_ns() - q->launched_ns) / 1000000)));
	}
	qemu_op_end(q, 0, NULL, r);
}

/* The host end of the agent's virtio-serial port: a socket QEMU serves. */
static int
qemu_connect_agent(struct qemu *q, char **cause)
{
	int	 fd;

	if ((fd = qmp_connect_unix(q->agent_path, cause)) == -1)
		return -1;
	if (q->hooks.agent_fd == NULL) {
		close(fd);
		return 0;
	}
	if (q->hooks.agent_fd(q->hooks.arg, fd, cause) == -1) {
		close(fd);
		return -1;
	}
	return 0;
}

static void
console_line(void *arg, const char *line)
{
}

static void
console_report(void *arg, const struct kmsg_event *ev)
{
	struct qemu	*q = arg;
	struct timeval	 tv = { QEMU_PANIC_GRACE_MS / 1000,
			    (QEMU_PANIC_GRACE_MS % 1000) * 1000 };
	json_t		*d;

	d = json_pack("{ss ss ss* sb}", "source", "console", "kind",
	    kmsg_kind_names[ev->kind], "text", ev->text, "panicked",
	    ev->panicked);
	/*
	 * A panic the pvpanic device did not report (no pvpanic-mmio, an
	 * old guest) is still a crash. Other reports come from the agent's
	 * own kernel-log watcher too, so here they are only a timeline line.
	 */
	if (ev->kind == KMSG_BUGCHECK && ev->panicked && !q->crashed) {
		/*
		 * pvpanic's GUEST_PANICKED normally follows within milliseconds
		 * and says more (a STOP code, QEMU's own timestamp): give it
		 * the first word, and report from the console only without it.
		 */
		if (q->panic_detail == NULL) {
			q->panic_detail = d;
			free(q->panic_title);
			q->panic_title = strdup(ev->title);
			evtimer_add(q->panic_timer, &tv);
			return;
		}
	}
	qemu_report(q, BACKEND_EV_INFO, d, "console: %s", ev->title);
}

static void
qemu_panic_grace(evutil_socket_t fd, short what, void *arg)
{
	struct qemu	*q = arg;
	json_t		*d = q->panic_detail;

	q->panic_detail = NULL;
	if (d == NULL || q->crashed) {
		json_decref(d);
		return;
	}
	json_object_set_new(d, "note", json_string("no GUEST_PANICKED came "
	    "(no pvpanic device or driver in the guest)"));
	qemu_report(q, BACKEND_EV_CRASH, d, "%s", q->panic_title != NULL ?
	    q->panic_title : "the guest kernel panicked (console)");
}

static void
console_pm(void *arg, enum console_pm what, const char *line)
{
	struct qemu	*q = arg;

	qemu_report(q, BACKEND_EV_INFO, json_pack("{ss ss}", "source", "console",
	    "line", line), "console: %s", line);
	if (what == CONSOLE_PM_TEST_WAIT)
		qemu_op_pm_seen(q, line);
}

static int
qemu_console_start(struct qemu *q, char **cause)
{
	struct console_hooks	h;

	if (q->console_path == NULL)
		return 0;
	memset(&h, 0, sizeof h);
	h.line = console_line;
	h.report = console_report;
	h.pm = console_pm;
	h.arg = q;
	if ((q->console = console_watch_new(q->base, q->console_path, &h,
	    cause)) == NULL)
		return -1;
	return 0;
}

static void
qemu_mem_done(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	struct qemu	*q = arg;
	json_t		*v;
	char		*cause = NULL;

	if (q->op.kind != QEMU_OP_START)
		return;
	if (error) {
		q->state = QEMU_GONE;
		qemu_op_end(q, -1, desc, NULL);
		return;
	}
	q->memory = 0;
	if (json_is_integer(v = json_object_get(ret, "base-memory")))
		q->memory += (uint64_t)json_integer_value(v);
	if (json_is_integer(v = json_object_get(ret, "plugged-memory")))
		q->memory += (uint64_t)json_integer_value(v);
	if (qemu_connect_agent(q, &cause) == -1 ||
	    qemu_console_start(q, &cause) == -1) {
		q->state = QEMU_GONE;
		qemu_op_end(q, -1, cause, NULL);
		free(cause);
		return;
	}
	qemu_started(q);
}

static void
qemu_cpus_done(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	struct qemu	*q = arg;
	size_t		 i;
	json_t		*e;

	if (q->op.kind != QEMU_OP_START)
		return;
	if (error) {
		q->state = QEMU_GONE;
		qemu_op_end(q, -1, desc, NULL);
		return;
	}
	q->cpus = 0;
	json_array_foreach(ret, i, e)
		if (json_object_get(e, "qom-path") != NULL)
			q->cpus++;
	if (qemu_cmd(q, "query-memory-size-summary", NULL, qemu_mem_done) ==
	    -1) {
		q->state = QEMU_GONE;
		qemu_op_end(q, -1, "QMP query-memory-size-summary not sent", NULL);
	}
}

static void
qemu_qmp_ready(void *arg, json_t *greeting)
{
	struct qemu	*q = arg;

	if (q->op.kind != QEMU_OP_START)
		return;
	qemu_report(q, BACKEND_EV_INFO, json_pack("{ss ss}", "qemu",
	    qmp_version(q->qmp) != NULL ? qmp_version(q->qmp) : "?", "qmp",
	    q->qmp_path), "QMP connected (QEMU %s)", qmp_version(q->qmp) != NULL ?
	    qmp_version(q->qmp) : "?");
	/* The hypervisor's view at boot: what hot-adds are measured from. */
	if (qemu_cmd(q, "query-hotpluggable-cpus", NULL, qemu_cpus_done) == -1) {
		q->state = QEMU_GONE;
		qemu_op_end(q, -1, "QMP query-hotpluggable-cpus not sent", NULL);
	}
}

static void
qemu_connect_qmp(evutil_socket_t fd_, short what, void *arg)
{
	struct qemu		*q = arg;
	struct qmp_hooks	 h;
	struct timeval		 tv = { 0, QEMU_CONNECT_RETRY_MS * 1000 };
	char			*cause = NULL;
	int			 fd;

	if (q->op.kind != QEMU_OP_START)
		return;
	if ((fd = qmp_connect_unix(q->qmp_path, &cause)) == -1) {
		if (!q->attach && proc_running(q->proc) &&
		    ++q->connect_tries * QEMU_CONNECT_RETRY_MS < QEMU_CONNECT_MS) {
			free(cause);
			evtimer_add(q->timer, &tv);
			return;
		}
		q->state = QEMU_GONE;
		qemu_op_end(q, -1, cause, NULL);
		free(cause);
		return;
	}
	memset(&h, 0, sizeof h);
	h.ready = qemu_qmp_ready;
	h.event = qemu_qmp_event;
	h.down = qemu_qmp_down;
	h.arg = q;
	q->state = QEMU_NEGOTIATING;
	if ((q->qmp = qmp_new(q->base, fd, &h, &cause)) == NULL) {
		q->state = QEMU_GONE;
		qemu_op_end(q, -1, cause, NULL);
		free(cause);
	}
}

/* Removes what a launched VM leaves in the run folder but its logs. */
static void
qemu_cleanup(struct qemu *q)
{
	qemu_bridge_cleanup(q);
	if (q->attach)
		return;
	if (q->qmp_path != NULL)
		(void)unlink(q->qmp_path);
	if (q->agent_path != NULL)
		(void)unlink(q->agent_path);
	if (q->disk_path != NULL)
		(void)unlink(q->disk_path);
}

static void
qemu_exited(void *arg, int status)
{
	struct qemu	*q = arg;
	json_t		*d;

	log_info("run %" PRId64 ": QEMU %s", q->run_id, proc_status_text(status));
	if (q->state == QEMU_STOPPING) {
		q->state = QEMU_GONE;
		evtimer_del(q->timer);
		qemu_cleanup(q);
		if (q->op.kind == QEMU_OP_STOP)
			qemu_op_end(q, 0, NULL, json_pack("{ss}", "qemu",
			    proc_status_text(status)));
		return;
	}
	q->state = QEMU_GONE;
	evtimer_del(q->timer);	/* the monitor's end waits no longer */
	d = json_pack("{ss so so ss*}", "status", proc_status_text(status),
	    "qemu_log", qemu_log_tail(q), "console", qemu_console_tail(q),
	    "qmp", q->qmp_why);
	if (q->op.kind != QEMU_OP_NONE) {
		/* The operation in flight cannot finish; the report says why. */
		qemu_report(q, BACKEND_EV_EXITED, d, "QEMU %s",
		    proc_status_text(status));
		qemu_op_end(q, -1, "QEMU exited", NULL);
		return;
	}
	qemu_report(q, BACKEND_EV_EXITED, d, "QEMU %s", proc_status_text(status));
}

/* A sparse raw disk, and the cache mode its file system allows. */
static int
qemu_make_disk(struct qemu *q, char **cause)
{
	int	fd;

	if ((fd = open(q->disk_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return cause_set(cause, "%s: %s", q->disk_path, strerror(errno));
	if (ftruncate(fd, (off_t)q->plan->target.qemu.disk_size) == -1) {
		close(fd);
		return cause_set(cause, "%s: %s", q->disk_path, strerror(errno));
	}
	close(fd);
	/* cache=none is O_DIRECT on the host; tmpfs refuses it. */
	q->cache = "none";
	if ((fd = open(q->disk_path, O_RDWR | O_DIRECT | O_CLOEXEC)) == -1)
		q->cache = "writeback";
	else
		close(fd);
	return 0;
}

static void
qemu_launch(struct qemu *q)
{
	struct timeval	 tv = { 0, QEMU_CONNECT_RETRY_MS * 1000 };
	char		**argv = NULL, *line = NULL, *cause = NULL;

	(void)unlink(q->qmp_path);
	(void)unlink(q->agent_path);
	(void)unlink(q->console_path);
	if (qemu_make_disk(q, &cause) == -1 ||
	    (argv = qemu_argv_build(q, &cause)) == NULL)
		goto fail;
	line = qemu_argv_join(argv);
	qemu_report(q, BACKEND_EV_INFO, json_pack("{ss* ss ss}", "command",
	    line, "accel", q->accel == PLAN_ACCEL_KVM ? "kvm" : "tcg",
	    "disk_cache", q->cache), "launching QEMU");
	free(line);
	q->launched_ns = clock_mono_ns();
	q->state = QEMU_LAUNCHING;
	if ((q->proc = proc_spawn(q->base, argv, q->log_path, qemu_exited, q,
	    &cause)) == NULL)
		goto fail;
	qemu_argv_free(argv);
	q->connect_tries = 0;
	event_assign(q->timer, q->base, -1, 0, qemu_connect_qmp, q);
	evtimer_add(q->timer, &tv);
	return;
fail:
	qemu_argv_free(argv);
	q->state = QEMU_GONE;
	qemu_op_end(q, -1, cause, NULL);
	free(cause);
}

static void
qemu_launch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qemu	*q = arg;

	if (q->op.kind == QEMU_OP_START)
		qemu_launch(q);
}

static void
qemu_accel_known(void *arg, int accel, const char *why, bool probed)
{
	struct qemu	*q = arg;

	if (q->op.kind != QEMU_OP_START)
		return;
	q->accel = accel;
	qemu_report(q, BACKEND_EV_INFO, json_pack("{ss ss ss sb}", "requested",
	    "auto", "chosen", accel == PLAN_ACCEL_KVM ? "kvm" : "tcg", "why", why,
	    "probed_now", probed), "accel auto: %s (%s)", accel ==
	    PLAN_ACCEL_KVM ? "kvm" : "tcg", probed ? "probed for this run" :
	    "known from an earlier probe");
	qemu_launch(q);
}

/*
 * A soak's next pass starts the partition again: a new VM from the boot
 * topology, a new disk, ids from the start. The last pass's console stays
 * as console.passN.log; console.log is always the current VM's.
 */
static void
qemu_reset(struct qemu *q)
{
	struct qmp	*m = q->qmp;
	char		*old = NULL;

	q->qmp = NULL;
	qmp_free(m);
	console_watch_free(q->console);
	q->console = NULL;
	proc_free(q->proc);
	q->proc = NULL;
	evtimer_del(q->timer);
	evtimer_del(q->panic_timer);
	json_decref(q->panic_detail);
	q->panic_detail = NULL;
	free(q->qmp_why);
	q->qmp_why = NULL;
	q->pass++;
	if (q->console_path != NULL && asprintf(&old, "%s/console.pass%u.log",
	    q->run_dir, q->pass) != -1) {
		(void)rename(q->console_path, old);
		free(old);
	}
	q->cpus = q->next_cpu = q->next_dimm = 0;
	q->memory = q->vmem_size = 0;
	q->stop_ns = q->stopped_mono_ns = 0;
	q->pm_armed = q->holding = q->crashed = q->reported = false;
	q->connect_tries = 0;
	q->state = QEMU_CREATED;
}

static void
qemu_start(struct backend *b, backend_done_cb cb, void *arg)
{
	struct qemu	*q = (struct qemu *)b;
	const char	*kpkg, *kver;

	if (q->state == QEMU_GONE && q->op.kind == QEMU_OP_NONE)
		qemu_reset(q);
	if (q->state != QEMU_CREATED ||
	    qemu_op_take(q, QEMU_OP_START, cb, arg) == -1) {
		qemu_refuse(q, cb, arg);
		return;
	}
	if (q->manifest != NULL) {
		kpkg = json_string_value(json_object_get(json_object_get(
		    q->manifest, "kernel"), "package"));
		kver = json_string_value(json_object_get(json_object_get(
		    q->manifest, "kernel"), "version"));
		qemu_report(q, BACKEND_EV_INFO, json_incref(q->manifest),
		    "guest image: %s %s", kpkg != NULL ? kpkg : "?",
		    kver != NULL ? kver : "?");
	}
	if (q->attach) {
		q->state = QEMU_LAUNCHING;
		event_assign(q->timer, q->base, -1, 0, qemu_connect_qmp, q);
		event_active(q->timer, 0, 0);
		return;
	}
	if (q->accel == PLAN_ACCEL_AUTO) {
		q->state = QEMU_PROBING;
		qemu_accel_resolve(q->base, q->plan->target.qemu.binary, q->kernel,
		    q->run_dir, qemu_accel_known, q);
		return;
	}
	qemu_report(q, BACKEND_EV_INFO, json_pack("{ss}", "chosen", q->accel ==
	    PLAN_ACCEL_KVM ? "kvm" : "tcg"), "accel %s (the plan's choice)",
	    q->accel == PLAN_ACCEL_KVM ? "kvm" : "tcg");
	/* From the loop: a launch failure must not call back inside start. */
	q->state = QEMU_PROBING;
	event_assign(q->timer, q->base, -1, 0, qemu_launch_cb, q);
	event_active(q->timer, 0, 0);
}

/* Stop */

static void
qemu_quit_timer(evutil_socket_t fd, short what, void *arg)
{
	struct qemu	*q = arg;

	/* quit was not enough: the process group goes now. */
	log_warnx("run %" PRId64 ": QEMU did not quit within %d ms: SIGKILL",
	    q->run_id, QEMU_QUIT_MS);
	proc_signal(q->proc, SIGKILL);
}

static void
qemu_quit_done(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	/* The exit (or the quit timer) ends the stop, not this answer. */
}

static void
qemu_stop(struct backend *b, backend_done_cb cb, void *arg)
{
	struct qemu	*q = (struct qemu *)b;
	struct timeval	 tv = { QEMU_QUIT_MS / 1000, 0 };

	/* Whatever was in flight will not finish now. */
	if (q->op.kind != QEMU_OP_NONE && q->op.kind != QEMU_OP_STOP)
		qemu_op_end(q, -1, "the VM is stopping", NULL);
	if (q->op.kind == QEMU_OP_STOP) {
		qemu_refuse(q, cb, arg);
		return;
	}
	(void)qemu_op_take(q, QEMU_OP_STOP, cb, arg);
	qemu_accel_cancel(q);
	evtimer_del(q->timer);
	if (q->console != NULL)
		console_watch_poll(q->console);
	if (q->attach || !proc_running(q->proc)) {
		/* An attached VM is the user's: hotsoak only lets go of it. */
		struct qmp	*m = q->qmp;

		q->state = QEMU_GONE;
		q->qmp = NULL;
		qmp_free(m);
		qemu_cleanup(q);
		qemu_op_end_later(q, NULL);
		return;
	}
	q->state = QEMU_STOPPING;
	/* A paused VM (a panic, a hold) quits as well as a running one. */
	if (q->qmp == NULL || qemu_cmd(q, "quit", NULL, qemu_quit_done) == -1)
		proc_signal(q->proc, SIGTERM);
	event_assign(q->timer, q->base, -1, 0, qemu_quit_timer, q);
	evtimer_add(q->timer, &tv);
}

static int
qemu_topology(struct backend *b, struct backend_topology *t, char **cause)
{
	struct qemu	*q = (struct qemu *)b;

	if (q->state != QEMU_RUNNING)
		return cause_set(cause, "the VM is not running");
	t->cpus = q->cpus;
	t->memory = q->memory;
	return 0;
}

static const char *
qemu_io_path(struct backend *b)
{
	return ((struct qemu *)b)->io_path;
}

static void
qemu_free(struct backend *b)
{
	struct qemu	*q = (struct qemu *)b;
	struct qmp	*m;

	if (q == NULL)
		return;
	q->freeing = true;
	qemu_accel_cancel(q);
	console_watch_free(q->console);
	q->console = NULL;
	m = q->qmp;
	q->qmp = NULL;		/* cancelled callbacks send nothing more */
	qmp_free(m);
	proc_free(q->proc);
	qemu_cleanup(q);
	if (q->timer != NULL)
		event_free(q->timer);
	if (q->later != NULL)
		event_free(q->later);
	if (q->panic_timer != NULL)
		event_free(q->panic_timer);
	json_decref(q->panic_detail);
	free(q->panic_title);
	q->freeing = false;
	if (q->op.kind != QEMU_OP_NONE)
		qemu_op_end(q, -1, "cancelled", NULL);
	free(q->later_cause);
	free(q->qmp_why);
	free(q->run_dir);
	free(q->token_file);
	free(q->qmp_path);
	free(q->agent_path);
	free(q->console_path);
	free(q->disk_path);
	free(q->log_path);
	free(q->kernel);
	free(q->initrd);
	free(q->io_path);
	free(q->accel_why);
	json_decref(q->manifest);
	free(q);
}

/* Create */

/* The built guest image's manifest, or NULL with *cause. */
static json_t *
qemu_manifest_load(const char *dir, char **cause)
{
	json_error_t	 e;
	json_t		*m;
	char		 path[4096];

	snprintf(path, sizeof path, "%s/manifest.json", dir);
	if ((m = json_load_file(path, 0, &e)) == NULL) {
		cause_set(cause, "no guest image in %s (%s): run `make guest`, or "
		    "give target.qemu.kernel and initrd", dir, e.text);
		return NULL;
	}
	if (!json_is_object(m)) {
		json_decref(m);
		cause_set(cause, "%s: not a JSON object", path);
		return NULL;
	}
	return m;
}

/* "unix:PATH" or PATH, the part that is a path. */
static const char *
unix_path(const char *spec)
{
	return strncmp(spec, "unix:", 5) == 0 ? spec + 5 : spec;
}

static int
qemu_paths(struct qemu *q, const struct backend_env *env, char **cause)
{
	const struct plan_qemu	*pq = &env->plan->target.qemu;
	const char		*chan = env->plan->agent.channel;

	if (q->attach) {
		if (chan == NULL || strncmp(chan, "unix:", 5) != 0)
			return cause_set(cause, "attaching to a VM needs "
			    "agent.channel: unix:PATH, the host end of its agent's "
			    "virtio-serial port");
		if ((q->qmp_path = strdup(unix_path(pq->qmp))) == NULL ||
		    (q->agent_path = strdup(unix_path(chan))) == NULL)
			return cause_set(cause, "out of memory");
		return 0;
	}
	if (asprintf(&q->qmp_path, "%s/qmp.sock", env->run_dir) == -1 ||
	    asprintf(&q->agent_path, "%s/vm-agent.sock", env->run_dir) == -1 ||
	    asprintf(&q->console_path, "%s/console.log", env->run_dir) == -1 ||
	    asprintf(&q->disk_path, "%s/disk.raw", env->run_dir) == -1 ||
	    asprintf(&q->log_path, "%s/qemu.log", env->run_dir) == -1) {
		q->qmp_path = q->agent_path = q->console_path = NULL;
		q->disk_path = q->log_path = NULL;
		return cause_set(cause, "out of memory");
	}
	if (strlen(q->qmp_path) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
	    strlen(q->agent_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return cause_set(cause, "the run folder's path is too long for a "
		    "unix socket: %s", q->agent_path);
	return 0;
}

/* The kernel and initramfs: the plan's, else the built guest image's. */
static int
qemu_image(struct qemu *q, const struct backend_env *env, char **cause)
{
	const struct plan_qemu	*pq = &env->plan->target.qemu;

	if (pq->kernel == NULL || pq->initrd == NULL) {
		if (env->guest_dir == NULL)
			return cause_set(cause, "no guest image: hotsoakd was not "
			    "given --guest-dir, and the plan names no kernel");
		if ((q->manifest = qemu_manifest_load(env->guest_dir, cause)) ==
		    NULL)
			return -1;
	}
	if (pq->kernel != NULL)
		q->kernel = strdup(pq->kernel);
	else if (asprintf(&q->kernel, "%s/vmlinux", env->guest_dir) == -1)
		q->kernel = NULL;
	if (pq->initrd != NULL)
		q->initrd = strdup(pq->initrd);
	else if (asprintf(&q->initrd, "%s/initramfs.cpio.gz", env->guest_dir) ==
	    -1)
		q->initrd = NULL;
	if (q->kernel == NULL || q->initrd == NULL)
		return cause_set(cause, "out of memory");
	if (access(q->kernel, R_OK) == -1)
		return cause_set(cause, "guest kernel %s: %s", q->kernel,
		    strerror(errno));
	if (access(q->initrd, R_OK) == -1)
		return cause_set(cause, "guest initramfs %s: %s", q->initrd,
		    strerror(errno));
	return 0;
}

/* The caller frees the result with backend_free, or *cause on NULL. */
static struct backend *
qemu_create(const struct backend_env *env, char **cause)
{
	struct qemu	*q;
	const char	*io;

	if ((q = calloc(1, sizeof *q)) == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	q->base = env->base;
	q->plan = env->plan;
	q->hooks = env->hooks;
	q->run_id = env->run_id;
	q->attach = env->plan->target.qemu.qmp != NULL;
	q->accel = env->plan->target.qemu.accel;
	q->state = QEMU_CREATED;
	q->cache = "none";
	if ((q->timer = evtimer_new(q->base, qemu_connect_qmp, q)) == NULL ||
	    (q->later = event_new(q->base, -1, 0, qemu_later_cb, q)) == NULL ||
	    (q->panic_timer = evtimer_new(q->base, qemu_panic_grace, q)) ==
	    NULL ||
	    (q->run_dir = strdup(env->run_dir)) == NULL ||
	    (env->token_file != NULL &&
	    (q->token_file = strdup(env->token_file)) == NULL)) {
		cause_set(cause, "out of memory");
		goto fail;
	}
	if (!q->attach && q->token_file == NULL) {
		cause_set(cause, "the qemu backend needs the run's token file");
		goto fail;
	}
	if (qemu_paths(q, env, cause) == -1 ||
	    (!q->attach && qemu_image(q, env, cause) == -1))
		goto fail;
	/* The guest image's first virtio disk is the run's disk. */
	io = env->plan->workload.io.path;
	if (io == NULL || strcmp(io, "auto") == 0)
		io = "/dev/vda";
	if ((q->io_path = strdup(io)) == NULL) {
		cause_set(cause, "out of memory");
		goto fail;
	}
	return &q->be;
fail:
	qemu_free(&q->be);
	return NULL;
}

const struct backend_ops backend_qemu = {
	.name = "qemu",
	.create = qemu_create,
	.start = qemu_start,
	.stop = qemu_stop,
	.hot_add_cpu = qemu_op_hot_add_cpu,
	.hot_add_memory = qemu_op_hot_add_memory,
	.replace_prepare = qemu_op_replace_prepare,
	.replace_begin = qemu_op_replace_begin,
	.replace_end = qemu_op_replace_end,
	.topology = qemu_topology,
	.io_path = qemu_io_path,
	.free = qemu_free,
	.hot_add_io_bridge = qemu_op_hot_add_io_bridge,
};
