/* The log of a step written in C: its output captured while its body
 * runs (capture.c). */
#ifndef ZENC_LIB_ENGINE_CAPTURE_H
#define ZENC_LIB_ENGINE_CAPTURE_H

typedef struct zenc__capture zenc__capture;

/* Sends file descriptors 1 and 2 of this process to the log of attempt
 * `attempt` of step `step`, RUN_DIR/STEP/log.N (created, truncated, by
 * the first byte written: no file when nothing is), and to where they
 * went before; NULL, with a warning, when that cannot be done (the step
 * then runs uncaptured).  In a child of the zygote, which knows the log
 * already, it allocates nothing. */
zenc__capture *zenc__capture_begin(
	const char *run_dir, const char *step, int attempt);
/* Restores fds 1 and 2 once all the step wrote is in the log; `last`:
 * nothing of the step's runs after in this process (no hook), so a child
 * of the zygote, which only reports and ends, may leave them on the
 * pipes.  NULL is harmless. */
void zenc__capture_end(zenc__capture *c, int last);
/* Makes this process's tee (the pipes and the thread a capture uses) now
 * rather than at the first capture: the zygote's spare child does so
 * while it waits, so that the step it becomes starts without paying for
 * them.  Quietly does nothing when that fails (the capture says so). */
void zenc__capture_prepare(void);
/* Where the run's own lines go: the terminal saved by a capture under
 * way, else 2. */
int zenc__capture_terminal_fd(void);

/*
 * The relay: the output of the children of the zygote, read by the zygote
 * itself rather than by a thread of each child (capture.c).  The zygote
 * calls zenc__relay_init() once; then for each child, zenc__relay_open()
 * and zenc__relay_adopt() before the fork (the child's captures then use
 * the relay; `ctl` is the child's end of a socket whose other end the
 * zygote keeps in `ctl`; a child forked without a relay gets
 * zenc__relay_adopt(NULL, -1)), zenc__relay_parent() in the zygote after
 * it; zenc__relay_pump() when a pipe is readable; and zenc__relay_close()
 * when the child asks ('F' on the socket: then the zygote answers 'f'
 * after the close), when its socket closes, or when it ended.  The child
 * itself calls nothing and writes nothing of it.
 */
typedef struct zenc__relay {
	int rd[2]; /* the zygote's read ends; -1: closed */
	int wr[2]; /* the child's write ends, until the fork */
	int ctl;   /* the zygote's end of the child's socket, or -1 */
	int slot;  /* the child's slot in the shared page, or -1 */
	int log;   /* the log, once something came */
	/* The log to write, RUN_DIR/STEP/log.N (borrowed); NULL: none. */
	const char *run_dir, *step;
	int attempt;
} zenc__relay;

int zenc__relay_init(void);
/* 0, or -1 when there is no relay for this child (it then reads its
 * pipes with a thread of its own). */
int zenc__relay_open(zenc__relay *r);
void zenc__relay_adopt(const zenc__relay *r, int ctl);
void zenc__relay_parent(zenc__relay *r);
void zenc__relay_pump(zenc__relay *r);
/* Pipe `i` (0: fd 1, 1: fd 2) is empty and has no writer left (poll()
 * said POLLHUP alone): closes it, without reading. */
void zenc__relay_drained(zenc__relay *r, int i);
void zenc__relay_close(zenc__relay *r);

#endif
