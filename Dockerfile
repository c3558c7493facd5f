# syntax=docker/dockerfile:1

# Build: install everything, type-check, then keep only the production dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY config ./config
COPY test ./test
COPY bench ./bench
RUN npx tsc --noEmit -p . && npm prune --omit=dev --no-audit --no-fund

# Run: Node 24 runs the TypeScript sources directly (type stripping), as a non-root user.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    LOOKOUT_DATA_DIR=/data \
    PORT=8080
RUN groupadd --system --gid 10001 lookout \
 && useradd --system --uid 10001 --gid lookout --home-dir /app --shell /usr/sbin/nologin lookout \
 && mkdir -p /data /config && chown lookout:lookout /data /config
WORKDIR /app
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json ./
COPY --chown=root:root src ./src
COPY --chown=root:root migrations ./migrations
COPY --chown=root:root config ./config
USER lookout
# /data: the embedded PostgreSQL (when DATABASE_URL is not set). /config: put lookout.yaml there and
# set LOOKOUT_CONFIG=/config/lookout.yaml.
VOLUME ["/data", "/config"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "src/cli/main.ts"]
CMD ["serve"]
