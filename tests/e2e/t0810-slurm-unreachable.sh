#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# A slurmctld that stops answering: the client gives up after the
# orchestrator's unreachable_timeout with a clear error, the running step
# fails with OrchestratorUnreachable, its failure hooks run and its alert
# is sent, the run is recorded failed, and nothing hangs.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/slurm.sh"
. "$TEST_DIRECTORY/receiver.sh"

start_receiver main

mkdir -p wf
HOOKS_LOG=$TMP/hooks.log
export HOOKS_LOG
cat >wf/long.yaml <<\EOF_
name: ylong
on_failure:
  - {run: echo "on_failure $ZENC_STEP_NAME $ZENC_ERROR_TYPE" >>"$HOOKS_LOG"}
  - alerter_failure_hook
steps:
  - name: long
    run: sleep 60
  - name: after
    after: [long]
    run: echo "after ran" >>"$HOOKS_LOG"
EOF_

test_expect_success 'a slurm stack with unreachable_timeout and an alerter' '
	"$ZENC" orchestrator register sl --flavor slurm --single_node=true \
		--poll_interval=0.2 --partition=debug --unreachable_timeout=3s &&
	"$ZENC" artifact-store register art --flavor local --path="$TMP/art" &&
	"$ZENC" alerter register hook --flavor webhook \
		--url "http://127.0.0.1:$PORT_main/hook" &&
	"$ZENC" stack register sl -o sl -a art -al hook --set &&
	"$ZENC" orchestrator register bad --flavor slurm --single_node=true \
		--unreachable_timeout=soon &&
	"$ZENC" stack register bad -o bad -a art &&
	test_expect_code 3 "$ZENC" run wf/long.yaml --stack bad 2>err &&
	test_grep "invalid unreachable_timeout .soon." err
'

test_expect_success 'the client gives up on a dead slurmctld, alerts, ends failed' '
	"$ZENC" run wf/long.yaml --run-name r-unreach >run.out 2>run.err &
	client=$! &&
	test_register_pid $client &&
	i=0 &&
	until [ "$(squeue -h -t RUNNING -o %i | wc -l)" = 1 ]; do
		i=$((i + 1)) &&
		[ "$i" -lt 300 ] || { echo "no running job" >&2; false; } || return 1
		sleep 0.1
	done &&
	kill -9 "$(cat "$SLURM_DIR/slurmctld.pid")" &&
	killed=$(date +%s) &&
	i=0 &&
	while kill -0 $client 2>/dev/null; do
		i=$((i + 1)) &&
		[ "$i" -lt 600 ] || { echo "the client still runs" >&2; false; } || return 1
		sleep 0.1
	done &&
	took=$(( $(date +%s) - killed )) &&
	echo "gave up after $took s" &&
	test "$took" -lt 45 &&
	test_expect_code 1 wait $client &&
	test_grep "slurmctld has not answered for" run.err &&
	test_grep "unreachable_timeout" run.err &&
	"$ZENC" runs show r-unreach --json >r.json &&
	test "$(test_json r.json "d[\"status\"]")" = failed &&
	test "$(test_json r.json "[s[\"status\"] for s in d[\"steps\"] if s[\"name\"] == \"long\"][0]")" = failed &&
	test "$(test_json r.json "[s[\"error_type\"] for s in d[\"steps\"] if s[\"name\"] == \"long\"][0]")" = OrchestratorUnreachable &&
	test "$(test_json r.json "[s[\"status\"] for s in d[\"steps\"] if s[\"name\"] == \"after\"][0]")" = skipped &&
	test_grep "on_failure long OrchestratorUnreachable" "$HOOKS_LOG" &&
	test_grep ! "after ran" "$HOOKS_LOG" &&
	test "$(wc -l <main.log)" = 1 &&
	req main 1 a.json &&
	test "$(test_json a.json "d[\"json\"][\"error_type\"]")" = OrchestratorUnreachable &&
	test "$(test_json a.json "d[\"json\"][\"step\"]")" = long
'

test_done
