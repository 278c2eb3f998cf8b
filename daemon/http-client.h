/* http-client.h: one synchronous HTTP/1.1 exchange with hotsoakd over
 * libevent's evhttp client, on a private event base, bounded in time and size. */
#ifndef HOTSOAK_HTTP_CLIENT_H
#define HOTSOAK_HTTP_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_BODY_MAX		(16U << 20)	/* replies past this are refused */
#define HTTP_TIMEOUT_MS		30000		/* per exchange, connect included */

/* The methods the CLI uses. */
enum http_method {
	HTTP_GET,		/* read */
	HTTP_POST,		/* create */
	HTTP_DELETE		/* remove or stop */
};

/* What to send; everything borrowed. */
struct http_request {
	enum http_method	 method;
	const char		*url;		/* http://HOST[:PORT][/PATH][?QUERY] */
	/* Extra headers as name, value pairs, ending in NULL; may be NULL. */
	const char *const	*headers;
	const char		*body;		/* NULL: none */
	size_t			 len;
	uint64_t		 timeout_ms;	/* whole exchange; 0: HTTP_TIMEOUT_MS */
	size_t			 max_body;	/* 0: HTTP_BODY_MAX */
	/* When set and it turns nonzero (a signal handler), the exchange is
	 * abandoned within a tenth of a second. */
	volatile sig_atomic_t	*stop;
};

struct http_header;

/* A reply of any status; free with http_response_free. */
struct http_response {
	int			 status;
	char			*reason;	/* the status line's phrase, "" if none */
	char			*body;		/* NUL-terminated, len bytes before it */
	size_t			 len;
	struct http_header	*headers;
	size_t			 nheaders;
};

/* Why an exchange got no reply. */
enum http_fail {
	HTTP_FAIL_NONE,		/* it got one */
	HTTP_FAIL_URL,		/* the URL is not http://HOST:PORT/... */
	HTTP_FAIL_CONNECT,	/* no connection, or it broke before a reply */
	HTTP_FAIL_TIMEOUT,	/* no whole reply in time */
	HTTP_FAIL_TOO_BIG,	/* the reply is over max_body */
	HTTP_FAIL_PROTOCOL,	/* the reply is not HTTP */
	HTTP_FAIL_STOPPED,	/* *stop turned nonzero */
	HTTP_FAIL_INTERNAL	/* out of memory, or libevent refused */
};

/*
 * Send req and wait for the reply. Returns the reply (the caller frees it
 * with http_response_free) whatever its status, or NULL with an allocated
 * *cause ("cannot reach http://127.0.0.1:8470: Connection refused"; the
 * caller frees it) and *fail (may be NULL) saying why.
 */
struct http_response	*http_fetch(const struct http_request *,
			    enum http_fail *fail, char **cause);

/* The first header called name (any case), or NULL. */
const char	*http_response_header(const struct http_response *,
		    const char *name);

/* NULL is a no-op. */
void		 http_response_free(struct http_response *);

/* "GET", "POST", "DELETE". */
const char	*http_method_name(enum http_method);

/*
 * Check that url is http://HOST[:PORT][/PATH] and put "http://HOST:PORT"
 * into *origin (allocated, the caller frees; may be NULL). -1 with an
 * allocated *cause otherwise.
 */
int		 http_url_check(const char *url, char **origin, char **cause);

#endif
