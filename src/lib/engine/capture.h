/* The log of a step written in C: its output captured while its body
 * runs (capture.c). */
#ifndef ZENC_LIB_ENGINE_CAPTURE_H
#define ZENC_LIB_ENGINE_CAPTURE_H

typedef struct zenc__capture zenc__capture;

/* Sends file descriptors 1 and 2 of this process to the log `path`
 * (created, truncated, by the first byte written: no file when nothing
 * is) and to where they went before; NULL, with a warning, when that
 * cannot be done (the step then runs uncaptured). */
zenc__capture *zenc__capture_begin(const char *path);
/* Restores fds 1 and 2 once all the step wrote is in the log.  NULL is
 * harmless. */
void zenc__capture_end(zenc__capture *c);
/* Makes this process's tee (the pipes and the thread a capture uses) now
 * rather than at the first capture: the zygote's spare child does so
 * while it waits, so that the step it becomes starts without paying for
 * them.  Quietly does nothing when that fails (the capture says so). */
void zenc__capture_prepare(void);
/* Where the run's own lines go: the terminal saved by a capture under
 * way, else 2. */
int zenc__capture_terminal_fd(void);

#endif
