/*
 * Run-scope hooks for t1050-runhooks.sh and t1060-runhooks-slurm.sh: a
 * chain a -> b -> c with on_init / on_cleanup (C functions),
 * on_run_start / on_run_end and on_run_failure.  Every step and hook
 * appends one line to $ZT_LOG, with its process id and the init state it
 * reads, so a test counts how often each fired and where.
 *
 *   ZT_FAIL=STEP       that step raises
 *   ZT_INIT_FAIL=1     the init hook raises (and returns no state)
 *   ZT_INIT_HANG=1     the init hook sleeps 60 s
 *   ZT_START_FAIL=1    the on_run_start hook raises
 *   ZT_END_FAIL=1      the on_run_end hook raises
 *   ZT_SLEEP=STEP      that step sleeps 30 s (to be cancelled)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zenc.h>

static void say(const char *fmt, const char *a, const char *b)
{
	const char *path = getenv("ZT_LOG");
	char line[512];
	int fd, n;

	if (!path)
		return;
	n = snprintf(line, sizeof(line), fmt, a, b);
	if (n < 0)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0)
		return;
	/* One write: lines of processes that run at once stay whole. */
	if (write(fd, line, (size_t)n) < 0)
		perror("zt_runhooks");
	close(fd);
}

static const char *state(void)
{
	const char *s = zenc_ctx_init_state();
	return s ? s : "none";
}

static char pid_text[32];

static const char *pid(void)
{
	snprintf(pid_text, sizeof(pid_text), "%ld", (long)getpid());
	return pid_text;
}

/* Not static: the recorded names come from the dynamic symbol table
 * when the program exports its symbols. */
void *zt_init(void *arg);
void zt_cleanup(void *st);

void *zt_init(void *arg)
{
	static char st[64];

	say("init arg=%s pid=%s\n", (const char *)arg, pid());
	if (getenv("ZT_INIT_HANG"))
		sleep(60);
	if (getenv("ZT_INIT_FAIL")) {
		zenc_raise(NULL, "InitError", "no database");
		return NULL;
	}
	snprintf(st, sizeof(st), "state-%ld", (long)getpid());
	return st;
}

void zt_cleanup(void *st)
{
	say("cleanup state=%s pid=%s\n", st ? (const char *)st : "none", pid());
}

static void run_start(const zenc_run *run)
{
	(void)run;
	say("run_start state=%s pid=%s\n", state(), pid());
	if (getenv("ZT_START_FAIL"))
		zenc_raise(NULL, "StartError", "start hook failed");
}

static void run_end(const zenc_run *run)
{
	say("run_end failed=%s cancelled=%s\n",
	    zenc_run_failed(run) ? "1" : "0",
	    zenc_run_cancelled(run) ? "1" : "0");
	if (getenv("ZT_END_FAIL"))
		zenc_raise(NULL, "EndError", "end hook failed");
}

static void run_failure(void)
{
	say("run_failure%s%s\n", "", "");
}

static void step_hook(zenc_step_context *ctx)
{
	say("hook %s state=%s\n", zenc_ctx_step_name(ctx), state());
}

static int body(zenc_step_context *ctx)
{
	const char *name = zenc_ctx_step_name(ctx);
	const char *fail = getenv("ZT_FAIL"), *slp = getenv("ZT_SLEEP");

	say("step %s state=%s\n", name, state());
	if (slp && !strcmp(slp, name))
		say("sleeping %s pid=%s\n", name, pid());
	if (slp && !strcmp(slp, name))
		sleep(30);
	if (fail && !strcmp(fail, name))
		return zenc_raise(ctx, "ValueError", "step %s failed", name);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const names[] = {"a", "b", "c"};
	zenc_pipeline *p;
	zenc_step *s, *prev = NULL;
	size_t i;
	int rc;

	if (zenc_pipeline_new(&p, "zt_runhooks") < 0)
		return 3;
	for (i = 0; i < 3; i++) {
		if (zenc_pipeline_add_step(&s, p, names[i], body) < 0 ||
		    (prev && zenc_step_after(s, prev) < 0))
			goto bad;
		prev = s;
	}
	if (zenc_pipeline_on_success(p, ZENC_HOOK(step_hook)) < 0 ||
	    zenc_pipeline_on_init(p, zt_init, "ARG") < 0 ||
	    zenc_pipeline_on_cleanup(p, zt_cleanup) < 0 ||
	    zenc_pipeline_on_run_start(p, ZENC_HOOK(run_start)) < 0 ||
	    zenc_pipeline_on_run_end(p, ZENC_HOOK(run_end)) < 0 ||
	    zenc_pipeline_on_run_failure(p, ZENC_HOOK(run_failure)) < 0)
		goto bad;
	/* A run-scope hook takes no step context: refused. */
	if (zenc_pipeline_on_run_start(p, ZENC_HOOK(step_hook)) == 0) {
		fprintf(stderr, "zt_runhooks: a ctx hook was accepted\n");
		goto fail;
	}
	rc = zenc_main(p, argc, argv);
	zenc_pipeline_free(p);
	return rc;
bad:
	fprintf(stderr, "zt_runhooks: %s\n", zenc_error_last());
fail:
	zenc_pipeline_free(p);
	return 3;
}
