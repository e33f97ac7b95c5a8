/*
 * The per-step cost of small outputs, by kind of output: a chain of N
 * steps, s1 -> ... -> sN, each reading the previous step's output and
 * writing its own of the same kind.
 *
 *   art_pipe int|bytes|file N run [zenc_main options]
 *
 * int:   zenc_output_int / zenc_input_int (a few bytes, kept in memory and
 *        written when the body returns).
 * bytes: 64 bytes, zenc_output_bytes / zenc_input_bytes.
 * file:  a 64-byte file written by the step and moved in with
 *        zenc_output_file; the next step checks it (zenc_input_path).
 *        Needs a zenc with file artifacts; the others build against any.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zenc.h>

static char payload[64];

static int s_int(zenc_step_context *ctx)
{
	int64_t v = 0;

	if (strcmp(zenc_ctx_step_name(ctx), "s1") &&
	    zenc_input_int(ctx, "x", &v) < 0)
		return zenc_raise(ctx, "InputError", "%s", zenc_error_last());
	return zenc_output_int(ctx, "x", v + 1);
}

static int s_bytes(zenc_step_context *ctx)
{
	const void *p;
	size_t n;

	if (strcmp(zenc_ctx_step_name(ctx), "s1") &&
	    zenc_input_bytes(ctx, "x", &p, &n) < 0)
		return zenc_raise(ctx, "InputError", "%s", zenc_error_last());
	return zenc_output_bytes(ctx, "x", payload, sizeof(payload));
}

#ifdef ART_FILE
static int s_file(zenc_step_context *ctx)
{
	const char *in;
	char path[256];
	FILE *f;

	if (strcmp(zenc_ctx_step_name(ctx), "s1") &&
	    zenc_input_path(ctx, "x", &in) < 0)
		return zenc_raise(ctx, "InputError", "%s", zenc_error_last());
	snprintf(path, sizeof(path), "art_pipe.%ld", (long)getpid());
	if (!(f = fopen(path, "w")) ||
	    fwrite(payload, 1, sizeof(payload), f) != sizeof(payload) ||
	    fclose(f))
		return zenc_raise(ctx, "IOError", "%s", path);
	return zenc_output_file(ctx, "x", path);
}
#endif

int main(int argc, char **argv)
{
	zenc_pipeline *p;
	zenc_step *prev = NULL, *s;
	zenc_step_fn fn;
	zenc_type type;
	char name[32];
	long n, i;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: art_pipe int|bytes|file N run ...\n");
		return 2;
	}
	memset(payload, 'p', sizeof(payload));
	if (!strcmp(argv[1], "int")) {
		fn = s_int;
		type = ZENC_INT;
	} else if (!strcmp(argv[1], "bytes")) {
		fn = s_bytes;
		type = ZENC_BYTES;
#ifdef ART_FILE
	} else if (!strcmp(argv[1], "file")) {
		fn = s_file;
		type = ZENC_FILE;
#endif
	} else {
		fprintf(stderr, "art_pipe: unknown kind '%s'\n", argv[1]);
		return 2;
	}
	n = strtol(argv[2], NULL, 10);
	snprintf(name, sizeof(name), "art_%s", argv[1]);
	if (zenc_pipeline_new(&p, name) < 0)
		return 3;
	for (i = 1; i <= n; i++) {
		snprintf(name, sizeof(name), "s%ld", i);
		if (zenc_pipeline_add_step(&s, p, name, fn) < 0 ||
		    zenc_step_add_output(s, "x", type) < 0 ||
		    (prev && zenc_step_add_input(s, "x", prev, "x") < 0)) {
			fprintf(stderr, "art_pipe: %s\n", zenc_error_last());
			return 3;
		}
		prev = s;
	}
	argv[2] = argv[0];
	rc = zenc_main(p, argc - 2, argv + 2);
	zenc_pipeline_free(p);
	return rc;
}
