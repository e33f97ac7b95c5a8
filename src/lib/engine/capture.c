/*
 * The log of a step written in C: while its body runs, file descriptors
 * 1 and 2 of the process are pipes whose reader writes what comes to the
 * attempt's log (RUN_DIR/STEP/log.N, where a command step writes its own)
 * and to the terminal the step would have written to.
 *
 * Who reads them:
 *   - in a child of the zygote, the zygote: it made the pipes before the
 *     fork and reads them in its loop, for all its children at once (the
 *     relay, below), so that the step's process makes no thread and no
 *     pipe of its own;
 *   - anywhere else (a child the orchestrator forks, isolation none,
 *     where the step runs in the orchestrating process), a thread of the
 *     process, made once at its first capture and serving every later
 *     one.  There the terminal log (termlog.c) writes to the saved
 *     terminal, so that the run's own lines never land in a step's log.
 *
 * A step that prints nothing costs no log file.  When the body returns,
 * what it printed is in the log and on the terminal before the step goes
 * on (its end is recorded, the run prints its own line for it).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/capture.h"
#include "engine/exec.h"
#include "internal.h"

/* A capture by the thread tee (in a child of the zygote, a capture is
 * &relayed_capture, below). */
struct zenc__capture {
	char *path;  /* the log file, made when the step first prints */
	int term[2]; /* the saved fds 1 and 2: where the tee writes */
};

/*
 * In a child of the zygote: the write ends of the pipes the zygote reads
 * and the socket to it; -1: not a child of the zygote's relay.  The zygote
 * sets them before each fork (zenc__relay_adopt()), and the child never
 * writes them: every page a child of the zygote writes, and every page of
 * code or constants it is the first to touch, costs it a page fault,
 * which is most of what a step's process costs.
 */
static struct {
	int wr[2];
	int ctl;
} adopted = {{-1, -1}, -1};

/* In the zygote and its children: the zygote's fds 1 and 2 (the run's
 * terminal), saved once by zenc__relay_init(), and whether fd 1 is a
 * terminal.  A child puts them back after its body; it does not save
 * its own. */
static int relay_term[2] = {-1, -1};
static int relay_tty;
/* Fds 1 and 2 of the zygote are the same file (a terminal, or one file
 * for both): a child then gets one pipe for both, which keeps the order
 * of what it wrote to each, in its log and on the terminal, and costs a
 * pipe less. */
static int relay_merged;

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

/* The terminal while a capture runs, else -1; read by termlog.c.  In the
 * zygote and its children, the terminal the zygote saved, always. */
static volatile int term_fd = -1;

/* What zenc__capture_begin() returns in a child of the zygote: never
 * read, never written. */
static const char relayed_capture;

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

/* The log of a step, made by the first byte it printed, and its folder
 * with it when the step has none yet: a step that prints nothing costs
 * neither. */
static int log_open(const char *path)
{
	const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC;
	char *dir, *slash;
	int fd;

	if ((fd = open(path, flags, 0644)) >= 0 || errno != ENOENT)
		return fd;
	dir = zenc__strdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (zenc__mkdir_p(dir, 0700) == 0)
			fd = open(path, flags, 0644);
	}
	free(dir);
	return fd;
}

/* The `n` pipes of a capture (fds 1 and 2, or one for both),
 * close-on-exec, their read ends non-blocking when `nonblock`; -1, with
 * nothing left open, when they cannot be made.  An end not made is -1. */
