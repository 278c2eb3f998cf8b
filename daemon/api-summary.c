/* api-summary.c: GET /api/v1/summary, the morning report: pass, fail,
 * error and flaky counts per plan and per finding kind over a window. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "hotsoak/units.h"
#include "hotsoak/util.h"
#include "api-int.h"
#include "store.h"

#define SUMMARY_DEFAULT_MS	(24ULL * 3600 * 1000)
#define NS_PER_MS		1000000ULL

const char *const api_summary_params[] = { "since", "until", NULL };

/*
 * A time as the report takes it: RFC 3339, unix seconds, or a duration
 * before now ("24h", "7d", "1h30m"). -1 when it is none of them.
 */
static int
summary_when(const char *s, uint64_t now, uint64_t *ns)
{
	uint64_t	ms;
	char		*cause = NULL;
	size_t		 at;

	if (store_time_parse(s, ns) == 0)
		return 0;
	if (units_parse_duration(s, &ms, &cause, &at) == -1) {
		free(cause);
		return -1;
	}
	if (ms > now / NS_PER_MS)
		return -1;
	*ns = now - ms * NS_PER_MS;
	return 0;
}

void
api_summary_get(struct api_req *r, struct api_res *res)
{
	uint64_t	 now = clock_wall_ns(), since, until = now;
	const char	*v;
	char		*cause = NULL;
	json_t		*j;

	since = now - SUMMARY_DEFAULT_MS * NS_PER_MS;
	if ((v = api_param(r, "since")) != NULL &&
	    summary_when(v, now, &since) == -1) {
		api_param_error(res, "since", "`since` is an RFC 3339 time, unix "
		    "seconds, or a duration before now such as 24h or 7d; not "
		    "`%.64s`", v);
		return;
	}
	if ((v = api_param(r, "until")) != NULL &&
	    summary_when(v, now, &until) == -1) {
		api_param_error(res, "until", "`until` is an RFC 3339 time, unix "
		    "seconds, or a duration before now; not `%.64s`", v);
		return;
	}
	if (until <= since) {
		api_param_error(res, "until", "the window is empty: `until` must "
		    "come after `since`");
		return;
	}
	if ((j = store_summary(r->api->store, since, until, &cause)) == NULL) {
		api_error(res, 500, "internal error", "the run store: %s",
		    cause != NULL ? cause : "out of memory");
		free(cause);
		return;
	}
	api_ok(res, 200, j);
}
