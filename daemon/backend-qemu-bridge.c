/* backend-qemu-bridge.c: hot-add of an I/O host bridge, the third kind of
 * partition unit: a pci-bridge on pci.0 with a new virtio disk behind it,
 * plugged in one breath so the guest's scan of the bridge finds the disk. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "backend-qemu.h"
#include "log.h"
#include "qmp.h"

/*
 * hotsoak-brN sits in slot 0x10 + N of pci.0, so N runs to 15. The disk
 * behind it takes slot 1 of the bridge's own bus.
 */
#define BRIDGE_SLOT_BASE	0x10
#define BRIDGE_MAX		15
#define BRIDGE_DISK_ADDR	"0x1"

/*
 * What of a bridge hot-add QEMU has accepted, as bits of qemu_op.stage: a
 * failure undoes the block nodes; the bridge itself stays.
 */
enum qemu_bridge_stage {
	BRIDGE_PLUGGED = 0x1,	/* device_add pci-bridge */
	BRIDGE_FILE_NODE = 0x2,	/* blockdev-add of the file */
	BRIDGE_NODE = 0x4,	/* blockdev-add of the raw format node */
	BRIDGE_DISK = 0x8,	/* device_add virtio-blk-pci behind the bridge */
	BRIDGE_ALL = 0xf
};

/* One command of a bridge hot-add in flight: its operation may have ended. */
struct bridge_cmd {
	struct qemu	*q;
	unsigned	 bridge;	/* the operation's N */
	int		 stage;		/* what its success adds */
	char		 what[64];	/* "device_add hotsoak-br1", for errors */
};

/* Machine types whose hot-added bridge the guest numbers by itself. */
static bool
machine_is_pc(const char *m)
{
	size_t	len = strcspn(m, ",");

	if (len == 2 && strncmp(m, "pc", 2) == 0)
		return true;
	/* qom's type name ("pc-i440fx-7.2-machine") or a versioned alias. */
	return strncmp(m, "pc-i440fx", 9) == 0;
}

static uint64_t
ms_since(uint64_t t0)
{
	return (clock_mono_ns() - t0) / 1000000;
}

static void
bridge_undone(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
}

/* Every command answered: done, or undo the nodes and fail. */
static void
bridge_finish(struct qemu *q)
{
	json_t		*r = q->op.result;
	const char	*node, *file;
	char		 why[sizeof q->op.why + 160];

	if (q->op.stage == BRIDGE_ALL) {
		json_object_set_new(r, "qmp_ms", json_integer((json_int_t)
		    ms_since(q->op.t0_ns)));
		qemu_op_end(q, 0, NULL, json_incref(r));
		return;
	}
	/* QMP runs commands in order: the format node goes before its file. */
	node = json_string_value(json_object_get(r, "node"));
	file = json_string_value(json_object_get(json_object_get(r, "nodes"),
	    "file"));
	if ((q->op.stage & BRIDGE_NODE) && node != NULL)
		(void)qemu_cmd(q, "blockdev-del", json_pack("{ss}", "node-name",
		    node), bridge_undone);
	if ((q->op.stage & BRIDGE_FILE_NODE) && file != NULL)
		(void)qemu_cmd(q, "blockdev-del", json_pack("{ss}", "node-name",
		    file), bridge_undone);
	snprintf(why, sizeof why, "%s%s", q->op.why[0] != '\0' ? q->op.why :
	    "the I/O bridge hot-add failed", (q->op.stage & BRIDGE_PLUGGED) ?
	    "; the bridge stays in the VM (a hot-added bridge cannot be "
	    "removed safely)" : "");
	qemu_op_end(q, -1, why, NULL);
}

static void
bridge_answered(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	struct bridge_cmd	*c = arg;
	struct qemu		*q = c->q;

	if (q->op.kind != QEMU_OP_BRIDGE || q->op.bridge != c->bridge) {
		free(c);
		return;
	}
	if (!error)
		q->op.stage |= c->stage;
	else if (q->op.why[0] == '\0')
		snprintf(q->op.why, sizeof q->op.why, "%s: %s", c->what,
		    desc != NULL ? desc : "failed");
	free(c);
	if (--q->op.count == 0)
		bridge_finish(q);
}

