/*
 * The Slack alerter, two ways:
 *
 *   webhook_url              an incoming webhook (the channel is the
 *                            webhook's)
 *   token + channel          the Web API, chat.postMessage at api_url
 *                            (default https://slack.com/api) with
 *                            "Authorization: Bearer TOKEN"
 *
 * With a token, the alert's `channel` (the step parameter alert_channel
 * of the standard hooks) overrides `channel`.  Both post Block Kit: a
 * header, the message, the facts as fields, a context line and a button
 * to the run when there is a link; `text` carries the same as plain
 * text for notifications.  With a token the alerter can also ask
 * (ZENC_ALERTER_CAP_ASK): it posts the question, then polls
 * conversations.history for a reply such as "approve" or "reject" until
 * the deadline.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "curl_api.h"
#include "alerters/alerter.h"

#define DEFAULT_API_URL "https://slack.com/api"

typedef struct slack_alerter {
	zenc_alerter base;
	char *name;
	char *webhook_url;
	char *token;
	char *channel;
	char *api_url;
} slack_alerter;

/* Slack's mrkdwn wants &, < and > escaped. */
static void mrkdwn(zenc_buf *b, const char *s, size_t max)
{
	zenc_buf cut = ZENC_BUF_INIT;
	const char *p;

	zenc__utf8_truncate(&cut, s ? s : "", max);
	for (p = zenc_buf_cstr(&cut); *p; p++) {
		if (*p == '&')
			zenc_buf_puts(b, "&amp;");
		else if (*p == '<')
			zenc_buf_puts(b, "&lt;");
		else if (*p == '>')
			zenc_buf_puts(b, "&gt;");
		else
			zenc_buf_putc(b, *p);
	}
	zenc_buf_release(&cut);
}

/* A JSON string of mrkdwn text. */
static json_t *json_mrkdwn(const char *s, size_t max)
{
	zenc_buf t = ZENC_BUF_INIT;
	json_t *v;

	mrkdwn(&t, s, max);
	v = zenc__json_str(zenc_buf_cstr(&t));
	zenc_buf_release(&t);
	return v;
}

/* A fact, in the section *fields belongs to; a section holds at most
 * 10 fields, so the eleventh starts another. */
static void field(
	json_t *blocks, json_t **fields, const char *label, const char *v)
{
	zenc_buf t = ZENC_BUF_INIT;

	if (!v || !*v)
		return;
	if (!*fields || json_array_size(*fields) == 10) {
		*fields = json_array();
		json_array_append_new(
			blocks, json_pack(
					"{s:s,s:o}", "type", "section",
					"fields", *fields));
	}
	zenc_buf_puts(&t, "*");
	mrkdwn(&t, label, 100);
	zenc_buf_puts(&t, "*\n");
	mrkdwn(&t, v, 1900);
	json_array_append_new(
		*fields, json_pack(
				 "{s:s,s:o}", "type", "mrkdwn", "text",
				 zenc__json_str(zenc_buf_cstr(&t))));
	zenc_buf_release(&t);
}

