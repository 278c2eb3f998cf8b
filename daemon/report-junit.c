/* report-junit.c: runs and campaign runs as JUnit XML, one testcase per run
 * (per attempt in a campaign), every finding in the failure or error body. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotsoak/finding.h"
#include "hotsoak/util.h"

#include "report-junit.h"
#include "report-xml.h"

/* What one testcase says about its run. */
enum junit_outcome {
	JUNIT_PASS,		/* verdict pass: no child element */
	JUNIT_FAILURE,		/* verdict fail: the system under test failed */
	JUNIT_ERROR,		/* error, aborted, interrupted: nothing proved */
	JUNIT_SKIPPED,		/* no verdict yet: queued, running, not begun */
};

/* A suite's counters; the document's are their sums. */
struct junit_counts {
	unsigned	 tests;
	unsigned	 failures;
	unsigned	 errors;
	unsigned	 skipped;
	int64_t		 time_ms;
};

/* One testcase: a run on its own, or one attempt of a campaign run. */
struct junit_case {
	const char	*name;
	const char	*classname;
	const json_t	*run;		/* the run or attempt; NULL: not started */
	const json_t	*findings;	/* that run's findings array, or NULL */
	const char	*note;		/* a line for its system-out, or NULL */
};

/* One testsuite, written into buffers while its counts add up. */
struct junit_suite {
	struct junit_counts	 c;
	struct xml_buf		 props;	/* <property> elements */
	struct xml_buf		 cases;	/* <testcase> elements */
	struct xml_buf		 out;	/* plain text for <system-out> */
};

/* Allocated (the caller frees), or NULL when out of memory. */
static char *
fmt_alloc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *
fmt_alloc(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	return s;
}

static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool
jint(const json_t *o, const char *key, json_int_t *v)
{
	json_t	*j = json_object_get(o, key);

	if (!json_is_integer(j))
		return false;
	*v = json_integer_value(j);
	return true;
}

/* A string member with its length, NUL bytes and all, or dflt. */
static void
add_jstr(struct xml_buf *b, const json_t *o, const char *key,
    const char *dflt)
{
	json_t	*j = json_object_get(o, key);

	if (json_is_string(j))
		xml_buf_add(b, json_string_value(j), json_string_length(j));
	else
		xml_buf_puts(b, dflt);
}

/* Seeds past INT64_MAX come as strings from the store. */
static void
fmt_seed(const json_t *o, char *buf, size_t len)
{
	json_t	*j = json_object_get(o, "seed");

	if (json_is_integer(j))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
	else if (json_is_string(j))
		snprintf(buf, len, "%s", json_string_value(j));
	else
		snprintf(buf, len, "?");
}

/* Seconds with milliseconds, never the locale's decimal comma. */
static void
fmt_secs(int64_t ms, char *buf, size_t len)
{
	if (ms < 0)
		ms = 0;
	snprintf(buf, len, "%" PRId64 ".%03d", ms / 1000, (int)(ms % 1000));
}

static int64_t
elapsed_ms(const json_t *o)
{
	json_int_t	v;

	return jint(o, "elapsed_ms", &v) && v > 0 ? v : 0;
}

/* JUnit's timestamp has no zone: UTC, like the properties' RFC 3339 times. */
static bool
fmt_stamp(json_int_t ns, char *buf, size_t len)
{
	time_t		t;
	struct tm	tm;

	if (ns <= 0)
		return false;
	t = (time_t)(ns / 1000000000);
	if (gmtime_r(&t, &tm) == NULL)
		return false;
	return strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) != 0;
}

static enum junit_outcome
case_outcome(const json_t *run)
{
	const char	*verdict = jstr(run, "verdict");

	if (verdict == NULL)
		return JUNIT_SKIPPED;
	if (strcmp(verdict, "pass") == 0)
		return JUNIT_PASS;
	if (strcmp(verdict, "fail") == 0)
		return JUNIT_FAILURE;
	return JUNIT_ERROR;
}

/*
 * How many findings the run has: its own count ("findings": {"total"} or a
 * bare number) when the array given is a page of them.
 */
