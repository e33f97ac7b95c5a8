/*
 * The run-level alert tests' pipeline: steps "prep" (succeeds), and
 * "s1", "s2", "s3", which fail with ValueError unless ZA_OK is set, with
 * the standard alerter hooks as run-level hooks only (on_run_failure,
 * on_run_success): one alert per run, none per step.
 */
#include <stdlib.h>

#include <zenc.h>

static int ok(zenc_step_context *ctx)
{
	(void)ctx;
	return 0;
}

static int fail(zenc_step_context *ctx)
{
	if (getenv("ZA_OK"))
		return 0;
	return zenc_raise(
		ctx, "ValueError", "%s broke", zenc_ctx_step_name(ctx));
}

int main(int argc, char **argv)
{
	zenc_pipeline *p;
	zenc_step *s;
	int rc;

	zenc_pipeline_new(&p, "run_alerts");
	if (zenc_pipeline_on_run_failure(
		    p, ZENC_HOOK(zenc_alerter_failure_hook)) < 0 ||
	    zenc_pipeline_on_run_success(
		    p, ZENC_HOOK(zenc_alerter_success_hook)) < 0)
		return 3;
	zenc_pipeline_add_step(&s, p, "prep", ok);
	zenc_pipeline_add_step(&s, p, "s1", fail);
	zenc_pipeline_add_step(&s, p, "s2", fail);
	zenc_pipeline_add_step(&s, p, "s3", fail);
	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
}
