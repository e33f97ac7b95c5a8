#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# The watcher of a run: SIGKILL of the orchestrating process mid-step, for
# a C pipeline and a YAML pipeline, under isolation process (forked steps;
# YAML command steps in threads) and none.  Within 5 s nothing of the run
# is left running (no process carries the run's ZENC_RUN_ID), the run and
# its step are failed with OrchestratorDied, the step's command failure
# hook ran, and exactly one alert from alerter_failure_hook reached a real
# HTTP receiver on loopback.  Then the machine going down (the watcher
# killed too): the next `zenc runs list` finds the run, stops what is left
# of it and sends the alert marked late.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
. "$TEST_DIRECTORY/receiver.sh"

WP=$PROGRAMS/watch_pipeline
start_receiver main

mkdir -p y
cat >y/alert.yaml <<\EOF_
name: wy
on_failure:
  - {run: 'echo "$ZENC_STEP_NAME $ZENC_ERROR_TYPE $ZENC_SIGNAL" >>"$WP_DIR/hook.log"'}
  - alerter_failure_hook
on_run_failure: {run: 'echo run-failure >>"$WP_DIR/hook.log"'}
steps:
  - name: work
    run: 'echo "$ZENC_RUN_ID" >"$WP_DIR/started"; sleep 300; echo survived >>"$WP_DIR/survived"'
  - name: sink
    after: [work]
    run: "true"
EOF_
# Only commands: under isolation process its steps run in threads.
cat >y/threads.yaml <<\EOF_
name: wt
on_failure:
  - {run: 'echo "$ZENC_STEP_NAME $ZENC_ERROR_TYPE $ZENC_SIGNAL" >>"$WP_DIR/hook.log"'}
steps:
  - name: work
    run: 'echo "$ZENC_RUN_ID" >"$WP_DIR/started"; sleep 300 & sleep 300; echo survived >>"$WP_DIR/survived"'
EOF_

# The pids of live processes whose environment holds ZENC_RUN_ID=$1.
run_pids () {
	grep -l -s -z -x "ZENC_RUN_ID=$1" /proc/[0-9]*/environ 2>/dev/null |
		sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p'
}

# The pid of the watcher of run $1.
watcher_pid () {
	grep -l -s -z -x "ZENC__WATCH_RUN=$1" /proc/[0-9]*/environ 2>/dev/null |
		sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p'
}

# wait_for CMD...: until CMD succeeds, at most 10 s.
wait_for () {
	_wf_i=0
	until "$@"; do
		_wf_i=$((_wf_i + 1))
		[ "$_wf_i" -lt 100 ] || {
			echo "timed out waiting for: $*" >&2
			return 1
		}
		sleep 0.1
	done
}

