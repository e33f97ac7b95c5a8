# shellcheck shell=sh
# tests/e2e/lib.sh: the end-to-end test library, in the style of git's
# t/test-lib.sh.  POSIX sh; sourced by every tests/e2e/tNNNN-*.sh script.
#
# A test script:
#
#	#!/bin/sh
#	# ctest-labels: valgrind        (optional; see tests/CMakeLists.txt)
#	. "$(dirname "$0")/lib.sh"
#
#	test_expect_success 'a failing step runs its on_failure hook' '
#		test_must_fail "$PROGRAMS/fail_hook" run >out 2>err &&
#		test_grep "Running on_failure hook" err
#	'
#	test_done
#
# ctest runs each script as `/bin/sh tNNNN-name.sh` in tests/e2e with
# ZENC_BUILD and ZENC_SOURCE set.  By hand:
#
#	ZENC_BUILD=build sh tests/e2e/t0000-harness.sh [-v] [-x] [-k]
#
#	-v, --verbose   show each test's output as it runs (else only on failure)
#	-x, --trace     run each test body with `set -x`
#	-k, --keep      keep the temp directory even when every test passed
#
# (or ZENC_TEST_VERBOSE=1, ZENC_TEST_TRACE=1, ZENC_TEST_KEEP=1).
#
# What sourcing does:
#   set -u; a fresh empty directory $TMP (= $ZENC_BUILD/test-tmp/<script>,
#   or $ZENC_TEST_TMP/<script>), wiped first, which becomes the current
#   directory; exports ZENC (the zenc binary), PROGRAMS (tests/programs
#   binaries), EXAMPLES (examples binaries), ZENC_HOME=$TMP/home,
#   ZENC_DATA=$TMP/data, HOME=$TMP/user (so nothing touches the real home),
#   NO_COLOR=1, LC_ALL=C, TZ=UTC; unsets any other ZENC_* variable.
#   TEST_DIRECTORY is tests/e2e (for fixture files).
#
# Test bodies:
#   test_expect_success 'title' 'commands'
#     runs `commands` with eval in a subshell with `set -e`, standard input
#     from /dev/null, in $TMP; `&&` chains work as in git.  Because it is a
#     subshell, variables and `cd` do not carry over to the next test: set
#     up shared variables at the top level of the script, outside any test.
#     Output is captured to a file (never a pipe, so a background service
#     started in a test cannot hang it) and shown, indented, if it fails.
#   test_skip 'title' 'reason'        reports a test as skipped
#   test_skip_all 'reason'            skips the whole script (exit 77,
#                                     which ctest reports as skipped)
#   test_done                         prints "# passed N of M", exits 1 if
#                                     any test failed
#
# Helpers (each returns non-zero and says why on stderr):
#   test_cmp EXPECTED ACTUAL          diff -u
#   test_must_fail CMD...             CMD exits non-zero, but not 126/127
#                                     (not runnable), not >= 128 (signal),
#                                     not 98/99 (sanitizer/valgrind error)
#   test_expect_code N CMD...         CMD exits exactly N
#   test_grep [!] [GREP-OPT...] PATTERN FILE
#                                     a line matches (with !: none does);
#                                     on failure shows the file
#   test_json FILE EXPR               prints the Python expression EXPR over
#                                     d = json.load(FILE) (FILE - : stdin);
#                                     strings print raw, anything else as
#                                     JSON (true, null, [1, 2], ...):
#                                     test "$(test_json out.json 'd["status"]')" = failed
#   test_free_port                    prints a free TCP port on 127.0.0.1
#   test_register_pid PID             the pid is killed (TERM, then KILL)
#                                     when the script exits, however it
#                                     exits, and before the next run wipes
#                                     $TMP; register each process you start
#   test_at_exit 'COMMANDS'           COMMANDS run when the script exits,
#                                     however it exits, before registered
#                                     pids are killed (e.g. cancel the
#                                     jobs of a Slurm cluster before its
#                                     daemons stop); each is bounded to 30 s
#   test_register_dir DIR             a folder outside $TMP (a service that
#                                     cannot use $TMP) removed with $TMP
#
# Every process the script starts carries ZENC_TEST_SESSION (a value of
# this run's own) in its environment.  When the script ends, after the
# registered pids are stopped, any process still alive with that value
# (a background command of a test that failed before it could wait for
# it, a job a Slurm cluster ran for the test) is killed and named, so a
# script never leaves anything running.
#   run_valgrind CMD...               runs CMD, under valgrind when
#                                     ZENC_VALGRIND=1 (exit 99 on an error
#                                     or a definite leak)
#
# Under a sanitizer run (ASAN_OPTIONS set), ASan and LSan reports from any
# process, including step processes whose exit status zenc records, go to
# files in $TMP/.sanitizer; a test during which one appears fails and shows
# it.  Sanitizer errors exit 98; deadly signals are left to kill the
# process as they would without ASan.

