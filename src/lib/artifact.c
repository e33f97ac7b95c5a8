/*
 * The artifact store's files: streamed checksums (XXH3-128, and the FNV-1a
 * of older runs for verification only) and the placement of files and
 * folders.  See artifact.h for the checksum of a folder.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "artifact.h"
#include "internal.h"

#define CHUNK (256 * 1024)
#define PREFIX "xxh3:"

struct zenc__hash {
	XXH3_state_t st; /* first: aligned as the allocation is */
	int fnv;         /* the legacy algorithm, for checking old sums */
	uint64_t h;
};

static zenc__hash *hash_new(int fnv)
{
	zenc__hash *h = NULL;

	if (posix_memalign((void **)&h, 64, sizeof(*h)) != 0)
		abort(); /* as zenc__malloc() does */
	memset(h, 0, sizeof(*h));
	h->fnv = fnv;
	h->h = 14695981039346656037ULL;
	if (!fnv)
		XXH3_128bits_reset(&h->st);
	return h;
}

zenc__hash *zenc__hash_new(void)
{
	return hash_new(0);
}

void zenc__hash_update(zenc__hash *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	if (!h->fnv) {
		XXH3_128bits_update(&h->st, p, n);
		return;
	}
	for (i = 0; i < n; i++) {
		h->h ^= b[i];
		h->h *= 1099511628211ULL;
	}
}

void zenc__hash_final(zenc__hash *h, char out[ZENC__SUM_MAX])
{
	if (h->fnv) {
		snprintf(out, ZENC__SUM_MAX, "%016" PRIx64, h->h);
	} else {
		XXH128_hash_t d = XXH3_128bits_digest(&h->st);
		snprintf(
			out, ZENC__SUM_MAX, PREFIX "%016" PRIx64 "%016" PRIx64,
			(uint64_t)d.high64, (uint64_t)d.low64);
	}
	free(h);
}

void zenc__sum_mem(char out[ZENC__SUM_MAX], const void *p, size_t n)
{
	zenc__hash *h = zenc__hash_new();
	zenc__hash_update(h, p, n);
	zenc__hash_final(h, out);
}

/* Feeds the file open as `fd` to `h`, `cap` bytes at a time through
 * `buf`; its length into *size. */
static int hash_fd(zenc__hash *h, int fd, char *buf, size_t cap, int64_t *size)
{
	ssize_t r;

	for (;;) {
		r = read(fd, buf, cap);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		zenc__hash_update(h, buf, (size_t)r);
		*size += r;
	}
}

/* Opens `path` (a symbolic link is not followed); a file of a chunk or
 * more (as `known` says, or as fstat() does when `known` is -1) is
 * announced to the kernel as read in sequence.  Its size into *st_size
 * when asked. */
static int open_to_hash(const char *path, int64_t known, int64_t *st_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;

	if (fd < 0)
		return -1;
	if (known < 0)
		known = fstat(fd, &st) == 0 ? (int64_t)st.st_size : CHUNK;
	if (st_size)
		*st_size = known;
#ifdef POSIX_FADV_SEQUENTIAL
	if (known >= CHUNK)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	return fd;
}

/* hash_fd(), then closes `fd`, keeping errno. */
static int hash_and_close(
	zenc__hash *h, int fd, char *buf, size_t cap, int64_t *size)
{
	int rc = hash_fd(h, fd, buf, cap, size), saved = errno;

	close(fd);
	errno = saved;
	return rc;
}

static int hash_file(
	zenc__hash *h,
	const char *path,
	char *buf,
	int64_t known,
	int64_t *size)
{
	int fd = open_to_hash(path, known, NULL);

	return fd < 0 ? -1 : hash_and_close(h, fd, buf, CHUNK, size);
}

/* One file, through a buffer of its size when it is smaller than a
 * chunk: a chunk is mapped fresh, and in a step's process its first page
 * is a page fault. */
static int hash_one(zenc__hash *h, const char *path, int64_t *size)
{
	int64_t known;
	int fd = open_to_hash(path, -1, &known), rc, saved;
	size_t cap = known >= 0 && known < CHUNK ? (size_t)known + 1 : CHUNK;
	char *buf;

	if (fd < 0)
		return -1;
	buf = zenc__malloc(cap);
	rc = hash_and_close(h, fd, buf, cap, size);
	saved = errno;
	free(buf);
	errno = saved;
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in folder `path`, but "." and "..", sorted.  NULL and
 * errno on error (an empty folder gives an array holding NULL). */
static char **sorted_names(const char *path, size_t *n)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	zenc__array_grow((void **)&v, &cap, 1, sizeof(*v));
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		zenc__array_grow((void **)&v, &cap, *n + 2, sizeof(*v));
		v[(*n)++] = zenc__strdup(e->d_name);
	}
	closedir(d);
	v[*n] = NULL;
	qsort(v, *n, sizeof(*v), cmp_names);
	return v;
}

