/* util.h: the few helpers every module of the agent and the daemon wants:
 * an allocated error cause, clocks in nanoseconds, a 64-bit mixer. */
#ifndef HOTSOAK_UTIL_H
#define HOTSOAK_UTIL_H

#include <stdint.h>

/*
 * Sets *cause to the formatted message (allocated; the caller frees it,
 * NULL when out of memory; cause itself may be NULL) and returns -1, so
 * `return cause_set(...)` reports and fails in one.
 */
int		cause_set(char **cause, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/* CLOCK_MONOTONIC and CLOCK_REALTIME in nanoseconds. */
uint64_t	clock_mono_ns(void);
uint64_t	clock_wall_ns(void);

/* splitmix64: one step from x; seeds generators, derives ids. */
uint64_t	splitmix64(uint64_t x);

#endif
