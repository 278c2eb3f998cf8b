/* hotplug.c: hot-add awareness in linked mode: the topology watch, onlining
 * what appears offline, workers on new CPUs, topology messages (debounced),
 * and the memory exercise on new memory (and the memory workload). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-int.h"
#include "log.h"
#include "hotsoak/util.h"

#define CHANGES_MAX	64	/* changes read per call */

void
hotplug_open(struct agent *a, int uevent_fd)
{
	char	*cause = NULL;

	if ((a->topo = topo_watch_open(a->root, uevent_fd, &cause)) == NULL) {
		log_warnx("topology not watched: %s", cause ? cause : "?");
		free(cause);
		return;
	}
	if (topo_watch_why_polling(a->topo) != NULL)
		log_info("topology: rescanning sysfs every %d ms (%s)",
		    TOPO_WATCH_RESCAN_MS, topo_watch_why_polling(a->topo));
	a->next_rescan_ns = clock_mono_ns() + (topo_watch_fd(a->topo) == -1 ?
	    TOPO_WATCH_RESCAN_MS : AGENT_RESCAN_MS) * MS_NS;
}

int
hotplug_fd(const struct agent *a)
{
	if (a->topo == NULL || a->topo_fd_dead)
		return -1;
	return topo_watch_fd(a->topo);
}

json_t *
hotplug_snapshot_json(const struct topo *t)
{
	char	online[1024], present[1024];

	topo_cpulist_format(t->cpu_online, TOPO_MAX_CPUS, online, sizeof online);
	topo_cpulist_format(t->cpu_present, TOPO_MAX_CPUS, present,
	    sizeof present);
	return json_pack("{s:I, s:{s:i, s:i, s:i, s:s, s:s},"
	    " s:{s:I, s:i, s:i, s:I, s:I}}",
	    "time_ns", (json_int_t)t->time_ns,
	    "cpus", "online", (int)t->cpus_online, "present",
	    (int)t->cpus_present, "possible", (int)t->cpus_possible,
	    "list", online, "present_list", present,
	    "memory", "block_size", (json_int_t)t->mem_block_size,
	    "blocks", (int)t->mem_blocks, "blocks_online",
	    (int)t->mem_blocks_online, "online_bytes",
	    (json_int_t)t->mem_online_bytes, "total_kb",
	    (json_int_t)t->mem_total_kb);
}

/* The batch entry for change c, added unless the batch has it already. */
static json_t *
batch_add(struct agent *a, const struct topo_change *c)
{
	json_t		*e;
	size_t		 i;
	const char	*name = topo_change_names[c->kind];

	json_array_foreach(a->topo_changes, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "change")),
		    name) == 0 && (unsigned)json_integer_value(json_object_get(e,
		    "index")) == c->index)
			return NULL;
	}
	e = json_pack("{s:s, s:i, s:I}", "change", name, "index", (int)c->index,
	    "time_ns", (json_int_t)c->time_ns);
	if (e == NULL || json_array_append_new(a->topo_changes, e) == -1)
		return NULL;
	return e;
}

static void	handle_changes(struct agent *, const struct topo_change *,
		    size_t, unsigned depth);

/* Rescan sysfs and take in what changed; depth stops a loop of onlining. */
static void
rescan(struct agent *a, unsigned depth)
{
	struct topo_change	 c[CHANGES_MAX];
	size_t			 n;
	char			*cause = NULL;

	if (a->topo == NULL)
		return;
	do {
		if (topo_watch_rescan(a->topo, c, CHANGES_MAX, &n, &cause) == -1) {
			log_warnx("topology rescan: %s", cause ? cause : "?");
			free(cause);
			return;
		}
		handle_changes(a, c, n, depth);
	} while (n == CHANGES_MAX);
}

void
hotplug_rescan(struct agent *a)
{
	rescan(a, 0);
}

/* The online time (uevent to online) on every added entry of this kind. */
static void
mark_onlined(json_t **added, size_t n, const struct topo_change *c,
    uint64_t done_ns, const char *error)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (added[i] == NULL)
			continue;
		if (error != NULL)
			json_object_set_new(added[i], "online_error",
			    json_string(error));
		else
			json_object_set_new(added[i], "online_ms", json_integer(
			    (json_int_t)(done_ns > c[i].time_ns ?
			    (done_ns - c[i].time_ns) / MS_NS : 0)));
	}
}

