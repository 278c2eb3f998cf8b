/* api-runs.c: /api/v1/runs: start a run of a plan in the body or in the
 * plans folder, list and show runs and their findings, events, samples. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "api-int.h"
#include "plans-dir.h"
#include "runs.h"
#include "store.h"

#define RUNS_REQUEST_NAME	"request.yaml"	/* a plan in the body, in errors */

const char *const api_runs_list_params[] = {
	"status", "verdict", "plan", "since", "limit", "before", NULL
};
const char *const api_runs_page_params[] = { "after", "limit", NULL };

static const char *const runs_statuses[] = {
	"queued", "running", "finished", NULL
};
static const char *const runs_verdicts[] = {
	"pass", "fail", "error", "aborted", "interrupted", NULL
};

enum runs_body {
	RUNS_BODY_YAML,		/* the plan itself */
	RUNS_BODY_JSON,		/* {"plan": NAME}, a plan of the plans folder */
	RUNS_BODY_OTHER		/* refused with 415 */
};

static enum runs_body
runs_body_kind(const char *ctype)
{
	static const char *const yaml[] = {
		"application/yaml", "application/x-yaml", "text/yaml",
		"text/x-yaml", "text/plain", NULL
	};
	size_t	start, end, i;

	if (ctype == NULL)
		return RUNS_BODY_YAML;
	/* The media type, without parameters such as "; charset=utf-8". */
	start = strspn(ctype, " \t");
	end = start + strcspn(ctype + start, "; \t");
	if (end == start)
		return RUNS_BODY_YAML;
	for (i = 0; yaml[i] != NULL; i++)
		if (strlen(yaml[i]) == end - start &&
		    strncasecmp(ctype + start, yaml[i], end - start) == 0)
			return RUNS_BODY_YAML;
	if (end - start == strlen("application/json") &&
	    strncasecmp(ctype + start, "application/json", end - start) == 0)
		return RUNS_BODY_JSON;
	return RUNS_BODY_OTHER;
}

void
api_plan_invalid(struct api_res *res, const struct plan_diags *d)
{
	const struct plan_diag	*e;
	json_t			*errors, *o;
	size_t			 i;

	if (d->n == 0)
		api_error(res, 400, "invalid plan", "the plan does not load");
	else if (d->v[0].mark.line == 0)
		api_error(res, 400, "invalid plan", "%s: error: %s", d->v[0].file,
		    d->v[0].message);
	else
		api_error(res, 400, "invalid plan", "%s:%u:%u: error: %s",
		    d->v[0].file, d->v[0].mark.line, d->v[0].mark.column,
		    d->v[0].message);
	if ((errors = json_array()) == NULL)
		return;
	for (i = 0; i < d->n; i++) {
		e = &d->v[i];
		if ((o = json_object()) == NULL)
			break;
		json_object_set_new(o, "file", api_string(e->file));
		if (e->mark.line != 0) {
			json_object_set_new(o, "line",
			    json_integer(e->mark.line));
			json_object_set_new(o, "column",
			    json_integer(e->mark.column));
		}
		json_object_set_new(o, "message", api_string(e->message));
		json_array_append_new(errors, o);
	}
	json_object_set_new(res->body, "errors", errors);
	if (d->dropped > 0)
		json_object_set_new(res->body, "errors_not_shown",
		    json_integer((json_int_t)d->dropped));
}

/* Starts a run of pf (stolen) with text as submitted: 201 and the run. */
static void
runs_start(struct api_req *r, struct api_res *res, struct plan_file *pf,
    const char *text, const char *what)
{
	struct api	*api = r->api;
	json_t		*run;
	char		*cause = NULL;
	int64_t		 id;

	if (pf->kind != PLAN_FILE_PLAN) {
		plan_file_free(pf);
		api_error(res, 400, "not a plan", "%s is a campaign; a campaign "
		    "of the plans folder starts with POST " API_PREFIX
		    "/campaigns/NAME/start", what);
		return;
	}
	if (runs_submit(api->runs, pf, text, &id, &cause) == -1) {
		api_error(res, 503, "busy", "the run cannot start: %s",
		    cause != NULL ? cause : "out of memory");
		free(cause);
		return;
	}
	if (asprintf(&res->location, API_PREFIX "/runs/%" PRId64, id) == -1)
		res->location = NULL;
	/* The run exists whatever happens now; say at least its id. */
	if ((run = store_run_get(api->store, id, &cause)) == NULL)
		run = json_pack("{s:I}", "id", (json_int_t)id);
	free(cause);
	api_ok(res, 201, run);
}

