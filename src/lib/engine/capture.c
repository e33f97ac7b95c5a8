/*
 * The log of a step written in C: while its body runs, file descriptors
 * 1 and 2 of the process are pipes that a thread reads, writing what
 * comes to the attempt's log (RUN_DIR/STEP/log.N, where a command step
 * writes its own) and to the terminal the step would have written to.
 * The same code serves a forked child and isolation none, where the step
 * runs in the orchestrating process: there the terminal log (termlog.c)
 * writes to the saved terminal, so that the run's own lines never land in
 * a step's log.
 *
 * The thread and its pipes are made once per process, at its first
 * capture, and serve every later one: a step costs a few dup2() calls,
 * and its log file only when it prints; at its end, what the thread has
 * not read yet is read and written by the step's own thread, without
 * waiting for the other.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/capture.h"
#include "internal.h"

struct zenc__capture {
	char *path;  /* the log file, made when the step first prints */
	int term[2]; /* the saved fds 1 and 2: where the tee writes */
};

/* The tee of this process.  `lock` is held from a read from a pipe to
 * the end of writing what it read, by the thread and by the end of a
 * capture: what either read is written in order. */
static struct {
	pid_t pid; /* the process it was made in: a child makes its own */
	pthread_mutex_t lock;
	int rd[2]; /* the pipes' read ends (the thread's), non-blocking */
	int wr[2]; /* their write ends, put on fds 1 and 2 */
	const char *path; /* the log of the capture under way, or NULL */
	int log;          /* it, once open; -1: not (yet) */
	int term[2];      /* and there, -1: not */
} tz = {.pid = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

/* The terminal while a capture runs, else -1; read by termlog.c. */
static volatile int term_fd = -1;

int zenc__capture_terminal_fd(void)
{
	int fd = term_fd;
	return fd >= 0 ? fd : 2;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads what the pipes hold and writes it on, until both are empty;
 * under the lock. */
static void pump(void)
{
	char buf[16384];
	ssize_t r;
	int i, more;

	do {
		more = 0;
		for (i = 0; i < 2; i++) {
			r = read(tz.rd[i], buf, sizeof(buf));
			if (r < 0 && errno == EINTR) {
				more = 1;
				continue;
			}
			if (r <= 0)
				continue;
			more = 1;
			/* The log is made by the first byte: a step that
			 * prints nothing costs no file. */
			if (tz.log < 0 && tz.path) {
				tz.log =
					open(tz.path,
					     O_WRONLY | O_CREAT | O_TRUNC |
						     O_APPEND | O_CLOEXEC,
					     0644);
				if (tz.log < 0)
					tz.path = NULL;
			}
			if (tz.log >= 0 &&
			    write_all(tz.log, buf, (size_t)r) < 0) {
				close(tz.log);
				tz.log = -1;
				tz.path = NULL;
			}
			if (tz.term[i] >= 0 &&
			    write_all(tz.term[i], buf, (size_t)r) < 0)
				tz.term[i] = -1;
		}
	} while (more);
}

static void *tee_main(void *payload)
{
	struct pollfd pfd[2];
	sigset_t set;
	int i;

	(void)payload;
	/* A closed terminal makes write() fail here, not kill the step. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < 2; i++) {
		pfd[i].fd = tz.rd[i];
		pfd[i].events = POLLIN;
	}
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		pthread_mutex_lock(&tz.lock);
		pump();
		pthread_mutex_unlock(&tz.lock);
	}
}

/* Makes this process's tee if it has none; -1 when it cannot. */
static int tee_start(void)
{
	pthread_attr_t attr;
	pthread_t thread;
	int p[2][2] = {{-1, -1}, {-1, -1}}, i, rc;

	if (tz.pid == getpid())
		return 0;
	/* A child forked from a process with a tee makes its own: the
	 * thread did not come along, its pipes did. */
	if (tz.pid != -1) {
		for (i = 0; i < 2; i++) {
			close(tz.rd[i]);
			close(tz.wr[i]);
		}
		tz.pid = -1;
	}
	for (i = 0; i < 2; i++)
		if (pipe2(p[i], O_CLOEXEC) < 0)
			goto fail;
	for (i = 0; i < 2; i++)
		fcntl(p[i][0], F_SETFL, fcntl(p[i][0], F_GETFL) | O_NONBLOCK);
	pthread_mutex_init(&tz.lock, NULL);
	for (i = 0; i < 2; i++) {
		tz.rd[i] = p[i][0];
		tz.wr[i] = p[i][1];
		tz.term[i] = -1;
	}
	tz.log = -1;
	tz.path = NULL;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&thread, &attr, tee_main, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		errno = rc;
		goto fail;
	}
	tz.pid = getpid();
	return 0;
fail:
	for (i = 0; i < 2; i++) {
		if (p[i][0] >= 0)
			close(p[i][0]);
		if (p[i][1] >= 0)
			close(p[i][1]);
	}
	return -1;
}

void zenc__capture_prepare(void)
{
	/* The pipes must not take fds 1 or 2 (see zenc__capture_begin()). */
	if (fcntl(1, F_GETFD) < 0 || fcntl(2, F_GETFD) < 0)
		return;
	(void)tee_start();
}

zenc__capture *zenc__capture_begin(const char *path)
{
	zenc__capture *c = zenc__calloc(1, sizeof(*c));
	int i;

	c->path = zenc__strdup(path);
	fflush(NULL);
	/* A closed fd 1 or 2 would be taken by a pipe: /dev/null stands in
	 * for it. */
	for (i = 1; i <= 2; i++) {
		if (fcntl(i, F_GETFD) < 0) {
			int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (fd >= 0 && fd != i) {
				dup2(fd, i);
				close(fd);
			} else if (fd == i) {
				fcntl(fd, F_SETFD, 0);
			}
		}
	}
	if (tee_start() < 0) {
		zenc__warn(
			"Cannot capture the output of a step: %s",
			strerror(errno));
		free(c->path);
		free(c);
		return NULL;
	}
	c->term[0] = fcntl(1, F_DUPFD_CLOEXEC, 3);
	c->term[1] = fcntl(2, F_DUPFD_CLOEXEC, 3);
	pthread_mutex_lock(&tz.lock);
	tz.path = c->path;
	tz.log = -1;
	tz.term[0] = c->term[0];
	tz.term[1] = c->term[1];
	pthread_mutex_unlock(&tz.lock);
	/* From here the step's output goes through the pipes.  Standard
	 * output stays line-buffered when it was a terminal, so that the
	 * log and the screen get each line as it comes. */
	if (isatty(1))
		setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
	term_fd = c->term[1];
	dup2(tz.wr[0], 1);
	dup2(tz.wr[1], 2);
	return c;
}

void zenc__capture_end(zenc__capture *c)
{
	int i;

	if (!c)
		return;
	fflush(NULL);
	/* Back to the terminal; then what the step wrote is in the pipes,
	 * and the thread writes it on before the log is closed. */
	for (i = 0; i < 2; i++) {
		if (c->term[i] >= 0)
			dup2(c->term[i], i + 1);
		else
			close(i + 1);
	}
	term_fd = -1;
	/* What the step wrote is in the pipes, or written on already. */
	pthread_mutex_lock(&tz.lock);
	pump();
	if (tz.log >= 0)
		close(tz.log);
	tz.log = -1;
	tz.path = NULL;
	tz.term[0] = tz.term[1] = -1;
	pthread_mutex_unlock(&tz.lock);
	for (i = 0; i < 2; i++)
		if (c->term[i] >= 0)
			close(c->term[i]);
	free(c->path);
	free(c);
}
