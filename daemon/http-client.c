/* http-client.c: one synchronous HTTP/1.1 exchange over evhttp on a private
 * event base, with a deadline, a size cap and a way to give up on a signal. */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "hotsoak/util.h"
#include "http-client.h"

#define HEADERS_MAX	(64 * 1024)	/* a reply's header block */
#define STOP_TICK_MS	100		/* how often *stop is looked at */
#define PROBE_MAX_MS	3000		/* longest wait to learn why a connect failed */

struct http_header {
	char	*name;
	char	*value;
};

/* Where a request goes, from its URL. */
struct http_target {
	char	*host;		/* without brackets, for getaddrinfo */
	int	 port;
	char	*origin;	/* "http://HOST:PORT", for messages */
	char	*hostport;	/* the Host header */
	char	*path;		/* path and query, at least "/" */
};

/* One attempt on one address. */
struct http_exchange {
	struct event_base	*base;
	struct http_response	*resp;
	enum http_fail		 fail;
	int			 error;		/* errno behind HTTP_FAIL_CONNECT, or 0 */
	int			 never_connected; /* the connect itself failed */
	int			 done;
	uint64_t		 deadline;	/* CLOCK_MONOTONIC ns */
	volatile sig_atomic_t	*stop;
};

const char *
http_method_name(enum http_method m)
{
	switch (m) {
	case HTTP_GET:
		return "GET";
	case HTTP_POST:
		return "POST";
	case HTTP_DELETE:
		return "DELETE";
	}
	return "?";
}

static void
http_target_clear(struct http_target *t)
{
	free(t->host);
	free(t->origin);
	free(t->hostport);
	free(t->path);
	memset(t, 0, sizeof *t);
}

/* Fills t (cleared with http_target_clear, also on error). */
static int
http_target_parse(const char *url, struct http_target *t, char **cause)
{
	struct evhttp_uri	*u;
	const char		*scheme, *host, *path, *query;
	size_t			 hlen;
	int			 rc = -1, v6;

	memset(t, 0, sizeof *t);
	if ((u = evhttp_uri_parse_with_flags(url, 0)) == NULL)
		return cause_set(cause, "bad server URL `%s`: use http://HOST:PORT",
		    url);
	scheme = evhttp_uri_get_scheme(u);
	host = evhttp_uri_get_host(u);
	if (scheme == NULL || host == NULL || *host == '\0') {
		cause_set(cause, "bad server URL `%s`: use http://HOST:PORT", url);
		goto out;
	}
	if (strcasecmp(scheme, "http") != 0) {
		cause_set(cause, "bad server URL `%s`: only http:// is spoken "
		    "(put a TLS proxy in front of hotsoakd if the network needs "
		    "one)", url);
		goto out;
	}
	if (evhttp_uri_get_userinfo(u) != NULL) {
		cause_set(cause, "bad server URL `%s`: a user name in the URL "
		    "is not used; give a token with --token-file", url);
		goto out;
	}
	t->port = evhttp_uri_get_port(u);
	if (t->port == -1)
		t->port = 80;
	if (t->port <= 0 || t->port > 65535) {
		cause_set(cause, "bad server URL `%s`: bad port", url);
		goto out;
	}
	hlen = strlen(host);
	v6 = host[0] == '[' && hlen > 2 && host[hlen - 1] == ']';
	if (v6)
		t->host = strndup(host + 1, hlen - 2);
	else
		t->host = strdup(host);
	path = evhttp_uri_get_path(u);
	query = evhttp_uri_get_query(u);
	if (path == NULL || *path == '\0')
		path = "/";
	if (t->host == NULL ||
	    asprintf(&t->origin, "http://%s:%d", host, t->port) == -1 ||
	    asprintf(&t->hostport, "%s:%d", host, t->port) == -1 ||
	    asprintf(&t->path, "%s%s%s", path, query != NULL ? "?" : "",
	    query != NULL ? query : "") == -1) {
		t->origin = t->hostport = t->path = NULL;
		cause_set(cause, "out of memory");
		goto out;
	}
	rc = 0;
out:
	evhttp_uri_free(u);
	if (rc != 0)
		http_target_clear(t);
	return rc;
}

int
http_url_check(const char *url, char **origin, char **cause)
{
	struct http_target	t;

	if (http_target_parse(url, &t, cause) != 0)
		return -1;
	if (origin != NULL) {
		*origin = t.origin;
		t.origin = NULL;
	}
	http_target_clear(&t);
	return 0;
}

