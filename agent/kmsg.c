/* kmsg.c: reads the kernel log (/dev/kmsg, or its text from a file or FIFO)
 * and turns crash and warning reports into finding candidates by rules. */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kmsg.h"
#include "hotsoak/util.h"

const char *const kmsg_kind_names[KMSG_KIND_COUNT] = {
	[KMSG_BUGCHECK] = "bugcheck",
	[KMSG_WARNING] = "warning",
	[KMSG_LOST] = "lost",
};

/* ---- Display-safe text ---- */

/*
 * Makes buf[0..len) safe to print and to put in JSON (jansson refuses bad
 * UTF-8): control bytes other than \n and \t, and bytes that start no valid
 * UTF-8 sequence, become '?'. A lone byte replaced keeps the length.
 */
static void
text_sanitize(char *buf, size_t len, bool keep_newline)
{
	unsigned char	*s = (unsigned char *)buf;
	size_t		 i = 0, n;

	while (i < len) {
		if (s[i] < 0x20 || s[i] == 0x7f) {
			if (s[i] != '\t' && !(keep_newline && s[i] == '\n'))
				s[i] = '?';
			i++;
			continue;
		}
		n = utf8_seq_len(s + i, len - i);
		if (n == 0) {
			s[i] = '?';
			n = 1;
		}
		i += n;
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes the kernel's \xNN escapes (it escapes every byte below ' ', from
 * 0x7f up, and the backslash) from src into dst, NUL-terminated. A backslash
 * not followed by xNN stays as it is. Returns the decoded length; *cut is
 * set when dst was too small.
 */
static size_t
text_unescape(char *dst, size_t size, const char *src, size_t len, bool *cut)
{
	size_t	i = 0, o = 0;
	int	hi, lo;

	while (i < len) {
		if (o + 1 >= size) {
			*cut = true;
			break;
		}
		if (src[i] == '\\' && i + 3 < len && src[i + 1] == 'x' &&
		    (hi = hexval(src[i + 2])) >= 0 &&
		    (lo = hexval(src[i + 3])) >= 0) {
			dst[o++] = (char)(hi << 4 | lo);
			i += 4;
		} else
			dst[o++] = src[i++];
	}
	dst[o] = '\0';
	return o;
}

/* ---- Records ---- */

/* Reads decimal digits at *p (before end) into *v; -1 if none or too many. */
static int
parse_u64(const char **p, const char *end, uint64_t *v)
{
	const char	*s = *p;
	uint64_t	 x = 0;
	unsigned	 d;

	if (s == end || !isdigit((unsigned char)*s))
		return -1;
	while (s < end && isdigit((unsigned char)*s)) {
		d = (unsigned)(*s - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
		s++;
	}
	*p = s;
	*v = x;
	return 0;
}

int
kmsg_parse_record(const char *rec, size_t len, struct kmsg_record *r)
{
	const char	*p = rec, *end = rec + len, *nl, *eq;
	uint64_t	 pri;
	size_t		 n;
	bool		 cut = false;

	r->truncated = false;
	r->dict_len = r->ndict = 0;
	r->dict[0] = '\0';
	if (parse_u64(&p, end, &pri) == -1 || p == end || *p++ != ',')
		return -1;
	if (parse_u64(&p, end, &r->seq) == -1 || p == end || *p++ != ',')
		return -1;
	if (parse_u64(&p, end, &r->ts_usec) == -1 || p == end || *p++ != ',')
		return -1;
	if (p == end || *p == ';' || *p == ',' || *p == '\n')
		return -1;
	r->flags = *p++;
	/* Later kernels may add fields ("caller=T123") before the ';'. */
	while (p < end && *p != ';' && *p != '\n')
		p++;
	if (p == end || *p != ';')
		return -1;
	p++;
	if (pri > 0xffffffffULL)
		return -1;
	r->level = (unsigned)(pri & 7);
	r->facility = (unsigned)(pri >> 3);

	nl = memchr(p, '\n', (size_t)(end - p));
	if (nl == NULL)
		nl = end;
	n = (size_t)(nl - p);
	if (n > 0 && p[n - 1] == '\r')	/* a replayed file with CRLF lines */
		n--;
	r->text_len = text_unescape(r->text, sizeof r->text, p, n, &cut);
	text_sanitize(r->text, r->text_len, true);

	/* Each " KEY=VALUE" line follows a \n that is not the last byte. */
	for (p = nl; end - p > 1; p = nl) {
		p++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (*p != ' ')
			return -1;
		p++;
		eq = memchr(p, '=', (size_t)(nl - p));
		if (eq == NULL || eq == p)
			return -1;
		if (cut || r->dict_len + 1 >= sizeof r->dict) {
			cut = true;
			continue;
		}
		n = text_unescape(r->dict + r->dict_len,
		    sizeof r->dict - r->dict_len, p, (size_t)(nl - p), &cut);
		text_sanitize(r->dict + r->dict_len, n, false);
		if (cut) {
			/* No half entries: a cut value would lie. */
			r->dict[r->dict_len] = '\0';
			continue;
		}
		r->dict_len += n + 1;
		r->ndict++;
	}
	r->truncated = cut;
	return 0;
}

const char *
kmsg_record_dict(const struct kmsg_record *r, const char *key)
{
	size_t		 off = 0, klen = strlen(key);
	const char	*e;

	while (off < r->dict_len) {
		e = r->dict + off;
		if (strncmp(e, key, klen) == 0 && e[klen] == '=')
			return e + klen + 1;
		off += strlen(e) + 1;
	}
	return NULL;
}

/* ---- Rules ---- */

enum kmsg_match {
	MATCH_PREFIX,		/* the line starts with the pattern */
	MATCH_SUBSTR		/* the pattern is anywhere in the line */
};

enum kmsg_scope {
	SCOPE_REPORT,		/* every line until its end marker or a limit */
	SCOPE_BURST,		/* further burst lines only: a storm is one event */
	SCOPE_PANIC		/* every line until the panic's end marker */
};

struct kmsg_rule;
typedef void (*kmsg_title_cb)(const struct kmsg_rule *, const char *line,
    const char *at, char *buf, size_t size);

struct kmsg_rule {
	const char	*name;		/* stable id for the event */
	enum kmsg_match	 match;
	const char	*pattern;
	const char	*also;		/* must be in the line too, or NULL */
	enum kmsg_kind	 kind;
	enum kmsg_scope	 scope;
	const char	*end;		/* ends the report; NULL: the limits do */
	bool		 joins;		/* continues an open bugcheck report */
	bool		 want_func;	/* title gains " in FUNC" from the RIP line */
	const char	*title;		/* fixed title, for title_fixed */
	kmsg_title_cb	 make_title;
};

static void	title_fixed(const struct kmsg_rule *, const char *, const char *,
		    char *, size_t);
static void	title_line(const struct kmsg_rule *, const char *, const char *,
		    char *, size_t);
static void	title_warning(const struct kmsg_rule *, const char *, const char *,
		    char *, size_t);
static void	title_hung(const struct kmsg_rule *, const char *, const char *,
		    char *, size_t);
static void	title_rcu(const struct kmsg_rule *, const char *, const char *,
		    char *, size_t);
static void	title_blk(const struct kmsg_rule *, const char *, const char *,
		    char *, size_t);
static void	title_buffer(const struct kmsg_rule *, const char *, const char *,
		    char *, size_t);
static void	title_ext4(const struct kmsg_rule *, const char *, const char *,
		    char *, size_t);

#define END_TRACE	"---[ end trace"
#define END_TASK	"</TASK>"
#define END_PANIC	"---[ end Kernel panic"

/*
 * First match wins, so the specific lines come before the general ones
 * ("watchdog: BUG: soft lockup" before "BUG:"). Decisions:
 * - A soft lockup is a warning: the CPU still took its timer interrupt and
 *   the kernel carries on once the loop ends. A hard LOCKUP is a bugcheck:
 *   the CPU ignored interrupts for ~10 s, and whatever it holds with them
 *   off takes the other CPUs down with it.
 * - "BUG:" is a bugcheck unless it is one of the BUG lines the kernel prints
 *   and survives (sleeping or scheduling in atomic context, workqueue lockup).
 * - Oops headers join the BUG: line before them: one event, not two.
 * - Any report that a panic follows becomes a bugcheck, titled by its cause.
 * - I/O errors are warnings (the agent reports the failed I/O itself) and a
 *   storm of them is one event.
 * - "general protection fault" is a prefix: user-space faults are logged as
 *   "traps: fio[123] general protection fault ..." and are not kernel bugs.
 */
static const struct kmsg_rule kmsg_rules[] = {
	/* name, match, pattern, also,
	 *   kind, scope, end, joins, want_func, title, make_title */
	{ "panic", MATCH_PREFIX, "Kernel panic - not syncing:", NULL,
	    KMSG_BUGCHECK, SCOPE_PANIC, END_PANIC, false, false, NULL, title_line },
	{ "hard-lockup", MATCH_SUBSTR, "Watchdog detected hard LOCKUP", NULL,
	    KMSG_BUGCHECK, SCOPE_REPORT, END_TASK, false, true, "hard LOCKUP",
	    title_fixed },
	{ "soft-lockup", MATCH_SUBSTR, "BUG: soft lockup", NULL,
	    KMSG_WARNING, SCOPE_REPORT, END_TASK, false, true, "soft lockup",
	    title_fixed },
	{ "sleep-in-atomic", MATCH_PREFIX,
	    "BUG: sleeping function called from invalid context", NULL,
	    KMSG_WARNING, SCOPE_REPORT, END_TASK, false, false,
	    "BUG: sleeping function called from invalid context", title_fixed },
	{ "schedule-in-atomic", MATCH_PREFIX, "BUG: scheduling while atomic", NULL,
	    KMSG_WARNING, SCOPE_REPORT, END_TASK, false, false,
	    "BUG: scheduling while atomic", title_fixed },
	{ "workqueue-lockup", MATCH_PREFIX, "BUG: workqueue lockup", NULL,
	    KMSG_WARNING, SCOPE_REPORT, NULL, false, false,
	    "BUG: workqueue lockup", title_fixed },
	{ "bug", MATCH_PREFIX, "BUG:", NULL,
	    KMSG_BUGCHECK, SCOPE_REPORT, END_TRACE, false, true, NULL, title_line },
	{ "oops", MATCH_PREFIX, "Oops: ", NULL,
	    KMSG_BUGCHECK, SCOPE_REPORT, END_TRACE, true, true, "Oops", title_fixed },
	{ "oops", MATCH_PREFIX, "Oops ", NULL,
	    KMSG_BUGCHECK, SCOPE_REPORT, END_TRACE, true, true, "Oops", title_fixed },
	{ "oops", MATCH_PREFIX, "Internal error:", NULL,
	    KMSG_BUGCHECK, SCOPE_REPORT, END_TRACE, true, true, "Oops", title_fixed },
	{ "invalid-opcode", MATCH_PREFIX, "invalid opcode:", NULL,
	    KMSG_BUGCHECK, SCOPE_REPORT, END_TRACE, true, true, "invalid opcode",
	    title_fixed },
	{ "gpf", MATCH_PREFIX, "general protection fault", NULL,
	    KMSG_BUGCHECK, SCOPE_REPORT, END_TRACE, false, true,
	    "general protection fault", title_fixed },
	{ "kernel-bug", MATCH_PREFIX, "kernel BUG at ", NULL,
	    KMSG_BUGCHECK, SCOPE_REPORT, END_TRACE, false, false, NULL, title_line },
	{ "unable-to-handle", MATCH_PREFIX, "Unable to handle kernel ", NULL,
	    KMSG_BUGCHECK, SCOPE_REPORT, END_TRACE, false, true, NULL, title_line },
	{ "warning", MATCH_PREFIX, "WARNING: CPU: ", NULL,
	    KMSG_WARNING, SCOPE_REPORT, END_TRACE, false, false, NULL, title_warning },
	{ "warning", MATCH_PREFIX, "WARNING: ", NULL,	/* lockdep and friends */
	    KMSG_WARNING, SCOPE_REPORT, END_TASK, false, false, NULL, title_line },
	{ "hung-task", MATCH_PREFIX, "INFO: task ", " blocked for more than ",
	    KMSG_WARNING, SCOPE_REPORT, END_TASK, false, false, NULL, title_hung },
	{ "rcu-stall", MATCH_SUBSTR, "INFO: rcu_", "stall",
	    KMSG_WARNING, SCOPE_REPORT, NULL, false, false, NULL, title_rcu },
	{ "ubsan", MATCH_PREFIX, "UBSAN: ", NULL,
	    KMSG_WARNING, SCOPE_REPORT, END_TASK, false, false, NULL, title_line },
	{ "io-error", MATCH_SUBSTR, "I/O error, dev ", NULL,
	    KMSG_WARNING, SCOPE_BURST, NULL, false, false, NULL, title_blk },
	{ "io-error", MATCH_SUBSTR, "medium error, dev ", NULL,
	    KMSG_WARNING, SCOPE_BURST, NULL, false, false, NULL, title_blk },
	{ "io-error", MATCH_SUBSTR, "timeout error, dev ", NULL,
	    KMSG_WARNING, SCOPE_BURST, NULL, false, false, NULL, title_blk },
	{ "io-error", MATCH_PREFIX, "Buffer I/O error on dev ", NULL,
	    KMSG_WARNING, SCOPE_BURST, NULL, false, false, NULL, title_buffer },
	{ "fs-error", MATCH_PREFIX, "EXT4-fs error", NULL,
	    KMSG_WARNING, SCOPE_BURST, NULL, false, false, NULL, title_ext4 },
};
#define N_KMSG_RULES (sizeof kmsg_rules / sizeof kmsg_rules[0])

/* The rule line matches, or NULL; *at is where its pattern starts. */
static const struct kmsg_rule *
rule_match(const char *line, const char **at)
{
	const struct kmsg_rule	*r;
	const char		*p;
	size_t			 i;

	for (i = 0; i < N_KMSG_RULES; i++) {
		r = &kmsg_rules[i];
		if (r->match == MATCH_PREFIX)
			p = strncmp(line, r->pattern, strlen(r->pattern)) == 0 ?
			    line : NULL;
		else
			p = strstr(line, r->pattern);
		if (p == NULL || (r->also != NULL && strstr(line, r->also) == NULL))
			continue;
		*at = p;
		return r;
	}
	return NULL;
}

/* ---- Titles ---- */

/* Appends n bytes of s to the title in buf, cutting on a UTF-8 boundary. */
static void
title_cat(char *buf, size_t size, const char *s, size_t n)
{
	size_t	len = strlen(buf);

	if (len + 1 >= size)
		return;
	if (n > size - len - 1) {
		n = size - len - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(buf + len, s, n);
	buf[len + n] = '\0';
}

static void
title_str(char *buf, size_t size, const char *s)
{
	title_cat(buf, size, s, strlen(s));
}

static bool
is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/*
 * What varies between two runs of the same failure goes: symbol offsets
 * ("+0x2d/0x120"), long hex numbers (addresses), doubled spaces and the
 * trailing punctuation.
 */
static void
title_clean(char *buf)
{
	char	*s = buf, *o = buf;
	size_t	 i = 0, j, k;

	while (s[i] != '\0') {
		if (s[i] == '+' && s[i + 1] == '0' && s[i + 2] == 'x') {
			for (j = i + 3; isxdigit((unsigned char)s[j]); j++)
				;
			if (j > i + 3 && s[j] == '/' && s[j + 1] == '0' &&
			    s[j + 2] == 'x') {
				for (k = j + 3; isxdigit((unsigned char)s[k]); k++)
					;
				if (k > j + 3) {
					i = k;
					continue;
				}
			}
		}
		if (isxdigit((unsigned char)s[i]) && (i == 0 || !is_word(s[i - 1]))) {
			j = i;
			if (s[i] == '0' && s[i + 1] == 'x')
				j += 2;
			for (k = j; isxdigit((unsigned char)s[k]); k++)
				;
			if (k - j >= 9 && !is_word(s[k])) {
				if (j > i) {
					*o++ = '0';
					*o++ = 'x';
				}
				*o++ = '?';
				i = k;
				continue;
			}
		}
		if (s[i] == ' ' && (o == buf || o[-1] == ' ')) {
			i++;
			continue;
		}
		*o++ = s[i++];
	}
	*o = '\0';
	/* Kernels before 4.17: "... paging request at ffffc90000a3c000". */
	if ((k = (size_t)(o - buf)) >= 5 && strcmp(o - 5, " at ?") == 0)
		o -= 5;
	else if (k >= 7 && strcmp(o - 7, " at 0x?") == 0)
		o -= 7;
	while (o > buf && strchr(" !:.,;", o[-1]) != NULL)
		o--;
	*o = '\0';
}

/* Cuts the title where the varying part of a line begins. */
static void
title_cut(char *buf)
{
	static const char *const cuts[] = {
		", address:", " for address:", " at virtual address",
		" at address ", " pfn:", ", sector ",
	};
	char	*p;
	size_t	 i;

	for (i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
		if ((p = strstr(buf, cuts[i])) != NULL)
			*p = '\0';
}

static void
title_fixed(const struct kmsg_rule *r, const char *line, const char *at,
    char *buf, size_t size)
{
	title_str(buf, size, r->title);
}

/* The line from the match on, cut and cleaned. */
static void
title_line(const struct kmsg_rule *r, const char *line, const char *at,
    char *buf, size_t size)
{
	title_str(buf, size, at);
	title_cut(buf);
	title_clean(buf);
}

/* Length of the symbol at s ("virtblk_done" of "virtblk_done+0x4a/0x110"). */
static size_t
symbol_len(const char *s)
{
	size_t	n = 0;

	while (is_word(s[n]) || s[n] == '.')
		n++;
	return n;
}

/* "WARNING: CPU: 5 PID: 342 at block/blk-mq.c:2142 FUNC+0xa0/0xb0" is
 * "WARNING at FUNC". */
static void
title_warning(const struct kmsg_rule *r, const char *line, const char *at,
    char *buf, size_t size)
{
	const char	*p, *sp;
	size_t		 n;

	if ((p = strstr(at, " at ")) == NULL)
		goto plain;
	p += 4;
	/* "at FILE:LINE FUNC" with a file, "at FUNC" without. */
	if ((sp = strchr(p, ' ')) != NULL && sp[1] != '\0' && sp[1] != '[')
		p = sp + 1;
	if ((n = symbol_len(p)) == 0 || p[n] != '+')
		goto plain;
	title_str(buf, size, "WARNING at ");
	title_cat(buf, size, p, n);
	return;
plain:
	title_line(r, line, at, buf, size);
}

/* "INFO: task fio:2240 blocked for more than 120 seconds." is "hung task: fio". */
static void
title_hung(const struct kmsg_rule *r, const char *line, const char *at,
    char *buf, size_t size)
{
	const char	*name = at + strlen(r->pattern), *end, *colon = NULL, *p;

	if ((end = strstr(name, r->also)) == NULL)
		end = name + strlen(name);
	for (p = name; p < end; p++)
		if (*p == ':')
			colon = p;
	title_str(buf, size, "hung task: ");
	if (colon == NULL || colon == name)
		title_str(buf, size, "?");
	else if (strncmp(name, "kworker/", 8) == 0)
		/* kworker/u8:2 and kworker/3:1 come and go. */
		title_str(buf, size, "kworker");
	else
		title_cat(buf, size, name, (size_t)(colon - name));
}

/* "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:" is
 * "RCU stall (rcu_preempt)". */
static void
title_rcu(const struct kmsg_rule *r, const char *line, const char *at,
    char *buf, size_t size)
{
	const char	*flavor = at + strlen("INFO: ");

	title_str(buf, size, strstr(at, "expedited") != NULL ?
	    "RCU expedited stall (" : "RCU stall (");
	title_cat(buf, size, flavor, symbol_len(flavor));
	title_str(buf, size, ")");
}

/* "I/O error, dev vda, sector 8 op 0x1:(WRITE) flags ..." is
 * "I/O error on vda (WRITE)". */
static void
title_blk(const struct kmsg_rule *r, const char *line, const char *at,
    char *buf, size_t size)
{
	const char	*desc = line, *dev, *p, *q;

	if ((dev = strstr(line, ", dev ")) == NULL) {
		title_line(r, line, at, buf, size);
		return;
	}
	/* "blk_update_request: I/O error, ..." on kernels before 5.14. */
	for (p = line; (q = strstr(p, ": ")) != NULL && q < dev; p = q + 2)
		desc = q + 2;
	title_cat(buf, size, desc, (size_t)(dev - desc));
	title_str(buf, size, " on ");
	dev += strlen(", dev ");
	title_cat(buf, size, dev, strcspn(dev, ", "));
	if ((p = strstr(dev, " op 0x")) != NULL && (p = strstr(p, ":(")) != NULL &&
	    (q = strchr(p, ')')) != NULL) {
		title_str(buf, size, " (");
		title_cat(buf, size, p + 2, (size_t)(q - p - 2));
		title_str(buf, size, ")");
	}
}

/* "Buffer I/O error on dev vda1, logical block 524288, lost async page write". */
static void
title_buffer(const struct kmsg_rule *r, const char *line, const char *at,
    char *buf, size_t size)
{
	const char	*dev = at + strlen(r->pattern), *p;

	title_str(buf, size, "Buffer I/O error on ");
	title_cat(buf, size, dev, strcspn(dev, ", "));
	if ((p = strstr(dev, "logical block ")) != NULL &&
	    (p = strstr(p, ", ")) != NULL && p[2] != '\0') {
		title_str(buf, size, ": ");
		title_str(buf, size, p + 2);
	}
	title_clean(buf);
}

/*
 * "EXT4-fs error (device vda1): ext4_find_entry:1663: ..." or
 * "EXT4-fs error (device vda1) in ext4_find_entry:1663: ..." is
 * "EXT4-fs error (vda1) in ext4_find_entry".
 */
static void
title_ext4(const struct kmsg_rule *r, const char *line, const char *at,
    char *buf, size_t size)
{
	const char	*p, *q;
	size_t		 n;

	title_str(buf, size, "EXT4-fs error");
	if ((p = strstr(at, "(device ")) == NULL || (q = strchr(p, ')')) == NULL)
		return;
	p += strlen("(device ");
	title_str(buf, size, " (");
	title_cat(buf, size, p, (size_t)(q - p));
	title_str(buf, size, ")");
	q++;
	if (strncmp(q, ": ", 2) == 0)
		q += 2;
	else if (strncmp(q, " in ", 4) == 0)
		q += 4;
	else
		return;
	if ((n = symbol_len(q)) > 0 && q[n] == ':') {
		title_str(buf, size, " in ");
		title_cat(buf, size, q, n);
	}
}

/*
 * The function a kernel-mode register dump names: "RIP: 0010:FUNC+0x.." on
 * x86 (0010 is the kernel code segment; 0033 would be user space), "pc :
 * FUNC+0x.." on arm64. Returns its length and points *func at it, or 0;
 * *is_rip says whether the line was a register line at all.
 */
static size_t
rip_func(const char *line, const char **func, bool *is_rip)
{
	const char	*p = line;
	size_t		 n;

	while (*p == ' ')
		p++;
	if (strncmp(p, "RIP: 0010:", 10) == 0)
		p += 10;
	else if (strncmp(p, "pc : ", 5) == 0)
		p += 5;
	else
		return 0;
	*is_rip = true;
	n = symbol_len(p);
	/* Unsymbolized ("RIP: 0010:0x0", a user pc) has no "+0x". */
	if (n == 0 || strncmp(p + n, "+0x", 3) != 0)
		return 0;
	*func = p;
	return n;
}

/* ---- Classifier ---- */

enum kmsg_state {
	STATE_IDLE,		/* no event open */
	STATE_REPORT,		/* every line until the rule's end marker */
	STATE_BURST,		/* further burst lines only */
	STATE_TAIL,		/* report over; a panic may still join it */
	STATE_PANIC		/* every line until the panic's end marker */
};

struct kmsg_classifier {
	enum kmsg_state		 state;
	const struct kmsg_rule	*rule;		/* the one that opened ev */
	struct kmsg_event	 ev;		/* the open event */
	size_t			 len, cap;	/* of ev.text */
	size_t			 state_lines;	/* lines seen in this state */
	uint64_t		 since;		/* when this state began */
	bool			 rip_seen;	/* the title had its chance */
};

struct kmsg_classifier *
kmsg_classifier_new(void)
{
	return calloc(1, sizeof (struct kmsg_classifier));
}

void
kmsg_classifier_free(struct kmsg_classifier *c)
{
	if (c == NULL)
		return;
	kmsg_event_clear(&c->ev);
	free(c);
}

void
kmsg_event_clear(struct kmsg_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->text);
	memset(ev, 0, sizeof *ev);
}

bool
kmsg_classifier_pending(const struct kmsg_classifier *c)
{
	return c->state != STATE_IDLE;
}

void
kmsg_classifier_lost(struct kmsg_classifier *c)
{
	if (c->state != STATE_IDLE)
		c->ev.truncated = true;
}

/*
 * Copies a raw line into buf as the rules see it: no line end, no "<4>"
 * level, no "[  12.345678]" time (which goes to *ts if that is unknown) or
 * "[  T123]" caller prefix; display-safe. Sets *cut if it was too long.
 */
static void
line_prepare(const char *text, size_t len, char *buf, size_t size,
    uint64_t *ts, bool *cut)
{
	const char	*p = text, *end = text + len, *q;
	uint64_t	 secs, usec = 0;
	size_t		 n, digits;

	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (p < end && *p == '<') {
		for (q = p + 1; q < end && isdigit((unsigned char)*q); q++)
			;
		if (q > p + 1 && q < end && *q == '>')
			p = q + 1;
	}
	if (p < end && *p == '[') {
		for (q = p + 1; q < end && *q == ' '; q++)
			;
		if (parse_u64(&q, end, &secs) == 0 && q < end && *q == '.') {
			q++;
			for (digits = 0; q < end && isdigit((unsigned char)*q);
			    q++, digits++)
				if (digits < 6)
					usec = usec * 10 + (uint64_t)(*q - '0');
			for (; digits < 6; digits++)
				usec *= 10;
			if (q < end && *q == ']') {
				if (*ts == KMSG_TS_NONE)
					*ts = secs * 1000000 + usec;
				p = q + 1;
				/* CONFIG_PRINTK_CALLER: "[  T123]" or "[    C1]". */
				if (p < end && *p == '[') {
					for (q = p + 1; q < end && *q == ' '; q++)
						;
					if (q < end && (*q == 'T' || *q == 'C'))
						for (q++; q < end &&
						    isdigit((unsigned char)*q); q++)
							;
					if (q < end && *q == ']')
						p = q + 1;
				}
				if (p < end && *p == ' ')
					p++;
			}
		}
	}
	n = (size_t)(end - p);
	if (n >= size) {
		*cut = true;
		n = size - 1;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
	text_sanitize(buf, n, false);
}

static void
ev_append(struct kmsg_classifier *c, const char *line, bool cut)
{
	size_t	 n = strlen(line), cap;
	char	*p;

	if (cut)
		c->ev.truncated = true;
	if (c->ev.nlines >= KMSG_EVENT_LINES) {
		c->ev.truncated = true;
		return;
	}
	if (c->len + n + 2 > c->cap) {
		cap = c->cap == 0 ? 4096 : c->cap;
		while (cap < c->len + n + 2)
			cap *= 2;
		if ((p = realloc(c->ev.text, cap)) == NULL) {
			c->ev.truncated = true;
			return;
		}
		c->ev.text = p;
		c->cap = cap;
	}
	memcpy(c->ev.text + c->len, line, n);
	c->len += n;
	c->ev.text[c->len++] = '\n';
	c->ev.text[c->len] = '\0';
	c->ev.nlines++;
}

/* The first kernel register line of a report names where it happened. */
static void
ev_function(struct kmsg_classifier *c, const char *line)
{
	const char	*func = NULL;
	size_t		 n;
	bool		 is_rip = false;

	if (c->rip_seen || !c->rule->want_func)
		return;
	n = rip_func(line, &func, &is_rip);
	if (!is_rip)
		return;
	c->rip_seen = true;
	if (n == 0 || strstr(c->ev.title, " in ") != NULL)
		return;
	title_str(c->ev.title, sizeof c->ev.title, " in ");
	title_cat(c->ev.title, sizeof c->ev.title, func, n);
}

static void
ev_start(struct kmsg_classifier *c, const struct kmsg_rule *r,
    const char *line, const char *at, uint64_t ts, uint64_t seq, bool cut)
{
	memset(&c->ev, 0, sizeof c->ev);
	c->len = c->cap = 0;
	c->rule = r;
	c->rip_seen = false;
	c->ev.kind = r->kind;
	c->ev.rule = r->name;
	r->make_title(r, line, at, c->ev.title, sizeof c->ev.title);
	c->ev.ts_usec = ts;
	c->ev.seq = seq;
	c->ev.panicked = r->scope == SCOPE_PANIC;
	ev_append(c, line, cut);
	switch (r->scope) {
	case SCOPE_REPORT:
		c->state = STATE_REPORT;
		break;
	case SCOPE_BURST:
		c->state = STATE_BURST;
		break;
	case SCOPE_PANIC:
		c->state = STATE_PANIC;
		break;
	}
	c->since = ts;
	c->state_lines = 1;
}

/* A panic after a report is its doing: one bugcheck, titled by the cause. */
static void
ev_join_panic(struct kmsg_classifier *c, const char *line, uint64_t ts, bool cut)
{
	c->ev.kind = KMSG_BUGCHECK;
	c->ev.panicked = true;
	ev_append(c, line, cut);
	c->state = STATE_PANIC;
	c->since = ts;
	c->state_lines = 1;
}

static void
ev_tail(struct kmsg_classifier *c, uint64_t ts)
{
	c->state = STATE_TAIL;
	c->since = ts;
	c->state_lines = 0;
}

/*
 * Hands the open event to *out; 1 if there was one. Unless its panic's
 * end marker closes it, a report stopped short of its marker is missing lines.
 */
static int
ev_close(struct kmsg_classifier *c, struct kmsg_event *out, bool at_end)
{
	if (c->state == STATE_IDLE)
		return 0;
	if (!at_end && ((c->state == STATE_REPORT && c->rule->end != NULL) ||
	    c->state == STATE_PANIC))
		c->ev.truncated = true;
	*out = c->ev;
	memset(&c->ev, 0, sizeof c->ev);
	c->len = c->cap = 0;
	c->state = STATE_IDLE;
	c->rule = NULL;
	return 1;
}

/* Whether kernel time ts is past the window the current state began. */
static bool
expired(const struct kmsg_classifier *c, uint64_t ts)
{
	return ts != KMSG_TS_NONE && c->since != KMSG_TS_NONE &&
	    ts > c->since && ts - c->since > KMSG_WINDOW_USEC;
}

int
kmsg_classifier_feed(struct kmsg_classifier *c, const char *text, size_t len,
    uint64_t ts, uint64_t seq, struct kmsg_event *out)
{
	const struct kmsg_rule	*r;
	const char		*at = NULL;
	char			 line[KMSG_LINE_MAX];
	bool			 cut = false;
	int			 emitted = 0;

	line_prepare(text, len, line, sizeof line, &ts, &cut);
	r = rule_match(line, &at);

	if (c->state != STATE_IDLE && expired(c, ts)) {
		if (c->state == STATE_REPORT) {
			/* Cut short of its marker; a panic may still join. */
			if (c->rule->end != NULL)
				c->ev.truncated = true;
			ev_tail(c, ts);
		} else
			emitted = ev_close(c, out, false);
	}

	switch (c->state) {
	case STATE_IDLE:
		if (r != NULL)
			ev_start(c, r, line, at, ts, seq, cut);
		break;
	case STATE_REPORT:
		if (r != NULL && r->scope == SCOPE_PANIC) {
			ev_join_panic(c, line, ts, cut);
			break;
		}
		if (r != NULL && !(r->joins && c->ev.kind == KMSG_BUGCHECK)) {
			emitted = ev_close(c, out, false);
			ev_start(c, r, line, at, ts, seq, cut);
			break;
		}
		ev_append(c, line, cut);
		ev_function(c, line);
		if (c->rule->end != NULL && strstr(line, c->rule->end) != NULL)
			ev_tail(c, ts);
		else if (++c->state_lines >= KMSG_REPORT_LINES) {
			if (c->rule->end != NULL)
				c->ev.truncated = true;
			ev_tail(c, ts);
		}
		break;
	case STATE_BURST:
		if (r != NULL && r->scope == SCOPE_PANIC)
			ev_join_panic(c, line, ts, cut);
		else if (r != NULL && r->scope == SCOPE_BURST) {
			ev_append(c, line, cut);
			if (++c->state_lines >= KMSG_REPORT_LINES)
				emitted = ev_close(c, out, false);
		} else if (r != NULL) {
			emitted = ev_close(c, out, false);
			ev_start(c, r, line, at, ts, seq, cut);
		}
		/* Other lines pass: chatter does not split a storm. */
		break;
	case STATE_TAIL:
		if (r != NULL && r->scope == SCOPE_PANIC)
			ev_join_panic(c, line, ts, cut);
		else if (r != NULL) {
			emitted = ev_close(c, out, false);
			ev_start(c, r, line, at, ts, seq, cut);
		} else if (++c->state_lines >= KMSG_TAIL_LINES)
			emitted = ev_close(c, out, false);
		break;
	case STATE_PANIC:
		ev_append(c, line, cut);
		if (strstr(line, END_PANIC) != NULL)
			emitted = ev_close(c, out, true);
		break;
	}
	return emitted;
}

int
kmsg_classifier_flush(struct kmsg_classifier *c, struct kmsg_event *out)
{
	return ev_close(c, out, false);
}

/* ---- Watch ---- */

/* What fetching the next record came to. */
enum rec_status {
	REC_OK,			/* w->rec holds a kernel record to classify */
	REC_SKIP,		/* input consumed, nothing to classify: go on */
	REC_AGAIN,		/* nothing more for now */
	REC_EOF,		/* the input ended */
	REC_ERROR		/* read failed, *cause set */
};

struct kmsg_watch {
	int			  fd;
	bool			  records;	/* one per read(): a kmsg device */
	ssize_t			(*reader)(void *, void *, size_t);
	void			 *reader_arg;
	bool			  eof;
	bool			  skipping;	/* dropping an overlong line */
	bool			  overrun;	/* EPIPE: a gap comes next */
	bool			  have_seq;
	uint64_t		  next_seq;
	bool			  lost_note;	/* a "lost" note is due */
	uint64_t		  lost;		/* its count, 0 if unknown */
	uint64_t		  lost_seq, lost_ts;
	unsigned		  idle_ms;
	uint64_t		  last_ms;	/* CLOCK_MONOTONIC, last record */
	struct kmsg_classifier	  cls;
	struct kmsg_record	  rec;
	size_t			  rec_off;	/* next line of rec.text */
	bool			  rec_live;
	char			  in[2 * KMSG_RECORD_MAX];
	size_t			  have;		/* bytes in in[] (streams) */
	struct kmsg_stats	  stats;
};

static uint64_t
now_ms(void)
{
	return clock_mono_ns() / 1000000;
}

struct kmsg_watch *
kmsg_open(const char *path, bool from_start, char **cause)
{
	struct kmsg_watch	*w;
	struct stat		 st;

	if ((w = calloc(1, sizeof *w)) == NULL) {
		cause_set(cause, "kmsg: %s", strerror(errno));
		return NULL;
	}
	w->idle_ms = KMSG_IDLE_MS;
	w->last_ms = now_ms();
	if ((w->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		cause_set(cause, "open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(w->fd, &st) == -1) {
		cause_set(cause, "stat %s: %s", path, strerror(errno));
		goto fail;
	}
	w->records = S_ISCHR(st.st_mode);
	/*
	 * On /dev/kmsg, SEEK_END moves past the records already there; without
	 * it reading starts at the oldest one the ring still holds (not
	 * SEEK_DATA, which also skips what "dmesg -c" cleared: a boot-time
	 * hot-add failure is wanted even then). FIFOs have no past to skip.
	 */
	if (!from_start && lseek(w->fd, 0, SEEK_END) == -1 && errno != ESPIPE) {
		cause_set(cause, "seek %s: %s", path, strerror(errno));
		goto fail;
	}
	return w;
fail:
	kmsg_close(w);
	return NULL;
}

void
kmsg_close(struct kmsg_watch *w)
{
	if (w == NULL)
		return;
	if (w->fd != -1)
		close(w->fd);
	kmsg_event_clear(&w->cls.ev);
	free(w);
}

int
kmsg_fd(const struct kmsg_watch *w)
{
	return w->fd;
}

void
kmsg_set_idle(struct kmsg_watch *w, unsigned ms)
{
	w->idle_ms = ms;
}

void
kmsg_set_reader(struct kmsg_watch *w, ssize_t (*fn)(void *, void *, size_t),
    void *arg)
{
	w->reader = fn;
	w->reader_arg = arg;
	w->records = true;
}

void
kmsg_stats(const struct kmsg_watch *w, struct kmsg_stats *st)
{
	*st = w->stats;
}

int
kmsg_timeout_ms(const struct kmsg_watch *w)
{
	uint64_t	elapsed;

	if (!kmsg_classifier_pending(&w->cls))
		return -1;
	elapsed = now_ms() - w->last_ms;
	if (elapsed >= w->idle_ms)
		return 0;
	return (int)(w->idle_ms - elapsed);
}

/* Parses n bytes as one record and decides what becomes of it. */
static enum rec_status
take_record(struct kmsg_watch *w, const char *data, size_t n)
{
	struct kmsg_record	*r = &w->rec;

	if (n == 0 || (n == 1 && data[0] == '\n'))
		return REC_SKIP;
	if (kmsg_parse_record(data, n, r) == -1) {
		w->stats.malformed++;
		return REC_SKIP;
	}
	w->stats.records++;
	w->last_ms = now_ms();
	/*
	 * After EPIPE the kernel resumes at its oldest record, so the gap in
	 * sequence numbers is what was lost. A gap without EPIPE (a replayed
	 * file) is a loss all the same.
	 */
	if (w->have_seq && r->seq > w->next_seq) {
		w->lost_note = true;
		w->lost = r->seq - w->next_seq;
	} else if (w->overrun) {
		w->lost_note = true;
		w->lost = 0;
	}
	if (w->lost_note) {
		w->stats.lost += w->lost;
		w->lost_seq = r->seq;
		w->lost_ts = r->ts_usec;
		kmsg_classifier_lost(&w->cls);
	}
	w->overrun = false;
	w->have_seq = true;
	w->next_seq = r->seq + 1;
	/* Only the kernel's own records: anyone may write "BUG:" to /dev/kmsg. */
	if (r->facility != 0) {
		w->stats.user++;
		return REC_SKIP;
	}
	w->rec_off = 0;
	w->rec_live = true;
	return REC_OK;
}

static enum rec_status
read_record(struct kmsg_watch *w, char **cause)
{
	ssize_t	n;

	if (w->reader != NULL)
		n = w->reader(w->reader_arg, w->in, KMSG_RECORD_MAX);
	else
		n = read(w->fd, w->in, KMSG_RECORD_MAX);
	if (n == -1) {
		switch (errno) {
		case EINTR:
			return REC_SKIP;
		case EAGAIN:
#if EWOULDBLOCK != EAGAIN
		case EWOULDBLOCK:
#endif
			return REC_AGAIN;
		case EPIPE:
			w->overrun = true;
			w->stats.overruns++;
			return REC_SKIP;
		default:
			cause_set(cause, "read kmsg: %s", strerror(errno));
			return REC_ERROR;
		}
	}
	if (n == 0) {
		w->eof = true;
		return REC_EOF;
	}
	return take_record(w, w->in, (size_t)n);
}

/*
 * Length of the first complete record in in[0..have): its line and the
 * " KEY=VALUE" lines after it, known complete when a line not starting
 * with a space begins. 0 if not yet known.
 */
static size_t
stream_split(const char *in, size_t have)
{
	const char	*nl;
	size_t		 off;

	if ((nl = memchr(in, '\n', have)) == NULL)
		return 0;
	for (off = (size_t)(nl - in) + 1; off < have; off = (size_t)(nl - in) + 1) {
		if (in[off] != ' ')
			return off;
		if ((nl = memchr(in + off, '\n', have - off)) == NULL)
			return 0;
	}
	return 0;
}

/* Takes the first n bytes of in[] as a record and keeps the rest. */
static enum rec_status
stream_take(struct kmsg_watch *w, size_t n)
{
	enum rec_status	st;

	st = take_record(w, w->in, n);
	memmove(w->in, w->in + n, w->have - n);
	w->have -= n;
	return st;
}

static enum rec_status
stream_record(struct kmsg_watch *w, char **cause)
{
	const char	*nl;
	size_t		 n;
	ssize_t		 got;

	for (;;) {
		if ((n = stream_split(w->in, w->have)) > 0)
			return stream_take(w, n);
		if (w->eof)
			return w->have > 0 ? stream_take(w, w->have) : REC_EOF;
		if (w->have == sizeof w->in) {
			/* No record fits: take whole lines, or drop a monster. */
			nl = memrchr(w->in, '\n', w->have);
			if (nl != NULL)
				return stream_take(w, (size_t)(nl - w->in) + 1);
			w->stats.malformed++;
			w->have = 0;
			w->skipping = true;
		}
		got = read(w->fd, w->in + w->have, sizeof w->in - w->have);
		if (got == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				/*
				 * A writer pausing after whole lines has
				 * finished its record; waiting for the next
				 * one to prove it would hold the last report
				 * of a dying guest.
				 */
				if (w->have > 0 && w->in[w->have - 1] == '\n')
					return stream_take(w, w->have);
				return REC_AGAIN;
			}
			cause_set(cause, "read kmsg: %s", strerror(errno));
			return REC_ERROR;
		}
		if (got == 0) {
			w->eof = true;
			continue;
		}
		if (w->skipping) {
			nl = memchr(w->in + w->have, '\n', (size_t)got);
			if (nl == NULL)
				continue;
			w->skipping = false;
			n = (size_t)(nl - (w->in + w->have)) + 1;
			memmove(w->in + w->have, nl + 1, (size_t)got - n);
			got -= (ssize_t)n;
		}
		w->have += (size_t)got;
	}
}

static void
lost_event(struct kmsg_watch *w, struct kmsg_event *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->kind = KMSG_LOST;
	ev->rule = "lost";
	if (w->lost > 0)
		snprintf(ev->title, sizeof ev->title,
		    "lost %llu kernel log records", (unsigned long long)w->lost);
	else
		snprintf(ev->title, sizeof ev->title, "lost kernel log records");
	ev->lost = w->lost;
	ev->seq = w->lost_seq;
	ev->ts_usec = w->lost_ts;
	ev->truncated = true;
}

enum kmsg_status
kmsg_read(struct kmsg_watch *w, struct kmsg_event *ev, size_t max, size_t *n,
    char **cause)
{
	const char	*line, *nl;
	size_t		 len;
	int		 got;

	*n = 0;
	for (;;) {
		if (*n == max)
			return KMSG_FULL;
		if (w->lost_note) {
			lost_event(w, &ev[(*n)++]);
			w->stats.events++;
			w->lost_note = false;
			continue;
		}
		if (w->rec_live) {
			line = w->rec.text + w->rec_off;
			len = w->rec.text_len - w->rec_off;
			if ((nl = memchr(line, '\n', len)) != NULL)
				len = (size_t)(nl - line);
			w->rec_off += len + 1;
			if (w->rec_off > w->rec.text_len)
				w->rec_live = false;
			got = kmsg_classifier_feed(&w->cls, line, len,
			    w->rec.ts_usec, w->rec.seq, &ev[*n]);
			if (got) {
				(*n)++;
				w->stats.events++;
			}
			continue;
		}
		switch (w->records ? read_record(w, cause) :
		    stream_record(w, cause)) {
		case REC_OK:
		case REC_SKIP:
			continue;
		case REC_AGAIN:
			if (kmsg_timeout_ms(w) == 0 &&
			    kmsg_classifier_flush(&w->cls, &ev[*n])) {
				(*n)++;
				w->stats.events++;
			}
			return KMSG_DRAINED;
		case REC_EOF:
			if (kmsg_classifier_flush(&w->cls, &ev[*n])) {
				(*n)++;
				w->stats.events++;
			}
			return KMSG_EOF;
		case REC_ERROR:
			return KMSG_ERROR;
		}
	}
}
