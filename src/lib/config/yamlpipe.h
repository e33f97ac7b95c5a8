/*
 * Pipelines of shell commands written in YAML (`zenc run pipeline.yaml`,
 * docs/yaml.md).  The file becomes an ordinary zenc_pipeline
 * whose steps share one C body that runs the step's command, so runs,
 * hooks, retries and records are the engine's own.
 */
#ifndef ZENC_LIB_YAMLPIPE_H
#define ZENC_LIB_YAMLPIPE_H

#include <stdio.h>

#include "config/runcfg.h"

typedef struct zenc__yamlpipe zenc__yamlpipe;

/* Loads and checks the pipeline in `path`: unknown keys, types,
 * durations, sizes, unknown steps and outputs, cycles and hooks, each
 * reported at its file:line:column.  Returns 0, or ZENC_ECONFIG with the
 * located message in zenc_error_last(). */
int zenc__yamlpipe_load(zenc__yamlpipe **out, const char *path);
/* The pipeline built from the file; it belongs to `yp`. */
zenc_pipeline *zenc__yamlpipe_pipeline(zenc__yamlpipe *yp);
/* Checks "STEP.KEY=VALUE" assignments as a run would apply them.
 * Returns 0 or the code of the first that does not apply. */
int zenc__yamlpipe_check_params(zenc__yamlpipe *yp, const char *const *params);
/* Prints the plan of `--dry-run`: steps in the order they can run, what
 * each depends on, its settings and hooks per event, run-level hooks. */
void zenc__yamlpipe_print_plan(zenc__yamlpipe *yp, FILE *f);
/* Frees the pipeline and closes its hook libraries.  NULL is harmless. */
void zenc__yamlpipe_free(zenc__yamlpipe *yp);

/* What a YAML step runs: the payload of each of its zenc_steps, read by
 * zenc__yamlpipe_step(). */
typedef struct zenc__ystep {
	char *shell;
	char **argv;
	char **env; /* "NAME=value", NULL-terminated */
	size_t n_env;
	char *dir;
	zenc_param *fields; /* NULL-terminated, or NULL */
	size_t n_fields;
	char **owned; /* field names and default strings */
	size_t n_owned, cap_owned;
} zenc__ystep;

/* The step cache's keys (yamlcache.c).  A step's `cache` or `sources`
 * (`dir`: the YAML file's folder): 1 when `key` was one of them, 0 when
 * not, -1 for an error in `err`. */
int zenc__ycache_step_key(
	zenc_step *s,
	const char *key,
	const zenc_yaml_node *v,
	const char *dir,
	zenc_buf *err);
/* The pipeline's `cache`: 0 or -1. */
int zenc__ycache_pipeline(
	zenc_pipeline *p, const zenc_yaml_node *root, zenc_buf *err);
/* The plan's lines of a step's cache settings, when the file sets any:
 * `cache` (the step's or the pipeline's) and `sources`. */
void zenc__ycache_print(FILE *f, const zenc_step *s);
/* A loaded step's code, for its cache key: its command and `env`. */
void zenc__ycache_code(zenc_step *s, const zenc__ystep *y);

/* The body of every YAML step (yamlstep.c): runs the payload's command. */
int zenc__yamlpipe_step(zenc_step_context *ctx);

#endif
