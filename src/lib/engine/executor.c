/*
 * The step executor (see exec.h): walks one attempt through its hooks and
 * body, and the supervisor's side that follows the walk from its events.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/capture.h"
#include "engine/exec.h"
#include "orchestrators/orchestrator.h"

/* Event transport.  A message is a 4-byte length, a type byte and
 * NUL-terminated fields.  In-process, events go straight to the
 * supervisor's handler. */
#define MAX_FIELDS 8

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			/* The supervisor is gone: nobody is left to report
			 * to, and running on would be unsupervised. */
			_exit(120);
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Writes the events that wait in a->out. */
static void flush_events(zenc__attempt *a, int fd)
{
	if (fd >= 0 && a->out.len > 0)
		write_all(fd, a->out.ptr, a->out.len);
	zenc_buf_release(&a->out);
}

/*
 * Sends an event.  What the body left (its artifacts, its end) waits for
 * the next event, so that they all travel in one write and the
 * supervisor wakes once for them: between them runs nothing but the
 * executor's own code, and every hook, the end of the attempt and a stop
 * of a thread send or flush what waits before anything else runs.
 */
static void emit(zenc__attempt *a, int fd, int type, size_t n, ...)
{
	char *fields[MAX_FIELDS];
	zenc_buf *b = &a->out;
	uint32_t len;
	size_t i, at;
	va_list ap;

	va_start(ap, n);
	for (i = 0; i < n && i < MAX_FIELDS; i++) {
		const char *f = va_arg(ap, const char *);
		fields[i] = (char *)(f ? f : "");
	}
	va_end(ap);
	if (fd < 0) {
		zenc__attempt_event(a, type, fields, n);
		return;
	}
	at = b->len;
	zenc_buf_put(b, "\0\0\0\0", 4);
	zenc_buf_putc(b, (char)type);
	for (i = 0; i < n; i++)
		zenc_buf_put(b, fields[i], strlen(fields[i]) + 1);
	len = (uint32_t)(b->len - at - 4);
	memcpy(b->ptr + at, &len, 4);
	if (type != ZENC__MSG_ARTIFACT && type != ZENC__MSG_BODY_END)
		flush_events(a, fd);
}

static const zenc__hook_list *hooks_for(zenc__attempt *a, zenc__event ev)
{
	if (ev >= ZENC__ON_RUN_SUCCESS || !a->ss)
		return &a->x->p->hooks[ev];
	return zenc__step_hooks(a->ss->step, ev);
}

/* Whether any hook of the attempt may run after its body. */
static int hooks_after_body(zenc__attempt *a)
{
	int ev;

	for (ev = ZENC__ON_SUCCESS; ev <= ZENC__ON_END; ev++)
		if (hooks_for(a, (zenc__event)ev)->n > 0)
			return 1;
	return 0;
}

static double hook_timeout(const zenc__attempt *a, const zenc__hook *h)
{
	if (h->h.timeout > 0)
		return h->h.timeout;
	if (a->ss)
		return a->ss->hook_timeout;
	return a->x->p->hook_timeout > 0 ? a->x->p->hook_timeout
					 : ZENC__DEFAULT_HOOK_TIMEOUT;
}

