/* backend.c: the table of hypervisor backends a plan's target.backend picks
 * from, and the wrappers through which the run engine drives any of them. */
#include "config.h"

#include <stddef.h>

#include "hotsoak/backend.h"
#include "hotsoak/plan.h"
#include "hotsoak/util.h"

const char *const backend_event_names[BACKEND_EV_COUNT] = {
	[BACKEND_EV_CRASH] = "crash",
	[BACKEND_EV_STOPPED] = "stopped",
	[BACKEND_EV_EXITED] = "exited",
	[BACKEND_EV_ERROR] = "error",
	[BACKEND_EV_INFO] = "info",
};

const struct backend_ops *const backend_table[PLAN_BACKEND_COUNT] = {
	[PLAN_BACKEND_LOCAL] = &backend_local,
	[PLAN_BACKEND_QEMU] = &backend_qemu,
	[PLAN_BACKEND_LIBVIRT] = NULL,
};

int
backend_ops_check(const struct backend_ops *ops, char **cause)
{
	if (ops == NULL)
		return cause_set(cause, "no backend");
	if (ops->name == NULL)
		return cause_set(cause, "a backend has no name");
#define HOOK(h) do {							\
	if (ops->h == NULL)						\
		return cause_set(cause, "backend `%s` has no %s hook",	\
		    ops->name, #h);						\
} while (0)
	HOOK(create);
	HOOK(start);
	HOOK(stop);
	HOOK(hot_add_cpu);
	HOOK(hot_add_memory);
	HOOK(replace_begin);
	HOOK(replace_end);
	HOOK(topology);
	HOOK(io_path);
	HOOK(free);
#undef HOOK
	return 0;
}

/* The caller frees the result with backend_free, or *cause on NULL. */
struct backend *
backend_create(const struct backend_env *env, char **cause)
{
	const struct backend_ops	*ops;
	struct backend			*b;
	int				 which;

	if (env == NULL || env->plan == NULL) {
		cause_set(cause, "no plan to create a backend for");
		return NULL;
	}
	which = env->plan->target.backend;
	if (which < 0 || which >= PLAN_BACKEND_COUNT) {
		cause_set(cause, "backend number %d is unknown", which);
		return NULL;
	}
	if ((ops = env->ops) == NULL && (ops = backend_table[which]) == NULL) {
		cause_set(cause, "backend `%s` is not available in this build",
		    plan_backend_names[which]);
		return NULL;
	}
	if (backend_ops_check(ops, cause) == -1)
		return NULL;
	if ((b = ops->create(env, cause)) == NULL)
		return NULL;
	b->ops = ops;
	return b;
}

void
backend_free(struct backend *b)
{
	if (b == NULL)
		return;
	b->ops->free(b);
}

const char *
backend_name(const struct backend *b)
{
	return b->ops->name;
}

void
backend_start(struct backend *b, backend_done_cb cb, void *arg)
{
	b->ops->start(b, cb, arg);
}

void
backend_stop(struct backend *b, backend_done_cb cb, void *arg)
{
	b->ops->stop(b, cb, arg);
}

void
backend_hot_add_cpu(struct backend *b, unsigned count, backend_done_cb cb,
    void *arg)
{
	b->ops->hot_add_cpu(b, count, cb, arg);
}

void
backend_hot_add_memory(struct backend *b, uint64_t bytes, backend_done_cb cb,
    void *arg)
{
	b->ops->hot_add_memory(b, bytes, cb, arg);
}

/* Whether the backend can tell when the guest's devices are suspended. */
bool
backend_has_replace_prepare(const struct backend *b)
{
	return b->ops->replace_prepare != NULL;
}

void
backend_replace_prepare(struct backend *b, backend_done_cb cb, void *arg)
{
	b->ops->replace_prepare(b, cb, arg);
}

void
backend_replace_begin(struct backend *b, backend_done_cb cb, void *arg)
{
	b->ops->replace_begin(b, cb, arg);
}

void
backend_replace_end(struct backend *b, backend_done_cb cb, void *arg)
{
	b->ops->replace_end(b, cb, arg);
}

int
backend_topology(struct backend *b, struct backend_topology *t, char **cause)
{
	return b->ops->topology(b, t, cause);
}

const char *
backend_io_path(struct backend *b)
{
	return b->ops->io_path(b);
}

/* Whether the backend can hot-add an I/O host bridge (qemu on pc can). */
bool
backend_has_hot_add_io_bridge(const struct backend *b)
{
	return b->ops->hot_add_io_bridge != NULL;
}

void
backend_hot_add_io_bridge(struct backend *b, uint64_t disk_size,
    backend_done_cb cb, void *arg)
{
	b->ops->hot_add_io_bridge(b, disk_size, cb, arg);
}
