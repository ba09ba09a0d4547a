"""scripts/demo.py reuses the shared MASS checkpoint of the run cache (recipes.pretrained), as notebook 04 leaves it."""

import importlib.util
from pathlib import Path

from minimass import recipes

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("demo", ROOT / "scripts" / "demo.py")
demo = importlib.util.module_from_spec(spec)
spec.loader.exec_module(demo)


def test_demo_finds_the_longest_shared_checkpoint(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MINIMASS_RUNS", str(tmp_path))
    monkeypatch.setitem(recipes.DATA_SIZES, "smoke", {"vocab": 600, "sentences": 300, "valid": 20})
    first = demo.pretrained(2, "smoke")  # nothing cached: the recipe is trained for the demo's steps
    assert first == tmp_path / "mass_en-fr_k0.5_mass_smoke_seed0_2" / "step_0000002"
    assert "no MASS checkpoint" in capsys.readouterr().out
    longer = recipes.pretrained(preset_name="smoke", steps=4)  # a notebook continues it
    assert demo.pretrained(2, "smoke") == longer  # the demo takes the longest, and trains nothing
    assert "reusing the shared MASS checkpoint mass_en-fr_k0.5_mass_smoke_seed0_4" in capsys.readouterr().out