static size_t
findings_total(const json_t *run, const json_t *findings)
{
	json_t		*f = json_object_get(run, "findings");
	json_int_t	 total = 0;
	size_t		 n = json_array_size(findings);

	if (json_is_integer(f))
		total = json_integer_value(f);
	else
		jint(f, "total", &total);
	return total > 0 && (uint64_t)total > n ? (size_t)total : n;
}

/*
 * The finding that failed the run: the first of a kind that fails runs
 * unless a plan says otherwise, else the first of all.
 */
static const json_t *
first_failing(const json_t *findings)
{
	const char	*kind;
	json_t		*f;
	size_t		 i;
	int		 k;

	json_array_foreach(findings, i, f) {
		if ((kind = jstr(f, "kind")) == NULL ||
		    (k = finding_kind_find(kind)) < 0)
			continue;
		if (finding_kinds[k].fails_run || k == FINDING_EXPECT_FAILED)
			return f;
	}
	return json_array_get(findings, 0);
}

/* "io_timeout 2, warning 1" from a run's by_kind counts, in table order. */
static void
kinds_text(struct xml_buf *t, const json_t *run)
{
	const json_t	*by = json_object_get(json_object_get(run, "findings"),
			    "by_kind");
	json_int_t	 n;
	size_t		 i;
	bool		 first = true;

	for (i = 0; i < FINDING_KIND_COUNT; i++) {
		if (!jint(by, finding_kinds[i].name, &n) || n <= 0)
			continue;
		xml_buf_printf(t, "%s%s %" JSON_INTEGER_FORMAT, first ? " (" : ", ",
		    finding_kinds[i].name, n);
		first = false;
	}
	if (!first)
		xml_buf_puts(t, ")");
}

/* Every finding, plain text: kind, title, step, time, source, detail. */
static void
findings_text(struct xml_buf *t, const json_t *findings, size_t total)
{
	json_t	*f, *detail;
	size_t	 i, n = json_array_size(findings);
	char	*d;

	if (total == 0)
		return;
	if (n < total)
		xml_buf_printf(t, "findings: %zu (%zu listed)\n", total, n);
	else
		xml_buf_printf(t, "findings: %zu\n", total);
	json_array_foreach(findings, i, f) {
		xml_buf_printf(t, "[%zu] ", i + 1);
		add_jstr(t, f, "kind", "?");
		xml_buf_puts(t, ": ");
		add_jstr(t, f, "title", "(no title)");
		xml_buf_puts(t, "\n    step: ");
		add_jstr(t, f, "step", "(none)");
		xml_buf_puts(t, "\n    time: ");
		add_jstr(t, f, "time", "?");
		xml_buf_puts(t, "\n    source: ");
		add_jstr(t, f, "source", "?");
		detail = json_object_get(f, "detail");
		if (detail != NULL && !json_is_null(detail)) {
			xml_buf_puts(t, "\n    detail: ");
			/* Sorted keys: a finding reads the same every time. */
			d = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS |
			    JSON_ENCODE_ANY);
			xml_buf_puts(t, d != NULL ? d : "(not valid UTF-8 JSON)");
			free(d);
		}
		xml_buf_puts(t, "\n");
	}
}

/* The verdict line that starts a failure or error body and a summary. */
static void
verdict_text(struct xml_buf *t, const json_t *run)
{
	const char	*verdict = jstr(run, "verdict");

	if (verdict == NULL) {
		xml_buf_puts(t, "status: ");
		add_jstr(t, run, "status", "unknown");
		xml_buf_puts(t, " (no verdict yet)");
		return;
	}
	xml_buf_printf(t, "verdict: %s", verdict);
	if (json_is_string(json_object_get(run, "reason"))) {
		xml_buf_puts(t, ": ");
		add_jstr(t, run, "reason", "");
	}
}

static void
suite_prop(struct junit_suite *s, const char *name, const char *value)
{
	if (value == NULL)
		return;
	xml_buf_puts(&s->props, "      <property");
	xml_buf_attr(&s->props, "name", name);
	xml_buf_attr(&s->props, "value", value);
	xml_buf_puts(&s->props, "/>\n");
}

