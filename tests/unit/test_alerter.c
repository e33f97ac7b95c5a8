/*
 * The alerter core with a fake flavor that counts calls: retries and
 * backoff, Retry-After, the time budget, permanent failures, the outbox
 * records, dedup; and the JSON and URL helpers the flavors share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/alerters/alerter.h"
#include "lib/stores/store.h"

/* The fake: answers from a script of return codes, then 0. */
typedef struct fake {
	zenc_alerter base;
	int calls;
	const int *script;
	size_t n;
	double retry_after;
	double last_timeout;
} fake;

static int fake_post(zenc_alerter *self, const zenc_alert *al)
{
	fake *f = (fake *)self;
	int rc = 0;

	f->last_timeout = al->timeout;
	if ((size_t)f->calls < f->n)
		rc = f->script[f->calls];
	f->calls++;
	if (rc == ZENC_EUNREACHABLE && f->retry_after > 0)
		zenc_alerter_set_retry_after(f->retry_after);
	if (rc)
		return zenc__error_set(rc, "fake says %d", rc);
	return 0;
}

static void fake_free(zenc_alerter *self)
{
	(void)self; /* on the test's stack */
}

static void fake_init(fake *f, const int *script, size_t n)
{
	memset(f, 0, sizeof(*f));
	f->base.version = ZENC_ALERTER_VERSION;
	f->base.flavor = "fake";
	f->base.post = fake_post;
	f->base.free = fake_free;
	f->script = script;
	f->n = n;
}

struct fixture {
	char *dir;
	char *db;
};

