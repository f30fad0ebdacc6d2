# Quick start: `make run` serves the embedded default; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint typecheck unit integration chromium bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

run: $(BIN)/.installed
	$(BIN)/exam-service demo
	$(BIN)/exam-service serve --port $(PORT)

lint: $(BIN)/.installed
	$(BIN)/ruff check exam_service tests migrations benchmarks
	$(BIN)/ruff format --check exam_service tests migrations benchmarks

typecheck: $(BIN)/.installed
	$(BIN)/mypy

# the browser tests drive Debian's chromium; installed here when we may (root with apt), else skipped
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

unit: $(BIN)/.installed chromium
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks.autosave

integration: $(BIN)/.installed
	EXAM_TEST_DATABASE_URL=$${EXAM_TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test} \
	EXAM_TEST_REDIS_URL=$${EXAM_TEST_REDIS_URL:-redis://127.0.0.1:6379/0} \
	$(BIN)/pytest -q -m integration

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
