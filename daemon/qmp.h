/* qmp.h: the daemon's QMP client: one connection to a QEMU monitor, its
 * greeting and capabilities negotiation, commands with ids and replies
 * matched to them, asynchronous events and time-outs, on bufferevents. */
#ifndef HOTSOAK_QMP_H
#define HOTSOAK_QMP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct event_base;
struct qmp;

/* One QMP message may be at most this long; a longer one ends the link. */
#define QMP_MAX_MESSAGE		(1024 * 1024)

/* Error classes of commands QEMU never answered (QEMU's own are its class). */
#define QMP_E_TIMEOUT		"timeout"	/* no answer within timeout_ms */
#define QMP_E_DOWN		"down"		/* the connection ended first */
#define QMP_E_CANCELLED		"cancelled"	/* qmp_free came first */

/*
 * What the client tells its owner; all called on the event base, never
 * from inside a qmp_* call.
 */
struct qmp_hooks {
	/* Greeting read and qmp_capabilities accepted: commands may be sent. */
	void	(*ready)(void *arg, json_t *greeting);
	/*
	 * An asynchronous event: name ("GUEST_PANICKED"), data (borrowed, may
	 * be NULL), and QEMU's timestamp in CLOCK_REALTIME nanoseconds (0 when
	 * the event carried none).
	 */
	void	(*event)(void *arg, const char *name, json_t *data,
		    uint64_t time_ns);
	/*
	 * The connection is over: EOF, an error, or a protocol violation (a
	 * malformed, truncated or oversized message, a reply to no command, a
	 * bad greeting). why is for people. Called once; every pending
	 * command's callback has already run with QMP_E_DOWN.
	 */
	void	(*down)(void *arg, const char *why);
	void	*arg;
};

/*
 * The result of a command: error 0 and the "return" value (borrowed for
 * the call), or error -1 with class (QEMU's error class such as
 * "GenericError", or a QMP_E_*) and desc for people.
 */
typedef void (*qmp_cb)(void *arg, int error, const char *class,
    const char *desc, json_t *ret);

/*
 * A client over the connected stream socket fd, which it owns from here
 * on (and closes when freed, even on failure). It reads the greeting,
 * sends qmp_capabilities, then calls ready. NULL with an allocated *cause
 * (the caller frees) on error. Free with qmp_free.
 */
struct qmp	*qmp_new(struct event_base *, int fd, const struct qmp_hooks *,
		    char **cause);

/*
 * Connect to "unix:PATH" or a plain PATH, nonblocking; on success the
 * returned descriptor is connected (unix sockets connect at once or
 * fail). -1 with an allocated *cause.
 */
int		 qmp_connect_unix(const char *path, char **cause);

/*
 * Send command with arguments (stolen; NULL for none) and call cb exactly
 * once: QEMU's answer, no answer within timeout_ms (0: none), the
 * connection ending, or qmp_free. Returns 0, or -1 with *cause when
 * nothing was sent (not ready, down, encoding failed); cb is then not
 * called. Commands may be sent before ready; they are queued until then.
 */
int		 qmp_command(struct qmp *, const char *command, json_t *arguments,
		    uint64_t timeout_ms, qmp_cb cb, void *arg, char **cause);

/* Whether the greeting and capabilities are done and the link is up. */
bool		 qmp_ready(const struct qmp *);

/* The greeting's QEMU version, "7.2.0" (NULL before the greeting). */
const char	*qmp_version(const struct qmp *);

/* What the client has seen, for a run's summary. */
struct qmp_stats {
	uint64_t	commands;	/* sent to QEMU (qmp_capabilities aside) */
	uint64_t	answered;	/* returns and errors matched to a command */
	uint64_t	timeouts;	/* commands failed with QMP_E_TIMEOUT */
	uint64_t	late;		/* answers after their command timed out, ignored */
	uint64_t	events;
};
void		 qmp_stats(const struct qmp *, struct qmp_stats *);

/* Cancels what is pending (callbacks run with QMP_E_CANCELLED), closes, frees. */
void		 qmp_free(struct qmp *);

/*
 * The reader on its own, for tests and the fuzzer: feeds len bytes as if
 * read from QEMU to a client without a socket; len 0 is QEMU hanging up.
 * Returns 0, or -1 once the input was refused (then *cause says why; the
 * client is down). With no event base, hooks and callbacks run inside
 * qmp_feed (never inside qmp_command); commands are accepted and written
 * nowhere, and their timeout_ms is ignored.
 */
struct qmp	*qmp_new_detached(const struct qmp_hooks *);
int		 qmp_feed(struct qmp *, const void *buf, size_t len, char **cause);

#endif
