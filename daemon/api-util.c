/* api-util.c: what every REST handler needs: JSON replies and errors, query
 * parameters, ids, the bearer token check, and sending the one reply. */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api-int.h"
#include "store.h"

#define API_DETAIL_MAX	1024	/* bytes of an error's detail */

void
api_ok(struct api_res *res, int status, json_t *body)
{
	json_decref(res->body);
	res->status = status;
	res->body = body;
}

/* Length of the valid UTF-8 sequence at s (a printable one), or 0. */
static size_t
api_utf8_len(const unsigned char *s)
{
	size_t	n, i;
	uint32_t c;

	if (s[0] < 0x80)
		return s[0] >= 0x20 && s[0] != 0x7f ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, past U+10FFFF, C1 controls. */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff ||
	    (c >= 0x80 && c <= 0x9f))
		return 0;
	return n;
}

/* Makes s printable UTF-8 in place; newlines and tabs become spaces. */
static void
api_clean(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 n;

	while (*p != '\0') {
		if (*p == '\n' || *p == '\t') {
			*p++ = ' ';
			continue;
		}
		if ((n = api_utf8_len(p)) == 0) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

json_t *
api_string(const char *s)
{
	json_t	*j;
	char	*copy;

	if ((j = json_string(s)) != NULL)
		return j;
	if ((copy = strdup(s)) == NULL)
		return NULL;
	api_clean(copy);
	j = json_string(copy);
	free(copy);
	return j;
}

void
api_error(struct api_res *res, int status, const char *error,
    const char *fmt, ...)
{
	char	detail[API_DETAIL_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	api_clean(detail);
	api_ok(res, status, json_pack("{s:s, s:s}", "error", error, "detail",
	    detail));
}

void
api_param_error(struct api_res *res, const char *name, const char *fmt, ...)
{
	char	detail[API_DETAIL_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	api_error(res, 400, "bad parameter", "%s", detail);
	json_object_set_new(res->body, "parameter", api_string(name));
}

const char *
api_param(const struct api_req *r, const char *name)
{
	size_t	i;

	for (i = 0; i < r->nquery; i++)
		if (strcmp(r->query[i].name, name) == 0)
			return r->query[i].value;
	return NULL;
}

/*
 * Percent-decodes len bytes at s, '+' as space, into an allocated string
 * (the caller frees); NULL when it holds a NUL or memory runs out.
 */
static char *
api_decode(const char *s, size_t len)
{
	char	*raw, *out;
	size_t	 n;

	if ((raw = strndup(s, len)) == NULL)
		return NULL;
	out = evhttp_uridecode(raw, 1, &n);
	free(raw);
	if (out != NULL && strlen(out) != n) {
		free(out);
		return NULL;
	}
	return out;
}

static bool
api_param_known(const char *const *params, const char *name)
{
	size_t	i;

	for (i = 0; params != NULL && params[i] != NULL; i++)
		if (strcmp(params[i], name) == 0)
			return true;
	return false;
}

int
api_query_parse(struct api_req *r, const char *query,
    const char *const *params, struct api_res *res)
{
	struct api_param	*p;
	const char		*s = query, *amp, *eq;
	size_t			 len;

	while (s != NULL && *s != '\0') {
		amp = strchr(s, '&');
		len = amp != NULL ? (size_t)(amp - s) : strlen(s);
		if (len == 0) {
			/* "a=1&&b=2" and a trailing '&' are harmless. */
			s = amp != NULL ? amp + 1 : NULL;
			continue;
		}
		if (r->nquery == API_QUERY_MAX) {
			api_error(res, 400, "bad parameter", "the query has more "
			    "than %d parameters", API_QUERY_MAX);
			return -1;
		}
		p = &r->query[r->nquery];
		eq = memchr(s, '=', len);
		p->name = api_decode(s, eq != NULL ? (size_t)(eq - s) : len);
		p->value = eq != NULL ? api_decode(eq + 1, len - (size_t)(eq -
		    s) - 1) : strdup("");
		if (p->name == NULL || p->value == NULL) {
			free(p->name);
			free(p->value);
			api_error(res, 400, "bad parameter", "the query holds a NUL "
			    "(%%00) or cannot be read");
			return -1;
		}
		r->nquery++;
		if (!api_param_known(params, p->name)) {
			api_param_error(res, p->name, "`%.64s` is not a parameter "
			    "of this path%s", p->name, params == NULL ?
			    " (it takes none)" : "");
			return -1;
		}
		if (api_param(r, p->name) != p->value) {
			api_param_error(res, p->name, "`%.64s` is given more than "
			    "once", p->name);
			return -1;
		}
		s = amp != NULL ? amp + 1 : NULL;
	}
	return 0;
}

int
api_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i, len = strlen(s);

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

void
api_missing(struct api_req *r, struct api_res *res, char *cause,
    const char *what)
{
	if (cause != NULL)
		api_error(res, 500, "internal error", "the run store: %s", cause);
	else
		api_error(res, 404, "not found", "no %s %" PRId64, what, r->id);
	free(cause);
}

void
api_found(struct api_req *r, struct api_res *res, json_t *j, char *cause,
    const char *what)
{
	if (j == NULL) {
		api_missing(r, res, cause, what);
		return;
	}
	free(cause);
	api_ok(res, 200, j);
}

int
api_page_params(struct api_req *r, struct api_res *res, unsigned *limit,
    int64_t *before, const char *what)
{
	const char	*v;
	uint64_t	 n;

	if ((v = api_param(r, "limit")) != NULL) {
		if (api_parse_uint(v, 1, STORE_PAGE_MAX, &n) == -1) {
			api_param_error(res, "limit", "`limit` is a whole number "
			    "from 1 to %d, not `%.64s`", STORE_PAGE_MAX, v);
			return -1;
		}
		*limit = (unsigned)n;
	}
	if ((v = api_param(r, "before")) != NULL &&
	    api_parse_id(v, strlen(v), before) == -1) {
		api_param_error(res, "before", "`before` is a %s id (a whole "
		    "number from 1), not `%.64s`", what, v);
		return -1;
	}
	return 0;
}

int
api_parse_name(const char *s, size_t len, char *buf, size_t buflen)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	size_t	i;

	if (len == 0 || len > 64 || len >= buflen || s[0] == '.' ||
	    s[0] == '_' || s[0] == '-')
		return -1;
	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(ok, s[i]) == NULL)
			return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

int
api_parse_id(const char *s, size_t len, int64_t *id)
{
	char		buf[24];
	uint64_t	v;

	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (api_parse_uint(buf, 1, INT64_MAX, &v) == -1)
		return -1;
	*id = (int64_t)v;
	return 0;
}

/*
 * The time taken depends on the length of what the client sent, never on
 * where it first differs from the token, nor on the token's length.
 */
bool
api_token_ok(const struct api *api, const char *header)
{
	const char	*got;
	size_t		 want_len, got_len, i;
	unsigned	 diff;

	if (api->token == NULL)
		return true;
	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return false;
	got = header + 7;
	got += strspn(got, " ");
	want_len = strlen(api->token);
	got_len = strlen(got);
	diff = want_len != got_len;
	for (i = 0; i < got_len; i++)
		diff |= (unsigned char)got[i] ^
		    (unsigned char)api->token[i % want_len];
	return diff == 0;
}

/* A body that is not JSON: res->data as it is, typed res->ctype. */
static void
api_send_data(struct api_req *r, struct api_res *res)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(r->ev);
	char			 len[32];

	evhttp_add_header(out, "Content-Type", res->ctype != NULL ?
	    res->ctype : "application/octet-stream");
	evhttp_add_header(out, "Cache-Control", "no-store");
	/* Guest output is never to be taken for HTML by a browser. */
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	if (res->close)
		evhttp_add_header(out, "Connection", "close");
	if (r->head) {
		snprintf(len, sizeof len, "%zu", evbuffer_get_length(res->data));
		evhttp_add_header(out, "Content-Length", len);
	} else if (evbuffer_add_buffer(evhttp_request_get_output_buffer(r->ev),
	    res->data) == -1)
		evhttp_add_header(out, "Connection", "close");
	evhttp_send_reply(r->ev, res->status, NULL, NULL);
}

void
api_send(struct api_req *r, struct api_res *res)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(r->ev);
	struct evbuffer		*buf = evhttp_request_get_output_buffer(r->ev);
	char			*text = NULL, len[32];
	const char		*body;
	size_t			 n;

	if (res->data != NULL && res->body == NULL) {
		api_send_data(r, res);
		return;
	}
	if (res->raw != NULL)
		text = strdup(res->raw);
	else {
		if (res->body == NULL)
			api_error(res, 500, "internal error", "out of memory");
		if (res->body != NULL)
			text = json_dumps(res->body, JSON_COMPACT);
	}
	/* The last resort when even that fails. */
	body = text != NULL ? text :
	    "{\"error\":\"internal error\",\"detail\":\"out of memory\"}";
	if (text == NULL)
		res->status = 500;
	n = strlen(body);

	evhttp_add_header(out, "Content-Type", "application/json");
	evhttp_add_header(out, "Cache-Control", "no-store");
	if (res->location != NULL)
		evhttp_add_header(out, "Location", res->location);
	if (res->allow != NULL)
		evhttp_add_header(out, "Allow", res->allow);
	if (res->challenge)
		evhttp_add_header(out, "WWW-Authenticate",
		    "Bearer realm=\"hotsoakd\"");
	if (res->close)
		evhttp_add_header(out, "Connection", "close");
	if (r->head) {
		/* evhttp 2.1 would send a HEAD reply's body; say its length instead. */
		snprintf(len, sizeof len, "%zu", n + 1);
		evhttp_add_header(out, "Content-Length", len);
	} else if (evbuffer_add(buf, body, n) == -1 ||
	    evbuffer_add(buf, "\n", 1) == -1)
		evhttp_add_header(out, "Connection", "close");
	evhttp_send_reply(r->ev, res->status, NULL, NULL);
	free(text);
}

void
api_req_clear(struct api_req *r)
{
	size_t	i;

	for (i = 0; i < r->nquery; i++) {
		free(r->query[i].name);
		free(r->query[i].value);
	}
	r->nquery = 0;
}

void
api_res_clear(struct api_res *res)
{
	json_decref(res->body);
	if (res->data != NULL)
		evbuffer_free(res->data);
	free(res->location);
	memset(res, 0, sizeof *res);
}
