/* agent.h: linked mode: the agent driven by hotsoakd over a channel, one
 * poll loop over the channel, the engine's events, uevents and the kernel log. */
#ifndef HOTSOAK_AGENT_AGENT_H
#define HOTSOAK_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "io.h"

/* What main (or a test) sets; strings are copied by agent_new. */
struct agent_opts {
	const char	*channel;	/* unix:PATH, tcp:HOST:PORT, virtio:NAME, dev:PATH */
	const char	*root;		/* sysfs, /proc and /dev prefix; NULL: "/" */
	const char	*token;		/* the hello's token; NULL: "" */
	const char	*kmsg;		/* kernel log to watch; NULL: none */
	/*
	 * Uevents: TOPO_WATCH_NETLINK (the kernel's), TOPO_WATCH_POLL, or a
	 * datagram socket carrying kernel-format uevents (tests), which the
	 * agent owns from agent_new on.
	 */
	int		 uevent_fd;
	/* Tests: an I/O engine for every run (NULL: the configured one). */
	const struct io_engine_ops *engine;
	uint64_t	 memx_max;	/* bytes a hot-add exercise maps at most; 0: 256 MiB */
	unsigned	 backoff_min_ms; /* 0: LINK_BACKOFF_MIN_MS */
	unsigned	 backoff_max_ms; /* 0: LINK_BACKOFF_MAX_MS */
};

struct agent;

/*
 * Sets up the agent: parses the channel, opens the kernel log (a failure
 * is a warning) and the topology watch. Connects from agent_run on. NULL
 * with an allocated *cause (the caller frees) on a setup error.
 */
struct agent	*agent_new(const struct agent_opts *, char **cause);
/* Stops what still runs and frees; NULL is a no-op. */
void		 agent_free(struct agent *);

/*
 * The loop: runs until agent_request_stop, then stops the workload,
 * flushes what it can for up to a second and returns 0.
 */
int		 agent_run(struct agent *);

/* Async-signal-safe: asks agent_run to finish. */
void		 agent_request_stop(struct agent *);

#endif
