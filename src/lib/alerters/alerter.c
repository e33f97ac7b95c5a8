/*
 * The alerter core: creating flavors, and delivery that loses nothing.
 *
 * Every alert goes to the metadata store's outbox first, in the process
 * that posts it (a step's child opens its own connection: it must not use
 * its parent's).  Then it is sent, each attempt bounded by the alerter's
 * timeout and all of them by a budget that stays under the hook's
 * deadline, with exponential backoff and jitter between attempts and
 * HTTP 429 Retry-After honoured.  What could not be sent stays pending
 * with its last error, for the store's courier (courier.c) and `zenc
 * alerts flush`.  De-duplication (dedup_window, only_on_change) records
 * what it holds back as suppressed.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "curl_api.h"
#include "dynlib.h"
#include "engine/exec.h"
#include "alerters/alerter.h"
#include "alerters/courier.h"
#include "config/stack.h"

/* Retry-After of the current post, per thread; and whether it failed
 * in a way that no new attempt in this process can mend (libcurl could
 * not be loaded): the alert then stays pending at once. */
static _Thread_local double retry_after;
static _Thread_local int no_retry;
/* The id of the alert being sent on this thread, for the
 * Idempotency-Key header of every HTTP post that carries it. */
static _Thread_local const char *sending_id;
/* The Retry-After of send_tries()'s last failed try. */
static _Thread_local double last_retry_after;

int zenc_alerter_error(int code, const char *fmt, ...)
{
	zenc_buf b = ZENC_BUF_INIT;
	va_list ap;

	if (code >= 0)
		code = ZENC_ERROR;
	va_start(ap, fmt);
	zenc_buf_vprintf(&b, fmt ? fmt : "", ap);
	va_end(ap);
	zenc__error_set(code, "%s", zenc_buf_cstr(&b));
	zenc_buf_release(&b);
	return code;
}

void zenc_alerter_set_retry_after(double seconds)
{
	retry_after = seconds > 0 ? seconds : 0;
}

double zenc__alerter_take_retry_after(void)
{
	double r = retry_after;

	retry_after = 0;
	return r;
}

/*
 * Config.
 */

const char *zenc__alerter_config_get(
	const zenc__alerter_config *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->keys[i], key))
			return c->values[i];
	return NULL;
}

int zenc__alerter_config_check(const zenc__alerter_config *c)
{
	const zenc_flavor *f;
	size_t i;
	int rc;

	if ((rc = zenc__flavor_lookup(&f, "alerter", c->flavor)) < 0)
		return rc;
	for (i = 0; i < c->n; i++)
		if ((rc = zenc__flavor_check_key(f, c->keys[i])) < 0)
			return rc;
	return 0;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1") ||
	    !strcmp(v, "on"))
		*out = 1;
	else if (
		!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0") ||
		!strcmp(v, "off") || !*v)
		*out = 0;
	else
		return -1;
	return 0;
}

/* The keys every flavor shares, read by the core. */
static int read_opts(zenc__alerter_opts *o, const zenc__alerter_config *c)
{
	const char *v;

	memset(o, 0, sizeof(*o));
	o->timeout = ZENC__ALERTER_DEFAULT_TIMEOUT;
	if ((v = zenc__alerter_config_get(c, "timeout")) &&
	    (zenc__parse_duration(v, &o->timeout) < 0 || o->timeout <= 0))
		return zenc__error_set(
			ZENC_EINVALID,
			"invalid timeout '%s' for alerter '%s' "
			"(a duration such as 10s or 500ms)",
			v, c->name ? c->name : c->flavor);
	if ((v = zenc__alerter_config_get(c, "dedup_window")) &&
	    (zenc__parse_duration(v, &o->dedup_window) < 0 ||
	     o->dedup_window < 0))
		return zenc__error_set(
			ZENC_EINVALID,
			"invalid dedup_window '%s' for alerter "
			"'%s' (a duration such as 10m)",
			v, c->name ? c->name : c->flavor);
	if ((v = zenc__alerter_config_get(c, "only_on_change")) &&
	    parse_bool(v, &o->only_on_change) < 0)
		return zenc__error_set(
			ZENC_EINVALID,
			"invalid only_on_change '%s' for "
			"alerter '%s' (true or false)",
			v, c->name ? c->name : c->flavor);
	v = zenc__alerter_config_get(c, "dashboard_url");
	o->dashboard_url = v && *v ? v : NULL;
	o->delivery_deadline = ZENC__ALERTER_DEFAULT_DEADLINE;
	if ((v = zenc__alerter_config_get(c, "delivery_deadline")) &&
	    (zenc__parse_duration(v, &o->delivery_deadline) < 0 ||
	     o->delivery_deadline <= 0))
		return zenc__error_set(
			ZENC_EINVALID,
			"invalid delivery_deadline '%s' for alerter '%s' "
			"(a duration such as 24h or 30m)",
			v, c->name ? c->name : c->flavor);
	return 0;
}

