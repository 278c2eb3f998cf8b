/* report.c: what the agent tells the daemon unasked: a report of counters
 * and latency every report_ms, and a finding for every engine event, kernel
 * report and memory mismatch, all through the outbox. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-int.h"
#include "io-json.h"
#include "log.h"
#include "hotsoak/util.h"

void
report_init(struct agent *a)
{
	struct agent_report	*r = &a->rep;

	/* Zeroed histograms are empty ones. */
	r->prev_hist = calloc(1, sizeof *r->prev_hist);
	r->now_hist = calloc(1, sizeof *r->now_hist);
	r->interval = calloc(1, sizeof *r->interval);
	r->late = json_array();
	if (r->prev_hist == NULL || r->now_hist == NULL || r->interval == NULL) {
		free(r->prev_hist);
		r->prev_hist = NULL;
	}
}

void
report_free(struct agent *a)
{
	struct agent_report	*r = &a->rep;

	free(r->prev_hist);
	free(r->now_hist);
	free(r->interval);
	free(r->seen);
	json_decref(r->late);
}

/* A run begins: its first report counts from zero, fill included. */
void
report_start(struct agent *a)
{
	struct agent_report	*r = &a->rep;

	memset(&r->prev, 0, sizeof r->prev);
	hist_init(r->prev_hist);
	r->last_ns = clock_mono_ns();
	json_array_clear(r->late);
	r->late_count = 0;
	r->repeats = 0;
	if (r->seen == NULL)
		r->seen = calloc(AGENT_SEEN_SLOTS, sizeof *r->seen);
	else
		memset(r->seen, 0, AGENT_SEEN_SLOTS * sizeof *r->seen);
	r->nseen = 0;
}

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 32);
}

/*
 * Whether this damage was reported already in this run: a zeroed block
 * reads back zeroed every time it is read, and one finding says it. A new
 * stamp found at the same place is new damage. Past the table's load
 * limit every event is reported.
 */
static bool
seen_before(struct agent_report *r, const struct io_event *ev, unsigned target)
{
	uint64_t	key, i;

	if (r->seen == NULL || r->nseen >= AGENT_SEEN_SLOTS / 4 * 3)
		return false;
	/* The same offset on another disk is other damage. */
	key = mix(mix(mix(mix(mix(ev->offset, ev->result), ev->found.generation),
	    ev->found.writer), ev->found.sequence), target) | 1;
	for (i = key % AGENT_SEEN_SLOTS; r->seen[i] != 0;
	    i = (i + 1) % AGENT_SEEN_SLOTS)
		if (r->seen[i] == key)
			return true;
	r->seen[i] = key;
	r->nseen++;
	return false;
}

void
report_finding(struct agent *a, const char *kind, const char *title,
    uint64_t time_ns, json_t *detail)
{
	json_t	*f;

	f = json_pack("{s:s, s:s, s:I}", "kind", kind, "title", title,
	    "time_ns", (json_int_t)time_ns);
	if (f != NULL && detail != NULL)
		json_object_set_new(f, "detail", detail);
	else
		json_decref(detail);
	log_info("finding: %s: %s", kind, title);
	if (f == NULL || link_request(a->link, PROTO_FINDING, f) == 0)
		a->rep.findings_refused++;
}

/*
 * An event of a hot-added disk's run says which disk: its path and serial
 * in the detail, the path first in the title.
 */
static void
target_tag(struct agent *a, json_t *j, unsigned target)
{
	const struct agent_target	*t = target_by_index(a, target);
	json_t				*d = json_object_get(j, "detail");
	const char			*title;
	char				*tagged = NULL;

	if (t == NULL || t->path[0] == '\0')
		return;
	if (json_is_object(d)) {
		json_object_set_new(d, "path", json_string(t->path));
		json_object_set_new(d, "serial", json_string(t->serial));
	}
	title = json_string_value(json_object_get(j, "title"));
	if (title != NULL && asprintf(&tagged, "%s: %s", t->path, title) != -1) {
		json_object_set_new(j, "title", json_string(tagged));
		free(tagged);
	}
}

void
report_io_event(struct agent *a, const struct io_event *ev, unsigned target)
{
	struct agent_report	*r = &a->rep;
	json_t			*j;

	if (ev->kind == IO_EVENT_LATE) {
		/* Not a finding: the timeout was one; the next report lists it. */
		r->late_count++;
		if (json_array_size(r->late) < AGENT_LATE_KEPT &&
		    (j = io_event_to_json(ev)) != NULL) {
			target_tag(a, j, target);
			json_array_append_new(r->late, j);
		}
		return;
	}
	if (ev->kind == IO_EVENT_CORRUPTION && seen_before(r, ev, target)) {
		r->repeats++;
		return;
	}
	if ((j = io_event_to_json(ev)) == NULL) {
		r->findings_refused++;
		return;
	}
	target_tag(a, j, target);
	log_info("finding: %s: %s at offset %llu",
	    json_string_value(json_object_get(j, "kind")),
	    json_string_value(json_object_get(j, "title")),
	    (unsigned long long)ev->offset);
	if (link_request(a->link, PROTO_FINDING, j) == 0)
		r->findings_refused++;
}

