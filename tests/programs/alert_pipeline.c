/*
 * The alerting tests' pipeline: one step, "work", with the standard
 * alerter hooks on success and on failure (set on the pipeline, so they
 * apply to the step).  What "work" does comes from its parameters:
 *   mode      ok | raise | crash | exit
 *   message   the error message for raise (ZA_MESSAGE overrides it, for
 *             text a command line mangles: quotes, newlines, UTF-8)
 *   lr        a parameter that shows up in the alert
 *   alert_channel   the Slack channel for this step's alerts
 * ZA_HOOK_TIMEOUT sets the pipeline's hook timeout in seconds.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zenc.h>

typedef struct {
	const char *mode;
	const char *message;
	double lr;
	const char *alert_channel;
} work_params;

static const zenc_param work_fields[] = {
	ZENC_PARAM_STRING(work_params, mode, "ok"),
	ZENC_PARAM_STRING(work_params, message, "boom"),
	ZENC_PARAM_DOUBLE(work_params, lr, 0.5),
	ZENC_PARAM_STRING(work_params, alert_channel, ""),
	ZENC_PARAM_END,
};

static int work(zenc_step_context *ctx)
{
	const work_params *p = zenc_ctx_params(ctx);
	const char *msg = getenv("ZA_MESSAGE");

	if (!strcmp(p->mode, "raise"))
		return zenc_raise(
			ctx, "ValueError", "%s", msg ? msg : p->message);
	if (!strcmp(p->mode, "crash"))
		raise(SIGSEGV);
	if (!strcmp(p->mode, "exit"))
		_exit(7);
	return 0;
}

int main(int argc, char **argv)
{
	const char *ht = getenv("ZA_HOOK_TIMEOUT");
	zenc_pipeline *p;
	zenc_step *s;
	int rc;

	zenc_pipeline_new(&p, "alert_pipeline");
	zenc_pipeline_on_success(p, ZENC_HOOK(zenc_alerter_success_hook));
	zenc_pipeline_on_failure(p, ZENC_HOOK(zenc_alerter_failure_hook));
	if (ht)
		zenc_pipeline_set_hook_timeout(p, atof(ht));
	zenc_pipeline_add_step(&s, p, "work", work);
	zenc_step_set_params(
		s, "WorkParameters", work_fields, sizeof(work_params));
	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
}
