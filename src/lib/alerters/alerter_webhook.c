/*
 * The webhook alerter: an HTTP POST of JSON to `url`.
 *
 * The body is the default object (message, pipeline, run, run_id, step,
 * status, error_type, error_message, attempt, url and a few more), or
 * `body_template` with {placeholders} replaced by the alert's values,
 * JSON-escaped (without quotes: the template writes them).  `headers` is
 * a JSON object of extra headers ({"Authorization": "Bearer
 * {{secret.T}}"}); it is resolved and parsed at each post and never
 * logged.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alerters/alerter.h"

typedef struct webhook_alerter {
	zenc_alerter base;
	char *name;
	char *url;
	char *headers;
	char *body_template;
} webhook_alerter;

static const char *const placeholders[] = {
	"pipeline",   "run",           "run_id",    "step",    "status",
	"error_type", "error_message", "url",       "message", "title",
	"attempt",    "event",         "exit_code", "signal",  "duration",
	"alert_id",   "stack",         NULL};

/* The length of a placeholder name at `p` (after '{'), or 0. */
static size_t placeholder_at(const char *p)
{
	size_t n = 0;

	while ((p[n] >= 'a' && p[n] <= 'z') || p[n] == '_')
		n++;
	return n && p[n] == '}' ? n : 0;
}

static void put_value(
	zenc_buf *b, const zenc_alert *al, const char *name, size_t n)
{
#define IS(s) (n == strlen(s) && !strncmp(name, s, n))
	const char *v = NULL;

	if (IS("pipeline"))
		v = al->pipeline;
	else if (IS("run"))
		v = al->run_name;
	else if (IS("run_id"))
		v = al->run_id;
	else if (IS("step"))
		v = al->step;
	else if (IS("status"))
		v = al->status;
	else if (IS("error_type"))
		v = al->error_type;
	else if (IS("error_message"))
		v = al->error_message;
	else if (IS("url"))
		v = al->url;
	else if (IS("message"))
		v = al->message;
	else if (IS("title"))
		v = al->title;
	else if (IS("event"))
		v = al->event;
	else if (IS("alert_id"))
		v = al->version >= 2 ? al->id : NULL;
	else if (IS("stack"))
		v = al->version >= 2 ? al->stack : NULL;
	else if (IS("attempt"))
		zenc_buf_printf(b, "%d", al->attempt);
	else if (IS("exit_code"))
		zenc_buf_printf(b, "%d", al->exit_code);
	else if (IS("signal"))
		zenc_buf_printf(b, "%d", al->signal);
	else if (IS("duration"))
		zenc_buf_printf(b, "%.3f", al->duration);
	if (v)
		zenc__json_utf8_inner(b, v);
#undef IS
}

static void render_template(zenc_buf *b, const char *t, const zenc_alert *al)
{
	size_t n;

	while (*t) {
		if (*t == '{' && (n = placeholder_at(t + 1))) {
			put_value(b, al, t + 1, n);
			t += n + 2;
			continue;
		}
		zenc_buf_putc(b, *t++);
	}
}

static void default_body(zenc_buf *b, const zenc_alert *al)
{
	json_t *o = json_pack(
		"{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
		"s:i,s:i,s:i,s:f,s:o,s:o}",
		"message",
		zenc__json_str(al->message ? al->message : al->title), "title",
		zenc__json_str(al->title), "pipeline",
		zenc__json_str(al->pipeline), "run",
		zenc__json_str(al->run_name), "run_id",
		zenc__json_str(al->run_id), "step", zenc__json_str(al->step),
		"status", zenc__json_str(al->status), "event",
		zenc__json_str(al->event), "error_type",
		zenc__json_str(al->error_type), "error_message",
		zenc__json_str(al->error_message), "exit_code", al->exit_code,
		"signal", al->signal, "attempt", al->attempt, "duration",
		isfinite(al->duration) ? al->duration : 0.0, "url",
		zenc__json_str(al->url), "params",
		zenc__json_or_null(al->params_json));

	if (al->version >= 2) {
		json_object_set_new(o, "alert_id", zenc__json_str(al->id));
		json_object_set_new(o, "stack", zenc__json_str(al->stack));
		if (al->late)
			json_object_set_new(o, "late", json_true());
	}
	zenc__json_dump(b, o);
	json_decref(o);
}

/* Header lines from the resolved `headers` object.  A value with a line
 * break would smuggle a header in: refused. */
