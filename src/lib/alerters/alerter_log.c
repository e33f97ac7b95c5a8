/*
 * The log alerter: alerts as log lines through the library's logger,
 * which zenc_main() and the CLI send to standard error.  Failures are
 * warnings, everything else is information.
 */
#include <stdlib.h>
#include <string.h>

#include "alerters/alerter.h"

static int log_post(zenc_alerter *self, const zenc_alert *al)
{
	zenc_buf b = ZENC_BUF_INIT;
	bool failed = al->status && !strcmp(al->status, "failed");
	size_t i;

	(void)self;
	zenc_buf_printf(&b, "alert: %s", al->title ? al->title : "");
	if (al->message && (!al->title || strcmp(al->message, al->title)))
		zenc_buf_printf(&b, "\n  %s", al->message);
	if (al->pipeline)
		zenc_buf_printf(
			&b, "\n  pipeline %s, run %s, step %s", al->pipeline,
			al->run_name ? al->run_name : "-",
			al->step ? al->step : "-");
	if (al->error_type)
		zenc_buf_printf(
			&b, "\n  error %s: %s", al->error_type,
			al->error_message ? al->error_message : "");
	for (i = 0; al->fields && i < al->n_fields; i++)
		zenc_buf_printf(
			&b, "\n  %s: %s", al->fields[i].key,
			al->fields[i].value ? al->fields[i].value : "");
	if (al->url)
		zenc_buf_printf(&b, "\n  %s", al->url);
	zenc__log(
		failed ? ZENC_LOG_WARN : ZENC_LOG_INFO, "%s",
		zenc_buf_cstr(&b));
	zenc_buf_release(&b);
	return 0;
}

static void log_free(zenc_alerter *self)
{
	free(self);
}

int zenc__alerter_log_create(zenc_alerter **out, const zenc__alerter_config *c)
{
	zenc_alerter *a;

	(void)c;
	a = zenc__calloc(1, sizeof(*a));
	a->version = ZENC_ALERTER_VERSION;
	a->flavor = "log";
	a->post = log_post;
	a->free = log_free;
	*out = a;
	return 0;
}
