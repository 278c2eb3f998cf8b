/* kmsg.h: the agent's watch on the guest kernel log: /dev/kmsg records
 * parsed, and crash and warning reports picked out of any kernel log text. */
#ifndef HOTSOAK_AGENT_KMSG_H
#define HOTSOAK_AGENT_KMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KMSG_RECORD_MAX		8192	/* one /dev/kmsg record */
#define KMSG_DICT_MAX		1024	/* its KEY=VALUE lines, decoded */
#define KMSG_LINE_MAX		1024	/* longer log lines are cut */
#define KMSG_TITLE_MAX		128
#define KMSG_REPORT_LINES	64	/* a report is cut after this many */
#define KMSG_EVENT_LINES	100	/* report and the panic after it */
#define KMSG_TAIL_LINES		32	/* lines a panic may come after one */
#define KMSG_WINDOW_USEC	2000000	/* kernel time a report may span */
#define KMSG_IDLE_MS		2000	/* quiet log: the open report closes */
#define KMSG_TS_NONE		UINT64_MAX	/* no kernel time known */

/*
 * One /dev/kmsg record: "PRI,SEQ,TS_USEC,FLAGS[,...];MESSAGE\n" and then
 * " KEY=VALUE\n" lines. Text and dictionary are decoded from the kernel's
 * \xNN escapes and made display-safe: NUL-terminated, valid UTF-8, no
 * control bytes but \n (a message may hold several lines) and \t.
 */
struct kmsg_record {
	unsigned	level;		/* 0 (emerg) .. 7 (debug) */
	unsigned	facility;	/* 0: the kernel; others: user space */
	uint64_t	seq;
	uint64_t	ts_usec;	/* since boot */
	char		flags;		/* '-'; 'c' or '+' on old fragments */
	char		text[KMSG_RECORD_MAX];
	size_t		text_len;
	char		dict[KMSG_DICT_MAX];	/* "KEY=VALUE\0"... */
	size_t		dict_len;
	size_t		ndict;
	bool		truncated;	/* text or dictionary did not fit */
};

/* Parses the len bytes at rec; -1 when they are no record (r is then undefined). */
int		 kmsg_parse_record(const char *rec, size_t len,
		    struct kmsg_record *r);

/* The record's value for key ("SUBSYSTEM", "DEVICE") or NULL; points into r. */
const char	*kmsg_record_dict(const struct kmsg_record *r, const char *key);

enum kmsg_kind {
	KMSG_BUGCHECK,		/* the kernel crashed, or killed a task: a bug */
	KMSG_WARNING,		/* the kernel saw something wrong, carried on */
	KMSG_LOST,		/* not a finding: records overwritten unread */
	KMSG_KIND_COUNT		/* number of kinds, not a kind */
};

/* "bugcheck", "warning", "lost": the names findings use. */
extern const char *const kmsg_kind_names[KMSG_KIND_COUNT];

/*
 * A finding candidate: one kernel report. The title is short and the same
 * each time the same failure comes back (no addresses, PIDs, CPUs or
 * times), so the daemon can count repeats by it.
 */
struct kmsg_event {
	enum kmsg_kind	 kind;
	const char	*rule;		/* "oops", "warning", ...: static */
	char		 title[KMSG_TITLE_MAX];
	char		*text;		/* the lines, each ending in \n; NULL
					   for KMSG_LOST or out of memory */
	size_t		 nlines;
	uint64_t	 ts_usec;	/* of the first line, or KMSG_TS_NONE */
	uint64_t	 seq;		/* of the first line's record */
	uint64_t	 lost;		/* KMSG_LOST: how many; 0: unknown */
	bool		 panicked;	/* a panic joined: the guest is dying */
	bool		 truncated;	/* lines are missing (limits, gaps) */
};

/* Frees what the event owns and zeroes it. NULL is a no-op. */
void		 kmsg_event_clear(struct kmsg_event *ev);

/*
 * Classifier: fed plain log lines one at a time (kmsg record lines, or the
 * daemon's serial-console lines with their "[  12.345678]" prefixes), it
 * groups each report's lines into one event.
 */
