/* check-console.c: the serial-console watch on a file written in steps, with
 * real Linux 6.1 and Windows crash screens, and the Windows STOP codes. */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "console.h"
#include "stopcode.h"

#define MAX_LINES	600
#define MAX_REPORTS	16
#define MAX_PM		32
#define WAIT_MS		6000		/* the longest a test waits for the timer */

/* What the hooks were told. */
struct rec {
	char			*line[MAX_LINES];
	size_t			 nline;
	struct {
		enum kmsg_kind	 kind;
		char		 rule[32];
		char		 title[KMSG_TITLE_MAX];
		char		*text;
		size_t		 nlines;
		bool		 panicked;
		bool		 truncated;
		uint64_t	 line_no;	/* lines seen when it came */
	}			 rep[MAX_REPORTS];
	size_t			 nrep;
	struct {
		enum console_pm	 what;
		char		*line;
	}			 pm[MAX_PM];
	size_t			 npm;
	size_t			 free_at;	/* line hook frees the watch at this line */
	struct console_watch	*w;
};

static char			 dir[] = "/tmp/check-console.XXXXXX";
static char			 path[256];
static struct event_base	*base;
static struct rec		 rec;

static void
on_line(void *arg, const char *line)
{
	struct rec	*r = arg;

	ck_assert_uint_lt(r->nline, MAX_LINES);
	r->line[r->nline] = strdup(line);
	ck_assert_ptr_nonnull(r->line[r->nline]);
	r->nline++;
	if (r->free_at != 0 && r->nline == r->free_at) {
		console_watch_free(r->w);
		r->w = NULL;
	}
}

static void
on_report(void *arg, const struct kmsg_event *ev)
{
	struct rec	*r = arg;
	size_t		 i = r->nrep;

	ck_assert_uint_lt(i, MAX_REPORTS);
	r->rep[i].kind = ev->kind;
	snprintf(r->rep[i].rule, sizeof r->rep[i].rule, "%s", ev->rule);
	snprintf(r->rep[i].title, sizeof r->rep[i].title, "%s", ev->title);
	r->rep[i].text = ev->text != NULL ? strdup(ev->text) : NULL;
	r->rep[i].nlines = ev->nlines;
	r->rep[i].panicked = ev->panicked;
	r->rep[i].truncated = ev->truncated;
	r->rep[i].line_no = r->nline;
	r->nrep++;
}

static void
on_pm(void *arg, enum console_pm what, const char *line)
{
	struct rec	*r = arg;

	ck_assert_uint_lt(r->npm, MAX_PM);
	r->pm[r->npm].what = what;
	r->pm[r->npm].line = strdup(line);
	r->npm++;
}

static void
rec_clear(struct rec *r)
{
	size_t	i;

	for (i = 0; i < r->nline; i++)
		free(r->line[i]);
	for (i = 0; i < r->nrep; i++)
		free(r->rep[i].text);
	for (i = 0; i < r->npm; i++)
		free(r->pm[i].line);
	memset(r, 0, sizeof *r);
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void
setup(void)
{
	strcpy(dir, "/tmp/check-console.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/console.log", dir);
	ck_assert_ptr_nonnull(base = event_base_new());
	memset(&rec, 0, sizeof rec);
}

static void
teardown(void)
{
	rec_clear(&rec);
	event_base_free(base);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* A watch on path that records into rec. */
static struct console_watch *
watch(void)
{
	struct console_hooks	 h;
	struct console_watch	*w;
	char			*cause = NULL;

	memset(&h, 0, sizeof h);
	h.line = on_line;
	h.report = on_report;
	h.pm = on_pm;
	h.arg = &rec;
	w = console_watch_new(base, path, &h, &cause);
	ck_assert_msg(w != NULL, "console_watch_new: %s", cause);
	rec.w = w;
	return w;
}

/* Appends len bytes to the console file, as QEMU does. */
static void
put(const char *s, size_t len)
{
	int	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, s, len), (ssize_t)len);
	close(fd);
}

static void
puts_(const char *s)
{
	put(s, strlen(s));
}

/* Writes lines, each with a newline. */
static void
put_lines(const char *const *lines)
{
	size_t	i;
	char	buf[2048];

	for (i = 0; lines[i] != NULL; i++) {
		snprintf(buf, sizeof buf, "%s\n", lines[i]);
		puts_(buf);
	}
}

static void
poll_ok(struct console_watch *w, bool flush)
{
	if (flush)
		ck_assert_int_eq(console_watch_flush(w), 0);
	else
		ck_assert_int_eq(console_watch_poll(w), 0);
}

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the event loop until *count reaches want, WAIT_MS at most. */
static void
run_until(const size_t *count, size_t want)
{
	uint64_t	end = now_ms() + WAIT_MS;

	while (*count < want) {
		ck_assert_msg(now_ms() < end, "waited %d ms for %zu, have %zu",
		    WAIT_MS, want, *count);
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(5000);
	}
}

/* Runs the event loop for ms. */
static void
run_for(unsigned ms)
{
	uint64_t	end = now_ms() + ms;

	while (now_ms() < end) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(5000);
	}
}

static const char *
jarr_str(const json_t *a, size_t i)
{
	const json_t	*v = json_array_get(a, i);

	ck_assert_msg(json_is_string(v), "item %zu is not a string", i);
	return json_string_value(v);
}

