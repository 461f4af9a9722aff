# syntax=docker/dockerfile:1
# The product's image: compiled JavaScript (npm run build) on the current Node LTS, production
# dependencies only, run as the unprivileged `node` user. No Temporal CLI: give it TEMPORAL_ADDRESS
# (docker-compose.yml does). Build it from the checkout:
#   docker build -t qonto-onedrive-sync .
# ROLE (all, api or worker) and every other setting come from the environment (README, Configuration).
ARG NODE_IMAGE=node:26-trixie-slim

# What better-sqlite3 needs to compile where no prebuilt binary can be fetched (npm ci runs its build).
FROM ${NODE_IMAGE} AS toolchain
# Unpinned: this stage follows the base image's Debian release, whose archive keeps only current versions.
# hadolint ignore=DL3008
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

FROM toolchain AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY activities ./activities
COPY workflows ./workflows
RUN npm run build

FROM toolchain AS production-dependencies
RUN npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
# The memory settings of scripts/start.mjs (README, Benchmark), here without the launcher.
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=1 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    NODE_OPTIONS="--max-semi-space-size=8 --max-old-space-size=1024" \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json ./
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY scripts/healthcheck.mjs ./scripts/healthcheck.mjs
# DATA_DIR holds nothing that must survive the container once the store is Postgres and the key is
# ENCRYPTION_KEY; it only has to be writable.
RUN mkdir -p /data && chown node:node /data
# The image's `node` user, by number so that a runtime can check it is not root (runAsNonRoot).
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["node", "scripts/healthcheck.mjs"]
CMD ["node", "dist/src/main.js"]
