/* faketree.c: fake trees for the agent's tests (see faketree.h). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "faketree.h"

static const char *ft_root = "";

void
ft_set_root(const char *root)
{
	ft_root = root;
}

void
ft_case_dir(char *buf, size_t len, const char *name)
{
	const char	*tmp = getenv("TMPDIR");

	snprintf(buf, len, "%s/%s.XXXXXX", tmp != NULL && *tmp != '\0' ? tmp :
	    "/tmp", name);
	if (mkdtemp(buf) == NULL)
		ck_abort_msg("mkdtemp %s: %s", buf, strerror(errno));
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void
ft_rmtree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
ft_mkdirs(const char *path)
{
	char	buf[PATH_MAX], *p;

	snprintf(buf, sizeof buf, "%s", path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			ck_abort_msg("mkdir %s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, 0755) == -1 && errno != EEXIST)
		ck_abort_msg("mkdir %s: %s", buf, strerror(errno));
}

const char *
ft_at(const char *rel)
{
	static char	buf[PATH_MAX + 64];

	snprintf(buf, sizeof buf, "%s/%s", ft_root, rel);
	return buf;
}

void
ft_put(const char *rel, const char *content)
{
	char	 path[PATH_MAX + 64], *slash;
	FILE	*f;

	snprintf(path, sizeof path, "%s", ft_at(rel));
	slash = strrchr(path, '/');
	*slash = '\0';
	ft_mkdirs(path);
	*slash = '/';
	if ((f = fopen(path, "w")) == NULL)
		ck_abort_msg("%s: %s", path, strerror(errno));
	fputs(content, f);
	fclose(f);
}

const char *
ft_get(const char *rel)
{
	static char	 buf[4096];
	FILE		*f;
	size_t		 n;

	if ((f = fopen(ft_at(rel), "r")) == NULL)
		return "<missing>";
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}
