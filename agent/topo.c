/* topo.c: CPUs and memory blocks as sysfs shows them, onlining what a
 * hot-add left offline, and a watcher on kernel uevents with a rescan fallback. */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <linux/netlink.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "topo.h"
#include "hotsoak/util.h"

#define CPU_DIR		"sys/devices/system/cpu"
#define MEM_DIR		"sys/devices/system/memory"
#define MEMINFO		"proc/meminfo"

/* The kernel's UEVENT_BUFFER_SIZE is 2048: anything longer is not its. */
#define UEVENT_MAX	8192
/* Actions are short words ("offline" is the longest): a long one is garbage. */
#define ACTION_MAX	16
/* What we read is small; a list of 4096 lone CPUs is ~20KB. */
#define SMALL_FILE_MAX	(1024 * 1024)
/* Bursts of uevents (a big DIMM: add + online per block) must fit. */
#define UEVENT_RCVBUF	(1024 * 1024)

const char *const topo_change_names[TOPO_CHANGE_COUNT] = {
	[TOPO_CPU_ADDED] = "cpu-added",
	[TOPO_CPU_REMOVED] = "cpu-removed",
	[TOPO_CPU_ONLINE] = "cpu-online",
	[TOPO_CPU_OFFLINE] = "cpu-offline",
	[TOPO_MEM_ADDED] = "mem-added",
	[TOPO_MEM_REMOVED] = "mem-removed",
	[TOPO_MEM_ONLINE] = "mem-online",
	[TOPO_MEM_OFFLINE] = "mem-offline",
	[TOPO_RESCAN] = "rescan",
};

struct topo_watch {
	char			*root;
	int			 fd;		/* -1: polling */
	int			 netlink;	/* our own socket: only the kernel may speak */
	int			 seqpacket;	/* a read of 0 is end of file */
	char			*why_polling;
	struct topo		 last;		/* what has been reported so far */
	struct topo		 scratch;	/* rescans read into it */
	struct topo_watch_stats	 stats;
	char			 buf[UEVENT_MAX];
};

/* Memory blocks whose state a caller wants, lowest first. */
struct index_list {
	unsigned	*v;
	size_t		 n;
	size_t		 cap;
};

/* Called per memoryN folder; -1 stops the walk. */
typedef int (*mem_block_cb)(unsigned index, int online, void *arg,
    char **cause);

static int	path_join(char *, size_t, const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/* root's trailing slashes are dropped so "/" and "/tmp/x/" both join cleanly. */
static int
path_join(char *buf, size_t len, const char *root, const char *fmt, ...)
{
	va_list	ap;
	size_t	rl;
	int	n, m;

	if (root == NULL)
		root = "/";
	rl = strlen(root);
	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	if (rl > INT_MAX)
		goto toolong;
	n = snprintf(buf, len, "%.*s/", (int)rl, root);
	if (n < 0 || (size_t)n >= len)
		goto toolong;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= len - (size_t)n)
		goto toolong;
	return 0;
toolong:
	errno = ENAMETOOLONG;
	return -1;
}

/*
 * The whole of a small file, NUL-terminated, into *out (caller frees).
 * Loops to EOF: sysfs sizes are all 4096 whatever the content. errno is
 * kept on -1 so callers can tell a missing file from a broken one.
 */
static int
slurp(const char *path, char **out)
{
	char	*buf = NULL, *nb;
	size_t	 len = 0, size = 0;
	ssize_t	 r;
	int	 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	for (;;) {
		if (size - len < 2) {
			if (size >= SMALL_FILE_MAX) {
				errno = EFBIG;
				goto err;
			}
			size = size == 0 ? 4096 : size * 2;
			if ((nb = realloc(buf, size)) == NULL)
				goto err;
			buf = nb;
		}
		r = read(fd, buf + len, size - len - 1);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			goto err;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return 0;
err:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return -1;
}

/* One write(2) of value: sysfs acts on each write, so it must not be split. */
static int
write_attr(const char *path, const char *value)
{
	size_t	len = strlen(value);
	ssize_t	r;
	int	fd, saved;

	if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) == -1)
		return -1;
	do
		r = write(fd, value, len);
	while (r == -1 && errno == EINTR);
	if (r >= 0 && (size_t)r != len) {
		r = -1;
		errno = EIO;
	}
	saved = errno;
	if (close(fd) == -1 && r != -1) {
		r = -1;
		saved = errno;
	}
	errno = saved;
	return r == -1 ? -1 : 0;
}

