/* check-io.c: the verified I/O engine: corruption made behind its back is
 * found with the right offset and kind, a stuck I/O becomes an io_timeout
 * within its timeout plus a second, errors and quiesce behave. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "hotsoak/util.h"

#define BS	4096ULL
#define NBLK	64ULL

struct seen {
	pthread_mutex_t	lock;
	struct io_event	ev[256];
	unsigned	n;
	uint64_t	first_timeout_ns;	/* monotonic, when reported */
};

static void
on_event(void *arg, const struct io_event *ev)
{
	struct seen	*s = arg;

	pthread_mutex_lock(&s->lock);
	if (ev->kind == IO_EVENT_TIMEOUT && s->first_timeout_ns == 0)
		s->first_timeout_ns = clock_mono_ns();
	if (s->n < 256)
		s->ev[s->n++] = *ev;
	pthread_mutex_unlock(&s->lock);
}

static char path[256];

static void
setup(void)
{
	const char	*tmp = getenv("TMPDIR");
	int		 fd;

	snprintf(path, sizeof path, "%s/hotsoak-io.XXXXXX", tmp ? tmp : "/tmp");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void
teardown(void)
{
	unlink(path);
}

static void
config(struct io_config *c, struct seen *s)
{
	memset(c, 0, sizeof *c);
	memset(s, 0, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	c->path = path;
	c->size = NBLK * BS;
	c->block_size = BS;
	c->queue_depth = 4;
	c->workers = 2;
	c->read_percent = 50;
	c->verify = true;
	c->direct = true;
	c->io_timeout_ns = 5000000000ULL;
	c->seed = 42;
	c->on_event = on_event;
	c->arg = s;
}

static void
read_block(uint64_t blk, unsigned char *buf)
{
	int	fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, BS, (off_t)(blk * BS)), (ssize_t)BS);
	close(fd);
}

