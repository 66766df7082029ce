#!/usr/bin/env bash
# A real Apache Kafka broker (KRaft, single combined broker+controller node,
# loopback only) for the tests and the quick start, run from Maven Central jars
# on Java 17+. Needs only java and mvn (scripts/install-deps.sh installs them).
#
#   scripts/kafka.sh fetch                      download the jars (idempotent)
#   scripts/kafka.sh start DIR [PORT]           start a broker in DIR, print its
#                                               bootstrap address 127.0.0.1:PORT
#   scripts/kafka.sh start --sasl DIR [PORT]    also a SASL_PLAINTEXT listener
#                                               (SCRAM-SHA-256, SCRAM-SHA-512,
#                                               PLAIN) with one user; prints the
#                                               plaintext, then the SASL address
#   scripts/kafka.sh stop DIR                   stop it, keep its data
#   scripts/kafka.sh clean DIR                  stop it and remove DIR
#   scripts/kafka.sh topic-create BOOTSTRAP TOPIC PARTITIONS [TOOL-ARGS...]
#   scripts/kafka.sh group-offsets BOOTSTRAP GROUP
#   scripts/kafka.sh end-offsets BOOTSTRAP TOPIC
#   scripts/kafka.sh sasl-login BOOTSTRAP MECHANISM
#                                               exit 0 if Kafka's own client logs
#                                               in there as the KAFKA_SASL_* user
#   scripts/kafka.sh tool CLASS [ARGS...]       any Kafka tool main class
#
# KAFKA_VERSION picks the Kafka release: 4.1.1 (the default) or 3.9.1, e.g.
# `KAFKA_VERSION=3.9.1 scripts/kafka.sh start --sasl DIR`. Each release's jars
# go to their own ${KAFKA_DIST_CACHE:-<repo>/.kafka}/lib-VERSION (git-ignored),
# so both can be used side by side.
# DIR holds server.properties, ports, version, data/, broker.log, broker.pid,
# bootstrap (and bootstrap-sasl). `start` on a DIR that already holds
# formatted data reuses its ports, data, listeners (so a restart keeps SASL)
# and Kafka release (a KAFKA_VERSION naming another one is an error).
# KAFKA_START_TIMEOUT (seconds, default 60) bounds a start; KAFKA_TOOLS_CDS=0
# turns off the tools' class-data sharing archive.
#
# --sasl and sasl-login take the user from KAFKA_SASL_USERNAME (default
# "sidecar") and the password from KAFKA_SASL_PASSWORD (required; the
# environment keeps it out of argument lists). The SCRAM credentials are
# created at format time, the PLAIN one lives in server.properties (a test
# broker's file); the PLAINTEXT listener stays open for test tooling.
set -euo pipefail

DEFAULT_KAFKA_VERSION="4.1.1"
LOG4J_VERSION="2.24.3"   # the log4j2 version kafka 4.1.1 itself depends on
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.6.1"
START_TIMEOUT_S="${KAFKA_START_TIMEOUT:-60}"
STOP_TIMEOUT_S=20

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${KAFKA_DIST_CACHE:-$REPO_ROOT/.kafka}"
# What the caller asked for (empty: the default, or what a DIR was made with).
REQUESTED_VERSION="${KAFKA_VERSION:-}"

if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
  JAVA="$JAVA_HOME/bin/java"
else
  JAVA="java"
fi

TOOL_JVM_OPTS=(-Xmx256m -Xss1m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto
               -Djava.awt.headless=true)
BROKER_JVM_OPTS=(-Xmx512m -Xms256m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
                 -Djava.awt.headless=true)

die() { echo "kafka.sh: $*" >&2; exit 1; }
usage() {  # the header comment
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}" >&2
  exit 2
}

