# c360 developer loop. Bare `make` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
LOCK := requirements/dev.lock
STAMP := $(VENV)/.installed
SCALE ?= 0.01
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: help install demo test check lint format typecheck imports bench clean lock

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(LOCK)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==0.13.8
	$(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python $(LOCK)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m compileall -q src
	@touch $(STAMP)

install: $(STAMP) ## create .venv with the pinned dependencies and c360 (editable)

demo: install ## generate a small data set and run the whole pipeline on DuckDB
	$(BIN)/c360 demo --scale $(SCALE) --out demo

test: install check ## lint, type-check and run the whole test suite
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

check: lint typecheck imports ## ruff, mypy and the import-layer contracts

lint: install ## ruff lint and format check
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: install ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

typecheck: install ## mypy --strict on the package
	$(BIN)/mypy

imports: install ## check the import layers (import-linter)
	$(BIN)/lint-imports

bench: install ## run the benchmark suite against the targets (BENCH_ARGS="--only content --repeat 1")
	$(BIN)/python benchmarks/suite.py $(BENCH_ARGS)

lock: ## re-resolve requirements/dev.lock from pyproject.toml
	$(UV) pip compile pyproject.toml --extra dev --python-version 3.11 -o $(LOCK)

clean: ## remove the virtualenv, caches and demo output
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
