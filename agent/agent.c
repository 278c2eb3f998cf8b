/* agent.c: linked mode's core: the one poll loop over the channel, the
 * event queue the engine's threads feed, the topology and kernel-log
 * watches, and the timers (heartbeat, report, rescan, debounce, backoff). */
#include "config.h"

#include <sys/eventfd.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-int.h"
#include "log.h"
#include "hotsoak/util.h"

const char *const agent_state_names[AGENT_STATE_COUNT] = {
	[AGENT_IDLE] = "idle",
	[AGENT_RUNNING] = "running",
	[AGENT_QUIESCED] = "quiesced",
	[AGENT_S4] = "s4",
};

static void
wake(struct agent *a)
{
	uint64_t	one = 1;

	(void)!write(a->wake_fd, &one, sizeof one);
}

void
agent_request_stop(struct agent *a)
{
	atomic_store(&a->stop, true);
	wake(a);
}

void
agent_post(struct agent *a, struct agent_event *ev)
{
	bool	was_empty;

	ev->next = NULL;
	pthread_mutex_lock(&a->lock);
	was_empty = a->head == NULL;
	if (a->tail != NULL)
		a->tail->next = ev;
	else
		a->head = ev;
	a->tail = ev;
	a->nevents++;
	pthread_mutex_unlock(&a->lock);
	/* One wake-up per batch: the loop takes the whole queue at once. */
	if (was_empty)
		wake(a);
}

/* The engine's callback, on worker and watchdog threads: copy and queue. */
void
agent_io_event(void *arg, const struct io_event *ev)
{
	struct agent		*a = arg;
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
	agent_post(a, e);
}

static void
drain_events(struct agent *a)
{
	struct agent_event	*e, *next;

	pthread_mutex_lock(&a->lock);
	e = a->head;
	a->head = a->tail = NULL;
	a->nevents = 0;
	pthread_mutex_unlock(&a->lock);
	for (; e != NULL; e = next) {
		next = e->next;
		switch (e->kind) {
		case AGENT_EV_IO:
			report_io_event(a, &e->io, e->target);
			break;
		case AGENT_EV_JOB:
			agent_job_done(a, e->job);
			break;
		case AGENT_EV_MEMX:
			hotplug_memx_done(a);
			break;
		}
		free(e);
	}
}

void
agent_set_state(struct agent *a, enum agent_state s)
{
	if (a->state != s)
		log_info("state: %s -> %s", agent_state_names[a->state],
		    agent_state_names[s]);
	a->state = s;
}

/* A small file's first line, or "unknown". */
static char *
read_line(const char *root, const char *rel)
{
	char	 path[4096], buf[256];
	ssize_t	 n;
	int	 fd;

	snprintf(path, sizeof path, "%s/%s", strcmp(root, "/") ? root : "", rel);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return strdup("unknown");
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return strdup("unknown");
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return strdup(buf);
}

static const struct link_cb agent_link_cb;

