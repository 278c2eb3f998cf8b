/* fake-runner.h: what the test runners of campaigns and reruns share: a
 * submitted run recorded in the store as started, as the run set would. */
#ifndef HOTSOAK_TESTS_FAKE_RUNNER_H
#define HOTSOAK_TESTS_FAKE_RUNNER_H

#include <stdint.h>

#include "hotsoak/plan.h"
#include "runs.h"
#include "store.h"

/*
 * A run of pf (taken: freed in every case) and its text in st, started
 * now, with what o says of its campaign, repetition, attempt, rerun and
 * seed; source is where its plan came from (NULL: where pf says, else
 * "(request)"). 0 with
 * its *id, else -1 with an allocated *cause (the caller frees).
 */
int	fake_runner_record(struct store *st, struct plan_file *pf,
	    const char *source, const char *text,
	    const struct runs_submit_opts *o, int64_t *id, char **cause);

#endif
