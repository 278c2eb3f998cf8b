/* backend.h: the hypervisor interface, one ops table per backend (local,
 * qemu, ...), so the run engine drives any partition the same way. */
#ifndef HOTSOAK_BACKEND_H
#define HOTSOAK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct event_base;
struct plan;
struct backend_ops;

/* What a backend reports on its own, outside any operation. */
enum backend_event {
	BACKEND_EV_CRASH,	/* the partition crashed: a bugcheck finding */
	BACKEND_EV_STOPPED,	/* the partition stopped when nobody asked it to */
	BACKEND_EV_EXITED,	/* the partition is gone (its process exited) */
	BACKEND_EV_ERROR,	/* the backend itself failed: an error verdict */
	BACKEND_EV_INFO,	/* worth a line in the run's timeline, nothing more */
	BACKEND_EV_COUNT	/* number of events, not an event */
};

/* Names of the events as the run's timeline spells them. */
extern const char *const backend_event_names[BACKEND_EV_COUNT];

/*
 * How the backend tells its run about events. Called on the run's event
 * base, never from inside a backend_* call. detail is stolen (NULL: none);
 * title is borrowed for the call.
 */
struct backend_hooks {
	void	(*event)(void *arg, enum backend_event ev, const char *title,
		    json_t *detail);
	/*
	 * The backend dialled the agent's channel itself (QEMU serves the
	 * virtio-serial port's host end as a listening socket): the run takes
	 * fd as the agent's connection. -1 with an allocated *cause when it
	 * cannot; fd is then still the backend's. NULL: a run that only listens.
	 */
	int	(*agent_fd)(void *arg, int fd, char **cause);
	void	*arg;
};

/* What a run hands its backend; every string outlives the backend. */
struct backend_env {
	struct event_base *base;
	const struct plan *plan;
	int64_t		 run_id;
	const char	*run_dir;	/* private to the run, exists, removed by the run */
	/*
	 * The channel spec the agent dials ("unix:RUN_DIR/agent.sock"): the
	 * run listens there before backend start is called.
	 */
	const char	*agent_channel;
	const char	*token_file;	/* the token the agent's hello must carry */
	const char	*agent_binary;	/* hotsoak-agent, for backends that run it on this host */
	const char	*guest_dir;	/* the built guest image (vmlinux, initramfs); NULL: none */
	struct backend_hooks hooks;
	/* The backend to create instead of the plan's (tests); NULL: the plan's. */
	const struct backend_ops *ops;
};

/*
 * Every asynchronous operation takes (cb, arg) and calls cb exactly once,
 * on the event base and never before the operation's call has returned:
 * error 0 with result (borrowed for the call: what was done, for the
 * timeline, or NULL), or error -1 with a cause for people. Freeing the
 * backend cancels what is pending: cb runs with -1 and "cancelled".
 */
typedef void (*backend_done_cb)(void *arg, int error, const char *cause,
    json_t *result);

/* The hypervisor's view of the partition, to compare with the agent's. */
struct backend_topology {
	unsigned	cpus;		/* CPUs given to the partition */
	uint64_t	memory;		/* bytes of memory given to it */
};

struct backend;

struct backend_ops {
	const char	*name;		/* as plans spell target.backend */
	/* Set up, start nothing. NULL with an allocated *cause on error. */
	struct backend	*(*create)(const struct backend_env *, char **cause);
	/* Start the partition and its agent; done once both were started. */
	void		(*start)(struct backend *, backend_done_cb, void *);
	/* Stop everything start started; safe in any state, even failed. */
	void		(*stop)(struct backend *, backend_done_cb, void *);
	void		(*hot_add_cpu)(struct backend *, unsigned count,
			    backend_done_cb, void *);
	void		(*hot_add_memory)(struct backend *, uint64_t bytes,
			    backend_done_cb, void *);
	/*
	 * Optional: the guest was just asked to suspend its devices (pseudo
	 * S4); done once they are, with what shows it (QEMU: the console's PM
	 * line). NULL: the run waits a fixed settle time instead.
	 */
	void		(*replace_prepare)(struct backend *, backend_done_cb, void *);
	/* Hold the partition stopped (the replace outage) ... */
	void		(*replace_begin)(struct backend *, backend_done_cb, void *);
	/* ... and let it run again. */
	void		(*replace_end)(struct backend *, backend_done_cb, void *);
	/* The hypervisor's view now; -1 with an allocated *cause on error. */
	int		(*topology)(struct backend *, struct backend_topology *,
			    char **cause);
	/*
	 * The path the agent exercises for workload.io.path `auto`, as the
	 * agent sees it. Borrowed from the backend.
	 */
	const char	*(*io_path)(struct backend *);
	/* Stops what runs (without waiting), cancels what is pending, frees. */
	void		(*free)(struct backend *);
	/*
	 * Optional: hot-add an I/O host bridge with a new disk of disk_size
	 * bytes behind it. The result names what was plugged: bridge, disk,
	 * serial (how the guest finds the disk), node, file, size, qmp_ms.
	 * NULL: the backend cannot, and a plan step asking for it fails.
	 */
	void		(*hot_add_io_bridge)(struct backend *, uint64_t disk_size,
			    backend_done_cb, void *);
};

/* Every backend starts with this, so the wrappers below find the ops. */
struct backend {
	const struct backend_ops *ops;
};

/* Indexed by enum plan_backend; NULL where this build has no such backend. */
extern const struct backend_ops *const backend_table[];

extern const struct backend_ops backend_local;
extern const struct backend_ops backend_qemu;

/*
 * The backend env->plan names, created. NULL with an allocated *cause
 * (the caller frees) when the plan's backend is not built in or fails.
 * The caller frees the result with backend_free.
 */
struct backend	*backend_create(const struct backend_env *, char **cause);
void		 backend_free(struct backend *);
const char	*backend_name(const struct backend *);

void	backend_start(struct backend *, backend_done_cb, void *);
void	backend_stop(struct backend *, backend_done_cb, void *);
void	backend_hot_add_cpu(struct backend *, unsigned, backend_done_cb, void *);
void	backend_hot_add_memory(struct backend *, uint64_t, backend_done_cb,
	    void *);
bool	backend_has_replace_prepare(const struct backend *);
void	backend_replace_prepare(struct backend *, backend_done_cb, void *);
void	backend_replace_begin(struct backend *, backend_done_cb, void *);
void	backend_replace_end(struct backend *, backend_done_cb, void *);
int	backend_topology(struct backend *, struct backend_topology *, char **);
bool	backend_has_hot_add_io_bridge(const struct backend *);
/* Only for a backend that has the op (backend_has_hot_add_io_bridge). */
void	backend_hot_add_io_bridge(struct backend *, uint64_t disk_size,
	    backend_done_cb, void *);
const char *backend_io_path(struct backend *);

/* Checks an ops table for missing hooks; -1 with *cause naming the first. */
int	backend_ops_check(const struct backend_ops *, char **cause);

#endif
