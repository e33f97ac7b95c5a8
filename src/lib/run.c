/*
 * Running a pipeline: set-up of a run (stack, store, parameters, name),
 * the choice of its orchestrator from the table below, and handing the
 * run to the engine (engine_run.h) or to an orchestrator that places it
 * elsewhere.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/cache.h"
#include "engine/engine_run.h"
#include "engine/envhooks.h"
#include "orchestrators/orchestrator.h"
#include "alerters/courier.h"
#include "config/runcfg.h"

const char *zenc_run_id(const zenc_run *run)
{
	return run->id;
}

const char *zenc_run_name(const zenc_run *run)
{
	return run->name;
}

const char *zenc_run_pipeline_name(const zenc_run *run)
{
	return run->pipeline;
}

int zenc_run_failed(const zenc_run *run)
{
	return run->failed;
}

int zenc_run_cancelled(const zenc_run *run)
{
	return run->cancelled;
}

void zenc_run_free(zenc_run *run)
{
	if (!run)
		return;
	free(run->name);
	free(run->pipeline);
	free(run);
}

static void exec_release(zenc__exec *x)
{
	size_t i, j;

	if (x->steps) {
		for (i = 0; i < x->p->n_steps; i++) {
			zenc__stepstate *ss = &x->steps[i];
			zenc__params_release(ss);
			free(ss->upstream_json);
			free(ss->log_uri);
			for (j = 0; j < ss->n_arts; j++)
				zenc__artifact_release(&ss->arts[j]);
			free(ss->arts);
			zenc__failure_release(&ss->error);
			zenc__attempt_free(ss->cur);
			zenc__cache_release(ss);
		}
		free(x->steps);
	}
	free(x->resumed_from);
	free(x->run_dir);
	zenc__store_free(x->store);
	zenc__stack_free(x->stack);
}

/* Settings that apply to a step: its own, else the pipeline's, else the
 * run options'. */
static void step_settings(
	zenc__exec *x, zenc__stepstate *ss, const zenc_run_options *o)
{
	zenc_step *s = ss->step;
	zenc_pipeline *p = x->p;

	ss->max_retries = 0;
	ss->delay = 0;
	ss->backoff = 1;
	if (s->retry.set) {
		ss->max_retries = s->retry.max_retries;
		ss->delay = s->retry.delay;
		ss->backoff = s->retry.backoff;
	} else if (o && o->retries >= 0) {
		ss->max_retries = o->retries;
		if (p->retry.set) {
			ss->delay = p->retry.delay;
			ss->backoff = p->retry.backoff;
		}
	} else if (p->retry.set) {
		ss->max_retries = p->retry.max_retries;
		ss->delay = p->retry.delay;
		ss->backoff = p->retry.backoff;
	}
	ss->timeout = s->timeout;
	ss->hook_timeout = s->hook_timeout > 0   ? s->hook_timeout
			   : p->hook_timeout > 0 ? p->hook_timeout
						 : ZENC__DEFAULT_HOOK_TIMEOUT;
}

/*
 * The orchestrators, picked by the flavor of the stack's orchestrator
 * component.  The first is the default (a stack without one runs
 * locally); the first that places attempts on this machine (`start`)
 * places what the engine runs here for a run placed elsewhere.
 */
static const zenc__orchestrator *const orchestrators[] = {
	&zenc__orchestrator_local,
	&zenc__orchestrator_slurm,
};
#define N_ORCHESTRATORS (sizeof(orchestrators) / sizeof(orchestrators[0]))

static int orchestrator_usable(const zenc__orchestrator *o)
{
	return o->version >= 1 && o->version <= ZENC__ORCHESTRATOR_VERSION;
}

const zenc__orchestrator *zenc__orchestrator_for(const char *flavor)
{
	size_t i;

	for (i = 0; flavor && i < N_ORCHESTRATORS; i++)
		if (orchestrator_usable(orchestrators[i]) &&
		    !strcmp(orchestrators[i]->name, flavor))
			return orchestrators[i];
	return orchestrators[0];
}

