# divio-mcp as a container: Streamable HTTP on port 8808 (see "Run it as a team" in README.md).
#
#   docker build -t divio-mcp .
#   docker run --rm -p 8808:8808 \
#     -e DIVIO_API_TOKEN=... -e DIVIO_MCP_AUTH_TOKEN="$(openssl rand -hex 32)" \
#     -e DIVIO_MCP_CONFIRM_KEY="$(openssl rand -hex 32)" -e DIVIO_MCP_ALLOWED_HOSTS=mcp.example.com divio-mcp
#
# The default command binds 0.0.0.0, so the server refuses to start (exit 2) without client authentication:
# DIVIO_MCP_AUTH_TOKEN (at least 32 characters; clients send it as "Authorization: Bearer <token>"), or OAuth
# (--oauth-issuer and --oauth-audience). Every flag and variable is in the configuration table of README.md.

# The Node major version; 20, 22 and 24 are supported (package.json "engines").
ARG NODE_MAJOR=22

# Build: dev dependencies (esbuild) and the bundled dist/ (the server, and the MCP Apps views in dist/ui/).
FROM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts/build.mjs scripts/build-views.mjs ./scripts/
COPY src ./src
COPY ui ./ui
RUN npm run build

# Production dependencies only.
FROM node:${NODE_MAJOR}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Runtime: the compiled server, its production dependencies, and nothing else; runs as the image's
# unprivileged `node` user (uid 1000), by number so Kubernetes' runAsNonRoot can verify it.
FROM node:${NODE_MAJOR}-bookworm-slim AS runtime
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json LICENSE README.md SECURITY.md ./
USER 1000:1000
EXPOSE 8808
# The slim image has no curl: Node's own fetch asks /healthz (liveness: the process answers).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8808/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/index.js"]
CMD ["--transport", "http", "--host", "0.0.0.0", "--port", "8808"]
