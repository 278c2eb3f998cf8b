/* standalone.c: `hotsoak-agent --standalone`: the verified hammer without a
 * daemon, one JSON summary on stdout, and --verify-only for a kept target. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io-json.h"
#include "standalone.h"
#include "hotsoak/util.h"

#define MAX_KEPT_FINDINGS	1000	/* more are counted, not listed */
#define STATE_MAGIC		"HSSTATE1"

/* Findings gathered from worker threads. */
struct collect {
	pthread_mutex_t	 lock;
	json_t		*findings;
	json_t		*late;
	uint64_t	 counts[4];	/* by enum io_event_kind */
	uint64_t	 dropped;
};

static void
collect_event(void *arg, const struct io_event *ev)
{
	struct collect	*c = arg;
	json_t		*j;

	pthread_mutex_lock(&c->lock);
	c->counts[ev->kind]++;
	if (json_array_size(c->findings) + json_array_size(c->late) >=
	    MAX_KEPT_FINDINGS)
		c->dropped++;
	else if ((j = io_event_to_json(ev)) != NULL)
		json_array_append_new(ev->kind == IO_EVENT_LATE ? c->late :
		    c->findings, j);
	pthread_mutex_unlock(&c->lock);
}

static uint64_t
findings_total(const struct collect *c)
{
	return c->counts[IO_EVENT_CORRUPTION] + c->counts[IO_EVENT_TIMEOUT] +
	    c->counts[IO_EVENT_ERROR];
}

static json_t *
summary_counts(const struct collect *c)
{
	return json_pack("{s:I, s:I, s:I}",
	    "corruption", (json_int_t)c->counts[IO_EVENT_CORRUPTION],
	    "io_timeout", (json_int_t)c->counts[IO_EVENT_TIMEOUT],
	    "io_error", (json_int_t)c->counts[IO_EVENT_ERROR]);
}

static void
state_path(const struct standalone_opts *o, char *buf, size_t len)
{
	if (o->state != NULL)
		snprintf(buf, len, "%s", o->state);
	else
		snprintf(buf, len, "%s.hotsoak-state", o->target);
}

/*
 * The generations a kept run acknowledged, so --verify-only can tell a
 * replayed old block (stale) from the current one. Little-endian.
 */
static int
state_write(const struct standalone_opts *o, struct io_run *run, char **cause)
{
	const _Atomic uint64_t	*gens;
	uint64_t		 n, i, hdr[3];
	unsigned char		 le[8];
	char			 path[4096];
	FILE			*f;
	int			 b;

	state_path(o, path, sizeof path);
	gens = io_run_generations(run, &n);
	if ((f = fopen(path, "w")) == NULL) {
		if (asprintf(cause, "%s: %s", path, strerror(errno)) == -1)
			*cause = NULL;
		return -1;
	}
	hdr[0] = io_run_id(run);
	hdr[1] = o->block_size;
	hdr[2] = n;
	fwrite(STATE_MAGIC, 1, 8, f);
	for (i = 0; i < 3 + n; i++) {
		uint64_t v = i < 3 ? hdr[i] : atomic_load(&gens[i - 3]);

		for (b = 0; b < 8; b++)
			le[b] = (unsigned char)(v >> (8 * b));
		fwrite(le, 1, 8, f);
	}
	if (fclose(f) != 0) {
		if (asprintf(cause, "%s: %s", path, strerror(errno)) == -1)
			*cause = NULL;
		return -1;
	}
	return 0;
}

static uint64_t
le64(const unsigned char *p)
{
	uint64_t	v = 0;
	int		b;

	for (b = 7; b >= 0; b--)
		v = (v << 8) | p[b];
	return v;
}

/* Reads a state file, if there is one; *gens NULL when there is none. */
static int
state_read(const struct standalone_opts *o, uint64_t *run_id,
    uint64_t **gens, uint64_t *n, char **cause)
{
	unsigned char	 hdr[32], v[8];
	char		 path[4096];
	uint64_t	 i;
	FILE		*f;

	*gens = NULL;
	state_path(o, path, sizeof path);
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && o->state == NULL)
			return 0;	/* kept without state: self-checks only */
		if (asprintf(cause, "%s: %s", path, strerror(errno)) == -1)
			*cause = NULL;
		return -1;
	}
	if (fread(hdr, 1, 32, f) != 32 || memcmp(hdr, STATE_MAGIC, 8) != 0 ||
	    le64(hdr + 16) != o->block_size || le64(hdr + 24) >
	    o->size / o->block_size) {
		fclose(f);
		if (asprintf(cause, "%s: not a state file for this block size "
		    "and size", path) == -1)
			*cause = NULL;
		return -1;
	}
	*run_id = le64(hdr + 8);
	*n = le64(hdr + 24);
	if ((*gens = calloc(*n ? *n : 1, sizeof **gens)) == NULL) {
		fclose(f);
		*cause = strdup("out of memory");
		return -1;
	}
	for (i = 0; i < *n; i++) {
		if (fread(v, 1, 8, f) != 8)
			break;
		(*gens)[i] = le64(v);
	}
	fclose(f);
	return 0;
}

