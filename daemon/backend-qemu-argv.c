/* backend-qemu-argv.c: the QEMU command line a plan asks for: one private
 * run folder per VM (QMP and agent sockets, console log, disk image), the
 * guest image, a pvpanic device that pauses on a panic. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/plan.h"
#include "hotsoak/util.h"
#include "backend-qemu.h"

/*
 * The kernel command line hotsoak needs: the console on the serial port
 * it logs, no reboot after a panic (the VM stays for the post-mortem), and
 * the console kept up during pseudo-S4 so its PM lines arrive while
 * devices are suspended. Hot-added memory stays offline until the agent
 * onlines it, as the seeds' "software brings new memory into use" asks.
 */
#define QEMU_APPEND_BASE "console=ttyS0 panic=0 no_console_suspend"

struct argv_buf {
	char	**v;
	size_t	 n;
	size_t	 cap;
	bool	 failed;
};

static void
arg_add(struct argv_buf *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
arg_add(struct argv_buf *a, const char *fmt, ...)
{
	va_list	 ap;
	char	*s, **v;

	if (a->failed)
		return;
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		if ((v = realloc(a->v, a->cap * sizeof *v)) == NULL) {
			a->failed = true;
			return;
		}
		a->v = v;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1) {
		a->failed = true;
		va_end(ap);
		return;
	}
	va_end(ap);
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

void
qemu_argv_free(char **v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* QEMU's -opt values escape a comma by doubling it. */
static char *
comma_escape(const char *s)
{
	char	*out, *p;

	if ((out = malloc(strlen(s) * 2 + 1)) == NULL)
		return NULL;
	for (p = out; *s != '\0'; s++) {
		*p++ = *s;
		if (*s == ',')
			*p++ = ',';
	}
	*p = '\0';
	return out;
}

/* The caller frees the result with qemu_argv_free, or *cause on NULL. */
char **
qemu_argv_build(const struct qemu *q, char **cause)
{
	const struct plan_target *t = &q->plan->target;
	const struct plan_qemu	*pq = &t->qemu;
	struct argv_buf		 a = { NULL, 0, 0, false };
	char			*disk = NULL, *token = NULL;
	const char		*cpu;
	uint64_t		 slots_mem;
	unsigned		 slots;
	size_t			 i;

	if ((disk = comma_escape(q->disk_path)) == NULL ||
	    (token = comma_escape(q->token_file)) == NULL) {
		free(disk);
		cause_set(cause, "out of memory");
		return NULL;
	}
	cpu = pq->cpu_model != NULL ? pq->cpu_model :
	    q->accel == PLAN_ACCEL_KVM ? "host" : "qemu64";
	arg_add(&a, "%s", pq->binary);
	arg_add(&a, "-name");
	arg_add(&a, "hotsoak-run-%" PRId64, q->run_id);
	arg_add(&a, "-nodefaults");
	arg_add(&a, "-no-user-config");
	arg_add(&a, "-nographic");
	arg_add(&a, "-machine");
	arg_add(&a, "%s", pq->machine);
	arg_add(&a, "-accel");
	arg_add(&a, "%s", q->accel == PLAN_ACCEL_KVM ? "kvm" : "tcg");
	arg_add(&a, "-cpu");
	arg_add(&a, "%s", cpu);
	arg_add(&a, "-smp");
	arg_add(&a, "%u,maxcpus=%u", t->cpus_boot, t->cpus_max);
	/* Memory devices need a slot count and a ceiling, virtio-mem too. */
	slots = t->memory_slots != 0 ? t->memory_slots : 1;
	arg_add(&a, "-m");
	if (t->memory_max > t->memory_boot)
		arg_add(&a, "%" PRIu64 "M,slots=%u,maxmem=%" PRIu64 "M",
		    t->memory_boot >> 20, slots, t->memory_max >> 20);
	else
		arg_add(&a, "%" PRIu64 "M", t->memory_boot >> 20);
	arg_add(&a, "-kernel");
	arg_add(&a, "%s", q->kernel);
	if (q->initrd != NULL) {
		arg_add(&a, "-initrd");
		arg_add(&a, "%s", q->initrd);
	}
	arg_add(&a, "-append");
	if (pq->append != NULL)
		arg_add(&a, "%s %s", QEMU_APPEND_BASE, pq->append);
	else
		arg_add(&a, "%s quiet", QEMU_APPEND_BASE);
	arg_add(&a, "-monitor");
	arg_add(&a, "none");
	arg_add(&a, "-qmp");
	arg_add(&a, "unix:%s,server=on,wait=off", q->qmp_path);
	arg_add(&a, "-serial");
	arg_add(&a, "file:%s", q->console_path);
	arg_add(&a, "-device");
	arg_add(&a, "virtio-serial-pci,id=hotsoak-vser");
	arg_add(&a, "-chardev");
	arg_add(&a, "socket,id=hotsoak-agent,path=%s,server=on,wait=off",
	    q->agent_path);
	arg_add(&a, "-device");
	arg_add(&a, "virtserialport,bus=hotsoak-vser.0,chardev=hotsoak-agent,"
	    "name=%s,id=hotsoak-agent-port", QEMU_AGENT_PORT);
	arg_add(&a, "-drive");
	arg_add(&a, "file=%s,if=none,id=hotsoak-disk,format=raw,cache=%s,"
	    "aio=threads", disk, q->cache);
	arg_add(&a, "-device");
	arg_add(&a, "virtio-blk-pci,drive=hotsoak-disk,id=hotsoak-vblk");
	/* A panic pauses the VM: the console and the state stay to be read. */
	arg_add(&a, "-device");
	arg_add(&a, "pvpanic");
	arg_add(&a, "-action");
	arg_add(&a, "panic=pause");
	arg_add(&a, "-no-reboot");
	/* The agent's token, off the command line that ps shows. */
	arg_add(&a, "-fw_cfg");
	arg_add(&a, "name=opt/org.hotsoak/token,file=%s", token);
	if (t->memory_hotplug == PLAN_MEMHP_VIRTIO_MEM &&
	    t->memory_max > t->memory_boot) {
		slots_mem = t->memory_max - t->memory_boot;
		arg_add(&a, "-object");
		arg_add(&a, "memory-backend-ram,id=%s,size=%" PRIu64 "M",
		    QEMU_VMEM_MEMDEV, slots_mem >> 20);
		arg_add(&a, "-device");
		arg_add(&a, "virtio-mem-pci,id=%s,memdev=%s,block-size=2M,"
		    "requested-size=0", QEMU_VMEM_ID, QEMU_VMEM_MEMDEV);
	}
	for (i = 0; i < pq->n_extra_args; i++)
		arg_add(&a, "%s", pq->extra_args[i]);
	free(disk);
	free(token);
	if (a.failed) {
		qemu_argv_free(a.v);
		cause_set(cause, "out of memory");
		return NULL;
	}
	return a.v;
}

/* The caller frees the result; NULL when out of memory. */
char *
qemu_argv_join(char *const *v)
{
	size_t	 len = 1, i;
	char	*s, *p;
	const char *c;

	for (i = 0; v[i] != NULL; i++)
		len += strlen(v[i]) * 4 + 3;
	if ((s = malloc(len)) == NULL)
		return NULL;
	p = s;
	for (i = 0; v[i] != NULL; i++) {
		if (i != 0)
			*p++ = ' ';
		if (v[i][strcspn(v[i], " '\"\\$`;&|<>()*?")] == '\0' &&
		    v[i][0] != '\0') {
			p = stpcpy(p, v[i]);
			continue;
		}
		*p++ = '\'';
		for (c = v[i]; *c != '\0'; c++) {
			if (*c == '\'')
				p = stpcpy(p, "'\\''");
			else
				*p++ = *c;
		}
		*p++ = '\'';
	}
	*p = '\0';
	return s;
}