struct agent *
agent_new(const struct agent_opts *o, char **cause)
{
	struct agent		*a;
	struct channel		*ch;
	struct link_identity	 id;
	char			 host[256], agent_name[64], *boot_id = NULL;

	*cause = NULL;
	/* The handler table must cover every request the protocol sends us. */
	if (agent_req_missing() != NULL) {
		cause_set(cause, "no handler for %s requests", agent_req_missing());
		if (o->uevent_fd >= 0)
			close(o->uevent_fd);
		return NULL;
	}
	if ((a = calloc(1, sizeof *a)) == NULL) {
		cause_set(cause, "%s", strerror(ENOMEM));
		if (o->uevent_fd >= 0)
			close(o->uevent_fd);
		return NULL;
	}
	a->wake_fd = -1;
	pthread_mutex_init(&a->lock, NULL);
	a->state = AGENT_IDLE;
	a->engine = o->engine;
	a->memx_max = o->memx_max ? o->memx_max : AGENT_MEMX_MAX;
	a->cfg.heartbeat_ms = AGENT_HEARTBEAT_MS;
	a->cfg.report_ms = AGENT_REPORT_MS;
	snprintf(a->cfg.memory_state, sizeof a->cfg.memory_state,
	    "online_movable");
	if ((a->root = strdup(o->root ? o->root : "/")) == NULL ||
	    (o->kmsg != NULL && (a->kmsg_path = strdup(o->kmsg)) == NULL) ||
	    (a->topo_changes = json_array()) == NULL) {
		cause_set(cause, "%s", strerror(ENOMEM));
		goto err;
	}
	report_init(a);
	if (a->rep.prev_hist == NULL || a->rep.late == NULL) {
		cause_set(cause, "%s", strerror(ENOMEM));
		goto err;
	}
	if ((a->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		cause_set(cause, "eventfd: %s", strerror(errno));
		goto err;
	}
	if ((ch = channel_new(o->channel, a->root, cause)) == NULL)
		goto err;
	if (gethostname(host, sizeof host) == -1)
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = '\0';
	snprintf(agent_name, sizeof agent_name, "hotsoak-agent %s",
	    PACKAGE_VERSION);
	if ((boot_id = read_line(a->root, "proc/sys/kernel/random/boot_id")) ==
	    NULL) {
		channel_free(ch);
		cause_set(cause, "%s", strerror(ENOMEM));
		goto err;
	}
	id.token = o->token;
	id.agent = agent_name;
	id.hostname = host;
	id.boot_id = boot_id;
	id.pid = (uint64_t)getpid();
	a->link = link_new(ch, &id, &agent_link_cb, a, o->backoff_min_ms,
	    o->backoff_max_ms, cause);
	free(boot_id);
	if (a->link == NULL)
		goto err;
	if (a->kmsg_path != NULL) {
		char	*why = NULL;

		if ((a->kmsg = kmsg_open(a->kmsg_path, false, &why)) == NULL) {
			log_warnx("kernel log not watched: %s", why ? why : "?");
			free(why);
		}
	}
	hotplug_open(a, o->uevent_fd);
	return a;
err:
	if (o->uevent_fd >= 0)
		close(o->uevent_fd);
	agent_free(a);
	return NULL;
}

void
agent_free(struct agent *a)
{
	struct agent_event	*e, *next;

	if (a == NULL)
		return;
	/* agent_run waits for its threads; this is for one that never ran. */
	if (a->job != NULL) {
		pthread_join(a->job->thread, NULL);
		io_run_free(a->job->made);
		agent_job_free(a->job);
	}
	if (a->memx.busy)
		pthread_join(a->memx.thread, NULL);
	free(a->memx.cause);
	io_run_free(a->run);
	targets_free(a);
	for (e = a->head; e != NULL; e = next) {
		next = e->next;
		free(e);
	}
	link_free(a->link);
	topo_watch_free(a->topo);
	kmsg_close(a->kmsg);
	report_free(a);
	json_decref(a->topo_changes);
	free(a->cfg.w.path);
	if (a->wake_fd != -1)
		close(a->wake_fd);
	pthread_mutex_destroy(&a->lock);
	free(a->root);
	free(a->kmsg_path);
	free(a);
}

static void
send_heartbeat(struct agent *a, uint64_t now)
{
	a->heartbeat_seq++;
	log_debug("heartbeat %llu", (unsigned long long)a->heartbeat_seq);
	link_notify(a->link, PROTO_HEARTBEAT, json_pack("{s:I, s:I, s:s}",
	    "seq", (json_int_t)a->heartbeat_seq,
	    "uptime_ms", (json_int_t)((now - a->start_ns) / MS_NS),
	    "state", agent_state_names[a->state]));
}

static void
on_up(void *arg, bool resumed)
{
	struct agent	*a = arg;

	/* The daemon hears from us at once, not a heartbeat later. */
	a->next_heartbeat_ns = clock_mono_ns();
}

static const struct link_cb agent_link_cb = {
	.on_request = agent_on_request,
	.on_up = on_up,
};

/* Milliseconds from now to at (0 when past), folded into *best. */
static void
nearest(int *best, uint64_t at, uint64_t now)
{
	int	ms;

	if (at == 0)
		return;
	ms = at <= now ? 0 : (int)((at - now + MS_NS - 1) / MS_NS);
	if (*best < 0 || ms < *best)
		*best = ms;
}

static void
fold(int *best, int ms)
{
	if (ms >= 0 && (*best < 0 || ms < *best))
		*best = ms;
}

/* A period's next tick: on the beat, without a burst after a long stall. */
static uint64_t
next_tick(uint64_t due, uint64_t period_ms, uint64_t now)
{
	due += period_ms * MS_NS;
	return due > now ? due : now + period_ms * MS_NS;
}

static void
timers(struct agent *a, uint64_t now)
{
	struct agent_job	*j = a->job;

	link_tick(a->link, now);
	if (now >= a->next_heartbeat_ns) {
		send_heartbeat(a, now);
		a->next_heartbeat_ns = next_tick(a->next_heartbeat_ns,
		    a->cfg.heartbeat_ms, now);
	}
	if (a->next_report_ns != 0 && now >= a->next_report_ns) {
		report_send(a, now);
		a->next_report_ns = next_tick(a->next_report_ns, a->cfg.report_ms,
		    now);
	}
	if (a->next_memload_ns != 0 && now >= a->next_memload_ns &&
	    !a->memx.busy) {
		hotplug_memx_start(a, a->cfg.mem_size, "workload");
		a->next_memload_ns = now + a->cfg.mem_interval_ms * MS_NS;
	}
	if (j != NULL && j->deadline_ns != 0 && !j->answered &&
	    now >= j->deadline_ns) {
		j->answered = true;
		link_error(a->link, &j->req, PROTO_E_FAILED, "%s did not return "
		    "within %llu ms; the guest is still in it",
		    agent_job_names[j->kind], (unsigned long long)j->timeout_ms);
	}
	if (a->kmsg != NULL && kmsg_timeout_ms(a->kmsg) == 0)
		report_kmsg_drain(a);
	hotplug_tick(a, now);
}

static int
poll_timeout(struct agent *a, uint64_t now)
{
	struct agent_job	*j = a->job;
	int			 t = -1;

	fold(&t, link_timeout_ms(a->link, now));
	nearest(&t, a->next_heartbeat_ns, now);
	nearest(&t, a->next_report_ns, now);
	if (!a->memx.busy)
		nearest(&t, a->next_memload_ns, now);
	if (j != NULL && !j->answered)
		nearest(&t, j->deadline_ns, now);
	if (a->kmsg != NULL)
		fold(&t, kmsg_timeout_ms(a->kmsg));
	fold(&t, hotplug_timeout_ms(a, now));
	return t;
}

/* Helper threads finish on their own (a pseudo-S4 returns with the guest). */
static void
wait_threads(struct agent *a)
{
	struct pollfd	pfd;
	uint64_t	buf;

	while (a->job != NULL || a->memx.busy) {
		pfd.fd = a->wake_fd;
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, 100);
		(void)!read(a->wake_fd, &buf, sizeof buf);
		drain_events(a);
	}
}

