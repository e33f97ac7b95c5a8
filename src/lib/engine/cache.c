/*
 * The step cache and resuming a run (cache.h): which ready step is taken
 * from the cache or from the run resumed, instead of executed, and the
 * switches of the public API.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "engine/cache.h"
#include "engine/engine_run.h"

int zenc_step_set_cache_version(zenc_step *s, const char *version)
{
	if (!s)
		return zenc__error_set(ZENC_EINVALID, "no step");
	if (version && !*version)
		return zenc__error_set(
			ZENC_EINVALID, "step %s: empty cache version", s->name);
	free(s->cache_version);
	s->cache_version = version ? zenc__strdup(version) : NULL;
	return 0;
}

int zenc_step_set_cache(zenc_step *s, bool on)
{
	if (!s)
		return zenc__error_set(ZENC_EINVALID, "no step");
	s->cache = on ? 1 : -1;
	return 0;
}

int zenc_pipeline_set_cache(zenc_pipeline *p, bool on)
{
	if (!p)
		return zenc__error_set(ZENC_EINVALID, "no pipeline");
	p->cache = on ? 1 : -1;
	return 0;
}

int zenc__cache_env_off(void)
{
	const char *v = getenv("ZENC_CACHE");

	return v && (!strcmp(v, "0") || !strcasecmp(v, "off") ||
		     !strcasecmp(v, "no") || !strcasecmp(v, "false"));
}

int zenc__cache_enabled(const zenc_step *s)
{
	if (s->cache)
		return s->cache > 0;
	if (s->pipeline && s->pipeline->cache)
		return s->pipeline->cache > 0;
	/* A step without outputs is assumed to act on the world. */
	return s->n_outputs > 0;
}

void zenc__cache_release(zenc__stepstate *ss)
{
	free(ss->cache_key);
	free(ss->cached_from);
	free(ss->resume_key);
	free(ss->resume_run);
	free(ss->resume_from);
	ss->cache_key = ss->cached_from = NULL;
	ss->resume_key = ss->resume_run = ss->resume_from = NULL;
}

/* The outputs that step `ss` recorded in run `run`, if every declared
 * output is there and its file still exists: they become the step's. */
static int reuse_outputs(zenc__exec *x, zenc__stepstate *ss, const char *run)
{
	const zenc_step *s = ss->step;
	zenc__artifact_record *recs = NULL;
	zenc__artifact *arts;
	void *arena = NULL;
	struct stat st;
	size_t n = 0, i, k;
	int ok = 1;

	if (x->store->artifacts_get(x->store, run, s->name, &recs, &n, &arena) <
	    0) {
		zenc__warn(
			"step %s: cannot read the cached outputs: %s", s->name,
			zenc_error_last());
		return 0;
	}
	for (i = 0; ok && i < s->n_outputs; i++) {
		ok = 0;
		for (k = 0; k < n; k++)
			if (!strcmp(recs[k].name, s->outputs[i].name) &&
			    recs[k].uri && stat(recs[k].uri, &st) == 0)
				ok = 1;
	}
	if (!ok) {
		zenc__arena_free(arena);
		return 0;
	}
	arts = zenc__calloc(n + 1, sizeof(*arts));
	for (k = 0; k < n; k++) {
		zenc_type t = ZENC_BYTES;
		if (recs[k].type)
			zenc_type_parse(&t, recs[k].type);
		arts[k].name = zenc__strdup(recs[k].name);
		arts[k].type = t;
		arts[k].uri = zenc__strdup(recs[k].uri);
		arts[k].size = recs[k].size;
		snprintf(
			arts[k].checksum, sizeof(arts[k].checksum), "%s",
			recs[k].checksum ? recs[k].checksum : "");
	}
	zenc__arena_free(arena);
	for (k = 0; k < ss->n_arts; k++)
		zenc__artifact_release(&ss->arts[k]);
	free(ss->arts);
	ss->arts = arts;
	ss->n_arts = n;
	return 1;
}

