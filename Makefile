# Set-up-and-go commands of the course kit. Each target creates .venv and installs the kit if needed.
#   make test      unit tests, every notebook under nbmake at the `smoke` profile, every benchmark at `smoke` into
#                  a temporary folder, the labs built and graded
#   make ci        what CI runs (.ci/run): make test, then the unit tests and notebooks on Colab's stack
#   make run       execute all notebooks in order at the active profile -> runs/ (executed copies, figures, metrics)
#   make lab       start JupyterLab on notebooks/
#   make labs      build the graded labs: dist/student/ and dist/autograder/ (otter-grader), the student versions
#                  handed out (notebooks/student/, commit them), grade them into dist/graded/ and dist/labs.json
#                  (make bench writes results/labs.json, so make labs leaves the checkout clean);
#                  NOTEBOOKS="02" builds and grades lab 02 only (no results file)
#   make bench     execute every notebook at the `cpu` profile (PROFILE=...) and the thin benchmarks -> results/*.json,
#                  then the README's tables (NOTEBOOKS="02 03" for some notebooks only)
#   make wheel     build the kit's wheel into dist/ (for Colab without GitHub access: upload it, the setup cell finds it)
#   make set-repo URL=https://github.com/OWNER/NAME REF=main    point every badge and setup cell at a repository
#   make gpu-check time each notebook's training at the GPU profile on this machine's GPU -> results/gpu_check.json

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
SHARED_CACHE := $(abspath $(CURDIR)/../shared/data/keras)
PROFILE ?= cpu
TMP ?= $(CURDIR)/build/test
RESUME ?=

USER_KERAS_HOME := $(KERAS_HOME)
# The project's own Keras cache: datasets are linked into it (never copied out of, or written into, the
# read-only shared cache). Notebook kernels inherit it.
export KERAS_HOME := $(CURDIR)/data/keras
export TF_CPP_MIN_LOG_LEVEL := 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: test ci test-main test-ci-only test-colab browser-deps demo-shot bench-smoke labs labs-check run lab bench wheel set-repo gpu-check data install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is required, found " + sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# PyTorch (CPU build) is needed only by the tests that check the weight ports (Real-ESRGAN, LPIPS) against PyTorch:
# the exact CPU wheel where a local wheelhouse has it (CI), else PyTorch's CPU index (never the CUDA build).
TORCH_STAMP := $(VENV)/.torch-cpu
$(TORCH_STAMP): $(STAMP)
	$(PY) -m pip install -q "torch==2.13.0+cpu" 2>/dev/null || $(PY) -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
	@touch $(TORCH_STAMP)

