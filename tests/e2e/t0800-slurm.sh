#!/bin/sh
# shellcheck disable=SC2016 # bodies are single-quoted and eval-ed
# The Slurm orchestrator (docs/slurm.md) on a real single-node Slurm:
# steps as jobs with afterok dependencies, hooks inside the jobs, jobs
# that Slurm kills getting their failure hooks from the client, retries
# by resubmission, skipped descendants, --detach, `zenc runs cancel`, the
# same records as the local orchestrator, and the overhead next to
# Slurm's own floor.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/slurm.sh"

ZT=$PROGRAMS/zt_pipeline
ZT_LOG=$TMP/hooks.log
export ZT_LOG

# job_of STEP STATE: the id of the job of STEP (its comment, RUN-ID/STEP,
# ends in /STEP; or is STEP, when STEP is RUN-ID/STEP) that is in STATE.
job_of () {
	squeue -h -t all -o '%i %k %T' |
		awk -v s="/$1" -v t="$2" -v w="$1" '$3 == t && ($2 == w || substr($2, length($2) - length(s) + 1) == s) {print $1}' |
		tail -n 1
}

# run_id_of FILE: waits (30 s at most) for "(id RUN-ID)" in FILE, the
# output of a run, and prints RUN-ID.
run_id_of () {
	_ri_i=0
	until grep -q "(id [0-9a-f-]*)" "$1" 2>/dev/null; do
		_ri_i=$((_ri_i + 1))
		[ "$_ri_i" -lt 300 ] || { echo "run_id_of: no run id in $1" >&2; return 1; }
		sleep 0.1
	done
	sed -n "s/.*(id \([0-9a-f-]*\)).*/\1/p" "$1" | head -n 1
}

# wait_job STEP STATE: waits (30 s at most) for a job of STEP in STATE and
# prints its id.
wait_job () {
	_wj_i=0
	while :; do
		_wj_id=$(job_of "$1" "$2")
		if [ -n "$_wj_id" ]; then
			echo "$_wj_id"
			return 0
		fi
		_wj_i=$((_wj_i + 1))
		[ "$_wj_i" -lt 300 ] || { echo "wait_job: no $2 job for $1" >&2; return 1; }
		sleep 0.1
	done
}

# norm FILE: a run's JSON without what differs between two runs (ids,
# names, times, the stack), steps sorted by name.
norm () {
	/usr/bin/python3 - "$1" <<-\PY
	import json, sys
	d = json.load(open(sys.argv[1]))
	rid = d["id"]
	def clean(x):
	    if isinstance(x, dict):
	        return {k: clean(v) for k, v in x.items()
	                if k not in ("started", "ended", "duration")}
	    if isinstance(x, list):
	        return [clean(v) for v in x]
	    if isinstance(x, str):
	        return x.replace(rid, "RUN")
	    return x
	for k in ("id", "name", "stack"):
	    d.pop(k, None)
	d["steps"].sort(key=lambda s: s["name"])
	print(json.dumps(clean(d), sort_keys=True, indent=1))
	PY
}

mkdir -p wf
cat >wf/chain.yaml <<\EOF_
name: ychain
steps:
  - name: load
    run: printf '41\n' >"$ZENC_OUTPUT_DIR/rows"
    outputs: {rows: int}
  - name: train
    inputs: {rows: load.rows}
    run: echo $(( $(cat "$ZENC_INPUT_ROWS") + 1 )) >"$ZENC_OUTPUT_DIR/total"
    outputs: {total: int}
    on_success: {run: echo "on_success $ZENC_STEP_NAME" >>"$ZT_LOG"}
  - name: report
    inputs: {total: train.total}
    run: cp "$ZENC_INPUT_TOTAL" report.out
EOF_

