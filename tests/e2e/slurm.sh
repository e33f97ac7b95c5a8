# shellcheck shell=sh
# tests/e2e/slurm.sh: a single-node Slurm cluster (munge + slurmctld +
# slurmd on localhost) for one test script.  Source it after lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$TEST_DIRECTORY/slurm.sh"
#
# Recipe and pitfalls: no systemd, so every daemon is started directly;
# config, state, spool and logs live in $SLURM_DIR (under $TMP, or a short
# /tmp path when $TMP is long); its own ports (free ones); SLURM_CONF is
# exported so every client and daemon reads that config and nothing in
# /etc/slurm is touched.  The cluster has a munged of its own (own key and
# socket, in a folder under /tmp), registered like the Slurm daemons
# (test_register_pid), so that everything started here stops when the
# script ends and scripts running at once never share one.  The whole script
# is skipped (test_skip_all) when slurmctld, slurmd or munged are not
# installed (Debian: munge slurm-wlm slurmctld slurmd slurm-client), and
# when not run as root (slurmd must be able to run jobs as any user).
#
# When the script ends, jobs still queued or running are cancelled before
# the daemons are stopped.
#
# Sets: SLURM_DIR, SLURM_CONF (exported).
# Helpers:
#   slurm_job_field ID FIELD  a field of `scontrol show job -o ID`
#                             (JobState, Reason, Dependency, ...)
#   slurm_wait_state ID STATE [SECONDS]
#                             waits until job ID is in STATE (default 30 s)

for _sl_tool in slurmctld slurmd munged sbatch squeue scontrol scancel; do
	command -v "$_sl_tool" >/dev/null 2>&1 ||
		[ -x "/usr/sbin/$_sl_tool" ] ||
		test_skip_all "Slurm not installed ($_sl_tool missing; apt install munge slurm-wlm slurmctld slurmd slurm-client)"
done
[ "$(id -u)" -eq 0 ] || test_skip_all "single-node Slurm needs root (slurmd)"
PATH=$PATH:/usr/sbin
export PATH

SLURM_DIR=$TMP/slurm
# Unix socket paths and pid files are happier short.
if [ "${#SLURM_DIR}" -gt 80 ]; then
	SLURM_DIR=$(mktemp -d /tmp/zenc-slurm.XXXXXX) || exit 2
	test_register_dir "$SLURM_DIR"
fi
mkdir -p "$SLURM_DIR/state" "$SLURM_DIR/spool" "$SLURM_DIR/log" || exit 2
SLURM_CONF=$SLURM_DIR/slurm.conf
export SLURM_DIR SLURM_CONF

# munge: a daemon of this cluster's own, with its own key and socket
# (AuthInfo above), so that clusters of scripts that run at the same time
# never share one, nor stop each other's.  Its folder is under /tmp: the
# user munge cannot enter a build tree under /root (0700).
_sl_munge=$(mktemp -d /tmp/zenc-munge.XXXXXX) || exit 2
test_register_dir "$_sl_munge"
chmod 755 "$_sl_munge" || exit 2
mungekey --create --keyfile="$_sl_munge/munge.key" >/dev/null 2>&1 ||
	dd if=/dev/urandom of="$_sl_munge/munge.key" bs=1024 count=1 2>/dev/null ||
	exit 2
chmod 600 "$_sl_munge/munge.key" || exit 2
chown -R munge:munge "$_sl_munge" || exit 2
runuser -u munge -- /usr/sbin/munged --socket="$_sl_munge/munge.socket" \
	--key-file="$_sl_munge/munge.key" --pid-file="$_sl_munge/munged.pid" \
	--seed-file="$_sl_munge/munged.seed" --log-file="$_sl_munge/munged.log" \
	>"$SLURM_DIR/log/munged.out" 2>&1 || {
	echo "slurm.sh: munged did not start:"
	sed 's/^/# /' "$SLURM_DIR/log/munged.out" "$_sl_munge/munged.log"
	exit 1
}
test_register_pid "$(cat "$_sl_munge/munged.pid")" || exit 1
_sl_i=0
while ! munge -n -S "$_sl_munge/munge.socket" </dev/null >/dev/null 2>&1; do
	_sl_i=$((_sl_i + 1))
	[ "$_sl_i" -lt 100 ] || { echo "slurm.sh: munge does not answer"; exit 1; }
	sleep 0.05
