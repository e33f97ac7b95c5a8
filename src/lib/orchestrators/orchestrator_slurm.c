/*
 * The Slurm orchestrator (docs/slurm.md): each step of a run is one Slurm
 * job, and the whole DAG is submitted up front with afterok dependencies.
 * A job runs the same program's hidden `__step` subcommand, which joins
 * the run, loads its inputs from the store and has the engine run that
 * one step on the job's node (so hooks, deadlines, continuations of dead
 * processes and retries of raised failures behave as on one machine).
 *
 * The client follows the jobs with one squeue per poll.  A job that Slurm
 * killed (time limit, memory, scancel, node failure) never ran its
 * failure hooks: the client hands the attempt to the engine, which runs
 * them on this machine and records the failure, and resubmits the step
 * (and the descendants Slurm cancelled with it) while it has retries
 * left.  With --detach, a last job (afterany on all) runs `__finish`,
 * which does the same settling without retries and ends the run.
 * Talking to Slurm itself is slurm_cmd.c's.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/cache.h"
#include "engine/engine_run.h"
#include "engine/envhooks.h"
#include "orchestrators/orchestrator.h"
#include "orchestrators/slurm_cmd.h"

#define OURS_FAILED 1      /* the run failed: not started, so skipped */
#define OURS_INTERRUPTED 2 /* interrupted or cancelled */

typedef struct slurm {
	zenc__exec *x;
	const zenc_run_options *o;
	zenc__slurm_cfg cfg;
	char **entry; /* argv prefix that runs this program */
	zenc__sjob *st;
	size_t *topo;
	int interrupted; /* zenc__interrupted or `zenc runs cancel` */
	int no_retry;    /* __finish: nobody is left to resubmit */
	double contact;  /* when slurmctld last answered */
} slurm;

/* ---- records */

static void skip_step(slurm *sl, size_t i, const char *why)
{
	sl->st[i].settled = 1;
	sl->st[i].need_submit = 0;
	/* Written at once: the client may be gone before a batch. */
	zenc__engine_skip(sl->x, &sl->x->steps[i], why, 1);
}

/*
 * Step `i`'s attempt `attempt` was killed by Slurm (or its job ended
 * without recording it): the engine runs its on_retry or on_failure hooks
 * and its on_end hooks here, and records the attempt.  Returns 1 when the
 * step will be retried.
 */
static int settle_killed(
	slurm *sl,
	size_t i,
	int attempt,
	const char *type,
	const char *msg,
	int retry_ok)
{
	return zenc__engine_attempt_lost(
		sl->x, &sl->x->steps[i], attempt, type, msg, retry_ok);
}

/* ---- submission */

/* The program that runs a step: the entry argv with /proc/self/exe made
 * absolute, so that the job runs this very binary. */
static char **make_entry(const zenc__run_mode *m)
{
	static const char *const self[] = {"/proc/self/exe", NULL};
	const char *const *e = m && m->entry ? m->entry : self;
	char **v = NULL;
	size_t n = 0, cap = 0, i;

	for (i = 0; e[i]; i++) {
		if (!strcmp(e[i], "/proc/self/exe")) {
			char *p = realpath("/proc/self/exe", NULL);
			zenc__strv_push(&v, &n, &cap, p ? p : e[i]);
			free(p);
		} else {
			zenc__strv_push(&v, &n, &cap, e[i]);
		}
	}
	return v;
}

/* The options every job passes on: the same stack, configuration,
 * parameters and settings as the client's run. */
static void common_args(slurm *sl, char ***v, size_t *n, size_t *cap)
{
	const zenc_run_options *o = sl->o;
	char num[32];
	size_t i;

	zenc__strv_push(v, n, cap, "--run-id");
	zenc__strv_push(v, n, cap, sl->x->run->id);
	zenc__strv_push(v, n, cap, "--stack");
	zenc__strv_push(v, n, cap, zenc_stack_name(sl->x->stack));
	if (o && o->config_path) {
		char *p = realpath(o->config_path, NULL);
		zenc__strv_push(v, n, cap, "--config");
		zenc__strv_push(v, n, cap, p ? p : o->config_path);
		free(p);
	}
	for (i = 0; o && o->params && o->params[i]; i++) {
		zenc__strv_push(v, n, cap, "--param");
		zenc__strv_push(v, n, cap, o->params[i]);
	}
	if (o && o->retries >= 0) {
		snprintf(num, sizeof(num), "%d", o->retries);
		zenc__strv_push(v, n, cap, "--retries");
		zenc__strv_push(v, n, cap, num);
	}
	if (o && o->hook_failure >= 0) {
		zenc__strv_push(v, n, cap, "--hook-failure");
		zenc__strv_push(
			v, n, cap,
			o->hook_failure == ZENC_HOOK_FAILURE_FAIL ? "fail"
								  : "warn");
	}
	if (sl->x->isolation == ZENC_ISOLATION_NONE) {
		zenc__strv_push(v, n, cap, "--isolation");
		zenc__strv_push(v, n, cap, "none");
	}
	if (sl->x->no_cache)
		zenc__strv_push(v, n, cap, "--no-cache");
}

