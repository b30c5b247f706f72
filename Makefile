# Two commands: `make demo` and `make test`. Both create .venv and install into it when needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test bench lint typecheck check-content clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

.env: | $(STAMP)
	$(BIN)/ourvoice init

demo: setup .env
	$(BIN)/ourvoice db upgrade
	$(BIN)/ourvoice demo setup
	OURVOICE_DEMO=true $(BIN)/ourvoice run

# Lint and the type-check ratchet first (seconds), then the suite.
test: setup
	$(BIN)/ruff check .
	$(BIN)/python tools/mypy_gate.py
	$(BIN)/python -m pytest -n auto --maxprocesses=4 --dist loadfile; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

bench: setup
	$(BIN)/python -m bench

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/python tools/mypy_gate.py

check-content: setup
	$(BIN)/ourvoice content check

clean:
	rm -rf $(VENV) var .pytest_cache
