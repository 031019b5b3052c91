# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
INDEX_DIR ?= index
DEMO_QUESTION ?= Quels sont les trois modes d'action de l'intelligence économique ?

.PHONY: install run index test eval clean-index corpus

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

run: install
	test -e $(INDEX_DIR)/current || $(BIN)/assistant index --index-dir $(INDEX_DIR)
	$(BIN)/assistant ask --index-dir $(INDEX_DIR) "$(DEMO_QUESTION)"

test: install
	$(BIN)/python -m pytest

eval: install
	$(BIN)/assistant eval

corpus: install
	$(BIN)/python tools/sample_corpus/build_pdfs.py

clean-index:
	rm -rf $(INDEX_DIR)/current $(INDEX_DIR)/gen-* $(INDEX_DIR)/.tmp-*
