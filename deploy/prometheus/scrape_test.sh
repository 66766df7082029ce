#!/usr/bin/env bash
# A real Prometheus server (the Debian package's binary) scrapes a real
# kafka-sidecar every second while the C++ example handler acks N messages
# from a real Kafka broker, with kafka-sidecar-alerts.yml loaded:
#
# - the alert rules load and evaluate with health "ok";
# - KafkaSidecarNoHandlerConnected goes pending on the live series before the
#   handler connects, and every alert is gone once it has processed all;
# - sum(kafka_sidecar_messages_processed_total) over the HTTP API is exactly N;
# - every query of the Grafana dashboard, as Grafana would send it, evaluates
#   to data;
# - check_queries.py passes against this sidecar's /metrics, where every
#   family (per-partition ones included) has samples.
#
# usage: scrape_test.sh KAFKA_SIDECAR_BINARY CPP_EXAMPLE_HANDLER_BINARY
#
# Everything started here is stopped on any exit. The test gives up after
# SCRAPE_TEST_BUDGET seconds (default 200), below ctest's TIMEOUT, so that
# the cleanup always runs before ctest would kill the script.
set -euo pipefail
SIDECAR_BIN="$1"
HANDLER_BIN="$2"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
KAFKA="$ROOT/scripts/kafka.sh"
RULES="$HERE/kafka-sidecar-alerts.yml"
DASHBOARD="$ROOT/deploy/grafana/kafka-sidecar-dashboard.json"
JOB=kafka-sidecar             # the job KafkaSidecarDown selects
TOPIC=orders
PARTITIONS=3
N=1000                        # under the lag alert's floor: no alert may stay
DEADLINE=$((SECONDS + ${SCRAPE_TEST_BUDGET:-200}))

