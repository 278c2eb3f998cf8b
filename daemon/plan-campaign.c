/* plan-campaign.c: a campaign file: the plans of a nightly soak, how often
 * and how many at once, retries, and the cron schedule that starts it. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan-load.h"

#define C(f)			offsetof(struct campaign, f)
#define CAMPAIGN_MAX_PLANS	1000

static int
noop_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	return 0;	/* version and kind are read before the table */
}

static json_t *
version_encode(const void *base)
{
	return json_integer(PLAN_VERSION);
}

static json_t *
kind_encode(const void *base)
{
	return json_string("campaign");
}

/*
 * A plan name is a relative path below the campaign's folder: the daemon
 * resolves it in its plans directory, which it must not be able to leave.
 */
static int
check_plan_name(struct plan_parser *pp, const struct pnode *n, const char *s)
{
	const char	*p;
	size_t		 len;

	if (s[0] == '/')
		return pp_error(pp, n, "plan `%s` must be a path relative to the "
		    "campaign's folder", s);
	/* One spelling per file, so "listed twice" can compare names. */
	for (p = s;; p += len + 1) {
		len = strcspn(p, "/");
		if (len == 0)
			return pp_error(pp, n, "plan `%s` has an empty path part",
			    s);
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return pp_error(pp, n, "plan `%s` must not leave the "
			    "campaign's folder (`..`)", s);
		if (len == 1 && p[0] == '.')
			return pp_error(pp, n, "plan `%s` has a `.` part; name each "
			    "file one way (`a.yaml`, not `./a.yaml`)", s);
		if (p[len] == '\0')
			break;
	}
	return 0;
}

/* Loads a named plan so the campaign is checked as deep as it will run. */
static int
check_plan_file(struct plan_parser *pp, const struct pnode *n, const char *name)
{
	struct plan_file	*pf;
	char			 path[PATH_MAX], self[PATH_MAX], other[PATH_MAX];
	int			 rc = 0;

	if (snprintf(path, sizeof path, "%s/%s", pp->opts->base_dir, name) >=
	    (int)sizeof path)
		return pp_error(pp, n, "plan path `%s` is too long", name);
	if (realpath(pp->file, self) != NULL && realpath(path, other) != NULL &&
	    strcmp(self, other) == 0)
		return pp_error(pp, n, "a campaign cannot list itself");
	/* Its errors keep its own name and order, after the campaign's. */
	pf = plan_file_load_path(path, NULL, &pp->nested);
	if (pf == NULL)
		rc = pp_error(pp, n, "plan `%s` does not load (its errors follow)",
		    name);
	else if (pf->kind != PLAN_FILE_PLAN)
		rc = pp_error(pp, n, "`%s` is a campaign; a campaign lists plans",
		    name);
	plan_file_free(pf);
	return rc;
}

static int
plans_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	struct campaign	*c = base;
	size_t		 i, j;
	int		 rc = 0;

	if (c->plans != NULL)
		return 0;
	if (n->type != PNODE_SEQ)
		return pp_error(pp, n, "`plans` must be a list of plan files, not %s",
		    pnode_describe(n));
	if (n->n == 0)
		return pp_error(pp, n, "`plans` is empty; a campaign runs at least "
		    "one plan");
	/* Bounds the listed-twice check, which compares every pair. */
	if (n->n > CAMPAIGN_MAX_PLANS)
		return pp_error(pp, n, "`plans` lists %zu plans; a campaign holds "
		    "at most %d", n->n, CAMPAIGN_MAX_PLANS);
	if ((c->plans = calloc(n->n, sizeof *c->plans)) == NULL ||
	    (c->plan_marks = calloc(n->n, sizeof *c->plan_marks)) == NULL)
		return pp_error(pp, n, "out of memory");
	for (i = 0; i < n->n; i++) {
		const struct pnode *item = n->kids[i];
		char *name = NULL;

		if (decode_string(pp, item, "plans", &name) == -1) {
			rc = -1;
			continue;
		}
		if (check_plan_name(pp, item, name) == -1) {
			free(name);
			rc = -1;
			continue;
		}
		for (j = 0; j < c->n_plans; j++)
			if (strcmp(c->plans[j], name) == 0)
				break;
		if (j < c->n_plans) {
			rc = pp_error(pp, item, "plan `%s` is listed twice (first at "
			    "line %u); use `repeat` to run plans more often", name,
			    c->plan_marks[j].line);
			free(name);
			continue;
		}
		if (pp->opts != NULL && pp->opts->base_dir != NULL &&
		    check_plan_file(pp, item, name) == -1)
			rc = -1;
		c->plan_marks[c->n_plans] = item->mark;
		c->plans[c->n_plans++] = name;
	}
	return rc;
}

