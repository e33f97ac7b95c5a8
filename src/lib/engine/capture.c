/*
 * The log of a step written in C: while its body runs, file descriptors
 * 1 and 2 of the process are pipes that a thread reads, writing what
 * comes to the attempt's log (RUN_DIR/STEP/log.N, where a command step
 * writes its own) and to the terminal the step would have written to.
 * The same code serves a forked child and isolation none, where the step
 * runs in the orchestrating process: there the terminal log (termlog.c)
 * writes to the saved terminal, so that the run's own lines never land in
 * a step's log.
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
	char *path;
	int log;        /* the log file */
	int term[2];    /* the saved fds 1 and 2: where the tee writes */
	int pipe[2];    /* the read ends, fed by fds 1 and 2 */
	int term_ok[2]; /* the thread's: 0 once writing there failed */
	volatile int stopping;
	pthread_t thread;
};

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

static void *tee_main(void *payload)
{
	zenc__capture *c = payload;
	struct pollfd pfd[2];
	char buf[16384];
	sigset_t set;
	int open_ends = 2, i;
	double stop_at = 0;

	/* A closed terminal makes write() fail here, not kill the step. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < 2; i++) {
		pfd[i].fd = c->pipe[i];
		pfd[i].events = POLLIN;
	}
	while (open_ends > 0) {
		int n = poll(pfd, 2, 100);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		/* Stopped and nothing more comes: a process the step left
		 * behind may hold the pipe open, the step is over anyway. */
		if (c->stopping && !stop_at)
			stop_at = zenc__monotonic();
		if (c->stopping && (n == 0 || zenc__monotonic() - stop_at > 1))
			break;
		for (i = 0; i < 2; i++) {
			ssize_t r;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			r = read(pfd[i].fd, buf, sizeof(buf));
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (r <= 0) {
				pfd[i].fd = -1;
				open_ends--;
				continue;
			}
			if (c->log >= 0 &&
			    write_all(c->log, buf, (size_t)r) < 0) {
				close(c->log);
				c->log = -1;
			}
			if (c->term_ok[i] &&
			    write_all(c->term[i], buf, (size_t)r) < 0)
				c->term_ok[i] = 0;
		}
	}
	return NULL;
}

zenc__capture *zenc__capture_begin(const char *path)
{
	zenc__capture *c = zenc__calloc(1, sizeof(*c));
	int in[2][2] = {{-1, -1}, {-1, -1}};
	pthread_attr_t attr;
	int i, rc;

	c->log =
		open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		     0644);
	if (c->log < 0) {
		zenc__warn(
			"Cannot create the log '%s': %s", path,
			strerror(errno));
		free(c);
		return NULL;
	}
	c->path = zenc__strdup(path);
	fflush(NULL);
	c->term[0] = fcntl(1, F_DUPFD_CLOEXEC, 3);
	c->term[1] = fcntl(2, F_DUPFD_CLOEXEC, 3);
	c->term_ok[0] = c->term[0] >= 0;
	c->term_ok[1] = c->term[1] >= 0;
	if (pipe2(in[0], O_CLOEXEC) < 0 || pipe2(in[1], O_CLOEXEC) < 0)
		goto fail;
	c->pipe[0] = in[0][0];
	c->pipe[1] = in[1][0];
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	rc = pthread_create(&c->thread, &attr, tee_main, c);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		goto fail;
	/* From here the step's output goes through the pipes.  Standard
	 * output stays line-buffered when it was a terminal, so that the
	 * log and the screen get each line as it comes. */
	if (isatty(1))
		setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
	term_fd = c->term[1] >= 0 ? c->term[1] : -1;
	dup2(in[0][1], 1);
	dup2(in[1][1], 2);
	close(in[0][1]);
	close(in[1][1]);
	return c;
fail:
	zenc__warn("Cannot capture the output of a step: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		if (in[i][0] >= 0)
			close(in[i][0]);
		if (in[i][1] >= 0)
			close(in[i][1]);
		if (c->term[i] >= 0)
			close(c->term[i]);
	}
	close(c->log);
	unlink(c->path);
	free(c->path);
	free(c);
	return NULL;
}

void zenc__capture_end(zenc__capture *c)
{
	int i;

	if (!c)
		return;
	fflush(NULL);
	/* Back to the terminal; the pipes' write ends close with that, so
	 * the thread reads what is left and ends. */
	for (i = 0; i < 2; i++) {
		if (c->term[i] >= 0)
			dup2(c->term[i], i + 1);
		else
			close(i + 1);
	}
	term_fd = -1;
	c->stopping = 1;
	pthread_join(c->thread, NULL);
	for (i = 0; i < 2; i++) {
		close(c->pipe[i]);
		if (c->term[i] >= 0)
			close(c->term[i]);
	}
	/* A step that printed nothing has no log. */
	if (c->log >= 0 && lseek(c->log, 0, SEEK_END) == 0)
		unlink(c->path);
	if (c->log >= 0)
		close(c->log);
	free(c->path);
	free(c);
}
