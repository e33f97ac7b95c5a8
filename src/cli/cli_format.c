/* Times and durations as the commands print them. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "cli.h"

void cli_put_local_time(zenc_buf *b, double t)
{
	char out[32];
	time_t sec = (time_t)t;
	struct tm tm;

	if (t == 0 || !localtime_r(&sec, &tm) ||
	    !strftime(out, sizeof(out), "%Y-%m-%d %H:%M:%S", &tm)) {
		zenc_buf_putc(b, '-');
		return;
	}
	zenc_buf_puts(b, out);
}

void cli_put_duration(zenc_buf *b, double s)
{
	long total;

	if (!isfinite(s) || s < 0) {
		zenc_buf_putc(b, '-');
	} else if (s < 60) {
		zenc_buf_printf(b, "%.3fs", s);
	} else if (s < 3600) {
		total = (long)s;
		zenc_buf_printf(b, "%ldm%02lds", total / 60, total % 60);
	} else {
		total = (long)s;
		zenc_buf_printf(
			b, "%ldh%02ldm%02lds", total / 3600, total / 60 % 60,
			total % 60);
	}
}

void cli_put_span(zenc_buf *b, double start, double end)
{
	if (start == 0 || end == 0)
		zenc_buf_putc(b, '-');
	else
		cli_put_duration(b, end - start);
}

void cli_put_cell(zenc_buf *b, const char *text, size_t width, int last)
{
	size_t n = strlen(text);

	zenc_buf_put(b, text, n);
	if (last)
		return;
	for (n = width + 2 - n; n > 0; n--)
		zenc_buf_putc(b, ' ');
}
