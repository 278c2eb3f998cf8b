/* topo.h: what CPUs and memory blocks the guest has and which are online,
 * read from sysfs, brought online on request, and watched for hot-add. */
#ifndef HOTSOAK_AGENT_TOPO_H
#define HOTSOAK_AGENT_TOPO_H

#include <stddef.h>
#include <stdint.h>

/* Linux's NR_CPUS on distribution kernels (x86-64 Debian: 8192 max, 512 set). */
#define TOPO_MAX_CPUS		4096
/*
 * Memory block indexes tracked in the bitmaps: with 128MiB blocks that is
 * 4TiB of physical address space, and big machines use 2GiB blocks. Blocks
 * past it are counted (mem_blocks_untracked) but not diffed.
 */
#define TOPO_MAX_MEM_BLOCKS	32768
#define TOPO_WORDS(bits)	(((bits) + 63) / 64)

/*
 * One snapshot. A plain value: copy it with `=`, no free. Bitmaps are
 * indexed by CPU number and memory block number (memoryN), bit i in word
 * i / 64. Every time_ns in this module is CLOCK_REALTIME, the clock the
 * agent's other reports use, so the daemon can line changes up with the
 * QMP events it saw.
 */
struct topo {
	uint64_t	time_ns;
	unsigned	cpus_possible;
	unsigned	cpus_present;
	unsigned	cpus_online;
	uint64_t	cpu_present[TOPO_WORDS(TOPO_MAX_CPUS)];
	uint64_t	cpu_online[TOPO_WORDS(TOPO_MAX_CPUS)];
	uint64_t	mem_block_size;		/* 0: no memory hotplug in sysfs */
	unsigned	mem_blocks;		/* including untracked */
	unsigned	mem_blocks_online;	/* including untracked */
	unsigned	mem_blocks_untracked;	/* index >= TOPO_MAX_MEM_BLOCKS */
	uint64_t	mem_present[TOPO_WORDS(TOPO_MAX_MEM_BLOCKS)];
	uint64_t	mem_online[TOPO_WORDS(TOPO_MAX_MEM_BLOCKS)];
	uint64_t	mem_online_bytes;	/* mem_blocks_online * mem_block_size */
	uint64_t	mem_total_kb;		/* MemTotal of /proc/meminfo */
};

/* Bit i of a topo bitmap of nbits; 0 past the end. */
int	topo_bit(const uint64_t *map, unsigned nbits, unsigned i);

/*
 * Parse a sysfs CPU list ("0-3,5", "" for none, one trailing newline
 * allowed) into map (nbits wide, cleared first) and the number of bits
 * set into *count (may be NULL). A number >= nbits, a reversed range or
 * anything else is -1 with an allocated *cause the caller frees; map is
 * then unspecified.
 */
int	topo_cpulist_parse(const char *s, uint64_t *map, unsigned nbits,
	    unsigned *count, char **cause);

/*
 * The list form of map ("0-1,4,6-7", "" when empty), cut short with "..."
 * when len is too small (and "" when not even that fits).
 */
void	topo_cpulist_format(const uint64_t *map, unsigned nbits, char *buf,
	    size_t len);

/*
 * Snapshot the machine under root ("/", or a fake tree in tests; NULL is
 * "/"): <root>/sys/devices/system/cpu/{possible,present,online} (from the
 * cpuN folders when a list file is missing), <root>/sys/devices/system/memory
 * (missing: no memory hotplug, not an error) and MemTotal of
 * <root>/proc/meminfo. -1 with an allocated *cause on error.
 */
int	topo_read(const char *root, struct topo *, char **cause);

/*
 * Write "1" to cpuN/online of every present CPU that is offline, one
 * after another (each write is ~270ms under TCG). A failure does not stop
 * the others: the result is -1 with the first error in *cause (allocated,
 * the caller frees) and *onlined counts those that went online.
 */
int	topo_online_cpus(const char *root, unsigned *onlined, char **cause);

/*
 * Write state ("online", "online_movable" or "online_kernel") to
 * memoryN/state of every offline block, lowest first. Errors as for
 * topo_online_cpus; an unknown state is refused before anything is written.
 */
int	topo_online_memory(const char *root, const char *state,
	    unsigned *onlined, char **cause);

enum topo_change_kind {
	TOPO_CPU_ADDED,		/* cpuN appeared (present) */
	TOPO_CPU_REMOVED,	/* cpuN went away */
	TOPO_CPU_ONLINE,	/* cpuN is running */
	TOPO_CPU_OFFLINE,	/* cpuN was taken offline */
	TOPO_MEM_ADDED,		/* memoryN appeared */
	TOPO_MEM_REMOVED,	/* memoryN went away */
	TOPO_MEM_ONLINE,	/* memoryN's pages are in use */
	TOPO_MEM_OFFLINE,	/* memoryN was offlined */
	TOPO_RESCAN,		/* events were lost: call topo_watch_rescan */
	TOPO_CHANGE_COUNT
};

