/*
 * The step context: what a body or a hook may read, zenc_raise(), and the
 * typed outputs and inputs that travel through the artifact store.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/exec.h"

static _Thread_local zenc_step_context *current;

zenc_step_context *zenc__ctx_current(void)
{
	return current;
}

void zenc__ctx_set_current(zenc_step_context *ctx)
{
	current = ctx;
}

void zenc__failure_release(zenc__failure *f)
{
	free(f->type);
	free(f->message);
	memset(f, 0, sizeof(*f));
}

void zenc__failure_set(
	zenc__failure *f,
	const char *type,
	const char *message,
	int exit_code,
	int sig,
	int attempt)
{
	char *t = zenc__strdup(type), *m = zenc__strdup(message);

	zenc__failure_release(f);
	f->kind = zenc__error_kind_parse(t);
	f->type = t;
	f->message = m;
	f->exit_code = exit_code;
	f->signal = sig;
	f->attempt = attempt;
}

void zenc__failure_kind(
	zenc__failure *f,
	zenc__error_kind kind,
	const char *message,
	int exit_code,
	int sig,
	int attempt)
{
	zenc__failure_set(
		f, zenc__error_kind_name(kind), message, exit_code, sig,
		attempt);
}

void zenc__failure_copy(zenc__failure *dst, const zenc__failure *src)
{
	if (dst == src)
		return;
	zenc__failure_set(
		dst, src->type, src->message, src->exit_code, src->signal,
		src->attempt);
}

void zenc__failure_exception(const zenc__failure *f, zenc_exception *out)
{
	out->type = f->type ? f->type : zenc__error_kind_name(ZENC__EK_ERROR);
	out->message = f->message ? f->message : "";
	out->exit_code = f->exit_code;
	out->signal = f->signal;
	out->attempt = f->attempt;
}

void zenc__ctx_init(zenc_step_context *ctx, zenc__attempt *a)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->a = a;
	ctx->x = a->x;
	ctx->ss = a->ss;
	ctx->step = a->ss ? a->ss->step : NULL;
	ctx->attempt = a->attempt;
	if (ctx->step) {
		ctx->outs = zenc__calloc(
			ctx->step->n_outputs + 1, sizeof(*ctx->outs));
		ctx->ins = zenc__calloc(
			ctx->step->n_inputs + 1, sizeof(*ctx->ins));
	}
}

void zenc__ctx_release(zenc_step_context *ctx)
{
	size_t i;

	if (ctx->step) {
		for (i = 0; i < ctx->step->n_outputs; i++) {
			zenc_buf_release(&ctx->outs[i].data);
			free(ctx->outs[i].uri);
		}
		for (i = 0; i < ctx->step->n_inputs; i++) {
			zenc_buf_release(&ctx->ins[i].data);
			free(ctx->ins[i].uri);
			if (ctx->ins[i].map)
				munmap(ctx->ins[i].map, ctx->ins[i].map_len);
		}
	}
	free(ctx->outs);
	free(ctx->ins);
	zenc__failure_release(&ctx->raise);
	free(ctx->hook_err);
	if (current == ctx)
		current = NULL;
}

const char *zenc_ctx_pipeline_name(const zenc_step_context *ctx)
{
	return ctx->x->p->name;
}

const char *zenc_ctx_run_name(const zenc_step_context *ctx)
{
	return ctx->x->run->name;
}

const char *zenc_ctx_run_id(const zenc_step_context *ctx)
{
	return ctx->x->run->id;
}

const char *zenc_ctx_step_name(const zenc_step_context *ctx)
{
	return ctx->step ? ctx->step->name : NULL;
}

int zenc_ctx_attempt(const zenc_step_context *ctx)
{
	return ctx->attempt;
}

const void *zenc_ctx_params(const zenc_step_context *ctx)
{
	return ctx->ss ? ctx->ss->params : NULL;
}

const char *zenc_ctx_hook_event(const zenc_step_context *ctx)
{
	return ctx->in_hook ? ctx->hook_event : NULL;
}

const zenc_exception *zenc_ctx_error(const zenc_step_context *ctx)
{
	return ctx->in_hook ? ctx->error : NULL;
}

zenc_stack *zenc_ctx_active_stack(const zenc_step_context *ctx)
{
	return ctx->x->stack;
}

int zenc_raise(zenc_step_context *ctx, const char *type, const char *fmt, ...)
{
	zenc_buf msg = ZENC_BUF_INIT;
	va_list ap;

	if (!ctx)
		ctx = current;
	va_start(ap, fmt);
	zenc_buf_vprintf(&msg, fmt ? fmt : "", ap);
	va_end(ap);
	if (!type || !*type)
		type = "Error";
	if (!ctx) {
		zenc__warn(
			"zenc_raise() outside a step or hook: %s: %s", type,
			zenc_buf_cstr(&msg));
	} else if (ctx->in_hook) {
		/* A hook's error is the hook's: it never replaces the step's
		 * (docs/hooks.md, "Failing hooks"). */
		ctx->hook_raised = 1;
		free(ctx->hook_err);
		ctx->hook_err =
			zenc__asprintf("%s: %s", type, zenc_buf_cstr(&msg));
	} else {
		ctx->raised = 1;
		zenc__failure_set(
			&ctx->raise, type, zenc_buf_cstr(&msg), 0, 0,
			ctx->attempt);
	}
	zenc_buf_release(&msg);
	return -1;
}

