# Two commands for a newcomer: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench venv lint fmt worker web clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo "Starting the Celery worker (with the job sweeper) and the web server on http://$(HOST):$(PORT)"
	@$(VENV)/bin/celery -A studio worker --beat --loglevel=info --concurrency=2 \
	    --schedule=.data/celerybeat-schedule & worker=$$!; \
	trap "kill $$worker 2>/dev/null; wait $$worker 2>/dev/null" EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

test: venv
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: venv
	$(PY) -m bench $(BENCH_ARGS)

lint: venv
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

fmt: venv
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .data .pytest_cache

# One real image per configured engine (credentials from the environment), with timings.
.PHONY: smoke-engines
smoke-engines: venv
	$(PY) -m bench.smoke_engines
