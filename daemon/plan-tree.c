/* plan-tree.c: libyaml events into a tree of located nodes, refusing what a
 * plan never needs (aliases, tags, several documents) before it costs memory. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <yaml.h>

#include "hotsoak/plan.h"
#include "plan-decode.h"
#include "plan-tree.h"

struct tree_build {
	const char		*file;
	const unsigned char	*buf;
	size_t			 len;
	struct plan_diags	*diags;
	struct pnode		*stack[PLAN_MAX_DEPTH + 1];
	size_t			 depth;
	size_t			 nodes;
	struct pnode		*root;
	int			 failed;
};

static struct plan_mark
mark_of(yaml_mark_t m)
{
	struct plan_mark	pm;

	pm.line = (unsigned)m.line + 1;
	pm.column = (unsigned)m.column + 1;
	return pm;
}

static void
tree_error(struct tree_build *tb, struct plan_mark mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
tree_error(struct tree_build *tb, struct plan_mark mark, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	tb->failed = 1;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg == NULL) {
		tb->diags->dropped++;
		return;
	}
	plan_diags_add(tb->diags, tb->file, mark, msg);
	free(msg);
}

/*
 * Line and column of a byte offset, for reader errors, which libyaml gives
 * as an offset only. Columns count characters, as libyaml's marks do.
 */
static struct plan_mark
mark_of_offset(const unsigned char *buf, size_t len, size_t off)
{
	struct plan_mark	m = { 1, 1 };
	size_t			i;

	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			m.line++;
			m.column = 1;
		} else if ((buf[i] & 0xc0) != 0x80)
			m.column++;
	}
	return m;
}

void
pnode_free(struct pnode *n)
{
	size_t	i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		pnode_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n);
}