/* The reply req holds, copied out of libevent's (the caller frees it). */
static struct http_response *
http_response_copy(struct evhttp_request *req)
{
	struct http_response	*r;
	struct evkeyvalq	*hq;
	struct evkeyval		*kv;
	struct evbuffer		*in;
	const char		*line;
	size_t			 n;

	if ((r = calloc(1, sizeof *r)) == NULL)
		return NULL;
	r->status = evhttp_request_get_response_code(req);
	line = evhttp_request_get_response_code_line(req);
	if ((r->reason = strdup(line != NULL ? line : "")) == NULL)
		goto fail;
	hq = evhttp_request_get_input_headers(req);
	n = 0;
	TAILQ_FOREACH(kv, hq, next)
		n++;
	if (n != 0 && (r->headers = calloc(n, sizeof *r->headers)) == NULL)
		goto fail;
	TAILQ_FOREACH(kv, hq, next) {
		r->headers[r->nheaders].name = strdup(kv->key);
		r->headers[r->nheaders].value = strdup(kv->value);
		r->nheaders++;
		if (r->headers[r->nheaders - 1].name == NULL ||
		    r->headers[r->nheaders - 1].value == NULL)
			goto fail;
	}
	in = evhttp_request_get_input_buffer(req);
	r->len = evbuffer_get_length(in);
	if ((r->body = malloc(r->len + 1)) == NULL)
		goto fail;
	if (evbuffer_copyout(in, r->body, r->len) != (ev_ssize_t)r->len)
		goto fail;
	r->body[r->len] = '\0';
	return r;
fail:
	http_response_free(r);
	return NULL;
}

static void
http_done_cb(struct evhttp_request *req, void *arg)
{
	struct http_exchange	*x = arg;

	x->done = 1;
	event_base_loopbreak(x->base);
	if (x->fail != HTTP_FAIL_NONE)
		return;		/* the error callback said why */
	/*
	 * A request that comes back with no status and no error callback
	 * went through the connect failure path, where libevent has already
	 * lost the errno; the caller probes for it.
	 */
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		x->fail = HTTP_FAIL_CONNECT;
		x->never_connected = req != NULL;
		return;
	}
	if ((x->resp = http_response_copy(req)) == NULL)
		x->fail = HTTP_FAIL_INTERNAL;
}

static void
http_error_cb(enum evhttp_request_error e, void *arg)
{
	struct http_exchange	*x = arg;

	x->error = errno;
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		x->fail = HTTP_FAIL_TIMEOUT;
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		x->fail = HTTP_FAIL_PROTOCOL;
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		x->fail = HTTP_FAIL_TOO_BIG;
		break;
	case EVREQ_HTTP_EOF:
	case EVREQ_HTTP_BUFFER_ERROR:
	case EVREQ_HTTP_REQUEST_CANCEL:
	default:
		x->fail = HTTP_FAIL_CONNECT;
		break;
	}
}

static void
http_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http_exchange	*x = arg;

	if (x->done)
		return;
	if (x->stop != NULL && *x->stop) {
		x->fail = HTTP_FAIL_STOPPED;
		event_base_loopbreak(x->base);
	} else if (clock_mono_ns() >= x->deadline) {
		x->fail = HTTP_FAIL_TIMEOUT;
		event_base_loopbreak(x->base);
	}
}

static int
http_add_headers(struct evhttp_request *req, const struct http_request *hr,
    const struct http_target *t)
{
	struct evkeyvalq	*oh = evhttp_request_get_output_headers(req);
	size_t			 i;

	if (evhttp_add_header(oh, "Host", t->hostport) != 0 ||
	    evhttp_add_header(oh, "User-Agent", "hotsoak/" PACKAGE_VERSION) != 0 ||
	    evhttp_add_header(oh, "Accept", "application/json") != 0 ||
	    evhttp_add_header(oh, "Connection", "close") != 0)
		return -1;
	for (i = 0; hr->headers != NULL && hr->headers[i] != NULL; i += 2) {
		if (hr->headers[i + 1] == NULL)
			return -1;
		if (evhttp_add_header(oh, hr->headers[i], hr->headers[i + 1]) != 0)
			return -1;
	}
	if (hr->body != NULL &&
	    evbuffer_add(evhttp_request_get_output_buffer(req), hr->body,
	    hr->len) != 0)
		return -1;
	return 0;
}

