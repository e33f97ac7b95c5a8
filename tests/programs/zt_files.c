/*
 * File and folder artifacts (t1100-files.sh):
 *
 *   big (file)  -> check_big     a file of $ZT_FILE_MB MiB (1024 by
 *                                default), written in 1 MiB blocks
 *   tree (dir)  -> check_tree    a folder of $ZT_DIR_FILES small files
 *                                (10000 by default), in 100 subfolders
 *
 * The producers write in $ZT_WORK (the current folder by default) and move
 * their result in with zenc_output_file(); the consumers read through
 * zenc_input_path() and output what they found (bytes and sum, files and
 * sum) as ints.  With ZT_CORRUPT=big or ZT_CORRUPT=tree a step between
 * changes one byte of the stored artifact: the consumer must then fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zenc.h>

#define BLOCK (1024 * 1024)

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 10) : def;
}

static const char *work(void)
{
	const char *w = getenv("ZT_WORK");
	return w && *w ? w : ".";
}

/* Block i: every byte is (i * 31 + j) & 0xff, so no two blocks in a row
 * are equal and a misplaced block is seen. */
static void fill(unsigned char *b, long i)
{
	long j;
	for (j = 0; j < BLOCK; j++)
		b[j] = (unsigned char)((i * 31 + j) & 0xff);
}

static int make_big(zenc_step_context *ctx)
{
	long mb = env_long("ZT_FILE_MB", 1024), i;
	unsigned char *b = malloc(BLOCK);
	char path[4096];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/big.bin", work());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (!b || fd < 0)
		return zenc_raise(
			ctx, "IOError", "%s: %s", path, strerror(errno));
	for (i = 0; i < mb; i++) {
		fill(b, i);
		if (write(fd, b, BLOCK) != BLOCK)
			return zenc_raise(
				ctx, "IOError", "write: %s", strerror(errno));
	}
	free(b);
	if (close(fd) < 0)
		return zenc_raise(ctx, "IOError", "close");
	rc = zenc_output_file(ctx, "big", path);
	if (rc < 0)
		return zenc_raise(
			ctx, "ArtifactError", "%s", zenc_error_last());
	return 0;
}

static int check_big(zenc_step_context *ctx)
{
	unsigned char *b = malloc(BLOCK), *want = malloc(BLOCK);
	const char *path;
	int64_t bytes = 0, bad = 0;
	long i = 0;
	ssize_t r;
	int fd;

	if (zenc_input_path(ctx, "big", &path) < 0)
		return zenc_raise(ctx, "InputError", "%s", zenc_error_last());
	fd = open(path, O_RDONLY);
	if (!b || !want || fd < 0)
		return zenc_raise(ctx, "IOError", "%s", path);
	while ((r = read(fd, b, BLOCK)) > 0) {
		/* Whole blocks: the file system returns them whole here. */
		fill(want, i++);
		if (memcmp(b, want, (size_t)r))
			bad++;
		bytes += r;
	}
	close(fd);
	free(b);
	free(want);
	zenc_output_int(ctx, "bytes", bytes);
	zenc_output_int(ctx, "bad_blocks", bad);
	return 0;
}

static int make_tree(zenc_step_context *ctx)
{
	long n = env_long("ZT_DIR_FILES", 10000), i;
	char dir[4096], path[4200];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/tree", work());
	if (mkdir(dir, 0755) < 0)
		return zenc_raise(
			ctx, "IOError", "%s: %s", dir, strerror(errno));
	for (i = 0; i < 100; i++) {
		snprintf(path, sizeof(path), "%s/d%02ld", dir, i);
		if (mkdir(path, 0755) < 0)
			return zenc_raise(ctx, "IOError", "%s", path);
	}
	for (i = 0; i < n; i++) {
		snprintf(
			path, sizeof(path), "%s/d%02ld/f%05ld", dir, i % 100,
			i);
		if (!(f = fopen(path, "w")))
			return zenc_raise(ctx, "IOError", "%s", path);
		fprintf(f, "%ld\n", i);
		if (fclose(f))
			return zenc_raise(ctx, "IOError", "%s", path);
	}
	if (zenc_output_file(ctx, "tree", dir) < 0)
		return zenc_raise(
			ctx, "ArtifactError", "%s", zenc_error_last());
	return 0;
}

