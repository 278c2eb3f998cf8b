/* backend-qemu.h: the qemu backend's parts: the VM's state, its command
 * line, the accelerator probe, and the operations over QMP. */
#ifndef HOTSOAK_BACKEND_QEMU_H
#define HOTSOAK_BACKEND_QEMU_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "hotsoak/backend.h"

struct event;
struct console_watch;
struct proc;
struct qmp;

/* QMP ids of what hotsoak plugs, so they never clash with a user's. */
#define QEMU_VMEM_ID		"hotsoak-vmem"
#define QEMU_VMEM_MEMDEV	"hotsoak-vmem-ram"
#define QEMU_AGENT_PORT		"org.hotsoak.agent"

#define QEMU_QMP_TIMEOUT_MS	10000	/* one QMP command */
#define QEMU_CONNECT_MS		15000	/* QEMU start to its QMP socket */
#define QEMU_QUIT_MS		5000	/* quit to exit, then SIGKILL */
#define QEMU_PREPARE_MS		30000	/* pseudo_s4 sent to the console's PM line */
#define QEMU_VMEM_POLL_MS	50	/* virtio-mem size polling */
#define QEMU_VMEM_MS		30000	/* virtio-mem growth deadline */
#define QEMU_GONE_MS		1000	/* QMP lost to a verdict on why */
#define QEMU_PANIC_GRACE_MS	1000	/* a console panic waits this for pvpanic */

enum qemu_state {
	QEMU_CREATED,		/* nothing started */
	QEMU_PROBING,		/* waiting for the accelerator probe */
	QEMU_LAUNCHING,		/* QEMU started, its QMP socket not up yet */
	QEMU_NEGOTIATING,	/* QMP connected, capabilities and queries */
	QEMU_RUNNING,		/* started: operations are taken */
	QEMU_STOPPING,		/* quit sent, waiting for the exit */
	QEMU_GONE		/* stopped, exited or failed */
};

/* The one operation in flight (the engine sends one at a time). */
enum qemu_op_kind {
	QEMU_OP_NONE,
	QEMU_OP_START,
	QEMU_OP_CPU,
	QEMU_OP_MEMORY,
	QEMU_OP_PREPARE,
	QEMU_OP_BEGIN,
	QEMU_OP_END,
	QEMU_OP_STOP,
	QEMU_OP_BRIDGE		/* an I/O host bridge and the disk behind it */
};

struct qemu_op {
	enum qemu_op_kind kind;
	backend_done_cb	 cb;
	void		*arg;
	unsigned	 count;		/* CPUs still to add */
	uint64_t	 bytes;		/* memory being added */
	uint64_t	 target;	/* virtio-mem: the size asked for */
	uint64_t	 t0_ns;		/* CLOCK_MONOTONIC at the operation's start */
	json_t		*result;	/* what was done, for the timeline */
	json_t		*slots;		/* free CPU slots, in order */
	size_t		 slot;		/* the next of them */
	/* QEMU_OP_BRIDGE (count: its commands not answered yet) */
	unsigned	 bridge;	/* N of hotsoak-brN */
	int		 stage;		/* bits of enum qemu_bridge_stage: what QEMU accepted */
	char		 why[256];	/* the first failure, for the answer */
};

struct qemu {
	struct backend	 be;		/* first: the ops table */
	struct event_base *base;
	const struct plan *plan;
	struct backend_hooks hooks;
	int64_t		 run_id;
	bool		 attach;	/* a VM the user manages */
	enum qemu_state	 state;
	bool		 freeing;

	char		*run_dir;
	char		*token_file;
	char		*qmp_path;
	char		*agent_path;	/* the host end of the agent's port */
	char		*console_path;
	char		*disk_path;
	char		*log_path;	/* QEMU's own stdout and stderr */
	char		*kernel;
	char		*initrd;
	json_t		*manifest;	/* the guest image's, or NULL */
	char		*io_path;
	const char	*cache;		/* the disk's cache mode */

