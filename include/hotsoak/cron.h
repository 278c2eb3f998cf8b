/* cron.h: five-field cron schedules (minute hour day-of-month month
 * day-of-week, local time) and the @-shortcuts, for campaign schedules. */
#ifndef HOTSOAK_CRON_H
#define HOTSOAK_CRON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct cron {
	uint64_t	minutes;	/* bit n: minute n, 0-59 */
	uint32_t	hours;		/* bit n: hour n, 0-23 */
	uint32_t	mdays;		/* bit n: day of month n, 1-31 */
	uint16_t	months;		/* bit n: month n, 1-12 */
	uint8_t		wdays;		/* bit n: weekday n, 0 = Sunday */
	/*
	 * Set when the field's text begins with "*" (Vixie cron's DOM_STAR and
	 * DOW_STAR, stepped stars included). If either is set a day must match
	 * both day fields, else either one.
	 */
	unsigned	dom_star:1;	/* day-of-month field began with "*" */
	unsigned	dow_star:1;	/* day-of-week field began with "*" */
};

/*
 * Parse expr into *c. On error returns -1, sets *cause to an allocated
 * message the caller frees and *at to the byte offset in expr it concerns.
 */
int	cron_parse(const char *expr, struct cron *c, char **cause, size_t *at);

/*
 * The first minute strictly after `after` that c matches, in local time, or
 * (time_t)-1 when none comes within eight years (e.g. "0 0 30 2 *").
 *
 * Where the clock changes, a schedule whose minute or hour field covers every
 * value follows real time. Any other (fixed-time) schedule runs once for a
 * wall-clock minute the clock repeats, at its first occurrence, and runs late
 * rather than not at all when the clock jumps over a minute it matches: once,
 * at the first whole minute after the jump, however many it skipped.
 */
time_t	cron_next(const struct cron *c, time_t after);

#endif
