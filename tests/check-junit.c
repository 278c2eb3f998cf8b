/* check-junit.c: JUnit reports of runs and campaign runs, validated with
 * xmllint against tests/junit/junit.xsd and read back with XPath. */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common.h"
#include "report-junit.h"
#include "report-xml.h"

#define FFFD		"\xef\xbf\xbd"
#define T0		1795255200000000000LL	/* 2026-11-21T10:00:00Z */
#define S		1000000000LL

/* As a guest console may print it: markup, controls, bad UTF-8, "]]>". */
#define NASTY		"a <b> & \"c\" 'd' \x01\x1b[0m \xff ]]> end"
/* How it reads back from the XML. */
#define NASTY_READ	"a <b> & \"c\" 'd' " FFFD FFFD "[0m " FFFD " ]]> end"

/*
 * Runs xmllint with args (NULL-terminated, after the program name); its
 * stdout into *out (allocated) when out is not NULL. Returns the exit
 * status. xmllint missing is a failure, never a skip: .ci/deps installs it.
 */
static int
xmllint(char **out, const char *const *args)
{
	const char	*argv[16] = { "xmllint" };
	size_t		 n = 1, len;
	int		 rc;

	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	rc = test_spawn(argv, NULL, 0, out);
	ck_assert_msg(rc != -1, "xmllint died");
	ck_assert_msg(rc != 127,
	    "xmllint is missing: .ci/deps installs libxml2-utils");
	/* xmllint ends an XPath answer with a newline of its own. */
	if (out != NULL && (len = strlen(*out)) > 0 && (*out)[len - 1] == '\n')
		(*out)[len - 1] = '\0';
	return rc;
}

/* The report into the temporary file, checked against the schema. */
static const char *
validate(const char *xml)
{
	static char	 path[PATH_MAX + 16];
	const char	*args[] = { "--noout", "--schema",
			    test_srcpath("tests/junit/junit.xsd"), path, NULL };
	FILE		*f;
	size_t		 i;

	/* Nothing XML 1.0 forbids, whatever the input held. */
	for (i = 0; xml[i] != '\0'; i++) {
		unsigned char	c = (unsigned char)xml[i];

		ck_assert_msg(c >= 0x20 || c == '\n' || c == '\t',
		    "byte 0x%02x at %zu", c, i);
		ck_assert_msg(c != 0xff, "byte 0xff at %zu", i);
	}
	ck_assert_ptr_null(strstr(xml, "]]>"));
	ck_assert_ptr_null(strstr(xml, "CDATA"));

	snprintf(path, sizeof path, "%s/report.xml", test_base);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(xml, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_msg(xmllint(NULL, args) == 0, "not valid against junit.xsd:\n%s",
	    xml);
	return path;
}

/* The string value of an XPath expression over the validated file. */
static char *
xpath(const char *file, const char *expr)
{
	const char	*args[] = { "--xpath", expr, file, NULL };
	char		*out;

	ck_assert_msg(xmllint(&out, args) == 0, "xpath %s failed", expr);
	return out;
}

#define ck_xpath(file, expr, want) do {					\
	char	*got_ = xpath((file), (expr));				\
	ck_assert_msg(strcmp(got_, (want)) == 0, "%s: got \"%s\", want \"%s\"", \
	    (expr), got_, (want));					\
	free(got_);							\
} while (0)

static json_t *
finding(json_int_t id, const char *kind, const char *title, const char *step,
    json_int_t t_ns, json_t *detail)
{
	json_t	*f;

	f = json_pack("{sI ss ss sI ss* ss so*}", "id", id, "kind", kind,
	    "time", "2026-11-21T10:00:05.000Z", "time_ns", t_ns, "step", step,
	    "source", "agent", "detail", detail);
	ck_assert_ptr_nonnull(f);
	/* Unchecked: the title may hold what the console printed, bad UTF-8 too. */
	json_object_set_new(f, "title", json_string_nocheck(title));
	return f;
}

