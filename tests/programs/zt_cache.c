/*
 * A chain of steps for the step cache's tests (t1000-t1049): s01 -> s02
 * -> ... -> sN (N is $ZT_CACHE_STEPS, 10 by default), each with an int
 * output `v`, its input plus its parameter `add` (1 by default).  Each
 * step that executes appends its name to the file $ZT_CACHE_COUNTER, and
 * each on_success hook that fires appends "hook NAME": the side effects
 * that tell which steps executed.
 *
 *   ZT_CACHE_FAIL=NAME       step NAME raises ValueError
 *   ZT_CACHE_VERSION=V       every step's cache version is V
 *   ZT_CACHE_OFF=NAME        step NAME is never taken from the cache
 *   ZT_CACHE_SINK=1          adds a step `sink` without outputs, last
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zenc.h>

typedef struct {
	int64_t add;
} chain_params;

static const zenc_param chain_fields[] = {
	ZENC_PARAM_INT(chain_params, add, 1),
	ZENC_PARAM_END,
};

static void note(const char *what, const char *name)
{
	const char *path = getenv("ZT_CACHE_COUNTER");
	FILE *f;

	if (!path || !(f = fopen(path, "a")))
		return;
	fprintf(f, "%s%s\n", what, name);
	fclose(f);
}

static int link_step(zenc_step_context *ctx)
{
	const chain_params *p = zenc_ctx_params(ctx);
	const char *name = zenc_ctx_step_name(ctx);
	const char *fail = getenv("ZT_CACHE_FAIL");
	int64_t v = 0;

	note("", name);
	if (strcmp(name, "s01"))
		zenc_input_int(ctx, "v", &v);
	if (fail && !strcmp(fail, name))
		return zenc_raise(ctx, "ValueError", "%s fails", name);
	return zenc_output_int(ctx, "v", v + p->add);
}

static int sink(zenc_step_context *ctx)
{
	note("", zenc_ctx_step_name(ctx));
	return 0;
}

static void on_success(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	(void)params;
	(void)err;
	note("hook ", zenc_ctx_step_name(ctx));
}

int main(int argc, char **argv)
{
	const char *v = getenv("ZT_CACHE_STEPS");
	const char *version = getenv("ZT_CACHE_VERSION");
	const char *off = getenv("ZT_CACHE_OFF");
	long n = v ? strtol(v, NULL, 10) : 10, i;
	zenc_pipeline *p;
	zenc_step *s, *prev = NULL;
	char name[32];
	int rc;

	if (n < 1 || n > 100000 || zenc_pipeline_new(&p, "zt_cache") < 0)
		return 2;
	zenc_pipeline_on_success(p, ZENC_HOOK(on_success));
	for (i = 1; i <= n; i++) {
		snprintf(name, sizeof(name), "s%02ld", i);
		if (zenc_pipeline_add_step(&s, p, name, link_step) < 0 ||
		    zenc_step_add_output(s, "v", ZENC_INT) < 0 ||
		    zenc_step_set_params(
			    s, "chain_params", chain_fields,
			    sizeof(chain_params)) < 0 ||
		    (prev && zenc_step_add_input(s, "v", prev, "v") < 0) ||
		    (version && zenc_step_set_cache_version(s, version) < 0) ||
		    (off && !strcmp(off, name) &&
		     zenc_step_set_cache(s, false) < 0))
			goto fail;
		prev = s;
	}
	if (getenv("ZT_CACHE_SINK") &&
	    (zenc_pipeline_add_step(&s, p, "sink", sink) < 0 ||
	     zenc_step_after(s, prev) < 0))
		goto fail;
	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
fail:
	fprintf(stderr, "zt_cache: %s\n", zenc_error_last());
	zenc_pipeline_free(p);
	return 3;
}
