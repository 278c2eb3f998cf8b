/* io.c: the verified I/O hammer: workers that stamp every write and check
 * every read against the block table, a watchdog for stuck I/O, and the
 * fill and verify passes that bracket a run. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "hotsoak/util.h"

/* One entry per block: what the disk should hold, and who is on it. */
struct io_block {
	_Atomic uint64_t gen;		/* last acknowledged write; 0: none */
	_Atomic uint64_t maybe;		/* issued, never acknowledged */
	_Atomic uint32_t busy;		/* claimed by a request in flight */
};

enum io_job {
	IO_JOB_MIXED,		/* the hammer: reads and writes by the plan's mix */
	IO_JOB_FILL,		/* write every block once, in order */
	IO_JOB_VERIFY		/* read every written block once, in order */
};

struct io_worker {
	struct io_run		*run;
	unsigned		 id;
	int			 cpu;		/* pinned to; -1: not pinned */
	enum io_job		 job;
	pthread_t		 thread;
	bool			 started;
	_Atomic bool		 stop;
	struct io_queue		 q;
	struct io_req		*reqs;
	struct io_req		**free_reqs;
	unsigned		 n_free;
	struct io_req		**batch;	/* prepared, to submit at once */
	struct io_req		**done;
	unsigned char		*bufs;
	_Atomic unsigned	 inflight;
	uint64_t		 rng;
	uint64_t		 seq;
	uint64_t		 cursor;	/* fill and verify: next block */
	struct io_counters	 c;
	struct hist		 lat;
	/* The stall meter: largest gap between completions since the mark. */
	_Atomic uint64_t	 gap_epoch;	/* the run's mark this worker has seen */
	_Atomic uint64_t	 last_done_ns;
	_Atomic uint64_t	 max_gap_ns;
};

struct io_run {
	struct io_config	 cfg;
	int			 fd;
	uint64_t		 run_id;
	uint64_t		 nblocks;
	struct io_block		*blocks;
	_Atomic uint64_t	*gens;		/* generations, for --keep */
	pthread_mutex_t		 lock;		/* workers[] */
	struct io_worker	*workers[IO_MAX_WORKERS];
	_Atomic unsigned	 nworkers;
	_Atomic bool		 quiesced;
	_Atomic bool		 running;
	_Atomic uint64_t	 seq_cursor;
	pthread_t		 watchdog;
	bool			 watchdog_started;
	struct hist		 retired;	/* latency of fill and verify passes */
	struct io_totals	 retired_totals; /* their counters */
	_Atomic uint64_t	 gap_epoch;	/* bumped by io_run_mark_gap */
	_Atomic uint64_t	 gap_mark_ns;
};

const struct io_engine_ops *const io_engines[] = {
	&io_engine_aio,
	&io_engine_sync,
	NULL
};

const struct io_engine_ops *
io_engine_find(const char *name)
{
	size_t	i;

	for (i = 0; io_engines[i] != NULL; i++)
		if (strcmp(io_engines[i]->name, name) == 0)
			return io_engines[i];
	return NULL;
}

/* xorshift64*: one per worker, so no lock on the hot path. */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static void
emit(struct io_run *run, struct io_event *ev)
{
	ev->time_ns = clock_wall_ns();
	if (run->cfg.on_event != NULL)
		run->cfg.on_event(run->cfg.arg, ev);
}

/* Opens, and sizes a regular file that is missing or short. */
static int
open_target(struct io_run *run, char **cause)
{
	const struct io_config	*c = &run->cfg;
	struct stat		 st;
	int			 flags = O_RDWR | O_CREAT | O_CLOEXEC;

	if (c->direct)
		flags |= O_DIRECT;
	if ((run->fd = open(c->path, flags, 0600)) == -1)
		return cause_set(cause, "%s: %s", c->path, strerror(errno));
	if (fstat(run->fd, &st) == -1)
		return cause_set(cause, "%s: %s", c->path, strerror(errno));
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < c->size &&
	    ftruncate(run->fd, (off_t)c->size) == -1)
		return cause_set(cause, "%s: cannot size to %llu bytes: %s", c->path,
		    (unsigned long long)c->size, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(run->fd, 0, SEEK_END);

		if (end == -1 || (uint64_t)end < c->size)
			return cause_set(cause, "%s: device is smaller than %llu bytes",
			    c->path, (unsigned long long)c->size);
	}
	return 0;
}

