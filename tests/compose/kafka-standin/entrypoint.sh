#!/bin/sh
# Configures and starts a single KRaft node the way the apache/kafka image
# does: every KAFKA_* variable becomes a server property (KAFKA_FOO_BAR ->
# foo.bar; "__" -> "_", "___" -> "-"), the storage is formatted on first
# start, and the broker runs as PID 1 so `docker stop` reaches it.
set -eu
props=/var/lib/kafka/server.properties
: > "$props"
env | sort | while IFS='=' read -r name value; do
  case "$name" in
    KAFKA_HEAP_OPTS|KAFKA_JVM_OPTS|KAFKA_OPTS) continue ;;
    KAFKA_*) ;;
    *) continue ;;
  esac
  key="$(echo "${name#KAFKA_}" | tr 'A-Z' 'a-z' | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')"
  echo "$key=$value" >> "$props"
done
grep -q '^log.dirs=' "$props" || echo "log.dirs=/var/lib/kafka/data" >> "$props"
if [ ! -f /var/lib/kafka/data/meta.properties ]; then
  /opt/kafka/tool.sh kafka.tools.StorageTool format --ignore-formatted \
    --cluster-id "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" --config "$props"
fi
exec java ${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
  -Dlog4j2.configurationFile=/opt/kafka/config/log4j2-broker.properties \
  -cp '/opt/kafka/libs/*' kafka.Kafka "$props"