# Selects the Kafka release everything below uses. The two lines differ in
# logging: 4.x logs through log4j2 (with an SLF4J binding added to the class
# path here), 3.9 through reload4j (log4j 1.x), whose binding its pom brings.
use_version() {  # VERSION
  case "$1" in
    4.1.1) LOGGING=log4j2 ;;
    3.9.1) LOGGING=log4j1 ;;
    *) die "KAFKA_VERSION=$1 is not supported (4.1.1, the default, or 3.9.1)" ;;
  esac
  KAFKA_VERSION="$1"
  LIB_DIR="$CACHE_DIR/lib-$KAFKA_VERSION"
  MARKER="$LIB_DIR/.complete"
}
use_version "${REQUESTED_VERSION:-$DEFAULT_KAFKA_VERSION}"

# ---------------------------------------------------------------------------
# fetch

fetch() {
  [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$KAFKA_VERSION" ] && return 0
  command -v mvn >/dev/null || die "mvn not found (run scripts/install-deps.sh)"
  mkdir -p "$CACHE_DIR"
  # Serialise concurrent fetches (parallel tests on a cold cache).
  exec 8>"$CACHE_DIR/.fetch.lock"
  command -v flock >/dev/null && flock 8
  if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$KAFKA_VERSION" ]; then
    exec 8>&-
    return 0
  fi
  echo "kafka.sh: fetching Apache Kafka $KAFKA_VERSION jars into $LIB_DIR" >&2
  local work="$CACHE_DIR/fetch.$$"
  rm -rf "$work"
  mkdir -p "$work"
  # The broker (kafka_2.13), Kafka's admin tools (kafka-tools, without the
  # Connect runtime it drags in for one Connect-only tool) and, for 4.x, an
  # SLF4J 1.x binding to log4j2 so that the broker's and the tools' logs are
  # configured.
  local logging_deps=""
  if [ "$LOGGING" = log4j2 ]; then
    logging_deps="
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>"
  fi
  cat >"$work/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by scripts/kafka.sh: the runtime class path of a test broker. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kafka-sidecar.local</groupId>
  <artifactId>kafka-broker-runtime</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>$KAFKA_VERSION</version>
      <exclusions>
        <exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion>
      </exclusions>
    </dependency>$logging_deps
  </dependencies>
</project>
EOF
  if ! (cd "$work" && mvn -B -q "$DEPENDENCY_PLUGIN:copy-dependencies" \
          -DincludeScope=runtime -DoutputDirectory="$work/lib" >"$work/mvn.log" 2>&1); then
    cat "$work/mvn.log" >&2
    rm -rf "$work"
    exec 8>&-
    die "mvn could not fetch the Kafka jars"
  fi
  ls "$work/lib"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 \
    || { rm -rf "$work"; exec 8>&-; die "fetch produced no kafka_2.13 jar"; }
  echo "$KAFKA_VERSION" >"$work/lib/.complete"
  cp "$work/pom.xml" "$work/lib/pom.xml"
  rm -rf "$LIB_DIR"
  mv "$work/lib" "$LIB_DIR"
  rm -rf "$work"
  exec 8>&-
  echo "kafka.sh: fetched $(ls "$LIB_DIR"/*.jar | wc -l) jars" >&2
}

# ---------------------------------------------------------------------------
# log configuration (written next to the jars, atomically)

write_if_changed() {  # FILE, content on stdin
  local file="$1" tmp="$1.tmp.$$"
  cat >"$tmp"
  if [ -f "$file" ] && cmp -s "$tmp" "$file"; then rm -f "$tmp"; else mv -f "$tmp" "$file"; fi
}

# The same policy in either format. Tools: errors only, to stderr, so stdout
# carries just the tool's output. Broker: INFO to stdout (redirected to
# DIR/broker.log), chatty parts quieter. Sets TOOL_LOG_OPTS and
# BROKER_LOG_OPTS, the JVM options that point the JVM at them.
write_log_configs() {
  if [ "$LOGGING" = log4j1 ]; then
    write_log4j1_configs
    TOOL_LOG_OPTS=(-Dlog4j.configuration="file:$CACHE_DIR/log4j-tools.properties")
    BROKER_LOG_OPTS=(-Dlog4j.configuration="file:$CACHE_DIR/log4j-broker.properties")
  else
    write_log4j2_configs
    TOOL_LOG_OPTS=(-Dlog4j2.configurationFile="$CACHE_DIR/log4j2-tools.properties")
    BROKER_LOG_OPTS=(-Dlog4j2.configurationFile="$CACHE_DIR/log4j2-broker.properties")
  fi
}

write_log4j2_configs() {
  write_if_changed "$CACHE_DIR/log4j2-tools.properties" <<'EOF'
status = error
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = error
rootLogger.appenderRef.err.ref = STDERR
EOF
  write_if_changed "$CACHE_DIR/log4j2-broker.properties" <<'EOF'
status = error
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.statechange.name = state.change.logger
logger.statechange.level = warn
logger.clients.name = org.apache.kafka.clients
logger.clients.level = warn
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = warn
logger.utils.name = org.apache.kafka.common.utils.AppInfoParser
logger.utils.level = warn
EOF
}

write_log4j1_configs() {
  write_if_changed "$CACHE_DIR/log4j-tools.properties" <<'EOF'
log4j.rootLogger=ERROR, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
  write_if_changed "$CACHE_DIR/log4j-broker.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.org.apache.kafka.common.config.AbstractConfig=WARN
log4j.logger.org.apache.kafka.common.utils.AppInfoParser=WARN
EOF
}

# ---------------------------------------------------------------------------
# running Java

ensure_java() {
  command -v "$JAVA" >/dev/null || die "java not found (run scripts/install-deps.sh)"
}

run_tool() {  # CLASS ARGS...
  ensure_java
  fetch
  write_log_configs
  # Class-data sharing: the first tool run dumps the classes it loaded into an
  # archive next to the jars (keyed by the java binary), later runs map it and
  # start about twice as fast. A missing, stale or foreign archive is ignored
  # by the JVM. KAFKA_TOOLS_CDS=0 turns this off.
  local cds=() jsa="" java_bin dump_tmp=""
  if [ "${KAFKA_TOOLS_CDS:-1}" != 0 ]; then
    java_bin="$(readlink -f "$(command -v "$JAVA")")"
    jsa="$LIB_DIR/.tools-$(printf '%s %s' "$java_bin" "$(stat -c %Y "$java_bin")" | cksum | cut -d' ' -f1).jsa"
    find "$LIB_DIR" -maxdepth 1 -name '.tools-*.jsa.dumping' -mmin +5 -exec rmdir {} + 2>/dev/null || true
    if [ -f "$jsa" ]; then
      cds=(-XX:SharedArchiveFile="$jsa")
    elif [[ "$1" == org.apache.kafka.tools.* ]] && mkdir "$jsa.dumping" 2>/dev/null; then
      # One dumper at a time, and an admin-client tool (the storage tool
      # loads other classes).
      dump_tmp="$jsa.$$.tmp"
      cds=(-XX:ArchiveClassesAtExit="$dump_tmp")
    fi
  fi
  local rc=0
  # JVM warnings (e.g. about the archive) go to stderr, never into the output.
  "$JAVA" "${TOOL_JVM_OPTS[@]}" "${cds[@]}" -Xlog:disable -Xlog:all=warning:stderr \
    "${TOOL_LOG_OPTS[@]}" -cp "$LIB_DIR/*" "$@" || rc=$?
  if [ -n "$dump_tmp" ]; then
    [ -s "$dump_tmp" ] && mv -f "$dump_tmp" "$jsa"
    rm -f "$dump_tmp"
    rmdir "$jsa.dumping" 2>/dev/null || true
  fi
  return "$rc"
}

# ---------------------------------------------------------------------------
# ports

# True if something listens on TCP PORT (any address), from /proc: no extra
# tools needed.
port_listening() {
  local hex
  hex="$(printf '%04X' "$1")"
  # local_address is field 2 ("ADDR:PORT"), state 0A = LISTEN.
  awk -v p=":$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 }
                    END { exit found ? 0 : 1 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# A random port below Linux's ephemeral range that nothing listens on and
# that is none of the ports given.
pick_port() {  # [AVOID...]
  local avoid=" $* " p i
  for i in $(seq 1 200); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    [[ "$avoid" == *" $p "* ]] && continue
    port_listening "$p" || { echo "$p"; return 0; }
  done
  die "no free port found"
}

# ---------------------------------------------------------------------------
# broker lifecycle

abs_dir() { mkdir -p "$1" && (cd "$1" && pwd); }

# True while process PID runs. A zombie counts as gone: the broker is
# reparented to init once kafka.sh exits, and init may reap it late.
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state="$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# Prints the pid of DIR's broker if it is running (and really is that broker).
broker_pid() {
  local dir="$1" pid
  [ -f "$dir/broker.pid" ] || return 1
  pid="$(cat "$dir/broker.pid")"
  [ -n "$pid" ] && alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir/server.properties" || return 1
  echo "$pid"
}

new_cluster_id() {  # a Kafka Uuid: 16 random bytes, base64url, no padding
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    case "$id" in -*|AAAAAAAAAAAAAAAAAAAAA*) ;; *) echo "$id"; return ;; esac
  done
}

# Kafka 4 has share groups and their internal topic; 3.9 would only warn
# about the unknown keys.
share_group_properties() {
  [ "${KAFKA_VERSION%%.*}" -ge 4 ] || return 0
  printf '%s\n' share.coordinator.state.topic.replication.factor=1 \
    share.coordinator.state.topic.min.isr=1 share.coordinator.state.topic.num.partitions=5
}

write_server_properties() {  # DIR PORT CONTROLLER_PORT [SASL_PORT]
  local dir="$1" port="$2" cport="$3" sport="${4:-}"
  local listeners="PLAINTEXT://127.0.0.1:$port" advertised="PLAINTEXT://127.0.0.1:$port"
  local protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if [ -n "$sport" ]; then
    listeners="$listeners,SASL_PLAINTEXT://127.0.0.1:$sport"
    advertised="$advertised,SASL_PLAINTEXT://127.0.0.1:$sport"
    protocols="$protocols,SASL_PLAINTEXT:SASL_PLAINTEXT"
  fi
  cat >"$dir/server.properties" <<EOF
# Generated by scripts/kafka.sh: single-node KRaft broker+controller for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=$listeners,CONTROLLER://127.0.0.1:$cport
advertised.listeners=$advertised
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols
log.dirs=$dir/data
metadata.log.dir=$dir/data

num.network.threads=2
num.io.threads=4
background.threads=4
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false

# Single node: internal topics with one replica, and few partitions so they
# are created quickly on first use.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
$(share_group_properties)

# Groups form at once, and tests may use short session timeouts.
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
group.consumer.min.session.timeout.ms=1000
group.consumer.min.heartbeat.interval.ms=500

# Quick shutdown.
controlled.shutdown.enable=true
EOF
  if [ -n "$sport" ]; then
    # The SCRAM credentials live in the cluster metadata (written at format
    # time), so their login module needs no user list; PLAIN's does.
    cat >>"$dir/server.properties" <<EOF

# SASL_PLAINTEXT listener (not GSSAPI, the default: it needs Kerberos).
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$SASL_PASSWORD";
EOF
    chmod 600 "$dir/server.properties"
  fi
}

# The SASL user and password from the environment, checked: the storage
# tool splits its --add-scram argument at commas and strips quotes, and the
# PLAIN one goes into a quoted JAAS string in a properties file.
sasl_credentials() {
  SASL_USER="${KAFKA_SASL_USERNAME:-sidecar}"
  SASL_PASSWORD="${KAFKA_SASL_PASSWORD:-}"
  [ -n "$SASL_PASSWORD" ] || die "the SASL password must be in KAFKA_SASL_PASSWORD"
  local bad='[],"\[:space:][]'
  if [[ "$SASL_USER$SASL_PASSWORD" =~ $bad ]]; then
    die "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD may not hold commas, quotes, backslashes, brackets or spaces"
  fi
}

# What `start` prints (and keeps in DIR): the plaintext bootstrap address,
# then the SASL one if DIR has that listener.
report_bootstrap() {  # DIR PORT [SASL_PORT]
  echo "127.0.0.1:$2" >"$1/bootstrap"
  cat "$1/bootstrap"
  if [ -n "${3:-}" ]; then
    echo "127.0.0.1:$3" >"$1/bootstrap-sasl"
    cat "$1/bootstrap-sasl"
  fi
}

log_tail() {  # DIR
  if [ -f "$1/broker.log" ]; then
    echo "---- last lines of $1/broker.log ----" >&2
    tail -n 60 "$1/broker.log" >&2
    echo "----" >&2
  fi
}

# Polls until the broker of DIR (process PID, writing broker.log from byte
# LOG_OFFSET on) serves metadata on PORT, or fails at DEADLINE (in $SECONDS).
wait_ready() {  # DIR PID PORT LOG_OFFSET DEADLINE
  local dir="$1" pid="$2" port="$3" log_offset="$4" deadline="$5" out=""
  # Cheap checks first (no JVM): the process lives and says it has started,
  # which it does only once its listeners are bound (so a port that another
  # broker already serves is not mistaken for ours).
  while :; do
    alive "$pid" || { echo "broker process exited" >&2; return 1; }
    if [ "$log_offset" = "-" ] \
       || tail -c +"$((log_offset + 1))" "$dir/broker.log" 2>/dev/null | grep -q 'Kafka Server started'; then
      break
    fi
    [ "$SECONDS" -lt "$deadline" ] || { echo "broker did not start in time" >&2; return 1; }
    sleep 0.2
  done
  # Then ask it for metadata with Kafka's own client.
  while :; do
    alive "$pid" || { echo "broker process exited" >&2; return 1; }
    if out="$(run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$port" \
                --list 2>&1)"; then
      return 0
    fi
    [ "$SECONDS" -lt "$deadline" ] || { echo "broker not serving metadata in time: $out" >&2; return 1; }
    sleep 0.5
  done
}