static json_t *
plans_encode(const void *base)
{
	const struct campaign	*c = base;
	json_t			*a;
	size_t			 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < c->n_plans; i++)
		json_array_append_new(a, json_string(c->plans[i]));
	return a;
}

static int
schedule_decode(struct plan_parser *pp, const struct pnode *n, void *base)
{
	struct campaign	*c = base;
	char		*cause = NULL, *s = NULL;
	size_t		 at = 0;

	if (decode_string(pp, n, "schedule", &s) == -1)
		return -1;
	if (cron_parse(s, &c->cron, &cause, &at) == -1) {
		pp_error_at(pp, pnode_mark_at(n, at), "`schedule`: %s",
		    cause ? cause : "out of memory");
		free(cause);
		free(s);
		return -1;
	}
	if (cron_next(&c->cron, time(NULL)) == (time_t)-1) {
		pp_error(pp, n, "`schedule` `%s` never fires (no such date)", s);
		free(s);
		return -1;
	}
	free(c->schedule);
	c->schedule = s;
	return 0;
}

static json_t *
schedule_encode(const void *base)
{
	const struct campaign	*c = base;

	return c->schedule ? json_string(c->schedule) : NULL;
}

static const struct field campaign_fields[] = {
	{ "version", FIELD_CUSTOM, 0, 0, .decode = noop_decode,
	  .encode = version_encode, .help = "plan language version: 1" },
	{ "kind", FIELD_CUSTOM, 0, FIELD_REQUIRED, .decode = noop_decode,
	  .encode = kind_encode, .help = "campaign" },
	{ "name", FIELD_STRING, C(name), FIELD_REQUIRED,
	  .help = "the campaign's name" },
	{ "description", FIELD_STRING, C(description), FIELD_OPTIONAL,
	  .help = "what the campaign covers" },
	{ "plans", FIELD_CUSTOM, 0, FIELD_REQUIRED, .decode = plans_decode,
	  .encode = plans_encode, .help = "plan files, relative to this file" },
	{ "repeat", FIELD_UINT, C(repeat), 0, .min = 1, .max = 100000,
	  .help = "runs of each plan per campaign run" },
	{ "parallel", FIELD_UINT, C(parallel), 0, .min = 1, .max = 256,
	  .help = "plan runs at once" },
	{ "retries", FIELD_UINT, C(retries), 0, .min = 0, .max = 100,
	  .help = "extra attempts of a plan run that did not pass" },
	{ "schedule", FIELD_CUSTOM, 0, 0, .decode = schedule_decode,
	  .encode = schedule_encode,
	  .help = "five-field cron expression or @daily-style shortcut, local time" },
	FIELD_END
};

int
campaign_decode(struct plan_parser *pp, const struct pnode *root,
    struct campaign *c)
{
	int	rc;

	c->version = PLAN_VERSION;
	c->repeat = 1;
	c->parallel = 1;
	rc = decode_map(pp, root, campaign_fields, c, "");
	if (c->name != NULL &&
	    check_name(pp, pnode_map_get(root, "name"), c->name) == -1)
		rc = -1;
	return rc;
}

json_t *
campaign_encode(const struct campaign *c)
{
	return encode_map(campaign_fields, c);
}

void
campaign_free(struct campaign *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_plans; i++)
		free(c->plans[i]);
	free(c->plans);
	free(c->plan_marks);
	free(c->source);
	free(c->name);
	free(c->description);
	free(c->schedule);
	free(c);
}
