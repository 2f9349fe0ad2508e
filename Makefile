PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint typecheck migrate clean bench bench-export bench-scale bench-web bench-service

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP) $@

run: $(STAMP)
	$(BIN)/pbgdpl migrate
	$(BIN)/pbgdpl run

migrate: $(STAMP)
	$(BIN)/pbgdpl migrate

test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python -m bench.load
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
		$(BIN)/python -m bench.load --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/pbgdpl_bench; fi

bench-scale: $(STAMP)
	$(BIN)/python -m bench.load --citizens --paced-citizens 0 --stored 0 \
		--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/pbgdpl_bench

bench-export: $(STAMP)
	$(BIN)/python -m bench.export

bench-web: $(STAMP)
	$(BIN)/python -m bench.web

bench-service: $(STAMP)
	$(BIN)/python -m bench.service

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
