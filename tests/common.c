/* common.c: shared helpers of the Check programs (see common.h). */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "store.h"

char	test_base[1024];

const char *
test_srcpath(const char *rel)
{
	static char	 buf[4096];
	const char	*top = getenv("top_srcdir");

	snprintf(buf, sizeof buf, "%s/%s", top ? top : ".", rel);
	return buf;
}

struct plan_file *
test_load(const char *text, struct plan_diags *d)
{
	return plan_file_load_buffer("t.yaml", text, strlen(text), NULL, d);
}

char *
test_json(const char *text)
{
	struct plan_diags	 d;
	struct plan_file	*pf;
	char			*json;

	plan_diags_init(&d);
	pf = test_load(text, &d);
	if (pf == NULL) {
		plan_diags_print(&d, stderr);
		ck_abort_msg("plan rejected: %s", d.n ? d.v[0].message : "?");
	}
	json = plan_file_to_json(pf);
	ck_assert_ptr_nonnull(json);
	plan_file_free(pf);
	plan_diags_free(&d);
	return json;
}

void
test_expect_error(const char *file, int line, const char *text, unsigned eline,
    unsigned ecol, const char *needle)
{
	struct plan_diags	 d;
	struct plan_file	*pf;
	size_t			 i;
	int			 found = 0;

	plan_diags_init(&d);
	pf = test_load(text, &d);
	if (pf != NULL) {
		plan_file_free(pf);
		ck_abort_msg("%s:%d: plan accepted, expected `%s`", file, line,
		    needle);
	}
	for (i = 0; i < d.n; i++)
		if (d.v[i].mark.line == eline && d.v[i].mark.column == ecol &&
		    strstr(d.v[i].message, needle) != NULL)
			found = 1;
	if (!found) {
		plan_diags_print(&d, stderr);
		ck_abort_msg("%s:%d: no error `%s` at %u:%u (got %zu errors, "
		    "first %u:%u %s)", file, line, needle, eline, ecol, d.n,
		    d.n ? d.v[0].mark.line : 0, d.n ? d.v[0].mark.column : 0,
		    d.n ? d.v[0].message : "");
	}
	plan_diags_free(&d);
}

void
test_base_make(void)
{
	const char	*tmp = getenv("TMPDIR");

	snprintf(test_base, sizeof test_base, "%s/%s.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp",
	    program_invocation_short_name);
	ck_assert_ptr_nonnull(mkdtemp(test_base));
}

static int
test_base_remove_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	return remove(path);
}

void
test_base_remove(void)
{
	if (test_base[0] != '\0')
		nftw(test_base, test_base_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
test_dir(void)
{
	static char	dir[2048];

	snprintf(dir, sizeof dir, "%s/t.XXXXXX", test_base);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

struct store *
test_store_open(const char *dir)
{
	struct store	*st;
	char		*cause = NULL;

	st = store_open(dir, &cause);
	ck_assert_msg(st != NULL, "store_open: %s", cause ? cause : "?");
	ck_assert_ptr_null(cause);
	return st;
}

char *
test_read_file(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	long	 n;

	ck_assert_msg((f = fopen(path, "r")) != NULL, "%s: %s", path,
	    strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	ck_assert_int_ge(n = ftell(f), 0);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

int
test_spawn(const char *const argv[], const char *in, int both, char **out)
{
	char	*v[16];
	char	 path[PATH_MAX];
	size_t	 i;
	pid_t	 pid;
	int	 fd, ifd, status;

	snprintf(path, sizeof path, "%s/out.XXXXXX", test_base[0] != '\0' ?
	    test_base : "/tmp");
	ck_assert_int_ge(fd = mkstemp(path), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (in != NULL && ((ifd = open(in, O_RDONLY)) == -1 ||
		    dup2(ifd, STDIN_FILENO) == -1))
			_exit(126);
		if (dup2(fd, STDOUT_FILENO) == -1 ||
		    (both && dup2(fd, STDERR_FILENO) == -1))
			_exit(126);
		/* exec takes its words writable. */
		for (i = 0; i < 15 && argv[i] != NULL; i++)
			if ((v[i] = strdup(argv[i])) == NULL)
				_exit(126);
		v[i] = NULL;
		execvp(v[0], v);
		fprintf(stderr, "%s: %s\n", v[0], strerror(errno));
		_exit(127);
	}
	close(fd);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (out != NULL)
		*out = test_read_file(path, NULL);
	unlink(path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
test_run(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