# A DIR made by `start` runs the Kafka release that formatted it (a DIR from
# before releases were recorded: the default). Asking for another one is an
# error rather than an upgrade or downgrade of its data.
dir_version() {  # DIR
  local made="$DEFAULT_KAFKA_VERSION"
  [ -f "$1/ports" ] && [ -f "$1/data/meta.properties" ] || return 0
  [ ! -f "$1/version" ] || made="$(cat "$1/version")"
  [ -z "$REQUESTED_VERSION" ] || [ "$REQUESTED_VERSION" = "$made" ] \
    || die "$1 holds a Kafka $made broker, not $REQUESTED_VERSION (KAFKA_VERSION)"
  use_version "$made"
}

start() {  # [--sasl] DIR [PORT]
  local sasl=0
  if [ "${1:-}" = --sasl ]; then
    sasl=1
    shift
  fi
  [ $# -ge 1 ] && [ $# -le 2 ] || usage
  ensure_java
  local dir port cport sport="" pid fresh=0 attempt deadline
  dir="$(abs_dir "$1")"
  local want_port="${2:-}"
  dir_version "$dir"
  fetch
  write_log_configs

  if pid="$(broker_pid "$dir")"; then
    read -r port cport sport <"$dir/ports"
    [ "$sasl" = 0 ] || [ -n "$sport" ] || die "the broker in $dir has no SASL listener"
    deadline=$((SECONDS + START_TIMEOUT_S))
    wait_ready "$dir" "$pid" "$port" - "$deadline" || { log_tail "$dir"; die "broker in $dir is not healthy"; }
    report_bootstrap "$dir" "$port" "$sport"
    return 0
  fi

  if [ -f "$dir/ports" ] && [ -f "$dir/data/meta.properties" ]; then
    read -r port cport sport <"$dir/ports"  # restart: same ports, listeners, data
    [ -z "$want_port" ] || [ "$want_port" = "$port" ] \
      || die "$dir was formatted for port $port, not $want_port"
    [ "$sasl" = 0 ] || [ -n "$sport" ] || die "$dir was formatted without a SASL listener"
  else
    fresh=1
    [ "$sasl" = 0 ] || sasl_credentials
  fi

  local log_offset
  for attempt in 1 2 3; do
    if [ "$fresh" = 1 ]; then
      rm -rf "$dir/data"
      port="${want_port:-$(pick_port)}"
      cport="$(pick_port "$port")"
      local scram=()
      if [ "$sasl" = 1 ]; then
        sport="$(pick_port "$port" "$cport")"
        scram=(--add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$SASL_PASSWORD]"
               --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$SASL_PASSWORD]")
      fi
      write_server_properties "$dir" "$port" "$cport" "$sport"
      local fmt_out
      if ! fmt_out="$(run_tool kafka.tools.StorageTool format --cluster-id "$(new_cluster_id)" \
                        --config "$dir/server.properties" --ignore-formatted "${scram[@]}" 2>&1)"; then
        [ "$sasl" = 0 ] || fmt_out="${fmt_out//"$SASL_PASSWORD"/[redacted]}"
        echo "$fmt_out" >&2
        die "formatting the storage in $dir failed"
      fi
      echo "$port $cport${sport:+ $sport}" >"$dir/ports"
      echo "$KAFKA_VERSION" >"$dir/version"
    fi
    if port_listening "$port" || port_listening "$cport" \
       || { [ -n "$sport" ] && port_listening "$sport"; }; then
      if [ "$fresh" = 1 ] && [ -z "$want_port" ] && [ "$attempt" -lt 3 ]; then
        continue  # taken since it was picked: pick again
      fi
      die "port $port, $cport${sport:+ or $sport} of $dir is already in use by another process"
    fi

    rm -f "$dir/bootstrap" "$dir/bootstrap-sasl"
    touch "$dir/broker.log"
    log_offset="$(wc -c <"$dir/broker.log")"
    deadline=$((SECONDS + START_TIMEOUT_S))
    # setsid: own session and process group, so stop can signal all of it and
    # the broker is not hit by signals meant for the caller's terminal.
    setsid "$JAVA" "${BROKER_JVM_OPTS[@]}" \
      "${BROKER_LOG_OPTS[@]}" -Dkafka.logs.dir="$dir" \
      -cp "$LIB_DIR/*" kafka.Kafka "$dir/server.properties" \
      </dev/null >>"$dir/broker.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/broker.pid"

    if wait_ready "$dir" "$pid" "$port" "$log_offset" "$deadline"; then
      report_bootstrap "$dir" "$port" "$sport"
      return 0
    fi
    stop_pid "$dir" "$pid" || true
    # A port taken between picking and binding: pick others and try again
    # (only for a fresh DIR whose ports were chosen here).
    if [ "$fresh" = 1 ] && [ -z "$want_port" ] \
       && tail -c +"$((log_offset + 1))" "$dir/broker.log" | grep -q "Address already in use"; then
      echo "kafka.sh: port clash, retrying with other ports" >&2
      continue
    fi
    break
  done
  log_tail "$dir"
  die "broker in $dir failed to start"
}

