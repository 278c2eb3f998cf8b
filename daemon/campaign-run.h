/* campaign-run.h: one run of a campaign: its plans' repetitions run at most
 * `parallel` at once, failed attempts retried, every verdict kept. */
#ifndef HOTSOAK_CAMPAIGN_RUN_H
#define HOTSOAK_CAMPAIGN_RUN_H

#include <stdint.h>

struct campaign;
struct event_base;
struct runner;
struct store;
struct crun;

struct crun_config {
	struct event_base	*base;
	struct store		*store;
	const struct runner	*runner;	/* borrowed; outlives the run */
	const char		*base_dir;	/* the folder the plans are named in */
	/*
	 * Called from the loop once the verdict is stored (or could not be):
	 * the owner frees the campaign run from here on.
	 */
	void			(*finished)(void *arg, struct crun *);
	void			*arg;
};

/*
 * Starts a campaign run of c (borrowed; what it needs is copied), from the
 * file source, with its normalized JSON, started by trigger ("schedule" or
 * "request") for scheduled_ns (0: none). The plans' texts are read now, so
 * every attempt runs the same plan. NULL with an allocated *cause; nothing
 * is stored then.
 */
struct crun	*crun_start(const struct crun_config *, const struct campaign *c,
		    const char *source, const char *campaign_json,
		    const char *trigger, uint64_t scheduled_ns, char **cause);
int64_t		 crun_id(const struct crun *);
/* The campaign's name (borrowed from the run). */
const char	*crun_campaign(const struct crun *);
/*
 * Stops it: nothing more starts, runs in flight are aborted, and it is
 * recorded "aborted" with why once they are back (at once when none runs).
 */
void		 crun_abort(struct crun *, const char *why);
/* Frees without recording anything; runs it started are left to the run set. */
void		 crun_free(struct crun *);

#endif
