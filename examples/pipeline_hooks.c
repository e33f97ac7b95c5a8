/*
 * The seed's second example: hooks set on the pipeline apply to every
 * step; a hook set on a step takes precedence, per event.
 *
 *   ./pipeline_hooks run
 *
 * load and train use the pipeline's hooks.  evaluate has its own
 * on_failure, which replaces the pipeline's on_failure for it, while the
 * pipeline's on_success would still apply to it: a step's own hooks
 * replace the pipeline's per event (docs/hooks.md).
 */
#include <stdio.h>

#include <zenc.h>

static void pipeline_on_failure(zenc_step_context *ctx)
{
	printf("[pipeline hook] %s failed\n", zenc_ctx_step_name(ctx));
}

static void pipeline_on_success(zenc_step_context *ctx)
{
	printf("[pipeline hook] %s succeeded\n", zenc_ctx_step_name(ctx));
}

static void evaluate_on_failure(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	(void)params;
	printf("[step hook] %s failed: %s: %s\n", zenc_ctx_step_name(ctx),
	       err->type, err->message);
}

static int load(zenc_step_context *ctx)
{
	return zenc_output_int(ctx, "rows", 1000);
}

static int train(zenc_step_context *ctx)
{
	int64_t rows;

	zenc_input_int(ctx, "rows", &rows);
	return zenc_output_double(ctx, "accuracy", rows > 500 ? 0.62 : 0.1);
}

static int evaluate(zenc_step_context *ctx)
{
	double accuracy;

	zenc_input_double(ctx, "accuracy", &accuracy);
	if (accuracy < 0.9)
		return zenc_raise(
			ctx, "ValueError", "accuracy %.2f is below 0.90",
			accuracy);
	return 0;
}

int main(int argc, char **argv)
{
	zenc_pipeline *p;
	zenc_step *l, *t, *e;
	int rc;

	zenc_pipeline_new(&p, "pipeline_hooks");
	zenc_pipeline_on_failure(p, ZENC_HOOK(pipeline_on_failure));
	zenc_pipeline_on_success(p, ZENC_HOOK(pipeline_on_success));

	zenc_pipeline_add_step(&l, p, "load", load);
	zenc_step_add_output(l, "rows", ZENC_INT);

	zenc_pipeline_add_step(&t, p, "train", train);
	zenc_step_add_input(t, "rows", l, "rows");
	zenc_step_add_output(t, "accuracy", ZENC_DOUBLE);

	zenc_pipeline_add_step(&e, p, "evaluate", evaluate);
	zenc_step_add_input(e, "accuracy", t, "accuracy");
	zenc_step_on_failure(e, ZENC_HOOK(evaluate_on_failure));

	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
}