static json_t *
by_kind(json_int_t total, const char *kind, json_int_t n, const char *kind2,
    json_int_t n2)
{
	json_t	*o = json_pack("{sI s{si si si si si si si si si}}", "total",
		    total, "by_kind", "io_timeout", 0, "io_error", 0, "corruption",
		    0, "bugcheck", 0, "hang", 0, "expect_failed", 0, "slow_io", 0,
		    "warning", 0, "backend_error", 0);
	json_t	*k = json_object_get(o, "by_kind");

	if (kind != NULL)
		json_object_set_new(k, kind, json_integer(n));
	if (kind2 != NULL)
		json_object_set_new(k, kind2, json_integer(n2));
	return o;
}

/* A run object as store_run_get gives it. */
static json_t *
run_obj(json_int_t id, const char *status, const char *verdict,
    const char *reason, json_int_t elapsed_ms, json_t *findings)
{
	json_t	*r;

	r = json_pack("{sI ss ss sI ss ss ss* ss* ss sI ss sI so so so so"
	    " s{sI} s{ss ss ss sI}}",
	    "id", id, "plan", "io-soak", "source", "plans/io-soak.yaml",
	    "seed", (json_int_t)42, "backend", "qemu", "status", status,
	    "verdict", verdict, "reason", reason,
	    "created", "2026-11-21T10:00:00.000Z", "created_ns", T0,
	    "started", "2026-11-21T10:00:01.000Z", "started_ns", T0 + S,
	    "finished", verdict != NULL ? json_string("2026-11-21T10:00:13.345Z") :
	    json_null(),
	    "finished_ns", verdict != NULL ? json_integer(T0 + 13 * S + 345000000) :
	    json_null(),
	    "elapsed_ms", elapsed_ms >= 0 ? json_integer(elapsed_ms) : json_null(),
	    "findings", findings,
	    "counters", "ios", (json_int_t)1000,
	    "agent", "agent", "hotsoak-agent 1", "hostname", "guest-7",
	    "boot_id", "b", "pid", (json_int_t)12);
	ck_assert_ptr_nonnull(r);
	return r;
}

START_TEST(escape_table)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*text;		/* as character data */
		const char	*attr;		/* as an attribute value */
	} t[] = {
		{ "plain", 5, "plain", "plain" },
		{ "&<>\"'", 5, "&amp;&lt;&gt;\"'", "&amp;&lt;&gt;&quot;&apos;" },
		{ "]]>", 3, "]]&gt;", "]]&gt;" },
		{ "a\tb\nc\rd", 7, "a\tb\nc&#13;d", "a&#9;b&#10;c&#13;d" },
		{ "\x01\x1b\x7f", 3, FFFD FFFD "\x7f", FFFD FFFD "\x7f" },
		{ "x\0y", 3, "x" FFFD "y", "x" FFFD "y" },
		{ "\xff\xfe", 2, FFFD FFFD, FFFD FFFD },
		{ "\xc0\x80", 2, FFFD FFFD, FFFD FFFD },		/* overlong NUL */
		{ "\xed\xa0\x80", 3, FFFD FFFD FFFD, FFFD FFFD FFFD }, /* surrogate */
		{ "\xef\xbf\xbf\xef\xbf\xbe", 6, FFFD FFFD, FFFD FFFD },
		{ "\xe2\x82", 2, FFFD FFFD, FFFD FFFD },		/* cut short */
		{ "\xc3\xa9\xe2\x82\xac\xf0\x9f\x92\xa5", 9,
		    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x92\xa5",
		    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x92\xa5" },
	};
	struct xml_buf	 b = { 0 };
	size_t		 i;
	char		*s;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		xml_buf_escape(&b, t[i].in, t[i].len, false);
		s = xml_buf_finish(&b);
		ck_assert_msg(strcmp(s, t[i].text) == 0, "%zu text: %s", i, s);
		free(s);
		xml_buf_escape(&b, t[i].in, t[i].len, true);
		s = xml_buf_finish(&b);
		ck_assert_msg(strcmp(s, t[i].attr) == 0, "%zu attr: %s", i, s);
		free(s);
	}
}
END_TEST

