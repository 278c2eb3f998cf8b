/* cmd-wait.h: following an object of the API (a campaign run, a rerun)
 * until its "status" is "finished", with a live line; ^C stops the waiting. */
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

/* --interval's argument into *ms; CMD_OK, else CMD_ERROR having said why. */
int	wait_interval(const char *arg, uint64_t *ms);

#endif
