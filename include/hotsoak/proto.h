/* proto.h: the wire protocol between hotsoakd and hotsoak-agent (JSON lines,
 * a table of message types) and the line reader and encoder both sides link. */
#ifndef HOTSOAK_PROTO_H
#define HOTSOAK_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* PROTOCOL.md beside this header is the reference; keep the two in step. */
#define PROTO_VERSION		1
/* Bytes of one line before its '\n' (a '\r' before the '\n' counts). */
#define PROTO_MAX_LINE		(256 * 1024)
/* Largest id: every JSON implementation holds it exactly in a double. */
#define PROTO_MAX_ID		((UINT64_C(1) << 53) - 1)
/* proto_encode_error cuts a longer detail, so an error always fits a line. */
#define PROTO_MAX_DETAIL	1024

/*
 * Error codes, the "error" member of an error message. The reader reports
 * the first five; the rest are the daemon's and the agent's to send.
 */
#define PROTO_E_MALFORMED	"malformed"	/* not one JSON object of valid UTF-8 */
#define PROTO_E_OVERSIZED	"oversized"	/* a line longer than PROTO_MAX_LINE */
#define PROTO_E_UNKNOWN_TYPE	"unknown_type"	/* a "type" this version does not know */
#define PROTO_E_BAD_FIELD	"bad_field"	/* a member missing, ill-typed or out of range */
#define PROTO_E_WRONG_DIRECTION	"wrong_direction" /* a type the reading side never receives */
#define PROTO_E_HANDSHAKE	"handshake"	/* anything but hello before hello was accepted */
#define PROTO_E_UNAUTHORIZED	"unauthorized"	/* hello with a token the daemon refuses */
#define PROTO_E_VERSION		"version"	/* hello with a version the daemon cannot speak */
#define PROTO_E_BUSY		"busy"		/* not now: the agent is in a state that forbids it */
#define PROTO_E_FAILED		"failed"	/* tried and failed; detail says why */

/* Order is the table's in proto.c; the wire uses names, never these numbers. */
enum proto_type {
	PROTO_HELLO,		/* agent: who it is; first on every connection */
	PROTO_REPLY,		/* either: a request succeeded, with its results */
	PROTO_ERROR,		/* either: a request or line failed */
	PROTO_CONFIGURE,	/* daemon: the workload and its settings */
	PROTO_START,		/* daemon: start the workload */
	PROTO_STOP,		/* daemon: stop the workload */
	PROTO_QUIESCE,		/* daemon: hold new I/O, drain what is in flight */
	PROTO_RESUME,		/* daemon: undo quiesce or pseudo_s4 */
	PROTO_PSEUDO_S4,	/* daemon: enter the guest's pseudo-S4 (hot replace) */
	PROTO_ONLINE,		/* daemon: online new CPUs and memory blocks now */
	PROTO_GET_TOPOLOGY,	/* daemon: the reply carries the topology snapshot */
	PROTO_CRASH,		/* daemon: crash the guest kernel on purpose (inject) */
	PROTO_ADD_TARGET,	/* daemon: find a hot-added disk, run verified I/O on it too */
	PROTO_HEARTBEAT,	/* agent: alive (a notification, never answered) */
	PROTO_REPORT,		/* agent: counters and latencies of one interval */
	PROTO_FINDING,		/* agent: something went wrong in the guest */
	PROTO_TOPOLOGY,		/* agent: the CPUs and memory the guest sees */
	PROTO_TYPE_COUNT	/* number of types, not a type */
};

/* The side that reads, so the side whose messages are allowed in. */
enum proto_side {
	PROTO_SIDE_AGENT,	/* the agent reads what the daemon sends */
	PROTO_SIDE_DAEMON	/* the daemon reads what the agent sends */
};

#define PROTO_TO_AGENT		(1U << PROTO_SIDE_AGENT)
#define PROTO_TO_DAEMON		(1U << PROTO_SIDE_DAEMON)
#define PROTO_TO_BOTH		(PROTO_TO_AGENT | PROTO_TO_DAEMON)

/* JSON types a member may have; integers are never negative here. */
enum proto_ftype {
	PROTO_F_UINT,		/* a JSON integer >= 0 (a real such as 1.0 is not) */
	PROTO_F_ID,		/* a JSON integer from 1 to PROTO_MAX_ID */
	PROTO_F_ID_OR_NULL,	/* a PROTO_F_ID, or null */
	PROTO_F_STRING,		/* a JSON string */
	PROTO_F_BOOL,		/* true or false (not 0 or 1) */
	PROTO_F_OBJECT		/* a JSON object */
};

struct proto_field {
	const char	*name;		/* the member's key; NULL ends a list */
	enum proto_ftype type;
	bool		 optional;	/* may be absent (never null unless the type says) */
	const char *const *choices;	/* a string's allowed values, NULL-terminated, or NULL */
};

#define PROTO_MAX_FIELDS	10	/* per type, the NULL end included */

struct proto_type_entry {
	const char	*name;		/* the "type" member on the wire */
	unsigned	 to;		/* PROTO_TO_AGENT, PROTO_TO_DAEMON or PROTO_TO_BOTH */
	bool		 request;	/* carries an id; answered by one reply or error */
	bool		 handshake;	/* must come first on a connection and be accepted */
	const char	*summary;	/* one line for docs and logs */
	/* Members besides "type" and "id". Others are allowed and ignored. */
	struct proto_field fields[PROTO_MAX_FIELDS];
};

