# Every target sets up its own virtualenv (.venv) first: a fresh machine needs only Python 3.11.
# `make test` also installs what the test suite needs outside Python: Debian's Chromium and
# ChromeDriver for the dashboard's browser test (with apt-get; through sudo when not root).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?= -n 2

# The browser test's programs, the package installer and how to become root for it.
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver
APT_GET ?= apt-get
SUDO ?= sudo
USER_ID ?= $(shell id -u)
BROWSER_PACKAGES := chromium chromium-driver
APT_INSTALL = DEBIAN_FRONTEND=noninteractive $(APT_GET) -qq update && \
	DEBIAN_FRONTEND=noninteractive $(APT_GET) -qq install -y $(BROWSER_PACKAGES)

.PHONY: run test browser bench lint clean venv conformance

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
test: $(STAMP) browser
	CHROMIUM=$(CHROMIUM) CHROMEDRIVER=$(CHROMEDRIVER) APT_GET=$(APT_GET) $(BIN)/python -m pytest $(PYTEST_ARGS)

## install Debian's chromium and chromium-driver when either program is missing
browser:
ifneq ($(and $(wildcard $(CHROMIUM)),$(wildcard $(CHROMEDRIVER))),)
	@true
else ifeq ($(shell command -v $(APT_GET) 2>/dev/null),)
	@echo "no $(APT_GET) here (not Debian): Chromium cannot be installed, the browser test is deselected"
else ifeq ($(USER_ID),0)
	$(APT_INSTALL)
	@test -e $(CHROMIUM) && test -e $(CHROMEDRIVER) || \
		{ echo "$(BROWSER_PACKAGES) installed, but $(CHROMIUM) or $(CHROMEDRIVER) is still missing" >&2; exit 1; }
else ifneq ($(shell command -v $(SUDO) 2>/dev/null),)
	$(SUDO) sh -c '$(APT_INSTALL)'
	@test -e $(CHROMIUM) && test -e $(CHROMEDRIVER) || \
		{ echo "$(BROWSER_PACKAGES) installed, but $(CHROMIUM) or $(CHROMEDRIVER) is still missing" >&2; exit 1; }
else
	$(error Chromium is missing ($(CHROMIUM), $(CHROMEDRIVER)) and this user is not root and has no $(SUDO): run `apt-get install -y $(BROWSER_PACKAGES)` as root, then `make test` again)
endif

## replay the cassettes of the vendors' documented examples (conformance/<vendor>/) against the emulator;
## the test suite runs the same commands, so `make test` (and CI) fails when one differs
KNOWN_DIFFERENCES := conformance/known-differences.json
conformance: $(STAMP)
	@status=0; for dir in conformance/*/; do \
		$(BIN)/contact-emulator verify $$dir --known $(KNOWN_DIFFERENCES) || status=1; echo; \
	done; exit $$status

## measure start-up, reset, store and per-vendor request costs; writes bench/results.json
bench: $(STAMP)
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check emulator tests bench

clean:
	rm -rf $(VENV) build dist *.egg-info
