/* io-json.h: engine events as the JSON findings the agent reports, the same
 * in standalone summaries and in finding messages to the daemon. */
#ifndef HOTSOAK_AGENT_IO_JSON_H
#define HOTSOAK_AGENT_IO_JSON_H

#include <jansson.h>

#include "io.h"

/* Finding kind of an event ("corruption", "io_timeout", ...), or NULL for a late completion. */
const char	*io_event_kind_name(const struct io_event *);

/*
 * {kind, title, time_ns, detail: {...}} for ev. Caller owns the result.
 * The title is stable across runs (no offsets or times) so the same
 * failure coming back can be counted.
 */
json_t		*io_event_to_json(const struct io_event *);

/* The counters as a JSON object. Caller owns the result. */
json_t		*io_totals_to_json(const struct io_totals *);

#endif
