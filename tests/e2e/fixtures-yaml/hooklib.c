/*
 * Hooks loaded with dlopen by the end-to-end tests (t0400, t0500):
 * each appends one line to $ZT_LOG.  Built by the test scripts with
 * `cc -shared -fPIC -I$ZENC_SOURCE/include hooklib.c -o libhooks.so`.
 */
#include <stdio.h>
#include <stdlib.h>

#include <zenc.h>

void lib_failure(
	zenc_step_context *ctx, const void *params, const zenc_exception *err);
void lib_success(
	zenc_step_context *ctx, const void *params, const zenc_exception *err);
void lib_run(const zenc_run *run);

static void log_line(const char *what, const char *step, const char *extra)
{
	const char *path = getenv("ZT_LOG");
	FILE *f = path ? fopen(path, "a") : NULL;

	if (!f)
		return;
	fprintf(f, "%s %s %s\n", what, step ? step : "-", extra);
	fclose(f);
}

void lib_failure(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	char extra[256];

	(void)params;
	snprintf(
		extra, sizeof(extra), "err=%s:%s attempt=%d",
		err ? err->type : "none", err ? err->message : "",
		zenc_ctx_attempt(ctx));
	log_line("lib_failure", zenc_ctx_step_name(ctx), extra);
}

void lib_success(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	(void)params;
	log_line(
		"lib_success", zenc_ctx_step_name(ctx),
		err ? "err=set" : "err=null");
}

void lib_run(const zenc_run *run)
{
	char extra[256];

	snprintf(
		extra, sizeof(extra), "failed=%d name=%s", zenc_run_failed(run),
		zenc_run_name(run));
	log_line("lib_run", NULL, extra);
}
