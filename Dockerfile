# tixlock. Stages: build (TypeScript -> dist: the service in dist/src, the tools of `tixlock onsale` and
# `npm run bench` in dist/tools), deps (production dependencies; better-sqlite3 is native, so this stage has a
# compiler), runtime (node, non-root, no compiler).
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY tools ./tools
COPY lua ./lua
RUN npm run build

FROM node:20-bookworm-slim AS deps
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

FROM node:20-bookworm-slim
# HOST: every interface of the container (tixlock's own default is loopback only)
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY lua ./lua
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
# Production needs REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS (this image has no redis-server), TIXLOCK_API_KEYS / TIXLOCK_ADMIN_KEYS, and
# DOCUMENT_STORE_URL=postgres://... (else SQLite under DATA_DIR: mount a volume there).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "require('http').get('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["all"]
