/*
 * The zenc C contender of the benchmarks: builds one pipeline of trivial
 * steps and hands the rest of the command line to zenc_main().
 *
 *   c_pipe SHAPE N run [--isolation process|none] [-j J] [--quiet] ...
 *
 * SHAPE chain:  s1 -> s2 -> ... -> sN, each step reads the int output of
 *               the previous one and writes its own (zenc_step_add_input,
 *               zenc_input_int, zenc_output_int).
 * SHAPE fanout: src -> w1..wN (independent, each reads src's int) -> join
 *               (after every w).
 * SHAPE fail:   a chain of N whose step K (env BENCH_FAIL_AT, default 10)
 *               raises; every step has a failure hook that appends
 *               "on_failure STEP TYPE: MESSAGE" to $BENCH_FAIL_LOG (or
 *               stderr).
 * Every step has BENCH_HOOKS (default 1) success hooks, registered on the
 * step itself; a hook only bumps a counter.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zenc.h>

static volatile unsigned long hook_calls;
static long fail_at = -1;

static void on_ok(zenc_step_context *ctx)
{
	(void)ctx;
	hook_calls++;
}

static void on_fail(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	const char *path = getenv("BENCH_FAIL_LOG");
	FILE *f = path ? fopen(path, "a") : stderr;

	(void)params;
	if (!f)
		return;
	fprintf(f, "on_failure %s %s: %s\n", zenc_ctx_step_name(ctx),
		err && err->type ? err->type : "?",
		err && err->message ? err->message : "?");
	if (f != stderr)
		fclose(f);
}

static int first(zenc_step_context *ctx)
{
	return zenc_output_int(ctx, "x", 1);
}

static int next(zenc_step_context *ctx)
{
	int64_t v = 0;

	if (zenc_input_int(ctx, "x", &v) < 0)
		return zenc_raise(ctx, "InputError", "%s", zenc_error_last());
	return zenc_output_int(ctx, "x", v + 1);
}

static int failing(zenc_step_context *ctx)
{
	int64_t v = 0;

	zenc_input_int(ctx, "x", &v);
	return zenc_raise(
		ctx, "BenchError", "step %s fails on purpose (x=%lld)",
		zenc_ctx_step_name(ctx), (long long)v);
}

static int join(zenc_step_context *ctx)
{
	(void)ctx;
	return 0;
}

static void die(const char *what)
{
	fprintf(stderr, "c_pipe: %s: %s\n", what, zenc_error_last());
	exit(3);
}

static zenc_step *add(
	zenc_pipeline *p,
	const char *name,
	zenc_step_fn fn,
	int hooks,
	int failure_hook)
{
	zenc_step *s;
	int i;

	if (zenc_pipeline_add_step(&s, p, name, fn) < 0)
		die("add step");
	for (i = 0; i < hooks; i++)
		if (zenc_step_on_success(s, ZENC_HOOK(on_ok)) < 0)
			die("on_success");
	if (failure_hook && zenc_step_on_failure(s, ZENC_HOOK(on_fail)) < 0)
		die("on_failure");
	return s;
}

int main(int argc, char **argv)
{
	zenc_pipeline *p;
	zenc_step *prev = NULL, *s, *src, *j;
	const char *shape;
	const char *e;
	char name[32];
	long n, i;
	int hooks = 1, rc, is_fail;

	if (argc < 4) {
		fprintf(stderr, "usage: c_pipe chain|fanout|fail N run "
				"[zenc_main options]\n");
		return 2;
	}
	shape = argv[1];
	n = strtol(argv[2], NULL, 10);
	if ((e = getenv("BENCH_HOOKS")))
		hooks = atoi(e);
	is_fail = !strcmp(shape, "fail");
	if (is_fail)
		fail_at = (e = getenv("BENCH_FAIL_AT")) ? atol(e) : 10;
	snprintf(name, sizeof(name), "bench_%s", shape);
	if (zenc_pipeline_new(&p, name) < 0)
		die("pipeline");

	if (!strcmp(shape, "chain") || is_fail) {
		for (i = 1; i <= n; i++) {
			snprintf(name, sizeof(name), "s%ld", i);
			s = add(p, name,
				i == fail_at ? failing
				: i == 1     ? first
					     : next,
				hooks, is_fail);
			if (zenc_step_add_output(s, "x", ZENC_INT) < 0)
				die("output");
			if (prev && zenc_step_add_input(s, "x", prev, "x") < 0)
				die("input");
			prev = s;
		}
	} else if (!strcmp(shape, "fanout")) {
		src = add(p, "src", first, hooks, 0);
		if (zenc_step_add_output(src, "x", ZENC_INT) < 0)
			die("output");
		j = add(p, "join", join, hooks, 0);
		for (i = 1; i <= n; i++) {
			snprintf(name, sizeof(name), "w%ld", i);
			s = add(p, name, next, hooks, 0);
			if (zenc_step_add_output(s, "x", ZENC_INT) < 0 ||
			    zenc_step_add_input(s, "x", src, "x") < 0 ||
			    zenc_step_after(j, s) < 0)
				die("wiring");
		}
	} else {
		fprintf(stderr, "c_pipe: unknown shape '%s'\n", shape);
		return 2;
	}

	argv[2] = argv[0];
	rc = zenc_main(p, argc - 2, argv + 2);
	zenc_pipeline_free(p);
	return rc;
}
