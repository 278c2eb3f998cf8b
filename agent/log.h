/* log.h: the agent's log: one line per event on stderr, prefixed
 * "hotsoak-agent: ", safe to call from any thread. */
#ifndef HOTSOAK_AGENT_LOG_H
#define HOTSOAK_AGENT_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,	/* the agent cannot do what it was asked */
	LOG_LEVEL_WARN,		/* something failed and the agent carries on */
	LOG_LEVEL_INFO,		/* connections, requests, findings: the default */
	LOG_LEVEL_DEBUG		/* every retry and timer */
};

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
