/* check-topo.c: the agent's topology reader, onliner and watcher against
 * fake sysfs trees and injected uevents, and the memory exerciser. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memx.h"
#include "topo.h"
#include "faketree.h"

/* One folder per test case (made in the parent, so it goes even when a test crashes)... */
static char	case_dir[1024];
/* ...and in it one fake root per test. */
static char	root[2048];
static unsigned	root_seq;

static void
case_setup(void)
{
	ft_set_root(root);
	ft_case_dir(case_dir, sizeof case_dir, "check-topo");
}

static void
case_teardown(void)
{
	ft_rmtree(case_dir);
}

static void
unlink_rel(const char *rel)
{
	if (unlink(ft_at(rel)) == -1)
		ck_abort_msg("unlink %s: %s", ft_at(rel), strerror(errno));
}

/*
 * CPUs 0-3 present of 0-7 possible, 0-1 online (cpu0 without an online
 * file, as on x86); memory blocks 0-7 of 128MiB, 6 and 7 offline.
 */
static void
tree_setup(void)
{
	char	rel[128];
	int	i;

	snprintf(root, sizeof root, "%s/root-%ld-%u", case_dir, (long)getpid(),
	    root_seq++);
	ft_mkdirs(root);
	ft_put("sys/devices/system/cpu/possible", "0-7\n");
	ft_put("sys/devices/system/cpu/present", "0-3\n");
	ft_put("sys/devices/system/cpu/online", "0-1\n");
	ft_put("sys/devices/system/cpu/offline", "2-7\n");
	ft_put("sys/devices/system/cpu/kernel_max", "8191\n");
	ft_mkdirs(ft_at("sys/devices/system/cpu/cpu0/topology"));
	ft_put("sys/devices/system/cpu/cpu1/online", "1\n");
	ft_put("sys/devices/system/cpu/cpu2/online", "0\n");
	ft_put("sys/devices/system/cpu/cpu3/online", "0\n");
	ft_mkdirs(ft_at("sys/devices/system/cpu/cpufreq"));
	ft_put("sys/devices/system/memory/block_size_bytes", "8000000\n");
	ft_put("sys/devices/system/memory/auto_online_blocks", "offline\n");
	ft_mkdirs(ft_at("sys/devices/system/memory/power"));
	for (i = 0; i < 8; i++) {
		snprintf(rel, sizeof rel, "sys/devices/system/memory/memory%d/state",
		    i);
		ft_put(rel, i < 6 ? "online\n" : "offline\n");
		snprintf(rel, sizeof rel,
		    "sys/devices/system/memory/memory%d/phys_index", i);
		ft_put(rel, "00000000\n");
	}
	ft_put("proc/meminfo", "MemTotal:         786432 kB\n"
	    "MemFree:          500000 kB\nMemAvailable:     600000 kB\n");
}

static void
tree_teardown(void)
{
	ft_rmtree(root);
}

static struct topo *
read_ok(const char *r)
{
	static struct topo	 t;
	char			*cause = NULL;

	if (topo_read(r, &t, &cause) == -1)
		ck_abort_msg("topo_read %s: %s", r, cause);
	return &t;
}

static void
read_fails(const char *needle)
{
	struct topo	 t;
	char		*cause = NULL;

	ck_assert_int_eq(topo_read(root, &t, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, needle) != NULL, "cause `%s` lacks `%s`",
	    cause, needle);
	free(cause);
}

/* The bits of map below nbits, as a list, for messages and comparisons. */
static const char *
bits(const uint64_t *map, unsigned nbits)
{
	static char	buf[256];

	topo_cpulist_format(map, nbits, buf, sizeof buf);
	return buf;
}

static void
list_is(const char *s, const char *want, unsigned want_count)
{
	uint64_t	 map[TOPO_WORDS(TOPO_MAX_CPUS)];
	unsigned	 count = 9999;
	char		*cause = NULL;

	if (topo_cpulist_parse(s, map, TOPO_MAX_CPUS, &count, &cause) == -1)
		ck_abort_msg("`%s` refused: %s", s, cause);
	ck_assert_str_eq(bits(map, TOPO_MAX_CPUS), want);
	ck_assert_uint_eq(count, want_count);
}

START_TEST(cpulist_valid)
{
	uint64_t	 map[TOPO_WORDS(TOPO_MAX_CPUS)];
	unsigned	 count;
	char		*cause = NULL;

	list_is("0", "0", 1);
	list_is("0-3", "0-3", 4);
	list_is("0-3\n", "0-3", 4);
	list_is("0-1,4,6-7", "0-1,4,6-7", 5);
	list_is("", "", 0);
	list_is("\n", "", 0);
	list_is("5,1", "1,5", 2);
	list_is("0-3,2-5", "0-5", 6);		/* overlaps count once */
	list_is("63-64", "63-64", 2);		/* across a word */
	list_is("4095", "4095", 1);
	list_is("0-4095", "0-4095", 4096);

	/* Exact bits, not just the count. */
	ck_assert_int_eq(topo_cpulist_parse("0-1,4,6-7", map, TOPO_MAX_CPUS,
	    &count, &cause), 0);
	ck_assert(topo_bit(map, TOPO_MAX_CPUS, 0));
	ck_assert(topo_bit(map, TOPO_MAX_CPUS, 1));
	ck_assert(!topo_bit(map, TOPO_MAX_CPUS, 2));
	ck_assert(!topo_bit(map, TOPO_MAX_CPUS, 3));
	ck_assert(topo_bit(map, TOPO_MAX_CPUS, 4));
	ck_assert(!topo_bit(map, TOPO_MAX_CPUS, 5));
	ck_assert(topo_bit(map, TOPO_MAX_CPUS, 7));
	ck_assert(!topo_bit(map, TOPO_MAX_CPUS, 8));

	/* The map is cleared first: no bits left over from an earlier parse. */
	ck_assert_int_eq(topo_cpulist_parse("2", map, TOPO_MAX_CPUS, &count,
	    &cause), 0);
	ck_assert_str_eq(bits(map, TOPO_MAX_CPUS), "2");
}
END_TEST

