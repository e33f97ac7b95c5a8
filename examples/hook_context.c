/*
 * The seed's third example: a hook that takes the step context, the
 * step's parameters (the concrete struct) and the exception.
 *
 *   ./hook_context run                 prints a=1
 *   ./hook_context run --param my_step.a=7
 */
#include <stdio.h>

#include <zenc.h>

typedef struct {
	int64_t a;
} my_parameters;

static const zenc_param my_parameters_fields[] = {
	ZENC_PARAM_INT(my_parameters, a, 1),
	ZENC_PARAM_END,
};

static void on_failure(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	const my_parameters *p = params;

	printf("%s\n", zenc_ctx_step_name(ctx)); /* my_step */
	printf("pipeline %s, run %s\n", zenc_ctx_pipeline_name(ctx),
	       zenc_ctx_run_name(ctx));
	printf("params of type MyParameters: a=%lld\n", (long long)p->a);
	printf("exception of type %s: %s\n", err->type, err->message);
	printf("Step failed!\n");
}

static int my_step(zenc_step_context *ctx)
{
	return zenc_raise(ctx, "ValueError", "My exception");
}

int main(int argc, char **argv)
{
	zenc_pipeline *p;
	zenc_step *s;
	int rc;

	zenc_pipeline_new(&p, "my_pipeline");
	zenc_pipeline_add_step(&s, p, "my_step", my_step);
	zenc_step_set_params(
		s, "MyParameters", my_parameters_fields, sizeof(my_parameters));
	zenc_step_on_failure(s, ZENC_HOOK(on_failure));
	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
}
