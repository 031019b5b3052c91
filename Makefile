# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
INDEX_DIR ?= index
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_QUESTION ?= Quels sont les trois modes d'action de l'intelligence économique ?

.PHONY: install run demo index test eval clean-index corpus reliability bench

install: $(STAMP)

# torch first, from its pinned CPU wheel, so nothing pulls a CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test,corpus,eval]"
	touch $(STAMP)

index: install
	$(BIN)/assistant index --index-dir $(INDEX_DIR)

# Builds the index when it is absent, or stale (built by another pipeline version) or damaged.
INDEX_OK = $(BIN)/python -c "from pathlib import Path; from assistant.config import load_settings; \
	from assistant.index import load_index; load_index(Path('$(INDEX_DIR)'), load_settings())" 2>/dev/null

# The chat and the HTTP API in one process, at http://$(HOST):$(PORT)/ (printed when ready).
run: install
	@$(INDEX_OK) || $(BIN)/assistant index --index-dir $(INDEX_DIR)
	$(BIN)/assistant serve --index-dir $(INDEX_DIR) --host $(HOST) --port $(PORT)

# One question in the terminal.
demo: install
	@$(INDEX_OK) || $(BIN)/assistant index --index-dir $(INDEX_DIR)
	$(BIN)/assistant ask --index-dir $(INDEX_DIR) "$(DEMO_QUESTION)"

test: install
	$(BIN)/python -m pytest

# Faults, load and hostile input, measured into eval/reliability.md and .json (about 10 min, plus about 10 min
# the first time for the e5-small index of the corpus). RELIABILITY_SCALE=0.1 is the bounded form CI runs.
reliability: install
	$(BIN)/python -m tools.reliability

eval: install
	$(BIN)/assistant eval

# Speed and scale side by side into eval/bench.md and bench.json (about 25 min on 2 cores). LangChain,
# the peer it is compared with, is installed for the benchmark only (the `bench` extra). BENCH_ARGS passes
# options (`.venv/bin/python -m benchmarks.bench --help`), e.g. a short run into another folder:
# make bench BENCH_ARGS="--out /tmp/bench --questions 20 --sizes 10000 --server-passages 0 --no-model-prep"
BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)

corpus: install
	$(BIN)/python tools/sample_corpus/build_pdfs.py

clean-index:
	rm -rf $(INDEX_DIR)/current $(INDEX_DIR)/gen-* $(INDEX_DIR)/.tmp-*