/* Resources of a step's job: a time limit that holds every attempt (the
 * supervisor in the job enforces the exact timeout) and its memory. */
static void step_resources(
	zenc__stepstate *ss,
	int first_attempt,
	char ***v,
	size_t *n,
	size_t *cap)
{
	char opt[64];
	int k;

	zenc__strv_push(v, n, cap, "--cpus-per-task=1");
	if (ss->timeout > 0) {
		double secs = 60; /* set-up and hooks */
		long minutes;
		for (k = first_attempt; k <= ss->max_retries + 1; k++) {
			secs += ss->timeout;
			if (k > first_attempt)
				secs += ss->delay * pow(ss->backoff, k - 2);
		}
		minutes = (long)ceil(secs / 60);
		snprintf(
			opt, sizeof(opt), "--time=%ld",
			minutes < 1 ? 1 : minutes);
		zenc__strv_push(v, n, cap, opt);
	}
	if (ss->step->memory_limit) {
		size_t mb = (ss->step->memory_limit + (1 << 20) - 1) >> 20;
		snprintf(opt, sizeof(opt), "--mem=%zu", mb);
		zenc__strv_push(v, n, cap, opt);
	}
}

static int submit_step(
	slurm *sl,
	size_t i,
	const char *dependency,
	double delay,
	zenc_buf *why)
{
	zenc__exec *x = sl->x;
	zenc__stepstate *ss = &x->steps[i];
	zenc__sjob *j = &sl->st[i];
	char **cmd = NULL, **extra = NULL;
	size_t n = 0, cap = 0, ne = 0, cape = 0, k;
	char *name, *comment, *outdir, num[32];
	int rc;

	for (k = 0; sl->entry[k]; k++)
		zenc__strv_push(&cmd, &n, &cap, sl->entry[k]);
	zenc__strv_push(&cmd, &n, &cap, "__step");
	zenc__strv_push(&cmd, &n, &cap, "--step");
	zenc__strv_push(&cmd, &n, &cap, ss->step->name);
	snprintf(num, sizeof(num), "%d", j->first_attempt);
	zenc__strv_push(&cmd, &n, &cap, "--attempt");
	zenc__strv_push(&cmd, &n, &cap, num);
	common_args(sl, &cmd, &n, &cap);
	step_resources(ss, j->first_attempt, &extra, &ne, &cape);
	if (delay > 0) {
		snprintf(
			num, sizeof(num), "--begin=now+%ld", (long)ceil(delay));
		zenc__strv_push(&extra, &ne, &cape, num);
	}
	name = zenc__asprintf("zenc-%.8s-%s", x->run->id, ss->step->name);
	comment = zenc__asprintf("%s/%s", x->run->id, ss->step->name);
	outdir = zenc__asprintf("%s/%s", x->run_dir, ss->step->name);
	if (zenc__mkdir_p(outdir, 0755) < 0) {
		zenc_buf_printf(
			why, "cannot create '%s': %s", outdir, strerror(errno));
		rc = -1;
	} else {
		rc = zenc__slurm_sbatch(
			&sl->cfg, name, comment, outdir, dependency,
			(const char *const *)extra, cmd, &j->job, why);
	}
	if (rc == 0) {
		j->need_submit = 0;
		j->state[0] = '\0';
		j->reason[0] = '\0';
		j->seen_running = 0;
		j->ours = 0;
		j->unknown = 0;
		if (!x->quiet)
			zenc__info(
				"Step %s submitted as Slurm job %ld%s%s.",
				ss->step->name, j->job,
				dependency && *dependency ? ", " : "",
				dependency ? dependency : "");
	}
	free(name);
	free(comment);
	free(outdir);
	zenc__strv_free(cmd);
	zenc__strv_free(extra);
	return rc;
}

/* Submits every step that needs it and whose upstream steps are all
 * completed or submitted, in dependency order. */
