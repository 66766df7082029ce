#!/bin/sh
# One Kafka command-line tool: its main class, then its arguments.
class="$1"
shift
exec java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
  -Dlog4j2.configurationFile=/opt/kafka/config/log4j2-tools.properties \
  -cp '/opt/kafka/libs/*' "$class" "$@"