/*
 * Creating flavors.
 */

/* An alerter flavor's code from outside (a plugin, or a program that
 * registered it): its own keys only, secrets resolved, wiped after. */
static int create_external(
	zenc_alerter **out, const zenc_flavor *f, const zenc__alerter_config *c)
{
	const char **keys = zenc__calloc(c->n + 1, sizeof(*keys));
	const char **values = zenc__calloc(c->n + 1, sizeof(*values));
	zenc_buf *resolved = zenc__calloc(c->n + 1, sizeof(*resolved));
	zenc_alerter *a = NULL;
	size_t i, n = 0;
	int rc = 0;

	for (i = 0; i < c->n; i++) {
		/* The delivery keys are the core's (read_opts()). */
		if (zenc__alerter_is_shared_key(c->keys[i]))
			continue;
		if ((rc = zenc__alerter_resolve(&resolved[n], c->values[i])) <
		    0) {
			n++;
			goto done;
		}
		keys[n] = c->keys[i];
		values[n] = zenc_buf_cstr(&resolved[n]);
		n++;
	}
	zenc__error_clear();
	rc = f->new_alerter(&a, keys, values, n);
	if (rc < 0 && !*zenc_error_last())
		zenc__error_set(
			rc,
			"alerter flavor '%s' could not make an "
			"alerter: %s",
			f->name, zenc_strerror(rc));
	if (rc >= 0 && (!a || a->version < 1 || !a->post || !a->free)) {
		if (a && a->free)
			a->free(a);
		a = NULL;
		rc = zenc__error_set(
			ZENC_EINVALID,
			"alerter flavor '%s' made no usable "
			"alerter (version, post and free are "
			"required)",
			f->name);
	}
	if (rc > 0)
		rc = 0;
	if (a && !a->flavor)
		a->flavor = f->name;
	*out = a;
done:
	for (i = 0; i < n; i++)
		zenc__alerter_secret_release(&resolved[i]);
	free(resolved);
	free(keys);
	free(values);
	return rc;
}

static int create_impl(zenc_alerter **out, const zenc__alerter_config *c)
{
	const zenc__flavor_row *row;
	const zenc_flavor *f;
	zenc__alerter_opts o;
	int rc;

	*out = NULL;
	if ((rc = zenc__alerter_config_check(c)) < 0)
		return rc;
	if ((rc = read_opts(&o, c)) < 0)
		return rc;
	if ((rc = zenc__flavor_lookup(&f, "alerter", c->flavor)) < 0)
		return rc;
	row = zenc__flavor_row_of(f);
	if (row->create_alerter)
		return row->create_alerter(out, c);
	if (f->new_alerter)
		return create_external(out, f, c);
	/* A flavor registered with keys but no code. */
	return zenc__error_set(
		ZENC_ENOTFOUND,
		"alerter flavor '%s' has no implementation in "
		"this program",
		c->flavor);
}

int zenc_alerter_new(
	zenc_alerter **out,
	const char *flavor,
	const char *const *keys,
	const char *const *values,
	size_t n)
{
	zenc__alerter_config c = {NULL, flavor, keys, values, n};

	if (!out || !flavor)
		return zenc__error_set(ZENC_EINVALID, "no alerter flavor");
	return create_impl(out, &c);
}

void zenc_alerter_free(zenc_alerter *a)
{
	if (a && a->free)
		a->free(a);
}

/*
 * The core's wrapper.
 */

typedef struct core_alerter {
	zenc_alerter base;
	zenc_alerter *impl;
	char *name;
	zenc__alerter_opts o;
	char *dashboard_url;
	char *store_flavor;
	char *store_location;
	char *stack; /* the stack it was made for, or NULL */
} core_alerter;

static int core_post(zenc_alerter *self, const zenc_alert *alert);

void zenc__alert_copy(zenc_alert *dst, const zenc_alert *src)
{
	zenc_alert init = ZENC_ALERT_INIT;

	/* A caller built against an older header passed a shorter struct:
	 * only the fields of its version are read. */
	*dst = init;
	memcpy(dst, src,
	       src->version >= 2 ? sizeof(*dst) : offsetof(zenc_alert, id));
	dst->version = ZENC_ALERT_VERSION;
}

static int core_ask(
	zenc_alerter *self, const zenc_alert *alert, int *approved_out)
{
	core_alerter *c = (core_alerter *)self;

	return c->impl->ask(c->impl, alert, approved_out);
}

static void core_free(zenc_alerter *self)
{
	core_alerter *c = (core_alerter *)self;

	zenc_alerter_free(c->impl);
	free(c->name);
	free(c->dashboard_url);
	free(c->store_flavor);
	free(c->store_location);
	free(c->stack);
	free(c);
}

