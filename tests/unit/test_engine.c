/*
 * The engine's hook rules, without processes: a fake orchestrator places
 * each attempt in the calling thread (as isolation none does) or in a
 * thread that reports on a pipe (as a forked child does, and can "die"
 * or be killed at any point), and a fake metadata store keeps, in memory,
 * every call the engine makes.  Both count their calls, so that each test
 * checks what ran (a trace the hooks and bodies write), what was recorded
 * and how often each interface was used.
 *
 * The run is set up here as run.c sets up a local run (the same order:
 * check, begin, run, end), with the fakes in x->store and x->place.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/engine/cache.h"
#include "lib/engine/engine_run.h"
#include "lib/orchestrators/orchestrator.h"
#include "lib/internal.h"

/* ---- What ran: a trace that bodies and hooks append to, in order. */

static pthread_mutex_t trace_mu = PTHREAD_MUTEX_INITIALIZER;
static zenc_buf trace = ZENC_BUF_INIT;

static void trace_add(const char *fmt, ...) ZENC__PRINTF(1, 2);
static void trace_add(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&trace_mu);
	va_start(ap, fmt);
	zenc_buf_vprintf(&trace, fmt, ap);
	va_end(ap);
	zenc_buf_putc(&trace, '\n');
	pthread_mutex_unlock(&trace_mu);
}

/* What the library logged that a user is told: warnings, and why a
 * step was skipped. */
static zenc_buf logged = ZENC_BUF_INIT;

static void log_cb(zenc_log_level level, const char *message, void *payload)
{
	(void)payload;
	if (level < ZENC_LOG_WARN && !strstr(message, " was skipped: "))
		return;
	pthread_mutex_lock(&trace_mu);
	zenc_buf_puts(&logged, message);
	zenc_buf_putc(&logged, '\n');
	pthread_mutex_unlock(&trace_mu);
}

static void assert_logged(const char *line)
{
	if (!strstr(zenc_buf_cstr(&logged), line))
		fail_msg(
			"not logged: %s\nlogged:\n%s", line,
			zenc_buf_cstr(&logged));
}

/* ---- The fake store: every call, kept in memory. */

#define MAX_CALLS 256

struct hook_row {
	char *step, *event, *hook, *status, *error;
	int attempt, seq;
};

struct call {
	const char *op; /* "run_begin", "step_put", "step_end", ... */
	char *step;     /* the step row's name and status */
	char *status;
	int attempts;
	char *error_type, *error_message;
	/* step_end: the attempt */
	int attempt;
	char *attempt_status;
	char *attempt_error;
	size_t n_arts;
	/* step_end, hooks_put */
	struct hook_row *hooks;
	size_t n_hooks;
};

struct fake_store {
	zenc__store base;
	pthread_mutex_t mu;
	struct call calls[MAX_CALLS];
	size_t n_calls;
	/* Calls per operation. */
	int run_begin, run_end, step_put, steps_put, step_end, hooks_put;
	int other;
	/* Writes made while an orchestrator callback, or what it placed,
	 * was running in the writing thread: there must be none. */
	int by_placement;
};

static struct fake_store store;

/* Set while a fake orchestrator callback runs, and in the threads that
 * stand for the processes it places. */
static _Thread_local int in_placement;

static char *dup_or_null(const char *s)
{
	return s ? zenc__strdup(s) : NULL;
}

static struct call *new_call(const char *op)
{
	struct call *c;

	if (in_placement)
		store.by_placement++;
	assert_true(store.n_calls < MAX_CALLS);
	c = &store.calls[store.n_calls++];
	memset(c, 0, sizeof(*c));
	c->op = op;
	return c;
}

static void keep_step(struct call *c, const zenc__step_record *r)
{
	c->step = dup_or_null(r->name);
	c->status = dup_or_null(r->status);
	c->attempts = r->attempts;
	c->error_type = dup_or_null(r->error_type);
	c->error_message = dup_or_null(r->error_message);
}

static void keep_hooks(struct call *c, const zenc__hook_record *h, size_t n)
{
	size_t i;

	c->hooks = zenc__calloc(n + 1, sizeof(*c->hooks));
	c->n_hooks = n;
	for (i = 0; i < n; i++) {
		c->hooks[i].step = dup_or_null(h[i].step);
		c->hooks[i].event = dup_or_null(h[i].event);
		c->hooks[i].hook = dup_or_null(h[i].hook);
		c->hooks[i].status = dup_or_null(h[i].status);
		c->hooks[i].error = dup_or_null(h[i].error);
		c->hooks[i].attempt = h[i].attempt;
		c->hooks[i].seq = h[i].seq;
	}
}

static int fs_run_begin(zenc__store *self, const zenc__run_record *run)
{
	struct call *c;

	(void)self;
	pthread_mutex_lock(&store.mu);
	c = new_call("run_begin");
	c->status = dup_or_null(run->status);
	store.run_begin++;
	pthread_mutex_unlock(&store.mu);
	return 0;
}

static int fs_run_end(
	zenc__store *self, const char *run_id, const char *status, double ended)
{
	struct call *c;

	(void)self;
	(void)run_id;
	(void)ended;
	pthread_mutex_lock(&store.mu);
	c = new_call("run_end");
	c->status = dup_or_null(status);
	store.run_end++;
	pthread_mutex_unlock(&store.mu);
	return 0;
}

static int fs_step_put(zenc__store *self, const zenc__step_record *step)
{
	(void)self;
	pthread_mutex_lock(&store.mu);
	keep_step(new_call("step_put"), step);
	store.step_put++;
	pthread_mutex_unlock(&store.mu);
	return 0;
}

static int fs_steps_put(
	zenc__store *self, const zenc__step_record *steps, size_t n)
{
	size_t i;

	(void)self;
	pthread_mutex_lock(&store.mu);
	/* One call, one row each: the rows of one transaction. */
	for (i = 0; i < n; i++)
		keep_step(new_call("steps_put"), &steps[i]);
	store.steps_put++;
	pthread_mutex_unlock(&store.mu);
	return 0;
}

static int fs_step_end(
	zenc__store *self,
	const zenc__step_record *step,
	const zenc__attempt_record *attempt,
	const zenc__artifact_record *arts,
	size_t n_arts,
	const zenc__hook_record *hooks,
	size_t n_hooks)
{
	struct call *c;

	(void)self;
	(void)arts;
	pthread_mutex_lock(&store.mu);
	c = new_call("step_end");
	keep_step(c, step);
	c->attempt = attempt->attempt;
	c->attempt_status = dup_or_null(attempt->status);
	if (attempt->error_type)
		c->attempt_error = zenc__asprintf(
			"%s: %s", attempt->error_type,
			attempt->error_message ? attempt->error_message : "");
	c->n_arts = n_arts;
	keep_hooks(c, hooks, n_hooks);
	store.step_end++;
	pthread_mutex_unlock(&store.mu);
	return 0;
}

