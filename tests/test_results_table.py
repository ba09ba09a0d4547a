"""The README's results table is generated from results/ (scripts/results_table.py), never typed."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("results_table", ROOT / "scripts" / "results_table.py")
rt = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rt)


def test_readme_table_equals_results():
    """If this fails, run `.venv/bin/python scripts/results_table.py --write` (or `make reproduce`)."""
    assert rt.readme_table((ROOT / "README.md").read_text()) == rt.table(ROOT)


def record(root: Path, name: str, results: dict, preset: str = "cpu", seed: int = 0) -> None:
    path = root / "results" / f"{name}.{preset}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"name": name, "preset": preset, "seed": seed, "results": results}))


DIALOGUE = {"seeds": [0, 1],
            "verdict": {"MASS < none (1,000 pairs)": "reproduced (10.0 vs 30.0, beyond the seed spread)",
                        "MASS < none (all (5,000))": "reproduced (9.0 vs 29.0, beyond the seed spread)"},
            "table": {f"{s} {n}": {"test_ppl": [v, v + 2]} for s, v in (("mass", 9), ("bert+lm", 19), ("none", 29))
                      for n in (1000, "all")}}


def rows(root: Path) -> dict[tuple[str, str], list[str]]:
    """The generated table as {(paper label, preset): cells}."""
    lines = rt.table(root).splitlines()
    assert lines[:2] == rt.HEADER.splitlines()
    cells = [[c.strip() for c in ln.strip("|").split(" | ")] for ln in lines[2:]]
    return {(c[0], c[3]): c for c in cells}


def test_empty_results_give_not_run_yet_rows(tmp_path):
    (tmp_path / "results").mkdir()
    table = rows(tmp_path)
    assert [label for label, _ in table] == [s[0] for s in rt.ROWS]  # one cpu row per paper table or figure
    for (label, preset), cells in table.items():
        assert preset == "cpu" and cells[1] == rt.PAPER[label]
        assert cells[2] == "not run yet" and cells[4] == cells[5] == "-"
        assert cells[6].endswith("(not written yet)")


def test_a_record_fills_its_row(tmp_path):
    record(tmp_path, "08_dialogue", DIALOGUE)
    runs = tmp_path / "results" / "08_dialogue"
    runs.mkdir()
    for seed in (0, 1):
        (runs / f"system=mass_seed={seed}.cpu.json").write_text(json.dumps({"seed": seed, "results": {}}))
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "08_dialogue.ipynb").write_text("{}")
    table = rows(tmp_path)
    _, paper, ours, _, seeds, verdict, link = table["Table 5", "cpu"]
    assert paper == rt.PAPER["Table 5"]
    assert ours == "test ppl at 1,000 / all pairs: MASS 10 / 10, BERT+LM 20 / 20, none 30 / 30"
    assert seeds == "0, 1 (2 runs)"
    assert verdict == "MASS < none (1,000 pairs / all (5,000)): reproduced (beyond the seed spread)"
    assert link == "[08](notebooks/08_dialogue.ipynb)"
    assert table["Table 2", "cpu"][2] == "not run yet"  # the other rows wait for their records
    record(tmp_path, "08_dialogue", DIALOGUE, preset="gpu")  # a gpu record adds a gpu row, and only that one
    assert [key for key in rows(tmp_path) if key[1] == "gpu"] == [("Table 5", "gpu")]


def test_drafted_records_of_09_and_10(tmp_path):
    """The summaries that the drafts of notebooks 09 and 10 will write (notebooks/drafts) fill their rows."""
    curves = {"(a) English ppl, own k": [9, 5, 7], "(d) summarization valid ROUGE-2": [0.1, 0.3, 0.2],
              "(e) flat": [0.0, 0.0, 0.0]}
    verdict = {t: "best k = 50%; k = 1 and k = m both worse than the best: yes; best within 50-70%: yes"
               for t in curves}
    record(tmp_path, "09_k_sweep", {"ks": [0.0, 0.5, 1.0], "curves": curves, "noise_seeds": [1, 2],
                                    "verdict": verdict})
    for seed in (0, 1):  # per-run records: the extra seeds at k = 50% are noise seeds, not the sweep's seeds
        record(tmp_path, f"09_k_sweep/k=0.5_seed={seed}", {"ppl": 1.0}, seed=seed)
    systems = ("mass", "discrete", "feed", "bert+lm", "dae")
    scores = {d: {"bleu": [0.5, 0.7], "chrf": [10.0, 12.0], "test_ppl": [100.0, 120.0]} for d in ("en-fr", "fr-en")}
    rel = {lg: {"true": 10.0, "other": 30.0, "zeros": 40.0} for lg in ("en", "fr")}
    record(tmp_path, "10_ablations_and_baselines", {
        "seeds": [0, 1], "table": {f"{s} en-fr": scores for s in systems},
        "reliance": {s: rel for s in ("mass", "feed")},
        "verdict": {"Table 6: MASS beats Feed": "partly: ahead on 2 of 6", "Table 3: MASS beats DAE": "reproduced",
                    "Feed's decoder relies less on the encoder than MASS's (ratio)": "no: Feed 4.00, MASS 4.00"}})
    table = rows(tmp_path)
    fig5 = table["Fig. 5", "cpu"]
    assert fig5[2] == ("best k per panel: (a) English ppl, own k: 50%; (d) summarization valid ROUGE-2: 50%; "
                       "(e) flat: all equal")  # a flat curve has no best k (ROUGE-2 is 0 at every k at cpu)
    assert fig5[4] == "0 (k = 50%: 0, 1, 2) (2 runs)"
    assert fig5[5] == "best k within 50-70% in 3 of 3 panels; k = 1 and k = m both worse in 3 of 3"
    t6, t3 = table["Table 6", "cpu"], table["Table 3", "cpu"]
    assert t6[2].startswith("en-fr / fr-en: BLEU MASS 0.60 / 0.60, Discrete 0.60 / 0.60, Feed 0.60 / 0.60; test ppl")
    assert t6[2].endswith("MASS 4.00, Feed 4.00")
    assert t6[5] == "MASS beats Feed: partly: ahead on 2 of 6<br>Feed's decoder relies less on the encoder than " \
                    "MASS's (ratio): no: Feed 4.00, MASS 4.00"
    assert "DAE 110 / 110" in t3[2] and t3[5] == "MASS beats DAE: reproduced"


def test_record_of_11_part_a(tmp_path):
    """Notebook 11's summary fills the reliance row; its BART/T5 row says part B is not run while successors is None."""
    rel = {"mass": {lg: {"true": 10.0, "other": 11.0, "zeros": 15.0} for lg in ("en", "fr")},
           "dae": {lg: {"true": 10.0, "other": 90.0, "zeros": 30.0} for lg in ("en", "fr")}}
    record(tmp_path, "11_beyond_the_paper", {"reliance": rel, "successors": None, "verdict": {
        "MASS's decoder relies on the encoder more than dae's (ratios)": "partly: zeros 1.50 vs 3.00",
        "dae's cross-attention on the encoder is sharper than uniform (entropy)": "yes: 2.00 vs 3.50 nats",
        "mass's cross-attention on the encoder is sharper than uniform (entropy)": "no: 3.40 vs 3.50 nats",
        "more reliance on the encoder goes with a better X ppl (07)": "rank correlation +0.10 over 5 objectives "
                                                                      "(no; rho > 0.5 counts)"}})
    table = rows(tmp_path)
    mine, later = table["beyond: decoder's reliance on the encoder", "cpu"], table[
        "beyond: MASS vs BART and T5 at equal FLOPs", "cpu"]
    assert mine[2] == "ppl with zeros / with the true encoder output: MASS 1.50, DAE 3.00"
    assert mine[5] == ("MASS relies on the encoder more than (ppl ratios zeros/true, other/true): DAE partly<br>"
                       "cross-attention sharper than uniform (entropy < 90% of uniform): DAE (1 of 2)<br>"
                       "more reliance goes with a better downstream score (rank correlation > 0.5): X ppl (07) no")
    assert later[2] == "not run yet (part B of notebook 11)" and later[5] == ""


