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
# So is a .venv made with another interpreter than a PYTHON given on the command line or in
# the environment (the same installation: the same base prefix and version).
WHICH_PYTHON := import sys; print("%d.%d.%d from %s" % (*sys.version_info[:3], sys.base_prefix))
ifneq ($(filter command line environment,$(origin PYTHON)),)
ifeq ($(VENV_BROKEN),)
VENV_HAS := $(shell $(BIN)/python -c '$(WHICH_PYTHON)' 2>/dev/null)
WANTED := $(shell $(PYTHON) -c '$(WHICH_PYTHON)' 2>/dev/null)
ifneq ($(WANTED),)
ifneq ($(VENV_HAS),$(WANTED))
VENV_OTHER := yes
endif
endif
endif
endif

.PHONY: lab env test lint unit grading-check nbval nbval-one-thread browser hub site rerun colab-check torch-range platforms lock refresh nav benchmark assignments grade clean FORCE

define make_venv
	@$(if $(PYTHON),,echo "make: no Python 3.11, 3.12 or 3.13 found (tried $(CANDIDATES)); install one, or run make PYTHON=/path/to/python3.12" >&2; exit 1)
	@$(PYTHON) -c '$(VERSION_OK)' || { echo "make: PYTHON=$(PYTHON) is not Python 3.11, 3.12 or 3.13" >&2; exit 1; }
	@$(if $(VENV_OTHER),echo "make: .venv has Python $(VENV_HAS) but PYTHON=$(PYTHON) is Python $(WANTED): making .venv again" >&2)
	@if [ -n "$(VENV_BROKEN)$(VENV_OTHER)" ]; then \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip --version >/dev/null 2>&1 \
	  || { rm -rf $(VENV); echo "make: '$(PYTHON) -m venv' could not make a virtual environment with pip (on Debian or Ubuntu: sudo apt install python3-venv)" >&2; exit 1; }; \
	fi
endef

## The learners' layer only: what the notebooks need, no test or lint tools.
$(VENV)/.learners: requirements.txt pyproject.toml $(if $(VENV_BROKEN)$(VENV_OTHER),FORCE)
	$(make_venv)
	$(PIP) -r requirements.txt
	@# Build matplotlib's font cache now: its one-time notice must not land in a notebook.
	$(BIN)/python -c "import matplotlib.pyplot"
	touch $@

## The exact lock CI and strict nbval use, with every tool.
$(VENV)/.lock: requirements-lock.txt pyproject.toml $(if $(VENV_BROKEN)$(VENV_OTHER),FORCE)
	$(make_venv)
	$(PIP) -r requirements-lock.txt
	$(BIN)/python -c "import matplotlib.pyplot"
	touch $@

env: $(VENV)/.lock

## What the tests take from the npm registry, exactly as package-lock.json pins it: axe-core
## for the site's accessibility check, JupyterHub's proxy for the hub test. Without npm both
## are skipped with a note (CI has npm, and requires them).
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): $(wildcard package.json package-lock.json)
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
	  echo "make: npm not found: the site's accessibility check (axe-core) and the hub test will be skipped; install Node.js 20 with npm to run them" >&2; \
	fi

## Open the notebooks in JupyterLab, at the first one, once everything they import imports (as
## root, e.g. in a container, JupyterLab refuses to start without --allow-root).
lab: $(VENV)/.learners
	@$(BIN)/python -m tools.imports
	$(BIN)/jupyter lab notebooks/01_imports.ipynb $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

