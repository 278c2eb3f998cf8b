/* stopcode.h: Windows bug-check (STOP) codes by their documented names, and
 * QEMU's GUEST_PANICKED event data turned into a finding's detail. */
#ifndef HOTSOAK_STOPCODE_H
#define HOTSOAK_STOPCODE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define STOPCODE_TITLE_MAX	96	/* "STOP 0x0000000A IRQL_NOT_..." fits */

/*
 * The name Microsoft's bug check code reference gives code
 * ("IRQL_NOT_LESS_OR_EQUAL" for 0xA), or NULL for a code not in the table.
 * The string is static.
 */
const char	*stopcode_name(uint64_t code);

/* The code of a documented name (exact, upper case); -1 if none has it. */
int		 stopcode_from_name(const char *name, uint64_t *code);

/*
 * The title findings use, the same whichever way the crash was seen (QMP or
 * the serial console), so repeats count together: "STOP 0x0000000A
 * IRQL_NOT_LESS_OR_EQUAL", or "STOP 0x0000BEEF" for a code without a name.
 */
void		 stopcode_title(uint64_t code, char *buf, size_t size);

/*
 * QMP's GUEST_PANICKED data ({"action": ..., "info": {"type": "hyper-v",
 * "arg1".."arg5": N}}; data and info may be missing) as a finding's detail:
 * a new object the caller owns (json_decref), NULL only when out of memory.
 * Always "action" (a string, or null); with any info its "info_type"; with
 * hyper-v info also "stop_code" ("0x0000000A"), "stop_name" (or null),
 * "parameters" (arg2..arg5 as "0x%016X", null where missing) and "title".
 * Values that are not non-negative integers count as missing: the rest is
 * still reported.
 */
json_t		*stopcode_panic_detail(const json_t *data);

#endif