bool zenc__alerter_is_wrapped(const zenc_alerter *a)
{
	return a && a->post == core_post;
}

int zenc__alerter_wrap(
	zenc_alerter **out,
	zenc_alerter *impl,
	const char *name,
	const zenc__alerter_opts *o,
	const char *store_flavor,
	const char *store_location)
{
	core_alerter *c = zenc__calloc(1, sizeof(*c));

	c->base.version = ZENC_ALERTER_VERSION;
	c->base.flavor = impl->flavor;
	c->base.caps = impl->caps;
	c->base.post = core_post;
	c->base.ask = impl->ask ? core_ask : NULL;
	c->base.free = core_free;
	c->impl = impl;
	c->name = zenc__strdup(name);
	if (o) {
		c->o = *o;
	} else {
		c->o.timeout = ZENC__ALERTER_DEFAULT_TIMEOUT;
	}
	if (c->o.timeout <= 0)
		c->o.timeout = ZENC__ALERTER_DEFAULT_TIMEOUT;
	if (c->o.delivery_deadline <= 0)
		c->o.delivery_deadline = ZENC__ALERTER_DEFAULT_DEADLINE;
	c->dashboard_url = zenc__strdup(c->o.dashboard_url);
	c->o.dashboard_url = c->dashboard_url;
	c->store_flavor = zenc__strdup(store_flavor);
	c->store_location = zenc__strdup(store_location);
	*out = &c->base;
	return 0;
}

static int wrap_config(
	zenc_alerter **out,
	const zenc__alerter_config *cfg,
	const char *store_flavor,
	const char *store_location)
{
	zenc__alerter_opts o;
	zenc_alerter *impl;
	int rc;

	*out = NULL;
	if ((rc = create_impl(&impl, cfg)) < 0)
		return rc;
	read_opts(&o, cfg);
	return zenc__alerter_wrap(
		out, impl, cfg->name, &o, store_flavor, store_location);
}

int zenc__alerter_for_stack(zenc_alerter **out, zenc_stack *stack)
{
	zenc__alerter_config c;
	const char *name;
	int rc;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	if ((rc = zenc__stack_alerter_config(
		     stack, &c.flavor, &c.keys, &c.values, &c.n)) < 0)
		return rc;
	c.name = zenc__stack_component_name(stack, "alerter");
	rc = wrap_config(
		out, &c, zenc__stack_store_flavor(stack),
		zenc__stack_store_location(stack));
	if (rc == 0 && (name = zenc_stack_name(stack)))
		((core_alerter *)*out)->stack = zenc__strdup(name);
	return rc;
}

int zenc__alerter_for_component(
	zenc_alerter **out,
	const char *name,
	const char *store_flavor,
	const char *store_location)
{
	zenc__stacks cfg = ZENC__STACKS_INIT;
	zenc__component *comp;
	zenc__alerter_config c;
	int rc;

	*out = NULL;
	if ((rc = zenc__stacks_read(&cfg)) < 0)
		return rc;
	if ((rc = zenc__stacks_component_find(
		     &cfg, ZENC__KIND_ALERTER, name, &comp)) < 0)
		goto done;
	c.name = comp->name;
	c.flavor = comp->flavor;
	c.keys = (const char *const *)comp->keys;
	c.values = (const char *const *)comp->values;
	c.n = comp->n;
	rc = wrap_config(out, &c, store_flavor, store_location);
done:
	zenc__stacks_release(&cfg);
	return rc;
}

const char *zenc__alert_outcome_name(zenc__alert_outcome o)
{
	switch (o) {
	case ZENC__ALERT_DELIVERED:
		return "delivered";
	case ZENC__ALERT_PENDING:
		return "pending";
	case ZENC__ALERT_FAILED:
		return "failed";
	case ZENC__ALERT_SUPPRESSED:
		return "suppressed";
	}
	return "unknown";
}

/*
 * Time budget.  Inside a hook, everything must end before the hook's
 * deadline: the budget is the shortest deadline that can apply to the
 * hook running now, less a margin for the store and the exit.
 */
static double hook_deadline_budget(void)
{
	zenc_step_context *ctx = zenc__ctx_current();
	const zenc__hook_list *list = NULL;
	double t = ZENC__DEFAULT_HOOK_TIMEOUT, margin;
	zenc__event ev;
	size_t i;

	if (!ctx || !ctx->in_hook)
		return 0;
	if (ctx->ss)
		t = ctx->ss->hook_timeout;
	else if (ctx->x->p->hook_timeout > 0)
		t = ctx->x->p->hook_timeout;
	if (ctx->hook_event && zenc__event_parse(&ev, ctx->hook_event) == 0)
		list = ctx->step && ev < ZENC__ON_RUN_SUCCESS
			       ? zenc__step_hooks(ctx->step, ev)
			       : &ctx->x->p->hooks[ev];
	for (i = 0; list && i < list->n; i++)
		if (list->items[i].h.timeout > 0 &&
		    list->items[i].h.timeout < t)
			t = list->items[i].h.timeout;
	margin = t * 0.15;
	if (margin < 0.3)
		margin = 0.3;
	if (margin > 5)
		margin = 5;
	return t - margin > 0.2 ? t - margin : 0.2;
}

