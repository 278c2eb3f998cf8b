/* faketree.h: fake sysfs/proc trees for the agent's tests: a temp folder per
 * test case, and files written and read relative to a fake root. */
#ifndef HOTSOAK_TESTS_FAKETREE_H
#define HOTSOAK_TESTS_FAKETREE_H

/* The fake root ft_at resolves against: the test's own buffer, read at each call. */
void		 ft_set_root(const char *root);

/* mkdtemp $TMPDIR/NAME.XXXXXX into buf (len bytes); the test fails if it cannot. */
void		 ft_case_dir(char *buf, size_t len, const char *name);
/* Removes a tree, depth first, never following links. */
void		 ft_rmtree(const char *path);
/* mkdir -p; the test fails on any error but EEXIST. */
void		 ft_mkdirs(const char *path);

/* root/rel, in a static buffer. */
const char	*ft_at(const char *rel);
/* Writes content to root/rel, making its folders. */
void		 ft_put(const char *rel, const char *content);
/* Contents of root/rel; a static buffer, "<missing>" when it is not there. */
const char	*ft_get(const char *rel);

#endif
