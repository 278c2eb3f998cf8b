/* api-metrics.c: GET /metrics: the run store's counts and the daemon's
 * state for Prometheus, kept until the store writes again. */
#include "config.h"

#include <stdlib.h>

#include <event2/buffer.h>

#include "api-int.h"
#include "metrics.h"
#include "runs.h"
#include "store.h"

/*
 * Rebuilds the text when the store has written since, or the runs in
 * flight changed: a scrape every few seconds of a quiet daemon costs no
 * query. -1 with an allocated *cause.
 */
static int
metrics_refresh(struct api *api, char **cause)
{
	struct store_metrics	*m;
	struct metrics_info	 info;
	uint64_t		 gen = store_generation(api->store);
	unsigned		 active = runs_active(api->runs);
	char			*text;
	size_t			 len;

	if (api->metrics_text != NULL && api->metrics_generation == gen &&
	    api->metrics_active == active)
		return 0;
	if ((m = store_metrics_read(api->store, cause)) == NULL)
		return -1;
	info.version = api->version;
	info.active_runs = active;
	text = metrics_render(m, &info, &len, cause);
	store_metrics_free(m);
	if (text == NULL)
		return -1;
	free(api->metrics_text);
	api->metrics_text = text;
	api->metrics_len = len;
	api->metrics_generation = gen;
	api->metrics_active = active;
	return 0;
}

void
api_metrics_get(struct api_req *r, struct api_res *res)
{
	struct api	*api = r->api;
	struct evbuffer	*buf;
	char		*cause = NULL;

	if (metrics_refresh(api, &cause) == -1) {
		api_error(res, 500, "internal error", "%s", cause != NULL ?
		    cause : "out of memory");
		free(cause);
		return;
	}
	if ((buf = evbuffer_new()) == NULL ||
	    evbuffer_add(buf, api->metrics_text, api->metrics_len) == -1) {
		if (buf != NULL)
			evbuffer_free(buf);
		api_error(res, 500, "internal error", "out of memory");
		return;
	}
	res->status = 200;
	res->data = buf;
	res->ctype = METRICS_CONTENT_TYPE;
}
