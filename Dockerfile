# syntax=docker/dockerfile:1
# hookbuffer: a durable webhook buffer. Two stages: the build stage compiles better-sqlite3 and the
# TypeScript; the runtime stage holds only dist/ and production node_modules, and runs as `node`.
# test/e2e/container-layout.test.ts replays these steps outside Docker, so keep the build-stage
# COPY/RUN lines plain (one command per RUN, or joined with &&).

FROM node:22-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts=false --no-audit --no-fund
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOOKBUFFER_CONFIG=/etc/hookbuffer/config.yaml \
    HOOKBUFFER_DB=/data/hookbuffer.db
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The commented example is a working default (upstream http://127.0.0.1:3000, the sidecar case);
# mount your own file over it.
COPY config.example.yaml /etc/hookbuffer/config.yaml
# The database lives on a volume owned by the unprivileged `node` user (uid 1000).
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
# 8080: ingest (point the provider here). 9090: admin (stats, metrics, dashboard; loopback by default).
EXPOSE 8080 9090
# The slim image has no curl; node's fetch does the check. /healthz is open on the ingest port.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM drains: stop accepting, flush, finish in-flight deliveries, release leases, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/cli.js"]
