# Only python3 (>= 3.11) and make are needed: every target builds the virtualenv it uses.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 3000
NOTEBOOK_PORT ?= 8888

.PHONY: install install-dev demo notebook test ui simulator bench bench-ingest bench-semantic bench-freshness bench-inputs bench-faults clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $(VENV)/.installed-notebook $@

$(VENV)/.installed-notebook: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[notebook]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## Set up, materialise every asset from the built-in simulator into data/testio.duckdb, run the checks, print a summary.
demo: install
	$(BIN)/python -m testio_assets.demo

## Open JupyterLab on $(HOST):$(NOTEBOOK_PORT) at the example notebook, with a kernel of this project's environment.
notebook: $(VENV)/.installed-notebook
	$(BIN)/jupyter lab --ServerApp.ip=$(HOST) --ServerApp.port=$(NOTEBOOK_PORT) --ServerApp.root_dir="$(CURDIR)" \
		--ServerApp.open_browser=$(if $(NO_BROWSER),False,True) $(if $(filter 0,$(shell id -u)),--allow-root) \
		semantic/examples/metrics_tour.ipynb

## Set up and run the test suite.
test: install-dev
	$(BIN)/python -m pytest -q

# The Dagster instance: an exported DAGSTER_HOME (a folder holding its own dagster.yaml, e.g.
# testio_assets/deploy/dagster.postgres.yaml copied there) wins; otherwise the project folder and dagster.yaml.
UI_DAGSTER_HOME := $(or $(abspath $(strip $(DAGSTER_HOME))),$(CURDIR))

## Open the Dagster UI (webserver + daemon) on $(HOST):$(PORT); storage persists in .dagster/ (or DAGSTER_HOME's instance).
ui: install
	mkdir -p .dagster
	DAGSTER_HOME="$(UI_DAGSTER_HOME)" $(BIN)/python -m testio_assets.instance
	DAGSTER_HOME="$(UI_DAGSTER_HOME)" $(BIN)/dagster dev -w workspace.yaml -h $(HOST) -p $(PORT)

## Serve the TestIO simulator on 127.0.0.1 (see README for options).
simulator: install
	$(BIN)/python -m testio_assets.simulator --host 127.0.0.1 --port 8765

bench: bench-ingest bench-semantic bench-freshness bench-inputs bench-faults

bench-ingest: install-dev
	$(BIN)/python benchmarks/ingest_full_sync.py

bench-semantic: install-dev
	$(BIN)/python benchmarks/semantic_compile.py
	$(BIN)/python benchmarks/semantic_execute.py

bench-freshness: install-dev
	$(BIN)/python benchmarks/incremental_refresh.py
	$(BIN)/python benchmarks/alert_latency.py

## Bad arguments to the query API and mutated model files by the thousand (issue 7, "Validated inputs").
bench-inputs: install-dev
	$(BIN)/python benchmarks/fault_inputs.py

## The fault table: crashes, wrong API answers, locks, damaged files, full disks (README).
bench-faults: install-dev
	$(BIN)/python benchmarks/fault_table.py

clean:
	rm -rf $(VENV) data .dagster
