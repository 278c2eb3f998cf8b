/* agent-link.h: the daemon's side of the agent protocol for one run: the
 * hello and its token, requests with replies, heartbeats and hang watch. */
#ifndef HOTSOAK_AGENT_LINK_H
#define HOTSOAK_AGENT_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "hotsoak/proto.h"

struct event_base;
struct agent_link;

/* The agent instance an accepted hello named. */
struct agent_hello {
	const char	*agent;		/* "hotsoak-agent 0.1.0" */
	const char	*hostname;
	const char	*boot_id;
	uint64_t	 pid;
	bool		 resumed;	/* the agent says it reconnected */
	uint64_t	 outbox;	/* requests it will resend */
	/* What the daemon makes of it against the previous hello on this link. */
	bool		 same_instance;	/* same boot_id and pid as before */
	bool		 restarted;	/* same boot_id, new pid: the agent lost its state */
	bool		 rebooted;	/* new boot_id: the partition rebooted */
};

/*
 * What the link tells its run; all called on the event base, never from
 * inside an agent_link_* call. Messages are borrowed for the call
 * (json_incref to keep one). Requests from the agent (report, finding,
 * topology) reach `message` at most once per agent instance, already
 * acknowledged; a resent one is answered again and not passed on.
 */
struct agent_link_hooks {
	void	(*hello)(void *arg, const struct agent_hello *);
	void	(*message)(void *arg, enum proto_type, json_t *msg);
	void	(*heartbeat)(void *arg, json_t *msg);
	/*
	 * The channel dropped (EOF, reset, a protocol error that ends it, a
	 * newer connection). Only for a connection whose hello was accepted:
	 * one that never got that far was never up.
	 */
	void	(*down)(void *arg, const char *why);
	/*
	 * No heartbeat for hang_after_ms while the link watched for one;
	 * called once per silence (again only after a heartbeat came back).
	 */
	void	(*hang)(void *arg, uint64_t silent_ms);
	/* A line the daemon refused, or a refused hello: for the timeline. */
	void	(*refused)(void *arg, const char *code, const char *detail);
	void	*arg;
};

struct agent_link_opts {
	const char	*token;		/* the hello must carry exactly this */
	uint64_t	 hang_after_ms;	/* silence that is a hang (0: never) */
};

/*
 * A link that serves one agent connection at a time (a new accepted
 * connection replaces the old one, as a reconnecting agent's would).
 * NULL with an allocated *cause (the caller frees). Free with agent_link_free.
 */
struct agent_link *agent_link_new(struct event_base *,
		    const struct agent_link_opts *, const struct agent_link_hooks *,
		    char **cause);
/*
 * Listen on a unix socket at path (removed first if it is a stale socket)
 * for the agent to dial; -1 with *cause on error. The link removes the
 * socket file when freed.
 */
int	agent_link_listen(struct agent_link *, const char *path, char **cause);
/*
 * Adopt a connected stream socket (a backend that dials, or tests). On
 * success the link owns fd and closes it; on -1 the caller still does.
 */
int	agent_link_adopt(struct agent_link *, int fd, char **cause);

/*
 * The result of a request: error 0 and the reply object, or error -1 with
 * code (a PROTO_E_* from the agent, or "timeout", "link_down",
 * "cancelled") and detail. reply is borrowed for the call.
 */
typedef void (*agent_link_cb)(void *arg, int error, const char *code,
    const char *detail, json_t *reply);

/* The codes of requests the agent never answered. */
#define AGENT_LINK_E_TIMEOUT	"timeout"	/* no answer within timeout_ms */
#define AGENT_LINK_E_LINK_DOWN	"link_down"	/* the connection dropped first */
#define AGENT_LINK_E_CANCELLED	"cancelled"	/* agent_link_free came first */

/*
 * Send a request of type t with members (stolen; NULL for none) and call
 * cb exactly once: reply, error, no answer within timeout_ms (0: none),
 * the link dropping, or agent_link_free. Returns 0, or -1 with *cause
 * when nothing was sent (no agent connected, encoding failed); cb is then
 * not called.
 */
int	agent_link_request(struct agent_link *, enum proto_type t,
	    json_t *members, uint64_t timeout_ms, agent_link_cb cb, void *arg,
	    char **cause);

/* Whether an agent is connected and its hello accepted. */
bool	agent_link_up(const struct agent_link *);

/*
 * Whether missed heartbeats count as a hang. A run turns this off while
 * it holds the partition stopped on purpose (a replace outage) and on
 * again after; turning it on restarts the deadline from now. On by
 * default; the deadline first starts with the first accepted hello, and
 * every accepted hello or heartbeat restarts it.
 */
void	agent_link_watch(struct agent_link *, bool on);

/* What the link has seen, for a run's summary. */
struct agent_link_stats {
	uint64_t	connects;	/* hellos accepted */
	uint64_t	drops;		/* connections lost after a hello */
	uint64_t	heartbeats;
	uint64_t	resent;		/* requests answered again, not applied */
	uint64_t	refused;	/* lines or hellos refused */
	uint64_t	last_heartbeat_ns; /* CLOCK_MONOTONIC, 0: none */
	uint64_t	stray;		/* answers to no request waiting (late, unknown re) */
};
void	agent_link_stats(const struct agent_link *, struct agent_link_stats *);

/* Cancels what is pending (callbacks run), closes, frees; NULL is a no-op. */
void	agent_link_free(struct agent_link *);

#endif