static int fs_hooks_put(
	zenc__store *self, const zenc__hook_record *hooks, size_t n)
{
	struct call *c;

	(void)self;
	pthread_mutex_lock(&store.mu);
	c = new_call("hooks_put");
	keep_hooks(c, hooks, n);
	store.hooks_put++;
	pthread_mutex_unlock(&store.mu);
	return 0;
}

/* What the engine has no business calling during a run. */
static int fs_artifacts_get(
	zenc__store *self,
	const char *run_id,
	const char *step,
	zenc__artifact_record **out,
	size_t *n,
	void **arena)
{
	(void)self;
	(void)run_id;
	(void)step;
	(void)out;
	(void)n;
	(void)arena;
	store.other++;
	return ZENC_ESTORE;
}

static int fs_run_show(
	zenc__store *self, const char *id_or_name, zenc__run_info *out)
{
	(void)self;
	(void)id_or_name;
	(void)out;
	store.other++;
	return ZENC_ESTORE;
}

static void store_reset(void)
{
	size_t i, j;

	for (i = 0; i < store.n_calls; i++) {
		struct call *c = &store.calls[i];
		free(c->step);
		free(c->status);
		free(c->error_type);
		free(c->error_message);
		free(c->attempt_status);
		free(c->attempt_error);
		for (j = 0; j < c->n_hooks; j++) {
			free(c->hooks[j].step);
			free(c->hooks[j].event);
			free(c->hooks[j].hook);
			free(c->hooks[j].status);
			free(c->hooks[j].error);
		}
		free(c->hooks);
	}
	memset(&store, 0, sizeof(store));
	pthread_mutex_init(&store.mu, NULL);
	store.base.version = ZENC__STORE_VERSION;
	store.base.flavor = "fake";
	store.base.run_begin = fs_run_begin;
	store.base.run_end = fs_run_end;
	store.base.step_put = fs_step_put;
	store.base.step_end = fs_step_end;
	store.base.hooks_put = fs_hooks_put;
	store.base.artifacts_get = fs_artifacts_get;
	store.base.run_show = fs_run_show;
	store.base.steps_put = fs_steps_put;
}

/* Every hook run recorded, in the order of the store's calls, one line
 * each: "STEP EVENT HOOK ATTEMPT STATUS[ ERROR]" ("-" for no step).
 * Checks on the way that their numbers increase. */
static char *recorded_hooks(void)
{
	zenc_buf b = ZENC_BUF_INIT;
	int last_seq = 0;
	size_t i, j;

	for (i = 0; i < store.n_calls; i++) {
		const struct call *c = &store.calls[i];
		for (j = 0; j < c->n_hooks; j++) {
			const struct hook_row *h = &c->hooks[j];
			zenc_buf_printf(
				&b, "%s %s %s %d %s%s%s\n",
				h->step ? h->step : "-", h->event, h->hook,
				h->attempt, h->status, h->error ? " " : "",
				h->error ? h->error : "");
			assert_true(h->seq > last_seq);
			last_seq = h->seq;
		}
	}
	return zenc_buf_detach(&b);
}

/* The step_end calls for `step`, one line each: "ATTEMPT STATUS[ ERROR]
 * -> ROW_STATUS ROW_ATTEMPTS[ ROW_ERROR]". */
static char *recorded_attempts(const char *step)
{
	zenc_buf b = ZENC_BUF_INIT;
	size_t i;

	for (i = 0; i < store.n_calls; i++) {
		const struct call *c = &store.calls[i];
		if (strcmp(c->op, "step_end") || strcmp(c->step, step))
			continue;
		zenc_buf_printf(
			&b, "%d %s%s%s -> %s %d", c->attempt, c->attempt_status,
			c->attempt_error ? " " : "",
			c->attempt_error ? c->attempt_error : "", c->status,
			c->attempts);
		if (c->error_type)
			zenc_buf_printf(
				&b, " %s: %s", c->error_type,
				c->error_message ? c->error_message : "");
		zenc_buf_putc(&b, '\n');
	}
	return zenc_buf_detach(&b);
}

/* The status of the last row written for `step` (NULL: none). */
static const char *last_row_status(const char *step)
{
	size_t i;

	for (i = store.n_calls; i-- > 0;)
		if (store.calls[i].step && !strcmp(store.calls[i].step, step))
			return store.calls[i].status;
	return NULL;
}

static const char *run_end_status(void)
{
	size_t i;

	for (i = 0; i < store.n_calls; i++)
		if (!strcmp(store.calls[i].op, "run_end"))
			return store.calls[i].status;
	return NULL;
}

static int count_op_rows(const char *op, const char *step)
{
	size_t i;
	int n = 0;

	for (i = 0; i < store.n_calls; i++)
		if (!strcmp(store.calls[i].op, op) &&
		    (!step || (store.calls[i].step &&
			       !strcmp(store.calls[i].step, step))))
			n++;
	return n;
}

/* ---- The fake orchestrator. */

/*
 * Two placements.  "inline" runs the attempt in the calling thread to
 * its end and returns 1, as the local orchestrator does under isolation
 * none.  "piped" runs it in a thread of its own on a copy of the
 * attempt, as a forked child runs on its copy, reporting its events on a
 * pipe; the thread stands for a process: it can die (fake_die()) or be
 * killed (the `kill` callback), after which nothing it does reaches the
 * supervisor, and `reap` returns the wait status of that death.
 */
enum placement { INLINE, PIPED };

#define FAKE_PID 999999 /* never signalled: only the fake's kill gets it */

struct job {
	zenc__attempt copy;
	zenc__attempt *a;
	pthread_t thread;
	int wfd;
	int wstatus;
	int dead;   /* it died, or was killed */
	int closed; /* it ended */
};

static struct fake_orch {
	enum placement mode;
	int check, open, start, reap, kill, completed, close;
	int kills[2]; /* SIGTERM, SIGKILL */
	struct job *jobs[16];
} orch;

static _Thread_local struct job *self_job;

/* The thread's "process" is gone: what it writes goes nowhere. */
/* Guards a job's end against a kill that comes at the same time. */
static pthread_mutex_t job_mu = PTHREAD_MUTEX_INITIALIZER;

static void job_cut(struct job *j, int wstatus)
{
	int null;

	pthread_mutex_lock(&job_mu);
	/* A process that has exited, or died, is past signals. */
	if (j->closed || j->dead) {
		pthread_mutex_unlock(&job_mu);
		return;
	}
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null < 0)
		abort();
	j->wstatus = wstatus;
	/* Closes the pipe's write end: the supervisor sees its end. */
	dup2(null, j->wfd);
	close(null);
	__atomic_store_n(&j->dead, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&job_mu);
}

