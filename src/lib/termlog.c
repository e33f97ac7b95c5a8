/*
 * The terminal log of pipeline programs and `zenc run`: the
 * library's log lines on standard error, in colour on a terminal (never
 * with NO_COLOR or when piped), and, for runs of many steps on a
 * terminal, a live progress line instead of a line per step event.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "termlog.h"
#include "engine/capture.h"
#include "internal.h"

/* Below this many steps every step event gets its own line. */
#define PROGRESS_MIN_STEPS 20

static struct {
	int colour;
	int live;  /* a progress line is shown */
	int drawn; /* it is on the screen now */
	size_t total, started, finished, failed, skipped, cached;
	double last_draw;
} term;

/* Writes to standard error, or to the terminal that a step's captured
 * output hides it from (engine/capture.c): a run's own lines never land
 * in a step's log. */
static void out(const char *fmt, ...) ZENC__PRINTF(1, 2);
static void out(const char *fmt, ...)
{
	char small[1024], *line = small;
	const char *p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(small)) {
		line = zenc__malloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(line, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	fflush(stderr);
	for (p = line; n > 0;) {
		ssize_t w = write(zenc__capture_terminal_fd(), p, (size_t)n);
		if (w <= 0)
			break;
		p += w;
		n -= (int)w;
	}
	if (line != small)
		free(line);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* Counts a step event; 1 when the line is only a step event, which the
 * progress line replaces. */
static int count(const char *m)
{
	if (strncmp(m, "Step ", 5) && strncmp(m, "Running ", 8))
		return 0;
	if (!strncmp(m, "Running ", 8))
		return 1;
	if (ends_with(m, "has started."))
		term.started++;
	else if (strstr(m, " has started (attempt "))
		return 1;
	else if (strstr(m, " has finished in "))
		term.finished++;
	else if (strstr(m, " was skipped: "))
		term.skipped++;
	else if (strstr(m, " was taken from the cache "))
		term.cached++;
	else if (strstr(m, " failed"))
		return 0; /* failures keep their line */
	else
		return 0;
	return 1;
}

static void draw(void)
{
	size_t done = term.finished + term.failed + term.skipped + term.cached;
	size_t running = term.started - term.finished - term.failed;

	out("\r\033[K[%zu/%zu] %zu completed, ", done, term.total,
	    term.finished);
	if (term.cached)
		out("%zu cached, ", term.cached);
	out("%zu failed, %zu skipped, %zu running", term.failed, term.skipped,
	    running);
	fflush(stderr);
	term.drawn = 1;
}

static void clear(void)
{
	if (term.drawn) {
		out("\r\033[K");
		term.drawn = 0;
	}
}

static void printer(zenc_log_level level, const char *message, void *payload)
{
	const char *on = "", *off = "";

	(void)payload;
	if (term.live) {
		/* Each failed attempt is logged; one that will be retried is
		 * followed by "failed on attempt N ...; retrying", so that
		 * only final failures stay counted. */
		if (!strncmp(message, "Step ", 5) &&
		    strstr(message, " failed: "))
			term.failed++;
		else if (
			!strncmp(message, "Step ", 5) &&
			strstr(message, " failed on attempt ") && term.failed)
			term.failed--;
		if (count(message)) {
			/* At most 20 redraws a second: a terminal is slow. */
			double now = zenc__monotonic();
			if (now - term.last_draw >= 0.05) {
				term.last_draw = now;
				draw();
			}
			return;
		}
		if (!strncmp(message, "Run ", 4) &&
		    (strstr(message, " completed in ") ||
		     strstr(message, " failed in "))) {
			/* The run ended: the last tally stays on screen. */
			draw();
			out("\n");
			term.drawn = 0;
			term.live = 0;
		} else {
			clear();
		}
	}
	if (term.colour) {
		off = "\033[0m";
		if (level >= ZENC_LOG_ERROR || strstr(message, " failed"))
			on = "\033[31m";
		else if (level >= ZENC_LOG_WARN)
			on = "\033[33m";
		else if (
			strstr(message, "has finished") ||
			strstr(message, " was taken from the cache ") ||
			strstr(message, " completed in "))
			on = "\033[32m";
		else
			off = "";
	}
	if (level >= ZENC_LOG_WARN && level < ZENC_LOG_ERROR)
		out("%swarning: %s%s\n", on, message, off);
	else
		out("%s%s%s\n", on, message, off);
	if (term.live)
		draw();
}

void zenc__termlog_install(size_t n_steps, int quiet)
{
	const char *nc = getenv("NO_COLOR"), *t = getenv("TERM");
	int tty = isatty(2) && !(t && !strcmp(t, "dumb"));

	memset(&term, 0, sizeof(term));
	term.colour = tty && !(nc && *nc);
	term.live = tty && !quiet && n_steps >= PROGRESS_MIN_STEPS;
	term.total = n_steps;
	zenc_log_set(quiet ? ZENC_LOG_WARN : ZENC_LOG_INFO, printer, NULL);
}

void zenc__termlog_done(void)
{
	clear();
	fflush(stderr);
}
