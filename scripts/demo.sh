#!/usr/bin/env bash
# The main job, end to end on this machine: builds the sidecar, starts a
# local Kafka broker, produces JSON messages to a 6-partition topic, runs the
# sidecar and the C++ example handler, which acks every message, prints the
# sidecar's stats, then shuts everything down gracefully.
#
#   scripts/demo.sh [MESSAGES]     (default 100000)
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build}"
MESSAGES="${1:-100000}"
TOPIC=demo
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kafka-sidecar-demo.XXXXXX")"
SIDECAR_PID=""

cleanup() {
  [ -n "$SIDECAR_PID" ] && kill "$SIDECAR_PID" 2>/dev/null && wait "$SIDECAR_PID" 2>/dev/null
  "$REPO_ROOT/scripts/kafka.sh" clean "$WORK/kafka" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$REPO_ROOT/scripts/build.sh"

echo "== starting Kafka"
BOOTSTRAP="$("$REPO_ROOT/scripts/kafka.sh" start "$WORK/kafka")"
"$REPO_ROOT/scripts/kafka.sh" topic-create "$BOOTSTRAP" "$TOPIC" 6 >/dev/null
echo "== producing $MESSAGES JSON messages to $TOPIC at $BOOTSTRAP"
seq 1 "$MESSAGES" | awk '{printf "order-%d:{\"order_id\":%d,\"amount\":%d.%02d}\n", $1, $1, $1 % 500, $1 % 100}' |
  kcat -P -b "$BOOTSTRAP" -t "$TOPIC" -K: -X linger.ms=20

GRPC_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat >"$WORK/sidecar.yaml" <<YAML
kafka:
  bootstrap_servers: $BOOTSTRAP
  group_id: demo-group
  topics: [$TOPIC]
processing:
  max_workers: 2
  batch_size: 500
  max_in_flight_messages: 5000
server:
  grpc_listen: 127.0.0.1:$GRPC_PORT
  http_listen: ""
YAML

echo "== starting kafka-sidecar on 127.0.0.1:$GRPC_PORT"
"$BUILD_DIR/sidecar/kafka-sidecar" --config "$WORK/sidecar.yaml" 2>"$WORK/sidecar.log" &
SIDECAR_PID=$!

echo "== running the C++ example handler"
"$BUILD_DIR/client_examples/cpp/ack_handler" --target "127.0.0.1:$GRPC_PORT" --expect "$MESSAGES"

echo "== stopping kafka-sidecar (SIGTERM: drain, commit, leave the group)"
kill -TERM "$SIDECAR_PID"
wait "$SIDECAR_PID" && echo "kafka-sidecar exited 0"
SIDECAR_PID=""
echo "== committed offsets of demo-group, read by Kafka's own tool"
"$REPO_ROOT/scripts/kafka.sh" group-offsets "$BOOTSTRAP" demo-group
