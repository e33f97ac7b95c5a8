#!/bin/sh
# shellcheck disable=SC2016,SC2317 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# The test library itself: each helper passes what it should and fails
# what it should, and a script's failing test is reported and fails it.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# exit_status CMD...: prints CMD's exit status; CMD's standard output goes
# to ./out and its standard error to ./err.
exit_status () {
	if "$@" >out 2>err; then
		echo 0
	else
		echo $?
	fi
}

# Runs a script that sources lib.sh, with its own temp root under $TMP.
# run_inner NAME BODY: writes $TMP/inner/NAME.sh, runs it, leaves its
# output in NAME.out and its exit status in NAME.rc.
run_inner () {
	mkdir -p "$TMP/inner"
	{
		echo '. "$ZENC_SOURCE/tests/e2e/lib.sh"'
		printf '%s\n' "$2"
	} >"$TMP/inner/$1.sh"
	if ZENC_TEST_TMP="$TMP/inner-tmp" /bin/sh "$TMP/inner/$1.sh" \
		>"$1.out" 2>&1; then
		echo 0 >"$1.rc"
	else
		echo $? >"$1.rc"
	fi
}

test_expect_success 'the environment is set up' '
	test "$(pwd)" = "$TMP" &&
	test "$ZENC_HOME" = "$TMP/home" &&
	test "$ZENC_DATA" = "$TMP/data" &&
	test "$HOME" = "$TMP/user" &&
	test "$NO_COLOR" = 1 &&
	test "$ZENC" = "$ZENC_BUILD/zenc" &&
	test "$PROGRAMS" = "$ZENC_BUILD/tests/programs" &&
	test "$EXAMPLES" = "$ZENC_BUILD/examples" &&
	test -f "$ZENC_SOURCE/tests/e2e/lib.sh" &&
	test "$(env | grep -c "^ZENC_HOME=$TMP/home\$")" = 1
'

test_expect_success 'test_cmp passes equal files and fails different ones' '
	printf "a\nb\n" >expect &&
	printf "a\nb\n" >same &&
	printf "a\nc\n" >other &&
	test_cmp expect same &&
	test "$(exit_status test_cmp expect other)" = 1 &&
	grep "^-b\$" out &&
	grep "^+c\$" out
'

test_expect_success 'test_must_fail passes an ordinary failure' '
	test_must_fail false &&
	test_must_fail sh -c "exit 3"
'

test_expect_success 'test_must_fail fails a success' '
	test "$(exit_status test_must_fail true)" = 1 &&
	grep "command succeeded" err
'

test_expect_success 'test_must_fail fails a command killed by a signal' '
	test "$(exit_status test_must_fail sh -c "kill -SEGV \$\$")" = 1 &&
	grep "died of signal 11" err &&
	test "$(exit_status test_must_fail sh -c "kill -KILL \$\$")" = 1 &&
	grep "died of signal 9" err
'

test_expect_success 'test_must_fail fails a command that is not there' '
	test "$(exit_status test_must_fail ./no-such-program)" = 1 &&
	grep "not found" err
'

test_expect_success 'test_must_fail fails a sanitizer or valgrind error' '
	test "$(ZENC_VALGRIND=1 exit_status test_must_fail sh -c "exit 99")" = 1 &&
	grep "valgrind error" err &&
	test "$(UBSAN_OPTIONS=x exit_status test_must_fail sh -c "exit 98")" = 1 &&
	grep "sanitizer error" err
'

test_expect_success 'test_expect_code' '
	test_expect_code 3 sh -c "exit 3" &&
	test_expect_code 0 true &&
	test "$(exit_status test_expect_code 2 sh -c "exit 3")" = 1 &&
	grep "exited 3, want 2" err
'

test_expect_success 'test_grep' '
	printf "alpha\nbeta\n" >file &&
	test_grep "^beta\$" file &&
	test_grep -F "a" file &&
	test_grep ! gamma file &&
	test "$(exit_status test_grep gamma file)" = 1 &&
	grep "^| alpha\$" err &&
	test "$(exit_status test_grep ! beta file)" = 1 &&
	test "$(exit_status test_grep ! beta missing-file)" = 1
'

