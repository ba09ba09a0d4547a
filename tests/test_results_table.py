"""The results table (docs/results.md), the README's summary of it and the README's example output are generated
from results/ (scripts/results_table.py), never typed."""

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


def test_every_generated_block_equals_results():
    """If this fails, run `.venv/bin/python scripts/results_table.py --write` (or `make reproduce`)."""
    got = rt.blocks(ROOT)
    assert [(name, markers[0]) for name, markers, _ in got] == [
        ("docs/results.md", rt.START), ("README.md", rt.PATH_MARKERS[0]), ("README.md", rt.SUMMARY[0]),
        ("README.md", rt.EXAMPLE_MARKERS[0])]
    for name, markers, text in got:
        assert rt.between((ROOT / name).read_text(), markers, name) == text, name


def test_the_readme_is_a_front_door():
    """The README stays short as records land (its summary grows a line per row; the full table is in docs/), and
    every file that it or a docs/ page links to exists (paths relative to the page)."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) <= 8000
    assert rt.START not in readme
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        links = [part.split(")", 1)[0].split("#", 1)[0] for part in page.read_text().split("](")[1:]]
        missing = [link for link in links if "://" not in link and not (page.parent / link).exists()]
        assert links and not missing, (page.name, missing)


def test_the_generator_renders_and_never_parses_prose():
    source = (ROOT / "scripts" / "results_table.py").read_text()
    assert "import re" not in source and "from re " not in source


def layout(root: Path, *names: str) -> None:
    (root / "notebooks").mkdir(parents=True)
    (root / "results").mkdir()
    for nb in names:
        title = {"cell_type": "markdown", "source": [f"# {nb[:2]} · The title of {nb}\n", "text"]}
        (root / "notebooks" / f"{nb}.ipynb").write_text(json.dumps({"cells": [title]}))


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
    assert old[6] == "[08](../notebooks/08_dialogue.ipynb)"  # the table lives in docs/
    assert missing[2] == "not run yet"
    summary = rt.summary(tmp_path).splitlines()  # one line per row of the table, a mark per claim
    assert summary == [
        "- **Fig. 3**, low resource nmt ([06](notebooks/06_low_resource_nmt.ipynb)): chrF ✅ · BLEU ▁",
        "- **Fig. 3 ceiling**, low resource nmt ([06](notebooks/06_low_resource_nmt.ipynb)): BLEU ?",
        "- – **dialogue** ([08](notebooks/08_dialogue.ipynb)): recorded before the one verdict rule; a re-run is due",
        "- – **k sweep** ([09](notebooks/09_k_sweep.ipynb)): not run yet"]


def test_every_verdict_has_its_own_mark():
    assert set(rt.MARKS) == set(lab.VERDICTS) and len(set(rt.MARKS.values()) | {rt.UNJUDGED}) == len(rt.MARKS) + 1
    claims = [lab.claim("a", "T", m, v) for m, v in [("ppl", "reproduced"), ("BLEU", "not reproduced"),
                                                      ("ppl", "partly"), ("BLEU", "undecided")]]
    assert rt.marks(claims) == "ppl ✅◐ · BLEU ❌?"


def example_records(root: Path) -> list[str]:
    """Translation records at the paths of rt.EXAMPLE, each with its own outputs; returns the first outputs."""
    firsts = []
    for k, (_, name) in enumerate(rt.EXAMPLE["records"]):
        (root / "results" / name).parent.mkdir(parents=True, exist_ok=True)
        hyps = [f"output {k} of verse {i}" for i in range(3)]
        (root / "results" / name).write_text(json.dumps({
            "recipe": {"dir": "en-fr", "n_train": "all", "beam": 5, "max_steps": 90},
            "results": {"hyps": hyps, "n": 3, "bleu": 12.34, "chrf": 40.0 + k, "best_step": 80,
                        "stopped": "converged"}}))
        firsts.append(hyps[rt.EXAMPLE["index"]])
    return firsts


def test_the_example_renders_the_records_outputs_beside_the_data(tmp_path):
    from minimass import data

    layout(tmp_path)
    firsts = example_records(tmp_path)
    text = rt.example(tmp_path)
    src, ref = data.parallel("en", "fr").test[rt.EXAMPLE["index"]]
    body = text.split("```")[1].strip("\n").splitlines()
    labels = [label for label, _ in rt.EXAMPLE["records"]]
    assert [ln.split(":", 1)[0] for ln in body] == ["source", "reference", *labels]
    assert [ln.split(":", 1)[1].strip() for ln in body] == [src, ref, *firsts]
    assert "BLEU 12.3, chrF 40.0" in text and "best step 80 of at most 90, stopped: converged" in text
    (tmp_path / "results" / rt.EXAMPLE["records"][0][1]).unlink()
    with pytest.raises(SystemExit, match="missing"):
        rt.example(tmp_path)


def test_check_fails_on_stale_blocks_and_write_fixes_them(tmp_path):
    layout(tmp_path, "06_low_resource_nmt")
    example_records(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "results.md").write_text(f"intro\n{rt.START}\nold table\n{rt.END}\nrest\n")
    (tmp_path / "README.md").write_text(f"top\n{rt.PATH_MARKERS[0]}\n{rt.PATH_MARKERS[1]}\n"
                                        f"{rt.SUMMARY[0]}\n{rt.SUMMARY[1]}\nmiddle\n"
                                        f"{rt.EXAMPLE_MARKERS[0]}\nold\n{rt.EXAMPLE_MARKERS[1]}\nend\n")
    with pytest.raises(SystemExit, match="differ"):
        rt.main(["--check"], tmp_path)
    rt.main(["--write"], tmp_path)
    rt.main(["--check"], tmp_path)
    table = (tmp_path / "docs" / "results.md").read_text()
    assert table.startswith("intro\n") and table.endswith(f"{rt.END}\nrest\n") and "not run yet" in table
    readme = (tmp_path / "README.md").read_text()
    assert readme.startswith("top\n") and readme.endswith(f"{rt.EXAMPLE_MARKERS[1]}\nend\n")
    assert "\nmiddle\n" in readme and "not run yet" in readme and "output 0 of verse 0" in readme
    (tmp_path / "README.md").write_text(readme.replace("output 0 of verse 0", "typed by hand"))
    with pytest.raises(SystemExit, match="results-example"):  # the example is checked too
        rt.main(["--check"], tmp_path)


def test_the_learning_path_quotes_recorded_times_only(tmp_path):
    """Each notebook's line: its title, its execution time from results/notebook_times.json (written by
    scripts/execute_notebooks.py) and the training time its records hold; no time where none was recorded."""
    spec = importlib.util.spec_from_file_location("execute_notebooks", ROOT / "scripts" / "execute_notebooks.py")
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    layout(tmp_path, "04_pretraining", "05_unsupervised_nmt")
    ex.record_time(Path("04_pretraining.ipynb"), "cpu", 61.2, 0.5, tmp_path / rt.TIMES)
    ex.record_time(Path("04_pretraining.ipynb"), "gpu", 7.0, 0.1, tmp_path / rt.TIMES)  # kept beside cpu
    record(tmp_path, "04_pretraining", {"train_wall_s": 1040.0})
    (tmp_path / "results" / "05_unsupervised_nmt").mkdir()
    # train_s, else wall_s in the results, else the wall_s run_once wrote beside them (a run's whole time)
    for k, rec in enumerate([{"results": {"train_s": 3000.0}}, {"results": {"wall_s": 600.0}},
                             {"results": {"bleu": 0.2}, "wall_s": 300.0}, {"results": {"bleu": 0.1}, "wall_s": None}]):
        (tmp_path / "results" / "05_unsupervised_nmt" / f"r{k}.cpu.json").write_text(json.dumps(rec))
    lines = rt.learning_path(tmp_path).splitlines()
    assert lines[0] == ("- [04](notebooks/04_pretraining.ipynb) The title of 04_pretraining (executes in 61 s; "
                        "the runs it records took 17 min)")
    assert lines[1] == ("- [05](notebooks/05_unsupervised_nmt.ipynb) The title of 05_unsupervised_nmt (not timed "
                        "yet; the runs it records took 65 min)")
    assert ex.cpu_name() in lines[-1] and json.loads((tmp_path / rt.TIMES).read_text())["04_pretraining"]["gpu"]
    assert "other jobs ran" not in lines[-1]  # load 0.5: a quiet machine
    ex.record_time(Path("05_unsupervised_nmt.ipynb"), "cpu", 30.0, 3.2, tmp_path / rt.TIMES)
    assert "while other jobs ran (load average 0.5-3.2 at the start)" in rt.learning_path(tmp_path)
    times = json.loads((tmp_path / rt.TIMES).read_text())
    times["05_unsupervised_nmt"]["cpu"]["date"] = "2020-01-02"  # one machine, two dates: one range
    (tmp_path / rt.TIMES).write_text(json.dumps(times))
    today = times["04_pretraining"]["cpu"]["date"]
    assert rt.learning_path(tmp_path).count(ex.cpu_name()) == 1
    assert f"{ex.cpu_name()} (2020-01-02 to {today})" in rt.learning_path(tmp_path)
    assert [rt.duration(s) for s in (40, 1040, 12_852)] == ["40 s", "17 min", "3.6 h"]
