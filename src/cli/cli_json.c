/*
 * JSON output of the commands, through jansson: values made here, and
 * written in the commands' layouts (key order kept).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

json_t *cli_json_str(const char *s)
{
	zenc_buf b = ZENC_BUF_INIT;
	const unsigned char *p, *end;
	json_t *j;
	size_t len;

	if (!s)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	/* Not UTF-8: each byte of a broken sequence becomes U+FFFD. */
	p = (const unsigned char *)s;
	end = p + strlen(s);
	while (p < end) {
		len = zenc__utf8_len(p, (size_t)(end - p));
		if (len) {
			zenc_buf_put(&b, p, len);
			p += len;
		} else {
			zenc_buf_puts(&b, "\xef\xbf\xbd");
			p++;
		}
	}
	j = json_stringn(zenc_buf_cstr(&b), b.len);
	zenc_buf_release(&b);
	return j ? j : json_null();
}

json_t *cli_json_time(double t)
{
	zenc_buf b = ZENC_BUF_INIT;
	json_t *j;

	if (t == 0)
		return json_null();
	zenc__time_iso(&b, t);
	j = json_string(zenc_buf_cstr(&b));
	zenc_buf_release(&b);
	return j;
}

json_t *cli_json_seconds(double v)
{
	if (!isfinite(v))
		return json_null();
	/* To the microsecond, as the records keep it. */
	return json_real(round(v * 1e6) / 1e6);
}

/* jansson's flags for every output: key order kept, any value, and
 * reals to the microsecond (15 digits). */
#define DUMP_FLAGS (JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)

void cli_json_put(zenc_buf *b, const json_t *j, int compact)
{
	char *s = json_dumps(
		j, DUMP_FLAGS | JSON_REAL_PRECISION(15) |
			   (compact ? JSON_COMPACT : 0));

	if (!s)
		abort(); /* only on out of memory */
	zenc_buf_puts(b, s);
	free(s);
}

void cli_json_put_members(zenc_buf *b, const json_t *obj, int compact)
{
	zenc_buf all = ZENC_BUF_INIT;

	cli_json_put(&all, obj, compact);
	/* "{...}": what is between the braces. */
	if (all.len >= 2)
		zenc_buf_put(b, all.ptr + 1, all.len - 2);
	zenc_buf_release(&all);
}