/* ---- Lines ---- */

START_TEST(lines_across_writes)
{
	struct console_watch	*w = watch();
	json_t			*t;

	puts_("[    0.000000] Linux version 6.1.0-18-amd64\r\n[    0.0");
	poll_ok(w, false);
	ck_assert_uint_eq(rec.nline, 1);
	ck_assert_str_eq(rec.line[0], "[    0.000000] Linux version 6.1.0-18-amd64");
	/* The rest of the line, and one whole, in one write. */
	puts_("12345] Command line: console=ttyS0 panic=0\n[    0.013");
	poll_ok(w, false);
	ck_assert_uint_eq(rec.nline, 2);
	ck_assert_str_eq(rec.line[1],
	    "[    0.012345] Command line: console=ttyS0 panic=0");
	/* A line in three pieces. */
	puts_("000] x86/fpu:");
	poll_ok(w, false);
	puts_(" Supporting XSAVE");
	poll_ok(w, false);
	ck_assert_uint_eq(rec.nline, 2);
	puts_(" feature 0x001\r\n");
	poll_ok(w, false);
	ck_assert_uint_eq(rec.nline, 3);
	ck_assert_str_eq(rec.line[2],
	    "[    0.013000] x86/fpu: Supporting XSAVE feature 0x001");
	/* An empty line is a line. */
	puts_("\n");
	poll_ok(w, false);
	ck_assert_uint_eq(rec.nline, 4);
	ck_assert_str_eq(rec.line[3], "");
	/* The last line without its newline waits, unless flushed. */
	puts_("login: ");
	poll_ok(w, false);
	ck_assert_uint_eq(rec.nline, 4);
	poll_ok(w, true);
	ck_assert_uint_eq(rec.nline, 5);
	ck_assert_str_eq(rec.line[4], "login: ");
	ck_assert_uint_eq(console_watch_lines(w), 5);

	t = console_watch_tail(w, 2);
	ck_assert_uint_eq(json_array_size(t), 2);
	ck_assert_str_eq(jarr_str(t, 0), "");
	ck_assert_str_eq(jarr_str(t, 1), "login: ");
	json_decref(t);
	t = console_watch_tail(w, 1000);
	ck_assert_uint_eq(json_array_size(t), 5);
	json_decref(t);
	console_watch_free(w);
	console_watch_free(NULL);
}
END_TEST

START_TEST(long_lines_cut)
{
	struct console_watch	*w = watch();
	char			*big;
	size_t			 i, n = 3 * CONSOLE_LINE_MAX + 17;

	big = malloc(n + 1);
	ck_assert_ptr_nonnull(big);
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\n';
	/* Written in pieces that straddle the limit. */
	put(big, 700);
	poll_ok(w, false);
	put(big + 700, n + 1 - 700);
	puts_("after\n");
	poll_ok(w, false);
	ck_assert_uint_eq(rec.nline, 2);
	ck_assert_uint_eq(strlen(rec.line[0]), CONSOLE_LINE_MAX - 1);
	ck_assert_int_eq(strncmp(rec.line[0], big, CONSOLE_LINE_MAX - 1), 0);
	ck_assert_str_eq(rec.line[1], "after");
	free(big);
	console_watch_free(w);
}
END_TEST

START_TEST(display_safe)
{
	struct console_watch	*w = watch();
	json_t			*j;

	/* systemd's colours, a tab, a bell, bad UTF-8, a C1 control, NUL. */
	static const char raw[] = "\x1b[0;32m  OK  \x1b[0m] Started\thotsoak-agent"
	    "\a \xff\xfe ok \xc3\xa9t\xc3\xa9 \xc2\x85x\x00y\x1b]0;title\x07z\r\n";

	put(raw, sizeof raw - 1);
	poll_ok(w, false);
	ck_assert_uint_eq(rec.nline, 1);
	ck_assert_str_eq(rec.line[0],
	    "  OK  ] Started hotsoak-agent ?? ok \xc3\xa9t\xc3\xa9 xyz");
	/* jansson takes it: it refuses bad UTF-8 and returns NULL. */
	j = json_string(rec.line[0]);
	ck_assert_ptr_nonnull(j);
	json_decref(j);
	console_watch_free(w);
}
END_TEST

/* ---- Linux reports ---- */

/* Linux 6.1 on QEMU Q35, `echo c > /proc/sysrq-trigger`. */
static const char *const panic_lines[] = {
	"[   42.120001] sysrq: Trigger a crash",
	"[   42.123789] Kernel panic - not syncing: sysrq triggered crash",
	"[   42.124012] CPU: 0 PID: 1 Comm: sh Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1",
	"[   42.124345] Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
	"[   42.124678] Call Trace:",
	"[   42.124890]  <TASK>",
	"[   42.125012]  dump_stack_lvl+0x44/0x5c",
	"[   42.125234]  panic+0x118/0x2ed",
	"[   42.125456]  sysrq_handle_crash+0x16/0x20",
	"[   42.125678]  __handle_sysrq.cold+0x43/0x11b",
	"[   42.125890]  write_sysrq_trigger+0x24/0x40",
	"[   42.126012]  proc_reg_write+0x56/0xa0",
	"[   42.126234]  vfs_write+0xc7/0x400",
	"[   42.126456]  ksys_write+0x6b/0xf0",
	"[   42.126678]  do_syscall_64+0x5b/0xc0",
	"[   42.126890]  entry_SYSCALL_64_after_hwframe+0x64/0xce",
	"[   42.127012] RIP: 0033:0x7f8e1c2f1240",
	"[   42.127456] RSP: 002b:00007ffd5e8a3b48 EFLAGS: 00000202 ORIG_RAX: 0000000000000001",
	"[   42.127678]  </TASK>",
	"[   42.127890] Kernel Offset: 0x1a000000 from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)",
	"[   42.128012] ---[ end Kernel panic - not syncing: sysrq triggered crash ]---",
	NULL
};

