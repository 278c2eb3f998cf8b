/* standalone.h: the agent without a daemon: run the verified hammer on a
 * file or device and print one JSON summary. */
#ifndef HOTSOAK_AGENT_STANDALONE_H
#define HOTSOAK_AGENT_STANDALONE_H

#include <stdbool.h>
#include <stdint.h>

#include "io.h"

struct standalone_opts {
	const char	*target;
	uint64_t	 size;
	uint64_t	 seconds;
	uint64_t	 block_size;
	unsigned	 queue_depth;
	unsigned	 workers;	/* 0: per-cpu */
	unsigned	 read_percent;
	bool		 sequential;
	uint64_t	 seed;
	bool		 seed_set;
	uint64_t	 io_timeout_ms;
	bool		 keep;		/* leave the target and its state file */
	const char	*state;		/* NULL: TARGET.hotsoak-state */
	bool		 json;
	bool		 verify_only;
	bool		 verify;	/* stamps on: --no-verify turns them off */
	bool		 direct;
	bool		 fill;		/* write every block before the hammer */
	bool		 final_verify;	/* read every block after it */
	const struct io_engine_ops *engine;
};

/* Runs; returns the exit status: 0 clean, 1 findings, 2 usage or setup. */
int	standalone_run(const struct standalone_opts *);

#endif