START_TEST(cpulist_refused)
{
	static const char *const bad[] = {
		"a", "1-", "-1", "3-1", "1,,2", ",", "1,", ",1", "0-4096",
		"4096", "99999999999999999999999", "1 2", " 1", "0x1", "1-2-3",
		"1\n\n", "1;2", "+1",
	};
	uint64_t	 map[TOPO_WORDS(TOPO_MAX_CPUS)];
	unsigned	 count;
	size_t		 i;
	char		*cause;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		ck_assert_msg(topo_cpulist_parse(bad[i], map, TOPO_MAX_CPUS,
		    &count, &cause) == -1, "`%s` accepted", bad[i]);
		ck_assert_ptr_nonnull(cause);
		ck_assert_msg(strstr(cause, "CPU list") != NULL, "`%s`: %s",
		    bad[i], cause);
		free(cause);
	}
	/* A narrower map refuses what does not fit it. */
	cause = NULL;
	ck_assert_int_eq(topo_cpulist_parse("8", map, 8, &count, &cause), -1);
	free(cause);
}
END_TEST

START_TEST(cpulist_format_short)
{
	uint64_t	 map[TOPO_WORDS(TOPO_MAX_CPUS)];
	char		 buf[12], *cause = NULL;

	ck_assert_int_eq(topo_cpulist_parse("0,2,4,6,8,10,12", map,
	    TOPO_MAX_CPUS, NULL, &cause), 0);
	topo_cpulist_format(map, TOPO_MAX_CPUS, buf, sizeof buf);
	ck_assert_str_eq(buf, "0,2,4,6...");
	topo_cpulist_format(map, TOPO_MAX_CPUS, buf, 6);
	ck_assert_str_eq(buf, "0...");
	topo_cpulist_format(map, TOPO_MAX_CPUS, buf, 4);
	ck_assert_str_eq(buf, "...");
	ck_assert_int_eq(topo_cpulist_parse("0-3", map, TOPO_MAX_CPUS, NULL,
	    &cause), 0);
	topo_cpulist_format(map, TOPO_MAX_CPUS, buf, 4);
	ck_assert_str_eq(buf, "0-3");	/* the last piece needs no room for "..." */
}
END_TEST

START_TEST(read_fake_tree)
{
	struct topo	*t = read_ok(root);
	char		 slash[PATH_MAX];

	ck_assert_uint_eq(t->cpus_possible, 8);
	ck_assert_uint_eq(t->cpus_present, 4);
	ck_assert_uint_eq(t->cpus_online, 2);
	ck_assert_str_eq(bits(t->cpu_present, TOPO_MAX_CPUS), "0-3");
	ck_assert_str_eq(bits(t->cpu_online, TOPO_MAX_CPUS), "0-1");
	ck_assert_uint_eq(t->mem_block_size, 128ULL << 20);
	ck_assert_uint_eq(t->mem_blocks, 8);
	ck_assert_uint_eq(t->mem_blocks_online, 6);
	ck_assert_uint_eq(t->mem_blocks_untracked, 0);
	ck_assert_str_eq(bits(t->mem_present, TOPO_MAX_MEM_BLOCKS), "0-7");
	ck_assert_str_eq(bits(t->mem_online, TOPO_MAX_MEM_BLOCKS), "0-5");
	ck_assert_uint_eq(t->mem_online_bytes, 6 * (128ULL << 20));
	ck_assert_uint_eq(t->mem_total_kb, 786432);
	ck_assert_uint_gt(t->time_ns, 1500000000ULL * 1000000000ULL);

	/* A trailing slash on the root reads the same tree. */
	snprintf(slash, sizeof slash, "%s/", root);
	t = read_ok(slash);
	ck_assert_uint_eq(t->cpus_present, 4);
	ck_assert_uint_eq(t->mem_blocks, 8);
}
END_TEST

START_TEST(read_sparse_memory)
{
	struct topo	*t;

	/* Real machines skip block numbers (the PCI hole): 0-7 then 32, 40000. */
	ft_put("sys/devices/system/memory/memory32/state", "going-offline\n");
	ft_put("sys/devices/system/memory/memory40000/state", "online\n");
	/* Old kernels: an online file and no state. */
	ft_put("sys/devices/system/memory/memory33/online", "1\n");
	/* Names that only look like blocks. */
	ft_put("sys/devices/system/memory/memory_x/state", "online\n");
	ft_put("sys/devices/system/memory/memory034/state", "online\n");
	t = read_ok(root);
	ck_assert_uint_eq(t->mem_blocks, 11);
	ck_assert_uint_eq(t->mem_blocks_online, 8);
	ck_assert_uint_eq(t->mem_blocks_untracked, 1);
	ck_assert_str_eq(bits(t->mem_present, TOPO_MAX_MEM_BLOCKS), "0-7,32-33");
	ck_assert_str_eq(bits(t->mem_online, TOPO_MAX_MEM_BLOCKS), "0-5,33");
	ck_assert_uint_eq(t->mem_online_bytes, 8 * (128ULL << 20));
}
END_TEST

