#ifndef ZENC_PIPELINE_H
#define ZENC_PIPELINE_H

#include <stddef.h>
#include <stdio.h>
#include "common.h"
#include "hook.h"

ZENC_BEGIN_DECL

/**
 * One field of a step's parameter struct: its name, type, offset and
 * default.  Build tables with the ZENC_PARAM_* macros and end them with
 * ZENC_PARAM_END.  Field types: int64_t (INT), double (DOUBLE), bool (BOOL),
 * const char * (STRING).
 */
typedef struct zenc_param {
	const char *name;
	zenc_type type;
	size_t offset;
	int64_t def_int;
	double def_double;
	int def_bool;
	const char *def_string;
} zenc_param;

#define ZENC_PARAM_INT(T, field, def)                                          \
	{                                                                      \
#field, ZENC_INT, offsetof(T, field), (def), 0.0, 0, NULL      \
	}
#define ZENC_PARAM_DOUBLE(T, field, def)                                       \
	{                                                                      \
#field, ZENC_DOUBLE, offsetof(T, field), 0, (def), 0, NULL     \
	}
#define ZENC_PARAM_BOOL(T, field, def)                                         \
	{                                                                      \
#field, ZENC_BOOL, offsetof(T, field), 0, 0.0, (def) ? 1 : 0,  \
			NULL                                                   \
	}
#define ZENC_PARAM_STRING(T, field, def)                                       \
	{                                                                      \
#field, ZENC_STRING, offsetof(T, field), 0, 0.0, 0, (def)      \
	}
#define ZENC_PARAM_END                                                         \
	{                                                                      \
		NULL, (zenc_type)0, 0, 0, 0.0, 0, NULL                         \
	}

/**
 * Creates an empty pipeline named `name` (copied).  The caller owns
 * `*out` and frees it with zenc_pipeline_free().
 * Returns 0, ZENC_EINVALID for an empty or invalid name, ZENC_ENOMEM.
 */
ZENC_EXTERN(int) zenc_pipeline_new(zenc_pipeline **out, const char *name);

/** Frees the pipeline, its steps and hooks.  NULL is harmless. */
ZENC_EXTERN(void) zenc_pipeline_free(zenc_pipeline *p);

/** The pipeline's name. */
ZENC_EXTERN(const char *) zenc_pipeline_name(const zenc_pipeline *p);

/**
 * Adds a step named `name` whose body is `fn`.  `*out` borrows from the
 * pipeline.  Names are checked when the pipeline is validated: a duplicate
 * name is reported then (and ZENC_EEXISTS is returned here at once).
 */
ZENC_EXTERN(int)
zenc_pipeline_add_step(
	zenc_step **out, zenc_pipeline *p, const char *name, zenc_step_fn fn);

/** Finds a step by name, or NULL. */
ZENC_EXTERN(zenc_step *)
zenc_pipeline_find_step(zenc_pipeline *p, const char *name);

/** The step's name. */
ZENC_EXTERN(const char *) zenc_step_name(const zenc_step *s);

/** Declares a typed output the body must set (else MissingOutput). */
ZENC_EXTERN(int)
zenc_step_add_output(zenc_step *s, const char *name, zenc_type type);

/**
 * Declares input `name`, wired to output `output` of step `from`; this is
 * also a DAG edge.  `from` may be NULL with `output` of the form
 * "step.output", resolved at validation.
 */
ZENC_EXTERN(int)
zenc_step_add_input(
	zenc_step *s, const char *name, zenc_step *from, const char *output);

/**
 * Like zenc_step_add_input(), declaring the type the step reads; a
 * different upstream type is a validation error (ZENC_ETYPE).
 */
ZENC_EXTERN(int)
zenc_step_add_input_typed(
	zenc_step *s,
	const char *name,
	zenc_type type,
	zenc_step *from,
	const char *output);

/** Orders `s` after `upstream` without passing data. */
ZENC_EXTERN(int) zenc_step_after(zenc_step *s, zenc_step *upstream);

/** Like zenc_step_after(), by the upstream step's name (checked later). */
ZENC_EXTERN(int) zenc_step_after_name(zenc_step *s, const char *upstream);

/**
 * Gives the step a parameter struct of `struct_size` bytes described by
 * `fields` (ending with ZENC_PARAM_END), named `type_name`.  The table must
 * outlive the pipeline (it usually is static).  Defaults come from the
 * table; run configuration and `--param STEP.FIELD=VALUE` override them.
 */