/* Whether the process this thread stands for is dead: a dead process
 * runs nothing, so bodies and hooks return at once. */
static int fake_dead(void)
{
	return self_job && __atomic_load_n(&self_job->dead, __ATOMIC_SEQ_CST);
}

/* The process running this body or hook dies, by signal `sig`. */
static void fake_die(int sig)
{
	if (!self_job)
		abort(); /* only a placed thread stands for a process */
	job_cut(self_job, sig);
}

static void *job_main(void *payload)
{
	struct job *j = payload;

	in_placement = 1;
	self_job = j;
	zenc__attempt_exec(&j->copy, j->wfd);
	/* A process exits a moment after its last event: the supervisor
	 * must not take "done" for the end of the process. */
	zenc__sleep(0.02);
	pthread_mutex_lock(&job_mu);
	j->closed = 1;
	close(j->wfd);
	pthread_mutex_unlock(&job_mu);
	zenc__failure_release(&j->copy.err);
	return NULL;
}

static struct job **job_slot(zenc__attempt *a)
{
	size_t i;

	for (i = 0; i < sizeof(orch.jobs) / sizeof(orch.jobs[0]); i++)
		if (orch.jobs[i] && orch.jobs[i]->a == a)
			return &orch.jobs[i];
	return NULL;
}

static int fo_check(zenc__exec *x)
{
	(void)x;
	orch.check++;
	return 0;
}

static void fo_open(zenc__exec *x)
{
	(void)x;
	in_placement++;
	orch.open++;
	in_placement--;
}

static int fo_start(zenc__exec *x, zenc__attempt *a)
{
	struct job *j, **slot;
	int fds[2];
	size_t i;

	(void)x;
	in_placement++;
	orch.start++;
	if (orch.mode == INLINE) {
		zenc__attempt_exec(a, -1);
		in_placement--;
		return 1;
	}
	assert_null(job_slot(a));
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	j = zenc__calloc(1, sizeof(*j));
	j->a = a;
	j->copy = *a;
	memset(&j->copy.err, 0, sizeof(j->copy.err));
	zenc__failure_copy(&j->copy.err, &a->err);
	j->copy.hooks = NULL;
	j->copy.arts = NULL;
	j->copy.hook_name = NULL;
	memset(&j->copy.in, 0, sizeof(j->copy.in));
	j->wfd = fds[1];
	for (i = 0, slot = NULL; i < sizeof(orch.jobs) / sizeof(orch.jobs[0]);
	     i++)
		if (!orch.jobs[i]) {
			slot = &orch.jobs[i];
			break;
		}
	assert_non_null(slot);
	*slot = j;
	assert_int_equal(pthread_create(&j->thread, NULL, job_main, j), 0);
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	a->fd = fds[0];
	/* A pid, so that the supervisor arms deadlines. */
	a->pid = FAKE_PID;
	in_placement--;
	return 0;
}

static int fo_reap(zenc__exec *x, zenc__attempt *a, int *wstatus)
{
	struct job **slot = job_slot(a);

	(void)x;
	in_placement++;
	orch.reap++;
	assert_non_null(slot);
	pthread_join((*slot)->thread, NULL);
	*wstatus = (*slot)->wstatus;
	free(*slot);
	*slot = NULL;
	in_placement--;
	return 0;
}

static void fo_kill(zenc__attempt *a, int sig)
{
	struct job **slot = job_slot(a);

	in_placement++;
	orch.kill++;
	if (sig == SIGTERM)
		orch.kills[0]++;
	else if (sig == SIGKILL)
		orch.kills[1]++;
	assert_int_equal(a->pid, FAKE_PID);
	/* A SIGTERM or SIGKILL ends a step's process. */
	if (slot)
		job_cut(*slot, sig);
	in_placement--;
}

static void fo_completed(zenc__exec *x, const zenc__stepstate *ss)
{
	(void)x;
	(void)ss;
	in_placement++;
	orch.completed++;
	in_placement--;
}

static void fo_close(zenc__exec *x)
{
	(void)x;
	in_placement++;
	orch.close++;
	in_placement--;
}

/* Placement on this machine only: no `run`, `join` or `cancel`. */
static const zenc__orchestrator fake_orchestrator = {
	.version = ZENC__ORCHESTRATOR_VERSION,
	.name = "fake",
	.check = fo_check,
	.open = fo_open,
	.start = fo_start,
	.reap = fo_reap,
	.kill = fo_kill,
	.completed = fo_completed,
	.close = fo_close,
};

/* ---- Steps and hooks. */

/* The body fails on attempts up to this one (0: never; -1: always). */
static int fail_until;

static int body_ok(zenc_step_context *ctx)
{
	trace_add("body %s %d", zenc_ctx_step_name(ctx), zenc_ctx_attempt(ctx));
	return 0;
}

static int body_flaky(zenc_step_context *ctx)
{
	int n = zenc_ctx_attempt(ctx);

	trace_add("body %s %d", zenc_ctx_step_name(ctx), n);
	if (fail_until < 0 || n <= fail_until)
		return zenc_raise(ctx, "ValueError", "boom %d", n);
	return 0;
}

static int body_die(zenc_step_context *ctx)
{
	trace_add("body %s %d", zenc_ctx_step_name(ctx), zenc_ctx_attempt(ctx));
	fake_die(SIGKILL);
	return 0;
}

static int body_hang(zenc_step_context *ctx)
{
	double until = zenc__monotonic() + 10;

	trace_add("body %s %d", zenc_ctx_step_name(ctx), zenc_ctx_attempt(ctx));
	while (!fake_dead() && zenc__monotonic() < until)
		zenc__sleep(0.001);
	return 0;
}

/* The run is interrupted (as by SIGINT) while this body runs. */
static int body_interrupted(zenc_step_context *ctx)
{
	zenc__interrupted = 1;
	return body_hang(ctx);
}

static void note_hook(
	const char *name, zenc_step_context *ctx, const zenc_exception *err)
{
	if (!err) {
		trace_add(
			"%s %s %s %d", zenc_ctx_hook_event(ctx), name,
			zenc_ctx_step_name(ctx), zenc_ctx_attempt(ctx));
		return;
	}
	if (err->signal)
		trace_add(
			"%s %s %s %d %s: %s (attempt %d) sig %d",
			zenc_ctx_hook_event(ctx), name, zenc_ctx_step_name(ctx),
			zenc_ctx_attempt(ctx), err->type, err->message,
			err->attempt, err->signal);
	else
		trace_add(
			"%s %s %s %d %s: %s (attempt %d)",
			zenc_ctx_hook_event(ctx), name, zenc_ctx_step_name(ctx),
			zenc_ctx_attempt(ctx), err->type, err->message,
			err->attempt);
}

static void h_a(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	(void)params;
	if (!fake_dead())
		note_hook("h_a", ctx, err);
}