static void free_names(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Hashes the tree under `top`/`rel` (rel "" for the top). */
static int hash_tree(
	zenc__hash *h, zenc_buf *top, size_t top_len, char *buf, int64_t *size)
{
	char **names;
	size_t n, i, here = top->len;
	int rc = 0;

	names = sorted_names(zenc_buf_cstr(top), &n);
	if (!names)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		struct stat st;
		char head[64];
		const char *rel;
		top->len = here;
		zenc_buf_putc(top, '/');
		zenc_buf_puts(top, names[i]);
		rel = zenc_buf_cstr(top) + top_len + 1;
		if (lstat(zenc_buf_cstr(top), &st) < 0) {
			rc = -1;
		} else if (S_ISREG(st.st_mode)) {
			int64_t got = 0;
			snprintf(
				head, sizeof(head), "f %o %" PRId64 " ",
				(unsigned)(st.st_mode & 07777),
				(int64_t)st.st_size);
			zenc__hash_update(h, head, strlen(head));
			zenc__hash_update(h, rel, strlen(rel) + 1);
			rc = hash_file(
				h, zenc_buf_cstr(top), buf, (int64_t)st.st_size,
				&got);
			if (rc == 0 && got != (int64_t)st.st_size) {
				errno = EAGAIN; /* changed while read */
				rc = -1;
			}
			*size += got;
		} else if (S_ISDIR(st.st_mode)) {
			snprintf(
				head, sizeof(head), "d %o 0 ",
				(unsigned)(st.st_mode & 07777));
			zenc__hash_update(h, head, strlen(head));
			zenc__hash_update(h, rel, strlen(rel) + 1);
			rc = hash_tree(h, top, top_len, buf, size);
		} else if (S_ISLNK(st.st_mode)) {
			ssize_t l = readlink(zenc_buf_cstr(top), buf, CHUNK);
			if (l < 0) {
				rc = -1;
				break;
			}
			snprintf(head, sizeof(head), "l 777 %zd ", l);
			zenc__hash_update(h, head, strlen(head));
			zenc__hash_update(h, rel, strlen(rel) + 1);
			zenc__hash_update(h, buf, (size_t)l);
		} else {
			errno = ENOTSUP;
			rc = -1;
		}
	}
	top->len = here;
	top->ptr[here] = '\0';
	free_names(names, n);
	return rc;
}

static int sum_path(zenc__hash *h, const char *path, int is_dir, int64_t *size)
{
	zenc_buf top = ZENC_BUF_INIT;
	char *buf;
	int rc;

	*size = 0;
	if (!is_dir)
		return hash_one(h, path, size);
	buf = zenc__malloc(CHUNK);
	zenc_buf_puts(&top, path);
	rc = hash_tree(h, &top, top.len, buf, size);
	zenc_buf_release(&top);
	free(buf);
	return rc;
}

int zenc__sum_path(
	const char *path, int is_dir, char out[ZENC__SUM_MAX], int64_t *size)
{
	zenc__hash *h = zenc__hash_new();
	int rc = sum_path(h, path, is_dir, size), saved = errno;

	zenc__hash_final(h, out);
	errno = saved;
	return rc;
}

int zenc__sum_check(
	const char *want, const char *path, int is_dir, const void *p, size_t n)
{
	char got[ZENC__SUM_MAX];
	zenc__hash *h;
	int64_t size = 0;
	int fnv;

	if (!want)
		return 2;
	if (!strncmp(want, PREFIX, strlen(PREFIX)))
		fnv = 0;
	else if (strlen(want) == 16 && strspn(want, "0123456789abcdef") == 16)
		fnv = 1; /* recorded before XXH3 */
	else
		return 2;
	h = hash_new(fnv);
	if (p) {
		zenc__hash_update(h, p, n);
	} else if (sum_path(h, path, is_dir, &size) < 0) {
		int saved = errno;
		zenc__hash_final(h, got);
		errno = saved;
		return -1;
	}
	zenc__hash_final(h, got);
	return strcmp(got, want) ? 1 : 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int zenc__store_bytes(
	const char *dst, const void *p, size_t n, char sum[ZENC__SUM_MAX])
{
	char *tmp;
	zenc__hash *h;
	const char *b = p;
	size_t off = 0;
	int fd, saved;

	/* Up to a chunk: hashed, then written unnamed and linked under its
	 * name (one change to the folder instead of two). */
	if (n <= CHUNK) {
		zenc__sum_mem(sum, n ? p : "", n);
		return zenc__write_file_atomic(dst, n ? p : "", n, 0644);
	}
	tmp = zenc__asprintf("%s.tmp.XXXXXX", dst);
	h = zenc__hash_new();
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		goto fail;
	fchmod(fd, 0644);
	while (off < n || n == 0) {
		size_t k = n - off < CHUNK ? n - off : CHUNK;
		zenc__hash_update(h, b + off, k);
		if (k && write_all(fd, b + off, k) < 0)
			goto fail;
		off += k;
		if (n == 0)
			break;
	}
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, dst) < 0)
		goto fail;
	free(tmp);
	zenc__hash_final(h, sum);
	return 0;