ZENC_EXTERN(int)
zenc_step_set_params(
	zenc_step *s,
	const char *type_name,
	const zenc_param *fields,
	size_t struct_size);

/**
 * Retries: up to `max_retries` more attempts after a failed one;
 * the wait before attempt k+1 is delay_s * backoff^(k-1) seconds.
 */
ZENC_EXTERN(int)
zenc_step_set_retry(
	zenc_step *s, int max_retries, double delay_s, double backoff);

/** A wall-clock limit for each attempt of the step body; 0: none. */
ZENC_EXTERN(int) zenc_step_set_timeout(zenc_step *s, double seconds);

/** The deadline of each of this step's hooks; default 30 s. */
ZENC_EXTERN(int) zenc_step_set_hook_timeout(zenc_step *s, double seconds);

/**
 * A limit on the step's resident memory.  Past it the step is stopped and
 * fails with type "OutOfMemory".  Enforced only under process isolation.
 */
ZENC_EXTERN(int) zenc_step_set_memory_limit(zenc_step *s, size_t bytes);

/**
 * The step cache (docs/caching.md).  A step whose cache key (pipeline and
 * step names, the function's name and the build id of the binary or
 * library that holds it, its parameters, the checksums of its inputs and
 * the artifact store) matches a completed step is not executed: its
 * outputs are reused and it is recorded "cached", and none of its hooks
 * fires.  `version` (copied; NULL: none) stands in for the build id, so
 * that a rebuild keeps the step's cached results until the version
 * changes.  Returns 0 or ZENC_EINVALID.
 */
ZENC_EXTERN(int)
zenc_step_set_cache_version(zenc_step *s, const char *version);

/**
 * Whether the step may be taken from the cache.  Default: as the
 * pipeline says (zenc_pipeline_set_cache()), else on for a step that
 * declares outputs and off for one that does not.  Returns 0.
 */
ZENC_EXTERN(int) zenc_step_set_cache(zenc_step *s, bool on);

/** The cache setting of every step that sets none itself.  Returns 0. */
ZENC_EXTERN(int) zenc_pipeline_set_cache(zenc_pipeline *p, bool on);

/* Hooks.  Each call appends one hook to the event's list; a list runs in
 * order.  A step's own list for an event replaces the pipeline's list for
 * that event (docs/hooks.md, "Order and precedence"). */
ZENC_EXTERN(int) zenc_step_on_success(zenc_step *s, zenc_hook h);
ZENC_EXTERN(int) zenc_step_on_failure(zenc_step *s, zenc_hook h);
ZENC_EXTERN(int) zenc_step_on_start(zenc_step *s, zenc_hook h);
ZENC_EXTERN(int) zenc_step_on_end(zenc_step *s, zenc_hook h);
ZENC_EXTERN(int) zenc_step_on_retry(zenc_step *s, zenc_hook h);

/** Step defaults for every step of the pipeline, per event. */
ZENC_EXTERN(int) zenc_pipeline_on_success(zenc_pipeline *p, zenc_hook h);
ZENC_EXTERN(int) zenc_pipeline_on_failure(zenc_pipeline *p, zenc_hook h);
ZENC_EXTERN(int) zenc_pipeline_on_start(zenc_pipeline *p, zenc_hook h);
ZENC_EXTERN(int) zenc_pipeline_on_end(zenc_pipeline *p, zenc_hook h);
ZENC_EXTERN(int) zenc_pipeline_on_retry(zenc_pipeline *p, zenc_hook h);

/** Run-level hooks: once per run, after the last step ended. */
ZENC_EXTERN(int) zenc_pipeline_on_run_success(zenc_pipeline *p, zenc_hook h);
ZENC_EXTERN(int) zenc_pipeline_on_run_failure(zenc_pipeline *p, zenc_hook h);

/**
 * Run-scope hooks (docs/hooks.md, "Run-scope hooks"): `on_run_start` once
 * before the first step, `on_run_end` once after the last step and the
 * outcome's run-level hooks, whatever the outcome (failed and cancelled
 * runs too).  The same signatures as the other run-level hooks.
 */
ZENC_EXTERN(int) zenc_pipeline_on_run_start(zenc_pipeline *p, zenc_hook h);
ZENC_EXTERN(int) zenc_pipeline_on_run_end(zenc_pipeline *p, zenc_hook h);

/** An init hook: returns the state that steps and hooks read with
 *  zenc_ctx_init_state(); `arg` is what was registered with it. */
typedef void *(*zenc_init_fn)(void *arg);
/** A cleanup hook: receives the init state (NULL when none). */
typedef void (*zenc_cleanup_fn)(void *state);

