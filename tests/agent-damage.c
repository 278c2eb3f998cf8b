/* agent-damage.c: damages a target behind the agent's back for the tests,
 * and checks the agent's JSON summary names each damage at its offset.
 *   agent-damage flip FILE OFFSET          flip one bit at byte OFFSET
 *   agent-damage zero FILE OFFSET LEN      zero LEN bytes
 *   agent-damage copy FILE FROM TO LEN     copy LEN bytes from FROM to TO
 *   agent-damage older FILE STATE N [SECTOR]
 *       the Nth block (from 0) that the state file says is at generation 2
 *       or more gets its previous generation back, whole (a lost write) or
 *       from SECTOR on (a torn write); prints the block's offset
 *   agent-damage expect SUMMARY CLASS:OFFSET...
 *       the summary's findings are exactly these, in any order */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "hotsoak/stamp.h"

static unsigned long long
num(const char *s)
{
	char			*end;
	unsigned long long	 v = strtoull(s, &end, 0);

	if (*s == '\0' || *end != '\0') {
		fprintf(stderr, "agent-damage: `%s` is not a number\n", s);
		exit(2);
	}
	return v;
}

static void
io(int write, const char *file, void *buf, size_t len, unsigned long long off)
{
	int	fd = open(file, write ? O_WRONLY : O_RDONLY);
	ssize_t	n;

	if (fd == -1) {
		perror(file);
		exit(2);
	}
	n = write ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len,
	    (off_t)off);
	if (n != (ssize_t)len || (write && fsync(fd) != 0)) {
		perror(file);
		exit(2);
	}
	close(fd);
}

static uint64_t
le64(const unsigned char *p)
{
	uint64_t	v = 0;
	int		b;

	for (b = 7; b >= 0; b--)
		v = (v << 8) | p[b];
	return v;
}

static int
older(const char *file, const char *state, unsigned long long nth,
    unsigned long long sector)
{
	unsigned char	 hdr[32], v[8], *blk;
	struct stamp_id	 id;
	uint64_t	 run_id, bs, n, i, gen;
	FILE		*f = fopen(state, "r");

	if (f == NULL || fread(hdr, 1, 32, f) != 32 ||
	    memcmp(hdr, "HSSTATE1", 8) != 0) {
		fprintf(stderr, "agent-damage: %s: not a state file\n", state);
		return 2;
	}
	run_id = le64(hdr + 8);
	bs = le64(hdr + 16);
	n = le64(hdr + 24);
	for (i = 0; i < n && fread(v, 1, 8, f) == 8; i++) {
		if ((gen = le64(v)) < 2 || nth-- > 0)
			continue;
		fclose(f);
		if ((blk = malloc(bs)) == NULL)
			return 2;
		memset(&id, 0, sizeof id);
		id.run_id = run_id;
		id.offset = i * bs;
		id.generation = gen - 1;
		id.writer = 99;
		stamp_fill(blk, bs, &id);
		if (sector == 0)
			io(1, file, blk, bs, i * bs);
		else
			io(1, file, blk + sector * STAMP_SECTOR,
			    bs - sector * STAMP_SECTOR, i * bs + sector * STAMP_SECTOR);
		free(blk);
		printf("%llu\n", (unsigned long long)(i * bs));
		return 0;
	}
	fclose(f);
	fprintf(stderr, "agent-damage: no block at generation 2 or more\n");
	return 2;
}

static int
expect(const char *summary, int argc, char **argv)
{
	json_error_t	 err;
	json_t		*o = json_load_file(summary, 0, &err), *fs, *f;
	size_t		 i;
	int		 k, found, rc = 0;

	if (o == NULL || (fs = json_object_get(o, "findings")) == NULL) {
		fprintf(stderr, "agent-damage: %s: %s\n", summary, err.text);
		return 2;
	}
	for (k = 0; k < argc; k++) {
		char		*colon = strchr(argv[k], ':');
		const char	*cls;
		json_int_t	 off;

		if (colon == NULL)
			return 2;
		*colon = '\0';
		off = (json_int_t)num(colon + 1);
		found = 0;
		json_array_foreach(fs, i, f) {
			cls = json_string_value(json_object_get(json_object_get(f,
			    "detail"), "class"));
			if (cls != NULL && strcmp(cls, argv[k]) == 0 &&
			    json_integer_value(json_object_get(json_object_get(f,
			    "detail"), "offset")) == off)
				found = 1;
		}
		if (!found) {
			fprintf(stderr, "missing: %s at offset %lld\n", argv[k],
			    (long long)off);
			rc = 1;
		}
	}
	if (json_array_size(fs) != (size_t)argc) {
		fprintf(stderr, "expected %d findings, the summary has %zu\n", argc,
		    json_array_size(fs));
		rc = 1;
	}
	json_decref(o);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned char	*buf;
	unsigned long long off, len;

	if (argc >= 4 && strcmp(argv[1], "flip") == 0) {
		unsigned char	b;

		off = num(argv[3]);
		io(0, argv[2], &b, 1, off);
		b ^= 0x04;
		io(1, argv[2], &b, 1, off);
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "zero") == 0) {
		len = num(argv[4]);
		buf = calloc(1, len);
		io(1, argv[2], buf, len, num(argv[3]));
		free(buf);
		return 0;
	}
	if (argc >= 6 && strcmp(argv[1], "copy") == 0) {
		len = num(argv[5]);
		buf = malloc(len);
		io(0, argv[2], buf, len, num(argv[3]));
		io(1, argv[2], buf, len, num(argv[4]));
		free(buf);
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "older") == 0)
		return older(argv[2], argv[3], num(argv[4]),
		    argc > 5 ? num(argv[5]) : 0);
	if (argc >= 3 && strcmp(argv[1], "expect") == 0)
		return expect(argv[2], argc - 3, argv + 3);
	fprintf(stderr, "usage: see the comment at the top of agent-damage.c\n");
	return 2;
}
