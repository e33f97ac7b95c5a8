/*
 * One failure record and the name tables of statuses and error kinds:
 * every name parses back to its value, the names are those the store has
 * always kept, and a failure copies whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/engine/exec.h"

static void test_status_names(void **state)
{
	int s;

	(void)state;
	assert_string_equal(zenc__status_name(ZENC__STATUS_RUNNING), "running");
	assert_string_equal(
		zenc__status_name(ZENC__STATUS_CANCELLED), "cancelled");
	assert_string_equal(zenc__status_name(ZENC__STATUS_UNKNOWN), "unknown");
	for (s = ZENC__STATUS_PENDING; s <= ZENC__STATUS_TIMEOUT; s++)
		assert_int_equal(
			zenc__status_parse(zenc__status_name((zenc__status)s)),
			s);
	assert_int_equal(zenc__status_parse(NULL), ZENC__STATUS_UNKNOWN);
	assert_int_equal(zenc__status_parse("Running"), ZENC__STATUS_UNKNOWN);
}

static void test_kind_names(void **state)
{
	int k;

	(void)state;
	assert_null(zenc__error_kind_name(ZENC__EK_NONE));
	assert_null(zenc__error_kind_name(ZENC__EK_USER));
	assert_string_equal(
		zenc__error_kind_name(ZENC__EK_CANCELLED), "Cancelled");
	for (k = ZENC__EK_ERROR; k <= ZENC__EK_OUTPUT_TYPE_ERROR; k++)
		assert_int_equal(
			zenc__error_kind_parse(
				zenc__error_kind_name((zenc__error_kind)k)),
			k);
	assert_int_equal(zenc__error_kind_parse(NULL), ZENC__EK_NONE);
	assert_int_equal(zenc__error_kind_parse("ValueError"), ZENC__EK_USER);
}

static void test_failure_copy(void **state)
{
	zenc__failure a = {0}, b = {0};
	zenc_exception exc;

	(void)state;
	zenc__failure_kind(&a, ZENC__EK_SIGNAL, "killed by SIGSEGV", 0, 11, 2);
	zenc__failure_copy(&b, &a);
	zenc__failure_release(&a);
	assert_int_equal(b.kind, ZENC__EK_SIGNAL);
	assert_string_equal(b.type, "Signal");
	zenc__failure_exception(&b, &exc);
	assert_string_equal(exc.message, "killed by SIGSEGV");
	assert_int_equal(exc.signal, 11);
	assert_int_equal(exc.attempt, 2);
	zenc__failure_set(&b, "ValueError", NULL, 3, 0, 1);
	assert_int_equal(b.kind, ZENC__EK_USER);
	zenc__failure_exception(&b, &exc);
	assert_string_equal(exc.type, "ValueError");
	assert_string_equal(exc.message, "");
	assert_int_equal(exc.exit_code, 3);
	zenc__failure_release(&b);
	assert_null(b.type);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_failure_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
