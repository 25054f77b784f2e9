# Two entry points for a fresh machine: `make demo` and `make test`.
# Everything they need is installed here, from the project's own files.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO_DIR := examples/demo

SPARK_INSTALLED := $(VENV)/.installed-spark

.PHONY: setup system-deps demo test test-fast test-postgres test-spark test-all lint lint-code bench bench-tests bench-scale bench-adapters clean

$(INSTALLED): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

setup: $(INSTALLED)

demo: setup
	$(BIN)/python scripts/run_demo.py

# Debian packages the tests drive for real (headless Chromium for the docs page).
system-deps:
	bash scripts/install_system_deps.sh

# loadfile: a module's one shared dbt build runs on one worker, not once per worker.
# The postgres-marked tests need a server: `make test-postgres` installs and starts one.
test: setup system-deps lint-code
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not postgres and not spark" tests

# The same fixture projects on DuckDB and a throwaway PostgreSQL server (tests/postgres_server.py
# starts it with initdb + pg_ctl in a temp dir and stops it when the session ends, pass or fail).
test-postgres: setup
	bash scripts/install_system_deps.sh postgres
	$(BIN)/python -m pytest -m postgres tests

# dbt-spark + pyspark on top of the main pins, Java from Debian; the tests start one local Spark
# Connect server (tests/spark_server.py) that every dbt run shares, stopped when the session ends.
$(SPARK_INSTALLED): $(INSTALLED) requirements-spark.lock
	$(BIN)/python -m pip install --quiet -c requirements.lock -r requirements-spark.lock
	touch $@

test-spark: $(SPARK_INSTALLED)
	bash scripts/install_system_deps.sh java
	$(BIN)/python -m pytest -m spark tests

test-all: test test-postgres test-spark

# The edit loop: no dbt run, no browser (conftest.py fails a test that runs dbt unmarked).
test-fast: setup
	$(BIN)/python -m pytest -n 2 -m "not dbt and not browser and not postgres and not spark and not install" tests

# ruff (with a complexity ceiling) and mypy --strict, configured in pyproject.toml.
lint-code: setup
	$(BIN)/ruff check python_checks tests scripts bench
	$(BIN)/mypy

# ... and sqlfluff over the demo's SQL (a test: `make test` runs it with the rest).
lint: lint-code
	$(BIN)/python -m pytest tests/test_sqlfluff.py

# Issue 14: whole-process check at 2,000/20,000/50,000 models, cold/warm SQL cache, against
# dbt-score and dbt-colibri (each in its own venv under bench/out/) and dbt parse; appends its
# table to bench/results/check_scale.md. Minutes, not part of `make test`.
bench-scale: setup
	$(BIN)/python bench/bench_check_scale.py

# Each benchmark prints ratios against a baseline measured in the same invocation.
bench: setup bench-tests
	$(BIN)/python bench/bench_check.py
	$(BIN)/python bench/bench_compile.py
	$(BIN)/python bench/bench_pseudonymize.py --rows 300000
	$(BIN)/python bench/bench_anonymize.py
	$(BIN)/python bench/bench_docs_site.py
	$(BIN)/python bench/bench_design_choices.py

# The privacy tests' compiled SQL vs the bare GROUP BY (1M and 10M rows) and vs pycanon (1M);
# writes bench/results/privacy_tests.md. Minutes, not part of `make test`.
bench-tests: setup
	$(BIN)/python bench/bench_privacy_tests.py

# The k_anonymity test's compiled SQL on 10M generated rows on every adapter (DuckDB, a throwaway
# PostgreSQL started as the tests start it) vs the bare GROUP BY on the same adapter; writes
# bench/results/adapters.md. Minutes, not part of `make test`. The Spark leg (needs the
# test-spark installs): $(BIN)/python bench/bench_adapters.py --legs duckdb spark
bench-adapters: setup
	bash scripts/install_system_deps.sh postgres
	$(BIN)/python bench/bench_adapters.py

clean:
	rm -rf $(VENV) $(DEMO_DIR)/target $(DEMO_DIR)/dbt_packages $(DEMO_DIR)/logs $(DEMO_DIR)/demo.duckdb $(DEMO_DIR)/seeds/*.csv bench/out
