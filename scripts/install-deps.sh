#!/bin/sh
# Installs the Debian packages zenc needs to build and test, when missing.
# Usage: scripts/install-deps.sh [--test]   (--test adds what the suite needs)
set -eu

pkgs="build-essential cmake pkg-config libsqlite3-dev sqlite3 libyaml-dev
libcurl4-openssl-dev libmicrohttpd-dev libpq-dev"
if [ "${1:-}" = "--test" ]; then
	pkgs="$pkgs libcmocka-dev python3 python3-aiosmtpd valgrind curl procps
	chromium nodejs postgresql-15 munge slurm-wlm slurmctld slurmd
	slurm-client"
	# Debian's npm, unless an npm is there already (NodeSource's nodejs
	# bundles one and conflicts with Debian's package).
	command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
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
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
	--no-install-recommends $missing >/dev/null
