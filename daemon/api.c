/* api.c: the REST server: evhttp set-up, listening, and the router that
 * matches each request to a route of the table and sends its one reply. */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "api-int.h"

#define API_METHODS	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE | \
			 EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH | \
			 EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT)
#define API_WRITES	(EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH | \
			 EVHTTP_REQ_DELETE)

const struct api_route api_routes[] = {
	{ EVHTTP_REQ_GET, "/healthz", api_health_get, NULL },
	{ EVHTTP_REQ_GET, "/metrics", api_metrics_get, NULL },
	{ EVHTTP_REQ_GET, API_PREFIX "/plans", api_plans_list, NULL },
	{ EVHTTP_REQ_GET, API_PREFIX "/runs", api_runs_list,
	  api_runs_list_params },
	{ EVHTTP_REQ_POST, API_PREFIX "/runs", api_runs_create, NULL },
	{ EVHTTP_REQ_GET, API_PREFIX "/runs/{id}", api_runs_get, NULL },
	{ EVHTTP_REQ_DELETE, API_PREFIX "/runs/{id}", api_runs_abort, NULL },
	{ EVHTTP_REQ_GET, API_PREFIX "/runs/{id}/findings", api_runs_findings,
	  api_runs_page_params },
	{ EVHTTP_REQ_GET, API_PREFIX "/runs/{id}/events", api_runs_events,
	  api_runs_page_params },
	{ EVHTTP_REQ_GET, API_PREFIX "/runs/{id}/samples", api_runs_samples,
	  api_runs_page_params },
	{ EVHTTP_REQ_GET, API_PREFIX "/runs/{id}/console", api_runs_console,
	  api_runs_console_params },
	{ EVHTTP_REQ_GET, API_PREFIX "/runs/{id}/junit.xml", api_runs_junit,
	  NULL },
	{ EVHTTP_REQ_POST, API_PREFIX "/runs/{id}/rerun", api_reruns_create,
	  NULL },
	{ EVHTTP_REQ_GET, API_PREFIX "/reruns/{id}", api_reruns_get, NULL },
	{ EVHTTP_REQ_GET, API_PREFIX "/campaigns", api_campaigns_list, NULL },
	{ EVHTTP_REQ_GET, API_PREFIX "/campaigns/{name}", api_campaigns_get,
	  NULL },
	{ EVHTTP_REQ_POST, API_PREFIX "/campaigns/{name}/start",
	  api_campaigns_start, NULL },
	{ EVHTTP_REQ_POST, API_PREFIX "/campaigns/{name}/abort",
	  api_campaigns_abort, NULL },
	{ EVHTTP_REQ_GET, API_PREFIX "/campaign-runs", api_cruns_list,
	  api_cruns_list_params },
	{ EVHTTP_REQ_GET, API_PREFIX "/campaign-runs/{id}", api_cruns_get, NULL },
	{ EVHTTP_REQ_DELETE, API_PREFIX "/campaign-runs/{id}", api_cruns_abort,
	  NULL },
	{ EVHTTP_REQ_GET, API_PREFIX "/campaign-runs/{id}/junit.xml",
	  api_cruns_junit, NULL },
	{ EVHTTP_REQ_GET, API_PREFIX "/summary", api_summary_get,
	  api_summary_params },
	{ 0, NULL, NULL, NULL }
};

static const char *
api_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	case EVHTTP_REQ_CONNECT:
		return "CONNECT";
	default:
		return "?";
	}
}

/*
 * Does path match pattern segment by segment? A "{id}" or "{name}" segment
 * matches any one non-empty segment, whose place goes to *id and *id_len.
 * Paths are compared as sent, percent signs and all: no route has one.
 */
static bool
api_route_match(const char *pattern, const char *path, const char **id,
    size_t *id_len)
{
	const char	*pe, *se;
	size_t		 plen, slen;

	*id = NULL;
	*id_len = 0;
	for (;;) {
		if (*pattern != '/' || *path != '/')
			return false;
		pattern++;
		path++;
		pe = strchr(pattern, '/');
		se = strchr(path, '/');
		plen = pe != NULL ? (size_t)(pe - pattern) : strlen(pattern);
		slen = se != NULL ? (size_t)(se - path) : strlen(path);
		if ((plen == 4 && strncmp(pattern, "{id}", 4) == 0) ||
		    (plen == 6 && strncmp(pattern, "{name}", 6) == 0)) {
			if (slen == 0)
				return false;
			*id = path;
			*id_len = slen;
		} else if (plen != slen || strncmp(pattern, path, plen) != 0)
			return false;
		pattern += plen;
		path += slen;
		if (*pattern == '\0' || *path == '\0')
			return *pattern == '\0' && *path == '\0';
	}
}

