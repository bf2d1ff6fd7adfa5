# syntax=docker/dockerfile:1
# One image for the three TaskFlow services: the API (default command), the one-shot migration
# (node dist/scripts/migrate.js) and the bundled Better Auth server (node auth-server/server.mjs).

FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ormconfig.ts ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

FROM node:20.20-bookworm-slim AS runtime
ENV NODE_ENV=production
# A heap cap: under load short-lived garbage gets promoted and the heap grows far past the ~45 MB
# that is live; the cap keeps RSS near 160 MB at a few % of CPU (see bench/results.md).
ENV NODE_OPTIONS=--max-old-space-size=192
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node auth-server ./auth-server
USER node
EXPOSE 8000 3001 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "dist/scripts/healthcheck.js", "http://127.0.0.1:8000/health"]
# The API's own heap sizing: see API_NODE_ARGS in bench/protocol.ts.
CMD ["node", "--max-semi-space-size=32", "--initial-old-space-size=128", "dist/src/main.js"]
