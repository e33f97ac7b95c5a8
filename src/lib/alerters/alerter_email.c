/*
 * The email alerter: one RFC 5322 message over SMTP with libcurl.
 *
 *   smtp_url   smtp://host:port (STARTTLS as use_ssl says) or
 *              smtps://host:port (TLS from the start)
 *   from, to   addresses; `to` is a comma-separated list; "Name <a@b>"
 *              works in both
 *   user, password   SMTP AUTH, when set (password usually a secret)
 *   use_ssl    none, try (default: STARTTLS when the server offers it)
 *              or required (refuse to send without TLS)
 *
 * The message: Date, From, To, Subject (RFC 2047 encoded when it is not
 * ASCII), Message-ID, MIME-Version, Content-Type text/plain;
 * charset=utf-8, 8bit.  Header values lose their line breaks, so an error
 * message cannot add headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "curl_api.h"
#include "alerters/alerter.h"

typedef struct email_alerter {
	zenc_alerter base;
	char *name;
	char *smtp_url;
	char *from;
	char *to;
	char *user;
	char *password;
	long use_ssl;
} email_alerter;

/* The address inside "Name <addr>", or the whole (trimmed) text. */
static char *addr_of(const char *s, size_t n)
{
	const char *lt = memchr(s, '<', n), *gt;

	if (lt && (gt = memchr(lt, '>', n - (size_t)(lt - s))))
		return zenc__strndup(lt + 1, (size_t)(gt - lt - 1));
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return zenc__strndup(s, n);
}

/* Header text: control characters become spaces. */
static void header_text(zenc_buf *b, const char *s)
{
	for (; *s; s++)
		zenc_buf_putc(b, (unsigned char)*s < 0x20 ? ' ' : *s);
}

static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static void base64(zenc_buf *b, const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
				  "opqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		zenc_buf_putc(b, tab[p[i] >> 2]);
		zenc_buf_putc(b, tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
		zenc_buf_putc(b, tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)]);
		zenc_buf_putc(b, tab[p[i + 2] & 63]);
	}
	if (n - i == 1) {
		zenc_buf_putc(b, tab[p[i] >> 2]);
		zenc_buf_putc(b, tab[(p[i] & 3) << 4]);
		zenc_buf_puts(b, "==");
	} else if (n - i == 2) {
		zenc_buf_putc(b, tab[p[i] >> 2]);
		zenc_buf_putc(b, tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
		zenc_buf_putc(b, tab[(p[i + 1] & 15) << 2]);
		zenc_buf_putc(b, '=');
	}
}

/* Subject: as is when ASCII, else RFC 2047 encoded words of at most 45
 * bytes each (whole characters), folded. */
static void subject(zenc_buf *b, const char *s)
{
	zenc_buf clean = ZENC_BUF_INIT;
	const unsigned char *p;
	size_t len, i, n;

	header_text(&clean, s);
	if (is_ascii(zenc_buf_cstr(&clean))) {
		zenc_buf_puts(b, zenc_buf_cstr(&clean));
		goto done;
	}
	p = (const unsigned char *)clean.ptr;
	len = clean.len;
	for (i = 0; i < len; i += n) {
		n = len - i < 45 ? len - i : 45;
		/* Back off to a character boundary. */
		while (i + n < len && n > 1 && (p[i + n] & 0xc0) == 0x80)
			n--;
		if (i)
			zenc_buf_puts(b, "\r\n ");
		zenc_buf_puts(b, "=?UTF-8?B?");
		base64(b, p + i, n);
		zenc_buf_puts(b, "?=");
	}
done:
	zenc_buf_release(&clean);
}

static void rfc5322_date(zenc_buf *b, double now)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
					   "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
					     "May", "Jun", "Jul", "Aug",
					     "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)now;
	struct tm tm;

	gmtime_r(&t, &tm);
	zenc_buf_printf(
		b, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
		tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
		tm.tm_min, tm.tm_sec);
}

