# Container image of dionysus-relay.
#
#   docker build -t dionysus-relay \
#     --build-arg VERSION="$(node -p 'require("./package.json").version')" \
#     --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" .
#   docker run --read-only --stop-timeout 40 \
#     -e DATABASE_URL=postgres://... -e KAFKA_BROKERS=kafka:9092 \
#     -v "$PWD/topics.yaml:/app/config/topics.yaml:ro" -p 9394:9394 dionysus-relay
#
# Two stages: the builder compiles librdkafka (node-rdkafka) and the TypeScript, then
# scripts/build-image.sh assembles the runtime folder /out; the runtime stage is the slim
# Node image plus that folder and the few system libraries librdkafka links with.
#
# VERSION, REVISION (the git commit) and CREATED (RFC 3339) are required: they become the OCI
# labels org.opencontainers.image.version/revision/created, and build-image.sh records the same
# labels in /app/image-labels.json. SOURCE is the repository the image is built from.

ARG NODE_BUILD_IMAGE=node:20-bookworm
ARG NODE_RUNTIME_IMAGE=node:20-bookworm-slim
ARG VERSION=""
ARG REVISION=""
ARG CREATED=""
ARG SOURCE=https://github.com/dionysus-relay/dionysus-relay

# ---------------------------------------------------------------------------- builder
# The full bookworm image already has what node-gyp needs to compile librdkafka:
# python3, make, g++, bash, and the OpenSSL/zlib headers.
FROM ${NODE_BUILD_IMAGE} AS builder
ARG VERSION
ARG REVISION
ARG CREATED
ARG SOURCE
WORKDIR /src
RUN test -n "${VERSION}" && test -n "${REVISION}" && test -n "${CREATED}" \
    || { echo 'pass --build-arg VERSION=... REVISION=... CREATED=... (see the top of the Dockerfile)' >&2; exit 1; }

# Dependencies in their own layer: compiling librdkafka takes minutes, and this layer is
# reused as long as package.json and package-lock.json do not change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# .dockerignore keeps node_modules/, dist/ and everything else not needed to build out.
COPY . .
RUN bash scripts/build-image.sh /out --reuse-node-modules --debian-deps /runtime-debs.txt \
      --version "${VERSION}" --revision "${REVISION}" --created "${CREATED}" --source "${SOURCE}"

# ---------------------------------------------------------------------------- runtime
FROM ${NODE_RUNTIME_IMAGE} AS runtime

# librdkafka links OpenSSL and possibly other libraries the slim image lacks; the
# builder listed their Debian packages. ca-certificates lets librdkafka verify brokers'
# TLS certificates against the system CA bundle. Packages already in the base image are
# skipped so the base image's own versions are left alone.
COPY --from=builder /runtime-debs.txt /tmp/runtime-debs.txt
RUN set -eux; \
    missing="ca-certificates"; \
    for pkg in $(cat /tmp/runtime-debs.txt); do \
      dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q 'ok installed' || missing="${missing} ${pkg}"; \
    done; \
    apt-get update; \
    apt-get install -y --no-install-recommends ${missing}; \
    rm -rf /var/lib/apt/lists/* /tmp/runtime-debs.txt; \
    groupadd --system --gid 10001 relay; \
    useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin relay

# The code stays owned by root: the relay's user can read it but not change it.
COPY --from=builder /out /app
WORKDIR /app

# Fail the build, not the first deployment, when a native library is missing.
RUN node -e "require('/app/node_modules/node-rdkafka')" \
    && node /app/dist/cli/bin.js --help >/dev/null

ENV NODE_ENV=production \
    HTTP_PORT=9394

# The relay writes only below /tmp (health files for old probes, nothing else), so the
# root filesystem can be mounted read-only: `docker run --read-only` gets a fresh anonymous
# volume here; in Kubernetes mount an emptyDir at /tmp (the Helm chart does).
VOLUME ["/tmp"]

# Numeric user so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001

# /metrics (Prometheus), /healthz (liveness) and /readyz (readiness).
EXPOSE 9394

# The slim image has no curl or wget: ask node itself. Any 2xx from /healthz is healthy.
# Uses 127.0.0.1, so it assumes HTTP_HOST is 0.0.0.0 or 127.0.0.1 (the default is 0.0.0.0).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const r = require('http').get({ host: '127.0.0.1', port: Number(process.env.HTTP_PORT || 9394), path: '/healthz', timeout: 4000 }, (res) => process.exit(res.statusCode >= 200 && res.statusCode < 300 ? 0 : 1)); r.on('timeout', () => r.destroy(new Error('timeout'))); r.on('error', () => process.exit(1));"]

# node runs as PID 1 and receives SIGTERM from `docker stop` or the kubelet itself: no
# shell in between (exec form), so the relay's own handler starts its graceful drain.
# No tini/dumb-init: the relay starts no child processes, so there are no zombies to reap,
# and it installs its own SIGTERM/SIGINT handlers, so PID 1's "ignore signals without a
# handler" rule does not apply. (`docker run --init` adds tini anyway if you want one.)
# Docker's default stop timeout is 10 s, shorter than the relay's 25 s drain
# (RELAY_SHUTDOWN_GRACE_MS): use `docker run --stop-timeout 40` or `docker stop -t 40`.
ENTRYPOINT ["node", "/app/dist/cli/bin.js"]
CMD ["run"]

# The same labels as /app/image-labels.json (scripts/build-image.sh writes both from the same
# values; test/integration/deploy/image-labels.test.ts keeps the two lists equal).
ARG VERSION
ARG REVISION
ARG CREATED
ARG SOURCE
LABEL org.opencontainers.image.title="dionysus-relay" \
      org.opencontainers.image.description="Publishes rows of the dionysus_outboxes table to Kafka" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.url="${SOURCE}" \
      org.opencontainers.image.documentation="${SOURCE}/blob/${REVISION}/README.md" \
      org.opencontainers.image.licenses="MIT"
