/* step-repeat.c: `repeat: {times, steps}` runs a nested list of steps a
 * fixed number of times, for cycles such as replace-then-verify. */
#include "config.h"

#include "step.h"

struct repeat_args {
	unsigned		times;
	struct plan_steps	steps;
};

static int
repeat_steps_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	struct repeat_args	*a = base;

	return steps_decode_field(pp, n, &a->steps, "repeat.steps");
}

static json_t *
repeat_steps_encode(const void *base)
{
	const struct repeat_args	*a = base;

	return steps_encode(&a->steps);
}

static const struct field repeat_fields[] = {
	{ "times", FIELD_UINT, offsetof(struct repeat_args, times),
	  FIELD_REQUIRED, .min = 1, .max = 1000000,
	  .help = "how many times to run the steps" },
	{ "steps", FIELD_CUSTOM, 0, FIELD_REQUIRED,
	  .decode = repeat_steps_decode, .encode = repeat_steps_encode,
	  .help = "the steps to repeat" },
	FIELD_END
};

static void
repeat_demand(const void *data, struct plan_demand *d)
{
	const struct repeat_args	*a = data;
	struct plan_demand		 one = { 0, 0, 0 };

	steps_demand(&a->steps, &one);
	d->cpus = sat_mul(one.cpus, a->times);
	d->memory = sat_mul(one.memory, a->times);
	d->memory_ops = sat_mul(one.memory_ops, a->times);
}

static void
repeat_free(void *data)
{
	struct repeat_args	*a = data;

	steps_free(&a->steps);
}

static int
repeat_exec(struct step_run *sr, const void *data)
{
	const struct repeat_args	*a = data;

	return step_run_repeat(sr, &a->steps, a->times);
}

const struct step_entry step_repeat = {
	.name = "repeat",
	.summary = "run nested steps a number of times",
	.size = sizeof(struct repeat_args),
	.fields = repeat_fields,
	.demand = repeat_demand,
	.free = repeat_free,
	.exec = repeat_exec,
};