static void submit_pending(slurm *sl, double delay_for, size_t delayed)
{
	zenc__exec *x = sl->x;
	size_t t, d;

	for (t = 0; t < x->p->n_steps; t++) {
		size_t i = sl->topo[t];
		zenc__stepstate *ss = &x->steps[i];
		zenc_buf dep = ZENC_BUF_INIT, why = ZENC_BUF_INIT;
		int blocked = 0, doomed = 0;

		if (!sl->st[i].need_submit)
			continue;
		for (d = 0; d < ss->step->n_deps; d++) {
			size_t u = ss->step->deps[d]->index;
			if (x->steps[u].status == ZENC__ST_COMPLETED)
				continue;
			if (x->steps[u].status == ZENC__ST_FAILED ||
			    x->steps[u].status == ZENC__ST_SKIPPED) {
				doomed = 1;
				break;
			}
			if (sl->st[u].need_submit || !sl->st[u].job) {
				blocked = 1;
				break;
			}
			zenc_buf_puts(&dep, dep.len ? ":" : "afterok:");
			zenc_buf_printf(&dep, "%ld", sl->st[u].job);
		}
		if (doomed) {
			skip_step(sl, i, "an upstream step failed");
		} else if (!blocked && sl->interrupted) {
			skip_step(sl, i, "the run was interrupted");
		} else if (!blocked && x->stop && i != delayed) {
			/* As locally: after a failure nothing new starts,
			 * but a step waiting for its retry still gets it. */
			skip_step(sl, i, "the run failed");
		} else if (
			!blocked &&
			submit_step(
				sl, i, dep.ptr, i == delayed ? delay_for : 0,
				&why) < 0) {
			ss->attempt = sl->st[i].first_attempt;
			if (!ss->started)
				ss->started = zenc__now();
			settle_killed(
				sl, i, ss->attempt, "SubmitError",
				zenc_buf_cstr(&why), 0);
			sl->st[i].settled = 1;
			sl->st[i].need_submit = 0;
		}
		zenc_buf_release(&dep);
		zenc_buf_release(&why);
	}
}

/* ---- following the jobs */

static const zenc__step_info *find_step(
	const zenc__run_info *info, const char *name)
{
	size_t i;

	for (i = 0; i < info->n_steps; i++)
		if (!strcmp(info->steps[i].rec.name, name))
			return &info->steps[i];
	return NULL;
}

/* Descendants of step `i` whose jobs never started are cancelled and
 * submitted again behind the retried step. */
static void resubmit_with_descendants(slurm *sl, size_t i, double delay)
{
	zenc__exec *x = sl->x;
	long *ids = zenc__calloc(x->p->n_steps + 1, sizeof(*ids));
	char *mark = zenc__calloc(x->p->n_steps + 1, 1);
	size_t t, d, n = 0;

	mark[i] = 1;
	for (t = 0; t < x->p->n_steps; t++) {
		size_t k = sl->topo[t];
		zenc_step *s = x->steps[k].step;
		if (mark[k])
			continue;
		for (d = 0; d < s->n_deps; d++)
			if (mark[s->deps[d]->index])
				mark[k] = 1;
		if (!mark[k] || sl->st[k].settled)
			continue;
		if (sl->st[k].job && !zenc__slurm_final_state(sl->st[k].state))
			ids[n++] = sl->st[k].job;
		sl->st[k].job = 0;
		sl->st[k].need_submit = 1;
	}
	zenc__slurm_scancel(ids, n);
	sl->st[i].need_submit = 1;
	sl->st[i].job = 0;
	sl->st[i].first_attempt = x->steps[i].attempt + 1;
	submit_pending(sl, delay, i);
	free(ids);
	free(mark);
}

