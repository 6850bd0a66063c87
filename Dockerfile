# One image for every liftstream service; the compose file picks the entry point per service.
# Build stage: full dependencies to compile TypeScript. Runtime stage: production dependencies only,
# without the optional embedded ClickHouse (chDB, ~500 MB): containers talk to a ClickHouse server.
# chDB is dropped from package.json rather than with --omit=optional, which would also drop the
# prebuilt LMDB binary of the processor's state store (an optional dependency of lmdb) and leave npm
# compiling it with build tools this slim image does not have.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The install applies patches/ (patch-package, postinstall).
COPY patches ./patches
RUN npm pkg delete optionalDependencies.chdb && npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY schemas ./schemas
COPY shared ./shared
COPY services ./services
COPY scripts ./scripts
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
# A larger young generation cut the gateway's CPU per event by about a fifth (services/gateway/README.md).
ENV NODE_OPTIONS=--max-semi-space-size=32
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm pkg delete optionalDependencies.chdb && npm install --no-audit --no-fund --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY schemas ./schemas
COPY shared/clickhouse/migrations ./dist/shared/clickhouse/migrations
USER node
# Overridden per service in docker-compose.yml.
CMD ["node", "dist/services/gateway/src/main.js"]
