/*
 * The watcher tests' pipeline (t0160): "work" writes the run's id to
 * $WP_DIR/started and then waits in a command (`sleep 300` under
 * /bin/sh, so that the run has processes of its own to stop); "sink"
 * follows it and never runs in these tests.  On failure: a command hook
 * that appends "STEP ERROR_TYPE SIGNAL" to $WP_DIR/hook.log, the standard
 * alerter failure hook, and a C function hook (which the watcher cannot
 * run, and records as skipped); on run failure, a command hook that
 * appends "run-failure".
 */
#include <stdio.h>
#include <stdlib.h>

#include <zenc.h>

static const char *dir(void)
{
	const char *d = getenv("WP_DIR");

	return d ? d : ".";
}

static int work(zenc_step_context *ctx)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/started", dir());
	if ((f = fopen(path, "w"))) {
		fprintf(f, "%s\n", zenc_ctx_run_id(ctx));
		fclose(f);
	}
	if (system("sleep 300") != 0)
		return zenc_raise(ctx, "SleepFailed", "sleep did not finish");
	return 0;
}

static int sink(zenc_step_context *ctx)
{
	(void)ctx;
	return 0;
}

static void c_failure_hook(const zenc_exception *err)
{
	(void)err;
}

int main(int argc, char **argv)
{
	zenc_pipeline *p;
	zenc_step *w, *s;
	int rc;

	zenc_pipeline_new(&p, "watch_pipeline");
	zenc_pipeline_on_failure(
		p, zenc_hook_command("echo \"$ZENC_STEP_NAME $ZENC_ERROR_TYPE "
				     "$ZENC_SIGNAL\" >>\"$WP_DIR/hook.log\""));
	zenc_pipeline_on_failure(p, ZENC_HOOK(zenc_alerter_failure_hook));
	zenc_pipeline_on_failure(p, ZENC_HOOK(c_failure_hook));
	zenc_pipeline_on_run_failure(
		p,
		zenc_hook_command("echo run-failure >>\"$WP_DIR/hook.log\""));
	zenc_pipeline_add_step(&w, p, "work", work);
	zenc_pipeline_add_step(&s, p, "sink", sink);
	zenc_step_after(s, w);
	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
}
