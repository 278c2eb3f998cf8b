/* channel.c: parse a channel spec and open it: unix and TCP sockets the
 * agent connects (nonblocking), virtio-serial ports found by name, devices. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "channel.h"
#include "hotsoak/util.h"

#define VIRTIO_PORTS	"sys/class/virtio-ports"
#define PORT_NAME_MAX	256	/* a virtio-serial port name, newline included */

struct channel {
	enum channel_kind	 kind;
	char			*spec;
	char			*root;
	char			*path;		/* unix, dev; virtio: the port name */
	char			*host;		/* tcp */
	char			*port;		/* tcp */
	struct addrinfo		*ai;		/* tcp: the addresses being tried */
	struct addrinfo		*next;		/* the one to try next */
	char			*last_error;	/* tcp: why the last address failed */
};

static int
parse_tcp(struct channel *ch, const char *rest, char **cause)
{
	const char	*colon = strrchr(rest, ':'), *p;
	size_t		 hlen;
	long		 port;

	if (colon == NULL || colon == rest || colon[1] == '\0')
		return cause_set(cause, "channel `tcp:%s`: expected tcp:HOST:PORT", rest);
	for (p = colon + 1; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return cause_set(cause, "channel `tcp:%s`: port `%s` is not a "
			    "number", rest, colon + 1);
	port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535 || strlen(colon + 1) > 5)
		return cause_set(cause, "channel `tcp:%s`: port must be 1 to 65535",
		    rest);
	hlen = (size_t)(colon - rest);
	/* [::1]:80: the brackets are only there to be read. */
	if (rest[0] == '[') {
		if (hlen < 3 || rest[hlen - 1] != ']')
			return cause_set(cause, "channel `tcp:%s`: unbalanced `[`", rest);
		rest++;
		hlen -= 2;
	}
	if ((ch->host = strndup(rest, hlen)) == NULL ||
	    (ch->port = strdup(colon + 1)) == NULL)
		return cause_set(cause, "%s", strerror(ENOMEM));
	return 0;
}

