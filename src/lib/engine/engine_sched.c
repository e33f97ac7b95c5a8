/*
 * The engine's scheduler: runs a validated pipeline's steps in dependency
 * order, up to `jobs` at a time, starts each step's attempts (retries
 * after their delay), and skips what can no longer run.  Where an attempt
 * runs is the placement's business (orchestrator.h); the supervisor
 * (engine_supervise.c) follows it and engine.c records how it ended.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/cache.h"
#include "engine/engine_run.h"
#include "engine/watcher.h"
#include "orchestrators/orchestrator.h"

#define RUNNING_ROW_DELAY ZENC__RUNNING_ROW_DELAY

static void launch(zenc__exec *x, zenc__stepstate *ss)
{
	zenc__attempt *a;

	ss->attempt++;
	ss->status = ZENC__ST_RUNNING;
	if (ss->attempt == 1) {
		ss->started = zenc__now();
		if (!x->quiet)
			zenc__info("Step %s has started.", ss->step->name);
	} else if (!x->quiet) {
		zenc__info(
			"Step %s has started (attempt %d of %d).",
			ss->step->name, ss->attempt, ss->max_retries + 1);
	}
	zenc__engine_started_row(x, ss);
	/* Its "running" row may be written later, in a batch: the watcher
	 * learns of it now, in case this process dies first. */
	zenc__watcher_note(1, ss->step->name);
	a = zenc__engine_new_attempt(x, ss);
	ss->cur = a;
	/* Its cache key, for its record: now if it hashes the step's
	 * sources or if the step runs here, to its end, else once it
	 * started. */
	zenc__cache_key_late(x, ss, 0);
	if (x->isolation == ZENC_ISOLATION_NONE)
		zenc__cache_key_late(x, ss, 1);
	switch (zenc__engine_start(x, a)) {
	case 0:
		zenc__cache_key_late(x, ss, 1);
		return; /* the supervisor follows it */
	case 1:
		/* It ran here, to its end (isolation none). */
		zenc__engine_finish_attempt(x, a);
		return;
	default:
		zenc__cache_key_late(x, ss, 1);
		zenc__failure_kind(
			&a->err, ZENC__EK_SPAWN_ERROR, zenc_error_last(), 0, 0,
			a->attempt);
		a->failed = 1;
		a->last = 1;
		zenc__engine_finish_attempt(x, a);
		return;
	}
}
/* The scheduler's bookkeeping: how many dependencies of each step are not
 * completed yet, who depends on whom, the steps ready to start (a min-heap
 * of step indices: among ready steps, the one declared first starts
 * first), the live children and the steps waiting for their next attempt.
 * Every step enters `ready` at most once, so a run of N steps costs
 * O((N + edges) log N) here, not O(N^2). */
struct sched {
	size_t *remaining;
	size_t *dep_off, *dep_idx; /* dependents of i: dep_idx[dep_off[i]..] */
	size_t *ready, n_ready;
	zenc__attempt **live;
	size_t n_live, cap_live;
	size_t *waiting, n_waiting;
	size_t *stack; /* scratch for skipping descendants */
	int *conts;
};

static void ready_push(struct sched *sc, size_t v)
{
	size_t i = sc->n_ready++;

	while (i > 0 && sc->ready[(i - 1) / 2] > v) {
		sc->ready[i] = sc->ready[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	sc->ready[i] = v;
}

static size_t ready_pop(struct sched *sc)
{
	size_t top = sc->ready[0], v = sc->ready[--sc->n_ready], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= sc->n_ready)
			break;
		if (c + 1 < sc->n_ready && sc->ready[c + 1] < sc->ready[c])
			c++;
		if (sc->ready[c] >= v)
			break;
		sc->ready[i] = sc->ready[c];
		i = c;
	}
	if (sc->n_ready)
		sc->ready[i] = v;
	return top;
}

static void sched_init(zenc__exec *x, struct sched *sc)
{
	size_t n = x->p->n_steps, i, j, edges = 0;
	size_t *fill;

	memset(sc, 0, sizeof(*sc));
	sc->remaining = zenc__calloc(n + 1, sizeof(size_t));
	sc->dep_off = zenc__calloc(n + 2, sizeof(size_t));
	sc->ready = zenc__calloc(n + 1, sizeof(size_t));
	sc->waiting = zenc__calloc(n + 1, sizeof(size_t));
	sc->stack = zenc__calloc(n + 1, sizeof(size_t));
	sc->conts = zenc__calloc(n + 1, sizeof(int));
	for (i = 0; i < n; i++) {
		zenc_step *s = x->p->steps[i];
		for (j = 0; j < s->n_deps; j++) {
			sc->dep_off[s->deps[j]->index + 1]++;
			edges++;
			if (x->steps[s->deps[j]->index].status !=
			    ZENC__ST_COMPLETED)
				sc->remaining[i]++;
		}
	}
	for (i = 0; i < n; i++)
		sc->dep_off[i + 1] += sc->dep_off[i];
	sc->dep_idx = zenc__calloc(edges + 1, sizeof(size_t));
	fill = zenc__calloc(n + 1, sizeof(size_t));
	for (i = 0; i < n; i++) {
		zenc_step *s = x->p->steps[i];
		for (j = 0; j < s->n_deps; j++) {
			size_t d = s->deps[j]->index;
			sc->dep_idx[sc->dep_off[d] + fill[d]++] = i;
		}
	}
	free(fill);
	/* Steps already settled (a run joined part-way) stay as they are. */
	for (i = 0; i < n; i++)
		if (x->steps[i].status == ZENC__ST_PENDING &&
		    sc->remaining[i] == 0)
			ready_push(sc, i);
}

