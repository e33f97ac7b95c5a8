/*
 * Run-scope hooks (docs/hooks.md, "Run-scope hooks" and "Init and cleanup
 * hooks"): on_run_start before the first step and on_run_end after the
 * last, once per run; on_init and on_cleanup once per execution
 * environment, with the init state that steps and hooks read through
 * zenc_ctx_init_state().
 *
 * An execution environment is a process tree whose steps are forked from
 * one process: the pipeline program of a local run (every isolation mode:
 * under process isolation the zygote, the steps' children, continuations
 * and run-level hooks are all forked from it after on_init ran, so they
 * inherit the state; under isolation none and for command steps in
 * threads the steps run in it), and each Slurm job that runs a step.  The
 * client of a Slurm run runs no step and no on_init.
 *
 * on_init runs in the environment's own process (the state it returns
 * must live there), bounded by a watchdog thread (below).  on_cleanup and the
 * run-scope hooks run like the other run-level hooks, under supervision.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine_run.h"
#include "engine/envhooks.h"
#include "orchestrators/orchestrator.h"

static void *init_state;
static char *init_text; /* the state an init command wrote, owned */
static char *state_file;

void *zenc_ctx_init_state(void)
{
	return init_state;
}

void zenc__init_state_set(void *state)
{
	if (!state)
		return;
	init_state = state;
}

#define MAX_STATE_TEXT (1 << 20)

