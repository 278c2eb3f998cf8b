/* fake-runner.c: a submitted run put in the store as started, for the
 * runners check-api and check-campaign script in place of the run set. */
#include "config.h"

#include <string.h>

#include "hotsoak/util.h"
#include "fake-runner.h"

int
fake_runner_record(struct store *st, struct plan_file *pf, const char *source,
    const char *text, const struct runs_submit_opts *o, int64_t *id,
    char **cause)
{
	struct store_run_new	n;
	int			rc = -1;

	memset(&n, 0, sizeof n);
	n.plan = pf->plan->name;
	if ((n.source = source) == NULL)
		n.source = pf->plan->source != NULL ? pf->plan->source :
		    "(request)";
	n.plan_text = text;
	n.seed = o->has_seed ? o->seed : pf->plan->seed;
	n.backend = "local";
	n.created_ns = clock_wall_ns();
	n.campaign_run = o->campaign_run;
	n.plan_index = o->plan_index;
	n.repetition = o->repetition;
	n.attempt = o->attempt;
	n.rerun = o->rerun;
	if (store_run_create(st, &n, id, cause) == 0 &&
	    store_run_started(st, *id, clock_wall_ns(), cause) == 0)
		rc = 0;
	plan_file_free(pf);
	return rc;
}
