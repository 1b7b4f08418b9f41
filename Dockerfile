# syntax=docker/dockerfile:1
# Build stage: every dependency (TypeScript among them), the compiled dist/,
# then the production dependencies alone (better-sqlite3 compiled here, where
# the compilers are).
FROM node:20.20.2-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/build.mjs
COPY src ./src
RUN npm run build
RUN npm ci --omit=dev && npm cache clean --force

# Runtime stage: compiled JavaScript and production dependencies, no
# compilers, no TypeScript; runs as the unprivileged "node" user.
FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/data \
    WORKERS=1
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY public ./public
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1 and gets SIGTERM itself: it drains (every worker, with WORKERS > 1);
# SIGHUP (docker kill -s HUP) replaces the workers one by one.
CMD ["node", "dist/main.js"]