static void h_b(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	(void)params;
	if (!fake_dead())
		note_hook("h_b", ctx, err);
}

static void h_raise(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	(void)params;
	if (fake_dead())
		return;
	note_hook("h_raise", ctx, err);
	zenc_raise(ctx, "HookError", "nope");
}

static void h_die(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	(void)params;
	if (fake_dead())
		return;
	note_hook("h_die", ctx, err);
	fake_die(SIGKILL);
}

static void h_hang(
	zenc_step_context *ctx, const void *params, const zenc_exception *err)
{
	double until = zenc__monotonic() + 10;

	(void)params;
	if (fake_dead())
		return;
	note_hook("h_hang", ctx, err);
	while (!fake_dead() && zenc__monotonic() < until)
		zenc__sleep(0.001);
}

static void r_a(const zenc_run *run)
{
	trace_add("run r_a %s", zenc_run_failed(run) ? "failed" : "ok");
}

static void r_b(const zenc_run *run)
{
	trace_add("run r_b %s", zenc_run_failed(run) ? "failed" : "ok");
}

static void r_raise(void)
{
	trace_add("run r_raise");
	zenc_raise(NULL, "HookError", "run hook");
}

/* ---- A run, set up as run.c sets up a local one. */

struct fixture {
	enum placement mode;
	char *dir;
	zenc_pipeline *p;
	zenc__exec x;
	int keep_going;
	int jobs;
};

static int setup(void **state)
{
	struct fixture *f = zenc__calloc(1, sizeof(*f));
	const char *base = getenv("ZENC_TEST_TMP");

	f->mode = *(enum placement *)*state;
	if (!base || !*base)
		base = "/tmp";
	if (zenc__mkdir_p(base, 0755) < 0)
		return -1;
	f->dir = zenc__asprintf("%s/test_engine.XXXXXX", base);
	if (!mkdtemp(f->dir))
		return -1;
	if (zenc_pipeline_new(&f->p, "pe") < 0)
		return -1;
	f->jobs = 1;
	store_reset();
	memset(&orch, 0, sizeof(orch));
	orch.mode = f->mode;
	zenc_buf_clear(&trace);
	zenc_buf_clear(&logged);
	fail_until = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (rmdir(f->dir) < 0)
		fprintf(stderr, "cannot remove '%s': %s\n", f->dir,
			strerror(errno));
	free(f->dir);
	zenc_pipeline_free(f->p);
	store_reset();
	zenc_buf_release(&trace);
	zenc_buf_release(&logged);
	zenc__interrupted = 0;
	free(f);
	return 0;
}

static zenc_step *add_step(struct fixture *f, const char *name, zenc_step_fn fn)
{
	zenc_step *s = NULL;

	assert_int_equal(zenc_pipeline_add_step(&s, f->p, name, fn), 0);
	return s;
}

static void exec_release(zenc__exec *x)
{
	size_t i, j;

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
	free(x->resumed_from);
	zenc_run_free(x->run);
}

/* The run's state, as run.c builds it for a local run, with the fakes
 * as its store and placement. */
static void exec_setup(struct fixture *f)
{
	zenc__exec *x = &f->x;
	size_t i;

	assert_int_equal(zenc_pipeline_validate(f->p), 0);
	memset(x, 0, sizeof(*x));
	x->p = f->p;
	x->started = zenc__now();
	x->run = zenc__calloc(1, sizeof(*x->run));
	zenc__uuid(x->run->id);
	x->run->name = zenc__strdup("pe-run");
	x->run->pipeline = zenc__strdup(f->p->name);
	x->steps = zenc__calloc(f->p->n_steps, sizeof(*x->steps));
	for (i = 0; i < f->p->n_steps; i++) {
		zenc__stepstate *ss = &x->steps[i];
		zenc_step *s = f->p->steps[i];
		ss->step = s;
		zenc__params_init(ss);
		ss->upstream_json = zenc__strdup("[]");
		ss->backoff = 1;
		if (s->retry.set) {
			ss->max_retries = s->retry.max_retries;
			ss->delay = s->retry.delay;
			ss->backoff = s->retry.backoff;
		}
		ss->timeout = s->timeout;
		ss->hook_timeout = s->hook_timeout > 0
					   ? s->hook_timeout
					   : ZENC__DEFAULT_HOOK_TIMEOUT;
	}
	x->jobs = f->jobs;
	x->isolation = f->mode == INLINE ? ZENC_ISOLATION_NONE
					 : ZENC_ISOLATION_PROCESS;
	x->keep_going = f->keep_going;
	x->quiet = 0; /* for the messages about skipped steps */
	x->hook_failure = f->p->hook_failure;
	x->store = &store.base;
	x->run_dir = f->dir;
	x->orch = x->place = &fake_orchestrator;
}

/* Runs the pipeline with the fakes; returns whether the run failed. */
static int run(struct fixture *f)
{
	zenc__exec *x = &f->x;
	int failed;

	exec_setup(f);
	assert_int_equal(x->orch->check(x), 0);
	assert_int_equal(zenc__engine_begin_run(x, 0), 0);
	assert_int_equal(zenc__engine_run(x), 0);
	zenc__engine_end_run(x);

	failed = x->run->failed;
	exec_release(x);
	return failed;
}

/* What holds after every run, whatever happened in it. */
static void check_run_invariants(struct fixture *f, int attempts)
{
	size_t i;

	/* The engine, not the orchestrator, wrote every record. */
	assert_int_equal(store.by_placement, 0);
	assert_int_equal(store.other, 0);
	assert_int_equal(store.run_begin, 1);
	assert_int_equal(store.run_end, 1);
	assert_string_equal(store.calls[0].op, "run_begin");
	assert_string_equal(store.calls[0].status, "running");
	assert_string_equal(store.calls[store.n_calls - 1].op, "run_end");
	/* One step_end per attempt. */
	assert_int_equal(store.step_end, attempts);
	/* The placement was opened and closed once around the steps. */
	assert_int_equal(orch.check, 1);
	assert_int_equal(orch.open, 1);
	assert_int_equal(orch.close, 1);
	if (f->mode == INLINE) {
		assert_int_equal(orch.reap, 0);
		assert_int_equal(orch.kill, 0);
	} else {
		/* Every process started was reaped. */
		assert_int_equal(orch.reap, orch.start);
		for (i = 0; i < sizeof(orch.jobs) / sizeof(orch.jobs[0]); i++)
			assert_null(orch.jobs[i]);
	}
}

static void assert_trace(const char *want)
{
	assert_string_equal(zenc_buf_cstr(&trace), want);
}

static void assert_hooks(const char *want)
{
	char *got = recorded_hooks();

	assert_string_equal(got, want);
	free(got);
}

static void assert_attempts(const char *step, const char *want)
{
	char *got = recorded_attempts(step);

	assert_string_equal(got, want);
	free(got);
}

