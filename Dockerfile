# syntax=docker/dockerfile:1
# One image for both processes: the API by default, a worker with
#   docker run … async-jobs node apps/worker/dist/main.js
# Both run as JavaScript bundles (scripts/bundle.mjs), made in the build stage: TypeScript
# compiled at run time through tsx cost the API about 45 MB of RSS.

ARG NODE_VERSION=20

# Production dependencies only, from the lockfile. The workspace manifests come
# first so that this layer is rebuilt only when dependencies change.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/seed/package.json packages/seed/
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# esbuild is a production dependency (`npm start` bundles too), so deps has it.
FROM deps AS build
COPY package.json tsconfig.json ./
COPY scripts/bundle.mjs scripts/
COPY packages/shared/ packages/shared/
COPY packages/seed/ packages/seed/
COPY apps/api/ apps/api/
COPY apps/worker/ apps/worker/
RUN node scripts/bundle.mjs

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# node_modules holds the workspace links (@async-jobs/* -> packages/, apps/), which
# resolve once the sources are copied next to it.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY packages/shared/ packages/shared/
COPY packages/seed/ packages/seed/
COPY apps/api/ apps/api/
COPY apps/worker/ apps/worker/
COPY --from=build /app/apps/api/dist/ apps/api/dist/
COPY --from=build /app/apps/worker/dist/ apps/worker/dist/
# The image's unprivileged user; the app writes nothing under /app.
USER node
# Reachable from outside the container; the API then refuses to start without
# API_TOKENS and ADMIN_PASSWORD (or ALLOW_INSECURE=true), see the README.
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
# node directly, not through npm, which exits on SIGTERM without waiting for its
# child: the processes shut down gracefully on it. (`docker run --init`, or compose's `init: true`, reaps zombies.)
# The young generation's limit: see NODE_FLAGS in scripts/bundle.mjs (the old generation's
# growth the API caps itself while many requests are held).
CMD ["node", "--max-semi-space-size=4", "apps/api/dist/main.js"]
