#ifndef ZENC_HOOK_H
#define ZENC_HOOK_H

#include "common.h"

ZENC_BEGIN_DECL

/**
 * What a failure hook receives: the step's error (the seed's "exception").
 * Fields are only ever appended.
 */
typedef struct zenc_exception {
	/** "ValueError" as raised; or "Signal", "Timeout", "OutOfMemory",
	 *  "ExitCode", "MissingOutput", "HookFailed", ... */
	const char *type;
	/** Human text, e.g. "My exception", "killed by SIGSEGV". */
	const char *message;
	/** The exit code when the step process exited non-zero, else 0. */
	int exit_code;
	/** The signal number when the step was killed by a signal, else 0. */
	int signal;
	/** The attempt that failed, 1-based. */
	int attempt;
} zenc_exception;

/** The signature a hook was registered with (set by ZENC_HOOK). */
typedef enum zenc_hook_kind {
	ZENC_HOOK_NONE = 0,
	ZENC_HOOK_VOID = 1,           /**< void h(void) */
	ZENC_HOOK_CTX = 2,            /**< void h(zenc_step_context *) */
	ZENC_HOOK_CTX_PARAMS = 3,     /**< void h(ctx, const void *params) */
	ZENC_HOOK_CTX_PARAMS_ERR = 4, /**< void h(ctx, params, err) */
	ZENC_HOOK_ERR = 5,            /**< void h(const zenc_exception *) */
	ZENC_HOOK_RUN = 6,            /**< void h(const zenc_run *) */
	ZENC_HOOK_COMMAND = 7,        /**< a shell command or argv */
	ZENC_HOOK_BUILTIN = 8         /**< a built-in hook named in config */
} zenc_hook_kind;

typedef void (*zenc_hook_void_fn)(void);
typedef void (*zenc_hook_ctx_fn)(zenc_step_context *ctx);
typedef void (*zenc_hook_ctx_params_fn)(
	zenc_step_context *ctx, const void *params);
typedef void (*zenc_hook_ctx_params_err_fn)(
	zenc_step_context *ctx, const void *params, const zenc_exception *err);
typedef void (*zenc_hook_err_fn)(const zenc_exception *err);
typedef void (*zenc_hook_run_fn)(const zenc_run *run);

/**
 * One hook: a function with one of the accepted signatures, and the name
 * that is recorded for it.  Build it with ZENC_HOOK(fn), which picks the
 * kind from the function's type; or with zenc_hook_command().  Passed by
 * value; the registration copies what it needs.
 */
typedef struct zenc_hook {
	zenc_hook_kind kind;
	zenc_hook_void_fn fn; /**< the function, cast; call through kind */
	const char *name;     /**< recorded name: the function's name */
	const char *command;  /**< ZENC_HOOK_COMMAND: a /bin/sh -c string */
	char *const *argv;    /**< ZENC_HOOK_COMMAND: or an argv, no shell */
	double timeout;       /**< seconds; 0 means the step's or default */
} zenc_hook;

ZENC_EXTERN(zenc_hook) zenc_hook_void(zenc_hook_void_fn fn, const char *name);
ZENC_EXTERN(zenc_hook) zenc_hook_ctx(zenc_hook_ctx_fn fn, const char *name);
ZENC_EXTERN(zenc_hook)
zenc_hook_ctx_params(zenc_hook_ctx_params_fn fn, const char *name);
ZENC_EXTERN(zenc_hook)
zenc_hook_ctx_params_err(zenc_hook_ctx_params_err_fn fn, const char *name);
ZENC_EXTERN(zenc_hook) zenc_hook_err(zenc_hook_err_fn fn, const char *name);
ZENC_EXTERN(zenc_hook) zenc_hook_run(zenc_hook_run_fn fn, const char *name);

/**
 * A hook that runs a command: `shell` with /bin/sh -c.  The command gets
 * the context in environment variables (ZENC_PIPELINE_NAME, ZENC_STEP_NAME,
 * ZENC_HOOK_EVENT, ZENC_ERROR_TYPE, ...) and as one JSON object on standard
 * input (docs/hooks.md, "Command hooks").  A non-zero exit counts as a
 * failed hook.  The string
 * is copied at registration.
 */
ZENC_EXTERN(zenc_hook) zenc_hook_command(const char *shell);

/**
 * A hook that runs `argv` (NULL-terminated) directly, without a shell.
 * The vector is copied at registration.
 */
ZENC_EXTERN(zenc_hook) zenc_hook_argv(char *const *argv);

#if defined(__cplusplus)
ZENC_END_DECL
inline zenc_hook zenc__hook_of(zenc_hook_void_fn f, const char *n)
{
	return zenc_hook_void(f, n);
}
inline zenc_hook zenc__hook_of(zenc_hook_ctx_fn f, const char *n)
{
	return zenc_hook_ctx(f, n);
}
inline zenc_hook zenc__hook_of(zenc_hook_ctx_params_fn f, const char *n)
{
	return zenc_hook_ctx_params(f, n);
}
inline zenc_hook zenc__hook_of(zenc_hook_ctx_params_err_fn f, const char *n)
{
	return zenc_hook_ctx_params_err(f, n);
}
inline zenc_hook zenc__hook_of(zenc_hook_err_fn f, const char *n)
{
	return zenc_hook_err(f, n);
}
inline zenc_hook zenc__hook_of(zenc_hook_run_fn f, const char *n)
{
	return zenc_hook_run(f, n);
}
#define ZENC_HOOK(fn) zenc__hook_of((fn), #fn)
ZENC_BEGIN_DECL
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
/**
 * ZENC_HOOK(fn): a zenc_hook for `fn`, whose type must be one of the
 * accepted signatures (any other is a compile error), recording "fn" as its
 * name.  In C99, call zenc_hook_ctx() and friends directly.
 */
#define ZENC_HOOK(fn)                                                          \
	_Generic((fn), zenc_hook_void_fn                                       \
		 : zenc_hook_void, zenc_hook_ctx_fn                            \
		 : zenc_hook_ctx, zenc_hook_ctx_params_fn                      \
		 : zenc_hook_ctx_params, zenc_hook_ctx_params_err_fn           \
		 : zenc_hook_ctx_params_err, zenc_hook_err_fn                  \
		 : zenc_hook_err, zenc_hook_run_fn                             \
		 : zenc_hook_run)((fn), #fn)
#endif

/** The hook failure mode of a pipeline (docs/hooks.md, "Failing hooks"). */
typedef enum zenc_hook_failure {
	ZENC_HOOK_FAILURE_WARN =
		0, /**< record and log; the step's outcome stands */
	ZENC_HOOK_FAILURE_FAIL = 1 /**< a failing success hook fails the step */
} zenc_hook_failure;

ZENC_END_DECL

#endif
