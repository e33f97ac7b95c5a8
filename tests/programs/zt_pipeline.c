/*
 * The end-to-end tests' pipeline: source -> work -> sink, plus an
 * independent "side" step.  What "work" does and which hooks are set are
 * chosen with parameters and ZT_* environment variables, so one program
 * covers every hook rule.  Every hook appends one line to $ZT_LOG:
 *   EVENT HOOK STEP attempt=N [err=TYPE:MESSAGE] [mode=M]
 */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zenc.h>

typedef struct {
	const char *mode;
	int64_t fail_times;
	double sleep;
} work_params;

static const zenc_param work_fields[] = {
	ZENC_PARAM_STRING(work_params, mode, "ok"),
	ZENC_PARAM_INT(work_params, fail_times, 0),
	ZENC_PARAM_DOUBLE(work_params, sleep, 0.0),
	ZENC_PARAM_END,
};

typedef struct {
	int64_t n;
} source_params;

static const zenc_param source_fields[] = {
	ZENC_PARAM_INT(source_params, n, 41),
	ZENC_PARAM_END,
};

static void logf_line(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void logf_line(const char *fmt, ...)
{
	const char *path = getenv("ZT_LOG");
	va_list ap;
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "a");
	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

static void log_hook(
	const char *hook, zenc_step_context *ctx, const zenc_exception *err)
{
	const char *ev = zenc_ctx_hook_event(ctx);
	const char *step = zenc_ctx_step_name(ctx);
	const work_params *wp = NULL;
	char extra[256] = "";

	if (step && !strcmp(step, "work"))
		wp = zenc_ctx_params(ctx);
	if (err)
		snprintf(
			extra, sizeof(extra), " err=%s:%s exit=%d sig=%d",
			err->type, err->message, err->exit_code, err->signal);
	logf_line(
		"%s %s %s attempt=%d%s%s%s", ev ? ev : "?", hook,
		step ? step : "-", zenc_ctx_attempt(ctx), extra,
		wp ? " mode=" : "", wp ? wp->mode : "");
}

static void behave(const char *what, zenc_step_context *ctx)
{
	if (!what || !strcmp(what, "ok"))
		return;
	if (!strcmp(what, "crash"))
		raise(SIGSEGV);
	if (!strcmp(what, "raise"))
		zenc_raise(ctx, "HookError", "hook raised on purpose");
	if (!strcmp(what, "hang"))
		for (;;)
			pause();
	if (!strcmp(what, "exit"))
		exit(0);
}

static void p_success(zenc_step_context *ctx, const void *params)
{
	(void)params;
	log_hook("p_success", ctx, NULL);
}

static void p_failure(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	(void)params;
	log_hook("p_failure", ctx, err);
}

static void s_failure(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	(void)params;
	log_hook("s_failure", ctx, err);
}

static void s_success(zenc_step_context *ctx)
{
	log_hook("s_success", ctx, NULL);
	behave(getenv("ZT_SUCCESS_HOOK"), ctx);
}

/* The failure hooks of ZT_FAILURE_HOOKS="ok,crash,ok": each behaves as
 * its position says. */
static int fail_hook_index;

static void f_hook(zenc_step_context *ctx, int i, const zenc_exception *err)
{
	const char *spec = getenv("ZT_FAILURE_HOOKS");
	char buf[128], *tok, *save = NULL, name[24];
	int k = 0;

	snprintf(name, sizeof(name), "f_hook%d", i + 1);
	log_hook(name, ctx, err);
	snprintf(buf, sizeof(buf), "%s", spec ? spec : "");
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save), k++)
		if (k == i)
			behave(tok, ctx);
}

static void f_hook1(
	zenc_step_context *ctx, const void *p, const zenc_exception *err)
{
	(void)p;
	f_hook(ctx, 0, err);
}

static void f_hook2(
	zenc_step_context *ctx, const void *p, const zenc_exception *err)
{
	(void)p;
	f_hook(ctx, 1, err);
}

static void f_hook3(
	zenc_step_context *ctx, const void *p, const zenc_exception *err)
{
	(void)p;
	f_hook(ctx, 2, err);
}

