/* step.c: the step table and the list of steps a plan runs: each item is a
 * mapping with one action key (and an optional `name` label). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "step.h"

const struct step_entry *const step_table[] = {
	&step_wait,
	&step_hot_add,
	&step_hot_replace,
	&step_expect,
	&step_repeat,
	&step_random,
	&step_inject,
	NULL
};

/* Step names plus `name`, the key every step may carry, for suggestions. */
static void
step_key_list(const char **keys, size_t len)
{
	size_t	i;

	for (i = 0; step_table[i] != NULL && i + 2 < len; i++)
		keys[i] = step_table[i]->name;
	keys[i++] = "name";
	keys[i] = NULL;
}

const struct step_entry *
step_find(const char *name)
{
	size_t	i;

	for (i = 0; step_table[i] != NULL; i++)
		if (strcmp(step_table[i]->name, name) == 0)
			return step_table[i];
	return NULL;
}

uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t
sat_mul(uint64_t a, uint64_t b)
{
	return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static void
step_clear(struct plan_step *s)
{
	if (s->entry != NULL && s->data != NULL && s->entry->free != NULL)
		s->entry->free(s->data);
	free(s->data);
	free(s->name);
	memset(s, 0, sizeof *s);
}

void
steps_free(struct plan_steps *steps)
{
	size_t	i;

	if (steps == NULL)
		return;
	for (i = 0; i < steps->n; i++)
		step_clear(&steps->v[i]);
	free(steps->v);
	steps->v = NULL;
	steps->n = 0;
}

/* "wait, hot_add, ..." for messages. Caller frees. */
static char *
step_names(void)
{
	const char	*names[16];
	size_t		 i;

	for (i = 0; step_table[i] != NULL && i + 1 < 16; i++)
		names[i] = step_table[i]->name;
	names[i] = NULL;
	return names_join(names);
}

/* The step's action key and value; records why there is none. */
static int
step_find_action(struct plan_parser *pp, const struct pnode *item,
    const struct pnode **akey, const struct pnode **aval)
{
	const struct pnode	*key, *label = NULL;
	const char		*near, *keys[16];
	char			*all;
	size_t			 i;
	int			 rc = 0;

	step_key_list(keys, sizeof keys / sizeof keys[0]);
	*akey = *aval = NULL;
	for (i = 0; i + 1 < item->n; i += 2) {
		key = item->kids[i];
		if (key->type != PNODE_SCALAR) {
			rc = pp_error(pp, key, "keys must be plain names, not %s",
			    pnode_describe(key));
			continue;
		}
		if (strcmp(key->text, "name") == 0) {
			if (label != NULL)
				rc = pp_error(pp, key, "duplicate key `name` in "
				    "step (first at line %u)", label->mark.line);
			label = key;
			continue;
		}
		if (step_find(key->text) != NULL) {
			if (*akey != NULL && strcmp((*akey)->text, key->text) == 0) {
				rc = pp_error(pp, key, "duplicate key `%s` in step "
				    "(first at line %u)", key->text,
				    (*akey)->mark.line);
				continue;
			}
			if (*akey != NULL) {
				rc = pp_error(pp, key, "a step has one action; "
				    "`%s` and `%s` are both here (make two steps)",
				    (*akey)->text, key->text);
				continue;
			}
			*akey = key;
			*aval = item->kids[i + 1];
			continue;
		}
		near = suggest_nearest(key->text, keys);
		all = step_names();
		if (near != NULL)
			rc = pp_error(pp, key, "unknown step `%s`; did you mean "
			    "`%s`?", key->text, near);
		else
			rc = pp_error(pp, key, "unknown step `%s`; expected one "
			    "of %s", key->text, all ? all : "");
		free(all);
	}
	if (*akey == NULL && rc == 0) {
		all = step_names();
		rc = pp_error(pp, item, "step has no action; expected one of %s",
		    all ? all : "");
		free(all);
	}
	return rc;
}

static int
step_parse(struct plan_parser *pp, const struct pnode *item,
    struct plan_step *step)
{
	const struct step_entry	*e;
	const struct pnode	*akey, *aval, *label;
	int			 rc;

	step->mark = item->mark;
	if (item->type != PNODE_MAP)
		return pp_error(pp, item, "a step must be a mapping such as "
		    "`wait: 5s`, not %s", pnode_describe(item));
	rc = step_find_action(pp, item, &akey, &aval);
	if ((label = pnode_map_get(item, "name")) != NULL) {
		if (decode_string(pp, label, "step name", &step->name) == -1)
			rc = -1;
		else if (strlen(step->name) > 64)
			rc = pp_error(pp, label, "a step's `name` is longer than 64 "
			    "bytes");
	}
	/* step_find_action found the entry; looking again keeps the type simple. */
	if (akey == NULL || (e = step_find(akey->text)) == NULL)
		return -1;
	step->mark = akey->mark;
	if ((step->data = calloc(1, e->size)) == NULL)
		return pp_error(pp, akey, "out of memory");
	step->entry = e;
	if (e->init != NULL)
		e->init(step->data);
	if (e->parse != NULL) {
		if (e->parse(pp, aval, step->data) == -1)
			return -1;
	} else if (decode_map(pp, aval, e->fields, step->data, e->name) == -1)
		return -1;
	if (e->check != NULL && e->check(pp, aval, step->data) == -1)
		return -1;
	return rc;
}

int
steps_parse(struct plan_parser *pp, const struct pnode *seq, const char *where,
    struct plan_steps *steps)
{
	size_t	i;
	int	rc = 0;

	if (seq->type != PNODE_SEQ)
		return pp_error(pp, seq, "`%s` must be a list of steps, not %s",
		    where, pnode_describe(seq));
	if (seq->n == 0)
		return pp_error(pp, seq, "`%s` is empty; give at least one step",
		    where);
	if ((steps->v = calloc(seq->n, sizeof *steps->v)) == NULL)
		return pp_error(pp, seq, "out of memory");
	steps->n = seq->n;
	for (i = 0; i < seq->n; i++)
		if (step_parse(pp, seq->kids[i], &steps->v[i]) == -1)
			rc = -1;
	return rc;
}

int
steps_decode_field(struct plan_parser *pp, const struct pnode *n,
    struct plan_steps *steps, const char *key)
{
	/* A repeated key decodes twice; keep the first list, free none twice. */
	if (steps->v != NULL)
		return 0;
	return steps_parse(pp, n, key, steps);
}

json_t *
steps_encode(const struct plan_steps *steps)
{
	json_t			*a, *o, *args;
	const struct plan_step	*s;
	size_t			 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < steps->n; i++) {
		s = &steps->v[i];
		if (s->entry == NULL || (o = json_object()) == NULL)
			continue;
		if (s->name != NULL)
			json_object_set_new(o, "name", json_string(s->name));
		args = s->entry->encode != NULL ? s->entry->encode(s->data) :
		    encode_map(s->entry->fields, s->data);
		json_object_set_new(o, s->entry->name, args);
		json_array_append_new(a, o);
	}
	return a;
}

void
steps_demand(const struct plan_steps *steps, struct plan_demand *d)
{
	struct plan_demand	one;
	size_t			i;

	for (i = 0; i < steps->n; i++) {
		if (steps->v[i].entry == NULL ||
		    steps->v[i].entry->demand == NULL)
			continue;
		memset(&one, 0, sizeof one);
		steps->v[i].entry->demand(steps->v[i].data, &one);
		d->cpus = sat_add(d->cpus, one.cpus);
		d->memory = sat_add(d->memory, one.memory);
		d->memory_ops = sat_add(d->memory_ops, one.memory_ops);
	}
}
