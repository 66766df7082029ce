#!/usr/bin/env bash
# The container path, end to end, as a user takes it: builds every image
# docker-compose.yml builds, brings the whole stack up (Kafka, topics, the
# sidecar, the Python example handler), waits on real health, produces a
# known set of messages (some not JSON) and checks with Kafka's own tools
# and the sidecar's /stats that every one was processed or dead-lettered and
# the group committed up to the log end; then `down` with nothing left
# running. Then the sidecar image alone: non-root, read-only root
# filesystem, /healthz and /readyz, --version, a bad config, and SIGTERM
# exiting 0 (the sidecar is PID 1), a port in use and no Kafka (exit 1).
#
# Podman stands in for Docker (scripts/container-setup.sh prepares the
# machine) and a locally built image for apache/kafka
# (tests/compose/kafka-standin, via tests/compose/docker-compose.test.yml).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
MESSAGES="${COMPOSE_TEST_MESSAGES:-1000}"
INVALID_EVERY=50
INVALID=$((MESSAGES / INVALID_EVERY))
PROJECT="kstest$$"
KAFKA_IMAGE=localhost/kafka-sidecar-test-kafka:4.1.1
start_all=$SECONDS
log() { echo "compose-test: $*" >&2; }
die() { log "FAILED: $*"; exit 1; }

"$REPO_ROOT/scripts/container-setup.sh"
"$REPO_ROOT/scripts/kafka.sh" fetch >/dev/null

