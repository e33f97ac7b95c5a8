#!/bin/sh
# shellcheck disable=SC2016,SC2317,SC2034 # bodies are single-quoted and eval-ed
# shellcheck source-path=SCRIPTDIR
# YAML pipelines: retries with backoff, timeouts and signals, under both
# isolations.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

mkdir -p wf
cat >wf/retry.yaml <<\EOF_
name: retrying
on_start: {run: 'date +%s.%N >>starts'}
steps:
  - name: flaky
    run: echo "attempt $ZENC_ATTEMPT" >>attempts; exit 1
    retry: {max_retries: 2, delay: 300ms, backoff: 2}
    on_retry: {run: 'echo "retry $ZENC_ATTEMPT $ZENC_ERROR_TYPE $ZENC_EXIT_CODE" >>hooks'}
    on_failure: {run: 'echo "failure $ZENC_ATTEMPT" >>hooks'}
EOF_

cat >wf/timeout.yaml <<\EOF_
name: slow
steps:
  - name: sleepy
    run: echo started; sleep 10
    timeout: 500ms
    on_failure: {run: 'echo "$ZENC_ERROR_TYPE" >timeout.hook'}
EOF_

cat >wf/signal.yaml <<\EOF_
name: crashing
steps:
  - name: segv
    run: kill -SEGV $$
    on_failure: {run: 'echo "$ZENC_ERROR_TYPE $ZENC_SIGNAL" >signal.hook'}
EOF_

cat >wf/hog.yaml <<\EOF_
name: hog
steps:
  - name: hog
    run: x=$(head -c 400000000 /dev/zero | tr '\0' a); echo ${#x}
    memory_limit: 64M
    on_failure: {run: 'echo "$ZENC_ERROR_TYPE" >hog.hook'}
EOF_

cat >wf/slow.yaml <<\EOF_
name: napping
steps:
  - name: nap
    run: echo napping >"nap.$NAP_TAG.started"; sleep 30
    on_failure: {run: 'echo "$ZENC_ERROR_TYPE" >"nap.$NAP_TAG.hook"'}
  - name: after
    after: [nap]
    run: "true"
EOF_

test_expect_success 'retries wait delay * backoff^(k-1) between attempts' '
	test_expect_code 1 "$ZENC" run wf/retry.yaml --run-name r1 &&
	test "$(wc -l <wf/attempts)" -eq 3 &&
	test "$(wc -l <wf/starts)" -eq 3 &&
	/usr/bin/python3 -c "
import sys
t = [float(x) for x in open(\"wf/starts\")]
d1, d2 = t[1] - t[0], t[2] - t[1]
print(d1, d2)
sys.exit(0 if 0.3 <= d1 < 2.0 and 0.6 <= d2 < 3.0 and d2 > d1 * 1.5 else 1)
" &&
	printf "retry 1 ExitCode 1\nretry 2 ExitCode 1\nfailure 3\n" >expect &&
	test_cmp expect wf/hooks &&
	"$ZENC" runs show r1 --json >r1.json &&
	test "$(step_field r1.json flaky attempts)" = 3
'

test_expect_success '--retries applies to steps that set none' '
	sed -e "/retry:/d" wf/retry.yaml >wf/noretry.yaml &&
	rm -f wf/attempts &&
	test_expect_code 1 "$ZENC" run wf/noretry.yaml --retries 1 --run-name r2 &&
	test "$(wc -l <wf/attempts)" -eq 2
'

for iso in process none
do
	test_expect_success "a step past its timeout fails with Timeout ($iso)" '
		start=$(date +%s) &&
		test_expect_code 1 "$ZENC" run wf/timeout.yaml --isolation '$iso' \
			--run-name t-'$iso' &&
		test $(($(date +%s) - start)) -lt 9 &&
		"$ZENC" runs show t-'$iso' --json >t.json &&
		test "$(step_field t.json sleepy error_type)" = Timeout &&
		test "$(cat wf/timeout.hook)" = Timeout
	'

	test_expect_success "a command killed by a signal fails with Signal 11 ($iso)" '
		test_expect_code 1 "$ZENC" run wf/signal.yaml --isolation '$iso' \
			--run-name s-'$iso' &&
		"$ZENC" runs show s-'$iso' --json >s.json &&
		test "$(step_field s.json segv error_type)" = Signal &&
		test "$(step_field s.json segv signal)" = 11 &&
		step_field s.json segv error_message >msg &&
		test "$(head -n 1 msg)" = "killed by SIGSEGV" &&
		test "$(cat wf/signal.hook)" = "Signal 11"
	'
done

test_expect_success 'a command past its memory_limit fails with OutOfMemory' '
	(cd wf && test_expect_code 1 "$ZENC" run hog.yaml -q) &&
	test "$(cat wf/hog.hook)" = OutOfMemory
'

for iso in process none; do
	test_expect_success "SIGTERM to zenc run stops the command; its hook says Cancelled ($iso)" '
		export NAP_TAG='"$iso"'
		# On its own: a background and-list would background all of it.
		(cd wf && exec "$ZENC" run slow.yaml --isolation $NAP_TAG) 2>err.$NAP_TAG &
		pid=$! &&
		i=0 &&
		while [ ! -f wf/nap.$NAP_TAG.started ] ||
		      ! grep -q "^Step nap has started" err.$NAP_TAG; do
			i=$((i + 1)) && test "$i" -lt 100 && sleep 0.1 || return 1
		done &&
		kill -TERM $pid &&
		start=$(date +%s) &&
		rc=0 && wait $pid || rc=$? &&
		sed "s/^/zenc: /" err.$NAP_TAG &&
		test "$rc" = 130 &&
		test $(($(date +%s) - start)) -lt 10 &&
		test "$(cat wf/nap.$NAP_TAG.hook)" = Cancelled &&
		last_run &&
		test "$(step error_type nap)" = Cancelled &&
		test "$(test_json run.json "d[\"status\"]")" = cancelled &&
		test "$(step status after)" = skipped
	'
done

test_done