static int header_lines(
	char ***out, bool *has_ctype, const char *json, const char *name)
{
	json_t *o = NULL, *v;
	const char *key;
	char **lines = NULL;
	size_t i = 0;
	int rc = 0;

	*out = NULL;
	*has_ctype = false;
	if (!json || !*json)
		goto done;
	if (zenc__json_parse(&o, json) < 0 || !json_is_object(o)) {
		rc = zenc__error_set(
			ZENC_EINVALID,
			"alerter '%s': headers is not a JSON "
			"object of strings",
			name);
		goto done;
	}
	lines = zenc__calloc(json_object_size(o) + 1, sizeof(*lines));
	json_object_foreach(o, key, v)
	{
		const char *value = json_string_value(v);

		if (!value || !*key || strpbrk(key, "\r\n: ") ||
		    strpbrk(value, "\r\n")) {
			rc = zenc__error_set(
				ZENC_EINVALID,
				"alerter '%s': header %zu is not "
				"a valid name and string value",
				name, i + 1);
			goto done;
		}
		if (!strcasecmp(key, "content-type"))
			*has_ctype = true;
		lines[i++] = zenc__asprintf("%s: %s", key, value);
	}
	*out = lines;
	lines = NULL;
done:
	if (lines) {
		for (i = 0; lines[i]; i++) {
			explicit_bzero(lines[i], strlen(lines[i]));
			free(lines[i]);
		}
		free(lines);
	}
	json_decref(o);
	return rc;
}

static void free_lines(char **lines)
{
	size_t i;

	for (i = 0; lines && lines[i]; i++) {
		explicit_bzero(lines[i], strlen(lines[i]));
		free(lines[i]);
	}
	free(lines);
}

static int webhook_post(zenc_alerter *self, const zenc_alert *al)
{
	webhook_alerter *w = (webhook_alerter *)self;
	zenc_buf url = ZENC_BUF_INIT, hjson = ZENC_BUF_INIT;
	zenc_buf body = ZENC_BUF_INIT;
	char **extra = NULL;
	const char **hdrs = NULL;
	bool has_ctype;
	size_t n = 0, i;
	int rc;

	if ((rc = zenc__alerter_resolve(&url, w->url)) < 0 ||
	    (rc = zenc__alerter_resolve(&hjson, w->headers)) < 0)
		goto done;
	if ((rc = header_lines(&extra, &has_ctype, hjson.ptr, w->name)) < 0)
		goto done;
	while (extra && extra[n])
		n++;
	hdrs = zenc__calloc(n + 2, sizeof(*hdrs));
	for (i = 0; i < n; i++)
		hdrs[i] = extra[i];
	if (!has_ctype)
		hdrs[n++] = "Content-Type: application/json";
	if (w->body_template)
		render_template(&body, w->body_template, al);
	else
		default_body(&body, al);

	rc = zenc__http_post_body(url.ptr, hdrs, &body, al->timeout, "webhook");
done:
	free(hdrs);
	free_lines(extra);
	zenc__alerter_secret_release(&url);
	zenc__alerter_secret_release(&hjson);
	zenc_buf_release(&body);
	return rc;
}

static void webhook_free(zenc_alerter *self)
{
	webhook_alerter *w = (webhook_alerter *)self;

	free(w->name);
	free(w->url);
	free(w->headers);
	free(w->body_template);
	free(w);
}

/* Unknown placeholders are refused at once rather than sent as text. */
static int check_template(const char *t, const char *name)
{
	size_t n, i;
	bool known;

	for (; *t; t++) {
		if (*t != '{' || !(n = placeholder_at(t + 1)))
			continue;
		known = false;
		for (i = 0; placeholders[i]; i++)
			if (strlen(placeholders[i]) == n &&
			    !strncmp(placeholders[i], t + 1, n))
				known = true;
		if (!known)
			return zenc__error_set(
				ZENC_EINVALID,
				"alerter '%s': unknown placeholder '{%.*s}' in "
				"body_template (known: {pipeline}, {run}, "
				"{run_id}, {step}, {status}, {error_type}, "
				"{error_message}, {url}, {message}, {title}, "
				"{attempt}, {event}, {exit_code}, {signal}, "
				"{duration}, {alert_id}, {stack})",
				name, (int)n, t + 1);
	}
	return 0;
}

int zenc__alerter_webhook_create(
	zenc_alerter **out, const zenc__alerter_config *c)
{
	const char *name = c->name ? c->name : "webhook";
	const char *url = zenc__alerter_config_get(c, "url");
	const char *tmpl = zenc__alerter_config_get(c, "body_template");
	webhook_alerter *w;
	int rc;

	*out = NULL;
	if (!url || !*url)
		return zenc__error_set(
			ZENC_EINVALID,
			"alerter '%s' of flavor 'webhook' needs "
			"a url",
			name);
	if (tmpl && (rc = check_template(tmpl, name)) < 0)
		return rc;
	w = zenc__calloc(1, sizeof(*w));
	w->base.version = ZENC_ALERTER_VERSION;
	w->base.flavor = "webhook";
	w->base.post = webhook_post;
	w->base.free = webhook_free;
	w->name = zenc__strdup(name);
	w->url = zenc__strdup(url);
	w->headers = zenc__strdup(zenc__alerter_config_get(c, "headers"));
	w->body_template = tmpl && *tmpl ? zenc__strdup(tmpl) : NULL;
	*out = &w->base;
	return 0;
}