struct kmsg_classifier;

/* A classifier the caller frees with kmsg_classifier_free, or NULL (ENOMEM). */
struct kmsg_classifier *kmsg_classifier_new(void);
void		 kmsg_classifier_free(struct kmsg_classifier *c);

/*
 * Feeds one line (len bytes, no NUL needed; a trailing \r\n is dropped).
 * ts_usec is its kernel time, or KMSG_TS_NONE to take it from a leading
 * "[ secs.usecs]" if there is one; seq is passed through to the event.
 * Returns 1 when the line completed an event, which is moved into *ev (the
 * caller owns it: kmsg_event_clear), and 0 otherwise. One line completes at
 * most one event.
 */
int		 kmsg_classifier_feed(struct kmsg_classifier *c,
		    const char *line, size_t len, uint64_t ts_usec, uint64_t seq,
		    struct kmsg_event *ev);

/* Closes the open event, if any, into *ev as feeding does; 1 if there was one. */
int		 kmsg_classifier_flush(struct kmsg_classifier *c,
		    struct kmsg_event *ev);

/* Whether an event is open (and a flush would return one). */
bool		 kmsg_classifier_pending(const struct kmsg_classifier *c);

/* Lines went missing: the open event, if any, is marked truncated. */
void		 kmsg_classifier_lost(struct kmsg_classifier *c);

/*
 * Watch: reads records from /dev/kmsg (one per read(), as the kernel gives
 * them) or the same text from a regular file or FIFO (split at lines that
 * do not start with a space) and classifies the kernel's own records.
 */
struct kmsg_watch;

struct kmsg_stats {
	uint64_t	records;	/* records parsed */
	uint64_t	malformed;	/* input that was no record: skipped */
	uint64_t	user;		/* user space's records: not classified */
	uint64_t	lost;		/* overwritten before read, when known */
	uint64_t	overruns;	/* times read() said EPIPE */
	uint64_t	events;		/* events handed out, notes included */
};

enum kmsg_status {
	KMSG_DRAINED,		/* all read: wait for the fd or the timeout */
	KMSG_FULL,		/* ev[] is full: call again before waiting */
	KMSG_EOF,		/* a file or FIFO ended; every event is out */
	KMSG_ERROR		/* read failed, *cause says why: close it */
};

/*
 * Opens path ("/dev/kmsg", or a file or FIFO in tests and replays) without
 * blocking. Unless from_start, what is already there is skipped. Returns
 * the watch (caller frees with kmsg_close) or NULL with *cause set to an
 * allocated message the caller frees. A FIFO reads as ended until a writer
 * opens it.
 */
struct kmsg_watch *kmsg_open(const char *path, bool from_start, char **cause);
void		 kmsg_close(struct kmsg_watch *w);

/* The descriptor to poll for reading. */
int		 kmsg_fd(const struct kmsg_watch *w);

/*
 * Reads what is available and hands out up to max (>= 1) events into ev,
 * their count in *n; the caller owns each (kmsg_event_clear). A "lost"
 * note comes first when the kernel overwrote records before we read them.
 */
enum kmsg_status kmsg_read(struct kmsg_watch *w, struct kmsg_event *ev,
		    size_t max, size_t *n, char **cause);

/*
 * Milliseconds until an open report goes stale and the next kmsg_read will
 * close it even if no record comes; -1 when no report is open. A dying
 * kernel's last report has no line after it, so the caller arms a timer.
 */
int		 kmsg_timeout_ms(const struct kmsg_watch *w);

/* How long a quiet log keeps a report open (default KMSG_IDLE_MS). */
void		 kmsg_set_idle(struct kmsg_watch *w, unsigned ms);

void		 kmsg_stats(const struct kmsg_watch *w, struct kmsg_stats *st);

/*
 * Tests only: records come from fn, one per call, as read(2) on /dev/kmsg
 * gives them (-1 with errno EAGAIN, EPIPE, ...), instead of from the fd.
 */
void		 kmsg_set_reader(struct kmsg_watch *w,
		    ssize_t (*fn)(void *arg, void *buf, size_t len), void *arg);

#endif
