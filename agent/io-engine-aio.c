/* io-engine-aio.c: Linux native AIO through its raw system calls (no libaio,
 * so the agent links statically): real queue depth with O_DIRECT. */
#include "config.h"

#include <errno.h>
/* The kernel's struct io_event would clash with the engine's own. */
#define io_event io_event_kernel
#include <linux/aio_abi.h>
#undef io_event
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

struct aio_priv {
	aio_context_t		 ctx;
	struct io_event_kernel	*events;
	struct iocb		**list;
};

static int
aio_init(struct io_queue *q, unsigned depth, char **cause)
{
	struct aio_priv	*p;

	if ((p = calloc(1, sizeof *p)) == NULL ||
	    (p->events = calloc(depth, sizeof *p->events)) == NULL ||
	    (p->list = calloc(depth, sizeof *p->list)) == NULL) {
		if (p != NULL)
			free(p->events);
		free(p);
		*cause = strdup("out of memory");
		return -1;
	}
	if (syscall(SYS_io_setup, depth, &p->ctx) == -1) {
		if (asprintf(cause, "io_setup(%u): %s", depth,
		    strerror(errno)) == -1)
			*cause = NULL;
		free(p->events);
		free(p->list);
		free(p);
		return -1;
	}
	q->priv = p;
	return 0;
}

static int
aio_submit(struct io_queue *q, struct io_req **reqs, unsigned n)
{
	struct aio_priv	*p = q->priv;
	struct iocb	*cb;
	struct io_req	*r;
	unsigned	 i;
	long		 done;

	if (n > q->depth)
		n = q->depth;
	for (i = 0; i < n; i++) {
		r = reqs[i];
		if ((cb = r->engine_data) == NULL) {
			if ((cb = calloc(1, sizeof *cb)) == NULL)
				return i == 0 ? -1 : (int)i;
			r->engine_data = cb;
		}
		memset(cb, 0, sizeof *cb);
		cb->aio_data = (uint64_t)(uintptr_t)r;
		cb->aio_lio_opcode = r->write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
		cb->aio_fildes = (uint32_t)q->fd;
		cb->aio_buf = (uint64_t)(uintptr_t)r->buf;
		cb->aio_nbytes = r->len;
		cb->aio_offset = (int64_t)r->offset;
		p->list[i] = cb;
	}
	/*
	 * One call for the batch: the kernel starts a prefix of it and says
	 * how long. EAGAIN: the ring is full for now.
	 */
	do
		done = syscall(SYS_io_submit, p->ctx, (long)n, p->list);
	while (done == -1 && errno == EINTR);
	return (int)done;
}

/*
 * The completion ring the kernel maps at the context's address (fs/aio.c):
 * stable since 2.6, and what fio's userspace_reap and others read.
 */
struct aio_ring {
	unsigned	id;
	unsigned	nr;		/* events the ring holds */
	unsigned	head;		/* next to consume: ours to advance */
	unsigned	tail;		/* next the kernel fills */
	unsigned	magic;
	unsigned	compat_features;
	unsigned	incompat_features;
	unsigned	header_length;
	struct io_event_kernel events[];
};

#define AIO_RING_MAGIC	0xa10a10a1

/*
 * Completions already in the ring, taken without a system call: at queue
 * depth, one io_getevents per completion is a large share of the cost.
 */
static int
ring_reap(struct aio_priv *p, struct io_req **done, unsigned max)
{
	struct aio_ring	*ring = (struct aio_ring *)(uintptr_t)p->ctx;
	unsigned	 head, tail, n = 0;
	struct io_req	*r;

	if (ring == NULL || ring->magic != AIO_RING_MAGIC ||
	    ring->incompat_features != 0)
		return 0;
	head = ring->head;
	tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
	while (head != tail && n < max) {
		r = (struct io_req *)(uintptr_t)ring->events[head].data;
		r->result = ring->events[head].res;
		done[n++] = r;
		head = (head + 1) % ring->nr;
	}
	if (n > 0)
		__atomic_store_n(&ring->head, head, __ATOMIC_RELEASE);
	return (int)n;
}

static int
aio_reap(struct io_queue *q, struct io_req **done, unsigned max,
    uint64_t timeout_ns)
{
	struct aio_priv		*p = q->priv;
	struct timespec		 ts;
	struct io_req		*r;
	long			 n, i;

	if (max > q->depth)
		max = q->depth;
	if ((n = ring_reap(p, done, max)) > 0)
		return (int)n;
	ts.tv_sec = (time_t)(timeout_ns / 1000000000ULL);
	ts.tv_nsec = (long)(timeout_ns % 1000000000ULL);
	n = syscall(SYS_io_getevents, p->ctx, 1, (long)max, p->events, &ts);
	if (n == -1)
		return errno == EINTR ? 0 : -1;
	for (i = 0; i < n; i++) {
		r = (struct io_req *)(uintptr_t)p->events[i].data;
		r->result = p->events[i].res;
		done[i] = r;
	}
	return (int)n;
}

static void
aio_cleanup(struct io_queue *q)
{
	struct aio_priv	*p = q->priv;

	if (p == NULL)
		return;
	/* io_destroy waits for what is still in flight. */
	syscall(SYS_io_destroy, p->ctx);
	free(p->events);
	free(p->list);
	free(p);
	q->priv = NULL;
}

const struct io_engine_ops io_engine_aio = {
	.name = "aio",
	.init = aio_init,
	.submit = aio_submit,
	.reap = aio_reap,
	.cleanup = aio_cleanup,
};
