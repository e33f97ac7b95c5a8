/*
 * The zygote: a small process forked from the orchestrator when a run
 * starts, which forks the step children of isolation "process" from then
 * on.
 *
 * Forking the orchestrator for every step costs more than the step: the
 * kernel copies the page tables of a process that grows with the run,
 * and every page the orchestrator writes after a fork (the store's
 * cache, the heap) is copied once more, per step.  The zygote is a copy
 * of the orchestrator as it was before the first step, and it writes
 * almost nothing afterwards, so forking it stays cheap and the
 * orchestrator's pages stay its own.
 *
 * The zygote holds the run as it was at its start.  What a step child
 * reads of the run beyond that is sent to it: the attempt to start (its
 * number, whether it is the last, when the step started) and the
 * artifacts of each step that completed.  It forks the child into a
 * process group of its own, passes it the event pipe that the
 * orchestrator made (SCM_RIGHTS), reaps it and reports its wait status.
 * The child is the same as one the orchestrator forks itself: it runs the
 * attempt from its start and reports on the pipe.  The zygote keeps one
 * such child forked ahead (the spare, below), so that a step starts
 * without waiting for a fork: the fork of the next one happens while the
 * step runs.  It also goes on with an attempt that a thread of the
 * orchestrator began and stopped before a hook that is not a command
 * (orchestrator_local.c): the start message then carries where the attempt
 * stands and its error.  Continuations (an attempt whose child died) and
 * run-level hooks are still forked by the orchestrator, whose state they
 * need.
 *
 * Messages are packets on a SOCK_SEQPACKET socketpair:
 *   orchestrator -> zygote: 'S' start an attempt (+ the pipe's write end;
 *                           after the struct, when it failed already, its
 *                           error's type and message, NUL-terminated),
 *                           'A' a step's artifacts
 *   zygote -> orchestrator: 'P' the child's pid (or an errno),
 *                           'E' a child ended, with its wait status
 * If the zygote dies, its children die with it (PR_SET_PDEATHSIG); the
 * orchestrator reports them killed and forks steps itself from then on.
 */
#include <errno.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/capture.h"
#include "engine/exec.h"
#include "engine/watcher.h"
#include "internal.h"
#include "orchestrators/orchestrator_local.h"

/* The largest packet: a step's artifacts past this are not sent, and the
 * zygote is given up (the orchestrator forks from then on). */
#define MAX_PACKET 65536

struct zenc__zygote {
	pid_t pid;
	int sock;  /* -1 once the zygote is gone */
	int stale; /* missed a step's artifacts: starts nothing more */
	/* Children that ended before anyone asked. */
	struct ended {
		pid_t pid;
		int status;
	} * ended;
	size_t n_ended, cap_ended;
	/* Children whose end nobody will ask for. */
	pid_t *forgot;
	size_t n_forgot, cap_forgot;
};

struct msg_start {
	char type; /* 'S' */
	uint32_t step;
	int32_t attempt;
	int32_t last;
	double started;
	/* Where the attempt starts (a new one: at its start hooks). */
	int32_t phase, ev;
	uint64_t idx;
	int32_t failed, exit_code, signal;
};

struct msg_pid {
	char type; /* 'P' or 'E' */
	int32_t pid;
	int32_t status; /* 'P': an errno when pid is 0; 'E': wait status */
};

/* ------------------------------------------------------------- zygote */

