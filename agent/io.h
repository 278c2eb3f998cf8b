/* io.h: the verified I/O hammer: workers issuing stamped O_DIRECT I/O through
 * an engine (a table of ops), a block table of acknowledged generations, and
 * a watchdog that calls an I/O stuck once it outlives its deadline. */
#ifndef HOTSOAK_AGENT_IO_H
#define HOTSOAK_AGENT_IO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hotsoak/stamp.h"
#include "hotsoak/util.h"
#include "hist.h"

#define IO_MAX_WORKERS	1024
#define IO_MAX_DEPTH	1024
#define IO_MAX_BLOCKS	(64ULL << 20)	/* block table entries; 1.5GiB of table at most */

struct io_queue;
struct io_req;

/*
 * An I/O engine: how requests reach the kernel. Each worker owns one queue;
 * the engine's calls come only from that worker's thread.
 */
struct io_engine_ops {
	const char	*name;
	/* Set up q for up to depth requests in flight on fd. */
	int		(*init)(struct io_queue *q, unsigned depth, char **cause);
	/*
	 * Start up to n requests (one system call where the engine can);
	 * their completions come back from reap. Returns how many were
	 * started, from the front of reqs; -1 with errno when none was.
	 */
	int		(*submit)(struct io_queue *q, struct io_req **reqs,
			    unsigned n);
	/*
	 * Wait up to timeout_ns for at least one completion; put up to max
	 * completed requests in done (result set) and return how many, or -1.
	 */
	int		(*reap)(struct io_queue *q, struct io_req **done,
			    unsigned max, uint64_t timeout_ns);
	void		(*cleanup)(struct io_queue *q);
};

extern const struct io_engine_ops io_engine_aio;	/* Linux native AIO */
extern const struct io_engine_ops io_engine_sync;	/* pread/pwrite, depth 1 */
extern const struct io_engine_ops *const io_engines[];	/* NULL-terminated */

/* The engine named name, or NULL. */
const struct io_engine_ops *io_engine_find(const char *name);

struct io_queue {
	const struct io_engine_ops *ops;
	int		 fd;
	unsigned	 depth;
	void		*priv;		/* the engine's */
};

/* Slot states, for the watchdog reading across threads. */
enum io_slot_state {
	IO_SLOT_FREE,		/* not in flight */
	IO_SLOT_BUSY,		/* submitted, not completed */
	IO_SLOT_LATE		/* past its deadline: already reported */
};

struct io_req {
	uint64_t	 offset;
	void		*buf;		/* aligned to the block size's sector */
	size_t		 len;
	bool		 write;
	uint64_t	 generation;	/* written (write) or expected (read) */
	uint64_t	 prev_maybe;	/* the block's `maybe` before this write */
	int64_t		 result;	/* bytes done, or -errno */
	uint64_t	 submit_ns;	/* CLOCK_MONOTONIC */
	_Atomic uint64_t deadline_ns;
	_Atomic int	 state;		/* enum io_slot_state */
	uint64_t	 block;
	void		*engine_data;	/* the engine's, per request */
};

/* Corruption kinds and the other things the engine reports. */
enum io_event_kind {
	IO_EVENT_CORRUPTION,	/* a block read back wrong: stamp_result says how */
	IO_EVENT_TIMEOUT,	/* an I/O outlived its deadline */
	IO_EVENT_ERROR,		/* an I/O failed (EIO, short transfer, ...) */
	IO_EVENT_LATE		/* a timed-out I/O completed after all */
};

struct io_event {
	enum io_event_kind kind;
	enum stamp_result  result;	/* IO_EVENT_CORRUPTION */
	uint64_t	 offset;
	uint64_t	 len;
	bool		 write;
	int		 error;		/* errno, IO_EVENT_ERROR */
	uint64_t	 age_ns;	/* IO_EVENT_TIMEOUT, IO_EVENT_LATE */
	unsigned	 worker;
	uint64_t	 time_ns;	/* CLOCK_REALTIME */
	struct stamp	 expected;	/* IO_EVENT_CORRUPTION: what should be there */
	struct stamp	 found;		/* what the block's stamp said */
	size_t		 bad_sector;
};