/* Runs one hook in this process; returns 1 when it completed. */
static int run_hook(
	zenc__attempt *a,
	zenc_step_context *ctx,
	int fd,
	zenc__event ev,
	size_t idx,
	const zenc__hook *h,
	int failed,
	const zenc__failure *e)
{
	const void *params = a->ss ? a->ss->params : NULL;
	zenc_exception exc, *excp = NULL;
	zenc_buf why = ZENC_BUF_INIT;
	char num[32], tmo[32], dur[32];
	double t0, timeout = hook_timeout(a, h);
	zenc__status status = ZENC__STATUS_COMPLETED;

	if (failed && ev != ZENC__ON_SUCCESS && ev != ZENC__ON_START) {
		zenc__failure_exception(e, &exc);
		excp = &exc;
	}
	snprintf(num, sizeof(num), "%zu", idx);
	/* Command hooks enforce their own deadline; the supervisor's comes
	 * a little later so that it only fires when that fails. */
	snprintf(
		tmo, sizeof(tmo), "%.6f",
		h->h.kind == ZENC_HOOK_COMMAND ? timeout + 1.0 : timeout);
	emit(a, fd, ZENC__MSG_HOOK_BEGIN, 4, zenc__event_name(ev), num, h->name,
	     tmo);
	ctx->in_hook = 1;
	ctx->hook_event = zenc__event_name(ev);
	ctx->error = excp;
	ctx->hook_raised = 0;
	free(ctx->hook_err);
	ctx->hook_err = NULL;
	t0 = zenc__monotonic();
	switch ((int)h->h.kind) {
	case ZENC_HOOK_VOID:
		h->h.fn();
		break;
	case ZENC_HOOK_CTX:
		((zenc_hook_ctx_fn)h->h.fn)(ctx);
		break;
	case ZENC_HOOK_CTX_PARAMS:
		((zenc_hook_ctx_params_fn)h->h.fn)(ctx, params);
		break;
	case ZENC_HOOK_CTX_PARAMS_ERR:
	case ZENC_HOOK_BUILTIN:
		((zenc_hook_ctx_params_err_fn)h->h.fn)(ctx, params, excp);
		break;
	case ZENC_HOOK_ERR:
		((zenc_hook_err_fn)h->h.fn)(excp);
		break;
	case ZENC_HOOK_RUN:
		((zenc_hook_run_fn)h->h.fn)(a->x->run);
		break;
	case ZENC__HOOK_INIT_FN:
		zenc__init_state_set(
			((zenc_init_fn)(void (*)(void))h->h.fn)(h->arg));
		break;
	case ZENC__HOOK_CLEANUP_FN:
		((zenc_cleanup_fn)(void (*)(void))h->h.fn)(
			zenc_ctx_init_state());
		break;
	case ZENC_HOOK_COMMAND: {
		zenc_buf json = ZENC_BUF_INIT;
		char **env = NULL;
		size_t n_env = 0, i;
		int wstatus = 0, timed_out = 0;
		zenc__hook_context(
			&json, &env, &n_env, a->x, a->ss, ev, a->attempt,
			failed ? e : NULL);
		if (zenc__command_run(
			    h->command, h->argv, env, json.ptr, json.len,
			    h->dir, -1, timeout, 1, &wstatus, &timed_out,
			    &why) < 0) {
			status = ZENC__STATUS_FAILED;
		} else if (timed_out) {
			status = ZENC__STATUS_TIMEOUT;
			zenc_buf_printf(&why, "timed out after %gs", timeout);
		} else if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus)) {
			status = ZENC__STATUS_FAILED;
			zenc__describe_status(&why, wstatus);
		}
		for (i = 0; i < n_env; i++)
			free(env[i]);
		free(env);
		zenc_buf_release(&json);
		if (ev == ZENC__ON_INIT)
			zenc__init_state_from_file();
		break;
	}
	default:
		status = ZENC__STATUS_FAILED;
		zenc_buf_puts(&why, "unknown hook kind");
	}
	fflush(NULL);
	if (ctx->hook_raised) {
		status = ZENC__STATUS_FAILED;
		zenc_buf_clear(&why);
		zenc_buf_puts(&why, ctx->hook_err ? ctx->hook_err : "raised");
	}
	ctx->in_hook = 0;
	ctx->error = NULL;
	snprintf(dur, sizeof(dur), "%.6f", zenc__monotonic() - t0);
	emit(a, fd, ZENC__MSG_HOOK_END, 5, zenc__event_name(ev), num,
	     zenc__status_name(status), why.len ? why.ptr : "", dur);
	zenc_buf_release(&why);
	return status == ZENC__STATUS_COMPLETED;
}

static int strict_applies(const zenc__attempt *a, const zenc__cursor *c)
{
	return c->phase == ZENC__PH_OUTCOME && c->ev == ZENC__ON_SUCCESS &&
	       a->x->hook_failure == ZENC_HOOK_FAILURE_FAIL;
}

static zenc__event failure_event(const zenc__attempt *a)
{
	return a->last ? ZENC__ON_FAILURE : ZENC__ON_RETRY;
}

/* The hooks for failure `e`: a cancelled step is never retried, so it
 * gets its failure hooks even with retries left. */