static int find_output(
	zenc_step_context *ctx,
	const char *name,
	zenc_type type,
	zenc__value **out)
{
	size_t i;

	if (!ctx || !ctx->step || ctx->in_hook)
		return zenc__error_set(
			ZENC_ESTATE, "outputs can only be set by a step body");
	for (i = 0; i < ctx->step->n_outputs; i++) {
		if (strcmp(ctx->step->outputs[i].name, name))
			continue;
		if (ctx->step->outputs[i].type != type)
			return zenc__error_set(
				ZENC_ETYPE, "output '%s.%s' is %s, not %s",
				ctx->step->name, name,
				zenc_type_name(ctx->step->outputs[i].type),
				zenc_type_name(type));
		*out = &ctx->outs[i];
		zenc_buf_clear(&(*out)->data);
		free((*out)->uri);
		(*out)->uri = NULL;
		(*out)->set = 1;
		return 0;
	}
	return zenc__error_set(
		ZENC_ENOTFOUND, "step '%s' has no output '%s'", ctx->step->name,
		name);
}

int zenc_output_int(zenc_step_context *ctx, const char *name, int64_t v)
{
	zenc__value *o = NULL;
	int rc = find_output(ctx, name, ZENC_INT, &o);
	if (rc == 0)
		zenc_buf_printf(&o->data, "%" PRId64, v);
	return rc;
}

int zenc_output_double(zenc_step_context *ctx, const char *name, double v)
{
	zenc__value *o = NULL;
	int rc = find_output(ctx, name, ZENC_DOUBLE, &o);
	if (rc == 0)
		zenc__fmt_double(&o->data, v);
	return rc;
}

int zenc_output_bool(zenc_step_context *ctx, const char *name, bool v)
{
	zenc__value *o = NULL;
	int rc = find_output(ctx, name, ZENC_BOOL, &o);
	if (rc == 0)
		zenc_buf_puts(&o->data, v ? "true" : "false");
	return rc;
}

int zenc_output_string(zenc_step_context *ctx, const char *name, const char *v)
{
	zenc__value *o = NULL;
	int rc = find_output(ctx, name, ZENC_STRING, &o);
	if (rc == 0)
		zenc_buf_puts(&o->data, v ? v : "");
	return rc;
}

int zenc_output_bytes(
	zenc_step_context *ctx, const char *name, const void *p, size_t n)
{
	zenc__value *o = NULL;
	char *dir, *uri;
	int rc = find_output(ctx, name, ZENC_BYTES, &o);

	if (rc < 0)
		return rc;
	/* Written to the store now, straight from the caller's buffer:
	 * no copy in memory. */
	o->set = 0;
	if (!(dir = zenc__ctx_step_dir(ctx)))
		return zenc__error_set(
			ZENC_EIO, "cannot create the folder of step '%s': %s",
			ctx->step->name, strerror(errno));
	uri = zenc__asprintf("%s/%s", dir, name);
	free(dir);
	if (zenc__store_bytes(uri, n ? p : "", n, o->sum) < 0) {
		rc = zenc__error_set(
			ZENC_EIO, "output '%s.%s': cannot write '%s': %s",
			ctx->step->name, name, uri, strerror(errno));
		free(uri);
		return rc;
	}
	o->uri = uri;
	o->size = (int64_t)n;
	o->set = 1;
	return 0;
}