START_TEST(read_without_lists)
{
	struct topo	*t;

	/* No present/online lists: the cpuN folders and their online files tell. */
	unlink_rel("sys/devices/system/cpu/present");
	unlink_rel("sys/devices/system/cpu/online");
	t = read_ok(root);
	ck_assert_str_eq(bits(t->cpu_present, TOPO_MAX_CPUS), "0-3");
	ck_assert_str_eq(bits(t->cpu_online, TOPO_MAX_CPUS), "0-1");
	ck_assert_uint_eq(t->cpus_present, 4);
	ck_assert_uint_eq(t->cpus_online, 2);
	ck_assert_uint_eq(t->cpus_possible, 8);

	/* No memory folder: no memory hotplug, not an error. */
	ft_rmtree(ft_at("sys/devices/system/memory"));
	unlink_rel("sys/devices/system/cpu/possible");
	t = read_ok(root);
	ck_assert_uint_eq(t->mem_block_size, 0);
	ck_assert_uint_eq(t->mem_blocks, 0);
	ck_assert_uint_eq(t->mem_online_bytes, 0);
	ck_assert_uint_eq(t->cpus_possible, 4);
	ck_assert_uint_eq(t->mem_total_kb, 786432);
}
END_TEST

START_TEST(read_errors)
{
	char	*cause = NULL;
	struct topo t;

	ck_assert_int_eq(topo_read("/nonexistent/hotsoak", &t, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);

	ft_put("sys/devices/system/cpu/present", "0-x\n");
	read_fails("cpu/present");
	ft_put("sys/devices/system/cpu/present", "0-3\n");

	ft_put("sys/devices/system/memory/block_size_bytes", "zz\n");
	read_fails("block_size_bytes");
	ft_put("sys/devices/system/memory/block_size_bytes", "0\n");
	read_fails("block_size_bytes");
	ft_put("sys/devices/system/memory/block_size_bytes", "8000000\n");

	ft_put("proc/meminfo", "MemFree: 1 kB\n");
	read_fails("MemTotal");
	unlink_rel("proc/meminfo");
	read_fails("meminfo");
	ft_put("proc/meminfo", "MemFree: 1 kB\nMemTotal: 2048 kB\n");
	ck_assert_uint_eq(read_ok(root)->mem_total_kb, 2048);

	unlink_rel("sys/devices/system/cpu/online");
	ft_put("sys/devices/system/cpu/cpu2/online", "2\n");
	read_fails("cpu2/online");
}
END_TEST

START_TEST(online_cpus)
{
	unsigned	 n = 99;
	char		*cause = NULL;

	/* A leftover folder of a CPU that is not present: leave it alone. */
	ft_put("sys/devices/system/cpu/cpu4/online", "0\n");
	if (topo_online_cpus(root, &n, &cause) == -1)
		ck_abort_msg("topo_online_cpus: %s", cause);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ft_get("sys/devices/system/cpu/cpu2/online"), "1");
	ck_assert_str_eq(ft_get("sys/devices/system/cpu/cpu3/online"), "1");
	/* Already online: not written (sysfs would keep "1\n", a write makes "1"). */
	ck_assert_str_eq(ft_get("sys/devices/system/cpu/cpu1/online"), "1\n");
	ck_assert_str_eq(ft_get("sys/devices/system/cpu/cpu0/online"), "<missing>");
	ck_assert_str_eq(ft_get("sys/devices/system/cpu/cpu4/online"), "0\n");

	/* Nothing left to do is success with 0. */
	ft_put("sys/devices/system/cpu/online", "0-3\n");
	ck_assert_int_eq(topo_online_cpus(root, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(online_cpus_partial)
{
	unsigned	 n = 99;
	char		*cause = NULL;

	/* cpu2's online file cannot be written (a folder): cpu3 still goes online. */
	unlink_rel("sys/devices/system/cpu/cpu2/online");
	ft_mkdirs(ft_at("sys/devices/system/cpu/cpu2/online"));
	ck_assert_int_eq(topo_online_cpus(root, &n, &cause), -1);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "cpu2") != NULL, "cause: %s", cause);
	ck_assert_msg(strstr(cause, "1 of 2") != NULL, "cause: %s", cause);
	ck_assert_str_eq(ft_get("sys/devices/system/cpu/cpu3/online"), "1");
	free(cause);
}
END_TEST

START_TEST(online_memory)
{
	unsigned	 n = 99;
	char		*cause = NULL;
	struct topo	*t;

	ck_assert_int_eq(topo_online_memory(root, "movable", &n, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(ft_get("sys/devices/system/memory/memory6/state"),
	    "offline\n");

	if (topo_online_memory(root, "online_movable", &n, &cause) == -1)
		ck_abort_msg("topo_online_memory: %s", cause);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ft_get("sys/devices/system/memory/memory6/state"),
	    "online_movable");
	ck_assert_str_eq(ft_get("sys/devices/system/memory/memory7/state"),
	    "online_movable");
	ck_assert_str_eq(ft_get("sys/devices/system/memory/memory0/state"),
	    "online\n");
	ck_assert_str_eq(ft_get("sys/devices/system/memory/memory5/state"),
	    "online\n");
	t = read_ok(root);
	ck_assert_uint_eq(t->mem_blocks_online, 8);

	/* Plain "online" is written as asked. */
	ft_put("sys/devices/system/memory/memory9/state", "offline\n");
	ck_assert_int_eq(topo_online_memory(root, "online", &n, &cause), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(ft_get("sys/devices/system/memory/memory9/state"),
	    "online");
}
END_TEST

START_TEST(online_memory_partial)
{
	unsigned	 n = 99;
	char		*cause = NULL;

	/* memory6 reads offline (old-style online file) but its state cannot be written. */
	unlink_rel("sys/devices/system/memory/memory6/state");
	ft_put("sys/devices/system/memory/memory6/online", "0\n");
	if (symlink("no/such/file", ft_at("sys/devices/system/memory/memory6/state"))
	    == -1)
		ck_abort_msg("symlink: %s", strerror(errno));
	ck_assert_int_eq(topo_online_memory(root, "online_movable", &n, &cause),
	    -1);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "memory6") != NULL, "cause: %s", cause);
	ck_assert_str_eq(ft_get("sys/devices/system/memory/memory7/state"),
	    "online_movable");
	free(cause);
}
END_TEST

/* A kernel-format uevent: "action@devpath\0ACTION=..\0DEVPATH=..\0SUBSYSTEM=..\0SEQNUM=..\0". */
static void
send_uevent(int fd, const char *action, const char *devpath,
    const char *subsystem)
{
	static unsigned	seq = 1000;
	char		buf[1024];
	int		n;

	n = snprintf(buf, sizeof buf, "%s@%s%cACTION=%s%cDEVPATH=%s%c"
	    "SUBSYSTEM=%s%cSEQNUM=%u%c", action, devpath, 0, action, 0, devpath,
	    0, subsystem, 0, seq++, 0);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(send(fd, buf, (size_t)n, 0), n);
}

static void
send_raw(int fd, const void *msg, size_t len)
{
	ck_assert_int_eq(send(fd, msg, len, 0), (ssize_t)len);
}
#define SEND_LIT(fd, lit)	send_raw((fd), (lit), sizeof(lit) - 1)

static struct topo_watch *
watch_pair(int *peer)
{
	struct topo_watch	*w;
	int			 sv[2];
	char			*cause = NULL;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == -1)
		ck_abort_msg("socketpair: %s", strerror(errno));
	if ((w = topo_watch_open(root, sv[0], &cause)) == NULL)
		ck_abort_msg("topo_watch_open: %s", cause);
	ck_assert_int_eq(topo_watch_fd(w), sv[0]);
	ck_assert_ptr_null(topo_watch_why_polling(w));
	*peer = sv[1];
	return w;
}