/* Sends one command of the sequence; -1 when it could not be sent. */
static int
bridge_send(struct qemu *q, const char *command, json_t *args, int stage,
    const char *id)
{
	struct bridge_cmd	*c;
	char			*cause = NULL;

	if (q->qmp == NULL || (c = calloc(1, sizeof *c)) == NULL) {
		json_decref(args);
		return -1;
	}
	c->q = q;
	c->bridge = q->op.bridge;
	c->stage = stage;
	snprintf(c->what, sizeof c->what, "%s %s", command, id);
	if (qmp_command(q->qmp, command, args, QEMU_QMP_TIMEOUT_MS,
	    bridge_answered, c, &cause) == -1) {
		log_warnx("run %" PRId64 ": QMP %s: %s", q->run_id, command, cause);
		free(cause);
		free(c);
		return -1;
	}
	q->op.count++;
	return 0;
}

/*
 * The bridge and the disk in one go, without waiting for answers: the
 * guest scans a hot-added bridge's bus once, when it finds the bridge
 * (SHPC does not take a hot-added bridge over on pc), so a disk plugged
 * after that scan stays unseen until a rescan.
 */
static void
bridge_plug(struct qemu *q)
{
	json_t		*r = q->op.result, *nodes = json_object_get(r, "nodes");
	const char	*br = json_string_value(json_object_get(r, "bridge"));
	const char	*disk = json_string_value(json_object_get(r, "disk"));
	const char	*node = json_string_value(json_object_get(r, "node"));
	const char	*fnode = json_string_value(json_object_get(nodes, "file"));
	const char	*path = json_string_value(json_object_get(r, "file"));
	const char	*serial = json_string_value(json_object_get(r, "serial"));
	char		 addr[8];
	int		 sent = 0;

	snprintf(addr, sizeof addr, "0x%x", BRIDGE_SLOT_BASE + q->op.bridge);
	if (bridge_send(q, "device_add", json_pack("{ss ss si ss ss}", "driver",
	    "pci-bridge", "id", br, "chassis_nr", (int)q->op.bridge, "bus",
	    "pci.0", "addr", addr), BRIDGE_PLUGGED, br) == 0)
		sent++;
	if (sent == 1 && bridge_send(q, "blockdev-add", json_pack("{ss ss ss ss"
	    " s{sb}}", "driver", "file", "filename", path, "node-name", fnode,
	    "aio", "threads", "cache", "direct", strcmp(q->cache, "none") == 0),
	    BRIDGE_FILE_NODE, fnode) == 0)
		sent++;
	if (sent == 2 && bridge_send(q, "blockdev-add", json_pack("{ss ss ss}",
	    "driver", "raw", "file", fnode, "node-name", node), BRIDGE_NODE,
	    node) == 0)
		sent++;
	if (sent == 3 && bridge_send(q, "device_add", json_pack("{ss ss ss ss ss"
	    " ss}", "driver", "virtio-blk-pci", "drive", node, "id", disk, "bus",
	    br, "addr", BRIDGE_DISK_ADDR, "serial", serial), BRIDGE_DISK,
	    disk) == 0)
		sent++;
	if (sent == 4)
		return;
	if (q->op.why[0] == '\0')
		snprintf(q->op.why, sizeof q->op.why, "QMP: %s not sent",
		    sent == 0 || sent == 3 ? "device_add" : "blockdev-add");
	/* What was sent still answers; the last answer ends the operation. */
	if (sent == 0)
		bridge_finish(q);
}

/* A sparse raw file of size bytes at path; -1 with *cause. */
static int
bridge_make_file(const char *path, uint64_t size, char **cause)
{
	int	fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	if (ftruncate(fd, (off_t)size) == -1) {
		close(fd);
		(void)unlink(path);
		return cause_set(cause, "%s: %s", path, strerror(errno));
	}
	close(fd);
	return 0;
}

