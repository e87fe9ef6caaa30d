# Two commands for a newcomer: `make run` (service with demo data) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup dev-setup run test lint typecheck bench clean

# `make run` installs only what running needs; the test, lint and benchmark tools (the
# `[dev]` extra: Playwright, mypy, ruff, ...) come with the first `make test`.
setup: $(VENV)/.installed-runtime

dev-setup: $(VENV)/.installed-dev

$(VENV)/.installed-runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-runtime
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: setup
	$(BIN)/publisher run --demo

# The suite on SQLite, then on PostgreSQL (127.0.0.1:5432) with the real Redis.
# Screenshots from the browser tests land in var/screenshots/ (ignored by git).
test: dev-setup
	bash .ci/test

lint: dev-setup
	$(BIN)/ruff check publisher tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: dev-setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
