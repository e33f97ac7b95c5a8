/*
 * The terminal log of pipeline programs and `zenc run`: the
 * library's log lines on standard error, in colour on a terminal (never
 * with NO_COLOR or when piped), and, for runs of many steps on a
 * terminal, a live progress line instead of a line per step event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "termlog.h"
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

	fprintf(stderr, "\r\033[K[%zu/%zu] %zu completed, ", done, term.total,
		term.finished);
	if (term.cached)
		fprintf(stderr, "%zu cached, ", term.cached);
	fprintf(stderr, "%zu failed, %zu skipped, %zu running", term.failed,
		term.skipped, running);
	fflush(stderr);
	term.drawn = 1;
}

static void clear(void)
{
	if (term.drawn) {
		fputs("\r\033[K", stderr);
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
			fputc('\n', stderr);
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
		fprintf(stderr, "%swarning: %s%s\n", on, message, off);
	else
		fprintf(stderr, "%s%s%s\n", on, message, off);
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