/* Behind the engine's back: buffered writes, which O_DIRECT reads then see. */
static void
write_at(uint64_t off, const void *buf, size_t len)
{
	int	fd = open(path, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	ck_assert_int_eq(fsync(fd), 0);
	close(fd);
}

static const struct io_event *
find(struct seen *s, uint64_t offset)
{
	unsigned	i;

	for (i = 0; i < s->n; i++)
		if (s->ev[i].offset == offset)
			return &s->ev[i];
	return NULL;
}

START_TEST(corruption_found_at_offset_and_kind)
{
	struct io_config	 c;
	struct seen		 s;
	struct io_run		*run;
	unsigned char		 gen1_x[BS], gen1_e[BS], blk[BS];
	char			*cause = NULL;
	const struct io_event	*ev;
	enum { A = 3, B = 10, C = 20, D = 21, X = 30, E = 40 };

	config(&c, &s);
	run = io_run_new(&c, &cause);
	ck_assert_msg(run != NULL, "%s", cause);
	/* Two passes: every block at generation 2, with generation 1 saved. */
	ck_assert_int_eq(io_run_fill(run, &cause), 0);
	read_block(X, gen1_x);
	read_block(E, gen1_e);
	ck_assert_int_eq(io_run_fill(run, &cause), 0);
	ck_assert_uint_eq(s.n, 0);

	read_block(A, blk);			/* bit rot in the payload */
	blk[1000] ^= 0x10;
	write_at(A * BS, blk, BS);
	memset(blk, 0, BS);			/* a zeroed block */
	write_at(B * BS, blk, BS);
	read_block(C, blk);			/* C's block written at D */
	write_at(D * BS, blk, BS);
	write_at(X * BS, gen1_x, BS);		/* a lost write: the old version */
	/* A torn write: sectors 5-7 never made it, the old ones remain. */
	write_at(E * BS + 5 * 512, gen1_e + 5 * 512, 3 * 512);

	ck_assert_int_eq(io_run_verify(run, &cause), 0);
	ck_assert_uint_eq(s.n, 5);
	ck_assert_ptr_nonnull(ev = find(&s, A * BS));
	ck_assert_int_eq(ev->result, STAMP_BITROT);
	ck_assert_uint_eq(ev->bad_sector, 1000 / 512);
	ck_assert_ptr_nonnull(ev = find(&s, B * BS));
	ck_assert_int_eq(ev->result, STAMP_ZEROED);
	ck_assert_ptr_nonnull(ev = find(&s, D * BS));
	ck_assert_int_eq(ev->result, STAMP_MISDIRECTED);
	ck_assert_uint_eq(ev->found.offset, C * BS);
	ck_assert_ptr_nonnull(ev = find(&s, X * BS));
	ck_assert_int_eq(ev->result, STAMP_STALE);
	ck_assert_uint_eq(ev->found.generation, 1);
	ck_assert_uint_eq(ev->expected.generation, 2);
	ck_assert_ptr_nonnull(ev = find(&s, E * BS));
	ck_assert_int_eq(ev->result, STAMP_TORN);
	ck_assert_uint_eq(ev->bad_sector, 5);
	for (unsigned i = 0; i < s.n; i++)
		ck_assert_int_eq(s.ev[i].kind, IO_EVENT_CORRUPTION);
	io_run_free(run);
}
END_TEST

START_TEST(hammer_runs_clean)
{
	struct io_config	 c;
	struct seen		 s;
	struct io_run		*run;
	struct io_totals	 t;
	struct hist		 h;
	struct timespec		 nap = { 0, 300000000 };
	char			*cause = NULL;

	config(&c, &s);
	run = io_run_new(&c, &cause);
	ck_assert_msg(run != NULL, "%s", cause);
	ck_assert_int_eq(io_run_fill(run, &cause), 0);
	ck_assert_int_eq(io_run_start(run, &cause), 0);
	nanosleep(&nap, NULL);
	io_run_stop(run);
	ck_assert_int_eq(io_run_verify(run, &cause), 0);
	io_run_totals(run, &t);
	ck_assert_uint_gt(t.reads, 0);
	ck_assert_uint_gt(t.writes, NBLK);
	ck_assert_uint_ge(t.verified, t.reads);
	ck_assert_uint_eq(t.errors + t.timeouts + t.corruptions, 0);
	ck_assert_uint_eq(s.n, 0);
	io_run_latency(run, &h);
	ck_assert_uint_eq(hist_count(&h), t.ios);
	io_run_free(run);
}
END_TEST

START_TEST(per_cpu_workers)
{
	struct io_config	 c;
	struct seen		 s;
	struct io_run		*run;
	struct io_totals	 t;
	cpu_set_t		 set;
	char			*cause = NULL;

	config(&c, &s);
	c.workers = 0;
	run = io_run_new(&c, &cause);
	ck_assert_msg(run != NULL, "%s", cause);
	ck_assert_int_eq(io_run_start(run, &cause), 0);
	io_run_totals(run, &t);
	ck_assert_int_eq(sched_getaffinity(0, sizeof set, &set), 0);
	ck_assert_uint_eq(t.workers, (unsigned)CPU_COUNT(&set));
	/* A CPU that already has a worker gets no second one. */
	ck_assert_int_eq(io_run_add_cpu(run, 0, &cause), 0);
	io_run_totals(run, &t);
	ck_assert_uint_eq(t.workers, (unsigned)CPU_COUNT(&set));
	io_run_free(run);
}
END_TEST

START_TEST(quiesce_drains)
{
	struct io_config	 c;
	struct seen		 s;
	struct io_run		*run;
	struct io_totals	 a, b;
	struct timespec		 nap = { 0, 100000000 };
	uint64_t		 drain;
	unsigned		 at_start;
	char			*cause = NULL;

	config(&c, &s);
	run = io_run_new(&c, &cause);
	ck_assert_msg(run != NULL, "%s", cause);
	ck_assert_int_eq(io_run_start(run, &cause), 0);
	nanosleep(&nap, NULL);
	ck_assert_int_eq(io_run_quiesce(run, 5000000000ULL, &drain, &at_start), 0);
	io_run_totals(run, &a);
	ck_assert_uint_eq(a.inflight, 0);
	nanosleep(&nap, NULL);
	io_run_totals(run, &b);
	ck_assert_uint_eq(b.ios, a.ios);	/* nothing issued while quiesced */
	io_run_resume(run);
	nanosleep(&nap, NULL);
	io_run_totals(run, &b);
	ck_assert_uint_gt(b.ios, a.ios);
	io_run_free(run);
}
END_TEST

START_TEST(stall_meter)
{
	struct io_config	 c;
	struct seen		 s;
	struct io_run		*run;
	struct timespec		 nap = { 0, 100000000 }, hold = { 0, 300000000 };
	uint64_t		 drain, gap;
	unsigned		 at_start;
	char			*cause = NULL;

	config(&c, &s);
	c.direct = false;
	run = io_run_new(&c, &cause);
	ck_assert_msg(run != NULL, "%s", cause);
	ck_assert_int_eq(io_run_fill(run, &cause), 0);
	ck_assert_int_eq(io_run_start(run, &cause), 0);
	nanosleep(&nap, NULL);
	/* I/O flowing: no gap worth the name. */
	io_run_mark_gap(run);
	nanosleep(&nap, NULL);
	gap = io_run_max_gap_ns(run);
	ck_assert_uint_lt(gap, 50000000ULL);
	/* 300ms with nothing completing, then I/O again: a 300ms stall. */
	io_run_mark_gap(run);
	ck_assert_int_eq(io_run_quiesce(run, 5000000000ULL, &drain, &at_start), 0);
	nanosleep(&hold, NULL);
	/* Quiesced with nothing in flight: idle, not stalled (yet). */
	ck_assert_uint_lt(io_run_max_gap_ns(run), 100000000ULL);
	io_run_resume(run);
	nanosleep(&nap, NULL);
	gap = io_run_max_gap_ns(run);
	ck_assert_uint_ge(gap, 290000000ULL);
	ck_assert_uint_lt(gap, 1000000000ULL);
	/* A new mark starts over. */
	io_run_mark_gap(run);
	nanosleep(&nap, NULL);
	ck_assert_uint_lt(io_run_max_gap_ns(run), 50000000ULL);
	io_run_free(run);
}
END_TEST

/*
 * A test engine over sync: request number `stuck_at` is never completed
 * (held forever, as a hung device would), and `fail_at` completes with EIO.
 */
struct test_priv {
	struct io_queue	 inner;
	struct io_req	*held;
};

static _Atomic unsigned submitted;
static unsigned stuck_at, fail_at;

static int
test_init(struct io_queue *q, unsigned depth, char **cause)
{
	struct test_priv	*p = calloc(1, sizeof *p);

	p->inner.fd = q->fd;
	p->inner.depth = depth;
	if (io_engine_sync.init(&p->inner, depth, cause) == -1)
		return -1;
	q->priv = p;
	return 0;
}

static int
test_submit(struct io_queue *q, struct io_req **reqs, unsigned nr)
{
	struct test_priv	*p = q->priv;
	unsigned		 i, n;

	for (i = 0; i < nr; i++) {
		n = atomic_fetch_add(&submitted, 1) + 1;
		if (n == stuck_at) {
			p->held = reqs[i];
			continue;
		}
		if (io_engine_sync.submit(&p->inner, &reqs[i], 1) != 1)
			return i == 0 ? -1 : (int)i;
		if (n == fail_at)
			reqs[i]->result = -EIO;
	}
	return (int)nr;
}

static int
test_reap(struct io_queue *q, struct io_req **done, unsigned max,
    uint64_t timeout_ns)
{
	struct test_priv	*p = q->priv;
	struct timespec		 nap = { 0, 1000000 };
	int			 n = io_engine_sync.reap(&p->inner, done, max,
				    timeout_ns);

	if (n == 0)
		nanosleep(&nap, NULL);	/* only the held one is left */
	return n;
}

static void
test_cleanup(struct io_queue *q)
{
	struct test_priv	*p = q->priv;

	io_engine_sync.cleanup(&p->inner);
	free(p);
}

static const struct io_engine_ops test_engine = {
	.name = "test", .init = test_init, .submit = test_submit,
	.reap = test_reap, .cleanup = test_cleanup,
};

START_TEST(stuck_io_times_out)
{
	struct io_config	 c;
	struct seen		 s;
	struct io_run		*run;
	uint64_t		 start, limit;
	struct timespec		 nap = { 0, 10000000 };
	char			*cause = NULL;
	unsigned		 i, timeouts = 0;

	config(&c, &s);
	c.engine = &test_engine;
	c.workers = 1;
	c.io_timeout_ns = 500000000ULL;	/* 0.5s */
	atomic_store(&submitted, 0);
	stuck_at = 5;
	fail_at = 0;
	run = io_run_new(&c, &cause);
	ck_assert_msg(run != NULL, "%s", cause);
	start = clock_mono_ns();
	ck_assert_int_eq(io_run_start(run, &cause), 0);
	limit = start + c.io_timeout_ns + 1000000000ULL;
	while (clock_mono_ns() < limit) {
		pthread_mutex_lock(&s.lock);
		timeouts = s.first_timeout_ns != 0;
		pthread_mutex_unlock(&s.lock);
		if (timeouts)
			break;
		nanosleep(&nap, NULL);
	}
	ck_assert_msg(timeouts, "no io_timeout within timeout + 1s");
	ck_assert_uint_ge(s.first_timeout_ns - start, c.io_timeout_ns);
	io_run_stop(run);
	/* Reported once, for the one request, however long it stays stuck. */
	for (i = 0, timeouts = 0; i < s.n; i++)
		if (s.ev[i].kind == IO_EVENT_TIMEOUT) {
			timeouts++;
			ck_assert_uint_ge(s.ev[i].age_ns, c.io_timeout_ns);
		}
	ck_assert_uint_eq(timeouts, 1);
	io_run_free(run);
}
END_TEST

START_TEST(io_error_reported)
{
	struct io_config	 c;
	struct seen		 s;
	struct io_run		*run;
	struct io_totals	 t;
	char			*cause = NULL;

	config(&c, &s);
	c.engine = &test_engine;
	atomic_store(&submitted, 0);
	stuck_at = 0;
	fail_at = 7;
	run = io_run_new(&c, &cause);
	ck_assert_msg(run != NULL, "%s", cause);
	ck_assert_int_eq(io_run_fill(run, &cause), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_int_eq(s.ev[0].kind, IO_EVENT_ERROR);
	ck_assert_int_eq(s.ev[0].error, EIO);
	ck_assert_uint_eq(s.ev[0].offset, 6 * BS);	/* the 7th write of the fill */
	ck_assert(s.ev[0].write);
	/* No acknowledged write on the failed block: verify has nothing to hold it to. */
	ck_assert_int_eq(io_run_verify(run, &cause), 0);
	ck_assert_uint_eq(s.n, 1);
	io_run_totals(run, &t);
	ck_assert_uint_eq(t.errors, 1);
	io_run_free(run);
}
END_TEST

START_TEST(bad_config_refused)
{
	struct io_config	 c;
	struct seen		 s;
	char			*cause = NULL;

	config(&c, &s);
	c.block_size = 1000;
	ck_assert_ptr_null(io_run_new(&c, &cause));
	ck_assert_ptr_nonnull(cause);
	free(cause);
	config(&c, &s);
	c.path = "/nonexistent-dir/x";
	ck_assert_ptr_null(io_run_new(&c, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "/nonexistent-dir/x"));
	free(cause);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("io");
	TCase	*tc = tcase_create("engine");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, corruption_found_at_offset_and_kind);
	tcase_add_test(tc, hammer_runs_clean);
	tcase_add_test(tc, per_cpu_workers);
	tcase_add_test(tc, quiesce_drains);
	tcase_add_test(tc, stall_meter);
	tcase_add_test(tc, stuck_io_times_out);
	tcase_add_test(tc, io_error_reported);
	tcase_add_test(tc, bad_config_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