for tool in prometheus promtool kcat curl java; do
  command -v "$tool" >/dev/null ||
    { echo "FAIL: $tool not found (scripts/install-deps.sh installs it)" >&2; exit 1; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/prometheus-scrape-test.XXXXXX")"
HANDLER_PID=""
SIDECAR_PID=""
PROMETHEUS_PID=""
KAFKA_STARTED=""
PASSED=""

stop() {  # pid: SIGTERM, then SIGKILL after 20 s
  local pid="$1" until=$((SECONDS + 20))
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$until" ]; do sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  set +e
  if [ -z "$PASSED" ]; then
    for log in handler sidecar prometheus; do
      [ -f "$WORK/$log.log" ] && { echo "---- $log log (tail) ----"; tail -n 40 "$WORK/$log.log"; }
    done
  fi
  [ -n "$HANDLER_PID" ] && stop "$HANDLER_PID"
  [ -n "$SIDECAR_PID" ] && stop "$SIDECAR_PID"
  [ -n "$PROMETHEUS_PID" ] && stop "$PROMETHEUS_PID"
  [ -n "$KAFKA_STARTED" ] && "$KAFKA" clean "$WORK/kafka" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
wait_for() {  # what, seconds, command...: polls the command until it succeeds
  local what="$1" limit="$2" until=$((SECONDS + $2))
  shift 2
  until "$@"; do
    [ "$SECONDS" -lt "$until" ] || fail "$what: not within $limit s"
    [ "$SECONDS" -lt "$DEADLINE" ] || fail "$what: the test's budget ran out"
    for p in sidecar:"$SIDECAR_PID" prometheus:"$PROMETHEUS_PID" handler:"$HANDLER_PID"; do
      [ -z "${p#*:}" ] || kill -0 "${p#*:}" 2>/dev/null || fail "$what: the ${p%%:*} exited"
    done
    sleep 0.2  # poll interval
  done
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- Kafka: a topic with N JSON orders the example handler acks.
KAFKA_STARTED=1
BOOTSTRAP="$("$KAFKA" start "$WORK/kafka")"
timeout 60 "$KAFKA" topic-create "$BOOTSTRAP" "$TOPIC" "$PARTITIONS" >/dev/null
seq 1 "$N" | awk '{ printf "order-%d:{\"order_id\":%d,\"amount\":%d}\n", $1, $1, $1 % 97 }' |
  timeout 60 kcat -P -b "$BOOTSTRAP" -t "$TOPIC" -K:
produced="$(timeout 60 "$KAFKA" end-offsets "$BOOTSTRAP" "$TOPIC" | awk -F: '{ s += $3 } END { print s + 0 }')"
[ "$produced" -eq "$N" ] || fail "produced $produced messages, expected $N"
echo "ok: $N messages on $TOPIC ($PARTITIONS partitions) at $BOOTSTRAP"

# --- The sidecar, no handler yet.
GRPC="127.0.0.1:$(free_port)"
HTTP="127.0.0.1:$(free_port)"
cat >"$WORK/sidecar.yaml" <<YAML
kafka:
  bootstrap_servers: $BOOTSTRAP
  group_id: prometheus-scrape-test
  topics: [$TOPIC]
server:
  grpc_listen: $GRPC
  http_listen: $HTTP
observability:
  health_check_interval_ms: 500  # ready (and no NotReady alert) sooner
YAML
# Only the file configures it: no KAFKA_SIDECAR_* from the caller's environment.
env $(env | sed -n 's/^\(KAFKA_SIDECAR_[A-Za-z0-9_]*\)=.*/-u \1/p') \
  "$SIDECAR_BIN" --config "$WORK/sidecar.yaml" >"$WORK/sidecar.log" 2>&1 &
SIDECAR_PID=$!
wait_for "the sidecar serving /metrics" 60 curl -sf --max-time 2 -o /dev/null "http://$HTTP/metrics"

# --- Prometheus: scrapes the sidecar every second, evaluates the rules every second.
PROM="http://127.0.0.1:$(free_port)"
cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: $JOB
    static_configs:
      - targets: ['$HTTP']
YAML
promtool check config "$WORK/prometheus.yml" >/dev/null
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus-data" \
  --web.listen-address="${PROM#http://}" >"$WORK/prometheus.log" 2>&1 &
PROMETHEUS_PID=$!
wait_for "Prometheus ready" 60 curl -sf --max-time 2 -o /dev/null "$PROM/-/ready"
echo "ok: Prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}') at $PROM scrapes the sidecar at $HTTP"

api() {  # path, query: the JSON `data` of a successful API call, on stdout
  curl -sf --max-time 5 --get --data-urlencode "query=${2:-}" "$PROM/api/v1/$1" |
    python3 -c 'import json, sys; r = json.load(sys.stdin); assert r["status"] == "success", r; print(json.dumps(r["data"]))'
}
value() {  # query: the one sample's value, "" when there is none
  api query "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["resultType"] == "vector", d
if len(d["result"]) > 1:
    sys.exit(f"more than one series: {d}")
print(d["result"][0]["value"][1] if d["result"] else "")'
}
is() {  # query, expected value
  [ "$(value "$1" 2>/dev/null)" = "$2" ]
}

wait_for "up{job=\"$JOB\"} == 1" 30 is "up{job=\"$JOB\"}" 1

# --- The rules: all loaded, each evaluated with health "ok".
rules_ok() {
  api rules | python3 -c '
import json, re, sys
expected = set(re.findall(r"^\s*- alert:\s*(\S+)", open(sys.argv[1]).read(), re.M))
rules = [r for g in json.load(sys.stdin)["groups"] for r in g["rules"] if r["type"] == "alerting"]
got = {r["name"]: r for r in rules}
if set(got) != expected:
    sys.exit(f"loaded alerts {sorted(got)}, the file has {sorted(expected)}")
bad = {n: (r["health"], r.get("lastError", "")) for n, r in got.items() if r["health"] != "ok"}
if bad:
    sys.exit(f"not (yet) healthy: {bad}")' "$RULES"
}
wait_for "all alert rules loaded with health ok" 30 rules_ok
echo "ok: $(grep -c -- '- alert:' "$RULES") alert rules loaded and evaluated, health ok"

# The live series drive a rule: no handler, sidecar live.
wait_for "KafkaSidecarNoHandlerConnected pending before the handler starts" 30 \
  is 'ALERTS{alertname="KafkaSidecarNoHandlerConnected", alertstate="pending"}' 1
echo "ok: KafkaSidecarNoHandlerConnected pending while no handler is connected"

# --- The workload: the C++ example handler acks every message.
env SIDECAR_ADDRESS="$GRPC" HANDLER_NAME=prometheus-scrape-test "$HANDLER_BIN" \
  >"$WORK/handler.log" 2>&1 &
HANDLER_PID=$!
PROCESSED="sum(kafka_sidecar_messages_processed_total{job=\"$JOB\"})"
processed_all() {
  local v
  v="$(value "$PROCESSED" 2>/dev/null)" || return 1
  [ -n "$v" ] && [ "$v" -gt "$N" ] && fail "Prometheus reports $v processed, more than the $N produced"
  [ "$v" = "$N" ]
}
wait_for "$PROCESSED == $N in Prometheus" 120 processed_all
echo "ok: $PROCESSED = $N over Prometheus' HTTP API"

stats="$(curl -sf --max-time 5 "http://$HTTP/stats")"
for field in messages_processed:$N messages_failed:0 messages_retried:0; do
  got="$(python3 -c 'import json, sys; print(int(json.loads(sys.argv[1])[sys.argv[2]]))' "$stats" "${field%%:*}")"
  [ "$got" = "${field#*:}" ] || fail "/stats ${field%%:*} = $got, expected ${field#*:}"
done

# With the handler connected, ready and caught up, no alert is pending or firing.
no_alerts() { [ "$(api query 'ALERTS' | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["result"]))')" = 0 ]; }
wait_for "no alert pending or firing once all is processed" 60 no_alerts
echo "ok: no alert pending or firing with the handler caught up"

# --- Every dashboard query, as Grafana sends it for this job, returns data.
python3 - "$HERE" "$PROM" "$DASHBOARD" "$JOB" <<'PY'
import json, re, sys, urllib.parse, urllib.request
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, sys.argv[1])
from check_queries import dashboard_queries
prom, path, job = sys.argv[2:]
values = {"job": job, "instance": ".*", "topic": ".*", "__rate_interval": "1m"}
failures = []
queries = dashboard_queries(json.load(open(path)))
for where, expr in queries:
    q = re.sub(r"\$\{?(\w+)\}?", lambda m: values[m.group(1)], expr)
    url = f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    r = json.load(urllib.request.urlopen(url, timeout=10))
    if r["status"] != "success" or not r["data"]["result"]:
        failures.append(f"{where}: {q} -> {r.get('error') or 'no data'}")
if failures:
    sys.exit("dashboard queries without data:\n  " + "\n  ".join(failures))
print(f"ok: all {len(queries)} dashboard queries return data")
PY

# --- The static check, against a sidecar whose every family has samples.
/usr/bin/python3 "$HERE/check_queries.py" --metrics-url "http://$HTTP/metrics" "$RULES" "$DASHBOARD"

# Nothing counted twice since.
is "$PROCESSED" "$N" || fail "$PROCESSED is $(value "$PROCESSED") at the end, expected $N"
PASSED=1
echo "prometheus scrape test passed"