START_TEST(linux_panic)
{
	struct console_watch	*w = watch();
	json_t			*c, *lines;

	puts_("[    1.000000] Run /init as init process\r\n");
	put_lines(panic_lines);
	/* The timer reads it: the end marker closes the report at once. */
	run_until(&rec.nrep, 1);
	ck_assert_uint_eq(rec.nline, 22);
	ck_assert_int_eq(rec.rep[0].kind, KMSG_BUGCHECK);
	ck_assert_str_eq(rec.rep[0].rule, "panic");
	ck_assert_str_eq(rec.rep[0].title,
	    "Kernel panic - not syncing: sysrq triggered crash");
	ck_assert(rec.rep[0].panicked);
	ck_assert(!rec.rep[0].truncated);
	ck_assert_uint_eq(rec.rep[0].nlines, 20);
	ck_assert_uint_eq(rec.rep[0].line_no, 22);	/* after its last line */

	c = console_watch_crash(w);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(json_string_value(json_object_get(c, "title")),
	    "Kernel panic - not syncing: sysrq triggered crash");
	lines = json_object_get(c, "lines");
	ck_assert_uint_eq(json_array_size(lines), 20);
	ck_assert_str_eq(jarr_str(lines, 0), panic_lines[1]);
	ck_assert_str_eq(jarr_str(lines, 19), panic_lines[20]);
	json_decref(c);
	console_watch_free(w);
}
END_TEST

/* GUEST_PANICKED pauses the guest before the end marker: poll must flush. */
START_TEST(linux_panic_flushed_by_poll)
{
	struct console_watch	*w = watch();
	size_t			 i;
	char			 buf[256];

	for (i = 0; i < 8; i++) {
		snprintf(buf, sizeof buf, "%s\n", panic_lines[i]);
		puts_(buf);
	}
	poll_ok(w, false);
	ck_assert_uint_eq(rec.nline, 8);
	ck_assert_uint_eq(rec.nrep, 0);		/* the panic is still open */
	puts_("[   42.125456]  sysrq_handle_cr");	/* cut mid-line */
	poll_ok(w, true);
	ck_assert_uint_eq(rec.nline, 9);
	ck_assert_uint_eq(rec.nrep, 1);
	ck_assert_str_eq(rec.rep[0].title,
	    "Kernel panic - not syncing: sysrq triggered crash");
	ck_assert(rec.rep[0].truncated);	/* no end marker */
	ck_assert_uint_eq(rec.rep[0].nlines, 8);
	/* Nothing more comes of it. */
	run_for(150);
	ck_assert_uint_eq(rec.nrep, 1);
	console_watch_free(w);
}
END_TEST

/* A NULL dereference in the block layer, then its Oops header. */
static const char *const oops_lines[] = {
	"[   77.000001] BUG: kernel NULL pointer dereference, address: 0000000000000008",
	"[   77.000002] #PF: supervisor read access in kernel mode",
	"[   77.000003] #PF: error_code(0x0000) - not-present page",
	"[   77.000004] PGD 0 P4D 0 ",
	"[   77.000005] Oops: 0000 [#1] PREEMPT SMP NOPTI",
	"[   77.000006] CPU: 2 PID: 1234 Comm: fio Tainted: G            E      6.1.0-18-amd64 #1  Debian 6.1.76-1",
	"[   77.000007] Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
	"[   77.000008] RIP: 0010:blk_mq_dispatch_rq_list+0x1c5/0x7e0",
	"[   77.000009] Code: 48 8b 45 00 48 85 c0 74 0a <48> 8b 40 08 48 85 c0 75 f6",
	"[   77.000010] RSP: 0018:ffffb3c4c0a3bd18 EFLAGS: 00010246",
	"[   77.000011] Call Trace:",
	"[   77.000012]  <TASK>",
	"[   77.000013]  __blk_mq_sched_dispatch_requests+0xa0/0x140",
	"[   77.000014]  blk_mq_sched_dispatch_requests+0x30/0x60",
	"[   77.000015]  __blk_mq_run_hw_queue+0x38/0xb0",
	"[   77.000016]  process_one_work+0x1c7/0x380",
	"[   77.000017]  worker_thread+0x4d/0x380",
	"[   77.000018]  kthread+0xd7/0x100",
	"[   77.000019]  ret_from_fork+0x1f/0x30",
	"[   77.000020]  </TASK>",
	"[   77.000021] Modules linked in: virtio_blk virtio_pci",
	"[   77.000022] CR2: 0000000000000008",
	"[   77.000023] ---[ end trace 0000000000000000 ]---",
	NULL
};