/* Jitter: a thread-local xorshift seeded from the clock and the pid
 * (children of one fork must not retry in step). */
static _Thread_local uint64_t rng_state;

static double random_unit(void)
{
	uint64_t x;

	if (!rng_state)
		rng_state = ((uint64_t)(zenc__now() * 1e6)) ^
			    ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
	x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return (double)(x >> 11) / 9007199254740992.0;
}

/* The wait before try `n + 1`: 0.5 s doubling, at most 8 s, "equal
 * jitter" (half fixed, half random). */
static double backoff(int n)
{
	double base = 0.5 * pow(2, n - 1);

	if (base > 8)
		base = 8;
	return base / 2 + random_unit() * base / 2;
}

/*
 * Sending: up to `max_tries` attempts within `budget` seconds.  Returns
 * the outcome; *attempts grows by the attempts made, *err holds the last
 * error.
 */
static zenc__alert_outcome send_tries(
	core_alerter *c,
	zenc_alert *al,
	double budget,
	int max_tries,
	int *attempts,
	zenc_buf *err)
{
	double deadline = zenc__monotonic() + budget, left, wait, ra;
	int try, rc;

	last_retry_after = 0;
	for (try = 1; try <= max_tries; try++) {
		left = deadline - zenc__monotonic();
		if (try > 1 && left < 0.05)
			break;
		al->timeout = c->o.timeout < left ? c->o.timeout : left;
		if (al->timeout < 0.1)
			al->timeout = 0.1;
		zenc__alerter_take_retry_after();
		no_retry = 0;
		sending_id = al->id;
		rc = c->impl->post(c->impl, al);
		sending_id = NULL;
		(*attempts)++;
		if (rc == 0)
			return ZENC__ALERT_DELIVERED;
		zenc_buf_clear(err);
		zenc_buf_puts(err, zenc_error_last());
		if (rc != ZENC_EUNREACHABLE && rc != ZENC_ETIMEOUT)
			return ZENC__ALERT_FAILED;
		if (no_retry)
			break;
		ra = zenc__alerter_take_retry_after();
		last_retry_after = ra;
		wait = ra > 0 ? ra + random_unit() * 0.1 * (ra < 5 ? ra : 5)
			      : backoff(try);
		if (try == max_tries ||
		    zenc__monotonic() + wait + 0.1 >= deadline)
			break;
		zenc__debug(
			"alert attempt %d failed (%s); retrying in %.2fs", try,
			zenc_buf_cstr(err), wait);
		zenc__sleep(wait);
	}
	return ZENC__ALERT_PENDING;
}

/* The key of "the same alert" for dedup_window: through the same
 * alerter, the same pipeline, step, status and error type. */
static char *dedup_key(const char *alerter, const zenc_alert *al)
{
	if (!al->pipeline)
		return NULL;
	return zenc__asprintf(
		"%s\x1f%s\x1f%s\x1f%s\x1f%s", alerter ? alerter : "",
		al->pipeline, al->step ? al->step : "",
		al->status ? al->status : "",
		al->error_type ? al->error_type : "");
}

static bool is_failure(const zenc_alert *al)
{
	return (al->status && !strcmp(al->status, "failed")) ||
	       (al->event && !strcmp(al->event, "on_failure"));
}

/* Why an alert is held back, or NULL to send it. */
static const char *suppress_reason(
	core_alerter *c, zenc__store *st, const zenc_alert *al, const char *key)
{
	char last[32];
	int n;

	if (!st)
		return NULL;
	if (c->o.dedup_window > 0 && key &&
	    st->alerts_recent(st, key, zenc__now() - c->o.dedup_window, &n) ==
		    0 &&
	    n > 0)
		return "dedup_window";
	if (c->o.only_on_change && al->pipeline && al->step && al->run_id &&
	    st->step_last_status(
		    st, al->pipeline, al->step, al->run_id, last,
		    sizeof(last)) == 0) {
		bool prev_failed = !strcmp(last, "failed");

		if (is_failure(al) ? prev_failed : !prev_failed)
			return "only_on_change";
	}
	return NULL;
}

static void warn_store(const char *what)
{
	zenc__warn(
		"alert outbox unavailable (%s): %s; sending without it", what,
		zenc_error_last());
}

