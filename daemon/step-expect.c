/* step-expect.c: `expect` asserts the guest's own view of its CPUs and
 * memory within a deadline: software that never notices a hot-add fails. */
#include "config.h"

#include <inttypes.h>

#include "hotsoak/units.h"
#include "step.h"

/*
 * The guest's memory is what its online memory blocks add up to (boot
 * memory plus what was hot-added and onlined), not MemTotal, which the
 * kernel's own reservations keep below that.
 */
struct expect_args {
	unsigned	guest_cpus;		/* online CPUs the guest reports; 0: unchecked */
	uint64_t	guest_memory_at_least;	/* online memory floor; 0: unchecked */
	uint64_t	within_ms;		/* deadline from the step's start */
};

static const struct field expect_fields[] = {
	{ "guest_cpus", FIELD_UINT, offsetof(struct expect_args, guest_cpus),
	  FIELD_OPTIONAL, .min = 1, .max = 1024,
	  .help = "CPUs the guest must report online" },
	{ "guest_memory_at_least", FIELD_SIZE,
	  offsetof(struct expect_args, guest_memory_at_least), FIELD_OPTIONAL,
	  .min = 1, .max = 1ULL << 50,
	  .help = "memory the guest must report, at least" },
	{ "within", FIELD_DURATION, offsetof(struct expect_args, within_ms), 0,
	  .min = 1, .max = 86400000,
	  .help = "how long the condition may take to hold" },
	FIELD_END
};

static void
expect_init(void *data)
{
	struct expect_args	*a = data;

	a->within_ms = 30000;
}

/* A condition the target can never meet is a plan bug, caught before a run. */
static int
expect_check(struct plan_parser *pp, const struct pnode *n, void *data)
{
	struct expect_args		*a = data;
	const struct plan_target	*t = &pp->plan->target;
	char				 have[UNITS_FORMAT_MAX];
	int				 rc = 0;

	if (a->guest_cpus == 0 && a->guest_memory_at_least == 0)
		return pp_error(pp, n, "expect needs `guest_cpus` or "
		    "`guest_memory_at_least`");
	if (!pp->target_ok)
		return 0;
	if (a->guest_cpus > t->cpus_max)
		rc = pp_error(pp, pnode_map_get(n, "guest_cpus"), "guest_cpus %u "
		    "can never hold: target.cpus.max is %u", a->guest_cpus,
		    t->cpus_max);
	if (a->guest_memory_at_least > t->memory_max) {
		units_format_size(t->memory_max, have, sizeof have);
		rc = pp_error(pp, pnode_map_get(n, "guest_memory_at_least"),
		    "guest_memory_at_least can never hold: target.memory.max "
		    "is %s", have);
	}
	return rc;
}

static int
expect_exec(struct step_run *sr, const void *data)
{
	const struct expect_args	*a = data;

	return step_run_expect(sr, a->guest_cpus, a->guest_memory_at_least,
	    a->within_ms);
}

const struct step_entry step_expect = {
	.name = "expect",
	.summary = "check the guest's view of its CPUs and memory within a deadline",
	.size = sizeof(struct expect_args),
	.fields = expect_fields,
	.init = expect_init,
	.check = expect_check,
	.exec = expect_exec,
};
