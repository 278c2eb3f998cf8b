/* api-campaigns.c: /api/v1/campaigns and /api/v1/campaign-runs: the
 * campaigns of the plans folder, starting and aborting them, and their
 * runs with every plan's repetitions and attempts. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "api-int.h"
#include "campaigns.h"
#include "store.h"

const char *const api_cruns_list_params[] = {
	"campaign", "limit", "before", NULL
};

/* 503 when this hotsoakd runs no campaigns (no plans folder). */
static bool
cr_none(struct api_req *r, struct api_res *res)
{
	if (r->api->campaigns != NULL)
		return false;
	api_error(res, 503, "unavailable", "this hotsoakd has no campaigns");
	return true;
}

void
api_campaigns_list(struct api_req *r, struct api_res *res)
{
	json_t	*list;
	char	*cause = NULL;

	if (r->api->campaigns == NULL) {
		api_ok(res, 200, json_pack("{s[]}", "campaigns"));
		return;
	}
	if ((list = campaigns_list(r->api->campaigns, &cause)) == NULL) {
		api_error(res, 500, "internal error", "%s", cause != NULL ?
		    cause : "out of memory");
		free(cause);
		return;
	}
	api_ok(res, 200, json_pack("{so}", "campaigns", list));
}

void
api_campaigns_get(struct api_req *r, struct api_res *res)
{
	json_t	*c;
	char	*cause = NULL;

	if (cr_none(r, res))
		return;
	if ((c = campaigns_get(r->api->campaigns, r->name, &cause)) != NULL)
		api_ok(res, 200, c);
	else if (cause != NULL)
		api_error(res, 500, "internal error", "%s", cause);
	else
		api_error(res, 404, "not found", "no campaign named `%s` in the "
		    "plans folder", r->name);
	free(cause);
}

/* 201/202 with the campaign run id and where it is. */
static void
cr_reply(struct api_req *r, struct api_res *res, int status, int64_t id)
{
	json_t	*j;
	char	*cause = NULL;

	if (asprintf(&res->location, API_PREFIX "/campaign-runs/%" PRId64,
	    id) == -1)
		res->location = NULL;
	if ((j = store_campaign_run_get(r->api->store, id, &cause)) == NULL)
		j = json_pack("{sI}", "id", (json_int_t)id);
	free(cause);
	api_ok(res, status, j);
}

void
api_campaigns_start(struct api_req *r, struct api_res *res)
{
	struct plan_diags	 d;
	char			*cause = NULL;
	int64_t			 id = 0, running = 0;

	if (cr_none(r, res))
		return;
	plan_diags_init(&d);
	switch (campaigns_start(r->api->campaigns, r->name, "request", &id,
	    &running, &d, &cause)) {
	case CAMPAIGNS_OK:
		cr_reply(r, res, 201, id);
		break;
	case CAMPAIGNS_UNKNOWN:
		api_error(res, 404, "not found", "%s", cause);
		break;
	case CAMPAIGNS_INVALID:
		api_plan_invalid(res, &d);
		break;
	case CAMPAIGNS_BUSY:
		api_error(res, 409, "already running", "%s", cause);
		if (res->body != NULL)
			json_object_set_new(res->body, "campaign_run",
			    json_integer(running));
		break;
	case CAMPAIGNS_STOPPING:
		api_error(res, 503, "stopping", "%s", cause);
		break;
	default:
		api_error(res, 500, "internal error", "%s", cause != NULL ?
		    cause : "out of memory");
		break;
	}
	free(cause);
	plan_diags_free(&d);
}

void
api_campaigns_abort(struct api_req *r, struct api_res *res)
{
	json_t	*c;
	char	*cause = NULL;
	int64_t	 id = 0;

	if (cr_none(r, res))
		return;
	if (campaigns_abort(r->api->campaigns, r->name, &id) == 0) {
		cr_reply(r, res, 202, id);
		return;
	}
	/* Nothing in flight: a campaign that idles, or none of that name. */
	if ((c = campaigns_get(r->api->campaigns, r->name, &cause)) != NULL)
		api_error(res, 409, "not running", "campaign `%s` has no run in "
		    "flight", r->name);
	else if (cause != NULL)
		api_error(res, 500, "internal error", "%s", cause);
	else
		api_error(res, 404, "not found", "no campaign named `%s` in the "
		    "plans folder", r->name);
	json_decref(c);
	free(cause);
}

void
api_cruns_list(struct api_req *r, struct api_res *res)
{
	struct store_crun_filter f;
	char			*cause = NULL;
	json_t			*list;

	memset(&f, 0, sizeof f);
	f.campaign = api_param(r, "campaign");
	if (api_page_params(r, res, &f.limit, &f.before, "campaign run") == -1)
		return;
	if ((list = store_campaign_runs_list(r->api->store, &f, &cause)) ==
	    NULL) {
		api_error(res, 500, "internal error", "the run store: %s",
		    cause != NULL ? cause : "out of memory");
		free(cause);
		return;
	}
	api_ok(res, 200, list);
}

void
api_cruns_get(struct api_req *r, struct api_res *res)
{
	json_t	*j;
	char	*cause = NULL;

	j = store_campaign_run_get(r->api->store, r->id, &cause);
	api_found(r, res, j, cause, "campaign run");
}

void
api_cruns_abort(struct api_req *r, struct api_res *res)
{
	json_t	*j;
	char	*cause = NULL;
	int64_t	 id = r->id;

	if (r->api->campaigns != NULL &&
	    campaigns_abort(r->api->campaigns, NULL, &id) == 0) {
		cr_reply(r, res, 202, id);
		return;
	}
	if ((j = store_campaign_run_get(r->api->store, r->id, &cause)) != NULL) {
		json_decref(j);
		api_error(res, 409, "not running", "campaign run %" PRId64
		    " is not in flight", r->id);
	} else if (cause != NULL)
		api_error(res, 500, "internal error", "the run store: %s", cause);
	else
		api_error(res, 404, "not found", "no campaign run %" PRId64,
		    r->id);
	free(cause);
}