static int check_tree(zenc_step_context *ctx)
{
	long n = env_long("ZT_DIR_FILES", 10000), i, v;
	int64_t files = 0, sum = 0;
	const char *dir;
	char path[4200];
	FILE *f;

	if (zenc_input_path(ctx, "tree", &dir) < 0)
		return zenc_raise(ctx, "InputError", "%s", zenc_error_last());
	for (i = 0; i < n; i++) {
		snprintf(
			path, sizeof(path), "%s/d%02ld/f%05ld", dir, i % 100,
			i);
		if (!(f = fopen(path, "r")))
			continue;
		if (fscanf(f, "%ld", &v) == 1) {
			files++;
			sum += v;
		}
		fclose(f);
	}
	zenc_output_int(ctx, "files", files);
	zenc_output_int(ctx, "sum", sum);
	return 0;
}

/* Changes one byte of the stored artifact, behind zenc's back. */
static int corrupt(zenc_step_context *ctx)
{
	const char *what = getenv("ZT_CORRUPT"), *path;
	char file[4200];
	int fd;

	if (zenc_input_path(ctx, what, &path) < 0)
		return zenc_raise(ctx, "InputError", "%s", zenc_error_last());
	if (!strcmp(what, "tree"))
		snprintf(file, sizeof(file), "%s/d07/f00007", path);
	else
		snprintf(file, sizeof(file), "%s", path);
	fd = open(file, O_WRONLY);
	if (fd < 0 || write(fd, "X", 1) != 1)
		return zenc_raise(ctx, "IOError", "%s", file);
	close(fd);
	return 0;
}

static int add(
	zenc_pipeline *p, zenc_step **s, const char *name, zenc_step_fn fn)
{
	if (zenc_pipeline_add_step(s, p, name, fn) < 0) {
		fprintf(stderr, "zt_files: %s\n", zenc_error_last());
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *what = getenv("ZT_CORRUPT");
	zenc_pipeline *p;
	zenc_step *mb, *cb, *mt, *ct, *cx;
	int rc;

	if (zenc_pipeline_new(&p, "zt_files") < 0)
		return 3;
	if (add(p, &mb, "make_big", make_big) < 0 ||
	    zenc_step_add_output(mb, "big", ZENC_FILE) < 0 ||
	    add(p, &cb, "check_big", check_big) < 0 ||
	    zenc_step_add_input(cb, "big", mb, "big") < 0 ||
	    zenc_step_add_output(cb, "bytes", ZENC_INT) < 0 ||
	    zenc_step_add_output(cb, "bad_blocks", ZENC_INT) < 0 ||
	    add(p, &mt, "make_tree", make_tree) < 0 ||
	    zenc_step_add_output(mt, "tree", ZENC_DIR) < 0 ||
	    add(p, &ct, "check_tree", check_tree) < 0 ||
	    zenc_step_add_input(ct, "tree", mt, "tree") < 0 ||
	    zenc_step_add_output(ct, "files", ZENC_INT) < 0 ||
	    zenc_step_add_output(ct, "sum", ZENC_INT) < 0)
		return 3;
	if (what && *what) {
		zenc_step *from = strcmp(what, "tree") ? mb : mt;
		if (add(p, &cx, "corrupt", corrupt) < 0 ||
		    zenc_step_add_input(cx, what, from, what) < 0 ||
		    zenc_step_after(strcmp(what, "tree") ? cb : ct, cx) < 0)
			return 3;
	}
	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
}
