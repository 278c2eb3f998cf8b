/* units.h: the duration and size spellings plans use ("250ms", "1h30m",
 * "512KiB", "4k") and their canonical forms, shared by the loader and reports. */
#ifndef HOTSOAK_UNITS_H
#define HOTSOAK_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Longest text units_format_* writes, with its NUL. */
#define UNITS_FORMAT_MAX 32

/*
 * Parse a duration: one or more <digits><unit> groups, units ms s m h d, in
 * falling order ("1h30m"). Stores milliseconds. On error returns -1, sets
 * *cause to an allocated message the caller frees and *at to the byte offset
 * of the offending character in s.
 */
int	units_parse_duration(const char *s, uint64_t *ms, char **cause, size_t *at);

/*
 * Parse a size: <digits>[unit] with units B KiB MiB GiB TiB, or the binary
 * shorthands k K m M g G t T. A bare number is bytes. Stores bytes. Errors as
 * for units_parse_duration.
 */
int	units_parse_size(const char *s, uint64_t *bytes, char **cause, size_t *at);

/* Canonical spelling that units_parse_duration reads back ("1h30m", "250ms", "0s"). */
void	units_format_duration(uint64_t ms, char *buf, size_t len);

/* Canonical spelling that units_parse_size reads back ("512KiB", "1000"). */
void	units_format_size(uint64_t bytes, char *buf, size_t len);

#endif
