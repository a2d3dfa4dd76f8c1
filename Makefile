# The two commands a newcomer needs: `make demo` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_ROWS ?= 2000
DBT := cd dbt_project && ../$(BIN)/dbt

.PHONY: setup demo test bench bench-1m lint clean

setup: $(STAMP)

# Re-created when pyproject.toml or constraints.txt changes; only package registries are contacted.
# constraints.txt holds the exact versions tested here; pyproject.toml the ranges users get.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[local,dev,lake]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/bedrock-ext generate --rows $(DEMO_ROWS) --adversarial --out dbt_project/data/transcripts.parquet
	$(DBT) deps --profiles-dir .
	$(DBT) build --profiles-dir .
	@echo "== a second build: nothing new to ask, but the evaluation's judge grades the answers the first one got"
	$(DBT) build --profiles-dir .
	$(BIN)/python scripts/show_demo.py
	$(BIN)/bedrock-ext report --duckdb dbt_project/target/call_summaries_bi.duckdb --out dbt_project/target/report.html

# Four workers on two cores: most of a test's time is a dbt build waiting on emulated jobs, S3 or a
# subprocess (figures in docs/benchmarks.md, 2026-12-04).
TEST_WORKERS ?= 4

test: $(STAMP)
	$(BIN)/pytest -q --durations=15 -n $(TEST_WORKERS) --dist worksteal

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

# The dbt builds at 1,000,000 transcripts (full, no-op, +1%; time, peak RSS of the dbt process and,
# apart, of the emulator serving S3 and Bedrock in its own process): about 12 minutes. Without
# --served-emulator the emulator is embedded in dbt (the local target) and counted in dbt's RSS.
bench-1m: $(STAMP)
	$(BIN)/python scripts/bench.py --rows 1000000 --only dbt --served-emulator

lint: $(STAMP)
	$(BIN)/ruff check bedrock_ext scripts tests

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs dbt_project/data dbt_project/dbt_packages
