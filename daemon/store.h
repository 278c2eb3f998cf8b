/* store.h: the run store, SQLite in WAL mode under the state folder: runs,
 * steps, findings, the timeline and samples, with versioned migrations. */
#ifndef HOTSOAK_STORE_H
#define HOTSOAK_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define STORE_FILE		"hotsoak.db"
#define STORE_SCHEMA_VERSION	2	/* PRAGMA user_version after migrations */
#define STORE_PAGE_DEFAULT	50	/* runs per page when the caller names none */
#define STORE_PAGE_MAX		500

/*
 * Status and verdict are kept as the strings the REST API shows.
 * status: "queued", "running", "finished".
 * verdict (finished runs only): "pass", "fail", "error", "aborted",
 * "interrupted".
 */

struct store;

/*
 * Open (creating it and the folder's file) STORE_FILE in dir, WAL mode,
 * foreign keys on, migrated to STORE_SCHEMA_VERSION. A database newer than
 * this build is refused. NULL with an allocated *cause (the caller frees).
 */
struct store	*store_open(const char *dir, char **cause);
/* NULL is a no-op. */
void		 store_close(struct store *);

/*
 * Runs left "running" or "queued" by a daemon that died become finished
 * with verdict "interrupted" (reason says so, finished time = now_ns), in
 * one transaction. *count gets how many (may be NULL).
 */
int	store_interrupt_unfinished(struct store *, uint64_t now_ns,
	    unsigned *count, char **cause);

/* A new run, "queued". Strings borrowed. */
struct store_run_new {
	const char	*plan;		/* the plan's name */
	const char	*source;	/* the file it came from, or "(request)" */
	const char	*plan_text;	/* the text as submitted (YAML or JSON) */
	const char	*plan_json;	/* the normalized plan (plan_file_to_json) */
	uint64_t	 seed;		/* the seed the run uses (chosen when random) */
	const char	*backend;	/* "local", "qemu", ... */
	uint64_t	 created_ns;	/* CLOCK_REALTIME */
	/* An attempt of a campaign run (0: none), which plan and repetition. */
	int64_t		 campaign_run;
	unsigned	 plan_index;	/* from 0, in the campaign's plans */
	unsigned	 repetition;	/* from 1 */
	unsigned	 attempt;	/* from 1; 0: not a campaign's or rerun's */
	int64_t		 rerun;		/* one of a rerun's runs (0: none) */
};
/* *id gets the new run's id (from 1, never reused). */
int	store_run_create(struct store *, const struct store_run_new *,
	    int64_t *id, char **cause);
/* status "running", started_ns set. */
int	store_run_started(struct store *, int64_t id, uint64_t started_ns,
	    char **cause);
/*
 * Replace the run's live summary object (counters, latency, fault_ops,
 * topology, current step, agent; see store_run_get). summary borrowed.
 */
int	store_run_summary(struct store *, int64_t id, const json_t *summary,
	    char **cause);
/*
 * Finish a run in one transaction: status "finished", verdict, reason
 * (one line for people), finished_ns and the final summary (borrowed). A
 * run already finished is left alone: returns 0 and *already (may be
 * NULL) true.
 */
int	store_run_finish(struct store *, int64_t id, const char *verdict,
	    const char *reason, uint64_t finished_ns, const json_t *summary,
	    bool *already, char **cause);

/*
 * One executed step. path locates it in the plan ("3", "3.1/2.0": step 3,
 * pass 1 of 2, its step 0); action is the step_entry name; name the plan's
 * label or NULL. detail borrowed, may be NULL.
 */
struct store_step {
	int64_t		 run;
	unsigned	 seq;		/* order of execution in the run, from 0 */
	const char	*path;
	const char	*action;
	const char	*name;
	uint64_t	 started_ns;
	uint64_t	 finished_ns;	/* 0 while it runs */
	const char	*outcome;	/* "running", "done", "failed", "error", "cancelled" */
	const json_t	*detail;
};
/* Insert, or update the row of (run, seq) when it exists. */
int	store_step_put(struct store *, const struct store_step *, char **cause);

