/*
 * Run-scope hooks (envhooks.c): on_run_start / on_run_end once per run,
 * on_init / on_cleanup once per execution environment.
 */
#ifndef ZENC_LIB_ENVHOOKS_H
#define ZENC_LIB_ENVHOOKS_H

#include "engine/exec.h"

/* The run has begun and no step has started: on_init (when the run's
 * steps run in this process's environment) then on_run_start. */
void zenc__engine_start_run(zenc__exec *x);

/* After the outcome's run-level hooks: on_run_end, then on_cleanup when
 * on_init ran here. */
void zenc__engine_run_end_hooks(zenc__exec *x);

/* A Slurm job's step: its environment's on_init, the step (as
 * zenc__engine_run_one), its on_cleanup. */
int zenc__engine_run_job(
	zenc__exec *x, zenc__stepstate *target, int first_attempt);

#endif