	int		 accel;		/* enum plan_accel, resolved */
	char		*accel_why;
	struct proc	*proc;
	struct qmp	*qmp;
	struct console_watch *console;
	struct event	*timer;		/* connect retries, deadlines */
	struct event	*later;		/* deferred callbacks */
	struct event	*panic_timer;	/* a console panic waiting for pvpanic */
	json_t		*panic_detail;	/* ... and what it would report */
	char		*panic_title;
	uint64_t	 launched_ns;
	unsigned	 connect_tries;

	struct qemu_op	 op;
	int		 later_error;	/* for the deferred callback */
	char		*later_cause;
	char		*qmp_why;	/* why the monitor went down */

	/* The hypervisor's view. */
	unsigned	 cpus;
	uint64_t	 memory;
	unsigned	 next_cpu;	/* ids hotsoak-cpuN, hotsoak-dimmN */
	unsigned	 next_dimm;
	uint64_t	 vmem_size;	/* virtio-mem: requested so far */

	/* The replace window, measured here (the guest's clocks miss a stop). */
	uint64_t	 stop_ns;	/* CLOCK_REALTIME of the STOP event */
	uint64_t	 stopped_mono_ns;
	bool		 pm_armed;	/* a prepare waits for the PM line */
	bool		 holding;	/* stopped on purpose */
	bool		 crashed;	/* a crash was reported: one per run */
	bool		 reported;	/* an end was reported: one per pass */
	unsigned	 pass;		/* VMs started before this one (soak passes) */

	unsigned	 bridges;	/* I/O bridges hot-added: io-bridge1..N.raw exist */
};

/*
 * The QEMU command line for q's plan (launch mode), NULL-terminated; the
 * caller frees each string and the array. NULL with *cause.
 */
char	**qemu_argv_build(const struct qemu *, char **cause);
void	  qemu_argv_free(char **);
/* The same as one line for people, shell-quoted where needed (caller frees). */
char	 *qemu_argv_join(char *const *);

/*
 * The accelerator auto means here: probed once per daemon and remembered.
 * cb gets the answer (enum plan_accel), why (for the run's events, borrowed
 * for the call), and whether it was probed just now. Called on the base,
 * never inside this call. The probe needs a kernel to boot.
 */
typedef void (*qemu_accel_cb)(void *arg, int accel, const char *why,
    bool probed);
void	 qemu_accel_resolve(struct event_base *, const char *binary,
	    const char *kernel, const char *work_dir, qemu_accel_cb, void *arg);
/* Forgets a waiter (its run went away first). */
void	 qemu_accel_cancel(void *arg);

/* Operations over QMP (backend-qemu-ops.c). */
void	 qemu_op_hot_add_cpu(struct backend *, unsigned, backend_done_cb, void *);
void	 qemu_op_hot_add_memory(struct backend *, uint64_t, backend_done_cb,
	    void *);
void	 qemu_op_replace_prepare(struct backend *, backend_done_cb, void *);
void	 qemu_op_replace_begin(struct backend *, backend_done_cb, void *);
void	 qemu_op_replace_end(struct backend *, backend_done_cb, void *);
/* The console showed the guest's devices suspended. */
void	 qemu_op_pm_seen(struct qemu *, const char *line);

/* I/O host bridge hot-add (backend-qemu-bridge.c). */
void	 qemu_op_hot_add_io_bridge(struct backend *, uint64_t disk_size,
	    backend_done_cb, void *);
/* Removes the bridges' disk files from the run folder (the VM stopped). */
void	 qemu_bridge_cleanup(struct qemu *);

/* Shared helpers (backend-qemu.c). */
/* Answers cb with a refusal from the loop: another operation is pending. */
void	 qemu_refuse(struct qemu *, backend_done_cb, void *);
int	 qemu_op_take(struct qemu *, enum qemu_op_kind, backend_done_cb, void *);
/* Ends the operation: error 0 with result (stolen) or -1 with cause. */
void	 qemu_op_end(struct qemu *, int error, const char *cause, json_t *result);
/* Ends it from the loop, for failures found inside the operation's call. */
void	 qemu_op_end_later(struct qemu *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 qemu_cmd(struct qemu *, const char *command, json_t *args,
	    void (*cb)(void *, int, const char *, const char *, json_t *));
void	 qemu_report(struct qemu *, enum backend_event, json_t *detail,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
