#!/bin/sh
# shellcheck disable=SC2016,SC2317,SC2034 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# YAML pipelines: command, built-in and library hooks at the pipeline and
# step levels, per-event precedence of step hooks over pipeline hooks,
# run-level hooks.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

FIX=$TEST_DIRECTORY/fixtures-yaml
ZT_LOG=$TMP/zt.log
export ZT_LOG
CC=${CC:-cc}

mkdir -p wf
cp "$FIX/dump-hook.sh" wf/
cat >wf/hooks.yaml <<\EOF_
name: hooked
on_start: {run: 'echo "P-start $ZENC_STEP_NAME" >>hooks.log'}
on_success: {run: 'echo "P-success $ZENC_STEP_NAME" >>hooks.log'}
on_failure:
  - {run: 'echo "P-failure $ZENC_STEP_NAME" >>hooks.log'}
on_end: {run: 'echo "P-end $ZENC_STEP_NAME $ZENC_STATUS" >>hooks.log'}
on_run_success: {run: 'echo "RUN-success" >>hooks.log'}
on_run_failure: [{run: ./dump-hook.sh}, {run: 'echo "RUN-failure" >>hooks.log'}]
steps:
  - name: plain
    run: "true"
  - name: own
    after: [plain]
    run: "true"
    on_success: {run: 'echo "S-success $ZENC_STEP_NAME" >>hooks.log'}
  - name: bad
    after: [own]
    parameters: {lr: 0.5}
    run: echo boom >&2; exit 2
    on_failure:
      - {run: ./dump-hook.sh, name: dump}
      - alerter_failure_hook
      - {run: ['sh', '-c', 'echo "S-failure $ZENC_STEP_NAME $ZENC_EXIT_CODE" >>hooks.log']}
EOF_

cat >wf/lib.yaml <<\EOF_
name: withlib
on_run_success: libhooks.so:lib_run
steps:
  - name: good
    run: "true"
    on_success: ./libhooks.so:lib_success
  - name: bad
    after: [good]
    run: exit 3
    on_failure: libhooks.so:lib_failure
EOF_

test_expect_success 'hooks run in attempt order with per-event precedence' '
	test_expect_code 1 "$ZENC" run wf/hooks.yaml -j 1 --run-name h1 2>err &&
	cat >expect <<-\EOT &&
	P-start plain
	P-success plain
	P-end plain completed
	P-start own
	S-success own
	P-end own completed
	P-start bad
	S-failure bad 2
	P-end bad failed
	RUN-failure
	EOT
	test_cmp expect wf/hooks.log
'

