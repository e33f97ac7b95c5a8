/*
 * A long chain of trivial steps, s0001 -> s0002 -> ... -> sN, for
 * measuring how the dashboard renders a large run (t0900-ui.sh).  N is
 * $ZT_CHAIN_STEPS, 1000 by default.  With $ZT_CHAIN_MAPS set, each step
 * appends to that file what backs the C library's code and libzenc's in
 * its process: "STEP libc=WHAT zenc=WHAT", WHAT being the mapped file's
 * path, or "anon" for anonymous memory (t0140-zygote.sh).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <zenc.h>

/* What backs address `at` in /proc/self/maps, into `out`. */
static void backing(const void *at, char *out, size_t cap)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[1024], path[1024];
	unsigned long lo, hi;

	snprintf(out, cap, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		path[0] = '\0';
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %1023s", &lo, &hi,
			   path) < 2)
			continue;
		if ((uintptr_t)at >= lo && (uintptr_t)at < hi) {
			snprintf(out, cap, "%s", path[0] ? path : "anon");
			break;
		}
	}
	fclose(f);
}

static int nop(zenc_step_context *ctx)
{
	const char *maps = getenv("ZT_CHAIN_MAPS");
	char libc[1024], zenc[1024];
	FILE *f;

	if (!maps)
		return 0;
	backing((const void *)getppid, libc, sizeof(libc));
	backing((const void *)zenc_pipeline_new, zenc, sizeof(zenc));
	f = fopen(maps, "a");
	if (!f)
		return zenc_raise(ctx, "IOError", "%s", maps);
	fprintf(f, "%s libc=%s zenc=%s\n", zenc_ctx_step_name(ctx), libc, zenc);
	return fclose(f) == 0 ? 0 : zenc_raise(ctx, "IOError", "%s", maps);
}

int main(int argc, char **argv)
{
	const char *v = getenv("ZT_CHAIN_STEPS");
	long n = v ? strtol(v, NULL, 10) : 1000, i;
	zenc_pipeline *p;
	zenc_step *s, *prev = NULL;
	char name[32];
	int rc;

	if (n < 1 || n > 100000) {
		fprintf(stderr, "zt_chain: ZT_CHAIN_STEPS out of range\n");
		return 2;
	}
	if (zenc_pipeline_new(&p, "zt_chain") < 0)
		return 3;
	for (i = 1; i <= n; i++) {
		snprintf(name, sizeof(name), "s%04ld", i);
		if (zenc_pipeline_add_step(&s, p, name, nop) < 0 ||
		    (prev && zenc_step_after(s, prev) < 0)) {
			fprintf(stderr, "zt_chain: %s\n", zenc_error_last());
			zenc_pipeline_free(p);
			return 3;
		}
		prev = s;
	}
	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
}
