/* api-int.h: what the REST API's files share: the server, one request and
 * its one reply, the route table and the helpers of api-util.c. */
#ifndef HOTSOAK_API_INT_H
#define HOTSOAK_API_INT_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>

#include <event2/http.h>
#include <jansson.h>

#include "api.h"

#define API_QUERY_MAX	16		/* parameters in one query string */
#define API_DRAIN_MAX	(64U << 20)	/* refused body bytes read and dropped
					   before the connection is cut */

struct api_gate;
LIST_HEAD(api_gates, api_gate);

/*
 * Run summaries as sent, kept until the store writes again: a summary is
 * what every dashboard and `hotsoak run --wait` polls, and building it
 * takes several queries. A running run's elapsed time moves on without a
 * write, so its summary is kept API_CACHE_LIVE_NS at most.
 */
#define API_CACHE_LIVE_NS	(100ULL * 1000 * 1000)
#define API_CACHE_SLOTS	64
struct api_cached {
	int64_t		 id;		/* 0: empty */
	uint64_t	 generation;	/* store_generation when built */
	uint64_t	 built_ns;	/* CLOCK_MONOTONIC when built */
	bool		 finished;	/* nothing in it moves with the clock */
	char		*text;		/* the JSON as sent, without the newline */
};

struct api {
	struct event_base	*base;
	struct evhttp		*http;
	struct store		*store;
	struct runs		*runs;
	struct plans_dir	*plans;		/* NULL: runs by name are refused */
	struct campaigns	*campaigns;	/* NULL: none */
	struct reruns		*reruns;	/* NULL: refused */
	char			*token;		/* NULL: no auth */
	size_t			 body_max;
	char			*version;
	char			*state_dir;	/* NULL: no run folders to serve */
	uint64_t		 started_ns;	/* CLOCK_MONOTONIC at api_new */
	struct api_gates	 gates;		/* one per open connection */
	struct api_cached	 cache[API_CACHE_SLOTS]; /* by id % API_CACHE_SLOTS */
	char			*metrics_text;	/* GET /metrics as last built, or NULL */
	size_t			 metrics_len;
	uint64_t		 metrics_generation; /* store_generation when built */
	unsigned		 metrics_active;	/* runs_active when built */
};

struct api_param {
	char		*name;		/* percent-decoded */
	char		*value;
};

/* One request as a handler sees it. */
struct api_req {
	struct api		*api;
	struct evhttp_request	*ev;
	enum evhttp_cmd_type	 method;	/* HEAD is routed as GET */
	bool			 head;		/* HEAD: the reply goes without its body */
	int64_t			 id;		/* the {id} of the path; 0: none */
	char			 name[65];	/* the {name} of the path; "": none */
	struct api_param	 query[API_QUERY_MAX];
	size_t			 nquery;
};

/*
 * The one reply to a request. Handlers fill it in; the router sends it, so
 * every request ends in exactly one evhttp_send_reply.
 */
struct api_res {
	int		 status;
	json_t		*body;		/* owned; NULL is a 500 */
	char		*location;	/* allocated, or NULL */
	const char	*allow;		/* the Allow header of a 405 */
	bool		 challenge;	/* WWW-Authenticate of a 401 */
	bool		 close;		/* Connection: close */
	const char	*raw;		/* a body already serialized (borrowed), else NULL */
	struct evbuffer	*data;		/* a body that is not JSON (owned), else NULL */
	const char	*ctype;		/* data's Content-Type (static) */
};

typedef void (*api_handler)(struct api_req *, struct api_res *);

struct api_route {
	enum evhttp_cmd_type	 method;
	const char		*pattern;	/* "{id}" is one path segment, a run id */
	api_handler		 handler;
	const char *const	*params;	/* query parameters taken, NULL-terminated; NULL: none */
};

/* Every route; the last entry has a NULL pattern. */
extern const struct api_route api_routes[];

/* api-runs.c */
struct plan_diags;
/* A 400 "invalid plan" with every error of a load, located, in "errors". */
void	api_plan_invalid(struct api_res *, const struct plan_diags *);
void	api_runs_create(struct api_req *, struct api_res *);
void	api_runs_list(struct api_req *, struct api_res *);
void	api_runs_get(struct api_req *, struct api_res *);
void	api_runs_abort(struct api_req *, struct api_res *);
void	api_runs_findings(struct api_req *, struct api_res *);
void	api_runs_events(struct api_req *, struct api_res *);
void	api_runs_samples(struct api_req *, struct api_res *);
extern const char *const api_runs_list_params[];
extern const char *const api_runs_page_params[];

