/* api-gate.c: reads each connection's bytes just before evhttp does, so a
 * request body over the limit is cut off unread and answered in JSON. */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "api-int.h"

/*
 * libevent 2.1 answers a body over evhttp_set_max_body_size with its own
 * HTML 413 and closes, and a server gets no request object before the body
 * is read (evhttp_set_newreqcb is 2.2), so nothing of ours runs in time.
 * Its filtering bufferevents stall under evhttp in 2.1. What is left is
 * the connection's input buffer: its callback runs when bytes arrive,
 * before evhttp's read callback parses them. The gate follows the framing
 * evhttp follows (request line, headers, a Content-Length or chunked body,
 * trailer) and ends a body over the limit early in a way evhttp reads as a
 * complete request: a Content-Length over the limit becomes 0 before evhttp
 * reads the line; a chunked body ends with a last chunk where the chunk
 * that would pass the limit begins. The bytes the client still sends for
 * that body are dropped as they come, so the connection lives on. The gate
 * notes the request's number; the router asks api_gate_refused and answers
 * 413 in JSON. Anything the gate does not follow exactly it hands to evhttp
 * untouched (GATE_PASS), where evhttp's own limit, the same size, holds.
 */

#define GATE_LINE_MAX	8192	/* a longer line is evhttp's to refuse */
#define GATE_VALUE_MAX	128	/* longer values of the headers followed */
#define GATE_REFUSED_MAX 32	/* refused requests not yet answered */

enum gate_state {
	GATE_REQUEST,		/* the request line of the next request */
	GATE_HEADERS,		/* its header lines, up to the blank line */
	GATE_BODY,		/* a Content-Length body that passes */
	GATE_CHUNK_SIZE,	/* the size line of the next chunk */
	GATE_CHUNK,		/* the data of a chunk */
	GATE_TRAILER,		/* the lines after the last chunk */
	GATE_DROP_BODY,		/* a refused Content-Length body, read and dropped */
	GATE_DROP_ALL,		/* everything, until the connection closes */
	GATE_PASS		/* framing not followed: evhttp sees it all */
};

enum gate_header {
	GATE_H_LENGTH,		/* Content-Length */
	GATE_H_ENCODING,	/* Transfer-Encoding */
	GATE_H_EXPECT,		/* Expect */
	GATE_H_COUNT		/* how many the gate follows */
};

static const char *const gate_header_names[GATE_H_COUNT] = {
	"Content-Length", "Transfer-Encoding", "Expect"
};

struct api_gate {
	LIST_ENTRY(api_gate)	 entry;
	struct api		*api;
	struct bufferevent	*bev;
	struct evbuffer_cb_entry *cbe;
	struct event		*attach;
	struct event		*kill;		/* frees the connection, once cut off */
	bool			 attached;	/* evhttp's close callback frees it */
	bool			 busy;		/* the gate is editing the buffer */
	enum gate_state		 state;
	size_t			 pos;		/* bytes at the front already walked */
	uint64_t		 left;		/* body or chunk bytes to go */
	uint64_t		 total;		/* chunked body bytes passed */
	uint64_t		 dropped;	/* bytes of a refused body dropped */
	bool			 drop;		/* the chunked body is refused */
	uint64_t		 heads;		/* request heads walked */
	uint64_t		 served;	/* requests the router has seen */
	struct {
		uint64_t	 request;	/* its number, counting from 1 */
		bool		 close;		/* the connection closes after the reply */
	}			 refused[GATE_REFUSED_MAX];
	unsigned		 nrefused;

	/* The request whose head is being read. */
	bool			 body;		/* its method may have a body */
	bool			 over;		/* its Content-Length, in left, is over the limit */
	size_t			 head;		/* bytes of its head */
	int			 last;		/* enum gate_header of the last line, or -1 */
	bool			 seen[GATE_H_COUNT];
	char			 value[GATE_H_COUNT][GATE_VALUE_MAX + 1];
};

static void
gate_unhook(struct api_gate *g)
{
	if (g->cbe != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(g->bev), g->cbe);
	g->cbe = NULL;
	if (g->attach != NULL)
		event_free(g->attach);
	g->attach = NULL;
	if (g->kill != NULL)
		event_free(g->kill);
	g->kill = NULL;
	LIST_REMOVE(g, entry);
}

/* Frees a gate that still holds its reference on the bufferevent. */
static void
gate_free(struct api_gate *g)
{
	struct bufferevent	*bev = g->bev;

	gate_unhook(g);
	free(g);
	bufferevent_decref(bev);
}

