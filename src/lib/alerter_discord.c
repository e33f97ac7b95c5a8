/*
 * The Discord alerter: a webhook POST with `content` (the title, for
 * notifications) and one embed (title, description, colour, link,
 * fields, timestamp).  Mentions are switched off ("allowed_mentions"),
 * so that an error message holding "@everyone" pings nobody.  Discord's
 * limits are kept by cutting text at character boundaries.
 */
#include <stdlib.h>
#include <string.h>

#include "alerter.h"

typedef struct discord_alerter {
	zenc_alerter base;
	char *name;
	char *webhook_url;
} discord_alerter;

static void json_cut(zenc_buf *b, const char *s, size_t max)
{
	zenc_buf t = ZENC_BUF_INIT;

	zenc__utf8_truncate(&t, s, max);
	zenc__json_utf8(b, zenc_buf_cstr(&t));
	zenc_buf_release(&t);
}

static void field(zenc_buf *b, size_t *n, const char *name, const char *v,
		  bool inline_)
{
	/* At most 25 fields; a value may not be empty. */
	if (!v || !*v || *n >= 25)
		return;
	if (*n)
		zenc_buf_putc(b, ',');
	zenc_buf_puts(b, "{\"name\":");
	json_cut(b, name, 256);
	zenc_buf_puts(b, ",\"value\":");
	json_cut(b, v, 1024);
	zenc_buf_printf(b, ",\"inline\":%s}", inline_ ? "true" : "false");
	(*n)++;
}

static void body_of(zenc_buf *b, const zenc_alert *al)
{
	bool failed = al->status && !strcmp(al->status, "failed");
	bool ok = al->status && !strcmp(al->status, "completed");
	zenc_buf t = ZENC_BUF_INIT;
	size_t n = 0, i;

	zenc_buf_puts(b, "{\"content\":");
	json_cut(b, al->title ? al->title : "zenc alert", 2000);
	zenc_buf_puts(b, ",\"allowed_mentions\":{\"parse\":[]}");
	zenc_buf_puts(b, ",\"embeds\":[{\"title\":");
	json_cut(b, al->title ? al->title : "zenc alert", 256);
	if (al->error_type)
		zenc_buf_printf(&t, "%s: %s", al->error_type,
				al->error_message ? al->error_message : "");
	else if (al->message)
		zenc_buf_puts(&t, al->message);
	if (t.len) {
		zenc_buf_puts(b, ",\"description\":");
		json_cut(b, t.ptr, 4096);
	}
	/* Red, green, or Discord's blurple. */
	zenc_buf_printf(b, ",\"color\":%d",
			failed ? 0xe01e5a : ok ? 0x2eb67d : 0x5865f2);
	if (al->url) {
		zenc_buf_puts(b, ",\"url\":");
		zenc__json_utf8(b, al->url);
	}
	zenc_buf_clear(&t);
	zenc__time_iso(&t, zenc__now());
	zenc_buf_puts(b, ",\"timestamp\":");
	zenc__json_utf8(b, t.ptr);
	zenc_buf_puts(b, ",\"fields\":[");
	field(b, &n, "Pipeline", al->pipeline, true);
	field(b, &n, "Step", al->step, true);
	field(b, &n, "Status", al->status, true);
	field(b, &n, "Run", al->run_name, false);
	if (al->attempt) {
		zenc_buf_clear(&t);
		zenc_buf_printf(&t, "%d", al->attempt);
		field(b, &n, "Attempt", t.ptr, true);
	}
	if (al->duration > 0) {
		zenc_buf_clear(&t);
		zenc_buf_printf(&t, "%.3fs", al->duration);
		field(b, &n, "Duration", t.ptr, true);
	}
	if (al->exit_code) {
		zenc_buf_clear(&t);
		zenc_buf_printf(&t, "%d", al->exit_code);
		field(b, &n, "Exit code", t.ptr, true);
	}
	if (al->signal) {
		zenc_buf_clear(&t);
		zenc_buf_printf(&t, "%d", al->signal);
		field(b, &n, "Signal", t.ptr, true);
	}
	for (i = 0; al->fields && i < al->n_fields; i++)
		field(b, &n, al->fields[i].key, al->fields[i].value, true);
	zenc_buf_puts(b, "]");
	if (al->run_id) {
		zenc_buf_puts(b, ",\"footer\":{\"text\":");
		zenc_buf_clear(&t);
		zenc_buf_printf(&t, "zenc \xc2\xb7 run id %s", al->run_id);
		json_cut(b, t.ptr, 2048);
		zenc_buf_putc(b, '}');
	}
	zenc_buf_puts(b, "}]}");
	zenc_buf_release(&t);
}

static int discord_post(zenc_alerter *self, const zenc_alert *al)
{
	discord_alerter *d = (discord_alerter *)self;
	zenc_buf body = ZENC_BUF_INIT, url = ZENC_BUF_INIT;
	const char *hdrs[] = {"Content-Type: application/json", NULL};
	int rc;

	if ((rc = zenc__alerter_resolve(&url, d->webhook_url)) < 0)
		goto done;
	body_of(&body, al);
	rc = zenc__http_post_body(url.ptr, hdrs, &body, al->timeout, "discord");
done:
	zenc__alerter_secret_release(&url);
	zenc_buf_release(&body);
	return rc;
}

static void discord_free(zenc_alerter *self)
{
	discord_alerter *d = (discord_alerter *)self;

	free(d->name);
	free(d->webhook_url);
	free(d);
}

int zenc__alerter_discord_create(zenc_alerter **out,
				 const zenc__alerter_config *c)
{
	const char *url = zenc__alerter_config_get(c, "webhook_url");
	discord_alerter *d;

	*out = NULL;
	if (!url || !*url)
		return zenc__error_set(ZENC_EINVALID,
				       "alerter '%s' of flavor 'discord' needs "
				       "a webhook_url",
				       c->name ? c->name : "discord");
	d = zenc__calloc(1, sizeof(*d));
	d->base.version = ZENC_ALERTER_VERSION;
	d->base.flavor = "discord";
	d->base.post = discord_post;
	d->base.free = discord_free;
	d->name = zenc__strdup(c->name ? c->name : "discord");
	d->webhook_url = zenc__strdup(url);
	*out = &d->base;
	return 0;
}
