#!/usr/bin/env bash
# Local PostgreSQL 15 and Apache Kafka (KRaft, single node) for tests and the demo.
#
#   bash scripts/services.sh <start|stop|restart|status> [postgres|kafka|all]
#
# Idempotent: `start` starts only what is not running (installing PostgreSQL with apt
# and resolving the Kafka jars with Maven when missing); `status` exits 0 when every
# requested service is up, 3 otherwise.
#
# Environment:
#   DIONYSUS_SERVICES_DIR  state (data, logs, pid files)   default /var/tmp/dionysus-relay
#   DIONYSUS_CACHE_DIR     Kafka jar cache, reused          default $HOME/.cache/dionysus-relay
#   DIONYSUS_PG_PORT       PostgreSQL port                  default 5432
#   DIONYSUS_KAFKA_PORT    Kafka bootstrap port             default 9092 (controller: this + 1)
# A second pair (another state dir and other ports) runs beside the first, for example to run
# the fault suite, which stops and restarts its services, without disturbing other test runs.
#
# Endpoints (default ports):
#   postgres://dionysus:dionysus@127.0.0.1:5432/dionysus_relay
#   Kafka bootstrap 127.0.0.1:9092 (controller 127.0.0.1:9093)
set -euo pipefail

# ----------------------------------------------------------------------------- settings
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${DIONYSUS_SERVICES_DIR:-/var/tmp/dionysus-relay}"
CACHE_DIR="${DIONYSUS_CACHE_DIR:-${HOME:-/root}/.cache/dionysus-relay}"
LOG_DIR="$STATE_DIR/logs"

PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
PG_HOST=127.0.0.1
PG_PORT="${DIONYSUS_PG_PORT:-5432}"
PG_USER=dionysus
PG_PASSWORD=dionysus
PG_DB=dionysus_relay
PG_URL="postgres://$PG_USER:$PG_PASSWORD@$PG_HOST:$PG_PORT/$PG_DB"
PG_HOME="$STATE_DIR/postgres"
PG_DATA="$PG_HOME/data"
PG_SOCKET_DIR="$PG_HOME/run"
PG_LOG="$LOG_DIR/postgres.log"
PG_START_TIMEOUT=60

KAFKA_HOST=127.0.0.1
KAFKA_PORT="${DIONYSUS_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 1))
KAFKA_SRC_DIR="$ROOT_DIR/services/kafka"
KAFKA_POM="$KAFKA_SRC_DIR/pom.xml"
KAFKA_LOG4J="$KAFKA_SRC_DIR/log4j2.xml"
KAFKA_TEMPLATE="$KAFKA_SRC_DIR/server.properties.template"
KAFKA_HOME="$STATE_DIR/kafka"
KAFKA_DATA="$KAFKA_HOME/data"
KAFKA_PROPS="$KAFKA_HOME/server.properties"
KAFKA_CLUSTER_ID_FILE="$KAFKA_HOME/cluster.id"
KAFKA_PID_FILE="$KAFKA_HOME/kafka.pid"
KAFKA_LOG="$LOG_DIR/kafka.log"
KAFKA_HEAP_OPTS="-Xms512m -Xmx1g"
KAFKA_START_TIMEOUT=120
KAFKA_STOP_TIMEOUT=30
KAFKA_STARTED_MARKER='Kafka Server started'
KAFKA_LAUNCH_HEADER='scripts/services.sh: starting kafka'

LOG_ROTATE_BYTES=$((64 * 1024 * 1024))

# ----------------------------------------------------------------------------- helpers
say()  { printf '[services] %s\n' "$*"; }
warn() { printf '[services] WARNING: %s\n' "$*" >&2; }