/* evhttp is freeing the connection; the bufferevent goes right after. */
static void
gate_closed(struct evhttp_connection *evcon, void *arg)
{
	struct api_gate	*g = arg;

	gate_unhook(g);
	free(g);
}

/*
 * The bufferevent was made before evhttp's connection, so the close
 * callback is set once evhttp has one, on the next turn of the loop. Until
 * then the gate's reference keeps the bufferevent alive even should evhttp
 * give up on it at once.
 */
static void
gate_attach(evutil_socket_t fd, short what, void *arg)
{
	struct api_gate		*g = arg;
	bufferevent_data_cb	 rcb, wcb;
	bufferevent_event_cb	 ecb;
	void			*evcon;

	bufferevent_getcb(g->bev, &rcb, &wcb, &ecb, &evcon);
	if (ecb == NULL || evcon == NULL) {
		gate_free(g);
		return;
	}
	evhttp_connection_set_closecb(evcon, gate_closed, g);
	g->attached = true;
	bufferevent_decref(g->bev);
}

/* Stops following the framing: evhttp decides the rest. */
static void
gate_pass(struct api_gate *g)
{
	g->state = GATE_PASS;
}

/* Frees the connection, from outside any of its callbacks. */
static void
gate_kill(evutil_socket_t fd, short what, void *arg)
{
	struct api_gate		*g = arg;
	bufferevent_data_cb	 rcb, wcb;
	bufferevent_event_cb	 ecb;
	void			*evcon;

	bufferevent_getcb(g->bev, &rcb, &wcb, &ecb, &evcon);
	/* The close callback frees the gate, and this event with it. */
	if (g->attached && ecb != NULL && evcon != NULL)
		evhttp_connection_free(evcon);
}

/*
 * Ends the connection: a refused body that will not end, or a stream the
 * gate cannot follow while dropping. The bytes still coming are dropped
 * until evhttp's connection is freed on the next turn of the loop.
 */
static void
gate_cut_off(struct api_gate *g)
{
	evutil_socket_t	fd;

	g->state = GATE_DROP_ALL;
	if (g->kill != NULL)
		return;
	if (g->attached && (g->kill = event_new(bufferevent_get_base(g->bev),
	    -1, 0, gate_kill, g)) != NULL) {
		event_active(g->kill, EV_TIMEOUT, 1);
		return;
	}
	/* Short of memory: at least tell the client. */
	if ((fd = bufferevent_getfd(g->bev)) != -1)
		shutdown(fd, SHUT_RDWR);
}

/* Where framing is lost: pass while passing, cut off while dropping. */
static void
gate_lost(struct api_gate *g)
{
	if (g->drop || g->state == GATE_DROP_BODY)
		gate_cut_off(g);
	else
		gate_pass(g);
}

/* Replaces del bytes at off with ins; only the front of an input buffer may change. */
static int
gate_splice(struct evbuffer *buf, size_t off, size_t del, const char *ins,
    size_t inslen)
{
	struct evbuffer	*front = NULL;
	int		 rc = -1;

	if (off > INT_MAX || off + del > evbuffer_get_length(buf))
		return -1;
	if (off > 0) {
		if ((front = evbuffer_new()) == NULL)
			return -1;
		if (evbuffer_remove_buffer(buf, front, off) != (int)off)
			goto out;
	}
	if (del > 0 && evbuffer_drain(buf, del) == -1)
		goto out;
	if (inslen > 0 && evbuffer_prepend(buf, ins, inslen) == -1)
		goto out;
	if (front != NULL && evbuffer_prepend_buffer(buf, front) == -1)
		goto out;
	rc = 0;
out:
	if (front != NULL)
		evbuffer_free(front);
	return rc;
}

/* Drops n bytes at the walk position, counting them against API_DRAIN_MAX. */
static void
gate_drop(struct api_gate *g, struct evbuffer *buf, size_t n)
{
	if (gate_splice(buf, g->pos, n, NULL, 0) == -1) {
		gate_cut_off(g);
		return;
	}
	g->dropped += n;
	if (g->dropped > API_DRAIN_MAX)
		gate_cut_off(g);
}

/* Puts ins in place of del bytes at the walk position and walks past it. */
static void
gate_insert(struct api_gate *g, struct evbuffer *buf, size_t del,
    const char *ins)
{
	size_t	len = strlen(ins);

	if (gate_splice(buf, g->pos, del, ins, len) == -1) {
		gate_cut_off(g);
		return;
	}
	g->pos += len;
}

/* Notes that request number request gets a 413; false when too many wait. */
static bool
gate_refuse(struct api_gate *g, uint64_t request, bool close)
{
	if (g->nrefused == GATE_REFUSED_MAX) {
		gate_cut_off(g);
		return false;
	}
	g->refused[g->nrefused].request = request;
	g->refused[g->nrefused].close = close;
	g->nrefused++;
	return true;
}

