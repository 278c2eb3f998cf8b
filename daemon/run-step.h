/* run-step.h: what a plan step's exec hook may ask of the run engine; each
 * call starts one asynchronous operation that ends the step when it is done. */
#ifndef HOTSOAK_RUN_STEP_H
#define HOTSOAK_RUN_STEP_H

#include <stdint.h>

#include "hotsoak/plan.h"

/* The step being executed; owned by the run engine. */
struct step_run;

/* What an exec hook returns. */
enum step_result {
	STEP_DONE,	/* finished already; the run goes on to the next step */
	STEP_WAIT,	/* an operation was started; it ends the step */
	STEP_FAILED	/* the step could not start: the run ends in error */
};

/* How a replace treats the partition; the plan spells these as `method`. */
enum replace_method {
	REPLACE_PSEUDO_S4,	/* the guest's hibernation test mode: drivers to D3 */
	REPLACE_QUIESCE,	/* the agent stops and drains its I/O, then the hold */
	REPLACE_HOLD		/* the partition is held with its I/O in flight, nobody told */
};

enum replace_unit {
	REPLACE_UNIT_CPU,	/* a processor unit is swapped */
	REPLACE_UNIT_MEMORY	/* a memory unit is swapped */
};

extern const char *const replace_unit_names[];
extern const char *const replace_method_names[];

/* What an inject step does to the guest; the plan spells these as `fault`. */
enum inject_fault {
	INJECT_PANIC		/* the guest kernel panics (SysRq c) */
};

extern const char *const inject_fault_names[];

/* Let the workload run for ms. */
int	step_run_sleep(struct step_run *, uint64_t ms);
/* Add cpus CPUs or memory bytes (one of them nonzero) through the backend. */
int	step_run_hot_add(struct step_run *, unsigned cpus, uint64_t memory);
/*
 * Hot-add an I/O host bridge with a disk of disk_size bytes behind it, then
 * have the agent find the disk and run verified I/O on io_size bytes of it.
 */
int	step_run_hot_add_io_bridge(struct step_run *, uint64_t disk_size,
	    uint64_t io_size);
/* Quiesce or suspend as method says, hold the partition for outage_ms, resume. */
int	step_run_replace(struct step_run *, int unit, int method,
	    uint64_t outage_ms);
/* Poll the agent's topology until it shows the CPUs / memory, or within_ms passes. */
int	step_run_expect(struct step_run *, unsigned cpus, uint64_t memory,
	    uint64_t within_ms);
/* Run steps times times, in order. */
int	step_run_repeat(struct step_run *, const struct plan_steps *,
	    unsigned times);
/* times times: wait a seeded time in [min_ms, max_ms], then run one of choose. */
int	step_run_random(struct step_run *, const struct plan_steps *choose,
	    uint64_t min_ms, uint64_t max_ms, unsigned times);
/*
 * Have the agent do fault (enum inject_fault) to the guest. The step then
 * waits for the backend's crash report, which ends the run; no report in
 * time fails it.
 */
int	step_run_inject(struct step_run *, int fault);

#endif
