/*
 * The local orchestrator: runs a validated pipeline's steps on this
 * machine in dependency order, up to `jobs` at a time, each in a forked
 * child (isolation "process") or in this process ("none"), supervises the
 * children (deadlines, memory, deaths) and records every event.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "orchestrator.h"

volatile sig_atomic_t zenc__interrupted;

/* A hook past its deadline is killed at once; a body gets SIGTERM first and
 * this long to clean up before SIGKILL. */
#define TERM_GRACE 0.5
/* How often a memory-limited step's resident memory is sampled. */
#define MEMORY_SAMPLE 0.01
/* A step whose continuations keep dying is given up after this many. */
#define MAX_CONTINUATIONS 64
/* How long a started step may run before its "running" row is written. */
#define RUNNING_ROW_DELAY 0.1

static const char *status_name(zenc__step_status s)
{
	switch (s) {
	case ZENC__ST_PENDING:
		return "pending";
	case ZENC__ST_RUNNING:
	case ZENC__ST_WAITING:
		return "running";
	case ZENC__ST_COMPLETED:
		return "completed";
	case ZENC__ST_FAILED:
		return "failed";
	case ZENC__ST_SKIPPED:
		return "skipped";
	}
	return "unknown";
}

void zenc__fill_step_record(zenc__step_record *r, zenc__exec *x,
			    zenc__stepstate *ss)
{
	memset(r, 0, sizeof(*r));
	r->run_id = x->run->id;
	r->name = ss->step->name;
	r->status = status_name(ss->status);
	r->attempts = ss->attempt;
	r->started = ss->started;
	r->ended = ss->ended;
	r->error_type = ss->error.type;
	r->error_message = ss->error.message;
	r->exit_code = ss->error.exit_code;
	r->signal = ss->error.signal;
	r->params_json = ss->params_json;
	r->upstream_json = ss->upstream_json;
	r->log_uri = ss->log_uri;
}

static void store_warn(const char *what)
{
	zenc__warn("could not record %s: %s", what, zenc_error_last());
}