/* As evhttp 2.1.12: HEAD, TRACE and methods it does not know have no body. */
static bool
gate_method_body(const char *m, size_t len)
{
	static const char *const with[] = {
		"GET", "POST", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH",
		NULL
	};
	size_t	i;

	for (i = 0; with[i] != NULL; i++)
		if (strlen(with[i]) == len && memcmp(with[i], m, len) == 0)
			return true;
	return false;
}

/*
 * The next line from the walk position: its length with the line in line
 * (NUL-terminated; cut at an embedded NUL, as evhttp reads it) and the
 * end-of-line length in *eol, or -1 while it is incomplete.
 */
static ssize_t
gate_line(struct api_gate *g, struct evbuffer *buf, char *line, size_t *eol)
{
	struct evbuffer_ptr	 start, at;
	size_t			 len = evbuffer_get_length(buf), n;

	if (evbuffer_ptr_set(buf, &start, g->pos, EVBUFFER_PTR_SET) == -1) {
		gate_lost(g);
		return -1;
	}
	at = evbuffer_search_eol(buf, &start, eol, EVBUFFER_EOL_CRLF);
	if (at.pos == -1) {
		if (len - g->pos > GATE_LINE_MAX)
			gate_lost(g);
		return -1;
	}
	n = (size_t)at.pos - g->pos;
	if (n > GATE_LINE_MAX) {
		gate_lost(g);
		return -1;
	}
	if (evbuffer_copyout_from(buf, &start, line, n) != (ev_ssize_t)n) {
		gate_lost(g);
		return -1;
	}
	line[n] = '\0';
	return (ssize_t)n;
}

static void
gate_request_line(struct api_gate *g, const char *line)
{
	const char	*sp;

	/* evhttp refuses a request line without spaces and closes. */
	if ((sp = strchr(line, ' ')) == NULL) {
		gate_pass(g);
		return;
	}
	g->body = gate_method_body(line, (size_t)(sp - line));
	g->over = false;
	g->last = -1;
	memset(g->seen, 0, sizeof g->seen);
	g->state = GATE_HEADERS;
}

/* A Content-Length as evhttp reads it; -1 for one evhttp refuses. */
static long long
gate_length(const char *v)
{
	char		*end;
	long long	 n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < 0)
		return -1;
	return n;
}

/*
 * A header line, n bytes and eol, at the walk position. The gate follows
 * the three headers framing depends on, as evhttp_find_header sees them
 * (the first of each). A Content-Length over the limit is rewritten to 0
 * while evhttp has not read it: it cannot be taken back later, and evhttp
 * 2.1.12 refuses a request that also says Transfer-Encoding.
 */
static void
gate_header_line(struct api_gate *g, struct evbuffer *buf, char *line,
    size_t n, size_t eol)
{
	char		*colon, *value, *end;
	size_t		 len;
	long long	 length;
	int		 i;

	/* A folded line extends the header before it. */
	if (line[0] == ' ' || line[0] == '\t') {
		if (g->last != -1)
			gate_pass(g);
		g->pos += n + eol;
		return;
	}
	if ((colon = strchr(line, ':')) == NULL) {
		gate_pass(g);
		return;
	}
	*colon = '\0';
	value = colon + 1;
	value += strspn(value, " ");
	end = value + strlen(value);
	while (end > value && strchr(" \t\r\n", end[-1]) != NULL)
		*--end = '\0';
	g->last = -1;
	for (i = 0; i < GATE_H_COUNT; i++) {
		if (strcasecmp(line, gate_header_names[i]) != 0 || g->seen[i])
			continue;
		if ((len = strlen(value)) > GATE_VALUE_MAX) {
			gate_pass(g);
			return;
		}
		memcpy(g->value[i], value, len + 1);
		g->seen[i] = true;
		g->last = i;
	}
	if (g->last != GATE_H_LENGTH || !g->body) {
		g->pos += n + eol;
		return;
	}
	if ((length = gate_length(value)) == -1) {
		/* evhttp answers 400 and closes. */
		gate_pass(g);
		return;
	}
	if ((unsigned long long)length <= g->api->body_max) {
		g->pos += n + eol;
		return;
	}
	g->over = true;
	g->left = (uint64_t)length;
	gate_insert(g, buf, n, "Content-Length: 0");
	g->pos += eol;
}

