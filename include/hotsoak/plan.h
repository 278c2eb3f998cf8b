/* plan.h: the test-plan and campaign model the daemon executes, and the
 * loader that builds it from YAML with file:line:column diagnostics. */
#ifndef HOTSOAK_PLAN_H
#define HOTSOAK_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hotsoak/cron.h"
#include "hotsoak/finding.h"

#define PLAN_VERSION		1		/* the plan language this loader reads */
#define PLAN_MAX_BYTES		(1024 * 1024)	/* larger plan files are refused unread */
#define PLAN_MAX_DEPTH		32		/* YAML nesting deeper than this is refused */
#define PLAN_MAX_NODES		65536		/* YAML nodes in one file */
#define PLAN_MAX_DIAGS		50		/* errors kept per load; more are counted */
#define PLAN_DIAGS_COLLECT	1000		/* errors gathered before sorting keeps 50 */

/* A place in a plan file; line and column count from 1. */
struct plan_mark {
	unsigned	line;
	unsigned	column;
};

struct plan_diag {
	char		*file;		/* the file the error is in (a campaign's plan, say) */
	struct plan_mark mark;
	char		*message;
};

/* Every error of one load, in file order. */
struct plan_diags {
	struct plan_diag *v;
	size_t		 n;
	size_t		 cap;
	size_t		 dropped;	/* errors past PLAN_MAX_DIAGS, not kept */
};

void	plan_diags_init(struct plan_diags *);
void	plan_diags_free(struct plan_diags *);
/* Writes each error as "FILE:LINE:COLUMN: error: MESSAGE". */
void	plan_diags_print(const struct plan_diags *, FILE *);

enum plan_backend {
	PLAN_BACKEND_LOCAL,	/* the agent's process tree on this host (a simulation) */
	PLAN_BACKEND_QEMU,	/* a QEMU guest over QMP */
	PLAN_BACKEND_LIBVIRT,	/* a libvirt domain */
	PLAN_BACKEND_COUNT
};

enum plan_accel {
	PLAN_ACCEL_AUTO,	/* KVM where a guest really runs under it, else TCG */
	PLAN_ACCEL_KVM,		/* KVM or fail */
	PLAN_ACCEL_TCG		/* software emulation */
};

enum plan_memhp {
	PLAN_MEMHP_PC_DIMM,	/* object-add + device_add pc-dimm per hot-add */
	PLAN_MEMHP_VIRTIO_MEM	/* grow a virtio-mem device's requested-size */
};

enum plan_cgroup {
	PLAN_CGROUP_AUTO,	/* cgroup v2, else v1, else affinity + signals */
	PLAN_CGROUP_V1,
	PLAN_CGROUP_V2,
	PLAN_CGROUP_NONE	/* CPU affinity and SIGSTOP/SIGCONT only */
};

struct plan_qemu {
	char		*binary;	/* qemu-system-x86_64 */
	int		 accel;		/* enum plan_accel */
	char		*machine;	/* -machine */
	char		*cpu_model;	/* -cpu; NULL: qemu64 under TCG, host under KVM */
	char		*kernel;	/* NULL: the built guest image's kernel */
	char		*initrd;	/* NULL: the built guest image's initramfs */
	char		*append;	/* kernel command line */
	uint64_t	 disk_size;	/* the run's private raw disk */
	char		**extra_args;	/* NULL-terminated, appended to the command line */
	size_t		 n_extra_args;
	char		*qmp;		/* attach mode: "unix:PATH" of a running VM's QMP */
};

struct plan_libvirt {
	char		*uri;		/* connection URI */
	char		*domain;	/* the existing domain to drive */
};

struct plan_local {
	int		 cgroup;	/* enum plan_cgroup */
};

struct plan_target {
	int		 backend;	/* enum plan_backend */
	unsigned	 cpus_boot;
	unsigned	 cpus_max;
	uint64_t	 memory_boot;
	unsigned	 memory_slots;
	uint64_t	 memory_max;
	int		 memory_hotplug; /* enum plan_memhp */
	struct plan_qemu qemu;
	struct plan_libvirt libvirt;
	struct plan_local local;
};

struct plan_agent {
	char		*channel;	/* "auto", "unix:PATH" or "tcp:HOST:PORT": the daemon's end */
	uint64_t	 heartbeat_ms;	/* how often the agent says it lives */
	uint64_t	 hang_after_ms;	/* silence that is a hang finding */
	uint64_t	 connect_timeout_ms; /* from partition start to the agent's hello */
};

enum plan_io_pattern {
	PLAN_IO_RANDOM,		/* offsets from the seed */
	PLAN_IO_SEQUENTIAL	/* each worker walks its share in order */
};

