/* check-kmsg.c: the kernel-log watcher: /dev/kmsg records parsed, each rule
 * against a real-looking Linux 6.1 report, and reading files, FIFOs and EPIPE. */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmsg.h"

#define MAX_GOT	64

struct got {
	struct kmsg_event	ev[MAX_GOT];
	size_t			n;
};

static void
got_free(struct got *g)
{
	size_t	i;

	for (i = 0; i < g->n; i++)
		kmsg_event_clear(&g->ev[i]);
	g->n = 0;
}

/* Feeds lines (NULL-terminated), one microsecond apart from ts0. */
static void
feed(struct kmsg_classifier *c, const char *const *lines, uint64_t ts0,
    struct got *g)
{
	size_t	i;

	for (i = 0; lines[i] != NULL; i++) {
		ck_assert_uint_lt(g->n, MAX_GOT);
		if (kmsg_classifier_feed(c, lines[i], strlen(lines[i]),
		    ts0 == KMSG_TS_NONE ? KMSG_TS_NONE : ts0 + i, 100 + i,
		    &g->ev[g->n]))
			g->n++;
	}
}

static void
flush(struct kmsg_classifier *c, struct got *g)
{
	if (kmsg_classifier_flush(c, &g->ev[g->n]))
		g->n++;
	ck_assert(!kmsg_classifier_pending(c));
}

/* Feeds lines, flushes, and returns the events. */
static void
classify(const char *const *lines, struct got *g)
{
	struct kmsg_classifier	*c = kmsg_classifier_new();

	ck_assert_ptr_nonnull(c);
	g->n = 0;
	feed(c, lines, 5000000, g);
	flush(c, g);
	kmsg_classifier_free(c);
}

/* Line i (from 0) of an event's text, in a static buffer. */
static const char *
ev_line(const struct kmsg_event *ev, size_t i)
{
	static char	 buf[KMSG_LINE_MAX];
	const char	*p = ev->text, *nl;

	ck_assert_ptr_nonnull(p);
	for (; i > 0; i--) {
		nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);
		p = nl + 1;
	}
	nl = strchr(p, '\n');
	ck_assert_ptr_nonnull(nl);
	snprintf(buf, sizeof buf, "%.*s", (int)(nl - p), p);
	return buf;
}

