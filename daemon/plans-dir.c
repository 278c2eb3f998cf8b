/* plans-dir.c: the plans folder: every *.yaml and *.yml in it loaded as the
 * daemon would run it, listed by name, and names resolved without escape. */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "plans-dir.h"

#define PLANS_NAME_MAX	128	/* bytes of a name given to plans_dir_resolve */

struct plans_entry {
	char		*name;		/* what plans_dir_resolve takes for it */
	char		*file;		/* its path, as errors name it */
	int		 kind;		/* enum plan_file_kind; -1: did not load */
	char		*description;	/* NULL: none */
	const char	*backend;	/* a plan's; NULL for campaigns and invalid files */
	char		**errors;	/* "FILE:L:C: error: ..." lines */
	size_t		 nerrors;
};

struct plans_list {
	struct plans_entry	*v;
	size_t			 n;
};

struct plans_dir {
	char			*path;
	struct plans_list	 list;
};

static void
plans_list_clear(struct plans_list *l)
{
	size_t	i, j;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].file);
		free(l->v[i].description);
		for (j = 0; j < l->v[i].nerrors; j++)
			free(l->v[i].errors[j]);
		free(l->v[i].errors);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* The length of name without ".yaml" or ".yml", or 0 when it has neither. */
static size_t
plans_stem(const char *name)
{
	size_t	len = strlen(name);

	if (len > 5 && strcmp(name + len - 5, ".yaml") == 0)
		return len - 5;
	if (len > 4 && strcmp(name + len - 4, ".yml") == 0)
		return len - 4;
	return 0;
}

/* Each error as plan_diags_print writes it, into e (plans_list_clear frees). */
static int
plans_errors(struct plans_entry *e, const struct plan_diags *d)
{
	const struct plan_diag	*g;
	size_t			 i, n = d->n + (d->dropped > 0 && d->n > 0);
	int			 rc;

	if (n == 0)
		return 0;
	if ((e->errors = calloc(n, sizeof *e->errors)) == NULL)
		return -1;
	for (i = 0; i < d->n; i++) {
		g = &d->v[i];
		if (g->mark.line == 0)
			rc = asprintf(&e->errors[i], "%s: error: %s", g->file,
			    g->message);
		else
			rc = asprintf(&e->errors[i], "%s:%u:%u: error: %s",
			    g->file, g->mark.line, g->mark.column, g->message);
		if (rc == -1)
			return -1;
		e->nerrors++;
	}
	if (n > d->n) {
		if (asprintf(&e->errors[i], "%s: error: %zu more errors not "
		    "shown", d->v[d->n - 1].file, d->dropped) == -1)
			return -1;
		e->nerrors++;
	}
	return 0;
}

/*
 * Loads one file of the folder into e, whose strings plans_list_clear
 * frees (even after a failure). -1 only when out of memory.
 */
static int
plans_load(const char *dir, const char *fname, struct plans_entry *e)
{
	struct plan_load_opts	 opts;
	struct plan_diags	 d;
	struct plan_file	*pf;
	const char		*desc = NULL;
	int			 rc = -1;

	memset(e, 0, sizeof *e);
	e->kind = -1;
	if (asprintf(&e->file, "%s/%s", dir, fname) == -1) {
		e->file = NULL;
		return -1;
	}
	memset(&opts, 0, sizeof opts);
	opts.base_dir = dir;
	plan_diags_init(&d);
	if ((pf = plan_file_load_path(e->file, &opts, &d)) != NULL) {
		e->kind = pf->kind;
		if (pf->kind == PLAN_FILE_PLAN) {
			desc = pf->plan->description;
			e->backend = plan_backend_names[pf->plan->target.backend];
		} else
			desc = pf->campaign->description;
	}
	if (desc != NULL && (e->description = strdup(desc)) == NULL)
		goto out;
	if (plans_errors(e, &d) == -1)
		goto out;
	rc = 0;
out:
	plan_file_free(pf);
	plan_diags_free(&d);
	return rc;
}

static int
plans_cmp(const void *a, const void *b)
{
	const struct plans_entry	*x = a, *y = b;

	return strcmp(x->name, y->name);
}

/*
 * "x.yaml" is listed as "x", the name that resolves to it; a "x.yml" beside
 * it keeps its whole file name, which resolves to it alone.
 */
static int
plans_name(struct plans_list *l, const char *dir)
{
	struct stat	 sb;
	const char	*base;
	size_t		 i, stem, len;
	char		*other;
	int		 twin;

	for (i = 0; i < l->n; i++) {
		base = strrchr(l->v[i].file, '/') + 1;
		stem = plans_stem(base);
		len = strlen(base);
		twin = 0;
		if (len - stem == 4) {
			if (asprintf(&other, "%s/%.*s.yaml", dir, (int)stem,
			    base) == -1)
				return -1;
			twin = stat(other, &sb) == 0 && S_ISREG(sb.st_mode);
			free(other);
		}
		l->v[i].name = twin ? strdup(base) : strndup(base, stem);
		if (l->v[i].name == NULL)
			return -1;
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, plans_cmp);
	return 0;
}