struct io_run *
io_run_new(const struct io_config *cfg, char **cause)
{
	struct io_run	*run;

	*cause = NULL;
	if (cfg->block_size < STAMP_MIN_BLOCK || cfg->block_size % STAMP_SECTOR ||
	    cfg->size < cfg->block_size || cfg->size % cfg->block_size ||
	    cfg->queue_depth == 0 || cfg->queue_depth > IO_MAX_DEPTH ||
	    cfg->workers > IO_MAX_WORKERS || cfg->read_percent > 100) {
		cause_set(cause, "bad I/O configuration (size %llu, block %llu, "
		    "depth %u, workers %u)", (unsigned long long)cfg->size,
		    (unsigned long long)cfg->block_size, cfg->queue_depth,
		    cfg->workers);
		return NULL;
	}
	if (cfg->size / cfg->block_size > IO_MAX_BLOCKS) {
		cause_set(cause, "%llu blocks is too many to track; use a larger "
		    "block size", (unsigned long long)(cfg->size / cfg->block_size));
		return NULL;
	}
	if ((run = calloc(1, sizeof *run)) == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	run->cfg = *cfg;
	if (run->cfg.engine == NULL)
		run->cfg.engine = &io_engine_aio;
	run->fd = -1;
	run->run_id = io_seed_run_id(cfg->seed);
	run->nblocks = cfg->size / cfg->block_size;
	pthread_mutex_init(&run->lock, NULL);
	hist_init(&run->retired);
	if ((run->blocks = calloc(run->nblocks, sizeof *run->blocks)) == NULL ||
	    (run->gens = calloc(run->nblocks, sizeof *run->gens)) == NULL) {
		cause_set(cause, "out of memory for %llu blocks",
		    (unsigned long long)run->nblocks);
		io_run_free(run);
		return NULL;
	}
	if (open_target(run, cause) == -1) {
		io_run_free(run);
		return NULL;
	}
	return run;
}

uint64_t
io_run_id(const struct io_run *run)
{
	return run->run_id;
}

uint64_t
io_seed_run_id(uint64_t seed)
{
	return splitmix64(seed) | 1;
}

static void
worker_free(struct io_worker *w)
{
	unsigned	i;

	if (w == NULL)
		return;
	if (w->q.ops != NULL)
		w->q.ops->cleanup(&w->q);
	for (i = 0; w->reqs != NULL && i < w->q.depth; i++)
		free(w->reqs[i].engine_data);
	free(w->reqs);
	free(w->free_reqs);
	free(w->done);
	free(w->batch);
	free(w->bufs);
	free(w);
}

/* A worker and its queue; threads are started by the caller. */
static struct io_worker *
worker_new(struct io_run *run, unsigned id, int cpu, enum io_job job,
    char **cause)
{
	struct io_worker	*w;
	unsigned		 depth = run->cfg.queue_depth, i;
	size_t			 bs = run->cfg.block_size;

	if ((w = calloc(1, sizeof *w)) == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	w->run = run;
	w->id = id;
	w->cpu = cpu;
	w->job = job;
	w->rng = splitmix64(run->cfg.seed ^ splitmix64(id + 1)) | 1;
	hist_init(&w->lat);
	w->q.fd = run->fd;
	w->q.depth = depth;
	if ((w->reqs = calloc(depth, sizeof *w->reqs)) == NULL ||
	    (w->free_reqs = calloc(depth, sizeof *w->free_reqs)) == NULL ||
	    (w->done = calloc(depth, sizeof *w->done)) == NULL ||
	    (w->batch = calloc(depth, sizeof *w->batch)) == NULL ||
	    posix_memalign((void **)&w->bufs, 4096, depth * bs) != 0) {
		w->bufs = NULL;
		worker_free(w);
		cause_set(cause, "out of memory for %u buffers of %zu bytes", depth, bs);
		return NULL;
	}
	memset(w->bufs, 0, depth * bs);
	for (i = 0; i < depth; i++) {
		w->reqs[i].buf = w->bufs + (size_t)i * bs;
		w->reqs[i].len = bs;
		w->free_reqs[w->n_free++] = &w->reqs[i];
	}
	if (run->cfg.engine->init(&w->q, depth, cause) == -1) {
		worker_free(w);
		return NULL;
	}
	w->q.ops = run->cfg.engine;
	return w;
}

/* Claims a block nobody has in flight; UINT64_MAX when all tried are busy. */
static uint64_t
claim_block(struct io_worker *w, uint64_t first)
{
	struct io_run	*run = w->run;
	uint64_t	 b = first;
	uint32_t	 zero;
	int		 tries;

	/* Passes go in order; only the hammer may try elsewhere. */
	for (tries = 0; tries < (w->job == IO_JOB_MIXED ? 8 : 1); tries++) {
		zero = 0;
		if (atomic_compare_exchange_strong(&run->blocks[b].busy, &zero, 1))
			return b;
		b = next_rand(&w->rng) % run->nblocks;
	}
	return UINT64_MAX;
}

/* Chooses the next I/O; -1 when the job has nothing more to do now. */
static int
prepare(struct io_worker *w, struct io_req *r)
{
	struct io_run		*run = w->run;
	const struct io_config	*c = &run->cfg;
	struct stamp_id		 id;
	uint64_t		 b, now, gen, maybe;
	bool			 rd;

	switch (w->job) {
	case IO_JOB_FILL:
		if (w->cursor >= run->nblocks)
			return -1;
		b = claim_block(w, w->cursor++);
		rd = false;
		break;
	case IO_JOB_VERIFY:
		/* Only blocks this run wrote have anything to compare with. */
		while (w->cursor < run->nblocks &&
		    atomic_load(&run->blocks[w->cursor].gen) == 0)
			w->cursor++;
		if (w->cursor >= run->nblocks)
			return -1;
		b = claim_block(w, w->cursor++);
		rd = true;
		break;
	case IO_JOB_MIXED:
	default:
		b = c->sequential ? atomic_fetch_add(&run->seq_cursor, 1) %
		    run->nblocks : next_rand(&w->rng) % run->nblocks;
		b = claim_block(w, b);
		rd = next_rand(&w->rng) % 100 < c->read_percent;
		break;
	}
	if (b == UINT64_MAX)
		return -1;

	gen = atomic_load(&run->blocks[b].gen);
	maybe = atomic_load(&run->blocks[b].maybe);
	/* Nothing to check on a block never written: write it instead. */
	if (rd && gen == 0 && c->verify && w->job == IO_JOB_MIXED)
		rd = false;
	r->block = b;
	r->offset = b * c->block_size;
	r->write = !rd;
	r->result = 0;
	r->prev_maybe = maybe;
	if (r->write) {
		r->generation = (gen > maybe ? gen : maybe) + 1;
		atomic_store(&run->blocks[b].maybe, r->generation);
		if (c->verify) {
			id.run_id = run->run_id;
			id.offset = r->offset;
			id.generation = r->generation;
			id.writer = w->id;
			id.sequence = ++w->seq;
			id.timestamp_ns = clock_wall_ns();
			stamp_fill(r->buf, c->block_size, &id);
		}
	} else
		r->generation = gen;
	now = clock_mono_ns();
	r->submit_ns = now;
	atomic_store(&r->deadline_ns, now + c->io_timeout_ns);
	atomic_store(&r->state, IO_SLOT_BUSY);
	return 0;
}

static void
check_read(struct io_worker *w, struct io_req *r)
{
	struct io_run		*run = w->run;
	struct stamp_expect	 e;
	struct io_event		 ev;
	enum stamp_result	 res;

	e.run_id = run->run_id;
	e.offset = r->offset;
	e.block_size = run->cfg.block_size;
	e.generation = r->generation;
	e.maybe_generation = atomic_load(&run->blocks[r->block].maybe);
	memset(&ev, 0, sizeof ev);
	res = stamp_check(r->buf, (size_t)r->result, &e, &ev.found,
	    &ev.bad_sector);
	atomic_fetch_add_explicit(&w->c.verified, 1, memory_order_relaxed);
	if (res == STAMP_OK || res == STAMP_UNWRITTEN)
		return;
	atomic_fetch_add_explicit(&w->c.corruptions, 1, memory_order_relaxed);
	ev.kind = IO_EVENT_CORRUPTION;
	ev.result = res;
	ev.offset = r->offset;
	ev.len = r->len;
	ev.worker = w->id;
	/* The stamp that should be there, for the report. */
	ev.expected.magic = STAMP_MAGIC;
	ev.expected.version = STAMP_VERSION;
	ev.expected.offset = r->offset;
	ev.expected.run_id = run->run_id;
	ev.expected.generation = r->generation;
	emit(run, &ev);
}

/*
 * The stall meter, on the completion path: a few relaxed loads and stores,
 * no lock. A new mark (epoch) starts the worker over from the mark's time.
 */
static void
track_gap(struct io_worker *w, uint64_t now)
{
	struct io_run	*run = w->run;
	uint64_t	 epoch, last, gap;

	epoch = atomic_load_explicit(&run->gap_epoch, memory_order_acquire);
	if (epoch != atomic_load_explicit(&w->gap_epoch, memory_order_relaxed)) {
		last = atomic_load_explicit(&run->gap_mark_ns,
		    memory_order_relaxed);
		atomic_store_explicit(&w->max_gap_ns, 0, memory_order_relaxed);
		atomic_store_explicit(&w->gap_epoch, epoch, memory_order_release);
	} else
		last = atomic_load_explicit(&w->last_done_ns,
		    memory_order_relaxed);
	gap = now > last ? now - last : 0;
	if (gap > atomic_load_explicit(&w->max_gap_ns, memory_order_relaxed))
		atomic_store_explicit(&w->max_gap_ns, gap, memory_order_relaxed);
	atomic_store_explicit(&w->last_done_ns, now, memory_order_relaxed);
}

/* An event about request r of worker w, aged from its submission to now. */
static void
emit_req(struct io_worker *w, const struct io_req *r, enum io_event_kind kind,
    uint64_t now)
{
	struct io_event	ev;

	memset(&ev, 0, sizeof ev);
	ev.kind = kind;
	ev.offset = r->offset;
	ev.len = r->len;
	ev.write = r->write;
	ev.age_ns = now - r->submit_ns;
	ev.worker = w->id;
	emit(w->run, &ev);
}

static void
complete(struct io_worker *w, struct io_req *r)
{
	struct io_run		*run = w->run;
	struct io_block		*blk = &run->blocks[r->block];
	struct io_event		 ev;
	uint64_t		 now = clock_mono_ns(), expect;
	int			 late;

	hist_record(&w->lat, now - r->submit_ns);
	track_gap(w, now);
	late = atomic_exchange(&r->state, IO_SLOT_FREE) == IO_SLOT_LATE;
	atomic_fetch_add_explicit(&w->c.ios, 1, memory_order_relaxed);
	/*
	 * Past its deadline but not seen by the watchdog: the whole process
	 * was stopped (a frozen partition, a VM held), and this thread woke
	 * first. It is a timeout all the same, the one the watchdog missed.
	 */
	if (!late && now - r->submit_ns > run->cfg.io_timeout_ns) {
		atomic_fetch_add_explicit(&w->c.timeouts, 1, memory_order_relaxed);
		emit_req(w, r, IO_EVENT_TIMEOUT, now);
		late = 1;
	}
	if (late)
		emit_req(w, r, IO_EVENT_LATE, now);
	if (r->result != (int64_t)r->len) {
		atomic_fetch_add_explicit(&w->c.errors, 1, memory_order_relaxed);
		memset(&ev, 0, sizeof ev);
		ev.kind = IO_EVENT_ERROR;
		ev.offset = r->offset;
		ev.len = r->len;
		ev.write = r->write;
		ev.error = r->result < 0 ? (int)-r->result : EIO;
		ev.age_ns = r->result < 0 ? 0 : (uint64_t)r->result; /* bytes done */
		ev.worker = w->id;
		emit(run, &ev);
		/* A failed write leaves the block unknown: `maybe` stays set. */
		goto release;
	}
	if (r->write) {
		atomic_fetch_add_explicit(&w->c.writes, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&w->c.bytes_written, r->len,
		    memory_order_relaxed);
		atomic_store(&blk->gen, r->generation);
		atomic_store(&run->gens[r->block], r->generation);
		expect = r->generation;
		atomic_compare_exchange_strong(&blk->maybe, &expect, 0);
	} else {
		atomic_fetch_add_explicit(&w->c.reads, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&w->c.bytes_read, r->len,
		    memory_order_relaxed);
		if (run->cfg.verify)
			check_read(w, r);
	}
release:
	atomic_store(&blk->busy, 0);
	w->free_reqs[w->n_free++] = r;
	atomic_fetch_sub(&w->inflight, 1);
}

/*
 * Issue what the queue has room for, reap what finished; returns the
 * number in flight afterwards, or -1 when the engine fails.
 */
/* Returns a prepared request that was never started to the free list. */
static void
unprepare(struct io_worker *w, struct io_req *r)
{
	atomic_store(&r->state, IO_SLOT_FREE);
	if (r->write)
		atomic_store(&w->run->blocks[r->block].maybe, r->prev_maybe);
	atomic_store(&w->run->blocks[r->block].busy, 0);
	w->free_reqs[w->n_free++] = r;
	atomic_fetch_sub(&w->inflight, 1);
}

static int
worker_step(struct io_worker *w, bool issue, uint64_t wait_ns)
{
	struct io_req	*r;
	unsigned	 nb;
	int		 n = 0, i;

	nb = 0;
	while (issue && w->n_free > 0) {
		r = w->free_reqs[w->n_free - 1];
		if (prepare(w, r) == -1)
			break;
		w->n_free--;
		atomic_fetch_add(&w->inflight, 1);
		w->batch[nb++] = r;
	}
	for (i = 0; i < (int)nb; i += n) {
		n = w->q.ops->submit(&w->q, w->batch + i, nb - (unsigned)i);
		if (n > 0)
			continue;
		if (n == 0)
			errno = EAGAIN;
		r = w->batch[i];
		if (errno == EAGAIN && atomic_load(&w->inflight) > nb - (unsigned)i) {
			/* The ring is full for now: give the rest back. */
			for (; i < (int)nb; i++)
				unprepare(w, w->batch[i]);
			break;
		}
		/* Refused outright (EINVAL, EIO...): that is the I/O's result. */
		r->result = -(int64_t)(errno ? errno : EIO);
		complete(w, r);
		n = 1;
	}
	if (atomic_load(&w->inflight) == 0)
		return 0;
	n = w->q.ops->reap(&w->q, w->done, w->q.depth, wait_ns);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++)
		complete(w, w->done[i]);
	return (int)atomic_load(&w->inflight);
}

static void
pin(int cpu)
{
	cpu_set_t	set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET((unsigned)cpu, &set);
	/* A CPU that went away again: run unpinned rather than not at all. */
	(void)sched_setaffinity(0, sizeof set, &set);
}

/* Bounded drain when stopping: a stuck request must not hold the agent. */
static void
worker_drain(struct io_worker *w)
{
	uint64_t	limit = clock_mono_ns() + w->run->cfg.io_timeout_ns +
			    1000000000ULL;

	while (atomic_load(&w->inflight) > 0 && clock_mono_ns() < limit)
		if (worker_step(w, false, 10000000ULL) == -1)
			break;
}

static void *
worker_main(void *arg)
{
	struct io_worker	*w = arg;
	struct io_run		*run = w->run;
	bool			 issue;
	struct timespec		 nap = { 0, 1000000 };

	pin(w->cpu);
	while (!atomic_load(&w->stop)) {
		issue = !atomic_load(&run->quiesced);
		if (worker_step(w, issue, 50000000ULL) == -1)
			break;
		if (!issue && atomic_load(&w->inflight) == 0)
			nanosleep(&nap, NULL);
	}
	worker_drain(w);
	return NULL;
}

static void
add_counters(struct io_totals *t, struct io_worker *w)
{
	t->ios += atomic_load_explicit(&w->c.ios, memory_order_relaxed);
	t->reads += atomic_load_explicit(&w->c.reads, memory_order_relaxed);
	t->writes += atomic_load_explicit(&w->c.writes, memory_order_relaxed);
	t->bytes_read += atomic_load_explicit(&w->c.bytes_read,
	    memory_order_relaxed);
	t->bytes_written += atomic_load_explicit(&w->c.bytes_written,
	    memory_order_relaxed);
	t->verified += atomic_load_explicit(&w->c.verified, memory_order_relaxed);
	t->errors += atomic_load_explicit(&w->c.errors, memory_order_relaxed);
	t->timeouts += atomic_load_explicit(&w->c.timeouts, memory_order_relaxed);
	t->corruptions += atomic_load_explicit(&w->c.corruptions,
	    memory_order_relaxed);
	t->inflight += atomic_load(&w->inflight);
}

/* Runs a fill or verify pass on the calling thread. */
static int
run_pass(struct io_run *run, enum io_job job, char **cause)
{
	struct io_worker	*w;

	int			 n;

	if ((w = worker_new(run, 0, -1, job, cause)) == NULL)
		return -1;
	for (;;) {
		if ((n = worker_step(w, true, 50000000ULL)) < 0)
			break;
		if (n == 0 && w->cursor >= run->nblocks)
			break;
	}
	worker_drain(w);
	pthread_mutex_lock(&run->lock);
	hist_merge(&run->retired, &w->lat);
	add_counters(&run->retired_totals, w);
	pthread_mutex_unlock(&run->lock);
	worker_free(w);
	return n < 0 ? cause_set(cause, "I/O engine %s failed: %s", run->cfg.engine->name,
	    strerror(errno)) : 0;
}

int
io_run_fill(struct io_run *run, char **cause)
{
	if (!run->cfg.verify)
		return 0;
	return run_pass(run, IO_JOB_FILL, cause);
}

int
io_run_verify(struct io_run *run, char **cause)
{
	if (!run->cfg.verify)
		return 0;
	return run_pass(run, IO_JOB_VERIFY, cause);
}

/* Flags every request past its deadline, once. */
static void *
watchdog_main(void *arg)
{
	struct io_run		*run = arg;
	struct io_worker	*w;
	struct io_req		*r;
	uint64_t		 now, tick;
	unsigned		 i, j, n;
	int			 busy;
	struct timespec		 ts;

	/* A tenth of the timeout, 10ms to 100ms: reported within timeout + 0.1s. */
	tick = run->cfg.io_timeout_ns / 10;
	if (tick < 10000000ULL)
		tick = 10000000ULL;
	if (tick > 100000000ULL)
		tick = 100000000ULL;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)tick;
	while (atomic_load(&run->running)) {
		nanosleep(&ts, NULL);
		now = clock_mono_ns();
		n = atomic_load(&run->nworkers);
		for (i = 0; i < n; i++) {
			if ((w = run->workers[i]) == NULL)
				continue;
			for (j = 0; j < w->q.depth; j++) {
				r = &w->reqs[j];
				busy = IO_SLOT_BUSY;
				if (atomic_load(&r->state) != IO_SLOT_BUSY ||
				    now <= atomic_load(&r->deadline_ns))
					continue;
				if (!atomic_compare_exchange_strong(&r->state,
				    &busy, IO_SLOT_LATE))
					continue;
				atomic_fetch_add_explicit(&w->c.timeouts, 1,
				    memory_order_relaxed);
				emit_req(w, r, IO_EVENT_TIMEOUT, now);
			}
		}
	}
	return NULL;
}

