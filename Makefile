# Set-up-and-go commands of the course kit. Each target creates .venv and installs the kit if needed.
#   make test   unit tests + every notebook under nbmake at the `smoke` profile (what CI runs)
#   make run    execute all notebooks in order at the active profile -> runs/ (executed copies, figures, metrics)
#   make lab    start JupyterLab on notebooks/
#   make bench  run the benchmarks at the active profile -> results/*.json

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
SHARED_CACHE := $(abspath $(CURDIR)/../shared/data/keras)

USER_KERAS_HOME := $(KERAS_HOME)
# The project's own Keras cache: datasets are linked into it (never copied out of, or written into, the
# read-only shared cache). Notebook kernels inherit it.
export KERAS_HOME := $(CURDIR)/data/keras
export TF_CPP_MIN_LOG_LEVEL := 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: test run lab bench data install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is required, found " + sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# PyTorch (CPU build) is needed only by the test that checks the Real-ESRGAN weight port against PyTorch:
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

test: $(STAMP) $(TORCH_STAMP) data
	KIT_PROFILE=smoke $(PY) -m pytest tests $(NOTEBOOKS) --nbmake --nbmake-timeout=600 -p no:cacheprovider

run: $(STAMP) data
	@mkdir -p runs
	@for nb in $(NOTEBOOKS); do \
	  stem=$$(basename $$nb .ipynb); echo "=== $$stem"; \
	  KIT_RUN_DIR=$(CURDIR)/runs/$$stem $(PY) -m jupyter nbconvert --to notebook --execute \
	    --ExecutePreprocessor.timeout=-1 --ExecutePreprocessor.kernel_name=python3 \
	    --output-dir runs --output $$stem $$nb || exit 1; \
	done
	$(PY) -m kit.runs runs

lab: $(STAMP) data
	$(PY) -m jupyter lab notebooks

bench: $(STAMP) data
	$(PY) benchmarks/classifier.py
	$(PY) benchmarks/gans.py
	$(PY) benchmarks/img2img.py
	$(PY) benchmarks/cocogan.py
	$(PY) benchmarks/esrgan.py
	$(PY) benchmarks/esrgan_unseen.py
	$(PY) benchmarks/readme_tables.py

clean:
	rm -rf runs .pytest_cache notebooks/checkpoints