/* The blank line of a head is at the walk position, eol bytes long. */
static void
gate_head_end(struct api_gate *g, size_t eol)
{
	const char	*te, *cl;
	long long	 n;
	bool		 keep;

	te = g->seen[GATE_H_ENCODING] ? g->value[GATE_H_ENCODING] : NULL;
	cl = g->seen[GATE_H_LENGTH] ? g->value[GATE_H_LENGTH] : NULL;
	g->heads++;
	g->pos += eol;
	g->state = GATE_REQUEST;
	if (!g->body)
		return;
	if (te != NULL && cl != NULL) {
		/* evhttp answers 400 and closes. */
		gate_pass(g);
		return;
	}
	if (g->over) {
		/*
		 * A client that waits for "100 Continue" may never send the
		 * body, and one that sends far too much is not worth the
		 * reading: those connections close after the reply.
		 */
		keep = !g->seen[GATE_H_EXPECT] && g->left <= API_DRAIN_MAX;
		if (!gate_refuse(g, g->heads, !keep))
			return;
		g->dropped = 0;
		g->state = keep ? GATE_DROP_BODY : GATE_DROP_ALL;
		return;
	}
	if (te != NULL) {
		/* Any other coding and no length: evhttp reads no body. */
		if (strcasecmp(te, "chunked") == 0) {
			g->state = GATE_CHUNK_SIZE;
			g->total = 0;
			g->drop = false;
		}
		return;
	}
	if (cl != NULL && (n = gate_length(cl)) > 0) {
		g->state = GATE_BODY;
		g->left = (uint64_t)n;
	}
}

/* A chunk-size line, n bytes and eol, at the walk position. */
static void
gate_chunk_size(struct api_gate *g, struct evbuffer *buf, const char *line,
    size_t n, size_t eol)
{
	char		*end;
	long long	 size;

	/* evhttp skips blank lines here, the one after each chunk's data among them. */
	if (line[0] == '\0') {
		if (g->drop)
			gate_drop(g, buf, n + eol);
		else
			g->pos += n + eol;
		return;
	}
	errno = 0;
	size = strtoll(line, &end, 16);
	if (*end != '\0' && *end != ' ') {
		gate_lost(g);
		return;
	}
	if (size < 0) {
		gate_lost(g);
		return;
	}
	if (g->drop) {
		gate_drop(g, buf, n + eol);
	} else if ((unsigned long long)size > g->api->body_max - g->total) {
		/* The body ends here for evhttp; the rest is dropped. */
		if (!gate_refuse(g, g->heads, false))
			return;
		gate_insert(g, buf, n + eol, "0\r\n\r\n");
		g->drop = true;
		g->dropped = 0;
	} else {
		g->total += (uint64_t)size;
		g->pos += n + eol;
	}
	if (g->state == GATE_DROP_ALL)
		return;
	if (size == 0)
		g->state = GATE_TRAILER;
	else {
		g->state = GATE_CHUNK;
		g->left = (uint64_t)size;
	}
}

static void
gate_trailer(struct api_gate *g, struct evbuffer *buf, const char *line,
    size_t n, size_t eol)
{
	bool	last = line[0] == '\0';

	if (g->drop)
		gate_drop(g, buf, n + eol);
	else
		g->pos += n + eol;
	if (last && g->state != GATE_DROP_ALL) {
		g->state = GATE_REQUEST;
		g->drop = false;
	}
}

/* One line where a line is due; false to wait for more bytes. */
static bool
gate_walk_line(struct api_gate *g, struct evbuffer *buf)
{
	char	 line[GATE_LINE_MAX + 1];
	size_t	 eol;
	ssize_t	 n;

	if ((n = gate_line(g, buf, line, &eol)) == -1)
		return false;
	switch (g->state) {
	case GATE_REQUEST:
		g->head = (size_t)n;
		gate_request_line(g, line);
		g->pos += (size_t)n + eol;
		break;
	case GATE_HEADERS:
		g->head += (size_t)n;
		if (g->head > API_HEADERS_MAX + GATE_LINE_MAX) {
			gate_pass(g);
			break;
		}
		if (line[0] == '\0' && n > 0) {
			/* A NUL starts it: blank to evhttp, not worth following. */
			gate_pass(g);
			break;
		}
		if (n == 0) {
			gate_head_end(g, eol);
			break;
		}
		gate_header_line(g, buf, line, (size_t)n, eol);
		break;
	case GATE_CHUNK_SIZE:
		gate_chunk_size(g, buf, line, (size_t)n, eol);
		break;
	case GATE_TRAILER:
		gate_trailer(g, buf, line, (size_t)n, eol);
		break;
	default:
		gate_pass(g);
		break;
	}
	return true;
}