/* api-console.c */
void	api_runs_console(struct api_req *, struct api_res *);
extern const char *const api_runs_console_params[];

/* api-junit.c */
void	api_runs_junit(struct api_req *, struct api_res *);
void	api_cruns_junit(struct api_req *, struct api_res *);

/* api-reruns.c */
void	api_reruns_create(struct api_req *, struct api_res *);
void	api_reruns_get(struct api_req *, struct api_res *);

/* api-campaigns.c */
void	api_campaigns_list(struct api_req *, struct api_res *);
void	api_campaigns_get(struct api_req *, struct api_res *);
void	api_campaigns_start(struct api_req *, struct api_res *);
void	api_campaigns_abort(struct api_req *, struct api_res *);
void	api_cruns_list(struct api_req *, struct api_res *);
void	api_cruns_get(struct api_req *, struct api_res *);
void	api_cruns_abort(struct api_req *, struct api_res *);
extern const char *const api_cruns_list_params[];

/* api-summary.c */
void	api_summary_get(struct api_req *, struct api_res *);
extern const char *const api_summary_params[];

/* api-plans.c */
void	api_plans_list(struct api_req *, struct api_res *);

/* api-health.c */
void	api_health_get(struct api_req *, struct api_res *);

/* api-metrics.c */
void	api_metrics_get(struct api_req *, struct api_res *);

/* api-gate.c */
struct bufferevent *api_gate_bevcb(struct event_base *, void *);
/*
 * Was the body of req, the next request of its connection, refused by the
 * gate? *close tells that the connection must close after the reply. Call
 * once for each request.
 */
bool	api_gate_refused(struct api *, struct evhttp_request *, bool *close);
void	api_gate_free_all(struct api *);

/* api-util.c */
/* Sets res to status and body (stolen; NULL, out of memory, is a 500). */
void	api_ok(struct api_res *, int status, json_t *body);
/*
 * Sets res to an error reply {"error": error, "detail": ...}. The detail is
 * made valid UTF-8 without control characters, so values from the request
 * may go into it.
 */
void	api_error(struct api_res *, int status, const char *error,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A 400 "bad parameter" naming parameter name in its "parameter" member. */
void	api_param_error(struct api_res *, const char *name, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
/*
 * A new JSON string of s (the caller owns the reference), with bytes that
 * are not printable UTF-8 made '?'; NULL when out of memory.
 */
json_t	*api_string(const char *s);
/* The value of query parameter name, or NULL. */
const char *api_param(const struct api_req *, const char *name);
/*
 * Splits query into r->query, percent-decoded. -1 with a 400 in res for a
 * name not in params (NULL: none taken), a name given twice, a NUL, or too
 * many parameters.
 */
int	api_query_parse(struct api_req *, const char *query,
	    const char *const *params, struct api_res *);
/*
 * A name segment of a path (a campaign's): 1 to 64 of A-Z a-z 0-9 . _ -,
 * not led by . _ -, copied NUL-terminated into buf (len > 64).
 */
int	api_parse_name(const char *s, size_t len, char *buf, size_t buflen);
/*
 * The store found nothing for r->id: a 500 naming cause when it failed,
 * else a 404 "no WHAT ID". Frees cause.
 */
void	api_missing(struct api_req *, struct api_res *, char *cause,
	    const char *what);
/* A store answer for r->id: 200 with j (stolen), else as api_missing. */
void	api_found(struct api_req *, struct api_res *, json_t *j, char *cause,
	    const char *what);
/*
 * The paging parameters `limit` (1 to STORE_PAGE_MAX) and `before` (an id
 * of what is listed, `what`) into *limit and *before, left alone when
 * absent. -1 with a 400 in res.
 */
int	api_page_params(struct api_req *, struct api_res *, unsigned *limit,
	    int64_t *before, const char *what);
/* A run id: a positive decimal without sign or leading zeros. */
int	api_parse_id(const char *s, size_t len, int64_t *id);
/* A decimal from min to max without sign or leading zeros. */
int	api_parse_uint(const char *s, uint64_t min, uint64_t max,
	    uint64_t *out);
/* Does header (an Authorization value) carry the server's token? */
bool	api_token_ok(const struct api *, const char *header);
/* Sends res as the reply to r: the one evhttp_send_reply of the API. */
void	api_send(struct api_req *, struct api_res *);
void	api_req_clear(struct api_req *);
void	api_res_clear(struct api_res *);

#endif
