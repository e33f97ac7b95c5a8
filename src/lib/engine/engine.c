/*
 * The engine's records and the outcome of an attempt: every step,
 * attempt and hook record of a run is written here, whichever
 * orchestrator placed the step.  An attempt that ends is recorded with
 * its artifacts and hook runs in one transaction, then the step is
 * completed, waits for its retry, or fails (and with it the run).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine_run.h"
#include "engine/envhooks.h"
#include "engine/watcher.h"
#include "orchestrators/orchestrator.h"

volatile sig_atomic_t zenc__interrupted;

#define RUNNING_ROW_DELAY ZENC__RUNNING_ROW_DELAY

/* What the store says of a step in state `s`: one waiting for its next
 * attempt is still running; one completed from the cache is cached. */
static zenc__status stored_status(const zenc__stepstate *ss)
{
	switch (ss->status) {
	case ZENC__ST_PENDING:
		return ZENC__STATUS_PENDING;
	case ZENC__ST_RUNNING:
	case ZENC__ST_WAITING:
		return ZENC__STATUS_RUNNING;
	case ZENC__ST_COMPLETED:
		return ss->cached_from ? ZENC__STATUS_CACHED
				       : ZENC__STATUS_COMPLETED;
	case ZENC__ST_FAILED:
		return ZENC__STATUS_FAILED;
	case ZENC__ST_SKIPPED:
		return ZENC__STATUS_SKIPPED;
	}
	return ZENC__STATUS_UNKNOWN;
}

/* A record's error fields, from the failure (all unset when none). */
static void fill_failure(
	const char **type,
	const char **message,
	int *exit_code,
	int *sig,
	const zenc__failure *f)
{
	*type = f->type;
	*message = f->message;
	*exit_code = f->exit_code;
	*sig = f->signal;
}

static void fill_step_record(
	zenc__step_record *r, zenc__exec *x, zenc__stepstate *ss)
{
	memset(r, 0, sizeof(*r));
	r->run_id = x->run->id;
	r->name = ss->step->name;
	r->status = zenc__status_name(stored_status(ss));
	r->attempts = ss->attempt;
	r->started = ss->started;
	r->ended = ss->ended;
	fill_failure(
		&r->error_type, &r->error_message, &r->exit_code, &r->signal,
		&ss->error);
	r->params_json = ss->params_json;
	r->upstream_json = ss->upstream_json;
	r->log_uri = ss->log_uri;
	r->cached_from = ss->cached_from;
	r->cache_key = ss->cache_key;
}

static void store_warn(zenc__exec *x, const char *what)
{
	x->records_lost = 1;
	zenc__warn("could not record %s: %s", what, zenc_error_last());
}

/* How long a record write that met a locked store pauses before the next
 * try (the store itself has already waited for the lock for a while). */
#define BUSY_PAUSE 0.05

/*
 * Whether a record write that returned `rc` is tried again.  A store that
 * another process keeps locked is waited for as long as it takes, unless
 * the run is cancelled: a record dropped there would leave a step
 * "running" in a finished run.  Other errors are not tried again.
 */
static int write_again(int rc, int *tries, const char *what)
{
	if (rc >= 0 || !zenc__store_last_busy() || zenc__interrupted)
		return 0;
	if ((*tries)++ == 0)
		zenc__warn(
			"the metadata store is locked by another process; "
			"still trying to record %s",
			what);
	zenc__sleep(BUSY_PAUSE);
	return 1;
}

static void record_step(zenc__exec *x, zenc__stepstate *ss)
{
	zenc__step_record r;

	int rc, tries = 0;

	fill_step_record(&r, x, ss);
	do
		rc = x->store->step_put(x->store, &r);
	while (write_again(rc, &tries, "a step"));
	if (rc < 0)
		store_warn(x, "a step");
}

/*
 * Step rows written late, so that a step costs one transaction.
 *
 * A step that starts gets no "running" row at once: when it ends within
 * RUNNING_ROW_DELAY, its end record (one transaction: step row, attempt,
 * artifacts, hook runs) is the only write, and the "running" state was
 * never worth a commit.  A step still running after that delay gets its
 * "running" row then: from the supervisor's poll loop (isolation process)
 * or from a small thread (isolation none, where the orchestrating thread
 * is inside the step).  Rows of skipped steps are collected and written
 * together.  If the orchestrator dies meanwhile, the run's watcher marks it
 * failed (watcher.c); at most the rows of the last RUNNING_ROW_DELAY are
 * missing from it, and a step without a row gets no hooks from the
 * watcher.
 */
