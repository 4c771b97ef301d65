# newsradar developer commands. `make help` lists them.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED ?= ../shared

.PHONY: help run test lint eval-gate bench clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# Reinstalls when a compiled module's source changes: the C extensions would shadow it.
$(BIN)/newsradar: pyproject.toml setup.py $(wildcard src/newsradar/nlp/*.py)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

run: $(BIN)/newsradar ## install into .venv and run the service on the embedded broker
	$(BIN)/newsradar run

test: $(BIN)/newsradar ## install into .venv and run the whole test suite (what CI runs)
	$(BIN)/python -m pytest -q

lint: $(BIN)/newsradar ## ruff and mypy
	$(BIN)/ruff check setup.py src tests benchmarks
	$(BIN)/ruff format --check setup.py src tests benchmarks
	$(BIN)/mypy

eval-gate: $(BIN)/newsradar ## fail when analysis quality on the dev file drops
	$(BIN)/newsradar eval $(SHARED)/data/news_dev.jsonl --min-f1 0.95 --min-org-f1 0.97 --min-deals 0.95 --min-layoffs 0.95 --min-language-f1 0.93

bench: $(BIN)/newsradar ## run the analysis benchmark
	$(BIN)/python benchmarks/bench_analyze.py

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache build
	rm -f src/*.so src/newsradar/nlp/*.so