/* Strict decimal: no sign, no blanks, no leading zeros ("cpu01" is not cpu1). */
static int
parse_index(const char *s, size_t len, unsigned long max, unsigned long *out)
{
	unsigned long	v = 0;
	size_t		i;

	if (len == 0 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (unsigned long)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int
topo_bit(const uint64_t *map, unsigned nbits, unsigned i)
{
	if (i >= nbits)
		return 0;
	return (int)((map[i / 64] >> (i % 64)) & 1);
}

static void
bit_set(uint64_t *map, unsigned i)
{
	map[i / 64] |= 1ULL << (i % 64);
}

static void
bit_clear(uint64_t *map, unsigned i)
{
	map[i / 64] &= ~(1ULL << (i % 64));
}

static unsigned
bit_count(const uint64_t *map, unsigned nbits)
{
	unsigned	i, n = 0;

	for (i = 0; i < TOPO_WORDS(nbits); i++)
		n += (unsigned)__builtin_popcountll(map[i]);
	return n;
}

/* Reads a number of the list at s[*i], stopping at the first non-digit. */
static int
list_number(const char *s, size_t len, size_t *i, unsigned nbits,
    unsigned long *v)
{
	size_t	start = *i;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9')
		(*i)++;
	/* Leading zeros are fine here; only the range matters. */
	while (start + 1 < *i && s[start] == '0')
		start++;
	if (parse_index(s + start, *i - start, ULONG_MAX, v) == -1)
		return -1;
	return *v < nbits ? 0 : -1;
}

int
topo_cpulist_parse(const char *s, uint64_t *map, unsigned nbits,
    unsigned *count, char **cause)
{
	unsigned long	a, b, c;
	size_t		len = strlen(s), i = 0, at;

	memset(map, 0, TOPO_WORDS(nbits) * sizeof map[0]);
	if (len > 0 && s[len - 1] == '\n')
		len--;
	while (len > 0) {
		at = i;
		if (list_number(s, len, &i, nbits, &a) == -1)
			goto bad;
		b = a;
		if (i < len && s[i] == '-') {
			i++;
			at = i;
			if (list_number(s, len, &i, nbits, &b) == -1)
				goto bad;
			if (b < a)
				return cause_set(cause, "CPU list `%.*s`: range %lu-%lu "
				    "runs backwards", (int)(len > 64 ? 64 : len),
				    s, a, b);
		}
		for (c = a; c <= b; c++)
			bit_set(map, (unsigned)c);
		if (i == len)
			break;
		at = i;
		if (s[i] != ',')
			goto bad;
		i++;
		if (i == len)
			goto bad;
	}
	if (count != NULL)
		*count = bit_count(map, nbits);
	return 0;
bad:
	return cause_set(cause, "CPU list `%.*s`: bad at offset %zu (want numbers "
	    "below %u, a-b ranges, commas)", (int)(len > 64 ? 64 : len), s, at,
	    nbits);
}

/* First set bit at or after i, or nbits. */
static unsigned
next_set(const uint64_t *map, unsigned nbits, unsigned i)
{
	while (i < nbits && !topo_bit(map, nbits, i))
		i++;
	return i;
}

void
topo_cpulist_format(const uint64_t *map, unsigned nbits, char *buf,
    size_t len)
{
	char		piece[32];
	size_t		off = 0, room;
	unsigned	i, j = 0;
	int		n;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = next_set(map, nbits, 0); i < nbits;
	    i = next_set(map, nbits, j + 1)) {
		for (j = i; j + 1 < nbits && topo_bit(map, nbits, j + 1); j++)
			;
		if (i == j)
			n = snprintf(piece, sizeof piece, "%s%u",
			    off > 0 ? "," : "", i);
		else
			n = snprintf(piece, sizeof piece, "%s%u-%u",
			    off > 0 ? "," : "", i, j);
		/* Keep room for "..." unless this is the last piece. */
		room = next_set(map, nbits, j + 1) < nbits ? 3 : 0;
		if (n < 0 || off + (size_t)n + room >= len) {
			if (off + 3 < len)
				memcpy(buf + off, "...", 4);
			return;
		}
		memcpy(buf + off, piece, (size_t)n + 1);
		off += (size_t)n;
	}
}

/* One list file of the cpu folder: 0, 1 when it does not exist, -1 on error. */
static int
cpu_list_read(const char *root, const char *name, uint64_t *map,
    unsigned *count, char **cause)
{
	char	 path[PATH_MAX], *s, *why = NULL;

	if (path_join(path, sizeof path, root, CPU_DIR "/%s", name) == -1)
		return cause_set(cause, "%s: %s", name, strerror(errno));
	if (slurp(path, &s) == -1) {
		if (errno == ENOENT)
			return 1;
		return cause_set(cause, "%s: %s", path, strerror(errno));
	}
	if (topo_cpulist_parse(s, map, TOPO_MAX_CPUS, count, &why) == -1) {
		free(s);
		cause_set(cause, "%s: %s", path, why != NULL ? why : "bad CPU list");
		free(why);
		return -1;
	}
	free(s);
	return 0;
}

/*
 * Without a list file (old kernels, trimmed trees), the cpuN folders say
 * which CPUs are present and their online files which run; a CPU with no
 * online file (cpu0 on x86) cannot be taken offline, so it runs.
 */
static int
cpu_dirs_read(const char *root, uint64_t *present, uint64_t *online,
    char **cause)
{
	char		 path[PATH_MAX], *s;
	DIR		*d;
	struct dirent	*de;
	unsigned long	 idx;
	int		 rc = 0;

	if (path_join(path, sizeof path, root, CPU_DIR) == -1 ||
	    (d = opendir(path)) == NULL)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "cpu", 3) != 0 ||
		    parse_index(de->d_name + 3, strlen(de->d_name + 3),
		    TOPO_MAX_CPUS - 1, &idx) == -1)
			continue;
		if (present != NULL)
			bit_set(present, (unsigned)idx);
		if (online == NULL)
			continue;
		if (path_join(path, sizeof path, root, CPU_DIR "/cpu%lu/online",
		    idx) == -1) {
			rc = cause_set(cause, "cpu%lu: %s", idx, strerror(errno));
			break;
		}
		if (slurp(path, &s) == -1) {
			if (errno == ENOENT) {
				bit_set(online, (unsigned)idx);
				continue;
			}
			rc = cause_set(cause, "%s: %s", path, strerror(errno));
			break;
		}
		if (s[0] == '1')
			bit_set(online, (unsigned)idx);
		else if (s[0] != '0') {
			rc = cause_set(cause, "%s: `%.16s` is neither 0 nor 1", path, s);
			free(s);
			break;
		}
		free(s);
	}
	closedir(d);
	return rc;
}

