# syntax=docker/dockerfile:1.7
# Switchboard gateway image. Node runs the TypeScript sources directly (type stripping), so there is no build step:
# the image holds src/, config/, the package files and production dependencies only.
# Pin the base by digest for reproducible builds: --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:<digest>
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- deps: production dependencies from the lockfile, nothing else ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="switchboard" \
      org.opencontainers.image.description="OpenAI-compatible model-provider gateway" \
      org.opencontainers.image.licenses="Apache-2.0"

# The app never calls npm, yarn or corepack at run time; removing them drops their CVEs from the image.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg \
 && mkdir -p /app/data /etc/switchboard \
 && chown 1000:1000 /app/data

WORKDIR /app
# SWITCHBOARD_CONFIG points at a file meant to be replaced by a mount (a Kubernetes ConfigMap, or -v in Docker).
# PORT is deliberately not set: it would override server.port from the config file.
ENV NODE_ENV=production \
    SWITCHBOARD_CONFIG=/etc/switchboard/switchboard.yaml

# Application files stay owned by root so the gateway (uid 1000) cannot modify its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY src ./src
COPY config ./config

# A container-friendly default config: listens on all interfaces, keeps the SQLite ledger on the data volume, and
# takes every secret from the environment. It has no teams, so no key is accepted until you mount a real config.
COPY <<'EOF' /etc/switchboard/switchboard.yaml
server:
  host: 0.0.0.0
  port: 8080
  shutdown_grace_ms: 30000
store:
  url: ${DATABASE_URL:-sqlite:///app/data/switchboard.db}
redis:
  url: ${REDIS_URL:-}
providers:
  mock: { type: mock }
models:
  demo:
    targets: [{ provider: mock, model: mock-1 }]
telemetry:
  service_name: switchboard
  otlp_endpoint: ${OTEL_EXPORTER_OTLP_ENDPOINT:-}
  metrics: true
logging:
  level: info
EOF

# The SQLite ledger; mount a volume here (or use Postgres via DATABASE_URL).
VOLUME ["/app/data"]
EXPOSE 8080

# uid:gid of the image's `node` user, numeric so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000

# No curl in slim images: the check uses Node's fetch. Kubernetes ignores HEALTHCHECK and uses the chart's probes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# Exec form: node is PID 1 and receives SIGTERM itself (the gateway installs a handler and drains). It spawns no
# child processes, so it needs no init for reaping; `docker run --init` adds tini if you want one anyway.
ENTRYPOINT ["node", "src/main.ts"]
CMD []