void zenc__init_state_from_file(void)
{
	FILE *f;
	char *buf;
	size_t n;

	if (!state_file || !(f = fopen(state_file, "r")))
		return;
	buf = zenc__calloc(MAX_STATE_TEXT + 1, 1);
	n = fread(buf, 1, MAX_STATE_TEXT, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = 0;
	if (n == 0) {
		free(buf);
		return;
	}
	/* Emptied, so that the next init command's text is its own. */
	if ((f = fopen(state_file, "w")))
		fclose(f);
	free(init_text);
	init_text = zenc__realloc(buf, n + 1);
	init_state = init_text;
	setenv("ZENC_INIT_STATE", init_text, 1);
}

/* The recorded name of an init or cleanup function. */
static const char *fn_name(void (*fn)(void), const char *fallback)
{
	Dl_info info;

	if (dladdr((void *)(size_t)fn, &info) && info.dli_sname &&
	    info.dli_saddr == (void *)(size_t)fn)
		return info.dli_sname;
	return fallback;
}

static int add_fn(
	zenc_pipeline *p,
	zenc__event ev,
	void (*fn)(void),
	void *arg,
	zenc_hook_kind kind)
{
	zenc_hook h;
	zenc__hook_list *l = &p->hooks[ev];
	int rc;

	if (!p || !fn)
		return zenc__error_set(ZENC_EINVALID, "invalid hook");
	memset(&h, 0, sizeof(h));
	h.kind = kind;
	h.fn = fn;
	h.name = fn_name(fn, zenc__event_name(ev));
	if ((rc = zenc__hook_list_add(l, &h)) < 0)
		return rc;
	l->items[l->n - 1].arg = arg;
	return 0;
}

int zenc_pipeline_on_init(zenc_pipeline *p, zenc_init_fn fn, void *arg)
{
	return add_fn(
		p, ZENC__ON_INIT, (void (*)(void))fn, arg, ZENC__HOOK_INIT_FN);
}

int zenc_pipeline_on_cleanup(zenc_pipeline *p, zenc_cleanup_fn fn)
{
	return add_fn(
		p, ZENC__ON_CLEANUP, (void (*)(void))fn, NULL,
		ZENC__HOOK_CLEANUP_FN);
}

static int add_run_hook(zenc_pipeline *p, zenc__event ev, zenc_hook *h)
{
	int rc;

	if (!p)
		return zenc__error_set(ZENC_EINVALID, "no pipeline");
	if ((rc = zenc__check_run_hook(h)) < 0)
		return rc;
	/* The standard alerter hooks report the run's outcome: they belong
	 * to on_run_success and on_run_failure. */
	if (zenc__hook_is_alerter(h))
		return zenc__error_set(
			ZENC_EINVALID,
			"the standard alerter hooks cannot be %s hooks",
			zenc__event_name(ev));
	return zenc__hook_list_add(&p->hooks[ev], h);
}

int zenc_pipeline_on_run_start(zenc_pipeline *p, zenc_hook h)
{
	return add_run_hook(p, ZENC__ON_RUN_START, &h);
}

int zenc_pipeline_on_run_end(zenc_pipeline *p, zenc_hook h)
{
	return add_run_hook(p, ZENC__ON_RUN_END, &h);
}

int zenc_pipeline_on_init_hook(zenc_pipeline *p, zenc_hook h)
{
	return add_run_hook(p, ZENC__ON_INIT, &h);
}

int zenc_pipeline_on_cleanup_hook(zenc_pipeline *p, zenc_hook h)
{
	return add_run_hook(p, ZENC__ON_CLEANUP, &h);
}

/*
 * Runs the pipeline's hooks of event `ev` for the run, records them and
 * returns how many did not complete.  `here`: in this process (on_init),
 * else placed like the other run-level hooks.  `job`: the step of the
 * Slurm job whose environment this is, under which they are recorded
 * (else they are recorded as the run's).
 */
static int run_event(
	zenc__exec *x,
	zenc__event ev,
	int here,
	const zenc__stepstate *job,
	zenc_buf *why)
{
	zenc__hook_record *recs;
	zenc__attempt *a;
	size_t i;
	int rc, bad = 0;

	if (x->p->hooks[ev].n == 0)
		return 0;
	a = zenc__engine_new_attempt(x, NULL);
	a->cur.phase = ZENC__PH_RUN;
	a->cur.ev = ev;
	if (here)
		zenc__attempt_exec(a, -1);
	else
		zenc__engine_walk(x, a);
	recs = zenc__calloc(a->n_hooks + 1, sizeof(*recs));
	for (i = 0; i < a->n_hooks; i++) {
		zenc__hook_record *h = &recs[i];
		h->run_id = x->run->id;
		h->step = job ? job->step->name : NULL;
		h->event = zenc__event_name(a->hooks[i].event);
		h->hook = a->hooks[i].hook;
		h->attempt = job ? job->attempt : 0;
		h->status = zenc__status_name(a->hooks[i].status);
		h->error = a->hooks[i].error;
		h->started = a->hooks[i].started;
		h->duration = a->hooks[i].duration;
		h->seq = a->hooks[i].seq;
		if (a->hooks[i].status != ZENC__STATUS_COMPLETED && !bad++ &&
		    why)
			zenc_buf_printf(
				why, "%s hook '%s' %s: %s",
				zenc__event_name(ev), a->hooks[i].hook,
				zenc__status_name(a->hooks[i].status),
				a->hooks[i].error ? a->hooks[i].error : "");
	}
	rc = a->n_hooks ? x->store->hooks_put(x->store, recs, a->n_hooks) : 0;
	if (rc < 0)
		zenc__warn(
			"could not record %s hooks: %s", zenc__event_name(ev),
			zenc_error_last());
	free(recs);
	zenc__attempt_free(a);
	return bad;
}

/*
 * The bound of on_init.  Its hooks run in this process, where no
 * supervisor can kill one that hangs; a thread watches them instead,
 * for their deadlines added up (each command's plus the second its
 * SIGKILL may take).  Past that the run cannot start and nothing can
 * stop the hook: the process kills itself, and its watcher (or whoever
 * follows the Slurm job) settles the run as for any death.
 */
struct watchdog {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	double due; /* monotonic */
	double limit;
	int done;
};

static void *watchdog_main(void *payload)
{
	struct watchdog *w = payload;
	struct timespec ts;

	ts.tv_sec = (time_t)w->due;
	ts.tv_nsec = (long)((w->due - (double)ts.tv_sec) * 1e9);
	pthread_mutex_lock(&w->mu);
	while (!w->done) {
		if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT)
			continue;
		if (w->done)
			break;
		zenc__log(
			ZENC_LOG_ERROR,
			"the on_init hooks ran past their deadline (%gs in "
			"all): stopping the run",
			w->limit);
		fflush(NULL);
		kill(getpid(), SIGKILL);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static double init_limit(const zenc__exec *x)
{
	const zenc__hook_list *l = &x->p->hooks[ZENC__ON_INIT];
	double sum = 0;
	size_t i;

	for (i = 0; i < l->n; i++)
		sum += (l->items[i].h.timeout > 0 ? l->items[i].h.timeout
			: x->p->hook_timeout > 0  ? x->p->hook_timeout
						 : ZENC__DEFAULT_HOOK_TIMEOUT) +
		       1.0;
	return sum;
}

static int watchdog_start(struct watchdog *w, double limit)
{
	pthread_condattr_t ca;

	memset(w, 0, sizeof(*w));
	w->limit = limit;
	w->due = zenc__monotonic() + limit;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->thread, NULL, watchdog_main, w) == 0)
		return 0;
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	zenc__warn("cannot watch the deadline of the on_init hooks");
	return -1;
}