static int send_all(int sock, const void *buf, size_t len)
{
	while (send(sock, buf, len, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Sends one packet, with `fd` attached when it is not -1; `flags` for
 * sendmsg() besides MSG_NOSIGNAL. */
static int send_fd_flags(
	int sock, const void *buf, size_t len, int fd, int flags)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *c;

	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	memset(&mh, 0, sizeof(mh));
	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	}
	while (sendmsg(sock, &mh, MSG_NOSIGNAL | flags) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

static int send_fd(int sock, const void *buf, size_t len, int fd)
{
	return send_fd_flags(sock, buf, len, fd, 0);
}

/* Receives one packet into buf; *fd: the descriptor attached, or -1.
 * The packet's length, 0 at end of file, -1 on an error. */
static ssize_t recv_fd(int sock, char *buf, size_t size, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {buf, size};
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(*fd));
	return n;
}

static void put_artifacts(zenc__exec *x, const char *p, size_t len)
{
	uint32_t step, n, i;
	zenc__stepstate *ss;
	const char *end = p + len;

	if (len < 9)
		return;
	memcpy(&step, p + 1, 4);
	memcpy(&n, p + 5, 4);
	p += 9;
	if (step >= x->p->n_steps)
		return;
	ss = &x->steps[step];
	for (i = 0; i < ss->n_arts; i++)
		zenc__artifact_release(&ss->arts[i]);
	free(ss->arts);
	ss->arts = zenc__calloc(n ? n : 1, sizeof(*ss->arts));
	ss->n_arts = 0;
	for (i = 0; i < n; i++) {
		zenc__artifact *a = &ss->arts[i];
		int32_t type;
		size_t l1, l2;
		if ((size_t)(end - p) < 4 + 8 + ZENC__SUM_MAX)
			break;
		memcpy(&type, p, 4);
		memcpy(&a->size, p + 4, 8);
		memcpy(a->checksum, p + 12, ZENC__SUM_MAX);
		a->checksum[ZENC__SUM_MAX - 1] = '\0';
		p += 12 + ZENC__SUM_MAX;
		l1 = strnlen(p, (size_t)(end - p));
		if (l1 == (size_t)(end - p))
			break;
		l2 = strnlen(p + l1 + 1, (size_t)(end - p - l1 - 1));
		if (l2 == (size_t)(end - p - l1 - 1))
			break;
		a->type = (zenc_type)type;
		a->name = zenc__strdup(p);
		a->uri = zenc__strdup(p + l1 + 1);
		p += l1 + 1 + l2 + 1;
		ss->n_arts = i + 1;
	}
	ss->status = ZENC__ST_COMPLETED;
}

/* The zygote's pid, in the zygote (and in its children: their parent). */
static pid_t zygote_self;

/* In a child: becomes the step child of the attempt that the start
 * message `buf` (`n` bytes, checked by the caller) says. */
static void become_step(zenc__exec *x, const char *buf, size_t n, int fd)
{
	struct msg_start m_;
	const struct msg_start *m = &m_;
	zenc__stepstate *ss;
	zenc__attempt *a = zenc__calloc(1, sizeof(*a));

	memcpy(&m_, buf, sizeof(m_));
	ss = &x->steps[m->step];

	ss->attempt = m->attempt;
	ss->started = m->started;
	ss->status = ZENC__ST_RUNNING;
	a->x = x;
	a->ss = ss;
	a->fd = -1;
	a->started = zenc__now();
	a->attempt = m->attempt;
	a->last = m->last;
	a->cur.phase = (zenc__phase)m->phase;
	a->cur.ev = (zenc__event)m->ev;
	a->cur.idx = (size_t)m->idx;
	if (m->failed) {
		const char *type = buf + sizeof(*m), *end = buf + n;
		const char *msg = memchr(type, '\0', (size_t)(end - type));
		if (!msg || !memchr(msg + 1, '\0', (size_t)(end - msg - 1)))
			_exit(1);
		a->failed = 1;
		zenc__failure_set(
			&a->err, type, msg + 1, m->exit_code, m->signal,
			m->attempt);
	}
	ss->cur = a;
	setpgid(0, 0);
	/* It dies with the zygote already (PR_SET_PDEATHSIG, set by
	 * fork_spare() or start_child()). */
	zenc__child_main(a, fd, 0);
}

/*
 * The children that run a step and whose output the zygote relays to
 * their logs (capture.c): one entry per child, until it asks for the end
 * of its capture, closes its socket or ends.  In a page shared with the
 * children, which never write it: a private page the zygote writes is
 * copied at its first write after each fork, and this one is written for
 * every step.  A child past the last entry reads its own output.
 */
#define MAX_RELAYED 64
static struct relay_table {
	struct relayed {
		pid_t pid; /* 0: ended, to be dropped */
		zenc__relay r;
	} items[MAX_RELAYED];
	size_t n;
	/* The zygote's poll: its socket, its signals, then each relayed
	 * child's socket and pipes. */
	struct pollfd pf[2 + 3 * MAX_RELAYED];
} * relays; /* NULL: no relay (each child has its tee) */

/*
 * A child just forked leaves the zygote's relays alone: it never runs the
 * zygote's loop, the only reader of the table (which the zygote changes
 * at any time), and it does not even clear the pointer, since every page
 * a child writes costs it a copy.  It keeps its copies of the relays'
 * descriptors (close-on-exec): a copy of a read end or of the zygote's
 * end of a socket changes nothing for the child it belongs to.
 */

static void relays_add(pid_t pid, zenc__relay *r)
{
	relays->items[relays->n].pid = pid;
	relays->items[relays->n].r = *r;
	relays->n++;
}

/* Ends the relay of child `pid`, which ended: what it wrote is in its
 * pipes, and goes to its log before the end is reported. */
static void relays_ended(pid_t pid)
{
	size_t i;

	for (i = 0; relays && i < relays->n; i++) {
		if (relays->items[i].pid == pid) {
			zenc__relay_close(&relays->items[i].r);
			relays->items[i].pid = 0;
		}
	}
}

/* A child's socket is readable: 'F' asks for the end of its capture,
 * anything else (its end of file) ends it too. */
static void relay_ctl(struct relayed *e)
{
	char m = 0;

	while (recv(e->r.ctl, &m, 1, MSG_DONTWAIT) < 0 && errno == EINTR)
		;
	zenc__relay_pump(&e->r);
	if (m == 'F') {
		m = 'f';
		send(e->r.ctl, &m, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	zenc__relay_close(&e->r);
	e->pid = 0;
}

/* What poll() said of a relayed child's pipes, `pf[0]` and `pf[1]`: a
 * pipe with no writer left and nothing in it is closed as it is; any
 * bytes are written on. */
static void relay_poll(zenc__relay *r, const struct pollfd pf[2])
{
	int i, more = 0;

	for (i = 0; i < 2; i++) {
		if (pf[i].revents == POLLHUP)
			zenc__relay_drained(r, i);
		else if (pf[i].revents)
			more = 1;
	}
	if (more)
		zenc__relay_pump(r);
}

static void relays_drop_ended(void)
{
	size_t i = 0;

	while (relays && i < relays->n) {
		if (relays->items[i].pid == 0)
			relays->items[i] = relays->items[--relays->n];
		else
			i++;
	}
}

/*
 * The spare: a child the zygote forks ahead of need, while the step before
 * runs, so that starting a step costs no fork.  It waits on its own socket
 * for the artifacts of the steps that complete meanwhile ('A') and for the
 * attempt to run ('S', with the event pipe), then becomes that step's child;
 * the socket then serves the relay of its output.
 */
static struct {
	pid_t pid;
	int ctl;           /* -1: no spare */
	zenc__relay relay; /* slot -1: none */
} spare = {0, -1, {{-1, -1}, {-1, -1}, -1, -1, -1, NULL, NULL, 0}};

static void spare_main(zenc__exec *x, int ctl, int relayed)
{
	static char buf[MAX_PACKET];
	ssize_t n;
	int fd;

	/* Without the zygote's relay, what capturing the step's output
	 * needs is made while the step before runs (capture.c). */
	if (!relayed)
		zenc__capture_prepare();
	for (;;) {
		n = recv_fd(ctl, buf, sizeof(buf), &fd);
		if (n <= 0)
			_exit(0);
		if (buf[0] == 'S' && (size_t)n >= sizeof(struct msg_start) &&
		    fd >= 0) {
			struct msg_start m;
			memcpy(&m, buf, sizeof(m));
			if (m.step >= x->p->n_steps)
				_exit(1);
			if (!relayed)
				close(ctl);
			become_step(x, buf, (size_t)n, fd);
		}
		if (fd >= 0)
			close(fd);
		if (buf[0] == 'A')
			put_artifacts(x, buf, (size_t)n);
	}
}

static void fork_spare(zenc__exec *x, int sock, int sfd, const sigset_t *mask)
{
	pid_t self = zygote_self, pid;
	zenc__relay r;
	int sv[2], relayed;

	if (spare.ctl >= 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	/* The spare takes an entry when it becomes a step. */
	relayed =
		relays && relays->n < MAX_RELAYED && zenc__relay_open(&r) == 0;
	zenc__relay_adopt(relayed ? &r : NULL, sv[1]);
	pid = fork();
	if (pid == 0) {
		close(sock);
		close(sfd);
		close(sv[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != self)
			_exit(0);
		sigprocmask(SIG_SETMASK, mask, NULL);
		spare_main(x, sv[1], relayed);
	}
	close(sv[1]);
	if (!relayed || pid < 0)
		zenc__relay_adopt(NULL, -1);
	if (relayed && pid < 0)
		zenc__relay_close(&r);
	if (pid < 0) {
		close(sv[0]);
		return;
	}
	setpgid(pid, pid);
	spare.pid = pid;
	spare.ctl = sv[0];
	spare.relay.slot = -1;
	if (relayed) {
		zenc__relay_parent(&r);
		spare.relay = r;
	}
}

static void drop_spare(void)
{
	if (spare.ctl < 0)
		return;
	close(spare.ctl);
	kill(spare.pid, SIGKILL);
	if (spare.relay.slot >= 0)
		zenc__relay_close(&spare.relay);
	spare.ctl = -1;
	spare.pid = 0;
}

/* Starts the attempt of start message `buf` (`n` bytes): hands it to the
 * spare, or forks its child. */
static void start_child(
	zenc__exec *x,
	const char *buf,
	size_t n,
	int fd,
	int sock,
	int sfd,
	const sigset_t *mask)
{
	struct msg_pid r = {'P', 0, 0};
	pid_t self = zygote_self, pid;
	struct msg_start m_;
	const struct msg_start *m = &m_;

	memcpy(&m_, buf, sizeof(m_));
	if (m->step >= x->p->n_steps || fd < 0) {
		r.status = EINVAL;
		goto reply;
	}
	if (spare.ctl >= 0) {
		if (send_fd(spare.ctl, buf, n, fd) == 0) {
			r.pid = spare.pid;
			if (spare.relay.slot >= 0) {
				const zenc_step *s = x->p->steps[m->step];
				/* The log its body's output goes to
				 * (executor.c, capture_body()). */
				if (!s->threadable && x->run_dir) {
					spare.relay.run_dir = x->run_dir;
					spare.relay.step = s->name;
					spare.relay.attempt = m->attempt;
				}
				spare.relay.ctl = spare.ctl;
				relays_add(spare.pid, &spare.relay);
				spare.relay.slot = -1;
			} else {
				close(spare.ctl);
			}
			spare.ctl = -1;
			spare.pid = 0;
			goto reply;
		}
		drop_spare();
	}
	pid = fork();
	if (pid == 0) {
		close(sock);
		close(sfd);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != self)
			_exit(0);
		sigprocmask(SIG_SETMASK, mask, NULL);
		become_step(x, buf, n, fd);
	}
	if (pid < 0)
		r.status = errno;
	else
		setpgid(pid, pid);
	r.pid = pid < 0 ? 0 : pid;
reply:
	if (fd >= 0)
		close(fd);
	send_all(sock, &r, sizeof(r));
	/* The next step's process, forked while this one runs. */
	fork_spare(x, sock, sfd, mask);
}

static void reap(int sock)
{
	struct msg_pid r = {'E', 0, 0};
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		/* Its output in its log before anyone reads the log. */
		relays_ended(pid);
		r.pid = pid;
		r.status = status;
		send_all(sock, &r, sizeof(r));
	}
}

/*
 * The code a step's process runs.  fork() gives a child the page tables
 * of the parent's anonymous memory, not those of what the parent mapped
 * from a file: a child of the zygote faults in again every page of code
 * and constants it runs, a few dozen page faults per step (on a
 * paravirtualized machine, a quarter of a small step's time).  So the
 * zygote copies, once, the read-only segments (code and constants) of
 * libzenc and of the C library into anonymous memory at the same
 * addresses: the bytes are the same and nobody writes them, and every
 * child forked afterwards gets their page tables with its fork.  It
 * costs the zygote about 2 MB, shared with its children, and a few
 * milliseconds (what it saves in some 15 steps), so it is made for a
 * pipeline of 32 steps or more, while the first step runs.  A profiler
 * or debugger that names functions after the file mapped at an address
 * no longer finds them in the steps' processes: ZENC_NO_CODE_COPY=1 in
 * the environment of the pipeline program keeps the files mapped.  Under
 * valgrind, which keeps its own record of the mappings, no copy is made.
 */
#define CODE_COPY_MAX (8u << 20)
#define CODE_COPY_STEPS 32
static int code_copied;

/* A copy of `len` bytes (whole pages) that no sanitizer checks: the
 * constants of a libzenc built with AddressSanitizer hold the poisoned
 * gaps it puts around globals, which are copied too.  The reads are
 * volatile so that the loop does not become a call to memcpy(). */
__attribute__((no_sanitize_address)) static void copy_words(
	void *to, uintptr_t from, size_t len)
{
	const volatile uintptr_t *s = (const volatile uintptr_t *)from;
	uintptr_t *d = to;
	size_t i;

	for (i = 0; i < len / sizeof(*d); i++)
		d[i] = s[i];
}

/* Copies [lo, hi) into anonymous memory mapped over it, with `prot`. */
static void copy_pages(uintptr_t lo, uintptr_t hi, int prot)
{
	size_t len = hi - lo;
	char *c =
		mmap(NULL, len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (c == MAP_FAILED)
		return;
	copy_words(c, lo, len);
	if (prot & PROT_EXEC)
		__builtin___clear_cache(c, c + len);
	if (mprotect(c, len, prot) < 0 ||
	    mremap(c, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)lo) ==
		    MAP_FAILED) {
		zenc__debug(
			"code left mapped from its file: %s", strerror(errno));
		munmap(c, len);
	}
}

/* Copies the read-only segments of the object `info` when it holds one
 * of the two addresses `data` points to. */
static int copy_object(struct dl_phdr_info *info, size_t size, void *data)
{
	const void *const *want = data;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	size_t total = 0;
	int i, mine = 0;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type != PT_LOAD)
			continue;
		if (((uintptr_t)want[0] >= lo &&
		     (uintptr_t)want[0] < lo + ph->p_memsz) ||
		    ((uintptr_t)want[1] >= lo &&
		     (uintptr_t)want[1] < lo + ph->p_memsz))
			mine = 1;
		if (!(ph->p_flags & PF_W))
			total += ph->p_memsz;
	}
	/* A program linked with libzenc statically is the object: copying
	 * a large one would cost more memory than faults. */
	if (!mine || total > CODE_COPY_MAX)
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		uintptr_t hi = lo + ph->p_memsz;
		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) ||
		    ph->p_memsz == 0)
			continue;
		copy_pages(
			lo & ~(page - 1), (hi + page - 1) & ~(page - 1),
			PROT_READ | (ph->p_flags & PF_X ? PROT_EXEC : 0));
	}
	return 0;
}