static int
cpus_read(const char *root, struct topo *t, char **cause)
{
	uint64_t	possible[TOPO_WORDS(TOPO_MAX_CPUS)];
	int		has_present, has_online, has_possible;

	if ((has_present = cpu_list_read(root, "present", t->cpu_present,
	    &t->cpus_present, cause)) == -1)
		return -1;
	if ((has_online = cpu_list_read(root, "online", t->cpu_online,
	    &t->cpus_online, cause)) == -1)
		return -1;
	if ((has_possible = cpu_list_read(root, "possible", possible,
	    &t->cpus_possible, cause)) == -1)
		return -1;
	if (has_present == 1 || has_online == 1) {
		if (cpu_dirs_read(root, has_present == 1 ? t->cpu_present : NULL,
		    has_online == 1 ? t->cpu_online : NULL, cause) == -1)
			return -1;
		t->cpus_present = bit_count(t->cpu_present, TOPO_MAX_CPUS);
		t->cpus_online = bit_count(t->cpu_online, TOPO_MAX_CPUS);
	}
	if (has_possible == 1)
		t->cpus_possible = t->cpus_present;
	return 0;
}

/*
 * A block is online when its state starts with "online" (the kernel says
 * "online"; a fake tree may hold the "online_movable" that was written).
 * "offline" and "going-offline" are not. Old kernels only have "online".
 * 1 when the block vanished under us (a hot-remove): skip it.
 */
static int
mem_block_online(const char *root, unsigned long idx, int *online,
    char **cause)
{
	char	path[PATH_MAX], *s;

	if (path_join(path, sizeof path, root, MEM_DIR "/memory%lu/state",
	    idx) == -1)
		return cause_set(cause, "memory%lu: %s", idx, strerror(errno));
	if (slurp(path, &s) == 0) {
		*online = strncmp(s, "online", 6) == 0;
		free(s);
		return 0;
	}
	if (errno != ENOENT)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	if (path_join(path, sizeof path, root, MEM_DIR "/memory%lu/online",
	    idx) == -1)
		return cause_set(cause, "memory%lu: %s", idx, strerror(errno));
	if (slurp(path, &s) == -1) {
		if (errno == ENOENT)
			return 1;
		return cause_set(cause, "%s: %s", path, strerror(errno));
	}
	*online = s[0] == '1';
	free(s);
	return 0;
}

