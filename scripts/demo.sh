#!/usr/bin/env bash
# The main job, end to end on this machine: builds the sidecar, starts a
# local Kafka broker, produces JSON messages to a 6-partition topic (a few
# of them not valid JSON), runs the sidecar and the Python example handler
# (client_examples/python), which processes the JSON and rejects the rest
# into the dead-letter topic, prints the sidecar's stats, then shuts
# everything down gracefully.
#
#   scripts/demo.sh [MESSAGES]     (default 100000)
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build}"
MESSAGES="${1:-100000}"
TOPIC=demo
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kafka-sidecar-demo.XXXXXX")"
SIDECAR_PID=""
HANDLER_PID=""

cleanup() {
  [ -n "$HANDLER_PID" ] && kill "$HANDLER_PID" 2>/dev/null && wait "$HANDLER_PID" 2>/dev/null
  [ -n "$SIDECAR_PID" ] && kill "$SIDECAR_PID" 2>/dev/null && wait "$SIDECAR_PID" 2>/dev/null
  "$REPO_ROOT/scripts/kafka.sh" clean "$WORK/kafka" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$REPO_ROOT/scripts/build.sh"

echo "== starting Kafka"
BOOTSTRAP="$("$REPO_ROOT/scripts/kafka.sh" start "$WORK/kafka")"
"$REPO_ROOT/scripts/kafka.sh" topic-create "$BOOTSTRAP" "$TOPIC" 6 >/dev/null
"$REPO_ROOT/scripts/kafka.sh" topic-create "$BOOTSTRAP" "$TOPIC.dlt" 1 >/dev/null
echo "== producing $MESSAGES messages to $TOPIC at $BOOTSTRAP (every 10,000th is not JSON)"
seq 1 "$MESSAGES" | awk '{ if ($1 % 10000 == 0) printf "order-%d:not json %d\n", $1, $1;
  else printf "order-%d:{\"order_id\":%d,\"amount\":%d.%02d}\n", $1, $1, $1 % 500, $1 % 100 }' |
  kcat -P -b "$BOOTSTRAP" -t "$TOPIC" -K: -X linger.ms=20
INVALID=$((MESSAGES / 10000))

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
GRPC_PORT="$(free_port)"
HTTP_PORT="$(free_port)"
cat >"$WORK/sidecar.yaml" <<YAML
kafka:
  bootstrap_servers: $BOOTSTRAP
  group_id: demo-group
  topics: [$TOPIC]
processing:
  max_workers: 2
  batch_size: 500
  max_in_flight_messages: 5000
  dead_letter_topic: $TOPIC.dlt
  error_threshold: 1000
server:
  grpc_listen: 127.0.0.1:$GRPC_PORT
  http_listen: 127.0.0.1:$HTTP_PORT
YAML

echo "== starting kafka-sidecar on 127.0.0.1:$GRPC_PORT"
"$BUILD_DIR/sidecar/kafka-sidecar" --config "$WORK/sidecar.yaml" 2>"$WORK/sidecar.log" &
SIDECAR_PID=$!

echo "== running the Python example handler (client_examples/python)"
SIDECAR_ADDRESS="127.0.0.1:$GRPC_PORT" HANDLER_NAME=demo-handler \
  "$REPO_ROOT/.venv/bin/python3" "$REPO_ROOT/client_examples/python/example_handler.py" \
  2>"$WORK/handler.log" &
HANDLER_PID=$!

# Until every message is settled: processed + failed (dead-lettered) = all.
stat() {  # field of GET /stats
  curl -sf "127.0.0.1:$HTTP_PORT/stats" | python3 -c "import json,sys; print(int(json.load(sys.stdin)['$1']))"
}
start=$SECONDS
until [ "$(( $(stat messages_processed 2>/dev/null || echo 0) + $(stat messages_dead_lettered 2>/dev/null || echo 0) ))" -ge "$MESSAGES" ]; do
  kill -0 "$HANDLER_PID" 2>/dev/null || { cat "$WORK/handler.log" >&2; echo "handler exited" >&2; exit 1; }
  [ $((SECONDS - start)) -lt 300 ] || { echo "demo: not done after 300 s" >&2; exit 1; }
  sleep 0.5
done
echo "== the sidecar's stats (GET /stats)"
curl -s "127.0.0.1:$HTTP_PORT/stats" | python3 -c "
import json, sys
s = json.load(sys.stdin)
for k in ('messages_processed', 'messages_dead_lettered', 'messages_failed', 'messages_delivered',
          'batches_delivered', 'processing_rate_per_second', 'recent_processing_rate_per_second',
          'average_processing_time_ms', 'processing_time_p99_ms'):
    print(f'  {k:36} {s[k]}')
for st in s['streams']:
    print(f\"  stream {st['stream_id']:10} handler={st['handler_name']} processed={st['processed']} failed={st['failed']}\")
"
[ "$(stat messages_dead_lettered)" -eq "$INVALID" ] || { echo "demo: expected $INVALID dead letters" >&2; exit 1; }

echo "== stopping the handler (SIGTERM: it settles what it holds)"
kill -TERM "$HANDLER_PID"
wait "$HANDLER_PID" && echo "handler exited 0"
HANDLER_PID=""

echo "== stopping kafka-sidecar (SIGTERM: drain, commit, leave the group)"
kill -TERM "$SIDECAR_PID"
wait "$SIDECAR_PID" && echo "kafka-sidecar exited 0"
SIDECAR_PID=""
echo "== committed offsets of demo-group, read by Kafka's own tool"
"$REPO_ROOT/scripts/kafka.sh" group-offsets "$BOOTSTRAP" demo-group