static int
node_append(struct pnode *parent, struct pnode *kid)
{
	struct pnode	**v;
	size_t		  cap;

	if (parent->n == parent->cap) {
		cap = parent->cap ? parent->cap * 2 : 4;
		if ((v = realloc(parent->kids, cap * sizeof *v)) == NULL)
			return -1;
		parent->kids = v;
		parent->cap = cap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

/* Attaches a new node to the open collection (or makes it the root). */
static struct pnode *
node_new(struct tree_build *tb, enum pnode_type type, yaml_mark_t start)
{
	struct pnode	*n;

	if (++tb->nodes > PLAN_MAX_NODES) {
		tree_error(tb, mark_of(start),
		    "plan has more than %d YAML nodes; that is not a plan",
		    PLAN_MAX_NODES);
		return NULL;
	}
	if ((n = calloc(1, sizeof *n)) == NULL) {
		tree_error(tb, mark_of(start), "out of memory");
		return NULL;
	}
	n->type = type;
	n->mark = mark_of(start);
	if (tb->depth == 0)
		tb->root = n;
	else if (node_append(tb->stack[tb->depth - 1], n) == -1) {
		free(n);
		tree_error(tb, mark_of(start), "out of memory");
		return NULL;
	}
	return n;
}

static int
refuse_decorations(struct tree_build *tb, const yaml_event_t *ev,
    const yaml_char_t *anchor, const yaml_char_t *tag, int implicit)
{
	if (anchor != NULL) {
		tree_error(tb, mark_of(ev->start_mark),
		    "anchors (&%s) are not supported in plans; write the value out",
		    (const char *)anchor);
		return -1;
	}
	if (tag != NULL && !implicit) {
		/* libyaml hands back "!!str" resolved; show it as written. */
		if (strncmp((const char *)tag, "tag:yaml.org,2002:", 18) == 0)
			tree_error(tb, mark_of(ev->start_mark), "tags (!!%s) are not "
			    "supported in plans", (const char *)tag + 18);
		else
			tree_error(tb, mark_of(ev->start_mark), "tags (%s) are not "
			    "supported in plans", (const char *)tag);
		return -1;
	}
	return 0;
}

/*
 * libyaml reports a cut-short sequence at the byte where it noticed, often
 * the innocent one after; the culprit is the lead byte before it.
 */
static void
reader_error(struct tree_build *tb, const yaml_parser_t *p)
{
	const char	*problem = p->problem ? p->problem : "unreadable input";
	size_t		 off = p->problem_offset, lead;

	if (strstr(problem, "control characters") != NULL) {
		tree_error(tb, mark_of_offset(tb->buf, tb->len, off),
		    "binary data: control character 0x%02x is not allowed in a "
		    "plan", (unsigned)p->problem_value);
		return;
	}
	if (off < tb->len && strstr(problem, "leading UTF-8") != NULL) {
		tree_error(tb, mark_of_offset(tb->buf, tb->len, off),
		    "invalid UTF-8 (byte 0x%02x cannot start a character)",
		    tb->buf[off]);
		return;
	}
	if (strstr(problem, "trailing UTF-8") != NULL ||
	    strstr(problem, "incomplete UTF-8") != NULL) {
		for (lead = off < tb->len ? off : tb->len; lead > 0 &&
		    off - lead < 4; lead--)
			if ((tb->buf[lead - 1] & 0xc0) == 0xc0)
				break;
		if (lead > 0 && (tb->buf[lead - 1] & 0xc0) == 0xc0) {
			tree_error(tb, mark_of_offset(tb->buf, tb->len, lead - 1),
			    "invalid UTF-8 (byte 0x%02x starts a sequence that is "
			    "cut short)", tb->buf[lead - 1]);
			return;
		}
	}
	tree_error(tb, mark_of_offset(tb->buf, tb->len, off), "invalid UTF-8 "
	    "(%s)", problem);
}

static void
parser_error(struct tree_build *tb, const yaml_parser_t *p)
{
	struct plan_mark	m;
	size_t			at;
	const char		*problem = p->problem ? p->problem : "malformed YAML";

	if (p->error == YAML_READER_ERROR) {
		reader_error(tb, p);
		return;
	}
	if (p->error == YAML_MEMORY_ERROR) {
		tree_error(tb, (struct plan_mark){ 1, 1 }, "out of memory");
		return;
	}

	m = mark_of(p->problem_mark);
	at = p->problem_mark.index;
	if (at < tb->len && tb->buf[at] == '\t') {
		tree_error(tb, m, "tab character: YAML indents with spaces only");
		return;
	}
	if (p->context != NULL && strstr(p->context, "quoted scalar") != NULL &&
	    strstr(problem, "end of stream") != NULL) {
		tree_error(tb, mark_of(p->context_mark),
		    "unclosed quote: this quoted string never ends");
		return;
	}
	if (p->context != NULL && strstr(p->context, "flow sequence") != NULL &&
	    strstr(problem, "expected ',' or ']'") != NULL) {
		tree_error(tb, mark_of(p->context_mark), "unclosed flow list: this "
		    "`[` is never closed with `]`");
		return;
	}
	if (p->context != NULL && strstr(p->context, "flow mapping") != NULL &&
	    strstr(problem, "expected ',' or '}'") != NULL) {
		tree_error(tb, mark_of(p->context_mark), "unclosed flow mapping: "
		    "this `{` is never closed with `}`");
		return;
	}
	/* An unquoted `@daily` or a cron step (`*` then a slash) trips on YAML syntax. */
	for (at = p->context ? p->context_mark.index : p->problem_mark.index;;
	    at = p->problem_mark.index) {
		if (at < tb->len && (tb->buf[at] == '@' || tb->buf[at] == '`' ||
		    (tb->buf[at] == '*' && p->context != NULL &&
		    strstr(p->context, "alias") != NULL))) {
			tree_error(tb, mark_of(at == p->problem_mark.index ?
			    p->problem_mark : p->context_mark), "a value starting "
			    "with '%c' must be quoted, as in schedule: \"@daily\"",
			    tb->buf[at]);
			return;
		}
		if (at == p->problem_mark.index)
			break;
	}
	if (p->context != NULL)
		tree_error(tb, m, "%s %s (line %u column %u)", problem,
		    p->context, (unsigned)p->context_mark.line + 1,
		    (unsigned)p->context_mark.column + 1);
	else
		tree_error(tb, m, "%s", problem);
}

/* One event into the tree; -1 stops the parse (the error is recorded). */
static int
tree_event(struct tree_build *tb, const yaml_event_t *ev, int *docs)
{
	struct pnode	*n;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1) {
			tree_error(tb, mark_of(ev->start_mark),
			    "a second YAML document; a plan file holds one");
			return -1;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		tree_error(tb, mark_of(ev->start_mark),
		    "aliases (*%s) are not supported in plans; write the value out",
		    (const char *)ev->data.alias.anchor);
		return -1;
	case YAML_SCALAR_EVENT:
		if (refuse_decorations(tb, ev, ev->data.scalar.anchor,
		    ev->data.scalar.tag, 0) == -1)
			return -1;
		if ((n = node_new(tb, PNODE_SCALAR, ev->start_mark)) == NULL)
			return -1;
		if ((n->text = malloc(ev->data.scalar.length + 1)) == NULL) {
			tree_error(tb, n->mark, "out of memory");
			return -1;
		}
		memcpy(n->text, ev->data.scalar.value, ev->data.scalar.length);
		n->text[ev->data.scalar.length] = '\0';
		n->len = ev->data.scalar.length;
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		/* Quotes take two bytes; any other difference is an escape. */
		n->exact = ev->start_mark.line == ev->end_mark.line &&
		    ev->end_mark.index - ev->start_mark.index ==
		    n->len + (n->quoted ? 2 : 0);
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ev->type == YAML_SEQUENCE_START_EVENT ?
		    refuse_decorations(tb, ev, ev->data.sequence_start.anchor,
		    ev->data.sequence_start.tag, ev->data.sequence_start.implicit) :
		    refuse_decorations(tb, ev, ev->data.mapping_start.anchor,
		    ev->data.mapping_start.tag, ev->data.mapping_start.implicit))
			return -1;
		if (tb->depth >= PLAN_MAX_DEPTH) {
			tree_error(tb, mark_of(ev->start_mark),
			    "nesting deeper than %d levels", PLAN_MAX_DEPTH);
			return -1;
		}
		n = node_new(tb, ev->type == YAML_SEQUENCE_START_EVENT ?
		    PNODE_SEQ : PNODE_MAP, ev->start_mark);
		if (n == NULL)
			return -1;
		tb->stack[tb->depth++] = n;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (tb->depth > 0)
			tb->depth--;
		return 0;
	default:
		return 0;
	}
}

