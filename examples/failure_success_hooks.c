/*
 * The seed's first example: a failure hook and a success hook, each set
 * on one step.
 *
 *   ./failure_success_hooks run
 *
 * my_failing_step raises ValueError("Error"), so its on_failure hook
 * prints "Step failed!"; my_successful_step returns an integer, so its
 * on_success hook prints "Step succeeded!".  The run fails (exit 1),
 * because one of its steps did.
 */
#include <stdio.h>

#include <zenc.h>

static void on_failure(void)
{
	printf("Step failed!\n");
}

static void on_success(void)
{
	printf("Step succeeded!\n");
}

static int my_failing_step(zenc_step_context *ctx)
{
	return zenc_raise(ctx, "ValueError", "Error");
}

static int my_successful_step(zenc_step_context *ctx)
{
	return zenc_output_int(ctx, "first_num", 1);
}

int main(int argc, char **argv)
{
	zenc_pipeline *p;
	zenc_step *s;
	int rc;

	zenc_pipeline_new(&p, "failure_success_hooks");

	zenc_pipeline_add_step(&s, p, "my_successful_step", my_successful_step);
	zenc_step_add_output(s, "first_num", ZENC_INT);
	zenc_step_on_success(s, ZENC_HOOK(on_success));

	zenc_pipeline_add_step(&s, p, "my_failing_step", my_failing_step);
	zenc_step_add_output(s, "first_num", ZENC_INT);
	zenc_step_on_failure(s, ZENC_HOOK(on_failure));

	/* The steps do not depend on each other; the successful one is
	 * declared first, so it starts first even with -j 1. */
	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
}
