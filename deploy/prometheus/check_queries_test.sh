#!/usr/bin/env bash
# check_queries.py passes on the repository's alert rules and dashboard, read
# against a running `kafka-sidecar --dev`, and fails on copies broken in the
# ways that matter: a misspelt metric (in a one-line and in a block expr, in
# a panel), a label a metric does not have, a query Prometheus cannot parse,
# an undefined dashboard variable, no datasource variable, an alert without
# severity or `for:`, a rules file promtool rejects.
set -euo pipefail
BINARY="$1"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEPLOY="$(cd "$HERE/.." && pwd)"
RULES=prometheus/kafka-sidecar-alerts.yml
DASHBOARD=grafana/kafka-sidecar-dashboard.json
command -v promtool >/dev/null ||
  { echo "FAIL: promtool not found (Debian package prometheus; scripts/install-deps.sh)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
CHECK=(/usr/bin/python3 "$HERE/check_queries.py")
"${CHECK[@]}" --sidecar "$BINARY" --save-metrics "$work/metrics.txt" "$DEPLOY/$RULES" "$DEPLOY/$DASHBOARD"
# The broken copies are checked against that same sidecar's /metrics.
grep -q '^kafka_sidecar_partition_lag{' "$work/metrics.txt" ||
  { echo "FAIL: the --dev sidecar's /metrics has no per-partition samples" >&2; exit 1; }

broken() {  # what, file (rules or dashboard), sed expression on it
  rm -rf "$work/d" && mkdir -p "$work/d/prometheus" "$work/d/grafana"
  cp "$DEPLOY/$RULES" "$work/d/$RULES" && cp "$DEPLOY/$DASHBOARD" "$work/d/$DASHBOARD"
  local file="$work/d/${!2}"
  sed -i "$3" "$file"
  if cmp -s "$DEPLOY/${!2}" "$file"; then
    echo "FAIL: the edit for '$1' changed nothing" >&2
    exit 1
  fi
  if "${CHECK[@]}" --metrics-url "file://$work/metrics.txt" \
      "$work/d/$RULES" "$work/d/$DASHBOARD" >/dev/null 2>"$work/err"; then
    echo "FAIL: the check accepted $1" >&2
    exit 1
  fi
  echo "ok: rejected $1: $(head -1 "$work/err")"
}
broken "a misspelt metric in a one-line expr" RULES 's/kafka_sidecar_connected_streams == 0/kafka_sidecar_connected_stream == 0/'
broken "a misspelt metric in a block expr" RULES 's/kafka_sidecar_partition_lag > 1000/kafka_sidecar_partition_lags > 1000/'
broken "a misspelt metric in a panel" DASHBOARD 's/rate(kafka_sidecar_messages_processed_total{/rate(kafka_sidecar_messages_processed{/'
broken "a misspelt histogram series in a panel" DASHBOARD 's/kafka_sidecar_processing_time_seconds_bucket/kafka_sidecar_processing_seconds_bucket/'
broken "a misspelt metric in a variable query" DASHBOARD 's/label_values(kafka_sidecar_up, job)/label_values(kafka_sidecar_upp, job)/'
broken "a panel filtering on a label the metric lacks" DASHBOARD \
  's/kafka_sidecar_messages_redelivered_total{job=~/kafka_sidecar_messages_redelivered_total{topic=~\\"$topic\\", job=~/'
broken "a panel query Prometheus cannot parse" DASHBOARD 's/sum by (cause) (rate(/sum by (cause) (rat(/'
broken "an undefined dashboard variable" DASHBOARD 's/topic=~\\"\$topic\\"/topic=~\\"$topics\\"/'
broken "a dashboard without a datasource variable" DASHBOARD 's/"name": "datasource"/"name": "source"/'
broken "an alert without a severity" RULES '0,/severity: warning/s//priority: warning/'
broken "an alert without for:" RULES '/alert: KafkaSidecarNotReady/,/for:/{/for:/d}'
broken "a rule promtool rejects" RULES 's/expr: kafka_sidecar_ready == 0/expr: kafka_sidecar_ready ==/'
echo "query checks passed"