static int
add_worker(struct io_run *run, int cpu, char **cause)
{
	struct io_worker	*w;
	unsigned		 n;

	pthread_mutex_lock(&run->lock);
	n = atomic_load(&run->nworkers);
	if (n >= IO_MAX_WORKERS) {
		pthread_mutex_unlock(&run->lock);
		return cause_set(cause, "too many workers");
	}
	if ((w = worker_new(run, n, cpu, IO_JOB_MIXED, cause)) == NULL) {
		pthread_mutex_unlock(&run->lock);
		return -1;
	}
	if ((errno = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
		worker_free(w);
		pthread_mutex_unlock(&run->lock);
		return cause_set(cause, "pthread_create: %s", strerror(errno));
	}
	w->started = true;
	run->workers[n] = w;
	/* Published last: the watchdog reads workers[] without the lock. */
	atomic_store(&run->nworkers, n + 1);
	pthread_mutex_unlock(&run->lock);
	return 0;
}

int
io_run_add_cpu(struct io_run *run, unsigned cpu, char **cause)
{
	unsigned	i, n;

	if (run->cfg.workers != 0 || !atomic_load(&run->running))
		return 0;
	n = atomic_load(&run->nworkers);
	for (i = 0; i < n; i++)
		if (run->workers[i] != NULL && run->workers[i]->cpu == (int)cpu)
			return 0;
	return add_worker(run, (int)cpu, cause);
}

int
io_run_start(struct io_run *run, char **cause)
{
	cpu_set_t	set;
	unsigned	i, cpu;

	atomic_store(&run->running, true);
	if ((errno = pthread_create(&run->watchdog, NULL, watchdog_main,
	    run)) != 0) {
		atomic_store(&run->running, false);
		return cause_set(cause, "pthread_create: %s", strerror(errno));
	}
	run->watchdog_started = true;
	if (run->cfg.workers > 0) {
		for (i = 0; i < run->cfg.workers; i++)
			if (add_worker(run, -1, cause) == -1)
				return -1;
		return 0;
	}
	/* per-cpu: one worker on each CPU this process may run on now. */
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof set, &set) == -1)
		return cause_set(cause, "sched_getaffinity: %s", strerror(errno));
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && add_worker(run, (int)cpu, cause) == -1)
			return -1;
	return 0;
}