static int pipes_open(int rd[2], int wr[2], int nonblock, int n)
{
	int p[2][2] = {{-1, -1}, {-1, -1}}, i;

	for (i = 0; i < n; i++) {
		if (pipe2(p[i], O_CLOEXEC) < 0 ||
		    (nonblock && fcntl(p[i][0], F_SETFL, O_NONBLOCK) < 0)) {
			for (i = 0; i < 2; i++) {
				if (p[i][0] >= 0)
					close(p[i][0]);
				if (p[i][1] >= 0)
					close(p[i][1]);
			}
			return -1;
		}
	}
	for (i = 0; i < 2; i++) {
		rd[i] = p[i][0];
		wr[i] = p[i][1];
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
				tz.log = log_open(tz.path);
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
	int rd[2], wr[2], i, rc;

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
	if (pipes_open(rd, wr, 1, 2) < 0)
		return -1;
	pthread_mutex_init(&tz.lock, NULL);
	for (i = 0; i < 2; i++) {
		tz.rd[i] = rd[i];
		tz.wr[i] = wr[i];
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
		for (i = 0; i < 2; i++) {
			close(rd[i]);
			close(wr[i]);
		}
		errno = rc;
		return -1;
	}
	tz.pid = getpid();
	return 0;
}

/* In a child of the zygote, at the end of its capture: waits until the
 * zygote has written on what the step printed, unless the pipes are
 * empty: the zygote takes bytes out of a pipe only once they are in the
 * log and on the terminal (zenc__relay_pump()), so then the step goes on
 * at once.  A step that printed nothing costs no wait.  The pipes and the
 * socket stay open until the process ends, so that the zygote sees all
 * three end at once.  A child of the zygote runs one attempt, hence one
 * capture. */
static void relay_finish(void)
{
	int i, n, pending = 0;
	char m = 'F';

	for (i = 0; i < 2; i++)
		if (adopted.wr[i] >= 0 &&
		    ioctl(adopted.wr[i], FIONREAD, &n) == 0 && n > 0)
			pending = 1;
	if (pending && send(adopted.ctl, &m, 1, MSG_NOSIGNAL) == 1)
		while (recv(adopted.ctl, &m, 1, 0) < 0 && errno == EINTR)
			;
}

void zenc__capture_prepare(void)
{
	/* The pipes must not take fds 1 or 2 (see zenc__capture_begin()). */
	if (fcntl(1, F_GETFD) < 0 || fcntl(2, F_GETFD) < 0)
		return;
	(void)tee_start();
}

zenc__capture *zenc__capture_begin(
	const char *run_dir, const char *step, int attempt)
{
	zenc__capture *c;
	int i;

	fflush(NULL);
	if (adopted.wr[0] >= 0) {
		/* The zygote made the pipes (not on fds 1 or 2), saved the
		 * terminal, and made it where the run's own lines go: nothing
		 * to open, to ask, to allocate or to write down. */
		if (relay_tty)
			setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
		dup2(adopted.wr[0], 1);
		dup2(adopted.wr[1] >= 0 ? adopted.wr[1] : adopted.wr[0], 2);
		return (zenc__capture *)&relayed_capture;
	}
	c = zenc__calloc(1, sizeof(*c));
	c->path = zenc__attempt_log_path(run_dir, step, attempt);
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

/* Puts fds 1 and 2 back on the terminal saved in `term` (-1: closed). */
static void terminal_back(const int term[2])
{
	int i;

	for (i = 0; i < 2; i++) {
		if (term[i] >= 0)
			dup2(term[i], i + 1);
		else
			close(i + 1);
	}
}

void zenc__capture_end(zenc__capture *c, int last)
{
	int i;

	if (!c)
		return;
	fflush(NULL);
	if (c == (zenc__capture *)&relayed_capture) {
		/* Back to the terminal the zygote saved, unless the process
		 * only reports and ends (what it might still print goes to
		 * the log, as the step's); then the zygote writes on what
		 * the pipes hold. */
		if (!last)
			terminal_back(relay_term);
		relay_finish();
		return;
	}
	/* Back to the terminal; then what the step wrote is in the pipes,
	 * and the thread writes it on before the log is closed. */
	terminal_back(c->term);
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

/* ------------------------------------------------------------- relay */

/*
 * The zygote's side.  Each child it forks gets two pipes (its fds 1 and 2
 * while its body runs; one for both when the zygote's fds 1 and 2 are the
 * same file) and a socket; the zygote reads the pipes in its
 * loop and writes what comes to the child's log and to its own fds 1 and
 * 2, which are the run's terminal.  It takes bytes out of a pipe only once
 * they are written on: it copies them first with tee() into a pipe of its
 * own and reads them from there.  So at the end of its body the child
 * knows from its pipes alone whether its output is all written on: when
 * they are not empty it asks on the socket ('F') and waits for the answer
 * ('f'), sent once the zygote has written them on (relay_finish()).
 */
#define RELAY_SLOTS 1024

/* Which slots are in use: a page shared with the children, so that the
 * zygote's writes to it cost no copy of a page while children live. */
static unsigned char *relay_used;
/* The zygote's pipe that tee() copies a child's bytes to. */
static int relay_peek[2] = {-1, -1};

/* Whether fds `a` and `b` are the same file. */
static int same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino &&
	       sa.st_rdev == sb.st_rdev;
}

int zenc__relay_init(void)
{
	void *p;

	/* The pipes must not take fds 1 or 2, which they are written to. */
	if (fcntl(1, F_GETFD) < 0 || fcntl(2, F_GETFD) < 0)
		return -1;
	if (pipe2(relay_peek, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	p =
		mmap(NULL, RELAY_SLOTS, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		close(relay_peek[0]);
		close(relay_peek[1]);
		relay_peek[0] = relay_peek[1] = -1;
		return -1;
	}
	relay_term[0] = fcntl(1, F_DUPFD_CLOEXEC, 3);
	relay_term[1] = fcntl(2, F_DUPFD_CLOEXEC, 3);
	relay_tty = isatty(1);
	relay_merged = same_file(1, 2);
	/* The run's own lines, from the zygote and from its children, go
	 * to the terminal, never into a pipe of a capture. */
	if (relay_term[1] >= 0)
		term_fd = relay_term[1];
	relay_used = p;
	return 0;
}

int zenc__relay_open(zenc__relay *r)
{
	int slot;

	memset(r, 0, sizeof(*r));
	r->rd[0] = r->rd[1] = r->wr[0] = r->wr[1] = -1;
	r->ctl = r->log = r->slot = -1;
	if (!relay_used)
		return -1;
	for (slot = 0; slot < RELAY_SLOTS && relay_used[slot]; slot++)
		;
	if (slot == RELAY_SLOTS ||
	    pipes_open(r->rd, r->wr, 0, relay_merged ? 1 : 2) < 0)
		return -1;
	relay_used[slot] = 1;
	r->slot = slot;
	return 0;
}

void zenc__relay_adopt(const zenc__relay *r, int ctl)
{
	adopted.wr[0] = r ? r->wr[0] : -1;
	adopted.wr[1] = r ? r->wr[1] : -1;
	adopted.ctl = r ? ctl : -1;
}

void zenc__relay_parent(zenc__relay *r)
{
	int i;

	zenc__relay_adopt(NULL, -1);
	for (i = 0; i < 2; i++) {
		if (r->wr[i] >= 0)
			close(r->wr[i]);
		r->wr[i] = -1;
	}
}

/* Up to `cap` bytes of pipe `fd` into `buf`, left in the pipe (*peeked
 * 1), or taken out of it when tee() cannot copy them (*peeked 0); 0 at
 * the end of the pipe, -1 with errno (EAGAIN: empty).  The pipe is
 * blocking (one system call less per child): tee() is told not to
 * block, and a read made instead makes the pipe non-blocking first. */
static ssize_t relay_peek_read(int fd, char *buf, size_t cap, int *peeked)
{
	ssize_t n, k;

	*peeked = 0;
	n = tee(fd, relay_peek[1], cap, SPLICE_F_NONBLOCK);
	if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
		fcntl(fd, F_SETFL, O_NONBLOCK);
		return read(fd, buf, cap);
	}
	if (n <= 0)
		return n;
	*peeked = 1;
	while ((k = read(relay_peek[0], buf, (size_t)n)) < 0 && errno == EINTR)
		;
	return k;
}

void zenc__relay_pump(zenc__relay *r)
{
	/* Not on the stack: each page the zygote writes is copied once
	 * per fork, and this one only when a step prints. */
	static char buf[16384];
	ssize_t n, k;
	int i, peeked;

	if (r->slot < 0)
		return;
	for (i = 0; i < 2; i++) {
		while (r->rd[i] >= 0) {
			n = relay_peek_read(
				r->rd[i], buf, sizeof(buf), &peeked);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				break;
			if (n <= 0) {
				close(r->rd[i]);
				r->rd[i] = -1;
				break;
			}
			/* Bytes outside a body (none are sent) have no log.
			 * Its path is made here, not for every step: what
			 * the zygote allocates after a fork costs copies of
			 * pages. */
			if (r->log < 0 && r->run_dir) {
				char *path = zenc__attempt_log_path(
					r->run_dir, r->step, r->attempt);
				r->log = log_open(path);
				free(path);
				if (r->log < 0)
					r->run_dir = NULL;
			}
			if (r->log >= 0 &&
			    write_all(r->log, buf, (size_t)n) < 0) {
				close(r->log);
				r->log = -1;
				r->run_dir = NULL;
			}
			(void)write_all(i + 1, buf, (size_t)n);
			/* Written on: now out of the child's pipe. */
			while (peeked &&
			       (k = read(r->rd[i], buf, (size_t)n)) < 0 &&
			       errno == EINTR)
				;
		}
	}
}

void zenc__relay_drained(zenc__relay *r, int i)
{
	if (r->rd[i] >= 0)
		close(r->rd[i]);
	r->rd[i] = -1;
}

void zenc__relay_close(zenc__relay *r)
{
	int i;

	zenc__relay_pump(r);
	for (i = 0; i < 2; i++) {
		if (r->rd[i] >= 0)
			close(r->rd[i]);
		if (r->wr[i] >= 0)
			close(r->wr[i]);
		r->rd[i] = r->wr[i] = -1;
	}
	if (r->log >= 0)
		close(r->log);
	if (r->ctl >= 0)
		close(r->ctl);
	if (r->slot >= 0)
		relay_used[r->slot] = 0;
	r->run_dir = NULL;
	r->log = r->ctl = r->slot = -1;
}
