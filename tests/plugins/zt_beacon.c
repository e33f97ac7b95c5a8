/*
 * A test plugin: the alerter flavor "beacon", written as a user would
 * write one, against zenc's public headers only (nothing links it to
 * libzenc: its calls into zenc are resolved in the program that loads
 * it).  It posts each alert as JSON over plain HTTP/1.0 to `url`
 * (http://HOST:PORT/PATH), with `token` (a secret key) as a Bearer
 * token and `tag` copied into the body, and reports in the body the keys
 * its constructor was given, so that a test can check the constructor
 * contract (own keys only, secrets resolved).
 *
 * ZT_BEACON_FAIL set in the environment makes zenc_plugin_init() fail.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <zenc.h>
#include <zenc/sys/alerter.h>
#include <zenc/sys/flavor.h>

int zenc_plugin_init(void);

typedef struct beacon {
	zenc_alerter base; /* first: zenc sees a zenc_alerter */
	char *host, *port, *path;
	char *token;
	char *tag;
	char *keys_seen; /* a JSON array */
} beacon;

/* A growing string. */
typedef struct sbuf {
	char *p;
	size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		while (cap < b->n + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_json_str(sbuf *b, const char *s)
{
	char esc[8];

	if (!s) {
		sb_puts(b, "null");
		return;
	}
	sb_puts(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sb_put(b, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			sb_puts(b, esc);
		} else {
			sb_put(b, (const char *)&c, 1);
		}
	}
	sb_puts(b, "\"");
}

static void sb_member(sbuf *b, const char *key, const char *value)
{
	sb_puts(b, b->n > 1 ? ", " : "");
	sb_json_str(b, key);
	sb_puts(b, ": ");
	sb_json_str(b, value);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* One HTTP/1.0 POST; the status code, or -1 when nothing answered. */
static int http_post(const beacon *bc, const char *body, double timeout)
{
	struct addrinfo hints, *ai = NULL;
	struct timeval tv;
	char status[64];
	sbuf req = {0};
	size_t off;
	ssize_t w, r;
	int fd, code = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(bc->host, bc->port, &hints, &ai) != 0 || !ai)
		return -1;
	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0) {
		freeaddrinfo(ai);
		return -1;
	}
	tv.tv_sec = (time_t)timeout;
	tv.tv_usec = (suseconds_t)((timeout - (double)tv.tv_sec) * 1e6);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		goto done;
	snprintf(status, sizeof(status), "%zu", strlen(body));
	sb_puts(&req, "POST ");
	sb_puts(&req, bc->path);
	sb_puts(&req, " HTTP/1.0\r\nHost: ");
	sb_puts(&req, bc->host);
	sb_puts(&req, "\r\nContent-Type: application/json\r\nContent-Length: ");
	sb_puts(&req, status);
	sb_puts(&req, "\r\n");
	if (bc->token && *bc->token) {
		sb_puts(&req, "Authorization: Bearer ");
		sb_puts(&req, bc->token);
		sb_puts(&req, "\r\n");
	}
	sb_puts(&req, "\r\n");
	sb_puts(&req, body);
	for (off = 0; off < req.n; off += (size_t)w)
		if ((w = write(fd, req.p + off, req.n - off)) <= 0)
			goto done;
	/* "HTTP/1.x NNN ..." */
	off = 0;
	while (off < sizeof(status) - 1 &&
	       (r = read(fd, status + off, sizeof(status) - 1 - off)) > 0)
		off += (size_t)r;
	status[off] = '\0';
	if (off > 12 && strncmp(status, "HTTP/", 5) == 0 && strchr(status, ' '))
		code = atoi(strchr(status, ' ') + 1);
done:
	if (req.p) {
		/* The request held the token. */
		memset(req.p, 0, req.cap);
		free(req.p);
	}
	close(fd);
	freeaddrinfo(ai);
	return code;
}

static int beacon_post(zenc_alerter *self, const zenc_alert *al)
{
	beacon *bc = (beacon *)self;
	sbuf body = {0};
	char attempt[32];
	int code;

	sb_puts(&body, "{");
	sb_member(&body, "flavor", "beacon");
	sb_member(&body, "tag", bc->tag);
	sb_member(&body, "title", al->title);
	sb_member(&body, "message", al->message);
	sb_member(&body, "pipeline", al->pipeline);
	sb_member(&body, "run_name", al->run_name);
	sb_member(&body, "step", al->step);
	sb_member(&body, "status", al->status);
	sb_member(&body, "event", al->event);
	sb_member(&body, "error_type", al->error_type);
	sb_member(&body, "error_message", al->error_message);
	snprintf(attempt, sizeof(attempt), "%d", al->attempt);
	sb_member(&body, "attempt", attempt);
	sb_puts(&body, ", \"keys\": ");
	sb_puts(&body, bc->keys_seen);
	sb_puts(&body, "}");
	code = http_post(bc, body.p, al->timeout > 0 ? al->timeout : 10);
	free(body.p);
	if (code < 0)
		return zenc_alerter_error(
			ZENC_EUNREACHABLE, "beacon: no answer from %s:%s",
			bc->host, bc->port);
	if (code >= 500 || code == 429)
		return zenc_alerter_error(
			ZENC_EUNREACHABLE, "beacon: HTTP %d from %s:%s", code,
			bc->host, bc->port);
	if (code < 200 || code > 299)
		return zenc_alerter_error(
			ZENC_EINVALID, "beacon: HTTP %d from %s:%s", code,
			bc->host, bc->port);
	return 0;
}

static void beacon_free(zenc_alerter *self)
{
	beacon *bc = (beacon *)self;

	free(bc->host);
	free(bc->port);
	free(bc->path);
	if (bc->token) {
		memset(bc->token, 0, strlen(bc->token));
		free(bc->token);
	}
	free(bc->tag);
	free(bc->keys_seen);
	free(bc);
}

/* http://HOST:PORT/PATH into its parts. */
static int parse_url(beacon *bc, const char *url)
{
	const char *h, *colon, *slash;

	if (strncmp(url, "http://", 7) != 0)
		return -1;
	h = url + 7;
	slash = strchr(h, '/');
	if (!slash)
		slash = h + strlen(h);
	colon = memchr(h, ':', (size_t)(slash - h));
	if (!colon || colon == h || colon + 1 == slash)
		return -1;
	bc->host = strndup(h, (size_t)(colon - h));
	bc->port = strndup(colon + 1, (size_t)(slash - colon - 1));
	bc->path = strdup(*slash ? slash : "/");
	return 0;
}

static int beacon_new(
	zenc_alerter **out,
	const char *const *keys,
	const char *const *values,
	size_t n)
{
	beacon *bc = calloc(1, sizeof(*bc));
	const char *url = NULL;
	sbuf seen = {0};
	size_t i;

	*out = NULL;
	if (!bc)
		return zenc_alerter_error(ZENC_ENOMEM, "beacon: out of memory");
	sb_puts(&seen, "[");
	for (i = 0; i < n; i++) {
		sb_puts(&seen, i ? ", " : "");
		sb_json_str(&seen, keys[i]);
		if (!strcmp(keys[i], "url"))
			url = values[i];
		else if (!strcmp(keys[i], "token"))
			bc->token = dup_or_null(values[i]);
		else if (!strcmp(keys[i], "tag"))
			bc->tag = dup_or_null(values[i]);
	}
	sb_puts(&seen, "]");
	bc->keys_seen = seen.p;
	bc->base.version = ZENC_ALERTER_VERSION;
	bc->base.flavor = "beacon";
	bc->base.caps = 0;
	bc->base.post = beacon_post;
	bc->base.ask = NULL;
	bc->base.free = beacon_free;
	if (!url || parse_url(bc, url) < 0) {
		beacon_free(&bc->base);
		return zenc_alerter_error(
			ZENC_EINVALID, "beacon needs url=http://HOST:PORT/"
				       "PATH");
	}
	*out = &bc->base;
	return 0;
}

static const char *const beacon_keys[] = {"url", "token", "tag", NULL};
static const char *const beacon_secret[] = {"token", NULL};

int zenc_plugin_init(void)
{
	zenc_flavor f = {
		.version = ZENC_FLAVOR_VERSION,
		.kind = "alerter",
		.name = "beacon",
		.keys = beacon_keys,
		.secret_keys = beacon_secret,
		.description = "posts alerts as JSON (a test plugin)",
		.new_alerter = beacon_new,
	};

	if (getenv("ZT_BEACON_FAIL"))
		return zenc_alerter_error(
			ZENC_ECONFIG, "beacon: told to fail "
				      "(ZT_BEACON_FAIL)");
	return zenc_flavor_register(&f);
}
