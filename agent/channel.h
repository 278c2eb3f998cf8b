/* channel.h: the byte stream to hotsoakd: a unix or TCP socket the agent
 * connects to, or a character device (a virtio-serial port found by name). */
#ifndef HOTSOAK_AGENT_CHANNEL_H
#define HOTSOAK_AGENT_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>

enum channel_kind {
	CHANNEL_UNIX,		/* unix:PATH (unix:@NAME: abstract) */
	CHANNEL_TCP,		/* tcp:HOST:PORT, IPv4, [IPv6] or a name */
	CHANNEL_VIRTIO,		/* virtio:NAME, the port whose name file says NAME */
	CHANNEL_DEV		/* dev:PATH or an absolute path: a character device */
};

struct channel;

/*
 * Parses spec; root ("/" or a fake tree; NULL is "/") prefixes the sysfs
 * and /dev paths of a virtio:NAME lookup. Nothing is opened yet. NULL with
 * an allocated *cause (the caller frees) when spec is not a channel.
 */
struct channel	*channel_new(const char *spec, const char *root, char **cause);
void		 channel_free(struct channel *);

enum channel_kind channel_kind(const struct channel *);
/* The spec as given, for logs. */
const char	*channel_spec(const struct channel *);
/* Sockets are written with send(MSG_NOSIGNAL), devices with write. */
bool		 channel_is_socket(const struct channel *);

/*
 * Starts a connection (sockets) or opens the device; the descriptor is
 * nonblocking and close-on-exec. A TCP connect may still be in progress
 * (*pending): poll the descriptor for POLLOUT, then channel_finish. -1
 * with an allocated *cause when nothing is left to try; the next call
 * starts again (a TCP name is resolved again).
 */
int		 channel_connect(struct channel *, bool *pending, char **cause);

/*
 * After POLLOUT on a pending connect: 0 when connected; -1 with *cause
 * when that address failed (close fd; channel_connect tries the next).
 */
int		 channel_finish(struct channel *, int fd, char **cause);

/*
 * The device of the virtio-serial port named name: the folder under
 * <root>/sys/class/virtio-ports whose name file holds name, as
 * <root>/dev/<folder>, into path. -1 with *cause when there is none.
 */
int		 channel_virtio_find(const char *root, const char *name,
		    char *path, size_t len, char **cause);

#endif
