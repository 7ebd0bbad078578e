# c360 developer loop. Bare `make` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
LOCK := requirements/dev.lock
STAMP := $(VENV)/.installed
WEB := src/c360/shells/api/web
WEB_STAMP := $(WEB)/node_modules/.installed
CHROMIUM := /usr/bin/chromium
SCALE ?= 0.01
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: help install browser demo serve screenshots test check lint format typecheck imports bench clean lock

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(LOCK)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==0.13.8
	$(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python $(LOCK)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m compileall -q src
	@touch $(STAMP)

# The dashboard's browser libraries (ECharts, Swagger UI), pinned by package-lock.json.
$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	npm ci --prefix $(WEB) --no-audit --no-fund --loglevel=error
	@touch $(WEB_STAMP)

install: $(STAMP) $(WEB_STAMP) ## create .venv with the pinned dependencies and c360 (editable)

# The browser the dashboard tests drive: Debian's chromium (never a downloaded one).
$(CHROMIUM):
	@SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get install -y -q chromium || \
	  ($$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium)

browser: $(CHROMIUM) ## install Debian's chromium for the dashboard tests

# The load generator of the serving benchmark.
/usr/bin/wrk:
	@SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get install -y -q wrk || ($$SUDO apt-get update -q && $$SUDO apt-get install -y -q wrk)

demo: install ## generate a small data set and run the whole pipeline on DuckDB
	$(BIN)/c360 demo --scale $(SCALE) --out demo

screenshots: install browser ## docs/img/dashboard-*.png from the demo warehouse (make demo first)
	$(BIN)/python docs/screenshots.py demo/c360.duckdb

serve: install ## serve the demo warehouse: dashboard at http://127.0.0.1:8360/
	$(BIN)/c360 serve --warehouse demo/c360.duckdb

test: install browser check ## lint, type-check and run the whole test suite
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

check: lint typecheck imports ## ruff, mypy and the import-layer contracts

lint: install ## ruff lint and format check
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/ruff format --check src tests benchmarks docs

format: install ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix src tests benchmarks docs
	$(BIN)/ruff format src tests benchmarks docs

typecheck: install ## mypy --strict on the package
	$(BIN)/mypy

imports: install ## check the import layers (import-linter)
	$(BIN)/lint-imports

bench: install browser /usr/bin/wrk ## run the benchmark suite against the targets (BENCH_ARGS="--only content --repeat 1")
	$(BIN)/python benchmarks/suite.py $(BENCH_ARGS)

lock: ## re-resolve requirements/dev.lock from pyproject.toml
	$(UV) pip compile pyproject.toml --extra dev --python-version 3.11 -o $(LOCK)

clean: ## remove the virtualenv, caches and demo output
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache $(WEB)/node_modules