START_TEST(linux_bug_oops)
{
	struct console_watch	*w = watch();
	json_t			*c;

	put_lines(oops_lines);
	poll_ok(w, false);
	ck_assert_uint_eq(rec.nline, 23);
	/* The kernel may still panic after it: the report stays open... */
	ck_assert_uint_eq(rec.nrep, 0);
	c = console_watch_crash(w);
	ck_assert_str_eq(json_string_value(json_object_get(c, "title")),
	    "BUG: kernel NULL pointer dereference, address: 0000000000000008");
	ck_assert_uint_eq(json_array_size(json_object_get(c, "lines")), 23);
	json_decref(c);
	/* ... until the guest is known stopped. */
	poll_ok(w, true);
	ck_assert_uint_eq(rec.nrep, 1);
	ck_assert_int_eq(rec.rep[0].kind, KMSG_BUGCHECK);
	ck_assert_str_eq(rec.rep[0].rule, "bug");
	ck_assert_str_eq(rec.rep[0].title,
	    "BUG: kernel NULL pointer dereference in blk_mq_dispatch_rq_list");
	ck_assert(!rec.rep[0].panicked);
	ck_assert_uint_eq(rec.rep[0].nlines, 23);	/* the Oops joined it */
	ck_assert_ptr_nonnull(strstr(rec.rep[0].text,
	    "Oops: 0000 [#1] PREEMPT SMP NOPTI\n"));
	console_watch_free(w);
}
END_TEST

START_TEST(linux_warning_by_timer)
{
	static const char *const lines[] = {
		"[  200.000001] ------------[ cut here ]------------",
		"[  200.000002] WARNING: CPU: 1 PID: 77 at mm/page_alloc.c:5534 __alloc_pages+0x2d8/0x330",
		"[  200.000003] Modules linked in: virtio_blk",
		"[  200.000004] CPU: 1 PID: 77 Comm: kworker/1:1 Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1",
		"[  200.000005] RIP: 0010:__alloc_pages+0x2d8/0x330",
		"[  200.000006] Call Trace:",
		"[  200.000007]  <TASK>",
		"[  200.000008]  alloc_pages+0x90/0x1a0",
		"[  200.000009]  </TASK>",
		"[  200.000010] ---[ end trace 0000000000000000 ]---",
		NULL
	};
	struct console_watch	*w = watch();
	json_t			*c;
	uint64_t		 t0 = now_ms();

	/* A warning the kernel survives is no crash: BUG lines of that kind neither. */
	puts_("[  199.000000] BUG: sleeping function called from invalid context at mm/slab.h:723\n");
	put_lines(lines);
	/* A quiet console closes the open report. */
	run_until(&rec.nrep, 2);
	ck_assert_uint_ge(now_ms() - t0, CONSOLE_IDLE_MS - 100);
	ck_assert_int_eq(rec.rep[0].kind, KMSG_WARNING);
	ck_assert_str_eq(rec.rep[0].title,
	    "BUG: sleeping function called from invalid context");
	ck_assert_int_eq(rec.rep[1].kind, KMSG_WARNING);
	ck_assert_str_eq(rec.rep[1].rule, "warning");
	ck_assert_str_eq(rec.rep[1].title, "WARNING at __alloc_pages");
	ck_assert_uint_eq(rec.rep[1].nlines, 9);
	c = console_watch_crash(w);
	ck_assert(json_is_null(json_object_get(c, "title")));
	ck_assert_uint_eq(json_array_size(json_object_get(c, "lines")), 11);
	json_decref(c);
	console_watch_free(w);
}
END_TEST

/* ---- Hibernation ---- */

START_TEST(pm_cycle)
{
	static const char *const lines[] = {
		"[   90.000000] Restarting tasks ... done.",	/* no cycle yet */
		"[  100.000001] PM: hibernation: hibernation entry",
		"[  100.010000] Filesystems sync: 0.003 seconds",
		"[  100.020000] Freezing user space processes ... (elapsed 0.001 seconds) done.",
		"[  100.030000] OOM killer disabled.",
		"[  100.040000] PM: hibernation: Preallocating image memory",
		"[  100.050000] PM: hibernation: Allocated 91227 pages for snapshot",
		"[  100.070000] Freezing remaining freezable tasks ... (elapsed 0.001 seconds) done.",
		"[  100.080000] PM: hibernation: debug: Waiting for 5 seconds.",
		"[  105.090000] OOM killer enabled.",
		"[  105.100000] Restarting tasks ... done.",
		"[  105.110000] PM: hibernation: hibernation exit",
		"[  106.000000] PM: suspend entry (deep)",
		"[  107.000000] Restarting tasks ... done.",	/* a suspend's */
		/* A boot kernel that finds an image it cannot load. */
		"[    2.100000] PM: hibernation: resume from hibernation",
		"[    2.300000] PM: hibernation: Failed to load image, recovering.",
		"[    2.300100] PM: hibernation: resume failed (-22)",
		NULL
	};
	static const enum console_pm want[] = {
		CONSOLE_PM_ENTRY, CONSOLE_PM_TEST_WAIT, CONSOLE_PM_EXIT,
		CONSOLE_PM_EXIT, CONSOLE_PM_RESUME, CONSOLE_PM_FAILED,
		CONSOLE_PM_FAILED,
	};
	struct console_watch	*w = watch();
	size_t			 i;

	put_lines(lines);
	run_until(&rec.nline, 17);
	ck_assert_uint_eq(rec.npm, sizeof want / sizeof want[0]);
	for (i = 0; i < rec.npm; i++)
		ck_assert_msg(rec.pm[i].what == want[i], "step %zu is %s, want %s",
		    i, console_pm_names[rec.pm[i].what],
		    console_pm_names[want[i]]);
	ck_assert_str_eq(rec.pm[1].line,
	    "[  100.080000] PM: hibernation: debug: Waiting for 5 seconds.");
	ck_assert_str_eq(rec.pm[2].line,
	    "[  105.100000] Restarting tasks ... done.");
	ck_assert_str_eq(console_pm_names[CONSOLE_PM_TEST_WAIT], "test-wait");
	ck_assert_uint_eq(rec.nrep, 0);
	console_watch_free(w);
}
END_TEST