static size_t
drain(struct topo_watch *w, struct topo_change *c, size_t max)
{
	size_t	 n = 99;
	char	*cause = NULL;

	if (topo_watch_read(w, c, max, &n, &cause) == -1)
		ck_abort_msg("topo_watch_read: %s", cause);
	ck_assert_uint_le(n, max);
	return n;
}

static void
change_is(const struct topo_change *c, enum topo_change_kind kind,
    unsigned index)
{
	ck_assert_msg(c->kind == kind && c->index == index,
	    "got %s %u, expected %s %u", topo_change_names[c->kind], c->index,
	    topo_change_names[kind], index);
}

START_TEST(uevents_in_order)
{
	struct topo_watch	*w;
	struct topo_change	 c[16];
	struct topo_watch_stats	 st;
	const struct topo	*t;
	size_t			 n, i;
	int			 peer;

	w = watch_pair(&peer);
	send_uevent(peer, "add", "/devices/system/cpu/cpu2", "cpu");
	send_uevent(peer, "add", "/devices/system/cpu/cpu2/cache/index0",
	    "cpu");
	send_uevent(peer, "online", "/devices/system/cpu/cpu2", "cpu");
	send_uevent(peer, "add", "/devices/system/memory/memory40", "memory");
	send_uevent(peer, "add", "/devices/virtual/net/lo", "net");
	send_uevent(peer, "change", "/devices/system/cpu/cpu2", "cpu");
	send_uevent(peer, "online", "/devices/system/memory/memory40",
	    "memory");
	send_uevent(peer, "offline", "/devices/system/cpu/cpu1", "cpu");
	send_uevent(peer, "offline", "/devices/system/memory/memory40",
	    "memory");
	send_uevent(peer, "remove", "/devices/system/memory/memory40",
	    "memory");
	n = drain(w, c, 16);
	ck_assert_uint_eq(n, 7);
	change_is(&c[0], TOPO_CPU_ADDED, 2);
	change_is(&c[1], TOPO_CPU_ONLINE, 2);
	change_is(&c[2], TOPO_MEM_ADDED, 40);
	change_is(&c[3], TOPO_MEM_ONLINE, 40);
	change_is(&c[4], TOPO_CPU_OFFLINE, 1);
	change_is(&c[5], TOPO_MEM_OFFLINE, 40);
	change_is(&c[6], TOPO_MEM_REMOVED, 40);
	for (i = 0; i < n; i++) {
		ck_assert_uint_gt(c[i].time_ns, 1500000000ULL * 1000000000ULL);
		if (i > 0)
			ck_assert_uint_ge(c[i].time_ns, c[i - 1].time_ns);
	}
	ck_assert_uint_eq(drain(w, c, 16), 0);

	topo_watch_get_stats(w, &st);
	ck_assert_uint_eq(st.messages, 10);
	ck_assert_uint_eq(st.changes, 7);
	ck_assert_uint_eq(st.unrelated, 3);
	ck_assert_uint_eq(st.malformed, 0);
	ck_assert_uint_eq(st.udev, 0);

	/* The snapshot followed: cpu2 on, cpu1 off, memory40 come and gone. */
	t = topo_watch_snapshot(w);
	ck_assert_str_eq(bits(t->cpu_online, TOPO_MAX_CPUS), "0,2");
	ck_assert_uint_eq(t->cpus_online, 2);
	ck_assert_uint_eq(t->cpus_present, 4);
	ck_assert_uint_eq(t->mem_blocks, 8);
	ck_assert(!topo_bit(t->mem_present, TOPO_MAX_MEM_BLOCKS, 40));
	topo_watch_free(w);
	close(peer);
}
END_TEST