set -u

# ---- options
_test_verbose=${ZENC_TEST_VERBOSE:-0}
_test_trace=${ZENC_TEST_TRACE:-0}
_test_keep=${ZENC_TEST_KEEP:-0}
for _test_arg in "$@"; do
	case $_test_arg in
	-v | --verbose) _test_verbose=1 ;;
	-x | --trace) _test_trace=1 ;;
	-k | --keep) _test_keep=1 ;;
	*)
		echo "lib.sh: unknown option '$_test_arg' (known: -v, -x, -k)" >&2
		exit 2
		;;
	esac
done

# ---- paths
TEST_NAME=$(basename "$0" .sh)
TEST_DIRECTORY=$(cd "$(dirname "$0")" && pwd) || exit 2
if [ -z "${ZENC_SOURCE:-}" ]; then
	ZENC_SOURCE=$(cd "$TEST_DIRECTORY/../.." && pwd) || exit 2
fi
: "${ZENC_BUILD:=$ZENC_SOURCE/build}"
case $ZENC_BUILD in
/*) ;;
*) ZENC_BUILD=$PWD/$ZENC_BUILD ;;
esac
case $ZENC_SOURCE in
/*) ;;
*) ZENC_SOURCE=$PWD/$ZENC_SOURCE ;;
esac
export ZENC_SOURCE ZENC_BUILD TEST_DIRECTORY

ZENC=$ZENC_BUILD/zenc
PROGRAMS=$ZENC_BUILD/tests/programs
EXAMPLES=$ZENC_BUILD/examples
export ZENC PROGRAMS EXAMPLES

TMP=${ZENC_TEST_TMP:-$ZENC_BUILD/test-tmp}/$TEST_NAME
_test_pidfile=$TMP/.test/pids
_test_atexit=$TMP/.test/atexit
_test_dirfile=$TMP/.test/dirs

# ---- environment: nothing from the caller's zenc set-up leaks in
for _test_var in $(env | sed -n 's/^\(ZENC_[A-Za-z0-9_]*\)=.*/\1/p'); do
	case $_test_var in
	ZENC_BUILD | ZENC_SOURCE | ZENC_VALGRIND | ZENC_TEST_*) ;;
	*) unset "$_test_var" ;;
	esac
done
unset XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME XDG_CACHE_HOME CLICOLOR_FORCE
ZENC_TEST_SESSION=$TEST_NAME.$$.$(date +%s%N)
_test_session=$ZENC_TEST_SESSION
export ZENC_TEST_SESSION
ZENC_HOME=$TMP/home
ZENC_DATA=$TMP/data
HOME=$TMP/user
NO_COLOR=1
LC_ALL=C
LANG=C
TZ=UTC
export ZENC_HOME ZENC_DATA HOME NO_COLOR LC_ALL LANG TZ
# Every run executes every step, as the tests written before the step
# cache expect; the cache's own tests (t1000-t1049) unset it.
ZENC_CACHE=off
export ZENC_CACHE

