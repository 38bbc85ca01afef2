# Every target sets up its own virtualenv (.venv) first: a fresh machine needs only Python 3.11.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?= -n 2

.PHONY: run test bench lint clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

## serve every vendor with demo data (EMULATOR_PORT, EMULATOR_HOST, EMULATOR_FIXTURE, ... apply)
run: $(STAMP)
	$(BIN)/contact-emulator serve

## set up and run the test suite
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## measure start-up, reset, store and per-vendor request costs; writes bench/results.json
bench: $(STAMP)
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check emulator tests bench

clean:
	rm -rf $(VENV) build dist *.egg-info