/* Joined before anything forks: no thread outlives on_init. */
static void watchdog_stop(struct watchdog *w)
{
	pthread_mutex_lock(&w->mu);
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}

/* Runs the environment's on_init hooks here; returns 1 when one failed
 * (then `why` tells which, and the run fails). */
static int env_init(zenc__exec *x, const zenc__stepstate *job, zenc_buf *why)
{
	struct watchdog w;
	int bad, watched, fd;

	if (x->p->hooks[ZENC__ON_INIT].n == 0 &&
	    x->p->hooks[ZENC__ON_CLEANUP].n == 0)
		return 0;
	x->env_inited = 1;
	if (x->p->hooks[ZENC__ON_INIT].n == 0)
		return 0;
	free(state_file);
	/* Unique even among jobs of other nodes that share the folder. */
	state_file = zenc__asprintf("%s/init-state.XXXXXX", x->run_dir);
	if ((fd = mkstemp(state_file)) >= 0)
		close(fd);
	setenv("ZENC_INIT_STATE_FILE", state_file, 1);
	watched = watchdog_start(&w, init_limit(x)) == 0;
	bad = run_event(x, ZENC__ON_INIT, 1, job, why);
	if (watched)
		watchdog_stop(&w);
	unsetenv("ZENC_INIT_STATE_FILE");
	unlink(state_file);
	if (!bad)
		return 0;
	/* The steps rely on what it should have set up. */
	zenc__log(
		ZENC_LOG_ERROR, "%s: the run fails before any step",
		zenc_buf_cstr(why));
	x->run->failed = 1;
	x->stop = 1;
	return 1;
}

static void env_cleanup(zenc__exec *x, const zenc__stepstate *job)
{
	if (!x->env_inited)
		return;
	x->env_inited = 0;
	run_event(x, ZENC__ON_CLEANUP, 0, job, NULL);
	free(init_text);
	init_text = NULL;
	init_state = NULL;
	unsetenv("ZENC_INIT_STATE");
	free(state_file);
	state_file = NULL;
}

void zenc__engine_start_run(zenc__exec *x)
{
	/* A run placed elsewhere has its environments in its jobs. */
	zenc_buf why = ZENC_BUF_INIT;

	if (!x->orch->run)
		env_init(x, NULL, &why);
	zenc_buf_release(&why);
	run_event(x, ZENC__ON_RUN_START, 0, NULL, NULL);
}

void zenc__engine_run_end_hooks(zenc__exec *x)
{
	run_event(x, ZENC__ON_RUN_END, 0, NULL, NULL);
	env_cleanup(x, NULL);
}

int zenc__engine_run_job(
	zenc__exec *x, zenc__stepstate *target, int first_attempt)
{
	zenc_buf why = ZENC_BUF_INIT;
	int attempt = first_attempt > 0 ? first_attempt : 1, rc = 0;

	/* Numbered just before the hooks of the job's first attempt
	 * (engine_run_one numbers those from attempt * 1000). */
	x->hook_seq = (attempt - 1) * 1000 - 50;
	target->attempt = attempt;
	if (env_init(x, target, &why)) {
		/* The job's step fails, with its failure hooks, here. */
		if (target->started <= 0)
			target->started = zenc__now();
		zenc__engine_attempt_lost(
			x, target, attempt, "InitFailed", zenc_buf_cstr(&why),
			0);
	} else {
		rc = zenc__engine_run_one(x, target, first_attempt);
	}
	zenc_buf_release(&why);
	env_cleanup(x, target);
	return rc;
}
