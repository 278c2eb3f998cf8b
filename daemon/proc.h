/* proc.h: a child process the daemon starts and watches without blocking
 * (a QEMU, a probe): its own process group, dies with the daemon, output
 * to a log file, exit reported on the event base. */
#ifndef HOTSOAK_PROC_H
#define HOTSOAK_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct event_base;
struct proc;

/* The child ended; status as waitpid gives it. Called once, on the base. */
typedef void (*proc_exit_cb)(void *arg, int status);

/*
 * Starts argv[0] (a name is looked up in PATH) with stdin from /dev/null
 * and stdout and stderr appended to log_path. The child gets SIGKILL when
 * the daemon dies. NULL with an allocated *cause when it could not start
 * (exec failure included). Free with proc_free.
 */
struct proc	*proc_spawn(struct event_base *, char *const argv[],
		    const char *log_path, proc_exit_cb, void *arg, char **cause);
pid_t		 proc_pid(const struct proc *);
bool		 proc_running(const struct proc *);
/* Signals the child's process group, if it still runs. */
void		 proc_signal(struct proc *, int sig);
/* Kills (SIGKILL) and reaps a child still running; the exit callback is not called. */
void		 proc_free(struct proc *);

/* "exited with status 1", "killed by SIGKILL": static storage, one call at a time. */
const char	*proc_status_text(int status);

#endif
