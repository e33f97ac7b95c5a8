/*
 * The JSON of alerts (jansson): the outbox's copy of an alert, written
 * and read back, the helpers the flavors' payloads use, and the
 * resolution and redaction of what alerter keys hold (secrets, URLs).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alerters/alerter.h"
#include "config/stack.h"
#include "internal.h"

/*
 * JSON, read and written with jansson.  What the outbox keeps and what
 * receivers answer is read with duplicate keys refused, so that no
 * reader can see another value than the one that was checked.
 */

int zenc__json_parse(json_t **out, const char *text)
{
	json_error_t jerr;

	*out = json_loads(
		text ? text : "", JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
		&jerr);
	if (!*out)
		/* jansson's message may quote the text, which may hold a
		 * secret: only where it went wrong is said. */
		return zenc__error_set(
			ZENC_EINVALID, "invalid JSON at offset %d",
			jerr.position);
	return 0;
}

bool zenc__json_valid(const char *text)
{
	json_t *v;

	if (!text || zenc__json_parse(&v, text) < 0)
		return false;
	json_decref(v);
	return true;
}

const char *zenc__json_get_str(const json_t *obj, const char *key)
{
	/* json_object_get() takes a non-const object, yet only reads it. */
	return json_string_value(json_object_get((json_t *)obj, key));
}

json_t *zenc__json_str(const char *s)
{
	zenc_buf b = ZENC_BUF_INIT;
	json_t *v;

	if (!s)
		return json_null();
	if ((v = json_string(s)))
		return v;
	/* Not UTF-8 (a step's error may hold any bytes): the escaping
	 * writer replaces each bad sequence with U+FFFD, and what it wrote
	 * is a JSON string jansson takes. */
	zenc__json_utf8(&b, s);
	v = json_loads(b.ptr, JSON_DECODE_ANY, NULL);
	zenc_buf_release(&b);
	return v ? v : json_null();
}

json_t *zenc__json_or_null(const char *text)
{
	json_t *v;

	if (!text || zenc__json_parse(&v, text) < 0)
		return json_null();
	return v;
}

void zenc__json_dump(zenc_buf *b, const json_t *v)
{
	/* jansson writes an object's keys in the order they were set. */
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	zenc_buf_puts(b, s ? s : "null");
	free(s);
}

/*
 * The alert as JSON, and back.
 */

void zenc__alert_json(zenc_buf *b, const zenc_alert *al)
{
	json_t *o = json_object(), *fields = json_array();
	size_t i;

	/* The string fields, in the order the JSON has always had. */
	const struct {
		const char *key;
		const char *value;
	} text[] = {
		{"title", al->title},
		{"message", al->message},
		{"event", al->event},
		{"pipeline", al->pipeline},
		{"run_name", al->run_name},
		{"run_id", al->run_id},
		{"step", al->step},
		{"status", al->status},
		{"error_type", al->error_type},
		{"error_message", al->error_message},
	};

	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		json_object_set_new(
			o, text[i].key, zenc__json_str(text[i].value));
	json_object_set_new(o, "exit_code", json_integer(al->exit_code));
	json_object_set_new(o, "signal", json_integer(al->signal));
	json_object_set_new(o, "attempt", json_integer(al->attempt));
	json_object_set_new(
		o, "duration",
		json_real(isfinite(al->duration) ? al->duration : 0));
	json_object_set_new(o, "url", zenc__json_str(al->url));
	json_object_set_new(o, "channel", zenc__json_str(al->channel));
	json_object_set_new(o, "params", zenc__json_or_null(al->params_json));
	for (i = 0; al->fields && i < al->n_fields; i++)
		json_array_append_new(
			fields,
			json_pack(
				"{s:o,s:o}", "key",
				zenc__json_str(al->fields[i].key), "value",
				zenc__json_str(al->fields[i].value)));
	json_object_set_new(o, "fields", fields);
	if (al->version >= 2) {
		json_object_set_new(o, "alert_id", zenc__json_str(al->id));
		json_object_set_new(o, "stack", zenc__json_str(al->stack));
		if (al->late)
			json_object_set_new(o, "late", json_true());
	}
	zenc__json_dump(b, o);
	json_decref(o);
}

