/* backend-local.h: how the local backend confines its simulated partition
 * (the agent's process tree): cgroup v2, cgroup v1 or none, as an ops table. */
#ifndef HOTSOAK_BACKEND_LOCAL_H
#define HOTSOAK_BACKEND_LOCAL_H

#include <sys/types.h>

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* cgroups one strategy makes at most (v1: cpuset, memory, freezer). */
#define LOCAL_CONFINE_MAX	3

/*
 * One partition's confinement. Strategies fill it in setup; the strings
 * are freed by local_confine_teardown.
 */
struct local_confine {
	const struct local_confine_ops *ops;
	char		*dirs[LOCAL_CONFINE_MAX];	/* cgroups made, removed at teardown */
	size_t		 ndirs;
	/* cgroup.procs files the agent joins before exec, NULL-terminated. */
	char		*procs[LOCAL_CONFINE_MAX + 1];
	char		*cpus_file;	/* cpuset.cpus */
	char		*memory_file;	/* memory.limit_in_bytes or memory.max */
	char		*freeze_file;	/* freezer.state or cgroup.freeze */
	char		*events_file;	/* v2: cgroup.events, where "frozen 1" shows */
	bool		 affinity;	/* the agent's CPU affinity is the confinement */
	pid_t		 pid;		/* the agent (and its process group), once forked */
	cpu_set_t	 cpus;		/* the host CPUs given now */
	uint64_t	 memory;	/* the limit now; 0: none */
};

struct local_confine_ops {
	const char	*name;		/* "cgroup v2", "cgroup v1", "none" */
	const char	*what;		/* what holds the partition, for the timeline */
	const char	*method;	/* how a replace holds it: "freezer v1", ... */
	/*
	 * Make the confinement of a partition called name with the host CPUs
	 * cpus and a memory limit (0: none). -1 with *cause (allocated, the
	 * caller frees) when this strategy cannot be had here; nothing is
	 * then left behind.
	 */
	int	(*setup)(struct local_confine *, const char *name,
		    const cpu_set_t *cpus, uint64_t memory, char **cause);
	int	(*set_cpus)(struct local_confine *, const cpu_set_t *,
		    char **cause);
	int	(*set_memory)(struct local_confine *, uint64_t, char **cause);
	/* Ask for the partition to be held (freeze) or let go (thaw) ... */
	int	(*freeze)(struct local_confine *, char **cause);
	int	(*thaw)(struct local_confine *, char **cause);
	/* ... and whether that took hold: 1 yes, 0 not yet, -1 with *cause. */
	int	(*settled)(struct local_confine *, bool frozen, char **cause);
};

extern const struct local_confine_ops local_confine_v2;
extern const struct local_confine_ops local_confine_v1;
extern const struct local_confine_ops local_confine_none;

/*
 * Set up c the way plan_cgroup which (enum plan_cgroup) says: AUTO tries
 * v2, then v1, then none, and puts why the others were passed over into
 * *skipped (allocated, the caller frees; NULL when the first was taken).
 * -1 with *cause when an explicit V1 or V2 cannot be set up.
 */
int	local_confine_setup(struct local_confine *c, int which, const char *name,
	    const cpu_set_t *cpus, uint64_t memory, char **skipped, char **cause);

/*
 * Remove the cgroups (their processes must be gone) and free c's strings; c
 * can be set up again. -1 with *cause naming a cgroup left behind.
 */
int	local_confine_teardown(struct local_confine *c, char **cause);

/*
 * In the forked child, before exec: join the cgroups (or take the
 * affinity). Async-signal-safe. -1 with errno set and *step the index of
 * the procs file that failed (ndirs for the affinity).
 */
int	local_confine_enter(const struct local_confine *c, int *step);

/* "0-3,6": the list form of a CPU set, as cpuset.cpus takes it. */
void	local_cpulist(const cpu_set_t *, char *buf, size_t len);

#endif
