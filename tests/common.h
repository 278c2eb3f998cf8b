/* common.h: helpers the Check programs share: loading plans from strings
 * and files, and asserting on the errors a load reports. */
#ifndef HOTSOAK_TESTS_COMMON_H
#define HOTSOAK_TESTS_COMMON_H

#include <check.h>

#include "hotsoak/plan.h"

/* Path of a file under the source tree ($top_srcdir or the cwd). Static buffer. */
const char	*test_srcpath(const char *rel);

/*
 * Loads text as plan file `t.yaml`. Returns the plan file (caller frees)
 * or NULL; the errors go to d, which the caller inits and frees.
 */
struct plan_file *test_load(const char *text, struct plan_diags *d);

/* The normalized JSON of a valid text plan; the test fails when it is invalid. Caller frees. */
char		*test_json(const char *text);

/* Asserts that loading text fails with an error at line:col whose message contains needle. */
#define ck_plan_error(text, line, col, needle) \
	test_expect_error(__FILE__, __LINE__, (text), (line), (col), (needle))
void		 test_expect_error(const char *, int, const char *, unsigned,
		    unsigned, const char *);

/* Runs a suite and returns the process exit status. */
int		 test_run(Suite *);

#endif
