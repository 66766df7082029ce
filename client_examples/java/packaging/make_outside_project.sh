#!/usr/bin/env bash
# Uses the Java helper the way a user outside this repository does:
#   (a) `mvn install` of client/ puts io.kafkasidecar:kafka-sidecar-client
#       0.1.0 into the local Maven repository;
#   (b) OUT_DIR becomes a fresh Maven project (packaging/minimal: its pom
#       depends on the helper by those coordinates, its Main.java is the
#       README's minimal handler);
#   (c) `mvn package` builds it, its runtime jars in target/dependency;
#   (d) OUT_DIR/run-handler execs the handler, so its pid is the handler's.
# The handler reads SIDECAR_ADDRESS and HANDLER_NAME from the environment.
#
# usage: make_outside_project.sh OUT_DIR
#   OUT_DIR: a directory outside the repository, empty or made by an earlier
#   run (rerunning rebuilds it).
#   MAVEN_REPO_LOCAL (optional): the local Maven repository to install into
#   and resolve from, instead of ~/.m2/repository.
set -euo pipefail

die() {
  echo "make_outside_project.sh: $*" >&2
  exit 1
}

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: make_outside_project.sh OUT_DIR"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
JAVA_DIR="$(cd "$HERE/.." && pwd -P)"
REPO_ROOT="$(cd "$JAVA_DIR/../.." && pwd -P)"

for tool in java mvn; do
  command -v "$tool" >/dev/null || die "$tool not found on PATH; run client_examples/java/setup.sh"
done

# Checked before anything is created: realpath -m resolves a path that does
# not exist yet.
OUT_DIR="$(realpath -m "$1")"
case "$OUT_DIR/" in
  "$REPO_ROOT/"*) die "OUT_DIR ($OUT_DIR) is inside the repository; pass a directory outside $REPO_ROOT" ;;
esac
mkdir -p "$OUT_DIR" || die "cannot create OUT_DIR $OUT_DIR"
if [ -n "$(ls -A "$OUT_DIR")" ] && [ ! -f "$OUT_DIR/run-handler" ]; then
  die "OUT_DIR ($OUT_DIR) is neither empty nor made by this script"
fi

MVN=(mvn -q -B -ntp)
if [ -n "${MAVEN_REPO_LOCAL:-}" ]; then
  MVN+=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL")
fi

# (a) The library only; its tests run in the repository's own suite.
"${MVN[@]}" -f "$JAVA_DIR/client/pom.xml" install -DskipTests \
  || die "mvn install of $JAVA_DIR/client failed"

# (b) Nothing of the repository but these two files.
mkdir -p "$OUT_DIR/src/main/java"
cp "$HERE/minimal/pom.xml" "$OUT_DIR/pom.xml"
cp "$HERE/minimal/src/main/java/Main.java" "$OUT_DIR/src/main/java/Main.java"

# (c) From scratch, so no jar of an earlier build lingers in target/dependency.
rm -rf "$OUT_DIR/target"
"${MVN[@]}" -f "$OUT_DIR/pom.xml" package || die "mvn package in $OUT_DIR failed"
[ -f "$OUT_DIR/target/classes/Main.class" ] || die "build left no target/classes/Main.class"
compgen -G "$OUT_DIR/target/dependency/kafka-sidecar-client-*.jar" >/dev/null \
  || die "build left no kafka-sidecar-client jar in target/dependency"

# (d) exec: SIGTERM and SIGKILL sent to the script's pid reach the JVM.
{
  echo '#!/usr/bin/env bash'
  echo '# The minimal kafka-sidecar handler; SIDECAR_ADDRESS and HANDLER_NAME from the environment.'
  printf 'exec java -cp %q Main "$@"\n' "$OUT_DIR/target/classes:$OUT_DIR/target/dependency/*"
} >"$OUT_DIR/run-handler"
chmod +x "$OUT_DIR/run-handler"
echo "make_outside_project.sh: built $OUT_DIR; run $OUT_DIR/run-handler"
