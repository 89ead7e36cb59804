# Retrovue image. Two stages: "build" compiles the retrovue binary with the -dev
# packages and cmake; the runtime stage holds only the shared libraries, ffmpeg, a
# font and the time zone data, and runs retrovue as the unprivileged user "retrovue".
#   /config  the configuration (the demo station is written here when it is empty)
#   /data    state: SQLite database, segments, conform cache, the demo library
#   /media   your media, mounted read-only
# The base is Debian 12 (bookworm); scripts/docker-smoke shows how to make it locally
# with debootstrap when no registry can be reached. See README "Docker".
FROM debian:bookworm-slim AS build
# The -dev packages are the ones scripts/setup installs, so there is one list to keep.
COPY scripts/setup /tmp/setup
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      gcc libc6-dev make cmake pkg-config $(grep -oE '\blib[a-z0-9.+-]+-dev\b' /tmp/setup | sort -u) \
 && rm -rf /var/lib/apt/lists/*
# The sources (.dockerignore leaves out tests, build trees, media and state).
COPY . /src
# Only the retrovue target: the tests and benchmarks are not built into the image.
# runtime-packages lists the Debian packages of the shared libraries it links.
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DRETROVUE_WERROR=OFF >/dev/null \
 && cmake --build /build -j"$(nproc)" --target retrovue \
 && strip /build/retrovue \
 && for lib in $(ldd /build/retrovue | awk '$3 ~ /^\// { print $3 }'); do \
      dpkg -S "*/${lib##*/}" | cut -d: -f1; \
    done | sort -u >/build/runtime-packages \
 && echo "runtime packages:" $(cat /build/runtime-packages)

FROM debian:bookworm-slim
COPY --from=build /build/runtime-packages /usr/local/share/retrovue/runtime-packages
# ffmpeg's dependencies pull in Mesa's OpenGL drivers and the LLVM they link (about
# 160 MB); ffmpeg only loads them for OpenGL output, which retrovue never uses, so
# dpkg leaves those files out (the packages still count as installed).
RUN printf 'path-exclude %s\n' '/usr/lib/*/dri/*' '/usr/lib/*/libLLVM-15.so*' '/usr/lib/*/libz3.so*' \
      >/etc/dpkg/dpkg.cfg.d/retrovue-no-opengl \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      $(cat /usr/local/share/retrovue/runtime-packages) ffmpeg fonts-dejavu-core tzdata \
 && rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /usr/share/doc/* /usr/share/man/* \
 && groupadd --system --gid 1000 retrovue \
 && useradd --system --uid 1000 --gid 1000 --no-create-home --home-dir /data \
      --shell /usr/sbin/nologin retrovue \
 && mkdir -p /config /data \
 && chown retrovue:retrovue /config /data
COPY --from=build /build/retrovue /usr/local/bin/retrovue
COPY web/ui /usr/local/share/retrovue/ui
COPY examples/demo/retrovue.json /usr/local/share/retrovue/demo/
COPY examples/demo/channels /usr/local/share/retrovue/demo/channels
COPY scripts/make-demo scripts/docker-entrypoint docker/healthcheck /usr/local/lib/retrovue/
# Fails the build when a shared library of retrovue or ffmpeg is missing.
RUN ! ldd /usr/local/bin/retrovue /usr/bin/ffmpeg /usr/bin/ffprobe | grep 'not found' \
 && retrovue --version && ffmpeg -hide_banner -version | head -1
ENV PUID=1000 PGID=1000
VOLUME ["/config", "/data"]
# HTTP (HLS, TS, API, web page, HDHomeRun), HDHomeRun discovery, SSDP.
EXPOSE 8080/tcp 65001/udp 1900/udp
# retrovue (PID 1) stops every ffmpeg on SIGTERM and exits 0 within a few seconds.
STOPSIGNAL SIGTERM
# No curl in the image: the check speaks HTTP to /healthz with bash's /dev/tcp.
HEALTHCHECK --interval=15s --timeout=5s --start-period=300s --retries=3 \
  CMD ["/usr/local/lib/retrovue/healthcheck"]
# Starts as root only to fix the ownership of fresh volumes, then runs retrovue as
# PUID:PGID (default 1000:1000, the user "retrovue").
ENTRYPOINT ["/usr/local/lib/retrovue/docker-entrypoint"]
CMD ["serve", "--config", "/config", "--state", "/data", "--listen", "0.0.0.0:8080"]