static void
suite_prop_int(struct junit_suite *s, const char *name, int64_t v)
{
	char	buf[32];

	snprintf(buf, sizeof buf, "%" PRId64, v);
	suite_prop(s, name, buf);
}

/* A string member as a property, NUL bytes and all; absent: none. */
static void
suite_prop_jstr(struct junit_suite *s, const char *name, const json_t *o,
    const char *key)
{
	json_t	*j = json_object_get(o, key);

	if (!json_is_string(j))
		return;
	xml_buf_puts(&s->props, "      <property");
	xml_buf_attr(&s->props, "name", name);
	xml_buf_puts(&s->props, " value=\"");
	xml_buf_escape(&s->props, json_string_value(j), json_string_length(j),
	    true);
	xml_buf_puts(&s->props, "\"/>\n");
}

/* The <failure> or <error> element, or <skipped>; nothing for a pass. */
static void
case_result(struct xml_buf *b, const struct junit_case *jc,
    enum junit_outcome o, size_t total)
{
	struct xml_buf	 msg = { 0 }, body = { 0 };
	const json_t	*first;
	const char	*verdict = jstr(jc->run, "verdict");
	const char	*status = jstr(jc->run, "status");
	const char	*type;

	switch (o) {
	case JUNIT_PASS:
		return;
	case JUNIT_SKIPPED:
		xml_buf_puts(b, "      <skipped");
		if (jc->run == NULL)
			xml_buf_attr(b, "message", "not started yet");
		else if (status != NULL && strcmp(status, "queued") == 0)
			xml_buf_attr(b, "message", "still queued");
		else
			xml_buf_attr(b, "message", "still running");
		xml_buf_puts(b, "/>\n");
		return;
	case JUNIT_FAILURE:
		if ((first = first_failing(jc->findings)) != NULL) {
			add_jstr(&msg, first, "title", "(no title)");
			if (total > 1)
				xml_buf_printf(&msg, " (+%zu more)", total - 1);
			type = jstr(first, "kind");
		} else {
			add_jstr(&msg, jc->run, "reason", "fail");
			type = NULL;
		}
		xml_buf_puts(b, "      <failure message=\"");
		xml_buf_escape_buf(b, &msg, true);
		xml_buf_puts(b, "\"");
		xml_buf_attr(b, "type", type != NULL ? type : "fail");
		break;
	case JUNIT_ERROR:
		add_jstr(&msg, jc->run, "reason", verdict);
		xml_buf_puts(b, "      <error message=\"");
		xml_buf_escape_buf(b, &msg, true);
		xml_buf_puts(b, "\"");
		xml_buf_attr(b, "type", verdict);
		break;
	}
	xml_buf_puts(b, ">");
	verdict_text(&body, jc->run);
	xml_buf_puts(&body, "\n");
	findings_text(&body, jc->findings, total);
	xml_buf_escape_buf(b, &body, false);
	xml_buf_puts(b, o == JUNIT_FAILURE ? "</failure>\n" : "</error>\n");
	xml_buf_reset(&msg);
	xml_buf_reset(&body);
}

