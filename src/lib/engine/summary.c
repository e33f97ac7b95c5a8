/*
 * The closing block of a failed run: what failed, why, where its log is
 * and how it ended, so that a failure is never only somewhere in the
 * middle of a long output (a cron mail, a piped log) nor silenced by
 * --quiet.  It goes through the library's log at error level, which
 * --quiet keeps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_run.h"
#include "internal.h"

/* The lines of a log shown under each failed step. */
#define SUMMARY_LOG_LINES 10
/* The bytes read from a log's end to find them. */
#define SUMMARY_LOG_TAIL 8192

/* A "file://" URI or a plain path, as a path; NULL for anything else. */
static const char *log_path(const char *uri)
{
	if (!uri || !*uri)
		return NULL;
	if (!strncmp(uri, "file://", 7))
		return uri + 7;
	return uri[0] == '/' ? uri : NULL;
}

/* Logs the last SUMMARY_LOG_LINES lines of `path`, indented. */
static void log_tail(const char *path)
{
	char buf[SUMMARY_LOG_TAIL + 1];
	const char *lines[SUMMARY_LOG_LINES];
	size_t n = 0, i, len;
	long size;
	char *p, *end;
	FILE *f = fopen(path, "rb");

	if (!f)
		return;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0) {
		long from =
			size > SUMMARY_LOG_TAIL ? size - SUMMARY_LOG_TAIL : 0;
		if (fseek(f, from, SEEK_SET) != 0)
			size = 0;
	}
	len = fread(buf, 1, SUMMARY_LOG_TAIL, f);
	fclose(f);
	buf[len] = '\0';
	/* The last lines, newest last: walk back from the end. */
	end = buf + len;
	while (end > buf && end[-1] == '\n')
		*--end = '\0';
	while (end > buf && n < SUMMARY_LOG_LINES) {
		p = end;
		while (p > buf && p[-1] != '\n')
			p--;
		if (p == buf && len == SUMMARY_LOG_TAIL)
			break; /* a partial first line */
		lines[n++] = p;
		if (p > buf)
			p[-1] = '\0';
		end = p > buf ? p - 1 : buf;
	}
	if (!n)
		return;
	zenc__log(ZENC_LOG_ERROR, "    last lines of the log:");
	for (i = n; i-- > 0;)
		zenc__log(ZENC_LOG_ERROR, "    | %s", lines[i]);
}

void zenc__engine_summary(const zenc__exec *x)
{
	size_t i, failed = 0, skipped = 0;

	if (!x->run->failed)
		return;
	for (i = 0; i < x->p->n_steps; i++) {
		if (x->steps[i].status == ZENC__ST_FAILED)
			failed++;
		else if (x->steps[i].status == ZENC__ST_SKIPPED)
			skipped++;
	}
	zenc__log(
		ZENC_LOG_ERROR,
		"Run %s failed: %zu step%s failed, %zu skipped.", x->run->name,
		failed, failed == 1 ? "" : "s", skipped);
	for (i = 0; i < x->p->n_steps; i++) {
		const zenc__stepstate *ss = &x->steps[i];
		const char *path, *msg;

		if (ss->status != ZENC__ST_FAILED)
			continue;
		msg = ss->error.message ? ss->error.message : "";
		path = log_path(ss->log_uri);
		/* A command's message ends with its output's last lines:
		 * with a log, they are shown from the log below. */
		zenc__log(
			ZENC_LOG_ERROR,
			"  Step %s failed (attempt %d): %s: %.*s",
			ss->step->name, ss->attempt,
			ss->error.type ? ss->error.type : "Error",
			path ? (int)strcspn(msg, "\n") : (int)strlen(msg), msg);
		if (path) {
			zenc__log(ZENC_LOG_ERROR, "    log: %s", path);
			log_tail(path);
		} else {
			zenc__log(
				ZENC_LOG_ERROR,
				"    log: none (the step wrote no log file)");
		}
	}
	zenc__log(ZENC_LOG_ERROR, "  Details: zenc runs show %s", x->run->id);
}
