/*
 * The standard hooks (docs/hooks.md, "The standard hooks") and posting
 * through an alerter.
 *
 * The hooks post pipeline, run and step names, the status, for a failure
 * the error's type and message (and exit code or signal when the step
 * process died), the attempt, the duration so far, the step's parameters
 * (as fields and as JSON) and, through the alerter's dashboard_url, a
 * link to the run.  A string parameter `alert_channel` names the Slack
 * channel for that step's alerts.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/exec.h"
#include "config/stack.h"
#include "stores/store.h"

/* zenc__alerter_post_text() is in alerter.c. */
int zenc_alerter_post(zenc_alerter *a, const char *message)
{
	if (!a) {
		zenc__warn(
			"no alerter in the stack; not posting: %s",
			message ? message : "");
		return zenc__error_set(ZENC_ENOTFOUND, "no alerter");
	}
	return zenc__alerter_post_text(a, message);
}

static int post_run(zenc_alerter *a, zenc_step_context *ctx, int failed);

static void post_standard(zenc_step_context *ctx, const zenc_exception *err)
{
	zenc_alerter *a = zenc_stack_alerter(zenc_ctx_active_stack(ctx));
	zenc_buf msg = ZENC_BUF_INIT;

	if (!ctx->step) {
		/* A run-level hook: one alert for the whole run. */
		int failed = ctx->x->run->failed ||
			     (ctx->hook_event &&
			      !strcmp(ctx->hook_event, "on_run_failure"));

		if (!a)
			zenc__warn(
				"%s hook of run %s: no alerter in stack '%s'; "
				"nothing posted",
				failed ? "alerter_failure_hook"
				       : "alerter_success_hook",
				zenc_ctx_run_name(ctx),
				zenc_stack_name(zenc_ctx_active_stack(ctx)));
		else if (post_run(a, ctx, failed) < 0)
			zenc_raise(ctx, "AlertFailed", "%s", zenc_error_last());
		return;
	}
	if (!a) {
		/* No alerter: a warning, and the hook run counts as completed
		 * (a missing alerter is not the hook's failure). */
		zenc__warn(
			"%s hook for step %s: no alerter in stack '%s'; "
			"nothing posted",
			err ? "alerter_failure_hook" : "alerter_success_hook",
			zenc_ctx_step_name(ctx),
			zenc_stack_name(zenc_ctx_active_stack(ctx)));
		return;
	}
	if (err && (err->signal || err->exit_code))
		zenc_buf_printf(
			&msg,
			"Step %s of pipeline %s (run %s) failed: "
			"%s: %s (%s %d)",
			zenc_ctx_step_name(ctx), zenc_ctx_pipeline_name(ctx),
			zenc_ctx_run_name(ctx), err->type, err->message,
			err->signal ? "signal" : "exit code",
			err->signal ? err->signal : err->exit_code);
	else if (err)
		zenc_buf_printf(
			&msg,
			"Step %s of pipeline %s (run %s) failed: "
			"%s: %s",
			zenc_ctx_step_name(ctx), zenc_ctx_pipeline_name(ctx),
			zenc_ctx_run_name(ctx), err->type, err->message);
	else
		zenc_buf_printf(
			&msg, "Step %s of pipeline %s (run %s) succeeded.",
			zenc_ctx_step_name(ctx), zenc_ctx_pipeline_name(ctx),
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

void zenc_alerter_failure_hook(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	(void)params;
	post_standard(ctx, err);
}

bool zenc__hook_is_alerter(const zenc_hook *h)
{
	return h && ((h->kind == ZENC_HOOK_CTX_PARAMS &&
		      h->fn == (zenc_hook_void_fn)zenc_alerter_success_hook) ||
		     (h->kind == ZENC_HOOK_CTX_PARAMS_ERR &&
		      h->fn == (zenc_hook_void_fn)zenc_alerter_failure_hook));
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
	return zenc__error_set(
		ZENC_ENOTFOUND,
		"unknown built-in hook '%s' (known: "
		"alerter_success_hook, alerter_failure_hook)",
		name);
}

/* The step parameter that names a channel for this step's alerts (Slack
 * with a token): a string field `alert_channel` of the step's parameter
 * struct. */
#define CHANNEL_PARAM "alert_channel"

static const char *param_channel(const zenc_step_context *ctx)
{
	const zenc_param *f;
	const char *v;

	if (!ctx->step || !ctx->ss || !ctx->ss->params)
		return NULL;
	for (f = ctx->step->param_fields; f && f->name; f++) {
		if (f->type != ZENC_STRING || strcmp(f->name, CHANNEL_PARAM))
			continue;
		memcpy(&v, (const char *)ctx->ss->params + f->offset,
		       sizeof(v));
		return v && *v ? v : NULL;
	}
	return NULL;
}

int zenc__alerter_post_standard(
	zenc_alerter *a,
	zenc_step_context *ctx,
	const zenc_exception *err,
	const char *message)
{
	zenc_alert al = ZENC_ALERT_INIT;
	zenc_alert_field *fields = NULL;
	zenc_buf title = ZENC_BUF_INIT, *vals = NULL;
	const zenc_param *f;
	size_t n = 0, i;
	int rc;

	zenc_buf_printf(
		&title, "Step %s of pipeline %s %s", zenc_ctx_step_name(ctx),
		zenc_ctx_pipeline_name(ctx), err ? "failed" : "succeeded");
	al.title = title.ptr;
	al.message = message;
	al.pipeline = zenc_ctx_pipeline_name(ctx);
	al.run_name = zenc_ctx_run_name(ctx);
	al.run_id = zenc_ctx_run_id(ctx);
	al.step = zenc_ctx_step_name(ctx);
	al.status = err ? "failed" : "completed";
	al.event = ctx->hook_event ? ctx->hook_event
		   : err           ? "on_failure"
				   : "on_success";
	al.attempt = err && err->attempt ? err->attempt : zenc_ctx_attempt(ctx);
	if (err) {
		al.error_type = err->type;
		al.error_message = err->message;
		al.exit_code = err->exit_code;
		al.signal = err->signal;
	}
	if (ctx->ss && ctx->ss->started > 0)
		al.duration = zenc__now() - ctx->ss->started;
	if (ctx->ss)
		al.params_json = ctx->ss->params_json;
	al.channel = param_channel(ctx);

	/* The parameters, one field each, as text. */
	if (ctx->step && ctx->ss && ctx->ss->params) {
		for (f = ctx->step->param_fields; f && f->name; f++)
			n++;
		fields = zenc__calloc(n + 1, sizeof(*fields));
		vals = zenc__calloc(n + 1, sizeof(*vals));
		n = 0;
		for (f = ctx->step->param_fields; f && f->name; f++) {
			if (!strcmp(f->name, CHANNEL_PARAM))
				continue;
			zenc__param_text(&vals[n], f, ctx->ss->params);
			fields[n].key = f->name;
			fields[n].value = zenc_buf_cstr(&vals[n]);
			n++;
		}
		al.fields = fields;
		al.n_fields = n;
	}
	rc = zenc_alerter_post_alert(a, &al);
	for (i = 0; vals && i < n; i++)
		zenc_buf_release(&vals[i]);
	free(vals);
	free(fields);
	zenc_buf_release(&title);
	return rc;
}

/*
 * The run-level alert: one per run, naming every failed step with its
 * error (the digest that stands in for one alert per step).  The steps
 * are read from the metadata store, where each ended attempt is recorded
 * before the run-level hooks run: this process may be a child forked
 * before the steps ended, whose copy of the run is older.
 */
static int post_run(zenc_alerter *a, zenc_step_context *ctx, int failed)
{
	zenc_stack *stack = zenc_ctx_active_stack(ctx);
	zenc_alert al = ZENC_ALERT_INIT;
	zenc_alert_field fields[2];
	zenc_buf title = ZENC_BUF_INIT, msg = ZENC_BUF_INIT;
	zenc_buf names = ZENC_BUF_INIT, count = ZENC_BUF_INIT;
	zenc_buf text = ZENC_BUF_INIT;
	zenc__store *st = NULL;
	zenc__run_info info;
	size_t i, n_failed = 0, n_steps = 0;
	int rc, have = 0;

	memset(&info, 0, sizeof(info));
	if (zenc__store_open(
		    &st, zenc__stack_store_flavor(stack),
		    zenc__stack_store_location(stack)) == 0 &&
	    st->run_show(st, zenc_ctx_run_id(ctx), &info) == 0)
		have = 1;
	else
		zenc__warn(
			"run alert: cannot read the run's steps: %s",
			zenc_error_last());
	for (i = 0; have && i < info.n_steps; i++) {
		const zenc_step_record *r = &info.steps[i].rec;

		n_steps++;
		if (!r->status || strcmp(r->status, "failed"))
			continue;
		n_failed++;
		zenc_buf_printf(&names, "%s%s", names.len ? ", " : "", r->name);
		zenc_buf_printf(
			&msg, "\n- %s: %s%s%s", r->name,
			r->error_type ? r->error_type : "failed",
			r->error_message ? ": " : "",
			r->error_message ? r->error_message : "");
	}
	zenc_buf_printf(
		&title, "Run %s of pipeline %s %s", zenc_ctx_run_name(ctx),
		zenc_ctx_pipeline_name(ctx), failed ? "failed" : "succeeded");
	if (failed)
		zenc_buf_printf(
			&text, "%s: %zu step%s failed%s%s%s", title.ptr,
			n_failed, n_failed == 1 ? "" : "s",
			n_failed ? ": " : "", zenc_buf_cstr(&names),
			zenc_buf_cstr(&msg));
	else
		zenc_buf_printf(
			&text, "%s: %zu step%s completed.", title.ptr, n_steps,
			n_steps == 1 ? "" : "s");
	zenc_buf_printf(&count, "%zu", n_failed);
	al.title = title.ptr;
	al.message = text.ptr;
	al.pipeline = zenc_ctx_pipeline_name(ctx);
	al.run_name = zenc_ctx_run_name(ctx);
	al.run_id = zenc_ctx_run_id(ctx);
	al.status = failed ? "failed" : "completed";
	al.event = ctx->hook_event ? ctx->hook_event
		   : failed        ? "on_run_failure"
				   : "on_run_success";
	al.stack = zenc_stack_name(stack);
	if (have && info.rec.started > 0)
		al.duration = zenc__now() - info.rec.started;
	if (failed) {
		/* The failed steps, for receivers that read fields. */
		al.error_type = n_failed ? "StepsFailed" : NULL;
		al.error_message = names.len ? names.ptr : NULL;
		fields[0].key = "failed_steps";
		fields[0].value = zenc_buf_cstr(&names);
		fields[1].key = "failed_count";
		fields[1].value = count.ptr;
		al.fields = fields;
		al.n_fields = 2;
	}
	rc = zenc_alerter_post_alert(a, &al);
	if (have)
		zenc__run_info_free(&info);
	zenc__store_free(st);
	zenc_buf_release(&title);
	zenc_buf_release(&msg);
	zenc_buf_release(&names);
	zenc_buf_release(&count);
	zenc_buf_release(&text);
	return rc;
}