static void on_start_hook(zenc_step_context *ctx)
{
	log_hook("on_start_hook", ctx, NULL);
}

static void on_end_hook(
	zenc_step_context *ctx, const void *p, const zenc_exception *err)
{
	(void)p;
	log_hook("on_end_hook", ctx, err);
}

static void on_retry_hook(
	zenc_step_context *ctx, const void *p, const zenc_exception *err)
{
	(void)p;
	log_hook("on_retry_hook", ctx, err);
}

static void run_ok(const zenc_run *run)
{
	logf_line(
		"on_run_success run_ok - failed=%d pipeline=%s",
		zenc_run_failed(run), zenc_run_pipeline_name(run));
}

static void run_bad(const zenc_run *run)
{
	logf_line(
		"on_run_failure run_bad - failed=%d pipeline=%s",
		zenc_run_failed(run), zenc_run_pipeline_name(run));
	if (getenv("ZT_RUN_HOOK_CRASH"))
		raise(SIGSEGV);
}

static int source(zenc_step_context *ctx)
{
	const source_params *p = zenc_ctx_params(ctx);
	return zenc_output_int(ctx, "n", p->n);
}

static int work(zenc_step_context *ctx)
{
	const work_params *p = zenc_ctx_params(ctx);
	const char *say = getenv("ZT_SAY");
	int64_t n = 0;

	if (getenv("ZT_LOG_PIDS"))
		logf_line(
			"work attempt=%d pid=%ld ppid=%ld",
			zenc_ctx_attempt(ctx), (long)getpid(), (long)getppid());
	/* A line on each stream, per attempt: the step's log (t1150). */
	if (getenv("ZT_SAY_ATTEMPT")) {
		printf("work prints on attempt %d\n", zenc_ctx_attempt(ctx));
		fprintf(stderr, "work warns on attempt %d\n",
			zenc_ctx_attempt(ctx));
	}
	/* Lines on both streams in turn, each written at once: their order
	 * in the log when the run's fds 1 and 2 are one file (t1150). */
	if (getenv("ZT_SAY_ORDER")) {
		long i, n_lines = atol(getenv("ZT_SAY_ORDER"));
		for (i = 1; i <= n_lines; i++) {
			printf("out %ld\n", i);
			fflush(stdout);
			fprintf(stderr, "err %ld\n", i);
		}
	}
	/* More than a pipe holds (t1150). */
	if (getenv("ZT_SAY_MUCH")) {
		long i, n_lines = atol(getenv("ZT_SAY_MUCH"));
		for (i = 1; i <= n_lines; i++)
			printf("work line %ld of %ld\n", i, n_lines);
	}
	/* Buffered, no newline: must reach stdout all the same. */
	if (say)
		printf("work says %s", say);
	if (p->sleep > 0)
		usleep((useconds_t)(p->sleep * 1e6));
	if (zenc_input_int(ctx, "n", &n) < 0)
		return zenc_raise(ctx, "InputError", "%s", zenc_error_last());
	if (!strcmp(p->mode, "raise"))
		return zenc_raise(ctx, "ValueError", "My exception");
	if (!strcmp(p->mode, "segv"))
		raise(SIGSEGV);
	if (!strcmp(p->mode, "abort"))
		abort();
	if (!strcmp(p->mode, "exit3"))
		exit(3);
	if (!strcmp(p->mode, "loop"))
		for (;;)
			;
	if (!strcmp(p->mode, "hog")) {
		/* Touch memory steadily until someone stops us. */
		for (;;) {
			char *m = malloc(8 << 20);
			if (m)
				memset(m, 1, 8 << 20);
			usleep(2000);
		}
	}
	if (!strcmp(p->mode, "flaky") && zenc_ctx_attempt(ctx) <= p->fail_times)
		return zenc_raise(
			ctx, "FlakyError", "attempt %d failed",
			zenc_ctx_attempt(ctx));
	if (!strcmp(p->mode, "missing"))
		return 0;
	return zenc_output_int(ctx, "result", n + 1);
}

static int sink(zenc_step_context *ctx)
{
	int64_t r = 0;

	if (zenc_input_int(ctx, "r", &r) < 0)
		return zenc_raise(ctx, "InputError", "%s", zenc_error_last());
	logf_line("sink got %lld", (long long)r);
	return 0;
}

