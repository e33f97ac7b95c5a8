/*
 * The Discord alerter: a webhook POST with `content` (the title, for
 * notifications) and one embed (title, description, colour, link,
 * fields, timestamp).  Mentions are switched off ("allowed_mentions"),
 * so that an error message holding "@everyone" pings nobody.  Discord's
 * limits are kept by cutting text at character boundaries.
 */
#include <stdlib.h>
#include <string.h>

#include "alerters/alerter.h"

typedef struct discord_alerter {
	zenc_alerter base;
	char *name;
	char *webhook_url;
} discord_alerter;

/* `s` cut to `max` bytes on a character boundary: Discord refuses a
 * whole message whose parts are over their limits. */
static json_t *cut(const char *s, size_t max)
{
	zenc_buf t = ZENC_BUF_INIT;
	json_t *v;

	zenc__utf8_truncate(&t, s, max);
	v = zenc__json_str(zenc_buf_cstr(&t));
	zenc_buf_release(&t);
	return v;
}

static void field(json_t *fields, const char *name, const char *v, bool inline_)
{
	/* At most 25 fields; a value may not be empty. */
	if (!v || !*v || json_array_size(fields) >= 25)
		return;
	json_array_append_new(
		fields, json_pack(
				"{s:o,s:o,s:b}", "name", cut(name, 256),
				"value", cut(v, 1024), "inline", inline_));
}

static void body_of(zenc_buf *b, const zenc_alert *al)
{
	bool failed = al->status && !strcmp(al->status, "failed");
	bool ok = al->status && !strcmp(al->status, "completed");
	const char *title = al->title ? al->title : "zenc alert";
	zenc_buf t = ZENC_BUF_INIT;
	json_t *embed, *fields = json_array(), *body;
	size_t i;

	embed = json_pack("{s:o}", "title", cut(title, 256));
	if (al->error_type)
		zenc_buf_printf(
			&t, "%s: %s", al->error_type,
			al->error_message ? al->error_message : "");
	else if (al->message)
		zenc_buf_puts(&t, al->message);
	if (t.len)
		json_object_set_new(embed, "description", cut(t.ptr, 4096));
	/* Red, green, or Discord's blurple. */
	json_object_set_new(
		embed, "color",
		json_integer(
			failed ? 0xe01e5a
			: ok   ? 0x2eb67d
			       : 0x5865f2));
	if (al->url)
		json_object_set_new(embed, "url", zenc__json_str(al->url));
	zenc_buf_clear(&t);
	zenc__time_iso(&t, zenc__now());
	json_object_set_new(embed, "timestamp", zenc__json_str(t.ptr));
	field(fields, "Pipeline", al->pipeline, true);
	field(fields, "Step", al->step, true);
	field(fields, "Status", al->status, true);
	field(fields, "Run", al->run_name, false);
	if (al->version >= 2)
		field(fields, "Stack", al->stack, true);
	if (al->attempt) {
		zenc_buf_clear(&t);
		zenc_buf_printf(&t, "%d", al->attempt);
		field(fields, "Attempt", t.ptr, true);
	}
	if (al->duration > 0) {
		zenc_buf_clear(&t);
		zenc_buf_printf(&t, "%.3fs", al->duration);
		field(fields, "Duration", t.ptr, true);
	}
	if (al->exit_code) {
		zenc_buf_clear(&t);
		zenc_buf_printf(&t, "%d", al->exit_code);
		field(fields, "Exit code", t.ptr, true);
	}
	if (al->signal) {
		zenc_buf_clear(&t);
		zenc_buf_printf(&t, "%d", al->signal);
		field(fields, "Signal", t.ptr, true);
	}
	for (i = 0; al->fields && i < al->n_fields; i++)
		field(fields, al->fields[i].key, al->fields[i].value, true);
	json_object_set_new(embed, "fields", fields);
	zenc_buf_clear(&t);
	if (al->run_id)
		zenc_buf_printf(&t, "zenc \xc2\xb7 run id %s", al->run_id);
	if (al->version >= 2 && al->id)
		zenc_buf_printf(
			&t, "%salert id %s",
			t.len ? " \xc2\xb7 " : "zenc \xc2\xb7 ", al->id);
	if (t.len) {
		json_object_set_new(
			embed, "footer",
			json_pack("{s:o}", "text", cut(t.ptr, 2048)));
	}
	/* No @everyone nor role mention from a step's message. */
	body = json_pack(
		"{s:o,s:{s:[]},s:[o]}", "content", cut(title, 2000),
		"allowed_mentions", "parse", "embeds", embed);
	zenc__json_dump(b, body);
	json_decref(body);
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

int zenc__alerter_discord_create(
	zenc_alerter **out, const zenc__alerter_config *c)
{
	const char *url = zenc__alerter_config_get(c, "webhook_url");
	discord_alerter *d;

	*out = NULL;
	if (!url || !*url)
		return zenc__error_set(
			ZENC_EINVALID,
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
