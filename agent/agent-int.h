/* agent-int.h: the linked agent's state, shared by the loop (agent.c), the
 * request handlers (request.c), quiesce and pseudo-S4 (s4.c), hot-add
 * (hotplug.c) and hot-added disks (target.c). Only the loop's thread
 * touches it, except where noted. */
#ifndef HOTSOAK_AGENT_AGENT_INT_H
#define HOTSOAK_AGENT_AGENT_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "agent.h"
#include "hist.h"
#include "io.h"
#include "kmsg.h"
#include "link.h"
#include "memx.h"
#include "topo.h"

#define MS_NS			1000000ULL
#define AGENT_HEARTBEAT_MS	1000	/* until configure says otherwise */
#define AGENT_REPORT_MS		1000
#define AGENT_TOPO_DEBOUNCE_MS	100	/* changes close together go in one message */
#define AGENT_RESCAN_MS		5000	/* sysfs rescans when uevents do come */
#define AGENT_MEMX_MAX		(256ULL << 20)
#define AGENT_MAX_EVENTS	65536	/* engine events waiting for the loop */
#define AGENT_LATE_KEPT		32	/* late completions listed in one report */
#define AGENT_SEEN_SLOTS	65536	/* corruption already reported, per run */
#define AGENT_MAX_TARGETS	8	/* hot-added disks exercised beside the workload */
#define AGENT_TARGET_POLL_MS	50	/* add_target looks for its disk this often */

enum agent_state {
	AGENT_IDLE,		/* no workload running */
	AGENT_RUNNING,		/* the workload issues I/O */
	AGENT_QUIESCED,		/* the workload holds new I/O (quiesce) */
	AGENT_S4,		/* inside a pseudo-S4 cycle */
	AGENT_STATE_COUNT
};

/* "idle", "running", "quiesced", "s4": what heartbeats say. */
extern const char *const agent_state_names[AGENT_STATE_COUNT];

/* configure's workload, checked. */
struct agent_workload {
	char		*path;
	uint64_t	 size;
	uint64_t	 block_size;
	unsigned	 queue_depth;
	unsigned	 workers;	/* 0: per-cpu */
	unsigned	 read_percent;
	bool		 sequential;
	bool		 verify;
	bool		 direct;
	bool		 fill;
	uint64_t	 io_timeout_ms;
	uint64_t	 seed;
	const struct io_engine_ops *engine;
};

struct agent_config {
	bool		 configured;
	struct agent_workload w;
	uint64_t	 mem_size;	/* 0: no memory workload */
	uint64_t	 mem_interval_ms;
	uint64_t	 heartbeat_ms;
	uint64_t	 report_ms;
	bool		 online;	/* online hot-added CPUs and memory at once */
	char		 memory_state[16];	/* how new memory is onlined */
};

/* The work a helper thread does for a request, so the loop keeps reading. */
enum agent_job_kind {
	AGENT_JOB_START,	/* open, fill, start the workload */
	AGENT_JOB_STOP,		/* stop, final verify pass */
	AGENT_JOB_QUIESCE,	/* hold new I/O, drain */
	AGENT_JOB_PSEUDO_S4,	/* a hibernation test cycle */
	AGENT_JOB_ADD_TARGET,	/* find a hot-added disk, fill it, start its run */
	AGENT_JOB_COUNT
};

extern const char *const agent_job_names[AGENT_JOB_COUNT];

struct agent;

/*
 * A hot-added disk the agent exercises beside the configured workload
 * (add_target), with a run of its own. Slots live in struct agent, so
 * their addresses are stable: the run's event callback carries one. The
 * add_target job writes serial and path before its run exists; the loop
 * reads them only after popping the run's events or joining the job.
 */
struct agent_target {
	struct agent	*a;
	unsigned	 index;		/* from 1; the run's events carry it */
	bool		 active;	/* run is started: reports, quiesce, stop include it */
	struct io_run	*run;
	uint64_t	 size;		/* bytes exercised */
	char		 serial[64];
	char		 path[PATH_MAX];
};