char *zenc__ctx_step_dir(zenc_step_context *ctx)
{
	char *dir = zenc__asprintf("%s/%s", ctx->x->run_dir, ctx->step->name);
	if (zenc__mkdir_p(dir, 0755) < 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

void zenc__artifact_release(zenc__artifact *a)
{
	free(a->name);
	free(a->uri);
	memset(a, 0, sizeof(*a));
}

int zenc__ctx_store_outputs(
	zenc_step_context *ctx, zenc__artifact **arts, size_t *n)
{
	zenc_step *s = ctx->step;
	char *dir = NULL;
	size_t i;
	int rc = -1;

	*arts = NULL;
	*n = 0;
	for (i = 0; i < s->n_outputs; i++) {
		if (!ctx->outs[i].set) {
			zenc__failure_kind(
				&ctx->raise, ZENC__EK_MISSING_OUTPUT, NULL, 0,
				0, ctx->attempt);
			free(ctx->raise.message);
			ctx->raise.message = zenc__asprintf(
				"step '%s' returned without setting output "
				"'%s'",
				s->name, s->outputs[i].name);
			goto done;
		}
	}
	if (s->n_outputs == 0)
		return 0;
	dir = zenc__asprintf("%s/%s", ctx->x->run_dir, s->name);
	/* The outputs set in the store already made the folder. */
	for (i = 0; i < s->n_outputs && ctx->outs[i].uri; i++)
		;
	if (i < s->n_outputs && zenc__mkdir_p(dir, 0755) < 0) {
		zenc__failure_kind(
			&ctx->raise, ZENC__EK_ARTIFACT_ERROR, NULL, 0, 0,
			ctx->attempt);
		ctx->raise.message = zenc__asprintf(
			"cannot create '%s': %s", dir, strerror(errno));
		goto done;
	}
	*arts = zenc__calloc(s->n_outputs, sizeof(**arts));
	for (i = 0; i < s->n_outputs; i++) {
		zenc__artifact *a = &(*arts)[i];
		zenc_buf *d = &ctx->outs[i].data;
		a->name = zenc__strdup(s->outputs[i].name);
		a->type = s->outputs[i].type;
		*n = i + 1;
		if (ctx->outs[i].uri) {
			/* Already in the store (bytes, file, dir). */
			a->uri = zenc__strdup(ctx->outs[i].uri);
			a->size = ctx->outs[i].size;
			memcpy(a->checksum, ctx->outs[i].sum,
			       sizeof(a->checksum));
			continue;
		}
		a->uri = zenc__asprintf("%s/%s", dir, a->name);
		a->size = (int64_t)d->len;
		zenc__sum_mem(a->checksum, d->ptr ? d->ptr : "", d->len);
		if (zenc__write_file_atomic(
			    a->uri, d->ptr ? d->ptr : "", d->len, 0644) < 0) {
			zenc__failure_kind(
				&ctx->raise, ZENC__EK_ARTIFACT_ERROR, NULL, 0,
				0, ctx->attempt);
			ctx->raise.message = zenc__asprintf(
				"cannot write '%s': %s", a->uri,
				strerror(errno));
			goto done;
		}
	}
	rc = 0;
done:
	free(dir);
	return rc;
}

/* Up to this many bytes, a bytes input is read into memory: a mapping
 * costs two more system calls and a page fault, more than copying a page
 * or a few. */
#define SMALL_INPUT (64 * 1024)

/* Maps the artifact at `path` (bytes inputs: not copied into memory),
 * or reads it when it is small, as its record says (`recorded`, its
 * size; 0: not known) or else fstat(); an empty file is an empty buffer.
 * What was read is checked against the recorded checksum after. */
static int map_input(zenc__value *v, const char *path, int64_t recorded)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), saved;
	struct stat st;
	void *m;

	if (fd < 0)
		return -1;
	if (recorded > 0 && recorded <= SMALL_INPUT)
		st.st_size = (off_t)recorded;
	else if (fstat(fd, &st) < 0)
		goto fail;
	if (st.st_size <= SMALL_INPUT) {
		/* Until the end of the file, which may have changed size. */
		if (zenc__read_fd(&v->data, fd, (size_t)st.st_size) < 0)
			goto fail;
		close(fd);
		return 0;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		goto fail;
	close(fd);
	v->map = m;
	v->map_len = (size_t)st.st_size;
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

zenc__artifact *zenc__ctx_input_artifact(
	zenc_step_context *ctx, const zenc__input *in)
{
	zenc__stepstate *up = &ctx->x->steps[in->from->index];
	size_t i;

	for (i = 0; i < up->n_arts; i++)
		if (!strcmp(up->arts[i].name, in->from_output))
			return &up->arts[i];
	zenc__error_set(
		ZENC_EIO, "input '%s.%s': no artifact for '%s.%s'",
		ctx->step->name, in->name, up->step->name, in->from_output);
	return NULL;
}

/* Reads input `name` into its value slot, checking type and checksum. */
static int load_input(
	zenc_step_context *ctx,
	const char *name,
	zenc_type type,
	zenc__value **out)
{
	zenc__input *in = NULL;
	zenc__artifact *art = NULL;
	size_t i;
	int bad;

	if (!ctx || !ctx->step)
		return zenc__error_set(
			ZENC_ESTATE, "inputs can only be read in a step");
	for (i = 0; i < ctx->step->n_inputs; i++) {
		if (!strcmp(ctx->step->inputs[i].name, name)) {
			in = &ctx->step->inputs[i];
			break;
		}
	}
	if (!in)
		return zenc__error_set(
			ZENC_ENOTFOUND, "step '%s' has no input '%s'",
			ctx->step->name, name);
	if (in->type != type)
		return zenc__error_set(
			ZENC_ETYPE, "input '%s.%s' is %s, not %s",
			ctx->step->name, name, zenc_type_name(in->type),
			zenc_type_name(type));
	*out = &ctx->ins[i];
	if ((*out)->set)
		return 0;
	if (!(art = zenc__ctx_input_artifact(ctx, in)))
		return ZENC_EIO;
	if ((type == ZENC_BYTES ? map_input(*out, art->uri, art->size)
				: zenc__read_file(&(*out)->data, art->uri)) < 0)
		return zenc__error_set(
			ZENC_EIO,
			"input '%s.%s': cannot read "
			"'%s': %s",
			ctx->step->name, name, art->uri, strerror(errno));
	if ((*out)->map)
		bad = zenc__sum_check(
			art->checksum, NULL, 0, (*out)->map, (*out)->map_len);
	else
		bad = zenc__sum_check(
			art->checksum, NULL, 0, zenc_buf_cstr(&(*out)->data),
			(*out)->data.len);
	if (bad) {
		zenc_buf_release(&(*out)->data);
		if ((*out)->map)
			munmap((*out)->map, (*out)->map_len);
		(*out)->map = NULL;
		return zenc__error_set(
			ZENC_EIO,
			"input '%s.%s': checksum mismatch in "
			"'%s'",
			ctx->step->name, name, art->uri);
	}
	(*out)->set = 1;
	return 0;
}

int zenc_input_int(zenc_step_context *ctx, const char *name, int64_t *out)
{
	zenc__value *v;
	char *end;
	int rc = load_input(ctx, name, ZENC_INT, &v);
	if (rc < 0)
		return rc;
	errno = 0;
	*out = (int64_t)strtoll(zenc_buf_cstr(&v->data), &end, 10);
	if (errno || *end)
		return zenc__error_set(
			ZENC_EIO, "input '%s' is not an int", name);
	return 0;
}

int zenc_input_double(zenc_step_context *ctx, const char *name, double *out)
{
	zenc__value *v;
	char *end;
	int rc = load_input(ctx, name, ZENC_DOUBLE, &v);
	if (rc < 0)
		return rc;
	*out = strtod(zenc_buf_cstr(&v->data), &end);
	if (*end)
		return zenc__error_set(
			ZENC_EIO, "input '%s' is not a double", name);
	return 0;
}

int zenc_input_bool(zenc_step_context *ctx, const char *name, bool *out)
{
	zenc__value *v;
	int rc = load_input(ctx, name, ZENC_BOOL, &v);
	if (rc < 0)
		return rc;
	*out = !strcmp(zenc_buf_cstr(&v->data), "true");
	return 0;
}

int zenc_input_string(
	zenc_step_context *ctx, const char *name, const char **out)
{
	zenc__value *v;
	int rc = load_input(ctx, name, ZENC_STRING, &v);
	if (rc == 0)
		*out = zenc_buf_cstr(&v->data);
	return rc;
}

int zenc_input_bytes(
	zenc_step_context *ctx, const char *name, const void **p, size_t *n)
{
	zenc__value *v;
	int rc = load_input(ctx, name, ZENC_BYTES, &v);
	if (rc == 0 && v->map) {
		*p = v->map;
		*n = v->map_len;
	} else if (rc == 0) {
		*p = zenc_buf_cstr(&v->data);
		*n = v->data.len;
	}
	return rc;
}

int zenc__raise_status(
	zenc_step_context *ctx,
	const char *type,
	int exit_code,
	int sig,
	const char *fmt,
	...)
{
	zenc_buf msg = ZENC_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	zenc_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	zenc_raise(ctx, type, "%s", zenc_buf_cstr(&msg));
	if (ctx && !ctx->in_hook) {
		ctx->raise.exit_code = exit_code;
		ctx->raise.signal = sig;
	}
	zenc_buf_release(&msg);
	return -1;
}

int zenc__ctx_self_supervised(const zenc_step_context *ctx)
{
	return ctx->x->isolation == ZENC_ISOLATION_NONE ||
	       (ctx->a && ctx->a->threaded);
}

const char *zenc__ctx_run_dir(const zenc_step_context *ctx)
{
	return ctx->x->run_dir;
}

void *zenc__ctx_step_payload(const zenc_step_context *ctx)
{
	return ctx->step ? ctx->step->fn_payload : NULL;
}

void zenc__step_set_payload(
	zenc_step *s, void *payload, void (*payload_free)(void *payload))
{
	if (s->payload_free)
		s->payload_free(s->fn_payload);
	s->fn_payload = payload;
	s->payload_free = payload_free;
}