int zenc__alerter_deliver(
	zenc_alerter *a,
	const zenc_alert *alert,
	const zenc__deliver_opts *o,
	zenc__alert_outcome *outcome)
{
	core_alerter *c = (core_alerter *)a;
	zenc__deliver_opts dflt = {0, 0, 0};
	zenc__alert_record rec;
	zenc__store *st = NULL;
	zenc_buf json = ZENC_BUF_INIT, err = ZENC_BUF_INIT;
	zenc_buf url = ZENC_BUF_INIT, title = ZENC_BUF_INIT;
	zenc_alert al;
	const char *why = NULL;
	char *key = NULL;
	char id[37];
	double budget, t0 = zenc__monotonic();
	int attempts = 0, rc = 0, max_tries;

	*outcome = ZENC__ALERT_FAILED;
	if (!o)
		o = &dflt;
	budget = o->budget > 0 ? o->budget : hook_deadline_budget();
	if (budget <= 0)
		budget = ZENC__DEFAULT_HOOK_TIMEOUT;
	max_tries = o->max_tries > 0 ? o->max_tries : 5;

	/* One id for the alert's whole life: the outbox row's, in the JSON
	 * every try sends. */
	zenc__alert_copy(&al, alert);
	zenc__uuid(id);
	al.id = id;
	if (!al.stack)
		al.stack = c->stack;
	if (!al.url && c->o.dashboard_url && al.run_id) {
		size_t n = strlen(c->o.dashboard_url);

		while (n && c->o.dashboard_url[n - 1] == '/')
			n--;
		zenc_buf_put(&url, c->o.dashboard_url, n);
		zenc_buf_printf(&url, "/runs/%s", al.run_id);
		al.url = url.ptr;
	}
	if (!al.title) {
		/* The first line of the message. */
		const char *m = al.message ? al.message : "zenc alert";
		size_t n = strcspn(m, "\n");

		zenc__utf8_truncate(&title, m, n < 200 ? n : 200);
		al.title = title.ptr;
	}
	zenc__alert_json(&json, &al);

	if (c->store_location &&
	    zenc__store_open(&st, c->store_flavor, c->store_location) < 0) {
		warn_store("open");
		st = NULL;
	}
	if (st && !st->alert_put) {
		zenc__store_free(st);
		st = NULL;
	}
	if (!o->test) {
		key = dedup_key(c->name, &al);
		why = suppress_reason(c, st, &al, key);
	}

	memset(&rec, 0, sizeof(rec));
	rec.id = id;
	rec.created = zenc__now();
	rec.alerter = c->name;
	rec.flavor = c->impl->flavor;
	rec.run_id = al.run_id;
	rec.pipeline = al.pipeline;
	rec.step = al.step;
	rec.event = al.event;
	rec.step_status = al.status;
	rec.error_type = al.error_type;
	rec.title = al.title;
	rec.dedup_key = key;
	rec.status = why ? "suppressed" : "pending";
	rec.alert_json = json.ptr;
	rec.last_error = why ? why : NULL;
	rec.lease_until = why ? 0 : rec.created + budget + 5;
	if (st && st->alert_put(st, &rec) < 0) {
		warn_store("record");
		zenc__store_free(st);
		st = NULL;
	}
	if (why) {
		zenc__info("alert '%s' suppressed (%s)", al.title, why);
		*outcome = ZENC__ALERT_SUPPRESSED;
		goto done;
	}

	budget -= zenc__monotonic() - t0;
	if (budget < 0.2)
		budget = 0.2;
	*outcome = send_tries(c, &al, budget, max_tries, &attempts, &err);
	if (*outcome == ZENC__ALERT_PENDING && o->test)
		*outcome = ZENC__ALERT_FAILED;
	if (st && st->alert_update(
			  st, id, zenc__alert_outcome_name(*outcome), attempts,
			  err.len ? err.ptr : NULL, 0) < 0)
		zenc__warn(
			"could not record the alert's delivery: %s",
			zenc_error_last());
	switch (*outcome) {
	case ZENC__ALERT_DELIVERED:
		break;
	case ZENC__ALERT_PENDING:
		if (st) {
			zenc__warn(
				"alert '%s' not delivered after %d "
				"attempt%s (%s); kept pending for the courier",
				al.title, attempts, attempts == 1 ? "" : "s",
				zenc_buf_cstr(&err));
			/* From a run (a hook, a step), the store's
			 * courier takes it over. */
			if (zenc__ctx_current() &&
			    zenc__courier_kick(
				    c->store_flavor, c->store_location) < 0)
				zenc__warn(
					"no courier for pending alerts: %s",
					zenc_error_last());
			break;
		}
		/* Not kept anywhere: it is lost, and that is an error. */
		rc = zenc__error_set(
			ZENC_EUNREACHABLE,
			"alert not delivered and no outbox: %s",
			zenc_buf_cstr(&err));
		*outcome = ZENC__ALERT_FAILED;
		break;
	default:
		rc = zenc__error_set(
			ZENC_EUNREACHABLE, "%s", zenc_buf_cstr(&err));
		break;
	}
done:
	zenc__store_free(st);
	free(key);
	zenc_buf_release(&json);
	zenc_buf_release(&err);
	zenc_buf_release(&url);
	zenc_buf_release(&title);
	return rc;
}