step_running () {
	"$ZENC" runs show "$1" --json >show.json 2>/dev/null &&
		test "$(test_json show.json "[s[\"status\"] for s in d[\"steps\"] if s[\"name\"] == \"work\"]")" = "[\"running\"]"
}

# start_run DIR CMD...: runs CMD with WP_DIR=DIR under a parent that
# never reaps it (so that its zombie still tells how it died, as when its
# parent is busy), and waits until its step "work" runs and is recorded
# so; sets PID (CMD's) and RID.
start_run () {
	_sr_dir=$1
	shift
	mkdir -p "$_sr_dir"
	WP_DIR=$_sr_dir /usr/bin/python3 -c "
import subprocess, sys, time
p = subprocess.Popen(sys.argv[2:])
open(sys.argv[1] + '.tmp', 'w').write(str(p.pid))
__import__('os').rename(sys.argv[1] + '.tmp', sys.argv[1])
time.sleep(600)
" "$_sr_dir/pid" "$@" >"$_sr_dir/out" 2>&1 &
	test_register_pid $!
	wait_for test -s "$_sr_dir/pid" || return 1
	PID=$(cat "$_sr_dir/pid")
	wait_for test -s "$_sr_dir/started" || return 1
	RID=$(cat "$_sr_dir/started")
	wait_for step_running "$RID" || return 1
	test -n "$(run_pids "$RID")" || {
		echo "no process carries the run id" >&2
		return 1
	}
}

# No watcher of this script is alive.
no_watchers () {
	test -z "$(grep -l -s -z "^ZENC__WATCH_RUN=" /proc/[0-9]*/environ |
		while read -r f; do grep -l -s -z -x "ZENC_TEST_SESSION=$ZENC_TEST_SESSION" "$f"; done)"
}

no_run_pids () {
	test -z "$(run_pids "$1")"
}

one_request () {
	test -s main.log && test "$(wc -l <main.log)" -ge 1
}

# died CASE CMD...: the whole check for one kind of run.
died () {
	_d_dir=$TMP/$1
	shift
	: >main.log
	start_run "$_d_dir" "$@" &&
	w=$(watcher_pid "$RID") &&
	test -n "$w" &&
	kill -KILL "$PID" &&
	t0=$(date +%s%N) &&
	# Within 5 s: no process of the run, and the run recorded failed.
	i=0 &&
	until no_run_pids "$RID" && "$ZENC" runs show "$RID" --json >run.json &&
		test "$(test_json run.json "d[\"status\"]")" = failed; do
		i=$((i + 1)) && test "$i" -lt 50 && sleep 0.1 || {
			echo "still there after 5 s:" >&2
			for p in $(run_pids "$RID"); do
				tr "\0" " " <"/proc/$p/cmdline" >&2
				echo >&2
			done
			return 1
		}
	done &&
	t1=$(date +%s%N) &&
	echo "settled in $(((t1 - t0) / 1000000)) ms" &&
	test "$(test_json run.json "[s[\"error_type\"] for s in d[\"steps\"] if s[\"name\"] == \"work\"]")" = "[\"OrchestratorDied\"]" &&
	test "$(test_json run.json "[s[\"signal\"] for s in d[\"steps\"] if s[\"name\"] == \"work\"]")" = "[9]" &&
	test "$(test_json run.json "[s[\"status\"] for s in d[\"steps\"] if s[\"name\"] == \"work\"]")" = "[\"failed\"]" &&
	# The command failure hook ran, with the error.
	wait_for test -s "$_d_dir/hook.log" &&
	test_grep "^work OrchestratorDied 9$" "$_d_dir/hook.log" &&
	# The watcher exits when it is done.
	wait_for test_must_fail kill -0 "$w" &&
	test ! -e "$_d_dir/survived" &&
	"$ZENC" runs show "$RID" --json >run.json &&
	test "$(test_json run.json "[h[\"status\"] for s in d[\"steps\"] if s[\"name\"] == \"work\" for h in s[\"hooks\"] if h[\"event\"] == \"on_failure\" and h[\"hook\"].startswith(\"echo\")]")" = "[\"completed\"]"
}

# The one alert of the run, as the receiver got it.
one_alert () {
	wait_for one_request &&
	sleep 0.5 &&
	test "$(wc -l <main.log)" = 1 &&
	req main 1 r.json &&
	test "$(test_json r.json "d[\"json\"][\"run_id\"]")" = "$RID" &&
	test "$(test_json r.json "d[\"json\"][\"step\"]")" = work &&
	test "$(test_json r.json "d[\"json\"][\"event\"]")" = on_failure &&
	test "$(test_json r.json "d[\"json\"][\"status\"]")" = failed &&
	test "$(test_json r.json "d[\"json\"][\"error_type\"]")" = OrchestratorDied &&
	test "$(test_json r.json "d[\"json\"][\"signal\"]")" = 9 &&
	test "$(test_json r.json "\"late\" in d[\"json\"]")" = false
}

test_expect_success 'set up a webhook alerter on the receiver' '
	"$ZENC" alerter register hook --flavor webhook \
		--url "http://127.0.0.1:$PORT_main/hook" &&
	use hook
'

test_expect_success 'C pipeline, isolation process: SIGKILL of the run settles it' '
	died cp "$WP" run &&
	one_alert &&
	test_grep "^run-failure$" cp/hook.log &&
	"$ZENC" runs show "$RID" --json >run.json &&
	test "$(test_json run.json "[h[\"status\"] for s in d[\"steps\"] if s[\"name\"] == \"work\" for h in s[\"hooks\"]]")" = "[\"completed\", \"completed\", \"skipped\"]" &&
	test "$(test_json run.json "[a[\"error_type\"] for s in d[\"steps\"] if s[\"name\"] == \"work\" for a in s[\"attempt_history\"]]")" = "[\"OrchestratorDied\"]" &&
	test "$(test_json run.json "[h[\"status\"] for h in d[\"run_hooks\"]]")" = "[\"completed\"]" &&
	test "$(test_json run.json "[s[\"status\"] for s in d[\"steps\"] if s[\"name\"] == \"sink\"]")" = "[]"
'

test_expect_success 'C pipeline, isolation none' '
	died cn "$WP" run --isolation none &&
	one_alert
'

test_expect_success 'YAML pipeline, isolation process' '
	died yp "$ZENC" run y/alert.yaml &&
	one_alert &&
	test_grep "^run-failure$" yp/hook.log
'

test_expect_success 'YAML pipeline, isolation none' '
	died yn "$ZENC" run --isolation none y/alert.yaml &&
	one_alert
'

test_expect_success 'YAML pipeline of commands only (steps in threads)' '
	died yt "$ZENC" run y/threads.yaml &&
	test "$(wc -l <main.log)" = 0
'

test_expect_success 'a run that ends normally: its watcher exits, nothing settled' '
	mkdir -p ok &&
	cat >y/ok.yaml <<-\EOF_ &&
	name: wok
	on_failure: alerter_failure_hook
	steps:
	  - name: work
	    run: "true"
	EOF_
	: >main.log &&
	"$ZENC" run y/ok.yaml >ok/out 2>&1 &&
	wait_for no_watchers &&
	"$ZENC" runs list --json >runs.json &&
	test "$(test_json runs.json "d[0][\"status\"]")" = completed &&
	sleep 0.3 &&
	test "$(wc -l <main.log)" = 0
'

test_expect_success 'machine down (watcher killed too): the next runs list sends the alert late' '
	: >main.log &&
	start_run "$TMP/down" "$WP" run &&
	w=$(watcher_pid "$RID") &&
	test -n "$w" &&
	kill -KILL "$w" &&
	kill -KILL "$PID" &&
	sleep 0.5 &&
	# Nothing settled it: the run is running, its command too.
	test -n "$(run_pids "$RID")" &&
	test "$(wc -l <main.log)" = 0 &&
	"$ZENC" runs list >list.out 2>list.err &&
	wait_for one_request &&
	sleep 0.5 &&
	test "$(wc -l <main.log)" = 1 &&
	req main 1 r.json &&
	test "$(test_json r.json "d[\"json\"][\"run_id\"]")" = "$RID" &&
	test "$(test_json r.json "d[\"json\"][\"late\"]")" = true &&
	test "$(test_json r.json "d[\"json\"][\"step\"]")" = work &&
	test "$(test_json r.json "d[\"json\"][\"status\"]")" = failed &&
	test_grep "(late)" r.json &&
	wait_for no_run_pids "$RID" &&
	"$ZENC" runs show "$RID" --json >run.json &&
	test "$(test_json run.json "d[\"status\"]")" = failed &&
	test "$(test_json run.json "[h[\"status\"] for s in d[\"steps\"] if s[\"name\"] == \"work\" for h in s[\"hooks\"]]")" = "[\"skipped\", \"completed\", \"skipped\"]" &&
	test ! -s down/hook.log &&
	"$ZENC" alerts list --json >alerts.json &&
	test "$(test_json alerts.json "d[0][\"alert\"][\"late\"]")" = true &&
	# Once only: the next command finds nothing more to send.
	"$ZENC" runs list >/dev/null 2>&1 &&
	sleep 0.3 &&
	test "$(wc -l <main.log)" = 1
'

test_expect_success 'a step command dies with its supervisor, watcher or not' '
	cat >y/exec.yaml <<-\EOF_ &&
	name: wx
	steps:
	  - name: work
	    run: ["sh", "-c", "echo \"$ZENC_RUN_ID\" >\"$WP_DIR/started\"; exec sleep 301"]
	EOF_
	for iso in process none; do
		start_run "$TMP/x-$iso" "$ZENC" run --isolation $iso y/exec.yaml &&
		w=$(watcher_pid "$RID") &&
		test -n "$w" &&
		kill -KILL "$w" &&
		kill -KILL "$PID" &&
		# No zenc command runs meanwhile: nothing but the kernel
		# stops the command.
		wait_for no_run_pids "$RID" || return 1
	done
'

test_done
