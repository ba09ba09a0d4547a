# minimass: `make demo` runs the main job, `make test` runs every test.
# Both create .venv when it is missing. torch is pinned to the CPU build that
# this machine keeps on disk; pyproject keeps a range for other users.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
TORCH  ?= torch==2.13.0
NOTEBOOKS = $(wildcard notebooks/[0-9][0-9]_*.ipynb)

.PHONY: venv demo test lint lab notebooks bench clean

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH)" -e ".[dev]"
	touch $@

demo: venv
	$(BIN)/python -m minimass demo

lint: venv
	$(BIN)/ruff check .

test: lint
	MINIMASS_PRESET=smoke $(BIN)/python -m pytest tests $(if $(NOTEBOOKS),--nbval-lax --nbval-current-env $(NOTEBOOKS))

lab: venv
	MINIMASS_PRESET=cpu $(BIN)/jupyter lab notebooks/

notebooks: venv  # re-execute every notebook at MINIMASS_PRESET (default cpu), outputs committed
	$(BIN)/python scripts/execute_notebooks.py $(NOTEBOOKS)

bench: venv
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
