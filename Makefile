# Build glue for the Lecture 28 companion. `make lab` and `make test` are all a learner or
# CI needs: `make lab` sets up .venv from the learners' requirements.txt, `make test` from the
# exact requirements-lock.txt, each when .venv is missing, broken or older than the file.
# The README lists the plain pip / jupyter / pytest commands behind each target.

# The interpreter: PYTHON=/path/to/python, or the first of these that is Python 3.11-3.13
# (3.11 first: the stored outputs were produced with it).
CANDIDATES := python3.11 python3.12 python3.13 python3 python
VERSION_OK := import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))
ifeq ($(origin PYTHON),undefined)
PYTHON := $(firstword $(foreach p,$(CANDIDATES),$(shell $(p) -c '$(VERSION_OK)' >/dev/null 2>&1 && echo $(p))))
endif
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --no-input
NBVAL  := $(BIN)/pytest notebooks -q
# A .venv without a working pip (python3-venv missing when it was made, an interrupted build, a
# removed interpreter) is made again from scratch.
VENV_BROKEN := $(if $(shell $(BIN)/python -m pip --version 2>/dev/null),,yes)

.PHONY: lab env test lint unit nbval nbval-one-thread rerun browser site platforms lock refresh nav benchmark colab-check torch-range clean FORCE

define make_venv
	@$(if $(PYTHON),,echo "make: no Python 3.11, 3.12 or 3.13 found (tried $(CANDIDATES)); install one, or run make PYTHON=/path/to/python3.12" >&2; exit 1)
	@$(PYTHON) -c '$(VERSION_OK)' || { echo "make: PYTHON=$(PYTHON) is not Python 3.11, 3.12 or 3.13" >&2; exit 1; }
	@if [ -n "$(VENV_BROKEN)" ]; then \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip --version >/dev/null 2>&1 \
	  || { rm -rf $(VENV); echo "make: '$(PYTHON) -m venv' could not make a virtual environment with pip (on Debian or Ubuntu: sudo apt install python3-venv)" >&2; exit 1; }; \
	fi
endef

## The learners' layer only: what the notebooks need, no test or lint tools.
$(VENV)/.learners: requirements.txt pyproject.toml $(if $(VENV_BROKEN),FORCE)
	$(make_venv)
	$(PIP) -r requirements.txt
	@# Build matplotlib's font cache now: its one-time notice must not land in a notebook.
	$(BIN)/python -c "import matplotlib.pyplot"
	touch $@

## The exact lock CI and strict nbval use, with every tool.
$(VENV)/.lock: requirements-lock.txt pyproject.toml $(if $(VENV_BROKEN),FORCE)
	$(make_venv)
	$(PIP) -r requirements-lock.txt
	$(BIN)/python -c "import matplotlib.pyplot"
	touch $@

env: $(VENV)/.lock

## Open the notebooks in JupyterLab, at the first one (as root, e.g. in a container, JupyterLab
## refuses to start without --allow-root).
lab: $(VENV)/.learners
	$(BIN)/jupyter lab notebooks/01_imports.ipynb $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

## Everything CI runs: lint, unit and hygiene tests, strict nbval (two threads, then one), browser,
## the static site (built with warnings as errors and read in Chromium by tests/test_site.py),
## the re-run check and the platform check.
test: lint unit nbval-one-thread rerun platforms

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

## Every cell run again as learners do (twice in a row; the whole notebook twice; then backwards),
## naming each cell that fails (tools/rerun.py). The notebooks it covers in `make test`: list
## them here, or leave RERUN_NOTEBOOKS empty for all of notebooks/contents.toml.
RERUN_NOTEBOOKS ?= notebooks/07_training_preview.ipynb
rerun: env
	$(BIN)/python -m tools.rerun $(RERUN_NOTEBOOKS)

browser: env
	$(BIN)/pytest tests/test_browser.py tests/test_site.py -m browser

## The static site, into _build/site/: from the stored outputs, nothing executed, no network.
## View it with `python -m http.server -d _build/site`; publish the folder on any static host.
site: env
	$(BIN)/python -m tools.site

## Resolve the learners' layer for every platform and Python learners have, and the lock where
## its torch has wheels, against the package index (no download).
platforms: env
	$(BIN)/python -m tools.platforms

## Regenerate requirements-lock.txt from requirements-dev.txt and requirements.txt.
lock: env
	$(BIN)/python -m tools.lock

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

## Every notebook in Colab's runtime (tools/colab_check.py): Python, versions and google.colab as
## on Colab, each notebook alone with the clone its Colab cell makes. COLAB_FREEZE: another of
## Colab's pip-freeze.txt lists (a path or URL), COLAB_OS_INFO its os-info.txt; by default the
## runtime recorded in tools/colab_runtime.toml. Downloads PyPI's torch for it once (~3 GB).
COLAB_FREEZE ?=
COLAB_OS_INFO ?=
colab-check: env
	$(BIN)/python -m tools.colab_check $(if $(COLAB_FREEZE),--freeze $(COLAB_FREEZE)) $(if $(COLAB_OS_INFO),--os-info $(COLAB_OS_INFO))

## Every notebook under the newest and the oldest torch requirements.txt admits, outputs compared
## with the stored ones (tools/torch_range.py). Not in `make test`: several GB of downloads.
torch-range: env
	$(BIN)/python -m tools.torch_range

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info _build
