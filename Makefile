# The two commands: `make demo` runs the main job, `make test` runs every check.
# Each sets itself up from nothing (venv, Python packages, Debian packages).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit docs docs-serve bench system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,docs,jax,dask,demo,progress,redis,postgres,json,images,audio]'
	touch $(STAMP)

system-deps:
	@bash scripts/system-deps.sh chromium fonts-wqy-zenhei redis-server postgresql nginx

demo: $(STAMP)
	$(PY) -m examples.search_as_you_type

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP) system-deps
	$(PY) -m pytest -q

# the site from the docs and the docstrings; --strict: a broken link or reference fails the build
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

docs-serve: $(STAMP)
	$(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8000

test: lint typecheck unit docs

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache site
