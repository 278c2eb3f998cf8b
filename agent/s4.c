/* s4.c: the agent's part in a hot replace: the application-level quiesce
 * (hold new I/O, drain) and the guest's pseudo-S4, the hibernation test
 * mode, driven from a helper thread while the workload keeps issuing I/O. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent-int.h"
#include "log.h"
#include "hotsoak/util.h"

#define S4_SETTLE_MS	1000	/* after the cycle, wait this long for I/O to move */
#define S4_MEMX_WAIT_MS	60000	/* a memory exercise in flight ends first */

/* Test levels of /sys/power/pm_test that suspend devices and write no image. */
static const char *const s4_levels[] = {
	"freezer", "devices", "platform", "processors", "core", NULL
};

/* quiesce */

/*
 * The hot-added disks' runs hold their I/O with the workload's, within
 * what is left of the same deadline. -1 names the first that did not drain.
 */
static int
quiesce_extra(struct agent_job *j, uint64_t *drain_ns, unsigned *at_start)
{
	uint64_t	t0 = clock_mono_ns(), budget = j->timeout_ms * MS_NS;
	uint64_t	used, drained = 0;
	unsigned	i, n = 0;
	int		rc = 0;

	budget = budget > *drain_ns ? budget - *drain_ns : 0;
	for (i = 0; i < j->nextra; i++) {
		used = clock_mono_ns() - t0;
		if (io_run_quiesce(j->extra[i]->run, budget > used ? budget - used :
		    0, &drained, &n) == -1 && rc == 0) {
			rc = -1;
			if (asprintf(&j->cause, "%s did not drain (%u in flight)",
			    j->extra[i]->path, n) == -1)
				j->cause = NULL;
		}
		*at_start += n;
	}
	*drain_ns += clock_mono_ns() - t0;
	return rc;
}

static void *
quiesce_main(void *arg)
{
	struct agent_job	*j = arg;
	struct io_totals	 t;
	uint64_t		 drain_ns = 0;
	unsigned		 at_start = 0;

	j->rc = io_run_quiesce(j->run, j->timeout_ms * MS_NS, &drain_ns,
	    &at_start);
	if (j->rc == 0 && j->nextra > 0 &&
	    quiesce_extra(j, &drain_ns, &at_start) == -1) {
		j->code = PROTO_E_FAILED;
		return NULL;
	}
	if (j->rc == 0) {
		j->result = json_pack("{s:I, s:i}", "drained_ms",
		    (json_int_t)(drain_ns / MS_NS), "inflight_at_start",
		    (int)at_start);
		return NULL;
	}
	io_run_totals(j->run, &t);
	j->code = PROTO_E_FAILED;
	if (asprintf(&j->cause, "drain timed out after %llu ms (%u in flight)",
	    (unsigned long long)(drain_ns / MS_NS), t.inflight) == -1)
		j->cause = NULL;
	return NULL;
}

enum agent_req_result
s4_quiesce(struct agent *a, const struct link_req *req, const json_t *obj)
{
	struct agent_job	*j;

	if (a->run == NULL) {
		link_error(a->link, req, PROTO_E_BUSY, "no workload is running");
		return AGENT_REQ_DONE;
	}
	if ((j = calloc(1, sizeof *j)) == NULL) {
		link_error(a->link, req, PROTO_E_FAILED, "out of memory");
		return AGENT_REQ_DONE;
	}
	j->kind = AGENT_JOB_QUIESCE;
	j->req = *req;
	j->run = a->run;
	targets_borrow(a, j);
	j->timeout_ms = (uint64_t)json_integer_value(json_object_get(obj,
	    "timeout_ms"));
	if (agent_job_launch(a, j, quiesce_main) == -1) {
		link_error(a->link, req, PROTO_E_FAILED, "cannot start a thread: "
		    "%s", strerror(errno));
		agent_job_free(j);
		return AGENT_REQ_DONE;
	}
	return AGENT_REQ_WAIT;
}