static void
suite_case(struct junit_suite *s, const struct junit_case *jc)
{
	struct xml_buf		*b = &s->cases, kids = { 0 }, out = { 0 };
	enum junit_outcome	 o = jc->run != NULL ? case_outcome(jc->run) :
				    JUNIT_SKIPPED;
	size_t			 total = findings_total(jc->run, jc->findings);
	int64_t			 ms = elapsed_ms(jc->run);
	const char		*status;
	char			 secs[32];

	s->c.tests++;
	s->c.time_ms += ms;
	if (o == JUNIT_FAILURE)
		s->c.failures++;
	else if (o == JUNIT_ERROR)
		s->c.errors++;
	else if (o == JUNIT_SKIPPED)
		s->c.skipped++;

	if ((status = jstr(jc->run, "verdict")) == NULL &&
	    (status = jstr(jc->run, "status")) == NULL)
		status = "pending";
	fmt_secs(ms, secs, sizeof secs);
	xml_buf_puts(b, "    <testcase");
	xml_buf_attr(b, "name", jc->name);
	xml_buf_attr(b, "classname", jc->classname);
	xml_buf_attr(b, "time", secs);
	xml_buf_attr(b, "status", status);
	case_result(&kids, jc, o, total);

	/* Findings of a run that passed (warnings) or has not finished. */
	if (jc->note != NULL)
		xml_buf_printf(&out, "%s\n", jc->note);
	if (o == JUNIT_PASS || o == JUNIT_SKIPPED)
		findings_text(&out, jc->findings, total);
	if (out.len > 0 || out.oom) {
		xml_buf_puts(&kids, "      <system-out>");
		xml_buf_escape_buf(&kids, &out, false);
		xml_buf_puts(&kids, "</system-out>\n");
	}
	if (kids.len > 0 || kids.oom) {
		xml_buf_puts(b, ">\n");
		xml_buf_cat(b, &kids);
		xml_buf_puts(b, "    </testcase>\n");
	} else
		xml_buf_puts(b, "/>\n");
	xml_buf_reset(&kids);
	xml_buf_reset(&out);
}

static void
counts_add(struct junit_counts *to, const struct junit_counts *c)
{
	to->tests += c->tests;
	to->failures += c->failures;
	to->errors += c->errors;
	to->skipped += c->skipped;
	to->time_ms += c->time_ms;
}

/* The suite's element into b; its buffers are emptied. */
static void
suite_write(struct xml_buf *b, struct junit_suite *s, const char *name,
    const char *package, const char *hostname, json_int_t stamp_ns,
    json_int_t id)
{
	char	buf[64];

	xml_buf_puts(b, "  <testsuite");
	xml_buf_attr(b, "name", name);
	xml_buf_printf(b, " tests=\"%u\" failures=\"%u\" errors=\"%u\" "
	    "skipped=\"%u\"", s->c.tests, s->c.failures, s->c.errors,
	    s->c.skipped);
	fmt_secs(s->c.time_ms, buf, sizeof buf);
	xml_buf_attr(b, "time", buf);
	if (fmt_stamp(stamp_ns, buf, sizeof buf))
		xml_buf_attr(b, "timestamp", buf);
	xml_buf_attr(b, "hostname", hostname);
	xml_buf_printf(b, " id=\"%" JSON_INTEGER_FORMAT "\"", id);
	xml_buf_attr(b, "package", package);
	xml_buf_puts(b, ">\n");
	if (s->props.len > 0 || s->props.oom) {
		xml_buf_puts(b, "    <properties>\n");
		xml_buf_cat(b, &s->props);
		xml_buf_puts(b, "    </properties>\n");
	}
	xml_buf_cat(b, &s->cases);
	if (s->out.len > 0 || s->out.oom) {
		xml_buf_puts(b, "    <system-out>");
		xml_buf_escape_buf(b, &s->out, false);
		xml_buf_puts(b, "</system-out>\n");
	}
	xml_buf_puts(b, "  </testsuite>\n");
	xml_buf_reset(&s->props);
	xml_buf_reset(&s->cases);
	xml_buf_reset(&s->out);
}

/*
 * The whole document around the suites; time_ms < 0: the suites' sum.
 * Allocated (the caller frees), or NULL with an allocated *cause.
 */
static char *
doc_finish(struct xml_buf *suites, const char *name,
    const struct junit_counts *c, int64_t time_ms, char **cause)
{
	struct xml_buf	 b = { 0 };
	char		 secs[32], *doc;

	fmt_secs(time_ms >= 0 ? time_ms : c->time_ms, secs, sizeof secs);
	xml_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	xml_buf_puts(&b, "<testsuites");
	xml_buf_attr(&b, "name", name);
	xml_buf_printf(&b, " tests=\"%u\" failures=\"%u\" errors=\"%u\" "
	    "skipped=\"%u\"", c->tests, c->failures, c->errors, c->skipped);
	xml_buf_attr(&b, "time", secs);
	xml_buf_puts(&b, ">\n");
	xml_buf_cat(&b, suites);
	xml_buf_puts(&b, "</testsuites>\n");
	xml_buf_reset(suites);
	if ((doc = xml_buf_finish(&b)) == NULL)
		cause_set(cause, "out of memory writing the JUnit report");
	return doc;
}