enum plan_verify {
	PLAN_VERIFY_CRC32C,	/* stamp and CRC32C every block, check every read */
	PLAN_VERIFY_NONE	/* raw I/O, no stamps: timeouts and errors only */
};

struct plan_io {
	char		*path;		/* "auto": the backend's disk for the agent */
	uint64_t	 size;		/* bytes of the target exercised */
	uint64_t	 block_size;
	unsigned	 queue_depth;	/* I/Os in flight per worker */
	unsigned	 workers;	/* 0: one per online CPU, following hot-add */
	unsigned	 read_percent;	/* 0-100 */
	int		 pattern;	/* enum plan_io_pattern */
	int		 verify;	/* enum plan_verify */
	uint64_t	 io_timeout_ms;
	bool		 direct;	/* O_DIRECT */
};

struct plan_memory_load {
	uint64_t	 size;		/* 0: no memory workload */
	uint64_t	 interval_ms;	/* between fill-verify passes */
};

struct plan_workload {
	struct plan_io	 io;
	struct plan_memory_load memory;
};

struct plan_checks {
	bool		 fail_on[FINDING_KIND_COUNT]; /* kinds that fail the run */
	uint64_t	 max_latency_ms; /* 0: no latency bound */
};

struct step_entry;

/* One step: which action, its label and place, and the action's arguments. */
struct plan_step {
	const struct step_entry *entry;
	char		*name;		/* label from the plan, or NULL */
	struct plan_mark mark;
	void		*data;		/* owned by entry (entry->free) */
};

struct plan_steps {
	struct plan_step *v;
	size_t		 n;
};

/* What one pass of a step list may add to the partition, at most. */
struct plan_demand {
	uint64_t	 cpus;		/* CPUs hot-added */
	uint64_t	 memory;	/* bytes hot-added */
	uint64_t	 memory_ops;	/* memory hot-adds (each takes a DIMM slot) */
};

struct plan {
	char		*source;	/* file path or the name given with the buffer */
	unsigned	 version;
	char		*name;
	char		*description;
	bool		 seed_random;	/* seed chosen when a run starts, then recorded */
	uint64_t	 seed;
	uint64_t	 duration_ms;	/* 0: one pass of the steps; else loop until elapsed */
	struct plan_target target;
	struct plan_agent agent;
	struct plan_workload workload;
	struct plan_steps steps;
	struct plan_checks checks;
};

struct campaign {
	char		*source;
	unsigned	 version;
	char		*name;
	char		*description;
	char		**plans;	/* plan files, relative to the campaign's folder */
	size_t		 n_plans;
	struct plan_mark *plan_marks;	/* where each plan is named */
	unsigned	 repeat;	/* runs of each plan per campaign run */
	unsigned	 parallel;	/* runs at once */
	unsigned	 retries;	/* extra attempts for a plan run that did not pass */
	char		*schedule;	/* NULL: started by hand only */
	struct cron	 cron;
};

enum plan_file_kind {
	PLAN_FILE_PLAN,		/* a test plan */
	PLAN_FILE_CAMPAIGN	/* a campaign of plans */
};

struct plan_file {
	int		 kind;		/* enum plan_file_kind */
	struct plan	*plan;		/* set when kind is PLAN_FILE_PLAN */
	struct campaign	*campaign;	/* set when kind is PLAN_FILE_CAMPAIGN */
};

struct plan_load_opts {
	/*
	 * Folder a campaign's plan names are resolved in, and those plans
	 * loaded and checked too; NULL: names are only checked for shape.
	 */
	const char	*base_dir;
};

/*
 * Load the plan or campaign in file path. Returns a plan_file the caller
 * frees with plan_file_free, or NULL with every error appended to diags.
 */
struct plan_file *plan_file_load_path(const char *path,
		    const struct plan_load_opts *, struct plan_diags *);

/* As plan_file_load_path, from len bytes at buf; name stands for the file in errors. */
struct plan_file *plan_file_load_buffer(const char *name, const void *buf,
		    size_t len, const struct plan_load_opts *, struct plan_diags *);

void	plan_file_free(struct plan_file *);
void	plan_free(struct plan *);
void	campaign_free(struct campaign *);

/*
 * The normalized file, defaults resolved, as JSON text that is itself a
 * valid plan. Returns an allocated string the caller frees, or NULL.
 */
char	*plan_file_to_json(const struct plan_file *);

/* Names for the enums above, as plans spell them. */
extern const char *const plan_backend_names[];
extern const char *const plan_accel_names[];
extern const char *const plan_memhp_names[];
extern const char *const plan_cgroup_names[];
extern const char *const plan_io_pattern_names[];
extern const char *const plan_verify_names[];

#endif
