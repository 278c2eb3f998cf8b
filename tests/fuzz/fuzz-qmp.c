/* fuzz-qmp.c: libFuzzer target for the QMP client's reader: any bytes, split
 * anywhere, fed to a detached client with commands waiting; every callback
 * runs once, down at most once and after them, whatever the input. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: a flags byte, two seed bytes, then the stream.
 *   flags & 1	a greeting and the capabilities' answer go first, so that
 *		the rest reaches commands and events
 *   flags & 2	commands wait before the stream, and a callback or the
 *		ready hook sends more
 *   flags & 4	the stream ends with QEMU hanging up (an empty feed)
 *   flags & 8	a hook or a callback frees the client at its Nth call
 *   flags & 0xf0 == 0xf0
 *		insert a run of 'x' within 8 bytes of QMP_MAX_MESSAGE long
 *		(the seed says where and how long), to reach the limit:
 *		jansson takes some 15 ms for a line that long under ASan,
 *		so one input in sixteen
 */
#define CMDS_MAX	16

static const char	prologue[] = "{\"QMP\": {\"version\": {\"qemu\": "
    "{\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"\"}, "
    "\"capabilities\": [\"oob\"]}}\r\n{\"return\": {}}\r\n";

static struct {
	struct qmp	*qmp;
	bool		 in_command;	/* inside qmp_command: no hook may run */
	unsigned	 calls;		/* hooks and callbacks */
	unsigned	 free_at;	/* 0: never */
	unsigned	 readies;
	unsigned	 downs;
	unsigned	 cmds;
	unsigned	 done[CMDS_MAX];	/* callbacks per command */
	unsigned	 more;		/* commands callbacks may still send */
	char		 why[512];
} F;

static void	send_one(void);

/* Callbacks qmp_free runs see F.qmp NULL. */
static void
client_free(void)
{
	struct qmp	*q = F.qmp;

	F.qmp = NULL;
	qmp_free(q);
}

/* Every hook: none inside qmp_command, none after down; maybe free. */
static void
hooked(void)
{
	if (F.in_command || F.downs != 0 || F.qmp == NULL)
		abort();
	if (++F.calls == F.free_at)
		client_free();
}

static void
why_check(const char *why)
{
	const char	*p;

	if (why == NULL || strncmp(why, "QMP: ", 5) != 0)
		abort();
	for (p = why; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e)
			abort();
	}
}

static void
on_ready(void *arg, json_t *greeting)
{
	if (!qmp_ready(F.qmp) || F.readies++ != 0 || qmp_version(F.qmp) == NULL)
		abort();
	if (!json_is_object(json_object_get(greeting, "QMP")))
		abort();
	hooked();
	if (F.qmp != NULL && F.more > 0) {
		F.more--;
		send_one();
	}
}

static void
on_event(void *arg, const char *name, json_t *data, uint64_t time_ns)
{
	if (name == NULL || qmp_version(F.qmp) == NULL)
		abort();
	hooked();
}

static void
on_down(void *arg, const char *why)
{
	unsigned	i;

	why_check(why);
	/* Every command's callback first. */
	for (i = 0; i < F.cmds; i++) {
		if (F.done[i] != 1)
			abort();
	}
	if (qmp_ready(F.qmp))
		abort();
	hooked();
	F.downs++;
	snprintf(F.why, sizeof F.why, "%s", why);
}

static void
on_result(void *arg, int error, const char *class, const char *desc,
    json_t *ret)
{
	unsigned	i = (unsigned)(uintptr_t)arg;

	if (i >= F.cmds || F.done[i]++ != 0)
		abort();
	if (error == 0 ? class != NULL || desc != NULL || ret == NULL :
	    error != -1 || class == NULL || desc == NULL || ret != NULL)
		abort();
	if (F.qmp == NULL) {
		/* Only cancelled ones, from inside qmp_free. */
		if (error == 0 || (strcmp(class, QMP_E_CANCELLED) != 0 &&
		    strcmp(class, QMP_E_DOWN) != 0))
			abort();
		return;
	}
	if (error == -1 && strcmp(class, QMP_E_DOWN) == 0)
		why_check(desc);
	hooked();
	if (F.qmp != NULL && F.more > 0) {
		F.more--;
		send_one();
	}
}

