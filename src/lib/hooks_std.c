/*
 * The standard hooks (H5) and posting through an alerter.
 */
#include <stdlib.h>
#include <string.h>

#include "exec.h"

int zenc_alerter_post(zenc_alerter *a, const char *message)
{
	if (!a) {
		zenc__warn("no alerter in the stack; not posting: %s",
			   message ? message : "");
		return zenc__error_set(ZENC_ENOTFOUND, "no alerter");
	}
	return zenc__alerter_post_text(a, message);
}

static void post_standard(zenc_step_context *ctx, const zenc_exception *err)
{
	zenc_alerter *a = zenc_stack_alerter(zenc_ctx_active_stack(ctx));
	zenc_buf msg = ZENC_BUF_INIT;

	if (!a) {
		/* H5: a warning, and the hook run counts as completed. */
		zenc__warn("%s hook for step %s: no alerter in stack '%s'; "
			   "nothing posted",
			   err ? "alerter_failure_hook" : "alerter_success_hook",
			   zenc_ctx_step_name(ctx),
			   zenc_stack_name(zenc_ctx_active_stack(ctx)));
		return;
	}
	if (err)
		zenc_buf_printf(&msg,
				"Step %s of pipeline %s (run %s) failed: "
				"%s: %s",
				zenc_ctx_step_name(ctx),
				zenc_ctx_pipeline_name(ctx),
				zenc_ctx_run_name(ctx), err->type,
				err->message);
	else
		zenc_buf_printf(&msg,
				"Step %s of pipeline %s (run %s) succeeded.",
				zenc_ctx_step_name(ctx),
				zenc_ctx_pipeline_name(ctx),
				zenc_ctx_run_name(ctx));
	if (zenc__alerter_post_standard(a, ctx, err, msg.ptr) < 0)
		zenc_raise(ctx, "AlertFailed", "%s", zenc_error_last());
	zenc_buf_release(&msg);
}

void zenc_alerter_success_hook(zenc_step_context *ctx, const void *params)
{
	(void)params;
	post_standard(ctx, NULL);
}

void zenc_alerter_failure_hook(zenc_step_context *ctx, const void *params,
			       const zenc_exception *err)
{
	(void)params;
	post_standard(ctx, err);
}

int zenc__builtin_hook(zenc_hook *out, const char *name)
{
	if (!strcmp(name, "alerter_success_hook")) {
		*out = ZENC_HOOK(zenc_alerter_success_hook);
		out->name = "alerter_success_hook";
		return 0;
	}
	if (!strcmp(name, "alerter_failure_hook")) {
		*out = ZENC_HOOK(zenc_alerter_failure_hook);
		out->name = "alerter_failure_hook";
		return 0;
	}
	return zenc__error_set(ZENC_ENOTFOUND,
			       "unknown built-in hook '%s' (known: "
			       "alerter_success_hook, alerter_failure_hook)",
			       name);
}

/* Until alerter flavors deliver (the alerters change), an alerter object
 * never exists, so these are unreachable. */
int zenc__alerter_post_text(zenc_alerter *a, const char *message)
{
	(void)a;
	(void)message;
	return zenc__error_set(ZENC_ENOTFOUND, "alerters are not available");
}

int zenc__alerter_post_standard(zenc_alerter *a, zenc_step_context *ctx,
				const zenc_exception *err, const char *message)
{
	(void)ctx;
	(void)err;
	return zenc__alerter_post_text(a, message);
}
