/*
 * The orchestrator table and the contract of its structs: every entry is
 * a version this library knows, names a flavor, and places attempts either
 * on this machine (start, reap, kill) or a whole run elsewhere (run, join).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/orchestrators/orchestrator.h"

static void check_contract(const zenc__orchestrator *o)
{
	int here, elsewhere;

	assert_non_null(o);
	assert_int_equal(o->version, ZENC__ORCHESTRATOR_VERSION);
	assert_non_null(o->name);
	here = o->start && o->reap && o->kill;
	elsewhere = o->run && o->join;
	assert_true(here || elsewhere);
	/* Half a placement on this machine is a bug, not an option. */
	assert_true(here || (!o->start && !o->reap && !o->kill));
}

static void test_flavors(void **state)
{
	(void)state;
	assert_ptr_equal(
		zenc__orchestrator_for("local"), &zenc__orchestrator_local);
	assert_ptr_equal(
		zenc__orchestrator_for("slurm"), &zenc__orchestrator_slurm);
	assert_string_equal(zenc__orchestrator_for("slurm")->name, "slurm");
}

static void test_default_is_local(void **state)
{
	(void)state;
	/* A stack without an orchestrator, or with a flavor this build
	 * does not know, runs on this machine. */
	assert_ptr_equal(
		zenc__orchestrator_for(NULL), &zenc__orchestrator_local);
	assert_ptr_equal(
		zenc__orchestrator_for("no-such-flavor"),
		&zenc__orchestrator_local);
}

static void test_contracts(void **state)
{
	(void)state;
	check_contract(&zenc__orchestrator_local);
	check_contract(&zenc__orchestrator_slurm);
	/* The local one places here; Slurm places elsewhere and can cancel
	 * what it placed. */
	assert_non_null(zenc__orchestrator_local.start);
	assert_null(zenc__orchestrator_local.run);
	assert_null(zenc__orchestrator_slurm.start);
	assert_non_null(zenc__orchestrator_slurm.cancel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flavors),
		cmocka_unit_test(test_default_is_local),
		cmocka_unit_test(test_contracts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
