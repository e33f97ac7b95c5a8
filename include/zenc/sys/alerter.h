/*
 * The alerter interface, for people who write alerter flavors.
 *
 * An alerter is a struct of function pointers that an implementation
 * embeds as its first member, as SQLite's VFS does.  zenc calls `post`
 * for every alert; it owns the outbox, the retries, the time budget and
 * de-duplication around it, so a flavor only delivers one alert once
 * within `alert->timeout` seconds and says how that went.
 *
 * Built-in flavors and what they can do:
 *
 *   flavor    post                                 ask
 *   log       the library logger (standard error)  no
 *   webhook   HTTP POST of JSON                    no
 *   slack     incoming webhook, or chat.postMessage  with a bot token:
 *             (Web API, bot token)                 yes, polls the replies
 *   discord   webhook, content + embeds            no
 *   email     SMTP                                 no
 *   command   a program, alert as JSON on stdin    no
 *
 * `ask` always has a deadline: the alert's timeout.
 */
#ifndef ZENC_SYS_ALERTER_H
#define ZENC_SYS_ALERTER_H

#include "../common.h"
#include "../stack.h"

ZENC_BEGIN_DECL

/** The version of zenc_alerter this header describes. */
#define ZENC_ALERTER_VERSION 1

/** The alerter can ask a human a yes/no question (`ask`). */
#define ZENC_ALERTER_CAP_ASK 0x1u

/**
 * An alerter.  Fields are only ever appended; `version` says which
 * fields the implementation filled in.
 */
struct zenc_alerter {
	/** ZENC_ALERTER_VERSION. */
	unsigned int version;
	/** The flavor's name: "webhook", "slack". */
	const char *flavor;
	/** ZENC_ALERTER_CAP_* bits. */
	unsigned int caps;
	/**
	 * Delivers `alert` once, taking at most `alert->timeout` seconds.
	 * Returns 0 when the service accepted it; ZENC_EUNREACHABLE (or
	 * ZENC_ETIMEOUT) when trying again later may work (no connection,
	 * a timeout, HTTP 5xx or 429); ZENC_ECONFIG or ZENC_EINVALID when
	 * it never will (bad URL, token, recipient or request).  The
	 * message (zenc_error_last()) must not contain a secret: name a
	 * URL by its scheme and host only.  A service that asks to wait
	 * (HTTP 429 Retry-After) is reported with
	 * zenc_alerter_set_retry_after() before returning.
	 */
	int (*post)(zenc_alerter *self, const zenc_alert *alert);
	/**
	 * Posts `alert` as a question and waits, at most `alert->timeout`
	 * seconds, for a human's answer: *approved_out 1 (approved) or 0
	 * (rejected).  Returns 0 with an answer, ZENC_ETIMEOUT when nobody
	 * answered in time, or an error as `post`.  NULL when the flavor
	 * cannot ask (then `caps` lacks ZENC_ALERTER_CAP_ASK).
	 */
	int (*ask)(
		zenc_alerter *self, const zenc_alert *alert, int *approved_out);
	/** Releases the alerter.  NULL-safe callers never pass NULL. */
	void (*free)(zenc_alerter *self);
};

/**
 * Sets the message of the current error on this thread (the one
 * zenc_error_last() returns, and `zenc alerts list` shows as an alert's
 * last error) and returns `code`, a negative ZENC_E* code: for a
 * flavor's constructor, `post` and `ask`, as in
 * `return zenc_alerter_error(ZENC_EUNREACHABLE, "no answer from %s", host);`.
 * The message must not contain a secret.
 */
ZENC_EXTERN(int)
zenc_alerter_error(int code, const char *fmt, ...) ZENC_FORMAT(2, 3);

/**
 * Called by a flavor's `post` when the service asked to be retried no
 * sooner than `seconds` from now (HTTP 429 Retry-After).  Applies to the
 * current post on this thread only.
 */
ZENC_EXTERN(void) zenc_alerter_set_retry_after(double seconds);

/**
 * Creates an alerter of the flavor `flavor` (built-in, registered, or
 * from a plugin) from its config (`n` keys and values; values may hold
 * {{secret.NAME}} references: a built-in flavor resolves them each time
 * they are used and never keeps them; a flavor's `new_alerter` gets them
 * resolved).  The result
 * delivers directly, with no outbox or retries: give it to a stack, or
 * call its `post`.  Unknown keys are refused.  The caller owns `*out`
 * (zenc_alerter_free()).  Returns 0, ZENC_ENOTFOUND for an unknown
 * flavor or one without code, ZENC_EINVALID for an unknown key or a bad
 * value, ZENC_EIO when a plugin failed to load.
 */
ZENC_EXTERN(int)
zenc_alerter_new(
	zenc_alerter **out,
	const char *flavor,
	const char *const *keys,
	const char *const *values,
	size_t n);

/** Frees an alerter; NULL does nothing. */
ZENC_EXTERN(void) zenc_alerter_free(zenc_alerter *a);

/**
 * Asks a question through the alerter (ZenML's Alerter.ask): waits at
 * most `timeout` seconds (required, > 0).  Returns 0 with *approved_out
 * set, ZENC_ETIMEOUT when nobody answered, ZENC_ESTATE when the flavor
 * cannot ask, or an error as for posting.  Questions are not queued in
 * the outbox: an answer that comes late is worthless.
 */
ZENC_EXTERN(int)
zenc_alerter_ask(
	zenc_alerter *a,
	const zenc_alert *alert,
	double timeout,
	int *approved_out);

ZENC_END_DECL

#endif