static json_t *blocks_of(const zenc_alert *al)
{
	bool failed = al->status && !strcmp(al->status, "failed");
	zenc_buf t = ZENC_BUF_INIT, num = ZENC_BUF_INIT;
	json_t *blocks = json_array(), *fields = NULL;
	size_t i;

	/* Header: plain text, at most 150 characters. */
	zenc_buf_puts(
		&t, failed ? "\xe2\x9d\x8c " /* ❌ */
		    : al->status && !strcmp(al->status, "completed")
			    ? "\xe2\x9c\x85 " /* ✅ */
			    : "");
	zenc__utf8_truncate(&t, al->title ? al->title : "zenc alert", 140);
	json_array_append_new(
		blocks, json_pack(
				"{s:s,s:{s:s,s:o,s:b}}", "type", "header",
				"text", "type", "plain_text", "text",
				zenc__json_str(zenc_buf_cstr(&t)), "emoji", 1));

	/* The message, or the error. */
	zenc_buf_clear(&t);
	if (al->error_type) {
		zenc_buf_printf(
			&t, "%s: %s", al->error_type,
			al->error_message ? al->error_message : "");
	} else if (al->message) {
		zenc_buf_puts(&t, al->message);
	}
	if (t.len)
		json_array_append_new(
			blocks, json_pack(
					"{s:s,s:{s:s,s:o}}", "type", "section",
					"text", "type", "mrkdwn", "text",
					json_mrkdwn(t.ptr, 2900)));

	field(blocks, &fields, "Pipeline", al->pipeline);
	field(blocks, &fields, "Step", al->step);
	field(blocks, &fields, "Run", al->run_name);
	field(blocks, &fields, "Status", al->status);
	if (al->version >= 2)
		field(blocks, &fields, "Stack", al->stack);
	if (al->attempt) {
		zenc_buf_printf(&num, "%d", al->attempt);
		field(blocks, &fields, "Attempt", num.ptr);
	}
	if (al->duration > 0) {
		zenc_buf_clear(&num);
		zenc_buf_printf(&num, "%.3fs", al->duration);
		field(blocks, &fields, "Duration", num.ptr);
	}
	if (al->exit_code) {
		zenc_buf_clear(&num);
		zenc_buf_printf(&num, "%d", al->exit_code);
		field(blocks, &fields, "Exit code", num.ptr);
	}
	if (al->signal) {
		zenc_buf_clear(&num);
		zenc_buf_printf(&num, "%d", al->signal);
		field(blocks, &fields, "Signal", num.ptr);
	}
	for (i = 0; al->fields && i < al->n_fields; i++)
		field(blocks, &fields, al->fields[i].key, al->fields[i].value);
	/* Slack wants a fields section to hold something. */
	if (!fields)
		field(blocks, &fields, "Alert",
		      al->event ? al->event : "message");

	if (al->run_id) {
		zenc_buf_clear(&t);
		zenc_buf_printf(&t, "zenc \xc2\xb7 run id %s", al->run_id);
		json_array_append_new(
			blocks, json_pack(
					"{s:s,s:[{s:s,s:o}]}", "type",
					"context", "elements", "type", "mrkdwn",
					"text", json_mrkdwn(t.ptr, 2900)));
	}
	if (al->url)
		json_array_append_new(
			blocks,
			json_pack(
				"{s:s,s:[{s:s,s:{s:s,s:s},s:o}]}", "type",
				"actions", "elements", "type", "button", "text",
				"type", "plain_text", "text", "Open run", "url",
				zenc__json_str(al->url)));
	zenc_buf_release(&t);
	zenc_buf_release(&num);
	return blocks;
}

/* The plain-text fallback that notifications show. */
static json_t *fallback(const zenc_alert *al)
{
	zenc_buf t = ZENC_BUF_INIT;
	json_t *v;

	if (al->error_type)
		zenc_buf_printf(
			&t, "%s: %s: %s", al->title ? al->title : "zenc alert",
			al->error_type,
			al->error_message ? al->error_message : "");
	else
		zenc_buf_puts(
			&t, al->message ? al->message
			    : al->title ? al->title
					: "zenc alert");
	v = json_mrkdwn(t.ptr, 3000);
	zenc_buf_release(&t);
	return v;
}

static void payload(zenc_buf *b, const zenc_alert *al, const char *channel)
{
	json_t *o = json_object();

	if (channel)
		json_object_set_new(o, "channel", zenc__json_str(channel));
	json_object_set_new(o, "text", fallback(al));
	json_object_set_new(o, "blocks", blocks_of(al));
	zenc__json_dump(b, o);
	json_decref(o);
}

/* A Web API call: `method` with a JSON body (or GET with `query`).
 * Checks {"ok": true}; the parsed response goes to *resp_out when asked
 * (the caller json_decref()s it). */
