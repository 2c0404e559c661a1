# Build glue for the Lecture 28 companion. `make lab` and `make test` are all a learner or
# CI needs: each first sets up .venv from the pinned requirements when it is missing or
# older than them. The README lists the plain pip / jupyter / pytest commands behind each
# target, for machines without make.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NBVAL  := $(BIN)/pytest notebooks -q

.PHONY: env lab test lint unit nbval nbval-one-thread browser site refresh nav benchmark clean

env: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; assert v >= (3, 11), f"Python 3.11 or newer is needed, found {v.major}.{v.minor}"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-input -r requirements-dev.txt
	@# Build matplotlib's font cache now: its one-time notice must not land in a notebook.
	$(BIN)/python -c "import matplotlib.pyplot"
	touch $@

## Open the notebooks in JupyterLab, at the first one (as root, e.g. in a container, JupyterLab
## refuses to start without --allow-root).
lab: env
	$(BIN)/jupyter lab notebooks/01_imports.ipynb $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

## Everything CI runs: lint, unit and hygiene tests, strict nbval (two threads, then one), browser,
## and the static site (built with warnings as errors and read in Chromium by tests/test_site.py).
test: lint unit nbval-one-thread

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Unit tests, notebook hygiene, navigation, the browser checks (JupyterLab and the static site,
## which tests/test_site.py builds into _build/site/ first), and strict nbval (default threads).
unit: env
	$(BIN)/pytest

## Strict nbval over every notebook once more, on one thread: outputs must not depend on it.
nbval-one-thread: env
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(NBVAL)

nbval: env
	$(NBVAL)

browser: env
	$(BIN)/pytest tests/test_browser.py tests/test_site.py -m browser

## The static site, into _build/site/: from the stored outputs, nothing executed, no network.
## View it with `python -m http.server -d _build/site`; publish the folder on any static host.
site: env
	$(BIN)/python -m tools.site

## Re-execute every notebook in place (fresh kernel each, in order) to refresh stored outputs.
refresh: env
	$(BIN)/python -m tools.refresh

## Rewrite the notebooks' header, Colab and footer cells and the README's lecture map.
nav: env
	$(BIN)/python -m tools.navigation

## Print the speed figures: notebooks against their floor, training against the compute floor
## and the PyTorch MNIST example.
benchmark: env
	$(BIN)/python -m benchmarks.notebook_times
	$(BIN)/python -m benchmarks.training_speed

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info _build