/* The failure of a step that Slurm ended, as a type and a message. */
static void killed_error(const zenc__sjob *j, const char **type, zenc_buf *msg)
{
	const char *s = j->state;

	if (!strcmp(s, "TIMEOUT") || !strcmp(s, "DEADLINE")) {
		*type = "Timeout";
		zenc_buf_printf(
			msg, "Slurm job %ld reached its time limit", j->job);
	} else if (!strcmp(s, "OUT_OF_MEMORY")) {
		*type = "OutOfMemory";
		zenc_buf_printf(msg, "Slurm job %ld ran out of memory", j->job);
	} else if (
		!strcmp(s, "CANCELLED") || !strcmp(s, "PREEMPTED") ||
		!strcmp(s, "REVOKED")) {
		*type = "Cancelled";
		if (j->ours == OURS_INTERRUPTED)
			zenc_buf_printf(
				msg,
				"the run was interrupted (Slurm "
				"job %ld cancelled)",
				j->job);
		else
			zenc_buf_printf(
				msg, "Slurm job %ld was %s", j->job,
				!strcmp(s, "CANCELLED") ? "cancelled"
							: "preempted");
	} else if (!strcmp(s, "NODE_FAIL") || !strcmp(s, "BOOT_FAIL")) {
		*type = "NodeFailure";
		zenc_buf_printf(
			msg, "the node of Slurm job %ld failed (%s)", j->job,
			s);
	} else if (!strcmp(s, "LOST")) {
		*type = "Lost";
		zenc_buf_printf(msg, "Slurm no longer knows job %ld", j->job);
	} else {
		*type = "ExitCode";
		zenc_buf_printf(
			msg,
			"Slurm job %ld ended (%s) without "
			"recording the step; see its slurm.%ld.err",
			j->job, s, j->job);
	}
}

static void stop_pending(slurm *sl, int why);

/* Slurm killed step `i`'s job, or the job died before it could record
 * the outcome: its failure hooks run here, then a retry or the end. */
static void settle_failure(slurm *sl, size_t i, const zenc__step_info *si)
{
	zenc__exec *x = sl->x;
	zenc__stepstate *ss = &x->steps[i];
	zenc__sjob *j = &sl->st[i];
	zenc_buf msg = ZENC_BUF_INIT;
	const char *type;
	int attempt = j->first_attempt, retry;

	if (si && si->rec.attempts > attempt)
		attempt = si->rec.attempts;
	if (si && si->rec.started > 0)
		ss->started = si->rec.started;
	else if (!ss->started)
		ss->started = zenc__now();
	free(ss->log_uri);
	ss->log_uri = si ? zenc__strdup(si->rec.log_uri) : NULL;
	killed_error(j, &type, &msg);
	/* No retry for what the client cancelled itself, nor when nobody is
	 * left to resubmit (__finish). */
	retry = settle_killed(
		sl, i, attempt, type, msg.ptr,
		!sl->no_retry && !sl->interrupted && !j->ours);
	zenc_buf_release(&msg);
	if (retry) {
		double wait = zenc__engine_retry_wait(ss, attempt);
		zenc__info(
			"Step %s failed on attempt %d; retrying in %.3gs "
			"as a new Slurm job.",
			ss->step->name, attempt, wait);
		resubmit_with_descendants(sl, i, wait);
		return;
	}
	j->settled = 1;
	if (zenc__engine_step_failed(x))
		stop_pending(sl, OURS_FAILED);
}

/* Step `i`'s job has ended: what happened to the step? */
static void settle(slurm *sl, size_t i, const zenc__run_info *info)
{
	zenc__exec *x = sl->x;
	zenc__stepstate *ss = &x->steps[i];
	zenc__sjob *j = &sl->st[i];
	const zenc__step_info *si = find_step(info, ss->step->name);
	zenc__status rs = zenc__status_parse(si ? si->rec.status : NULL);
	int started;

	/* A step the job took from the cache made no attempt. */
	if (rs == ZENC__STATUS_CACHED ||
	    ((rs == ZENC__STATUS_COMPLETED || rs == ZENC__STATUS_FAILED ||
	      rs == ZENC__STATUS_SKIPPED) &&
	     si->rec.attempts >= j->first_attempt)) {
		/* The job recorded the outcome itself. */
		j->settled = 1;
		if (zenc__engine_adopt(x, ss, &si->rec))
			stop_pending(sl, OURS_FAILED);
		return;
	}
	started = j->seen_running || strcmp(j->state, "CANCELLED") ||
		  (si && si->rec.attempts >= j->first_attempt);
	if (!started) {
		size_t d;
		int upstream_failed = 0;
		for (d = 0; d < ss->step->n_deps; d++) {
			zenc__step_status us =
				x->steps[ss->step->deps[d]->index].status;
			if (us == ZENC__ST_FAILED || us == ZENC__ST_SKIPPED)
				upstream_failed = 1;
		}
		if (upstream_failed ||
		    !strcmp(j->reason, "DependencyNeverSatisfied")) {
			skip_step(sl, i, "an upstream step failed");
		} else if (j->ours == OURS_FAILED) {
			skip_step(sl, i, "the run failed");
		} else if (j->ours == OURS_INTERRUPTED || sl->interrupted) {
			skip_step(sl, i, "the run was interrupted");
		} else {
			/* Cancelled while it waited: nothing ran, but it
			 * is a failure all the same. */
			started = 1;
		}
		if (!started)
			return;
	}
	settle_failure(sl, i, si);
}

