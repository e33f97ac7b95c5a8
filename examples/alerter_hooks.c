/*
 * The seed's last examples: a hook that posts through the active stack's
 * alerter, and the standard alerter hooks.
 *
 *   ./alerter_hooks run
 *
 * With no alerter in the stack, the hooks log a warning and count as
 * completed.  Register one to see messages arrive, e.g.
 *
 *   zenc alerter register console --flavor log
 *   zenc stack register with-alerts -o default -a default -al console
 *   zenc stack set with-alerts
 */
#include <stdio.h>

#include <zenc.h>

static void on_failure(zenc_step_context *ctx)
{
	char msg[256];
	zenc_alerter *a = zenc_stack_alerter(zenc_ctx_active_stack(ctx));

	snprintf(msg, sizeof(msg), "%s just failed!", zenc_ctx_step_name(ctx));
	zenc_alerter_post(a, msg);
}

static int my_step(zenc_step_context *ctx)
{
	return zenc_output_int(ctx, "answer", 42);
}

static int flaky_step(zenc_step_context *ctx)
{
	return zenc_raise(ctx, "ConnectionError", "the database is down");
}

int main(int argc, char **argv)
{
	zenc_pipeline *p;
	zenc_step *s;
	int rc;

	zenc_pipeline_new(&p, "alerter_hooks");

	zenc_pipeline_add_step(&s, p, "my_step", my_step);
	zenc_step_add_output(s, "answer", ZENC_INT);
	zenc_step_on_failure(s, ZENC_HOOK(zenc_alerter_failure_hook));
	zenc_step_on_success(s, ZENC_HOOK(zenc_alerter_success_hook));

	zenc_pipeline_add_step(&s, p, "flaky_step", flaky_step);
	zenc_step_on_failure(s, ZENC_HOOK(on_failure));
	zenc_step_on_failure(s, ZENC_HOOK(zenc_alerter_failure_hook));

	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
}