static void
print_json(json_t *o)
{
	char	*s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(6));

	if (s != NULL) {
		printf("%s\n", s);
		free(s);
	}
	fflush(stdout);
}

/* Re-reads a kept target and checks every block on its own. */
static int
verify_only(const struct standalone_opts *o)
{
	struct collect		 c;
	struct io_event		 ev;
	struct stamp_expect	 e;
	enum stamp_result	 res;
	unsigned char		*buf = NULL;
	uint64_t		 run_id = 0, *gens = NULL, ngens = 0, off, b, nb;
	uint64_t		 checked = 0, chunk;
	char			*cause = NULL;
	ssize_t			 got;
	json_t			*out;
	int			 fd, rc;

	memset(&c, 0, sizeof c);
	pthread_mutex_init(&c.lock, NULL);
	c.findings = json_array();
	c.late = json_array();
	if (state_read(o, &run_id, &gens, &ngens, &cause) == -1) {
		fprintf(stderr, "hotsoak-agent: %s\n", cause ? cause : "?");
		free(cause);
		return 2;
	}
	/* Without state, a seed names the run to expect; else any run will do. */
	if (gens == NULL)
		run_id = o->seed_set ? io_seed_run_id(o->seed) : 0;
	if ((fd = open(o->target, O_RDONLY | O_CLOEXEC | (o->direct ?
	    O_DIRECT : 0))) == -1) {
		fprintf(stderr, "hotsoak-agent: %s: %s\n", o->target,
		    strerror(errno));
		free(gens);
		return 2;
	}
	chunk = o->block_size * (1048576 / o->block_size ? 1048576 /
	    o->block_size : 1);
	if (posix_memalign((void **)&buf, 4096, chunk) != 0) {
		close(fd);
		free(gens);
		return 2;
	}
	for (off = 0; off < o->size; off += chunk) {
		got = pread(fd, buf, chunk < o->size - off ? chunk : o->size - off,
		    (off_t)off);
		if (got < 0) {
			memset(&ev, 0, sizeof ev);
			ev.kind = IO_EVENT_ERROR;
			ev.offset = off;
			ev.len = chunk;
			ev.error = errno;
			ev.time_ns = clock_wall_ns();
			collect_event(&c, &ev);
			continue;
		}
		nb = ((uint64_t)got + o->block_size - 1) / o->block_size;
		for (b = 0; b < nb; b++) {
			size_t	len = (size_t)((uint64_t)got - b * o->block_size);
			uint64_t blk = (off / o->block_size) + b;

			if (len > o->block_size)
				len = (size_t)o->block_size;
			memset(&ev, 0, sizeof ev);
			if (gens != NULL && blk < ngens) {
				e.run_id = run_id;
				e.offset = off + b * o->block_size;
				e.block_size = o->block_size;
				e.generation = gens[blk];
				e.maybe_generation = 0;
				res = stamp_check(buf + b * o->block_size, len, &e,
				    &ev.found, &ev.bad_sector);
				ev.expected.generation = gens[blk];
			} else {
				res = stamp_check_alone(buf + b * o->block_size,
				    len, o->block_size, off + b * o->block_size,
				    run_id, &ev.found, &ev.bad_sector);
				/*
				 * A kept target was filled before the hammer, so
				 * a zero block lost its data; a --no-fill target
				 * needs its state file to tell.
				 */
				if (res == STAMP_UNWRITTEN)
					res = STAMP_ZEROED;
			}
			checked++;
			if (res == STAMP_OK || res == STAMP_UNWRITTEN)
				continue;
			ev.kind = IO_EVENT_CORRUPTION;
			ev.result = res;
			ev.offset = off + b * o->block_size;
			ev.len = o->block_size;
			ev.expected.magic = STAMP_MAGIC;
			ev.expected.offset = ev.offset;
			ev.expected.run_id = run_id;
			ev.time_ns = clock_wall_ns();
			collect_event(&c, &ev);
		}
	}
	close(fd);
	free(buf);
	free(gens);
	rc = findings_total(&c) ? 1 : 0;
	out = json_pack("{s:s, s:s, s:I, s:I, s:I, s:b, s:o, s:I, s:o}",
	    "mode", "verify-only", "target", o->target,
	    "size", (json_int_t)o->size, "block_size", (json_int_t)o->block_size,
	    "blocks_verified", (json_int_t)checked, "history", gens != NULL,
	    "findings_by_kind", summary_counts(&c),
	    "findings_not_listed", (json_int_t)c.dropped,
	    "findings", c.findings);
	print_json(out);
	json_decref(out);
	json_decref(c.late);
	pthread_mutex_destroy(&c.lock);
	return rc;
}

