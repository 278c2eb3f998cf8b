/* console.c: follows the serial console file QEMU writes for a guest, cuts
 * it into display-safe lines and picks out reports and hibernation steps. */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "hotsoak/util.h"
#include "console.h"
#include "log.h"
#include "stopcode.h"

#define CONSOLE_CHUNK	65536		/* one read() */

const char *const console_pm_names[CONSOLE_PM_COUNT] = {
	[CONSOLE_PM_ENTRY] = "entry",
	[CONSOLE_PM_TEST_WAIT] = "test-wait",
	[CONSOLE_PM_RESUME] = "resume",
	[CONSOLE_PM_EXIT] = "exit",
	[CONSOLE_PM_FAILED] = "failed",
};

struct console_watch {
	struct event_base	*base;
	struct event		*timer;
	char			*path;
	struct console_hooks	 hooks;

	int			 fd;		/* -1: not open (yet) */
	dev_t			 dev;		/* of the file fd reads */
	ino_t			 ino;
	off_t			 off;		/* bytes read from fd */
	int			 err;		/* errno of the last failed read */
	int			 logged;	/* err last logged: once, not every tick */
	char			 in[CONSOLE_CHUNK];

	char			 part[CONSOLE_LINE_MAX]; /* the line so far */
	size_t			 plen;
	bool			 cut;		/* part is full: the rest goes */
	uint64_t		 nlines;
	uint64_t		 last_ms;	/* CLOCK_MONOTONIC, last line */

	struct kmsg_classifier	*cls;
	bool			 pm_cycle;	/* between entry (or resume) and exit */

	/* A Windows STOP report being collected. */
	bool			 stop_open;
	struct kmsg_event	 stop;
	size_t			 stop_len, stop_cap;

	/* The last lines, a ring: ring[(head + i) % max] for i < nring. */
	char			*ring[CONSOLE_TAIL_MAX];
	size_t			 head, nring;

	char			*crash_title;	/* NULL: no crash line yet */
	char			*crash[CONSOLE_CRASH_LINES];
	size_t			 ncrash;

	bool			 busy;		/* reading: hooks may run */
	bool			 dying;		/* freed from a hook */
};

static void	watch_destroy(struct console_watch *);

/* ---- Display-safe lines ---- */

/*
 * Where the escape sequence at s[i] (an ESC) ends. Guests colour their
 * console (systemd's "[  OK  ]", grub, Windows' EMS): the sequences go
 * whole, not as a stray "[0;32m" once the ESC is dropped.
 */
static size_t
esc_end(const unsigned char *s, size_t n, size_t i)
{
	size_t	j = i + 2;

	if (i + 1 >= n)
		return n;
	switch (s[i + 1]) {
	case '[':	/* CSI: parameters, intermediates, one final byte */
		while (j < n && s[j] >= 0x30 && s[j] <= 0x3f)
			j++;
		while (j < n && s[j] >= 0x20 && s[j] <= 0x2f)
			j++;
		return j < n && s[j] >= 0x40 && s[j] <= 0x7e ? j + 1 : j;
	case ']':	/* OSC: up to BEL or ESC \ */
		for (; j < n; j++) {
			if (s[j] == 0x07)
				return j + 1;
			if (s[j] == 0x1b)
				return j + 1 < n && s[j + 1] == '\\' ? j + 2 : j;
		}
		return n;
	case '(':	/* character set designations: one byte more */
	case ')':
		return j < n ? j + 1 : n;
	default:
		return j;
	}
}

/*
 * Copies the raw line s[0..n) into out (size bytes, NUL-terminated) for
 * display and JSON: escape sequences and control bytes go, a tab becomes a
 * space, bytes that start no valid UTF-8 sequence become '?'.
 */