fail:
	saved = errno;
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	zenc__hash_final(h, sum);
	errno = saved;
	return -1;
}

static int rm_one(
	const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

int zenc__remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Copies the file contents of `in` to `out`: a reflink, else
 * copy_file_range(2) (in the kernel), else read and write. */
static int copy_fd(int in, int out)
{
	char *buf;
	ssize_t r;
	int rc = 0;

	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	for (;;) {
		r = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (r == 0)
			return 0;
		if (r < 0)
			break;
	}
	if (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
	    errno != EOPNOTSUPP)
		return -1;
	if (lseek(out, 0, SEEK_CUR) != 0)
		return -1; /* part copied: do not start again */
	buf = zenc__malloc(CHUNK);
	for (;;) {
		r = read(in, buf, CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || write_all(out, buf, (size_t)r) < 0) {
			rc = r < 0 || r > 0 ? -1 : 0;
			break;
		}
	}
	free(buf);
	return rc;
}

static int copy_file(const char *src, const char *dst, mode_t mode)
{
	int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), out, rc, saved;

	if (in < 0)
		return -1;
	out =
		open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		     (mode & 07777) | 0200);
	if (out < 0) {
		saved = errno;
		close(in);
		errno = saved;
		return -1;
	}
	rc = copy_fd(in, out);
	saved = errno;
	if (fchmod(out, mode & 07777) < 0 && rc == 0)
		rc = -1, saved = errno;
	close(in);
	if (close(out) < 0 && rc == 0)
		rc = -1, saved = errno;
	errno = saved;
	return rc;
}

static int copy_tree(const char *src, const char *dst, mode_t mode)
{
	char **names;
	size_t n, i;
	int rc = 0;

	if (mkdir(dst, 0700) < 0)
		return -1;
	names = sorted_names(src, &n);
	if (!names)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		char *s = zenc__asprintf("%s/%s", src, names[i]);
		char *d = zenc__asprintf("%s/%s", dst, names[i]);
		struct stat st;
		if (lstat(s, &st) < 0) {
			rc = -1;
		} else if (S_ISREG(st.st_mode)) {
			rc = copy_file(s, d, st.st_mode);
		} else if (S_ISDIR(st.st_mode)) {
			rc = copy_tree(s, d, st.st_mode);
		} else if (S_ISLNK(st.st_mode)) {
			char *t = zenc__malloc(CHUNK);
			ssize_t l = readlink(s, t, CHUNK - 1);
			if (l < 0) {
				rc = -1;
			} else {
				t[l] = '\0';
				rc = symlink(t, d);
			}
			free(t);
		} else {
			errno = ENOTSUP;
			rc = -1;
		}
		free(s);
		free(d);
	}
	free_names(names, n);
	if (rc == 0 && chmod(dst, mode & 07777) < 0)
		rc = -1;
	return rc;
}

/* rename(src, dst), moving a folder or another kind of file at `dst`
 * out of the way first. */
static int rename_over(const char *src, const char *dst, int is_dir)
{
	struct stat st;
	char *old;
	int rc, saved;

	if (lstat(dst, &st) < 0 || (!S_ISDIR(st.st_mode) && !is_dir))
		return rename(src, dst);
	old = zenc__asprintf("%s.old.%ld", dst, (long)getpid());
	zenc__remove_tree(old);
	if (rename(dst, old) < 0) {
		free(old);
		return -1;
	}
	rc = rename(src, dst);
	saved = errno;
	if (rc < 0)
		rename(old, dst);
	else
		zenc__remove_tree(old);
	free(old);
	errno = saved;
	return rc;
}

int zenc__place(const char *src, const char *dst, int is_dir)
{
	struct stat st;
	char *tmp;
	int rc, saved;

	if (rename_over(src, dst, is_dir) == 0)
		return 0;
	if (errno != EXDEV)
		return -1;
	if (lstat(src, &st) < 0)
		return -1;
	tmp = zenc__asprintf("%s.tmp.%ld", dst, (long)getpid());
	zenc__remove_tree(tmp);
	rc = is_dir ? copy_tree(src, tmp, st.st_mode)
		    : copy_file(src, tmp, st.st_mode);
	if (rc == 0)
		rc = rename_over(tmp, dst, is_dir);
	saved = errno;
	if (rc < 0)
		zenc__remove_tree(tmp);
	else
		zenc__remove_tree(src);
	free(tmp);
	errno = saved;
	return rc;
}
