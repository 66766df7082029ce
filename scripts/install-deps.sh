#!/usr/bin/env bash
# Installs the build and test dependencies from Debian's packages (and what
# scripts/install-librdkafka.sh needs to build the pinned librdkafka), plus
# grpcurl (Go module proxy) into .tools/bin and prometheus_client (PyPI) into
# .venv. Idempotent: packages already present are skipped, and grpcurl and
# prometheus_client are reinstalled only when the version differs.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ccache clang libclang-rt-14-dev
  dpkg-dev debian-archive-keyring
  libssl-dev libsasl2-dev libzstd-dev liblz4-dev zlib1g-dev libcurl4-openssl-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libabsl-dev libspdlog-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev libcpp-httplib-dev
  libmicrohttpd-dev
  libgtest-dev libgmock-dev
  openjdk-17-jre-headless maven
  kcat curl procps util-linux python3 python3-venv python3-yaml openssl docker-compose
  prometheus
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
else
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  echo "install-deps: installed ${missing[*]}"
  # prometheus is here for promtool and for the server the deploy tests start
  # on a port of their own. Its postinst enables a system-wide server on :9090
  # and starts it unless policy-rc.d forbids that; stop and disable it once,
  # when the package is first installed (a server someone set up before is
  # left alone).
  if printf '%s\n' "${missing[@]}" | grep -qx prometheus; then
    if [ -d /run/systemd/system ]; then
      $SUDO systemctl disable --now prometheus.service >/dev/null 2>&1 || true
    else
      $SUDO /etc/init.d/prometheus stop >/dev/null 2>&1 || true
      $SUDO update-rc.d prometheus disable >/dev/null 2>&1 || true
      # Otherwise the unit it enabled starts on a later boot with systemd.
      if command -v systemctl >/dev/null; then
        $SUDO systemctl disable prometheus.service >/dev/null 2>&1 || true
      fi
    fi
    echo "install-deps: the prometheus package's own server is stopped and disabled"
  fi
fi

# The pinned librdkafka, built once from Debian's source package into a prefix
# every clone shares (scripts/build.sh asks the same script for its path).
"$REPO_ROOT/scripts/install-librdkafka.sh" >/dev/null

# grpcurl, for the reflection tests and for operators poking at a sidecar.
# Debian has no package for it, so it is built from the Go module proxy at a
# pinned version into the repository's (git-ignored) .tools/bin.
GRPCURL_VERSION=v1.9.3
GRPCURL="$REPO_ROOT/.tools/bin/grpcurl"
case ":$PATH:" in *:/usr/local/go/bin:*) ;; *) PATH="$PATH:/usr/local/go/bin" ;; esac
installed_grpcurl=""
if [ -x "$GRPCURL" ] && command -v go >/dev/null; then
  installed_grpcurl="$(go version -m "$GRPCURL" 2>/dev/null | awk '$1 == "mod" { print $3 }')"
fi
if [ "$installed_grpcurl" = "$GRPCURL_VERSION" ]; then
  echo "install-deps: grpcurl $GRPCURL_VERSION present"
else
  command -v go >/dev/null || { echo "install-deps: go not found (needed to build grpcurl)" >&2; exit 1; }
  mkdir -p "$REPO_ROOT/.tools/bin"
  GOBIN="$REPO_ROOT/.tools/bin" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
  echo "install-deps: installed grpcurl $GRPCURL_VERSION into .tools/bin"
fi

# prometheus_client in a git-ignored venv (.venv): the e2e metrics test
# checks /metrics with Prometheus' own Python parser
# (tests/support/parse_metrics.py). Pinned; reinstalled only when the
# installed version differs.
source "$REPO_ROOT/scripts/lib/venv_pins.sh"
venv_pins install-deps prometheus_client==0.26.0

# Each example handler installs its language's dependencies and generates its
# stubs (client_examples/<lang>/setup.sh, idempotent).
for setup in "$REPO_ROOT"/client_examples/*/setup.sh; do
  [ -x "$setup" ] || continue
  "$setup"
done
