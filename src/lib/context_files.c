/*
 * File and folder artifacts: zenc_output_file() moves a file or folder
 * into the artifact store (rename, else reflink, else copy: artifact.c)
 * and zenc_input_path() gives an input's path in the store once its
 * checksum has been verified.  Nothing is read into memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/exec.h"

int zenc__output_path(
	zenc_step_context *ctx,
	const char *name,
	const char *path,
	int allow_bytes)
{
	const zenc__output *decl = NULL;
	zenc__value *o;
	struct stat st;
	char *dir, *uri;
	size_t i;
	int is_dir;

	if (!ctx || !ctx->step || ctx->in_hook)
		return zenc__error_set(
			ZENC_ESTATE, "outputs can only be set by a step body");
	if (!name || !path || !*path)
		return zenc__error_set(
			ZENC_EINVALID, "zenc_output_file(): no name or path");
	for (i = 0; i < ctx->step->n_outputs && !decl; i++)
		if (!strcmp(ctx->step->outputs[i].name, name))
			decl = &ctx->step->outputs[i];
	if (!decl)
		return zenc__error_set(
			ZENC_ENOTFOUND, "step '%s' has no output '%s'",
			ctx->step->name, name);
	o = &ctx->outs[i - 1];
	if (decl->type != ZENC_FILE && decl->type != ZENC_DIR &&
	    !(allow_bytes && decl->type == ZENC_BYTES))
		return zenc__error_set(
			ZENC_ETYPE, "output '%s.%s' is %s, not file or dir",
			ctx->step->name, name, zenc_type_name(decl->type));
	is_dir = decl->type == ZENC_DIR;
	if (lstat(path, &st) < 0)
		return zenc__error_set(
			ZENC_EIO, "output '%s.%s': '%s': %s", ctx->step->name,
			name, path, strerror(errno));
	if (is_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return zenc__error_set(
			ZENC_ETYPE, "output '%s.%s': '%s' is not a %s",
			ctx->step->name, name, path,
			is_dir ? "folder" : "regular file");
	if (!(dir = zenc__ctx_step_dir(ctx)))
		return zenc__error_set(
			ZENC_EIO, "cannot create the folder of step '%s': %s",
			ctx->step->name, strerror(errno));
	uri = zenc__asprintf("%s/%s", dir, name);
	free(dir);
	o->set = 0;
	free(o->uri);
	o->uri = NULL;
	zenc_buf_clear(&o->data);
	if (strcmp(path, uri) && zenc__place(path, uri, is_dir) < 0) {
		int rc = zenc__error_set(
			ZENC_EIO,
			"output '%s.%s': cannot move '%s' to '%s': %s",
			ctx->step->name, name, path, uri, strerror(errno));
		free(uri);
		return rc;
	}
	if (zenc__sum_path(uri, is_dir, o->sum, &o->size) < 0) {
		int rc = zenc__error_set(
			ZENC_EIO, "output '%s.%s': cannot read '%s': %s",
			ctx->step->name, name, uri, strerror(errno));
		free(uri);
		return rc;
	}
	o->uri = uri;
	o->set = 1;
	return 0;
}

int zenc_output_file(zenc_step_context *ctx, const char *name, const char *path)
{
	return zenc__output_path(ctx, name, path, 0);
}

int zenc_input_path(
	zenc_step_context *ctx, const char *name, const char **path_out)
{
	zenc__input *in = NULL;
	zenc__artifact *art = NULL;
	zenc__value *v;
	size_t i;
	int bad;

	if (!ctx || !ctx->step)
		return zenc__error_set(
			ZENC_ESTATE, "inputs can only be read in a step");
	for (i = 0; name && i < ctx->step->n_inputs && !in; i++)
		if (!strcmp(ctx->step->inputs[i].name, name))
			in = &ctx->step->inputs[i];
	if (!in)
		return zenc__error_set(
			ZENC_ENOTFOUND, "step '%s' has no input '%s'",
			ctx->step->name, name ? name : "(null)");
	v = &ctx->ins[i - 1];
	if (v->uri) {
		*path_out = v->uri;
		return 0;
	}
	if (!(art = zenc__ctx_input_artifact(ctx, in)))
		return ZENC_EIO;
	bad = zenc__sum_check(
		art->checksum, art->uri, art->type == ZENC_DIR, NULL, 0);
	if (bad < 0)
		return zenc__error_set(
			ZENC_EIO, "input '%s.%s': cannot read '%s': %s",
			ctx->step->name, name, art->uri, strerror(errno));
	if (bad == 1)
		return zenc__error_set(
			ZENC_EIO, "input '%s.%s': checksum mismatch in '%s'",
			ctx->step->name, name, art->uri);
	if (bad == 2)
		return zenc__error_set(
			ZENC_EIO,
			"input '%s.%s': checksum '%s' of '%s' is in no known "
			"form: cannot verify it",
			ctx->step->name, name, art->checksum, art->uri);
	v->uri = zenc__strdup(art->uri);
	*path_out = v->uri;
	return 0;
}
