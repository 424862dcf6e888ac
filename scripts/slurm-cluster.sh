#!/usr/bin/env bash
# slurm-cluster.sh — a one-node Slurm cluster on this machine, for trying `loom run --executor slurm` and
# for the Slurm tests (`make test-slurm`). Debian 12's slurmctld, slurmd, slurm-client and munge
# (`scripts/install-deps.sh slurm` installs them); everything it writes lives under one scratch directory
# ($LOOM_SLURM_DIR, default /tmp/loom-slurm): the munge key and socket, slurm.conf, state, logs.
#
#   scripts/slurm-cluster.sh start    configure and start munged, slurmctld and slurmd; wait for the node
#   scripts/slurm-cluster.sh stop     cancel every job of this cluster, stop the daemons
#   scripts/slurm-cluster.sh status   the daemons, `sinfo` and `squeue`; exit status 0 when the cluster is up
#   scripts/slurm-cluster.sh env      the line to eval so that sbatch, squeue and loom find it:
#                                     eval "$(scripts/slurm-cluster.sh env)"
#
# The node is this host (`hostname -s`) with its CPUs and memory (from `slurmd -C`). Processes are
# tracked by linuxproc with no task plugin (no cgroups needed), cons_tres schedules cores and memory,
# and there is no accounting database: `sacct` answers "accounting storage is disabled", so Loom's
# squeue/scontrol fallback is what runs here. Ports: $LOOM_SLURM_PORT (slurmctld, default 6817) and the
# next one (slurmd).
set -euo pipefail

dir=${LOOM_SLURM_DIR:-/tmp/loom-slurm}
conf=$dir/etc/slurm.conf
port=${LOOM_SLURM_PORT:-6817}
host=$(hostname -s)
export SLURM_CONF=$conf

die() { echo "slurm-cluster: $*" >&2; exit 1; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_config() {
  # `slurmd -C` prints this host's line: NodeName=… CPUs=… Boards=… SocketsPerBoard=… RealMemory=…
  local node memory cpus
  node=$(slurmd -C | head -1)
  memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
  cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node")
  [ -n "$memory" ] && [ -n "$cpus" ] || die "cannot read this host's CPUs and memory from \`slurmd -C\`: $node"
  # Leave the system some memory, and give a job that asks for none a fair share per CPU.
  memory=$((memory * 9 / 10))
  cat >"$conf" <<EOF
# Written by scripts/slurm-cluster.sh: a one-node test cluster on $host.
ClusterName=loom
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((memory / cpus))
SchedulerType=sched/backfill
# Start a submitted job at once (the default waits up to 3 s to batch submissions).
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
# Ended jobs stay visible to scontrol for 5 minutes; a cancelled or timed-out job is killed 5 s after SIGTERM.
MinJobAge=300
KillWait=5
InactiveLimit=0
$(sed -e 's/ UpTime=.*//' -e "s/RealMemory=[0-9]*/RealMemory=$memory/" <<<"$node") State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  for tool in munged slurmctld slurmd sbatch squeue sinfo; do
    command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps.sh slurm installs Debian's slurmctld, slurmd, slurm-client and munge)"
  done
  if status >/dev/null 2>&1; then
    echo "slurm-cluster: already up ($conf)"
    return 0
  fi
  mkdir -p "$dir"/{etc,state,spool,log,run,munge}
  chmod 700 "$dir/munge"
  if [ ! -s "$dir/munge/munge.key" ]; then
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$dir/munge/munge.key"
  fi
  write_config

  if ! pid_alive "$dir/munge/munged.pid"; then
    munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" --pid-file="$dir/munge/munged.pid" \
      --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" --force \
      || die "munged did not start (see $dir/log/munged.log)"
  fi
  # -c: a fresh cluster each start, with no jobs left from an earlier one.
  pid_alive "$dir/run/slurmctld.pid" || slurmctld -c -f "$conf" || die "slurmctld did not start (see $dir/log/slurmctld.log)"
  pid_alive "$dir/run/slurmd.pid" || slurmd -f "$conf" || die "slurmd did not start (see $dir/log/slurmd.log)"

  local state=""
  for _ in $(seq 1 60); do
    state=$(sinfo --noheader --nodes="$host" --format=%T 2>/dev/null | head -1 || true)
    [ "$state" = idle ] && break
    sleep 0.5
  done
  if [ "$state" != idle ]; then
    tail -5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    die "node $host is '${state:-not answering}', not idle, after 30 s"
  fi
  echo "slurm-cluster: up — node $host ($(grep -o 'CPUs=[0-9]*' "$conf") RealMemory=$(grep -o 'RealMemory=[0-9]*' "$conf" | cut -d= -f2) MB), partition debug"
  echo "slurm-cluster: export SLURM_CONF=$conf"
}

stop() {
  if pid_alive "$dir/run/slurmctld.pid"; then
    local jobs
    jobs=$(squeue --noheader --format=%i 2>/dev/null || true)
    # shellcheck disable=SC2086  # one argument per job id
    [ -z "$jobs" ] || scancel $jobs 2>/dev/null || true
    for _ in $(seq 1 40); do
      [ -z "$(squeue --noheader --format=%i 2>/dev/null || true)" ] && break
      sleep 0.25
    done
  fi
  for daemon in run/slurmd run/slurmctld munge/munged; do
    local file="$dir/$daemon.pid"
    if pid_alive "$file"; then
      local pid
      pid=$(cat "$file")
      kill "$pid"
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$file"
  done
  echo "slurm-cluster: stopped"
}

status() {
  local up=0
  for daemon in munge/munged run/slurmctld run/slurmd; do
    if pid_alive "$dir/$daemon.pid"; then
      echo "$(basename "$daemon"): running (pid $(cat "$dir/$daemon.pid"))"
    else
      echo "$(basename "$daemon"): not running"
      up=1
    fi
  done
  if [ $up = 0 ]; then
    sinfo || up=1
    squeue || up=1
  fi
  return $up
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *) die "usage: $0 start|stop|status|env" ;;
esac