/* Adds m to the Allow list in buf, once; a GET brings HEAD along. */
static void
api_allow_add(char *buf, size_t len, enum evhttp_cmd_type m)
{
	const char	*name = api_method_name(m);
	size_t		 used = strlen(buf);
	char		*p;

	/* Methods are distinct words, so a plain search is enough. */
	for (p = buf; (p = strstr(p, name)) != NULL; p += strlen(name))
		if ((p == buf || p[-1] == ' ') && (p[strlen(name)] == ',' ||
		    p[strlen(name)] == '\0'))
			return;
	snprintf(buf + used, len - used, "%s%s", used != 0 ? ", " : "", name);
	if (m == EVHTTP_REQ_GET)
		api_allow_add(buf, len, EVHTTP_REQ_HEAD);
}

/*
 * evhttp's generic callback: every request comes here. The checks run in
 * the order that gives away least: a refused body, the path, the method,
 * the token, then the id and the query.
 */
static void
api_dispatch(struct evhttp_request *ev, void *arg)
{
	struct api		*api = arg;
	struct api_req		 r;
	struct api_res		 res;
	const struct api_route	*rt, *found = NULL;
	const struct evhttp_uri	*uri;
	const char		*path, *id = NULL, *seg;
	char			 allow[64];
	enum evhttp_cmd_type	 m;
	size_t			 id_len = 0, seg_len;
	bool			 known = false, refused;

	memset(&r, 0, sizeof r);
	memset(&res, 0, sizeof res);
	r.api = api;
	r.ev = ev;
	r.method = m = evhttp_request_get_command(ev);
	if (m == EVHTTP_REQ_HEAD) {
		r.head = true;
		r.method = EVHTTP_REQ_GET;
	}
	allow[0] = '\0';

	refused = api_gate_refused(api, ev, &res.close);
	if (!refused && evbuffer_get_length(evhttp_request_get_input_buffer(
	    ev)) > api->body_max)
		refused = res.close = true;
	if (refused) {
		api_error(&res, 413, "body too large", "the request body is "
		    "larger than %zu bytes, the most this server takes",
		    api->body_max);
		goto send;
	}
	if ((uri = evhttp_request_get_evhttp_uri(ev)) == NULL ||
	    (path = evhttp_uri_get_path(uri)) == NULL) {
		api_error(&res, 400, "bad request", "the request has no path");
		goto send;
	}

	for (rt = api_routes; rt->pattern != NULL; rt++) {
		if (!api_route_match(rt->pattern, path, &seg, &seg_len))
			continue;
		known = true;
		api_allow_add(allow, sizeof allow, rt->method);
		if (rt->method == r.method) {
			found = rt;
			id = seg;
			id_len = seg_len;
		}
	}
	if (!known) {
		api_error(&res, 404, "not found", "no such path: %.200s", path);
		goto send;
	}
	if (found == NULL) {
		res.allow = allow;
		api_error(&res, 405, "method not allowed", "%s is not allowed "
		    "here; allowed: %s", api_method_name(m), allow);
		goto send;
	}
	if ((m & API_WRITES) != 0 && !api_token_ok(api, evhttp_find_header(
	    evhttp_request_get_input_headers(ev), "Authorization"))) {
		res.challenge = true;
		api_error(&res, 401, "unauthorized", "%s needs the header "
		    "`Authorization: Bearer TOKEN` with this server's token",
		    api_method_name(m));
		goto send;
	}
	if (id != NULL && strstr(found->pattern, "{name}") != NULL) {
		if (api_parse_name(id, id_len, r.name, sizeof r.name) == -1) {
			api_error(&res, 404, "not found", "no campaign `%.*s`: "
			    "campaign names are 1 to 64 of A-Z a-z 0-9 . _ -",
			    (int)(id_len > 64 ? 64 : id_len), id);
			goto send;
		}
	} else if (id != NULL && api_parse_id(id, id_len, &r.id) == -1) {
		api_error(&res, 404, "not found", "no such id `%.*s`: ids are "
		    "whole numbers from 1", (int)(id_len > 64 ? 64 : id_len), id);
		goto send;
	}
	if (api_query_parse(&r, evhttp_uri_get_query(uri), found->params,
	    &res) == -1)
		goto send;
	found->handler(&r, &res);

send:
	api_send(&r, &res);
	api_req_clear(&r);
	api_res_clear(&res);
}

struct api *
api_new(struct event_base *base, struct store *store, struct runs *runs,
    struct plans_dir *plans, const struct api_config *config, char **cause)
{
	struct api	*api;

