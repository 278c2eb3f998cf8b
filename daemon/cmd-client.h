/* cmd-client.h: what the commands that talk to hotsoakd share: the server
 * and token options, JSON calls that explain a refusal, number formatting. */
#ifndef HOTSOAK_CMD_CLIENT_H
#define HOTSOAK_CMD_CLIENT_H

#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "http-client.h"

#define CLIENT_SERVER_DEFAULT	"http://127.0.0.1:8470"
#define CLIENT_API		"/api/v1"
#define CLIENT_FMT_MAX		32	/* longest client_fmt_* text, with its NUL */

/* getopt_long values of the options every client command takes. */
enum client_opt {
	CLIENT_OPT_SERVER = 0x100,	/* --server URL */
	CLIENT_OPT_TOKEN_FILE,		/* --token-file FILE */
	CLIENT_OPT_TIMEOUT		/* --timeout DUR, per request */
};

/* A command's getopt_long entries for --help ('h') and the options above. */
#define CLIENT_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "server", required_argument, NULL, CLIENT_OPT_SERVER }, \
	{ "token-file", required_argument, NULL, CLIENT_OPT_TOKEN_FILE }, \
	{ "timeout", required_argument, NULL, CLIENT_OPT_TIMEOUT }

/* How the options spell in usage lines. */
#define CLIENT_USAGE	"[--server URL] [--token-file FILE] [--timeout DUR]"

/*
 * "usage: hotsoak " and usage on f: on stdout when asked for (CMD_OK),
 * else on stderr (CMD_ERROR). Returns the status to exit with.
 */
int	client_usage(FILE *f, const char *usage);

/* The options as given, borrowed from argv; NULL when not given. */
struct client_opts {
	const char	*server;	/* else $HOTSOAK_SERVER, else the default */
	const char	*token_file;	/* else $HOTSOAK_TOKEN_FILE, else $HOTSOAK_TOKEN */
	const char	*timeout;	/* else $HOTSOAK_TIMEOUT, else HTTP_TIMEOUT_MS */
};

/*
 * getopt_long over argv that keeps the client options in o and returns
 * the next option of the command's own, or -1 after the last; longopts
 * NULL stands for CLIENT_LONGOPTS alone. Zero o and optind before the
 * first call.
 */
int	client_getopt(struct client_opts *, int argc, char **argv,
	    const char *optstring, const struct option *longopts);

/* The options several commands share, as client_flag takes them. */
struct client_flags {
	int		json;		/* --json: the server's object on stdout */
	int		wait;		/* --wait: follow it until finished */
	uint64_t	interval_ms;	/* --interval DUR; 0 when not given */
};

/* getopt_long entries of the shared options, for client_flag. */
#define CLIENT_LONGOPT_JSON	{ "json", no_argument, NULL, 'j' }
#define CLIENT_LONGOPTS_WAIT \
	{ "wait", no_argument, NULL, 'w' }, \
	{ "interval", required_argument, NULL, 'i' }

/* Which shared options a command takes, for client_getopt_flags. */
enum client_flag_set {
	CLIENT_FLAGS_NONE = 0x0,	/* the client options and -h alone */
	CLIENT_FLAGS_JSON = 0x1,	/* --json */
	CLIENT_FLAGS_WAIT = 0x2		/* --wait and --interval DUR */
};

/*
 * Option ch of client_getopt into f when it is a shared one ('j', 'w',
 * 'i'): 0. Else -1 with the status to exit with in *status, having said
 * why: usage on stdout for 'h', on stderr for anything else, or a bad
 * --interval.
 */
int	client_flag(struct client_flags *, int ch, const char *usage,
	    int *status);

/*
 * A command's own options, apart from the shared ones: their optstring
 * and NULL-terminated longopts, and parse, which takes each (its value in
 * optarg) into arg: 0, else -1 with the status to exit with in *status,
 * having said why.
 */
struct client_own {
	const char		*optstring;
	const struct option	*longopts;
	int			(*parse)(void *arg, int ch, int *status);
	void			*arg;
};

/*
 * Zero o and f, then getopt_long over argv for the client options, -h,
 * the shared options of flags (enum client_flag_set) and own's (NULL:
 * none). 0, else -1 with *status as client_flag or own->parse gives it.
 */
int	client_getopt_flags(struct client_opts *, struct client_flags *,
	    int argc, char **argv, unsigned flags,
	    const struct client_own *own, const char *usage, int *status);

/*
 * What a command started, said: with --json alone the server's object on
 * stdout; else the line fmt, on stderr with --json (whose stdout gets the
 * final object alone).
 */
