/* backend-qemu-ops.c: the partition operations over QMP: CPU hot-add into
 * a free slot of query-hotpluggable-cpus, memory as pc-dimm or virtio-mem,
 * and the replace window (wait for the guest's devices to suspend, stop,
 * cont), measured here because the guest's clocks do not see a stop. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "backend-qemu.h"

static bool
qemu_ready_for(struct qemu *q, backend_done_cb cb, void *arg,
    enum qemu_op_kind kind)
{
	if (qemu_op_take(q, kind, cb, arg) == -1) {
		/* Busy: answered from the loop, never inside the call. */
		return false;
	}
	if (q->state != QEMU_RUNNING || q->qmp == NULL) {
		qemu_op_end_later(q, "the VM is not running");
		return false;
	}
	return true;
}

static bool
ops_begin(struct qemu *q, enum qemu_op_kind kind, backend_done_cb cb,
    void *arg)
{
	if (q->op.kind != QEMU_OP_NONE) {
		qemu_refuse(q, cb, arg);
		return false;
	}
	return qemu_ready_for(q, cb, arg, kind);
}

static uint64_t
ms_since(uint64_t t0)
{
	return (clock_mono_ns() - t0) / 1000000;
}

/*
 * Whether a QMP answer moves the operation on: false when it belongs to an
 * operation that is over, or failed (the operation then ends with QEMU's
 * description).
 */
static bool
op_answer(struct qemu *q, enum qemu_op_kind kind, int error, const char *desc)
{
	if (q->op.kind != kind)
		return false;
	if (error) {
		qemu_op_end(q, -1, desc, NULL);
		return false;
	}
	return true;
}

/* CPU hot-add */

static void	cpu_next(struct qemu *);

static void
cpu_added(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	struct qemu	*q = arg;

	if (!op_answer(q, QEMU_OP_CPU, error, desc))
		return;
	q->cpus++;
	q->op.count--;
	cpu_next(q);
}

static void
cpu_next(struct qemu *q)
{
	json_t		*slot, *props, *args, *ids;
	const char	*type;
	char		 id[32];

	if (q->op.count == 0) {
		json_object_set_new(q->op.result, "qmp_ms", json_integer(
		    (json_int_t)ms_since(q->op.t0_ns)));
		json_object_set_new(q->op.result, "cpus", json_integer(q->cpus));
		qemu_op_end(q, 0, NULL, json_incref(q->op.result));
		return;
	}
	slot = json_array_get(q->op.slots, q->op.slot++);
	type = json_string_value(json_object_get(slot, "type"));
	props = json_object_get(slot, "props");
	if (type == NULL || !json_is_object(props)) {
		qemu_op_end(q, -1, "query-hotpluggable-cpus gave a slot without "
		    "type or props", NULL);
		return;
	}
	snprintf(id, sizeof id, "hotsoak-cpu%u", q->next_cpu++);
	/* Every prop goes back as it came, node-id included. */
	args = json_deep_copy(props);
	json_object_set_new(args, "driver", json_string(type));
	json_object_set_new(args, "id", json_string(id));
	ids = json_object_get(q->op.result, "ids");
	json_array_append_new(ids, json_string(id));
	if (qemu_cmd(q, "device_add", args, cpu_added) == -1)
		qemu_op_end(q, -1, "QMP device_add not sent", NULL);
}

