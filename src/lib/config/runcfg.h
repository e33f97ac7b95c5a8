/*
 * Run configuration files (`prog run --config run.yaml`): run name
 * template, parameters, hooks and settings per step and for the pipeline.
 * Configuration overrides code; --param overrides configuration.
 */
#ifndef ZENC_LIB_RUNCFG_H
#define ZENC_LIB_RUNCFG_H

#include "engine/exec.h"
#include "../../util/yaml.h"

typedef struct zenc__runcfg zenc__runcfg;

/* Parses and checks `path` against the pipeline `p` (unknown steps, keys,
 * wrong types, hooks that cannot be resolved): errors carry
 * file:line:column.  Returns 0 or ZENC_ECONFIG. */
int zenc__runcfg_load(zenc__runcfg **out, const char *path, zenc_pipeline *p);
/* Applies parameters, hooks and run-wide settings to the run `x` (and the
 * hook lists of its pipeline).  Returns 0 or a negative code.  What it
 * changes in the pipeline is put back by zenc__runcfg_free(), so a
 * configuration applies to one run only. */
int zenc__runcfg_apply(zenc__runcfg *cfg, zenc__exec *x);
/* Overrides of one step's retry and timeouts; `cfg` may be NULL. */
void zenc__runcfg_step_settings(const zenc__runcfg *cfg, zenc__stepstate *ss);
/* The configured run name template, stack; NULL when not set or no cfg. */
const char *zenc__runcfg_run_name(const zenc__runcfg *cfg);
const char *zenc__runcfg_stack(const zenc__runcfg *cfg);
/* Expands {pipeline}, {date} (YYYY_MM_DD), {time} (HH_MM_SS_ffffff). */
char *zenc__runcfg_expand_name(
	const char *tmpl, const char *pipeline, double t);
/* Restores what zenc__runcfg_apply() changed in the pipeline, closes
 * the hook libraries and frees.  NULL does nothing. */
void zenc__runcfg_free(zenc__runcfg *cfg);

/*
 * Hooks and settings written in YAML, shared by run configuration files
 * and YAML pipelines (yamlpipe.c).
 */

/* Shared libraries opened for hooks; closed together. */
typedef struct zenc__dlset {
	void **handles;
	size_t n, cap;
} zenc__dlset;

void zenc__dlset_close(zenc__dlset *d);

/* Parses a hook value at `n` (one hook, or a list of hooks) and appends
 * each to `list`.  A hook is a built-in name, a name registered with
 * zenc_pipeline_register_hook() on `p`, "LIB.so:FUNCTION" (LIB relative
 * to `dir` unless absolute; opened into `dls`), or a mapping {run:
 * STRING-or-LIST, timeout: DURATION, name: STRING} for a command that
 * runs in `dir`.  `run_level` is set for on_run_success / on_run_failure,
 * whose hooks take no step context.  Returns 0, or -1 with a located
 * message in `err`. */
int zenc__cfg_hooks(
	zenc__hook_list *list,
	const zenc_yaml_node *n,
	zenc_pipeline *p,
	const char *dir,
	int run_level,
	zenc__dlset *dls,
	zenc_buf *err);

/* Parses {max_retries: INT, delay: DURATION, backoff: NUMBER}.  0 or -1
 * with a located message in `err`. */
int zenc__cfg_retry(zenc__retry *out, const zenc_yaml_node *n, zenc_buf *err);

/* Parses hook_failure: warn or fail.  0 or -1 with a located message in
 * `err`. */
int zenc__cfg_hook_failure(
	zenc_hook_failure *out, const zenc_yaml_node *n, zenc_buf *err);

/* The folder holding `path`, absolute (for hooks and steps that run
 * "where the file is").  Caller frees. */
char *zenc__cfg_dir_of(const char *path);

#endif
