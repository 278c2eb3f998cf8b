/* console.h: a watch on a guest's serial console as QEMU appends it to a
 * file: its lines, crash and warning reports, and hibernation steps. */
#ifndef HOTSOAK_CONSOLE_H
#define HOTSOAK_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kmsg.h"

struct event_base;
struct console_watch;

#define CONSOLE_POLL_MS		50	/* how often the file is read */
#define CONSOLE_READ_MAX	(1024 * 1024) /* bytes one timer tick reads */
#define CONSOLE_LINE_MAX	KMSG_LINE_MAX	/* longer lines are cut */
#define CONSOLE_TAIL_MAX	256	/* last lines kept, for tail and crash */
#define CONSOLE_CRASH_LINES	100	/* kept from the first crash line on */
#define CONSOLE_CRASH_TAIL	50	/* lines a crash without one shows */
#define CONSOLE_STOP_LINES	32	/* a Windows STOP report's lines */
#define CONSOLE_IDLE_MS		KMSG_IDLE_MS	/* quiet: open reports close */

/* Hibernation steps the console shows; each its own line, in this order. */
enum console_pm {
	CONSOLE_PM_ENTRY,	/* a hibernation (or its test) began */
	CONSOLE_PM_TEST_WAIT,	/* pm_test: devices are suspended now, ~5 s */
	CONSOLE_PM_RESUME,	/* a booting kernel found an image, restores it */
	CONSOLE_PM_EXIT,	/* back: image restored, tasks restarted, over */
	CONSOLE_PM_FAILED,	/* the hibernation or the restore failed */
	CONSOLE_PM_COUNT	/* number of steps, not a step */
};

/* "entry", "test-wait", "resume", "exit", "failed": for timelines. */
extern const char *const console_pm_names[CONSOLE_PM_COUNT];

/*
 * What the watch tells its owner; any hook may be NULL. Lines are
 * display-safe (valid UTF-8, no control bytes or escape sequences, at most
 * CONSOLE_LINE_MAX - 1 bytes), borrowed for the call, and keep their
 * "[   12.345678]" prefixes. Hooks run from the watch's timer or from
 * console_watch_poll and _flush. A hook may call console_watch_free (the
 * watch goes once the hook returns, and no hook runs after that),
 * console_watch_crash and _tail; poll and flush do nothing from a hook.
 */
struct console_hooks {
	/* Every line, in order, before any report or step it completes. */
	void	(*line)(void *arg, const char *line);
	/*
	 * A crash or warning report (kmsg_classifier rules, plus Windows
	 * "*** STOP: 0x..." screens as rule "stop", a bugcheck titled like
	 * stopcode_title). ev is borrowed for the call.
	 */
	void	(*report)(void *arg, const struct kmsg_event *ev);
	/* A hibernation step, with the line that showed it. */
	void	(*pm)(void *arg, enum console_pm what, const char *line);
	void	*arg;
};

/*
 * Follows path from its start as it grows, reading every CONSOLE_POLL_MS on
 * base. The file need not exist yet: the watch waits for it. If it shrinks
 * or is replaced (QEMU started again truncates it), reading starts over.
 * hooks is copied. Returns the watch (caller frees with console_watch_free)
 * or NULL with *cause set to an allocated message the caller frees.
 */
struct console_watch *console_watch_new(struct event_base *base,
		    const char *path, const struct console_hooks *hooks,
		    char **cause);

/*
 * Reads to the end of the file now and runs the hooks for what it holds,
 * for a caller that must have the lines at once (QMP said GUEST_PANICKED).
 * A last line without its newline still waits for it. Returns 0, or -1
 * when the file cannot be read (a missing one is no error; the failure is
 * logged once, as the timer does). Does nothing from inside a hook.
 */
int		 console_watch_poll(struct console_watch *w);

/*
 * console_watch_poll for a guest known to be stopped (paused at a panic,
 * gone): then a last line without its newline counts as a line, and the
 * open report is closed and reported now instead of after CONSOLE_IDLE_MS
 * of quiet. The guest may run again; its next line starts a new one.
 */
int		 console_watch_flush(struct console_watch *w);

/*
 * The crash as far as the console shows it, a new object the caller owns
 * (json_decref): "title" is the first crash line seen ("Kernel panic -",
 * "BUG:", "Oops", "kernel BUG at", "*** STOP:" and the like, not the BUG
 * lines the kernel survives) without its "[ time]" prefix, and "lines" the
 * up to CONSOLE_CRASH_LINES lines from it on. Without a crash line, "title"
 * is null and "lines" the last CONSOLE_CRASH_TAIL lines. NULL when no line
 * was read yet, or out of memory.
 */
json_t		*console_watch_crash(const struct console_watch *w);

/*
 * The last n lines (at most CONSOLE_TAIL_MAX), oldest first, as a new JSON
 * array of strings the caller owns; NULL when out of memory.
 */
json_t		*console_watch_tail(const struct console_watch *w, size_t n);

/* Lines read so far. */
uint64_t	 console_watch_lines(const struct console_watch *w);

/* Stops watching and frees; see struct console_hooks. NULL is a no-op. */
void		 console_watch_free(struct console_watch *w);

#endif
