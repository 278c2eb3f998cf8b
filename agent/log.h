/* log.h: the log of the agent and of hotsoakd: one line per event on
 * stderr, prefixed with the program's name, safe to call from any thread. */
#ifndef HOTSOAK_AGENT_LOG_H
#define HOTSOAK_AGENT_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,	/* the agent cannot do what it was asked */
	LOG_LEVEL_WARN,		/* something failed and the agent carries on */
	LOG_LEVEL_INFO,		/* connections, requests, findings: the default */
	LOG_LEVEL_DEBUG		/* every retry and timer */
};

/*
 * Name the program ("hotsoak-agent" until called; the string must live on).
 * With journal set, lines start with a syslog "<N>" priority instead of the
 * name, which journald turns into the entry's priority.
 */
void	log_init(const char *ident, int journal);
/* Lines above level are not written. */
void	log_set_level(enum log_level level);
/* The level named name ("error", "warn", "info", "debug"), or -1. */
int	log_level_find(const char *name);

/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
