/* plan-load.c: the loader's entry points: read a file or a buffer under the
 * size limit, tell plan from campaign, check the version, build the model. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan-load.h"

static const char *const kind_names[] = { "plan", "campaign", NULL };

int
set_string(char **dst, const char *src)
{
	char	*s;

	if ((s = strdup(src)) == NULL)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

int
check_name(struct plan_parser *pp, const struct pnode *n, const char *s)
{
	size_t	len = strlen(s);

	if (len > 64)
		return pp_error(pp, n, "`name` is longer than 64 characters");
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") != len || s[0] == '.' || s[0] == '-' || s[0] == '_')
		return pp_error(pp, n, "`name` `%s` may use letters, digits, `.`, "
		    "`_` and `-`, starting with a letter or digit", s);
	return 0;
}

const struct pnode *
pnode_path(const struct pnode *n, ...)
{
	const struct pnode	*next;
	const char		*key;
	va_list			 ap;

	va_start(ap, n);
	while ((key = va_arg(ap, const char *)) != NULL) {
		if ((next = pnode_map_get(n, key)) == NULL)
			break;
		/* Point at the key itself when its value is what is wrong. */
		n = next;
	}
	va_end(ap);
	return n;
}

void
plan_file_free(struct plan_file *pf)
{
	if (pf == NULL)
		return;
	plan_free(pf->plan);
	campaign_free(pf->campaign);
	free(pf);
}

/* The version key decides how to read the rest, so it comes first. */
static int
check_version(struct plan_parser *pp, const struct pnode *root)
{
	const struct pnode	*v = pnode_map_get(root, "version");
	uint64_t		 version;

	if (v == NULL) {
		pp_error(pp, root, "missing required key `version` (this hotsoak "
		    "reads version %d)", PLAN_VERSION);
		return 0;	/* read on as version 1: report the rest too */
	}
	if (decode_u64(pp, v, "version", 0, UINT32_MAX, &version) == -1)
		return -1;
	if (version != PLAN_VERSION)
		return pp_error(pp, v, "plan version %llu is not supported; this "
		    "hotsoak reads version %d", (unsigned long long)version,
		    PLAN_VERSION);
	return 0;
}

static struct plan_file *
load_tree(struct plan_parser *pp, const struct pnode *root, const char *name)
{
	struct plan_file	*pf;
	const struct pnode	*kn;
	int			 kind = PLAN_FILE_PLAN, rc;

	pp->root = root;
	if (root->type != PNODE_MAP) {
		pp_error(pp, root, "a plan must be a mapping of keys such as "
		    "`name:` and `steps:`, not %s", pnode_describe(root));
		return NULL;
	}
	if ((kn = pnode_map_get(root, "kind")) != NULL &&
	    decode_enum(pp, kn, "kind", kind_names, &kind) == -1)
		return NULL;
	if (check_version(pp, root) == -1)
		return NULL;
	if ((pf = calloc(1, sizeof *pf)) == NULL) {
		pp_error(pp, root, "out of memory");
		return NULL;
	}
	pf->kind = kind;
	if (kind == PLAN_FILE_CAMPAIGN) {
		if ((pf->campaign = calloc(1, sizeof *pf->campaign)) == NULL ||
		    (pf->campaign->source = strdup(name)) == NULL) {
			pp_error(pp, root, "out of memory");
			plan_file_free(pf);
			return NULL;
		}
		rc = campaign_decode(pp, root, pf->campaign);
	} else {
		if ((pf->plan = malloc(sizeof *pf->plan)) == NULL ||
		    plan_init(pf->plan) == -1 ||
		    (pf->plan->source = strdup(name)) == NULL) {
			pp_error(pp, root, "out of memory");
			plan_file_free(pf);
			return NULL;
		}
		rc = plan_decode(pp, root, pf->plan);
	}
	if (rc == -1 || pp->errors > 0) {
		plan_file_free(pf);
		return NULL;
	}
	return pf;
}

struct plan_file *
plan_file_load_buffer(const char *name, const void *buf, size_t len,
    const struct plan_load_opts *opts, struct plan_diags *diags)
{
	struct plan_parser	 pp;
	struct plan_file	*pf = NULL;
	struct pnode		*root;
	size_t			 first = diags->n, i;

	memset(&pp, 0, sizeof pp);
	pp.file = name;
	pp.diags = diags;
	pp.opts = opts;
	plan_diags_init(&pp.nested);

	if (len > PLAN_MAX_BYTES) {
		pp_error_at(&pp, (struct plan_mark){ 1, 1 }, "plan is %zu bytes; "
		    "the limit is %d", len, PLAN_MAX_BYTES);
		return NULL;
	}
	if ((root = ptree_parse(name, buf, len, diags)) == NULL)
		return NULL;
	pf = load_tree(&pp, root, name);
	pnode_free(root);

	plan_diags_sort(diags, first);
	for (i = 0; i < pp.nested.n; i++)
		plan_diags_add(diags, pp.nested.v[i].file, pp.nested.v[i].mark,
		    pp.nested.v[i].message);
	diags->dropped += pp.nested.dropped;
	plan_diags_free(&pp.nested);
	/* Sorted first, so the errors shown are the first in the file. */
	plan_diags_truncate(diags, first + PLAN_MAX_DIAGS);
	return pf;
}

/* Reads at most PLAN_MAX_BYTES + 1, so a huge or endless file is not slurped. */
static int
read_bounded(int fd, unsigned char **out, size_t *len)
{
	unsigned char	*buf;
	size_t		 cap = PLAN_MAX_BYTES + 1, n = 0;
	ssize_t		 r;

	if ((buf = malloc(cap)) == NULL)
		return -1;
	while (n < cap) {
		r = read(fd, buf + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

struct plan_file *
plan_file_load_path(const char *path, const struct plan_load_opts *opts,
    struct plan_diags *diags)
{
	struct plan_file	*pf;
	struct stat		 st;
	unsigned char		*buf = NULL;
	size_t			 len;
	int			 fd, stdin_ = strcmp(path, "-") == 0;
	const char		*name = stdin_ ? "<stdin>" : path;
	static const struct plan_mark nowhere = { 0, 0 };

	fd = stdin_ ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		plan_diags_addf(diags, name, nowhere, "cannot open: %s",
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		plan_diags_add(diags, name, nowhere, "is a directory, not a plan");
		goto fail;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > PLAN_MAX_BYTES) {
		plan_diags_addf(diags, name, (struct plan_mark){ 1, 1 },
		    "plan is %lld bytes; the limit is %d",
		    (long long)st.st_size, PLAN_MAX_BYTES);
		goto fail;
	}
	if (read_bounded(fd, &buf, &len) == -1) {
		plan_diags_addf(diags, name, nowhere, "cannot read: %s",
		    strerror(errno));
		goto fail;
	}
	if (!stdin_)
		close(fd);
	pf = plan_file_load_buffer(name, buf, len, opts, diags);
	free(buf);
	return pf;
fail:
	if (!stdin_)
		close(fd);
	return NULL;
}

char *
plan_file_to_json(const struct plan_file *pf)
{
	json_t	*o;
	char	*s;

	o = pf->kind == PLAN_FILE_CAMPAIGN ? campaign_encode(pf->campaign) :
	    plan_encode(pf->plan);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	return s;
}