START_TEST(run_pass)
{
	json_t		*run, *none = json_array();
	const char	*file;
	char		*xml, *cause = NULL;

	run = run_obj(12, "finished", "pass", "every step ran", 12345,
	    by_kind(0, NULL, 0, NULL, 0));
	xml = junit_run(run, none, &cause);
	json_decref(none);
	ck_assert_msg(xml != NULL, "%s", cause);
	ck_assert_int_eq(strncmp(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
	    39), 0);
	file = validate(xml);
	ck_xpath(file, "concat(/testsuites/@tests, /testsuites/@failures, "
	    "/testsuites/@errors, /testsuites/@skipped)", "1000");
	ck_xpath(file, "concat(//testsuite/@tests, //testsuite/@failures, "
	    "//testsuite/@errors, //testsuite/@skipped)", "1000");
	ck_xpath(file, "string(//testsuite/@name)", "io-soak");
	ck_xpath(file, "string(//testsuite/@timestamp)", "2026-11-21T10:00:01");
	ck_xpath(file, "string(//testsuite/@hostname)", "guest-7");
	ck_xpath(file, "string(/testsuites/@time)", "12.345");
	ck_xpath(file, "string(//testcase/@time)", "12.345");
	ck_xpath(file, "string(//testcase/@name)", "io-soak (run 12, seed 42)");
	ck_xpath(file, "string(//testcase/@classname)", "hotsoak.io-soak");
	ck_xpath(file, "count(//testcase/*)", "0");
	ck_xpath(file, "string(//property[@name='seed']/@value)", "42");
	ck_xpath(file, "string(//property[@name='verdict']/@value)", "pass");
	free(xml);

	/* A host name the caller gives wins over the guest's. */
	json_object_set_new(run, "hostname", json_string("soak-host"));
	xml = junit_run(run, NULL, &cause);
	ck_assert_ptr_nonnull(xml);
	file = validate(xml);
	ck_xpath(file, "string(//testsuite/@hostname)", "soak-host");
	free(xml);
	json_decref(run);
}
END_TEST

/* Three findings: a warning first, then the one that failed the run. */
static json_t *
fail_findings(void)
{
	json_t	*f = json_array();

	json_array_append_new(f, finding(1, "warning", "WARNING: at mm/page_alloc",
	    "2 hot_add", T0 + 3 * S, NULL));
	json_array_append_new(f, finding(2, "corruption", NASTY, "3 hot_replace",
	    T0 + 5 * S, json_pack("{ss sI}", "expected", "x<y]]>", "offset",
	    (json_int_t)4096)));
	json_array_append_new(f, finding(3, "io_timeout", "write took 31 s",
	    NULL, T0 + 6 * S, json_pack("{sI}", "deadline_ms", (json_int_t)30000)));
	return f;
}