/* ---- The rules. */

/* on_start, the body, on_success in registration order, on_end; the
 * failure hooks stay silent. */
static void test_success_hooks_in_order(void **state)
{
	struct fixture *f = *state;
	zenc_step *s = add_step(f, "work", body_ok);

	zenc_step_on_start(s, ZENC_HOOK(h_a));
	zenc_step_on_success(s, ZENC_HOOK(h_b));
	zenc_step_on_success(s, ZENC_HOOK(h_a));
	zenc_step_on_failure(s, ZENC_HOOK(h_a));
	zenc_step_on_retry(s, ZENC_HOOK(h_a));
	zenc_step_on_end(s, ZENC_HOOK(h_b));

	assert_false(run(f));
	assert_trace("on_start h_a work 1\n"
		     "body work 1\n"
		     "on_success h_b work 1\n"
		     "on_success h_a work 1\n"
		     "on_end h_b work 1\n");
	assert_hooks("work on_start h_a 1 completed\n"
		     "work on_success h_b 1 completed\n"
		     "work on_success h_a 1 completed\n"
		     "work on_end h_b 1 completed\n");
	assert_attempts("work", "1 completed -> completed 1\n");
	assert_string_equal(run_end_status(), "completed");
	check_run_invariants(f, 1);
	assert_int_equal(orch.start, 1);
	assert_int_equal(orch.completed, 1);
}

/* The failure hooks (and on_end) get the step's error; the success
 * hooks do not run. */
static void test_failure_hooks_get_error(void **state)
{
	struct fixture *f = *state;
	zenc_step *s = add_step(f, "work", body_flaky);

	fail_until = -1;
	zenc_step_on_success(s, ZENC_HOOK(h_a));
	zenc_step_on_failure(s, ZENC_HOOK(h_a));
	zenc_step_on_failure(s, ZENC_HOOK(h_b));
	zenc_step_on_end(s, ZENC_HOOK(h_b));

	assert_true(run(f));
	assert_trace("body work 1\n"
		     "on_failure h_a work 1 ValueError: boom 1 (attempt 1)\n"
		     "on_failure h_b work 1 ValueError: boom 1 (attempt 1)\n"
		     "on_end h_b work 1 ValueError: boom 1 (attempt 1)\n");
	assert_hooks("work on_failure h_a 1 completed\n"
		     "work on_failure h_b 1 completed\n"
		     "work on_end h_b 1 completed\n");
	assert_attempts(
		"work", "1 failed ValueError: boom 1 -> failed 1 "
			"ValueError: boom 1\n");
	assert_string_equal(run_end_status(), "failed");
	check_run_invariants(f, 1);
	assert_int_equal(orch.completed, 0);
}

/* Pipeline hooks are defaults; a step's own list for an event replaces
 * them for that event only. */
static void test_step_hooks_take_precedence_per_event(void **state)
{
	struct fixture *f = *state;
	zenc_step *own = add_step(f, "own", body_ok);

	add_step(f, "plain", body_ok);
	zenc_pipeline_on_success(f->p, ZENC_HOOK(h_a));
	zenc_pipeline_on_end(f->p, ZENC_HOOK(h_a));
	zenc_step_on_success(own, ZENC_HOOK(h_b));

	assert_false(run(f));
	assert_trace("body own 1\n"
		     "on_success h_b own 1\n"
		     "on_end h_a own 1\n"
		     "body plain 1\n"
		     "on_success h_a plain 1\n"
		     "on_end h_a plain 1\n");
	check_run_invariants(f, 2);
}

/* A failing hook is recorded as failed with its own error; the step's
 * outcome and error stand, and the hooks after it still run. */
static void test_failing_hook_changes_nothing(void **state)
{
	struct fixture *f = *state;
	zenc_step *good = add_step(f, "good", body_ok);
	zenc_step *bad = add_step(f, "bad", body_flaky);

	f->keep_going = 1;
	fail_until = -1;
	zenc_step_on_start(good, ZENC_HOOK(h_raise));
	zenc_step_on_success(good, ZENC_HOOK(h_raise));
	zenc_step_on_success(good, ZENC_HOOK(h_a));
	zenc_step_on_failure(bad, ZENC_HOOK(h_raise));
	zenc_step_on_failure(bad, ZENC_HOOK(h_a));
	zenc_step_on_end(bad, ZENC_HOOK(h_raise));
	zenc_step_on_end(bad, ZENC_HOOK(h_b));

	assert_true(run(f));
	assert_trace("on_start h_raise good 1\n"
		     "body good 1\n"
		     "on_success h_raise good 1\n"
		     "on_success h_a good 1\n"
		     "body bad 1\n"
		     "on_failure h_raise bad 1 ValueError: boom 1 (attempt 1)\n"
		     "on_failure h_a bad 1 ValueError: boom 1 (attempt 1)\n"
		     "on_end h_raise bad 1 ValueError: boom 1 (attempt 1)\n"
		     "on_end h_b bad 1 ValueError: boom 1 (attempt 1)\n");
	assert_hooks("good on_start h_raise 1 failed HookError: nope\n"
		     "good on_success h_raise 1 failed HookError: nope\n"
		     "good on_success h_a 1 completed\n"
		     "bad on_failure h_raise 1 failed HookError: nope\n"
		     "bad on_failure h_a 1 completed\n"
		     "bad on_end h_raise 1 failed HookError: nope\n"
		     "bad on_end h_b 1 completed\n");
	/* Each failing hook run is logged as a warning. */
	assert_logged("Hook on_start h_raise for good failed: HookError: nope");
	assert_logged(
		"Hook on_failure h_raise for bad failed: HookError: nope");
	assert_logged("Hook on_end h_raise for bad failed: HookError: nope");
	assert_attempts("good", "1 completed -> completed 1\n");
	assert_attempts(
		"bad", "1 failed ValueError: boom 1 -> failed 1 "
		       "ValueError: boom 1\n");
	check_run_invariants(f, 2);
}

/* Strict mode: a failing success hook fails the step with HookFailed;
 * the rest of the success list is not run, the failure hooks are. */