static int
slot_cmp(const void *a, const void *b)
{
	json_t		*pa = json_object_get(*(json_t *const *)a, "props");
	json_t		*pb = json_object_get(*(json_t *const *)b, "props");
	static const char *const keys[] = { "node-id", "socket-id", "die-id",
	    "core-id", "thread-id", NULL };
	json_int_t	 x, y;
	size_t		 i;

	for (i = 0; keys[i] != NULL; i++) {
		x = json_integer_value(json_object_get(pa, keys[i]));
		y = json_integer_value(json_object_get(pb, keys[i]));
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

static void
cpu_slots(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	struct qemu	*q = arg;
	json_t		*e, **v;
	size_t		 i, n = 0;

	if (q->op.kind != QEMU_OP_CPU)
		return;
	if (error || !json_is_array(ret)) {
		qemu_op_end(q, -1, error ? desc : "query-hotpluggable-cpus: not a "
		    "list", NULL);
		return;
	}
	if ((v = calloc(json_array_size(ret) + 1, sizeof *v)) == NULL) {
		qemu_op_end(q, -1, "out of memory", NULL);
		return;
	}
	json_array_foreach(ret, i, e)
		if (json_object_get(e, "qom-path") == NULL)
			v[n++] = e;
	if (n < q->op.count) {
		free(v);
		qemu_op_end(q, -1, n == 0 ? "no free CPU slot (the VM has all its "
		    "maxcpus)" : "fewer free CPU slots than CPUs to add", NULL);
		return;
	}
	qsort(v, n, sizeof *v, slot_cmp);
	q->op.slots = json_array();
	for (i = 0; i < n; i++)
		json_array_append(q->op.slots, v[i]);
	free(v);
	cpu_next(q);
}

void
qemu_op_hot_add_cpu(struct backend *b, unsigned count, backend_done_cb cb,
    void *arg)
{
	struct qemu	*q = (struct qemu *)b;

	if (!ops_begin(q, QEMU_OP_CPU, cb, arg))
		return;
	q->op.count = count;
	q->op.result = json_pack("{ss s[]}", "method", "device_add", "ids");
	if (qemu_cmd(q, "query-hotpluggable-cpus", NULL, cpu_slots) == -1)
		qemu_op_end_later(q, "QMP query-hotpluggable-cpus not sent");
}

/* Memory hot-add: pc-dimm */

static void
dimm_cleaned(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
}

static void
dimm_added(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	struct qemu	*q = arg;
	const char	*mem;

	if (q->op.kind != QEMU_OP_MEMORY)
		return;
	if (error) {
		/* The backend object would hold the memory for nothing. */
		mem = json_string_value(json_object_get(q->op.result, "memdev"));
		if (mem != NULL)
			(void)qemu_cmd(q, "object-del", json_pack("{ss}", "id", mem),
			    dimm_cleaned);
		qemu_op_end(q, -1, desc, NULL);
		return;
	}
	q->memory += q->op.bytes;
	json_object_set_new(q->op.result, "qmp_ms", json_integer(
	    (json_int_t)ms_since(q->op.t0_ns)));
	json_object_set_new(q->op.result, "memory", json_integer(
	    (json_int_t)q->memory));
	qemu_op_end(q, 0, NULL, json_incref(q->op.result));
}

static void
dimm_backed(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	struct qemu	*q = arg;

	if (!op_answer(q, QEMU_OP_MEMORY, error, desc))
		return;
	if (qemu_cmd(q, "device_add", json_pack("{ss sO sO}", "driver", "pc-dimm",
	    "id", json_object_get(q->op.result, "id"), "memdev",
	    json_object_get(q->op.result, "memdev")), dimm_added) == -1)
		qemu_op_end(q, -1, "QMP device_add not sent", NULL);
}

static void
dimm_add(struct qemu *q)
{
	char	id[32], mem[32];

	snprintf(id, sizeof id, "hotsoak-dimm%u", q->next_dimm);
	snprintf(mem, sizeof mem, "hotsoak-mem%u", q->next_dimm++);
	q->op.result = json_pack("{ss ss ss sI}", "method", "pc-dimm", "id", id,
	    "memdev", mem, "size", (json_int_t)q->op.bytes);
	if (qemu_cmd(q, "object-add", json_pack("{ss ss sI}", "qom-type",
	    "memory-backend-ram", "id", mem, "size", (json_int_t)q->op.bytes),
	    dimm_backed) == -1)
		qemu_op_end_later(q, "QMP object-add not sent");
}

/* Memory hot-add: virtio-mem, grown by its requested-size */

static void	vmem_poll(evutil_socket_t, short, void *);

static void
vmem_size(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	struct qemu	*q = arg;
	struct timeval	 tv = { 0, QEMU_VMEM_POLL_MS * 1000 };
	uint64_t	 size;

	if (!op_answer(q, QEMU_OP_MEMORY, error, desc))
		return;
	size = json_is_integer(ret) ? (uint64_t)json_integer_value(ret) : 0;
	if (size >= q->op.target) {
		q->vmem_size = q->op.target;
		q->memory += q->op.bytes;
		json_object_set_new(q->op.result, "size", json_integer(
		    (json_int_t)size));
		json_object_set_new(q->op.result, "qmp_ms", json_integer(
		    (json_int_t)ms_since(q->op.t0_ns)));
		json_object_set_new(q->op.result, "memory", json_integer(
		    (json_int_t)q->memory));
		qemu_op_end(q, 0, NULL, json_incref(q->op.result));
		return;
	}
	/*
	 * The device plugs as the guest's driver takes blocks; a guest that
	 * does not (no virtio_mem module) never gets there.
	 */
	if (ms_since(q->op.t0_ns) > QEMU_VMEM_MS) {
		qemu_op_end(q, -1, "virtio-mem did not reach its requested size "
		    "(is the guest's virtio_mem driver loaded?)", NULL);
		return;
	}
	event_assign(q->timer, q->base, -1, 0, vmem_poll, q);
	evtimer_add(q->timer, &tv);
}

static void
vmem_poll(evutil_socket_t fd, short what, void *arg)
{
	struct qemu	*q = arg;

	if (q->op.kind != QEMU_OP_MEMORY)
		return;
	if (qemu_cmd(q, "qom-get", json_pack("{ss ss}", "path",
	    "/machine/peripheral/" QEMU_VMEM_ID, "property", "size"),
	    vmem_size) == -1)
		qemu_op_end(q, -1, "QMP qom-get not sent", NULL);
}

static void
vmem_requested(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	struct qemu	*q = arg;

	if (!op_answer(q, QEMU_OP_MEMORY, error, desc))
		return;
	vmem_poll(-1, 0, q);
}

static void
vmem_add(struct qemu *q)
{
	q->op.target = q->vmem_size + q->op.bytes;
	q->op.result = json_pack("{ss ss sI}", "method", "virtio-mem", "id",
	    QEMU_VMEM_ID, "requested_size", (json_int_t)q->op.target);
	if (qemu_cmd(q, "qom-set", json_pack("{ss ss sI}", "path",
	    "/machine/peripheral/" QEMU_VMEM_ID, "property", "requested-size",
	    "value", (json_int_t)q->op.target), vmem_requested) == -1)
		qemu_op_end_later(q, "QMP qom-set not sent");
}

void
qemu_op_hot_add_memory(struct backend *b, uint64_t bytes, backend_done_cb cb,
    void *arg)
{
	struct qemu	*q = (struct qemu *)b;

	if (!ops_begin(q, QEMU_OP_MEMORY, cb, arg))
		return;
	q->op.bytes = bytes;
	if (q->plan->target.memory_hotplug == PLAN_MEMHP_VIRTIO_MEM)
		vmem_add(q);
	else
		dimm_add(q);
}

/* Replace: the window falls while the guest's devices are suspended. */

static void
prepare_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct qemu	*q = arg;

	if (q->op.kind != QEMU_OP_PREPARE)
		return;
	q->pm_armed = false;
	qemu_op_end(q, -1, "the console never showed the guest's devices "
	    "suspended (no \"PM: hibernation: debug: Waiting\" line)", NULL);
}

void
qemu_op_pm_seen(struct qemu *q, const char *line)
{
	if (!q->pm_armed || q->op.kind != QEMU_OP_PREPARE)
		return;
	q->pm_armed = false;
	evtimer_del(q->timer);
	qemu_op_end(q, 0, NULL, json_pack("{ss sI}", "console", line,
	    "after_ms", (json_int_t)ms_since(q->op.t0_ns)));
}

void
qemu_op_replace_prepare(struct backend *b, backend_done_cb cb, void *arg)
{
	struct qemu	*q = (struct qemu *)b;
	struct timeval	 tv = { QEMU_PREPARE_MS / 1000, 0 };

	if (!ops_begin(q, QEMU_OP_PREPARE, cb, arg))
		return;
	if (q->console == NULL) {
		qemu_op_end_later(q, "no console to watch (an attached VM)");
		return;
	}
	q->pm_armed = true;
	event_assign(q->timer, q->base, -1, 0, prepare_timeout, q);
	evtimer_add(q->timer, &tv);
}

static void
stop_done(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	struct qemu	*q = arg;

	if (q->op.kind != QEMU_OP_BEGIN)
		return;
	if (error) {
		q->holding = false;
		qemu_op_end(q, -1, desc, NULL);
		return;
	}
	q->stopped_mono_ns = clock_mono_ns();
	qemu_op_end(q, 0, NULL, json_pack("{ss sI}", "qmp", "stop", "took_ms",
	    (json_int_t)ms_since(q->op.t0_ns)));
}

void
qemu_op_replace_begin(struct backend *b, backend_done_cb cb, void *arg)
{
	struct qemu	*q = (struct qemu *)b;

	if (!ops_begin(q, QEMU_OP_BEGIN, cb, arg))
		return;
	q->holding = true;
	q->stop_ns = 0;
	if (qemu_cmd(q, "stop", NULL, stop_done) == -1) {
		q->holding = false;
		qemu_op_end_later(q, "QMP stop not sent");
	}
}

static void
cont_done(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	struct qemu	*q = arg;
	uint64_t	 held;

	if (!op_answer(q, QEMU_OP_END, error, desc))
		return;
	q->holding = false;
	/* From stop's answer to cont's: the outage as the host saw it. */
	held = (clock_mono_ns() - q->stopped_mono_ns) / 1000000;
	qemu_op_end(q, 0, NULL, json_pack("{ss sI sI}", "qmp", "cont",
	    "host_held_ms", (json_int_t)held, "stop_event_ns",
	    (json_int_t)q->stop_ns));
}

void
qemu_op_replace_end(struct backend *b, backend_done_cb cb, void *arg)
{
	struct qemu	*q = (struct qemu *)b;

	if (!ops_begin(q, QEMU_OP_END, cb, arg))
		return;
	if (qemu_cmd(q, "cont", NULL, cont_done) == -1)
		qemu_op_end_later(q, "QMP cont not sent");
}
