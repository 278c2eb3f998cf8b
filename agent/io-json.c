/* io-json.c: engine events and counters as JSON, for summaries and for
 * finding and report messages. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "io-json.h"

const char *
io_event_kind_name(const struct io_event *ev)
{
	switch (ev->kind) {
	case IO_EVENT_CORRUPTION:
		return "corruption";
	case IO_EVENT_TIMEOUT:
		return "io_timeout";
	case IO_EVENT_ERROR:
		return "io_error";
	case IO_EVENT_LATE:
		return NULL;
	}
	return NULL;
}

static json_t *
stamp_to_json(const struct stamp *s)
{
	char	magic[19], run[19];

	/* 64-bit identities as hex: JSON numbers lose bits past 2^53. */
	snprintf(magic, sizeof magic, "0x%016llx", (unsigned long long)s->magic);
	snprintf(run, sizeof run, "0x%016llx", (unsigned long long)s->run_id);
	return json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:I}",
	    "magic", magic,
	    "offset", (json_int_t)s->offset,
	    "run_id", run,
	    "generation", (json_int_t)s->generation,
	    "writer", (json_int_t)s->writer,
	    "sequence", (json_int_t)s->sequence,
	    "timestamp_ns", (json_int_t)s->timestamp_ns);
}

json_t *
io_event_to_json(const struct io_event *ev)
{
	const char	*op = ev->write ? "write" : "read";
	json_t		*detail, *o;
	char		 title[128];

	switch (ev->kind) {
	case IO_EVENT_CORRUPTION:
		snprintf(title, sizeof title, "%s block on read",
		    stamp_result_names[ev->result]);
		detail = json_pack("{s:s, s:I, s:I, s:I, s:o, s:o}",
		    "class", stamp_result_names[ev->result],
		    "offset", (json_int_t)ev->offset,
		    "length", (json_int_t)ev->len,
		    "sector", (json_int_t)ev->bad_sector,
		    "expected", stamp_to_json(&ev->expected),
		    "found", ev->found.magic != 0 ? stamp_to_json(&ev->found) :
		    json_null());
		break;
	case IO_EVENT_TIMEOUT:
		snprintf(title, sizeof title, "%s still in flight past its "
		    "io_timeout", op);
		detail = json_pack("{s:s, s:I, s:I, s:I}", "op", op,
		    "offset", (json_int_t)ev->offset, "length", (json_int_t)ev->len,
		    "age_ms", (json_int_t)(ev->age_ns / 1000000));
		break;
	case IO_EVENT_ERROR:
		snprintf(title, sizeof title, "%s failed: %s", op,
		    strerror(ev->error));
		detail = json_pack("{s:s, s:I, s:I, s:i, s:s}", "op", op,
		    "offset", (json_int_t)ev->offset, "length", (json_int_t)ev->len,
		    "errno", ev->error, "error", strerror(ev->error));
		break;
	case IO_EVENT_LATE:
	default:
		snprintf(title, sizeof title, "%s completed after its deadline",
		    op);
		detail = json_pack("{s:s, s:I, s:I, s:I}", "op", op,
		    "offset", (json_int_t)ev->offset, "length", (json_int_t)ev->len,
		    "latency_ms", (json_int_t)(ev->age_ns / 1000000));
		break;
	}
	if (detail == NULL)
		return NULL;
	json_object_set_new(detail, "worker", json_integer(ev->worker));
	o = json_pack("{s:s, s:s, s:I, s:o}",
	    "kind", io_event_kind_name(ev) ? io_event_kind_name(ev) : "late",
	    "title", title, "time_ns", (json_int_t)ev->time_ns,
	    "detail", detail);
	return o;
}

json_t *
io_totals_to_json(const struct io_totals *t)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:i}",
	    "ios", (json_int_t)t->ios,
	    "reads", (json_int_t)t->reads,
	    "writes", (json_int_t)t->writes,
	    "bytes_read", (json_int_t)t->bytes_read,
	    "bytes_written", (json_int_t)t->bytes_written,
	    "blocks_verified", (json_int_t)t->verified,
	    "errors", (json_int_t)t->errors,
	    "timeouts", (json_int_t)t->timeouts,
	    "corruptions", (json_int_t)t->corruptions,
	    "workers", (int)t->workers,
	    "inflight", (int)t->inflight);
}