static void test_strict_mode(void **state)
{
	struct fixture *f = *state;
	zenc_step *s = add_step(f, "work", body_ok);

	zenc_pipeline_set_hook_failure(f->p, ZENC_HOOK_FAILURE_FAIL);
	zenc_step_on_start(s, ZENC_HOOK(h_raise));
	zenc_step_on_success(s, ZENC_HOOK(h_raise));
	zenc_step_on_success(s, ZENC_HOOK(h_a));
	zenc_step_on_failure(s, ZENC_HOOK(h_b));
	zenc_step_on_end(s, ZENC_HOOK(h_b));

	assert_true(run(f));
	assert_trace("on_start h_raise work 1\n"
		     "body work 1\n"
		     "on_success h_raise work 1\n"
		     "on_failure h_b work 1 HookFailed: success hook "
		     "'h_raise' failed (attempt 1)\n"
		     "on_end h_b work 1 HookFailed: success hook 'h_raise' "
		     "failed (attempt 1)\n");
	assert_hooks("work on_start h_raise 1 failed HookError: nope\n"
		     "work on_success h_raise 1 failed HookError: nope\n"
		     "work on_failure h_b 1 completed\n"
		     "work on_end h_b 1 completed\n");
	assert_attempts(
		"work", "1 failed HookFailed: success hook 'h_raise' failed "
			"-> failed 1 HookFailed: success hook 'h_raise' "
			"failed\n");
	check_run_invariants(f, 1);
	assert_int_equal(orch.completed, 0);
}

/* Without strict mode the same hooks leave the step completed. */
static void test_lenient_mode(void **state)
{
	struct fixture *f = *state;
	zenc_step *s = add_step(f, "work", body_ok);

	zenc_step_on_success(s, ZENC_HOOK(h_raise));
	zenc_step_on_success(s, ZENC_HOOK(h_a));
	zenc_step_on_failure(s, ZENC_HOOK(h_b));

	assert_false(run(f));
	assert_trace("body work 1\n"
		     "on_success h_raise work 1\n"
		     "on_success h_a work 1\n");
	assert_attempts("work", "1 completed -> completed 1\n");
	check_run_invariants(f, 1);
}

/* Retries: on_retry after each failed attempt that is retried, with
 * that attempt's error; on_start and on_end every attempt; on_success
 * once, for the last. */
static void test_retry_then_success(void **state)
{
	struct fixture *f = *state;
	zenc_step *s = add_step(f, "work", body_flaky);

	fail_until = 2;
	zenc_step_set_retry(s, 2, 0, 1);
	zenc_step_on_start(s, ZENC_HOOK(h_a));
	zenc_step_on_retry(s, ZENC_HOOK(h_b));
	zenc_step_on_success(s, ZENC_HOOK(h_a));
	zenc_step_on_failure(s, ZENC_HOOK(h_a));
	zenc_step_on_end(s, ZENC_HOOK(h_b));

	assert_false(run(f));
	assert_trace("on_start h_a work 1\n"
		     "body work 1\n"
		     "on_retry h_b work 1 ValueError: boom 1 (attempt 1)\n"
		     "on_end h_b work 1 ValueError: boom 1 (attempt 1)\n"
		     "on_start h_a work 2\n"
		     "body work 2\n"
		     "on_retry h_b work 2 ValueError: boom 2 (attempt 2)\n"
		     "on_end h_b work 2 ValueError: boom 2 (attempt 2)\n"
		     "on_start h_a work 3\n"
		     "body work 3\n"
		     "on_success h_a work 3\n"
		     "on_end h_b work 3\n");
	assert_hooks("work on_start h_a 1 completed\n"
		     "work on_retry h_b 1 completed\n"
		     "work on_end h_b 1 completed\n"
		     "work on_start h_a 2 completed\n"
		     "work on_retry h_b 2 completed\n"
		     "work on_end h_b 2 completed\n"
		     "work on_start h_a 3 completed\n"
		     "work on_success h_a 3 completed\n"
		     "work on_end h_b 3 completed\n");
	assert_attempts(
		"work", "1 failed ValueError: boom 1 -> running 1 "
			"ValueError: boom 1\n"
			"2 failed ValueError: boom 2 -> running 2 "
			"ValueError: boom 2\n"
			"3 completed -> completed 3\n");
	check_run_invariants(f, 3);
	assert_int_equal(orch.completed, 1);
}

/* Retries that run out: on_failure once, after the last attempt, with
 * its error and number. */
static void test_retries_run_out(void **state)
{
	struct fixture *f = *state;
	zenc_step *s = add_step(f, "work", body_flaky);

	fail_until = -1;
	zenc_step_set_retry(s, 1, 0, 1);
	zenc_step_on_retry(s, ZENC_HOOK(h_b));
	zenc_step_on_failure(s, ZENC_HOOK(h_a));

	assert_true(run(f));
	assert_trace("body work 1\n"
		     "on_retry h_b work 1 ValueError: boom 1 (attempt 1)\n"
		     "body work 2\n"
		     "on_failure h_a work 2 ValueError: boom 2 (attempt 2)\n");
	assert_hooks("work on_retry h_b 1 completed\n"
		     "work on_failure h_a 2 completed\n");
	assert_attempts(
		"work", "1 failed ValueError: boom 1 -> running 1 "
			"ValueError: boom 1\n"
			"2 failed ValueError: boom 2 -> failed 2 "
			"ValueError: boom 2\n");
	check_run_invariants(f, 2);
}

/* A failed step skips its downstream steps, which fire no hooks; and
 * unless the run keeps going, nothing else starts. */
static void test_failure_skips_downstream(void **state)
{
	struct fixture *f = *state;
	zenc_step *up = add_step(f, "up", body_flaky);
	zenc_step *down = add_step(f, "down", body_ok);

	add_step(f, "side", body_ok);
	fail_until = -1;
	zenc_step_after(down, up);
	zenc_pipeline_on_start(f->p, ZENC_HOOK(h_a));
	zenc_pipeline_on_failure(f->p, ZENC_HOOK(h_b));

	assert_true(run(f));
	assert_trace("on_start h_a up 1\n"
		     "body up 1\n"
		     "on_failure h_b up 1 ValueError: boom 1 (attempt 1)\n");
	assert_string_equal(last_row_status("up"), "failed");
	assert_string_equal(last_row_status("down"), "skipped");
	assert_string_equal(last_row_status("side"), "skipped");
	assert_int_equal(count_op_rows("step_end", "down"), 0);
	assert_int_equal(count_op_rows("step_end", "side"), 0);
	assert_logged("Step down was skipped: an upstream step failed.");
	assert_logged("Step side was skipped: the run failed.");
	check_run_invariants(f, 1);
	assert_int_equal(orch.start, 1);
}

static void test_keep_going(void **state)
{
	struct fixture *f = *state;
	zenc_step *up = add_step(f, "up", body_flaky);
	zenc_step *down = add_step(f, "down", body_ok);
	zenc_step *last = add_step(f, "last", body_ok);

	add_step(f, "side", body_ok);
	f->keep_going = 1;
	fail_until = -1;
	zenc_step_after(down, up);
	zenc_step_after(last, down);
	zenc_pipeline_on_start(f->p, ZENC_HOOK(h_a));

	assert_true(run(f));
	assert_trace("on_start h_a up 1\n"
		     "body up 1\n"
		     "on_start h_a side 1\n"
		     "body side 1\n");
	assert_string_equal(last_row_status("up"), "failed");
	assert_string_equal(last_row_status("down"), "skipped");
	assert_string_equal(last_row_status("last"), "skipped");
	assert_string_equal(last_row_status("side"), "completed");
	assert_string_equal(run_end_status(), "failed");
	/* Skipped for their upstream's failure, not for the run's. */
	assert_logged("Step down was skipped: an upstream step failed.");
	assert_logged("Step last was skipped: an upstream step failed.");
	check_run_invariants(f, 2);
}

