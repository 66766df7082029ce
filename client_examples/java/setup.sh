#!/usr/bin/env bash
# Builds the Java helper and example: Maven fetches the pinned dependencies
# and protoc plus protoc-gen-grpc-java from Maven Central, generates the stubs
# from proto/, installs the helper (io.kafkasidecar:kafka-sidecar-client) into
# the local Maven repository and packages target/kafka-sidecar-java-example.jar
# with its runtime jars in target/lib (all git-ignored). That also fetches
# every plugin packaging/make_outside_project.sh needs. Idempotent and quick
# when nothing changed: Maven is not started when the jar is newer than the
# poms, the sources and the proto.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
JAVA_MIN=17

if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless maven
fi
major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
if [ "${major%%.*}" -lt "$JAVA_MIN" ]; then
  echo "client_examples/java: Java $major is too old; need >= $JAVA_MIN" >&2
  exit 1
fi

JAR="$HERE/target/kafka-sidecar-java-example.jar"
if [ -f "$JAR" ] && [ -d "$HERE/target/lib" ] \
    && [ -z "$(find "$HERE/pom.xml" "$HERE/client/pom.xml" "$HERE/client/src/main" \
                    "$HERE/example/pom.xml" "$HERE/example/src/main" "$REPO_ROOT/proto" \
                    -newer "$JAR" -print -quit)" ]; then
  echo "client_examples/java: target/kafka-sidecar-java-example.jar up to date"
  exit 0
fi
(cd "$HERE" && mvn -q -B -ntp install -DskipTests)
# Maven leaves an up-to-date jar alone; the stamp is what the check above reads.
touch "$JAR"
echo "client_examples/java: built target/kafka-sidecar-java-example.jar"