if [ -n "${ASAN_OPTIONS:-}" ]; then
	ASAN_OPTIONS="$ASAN_OPTIONS:exitcode=98:handle_segv=0:handle_sigbus=0"
	ASAN_OPTIONS="$ASAN_OPTIONS:handle_sigfpe=0:handle_abort=0"
	ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$TMP/.sanitizer/asan"
	export ASAN_OPTIONS
fi
if [ -n "${UBSAN_OPTIONS:-}" ]; then
	UBSAN_OPTIONS="$UBSAN_OPTIONS:exitcode=98"
	export UBSAN_OPTIONS
fi

# ---- state
_test_count=0
_test_passed=0
_test_failed=0
_test_skipped=0
_test_failed_list=
_test_done_called=0

# ---- internal helpers

_test_bug () {
	echo "lib.sh: bug in the test script: $*" >&2
	exit 2
}

# _test_pid_matches PID STARTTIME: the process is alive, not a zombie, and
# is the one registered (same start time, so a reused pid is left alone).
_test_pid_matches () {
	_tpm_stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	_tpm_stat=${_tpm_stat##*) }
	# shellcheck disable=SC2086
	set -- "$1" "$2" $_tpm_stat
	[ "$3" != Z ] || return 1
	# field 22 of stat (starttime) is the 20th after "pid (comm)"
	_tpm_start=
	eval "_tpm_start=\${22}"
	[ "$_tpm_start" = "$2" ]
}

_test_kill_registered () {
	[ -f "$_test_pidfile" ] || return 0
	while read -r _tkr_pid _tkr_start; do
		if _test_pid_matches "$_tkr_pid" "$_tkr_start"; then
			kill -TERM "$_tkr_pid" 2>/dev/null
		fi
	done <"$_test_pidfile"
	_tkr_i=0
	while [ "$_tkr_i" -lt 50 ]; do
		_tkr_alive=
		while read -r _tkr_pid _tkr_start; do
			if _test_pid_matches "$_tkr_pid" "$_tkr_start"; then
				_tkr_alive=1
			fi
		done <"$_test_pidfile"
		[ -n "$_tkr_alive" ] || break
		sleep 0.1
		_tkr_i=$((_tkr_i + 1))
	done
	if [ -n "$_tkr_alive" ]; then
		while read -r _tkr_pid _tkr_start; do
			if _test_pid_matches "$_tkr_pid" "$_tkr_start"; then
				echo "# killing pid $_tkr_pid, still alive 5 s after SIGTERM"
				kill -KILL "$_tkr_pid" 2>/dev/null
			fi
		done <"$_test_pidfile"
	fi
	rm -f "$_test_pidfile"
}

# Processes, other than this shell, whose environment holds this run's
# ZENC_TEST_SESSION.
_test_session_pids () {
	grep -l -s -z -x "ZENC_TEST_SESSION=$_test_session" \
		/proc/[0-9]*/environ 2>/dev/null |
		sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p' |
		while read -r _tsp_pid; do
			[ "$_tsp_pid" = "$$" ] || echo "$_tsp_pid"
		done
}

# Kills what is left of this run: TERM, then KILL after 5 s.  The commands
# of the sweep itself run without the variable, so that they are not
# taken for strays.
_test_kill_strays () {
	unset ZENC_TEST_SESSION
	_tks_pids=$(_test_session_pids)
	[ -n "$_tks_pids" ] || return 0
	for _tks_pid in $_tks_pids; do
		_tks_cmd=$({ tr '\0' ' ' <"/proc/$_tks_pid/cmdline"; } 2>/dev/null) ||
			continue
		[ -n "$_tks_cmd" ] || continue
		echo "# stopping a process left running: $_tks_pid $_tks_cmd" |
			cut -c 1-200
		kill -TERM "$_tks_pid" 2>/dev/null
	done
	_tks_i=0
	while [ "$_tks_i" -lt 50 ]; do
		_tks_pids=$(_test_session_pids)
		[ -n "$_tks_pids" ] || return 0
		sleep 0.1
		_tks_i=$((_tks_i + 1))
	done
	# shellcheck disable=SC2086
	kill -KILL $_tks_pids 2>/dev/null
	return 0
}

# The commands given to test_at_exit, once, each bounded to 30 s.
_test_run_atexit () {
	[ -d "$_test_atexit" ] || return 0
	mv "$_test_atexit" "$_test_atexit.running" 2>/dev/null || return 0
	for _tra_f in "$_test_atexit.running"/*; do
		[ -f "$_tra_f" ] || continue
		timeout 30 /bin/sh "$_tra_f" </dev/null >/dev/null 2>&1 || :
	done
	rm -rf "$_test_atexit.running"
}

# The folders given to test_register_dir.
_test_remove_dirs () {
	[ -f "$_test_dirfile" ] || return 0
	while IFS= read -r _trd_dir; do
		[ -n "$_trd_dir" ] && rm -rf "$_trd_dir"
	done <"$_test_dirfile"
	rm -f "$_test_dirfile"
}

_test_exit_trap () {
	_tet_rc=$?
	trap - EXIT
	cd / || :
	_test_run_atexit
	_test_kill_registered
	_test_kill_strays
	if [ "$_test_done_called" != 1 ]; then
		echo "not ok - $TEST_NAME ended (status $_tet_rc) before test_done"
		echo "# temp directory kept: $TMP"
		[ "$_tet_rc" -ne 0 ] || _tet_rc=1
	fi
	exit "$_tet_rc"
}

# Sanitizer reports that appeared since the last call: print them, move
# them aside, and return 1; return 0 when there were none.
_test_sanitizer_check () {
	_tsc_rc=0
	for _tsc_f in "$TMP"/.sanitizer/*; do
		[ -f "$_tsc_f" ] || continue
		echo "sanitizer report ${_tsc_f##*/}:"
		cat "$_tsc_f"
		mkdir -p "$TMP/.test/sanitizer-seen"
		mv "$_tsc_f" "$TMP/.test/sanitizer-seen/"
		_tsc_rc=1
	done
	return "$_tsc_rc"
}