START_TEST(uevents_ignored)
{
	static const char udev[] = "libudev\0\xfe\xed\xca\xfe"
	    "\x28\0\0\0\x28\0\0\0\x40\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	    "ACTION=add\0DEVPATH=/devices/system/cpu/cpu3\0SUBSYSTEM=cpu\0";
	struct topo_watch	*w;
	struct topo_change	 c[16];
	struct topo_watch_stats	 st;
	char			*big;
	size_t			 n, i, blen = 12000;
	int			 peer;

	w = watch_pair(&peer);
	SEND_LIT(peer, udev);
	SEND_LIT(peer, "garbage");
	SEND_LIT(peer, "add@/devices/system/cpu/cpu3");		/* no NUL */
	SEND_LIT(peer, "add@/devices/system/cpu/cpu3\0ACTION=add");
	SEND_LIT(peer, "noat\0ACTION=add\0");
	SEND_LIT(peer, "@/devices/system/cpu/cpu3\0");
	SEND_LIT(peer, "ADD@/devices/system/cpu/cpu3\0");
	SEND_LIT(peer, "add@devices/system/cpu/cpu3\0");
	SEND_LIT(peer, "add@/devices/system/cpu/cpu3\0ACTION=remove\0");
	SEND_LIT(peer, "add@/devices/system/cpu/cpu3\0DEVPATH=/x\0");
	SEND_LIT(peer, "add@/devices/system/cpu/cpu3\0garbage\0");
	SEND_LIT(peer, "add@/devices/system/cpu/cpu3\0\0");
	SEND_LIT(peer, "\0");
	send_raw(peer, "", 0);
	/*
	 * Oversized: far more than the kernel ever sends, made of whole
	 * KEY=VALUE strings so that any cut of it at a 4-byte boundary
	 * would still look valid.
	 */
	big = malloc(blen);
	ck_assert_ptr_nonnull(big);
	memcpy(big, "online@/devices/system/cpu/cpu3", 32);
	for (i = 32; i + 4 <= blen; i += 4)
		memcpy(big + i, "K=v", 4);
	ck_assert_uint_eq(i, blen);
	send_raw(peer, big, blen);
	free(big);
	/* Not cpu3: leading zero, overflow, a subfolder. */
	SEND_LIT(peer, "online@/devices/system/cpu/cpu03\0");
	SEND_LIT(peer, "online@/devices/system/cpu/cpu99999999999999999999\0");
	SEND_LIT(peer, "online@/devices/system/cpu/cpu3/\0");
	SEND_LIT(peer, "online@/devices/system/cpu/cpu\0");
	/* The one real change, without any keys after the header. */
	SEND_LIT(peer, "online@/devices/system/cpu/cpu3\0");

	n = drain(w, c, 16);
	ck_assert_uint_eq(n, 1);
	change_is(&c[0], TOPO_CPU_ONLINE, 3);
	topo_watch_get_stats(w, &st);
	ck_assert_uint_eq(st.messages, 20);
	ck_assert_uint_eq(st.udev, 1);
	ck_assert_uint_eq(st.malformed, 14);
	ck_assert_uint_eq(st.unrelated, 4);
	ck_assert_uint_eq(st.changes, 1);
	topo_watch_free(w);
	close(peer);
}
END_TEST

START_TEST(uevents_parse_direct)
{
	struct topo_change	c;
	static const char	ok[] = "add@/devices/system/memory/memory7\0"
	    "ACTION=add\0";
	static const char	bind[] = "bind@/devices/system/cpu/cpu1\0";

	memset(&c, 0, sizeof c);
	ck_assert_int_eq(topo_uevent_parse(ok, sizeof ok - 1, &c),
	    TOPO_UEVENT_CHANGE);
	change_is(&c, TOPO_MEM_ADDED, 7);
	/* Cut anywhere short of the end, it is no longer NUL-terminated. */
	ck_assert_int_eq(topo_uevent_parse(ok, sizeof ok - 2, &c),
	    TOPO_UEVENT_MALFORMED);
	ck_assert_int_eq(topo_uevent_parse(ok, 10, &c), TOPO_UEVENT_MALFORMED);
	ck_assert_int_eq(topo_uevent_parse(ok, 0, &c), TOPO_UEVENT_MALFORMED);
	ck_assert_int_eq(topo_uevent_parse("libudev", 7, &c),
	    TOPO_UEVENT_MALFORMED);
	ck_assert_int_eq(topo_uevent_parse("libudev\0", 8, &c),
	    TOPO_UEVENT_UDEV);
	ck_assert_int_eq(topo_uevent_parse(bind, sizeof bind - 1, &c),
	    TOPO_UEVENT_UNRELATED);
	/* A trailing empty string is not a KEY=VALUE. */
	ck_assert_int_eq(topo_uevent_parse(bind, sizeof bind, &c),
	    TOPO_UEVENT_MALFORMED);
}
END_TEST

START_TEST(uevents_max)
{
	struct topo_watch	*w;
	struct topo_change	 c[2];
	int			 peer;

	w = watch_pair(&peer);
	send_uevent(peer, "add", "/devices/system/memory/memory8", "memory");
	send_uevent(peer, "add", "/devices/system/memory/memory9", "memory");
	send_uevent(peer, "online", "/devices/system/memory/memory8", "memory");
	ck_assert_uint_eq(drain(w, c, 2), 2);
	change_is(&c[0], TOPO_MEM_ADDED, 8);
	change_is(&c[1], TOPO_MEM_ADDED, 9);
	ck_assert_uint_eq(drain(w, c, 2), 1);
	change_is(&c[0], TOPO_MEM_ONLINE, 8);
	ck_assert_uint_eq(drain(w, c, 2), 0);
	ck_assert_uint_eq(topo_watch_snapshot(w)->mem_blocks, 10);
	ck_assert_uint_eq(topo_watch_snapshot(w)->mem_blocks_online, 7);
	ck_assert_uint_eq(topo_watch_snapshot(w)->mem_online_bytes,
	    7 * (128ULL << 20));
	topo_watch_free(w);
	close(peer);
}
END_TEST