# The first attempt of `slow` waits to be cancelled; the second is quick.
cat >wf/retry.yaml <<\EOF_
name: yretry
on_retry: {run: echo "on_retry $ZENC_STEP_NAME $ZENC_ATTEMPT $ZENC_ERROR_TYPE" >>"$ZT_LOG"}
on_failure: {run: echo "on_failure $ZENC_STEP_NAME $ZENC_ATTEMPT $ZENC_ERROR_TYPE" >>"$ZT_LOG"}
steps:
  - name: slow
    run: if [ "$ZENC_ATTEMPT" = 1 ]; then sleep 60; fi; echo ok
    retry: {max_retries: 1}
  - name: after
    after: [slow]
    run: echo "after ran" >>"$ZT_LOG"
EOF_

{
	echo "name: ten"
	echo "steps:"
	echo "  - name: s1"
	echo "    run: \"true\""
	for i in 2 3 4 5 6 7 8 9 10; do
		echo "  - name: s$i"
		echo "    after: [s$((i - 1))]"
		echo "    run: \"true\""
	done
} >wf/ten.yaml

test_expect_success 'a slurm stack with an sqlite store or a local artifact path is refused' '
	"$ZENC" orchestrator register strict --flavor slurm &&
	"$ZENC" stack register strict -o strict &&
	test_expect_code 3 "$ZT" run --stack strict 2>err &&
	test_grep "needs a metadata store that every node reaches" err &&
	test_grep "single_node=true" err &&
	"$ZENC" runs list --json >list.json &&
	test "$(test_json list.json "len(d)")" = 0
'

test_expect_success 'a slurm stack is set up (single node)' '
	"$ZENC" orchestrator register sl --flavor slurm --single_node=true \
		--poll_interval=0.2 --partition=debug \
		--extra_args="--nice=5  --no-requeue" &&
	"$ZENC" artifact-store register art --flavor local --path="$TMP/art" &&
	"$ZENC" stack register sl -o sl -a art &&
	"$ZENC" stack register loc -a art &&
	"$ZENC" stack set sl &&
	test_must_fail "$ZENC" orchestrator register bad --flavor slurm \
		--partitoin=x 2>err &&
	test_grep "did you mean .partition." err
'

# A job that Slurm itself kills at its time limit takes about 70 s here
# (services.md), so that run starts now, in the background, and the last
# test looks at it.
cat >wf/limited.yaml <<\EOF_
name: limited
steps:
  - name: limited
    run: sleep 600
    on_failure: {run: 'echo "$ZENC_ERROR_TYPE $ZENC_ERROR_MESSAGE" >"$ZT_LOG.limited"'}
  - name: after_limited
    after: [limited]
    run: "true"
EOF_
test_expect_success 'a run whose job Slurm will kill at its time limit starts' '
	"$ZENC" orchestrator register tl --flavor slurm --single_node=true \
		--poll_interval=0.5 --extra_args="--time=1" &&
	"$ZENC" stack register tl -o tl -a art || return 1
	{ rc=0; "$ZENC" run wf/limited.yaml --stack tl -q >limited.out 2>&1 ||
	  rc=$?; echo $rc >limited.rc; } &
	echo $! >limited.pid &&
	test_register_pid "$(cat limited.pid)" &&
	i=0 &&
	until client=$(pgrep -P "$(cat limited.pid)" -x zenc); do
		i=$((i + 1)) &&
		test "$i" -lt 100 || { echo "no zenc client started"; return 1; }
		sleep 0.05
	done &&
	test_register_pid "$client" &&
	wait_job limited RUNNING >limited.job
'