static const char *
run_hostname(const json_t *run)
{
	const char	*h;

	if ((h = jstr(run, "hostname")) != NULL)
		return h;
	if ((h = jstr(json_object_get(run, "agent"), "hostname")) != NULL)
		return h;
	return "localhost";
}

/* When it started, else when it was made: the suite's timestamp. */
static json_int_t
start_ns(const json_t *o)
{
	json_int_t	ns;

	if (jint(o, "started_ns", &ns) || jint(o, "created_ns", &ns))
		return ns;
	return 0;
}

static void
run_summary(struct xml_buf *t, const json_t *run, json_int_t id,
    const char *seed, size_t total)
{
	const char	*verdict = jstr(run, "verdict");

	xml_buf_printf(t, "run %" JSON_INTEGER_FORMAT ": plan ", id);
	add_jstr(t, run, "plan", "?");
	xml_buf_puts(t, " from ");
	add_jstr(t, run, "source", "?");
	xml_buf_puts(t, ", backend ");
	add_jstr(t, run, "backend", "?");
	xml_buf_printf(t, ", seed %s\n", seed);
	verdict_text(t, run);
	xml_buf_printf(t, "\nfindings: %zu", total);
	kinds_text(t, run);
	xml_buf_puts(t, "\n");
	if (verdict != NULL && strcmp(verdict, "pass") != 0)
		xml_buf_printf(t, "reproduce: hotsoak rerun %" JSON_INTEGER_FORMAT
		    " --times %d\n", id, JUNIT_RERUN_TIMES);
}

char *
junit_run(const json_t *run, const json_t *findings, char **cause)
{
	struct junit_suite	 s = { 0 };
	struct junit_case	 jc = { 0 };
	struct xml_buf		 suites = { 0 };
	const char		*plan;
	json_int_t		 id;
	char			 seed[32], *name, *classname, *title;
	char			*doc = NULL;

	if (!json_is_object(run) || !jint(run, "id", &id) ||
	    (plan = jstr(run, "plan")) == NULL) {
		cause_set(cause, "not a run: no id or plan");
		return NULL;
	}
	if (findings != NULL && !json_is_array(findings)) {
		cause_set(cause, "run %" JSON_INTEGER_FORMAT ": the findings are "
		    "not an array", id);
		return NULL;
	}
	fmt_seed(run, seed, sizeof seed);
	name = fmt_alloc("%s (run %" JSON_INTEGER_FORMAT ", seed %s)", plan, id,
	    seed);
	classname = fmt_alloc("hotsoak.%s", plan);
	title = fmt_alloc("hotsoak run %" JSON_INTEGER_FORMAT " (%s)", id, plan);
	if (name == NULL || classname == NULL || title == NULL) {
		cause_set(cause, "out of memory writing the JUnit report");
		goto out;
	}

	suite_prop_int(&s, "run", id);
	suite_prop_jstr(&s, "plan", run, "plan");
	suite_prop_jstr(&s, "source", run, "source");
	suite_prop(&s, "seed", seed);
	suite_prop_jstr(&s, "backend", run, "backend");
	suite_prop_jstr(&s, "status", run, "status");
	suite_prop_jstr(&s, "verdict", run, "verdict");
	suite_prop_jstr(&s, "reason", run, "reason");
	suite_prop_jstr(&s, "created", run, "created");
	suite_prop_jstr(&s, "started", run, "started");
	suite_prop_jstr(&s, "finished", run, "finished");
	suite_prop_int(&s, "findings", (int64_t)findings_total(run, findings));

	jc.name = name;
	jc.classname = classname;
	jc.run = run;
	jc.findings = findings;
	suite_case(&s, &jc);
	run_summary(&s.out, run, id, seed, findings_total(run, findings));
	suite_write(&suites, &s, plan, "hotsoak", run_hostname(run),
	    start_ns(run), 0);
	doc = doc_finish(&suites, title, &s.c, -1, cause);
out:
	free(name);
	free(classname);
	free(title);
	return doc;
}

