/*
 * The body of every step of a YAML pipeline: it runs the step's command
 * (yamlpipe.c loaded it into the step's payload, a zenc__ystep).
 *
 * - Every YAML step is a zenc_step whose body is zenc__yamlpipe_step():
 *   it reads its command from the step's payload and runs it with
 *   zenc__command_run(), in the YAML file's folder, with standard output
 *   and error going to RUN_DIR/STEP/log.ATTEMPT.
 * - Under process isolation (the default) the command stays in the step
 *   process's group (own_group 0) and gets no deadline of its own: the
 *   supervisor's timeout, memory and interrupt kills go to that whole
 *   group, so they reach the command, and are reported as the engine
 *   reports them for C steps (Timeout, OutOfMemory, Cancelled).  Under
 *   isolation none nobody supervises the body, so the command gets its own
 *   group and the step's timeout, and a command past it fails the step
 *   with type Timeout.  The same holds when the orchestrator runs the
 *   step in a thread rather than a child (steps marked threadable: see
 *   orchestrator_local.c).
 * - The environment of a step: the step's `env`, then the variables a
 *   command hook gets (docs/hooks.md, "Command hooks"; ZENC_HOOK_EVENT
 *   empty), ZENC_PARAM_*, ZENC_OUTPUT_DIR and
 *   ZENC_INPUT_*; zenc's own variables win over `env`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "orchestrators/orchestrator.h"
#include "config/yamlpipe.h"

#define TAIL_LINES 10
#define TAIL_BYTES 2000

static void add_env(char ***env, size_t *n, size_t *cap, char *entry)
{
	zenc__array_grow((void **)env, cap, *n + 2, sizeof(char *));
	(*env)[(*n)++] = entry;
	(*env)[*n] = NULL;
}

/* The last TAIL_LINES lines of the log, at most TAIL_BYTES. */
static void log_tail(zenc_buf *out, const char *path)
{
	zenc_buf b = ZENC_BUF_INIT;
	const char *start;
	size_t len, lines = 0;

	if (zenc__read_file(&b, path) < 0 || b.len == 0)
		goto done;
	len = b.len;
	while (len > 0 && b.ptr[len - 1] == '\n')
		len--;
	start = b.ptr + len;
	while (start > b.ptr) {
		if (start[-1] == '\n' && ++lines == TAIL_LINES)
			break;
		start--;
	}
	if ((size_t)(b.ptr + len - start) > TAIL_BYTES)
		start = b.ptr + len - TAIL_BYTES;
	zenc_buf_putc(out, '\n');
	zenc_buf_put(out, start, (size_t)(b.ptr + len - start));
done:
	zenc_buf_release(&b);
}

/* Strips one trailing "\n" or "\r\n". */
static void chomp(zenc_buf *b)
{
	if (b->len && b->ptr[b->len - 1] == '\n')
		b->ptr[--b->len] = '\0';
	if (b->len && b->ptr[b->len - 1] == '\r')
		b->ptr[--b->len] = '\0';
}

static int bad_output(
	zenc_step_context *ctx, const zenc__output *o, const zenc_buf *v)
{
	zenc_buf shown = ZENC_BUF_INIT;
	size_t i;
	int rc;

	for (i = 0; i < v->len && i < 40; i++)
		zenc_buf_putc(
			&shown, (v->ptr[i] >= 0x20 && v->ptr[i] != 0x7f)
					? v->ptr[i]
					: '?');
	rc = zenc__raise_status(
		ctx, "OutputTypeError", 0, 0,
		"output '%s' of step '%s' is not %s %s: '%s%s'", o->name,
		ctx->step->name, o->type == ZENC_INT ? "an" : "a",
		zenc_type_name(o->type), zenc_buf_cstr(&shown),
		v->len > 40 ? "..." : "");
	zenc_buf_release(&shown);
	return rc;
}