static zenc__event failure_event_for(
	const zenc__attempt *a, const zenc__failure *e)
{
	return e->kind == ZENC__EK_CANCELLED ? ZENC__ON_FAILURE
					     : failure_event(a);
}

char *zenc__attempt_log_path(const char *run_dir, const char *step, int attempt)
{
	return zenc__asprintf("%s/%s/log.%d", run_dir, step, attempt);
}

/* The log of a step written in C: what its body prints goes to
 * RUN_DIR/STEP/log.N (and on to the terminal).  A command step (a YAML
 * pipeline's) writes that file itself. */
static zenc__capture *capture_body(zenc__attempt *a)
{
	zenc_step *s = a->ss->step;

	if (s->threadable || !a->x->run_dir)
		return NULL;
	/* The log and its folder are made by the step's first byte. */
	return zenc__capture_begin(a->x->run_dir, s->name, a->attempt);
}

/* The body and the storing of its outputs. */
static void run_body(
	zenc__attempt *a,
	zenc_step_context *ctx,
	int fd,
	int *failed,
	zenc__failure *e)
{
	zenc_step *s = a->ss->step;
	zenc__artifact *arts = NULL;
	size_t n_arts = 0, i;
	char code[32], sig[32];
	double t0;
	int rc;

	emit(a, fd, ZENC__MSG_BODY_BEGIN, 0);
	t0 = zenc__monotonic();
	if (fd < 0 && zenc__interrupted) {
		/* Isolation none: the run was interrupted while this
		 * attempt's start hooks ran; its body does not start. */
		zenc__failure_kind(
			&ctx->raise, ZENC__EK_CANCELLED,
			"the run was interrupted", 0, 0, a->attempt);
		ctx->raised = 1;
		rc = -1;
	} else {
		zenc__capture *cap = capture_body(a);
		rc = s->fn(ctx);
		zenc__capture_end(cap, fd >= 0 && !hooks_after_body(a));
	}
	fflush(NULL);
	if (a->x->isolation == ZENC_ISOLATION_NONE && a->ss->timeout > 0 &&
	    zenc__monotonic() - t0 > a->ss->timeout)
		zenc__warn(
			"Step %s ran past its timeout of %gs (not enforced "
			"under isolation none).",
			s->name, a->ss->timeout);
	if (ctx->raised) {
		*failed = 1;
	} else if (rc != 0) {
		zenc__failure_kind(
			&ctx->raise, ZENC__EK_STEP_ERROR, NULL, 0, 0,
			a->attempt);
		ctx->raise.message =
			zenc__asprintf("step returned %d without raising", rc);
		*failed = 1;
	} else if (zenc__ctx_store_outputs(ctx, &arts, &n_arts) < 0) {
		*failed = 1;
	}
	for (i = 0; i < n_arts; i++) {
		char size[32];
		snprintf(size, sizeof(size), "%" PRId64, arts[i].size);
		if (!*failed)
			emit(a, fd, ZENC__MSG_ARTIFACT, 5, arts[i].name,
			     zenc_type_name(arts[i].type), arts[i].uri, size,
			     arts[i].checksum);
		zenc__artifact_release(&arts[i]);
	}
	free(arts);
	if (*failed) {
		ctx->raise.attempt = a->attempt;
		zenc__failure_copy(e, &ctx->raise);
		snprintf(code, sizeof(code), "%d", e->exit_code);
		snprintf(sig, sizeof(sig), "%d", e->signal);
		emit(a, fd, ZENC__MSG_BODY_END, 5, "1", e->type, e->message,
		     code, sig);
	} else {
		emit(a, fd, ZENC__MSG_BODY_END, 1, "0");
	}
}

/* A thread runs commands only: before any other hook it stops, without
 * "done", and the supervisor goes on from there in a process
 * (orchestrator_local.c). */
static int must_yield(const zenc__attempt *a, const zenc__hook *h)
{
	return a->threaded && h->h.kind != ZENC_HOOK_COMMAND;
}