/* Calls cb for each memoryN folder; 1 when there is no memory folder at all. */
static int
mem_walk(const char *root, mem_block_cb cb, void *arg, char **cause)
{
	char		 path[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	unsigned long	 idx;
	int		 online = 0, r, rc = 0;

	if (path_join(path, sizeof path, root, MEM_DIR) == -1)
		return cause_set(cause, "%s: %s", MEM_DIR, strerror(errno));
	if ((d = opendir(path)) == NULL) {
		if (errno == ENOENT)
			return 1;
		return cause_set(cause, "%s: %s", path, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "memory", 6) != 0 ||
		    parse_index(de->d_name + 6, strlen(de->d_name + 6),
		    UINT_MAX, &idx) == -1)
			continue;
		if ((r = mem_block_online(root, idx, &online, cause)) == -1) {
			rc = -1;
			break;
		}
		if (r == 1)
			continue;
		if (cb((unsigned)idx, online, arg, cause) == -1) {
			rc = -1;
			break;
		}
	}
	closedir(d);
	return rc;
}

static int
mem_count_cb(unsigned idx, int online, void *arg, char **cause)
{
	struct topo	*t = arg;

	t->mem_blocks++;
	if (online)
		t->mem_blocks_online++;
	if (idx >= TOPO_MAX_MEM_BLOCKS) {
		t->mem_blocks_untracked++;
		return 0;
	}
	bit_set(t->mem_present, idx);
	if (online)
		bit_set(t->mem_online, idx);
	return 0;
}

/* block_size_bytes is hex without 0x ("8000000" is 128MiB). */
static int
mem_block_size_read(const char *root, uint64_t *size, char **cause)
{
	char			 path[PATH_MAX], *s, *end;
	unsigned long long	 v;

	if (path_join(path, sizeof path, root, MEM_DIR "/block_size_bytes") == -1)
		return cause_set(cause, "block_size_bytes: %s", strerror(errno));
	if (slurp(path, &s) == -1) {
		if (errno == ENOENT)
			return 1;
		return cause_set(cause, "%s: %s", path, strerror(errno));
	}
	errno = 0;
	v = strtoull(s, &end, 16);
	if (s[0] == '\0' || s[0] == '-' || s[0] == '+' || s[0] == ' ' ||
	    errno != 0 || v == 0 || (*end != '\0' && strcmp(end, "\n") != 0)) {
		cause_set(cause, "%s: `%.32s` is not a hex block size", path, s);
		free(s);
		return -1;
	}
	free(s);
	*size = v;
	return 0;
}

static int
mem_read(const char *root, struct topo *t, char **cause)
{
	int	r;

	if ((r = mem_block_size_read(root, &t->mem_block_size, cause)) == -1)
		return -1;
	if (r == 1)
		return 0;	/* no memory hotplug: nothing to watch */
	if (mem_walk(root, mem_count_cb, t, cause) == -1)
		return -1;
	t->mem_online_bytes = (uint64_t)t->mem_blocks_online * t->mem_block_size;
	return 0;
}

static int
meminfo_read(const char *root, uint64_t *kb, char **cause)
{
	char			 path[PATH_MAX], *s, *p, *end;
	unsigned long long	 v;

	if (path_join(path, sizeof path, root, MEMINFO) == -1 ||
	    slurp(path, &s) == -1)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	p = s;
	while (strncmp(p, "MemTotal:", 9) != 0) {
		if ((p = strchr(p, '\n')) == NULL)
			break;
		p++;
	}
	if (p == NULL) {
		free(s);
		return cause_set(cause, "%s: no MemTotal", path);
	}
	p += 9;
	while (*p == ' ' || *p == '\t')
		p++;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (end == p || errno != 0 || *p == '-') {
		free(s);
		return cause_set(cause, "%s: bad MemTotal", path);
	}
	free(s);
	*kb = v;
	return 0;
}

int
topo_read(const char *root, struct topo *t, char **cause)
{
	memset(t, 0, sizeof *t);
	if (cpus_read(root, t, cause) == -1)
		return -1;
	if (mem_read(root, t, cause) == -1)
		return -1;
	if (meminfo_read(root, &t->mem_total_kb, cause) == -1)
		return -1;
	/* After the reads: the state is known to hold no earlier than this. */
	t->time_ns = clock_wall_ns();
	return 0;
}

/* Ends a keep-going loop: the first error, prefixed with how many failed. */
static int
finish_batch(unsigned failed, unsigned done, const char *what, char *first,
    char **cause)
{
	if (failed == 0) {
		free(first);
		return 0;
	}
	cause_set(cause, "%u of %u offline %s stayed offline; first: %s", failed,
	    failed + done, what, first != NULL ? first : "out of memory");
	free(first);
	return -1;
}