START_TEST(run_fail_escaped)
{
	json_t		*run, *findings;
	const char	*file;
	char		*xml, *again, *cause = NULL;

	findings = fail_findings();
	run = run_obj(13, "finished", "fail",
	    "failing findings: corruption 1, io_timeout 1", 12345,
	    by_kind(3, "corruption", 1, "io_timeout", 1));
	xml = junit_run(run, findings, &cause);
	ck_assert_msg(xml != NULL, "%s", cause);
	file = validate(xml);
	ck_xpath(file, "concat(/testsuites/@tests, /testsuites/@failures, "
	    "/testsuites/@errors, /testsuites/@skipped)", "1100");
	ck_xpath(file, "count(//testcase/failure)", "1");
	/* The finding that failed it, not the warning before it. */
	ck_xpath(file, "string(//failure/@type)", "corruption");
	ck_xpath(file, "string(//failure/@message)", NASTY_READ " (+2 more)");
	/* Every finding in the body, with step, time and compact detail. */
	ck_xpath(file, "contains(//failure, '[1] warning: WARNING: at "
	    "mm/page_alloc')", "true");
	ck_xpath(file, "contains(//failure, 'write took 31 s')", "true");
	ck_xpath(file, "contains(//failure, 'step: 3 hot_replace')", "true");
	ck_xpath(file, "contains(//failure, 'time: 2026-11-21T10:00:05.000Z')",
	    "true");
	ck_xpath(file, "contains(//failure, '{\"deadline_ms\":30000}')", "true");
	ck_xpath(file, "contains(//failure, '{\"expected\":\"x<y]]>\","
	    "\"offset\":4096}')", "true");
	ck_xpath(file, "contains(//failure, 'verdict: fail: failing findings')",
	    "true");
	{
		char	*body = xpath(file, "string(//failure)");

		ck_assert_msg(strstr(body, "[2] corruption: " NASTY_READ "\n") !=
		    NULL, "body: %s", body);
		free(body);
	}
	ck_xpath(file, "contains(//testsuite/system-out, 'hotsoak rerun 13 "
	    "--times 10')", "true");
	ck_xpath(file, "contains(//testsuite/system-out, 'seed 42')", "true");
	/* By kind, in the order of the kinds' table. */
	ck_xpath(file, "contains(//testsuite/system-out, '(io_timeout 1, "
	    "corruption 1)')", "true");

	/* Same input, same bytes; keys in another order are the same input. */
	again = junit_run(run, findings, &cause);
	ck_assert_str_eq(again, xml);
	free(again);
	json_object_set_new(json_array_get(findings, 1), "detail",
	    json_pack("{sI ss}", "offset", (json_int_t)4096, "expected",
	    "x<y]]>"));
	again = junit_run(run, findings, &cause);
	ck_assert_str_eq(again, xml);
	free(again);
	free(xml);

	/* A page of the findings: the count still says how many there are. */
	json_object_set_new(run, "findings", by_kind(700, "corruption", 699,
	    "io_timeout", 1));
	xml = junit_run(run, findings, &cause);
	ck_assert_ptr_nonnull(xml);
	file = validate(xml);
	ck_xpath(file, "string(//failure/@message)", NASTY_READ " (+699 more)");
	ck_xpath(file, "contains(//failure, 'findings: 700 (3 listed)')", "true");
	free(xml);

	/* A fail whose findings were not given: the reason says why. */
	xml = junit_run(run, NULL, &cause);
	ck_assert_ptr_nonnull(xml);
	file = validate(xml);
	ck_xpath(file, "string(//failure/@message)",
	    "failing findings: corruption 1, io_timeout 1");
	ck_xpath(file, "string(//failure/@type)", "fail");
	free(xml);
	json_decref(run);
	json_decref(findings);
}
END_TEST

START_TEST(run_error_and_running)
{
	static const char *const verdicts[] = { "error", "aborted",
	    "interrupted" };
	json_t		*run, *findings;
	const char	*file;
	char		*xml, *cause = NULL;
	size_t		 i;

	findings = json_array();
	json_array_append_new(findings, finding(1, "backend_error",
	    "QMP device_add failed: <no slot>", "2 hot_add", T0 + 2 * S, NULL));
	for (i = 0; i < 3; i++) {
		run = run_obj(14, "finished", verdicts[i],
		    "harness error: QMP \"device_add\" failed", 2000,
		    by_kind(1, "backend_error", 1, NULL, 0));
		xml = junit_run(run, findings, &cause);
		ck_assert_ptr_nonnull(xml);
		file = validate(xml);
		ck_xpath(file, "concat(/testsuites/@tests, /testsuites/@failures, "
		    "/testsuites/@errors, /testsuites/@skipped)", "1010");
		ck_xpath(file, "count(//failure)", "0");
		ck_xpath(file, "string(//error/@type)", verdicts[i]);
		ck_xpath(file, "string(//error/@message)",
		    "harness error: QMP \"device_add\" failed");
		ck_xpath(file, "contains(//error, 'backend_error: QMP device_add "
		    "failed: <no slot>')", "true");
		free(xml);
		json_decref(run);
	}

	/* Still running: skipped, no verdict, what it found so far shown. */
	run = run_obj(15, "running", NULL, NULL, -1,
	    by_kind(1, "backend_error", 1, NULL, 0));
	xml = junit_run(run, findings, &cause);
	ck_assert_ptr_nonnull(xml);
	file = validate(xml);
	ck_xpath(file, "concat(/testsuites/@tests, /testsuites/@failures, "
	    "/testsuites/@errors, /testsuites/@skipped)", "1001");
	ck_xpath(file, "string(//testcase/skipped/@message)", "still running");
	ck_xpath(file, "count(//failure | //error)", "0");
	ck_xpath(file, "count(//property[@name='verdict'])", "0");
	ck_xpath(file, "contains(//testcase/system-out, 'QMP device_add')",
	    "true");
	ck_xpath(file, "string(//testcase/@time)", "0.000");
	free(xml);
	json_decref(run);
	json_decref(findings);
}
END_TEST

