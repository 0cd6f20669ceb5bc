# actorgraph: `make demo` runs the main job on the embedded store, `make test` runs the tests,
# `make lint` the checks CI runs first (`make -k lint` reports every check, not only the first).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: install demo test test-fast lint lint-ruff lint-format lint-types lint-imports bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned: PyPI's build (about 3 GB with its CUDA libraries; it runs on the CPU),
	# so that resolving the project's own dependencies never picks another torch and fetches it too.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test,notebooks]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/actorgraph demo

# --durations: the slowest tests in the log, to size pyproject's per-test `timeout` by.
test: install
	$(BIN)/python -m pytest -q --durations=25

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

lint: lint-ruff lint-format lint-types lint-imports

lint-ruff: install
	$(BIN)/ruff check .

lint-format: install
	$(BIN)/ruff format --check --output-format concise .

# mypy and import-linter cannot see the package-dir layout through the editable install:
# tools/lint_tree.py stages the package as installed under build/lint/ and names source files.
lint-types: install
	$(BIN)/python tools/lint_tree.py mypy

lint-imports: install
	$(BIN)/python tools/lint_tree.py imports

# PNGs of each console page (docs/screenshots/, shown in the README) from headless Chromium on
# the tests' small trained world; needs Debian's chromium and chromium-driver.
.PHONY: screenshots
screenshots: install
	$(BIN)/python -m tools.screenshots

bench: install
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/attribution.py

# Neo4j Community 5.26 for the current $$ACTORGRAPH_HOME (default ./.actorgraph), built from
# deploy/neo4j with Maven: `make neo4j-up` waits until Bolt answers and writes
# $$ACTORGRAPH_HOME/neo4j/neo4j.env; `set -a; . .actorgraph/neo4j/neo4j.env; set +a` points every
# command at it. `make neo4j-down` stops it.
.PHONY: neo4j-up neo4j-down
neo4j-up: install
	PYTHON=$(BIN)/python deploy/neo4j/neo4j.sh up

neo4j-down:
	deploy/neo4j/neo4j.sh down

clean:
	-deploy/neo4j/neo4j.sh down
	-$(BIN)/actorgraph store stop
	rm -rf .actorgraph build/lint