void zenc__attempt_exec(zenc__attempt *a, int fd)
{
	zenc_step_context ctx;
	zenc__cursor c = a->cur;
	zenc__failure e = {0};
	int failed = a->failed;
	const zenc__hook_list *list;

	zenc__ctx_init(&ctx, a);
	zenc__ctx_set_current(&ctx);
	if (failed)
		zenc__failure_copy(&e, &a->err);
	while (c.phase != ZENC__PH_DONE) {
		switch (c.phase) {
		case ZENC__PH_START:
			list = hooks_for(a, ZENC__ON_START);
			for (; c.idx < list->n; c.idx++) {
				if (must_yield(a, &list->items[c.idx]))
					goto yield;
				run_hook(
					a, &ctx, fd, ZENC__ON_START, c.idx,
					&list->items[c.idx], 0, NULL);
			}
			c.phase = ZENC__PH_BODY;
			c.idx = 0;
			break;
		case ZENC__PH_BODY:
			run_body(a, &ctx, fd, &failed, &e);
			c.phase = ZENC__PH_OUTCOME;
			c.ev = failed ? failure_event_for(a, &e)
				      : ZENC__ON_SUCCESS;
			c.idx = 0;
			break;
		case ZENC__PH_OUTCOME:
		case ZENC__PH_RUN:
			list = hooks_for(a, c.ev);
			for (; c.idx < list->n; c.idx++) {
				const zenc__hook *h = &list->items[c.idx];
				if (must_yield(a, h))
					goto yield;
				if (run_hook(
					    a, &ctx, fd, c.ev, c.idx, h, failed,
					    &e) ||
				    !strict_applies(a, &c))
					continue;
				/* Strict mode: a failed success hook fails
				 * the step with HookFailed, and the
				 * failure hooks run. */
				failed = 1;
				zenc__failure_kind(
					&e, ZENC__EK_HOOK_FAILED, NULL, 0, 0,
					a->attempt);
				e.message = zenc__asprintf(
					"success hook '%s' failed", h->name);
				c.ev = failure_event(a);
				c.idx = 0;
				emit(a, fd, ZENC__MSG_OUTCOME, 3,
				     zenc__event_name(c.ev), e.type, e.message);
				list = hooks_for(a, c.ev);
				c.idx = (size_t)-1; /* the loop's ++ makes 0 */
			}
			c.phase = c.phase == ZENC__PH_RUN ? ZENC__PH_DONE
							  : ZENC__PH_END;
			c.idx = 0;
			break;
		case ZENC__PH_END:
			list = hooks_for(a, ZENC__ON_END);
			for (; c.idx < list->n; c.idx++) {
				if (must_yield(a, &list->items[c.idx]))
					goto yield;
				run_hook(
					a, &ctx, fd, ZENC__ON_END, c.idx,
					&list->items[c.idx], failed, &e);
			}
			c.phase = ZENC__PH_DONE;
			break;
		case ZENC__PH_DONE:
			break;
		}
	}
	/* What the step printed is out before it says it is done: the
	 * supervisor may end its process group from then on. */
	if (fd >= 0)
		fflush(NULL);
	emit(a, fd, ZENC__MSG_DONE, 0);
yield:
	flush_events(a, fd);
	zenc__failure_release(&e);
	zenc__ctx_release(&ctx);
}

/* The supervisor's side. */
static zenc__phase phase_of(zenc__event ev)
{
	switch (ev) {
	case ZENC__ON_START:
		return ZENC__PH_START;
	case ZENC__ON_END:
		return ZENC__PH_END;
	case ZENC__ON_RUN_SUCCESS:
	case ZENC__ON_RUN_FAILURE:
	case ZENC__ON_RUN_START:
	case ZENC__ON_RUN_END:
	case ZENC__ON_INIT:
	case ZENC__ON_CLEANUP:
		return ZENC__PH_RUN;
	default:
		return ZENC__PH_OUTCOME;
	}
}

static const char *subject(const zenc__attempt *a)
{
	return a->ss ? a->ss->step->name : "the run";
}