/* Cancels the jobs that have not started (the run failed: they are
 * skipped) or every job (interrupted). */
static void stop_pending(slurm *sl, int why)
{
	zenc__exec *x = sl->x;
	long *ids = zenc__calloc(x->p->n_steps + 1, sizeof(*ids));
	size_t i, n = 0;

	if (why == OURS_FAILED)
		x->stop = 1;
	for (i = 0; i < x->p->n_steps; i++) {
		zenc__sjob *j = &sl->st[i];
		if (j->settled)
			continue;
		if (j->need_submit) {
			j->need_submit = 0;
			skip_step(
				sl, i,
				why == OURS_FAILED ? "the run failed"
						   : "the run was interrupted");
			continue;
		}
		if (!j->job || zenc__slurm_final_state(j->state) || j->ours)
			continue;
		if (why == OURS_FAILED &&
		    (j->seen_running || strcmp(j->state, "PENDING")))
			continue;
		j->ours = why;
		ids[n++] = j->job;
	}
	zenc__slurm_scancel(ids, n);
	free(ids);
}

static int cancel_marked(slurm *sl)
{
	struct stat st;
	char *path = zenc__asprintf(
		"%s/%s", sl->x->run_dir, ZENC__SLURM_CANCEL_MARK);
	int r = stat(path, &st) == 0;

	free(path);
	return r;
}

/* Steps in an order where every step comes after its upstream steps. */
static size_t *topo_order(zenc_pipeline *p)
{
	size_t *order = zenc__calloc(p->n_steps + 1, sizeof(*order));
	char *done = zenc__calloc(p->n_steps + 1, 1);
	size_t n = 0, i, d;
	int progress = 1;

	while (n < p->n_steps && progress) {
		progress = 0;
		for (i = 0; i < p->n_steps; i++) {
			int ready = !done[i];
			for (d = 0; ready && d < p->steps[i]->n_deps; d++)
				if (!done[p->steps[i]->deps[d]->index])
					ready = 0;
			if (ready) {
				done[i] = 1;
				order[n++] = i;
				progress = 1;
			}
		}
	}
	free(done);
	return order;
}

static void slurm_release(slurm *sl)
{
	zenc__slurm_cfg_release(&sl->cfg);
	zenc__strv_free(sl->entry);
	free(sl->st);
	free(sl->topo);
}

static int slurm_init(
	slurm *sl,
	zenc__exec *x,
	const zenc_run_options *o,
	const zenc__run_mode *m)
{
	size_t i;
	int rc;

	memset(sl, 0, sizeof(*sl));
	sl->x = x;
	sl->o = o;
	if ((rc = zenc__slurm_cfg_load(&sl->cfg, x->stack)) < 0)
		return rc;
	sl->entry = make_entry(m);
	sl->st = zenc__calloc(x->p->n_steps + 1, sizeof(*sl->st));
	sl->topo = topo_order(x->p);
	for (i = 0; i < x->p->n_steps; i++)
		sl->st[i].first_attempt = 1;
	sl->contact = zenc__now();
	return 0;
}

/*
 * slurmctld has not answered for `silent` seconds, the orchestrator's
 * unreachable_timeout: every step whose job was placed fails with
 * OrchestratorUnreachable (its failure hooks run here), every other
 * unsettled step is skipped, and the run ends failed.  Jobs that Slurm
 * still holds may run when slurmctld comes back; nothing here can
 * withdraw them.
 */