# die MESSAGE [LOGFILE...]: print the message and the last 40 lines of each log, exit 1.
die() {
  local msg="$1"; shift
  printf '[services] ERROR: %s\n' "$msg" >&2
  local f
  for f in "$@"; do
    if [[ -s "$f" ]]; then
      printf '[services] ---- last 40 lines of %s ----\n' "$f" >&2
      tail -n 40 "$f" >&2 || true
      printf '[services] ---- end of %s ----\n' "$f" >&2
    fi
  done
  exit 1
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# TCP connect test against HOST PORT (no extra tools needed).
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# Who listens on a local TCP port (best effort, for error messages).
port_owner() {
  command -v ss >/dev/null 2>&1 || { echo "unknown (ss not installed)"; return; }
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:(\(.*\))/\1/p' | head -n 1
}

# run_with_progress LABEL LOGFILE CMD...: run CMD with output appended to LOGFILE,
# printing a heartbeat (elapsed time + last log line) every 10 s. Returns CMD's status.
run_with_progress() {
  local label="$1" logfile="$2"; shift 2
  local start=$SECONDS
  say "$label (log: $logfile)"
  "$@" >>"$logfile" 2>&1 </dev/null 9>&- &
  local pid=$!
  local ticks=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    ticks=$((ticks + 1))
    if (( ticks % 10 == 0 )) && kill -0 "$pid" 2>/dev/null; then
      local last
      last="$(tail -n 1 "$logfile" 2>/dev/null | tr -d '\r' | cut -c1-100 || true)"
      say "  ... ${label%% *} still running ($((SECONDS - start))s) ${last:+| $last}"
    fi
  done
  local rc=0
  wait "$pid" || rc=$?
  if (( rc == 0 )); then
    say "  done in $((SECONDS - start))s"
  fi
  return "$rc"
}

# Move a log aside before a (re)start when it has grown large; keeps one old copy.
rotate_log() {
  local f="$1"
  if [[ -f "$f" ]] && (( $(stat -c %s "$f") > LOG_ROTATE_BYTES )); then
    mv -f "$f" "$f.1"
  fi
}

ensure_state_dirs() {
  mkdir -p "$STATE_DIR" "$LOG_DIR"
  # The postgres OS user must be able to traverse the state dir.
  chmod 755 "$STATE_DIR" "$LOG_DIR" 2>/dev/null || true
}

# Serialise concurrent invocations (e.g. two test runners calling `start`).
# fd 9 is closed for every long-lived child (see `9>&-`) so daemons never hold it.
take_lock() {
  exec 9>"$STATE_DIR/.lock"
  if ! flock -w 300 9; then
    die "another scripts/services.sh is still running (lock $STATE_DIR/.lock held for 300s)"
  fi
}

# ============================================================================ PostgreSQL
# Run a command as the postgres OS user (root) or as ourselves (non-root installs).
as_pg() {
  if is_root; then
    (cd "$PG_HOME" && runuser -u postgres -- "$@")
  else
    (cd "$PG_HOME" && "$@")
  fi
}

pg_ours_running() {
  [[ -f "$PG_DATA/PG_VERSION" && -x "$PG_BIN/pg_ctl" ]] || return 1
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_ours_pid() {
  head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true
}

# Does anything on $PG_HOST:$PG_PORT accept our URL?
pg_url_accepts() {
  local psql_bin
  psql_bin="$(command -v psql || true)"
  [[ -z "$psql_bin" && -x "$PG_BIN/psql" ]] && psql_bin="$PG_BIN/psql"
  [[ -n "$psql_bin" ]] || return 1
  PGCONNECT_TIMEOUT=3 "$psql_bin" "$PG_URL" -XAtqc 'select 1' >/dev/null 2>&1
}

# A Debian-managed cluster (pg_lsclusters) that is online on our port, as "VER NAME".
pg_debian_cluster_on_port() {
  command -v pg_lsclusters >/dev/null 2>&1 || return 0
  pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p && $4 ~ /^online/ { print $1, $2; exit }'
}

pg_install() {
  [[ -x "$PG_BIN/postgres" ]] && return 0
  is_root || die "PostgreSQL $PG_VERSION is not installed ($PG_BIN/postgres missing) and installing it needs root: apt-get install postgresql-$PG_VERSION"
  command -v apt-get >/dev/null 2>&1 || die "PostgreSQL $PG_VERSION is missing and apt-get is not available"

  local had_main=0
  [[ -e "/etc/postgresql/$PG_VERSION/main/postgresql.conf" ]] && had_main=1

  local log="$LOG_DIR/apt.log"
  export DEBIAN_FRONTEND=noninteractive
  run_with_progress "apt-get update" "$log" apt-get update \
    || die "apt-get update failed" "$log"
  run_with_progress "apt-get install postgresql-$PG_VERSION (takes a minute)" "$log" \
    apt-get install -y --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      "postgresql-$PG_VERSION" "postgresql-client-$PG_VERSION" \
    || die "apt-get install postgresql-$PG_VERSION failed" "$log"
  [[ -x "$PG_BIN/postgres" ]] || die "apt-get install finished but $PG_BIN/postgres is still missing" "$log"

  # The package creates a Debian "main" cluster on 5432 and may start it. We run our
  # own cluster on that port, so stop the one the install created and keep it from
  # auto-starting (it stays installed and can be started by hand with pg_ctlcluster).
  if (( had_main == 0 )) && [[ -e "/etc/postgresql/$PG_VERSION/main/postgresql.conf" ]]; then
    if pg_lsclusters -h 2>/dev/null | awk -v v="$PG_VERSION" '$1 == v && $2 == "main" && $4 ~ /^online/ { f = 1 } END { exit !f }'; then
      say "stopping the Debian $PG_VERSION/main cluster started by the package install"
      pg_ctlcluster "$PG_VERSION" main stop 9>&- || warn "could not stop Debian cluster $PG_VERSION/main"
    fi
    echo manual >"/etc/postgresql/$PG_VERSION/main/start.conf" || true
  fi
}

pg_initdb() {
  [[ -f "$PG_DATA/PG_VERSION" ]] && return 0
  say "initialising PostgreSQL cluster in $PG_DATA"
  local tmp="$PG_HOME/data.initdb-tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  is_root && chown postgres:postgres "$PG_HOME" "$tmp"
  chmod 700 "$tmp"
  local log="$LOG_DIR/initdb.log"
  : >"$log"
  as_pg "$PG_BIN/initdb" -D "$tmp" -U postgres --encoding=UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 >>"$log" 2>&1 9>&- \
    || die "initdb failed" "$log"
  # Include our settings file; it is rewritten on every start (pg_write_config).
  printf "\n# Settings managed by scripts/services.sh\ninclude_if_exists = 'dionysus.conf'\n" >>"$tmp/postgresql.conf"
  mv "$tmp" "$PG_DATA"
}

pg_write_config() {
  local conf="$PG_DATA/dionysus.conf"
  cat >"$conf.tmp" <<EOF
# Written by scripts/services.sh on every start: do not edit (edit the script instead).
listen_addresses = '$PG_HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
max_connections = 300
shared_buffers = 256MB
password_encryption = 'scram-sha-256'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
EOF
  cat >"$PG_DATA/pg_hba.conf.tmp" <<'EOF'
# Written by scripts/services.sh on every start: do not edit.
# TYPE  DATABASE        USER            ADDRESS                 METHOD
local   all             all                                     trust
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
local   replication     all                                     trust
host    replication     all             127.0.0.1/32            scram-sha-256
EOF
  mv -f "$conf.tmp" "$conf"
  mv -f "$PG_DATA/pg_hba.conf.tmp" "$PG_DATA/pg_hba.conf"
  if is_root; then
    chown postgres:postgres "$conf" "$PG_DATA/pg_hba.conf"
  fi
}

pg_ensure_role_and_db() {
  local log="$LOG_DIR/postgres-setup.log"
  : >"$log"
  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres \
      >>"$log" 2>&1 <<EOF || die "could not create role $PG_USER / database $PG_DB" "$log"
SELECT format('CREATE ROLE %I', '$PG_USER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER') \gexec
ALTER ROLE $PG_USER WITH LOGIN SUPERUSER PASSWORD '$PG_PASSWORD';
SELECT format('CREATE DATABASE %I OWNER %I', '$PG_DB', '$PG_USER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_DB') \gexec
EOF
}

pg_start() {
  if pg_ours_running; then
    pg_ensure_role_and_db
    say "postgres: already running (pid $(pg_ours_pid)) at $PG_URL"
    return 0
  fi
  if port_open "$PG_HOST" "$PG_PORT"; then
    if pg_url_accepts; then
      say "postgres: something already serves $PG_HOST:$PG_PORT and accepts $PG_URL; using it"
      return 0
    fi
    local cl
    cl="$(pg_debian_cluster_on_port)"
    if [[ -n "$cl" ]]; then
      say "postgres: stopping Debian cluster $cl that holds port $PG_PORT (pg_ctlcluster ${cl% *} ${cl#* } stop)"
      # shellcheck disable=SC2086
      pg_ctlcluster $cl stop 9>&- || die "could not stop Debian cluster $cl on port $PG_PORT"
    else
      die "port $PG_HOST:$PG_PORT is taken by $(port_owner "$PG_PORT") which does not accept $PG_URL; stop it first"
    fi
  fi

  pg_install
  mkdir -p "$PG_HOME" "$PG_SOCKET_DIR"
  chmod 755 "$PG_HOME" "$PG_SOCKET_DIR"
  is_root && chown postgres:postgres "$PG_HOME" "$PG_SOCKET_DIR"
  pg_initdb
  pg_write_config

  rotate_log "$PG_LOG"
  touch "$PG_LOG"
  is_root && chown postgres:postgres "$PG_LOG"

  # A stale postmaster.pid (after a crash or a machine restart) is handled by postgres.
  say "postgres: starting (data $PG_DATA, log $PG_LOG)"
  local start=$SECONDS
  # pg_ctl detaches the postmaster (setsid), so it outlives this shell.
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$PG_START_TIMEOUT" start >/dev/null 9>&- \
    || die "postgres did not start" "$PG_LOG"
  local waited=0
  until "$PG_BIN/pg_isready" -q -h "$PG_HOST" -p "$PG_PORT" -d postgres; do
    (( waited >= PG_START_TIMEOUT )) && die "postgres not ready after ${PG_START_TIMEOUT}s" "$PG_LOG"
    (( waited > 0 && waited % 10 == 0 )) && say "  ... waiting for postgres (${waited}s)"
    sleep 1; waited=$((waited + 1))
  done
  pg_ensure_role_and_db
  pg_url_accepts || die "postgres is up but $PG_URL is refused" "$PG_LOG" "$LOG_DIR/postgres-setup.log"
  say "postgres: ready in $((SECONDS - start))s (pid $(pg_ours_pid)) at $PG_URL"
}

pg_stop() {
  if pg_ours_running; then
    say "postgres: stopping (pid $(pg_ours_pid), fast mode)"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null 9>&-; then
      warn "fast shutdown timed out; using immediate mode"
      as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 9>&- \
        || die "could not stop postgres" "$PG_LOG"
    fi
    say "postgres: stopped"
  elif port_open "$PG_HOST" "$PG_PORT"; then
    say "postgres: not started by this script; leaving the server on $PG_HOST:$PG_PORT ($(port_owner "$PG_PORT")) alone"
  else
    say "postgres: not running"
  fi
}

pg_status() {
  if pg_ours_running; then
    if "$PG_BIN/pg_isready" -q -h "$PG_HOST" -p "$PG_PORT" -d postgres; then
      say "postgres: running (pid $(pg_ours_pid), data $PG_DATA, log $PG_LOG) at $PG_URL"
    else
      say "postgres: starting, stopping or unhealthy (pid $(pg_ours_pid) alive, $PG_HOST:$PG_PORT not accepting)"
      return 1
    fi
  elif port_open "$PG_HOST" "$PG_PORT" && pg_url_accepts; then
    say "postgres: running (not managed by this script: $(port_owner "$PG_PORT")) at $PG_URL"
  else
    say "postgres: stopped"
    return 1
  fi
}

# ================================================================================= Kafka
kafka_version() {
  sed -n 's:.*<kafka\.version>\([^<]*\)</kafka\.version>.*:\1:p' "$KAFKA_POM" | head -n 1
}

kafka_libs_dir() { echo "$CACHE_DIR/kafka-$(kafka_version)/libs"; }

need_java() {
  if ! command -v java >/dev/null 2>&1 || { [[ "${1:-}" == mvn ]] && ! command -v mvn >/dev/null 2>&1; }; then
    is_root || die "java 17+ and maven are needed for Kafka: apt-get install openjdk-17-jdk-headless maven"
    export DEBIAN_FRONTEND=noninteractive
    local log="$LOG_DIR/apt.log"
    run_with_progress "apt-get update" "$log" apt-get update || die "apt-get update failed" "$log"
    run_with_progress "apt-get install openjdk-17-jdk-headless maven" "$log" \
      apt-get install -y --no-install-recommends openjdk-17-jdk-headless maven \
      || die "apt-get install java/maven failed" "$log"
  fi
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')"
  major="${major#1.}"
  [[ "${major%%.*}" -ge 17 ]] 2>/dev/null || die "Kafka 4 needs Java 17+, found java.specification.version=$major"
}

# Resolve the broker's runtime jars into the cache (once per pom content).
kafka_resolve() {
  local version libs top marker want
  version="$(kafka_version)"
  [[ -n "$version" ]] || die "cannot read <kafka.version> from $KAFKA_POM"
  libs="$(kafka_libs_dir)"
  top="$(dirname "$libs")"
  marker="$top/.complete"
  want="$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)"
  if [[ -f "$marker" && "$(cat "$marker")" == "$want" && -f "$libs/kafka_2.13-$version.jar" ]]; then
    return 0
  fi
  need_java mvn
  mkdir -p "$top"
  local tmp="$top/libs.tmp" log="$LOG_DIR/maven.log"
  rm -rf "$tmp"
  : >"$log"
  run_with_progress "maven: resolving Kafka $version jars into $libs (first run only)" "$log" \
    mvn -B -q -Dstyle.color=never -f "$KAFKA_POM" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" \
    || die "maven could not resolve Kafka $version (see $KAFKA_POM)" "$log"
  [[ -f "$tmp/kafka_2.13-$version.jar" ]] || die "maven finished but kafka_2.13-$version.jar is missing in $tmp" "$log"
  rm -rf "$libs"
  mv "$tmp" "$libs"
  echo "$want" >"$marker"
  say "  $(find "$libs" -name '*.jar' | wc -l) jars in $libs"
}

kafka_tool() {
  # Short-lived CLI tools: small heap.
  java -Xms64m -Xmx256m -Djava.awt.headless=true -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
    -cp "$(kafka_libs_dir)/*" "$@"
}

kafka_render_props() {
  mkdir -p "$KAFKA_HOME" "$KAFKA_DATA"
  sed -e "s|@KAFKA_DATA_DIR@|$KAFKA_DATA|g" -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
    -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" "$KAFKA_TEMPLATE" >"$KAFKA_PROPS.tmp"
  mv -f "$KAFKA_PROPS.tmp" "$KAFKA_PROPS"
}

kafka_format() {
  [[ -f "$KAFKA_DATA/meta.properties" ]] && return 0
  local log="$LOG_DIR/kafka-format.log"
  : >"$log"
  if [[ ! -s "$KAFKA_CLUSTER_ID_FILE" ]]; then
    local id
    id="$(kafka_tool kafka.tools.StorageTool random-uuid 2>>"$log" | tail -n 1 | tr -d '[:space:]')" \
      || die "could not generate a Kafka cluster id" "$log"
    [[ "$id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "unexpected cluster id from StorageTool: '$id'" "$log"
    echo "$id" >"$KAFKA_CLUSTER_ID_FILE"
  fi
  # --cluster-id=ID, not -t ID: an id beginning with "-" would be read as an option.
  say "kafka: formatting storage $KAFKA_DATA (cluster id $(cat "$KAFKA_CLUSTER_ID_FILE"))"
  kafka_tool kafka.tools.StorageTool format --cluster-id="$(cat "$KAFKA_CLUSTER_ID_FILE")" -c "$KAFKA_PROPS" \
      >>"$log" 2>&1 9>&- \
    || die "kafka storage format failed" "$log"
  [[ -f "$KAFKA_DATA/meta.properties" ]] || die "format finished but $KAFKA_DATA/meta.properties is missing" "$log"
}

# pid of our broker, or nothing. Adopts a broker started with our properties file if
# the pid file went missing.
kafka_pid() {
  local pid=""
  if [[ -f "$KAFKA_PID_FILE" ]]; then
    pid="$(tr -dc '0-9' <"$KAFKA_PID_FILE")"
    if [[ -n "$pid" ]] && kafka_pid_is_ours "$pid"; then
      echo "$pid"; return 0
    fi
  fi
  pid="$(pgrep -f -x "java .* kafka\.Kafka $KAFKA_PROPS" 2>/dev/null | head -n 1 || true)"
  if [[ -n "$pid" ]]; then
    echo "$pid" >"$KAFKA_PID_FILE"
    echo "$pid"
  fi
}

kafka_pid_is_ours() {
  local cmd
  [[ -r "/proc/$1/cmdline" ]] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true)"
  [[ "$cmd" == *" kafka.Kafka $KAFKA_PROPS"* ]]
}

kafka_start() {
  local pid
  pid="$(kafka_pid)"
  if [[ -n "$pid" ]]; then
    if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
      say "kafka: already running (pid $pid) at $KAFKA_HOST:$KAFKA_PORT"
      return 0
    fi
    # Process exists but does not serve (still starting, or wedged): wait for it, looking
    # for the started marker only after the last launch header in the log.
    say "kafka: process $pid exists but $KAFKA_HOST:$KAFKA_PORT is not open yet; waiting"
    local header_offset
    header_offset="$(grep -b -F "$KAFKA_LAUNCH_HEADER" "$KAFKA_LOG" 2>/dev/null | tail -n 1 | cut -d: -f1 || true)"
    kafka_wait_ready "$pid" "${header_offset:-0}" "$SECONDS"
    return 0
  fi
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$KAFKA_HOST" "$p"; then
      die "port $KAFKA_HOST:$p is taken by $(port_owner "$p"), not by our broker; stop it first"
    fi
  done

  kafka_resolve
  need_java
  kafka_render_props
  kafka_format

  rotate_log "$KAFKA_LOG"
  touch "$KAFKA_LOG"
  local offset start=$SECONDS
  offset="$(stat -c %s "$KAFKA_LOG")"
  say "kafka: starting Kafka $(kafka_version) (data $KAFKA_DATA, log $KAFKA_LOG)"
  {
    printf '\n===== %s %s =====\n' "$(date -u +%FT%TZ)" "$KAFKA_LAUNCH_HEADER"
  } >>"$KAFKA_LOG"
  rm -f "$KAFKA_PID_FILE"
  # setsid + nohup: the broker gets its own session and survives the calling shell.
  # The inner shell records its own pid, then execs java (same pid).
  (
    cd "$KAFKA_HOME"
    export KAFKA_PID_FILE
    # shellcheck disable=SC2016,SC2086  # $$ is the inner shell's; heap opts are meant to split
    setsid nohup bash -c 'echo $$ >"$KAFKA_PID_FILE"; exec "$@"' kafka-launch \
      java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
        -cp "$(kafka_libs_dir)/*" kafka.Kafka "$KAFKA_PROPS" \
      >>"$KAFKA_LOG" 2>&1 </dev/null 9>&- &
  )
  local waited=0
  while [[ ! -s "$KAFKA_PID_FILE" ]]; do
    (( waited >= 50 )) && die "kafka launcher did not write $KAFKA_PID_FILE" "$KAFKA_LOG"
    sleep 0.1; waited=$((waited + 1))
  done
  pid="$(tr -dc '0-9' <"$KAFKA_PID_FILE")"
  kafka_wait_ready "$pid" "$offset" "$start"
}

# kafka_wait_ready PID LOG_OFFSET START_SECONDS
kafka_wait_ready() {
  local pid="$1" offset="$2" start="$3" waited=0 logged=0
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$KAFKA_PID_FILE"
      die "kafka exited during startup (pid $pid)" "$KAFKA_LOG"
    fi
    if (( ! logged )) && tail -c +"$((offset + 1))" "$KAFKA_LOG" 2>/dev/null | grep -q "$KAFKA_STARTED_MARKER"; then
      logged=1
    fi
    if (( logged )) && port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
      break
    fi
    if (( waited >= KAFKA_START_TIMEOUT )); then
      die "kafka not ready after ${KAFKA_START_TIMEOUT}s (pid $pid still running; 'stop kafka' to kill it)" "$KAFKA_LOG"
    fi
    if (( waited > 0 && waited % 10 == 0 )); then
      say "  ... waiting for the broker (${waited}s)"
    fi
    sleep 1; waited=$((waited + 1))
  done
  say "kafka: ready in $((SECONDS - start))s (pid $pid) at $KAFKA_HOST:$KAFKA_PORT"
}

kafka_stop() {
  local pid
  pid="$(kafka_pid)"
  if [[ -z "$pid" ]]; then
    rm -f "$KAFKA_PID_FILE"
    if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
      say "kafka: not started by this script; leaving $KAFKA_HOST:$KAFKA_PORT ($(port_owner "$KAFKA_PORT")) alone"
    else
      say "kafka: not running"
    fi
    return 0
  fi
  say "kafka: stopping (pid $pid, SIGTERM, up to ${KAFKA_STOP_TIMEOUT}s)"
  kill -TERM "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if (( waited >= KAFKA_STOP_TIMEOUT * 10 )); then
      warn "kafka did not stop within ${KAFKA_STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.1; waited=$((waited + 1))
  done
  kill -0 "$pid" 2>/dev/null && die "kafka (pid $pid) is still alive after SIGKILL" "$KAFKA_LOG"
  rm -f "$KAFKA_PID_FILE"
  say "kafka: stopped"
}

kafka_status() {
  local pid
  pid="$(kafka_pid)"
  if [[ -n "$pid" ]] && port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    say "kafka: running (pid $pid, Kafka $(kafka_version), data $KAFKA_DATA, log $KAFKA_LOG) at $KAFKA_HOST:$KAFKA_PORT"
  elif [[ -n "$pid" ]]; then
    say "kafka: starting or unhealthy (pid $pid alive, $KAFKA_HOST:$KAFKA_PORT not accepting)"
    return 1
  elif port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    say "kafka: something not managed by this script listens on $KAFKA_HOST:$KAFKA_PORT ($(port_owner "$KAFKA_PORT")); 'start' would refuse"
    return 1
  else
    say "kafka: stopped"
    return 1
  fi
}

# ================================================================================== main
usage() {
  echo "usage: bash scripts/services.sh <start|stop|restart|status> [postgres|kafka|all]" >&2
  exit 2
}

main() {
  local action="${1:-}" target="${2:-all}"
  [[ $# -le 2 ]] || usage
  case "$action" in start|stop|restart|status) ;; *) usage ;; esac
  local services
  case "$target" in
    all) services=(postgres kafka) ;;
    postgres|pg) services=(postgres) ;;
    kafka) services=(kafka) ;;
    *) usage ;;
  esac

  ensure_state_dirs
  if [[ "$action" == status ]]; then
    local rc=0 s
    for s in "${services[@]}"; do
      case "$s" in
        postgres) pg_status || rc=3 ;;
        kafka) kafka_status || rc=3 ;;
      esac
    done
    exit "$rc"
  fi

  take_lock
  local s
  case "$action" in
    start)
      for s in "${services[@]}"; do "${s/postgres/pg}_start"; done ;;
    stop)
      # Stop in reverse order.
      for (( i = ${#services[@]} - 1; i >= 0; i-- )); do s="${services[$i]}"; "${s/postgres/pg}_stop"; done ;;
    restart)
      for (( i = ${#services[@]} - 1; i >= 0; i-- )); do s="${services[$i]}"; "${s/postgres/pg}_stop"; done
      for s in "${services[@]}"; do "${s/postgres/pg}_start"; done ;;
  esac
}

main "$@"
