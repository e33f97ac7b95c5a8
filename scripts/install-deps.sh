#!/bin/sh
# Installs the Debian packages zenc needs to build and test, when missing.
# Usage: scripts/install-deps.sh [--test]   (--test adds what the suite needs)
#
# Runs apt-get update and apt-get install with apt's own progress on the
# screen (a first install of the test set takes a few minutes).  As a user
# other than root it uses sudo.  Exits 0 at once when everything is there.
set -eu

pkgs="build-essential cmake pkg-config libsqlite3-dev sqlite3 libyaml-dev
libjansson-dev libcurl4-openssl-dev libmicrohttpd-dev libpq-dev
libxxhash-dev"
if [ "${1:-}" = "--test" ]; then
	# The suite's services and tools: the HTTP receiver and the SMTP sink
	# (python3, aiosmtpd), PostgreSQL 15, a single-node Slurm, the
	# dashboard's browser test (Debian's chromium, its chromedriver and
	# selenium for Python), the Debian package build and its man pages,
	# clang-format (the sources' format is checked), GNU time (the
	# artifact tests measure a run's peak memory) and xxhsum (their
	# checksums are checked against it).
	pkgs="$pkgs libcmocka-dev python3 python3-aiosmtpd valgrind curl procps
	chromium chromium-driver python3-selenium postgresql-15 munge
	slurm-wlm slurmctld slurmd slurm-client dpkg-dev debhelper fakeroot
	man-db clang-format time xxhash"
fi

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "zenc: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y \
	--no-install-recommends $missing
