/*
 * The logs of a run's steps on the dashboard: on the run page, the last
 * lines of each attempt's log (a command step's output, a C step's
 * standard output and error); on a page of its own, an attempt's whole
 * log as plain text.  A log is user data: HTML-escaped on the run page,
 * served as text/plain (with nosniff) on its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ui.h"

/* How much of a log the run page shows. */
#define LOG_TAIL_LINES 20
#define LOG_TAIL_BYTES 65536
/* How much of a log its own page shows: the end of a bigger one. */
#define LOG_PAGE_BYTES (8 << 20)

static const char *log_file(const char *uri)
{
	return strncmp(uri, "file://", 7) ? uri : uri + 7;
}

/* Reads at most `max` bytes from the end of `path` into `out`; 0, or -1
 * with errno.  *skipped: the bytes before them. */
static int read_end(const char *path, size_t max, zenc_buf *out, off_t *skipped)
{
	struct stat st;
	char buf[65536];
	off_t from;
	ssize_t got;
	size_t n = 0;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	from = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
	if (lseek(fd, from, SEEK_SET) < 0)
		goto fail;
	while (n < max && (got = read(fd, buf, sizeof(buf))) > 0) {
		size_t take = (size_t)got < max - n ? (size_t)got : max - n;

		zenc_buf_put(out, buf, take);
		n += take;
	}
	*skipped = from;
	close(fd);
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* The last lines of a log, or why they cannot be shown. */
static void log_tail(zenc_buf *b, const char *uri)
{
	zenc_buf data = ZENC_BUF_INIT;
	const char *p;
	size_t start, lines = 0;
	off_t skipped;

	if (read_end(log_file(uri), LOG_TAIL_BYTES, &data, &skipped) < 0) {
		zenc_buf_puts(b, "<p class=\"muted\">log not readable: ");
		cli_ui_escape(b, strerror(errno));
		zenc_buf_puts(b, "</p>\n");
		zenc_buf_release(&data);
		return;
	}
	p = zenc_buf_cstr(&data);
	/* Back from the end, past LOG_TAIL_LINES newlines (a final newline
	 * does not start a line). */
	start = data.len;
	if (start && p[start - 1] == '\n')
		start--;
	while (start > 0) {
		if (p[start - 1] == '\n' && ++lines == LOG_TAIL_LINES)
			break;
		start--;
	}
	zenc_buf_puts(b, "<pre class=\"log\">");
	cli_ui_escape(b, p + start);
	zenc_buf_puts(b, "</pre>\n");
	zenc_buf_release(&data);
}

/* The log of attempt `n`: recorded with the attempt, or the step's own
 * when it is that attempt's (records made before attempts kept theirs),
 * or, for the attempt that runs, the file it writes in `run_dir` when
 * there is one.  The caller frees it. */
static char *attempt_log(const zenc_step_info *si, int n, const char *run_dir)
{
	const char *uri = si->rec.log_uri;
	char suffix[32], *path;
	size_t k, len, sl;

	for (k = 0; k < si->n_attempts; k++)
		if (si->attempts[k].attempt == n && si->attempts[k].log_uri &&
		    *si->attempts[k].log_uri)
			return zenc__strdup(si->attempts[k].log_uri);
	snprintf(suffix, sizeof(suffix), "/log.%d", n);
	if (uri && (len = strlen(uri)) > (sl = strlen(suffix)) &&
	    !strcmp(uri + len - sl, suffix))
		return zenc__strdup(uri);
	if (!run_dir || n != si->rec.attempts || !si->rec.status ||
	    strcmp(si->rec.status, "running"))
		return NULL;
	path = zenc__asprintf("%s/%s/log.%d", run_dir, si->rec.name, n);
	if (access(path, R_OK) == 0)
		return path;
	free(path);
	return NULL;
}

void cli_ui_step_logs(
	zenc_buf *b,
	const zenc_run_info *info,
	const zenc_step_info *si,
	size_t i,
	const char *run_dir,
	unsigned flags)
{
	const char *last = si->rec.log_uri;
	char *uri;
	int n, top = si->rec.attempts, shown = 0;

	if (si->n_attempts && si->attempts[si->n_attempts - 1].attempt > top)
		top = si->attempts[si->n_attempts - 1].attempt;
	for (n = 1; n <= top; n++) {
		if (!(uri = attempt_log(si, n, run_dir)))
			continue;
		/* The failures section links to the step's last log. */
		if (last && !strcmp(uri, last))
			zenc_buf_printf(b, "<a id=\"step-%zu-log\"></a>", i);
		zenc_buf_printf(
			b,
			"<h4 id=\"step-%zu-log-%d\" class=\"attempt-log\">"
			"Log of attempt %d (last %d lines)",
			i, n, n, LOG_TAIL_LINES);
		if (!(flags & CLI_UI_REPORT)) {
			zenc_buf_puts(b, " <a href=\"/runs/");
			cli_ui_url_escape(b, info->rec.id);
			zenc_buf_printf(b, "/log-%zu-%d\">whole log</a>", i, n);
		}
		zenc_buf_puts(b, "</h4>\n");
		log_tail(b, uri);
		free(uri);
		shown = 1;
	}
	/* A log the attempts do not name. */
	if (!shown && last && *last) {
		zenc_buf_printf(
			b, "<h4 id=\"step-%zu-log\">Log (last %d lines)</h4>\n",
			i, LOG_TAIL_LINES);
		log_tail(b, last);
	}
}

int cli_ui_log_text(
	zenc_buf *b,
	const zenc_run_info *info,
	const char *what,
	const char *run_dir)
{
	char *uri;
	char *end;
	unsigned long step;
	long n;
	off_t skipped = 0;

	if (strncmp(what, "log-", 4))
		return -1;
	errno = 0;
	step = strtoul(what + 4, &end, 10);
	if (errno || end == what + 4 || *end != '-' || step >= info->n_steps)
		return -1;
	n = strtol(end + 1, &end, 10);
	if (errno || *end || n < 1 || n > 1000000)
		return -1;
	if (!(uri = attempt_log(&info->steps[step], (int)n, run_dir)))
		return -1;
	zenc_buf_clear(b);
	if (read_end(log_file(uri), LOG_PAGE_BYTES, b, &skipped) < 0) {
		zenc_buf_printf(
			b, "The log %s cannot be read: %s\n", uri,
			strerror(errno));
		free(uri);
		return 0;
	}
	if (skipped > 0) {
		zenc_buf tmp = ZENC_BUF_INIT;

		zenc_buf_printf(
			&tmp, "[the first %lld bytes are left out: see %s]\n",
			(long long)skipped, uri);
		zenc_buf_put(&tmp, b->ptr, b->len);
		zenc_buf_clear(b);
		zenc_buf_put(b, tmp.ptr, tmp.len);
		zenc_buf_release(&tmp);
	}
	free(uri);
	return 0;
}