void zenc__engine_owe_row(zenc__exec *x, zenc__stepstate *ss)
{
	zenc__array_grow(
		(void **)&x->owed, &x->cap_owed, x->n_owed + 1,
		sizeof(*x->owed));
	x->owed[x->n_owed++] = ss;
}

/* Writes the rows owed, in one transaction. */
void zenc__engine_pay_rows(zenc__exec *x)
{
	zenc__step_record *r;
	size_t i;
	int rc, tries = 0;

	if (x->n_owed == 0)
		return;
	r = zenc__calloc(x->n_owed, sizeof(*r));
	for (i = 0; i < x->n_owed; i++) {
		fill_step_record(&r[i], x, x->owed[i]);
		x->owed[i]->unrecorded = 0;
	}
	do
		rc = zenc__store_steps_put(x->store, r, x->n_owed);
	while (write_again(rc, &tries, "steps"));
	if (rc < 0)
		store_warn(x, "steps");
	free(r);
	x->n_owed = 0;
}

/* Isolation none: the thread that writes the "running" row of a step
 * that runs for longer than RUNNING_ROW_DELAY. */
struct zenc__flusher {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	zenc__exec *x;
	zenc__stepstate *ss; /* the step running now, row not written */
	int quit;
};

static void *flusher_main(void *payload)
{
	struct zenc__flusher *f = payload;
	struct timespec ts;

	pthread_mutex_lock(&f->mu);
	while (!f->quit) {
		double due;
		if (!f->ss) {
			pthread_cond_wait(&f->cv, &f->mu);
			continue;
		}
		due = f->ss->unrecorded + RUNNING_ROW_DELAY;
		if (zenc__monotonic() < due) {
			ts.tv_sec = (time_t)due;
			ts.tv_nsec = (long)((due - (double)ts.tv_sec) * 1e9);
			pthread_cond_timedwait(&f->cv, &f->mu, &ts);
			continue;
		}
		/* The orchestrating thread is inside the step and takes
		 * `mu` before it touches the step again. */
		record_step(f->x, f->ss);
		f->ss->unrecorded = 0;
		f->ss = NULL;
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

void zenc__engine_flusher_start(zenc__exec *x)
{
	struct zenc__flusher *f = zenc__calloc(1, sizeof(*f));
	pthread_condattr_t ca;

	f->x = x;
	pthread_mutex_init(&f->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&f->thread, NULL, flusher_main, f) != 0) {
		/* Without it, rows are written at once. */
		pthread_cond_destroy(&f->cv);
		pthread_mutex_destroy(&f->mu);
		free(f);
		return;
	}
	x->flusher = f;
}

void zenc__engine_flusher_stop(zenc__exec *x)
{
	struct zenc__flusher *f = x->flusher;

	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->quit = 1;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
	x->flusher = NULL;
}

/* A step starts: its "running" row is owed. */
void zenc__engine_started_row(zenc__exec *x, zenc__stepstate *ss)
{
	struct zenc__flusher *f = x->flusher;

	if (x->eager_rows) {
		record_step(x, ss);
		return;
	}
	if (x->isolation != ZENC_ISOLATION_NONE) {
		ss->unrecorded = zenc__monotonic();
		return;
	}
	if (!f) {
		record_step(x, ss);
		return;
	}
	pthread_mutex_lock(&f->mu);
	ss->unrecorded = zenc__monotonic();
	f->ss = ss;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* A step's attempt ended: its row is about to be written with the rest. */
static void ended_row(zenc__exec *x, zenc__stepstate *ss)
{
	struct zenc__flusher *f = x->flusher;

	if (f) {
		pthread_mutex_lock(&f->mu);
		if (f->ss == ss)
			f->ss = NULL;
		ss->unrecorded = 0;
		pthread_mutex_unlock(&f->mu);
	} else {
		ss->unrecorded = 0;
	}
}

static void fill_hook_records(
	zenc__exec *x, zenc__attempt *a, zenc__hook_record **out)
{
	size_t i;

	*out = zenc__calloc(a->n_hooks + 1, sizeof(**out));
	for (i = 0; i < a->n_hooks; i++) {
		zenc__hook_record *h = &(*out)[i];
		h->run_id = x->run->id;
		h->step = a->ss ? a->ss->step->name : NULL;
		h->event = zenc__event_name(a->hooks[i].event);
		h->hook = a->hooks[i].hook;
		h->attempt = a->hooks[i].attempt;
		h->status = zenc__status_name(a->hooks[i].status);
		h->error = a->hooks[i].error;
		h->started = a->hooks[i].started;
		h->duration = a->hooks[i].duration;
		h->seq = a->hooks[i].seq;
	}
}

/* Writes attempt `a` of its step with the step's row, its hook runs and,
 * unless it failed, `arts` (`n_arts`: its outputs, wherever they are kept
 * by now). */
static void record_attempt(
	zenc__exec *x,
	zenc__attempt *a,
	const zenc__artifact *out,
	size_t n_out)
{
	zenc__stepstate *ss = a->ss;
	zenc__artifact_record *arts;
	zenc__attempt_record att;
	zenc__hook_record *hooks;
	zenc__step_record r;
	struct stat st;
	char *log;
	size_t i;
	int rc, tries = 0;

	/* A step keeps its output as RUN_DIR/STEP/log.N: a command writes
	 * it, and so does the capture of a C step's output (capture.c). */
	log = zenc__attempt_log_path(x->run_dir, ss->step->name, a->attempt);
	if (stat(log, &st) == 0) {
		free(ss->log_uri);
		ss->log_uri = log;
	} else {
		free(log);
		log = NULL;
	}
	fill_step_record(&r, x, ss);
	memset(&att, 0, sizeof(att));
	att.log_uri = log;
	att.attempt = a->attempt;
	att.status = zenc__status_name(
		a->failed ? ZENC__STATUS_FAILED : ZENC__STATUS_COMPLETED);
	att.started = a->started;
	att.ended = a->ended;
	if (a->failed)
		fill_failure(
			&att.error_type, &att.error_message, &att.exit_code,
			&att.signal, &a->err);
	arts = zenc__calloc(n_out + 1, sizeof(*arts));
	for (i = 0; i < n_out; i++) {
		arts[i].run_id = x->run->id;
		arts[i].step = ss->step->name;
		arts[i].name = out[i].name;
		arts[i].type = zenc_type_name(out[i].type);
		arts[i].uri = out[i].uri;
		arts[i].size = out[i].size;
		arts[i].checksum = out[i].checksum;
	}
	fill_hook_records(x, a, &hooks);
	do
		rc = x->store->step_end(
			x->store, &r, &att, arts, a->failed ? 0 : n_out, hooks,
			a->n_hooks);
	while (write_again(rc, &tries, "a step attempt"));
	if (rc < 0)
		store_warn(x, "a step attempt");
	free(arts);
	free(hooks);
}

/* A step taken from the cache (cache.c): recorded "cached", with the
 * artifacts it reuses (the same uris) and neither attempt nor hook run,
 * and completed. */
void zenc__engine_cached(zenc__exec *x, zenc__stepstate *ss)
{
	zenc__artifact_record *arts;
	zenc__step_record r;
	size_t i;
	int rc, tries = 0;

	ss->status = ZENC__ST_COMPLETED;
	ss->started = ss->ended = zenc__now();
	zenc__failure_release(&ss->error);
	fill_step_record(&r, x, ss);
	arts = zenc__calloc(ss->n_arts + 1, sizeof(*arts));
	for (i = 0; i < ss->n_arts; i++) {
		arts[i].run_id = x->run->id;
		arts[i].step = ss->step->name;
		arts[i].name = ss->arts[i].name;
		arts[i].type = zenc_type_name(ss->arts[i].type);
		arts[i].uri = ss->arts[i].uri;
		arts[i].size = ss->arts[i].size;
		arts[i].checksum = ss->arts[i].checksum;
	}
	do
		rc = x->store->step_end(
			x->store, &r, NULL, arts, ss->n_arts, NULL, 0);
	while (write_again(rc, &tries, "a cached step"));
	if (rc < 0)
		store_warn(x, "a cached step");
	free(arts);
	if (x->place && x->place->completed)
		x->place->completed(x, ss);
	if (!x->quiet)
		zenc__info(
			"Step %s was taken from the cache (run %s).",
			ss->step->name, ss->cached_from);
}

double zenc__engine_retry_wait(const zenc__stepstate *ss, int attempt)
{
	return ss->delay * pow(ss->backoff, attempt - 1);
}

/* The attempt reached its end: record it (or owe its record, `later`)
 * and decide what comes next. */
static void finish(zenc__exec *x, zenc__attempt *a, int later)
{
	zenc__stepstate *ss = a->ss;

	ended_row(x, ss);
	a->ended = zenc__now();
	ss->cur = NULL;
	if (!a->failed) {
		ss->status = ZENC__ST_COMPLETED;
		ss->ended = a->ended;
		zenc__failure_release(&ss->error);
		/* Downstream steps read the artifacts from the step. */
		ss->arts = a->arts;
		ss->n_arts = a->n_arts;
		a->arts = NULL;
		a->n_arts = 0;
		if (later) {
			zenc__array_grow(
				(void **)&x->ends, &x->cap_ends, x->n_ends + 1,
				sizeof(*x->ends));
			x->ends[x->n_ends++] = a;
		} else {
			record_attempt(x, a, ss->arts, ss->n_arts);
		}
		if (x->place->completed)
			x->place->completed(x, ss);
		if (!x->quiet)
			zenc__info(
				"Step %s has finished in %.3fs.",
				ss->step->name, ss->ended - ss->started);
		if (later)
			return;
	} else if (
		!a->last && !zenc__interrupted &&
		a->err.kind != ZENC__EK_CANCELLED) {
		double wait = zenc__engine_retry_wait(ss, a->attempt);
		ss->status = ZENC__ST_WAITING;
		ss->wake = zenc__monotonic() + wait;
		a->err.attempt = a->attempt;
		zenc__failure_copy(&ss->error, &a->err);
		record_attempt(x, a, NULL, 0);
		zenc__info(
			"Step %s failed on attempt %d (%s: %s); retrying "
			"in %.3gs.",
			ss->step->name, a->attempt, a->err.type, a->err.message,
			wait);
	} else {
		ss->status = ZENC__ST_FAILED;
		ss->ended = a->ended;
		a->err.attempt = a->attempt;
		zenc__failure_copy(&ss->error, &a->err);
		record_attempt(x, a, NULL, 0);
		zenc__engine_step_failed(x);
	}
	/* Recorded: the watcher no longer has to settle it. */
	zenc__watcher_note(0, ss->step->name);
	zenc__attempt_free(a);
}

void zenc__engine_finish_attempt(zenc__exec *x, zenc__attempt *a)
{
	finish(x, a, 0);
}

/*
 * The end of an attempt that completed is owed when the step's process has
 * ended (the supervisor saw it): the steps it made ready start first, and
 * the record is written while they do, instead of between two steps.  A
 * Slurm job's step (eager rows) writes it at once.  Until it is written
 * the watcher still counts the step as running: should this process die
 * in between, the run's watcher settles it with the run, as it does a
 * step that ended in the instant before its record.
 */
void zenc__engine_finish_attempt_later(zenc__exec *x, zenc__attempt *a)
{
	finish(x, a, !a->failed && !x->eager_rows);
}

void zenc__engine_pay_ends(zenc__exec *x)
{
	size_t i;

	for (i = 0; i < x->n_ends; i++) {
		zenc__attempt *a = x->ends[i];
		record_attempt(x, a, a->ss->arts, a->ss->n_arts);
		zenc__watcher_note(0, a->ss->step->name);
		zenc__attempt_free(a);
	}
	x->n_ends = 0;
}

zenc__attempt *zenc__engine_new_attempt(zenc__exec *x, zenc__stepstate *ss)
{
	zenc__attempt *a = zenc__calloc(1, sizeof(*a));

	a->x = x;
	a->ss = ss;
	a->fd = -1;
	a->started = zenc__now();
	if (ss) {
		a->attempt = ss->attempt;
		a->last = ss->attempt > ss->max_retries;
		a->cur.phase = ZENC__PH_START;
	}
	return a;
}

void zenc__engine_skip(
	zenc__exec *x, zenc__stepstate *ss, const char *why, int now)
{
	ss->status = ZENC__ST_SKIPPED;
	if (!x->quiet)
		zenc__info("Step %s was skipped: %s.", ss->step->name, why);
	if (now)
		record_step(x, ss);
	else
		zenc__engine_owe_row(x, ss);
}

/*
 * Hook runs are numbered per run so that they list in the order they
 * ran.  A step placed elsewhere runs its attempts in jobs of their own,
 * each numbering from attempt * 1000; what the engine runs here for an
 * attempt that a job never finished numbers from just below the next
 * attempt's range, after anything the job itself recorded.
 */
static int lost_hook_seq(int attempt)
{
	return attempt * 1000 - 100;
}

int zenc__engine_attempt_lost(
	zenc__exec *x,
	zenc__stepstate *ss,
	int attempt,
	const char *type,
	const char *msg,
	int retry_ok)
{
	zenc__attempt *a = zenc__calloc(1, sizeof(*a));
	zenc__attempt_record att;
	zenc__hook_record *hooks;
	zenc__step_record r;
	int retry, rc, tries = 0;

	a->x = x;
	a->ss = ss;
	a->fd = -1;
	a->attempt = attempt;
	a->last = !retry_ok || attempt > ss->max_retries;
	a->started = ss->started;
	a->failed = 1;
	zenc__failure_set(&a->err, type, msg, 0, 0, attempt);
	/* The body is gone: the walk starts at the outcome hooks, and the
	 * hooks run even though the step's own process never came back. */
	a->cur.phase = ZENC__PH_OUTCOME;
	a->cur.ev = a->last ? ZENC__ON_FAILURE : ZENC__ON_RETRY;
	a->cur.idx = 0;
	ss->attempt = attempt;
	if (!x->quiet)
		zenc__info("Step %s failed: %s: %s", ss->step->name, type, msg);
	x->hook_seq = lost_hook_seq(attempt);
	zenc__engine_walk(x, a);
	a->ended = zenc__now();
	retry = !a->last;
	zenc__failure_copy(&ss->error, &a->err);
	if (retry) {
		ss->status = ZENC__ST_WAITING;
	} else {
		ss->status = ZENC__ST_FAILED;
		ss->ended = a->ended;
		x->run->failed = 1;
	}
	fill_step_record(&r, x, ss);
	memset(&att, 0, sizeof(att));
	att.attempt = attempt;
	att.status = zenc__status_name(ZENC__STATUS_FAILED);
	att.started = ss->started;
	att.ended = a->ended;
	fill_failure(
		&att.error_type, &att.error_message, &att.exit_code,
		&att.signal, &a->err);
	fill_hook_records(x, a, &hooks);
	do
		rc = x->store->step_end(
			x->store, &r, &att, NULL, 0, hooks, a->n_hooks);
	while (write_again(rc, &tries, "a step attempt"));
	if (rc < 0)
		store_warn(x, "a step attempt");
	free(hooks);
	zenc__attempt_free(a);
	return retry;
}

int zenc__engine_step_failed(zenc__exec *x)
{
	x->run->failed = 1;
	if (!x->keep_going)
		x->stop = 1;
	return !x->keep_going;
}

int zenc__engine_adopt(
	zenc__exec *x, zenc__stepstate *ss, const zenc__step_record *r)
{
	ss->attempt = r->attempts;
	ss->started = r->started;
	ss->ended = r->ended;
	zenc__status st = zenc__status_parse(r->status);

	if (st == ZENC__STATUS_CACHED && r->cached_from) {
		free(ss->cached_from);
		ss->cached_from = zenc__strdup(r->cached_from);
		ss->status = ZENC__ST_COMPLETED;
		if (!x->quiet)
			zenc__info(
				"Step %s was taken from the cache (run %s).",
				ss->step->name, ss->cached_from);
		return 0;
	}
	if (st == ZENC__STATUS_COMPLETED) {
		ss->status = ZENC__ST_COMPLETED;
		if (!x->quiet)
			zenc__info(
				"Step %s has finished in %.3fs.",
				ss->step->name, ss->ended - ss->started);
		return 0;
	}
	ss->status =
		st == ZENC__STATUS_FAILED ? ZENC__ST_FAILED : ZENC__ST_SKIPPED;
	zenc__failure_set(
		&ss->error, r->error_type, r->error_message, r->exit_code,
		r->signal, r->attempts);
	if (!x->quiet && ss->status == ZENC__ST_FAILED)
		zenc__log(
			ZENC_LOG_ERROR, "Step %s failed: %s: %s",
			ss->step->name, r->error_type ? r->error_type : "Error",
			r->error_message ? r->error_message : "");
	/* A skipped step fails the run as a failed one does. */
	return zenc__engine_step_failed(x);
}

zenc__status zenc__run_status(const zenc_run *run)
{
	if (run->cancelled)
		return ZENC__STATUS_CANCELLED;
	return run->failed ? ZENC__STATUS_FAILED : ZENC__STATUS_COMPLETED;
}

void zenc__engine_cancelled(zenc__exec *x)
{
	x->run->failed = 1;
	x->run->cancelled = 1;
	x->stop = 1;
}

int zenc__engine_begin_run(zenc__exec *x, int detached)
{
	zenc__run_record rr;
	char host[256] = "";
	int rc, tries = 0;

	gethostname(host, sizeof(host) - 1);
	memset(&rr, 0, sizeof(rr));
	rr.id = x->run->id;
	rr.name = x->run->name;
	rr.pipeline = x->p->name;
	rr.status = zenc__status_name(ZENC__STATUS_RUNNING);
	rr.stack = zenc_stack_name(x->stack);
	rr.host = host;
	/* A run nobody here follows has no process to watch: a store that
	 * finds its process gone would mark it failed. */
	rr.pid = detached ? 0 : (long)getpid();
	rr.resumed_from = x->resumed_from;
	rr.started = x->started;
	do
		rc = x->store->run_begin(x->store, &rr);
	while (write_again(rc, &tries, "the run"));
	if (rc < 0)
		return rc;
	/* A run followed from here has a watcher, which settles it if this
	 * process dies (watcher.c). */
	if (!detached && !x->orch->run)
		zenc__watcher_start(x);
	return 0;
}

/* The run-level hooks for the run's outcome, recorded together. */
static void run_hooks(zenc__exec *x)
{
	zenc__event ev =
		x->run->failed ? ZENC__ON_RUN_FAILURE : ZENC__ON_RUN_SUCCESS;
	zenc__hook_record *recs;
	zenc__attempt *a;
	int rc, tries = 0;

	if (x->p->hooks[ev].n == 0)
		return;
	a = zenc__engine_new_attempt(x, NULL);
	a->cur.phase = ZENC__PH_RUN;
	a->cur.ev = ev;
	zenc__engine_walk(x, a);
	fill_hook_records(x, a, &recs);
	do
		rc = a->n_hooks
			     ? x->store->hooks_put(x->store, recs, a->n_hooks)
			     : 0;
	while (write_again(rc, &tries, "run hooks"));
	if (rc < 0)
		store_warn(x, "run hooks");
	free(recs);
	zenc__attempt_free(a);
}

/* A record was dropped (the run was cancelled while the store was
 * locked, or the store refused it): every step's row is written again,
 * as the run ends, so that none is left "running" in a finished run. */
static void rewrite_steps(zenc__exec *x)
{
	zenc__step_record *r;
	size_t i;
	int rc, tries = 0;

	if (!x->records_lost || !x->steps)
		return;
	r = zenc__calloc(x->p->n_steps + 1, sizeof(*r));
	for (i = 0; i < x->p->n_steps; i++)
		fill_step_record(&r[i], x, &x->steps[i]);
	do
		rc = zenc__store_steps_put(x->store, r, x->p->n_steps);
	while (write_again(rc, &tries, "steps"));
	if (rc < 0)
		zenc__warn("could not record steps: %s", zenc_error_last());
	free(r);
}

void zenc__engine_end_run(zenc__exec *x)
{
	int rc, tries = 0;

	run_hooks(x);
	zenc__engine_run_end_hooks(x);
	rewrite_steps(x);
	do
		rc = x->store->run_end(
			x->store, x->run->id,
			zenc__status_name(zenc__run_status(x->run)),
			zenc__now());
	while (write_again(rc, &tries, "the end of the run"));
	if (rc < 0)
		zenc__warn(
			"could not record the end of the run: %s",
			zenc_error_last());
	zenc__watcher_end(x);
}
