# Vetted: the two commands are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench bench-bigdb clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

PORT ?= 8000

## run: the service on http://127.0.0.1:$(PORT) with SQLite, an embedded broker, a worker and beat
run: $(STAMP)
	$(BIN)/vetted dev --port $(PORT)

## test: the whole test suite (PostgreSQL, Redis and Chromium tests included)
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check service workers tests bench
	$(BIN)/ruff format --check service workers tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

## bench: the benchmarks under bench/, printing their figures
bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-bigdb: $(STAMP)
	$(BIN)/python bench/bigdb.py

clean:
	rm -rf $(VENV) instance .pytest_cache