static int core_post(zenc_alerter *self, const zenc_alert *alert)
{
	zenc__alert_outcome out;

	return zenc__alerter_deliver(self, alert, NULL, &out);
}

int zenc_alerter_post_alert(zenc_alerter *a, const zenc_alert *alert)
{
	zenc_alert copy;

	if (!a) {
		zenc__warn(
			"no alerter; not posting: %s",
			alert && alert->title     ? alert->title
			: alert && alert->message ? alert->message
						  : "");
		return zenc__error_set(ZENC_ENOTFOUND, "no alerter");
	}
	if (!alert || alert->version < 1 || alert->version > ZENC_ALERT_VERSION)
		return zenc__error_set(
			ZENC_EINVALID, "unsupported alert struct version %u",
			alert ? alert->version : 0);
	/* A caller of version 1 passed a shorter struct: the fields it has,
	 * and the rest as ZENC_ALERT_INIT makes them. */
	zenc__alert_copy(&copy, alert);
	if (zenc__alerter_is_wrapped(a))
		return a->post(a, &copy);
	/* A bare flavor object: one attempt, no outbox. */
	copy.id = NULL;
	if (copy.timeout <= 0)
		copy.timeout = ZENC__ALERTER_DEFAULT_TIMEOUT;
	return a->post(a, &copy);
}

int zenc__alerter_post_text(zenc_alerter *a, const char *message)
{
	zenc_alert al = ZENC_ALERT_INIT;

	al.message = message ? message : "";
	al.event = "message";
	return zenc_alerter_post_alert(a, &al);
}

int zenc_alerter_ask(
	zenc_alerter *a,
	const zenc_alert *alert,
	double timeout,
	int *approved_out)
{
	zenc_alert copy;

	if (!a)
		return zenc__error_set(ZENC_ENOTFOUND, "no alerter");
	if (!alert || !approved_out || timeout <= 0)
		return zenc__error_set(
			ZENC_EINVALID, "ask needs an alert, an answer and a "
				       "timeout > 0");
	if (!a->ask || !(a->caps & ZENC_ALERTER_CAP_ASK))
		return zenc__error_set(
			ZENC_ESTATE, "alerter flavor '%s' cannot ask",
			a->flavor);
	zenc__alert_copy(&copy, alert);
	copy.timeout = timeout;
	return a->ask(a, &copy, approved_out);
}

/*
 * The courier's wait before the next try of an alert that is `age`
 * seconds old: about its age, so that the waits double (1, 2, 4 ... s),
 * at least 1 s, at most 60 s in its first hour and 10 min after; "equal
 * jitter" spreads alerts made together.
 */
static double courier_backoff(double age)
{
	double cap = age < 3600 ? 60 : 600, base = age;

	if (base < 1)
		base = 1;
	if (base > cap)
		base = cap;
	base = base / 2 + random_unit() * base / 2;
	return base < 1 ? 1 : base;
}

/*
 * Each pending alert (`courier`: each one that is due) once, through the
 * component that first took it, as configured now.  The courier also
 * gives up on an alert past its alerter's delivery_deadline and
 * schedules the next try of the others.
 */