stop_pid() {  # DIR PID
  local dir="$1" pid="$2" deadline
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT_S))
  while alive "$pid"; do
    # Reap it if it is our own child (the failed-start path).
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "kafka.sh: broker $pid did not stop in ${STOP_TIMEOUT_S}s, killing it" >&2
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  wait "$pid" 2>/dev/null || true
  rm -f "$dir/broker.pid" "$dir/bootstrap" "$dir/bootstrap-sasl"
}

stop() {  # DIR
  [ $# -eq 1 ] || usage
  [ -d "$1" ] || return 0
  local dir pid
  dir="$(cd "$1" && pwd)"
  if pid="$(broker_pid "$dir")"; then
    stop_pid "$dir" "$pid"
  else
    rm -f "$dir/broker.pid" "$dir/bootstrap" "$dir/bootstrap-sasl"
  fi
}

clean() {  # DIR
  [ $# -eq 1 ] || usage
  [ -d "$1" ] || return 0
  local dir pid deadline
  dir="$(cd "$1" && pwd)"
  # Its data is about to go, so there is nothing to shut down cleanly for:
  # SIGKILL saves the seconds of a controlled shutdown.
  if pid="$(broker_pid "$dir")"; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT_S))
    while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
  fi
  rm -rf "$dir"
}

# ---------------------------------------------------------------------------
# admin wrappers