static json_t *
attempt(json_int_t n, json_int_t run, const char *status, const char *verdict,
    const char *reason, json_int_t elapsed_ms, json_t *findings)
{
	json_t	*a;

	a = json_pack("{sI sI sI ss ss* ss* ss sI so so so so}",
	    "attempt", n, "run", run, "seed", (json_int_t)7, "status", status,
	    "verdict", verdict, "reason", reason,
	    "started", "2026-11-21T10:00:00.000Z", "started_ns", T0 + run * S,
	    "finished", json_null(), "finished_ns", json_null(),
	    "elapsed_ms", elapsed_ms >= 0 ? json_integer(elapsed_ms) : json_null(),
	    "findings", findings);
	ck_assert_ptr_nonnull(a);
	return a;
}

static json_t *
counts(void)
{
	return json_pack("{si si si si si si si si si}", "pass", 1, "fail", 0,
	    "error", 1, "flaky", 1, "aborted", 0, "interrupted", 0, "running", 0,
	    "pending", 0, "attempts", 4);
}

/*
 * nightly, campaign run 7: io-soak (pass; flaky: fail then pass; error)
 * and cpu-add (one attempt running, one repetition not started).
 */
static json_t *
crun_obj(void)
{
	json_t	*c;

	c = json_pack("{sI ss ss ss ss* ss sI so sI so s[" /* plans */
	    "{sI ss ss ss so s[{sI ss s[o]} {sI ss s[o o]} {sI ss s[o]}]}"
	    "{sI ss ss sn so s[{sI sn s[o]} {sI sn s[]}]}"
	    "] s[]}",
	    "id", (json_int_t)7, "campaign", "nightly", "trigger", "schedule",
	    "status", "running", "verdict", NULL, "created",
	    "2026-11-21T02:00:00.000Z", "created_ns", T0 - 8 * 3600 * S,
	    "elapsed_ms", json_null(), "repeat", (json_int_t)3, "counts", counts(),
	    "plans",
	    "index", (json_int_t)0, "plan", "io-soak", "file", "io-soak.yaml",
	    "verdict", "error", "counts", counts(), "repetitions",
	    "repetition", (json_int_t)1, "verdict", "pass", "attempts",
	    attempt(1, 31, "finished", "pass", "ok", 60000,
	    by_kind(0, NULL, 0, NULL, 0)),
	    "repetition", (json_int_t)2, "verdict", "flaky", "attempts",
	    attempt(1, 32, "finished", "fail", "failing findings: corruption 1",
	    61500, by_kind(1, "corruption", 1, NULL, 0)),
	    attempt(2, 33, "finished", "pass", "ok", 59000,
	    by_kind(1, "warning", 1, NULL, 0)),
	    "repetition", (json_int_t)3, "verdict", "error", "attempts",
	    attempt(1, 34, "finished", "error", "harness error: QMP gone", 1000,
	    by_kind(0, NULL, 0, NULL, 0)),
	    "index", (json_int_t)1, "plan", "cpu-add", "file", "cpu-add.yaml",
	    "verdict", "counts", counts(), "repetitions",
	    "repetition", (json_int_t)1, "verdict", "attempts",
	    attempt(1, 35, "running", NULL, NULL, -1,
	    by_kind(0, NULL, 0, NULL, 0)),
	    "repetition", (json_int_t)2, "verdict", "attempts",
	    "events");
	ck_assert_ptr_nonnull(c);
	return c;
}

static json_t *
crun_findings(void)
{
	json_t	*f = json_object(), *a;

	a = json_array();
	json_array_append_new(a, finding(5, "corruption", NASTY, "4 hot_replace",
	    T0 + 40 * S, json_pack("{sI}", "offset", (json_int_t)8192)));
	json_object_set_new(f, "32", a);
	a = json_array();
	json_array_append_new(a, finding(6, "warning", "hung task kworker/3:1",
	    NULL, T0 + 41 * S, NULL));
	json_object_set_new(f, "33", a);
	return f;
}