int zenc__cache_try(zenc__exec *x, zenc__stepstate *ss)
{
	const zenc_step *s = ss->step;
	char run[37], from[37];
	size_t i;

	/* Everything downstream of a step executed in this run executes. */
	for (i = 0; i < s->n_deps; i++)
		if (!x->steps[s->deps[i]->index].cached_from)
			return 0;
	if (!x->resumed_from &&
	    (x->no_cache || !zenc__cache_enabled(s) || !x->store->cache_lookup))
		return 0;
	zenc__cache_key(x, ss);
	if (!ss->cache_key)
		return 0;
	if (x->resumed_from) {
		/* Resuming is an explicit request: a step the run resumed
		 * completed with the same key is reused, whatever its
		 * cache setting; nothing else is taken from the cache. */
		if (!ss->resume_key || strcmp(ss->resume_key, ss->cache_key))
			return 0;
		snprintf(run, sizeof(run), "%s", ss->resume_run);
		snprintf(from, sizeof(from), "%s", ss->resume_from);
	} else if (
		x->store->cache_lookup(x->store, ss->cache_key, run, from) <
		0) {
		return 0;
	}
	if (!reuse_outputs(x, ss, run))
		return 0;
	free(ss->cached_from);
	ss->cached_from = zenc__strdup(from[0] ? from : run);
	zenc__engine_cached(x, ss);
	return 1;
}

void zenc__cache_key_late(zenc__exec *x, zenc__stepstate *ss, int started)
{
	/* Sources are hashed before the start, anything else after. */
	int before = ss->step->n_cache_sources > 0;

	if (!ss->cache_key && !!started != before)
		zenc__cache_key(x, ss);
}

static const zenc__step_info *find_step(
	const zenc__run_info *info, const char *name)
{
	size_t i;

	for (i = 0; i < info->n_steps; i++)
		if (info->steps[i].rec.name &&
		    !strcmp(info->steps[i].rec.name, name))
			return &info->steps[i];
	return NULL;
}

static void load_resumed(zenc__exec *x, const zenc__run_info *info)
{
	size_t i;

	free(x->resumed_from);
	x->resumed_from = zenc__strdup(info->rec.id);
	for (i = 0; i < x->p->n_steps; i++) {
		zenc__stepstate *ss = &x->steps[i];
		const zenc__step_info *si = find_step(info, ss->step->name);
		if (!si || !si->rec.cache_key || !si->rec.status ||
		    (strcmp(si->rec.status, "completed") &&
		     strcmp(si->rec.status, "cached")))
			continue;
		ss->resume_key = zenc__strdup(si->rec.cache_key);
		ss->resume_run = zenc__strdup(info->rec.id);
		ss->resume_from = zenc__strdup(
			si->rec.cached_from ? si->rec.cached_from
					    : info->rec.id);
	}
}

int zenc__cache_resume_load(zenc__exec *x, const char *id)
{
	zenc__run_info info;
	int rc;

	memset(&info, 0, sizeof(info));
	if ((rc = x->store->run_show(x->store, id, &info)) < 0) {
		if (rc == ZENC_ENOTFOUND)
			rc = zenc__error_set(
				ZENC_ENOTFOUND, "--resume: no run '%s'", id);
		goto done;
	}
	if (!info.rec.pipeline || strcmp(info.rec.pipeline, x->p->name)) {
		rc = zenc__error_set(
			ZENC_EINVALID,
			"--resume: run '%s' is a run of pipeline '%s', not "
			"'%s'",
			id, info.rec.pipeline ? info.rec.pipeline : "?",
			x->p->name);
		goto done;
	}
	if (info.rec.status && !strcmp(info.rec.status, "running")) {
		rc = zenc__error_set(
			ZENC_ESTATE, "--resume: run '%s' is still running", id);
		goto done;
	}
	load_resumed(x, &info);
done:
	zenc__run_info_free(&info);
	return rc;
}

int zenc__cache_join(zenc__exec *x, const zenc__run_info *info)
{
	size_t i;

	for (i = 0; i < x->p->n_steps; i++) {
		zenc__stepstate *ss = &x->steps[i];
		const zenc__step_info *si = find_step(info, ss->step->name);
		if (si && si->rec.cached_from && si->rec.status &&
		    !strcmp(si->rec.status, "cached")) {
			free(ss->cached_from);
			ss->cached_from = zenc__strdup(si->rec.cached_from);
		}
	}
	if (info->rec.resumed_from)
		return zenc__cache_resume_load(x, info->rec.resumed_from);
	return 0;
}
