/* api-plans.c: /api/v1/plans: the plans and campaigns of the plans folder,
 * as of its last load, with the errors of those that do not load. */
#include "config.h"

#include "api-int.h"
#include "plans-dir.h"

void
api_plans_list(struct api_req *r, struct api_res *res)
{
	if (r->api->plans == NULL)
		api_ok(res, 200, json_pack("{s:[]}", "plans"));
	else
		api_ok(res, 200, plans_dir_list(r->api->plans));
}