/* A body line, CRLF-ended; lines longer than SMTP allows are wrapped. */
static void body_line(zenc_buf *b, const char *s, size_t n)
{
	while (n > 900) {
		size_t cut = 900;

		while (cut > 1 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
		zenc_buf_put(b, s, cut);
		zenc_buf_puts(b, "\r\n");
		s += cut;
		n -= cut;
	}
	zenc_buf_put(b, s, n);
	zenc_buf_puts(b, "\r\n");
}

static void body_text(zenc_buf *b, const char *s)
{
	size_t n;

	while (*s) {
		n = strcspn(s, "\r\n");
		body_line(b, s, n);
		s += n;
		if (*s == '\r')
			s++;
		if (*s == '\n')
			s++;
	}
}

static void kv(zenc_buf *b, const char *k, const char *v)
{
	zenc_buf t = ZENC_BUF_INIT;

	if (!v || !*v)
		return;
	zenc_buf_printf(&t, "%s: %s", k, v);
	body_text(b, t.ptr);
	zenc_buf_release(&t);
}

static void message(zenc_buf *b, const email_alerter *e, const zenc_alert *al)
{
	char host[256] = "localhost", id[37];
	zenc_buf t = ZENC_BUF_INIT;
	size_t i;

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	/* The alert's id when it has one: every try of one alert is the
	 * same message to the mail clients that drop duplicates. */
	if (al->version >= 2 && al->id && strlen(al->id) < sizeof(id) &&
	    !strpbrk(al->id, "<>@\r\n "))
		snprintf(id, sizeof(id), "%s", al->id);
	else
		zenc__uuid(id);
	zenc_buf_puts(b, "Date: ");
	rfc5322_date(b, zenc__now());
	zenc_buf_puts(b, "\r\nFrom: ");
	header_text(b, e->from);
	zenc_buf_puts(b, "\r\nTo: ");
	header_text(b, e->to);
	zenc_buf_puts(b, "\r\nSubject: ");
	zenc_buf_puts(&t, "[zenc] ");
	zenc_buf_puts(&t, al->title ? al->title : "alert");
	subject(b, t.ptr);
	zenc_buf_printf(b, "\r\nMessage-ID: <%s@", id);
	header_text(b, host);
	zenc_buf_puts(
		b, ">\r\nMIME-Version: 1.0\r\n"
		   "Content-Type: text/plain; charset=utf-8\r\n"
		   "Content-Transfer-Encoding: 8bit\r\n"
		   "X-Mailer: zenc/" ZENC_VERSION "\r\n\r\n");
	if (al->message)
		body_text(b, al->message);
	zenc_buf_puts(b, "\r\n");
	kv(b, "Pipeline", al->pipeline);
	kv(b, "Run", al->run_name);
	if (al->version >= 2)
		kv(b, "Stack", al->stack);
	kv(b, "Run id", al->run_id);
	kv(b, "Step", al->step);
	kv(b, "Status", al->status);
	if (al->error_type) {
		zenc_buf_clear(&t);
		zenc_buf_printf(
			&t, "%s: %s", al->error_type,
			al->error_message ? al->error_message : "");
		kv(b, "Error", t.ptr);
	}
	zenc_buf_clear(&t);
	if (al->attempt) {
		zenc_buf_printf(&t, "%d", al->attempt);
		kv(b, "Attempt", t.ptr);
	}
	if (al->exit_code) {
		zenc_buf_clear(&t);
		zenc_buf_printf(&t, "%d", al->exit_code);
		kv(b, "Exit code", t.ptr);
	}
	if (al->signal) {
		zenc_buf_clear(&t);
		zenc_buf_printf(&t, "%d", al->signal);
		kv(b, "Signal", t.ptr);
	}
	if (al->duration > 0) {
		zenc_buf_clear(&t);
		zenc_buf_printf(&t, "%.3fs", al->duration);
		kv(b, "Duration", t.ptr);
	}
	for (i = 0; al->fields && i < al->n_fields; i++)
		kv(b, al->fields[i].key, al->fields[i].value);
	kv(b, "Parameters", al->params_json);
	if (al->url) {
		zenc_buf_puts(b, "\r\n");
		body_text(b, al->url);
	}
	zenc_buf_release(&t);
}

struct upload {
	const char *p;
	size_t left;
};

static size_t on_read(char *buf, size_t size, size_t n, void *payload)
{
	struct upload *u = payload;
	size_t len = size * n;

	if (len > u->left)
		len = u->left;
	memcpy(buf, u->p, len);
	u->p += len;
	u->left -= len;
	return len;
}

static int email_post(zenc_alerter *self, const zenc_alert *al)
{
	email_alerter *e = (email_alerter *)self;
	const zenc__curl_api *c = NULL;
	zenc_buf url = ZENC_BUF_INIT, user = ZENC_BUF_INIT;
	zenc_buf pass = ZENC_BUF_INIT, msg = ZENC_BUF_INIT;
	zenc_buf where = ZENC_BUF_INIT;
	struct curl_slist *rcpt = NULL;
	struct upload up;
	char *from = NULL, *a;
	const char *p;
	long code = 0, ms;
	CURLcode cc;
	CURL *curl = NULL;
	size_t n;
	int rc;

	if ((rc = zenc__alerter_resolve(&url, e->smtp_url)) < 0 ||
	    (e->user && (rc = zenc__alerter_resolve(&user, e->user)) < 0) ||
	    (e->password &&
	     (rc = zenc__alerter_resolve(&pass, e->password)) < 0))
		goto done;
	zenc__url_redact(&where, url.ptr);
	if (!(c = zenc__curl())) {
		rc = ZENC_EUNREACHABLE;
		goto done;
	}
	if (!(curl = c->easy_init())) {
		rc = zenc__error_set(ZENC_ENOMEM, "cannot start libcurl");
		goto done;
	}
	a = addr_of(e->from, strlen(e->from));
	from = zenc__asprintf("<%s>", a);
	free(a);
	for (p = e->to; *p; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		a = addr_of(p, n);
		if (*a) {
			char *bracketed = zenc__asprintf("<%s>", a);

			rcpt = c->slist_append(rcpt, bracketed);
			free(bracketed);
		}
		free(a);
	}
	message(&msg, e, al);
	up.p = msg.ptr;
	up.left = msg.len;
	ms = (long)(al->timeout * 1000);
	if (ms < 100)
		ms = 100;
	c->easy_setopt(curl, CURLOPT_URL, url.ptr);
	c->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	c->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	c->easy_setopt(curl, CURLOPT_TIMEOUT_MS, ms);
	c->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, ms);
	c->easy_setopt(curl, CURLOPT_MAIL_FROM, from);
	c->easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	c->easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
	c->easy_setopt(curl, CURLOPT_READDATA, &up);
	c->easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	c->easy_setopt(curl, CURLOPT_USE_SSL, e->use_ssl);
	if (e->user)
		c->easy_setopt(curl, CURLOPT_USERNAME, user.ptr);
	if (e->password)
		c->easy_setopt(curl, CURLOPT_PASSWORD, pass.ptr);
	cc = c->easy_perform(curl);
	if (cc == CURLE_OK)
		goto done;
	c->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	/* SMTP 5xx, refused logins and TLS that is required but missing
	 * will not get better by waiting; everything else may. */
	rc = code >= 500 || cc == CURLE_LOGIN_DENIED ||
			     cc == CURLE_USE_SSL_FAILED ||
			     cc == CURLE_URL_MALFORMAT ||
			     cc == CURLE_UNSUPPORTED_PROTOCOL
		     ? ZENC_EINVALID
	     : cc == CURLE_OPERATION_TIMEDOUT ? ZENC_ETIMEOUT
					      : ZENC_EUNREACHABLE;
	if (code)
		rc = zenc__error_set(
			rc,
			"cannot send mail through '%s': %s "
			"(SMTP %ld)",
			zenc_buf_cstr(&where), c->easy_strerror(cc), code);
	else
		rc = zenc__error_set(
			rc, "cannot send mail through '%s': %s",
			zenc_buf_cstr(&where), c->easy_strerror(cc));
done:
	if (curl)
		c->easy_cleanup(curl);
	if (rcpt)
		c->slist_free_all(rcpt);
	free(from);
	zenc__alerter_secret_release(&url);
	zenc__alerter_secret_release(&user);
	zenc__alerter_secret_release(&pass);
	zenc_buf_release(&msg);
	zenc_buf_release(&where);
	return rc;
}