/* "cpu-added", "mem-online", ...: the names reports carry. */
extern const char *const topo_change_names[TOPO_CHANGE_COUNT];

struct topo_change {
	enum topo_change_kind kind;
	unsigned	index;		/* N of cpuN or memoryN; 0 for TOPO_RESCAN */
	uint64_t	time_ns;	/* when the kernel queued it, else when seen */
};

/*
 * The changes from a to b, per CPU then per memory block, lowest index
 * first, each index in the order OFFLINE, REMOVED, ADDED, ONLINE; time_ns
 * is b's. Stores at most max; returns how many there are in all, so a
 * result above max says some were left out.
 */
size_t	topo_diff(const struct topo *a, const struct topo *b,
	    struct topo_change *changes, size_t max);

/* Update t as if c had been read from sysfs (counts too); TOPO_RESCAN and out-of-range indexes leave it alone. */
void	topo_apply(struct topo *t, const struct topo_change *c);

/* What one uevent message turned out to be. */
enum topo_uevent_result {
	TOPO_UEVENT_CHANGE,	/* a CPU or memory block add/remove/online/offline */
	TOPO_UEVENT_UNRELATED,	/* well formed, about something else */
	TOPO_UEVENT_UDEV,	/* udev's "libudev" rebroadcast: not the kernel's */
	TOPO_UEVENT_MALFORMED	/* not "action@devpath\0KEY=VALUE\0..." */
};

/*
 * Classify the kernel uevent in msg[0..len) and, for TOPO_UEVENT_CHANGE,
 * fill c's kind and index (not its time). Never reads past len.
 */
enum topo_uevent_result topo_uevent_parse(const char *msg, size_t len,
	    struct topo_change *c);

/* watch_open's uevent_fd: open a NETLINK_KOBJECT_UEVENT socket, or poll if that fails. */
#define TOPO_WATCH_NETLINK	-1
/* watch_open's uevent_fd: no uevents, topo_watch_rescan only. */
#define TOPO_WATCH_POLL		-2
/* How often to call topo_watch_rescan when topo_watch_fd is -1. */
#define TOPO_WATCH_RESCAN_MS	1000

struct topo_watch;

struct topo_watch_stats {
	uint64_t	messages;	/* datagrams read */
	uint64_t	changes;	/* changes they gave */
	uint64_t	unrelated;	/* well-formed uevents about other devices */
	uint64_t	udev;		/* libudev-format messages, ignored */
	uint64_t	malformed;	/* garbage, no NUL, oversized: ignored */
	uint64_t	foreign;	/* netlink messages not from the kernel */
	uint64_t	overflows;	/* ENOBUFS: the kernel dropped uevents */
	uint64_t	rescans;	/* sysfs rescans */
};

/*
 * Start watching the machine under root (copied). uevent_fd >= 0 is a
 * socket carrying kernel-format uevent datagrams (tests pass one end of a
 * socketpair); the watcher owns it from then on, even on error. With
 * TOPO_WATCH_NETLINK it opens the kernel's uevent socket and, when that is
 * refused (some containers), polls instead; topo_watch_why_polling says
 * why. The socket is opened before the first snapshot is taken so nothing
 * falls between them (a change may then be reported twice, never missed).
 * NULL with an allocated *cause when the first snapshot fails. The caller
 * frees the watcher with topo_watch_free.
 */
struct topo_watch *topo_watch_open(const char *root, int uevent_fd,
	    char **cause);
void	topo_watch_free(struct topo_watch *);

/* The descriptor to poll for input, or -1: call topo_watch_rescan every TOPO_WATCH_RESCAN_MS. */
int	topo_watch_fd(const struct topo_watch *);

/* NULL when uevents are read; else why not (owned by the watcher). */
const char *topo_watch_why_polling(const struct topo_watch *);

/*
 * Drain pending uevents without blocking into changes (at most max; *n
 * says how many). *n == max: more may be waiting, call again. Messages
 * that are not about CPUs or memory blocks are counted and skipped. The
 * watcher's snapshot follows the changes, so a later rescan does not
 * report them again. -1 with an allocated *cause when the socket fails.
 */
int	topo_watch_read(struct topo_watch *, struct topo_change *changes,
	    size_t max, size_t *n, char **cause);

/*
 * Read sysfs again and report what changed since the watcher's snapshot
 * (at most max, *n says how many; *n == max: call again for the rest,
 * none are lost). The fallback when there is no uevent socket, and the
 * answer to TOPO_RESCAN. Worth an occasional call with uevents too: in a
 * network namespace other than the first the kernel sends device uevents
 * nowhere, so the socket opens and stays silent; what uevents did report
 * is not reported again. -1 with an allocated *cause if topo_read fails.
 */
int	topo_watch_rescan(struct topo_watch *, struct topo_change *changes,
	    size_t max, size_t *n, char **cause);

/* The watcher's idea of the machine now (owned by the watcher). */
const struct topo *topo_watch_snapshot(const struct topo_watch *);

void	topo_watch_get_stats(const struct topo_watch *,
	    struct topo_watch_stats *);

#endif