topic_create() {  # BOOTSTRAP TOPIC PARTITIONS [TOOL-ARGS...]
  [ $# -ge 3 ] || usage
  local bootstrap="$1" topic="$2" partitions="$3"
  shift 3
  run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create \
    --topic "$topic" --partitions "$partitions" --replication-factor 1 "$@"
}

group_offsets() {  # BOOTSTRAP GROUP
  [ $# -eq 2 ] || usage
  # The tool reports failures as an "Error: ..." line on stdout (plus a stack
  # trace on stderr) and still exits 0: turn that into an exit status. A group
  # that does not exist has no committed offsets: empty output, exit 0 (a
  # Kafka 4 broker says so with an exception, a 3.9 one in plain words).
  local out err rc=0
  out="$(mktemp)"
  err="$(mktemp)"
  run_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
    --bootstrap-server "$1" --describe --group "$2" >"$out" 2>"$err" || rc=$?
  if grep -q '^Error:' "$out"; then
    if grep -q 'GroupIdNotFoundException' "$out" \
       || grep -qF "Error: Consumer group '$2' does not exist." "$out"; then
      echo "kafka.sh: consumer group '$2' does not exist" >&2
    else
      grep -v '^[[:space:]]*at ' "$err" >&2 || true
      grep '^Error:' "$out" >&2
      [ "$rc" -ne 0 ] || rc=1
    fi
  else
    cat "$out"
    cat "$err" >&2
  fi
  rm -f "$out" "$err"
  return "$rc"
}

sasl_login() {  # BOOTSTRAP MECHANISM
  [ $# -eq 2 ] || usage
  sasl_credentials
  local module=org.apache.kafka.common.security.scram.ScramLoginModule props rc=0
  [ "$2" != PLAIN ] || module=org.apache.kafka.common.security.plain.PlainLoginModule
  props="$(mktemp)"
  chmod 600 "$props"
  printf '%s\n' "security.protocol=SASL_PLAINTEXT" "sasl.mechanism=$2" \
    "sasl.jaas.config=$module required username=\"$SASL_USER\" password=\"$SASL_PASSWORD\";" >"$props"
  run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$1" --command-config "$props" \
    --list >/dev/null || rc=$?
  rm -f "$props"
  return "$rc"
}

end_offsets() {  # BOOTSTRAP TOPIC
  [ $# -eq 2 ] || usage
  run_tool org.apache.kafka.tools.GetOffsetShell --bootstrap-server "$1" --topic "$2" --time -1
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  fetch) [ $# -eq 0 ] || usage; ensure_java; fetch ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  clean) clean "$@" ;;
  topic-create) topic_create "$@" ;;
  group-offsets) group_offsets "$@" ;;
  end-offsets) end_offsets "$@" ;;
  sasl-login) sasl_login "$@" ;;
  tool) [ $# -ge 1 ] || usage; run_tool "$@" ;;
  *) usage ;;
esac
