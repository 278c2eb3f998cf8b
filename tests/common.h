/* common.h: helpers the Check programs share: loading plans from strings
 * and files, and asserting on the errors a load reports. */
#ifndef HOTSOAK_TESTS_COMMON_H
#define HOTSOAK_TESTS_COMMON_H

#include <check.h>
#include <stddef.h>

#include "hotsoak/plan.h"

struct store;

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

/*
 * The folder a program's tests work in, $TMPDIR/<program>.XXXXXX: made
 * and removed, with all it holds, by an unchecked fixture
 * (tcase_add_unchecked_fixture(tc, test_base_make, test_base_remove)).
 */
extern char	 test_base[1024];
void		 test_base_make(void);
void		 test_base_remove(void);
/* A fresh folder under test_base for one test. Static buffer. */
const char	*test_dir(void);

/* The store in dir, opened; the test fails when it cannot be. */
struct store	*test_store_open(const char *dir);

/* The file at path, whole and NUL-terminated (*len bytes before it, unless
 * len is NULL); the test fails when it cannot be read. Caller frees. */
char		*test_read_file(const char *path, size_t *len);

/*
 * Runs argv (execvp) with stdin from the file in (NULL: ours) and its
 * stdout, with its stderr too when both, into *out (allocated; the
 * caller frees) unless out is NULL. Returns its exit status, -1 when it
 * was killed, 127 when it could not be run.
 */
int		 test_spawn(const char *const argv[], const char *in, int both,
		    char **out);

/* Runs a suite and returns the process exit status. */
int		 test_run(Suite *);

#endif