static void sched_release(struct sched *sc)
{
	free(sc->remaining);
	free(sc->dep_off);
	free(sc->dep_idx);
	free(sc->ready);
	free(sc->live);
	free(sc->waiting);
	free(sc->stack);
	free(sc->conts);
}

/* A step failed or was skipped: none of its descendants can run. */
static void skip_descendants(zenc__exec *x, struct sched *sc, size_t root)
{
	size_t top = 0, k;

	sc->stack[top++] = root;
	while (top > 0) {
		size_t i = sc->stack[--top];
		for (k = sc->dep_off[i]; k < sc->dep_off[i + 1]; k++) {
			size_t d = sc->dep_idx[k];
			if (x->steps[d].status != ZENC__ST_PENDING)
				continue;
			zenc__engine_skip(
				x, &x->steps[d], "an upstream step failed", 0);
			sc->stack[top++] = d;
		}
	}
}

/* Reacts to where step `i` stands after a launch or an attempt's end. */
static void settle(zenc__exec *x, struct sched *sc, size_t i)
{
	zenc__stepstate *ss = &x->steps[i];
	size_t k;

	switch (ss->status) {
	case ZENC__ST_COMPLETED:
		for (k = sc->dep_off[i]; k < sc->dep_off[i + 1]; k++) {
			size_t d = sc->dep_idx[k];
			if (--sc->remaining[d] == 0 &&
			    x->steps[d].status == ZENC__ST_PENDING)
				ready_push(sc, d);
		}
		break;
	case ZENC__ST_FAILED:
	case ZENC__ST_SKIPPED:
		skip_descendants(x, sc, i);
		break;
	case ZENC__ST_WAITING:
		sc->waiting[sc->n_waiting++] = i;
		break;
	case ZENC__ST_RUNNING:
		/* Placed somewhere that reports on a pipe: supervised. */
		if (ss->cur && ss->cur->fd >= 0) {
			zenc__array_grow(
				(void **)&sc->live, &sc->cap_live,
				sc->n_live + 1, sizeof(*sc->live));
			sc->live[sc->n_live++] = ss->cur;
		}
		break;
	default:
		break;
	}
}

/* Sleeps `seconds`, or until a signal sets zenc__interrupted. */
static void sleep_unless_interrupted(double seconds)
{
	struct timespec ts;

	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !zenc__interrupted)
		;
}

static int has_slot(const zenc__exec *x)
{
	return x->isolation == ZENC_ISOLATION_NONE ||
	       x->running < (size_t)x->jobs;
}