/* Reads each declared output from the output folder into the step's
 * outputs.  A missing file stays unset: the engine reports
 * MissingOutput. */
static int collect_outputs(zenc_step_context *ctx, const char *outdir)
{
	zenc_step *s = ctx->step;
	zenc_buf v = ZENC_BUF_INIT;
	char *path = NULL, *end;
	size_t i;
	int rc = 0;

	for (i = 0; i < s->n_outputs && rc == 0; i++) {
		const zenc__output *o = &s->outputs[i];
		zenc_buf_clear(&v);
		free(path);
		path = zenc__asprintf("%s/%s", outdir, o->name);
		if (o->type == ZENC_BYTES || o->type == ZENC_FILE ||
		    o->type == ZENC_DIR) {
			/* Moved into the store as it is: never read into
			 * memory. */
			if (access(path, F_OK) < 0 && errno == ENOENT)
				continue;
			if (zenc__output_path(ctx, o->name, path, 1) < 0)
				rc = zenc__raise_status(
					ctx,
					zenc_error_last_code() == ZENC_ETYPE
						? "OutputTypeError"
						: "OutputError",
					0, 0, "%s", zenc_error_last());
			continue;
		}
		if (zenc__read_file(&v, path) < 0) {
			if (errno == ENOENT)
				continue;
			rc = zenc__raise_status(
				ctx, "OutputError", 0, 0,
				"cannot read output '%s': %s", path,
				strerror(errno));
			break;
		}
		if (o->type != ZENC_BYTES)
			chomp(&v);
		switch (o->type) {
		case ZENC_INT: {
			long long n;
			errno = 0;
			n = strtoll(zenc_buf_cstr(&v), &end, 10);
			if (!v.len || errno || *end || memchr(v.ptr, 0, v.len))
				rc = bad_output(ctx, o, &v);
			else
				zenc_output_int(ctx, o->name, (int64_t)n);
			break;
		}
		case ZENC_DOUBLE: {
			double d;
			errno = 0;
			d = strtod(zenc_buf_cstr(&v), &end);
			if (!v.len || errno || *end || d != d ||
			    memchr(v.ptr, 0, v.len))
				rc = bad_output(ctx, o, &v);
			else
				zenc_output_double(ctx, o->name, d);
			break;
		}
		case ZENC_BOOL: {
			const char *t = zenc_buf_cstr(&v);
			if (!strcasecmp(t, "true") || !strcmp(t, "1") ||
			    !strcasecmp(t, "yes"))
				zenc_output_bool(ctx, o->name, true);
			else if (
				!strcasecmp(t, "false") || !strcmp(t, "0") ||
				!strcasecmp(t, "no"))
				zenc_output_bool(ctx, o->name, false);
			else
				rc = bad_output(ctx, o, &v);
			break;
		}
		case ZENC_STRING:
			if (memchr(zenc_buf_cstr(&v), 0, v.len))
				rc = bad_output(ctx, o, &v);
			else
				zenc_output_string(
					ctx, o->name, zenc_buf_cstr(&v));
			break;
		default:
			break;
		}
	}
	free(path);
	zenc_buf_release(&v);
	return rc;
}