struct channel *
channel_new(const char *spec, const char *root, char **cause)
{
	struct channel	*ch;
	const char	*rest;
	int		 rc = 0;

	*cause = NULL;
	if ((ch = calloc(1, sizeof *ch)) == NULL ||
	    (ch->spec = strdup(spec)) == NULL ||
	    (ch->root = strdup(root != NULL ? root : "/")) == NULL) {
		cause_set(cause, "%s", strerror(ENOMEM));
		channel_free(ch);
		return NULL;
	}
	if (strncmp(spec, "unix:", 5) == 0) {
		ch->kind = CHANNEL_UNIX;
		rest = spec + 5;
		if (*rest == '\0' || strlen(rest) >=
		    sizeof(((struct sockaddr_un *)NULL)->sun_path))
			rc = cause_set(cause, "channel `%s`: the socket path must be 1 "
			    "to %zu bytes", spec,
			    sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
		else if ((ch->path = strdup(rest)) == NULL)
			rc = cause_set(cause, "%s", strerror(ENOMEM));
	} else if (strncmp(spec, "tcp:", 4) == 0) {
		ch->kind = CHANNEL_TCP;
		rc = parse_tcp(ch, spec + 4, cause);
	} else if (strncmp(spec, "virtio:", 7) == 0) {
		ch->kind = CHANNEL_VIRTIO;
		rest = spec + 7;
		if (*rest == '\0' || strchr(rest, '\n') != NULL ||
		    strlen(rest) >= PORT_NAME_MAX)
			rc = cause_set(cause, "channel `%s`: expected virtio:NAME, such "
			    "as virtio:org.hotsoak.agent", spec);
		else if ((ch->path = strdup(rest)) == NULL)
			rc = cause_set(cause, "%s", strerror(ENOMEM));
	} else if (strncmp(spec, "dev:", 4) == 0 || spec[0] == '/') {
		ch->kind = CHANNEL_DEV;
		rest = spec[0] == '/' ? spec : spec + 4;
		if (rest[0] != '/')
			rc = cause_set(cause, "channel `%s`: the device path must be "
			    "absolute", spec);
		else if ((ch->path = strdup(rest)) == NULL)
			rc = cause_set(cause, "%s", strerror(ENOMEM));
	} else
		rc = cause_set(cause, "channel `%s`: expected unix:PATH, tcp:HOST:PORT, "
		    "virtio:NAME, dev:PATH or an absolute device path", spec);
	if (rc == -1) {
		channel_free(ch);
		return NULL;
	}
	return ch;
}

void
channel_free(struct channel *ch)
{
	if (ch == NULL)
		return;
	if (ch->ai != NULL)
		freeaddrinfo(ch->ai);
	free(ch->last_error);
	free(ch->spec);
	free(ch->root);
	free(ch->path);
	free(ch->host);
	free(ch->port);
	free(ch);
}

enum channel_kind
channel_kind(const struct channel *ch)
{
	return ch->kind;
}

const char *
channel_spec(const struct channel *ch)
{
	return ch->spec;
}

bool
channel_is_socket(const struct channel *ch)
{
	return ch->kind == CHANNEL_UNIX || ch->kind == CHANNEL_TCP;
}

/* <root>/<rel>, without a doubled slash. */
static int
root_join(char *buf, size_t len, const char *root, const char *rel)
{
	int	n;

	if (strcmp(root, "/") == 0)
		n = snprintf(buf, len, "/%s", rel);
	else
		n = snprintf(buf, len, "%s%s%s", root,
		    root[strlen(root) - 1] == '/' ? "" : "/", rel);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Whether the name file at path holds name (one trailing newline allowed). */
static int
port_name_is(const char *path, const char *name)
{
	char	buf[PORT_NAME_MAX + 1];
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[--n] = '\0';
	return strcmp(buf, name) == 0;
}

int
channel_virtio_find(const char *root, const char *name, char *path,
    size_t len, char **cause)
{
	char		 dir[PATH_MAX], file[PATH_MAX + 300], rel[300];
	DIR		*d;
	struct dirent	*de;
	int		 found = 0;

	if (root_join(dir, sizeof dir, root, VIRTIO_PORTS) == -1)
		return cause_set(cause, "%s: %s", VIRTIO_PORTS, strerror(errno));
	if ((d = opendir(dir)) == NULL)
		return cause_set(cause, "no virtio-serial port `%s`: %s: %s", name,
		    dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof file, "%s/%s/name", dir, de->d_name);
		if (!port_name_is(file, name))
			continue;
		snprintf(rel, sizeof rel, "dev/%s", de->d_name);
		if (root_join(path, len, root, rel) == -1) {
			closedir(d);
			return cause_set(cause, "%s: %s", rel, strerror(errno));
		}
		found = 1;
		break;
	}
	closedir(d);
	if (!found)
		return cause_set(cause, "no virtio-serial port is named `%s` (%s/*/name)",
		    name, dir);
	return 0;
}

/*
 * A character device, read-write once: a virtio-serial port refuses a
 * second open (EBUSY). A tty (a serial line, or a pty in tests) is put in
 * raw mode so that the line discipline neither echoes nor edits the JSON.
 */
static int
open_device(const char *path, char **cause)
{
	struct termios	 t;
	struct stat	 st;
	int		 fd;

	if ((fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) == -1)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISCHR(st.st_mode)) {
		close(fd);
		return cause_set(cause, "%s: not a character device", path);
	}
	if (isatty(fd) && tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		(void)tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

static int
connect_unix(const struct channel *ch, char **cause)
{
	struct sockaddr_un	sun;
	socklen_t		slen;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, ch->path, strlen(ch->path));
	slen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(ch->path) + 1);
	if (ch->path[0] == '@') {
		sun.sun_path[0] = '\0';		/* Linux's abstract namespace */
		slen--;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return cause_set(cause, "socket: %s", strerror(errno));
	/* A unix connect completes or fails at once (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&sun, slen) == -1) {
		cause_set(cause, "connect %s: %s", ch->path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
tcp_reset(struct channel *ch)
{
	if (ch->ai != NULL)
		freeaddrinfo(ch->ai);
	ch->ai = ch->next = NULL;
}

static void
tcp_note(struct channel *ch, const struct addrinfo *ai, int err)
{
	char	host[NI_MAXHOST];

	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, NULL, 0,
	    NI_NUMERICHOST) != 0)
		snprintf(host, sizeof host, "?");
	free(ch->last_error);
	if (asprintf(&ch->last_error, "connect %s port %s: %s", host, ch->port,
	    strerror(err)) == -1)
		ch->last_error = NULL;
}

static int
connect_tcp(struct channel *ch, bool *pending, char **cause)
{
	struct addrinfo	 hints, *ai;
	int		 fd, rc, one = 1;

	if (ch->ai == NULL) {
		memset(&hints, 0, sizeof hints);
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		if ((rc = getaddrinfo(ch->host, ch->port, &hints, &ch->ai)) != 0) {
			ch->ai = NULL;
			return cause_set(cause, "%s: %s", ch->host,
			    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		}
		ch->next = ch->ai;
		free(ch->last_error);
		ch->last_error = NULL;
	}
	while ((ai = ch->next) != NULL) {
		ch->next = ai->ai_next;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			tcp_note(ch, ai, errno);
			continue;
		}
		/* Lines are small and each is a message: do not hold them back. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof one);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			*pending = false;
			return fd;
		}
		if (errno == EINPROGRESS) {
			*pending = true;
			return fd;
		}
		tcp_note(ch, ai, errno);
		close(fd);
	}
	cause_set(cause, "%s", ch->last_error != NULL ? ch->last_error :
	    "no address to connect to");
	tcp_reset(ch);
	return -1;
}

int
channel_connect(struct channel *ch, bool *pending, char **cause)
{
	char	path[PATH_MAX];

	*pending = false;
	*cause = NULL;
	switch (ch->kind) {
	case CHANNEL_UNIX:
		return connect_unix(ch, cause);
	case CHANNEL_TCP:
		return connect_tcp(ch, pending, cause);
	case CHANNEL_VIRTIO:
		/* Looked up on every open: ports come and go with the device. */
		if (channel_virtio_find(ch->root, ch->path, path, sizeof path,
		    cause) == -1)
			return -1;
		return open_device(path, cause);
	case CHANNEL_DEV:
		return open_device(ch->path, cause);
	}
	return cause_set(cause, "bad channel kind");
}

int
channel_finish(struct channel *ch, int fd, char **cause)
{
	int		err = 0;
	socklen_t	len = sizeof err;

	*cause = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0)
		return 0;
	free(ch->last_error);
	if (asprintf(&ch->last_error, "connect %s port %s: %s", ch->host,
	    ch->port, strerror(err)) == -1)
		ch->last_error = NULL;
	return cause_set(cause, "%s", ch->last_error != NULL ? ch->last_error :
	    strerror(err));
}
