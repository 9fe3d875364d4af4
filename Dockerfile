# The service, compiled, on any Debian-like base with Node.js >= 20.9 and npm (e.g. node:22-bookworm-slim):
#   docker build -t image-api .
#   docker build --build-arg BASE_IMAGE=<another Node.js image> -t image-api .
# Works with the legacy builder as well as BuildKit (no `# syntax=` line, no BuildKit-only instructions).
# The build stage needs the npm registry; the runtime stage holds production dependencies only.
ARG BASE_IMAGE=node:22-bookworm-slim

FROM ${BASE_IMAGE} AS build
ARG PNPM_VERSION=10.34.9
# pnpm once, in its own layer, rather than through npx on every command.
RUN npm install --global --no-audit --no-fund --loglevel=error "pnpm@${PNPM_VERSION}"
WORKDIR /src
# Layers from the least to the most often changed: a source edit reuses the downloaded packages.
# `pnpm fetch` needs the lockfile alone, so this layer survives any change but a dependency change.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch --frozen-lockfile
COPY package.json tsconfig.base.json ./
COPY packages ./packages
# `tsc -b` of the http package builds the packages it references (core, adapters) first.
# `deploy --prod` copies the http package with its production dependencies only, the workspace
# packages it uses included as their packed `files`. With inject-workspace-packages it installs the
# versions of the shared lockfile, from the store, offline (the legacy deploy would resolve every range
# again, from the registry). The http package has no `files` list, so /app takes from the deploy what
# the service runs, and nothing else. pnpm's bookkeeping files carry timestamps: without them the same
# dependencies make the same node_modules, so the runtime stage's layer of them stays cached.
RUN pnpm install --offline --frozen-lockfile \
 && pnpm --filter @image-api/http build \
 && pnpm --config.inject-workspace-packages=true --filter @image-api/http deploy --prod --offline /deploy \
 && rm -f /deploy/dist/.tsbuildinfo /deploy/node_modules/.modules.yaml /deploy/node_modules/.pnpm-workspace-state-v1.json \
 && mkdir /app && mv /deploy/package.json /deploy/dist /deploy/node_modules /app/

FROM ${BASE_IMAGE}
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 IMAGE_API_DATA_DIR=/data
# The data dir belongs to the service's user; the code stays root's, read-only to it.
RUN mkdir -p /data && chown 10001:10001 /data
WORKDIR /app
# Dependencies first: an edit of the service's own code leaves that layer as it was.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/dist ./dist
USER 10001:10001
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
