/* target.c: add_target: a disk hot-added behind a new I/O bridge, found by
 * its serial in sysfs and exercised by a verified run of its own beside the
 * configured workload, whose reports, quiesce, pseudo-S4 and stop include it. */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent-int.h"
#include "io-json.h"
#include "log.h"
#include "hotsoak/util.h"

#define TARGET_WITHIN_MAX_MS	3600000ULL	/* an hour: longer is a daemon's bug */
#define TARGET_SEEN_MAX		512		/* bytes of "serials seen" in an error */

/* The engine's callback for a target's run: the workload's, tagged. */
static void
target_io_event(void *arg, const struct io_event *ev)
{
	struct agent_target	*t = arg;
	struct agent		*a = t->a;
	struct agent_event	*e;
	size_t			 n;

	pthread_mutex_lock(&a->lock);
	n = a->nevents;
	pthread_mutex_unlock(&a->lock);
	if (n >= AGENT_MAX_EVENTS || (e = calloc(1, sizeof *e)) == NULL) {
		atomic_fetch_add(&a->events_dropped, 1);
		return;
	}
	e->kind = AGENT_EV_IO;
	e->io = *ev;
	e->target = t->index;
	agent_post(a, e);
}

/*
 * The first line of root's /sys/block/DISK/ATTR into buf, trailing blanks
 * cut; -1 if unreadable.
 */
static int
read_attr(const char *root, const char *disk, const char *attr, char *buf,
    size_t len)
{
	char	path[PATH_MAX];
	ssize_t	n;
	int	fd;

	if (snprintf(path, sizeof path, "%s/sys/block/%s/%s", strcmp(root, "/") ?
	    root : "", disk, attr) >= (int)sizeof path)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	/* virtio-blk pads nothing, but a fake tree's echo may. */
	for (n = (ssize_t)strlen(buf); n > 0 &&
	    isspace((unsigned char)buf[n - 1]); n--)
		buf[n - 1] = '\0';
	return 0;
}

/*
 * The block device whose sysfs serial is serial, into name; every disk
 * looked at goes into seen ("vda=(none) vdb=abc"). 0 when found.
 */
