#!/usr/bin/env bash
# Builds the pinned librdkafka the sidecar links and prints its install
# prefix (the last line of stdout). Debian bookworm packages librdkafka
# 2.0.2, which loses assignments in cooperative rebalances and lacks the
# next-generation group protocol; Debian's archive also serves the source of
# current releases, so this fetches the pinned source package with
# `apt-get source` (checked against the archive's signed index, and against
# the tarball hash below), builds it once and keeps the result in a prefix
# shared by every clone and build directory, like ccache's objects.
#
#   scripts/install-librdkafka.sh          build if missing, print the prefix
#
# Environment:
#   KAFKA_SIDECAR_RDKAFKA_PREFIX  use this prefix (a librdkafka >= 2.13.2
#                                 with include/ and lib/librdkafka.a) as is
#   KAFKA_SIDECAR_CACHE_DIR       where prefixes live
#                                 (default ~/.cache/kafka-sidecar)
#   KAFKA_SIDECAR_DEBIAN_MIRROR   the Debian archive (default deb.debian.org)
#
# Only the static library is installed: the binary carries this librdkafka
# and needs just Debian's shared libraries for TLS, SASL and compression at
# run time, whatever librdkafka the machine itself has.
set -euo pipefail

VERSION=2.14.2
DEBIAN_REVISION=1
ORIG_SHA256=4d53568c13717b167d12c7b2a0fe12aeb5d6bfe02de53df5b68f86d870a81b33
# The suite whose Sources index lists VERSION-DEBIAN_REVISION.
SUITE=unstable
MIRROR="${KAFKA_SIDECAR_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Every feature the sidecar offers through kafka.properties. configure
# silently drops what it cannot find, so each is checked after the build.
CONFIGURE_FLAGS=(--enable-ssl --enable-gssapi --enable-zstd --enable-zlib --enable-lz4-ext
                 --enable-curl --enable-c11threads)
REQUIRED_FEATURES=(WITH_SSL WITH_SASL_CYRUS WITH_SASL_SCRAM WITH_SASL_OAUTHBEARER
                   WITH_OAUTHBEARER_OIDC WITH_ZSTD WITH_LZ4_EXT WITH_ZLIB WITH_SNAPPY WITH_CURL)
# Debian packages that provide each feature's headers, for the error message.
FEATURE_PACKAGES="libssl-dev libsasl2-dev libzstd-dev liblz4-dev zlib1g-dev libcurl4-openssl-dev"

log() { echo "install-librdkafka: $*" >&2; }
die() {
  log "$*"
  exit 1
}

if [ -n "${KAFKA_SIDECAR_RDKAFKA_PREFIX:-}" ]; then
  [ -f "$KAFKA_SIDECAR_RDKAFKA_PREFIX/include/librdkafka/rdkafka.h" ] ||
    die "KAFKA_SIDECAR_RDKAFKA_PREFIX=$KAFKA_SIDECAR_RDKAFKA_PREFIX holds no include/librdkafka/rdkafka.h"
  echo "$KAFKA_SIDECAR_RDKAFKA_PREFIX"
  exit 0
fi

CACHE_DIR="${KAFKA_SIDECAR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-sidecar}"
# The prefix name changes with anything that changes the build.
RECIPE_HASH="$(printf '%s\n' "$VERSION-$DEBIAN_REVISION" "${CONFIGURE_FLAGS[@]}" "static-only" |
               sha256sum | cut -c1-10)"
PREFIX="$CACHE_DIR/librdkafka-$VERSION-$RECIPE_HASH"

if [ -f "$PREFIX/.complete" ]; then
  echo "$PREFIX"
  exit 0
fi

mkdir -p "$CACHE_DIR"
# One build at a time; a clone that waited finds the prefix complete.
exec 9>"$CACHE_DIR/librdkafka.lock"
flock 9
if [ -f "$PREFIX/.complete" ]; then
  echo "$PREFIX"
  exit 0
fi

for tool in apt-get dpkg-source make cc pkg-config; do
  command -v "$tool" >/dev/null ||
    die "$tool not found (scripts/install-deps.sh installs it: dpkg-dev, build-essential, pkg-config)"
done

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
start=$SECONDS
log "building librdkafka $VERSION from Debian's source package into $PREFIX"

