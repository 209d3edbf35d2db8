# Slate: `make run` starts the demo, `make test` runs every check CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The suite's PostgreSQL and Redis; override on the command line or in the environment.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/slate
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
# The Redis database the crash tests' real workers use (emptied by those tests).
TEST_WORKER_BROKER_URL ?= redis://127.0.0.1:6379/14
# The load test's Redis database (its Celery queue, caches and counters; emptied by it), and its
# options, e.g. LOAD_TEST_ARGS="--users 16 --duration 60".
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/13
LOAD_TEST_ARGS ?=
# Parallel pytest processes (pytest-xdist). Each has its own test database
# (test_slate_gw0, ...), localstripe and port; the tests that start real Celery workers share
# one of them (tests/conftest.py; pytest is pinned below 9.2, where that grouping silently
# stopped). Three on the two-core machine CI runs on: part of the suite waits rather than
# computes (real workers, a rate-limited release, browsers polling a page), and a third
# process fills those gaps (the whole suite 763 s at 3, 839 s at 2, measured back to back).
# PYTEST_WORKERS=auto: one per core; 0: this one process.
PYTEST_WORKERS ?= 3

.PHONY: run test lint pytest browser bench screenshots clean openapi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed-runtime: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[demo]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-runtime

run: $(VENV)/.installed-runtime
	$(BIN)/python manage.py rundev

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py makemigrations --check --dry-run

# The API's OpenAPI schema, checked in; tests/api/test_schema.py fails when it is stale.
openapi: $(VENV)/.installed-dev
	# PostgreSQL settings (no connection is made): integer bounds in the schema follow the backend.
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python manage.py spectacular --file docs/openapi.yaml --validate --fail-on-warn

# Browser tests drive Debian's Chromium (never a downloaded browser build).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
		else \
			echo "Browser tests need Debian's chromium: sudo apt-get install chromium chromium-driver"; exit 1; \
		fi; }

pytest: $(VENV)/.installed-dev browser
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		SLATE_TEST_WORKER_BROKER_URL=$(TEST_WORKER_BROKER_URL) $(BIN)/python -m pytest \
		-n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test: lint pytest

bench: $(VENV)/.installed-dev
	@for script in bench/*.py; do \
		echo "== $$script"; \
		args=""; [ "$$script" = bench/load_test.py ] && args="$(LOAD_TEST_ARGS)"; \
		DATABASE_URL=$(TEST_DATABASE_URL) BENCH_REDIS_URL=$(BENCH_REDIS_URL) \
			$(BIN)/python $$script $$args || exit 1; \
	done

# The main pages at desktop and phone widths, from a throw-away demo database.
screenshots: $(VENV)/.installed-dev browser
	$(BIN)/python docs/make_screenshots.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .hypothesis