# Link Fashion-MNIST from ../shared/data/keras (CI and this workplace) or from a cache the user already has
# ($$KERAS_HOME before make overrode it, or ~/.keras). Without any of them Keras downloads it on first use.
data:
	@mkdir -p $(KERAS_HOME)/datasets/fashion-mnist
	@for src in "$(SHARED_CACHE)" "$(USER_KERAS_HOME)" "$(HOME)/.keras"; do \
	  d="$$src/datasets/fashion-mnist"; \
	  if [ -n "$$src" ] && [ -d "$$d" ] && [ "$$(cd "$$d" && pwd -P)" != "$$(cd $(KERAS_HOME)/datasets/fashion-mnist && pwd -P)" ]; then \
	    for f in "$$d"/*.gz; do [ -e "$(KERAS_HOME)/datasets/fashion-mnist/$$(basename "$$f")" ] || ln -s "$$f" "$(KERAS_HOME)/datasets/fashion-mnist/"; done; \
	    echo "Keras cache: $(KERAS_HOME) (Fashion-MNIST linked from $$d)"; break; \
	  fi; \
	done

# Every run starts from fresh checkpoints (a folder under $(TMP), emptied first), so nothing trained by an earlier
# run is resumed; KIT_BATCH tells the notebooks no person is watching (no TensorBoard, static widgets).
# `make test` is a new user's check; `make ci` (what .ci/run calls) adds the same on Colab's stack, which needs a
# second Python (3.13) and a second TensorFlow that a new user need not install.
test: test-main bench-smoke labs-check

ci: test test-ci-only test-colab

test-main: $(STAMP) $(TORCH_STAMP) data browser-deps
	rm -rf $(TMP) && mkdir -p $(TMP)
	KIT_BATCH=1 KIT_PROFILE=smoke KIT_CHECKPOINTS=$(TMP)/checkpoints KIT_LOGS=$(TMP)/logs KIT_RUN_ROOT=$(TMP)/runs \
	  KIT_GAMING_RESULTS=$(TMP)/results/gaming.json $(PY) -m pytest tests $(NOTEBOOKS) --nbmake --nbmake-timeout=600 -p no:cacheprovider --durations=30 \
	  -m "not ci_only"

# The tests marked ci_only (pyproject.toml): checks a new user need not wait for (every model family trained on two
# replicas and by two worker processes, benchmarks/distribute.py, about 7 min on 2 cores). make ci runs them.
test-ci-only: $(STAMP) data
	KIT_BATCH=1 KIT_PROFILE=smoke KIT_CHECKPOINTS=$(TMP)/checkpoints-ci KIT_LOGS=$(TMP)/logs-ci $(PY) -m pytest tests -m ci_only \
	  -p no:cacheprovider --durations=10

# The benchmarks at the smoke profile into $(TMP)/results (never results/): every topic's results file from the
# notebooks test-main just executed, each thin benchmark script, then the README's tables rendered from them into a
# copy of the README (so a renamed metric breaks CI, not the next `make bench`).
bench-smoke: $(STAMP) data
	KIT_BATCH=1 KIT_PROFILE=smoke KIT_CHECKPOINTS=$(TMP)/bench-checkpoints $(PY) benchmarks/run.py --profile smoke \
	  --runs $(TMP)/runs --out $(TMP)/results
	cp README.md $(TMP)/README.md && $(PY) tools/readme_tables.py --results $(TMP)/results --readme $(TMP)/README.md

# NOTEBOOKS="02 05" on the command line: only those labs, and no summary (it covers every lab).
LABS_SUBSET := $(if $(filter command line,$(origin NOTEBOOKS)),--notebooks $(NOTEBOOKS))

# CI: every lab built, its committed student version checked against the build, and graded by otter cut down to its
# imports and questions (the notebooks themselves ran under nbmake in test-main, hidden tests included); lab 00's
# solution and untouched student notebooks are also graded whole, through tools/grade.py as an instructor grades a
# class (otter's whole-notebook path), and the grades must say 100% and less, with the student's errors logged.
labs-check: $(STAMP) data
	KIT_BATCH=1 KIT_PROFILE=smoke KIT_CHECKPOINTS=$(TMP)/labs-checkpoints $(PY) tools/labs.py --dist $(TMP)/dist --grade questions \
	  --check-students notebooks/student $(or $(LABS_SUBSET),--results $(TMP)/results/labs.json)
	rm -rf $(TMP)/class $(TMP)/dist-whole && mkdir -p $(TMP)/class && $(PY) tools/labs.py --dist $(TMP)/dist-whole --notebooks 00
	cp $(TMP)/dist-whole/autograder/00_gan_game_2d/00_gan_game_2d.ipynb $(TMP)/class/solution.ipynb
	cp $(TMP)/dist-whole/student/00_gan_game_2d/00_gan_game_2d.ipynb $(TMP)/class/untouched.ipynb
	KIT_BATCH=1 KIT_PROFILE=smoke KIT_CHECKPOINTS=$(TMP)/labs-checkpoints $(PY) tools/grade.py 00 $(TMP)/class/solution.ipynb \
	  $(TMP)/class/untouched.ipynb --dist $(TMP)/dist-whole --out $(TMP)/grades
	$(PY) tools/grade.py --verify $(TMP)/grades/00_gan_game_2d

# Colab's exact stack: Python 3.13, TensorFlow 2.20, Keras 3.13, the kit installed non-editable as the setup cell
# installs it; unit tests and every notebook at smoke. Skipped, saying so, where no Python 3.13 is installed.
# tests/test_browser.py drives the system's Chromium (Playwright comes with the dev extra). As root (CI) it is installed
# when missing; otherwise the browser tests skip with a line saying how to install it.
browser-deps:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Chromium for the browser tests (apt-get install chromium)"; \
	  (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1)) \
	    || echo "browser-deps: apt-get could not install chromium; the browser tests will skip"; \
	else echo "browser-deps: no Chromium, so the browser tests skip (install it with: sudo apt-get install chromium)"; fi

test-colab: data
	TMP=$(TMP) bash .ci/colab-stack

labs: $(STAMP) data
	KIT_BATCH=1 KIT_PROFILE=smoke $(PY) tools/labs.py --dist dist --grade --students notebooks/student \
	  $(or $(LABS_SUBSET),--results dist/labs.json)

run: $(STAMP) data
	@mkdir -p runs
	@if [ -z "$(RESUME)" ]; then rm -rf runs/checkpoints; fi
	@for nb in $(NOTEBOOKS); do \
	  stem=$$(basename $$nb .ipynb); echo "=== $$stem"; \
	  KIT_BATCH=1 KIT_CHECKPOINTS=$(CURDIR)/runs/checkpoints KIT_RUN_DIR=$(CURDIR)/runs/$$stem \
	    $(PY) -m jupyter nbconvert --to notebook --execute \
	    --ExecutePreprocessor.timeout=-1 --ExecutePreprocessor.kernel_name=python3 \
	    --output-dir runs --output $$stem $$nb || exit 1; \
	done
	$(PY) -m kit.runs runs

lab: $(STAMP) data
	$(PY) -m jupyter lab notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

bench: $(STAMP) data
	rm -rf build/bench-checkpoints  # measure training from scratch, never a resumed checkpoint
	KIT_PROFILE=$(PROFILE) KIT_CHECKPOINTS=$(CURDIR)/build/bench-checkpoints $(PY) benchmarks/run.py --profile $(PROFILE) --execute \
	  --runs build/bench-runs --out results $(if $(NOTEBOOKS),--notebooks $(NOTEBOOKS))
	$(if $(or $(if $(NOTEBOOKS),,all),$(findstring 07,$(NOTEBOOKS))),$(MAKE) demo-shot)
	$(PY) tools/readme_tables.py

# The README's screenshot of notebook 07's restoration demo, taken by its browser test (stand-in models).
demo-shot: $(STAMP) browser-deps
	$(PY) -m pytest tests/test_browser.py -k demo -q -p no:cacheprovider
	cp build/browser/demo_moderate.png results/demo.png

wheel: $(STAMP)
	$(PY) -m pip wheel --no-deps -q -w dist .
	@ls dist/gan_course_kit-*.whl

set-repo:
	@test -n "$(URL)" || (echo "usage: make set-repo URL=https://github.com/OWNER/NAME REF=main"; exit 2)
	$(PYTHON) tools/set_repo.py "$(URL)" $(REF)

gpu-check: $(STAMP) data
	$(PY) benchmarks/gpu_check.py --out results

clean:
	rm -rf runs build dist .pytest_cache notebooks/checkpoints notebooks/logs