static int outbox_pass(
	zenc__store *st,
	int courier,
	size_t *delivered,
	size_t *pending,
	size_t *failed)
{
	zenc__alert_list list = {NULL, 0, NULL};
	zenc_alerter *a = NULL;
	const char *a_name = NULL;
	size_t i;
	int rc;

	*delivered = *pending = *failed = 0;
	rc = courier ? st->alerts_due(st, zenc__now(), &list)
		     : st->alerts_pending(st, zenc__now(), &list);
	if (rc < 0)
		return rc;
	for (i = 0; i < list.n; i++) {
		const zenc__alert_record *r = &list.alerts[i];
		zenc__arena *arena = zenc__arena_new();
		zenc_buf err = ZENC_BUF_INIT;
		zenc__alert_outcome out = ZENC__ALERT_FAILED;
		zenc_alert al;
		core_alerter *c = NULL;
		double now = zenc__now(), deadline = 0, next;
		int attempts = r->attempts, claimed = 0;

		if (!a_name || !r->alerter || strcmp(a_name, r->alerter)) {
			zenc_alerter_free(a);
			a = NULL;
			a_name = r->alerter;
			if (r->alerter &&
			    zenc__alerter_for_component(
				    &a, r->alerter, NULL, NULL) < 0)
				a = NULL;
		}
		if (a) {
			c = (core_alerter *)a;
			deadline = r->created + c->o.delivery_deadline;
		}
		if (!a && courier && r->alerter &&
		    now < r->created + ZENC__ALERTER_DEFAULT_DEADLINE) {
			/* The courier runs this program again without its
			 * main(): a flavor the program registers in code is
			 * missing here.  Left to the program's own flush, or
			 * to the default deadline. */
			zenc_buf_puts(&err, zenc_error_last());
			next = now + courier_backoff(now - r->created);
			if (st->alert_next(st, r->id, next) < 0)
				zenc__warn(
					"could not schedule alert '%s': %s",
					r->id, zenc_error_last());
			zenc__info(
				"alert '%s': no alerter (%s); next look in "
				"%.1fs",
				r->id, zenc_buf_cstr(&err), next - now);
			(*pending)++;
			zenc__arena_free(arena);
			zenc_buf_release(&err);
			continue;
		}
		if (!a) {
			zenc_buf_printf(
				&err, "%s",
				r->alerter ? zenc_error_last()
					   : "no alerter recorded");
		} else if (courier && now >= deadline) {
			zenc_buf_printf(
				&err,
				"not delivered within its delivery_deadline "
				"(%gs); last error: %s",
				c->o.delivery_deadline,
				r->last_error ? r->last_error : "none");
		} else if (
			zenc__alert_from_json(&al, r->alert_json, arena) < 0) {
			zenc_buf_printf(
				&err, "unreadable alert record: %s",
				zenc_error_last());
		} else {
			/* The row's id, also for alerts recorded before the
			 * JSON carried it. */
			al.id = r->id;
			if (st->alert_claim(
				    st, r->id, now, now + c->o.timeout + 5,
				    &claimed) < 0 ||
			    !claimed) {
				/* Someone else is sending it. */
				zenc__arena_free(arena);
				zenc_buf_release(&err);
				continue;
			}
			out = send_tries(
				c, &al, c->o.timeout, 1, &attempts, &err);
		}
		if (st->alert_update(
			    st, r->id, zenc__alert_outcome_name(out), attempts,
			    err.len ? err.ptr : NULL, 0) < 0)
			zenc__warn(
				"could not record alert '%s': %s", r->id,
				zenc_error_last());
		if (courier && out == ZENC__ALERT_PENDING) {
			now = zenc__now();
			next = now + courier_backoff(now - r->created);
			if (now + last_retry_after > next)
				next = now + last_retry_after;
			if (next > deadline)
				next = deadline;
			if (st->alert_next(st, r->id, next) < 0)
				zenc__warn(
					"could not schedule alert '%s': %s",
					r->id, zenc_error_last());
			zenc__info(
				"alert '%s' not delivered (%s); next try in "
				"%.1fs",
				r->id, zenc_buf_cstr(&err), next - now);
		} else if (courier) {
			zenc__info(
				"alert '%s' %s%s%s", r->id,
				zenc__alert_outcome_name(out),
				err.len ? ": " : "", zenc_buf_cstr(&err));
		}
		if (out == ZENC__ALERT_DELIVERED)
			(*delivered)++;
		else if (out == ZENC__ALERT_PENDING)
			(*pending)++;
		else
			(*failed)++;
		zenc__arena_free(arena);
		zenc_buf_release(&err);
	}
	zenc_alerter_free(a);
	zenc__alert_list_free(&list);
	return 0;
}

int zenc__alerts_flush(
	zenc__store *st, size_t *delivered, size_t *pending, size_t *failed)
{
	return outbox_pass(st, 0, delivered, pending, failed);
}

int zenc__alerts_courier_pass(
	zenc__store *st, size_t *delivered, size_t *pending, size_t *failed)
{
	if (st->version < 4 || !st->alerts_due || !st->alert_next)
		return zenc__error_set(
			ZENC_ESTATE, "the '%s' store has no courier schedule",
			st->flavor);
	return outbox_pass(st, 1, delivered, pending, failed);
}

/*
 * HTTP.
 */

static zenc__curl_api curl_api;

#define CURL_SYM(m) ZENC__DYNSYM_AS(curl_api, m, "curl_" #m)
static const zenc__dynsym curl_syms[] = {
	CURL_SYM(global_init),    CURL_SYM(easy_init),
	CURL_SYM(easy_setopt),    CURL_SYM(easy_perform),
	CURL_SYM(easy_getinfo),   CURL_SYM(easy_cleanup),
	CURL_SYM(easy_strerror),  CURL_SYM(easy_escape),
	CURL_SYM(free),           CURL_SYM(slist_append),
	CURL_SYM(slist_free_all),
};
#undef CURL_SYM