/* One plan of a campaign run: its context while its suite is written. */
struct junit_plan {
	const json_t	*crun;
	const json_t	*plan;
	const json_t	*findings_by_run;
	const char	*campaign;
	const char	*name;		/* the plan's name */
	char		*classname;
	json_int_t	 crun_id;
	json_int_t	 index;
	json_int_t	 first_ns;	/* earliest attempt start, or 0 */
};

/* "attempt 1 fail (run 32), attempt 2 pass (run 33)" */
static char *
flaky_note(json_int_t rep, const json_t *attempts)
{
	struct xml_buf	 t = { 0 };
	json_t		*a;
	const char	*verdict;
	json_int_t	 run, number;
	size_t		 i;

	xml_buf_printf(&t, "repetition %" JSON_INTEGER_FORMAT " is flaky:",
	    rep);
	json_array_foreach(attempts, i, a) {
		if (!jint(a, "run", &run))
			run = 0;
		if (!jint(a, "attempt", &number))
			number = (json_int_t)i + 1;
		verdict = jstr(a, "verdict");
		xml_buf_printf(&t, "%s attempt %" JSON_INTEGER_FORMAT " %s (run %"
		    JSON_INTEGER_FORMAT ")", i ? "," : "", number,
		    verdict != NULL ? verdict : "running", run);
	}
	return xml_buf_finish(&t);
}

/* The findings of one run from findings_by_run: NULL when none. */
static int
plan_findings(const struct junit_plan *p, json_int_t run,
    const json_t **findings, char **cause)
{
	char	key[32];
	json_t	*f;

	snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT, run);
	f = json_object_get(p->findings_by_run, key);
	if (f != NULL && !json_is_array(f) && !json_is_null(f))
		return cause_set(cause, "findings of run %s are not an array",
		    key);
	*findings = json_is_array(f) ? f : NULL;
	return 0;
}

static void
attempt_summary(struct xml_buf *t, const json_t *a, json_int_t number,
    json_int_t run, const char *seed)
{
	const char	*verdict = jstr(a, "verdict");

	xml_buf_printf(t, "  attempt %" JSON_INTEGER_FORMAT ": %s (run %"
	    JSON_INTEGER_FORMAT ", seed %s)", number, verdict != NULL ?
	    verdict : jstr(a, "status") != NULL ? jstr(a, "status") : "pending",
	    run, seed);
	if (verdict != NULL && strcmp(verdict, "pass") != 0 &&
	    json_is_string(json_object_get(a, "reason"))) {
		xml_buf_puts(t, ": ");
		add_jstr(t, a, "reason", "");
	}
	xml_buf_puts(t, "\n");
}

