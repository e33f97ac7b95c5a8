#!/bin/sh
# Runs the README's two commands, scripts/demo.sh and scripts/test.sh, as a
# new user would: in a fresh Debian 12 root file system that holds nothing
# but the minimal base system and git, with the clone in /root/zenc.
#
# Usage: scripts/pristine-check.sh [--keep] [ROOTFS-CACHE]
#
# Needs root and debootstrap (apt install debootstrap) and reaches the
# Debian mirror.  The base system (debootstrap --variant=minbase bookworm,
# plus git) is made once into ROOTFS-CACHE (default /var/tmp/zenc-pristine-
# base) and copied for every check, so that each check starts pristine.
# The clone is of this repository's HEAD (committed work only).
#
# Prints the time and the exit status of each command, and leaves the logs
# in the check's folder (said at the end).  The chroot's folder is removed
# afterwards unless --keep is given.  Takes 10 to 30 minutes: CI does not
# run it; run it before saying that a fresh machine works.
set -eu

keep=
if [ "${1:-}" = "--keep" ]; then
	keep=1
	shift
fi
base=${1:-/var/tmp/zenc-pristine-base}
root=$(cd "$(dirname "$0")/.." && pwd)

[ "$(id -u)" -eq 0 ] || { echo "pristine-check: needs root" >&2; exit 2; }
command -v debootstrap >/dev/null ||
	{ echo "pristine-check: needs debootstrap (apt install debootstrap)" >&2; exit 2; }

if [ ! -x "$base/usr/bin/git" ]; then
	echo "pristine-check: making the base system in $base"
	rm -rf "$base"
	timeout 1800 debootstrap --variant=minbase --include=git,ca-certificates \
		bookworm "$base" http://deb.debian.org/debian
fi

work=$(mktemp -d /var/tmp/zenc-pristine.XXXXXX)
chroot_dir=$work/root
logs=$work/logs
mkdir -p "$logs"
echo "pristine-check: copying the base system to $chroot_dir"
cp -a "$base" "$chroot_dir"

# What a Debian 12 machine has in its apt sources: the release, its
# updates and the security archive.
cat >"$chroot_dir/etc/apt/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf" 2>/dev/null || :

mounted=
cleanup () {
	# Stop whatever the check left running inside the chroot.
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		[ "$r" = "$chroot_dir" ] && kill -KILL "${p#/proc/}" 2>/dev/null
	done
	for m in $mounted; do
		umount -R "$chroot_dir$m" 2>/dev/null ||
			umount -l "$chroot_dir$m" 2>/dev/null || :
	done
	if [ -z "$keep" ]; then
		rm -rf "$chroot_dir"
	fi
}
trap cleanup EXIT
for m in /proc /sys /dev /dev/pts /dev/shm; do
	mkdir -p "$chroot_dir$m"
	case $m in
	/proc) mount -t proc proc "$chroot_dir$m" ;;
	/dev/shm) mount -t tmpfs tmpfs "$chroot_dir$m" ;;
	# /sys with what is mounted under it (/sys/fs/cgroup: slurmd needs it).
	/sys) mount --rbind "$m" "$chroot_dir$m" ;;
	*) mount --bind "$m" "$chroot_dir$m" ;;
	esac
	mounted="$m $mounted"
done

# The clone: HEAD of this repository, through a bundle, into /root/zenc.
git -C "$root" bundle create "$work/zenc.bundle" HEAD >/dev/null 2>&1
cp "$work/zenc.bundle" "$chroot_dir/tmp/zenc.bundle"
chroot "$chroot_dir" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	git -c advice.detachedHead=false clone -q /tmp/zenc.bundle /root/zenc
echo "pristine-check: cloned $(git -C "$root" rev-parse --short HEAD) into /root/zenc"

# run NAME COMMAND: COMMAND in /root/zenc in the chroot, as a login
# shell of root would, with CI=true; prints its time and status.
run () {
	name=$1
	shift
	start=$(date +%s)
	rc=0
	chroot "$chroot_dir" /usr/bin/env -i HOME=/root TERM=dumb CI=true \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/sh -c "cd /root/zenc && timeout 5400 $*" \
		>"$logs/$name.log" 2>&1 || rc=$?
	end=$(date +%s)
	echo "pristine-check: $name: exit $rc after $((end - start)) s (log: $logs/$name.log)"
	tail -n 25 "$logs/$name.log" | sed 's/^/  | /'
	return "$rc"
}

status=0
run demo sh scripts/demo.sh || status=1
run test sh scripts/test.sh || status=1
echo "pristine-check: logs in $logs"
exit "$status"
