/* cmd-wait.c: polls an object of the API until it is finished, drawing its
 * progress; ^C ends the waiting and leaves the work running on the server. */
#include "config.h"

#include <sys/ioctl.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hotsoak/util.h"
#include "cmd.h"
#include "cmd-client.h"
#include "cmd-wait.h"

#define WAIT_SLICE_MS	100	/* a sleep between polls looks at ^C this often */

static volatile sig_atomic_t	wait_stopped;

static void
wait_sigint(int sig)
{
	wait_stopped = 1;
}

/* Sleeps ms unless ^C comes first. */
static void
wait_sleep(uint64_t ms)
{
	struct timespec	ts;
	uint64_t	slice;

	while (ms > 0 && !wait_stopped) {
		slice = ms < WAIT_SLICE_MS ? ms : WAIT_SLICE_MS;
		ts.tv_sec = (time_t)(slice / 1000);
		ts.tv_nsec = (long)(slice % 1000) * 1000000;
		nanosleep(&ts, NULL);
		ms -= slice;
	}
}

/* Terminal columns, so the live line never wraps; 0 when unknown. */
static size_t
wait_columns(void)
{
	struct winsize	ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == -1 || ws.ws_col == 0)
		return 0;
	return ws.ws_col;
}

void
wait_clock(const json_t *obj, uint64_t waited_ns, char *buf, size_t len)
{
	char		el[CLIENT_FMT_MAX];
	uint64_t	ms, started, now;

	if (client_uint(obj, "elapsed_ms", &ms) == 0)
		client_fmt_ms(ms, el, sizeof el);
	else if (client_uint(obj, "started_ns", &started) == 0 &&
	    (now = clock_wall_ns()) > started)
		client_fmt_ns(now - started, el, sizeof el);
	else
		client_fmt_ns(waited_ns, el, sizeof el);
	snprintf(buf, len, "[%7s]", el);
}

enum wait_end
wait_finished(struct client *c, const char *path, uint64_t interval_ms,
    wait_progress_cb progress, struct client_reply *r)
{
	struct sigaction	 sa, old;
	const char		*status;
	char			 line[WAIT_LINE_MAX], key[WAIT_LINE_MAX];
	char			 last[WAIT_LINE_MAX];
	uint64_t		 start = clock_mono_ns();
	size_t			 cols;
	enum wait_end		 end;
	int			 tty, drawn = 0;

	memset(r, 0, sizeof *r);
	tty = progress != NULL && isatty(STDOUT_FILENO);
	cols = tty ? wait_columns() : 0;
	last[0] = '\0';

	wait_stopped = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = wait_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);	/* no SA_RESTART: sleeps end early */
	c->stop = &wait_stopped;

	for (;;) {
		client_reply_clear(r);
		if (client_get(c, path, r) != CMD_OK) {
			end = wait_stopped ? WAIT_INTERRUPTED : WAIT_FAILED;
			break;
		}
		if ((status = client_str(r->json, "status")) == NULL) {
			fprintf(stderr, "hotsoak: GET %s: the reply names no "
			    "status\n", path);
			end = WAIT_FAILED;
			break;
		}
		if (strcmp(status, "finished") == 0) {
			end = WAIT_FINISHED;
			break;
		}
		if (progress != NULL) {
			key[0] = '\0';
			progress(r->json, clock_mono_ns() - start, line,
			    sizeof line, key, sizeof key);
			if (tty) {
				if (cols > 1 && strlen(line) > cols - 1)
					line[cols - 1] = '\0';
				printf("\r%s\033[K", line);
				drawn = 1;
			} else if (strcmp(key, last) != 0) {
				printf("%s\n", line);
				snprintf(last, sizeof last, "%s", key);
			}
			fflush(stdout);
		}
		wait_sleep(interval_ms);
		if (wait_stopped) {
			end = WAIT_INTERRUPTED;
			break;
		}
	}
	if (drawn)
		printf("\r\033[K");
	fflush(stdout);
	c->stop = NULL;
	sigaction(SIGINT, &old, NULL);
	return end;
}

/* obj as --json wants it, else by print; then status of it (NULL: CMD_OK). */
static int
object_print(struct client *c, const json_t *obj,
    const struct client_flags *f, void (*print)(struct client *,
    const json_t *), int (*status)(const json_t *))
{
	if (f->json)
		client_print_json(obj);
	else
		print(c, obj);
	return status != NULL ? status(obj) : CMD_OK;
}

int
object_show(struct client *c, const char *path, const struct client_flags *f,
    const struct object_view *v)
{
	struct client_reply	r;
	int			rc;

	if ((rc = client_get(c, path, &r)) == CMD_OK)
		rc = object_print(c, r.json, f, v->print, v->status);
	else if (rc == CMD_FAILED)
		rc = v->refused;
	client_reply_clear(&r);
	return rc;
}

int
wait_follow(struct client *c, const struct wait_follow *w, const char *id,
    const struct client_flags *f)
{
	struct client_reply	 r;
	char			*path;
	int			 rc = CMD_ERROR;

	if (asprintf(&path, "%s/%s", w->collection, id) == -1)
		return CMD_ERROR;
	switch (wait_finished(c, path, f->interval_ms > 0 ? f->interval_ms :
	    WAIT_INTERVAL_MS, f->json ? NULL : w->progress, &r)) {
	case WAIT_FINISHED:
		rc = object_print(c, r.json, f, w->print, w->status);
		break;
	case WAIT_INTERRUPTED:
		fprintf(stderr, "hotsoak: stopped waiting; %s %s goes on (%s%s)\n",
		    w->noun, id, w->stop, w->stop_id ? id : "");
		break;
	case WAIT_FAILED:
		break;
	}
	client_reply_clear(&r);
	free(path);
	return rc;
}
