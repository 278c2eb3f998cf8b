/* api.h: hotsoakd's REST API over HTTP/1.1 (evhttp): runs, their findings,
 * events and samples, the plans folder and health, all as JSON. */
#ifndef HOTSOAK_API_H
#define HOTSOAK_API_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct plans_dir;
struct campaigns;
struct reruns;
struct runs;
struct store;
struct api;

#define API_PREFIX	"/api/v1"
#define API_TIMEOUT_S	30		/* a connection idle this long is closed */
#define API_HEADERS_MAX	(16 * 1024)	/* request line and headers together */
#define API_BODY_LIMIT	(1024U * 1024 * 1024) /* the most body_max may be */

struct api_config {
	const char	*token;		/* NULL: no auth; else writes need "Bearer <token>" */
	size_t		 body_max;	/* request bodies over this are 413; 0: PLAN_MAX_BYTES */
	const char	*version;	/* shown by /healthz */
	const char	*state_dir;	/* run folders: state_dir/runs/<id>; NULL: none */
	struct campaigns *campaigns;	/* borrowed; NULL: no campaign routes work */
	struct reruns	*reruns;	/* borrowed; NULL: reruns are refused */
};

/*
 * A server on base, not yet listening. store and runs are borrowed and must
 * outlive it; plans may be NULL (then runs by name are refused). Strings in
 * config are copied. NULL with an allocated *cause (the caller frees). Free
 * with api_free.
 */
struct api	*api_new(struct event_base *, struct store *, struct runs *,
		    struct plans_dir *, const struct api_config *, char **cause);

/*
 * Listen on addr, "HOST:PORT" ("127.0.0.1:8080", "[::1]:0", "localhost:8080";
 * port 0 picks a free one). *bound gets the address really bound, as
 * "127.0.0.1:40123" or "[::1]:40123", allocated (the caller frees); bound
 * may be NULL. May be called more than once to listen on several addresses.
 */
int	api_listen(struct api *, const char *addr, char **bound, char **cause);

/*
 * Closes every connection at once (requests in flight get no answer) and
 * frees. NULL is a no-op.
 */
void	api_free(struct api *);

/* Is addr ("HOST:PORT" as api_listen takes it) a loopback address? */
bool	api_is_loopback(const char *addr);

#endif