/* Run-level hooks: once, after the last step, the list for the run's
 * outcome, in order, recorded with one hooks_put; a failing one leaves
 * the run's status as it was. */
static void test_run_hooks_on_success(void **state)
{
	struct fixture *f = *state;

	add_step(f, "one", body_ok);
	add_step(f, "two", body_ok);
	zenc_pipeline_on_run_success(f->p, ZENC_HOOK(r_raise));
	zenc_pipeline_on_run_success(f->p, ZENC_HOOK(r_a));
	zenc_pipeline_on_run_failure(f->p, ZENC_HOOK(r_b));

	assert_false(run(f));
	assert_trace("body one 1\n"
		     "body two 1\n"
		     "run r_raise\n"
		     "run r_a ok\n");
	assert_int_equal(store.hooks_put, 1);
	assert_hooks("- on_run_success r_raise 0 failed HookError: run hook\n"
		     "- on_run_success r_a 0 completed\n");
	assert_string_equal(run_end_status(), "completed");
	check_run_invariants(f, 2);
	/* hooks_put comes before the end of the run. */
	assert_string_equal(store.calls[store.n_calls - 2].op, "hooks_put");
}

static void test_run_hooks_on_failure(void **state)
{
	struct fixture *f = *state;

	add_step(f, "one", body_flaky);
	fail_until = -1;
	zenc_pipeline_on_run_success(f->p, ZENC_HOOK(r_a));
	zenc_pipeline_on_run_failure(f->p, ZENC_HOOK(r_b));
	zenc_pipeline_on_run_failure(f->p, ZENC_HOOK(r_a));

	assert_true(run(f));
	assert_trace("body one 1\n"
		     "run r_b failed\n"
		     "run r_a failed\n");
	assert_int_equal(store.hooks_put, 1);
	assert_hooks("- on_run_failure r_b 0 completed\n"
		     "- on_run_failure r_a 0 completed\n");
	assert_string_equal(run_end_status(), "failed");
	check_run_invariants(f, 1);
}

/* No run-level hooks: no hooks_put at all. */
static void test_no_run_hooks_no_write(void **state)
{
	struct fixture *f = *state;

	add_step(f, "one", body_ok);
	assert_false(run(f));
	assert_int_equal(store.hooks_put, 0);
	check_run_invariants(f, 1);
}

/* ---- Deaths and deadlines: only a placement that reports on a pipe
 * can die or be killed part-way. */

/* The step's process dies in the body: the supervisor records a Signal
 * failure and a continuation runs the failure hooks with that error. */
static void test_body_dies(void **state)
{
	struct fixture *f = *state;
	zenc_step *s = add_step(f, "work", body_die);

	zenc_step_on_success(s, ZENC_HOOK(h_a));
	zenc_step_on_failure(s, ZENC_HOOK(h_a));
	zenc_step_on_end(s, ZENC_HOOK(h_b));

	assert_true(run(f));
	assert_trace("body work 1\n"
		     "on_failure h_a work 1 Signal: killed by SIGKILL "
		     "(attempt 1) sig 9\n"
		     "on_end h_b work 1 Signal: killed by SIGKILL "
		     "(attempt 1) sig 9\n");
	assert_hooks("work on_failure h_a 1 completed\n"
		     "work on_end h_b 1 completed\n");
	assert_attempts(
		"work", "1 failed Signal: killed by SIGKILL -> failed 1 "
			"Signal: killed by SIGKILL\n");
	/* The step's process, then its continuation: one attempt. */
	assert_int_equal(orch.start, 2);
	check_run_invariants(f, 1);
}

/* A hook whose process dies is recorded as failed; the hooks after it
 * run in a continuation and the step stays completed. */
static void test_success_hook_dies(void **state)
{
	struct fixture *f = *state;
	zenc_step *s = add_step(f, "work", body_ok);

	zenc_step_on_success(s, ZENC_HOOK(h_a));
	zenc_step_on_success(s, ZENC_HOOK(h_die));
	zenc_step_on_success(s, ZENC_HOOK(h_b));
	zenc_step_on_end(s, ZENC_HOOK(h_a));

	assert_false(run(f));
	assert_trace("body work 1\n"
		     "on_success h_a work 1\n"
		     "on_success h_die work 1\n"
		     "on_success h_b work 1\n"
		     "on_end h_a work 1\n");
	assert_hooks("work on_success h_a 1 completed\n"
		     "work on_success h_die 1 failed killed by SIGKILL\n"
		     "work on_success h_b 1 completed\n"
		     "work on_end h_a 1 completed\n");
	assert_attempts("work", "1 completed -> completed 1\n");
	assert_int_equal(orch.start, 2);
	assert_int_equal(orch.completed, 1);
	check_run_invariants(f, 1);
}

/* A failure hook that dies neither stops the next one nor replaces the
 * step's error. */
static void test_failure_hook_dies(void **state)
{
	struct fixture *f = *state;
	zenc_step *s = add_step(f, "work", body_flaky);

	fail_until = -1;
	zenc_step_on_failure(s, ZENC_HOOK(h_die));
	zenc_step_on_failure(s, ZENC_HOOK(h_a));

	assert_true(run(f));
	assert_trace("body work 1\n"
		     "on_failure h_die work 1 ValueError: boom 1 (attempt 1)\n"
		     "on_failure h_a work 1 ValueError: boom 1 (attempt 1)\n");
	assert_hooks("work on_failure h_die 1 failed killed by SIGKILL\n"
		     "work on_failure h_a 1 completed\n");
	assert_attempts(
		"work", "1 failed ValueError: boom 1 -> failed 1 "
			"ValueError: boom 1\n");
	check_run_invariants(f, 1);
}

/* A hook past its deadline is killed at once and recorded as timed out;
 * the next hook runs and the step's outcome stands. */
static void test_hook_deadline(void **state)
{
	struct fixture *f = *state;
	zenc_step *s = add_step(f, "work", body_ok);

	zenc_step_set_hook_timeout(s, 0.2);
	zenc_step_on_success(s, ZENC_HOOK(h_hang));
	zenc_step_on_success(s, ZENC_HOOK(h_a));

	assert_false(run(f));
	assert_trace("body work 1\n"
		     "on_success h_hang work 1\n"
		     "on_success h_a work 1\n");
	assert_hooks("work on_success h_hang 1 timeout timed out after 0.2s\n"
		     "work on_success h_a 1 completed\n");
	assert_attempts("work", "1 completed -> completed 1\n");
	assert_int_equal(orch.kills[0], 0);
	assert_int_equal(orch.kills[1], 1);
	check_run_invariants(f, 1);
}