int
topo_online_cpus(const char *root, unsigned *onlined, char **cause)
{
	struct topo	*t;
	char		 path[PATH_MAX], *first = NULL;
	unsigned	 i, failed = 0;

	*onlined = 0;
	if ((t = calloc(1, sizeof *t)) == NULL)
		return cause_set(cause, "%s", strerror(errno));
	if (cpus_read(root, t, cause) == -1) {
		free(t);
		return -1;
	}
	for (i = 0; i < TOPO_MAX_CPUS; i++) {
		if (!topo_bit(t->cpu_present, TOPO_MAX_CPUS, i) ||
		    topo_bit(t->cpu_online, TOPO_MAX_CPUS, i))
			continue;
		if (path_join(path, sizeof path, root, CPU_DIR "/cpu%u/online",
		    i) == -1 || write_attr(path, "1") == -1) {
			if (failed++ == 0 && asprintf(&first, "cpu%u: %s: %s", i,
			    path, strerror(errno)) == -1)
				first = NULL;
			continue;
		}
		(*onlined)++;
	}
	free(t);
	return finish_batch(failed, *onlined, "CPUs", first, cause);
}

static int
mem_offline_cb(unsigned idx, int online, void *arg, char **cause)
{
	struct index_list	*l = arg;
	unsigned		*nv;
	size_t			 ncap;

	if (online)
		return 0;
	if (l->n == l->cap) {
		ncap = l->cap == 0 ? 64 : l->cap * 2;
		if ((nv = reallocarray(l->v, ncap, sizeof *nv)) == NULL)
			return cause_set(cause, "%s", strerror(errno));
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = idx;
	return 0;
}

static int
index_cmp(const void *a, const void *b)
{
	unsigned	x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

int
topo_online_memory(const char *root, const char *state, unsigned *onlined,
    char **cause)
{
	struct index_list	 l = { NULL, 0, 0 };
	char			 path[PATH_MAX], *first = NULL;
	unsigned		 failed = 0;
	size_t			 i;
	int			 r;

	*onlined = 0;
	if (strcmp(state, "online") != 0 && strcmp(state, "online_movable") != 0 &&
	    strcmp(state, "online_kernel") != 0)
		return cause_set(cause, "memory state `%s` is not online, "
		    "online_movable or online_kernel", state);
	if ((r = mem_walk(root, mem_offline_cb, &l, cause)) == -1) {
		free(l.v);
		return -1;
	}
	/*
	 * Lowest first, as the kernel's own auto-online does; ZONE_MOVABLE
	 * must sit above ZONE_NORMAL, so the order can decide what succeeds.
	 */
	qsort(l.v, l.n, sizeof l.v[0], index_cmp);
	for (i = 0; i < l.n; i++) {
		if (path_join(path, sizeof path, root, MEM_DIR "/memory%u/state",
		    l.v[i]) == -1 || write_attr(path, state) == -1) {
			if (failed++ == 0 && asprintf(&first, "memory%u: %s: %s",
			    l.v[i], path, strerror(errno)) == -1)
				first = NULL;
			continue;
		}
		(*onlined)++;
	}
	free(l.v);
	return finish_batch(failed, *onlined, "memory blocks", first, cause);
}

static void
emit(struct topo_change *changes, size_t max, size_t *n,
    enum topo_change_kind kind, unsigned index, uint64_t time_ns)
{
	if (*n < max) {
		changes[*n].kind = kind;
		changes[*n].index = index;
		changes[*n].time_ns = time_ns;
	}
	(*n)++;
}

/* The changes between two pairs of (present, online) bitmaps; kinds[] is OFFLINE, REMOVED, ADDED, ONLINE. */
static void
diff_maps(const uint64_t *pa, const uint64_t *oa, const uint64_t *pb,
    const uint64_t *ob, unsigned nbits, const enum topo_change_kind kinds[4],
    uint64_t time_ns, struct topo_change *changes, size_t max, size_t *n)
{
	unsigned	w, i, b;

	for (w = 0; w < TOPO_WORDS(nbits); w++) {
		if (pa[w] == pb[w] && oa[w] == ob[w])
			continue;
		for (b = 0; b < 64; b++) {
			i = w * 64 + b;
			if (topo_bit(oa, nbits, i) && !topo_bit(ob, nbits, i))
				emit(changes, max, n, kinds[0], i, time_ns);
			if (topo_bit(pa, nbits, i) && !topo_bit(pb, nbits, i))
				emit(changes, max, n, kinds[1], i, time_ns);
			if (!topo_bit(pa, nbits, i) && topo_bit(pb, nbits, i))
				emit(changes, max, n, kinds[2], i, time_ns);
			if (!topo_bit(oa, nbits, i) && topo_bit(ob, nbits, i))
				emit(changes, max, n, kinds[3], i, time_ns);
		}
	}
}

size_t
topo_diff(const struct topo *a, const struct topo *b,
    struct topo_change *changes, size_t max)
{
	static const enum topo_change_kind cpu_kinds[4] = {
		TOPO_CPU_OFFLINE, TOPO_CPU_REMOVED, TOPO_CPU_ADDED, TOPO_CPU_ONLINE
	};
	static const enum topo_change_kind mem_kinds[4] = {
		TOPO_MEM_OFFLINE, TOPO_MEM_REMOVED, TOPO_MEM_ADDED, TOPO_MEM_ONLINE
	};
	size_t	n = 0;

	diff_maps(a->cpu_present, a->cpu_online, b->cpu_present, b->cpu_online,
	    TOPO_MAX_CPUS, cpu_kinds, b->time_ns, changes, max, &n);
	diff_maps(a->mem_present, a->mem_online, b->mem_present, b->mem_online,
	    TOPO_MAX_MEM_BLOCKS, mem_kinds, b->time_ns, changes, max, &n);
	return n;
}

/* Set or clear bit i, keeping *count in step; counts stay right for untracked blocks too. */
static void
track(uint64_t *map, unsigned i, int on, unsigned *count)
{
	if (topo_bit(map, ~0U, i) == on)
		return;
	if (on) {
		bit_set(map, i);
		(*count)++;
	} else {
		bit_clear(map, i);
		(*count)--;
	}
}

void
topo_apply(struct topo *t, const struct topo_change *c)
{
	unsigned	i = c->index;

	switch (c->kind) {
	case TOPO_CPU_ADDED:
	case TOPO_CPU_REMOVED:
	case TOPO_CPU_ONLINE:
	case TOPO_CPU_OFFLINE:
		if (i >= TOPO_MAX_CPUS)
			return;
		if (c->kind == TOPO_CPU_ADDED || c->kind == TOPO_CPU_ONLINE)
			track(t->cpu_present, i, 1, &t->cpus_present);
		if (c->kind == TOPO_CPU_ONLINE)
			track(t->cpu_online, i, 1, &t->cpus_online);
		if (c->kind == TOPO_CPU_REMOVED || c->kind == TOPO_CPU_OFFLINE)
			track(t->cpu_online, i, 0, &t->cpus_online);
		if (c->kind == TOPO_CPU_REMOVED)
			track(t->cpu_present, i, 0, &t->cpus_present);
		break;
	case TOPO_MEM_ADDED:
	case TOPO_MEM_REMOVED:
	case TOPO_MEM_ONLINE:
	case TOPO_MEM_OFFLINE:
		if (i >= TOPO_MAX_MEM_BLOCKS)
			return;
		if (c->kind == TOPO_MEM_ADDED || c->kind == TOPO_MEM_ONLINE)
			track(t->mem_present, i, 1, &t->mem_blocks);
		if (c->kind == TOPO_MEM_ONLINE)
			track(t->mem_online, i, 1, &t->mem_blocks_online);
		if (c->kind == TOPO_MEM_REMOVED || c->kind == TOPO_MEM_OFFLINE)
			track(t->mem_online, i, 0, &t->mem_blocks_online);
		if (c->kind == TOPO_MEM_REMOVED)
			track(t->mem_present, i, 0, &t->mem_blocks);
		t->mem_online_bytes = (uint64_t)t->mem_blocks_online *
		    t->mem_block_size;
		break;
	case TOPO_RESCAN:
	case TOPO_CHANGE_COUNT:
		break;
	}
}

/* "<prefix><index>" and nothing after: "cpu1/cache" is not cpu1. */
static int
devpath_index(const char *devpath, const char *prefix, unsigned *index)
{
	size_t		pl = strlen(prefix);
	unsigned long	v;

	if (strncmp(devpath, prefix, pl) != 0 ||
	    parse_index(devpath + pl, strlen(devpath + pl), UINT_MAX, &v) == -1)
		return -1;
	*index = (unsigned)v;
	return 0;
}

enum topo_uevent_result
topo_uevent_parse(const char *msg, size_t len, struct topo_change *c)
{
	static const struct {
		const char		*action;
		enum topo_change_kind	 cpu, mem;
	} actions[] = {
		{ "add", TOPO_CPU_ADDED, TOPO_MEM_ADDED },
		{ "remove", TOPO_CPU_REMOVED, TOPO_MEM_REMOVED },
		{ "online", TOPO_CPU_ONLINE, TOPO_MEM_ONLINE },
		{ "offline", TOPO_CPU_OFFLINE, TOPO_MEM_OFFLINE },
	};
	const char	*at, *devpath, *p, *eq, *end = msg + len;
	size_t		 hlen, alen, i;
	unsigned	 index;

	/* udevd's rebroadcast: "libudev\0", a binary header, then properties. */
	if (len >= 8 && memcmp(msg, "libudev", 8) == 0)
		return TOPO_UEVENT_UDEV;
	/* Every string ends in NUL, so from here strlen stays inside msg. */
	if (len == 0 || msg[len - 1] != '\0')
		return TOPO_UEVENT_MALFORMED;
	hlen = strlen(msg);
	if ((at = memchr(msg, '@', hlen)) == NULL)
		return TOPO_UEVENT_MALFORMED;
	alen = (size_t)(at - msg);
	if (alen == 0 || alen > ACTION_MAX)
		return TOPO_UEVENT_MALFORMED;
	for (i = 0; i < alen; i++)
		if (msg[i] < 'a' || msg[i] > 'z')
			return TOPO_UEVENT_MALFORMED;
	devpath = at + 1;
	if (devpath[0] != '/')
		return TOPO_UEVENT_MALFORMED;
	/* KEY=VALUE strings; ACTION and DEVPATH, when there, must agree. */
	for (p = msg + hlen + 1; p < end; p += strlen(p) + 1) {
		if ((eq = strchr(p, '=')) == NULL || eq == p)
			return TOPO_UEVENT_MALFORMED;
		if (strncmp(p, "ACTION=", 7) == 0 &&
		    (strlen(p + 7) != alen || memcmp(p + 7, msg, alen) != 0))
			return TOPO_UEVENT_MALFORMED;
		if (strncmp(p, "DEVPATH=", 8) == 0 && strcmp(p + 8, devpath) != 0)
			return TOPO_UEVENT_MALFORMED;
	}
	for (i = 0; i < sizeof actions / sizeof actions[0]; i++)
		if (strlen(actions[i].action) == alen &&
		    memcmp(actions[i].action, msg, alen) == 0)
			break;
	if (i == sizeof actions / sizeof actions[0])
		return TOPO_UEVENT_UNRELATED;	/* change, move, bind, ... */
	if (devpath_index(devpath, "/devices/system/cpu/cpu", &index) == 0)
		c->kind = actions[i].cpu;
	else if (devpath_index(devpath, "/devices/system/memory/memory",
	    &index) == 0)
		c->kind = actions[i].mem;
	else
		return TOPO_UEVENT_UNRELATED;
	c->index = index;
	return TOPO_UEVENT_CHANGE;
}

/* Kernel receive times where the socket gives them: closer to the event than our read. */
static void
want_timestamps(int fd)
{
	int	on = 1;

	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
}

/*
 * The kernel's uevent multicast group. Refusal is expected in some
 * containers; *why (allocated) then says what happened.
 */
static int
uevent_open(char **why)
{
	struct sockaddr_nl	sa;
	int			fd, size = UEVENT_RCVBUF;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_KOBJECT_UEVENT);
	if (fd == -1)
		return cause_set(why, "uevent socket: %s", strerror(errno));
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = 1;	/* the kernel's group; udevd's is 2 */
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		cause_set(why, "uevent bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	want_timestamps(fd);
	return fd;
}

struct topo_watch *
topo_watch_open(const char *root, int uevent_fd, char **cause)
{
	struct topo_watch	*w;
	int			 type;
	socklen_t		 tl = sizeof type;

	if ((w = calloc(1, sizeof *w)) == NULL) {
		if (uevent_fd >= 0)
			close(uevent_fd);
		cause_set(cause, "%s", strerror(errno));
		return NULL;
	}
	w->fd = -1;
	if ((w->root = strdup(root != NULL ? root : "/")) == NULL) {
		if (uevent_fd >= 0)
			close(uevent_fd);
		cause_set(cause, "%s", strerror(errno));
		goto err;
	}
	if (uevent_fd >= 0) {
		w->fd = uevent_fd;
		/* A stream would run messages together; their boundaries are the format. */
		if (getsockopt(w->fd, SOL_SOCKET, SO_TYPE, &type, &tl) == -1 ||
		    (type != SOCK_DGRAM && type != SOCK_SEQPACKET)) {
			cause_set(cause, "uevent descriptor %d is not a datagram socket",
			    uevent_fd);
			goto err;
		}
		w->seqpacket = type == SOCK_SEQPACKET;
		want_timestamps(w->fd);
	} else if (uevent_fd == TOPO_WATCH_NETLINK) {
		if ((w->fd = uevent_open(&w->why_polling)) != -1)
			w->netlink = 1;
		else if (w->why_polling == NULL)
			goto oom;
	} else if (uevent_fd == TOPO_WATCH_POLL) {
		if ((w->why_polling = strdup("polling was asked for")) == NULL)
			goto oom;
	} else {
		cause_set(cause, "bad uevent descriptor %d", uevent_fd);
		goto err;
	}
	if (topo_read(w->root, &w->last, cause) == -1)
		goto err;
	return w;
oom:
	cause_set(cause, "%s", strerror(ENOMEM));
err:
	topo_watch_free(w);
	return NULL;
}

void
topo_watch_free(struct topo_watch *w)
{
	if (w == NULL)
		return;
	if (w->fd != -1)
		close(w->fd);
	free(w->why_polling);
	free(w->root);
	free(w);
}

int
topo_watch_fd(const struct topo_watch *w)
{
	return w->fd;
}

const char *
topo_watch_why_polling(const struct topo_watch *w)
{
	return w->why_polling;
}

const struct topo *
topo_watch_snapshot(const struct topo_watch *w)
{
	return &w->last;
}

void
topo_watch_get_stats(const struct topo_watch *w, struct topo_watch_stats *s)
{
	*s = w->stats;
}

/* The kernel's SCM_TIMESTAMPNS of a message, else now. */
static uint64_t
message_time(struct msghdr *mh)
{
	struct cmsghdr	*cm;
	struct timespec	 ts;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof ts)) {
			memcpy(&ts, CMSG_DATA(cm), sizeof ts);
			if (ts.tv_sec > 0)
				return (uint64_t)ts.tv_sec * 1000000000ULL +
				    (uint64_t)ts.tv_nsec;
		}
	}
	return clock_wall_ns();
}