test_expect_success 'a C pipeline runs as Slurm jobs with afterok dependencies' '
	: >"$ZT_LOG" &&
	ZT_PIPELINE_HOOKS=1 "$ZT" run 2>out &&
	test_grep "^sink got 42$" "$ZT_LOG" &&
	test_grep "^on_success p_success work attempt=1 mode=ok$" "$ZT_LOG" &&
	src=$(sed -n "s/^Step source submitted as Slurm job \([0-9]*\)\.$/\1/p" out) &&
	wrk=$(sed -n "s/^Step work submitted as Slurm job \([0-9]*\), afterok:\([0-9]*\)\.$/\1 \2/p" out) &&
	test "${wrk#* }" = "$src" &&
	test_grep "^Step sink submitted as Slurm job [0-9]*, afterok:${wrk% *}\.$" out &&
	test "$(slurm_job_field "$src" JobState)" = COMPLETED &&
	test "$(slurm_job_field "$src" Nice)" = 5 &&
	test "$(slurm_job_field "$src" Partition)" = debug &&
	test "$(slurm_job_field "$src" Comment)" = "$(sed -n "s/.*(id \([0-9a-f-]*\)).*/\1/p" out)/source" &&
	test "$(slurm_job_field "$src" JobName)" = "zenc-$(sed -n "s/.*(id \([0-9a-f]\{8\}\).*/\1/p" out)-source" &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	test "$(test_json run.json "sorted(s[\"status\"] for s in d[\"steps\"])")" = "[\"completed\", \"completed\", \"completed\", \"completed\"]" &&
	test "$(test_json run.json "[s for s in d[\"steps\"] if s[\"name\"] == \"source\"][0][\"ended\"] <= [s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0][\"started\"]")" = true &&
	test "$(test_json run.json "[s for s in d[\"steps\"] if s[\"name\"] == \"work\"][0][\"ended\"] <= [s for s in d[\"steps\"] if s[\"name\"] == \"sink\"][0][\"started\"]")" = true &&
	step_dir="$TMP/art/$id/$(printf %s work)" &&
	test -f "$step_dir/slurm.${wrk% *}.out"
'

test_expect_success 'a YAML pipeline runs as Slurm jobs; inputs come from the store' '
	: >"$ZT_LOG" &&
	"$ZENC" run wf/chain.yaml 2>out &&
	test "$(cat wf/report.out)" = 42 &&
	test_grep "^on_success train$" "$ZT_LOG" &&
	test_grep "^Step train submitted as Slurm job [0-9]*, afterok:[0-9]*\.$" out &&
	last_run &&
	test "$(test_json run.json "d[\"pipeline\"]")" = ychain &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	test "$(step status report)" = completed
'

test_expect_success 'a raised failure fires its hook in the job; Slurm cancels the jobs of descendants, skipped' '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_PIPELINE_HOOKS=1 "$ZT" run --keep-going \
		--param work.mode=raise 2>out &&
	test_grep "^on_failure p_failure work attempt=1 err=ValueError:My exception exit=0 sig=0 mode=raise$" "$ZT_LOG" &&
	test_grep ! "sink got" "$ZT_LOG" &&
	test_grep "^side ran$" "$ZT_LOG" &&
	snk=$(sed -n "s/^Step sink submitted as Slurm job \([0-9]*\),.*/\1/p" out) &&
	test "$(slurm_job_field "$snk" JobState)" = CANCELLED &&
	test "$(slurm_job_field "$snk" Reason)" = DependencyNeverSatisfied &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = failed &&
	test "$(step status work)" = failed &&
	test "$(step error_type work)" = ValueError &&
	test "$(step status sink)" = skipped &&
	test "$(step hooks sink)" = "[]"
'

test_expect_success 'a step timeout is enforced inside the job: Timeout; time and memory go to sbatch' '
	: >"$ZT_LOG" &&
	test_expect_code 1 env ZT_PIPELINE_HOOKS=1 ZT_TIMEOUT=1 ZT_MEMORY=100 \
		"$ZT" run --param work.mode=loop 2>out &&
	test_grep "^on_failure p_failure work attempt=1 err=Timeout:step exceeded its timeout of 1s" "$ZT_LOG" &&
	wrk=$(sed -n "s/^Step work submitted as Slurm job \([0-9]*\), afterok:[0-9]*\.$/\1/p" out) &&
	test "$(slurm_job_field "$wrk" TimeLimit)" = 00:02:00 &&
	test "$(slurm_job_field "$wrk" MinMemoryNode)" = 100M &&
	test "$(slurm_job_field "$wrk" NumCPUs)" = 1 &&
	last_run &&
	test "$(step error_type work)" = Timeout &&
	test "$(step status sink)" = skipped
'

test_expect_success 'a job cancelled with scancel gets its failure hook from the client: Cancelled' '
	: >"$ZT_LOG" && rm -f client.out || return 1
	{ if ZT_PIPELINE_HOOKS=1 ZT_START_END=1 "$ZT" run \
		--param work.sleep=60 >client.out 2>&1
	then echo 0; else echo $?; fi >client.rc; } &
	client=$! &&
	id=$(run_id_of client.out) &&
	job=$(wait_job "$id/work" RUNNING) &&
	sleep 0.5 &&
	scancel "$job" &&
	wait "$client" &&
	test "$(cat client.rc)" = 1 &&
	test "$(grep -c "^Step work has started (Slurm job $job)\.$" client.out)" = 1 &&
	test_grep "^on_failure p_failure work attempt=1 err=Cancelled:Slurm job $job was cancelled exit=0 sig=0 mode=ok$" "$ZT_LOG" &&
	test_grep "^on_end on_end_hook work attempt=1 err=Cancelled" "$ZT_LOG" &&
	last_run &&
	test "$(step status work)" = failed &&
	test "$(step error_type work)" = Cancelled &&
	test "$(test_json run.json "[h[\"hook\"] for s in d[\"steps\"] if s[\"name\"] == \"work\" for h in s[\"hooks\"]]")" = "[\"p_failure\", \"on_end_hook\"]" &&
	test "$(step status sink)" = skipped &&
	test "$(step hooks sink)" = "[]"
'

test_expect_success 'a cancelled job with retries left is resubmitted, with its descendants' '
	: >"$ZT_LOG" || return 1
	{ if "$ZENC" run wf/retry.yaml >client.out 2>&1
	then echo 0; else echo $?; fi >client.rc; } &
	client=$! &&
	job=$(wait_job slow RUNNING) &&
	old=$(job_of after PENDING) &&
	sleep 0.5 &&
	scancel "$job" &&
	wait "$client" &&
	test "$(cat client.rc)" = 0 &&
	test_grep "^on_retry slow 1 Cancelled$" "$ZT_LOG" &&
	test_grep ! "^on_failure" "$ZT_LOG" &&
	test_grep "^after ran$" "$ZT_LOG" &&
	test_grep "^Step slow submitted as Slurm job [0-9]*\.$" client.out &&
	new=$(sed -n "s/^Step after submitted as Slurm job \([0-9]*\), afterok:.*/\1/p" client.out | tail -n 1) &&
	test "$new" != "$old" &&
	test "$(slurm_job_field "$old" JobState)" = CANCELLED &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	test "$(step attempts slow)" = 2 &&
	test "$(test_json run.json "[[a[\"status\"], a[\"error_type\"]] for s in d[\"steps\"] if s[\"name\"] == \"slow\" for a in s[\"attempt_history\"]]")" = "[[\"failed\", \"Cancelled\"], [\"completed\", null]]" &&
	test "$(step status after)" = completed
'

test_expect_success 'zenc runs cancel cancels a run: hooks fire, the rest is skipped' '
	: >"$ZT_LOG" && rm -f client.out || return 1
	{ if ZT_PIPELINE_HOOKS=1 "$ZT" run --param work.sleep=60 \
		>client.out 2>&1
	then echo 0; else echo $?; fi >client.rc; } &
	client=$! &&
	id=$(run_id_of client.out) &&
	wait_job "$id/work" RUNNING >/dev/null &&
	"$ZENC" runs cancel "$id" >cancel.out &&
	test_grep "Cancelled [0-9]* Slurm job" cancel.out &&
	wait "$client" &&
	test "$(cat client.rc)" = 130 &&
	test_grep "^on_failure p_failure work attempt=1 err=Cancelled:" "$ZT_LOG" &&
	"$ZENC" runs show "$id" --json >run.json &&
	test "$(test_json run.json "d[\"status\"]")" = cancelled &&
	test "$(step error_type work)" = Cancelled &&
	test "$(step status sink)" = skipped
'

test_expect_success 'SIGTERM to the client cancels the jobs; hooks fire, the rest is skipped' '
	: >"$ZT_LOG" && rm -f client.out || return 1
	ZT_PIPELINE_HOOKS=1 "$ZT" run --param work.sleep=60 >client.out 2>&1 &
	client=$! &&
	id=$(run_id_of client.out) &&
	wait_job "$id/work" RUNNING >/dev/null &&
	kill -TERM "$client" &&
	rc=0 && wait "$client" || rc=$? &&
	test "$rc" = 130 &&
	test_grep "interrupted: cancelling the run.s Slurm jobs" client.out &&
	test_grep "^on_failure p_failure work attempt=1 err=Cancelled:the run was interrupted" "$ZT_LOG" &&
	test -z "$(squeue -h -o "%i %k" | grep "$(sed -n "s/.*(id \([0-9a-f-]*\)).*/\1/p" client.out)")" &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = cancelled &&
	test "$(step status sink)" = skipped
'

test_expect_success '--detach returns at once; the last job ends the run' '
	: >"$ZT_LOG" &&
	ZT_RUN_HOOKS=1 "$ZT" run --detach 2>out &&
	id=$(sed -n "s/.*(id \([0-9a-f-]*\)).*/\1/p" out) &&
	test_grep "ends the run" out &&
	"$ZENC" runs show "$id" --json >run.json &&
	test "$(test_json run.json "d[\"status\"]")" = running &&
	fin=$(wait_job __finish COMPLETED) &&
	"$ZENC" runs show "$id" --json >run.json &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	test "$(test_json run.json "[h[\"hook\"] for h in d[\"run_hooks\"]]")" = "[\"run_ok\"]" &&
	test_grep "^on_run_success run_ok - failed=0 pipeline=zt$" "$ZT_LOG"
'

test_expect_success '--detach: a job killed by Slurm gets its failure hook from the last job' '
	: >"$ZT_LOG" &&
	ZT_PIPELINE_HOOKS=1 ZT_RUN_HOOKS=1 "$ZT" run --detach \
		--param work.sleep=60 2>out &&
	id=$(sed -n "s/.*(id \([0-9a-f-]*\)).*/\1/p" out) &&
	job=$(wait_job "$id/work" RUNNING) &&
	scancel "$job" &&
	for i in $(seq 300); do
		"$ZENC" runs show "$id" --json >run.json &&
		test "$(test_json run.json "d[\"status\"]")" = running || break
		sleep 0.1
	done &&
	test "$(test_json run.json "d[\"status\"]")" = failed &&
	test "$(step error_type work)" = Cancelled &&
	test "$(step status sink)" = skipped &&
	test_grep "^on_failure p_failure work attempt=1 err=Cancelled:Slurm job $job was cancelled" "$ZT_LOG" &&
	test_grep "^on_run_failure run_bad - failed=1 pipeline=zt$" "$ZT_LOG"
'

# The same scenarios on both orchestrators: deterministic ones (with -k,
# the independent step runs whatever the timing).
scenario () {
	ZT_PIPELINE_HOOKS=1 ZT_RUN_HOOKS=1 "$ZT" run -q --stack "$1" &&
	test_expect_code 1 env ZT_PIPELINE_HOOKS=1 ZT_RUN_HOOKS=1 "$ZT" run \
		-q -k --stack "$1" --param work.mode=raise &&
	ZT_START_END=1 ZT_RETRY=2,0,1 "$ZT" run -q --stack "$1" \
		--param work.mode=flaky --param work.fail_times=2
}

test_expect_success 'zenc runs show reports the same records as on the local orchestrator' '
	"$ZENC" runs list --json >before.json &&
	n0=$(test_json before.json "len(d)") &&
	scenario loc 2>/dev/null &&
	"$ZENC" runs list --json >l.json &&
	scenario sl 2>/dev/null &&
	"$ZENC" runs list --json >s.json &&
	for k in 0 1 2; do
		"$ZENC" runs show "$(test_json l.json "d[2 - $k][\"id\"]")" --json >loc.$k.json &&
		"$ZENC" runs show "$(test_json s.json "d[2 - $k][\"id\"]")" --json >sl.$k.json &&
		norm loc.$k.json >loc.$k.txt &&
		norm sl.$k.json >sl.$k.txt &&
		test_cmp loc.$k.txt sl.$k.txt || return 1
	done &&
	test_grep "\"status\": \"failed\"" sl.1.txt
'

if [ -x "${ZENC_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/initdb" ] &&
	[ -f "$TEST_DIRECTORY/pg.sh" ]; then
	# A server that does not start fails this test only, not the script.
	PG_NO_AUTOSTART=1
	. "$TEST_DIRECTORY/pg.sh"
	pg_ok=
	pg_start >"$TMP/pg-start.log" 2>&1 && pg_ok=1
	test_expect_success 'PostgreSQL store: jobs record into it' '
		test -n "$pg_ok" || { cat "$TMP/pg-start.log"; return 1; }
		printf "%s\n" "$PG_PASSWORD" | "$ZENC" secret set pgpass &&
		"$ZENC" metadata-store register pg --flavor postgres \
			--dsn="$PG_DSN password={{secret.pgpass}}" &&
		"$ZENC" stack register slpg -o sl -a art -m pg &&
		"$ZENC" stack register strictpg -o strict -a art -m pg &&
		test_expect_code 3 "$ZT" run --stack strictpg 2>err &&
		test_grep "needs an artifact store on a file system every node mounts" err &&
		: >"$ZT_LOG" &&
		test_expect_code 1 env ZT_PIPELINE_HOOKS=1 "$ZT" run --stack slpg \
			--param work.mode=raise 2>out &&
		test_grep "^on_failure p_failure work attempt=1 err=ValueError" "$ZT_LOG" &&
		"$ZENC" runs list --stack slpg --json >list.json &&
		test "$(test_json list.json "len(d)")" = 1 &&
		"$ZENC" runs show "$(test_json list.json "d[0][\"id\"]")" \
			--stack slpg --json >run.json &&
		test "$(step status source)" = completed &&
		test "$(step status work)" = failed &&
		test "$(step status sink)" = skipped
	'
else
	test_skip 'PostgreSQL store: jobs record into it' 'PostgreSQL 15 not installed'
fi

test_expect_success 'overhead: a 10-step chain next to 10 chained sbatch jobs' '
	t0=$(date +%s.%N) &&
	"$ZENC" run -q wf/ten.yaml &&
	t1=$(date +%s.%N) &&
	prev= &&
	for i in 1 2 3 4 5 6 7 8 9 10; do
		prev=$(sbatch --parsable -o /dev/null -e /dev/null \
			${prev:+--dependency=afterok:$prev} \
			--kill-on-invalid-dep=yes --wrap true) || return 1
	done &&
	slurm_wait_state "$prev" COMPLETED 120 &&
	t2=$(date +%s.%N) &&
	awk -v a="$t0" -v b="$t1" -v c="$t2" "BEGIN {
		printf \"# 10-step chain, submission to completion: zenc on slurm %.2fs; 10 chained sbatch --wrap true (afterok) %.2fs\\n\", b - a, c - b }" >"$TMP/timing.txt" &&
	last_run &&
	test "$(test_json run.json "d[\"status\"]")" = completed &&
	test "$(test_json run.json "len(d[\"steps\"])")" = 10
'
if [ -f "$TMP/timing.txt" ]; then
	cat "$TMP/timing.txt"
fi

test_expect_success 'a job Slurm killed at its time limit fires its failure hook: Timeout' '
	pid=$(cat limited.pid) &&
	i=0 &&
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1)) &&
		test "$i" -lt 1800 || { echo "the run did not end"; return 1; }
		sleep 0.1
	done &&
	test "$(cat limited.rc)" = 1 &&
	test "$(slurm_job_field "$(cat limited.job)" JobState)" = TIMEOUT &&
	test_grep "^Timeout " "$ZT_LOG.limited" &&
	"$ZENC" runs list --json --pipeline limited >ll.json &&
	"$ZENC" runs show "$(test_json ll.json "d[0][\"id\"]")" --json >run.json &&
	test "$(step error_type limited)" = Timeout &&
	test "$(step status after_limited)" = skipped &&
	test "$(test_json run.json "[h[\"event\"] for s in d[\"steps\"] if s[\"name\"] == \"limited\" for h in s[\"hooks\"]]")" = "[\"on_failure\"]"
'

test_done
