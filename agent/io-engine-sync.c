/* io-engine-sync.c: pread/pwrite done at submit, for targets Linux AIO
 * refuses (some file systems without O_DIRECT); depth is really 1. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "io.h"

struct sync_priv {
	struct io_req	**ready;
	unsigned	  n;
};

static int
sync_init(struct io_queue *q, unsigned depth, char **cause)
{
	struct sync_priv	*p;

	if ((p = calloc(1, sizeof *p)) == NULL ||
	    (p->ready = calloc(depth, sizeof *p->ready)) == NULL) {
		free(p);
		*cause = NULL;
		return -1;
	}
	q->priv = p;
	return 0;
}

static int
sync_submit(struct io_queue *q, struct io_req **reqs, unsigned n)
{
	struct sync_priv	*p = q->priv;
	struct io_req		*r;
	ssize_t			 got;
	unsigned		 i;

	for (i = 0; i < n; i++) {
		if (p->n >= q->depth) {
			errno = EAGAIN;
			return i == 0 ? -1 : (int)i;
		}
		r = reqs[i];
		do
			got = r->write ? pwrite(q->fd, r->buf, r->len,
			    (off_t)r->offset) : pread(q->fd, r->buf, r->len,
			    (off_t)r->offset);
		while (got == -1 && errno == EINTR);
		r->result = got == -1 ? -errno : got;
		p->ready[p->n++] = r;
	}
	return (int)n;
}

static int
sync_reap(struct io_queue *q, struct io_req **done, unsigned max,
    uint64_t timeout_ns)
{
	struct sync_priv	*p = q->priv;
	unsigned		 i, n = p->n < max ? p->n : max;

	for (i = 0; i < n; i++)
		done[i] = p->ready[i];
	for (i = n; i < p->n; i++)
		p->ready[i - n] = p->ready[i];
	p->n -= n;
	return (int)n;
}

static void
sync_cleanup(struct io_queue *q)
{
	struct sync_priv	*p = q->priv;

	if (p == NULL)
		return;
	free(p->ready);
	free(p);
	q->priv = NULL;
}

const struct io_engine_ops io_engine_sync = {
	.name = "sync",
	.init = sync_init,
	.submit = sync_submit,
	.reap = sync_reap,
	.cleanup = sync_cleanup,
};
