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
	@# pymatting compiles its numba kernels on first import (~45 s on one core) and caches them in
	@# site-packages: pay that once here, not in the first background-removal job.
	@echo "Compiling pymatting's numba kernels once (about a minute)..."
	$(PY) -c "import pymatting"
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

# The studio as its users see it: DEBUG is off unless the environment says DEBUG=true
# (studio/settings.py), so errors show the studio's own pages and WhiteNoise serves static files.
run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo "Starting the Celery worker (with beat running the job sweeper) and the web server (DEBUG=$${DEBUG:-false})."
	@echo "Open http://$(HOST):$(PORT)/ and log in as demo@example.com / demo-studio-2026 (Ctrl-C stops both)."
	@# The beat schedule file and the filesystem broker live under STUDIO_DATA_DIR (see settings).
	@$(VENV)/bin/celery -A studio worker --beat --loglevel=info --concurrency=2 & worker=$$!; \
	trap "kill $$worker 2>/dev/null; wait $$worker 2>/dev/null" EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

test: venv
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	@# pytest exit 5 = no tests collected: a wrong path or marker, never a pass.
	@$(VENV)/bin/pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests (exit 5): check PYTEST_ARGS" >&2; fi; \
	exit $$status

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