void
s4_quiesce_done(struct agent *a, struct agent_job *j)
{
	/* Timed out or not, the engine holds new I/O until resume. */
	agent_set_state(a, AGENT_QUIESCED);
	if (j->answered)
		return;
	j->answered = true;
	if (j->rc == 0) {
		link_reply(a->link, &j->req, j->result);
		j->result = NULL;
	} else
		link_error(a->link, &j->req, j->code, "%s", j->cause ? j->cause :
		    "drain timed out");
}

/* pseudo-S4 */

/*
 * One write(2) of value to <root>/<rel>, never creating it: sysfs acts on
 * each write. -1 with *cause naming the path and the errno text.
 */
static int
sysfs_write(const char *root, const char *rel, const char *value,
    char **cause)
{
	char	path[4096];
	size_t	len = strlen(value);
	ssize_t	n;
	int	fd, err;

	snprintf(path, sizeof path, "%s/%s", strcmp(root, "/") ? root : "",
	    rel);
	/* O_TRUNC: sysfs ignores it; a fake tree's plain file needs it. */
	if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) == -1)
		goto fail;
	do
		n = write(fd, value, len);
	while (n == -1 && errno == EINTR);
	if (n >= 0 && (size_t)n != len) {
		n = -1;
		errno = EIO;
	}
	err = errno;
	if (close(fd) == -1 && n != -1) {
		n = -1;
		err = errno;
	}
	errno = err;
	if (n != -1)
		return 0;
fail:
	if (asprintf(cause, "%s: %s", path, strerror(errno)) == -1)
		*cause = NULL;
	return -1;
}

/* The workload's counters and its hot-added disks', summed. */
static void
s4_totals(struct agent_job *j, struct io_totals *t)
{
	struct io_totals	x;
	unsigned		i;

	io_run_totals(j->run, t);
	for (i = 0; i < j->nextra; i++) {
		io_run_totals(j->extra[i]->run, &x);
		t->ios += x.ios;
		t->timeouts += x.timeouts;
		t->errors += x.errors;
		t->inflight += x.inflight;
	}
}

static void *
s4_main(void *arg)
{
	struct agent_job	*j = arg;
	struct io_totals	 before, at_return, t;
	uint64_t		 t0, t1, stall = 0, settle_end;
	char			*ignored = NULL, *reset = NULL;
	struct timespec		 nap = { 0, 1000000 };
	uint64_t		 gap;
	unsigned		 i;
	int			 rc;

	j->rc = -1;
	j->code = PROTO_E_FAILED;
	memset(&before, 0, sizeof before);
	memset(&t, 0, sizeof t);
	if (j->run != NULL) {
		s4_totals(j, &before);
		io_run_mark_gap(j->run);
		for (i = 0; i < j->nextra; i++)
			io_run_mark_gap(j->extra[i]->run);
	}
	/*
	 * Hibernation preallocates room for an image of all memory in use:
	 * an exercise of hot-added memory in flight would leave it "N pages
	 * short". The loop starts no new one while this job runs.
	 */
	for (i = 0; j->memx_busy != NULL && i < S4_MEMX_WAIT_MS / 10 &&
	    __atomic_load_n(j->memx_busy, __ATOMIC_ACQUIRE); i++) {
		nap.tv_nsec = 10000000;
		nanosleep(&nap, NULL);
	}
	nap.tv_nsec = 1000000;
	/* platform: the hibernation mode with the firmware's hooks; optional. */
	if (sysfs_write(j->root, "sys/power/disk", "platform", &ignored) == -1)
		log_debug("pseudo-S4: %s (ignored)", ignored);
	free(ignored);
	if (sysfs_write(j->root, "sys/power/pm_test", j->level, &j->cause) == -1)
		return NULL;
	log_info("pseudo-S4: entering at level %s", j->level);
	t0 = clock_mono_ns();
	/* Returns after the cycle: ~5 s of the kernel's test delay and the work. */
	rc = sysfs_write(j->root, "sys/power/state", "disk", &j->cause);
	t1 = clock_mono_ns();
	/* Leave the test mode whatever happened, or the next hibernation is a test. */
	if (sysfs_write(j->root, "sys/power/pm_test", "none", &reset) == -1 &&
	    rc == 0) {
		j->cause = reset;
		reset = NULL;
		rc = -1;
	}
	free(reset);
	if (rc == -1)
		return NULL;
	if (j->run != NULL) {
		/* The stall lasts until I/O completes again: wait for that. */
		s4_totals(j, &at_return);
		settle_end = clock_mono_ns() + S4_SETTLE_MS * MS_NS;
		do {
			s4_totals(j, &t);
			if (t.ios > at_return.ios || t.inflight == 0)
				break;
			nanosleep(&nap, NULL);
		} while (clock_mono_ns() < settle_end);
		/* The longest stall of any disk: a hot-added one may stall longest. */
		stall = io_run_max_gap_ns(j->run);
		for (i = 0; i < j->nextra; i++)
			if ((gap = io_run_max_gap_ns(j->extra[i]->run)) > stall)
				stall = gap;
		s4_totals(j, &t);
	}
	j->rc = 0;
	j->result = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:b}",
	    "level", j->level,
	    "kernel_ms", (json_int_t)((t1 - t0) / MS_NS),
	    "stall_ms", (json_int_t)(stall / MS_NS),
	    "io_timeouts", (json_int_t)(t.timeouts - before.timeouts),
	    "io_errors", (json_int_t)(t.errors - before.errors),
	    "ios", (json_int_t)(t.ios - before.ios),
	    "io", j->run != NULL);
	log_info("pseudo-S4: back after %llu ms, I/O stalled %llu ms",
	    (unsigned long long)((t1 - t0) / MS_NS),
	    (unsigned long long)(stall / MS_NS));
	return NULL;
}

