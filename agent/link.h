/* link.h: the agent's side of the wire: the connection state machine
 * (connect, hello, up, backoff), line framing, and the outbox that keeps
 * every agent request until the daemon answers it. */
#ifndef HOTSOAK_AGENT_LINK_H
#define HOTSOAK_AGENT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hotsoak/proto.h"
#include "channel.h"

#define LINK_BACKOFF_MIN_MS	100	/* first retry; again after a good hello */
#define LINK_BACKOFF_MAX_MS	5000	/* retries double up to this */
#define LINK_CONNECT_TIMEOUT_MS	5000	/* a TCP connect still pending is a failure */
#define LINK_HELLO_TIMEOUT_MS	10000	/* a hello unanswered this long: hang up */

/*
 * The outbox bound. Past it the oldest reports go first; findings and
 * topology messages are never evicted, and are refused (and counted) only
 * past OUTBOX_HARD_FACTOR times the bound.
 */
#define OUTBOX_MAX_MSGS		4096
#define OUTBOX_MAX_BYTES	(8U << 20)
#define OUTBOX_HARD_FACTOR	4

struct outbox_msg {
	uint64_t	 id;
	enum proto_type	 type;
	char		*line;		/* '\n'-terminated, owned by the outbox */
	size_t		 len;
};

struct outbox;

struct outbox_stats {
	size_t		count;		/* messages queued */
	size_t		bytes;		/* their lines' bytes */
	uint64_t	dropped_reports; /* reports evicted or refused for room */
	uint64_t	dropped_other;	/* findings, topology refused past the hard bound */
};

/* An empty outbox of the given bound (0: the defaults above); NULL on ENOMEM. */
struct outbox	*outbox_new(size_t max_msgs, size_t max_bytes);
void		 outbox_free(struct outbox *);
/*
 * Queues line (stolen) as request id of type t, after everything queued.
 * -1 when it was refused (a report with no room, or anything past the hard
 * bound); the line is then freed and the refusal counted.
 */
int		 outbox_push(struct outbox *, uint64_t id, enum proto_type t,
		    char *line, size_t len);
/* Removes request id, answered; its type into *t (may be NULL). -1 if not queued. */
int		 outbox_ack(struct outbox *, uint64_t id, enum proto_type *t);
/* The oldest message not yet sent on this connection (now marked sent), or NULL. */
const struct outbox_msg *outbox_next_unsent(struct outbox *);
/* A new connection: every queued message is unsent again, in order. */
void		 outbox_rewind(struct outbox *);
size_t		 outbox_count(const struct outbox *);
/* Message i from the oldest, or NULL. */
const struct outbox_msg *outbox_at(const struct outbox *, size_t i);
void		 outbox_get_stats(const struct outbox *, struct outbox_stats *);

/* Connection states, one machine per link. */
enum link_state {
	LINK_DOWN,		/* no channel: waiting for the backoff to pass */
	LINK_CONNECTING,	/* a TCP connect in progress */
	LINK_HELLO,		/* connected, hello sent: nothing else until it is accepted */
	LINK_UP			/* hello accepted: requests, answers, heartbeats flow */
};

/* Who the agent is, for every hello. Copied by link_new. */
struct link_identity {
	const char	*token;
	const char	*agent;		/* "hotsoak-agent VERSION" */
	const char	*hostname;
	const char	*boot_id;
	uint64_t	 pid;
};

/* A request from the daemon: answer it on the connection it came on. */
struct link_req {
	uint64_t	 id;
	uint64_t	 conn;		/* the connection's number */
	enum proto_type	 type;
};

struct link_cb {
	/* A request from the daemon, after the hello; answer with link_reply or link_error, now or later. */
	void	(*on_request)(void *arg, const struct link_req *,
		    const struct proto_msg *);
	/* The daemon accepted a hello (resumed: not the first connection). */
	void	(*on_up)(void *arg, bool resumed);
};

struct link_stats {
	uint64_t	connections;	/* channels opened */
	uint64_t	hellos_refused;	/* error answers to a hello */
	uint64_t	lines_refused;	/* bad lines from the daemon (the reader's verdicts) */
	uint64_t	answers_unknown; /* answers to nothing queued (already dropped) */
	uint64_t	requests_early;	/* requests before the hello was accepted: ignored */
	uint64_t	answers_lost;	/* answers whose connection was gone */
	struct outbox_stats outbox;
	struct proto_stats proto;
};

struct link;

/*
 * A link over ch (owned from here on, even on error). Nothing happens
 * before link_tick. backoff_min_ms/backoff_max_ms 0: the defaults. NULL
 * with an allocated *cause on ENOMEM.
 */
struct link	*link_new(struct channel *ch, const struct link_identity *,
		    const struct link_cb *, void *arg, unsigned backoff_min_ms,
		    unsigned backoff_max_ms, char **cause);
void		 link_free(struct link *);

enum link_state	 link_state(const struct link *);
/* The channel spec, for logs. */
const char	*link_channel(const struct link *);
/* The descriptor to poll and its events (POLLIN, POLLOUT), or -1. */
int		 link_fd(const struct link *, short *events);
/* After poll: connect, read and dispatch, write. */
void		 link_handle(struct link *, short revents, uint64_t now_ns);
/* Timers: a retry that is due, a connect or hello that took too long. */
void		 link_tick(struct link *, uint64_t now_ns);
/* Milliseconds until link_tick has something to do, or -1. */
int		 link_timeout_ms(const struct link *, uint64_t now_ns);
/* Send what the outbox and the answers hold, as far as the channel takes it. */
void		 link_flush(struct link *, uint64_t now_ns);
/* At exit: flush for up to timeout_ms; whether everything went out. */
bool		 link_drain(struct link *, unsigned timeout_ms);

/*
 * Queue a request of the agent's (report, finding, topology), fields
 * stolen: its id, or 0 when it could not be queued (logged and counted).
 */
uint64_t	 link_request(struct link *, enum proto_type, json_t *fields);
/* A notification (heartbeat), fields stolen: sent only while up, never queued; -1 if dropped. */
int		 link_notify(struct link *, enum proto_type, json_t *fields);
/* The one answer to req, fields stolen. -1 when req's connection is gone. */
int		 link_reply(struct link *, const struct link_req *, json_t *fields);
int		 link_error(struct link *, const struct link_req *,
		    const char *code, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
/* Answers sent on every connection so far (replies and errors). */
uint64_t	 link_answers(const struct link *);
void		 link_get_stats(const struct link *, struct link_stats *);

#endif