test_expect_success 'the records list each hook with its event and status' '
	"$ZENC" runs show h1 --json >h1.json &&
	test "$(test_json h1.json "[(h[\"event\"], h[\"hook\"]) for h in [s for s in d[\"steps\"] if s[\"name\"] == \"bad\"][0][\"hooks\"] if h[\"event\"] == \"on_failure\"]")" = "[[\"on_failure\", \"dump\"], [\"on_failure\", \"alerter_failure_hook\"], [\"on_failure\", \"sh\"]]" &&
	test "$(test_json h1.json "[h[\"status\"] for h in [s for s in d[\"steps\"] if s[\"name\"] == \"bad\"][0][\"hooks\"]]")" = "[\"completed\", \"completed\", \"completed\", \"completed\", \"completed\"]" &&
	test "$(test_json h1.json "[h[\"event\"] for h in d[\"run_hooks\"]]")" = "[\"on_run_failure\", \"on_run_failure\"]" &&
	test_grep "alerter_failure_hook hook for step bad: no alerter" err
'

test_expect_success 'a step failure hook gets the context, in the file folder' '
	env=wf/hook-env.on_failure.bad &&
	test_grep "^ZENC_HOOK_EVENT=on_failure\$" $env &&
	test_grep "^ZENC_ERROR_TYPE=ExitCode\$" $env &&
	test_grep "^ZENC_EXIT_CODE=2\$" $env &&
	test_grep "^ZENC_PARAM_LR=0.5\$" $env &&
	test_grep "^ZENC_ERROR_MESSAGE=command exited with code 2" $env &&
	in=wf/hook-stdin.on_failure.bad &&
	test "$(test_json $in "d[\"error\"][\"exit_code\"]")" = 2 &&
	test "$(test_json $in "d[\"params\"][\"lr\"]")" = 0.5 &&
	test "$(test_json $in "d[\"error\"][\"message\"]")" = "command exited with code 2
boom" &&
	test "$(cat wf/hook-pwd.on_failure.bad)" = "$TMP/wf"
'

test_expect_success 'a run-level command hook gets the run context' '
	env=wf/hook-env.on_run_failure. &&
	test_grep "^ZENC_HOOK_EVENT=on_run_failure\$" $env &&
	test_grep "^ZENC_STEP_NAME=\$" $env &&
	test_grep "^ZENC_RUN_NAME=h1\$" $env &&
	in=wf/hook-stdin.on_run_failure. &&
	test "$(test_json $in "d[\"status\"]")" = failed &&
	test "$(test_json $in "d[\"step\"]")" = None -o \
		"$(test_json $in "d[\"step\"]")" = null
'

test_expect_success 'on_run_success fires instead when every step completes' '
	sed -e "s/exit 2/true/" wf/hooks.yaml >wf/ok.yaml &&
	rm -f wf/hooks.log &&
	"$ZENC" run wf/ok.yaml --run-name h2 &&
	test_grep "^RUN-success\$" wf/hooks.log &&
	test_grep ! "RUN-failure" wf/hooks.log &&
	test_grep "^P-success bad\$" wf/hooks.log
'

test_expect_success 'hooks from a shared library, relative to the file' '
	"$CC" -shared -fPIC -I"$ZENC_SOURCE/include" "$FIX/hooklib.c" \
		-o wf/libhooks.so &&
	rm -f "$ZT_LOG" &&
	test_expect_code 1 "$ZENC" run wf/lib.yaml --run-name l1 &&
	test_grep "^lib_success good err=null" "$ZT_LOG" &&
	test_grep "^lib_failure bad err=ExitCode:command exited with code 3 attempt=1" "$ZT_LOG" &&
	test_grep ! "lib_run" "$ZT_LOG"
'

test_expect_success 'built-in and library hooks keep command steps in threads of zenc' '
	cat >wf/nocliff.yaml <<-\EOT &&
	name: nocliff
	on_failure: [alerter_failure_hook, libhooks.so:lib_failure]
	steps:
	  - name: a
	    run: echo $PPID >ppid.a
	  - name: b
	    after: [a]
	    run: echo $PPID >ppid.b
	  - name: c
	    after: [b]
	    run: echo $PPID >ppid.c
	    on_success:
	      - {run: echo A >>"$ZT_LOG"}
	      - libhooks.so:lib_success
	      - {run: echo B >>"$ZT_LOG"}
	  - name: d
	    after: [c]
	    run: exit 4
	EOT
	rm -f "$ZT_LOG" wf/ppid.* || return 1
	"$ZENC" run wf/nocliff.yaml --run-name nc1 >nc.out 2>&1 &
	pid=$! &&
	rc=0 && wait $pid || rc=$? &&
	test "$rc" = 1 &&
	test "$(cat wf/ppid.a)" = "$pid" &&
	test "$(cat wf/ppid.b)" = "$pid" &&
	test "$(cat wf/ppid.c)" = "$pid" &&
	printf "%s\n" A "lib_success c err=null" B \
		"lib_failure d err=ExitCode:command exited with code 4 attempt=1" \
		>expect &&
	test_cmp expect "$ZT_LOG" &&
	"$ZENC" runs show nc1 --json >nc1.json &&
	test "$(test_json nc1.json "[h[\"hook\"] + \":\" + h[\"status\"] for s in d[\"steps\"] for h in s[\"hooks\"]]")" = "[\"echo A >>\\\"\$ZT_LOG\\\":completed\", \"libhooks.so:lib_success:completed\", \"echo B >>\\\"\$ZT_LOG\\\":completed\", \"alerter_failure_hook:completed\", \"libhooks.so:lib_failure:completed\"]"
'

test_expect_success 'hook_failure: fail turns a failing success hook into HookFailed' '
	cat >wf/strict.yaml <<-\EOT &&
	name: strict
	hook_failure: fail
	steps:
	  - name: s
	    run: "true"
	    on_success: {run: exit 1}
	    on_failure: {run: echo "$ZENC_ERROR_TYPE" >strict.out}
	EOT
	test_expect_code 1 "$ZENC" run wf/strict.yaml --run-name st1 &&
	test "$(cat wf/strict.out)" = HookFailed &&
	"$ZENC" run wf/strict.yaml --hook-failure warn --run-name st2
'

test_done