extern const struct proto_type_entry proto_types[PROTO_TYPE_COUNT];

/* The wire name of t, or NULL when t is not a type. */
const char	*proto_type_name(enum proto_type t);
/* The type named name, or -1. */
int		 proto_type_find(const char *name);
/* Whether t carries an id and waits for a reply or error. */
bool		 proto_is_request(enum proto_type t);

/* One message as read. */
struct proto_msg {
	enum proto_type	 type;
	uint64_t	 id;		/* requests: 1 to PROTO_MAX_ID; else 0 */
	uint64_t	 re;		/* reply and error: the request answered; else 0 */
	bool		 has_re;	/* false for an error with "re": null */
	/*
	 * The whole object, every member checked against the table, so a
	 * handler reads required members without checking them again. Borrowed:
	 * the reader drops it when the handler returns; json_incref to keep it.
	 */
	json_t		*obj;
};

/* One line the reader refused. Strings live until the handler returns. */
struct proto_bad {
	uint64_t	 re;		/* the line's id when it had a valid one, else 0 */
	const char	*code;		/* PROTO_E_MALFORMED ... PROTO_E_WRONG_DIRECTION */
	const char	*detail;	/* for people: printable ASCII, under 256 bytes */
	const char	*field;		/* with PROTO_E_BAD_FIELD: the member at fault */
	int		 type;		/* the line's enum proto_type when known, else -1 */
	/*
	 * Whether to send back proto_encode_error(re, code, detail). False
	 * when the line claimed to be a reply or an error: answering those
	 * could start two peers trading errors forever.
	 */
	bool		 answer;
};

/*
 * Each line ends in exactly one call: on_msg for a message, on_bad for
 * anything else (empty lines are skipped). A handler returns 0 to go on, or
 * nonzero to stop: proto_reader_feed then returns 1 without touching the
 * reader again, so the handler may free it (to drop the connection, say).
 */
struct proto_handler {
	int	(*on_msg)(void *arg, const struct proto_msg *msg);
	int	(*on_bad)(void *arg, const struct proto_bad *bad);
};

/* What a reader has seen; every counter only grows. */
struct proto_stats {
	uint64_t	lines;		/* '\n' seen: every line, empty and oversized too */
	uint64_t	messages;	/* lines handed to on_msg */
	uint64_t	malformed;
	uint64_t	oversized;
	uint64_t	unknown;	/* unknown_type */
	uint64_t	bad_field;
	uint64_t	wrong_direction;
};

/*
 * Splits a byte stream into lines and lines into messages. Read the fields,
 * never write them: buf holds the unfinished line and cap never exceeds
 * PROTO_MAX_LINE, whatever the input.
 */
struct proto_reader {
	enum proto_side	 side;
	char		*buf;		/* the unfinished line, not NUL-terminated */
	size_t		 len;		/* bytes in buf */
	size_t		 cap;		/* bytes allocated for buf */
	bool		 skipping;	/* inside an oversized line, dropping to its '\n' */
	struct proto_stats stats;
};

void	proto_reader_init(struct proto_reader *r, enum proto_side side);
/* Frees the buffer, not r itself; NULL is a no-op. */
void	proto_reader_free(struct proto_reader *r);
/* Drops an unfinished line, as a new connection must; keeps the stats. */
void	proto_reader_reset(struct proto_reader *r);
/* Bytes of an unfinished line: nonzero at EOF means the peer stopped mid-line. */
size_t	proto_reader_buffered(const struct proto_reader *r);

/*
 * Feeds len bytes, split anywhere, to the reader, calling h for every line
 * they finish. An oversized line goes to on_bad as soon as it passes
 * PROTO_MAX_LINE and the rest of it is dropped unread. Returns 0; 1 when a
 * handler asked to stop (the rest of buf is dropped); -1 with errno ENOMEM
 * when out of memory, the line in hand lost (the caller should hang up).
 */
int	proto_reader_feed(struct proto_reader *r, const void *buf, size_t len,
	    const struct proto_handler *h, void *arg);

/*
 * One line, '\n'-terminated and NUL-terminated, of a message of type t:
 * id for a request (1 to PROTO_MAX_ID; 0 for anything else), re for a reply
 * (1 to PROTO_MAX_ID) or an error (0 sends null; 0 for anything else).
 * fields is stolen (NULL is an empty object) and is checked against the
 * table, so a sender cannot emit what its peer refuses. Returns the line,
 * which the caller frees, and its length without the NUL in *len (when len
 * is not NULL); or NULL with errno EINVAL (bad id, re or fields; "type",
 * "id" or "re" among fields), EMSGSIZE (longer than PROTO_MAX_LINE) or ENOMEM.
 */
char	*proto_encode(enum proto_type t, uint64_t id, uint64_t re,
	    json_t *fields, size_t *len);
/* A reply to request re; fields stolen, NULL for none. Caller frees. */
char	*proto_encode_reply(uint64_t re, json_t *fields, size_t *len);
/*
 * An error answering re (0: none known) with a PROTO_E_* code. detail may be
 * NULL; it is cut to PROTO_MAX_DETAIL bytes and invalid UTF-8 in it becomes
 * '?', so only a bad code or memory fails this. Caller frees.
 */
char	*proto_encode_error(uint64_t re, const char *code, const char *detail,
	    size_t *len);

#endif
