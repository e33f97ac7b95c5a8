# shellcheck shell=sh
# Helpers of the alerter tests (t0600-*), sourced after lib.sh: a real HTTP
# receiver on loopback (receiver.py) per name, and small accessors.

# start_receiver NAME [receiver.py options]: starts tests/e2e/receiver.py
# logging to NAME.log, registers it, and sets PORT_<NAME>.
start_receiver () {
	_sr_name=$1
	shift
	rm -f "$TMP/$_sr_name.port"
	/usr/bin/python3 "$TEST_DIRECTORY/receiver.py" \
		--log "$TMP/$_sr_name.log" --port-file "$TMP/$_sr_name.port" \
		"$@" >"$TMP/$_sr_name.out" 2>&1 &
	test_register_pid $! || return 1
	_sr_i=0
	while [ ! -s "$TMP/$_sr_name.port" ] && [ "$_sr_i" -lt 200 ]; do
		sleep 0.05
		_sr_i=$((_sr_i + 1))
	done
	[ -s "$TMP/$_sr_name.port" ] || {
		echo "receiver $_sr_name did not start" >&2
		cat "$TMP/$_sr_name.out" >&2
		return 1
	}
	eval "PORT_$_sr_name=\$(cat \"\$TMP/\$_sr_name.port\")"
}

# Line N of a receiver log, as its own JSON file.
req () {
	sed -n "$2p" "$TMP/$1.log" >"$3"
	test -s "$3"
}

# use ALERTER: a stack with it, active.
use () {
	"$ZENC" stack register "s-$1" -al "$1" --set >/dev/null 2>&1 ||
		"$ZENC" stack set "s-$1" >/dev/null
}
