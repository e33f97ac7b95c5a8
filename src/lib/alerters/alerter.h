/*
 * Alerters inside the library: the built-in flavors (alerter_*.c), the
 * delivery core that wraps them (alerter.c: outbox, retries, dedup) and
 * the helpers the flavors share (HTTP over libcurl, JSON, secrets).
 */
#ifndef ZENC_LIB_ALERTER_H
#define ZENC_LIB_ALERTER_H

#include <jansson.h>

#include "internal.h"
#include "stores/store.h"
#include "zenc/sys/alerter.h"

/* A component's config as a flavor's create sees it: borrowed. */
typedef struct zenc__alerter_config {
	const char *name; /* the component's name, or NULL */
	const char *flavor;
	const char *const *keys;
	const char *const *values;
	size_t n;
} zenc__alerter_config;

/* The value of `key`, or NULL when it is not set. */
const char *zenc__alerter_config_get(
	const zenc__alerter_config *c, const char *key);
/* 0 when every key is one of the flavor's (from the registry), else
 * ZENC_EINVALID "unknown config key ...". */
int zenc__alerter_config_check(const zenc__alerter_config *c);

/* The built-in flavors' constructors: each checks its keys, copies what
 * it needs (unresolved: secrets are resolved at each use) and refuses a
 * config it can never use (ZENC_EINVALID). */
int zenc__alerter_log_create(zenc_alerter **out, const zenc__alerter_config *c);
int zenc__alerter_webhook_create(
	zenc_alerter **out, const zenc__alerter_config *c);
int zenc__alerter_slack_create(
	zenc_alerter **out, const zenc__alerter_config *c);
int zenc__alerter_discord_create(
	zenc_alerter **out, const zenc__alerter_config *c);
int zenc__alerter_email_create(
	zenc_alerter **out, const zenc__alerter_config *c);
int zenc__alerter_command_create(
	zenc_alerter **out, const zenc__alerter_config *c);

/*
 * The delivery core.
 */

/* What the core reads from every flavor's config. */
typedef struct zenc__alerter_opts {
	double timeout;      /* one delivery attempt; default 10 s */
	double dedup_window; /* 0: no de-duplication */
	int only_on_change;
	const char *dashboard_url; /* NULL: no link */
	/* How long after it was made the courier stops trying to deliver
	 * an alert; default 24 h. */
	double delivery_deadline;
} zenc__alerter_opts;

#define ZENC__ALERTER_DEFAULT_TIMEOUT 10.0
#define ZENC__ALERTER_DEFAULT_DEADLINE (24 * 3600.0)

/* The alerter of `stack`, wrapped by the core (outbox in the stack's
 * metadata store).  ZENC_ENOTFOUND when the stack has none. */
int zenc__alerter_for_stack(zenc_alerter **out, zenc_stack *stack);
/* The alerter component `name` from $ZENC_HOME/config, wrapped by the
 * core with the outbox in `store_flavor`/`store_location`. */
int zenc__alerter_for_component(
	zenc_alerter **out,
	const char *name,
	const char *store_flavor,
	const char *store_location);
/* Wraps `impl` (taken over, freed with the result) in the core: what
 * the two above do after creating the flavor's object; unit tests wrap
 * fakes with it.  `name` is the component's name for the outbox; `o`
 * NULL takes the defaults; a NULL store location means no outbox. */
int zenc__alerter_wrap(
	zenc_alerter **out,
	zenc_alerter *impl,
	const char *name,
	const zenc__alerter_opts *o,
	const char *store_flavor,
	const char *store_location);
/* True for an alerter that zenc__alerter_wrap() made. */
bool zenc__alerter_is_wrapped(const zenc_alerter *a);

typedef enum zenc__alert_outcome {
	ZENC__ALERT_DELIVERED = 0,
	ZENC__ALERT_PENDING,   /* kept in the outbox for a later flush */
	ZENC__ALERT_FAILED,    /* refused for good */
	ZENC__ALERT_SUPPRESSED /* dedup_window or only_on_change */
} zenc__alert_outcome;

const char *zenc__alert_outcome_name(zenc__alert_outcome o);

typedef struct zenc__deliver_opts {
	double budget; /* seconds for all attempts; 0: 30 s */
	int max_tries; /* 0: 5 */
	int test;      /* `zenc alerter test`: no dedup, and a failure is
			  "failed", not kept pending */
} zenc__deliver_opts;

