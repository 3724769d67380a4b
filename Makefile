# The two commands of the README: `make serve` and `make test`. Everything else they need is set up here.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
MYPY_PATH := .mypy-path
ARGS ?=

.PHONY: serve test lint typecheck pytest bench ankiaddon clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# mypy cannot follow setuptools' editable-install hook, so it reads the package through a link named like it.
$(MYPY_PATH)/ankiconnect_live:
	@mkdir -p $(MYPY_PATH)
	@ln -sfn .. $(MYPY_PATH)/ankiconnect_live

serve: $(STAMP)
	$(BIN)/ankiconnect-live serve $(ARGS)

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) $(MYPY_PATH)/ankiconnect_live
	MYPYPATH=$(MYPY_PATH) $(BIN)/mypy -p ankiconnect_live
	MYPYPATH=$(MYPY_PATH):tests:bench $(BIN)/mypy --explicit-package-bases tests bench scripts

# The add-on's tests boot real Anki, which allows one instance per process: they get their own run.
pytest: $(STAMP)
	$(BIN)/pytest --ignore=tests/gui $(ARGS)
	$(BIN)/pytest tests/gui $(ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py $(ARGS)

ankiaddon: $(STAMP)
	$(BIN)/python scripts/build_ankiaddon.py

clean:
	rm -rf $(VENV) $(MYPY_PATH) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
