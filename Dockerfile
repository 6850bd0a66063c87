# One image for every liftstream service; the compose file picks the entry point per service.
#
# build:   `npm ci` from the lock file (which applies patches/ through patch-package), compile the
#          TypeScript into dist/ with the files it reads at run time (Avro schemas, SQL migrations),
#          then prune to production dependencies and drop the embedded ClickHouse (chDB, ~500 MB):
#          containers talk to a ClickHouse server. chDB is removed after the install rather than with
#          --omit=optional, which would also drop the prebuilt LMDB binary of the state stores (an
#          optional dependency of lmdb) and leave npm compiling it without build tools.
# runtime: the pruned node_modules and dist/ only, as the unprivileged `node` user.
#
# test/ops/dockerfile-stages.integration.test.ts replays these stages from this file without a Docker
# engine; keep RUN commands relative to WORKDIR (no absolute paths) so they can be replayed.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-build-assets.mjs scripts/build-ui.mjs ./scripts/
COPY schemas ./schemas
COPY shared ./shared
COPY services ./services
COPY cli ./cli
COPY ui ./ui
RUN npm run build && npm prune --omit=dev --no-audit --no-fund && rm -rf node_modules/chdb node_modules/@chdb

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
# A larger young generation cut the gateway's CPU per event by about a fifth (services/gateway/README.md).
ENV NODE_OPTIONS=--max-semi-space-size=32
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The projects catalog lives here (a volume in docker-compose.yml); `liftstream projects init` writes it.
COPY --chown=node:node deploy/config /etc/liftstream
USER node
# Overridden per service in docker-compose.yml.
CMD ["node", "dist/services/gateway/src/main.js"]