struct store_finding {
	int64_t		 run;
	const char	*kind;		/* a finding_kinds[] name */
	const char	*title;		/* one line */
	uint64_t	 time_ns;
	const char	*step;		/* "3 hot_add" or NULL outside steps */
	const char	*source;	/* "agent", "backend", "engine" */
	const json_t	*detail;	/* borrowed, may be NULL */
};
int	store_finding_add(struct store *, const struct store_finding *,
	    int64_t *id, char **cause);

/* One line of the run's timeline; kind is a short word ("hot_add", ...). */
int	store_event_add(struct store *, int64_t run, uint64_t time_ns,
	    const char *kind, const char *step, const json_t *detail,
	    char **cause);

/* One periodic sample of the workload (a report from the agent). */
struct store_sample {
	int64_t		 run;
	uint64_t	 time_ns;
	uint64_t	 interval_ms;
	uint64_t	 ios;
	uint64_t	 bytes;		/* read + written in the interval */
	uint64_t	 p50_ns, p90_ns, p99_ns, p999_ns, max_ns; /* 0: no I/O */
	unsigned	 inflight;
	unsigned	 workers;
};
int	store_sample_add(struct store *, const struct store_sample *,
	    char **cause);

/*
 * Queries. Each returns a new JSON value the caller owns (json_decref),
 * or NULL: with *cause NULL when the run does not exist, with an
 * allocated *cause on a database error. Times are shown twice: "*_ns"
 * (integer, CLOCK_REALTIME) and the RFC 3339 UTC string with milliseconds
 * ("2026-11-21T10:00:00.123Z"); absent times are null.
 *
 * store_run_get: {"id", "plan", "source", "seed", "backend", "status",
 * "verdict", "reason", "created", "created_ns", "started", "started_ns",
 * "finished", "finished_ns", "elapsed_ms", "steps": [{"seq", "path",
 * "action", "name", "started", "started_ns", "finished", "finished_ns",
 * "outcome", "detail"}], "findings": {"total": N, "by_kind": {kind: N, ...
 * every kind of finding_kinds, zeros included}}, plus every member of
 * the last summary object ("counters", "latency", "fault_ops",
 * "topology", "step", ...) copied in at the top level}.
 */
json_t	*store_run_get(struct store *, int64_t id, char **cause);
/* The plan text as submitted, allocated (caller frees), or NULL as above. */
char	*store_run_plan_text(struct store *, int64_t id, char **cause);

struct store_runs_filter {
	const char	*status;	/* NULL: any */
	const char	*verdict;	/* NULL: any */
	const char	*plan;		/* NULL: any */
	uint64_t	 since_ns;	/* created at or after; 0: any */
	int64_t		 before;	/* ids below this (paging cursor); 0: none */
	unsigned	 limit;		/* 0: STORE_PAGE_DEFAULT; capped at STORE_PAGE_MAX */
};
/*
 * {"runs": [{"id", "plan", "seed", "backend", "status", "verdict",
 * "reason", "created", "created_ns", "started", ..., "finished", ...,
 * "elapsed_ms", "findings": N}], "next": id to pass as before, or null}
 * newest first. Never NULL-for-missing: an empty page is {"runs": []}.
 */
json_t	*store_runs_list(struct store *, const struct store_runs_filter *,
	    char **cause);
/*
 * {"run": id, "findings": [{"id", "kind", "title", "time", "time_ns",
 * "step", "source", "detail"}]} in time order; after: ids above it only
 * (0: all); limit as above. NULL with *cause NULL: no such run.
 */
json_t	*store_findings_list(struct store *, int64_t run, int64_t after,
	    unsigned limit, char **cause);
/* {"run": id, "events": [{"id", "time", "time_ns", "kind", "step", "detail"}]} */
json_t	*store_events_list(struct store *, int64_t run, int64_t after,
	    unsigned limit, char **cause);
/* {"run": id, "samples": [{"time", "time_ns", "interval_ms", "ios", ...}]} */
json_t	*store_samples_list(struct store *, int64_t run, int64_t after,
	    unsigned limit, char **cause);

