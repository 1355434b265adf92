# Everything a fresh Debian machine with Python 3.11 and make needs: `make run`, `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest policy-check bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		echo "python venv support is missing: installing Debian's python3-venv"; \
		apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Until the HTTP server lands, "run" evaluates the README's example decision on the bundled policies.
run: install
	$(BIN)/policy validate policies/
	$(BIN)/policy eval douyin-anxingou claim --input examples/douyin-claim-instant-refund.json \
		--at 2021-09-01T11:00:05+08:00

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src

typecheck: install
	$(BIN)/mypy --strict src

pytest: install
	$(BIN)/pytest -q

policy-check: install
	$(BIN)/policy validate policies/
	$(BIN)/policy test policies/ --coverage --junit var/policy-tests.xml

test: lint typecheck policy-check pytest

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