void
io_run_stop(struct io_run *run)
{
	struct io_worker	*w;
	unsigned		 i, n = atomic_load(&run->nworkers);

	for (i = 0; i < n; i++)
		if (run->workers[i] != NULL)
			atomic_store(&run->workers[i]->stop, true);
	for (i = 0; i < n; i++) {
		if ((w = run->workers[i]) == NULL || !w->started)
			continue;
		pthread_join(w->thread, NULL);
		w->started = false;
	}
	atomic_store(&run->running, false);
	if (run->watchdog_started) {
		pthread_join(run->watchdog, NULL);
		run->watchdog_started = false;
	}
	atomic_store(&run->quiesced, false);
}

int
io_run_quiesce(struct io_run *run, uint64_t timeout_ns, uint64_t *drain_ns,
    unsigned *inflight_at_start)
{
	struct io_totals	t;
	uint64_t		start = clock_mono_ns();
	struct timespec		nap = { 0, 500000 };

	atomic_store(&run->quiesced, true);
	io_run_totals(run, &t);
	*inflight_at_start = t.inflight;
	for (;;) {
		io_run_totals(run, &t);
		*drain_ns = clock_mono_ns() - start;
		if (t.inflight == 0)
			return 0;
		if (*drain_ns >= timeout_ns)
			return -1;
		nanosleep(&nap, NULL);
	}
}