static void record_hook(
	zenc__attempt *a,
	zenc__event ev,
	const char *name,
	zenc__status status,
	const char *error,
	double started,
	double duration)
{
	zenc__hookrun *r;

	zenc__array_grow(
		(void **)&a->hooks, &a->cap_hooks, a->n_hooks + 1,
		sizeof(*a->hooks));
	r = &a->hooks[a->n_hooks++];
	memset(r, 0, sizeof(*r));
	r->event = ev;
	r->hook = zenc__strdup(name);
	r->attempt = a->ss ? a->attempt : 0;
	r->status = status;
	r->error = error && *error ? zenc__strdup(error) : NULL;
	r->started = started;
	r->duration = duration;
	r->seq = ++a->x->hook_seq;
	if (status != ZENC__STATUS_COMPLETED)
		zenc__warn(
			"Hook %s %s for %s %s: %s", zenc__event_name(ev), name,
			subject(a),
			status == ZENC__STATUS_TIMEOUT ? "timed out" : "failed",
			error && *error ? error : zenc__status_name(status));
}

void zenc__attempt_hook_failed(
	zenc__attempt *a, const char *hook, const char *why)
{
	(void)why;
	if (strict_applies(a, &a->cur)) {
		a->failed = 1;
		zenc__failure_kind(
			&a->err, ZENC__EK_HOOK_FAILED, NULL, 0, 0, a->attempt);
		a->err.message =
			zenc__asprintf("success hook '%s' failed", hook);
		a->cur.ev = failure_event(a);
		a->cur.idx = 0;
		zenc__info(
			"Step %s failed: HookFailed: %s", subject(a),
			a->err.message);
		return;
	}
	a->cur.idx++;
}

void zenc__attempt_event(zenc__attempt *a, int type, char **f, size_t n)
{
	zenc__event ev;

	switch (type) {
	case ZENC__MSG_HOOK_BEGIN:
		if (n < 4 || zenc__event_parse(&ev, f[0]) < 0)
			break;
		a->in_hook = 1;
		a->hook_ev = ev;
		a->cur.phase = phase_of(ev);
		a->cur.ev = ev;
		a->cur.idx = (size_t)strtoull(f[1], NULL, 10);
		free(a->hook_name);
		a->hook_name = zenc__strdup(f[2]);
		a->hook_started = zenc__now();
		a->hook_timeout = strtod(f[3], NULL);
		a->deadline = a->pid > 0 && a->hook_timeout > 0
				      ? zenc__monotonic() + a->hook_timeout
				      : 0;
		if (!a->x->quiet)
			zenc__info(
				"Running %s hook %s for %s%s.", f[0], f[2],
				a->ss ? "step " : "",
				a->ss ? a->ss->step->name : "the run");
		break;
	case ZENC__MSG_HOOK_END:
		if (n < 5 || zenc__event_parse(&ev, f[0]) < 0)
			break;
		record_hook(
			a, ev, a->hook_name ? a->hook_name : "?",
			zenc__status_parse(f[2]), f[3], a->hook_started,
			strtod(f[4], NULL));
		a->in_hook = 0;
		a->deadline = 0;
		/* A strict-mode failure arrives as its own OUTCOME event. */
		a->cur.idx = (size_t)strtoull(f[1], NULL, 10) + 1;
		break;
	case ZENC__MSG_BODY_BEGIN:
		a->in_body = 1;
		a->cur.phase = ZENC__PH_BODY;
		a->body_started = zenc__monotonic();
		a->deadline = a->pid > 0 && a->ss->timeout > 0
				      ? a->body_started + a->ss->timeout
				      : 0;
		break;
	case ZENC__MSG_BODY_END:
		a->in_body = 0;
		a->deadline = 0;
		if (n >= 5 && !strcmp(f[0], "1")) {
			a->failed = 1;
			zenc__failure_set(
				&a->err, f[1], f[2], atoi(f[3]), atoi(f[4]),
				a->attempt);
			a->cur.ev = failure_event_for(a, &a->err);
			zenc__info(
				"Step %s failed: %s: %s", subject(a), f[1],
				f[2]);
		} else {
			a->cur.ev = ZENC__ON_SUCCESS;
		}
		a->cur.phase = ZENC__PH_OUTCOME;
		a->cur.idx = 0;
		break;
	case ZENC__MSG_ARTIFACT: {
		zenc__artifact *art;
		zenc_type t = ZENC_BYTES;
		if (n < 5)
			break;
		zenc_type_parse(&t, f[1]);
		zenc__array_grow(
			(void **)&a->arts, &a->cap_arts, a->n_arts + 1,
			sizeof(*a->arts));
		art = &a->arts[a->n_arts++];
		memset(art, 0, sizeof(*art));
		art->name = zenc__strdup(f[0]);
		art->type = t;
		art->uri = zenc__strdup(f[2]);
		art->size = strtoll(f[3], NULL, 10);
		snprintf(art->checksum, sizeof(art->checksum), "%s", f[4]);
		break;
	}
	case ZENC__MSG_OUTCOME:
		if (n < 3 || zenc__event_parse(&ev, f[0]) < 0)
			break;
		a->failed = 1;
		zenc__failure_set(&a->err, f[1], f[2], 0, 0, a->attempt);
		a->cur.phase = ZENC__PH_OUTCOME;
		a->cur.ev = ev;
		a->cur.idx = 0;
		zenc__info("Step %s failed: %s: %s", subject(a), f[1], f[2]);
		break;
	case ZENC__MSG_DONE:
		a->done = 1;
		a->cur.phase = ZENC__PH_DONE;
		break;
	default:
		break;
	}
}

