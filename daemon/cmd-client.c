/* cmd-client.c: the plumbing of the commands that talk to hotsoakd: options
 * and token, JSON calls whose refusals are explained, numbers for people. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/http.h>

#include "hotsoak/units.h"
#include "hotsoak/util.h"
#include "cmd.h"
#include "cmd-client.h"

#define TOKEN_MAX	4096	/* a longer token file is not a token */
#define SNIPPET_MAX	160	/* of a body that is not JSON, shown in errors */

int
client_usage(FILE *f, const char *usage)
{
	fprintf(f, "usage: hotsoak %s\n", usage);
	return f == stdout ? CMD_OK : CMD_ERROR;
}

int
client_getopt(struct client_opts *o, int argc, char **argv,
    const char *optstring, const struct option *longopts)
{
	static const struct option	client_longopts[] = {
		CLIENT_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int				ch;

	for (;;) {
		ch = getopt_long(argc, argv, optstring, longopts != NULL ?
		    longopts : client_longopts, NULL);
		switch (ch) {
		case CLIENT_OPT_SERVER:
			o->server = optarg;
			break;
		case CLIENT_OPT_TOKEN_FILE:
			o->token_file = optarg;
			break;
		case CLIENT_OPT_TIMEOUT:
			o->timeout = optarg;
			break;
		default:
			return ch;
		}
	}
}

int
client_flag(struct client_flags *f, int ch, const char *usage, int *status)
{
	char	*cause = NULL;
	size_t	 at;

	switch (ch) {
	case 'j':
		f->json = 1;
		return 0;
	case 'w':
		f->wait = 1;
		return 0;
	case 'i':
		if (units_parse_duration(optarg, &f->interval_ms, &cause,
		    &at) == 0 && f->interval_ms > 0)
			return 0;
		fprintf(stderr, "hotsoak: bad --interval `%s`: %s\n", optarg,
		    cause != NULL ? cause : "must be more than 0");
		free(cause);
		*status = CMD_ERROR;
		return -1;
	case 'h':
		*status = client_usage(stdout, usage);
		return -1;
	default:
		*status = client_usage(stderr, usage);
		return -1;
	}
}

/* The most long options a command's table holds, its own and ours. */
#define CLIENT_LONGOPTS_MAX	24

int
client_getopt_flags(struct client_opts *o, struct client_flags *f, int argc,
    char **argv, unsigned flags, const struct client_own *own,
    const char *usage, int *status)
{
	static const struct option	 shared[] = {
		CLIENT_LONGOPT_JSON,
		CLIENT_LONGOPTS_WAIT,
		CLIENT_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct option			 longopts[CLIENT_LONGOPTS_MAX];
	const struct option		*l;
	char				 optstring[2 * CLIENT_LONGOPTS_MAX];
	size_t				 n = 0;
	int				 ch;

	memset(o, 0, sizeof *o);
	memset(f, 0, sizeof *f);
	for (l = own != NULL ? own->longopts : NULL; l != NULL &&
	    l->name != NULL && n + sizeof shared / sizeof shared[0] <
	    CLIENT_LONGOPTS_MAX; l++)
		longopts[n++] = *l;
	for (l = shared; l->name != NULL; l++) {
		if ((l->val == 'j' && !(flags & CLIENT_FLAGS_JSON)) ||
		    ((l->val == 'w' || l->val == 'i') &&
		    !(flags & CLIENT_FLAGS_WAIT)))
			continue;
		longopts[n++] = *l;
	}
	memset(&longopts[n], 0, sizeof longopts[n]);
	snprintf(optstring, sizeof optstring, "%s%s%sh",
	    own != NULL ? own->optstring : "",
	    flags & CLIENT_FLAGS_WAIT ? "wi:" : "",
	    flags & CLIENT_FLAGS_JSON ? "j" : "");
	optind = 0;
	while ((ch = client_getopt(o, argc, argv, optstring, longopts)) != -1) {
		if (own != NULL && ch != '?' && ch != ':' &&
		    strchr(own->optstring, ch) != NULL) {
			if (own->parse(own->arg, ch, status) != 0)
				return -1;
		} else if (client_flag(f, ch, usage, status) != 0)
			return -1;
	}
	return 0;
}

void
client_started(const struct client_flags *f, const json_t *obj,
    const char *fmt, ...)
{
	va_list	ap;

	if (f->json && !f->wait) {
		client_print_json(obj);
		return;
	}
	va_start(ap, fmt);
	vfprintf(f->json ? stderr : stdout, fmt, ap);
	va_end(ap);
	fflush(stdout);
}

int
client_global_options(int argc, char **argv, char **cause)
{
	static const struct {
		const char	*name;
		const char	*env;
	} globals[] = {
		{ "--server", "HOTSOAK_SERVER" },
		{ "--token-file", "HOTSOAK_TOKEN_FILE" },
		{ "--timeout", "HOTSOAK_TIMEOUT" },
	};
	const char	*value;
	size_t		 i, n;
	int		 at = 0;

	while (at < argc) {
		for (i = 0; i < sizeof globals / sizeof globals[0]; i++) {
			n = strlen(globals[i].name);
			if (strncmp(argv[at], globals[i].name, n) == 0 &&
			    (argv[at][n] == '=' || argv[at][n] == '\0'))
				break;
		}
		if (i == sizeof globals / sizeof globals[0])
			break;
		if (argv[at][n] == '=')
			value = argv[at++] + n + 1;
		else if (at + 1 < argc) {
			value = argv[at + 1];
			at += 2;
		} else
			return cause_set(cause, "%s needs a value",
			    globals[i].name);
		if (setenv(globals[i].env, value, 1) != 0)
			return cause_set(cause, "%s: %s", globals[i].name,
			    strerror(errno));
	}
	return at;
}

/* The token in path, allocated (the caller frees) or NULL with *cause. */
static char *
client_read_token(const char *path, char **cause)
{
	char	buf[TOKEN_MAX + 2], *p;
	ssize_t	n;
	size_t	len = 0;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cause_set(cause, "cannot read token file %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	while (len < sizeof buf - 1) {
		n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cause_set(cause, "cannot read token file %s: %s", path,
			    strerror(errno));
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (len > TOKEN_MAX) {
		cause_set(cause, "token file %s is over %d bytes", path, TOKEN_MAX);
		return NULL;
	}
	/* Editors end files in a newline; the token is the first line. */
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	if (len == 0) {
		cause_set(cause, "token file %s is empty", path);
		return NULL;
	}
	if ((p = strdup(buf)) == NULL)
		cause_set(cause, "out of memory");
	return p;
}

/* A token goes into a header: printable ASCII, no spaces. */
static int
client_token_ok(const char *t)
{
	if (*t == '\0')
		return 0;
	for (; *t != '\0'; t++)
		if (*t <= ' ' || *t >= 0x7f)
			return 0;
	return 1;
}

int
client_init(struct client *c, const struct client_opts *o, char **cause)
{
	const char	*server, *tf, *t, *timeout;
	char		*why = NULL;
	size_t		 len, at;

	memset(c, 0, sizeof *c);
	c->timeout_ms = HTTP_TIMEOUT_MS;
	timeout = o->timeout;
	if (timeout == NULL && (timeout = getenv("HOTSOAK_TIMEOUT")) != NULL &&
	    *timeout == '\0')
		timeout = NULL;
	if (timeout != NULL) {
		if (units_parse_duration(timeout, &c->timeout_ms, &why,
		    &at) != 0) {
			cause_set(cause, "bad timeout `%s`: %s", timeout,
			    why != NULL ? why : "not a duration");
			free(why);
			return -1;
		}
		if (c->timeout_ms == 0)
			return cause_set(cause, "bad timeout `%s`: must be "
			    "more than 0", timeout);
	}

	server = o->server;
	if (server == NULL && (server = getenv("HOTSOAK_SERVER")) != NULL &&
	    *server == '\0')
		server = NULL;
	if (server == NULL)
		server = CLIENT_SERVER_DEFAULT;
	if (http_url_check(server, NULL, cause) != 0)
		return -1;
	/* Paths are appended to it. */
	if (strpbrk(server, "?#") != NULL)
		return cause_set(cause, "bad server URL `%s`: no query or "
		    "fragment, only http://HOST:PORT[/PREFIX]", server);
	if ((c->server = strdup(server)) == NULL)
		return cause_set(cause, "out of memory");
	len = strlen(c->server);
	while (len > 0 && c->server[len - 1] == '/')
		c->server[--len] = '\0';

	tf = o->token_file;
	if (tf == NULL && (tf = getenv("HOTSOAK_TOKEN_FILE")) != NULL &&
	    *tf == '\0')
		tf = NULL;
	if (tf != NULL) {
		if ((c->token = client_read_token(tf, cause)) == NULL)
			goto fail;
		if (!client_token_ok(c->token)) {
			cause_set(cause, "token file %s holds more than one "
			    "token: spaces or control characters", tf);
			goto fail;
		}
	} else if ((t = getenv("HOTSOAK_TOKEN")) != NULL && *t != '\0') {
		if (!client_token_ok(t)) {
			cause_set(cause, "$HOTSOAK_TOKEN has spaces or control "
			    "characters");
			goto fail;
		}
		if ((c->token = strdup(t)) == NULL) {
			cause_set(cause, "out of memory");
			goto fail;
		}
	}
	return 0;
fail:
	client_clear(c);
	return -1;
}

int
client_open(struct client *c, const struct client_opts *o)
{
	char	*cause = NULL;

	if (client_init(c, o, &cause) == 0)
		return CMD_OK;
	fprintf(stderr, "hotsoak: %s\n", cause != NULL ? cause :
	    "out of memory");
	free(cause);
	return CMD_ERROR;
}

int
client_open_run(struct client *c, const struct client_opts *o,
    const char *id, char **path)
{
	if (client_check_id(id) != 0) {
		fprintf(stderr, "hotsoak: bad run id `%s`: runs are numbered\n",
		    id);
		return CMD_ERROR;
	}
	if (client_open(c, o) != CMD_OK)
		return CMD_ERROR;
	if (path != NULL && asprintf(path, CLIENT_API "/runs/%s", id) == -1) {
		client_clear(c);
		return CMD_ERROR;
	}
	return CMD_OK;
}

void
client_clear(struct client *c)
{
	free(c->server);
	if (c->token != NULL)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	memset(c, 0, sizeof *c);
}

void
client_reply_clear(struct client_reply *r)
{
	json_decref(r->json);
	free(r->location);
	memset(r, 0, sizeof *r);
}

const char *
client_clean(const char *s, char *buf, size_t len)
{
	size_t	i;

	if (len == 0)
		return "";
	for (i = 0; s[i] != '\0' && i < len - 1; i++)
		buf[i] = iscntrl((unsigned char)s[i]) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

const char *
client_upper(const char *s, char *buf, size_t len)
{
	size_t	i;

	client_clean(s, buf, len);
	for (i = 0; buf[i] != '\0'; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	return buf;
}

/* A server could send escape sequences to our terminal; blunt them. */
static void
client_clean_tree(json_t *j)
{
	const char	*key, *s;
	json_t		*v;
	size_t		 i, len;
	char		*copy;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		json_object_foreach(j, key, v)
			client_clean_tree(v);
		break;
	case JSON_ARRAY:
		json_array_foreach(j, i, v)
			client_clean_tree(v);
		break;
	case JSON_STRING:
		s = json_string_value(j);
		len = json_string_length(j);
		for (i = 0; i < len; i++)
			if (iscntrl((unsigned char)s[i]))
				break;
		if (i == len)
			break;
		if ((copy = malloc(len + 1)) == NULL)
			break;
		client_clean(s, copy, len + 1);
		json_string_set(j, copy);
		free(copy);
		break;
	default:
		break;
	}
}

/* The first line of a body that is not JSON, for an error message. */
static const char *
client_snippet(const struct http_response *r, char *buf, size_t len)
{
	size_t	i, n, skip = 0;
	char	*p;

	while (skip < r->len && isspace((unsigned char)r->body[skip]))
		skip++;
	n = r->len - skip < len - 1 ? r->len - skip : len - 1;
	memcpy(buf, r->body + skip, n);
	buf[n] = '\0';
	if ((p = strpbrk(buf, "\r\n")) != NULL)
		*p = '\0';
	for (i = 0; buf[i] != '\0'; i++)
		if (iscntrl((unsigned char)buf[i]))
			buf[i] = '?';
	return buf;
}

static void
client_print_errors(const json_t *errors)
{
	const json_t	*e;
	const char	*file, *msg;
	uint64_t	 line, col;
	size_t		 i;
	char		 pos[64];

	json_array_foreach(errors, i, e) {
		if (json_is_string(e)) {
			fprintf(stderr, "%s\n", json_string_value(e));
			continue;
		}
		if (!json_is_object(e))
			continue;
		msg = client_str(e, "message");
		if (msg == NULL)
			msg = client_str(e, "detail");
		if (msg == NULL)
			continue;
		file = client_str(e, "file");
		pos[0] = '\0';
		if (client_uint(e, "line", &line) == 0) {
			if (client_uint(e, "column", &col) == 0)
				snprintf(pos, sizeof pos, ":%llu:%llu",
				    (unsigned long long)line,
				    (unsigned long long)col);
			else
				snprintf(pos, sizeof pos, ":%llu",
				    (unsigned long long)line);
		}
		if (file != NULL || pos[0] != '\0')
			fprintf(stderr, "%s%s: error: %s\n",
			    file != NULL ? file : "(plan)", pos, msg);
		else
			fprintf(stderr, "error: %s\n", msg);
	}
}

/* Why a non-2xx reply was refused, on stderr. */
static void
client_print_refusal(const struct client *c, enum http_method m,
    const char *path, const struct http_response *r, const json_t *j)
{
	const char	*error = NULL, *detail = NULL;
	const json_t	*errors = NULL;
	char		 snippet[SNIPPET_MAX], reason[64];

	client_clean(r->reason, reason, sizeof reason);
	if (r->status == 401) {
		fprintf(stderr, "hotsoak: the server wants a token: "
		    "--token-file FILE or $HOTSOAK_TOKEN%s\n", c->token != NULL ?
		    " (it refused the one given)" : "");
		return;
	}
	if (json_is_object(j)) {
		error = client_str(j, "error");
		detail = client_str(j, "detail");
		errors = client_arr(j, "errors");
	}
	if (errors != NULL)
		client_print_errors(errors);
	if (error != NULL || detail != NULL) {
		fprintf(stderr, "hotsoak: %s%s%s (HTTP %d)\n",
		    error != NULL ? error : "", error != NULL && detail != NULL ?
		    ": " : "", detail != NULL ? detail : "", r->status);
		return;
	}
	if (j == NULL && r->len != 0) {
		fprintf(stderr, "hotsoak: %s %s: the server answered HTTP %d "
		    "%s with a body that is not JSON: %s\n", http_method_name(m),
		    path, r->status, reason, client_snippet(r, snippet,
		    sizeof snippet));
		return;
	}
	fprintf(stderr, "hotsoak: %s %s: the server answered HTTP %d %s\n",
	    http_method_name(m), path, r->status, reason);
}

/* Anything but JSON whitespace? */
static int
client_blank(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/*
 * One exchange: the reply of any status in *out (the caller frees it with
 * http_response_free), or CMD_ERROR having said why on stderr.
 */
static int
client_send(struct client *c, enum http_method m, const char *path,
    const char *ctype, const char *body, size_t len,
    struct http_response **out)
{
	struct http_request	 hr;
	const char		*headers[5];
	char			*url = NULL, *auth = NULL, *cause = NULL;
	enum http_fail		 fail;
	size_t			 nh = 0;

	*out = NULL;
	if (asprintf(&url, "%s%s", c->server, path) == -1) {
		fprintf(stderr, "hotsoak: out of memory\n");
		return CMD_ERROR;
	}
	if (c->token != NULL) {
		if (asprintf(&auth, "Bearer %s", c->token) == -1) {
			fprintf(stderr, "hotsoak: out of memory\n");
			free(url);
			return CMD_ERROR;
		}
		headers[nh++] = "Authorization";
		headers[nh++] = auth;
	}
	if (body != NULL && ctype != NULL) {
		headers[nh++] = "Content-Type";
		headers[nh++] = ctype;
	}
	headers[nh] = NULL;

	memset(&hr, 0, sizeof hr);
	hr.method = m;
	hr.url = url;
	hr.headers = headers;
	hr.body = body;
	hr.len = len;
	hr.timeout_ms = c->timeout_ms;
	hr.stop = c->stop;
	*out = http_fetch(&hr, &fail, &cause);
	if (auth != NULL)
		explicit_bzero(auth, strlen(auth));
	free(auth);
	free(url);
	if (*out == NULL) {
		/* Who set *stop knows why and says so. */
		if (fail != HTTP_FAIL_STOPPED)
			fprintf(stderr, "hotsoak: %s\n", cause != NULL ? cause :
			    "out of memory");
		free(cause);
		return CMD_ERROR;
	}
	return CMD_OK;
}

/* The body as JSON, its strings cleaned; NULL when it is not JSON. */
static json_t *
client_parse(const struct http_response *r)
{
	json_error_t	 jerr;
	json_t		*j;

	if (client_blank(r->body, r->len))
		return r->status >= 200 && r->status < 300 ? json_object() :
		    NULL;
	if ((j = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES,
	    &jerr)) != NULL)
		client_clean_tree(j);
	return j;
}

/* The status a refusal stands for, said on stderr unless the caller's own. */
static int
client_refused(struct client *c, enum http_method m, const char *path,
    const struct http_response *r, const json_t *j)
{
	if (c->own_status == 0 || r->status != c->own_status)
		client_print_refusal(c, m, path, r, j);
	if (r->status == 400 || r->status == 409 || r->status == 422)
		return CMD_FAILED;
	return CMD_ERROR;
}

int
client_call(struct client *c, enum http_method m, const char *path,
    const char *ctype, const char *body, size_t len, struct client_reply *out)
{
	struct http_response	*r;
	const char		*loc;
	char			 snippet[SNIPPET_MAX];
	int			 rc = CMD_ERROR;

	memset(out, 0, sizeof *out);
	if (client_send(c, m, path, ctype, body, len, &r) != CMD_OK)
		return CMD_ERROR;
	out->status = r->status;
	if ((loc = http_response_header(r, "Location")) != NULL)
		out->location = strdup(loc);
	out->json = client_parse(r);

	if (r->status >= 200 && r->status < 300) {
		if (json_is_object(out->json))
			rc = CMD_OK;
		else if (out->json == NULL)
			fprintf(stderr, "hotsoak: %s %s: the server's reply is not "
			    "JSON: %s\n", http_method_name(m), path,
			    client_snippet(r, snippet, sizeof snippet));
		else
			fprintf(stderr, "hotsoak: %s %s: the server's reply is not "
			    "a JSON object\n", http_method_name(m), path);
	} else
		rc = client_refused(c, m, path, r, out->json);
	http_response_free(r);
	return rc;
}

int
client_get_raw(struct client *c, const char *path, char **body, size_t *len)
{
	struct http_response	*r;
	json_t			*j;
	int			 rc;

	*body = NULL;
	*len = 0;
	if (client_send(c, HTTP_GET, path, NULL, NULL, 0, &r) != CMD_OK)
		return CMD_ERROR;
	if (r->status >= 200 && r->status < 300) {
		/* The reply's buffer is the caller's now. */
		*body = r->body;
		*len = r->len;
		r->body = NULL;
		http_response_free(r);
		return CMD_OK;
	}
	/* Refusals are JSON as everywhere else in the API. */
	j = client_parse(r);
	rc = client_refused(c, HTTP_GET, path, r, j);
	json_decref(j);
	http_response_free(r);
	return rc;
}

int
client_get(struct client *c, const char *path, struct client_reply *out)
{
	return client_call(c, HTTP_GET, path, NULL, NULL, 0, out);
}

/* *path (reallocated), then sep and name (NULL: none), then value encoded. */
static int
client_path_append(char **path, char sep, const char *name,
    const char *value)
{
	char	*enc, *p;
	int	 rc;

	if ((enc = evhttp_uriencode(value, -1, 0)) == NULL)
		return -1;
	rc = asprintf(&p, "%s%c%s%s%s", *path, sep, name != NULL ? name : "",
	    name != NULL ? "=" : "", enc);
	free(enc);
	if (rc == -1)
		return -1;
	free(*path);
	*path = p;
	return 0;
}

int
client_query_add(char **path, const char *name, const char *value)
{
	return client_path_append(path, strchr(*path, '?') != NULL ? '&' : '?',
	    name, value);
}

int
client_path_add(char **path, const char *segment)
{
	return client_path_append(path, '/', NULL, segment);
}

int
client_created_id(const struct client_reply *r, char *buf, size_t len)
{
	const char	*p;

	if (client_id(r->json, "id", buf, len) == 0 &&
	    client_check_id(buf) == 0)
		return 0;
	if (r->location == NULL || (p = strrchr(r->location, '/')) == NULL)
		return -1;
	snprintf(buf, len, "%s", p + 1);
	return client_check_id(buf);
}

int
client_verdict_status(const char *verdict)
{
	if (verdict == NULL)
		return CMD_ERROR;
	if (strcmp(verdict, "pass") == 0)
		return CMD_OK;
	if (strcmp(verdict, "fail") == 0)
		return CMD_FAILED;
	if (strcmp(verdict, "flaky") == 0)
		return CMD_FLAKY;
	return CMD_ERROR;	/* error, aborted, interrupted */
}

int
client_check_id(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	return i == 0 || i > 19 ? -1 : 0;
}

int
client_print_json(const json_t *j)
{
	char	*s;

	if ((s = json_dumps(j, JSON_INDENT(2))) == NULL) {
		fprintf(stderr, "hotsoak: out of memory\n");
		return -1;
	}
	printf("%s\n", s);
	free(s);
	return 0;
}

/* j's member key when j is an object and the member of type t, else NULL. */
static const json_t *
client_member(const json_t *j, const char *key, json_type t)
{
	const json_t	*v;

	if (!json_is_object(j) || (v = json_object_get(j, key)) == NULL ||
	    json_typeof(v) != t)
		return NULL;
	return v;
}

const char *
client_str(const json_t *j, const char *key)
{
	/* json_string_value(NULL) is NULL, as for a member of another type. */
	return json_string_value(client_member(j, key, JSON_STRING));
}

const json_t *
client_obj(const json_t *j, const char *key)
{
	return client_member(j, key, JSON_OBJECT);
}

const json_t *
client_arr(const json_t *j, const char *key)
{
	return client_member(j, key, JSON_ARRAY);
}

int
client_uint(const json_t *j, const char *key, uint64_t *out)
{
	const json_t	*v;
	double		 d;

	if (!json_is_object(j) || (v = json_object_get(j, key)) == NULL)
		return -1;
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return -1;
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		d = json_real_value(v);
		/* NaN fails both tests. */
		if (!(d >= 0) || !(d < 18446744073709551615.0))
			return -1;
		*out = (uint64_t)d;
		return 0;
	}
	return -1;
}

static int
client_number(const json_t *j, const char *key, int wrapped, char *buf,
    size_t len)
{
	const json_t	*v;

	if (!json_is_object(j) || (v = json_object_get(j, key)) == NULL)
		return -1;
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 && !wrapped)
			return -1;
		snprintf(buf, len, "%llu",
		    (unsigned long long)(uint64_t)json_integer_value(v));
		return 0;
	}
	if (json_is_string(v) && json_string_length(v) != 0) {
		client_clean(json_string_value(v), buf, len);
		return 0;
	}
	return -1;
}

int
client_id(const json_t *j, const char *key, char *buf, size_t len)
{
	return client_number(j, key, 0, buf, len);
}

const char *
client_id_text(const json_t *j, const char *key, char *buf, size_t len,
    const char *missing)
{
	return client_id(j, key, buf, len) == 0 ? buf : missing;
}

const char *
client_str_either(const json_t *j, const char *key, const char *other)
{
	const char	*s;

	if ((s = client_str(j, key)) == NULL)
		s = client_str(j, other);
	return s;
}

int
client_seed(const json_t *j, char *buf, size_t len)
{
	/* JSON integers stop at INT64_MAX; a seed past it arrives negative. */
	return client_number(j, "seed", 1, buf, len);
}

/*
 * v in units of 1000 (or 1024) with as many decimals as keep three
 * significant digits; a value that rounds up to the next unit moves there.
 */
static void
client_fmt_scaled(uint64_t n, unsigned base, const char *const *units,
    int space, char *buf, size_t len)
{
	double	v = (double)n;
	size_t	u = 0;

	while (units[u + 1] != NULL && v >= base - 0.5) {
		v /= base;
		u++;
	}
	if (u == 0) {
		snprintf(buf, len, "%llu%s%s", (unsigned long long)n,
		    space ? " " : "", units[0]);
		return;
	}
	if (v < 9.995)
		snprintf(buf, len, "%.2f%s%s", v, space ? " " : "", units[u]);
	else if (v < 99.95)
		snprintf(buf, len, "%.1f%s%s", v, space ? " " : "", units[u]);
	else
		snprintf(buf, len, "%.0f%s%s", v, space ? " " : "", units[u]);
}

void
client_fmt_count(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "", "k", "M", "G", "T", "P", "E",
	    NULL };

	client_fmt_scaled(n, 1000, units, 0, buf, len);
}

