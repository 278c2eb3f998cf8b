/* run-int.h: the run engine's own view of a run, shared by run.c (the state
 * machine and its hooks) and run-step.c (step execution and operations). */
#ifndef HOTSOAK_RUN_INT_H
#define HOTSOAK_RUN_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "hotsoak/backend.h"
#include "hotsoak/plan.h"
#include "agent-link.h"
#include "run-step.h"
#include "run-verdict.h"
#include "run.h"

/* One state per thing the run waits for; run_drive moves between them. */
enum run_state {
	RUN_S_NEW,		/* made, not started */
	RUN_S_STARTING,		/* the backend starts the partition and its agent */
	RUN_S_CONNECTING,	/* waiting for the agent's hello */
	RUN_S_CONFIGURING,	/* configure sent, waiting for its reply */
	RUN_S_LOADING,		/* start sent: the agent fills its target */
	RUN_S_STEPPING,		/* the plan's steps run under the workload */
	RUN_S_DRAINING,		/* stop sent: the agent's final verify pass */
	RUN_S_STOPPING,		/* the backend stops the partition */
	RUN_S_DONE		/* the verdict is committed */
};

/* The kinds of nested step list a run walks. */
enum frame_kind {
	FRAME_LIST,		/* steps from index to end, once */
	FRAME_REPEAT,		/* all steps, times times */
	FRAME_RANDOM		/* a seeded wait, then one chosen step, times times */
};

#define RUN_MAX_FRAMES	(PLAN_MAX_DEPTH + 2)
#define RUN_PATH_MAX	256

struct run_frame {
	int			 kind;		/* enum frame_kind */
	const struct plan_steps	*steps;
	size_t			 index;		/* next step to run */
	size_t			 end;		/* one past the last step to run */
	unsigned		 iter;		/* passes done (repeat, random) */
	unsigned		 times;
	uint64_t		 min_ms, max_ms; /* random's interval */
	bool			 waited;	/* random: the interval has passed */
	char			 path[RUN_PATH_MAX]; /* this frame's prefix */
};

/* The operation the current step waits on. */
enum op_kind {
	OP_NONE,		/* no step is waiting */
	OP_SLEEP,		/* wait, and random's interval */
	OP_HOT_ADD,		/* backend hot-add, then the step ends */
	OP_REPLACE,		/* quiesce/suspend, hold, resume */
	OP_EXPECT,		/* topology polls until it holds or time runs out */
	OP_INJECT		/* a fault sent to the agent; the crash report ends it */
};

/* Where a replace is. */
enum replace_phase {
	RP_QUIESCE,		/* the agent drains (quiesce) */
	RP_SUSPEND,		/* the agent entered pseudo-S4 (reply pending) */
	RP_BEGIN,		/* the backend is freezing / stopping the partition */
	RP_HOLD,		/* held for the outage */
	RP_END,			/* the backend resumes the partition */
	RP_RESUME,		/* the agent resumes, or pseudo-S4 returns */
	RP_DONE			/* nothing pending */
};

struct run_op {
	int		 kind;		/* enum op_kind */
	unsigned	 gen;		/* bumped per operation: stale callbacks see a new one */
	struct event	*timer;
	uint64_t	 started_ns;	/* CLOCK_MONOTONIC */
	/* hot_add */
	unsigned	 cpus;
	uint64_t	 memory;
	/* replace */
	int		 unit, method, phase;
	uint64_t	 outage_ms;
	uint64_t	 held_ns;	/* CLOCK_MONOTONIC when the hold began */
	bool		 s4_answered;	/* pseudo_s4's reply came */
	bool		 hold_done;	/* the backend resumed the partition */
	json_t		*detail;	/* what the step's record will carry */
	/* expect */
	uint64_t	 deadline_ns;	/* CLOCK_MONOTONIC */
	bool		 polling;	/* a get_topology is out */
	/* inject */
	int		 fault;		/* enum inject_fault */
	/* hot_add io_bridge */
	uint64_t	 disk_size, io_size;
	uint64_t	 target_sent_ns; /* CLOCK_MONOTONIC of the add_target request */
};

/* A hot-add whose arrival in the agent's topology is still awaited. */
struct run_seen {
	bool		 cpu;		/* a CPU add, else memory */
	uint64_t	 want;		/* online CPUs, or online bytes, that show it */
	uint64_t	 sent_ns;	/* CLOCK_MONOTONIC of the backend call */
	char		*step;
};