/* The machine QEMU really runs (an alias such as `pc` names a versioned type). */
static void
bridge_machine(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	struct qemu	*q = arg;
	const char	*type, *path;
	char		*cause = NULL;

	if (q->op.kind != QEMU_OP_BRIDGE)
		return;
	type = !error && json_is_string(ret) ? json_string_value(ret) :
	    q->plan->target.qemu.machine;
	if (type == NULL || !machine_is_pc(type)) {
		snprintf(q->op.why, sizeof q->op.why, "io_bridge needs machine pc "
		    "with QEMU 7.2: a hot-added bridge on q35 gets no bus number "
		    "unless a root port reserved one at boot (this VM is %s)",
		    type != NULL ? type : "?");
		bridge_finish(q);
		return;
	}
	json_object_set_new(q->op.result, "machine", json_string(type));
	path = json_string_value(json_object_get(q->op.result, "file"));
	if (bridge_make_file(path, q->op.bytes, &cause) == -1) {
		snprintf(q->op.why, sizeof q->op.why, "%s", cause != NULL ? cause :
		    "?");
		free(cause);
		bridge_finish(q);
		return;
	}
	/* Counted now: the cleanup removes the file whatever happens next. */
	q->bridges = q->op.bridge;
	bridge_plug(q);
}

void
qemu_op_hot_add_io_bridge(struct backend *b, uint64_t disk_size,
    backend_done_cb cb, void *arg)
{
	struct qemu	*q = (struct qemu *)b;
	unsigned	 n = q->bridges + 1;
	char		 br[32], disk[32], node[32], fnode[40], *path = NULL;

	if (q->op.kind != QEMU_OP_NONE) {
		qemu_refuse(q, cb, arg);
		return;
	}
	(void)qemu_op_take(q, QEMU_OP_BRIDGE, cb, arg);
	if (q->state != QEMU_RUNNING || q->qmp == NULL) {
		qemu_op_end_later(q, "the VM is not running");
		return;
	}
	if (n > BRIDGE_MAX) {
		qemu_op_end_later(q, "at most %d I/O bridges per VM (slots 0x%x to "
		    "0x%x of pci.0)", BRIDGE_MAX, BRIDGE_SLOT_BASE + 1,
		    BRIDGE_SLOT_BASE + BRIDGE_MAX);
		return;
	}
	if (asprintf(&path, "%s/io-bridge%u.raw", q->run_dir, n) == -1) {
		qemu_op_end_later(q, "out of memory");
		return;
	}
	q->op.bridge = n;
	q->op.bytes = disk_size;
	snprintf(br, sizeof br, "hotsoak-br%u", n);
	snprintf(disk, sizeof disk, "hotsoak-vblk-io%u", n);
	snprintf(node, sizeof node, "hotsoak-io%u", n);
	snprintf(fnode, sizeof fnode, "hotsoak-io%u-file", n);
	/* The serial is how the agent finds the disk: the node's name fits 20 bytes. */
	q->op.result = json_pack("{ss ss ss ss s{ss} ss sI ss ss}", "bridge", br,
	    "disk", disk, "serial", node, "node", node, "nodes", "file", fnode,
	    "file", path, "size", (json_int_t)disk_size, "bus", "pci.0",
	    "method", "device_add pci-bridge + blockdev-add + device_add "
	    "virtio-blk-pci");
	free(path);
	if (q->op.result == NULL) {
		qemu_op_end_later(q, "out of memory");
		return;
	}
	if (qemu_cmd(q, "qom-get", json_pack("{ss ss}", "path", "/machine",
	    "property", "type"), bridge_machine) == -1)
		qemu_op_end_later(q, "QMP qom-get not sent");
}

void
qemu_bridge_cleanup(struct qemu *q)
{
	char		path[4096];
	unsigned	n;

	for (n = 1; n <= q->bridges; n++) {
		if (snprintf(path, sizeof path, "%s/io-bridge%u.raw", q->run_dir,
		    n) >= (int)sizeof path)
			continue;
		(void)unlink(path);
	}
	q->bridges = 0;
}
