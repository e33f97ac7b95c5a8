/*
 * quickstart: the pipeline the README's first command runs.
 *
 *   load_data -> clean -> train -> evaluate -> publish
 *
 * It fails on purpose, to show what zenc does when something goes wrong:
 *   - train fails on its first attempt (a flaky feature store), its
 *     on_retry hook reports it, and the retry succeeds;
 *   - evaluate finds the accuracy below the threshold and raises
 *     ValueError: its on_failure hook prints the step's context,
 *     parameters and error, and the standard alerter hook posts through
 *     the stack's alerter (or warns that there is none);
 *   - publish depends on evaluate, so it is skipped and fires no hooks;
 *   - the run-level failure hook prints a summary once.
 *
 *   ./quickstart run                                 fails (exit 1)
 *   ./quickstart run --param evaluate.threshold=0.8  completes (exit 0)
 *   zenc runs show <run name>                        what was recorded
 */
#include <stdio.h>

#include <zenc.h>

typedef struct {
	int64_t rows;
} load_params;

static const zenc_param load_fields[] = {
	ZENC_PARAM_INT(load_params, rows, 1000),
	ZENC_PARAM_END,
};

typedef struct {
	double lr;
	int64_t epochs;
} train_params;

static const zenc_param train_fields[] = {
	ZENC_PARAM_DOUBLE(train_params, lr, 0.01),
	ZENC_PARAM_INT(train_params, epochs, 3),
	ZENC_PARAM_END,
};

typedef struct {
	double threshold;
} evaluate_params;

static const zenc_param evaluate_fields[] = {
	ZENC_PARAM_DOUBLE(evaluate_params, threshold, 0.9),
	ZENC_PARAM_END,
};

static int load_data(zenc_step_context *ctx)
{
	const load_params *p = zenc_ctx_params(ctx);
	return zenc_output_int(ctx, "rows", p->rows);
}

static int clean(zenc_step_context *ctx)
{
	int64_t rows;

	if (zenc_input_int(ctx, "rows", &rows) < 0)
		return zenc_raise(ctx, "InputError", "%s", zenc_error_last());
	/* Drop the 3% of rows that have missing labels. */
	return zenc_output_int(ctx, "rows", rows - rows * 3 / 100);
}

static int train(zenc_step_context *ctx)
{
	const train_params *p = zenc_ctx_params(ctx);
	int64_t rows;

	if (zenc_ctx_attempt(ctx) == 1)
		return zenc_raise(
			ctx, "ConnectionError", "feature store timed out");
	zenc_input_int(ctx, "rows", &rows);
	return zenc_output_double(
		ctx, "accuracy",
		0.8 + 0.0001 * (double)(rows / 100) * (double)p->epochs +
			p->lr);
}

static int evaluate(zenc_step_context *ctx)
{
	const evaluate_params *p = zenc_ctx_params(ctx);
	double accuracy;

	zenc_input_double(ctx, "accuracy", &accuracy);
	if (accuracy < p->threshold)
		return zenc_raise(
			ctx, "ValueError",
			"accuracy %.3f is below the threshold %.3f", accuracy,
			p->threshold);
	return zenc_output_bool(ctx, "approved", true);
}

static int publish(zenc_step_context *ctx)
{
	printf("publishing the model of run %s\n", zenc_ctx_run_name(ctx));
	return 0;
}

/* Hooks. */
static void on_success(zenc_step_context *ctx)
{
	printf("  [on_success] %s is done (attempt %d)\n",
	       zenc_ctx_step_name(ctx), zenc_ctx_attempt(ctx));
}

static void on_retry(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	(void)params;
	printf("  [on_retry] %s attempt %d failed with %s: %s; retrying\n",
	       zenc_ctx_step_name(ctx), err->attempt, err->type, err->message);
}

static void evaluate_failed(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	const evaluate_params *p = params;

	printf("  [on_failure] step %s of pipeline %s, run %s\n",
	       zenc_ctx_step_name(ctx), zenc_ctx_pipeline_name(ctx),
	       zenc_ctx_run_name(ctx));
	printf("  [on_failure] params: threshold=%.3f\n", p->threshold);
	printf("  [on_failure] error: %s: %s\n", err->type, err->message);
}

static void run_failed(const zenc_run *run)
{
	printf("  [on_run_failure] run %s failed; see: zenc runs show %s\n",
	       zenc_run_name(run), zenc_run_name(run));
}

static void run_completed(const zenc_run *run)
{
	printf("  [on_run_success] run %s completed\n", zenc_run_name(run));
}

int main(int argc, char **argv)
{
	zenc_pipeline *p;
	zenc_step *load, *cl, *tr, *ev, *pub;
	int rc;

	zenc_pipeline_new(&p, "quickstart");
	zenc_pipeline_on_success(p, ZENC_HOOK(on_success));
	zenc_pipeline_on_retry(p, ZENC_HOOK(on_retry));
	zenc_pipeline_on_run_failure(p, ZENC_HOOK(run_failed));
	zenc_pipeline_on_run_success(p, ZENC_HOOK(run_completed));

	zenc_pipeline_add_step(&load, p, "load_data", load_data);
	zenc_step_set_params(
		load, "LoadParams", load_fields, sizeof(load_params));
	zenc_step_add_output(load, "rows", ZENC_INT);

	zenc_pipeline_add_step(&cl, p, "clean", clean);
	zenc_step_add_input(cl, "rows", load, "rows");
	zenc_step_add_output(cl, "rows", ZENC_INT);

	zenc_pipeline_add_step(&tr, p, "train", train);
	zenc_step_set_params(
		tr, "TrainParams", train_fields, sizeof(train_params));
	zenc_step_add_input(tr, "rows", cl, "rows");
	zenc_step_add_output(tr, "accuracy", ZENC_DOUBLE);
	zenc_step_set_retry(tr, 2, 0.2, 2.0);

	zenc_pipeline_add_step(&ev, p, "evaluate", evaluate);
	zenc_step_set_params(
		ev, "EvaluateParams", evaluate_fields, sizeof(evaluate_params));
	zenc_step_add_input(ev, "accuracy", tr, "accuracy");
	zenc_step_add_output(ev, "approved", ZENC_BOOL);
	zenc_step_on_failure(ev, ZENC_HOOK(evaluate_failed));
	zenc_step_on_failure(ev, ZENC_HOOK(zenc_alerter_failure_hook));

	zenc_pipeline_add_step(&pub, p, "publish", publish);
	zenc_step_after(pub, ev);

	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
}
