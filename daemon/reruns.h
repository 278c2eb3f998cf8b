/* reruns.h: a run's exact plan and seed run again N times, and how often
 * each of its findings comes back (the reproduction rate). */
#ifndef HOTSOAK_RERUNS_H
#define HOTSOAK_RERUNS_H

#include <stdint.h>

struct event_base;
struct runner;
struct store;
struct reruns;

#define RERUNS_TIMES_MAX	100	/* runs one rerun may make */
#define RERUNS_PARALLEL_MAX	16

/* base_dir: the plans folder, for plans that name files (NULL: none). */
struct reruns	*reruns_new(struct event_base *, struct store *,
		    const struct runner *, const char *base_dir, char **cause);

/* Why reruns_start refused. */
enum reruns_refusal {
	RERUNS_OK,
	RERUNS_UNKNOWN,		/* no such run */
	RERUNS_BAD,		/* times or parallel out of range, or its plan no longer loads */
	RERUNS_STOPPING,	/* hotsoakd is stopping */
	RERUNS_FAILED		/* the store, memory, or the run set */
};

/*
 * Re-runs run's plan text with its seed times times, parallel at once.
 * *id gets the rerun. Returns an enum reruns_refusal with an allocated
 * *cause for any refusal.
 */
int	reruns_start(struct reruns *, int64_t run, unsigned times,
	    unsigned parallel, int64_t *id, char **cause);

/* Reruns in flight. */
unsigned reruns_active(const struct reruns *);

/* Nothing more starts; reruns in flight are recorded as their runs end. */
void	reruns_shutdown(struct reruns *);

/* Frees; reruns in flight are dropped (the store marks them at the next start). */
void	reruns_free(struct reruns *);

#endif