START_TEST(campaign_run)
{
	json_t		*crun, *findings;
	const char	*file;
	char		*xml, *again, *cause = NULL;

	crun = crun_obj();
	findings = crun_findings();
	xml = junit_campaign_run(crun, findings, &cause);
	ck_assert_msg(xml != NULL, "%s", cause);
	file = validate(xml);

	/* One testcase per attempt, one for the repetition not started. */
	ck_xpath(file, "concat(/testsuites/@tests, /testsuites/@failures, "
	    "/testsuites/@errors, /testsuites/@skipped)", "6112");
	ck_xpath(file, "count(//testsuite)", "2");
	ck_xpath(file, "count(//testcase)", "6");
	ck_xpath(file, "string(/testsuites/@name)",
	    "hotsoak campaign nightly, campaign run 7");
	/* Running: its time is the attempts' sum. */
	ck_xpath(file, "string(/testsuites/@time)", "181.500");

	ck_xpath(file, "string(//testsuite[1]/@name)", "nightly/io-soak");
	ck_xpath(file, "string(//testsuite[1]/@package)", "hotsoak.nightly");
	ck_xpath(file, "string(//testsuite[1]/@id)", "0");
	ck_xpath(file, "string(//testsuite[1]/@hostname)", "localhost");
	ck_xpath(file, "string(//testsuite[1]/@timestamp)", "2026-11-21T10:00:31");
	ck_xpath(file, "concat(//testsuite[1]/@tests, //testsuite[1]/@failures, "
	    "//testsuite[1]/@errors, //testsuite[1]/@skipped)", "4110");
	ck_xpath(file, "concat(//testsuite[2]/@tests, //testsuite[2]/@failures, "
	    "//testsuite[2]/@errors, //testsuite[2]/@skipped)", "2002");
	ck_xpath(file, "string(//testsuite[1]/testcase[1]/@classname)",
	    "hotsoak.nightly.io-soak");

	/* The flaky repetition: the failed attempt fails, the next passes. */
	ck_xpath(file, "count(//testcase[@name='io-soak #2 attempt 1 (run 32, "
	    "seed 7)']/failure)", "1");
	ck_xpath(file, "string(//testcase[@name='io-soak #2 attempt 1 (run 32, "
	    "seed 7)']/failure/@message)", NASTY_READ);
	ck_xpath(file, "contains(//testcase[@name='io-soak #2 attempt 1 (run 32, "
	    "seed 7)']/failure, '{\"offset\":8192}')", "true");
	ck_xpath(file, "count(//testcase[@name='io-soak #2 attempt 2 (run 33, "
	    "seed 7)']/*[self::failure or self::error or self::skipped])", "0");
	ck_xpath(file, "contains(//testcase[@name='io-soak #2 attempt 2 (run 33, "
	    "seed 7)']/system-out, 'repetition 2 is flaky: attempt 1 fail "
	    "(run 32), attempt 2 pass (run 33)')", "true");
	ck_xpath(file, "contains(//testcase[@name='io-soak #2 attempt 2 (run 33, "
	    "seed 7)']/system-out, 'hung task kworker/3:1')", "true");
	ck_xpath(file, "string(//testsuite[1]/properties/property[@name='flaky']"
	    "/@value)", "2");
	ck_xpath(file, "string(//testsuite[2]/properties/property[@name='flaky']"
	    "/@value)", "");
	ck_xpath(file, "string(//testsuite[1]/properties/property"
	    "[@name='campaign']/@value)", "nightly");
	ck_xpath(file, "string(//testsuite[1]/properties/property"
	    "[@name='campaign_run']/@value)", "7");
	ck_xpath(file, "string(//testsuite[1]/properties/property"
	    "[@name='verdict']/@value)", "error");
	ck_xpath(file, "string(//testsuite[2]/properties/property"
	    "[@name='verdict']/@value)", "running");

	/* Error, running and not started. */
	ck_xpath(file, "string(//testcase[@name='io-soak #3 attempt 1 (run 34, "
	    "seed 7)']/error/@type)", "error");
	ck_xpath(file, "string(//testcase[@name='io-soak #3 attempt 1 (run 34, "
	    "seed 7)']/error/@message)", "harness error: QMP gone");
	ck_xpath(file, "string(//testcase[@name='cpu-add #1 attempt 1 (run 35, "
	    "seed 7)']/skipped/@message)", "still running");
	ck_xpath(file, "count(//testcase[@name='cpu-add #2 (not started)']"
	    "/skipped)", "1");

	/* The suite's summary says how to reproduce what did not pass. */
	ck_xpath(file, "contains(//testsuite[1]/system-out, 'hotsoak rerun 32 "
	    "--times 10')", "true");
	ck_xpath(file, "contains(//testsuite[1]/system-out, 'hotsoak rerun 34 "
	    "--times 10')", "true");
	ck_xpath(file, "contains(//testsuite[1]/system-out, 'hotsoak rerun 33 ')",
	    "false");
	ck_xpath(file, "contains(//testsuite[1]/system-out, 'flaky repetitions: "
	    "2')", "true");

	again = junit_campaign_run(crun, findings, &cause);
	ck_assert_str_eq(again, xml);
	free(again);
	free(xml);

	/* Finished: the wall time, not the sum; no findings at all is fine. */
	json_object_set_new(crun, "elapsed_ms", json_integer(90000));
	xml = junit_campaign_run(crun, NULL, &cause);
	ck_assert_ptr_nonnull(xml);
	file = validate(xml);
	ck_xpath(file, "string(/testsuites/@time)", "90.000");
	ck_xpath(file, "string(//testcase[@name='io-soak #2 attempt 1 (run 32, "
	    "seed 7)']/failure/@message)", "failing findings: corruption 1");
	free(xml);
	json_decref(crun);
	json_decref(findings);
}
END_TEST

