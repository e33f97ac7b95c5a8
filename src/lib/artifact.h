/*
 * The artifact store's files: checksums computed while streaming, and the
 * placement of a file or folder into the store (rename, else reflink,
 * else copy).
 *
 * A checksum is "xxh3:" and the 32 hex digits of XXH3-128.  Checksums
 * recorded before it are 16 hex digits of 64-bit FNV-1a, without a
 * prefix: they are still verified (zenc__sum_check()).
 *
 * A folder's checksum covers its tree, walked depth first with each
 * folder's entries sorted by name (bytes): for every entry a header
 * "KIND MODE SIZE PATH\0" (KIND f file, d folder, l symbolic link; MODE
 * the permission bits in octal; SIZE the file's length or the link
 * target's; PATH relative to the folder), then a file's contents or a
 * link's target.  Other kinds of files (devices, FIFOs, sockets) are
 * refused.
 */
#ifndef ZENC_ARTIFACT_H
#define ZENC_ARTIFACT_H

#include <stddef.h>
#include <stdint.h>

#define ZENC__SUM_MAX 48 /* "xxh3:" + 32 hex + NUL, with room */

typedef struct zenc__hash zenc__hash;

zenc__hash *zenc__hash_new(void);
void zenc__hash_update(zenc__hash *h, const void *p, size_t n);
/* Writes the checksum into `out` and frees `h`. */
void zenc__hash_final(zenc__hash *h, char out[ZENC__SUM_MAX]);

/* The checksum of `n` bytes. */
void zenc__sum_mem(char out[ZENC__SUM_MAX], const void *p, size_t n);
/* The checksum of the file or folder at `path`, read in chunks, and its
 * size (a folder's: the sum of its files').  0, or -1 with errno. */
int zenc__sum_path(
	const char *path, int is_dir, char out[ZENC__SUM_MAX], int64_t *size);
/* Checks `path` (or `n` bytes at `p` when p is not NULL) against the
 * recorded checksum `want`, of either algorithm.  0 when it matches, 1
 * when it does not, -1 with errno when it cannot be read, 2 when `want`
 * is in no known form. */
int zenc__sum_check(
	const char *want,
	const char *path,
	int is_dir,
	const void *p,
	size_t n);

/* Writes `n` bytes at `p` to `dst` (a temporary file renamed in), hashing
 * them as they are written.  0, or -1 with errno. */
int zenc__store_bytes(
	const char *dst, const void *p, size_t n, char sum[ZENC__SUM_MAX]);
/* Moves the file or folder `src` to `dst`, replacing what is there:
 * rename(2); across file systems a reflink (ioctl FICLONE) or else a
 * copy, then `src` is removed.  0, or -1 with errno. */
int zenc__place(const char *src, const char *dst, int is_dir);
/* Removes the file or folder tree at `path`.  0, or -1 with errno. */
int zenc__remove_tree(const char *path);

#endif