static void give_up(slurm *sl, double silent)
{
	zenc__exec *x = sl->x;
	zenc_buf msg = ZENC_BUF_INIT;
	size_t t;

	zenc__log(
		ZENC_LOG_ERROR,
		"slurm: slurmctld has not answered for %.0f s (the "
		"orchestrator's unreachable_timeout); giving up on the run",
		silent);
	sl->no_retry = 1;
	x->stop = 1;
	x->run->failed = 1;
	for (t = 0; t < x->p->n_steps; t++) {
		size_t i = sl->topo[t];
		zenc__sjob *j = &sl->st[i];
		zenc__stepstate *ss = &x->steps[i];
		size_t d;
		int upstream_failed = 0;

		if (j->settled)
			continue;
		/* A job waiting for an upstream step that did not complete
		 * never started (afterok). */
		for (d = 0; d < ss->step->n_deps; d++) {
			zenc__step_status us =
				x->steps[ss->step->deps[d]->index].status;
			if (us != ZENC__ST_COMPLETED)
				upstream_failed = 1;
		}
		if (upstream_failed) {
			skip_step(sl, i, "an upstream step failed");
			continue;
		}
		if (!j->job || j->need_submit) {
			skip_step(sl, i, "Slurm is unreachable");
			continue;
		}
		zenc_buf_clear(&msg);
		zenc_buf_printf(
			&msg,
			"slurmctld did not answer for %.0f s; what became of "
			"Slurm job %ld is unknown",
			silent, j->job);
		ss->attempt = j->first_attempt;
		if (!ss->started)
			ss->started = zenc__now();
		settle_killed(
			sl, i, ss->attempt, "OrchestratorUnreachable", msg.ptr,
			0);
		j->settled = 1;
		zenc__engine_step_failed(x);
	}
	zenc_buf_release(&msg);
}

/* Polls until every step is settled. */
static void follow(slurm *sl)
{
	zenc__exec *x = sl->x;
	size_t i, t;

	for (;;) {
		zenc__run_info info;
		int pending = 0, ended = 0;

		if (!sl->interrupted && !sl->no_retry &&
		    (zenc__interrupted || cancel_marked(sl))) {
			sl->interrupted = 1;
			zenc__engine_cancelled(x);
			zenc__warn(
				"%s: cancelling the run's Slurm jobs",
				zenc__interrupted ? "interrupted"
						  : "the run was cancelled");
			stop_pending(sl, OURS_INTERRUPTED);
		}
		for (i = 0; i < x->p->n_steps; i++)
			if (!sl->st[i].settled)
				pending = 1;
		if (!pending)
			break;
		if (zenc__slurm_poll_jobs(sl->st, x->p->n_steps) == 0) {
			sl->contact = zenc__now();
		} else if (zenc__now() - sl->contact >= sl->cfg.unreachable) {
			give_up(sl, zenc__now() - sl->contact);
			break;
		}
		for (i = 0; i < x->p->n_steps; i++) {
			zenc__sjob *j = &sl->st[i];
			if (j->settled || !j->job)
				continue;
			if (j->unknown > ZENC__SLURM_MAX_UNKNOWN) {
				snprintf(j->state, sizeof(j->state), "LOST");
				j->unknown = 0;
			}
			if (!strcmp(j->state, "RUNNING") &&
			    j->seen_running == 1) {
				j->seen_running = 2;
				if (!x->quiet)
					zenc__info(
						"Step %s has started "
						"(Slurm job %ld).",
						x->steps[i].step->name, j->job);
			}
			if (zenc__slurm_final_state(j->state) ||
			    !strcmp(j->state, "LOST"))
				ended = 1;
		}
		if (ended) {
			memset(&info, 0, sizeof(info));
			if (x->store->run_show(x->store, x->run->id, &info) < 0)
				zenc__warn(
					"cannot read the run's records: "
					"%s",
					zenc_error_last());
			for (t = 0; t < x->p->n_steps; t++) {
				zenc__sjob *j = &sl->st[sl->topo[t]];
				if (j->settled || !j->job ||
				    (!zenc__slurm_final_state(j->state) &&
				     strcmp(j->state, "LOST")))
					continue;
				settle(sl, sl->topo[t], &info);
			}
			zenc__run_info_free(&info);
			continue;
		}
		zenc__sleep(sl->cfg.poll);
	}
	for (i = 0; i < x->p->n_steps; i++)
		if (x->steps[i].status == ZENC__ST_FAILED ||
		    x->steps[i].status == ZENC__ST_SKIPPED)
			x->run->failed = 1;
}

/* Submits the run's steps as Slurm jobs and follows them to the end;
 * returns 1 when it returned at once after submission (detach). */
