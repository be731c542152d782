#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying the SLURM profile for real.
#
#   sudo workflow/profiles/slurm/local_cluster.sh install   # Debian: slurm-wlm, munge, slurmdbd, mariadb
#   sudo workflow/profiles/slurm/local_cluster.sh start     # munge, mariadb, slurmdbd, slurmctld, slurmd
#   workflow/profiles/slurm/local_cluster.sh status         # sinfo, squeue, recent sacct
#   sudo workflow/profiles/slurm/local_cluster.sh stop
#
# Root only, 127.0.0.1 only: the controller, the node and the accounting daemon listen on this
# host's name resolved to loopback; nothing is opened to the network. One partition `local`
# (the default) with this machine's CPUs and 90 % of its memory; accounting through slurmdbd
# on a local MariaDB so that `sacct` works, as Snakemake's executor plugin expects. Cluster
# `astroanom`, account `astroanom`. State and logs under $STATE (default /var/tmp/astroanom-slurm).
# Processes are tracked with proctrack/linuxproc and no task plugin, so it also runs in
# containers without cgroup delegation.
set -euo pipefail

STATE=${STATE:-/var/tmp/astroanom-slurm}
CONF_DIR=/etc/slurm
HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)

need_root() {
  [ "$(id -u)" = 0 ] || { echo "error: '$1' needs root (sudo $0 $1)" >&2; exit 2; }
}

install_packages() {
  need_root install
  command -v apt-get >/dev/null || { echo "error: apt-get not found (Debian/Ubuntu only)" >&2; exit 2; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge slurmdbd mariadb-server >/dev/null
  echo "installed: $(slurmctld -V)"
}

write_config() {
  mkdir -p "$CONF_DIR" "$STATE"/{ctld,d,log}
  grep -qE "^127\.0\.[0-9.]+\s+.*\b$HOST\b" /etc/hosts || echo "127.0.1.1 $HOST" >>/etc/hosts
  cat >"$CONF_DIR/slurm.conf" <<EOF
# written by astroanom's local_cluster.sh: a one-node cluster on 127.0.0.1
ClusterName=astroanom
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=600
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=$HOST
AccountingStorageEnforce=associations
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/none
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=local Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
  cat >"$CONF_DIR/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=$HOST
DbdAddr=127.0.0.1
SlurmUser=root
PidFile=$STATE/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=astroanom-local
StorageLoc=slurm_acct_db
EOF
  chmod 600 "$CONF_DIR/slurmdbd.conf"
  # Any cgroup.conf from the package would ask for cgroup plugins we do not use.
  rm -f "$CONF_DIR/cgroup.conf"
}

wait_for() {  # wait_for <seconds> <command...>
  local t=$1; shift
  for _ in $(seq "$t"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "error: timed out waiting for: $*" >&2
  return 1
}

start() {
  need_root start
  for cmd in slurmctld slurmd slurmdbd munged mysqld; do
    command -v "$cmd" >/dev/null || [ -x "/usr/sbin/$cmd" ] || {
      echo "error: $cmd not found: run '$0 install' first" >&2; exit 2; }
  done
  write_config
  # munge: a key once, then the daemon
  [ -s /etc/munge/munge.key ] || { mungekey --create >/dev/null 2>&1 || create-munge-key -f >/dev/null; }
  chown munge:munge /etc/munge/munge.key 2>/dev/null || true
  mkdir -p /run/munge && chown munge:munge /run/munge
  pgrep -x munged >/dev/null || su -s /bin/sh munge -c /usr/sbin/munged
  wait_for 20 munge -n
  # MariaDB on the socket only (no TCP), the accounting database and its user
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  if ! pgrep -x mariadbd >/dev/null && ! pgrep -x mysqld >/dev/null; then
    (mysqld_safe --skip-networking --socket=/run/mysqld/mysqld.sock >"$STATE/log/mysqld.log" 2>&1 &)
  fi
  wait_for 60 mysqladmin --socket=/run/mysqld/mysqld.sock ping
  mysql --socket=/run/mysqld/mysqld.sock <<'EOF'
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'astroanom-local';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
EOF
  pgrep -x slurmdbd >/dev/null || /usr/sbin/slurmdbd
  wait_for 60 sacctmgr -n list cluster
  sacctmgr -i add cluster astroanom >/dev/null 2>&1 || true
  sacctmgr -i add account astroanom Cluster=astroanom Description=astroanom >/dev/null 2>&1 || true
  sacctmgr -i add user root Account=astroanom DefaultAccount=astroanom >/dev/null 2>&1 || true
  pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
  wait_for 60 scontrol ping
  pgrep -x slurmd >/dev/null || /usr/sbin/slurmd
  wait_for 60 sh -c "sinfo -h -o %T | grep -qE '^(idle|mixed|allocated)'"
  scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true
  echo "cluster astroanom up: partition local, node $HOST ($CPUS CPUs, $MEM_MB MB)"
  sinfo
}

status() {
  sinfo || true
  squeue || true
  sacct -X -S now-1hours -o JobID,JobName%30,Partition,Account,AllocCPUS,State,Elapsed,ExitCode 2>/dev/null | tail -n 40 || true
}

stop() {
  need_root stop
  for d in slurmd slurmctld slurmdbd; do pkill -x "$d" 2>/dev/null || true; done
  mysqladmin --socket=/run/mysqld/mysqld.sock shutdown 2>/dev/null || true
  pkill -x munged 2>/dev/null || true
  echo "cluster stopped (state kept in $STATE)"
}

case "${1:-}" in
  install) install_packages ;;
  start) start ;;
  status) status ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|status|stop" >&2; exit 2 ;;
esac