/* A restore: the image kernel's last words, then the restored one's. */
START_TEST(pm_restore)
{
	static const char *const lines[] = {
		"[  300.000001] PM: hibernation: hibernation entry",
		"[  300.200000] PM: hibernation: Creating image:",
		"[    0.000000] Linux version 6.1.0-18-amd64",
		"[    2.100000] PM: hibernation: resume from hibernation",
		"[    2.400000] PM: Image successfully loaded",
		"[  300.210000] PM: Hibernation image restored successfully.",
		"[  300.300000] Restarting tasks ... done.",
		"[  300.310000] PM: hibernation: hibernation exit",
		NULL
	};
	static const enum console_pm want[] = {
		CONSOLE_PM_ENTRY, CONSOLE_PM_RESUME, CONSOLE_PM_EXIT,
		CONSOLE_PM_EXIT, CONSOLE_PM_EXIT,
	};
	struct console_watch	*w = watch();
	size_t			 i;

	put_lines(lines);
	poll_ok(w, false);
	ck_assert_uint_eq(rec.npm, sizeof want / sizeof want[0]);
	for (i = 0; i < rec.npm; i++)
		ck_assert_int_eq(rec.pm[i].what, want[i]);
	console_watch_free(w);
}
END_TEST

/* ---- The file ---- */

START_TEST(file_created_later)
{
	struct console_watch	*w = watch();

	run_for(150);		/* three ticks on a missing file */
	ck_assert_uint_eq(rec.nline, 0);
	ck_assert_ptr_null(console_watch_crash(w));
	poll_ok(w, true);	/* a missing file is no error */
	puts_("SeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n");
	run_until(&rec.nline, 1);
	ck_assert_str_eq(rec.line[0], "SeaBIOS (version 1.16.2-debian-1.16.2-1)");
	console_watch_free(w);
}
END_TEST

START_TEST(file_truncated_and_replaced)
{
	struct console_watch	*w = watch();
	char			 other[300];

	puts_("first boot, line one\nfirst boot, line two\nhalf");
	poll_ok(w, false);
	ck_assert_uint_eq(rec.nline, 2);
	/* QEMU started again: O_TRUNC. The half line is taken as it was. */
	ck_assert_int_eq(truncate(path, 0), 0);
	puts_("second boot\n");
	poll_ok(w, false);
	ck_assert_uint_eq(rec.nline, 4);
	ck_assert_str_eq(rec.line[2], "half");
	ck_assert_str_eq(rec.line[3], "second boot");
	/* A new file at the path, longer than what was read. */
	snprintf(other, sizeof other, "%s/new.log", dir);
	{
		FILE	*f = fopen(other, "w");

		ck_assert_ptr_nonnull(f);
		fputs("third boot, a much longer line than any before it\n", f);
		fclose(f);
	}
	ck_assert_int_eq(rename(other, path), 0);
	poll_ok(w, false);
	ck_assert_uint_eq(rec.nline, 5);
	ck_assert_str_eq(rec.line[4],
	    "third boot, a much longer line than any before it");
	console_watch_free(w);
}
END_TEST

START_TEST(free_from_hook)
{
	struct console_watch	*w = watch();

	rec.free_at = 2;
	puts_("one\ntwo\nthree\n[ 1.0] Kernel panic - not syncing: x\n");
	poll_ok(w, true);	/* w is gone after this: the hook freed it */
	ck_assert_uint_eq(rec.nline, 2);
	ck_assert_uint_eq(rec.nrep, 0);
	ck_assert_ptr_null(rec.w);

	/* And from the timer. */
	rec_clear(&rec);
	w = watch();
	rec.free_at = 1;
	run_until(&rec.nline, 1);
	run_for(120);
	ck_assert_uint_eq(rec.nline, 1);
}
END_TEST