done

_sl_ctld_port=$(test_free_port)
_sl_d_port=$(test_free_port)
while [ "$_sl_d_port" = "$_sl_ctld_port" ]; do
	_sl_d_port=$(test_free_port)
done

# Memory the node offers (MB, a little under the machine's), so that jobs
# may ask for some with --mem.
_sl_mem=$(awk '/^MemTotal:/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)

cat >"$SLURM_CONF" <<CONF || exit 2
ClusterName=zenctest
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$_sl_munge/munge.socket
SlurmctldPort=$_sl_ctld_port
SlurmdPort=$_sl_d_port
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
DependencyParameters=kill_invalid_depend
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$SLURM_DIR/log/jobcomp.log
MinJobAge=600
KillWait=5
NodeName=localhost CPUs=$(nproc) RealMemory=$_sl_mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

# slurmctld -i: ignore unreadable state files (the first start has none).
slurmctld -i >"$SLURM_DIR/log/slurmctld.out" 2>&1 || {
	echo "slurm.sh: slurmctld did not start:"
	sed 's/^/# /' "$SLURM_DIR/log/slurmctld.out" "$SLURM_DIR/log/slurmctld.log"
	exit 1
}
_sl_i=0
while [ ! -s "$SLURM_DIR/slurmctld.pid" ]; do
	_sl_i=$((_sl_i + 1))
	[ "$_sl_i" -lt 200 ] || { echo "slurm.sh: no slurmctld pid file"; exit 1; }
	sleep 0.05
done
test_register_pid "$(cat "$SLURM_DIR/slurmctld.pid")" || exit 1
# When the script ends, however it ends, the jobs still queued or running
# are cancelled while the daemons still run (else a job's slurmstepd and
# its processes outlive them), and waited for, 15 s at most.
test_at_exit 'scancel --quiet -u root 2>/dev/null
i=0
while [ -n "$(squeue -h -t PENDING,RUNNING,COMPLETING,SUSPENDED 2>/dev/null)" ] &&
	[ "$i" -lt 150 ]; do
	i=$((i + 1))
	sleep 0.1
done'
_sl_i=0
until scontrol ping 2>/dev/null | grep -q UP; do
	_sl_i=$((_sl_i + 1))
	[ "$_sl_i" -lt 200 ] || {
		echo "slurm.sh: slurmctld does not answer:"
		sed 's/^/# /' "$SLURM_DIR/log/slurmctld.log"
		exit 1
	}
	sleep 0.05
done

# slurmd -N localhost: the node is "localhost" whatever the host name.
slurmd -N localhost >"$SLURM_DIR/log/slurmd.out" 2>&1 || {
	echo "slurm.sh: slurmd did not start:"
	sed 's/^/# /' "$SLURM_DIR/log/slurmd.out" "$SLURM_DIR/log/slurmd.log"
	exit 1
}
_sl_i=0
while [ ! -s "$SLURM_DIR/slurmd.pid" ]; do
	_sl_i=$((_sl_i + 1))
	[ "$_sl_i" -lt 200 ] || { echo "slurm.sh: no slurmd pid file"; exit 1; }
	sleep 0.05
done
test_register_pid "$(cat "$SLURM_DIR/slurmd.pid")" || exit 1
_sl_i=0
until [ "$(sinfo -h -o %t 2>/dev/null)" = idle ]; do
	_sl_i=$((_sl_i + 1))
	[ "$_sl_i" -lt 400 ] || {
		echo "slurm.sh: the node does not become idle:"
		sinfo 2>&1 | sed 's/^/# /'
		sed 's/^/# /' "$SLURM_DIR/log/slurmd.log"
		exit 1
	}
	sleep 0.05
done

slurm_job_field () {
	scontrol show job -o "$1" 2>/dev/null |
		tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

slurm_wait_state () {
	_sw_i=0
	_sw_max=$(( ${3:-30} * 10 ))
	while [ "$(slurm_job_field "$1" JobState)" != "$2" ]; do
		_sw_i=$((_sw_i + 1))
		if [ "$_sw_i" -ge "$_sw_max" ]; then
			echo "slurm_wait_state: job $1 is $(slurm_job_field "$1" JobState), not $2" >&2
			return 1
		fi
		sleep 0.1
	done
}