/* Records `alert` in the outbox, applies dedup, sends it with retries
 * within the budget and records the outcome.  Returns 0 unless the
 * alert was lost (no outbox and not delivered) or refused for good;
 * *outcome says which.  zenc_error_last() has the last error. */
int zenc__alerter_deliver(
	zenc_alerter *a,
	const zenc_alert *alert,
	const zenc__deliver_opts *o,
	zenc__alert_outcome *outcome);

/* Re-sends each pending alert of `store` once.  Counts what happened;
 * returns 0, or a store error. */
int zenc__alerts_flush(
	zenc__store *store, size_t *delivered, size_t *pending, size_t *failed);

/* Copies `src`, of any version up to ZENC_ALERT_VERSION, into `dst` of
 * this version: the fields `src` has not are NULL or 0. */
void zenc__alert_copy(zenc_alert *dst, const zenc_alert *src);

/* The courier's work (courier.c runs it): tries each alert of `store`
 * that is due once, and schedules the next try of what is still
 * pending (backoff after the alert's age, Retry-After, the alerter's
 * delivery_deadline).  Counts what happened; returns 0 or a store
 * error. */
int zenc__alerts_courier_pass(
	zenc__store *store, size_t *delivered, size_t *pending, size_t *failed);

/* The alert as the JSON object the outbox keeps and the command flavor
 * writes to standard input. */
void zenc__alert_json(zenc_buf *b, const zenc_alert *alert);
/* Parses it back: the strings live in `arena` (a zenc__arena). */
int zenc__alert_from_json(zenc_alert *out, const char *json, void *arena);

/* The thread's Retry-After (zenc_alerter_set_retry_after()); reading it
 * resets it to 0. */
double zenc__alerter_take_retry_after(void);

/*
 * Helpers shared by the flavors.
 */

/* Parses `text` (one JSON value of any kind, duplicate keys refused)
 * with jansson; the caller json_decref()s it.  ZENC_EINVALID "invalid
 * JSON at offset N" (never quoting the text, which may hold a secret). */
int zenc__json_parse(json_t **out, const char *text);
/* True when `text` is one valid JSON value (false for NULL). */
bool zenc__json_valid(const char *text);
/* The string member `key` of an object, or NULL (also when `obj` is
 * not an object). */
const char *zenc__json_get_str(const json_t *obj, const char *key);
/* `s` as a new JSON string, null for NULL; bytes that are not UTF-8
 * become U+FFFD rather than failing. */
json_t *zenc__json_str(const char *s);
/* `text` parsed, or null when it is NULL or not JSON. */
json_t *zenc__json_or_null(const char *text);
/* Appends `v` as compact JSON ("null" for NULL). */
void zenc__json_dump(zenc_buf *b, const json_t *v);

/* A secret-resolved config value: resolve with zenc__alerter_resolve(),
 * then always zenc__alerter_secret_release() (wipes it). */
int zenc__alerter_resolve(zenc_buf *out, const char *value);
void zenc__alerter_secret_release(zenc_buf *b);

/* How a URL is named in messages: "scheme://host[:port]", never its
 * path, query or user info (where tokens live). */
void zenc__url_redact(zenc_buf *b, const char *url);

/* One HTTP POST with libcurl. */
typedef struct zenc__http_req {
	const char *url;            /* resolved; never put in a message */
	const char *const *headers; /* "Name: value", NULL-terminated */
	const char *body;
	size_t body_len;
	double timeout;     /* seconds */
	const char *what;   /* "webhook", "slack" for messages */
	const char *method; /* NULL: POST; "GET" */
} zenc__http_req;

/* Performs the request; the response body goes to `resp` (may be NULL),
 * the status to *status.  Returns 0 for 2xx; ZENC_EUNREACHABLE for no
 * connection, a timeout, 5xx and 429 (with the Retry-After noted); and
 * ZENC_EINVALID for other statuses.  Messages name the URL redacted. */
int zenc__http_post(const zenc__http_req *req, zenc_buf *resp, long *status);
/* zenc__http_post() of `body` to `url`, the response not wanted. */
int zenc__http_post_body(
	const char *url,
	const char *const *headers,
	const zenc_buf *body,
	double timeout,
	const char *what);

#endif
