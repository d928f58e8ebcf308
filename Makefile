# Tongban: `make run` sets up and serves with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Parallel workers for the test suite (2 cores on the reference machine).
TEST_WORKERS ?= 2
# Python caches compiled bytecode (.pyc) for every process these targets start: the test workers,
# the federation nodes' servers and workers, the CLI. Some environments set PYTHONDONTWRITEBYTECODE,
# which makes every process compile every module again (about 4 s per process start here).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup run test lint migrations-check openapi messages screenshots serve worker bench clean browser-deps

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml scripts/system-packages.txt
	scripts/install-system-packages
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required (python3.11 not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m compileall -q src
	mkdir -p var
	touch $(STAMP)

# The web server and the background runner (`tongban background`: task worker + periodic jobs)
# together; Ctrl-C (or the server stopping) stops the runner too.
run: setup
	$(BIN)/tongban migrate --no-input
	$(BIN)/tongban demo load
	@echo "Tongban is serving on http://$(HOST):$(PORT)/ (demo accounts are listed on the home page)"
	@$(BIN)/tongban background & runner=$$!; \
	trap 'kill -TERM $$runner 2>/dev/null; wait $$runner' EXIT INT TERM; \
	$(BIN)/tongban runserver $(HOST):$(PORT)

test: setup
	$(BIN)/ruff check .
	$(BIN)/tongban makemigrations --check --dry-run
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

# Translations: extract the UI strings into src/tongban/locale/en (zh-hans is the source language)
# and compile the committed .mo (needs gettext's msgfmt, a developer tool only). The portal is
# extracted whole; MESSAGE_PAGES (the staff consoles, the account pages, the notice and licence
# verification pages) only for their templates/ and views.py, plus console/models.py (the queue's
# labels shown on the window console); every other app (MESSAGE_APPS) is skipped (admin-only).
MESSAGE_PAGES := console accounts cases licences
MESSAGE_APPS := $(filter-out portal locale __pycache__ $(MESSAGE_PAGES),$(patsubst src/tongban/%/,%,$(wildcard src/tongban/*/)))
MESSAGE_PAGE_SKIP := $(patsubst src/tongban/%,%,$(filter-out %/templates %/views.py %/console/models.py,\
	$(foreach app,$(MESSAGE_PAGES),$(wildcard src/tongban/$(app)/*))))
messages: setup
	cd src/tongban && ../../$(BIN)/tongban makemessages -l en --no-obsolete --no-location \
		$(foreach app,$(MESSAGE_APPS),--ignore=$(app)/*) $(foreach path,$(MESSAGE_PAGE_SKIP),--ignore=$(path)) \
		--ignore=settings.py --ignore=urls.py --ignore=cli.py
	cd src/tongban && ../../$(BIN)/tongban compilemessages -l en

# Screenshots of the portal for docs/screenshots (the browser tests, saving their pictures).
screenshots: setup
	TONGBAN_SCREENSHOTS=1 $(BIN)/pytest -n 0 tests/browser

openapi: setup
	$(BIN)/tongban export_openapi docs/openapi.json

bench: setup
	$(BIN)/python -m benchmarks

worker: setup
	$(BIN)/tongban background

clean:
	rm -rf var/test_*.sqlite3*