static int slurm_run(
	zenc__exec *x, const zenc_run_options *o, const zenc__run_mode *m)
{
	slurm sl;
	size_t i;
	int rc = 0;

	if (slurm_init(&sl, x, o, m) < 0) {
		zenc__log(ZENC_LOG_ERROR, "slurm: %s", zenc_error_last());
		x->run->failed = 1;
		return 0;
	}
	for (i = 0; i < x->p->n_steps; i++)
		sl.st[i].need_submit = 1;
	submit_pending(&sl, 0, (size_t)-1);
	if (m && m->detach) {
		/* The last job settles what Slurm killed and ends the run. */
		char **cmd = NULL;
		long *ids = zenc__calloc(x->p->n_steps + 1, sizeof(*ids));
		size_t n = 0, cap = 0, k, nid = 0;
		zenc_buf dep = ZENC_BUF_INIT, jobs = ZENC_BUF_INIT;
		zenc_buf why = ZENC_BUF_INIT;
		char *name, *comment;
		long job = 0;

		for (k = 0; sl.entry[k]; k++)
			zenc__strv_push(&cmd, &n, &cap, sl.entry[k]);
		zenc__strv_push(&cmd, &n, &cap, "__finish");
		for (i = 0; i < x->p->n_steps; i++) {
			if (!sl.st[i].job)
				continue;
			ids[nid++] = sl.st[i].job;
			zenc_buf_puts(&dep, dep.len ? ":" : "afterany:");
			zenc_buf_printf(&dep, "%ld", sl.st[i].job);
			zenc_buf_printf(
				&jobs, "%s%s=%ld", jobs.len ? "," : "",
				x->steps[i].step->name, sl.st[i].job);
		}
		zenc__strv_push(&cmd, &n, &cap, "--slurm-jobs");
		zenc__strv_push(&cmd, &n, &cap, zenc_buf_cstr(&jobs));
		common_args(&sl, &cmd, &n, &cap);
		name = zenc__asprintf("zenc-%.8s-__finish", x->run->id);
		comment = zenc__asprintf("%s/__finish", x->run->id);
		if (zenc__slurm_sbatch(
			    &sl.cfg, name, comment, x->run_dir, dep.ptr, NULL,
			    cmd, &job, &why) < 0) {
			zenc__log(
				ZENC_LOG_ERROR,
				"cannot submit the job that ends the run: "
				"%s; following the run here instead",
				zenc_buf_cstr(&why));
		} else {
			rc = 1;
			if (!x->quiet)
				zenc__info("Slurm job %ld ends the run.", job);
		}
		free(name);
		free(comment);
		free(ids);
		zenc__strv_free(cmd);
		zenc_buf_release(&dep);
		zenc_buf_release(&jobs);
		zenc_buf_release(&why);
		if (rc == 1)
			goto done;
	}
	follow(&sl);
done:
	slurm_release(&sl);
	return rc;
}

/* ---- inside the jobs */

/* Joins the run of m->run_id (name, start time from the store). */
static int join_run(zenc__exec *x, const zenc__run_mode *m)
{
	zenc__run_info info;
	const zenc__step_info *si;
	size_t i;
	int rc;

	memset(&info, 0, sizeof(info));
	if ((rc = x->store->run_show(x->store, m->run_id, &info)) < 0)
		return rc == ZENC_ENOTFOUND ? zenc__error_set(
						      ZENC_ECONFIG,
						      "unknown run '%s' in "
						      "the metadata store",
						      m->run_id)
					    : rc;
	if (m->step && info.rec.status && strcmp(info.rec.status, "running")) {
		/* The client gave up on the run (slurmctld unreachable) or
		 * it was ended otherwise: a late job adds nothing to it. */
		rc = zenc__error_set(
			ZENC_ECONFIG, "run '%s' has already ended (%s)",
			m->run_id, info.rec.status);
		zenc__run_info_free(&info);
		return rc;
	}
	/* Which steps came from the cache, and what the run resumed. */
	if ((rc = zenc__cache_join(x, &info)) < 0) {
		zenc__run_info_free(&info);
		return rc;
	}
	free(x->run->name);
	x->run->name = zenc__strdup(info.rec.name);
	if (info.rec.started > 0)
		x->started = info.rec.started;
	for (i = 0; m->step && i < x->p->n_steps; i++) {
		si = find_step(&info, x->steps[i].step->name);
		if (si && si->rec.started > 0)
			x->steps[i].started = si->rec.started;
	}
	zenc__run_info_free(&info);
	return 0;
}

/* Upstream step `d`'s artifacts, from the store, for the step's inputs. */
static int load_artifacts(zenc__exec *x, zenc__stepstate *ds)
{
	zenc__artifact_record *recs = NULL;
	void *arena = NULL;
	size_t n = 0, k;
	int rc;

	if ((rc = x->store->artifacts_get(
		     x->store, x->run->id, ds->step->name, &recs, &n, &arena)) <
	    0)
		return rc;
	ds->arts = zenc__calloc(n + 1, sizeof(*ds->arts));
	for (k = 0; k < n; k++) {
		zenc__artifact *a = &ds->arts[k];
		zenc_type t = ZENC_BYTES;
		a->name = zenc__strdup(recs[k].name);
		if (recs[k].type)
			zenc_type_parse(&t, recs[k].type);
		a->type = t;
		a->uri = zenc__strdup(recs[k].uri);
		a->size = recs[k].size;
		snprintf(
			a->checksum, sizeof(a->checksum), "%s",
			recs[k].checksum ? recs[k].checksum : "");
	}
	ds->n_arts = n;
	zenc__arena_free(arena);
	return 0;
}