static void
runs_create_yaml(struct api_req *r, struct api_res *res, const char *body,
    size_t len)
{
	struct plan_load_opts	 opts;
	struct plan_diags	 d;
	struct plan_file	*pf;
	char			*text = NULL;

	memset(&opts, 0, sizeof opts);
	if (r->api->plans != NULL)
		opts.base_dir = plans_dir_path(r->api->plans);
	plan_diags_init(&d);
	if ((pf = plan_file_load_buffer(RUNS_REQUEST_NAME, body, len, &opts,
	    &d)) == NULL) {
		api_plan_invalid(res, &d);
		goto out;
	}
	/* A valid plan holds no NUL, so the text is a string. */
	if ((text = strndup(body, len)) == NULL) {
		plan_file_free(pf);
		api_error(res, 500, "internal error", "out of memory");
		goto out;
	}
	runs_start(r, res, pf, text, "the request's plan");
out:
	free(text);
	plan_diags_free(&d);
}

static void
runs_create_named(struct api_req *r, struct api_res *res, const char *body,
    size_t len)
{
	struct api		*api = r->api;
	struct plan_load_opts	 opts;
	struct plan_diags	 d;
	struct plan_file	*pf;
	json_error_t		 jerr;
	json_t			*j, *plan;
	const char		*name;
	char			*path = NULL, *text = NULL, *cause = NULL;
	int			 missing = 0;

	plan_diags_init(&d);
	if ((j = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	    &jerr)) == NULL) {
		api_error(res, 400, "bad request", "the body is not JSON: %s "
		    "(line %d, column %d)", jerr.text, jerr.line, jerr.column);
		goto out;
	}
	plan = json_object_get(j, "plan");
	if (!json_is_object(j) || json_object_size(j) != 1 ||
	    !json_is_string(plan)) {
		api_error(res, 400, "bad request", "a JSON body names a plan of "
		    "the plans folder: {\"plan\": \"NAME\"}; a plan itself goes "
		    "as YAML (Content-Type: application/yaml)");
		goto out;
	}
	name = json_string_value(plan);
	if (strlen(name) != json_string_length(plan)) {
		api_error(res, 400, "bad plan name", "bad plan name: it holds "
		    "a NUL");
		goto out;
	}
	if (api->plans == NULL) {
		api_error(res, 404, "not found", "no plan named `%.128s`: this "
		    "hotsoakd has no plans folder", name);
		goto out;
	}
	if (plans_dir_resolve(api->plans, name, &path, &missing, &cause) ==
	    -1) {
		if (missing)
			api_error(res, 404, "not found", "%s", cause != NULL ?
			    cause : "no such plan");
		else
			api_error(res, 400, "bad plan name", "%s", cause != NULL ?
			    cause : "bad plan name");
		goto out;
	}
	memset(&opts, 0, sizeof opts);
	opts.base_dir = plans_dir_path(api->plans);
	if ((pf = plan_file_load_path(path, &opts, &d)) == NULL) {
		api_plan_invalid(res, &d);
		goto out;
	}
	if ((text = plans_read_text(path, &cause)) == NULL) {
		plan_file_free(pf);
		api_error(res, 500, "internal error", "%s", cause != NULL ?
		    cause : "out of memory");
		goto out;
	}
	runs_start(r, res, pf, text, path);
out:
	free(text);
	free(cause);
	free(path);
	plan_diags_free(&d);
	json_decref(j);
}

void
api_runs_create(struct api_req *r, struct api_res *res)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(r->ev);
	const char	*ctype, *body;
	size_t		 len = evbuffer_get_length(in);

	ctype = evhttp_find_header(evhttp_request_get_input_headers(r->ev),
	    "Content-Type");
	if ((body = (const char *)evbuffer_pullup(in, -1)) == NULL)
		body = "";
	switch (runs_body_kind(ctype)) {
	case RUNS_BODY_YAML:
		runs_create_yaml(r, res, body, len);
		break;
	case RUNS_BODY_JSON:
		runs_create_named(r, res, body, len);
		break;
	case RUNS_BODY_OTHER:
		api_error(res, 415, "unsupported media type", "a run is "
		    "started with a YAML plan (application/yaml, text/yaml, "
		    "text/plain) or {\"plan\": \"NAME\"} (application/json), "
		    "not %.64s", ctype);
		break;
	}
}

static bool
runs_word_ok(const char *const *words, const char *v)
{
	size_t	i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(words[i], v) == 0)
			return true;
	return false;
}

/* A plan name as plans spell it: 1-64 of A-Z a-z 0-9 . _ -, not led by . _ -. */
static bool
runs_name_ok(const char *s)
{
	size_t	len = strlen(s);

	return len >= 1 && len <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len &&
	    s[0] != '.' && s[0] != '_' && s[0] != '-';
}