_test_indent () {
	sed 's/^/#   /' "$@"
}

# _test_run BODY: the body, in a subshell with set -e.
_test_run () {
	(
		if [ "$_test_trace" = 1 ]; then
			set -x
		fi
		set -e
		eval "$1"
	) </dev/null
}

# ---- set-up: kill what a previous run left, then a fresh directory
_test_kill_registered
case $TMP in
*/"$TEST_NAME") ;;
*) _test_bug "odd temp directory '$TMP'" ;;
esac
_test_remove_dirs
rm -rf "$TMP" || exit 2
mkdir -p "$TMP/.test" || exit 2
if [ -n "${ASAN_OPTIONS:-}" ]; then
	mkdir -p "$TMP/.sanitizer"
fi
cd "$TMP" || exit 2
trap '_test_exit_trap' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the API

test_expect_success () {
	[ $# -eq 2 ] ||
		_test_bug "test_expect_success takes 2 arguments ('title' 'commands'), got $#"
	_test_count=$((_test_count + 1))
	_tes_out=$TMP/.test/out.$_test_count
	cd "$TMP" || exit 2
	if [ "$_test_verbose" = 1 ]; then
		echo "# running: $1"
		_test_run "$2"
		_tes_rc=$?
		_test_sanitizer_check >"$_tes_out" 2>&1 || _tes_rc=98
		cat "$_tes_out"
	else
		_test_run "$2" >"$_tes_out" 2>&1
		_tes_rc=$?
		_test_sanitizer_check >>"$_tes_out" 2>&1 || _tes_rc=98
	fi
	cd "$TMP" || exit 2
	if [ "$_tes_rc" -eq 0 ]; then
		_test_passed=$((_test_passed + 1))
		echo "ok $_test_count - $1"
	else
		_test_failed=$((_test_failed + 1))
		_test_failed_list="$_test_failed_list $_test_count"
		echo "not ok $_test_count - $1"
		echo "#   exit status $_tes_rc; commands:"
		printf '%s\n' "$2" | _test_indent
		if [ "$_test_verbose" != 1 ]; then
			echo "#   output:"
			_test_indent "$_tes_out"
		fi
	fi
	return 0
}

test_skip () {
	[ $# -eq 2 ] || _test_bug "test_skip takes 2 arguments ('title' 'reason')"
	_test_count=$((_test_count + 1))
	_test_skipped=$((_test_skipped + 1))
	echo "ok $_test_count - $1 # SKIP $2"
}

test_skip_all () {
	echo "1..0 # SKIP ${1:-no reason given}"
	_test_done_called=1
	cd / || :
	_test_run_atexit
	_test_kill_registered
	_test_kill_strays
	if [ "$_test_keep" != 1 ]; then
		_test_remove_dirs
		rm -rf "$TMP"
	fi
	exit 77
}

test_done () {
	_test_done_called=1
	cd / || :
	_test_run_atexit
	_test_kill_registered
	_test_kill_strays
	_td_run=$((_test_count - _test_skipped))
	echo "1..$_test_count"
	if [ "$_test_count" -eq 0 ]; then
		echo "# no tests ran (use test_skip_all to skip a script)"
		exit 1
	fi
	if [ "$_test_failed" -ne 0 ]; then
		echo "# failed:$_test_failed_list"
		echo "# temp directory kept: $TMP"
	elif [ "$_test_keep" != 1 ]; then
		_test_remove_dirs
		rm -rf "$TMP"
	fi
	if [ "$_test_skipped" -ne 0 ]; then
		echo "# passed $_test_passed of $_td_run ($_test_skipped skipped)"
	else
		echo "# passed $_test_passed of $_td_run"
	fi
	[ "$_test_failed" -eq 0 ] || exit 1
	exit 0
}

test_cmp () {
	[ $# -eq 2 ] || _test_bug "test_cmp takes 2 arguments (expected actual)"
	diff -u "$1" "$2"
}

test_must_fail () {
	[ $# -ge 1 ] || _test_bug "test_must_fail needs a command"
	if "$@"; then
		_tmf_rc=0
	else
		_tmf_rc=$?
	fi
	if [ "$_tmf_rc" -eq 0 ]; then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	elif [ "$_tmf_rc" -ge 128 ]; then
		echo "test_must_fail: command died of signal $((_tmf_rc - 128)) (status $_tmf_rc): $*" >&2
		return 1
	elif [ "$_tmf_rc" -eq 127 ] || [ "$_tmf_rc" -eq 126 ]; then
		echo "test_must_fail: command not found or not runnable (status $_tmf_rc): $*" >&2
		return 1
	elif [ "$_tmf_rc" -eq 98 ] && [ -n "${ASAN_OPTIONS:-}${UBSAN_OPTIONS:-}" ]; then
		echo "test_must_fail: sanitizer error (status 98): $*" >&2
		return 1
	elif [ "$_tmf_rc" -eq 99 ] && [ "${ZENC_VALGRIND:-0}" = 1 ]; then
		echo "test_must_fail: valgrind error (status 99): $*" >&2
		return 1
	fi
	return 0
}

test_expect_code () {
	[ $# -ge 2 ] || _test_bug "test_expect_code takes a code and a command"
	_tec_want=$1
	shift
	if "$@"; then
		_tec_rc=0
	else
		_tec_rc=$?
	fi
	[ "$_tec_rc" -eq "$_tec_want" ] && return 0
	echo "test_expect_code: command exited $_tec_rc, want $_tec_want: $*" >&2
	return 1
}

test_grep () {
	_tg_neg=
	if [ "${1:-}" = "!" ]; then
		_tg_neg=1
		shift
	fi
	[ $# -ge 2 ] || _test_bug "test_grep takes [!] [options] pattern file"
	_tg_file=
	eval "_tg_file=\${$#}"
	if grep "$@" >/dev/null; then
		_tg_rc=0
	else
		_tg_rc=$?
	fi
	if [ "$_tg_rc" -gt 1 ]; then
		echo "test_grep: grep failed (status $_tg_rc): grep $*" >&2
		return 1
	fi
	if [ -n "$_tg_neg" ]; then
		[ "$_tg_rc" -eq 1 ] && return 0
		echo "test_grep: unexpected match for: grep $*" >&2
		grep -n "$@" | sed -n '1,20p' >&2
		return 1
	fi
	[ "$_tg_rc" -eq 0 ] && return 0
	echo "test_grep: no match for: grep $*" >&2
	echo "test_grep: '$_tg_file' holds:" >&2
	sed -n '1,100s/^/| /p' "$_tg_file" >&2
	return 1
}

test_json () {
	[ $# -eq 2 ] || _test_bug "test_json takes 2 arguments (file expression)"
	/usr/bin/python3 -c '
import json, sys
path, expr = sys.argv[1], sys.argv[2]
try:
    if path == "-":
        d = json.load(sys.stdin)
    else:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
except (OSError, ValueError) as e:
    sys.exit("test_json: %s: %s" % (path, e))
try:
    r = eval(expr, {"d": d, "json": json})
except Exception as e:
    sys.exit("test_json: %s: %s: %s: %s" % (path, expr, type(e).__name__, e))
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))
' "$1" "$2"
}

# Helpers over the records of `zenc runs show --json`.

# last_run: the runs list into list.json, the id of the newest run into
# $id, and its JSON into run.json.
last_run () {
	"$ZENC" runs list --json >list.json &&
	id=$(test_json list.json 'd[0]["id"]') &&
	"$ZENC" runs show "$id" --json >run.json
}

# step_field FILE STEP FIELD: a field of step STEP of the run JSON in FILE.
step_field () {
	test_json "$1" "[s for s in d[\"steps\"] if s[\"name\"] == \"$2\"][0][\"$3\"]"
}

# step FIELD STEP: a field of a step of run.json.
step () {
	step_field run.json "$2" "$1"
}

test_free_port () {
	/usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
'
}

test_register_pid () {
	[ $# -eq 1 ] || _test_bug "test_register_pid takes one pid"
	_trp_stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
		echo "test_register_pid: no process $1" >&2
		return 1
	}
	_trp_stat=${_trp_stat##*) }
	# shellcheck disable=SC2086
	set -- "$1" $_trp_stat
	_trp_start=
	eval "_trp_start=\${21}"
	echo "$1 $_trp_start" >>"$_test_pidfile"
}

test_at_exit () {
	[ $# -eq 1 ] || _test_bug "test_at_exit takes one string of commands"
	mkdir -p "$_test_atexit" || return 1
	_tae_n=$(ls "$_test_atexit" | wc -l)
	printf '%s\n' "$1" >"$_test_atexit/$(printf %04d "$_tae_n")"
}

test_register_dir () {
	[ $# -eq 1 ] || _test_bug "test_register_dir takes one folder"
	case $1 in
	/?*) ;;
	*) _test_bug "test_register_dir needs an absolute path, not '$1'" ;;
	esac
	printf '%s\n' "$1" >>"$_test_dirfile"
}

run_valgrind () {
	[ $# -ge 1 ] || _test_bug "run_valgrind needs a command"
	if [ "${ZENC_VALGRIND:-0}" = 1 ]; then
		if [ -f "$ZENC_SOURCE/tests/valgrind.supp" ]; then
			set -- "--suppressions=$ZENC_SOURCE/tests/valgrind.supp" "$@"
		fi
		set -- valgrind --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite --trace-children=no -q "$@"
	fi
	"$@"
}
