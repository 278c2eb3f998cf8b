/* report-xml.h: a growing buffer that XML reports are written into, and the
 * escaping that turns any bytes (guest console text included) into XML 1.0. */
#ifndef HOTSOAK_REPORT_XML_H
#define HOTSOAK_REPORT_XML_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Zero it to start. A failed allocation sets oom and makes every later
 * call a no-op, so a writer checks once, at the end (xml_buf_finish).
 */
struct xml_buf {
	char	*p;		/* NUL-terminated while len > 0 */
	size_t	 len;
	size_t	 cap;
	bool	 oom;
};

/* Bytes as they are: markup, or text that was already escaped. */
void	xml_buf_add(struct xml_buf *, const char *, size_t);
void	xml_buf_puts(struct xml_buf *, const char *);
void	xml_buf_printf(struct xml_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * n bytes of anything as character data (attr false) or as an attribute
 * value between double quotes (attr true): & < > become entities, and
 * " ' too in attributes (in text they need none, and JSON details stay
 * legible); CR always, and tab and LF in attributes, become references
 * so a reader gets them back; every other character XML 1.0 forbids (C0
 * controls, U+FFFE, U+FFFF) and every byte that is not part of valid
 * UTF-8 becomes U+FFFD. > is always escaped, so "]]>" never appears.
 */
void	xml_buf_escape(struct xml_buf *, const char *, size_t, bool attr);
/* ` name="value"`, value escaped; a NULL value writes nothing. */
void	xml_buf_attr(struct xml_buf *, const char *name, const char *value);

/* What another buffer holds, as it is or escaped; its oom is passed on. */
void	xml_buf_cat(struct xml_buf *, const struct xml_buf *);
void	xml_buf_escape_buf(struct xml_buf *, const struct xml_buf *, bool attr);

/*
 * The text written, NUL-terminated, handed to the caller (who frees it),
 * or NULL when an allocation failed; b is empty again either way.
 */
char	*xml_buf_finish(struct xml_buf *b);
/* Drop what was written; b is empty again. */
void	xml_buf_reset(struct xml_buf *b);

#endif