/* One repetition's testcases, one per attempt (one when none started). */
static int
plan_repetition(struct junit_suite *s, struct junit_plan *p,
    const json_t *r, size_t ri, struct xml_buf *repro, char **cause)
{
	struct junit_case	 jc = { 0 };
	const json_t		*attempts = json_object_get(r, "attempts");
	const char		*verdict = jstr(r, "verdict");
	json_t			*a;
	json_int_t		 rep, number, run, ns;
	size_t			 ai;
	char			 seed[32], *name = NULL, *note = NULL;
	int			 rc = -1;

	if (!json_is_object(r))
		return cause_set(cause, "plan %" JSON_INTEGER_FORMAT ": a "
		    "repetition is not an object", p->index);
	if (!jint(r, "repetition", &rep))
		rep = (json_int_t)ri + 1;
	xml_buf_printf(&s->out, "repetition %" JSON_INTEGER_FORMAT ": %s\n",
	    rep, verdict != NULL ? verdict : json_array_size(attempts) > 0 ?
	    "running" : "not started");
	jc.classname = p->classname;
	if (json_array_size(attempts) == 0) {
		if ((name = fmt_alloc("%s #%" JSON_INTEGER_FORMAT
		    " (not started)", p->name, rep)) == NULL)
			return cause_set(cause, "out of memory");
		jc.name = name;
		suite_case(s, &jc);
		free(name);
		return 0;
	}
	if (verdict != NULL && strcmp(verdict, "flaky") == 0 &&
	    (note = flaky_note(rep, attempts)) == NULL)
		return cause_set(cause, "out of memory");
	json_array_foreach(attempts, ai, a) {
		if (!json_is_object(a)) {
			cause_set(cause, "plan %" JSON_INTEGER_FORMAT ", repetition %"
			    JSON_INTEGER_FORMAT ": an attempt is not an object",
			    p->index, rep);
			goto out;
		}
		if (!jint(a, "attempt", &number))
			number = (json_int_t)ai + 1;
		if (!jint(a, "run", &run))
			run = 0;
		if (jint(a, "started_ns", &ns) && ns > 0 &&
		    (p->first_ns == 0 || ns < p->first_ns))
			p->first_ns = ns;
		fmt_seed(a, seed, sizeof seed);
		jc.run = a;
		jc.note = note;
		if (plan_findings(p, run, &jc.findings, cause) != 0)
			goto out;
		if ((name = fmt_alloc("%s #%" JSON_INTEGER_FORMAT " attempt %"
		    JSON_INTEGER_FORMAT " (run %" JSON_INTEGER_FORMAT ", seed %s)",
		    p->name, rep, number, run, seed)) == NULL) {
			cause_set(cause, "out of memory");
			goto out;
		}
		jc.name = name;
		suite_case(s, &jc);
		free(name);
		name = NULL;
		attempt_summary(&s->out, a, number, run, seed);
		if (jstr(a, "verdict") != NULL &&
		    strcmp(jstr(a, "verdict"), "pass") != 0)
			xml_buf_printf(repro, "reproduce run %" JSON_INTEGER_FORMAT
			    ": hotsoak rerun %" JSON_INTEGER_FORMAT " --times %d\n",
			    run, run, JUNIT_RERUN_TIMES);
	}
	rc = 0;
out:
	free(note);
	return rc;
}

/* "2,5": the plan's flaky repetitions; "" when none. */
static char *
plan_flaky(const json_t *reps)
{
	struct xml_buf	 t = { 0 };
	json_t		*r;
	json_int_t	 rep;
	size_t		 i;
	const char	*v;

	json_array_foreach(reps, i, r) {
		if ((v = jstr(r, "verdict")) == NULL || strcmp(v, "flaky") != 0)
			continue;
		if (!jint(r, "repetition", &rep))
			rep = (json_int_t)i + 1;
		xml_buf_printf(&t, "%s%" JSON_INTEGER_FORMAT, t.len ? "," : "",
		    rep);
	}
	return xml_buf_finish(&t);
}

static void
plan_header(struct junit_suite *s, const struct junit_plan *p,
    const char *flaky)
{
	const char	*verdict = jstr(p->plan, "verdict");

	suite_prop(s, "campaign", p->campaign);
	suite_prop_int(s, "campaign_run", p->crun_id);
	suite_prop_jstr(s, "campaign_verdict", p->crun, "verdict");
	suite_prop(s, "plan", p->name);
	suite_prop_jstr(s, "file", p->plan, "file");
	suite_prop(s, "verdict", verdict != NULL ? verdict : "running");
	suite_prop(s, "flaky", flaky);

	xml_buf_printf(&s->out, "campaign %s, campaign run %"
	    JSON_INTEGER_FORMAT, p->campaign, p->crun_id);
	if (jstr(p->crun, "trigger") != NULL)
		xml_buf_printf(&s->out, " (%s)", jstr(p->crun, "trigger"));
	xml_buf_puts(&s->out, ": ");
	verdict_text(&s->out, p->crun);
	xml_buf_printf(&s->out, "\nplan %s", p->name);
	if (jstr(p->plan, "file") != NULL) {
		xml_buf_puts(&s->out, " (");
		add_jstr(&s->out, p->plan, "file", "");
		xml_buf_puts(&s->out, ")");
	}
	xml_buf_printf(&s->out, ": %s", verdict != NULL ? verdict : "running");
	if (flaky[0] != '\0')
		xml_buf_printf(&s->out, "; flaky repetitions: %s", flaky);
	xml_buf_puts(&s->out, "\n");
}

