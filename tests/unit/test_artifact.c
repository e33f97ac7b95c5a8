/*
 * The artifact store's files (src/lib/artifact.c): XXH3-128 checksums
 * (the value xxhsum -H128 prints), the FNV-1a of older runs still
 * verified, a folder's checksum over names, modes and contents, and the
 * placement of files and folders, by rename and across file systems.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/artifact.h"
#include "util/util.h"

static char *tmp;

static char *path(const char *rel)
{
	return zenc__asprintf("%s/%s", tmp, rel);
}

static void put(const char *rel, const char *text)
{
	char *p = path(rel);
	assert_int_equal(
		zenc__write_file_atomic(p, text, strlen(text), 0644), 0);
	free(p);
}

static int setup(void **state)
{
	const char *base = getenv("ZENC_TEST_TMP");

	(void)state;
	tmp = zenc__asprintf("%s/test_artifact", base ? base : "/tmp");
	zenc__remove_tree(tmp);
	assert_int_equal(zenc__mkdir_p(tmp, 0755), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	zenc__remove_tree(tmp);
	free(tmp);
	return 0;
}

static void test_sum_mem(void **state)
{
	char sum[ZENC__SUM_MAX];

	(void)state;
	/* printf 'x\n' | xxhsum -H128 */
	zenc__sum_mem(sum, "x\n", 2);
	assert_string_equal(sum, "xxh3:2528250d92619b8e1bf67208bddf1edb");
	assert_int_equal(zenc__sum_check(sum, NULL, 0, "x\n", 2), 0);
	assert_int_equal(zenc__sum_check(sum, NULL, 0, "y\n", 2), 1);
}

static void test_legacy_fnv(void **state)
{
	char *p = path("old");

	(void)state;
	/* What runs recorded before XXH3: 64-bit FNV-1a, 16 hex digits. */
	assert_int_equal(
		zenc__sum_check("a430d84680aabd0b", NULL, 0, "hello", 5), 0);
	assert_int_equal(
		zenc__sum_check("a430d84680aabd0b", NULL, 0, "hellp", 5), 1);
	put("old", "hello");
	assert_int_equal(zenc__sum_check("a430d84680aabd0b", p, 0, NULL, 0), 0);
	assert_int_equal(zenc__sum_check("bogus", p, 0, NULL, 0), 2);
	assert_int_equal(zenc__sum_check("", p, 0, NULL, 0), 2);
	assert_int_equal(zenc__sum_check(NULL, p, 0, NULL, 0), 2);
	unlink(p);
	assert_int_equal(
		zenc__sum_check("a430d84680aabd0b", p, 0, NULL, 0), -1);
	free(p);
}

static void tree_sum(char out[ZENC__SUM_MAX], int64_t *size)
{
	char *t = path("tree");
	assert_int_equal(zenc__sum_path(t, 1, out, size), 0);
	free(t);
}

static void test_tree_sum(void **state)
{
	char a[ZENC__SUM_MAX], b[ZENC__SUM_MAX], *p, *q;
	int64_t size = 0;

	(void)state;
	p = path("tree/sub");
	assert_int_equal(zenc__mkdir_p(p, 0755), 0);
	free(p);
	put("tree/one", "1\n");
	put("tree/sub/two", "22\n");
	p = path("tree/link");
	assert_int_equal(symlink("one", p), 0);
	free(p);
	tree_sum(a, &size);
	assert_int_equal(size, 5);
	assert_int_equal(strncmp(a, "xxh3:", 5), 0);
	p = path("tree");
	assert_int_equal(zenc__sum_check(a, p, 1, NULL, 0), 0);

	/* Contents, modes and names count. */
	put("tree/sub/two", "23\n");
	tree_sum(b, &size);
	assert_string_not_equal(a, b);
	assert_int_equal(zenc__sum_check(a, p, 1, NULL, 0), 1);
	put("tree/sub/two", "22\n");
	tree_sum(b, &size);
	assert_string_equal(a, b);
	q = path("tree/one");
	chmod(q, 0600);
	tree_sum(b, &size);
	assert_string_not_equal(a, b);
	chmod(q, 0644);
	free(q);
	put("tree/sub/three", "");
	tree_sum(b, &size);
	assert_string_not_equal(a, b);
	q = path("tree/sub/three");
	unlink(q);
	free(q);
	tree_sum(b, &size);
	assert_string_equal(a, b);

	/* A FIFO is refused. */
	q = path("tree/fifo");
	assert_int_equal(mkfifo(q, 0644), 0);
	assert_int_equal(zenc__sum_path(p, 1, b, &size), -1);
	assert_int_equal(errno, ENOTSUP);
	unlink(q);
	free(q);
	free(p);
}