/* Called from worker and watchdog threads: must be thread-safe and quick. */
typedef void (*io_event_cb)(void *arg, const struct io_event *);

struct io_config {
	const char	*path;
	uint64_t	 size;		/* bytes used from the start of the target */
	uint64_t	 block_size;
	unsigned	 queue_depth;
	unsigned	 workers;	/* 0: one pinned worker per online CPU */
	unsigned	 read_percent;
	bool		 sequential;
	bool		 verify;	/* stamp and check; false: raw I/O */
	bool		 direct;	/* O_DIRECT */
	uint64_t	 io_timeout_ns;
	uint64_t	 seed;
	const struct io_engine_ops *engine;	/* NULL: aio, else sync */
	io_event_cb	 on_event;
	void		*arg;
};

/* One worker's counters; relaxed atomics, read by the reporter. */
struct io_counters {
	_Atomic uint64_t ios;
	_Atomic uint64_t reads;
	_Atomic uint64_t writes;
	_Atomic uint64_t bytes_read;
	_Atomic uint64_t bytes_written;
	_Atomic uint64_t verified;	/* reads whose stamp was checked */
	_Atomic uint64_t errors;
	_Atomic uint64_t timeouts;
	_Atomic uint64_t corruptions;
};

/* A plain copy of the counters, summed over workers. */
struct io_totals {
	uint64_t	ios, reads, writes, bytes_read, bytes_written, verified;
	uint64_t	errors, timeouts, corruptions;
	unsigned	workers, inflight;
};

struct io_run;

/*
 * Open the target (creating a regular file of size bytes when it is
 * missing or short) and set up the block table; no I/O yet. Returns the
 * run, freed with io_run_free, or NULL with *cause (caller frees).
 */
struct io_run	*io_run_new(const struct io_config *, char **cause);
void		 io_run_free(struct io_run *);

/* The run's id in every stamp: from the seed, never 0. */
uint64_t	 io_run_id(const struct io_run *);
uint64_t	 io_seed_run_id(uint64_t seed);

/*
 * Write every block once, in order, with depth requests in flight, so
 * every later read has something to check. Blocking; -1 on a setup error.
 */
int		 io_run_fill(struct io_run *, char **cause);

/* Start the workers and the watchdog; io_run_stop drains and joins them. */
int		 io_run_start(struct io_run *, char **cause);
void		 io_run_stop(struct io_run *);

/*
 * Stop issuing and wait up to timeout_ns for in-flight I/O to finish:
 * the application-level quiesce. *drain_ns is how long the drain took.
 * Returns 0 when drained, -1 on timeout (still quiesced).
 */
int		 io_run_quiesce(struct io_run *, uint64_t timeout_ns,
		    uint64_t *drain_ns, unsigned *inflight_at_start);
void		 io_run_resume(struct io_run *);

/* Start a worker pinned to cpu (per-cpu mode) unless one runs there. */
int		 io_run_add_cpu(struct io_run *, unsigned cpu, char **cause);

/*
 * Read every written block back and check it against the block table.
 * Blocking, workers stopped. Findings go to the event callback.
 */
int		 io_run_verify(struct io_run *, char **cause);

void		 io_run_totals(struct io_run *, struct io_totals *);
/* Merged latency of every I/O so far. */
void		 io_run_latency(struct io_run *, struct hist *);

/*
 * The stall meter for pseudo-S4: io_run_mark_gap starts a window and
 * io_run_max_gap_ns gives the largest gap between two completions of one
 * worker since then (from the mark to the first completion counts), or the
 * gap still open when a worker has I/O in flight and nothing back. An idle
 * worker (quiesced, nothing in flight) adds no gap while idle.
 */
void		 io_run_mark_gap(struct io_run *);
uint64_t	 io_run_max_gap_ns(struct io_run *);

/* Acknowledged generation of every block, for --keep's state file. */
const _Atomic uint64_t *io_run_generations(const struct io_run *, uint64_t *n);


#endif
