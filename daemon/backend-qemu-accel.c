/* backend-qemu-accel.c: what `accel: auto` means on this host. A /dev/kvm
 * that opens is not enough: a host that is itself a guest may offer a KVM
 * that cannot run a stock kernel (QEMU aborts on an MSR, or ends in a KVM
 * internal error). So the first run that asks boots the guest kernel under
 * KVM without a root file system: a kernel that reaches its "unable to
 * mount root" panic (and so reboots, and so QEMU exits 0 under
 * -no-reboot) proves KVM runs guests. The answer is kept for the life of
 * the daemon, so later runs pay nothing. */
#include "config.h"

#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "backend-qemu.h"
#include "proc.h"

/* A real KVM boots to the root-mount panic in a second or two. */
#define ACCEL_PROBE_MS	20000

enum accel_state {
	ACCEL_UNKNOWN,
	ACCEL_PROBING,
	ACCEL_KNOWN
};

struct accel_waiter {
	qemu_accel_cb	 cb;
	void		*arg;
	TAILQ_ENTRY(accel_waiter) entry;
};

static struct {
	enum accel_state state;
	int		 accel;
	char		 why[256];
	struct proc	*proc;
	struct event	*timer;
	struct event	*later;		/* answers waiters off the caller's stack */
	char		*console;
	char		*log;
	uint64_t	 started_ns;
	TAILQ_HEAD(, accel_waiter) waiters;
	bool		 fresh;		/* decided since waiters were last answered */
	bool		 init;
} accel;

static void
accel_answer(evutil_socket_t fd, short what, void *arg)
{
	struct accel_waiter	*w;
	bool			 probed = accel.fresh;

	while ((w = TAILQ_FIRST(&accel.waiters)) != NULL) {
		TAILQ_REMOVE(&accel.waiters, w, entry);
		w->cb(w->arg, accel.accel, accel.why, probed);
		free(w);
	}
	accel.fresh = false;
}