/* The string member `key` of `o`, copied into `arena`: the parsed
 * document goes away before the alert does. */
static const char *arena_str(void *arena, const json_t *o, const char *key)
{
	const char *s = zenc__json_get_str(o, key);

	return s ? zenc__arena_strdup(arena, s) : NULL;
}

static int get_int(const json_t *o, const char *key)
{
	json_t *v = json_object_get((json_t *)o, key);

	return json_is_number(v) ? (int)json_number_value(v) : 0;
}

int zenc__alert_from_json(zenc_alert *out, const char *json, void *arena)
{
	zenc_alert init = ZENC_ALERT_INIT;
	json_t *o = NULL, *f, *v;
	zenc_alert_field *fields;
	size_t i, n = 0;
	int rc;

	*out = init;
	if ((rc = zenc__json_parse(&o, json)) < 0)
		return rc;
	if (!json_is_object(o)) {
		rc = zenc__error_set(ZENC_EINVALID, "alert is not an object");
		goto done;
	}
	out->title = arena_str(arena, o, "title");
	out->message = arena_str(arena, o, "message");
	out->event = arena_str(arena, o, "event");
	out->pipeline = arena_str(arena, o, "pipeline");
	out->run_name = arena_str(arena, o, "run_name");
	out->run_id = arena_str(arena, o, "run_id");
	out->step = arena_str(arena, o, "step");
	out->status = arena_str(arena, o, "status");
	out->error_type = arena_str(arena, o, "error_type");
	out->error_message = arena_str(arena, o, "error_message");
	out->exit_code = get_int(o, "exit_code");
	out->signal = get_int(o, "signal");
	out->attempt = get_int(o, "attempt");
	v = json_object_get(o, "duration");
	out->duration = json_is_number(v) ? json_number_value(v) : 0;
	out->url = arena_str(arena, o, "url");
	out->channel = arena_str(arena, o, "channel");
	out->id = arena_str(arena, o, "alert_id");
	out->stack = arena_str(arena, o, "stack");
	out->late = json_is_true(json_object_get(o, "late"));
	v = json_object_get(o, "params");
	if (json_is_object(v)) {
		zenc_buf b = ZENC_BUF_INIT;

		zenc__json_dump(&b, v);
		out->params_json = zenc__arena_strdup(arena, b.ptr);
		zenc_buf_release(&b);
	}
	f = json_object_get(o, "fields");
	if (json_is_array(f) && json_array_size(f)) {
		fields = zenc__arena_alloc(
			arena, json_array_size(f) * sizeof(*fields));
		for (i = 0; i < json_array_size(f); i++) {
			fields[n].key =
				arena_str(arena, json_array_get(f, i), "key");
			fields[n].value =
				arena_str(arena, json_array_get(f, i), "value");
			if (fields[n].key)
				n++;
		}
		out->fields = fields;
		out->n_fields = n;
	}
done:
	json_decref(o);
	return rc;
}

/*
 * Secrets and URLs.
 */

int zenc__alerter_resolve(zenc_buf *out, const char *value)
{
	return zenc__secret_resolve(out, value ? value : "");
}

void zenc__alerter_secret_release(zenc_buf *b)
{
	if (b->ptr)
		explicit_bzero(b->ptr, b->cap);
	zenc_buf_release(b);
}

void zenc__url_redact(zenc_buf *b, const char *url)
{
	const char *scheme_end = strstr(url, "://"), *host, *end, *at;

	if (!scheme_end) {
		zenc_buf_puts(b, "(url)");
		return;
	}
	host = scheme_end + 3;
	end = host + strcspn(host, "/?#");
	/* user:password@ is left out. */
	for (at = host; at < end; at++)
		if (*at == '@')
			host = at + 1;
	zenc_buf_put(b, url, (size_t)(scheme_end + 3 - url));
	zenc_buf_put(b, host, (size_t)(end - host));
}