START_TEST(bad_input)
{
	json_t	*run, *crun, *f;
	char	*cause = NULL;

	ck_assert_ptr_null(junit_run(NULL, NULL, &cause));
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	run = json_pack("{sI}", "id", (json_int_t)1);
	ck_assert_ptr_null(junit_run(run, NULL, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "plan"));
	free(cause);
	cause = NULL;
	json_decref(run);

	run = run_obj(2, "finished", "pass", "ok", 1, by_kind(0, NULL, 0, NULL, 0));
	f = json_object();
	ck_assert_ptr_null(junit_run(run, f, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "not an array"));
	free(cause);
	cause = NULL;
	/* No one to tell: still NULL, nothing leaked. */
	ck_assert_ptr_null(junit_run(run, f, NULL));
	json_decref(run);

	crun = crun_obj();
	{
		json_t	*a = json_array();

		ck_assert_ptr_null(junit_campaign_run(crun, a, &cause));
		ck_assert_ptr_nonnull(strstr(cause, "not an object"));
		json_decref(a);
	}
	free(cause);
	cause = NULL;
	json_object_set_new(f, "32", json_string("nope"));
	ck_assert_ptr_null(junit_campaign_run(crun, f, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "run 32"));
	free(cause);
	cause = NULL;
	json_decref(f);
	json_array_append_new(json_object_get(crun, "plans"), json_integer(3));
	ck_assert_ptr_null(junit_campaign_run(crun, NULL, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "plan 2"));
	free(cause);
	cause = NULL;
	json_object_set_new(crun, "plans", json_object());
	ck_assert_ptr_null(junit_campaign_run(crun, NULL, &cause));
	ck_assert_ptr_nonnull(cause);
	free(cause);
	json_decref(crun);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("junit");
	TCase	*tc = tcase_create("junit");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, test_base_make, test_base_remove);
	tcase_add_test(tc, escape_table);
	tcase_add_test(tc, run_pass);
	tcase_add_test(tc, run_fail_escaped);
	tcase_add_test(tc, run_error_and_running);
	tcase_add_test(tc, campaign_run);
	tcase_add_test(tc, bad_input);
	suite_add_tcase(s, tc);
	return test_run(s);
}