WORK="$(mktemp -d)"
service_pid=""
health_pid=""
cleanup() {
  set +e
  if [ -n "${DOCKER_HOST:-}" ]; then
    docker-compose "${COMPOSE[@]}" logs --no-color >"$WORK/compose.log" 2>&1
    if [ "${ok:-0}" != 1 ]; then
      log "compose logs (last 80 lines):"; tail -80 "$WORK/compose.log" >&2
    fi
    docker-compose "${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1
  fi
  podman rm -f "$PROJECT-alone" "$PROJECT-kafka" "$PROJECT-bad" >/dev/null 2>&1
  podman network rm -f "$PROJECT-net" >/dev/null 2>&1
  [ -n "$health_pid" ] && kill "$health_pid" 2>/dev/null
  [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {  # what, seconds, command...
  local what="$1" limit="$2"; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      # The last answer of the check, when it keeps one.
      [ -s "$WORK/check.txt" ] && cat "$WORK/check.txt" >&2
      die "$what not within ${limit}s"
    fi
    sleep 1
  done
}

# ---- images
t=$SECONDS
mkdir -p "$WORK/kafka-ctx/libs"
cp tests/compose/kafka-standin/* "$WORK/kafka-ctx/"
cp .kafka/lib-4.1.1/*.jar "$WORK/kafka-ctx/libs/"
build() {  # tag, podman build arguments...: quiet unless it fails
  local tag="$1"; shift
  podman build --format docker -t "$tag" "$@" >"$WORK/build.log" 2>&1 ||
    { tail -40 "$WORK/build.log" >&2; die "building $tag"; }
}
build "$KAFKA_IMAGE" "$WORK/kafka-ctx"
log "stand-in Kafka image built"
# The images docker-compose.yml builds, built the way it builds them; Docker
# format, or the HEALTHCHECK is dropped.
build kafka-sidecar:local -f Dockerfile .
# A machine whose pip trusts an extra CA (a TLS-intercepting proxy to PyPI)
# lends that trust to the handler image's pip install, and nothing more: a
# pip.conf and the CA bundle mounted for the build, not baked in.
pip_trust=()
host_ca="${PIP_CERT:-$(pip3 config get global.cert 2>/dev/null || true)}"
if [ -n "$host_ca" ] && [ -f "$host_ca" ]; then
  printf '[global]\ncert = /run/kafka-sidecar-build-ca.crt\n' >"$WORK/pip.conf"
  pip_trust=(--volume "$WORK/pip.conf:/etc/pip.conf:ro"
             --volume "$host_ca:/run/kafka-sidecar-build-ca.crt:ro")
fi
build kafka-sidecar-python-example:local "${pip_trust[@]}" -f client_examples/python/Dockerfile .
build_s=$((SECONDS - t))
size() { podman image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1 / 1e6}'; }
log "images built in ${build_s}s: kafka-sidecar:local $(size kafka-sidecar:local)," \
    "kafka-sidecar-python-example:local $(size kafka-sidecar-python-example:local)"

# ---- docker-compose through Podman's Docker API
podman system service --time=0 "unix://$WORK/podman.sock" &
service_pid=$!
export DOCKER_HOST="unix://$WORK/podman.sock"
wait_for "podman API socket" 30 test -S "$WORK/podman.sock"
export SIDECAR_GRPC_PORT SIDECAR_HTTP_PORT
SIDECAR_GRPC_PORT="$(free_port)"
SIDECAR_HTTP_PORT="$(free_port)"
COMPOSE=(-p "$PROJECT" -f docker-compose.yml -f tests/compose/docker-compose.test.yml)
# The compose file itself must still build what the test built above.
docker-compose "${COMPOSE[@]}" config >"$WORK/config.yml"
grep -q 'dockerfile: Dockerfile' "$WORK/config.yml" || die "compose no longer builds ./Dockerfile"
grep -q 'dockerfile: client_examples/python/Dockerfile' "$WORK/config.yml" ||
  die "compose no longer builds the Python handler image"

# Podman runs HEALTHCHECKs from systemd timers; without systemd, run them
# here, so that `condition: service_healthy` can become true.
(
  while true; do
    for c in $(podman ps --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Names}}'); do
      podman healthcheck run "$c" >/dev/null 2>&1 || true
    done
    sleep 2
  done
) &
health_pid=$!

t=$SECONDS
docker-compose "${COMPOSE[@]}" up -d --no-build >"$WORK/up.log" 2>&1 ||
  { cat "$WORK/up.log" >&2; die "docker-compose up"; }
HTTP="http://127.0.0.1:$SIDECAR_HTTP_PORT"
wait_for "sidecar /readyz" 180 curl -fsS "$HTTP/readyz"
stream_connected() { curl -fsS "$HTTP/stats" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["streams"] else 1)'; }
wait_for "the handler's stream" 120 stream_connected
log "stack up and ready in $((SECONDS - t))s"

# ---- a known workload: MESSAGES JSON orders, every 50th cut short
python3 - "$MESSAGES" "$INVALID_EVERY" >"$WORK/orders.txt" <<'PY'
import sys
n, every = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    # Keyed (key TAB value), so the orders spread over every partition.
    print('order-%d\t{"id": %d, "amount": %d' % (i, i, i % 97) + ("" if (i + 1) % every == 0 else "}"))
PY
docker-compose "${COMPOSE[@]}" exec -T kafka /opt/kafka/bin/kafka-console-producer.sh \
  --bootstrap-server kafka:9092 --topic orders --property parse.key=true <"$WORK/orders.txt"
stat() { curl -fsS "$HTTP/stats" | python3 -c "import json,sys; print(int(json.load(sys.stdin)['$1']))"; }
settled() { [ $(( $(stat messages_processed) + $(stat messages_dead_lettered) )) -ge "$MESSAGES" ]; }
wait_for "all $MESSAGES messages settled" 180 settled
processed="$(stat messages_processed)"
dead="$(stat messages_dead_lettered)"
[ "$processed" -eq $((MESSAGES - INVALID)) ] || die "processed $processed, want $((MESSAGES - INVALID))"
[ "$dead" -eq "$INVALID" ] || die "dead-lettered $dead, want $INVALID"

# Kafka's own view: the dead-letter topic holds exactly the invalid ones and
# the group's lag is 0 on every partition.
dlt_end() {
  docker-compose "${COMPOSE[@]}" exec -T kafka /opt/kafka/bin/kafka-get-offsets.sh \
    --bootstrap-server kafka:9092 --topic orders.dlt | awk -F: '{s += $3} END {print s + 0}'
}
[ "$(dlt_end)" -eq "$INVALID" ] || die "orders.dlt holds $(dlt_end) records, want $INVALID"
lag_zero() {
  docker-compose "${COMPOSE[@]}" exec -T kafka /opt/kafka/bin/kafka-consumer-groups.sh \
    --bootstrap-server kafka:9092 --describe --group orders-consumer >"$WORK/check.txt" 2>&1 &&
  awk '$2 == "orders" { n++; if ($6 != "0") bad = 1 } END { exit (n == 3 && !bad) ? 0 : 1 }' "$WORK/check.txt"
}
rm -f "$WORK/check.txt"
wait_for "group orders-consumer committed at the log end (lag 0 on 3 partitions)" 60 lag_zero
log "workload: $MESSAGES produced, $processed processed, $dead dead-lettered, lag 0"

# Graceful stop inside the stack, the handler first (as `down` does): the
# sidecar drains, leaves the group and exits 0 well within its grace period.
docker-compose "${COMPOSE[@]}" stop handler >/dev/null 2>&1
t=$SECONDS
docker-compose "${COMPOSE[@]}" stop -t 30 sidecar >/dev/null 2>&1
stop_s=$((SECONDS - t))
sidecar_id="$(docker-compose "${COMPOSE[@]}" ps -q sidecar)"
code="$(podman inspect --format '{{.State.ExitCode}}' "$sidecar_id")"
if [ "$code" != 0 ] || [ "$stop_s" -ge 20 ]; then
  podman logs "$sidecar_id" 2>&1 | tail -30 >&2
  die "the sidecar stopped in ${stop_s}s with exit code $code, want 0 within 20s"
fi
log "sidecar stopped in ${stop_s}s, exit code 0"

docker-compose "${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1
left="$(podman ps -a --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Names}}')"
[ -z "$left" ] || die "containers left after down: $left"
kill "$health_pid"; health_pid=""
unset DOCKER_HOST

# ---- the sidecar image alone: non-root, read-only root filesystem
podman network create "$PROJECT-net" >/dev/null
podman run -d --name "$PROJECT-kafka" --network "$PROJECT-net" --network-alias kafka \
  -e KAFKA_NODE_ID=1 -e KAFKA_PROCESS_ROLES=broker,controller \
  -e KAFKA_LISTENERS=PLAINTEXT://:9092,CONTROLLER://:9093 \
  -e KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://kafka:9092 -e KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER \
  -e KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT \
  -e KAFKA_CONTROLLER_QUORUM_VOTERS=1@kafka:9093 -e KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=1 \
  -e KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS=0 "$KAFKA_IMAGE" >/dev/null
rm -f "$WORK/check.txt"
wait_for "the lone Kafka" 90 podman exec "$PROJECT-kafka" \
  /opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server kafka:9092
podman exec "$PROJECT-kafka" /opt/kafka/bin/kafka-topics.sh --bootstrap-server kafka:9092 \
  --create --topic orders --partitions 1 --replication-factor 1 >/dev/null
version="$(podman run --rm --read-only kafka-sidecar:local --version)" || die "--version"
echo "$version" | grep -q '^kafka-sidecar ' || die "--version printed: $version"
user="$(podman image inspect --format '{{.Config.User}}' kafka-sidecar:local)"
[ -n "$user" ] && [ "$user" != 0 ] && [ "$user" != root ] || die "the image runs as root"
port="$(free_port)"
podman run -d --name "$PROJECT-alone" --network "$PROJECT-net" --read-only -p "127.0.0.1:$port:8080" \
  -v "$REPO_ROOT/deploy/compose/sidecar.yaml:/etc/kafka-sidecar/sidecar.yaml:ro" \
  kafka-sidecar:local >/dev/null
wait_for "/healthz of the lone sidecar" 60 curl -fsS "http://127.0.0.1:$port/healthz"
lone_ready() { curl -sS "http://127.0.0.1:$port/readyz" >"$WORK/check.txt" 2>&1 && ! grep -q '"ok":false' "$WORK/check.txt"; }
wait_for "/readyz of the lone sidecar" 120 lone_ready
# The image has no `id` or `ps`: the process's real uid, seen from the host.
pid="$(podman inspect --format '{{.State.Pid}}' "$PROJECT-alone")"
uid="$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")"
[ -n "$uid" ] && [ "$uid" != 0 ] || die "the sidecar runs as uid '$uid'"
# The health check the image declares (Docker format) works without curl.
podman healthcheck run "$PROJECT-alone" >/dev/null 2>&1 || die "the image's HEALTHCHECK fails"
# A port in use: a second sidecar in the first one's network namespace.
set +e
podman run --name "$PROJECT-bad" --network "container:$PROJECT-alone" --read-only \
  -v "$REPO_ROOT/deploy/compose/sidecar.yaml:/etc/kafka-sidecar/sidecar.yaml:ro" \
  kafka-sidecar:local >"$WORK/bad.log" 2>&1
code=$?
set -e
podman rm -f "$PROJECT-bad" >/dev/null 2>&1
[ "$code" -eq 1 ] || { tail -5 "$WORK/bad.log" >&2; die "a port in use exited $code, want 1"; }
grep -q 'cannot listen on 0.0.0.0:50051: Address already in use' "$WORK/bad.log" ||
  { tail -5 "$WORK/bad.log" >&2; die "a port in use: the error does not say which and why"; }
log "port in use: exit 1, $(grep -o 'server.grpc_listen: cannot listen on [^;]*' "$WORK/bad.log")"

podman stop -t 30 "$PROJECT-alone" >/dev/null
code="$(podman inspect --format '{{.State.ExitCode}}' "$PROJECT-alone")"
[ "$code" = 0 ] || { podman logs "$PROJECT-alone" 2>&1 | tail -20 >&2; die "exit code $code on SIGTERM, want 0"; }
log "image alone: --version ok, uid $uid, read-only root, healthz/readyz ok, SIGTERM exit 0"

# A broken config mounted in: a clear error naming the key, non-zero exit.
printf 'kafka:\n  bootstrap_servers: kafka:9092\n  group_id: g\n  topics: [orders]\nprocessing:\n  max_retries: -1\n' \
  >"$WORK/bad.yaml"
chmod 644 "$WORK/bad.yaml"
set +e
podman run --name "$PROJECT-bad" --read-only -v "$WORK/bad.yaml:/etc/kafka-sidecar/sidecar.yaml:ro" \
  kafka-sidecar:local >"$WORK/bad.log" 2>&1
code=$?
set -e
[ "$code" -ne 0 ] || die "a bad config exited 0"
grep -q 'processing.max_retries' "$WORK/bad.log" || { cat "$WORK/bad.log" >&2; die "the error does not name the key"; }
log "bad config: exit $code, $(grep -m1 'processing.max_retries' "$WORK/bad.log")"
podman rm -f "$PROJECT-bad" >/dev/null 2>&1

# No Kafka: a network where "kafka" does not resolve. The sidecar waits
# kafka.startup_timeout_ms (shortened here), then exits 1 with the last
# connection error instead of running on, unready.
podman stop -t 30 "$PROJECT-kafka" >/dev/null 2>&1
t=$SECONDS
set +e
timeout 120 podman run --name "$PROJECT-bad" --network "$PROJECT-net" --read-only \
  -e KAFKA_SIDECAR_KAFKA_STARTUP_TIMEOUT_MS=5000 \
  -v "$REPO_ROOT/deploy/compose/sidecar.yaml:/etc/kafka-sidecar/sidecar.yaml:ro" \
  kafka-sidecar:local >"$WORK/bad.log" 2>&1
code=$?
set -e
[ "$code" -eq 1 ] || { tail -5 "$WORK/bad.log" >&2; die "no Kafka: exit $code, want 1"; }
grep -q 'start-up failed: no Kafka broker reached at kafka:9092' "$WORK/bad.log" ||
  { tail -5 "$WORK/bad.log" >&2; die "no Kafka: the error does not name the broker"; }
log "no Kafka: exit 1 after $((SECONDS - t))s, $(grep -o 'no Kafka broker reached at [^;]*' "$WORK/bad.log")"

# Nothing restarts the sidecar behind the user's back: its errors stay the
# last lines of its log.
policy="$(/usr/bin/python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["services"]["sidecar"].get("restart", "no"))' "$WORK/config.yml")"
[ "$policy" = no ] || die "docker-compose.yml restarts the sidecar ($policy): a crash loop would hide its error"

ok=1
log "passed in $((SECONDS - start_all))s (image builds ${build_s}s)"
