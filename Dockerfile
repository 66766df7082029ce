# kafka-sidecar image: built on Debian bookworm with the same packages as
# scripts/install-deps.sh and the same pinned librdkafka
# (scripts/install-librdkafka.sh, linked statically), run from an image that
# holds the binary, the shared libraries it links and CA certificates only
# (no shell: debug with `kubectl debug` or `docker run --pid container:...`).
#
#   docker build -t kafka-sidecar .
#   docker run -v $PWD/sidecar.yaml:/etc/kafka-sidecar/sidecar.yaml:ro kafka-sidecar

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ccache \
      dpkg-dev debian-archive-keyring ca-certificates \
      libssl-dev libsasl2-dev libzstd-dev liblz4-dev zlib1g-dev libcurl4-openssl-dev \
      libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc \
      libabsl-dev libspdlog-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev libcpp-httplib-dev \
      libmicrohttpd-dev \
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

# The runtime file system: the binary, exactly the shared libraries it loads
# (ldd) and the CA bundle for TLS to Kafka; no shell, no package manager.
# OpenSSL looks for CAs under /usr/lib/ssl, which on Debian points into
# /etc/ssl/certs.
RUN mkdir -p /rootfs/usr/local/bin /rootfs/etc/ssl/certs /rootfs/usr/lib/ssl /rootfs/tmp \
 && cp build/sidecar/kafka-sidecar /rootfs/usr/local/bin/ \
 && ldd build/sidecar/kafka-sidecar | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' \
      | xargs cp -L --parents -t /rootfs \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
 && ln -s /etc/ssl/certs /rootfs/usr/lib/ssl/certs \
 && ln -s /etc/ssl/certs/ca-certificates.crt /rootfs/usr/lib/ssl/cert.pem \
 && printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nsidecar:x:10001:10001::/nonexistent:/usr/sbin/nologin\n' > /rootfs/etc/passwd \
 && printf 'root:x:0:\nsidecar:x:10001:\n' > /rootfs/etc/group \
 && printf 'hosts: files dns\n' > /rootfs/etc/nsswitch.conf \
 && chmod 1777 /rootfs/tmp \
 && chroot /rootfs /usr/local/bin/kafka-sidecar --version

FROM scratch
COPY --from=build /rootfs /
USER 10001:10001
# gRPC for handlers, HTTP for /metrics, /healthz, /readyz. The config must
# listen on 0.0.0.0 for them to be reachable from outside the container.
EXPOSE 50051 8080
# No curl in the image: the binary probes its own admin port.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["kafka-sidecar", "--probe", "http://127.0.0.1:8080/healthz"]
ENV PATH=/usr/local/bin
ENTRYPOINT ["kafka-sidecar", "--config", "/etc/kafka-sidecar/sidecar.yaml"]