int
topo_watch_read(struct topo_watch *w, struct topo_change *changes,
    size_t max, size_t *n, char **cause)
{
	struct sockaddr_nl	 sa;
	struct iovec		 iov;
	struct msghdr		 mh;
	struct topo_change	 c;
	union {
		struct cmsghdr	 align;
		char		 buf[CMSG_SPACE(sizeof(struct timespec)) + 64];
	}			 cm;
	ssize_t			 r;

	*n = 0;
	if (w->fd == -1)
		return 0;
	while (*n < max) {
		memset(&mh, 0, sizeof mh);
		memset(&sa, 0, sizeof sa);
		iov.iov_base = w->buf;
		iov.iov_len = sizeof w->buf;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (w->netlink) {
			mh.msg_name = &sa;
			mh.msg_namelen = sizeof sa;
		}
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof cm.buf;
		r = recvmsg(w->fd, &mh, MSG_DONTWAIT);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {
				/* The kernel dropped some: only sysfs knows what. */
				w->stats.overflows++;
				emit(changes, max, n, TOPO_RESCAN, 0, clock_wall_ns());
				continue;
			}
			/* Hand over what was read; the error will still be there. */
			if (*n > 0)
				break;
			return cause_set(cause, "uevent socket: %s", strerror(errno));
		}
		/* On a seqpacket socket 0 is the peer gone, not a message. */
		if (r == 0 && w->seqpacket) {
			if (*n > 0)
				break;
			return cause_set(cause, "uevent socket closed by its peer");
		}
		w->stats.messages++;
		if (mh.msg_flags & MSG_TRUNC) {
			w->stats.malformed++;
			continue;
		}
		/* Only the kernel (port 0) speaks for the hardware. */
		if (w->netlink && (mh.msg_namelen < sizeof sa || sa.nl_pid != 0)) {
			w->stats.foreign++;
			continue;
		}
		memset(&c, 0, sizeof c);
		switch (topo_uevent_parse(w->buf, (size_t)r, &c)) {
		case TOPO_UEVENT_CHANGE:
			c.time_ns = message_time(&mh);
			topo_apply(&w->last, &c);
			emit(changes, max, n, c.kind, c.index, c.time_ns);
			w->stats.changes++;
			break;
		case TOPO_UEVENT_UNRELATED:
			w->stats.unrelated++;
			break;
		case TOPO_UEVENT_UDEV:
			w->stats.udev++;
			break;
		case TOPO_UEVENT_MALFORMED:
			w->stats.malformed++;
			break;
		}
	}
	return 0;
}

int
topo_watch_rescan(struct topo_watch *w, struct topo_change *changes,
    size_t max, size_t *n, char **cause)
{
	struct topo	*now = &w->scratch;
	size_t		 total, i;

	*n = 0;
	if (topo_read(w->root, now, cause) == -1)
		return -1;
	w->stats.rescans++;
	total = topo_diff(&w->last, now, changes, max);
	if (total <= max) {
		*n = total;
		w->last = *now;
		return 0;
	}
	/* Take in only what was reported; the next rescan finds the rest. */
	*n = max;
	for (i = 0; i < max; i++)
		topo_apply(&w->last, &changes[i]);
	w->last.cpus_possible = now->cpus_possible;
	w->last.mem_block_size = now->mem_block_size;
	w->last.mem_total_kb = now->mem_total_kb;
	w->last.time_ns = now->time_ns;
	return 0;
}
