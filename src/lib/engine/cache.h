/*
 * The step cache and resuming a run (docs/caching.md).
 *
 * When a step becomes ready, the engine computes its cache key: the
 * pipeline's and step's names, its code (the C function's name and the
 * build id of the object that holds it, or the version string set for
 * it; a YAML step's command, environment and declared source files), its
 * parameters, the checksums of its inputs and the artifact store.  If a
 * completed step with that key exists (or, in a resumed run, the resumed
 * run completed the step with that key), the step is not executed: it is
 * recorded "cached", pointing at the same artifacts, and fires no hook.
 * The decision is the engine's, before any placement, so it is the same
 * for every orchestrator.
 */
#ifndef ZENC_LIB_CACHE_H
#define ZENC_LIB_CACHE_H

#include "engine/exec.h"

/* SHA-256, for cache keys and source files (cache_key.c). */
typedef struct zenc__sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t n;
} zenc__sha256;

void zenc__sha256_init(zenc__sha256 *c);
void zenc__sha256_update(zenc__sha256 *c, const void *data, size_t n);
/* The digest as 64 hex digits and a NUL. */
void zenc__sha256_hex(zenc__sha256 *c, char out[65]);

/* Step `ss` is ready: computes its key into ss->cache_key (NULL when it
 * cannot be computed: a warning, and the step executes). */
void zenc__cache_key(zenc__exec *x, zenc__stepstate *ss);

/* ZENC_CACHE is 0, off, no or false: every run as with --no-cache. */
int zenc__cache_env_off(void);

/* Whether the step may be taken from the cache, as its settings and the
 * pipeline's say (not the run's --no-cache). */
int zenc__cache_enabled(const zenc_step *s);

/* Step `ss` is ready and has not started: when it may be taken from the
 * cache (or from the run resumed), computes its key and, when the step is
 * found there, records it "cached" and completes it.  1 when it did, 0
 * when the step is to be executed.  Its key may then be left to
 * zenc__cache_key_late(). */
int zenc__cache_try(zenc__exec *x, zenc__stepstate *ss);

/* The key of a step that executes and has none yet, for its record.
 * `started`: its process is on its way, and the key is computed only now
 * unless it hashes files the step may change (its declared sources),
 * which must be hashed before it starts.  So the key of a step that
 * cannot be reused costs nothing between two steps. */
void zenc__cache_key_late(zenc__exec *x, zenc__stepstate *ss, int started);

/* `zenc run --resume RUN`: reads run `id` (id, name or prefix), which
 * must be of the same pipeline and not running, so that its completed
 * steps may be reused.  0, or an error code with the error set. */
int zenc__cache_resume_load(zenc__exec *x, const char *id);

/* A Slurm job joins its run (`info`, read from the store): which steps
 * were taken from the cache, and what the run resumed. */
int zenc__cache_join(zenc__exec *x, const zenc__run_info *info);

/* Frees the cache fields of a step's state. */
void zenc__cache_release(zenc__stepstate *ss);

#endif
