# `make run` and `make test` work on a fresh machine with only Python 3.11+ and pip: they make .venv themselves.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=

# The PostgreSQL run: a throw-away cluster (installed from the system packages when missing), removed after.
CLUSTER := $(BIN)/python -m tests.pg.cluster

.PHONY: run test lint typecheck unit unit-sqlite unit-postgres bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "OpenTurk needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	@touch $@ $(VENV)/.run-deps

run: $(VENV)/.run-deps
	$(BIN)/openturk serve $(ARGS)

lint: $(VENV)/.test-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.test-deps
	$(BIN)/mypy

# pytest exits 5 when it collects nothing; make treats that as the failure it is.
unit-sqlite: $(VENV)/.test-deps
	$(BIN)/pytest -q $(PYTEST_ARGS)

# The same suite again with every database on PostgreSQL (tests/conftest.py reads OPENTURK_TEST_DB_URL).
unit-postgres: $(VENV)/.test-deps
	$(CLUSTER) run -- $(BIN)/pytest -q $(PYTEST_ARGS)

# The two runs side by side (each on its own databases and ports); each run's output is printed whole
# when it ends. Either failing fails `make test`.
unit: $(VENV)/.test-deps
	$(MAKE) --no-print-directory -j2 --output-sync=target unit-sqlite unit-postgres

test: lint typecheck unit

# PostgreSQL figures too when a cluster can be made (fsync on, as SQLite's synchronous=FULL).
bench: $(VENV)/.test-deps
	$(CLUSTER) run --durable --optional -- $(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build src/*.egg-info