struct pnode *
ptree_parse(const char *file, const unsigned char *buf, size_t len,
    struct plan_diags *diags)
{
	struct tree_build	 tb;
	yaml_parser_t		 parser;
	yaml_event_t		 ev;
	const unsigned char	*nul;
	int			 docs = 0, done = 0;

	memset(&tb, 0, sizeof tb);
	tb.file = file;
	tb.buf = buf;
	tb.len = len;
	tb.diags = diags;

	/*
	 * libyaml would call a NUL a control character too, but only once
	 * its reader gets there; say plainly what it is, and where.
	 */
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		tree_error(&tb, mark_of_offset(buf, len, (size_t)(nul - buf)),
		    "binary data: NUL byte in a plan");
		return NULL;
	}

	if (!yaml_parser_initialize(&parser)) {
		tree_error(&tb, (struct plan_mark){ 1, 1 }, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&parser, buf, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			parser_error(&tb, &parser);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		if (tree_event(&tb, &ev, &docs) == -1)
			done = 1;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);

	if (tb.failed) {
		pnode_free(tb.root);
		return NULL;
	}
	if (tb.root == NULL || pnode_is_null(tb.root)) {
		tree_error(&tb, (struct plan_mark){ 1, 1 },
		    "empty plan: expected a mapping with version, name and steps");
		pnode_free(tb.root);
		return NULL;
	}
	return tb.root;
}

/* Index of key's first occurrence in map's kids, or -1. */
static ssize_t
map_index(const struct pnode *map, const char *key)
{
	size_t	i;

	if (map == NULL || map->type != PNODE_MAP)
		return -1;
	for (i = 0; i + 1 < map->n; i += 2)
		if (map->kids[i]->type == PNODE_SCALAR &&
		    strcmp(map->kids[i]->text, key) == 0)
			return (ssize_t)i;
	return -1;
}

const struct pnode *
pnode_map_key(const struct pnode *map, const char *key)
{
	ssize_t	i = map_index(map, key);

	return i == -1 ? NULL : map->kids[i];
}

const struct pnode *
pnode_map_get(const struct pnode *map, const char *key)
{
	ssize_t	i = map_index(map, key);

	return i == -1 ? NULL : map->kids[i + 1];
}

bool
pnode_is_null(const struct pnode *n)
{
	if (n->type != PNODE_SCALAR || n->quoted)
		return false;
	return n->len == 0 || strcmp(n->text, "~") == 0 ||
	    strcmp(n->text, "null") == 0 || strcmp(n->text, "Null") == 0 ||
	    strcmp(n->text, "NULL") == 0;
}

const char *
pnode_describe(const struct pnode *n)
{
	switch (n->type) {
	case PNODE_MAP:
		return "a mapping";
	case PNODE_SEQ:
		return "a list";
	case PNODE_SCALAR:
		break;
	}
	if (pnode_is_null(n))
		return "nothing";
	return n->quoted ? "a quoted string" : "a scalar";
}

struct plan_mark
pnode_mark_at(const struct pnode *n, size_t at)
{
	struct plan_mark	m = n->mark;
	size_t			i;

	if (n->type != PNODE_SCALAR || !n->exact || at > n->len)
		return m;
	if (n->quoted)
		m.column++;
	for (i = 0; i < at; i++)
		if (((unsigned char)n->text[i] & 0xc0) != 0x80)
			m.column++;
	return m;
}