static const struct qmp_hooks hooks = { on_ready, on_event, on_down, NULL };

static const char *const names[] = { "query-status", "stop", "cont",
    "device_del", "qom-list" };

static void
send_one(void)
{
	unsigned	 i = F.cmds;
	json_t		*args;
	char		*cause = NULL;
	int		 rc;

	if (i >= CMDS_MAX)
		return;
	args = i % 2 ? json_pack("{s:s}", "id", "dev1") : NULL;
	F.cmds++;
	F.in_command = true;
	rc = qmp_command(F.qmp, names[i % 5], args, 0, on_result,
	    (void *)(uintptr_t)i, &cause);
	F.in_command = false;
	if (rc == -1) {
		/* Refused: no callback, ever; only once the link is over. */
		if (cause == NULL || qmp_ready(F.qmp))
			abort();
		F.done[i] = 1;
		free(cause);
	} else if (cause != NULL)
		abort();
}

static uint32_t
next(uint32_t *x)
{
	/* xorshift32: splits that replay from the input alone. */
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Feeds n bytes; false once the client is gone or refused the input. */
static bool
feed(const uint8_t *p, size_t n)
{
	char	*cause = NULL;
	int	 rc;

	rc = qmp_feed(F.qmp, p, n, &cause);
	if (rc == 0) {
		if (cause != NULL || (F.downs != 0 && F.qmp != NULL))
			abort();
		return F.qmp != NULL;
	}
	if (rc != -1 || cause == NULL)
		abort();
	why_check(cause);
	/* Down was told the same, unless a hook freed the client first. */
	if (F.downs > 1 || (F.downs == 1 && strcmp(cause, F.why) != 0))
		abort();
	free(cause);
	if (F.qmp != NULL) {
		/* Once refused, always refused, and no hook again. */
		cause = NULL;
		if (qmp_feed(F.qmp, "{}\n", 3, &cause) != -1 || cause == NULL)
			abort();
		free(cause);
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		*stream;
	size_t		 n, at, i, chunk, max, run = 0, pre = 0;
	uint32_t	 seed;
	uint8_t		 flags;
	unsigned	 c;

	if (size < 3)
		return 0;
	flags = data[0];
	seed = (uint32_t)data[1] << 8 | data[2] | 1U << 16;
	data += 3;
	size -= 3;
	if ((flags & 0xf0) == 0xf0)
		run = QMP_MAX_MESSAGE - 8 + (seed >> 4) % 16;
	if (flags & 1)
		pre = sizeof prologue - 1;
	if ((stream = malloc(pre + size + run + 1)) == NULL)
		return 0;
	memcpy(stream, prologue, pre);
	at = size ? seed % (size + 1) : 0;
	memcpy(stream + pre, data, at);
	memset(stream + pre + at, 'x', run);
	memcpy(stream + pre + at + run, data + at, size - at);
	n = pre + size + run;

	memset(&F, 0, sizeof F);
	if ((F.qmp = qmp_new_detached(&hooks)) == NULL)
		abort();
	if (qmp_ready(F.qmp) || qmp_version(F.qmp) != NULL)
		abort();
	if (flags & 8)
		F.free_at = 1 + seed % 8;
	if (flags & 2) {
		F.more = 6;
		for (c = 0; c < 1 + seed % 4; c++)
			send_one();
	}

	/* A few chunks: the long run makes tiny ones slow. */
	max = run ? n / 2 + 1 : 1 + n / 3;
	for (i = 0; i < n; i += chunk) {
		chunk = 1 + next(&seed) % max;
		if (chunk > n - i)
			chunk = n - i;
		if (!feed(stream + i, chunk))
			break;
	}
	if (i >= n && F.qmp != NULL && (flags & 4))
		feed(NULL, 0);
	free(stream);

	if (F.qmp != NULL)
		client_free();
	/* Every command's callback ran once, whatever ended it. */
	for (c = 0; c < F.cmds; c++) {
		if (F.done[c] != 1)
			abort();
	}
	if (F.downs > 1)
		abort();
	return 0;
}