static const zenc__orchestrator *placement_for(const zenc__orchestrator *o)
{
	size_t i;

	if (o->start)
		return o;
	for (i = 0; i < N_ORCHESTRATORS; i++)
		if (orchestrator_usable(orchestrators[i]) &&
		    orchestrators[i]->start)
			return orchestrators[i];
	return &zenc__orchestrator_local;
}

/* The artifact folder holds what steps wrote: the owner's only.  One
 * made by an older zenc with a wider mode is tightened here, when this
 * user owns it. */
static void tighten_dir(const char *dir)
{
	struct stat st;

	if (dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == geteuid() && (st.st_mode & 077))
		chmod(dir, st.st_mode & 0700);
}

static char *default_run_name(const char *pipeline, double t)
{
	zenc_buf b = ZENC_BUF_INIT;

	zenc_buf_printf(&b, "%s-", pipeline);
	zenc__time_runname(&b, t);
	return zenc_buf_detach(&b);
}

int zenc_pipeline_run(
	zenc_run **out, zenc_pipeline *p, const zenc_run_options *opts)
{
	return zenc__pipeline_run_mode(out, p, opts, NULL);
}

int zenc__pipeline_run_mode(
	zenc_run **out,
	zenc_pipeline *p,
	const zenc_run_options *opts,
	const zenc__run_mode *m)
{
	zenc_run_options defaults = ZENC_RUN_OPTIONS_INIT;
	const zenc_run_options *o = opts ? opts : &defaults;
	zenc__runcfg *cfg = NULL;
	zenc__exec x;
	size_t i;
	int rc, detached = 0;

	*out = NULL;
	memset(&x, 0, sizeof(x));
	x.p = p;
	x.started = zenc__now();
	x.run = zenc__calloc(1, sizeof(*x.run));
	zenc__uuid(x.run->id);
	if (m && m->run_id) {
		/* A job of a Slurm run joins it: same id, so the same
		 * artifact folder and records. */
		if (strlen(m->run_id) != 36) {
			rc = zenc__error_set(
				ZENC_EINVALID, "invalid run id '%s'",
				m->run_id);
			goto fail;
		}
		memcpy(x.run->id, m->run_id, 37);
	}
	x.run->pipeline = zenc__strdup(p->name);

	if ((rc = zenc_pipeline_validate(p)) < 0)
		goto fail;
	x.steps = zenc__calloc(p->n_steps, sizeof(*x.steps));
	for (i = 0; i < p->n_steps; i++) {
		zenc_buf up = ZENC_BUF_INIT;
		size_t j;
		x.steps[i].step = p->steps[i];
		zenc__params_init(&x.steps[i]);
		zenc_buf_putc(&up, '[');
		for (j = 0; j < p->steps[i]->n_deps; j++) {
			if (j)
				zenc_buf_putc(&up, ',');
			zenc_json_str(&up, p->steps[i]->deps[j]->name);
		}
		zenc_buf_putc(&up, ']');
		x.steps[i].upstream_json = zenc_buf_detach(&up);
	}
	x.jobs = o->jobs > 0 ? o->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (x.jobs < 1)
		x.jobs = 1;
	x.isolation = o->isolation;
	x.keep_going = o->keep_going;
	x.quiet = o->quiet;
	x.hook_failure = p->hook_failure;

	/* Configuration file, then --param: the later wins. */
	if (o->config_path) {
		if ((rc = zenc__runcfg_load(&cfg, o->config_path, p)) < 0)
			goto fail;
		if ((rc = zenc__runcfg_apply(cfg, &x)) < 0)
			goto fail;
	}
	for (i = 0; o->params && o->params[i]; i++)
		if ((rc = zenc__params_apply(&x, o->params[i])) < 0)
			goto fail;
	if (o->hook_failure >= 0)
		x.hook_failure = (zenc_hook_failure)o->hook_failure;
	for (i = 0; i < p->n_steps; i++) {
		step_settings(&x, &x.steps[i], o);
		zenc__runcfg_step_settings(cfg, &x.steps[i]);
		zenc__params_json(&x.steps[i]);
	}
	if (!x.run->name)
		x.run->name = o->run_name ? zenc__strdup(o->run_name)
			      : cfg && zenc__runcfg_run_name(cfg)
				      ? zenc__runcfg_expand_name(
						zenc__runcfg_run_name(cfg),
						p->name, x.started)
				      : default_run_name(p->name, x.started);

	/* The environment: stack, store, artifact folder. */
	if ((rc = zenc__stack_load(
		     &x.stack, o->stack ? o->stack : zenc__runcfg_stack(cfg))) <
	    0) {
		rc = rc == ZENC_ENOTFOUND ? ZENC_ENOTFOUND : ZENC_ECONFIG;
		goto fail_env;
	}
	if ((rc = zenc__store_open(
		     &x.store, zenc__stack_store_flavor(x.stack),
		     zenc__stack_store_location(x.stack))) < 0)
		goto fail_env;
	/* A run, as every zenc command, delivers what is due: alerts that
	 * earlier runs left pending go to the store's courier.  Not in a
	 * Slurm job, whose processes end with the job. */
	if (!(m && m->run_id))
		zenc__courier_check(
			x.store, zenc__stack_store_flavor(x.stack),
			zenc__stack_store_location(x.stack));
	x.run_dir = zenc__asprintf(
		"%s/%s", zenc__stack_artifact_path(x.stack), x.run->id);
	if (zenc__mkdir_p(x.run_dir, 0700) < 0) {
		rc = zenc__error_set(
			ZENC_ECONFIG, "cannot create artifact folder '%s': %s",
			x.run_dir, strerror(errno));
		goto fail_env;
	}
	tighten_dir(zenc__stack_artifact_path(x.stack));

	x.orch = zenc__orchestrator_for(
		zenc__stack_orchestrator_flavor(x.stack));
	x.place = placement_for(x.orch);
	if (m && m->run_id) {
		if (!x.orch->join) {
			rc = zenc__error_set(
				ZENC_ECONFIG,
				"the %s orchestrator runs no jobs "
				"to join",
				x.orch->name);
			goto fail_env;
		}
		x.no_cache = m->no_cache || zenc__cache_env_off();
		if ((rc = x.orch->join(&x, m)) < 0)
			goto fail;
		goto joined;
	}
	if (x.orch->check && (rc = x.orch->check(&x)) < 0)
		goto fail_env;
	x.no_cache = (m && m->no_cache) || zenc__cache_env_off();
	if (m && m->resume && (rc = zenc__cache_resume_load(&x, m->resume)) < 0)
		goto fail;

	/* A detached run has no orchestrating process to watch: its last
	 * job ends it. */
	detached = x.orch->run && m && m->detach;
	if ((rc = zenc__engine_begin_run(&x, detached)) < 0)
		goto fail_env;

	if (!x.quiet)
		zenc__info(
			"Initiating a new run for the pipeline: %s.", p->name);
	if (!x.quiet)
		zenc__info(
			"Run name: %s (id %s) on stack %s.", x.run->name,
			x.run->id, zenc_stack_name(x.stack));
	zenc__engine_start_run(&x);
	if (x.orch->run) {
		detached = x.orch->run(&x, o, m) == 1;
	} else {
		detached = 0;
		zenc__engine_run(&x);
	}
	if (detached) {
		if (!x.quiet)
			zenc__info(
				"Run %s submitted; 'zenc runs show %s' "
				"tells how it goes.",
				x.run->name, x.run->id);
		goto joined;
	}
	zenc__engine_end_run(&x);
	if (!x.quiet)
		zenc__log(
			x.run->failed ? ZENC_LOG_ERROR : ZENC_LOG_INFO,
			"Run %s %s in %.3fs.", x.run->name,
			zenc__status_name(zenc__run_status(x.run)),
			zenc__now() - x.started);
	zenc__engine_summary(&x);
joined:
	*out = x.run;
	x.run = NULL;
	exec_release(&x);
	zenc__runcfg_free(cfg);
	return 0;

fail_env:
	if (rc != ZENC_ENOTFOUND && rc != ZENC_ECONFIG && rc != ZENC_ESTORE)
		rc = ZENC_ECONFIG;
fail:
	exec_release(&x);
	zenc__runcfg_free(cfg);
	zenc_run_free(x.run);
	return rc;
}