static void
gate_walk(struct api_gate *g, struct evbuffer *buf)
{
	size_t	len, n;

	while (g->pos < (len = evbuffer_get_length(buf))) {
		n = len - g->pos;
		switch (g->state) {
		case GATE_REQUEST:
		case GATE_HEADERS:
		case GATE_CHUNK_SIZE:
		case GATE_TRAILER:
			if (!gate_walk_line(g, buf))
				return;
			break;
		case GATE_BODY:
			if (n > g->left)
				n = (size_t)g->left;
			g->pos += n;
			if ((g->left -= n) == 0)
				g->state = GATE_REQUEST;
			break;
		case GATE_CHUNK:
			if (n > g->left)
				n = (size_t)g->left;
			if (g->drop)
				gate_drop(g, buf, n);
			else
				g->pos += n;
			if (g->state == GATE_DROP_ALL)
				break;
			if ((g->left -= n) == 0)
				g->state = GATE_CHUNK_SIZE;
			break;
		case GATE_DROP_BODY:
			if (n > g->left)
				n = (size_t)g->left;
			gate_drop(g, buf, n);
			if (g->state == GATE_DROP_ALL)
				break;
			if ((g->left -= n) == 0)
				g->state = GATE_REQUEST;
			break;
		case GATE_DROP_ALL:
			if (gate_splice(buf, g->pos, n, NULL, 0) == -1)
				return;
			break;
		case GATE_PASS:
			g->pos = len;
			return;
		}
	}
}

/*
 * Runs on every change of the input buffer: bytes read from the socket
 * (walked before evhttp's read callback sees them), bytes evhttp consumed
 * from the front (the walk position moves back), and the gate's own edits
 * (ignored).
 */
static void
gate_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct api_gate	*g = arg;

	if (g->busy)
		return;
	if (info->n_deleted > 0) {
		if (info->n_deleted > g->pos) {
			/* evhttp read bytes the gate never walked. */
			g->pos = 0;
			gate_lost(g);
		} else
			g->pos -= info->n_deleted;
	}
	if (info->n_added == 0)
		return;
	g->busy = true;
	gate_walk(g, buf);
	g->busy = false;
}

/*
 * evhttp's bufferevent callback: a socket bufferevent as evhttp would make,
 * with the gate on its input. Without memory for a gate the connection
 * goes ungated (evhttp's own limit still holds). The gate is freed by
 * evhttp's close callback, or by api_gate_free_all.
 */
struct bufferevent *
api_gate_bevcb(struct event_base *base, void *arg)
{
	struct api		*api = arg;
	struct api_gate		*g;
	struct bufferevent	*bev;

	if ((bev = bufferevent_socket_new(base, -1, 0)) == NULL)
		return NULL;
	if ((g = calloc(1, sizeof *g)) == NULL)
		return bev;
	g->api = api;
	g->bev = bev;
	g->state = GATE_REQUEST;
	g->last = -1;
	if ((g->attach = event_new(base, -1, 0, gate_attach, g)) == NULL) {
		free(g);
		return bev;
	}
	if ((g->cbe = evbuffer_add_cb(bufferevent_get_input(bev), gate_cb,
	    g)) == NULL) {
		event_free(g->attach);
		free(g);
		return bev;
	}
	bufferevent_incref(bev);
	LIST_INSERT_HEAD(&api->gates, g, entry);
	event_active(g->attach, EV_TIMEOUT, 1);
	return bev;
}

bool
api_gate_refused(struct api *api, struct evhttp_request *req, bool *close)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	struct api_gate			*g;
	bool				 refused = false;

	*close = false;
	if ((evcon = evhttp_request_get_connection(req)) == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL)
		return false;
	LIST_FOREACH(g, &api->gates, entry)
		if (g->bev == bev && g->cbe != NULL)
			break;
	if (g == NULL)
		return false;
	/* evhttp hands requests over in order, and closes after any it refuses. */
	g->served++;
	while (g->nrefused > 0 && g->refused[0].request <= g->served) {
		if (g->refused[0].request == g->served) {
			refused = true;
			*close = g->refused[0].close;
		}
		memmove(&g->refused[0], &g->refused[1], --g->nrefused *
		    sizeof g->refused[0]);
	}
	return refused;
}

/* After evhttp_free: gates whose close callback never came. */
void
api_gate_free_all(struct api *api)
{
	struct api_gate	*g;

	while ((g = LIST_FIRST(&api->gates)) != NULL) {
		if (g->attached) {
			/* Its bufferevent is gone with the connection. */
			g->cbe = NULL;
			if (g->attach != NULL)
				event_free(g->attach);
			LIST_REMOVE(g, entry);
			free(g);
		} else
			gate_free(g);
	}
}
