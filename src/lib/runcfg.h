/*
 * Run configuration files (`prog run --config run.yaml`): run name
 * template, parameters, hooks and settings per step and for the pipeline.
 * Configuration overrides code; --param overrides configuration.
 */
#ifndef ZENC_LIB_RUNCFG_H
#define ZENC_LIB_RUNCFG_H

#include "exec.h"

typedef struct zenc__runcfg zenc__runcfg;

/* Parses and checks `path` against the pipeline `p` (unknown steps, keys,
 * wrong types, hooks that cannot be resolved): errors carry
 * file:line:column.  Returns 0 or ZENC_ECONFIG. */
int zenc__runcfg_load(zenc__runcfg **out, const char *path, zenc_pipeline *p);
/* Applies parameters, hooks and run-wide settings to the run `x` (and the
 * hook lists of its pipeline).  Returns 0 or a negative code. */
int zenc__runcfg_apply(zenc__runcfg *cfg, zenc__exec *x);
/* Overrides of one step's retry and timeouts; `cfg` may be NULL. */
void zenc__runcfg_step_settings(const zenc__runcfg *cfg, zenc__stepstate *ss);
/* The configured run name template, stack; NULL when not set or no cfg. */
const char *zenc__runcfg_run_name(const zenc__runcfg *cfg);
const char *zenc__runcfg_stack(const zenc__runcfg *cfg);
/* Expands {pipeline}, {date} (YYYY_MM_DD), {time} (HH_MM_SS_ffffff). */
char *zenc__runcfg_expand_name(const char *tmpl, const char *pipeline,
			       double t);
void zenc__runcfg_free(zenc__runcfg *cfg);

#endif
