/* api-console.c: GET /api/v1/runs/{id}/console: the serial console log QEMU
 * wrote in a run's folder, as plain text, whole or its last lines. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "api-int.h"
#include "store.h"

#define CONSOLE_FILE		"console.log"	/* in STATE_DIR/runs/<id>/ */
#define CONSOLE_TAIL_MAX	100000		/* lines ?tail= may ask for */
/*
 * The most one answer carries. A soak's console can grow without bound (a
 * guest logging in a loop); past this the answer is the log's last 16 MiB
 * from a line start, and X-Console-Skipped says how many bytes of its
 * start it leaves out. The file is sent from the page cache (sendfile),
 * never read into memory.
 */
#define CONSOLE_SEND_MAX	((off_t)16 << 20)
#define CONSOLE_BLOCK		65536		/* bytes read at a time to find lines */

const char *const api_runs_console_params[] = { "tail", NULL };

/* pread of up to len bytes at off, through EINTR; -1 on error. */
static ssize_t
console_pread(int fd, char *buf, size_t len, off_t off)
{
	ssize_t	n;

	do
		n = pread(fd, buf, len, off);
	while (n == -1 && errno == EINTR);
	return n;
}

/*
 * Where the last lines lines of the first size bytes of fd begin; a last
 * line without its newline counts. It looks back CONSOLE_SEND_MAX bytes at
 * most (more would not be sent anyway): 1 when it stopped there short of
 * lines lines, 0 when it found them (or the file's start), -1 on error.
 */
static int
console_tail_start(int fd, off_t size, uint64_t lines, off_t *start)
{
	char		buf[CONSOLE_BLOCK];
	off_t		pos = size, floor = 0, at;
	uint64_t	seen = 0;
	ssize_t		n, i;

	if (size > CONSOLE_SEND_MAX)
		floor = size - CONSOLE_SEND_MAX;
	while (pos > floor) {
		n = pos - floor < CONSOLE_BLOCK ? (ssize_t)(pos - floor) :
		    CONSOLE_BLOCK;
		if (console_pread(fd, buf, (size_t)n, pos - n) != n) {
			if (errno == 0)
				errno = EIO;	/* cut short meanwhile */
			return -1;
		}
		for (i = n - 1; i >= 0; i--) {
			at = pos - n + i;
			/* The newline that ends the file starts no line. */
			if (buf[i] != '\n' || at == size - 1)
				continue;
			if (++seen == lines) {
				*start = at + 1;
				return 0;
			}
		}
		pos -= n;
	}
	*start = floor;
	return floor > 0;
}

/* The first line start at or after off (off itself if none is near). */
static off_t
console_line_start(int fd, off_t off, off_t size)
{
	char	 buf[CONSOLE_BLOCK];
	char	*nl;
	ssize_t	 n;

	if (off == 0)
		return 0;
	/* A line start already: the byte before it ends a line. */
	if (console_pread(fd, buf, 1, off - 1) == 1 && buf[0] == '\n')
		return off;
	n = console_pread(fd, buf, sizeof buf, off);
	if (n <= 0 || (nl = memchr(buf, '\n', (size_t)n)) == NULL ||
	    off + (nl - buf) + 1 >= size)
		return off;
	return off + (nl - buf) + 1;
}

/* 404 for a run without a console log: why, in words. */
static void
console_missing(struct api_req *r, struct api_res *res, const json_t *run)
{
	const char	*backend, *status;

	backend = json_string_value(json_object_get(run, "backend"));
	status = json_string_value(json_object_get(run, "status"));
	if (backend != NULL && strcmp(backend, "local") == 0)
		api_error(res, 404, "not found", "run %" PRId64 " has no "
		    "console: it ran on the local backend, whose partition is "
		    "a process without a serial console", r->id);
	else if (status != NULL && strcmp(status, "finished") != 0)
		api_error(res, 404, "not found", "run %" PRId64 " has no "
		    "console log yet: its guest has not started", r->id);
	else
		api_error(res, 404, "not found", "run %" PRId64 " has no "
		    "console log: its guest never started, or its folder was "
		    "removed", r->id);
}

void
api_runs_console(struct api_req *r, struct api_res *res)
{
	struct evbuffer	*buf = NULL;
	struct stat	 st;
	const char	*v;
	char		*cause = NULL, path[4096], skipped[32];
	uint64_t	 tail = 0;
	json_t		*run;
	off_t		 start = 0, end;
	int		 fd = -1, capped;

	if ((v = api_param(r, "tail")) != NULL &&
	    api_parse_uint(v, 1, CONSOLE_TAIL_MAX, &tail) == -1) {
		api_param_error(res, "tail", "`tail` is a number of lines from "
		    "1 to %d, not `%.64s`", CONSOLE_TAIL_MAX, v);
		return;
	}
	if ((run = store_run_get(r->api->store, r->id, &cause)) == NULL) {
		api_missing(r, res, cause, "run");
		return;
	}
	if (r->api->state_dir == NULL) {
		api_error(res, 404, "not found", "run %" PRId64 " has no console "
		    "log: this hotsoakd keeps no run folders", r->id);
		goto out;
	}
	if ((size_t)snprintf(path, sizeof path, "%s/runs/%" PRId64 "/%s",
	    r->api->state_dir, r->id, CONSOLE_FILE) >= sizeof path) {
		api_error(res, 500, "internal error", "the state folder's path "
		    "is too long");
		goto out;
	}
	/*
	 * Nonblocking: a FIFO there must not hang the daemon. No symlinks:
	 * the file is the guest's, not a way to read others.
	 */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW)) ==
	    -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			console_missing(r, res, run);
		else
			api_error(res, 500, "internal error", "%s: %s", path,
			    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		api_error(res, 500, "internal error", "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		api_error(res, 500, "internal error", "%s: not a regular file",
		    path);
		goto out;
	}
	/* What is there now; QEMU may append while the answer goes. */
	end = st.st_size;
	if (tail == 0)
		capped = end > CONSOLE_SEND_MAX;
	else {
		errno = 0;
		if ((capped = console_tail_start(fd, end, tail, &start)) == -1) {
			api_error(res, 500, "internal error", "%s: %s", path,
			    strerror(errno));
			goto out;
		}
	}
	if (capped) {
		start = console_line_start(fd, end - CONSOLE_SEND_MAX, end);
		snprintf(skipped, sizeof skipped, "%lld", (long long)start);
		evhttp_add_header(evhttp_request_get_output_headers(r->ev),
		    "X-Console-Skipped", skipped);
	}
	if ((buf = evbuffer_new()) == NULL) {
		api_error(res, 500, "internal error", "out of memory");
		goto out;
	}
	if (end > start) {
		/* The buffer owns fd once this succeeds (libevent 2.1). */
		if (evbuffer_add_file(buf, fd, start, end - start) == -1) {
			evbuffer_free(buf);
			api_error(res, 500, "internal error", "%s: cannot send it",
			    path);
			goto out;
		}
		fd = -1;
	}
	res->status = 200;
	res->data = buf;
	res->ctype = "text/plain; charset=utf-8";
out:
	if (fd != -1)
		close(fd);
	json_decref(run);
}
