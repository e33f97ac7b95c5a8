#ifndef ZENC_RUN_H
#define ZENC_RUN_H

#include "common.h"

ZENC_BEGIN_DECL

typedef enum zenc_isolation {
	ZENC_ISOLATION_PROCESS =
		0,              /**< each step in a forked child (default) */
	ZENC_ISOLATION_NONE = 1 /**< everything in the calling process */
} zenc_isolation;

#define ZENC_RUN_OPTIONS_VERSION 1

/** Options of one run.  Initialize with ZENC_RUN_OPTIONS_INIT. */
typedef struct zenc_run_options {
	unsigned int version;
	const char *run_name; /**< NULL: "{pipeline}-{date}-{time}" */
	int jobs;             /**< parallel steps; 0: the number of cores */
	zenc_isolation isolation;
	int keep_going;    /**< run what does not depend on a failure */
	const char *stack; /**< stack name; NULL: the active stack */
	int retries;       /**< -1: as configured; else default retries */
	int hook_failure;  /**< -1: as configured; else a zenc_hook_failure */
	const char *const
		*params;         /**< NULL-terminated "step.field=value" list */
	const char *config_path; /**< a run configuration YAML file, or NULL */
	int quiet;               /**< no terminal log of the run */
} zenc_run_options;

#define ZENC_RUN_OPTIONS_INIT                                                  \
	{                                                                      \
		ZENC_RUN_OPTIONS_VERSION, NULL, 0, ZENC_ISOLATION_PROCESS, 0,  \
			NULL, -1, -1, NULL, NULL, 0                            \
	}

/**
 * Validates and runs the pipeline on the stack, recording everything in the
 * metadata store.  On success (the run happened, whatever its outcome) `*out`
 * holds the run; check zenc_run_failed().  Returns 0; ZENC_EINVALID,
 * ZENC_ECYCLE, ZENC_ETYPE, ZENC_ENOTFOUND, ZENC_EEXISTS, ZENC_ECONFIG for a
 * pipeline or options that do not validate; ZENC_ESTORE or ZENC_ECONFIG when
 * the store or stack is unusable.
 */
ZENC_EXTERN(int)
zenc_pipeline_run(
	zenc_run **out, zenc_pipeline *p, const zenc_run_options *opts);

/** Frees a run returned by zenc_pipeline_run().  NULL is harmless. */
ZENC_EXTERN(void) zenc_run_free(zenc_run *run);

ZENC_EXTERN(const char *) zenc_run_id(const zenc_run *run);
ZENC_EXTERN(const char *) zenc_run_name(const zenc_run *run);
ZENC_EXTERN(const char *) zenc_run_pipeline_name(const zenc_run *run);
/** 1 when the run failed, 0 when it completed.  A cancelled run failed. */
ZENC_EXTERN(int) zenc_run_failed(const zenc_run *run);
/** 1 when the run was cancelled (SIGINT or SIGTERM to the program that ran
 *  it, or `zenc runs cancel`) and recorded with status "cancelled", else 0. */
ZENC_EXTERN(int) zenc_run_cancelled(const zenc_run *run);

/**
 * The whole command line of a pipeline program:
 * `prog run [--config FILE] [--run-name NAME] [--param STEP.FIELD=VALUE]...
 * [--stack NAME] [-j N] [--isolation process|none] [--keep-going]
 * [--retries N] [--hook-failure warn|fail] [--quiet]`, `prog validate`,
 * `prog --help`.  Returns the exit code: ZENC_EXIT_OK (0) the run
 * completed, ZENC_EXIT_FAILED (1) it failed, ZENC_EXIT_CANCELLED (130) it
 * was cancelled (SIGINT, SIGTERM), otherwise zenc_exit_status()
 * of the error: ZENC_EXIT_USAGE (2) for a usage or validation error (an
 * error in the --config file too), ZENC_EXIT_ENV (3) for a broken
 * environment.  Frees nothing: the caller still owns `p`.
 */
ZENC_EXTERN(int) zenc_main(zenc_pipeline *p, int argc, char **argv);

#define ZENC_MAIN_OPTIONS_VERSION 1

/** How zenc_main_ext() presents itself.  Initialize with
 *  ZENC_MAIN_OPTIONS_INIT; every field may be left NULL. */
typedef struct zenc_main_options {
	unsigned int version;
	/** The name its messages start with ("NAME: error: ..."); NULL:
	 *  argv[0]. */
	const char *prog;
	/** The command its usage errors point to ("Try 'CMD --help'.");
	 *  NULL: `prog`. */
	const char *help_command;
	/** The NULL-terminated argv that runs this same pipeline again, to
	 *  which the hidden subcommands of Slurm jobs (`__step ...`) are
	 *  appended; NULL: /proc/self/exe alone, as for zenc_main(). */
	const char *const *entry;
} zenc_main_options;

#define ZENC_MAIN_OPTIONS_INIT                                                 \
	{                                                                      \
		ZENC_MAIN_OPTIONS_VERSION, NULL, NULL, NULL                    \
	}

/**
 * zenc_main() for a program that serves the pipeline command line under
 * another name, as `zenc run FILE` does for a YAML pipeline: the same
 * arguments, behaviour and exit codes, presented as `opts` says (NULL:
 * as zenc_main()).  Frees nothing.
 */
ZENC_EXTERN(int)
zenc_main_ext(
	zenc_pipeline *p, int argc, char **argv, const zenc_main_options *opts);

ZENC_END_DECL

#endif