#define RUN_MAX_SEEN	64

/* What a run has counted, across its passes. */
struct run_counters {
	uint64_t	ios, reads, writes, bytes_read, bytes_written;
	uint64_t	blocks_verified, errors, timeouts, corruptions;
};

/* The step_run handed to exec hooks is the run itself. */
struct step_run {
	struct run	*run;
};

struct run {
	const char	*verdict;	/* run_verdict_names[]: set once recorded */
	struct run_env	 env;
	int64_t		 id;
	uint64_t	 seed;
	uint64_t	 rng;		/* splitmix64 state for random steps */
	struct plan_file *pf;
	const struct plan *plan;	/* pf->plan */
	int		 state;		/* enum run_state */
	char		*dir;		/* state_dir/runs/<id> */
	char		*sock;		/* dir/agent.sock */
	char		*channel;	/* "unix:" sock */
	char		*token;
	char		*token_file;
	struct backend	*backend;
	struct agent_link *link;
	struct step_run	 sr;

	unsigned	 pass;		/* soak passes begun, from 1 */
	uint64_t	 started_ns;	/* CLOCK_MONOTONIC of run_start */
	struct event	*timer;		/* connect deadline */
	struct event	*kick;		/* runs run_drive from the loop */
	struct event	*down_timer;	/* a dropped channel waiting to be judged */
	char		*down_why;

	struct run_frame frames[RUN_MAX_FRAMES];
	unsigned	 nframes;
	struct run_op	 op;
	unsigned	 step_seq;	/* steps begun, the store's seq */
	char		 step_label[RUN_PATH_MAX + 64]; /* "3 hot_add", or "" */
	char		 step_path[RUN_PATH_MAX];
	const struct plan_step *step;	/* the step running, or NULL */
	uint64_t	 step_started_ns; /* CLOCK_REALTIME */
	size_t		 top_index;	/* top-level steps begun in this pass */

	bool		 steps_finished;	/* the last pass's steps ended */
	bool		 restart;	/* another soak pass follows this one */
	bool		 ending;	/* run_end was called */
	bool		 aborted;
	char		*abort_reason;
	char		*error;		/* first harness error */
	bool		 agent_dead;	/* the partition's agent is gone */
	bool		 replace_window; /* a dropped channel is expected now */
	bool		 backend_started;
	bool		 stop_sent;	/* backend_stop was called this pass */
	bool		 hello_seen;	/* this pass's agent said hello */
	bool		 finished_called;
	bool		 freeing;

	unsigned	 findings[FINDING_KIND_COUNT];
	bool		 slow_io_seen;
	uint64_t	 fault_hot_add_cpu, fault_hot_add_memory, fault_replace;
	struct run_counters acc;	/* passes that ended */
	struct run_counters cur;	/* the pass running (the agent's totals) */
	json_t		*latency;	/* the latest whole-pass or interval latency */
	uint64_t	 max_latency_ns; /* across the run */
	json_t		*topology;	/* the agent's latest */
	unsigned	 topo_cpus;	/* online, from it */
	uint64_t	 topo_memory;	/* online bytes, from it */
	json_t		*hot_add_ms;	/* [ms, ...] command to agent seeing it */
	json_t		*replaces;	/* [{method, held_ms, stall_ms, ...}] */
	struct run_seen	 seen[RUN_MAX_SEEN];
	unsigned	 nseen;
	json_t		*agent_info;	/* the hello */
	char		 replace_label[RUN_PATH_MAX + 64]; /* the last replace step */
	uint64_t	 replace_end_ns; /* CLOCK_MONOTONIC when it ended; 0: none */
	uint64_t	 last_summary_ns; /* CLOCK_MONOTONIC of the last store write */
	uint64_t	 fault_hot_add_io_bridge; /* I/O bridges hot-added */
};

/* run.c */
void	run_event(struct run *, const char *kind, json_t *detail);
void	run_finding(struct run *, int kind, const char *source,
	    const char *title, json_t *detail);
void	run_fail(struct run *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	run_summary_write(struct run *, bool force);
void	run_steps_finished(struct run *);

/* run-step.c */
void	run_steps_begin(struct run *);
void	run_steps_next(struct run *);
void	run_op_cancel(struct run *);
void	run_step_end(struct run *, const char *outcome);
void	run_topology_seen(struct run *);

#endif