void	client_started(const struct client_flags *, const json_t *obj,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Options given before the command's name ("hotsoak --server URL runs")
 * become the environment the commands read ($HOTSOAK_SERVER,
 * $HOTSOAK_TOKEN_FILE, $HOTSOAK_TIMEOUT), so they hold for whichever
 * command follows and lose to the same option given after its name.
 * Returns how many words of argv were taken, or -1 with an allocated
 * *cause (the caller frees) when one lacks its value.
 */
int	client_global_options(int argc, char **argv, char **cause);

/* A configured connection to the API. */
struct client {
	char			*server;	/* base URL without a trailing '/' */
	char			*token;		/* NULL: send none */
	uint64_t		 timeout_ms;
	volatile sig_atomic_t	*stop;		/* abandons a request; may be NULL */
	/* A refusal (409) the caller explains better: not said on stderr. */
	int			 own_status;
};

/*
 * Resolve the options against the environment and read the token. -1 with
 * an allocated *cause (the caller frees). Clear with client_clear.
 */
int	client_init(struct client *, const struct client_opts *, char **cause);
void	client_clear(struct client *);

/*
 * client_init that says on stderr why it failed: CMD_OK (clear c with
 * client_clear) or CMD_ERROR.
 */
int	client_open(struct client *, const struct client_opts *);

/*
 * For a command about run id: check id, client_open, and make the run's
 * path (*path, allocated; the caller frees) unless path is NULL. CMD_OK,
 * else CMD_ERROR having said why, with nothing to clear.
 */
int	client_open_run(struct client *, const struct client_opts *,
	    const char *id, char **path);

/* A reply, whatever it held. */
struct client_reply {
	int	 status;	/* HTTP status, 0 when no reply came */
	json_t	*json;		/* the body when it is JSON, else NULL */
	char	*location;	/* the Location header or NULL */
};

/*
 * Call the API: path is under the server ("/api/v1/runs?limit=5"), body
 * (NULL: none) goes with content type ctype. Returns an enum cmd_status:
 * CMD_OK for a 2xx with a JSON object in reply->json (an empty body reads
 * as {}); otherwise the reason is printed on stderr and it is CMD_FAILED
 * when the server refused the input (400, 409, 422), else CMD_ERROR
 * (unreachable, 401, 404, 5xx, a reply that is not JSON). Strings in
 * reply->json have their control characters replaced, so they print
 * safely. The caller clears reply with client_reply_clear in every case.
 */
int	client_call(struct client *, enum http_method, const char *path,
	    const char *ctype, const char *body, size_t len,
	    struct client_reply *);
int	client_get(struct client *, const char *path, struct client_reply *);
void	client_reply_clear(struct client_reply *);

/*
 * GET a body of any type (JUnit XML): CMD_OK with *body allocated (the
 * caller frees; NUL-terminated after its *len bytes) for a 2xx, else the
 * status client_call would give, having said why on stderr.
 */
int	client_get_raw(struct client *, const char *path, char **body,
	    size_t *len);

/*
 * Append "?name=value" or "&name=value", value URL-encoded, to the
 * allocated *path (reallocated; the caller frees). -1 when out of memory.
 */
int	client_query_add(char **path, const char *name, const char *value);

/*
 * Append "/" and segment, URL-encoded, to the allocated *path (reallocated;
 * the caller frees). -1 when out of memory.
 */
int	client_path_add(char **path, const char *segment);

/* 0 when s is a run id as the API spells them (decimal digits), else -1. */
int	client_check_id(const char *s);

/*
 * The id of what a POST created: the reply's "id", else the Location's
 * last part. -1 when neither is an id.
 */
int	client_created_id(const struct client_reply *, char *buf, size_t len);

/* The exit status a verdict stands for: pass, fail, flaky, else error. */
int	client_verdict_status(const char *verdict);

/* Pretty JSON on stdout, as --json shows it. */
int	client_print_json(const json_t *);

/*
 * Members of whatever the server sent, never trusting its types: NULL, or
 * -1, when the member is missing or of another type. client_uint takes a
 * number of zero or more (an integer, or a real it truncates).
 */
const char	*client_str(const json_t *, const char *key);
const json_t	*client_obj(const json_t *, const char *key);
const json_t	*client_arr(const json_t *, const char *key);
int		 client_uint(const json_t *, const char *key, uint64_t *);
/* An id as text: an integer of zero or more, or a string. */
int		 client_id(const json_t *, const char *key, char *buf,
		    size_t len);
/* The run's "seed" as text, unsigned 64 bits even when sent wrapped. */
int		 client_seed(const json_t *, char *buf, size_t len);

/* Member key, else member other (both strings), else NULL. */
const char	*client_str_either(const json_t *, const char *key,
		    const char *other);
/* client_id's text in buf, else missing. Returns which. */
const char	*client_id_text(const json_t *, const char *key, char *buf,
		    size_t len, const char *missing);

/* s with control characters as '?', cut to fit buf. Returns buf. */
const char	*client_clean(const char *s, char *buf, size_t len);
/* client_clean in upper case ("FLAKY"). Returns buf. */
const char	*client_upper(const char *s, char *buf, size_t len);

/* "950", "12.3k", "1.23M": three significant digits. */
void	client_fmt_count(uint64_t, char *buf, size_t len);
/* "512 B", "4.7 GiB". */
void	client_fmt_bytes(uint64_t, char *buf, size_t len);
/* "800ns", "120us", "1.4ms", "14.2s", "2m05s", "3h20m", "2d04h". */
void	client_fmt_ns(uint64_t ns, char *buf, size_t len);
/* The same from milliseconds (as "elapsed_ms" counts). */
void	client_fmt_ms(uint64_t ms, char *buf, size_t len);

/* Wall-clock ns as local time: "2026-11-22 02:00", or with seconds and zone. */
void	client_fmt_local(uint64_t ns, int seconds, char *buf, size_t len);

/*
 * The summary of a run object (GET /api/v1/runs/ID) on stdout, its
 * findings fetched and listed too (cmd-show.c). Never fails on a member
 * missing or of a wrong type: it prints what is there.
 */
void	show_print_run(struct client *, const json_t *run);
/* The exit status a run stands for: its verdict when finished, else CMD_OK. */
int	show_run_status(const json_t *run);

/*
 * Every finding of run id (of kind when not NULL) appended to all, page
 * after page (cmd-findings.c). An enum cmd_status, having said why.
 */
int	findings_fetch(struct client *, const char *id, const char *kind,
	    json_t *all);

/*
 * A campaign run object (GET /api/v1/campaign-runs/ID) on stdout: verdict,
 * counts and per plan its repetitions with their attempts (cmd-campaign.c).
 */
void	campaign_print_run(struct client *, const json_t *crun);
/* The exit status of a campaign run: its verdict when finished, else CMD_OK. */
int	campaign_run_status(const json_t *crun);

#endif
