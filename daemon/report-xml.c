/* report-xml.c: the buffer XML reports grow in, and the escaping that keeps
 * a finding title from a crashing guest's console well-formed XML. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/util.h"

#include "report-xml.h"

#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD in UTF-8 */

void
xml_buf_add(struct xml_buf *b, const char *s, size_t n)
{
	size_t	 cap;
	char	*p;

	if (b->oom || n == 0)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1) {
			if (cap > SIZE_MAX / 2) {
				b->oom = true;
				return;
			}
			cap *= 2;
		}
		if ((p = realloc(b->p, cap)) == NULL) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
xml_buf_puts(struct xml_buf *b, const char *s)
{
	xml_buf_add(b, s, strlen(s));
}

void
xml_buf_printf(struct xml_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	 small[256], *big;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof small) {
		xml_buf_add(b, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&big, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	xml_buf_add(b, big, (size_t)n);
	free(big);
}

/* U+FFFE and U+FFFF are valid UTF-8 but not XML 1.0 characters. */
static bool
xml_nonchar(const unsigned char *p, size_t len)
{
	return len == 3 && p[0] == 0xef && p[1] == 0xbf &&
	    (p[2] == 0xbe || p[2] == 0xbf);
}

void
xml_buf_escape(struct xml_buf *b, const char *s, size_t n, bool attr)
{
	const unsigned char	*p = (const unsigned char *)s;
	const char		*rep;
	size_t			 i = 0, run, len;

	while (i < n) {
		/* Copy the longest stretch that needs nothing in one go. */
		for (run = i; run < n; run++) {
			if (p[run] < 0x20 || p[run] >= 0x80 ||
			    strchr("&<>\"'", p[run]) != NULL)
				break;
		}
		xml_buf_add(b, s + i, run - i);
		if ((i = run) == n)
			break;
		if (p[i] >= 0x80) {
			len = utf8_seq_len(p + i, n - i);
			if (len == 0 || xml_nonchar(p + i, len)) {
				xml_buf_puts(b, REPLACEMENT);
				i += len ? len : 1;
			} else {
				xml_buf_add(b, s + i, len);
				i += len;
			}
			continue;
		}
		switch (p[i]) {
		case '&':	rep = "&amp;"; break;
		case '<':	rep = "&lt;"; break;
		case '>':	rep = "&gt;"; break;
		case '"':	rep = attr ? "&quot;" : "\""; break;
		case '\'':	rep = attr ? "&apos;" : "'"; break;
		case '\t':	rep = attr ? "&#9;" : "\t"; break;
		case '\n':	rep = attr ? "&#10;" : "\n"; break;
		case '\r':	rep = "&#13;"; break;
		default:	rep = REPLACEMENT; break;
		}
		xml_buf_puts(b, rep);
		i++;
	}
}

void
xml_buf_attr(struct xml_buf *b, const char *name, const char *value)
{
	if (value == NULL)
		return;
	xml_buf_printf(b, " %s=\"", name);
	xml_buf_escape(b, value, strlen(value), true);
	xml_buf_puts(b, "\"");
}

void
xml_buf_cat(struct xml_buf *b, const struct xml_buf *from)
{
	if (from->oom)
		b->oom = true;
	else
		xml_buf_add(b, from->p, from->len);
}

void
xml_buf_escape_buf(struct xml_buf *b, const struct xml_buf *from, bool attr)
{
	if (from->oom)
		b->oom = true;
	else
		xml_buf_escape(b, from->p, from->len, attr);
}

char *
xml_buf_finish(struct xml_buf *b)
{
	char	*p = b->p;

	if (b->oom) {
		xml_buf_reset(b);
		return NULL;
	}
	if (p == NULL)
		p = strdup("");
	memset(b, 0, sizeof *b);
	return p;
}

void
xml_buf_reset(struct xml_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}