struct agent_job {
	enum agent_job_kind kind;
	struct agent	*a;
	struct link_req	 req;
	pthread_t	 thread;
	void		*(*fn)(void *);	/* the thread's work */
	/* Loop only. */
	uint64_t	 deadline_ns;	/* 0: none; past it the request fails */
	bool		 answered;	/* the deadline answered it already */
	enum agent_state prev_state;
	/* In, set before the thread starts. */
	struct io_run	*run;		/* STOP: handed over; others: borrowed */
	struct agent_workload w;	/* START: a copy (path owned) */
	uint64_t	 timeout_ms;
	char		 level[32];	/* PSEUDO_S4 */
	char		*root;		/* PSEUDO_S4: borrowed */
	const bool	*memx_busy;	/* PSEUDO_S4: the loop's flag, read atomically */
	/* Out, read by the loop after the join. */
	int		 rc;
	const char	*code;		/* PROTO_E_* when rc == -1 */
	char		*cause;
	json_t		*result;
	struct io_run	*made;		/* START: the run */
	/* ADD_TARGET: the slot being filled, and what the job measured. */
	struct agent_target *target;
	uint64_t	 found_ms, fill_ms;
	/* STOP, QUIESCE, PSEUDO_S4: the active targets, borrowed. */
	struct agent_target *extra[AGENT_MAX_TARGETS];
	unsigned	 nextra;
};

/* A memory exercise in the background, one at a time. */
struct agent_memx {
	bool		 busy;
	pthread_t	 thread;
	uint64_t	 bytes;
	uint64_t	 seed;
	const char	*why;		/* "hot-add" or "workload" */
	int		 rc;
	char		*cause;
	struct memx_result res;
	uint64_t	 pending;	/* hot-added bytes waiting for their turn */
};

enum agent_event_kind {
	AGENT_EV_IO,		/* from a worker or the watchdog */
	AGENT_EV_JOB,		/* a helper thread finished */
	AGENT_EV_MEMX		/* a memory exercise finished */
};

struct agent_event {
	enum agent_event_kind	 kind;
	struct agent_event	*next;
	struct io_event		 io;
	struct agent_job	*job;
	unsigned		 target;	/* AGENT_EV_IO: 0 the workload, else a target's index */
};

/* What the next report says, and what the last one left off at. */
struct agent_report {
	uint64_t	 seq;
	uint64_t	 last_ns;
	struct io_totals prev;
	struct hist	*prev_hist;
	struct hist	*now_hist;
	struct hist	*interval;
	json_t		*late;		/* late completions since the last report */
	uint64_t	 late_count;
	uint64_t	 repeats;	/* corruption seen again at the same place */
	uint64_t	 kmsg_lost;
	uint64_t	 dropped_reports, dropped_other, events_dropped; /* as of the last */
	uint64_t	 findings_refused;
	uint64_t	*seen;		/* open addressing: corruption reported */
	size_t		 nseen;
};

struct agent {
	char			*root;
	char			*kmsg_path;
	const struct io_engine_ops *engine;
	uint64_t		 memx_max;
	struct link		*link;
	int			 wake_fd;	/* eventfd: events queued, or stop */
	_Atomic bool		 stop;
	bool			 stopping;	/* shutting down: start nothing new */

	/* The event queue: any thread pushes, the loop pops. */
	pthread_mutex_t		 lock;
	struct agent_event	*head, *tail;
	size_t			 nevents;
	_Atomic uint64_t	 events_dropped;

	enum agent_state	 state;
	struct agent_config	 cfg;
	struct io_run		*run;
	struct agent_job	*job;
	struct agent_memx	 memx;

	struct topo_watch	*topo;
	bool			 topo_fd_dead;
	json_t			*topo_changes;	/* the batch waiting for its message */
	uint64_t		 topo_due_ns;	/* 0: nothing waiting */
	uint64_t		 next_rescan_ns;

