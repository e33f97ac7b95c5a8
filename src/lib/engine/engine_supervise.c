/*
 * The engine's supervisor: it follows the processes (or threads) that
 * run attempts, wherever the orchestrator placed them on this machine.
 * It reads each one's events from its pipe, so it always knows where the
 * attempt stands; kills what passes its deadline or memory limit; and
 * when a process dies before the attempt is done, records what was
 * running as failed and starts a continuation that resumes the walk at
 * the next position.  So hooks fire even when the step's process is gone,
 * and a hook that dies never stops the hooks after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine_run.h"
#include "orchestrators/orchestrator.h"

/* A hook past its deadline is killed at once; a body gets SIGTERM first and
 * this long to clean up before SIGKILL. */
#define TERM_GRACE 0.5
/* How often a memory-limited step's resident memory is sampled. */
#define MEMORY_SAMPLE 0.01
/* A step whose continuations keep dying is given up after this many. */
#define MAX_CONTINUATIONS 64

/* Reads what a child sent; returns 1 at end of file. */
static int drain(zenc__attempt *a)
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
			/* A short read emptied the pipe: the end of file,
			 * if it came, is seen at the next poll. */
			if ((size_t)r < sizeof(chunk))
				break;
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
	snprintf(
		path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
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

int zenc__engine_start(zenc__exec *x, zenc__attempt *a)
{
	int rc = x->place->start(x, a);

	if (rc != 0)
		return rc;
	a->deadline = 0;
	a->kill_reason = 0;
	a->term_sent = 0;
	x->running++;
	return 0;
}

void zenc__engine_ended(zenc__exec *x, zenc__attempt *a, int *n_cont)
{
	int wstatus = 0, over;

	over = x->place->reap(x, a, &wstatus);
	close(a->fd);
	a->fd = -1;
	a->pid = 0;
	x->running--;
	zenc_buf_clear(&a->in);
	if (!a->done && !over) {
		zenc__attempt_died(a, wstatus);
		if (++*n_cont > MAX_CONTINUATIONS) {
			zenc__warn(
				"giving up on the hooks of %s: every "
				"continuation died",
				a->ss ? a->ss->step->name : "the run");
			a->cur.phase = ZENC__PH_DONE;
		}
		if (a->cur.phase != ZENC__PH_DONE &&
		    zenc__engine_start(x, a) == 0)
			return;
	}
	a->done = 1;
}

/* Polls the live children once, for at most `max_wait` seconds. */
void zenc__engine_supervise(
	zenc__attempt **live, size_t n_live, double max_wait)
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
		/* A process that someone else reaps (the placement says
		 * so) counts as ended once it said it is done: its exit is
		 * not waited for. */
		if (pfds[i].revents &&
		    (drain(a) || (a->done && a->done_is_end))) {
			a->term_sent = -1; /* marks "ended" for the caller */
			continue;
		}
		if (a->ss && a->ss->step->memory_limit && !a->kill_reason &&
		    resident_bytes(a->pid, 0) > a->ss->step->memory_limit) {
			a->kill_reason = ZENC__KILL_MEMORY;
			a->x->place->kill(a, SIGKILL);
		}
		if (a->deadline > 0 && now >= a->deadline && !a->kill_reason) {
			if (a->in_hook) {
				a->kill_reason = ZENC__KILL_HOOK_TIMEOUT;
				a->x->place->kill(a, SIGKILL);
			} else {
				a->kill_reason = ZENC__KILL_TIMEOUT;
				a->x->place->kill(a, SIGTERM);
				a->term_sent = 1;
				a->kill_at = now + TERM_GRACE;
			}
		} else if (a->term_sent == 1 && now >= a->kill_at) {
			a->x->place->kill(a, SIGKILL);
			a->term_sent = 2;
		}
	}
	free(pfds);
}

void zenc__engine_interrupt(zenc__exec *x)
{
	size_t i;

	/* Steps run by threads: stop their commands, and the steps fail. */
	if (x->threads)
		zenc__commands_signal(SIGTERM);

	for (i = 0; i < x->p->n_steps; i++) {
		zenc__attempt *a = x->steps[i].cur;
		if (a && a->pid > 0 && !a->kill_reason) {
			a->kill_reason = ZENC__KILL_CANCEL;
			a->x->place->kill(a, SIGTERM);
			a->term_sent = 1;
			a->kill_at = zenc__monotonic() + TERM_GRACE;
		}
	}
}

void zenc__engine_walk(zenc__exec *x, zenc__attempt *a)
{
	int conts = 0;

	if (zenc__engine_start(x, a) != 0)
		return; /* it ran here to its end, or could not start */
	/* Until its process has ended and been reaped, not merely until it
	 * said "done": that comes a moment before its exit, and an attempt
	 * left there would leave its process unreaped and its pipe open. */
	for (;;) {
		zenc__engine_supervise(&a, 1, 1.0);
		if (a->term_sent != -1)
			continue;
		a->term_sent = 0;
		zenc__engine_ended(x, a, &conts);
		if (a->done)
			return;
	}
}
