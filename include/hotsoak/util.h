/* util.h: the few helpers every module of the agent and the daemon wants:
 * an allocated error cause, clocks in nanoseconds, a 64-bit mixer. */
#ifndef HOTSOAK_UTIL_H
#define HOTSOAK_UTIL_H

#include <stddef.h>
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

/*
 * Length of the valid UTF-8 sequence at p (n bytes left, n >= 1), or 0:
 * overlong forms, surrogates and code points past U+10FFFF are refused
 * (RFC 3629), as jansson refuses them.
 */
size_t		utf8_seq_len(const unsigned char *p, size_t n);

/* splitmix64: one step from x; seeds generators, derives ids. */
uint64_t	splitmix64(uint64_t x);

#endif