void zenc__attempt_died(zenc__attempt *a, int wstatus)
{
	zenc_buf why = ZENC_BUF_INIT;
	int sig = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
	int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 0;

	if (a->kill_reason == ZENC__KILL_HOOK_TIMEOUT)
		zenc_buf_printf(&why, "timed out after %gs", a->hook_timeout);
	else if (a->kill_reason == ZENC__KILL_MEMORY)
		zenc_buf_printf(
			&why,
			"resident memory exceeded the limit of "
			"%zu bytes",
			a->ss->step->memory_limit);
	else
		zenc__describe_status(&why, wstatus);

	if (a->in_hook) {
		record_hook(
			a, a->hook_ev, a->hook_name ? a->hook_name : "?",
			a->kill_reason == ZENC__KILL_HOOK_TIMEOUT
				? ZENC__STATUS_TIMEOUT
				: ZENC__STATUS_FAILED,
			why.ptr, a->hook_started,
			zenc__now() - a->hook_started);
		a->in_hook = 0;
		zenc__attempt_hook_failed(a, a->hook_name, why.ptr);
	} else if (a->ss && a->cur.phase <= ZENC__PH_BODY) {
		zenc__error_kind kind = ZENC__EK_SIGNAL;
		zenc_buf msg = ZENC_BUF_INIT;
		if (a->kill_reason == ZENC__KILL_CANCEL) {
			kind = ZENC__EK_CANCELLED;
			zenc_buf_puts(&msg, "the run was interrupted");
		} else if (a->kill_reason == ZENC__KILL_TIMEOUT) {
			kind = ZENC__EK_TIMEOUT;
			zenc_buf_printf(
				&msg, "step exceeded its timeout of %gs",
				a->ss->timeout);
		} else if (a->kill_reason == ZENC__KILL_MEMORY) {
			kind = ZENC__EK_OUT_OF_MEMORY;
			zenc_buf_puts(&msg, why.ptr);
		} else if (sig) {
			zenc_buf_puts(&msg, why.ptr);
		} else {
			kind = ZENC__EK_EXIT_CODE;
			zenc_buf_printf(
				&msg,
				"step process %s without "
				"returning",
				why.ptr);
		}
		a->failed = 1;
		zenc__failure_kind(
			&a->err, kind, msg.ptr, code, sig, a->attempt);
		zenc_buf_release(&msg);
		a->in_body = 0;
		a->cur.phase = ZENC__PH_OUTCOME;
		a->cur.ev = failure_event_for(a, &a->err);
		a->cur.idx = 0;
		zenc__info(
			"Step %s failed: %s: %s", subject(a), a->err.type,
			a->err.message);
	}
	/* Otherwise it died between two hooks: resume where it stood. */
	a->kill_reason = 0;
	a->deadline = 0;
	zenc_buf_release(&why);
}

void zenc__attempt_free(zenc__attempt *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n_hooks; i++) {
		free(a->hooks[i].hook);
		free(a->hooks[i].error);
	}
	free(a->hooks);
	for (i = 0; i < a->n_arts; i++)
		zenc__artifact_release(&a->arts[i]);
	free(a->arts);
	free(a->hook_name);
	zenc__failure_release(&a->err);
	zenc_buf_release(&a->in);
	free(a);
}