void
api_runs_list(struct api_req *r, struct api_res *res)
{
	struct store_runs_filter	 f;
	const char			*v;
	json_t				*list;
	char				*cause = NULL;

	memset(&f, 0, sizeof f);
	if ((v = api_param(r, "status")) != NULL) {
		if (!runs_word_ok(runs_statuses, v)) {
			api_param_error(res, "status", "`status` is queued, "
			    "running or finished, not `%.64s`", v);
			return;
		}
		f.status = v;
	}
	if ((v = api_param(r, "verdict")) != NULL) {
		if (!runs_word_ok(runs_verdicts, v)) {
			api_param_error(res, "verdict", "`verdict` is pass, fail, "
			    "error, aborted or interrupted, not `%.64s`", v);
			return;
		}
		f.verdict = v;
	}
	if ((v = api_param(r, "plan")) != NULL) {
		if (!runs_name_ok(v)) {
			api_param_error(res, "plan", "`plan` is a plan's name "
			    "(1 to 64 letters, digits, `.`, `_`, `-`), not "
			    "`%.64s`", v);
			return;
		}
		f.plan = v;
	}
	if ((v = api_param(r, "since")) != NULL &&
	    store_time_parse(v, &f.since_ns) == -1) {
		api_param_error(res, "since", "`since` is an RFC 3339 time "
		    "(2026-11-21T10:00:00Z) or unix seconds, not `%.64s`", v);
		return;
	}
	if (api_page_params(r, res, &f.limit, &f.before, "run") == -1)
		return;
	if ((list = store_runs_list(r->api->store, &f, &cause)) == NULL) {
		api_error(res, 500, "internal error", "the run store: %s",
		    cause != NULL ? cause : "out of memory");
		free(cause);
		return;
	}
	api_ok(res, 200, list);
}

/* A store answer about run r->id: 200, or 404 when there is no such run. */
static void
runs_found(struct api_req *r, struct api_res *res, json_t *j, char *cause)
{
	api_found(r, res, j, cause, "run");
}

void
api_runs_get(struct api_req *r, struct api_res *res)
{
	struct api_cached	*c = &r->api->cache[(uint64_t)r->id %
				    API_CACHE_SLOTS];
	uint64_t		 gen = store_generation(r->api->store);
	char			*cause = NULL, *text;
	json_t			*j;

	uint64_t		 now = clock_mono_ns();
	const char		*status;

	if (c->id == r->id && c->generation == gen && c->text != NULL &&
	    (c->finished || now - c->built_ns < API_CACHE_LIVE_NS)) {
		res->status = 200;
		res->raw = c->text;
		return;
	}
	j = store_run_get(r->api->store, r->id, &cause);
	if (j != NULL && (text = json_dumps(j, JSON_COMPACT)) != NULL) {
		free(c->text);
		c->id = r->id;
		c->generation = gen;
		c->built_ns = now;
		status = json_string_value(json_object_get(j, "status"));
		c->finished = status != NULL && strcmp(status, "finished") == 0;
		c->text = text;
	}
	runs_found(r, res, j, cause);
}

typedef json_t *(*runs_page_fn)(struct store *, int64_t, int64_t, unsigned,
    char **);

/* One page of a run's findings, events or samples: after and limit. */
static void
runs_page(struct api_req *r, struct api_res *res, runs_page_fn fn)
{
	const char	*v;
	char		*cause = NULL;
	uint64_t	 after = 0, limit = 0;
	json_t		*j;

	if ((v = api_param(r, "after")) != NULL &&
	    api_parse_uint(v, 0, INT64_MAX, &after) == -1) {
		api_param_error(res, "after", "`after` is an id (a whole number "
		    "from 0), not `%.64s`", v);
		return;
	}
	if ((v = api_param(r, "limit")) != NULL &&
	    api_parse_uint(v, 1, STORE_PAGE_MAX, &limit) == -1) {
		api_param_error(res, "limit", "`limit` is a whole number from 1 "
		    "to %d, not `%.64s`", STORE_PAGE_MAX, v);
		return;
	}
	j = fn(r->api->store, r->id, (int64_t)after, (unsigned)limit, &cause);
	runs_found(r, res, j, cause);
}

void
api_runs_findings(struct api_req *r, struct api_res *res)
{
	runs_page(r, res, store_findings_list);
}

void
api_runs_events(struct api_req *r, struct api_res *res)
{
	runs_page(r, res, store_events_list);
}

void
api_runs_samples(struct api_req *r, struct api_res *res)
{
	runs_page(r, res, store_samples_list);
}

void
api_runs_abort(struct api_req *r, struct api_res *res)
{
	const char	*status, *verdict;
	char		*cause = NULL;
	json_t		*run;

	if (runs_abort(r->api->runs, r->id) == 0) {
		api_ok(res, 202, json_pack("{s:I, s:s}", "id", (json_int_t)r->id,
		    "status", "aborting"));
		return;
	}
	if ((run = store_run_get(r->api->store, r->id, &cause)) == NULL) {
		runs_found(r, res, NULL, cause);
		return;
	}
	status = json_string_value(json_object_get(run, "status"));
	verdict = json_string_value(json_object_get(run, "verdict"));
	if (status != NULL && strcmp(status, "finished") == 0)
		api_error(res, 409, "conflict", "run %" PRId64 " already "
		    "finished: %s", r->id, verdict != NULL ? verdict : "?");
	else
		api_error(res, 409, "conflict", "run %" PRId64 " is %s but not in "
		    "flight in this hotsoakd", r->id, status != NULL ? status :
		    "unknown");
	json_decref(run);
}