static int
target_find(const char *root, const char *serial, char *name, size_t len,
    char *seen, size_t seenlen)
{
	char		 dir[PATH_MAX], s[128];
	struct dirent	*de;
	DIR		*d;
	int		 rc = -1;

	*seen = '\0';
	snprintf(dir, sizeof dir, "%s/sys/block", strcmp(root, "/") ? root : "");
	if ((d = opendir(dir)) == NULL) {
		snprintf(seen, seenlen, "%.200s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		/* A disk without one (the boot disk, a loop device) says so. */
		if (read_attr(root, de->d_name, "serial", s, sizeof s) == -1 ||
		    s[0] == '\0')
			snprintf(s, sizeof s, "(none)");
		if (strlen(seen) + strlen(de->d_name) + strlen(s) + 3 < seenlen)
			snprintf(seen + strlen(seen), seenlen - strlen(seen), "%s%s=%s",
			    *seen ? " " : "", de->d_name, s);
		if (rc == -1 && strcmp(s, serial) == 0) {
			snprintf(name, len, "%s", de->d_name);
			rc = 0;
		}
	}
	closedir(d);
	return rc;
}

static void
nap_ms(unsigned ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * The job: wait for the disk (its sysfs entry, then its /dev node: devtmpfs
 * makes the node a moment after the attributes), then fill and start.
 */
static void *
target_main(void *arg)
{
	struct agent_job	*j = arg;
	struct agent_target	*t = j->target;
	struct io_config	 c;
	struct io_run		*run;
	struct stat		 st;
	uint64_t		 t0 = clock_mono_ns(), t1, deadline;
	char			 name[256] = "", seen[TARGET_SEEN_MAX];
	const char		*step = "";
	bool			 found, node;

	j->rc = -1;
	j->code = PROTO_E_FAILED;
	deadline = t0 + j->timeout_ms * MS_NS;
	for (;;) {
		found = target_find(j->root, t->serial, name, sizeof name, seen,
		    sizeof seen) == 0;
		node = false;
		if (found) {
			snprintf(t->path, sizeof t->path, "%s/dev/%s",
			    strcmp(j->root, "/") ? j->root : "", name);
			node = stat(t->path, &st) == 0 && (S_ISBLK(st.st_mode) ||
			    S_ISREG(st.st_mode));
		}
		if (node)
			break;
		if (atomic_load(&j->a->stop)) {
			cause_set(&j->cause, "the agent is stopping");
			return NULL;
		}
		if (clock_mono_ns() >= deadline) {
			if (found)
				cause_set(&j->cause, "the disk with serial `%s` is %s "
				    "in sysfs, but %s never appeared within %llu ms",
				    t->serial, name, t->path,
				    (unsigned long long)j->timeout_ms);
			else
				cause_set(&j->cause, "no block device with serial `%s` "
				    "appeared within %llu ms (serials seen: %s)",
				    t->serial, (unsigned long long)j->timeout_ms,
				    *seen ? seen : "none");
			return NULL;
		}
		nap_ms(AGENT_TARGET_POLL_MS);
	}
	t1 = clock_mono_ns();
	j->found_ms = (t1 - t0) / MS_NS;
	if ((j->w.path = strdup(t->path)) == NULL) {
		cause_set(&j->cause, "out of memory");
		return NULL;
	}
	log_info("add_target: serial %s is %s after %llu ms", t->serial, t->path,
	    (unsigned long long)j->found_ms);
	agent_io_config(j->a, &j->w, &c);
	c.path = t->path;
	c.on_event = target_io_event;
	c.arg = t;
	if ((run = io_run_new(&c, &j->cause)) == NULL)
		return NULL;
	if (j->w.fill && io_run_fill(run, &j->cause) == -1)
		step = "fill: ";
	else {
		j->fill_ms = (clock_mono_ns() - t1) / MS_NS;
		if (io_run_start(run, &j->cause) == 0) {
			j->made = run;
			j->rc = 0;
			return NULL;
		}
		step = "start: ";
	}
	io_run_free(run);
	if (j->cause != NULL) {
		char	*c2 = NULL;

		if (asprintf(&c2, "%s: %s%s", t->path, step, j->cause) != -1) {
			free(j->cause);
			j->cause = c2;
		}
	}
	return NULL;
}

enum agent_req_result
target_add(struct agent *a, const struct link_req *req, const json_t *obj)
{
	const char		*serial = json_string_value(json_object_get(obj,
				    "serial"));
	uint64_t		 size = (uint64_t)json_integer_value(json_object_get(
				    obj, "size"));
	uint64_t		 within = (uint64_t)json_integer_value(
				    json_object_get(obj, "within_ms"));
	uint64_t		 bs = a->cfg.w.block_size;
	struct agent_target	*t;
	struct agent_job	*j;
	unsigned		 i;

	if (a->run == NULL) {
		link_error(a->link, req, PROTO_E_BUSY, "no workload is running: "
		    "a target joins a running workload");
		return AGENT_REQ_DONE;
	}
	if (a->state != AGENT_RUNNING) {
		link_error(a->link, req, PROTO_E_BUSY, "the workload is %s",
		    agent_state_names[a->state]);
		return AGENT_REQ_DONE;
	}
	if (*serial == '\0' || strlen(serial) >= sizeof t->serial ||
	    strchr(serial, '/') != NULL) {
		link_error(a->link, req, PROTO_E_BAD_FIELD, "serial: must be 1 to "
		    "%zu bytes without `/`", sizeof t->serial - 1);
		return AGENT_REQ_DONE;
	}
	if (size < bs || size % bs != 0 || size / bs > IO_MAX_BLOCKS) {
		link_error(a->link, req, PROTO_E_BAD_FIELD, "size: must be a "
		    "multiple of the workload's block_size (%llu), at most %llu "
		    "blocks", (unsigned long long)bs,
		    (unsigned long long)IO_MAX_BLOCKS);
		return AGENT_REQ_DONE;
	}
	if (within > TARGET_WITHIN_MAX_MS) {
		link_error(a->link, req, PROTO_E_BAD_FIELD, "within_ms: at most "
		    "%llu", TARGET_WITHIN_MAX_MS);
		return AGENT_REQ_DONE;
	}
	for (i = 0; i < a->ntargets; i++)
		if (strcmp(a->targets[i].serial, serial) == 0) {
			link_error(a->link, req, PROTO_E_FAILED, "serial `%s` is "
			    "already a target (%s)", serial, a->targets[i].path);
			return AGENT_REQ_DONE;
		}
	if (a->ntargets >= AGENT_MAX_TARGETS) {
		link_error(a->link, req, PROTO_E_FAILED, "%u targets already run "
		    "(at most %d)", a->ntargets, AGENT_MAX_TARGETS);
		return AGENT_REQ_DONE;
	}
	if ((j = calloc(1, sizeof *j)) == NULL) {
		link_error(a->link, req, PROTO_E_FAILED, "out of memory");
		return AGENT_REQ_DONE;
	}
	/* The next free slot; add_target jobs are exclusive, so it stays free. */
	t = &a->targets[a->ntargets];
	memset(t, 0, sizeof *t);
	t->a = a;
	t->index = a->ntargets + 1;
	t->size = size;
	snprintf(t->serial, sizeof t->serial, "%s", serial);
	j->kind = AGENT_JOB_ADD_TARGET;
	j->req = *req;
	j->target = t;
	j->root = a->root;
	j->timeout_ms = within;
	j->w = a->cfg.w;
	j->w.path = NULL;
	j->w.size = size;
	j->w.fill = true;
	/* One worker unless the workload fixes a count: per-cpu follows CPUs. */
	if (j->w.workers == 0)
		j->w.workers = 1;
	/* Each disk's stamps carry their own run id: a block from another disk is misdirected. */
	j->w.seed = a->cfg.w.seed + t->index;
	if (agent_job_launch(a, j, target_main) == -1) {
		link_error(a->link, req, PROTO_E_FAILED, "cannot start a thread: "
		    "%s", strerror(errno));
		memset(t, 0, sizeof *t);
		agent_job_free(j);
		return AGENT_REQ_DONE;
	}
	return AGENT_REQ_WAIT;
}

void
target_add_done(struct agent *a, struct agent_job *j)
{
	struct agent_target	*t = j->target;
	struct io_totals	 tot;
	char			 hex[19];

	if (j->rc != 0) {
		log_warnx("add_target %s: %s", t->serial, j->cause ? j->cause :
		    "failed");
		link_error(a->link, &j->req, j->code ? j->code : PROTO_E_FAILED,
		    "%s", j->cause ? j->cause : "failed");
		memset(t, 0, sizeof *t);
		return;
	}
	t->run = j->made;
	j->made = NULL;
	t->active = true;
	a->ntargets++;
	io_run_totals(t->run, &tot);
	snprintf(hex, sizeof hex, "0x%016llx",
	    (unsigned long long)io_run_id(t->run));
	log_info("target %u: %s (serial %s) runs with %u workers after %llu ms "
	    "(fill %llu ms)", t->index, t->path, t->serial, tot.workers,
	    (unsigned long long)j->found_ms, (unsigned long long)j->fill_ms);
	link_reply(a->link, &j->req, json_pack("{s:s, s:s, s:I, s:I, s:i, s:s,"
	    " s:I}", "path", t->path, "serial", t->serial, "found_ms",
	    (json_int_t)j->found_ms, "fill_ms", (json_int_t)j->fill_ms,
	    "workers", (int)tot.workers, "run_id", hex, "size",
	    (json_int_t)t->size));
}

void
targets_borrow(struct agent *a, struct agent_job *j)
{
	unsigned	i;

	j->nextra = 0;
	for (i = 0; i < a->ntargets; i++)
		if (a->targets[i].active)
			j->extra[j->nextra++] = &a->targets[i];
}

static void
totals_add(struct io_totals *t, const struct io_totals *x)
{
	t->ios += x->ios;
	t->reads += x->reads;
	t->writes += x->writes;
	t->bytes_read += x->bytes_read;
	t->bytes_written += x->bytes_written;
	t->verified += x->verified;
	t->errors += x->errors;
	t->timeouts += x->timeouts;
	t->corruptions += x->corruptions;
	t->workers += x->workers;
	t->inflight += x->inflight;
}

void
targets_add_totals(struct agent *a, struct io_totals *t)
{
	struct io_totals	x;
	unsigned		i;

	for (i = 0; i < a->ntargets; i++) {
		if (!a->targets[i].active)
			continue;
		io_run_totals(a->targets[i].run, &x);
		totals_add(t, &x);
	}
}

void
targets_add_latency(struct agent *a, struct hist *h)
{
	struct hist	*x;
	unsigned	 i;

	if (a->ntargets == 0 || (x = calloc(1, sizeof *x)) == NULL)
		return;
	for (i = 0; i < a->ntargets; i++) {
		if (!a->targets[i].active)
			continue;
		io_run_latency(a->targets[i].run, x);
		hist_merge(h, x);
	}
	free(x);
}

/* The caller owns the result; NULL when there is no target. */
json_t *
targets_to_json(struct agent *a)
{
	struct agent_target	*t;
	struct io_totals	 x;
	json_t			*l;
	char			 hex[19];
	unsigned		 i;

	if (a->ntargets == 0 || (l = json_array()) == NULL)
		return NULL;
	for (i = 0; i < a->ntargets; i++) {
		t = &a->targets[i];
		if (!t->active)
			continue;
		io_run_totals(t->run, &x);
		snprintf(hex, sizeof hex, "0x%016llx",
		    (unsigned long long)io_run_id(t->run));
		json_array_append_new(l, json_pack("{s:s, s:s, s:s, s:I, s:o}",
		    "path", t->path, "serial", t->serial, "run_id", hex, "size",
		    (json_int_t)t->size, "totals", io_totals_to_json(&x)));
	}
	return l;
}

const struct agent_target *
target_by_index(const struct agent *a, unsigned index)
{
	if (index == 0 || index > AGENT_MAX_TARGETS)
		return NULL;
	return &a->targets[index - 1];
}

void
targets_resume(struct agent *a)
{
	unsigned	i;

	for (i = 0; i < a->ntargets; i++)
		if (a->targets[i].active)
			io_run_resume(a->targets[i].run);
}

void
targets_stop(struct agent *a)
{
	unsigned	i;

	for (i = 0; i < a->ntargets; i++)
		if (a->targets[i].active)
			io_run_stop(a->targets[i].run);
}

void
targets_free(struct agent *a)
{
	unsigned	i;

	for (i = 0; i < AGENT_MAX_TARGETS; i++) {
		io_run_free(a->targets[i].run);
		memset(&a->targets[i], 0, sizeof a->targets[i]);
	}
	a->ntargets = 0;
}