START_TEST(tail_and_crash_without_one)
{
	struct console_watch	*w = watch();
	json_t			*c, *t;
	char			 buf[64];
	size_t			 i;

	for (i = 0; i < CONSOLE_TAIL_MAX + 44; i++) {
		snprintf(buf, sizeof buf, "line %zu\n", i);
		puts_(buf);
	}
	poll_ok(w, false);
	t = console_watch_tail(w, CONSOLE_TAIL_MAX + 10);
	ck_assert_uint_eq(json_array_size(t), CONSOLE_TAIL_MAX);
	ck_assert_str_eq(jarr_str(t, 0), "line 44");
	json_decref(t);
	t = console_watch_tail(w, 0);
	ck_assert_uint_eq(json_array_size(t), 0);
	json_decref(t);
	c = console_watch_crash(w);
	ck_assert(json_is_null(json_object_get(c, "title")));
	t = json_object_get(c, "lines");
	ck_assert_uint_eq(json_array_size(t), CONSOLE_CRASH_TAIL);
	snprintf(buf, sizeof buf, "line %d", CONSOLE_TAIL_MAX + 43);
	ck_assert_str_eq(jarr_str(t, CONSOLE_CRASH_TAIL - 1), buf);
	json_decref(c);

	/* A crash keeps CONSOLE_CRASH_LINES lines from its first line. */
	puts_("[  9.0] BUG: unable to handle page fault for address: ffffa0c3\n");
	for (i = 0; i < 2 * CONSOLE_CRASH_LINES; i++)
		puts_("[  9.1] more\n");
	puts_("[  9.2] Kernel panic - not syncing: Fatal exception\n");
	poll_ok(w, false);
	c = console_watch_crash(w);
	ck_assert_str_eq(json_string_value(json_object_get(c, "title")),
	    "BUG: unable to handle page fault for address: ffffa0c3");
	ck_assert_uint_eq(json_array_size(json_object_get(c, "lines")),
	    CONSOLE_CRASH_LINES);
	json_decref(c);
	console_watch_free(w);
}
END_TEST

/* ---- Windows ---- */

START_TEST(windows_stop_screens)
{
	static const char *const lines[] = {
		"",
		"*** STOP: 0x000000D1 (0x0000000000000000,0x0000000000000002,0x0000000000000000,0xFFFFF80012345678)",
		"DRIVER_IRQL_NOT_LESS_OR_EQUAL",
		"",
		"***  Address FFFFF80012345678 base at FFFFF80012300000, DateStamp 5f0a1b2c - mydrv.sys",
		NULL
	};
	struct console_watch	*w = watch();
	json_t			*c;

	puts_("STOP: the service is stopping\r\n");	/* no code: not a crash */
	put_lines(lines);
	poll_ok(w, false);
	ck_assert_uint_eq(rec.nrep, 0);
	poll_ok(w, true);
	ck_assert_uint_eq(rec.nrep, 1);
	ck_assert_int_eq(rec.rep[0].kind, KMSG_BUGCHECK);
	ck_assert_str_eq(rec.rep[0].rule, "stop");
	ck_assert_str_eq(rec.rep[0].title,
	    "STOP 0x000000D1 DRIVER_IRQL_NOT_LESS_OR_EQUAL");
	ck_assert(rec.rep[0].panicked);
	ck_assert_uint_eq(rec.rep[0].nlines, 4);
	ck_assert_ptr_nonnull(strstr(rec.rep[0].text, "mydrv.sys\n"));
	c = console_watch_crash(w);
	ck_assert_str_eq(json_string_value(json_object_get(c, "title")),
	    lines[1]);
	json_decref(c);

	/* Windows 10 with EMS names the code; a debugger prints it in hex. */
	puts_("\x1b[2J\x1b[HYour PC ran into a problem and needs to restart.\r\n"
	    "Stop code: CRITICAL_PROCESS_DIED\r\n");
	poll_ok(w, true);
	ck_assert_uint_eq(rec.nrep, 2);
	ck_assert_str_eq(rec.rep[1].title, "STOP 0x000000EF CRITICAL_PROCESS_DIED");
	puts_("*** Fatal System Error: 0x0000001e\r\n");
	puts_("Stop code: SOMETHING_NEW_IN_2030\r\n");
	poll_ok(w, true);
	ck_assert_uint_eq(rec.nrep, 4);
	ck_assert_str_eq(rec.rep[2].title, "STOP 0x0000001E KMODE_EXCEPTION_NOT_HANDLED");
	ck_assert_str_eq(rec.rep[3].title, "STOP SOMETHING_NEW_IN_2030");
	console_watch_free(w);
}
END_TEST

/* ---- STOP codes ---- */

