#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# The standard alerter hooks as run-level hooks: one alert per run that
# names every failed step and the stack, from a C pipeline
# (zenc_pipeline_on_run_failure) and from YAML (on_run_failure:
# alerter_failure_hook); on_run_success posts one alert for a run that
# succeeded.  A real HTTP receiver on loopback counts what arrives.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
PIPE=$PROGRAMS/run_alert_pipeline

. "$TEST_DIRECTORY/receiver.sh"

start_receiver main

test_expect_success 'set up a webhook alerter' '
	"$ZENC" alerter register hook --flavor webhook \
		--url "http://127.0.0.1:$PORT_main/hook" &&
	use hook
'

check_digest () {
	/usr/bin/python3 - "$TMP/main.log" "$1" "$2" <<-\PY
	import json, sys
	rs = [json.loads(l)["json"] for l in open(sys.argv[1])]
	assert len(rs) == 1, rs
	a = rs[0]
	assert a["status"] == "failed", a
	assert a["event"] == "on_run_failure", a
	assert a["step"] is None, a
	assert a["run"] == sys.argv[3], a
	assert a["pipeline"] == sys.argv[2], a
	assert a["stack"] == "s-hook", a
	for s in ("s1", "s2", "s3"):
	    assert "\n- %s: " % s in a["message"], a
	names = a["error_message"].split(", ")
	assert sorted(names) == ["s1", "s2", "s3"], a
	assert "prep" not in a["message"], a
	PY
}

test_expect_success 'C: three failed steps, one alert that names them and the stack' '
	: >main.log &&
	test_expect_code 1 "$PIPE" run --keep-going --run-name r-c >out 2>err &&
	check_digest run_alerts r-c &&
	test_grep "s1: ValueError: s1 broke" main.log &&
	"$ZENC" runs show r-c --json >run.json &&
	test "$(test_json run.json "[h[\"hook\"] + \":\" + h[\"status\"] for h in d[\"run_hooks\"]]")" = \
		"[\"zenc_alerter_failure_hook:completed\"]" &&
	"$ZENC" alerts list --json >alerts.json &&
	test "$(test_json alerts.json "len(d)")" = 1 &&
	test "$(test_json alerts.json "d[0][\"status\"]")" = delivered &&
	test "$(test_json alerts.json "d[0][\"event\"]")" = on_run_failure
'

test_expect_success 'C: on_run_success posts one alert for a run that succeeded' '
	: >main.log &&
	ZA_OK=1 "$PIPE" run --run-name r-ok >out 2>err &&
	test "$(wc -l <main.log)" = 1 &&
	req main 1 r.json &&
	test "$(test_json r.json "d[\"json\"][\"status\"]")" = completed &&
	test "$(test_json r.json "d[\"json\"][\"event\"]")" = on_run_success &&
	test "$(test_json r.json "d[\"json\"][\"stack\"]")" = s-hook &&
	test_grep "Run r-ok of pipeline run_alerts succeeded: 4 steps completed" r.json
'

test_expect_success 'YAML: on_run_failure: alerter_failure_hook, one alert for three failures' '
	cat >p.yaml <<-\EOF_YAML &&
	name: yrun
	on_run_failure: alerter_failure_hook
	steps:
	  - name: prep
	    run: "true"
	  - name: s1
	    run: "exit 1"
	  - name: s2
	    run: "exit 2"
	  - name: s3
	    run: "exit 3"
	EOF_YAML
	: >main.log &&
	test_expect_code 1 "$ZENC" run p.yaml --keep-going --run-name r-y >out 2>err &&
	check_digest yrun r-y
'

test_expect_success 'YAML: step-level and run-level alerts add up' '
	cat >q.yaml <<-\EOF_YAML &&
	name: yboth
	on_failure: alerter_failure_hook
	on_run_failure: alerter_failure_hook
	steps:
	  - name: s1
	    run: "exit 1"
	  - name: s2
	    run: "exit 1"
	EOF_YAML
	: >main.log &&
	test_expect_code 1 "$ZENC" run q.yaml --keep-going >out 2>err &&
	test "$(wc -l <main.log)" = 3 &&
	test "$(grep -c "\"event\": \"on_run_failure\"" main.log)" = 1
'

test_done
