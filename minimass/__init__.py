"""minimass: MASS, masked sequence-to-sequence pre-training (Song et al., ICML 2019), small and tested."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

__version__ = "0.1.0"
PRESETS = ("smoke", "cpu", "gpu")

def preset(default: str = "cpu") -> str:
    """The run size chosen by ``MINIMASS_PRESET`` (``smoke`` for CI, ``cpu`` for a laptop, ``gpu``)."""
    name = os.environ.get("MINIMASS_PRESET", default).strip().lower()
    if name not in PRESETS:
        raise ValueError(f"MINIMASS_PRESET={name!r} is not a preset; use one of {', '.join(PRESETS)}")
    return name

def save_results(name: str, results: dict, preset_name: str, seed: int = 0, **info) -> Path:
    """Write measured numbers with what produced them (preset, seed, data and package versions, commit, date) as
    JSON to ``results/<name>.<preset>.json`` (``name`` may hold a folder); ``smoke`` runs (CI) write to a temporary
    folder so tests never touch the working tree."""
    import torch

    from .data import SOURCES
    root = Path(__file__).resolve().parents[1] / "results"
    git = subprocess.run("git rev-parse --short HEAD".split(), cwd=root.parent, text=True, capture_output=True)
    if preset_name == "smoke" or not root.is_dir():
        root = Path(tempfile.mkdtemp(prefix="minimass-results-"))
    path = root / f"{name}.{preset_name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"name": name, "preset": preset_name, "seed": seed, "results": results, **info,
              "commit": git.stdout.strip() or None, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "data_versions": {s.name: s.files[0].name for s in SOURCES.values() if s.kind == "offline"},
              "versions": {"minimass": __version__, "torch": torch.__version__, "python": platform.python_version()}}
    path.write_text(json.dumps(record, indent=1, sort_keys=True, default=str) + "\n")
    return path
