# Frontline developer commands. `make run` starts the demo; `make test` is what CI runs.
#
# Stamps under .venv/ and node_modules/ make re-runs fast: a step repeats only when
# the file it depends on (pyproject.toml, package-lock.json) changed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PYTEST := $(BIN)/pytest
CI ?=
# Tests use two processes; CI machines have two cores.
PYTEST_WORKERS ?= 2
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
CI_REDIS_URL ?= redis://127.0.0.1:6379/0
CI_MQTT_URL ?= mqtt://127.0.0.1:1883
SCHEMA := docs/api/openapi.yaml
IS_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo yes)

.PHONY: help install run run-prod serve test lint format schema schema-check messages translations \
	browser-deps pg-client bench clean

help:
	@echo "make run      install, migrate, load the demo company, start web + worker + beat"
	@echo "make run-prod the production profile here: gunicorn, Celery workers + beat, PostgreSQL, Redis"
	@echo "make test     lint, migration and schema checks, the test suite (CI=true: also PostgreSQL)"
	@echo "make lint     ruff check + ruff format --check"
	@echo "make format   ruff format + ruff check --fix"
	@echo "make schema   regenerate $(SCHEMA)"
	@echo "make messages extract translatable strings into frontline/locale (zh_Hans)"
	@echo "make bench    run the benchmarks in bench/"
	@echo "make clean    remove the virtualenv, node_modules, var/ and caches"

# ---------------------------------------------------------------- install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

node_modules/.installed: package.json $(wildcard package-lock.json)
	@if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; \
	else npm install --no-audit --no-fund --loglevel=error; fi
	@touch $@

install: $(VENV)/.installed node_modules/.installed translations pg-client

# compilemessages needs GNU gettext's msgfmt; install it when we can, skip with a note otherwise.
translations: $(VENV)/.installed
	@if ! command -v msgfmt >/dev/null; then \
	  if [ "$(IS_ROOT)" = yes ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null) \
	      || echo "note: could not install gettext; translations not compiled"; \
	  else echo "note: msgfmt (gettext) is missing and we are not root; translations not compiled"; fi; \
	fi
	@if command -v msgfmt >/dev/null && [ -d frontline/locale ]; then \
	  $(MANAGE) compilemessages -v0 --ignore=.venv --ignore=node_modules; fi

# `frontline backup` / `restore` on PostgreSQL run pg_dump, pg_restore and psql; install
# Debian's client programs when we can, skip with a note otherwise.
pg-client:
	@if ! command -v pg_dump >/dev/null || ! command -v pg_restore >/dev/null \
	    || ! command -v psql >/dev/null; then \
	  if [ "$(IS_ROOT)" = yes ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null) \
	      || echo "note: could not install postgresql-client; backup/restore on PostgreSQL need it"; \
	  else echo "note: pg_dump (postgresql-client) is missing and we are not root: backup/restore on PostgreSQL need it"; fi; \
	fi

# ---------------------------------------------------------------- run

run: install
	$(MANAGE) migrate --noinput -v0
	$(MANAGE) demo --if-empty
	$(MANAGE) collectstatic --noinput -v0
	$(BIN)/frontline serve --with-worker --host 127.0.0.1 --port 8000

serve: run

# The production profile against this machine's PostgreSQL and Redis (docs/production.md):
# bin/run-prod sets the environment, creates the database, then `frontline serve --prepare`.
run-prod: install
	$(BIN)/python bin/run-prod

# ---------------------------------------------------------------- checks

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The committed OpenAPI schema is generated under the test profile so it does not
# depend on the developer's environment.
schema: $(VENV)/.installed
	@mkdir -p $(dir $(SCHEMA))
	FRONTLINE_ENV=test $(MANAGE) spectacular --validate --fail-on-warn --file $(SCHEMA)

schema-check: $(VENV)/.installed
	@tmp=$$(mktemp --suffix=.yaml); trap 'rm -f $$tmp' EXIT; \
	FRONTLINE_ENV=test $(MANAGE) spectacular --validate --fail-on-warn --file $$tmp && \
	if ! diff -u $(SCHEMA) $$tmp; then \
	  echo "$(SCHEMA) is out of date: run 'make schema' and commit it"; exit 1; fi

browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$(IS_ROOT)" = yes ]; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: /usr/bin/chromium is missing and we are not root: browser tests will skip"; fi; \
	fi

# Without CI the integration tests skip when their server is not configured. With
# CI=true the SQLite pass leaves them out and the PostgreSQL pass requires them.
test: install browser-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	FRONTLINE_ENV=test $(MANAGE) makemigrations --check --dry-run
	@$(MAKE) --no-print-directory schema-check
	bin/check-translations
ifeq ($(CI),true)
	$(PYTEST) -n $(PYTEST_WORKERS) -m "not integration"
	DATABASE_URL=$(PG_URL) REDIS_URL=$(CI_REDIS_URL) MQTT_URL=$(CI_MQTT_URL) \
	  $(PYTEST) -n $(PYTEST_WORKERS)
else
	$(PYTEST) -n $(PYTEST_WORKERS)
endif

# ---------------------------------------------------------------- other

IGNORE := --ignore=.venv --ignore=node_modules --ignore=var --ignore=bench --ignore=tests \
	--ignore='*/tests/*' --ignore='*/testing/*'
messages: $(VENV)/.installed
	@mkdir -p frontline/locale
	$(MANAGE) makemessages -l zh_Hans $(IGNORE) -e html,txt,py
	@if find frontline -path '*/static/*' -name '*.js' -not -path '*/vendor/*' | grep -q .; then \
	  $(MANAGE) makemessages -d djangojs -l zh_Hans $(IGNORE) --ignore='*/vendor/*'; fi

# The desk benchmark needs PostgreSQL (BENCH_DATABASE_URL, default the local server):
# skipped with a message when none answers. DESK_BENCH=--tickets 100000 for a quick run.
DESK_BENCH ?= --tickets 1000000 --requests 200
# The load benchmark (locust against gunicorn, django-helpdesk beside it) needs PostgreSQL,
# Redis, and PyPI once for django-helpdesk's virtualenv. LOAD_BENCH=--scale 0.1 for a quick run.
LOAD_BENCH ?=
bench: install
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	$(BIN)/python bench/run.py
	$(BIN)/python bench/desk.py --skip-unreachable $(DESK_BENCH)
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/inspections.py --skip-unreachable
	$(BIN)/python bench/sync.py --skip-unreachable
	$(BIN)/python bench/load.py --skip-unreachable $(LOAD_BENCH)

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .ruff_cache bench/results
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