START_TEST(stopcode_names)
{
	static const struct {
		uint64_t	 code;
		const char	*name;
	} want[] = {
		{ 0x01, "APC_INDEX_MISMATCH" },
		{ 0x0A, "IRQL_NOT_LESS_OR_EQUAL" },
		{ 0x0D, "MUTEX_LEVEL_NUMBER_VIOLATION" },
		{ 0x19, "BAD_POOL_HEADER" },
		{ 0x1A, "MEMORY_MANAGEMENT" },
		{ 0x1E, "KMODE_EXCEPTION_NOT_HANDLED" },
		{ 0x24, "NTFS_FILE_SYSTEM" },
		{ 0x3B, "SYSTEM_SERVICE_EXCEPTION" },
		{ 0x3D, "INTERRUPT_EXCEPTION_NOT_HANDLED" },
		{ 0x44, "MULTIPLE_IRP_COMPLETE_REQUESTS" },
		{ 0x4E, "PFN_LIST_CORRUPT" },
		{ 0x50, "PAGE_FAULT_IN_NONPAGED_AREA" },
		{ 0x7A, "KERNEL_DATA_INPAGE_ERROR" },
		{ 0x7B, "INACCESSIBLE_BOOT_DEVICE" },
		{ 0x7E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED" },
		{ 0x7F, "UNEXPECTED_KERNEL_MODE_TRAP" },
		{ 0x8E, "KERNEL_MODE_EXCEPTION_NOT_HANDLED" },
		{ 0x9C, "MACHINE_CHECK_EXCEPTION" },
		{ 0x9F, "DRIVER_POWER_STATE_FAILURE" },
		{ 0xA0, "INTERNAL_POWER_ERROR" },
		{ 0xBE, "ATTEMPTED_WRITE_TO_READONLY_MEMORY" },
		{ 0xC2, "BAD_POOL_CALLER" },
		{ 0xC4, "DRIVER_VERIFIER_DETECTED_VIOLATION" },
		{ 0xC5, "DRIVER_CORRUPTED_EXPOOL" },
		{ 0xCA, "PNP_DETECTED_FATAL_ERROR" },
		{ 0xD1, "DRIVER_IRQL_NOT_LESS_OR_EQUAL" },
		{ 0xD5, "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL" },
		{ 0xE2, "MANUALLY_INITIATED_CRASH" },
		{ 0xEF, "CRITICAL_PROCESS_DIED" },
		{ 0xF4, "CRITICAL_OBJECT_TERMINATION" },
		{ 0xFC, "ATTEMPTED_EXECUTE_OF_NOEXECUTE_MEMORY" },
		{ 0x101, "CLOCK_WATCHDOG_TIMEOUT" },
		{ 0x116, "VIDEO_TDR_FAILURE" },
		{ 0x124, "WHEA_UNCORRECTABLE_ERROR" },
		{ 0x133, "DPC_WATCHDOG_VIOLATION" },
		{ 0x139, "KERNEL_SECURITY_CHECK_FAILURE" },
		{ 0x13A, "KERNEL_MODE_HEAP_CORRUPTION" },
		{ 0x154, "UNEXPECTED_STORE_EXCEPTION" },
		{ 0xC000021A, "STATUS_SYSTEM_PROCESS_TERMINATED" },
	};
	static const uint64_t unknown[] = {
		0, 0x02, 0x1B, 0xFFFF, 0x12345678, 0xC000021B, 0xDEADBEEF,
		UINT64_MAX, 0x1000000000000001ULL,
	};
	char		buf[STOPCODE_TITLE_MAX];
	uint64_t	code;
	size_t		i;

	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		ck_assert_msg(stopcode_name(want[i].code) != NULL,
		    "0x%llX has no name", (unsigned long long)want[i].code);
		ck_assert_str_eq(stopcode_name(want[i].code), want[i].name);
		ck_assert_int_eq(stopcode_from_name(want[i].name, &code), 0);
		ck_assert_uint_eq(code, want[i].code);
	}
	for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
		ck_assert_ptr_null(stopcode_name(unknown[i]));
	ck_assert_int_eq(stopcode_from_name("irql_not_less_or_equal", &code), -1);
	ck_assert_int_eq(stopcode_from_name("", &code), -1);

	stopcode_title(0xA, buf, sizeof buf);
	ck_assert_str_eq(buf, "STOP 0x0000000A IRQL_NOT_LESS_OR_EQUAL");
	stopcode_title(0xBEEF, buf, sizeof buf);
	ck_assert_str_eq(buf, "STOP 0x0000BEEF");
	stopcode_title(0xC000021A, buf, sizeof buf);
	ck_assert_str_eq(buf, "STOP 0xC000021A STATUS_SYSTEM_PROCESS_TERMINATED");
	stopcode_title(0x1, buf, 8);	/* cut, still terminated */
	ck_assert_str_eq(buf, "STOP 0x");
}
END_TEST

static json_t *
detail_of(const char *text)
{
	json_error_t	 err;
	json_t		*data = NULL, *d;

	if (text != NULL) {
		data = json_loads(text, 0, &err);
		ck_assert_msg(data != NULL, "%s: %s", text, err.text);
	}
	d = stopcode_panic_detail(data);
	ck_assert_ptr_nonnull(d);
	json_decref(data);
	return d;
}

