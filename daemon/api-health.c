/* api-health.c: /healthz: that the daemon answers, its version, how many
 * runs it has in flight and how long it has been up. */
#include "config.h"

#include "hotsoak/util.h"
#include "api-int.h"
#include "runs.h"

void
api_health_get(struct api_req *r, struct api_res *res)
{
	struct api	*api = r->api;
	uint64_t	 up = (clock_mono_ns() - api->started_ns) / 1000000000ULL;

	api_ok(res, 200, json_pack("{s:s, s:s, s:I, s:I}", "status", "ok",
	    "version", api->version, "active_runs",
	    (json_int_t)runs_active(api->runs), "uptime_s", (json_int_t)up));
}
