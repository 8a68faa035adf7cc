# The two commands of the README. Both set up .venv on first use (CPU torch first, then textsiam).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint

$(BIN)/textsiam: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/textsiam

## demo: train a small Siamese BiLSTM on the bundled sample pairs (offline, about a minute on 2 cores)
demo: $(BIN)/textsiam
	$(BIN)/textsiam train --data sample --output models/sample --overwrite

## test: the whole test suite (offline; tests needing ../shared/data skip when it is absent)
test: $(BIN)/textsiam
	$(BIN)/python -m pytest -q

lint: $(BIN)/textsiam
	$(BIN)/ruff check textsiam tests scripts
