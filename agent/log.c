/* log.c: one line per event on stderr; each line is built whole and written
 * with one call, so lines from helper threads never interleave. The agent
 * and hotsoakd share it, each with its own name. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	2048

static _Atomic int	log_level = LOG_LEVEL_INFO;
static const char	*log_ident = "hotsoak-agent";
static int		 log_journal;

/* syslog priorities, which journald reads from a "<N>" line prefix. */
static const int level_priority[] = {
	[LOG_LEVEL_ERROR] = 3,
	[LOG_LEVEL_WARN] = 4,
	[LOG_LEVEL_INFO] = 6,
	[LOG_LEVEL_DEBUG] = 7,
};

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void
log_init(const char *ident, int journal)
{
	log_ident = ident;
	log_journal = journal;
}

void
log_set_level(enum log_level level)
{
	atomic_store(&log_level, (int)level);
}

int
log_level_find(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
		if (strcmp(level_names[i], name) == 0)
			return (int)i;
	return -1;
}

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap, int errnum)
    __attribute__((format(printf, 2, 0)));

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap, int errnum)
{
	char	line[LOG_LINE_MAX];
	size_t	n;
	int	k;

	if ((int)level > atomic_load(&log_level))
		return;
	if (log_journal)
		n = (size_t)snprintf(line, sizeof line, "<%d>",
		    level_priority[level]);
	else
		n = (size_t)snprintf(line, sizeof line, "%s: %s", log_ident,
		    level == LOG_LEVEL_ERROR ? "error: " : level == LOG_LEVEL_WARN ?
		    "warning: " : "");
	k = vsnprintf(line + n, sizeof line - n, fmt, ap);
	if (k > 0)
		n += (size_t)k < sizeof line - n ? (size_t)k : sizeof line - n - 1;
	if (errnum != 0 && n < sizeof line - 1) {
		k = snprintf(line + n, sizeof line - n, ": %s", strerror(errnum));
		if (k > 0)
			n += (size_t)k < sizeof line - n ? (size_t)k :
			    sizeof line - n - 1;
	}
	/* Control bytes from a peer's text would break the one-line rule. */
	for (k = 0; k < (int)n; k++)
		if ((unsigned char)line[k] < 0x20)
			line[k] = ' ';
	if (n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, fmt, ap, saved ? saved : EIO);
	va_end(ap);
	errno = saved;
}

#define LOG_FN(name, level)					\
void								\
name(const char *fmt, ...)					\
{								\
	va_list	ap;						\
	int	saved = errno;					\
								\
	va_start(ap, fmt);					\
	log_vwrite(level, fmt, ap, 0);				\
	va_end(ap);						\
	errno = saved;						\
}

LOG_FN(log_warnx, LOG_LEVEL_WARN)
LOG_FN(log_errorx, LOG_LEVEL_ERROR)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
