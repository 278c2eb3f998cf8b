/* step-random.c: `random` picks one of its steps at seeded random intervals,
 * so a soak explores orderings while any run can be replayed from its seed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/units.h"
#include "step.h"

struct random_args {
	uint64_t		min_ms;		/* shortest wait before a choice */
	uint64_t		max_ms;		/* longest wait before a choice */
	unsigned		times;		/* choices made per pass */
	struct plan_steps	choose;		/* the steps chosen from */
};

#define RANDOM_MAX_MS	(86400000ULL)

/* "5s..30s" (wait uniformly between) or "10s" (always that long). */
static int
random_interval_decode(struct plan_parser *pp, const struct pnode *n,
    void *base)
{
	struct random_args	*a = base;
	const char		*dots;
	char			*lo, *cause = NULL;
	size_t			 at = 0;

	if (n->type != PNODE_SCALAR || pnode_is_null(n))
		return pp_error(pp, n, "`random.interval` must be a duration or a range "
		    "such as 5s..30s, not %s", pnode_describe(n));
	if (strchr(n->text, ' ') != NULL)
		return pp_error(pp, n, "`random.interval` is written without "
		    "spaces: 1s..30s");
	if ((dots = strstr(n->text, "..")) == NULL) {
		if (decode_duration(pp, n, "random.interval", 1, RANDOM_MAX_MS,
		    &a->min_ms) == -1)
			return -1;
		a->max_ms = a->min_ms;
		return 0;
	}
	if ((lo = strndup(n->text, (size_t)(dots - n->text))) == NULL)
		return pp_error(pp, n, "out of memory");
	if (units_parse_duration(lo, &a->min_ms, &cause, &at) == -1) {
		free(lo);
		pp_error_at(pp, pnode_mark_at(n, at), "`random.interval`: %s",
		    cause ? cause : "out of memory");
		free(cause);
		return -1;
	}
	free(lo);
	if (units_parse_duration(dots + 2, &a->max_ms, &cause, &at) == -1) {
		pp_error_at(pp, pnode_mark_at(n, (size_t)(dots - n->text) + 2 + at),
		    "`random.interval`: %s", cause ? cause : "out of memory");
		free(cause);
		return -1;
	}
	if (a->max_ms == 0 || a->max_ms > RANDOM_MAX_MS)
		return pp_error(pp, n, "`random.interval` must end between 1ms and 1d");
	if (a->min_ms > a->max_ms)
		return pp_error(pp, n, "`random.interval` %s runs backwards: the first "
		    "duration is the shortest wait", n->text);
	return 0;
}

static json_t *
random_interval_encode(const void *base)
{
	const struct random_args	*a = base;
	char				 lo[UNITS_FORMAT_MAX], hi[UNITS_FORMAT_MAX];
	char				 buf[2 * UNITS_FORMAT_MAX + 2];

	units_format_duration(a->min_ms, lo, sizeof lo);
	if (a->min_ms == a->max_ms)
		return json_string(lo);
	units_format_duration(a->max_ms, hi, sizeof hi);
	snprintf(buf, sizeof buf, "%s..%s", lo, hi);
	return json_string(buf);
}

static int
random_choose_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	struct random_args	*a = base;

	return steps_decode_field(pp, n, &a->choose, "random.choose");
}

static json_t *
random_choose_encode(const void *base)
{
	const struct random_args	*a = base;

	return steps_encode(&a->choose);
}

static const struct field random_fields[] = {
	{ "interval", FIELD_CUSTOM, 0, FIELD_REQUIRED,
	  .decode = random_interval_decode, .encode = random_interval_encode,
	  .help = "wait before each choice: a duration or MIN..MAX" },
	{ "times", FIELD_UINT, offsetof(struct random_args, times), 0,
	  .min = 1, .max = 1000000, .help = "choices made per pass" },
	{ "choose", FIELD_CUSTOM, 0, FIELD_REQUIRED,
	  .decode = random_choose_decode, .encode = random_choose_encode,
	  .help = "the steps one is chosen from each time" },
	FIELD_END
};

static void
random_init(void *data)
{
	struct random_args	*a = data;

	a->times = 1;
}

/* Any choice may come up every time, so the worst case is the largest. */
static void
random_demand(const void *data, struct plan_demand *d)
{
	const struct random_args	*a = data;
	struct plan_demand		 one;
	uint64_t			 cpus = 0, mem = 0, ops = 0;
	size_t				 i;

	for (i = 0; i < a->choose.n; i++) {
		memset(&one, 0, sizeof one);
		if (a->choose.v[i].entry != NULL &&
		    a->choose.v[i].entry->demand != NULL)
			a->choose.v[i].entry->demand(a->choose.v[i].data, &one);
		if (one.cpus > cpus)
			cpus = one.cpus;
		if (one.memory > mem)
			mem = one.memory;
		if (one.memory_ops > ops)
			ops = one.memory_ops;
	}
	d->cpus = sat_mul(cpus, a->times);
	d->memory = sat_mul(mem, a->times);
	d->memory_ops = sat_mul(ops, a->times);
}

static void
random_free(void *data)
{
	struct random_args	*a = data;

	steps_free(&a->choose);
}

static int
random_exec(struct step_run *sr, const void *data)
{
	const struct random_args	*a = data;

	return step_run_random(sr, &a->choose, a->min_ms, a->max_ms, a->times);
}

const struct step_entry step_random = {
	.name = "random",
	.summary = "at seeded random intervals, run one step chosen from a list",
	.size = sizeof(struct random_args),
	.fields = random_fields,
	.init = random_init,
	.demand = random_demand,
	.free = random_free,
	.exec = random_exec,
};