/*
 * A number that changes whenever this store writes anything: a reader may
 * keep what it built from the store for as long as this stays the same.
 */
uint64_t store_generation(struct store *);

/* "2026-11-21T10:00:00.123Z" into buf (at least STORE_TIME_MAX bytes). */
#define STORE_TIME_MAX	32
void	store_time_format(uint64_t ns, char *buf, size_t len);
/* RFC 3339 ("...Z" or "+01:00", fraction optional) or unix seconds; -1 on error. */
int	store_time_parse(const char *s, uint64_t *ns);

/*
 * Campaign runs (store-campaign.c). verdict: "pass", "fail", "error",
 * "flaky", "aborted", "interrupted". A campaign run's attempts are runs
 * made with store_run_new.campaign_run set.
 */
struct store_campaign_run_new {
	const char	*campaign;	/* its name */
	const char	*source;	/* the campaign file */
	const char	*campaign_json;	/* the normalized campaign (plan_file_to_json) */
	const char	*trigger;	/* "schedule" or "request" */
	uint64_t	 created_ns;	/* also its start */
	uint64_t	 scheduled_ns;	/* the schedule's time it is for; 0: none */
	unsigned	 repeat, parallel, retries;
};
/* A new campaign run, "running"; *id from 1, never reused. */
int	store_campaign_run_create(struct store *,
	    const struct store_campaign_run_new *, int64_t *id, char **cause);
/* "finished" with verdict and reason (may be NULL); -1 when not in flight. */
int	store_campaign_run_finish(struct store *, int64_t id,
	    const char *verdict, const char *reason, uint64_t finished_ns,
	    char **cause);
/* One line of a campaign's timeline; campaign_run 0: the campaign's own. */
int	store_campaign_event_add(struct store *, const char *campaign,
	    int64_t campaign_run, uint64_t time_ns, const char *kind,
	    const json_t *detail, char **cause);
/*
 * The verdict of one repetition of a plan from its attempts' verdicts in
 * order (NULL: still running): "pass" when the only attempt passed,
 * "flaky" when a pass came after anything else, else the last verdict;
 * NULL while undecided (the last runs, or open: more attempts may come
 * after one that did not pass). Static strings.
 */
const char *store_repetition_verdict(const char *const *verdicts, size_t n,
	    bool open);
/* The worse of two verdicts (fail, error, aborted, interrupted, flaky, pass); NULL is none. */
const char *store_verdict_worse(const char *a, const char *b);
/*
 * {"id", "campaign", "trigger", "status", "verdict", "reason", "created",
 * "started", "finished", "scheduled" (each with *_ns), "elapsed_ms",
 * "counts": {"pass", "fail", "error", "flaky", "aborted", "interrupted",
 * "running", "pending", "attempts"}, "source", "repeat", "parallel",
 * "retries", "plans": [{"index", "plan", "file", "verdict", "counts",
 * "repetitions": [{"repetition", "verdict", "attempts": [{"attempt",
 * "run", "seed", "status", "verdict", "reason", "started", "finished",
 * "elapsed_ms", "findings": {"total", "by_kind"}}]}]}], "events": [...]}.
 * NULL as store_run_get.
 */
json_t	*store_campaign_run_get(struct store *, int64_t id, char **cause);
struct store_crun_filter {
	const char	*campaign;	/* NULL: any */
	int64_t		 before;	/* ids below this; 0: none */
	uint64_t	 since_ns;	/* created at or after; 0: any */
	uint64_t	 until_ns;	/* created before; 0: any */
	unsigned	 limit;		/* as store_runs_filter */
};
/* {"campaign_runs": [the brief form: no plans, source or events], "next"} newest first. */
json_t	*store_campaign_runs_list(struct store *,
	    const struct store_crun_filter *, char **cause);
/* [{"id", "time", "time_ns", "kind", "campaign_run", "detail"}] newest first. */
json_t	*store_campaign_events_list(struct store *, const char *campaign,
	    unsigned limit, char **cause);