/* A body past its timeout gets SIGTERM and fails with Timeout; its
 * failure hooks run. */
static void test_body_timeout(void **state)
{
	struct fixture *f = *state;
	zenc_step *s = add_step(f, "work", body_hang);

	zenc_step_set_timeout(s, 0.2);
	zenc_step_on_failure(s, ZENC_HOOK(h_a));

	assert_true(run(f));
	assert_trace("body work 1\n"
		     "on_failure h_a work 1 Timeout: step exceeded its "
		     "timeout of 0.2s (attempt 1) sig 15\n");
	assert_attempts(
		"work", "1 failed Timeout: step exceeded its timeout of 0.2s "
			"-> failed 1 Timeout: step exceeded its timeout of "
			"0.2s\n");
	assert_int_equal(orch.kills[0], 1);
	check_run_invariants(f, 1);
}

/* An attempt that ended where no supervisor saw it (a cluster lost its
 * job): its retry or failure hooks and its on_end hooks run here, never
 * its on_start hooks nor its body, numbered just below the next
 * attempt's range, and the failed attempt is recorded. */
static void test_lost_attempt(void **state)
{
	struct fixture *f = *state;
	zenc_step *s = add_step(f, "work", body_ok);
	zenc__stepstate *ss;
	size_t i;
	int n = 0;

	zenc_step_set_retry(s, 1, 0, 1);
	zenc_step_on_start(s, ZENC_HOOK(h_b));
	zenc_step_on_retry(s, ZENC_HOOK(h_a));
	zenc_step_on_failure(s, ZENC_HOOK(h_b));
	zenc_step_on_end(s, ZENC_HOOK(h_a));
	exec_setup(f);
	ss = &f->x.steps[0];
	ss->started = zenc__now();

	assert_int_equal(
		zenc__engine_attempt_lost(
			&f->x, ss, 1, "NodeFail", "node died", 1),
		1);
	assert_int_equal(ss->status, ZENC__ST_WAITING);
	assert_false(f->x.run->failed);
	assert_int_equal(
		zenc__engine_attempt_lost(&f->x, ss, 2, "NodeFail", "again", 1),
		0);
	assert_int_equal(ss->status, ZENC__ST_FAILED);
	assert_true(f->x.run->failed);

	assert_trace("on_retry h_a work 1 NodeFail: node died (attempt 1)\n"
		     "on_end h_a work 1 NodeFail: node died (attempt 1)\n"
		     "on_failure h_b work 2 NodeFail: again (attempt 2)\n"
		     "on_end h_a work 2 NodeFail: again (attempt 2)\n");
	assert_hooks("work on_retry h_a 1 completed\n"
		     "work on_end h_a 1 completed\n"
		     "work on_failure h_b 2 completed\n"
		     "work on_end h_a 2 completed\n");
	assert_attempts(
		"work", "1 failed NodeFail: node died -> running 1 "
			"NodeFail: node died\n"
			"2 failed NodeFail: again -> failed 2 NodeFail: "
			"again\n");
	for (i = 0; i < store.n_calls; i++) {
		if (strcmp(store.calls[i].op, "step_end"))
			continue;
		n++;
		assert_int_equal(store.calls[i].hooks[0].seq, n * 1000 - 99);
	}
	assert_int_equal(n, 2);
	assert_int_equal(store.by_placement, 0);
	assert_int_equal(store.step_end, 2);
	assert_int_equal(store.run_begin + store.run_end, 0);
	assert_int_equal(orch.start, 2);
	if (f->mode == PIPED)
		assert_int_equal(orch.reap, 2);
	exec_release(&f->x);
}

/* An interrupted run stops its running step (SIGTERM through the
 * placement), which fails as Cancelled and still gets its failure hooks;
 * what had not started is skipped, and the run's failure hooks run. */
static void test_interrupt(void **state)
{
	struct fixture *f = *state;
	zenc_step *s = add_step(f, "work", body_interrupted);
	zenc_step *next = add_step(f, "next", body_ok);

	zenc_step_after(next, s);
	zenc_step_on_failure(s, ZENC_HOOK(h_a));
	zenc_pipeline_on_run_failure(f->p, ZENC_HOOK(r_a));

	assert_true(run(f));
	assert_trace("body work 1\n"
		     "on_failure h_a work 1 Cancelled: the run was "
		     "interrupted (attempt 1) sig 15\n"
		     "run r_a failed\n");
	assert_attempts(
		"work", "1 failed Cancelled: the run was interrupted -> "
			"failed 1 Cancelled: the run was interrupted\n");
	assert_string_equal(last_row_status("next"), "skipped");
	assert_logged("interrupted: stopping the running steps");
	assert_int_equal(orch.kills[0], 1);
	assert_int_equal(orch.kills[1], 0);
	check_run_invariants(f, 1);
}

#define RULE(fn, mode)                                                         \
	{                                                                      \
#fn, fn, setup, teardown, &(mode)                              \
	}

static enum placement inline_mode = INLINE, piped_mode = PIPED;

#define BOTH(m)                                                                \
	RULE(test_success_hooks_in_order, m),                                  \
		RULE(test_failure_hooks_get_error, m),                         \
		RULE(test_step_hooks_take_precedence_per_event, m),            \
		RULE(test_failing_hook_changes_nothing, m),                    \
		RULE(test_strict_mode, m), RULE(test_lenient_mode, m),         \
		RULE(test_retry_then_success, m),                              \
		RULE(test_retries_run_out, m),                                 \
		RULE(test_failure_skips_downstream, m),                        \
		RULE(test_keep_going, m), RULE(test_run_hooks_on_success, m),  \
		RULE(test_run_hooks_on_failure, m),                            \
		RULE(test_no_run_hooks_no_write, m),                           \
		RULE(test_lost_attempt, m)

int main(void)
{
	const struct CMUnitTest in_thread[] = {BOTH(inline_mode)};
	const struct CMUnitTest piped[] = {
		BOTH(piped_mode),
		RULE(test_body_dies, piped_mode),
		RULE(test_success_hook_dies, piped_mode),
		RULE(test_failure_hook_dies, piped_mode),
		RULE(test_hook_deadline, piped_mode),
		RULE(test_body_timeout, piped_mode),
		RULE(test_interrupt, piped_mode),
	};
	int failed = 0;

	zenc_log_set(ZENC_LOG_INFO, log_cb, NULL);
	failed += cmocka_run_group_tests_name("inline", in_thread, NULL, NULL);
	failed += cmocka_run_group_tests_name("piped", piped, NULL, NULL);
	return failed;
}
