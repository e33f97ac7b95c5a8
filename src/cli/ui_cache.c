/*
 * The dashboard's marks of the step cache (ui_render.c): which run a
 * cached step's outputs come from, and which run a run resumed.
 */
#include <string.h>

#include "cli.h"
#include "ui.h"

/* A link to run `id`'s page, or the id alone in a static report. */
static void run_ref(zenc_buf *b, const char *id, unsigned flags)
{
	if (!(flags & CLI_UI_REPORT)) {
		zenc_buf_puts(b, "<a href=\"/runs/");
		cli_ui_url_escape(b, id);
		zenc_buf_puts(b, "\">");
	}
	zenc_buf_puts(b, "<code>");
	cli_ui_escape(b, id);
	zenc_buf_puts(b, "</code>");
	if (!(flags & CLI_UI_REPORT))
		zenc_buf_puts(b, "</a>");
}

void cli_ui_cached_from(
	zenc_buf *b,
	const zenc_run_record *run,
	const zenc_step_record *s,
	unsigned flags)
{
	if (!s->cached_from)
		return;
	zenc_buf_puts(b, "<p class=\"cached\" data-cached-from=\"");
	cli_ui_escape(b, s->cached_from);
	zenc_buf_printf(
		b, "\">%s from run ",
		run->resumed_from ? "not executed: reused (resume)"
				  : "not executed: taken from the cache");
	run_ref(b, s->cached_from, flags);
	zenc_buf_puts(b, ", which executed it</p>\n");
}

void cli_ui_resumed_from(
	zenc_buf *b, const zenc_run_record *run, unsigned flags)
{
	if (!run->resumed_from)
		return;
	zenc_buf_puts(b, "<dt>resumed</dt><dd id=\"resumed-from\">");
	run_ref(b, run->resumed_from, flags);
	zenc_buf_puts(b, "</dd>\n");
}