/* One plan's testsuite into suites; its counts added to all. */
static int
campaign_plan(struct xml_buf *suites, struct junit_counts *all,
    struct junit_plan *p, const char *hostname, char **cause)
{
	struct junit_suite	 s = { 0 };
	struct xml_buf		 repro = { 0 };
	const json_t		*reps = json_object_get(p->plan, "repetitions");
	json_t			*r;
	size_t			 ri;
	char			*flaky, *suite, *package;
	int			 rc = -1;

	p->classname = fmt_alloc("hotsoak.%s.%s", p->campaign, p->name);
	suite = fmt_alloc("%s/%s", p->campaign, p->name);
	package = fmt_alloc("hotsoak.%s", p->campaign);
	flaky = plan_flaky(reps);
	if (p->classname == NULL || suite == NULL || package == NULL ||
	    flaky == NULL) {
		cause_set(cause, "out of memory");
		goto out;
	}
	plan_header(&s, p, flaky);
	json_array_foreach(reps, ri, r) {
		if (plan_repetition(&s, p, r, ri, &repro, cause) != 0)
			goto out;
	}
	xml_buf_cat(&s.out, &repro);
	counts_add(all, &s.c);
	suite_write(suites, &s, suite, package, hostname, p->first_ns != 0 ?
	    p->first_ns : start_ns(p->crun), p->index);
	rc = 0;
out:
	xml_buf_reset(&s.props);
	xml_buf_reset(&s.cases);
	xml_buf_reset(&s.out);
	xml_buf_reset(&repro);
	free(p->classname);
	p->classname = NULL;
	free(flaky);
	free(suite);
	free(package);
	return rc;
}

char *
junit_campaign_run(const json_t *crun, const json_t *findings_by_run,
    char **cause)
{
	struct junit_counts	 all = { 0 };
	struct junit_plan	 p;
	struct xml_buf		 suites = { 0 };
	const json_t		*plans = json_object_get(crun, "plans");
	const char		*campaign, *hostname;
	json_t			*plan;
	json_int_t		 id, ms;
	size_t			 i;
	char			 buf[32], *title, *doc;

	if (!json_is_object(crun) || !jint(crun, "id", &id) ||
	    (campaign = jstr(crun, "campaign")) == NULL ||
	    !json_is_array(plans)) {
		cause_set(cause, "not a campaign run: no id, campaign or plans");
		return NULL;
	}
	if (findings_by_run != NULL && !json_is_object(findings_by_run)) {
		cause_set(cause, "campaign run %" JSON_INTEGER_FORMAT ": the "
		    "findings by run are not an object", id);
		return NULL;
	}
	if ((hostname = jstr(crun, "hostname")) == NULL)
		hostname = "localhost";
	json_array_foreach(plans, i, plan) {
		if (!json_is_object(plan)) {
			cause_set(cause, "campaign run %" JSON_INTEGER_FORMAT
			    ": plan %zu is not an object", id, i);
			goto err;
		}
		memset(&p, 0, sizeof p);
		p.crun = crun;
		p.plan = plan;
		p.findings_by_run = findings_by_run;
		p.campaign = campaign;
		p.crun_id = id;
		if (!jint(plan, "index", &p.index))
			p.index = (json_int_t)i;
		snprintf(buf, sizeof buf, "plan %zu", i);
		if ((p.name = jstr(plan, "plan")) == NULL &&
		    (p.name = jstr(plan, "file")) == NULL)
			p.name = buf;
		if (campaign_plan(&suites, &all, &p, hostname, cause) != 0)
			goto err;
	}
	if ((title = fmt_alloc("hotsoak campaign %s, campaign run %"
	    JSON_INTEGER_FORMAT, campaign, id)) == NULL) {
		cause_set(cause, "out of memory writing the JUnit report");
		goto err;
	}
	/* Wall time when it has one; while it runs, the attempts' sum. */
	if (!jint(crun, "elapsed_ms", &ms))
		ms = -1;
	doc = doc_finish(&suites, title, &all, ms, cause);
	free(title);
	return doc;

err:
	xml_buf_reset(&suites);
	return NULL;
}
