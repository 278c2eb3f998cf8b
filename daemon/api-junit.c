/* api-junit.c: .../junit.xml: a run, or a campaign run with one testcase
 * per attempt, as JUnit XML for CI servers (Jenkins, GitLab). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "api-int.h"
#include "report-junit.h"
#include "store.h"

/* Every finding of run id as one array (the store pages them); NULL on error. */
static json_t *
junit_findings(struct store *st, int64_t id, char **cause)
{
	json_t	*all, *page, *list, *f;
	int64_t	 after = 0;
	size_t	 i;

	all = json_array();
	for (;;) {
		page = store_findings_list(st, id, after, STORE_PAGE_MAX, cause);
		if (page == NULL) {
			json_decref(all);
			return NULL;
		}
		list = json_object_get(page, "findings");
		json_array_foreach(list, i, f) {
			json_array_append(all, f);
			after = json_integer_value(json_object_get(f, "id"));
		}
		i = json_array_size(list);
		json_decref(page);
		if (i < STORE_PAGE_MAX)
			return all;
	}
}

/* Sends xml (stolen) as the reply, or a 500 naming why it is missing. */
static void
junit_send(struct api_res *res, char *xml, char *cause)
{
	if (xml == NULL) {
		api_error(res, 500, "internal error", "JUnit report: %s",
		    cause != NULL ? cause : "out of memory");
		free(cause);
		return;
	}
	if ((res->data = evbuffer_new()) == NULL ||
	    evbuffer_add(res->data, xml, strlen(xml)) == -1) {
		api_error(res, 500, "internal error", "out of memory");
		free(xml);
		return;
	}
	free(xml);
	res->status = 200;
	res->ctype = "application/xml; charset=utf-8";
}

void
api_runs_junit(struct api_req *r, struct api_res *res)
{
	json_t	*run, *findings;
	char	*cause = NULL, *xml;

	if ((run = store_run_get(r->api->store, r->id, &cause)) == NULL) {
		api_missing(r, res, cause, "run");
		return;
	}
	if ((findings = junit_findings(r->api->store, r->id, &cause)) == NULL) {
		json_decref(run);
		junit_send(res, NULL, cause);
		return;
	}
	xml = junit_run(run, findings, &cause);
	json_decref(run);
	json_decref(findings);
	junit_send(res, xml, cause);
}

void
api_cruns_junit(struct api_req *r, struct api_res *res)
{
	json_t		*crun, *by_run, *p, *rep, *att, *f;
	char		*cause = NULL, *xml, key[32];
	size_t		 i, j, k;
	int64_t		 id;

	if ((crun = store_campaign_run_get(r->api->store, r->id, &cause)) ==
	    NULL) {
		api_missing(r, res, cause, "campaign run");
		return;
	}
	by_run = json_object();
	json_array_foreach(json_object_get(crun, "plans"), i, p) {
		json_array_foreach(json_object_get(p, "repetitions"), j, rep) {
			json_array_foreach(json_object_get(rep, "attempts"), k,
			    att) {
				id = json_integer_value(json_object_get(att,
				    "run"));
				if ((f = junit_findings(r->api->store, id,
				    &cause)) == NULL) {
					json_decref(by_run);
					json_decref(crun);
					junit_send(res, NULL, cause);
					return;
				}
				snprintf(key, sizeof key, "%" PRId64, id);
				json_object_set_new(by_run, key, f);
			}
		}
	}
	xml = junit_campaign_run(crun, by_run, &cause);
	json_decref(crun);
	json_decref(by_run);
	junit_send(res, xml, cause);
}