static int api_call(
	slack_alerter *s,
	const char *method,
	const char *body,
	const char *query,
	double timeout,
	json_t **resp_out)
{
	zenc_buf token = ZENC_BUF_INIT, auth = ZENC_BUF_INIT;
	zenc_buf url = ZENC_BUF_INIT, resp = ZENC_BUF_INIT;
	const char *hdrs[3];
	zenc__http_req req;
	json_t *r = NULL;
	const char *err;
	long status;
	int rc;

	if ((rc = zenc__alerter_resolve(&token, s->token)) < 0 ||
	    (rc = zenc__alerter_resolve(&url, s->api_url)) < 0)
		goto done;
	while (url.len && url.ptr[url.len - 1] == '/')
		url.ptr[--url.len] = '\0';
	zenc_buf_printf(
		&url, "/%s%s%s", method, query ? "?" : "", query ? query : "");
	zenc_buf_printf(&auth, "Authorization: Bearer %s", token.ptr);
	hdrs[0] = "Content-Type: application/json; charset=utf-8";
	hdrs[1] = auth.ptr;
	hdrs[2] = NULL;
	memset(&req, 0, sizeof(req));
	req.url = url.ptr;
	req.headers = hdrs;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.timeout = timeout;
	req.what = "slack";
	req.method = body ? NULL : "GET";
	if ((rc = zenc__http_post(&req, &resp, &status)) < 0)
		goto done;
	if (zenc__json_parse(&r, zenc_buf_cstr(&resp)) < 0) {
		rc = zenc__error_set(
			ZENC_EUNREACHABLE, "slack %s: the answer is not JSON",
			method);
		goto done;
	}
	if (!json_is_true(json_object_get(r, "ok"))) {
		err = zenc__json_get_str(r, "error");
		/* Slack's error codes are fixed words ("invalid_auth",
		 * "channel_not_found"), never an echo of the request. */
		rc = zenc__error_set(
			err && !strcmp(err, "ratelimited") ? ZENC_EUNREACHABLE
							   : ZENC_EINVALID,
			"slack %s failed: %s", method,
			err ? err : "no error given");
		goto done;
	}
	if (resp_out) {
		*resp_out = r;
		r = NULL;
	}
done:
	zenc__alerter_secret_release(&token);
	zenc__alerter_secret_release(&auth);
	zenc__alerter_secret_release(&url);
	zenc_buf_release(&resp);
	json_decref(r);
	return rc;
}

static const char *channel_for(slack_alerter *s, const zenc_alert *al)
{
	return al->channel && *al->channel ? al->channel : s->channel;
}

static int slack_post(zenc_alerter *self, const zenc_alert *al)
{
	slack_alerter *s = (slack_alerter *)self;
	zenc_buf body = ZENC_BUF_INIT, url = ZENC_BUF_INIT;
	const char *hdrs[] = {"Content-Type: application/json", NULL};
	const char *channel = channel_for(s, al);
	int rc;

	if (s->token) {
		if (!channel) {
			rc = zenc__error_set(
				ZENC_EINVALID,
				"alerter '%s': no channel (set "
				"channel, or the step parameter "
				"alert_channel)",
				s->name);
			goto done;
		}
		payload(&body, al, channel);
		rc = api_call(
			s, "chat.postMessage", body.ptr, NULL, al->timeout,
			NULL);
		goto done;
	}
	/* Incoming webhooks post to their own channel; a channel in the
	 * payload is ignored by Slack, so none is sent. */
	payload(&body, al, NULL);
	if ((rc = zenc__alerter_resolve(&url, s->webhook_url)) < 0)
		goto done;
	rc = zenc__http_post_body(url.ptr, hdrs, &body, al->timeout, "slack");
done:
	zenc__alerter_secret_release(&url);
	zenc_buf_release(&body);
	return rc;
}

/* 1 approve, 0 reject, -1 neither. */
static int answer_of(const char *text)
{
	static const char *const yes[] = {"approve", "approved", "yes", "y",
					  "lgtm",    "ok",       NULL};
	static const char *const no[] = {"reject", "rejected", "no",
					 "n",      "decline",  NULL};
	char word[32];
	size_t n = 0, i;

	while (*text && isspace((unsigned char)*text))
		text++;
	while (text[n] && !isspace((unsigned char)text[n]) &&
	       n < sizeof(word) - 1) {
		word[n] = (char)tolower((unsigned char)text[n]);
		n++;
	}
	word[n] = '\0';
	while (n && (word[n - 1] == '!' || word[n - 1] == '.'))
		word[--n] = '\0';
	for (i = 0; yes[i]; i++)
		if (!strcmp(word, yes[i]))
			return 1;
	for (i = 0; no[i]; i++)
		if (!strcmp(word, no[i]))
			return 0;
	return -1;
}