static void
totals_delta(struct io_totals *d, const struct io_totals *now,
    const struct io_totals *prev)
{
#define D(f)	d->f = now->f >= prev->f ? now->f - prev->f : 0
	D(ios); D(reads); D(writes); D(bytes_read); D(bytes_written);
	D(verified); D(errors); D(timeouts); D(corruptions);
#undef D
	d->workers = now->workers;
	d->inflight = now->inflight;
}

/* One interval's report; the next one starts where this one ends. */
void
report_send(struct agent *a, uint64_t now)
{
	struct agent_report	*r = &a->rep;
	struct link_stats	 ls;
	struct io_totals	 t, d;
	struct hist		*swap;
	json_t			*f, *late;
	char			 run_hex[19];

	if (a->run == NULL)
		return;
	/* The hot-added disks' runs count as the workload's. */
	io_run_totals(a->run, &t);
	targets_add_totals(a, &t);
	io_run_latency(a->run, r->now_hist);
	targets_add_latency(a, r->now_hist);
	hist_delta(r->interval, r->now_hist, r->prev_hist);
	totals_delta(&d, &t, &r->prev);
	link_get_stats(a->link, &ls);
	snprintf(run_hex, sizeof run_hex, "0x%016llx",
	    (unsigned long long)io_run_id(a->run));
	late = r->late;
	r->late = json_array();
	f = json_pack("{s:I, s:I, s:s, s:s, s:o, s:o, s:o, s:{s:I, s:o},"
	    " s:{s:I, s:I, s:I}, s:I, s:I, s:I}",
	    "seq", (json_int_t)++r->seq,
	    "interval_ms", (json_int_t)((now - r->last_ns) / MS_NS),
	    "state", agent_state_names[a->state],
	    "run_id", run_hex,
	    "counters", io_totals_to_json(&d),
	    "totals", io_totals_to_json(&t),
	    "latency", hist_to_json(r->interval),
	    "late", "count", (json_int_t)r->late_count, "list", late,
	    "dropped",
	    "reports", (json_int_t)(ls.outbox.dropped_reports - r->dropped_reports),
	    "findings", (json_int_t)(ls.outbox.dropped_other - r->dropped_other +
	    r->findings_refused),
	    "events", (json_int_t)(atomic_load(&a->events_dropped) -
	    r->events_dropped),
	    "repeats", (json_int_t)r->repeats,
	    "kmsg_lost", (json_int_t)r->kmsg_lost,
	    "lines_refused", (json_int_t)ls.lines_refused);
	r->prev = t;
	swap = r->prev_hist;
	r->prev_hist = r->now_hist;
	r->now_hist = swap;
	r->last_ns = now;
	r->dropped_reports = ls.outbox.dropped_reports;
	r->dropped_other = ls.outbox.dropped_other;
	r->events_dropped = atomic_load(&a->events_dropped);
	r->findings_refused = 0;
	r->late_count = 0;
	r->repeats = 0;
	r->kmsg_lost = 0;
	if (f != NULL && a->ntargets > 0)
		json_object_set_new(f, "targets", targets_to_json(a));
	if (f == NULL)
		log_warnx("cannot build report %llu", (unsigned long long)r->seq);
	else
		link_request(a->link, PROTO_REPORT, f);
}

/* A kernel report as a finding: its lines, the rule that matched, when. */
static void
kmsg_finding(struct agent *a, const struct kmsg_event *ev)
{
	json_t		*lines, *detail;
	const char	*p, *nl;

	if (ev->kind == KMSG_LOST) {
		a->rep.kmsg_lost += ev->lost ? ev->lost : 1;
		log_warnx("kernel log: %s", ev->title);
		return;
	}
	if ((lines = json_array()) == NULL)
		return;
	for (p = ev->text; p != NULL && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		json_array_append_new(lines, json_stringn(p, (size_t)(nl - p) +
		    (*nl != '\n')));
	}
	detail = json_pack("{s:o, s:s, s:o, s:I, s:b, s:b}",
	    "lines", lines, "rule", ev->rule ? ev->rule : "?",
	    "ts_usec", ev->ts_usec == KMSG_TS_NONE ? json_null() :
	    json_integer((json_int_t)ev->ts_usec),
	    "seq", (json_int_t)ev->seq, "panicked", ev->panicked,
	    "truncated", ev->truncated);
	report_finding(a, kmsg_kind_names[ev->kind], ev->title, clock_wall_ns(),
	    detail);
}

void
report_kmsg_drain(struct agent *a)
{
	struct kmsg_event	 ev[8];
	enum kmsg_status	 st;
	char			*cause = NULL;
	size_t			 n, i;

	for (;;) {
		st = kmsg_read(a->kmsg, ev, sizeof ev / sizeof ev[0], &n, &cause);
		for (i = 0; i < n; i++) {
			kmsg_finding(a, &ev[i]);
			kmsg_event_clear(&ev[i]);
		}
		if (st == KMSG_FULL)
			continue;
		if (st == KMSG_DRAINED)
			return;
		if (st == KMSG_EOF)
			log_info("kernel log %s ended", a->kmsg_path);
		else
			log_warnx("kernel log %s: %s; no longer watched",
			    a->kmsg_path, cause ? cause : "?");
		free(cause);
		kmsg_close(a->kmsg);
		a->kmsg = NULL;
		return;
	}
}