void zenc__record_step(zenc__exec *x, zenc__stepstate *ss)
{
	zenc__step_record r;

	zenc__fill_step_record(&r, x, ss);
	if (x->store->step_put(x->store, &r) < 0)
		store_warn("a step");
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
 * together.  If the orchestrator dies meanwhile, the run is marked failed
 * on the next open of the store, as before; at most the rows of the last
 * RUNNING_ROW_DELAY are missing from it.
 */
static void owe_row(zenc__exec *x, zenc__stepstate *ss)
{
	zenc__array_grow((void **)&x->owed, &x->cap_owed, x->n_owed + 1,
			 sizeof(*x->owed));
	x->owed[x->n_owed++] = ss;
}

/* Writes the rows owed, in one transaction. */
static void pay_rows(zenc__exec *x)
{
	zenc__step_record *r;
	size_t i;

	if (x->n_owed == 0)
		return;
	r = zenc__calloc(x->n_owed, sizeof(*r));
	for (i = 0; i < x->n_owed; i++) {
		zenc__fill_step_record(&r[i], x, x->owed[i]);
		x->owed[i]->unrecorded = 0;
	}
	if (zenc__store_steps_put(x->store, r, x->n_owed) < 0)
		store_warn("steps");
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
		zenc__record_step(f->x, f->ss);
		f->ss->unrecorded = 0;
		f->ss = NULL;
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

static void flusher_start(zenc__exec *x)
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

static void flusher_stop(zenc__exec *x)
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
static void started_row(zenc__exec *x, zenc__stepstate *ss)
{
	struct zenc__flusher *f = x->flusher;

	if (x->eager_rows) {
		zenc__record_step(x, ss);
		return;
	}
	if (x->isolation != ZENC_ISOLATION_NONE) {
		ss->unrecorded = zenc__monotonic();
		return;
	}
	if (!f) {
		zenc__record_step(x, ss);
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

void zenc__fill_hook_records(zenc__exec *x, zenc__attempt *a,
			     zenc__hook_record **out)
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
		h->status = a->hooks[i].status;
		h->error = a->hooks[i].error;
		h->started = a->hooks[i].started;
		h->duration = a->hooks[i].duration;
		h->seq = a->hooks[i].seq;
	}
}

static void record_attempt(zenc__exec *x, zenc__attempt *a)
{
	zenc__stepstate *ss = a->ss;
	zenc__artifact_record *arts;
	zenc__attempt_record att;
	zenc__hook_record *hooks;
	zenc__step_record r;
	struct stat st;
	char *log;
	size_t i;

	/* Steps that are commands keep their output as RUN_DIR/STEP/log.N. */
	log = zenc__asprintf("%s/%s/log.%d", x->run_dir, ss->step->name,
			     a->attempt);
	if (stat(log, &st) == 0) {
		free(ss->log_uri);
		ss->log_uri = log;
	} else {
		free(log);
	}
	zenc__fill_step_record(&r, x, ss);
	memset(&att, 0, sizeof(att));
	att.attempt = a->attempt;
	att.status = a->failed ? "failed" : "completed";
	att.started = a->started;
	att.ended = a->ended;
	if (a->failed) {
		att.error_type = a->err.type;
		att.error_message = a->err.message;
		att.exit_code = a->err.exit_code;
		att.signal = a->err.signal;
	}
	arts = zenc__calloc(a->n_arts + 1, sizeof(*arts));
	for (i = 0; i < a->n_arts; i++) {
		arts[i].run_id = x->run->id;
		arts[i].step = ss->step->name;
		arts[i].name = a->arts[i].name;
		arts[i].type = zenc_type_name(a->arts[i].type);
		arts[i].uri = a->arts[i].uri;
		arts[i].size = a->arts[i].size;
		arts[i].checksum = a->arts[i].checksum;
	}
	zenc__fill_hook_records(x, a, &hooks);
	if (x->store->step_end(x->store, &r, &att, arts,
			       a->failed ? 0 : a->n_arts, hooks,
			       a->n_hooks) < 0)
		store_warn("a step attempt");
	free(arts);
	free(hooks);
}

static double retry_wait(const zenc__stepstate *ss, int attempt)
{
	return ss->delay * pow(ss->backoff, attempt - 1);
}

/* The attempt reached its end: record it and decide what comes next. */
static void finish_attempt(zenc__exec *x, zenc__attempt *a)
{
	zenc__stepstate *ss = a->ss;

	ended_row(x, ss);
	a->ended = zenc__now();
	ss->cur = NULL;
	if (!a->failed) {
		ss->status = ZENC__ST_COMPLETED;
		ss->ended = a->ended;
		zenc__error_release(&ss->error);
		record_attempt(x, a);
		/* Downstream steps read the artifacts from the step. */
		ss->arts = a->arts;
		ss->n_arts = a->n_arts;
		a->arts = NULL;
		a->n_arts = 0;
		zenc__zygote_completed(x, ss);
		if (!x->quiet)
			zenc__info("Step %s has finished in %.3fs.",
				   ss->step->name, ss->ended - ss->started);
	} else if (!a->last && !zenc__interrupted) {
		double wait = retry_wait(ss, a->attempt);
		ss->status = ZENC__ST_WAITING;
		ss->wake = zenc__monotonic() + wait;
		zenc__error_assign(&ss->error, a->err.type, a->err.message,
				   a->err.exit_code, a->err.signal,
				   a->attempt);
		record_attempt(x, a);
		zenc__info("Step %s failed on attempt %d (%s: %s); retrying "
			   "in %.3gs.",
			   ss->step->name, a->attempt, a->err.type,
			   a->err.message, wait);
	} else {
		ss->status = ZENC__ST_FAILED;
		ss->ended = a->ended;
		zenc__error_assign(&ss->error, a->err.type, a->err.message,
				   a->err.exit_code, a->err.signal,
				   a->attempt);
		record_attempt(x, a);
		x->run->failed = 1;
		if (!x->keep_going)
			x->stop = 1;
	}
	zenc__attempt_free(a);
}

void zenc__child_main(zenc__attempt *a, int fd, pid_t supervisor)
{
	/* A step is never left running unsupervised: when the orchestrator
	 * dies, so does the step (and its run is marked failed on the next
	 * open of the store). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != supervisor)
		_exit(120);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	zenc__attempt_exec(a, fd);
	fflush(NULL);
	_exit(0);
}

int zenc__spawn(zenc__exec *x, zenc__attempt *a)
{
	pid_t self = getpid(), pid;
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return zenc__error_set(ZENC_ERROR, "cannot create a pipe: %s",
				       strerror(errno));
	a->from_zygote = 0;
	if (a->spawns++ == 0 && a->cur.phase == ZENC__PH_START &&
	    (pid = zenc__zygote_spawn(x, a, fds[1])) > 0) {
		a->from_zygote = 1;
		goto started;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return zenc__error_set(ZENC_ERROR, "cannot fork: %s",
				       strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		setpgid(0, 0);
		zenc__child_main(a, fds[1], self);
	}
	setpgid(pid, pid);
started:
	close(fds[1]);
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	a->pid = pid;
	a->fd = fds[0];
	a->deadline = 0;
	a->kill_reason = 0;
	a->term_sent = 0;
	x->running++;
	return 0;
}

/*
 * Command steps in threads.  A step whose body only runs a command, and
 * whose hooks are all commands, gains nothing from a forked copy of the
 * orchestrator: the command is already a process of its own, and it and
 * the command hooks enforce their own deadlines.  Forking a big
 * orchestrator for every such step is most of the cost of a YAML
 * pipeline, so these attempts run in a thread that reports through the
 * same pipe protocol as a child.  Only when every step of the run
 * qualifies: fork() while other threads run is unsafe (a lock another
 * thread holds stays held in the child), so a run either forks or
 * threads, never both.
 */
static int step_threadable(const zenc_step *s)
{
	zenc__event e;
	size_t i;

	if (!s->threadable || s->memory_limit)
		return 0;
	for (e = ZENC__ON_START; e <= ZENC__ON_END; e++) {
		const zenc__hook_list *l = zenc__step_hooks(s, e);
		for (i = 0; i < l->n; i++)
			if (l->items[i].h.kind != ZENC_HOOK_COMMAND)
				return 0;
	}
	return 1;
}

static int run_threadable(const zenc__exec *x)
{
	size_t i;

	if (x->isolation != ZENC_ISOLATION_PROCESS)
		return 0;
	for (i = 0; i < x->p->n_steps; i++)
		if (!step_threadable(x->p->steps[i]))
			return 0;
	return 1;
}

struct thread_job {
	zenc__attempt copy; /* the thread's own view, as a child has */
	int fd;
};

static void *thread_main(void *payload)
{
	struct thread_job *job = payload;

	zenc__attempt_exec(&job->copy, job->fd);
	close(job->fd);
	zenc__error_release(&job->copy.err);
	free(job);
	return NULL;
}

static int spawn_thread(zenc__exec *x, zenc__attempt *a)
{
	struct thread_job *job;
	int fds[2], rc;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return zenc__error_set(ZENC_ERROR, "cannot create a pipe: %s",
				       strerror(errno));
	job = zenc__calloc(1, sizeof(*job));
	job->copy = *a;
	memset(&job->copy.err, 0, sizeof(job->copy.err));
	zenc__error_assign(&job->copy.err, a->err.type, a->err.message,
			   a->err.exit_code, a->err.signal, a->err.attempt);
	job->copy.hooks = NULL;
	job->copy.arts = NULL;
	job->copy.hook_name = NULL;
	memset(&job->copy.in, 0, sizeof(job->copy.in));
	job->copy.threaded = 1;
	job->fd = fds[1];
	rc = pthread_create(&a->thread, NULL, thread_main, job);
	if (rc != 0) {
		close(fds[0]);
		close(fds[1]);
		zenc__error_release(&job->copy.err);
		free(job);
		return zenc__error_set(ZENC_ERROR, "cannot start a thread: %s",
				       strerror(rc));
	}
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	a->threaded = 1;
	a->pid = 0;
	a->fd = fds[0];
	a->deadline = 0;
	a->kill_reason = 0;
	a->term_sent = 0;
	x->running++;
	return 0;
}

static zenc__attempt *new_attempt(zenc__exec *x, zenc__stepstate *ss)
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
		zenc__info("Step %s has started (attempt %d of %d).",
			   ss->step->name, ss->attempt, ss->max_retries + 1);
	}
	started_row(x, ss);
	a = new_attempt(x, ss);
	ss->cur = a;
	if (x->isolation == ZENC_ISOLATION_NONE) {
		zenc__attempt_exec(a, -1);
		finish_attempt(x, a);
		return;
	}
	if ((x->threads ? spawn_thread(x, a) : zenc__spawn(x, a)) < 0) {
		zenc__error_assign(&a->err, "SpawnError", zenc_error_last(), 0,
				   0, a->attempt);
		a->failed = 1;
		a->last = 1;
		finish_attempt(x, a);
	}
}

static void skip(zenc__exec *x, zenc__stepstate *ss, const char *why)
{
	ss->status = ZENC__ST_SKIPPED;
	if (!x->quiet)
		zenc__info("Step %s was skipped: %s.", ss->step->name, why);
	owe_row(x, ss);
}

/* Reads what a child sent; returns 1 at end of file. */
int zenc__drain(zenc__attempt *a)
{
	char chunk[4096];
	char *fields[MAX_MSG_FIELDS];
	size_t off = 0;
	ssize_t r;
	int eof = 0;

	for (;;) {
		r = read(a->fd, chunk, sizeof(chunk));
		if (r > 0) {
			zenc_buf_put(&a->in, chunk, (size_t)r);
			continue;
		}
		if (r == 0)
			eof = 1;
		else if (errno == EINTR)
			continue;
		break;
	}
	while (a->in.len - off >= 5) {
		uint32_t len;
		size_t n = 0, i;
		char *p;
		memcpy(&len, a->in.ptr + off, 4);
		if (a->in.len - off - 4 < len)
			break;
		p = a->in.ptr + off + 4;
		for (i = 1; i < len && n < MAX_MSG_FIELDS; i++) {
			if (i == 1 || p[i - 1] == '\0')
				fields[n++] = p + i;
		}
		/* The last field's NUL is inside `len`, so p[len] is
		 * not read. */
		zenc__attempt_event(a, (unsigned char)p[0], fields, n);
		off += 4 + len;
	}
	if (off) {
		memmove(a->in.ptr, a->in.ptr + off, a->in.len - off);
		a->in.len -= off;
	}
	return eof;
}

static long page_size;

static size_t rss_of(pid_t pid)
{
	char path[64], buf[128];
	unsigned long size = 0, resident = 0;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return 0;
	buf[r] = '\0';
	if (sscanf(buf, "%lu %lu", &size, &resident) != 2)
		return 0;
	if (!page_size)
		page_size = sysconf(_SC_PAGESIZE);
	return (size_t)resident * (size_t)page_size;
}

/* The resident memory of a step: its process and every process it started
 * (a step that is a command lives in a grandchild), through the kernel's
 * children lists.  Depth and breadth are bounded; a limit is a limit on
 * what a step normally is, not on a fork bomb. */
static size_t resident_bytes(pid_t pid, int depth)
{
	char path[96], buf[1024], *p, *end;
	size_t total = rss_of(pid);
	ssize_t r;
	int fd;

	if (depth >= 4)
		return total;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return total;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return total;
	buf[r] = '\0';
	for (p = buf; *p;) {
		long child = strtol(p, &end, 10);
		if (end == p)
			break;
		if (child > 0)
			total += resident_bytes((pid_t)child, depth + 1);
		p = end;
	}
	return total;
}

/* The child of `a` ended: reap it and continue or finish the attempt. */
void zenc__child_ended(zenc__exec *x, zenc__attempt *a, int *n_cont)
{
	int wstatus = 0;

	if (a->threaded) {
		/* A thread always reports "done" before it ends. */
		pthread_join(a->thread, NULL);
		a->threaded = 0;
		close(a->fd);
		a->fd = -1;
		x->running--;
		zenc_buf_clear(&a->in);
		a->done = 1;
		return;
	}
	if (a->from_zygote && a->done)
		zenc__zygote_forget(x, a->pid);
	else if (a->from_zygote)
		zenc__zygote_wait(x, a->pid, &wstatus);
	else
		while (waitpid(a->pid, &wstatus, 0) < 0 && errno == EINTR)
			;
	a->from_zygote = 0;
	/* Anything the step left running in its group goes with it. */
	kill(-a->pid, SIGKILL);
	close(a->fd);
	a->fd = -1;
	a->pid = 0;
	x->running--;
	zenc_buf_clear(&a->in);
	if (!a->done) {
		zenc__attempt_died(a, wstatus);
		if (++*n_cont > MAX_CONTINUATIONS) {
			zenc__warn("giving up on the hooks of %s: every "
				   "continuation died",
				   a->ss ? a->ss->step->name : "the run");
			a->cur.phase = ZENC__PH_DONE;
		}
		if (a->cur.phase != ZENC__PH_DONE && zenc__spawn(x, a) == 0)
			return;
	}
	a->done = 1;
}

/* Polls the live children once, for at most `max_wait` seconds. */
static void supervise(zenc__attempt **live, size_t n_live,
		      double max_wait)
{
	struct pollfd *pfds = zenc__calloc(n_live + 1, sizeof(*pfds));
	double now = zenc__monotonic(), wait = max_wait;
	size_t i;
	int ms;

	for (i = 0; i < n_live; i++) {
		zenc__attempt *a = live[i];
		pfds[i].fd = a->fd;
		pfds[i].events = POLLIN;
		if (a->deadline > 0 && a->deadline - now < wait)
			wait = a->deadline - now;
		if (a->term_sent && a->kill_at - now < wait)
			wait = a->kill_at - now;
		if (a->ss && a->ss->step->memory_limit && MEMORY_SAMPLE < wait)
			wait = MEMORY_SAMPLE;
	}
	ms = wait <= 0 ? 0 : (int)ceil(wait * 1000);
	if (wait > 0 && ms == 0)
		ms = 1;
	if (poll(pfds, n_live, ms) < 0 && errno != EINTR)
		zenc__warn("poll: %s", strerror(errno));
	now = zenc__monotonic();
	for (i = 0; i < n_live; i++) {
		zenc__attempt *a = live[i];
		/* The zygote reaps its children: one that said it is done
		 * counts as ended, its exit is not waited for. */
		if (pfds[i].revents &&
		    (zenc__drain(a) || (a->done && a->from_zygote))) {
			a->term_sent = -1; /* marks "ended" for the caller */
			continue;
		}
		if (a->ss && a->ss->step->memory_limit && !a->kill_reason &&
		    resident_bytes(a->pid, 0) > a->ss->step->memory_limit) {
			a->kill_reason = ZENC__KILL_MEMORY;
			kill(-a->pid, SIGKILL);
			kill(a->pid, SIGKILL);
		}
		if (a->deadline > 0 && now >= a->deadline && !a->kill_reason) {
			if (a->in_hook) {
				a->kill_reason = ZENC__KILL_HOOK_TIMEOUT;
				kill(-a->pid, SIGKILL);
				kill(a->pid, SIGKILL);
			} else {
				a->kill_reason = ZENC__KILL_TIMEOUT;
				kill(-a->pid, SIGTERM);
				kill(a->pid, SIGTERM);
				a->term_sent = 1;
				a->kill_at = now + TERM_GRACE;
			}
		} else if (a->term_sent == 1 && now >= a->kill_at) {
			kill(-a->pid, SIGKILL);
			kill(a->pid, SIGKILL);
			a->term_sent = 2;
		}
	}
	free(pfds);
}

static void interrupt_all(zenc__exec *x)
{
	size_t i;

	/* Steps run by threads: stop their commands, and the steps fail. */
	if (x->threads)
		zenc__commands_signal(SIGTERM);

	for (i = 0; i < x->p->n_steps; i++) {
		zenc__attempt *a = x->steps[i].cur;
		if (a && a->pid > 0 && !a->kill_reason) {
			a->kill_reason = ZENC__KILL_CANCEL;
			kill(-a->pid, SIGTERM);
			a->term_sent = 1;
			a->kill_at = zenc__monotonic() + TERM_GRACE;
		}
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
	size_t *stack;             /* scratch for skipping descendants */
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
			skip(x, &x->steps[d], "an upstream step failed");
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
		if (ss->cur && (ss->cur->pid > 0 || ss->cur->threaded)) {
			zenc__array_grow((void **)&sc->live, &sc->cap_live,
					 sc->n_live + 1, sizeof(*sc->live));
			sc->live[sc->n_live++] = ss->cur;
		}
		break;
	default:
		break;
	}
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
	x->threads = run_threadable(x);
	/* Isolation process forks a child per step: from the zygote, when
	 * there is more than one step to fork for (a Slurm job, which writes
	 * its rows eagerly, runs one step). */
	if (x->isolation == ZENC_ISOLATION_PROCESS && !x->threads &&
	    x->p->n_steps > 1 && !x->eager_rows && !getenv("ZENC_NO_ZYGOTE"))
		zenc__zygote_start(x);
	for (;;) {
		double now, wait, next_wake = -1;

		if (zenc__interrupted && !interrupted_seen) {
			interrupted_seen = 1;
			x->stop = 1;
			x->run->failed = 1;
			zenc__warn("interrupted: stopping the running steps");
			interrupt_all(x);
		}
		/* Retries first: they belong to steps already started. */
		now = zenc__monotonic();
		for (i = 0; i < sc.n_waiting;) {
			size_t s = sc.waiting[i];
			if (zenc__interrupted) {
				zenc__stepstate *ss = &x->steps[s];
				ss->status = ZENC__ST_FAILED;
				ss->ended = zenc__now();
				zenc__error_assign(&ss->error, "Cancelled",
						   "the run was interrupted", 0,
						   0, ss->attempt);
				owe_row(x, ss);
				sc.waiting[i] = sc.waiting[--sc.n_waiting];
				settle(x, &sc, s);
				continue;
			}
			if (x->steps[s].wake > now || !has_slot(x)) {
				if (next_wake < 0 || x->steps[s].wake < next_wake)
					next_wake = x->steps[s].wake;
				i++;
				continue;
			}
			sc.waiting[i] = sc.waiting[--sc.n_waiting];
			launch(x, &x->steps[s]);
			settle(x, &sc, s);
			now = zenc__monotonic();
		}
		while (!x->stop && sc.n_ready > 0 && has_slot(x)) {
			size_t s = ready_pop(&sc);
			if (x->steps[s].status != ZENC__ST_PENDING)
				continue;
			launch(x, &x->steps[s]);
			settle(x, &sc, s);
		}
		if (sc.n_live == 0) {
			if (sc.n_waiting > 0) {
				/* Only retries are due: sleep until the first. */
				double w = next_wake - zenc__monotonic();
				if (next_wake < 0) {
					for (i = 0; i < sc.n_waiting; i++) {
						double t = x->steps[sc.waiting[i]].wake;
						if (next_wake < 0 || t < next_wake)
							next_wake = t;
					}
					w = next_wake - zenc__monotonic();
				}
				pay_rows(x);
				zenc__sleep(w);
				continue;
			}
			if (!x->stop && sc.n_ready > 0)
				continue;
			break;
		}
		pay_rows(x);
		wait = next_wake < 0 ? 1.0 : next_wake - zenc__monotonic();
		now = zenc__monotonic();
		for (i = 0; i < sc.n_live; i++) {
			zenc__stepstate *ls = sc.live[i]->ss;
			if (ls->unrecorded > 0 &&
			    ls->unrecorded + RUNNING_ROW_DELAY - now < wait)
				wait = ls->unrecorded + RUNNING_ROW_DELAY - now;
		}
		supervise(sc.live, sc.n_live, wait);
		/* Steps running for a while get their "running" row. */
		now = zenc__monotonic();
		for (i = 0; i < sc.n_live; i++) {
			zenc__stepstate *ls = sc.live[i]->ss;
			if (ls->unrecorded > 0 && sc.live[i]->term_sent != -1 &&
			    now >= ls->unrecorded + RUNNING_ROW_DELAY)
				owe_row(x, ls);
		}
		pay_rows(x);
		for (i = 0; i < sc.n_live;) {
			zenc__attempt *a = sc.live[i];
			size_t s;
			if (a->term_sent != -1) {
				i++;
				continue;
			}
			a->term_sent = 0;
			s = a->ss->step->index;
			zenc__child_ended(x, a, &sc.conts[s]);
			if (!a->done) {
				i++; /* a continuation is running */
				continue;
			}
			sc.conts[s] = 0;
			sc.live[i] = sc.live[--sc.n_live];
			finish_attempt(x, a);
			settle(x, &sc, s);
		}
	}
	for (i = 0; i < x->p->n_steps; i++) {
		if (x->steps[i].status == ZENC__ST_PENDING)
			skip(x, &x->steps[i],
			     zenc__interrupted ? "the run was interrupted"
					       : "the run failed");
	}
	pay_rows(x);
	sched_release(&sc);
}

void zenc__run_hooks(zenc__exec *x)
{
	zenc__event ev = x->run->failed ? ZENC__ON_RUN_FAILURE
					: ZENC__ON_RUN_SUCCESS;
	zenc__hook_record *recs;
	zenc__attempt *a;
	int conts = 0;

	if (x->p->hooks[ev].n == 0)
		return;
	a = new_attempt(x, NULL);
	a->cur.phase = ZENC__PH_RUN;
	a->cur.ev = ev;
	if (x->isolation == ZENC_ISOLATION_NONE) {
		zenc__attempt_exec(a, -1);
	} else if (zenc__spawn(x, a) == 0) {
		while (!a->done) {
			supervise(&a, 1, 1.0);
			if (a->term_sent == -1) {
				a->term_sent = 0;
				zenc__child_ended(x, a, &conts);
			}
		}
	}
	zenc__fill_hook_records(x, a, &recs);
	if (a->n_hooks && x->store->hooks_put(x->store, recs, a->n_hooks) < 0)
		store_warn("run hooks");
	free(recs);
	zenc__attempt_free(a);
}

int zenc__orchestrate_local(zenc__exec *x)
{
	if (x->isolation == ZENC_ISOLATION_NONE)
		flusher_start(x);
	run_steps(x);
	flusher_stop(x);
	zenc__zygote_stop(x);
	free(x->owed);
	x->owed = NULL;
	x->n_owed = x->cap_owed = 0;
	return 0;
}
