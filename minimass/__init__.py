"""minimass: MASS, masked sequence-to-sequence pre-training (Song et al., ICML 2019)."""

from __future__ import annotations

import os

from .presets import PRESETS  # what each preset means: the table in minimass.presets

__version__ = "0.1.0"

def preset(default: str = "cpu") -> str:
    """The run size ``MINIMASS_PRESET`` chooses: ``smoke`` (CI), ``cpu``, ``gpu``, ``paper``."""
    name = os.environ.get("MINIMASS_PRESET", default).strip().lower()
    if name not in PRESETS:
        raise ValueError(f"MINIMASS_PRESET={name!r} is not a preset: use {', '.join(PRESETS)}")
    return name