START_TEST(stopcode_panic)
{
	json_t		*d, *p;
	const char	*s;

	/* A Hyper-V enlightened guest (hv-crash) hit a D1. */
	d = detail_of("{\"action\": \"pause\", \"info\": {\"type\": \"hyper-v\", "
	    "\"arg1\": 209, \"arg2\": 0, \"arg3\": 2, \"arg4\": 1, "
	    "\"arg5\": 9223372036854775807}}");
	ck_assert_str_eq(json_string_value(json_object_get(d, "action")), "pause");
	ck_assert_str_eq(json_string_value(json_object_get(d, "info_type")),
	    "hyper-v");
	ck_assert_str_eq(json_string_value(json_object_get(d, "stop_code")),
	    "0x000000D1");
	ck_assert_str_eq(json_string_value(json_object_get(d, "stop_name")),
	    "DRIVER_IRQL_NOT_LESS_OR_EQUAL");
	ck_assert_str_eq(json_string_value(json_object_get(d, "title")),
	    "STOP 0x000000D1 DRIVER_IRQL_NOT_LESS_OR_EQUAL");
	p = json_object_get(d, "parameters");
	ck_assert_uint_eq(json_array_size(p), 4);
	ck_assert_str_eq(jarr_str(p, 0), "0x0000000000000000");
	ck_assert_str_eq(jarr_str(p, 1), "0x0000000000000002");
	ck_assert_str_eq(jarr_str(p, 2), "0x0000000000000001");
	ck_assert_str_eq(jarr_str(p, 3), "0x7FFFFFFFFFFFFFFF");
	ck_assert_uint_eq(json_object_size(d), 6);
	json_decref(d);

	/* A kernel address above INT64_MAX, as the QMP reader passes it on. */
	d = detail_of("{\"action\": \"pause\", \"info\": {\"type\": \"hyper-v\", "
	    "\"arg1\": 80, \"arg2\": \"18446735277616529408\", \"arg3\": 0, "
	    "\"arg4\": \"18446744073709551615\", \"arg5\": \"18446744073709551616\"}}");
	ck_assert_str_eq(json_string_value(json_object_get(d, "stop_name")),
	    "PAGE_FAULT_IN_NONPAGED_AREA");
	p = json_object_get(d, "parameters");
	ck_assert_str_eq(jarr_str(p, 0), "0xFFFFF80000000000");
	ck_assert_str_eq(jarr_str(p, 2), "0xFFFFFFFFFFFFFFFF");
	ck_assert(json_is_null(json_array_get(p, 3)));	/* past 64 bits */
	json_decref(d);

	/* A code without a name. */
	d = detail_of("{\"action\": \"poweroff\", \"info\": {\"type\": "
	    "\"hyper-v\", \"arg1\": 3735928559, \"arg2\": 1, \"arg3\": 2, "
	    "\"arg4\": 3, \"arg5\": 4}}");
	ck_assert_str_eq(json_string_value(json_object_get(d, "stop_code")),
	    "0xDEADBEEF");
	ck_assert(json_is_null(json_object_get(d, "stop_name")));
	ck_assert_str_eq(json_string_value(json_object_get(d, "title")),
	    "STOP 0xDEADBEEF");
	json_decref(d);

	/* No info (pvpanic), or another kind of it. */
	d = detail_of("{\"action\": \"pause\"}");
	ck_assert_str_eq(json_string_value(json_object_get(d, "action")), "pause");
	ck_assert_uint_eq(json_object_size(d), 1);
	json_decref(d);
	d = detail_of("{\"action\": \"run\", \"info\": {\"type\": \"s390\", "
	    "\"core\": 0, \"psw-mask\": 0, \"psw-addr\": 0, \"reason\": "
	    "\"disabled-wait\"}}");
	ck_assert_str_eq(json_string_value(json_object_get(d, "info_type")),
	    "s390");
	ck_assert_ptr_null(json_object_get(d, "stop_code"));
	ck_assert_uint_eq(json_object_size(d), 2);
	json_decref(d);
	d = detail_of(NULL);
	ck_assert(json_is_null(json_object_get(d, "action")));
	ck_assert_uint_eq(json_object_size(d), 1);
	json_decref(d);

	/* Malformed: what is valid is kept, the rest is null. */
	d = detail_of("{\"action\": 7, \"info\": {\"type\": \"hyper-v\", "
	    "\"arg1\": \"0xD1\", \"arg2\": -1, \"arg3\": 2.5, \"arg5\": 5}}");
	ck_assert(json_is_null(json_object_get(d, "action")));
	ck_assert(json_is_null(json_object_get(d, "stop_code")));
	ck_assert(json_is_null(json_object_get(d, "stop_name")));
	s = json_string_value(json_object_get(d, "title"));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(strncmp(s, "STOP", 4), 0);
	p = json_object_get(d, "parameters");
	ck_assert_uint_eq(json_array_size(p), 4);
	ck_assert(json_is_null(json_array_get(p, 0)));
	ck_assert(json_is_null(json_array_get(p, 1)));
	ck_assert(json_is_null(json_array_get(p, 2)));
	ck_assert_str_eq(jarr_str(p, 3), "0x0000000000000005");
	json_decref(d);
	d = detail_of("{\"action\": \"pause\", \"info\": {\"type\": \"hyper-v\", "
	    "\"arg1\": -10}}");
	ck_assert(json_is_null(json_object_get(d, "stop_code")));
	json_decref(d);
	d = detail_of("{\"action\": \"pause\", \"info\": \"hyper-v\"}");
	ck_assert_uint_eq(json_object_size(d), 1);
	json_decref(d);
	d = detail_of("{\"action\": \"pause\", \"info\": {\"type\": 1, "
	    "\"arg1\": 10}}");
	ck_assert_uint_eq(json_object_size(d), 1);
	json_decref(d);
	d = detail_of("[1, 2]");
	ck_assert(json_is_null(json_object_get(d, "action")));
	json_decref(d);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("console");
	TCase	*tc = tcase_create("console");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, lines_across_writes);
	tcase_add_test(tc, long_lines_cut);
	tcase_add_test(tc, display_safe);
	tcase_add_test(tc, linux_panic);
	tcase_add_test(tc, linux_panic_flushed_by_poll);
	tcase_add_test(tc, linux_bug_oops);
	tcase_add_test(tc, linux_warning_by_timer);
	tcase_add_test(tc, pm_cycle);
	tcase_add_test(tc, pm_restore);
	tcase_add_test(tc, file_created_later);
	tcase_add_test(tc, file_truncated_and_replaced);
	tcase_add_test(tc, free_from_hook);
	tcase_add_test(tc, tail_and_crash_without_one);
	tcase_add_test(tc, windows_stop_screens);
	tcase_add_test(tc, stopcode_names);
	tcase_add_test(tc, stopcode_panic);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
