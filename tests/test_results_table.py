"""The README's results table is generated from results/ (scripts/results_table.py), never typed."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("results_table", ROOT / "scripts" / "results_table.py")
rt = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rt)
sys.path.insert(0, str(ROOT / "notebooks"))
import lab  # noqa: E402


def test_readme_table_equals_results():
    """If this fails, run `.venv/bin/python scripts/results_table.py --write` (or `make reproduce`)."""
    assert rt.readme_table((ROOT / "README.md").read_text()) == rt.table(ROOT)


def test_the_generator_renders_and_never_parses_prose():
    source = (ROOT / "scripts" / "results_table.py").read_text()
    assert "import re" not in source and "from re " not in source


def layout(root: Path, *names: str) -> None:
    (root / "notebooks").mkdir(parents=True)
    (root / "results").mkdir()
    for nb in names:
        (root / "notebooks" / f"{nb}.ipynb").write_text("{}")


def record(root: Path, name: str, results: dict, preset: str = "cpu") -> None:
    (root / "results" / f"{name}.{preset}.json").write_text(json.dumps({"name": name, "results": results}))


def cells(root: Path) -> list[list[str]]:
    lines = rt.table(root).splitlines()
    assert lines[:2] == rt.HEADER.splitlines()
    return [[c.strip() for c in ln.strip("|").split(" | ")] for ln in lines[2:]]


def test_rows_come_from_the_claims_schema(tmp_path):
    layout(tmp_path, "04_pretraining", "06_low_resource_nmt", "08_dialogue", "09_k_sweep")
    claims = [lab.claim("MASS beats none", "Fig. 3", "chrF", "reproduced", 2.5, 0.004, 3),
              lab.claim("MASS beats none", "Fig. 3", "BLEU", "at floor", 0.1, 0.6, 3),
              lab.claim("MASS beats none at all pairs", "Fig. 3 ceiling", "BLEU", "undecided", 1.5, None, 1)]
    record(tmp_path, "06_low_resource_nmt", {"claims": claims, "paper": {"Fig. 3": "BLEU plotted"},
                                             "ours": {"Fig. 3": "chrF 16 vs 9"}})
    record(tmp_path, "08_dialogue", {"verdict": {"old": "beyond the seed spread"}})
    got = cells(tmp_path)
    assert [c[0] for c in got] == ["Fig. 3", "Fig. 3 ceiling", "dialogue", "k sweep"]  # 04 is no experiment
    fig3, ceiling, old, missing = got
    assert fig3[1:5] == ["BLEU plotted", "chrF 16 vs 9", "cpu", "3 (fine-tuning)"]
    assert fig3[5] == ("MASS beats none (chrF): **reproduced** (delta 2.5, p 0.004)<br>"
                       "MASS beats none (BLEU): **at floor** (delta 0.1, p 0.6)")
    assert ceiling[2] == "-" and ceiling[4] == "1 (fine-tuning)" and "p -" in ceiling[5]
    assert old[2] == "recorded before the one verdict rule; a re-run is due"
    assert old[6] == "[08](notebooks/08_dialogue.ipynb)"
    assert missing[2] == "not run yet"


def test_check_fails_on_a_stale_readme_and_write_fixes_it(tmp_path):
    layout(tmp_path, "06_low_resource_nmt")
    (tmp_path / "README.md").write_text(f"intro\n{rt.START}\nold table\n{rt.END}\nrest\n")
    with pytest.raises(SystemExit, match="differs"):
        rt.main(["--check"], tmp_path)
    rt.main(["--write"], tmp_path)
    rt.main(["--check"], tmp_path)
    text = (tmp_path / "README.md").read_text()
    assert text.startswith("intro\n") and text.endswith(f"{rt.END}\nrest\n") and "not run yet" in text
