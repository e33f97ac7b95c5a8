/*
 * Tests for the step cache's pieces that need no store: SHA-256 against
 * the FIPS 180-4 vectors, the default cache setting of a step, and what
 * a cache key covers (engine/cache.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/cache.h"

static void hex_of(const char *data, size_t n, size_t chunk, char out[65])
{
	zenc__sha256 c;
	size_t i;

	zenc__sha256_init(&c);
	for (i = 0; i < n; i += chunk)
		zenc__sha256_update(
			&c, data + i, n - i < chunk ? n - i : chunk);
	zenc__sha256_hex(&c, out);
}

static void test_sha256_vectors(void **state)
{
	const char *two =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char out[65], *million;

	(void)state;
	hex_of("", 0, 1, out);
	assert_string_equal(
		out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7"
		     "852b855");
	hex_of("abc", 3, 1, out);
	assert_string_equal(
		out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f"
		     "20015ad");
	hex_of(two, strlen(two), 7, out);
	assert_string_equal(
		out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd41"
		     "9db06c1");
	million = malloc(1000000);
	assert_non_null(million);
	memset(million, 'a', 1000000);
	hex_of(million, 1000000, 4096, out);
	free(million);
	assert_string_equal(
		out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc"
		     "7112cd0");
}

static int body(zenc_step_context *ctx)
{
	(void)ctx;
	return 0;
}

static void test_default_setting(void **state)
{
	zenc_pipeline *p;
	zenc_step *with, *without;

	(void)state;
	assert_int_equal(zenc_pipeline_new(&p, "p"), 0);
	assert_int_equal(zenc_pipeline_add_step(&with, p, "with", body), 0);
	assert_int_equal(zenc_step_add_output(with, "v", ZENC_INT), 0);
	assert_int_equal(
		zenc_pipeline_add_step(&without, p, "without", body), 0);
	/* A step with outputs may be cached; one without acts on the world. */
	assert_true(zenc__cache_enabled(with));
	assert_false(zenc__cache_enabled(without));
	/* The pipeline's setting applies to steps that set none. */
	assert_int_equal(zenc_pipeline_set_cache(p, true), 0);
	assert_true(zenc__cache_enabled(without));
	assert_int_equal(zenc_pipeline_set_cache(p, false), 0);
	assert_false(zenc__cache_enabled(with));
	/* The step's own wins. */
	assert_int_equal(zenc_step_set_cache(with, true), 0);
	assert_true(zenc__cache_enabled(with));
	assert_int_equal(zenc_step_set_cache_version(with, ""), ZENC_EINVALID);
	assert_int_equal(zenc_step_set_cache_version(with, "v1"), 0);
	assert_int_equal(zenc_step_set_cache_version(with, NULL), 0);
	zenc_pipeline_free(p);
}

/* The key of step 0 of pipeline `p` with parameters `params_json`. */
static char *key_of(zenc_pipeline *p, const char *params_json)
{
	zenc__stepstate ss[2];
	zenc__exec x;
	char *key;

	memset(&x, 0, sizeof(x));
	memset(ss, 0, sizeof(ss));
	x.p = p;
	x.steps = ss;
	ss[0].step = p->steps[0];
	ss[0].params_json = (char *)params_json;
	zenc__cache_key(&x, &ss[0]);
	key = ss[0].cache_key;
	assert_non_null(key);
	assert_int_equal(strlen(key), 64);
	return key;
}

static void test_key_covers(void **state)
{
	zenc_pipeline *p, *q;
	zenc_step *s, *t;
	char *k1, *k2;

	(void)state;
	assert_int_equal(zenc_pipeline_new(&p, "p"), 0);
	assert_int_equal(zenc_pipeline_add_step(&s, p, "s", body), 0);
	assert_int_equal(zenc_pipeline_new(&q, "q"), 0);
	assert_int_equal(zenc_pipeline_add_step(&t, q, "s", body), 0);
	k1 = key_of(p, "{\"a\":1}");
	k2 = key_of(p, "{\"a\":1}");
	assert_string_equal(k1, k2); /* stable: the build id is the same */
	free(k2);
	k2 = key_of(p, "{\"a\":2}"); /* parameters */
	assert_string_not_equal(k1, k2);
	free(k2);
	k2 = key_of(q, "{\"a\":1}"); /* the pipeline's name */
	assert_string_not_equal(k1, k2);
	free(k2);
	assert_int_equal(zenc_step_set_cache_version(s, "v1"), 0);
	k2 = key_of(p, "{\"a\":1}"); /* a version instead of the build id */
	assert_string_not_equal(k1, k2);
	free(k2);
	free(k1);
	zenc_pipeline_free(p);
	zenc_pipeline_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_default_setting),
		cmocka_unit_test(test_key_covers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