static size_t
line_clean(const char *raw, size_t n, char *out, size_t size)
{
	const unsigned char	*s = (const unsigned char *)raw;
	size_t			 i = 0, o = 0, k;

	while (i < n && o + 1 < size) {
		if (s[i] == 0x1b) {
			i = esc_end(s, n, i);
			continue;
		}
		if (s[i] == '\t') {
			out[o++] = ' ';
			i++;
			continue;
		}
		if (s[i] < 0x20 || s[i] == 0x7f) {
			i++;
			continue;
		}
		if ((k = utf8_seq_len(s + i, n - i)) == 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		if (k == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0) {
			i += 2;		/* a C1 control */
			continue;
		}
		if (o + k >= size)
			break;
		memcpy(out + o, s + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return o;
}

/*
 * The text of a console line after what the kernel puts before it: a
 * "<4>" level, the "[   12.345678]" time and a "[  T123]" caller.
 */
static const char *
line_text(const char *line)
{
	const char	*p = line, *q;

	if (*p == '<') {
		for (q = p + 1; isdigit((unsigned char)*q); q++)
			;
		if (q > p + 1 && *q == '>')
			p = q + 1;
	}
	while (*p == '[') {
		for (q = p + 1; *q == ' '; q++)
			;
		if (*q == 'T' || *q == 'C')
			q++;
		if (!isdigit((unsigned char)*q))
			break;
		while (isdigit((unsigned char)*q) || *q == '.')
			q++;
		if (*q != ']')
			break;
		p = q + 1;
		if (*p == ' ')
			p++;
	}
	return p;
}

/* ---- Signatures ---- */

/*
 * Hibernation steps, as Linux 6.1 prints them (kernel/power/hibernate.c,
 * whose pr_fmt is "PM: hibernation: ", and process.c), and as later
 * kernels reword them. Matched at the start of the line's text.
 */
enum pm_cycle {
	PM_CYCLE_ANY,		/* the line is the step wherever it comes */
	PM_CYCLE_BEGIN,		/* the step, and a cycle is under way */
	PM_CYCLE_END,		/* the step, and the cycle is over */
	PM_CYCLE_ONLY		/* the step only inside a cycle: suspend to
				   RAM and failed freezes print it too */
};
struct console_pm_rule {
	const char	*prefix;
	enum console_pm	 what;
	enum pm_cycle	 cycle;
};
static const struct console_pm_rule console_pm_rules[] = {
	{ "PM: hibernation: hibernation entry", CONSOLE_PM_ENTRY,
	  PM_CYCLE_BEGIN },
	/* hibernation_debug_sleep(): pm_test holds the devices suspended. */
	{ "PM: hibernation: debug: Waiting for ", CONSOLE_PM_TEST_WAIT,
	  PM_CYCLE_ANY },
	{ "PM: hibernation: hibernation debug: Waiting for ",
	  CONSOLE_PM_TEST_WAIT, PM_CYCLE_ANY },
	{ "PM: hibernation: resume from hibernation", CONSOLE_PM_RESUME,
	  PM_CYCLE_BEGIN },
	/* pm_pr_dbg(): "PM: " only in 6.1, the pr_fmt prefix later. */
	{ "PM: Hibernation image restored successfully", CONSOLE_PM_EXIT,
	  PM_CYCLE_ANY },
	{ "PM: hibernation: Hibernation image restored successfully",
	  CONSOLE_PM_EXIT, PM_CYCLE_ANY },
	/* thaw_processes(): one line by pr_cont in 6.1, two later. */
	{ "Restarting tasks ... done", CONSOLE_PM_EXIT, PM_CYCLE_ONLY },
	{ "Restarting tasks: Done", CONSOLE_PM_EXIT, PM_CYCLE_ONLY },
	{ "Done restarting tasks", CONSOLE_PM_EXIT, PM_CYCLE_ONLY },
	{ "PM: hibernation: hibernation exit", CONSOLE_PM_EXIT, PM_CYCLE_END },
	{ "PM: hibernation: resume failed", CONSOLE_PM_FAILED, PM_CYCLE_END },
	{ "PM: hibernation: Failed to load image", CONSOLE_PM_FAILED,
	  PM_CYCLE_ANY },
	{ "PM: hibernation: Some devices failed to power down",
	  CONSOLE_PM_FAILED, PM_CYCLE_ANY },
	{ "PM: hibernation: Some system devices failed to power down",
	  CONSOLE_PM_FAILED, PM_CYCLE_ANY },
	{ "PM: hibernation: Error ", CONSOLE_PM_FAILED, PM_CYCLE_ANY },
};
#define N_PM_RULES (sizeof console_pm_rules / sizeof console_pm_rules[0])

/* The rule text matches, or NULL. */
static const struct console_pm_rule *
pm_match(const struct console_watch *w, const char *text)
{
	const struct console_pm_rule	*r;
	size_t				 i;

	for (i = 0; i < N_PM_RULES; i++) {
		r = &console_pm_rules[i];
		if (strncmp(text, r->prefix, strlen(r->prefix)) != 0)
			continue;
		if (r->cycle == PM_CYCLE_ONLY && !w->pm_cycle)
			return NULL;
		return r;
	}
	return NULL;
}

/*
 * Windows bug-check screens, which the kmsg rules do not know. A serial
 * console shows them with Emergency Management Services (bcdedit /ems on):
 * "*** STOP: 0x000000D1 (0x..,0x..,0x..,0x..)" and the name on the next
 * line up to Server 2003, "Stop code: NAME" (or a code) since Windows 8,
 * and "*** Fatal System Error: 0x000000d1" from a kernel debugger.
 */
enum stop_arg {
	STOP_ARG_CODE,		/* a hex code follows */
	STOP_ARG_CODE_OR_NAME	/* a hex code or a documented name */
};
struct console_stop_rule {
	const char	*prefix;
	enum stop_arg	 arg;
};
static const struct console_stop_rule console_stop_rules[] = {
	{ "*** STOP: ", STOP_ARG_CODE },
	{ "STOP: ", STOP_ARG_CODE },
	{ "*** Fatal System Error: ", STOP_ARG_CODE },
	{ "Stop code: ", STOP_ARG_CODE_OR_NAME },
};
#define N_STOP_RULES (sizeof console_stop_rules / sizeof console_stop_rules[0])

/* Parses a "0x1E" or "0000001e" code at *p; -1 if there is none. */
static int
stop_hex(const char *p, uint64_t *code)
{
	uint64_t	v = 0;
	size_t		n = 0;
	int		d;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; isxdigit((unsigned char)p[n]); n++) {
		if (n == 16)
			return -1;
		d = isdigit((unsigned char)p[n]) ? p[n] - '0' :
		    tolower((unsigned char)p[n]) - 'a' + 10;
		v = v << 4 | (uint64_t)d;
	}
	/* The code is a word of its own: "STOP: 0x7B (", not "STOP: 7Bad". */
	if (n == 0 || isalnum((unsigned char)p[n]) || p[n] == '_')
		return -1;
	*code = v;
	return 0;
}

/*
 * Whether text is the first line of a Windows bug check; its title (as
 * stopcode_title makes it, so that QMP and the console agree) into buf.
 */
static bool
stop_match(const char *text, char *buf, size_t size)
{
	const struct console_stop_rule	*r;
	const char			*p;
	char				 name[64];
	uint64_t			 code;
	size_t				 i, n;

	while (*text == ' ')
		text++;
	for (i = 0; i < N_STOP_RULES; i++) {
		r = &console_stop_rules[i];
		if (strncmp(text, r->prefix, strlen(r->prefix)) != 0)
			continue;
		p = text + strlen(r->prefix);
		while (*p == ' ')
			p++;
		if (stop_hex(p, &code) == 0) {
			stopcode_title(code, buf, size);
			return true;
		}
		if (r->arg != STOP_ARG_CODE_OR_NAME)
			continue;
		n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
		if (n < 3 || n >= sizeof name || (p[n] != '\0' && p[n] != ' '))
			continue;
		memcpy(name, p, n);
		name[n] = '\0';
		if (stopcode_from_name(name, &code) == 0)
			stopcode_title(code, buf, size);
		else
			snprintf(buf, size, "STOP %s", name);
		return true;
	}
	return false;
}

/*
 * The lines that begin a crash for console_watch_crash: what the kmsg
 * rules call a bugcheck. The BUG lines of the first table are warnings
 * there (the kernel carries on), so they do not start one here either.
 */
static const char *const crash_survived[] = {
	"BUG: soft lockup", "BUG: sleeping function called from invalid context",
	"BUG: scheduling while atomic", "BUG: workqueue lockup",
};
static const char *const crash_prefixes[] = {
	"Kernel panic - not syncing", "BUG:", "Oops", "kernel BUG at ",
	"general protection fault", "Unable to handle kernel ",
	"Internal error:", "invalid opcode:",
};

static bool
crash_match(const char *text)
{
	char	title[STOPCODE_TITLE_MAX];
	size_t	i;

	for (i = 0; i < sizeof crash_survived / sizeof crash_survived[0]; i++)
		if (strncmp(text, crash_survived[i],
		    strlen(crash_survived[i])) == 0)
			return false;
	for (i = 0; i < sizeof crash_prefixes / sizeof crash_prefixes[0]; i++)
		if (strncmp(text, crash_prefixes[i],
		    strlen(crash_prefixes[i])) == 0)
			return true;
	return strstr(text, "Watchdog detected hard LOCKUP") != NULL ||
	    stop_match(text, title, sizeof title);
}

/* ---- Hooks ---- */

static void
hook_report(struct console_watch *w, struct kmsg_event *ev)
{
	if (w->hooks.report != NULL && !w->dying)
		w->hooks.report(w->hooks.arg, ev);
	kmsg_event_clear(ev);
}

/* Closes the Windows report being collected, if any, and reports it. */
static void
stop_close(struct console_watch *w)
{
	struct kmsg_event	ev;

	if (!w->stop_open)
		return;
	ev = w->stop;
	memset(&w->stop, 0, sizeof w->stop);
	w->stop_open = false;
	w->stop_len = w->stop_cap = 0;
	hook_report(w, &ev);
}

static void
stop_append(struct console_watch *w, const char *line)
{
	size_t	 n = strlen(line), cap;
	char	*p;

	if (w->stop_len + n + 2 > w->stop_cap) {
		cap = w->stop_cap == 0 ? 4096 : w->stop_cap;
		while (cap < w->stop_len + n + 2)
			cap *= 2;
		if ((p = realloc(w->stop.text, cap)) == NULL) {
			w->stop.truncated = true;
			return;
		}
		w->stop.text = p;
		w->stop_cap = cap;
	}
	memcpy(w->stop.text + w->stop_len, line, n);
	w->stop_len += n;
	w->stop.text[w->stop_len++] = '\n';
	w->stop.text[w->stop_len] = '\0';
	w->stop.nlines++;
}

/* Feeds line to the Windows report: starts, extends or ends one. */
static void
stop_feed(struct console_watch *w, const char *text)
{
	char	title[STOPCODE_TITLE_MAX];

	if (stop_match(text, title, sizeof title)) {
		stop_close(w);
		if (w->dying)
			return;
		memset(&w->stop, 0, sizeof w->stop);
		w->stop.kind = KMSG_BUGCHECK;
		w->stop.rule = "stop";
		snprintf(w->stop.title, sizeof w->stop.title, "%s", title);
		w->stop.ts_usec = KMSG_TS_NONE;
		w->stop.seq = w->nlines;
		w->stop.panicked = true;	/* Windows stops at a bug check */
		w->stop_open = true;
		stop_append(w, text);
		return;
	}
	if (!w->stop_open)
		return;
	stop_append(w, text);
	if (w->stop.nlines >= CONSOLE_STOP_LINES)
		stop_close(w);
}

/* Closes what is open: the guest is stopped, or quiet for long enough. */
static void
reports_flush(struct console_watch *w)
{
	struct kmsg_event	ev;

	if (kmsg_classifier_flush(w->cls, &ev))
		hook_report(w, &ev);
	if (!w->dying)
		stop_close(w);
}

/* ---- Lines ---- */

/* Keeps a copy of line in the ring, dropping the oldest when full. */
static void
ring_push(struct console_watch *w, const char *line)
{
	char	*copy;
	size_t	 slot;

	if ((copy = strdup(line)) == NULL)
		return;
	if (w->nring == CONSOLE_TAIL_MAX) {
		free(w->ring[w->head]);
		w->ring[w->head] = copy;
		w->head = (w->head + 1) % CONSOLE_TAIL_MAX;
		return;
	}
	slot = (w->head + w->nring) % CONSOLE_TAIL_MAX;
	w->ring[slot] = copy;
	w->nring++;
}

/*
 * The first crash line and those after it, for console_watch_crash: the
 * first is the cause; what follows (a panic after an Oops) is its doing.
 */
static void
crash_track(struct console_watch *w, const char *line, const char *text)
{
	char	*copy;

	if (w->crash_title == NULL) {
		if (!crash_match(text) ||
		    (w->crash_title = strdup(text)) == NULL)
			return;
	}
	if (w->ncrash < CONSOLE_CRASH_LINES && (copy = strdup(line)) != NULL)
		w->crash[w->ncrash++] = copy;
}

/* One whole line, display-safe: keep it, then tell the hooks. */
static void
line_take(struct console_watch *w, const char *line)
{
	const struct console_pm_rule	*r;
	struct kmsg_event		 ev;
	const char			*text = line_text(line);

	w->nlines++;
	w->last_ms = clock_mono_ns() / 1000000;
	ring_push(w, line);
	crash_track(w, line, text);

	if (w->hooks.line != NULL) {
		w->hooks.line(w->hooks.arg, line);
		if (w->dying)
			return;
	}
	if ((r = pm_match(w, text)) != NULL) {
		if (r->cycle == PM_CYCLE_BEGIN)
			w->pm_cycle = true;
		else if (r->cycle == PM_CYCLE_END)
			w->pm_cycle = false;
		if (w->hooks.pm != NULL) {
			w->hooks.pm(w->hooks.arg, r->what, line);
			if (w->dying)
				return;
		}
	}
	stop_feed(w, text);
	if (w->dying)
		return;
	if (kmsg_classifier_feed(w->cls, line, strlen(line), KMSG_TS_NONE,
	    w->nlines, &ev))
		hook_report(w, &ev);
}

/* The line in part[] is complete (or must be taken as it is). */
static void
line_end(struct console_watch *w)
{
	char	clean[CONSOLE_LINE_MAX];
	size_t	n = w->plen;

	if (!w->cut && n > 0 && w->part[n - 1] == '\r')
		n--;
	line_clean(w->part, n, clean, sizeof clean);
	w->plen = 0;
	w->cut = false;
	line_take(w, clean);
}

/* Splits n bytes read at lines; a partial line waits in part[]. */
static void
bytes_take(struct console_watch *w, const char *p, size_t n)
{
	const char	*nl;
	size_t		 len, room;

	while (n > 0 && !w->dying) {
		nl = memchr(p, '\n', n);
		len = nl != NULL ? (size_t)(nl - p) : n;
		room = sizeof w->part - 1 - w->plen;
		if (len > room) {
			/* Kept: the start; the rest of a long line goes. */
			w->cut = true;
			memcpy(w->part + w->plen, p, room);
			w->plen += room;
		} else {
			memcpy(w->part + w->plen, p, len);
			w->plen += len;
		}
		if (nl == NULL)
			return;
		line_end(w);
		p = nl + 1;
		n -= len + 1;
	}
}

/* ---- The file ---- */

static void
file_close(struct console_watch *w)
{
	if (w->fd != -1)
		close(w->fd);
	w->fd = -1;
	w->off = 0;
}

/* 0 when open, 1 when the file is not there yet, -1 with *cause. */
static int
file_open(struct console_watch *w, char **cause)
{
	struct stat	st;
	int		fd;

	/* Nonblocking: a FIFO put there by mistake must not hang the daemon. */
	if ((fd = open(w->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (errno == ENOENT)
			return 1;
		w->err = errno;
		return cause_set(cause, "%s: %s", w->path, strerror(w->err));
	}
	if (fstat(fd, &st) == -1) {
		w->err = errno;
		close(fd);
		return cause_set(cause, "%s: %s", w->path, strerror(w->err));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		w->err = EINVAL;
		return cause_set(cause, "%s: not a regular file", w->path);
	}
	w->fd = fd;
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->off = 0;
	return 0;
}

/*
 * At the end of what fd holds: has the file been cut short or replaced
 * (QEMU started again opens it with O_TRUNC; a new file at the path is a
 * new console)? Then the partial line is taken as it is and reading starts
 * over. Returns true when there is more to read.
 */
static bool
file_restart(struct console_watch *w)
{
	struct stat	st;
	bool		replaced;

	if (stat(w->path, &st) == -1)
		return false;	/* removed: keep what was read */
	replaced = st.st_dev != w->dev || st.st_ino != w->ino;
	if (!replaced && (fstat(w->fd, &st) == -1 || st.st_size >= w->off))
		return false;
	if (w->plen > 0 || w->cut)
		line_end(w);
	if (w->dying)
		return false;
	if (replaced) {
		file_close(w);
		return true;	/* reopened by the caller's next step */
	}
	if (lseek(w->fd, 0, SEEK_SET) == -1) {
		file_close(w);
		return true;
	}
	w->off = 0;
	return true;
}

/*
 * Reads what the file holds, max bytes at most (0: no limit), and takes
 * its lines. -1 with *cause when it cannot be read; the file is then
 * opened again next time.
 */
static int
file_read(struct console_watch *w, size_t max, char **cause)
{
	size_t	total = 0;
	ssize_t	n;
	int	rc;

	while (!w->dying) {
		if (w->fd == -1) {
			if ((rc = file_open(w, cause)) != 0)
				return rc == 1 ? 0 : -1;
		}
		if (max != 0 && total >= max)
			return 0;
		n = read(w->fd, w->in, sizeof w->in);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == -1) {
			w->err = errno;
			file_close(w);
			return cause_set(cause, "%s: %s", w->path,
			    strerror(w->err));
		}
		if (n == 0) {
			if (!file_restart(w))
				return 0;
			continue;
		}
		w->off += n;
		total += (size_t)n;
		bytes_take(w, w->in, (size_t)n);
	}
	return 0;
}

/* ---- The watch ---- */

/* Logs a failed read once per kind of failure: it is retried every tick. */
static void
watch_failed(struct console_watch *w, const char *cause)
{
	if (w->err != w->logged)
		log_warnx("console: %s", cause != NULL ? cause : "out of memory");
	w->logged = w->err;
}

static void
watch_tick(evutil_socket_t fd, short events, void *arg)
{
	struct console_watch	*w = arg;
	char			*cause = NULL;
	uint64_t		 now;

	w->busy = true;
	if (file_read(w, CONSOLE_READ_MAX, &cause) == -1)
		watch_failed(w, cause);
	else if (w->fd != -1)
		w->logged = 0;
	free(cause);
	now = clock_mono_ns() / 1000000;
	/* A dying guest's last report has no line after it to close it. */
	if (!w->dying && now - w->last_ms >= CONSOLE_IDLE_MS &&
	    (kmsg_classifier_pending(w->cls) || w->stop_open))
		reports_flush(w);
	w->busy = false;
	if (w->dying)
		watch_destroy(w);
}

struct console_watch *
console_watch_new(struct event_base *base, const char *path,
    const struct console_hooks *hooks, char **cause)
{
	struct console_watch	*w;
	struct timeval		 tv = { 0, CONSOLE_POLL_MS * 1000 };

	if ((w = calloc(1, sizeof *w)) == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	w->fd = -1;
	w->base = base;
	if (hooks != NULL)
		w->hooks = *hooks;
	w->last_ms = clock_mono_ns() / 1000000;
	if ((w->path = strdup(path)) == NULL ||
	    (w->cls = kmsg_classifier_new()) == NULL) {
		cause_set(cause, "out of memory");
		goto fail;
	}
	if ((w->timer = event_new(base, -1, EV_PERSIST, watch_tick, w)) ==
	    NULL || event_add(w->timer, &tv) == -1) {
		cause_set(cause, "cannot arm the console timer");
		goto fail;
	}
	return w;
fail:
	watch_destroy(w);
	return NULL;
}

/* Reads to the end; with flush, also takes what waits for more. */
static int
watch_read_all(struct console_watch *w, bool flush)
{
	char	*cause = NULL;
	int	 rc;

	if (w->busy)
		return 0;
	w->busy = true;
	if ((rc = file_read(w, 0, &cause)) == -1)
		watch_failed(w, cause);
	free(cause);
	if (flush && !w->dying && (w->plen > 0 || w->cut))
		line_end(w);
	if (flush && !w->dying)
		reports_flush(w);
	w->busy = false;
	if (w->dying)
		watch_destroy(w);
	return rc;
}

int
console_watch_poll(struct console_watch *w)
{
	return watch_read_all(w, false);
}

int
console_watch_flush(struct console_watch *w)
{
	return watch_read_all(w, true);
}

json_t *
console_watch_crash(const struct console_watch *w)
{
	json_t	*o, *lines;
	size_t	 i;

	if (w->nring == 0)
		return NULL;
	if (w->crash_title == NULL) {
		if ((lines = console_watch_tail(w, CONSOLE_CRASH_TAIL)) == NULL)
			return NULL;
		return json_pack("{s:n, s:o}", "title", "lines", lines);
	}
	if ((lines = json_array()) == NULL)
		return NULL;
	for (i = 0; i < w->ncrash; i++)
		if (json_array_append_new(lines, json_string(w->crash[i])) ==
		    -1) {
			json_decref(lines);
			return NULL;
		}
	if ((o = json_pack("{s:s, s:o}", "title", w->crash_title, "lines",
	    lines)) == NULL)
		return NULL;
	return o;
}

json_t *
console_watch_tail(const struct console_watch *w, size_t n)
{
	json_t	*a;
	size_t	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	if (n > w->nring)
		n = w->nring;
	for (i = w->nring - n; i < w->nring; i++)
		if (json_array_append_new(a, json_string(w->ring[(w->head + i) %
		    CONSOLE_TAIL_MAX])) == -1) {
			json_decref(a);
			return NULL;
		}
	return a;
}

uint64_t
console_watch_lines(const struct console_watch *w)
{
	return w->nlines;
}

static void
watch_destroy(struct console_watch *w)
{
	size_t	i;

	if (w->timer != NULL)
		event_free(w->timer);
	file_close(w);
	kmsg_classifier_free(w->cls);
	kmsg_event_clear(&w->stop);
	for (i = 0; i < w->nring; i++)
		free(w->ring[(w->head + i) % CONSOLE_TAIL_MAX]);
	for (i = 0; i < w->ncrash; i++)
		free(w->crash[i]);
	free(w->crash_title);
	free(w->path);
	free(w);
}

void
console_watch_free(struct console_watch *w)
{
	if (w == NULL)
		return;
	if (w->busy) {
		/* A hook's doing: the read in progress frees it on its way out. */
		w->dying = true;
		event_del(w->timer);
		return;
	}
	watch_destroy(w);
}
