/* fake-runs.c: runs.h without a run engine, for check-api: a run is put in
 * the real store as running, and an abort finishes it "aborted" at once. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "runs.h"
#include "store.h"

#define FAKE_MAX	1024

struct runs {
	struct store	*store;
	unsigned	 max_active;
	int64_t		 ids[FAKE_MAX];	/* in flight */
	unsigned	 n;
	bool		 closing;
};

struct runs *
runs_new(struct event_base *base, struct store *store,
    const struct runs_config *config, char **cause)
{
	struct runs	*rs;

	if ((rs = calloc(1, sizeof *rs)) == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	rs->store = store;
	rs->max_active = config->max_active != 0 ? config->max_active : 256;
	if (rs->max_active > FAKE_MAX)
		rs->max_active = FAKE_MAX;
	return rs;
}

int
runs_submit(struct runs *rs, struct plan_file *pf, const char *text,
    int64_t *id, char **cause)
{
	struct store_run_new	 n;
	const struct plan	*p;
	char			*json = NULL;
	int			 rc = -1;

	if (pf == NULL || pf->kind != PLAN_FILE_PLAN || pf->plan == NULL) {
		cause_set(cause, "not a test plan");
		goto out;
	}
	if (rs->closing) {
		cause_set(cause, "hotsoakd is stopping");
		goto out;
	}
	if (rs->n >= rs->max_active) {
		cause_set(cause, "%u runs are in flight, the most this hotsoakd "
		    "takes", rs->n);
		goto out;
	}
	p = pf->plan;
	memset(&n, 0, sizeof n);
	n.plan = p->name;
	n.source = p->source != NULL ? p->source : "(request)";
	n.plan_text = text;
	n.plan_json = json = plan_file_to_json(pf);
	n.seed = p->seed_random ? splitmix64(clock_wall_ns()) >> 1 : p->seed;
	n.backend = plan_backend_names[p->target.backend];
	n.created_ns = clock_wall_ns();
	if (store_run_create(rs->store, &n, id, cause) == -1 ||
	    store_run_started(rs->store, *id, clock_wall_ns(), cause) == -1)
		goto out;
	rs->ids[rs->n++] = *id;
	rc = 0;
out:
	free(json);
	plan_file_free(pf);
	return rc;
}

int
runs_abort(struct runs *rs, int64_t id)
{
	unsigned	 i;
	bool		 already = false;
	char		*cause = NULL;

	for (i = 0; i < rs->n && rs->ids[i] != id; i++)
		;
	if (i == rs->n)
		return 1;
	rs->ids[i] = rs->ids[--rs->n];
	/* A run the test finished in the store meanwhile is no longer in flight. */
	if (store_run_finish(rs->store, id, "aborted", "aborted by request",
	    clock_wall_ns(), NULL, &already, &cause) == -1) {
		fprintf(stderr, "fake runs: %s\n", cause);
		free(cause);
		return 1;
	}
	return already ? 1 : 0;
}

unsigned
runs_active(const struct runs *rs)
{
	return rs->n;
}

void
runs_shutdown(struct runs *rs, void (*done)(void *), void *arg)
{
	rs->closing = true;
	while (rs->n > 0)
		runs_abort(rs, rs->ids[rs->n - 1]);
	done(arg);
}

void
runs_free(struct runs *rs)
{
	free(rs);
}