static void
handle_changes(struct agent *a, const struct topo_change *c, size_t n,
    unsigned depth)
{
	const struct topo *snap = topo_watch_snapshot(a->topo);
	json_t		*cpu_added[CHANGES_MAX], *mem_added[CHANGES_MAX], *e;
	unsigned	 onlined, mem_new = 0;
	bool		 want_rescan = false, cpus = false, mem = false;
	char		*cause = NULL;
	size_t		 i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		cpu_added[i] = mem_added[i] = NULL;
		if (c[i].kind == TOPO_RESCAN) {
			want_rescan = true;
			continue;
		}
		e = batch_add(a, &c[i]);
		log_info("topology: %s %u", topo_change_names[c[i].kind],
		    c[i].index);
		switch (c[i].kind) {
		/*
		 * Offline in the snapshot, which has taken in the whole batch:
		 * a kernel that onlines by itself (memhp_default_state) is left
		 * to it.
		 */
		case TOPO_CPU_ADDED:
			if (a->cfg.online && !topo_bit(snap->cpu_online,
			    TOPO_MAX_CPUS, c[i].index)) {
				cpu_added[i] = e;
				cpus = true;
			}
			break;
		case TOPO_MEM_ADDED:
			if (a->cfg.online && !topo_bit(snap->mem_online,
			    TOPO_MAX_MEM_BLOCKS, c[i].index)) {
				mem_added[i] = e;
				mem = true;
			}
			break;
		case TOPO_CPU_ONLINE:
			/* Per-cpu workloads follow the CPU set. */
			if (a->run != NULL && (a->job == NULL ||
			    a->job->kind != AGENT_JOB_STOP)) {
				if (io_run_add_cpu(a->run, c[i].index, &cause) == -1)
					log_warnx("no worker on cpu%u: %s",
					    c[i].index, cause ? cause : "?");
				free(cause);
				cause = NULL;
			}
			break;
		case TOPO_MEM_ONLINE:
			mem_new++;
			break;
		default:
			break;
		}
	}
	if (cpus) {
		if (topo_online_cpus(a->root, &onlined, &cause) == -1)
			log_warnx("online CPUs: %s", cause ? cause : "?");
		mark_onlined(cpu_added, n, c, clock_wall_ns(), cause);
		free(cause);
		cause = NULL;
		want_rescan = true;
	}
	if (mem) {
		if (topo_online_memory(a->root, a->cfg.memory_state, &onlined,
		    &cause) == -1)
			log_warnx("online memory: %s", cause ? cause : "?");
		mark_onlined(mem_added, n, c, clock_wall_ns(), cause);
		free(cause);
		want_rescan = true;
	}
	if (mem_new > 0)
		hotplug_memx_start(a, (uint64_t)mem_new *
		    topo_watch_snapshot(a->topo)->mem_block_size, "hot-add");
	if (json_array_size(a->topo_changes) > 0 && a->topo_due_ns == 0)
		a->topo_due_ns = clock_mono_ns() + AGENT_TOPO_DEBOUNCE_MS * MS_NS;
	/* What onlining changed, read back now (the kernel's uevents may follow). */
	if (want_rescan && depth < 2)
		rescan(a, depth + 1);
}

void
hotplug_read(struct agent *a)
{
	struct topo_change	 c[CHANGES_MAX];
	size_t			 n;
	char			*cause = NULL;

	do {
		if (topo_watch_read(a->topo, c, CHANGES_MAX, &n, &cause) == -1) {
			log_warnx("uevents: %s; rescanning sysfs every %d ms "
			    "instead", cause ? cause : "?", TOPO_WATCH_RESCAN_MS);
			free(cause);
			a->topo_fd_dead = true;
			a->next_rescan_ns = clock_mono_ns();
			return;
		}
		handle_changes(a, c, n, 0);
	} while (n == CHANGES_MAX);
}

static void
send_topology(struct agent *a)
{
	json_t	*f;

	f = hotplug_snapshot_json(topo_watch_snapshot(a->topo));
	if (f == NULL)
		return;
	json_object_set(f, "changes", a->topo_changes);
	json_decref(a->topo_changes);
	a->topo_changes = json_array();
	link_request(a->link, PROTO_TOPOLOGY, f);
}

void
hotplug_tick(struct agent *a, uint64_t now)
{
	if (a->topo == NULL)
		return;
	if (now >= a->next_rescan_ns) {
		rescan(a, 0);
		a->next_rescan_ns = now + (hotplug_fd(a) == -1 ?
		    TOPO_WATCH_RESCAN_MS : AGENT_RESCAN_MS) * MS_NS;
	}
	if (a->topo_due_ns != 0 && now >= a->topo_due_ns) {
		a->topo_due_ns = 0;
		send_topology(a);
	}
}