enum agent_req_result
s4_pseudo(struct agent *a, const struct link_req *req, const json_t *obj)
{
	const char		*level = json_string_value(json_object_get(obj,
				    "level"));
	struct agent_job	*j;
	size_t			 i;

	for (i = 0; s4_levels[i] != NULL; i++)
		if (strcmp(s4_levels[i], level) == 0)
			break;
	if (s4_levels[i] == NULL) {
		link_error(a->link, req, PROTO_E_BAD_FIELD, "pseudo_s4: `level` "
		    "must be one of freezer, devices, platform, processors, core "
		    "(a test level: no image is written)");
		return AGENT_REQ_DONE;
	}
	if ((j = calloc(1, sizeof *j)) == NULL) {
		link_error(a->link, req, PROTO_E_FAILED, "out of memory");
		return AGENT_REQ_DONE;
	}
	j->kind = AGENT_JOB_PSEUDO_S4;
	j->req = *req;
	j->run = a->run;
	targets_borrow(a, j);
	j->root = a->root;
	j->memx_busy = &a->memx.busy;
	snprintf(j->level, sizeof j->level, "%s", level);
	j->timeout_ms = (uint64_t)json_integer_value(json_object_get(obj,
	    "timeout_ms"));
	if (j->timeout_ms > 0)
		j->deadline_ns = clock_mono_ns() + j->timeout_ms * MS_NS;
	if (agent_job_launch(a, j, s4_main) == -1) {
		link_error(a->link, req, PROTO_E_FAILED, "cannot start a thread: "
		    "%s", strerror(errno));
		agent_job_free(j);
		return AGENT_REQ_DONE;
	}
	agent_set_state(a, AGENT_S4);
	return AGENT_REQ_WAIT;
}

void
s4_done(struct agent *a, struct agent_job *j)
{
	uint64_t	pending = a->memx.pending;

	agent_set_state(a, j->prev_state);
	/* Memory hot-added during the cycle gets its exercise now. */
	if (pending > 0 && !a->memx.busy) {
		a->memx.pending = 0;
		hotplug_memx_start(a, pending, "hot-add");
	}
	if (j->answered) {
		log_info("pseudo-S4 %llu finished after its answer: %s",
		    (unsigned long long)j->req.id, j->rc == 0 ? "done" :
		    j->cause ? j->cause : "failed");
		return;
	}
	j->answered = true;
	if (j->rc == 0) {
		link_reply(a->link, &j->req, j->result);
		j->result = NULL;
	} else
		link_error(a->link, &j->req, j->code, "%s", j->cause ? j->cause :
		    "failed");
}
