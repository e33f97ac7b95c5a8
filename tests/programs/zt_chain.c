/*
 * A long chain of trivial steps, s0001 -> s0002 -> ... -> sN, for
 * measuring how the dashboard renders a large run (t0900-ui.sh).  N is
 * $ZT_CHAIN_STEPS, 1000 by default.
 */
#include <stdio.h>
#include <stdlib.h>

#include <zenc.h>

static int nop(zenc_step_context *ctx)
{
	(void)ctx;
	return 0;
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