static int
plans_read(const char *dir, struct plans_list *out, char **cause)
{
	struct plans_list	 l;
	struct plans_entry	*v;
	struct dirent		*de;
	struct stat		 sb;
	DIR			*d;
	char			*path;
	size_t			 cap = 0;
	int			 st;

	memset(&l, 0, sizeof l);
	if ((d = opendir(dir)) == NULL)
		return cause_set(cause, "%s: %s", dir, strerror(errno));
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || plans_stem(de->d_name) == 0)
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) == -1)
			goto oom;
		st = stat(path, &sb);
		free(path);
		if (st == -1 || !S_ISREG(sb.st_mode))
			continue;
		if (l.n == cap) {
			cap = cap != 0 ? cap * 2 : 16;
			if ((v = reallocarray(l.v, cap, sizeof *v)) == NULL)
				goto oom;
			l.v = v;
		}
		if (plans_load(dir, de->d_name, &l.v[l.n]) == -1) {
			l.n++;
			goto oom;
		}
		l.n++;
	}
	if (errno != 0) {
		cause_set(cause, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (plans_name(&l, dir) == -1)
		goto oom;
	closedir(d);
	*out = l;
	return 0;
oom:
	cause_set(cause, "out of memory");
fail:
	closedir(d);
	plans_list_clear(&l);
	return -1;
}

struct plans_dir *
plans_dir_open(const char *dir, char **cause)
{
	struct plans_dir	*pd;

	if ((pd = calloc(1, sizeof *pd)) == NULL ||
	    (pd->path = strdup(dir)) == NULL) {
		free(pd);
		cause_set(cause, "out of memory");
		return NULL;
	}
	if (plans_read(pd->path, &pd->list, cause) == -1) {
		plans_dir_free(pd);
		return NULL;
	}
	return pd;
}

int
plans_dir_reload(struct plans_dir *pd, char **cause)
{
	struct plans_list	l;

	if (plans_read(pd->path, &l, cause) == -1)
		return -1;
	plans_list_clear(&pd->list);
	pd->list = l;
	return 0;
}

void
plans_dir_free(struct plans_dir *pd)
{
	if (pd == NULL)
		return;
	plans_list_clear(&pd->list);
	free(pd->path);
	free(pd);
}

const char *
plans_dir_path(const struct plans_dir *pd)
{
	return pd->path;
}

/*
 * A new JSON string (the caller owns the reference), or null for NULL,
 * with bytes that are not UTF-8 made '?'.
 */
static json_t *
plans_string(const char *s)
{
	json_t	*j;
	char	*copy, *p;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	if ((copy = strdup(s)) == NULL)
		return NULL;
	for (p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

json_t *
plans_dir_list(const struct plans_dir *pd)
{
	const struct plans_entry	*e;
	json_t				*plans, *o, *errors;
	size_t				 i, j;

	if ((plans = json_array()) == NULL)
		return NULL;
	for (i = 0; i < pd->list.n; i++) {
		e = &pd->list.v[i];
		if ((errors = json_array()) == NULL)
			goto fail;
		for (j = 0; j < e->nerrors; j++)
			json_array_append_new(errors, plans_string(e->errors[j]));
		o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:b, s:o}",
		    "name", plans_string(e->name),
		    "file", plans_string(e->file),
		    "kind", e->kind == -1 ? json_null() : json_string(e->kind ==
		    PLAN_FILE_PLAN ? "plan" : "campaign"),
		    "description", plans_string(e->description),
		    "backend", plans_string(e->backend),
		    "valid", e->kind != -1,
		    "errors", errors);
		if (o == NULL || json_array_append_new(plans, o) == -1)
			goto fail;
	}
	return json_pack("{s:o}", "plans", plans);
fail:
	json_decref(plans);
	return NULL;
}

int
plans_dir_resolve(const struct plans_dir *pd, const char *name, char **path,
    int *missing, char **cause)
{
	static const char *const exts[] = { ".yaml", ".yml" };
	struct stat	 sb;
	size_t		 len = strlen(name), i;
	char		*p;

	if (missing != NULL)
		*missing = 0;
	*path = NULL;
	if (len == 0 || len > PLANS_NAME_MAX)
		return cause_set(cause, "bad plan name: a name is 1 to %d bytes",
		    PLANS_NAME_MAX);
	if (strchr(name, '/') != NULL || name[0] == '.')
		return cause_set(cause, "bad plan name `%s`: it may not hold `/` "
		    "or start with `.`", name);
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return cause_set(cause, "bad plan name: it holds control "
			    "character 0x%02x", (unsigned char)name[i]);
	for (i = 0; i < 2; i++) {
		/* A name with its extension names that file only. */
		if (plans_stem(name) != 0) {
			if (i > 0)
				break;
			if (asprintf(&p, "%s/%s", pd->path, name) == -1)
				return cause_set(cause, "out of memory");
		} else if (asprintf(&p, "%s/%s%s", pd->path, name, exts[i]) ==
		    -1)
			return cause_set(cause, "out of memory");
		if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) {
			*path = p;
			return 0;
		}
		free(p);
	}
	if (missing != NULL)
		*missing = 1;
	return cause_set(cause, "no plan named `%s` in %s", name, pd->path);
}

/* The text of a plan file, as the run records it; allocated (caller frees). */
char *
plans_read_text(const char *path, char **cause)
{
	char	*buf;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cause_set(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(PLAN_MAX_BYTES + 1)) == NULL) {
		close(fd);
		cause_set(cause, "out of memory");
		return NULL;
	}
	while (len < PLAN_MAX_BYTES) {
		n = read(fd, buf + len, PLAN_MAX_BYTES - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cause_set(cause, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (memchr(buf, '\0', len) != NULL) {
		cause_set(cause, "%s changed while it was read", path);
		goto fail;
	}
	buf[len] = '\0';
	close(fd);
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}
