# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck install migrate demo bench check clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Development defaults: an embedded SQLite database and filesystem Celery broker under var/.
run: export DEBUG ?= 1
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

# Lint first, so a finding fails fast.
lint: install
	$(BIN)/ruff check .

# mypy imports the settings (django-stubs).
typecheck: export SECRET_KEY ?= test-only-secret-key-never-used-outside-the-test-suite-0123456789
typecheck: install
	$(BIN)/mypy

test: export SECRET_KEY ?= test-only-secret-key-never-used-outside-the-test-suite-0123456789
# The suite on both cores, the browser crawl and journeys on both cores (each worker has its own
# database and live server), then the live-worker tests one at a time (they share the broker's
# queues). PYTEST_ARGS runs pytest once, as given.
test: lint typecheck
ifeq ($(strip $(PYTEST_ARGS)),)
	$(BIN)/pytest -n 2 -m "not e2e and not worker"
	$(BIN)/pytest -n 2 --dist worksteal -m "e2e and not worker"
	$(BIN)/pytest -m "worker"
else
	$(BIN)/pytest $(PYTEST_ARGS)
endif

check: install
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

bench: export SECRET_KEY ?= bench-only-secret-key-never-used-outside-benchmarks-0123456789
bench: install
	$(BIN)/python -m bench $(SECTIONS)

clean:
	rm -rf $(VENV) var