void
io_run_resume(struct io_run *run)
{
	atomic_store(&run->quiesced, false);
}

void
io_run_totals(struct io_run *run, struct io_totals *t)
{
	unsigned	i, n = atomic_load(&run->nworkers);

	pthread_mutex_lock(&run->lock);
	*t = run->retired_totals;
	pthread_mutex_unlock(&run->lock);
	for (i = 0; i < n; i++) {
		if (run->workers[i] == NULL)
			continue;
		t->workers++;
		add_counters(t, run->workers[i]);
	}
}

void
io_run_latency(struct io_run *run, struct hist *out)
{
	unsigned	i, n = atomic_load(&run->nworkers);

	hist_init(out);
	pthread_mutex_lock(&run->lock);
	hist_merge(out, &run->retired);
	for (i = 0; i < n; i++)
		if (run->workers[i] != NULL)
			hist_merge(out, &run->workers[i]->lat);
	pthread_mutex_unlock(&run->lock);
}

void
io_run_mark_gap(struct io_run *run)
{
	atomic_store_explicit(&run->gap_mark_ns, clock_mono_ns(),
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&run->gap_epoch, 1, memory_order_release);
}

uint64_t
io_run_max_gap_ns(struct io_run *run)
{
	struct io_worker	*w;
	uint64_t		 now = clock_mono_ns(), epoch, mark, since, gap, max = 0;
	unsigned		 i, n = atomic_load(&run->nworkers);

	epoch = atomic_load_explicit(&run->gap_epoch, memory_order_acquire);
	mark = atomic_load_explicit(&run->gap_mark_ns, memory_order_relaxed);
	for (i = 0; i < n; i++) {
		if ((w = run->workers[i]) == NULL)
			continue;
		since = mark;
		gap = 0;
		if (atomic_load_explicit(&w->gap_epoch, memory_order_acquire) ==
		    epoch) {
			gap = atomic_load_explicit(&w->max_gap_ns,
			    memory_order_relaxed);
			since = atomic_load_explicit(&w->last_done_ns,
			    memory_order_relaxed);
		}
		/* I/O in flight and nothing back since: the stall goes on. */
		if (atomic_load(&w->inflight) > 0 && now > since &&
		    now - since > gap)
			gap = now - since;
		if (gap > max)
			max = gap;
	}
	return max;
}

const _Atomic uint64_t *
io_run_generations(const struct io_run *run, uint64_t *n)
{
	*n = run->nblocks;
	return run->gens;
}

void
io_run_free(struct io_run *run)
{
	unsigned	i, n;

	if (run == NULL)
		return;
	if (atomic_load(&run->running))
		io_run_stop(run);
	n = atomic_load(&run->nworkers);
	for (i = 0; i < n; i++)
		worker_free(run->workers[i]);
	if (run->fd != -1)
		close(run->fd);
	pthread_mutex_destroy(&run->lock);
	free(run->blocks);
	free(run->gens);
	free(run);
}
