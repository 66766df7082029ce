#!/usr/bin/env bash
# The alert rules pass `promtool check rules` and their unit tests
# (kafka-sidecar-alerts.test.yml), and the unit tests fail on copies of the
# rules weakened in ways they must notice: no `for:` (a flapping sidecar
# pages), a lag floor so high it never fires, a no-handler alert that also
# fires for a sidecar that is not live, a pause alert that also fires for a
# pause by request.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RULES=kafka-sidecar-alerts.yml
TESTS=kafka-sidecar-alerts.test.yml
command -v promtool >/dev/null ||
  { echo "FAIL: promtool not found (Debian package prometheus; scripts/install-deps.sh)" >&2; exit 1; }
promtool check rules "$HERE/$RULES"
promtool test rules "$HERE/$TESTS"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
weakened() {  # what, sed expression on the rules
  rm -rf "$work/r" && mkdir "$work/r"
  cp "$HERE/$RULES" "$HERE/$TESTS" "$work/r/"
  sed -i "$2" "$work/r/$RULES"
  if cmp -s "$HERE/$RULES" "$work/r/$RULES"; then
    echo "FAIL: the edit for '$1' changed nothing" >&2
    exit 1
  fi
  promtool check rules "$work/r/$RULES" >/dev/null
  if promtool test rules "$work/r/$TESTS" >"$work/out" 2>&1; then
    echo "FAIL: the unit tests passed rules with $1" >&2
    exit 1
  fi
  echo "ok: the unit tests caught $1: $(grep -m1 'alertname:' "$work/out" | sed 's/^ *//')"
}
weakened "no for: on KafkaSidecarNotReady" '/alert: KafkaSidecarNotReady/,/for:/s/for: 5m/for: 0m/'
weakened "no for: on KafkaSidecarDown" '/alert: KafkaSidecarDown/,/for:/s/for: 2m/for: 0m/'
weakened "a lag floor that never fires" 's/kafka_sidecar_partition_lag > 1000/kafka_sidecar_partition_lag > 100000/'
weakened "lag alerting on any high lag" 's/  and delta(kafka_sidecar_partition_lag\[10m\]) > 0/  or kafka_sidecar_partition_lag > 1000/'
weakened "a no-handler alert without the liveness condition" 's/ and kafka_sidecar_up == 1//'
weakened "a pause alert for any cause (a pause by request too)" 's/kafka_sidecar_partition_paused{cause="error_threshold"}/kafka_sidecar_partition_paused/'
weakened "a pause alert on any single pause" 's/avg_over_time(kafka_sidecar_partition_paused{cause="error_threshold"}\[10m\]) > 0.2/max_over_time(kafka_sidecar_partition_paused{cause="error_threshold"}[10m]) > 0.2/'
weakened "no for: on KafkaSidecarPartitionPausedByErrors" '/alert: KafkaSidecarPartitionPausedByErrors/,/for:/s/for: 5m/for: 0m/'
weakened "a Down alert for every job" 's/up{job="kafka-sidecar"} == 0/up == 0/'
weakened "dead letters alerting with no window" 's/increase(kafka_sidecar_messages_dead_lettered_total\[10m\])/increase(kafka_sidecar_messages_dead_lettered_total[2m])/'
weakened "a dead-letter pause alert for any cause" 's/kafka_sidecar_partition_paused{cause="dead_letter"} == 1/kafka_sidecar_partition_paused == 1/'
weakened "dead-letter failures alerting on permanent ones too" 's/kafka_sidecar_dead_letter_produce_failures_total{kind="transient"}/kafka_sidecar_dead_letter_produce_failures_total/'
weakened "a stalled alert without for:" '/alert: KafkaSidecarPartitionsStalled/,/for:/s/for: 5m/for: 0m/'
echo "rule tests passed"