static int side(zenc_step_context *ctx)
{
	const char *s = getenv("ZT_SIDE_SLEEP");
	(void)ctx;
	if (s)
		usleep((useconds_t)(atof(s) * 1e6));
	logf_line("side ran");
	return 0;
}

int main(int argc, char **argv)
{
	zenc_pipeline *p;
	zenc_step *src, *w, *snk, *sd;
	const char *v;
	int rc;

	(void)fail_hook_index;
	zenc_pipeline_new(&p, "zt");
	zenc_pipeline_add_step(&src, p, "source", source);
	zenc_step_set_params(
		src, "SourceParams", source_fields, sizeof(source_params));
	zenc_step_add_output(src, "n", ZENC_INT);
	zenc_pipeline_add_step(&w, p, "work", work);
	zenc_step_set_params(w, "WorkParams", work_fields, sizeof(work_params));
	zenc_step_add_input(w, "n", src, "n");
	zenc_step_add_output(w, "result", ZENC_INT);
	zenc_pipeline_add_step(&snk, p, "sink", sink);
	zenc_step_add_input(snk, "r", w, "result");
	zenc_pipeline_add_step(&sd, p, "side", side);

	if (getenv("ZT_PIPELINE_HOOKS")) {
		zenc_pipeline_on_success(p, ZENC_HOOK(p_success));
		zenc_pipeline_on_failure(p, ZENC_HOOK(p_failure));
	}
	if (getenv("ZT_STEP_FAILURE_HOOK"))
		zenc_step_on_failure(w, ZENC_HOOK(s_failure));
	if (getenv("ZT_SUCCESS_HOOK"))
		zenc_step_on_success(w, ZENC_HOOK(s_success));
	if (getenv("ZT_FAILURE_HOOKS")) {
		zenc_step_on_failure(w, ZENC_HOOK(f_hook1));
		zenc_step_on_failure(w, ZENC_HOOK(f_hook2));
		zenc_step_on_failure(w, ZENC_HOOK(f_hook3));
	}
	if (getenv("ZT_START_END")) {
		zenc_pipeline_on_start(p, ZENC_HOOK(on_start_hook));
		zenc_pipeline_on_end(p, ZENC_HOOK(on_end_hook));
		zenc_pipeline_on_retry(p, ZENC_HOOK(on_retry_hook));
	}
	if (getenv("ZT_RUN_HOOKS")) {
		zenc_pipeline_on_run_success(p, ZENC_HOOK(run_ok));
		zenc_pipeline_on_run_failure(p, ZENC_HOOK(run_bad));
	}
	if ((v = getenv("ZT_RETRY"))) {
		int max = 0;
		double delay = 0, backoff = 1;
		sscanf(v, "%d,%lf,%lf", &max, &delay, &backoff);
		zenc_step_set_retry(w, max, delay, backoff);
	}
	if ((v = getenv("ZT_PIPELINE_RETRY"))) {
		int max = 0;
		double delay = 0, backoff = 1;
		sscanf(v, "%d,%lf,%lf", &max, &delay, &backoff);
		zenc_pipeline_set_retry(p, max, delay, backoff);
	}
	if ((v = getenv("ZT_TIMEOUT")))
		zenc_step_set_timeout(w, atof(v));
	if ((v = getenv("ZT_HOOK_TIMEOUT")))
		zenc_pipeline_set_hook_timeout(p, atof(v));
	if ((v = getenv("ZT_MEMORY")))
		zenc_step_set_memory_limit(w, (size_t)atof(v) << 20);
	if (getenv("ZT_STRICT"))
		zenc_pipeline_set_hook_failure(p, ZENC_HOOK_FAILURE_FAIL);
	if (getenv("ZT_DUPLICATE"))
		zenc_pipeline_add_step(NULL, p, "work", work);
	if (getenv("ZT_CYCLE"))
		zenc_step_after(src, snk);
	if (getenv("ZT_UNKNOWN_INPUT"))
		zenc_step_add_input(snk, "q", w, "nope");

	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
}
