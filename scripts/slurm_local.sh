#!/usr/bin/env bash
# A private one-node Slurm cluster on this machine (munged + slurmctld + slurmd, all state in
# DIR), for trying `rfx slurm` and for its tests. Nothing outside DIR is touched; it needs
# root (the daemons run as root) and Debian's slurm-wlm and munge (scripts/setup.sh).
#
#   scripts/slurm_local.sh start DIR   # prints: export SLURM_CONF=DIR/slurm.conf
#   eval "$(scripts/slurm_local.sh start /tmp/rfx-slurm)"; build/rfx slurm ... --submit
#   scripts/slurm_local.sh stop DIR
# RFX_SLURM_START_TIMEOUT: seconds to wait for the node to come up (default 20).
# Tested with Debian 12's Slurm 22.05 and Debian 13's 24.11 (which needs the cgroup.conf below).
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
conf=$dir/slurm.conf

stop() {
  if [ -f "$conf" ]; then
    for d in slurmd slurmctld; do
      if [ -f "$dir/$d.pid" ]; then kill "$(cat "$dir/$d.pid")" 2>/dev/null || true; fi
    done
    for _ in $(seq 50); do
      alive=0
      for d in slurmd slurmctld; do
        if [ -f "$dir/$d.pid" ] && kill -0 "$(cat "$dir/$d.pid")" 2>/dev/null; then alive=1; fi
      done
      [ $alive -eq 0 ] && break
      sleep 0.1
    done
  fi
  if [ -S "$dir/munge.sock" ]; then munged --stop --socket="$dir/munge.sock" >/dev/null 2>&1 || true; fi
}

case $cmd in
  stop) stop; exit 0 ;;
  start) ;;
  *) usage ;;
esac

for p in munged slurmctld slurmd sbatch; do
  command -v "$p" >/dev/null || { echo "slurm_local.sh: $p not found: run scripts/setup.sh" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "slurm_local.sh: the daemons need root" >&2; exit 1; }
stop  # a cluster left in DIR by an earlier run

host=$(hostname -s)
# Ports from the directory's name, so that two clusters in two directories do not collide.
base=$(( 20000 + $(printf '%s' "$dir" | cksum | cut -d' ' -f1) % 20000 * 2 ))
mkdir -p "$dir/state" "$dir/spool"
if [ ! -f "$dir/munge.key" ]; then
  head -c 1024 /dev/urandom > "$dir/munge.key"
  chmod 400 "$dir/munge.key"
fi
munged --force --key-file="$dir/munge.key" --socket="$dir/munge.sock" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munged.seed"

cat > "$conf" <<EOF
ClusterName=rfxlocal
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$base
SlurmdPort=$((base + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
# Slurm 23.11 and later load a cgroup plugin even with proctrack/linuxproc and task/none, and it
# fails without a cgroup file system (containers, chroots): turn it off. Older versions do not
# know the value, so the file is written only for them.
version=$(slurmd -V | awk '{print $2}')
major=${version%%.*}; rest=${version#*.}; minor=${rest%%.*}
if [ $(( 10#$major * 100 + 10#$minor )) -ge 2311 ]; then
  echo "CgroupPlugin=disabled" > "$dir/cgroup.conf"
else
  rm -f "$dir/cgroup.conf"
fi

export SLURM_CONF=$conf
slurmctld -c
slurmd
timeout=${RFX_SLURM_START_TIMEOUT:-20}
# A wall-clock deadline, each sinfo bounded too: when something else answers on the
# controller's port, sinfo waits for a reply for its whole MessageTimeout (~28 s with retries),
# and counting tries instead of seconds once made a 3 s limit take 7 minutes.
deadline=$(( SECONDS + timeout ))
while [ "$SECONDS" -lt "$deadline" ]; do
  if timeout 2 sinfo -h -o '%t' 2>/dev/null | grep -q idle; then
    echo "export SLURM_CONF=$conf"
    exit 0
  fi
  sleep 0.2
done
echo "slurm_local.sh: the node did not come up in $timeout s; logs: $dir/slurmctld.log," \
  "$dir/slurmd.log" >&2
# One file at a time: coreutils 9 refuses the old `tail -5 FILE FILE` (an 'invalid context').
for log in "$dir/slurmctld.log" "$dir/slurmd.log"; do
  echo "--- $log (last 5 lines)" >&2
  tail -n 5 "$log" >&2 || true
done
stop
exit 1