	struct kmsg_watch	*kmsg;

	uint64_t		 start_ns;
	uint64_t		 next_heartbeat_ns;
	uint64_t		 next_report_ns;	/* 0: not running */
	uint64_t		 next_memload_ns;	/* 0: no memory workload */
	uint64_t		 heartbeat_seq;
	struct agent_report	 rep;

	/* Hot-added disks with runs of their own; slots below ntargets are active. */
	struct agent_target	 targets[AGENT_MAX_TARGETS];
	unsigned		 ntargets;
};

/* request.c */
/* A request type the daemon may send that has no handler, or NULL. */
const char *agent_req_missing(void);
void	agent_on_request(void *arg, const struct link_req *,
	    const struct proto_msg *);
void	agent_job_done(struct agent *, struct agent_job *);
int	agent_job_launch(struct agent *, struct agent_job *,
	    void *(*fn)(void *));
void	agent_job_free(struct agent_job *);

/* Outcomes of a request handler. */
enum agent_req_result {
	AGENT_REQ_DONE,		/* answered (reply or error) */
	AGENT_REQ_WAIT		/* a helper thread's job will answer */
};

/* s4.c */
enum agent_req_result s4_quiesce(struct agent *, const struct link_req *,
	    const json_t *);
enum agent_req_result s4_pseudo(struct agent *, const struct link_req *,
	    const json_t *);
void	s4_done(struct agent *, struct agent_job *);
void	s4_quiesce_done(struct agent *, struct agent_job *);

/* target.c */
enum agent_req_result target_add(struct agent *, const struct link_req *,
	    const json_t *);
void	target_add_done(struct agent *, struct agent_job *);
/* The active targets into j->extra, for a job that must not forget them. */
void	targets_borrow(struct agent *, struct agent_job *);
/* Adds the targets' counters (latency) to t (h), which hold the workload's. */
void	targets_add_totals(struct agent *, struct io_totals *t);
void	targets_add_latency(struct agent *, struct hist *h);
/* [{path, serial, run_id, size, totals}], or NULL when there is no target. */
json_t	*targets_to_json(struct agent *);
/* The target whose events carry index, or NULL. */
const struct agent_target *target_by_index(const struct agent *, unsigned);
void	targets_resume(struct agent *);
void	targets_stop(struct agent *);
/* Stops what runs and frees every target's run; the slots are empty again. */
void	targets_free(struct agent *);

/* crash.c */
enum agent_req_result crash_request(struct agent *, const struct link_req *,
	    const json_t *);

/* hotplug.c */
void	hotplug_open(struct agent *, int uevent_fd);
int	hotplug_fd(const struct agent *);
void	hotplug_read(struct agent *);
void	hotplug_rescan(struct agent *);
void	hotplug_tick(struct agent *, uint64_t now);
int	hotplug_timeout_ms(const struct agent *, uint64_t now);
json_t	*hotplug_snapshot_json(const struct topo *);
/* The engine's settings for a workload (the caller sets path and events). */
void	agent_io_config(const struct agent *, const struct agent_workload *,
	    struct io_config *);
void	hotplug_memx_start(struct agent *, uint64_t bytes, const char *why);
void	hotplug_memx_done(struct agent *);

/* report.c */
void	report_init(struct agent *);
void	report_start(struct agent *);
void	report_send(struct agent *, uint64_t now);
/* target: 0 for the workload's run, else the target whose run it came from. */
void	report_io_event(struct agent *, const struct io_event *,
	    unsigned target);
void	report_kmsg_drain(struct agent *);
void	report_finding(struct agent *, const char *kind, const char *title,
	    uint64_t time_ns, json_t *detail);
void	report_free(struct agent *);

/* agent.c */
void	agent_io_event(void *, const struct io_event *);
void	agent_post(struct agent *, struct agent_event *);
void	agent_set_state(struct agent *, enum agent_state);

#endif