/* At the end: settle the run and the threads, flush what the link takes. */
static void
shut_down(struct agent *a)
{
	log_info("stopping");
	a->stopping = true;
	wait_threads(a);
	if (a->run != NULL) {
		io_run_stop(a->run);
		targets_stop(a);
		drain_events(a);
		report_send(a, clock_mono_ns());
		io_run_free(a->run);
		targets_free(a);
		a->run = NULL;
		a->next_report_ns = 0;
		agent_set_state(a, AGENT_IDLE);
	}
	drain_events(a);
	if (link_state(a->link) == LINK_UP)
		log_info(link_drain(a->link, 1000) ? "flushed" :
		    "could not flush everything");
}

int
agent_run(struct agent *a)
{
	struct pollfd	pfd[4];
	uint64_t	now, buf;
	short		events;
	int		n, timeout, ilink, itopo, ikmsg, fd;

	a->start_ns = clock_mono_ns();
	a->next_heartbeat_ns = a->start_ns + a->cfg.heartbeat_ms * MS_NS;
	log_info("linked mode on %s", link_channel(a->link));
	while (!atomic_load(&a->stop)) {
		now = clock_mono_ns();
		timers(a, now);
		link_flush(a->link, now);

		n = 0;
		pfd[n].fd = a->wake_fd;
		pfd[n++].events = POLLIN;
		ilink = itopo = ikmsg = -1;
		if ((fd = link_fd(a->link, &events)) != -1) {
			ilink = n;
			pfd[n].fd = fd;
			pfd[n++].events = events;
		}
		if ((fd = hotplug_fd(a)) != -1) {
			itopo = n;
			pfd[n].fd = fd;
			pfd[n++].events = POLLIN;
		}
		if (a->kmsg != NULL) {
			ikmsg = n;
			pfd[n].fd = kmsg_fd(a->kmsg);
			pfd[n++].events = POLLIN;
		}
		timeout = poll_timeout(a, clock_mono_ns());
		if (poll(pfd, (nfds_t)n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			break;
		}
		now = clock_mono_ns();
		if (pfd[0].revents & POLLIN)
			(void)!read(a->wake_fd, &buf, sizeof buf);
		drain_events(a);
		if (ilink != -1 && pfd[ilink].revents != 0)
			link_handle(a->link, pfd[ilink].revents, now);
		if (itopo != -1 && pfd[itopo].revents != 0)
			hotplug_read(a);
		if (ikmsg != -1 && a->kmsg != NULL && pfd[ikmsg].revents != 0)
			report_kmsg_drain(a);
	}
	shut_down(a);
	return 0;
}