/* One attempt at the numeric address host; the outcome is in *x. */
static void
http_exchange_run(struct http_exchange *x, const struct http_request *hr,
    const struct http_target *t, const char *host)
{
	static const enum evhttp_cmd_type cmds[] = {
		[HTTP_GET] = EVHTTP_REQ_GET,
		[HTTP_POST] = EVHTTP_REQ_POST,
		[HTTP_DELETE] = EVHTTP_REQ_DELETE,
	};
	struct evhttp_connection	*evcon = NULL;
	struct evhttp_request		*req;
	struct event			*tick = NULL;
	struct timeval			 tv = { 0, STOP_TICK_MS * 1000 };
	uint64_t			 left, now;

	x->fail = HTTP_FAIL_INTERNAL;
	if ((x->base = event_base_new()) == NULL)
		return;
	evcon = evhttp_connection_base_new(x->base, NULL, host,
	    (unsigned short)t->port);
	if (evcon == NULL)
		goto out;
	/* Our tick keeps the deadline; libevent's own timeouts are a backstop. */
	now = clock_mono_ns();
	left = now < x->deadline ? (x->deadline - now) / 1000000000 + 1 : 1;
	evhttp_connection_set_timeout(evcon, left > INT_MAX ? INT_MAX :
	    (int)left);
	evhttp_connection_set_max_body_size(evcon, (ev_ssize_t)(hr->max_body ?
	    hr->max_body : HTTP_BODY_MAX));
	evhttp_connection_set_max_headers_size(evcon, HEADERS_MAX);
	tick = event_new(x->base, -1, EV_PERSIST, http_tick_cb, x);
	if (tick == NULL || event_add(tick, &tv) != 0)
		goto out;
	if ((req = evhttp_request_new(http_done_cb, x)) == NULL)
		goto out;
	evhttp_request_set_error_cb(req, http_error_cb);
	if (http_add_headers(req, hr, t) != 0) {
		evhttp_request_free(req);
		goto out;
	}
	x->fail = HTTP_FAIL_NONE;
	/* A failed make_request has already run our callbacks. */
	if (evhttp_make_request(evcon, req, cmds[hr->method], t->path) != 0 &&
	    !x->done) {
		x->fail = HTTP_FAIL_CONNECT;
		x->never_connected = 1;
	}
	if (!x->done && x->fail == HTTP_FAIL_NONE)
		event_base_dispatch(x->base);
	if (!x->done && x->fail == HTTP_FAIL_NONE)
		x->fail = HTTP_FAIL_INTERNAL;	/* the loop ran dry */
out:
	if (tick != NULL)
		event_free(tick);
	/* Frees a request still in flight without calling back. */
	if (evcon != NULL)
		evhttp_connection_free(evcon);
	event_base_free(x->base);
	x->base = NULL;
}

/*
 * libevent reports a failed connect without its errno, so connect once
 * more, plainly, to learn it. 0 when that one succeeded.
 */
static int
http_probe(const struct addrinfo *ai, uint64_t deadline)
{
	struct pollfd	pfd;
	socklen_t	len;
	uint64_t	now;
	int		fd, error = 0, ms;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto out;
	if (errno != EINPROGRESS) {
		error = errno;
		goto out;
	}
	now = clock_mono_ns();
	ms = now >= deadline ? 0 : (int)((deadline - now) / 1000000);
	if (ms > PROBE_MAX_MS)
		ms = PROBE_MAX_MS;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, ms) <= 0) {
		error = ETIMEDOUT;
		goto out;
	}
	len = sizeof error;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		error = errno;
out:
	close(fd);
	return error;
}

static const char *
http_fail_text(const struct http_exchange *x, char *buf, size_t len)
{
	switch (x->fail) {
	case HTTP_FAIL_TIMEOUT:
		return "no reply in time";
	case HTTP_FAIL_TOO_BIG:
		return "the reply is too large";
	case HTTP_FAIL_PROTOCOL:
		return "the reply is not HTTP";
	case HTTP_FAIL_STOPPED:
		return "interrupted";
	case HTTP_FAIL_INTERNAL:
		return "out of memory or event machinery failed";
	case HTTP_FAIL_CONNECT:
		if (x->error != 0 && x->error != ENOTCONN) {
			snprintf(buf, len, "%s", strerror(x->error));
			return buf;
		}
		return x->never_connected ? "the connection failed" :
		    "the connection closed before a reply";
	case HTTP_FAIL_NONE:
	case HTTP_FAIL_URL:
		break;
	}
	return "failed";
}