void
client_fmt_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
	    "PiB", "EiB", NULL };
	double	v = (double)n;
	size_t	u = 0;

	/* One decimal reads better for sizes ("4.7 GiB"). */
	while (units[u + 1] != NULL && v >= 1023.95) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

void
client_fmt_ns(uint64_t ns, char *buf, size_t len)
{
	static const char *const units[] = { "ns", "us", "ms", NULL };
	uint64_t	s;
	double		v;
	size_t		u = 0;

	if (ns < 999500000ULL) {
		v = (double)ns;
		while (units[u + 1] != NULL && v >= 999.5) {
			v /= 1000;
			u++;
		}
		if (u == 0)
			snprintf(buf, len, "%lluns", (unsigned long long)ns);
		else if (v < 9.95)
			snprintf(buf, len, "%.1f%s", v, units[u]);
		else
			snprintf(buf, len, "%.0f%s", v, units[u]);
		return;
	}
	if (ns < 59950000000ULL) {
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
		return;
	}
	s = ns / 1000000000ULL + (ns % 1000000000ULL >= 500000000ULL);
	if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60),
		    (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)(s / 3600),
		    (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%llud%02lluh",
		    (unsigned long long)(s / 86400),
		    (unsigned long long)(s % 86400 / 3600));
}

void
client_fmt_ms(uint64_t ms, char *buf, size_t len)
{
	/* Past what nanoseconds hold, the largest they do says enough. */
	client_fmt_ns(ms > UINT64_MAX / 1000000 ? UINT64_MAX : ms * 1000000,
	    buf, len);
}

void
client_fmt_local(uint64_t ns, int seconds, char *buf, size_t len)
{
	struct tm	tm;
	time_t		t = (time_t)(ns / 1000000000ULL);

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, seconds ? "%Y-%m-%d %H:%M:%S %Z" :
	    "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(buf, len, "?");
}