int
hotplug_timeout_ms(const struct agent *a, uint64_t now)
{
	uint64_t	at;

	if (a->topo == NULL)
		return -1;
	at = a->next_rescan_ns;
	if (a->topo_due_ns != 0 && a->topo_due_ns < at)
		at = a->topo_due_ns;
	return at <= now ? 0 : (int)((at - now + MS_NS - 1) / MS_NS);
}

/* memory exercise */

static void *
memx_main(void *arg)
{
	struct agent		*a = arg;
	struct agent_event	*e;

	a->memx.rc = memx_run(a->memx.bytes, a->memx.seed, &a->memx.res,
	    &a->memx.cause);
	while ((e = calloc(1, sizeof *e)) == NULL)
		usleep(1000);
	e->kind = AGENT_EV_MEMX;
	agent_post(a, e);
	return NULL;
}

void
hotplug_memx_start(struct agent *a, uint64_t bytes, const char *why)
{
	struct agent_memx	*m = &a->memx;
	uint64_t		 cap;
	int			 err;

	if (bytes == 0 || a->stopping)
		return;
	if (m->busy || (a->job != NULL && a->job->kind ==
	    AGENT_JOB_PSEUDO_S4)) {
		/*
		 * One at a time: the new memory is exercised next, or after
		 * a pseudo-S4 cycle, which needs the memory for its image.
		 */
		if (strcmp(why, "hot-add") == 0)
			m->pending += bytes;
		return;
	}
	/*
	 * A hot-add's exercise: the new memory, at most memx_max, and never
	 * more than memx will map (a page-aligned 7/8 of it: others allocate
	 * too between this look and memx's own).
	 */
	if (strcmp(why, "hot-add") == 0) {
		if (bytes > a->memx_max)
			bytes = a->memx_max;
		cap = memx_max_bytes() / 8 * 7 & ~(uint64_t)(MEMX_PAGE - 1);
		if (bytes > cap)
			bytes = cap;
		if (bytes == 0) {
			log_warnx("memory exercise (hot-add) skipped: no memory "
			    "to spare");
			return;
		}
	}
	m->bytes = bytes;
	m->why = why;
	m->seed = clock_wall_ns();
	m->rc = 0;
	free(m->cause);
	m->cause = NULL;
	memset(&m->res, 0, sizeof m->res);
	if ((err = pthread_create(&m->thread, NULL, memx_main, a)) != 0) {
		log_warnx("memory exercise: cannot start a thread: %s",
		    strerror(err));
		return;
	}
	__atomic_store_n(&m->busy, true, __ATOMIC_RELEASE);
	log_info("memory exercise (%s): %llu MiB", why,
	    (unsigned long long)(bytes >> 20));
}

void
hotplug_memx_done(struct agent *a)
{
	struct agent_memx	*m = &a->memx;
	const struct memx_result *r = &m->res;
	char			 exp[19], got[19], title[96];
	uint64_t		 pending;

	pthread_join(m->thread, NULL);
	__atomic_store_n(&m->busy, false, __ATOMIC_RELEASE);
	if (m->rc == -1)
		log_warnx("memory exercise (%s) not run: %s", m->why,
		    m->cause ? m->cause : "?");
	else if (r->mismatches == 0)
		log_info("memory exercise (%s): %llu MiB clean in %llu ms",
		    m->why, (unsigned long long)(r->bytes >> 20),
		    (unsigned long long)r->ms);
	else {
		snprintf(exp, sizeof exp, "0x%016llx",
		    (unsigned long long)r->first_expected);
		snprintf(got, sizeof got, "0x%016llx",
		    (unsigned long long)r->first_found);
		snprintf(title, sizeof title, "memory read back wrong after %s",
		    m->why);
		report_finding(a, "corruption", title, clock_wall_ns(),
		    json_pack("{s:b, s:s, s:I, s:I, s:s, s:s, s:o, s:I, s:I,"
		    " s:I, s:i}",
		    "memory", 1, "why", m->why,
		    "page", (json_int_t)r->first_page,
		    "offset", (json_int_t)r->first_offset,
		    "expected", exp, "found", got,
		    "found_page", r->first_found_page == MEMX_NO_PAGE ?
		    json_null() : json_integer((json_int_t)r->first_found_page),
		    "mismatches", (json_int_t)r->mismatches,
		    "bad_pages", (json_int_t)r->bad_pages,
		    "bytes", (json_int_t)r->bytes, "pass", (int)r->first_pass));
	}
	if (m->pending > 0 && !a->stopping) {
		pending = m->pending;
		m->pending = 0;
		hotplug_memx_start(a, pending, "hot-add");
	}
}