static void run_steps(zenc__exec *x)
{
	struct sched sc;
	size_t i;
	int interrupted_seen = 0;

	sched_init(x, &sc);
	/* The placement gets ready for the run's steps. */
	if (x->place->open)
		x->place->open(x);
	for (;;) {
		double now, wait, next_wake = -1;

		if (zenc__interrupted && !interrupted_seen) {
			interrupted_seen = 1;
			zenc__engine_cancelled(x);
			zenc__warn("interrupted: stopping the running steps");
			zenc__engine_interrupt(x);
		}
		/* Retries first: they belong to steps already started. */
		now = zenc__monotonic();
		for (i = 0; i < sc.n_waiting;) {
			size_t s = sc.waiting[i];
			if (zenc__interrupted) {
				zenc__stepstate *ss = &x->steps[s];
				ss->status = ZENC__ST_FAILED;
				ss->ended = zenc__now();
				zenc__failure_kind(
					&ss->error, ZENC__EK_CANCELLED,
					"the run was interrupted", 0, 0,
					ss->attempt);
				zenc__engine_owe_row(x, ss);
				sc.waiting[i] = sc.waiting[--sc.n_waiting];
				settle(x, &sc, s);
				continue;
			}
			if (x->steps[s].wake > now || !has_slot(x)) {
				if (next_wake < 0 ||
				    x->steps[s].wake < next_wake)
					next_wake = x->steps[s].wake;
				i++;
				continue;
			}
			sc.waiting[i] = sc.waiting[--sc.n_waiting];
			launch(x, &x->steps[s]);
			settle(x, &sc, s);
			now = zenc__monotonic();
		}
		/* An interrupt stops new steps at once: under isolation none
		 * the step before this one ran here, and the signal may have
		 * come while it did. */
		while (!x->stop && !zenc__interrupted && sc.n_ready > 0 &&
		       has_slot(x)) {
			size_t s = ready_pop(&sc);
			if (x->steps[s].status != ZENC__ST_PENDING)
				continue;
			/* Taken from the cache, it completes here. */
			if (x->steps[s].attempt > 0 ||
			    !zenc__cache_try(x, &x->steps[s]))
				launch(x, &x->steps[s]);
			settle(x, &sc, s);
		}
		/* The ends of the steps that made these ready, now that
		 * they started. */
		zenc__engine_pay_ends(x);
		if (sc.n_live == 0) {
			if (sc.n_waiting > 0) {
				/* Only retries are due: sleep until the first.
				 */
				double w = next_wake - zenc__monotonic();
				if (next_wake < 0) {
					for (i = 0; i < sc.n_waiting; i++) {
						double t =
							x->steps[sc.waiting[i]]
								.wake;
						if (next_wake < 0 ||
						    t < next_wake)
							next_wake = t;
					}
					w = next_wake - zenc__monotonic();
				}
				zenc__engine_pay_rows(x);
				sleep_unless_interrupted(w);
				continue;
			}
			if (!x->stop && sc.n_ready > 0 && !zenc__interrupted)
				continue;
			break;
		}
		zenc__engine_pay_rows(x);
		wait = next_wake < 0 ? 1.0 : next_wake - zenc__monotonic();
		now = zenc__monotonic();
		for (i = 0; i < sc.n_live; i++) {
			zenc__stepstate *ls = sc.live[i]->ss;
			if (ls->unrecorded > 0 &&
			    ls->unrecorded + RUNNING_ROW_DELAY - now < wait)
				wait = ls->unrecorded + RUNNING_ROW_DELAY - now;
		}
		zenc__engine_supervise(sc.live, sc.n_live, wait);
		/* Steps running for a while get their "running" row. */
		now = zenc__monotonic();
		for (i = 0; i < sc.n_live; i++) {
			zenc__stepstate *ls = sc.live[i]->ss;
			if (ls->unrecorded > 0 && sc.live[i]->term_sent != -1 &&
			    now >= ls->unrecorded + RUNNING_ROW_DELAY)
				zenc__engine_owe_row(x, ls);
		}
		zenc__engine_pay_rows(x);
		for (i = 0; i < sc.n_live;) {
			zenc__attempt *a = sc.live[i];
			size_t s;
			if (a->term_sent != -1) {
				i++;
				continue;
			}
			a->term_sent = 0;
			s = a->ss->step->index;
			zenc__engine_ended(x, a, &sc.conts[s]);
			if (!a->done) {
				i++; /* a continuation is running */
				continue;
			}
			sc.conts[s] = 0;
			sc.live[i] = sc.live[--sc.n_live];
			zenc__engine_finish_attempt_later(x, a);
			settle(x, &sc, s);
		}
	}
	zenc__engine_pay_ends(x);
	/* An interrupt that came while the last step ran (isolation none)
	 * cancels the run all the same. */
	if (zenc__interrupted)
		zenc__engine_cancelled(x);
	for (i = 0; i < x->p->n_steps; i++) {
		if (x->steps[i].status == ZENC__ST_PENDING)
			zenc__engine_skip(
				x, &x->steps[i],
				zenc__interrupted ? "the run was interrupted"
						  : "the run failed",
				0);
	}
	zenc__engine_pay_rows(x);
	sched_release(&sc);
}

int zenc__engine_run(zenc__exec *x)
{
	if (x->isolation == ZENC_ISOLATION_NONE)
		zenc__engine_flusher_start(x);
	run_steps(x);
	zenc__engine_flusher_stop(x);
	if (x->place->close)
		x->place->close(x);
	free(x->owed);
	x->owed = NULL;
	x->n_owed = x->cap_owed = 0;
	free(x->ends);
	x->ends = NULL;
	x->cap_ends = 0;
	return 0;
}

int zenc__engine_run_one(
	zenc__exec *x, zenc__stepstate *target, int first_attempt)
{
	size_t i;

	/* Every other step counts as done: the scheduler then runs this
	 * one alone, with its supervisor, hooks and retries. */
	for (i = 0; i < x->p->n_steps; i++)
		if (&x->steps[i] != target)
			x->steps[i].status = ZENC__ST_COMPLETED;
	target->attempt = (first_attempt > 0 ? first_attempt : 1) - 1;
	/* Each attempt's job numbers its hook runs from attempt * 1000, so
	 * that the runs of all the jobs list in the order they ran. */
	x->hook_seq = target->attempt * 1000;
	x->jobs = 1;
	x->keep_going = 0;
	/* Its "running" row tells the client (and `zenc runs cancel`) that
	 * the step started: written at once. */
	x->eager_rows = 1;
	return zenc__engine_run(x);
}
