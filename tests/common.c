/* common.c: shared helpers of the Check programs (see common.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

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