/**
 * `on_init` / `on_cleanup` (docs/hooks.md, "Init and cleanup hooks"): once
 * per execution environment (the pipeline program of a local run; each
 * Slurm job that runs a step), `fn` runs before anything of the run runs
 * there, and its return value is the environment's init state; the
 * cleanup hooks run last, and receive it.  A failing init hook fails the
 * run before any step.  The recorded name is the function's symbol name
 * when the dynamic linker knows it, else "on_init" / "on_cleanup".
 */
ZENC_EXTERN(int)
zenc_pipeline_on_init(zenc_pipeline *p, zenc_init_fn fn, void *arg);
ZENC_EXTERN(int) zenc_pipeline_on_cleanup(zenc_pipeline *p, zenc_cleanup_fn fn);
/**
 * Any run-level hook (a command, void(void), void(const zenc_run *)) as an
 * init or cleanup hook.  An init command may write a state to the file
 * named by $ZENC_INIT_STATE_FILE: steps and hooks then read it as a string
 * with zenc_ctx_init_state() and in $ZENC_INIT_STATE.
 */
ZENC_EXTERN(int) zenc_pipeline_on_init_hook(zenc_pipeline *p, zenc_hook h);
ZENC_EXTERN(int) zenc_pipeline_on_cleanup_hook(zenc_pipeline *p, zenc_hook h);

/** Retry defaults for every step; a step's own setting wins. */
ZENC_EXTERN(int)
zenc_pipeline_set_retry(
	zenc_pipeline *p, int max_retries, double delay_s, double backoff);

/** The default hook deadline for every step and run-level hook. */
ZENC_EXTERN(int)
zenc_pipeline_set_hook_timeout(zenc_pipeline *p, double seconds);

/** What a failing success hook does to its step; default WARN. */
ZENC_EXTERN(int)
zenc_pipeline_set_hook_failure(zenc_pipeline *p, zenc_hook_failure mode);

/**
 * Registers `fn` under `name` so that run configuration files can name it
 * as a hook (`on_failure: notify`).  The name is copied.
 */
ZENC_EXTERN(int)
zenc_pipeline_register_hook(zenc_pipeline *p, const char *name, zenc_hook h);

/**
 * Checks the DAG: unknown steps or outputs, type mismatches, duplicate
 * names, cycles.  Returns 0 or a negative code with zenc_error_last().
 * zenc_pipeline_run() validates too.
 */
ZENC_EXTERN(int) zenc_pipeline_validate(zenc_pipeline *p);

/** A pipeline of shell commands read from a YAML file (docs/yaml.md). */
typedef struct zenc_yaml_pipeline zenc_yaml_pipeline;

/**
 * Reads and checks the pipeline in the YAML file `path`: its steps become
 * steps of an ordinary pipeline that runs the commands, with the hooks,
 * retries, deadlines and outputs the file declares.  `*out` is the
 * caller's, to free with zenc_yaml_pipeline_free().  Returns 0, or
 * ZENC_EINVALID, ZENC_ECONFIG, ZENC_EIO for a file that cannot be read
 * or does not validate (zenc_error_last() names the file, line and
 * column).
 */
ZENC_EXTERN(int)
zenc_yaml_pipeline_load(zenc_yaml_pipeline **out, const char *path);

/** The pipeline made from the file, to pass to zenc_pipeline_run() or
 *  zenc_main(); owned by `yp`, valid until zenc_yaml_pipeline_free(). */
ZENC_EXTERN(zenc_pipeline *) zenc_yaml_pipeline_get(zenc_yaml_pipeline *yp);

/**
 * Checks "STEP.KEY=VALUE" assignments (a NULL-terminated list; NULL: none)
 * as a run would apply them, without running anything.  Returns 0, or
 * ZENC_EINVALID or ZENC_ETYPE naming the step and key.
 */
ZENC_EXTERN(int)
zenc_yaml_pipeline_check_params(
	zenc_yaml_pipeline *yp, const char *const *params);

/** Prints to `f` the steps in an order they can run, with what each runs
 *  and waits for: the plan of `zenc run --dry-run`. */
ZENC_EXTERN(void)
zenc_yaml_pipeline_print_plan(zenc_yaml_pipeline *yp, FILE *f);

/** Frees the pipeline and closes the hook libraries it opened.  NULL is
 *  harmless. */
ZENC_EXTERN(void) zenc_yaml_pipeline_free(zenc_yaml_pipeline *yp);

ZENC_END_DECL

#endif
