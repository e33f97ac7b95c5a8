#!/bin/sh
# The whole test suite, as CI runs it (.ci/run).
# Usage: scripts/test.sh
#
# Installs what the suite needs, then builds twice and runs ctest in each:
#   build/ci-plain   -DZENC_WERROR=ON
#   build/ci-asan    -DZENC_WERROR=ON -DZENC_SANITIZE=ON (ASan + UBSan)
# and, in build/ci-plain, the tests labelled "valgrind" (a line
# "# ctest-labels: valgrind" in an e2e script) again with ZENC_VALGRIND=1.
# The output ends with the summary of the last ctest run, then every test
# or script that was skipped in any pass, with its reason; the exit status
# is non-zero if any build or any run failed.  With CI=true (as CI sets
# it), the dashboard's browser test fails rather than skips when no
# browser is there.
# JOBS sets the parallelism of builds and tests (default 2).
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
jobs=${JOBS:-2}
plain=$root/build/ci-plain
asan=$root/build/ci-asan
failed=

stage () {
	printf '\n==== %s\n' "$*"
}

# run_ctest DIR PASS [CTEST-ARG]...: ctest in DIR, with the environment as
# set; its full log is kept as DIR/Testing/ctest-PASS.log (for the skips).
# A test that fails is run once more (--repeat until-pass:2): one that
# then passes counts as passed, and is named after the last summary as
# flaky (a bug to find, not a pass to forget); one that fails twice fails.
run_ctest () {
	rc_dir=$1
	rc_pass=$2
	shift 2
	rc_status=$rc_dir/Testing/ctest-$rc_pass.status
	mkdir -p "$rc_dir/Testing"
	{
		(cd "$rc_dir" && ctest --output-on-failure -j "$jobs" \
			--timeout 300 --no-tests=error \
			--repeat until-pass:2 "$@")
		echo $? >"$rc_status"
	} | tee "$rc_dir/Testing/ctest-$rc_pass.out"
	rc_rc=$(cat "$rc_status" 2>/dev/null || echo 1)
	cp "$rc_dir/Testing/Temporary/LastTest.log" \
		"$rc_dir/Testing/ctest-$rc_pass.log" 2>/dev/null
	return "$rc_rc"
}

# print_flaky: the tests that failed once and then passed, per pass.
print_flaky () {
	flaky=$(for l in "plain:$plain" "valgrind:$plain" "asan:$asan"; do
		out=${l#*:}/Testing/ctest-${l%%:*}.out
		[ -f "$out" ] || continue
		awk -v pass="${l%%:*}" '
			/ Test +#[0-9]+: / {
				name = $0
				sub(/^.* Test +#[0-9]+: /, "", name)
				sub(/ .*$/, "", name)
				if ($0 ~ /\*\*\*(Failed|Timeout)|Exception/)
					failed[name] = 1
				else if ($0 ~ / Passed /)
					passed[name] = 1
			}
			END {
				for (t in failed)
					if (t in passed)
						printf "  %s (%s)\n", t, pass
			}' "$out"
	done)
	if [ -n "$flaky" ]; then
		echo
		echo "test.sh: failed once, passed when run again (flaky):"
		printf '%s\n' "$flaky"
	fi
}

# print_skips: every "# SKIP" line of the kept logs, with its test.
print_skips () {
	logs="plain:$plain/Testing/ctest-plain.log"
	logs="$logs valgrind:$plain/Testing/ctest-valgrind.log"
	logs="$logs asan:$asan/Testing/ctest-asan.log"
	skips=$(for l in $logs; do
		awk -v pass="${l%%:*}" '
			/^[0-9]+\/[0-9]+ Testing: / { test = $3 }
			/# SKIP/ {
				sub(/^.*# SKIP */, "")
				printf "  %s (%s): %s\n", test, pass, $0
			}' "${l#*:}" 2>/dev/null
	done)
	if [ -n "$skips" ]; then
		echo
		echo "test.sh: skipped:"
		printf '%s\n' "$skips"
	else
		echo
		echo "test.sh: nothing was skipped"
	fi
}

stage "installing dependencies"
rm -f "$plain"/Testing/ctest-* "$asan"/Testing/ctest-*
if ! sh scripts/install-deps.sh --test; then
	echo "test.sh: scripts/install-deps.sh --test failed" >&2
	exit 3
fi

stage "building $plain"
plain_ok=1
BUILD_DIR=$plain JOBS=$jobs sh scripts/build.sh -DZENC_WERROR=ON ||
	{ plain_ok=; failed="$failed build-plain"; }

stage "building $asan"
asan_ok=1
BUILD_DIR=$asan JOBS=$jobs sh scripts/build.sh -DZENC_WERROR=ON \
	-DZENC_SANITIZE=ON || { asan_ok=; failed="$failed build-asan"; }

# What runs, in order; the last one's summary ends the output.
runs=
[ -z "$plain_ok" ] || runs="$runs plain"
nvalgrind=0
if [ -n "$plain_ok" ]; then
	nvalgrind=$(cd "$plain" && ctest -N -L valgrind |
		sed -n 's/^Total Tests: *\([0-9]*\).*/\1/p')
	[ "${nvalgrind:-0}" -gt 0 ] && runs="$runs valgrind"
fi
[ -z "$asan_ok" ] || runs="$runs asan"
if [ "${nvalgrind:-0}" -eq 0 ]; then
	echo "test.sh: no tests are labelled valgrind; no valgrind pass"
fi

for r in $runs; do
	if [ "$r" = "${runs##* }" ]; then
		# The last run: say now how the others went.
		if [ -n "$failed" ]; then
			echo "test.sh: so far FAILED:$failed"
		else
			echo "test.sh: so far everything passed"
		fi
	fi
	case $r in
	plain)
		stage "ctest in $plain"
		(
			unset ASAN_OPTIONS UBSAN_OPTIONS ZENC_VALGRIND
			run_ctest "$plain" plain
		) || failed="$failed ctest-plain"
		;;
	valgrind)
		stage "ctest -L valgrind in $plain, with ZENC_VALGRIND=1"
		(
			unset ASAN_OPTIONS UBSAN_OPTIONS
			ZENC_VALGRIND=1
			export ZENC_VALGRIND
			run_ctest "$plain" valgrind -L valgrind
		) || failed="$failed ctest-valgrind"
		;;
	asan)
		stage "ctest in $asan (ASan + UBSan)"
		(
			unset ZENC_VALGRIND
			# exitcode=98 tells a sanitizer error from a program's own
			# failure; with handle_*=0 a crash stays a signal, as it is
			# without ASan (tests check "killed by SIGSEGV").
			ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=98
			ASAN_OPTIONS=$ASAN_OPTIONS:handle_segv=0:handle_sigbus=0
			ASAN_OPTIONS=$ASAN_OPTIONS:handle_sigfpe=0
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98
			export ASAN_OPTIONS UBSAN_OPTIONS
			run_ctest "$asan" asan
		) || failed="$failed ctest-asan"
		;;
	esac
done

print_skips
print_flaky
[ -z "$failed" ]
