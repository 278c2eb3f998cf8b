/* api-reruns.c: POST /api/v1/runs/{id}/rerun runs a run's exact plan and
 * seed again; GET /api/v1/reruns/{id} says how often its findings came back. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "hotsoak/util.h"
#include "api-int.h"
#include "reruns.h"
#include "store.h"

/* A whole number member from min to max, or def when absent; -1 with a 400. */
static int
rr_member(struct api_res *res, json_t *body, const char *name, uint64_t min,
    uint64_t max, uint64_t def, unsigned *out)
{
	json_t	*v = json_object_get(body, name);

	if (v == NULL) {
		*out = (unsigned)def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min ||
	    json_integer_value(v) > (json_int_t)max) {
		api_param_error(res, name, "`%s` is a whole number from %" PRIu64
		    " to %" PRIu64, name, min, max);
		return -1;
	}
	*out = (unsigned)json_integer_value(v);
	return 0;
}

void
api_reruns_create(struct api_req *r, struct api_res *res)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(r->ev);
	json_error_t	 jerr;
	json_t		*body, *j;
	const char	*key;
	char		*cause = NULL;
	unsigned	 times, parallel;
	int64_t		 id;
	size_t		 len = evbuffer_get_length(in);
	void		*it;

	if (r->api->reruns == NULL) {
		api_error(res, 503, "unavailable", "this hotsoakd runs no reruns");
		return;
	}
	if ((body = json_loadb((const char *)evbuffer_pullup(in, -1), len,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(body)) {
		api_error(res, 400, "bad request", "the body is {\"times\": N} "
		    "with N from 1 to %d, and \"parallel\": P from 1 to %d if "
		    "wanted%s%s", RERUNS_TIMES_MAX, RERUNS_PARALLEL_MAX,
		    body == NULL ? ": " : "", body == NULL ? jerr.text : "");
		json_decref(body);
		return;
	}
	for (it = json_object_iter(body); it != NULL;
	    it = json_object_iter_next(body, it)) {
		key = json_object_iter_key(it);
		if (strcmp(key, "times") != 0 && strcmp(key, "parallel") != 0) {
			api_param_error(res, key, "unknown member `%.64s`: a "
			    "rerun takes times and parallel", key);
			json_decref(body);
			return;
		}
	}
	if (json_object_get(body, "times") == NULL) {
		api_param_error(res, "times", "`times` is required: how often "
		    "to run the plan again");
		json_decref(body);
		return;
	}
	if (rr_member(res, body, "times", 1, RERUNS_TIMES_MAX, 1, &times) ==
	    -1 || rr_member(res, body, "parallel", 1, RERUNS_PARALLEL_MAX, 1,
	    &parallel) == -1) {
		json_decref(body);
		return;
	}
	json_decref(body);
	switch (reruns_start(r->api->reruns, r->id, times, parallel, &id,
	    &cause)) {
	case RERUNS_OK:
		if (asprintf(&res->location, API_PREFIX "/reruns/%" PRId64,
		    id) == -1)
			res->location = NULL;
		free(cause);
		cause = NULL;
		if ((j = store_rerun_get(r->api->store, id, &cause)) == NULL)
			j = json_pack("{sI}", "id", (json_int_t)id);
		api_ok(res, 201, j);
		break;
	case RERUNS_UNKNOWN:
		api_error(res, 404, "not found", "%s", cause);
		break;
	case RERUNS_BAD:
		api_error(res, 400, "bad request", "%s", cause);
		break;
	case RERUNS_STOPPING:
		api_error(res, 503, "stopping", "%s", cause);
		break;
	default:
		api_error(res, 503, "busy", "the rerun cannot start: %s",
		    cause != NULL ? cause : "out of memory");
		break;
	}
	free(cause);
}

void
api_reruns_get(struct api_req *r, struct api_res *res)
{
	json_t	*j;
	char	*cause = NULL;

	j = store_rerun_get(r->api->store, r->id, &cause);
	api_found(r, res, j, cause, "rerun");
}