static void email_free(zenc_alerter *self)
{
	email_alerter *e = (email_alerter *)self;

	free(e->name);
	free(e->smtp_url);
	free(e->from);
	free(e->to);
	free(e->user);
	free(e->password);
	free(e);
}

int zenc__alerter_email_create(
	zenc_alerter **out, const zenc__alerter_config *c)
{
	const char *name = c->name ? c->name : "email";
	const char *url = zenc__alerter_config_get(c, "smtp_url");
	const char *from = zenc__alerter_config_get(c, "from");
	const char *to = zenc__alerter_config_get(c, "to");
	const char *ssl = zenc__alerter_config_get(c, "use_ssl");
	const char *v;
	email_alerter *e;
	long use_ssl = CURLUSESSL_TRY;

	*out = NULL;
	if (!url || !*url || !from || !*from || !to || !*to)
		return zenc__error_set(
			ZENC_EINVALID,
			"alerter '%s' of flavor 'email' needs "
			"smtp_url, from and to",
			name);
	if (ssl && !strcmp(ssl, "none"))
		use_ssl = CURLUSESSL_NONE;
	else if (ssl && !strcmp(ssl, "required"))
		use_ssl = CURLUSESSL_ALL;
	else if (ssl && *ssl && strcmp(ssl, "try"))
		return zenc__error_set(
			ZENC_EINVALID,
			"alerter '%s': invalid use_ssl '%s' "
			"(none, try or required)",
			name, ssl);
	e = zenc__calloc(1, sizeof(*e));
	e->base.version = ZENC_ALERTER_VERSION;
	e->base.flavor = "email";
	e->base.post = email_post;
	e->base.free = email_free;
	e->name = zenc__strdup(name);
	e->smtp_url = zenc__strdup(url);
	e->from = zenc__strdup(from);
	e->to = zenc__strdup(to);
	v = zenc__alerter_config_get(c, "user");
	e->user = v && *v ? zenc__strdup(v) : NULL;
	v = zenc__alerter_config_get(c, "password");
	e->password = v && *v ? zenc__strdup(v) : NULL;
	e->use_ssl = use_ssl;
	*out = &e->base;
	return 0;
}
