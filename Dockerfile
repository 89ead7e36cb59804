# Retrovue image: a build stage with the -dev packages, and a runtime stage with only
# the shared libraries, ffmpeg and a font for the demo library.
# The base image is Debian 12 (bookworm); see README "Docker" for making it locally.
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake pkg-config \
      libuv1-dev libsqlite3-dev libcjson-dev libh2o-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
COPY CMakeLists.txt /src/
COPY common /src/common
COPY supervisor /src/supervisor
COPY playlists /src/playlists
COPY web /src/web
COPY schema /src/schema
COPY tests /src/tests
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DRETROVUE_WERROR=OFF \
 && cmake --build /build -j"$(nproc)" --target retrovue \
 && strip /build/retrovue

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libuv1 libsqlite3-0 libcjson1 libh2o0.13 \
      libssl3 ffmpeg fonts-dejavu-core curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 1000 --home-dir /data --shell /usr/sbin/nologin retrovue \
 && mkdir -p /config /data /media \
 && chown retrovue:retrovue /config /data
COPY --from=build /build/retrovue /usr/local/bin/retrovue
COPY scripts/make-demo scripts/docker-entrypoint /usr/local/lib/retrovue/
COPY examples/demo /usr/local/share/retrovue/demo
COPY web/ui /usr/local/share/retrovue/ui
USER retrovue
VOLUME ["/config", "/data"]
EXPOSE 8080/tcp 65001/udp 1900/udp
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/lib/retrovue/docker-entrypoint"]
CMD ["serve", "--config", "/config", "--state", "/data", "--listen", "0.0.0.0:8080"]