static void test_store_bytes(void **state)
{
	char sum[ZENC__SUM_MAX], want[ZENC__SUM_MAX], got[ZENC__SUM_MAX];
	char *p = path("bytes"), *big = zenc__malloc(1000000);
	int64_t size = 0;

	(void)state;
	memset(big, 'z', 1000000);
	assert_int_equal(zenc__store_bytes(p, big, 1000000, sum), 0);
	zenc__sum_mem(want, big, 1000000);
	assert_string_equal(sum, want);
	assert_int_equal(zenc__sum_path(p, 0, got, &size), 0);
	assert_string_equal(got, want);
	assert_int_equal(size, 1000000);
	assert_int_equal(zenc__store_bytes(p, "", 0, sum), 0);
	zenc__sum_mem(want, "", 0);
	assert_string_equal(sum, want);
	assert_int_equal(zenc__sum_path(p, 0, got, &size), 0);
	assert_int_equal(size, 0);
	free(big);
	free(p);
}

/* Moves a folder and a file from folder `from` into folder `to`: the
 * same checksums, the same modes, nothing left behind. */
static void place_both(const char *from, const char *to)
{
	char a[ZENC__SUM_MAX], b[ZENC__SUM_MAX];
	char *src = zenc__asprintf("%s/tree", from);
	char *dst = zenc__asprintf("%s/placed", to);
	char *f = zenc__asprintf("%s/f", from), *g = zenc__asprintf("%s/g", to);
	char *q;
	struct stat st;
	int64_t n1, n2;

	assert_int_equal(zenc__mkdir_p(src, 0755), 0);
	q = zenc__asprintf("%s/x", src);
	assert_int_equal(zenc__write_file_atomic(q, "xx", 2, 0600), 0);
	free(q);
	q = zenc__asprintf("%s/l", src);
	assert_int_equal(symlink("x", q), 0);
	free(q);
	assert_int_equal(zenc__sum_path(src, 1, a, &n1), 0);
	/* Replaces a folder already there. */
	assert_int_equal(zenc__mkdir_p(dst, 0755), 0);
	q = zenc__asprintf("%s/stale", dst);
	assert_int_equal(zenc__write_file_atomic(q, "s", 1, 0644), 0);
	free(q);
	assert_int_equal(zenc__place(src, dst, 1), 0);
	assert_int_equal(access(src, F_OK), -1);
	assert_int_equal(zenc__sum_path(dst, 1, b, &n2), 0);
	assert_string_equal(a, b);
	assert_int_equal(n1, n2);
	q = zenc__asprintf("%s/x", dst);
	assert_int_equal(stat(q, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(q);

	assert_int_equal(zenc__write_file_atomic(f, "content", 7, 0640), 0);
	assert_int_equal(zenc__sum_path(f, 0, a, &n1), 0);
	assert_int_equal(zenc__place(f, g, 0), 0);
	assert_int_equal(access(f, F_OK), -1);
	assert_int_equal(zenc__sum_path(g, 0, b, &n2), 0);
	assert_string_equal(a, b);
	assert_int_equal(stat(g, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(zenc__remove_tree(dst), 0);
	assert_int_equal(access(dst, F_OK), -1);
	unlink(g);
	free(src);
	free(dst);
	free(f);
	free(g);
}

static void test_place_rename(void **state)
{
	(void)state;
	place_both(tmp, tmp);
}

static void test_place_other_fs(void **state)
{
	struct stat a, b;
	char *shm;

	(void)state;
	if (stat("/dev/shm", &a) < 0 || stat(tmp, &b) < 0 ||
	    a.st_dev == b.st_dev) {
		skip();
		return;
	}
	shm = zenc__asprintf("/dev/shm/zenc-test-artifact.%ld", (long)getpid());
	zenc__remove_tree(shm);
	assert_int_equal(zenc__mkdir_p(shm, 0700), 0);
	place_both(shm, tmp); /* a copy, then the original removed */
	zenc__remove_tree(shm);
	free(shm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sum_mem),
		cmocka_unit_test(test_legacy_fnv),
		cmocka_unit_test(test_tree_sum),
		cmocka_unit_test(test_store_bytes),
		cmocka_unit_test(test_place_rename),
		cmocka_unit_test(test_place_other_fs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