test_expect_success 'test_json evaluates an expression over the file' '
	cat >run.json <<-\EOF &&
	{"status": "failed", "steps": [{"name": "a"}, {"name": "b"}],
	 "cached": false, "error": null, "n": 3}
	EOF
	test "$(test_json run.json "d[\"status\"]")" = failed &&
	test "$(test_json run.json "len(d[\"steps\"])")" = 2 &&
	test "$(test_json run.json "[s[\"name\"] for s in d[\"steps\"]]")" = "[\"a\", \"b\"]" &&
	test "$(test_json run.json "d[\"cached\"]")" = false &&
	test "$(test_json run.json "d[\"error\"]")" = null &&
	test "$(test_json - "d[\"n\"] + 1" <run.json)" = 4
'

test_expect_success 'test_json fails a missing key and a bad file' '
	echo "{\"a\": 1}" >a.json &&
	echo "{\"a\": " >bad.json &&
	test "$(exit_status test_json a.json "d[\"b\"]")" = 1 &&
	grep KeyError err &&
	test_must_fail test_json bad.json "d" &&
	test_must_fail test_json no-such.json "d"
'

test_expect_success 'test_free_port gives a port that can be bound' '
	port=$(test_free_port) &&
	test "$port" -gt 0 && test "$port" -lt 65536 &&
	/usr/bin/python3 -c "
import socket, sys
s = socket.socket()
s.bind((\"127.0.0.1\", int(sys.argv[1])))
" "$port"
'

test_expect_success 'run_valgrind runs the command as is without ZENC_VALGRIND' '
	unset ZENC_VALGRIND &&
	test_expect_code 3 run_valgrind sh -c "exit 3" &&
	test "$(run_valgrind echo hi)" = hi
'

if command -v valgrind >/dev/null && command -v cc >/dev/null; then
	test_expect_success 'run_valgrind with ZENC_VALGRIND=1 fails a leak' '
		cat >leak.c <<-\EOF &&
		#include <stdlib.h>
		#include <stdio.h>
		static void *keep;
		int main(int argc, char **argv)
		{
			char *p = malloc(64);
			(void)argv;
			p[0] = 0;
			if (argc > 1)
				keep = p; /* reachable, not a definite leak */
			p = NULL;
			puts("done");
			return 0;
		}
		EOF
		cc -g -O0 -o leak leak.c &&
		ZENC_VALGRIND=1 run_valgrind ./leak keep >out 2>err &&
		test_grep done out &&
		test "$(ZENC_VALGRIND=1 exit_status run_valgrind ./leak)" = 99 &&
		test_grep "definitely lost" err
	'
else
	test_skip 'run_valgrind with ZENC_VALGRIND=1 fails a leak' \
		'valgrind or cc is missing'
fi

test_expect_success 'a script reports passing and failing tests' '
	run_inner t9001-mixed "
test_expect_success \"first passes\" \"true\"
test_expect_success \"second fails\" \"echo some-output; false\"
test_expect_success \"third passes\" \"true && true\"
test_done
" &&
	test "$(cat t9001-mixed.rc)" = 1 &&
	test_grep "^ok 1 - first passes\$" t9001-mixed.out &&
	test_grep "^#   echo some-output; false\$" t9001-mixed.out &&
	test_grep "^not ok 2 - second fails\$" t9001-mixed.out &&
	test_grep "^#   some-output\$" t9001-mixed.out &&
	test_grep "^ok 3 - third passes\$" t9001-mixed.out &&
	test_grep "^1\.\.3\$" t9001-mixed.out &&
	test "$(tail -n 1 t9001-mixed.out)" = "# passed 2 of 3"
'

test_expect_success 'a script whose tests all pass exits 0' '
	run_inner t9002-pass "
test_expect_success \"one\" \"true\"
test_done
" &&
	test "$(cat t9002-pass.rc)" = 0 &&
	test "$(tail -n 1 t9002-pass.out)" = "# passed 1 of 1" &&
	test_must_fail test -d "$TMP/inner-tmp/t9002-pass"
'

test_expect_success 'a test body runs with set -e, not only && chains' '
	run_inner t9003-set-e "
test_expect_success \"stops at false\" \"
	false
	echo not-reached >reached
\"
test_expect_success \"unset variable\" \"echo \\\$no_such_variable\"
test_done
" &&
	test "$(cat t9003-set-e.rc)" = 1 &&
	test_grep "^not ok 1 - stops at false\$" t9003-set-e.out &&
	test_grep "^not ok 2 - unset variable\$" t9003-set-e.out &&
	test_must_fail test -e "$TMP/inner-tmp/t9003-set-e/reached"
'

test_expect_success 'a script that ends before test_done fails' '
	run_inner t9004-no-done "
test_expect_success \"one\" \"true\"
" &&
	test "$(cat t9004-no-done.rc)" = 1 &&
	test_grep "before test_done" t9004-no-done.out
'

test_expect_success 'registered pids are killed when the script exits' '
	run_inner t9005-pids "
test_expect_success \"start a service\" \"
	sleep 300 &
	echo \\\$! >\\\"$TMP/sleep.pid\\\"
	test_register_pid \\\$!
\"
test_done
" &&
	test "$(cat t9005-pids.rc)" = 0 &&
	pid=$(cat sleep.pid) &&
	test -n "$pid" &&
	state=$(sed "s/.*) //" "/proc/$pid/stat" 2>/dev/null | cut -d" " -f1) || : &&
	test "${state:-gone}" = gone || test "$state" = Z
'

test_expect_success 'a process a failed test left behind is stopped at the end' '
	run_inner t9008-strays "
test_expect_success \"fails before it waits\" \"
	sleep 300 &
	echo \\\$! >\\\"$TMP/stray.pid\\\"
	false
\"
test_done
" &&
	test "$(cat t9008-strays.rc)" = 1 &&
	test_grep "^# stopping a process left running: [0-9]* sleep 300" t9008-strays.out &&
	pid=$(cat stray.pid) &&
	test -n "$pid" &&
	state=$(sed "s/.*) //" "/proc/$pid/stat" 2>/dev/null | cut -d" " -f1) || : &&
	test "${state:-gone}" = gone || test "$state" = Z
'

test_expect_success 'test_at_exit runs before pids are killed; registered dirs go' '
	mkdir -p "$TMP/outside" &&
	run_inner t9009-atexit "
test_register_dir \"$TMP/outside\"
sleep 300 &
test_register_pid \$!
test_at_exit \"kill -0 \$! && echo alive >\\\"$TMP/atexit.out\\\"\"
test_expect_success \"one\" \"true\"
test_done
" &&
	test "$(cat t9009-atexit.rc)" = 0 &&
	test "$(cat atexit.out)" = alive &&
	test_must_fail test -e "$TMP/outside"
'

cat >asan-leak.c <<\EOF
#include <stdlib.h>
int main(void)
{
	char *volatile p = malloc(64);
	p[0] = 0;
	p = NULL;
	return 0;
}
EOF
if cc -g -fsanitize=address -o asan-leak asan-leak.c 2>/dev/null; then
	test_expect_success 'a sanitizer report from any process fails the test' '
		export ASAN_OPTIONS=detect_leaks=1 &&
		run_inner t9007-asan "
test_expect_success \"clean\" \"true\"
test_expect_success \"leak, status ignored\" \"$TMP/asan-leak || true\"
test_done
" &&
		test "$(cat t9007-asan.rc)" = 1 &&
		test_grep "^ok 1 - clean\$" t9007-asan.out &&
		test_grep "^not ok 2 - leak, status ignored\$" t9007-asan.out &&
		test_grep "^#   sanitizer report asan\." t9007-asan.out &&
		test_grep "LeakSanitizer: detected memory leaks" t9007-asan.out
	'
else
	test_skip 'a sanitizer report from any process fails the test' \
		'cc cannot build with -fsanitize=address'
fi

test_expect_success 'test_skip_all exits 77' '
	run_inner t9006-skip "test_skip_all \"no service here\"" &&
	test "$(cat t9006-skip.rc)" = 77 &&
	test_grep "^1\.\.0 # SKIP no service here\$" t9006-skip.out
'

test_expect_success 'no test script puts a whole AND-list in the background' '
	printf "%s\n" "test_expect_success x \"" ": >log &&" \
		"sleep 1 &" "\"" >bg-sample.sh &&
	test_must_fail python3 "$ZENC_SOURCE/tests/lint/background-lists.py" \
		bg-sample.sh >bg-sample.out &&
	test_grep "bg-sample.sh:3: backgrounds the list above it" bg-sample.out &&
	python3 "$ZENC_SOURCE/tests/lint/background-lists.py" \
		"$ZENC_SOURCE"/tests/e2e/*.sh "$ZENC_SOURCE"/tests/chaos/*.sh
'

test_done