def test_record_of_11_part_b(tmp_path):
    """Part B's summary fills the BART/T5 row (steps at equal FLOPs, seed-mean scores, its verdicts only); the
    reliance row keeps its one seed although part B's per-run records have three."""
    b = {"pretrain_steps": {"BART": 718, "MASS": 1000, "T5": 1408},  # sorted keys, as save_results writes them
         "test_ppl": {n: {"chat": [2 * v, 2 * v], "nmt": [v, v + 2]} for n, v in (("BART", 20), ("MASS", 10),
                                                                                  ("T5", 30))},
         "chrf": {"MASS": [10.0, 11.0], "BART": [9.0, 9.0], "T5": [8.0, 8.5]}}
    record(tmp_path, "11_beyond_the_paper", {"reliance": {}, "successors": b, "verdict": {
        "MASS's decoder relies on the encoder more than dae's (ratios)": "no: zeros 1.00 vs 3.00",
        "BART beats MASS at equal FLOPs, test ppl (nmt)": "no (21.0 vs 11.0, beyond the seed spread)",
        "BART beats MASS at equal FLOPs, test ppl (chat)": "no (40.0 vs 20.0, beyond the seed spread)"}})
    for seed in (0, 1, 2):
        record(tmp_path, f"11_beyond_the_paper/part=B_seed={seed}", {"test_ppl": 1.0}, seed=seed)
    table = rows(tmp_path)
    mine, other = table["beyond: MASS vs BART and T5 at equal FLOPs", "cpu"], table[
        "beyond: decoder's reliance on the encoder", "cpu"]
    assert mine[2] == ("MASS / BART / T5: pre-training steps at equal FLOPs 1,000 / 718 / 1,408; test ppl nmt "
                       "11 / 21 / 31, chat 20 / 40 / 60; en-fr chrF 10.5 / 9.0 / 8.2")
    assert mine[4] == "0, 1, 2 (3 runs)" and other[4] == "0"
    assert mine[5] == "BART beats MASS at equal FLOPs, test ppl (nmt / chat): no (beyond the seed spread)"


@pytest.mark.parametrize("claim, split", [("plain", ("plain", "")), ("X (BLEU)", ("X", "BLEU")),
                                          ("MASS < none (all (120,088))", ("MASS < none", "all (120,088)")),
                                          ("(a) ppl, own k", ("(a) ppl, own k", ""))])
def test_split_detail(claim, split):
    assert rt.split_detail(claim) == split


def test_verdicts_merge_claims_that_differ_only_in_the_measure():
    v = {"Fig. 4: X (BLEU)": "reproduced (1.2 vs 0.3, beyond the seed spread)", "Fig. 4: X (chrF)": "reproduced",
         "Fig. 4: X (ppl)": "not reproduced", "Y": "6 of 6 points"}
    assert rt.verdicts(v, lambda c: True) == "X (BLEU): reproduced (beyond the seed spread)<br>X (chrF): reproduced" \
                                             "<br>X (ppl): not reproduced<br>Y: 6 of 6 points"
    v["Fig. 4: X (BLEU)"] = "reproduced"
    assert rt.verdicts(v, lambda c: "Y" not in c) == "X (BLEU / chrF): reproduced<br>X (ppl): not reproduced"