/*
 * Reruns (store-rerun.c): a run's plan text and seed run again, times
 * times; its runs are made with store_run_new.rerun set.
 */
int	store_rerun_create(struct store *, int64_t run, unsigned times,
	    unsigned parallel, uint64_t created_ns, int64_t *id, char **cause);
/*
 * "finished", with the reproduction rates as they stand recorded in its
 * result column (the runs they come from stay too).
 */
int	store_rerun_finish(struct store *, int64_t id, uint64_t finished_ns,
	    char **cause);
/*
 * {"id", "run", "plan", "seed", "times", "parallel", "status", "created",
 * "finished" (with *_ns), "runs": [{"id", "status", "verdict",
 * "findings"}], "completed", "verdicts": {verdict: N}, "reproduction":
 * [{"kind", "title", "seen", "of", "rate"}] for each distinct finding of
 * the source run, "new_findings": [{"kind", "title", "seen"}]}. NULL as
 * store_run_get.
 */
json_t	*store_rerun_get(struct store *, int64_t id, char **cause);

/*
 * The morning report (store-summary.c) over runs created in [since, until)
 * (until 0: now): {"since", "until" (with *_ns), "totals", "plans": [...],
 * "finding_kinds": [...], "campaign_runs": [...]}. An outcome is a run
 * outside any campaign, or one campaign repetition with all its attempts.
 */
json_t	*store_summary(struct store *, uint64_t since_ns, uint64_t until_ns,
	    char **cause);

/*
 * Metrics (store-metrics.c): what GET /metrics shows, read in one
 * snapshot. Histograms count observations at or under each bound of
 * store_metrics_bounds_ms, cumulatively, as Prometheus buckets do.
 */
#define STORE_METRICS_BUCKETS	10
extern const uint64_t store_metrics_bounds_ms[STORE_METRICS_BUCKETS];

struct store_metrics_count {
	char		*name;		/* a status, verdict, kind or backend */
	uint64_t	 n;
};

struct store_metrics_counts {
	struct store_metrics_count	*v;
	size_t				 n;
};

struct store_metrics_hist {
	uint64_t	count;		/* observations */
	double		sum_ms;		/* their total, in milliseconds */
	uint64_t	le[STORE_METRICS_BUCKETS]; /* those <= each bound */
};

/* A running run and its latest sample. */
struct store_metrics_run {
	int64_t		 id;
	char		*plan;		/* as the user named it: any bytes */
	char		*backend;
	bool		 sampled;	/* false: no sample yet, the rest is 0 */
	uint64_t	 interval_ms;
	uint64_t	 ios;
	uint64_t	 bytes;
	uint64_t	 p50_ns, p99_ns, max_ns;
};

/* hot_add_seen events of one unit ("cpu", "memory", "io_bridge"). */
struct store_metrics_hot_add {
	char				*unit;
	uint64_t			 operations;
	struct store_metrics_hist	 latency;	/* of latency_ms */
};

struct store_metrics {
	/* Every known status and verdict, zeros included, then any other. */
	struct store_metrics_counts	 status;
	struct store_metrics_counts	 verdict;	/* finished runs */
	struct store_metrics_counts	 findings;	/* every finding kind */
	struct store_metrics_counts	 backends;	/* running runs per backend */
	struct store_metrics_run	*runs;		/* running, by id */
	size_t				 nruns;
	struct store_metrics_hot_add	*hot_add;	/* cpu, memory, io_bridge, ... */
	size_t				 nhot_add;
	uint64_t			 replaces;	/* completed replace operations */
	struct store_metrics_hist	 replace_held;	/* host-side hold */
	struct store_metrics_hist	 replace_stall;	/* guest I/O stall, where told */
};

/*
 * Everything the metrics need, read in one read transaction. Allocated:
 * the caller frees with store_metrics_free. NULL with an allocated *cause.
 */
struct store_metrics *store_metrics_read(struct store *, char **cause);
/* NULL is a no-op. */
void	store_metrics_free(struct store_metrics *);

#endif
