# kafka-sidecar image: built on Debian bookworm with the same packages as
# scripts/install-deps.sh and the same pinned librdkafka
# (scripts/install-librdkafka.sh, linked statically), run on bookworm-slim
# with only the shared libraries the binary links.
#
#   docker build -t kafka-sidecar .
#   docker run -v $PWD/sidecar.yaml:/etc/kafka-sidecar/sidecar.yaml:ro kafka-sidecar

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ccache \
      dpkg-dev debian-archive-keyring \
      libssl-dev libsasl2-dev libzstd-dev liblz4-dev zlib1g-dev libcurl4-openssl-dev \
      libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc \
      libabsl-dev libspdlog-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev libcpp-httplib-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/install-librdkafka.sh scripts/
RUN KAFKA_SIDECAR_CACHE_DIR=/opt/kafka-sidecar scripts/install-librdkafka.sh > /tmp/rdkafka-prefix
# Everything the top-level CMakeLists.txt adds (scripts/compose-test.sh
# builds this image, so a directory missing here fails a test).
COPY CMakeLists.txt ./
COPY cmake cmake
COPY proto proto
COPY sidecar sidecar
COPY client_examples client_examples
COPY bench bench
# ccache's directory is a build cache mount: rebuilding after a source change
# recompiles only what changed, and nothing of it lands in the image.
RUN --mount=type=cache,target=/root/.cache/ccache \
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKAFKA_SIDECAR_BUILD_TESTS=OFF \
      -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
      -DKAFKA_SIDECAR_RDKAFKA_PREFIX="$(tail -1 /tmp/rdkafka-prefix)" \
 && cmake --build build --target kafka-sidecar \
 && strip --strip-debug build/sidecar/kafka-sidecar \
 && build/sidecar/kafka-sidecar --version

FROM debian:bookworm-slim
# Runtime libraries of the binary (ldd), plus curl for the health check.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libssl3 libsasl2-2 libzstd1 liblz4-1 zlib1g libcurl4 libgrpc++1.51 libgrpc29 libprotobuf32 libabsl20220623 \
      libspdlog1.10 libfmt9 libyaml-cpp0.7 libcpp-httplib0.11 libre2-9 libc-ares2 \
      ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin sidecar
COPY --from=build /src/build/sidecar/kafka-sidecar /usr/local/bin/kafka-sidecar
USER 10001
# gRPC for handlers, HTTP for /metrics, /healthz, /readyz. The config must
# listen on 0.0.0.0 for them to be reachable from outside the container.
EXPOSE 50051 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz >/dev/null || exit 1
ENTRYPOINT ["kafka-sidecar", "--config", "/etc/kafka-sidecar/sidecar.yaml"]