static size_t
rescan(struct topo_watch *w, struct topo_change *c, size_t max)
{
	size_t	 n = 99;
	char	*cause = NULL;

	if (topo_watch_rescan(w, c, max, &n, &cause) == -1)
		ck_abort_msg("topo_watch_rescan: %s", cause);
	ck_assert_uint_le(n, max);
	return n;
}

START_TEST(uevent_then_rescan)
{
	struct topo_watch	*w;
	struct topo_change	 c[8];
	int			 peer;

	/* What a uevent reported, a rescan must not report again. */
	w = watch_pair(&peer);
	ft_put("sys/devices/system/cpu/online", "0-2\n");
	ft_put("sys/devices/system/cpu/cpu2/online", "1\n");
	send_uevent(peer, "online", "/devices/system/cpu/cpu2", "cpu");
	ck_assert_uint_eq(drain(w, c, 8), 1);
	change_is(&c[0], TOPO_CPU_ONLINE, 2);
	ck_assert_uint_eq(rescan(w, c, 8), 0);

	/* What it missed, a rescan finds. */
	ft_put("sys/devices/system/cpu/online", "0-3\n");
	ck_assert_uint_eq(rescan(w, c, 8), 1);
	change_is(&c[0], TOPO_CPU_ONLINE, 3);
	topo_watch_free(w);
	close(peer);
}
END_TEST

START_TEST(rescan_fallback)
{
	struct topo_watch	*w;
	struct topo_change	 c[8];
	const struct topo	*t;
	char			*cause = NULL;

	w = topo_watch_open(root, TOPO_WATCH_POLL, &cause);
	if (w == NULL)
		ck_abort_msg("topo_watch_open: %s", cause);
	ck_assert_int_eq(topo_watch_fd(w), -1);
	ck_assert_ptr_nonnull(topo_watch_why_polling(w));
	ck_assert_uint_eq(drain(w, c, 8), 0);
	ck_assert_uint_eq(rescan(w, c, 8), 0);

	/* cpu2 goes online and a new block appears, already online. */
	ft_put("sys/devices/system/cpu/online", "0-2\n");
	ft_put("sys/devices/system/cpu/cpu2/online", "1\n");
	ft_put("sys/devices/system/memory/memory8/state", "online\n");
	ck_assert_uint_eq(rescan(w, c, 8), 3);
	change_is(&c[0], TOPO_CPU_ONLINE, 2);
	change_is(&c[1], TOPO_MEM_ADDED, 8);
	change_is(&c[2], TOPO_MEM_ONLINE, 8);
	ck_assert_uint_gt(c[0].time_ns, 0);
	ck_assert_uint_eq(rescan(w, c, 8), 0);

	/* Two more, read one change at a time: none lost, none twice. */
	ft_put("sys/devices/system/memory/memory9/state", "offline\n");
	ft_put("sys/devices/system/memory/memory10/state", "online\n");
	ck_assert_uint_eq(rescan(w, c, 1), 1);
	change_is(&c[0], TOPO_MEM_ADDED, 9);
	ck_assert_uint_eq(rescan(w, c, 1), 1);
	change_is(&c[0], TOPO_MEM_ADDED, 10);
	ck_assert_uint_eq(rescan(w, c, 1), 1);
	change_is(&c[0], TOPO_MEM_ONLINE, 10);
	ck_assert_uint_eq(rescan(w, c, 1), 0);
	t = topo_watch_snapshot(w);
	ck_assert_uint_eq(t->mem_blocks, 11);
	ck_assert_uint_eq(t->mem_blocks_online, 8);
	ck_assert_uint_eq(t->mem_online_bytes, 8 * (128ULL << 20));
	ck_assert_uint_eq(t->cpus_online, 3);

	/* A block taken away shows as offline then removed. */
	ft_rmtree(ft_at("sys/devices/system/memory/memory10"));
	ck_assert_uint_eq(rescan(w, c, 8), 2);
	change_is(&c[0], TOPO_MEM_OFFLINE, 10);
	change_is(&c[1], TOPO_MEM_REMOVED, 10);
	topo_watch_free(w);
}
END_TEST

START_TEST(watch_open_checks)
{
	struct topo_watch	*w;
	char			*cause = NULL;
	int			 sv[2];

	/* A stream has no message boundaries: refused, and the fd is closed. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_ptr_null(topo_watch_open(root, sv[0], &cause));
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(fcntl(sv[0], F_GETFD), -1);
	close(sv[1]);

	/* A root that cannot be read fails, and takes the fd with it too. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	ck_assert_ptr_null(topo_watch_open("/nonexistent/hotsoak", sv[0],
	    &cause));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(fcntl(sv[0], F_GETFD), -1);
	close(sv[1]);

	/* The real socket or a reason to poll, never neither. */
	w = topo_watch_open(root, TOPO_WATCH_NETLINK, &cause);
	if (w == NULL)
		ck_abort_msg("topo_watch_open: %s", cause);
	ck_assert((topo_watch_fd(w) >= 0) != (topo_watch_why_polling(w) != NULL));
	topo_watch_free(w);
	topo_watch_free(NULL);
}
END_TEST