# A private apt state: the machine's own sources and lists stay untouched,
# and the index is still verified with Debian's archive key.
mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "$keyring not found (install the debian-archive-keyring package)"
echo "deb-src [signed-by=$keyring] $MIRROR $SUITE main" >"$WORK/apt/sources.list"
APT_OPTS=(-o "Dir::Etc::SourceList=$WORK/apt/sources.list" -o "Dir::Etc::SourceParts=$WORK/apt/none"
          -o "Dir::State::Lists=$WORK/apt/lists" -o "Dir::Cache=$WORK/apt/cache"
          -o Debug::NoLocking=1 -o APT::Sandbox::User=root -qq
          # A mirror or snapshot whose Release file has passed its Valid-Until
          # still serves the pinned source: the archive signature and the
          # tarball's SHA-256 are checked all the same.
          -o Acquire::Check-Valid-Until=false)
cannot_fetch() {
  die "cannot fetch the source of librdkafka $VERSION-$DEBIAN_REVISION from $MIRROR ($SUITE): $1.
  The sidecar needs librdkafka >= 2.13.2 (Debian bookworm's 2.0.2 is too old). Either make
  the Debian archive reachable (KAFKA_SIDECAR_DEBIAN_MIRROR names another mirror), or install
  librdkafka >= 2.13.2 (headers and the static library librdkafka.a, with SSL, SASL, zstd, lz4)
  from elsewhere and set KAFKA_SIDECAR_RDKAFKA_PREFIX to its prefix."
}
apt-get "${APT_OPTS[@]}" update >"$WORK/apt.log" 2>&1 || cannot_fetch "apt-get update failed: $(tail -3 "$WORK/apt.log")"
(cd "$WORK" && apt-get "${APT_OPTS[@]}" source --download-only "librdkafka=$VERSION-$DEBIAN_REVISION") \
  >"$WORK/apt.log" 2>&1 || cannot_fetch "$(grep -E '^(E|W):' "$WORK/apt.log" | head -3)"
echo "$ORIG_SHA256  $WORK/librdkafka_$VERSION.orig.tar.gz" | sha256sum --check --quiet ||
  die "librdkafka_$VERSION.orig.tar.gz does not have the pinned SHA-256 $ORIG_SHA256"
# Upstream's source as released: Debian's patches only switch it to Debian's
# own cJSON and nanopb packages.
(cd "$WORK" && dpkg-source --skip-patches -x "librdkafka_$VERSION-$DEBIAN_REVISION.dsc" src) \
  >"$WORK/dpkg-source.log" 2>&1 || die "unpacking failed: $(tail -3 "$WORK/dpkg-source.log")"

cd "$WORK/src"
./configure --prefix="$PREFIX" "${CONFIGURE_FLAGS[@]}" >"$WORK/configure.log" 2>&1 ||
  die "configure failed (missing build dependencies? $FEATURE_PACKAGES): $(tail -5 "$WORK/configure.log")"
missing=()
for feature in "${REQUIRED_FEATURES[@]}"; do
  grep -q "^#define $feature 1" config.h || missing+=("$feature")
done
[ ${#missing[@]} -eq 0 ] ||
  die "configure left out ${missing[*]}; install the development packages ($FEATURE_PACKAGES) and run again"
make -C src -j"$(nproc)" librdkafka.a rdkafka.pc >"$WORK/make.log" 2>&1 ||
  die "build failed: $(tail -20 "$WORK/make.log")"

# Installed under a temporary name and renamed, so a prefix is either
# complete or absent.
STAGE="$PREFIX.tmp.$$"
trap 'rm -rf "$WORK" "$STAGE"' EXIT
rm -rf "$STAGE"
mkdir -p "$STAGE/include/librdkafka" "$STAGE/lib/pkgconfig"
cp src/rdkafka.h src/rdkafka_mock.h "$STAGE/include/librdkafka/"
cp src/librdkafka.a "$STAGE/lib/"
cp src/rdkafka.pc "$STAGE/lib/pkgconfig/"
grep -q "^Version: $VERSION\$" "$STAGE/lib/pkgconfig/rdkafka.pc" ||
  die "the built rdkafka.pc does not say Version: $VERSION"
{
  echo "librdkafka $VERSION-$DEBIAN_REVISION (Debian source package, upstream sources unpatched)"
  echo "configure ${CONFIGURE_FLAGS[*]}"
  grep '^#define WITH_' config.h | awk '{ print $2 }' | tr '\n' ' '
  echo
} >"$STAGE/.complete"
rm -rf "$PREFIX"
mv "$STAGE" "$PREFIX"
log "librdkafka $VERSION built in $((SECONDS - start)) s"
echo "$PREFIX"
