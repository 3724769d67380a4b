# The two commands of the README: `make serve` and `make test`. Everything else they need is set up here.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
MYPY_PATH := .mypy-path
ARGS ?=

.PHONY: serve test lint typecheck pytest browser bench fuzz ankiaddon clean

# The browser tests drive Debian's Chromium through Playwright (PyPI's wheel carries its driver; it never
# downloads a browser). `browser` installs Chromium when it is missing, as root on Debian; elsewhere it says
# so and the browser tests are skipped (they fail instead under CI=true).
CHROMIUM := /usr/bin/chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

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
	MYPYPATH=$(MYPY_PATH):tests:bench $(BIN)/mypy --explicit-package-bases tests bench scripts fuzz

# The add-on's tests boot real Anki, which allows one instance per process: they get their own run.
pytest: $(STAMP) browser
	$(BIN)/pytest --ignore=tests/gui $(ARGS)
	$(BIN)/pytest tests/gui $(ARGS)

browser:
	@if [ -x $(CHROMIUM) ]; then \
		echo "browser tests: $$($(CHROMIUM) --version 2>/dev/null || echo $(CHROMIUM))"; \
	elif [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "browser tests: $(CHROMIUM) is missing and installing it needs root and apt-get" \
			"(sudo apt-get install chromium); they will be skipped"; \
	else \
		echo "browser tests: installing Debian's chromium"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core \
			>/dev/null && $(CHROMIUM) --version 2>/dev/null; \
	fi

# `make bench ARGS=--quick` for a short run. The bench-only dependencies (chart, profilers) come with it.
BENCH_STAMP := $(VENV)/.bench-stamp

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py $(ARGS)

# Long fuzz campaigns (`make test` runs each briefly): the property tests and schemathesis with Hypothesis's
# `fuzz` profile, then each atheris target (fuzz/run.py) for FUZZ_SECONDS. `make fuzz FUZZ_SECONDS=3600`.
FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?= http ws params

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest tests/test_fuzz_http.py tests/test_fuzz_ws.py tests/test_fuzz_params.py \
		tests/test_openapi.py $(ARGS)
	@$(BIN)/python -c 'import atheris' 2>/dev/null || { echo "fuzz: atheris is not installed (pip install atheris)"; exit 1; }
	for target in $(FUZZ_TARGETS); do $(BIN)/python fuzz/run.py $$target -max_total_time=$(FUZZ_SECONDS) || exit 1; done

ankiaddon: $(STAMP)
	$(BIN)/python scripts/build_ankiaddon.py

clean:
	rm -rf $(VENV) $(MYPY_PATH) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
