"""Project set-up: environment.yml lists the same packages as pyproject.toml."""

import re
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}


def names(specs):
    return {re.split(r"[<>=!~ \[]", s.strip())[0].lower().replace("_", "-") for s in specs}


def test_environment_matches_pyproject():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    want = names(meta["dependencies"] + meta["optional-dependencies"]["dev"])
    text = (ROOT / "environment.yml").read_text().split("dependencies:")[1]
    env = [ln.strip()[2:] for ln in text.splitlines()
           if ln.startswith("  - ") and ln.strip() not in ("- pip", "- pip:")]
    got = {CONDA_NAMES.get(n, n) for n in names(env)} - {"python"}
    assert got == want
    assert "python=3.11" in (ROOT / "environment.yml").read_text()


def test_tests_train_in_a_fresh_run_cache():
    """Regression: notebook 04 at smoke reloaded a run that older code had cached in ~/.cache/minimass/runs, and
    its printed log keys (checked output) lacked the newer `wait` key. Tests now get their own empty run cache."""
    from minimass import data
    from minimass.recipes import runs_dir

    assert runs_dir() != data.cache_dir() / "runs"
    assert runs_dir().name.startswith("minimass-test-runs-") and runs_dir().parent == Path(tempfile.gettempdir())


def test_the_package_stays_within_its_line_budget():
    """The user's budget: `wc -l minimass/*.py` under 2,000 lines, every line counted."""
    counts = {p.name: len(p.read_bytes().splitlines()) for p in sorted((ROOT / "minimass").glob("*.py"))}
    assert sum(counts.values()) < 2000, counts
