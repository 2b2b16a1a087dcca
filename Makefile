# Every target creates .venv and installs the project when missing, so a fresh
# clone needs nothing but `make build` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv build test quick soak lint check bench clean docs regen

$(STAMP): pyproject.toml setup.py compiler/incremental/_stats.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# Bytecode now, for machines where PYTHONDONTWRITEBYTECODE is set: otherwise
	# every run of pops compiles its own modules again.
	$(BIN)/python -m compileall -q compiler
	touch $(STAMP)

venv: $(STAMP)

build: $(STAMP)
	$(BIN)/pops build

test: $(STAMP)
	bash .ci/system-deps
	$(BIN)/python -m pytest -q

# The inner loop: every test but those marked browser, server or slow (tests/conftest.py
# marks them; docs/contributing.md). Bytecode on, even where PYTHONDONTWRITEBYTECODE is
# set, so pytest keeps the test modules it rewrote instead of rewriting all of them again.
QUICK := not browser and not server and not slow
quick: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -q -m "$(QUICK)"

# The engine's state machine (tests/test_engine_machine.py) with long histories
# for SOAK_SECONDS (default 10 minutes); each batch prints the seed that replays it
# (POPS_MACHINE_SEED=<seed> make soak).
SOAK_SECONDS ?= 600
soak: $(STAMP)
	POPS_SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/test_engine_machine.py

lint: $(STAMP)
	$(BIN)/ruff check compiler tests bench
	$(BIN)/ruff format --check compiler tests bench
	$(BIN)/mypy

check: $(STAMP)
	$(BIN)/pops validate --strict
	$(BIN)/pops fmt --check
	$(BIN)/pops schema --check
	$(BIN)/python -m compiler.authoring.settings_doc --check
	$(BIN)/pops build --check

# docs/settings.md, the table of every setting, from the model.
docs: $(STAMP)
	$(BIN)/python -m compiler.authoring.settings_doc

# After a change to the model or a template (a new option, say): everything
# generated from them, in one go: the schemas, docs/settings.md and the goldens (dist/).
regen: $(STAMP)
	$(BIN)/pops schema
	$(BIN)/python -m compiler.authoring.settings_doc
	$(BIN)/pops build

bench: $(STAMP)
	$(BIN)/python bench/run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
