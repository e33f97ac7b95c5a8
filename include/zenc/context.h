#ifndef ZENC_CONTEXT_H
#define ZENC_CONTEXT_H

#include "common.h"
#include "hook.h"

ZENC_BEGIN_DECL

/* What a step body or a step hook may read.  Strings borrow from the run
 * and stay valid while the step and its hooks run. */
ZENC_EXTERN(const char *) zenc_ctx_pipeline_name(const zenc_step_context *ctx);
ZENC_EXTERN(const char *) zenc_ctx_run_name(const zenc_step_context *ctx);
ZENC_EXTERN(const char *) zenc_ctx_run_id(const zenc_step_context *ctx);
ZENC_EXTERN(const char *) zenc_ctx_step_name(const zenc_step_context *ctx);
/** The attempt, 1-based (docs/hooks.md, "Retries"). */
ZENC_EXTERN(int) zenc_ctx_attempt(const zenc_step_context *ctx);
/** The step's filled parameter struct, or NULL when it has none. */
ZENC_EXTERN(const void *) zenc_ctx_params(const zenc_step_context *ctx);
/** The event of the running hook ("on_failure", ...), or NULL in a body. */
ZENC_EXTERN(const char *) zenc_ctx_hook_event(const zenc_step_context *ctx);
/** The step's error while failure or retry hooks run (and end hooks after
 *  a failed attempt), else NULL. */
ZENC_EXTERN(const zenc_exception *)
zenc_ctx_error(const zenc_step_context *ctx);
/** The stack the run uses; never NULL. */
ZENC_EXTERN(zenc_stack *) zenc_ctx_active_stack(const zenc_step_context *ctx);
/**
 * The init state of this execution environment: what the pipeline's last
 * `on_init` hook that returned one returned (an init command's: the text
 * it wrote to $ZENC_INIT_STATE_FILE), or NULL.  Readable from steps and
 * every hook, including those that take no context (docs/hooks.md, "Init
 * and cleanup hooks").
 */
ZENC_EXTERN(void *) zenc_ctx_init_state(void);

/**
 * Fails the running step (in a body) or hook (in a hook) with error type
 * `type` (e.g. "ValueError") and a printf-style message.  Returns a
 * non-zero code, so a body writes `return zenc_raise(ctx, ...)`.  `ctx` may
 * be NULL inside a hook that takes no context: the current one is used.
 */
ZENC_EXTERN(int)
zenc_raise(zenc_step_context *ctx, const char *type, const char *fmt, ...)
	ZENC_FORMAT(3, 4);

/* Outputs: set each declared output once; the value is copied and stored in
 * the artifact store when the body returns 0.  Return 0, ZENC_ENOTFOUND for
 * an undeclared name, ZENC_ETYPE for the wrong type. */
ZENC_EXTERN(int)
zenc_output_int(zenc_step_context *ctx, const char *name, int64_t v);
ZENC_EXTERN(int)
zenc_output_double(zenc_step_context *ctx, const char *name, double v);
ZENC_EXTERN(int)
zenc_output_string(zenc_step_context *ctx, const char *name, const char *v);
ZENC_EXTERN(int)
zenc_output_bool(zenc_step_context *ctx, const char *name, bool v);
ZENC_EXTERN(int)
zenc_output_bytes(
	zenc_step_context *ctx, const char *name, const void *p, size_t n);

/* Inputs: read an input wired with zenc_step_add_input().  Strings and bytes
 * borrow from the context.  Return 0, ZENC_ENOTFOUND, ZENC_ETYPE, or
 * ZENC_EIO when the artifact is missing or its checksum does not match. */
ZENC_EXTERN(int)
zenc_input_int(zenc_step_context *ctx, const char *name, int64_t *out);
ZENC_EXTERN(int)
zenc_input_double(zenc_step_context *ctx, const char *name, double *out);
ZENC_EXTERN(int)
zenc_input_bool(zenc_step_context *ctx, const char *name, bool *out);
ZENC_EXTERN(int)
zenc_input_string(zenc_step_context *ctx, const char *name, const char **out);
ZENC_EXTERN(int)
zenc_input_bytes(
	zenc_step_context *ctx, const char *name, const void **p, size_t *n);

/**
 * Sets output `name`, of type ZENC_FILE or ZENC_DIR, to the file or folder
 * at `path`, which is moved into the artifact store: renamed, or across
 * file systems reflinked (ioctl FICLONE) or else copied, then removed.  Its
 * checksum is computed by streaming it; nothing is read into memory.
 * Returns 0, ZENC_ENOTFOUND, ZENC_ETYPE (wrong output type, or `path` not
 * a regular file for ZENC_FILE, not a folder for ZENC_DIR), ZENC_EIO.
 */
ZENC_EXTERN(int)
zenc_output_file(zenc_step_context *ctx, const char *name, const char *path);

/**
 * Sets `*path_out` to the path in the artifact store of input `name` (any
 * type; a ZENC_FILE or ZENC_DIR input is read this way), after checking it
 * against its recorded checksum.  The path borrows from the context; read
 * it, do not change it.  Returns 0, ZENC_ENOTFOUND, or ZENC_EIO when the
 * artifact is missing or does not match its checksum.
 */
ZENC_EXTERN(int)
zenc_input_path(
	zenc_step_context *ctx, const char *name, const char **path_out);

ZENC_END_DECL

#endif