/* Whether the probe's console shows the kernel ran far enough. */
static bool
accel_console_booted(void)
{
	char	 buf[65536];
	ssize_t	 n;
	int	 fd;

	if ((fd = open(accel.console, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, "Linux version") != NULL &&
	    strstr(buf, "Kernel panic") != NULL;
}

static void
accel_decided(int which, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
accel_decided(int which, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(accel.why, sizeof accel.why, fmt, ap);
	va_end(ap);
	accel.accel = which;
	accel.state = ACCEL_KNOWN;
	if (accel.timer != NULL)
		evtimer_del(accel.timer);
	proc_free(accel.proc);
	accel.proc = NULL;
	if (accel.console != NULL)
		(void)unlink(accel.console);
	if (accel.log != NULL)
		(void)unlink(accel.log);
	accel.fresh = true;
	event_active(accel.later, 0, 0);
}

static void
accel_probe_exit(void *arg, int status)
{
	uint64_t	ms = (clock_mono_ns() - accel.started_ns) / 1000000;

	/* Reaped already: accel_decided's proc_free only frees. */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    accel_console_booted())
		accel_decided(PLAN_ACCEL_KVM, "KVM booted the guest kernel in "
		    "%llu ms", (unsigned long long)ms);
	else
		accel_decided(PLAN_ACCEL_TCG, "/dev/kvm opens but KVM did not run "
		    "the guest kernel (QEMU %s after %llu ms): using TCG",
		    proc_status_text(status), (unsigned long long)ms);
}

static void
accel_probe_timeout(evutil_socket_t fd, short what, void *arg)
{
	accel_decided(PLAN_ACCEL_TCG, "/dev/kvm opens but a guest kernel did not "
	    "boot under KVM within %d ms: using TCG", ACCEL_PROBE_MS);
}

static void
accel_probe(struct event_base *base, const char *binary, const char *kernel,
    const char *work_dir)
{
	/* execvp wants char *: writable copies of the fixed words. */
	static char	 w_nodef[] = "-nodefaults", w_nouser[] = "-no-user-config";
	static char	 w_display[] = "-display", w_none[] = "none";
	static char	 w_machine[] = "-machine", w_pc[] = "pc", w_accel[] = "-accel";
	static char	 w_kvm[] = "kvm", w_cpu[] = "-cpu", w_host[] = "host";
	static char	 w_m[] = "-m", w_256[] = "256M", w_kernel[] = "-kernel";
	static char	 w_append[] = "-append";
	static char	 w_cmdline[] = "console=ttyS0 panic=-1";
	static char	 w_serial[] = "-serial", w_noreboot[] = "-no-reboot";
	char		*bin, *kern;
	struct timeval	 tv = { ACCEL_PROBE_MS / 1000, 0 };
	char		*argv[32], serial[4200], *cause = NULL;
	int		 n = 0, fd;
	struct proc	*p;

	if ((fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)) == -1) {
		accel_decided(PLAN_ACCEL_TCG, "/dev/kvm: %s: using TCG",
		    strerror(errno));
		return;
	}
	close(fd);
	free(accel.console);
	free(accel.log);
	if (asprintf(&accel.console, "%s/kvm-probe-console.log", work_dir) ==
	    -1 || asprintf(&accel.log, "%s/kvm-probe.log", work_dir) == -1) {
		accel.console = accel.log = NULL;
		accel_decided(PLAN_ACCEL_TCG, "out of memory: using TCG");
		return;
	}
	(void)unlink(accel.console);
	snprintf(serial, sizeof serial, "file:%s", accel.console);
	if ((bin = strdup(binary)) == NULL || (kern = strdup(kernel)) == NULL) {
		free(bin);
		accel_decided(PLAN_ACCEL_TCG, "out of memory: using TCG");
		return;
	}
	argv[n++] = bin;
	argv[n++] = w_nodef;
	argv[n++] = w_nouser;
	argv[n++] = w_display;
	argv[n++] = w_none;
	argv[n++] = w_machine;
	argv[n++] = w_pc;
	argv[n++] = w_accel;
	argv[n++] = w_kvm;
	argv[n++] = w_cpu;
	argv[n++] = w_host;
	argv[n++] = w_m;
	argv[n++] = w_256;
	argv[n++] = w_kernel;
	argv[n++] = kern;
	argv[n++] = w_append;
	argv[n++] = w_cmdline;
	argv[n++] = w_serial;
	argv[n++] = serial;
	argv[n++] = w_noreboot;
	argv[n] = NULL;
	accel.state = ACCEL_PROBING;
	accel.started_ns = clock_mono_ns();
	p = proc_spawn(base, argv, accel.log, accel_probe_exit, NULL, &cause);
	free(bin);
	free(kern);
	if (p == NULL) {
		accel_decided(PLAN_ACCEL_TCG, "the KVM probe did not start (%s): "
		    "using TCG", cause);
		free(cause);
		return;
	}
	accel.proc = p;
	evtimer_add(accel.timer, &tv);
}

void
qemu_accel_resolve(struct event_base *base, const char *binary,
    const char *kernel, const char *work_dir, qemu_accel_cb cb, void *arg)
{
	struct accel_waiter	*w;

	if (!accel.init) {
		TAILQ_INIT(&accel.waiters);
		accel.timer = evtimer_new(base, accel_probe_timeout, NULL);
		accel.later = event_new(base, -1, 0, accel_answer, NULL);
		accel.init = true;
	}
	if ((w = calloc(1, sizeof *w)) == NULL) {
		cb(arg, PLAN_ACCEL_TCG, "out of memory: using TCG", false);
		return;
	}
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&accel.waiters, w, entry);
	switch (accel.state) {
	case ACCEL_KNOWN:
		event_active(accel.later, 0, 0);
		break;
	case ACCEL_PROBING:
		break;
	case ACCEL_UNKNOWN:
		accel_probe(base, binary, kernel, work_dir);
		break;
	}
}

void
qemu_accel_cancel(void *arg)
{
	struct accel_waiter	*w, *next;

	if (!accel.init)
		return;
	for (w = TAILQ_FIRST(&accel.waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->arg == arg) {
			TAILQ_REMOVE(&accel.waiters, w, entry);
			free(w);
		}
	}
}