static int slack_ask(
	zenc_alerter *self, const zenc_alert *al, int *approved_out)
{
	slack_alerter *s = (slack_alerter *)self;
	double deadline = zenc__monotonic() + al->timeout, left, nap;
	const zenc__curl_api *c = NULL;
	zenc_buf body = ZENC_BUF_INIT, query = ZENC_BUF_INIT;
	const char *channel = channel_for(s, al), *ts, *chan_id;
	/* The posted message (its ts and channel are used to the end),
	 * and the latest page of the history. */
	json_t *posted = NULL, *hist = NULL, *msgs;
	char *e1 = NULL, *e2 = NULL;
	size_t i;
	int rc, ans, last = 0;

	*approved_out = 0;
	if (!s->token || !channel) {
		rc = zenc__error_set(
			ZENC_ESTATE,
			"alerter '%s': asking needs a token and "
			"a channel",
			s->name);
		goto done;
	}
	payload(&body, al, channel);
	if ((rc = api_call(
		     s, "chat.postMessage", body.ptr, NULL, al->timeout,
		     &posted)) < 0)
		goto done;
	ts = zenc__json_get_str(posted, "ts");
	chan_id = zenc__json_get_str(posted, "channel");
	if (!ts || !chan_id) {
		rc = zenc__error_set(
			ZENC_EUNREACHABLE,
			"slack chat.postMessage: no ts in the "
			"answer");
		goto done;
	}
	if (!(c = zenc__curl())) {
		rc = ZENC_EUNREACHABLE;
		goto done;
	}
	e1 = c->easy_escape(NULL, chan_id, 0);
	e2 = c->easy_escape(NULL, ts, 0);
	zenc_buf_printf(&query, "channel=%s&oldest=%s&limit=50", e1, e2);
	for (;;) {
		left = deadline - zenc__monotonic();
		if (left <= 0 || last) {
			rc = zenc__error_set(
				ZENC_ETIMEOUT, "no answer in slack within %gs",
				al->timeout);
			goto done;
		}
		/* Every 2 s, and a last look half a second before the
		 * deadline (sleeping until the deadline would never look
		 * at the last answers, nor at any within 2 s). */
		last = left <= 2.5;
		nap = last ? left - 0.5 : 2;
		if (nap > 0)
			zenc__sleep(nap);
		left = deadline - zenc__monotonic();
		if (left <= 0)
			continue;
		json_decref(hist);
		hist = NULL;
		if ((rc = api_call(
			     s, "conversations.history", NULL, query.ptr, left,
			     &hist)) < 0)
			goto done;
		msgs = json_object_get(hist, "messages");
		/* Newest first: the latest answer wins. */
		for (i = 0; i < json_array_size(msgs); i++) {
			const char *text = zenc__json_get_str(
				json_array_get(msgs, i), "text");
			const char *mts = zenc__json_get_str(
				json_array_get(msgs, i), "ts");

			if (!text || (mts && !strcmp(mts, ts)))
				continue;
			if ((ans = answer_of(text)) >= 0) {
				*approved_out = ans;
				rc = 0;
				goto done;
			}
		}
	}
done:
	if (c) {
		c->free(e1);
		c->free(e2);
	}
	zenc_buf_release(&body);
	zenc_buf_release(&query);
	json_decref(posted);
	json_decref(hist);
	return rc;
}

static void slack_free(zenc_alerter *self)
{
	slack_alerter *s = (slack_alerter *)self;

	free(s->name);
	free(s->webhook_url);
	free(s->token);
	free(s->channel);
	free(s->api_url);
	free(s);
}

static char *dup_set(const zenc__alerter_config *c, const char *key)
{
	const char *v = zenc__alerter_config_get(c, key);

	return v && *v ? zenc__strdup(v) : NULL;
}

int zenc__alerter_slack_create(
	zenc_alerter **out, const zenc__alerter_config *c)
{
	slack_alerter *s;

	*out = NULL;
	s = zenc__calloc(1, sizeof(*s));
	s->name = zenc__strdup(c->name ? c->name : "slack");
	s->webhook_url = dup_set(c, "webhook_url");
	s->token = dup_set(c, "token");
	s->channel = dup_set(c, "channel");
	s->api_url = dup_set(c, "api_url");
	if (!s->api_url)
		s->api_url = zenc__strdup(DEFAULT_API_URL);
	s->base.version = ZENC_ALERTER_VERSION;
	s->base.flavor = "slack";
	s->base.post = slack_post;
	s->base.free = slack_free;
	if (s->token) {
		s->base.caps = ZENC_ALERTER_CAP_ASK;
		s->base.ask = slack_ask;
	}
	if (!s->webhook_url && !s->token) {
		int rc = zenc__error_set(
			ZENC_EINVALID,
			"alerter '%s' of flavor 'slack' needs "
			"webhook_url, or token and channel",
			s->name);
		slack_free(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}