static zenc__dynlib curl_lib = ZENC__DYNLIB_INIT(
	"libcurl", "libcurl.so.4", "libcurl4", curl_syms, &curl_api);
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_load_once(void)
{
	if (zenc__dynlib_open(&curl_lib) == 0)
		curl_api.global_init(CURL_GLOBAL_DEFAULT);
}

const zenc__curl_api *zenc__curl(void)
{
	pthread_once(&curl_once, curl_load_once);
	if (!curl_lib.handle) {
		no_retry = 1;
		zenc__dynlib_error(&curl_lib, ZENC_EUNREACHABLE);
		return NULL;
	}
	return &curl_api;
}

#define MAX_RESPONSE (1024 * 1024)

static size_t on_body(char *ptr, size_t size, size_t n, void *payload)
{
	zenc_buf *b = payload;
	size_t len = size * n;

	if (b && b->len < MAX_RESPONSE)
		zenc_buf_put(
			b, ptr,
			len < MAX_RESPONSE - b->len ? len
						    : MAX_RESPONSE - b->len);
	return len;
}

int zenc__http_post(const zenc__http_req *req, zenc_buf *resp, long *status)
{
	const zenc__curl_api *c;
	struct curl_slist *hdrs = NULL;
	zenc_buf where = ZENC_BUF_INIT;
	const char *const *h;
	curl_off_t ra = 0;
	CURLcode cc;
	CURL *curl = NULL;
	long ms;
	int rc = 0;

	*status = 0;
	if (!(c = zenc__curl()))
		return ZENC_EUNREACHABLE;
	zenc__url_redact(&where, req->url);
	if (!(curl = c->easy_init())) {
		rc = zenc__error_set(ZENC_ENOMEM, "cannot start libcurl");
		goto done;
	}
	ms = (long)(req->timeout * 1000);
	if (ms < 100)
		ms = 100;
	for (h = req->headers; h && *h; h++)
		hdrs = c->slist_append(hdrs, *h);
	/* No "Expect: 100-continue" round trip. */
	hdrs = c->slist_append(hdrs, "Expect:");
	if (sending_id && !(req->method && !strcmp(req->method, "GET"))) {
		/* The same on every try of one alert: a receiver that got
		 * it already can drop the copy. */
		char idem[80];

		snprintf(idem, sizeof(idem), "Idempotency-Key: %s", sending_id);
		hdrs = c->slist_append(hdrs, idem);
	}
	c->easy_setopt(curl, CURLOPT_URL, req->url);
	c->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	c->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	c->easy_setopt(curl, CURLOPT_TIMEOUT_MS, ms);
	c->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, ms);
	c->easy_setopt(curl, CURLOPT_USERAGENT, "zenc/" ZENC_VERSION);
	c->easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	c->easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	c->easy_setopt(curl, CURLOPT_WRITEDATA, resp);
	if (req->method && !strcmp(req->method, "GET")) {
		c->easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	} else {
		c->easy_setopt(curl, CURLOPT_POST, 1L);
		c->easy_setopt(
			curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		c->easy_setopt(
			curl, CURLOPT_POSTFIELDSIZE_LARGE,
			(curl_off_t)(req->body ? req->body_len : 0));
	}
	cc = c->easy_perform(curl);
	if (cc != CURLE_OK) {
		/* curl_easy_strerror() never quotes the URL; the error
		 * buffer might. */
		rc = zenc__error_set(
			cc == CURLE_OPERATION_TIMEDOUT ? ZENC_ETIMEOUT
						       : ZENC_EUNREACHABLE,
			"cannot post to %s '%s': %s", req->what,
			zenc_buf_cstr(&where), c->easy_strerror(cc));
		goto done;
	}
	c->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	if (*status >= 200 && *status < 300)
		goto done;
	if (*status == 429 || *status == 503) {
		if (c->easy_getinfo(curl, CURLINFO_RETRY_AFTER, &ra) ==
			    CURLE_OK &&
		    ra > 0)
			zenc_alerter_set_retry_after((double)ra);
	}
	/* 408 and 429 ask for a later try; other 4xx never change. */
	rc = zenc__error_set(
		*status == 408 || *status == 429 || *status >= 500
			? ZENC_EUNREACHABLE
			: ZENC_EINVALID,
		"%s '%s' answered HTTP %ld", req->what, zenc_buf_cstr(&where),
		*status);
done:
	c->slist_free_all(hdrs);
	if (curl)
		c->easy_cleanup(curl);
	zenc_buf_release(&where);
	return rc;
}

int zenc__http_post_body(
	const char *url,
	const char *const *headers,
	const zenc_buf *body,
	double timeout,
	const char *what)
{
	zenc__http_req req;
	long status;

	memset(&req, 0, sizeof(req));
	req.url = url;
	req.headers = headers;
	req.body = body->ptr;
	req.body_len = body->len;
	req.timeout = timeout;
	req.what = what;
	return zenc__http_post(&req, NULL, &status);
}