	if (config->token != NULL && config->token[0] == '\0') {
		cause_set(cause, "the API token is empty");
		return NULL;
	}
	if (config->body_max > API_BODY_LIMIT) {
		cause_set(cause, "a body limit of %zu bytes is more than %u",
		    config->body_max, API_BODY_LIMIT);
		return NULL;
	}
	if ((api = calloc(1, sizeof *api)) == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	LIST_INIT(&api->gates);
	api->base = base;
	api->store = store;
	api->runs = runs;
	api->plans = plans;
	api->campaigns = config->campaigns;
	api->reruns = config->reruns;
	api->body_max = config->body_max != 0 ? config->body_max :
	    PLAN_MAX_BYTES;
	api->started_ns = clock_mono_ns();
	if ((config->token != NULL && (api->token = strdup(config->token)) ==
	    NULL) || (api->version = strdup(config->version != NULL ?
	    config->version : PACKAGE_VERSION)) == NULL ||
	    (config->state_dir != NULL && (api->state_dir =
	    strdup(config->state_dir)) == NULL)) {
		cause_set(cause, "out of memory");
		goto fail;
	}
	if ((api->http = evhttp_new(base)) == NULL) {
		cause_set(cause, "cannot make the HTTP server");
		goto fail;
	}
	/* Every method evhttp knows, so that the router answers 405 in JSON. */
	evhttp_set_allowed_methods(api->http, API_METHODS);
	evhttp_set_timeout(api->http, API_TIMEOUT_S);
	evhttp_set_max_headers_size(api->http, API_HEADERS_MAX);
	/* Behind the gate, for requests it leaves to evhttp. */
	evhttp_set_max_body_size(api->http, (ev_ssize_t)api->body_max);
	evhttp_set_default_content_type(api->http, "application/json");
	evhttp_set_bevcb(api->http, api_gate_bevcb, api);
	evhttp_set_gencb(api->http, api_dispatch, api);
	return api;

fail:
	api_free(api);
	return NULL;
}

/* Splits "HOST:PORT" or "[HOST]:PORT"; host is allocated (the caller frees). */
static int
api_addr_split(const char *addr, char **host, uint16_t *port, char **cause)
{
	const char	*colon, *h = addr, *p;
	size_t		 hlen;
	uint64_t	 v;

	if (addr[0] == '[') {
		if ((p = strchr(addr, ']')) == NULL || p[1] != ':')
			return cause_set(cause, "`%s` is not [HOST]:PORT", addr);
		h = addr + 1;
		hlen = (size_t)(p - h);
		colon = p + 1;
	} else {
		if ((colon = strrchr(addr, ':')) == NULL)
			return cause_set(cause, "`%s` is not HOST:PORT", addr);
		hlen = (size_t)(colon - addr);
		if (memchr(addr, ':', hlen) != NULL)
			return cause_set(cause, "`%s`: write an IPv6 address as "
			    "[ADDRESS]:PORT", addr);
	}
	if (hlen == 0)
		return cause_set(cause, "`%s` names no host (0.0.0.0 or [::] "
		    "listen everywhere)", addr);
	if (api_parse_uint(colon + 1, 0, 65535, &v) == -1)
		return cause_set(cause, "`%s`: the port must be 0 to 65535",
		    addr);
	if ((*host = strndup(h, hlen)) == NULL)
		return cause_set(cause, "out of memory");
	*port = (uint16_t)v;
	return 0;
}

int
api_listen(struct api *api, const char *addr, char **bound, char **cause)
{
	struct evhttp_bound_socket	*bs;
	struct sockaddr_storage		 ss;
	socklen_t			 sslen = sizeof ss;
	char				*host = NULL, text[INET6_ADDRSTRLEN];
	uint16_t			 port;
	int				 rc = -1;

	if (api_addr_split(addr, &host, &port, cause) == -1)
		return -1;
	errno = 0;
	if ((bs = evhttp_bind_socket_with_handle(api->http, host, port)) ==
	    NULL) {
		cause_set(cause, "cannot listen on %s: %s", addr, errno != 0 ?
		    strerror(errno) : "no such address");
		goto out;
	}
	if (bound == NULL) {
		rc = 0;
		goto out;
	}
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss,
	    &sslen) == -1) {
		cause_set(cause, "getsockname: %s", strerror(errno));
		goto out;
	}
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, text, sizeof text);
		rc = asprintf(bound, "[%s]:%u", text, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, text, sizeof text);
		rc = asprintf(bound, "%s:%u", text, ntohs(s4->sin_port));
	}
	if (rc == -1) {
		*bound = NULL;
		cause_set(cause, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(host);
	return rc;
}

void
api_free(struct api *api)
{
	size_t	i;

	if (api == NULL)
		return;
	/* Frees every connection; their gates go with them. */
	if (api->http != NULL)
		evhttp_free(api->http);
	api_gate_free_all(api);
	for (i = 0; i < API_CACHE_SLOTS; i++)
		free(api->cache[i].text);
	free(api->metrics_text);
	free(api->token);
	free(api->version);
	free(api->state_dir);
	free(api);
}

bool
api_is_loopback(const char *addr)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	char		*host = NULL;
	uint16_t	 port;
	bool		 loop = false;

	if (addr == NULL || api_addr_split(addr, &host, &port, NULL) == -1)
		return false;
	if (strcasecmp(host, "localhost") == 0)
		loop = true;
	else if (inet_pton(AF_INET, host, &a4) == 1)
		loop = (ntohl(a4.s_addr) >> 24) == 127;
	else if (inet_pton(AF_INET6, host, &a6) == 1)
		loop = IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) &&
		    a6.s6_addr[12] == 127);
	free(host);
	return loop;
}
