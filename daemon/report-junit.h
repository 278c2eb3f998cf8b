/* report-junit.h: a run, or a campaign run, as JUnit XML for CI servers
 * (Jenkins, GitLab); pure functions of the store's JSON, no store access. */
#ifndef HOTSOAK_REPORT_JUNIT_H
#define HOTSOAK_REPORT_JUNIT_H

#include <jansson.h>

/* What a report suggests to measure how often a failure comes back. */
#define JUNIT_RERUN_TIMES	10

/*
 * One <testsuite> named after the plan, holding one <testcase> for the
 * run: a <failure> for verdict fail, an <error> for error, aborted and
 * interrupted (each listing every finding), <skipped> while it is queued
 * or running. run is what store_run_get returns; findings the "findings"
 * array of store_findings_list (NULL: none). The host name is the run's
 * "hostname" member when the caller set one, else the one the agent
 * reported ("agent"."hostname"), else "localhost".
 *
 * The same input gives the same bytes. Returns the document, allocated
 * (the caller frees), or NULL with an allocated *cause (the caller frees)
 * when run is not a run object.
 */
char	*junit_run(const json_t *run, const json_t *findings, char **cause);

/*
 * One <testsuite> per plan of a campaign run, named "CAMPAIGN/PLAN", and
 * one <testcase> per attempt, each with its own verdict as junit_run maps
 * it (a flaky repetition shows the attempt that failed and the one that
 * passed); a repetition not started yet is one skipped <testcase>. The
 * suite's <properties> name the campaign, the campaign run, the plan's
 * verdict and its flaky repetitions ("flaky": "2,5", empty when none).
 * crun is a campaign run object as GET /api/v1/campaign-runs/{id} shows
 * it; findings_by_run maps the decimal run id to that run's findings
 * array (a missing key: none; NULL: none at all). The host name is the
 * crun's "hostname" member when the caller set one, else "localhost".
 *
 * Allocation and errors as junit_run.
 */
char	*junit_campaign_run(const json_t *crun, const json_t *findings_by_run,
	    char **cause);

#endif
