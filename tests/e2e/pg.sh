# shellcheck shell=sh
# tests/e2e/pg.sh: a throwaway PostgreSQL 15 cluster for one test script.
# Source it after lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$TEST_DIRECTORY/pg.sh"
#
# It starts a server of its own (initdb + pg_ctl, no systemd) in $TMP/pg on
# a free port of 127.0.0.1, with fsync off, and skips the whole script
# (test_skip_all) when the PostgreSQL 15 server binaries are not installed
# (Debian: postgresql-15; another place: ZENC_TEST_PG_BIN=DIR).  The
# server's pid is registered with test_register_pid, so it is stopped
# when the script ends, however it ends.  As root, the cluster belongs to
# the user postgres (initdb refuses to run as root), and lives in a
# folder of its own under /tmp when postgres cannot enter $TMP (a clone
# under /root, which is 0700); that folder is removed with $TMP.
#
# A server that cannot be set up ends the script at once with status 1
# and the server's log.  With PG_NO_AUTOSTART=1 set before sourcing,
# nothing is started: call pg_start, which returns non-zero (and says
# why) instead, so that a script can fail only the tests that need it.
#
# Sets:
#   PG_HOST=127.0.0.1 PG_PORT PG_DB=zenc PG_USER=zenc
#   PG_PASSWORD      the password of PG_USER (random; TCP connections
#                    must give it: scram-sha-256)
#   PG_DSN           "host=... port=... dbname=zenc user=zenc", no password
#   PG_DIR           the cluster's folder (the log is $PG_DIR/pg.log)
# Helpers:
#   pg_psql [PSQL-ARGS...]  psql as the superuser over the unix socket,
#                           on database postgres unless -d is given
#   pg_createdb NAME        a new database owned by PG_USER

_pg_bin=${ZENC_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}
for _pg_tool in initdb pg_ctl postgres psql; do
	if [ ! -x "$_pg_bin/$_pg_tool" ]; then
		test_skip_all "PostgreSQL 15 not installed ($_pg_bin/$_pg_tool missing; apt install postgresql-15)"
	fi
done

PG_DIR=$TMP/pg
PG_PORT=
PG_HOST=127.0.0.1
PG_DB=zenc
PG_USER=zenc
PG_PASSWORD=zp$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
export PG_DIR PG_HOST PG_DB PG_USER PG_PASSWORD

# As root, every server-side command runs as the user postgres.
_pg_as=
if [ "$(id -u)" -eq 0 ]; then
	id postgres >/dev/null 2>&1 ||
		test_skip_all "no user 'postgres' to run the server as"
	_pg_as="runuser -u postgres --"
fi

pg_psql () {
	_pp_db=postgres
	case " $* " in
	*" -d "*) _pp_db= ;;
	esac
	"$_pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" \
		-U postgres ${_pp_db:+-d "$_pp_db"} "$@"
}

pg_createdb () {
	pg_psql -c "CREATE DATABASE \"$1\" OWNER \"$PG_USER\""
}

pg_start () {
	# The unix socket lives in PG_DIR; its path must fit in sun_path.  The
	# server's user must be able to enter every folder above PG_DIR.
	mkdir -p "$TMP/.test" || return 1
	if [ "${#PG_DIR}" -gt 90 ] ||
		{ [ -n "$_pg_as" ] && ! $_pg_as test -x "$TMP/.test"; }; then
		PG_DIR=$(mktemp -d /tmp/zenc-pg.XXXXXX) || return 1
		test_register_dir "$PG_DIR"
	fi
	mkdir -p "$PG_DIR" || return 1
	chmod 755 "$PG_DIR"
	[ -z "$_pg_as" ] || chown postgres:postgres "$PG_DIR" || return 1

	# Local (unix socket) connections are trusted: only the superuser uses
	# them, for set-up.  TCP needs the password.
	# shellcheck disable=SC2086
	$_pg_as "$_pg_bin/initdb" -D "$PG_DIR/data" -U postgres --no-sync -E UTF8 \
		--locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 \
		>"$PG_DIR/initdb.log" 2>&1 || {
		echo "pg.sh: initdb failed:"
		sed 's/^/# /' "$PG_DIR/initdb.log"
		return 1
	}

	# A free port can be taken between the probe and the bind: try again.
	_pg_try=0
	while :; do
		PG_PORT=$(test_free_port)
		# shellcheck disable=SC2086
		if $_pg_as "$_pg_bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/pg.log" \
			-w -t 30 -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=$PG_HOST -c fsync=off -c full_page_writes=off" \
			start >"$PG_DIR/pg_ctl.log" 2>&1; then
			break
		fi
		_pg_try=$((_pg_try + 1))
		if [ "$_pg_try" -ge 3 ]; then
			echo "pg.sh: the server did not start:"
			sed 's/^/# /' "$PG_DIR/pg_ctl.log" "$PG_DIR/pg.log"
			return 1
		fi
	done
	export PG_PORT
	test_register_pid "$(head -n 1 "$PG_DIR/data/postmaster.pid")" || return 1

	# The password goes in as a psql variable, quoted by psql.
	pg_psql -v "pw=$PG_PASSWORD" >"$PG_DIR/setup.log" 2>&1 <<-'SQL' || {
	CREATE ROLE zenc LOGIN PASSWORD :'pw';
	SQL
		echo "pg.sh: cannot create the role:"
		sed 's/^/# /' "$PG_DIR/setup.log"
		return 1
	}
	pg_createdb "$PG_DB" >>"$PG_DIR/setup.log" 2>&1 || {
		echo "pg.sh: cannot create the database:"
		sed 's/^/# /' "$PG_DIR/setup.log"
		return 1
	}
	PG_DSN="host=$PG_HOST port=$PG_PORT dbname=$PG_DB user=$PG_USER"
	export PG_DSN
}

if [ "${PG_NO_AUTOSTART:-0}" != 1 ]; then
	pg_start || exit 1
fi
