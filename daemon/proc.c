/* proc.c: spawn a child in its own process group, tied to the daemon's
 * life, and learn of its exit through a pidfd (or a poll where there is
 * none) without ever calling waitpid(-1): other runs own other children. */
#include "config.h"

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "hotsoak/util.h"
#include "proc.h"

#define PROC_POLL_MS	100	/* waitid polling where there is no pidfd */

struct proc {
	struct event_base *base;
	pid_t		 pid;		/* 0 once reaped */
	int		 pidfd;
	struct event	*ev;
	proc_exit_cb	 cb;
	void		*arg;
};

/* The daemon's pid, for the child's parent-death check. */
static pid_t	proc_parent;

static void
proc_arm(struct proc *p)
{
	struct timeval	tv = { 0, PROC_POLL_MS * 1000 };

	event_add(p->ev, p->pidfd == -1 ? &tv : NULL);
}

static void
proc_check(evutil_socket_t fd, short what, void *arg)
{
	struct proc	*p = arg;
	int		 status = 0;
	pid_t		 r;

	if (p->pid <= 0)
		return;
	while ((r = waitpid(p->pid, &status, WNOHANG)) == -1 && errno == EINTR)
		;
	if (r == 0) {
		proc_arm(p);
		return;
	}
	if (r == -1)
		status = 0;	/* reaped elsewhere: gone, how is unknown */
	/* What the child left in its group goes with it. */
	(void)kill(-p->pid, SIGKILL);
	p->pid = 0;
	if (p->cb != NULL)
		p->cb(p->arg, status);
}

/* The child: its own group, dies with the daemon, stdio, exec. */
static void __attribute__((noreturn))
proc_child(int errfd, int logfd, int nullfd, char *const argv[])
{
	struct sigaction	sa;
	sigset_t		none;
	int			sig, i, e;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)setpgid(0, 0);
	/* A killed hotsoakd must not leave guests behind that nobody stops. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != proc_parent)
		goto fail;
	if (dup2(nullfd, 0) == -1 || dup2(logfd, 1) == -1 || dup2(logfd, 2) == -1)
		goto fail;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) == -1)
#endif
		for (i = 3; i < 65536; i++)
			if (i != errfd)
				(void)fcntl(i, F_SETFD, FD_CLOEXEC);
	execvp(argv[0], argv);
fail:
	e = errno;
	(void)!write(errfd, &e, sizeof e);
	_exit(127);
}

/* The caller frees the result with proc_free, or *cause on NULL. */
struct proc *
proc_spawn(struct event_base *base, char *const argv[], const char *log_path,
    proc_exit_cb cb, void *arg, char **cause)
{
	struct proc	*p;
	int		 ep[2] = { -1, -1 }, logfd = -1, nullfd = -1, err = 0;
	ssize_t		 n;
	pid_t		 pid;

	if ((p = calloc(1, sizeof *p)) == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	p->base = base;
	p->pidfd = -1;
	p->cb = cb;
	p->arg = arg;
	if (pipe2(ep, O_CLOEXEC) == -1) {
		cause_set(cause, "pipe: %s", strerror(errno));
		goto fail;
	}
	if ((logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) == -1) {
		cause_set(cause, "%s: %s", log_path, strerror(errno));
		goto fail;
	}
	if ((nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		cause_set(cause, "/dev/null: %s", strerror(errno));
		goto fail;
	}
	proc_parent = getpid();
	if ((pid = fork()) == -1) {
		cause_set(cause, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		proc_child(ep[1], logfd, nullfd, argv);
	(void)setpgid(pid, pid);
	close(ep[1]);
	ep[1] = -1;
	/* exec closes the pipe (CLOEXEC); a failed one writes its errno first. */
	while ((n = read(ep[0], &err, sizeof err)) == -1 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof err) {
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		cause_set(cause, "%s: %s", argv[0], strerror(err));
		goto fail;
	}
	p->pid = pid;
#ifdef SYS_pidfd_open
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	if (p->pidfd != -1)
		p->ev = event_new(base, p->pidfd, EV_READ, proc_check, p);
	else
		p->ev = evtimer_new(base, proc_check, p);
	if (p->ev == NULL) {
		cause_set(cause, "out of memory");
		goto fail;
	}
	proc_arm(p);
	close(ep[0]);
	close(logfd);
	close(nullfd);
	return p;
fail:
	if (ep[0] != -1)
		close(ep[0]);
	if (ep[1] != -1)
		close(ep[1]);
	if (logfd != -1)
		close(logfd);
	if (nullfd != -1)
		close(nullfd);
	proc_free(p);
	return NULL;
}

pid_t
proc_pid(const struct proc *p)
{
	return p->pid;
}

bool
proc_running(const struct proc *p)
{
	return p != NULL && p->pid > 0;
}

void
proc_signal(struct proc *p, int sig)
{
	if (p != NULL && p->pid > 0) {
		(void)kill(-p->pid, sig);
		(void)kill(p->pid, sig);
	}
}

void
proc_free(struct proc *p)
{
	if (p == NULL)
		return;
	if (p->pid > 0) {
		(void)kill(-p->pid, SIGKILL);
		(void)kill(p->pid, SIGKILL);
		while (waitpid(p->pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	if (p->ev != NULL)
		event_free(p->ev);
	if (p->pidfd != -1)
		close(p->pidfd);
	free(p);
}

const char *
proc_status_text(int status)
{
	static char	buf[64];
	const char	*name;

	if (WIFSIGNALED(status)) {
		name = sigabbrev_np(WTERMSIG(status));
		if (name != NULL)
			snprintf(buf, sizeof buf, "killed by SIG%s", name);
		else
			snprintf(buf, sizeof buf, "killed by signal %d",
			    WTERMSIG(status));
	} else
		snprintf(buf, sizeof buf, "exited with status %d",
		    WEXITSTATUS(status));
	return buf;
}