static int setup(void **state)
{
	const char *base = getenv("ZENC_TEST_TMP");
	struct fixture *fx = zenc__calloc(1, sizeof(*fx));

	if (!base || !*base)
		base = "/tmp";
	zenc__mkdir_p(base, 0755);
	fx->dir = zenc__asprintf("%s/test_alerter.XXXXXX", base);
	if (!mkdtemp(fx->dir))
		return -1;
	fx->db = zenc__asprintf("%s/zenc.db", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char *cmd = zenc__asprintf("rm -rf '%s'", fx->dir);

	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", fx->dir);
	free(cmd);
	free(fx->db);
	free(fx->dir);
	free(fx);
	return 0;
}

static zenc_alert failure_alert(void)
{
	zenc_alert al = ZENC_ALERT_INIT;

	al.title = "Step s of pipeline p failed";
	al.message = "it broke";
	al.pipeline = "p";
	al.step = "s";
	al.run_id = "00000000-0000-4000-8000-000000000001";
	al.status = "failed";
	al.error_type = "ValueError";
	al.error_message = "boom";
	al.event = "on_failure";
	return al;
}

static void only_alert(struct fixture *fx, zenc__alert_list *list)
{
	zenc__store *st;

	assert_int_equal(zenc__store_open(&st, "sqlite", fx->db), 0);
	assert_int_equal(st->alerts_list(st, NULL, 0, list), 0);
	zenc__store_free(st);
}

static void test_retries_until_delivered(void **state)
{
	static const int script[] = {ZENC_EUNREACHABLE, ZENC_EUNREACHABLE};
	struct fixture *fx = *state;
	zenc__deliver_opts o = {10, 5, 0};
	zenc__alert_outcome out;
	zenc__alert_list list;
	zenc_alert al = failure_alert();
	zenc_alerter *a;
	fake f;

	fake_init(&f, script, 2);
	assert_int_equal(
		zenc__alerter_wrap(&a, &f.base, "fk", NULL, "sqlite", fx->db),
		0);
	assert_true(zenc__alerter_is_wrapped(a));
	assert_int_equal(zenc__alerter_deliver(a, &al, &o, &out), 0);
	assert_int_equal(out, ZENC__ALERT_DELIVERED);
	assert_int_equal(f.calls, 3);
	/* Each attempt is bounded by the alerter's timeout (default). */
	assert_true(f.last_timeout <= ZENC__ALERTER_DEFAULT_TIMEOUT);
	only_alert(fx, &list);
	assert_int_equal(list.n, 1);
	assert_string_equal(list.alerts[0].status, "delivered");
	assert_int_equal(list.alerts[0].attempts, 3);
	assert_string_equal(list.alerts[0].alerter, "fk");
	/* The error of the attempts before is kept, for the record. */
	assert_non_null(strstr(list.alerts[0].last_error, "fake says"));
	assert_non_null(strstr(list.alerts[0].alert_json, "\"boom\""));
	zenc__alert_list_free(&list);
	zenc_alerter_free(a);
}

static void test_permanent_failure_is_not_retried(void **state)
{
	static const int script[] = {ZENC_EINVALID};
	struct fixture *fx = *state;
	zenc__deliver_opts o = {10, 5, 0};
	zenc__alert_outcome out;
	zenc__alert_list list;
	zenc_alert al = failure_alert();
	zenc_alerter *a;
	fake f;

	fake_init(&f, script, 1);
	zenc__alerter_wrap(&a, &f.base, "fk", NULL, "sqlite", fx->db);
	assert_true(zenc__alerter_deliver(a, &al, &o, &out) < 0);
	assert_int_equal(out, ZENC__ALERT_FAILED);
	assert_int_equal(f.calls, 1);
	only_alert(fx, &list);
	assert_string_equal(list.alerts[0].status, "failed");
	assert_non_null(strstr(list.alerts[0].last_error, "fake says"));
	zenc__alert_list_free(&list);
	zenc_alerter_free(a);
}

static void test_budget_leaves_it_pending(void **state)
{
	static const int script[] = {ZENC_EUNREACHABLE, ZENC_EUNREACHABLE,
				     ZENC_EUNREACHABLE, ZENC_EUNREACHABLE,
				     ZENC_EUNREACHABLE, ZENC_EUNREACHABLE};
	struct fixture *fx = *state;
	zenc__deliver_opts o = {1.0, 6, 0};
	zenc__alert_outcome out;
	zenc__alert_list list;
	zenc_alert al = failure_alert();
	zenc_alerter *a;
	double t0;
	fake f;

	fake_init(&f, script, 6);
	zenc__alerter_wrap(&a, &f.base, "fk", NULL, "sqlite", fx->db);
	t0 = zenc__monotonic();
	/* Queued counts as posted: nothing is lost. */
	assert_int_equal(zenc__alerter_deliver(a, &al, &o, &out), 0);
	assert_true(zenc__monotonic() - t0 < 1.2);
	assert_int_equal(out, ZENC__ALERT_PENDING);
	assert_true(f.calls >= 2 && f.calls < 6);
	only_alert(fx, &list);
	assert_string_equal(list.alerts[0].status, "pending");
	assert_int_equal(list.alerts[0].attempts, f.calls);
	zenc__alert_list_free(&list);
	zenc_alerter_free(a);
}

static void test_retry_after_is_honoured(void **state)
{
	static const int script[] = {ZENC_EUNREACHABLE};
	struct fixture *fx = *state;
	zenc__deliver_opts o = {10, 5, 0};
	zenc__alert_outcome out;
	zenc_alert al = failure_alert();
	zenc_alerter *a;
	double t0;
	fake f;

	fake_init(&f, script, 1);
	f.retry_after = 0.6;
	zenc__alerter_wrap(&a, &f.base, "fk", NULL, "sqlite", fx->db);
	t0 = zenc__monotonic();
	assert_int_equal(zenc__alerter_deliver(a, &al, &o, &out), 0);
	assert_true(zenc__monotonic() - t0 >= 0.6);
	assert_int_equal(out, ZENC__ALERT_DELIVERED);
	assert_int_equal(f.calls, 2);
	zenc_alerter_free(a);
}

static void test_dedup_window(void **state)
{
	struct fixture *fx = *state;
	zenc__alerter_opts opts = {10, 3600, 0, NULL, 0};
	zenc__deliver_opts o = {10, 5, 0};
	zenc__alert_outcome out;
	zenc__alert_list list;
	zenc_alert al = failure_alert();
	zenc_alerter *a;
	fake f;

	fake_init(&f, NULL, 0);
	zenc__alerter_wrap(&a, &f.base, "fk", &opts, "sqlite", fx->db);
	assert_int_equal(zenc__alerter_deliver(a, &al, &o, &out), 0);
	assert_int_equal(out, ZENC__ALERT_DELIVERED);
	assert_int_equal(zenc__alerter_deliver(a, &al, &o, &out), 0);
	assert_int_equal(out, ZENC__ALERT_SUPPRESSED);
	al.error_type = "OtherError";
	assert_int_equal(zenc__alerter_deliver(a, &al, &o, &out), 0);
	assert_int_equal(out, ZENC__ALERT_DELIVERED);
	assert_int_equal(f.calls, 2);
	only_alert(fx, &list);
	assert_int_equal(list.n, 3);
	zenc__alert_list_free(&list);
	zenc_alerter_free(a);
}

static void test_dashboard_link(void **state)
{
	struct fixture *fx = *state;
	zenc__alerter_opts opts = {10, 0, 0, "http://dash.example/", 0};
	zenc__deliver_opts o = {10, 5, 0};
	zenc__alert_outcome out;
	zenc__alert_list list;
	zenc_alert al = failure_alert();
	zenc_alerter *a;
	fake f;

	fake_init(&f, NULL, 0);
	zenc__alerter_wrap(&a, &f.base, "fk", &opts, "sqlite", fx->db);
	assert_int_equal(zenc__alerter_deliver(a, &al, &o, &out), 0);
	only_alert(fx, &list);
	assert_non_null(
		strstr(list.alerts[0].alert_json,
		       "\"url\":\"http://dash.example/runs/"
		       "00000000-0000-4000-8000-000000000001\""));
	zenc__alert_list_free(&list);
	zenc_alerter_free(a);
}

static void test_alert_json_roundtrip(void **state)
{
	zenc__arena *arena = zenc__arena_new();
	zenc_alert_field fields[] = {{"lr", "0.5"}, {"k\"q", "v\nw"}};
	zenc_alert al = failure_alert(), back;
	zenc_buf b = ZENC_BUF_INIT;

	(void)state;
	al.error_message =
		"quote \" back \\ nl \n caf\xc3\xa9 \xf0\x9f\x98\x80";
	al.fields = fields;
	al.n_fields = 2;
	al.params_json = "{\"lr\":0.5}";
	al.attempt = 2;
	al.signal = 9;
	zenc__alert_json(&b, &al);
	assert_true(zenc__json_valid(b.ptr));
	assert_int_equal(zenc__alert_from_json(&back, b.ptr, arena), 0);
	assert_string_equal(back.error_message, al.error_message);
	assert_string_equal(back.pipeline, "p");
	assert_int_equal(back.attempt, 2);
	assert_int_equal(back.signal, 9);
	assert_int_equal(back.n_fields, 2);
	assert_string_equal(back.fields[1].key, "k\"q");
	assert_string_equal(back.fields[1].value, "v\nw");
	assert_string_equal(back.params_json, "{\"lr\":0.5}");
	zenc_buf_release(&b);
	/* Invalid UTF-8 becomes U+FFFD, so the JSON stays valid. */
	zenc__json_utf8(
		&b, "a\xff"
		    "b\xc3");
	assert_string_equal(b.ptr, "\"a\\ufffdb\\ufffd\"");
	zenc_buf_release(&b);
	zenc__arena_free(arena);
}

static void test_json_parser(void **state)
{
	json_t *v;

	(void)state;
	assert_int_equal(
		zenc__json_parse(
			&v, " {\"a\": [1, true, null],"
			    " \"b\": \"\\u00e9\\ud83d\\ude00\"}"),
		0);
	assert_int_equal(json_array_size(json_object_get(v, "a")), 3);
	assert_string_equal(
		zenc__json_get_str(v, "b"), "\xc3\xa9\xf0\x9f\x98\x80");
	json_decref(v);
	assert_int_equal(zenc__json_parse(&v, "{\"a\": 1,}"), ZENC_EINVALID);
	assert_int_equal(zenc__json_parse(&v, "{\"secret\" 1}"), ZENC_EINVALID);
	assert_null(strstr(zenc_error_last(), "secret"));
	/* A key given twice could be checked in one value and used in
	 * the other. */
	assert_int_equal(
		zenc__json_parse(&v, "{\"a\": 1, \"a\": 2}"), ZENC_EINVALID);
	assert_true(zenc__json_valid("7"));
	assert_false(zenc__json_valid(NULL));
	/* A step's error may hold any bytes: written, not refused. */
	v = zenc__json_str("a\xff"
			   "b");
	assert_string_equal(
		json_string_value(v), "a\xef\xbf\xbd"
				      "b");
	json_decref(v);
}

static void test_url_redact(void **state)
{
	zenc_buf b = ZENC_BUF_INIT;

	(void)state;
	zenc__url_redact(&b, "https://hooks.slack.com/services/T/B/SECRET");
	assert_string_equal(b.ptr, "https://hooks.slack.com");
	zenc_buf_clear(&b);
	zenc__url_redact(&b, "http://user:pw@127.0.0.1:8080?token=x");
	assert_string_equal(b.ptr, "http://127.0.0.1:8080");
	zenc_buf_release(&b);
}

static void test_flavor_configs(void **state)
{
	const char *k1[] = {"url", "bogus"}, *v1[] = {"http://x/", "1"};
	const char *k2[] = {"channel"}, *v2[] = {"#x"};
	const char *k3[] = {"url", "timeout"}, *v3[] = {"http://x/", "soon"};
	zenc_alerter *a;

	(void)state;
	assert_int_equal(
		zenc_alerter_new(&a, "webhook", k1, v1, 2), ZENC_EINVALID);
	assert_non_null(strstr(zenc_error_last(), "unknown config key"));
	assert_int_equal(
		zenc_alerter_new(&a, "slack", k2, v2, 1), ZENC_EINVALID);
	assert_int_equal(
		zenc_alerter_new(&a, "webhook", k3, v3, 2), ZENC_EINVALID);
	assert_int_equal(
		zenc_alerter_new(&a, "nope", NULL, NULL, 0), ZENC_ENOTFOUND);
	assert_int_equal(zenc_alerter_new(&a, "log", NULL, NULL, 0), 0);
	assert_string_equal(a->flavor, "log");
	assert_int_equal(zenc_alerter_ask(a, NULL, 1, NULL), ZENC_EINVALID);
	zenc_alerter_free(a);
	assert_int_equal(zenc_alerter_post(NULL, "x"), ZENC_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_retries_until_delivered, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_permanent_failure_is_not_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_budget_leaves_it_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_retry_after_is_honoured, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_dedup_window, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_dashboard_link, setup, teardown),
		cmocka_unit_test(test_alert_json_roundtrip),
		cmocka_unit_test(test_json_parser),
		cmocka_unit_test(test_url_redact),
		cmocka_unit_test(test_flavor_configs),
	};

	zenc_log_set(ZENC_LOG_NONE, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
