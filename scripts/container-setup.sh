#!/usr/bin/env bash
# Makes this machine able to build and run the project's containers with
# Podman and Debian's docker-compose, with no image registry: idempotent,
# and it says what it changed.
#
# - apt: podman, buildah, fuse-overlayfs, slirp4netns, uidmap, mmdebstrap, dnsname,
#   docker-compose.
# - Default container ulimits at or below this machine's hard limits (a
#   container cannot be given more than its parent has).
# - crun refuses a hybrid cgroup v1 layout without the hugetlb controller:
#   mounted when the layout is v1 and it is missing.
# - Base images made locally with mmdebstrap from the Debian archive and
#   tagged docker.io/library/debian:bookworm and :bookworm-slim, so an
#   unmodified `FROM debian:bookworm` resolves without a pull.
#
# It starts no service: a caller that drives docker-compose starts
# `podman system service` on a socket of its own (scripts/compose-test.sh).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MIRROR="${KAFKA_SIDECAR_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
say() { echo "container-setup: $*" >&2; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# dnsname: service names resolve inside compose networks (CNI backend).
packages=(podman buildah fuse-overlayfs slirp4netns uidmap mmdebstrap docker-compose crun
          golang-github-containernetworking-plugin-dnsname)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Ulimits: Podman's default asks for more open files than a sandbox's hard
# limit allows, and the container then fails to start.
conf=/etc/containers/containers.conf
nofile="$(ulimit -Hn)"; [ "$nofile" = unlimited ] && nofile=1048576
nproc="$(ulimit -Hu)"; [ "$nproc" = unlimited ] && nproc=32768
[ "$nofile" -gt 1048576 ] && nofile=1048576
[ "$nproc" -gt 32768 ] && nproc=32768
want="default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]"
if ! grep -qxF "$want" "$conf" 2>/dev/null; then
  say "setting $want in $conf"
  $SUDO mkdir -p "$(dirname "$conf")"
  tmp="$(mktemp)"
  if [ -f "$conf" ]; then
    grep -v '^default_ulimits' "$conf" > "$tmp" || true
  fi
  if grep -q '^\[containers\]' "$tmp"; then
    sed -i "/^\[containers\]/a $want" "$tmp"
  else
    printf '[containers]\n%s\n' "$want" >> "$tmp"
  fi
  $SUDO cp "$tmp" "$conf"
  rm -f "$tmp"
fi

# cgroup v1 (hybrid) layouts: crun wants every controller it knows mounted.
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] && [ ! -d /sys/fs/cgroup/hugetlb ]; then
  if grep -qw hugetlb /proc/cgroups; then
    say "mounting the hugetlb cgroup controller at /sys/fs/cgroup/hugetlb"
    $SUDO mkdir -p /sys/fs/cgroup/hugetlb
    $SUDO mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
  fi
fi

# Base images, made once from the Debian archive. The recipe is what the
# official slim image does: merged /usr without the usrmerge package, no
# documentation, manuals or translations (kept excluded for packages
# installed later, too), and apt set up to keep no package cache or
# translated indexes inside image layers (the official image's
# apt.conf.d/docker-clean and docker-no-languages).
APT_CLEAN='DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";'
RECIPE=(--variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*'
        --dpkgopt='path-include=/usr/share/doc/*/copyright'
        --dpkgopt='path-exclude=/usr/share/locale/*'
        --dpkgopt='path-include=/usr/share/locale/locale.alias'
        --dpkgopt='path-exclude=/usr/share/info/*'
        --customize-hook="printf '%s\\n' '$APT_CLEAN' >\"\$1/etc/apt/apt.conf.d/docker-clean\""
        --customize-hook="echo 'Acquire::Languages \"none\";' >\"\$1/etc/apt/apt.conf.d/docker-no-languages\""
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin')
recipe_id="$(printf '%s\n' "$SUITE" "${RECIPE[@]}" | sha256sum | cut -c1-12)"
base=docker.io/library/debian
have="$(podman image inspect --format '{{index .Labels "org.kafka-sidecar.base-recipe"}}' \
          "$base:bookworm" 2>/dev/null || true)"
if [ "$have" != "$recipe_id" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  say "building $base:bookworm with mmdebstrap from $MIRROR (recipe $recipe_id)"
  mmdebstrap --quiet "${RECIPE[@]}" \
    "$SUITE" "$work/rootfs.tar" "$MIRROR" >/dev/null 2>"$work/mmdebstrap.log" ||
    { tail -20 "$work/mmdebstrap.log" >&2; say "mmdebstrap failed"; exit 1; }
  podman import --quiet \
    --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL org.kafka-sidecar.base-recipe=$recipe_id" \
    "$work/rootfs.tar" "$base:bookworm" >/dev/null
fi
if [ "$(podman image inspect --format '{{.Id}}' "$base:bookworm-slim" 2>/dev/null || true)" != \
     "$(podman image inspect --format '{{.Id}}' "$base:bookworm")" ]; then
  say "tagging $base:bookworm-slim (the same minimal base)"
  podman tag "$base:bookworm" "$base:bookworm-slim"
fi
say "ready: podman $(podman version --format '{{.Client.Version}}'), base image $(podman image inspect --format '{{.Size}}' "$base:bookworm" | awk '{printf "%.0f MB", $1 / 1e6}')"