## Everything CI runs: lint, unit and hygiene tests, strict nbval (two threads, then one), browser,
## the static site (built with warnings as errors and read in Chromium by tests/test_site.py),
## the re-run check over every notebook, every notebook in Colab's runtime, and the platform check.
## Three at a time: the tests of tests/ (unit), the platform check (which mostly waits on the
## package index) and, one after another, the other checks; the output of each is shown,
## whole, when it ends.
test: lint unit platforms nbval nbval-one-thread grading-check rerun colab-check
ifeq ($(MAKECMDGOALS),test)
MAKEFLAGS += --jobs=3 --output-sync=target
endif

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Unit tests, notebook hygiene, navigation, the browser checks (JupyterLab, the static site,
## which tests/test_site.py builds into _build/site/ first, and the class hub): every test of
## tests/ but the grading check. (`pytest` alone runs those, the grading check and nbval.)
unit: env $(NODE_STAMP)
	$(BIN)/pytest tests --ignore=tests/test_assignments.py

## Assignments and grading (tests/test_assignments.py): nbgrader builds every assignment and
## grades a class of twins, blank copies and misbehaving submissions.
grading-check: env
	$(BIN)/pytest tests/test_assignments.py

## Strict nbval over every notebook (default threads), then once more on one thread: outputs
## must not depend on the number of threads.
nbval: env
	$(NBVAL)

nbval-one-thread: env
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(NBVAL)

## Every cell run again as learners do (twice in a row; the whole notebook twice; then backwards),
## naming each cell that fails (tools/rerun.py): every notebook of notebooks/contents.toml, or
## only those named, e.g. make rerun RERUN_NOTEBOOKS=notebooks/07_training_preview.ipynb.
RERUN_NOTEBOOKS ?=
## One thread: nothing it checks depends on the number (nbval-one-thread shows it), and in
## `make test` it leaves the other core to the tests running beside it.
rerun: env
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m tools.rerun $(RERUN_NOTEBOOKS)

browser: env $(NODE_STAMP)
	$(BIN)/pytest tests/test_browser.py tests/test_site.py tests/test_links.py -m browser

## A real JupyterHub on 127.0.0.1: an nbgitpuller link opens a notebook, a second pull keeps
## the student's edit (tests/test_hub.py).
hub: env $(NODE_STAMP)
	$(BIN)/pytest tests/test_hub.py

## The static site, into _build/site/: from the stored outputs, nothing executed, no network,
## with the whole companion as one zip beside it (tools/archive.py). View it with
## `python -m http.server -d _build/site`; publish the folder on any static host.
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

## The class's assignments, from every notebook with exercises, into _build/assignments/:
## student/ (exercises blank), solution/ (filled in) and nbgrader's course (tools/assignments.py).
ASSIGNMENTS := _build/assignments/assignments.json
assignments: env
	$(BIN)/python -m tools.assignments

$(ASSIGNMENTS): $(VENV)/.lock notebooks/contents.toml $(wildcard notebooks/*.ipynb) lenet_extras/exercises.toml tools/assignments.py tools/exercise_cells.py tools/navigation.py
	$(BIN)/python -m tools.assignments

## Grade a folder of submissions with nbgrader: make grade SUBMISSIONS=DIR [TIME_LIMIT=1200]
## [CELL_TIMEOUT=300] (seconds). One line per submission, the gradebook in _build/gradebook.csv.
ifeq ($(filter grade,$(MAKECMDGOALS)),grade)
ifndef SUBMISSIONS
$(error make grade: say which folder to grade: make grade SUBMISSIONS=path/to/folder)
endif
endif
grade: $(ASSIGNMENTS)
	$(BIN)/python -m tools.grading "$(SUBMISSIONS)" $(if $(TIME_LIMIT),--time-limit $(TIME_LIMIT)) $(if $(CELL_TIMEOUT),--cell-timeout $(CELL_TIMEOUT))

## Print the speed figures: notebooks against their floor, training against the compute floor
## and the PyTorch MNIST example; then what each notebook asks of a class (peak memory, time).
benchmark: env
	$(BIN)/python -m benchmarks.notebook_times
	$(BIN)/python -m benchmarks.busy_core
	$(BIN)/python -m benchmarks.training_speed
	$(BIN)/python -m benchmarks.class_needs

## Every notebook in Colab's runtime (tools/colab_check.py): Python, versions and google.colab as
## on Colab, each notebook alone with the clone its Colab cell makes. COLAB_FREEZE: another of
## Colab's pip-freeze.txt lists (a path or URL), COLAB_OS_INFO its os-info.txt; by default the
## runtime recorded in tools/colab_runtime.toml. Downloads PyPI's torch for it once (~3 GB).
## COLAB_PYTHON: the interpreter to build it from (default: python3.X of the PATH or pyenv).
COLAB_FREEZE ?=
COLAB_OS_INFO ?=
COLAB_PYTHON ?=
colab-check: env
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m tools.colab_check $(if $(COLAB_FREEZE),--freeze $(COLAB_FREEZE)) $(if $(COLAB_OS_INFO),--os-info $(COLAB_OS_INFO)) $(if $(COLAB_PYTHON),--python $(COLAB_PYTHON))

## Every notebook under the newest and the oldest torch requirements.txt admits, outputs compared
## with the stored ones (tools/torch_range.py). Not in `make test`: several GB of downloads.
## TORCH_ENDS=newest (or oldest) runs one end only.
TORCH_ENDS ?= newest oldest
torch-range: env
	$(BIN)/python -m tools.torch_range --ends $(TORCH_ENDS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info _build node_modules
