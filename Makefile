# Two commands for a fresh machine: `make demo` (set up + run the Korea baseline) and `make test`.
PYTHON ?= python3.12
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-all lint bench check data clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: setup
	$(BIN)/regsim run scenarios/korea_baseline.yaml

test: setup
	$(BIN)/pytest -n auto

lint: setup
	$(BIN)/ruff format --check sim tests
	$(BIN)/ruff check sim tests
	$(BIN)/lint-imports

test-all: setup
	$(BIN)/pytest -n auto -m "slow or not slow"

bench: setup
	$(BIN)/regsim bench --scales 100,1

check: setup
	$(BIN)/regsim check --out results/check

data: setup
	$(BIN)/python -m sim.tools.build

clean:
	rm -rf $(VENV) .pytest_cache
