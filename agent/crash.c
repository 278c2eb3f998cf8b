/* crash.c: the agent's part in fault injection: it brings the guest kernel
 * down on purpose (SysRq c), having first told the daemon that it will. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent-int.h"
#include "log.h"

/* How long the acceptance may take to leave before the crash goes ahead. */
#define CRASH_FLUSH_MS	2000

/*
 * Every failure the daemon can be told about happens before the reply:
 * once the trigger is written there is, on a real kernel, no agent left to
 * send an error. So the trigger is opened first (a kernel without SysRq has
 * no such file) and written only after the reply has gone out.
 */
enum agent_req_result
crash_request(struct agent *a, const struct link_req *req, const json_t *obj)
{
	char	path[4096];
	ssize_t	n;
	int	fd;

	/* proto.c's table lets only method "sysrq" through: obj needs no look. */
	snprintf(path, sizeof path, "%s/proc/sysrq-trigger",
	    strcmp(a->root, "/") ? a->root : "");
	/*
	 * Nothing is written to /proc/sys/kernel/sysrq first: that mask limits
	 * the keyboard only, and the kernel obeys root's writes to the trigger
	 * whatever it says. No O_CREAT: under --root a missing trigger must
	 * fail as it would in a guest, not become a file.
	 */
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
		link_error(a->link, req, PROTO_E_FAILED, "%s: %s", path,
		    strerror(errno));
		return AGENT_REQ_DONE;
	}
	link_reply(a->link, req, json_pack("{s:s}", "method", "sysrq"));
	/* After a real panic the loop never runs again to send it: push it now. */
	if (!link_drain(a->link, CRASH_FLUSH_MS))
		log_warnx("crash: the reply may not have reached the daemon");
	log_warnx("crash: panicking the kernel as the daemon asked (sysrq c)");
	/* Written data reaches the disk: the panic is the fault, not lost cache. */
	sync();
	do
		n = write(fd, "c", 1);
	while (n == -1 && errno == EINTR);
	/* Only a kernel that did not panic gets here; the daemon's deadline tells. */
	if (n == -1)
		log_warn("crash: %s", path);
	else
		log_warnx("crash: %s took the write and the kernel runs on", path);
	close(fd);
	return AGENT_REQ_DONE;
}
