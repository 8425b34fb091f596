# Every target that runs code first makes sure .venv matches the lock.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The benchmark lock is the test lock plus dlt: tests run the benchmark harness at its smoke size.
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: install test test-fast lint demo sandbox dev bench lock clean dbt-sources

install: $(STAMP)

# pip installs uv alone (its own hash-locked file); uv installs the locks, several times faster than pip. Compiled to
# bytecode as pip does: where PYTHONDONTWRITEBYTECODE is set no process would keep its compiled modules, and every one
# of the suite's processes would compile dagster and dbt again (about twice the seconds of their imports).
UV := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python

$(STAMP): requirements.lock requirements-uv.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-uv.lock
	$(UV) --require-hashes -r requirements.lock
	$(UV) --no-deps -e .
	$(BIN)/python -m mida_pipeline.defs.dbt_project
	@touch $(STAMP)

# Both CPUs (pytest-xdist; a module's tests share a worker, mida_pipeline_tests/scheduling.py), and the 15 slowest
# tests at the end, so a test that grows slow is seen the day it does. TEST_ARGS adds to it (-k, a path, -x).
XDIST := -n $(or $(TEST_WORKERS),2) --dist loadgroup --no-loadscope-reorder
# The tests' folders in memory when /dev/shm has room (8 GB; a run writes about 1): a pipeline's SQLite run storage
# and DuckDB files commit hundreds of times a sync, and on disk each commit waits for it. TEST_TMPDIR overrides it.
TEST_TMPDIR ?= $(shell df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 && $$4 > 8000000 { print "/dev/shm" }')
PYTEST := $(if $(TEST_TMPDIR),TMPDIR=$(TEST_TMPDIR)) $(BIN)/python -m pytest -q $(XDIST) --durations=15
test: $(BENCH_STAMP)
	$(PYTEST) $(TEST_ARGS)

# The edit-test loop: no whole pipelines, no dbt, no Dagster runs, no browser, no PostgreSQL.
test-fast: $(BENCH_STAMP)
	$(PYTEST) -m "not (slow or dbt or dagster or browser or postgres)" $(TEST_ARGS)

# dbt's source YAML for the raw views, rewritten from the lake's declarations (mida_pipeline/lake/schemas.py).
dbt-sources: $(STAMP)
	$(BIN)/python -m mida_pipeline.lake.dbt_sources

# Python by ruff, lint and format ([tool.ruff] in pyproject.toml), the dbt models by sqlfluff (.sqlfluff).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt/models

demo: $(STAMP)
	$(BIN)/mida-pipeline demo

sandbox: $(STAMP)
	$(BIN)/mida-pipeline sandbox --port 8765

dev: $(STAMP)
	$(BIN)/dagster dev -w workspace.yaml

# Benchmarks compare against dlt, which only the benchmark lock brings in (never a runtime dependency).

$(BENCH_STAMP): requirements-bench.lock $(STAMP)
	$(UV) --require-hashes -r requirements-bench.lock
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# Re-pin after editing pyproject.toml (or UV_VERSION): hashes, and no index addresses.
UV_VERSION := 0.13.9
COMPILE := $(BIN)/uv pip compile --generate-hashes --python-version 3.11 --custom-compile-command "make lock"
lock: $(STAMP)
	$(COMPILE) pyproject.toml --extra test -o requirements.lock
	$(COMPILE) pyproject.toml --extra test --extra bench -o requirements-bench.lock
	echo "uv==$(UV_VERSION)" | $(COMPILE) - -o requirements-uv.lock

clean:
	rm -rf $(VENV) data .pytest_cache dbt/target dbt/logs
