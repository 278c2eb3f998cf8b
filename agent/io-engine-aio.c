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