/*
 * A server that closes while we write would kill us with SIGPIPE; hold it
 * back for the exchange and swallow one that it raised.
 */
static void
http_sigpipe_block(sigset_t *old, int *pending)
{
	sigset_t	set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, old);
	sigpending(&set);
	*pending = sigismember(&set, SIGPIPE);
}

static void
http_sigpipe_restore(const sigset_t *old, int pending)
{
	static const struct timespec	zero = { 0, 0 };
	sigset_t			set;

	sigpending(&set);
	if (!pending && sigismember(&set, SIGPIPE)) {
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		sigtimedwait(&set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

struct http_response *
http_fetch(const struct http_request *hr, enum http_fail *fail, char **cause)
{
	struct http_target	 t;
	struct http_exchange	 x;
	struct addrinfo		 hints, *res = NULL, *ai;
	struct http_response	*resp = NULL;
	char			 host[NI_MAXHOST], portstr[16], buf[256];
	uint64_t		 timeout_ms;
	sigset_t		 oldmask;
	int			 gai, error, pending;

	memset(&x, 0, sizeof x);
	if (fail != NULL)
		*fail = HTTP_FAIL_URL;
	if (http_target_parse(hr->url, &t, cause) != 0)
		return NULL;
	timeout_ms = hr->timeout_ms != 0 ? hr->timeout_ms : HTTP_TIMEOUT_MS;
	x.deadline = clock_mono_ns() + timeout_ms * 1000000;
	x.stop = hr->stop;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof portstr, "%d", t.port);
	if ((gai = getaddrinfo(t.host, portstr, &hints, &res)) != 0) {
		if (fail != NULL)
			*fail = HTTP_FAIL_CONNECT;
		cause_set(cause, "cannot reach %s: %s", t.origin,
		    gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		goto out;
	}
	/* Try each address while the connect itself is refused. */
	http_sigpipe_block(&oldmask, &pending);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host,
		    NULL, 0, NI_NUMERICHOST) != 0)
			continue;
		memset(&x, 0, sizeof x);
		x.deadline = clock_mono_ns() + timeout_ms * 1000000;
		x.stop = hr->stop;
		http_exchange_run(&x, hr, &t, host);
		if (x.fail == HTTP_FAIL_CONNECT && x.never_connected) {
			error = http_probe(ai, x.deadline);
			if (error != 0)
				x.error = error;
			if (ai->ai_next != NULL)
				continue;
		}
		break;
	}
	http_sigpipe_restore(&oldmask, pending);
	if (x.fail == HTTP_FAIL_NONE && x.resp != NULL) {
		resp = x.resp;
		if (fail != NULL)
			*fail = HTTP_FAIL_NONE;
		goto out;
	}
	if (fail != NULL)
		*fail = x.fail == HTTP_FAIL_NONE ? HTTP_FAIL_INTERNAL : x.fail;
	if (x.fail == HTTP_FAIL_TIMEOUT)
		cause_set(cause, "no reply from %s within %llu.%03llus", t.origin,
		    (unsigned long long)(timeout_ms / 1000),
		    (unsigned long long)(timeout_ms % 1000));
	else if (x.fail == HTTP_FAIL_TOO_BIG)
		cause_set(cause, "the reply from %s is over %zu bytes", t.origin,
		    hr->max_body ? hr->max_body : (size_t)HTTP_BODY_MAX);
	else if (x.fail == HTTP_FAIL_PROTOCOL)
		cause_set(cause, "the reply from %s is not HTTP", t.origin);
	else if (x.fail == HTTP_FAIL_STOPPED)
		cause_set(cause, "interrupted");
	else
		cause_set(cause, "cannot reach %s: %s", t.origin,
		    http_fail_text(&x, buf, sizeof buf));
out:
	if (res != NULL)
		freeaddrinfo(res);
	http_target_clear(&t);
	return resp;
}

const char *
http_response_header(const struct http_response *r, const char *name)
{
	size_t	i;

	for (i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

void
http_response_free(struct http_response *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	free(r->reason);
	free(r->body);
	free(r);
}
