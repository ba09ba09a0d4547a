# minimass: `make demo` runs the main job, `make test` runs every test.
# Both create .venv when it is missing, then fill the data cache with the offline
# corpora (scripts/fetch_corpora.py). torch is pinned to the CPU build that
# this machine keeps on disk; pyproject keeps a range for other users.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
TORCH  ?= torch==2.13.0
NOTEBOOKS = $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))  # sorted: executed in order

.PHONY: venv demo test lint lab notebooks reproduce bench gpu-check clean

venv: $(VENV)/.installed  # then the offline corpora into the data cache (a no-op when they are there)
	$(BIN)/python scripts/fetch_corpora.py
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH)" -e ".[dev,hf]"
	touch $@

demo: venv
	$(BIN)/python scripts/demo.py

lint: venv
	$(BIN)/ruff check .

test: lint
	MINIMASS_PRESET=smoke $(BIN)/python -m pytest tests --doctest-modules minimass minimass_cli.py $(if $(NOTEBOOKS),--nbval-lax --nbval-current-env $(NOTEBOOKS))

lab: venv
	MINIMASS_PRESET=cpu $(BIN)/jupyter lab notebooks/

notebooks: venv  # re-execute every notebook at MINIMASS_PRESET (default cpu), outputs committed
	$(BIN)/python scripts/execute_notebooks.py $(NOTEBOOKS)

PRESET ?= cpu
reproduce: venv  # every notebook in order at PRESET (recorded runs are reloaded, not rerun), then the generated results (docs/results.md, README)
	MINIMASS_PRESET=$(PRESET) $(BIN)/python scripts/execute_notebooks.py $(NOTEBOOKS)
	$(BIN)/python scripts/results_table.py --write

BENCH_ARGS ?=
bench: venv  # minimass vs HF BART on CPU (2 threads, < 15 min): bench/results.json and the table in bench/README.md
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# On a machine with one CUDA GPU, no venv and no network: the system python3 needs torch (CUDA), sentencepiece,
# safetensors, sacrebleu, tqdm, matplotlib (rouge-score for notebook 07; packages elsewhere on PYTHONPATH are kept);
# the data cache comes from MINIMASS_DATA (see scripts/gpu_check.py).
PYTHON_GPU ?= python3
GPU_CHECK_ARGS ?=
gpu-check:  # bf16 matmul rate, gpu-preset MASS training tok/s and MFU, resume, CPU load, notebooks: bench/gpu.json
	PYTHONPATH=.$(if $(PYTHONPATH),:$(PYTHONPATH)) $(PYTHON_GPU) scripts/gpu_check.py $(GPU_CHECK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