static double
mb_per_s(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes / 1048576.0 / ((double)ns / 1e9) : 0.0;
}

int
standalone_run(const struct standalone_opts *o)
{
	struct io_config	 cfg;
	struct io_run		*run;
	struct io_totals	 before, after;
	struct collect		 c;
	struct hist		 lat;
	struct stat		 st;
	struct timespec		 nap;
	uint64_t		 start, elapsed;
	char			*cause = NULL, run_hex[19];
	bool			 existed;
	json_t			*out;
	int			 rc = 2;

	if (o->verify_only)
		return verify_only(o);

	memset(&c, 0, sizeof c);
	pthread_mutex_init(&c.lock, NULL);
	c.findings = json_array();
	c.late = json_array();
	memset(&cfg, 0, sizeof cfg);
	cfg.path = o->target;
	cfg.size = o->size;
	cfg.block_size = o->block_size;
	cfg.queue_depth = o->queue_depth;
	cfg.workers = o->workers;
	cfg.read_percent = o->read_percent;
	cfg.sequential = o->sequential;
	cfg.verify = o->verify;
	cfg.direct = o->direct;
	cfg.io_timeout_ns = o->io_timeout_ms * 1000000ULL;
	cfg.seed = o->seed;
	cfg.engine = o->engine;
	cfg.on_event = collect_event;
	cfg.arg = &c;

	existed = stat(o->target, &st) == 0;
	if ((run = io_run_new(&cfg, &cause)) == NULL) {
		fprintf(stderr, "hotsoak-agent: %s\n", cause ? cause : "?");
		goto out;
	}
	if (o->fill && io_run_fill(run, &cause) == -1) {
		fprintf(stderr, "hotsoak-agent: fill: %s\n", cause ? cause : "?");
		goto out;
	}
	io_run_totals(run, &before);
	start = clock_mono_ns();
	if (io_run_start(run, &cause) == -1) {
		fprintf(stderr, "hotsoak-agent: %s\n", cause ? cause : "?");
		goto out;
	}
	nap.tv_sec = (time_t)o->seconds;
	nap.tv_nsec = 0;
	while (nanosleep(&nap, &nap) == -1 && errno == EINTR)
		;
	io_run_stop(run);
	elapsed = clock_mono_ns() - start;
	io_run_totals(run, &after);
	if (o->final_verify && io_run_verify(run, &cause) == -1) {
		fprintf(stderr, "hotsoak-agent: verify: %s\n", cause ? cause : "?");
		goto out;
	}
	if (o->keep && o->verify && state_write(o, run, &cause) == -1) {
		fprintf(stderr, "hotsoak-agent: %s\n", cause ? cause : "?");
		goto out;
	}
	io_run_latency(run, &lat);
	io_run_totals(run, &after);	/* with the final verify pass */

	snprintf(run_hex, sizeof run_hex, "0x%016llx",
	    (unsigned long long)io_run_id(run));
	out = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:f, s:f,"
	    " s:f, s:o, s:o, s:o, s:I, s:o, s:o}",
	    "mode", "standalone", "target", o->target,
	    "size", (json_int_t)o->size, "block_size", (json_int_t)o->block_size,
	    "seed", (json_int_t)o->seed, "queue_depth", (json_int_t)o->queue_depth,
	    "run_id", run_hex, "engine", cfg.engine ? cfg.engine->name : "aio",
	    "crc32c", crc32c_impl(),
	    "seconds", (double)elapsed / 1e9,
	    "read_mb_per_s", mb_per_s(after.bytes_read - before.bytes_read, elapsed),
	    "write_mb_per_s", mb_per_s(after.bytes_written -
	    before.bytes_written, elapsed),
	    "counters", io_totals_to_json(&after),
	    "latency", hist_to_json(&lat),
	    "findings_by_kind", summary_counts(&c),
	    "findings_not_listed", (json_int_t)c.dropped,
	    "findings", json_incref(c.findings),
	    "late_completions", json_incref(c.late));
	if (o->json)
		print_json(out);
	else
		printf("%" PRIu64 " I/Os, %" PRIu64 " blocks verified, %" PRIu64
		    " findings\n", after.ios, after.verified, findings_total(&c));
	json_decref(out);
	rc = findings_total(&c) ? 1 : 0;
out:
	free(cause);
	io_run_free(run);
	if (!o->keep && !existed && rc != 2)
		unlink(o->target);
	json_decref(c.findings);
	json_decref(c.late);
	pthread_mutex_destroy(&c.lock);
	return rc;
}