int zenc__yamlpipe_step(zenc_step_context *ctx)
{
	zenc__ystep *y = zenc__ctx_step_payload(ctx);
	zenc_step *s = ctx->step;
	zenc_buf json = ZENC_BUF_INIT, why = ZENC_BUF_INIT;
	zenc_buf tail = ZENC_BUF_INIT, name = ZENC_BUF_INIT;
	char **env = NULL, **ctx_env = NULL;
	char *outdir, *logpath;
	size_t n_env = 0, cap = 0, n_ctx = 0, i;
	int fd = -1, wstatus = 0, timed_out = 0, own_group = 0, rc = 0;
	double timeout = 0;

	outdir = zenc__asprintf(
		"%s/%s/out.%d", zenc__ctx_run_dir(ctx), s->name, ctx->attempt);
	logpath = zenc__attempt_log_path(
		zenc__ctx_run_dir(ctx), s->name, ctx->attempt);
	if (zenc__mkdir_p(outdir, 0700) < 0) {
		rc = zenc_raise(
			ctx, "ArtifactError", "cannot create '%s': %s", outdir,
			strerror(errno));
		goto done;
	}
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = zenc_raise(
			ctx, "ArtifactError", "cannot create '%s': %s", logpath,
			strerror(errno));
		goto done;
	}

	for (i = 0; i < y->n_env; i++)
		add_env(&env, &n_env, &cap, zenc__strdup(y->env[i]));
	zenc__hook_context(
		&json, &ctx_env, &n_ctx, ctx->x, ctx->ss, ZENC__ON_START,
		ctx->attempt, NULL);
	for (i = 0; i < n_ctx; i++) {
		if (!strncmp(ctx_env[i], "ZENC_HOOK_EVENT=", 16)) {
			free(ctx_env[i]);
			ctx_env[i] = zenc__strdup("ZENC_HOOK_EVENT=");
		}
		add_env(&env, &n_env, &cap, ctx_env[i]);
	}
	free(ctx_env);
	add_env(&env, &n_env, &cap,
		zenc__asprintf("ZENC_OUTPUT_DIR=%s", outdir));
	for (i = 0; i < s->n_inputs; i++) {
		const char *path = NULL;
		/* Checked against its checksum before the command runs. */
		if (zenc_input_path(ctx, s->inputs[i].name, &path) < 0) {
			rc = zenc_raise(
				ctx, "ArtifactError", "%s", zenc_error_last());
			goto done;
		}
		zenc_buf_clear(&name);
		zenc_buf_puts(&name, "ZENC_INPUT_");
		zenc__env_name(&name, s->inputs[i].name);
		add_env(&env, &n_env, &cap,
			zenc__asprintf(
				"%s=%s", zenc_buf_cstr(&name),
				path ? path : ""));
	}

	if (zenc__ctx_self_supervised(ctx)) {
		own_group = 1;
		timeout = ctx->ss->timeout;
	}
	if (zenc__command_run(
		    y->shell, y->argv, env, NULL, 0, y->dir, fd, timeout,
		    own_group, &wstatus, &timed_out, &why) < 0) {
		rc = zenc_raise(ctx, "CommandError", "%s", zenc_buf_cstr(&why));
		goto done;
	}
	close(fd);
	fd = -1;
	log_tail(&tail, logpath);
	if (timed_out) {
		rc = zenc__raise_status(
			ctx, "Timeout", 0, 0,
			"step exceeded its timeout of %gs%s", timeout,
			zenc_buf_cstr(&tail));
	} else if (WIFSIGNALED(wstatus) && zenc__interrupted) {
		/* The run was interrupted and its commands stopped. */
		rc = zenc__raise_status(
			ctx, "Cancelled", 0, WTERMSIG(wstatus),
			"the run was interrupted%s", zenc_buf_cstr(&tail));
	} else if (WIFSIGNALED(wstatus)) {
		zenc__describe_status(&why, wstatus);
		rc = zenc__raise_status(
			ctx, "Signal", 0, WTERMSIG(wstatus), "%s%s",
			zenc_buf_cstr(&why), zenc_buf_cstr(&tail));
	} else if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
		int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 1;
		rc = zenc__raise_status(
			ctx, "ExitCode", code, 0,
			"command exited with code %d%s", code,
			zenc_buf_cstr(&tail));
	} else {
		rc = collect_outputs(ctx, outdir);
	}
done:
	if (fd >= 0)
		close(fd);
	for (i = 0; i < n_env; i++)
		free(env[i]);
	free(env);
	free(outdir);
	free(logpath);
	zenc_buf_release(&json);
	zenc_buf_release(&why);
	zenc_buf_release(&tail);
	zenc_buf_release(&name);
	return rc;
}