static void copy_code(void)
{
	const char *pre = getenv("LD_PRELOAD");
	const void *want[2] = {
		(const void *)zenc__zygote_start, (const void *)getppid};

	if (getenv("ZENC_NO_CODE_COPY") || (pre && strstr(pre, "vgpreload")))
		return;
	dl_iterate_phdr(copy_object, want);
}

static void zygote_main(
	zenc__exec *x, int sock, pid_t parent, const sigset_t *mask)
{
	static char buf[MAX_PACKET];
	static struct pollfd own_pf[2];
	struct pollfd *pf = own_pf;
	size_t n_pf, i, n_rel = 0;
	sigset_t chld;
	int sfd;

	/* Dies with the orchestrator; its children die with it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	zygote_self = getpid();
	zenc__watcher_forget();
	/* A Ctrl-C or a SIGTERM to the group is the orchestrator's to
	 * handle: it stops the steps, then closes the socket. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	/* A terminal that went away fails the relay's write, not us. */
	sigaddset(&chld, SIGPIPE);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sigdelset(&chld, SIGPIPE);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		_exit(1);
	if (zenc__relay_init() == 0) {
		void *m =
			mmap(NULL, sizeof(*relays), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m != MAP_FAILED) {
			relays = m;
			pf = relays->pf;
		}
	}
	fork_spare(x, sock, sfd, mask);
	for (;;) {
		ssize_t n;
		int fd;

		n_rel = relays ? relays->n : 0;
		n_pf = 2 + 3 * n_rel;
		pf[0].fd = sock;
		pf[1].fd = sfd;
		for (i = 0; i < n_rel; i++) {
			pf[2 + 3 * i].fd = relays->items[i].r.ctl;
			pf[3 + 3 * i].fd = relays->items[i].r.rd[0];
			pf[4 + 3 * i].fd = relays->items[i].r.rd[1];
		}
		for (i = 0; i < n_pf; i++)
			pf[i].events = POLLIN;
		if (poll(pf, n_pf, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* Output first: a child's 'F' or end comes after what it
		 * wrote. */
		for (i = 0; i < n_rel; i++)
			if (relays->items[i].pid)
				relay_poll(&relays->items[i].r, &pf[3 + 3 * i]);
		if (pf[1].revents) {
			/* SIGCHLD is pending once at most: one read. */
			struct signalfd_siginfo si;
			ssize_t r = read(sfd, &si, sizeof(si));
			(void)r;
			reap(sock);
		}
		for (i = 0; i < n_rel; i++)
			if (relays->items[i].pid && pf[2 + 3 * i].revents)
				relay_ctl(&relays->items[i]);
		relays_drop_ended();
		if (!pf[0].revents)
			continue;
		n = recv_fd(sock, buf, sizeof(buf), &fd);
		if (n <= 0)
			break;
		if (buf[0] == 'S' && (size_t)n >= sizeof(struct msg_start)) {
			start_child(x, buf, (size_t)n, fd, sock, sfd, mask);
			/* While the first step runs; the spares forked
			 * from then on get the copy. */
			if (!code_copied) {
				if (x->p->n_steps >= CODE_COPY_STEPS)
					copy_code();
				/* Once: a page the zygote writes is a copy
				 * while a spare shares it. */
				code_copied = 1;
			}
			continue;
		}
		if (fd >= 0)
			close(fd);
		if (buf[0] == 'A') {
			put_artifacts(x, buf, (size_t)n);
			if (spare.ctl >= 0 &&
			    send_fd(spare.ctl, buf, (size_t)n, -1) < 0)
				drop_spare();
		}
	}
	drop_spare();
	/* What the children wrote goes to their logs. */
	for (i = 0; relays && i < relays->n; i++)
		if (relays->items[i].pid)
			zenc__relay_close(&relays->items[i].r);
	/* The orchestrator is done (or gone): nothing of its state is ours
	 * to flush or free. */
	_exit(0);
}

/* ------------------------------------------------------- orchestrator */

void zenc__zygote_start(zenc__exec *x)
{
	struct zenc__zygote *z;
	sigset_t mask;
	pid_t self = getpid(), pid;
	int sv[2];

	if (x->zygote)
		return;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		zenc__debug("no zygote: socketpair: %s", strerror(errno));
		return;
	}
	sigprocmask(SIG_SETMASK, NULL, &mask);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		zenc__debug("no zygote: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (pid == 0) {
		close(sv[0]);
		zygote_main(x, sv[1], self, &mask);
	}
	close(sv[1]);
	z = zenc__calloc(1, sizeof(*z));
	z->pid = pid;
	z->sock = sv[0];
	x->zygote = z;
}

/* The zygote stopped answering: from now on the orchestrator forks. */
static void lost(zenc__exec *x)
{
	struct zenc__zygote *z = x->zygote;

	if (z->sock >= 0) {
		zenc__warn("the process that forks the steps is gone; the "
			   "steps it started were killed");
		close(z->sock);
		z->sock = -1;
		kill(z->pid, SIGKILL);
	}
}

/* Receives one packet into *r; -1 when the zygote is gone. */
static int receive(struct zenc__zygote *z, struct msg_pid *r)
{
	ssize_t n;

	for (;;) {
		n = recv(z->sock, r, sizeof(*r), 0);
		if (n == (ssize_t)sizeof(*r))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

static void stash(struct zenc__zygote *z, const struct msg_pid *r)
{
	size_t i;

	for (i = 0; i < z->n_forgot; i++) {
		if (z->forgot[i] == r->pid) {
			z->forgot[i] = z->forgot[--z->n_forgot];
			return;
		}
	}
	zenc__array_grow(
		(void **)&z->ended, &z->cap_ended, z->n_ended + 1,
		sizeof(*z->ended));
	z->ended[z->n_ended].pid = r->pid;
	z->ended[z->n_ended].status = r->status;
	z->n_ended++;
}

/*
 * Takes in the ends the zygote has reported so far, without waiting.
 * Called before a send that would wait (send_to()): a zygote blocked on
 * reporting ends (its socket full) reads nothing, and an orchestrator
 * blocked on sending to it would then wait for ever.
 */
static void take_ends(struct zenc__zygote *z)
{
	struct msg_pid r;
	ssize_t n;

	for (;;) {
		n = recv(z->sock, &r, sizeof(r), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(r))
			return;
		if (r.type == 'E')
			stash(z, &r);
	}
}

/* Sends a packet to the zygote: at once when there is room (the usual
 * case: no system call to take in ends first), else once the ends it
 * reported are taken in. */
static int send_to(struct zenc__zygote *z, const void *buf, size_t len, int fd)
{
	if (send_fd_flags(z->sock, buf, len, fd, MSG_DONTWAIT) == 0)
		return 0;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return -1;
	take_ends(z);
	return send_fd(z->sock, buf, len, fd);
}

int zenc__zygote_spawn(zenc__exec *x, zenc__attempt *a, int fd)
{
	struct zenc__zygote *z = x->zygote;
	struct msg_start m;
	struct msg_pid r;
	zenc_buf b = ZENC_BUF_INIT;
	int rc;

	if (!z || z->sock < 0 || z->stale || !a->ss)
		return -1;
	memset(&m, 0, sizeof(m));
	m.type = 'S';
	m.step = (uint32_t)(a->ss - x->steps);
	m.attempt = a->attempt;
	m.last = a->last;
	m.started = a->ss->started;
	m.phase = (int32_t)a->cur.phase;
	m.ev = (int32_t)a->cur.ev;
	m.idx = (uint64_t)a->cur.idx;
	zenc_buf_put(&b, &m, sizeof(m));
	if (a->failed) {
		const char *type = a->err.type ? a->err.type : "";
		const char *msg = a->err.message ? a->err.message : "";
		size_t room = MAX_PACKET - sizeof(m) - strlen(type) - 2;
		m.failed = 1;
		m.exit_code = a->err.exit_code;
		m.signal = a->err.signal;
		memcpy(b.ptr, &m, sizeof(m));
		zenc_buf_put(&b, type, strlen(type) + 1);
		/* A message past a packet is cut (the record keeps it whole).
		 */
		zenc_buf_put(&b, msg, strlen(msg) < room ? strlen(msg) : room);
		zenc_buf_put(&b, "", 1);
	}
	rc = send_to(z, b.ptr, b.len, fd);
	zenc_buf_release(&b);
	if (rc < 0) {
		lost(x);
		return -1;
	}
	for (;;) {
		if (receive(z, &r) < 0) {
			lost(x);
			return -1;
		}
		if (r.type == 'E') {
			stash(z, &r);
			continue;
		}
		if (r.pid > 0)
			return r.pid;
		errno = r.status;
		return -1;
	}
}

void zenc__zygote_completed(zenc__exec *x, const zenc__stepstate *ss)
{
	struct zenc__zygote *z = x->zygote;
	zenc_buf b = ZENC_BUF_INIT;
	uint32_t step, n;
	size_t i;

	if (!z || z->sock < 0 || z->stale || ss->n_arts == 0)
		return;
	step = (uint32_t)(ss - x->steps);
	n = (uint32_t)ss->n_arts;
	zenc_buf_put(&b, "A", 1);
	zenc_buf_put(&b, &step, 4);
	zenc_buf_put(&b, &n, 4);
	for (i = 0; i < ss->n_arts; i++) {
		const zenc__artifact *a = &ss->arts[i];
		int32_t type = (int32_t)a->type;
		zenc_buf_put(&b, &type, 4);
		zenc_buf_put(&b, &a->size, 8);
		zenc_buf_put(&b, a->checksum, ZENC__SUM_MAX);
		zenc_buf_put(&b, a->name, strlen(a->name) + 1);
		zenc_buf_put(&b, a->uri, strlen(a->uri) + 1);
	}
	if (b.len > MAX_PACKET) {
		/* Its copy of the run would be out of date: start no more
		 * steps from it (what it started is still reaped). */
		zenc__debug(
			"zygote: the artifacts of '%s' do not fit a "
			"packet; forking from the orchestrator",
			ss->step->name);
		z->stale = 1;
	} else {
		if (send_to(z, b.ptr, b.len, -1) < 0)
			lost(x);
	}
	zenc_buf_release(&b);
}

int zenc__zygote_wait(zenc__exec *x, pid_t pid, int *wstatus)
{
	struct zenc__zygote *z = x->zygote;
	struct msg_pid r;
	size_t i;

	for (i = 0; i < z->n_ended; i++) {
		if (z->ended[i].pid == pid) {
			*wstatus = z->ended[i].status;
			z->ended[i] = z->ended[--z->n_ended];
			return 0;
		}
	}
	while (z->sock >= 0) {
		if (receive(z, &r) < 0) {
			lost(x);
			break;
		}
		if (r.type != 'E')
			continue;
		if (r.pid == pid) {
			*wstatus = r.status;
			return 0;
		}
		stash(z, &r);
	}
	/* Gone, and its children with it (PR_SET_PDEATHSIG). */
	*wstatus = SIGKILL;
	return -1;
}

void zenc__zygote_forget(zenc__exec *x, pid_t pid)
{
	struct zenc__zygote *z = x->zygote;
	size_t i;

	for (i = 0; i < z->n_ended; i++) {
		if (z->ended[i].pid == pid) {
			z->ended[i] = z->ended[--z->n_ended];
			return;
		}
	}
	zenc__array_grow(
		(void **)&z->forgot, &z->cap_forgot, z->n_forgot + 1,
		sizeof(*z->forgot));
	z->forgot[z->n_forgot++] = pid;
}

void zenc__zygote_stop(zenc__exec *x)
{
	struct zenc__zygote *z = x->zygote;
	int status;

	if (!z)
		return;
	if (z->sock >= 0)
		close(z->sock);
	while (waitpid(z->pid, &status, 0) < 0 && errno == EINTR)
		;
	free(z->ended);
	free(z->forgot);
	free(z);
	x->zygote = NULL;
}