START_TEST(seqpacket_eof)
{
	struct topo_watch	*w;
	struct topo_change	 c[4];
	size_t			 n;
	char			*cause = NULL;
	int			 sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	w = topo_watch_open(root, sv[0], &cause);
	ck_assert_ptr_nonnull(w);
	send_uevent(sv[1], "add", "/devices/system/cpu/cpu5", "cpu");
	close(sv[1]);
	/* What came before the end is handed over first. */
	ck_assert_int_eq(topo_watch_read(w, c, 4, &n, &cause), 0);
	ck_assert_uint_eq(n, 1);
	change_is(&c[0], TOPO_CPU_ADDED, 5);
	ck_assert_int_eq(topo_watch_read(w, c, 4, &n, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	topo_watch_free(w);
}
END_TEST

static void
set_range(uint64_t *map, unsigned a, unsigned b)
{
	unsigned	i;

	for (i = a; i <= b; i++)
		map[i / 64] |= 1ULL << (i % 64);
}

START_TEST(diff_snapshots)
{
	struct topo		*a, *b;
	struct topo_change	 c[16];
	size_t			 n;

	a = calloc(1, sizeof *a);
	b = calloc(1, sizeof *b);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	set_range(a->cpu_present, 0, 3);
	set_range(a->cpu_online, 0, 3);
	set_range(a->mem_present, 0, 3);
	set_range(a->mem_online, 0, 3);
	b->time_ns = 12345;
	/* cpu2 offline, cpu3 gone, cpu70 and cpu4095 new; memory2 offline, memory3 gone. */
	set_range(b->cpu_present, 0, 2);
	set_range(b->cpu_online, 0, 1);
	set_range(b->cpu_present, 70, 70);
	set_range(b->cpu_online, 70, 70);
	set_range(b->cpu_present, 4095, 4095);
	set_range(b->mem_present, 0, 2);
	set_range(b->mem_online, 0, 1);

	ck_assert_uint_eq(topo_diff(a, a, c, 16), 0);
	n = topo_diff(a, b, c, 16);
	ck_assert_uint_eq(n, 9);
	change_is(&c[0], TOPO_CPU_OFFLINE, 2);
	change_is(&c[1], TOPO_CPU_OFFLINE, 3);
	change_is(&c[2], TOPO_CPU_REMOVED, 3);
	change_is(&c[3], TOPO_CPU_ADDED, 70);
	change_is(&c[4], TOPO_CPU_ONLINE, 70);
	change_is(&c[5], TOPO_CPU_ADDED, 4095);
	change_is(&c[6], TOPO_MEM_OFFLINE, 2);
	change_is(&c[7], TOPO_MEM_OFFLINE, 3);
	change_is(&c[8], TOPO_MEM_REMOVED, 3);
	ck_assert_uint_eq(c[0].time_ns, 12345);

	/* Too small an array: the total says so, the front is the same. */
	memset(c, 0, sizeof c);
	ck_assert_uint_eq(topo_diff(a, b, c, 3), 9);
	change_is(&c[2], TOPO_CPU_REMOVED, 3);
	ck_assert_uint_eq(c[3].time_ns, 0);	/* nothing written past max */
	free(a);
	free(b);
}
END_TEST

START_TEST(change_names)
{
	int	i;

	for (i = 0; i < TOPO_CHANGE_COUNT; i++)
		ck_assert_ptr_nonnull(topo_change_names[i]);
	ck_assert_str_eq(topo_change_names[TOPO_MEM_ONLINE], "mem-online");
	ck_assert_str_eq(topo_change_names[TOPO_CPU_ADDED], "cpu-added");
}
END_TEST

#define BUF_PAGES	16

static uint64_t *
page_buf(size_t len)
{
	uint64_t	*p = aligned_alloc(MEMX_PAGE, len);

	ck_assert_ptr_nonnull(p);
	return p;
}

START_TEST(memx_clean)
{
	struct memx_result	 r;
	size_t			 len = BUF_PAGES * MEMX_PAGE;
	uint64_t		*buf = page_buf(len);

	memx_fill(buf, len, 42);
	ck_assert_uint_eq(memx_verify(buf, len, 42, &r), 0);
	ck_assert_uint_eq(r.mismatches, 0);
	ck_assert_uint_eq(r.bad_pages, 0);
	ck_assert_uint_eq(r.bytes, len);
	ck_assert_uint_eq(r.passes, 1);
	/* Another seed is another pattern everywhere. */
	ck_assert_uint_eq(memx_verify(buf, len, 43, &r), len / 8);
	ck_assert_uint_eq(r.bad_pages, BUF_PAGES);
	free(buf);
}
END_TEST

START_TEST(memx_flipped_bit)
{
	struct memx_result	 r;
	size_t			 len = BUF_PAGES * MEMX_PAGE;
	uint64_t		*buf = page_buf(len);
	uint64_t		 before;

	memx_fill(buf, len, 7);
	before = buf[(5 * MEMX_PAGE + 1000) / 8];
	buf[(5 * MEMX_PAGE + 1000) / 8] ^= 1ULL << 17;
	ck_assert_uint_eq(memx_verify(buf, len, 7, &r), 1);
	ck_assert_uint_eq(r.bad_pages, 1);
	ck_assert_uint_eq(r.first_page, 5);
	ck_assert_uint_eq(r.first_offset, 1000);
	ck_assert_uint_eq(r.first_expected, before);
	ck_assert_uint_eq(r.first_found, before ^ (1ULL << 17));
	ck_assert_uint_eq(r.first_found_page, MEMX_NO_PAGE);
	free(buf);
}
END_TEST

START_TEST(memx_swapped_pages)
{
	struct memx_result	 r;
	size_t			 len = BUF_PAGES * MEMX_PAGE;
	uint64_t		*buf = page_buf(len);
	char			 tmp[MEMX_PAGE], *p = (char *)buf;

	memx_fill(buf, len, 99);
	memcpy(tmp, p + 3 * MEMX_PAGE, MEMX_PAGE);
	memcpy(p + 3 * MEMX_PAGE, p + 9 * MEMX_PAGE, MEMX_PAGE);
	memcpy(p + 9 * MEMX_PAGE, tmp, MEMX_PAGE);
	ck_assert_uint_eq(memx_verify(buf, len, 99, &r), 2 * MEMX_PAGE / 8);
	ck_assert_uint_eq(r.bad_pages, 2);
	ck_assert_uint_eq(r.first_page, 3);
	ck_assert_uint_eq(r.first_offset, 0);
	ck_assert_uint_eq(r.first_found_page, 9);

	/* One page written over another: the victim, and whose data it holds. */
	memx_fill(buf, len, 99);
	memcpy(p + 12 * MEMX_PAGE, p + 2 * MEMX_PAGE, MEMX_PAGE);
	ck_assert_uint_eq(memx_verify(buf, len, 99, &r), MEMX_PAGE / 8);
	ck_assert_uint_eq(r.first_page, 12);
	ck_assert_uint_eq(r.first_found_page, 2);

	/* Page 0 (whose pattern has no page term) is named too. */
	memx_fill(buf, len, 99);
	memcpy(p + 1 * MEMX_PAGE + 64, p + 64, 8);
	ck_assert_uint_eq(memx_verify(buf, len, 99, &r), 1);
	ck_assert_uint_eq(r.first_page, 1);
	ck_assert_uint_eq(r.first_offset, 64);
	ck_assert_uint_eq(r.first_found_page, 0);
	free(buf);
}
END_TEST

START_TEST(memx_pattern_shape)
{
	size_t		 len = 4 * MEMX_PAGE, i;
	uint64_t	*a = page_buf(len), *b = page_buf(len);
	struct memx_result r;

	memx_fill(a, len, 5);
	memx_fill(b, len, 5 | MEMX_INVERT);
	for (i = 0; i < len / 8; i++)
		ck_assert_uint_eq(a[i], ~b[i]);
	/* Neighbours differ, in a page and across pages: a stuck address line cannot hide. */
	for (i = 1; i < len / 8; i++)
		ck_assert_uint_ne(a[i], a[i - 1]);
	for (i = 512; i < len / 8; i++)
		ck_assert_uint_ne(a[i], a[i - 512]);
	ck_assert_uint_eq(memx_verify(b, len, 5 | MEMX_INVERT, &r), 0);
	ck_assert_uint_eq(memx_verify(b, len, 5, &r), len / 8);

	/* A length that is not whole pages: the partial last page counts. */
	memx_fill(a, 3 * MEMX_PAGE + 27, 8);
	ck_assert_uint_eq(memx_verify(a, 3 * MEMX_PAGE + 27, 8, &r), 0);
	ck_assert_uint_eq(r.bytes, 3 * MEMX_PAGE + 24);
	a[3 * 512 + 2] ^= 1;
	ck_assert_uint_eq(memx_verify(a, 3 * MEMX_PAGE + 27, 8, &r), 1);
	ck_assert_uint_eq(r.first_page, 3);
	ck_assert_uint_eq(r.first_offset, 16);
	free(a);
	free(b);
}
END_TEST

START_TEST(memx_run_passes)
{
	struct memx_result	 r;
	char			*cause = NULL;

	if (memx_run(16ULL << 20, 1234, &r, &cause) == -1)
		ck_abort_msg("memx_run: %s", cause);
	ck_assert_uint_eq(r.bytes, 16ULL << 20);
	ck_assert_uint_eq(r.passes, 2);
	ck_assert_uint_eq(r.mismatches, 0);
	ck_assert_uint_eq(r.bad_pages, 0);
	ck_assert_uint_ge(r.ms, r.fill_ms + r.verify_ms);

	/* Not a whole page: rounded up. */
	if (memx_run(5000, 1, &r, &cause) == -1)
		ck_abort_msg("memx_run: %s", cause);
	ck_assert_uint_eq(r.bytes % MEMX_PAGE, 0);
	ck_assert_uint_ge(r.bytes, 5000);
	ck_assert_uint_eq(r.mismatches, 0);
}
END_TEST

START_TEST(memx_run_refuses)
{
	struct memx_result	 r;
	char			*cause = NULL;

	ck_assert_int_eq(memx_run(0, 1, &r, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(memx_run(1ULL << 62, 1, &r, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "available") != NULL, "cause: %s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(memx_run(UINT64_MAX, 1, &r, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
}
END_TEST

static Suite *
topo_suite(void)
{
	Suite	*s = suite_create("topo");
	TCase	*tc;

	tc = tcase_create("cpulist");
	tcase_add_test(tc, cpulist_valid);
	tcase_add_test(tc, cpulist_refused);
	tcase_add_test(tc, cpulist_format_short);
	tcase_add_test(tc, change_names);
	tcase_add_test(tc, diff_snapshots);
	tcase_add_test(tc, uevents_parse_direct);
	suite_add_tcase(s, tc);

	tc = tcase_create("sysfs");
	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	tcase_add_checked_fixture(tc, tree_setup, tree_teardown);
	tcase_add_test(tc, read_fake_tree);
	tcase_add_test(tc, read_sparse_memory);
	tcase_add_test(tc, read_without_lists);
	tcase_add_test(tc, read_errors);
	tcase_add_test(tc, online_cpus);
	tcase_add_test(tc, online_cpus_partial);
	tcase_add_test(tc, online_memory);
	tcase_add_test(tc, online_memory_partial);
	suite_add_tcase(s, tc);

	tc = tcase_create("watch");
	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	tcase_add_checked_fixture(tc, tree_setup, tree_teardown);
	tcase_add_test(tc, uevents_in_order);
	tcase_add_test(tc, uevents_ignored);
	tcase_add_test(tc, uevents_max);
	tcase_add_test(tc, uevent_then_rescan);
	tcase_add_test(tc, rescan_fallback);
	tcase_add_test(tc, watch_open_checks);
	tcase_add_test(tc, seqpacket_eof);
	suite_add_tcase(s, tc);

	tc = tcase_create("memx");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, memx_clean);
	tcase_add_test(tc, memx_flipped_bit);
	tcase_add_test(tc, memx_swapped_pages);
	tcase_add_test(tc, memx_pattern_shape);
	tcase_add_test(tc, memx_run_passes);
	tcase_add_test(tc, memx_run_refuses);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(topo_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