static size_t
count_str(const char *hay, const char *needle)
{
	size_t	n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

/* ---- Linux 6.1 reports, as dmesg shows them without the timestamps ---- */

#define QEMU_HW	"Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS " \
		"1.16.2-debian-1.16.2-1 04/01/2014"
#define KOFFSET	"Kernel Offset: 0x23800000 from 0xffffffff81000000 (relocation " \
		"range: 0xffffffff80000000-0xffffffffbfffffff)"

/* NULL dereference in a workqueue, panic_on_oops=1. */
static const char *const oops_null_panic[] = {
	"BUG: kernel NULL pointer dereference, address: 0000000000000008",
	"#PF: supervisor read access in kernel mode",
	"#PF: error_code(0x0000) - not-present page",
	"PGD 0 P4D 0 ",
	"Oops: 0000 [#1] PREEMPT SMP NOPTI",
	"CPU: 3 PID: 1187 Comm: kworker/3:2 Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1",
	QEMU_HW,
	"Workqueue: events virtblk_config_changed_work [virtio_blk]",
	"RIP: 0010:virtblk_update_capacity+0x2d/0x120 [virtio_blk]",
	"Code: 41 55 41 54 55 53 48 89 fb 48 83 ec 10 65 48 8b 04 25 28 00 00 00 "
	    "48 89 44 24 08 31 c0 48 8b 47 08 <48> 8b 40 08 48 8b 68 10 e8 b5 9a "
	    "41 e4 48 8b 7b 08 48 89 c6 e8 e9",
	"RSP: 0018:ffffb4b1c0d47e28 EFLAGS: 00010246",
	"RAX: 0000000000000000 RBX: ffff9a3d4a3e5c00 RCX: 0000000000000000",
	"RDX: 0000000000000001 RSI: 0000000000000000 RDI: ffff9a3d4a3e5c00",
	"RBP: ffff9a3d41a8b000 R08: ffff9a3d7bdb1c40 R09: 0000000000000000",
	"R10: 0000000000000000 R11: 0000000000000000 R12: ffff9a3d4a3e5c00",
	"R13: ffff9a3d7bdb1c00 R14: 0000000000000000 R15: ffff9a3d7bdb1c05",
	"FS:  0000000000000000(0000) GS:ffff9a3d7bd80000(0000) knlGS:0000000000000000",
	"CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033",
	"CR2: 0000000000000008 CR3: 000000010a410000 CR4: 00000000000006e0",
	"Call Trace:",
	" <TASK>",
	" ? __die_body.cold+0x1a/0x1f",
	" ? page_fault_oops+0xd2/0x2b0",
	" ? exc_page_fault+0x70/0x170",
	" ? asm_exc_page_fault+0x22/0x30",
	" ? virtblk_update_capacity+0x2d/0x120 [virtio_blk]",
	" virtblk_config_changed_work+0x15/0x20 [virtio_blk]",
	" process_one_work+0x1c7/0x380",
	" worker_thread+0x4d/0x380",
	" ? rescuer_thread+0x3a0/0x3a0",
	" kthread+0xd7/0x100",
	" ? kthread_complete_and_exit+0x20/0x20",
	" ret_from_fork+0x1f/0x30",
	" </TASK>",
	"Modules linked in: virtio_blk virtio_net net_failover failover virtio_pci "
	    "virtio_pci_legacy_dev virtio_pci_modern_dev virtio virtio_ring",
	"CR2: 0000000000000008",
	"---[ end trace 0000000000000000 ]---",		/* line 37 */
	"RIP: 0010:virtblk_update_capacity+0x2d/0x120 [virtio_blk]",
	"Code: 41 55 41 54 55 53 48 89 fb 48 83 ec 10 65 48 8b 04 25 28 00 00 00 "
	    "48 89 44 24 08 31 c0 48 8b 47 08 <48> 8b 40 08 48 8b 68 10 e8 b5 9a "
	    "41 e4 48 8b 7b 08 48 89 c6 e8 e9",
	"RSP: 0018:ffffb4b1c0d47e28 EFLAGS: 00010246",
	"RAX: 0000000000000000 RBX: ffff9a3d4a3e5c00 RCX: 0000000000000000",
	"RDX: 0000000000000001 RSI: 0000000000000000 RDI: ffff9a3d4a3e5c00",
	"RBP: ffff9a3d41a8b000 R08: ffff9a3d7bdb1c40 R09: 0000000000000000",
	"R10: 0000000000000000 R11: 0000000000000000 R12: ffff9a3d4a3e5c00",
	"R13: ffff9a3d7bdb1c00 R14: 0000000000000000 R15: ffff9a3d7bdb1c05",
	"FS:  0000000000000000(0000) GS:ffff9a3d7bd80000(0000) knlGS:0000000000000000",
	"CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033",
	"CR2: 0000000000000008 CR3: 000000010a410000 CR4: 00000000000006e0",
	"Kernel panic - not syncing: Fatal exception",
	KOFFSET,
	"---[ end Kernel panic - not syncing: Fatal exception ]---",
	NULL
};

/* The same bug on another run: other CPU, PID, worker, addresses, build. */
static const char *const oops_null_again[] = {
	"BUG: kernel NULL pointer dereference, address: 0000000000000010",
	"#PF: supervisor read access in kernel mode",
	"#PF: error_code(0x0000) - not-present page",
	"PGD 0 P4D 0 ",
	"Oops: 0000 [#2] PREEMPT SMP NOPTI",
	"CPU: 0 PID: 77 Comm: kworker/0:1 Tainted: G      D            6.1.0-18-amd64 #1  Debian 6.1.76-1",
	QEMU_HW,
	"Workqueue: events virtblk_config_changed_work [virtio_blk]",
	"RIP: 0010:virtblk_update_capacity+0x31/0x124 [virtio_blk]",
	"RSP: 0018:ffffa0c2c00f3e30 EFLAGS: 00010282",
	"Call Trace:",
	" <TASK>",
	" virtblk_config_changed_work+0x15/0x20 [virtio_blk]",
	" </TASK>",
	"---[ end trace 5a1b2c3d4e5f6071 ]---",
	NULL
};

/* A bad pointer in a read(2) copy: the task is killed, the kernel lives. */
static const char *const oops_page_fault[] = {
	"BUG: unable to handle page fault for address: ffffd2c0c4a5e008",
	"#PF: supervisor write access in kernel mode",
	"#PF: error_code(0x0002) - not-present page",
	"PGD 100000067 P4D 100000067 PUD 0 ",
	"Oops: 0002 [#1] PREEMPT SMP NOPTI",
	"CPU: 6 PID: 2231 Comm: fio Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1",
	QEMU_HW,
	"RIP: 0010:memcpy_erms+0x6/0x10",
	"Code: cc cc cc cc eb 1e 0f 1f 00 48 89 f8 48 89 d1 48 c1 e9 03 83 e2 07 "
	    "f3 48 a5 89 d1 f3 a4 c3 66 0f 1f 44 00 00 48 89 f8 48 89 d1 <f3> a4 "
	    "c3 0f 1f 80 00 00 00 00 48 89 f8 48 83 fa 20 72 7e 40 38 fe",
	"RSP: 0018:ffffb4b1c1a3fb70 EFLAGS: 00010286",
	"RAX: ffffd2c0c4a5e008 RBX: 0000000000001000 RCX: 0000000000001000",
	"CR2: ffffd2c0c4a5e008 CR3: 0000000104c2e000 CR4: 00000000000006e0",
	"Call Trace:",
	" <TASK>",
	" ? __die+0x23/0x70",
	" ? page_fault_oops+0x17d/0x4c0",
	" ? exc_page_fault+0x7f/0x180",
	" ? asm_exc_page_fault+0x26/0x30",
	" ? memcpy_erms+0x6/0x10",
	" _copy_to_iter+0x2a6/0x5f0",
	" copy_page_to_iter+0x4d/0x150",
	" filemap_read+0x1d6/0x340",
	" blkdev_read_iter+0x6d/0x160",
	" vfs_read+0x215/0x300",
	" ksys_read+0x6b/0xf0",
	" do_syscall_64+0x58/0xc0",
	" entry_SYSCALL_64_after_hwframe+0x64/0xce",
	"RIP: 0033:0x7f3c8f31e19c",
	"RSP: 002b:00007f3c8e7fbc70 EFLAGS: 00000246 ORIG_RAX: 0000000000000000",
	" </TASK>",
	"Modules linked in: virtio_blk virtio_net",
	"CR2: ffffd2c0c4a5e008",
	"---[ end trace 0000000000000000 ]---",		/* line 33 */
	"RIP: 0010:memcpy_erms+0x6/0x10",
	"RSP: 0018:ffffb4b1c1a3fb70 EFLAGS: 00010286",
	"virtio_net virtio1 enp1s0: renamed from eth0",
	NULL
};

static const char *const gpf[] = {
	"general protection fault, probably for non-canonical address "
	    "0xdead000000000122: 0000 [#1] PREEMPT SMP NOPTI",
	"CPU: 1 PID: 812 Comm: kworker/u8:3 Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1",
	QEMU_HW,
	"Workqueue: writeback wb_workfn (flush-254:0)",
	"RIP: 0010:__list_del_entry_valid+0x2a/0xa0",
	"RSP: 0018:ffffb4b1c0f2fbd8 EFLAGS: 00010246",
	"Call Trace:",
	" <TASK>",
	" ? die_addr+0x32/0x80",
	" ? exc_general_protection+0x1c5/0x410",
	" ? asm_exc_general_protection+0x22/0x30",
	" ? __list_del_entry_valid+0x2a/0xa0",
	" blk_mq_dispatch_rq_list+0x1b4/0x7f0",
	" </TASK>",
	"Modules linked in: virtio_blk",
	"---[ end trace 0000000000000000 ]---",		/* line 16 */
	NULL
};

/* Offlining hot-added memory trips an assertion. */
static const char *const kernel_bug[] = {
	"------------[ cut here ]------------",
	"kernel BUG at mm/memory_hotplug.c:1734!",
	"invalid opcode: 0000 [#1] PREEMPT SMP NOPTI",
	"CPU: 0 PID: 1402 Comm: hotsoak-agent Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1",
	QEMU_HW,
	"RIP: 0010:offline_pages+0x6d3/0x6f0",
	"Call Trace:",
	" <TASK>",
	" memory_subsys_offline+0x5e/0x90",
	" device_offline+0xe4/0x110",
	" state_store+0x6c/0xd0",
	" kernfs_fop_write_iter+0x11c/0x1b0",
	" vfs_write+0x2cf/0x400",
	" ksys_write+0x6b/0xf0",
	" do_syscall_64+0x58/0xc0",
	" entry_SYSCALL_64_after_hwframe+0x64/0xce",
	" </TASK>",
	"Modules linked in: virtio_blk",
	"---[ end trace 0000000000000000 ]---",		/* 18 lines from line 2 */
	NULL
};

static const char *const arm64_oops[] = {
	"Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008",
	"Mem abort info:",
	"  ESR = 0x0000000096000004",
	"  EC = 0x25: DABT (current EL), IL = 32 bits",
	"  SET = 0, FnV = 0",
	"  EA = 0, S1PTW = 0",
	"  FSC = 0x04: level 0 translation fault",
	"Data abort info:",
	"  ISV = 0, ISS = 0x00000004",
	"  CM = 0, WnR = 0",
	"user pgtable: 4k pages, 48-bit VAs, pgdp=0000000101a5e000",
	"[0000000000000008] pgd=0000000000000000, p4d=0000000000000000",
	"Internal error: Oops: 0000000096000004 [#1] PREEMPT SMP",
	"Modules linked in: virtio_blk",
	"CPU: 2 PID: 97 Comm: kworker/2:1 Not tainted 6.1.0-18-arm64 #1  Debian 6.1.76-1",
	"Hardware name: QEMU KVM Virtual Machine, BIOS 0.0.0 02/06/2015",
	"Workqueue: events virtblk_config_changed_work [virtio_blk]",
	"pstate: 60400005 (nZCv daif +PAN -UAO -TCO -DIT -SSBS BTYPE=--)",
	"pc : virtblk_update_capacity+0x28/0x110 [virtio_blk]",
	"lr : virtblk_config_changed_work+0x1c/0x30 [virtio_blk]",
	"sp : ffff80000a4bbd60",
	"x29: ffff80000a4bbd60 x28: 0000000000000000 x27: 0000000000000000",
	"Call trace:",
	" virtblk_update_capacity+0x28/0x110 [virtio_blk]",
	" virtblk_config_changed_work+0x1c/0x30 [virtio_blk]",
	" process_one_work+0x1f4/0x460",
	" worker_thread+0x188/0x4e0",
	" kthread+0xe0/0xe4",
	" ret_from_fork+0x10/0x20",
	"Code: f9400400 f9400800 f9400c00 a9bf7bfd (f9400400) ",
	"---[ end trace 0000000000000000 ]---",		/* line 31 */
	NULL
};

static const char *const warning[] = {
	"------------[ cut here ]------------",
	"WARNING: CPU: 5 PID: 342 at block/blk-mq.c:2142 __blk_mq_run_hw_queue+0xa0/0xb0",
	"Modules linked in: virtio_blk virtio_net net_failover failover",
	"CPU: 5 PID: 342 Comm: kworker/5:1H Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1",
	QEMU_HW,
	"Workqueue: kblockd blk_mq_run_work_fn",
	"RIP: 0010:__blk_mq_run_hw_queue+0xa0/0xb0",
	"RSP: 0018:ffffb4b1c0e5fe58 EFLAGS: 00010202",
	"Call Trace:",
	" <TASK>",
	" ? __warn+0x7d/0xc0",
	" ? __blk_mq_run_hw_queue+0xa0/0xb0",
	" ? report_bug+0xe6/0x170",
	" ? handle_bug+0x41/0x70",
	" ? exc_invalid_op+0x13/0x60",
	" ? asm_exc_invalid_op+0x16/0x20",
	" process_one_work+0x1c7/0x380",
	" worker_thread+0x4d/0x380",
	" kthread+0xd7/0x100",
	" ret_from_fork+0x1f/0x30",
	" </TASK>",
	"---[ end trace 0000000000000000 ]---",		/* 21 lines from line 1 */
	"virtio_blk virtio2: [vdb] new size: 4194304 512-byte logical blocks (2.15 GB/2.00 GiB)",
	NULL
};

static const char *const warning_again[] = {
	"WARNING: CPU: 0 PID: 9 at block/blk-mq.c:2142 __blk_mq_run_hw_queue+0xa4/0xb4",
	"CPU: 0 PID: 9 Comm: kworker/0:1H Tainted: G        W          6.1.0-18-amd64 #1  Debian 6.1.76-1",
	"---[ end trace 0000000000000000 ]---",
	NULL
};

/* Two tasks stuck behind a hot-unplugged disk's queue. */
static const char *const hung_tasks[] = {
	"INFO: task kworker/u8:2:114 blocked for more than 120 seconds.",
	"      Not tainted 6.1.0-18-amd64 #1 Debian 6.1.76-1",
	"\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.",
	"task:kworker/u8:2    state:D stack:0     pid:114   ppid:2      flags:0x00004000",
	"Workqueue: writeback wb_workfn (flush-254:0)",
	"Call Trace:",
	" <TASK>",
	" __schedule+0x351/0xa20",
	" schedule+0x5d/0xe0",
	" io_schedule+0x42/0x70",
	" rq_qos_wait+0xbb/0x130",
	" ? rq_qos_wake_function+0x90/0x90",
	" wbt_wait+0x9e/0x100",
	" __rq_qos_throttle+0x20/0x40",
	" blk_mq_submit_bio+0x2bf/0x5a0",
	" submit_bio_noacct_nocheck+0x2e2/0x370",
	" ext4_io_submit+0x20/0x40",
	" ext4_writepages+0x5a8/0xfe0",
	" do_writepages+0xbc/0x1a0",
	" __writeback_single_inode+0x3d/0x360",
	" writeback_sb_inodes+0x1ed/0x4a0",
	" wb_writeback+0x298/0x310",
	" wb_workfn+0x35c/0x4b0",
	" process_one_work+0x1c7/0x380",
	" worker_thread+0x4d/0x380",
	" kthread+0xd7/0x100",
	" ret_from_fork+0x1f/0x30",
	" </TASK>",					/* line 28 */
	"INFO: task fio:2240 blocked for more than 120 seconds.",
	"      Not tainted 6.1.0-18-amd64 #1 Debian 6.1.76-1",
	"\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.",
	"task:fio             state:D stack:0     pid:2240  ppid:2236   flags:0x00000002",
	"Call Trace:",
	" <TASK>",
	" __schedule+0x351/0xa20",
	" schedule+0x5d/0xe0",
	" io_schedule+0x42/0x70",
	" folio_wait_bit_common+0x13d/0x350",
	" ? filemap_invalidate_unlock_two+0x50/0x50",
	" filemap_fdatawait_range+0x61/0x80",
	" blkdev_fsync+0x3c/0x50",
	" __x64_sys_fsync+0x3b/0x70",
	" do_syscall_64+0x58/0xc0",
	" entry_SYSCALL_64_after_hwframe+0x64/0xce",
	" </TASK>",					/* 17 lines */
	NULL
};

/* softlockup_panic=1: the lockup report, then the panic it causes. */
static const char *const soft_lockup_panic[] = {
	"watchdog: BUG: soft lockup - CPU#2 stuck for 26s! [fio:2235]",
	"Modules linked in: virtio_blk virtio_net",
	"CPU: 2 PID: 2235 Comm: fio Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1",
	QEMU_HW,
	"RIP: 0010:native_queued_spin_lock_slowpath+0x63/0x2c0",
	"RSP: 0018:ffffb4b1c0103e80 EFLAGS: 00000202",
	"Call Trace:",
	" <IRQ>",
	" _raw_spin_lock_irqsave+0x39/0x50",
	" virtblk_done+0x4a/0x110 [virtio_blk]",
	" vring_interrupt+0x6b/0xa0 [virtio_ring]",
	" __handle_irq_event_percpu+0x4a/0x180",
	" handle_irq_event+0x38/0x80",
	" handle_edge_irq+0x8c/0x230",
	" __common_interrupt+0x43/0xa0",
	" common_interrupt+0x80/0xa0",
	" </IRQ>",
	" <TASK>",
	" asm_common_interrupt+0x22/0x40",
	" </TASK>",					/* line 20 */
	"Kernel panic - not syncing: softlockup: hung tasks",
	"CPU: 2 PID: 2235 Comm: fio Tainted: G             L     6.1.0-18-amd64 #1  Debian 6.1.76-1",
	QEMU_HW,
	"Call Trace:",
	" <IRQ>",
	" dump_stack_lvl+0x44/0x5c",
	" panic+0x118/0x2ed",
	" watchdog_timer_fn.cold+0x1c/0x1c",
	" ? softlockup_fn+0x70/0x70",
	" __hrtimer_run_queues+0x112/0x2b0",
	" hrtimer_interrupt+0xfe/0x220",
	" __sysvec_apic_timer_interrupt+0x7f/0x170",
	" sysvec_apic_timer_interrupt+0x99/0xc0",
	" </IRQ>",
	" <TASK>",
	" asm_sysvec_apic_timer_interrupt+0x16/0x20",
	" </TASK>",
	KOFFSET,
	"---[ end Kernel panic - not syncing: softlockup: hung tasks ]---",	/* 19 lines */
	NULL
};

static const char *const soft_lockup_again[] = {
	"watchdog: BUG: soft lockup - CPU#0 stuck for 52s! [kworker/0:3:4410]",
	"CPU: 0 PID: 4410 Comm: kworker/0:3 Tainted: G             L     6.1.0-18-amd64 #1  Debian 6.1.76-1",
	"RIP: 0010:native_queued_spin_lock_slowpath+0x6e/0x2c0",
	" </TASK>",
	NULL
};

static const char *const hard_lockup[] = {
	"NMI watchdog: Watchdog detected hard LOCKUP on cpu 1",
	"Modules linked in: virtio_blk",
	"CPU: 1 PID: 0 Comm: swapper/1 Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1",
	QEMU_HW,
	"RIP: 0010:native_queued_spin_lock_slowpath+0x1f4/0x2c0",
	"RSP: 0018:ffffb4b1c00c8e98 EFLAGS: 00000046",
	"Call Trace:",
	" <IRQ>",
	" _raw_spin_lock+0x25/0x30",
	" scheduler_tick+0x3a/0x2c0",
	" update_process_times+0x8d/0xa0",
	" tick_sched_timer+0x8c/0xa0",
	" </IRQ>",
	" <TASK>",
	" default_idle+0xb/0x10",
	" do_idle+0x1f1/0x280",
	" cpu_startup_entry+0x19/0x20",
	" start_secondary+0x113/0x140",
	" secondary_startup_64_no_verify+0xe5/0xeb",
	" </TASK>",					/* 20 lines */
	NULL
};

/* No end marker: the window or the line limit ends it. */
static const char *const rcu_stall[] = {
	"rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:",
	"rcu: \t2-...!: (1 GPs behind) idle=8f4/1/0x4000000000000000 softirq=10435/10436 fqs=0",
	"\t(detected by 0, t=21002 jiffies, g=17833, q=1102 ncpus=4)",
	"Sending NMI from CPU 0 to CPUs 2:",
	"NMI backtrace for cpu 2",
	"CPU: 2 PID: 2235 Comm: fio Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1",
	QEMU_HW,
	"RIP: 0010:native_queued_spin_lock_slowpath+0x63/0x2c0",
	"RSP: 0018:ffffb4b1c0103e80 EFLAGS: 00000202",
	"Call Trace:",
	" <TASK>",
	" _raw_spin_lock_irqsave+0x39/0x50",
	" virtblk_poll+0x3a/0x140 [virtio_blk]",
	" </TASK>",
	"rcu: rcu_preempt kthread timer wakeup didn't happen for 21001 jiffies! g17833 f0x0 RCU_GP_WAIT_FQS(5) ->state=0x402",
	"rcu: \tPossible timer handling issue on cpu=2 timer-softirq=5671",
	"rcu: rcu_preempt kthread starved for 21002 jiffies! g17833 f0x0 RCU_GP_WAIT_FQS(5) ->state=0x402 ->cpu=2",
	"rcu: \tUnless rcu_preempt kthread gets sufficient CPU time, OOM is now expected behavior.",
	"rcu: RCU grace-period kthread stack dump:",	/* 19 lines */
	NULL
};

/* A write storm into a disk that went away, chatter in between. */
static const char *const io_storm[] = {
	"I/O error, dev vda, sector 4196352 op 0x1:(WRITE) flags 0x8800 phys_seg 1 prio class 2",
	"I/O error, dev vda, sector 4196360 op 0x1:(WRITE) flags 0x8800 phys_seg 1 prio class 2",
	"Buffer I/O error on dev vda1, logical block 524288, lost async page write",
	"EXT4-fs warning (device vda1): ext4_end_bio:343: I/O error 10 writing to inode 131090 starting block 524289)",
	"Buffer I/O error on dev vda1, logical block 524289, lost async page write",
	"JBD2: Detected IO errors while flushing file data on vda1-8",
	"Aborting journal on device vda1-8.",
	"EXT4-fs error (device vda1) in ext4_reserve_inode_write:5780: Journal has aborted",
	"EXT4-fs (vda1): Remounting filesystem read-only",
	NULL
};

static const char *const root_panic[] = {
	"Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
	"CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1",
	QEMU_HW,
	"Call Trace:",
	" <TASK>",
	" dump_stack_lvl+0x44/0x5c",
	" panic+0x118/0x2ed",
	" mount_block_root+0x1d3/0x1e6",
	" prepare_namespace+0x136/0x165",
	" kernel_init_freeable+0x25c/0x286",
	" ? rest_init+0xd0/0xd0",
	" kernel_init+0x16/0x130",
	" ret_from_fork+0x1f/0x30",
	" </TASK>",
	KOFFSET,
	"---[ end Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0) ]---",
	NULL
};

/* Lines that look alarming and are not kernel reports. */
static const char *const harmless[] = {
	"traps: fio[2231] general protection fault ip:55d4c0a1b2c3 sp:7ffc1234abcd error:0 in fio[55d4c0a00000+9d000]",
	"fio[2231]: segfault at 0 ip 000055d4c0a1b2c3 sp 00007ffc1234abcd error 4 in fio[55d4c0a00000+9d000]",
	"INFO: NMI handler (perf_event_nmi_handler) took too long to run: 1.234 msecs",
	"ACPI: CPU4 has been hot-added",
	"smpboot: Booting Node 0 Processor 4 APIC 0x4",
	"PM: hibernation: hibernation entry",
	"EXT4-fs (vda1): mounted filesystem with ordered data mode. Quota mode: none.",
	"virtio_blk virtio2: [vdb] 2097152 512-byte logical blocks (1.07 GB/1.00 GiB)",
	"Out of memory: Killed process 2231 (fio) total-vm:1234kB, anon-rss:1000kB",
	" </TASK>",
	"---[ end trace 0000000000000000 ]---",
	NULL
};

/* ---- Records ---- */

static struct kmsg_record rec;

static void
parse_ok(const char *s)
{
	ck_assert_msg(kmsg_parse_record(s, strlen(s), &rec) == 0,
	    "refused `%s`", s);
}

START_TEST(record_fields)
{
	parse_ok("6,339,5140900,-;NET: Registered PF_INET6 protocol family\n");
	ck_assert_uint_eq(rec.level, 6);
	ck_assert_uint_eq(rec.facility, 0);
	ck_assert_uint_eq(rec.seq, 339);
	ck_assert_uint_eq(rec.ts_usec, 5140900);
	ck_assert_int_eq(rec.flags, '-');
	ck_assert_str_eq(rec.text, "NET: Registered PF_INET6 protocol family");
	ck_assert_uint_eq(rec.text_len, strlen(rec.text));
	ck_assert_uint_eq(rec.ndict, 0);

	/* PRI is facility << 3 | level: 30 is daemon.info, 12 user.warning. */
	parse_ok("30,1,2,-;systemd[1]: Started foo.\n");
	ck_assert_uint_eq(rec.facility, 3);
	ck_assert_uint_eq(rec.level, 6);
	parse_ok("12,1,2,-;hotsoak: marker\n");
	ck_assert_uint_eq(rec.facility, 1);
	ck_assert_uint_eq(rec.level, 4);
	parse_ok("0,18446744073709551615,0,-;last seq\n");
	ck_assert_uint_eq(rec.seq, UINT64_MAX);
	ck_assert_uint_eq(rec.level, 0);

	/* Newer fields before ';', continuation flags, no final newline. */
	parse_ok("4,12,34,-,caller=T123;with caller\n");
	ck_assert_str_eq(rec.text, "with caller");
	parse_ok("4,13,35,c;fragment");
	ck_assert_int_eq(rec.flags, 'c');
	ck_assert_str_eq(rec.text, "fragment");
	parse_ok("4,14,36,-;\n");
	ck_assert_str_eq(rec.text, "");
}
END_TEST

START_TEST(record_dict)
{
	parse_ok("6,340,5140901,-;virtio_blk virtio2: [vdb] 2097152 512-byte logical blocks\n"
	    " SUBSYSTEM=virtio\n DEVICE=+virtio:virtio2\n");
	ck_assert_str_eq(rec.text, "virtio_blk virtio2: [vdb] 2097152 512-byte logical blocks");
	ck_assert_uint_eq(rec.ndict, 2);
	ck_assert_str_eq(kmsg_record_dict(&rec, "SUBSYSTEM"), "virtio");
	ck_assert_str_eq(kmsg_record_dict(&rec, "DEVICE"), "+virtio:virtio2");
	ck_assert_ptr_null(kmsg_record_dict(&rec, "SUBSYS"));
	ck_assert_ptr_null(kmsg_record_dict(&rec, "virtio"));

	/* Dictionary values are escaped like the text. */
	parse_ok("3,341,5140902,-;x\n KEY=a\\x3db\\x0ac\n");
	ck_assert_str_eq(kmsg_record_dict(&rec, "KEY"), "a=b?c");
	ck_assert(!rec.truncated);
}
END_TEST

START_TEST(record_unescape)
{
	/* The kernel escapes the backslash, controls and every byte >= 0x7f. */
	parse_ok("4,1,1,-;caf\\xc3\\xa9 \\x5c path \\x1b[31mred\\x7f\n");
	ck_assert_str_eq(rec.text, "caf\xc3\xa9 \\ path ?[31mred?");
	/* A message with an embedded newline stays one record of two lines. */
	parse_ok("4,2,1,-;first\\x0asecond\n");
	ck_assert_str_eq(rec.text, "first\nsecond");
	/* Tabs stay (RCU stall lines indent with them). */
	parse_ok("3,3,1,-;rcu: \\x092-...!: (1 GPs behind)\n");
	ck_assert_str_eq(rec.text, "rcu: \t2-...!: (1 GPs behind)");
	/* Not valid UTF-8, NUL, and escapes that are not escapes. */
	parse_ok("4,4,1,-;bad \\xff\\xc3( nul\\x00 \\xZZ \\x4 \\x\n");
	ck_assert_str_eq(rec.text, "bad ?" "?( nul? \\xZZ \\x4 \\x");
	ck_assert_uint_eq(rec.text_len, strlen(rec.text));
	/* An overlong encoding and a surrogate are refused too. */
	parse_ok("4,5,1,-;\\xc0\\xaf \\xed\\xa0\\x80 \\xf0\\x9f\\x92\\xa5\n");
	ck_assert_str_eq(rec.text, "?? ??? \xf0\x9f\x92\xa5");
}
END_TEST

START_TEST(record_malformed)
{
	static const char *const bad[] = {
		"",
		"\n",
		"NET: Registered PF_INET6 protocol family\n",
		"6,339,5140900;no flags\n",
		"6,339,5140900,;empty flags\n",
		"6,x,5140900,-;seq not a number\n",
		"6,,5140900,-;empty seq\n",
		",1,2,-;empty pri\n",
		"6,1,2,-no semicolon\n",
		"6,1,2,-\n;semicolon on the next line\n",
		"99999999999999999999,1,2,-;pri overflow\n",
		"6,1,99999999999999999999,-;ts overflow\n",
		"4294967296,1,2,-;pri beyond 32 bits\n",
		"6,1,2,-;dict line without its space\nSUBSYSTEM=virtio\n",
		"6,1,2,-;dict line without =\n SUBSYSTEM\n",
		"6,1,2,-;dict line with empty key\n =virtio\n",
	};
	size_t	i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(kmsg_parse_record(bad[i], strlen(bad[i]), &rec) == -1,
		    "accepted `%s`", bad[i]);
	/* Only len bytes count: the text after them is not read. */
	ck_assert_int_eq(kmsg_parse_record("6,1,2,-;abcdef", 11, &rec), 0);
	ck_assert_str_eq(rec.text, "abc");
	ck_assert_int_eq(kmsg_parse_record("6,1,2,-;abc", 5, &rec), -1);
}
END_TEST

/* ---- Rules, one real-looking report each ---- */

struct rule_case {
	const char		*what;
	const char *const	*lines;
	enum kmsg_kind		 kind;
	const char		*rule;
	const char		*title;
	size_t			 first;		/* index of the event's first line */
	size_t			 nlines;
	const char		*last;		/* the event's last line */
	bool			 panicked;
};

static const struct rule_case rule_cases[] = {
	{ "NULL dereference, then panic", oops_null_panic, KMSG_BUGCHECK, "bug",
	    "BUG: kernel NULL pointer dereference in virtblk_update_capacity",
	    0, 37 + 3, "---[ end Kernel panic - not syncing: Fatal exception ]---", true },
	{ "page fault Oops, task killed", oops_page_fault, KMSG_BUGCHECK, "bug",
	    "BUG: unable to handle page fault in memcpy_erms",
	    0, 33, "---[ end trace 0000000000000000 ]---", false },
	{ "general protection fault", gpf, KMSG_BUGCHECK, "gpf",
	    "general protection fault in __list_del_entry_valid",
	    0, 16, "---[ end trace 0000000000000000 ]---", false },
	{ "kernel BUG at", kernel_bug, KMSG_BUGCHECK, "kernel-bug",
	    "kernel BUG at mm/memory_hotplug.c:1734",
	    1, 18, "---[ end trace 0000000000000000 ]---", false },
	{ "arm64 NULL dereference", arm64_oops, KMSG_BUGCHECK, "unable-to-handle",
	    "Unable to handle kernel NULL pointer dereference in virtblk_update_capacity",
	    0, 31, "---[ end trace 0000000000000000 ]---", false },
	{ "WARNING", warning, KMSG_WARNING, "warning",
	    "WARNING at __blk_mq_run_hw_queue",
	    1, 21, "---[ end trace 0000000000000000 ]---", false },
	{ "soft lockup, then panic", soft_lockup_panic, KMSG_BUGCHECK, "soft-lockup",
	    "soft lockup in native_queued_spin_lock_slowpath",
	    0, 20 + 19, "---[ end Kernel panic - not syncing: softlockup: hung tasks ]---",
	    true },
	{ "hard LOCKUP", hard_lockup, KMSG_BUGCHECK, "hard-lockup",
	    "hard LOCKUP in native_queued_spin_lock_slowpath",
	    0, 20, " </TASK>", false },
	{ "RCU stall", rcu_stall, KMSG_WARNING, "rcu-stall",
	    "RCU stall (rcu_preempt)",
	    0, 19, "rcu: RCU grace-period kthread stack dump:", false },
	{ "I/O error storm", io_storm, KMSG_WARNING, "io-error",
	    "I/O error on vda (WRITE)",
	    0, 5, "EXT4-fs error (device vda1) in ext4_reserve_inode_write:5780: "
	    "Journal has aborted", false },
	{ "panic alone", root_panic, KMSG_BUGCHECK, "panic",
	    "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
	    0, 16, "---[ end Kernel panic - not syncing: VFS: Unable to mount root "
	    "fs on unknown-block(0,0) ]---", true },
};

START_TEST(rule_report)
{
	const struct rule_case	*rc = &rule_cases[_i];
	const struct kmsg_event	*ev;
	struct got		 g;

	classify(rc->lines, &g);
	ck_assert_msg(g.n == 1, "%s: %zu events", rc->what, g.n);
	ev = &g.ev[0];
	ck_assert_msg(ev->kind == rc->kind, "%s: kind %s", rc->what,
	    kmsg_kind_names[ev->kind]);
	ck_assert_str_eq(ev->rule, rc->rule);
	ck_assert_str_eq(ev->title, rc->title);
	ck_assert_msg(ev->nlines == rc->nlines, "%s: %zu lines, want %zu:\n%s",
	    rc->what, ev->nlines, rc->nlines, ev->text);
	ck_assert_str_eq(ev_line(ev, 0), rc->lines[rc->first]);
	ck_assert_str_eq(ev_line(ev, ev->nlines - 1), rc->last);
	ck_assert_uint_eq(count_str(ev->text, "\n"), ev->nlines);
	ck_assert_int_eq(ev->panicked, rc->panicked);
	ck_assert_msg(!ev->truncated, "%s: truncated", rc->what);
	ck_assert_uint_eq(ev->ts_usec, 5000000 + rc->first);
	ck_assert_uint_eq(ev->seq, 100 + rc->first);
	got_free(&g);
}
END_TEST

START_TEST(rule_context)
{
	struct got	g;

	/* An Oops runs past its call trace's </TASK> to the end marker. */
	classify(oops_page_fault, &g);
	ck_assert(strstr(g.ev[0].text, "Modules linked in:") != NULL);
	ck_assert(strstr(g.ev[0].text, "CR2: ffffd2c0c4a5e008\n---[ end") != NULL);
	/* The summary after the marker repeats the registers: not kept, nor what follows. */
	ck_assert_uint_eq(count_str(g.ev[0].text, "RIP: 0010:"), 1);
	ck_assert(strstr(g.ev[0].text, "renamed from eth0") == NULL);
	got_free(&g);

	/* A panic that follows joins its report; the register summary does not. */
	classify(oops_null_panic, &g);
	ck_assert_uint_eq(count_str(g.ev[0].text, "RIP: 0010:"), 1);
	ck_assert(strstr(g.ev[0].text, "]---\nKernel panic - not syncing: Fatal exception\n")
	    != NULL);
	ck_assert(strstr(g.ev[0].text, "Oops: 0000 [#1]") != NULL);
	got_free(&g);

	/* The WARNING ends at its marker; the next line is someone else's. */
	classify(warning, &g);
	ck_assert(strstr(g.ev[0].text, "cut here") == NULL);
	ck_assert(strstr(g.ev[0].text, "new size") == NULL);
	got_free(&g);

	/* Hung tasks end at </TASK>: two tasks, two events. */
	classify(hung_tasks, &g);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_str_eq(g.ev[0].title, "hung task: kworker");
	ck_assert_uint_eq(g.ev[0].nlines, 28);
	ck_assert_str_eq(ev_line(&g.ev[0], 27), " </TASK>");
	ck_assert_int_eq(g.ev[0].kind, KMSG_WARNING);
	ck_assert_str_eq(g.ev[1].title, "hung task: fio");
	ck_assert_uint_eq(g.ev[1].nlines, 17);
	ck_assert_uint_eq(g.ev[1].seq, 128);
	ck_assert(!g.ev[0].truncated && !g.ev[1].truncated);
	got_free(&g);

	/* The soft lockup alone is a warning and ends at </TASK>. */
	{
		const char	*lines[24];
		size_t		 i;

		for (i = 0; i < 20; i++)
			lines[i] = soft_lockup_panic[i];
		lines[20] = "virtio_net virtio1 enp1s0: link up";
		lines[21] = NULL;
		classify(lines, &g);
		ck_assert_uint_eq(g.n, 1);
		ck_assert_int_eq(g.ev[0].kind, KMSG_WARNING);
		ck_assert_uint_eq(g.ev[0].nlines, 20);
		ck_assert(!g.ev[0].panicked && !g.ev[0].truncated);
		got_free(&g);
	}
}
END_TEST

START_TEST(rule_harmless)
{
	struct got	g;

	classify(harmless, &g);
	ck_assert_uint_eq(g.n, 0);
}
END_TEST

/* One line each: the rule it fires, its kind and title. */
static const struct {
	const char	*line;
	enum kmsg_kind	 kind;
	const char	*rule;
	const char	*title;
} title_cases[] = {
	{ "Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b",
	    KMSG_BUGCHECK, "panic",
	    "Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b" },
	{ "Kernel panic - not syncing: stack-protector: Kernel stack is corrupted "
	    "in: blk_mq_dispatch_rq_list+0x7f0/0x800",
	    KMSG_BUGCHECK, "panic",
	    "Kernel panic - not syncing: stack-protector: Kernel stack is corrupted "
	    "in: blk_mq_dispatch_rq_list" },
	{ "BUG: KASAN: slab-use-after-free in blk_mq_free_request+0x1c/0x90",
	    KMSG_BUGCHECK, "bug", "BUG: KASAN: slab-use-after-free in blk_mq_free_request" },
	{ "BUG: Bad page state in process fio  pfn:1a2b3c",
	    KMSG_BUGCHECK, "bug", "BUG: Bad page state in process fio" },
	{ "BUG: Bad rss-counter state mm:00000000a1b2c3d4 type:MM_ANONPAGES val:1",
	    KMSG_BUGCHECK, "bug", "BUG: Bad rss-counter state mm:? type:MM_ANONPAGES val:1" },
	{ "BUG: unable to handle kernel paging request at ffffc90000a3c000",
	    KMSG_BUGCHECK, "bug", "BUG: unable to handle kernel paging request" },
	{ "BUG: unable to handle kernel NULL pointer dereference at 0000000000000008",
	    KMSG_BUGCHECK, "bug", "BUG: unable to handle kernel NULL pointer dereference" },
	{ "BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580",
	    KMSG_WARNING, "sleep-in-atomic",
	    "BUG: sleeping function called from invalid context" },
	{ "BUG: scheduling while atomic: fio/2231/0x00000002",
	    KMSG_WARNING, "schedule-in-atomic", "BUG: scheduling while atomic" },
	{ "BUG: workqueue lockup - pool cpus=1 node=0 flags=0x0 nice=0 stuck for 33s!",
	    KMSG_WARNING, "workqueue-lockup", "BUG: workqueue lockup" },
	{ "Oops: 0000 [#1] PREEMPT SMP NOPTI", KMSG_BUGCHECK, "oops", "Oops" },
	{ "Internal error: Oops - BUG: 00000000f2000800 [#1] PREEMPT SMP",
	    KMSG_BUGCHECK, "oops", "Oops" },
	{ "Oops - BUG: 0 [#1] SMP ARM", KMSG_BUGCHECK, "oops", "Oops" },
	{ "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI", KMSG_BUGCHECK,
	    "invalid-opcode", "invalid opcode" },
	{ "general protection fault: 0000 [#1] SMP", KMSG_BUGCHECK, "gpf",
	    "general protection fault" },
	{ "Unable to handle kernel paging request at virtual address ffff800009a3c000",
	    KMSG_BUGCHECK, "unable-to-handle", "Unable to handle kernel paging request" },
	{ "WARNING: CPU: 1 PID: 0 at kernel/time/timer.c:1738 __run_timers+0x1f0/0x260",
	    KMSG_WARNING, "warning", "WARNING at __run_timers" },
	{ "WARNING: CPU: 3 PID: 17 at __blk_mq_run_hw_queue+0xa0/0xb0",
	    KMSG_WARNING, "warning", "WARNING at __blk_mq_run_hw_queue" },
	{ "WARNING: possible circular locking dependency detected",
	    KMSG_WARNING, "warning", "WARNING: possible circular locking dependency detected" },
	{ "INFO: task jbd2/vda1-8:251 blocked for more than 241 seconds.",
	    KMSG_WARNING, "hung-task", "hung task: jbd2/vda1-8" },
	{ "INFO: task kworker/u16:5:2231 blocked for more than 120 seconds.",
	    KMSG_WARNING, "hung-task", "hung task: kworker" },
	{ "rcu: INFO: rcu_sched self-detected stall on CPU",
	    KMSG_WARNING, "rcu-stall", "RCU stall (rcu_sched)" },
	{ "INFO: rcu_sched detected stalls on CPUs/tasks:",
	    KMSG_WARNING, "rcu-stall", "RCU stall (rcu_sched)" },
	{ "rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 3-... } 21002 jiffies s: 1234 root: 0x8/.",
	    KMSG_WARNING, "rcu-stall", "RCU expedited stall (rcu_preempt)" },
	{ "UBSAN: array-index-out-of-bounds in drivers/block/virtio_blk.c:812:23",
	    KMSG_WARNING, "ubsan",
	    "UBSAN: array-index-out-of-bounds in drivers/block/virtio_blk.c:812:23" },
	{ "blk_update_request: I/O error, dev vda, sector 8 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0",
	    KMSG_WARNING, "io-error", "I/O error on vda (READ)" },
	{ "critical medium error, dev sdb, sector 1234 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 2",
	    KMSG_WARNING, "io-error", "critical medium error on sdb (READ)" },
	{ "timeout error, dev vdb, sector 2048 op 0x1:(WRITE) flags 0x8800 phys_seg 32 prio class 2",
	    KMSG_WARNING, "io-error", "timeout error on vdb (WRITE)" },
	{ "Buffer I/O error on dev vdb, logical block 0, async page read",
	    KMSG_WARNING, "io-error", "Buffer I/O error on vdb: async page read" },
	{ "EXT4-fs error (device vda1): ext4_find_entry:1663: inode #2: comm ls: reading directory lblock 0",
	    KMSG_WARNING, "fs-error", "EXT4-fs error (vda1) in ext4_find_entry" },
};

START_TEST(rule_titles)
{
	const char	*lines[2] = { title_cases[_i].line, NULL };
	struct got	 g;

	classify(lines, &g);
	ck_assert_msg(g.n == 1, "`%s`: %zu events", lines[0], g.n);
	ck_assert_str_eq(g.ev[0].rule, title_cases[_i].rule);
	ck_assert_str_eq(g.ev[0].title, title_cases[_i].title);
	ck_assert_int_eq(g.ev[0].kind, title_cases[_i].kind);
	ck_assert_uint_eq(g.ev[0].nlines, 1);
	ck_assert_uint_lt(strlen(g.ev[0].title), KMSG_TITLE_MAX);
	got_free(&g);
}
END_TEST

static void
same_title(const char *const *a, const char *const *b)
{
	struct got	ga, gb;

	classify(a, &ga);
	classify(b, &gb);
	ck_assert_uint_ge(ga.n, 1);
	ck_assert_uint_ge(gb.n, 1);
	ck_assert_str_eq(ga.ev[0].title, gb.ev[0].title);
	got_free(&ga);
	got_free(&gb);
}

START_TEST(titles_stable)
{
	static const char *const io_a[] = {
		"I/O error, dev vda, sector 4196352 op 0x1:(WRITE) flags 0x8800 phys_seg 1 prio class 2", NULL };
	static const char *const io_b[] = {
		"I/O error, dev vda, sector 77 op 0x1:(WRITE) flags 0x0 phys_seg 4 prio class 0", NULL };
	static const char *const buf_a[] = {
		"Buffer I/O error on dev vda1, logical block 524288, lost async page write", NULL };
	static const char *const buf_b[] = {
		"Buffer I/O error on dev vda1, logical block 17, lost async page write", NULL };
	static const char *const page_a[] = {
		"BUG: Bad page state in process fio  pfn:1a2b3c", NULL };
	static const char *const page_b[] = {
		"BUG: Bad page state in process fio  pfn:00042", NULL };
	static const char *const kasan_a[] = {
		"BUG: KASAN: slab-use-after-free in blk_mq_free_request+0x1c/0x90", NULL };
	static const char *const kasan_b[] = {
		"BUG: KASAN: slab-use-after-free in blk_mq_free_request+0x20/0x94", NULL };
	static const char *const hung_a[] = {
		"INFO: task kworker/u8:2:114 blocked for more than 120 seconds.", NULL };
	static const char *const hung_b[] = {
		"INFO: task kworker/3:0:9912 blocked for more than 362 seconds.", NULL };
	static const char *const pf_a[] = {
		"BUG: unable to handle page fault for address: ffffd2c0c4a5e008", NULL };
	static const char *const pf_b[] = {
		"BUG: unable to handle page fault for address: ffffa000deadbeef", NULL };
	static const char *const rss_a[] = {
		"BUG: Bad rss-counter state mm:00000000a1b2c3d4 type:MM_ANONPAGES val:1", NULL };
	static const char *const rss_b[] = {
		"BUG: Bad rss-counter state mm:000000005e6f7a8b type:MM_ANONPAGES val:1", NULL };

	same_title(oops_null_panic, oops_null_again);
	same_title(warning, warning_again);
	same_title(soft_lockup_panic, soft_lockup_again);
	same_title(io_a, io_b);
	same_title(buf_a, buf_b);
	same_title(page_a, page_b);
	same_title(kasan_a, kasan_b);
	same_title(hung_a, hung_b);
	same_title(pf_a, pf_b);
	same_title(rss_a, rss_b);
}
END_TEST

START_TEST(report_preempted)
{
	static const char *const lines[] = {
		"WARNING: CPU: 5 PID: 342 at block/blk-mq.c:2142 __blk_mq_run_hw_queue+0xa0/0xb0",
		"Modules linked in: virtio_blk",
		"BUG: kernel NULL pointer dereference, address: 0000000000000000",
		"Oops: 0000 [#1] PREEMPT SMP NOPTI",
		"---[ end trace 0000000000000000 ]---",
		NULL
	};
	struct got	g;

	classify(lines, &g);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_int_eq(g.ev[0].kind, KMSG_WARNING);
	ck_assert_uint_eq(g.ev[0].nlines, 2);
	ck_assert(g.ev[0].truncated);	/* its end marker never came */
	ck_assert_int_eq(g.ev[1].kind, KMSG_BUGCHECK);
	ck_assert_str_eq(g.ev[1].title, "BUG: kernel NULL pointer dereference");
	ck_assert_uint_eq(g.ev[1].nlines, 3);
	got_free(&g);
}
END_TEST

START_TEST(report_limits)
{
	struct kmsg_classifier	*c = kmsg_classifier_new();
	struct kmsg_event	 ev;
	char			 line[64];
	int			 i, got = 0;

	/* A report without its end marker stops at KMSG_REPORT_LINES... */
	ck_assert_int_eq(kmsg_classifier_feed(c, warning[1], strlen(warning[1]),
	    1000, 1, &ev), 0);
	for (i = 1; i < KMSG_REPORT_LINES + KMSG_TAIL_LINES; i++) {
		snprintf(line, sizeof line, " frame_%d+0x10/0x20", i);
		got = kmsg_classifier_feed(c, line, strlen(line), 1000, 1, &ev);
		if (got)
			break;
	}
	/* ...then waits out the tail for a panic, and gives up. */
	ck_assert_int_eq(got, 1);
	ck_assert_int_eq(i, KMSG_REPORT_LINES + KMSG_TAIL_LINES - 1);
	ck_assert_uint_eq(ev.nlines, KMSG_REPORT_LINES);
	ck_assert(ev.truncated);
	ck_assert(!kmsg_classifier_pending(c));
	kmsg_event_clear(&ev);

	/* A report older than KMSG_WINDOW_USEC of kernel time is cut there. */
	kmsg_classifier_feed(c, warning[1], strlen(warning[1]), 10000000, 2, &ev);
	kmsg_classifier_feed(c, warning[2], strlen(warning[2]), 10000000 +
	    KMSG_WINDOW_USEC, 3, &ev);
	ck_assert_int_eq(kmsg_classifier_feed(c, warning[3], strlen(warning[3]),
	    10000000 + KMSG_WINDOW_USEC + 1, 4, &ev), 0);
	ck_assert_int_eq(kmsg_classifier_flush(c, &ev), 1);
	ck_assert_uint_eq(ev.nlines, 2);
	ck_assert(ev.truncated);
	kmsg_event_clear(&ev);

	/* A storm is cut into events of KMSG_REPORT_LINES lines. */
	for (i = 0, got = 0; i < KMSG_REPORT_LINES + 5; i++) {
		snprintf(line, sizeof line, "I/O error, dev vdb, sector %d op 0x0:(READ)", i);
		if (kmsg_classifier_feed(c, line, strlen(line), 20000000, (uint64_t)i,
		    &ev)) {
			ck_assert_int_eq(i, KMSG_REPORT_LINES - 1);
			ck_assert_uint_eq(ev.nlines, KMSG_REPORT_LINES);
			kmsg_event_clear(&ev);
			got++;
		}
	}
	ck_assert_int_eq(got, 1);
	ck_assert_int_eq(kmsg_classifier_flush(c, &ev), 1);
	ck_assert_uint_eq(ev.nlines, 5);
	ck_assert_uint_eq(ev.seq, KMSG_REPORT_LINES);
	kmsg_event_clear(&ev);

	/* A line longer than KMSG_LINE_MAX is cut, and the event says so. */
	{
		char	long_line[3 * KMSG_LINE_MAX];

		memset(long_line, 'x', sizeof long_line);
		memcpy(long_line, "BUG: ", 5);
		kmsg_classifier_feed(c, long_line, sizeof long_line, 1, 1, &ev);
		ck_assert_int_eq(kmsg_classifier_flush(c, &ev), 1);
		ck_assert(ev.truncated);
		ck_assert_uint_eq(strlen(ev.text), KMSG_LINE_MAX);	/* 1023 + \n */
		ck_assert_uint_lt(strlen(ev.title), KMSG_TITLE_MAX);
		kmsg_event_clear(&ev);
	}
	kmsg_classifier_free(c);
	kmsg_classifier_free(NULL);
	kmsg_event_clear(NULL);
}
END_TEST

START_TEST(console_lines)
{
	static const char *const lines[] = {
		"[  OK  ] Started hotsoak-agent.service - hotsoak agent.\r\n",
		"[   12.345678] WARNING: CPU: 5 PID: 342 at block/blk-mq.c:2142 __blk_mq_run_hw_queue+0xa0/0xb0\r\n",
		"[   12.345690][  T342] Modules linked in: virtio_blk\r\n",
		"<4>[   12.400000] RIP: 0010:__blk_mq_run_hw_queue+0xa0/0xb0\r\n",
		"[   15.000000] Call Trace:\r\n",		/* past the window */
		"[   15.000001] BUG: kernel NULL pointer dereference, address: 0000000000000000\n",
		"[   15.000002] Oops: 0000 [#1] PREEMPT SMP NOPTI",
		NULL
	};
	struct got	g;

	classify(lines, &g);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_str_eq(g.ev[0].title, "WARNING at __blk_mq_run_hw_queue");
	ck_assert_uint_eq(g.ev[0].ts_usec, 5000001);	/* the caller's time wins */
	ck_assert_uint_eq(g.ev[0].nlines, 4);	/* and keeps "Call Trace:" in the window */
	ck_assert_str_eq(ev_line(&g.ev[0], 1), "Modules linked in: virtio_blk");
	ck_assert_str_eq(ev_line(&g.ev[0], 2), "RIP: 0010:__blk_mq_run_hw_queue+0xa0/0xb0");
	got_free(&g);

	/* Without the caller's time, the prefixes give it. */
	{
		struct kmsg_classifier	*c = kmsg_classifier_new();

		g.n = 0;
		feed(c, lines, KMSG_TS_NONE, &g);
		flush(c, &g);
		ck_assert_uint_eq(g.n, 2);
		ck_assert_uint_eq(g.ev[0].ts_usec, 12345678);
		ck_assert_uint_eq(g.ev[0].nlines, 3);	/* 15.0 is past 12.3 + 2 s */
		ck_assert(g.ev[0].truncated);
		ck_assert_uint_eq(g.ev[1].ts_usec, 15000001);
		ck_assert_str_eq(g.ev[1].title, "BUG: kernel NULL pointer dereference");
		got_free(&g);
		kmsg_classifier_free(c);
	}
}
END_TEST

/* ---- The watch ---- */

static char	tmpdir[] = "/tmp/check-kmsg.XXXXXX";
static char	path[256];

static void
tmp_setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
tmp_teardown(void)
{
	char	cmd[300];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

/* Appends one record as /dev/kmsg prints it, escaping as the kernel does. */
static void
put_record(FILE *f, unsigned pri, uint64_t seq, uint64_t ts, const char *text)
{
	const unsigned char	*s;

	fprintf(f, "%u,%llu,%llu,-;", pri, (unsigned long long)seq,
	    (unsigned long long)ts);
	for (s = (const unsigned char *)text; *s != '\0'; s++) {
		if (*s < ' ' || *s >= 127 || *s == '\\')
			fprintf(f, "\\x%02x", *s);
		else
			fputc(*s, f);
	}
	fputc('\n', f);
}

static uint64_t	seqno;

static void
put_lines(FILE *f, const char *const *lines)
{
	size_t	i;

	for (i = 0; lines[i] != NULL; i++, seqno++)
		put_record(f, 4, seqno, 1000000 + seqno, lines[i]);
}

/* Reads until the watch ends or drains, collecting events. */
static enum kmsg_status
drain(struct kmsg_watch *w, struct got *g, size_t max)
{
	enum kmsg_status	 st;
	size_t			 n;
	char			*cause = NULL;

	do {
		ck_assert_uint_le(g->n + max, MAX_GOT);
		st = kmsg_read(w, &g->ev[g->n], max, &n, &cause);
		ck_assert_msg(st != KMSG_ERROR, "kmsg_read: %s", cause);
		ck_assert_uint_le(n, max);
		g->n += n;
	} while (st == KMSG_FULL);
	return st;
}

START_TEST(watch_file)
{
	struct kmsg_watch	*w;
	struct kmsg_stats	 st;
	struct got		 g = { .n = 0 };
	FILE			*f;
	char			*cause = NULL;

	snprintf(path, sizeof path, "%s/kmsg", tmpdir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	seqno = 1;
	put_record(f, 6, seqno++, 10, "Linux version 6.1.0-18-amd64");
	fputs("6,2,11,-;virtio_blk virtio2: [vdb] 2097152 512-byte logical blocks\n"
	    " SUBSYSTEM=virtio\n DEVICE=+virtio:virtio2\n", f);
	seqno++;
	fputs("garbage that is not a record\n", f);
	/* User space may write anything to /dev/kmsg; it is not the kernel's. */
	put_record(f, 12, seqno++, 12, "BUG: kernel NULL pointer dereference, address: 0");
	put_lines(f, warning);
	put_lines(f, oops_null_panic);
	put_record(f, 6, seqno++, 2000000, "caf\xc3\xa9 \\ done");
	ck_assert_int_eq(fclose(f), 0);

	ck_assert_ptr_nonnull(w = kmsg_open(path, true, &cause));
	ck_assert_int_ge(kmsg_fd(w), 0);
	ck_assert_int_eq(drain(w, &g, 4), KMSG_EOF);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_str_eq(g.ev[0].title, "WARNING at __blk_mq_run_hw_queue");
	ck_assert_uint_eq(g.ev[0].nlines, 21);
	ck_assert_uint_eq(g.ev[0].seq, 5);
	ck_assert_str_eq(g.ev[1].title,
	    "BUG: kernel NULL pointer dereference in virtblk_update_capacity");
	ck_assert(g.ev[1].panicked);
	ck_assert_uint_eq(g.ev[1].nlines, 40);
	kmsg_stats(w, &st);
	ck_assert_uint_eq(st.records, seqno - 1);
	ck_assert_uint_eq(st.malformed, 1);
	ck_assert_uint_eq(st.user, 1);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert_uint_eq(st.events, 2);
	/* Ended stays ended. */
	ck_assert_int_eq(drain(w, &g, 4), KMSG_EOF);
	ck_assert_uint_eq(g.n, 2);
	kmsg_close(w);
	got_free(&g);

	/* Without from_start, what is in the file already is history. */
	ck_assert_ptr_nonnull(w = kmsg_open(path, false, &cause));
	ck_assert_ptr_nonnull(f = fopen(path, "a"));
	put_lines(f, gpf);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(drain(w, &g, 1), KMSG_EOF);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_str_eq(g.ev[0].title, "general protection fault in __list_del_entry_valid");
	kmsg_stats(w, &st);
	ck_assert_uint_eq(st.records, 16);
	kmsg_close(w);
	got_free(&g);

	ck_assert_ptr_null(kmsg_open("/nonexistent/kmsg", true, &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert(strstr(cause, "/nonexistent/kmsg") != NULL);
	free(cause);
	kmsg_close(NULL);
}
END_TEST

START_TEST(watch_max)
{
	struct kmsg_watch	*w;
	struct got		 g = { .n = 0 };
	FILE			*f;
	char			*cause = NULL;
	enum kmsg_status	 st;
	size_t			 n, calls = 0;

	snprintf(path, sizeof path, "%s/kmsg", tmpdir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	seqno = 1;
	put_lines(f, hung_tasks);
	put_lines(f, gpf);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_ptr_nonnull(w = kmsg_open(path, true, &cause));
	do {
		st = kmsg_read(w, &g.ev[g.n], 1, &n, &cause);
		g.n += n;
		calls++;
	} while (st == KMSG_FULL);
	ck_assert_int_eq(st, KMSG_EOF);
	ck_assert_uint_eq(g.n, 3);
	ck_assert_uint_ge(calls, 3);
	ck_assert_str_eq(g.ev[0].title, "hung task: kworker");
	ck_assert_str_eq(g.ev[1].title, "hung task: fio");
	ck_assert_str_eq(g.ev[2].title, "general protection fault in __list_del_entry_valid");
	kmsg_close(w);
	got_free(&g);
}
END_TEST

START_TEST(watch_fifo)
{
	struct kmsg_watch	*w;
	struct got		 g = { .n = 0 };
	FILE			*f;
	char			*cause = NULL;
	const char		*half = "4,1,1000,-;WARNING: CPU: 5 PID: 342 at block/bl";
	int			 wfd;

	snprintf(path, sizeof path, "%s/fifo", tmpdir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_ptr_nonnull(w = kmsg_open(path, false, &cause));
	ck_assert_int_ge(wfd = open(path, O_WRONLY), 0);

	/* Half a record: nothing yet, and no report open. */
	ck_assert_int_eq(write(wfd, half, strlen(half)), (ssize_t)strlen(half));
	ck_assert_int_eq(drain(w, &g, 4), KMSG_DRAINED);
	ck_assert_uint_eq(g.n, 0);
	ck_assert_int_eq(kmsg_timeout_ms(w), -1);

	/* The rest of the report: it waits for a panic that may follow... */
	ck_assert_ptr_nonnull(f = fdopen(dup(wfd), "w"));
	fputs("k-mq.c:2142 __blk_mq_run_hw_queue+0xa0/0xb0\n", f);
	seqno = 2;
	put_lines(f, warning + 2);
	ck_assert_int_eq(fflush(f), 0);
	ck_assert_int_eq(drain(w, &g, 4), KMSG_DRAINED);
	ck_assert_uint_eq(g.n, 0);
	ck_assert_int_gt(kmsg_timeout_ms(w), 0);
	ck_assert_int_le(kmsg_timeout_ms(w), KMSG_IDLE_MS);

	/* ...until the log has been quiet long enough. */
	kmsg_set_idle(w, 50);
	usleep(80 * 1000);
	ck_assert_int_eq(kmsg_timeout_ms(w), 0);
	ck_assert_int_eq(drain(w, &g, 4), KMSG_DRAINED);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_str_eq(g.ev[0].title, "WARNING at __blk_mq_run_hw_queue");
	ck_assert_uint_eq(g.ev[0].nlines, 21);
	ck_assert(!g.ev[0].truncated);
	ck_assert_int_eq(kmsg_timeout_ms(w), -1);

	/* A panic's end marker closes it at once; the last record is not held back. */
	put_lines(f, root_panic);
	ck_assert_int_eq(fflush(f), 0);
	ck_assert_int_eq(drain(w, &g, 4), KMSG_DRAINED);
	ck_assert_uint_eq(g.n, 2);
	ck_assert(g.ev[1].panicked);
	ck_assert_uint_eq(g.ev[1].nlines, 16);

	/* The writer going away ends the watch. */
	fclose(f);
	close(wfd);
	ck_assert_int_eq(drain(w, &g, 4), KMSG_EOF);
	ck_assert_uint_eq(g.n, 2);
	kmsg_close(w);
	got_free(&g);
}
END_TEST

/* A scripted /dev/kmsg: each step a record or an errno. */
struct script {
	const char	*rec[16];
	int		 err[16];
	size_t		 at, n;
};

static ssize_t
script_read(void *arg, void *buf, size_t len)
{
	struct script	*s = arg;
	size_t		 i, n;

	if (s->at == s->n) {
		errno = EAGAIN;
		return -1;
	}
	i = s->at++;
	if (s->err[i] != 0) {
		errno = s->err[i];
		return -1;
	}
	n = strlen(s->rec[i]);
	ck_assert_uint_le(n, len);
	memcpy(buf, s->rec[i], n);
	return (ssize_t)n;
}

static void
script_add(struct script *s, const char *text, int err)
{
	s->rec[s->n] = text;
	s->err[s->n++] = err;
}

START_TEST(watch_epipe)
{
	struct kmsg_watch	*w;
	struct kmsg_stats	 st;
	struct script		 s = { .n = 0 };
	struct got		 g = { .n = 0 };
	char			*cause = NULL;
	size_t			 n;

	ck_assert_ptr_nonnull(w = kmsg_open("/dev/null", false, &cause));
	kmsg_set_reader(w, script_read, &s);
	script_add(&s, "4,10,1000,-;WARNING: CPU: 5 PID: 342 at block/blk-mq.c:2142 "
	    "__blk_mq_run_hw_queue+0xa0/0xb0\n", 0);
	script_add(&s, "4,11,1001,-;RIP: 0010:__blk_mq_run_hw_queue+0xa0/0xb0\n", 0);
	script_add(&s, NULL, EINTR);
	script_add(&s, NULL, EPIPE);	/* the ring wrapped past seq 12..19 */
	script_add(&s, "4,20,1500,-; </TASK>\n", 0);
	script_add(&s, "4,21,1501,-;---[ end trace 0000000000000000 ]---\n", 0);
	ck_assert_int_eq(drain(w, &g, 4), KMSG_DRAINED);

	/* The note comes first, before anything classified after the gap. */
	ck_assert_uint_eq(g.n, 1);
	ck_assert_int_eq(g.ev[0].kind, KMSG_LOST);
	ck_assert_uint_eq(g.ev[0].lost, 8);
	ck_assert_uint_eq(g.ev[0].seq, 20);
	ck_assert_str_eq(g.ev[0].title, "lost 8 kernel log records");
	ck_assert_ptr_null(g.ev[0].text);

	/* The report that straddled the gap comes out marked incomplete. */
	kmsg_set_idle(w, 0);
	ck_assert_int_eq(drain(w, &g, 4), KMSG_DRAINED);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_int_eq(g.ev[1].kind, KMSG_WARNING);
	ck_assert_uint_eq(g.ev[1].nlines, 4);
	ck_assert(g.ev[1].truncated);
	kmsg_stats(w, &st);
	ck_assert_uint_eq(st.overruns, 1);
	ck_assert_uint_eq(st.lost, 8);
	ck_assert_uint_eq(st.records, 4);

	/* A plain gap in sequence numbers is a loss too; backwards is not. */
	script_add(&s, "6,25,1600,-;hello\n", 0);
	script_add(&s, "6,3,1601,-;replayed\n", 0);
	script_add(&s, "6,4,1602,-;replayed\n", 0);
	ck_assert_int_eq(drain(w, &g, 4), KMSG_DRAINED);
	ck_assert_uint_eq(g.n, 3);
	ck_assert_int_eq(g.ev[2].kind, KMSG_LOST);
	ck_assert_uint_eq(g.ev[2].lost, 3);

	/* Other errors are the caller's to see. */
	script_add(&s, NULL, EIO);
	ck_assert_int_eq(kmsg_read(w, &g.ev[g.n], 4, &n, &cause), KMSG_ERROR);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	kmsg_close(w);
	got_free(&g);

	/* EPIPE before any record: lost, count unknown. */
	memset(&s, 0, sizeof s);
	ck_assert_ptr_nonnull(w = kmsg_open("/dev/null", false, &cause));
	kmsg_set_reader(w, script_read, &s);
	script_add(&s, NULL, EPIPE);
	script_add(&s, "6,500,1,-;first\n", 0);
	ck_assert_int_eq(drain(w, &g, 4), KMSG_DRAINED);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_int_eq(g.ev[0].kind, KMSG_LOST);
	ck_assert_uint_eq(g.ev[0].lost, 0);
	ck_assert_str_eq(g.ev[0].title, "lost kernel log records");
	kmsg_close(w);
	got_free(&g);
}
END_TEST

START_TEST(watch_dev_kmsg)
{
	struct kmsg_watch	*w;
	struct kmsg_stats	 st;
	struct kmsg_event	 ev[8];
	char			*cause = NULL;
	enum kmsg_status	 status;
	size_t			 n, i;
	int			 rounds = 0;

	if ((w = kmsg_open("/dev/kmsg", true, &cause)) == NULL) {
		fprintf(stderr, "check-kmsg: skipping /dev/kmsg: %s\n", cause);
		free(cause);
		return;
	}
	do {
		status = kmsg_read(w, ev, 8, &n, &cause);
		ck_assert_msg(status != KMSG_ERROR, "kmsg_read: %s", cause);
		for (i = 0; i < n; i++)
			kmsg_event_clear(&ev[i]);
	} while (status == KMSG_FULL && ++rounds < 100000);
	ck_assert_int_eq(status, KMSG_DRAINED);
	kmsg_stats(w, &st);
	ck_assert_uint_gt(st.records, 0);
	ck_assert_uint_eq(st.malformed, 0);
	kmsg_close(w);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("kmsg");
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	tc = tcase_create("record");
	tcase_add_test(tc, record_fields);
	tcase_add_test(tc, record_dict);
	tcase_add_test(tc, record_unescape);
	tcase_add_test(tc, record_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_add_loop_test(tc, rule_report, 0,
	    (int)(sizeof rule_cases / sizeof rule_cases[0]));
	tcase_add_loop_test(tc, rule_titles, 0,
	    (int)(sizeof title_cases / sizeof title_cases[0]));
	tcase_add_test(tc, rule_context);
	tcase_add_test(tc, rule_harmless);
	tcase_add_test(tc, titles_stable);
	tcase_add_test(tc, report_preempted);
	tcase_add_test(tc, report_limits);
	tcase_add_test(tc, console_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("watch");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, watch_file);
	tcase_add_test(tc, watch_max);
	tcase_add_test(tc, watch_fifo);
	tcase_add_test(tc, watch_epipe);
	tcase_add_test(tc, watch_dev_kmsg);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
