# Every target that runs code first makes sure .venv matches the lock.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The benchmark lock is the test lock plus dlt: tests run the benchmark harness at its smoke size.
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: install test test-fast lint demo sandbox dev bench lock clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m mida_pipeline.defs.dbt_project
	@touch $(STAMP)

test: $(BENCH_STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(BENCH_STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

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
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-bench.lock
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# Re-pin after editing pyproject.toml: hashes, and no index addresses.
lock:
	uv pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11 -o requirements.lock
	uv pip compile pyproject.toml --extra test --extra bench --generate-hashes --python-version 3.11 -o requirements-bench.lock

clean:
	rm -rf $(VENV) data .pytest_cache dbt/target dbt/logs
