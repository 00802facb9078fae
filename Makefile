# Rivendell's one answer to "how do I run X". `make run` and `make test` install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 8000
HOST ?= 127.0.0.1
PYTHON ?= python3
UV_VERSION := 0.13.9

VENV := .venv
# The app image (Dockerfile). Its base: the local debootstrap one `make images` makes, or with a
# registry in reach APP_BASE=debian:bookworm-slim.
APP_IMAGE ?= rivendell-app:latest
APP_BASE ?= rivendell-base:bookworm
# CA certificates the image build trusts besides Debian's (deploy/build-ca/README.md).
BUILD_CA_CERTS ?= /usr/local/share/ca-certificates/*.crt
UV := tools/uv/bin/uv
BUN_BIN := $(CURDIR)/tools/node_modules/.bin
REFLEX_ENV := PATH="$(BUN_BIN):$(CURDIR)/$(VENV)/bin:$$PATH" REFLEX_USE_SYSTEM_BUN=1 \
	REFLEX_TELEMETRY_ENABLED=false

.PHONY: help run test lint format typecheck check deps chromium screenshots bench bench-collab \
	bench-fleet dockerd images image bench-executor clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv tools/uv
	tools/uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --python $(PYTHON)
	touch $@

tools/node_modules/.installed: tools/package.json tools/package-lock.json
	npm ci --prefix tools --no-audit --no-fund --loglevel=error
	touch $@

tests/node/node_modules/.installed: tests/node/package.json tests/node/package-lock.json
	npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
	touch $@

deps: $(VENV)/.synced tools/node_modules/.installed ## Install the locked Python and JS dependencies

chromium: ## Install Debian's Chromium for the browser tests (once)
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: deps ## Start Rivendell on http://$(HOST):$(PORT) (production build, SQLite by default)
	$(REFLEX_ENV) $(VENV)/bin/reflex run --env prod --single-port --backend-host $(HOST) --backend-port $(PORT)

test: deps chromium tests/node/node_modules/.installed ## Run every test: unit, integration (SQLite and PostgreSQL) and browser
	$(REFLEX_ENV) $(VENV)/bin/pytest

lint: deps ## Ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: deps ## Format the code
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: deps ## mypy on the package
	$(VENV)/bin/mypy

check: lint typecheck test ## Everything CI runs

screenshots: deps chromium ## Refresh docs/screenshots/ from a running build
	$(REFLEX_ENV) $(VENV)/bin/python -m scripts.screenshots

bench: deps chromium ## The room-page benchmark (figures for docs/benchmarks.md)
	$(REFLEX_ENV) $(VENV)/bin/python -m bench.room_page

bench-collab: deps ## The co-editing load benchmark, next to a bare pycrdt-websocket server (10-30 min)
	$(REFLEX_ENV) $(VENV)/bin/python -m bench.collab

bench-fleet: deps ## Co-editing on one instance and across two (PostgreSQL + Redis), same run (15-30 min)
	$(REFLEX_ENV) $(VENV)/bin/python -m bench.fleet

dockerd: ## Start a Docker engine for the sandboxes if none answers (no systemd needed)
	scripts/start-dockerd.sh

images: deps ## Build the sandbox runner images that are not built yet (RUNNER_BASE=debian:bookworm-slim with a registry)
	$(VENV)/bin/python -m scripts.runner_images

image: deps ## Build the app image rivendell-app:latest from the Dockerfile (APP_BASE=debian:bookworm-slim with a registry)
	@if [ "$(APP_BASE)" = rivendell-base:bookworm ]; then $(VENV)/bin/python -m scripts.runner_images --base-only; fi
	rm -f deploy/build-ca/*.crt
	cp $(BUILD_CA_CERTS) deploy/build-ca/ 2>/dev/null || true
	DOCKER_BUILDKIT=0 docker build --network host --build-arg BASE=$(APP_BASE) \
		--build-arg UV_VERSION=$(UV_VERSION) -t $(APP_IMAGE) .

bench-executor: deps ## Sandbox run latency and throughput next to docker run / exec (docs/benchmarks.md)
	$(VENV)/bin/python -m bench.executor

clean: ## Remove build output and local data (not the dependencies)
	rm -rf .web data/*.db data/*.db-* docs/screenshots/*.tmp
