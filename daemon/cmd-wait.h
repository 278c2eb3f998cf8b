/* cmd-wait.h: showing an object of the API (a run, a campaign run, a rerun)
 * at once or once its "status" is "finished", with a live line; ^C stops the waiting. */
#ifndef HOTSOAK_CMD_WAIT_H
#define HOTSOAK_CMD_WAIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cmd-client.h"

#define WAIT_INTERVAL_MS	1000	/* polls this often unless told */
#define WAIT_LINE_MAX		512

/*
 * The progress of obj, not finished yet, into line; *key is what it shows
 * apart from the clock, so off a terminal a line is printed only when that
 * changes. waited_ns counts from the first poll.
 */
typedef void	(*wait_progress_cb)(const json_t *obj, uint64_t waited_ns,
		    char *line, size_t len, char *key, size_t keylen);

/* How a wait ended. */
enum wait_end {
	WAIT_FINISHED,		/* "status" is "finished": the object is in the reply */
	WAIT_INTERRUPTED,	/* ^C: nothing was said, the work goes on */
	WAIT_FAILED		/* a request failed; said on stderr */
};

/*
 * GET path every interval_ms until its "status" is "finished"; progress
 * (NULL: none) draws a live line on a terminal, a line per change
 * elsewhere. The caller clears *r with client_reply_clear in every case.
 */
enum wait_end	wait_finished(struct client *, const char *path,
		    uint64_t interval_ms, wait_progress_cb progress,
		    struct client_reply *r);

/* "[  12.3s]": elapsed_ms, else since started_ns, else waited_ns. */
void	wait_clock(const json_t *obj, uint64_t waited_ns, char *buf,
	    size_t len);

/* What a command follows once it started it, and how it shows it. */
struct wait_follow {
	const char	*collection;	/* the object is at collection/ID */
	const char	*noun;		/* "campaign run": ^C says it goes on */
	const char	*stop;		/* after ^C, how to stop it */
	int		 stop_id;	/* stop is followed by the ID */
	wait_progress_cb progress;
	void		(*print)(struct client *, const json_t *obj);
	int		(*status)(const json_t *obj);	/* NULL: CMD_OK */
};

/*
 * Object id under w->collection followed until it is finished (every
 * f->interval_ms, else WAIT_INTERVAL_MS), then shown: as JSON with
 * --json, else by w->print. Returns w->status of it, else CMD_ERROR
 * having said why (after ^C: that it goes on, and how to stop it).
 */
int	wait_follow(struct client *, const struct wait_follow *w,
	    const char *id, const struct client_flags *f);

/* How object_show shows what it fetched. */
struct object_view {
	void	(*print)(struct client *, const json_t *obj);
	int	(*status)(const json_t *obj);	/* NULL: CMD_OK */
	int	 refused;	/* the status when the server refuses the GET */
};

/*
 * GET path and show it: as JSON with --json, else by v->print. Returns
 * v->status of it; when the GET fails, v->refused for a refusal
 * (CMD_FAILED: the path holds the user's input), else CMD_ERROR, having
 * said why.
 */
int	object_show(struct client *, const char *path,
	    const struct client_flags *f, const struct object_view *v);

#endif
