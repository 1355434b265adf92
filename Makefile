# Everything a fresh Debian machine with Python 3.11 and make needs: `make run`, `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest policy-check bench browser clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		echo "python venv support is missing: installing Debian's python3-venv"; \
		apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The decision server on the bundled policies, decision log in var/decisions.sqlite3 (HOST, PORT, WORKERS).
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1
run: install
	$(BIN)/policy serve --policies policies --host $(HOST) --port $(PORT) --workers $(WORKERS)

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src

typecheck: install
	$(BIN)/mypy --strict src

pytest: install browser
	@if [ "$$(id -u)" = 0 ]; then export POLICY_BROWSER_TESTS=required; fi; \
		echo "$(BIN)/pytest -q"; $(BIN)/pytest -q

# Debian's Chromium for the playground's browser tests (tests/browser), installed when missing (needs root).
# As root, `make pytest` then requires the browser tests to run (POLICY_BROWSER_TESTS=required).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" != 0 ]; then \
		echo "browser: /usr/bin/chromium is missing and this is not root: the browser tests will skip"; \
	else \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get install -y -qq chromium >/dev/null 2>&1 || \
			{ apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; \
	fi

policy-check: install
	$(BIN)/policy validate policies/
	$(BIN)/policy test policies/ --coverage --junit var/policy-tests.xml

test: lint typecheck policy-check pytest

# Benchmarks (issue 5; not part of the test suite): installs the bench extra (zen-engine) and wrk.
bench: install
	@if [ ! -f $(VENV)/.bench-installed ] || [ pyproject.toml -nt $(VENV)/.bench-installed ]; then \
		$(BIN)/pip install --quiet -e '.[dev,bench]' && touch $(VENV)/.bench-installed; fi
	@command -v wrk >/dev/null || { echo "installing wrk (Debian)"; \
		apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