/* Inside a job: runs step m->step of the joined run. */
static int job_step(zenc__exec *x, const zenc__run_mode *m)
{
	zenc__stepstate *target = NULL;
	size_t i, d;
	int rc;

	for (i = 0; i < x->p->n_steps; i++)
		if (!strcmp(x->steps[i].step->name, m->step))
			target = &x->steps[i];
	if (!target)
		return zenc__error_set(
			ZENC_ENOTFOUND, "pipeline '%s' has no step '%s'",
			x->p->name, m->step);
	for (d = 0; d < target->step->n_deps; d++) {
		zenc__stepstate *ds = &x->steps[target->step->deps[d]->index];
		if ((rc = load_artifacts(x, ds)) < 0)
			return rc;
	}
	/* The engine runs it here as on one machine: hooks, deadlines,
	 * continuations and retries of raised failures. */
	return zenc__engine_run_job(x, target, m->attempt);
}

/* Inside the final job of a detached run: settles what Slurm killed and
 * ends the run. */
static int job_finish(zenc__exec *x, const zenc__run_mode *m)
{
	zenc__run_info info;
	const char *p = m->jobs ? m->jobs : "";
	slurm sl;
	size_t i;
	int rc;

	if ((rc = slurm_init(&sl, x, NULL, m)) < 0)
		return rc;
	sl.no_retry = 1;
	/* "step=id,step=id" */
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *eq = memchr(p, '=', n);
		for (i = 0; eq && i < x->p->n_steps; i++)
			if (strlen(x->steps[i].step->name) ==
				    (size_t)(eq - p) &&
			    !strncmp(
				    x->steps[i].step->name, p,
				    (size_t)(eq - p)))
				sl.st[i].job = strtol(eq + 1, NULL, 10);
		p += n;
		if (*p)
			p++;
	}
	memset(&info, 0, sizeof(info));
	if ((rc = x->store->run_show(x->store, x->run->id, &info)) < 0)
		goto done;
	/* Steps the client settled before it left (failed submission,
	 * skipped) have their records already. */
	for (i = 0; i < x->p->n_steps; i++) {
		const zenc__step_info *si =
			find_step(&info, x->steps[i].step->name);
		zenc__status rs =
			zenc__status_parse(si ? si->rec.status : NULL);
		if (!sl.st[i].job &&
		    (rs == ZENC__STATUS_FAILED || rs == ZENC__STATUS_SKIPPED)) {
			sl.st[i].settled = 1;
			x->steps[i].status = rs == ZENC__STATUS_FAILED
						     ? ZENC__ST_FAILED
						     : ZENC__ST_SKIPPED;
		} else if (!sl.st[i].job) {
			skip_step(&sl, i, "it was never submitted");
		}
	}
	zenc__run_info_free(&info);
	x->keep_going = 1; /* nothing is left to stop */
	if (cancel_marked(&sl)) {
		sl.interrupted = 1;
		zenc__engine_cancelled(x);
	}
	follow(&sl);
	zenc__engine_end_run(x);
	zenc__info(
		"Run %s %s.", x->run->name,
		zenc__status_name(zenc__run_status(x->run)));
	rc = 0;
done:
	slurm_release(&sl);
	return rc;
}

static int slurm_join(zenc__exec *x, const zenc__run_mode *m)
{
	int rc;

	if ((rc = join_run(x, m)) < 0)
		return rc;
	return m->finish ? job_finish(x, m) : job_step(x, m);
}

/* Its jobs run steps on other nodes; what the client runs itself (the
 * hooks of a killed job, run-level hooks) is placed by the engine on this
 * machine. */
const zenc__orchestrator zenc__orchestrator_slurm = {
	.version = ZENC__ORCHESTRATOR_VERSION,
	.name = "slurm",
	.unit = "Slurm job",
	.check = zenc__slurm_check,
	.run = slurm_run,
	.join = slurm_join,
	.cancel = zenc__slurm_cancel_run,
};
