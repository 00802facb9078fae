# Rivendell's app image: one server process, the frontend built in, listening on 0.0.0.0:8000.
#
#   make image                                   # here: on the local base that `make images` makes
#   docker build -t rivendell-app .              # elsewhere: on debian:bookworm-slim
#
# Build with `--network host` where the default bridge is off (as on the CI machines): apt, PyPI
# and npm are reached from the build. See docs/deploy.md.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
# CA certificates the build's downloads must trust besides Debian's (a TLS-inspecting proxy's):
# `make image` puts the host's here (deploy/build-ca/README.md). The final image has none.
COPY deploy/build-ca/ /usr/local/share/ca-certificates/
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates python3 python3-venv npm \
 && update-ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
# The same uv as the Makefile's UV_VERSION (a test keeps them equal).
ARG UV_VERSION=0.13.9
RUN python3 -m venv /opt/uv \
 && /opt/uv/bin/pip install --quiet --no-cache-dir --disable-pip-version-check uv==${UV_VERSION}
WORKDIR /app
ENV UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_CACHE_DIR=/tmp/uv-cache
COPY pyproject.toml uv.lock ./
RUN /opt/uv/bin/uv sync --locked --no-dev --python /usr/bin/python3 && rm -rf /tmp/uv-cache
# bun from npm: Reflex 0.10 refuses Debian's Node 18, and builds with this bun instead.
COPY tools/package.json tools/package-lock.json tools/
RUN npm ci --prefix tools --no-audit --no-fund --loglevel=error && rm -rf /root/.npm
# What the frontend build reads, and nothing else: a change elsewhere does not rebuild it.
COPY rxconfig.py ./
COPY reflex.lock reflex.lock
COPY assets assets
COPY rivendell rivendell
# The backend URL the browser uses. Unset (the default), a page reaches the backend at its own
# origin, behind any balancer (rivendell/same_origin.py); set it only for a backend elsewhere.
ARG REFLEX_API_URL
RUN if [ -z "${REFLEX_API_URL:-}" ]; then unset REFLEX_API_URL; fi \
 && PATH="/app/tools/node_modules/.bin:/app/.venv/bin:$PATH" REFLEX_USE_SYSTEM_BUN=1 \
    REFLEX_TELEMETRY_ENABLED=false REFLEX_CHECK_LATEST_VERSION=false \
    reflex export --frontend-only --no-zip \
 && rm -rf /root/.bun /root/.cache

FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates python3 tini \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin rivendell
WORKDIR /app
COPY --from=build /app/.venv .venv
# /docs serves Swagger UI from here (no CDN); nothing else of tools/ is needed to serve.
COPY --from=build /app/tools/node_modules/swagger-ui-dist tools/node_modules/swagger-ui-dist
COPY --from=build /app/.web/build/client .web/build/client
COPY --from=build /app/.web/backend .web/backend
COPY rxconfig.py alembic.ini ./
COPY assets assets
COPY alembic alembic
COPY scripts scripts
COPY rivendell rivendell
# The code stays root's (compiled now: the server may not write beside it); the server writes
# only the SQLite default (data/) and Reflex's single-instance state files (.states/).
RUN python3 -m compileall -q rxconfig.py alembic scripts rivendell \
 && mkdir data .states && chown rivendell:rivendell data .states
USER rivendell
ENV PATH=/app/.venv/bin:$PATH \
    HOST=0.0.0.0 \
    PORT=8000 \
    GRANIAN_WORKERS=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    REFLEX_TELEMETRY_ENABLED=false \
    REFLEX_CHECK_LATEST_VERSION=false
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-m", "scripts.serve", "--check"]
# tini as PID 1: signals reach the server, and exited children are reaped.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["python", "-m", "scripts.serve"]
