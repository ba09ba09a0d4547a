"""Build the README's results table from the records in results/ (never typed by hand).

    .venv/bin/python scripts/results_table.py           # print the table
    .venv/bin/python scripts/results_table.py --write   # put it in README.md between the markers
    .venv/bin/python scripts/results_table.py --check   # exit 1, naming the rows that differ, if README is stale

One row per paper table or figure and preset, from the summary record `results/NN_name.PRESET.json`
(`minimass.save_results`; e.g. 08_dialogue.cpu.json -> Table 5 at cpu) and the per-run records in `results/NN_name/`.
A `cpu` row whose record does not exist yet reads "not run yet".
"""

import argparse
import difflib
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from statistics import mean
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- results-table:start -->", "<!-- results-table:end -->"
HEADER = "| paper | paper's number(s) | ours | preset | seeds | verdict | notebook |\n|---|---|---|---|---|---|---|"

# The paper's numbers (Song et al., ICML 2019), used where a notebook's record stores none.
PAPER = {
    "Table 2": "BLEU en-fr 37.5, fr-en 34.9 (XLM 33.4 / 33.3)",  # Table 2, newstest2014
    "Fig. 3": "BLEU plotted, not printed: MASS above no pre-training in all 6 directions at 10K / 100K / 1M pairs",
    "Fig. 4": "MASS over no pre-training: > 10 ROUGE points at 10K pairs, 5 at 100K (Gigaword; Sec. 4.3)",
    "Table 4": "ROUGE-1 / 2 / L at 3.8M pairs: MASS 38.73 / 19.71 / 35.96, BERT+LM 37.75 / 18.45 / 34.85, "
               "DAE 35.97 / 17.17 / 33.14",  # Table 4
    "Table 5": "PPL at 10K / 110K pairs: MASS 74.32 / 23.52, BERT+LM 80.11 / 24.84, none 82.39 / 26.38",  # Table 5
    "Fig. 5": "best pre-training PPL at k = 50-70% of m, best downstream near 50%; k = 1 and k = m worse "
              "(values not printed; Sec. 4.5)",
    "Table 6": "en-fr BLEU: MASS 37.5, Discrete 36.9, Feed 35.3",  # Table 6
    "Table 3": "BLEU en-fr / fr-en: MASS 37.5 / 34.9, BERT+LM 33.4 / 32.3, DAE 30.1 / 28.3",  # Table 3 (+ de, ro)
    "beyond: decoder's reliance on the encoder": "not measured (Sec. 3.3 argues it)",
    "beyond: MASS vs BART and T5 at equal FLOPs": "not in the paper (both came later)",
}
NAMES = {"mass": "MASS", "bert+lm": "BERT+LM", "dae": "DAE", "none": "none", "discrete": "Discrete", "feed": "Feed",
         "mass 5k": "MASS (5,000 steps)"}
# (label, record key, format) of the measures in the 'ours' cells
BLEU, CHRF, TEST_PPL, VALID_PPL = ("BLEU", "bleu", ".2f"), ("chrF", "chrf", ".1f"), ("test ppl", "test_ppl", ".0f"), \
    ("valid ppl", "valid_ppl", ".0f")
ENCODER = re.compile(r"encoder|relian", re.I)  # the claims of notebook 11's reliance analysis


def joined(values: list, f: str) -> str:
    """Seed means, ' / '-joined: joined([[1, 2], [3]], ".1f") -> '1.5 / 3.0'."""
    return " / ".join(format(mean(v), f) for v in values)


def size(key: str) -> str:
    """The training size in a table key: 'mass 10000' -> '10,000', 'mass all' -> 'all'."""
    return f"{int(n):,}" if (n := key.split()[-1]).isdigit() else n


def paper_05(r: dict) -> str:
    """Table 2 as notebook 05 recorded it: 'BLEU en-fr 37.5, fr-en 34.9 (XLM 33.4 / 33.3)'."""
    ef, fe = r["paper_table2"]["en-fr"], r["paper_table2"]["fr-en"]
    return f"BLEU en-fr {ef['MASS']}, fr-en {fe['MASS']} (XLM {ef['XLM']} / {fe['XLM']})"


def measures(cell: Callable[[str, str], str], *specs: tuple[str, str, str]) -> str:
    """Each (label, record key, format) as 'label cell(key, format)', '; '-joined."""
    return "; ".join(f"{label} {cell(key, f)}" for label, key, f in specs)


def ours_05(r: dict) -> str:
    o = {k.split()[0]: v for k, v in r["ours"].items() if "+ back-translation" in k}  # MASS, random
    return "en-fr / fr-en after back-translation, MASS vs random init: " + measures(
        lambda m, f: " vs ".join(joined([[o[s][d][m]] for d in ("en-fr", "fr-en")], f) for s in ("MASS", "random")),
        BLEU, CHRF, TEST_PPL)


def ours_06(r: dict) -> str:
    def span(init: str, m: str, f: str) -> str:
        v = [mean(row[init][m]) for row in r["table"].values()]
        return f"{min(v):{f}}-{max(v):{f}}"
    return f"range over {len(r['table'])} (direction, size) points, mean of seeds: " + measures(
        lambda m, f: f"MASS {span('mass', m, f)} vs none {span('random', m, f)}", VALID_PPL, CHRF, BLEU)


def ours_07_fig4(r: dict) -> str:
    t, sizes = r["table"], [k.split()[-1] for k in r["table"] if k.startswith("none ")]
    return "MASS vs none: " + measures(lambda m, f: ", ".join(
        f"{joined([t['mass ' + n][m]], f)} vs {joined([t['none ' + n][m]], f)} ({size(n)} pairs)" for n in sizes),
        ("ROUGE-1", "rouge1", ".2f"), ("ROUGE-2", "rouge2", ".2f"), VALID_PPL)


def ours_07_table4(r: dict) -> str:
    t = {s: r["table"][s + " all"] for s in ("mass", "bert+lm", "dae")}
    return "ROUGE-1 / 2 / L (valid ppl), all pairs: " + ", ".join(
        f"{NAMES[s]} {joined([v['rouge1'], v['rouge2'], v['rougeL']], '.2f')} (ppl {joined([v['valid_ppl']], '.0f')})"
        for s, v in t.items())


def ours_08(r: dict) -> str:
    t = r["table"]
    keys = {s: [k for k in t if k.startswith(s + " ")] for s in ("mass", "bert+lm", "none")}
    return f"test ppl at {' / '.join(size(k) for k in keys['mass'])} pairs: " + ", ".join(
        f"{NAMES[s]} {joined([t[k]['test_ppl'] for k in ks], '.0f')}" for s, ks in keys.items())


def ours_09(r: dict) -> str:
    best = {t: "all equal" if min(ys) == max(ys) else label((min if "ppl" in t else max)(zip(ys, r["ks"]))[1])
            for t, ys in r["curves"].items()}
    return "best k per panel: " + "; ".join(f"{t}: {k}" for t, k in best.items())


def label(k: float) -> str:
    """A mask ratio as notebook 09 labels it: 0 -> '1' (one token), 1 -> 'm', else a percentage."""
    return "1" if k == 0 else "m" if k == 1 else f"{k:.0%}"


def verdict_09(r: dict) -> str:
    v = list(r["verdict"].values())
    within, ends = (sum(s in x for x in v) for s in ("within 50-70%: yes", "both worse than the best: yes"))
    return f"best k within 50-70% in {within} of {len(v)} panels; k = 1 and k = m both worse in {ends} of {len(v)}"


def reliance(r: dict, systems: tuple[str, ...] | None = None) -> str:
    """Zero-encoder / true-encoder perplexity ratio per model (of ``systems``, if given), mean over languages,
    from a 'reliance' entry."""
    if "reliance" not in r:
        return ""
    ratio = {n: mean(v["zeros"] / v["true"] for v in langs.values()) for n, langs in r["reliance"].items()
             if systems is None or n in systems}
    return "ppl with zeros / with the true encoder output: " + ", ".join(
        f"{NAMES.get(n, n)} {x:.2f}" for n, x in ratio.items())


def ours_10(systems: tuple[str, ...]) -> Callable[[dict], str]:
    """The en-fr rows of notebook 10's table for these systems (Table 6 adds the reliance ratios)."""
    def ours(r: dict) -> str:
        out = "en-fr / fr-en: " + measures(lambda m, f: ", ".join(
            f"{NAMES[s]} {joined([r['table'][s + ' en-fr'][d][m] for d in ('en-fr', 'fr-en')], f)}" for s in systems),
            BLEU, TEST_PPL)
        return out + ("; " + reliance(r, systems) if "feed" in systems and reliance(r) else "")
    return ours


def verdict_11a(r: dict) -> str:
    """Notebook 11 part A's verdicts, one line per kind of claim (the numbers are in 'ours' and the notebook)."""
    more, sharp, down = [], {}, []
    for claim, v in r["verdict"].items():
        word = m[1] if (m := re.search(r"\((yes|no);", v)) else re.split(r"[:(]", v)[0].strip()  # rho: '(no; ..)'
        if m := re.match(r"MASS's decoder relies on the encoder more than (.+?)'s", claim):
            more.append(f"{NAMES.get(m[1], m[1])} {word}")
        elif m := re.match(r"(.+?)'s cross-attention on the encoder is sharper than uniform", claim):
            sharp[NAMES.get(m[1], m[1])] = word == "yes"
        elif m := re.match(r"more reliance on the encoder goes with a better (.+)", claim):
            down.append(f"{m[1]} {word}")
    lines = [f"MASS relies on the encoder more than (ppl ratios zeros/true, other/true): {', '.join(more)}",
             "cross-attention sharper than uniform (entropy < 90% of uniform): "
             f"{', '.join(n for n, y in sharp.items() if y) or 'none'} ({sum(sharp.values())} of {len(sharp)})",
             f"more reliance goes with a better downstream score (rank correlation > 0.5): {', '.join(down)}"]
    return "<br>".join(ln for ln, items in zip(lines, (more, sharp, down)) if items)


def ours_successors(r: dict) -> str:
    """Notebook 11 part B: the pre-training steps that buy MASS's FLOPs, then seed-mean test ppl per task and chrF."""
    b = r["successors"]
    if not b:
        return "not run yet (part B of notebook 11)"
    steps = b["pretrain_steps"]  # the record's keys are sorted: MASS first, then the tasks in the notebook's order
    names = sorted(steps, key=lambda n: n != "MASS")
    tasks = sorted(b["test_ppl"][names[0]], key=lambda t: ("nmt", "headline", "chat", t).index(t))
    ppl = ", ".join(f"{t} {joined([b['test_ppl'][n][t] for n in names], '.0f')}" for t in tasks)
    return (f"{' / '.join(names)}: pre-training steps at equal FLOPs {' / '.join(f'{steps[n]:,}' for n in names)}; "
            f"test ppl {ppl}; en-fr chrF {joined([b['chrf'][n] for n in names], '.1f')}")


class Row(NamedTuple):
    """A paper table or figure: notebook, ours, its verdict claims, paper's numbers (else PAPER), verdict cell."""
    label: str
    notebook: str
    ours: Callable[[dict], str]
    keep: Callable[[str], bool] = lambda claim: True
    paper: Callable[[dict], str] | None = None
    verdict: Callable[[dict], str] | None = None
    seeds: Callable[[dict, list[dict]], str] | None = None  # the seeds cell, when the default does not fit


ROWS = [Row("Table 2", "05_unsupervised_nmt", ours_05, paper=paper_05),
        Row("Fig. 3", "06_low_resource_nmt", ours_06),
        Row("Fig. 4", "07_summarization", ours_07_fig4, lambda c: bool(re.search(r"Fig\. 4|than no pre-training", c))),
        Row("Table 4", "07_summarization", ours_07_table4, lambda c: bool(re.search(r"Table 4|than (bert|dae)", c))),
        Row("Table 5", "08_dialogue", ours_08),
        Row("Fig. 5", "09_k_sweep", ours_09, verdict=verdict_09),
        Row("Table 6", "10_ablations_and_baselines", ours_10(("mass", "discrete", "feed")),
            lambda c: "Table 6" in c or "Feed" in c),
        Row("Table 3", "10_ablations_and_baselines", ours_10(("mass", "bert+lm", "dae")), lambda c: "Table 3" in c),
        Row("beyond: decoder's reliance on the encoder", "11_beyond_the_paper", reliance, verdict=verdict_11a,
            seeds=lambda rec, runs: str(rec["seed"])),  # the per-run records are part B's
        Row("beyond: MASS vs BART and T5 at equal FLOPs", "11_beyond_the_paper", ours_successors,
            lambda c: not ENCODER.search(c))]


def split_detail(claim: str) -> tuple[str, str]:
    """A claim's stem and its last parenthesis: 'MASS < none (all (120,088))' -> ('MASS < none', 'all (120,088)')."""
    m = re.fullmatch(r"(.*?) ?\(((?:[^()]|\([^()]*\))*)\)", claim)
    return (m[1], m[2]) if m else (claim, "")


def verdicts(verdict: dict[str, str], keep: Callable[[str], bool]) -> str:
    """The record's verdicts, claims differing only in their last parenthesis merged, numbers left to 'ours':
    {'X (BLEU)': 'reproduced (1.2 vs 0.3, beyond)', 'X (chrF)': 'reproduced'} -> 'X (BLEU / chrF): ...'."""
    groups: dict[tuple[str, str], list[str]] = {}
    for claim, v in verdict.items():
        if keep(claim):
            stem, detail = split_detail(re.sub(r"^(Table|Fig\.) \d+: ", "", claim))
            groups.setdefault((stem, re.sub(r"\(([^(),]*\d[^(),]*), ", "(", v)), []).append(detail)
    return "<br>".join(f"{stem}{' (' + ' / '.join(d) + ')' if any(d) else ''}: {v}" for (stem, v), d in groups.items())


def seeds(rec: dict, runs: list[dict]) -> str:
    """'0, 1, 2 (36 runs)': the summary's seeds (else the runs' seeds, else its own) and the per-run record count."""
    r = rec["results"]
    s = r.get("seeds") or (not r.get("noise_seeds") and sorted({run["seed"] for run in runs})) or [rec["seed"]]
    text = ", ".join(map(str, s)) + (f" (k = 50%: {', '.join(map(str, [rec['seed'], *r['noise_seeds']]))})"
                                     if r.get("noise_seeds") else "")
    return text + (f" ({len(runs)} runs)" if runs else "")


def link(root: Path, nb: str) -> str:
    """The notebook as a README link: the executed notebook, else its draft, else its number."""
    for path in (f"notebooks/{nb}.ipynb", f"notebooks/drafts/{nb}.py"):
        if (root / path).exists():
            return f"[{nb[:2]}{' (draft)' if 'drafts' in path else ''}]({path})"
    return f"{nb[:2]} (not written yet)"


def row(root: Path, spec: Row, preset: str) -> str:
    """One markdown row; 'not run yet' when the summary record is missing."""
    label, path = spec.label, root / "results" / f"{spec.notebook}.{preset}.json"
    cells = [label, PAPER[label], "not run yet", preset, "-", "-", link(root, spec.notebook)]
    if path.exists():
        rec = json.loads(path.read_text())
        r = rec["results"]
        runs = [json.loads(p.read_text()) for p in sorted((root / "results" / spec.notebook).rglob(f"*.{preset}.json"))]
        try:
            cells[1:3] = [spec.paper(r) if spec.paper else PAPER[label], spec.ours(r) or "(see the notebook)"]
            cells[5] = spec.verdict(r) if spec.verdict else verdicts(r.get("verdict", {}), spec.keep)
        except (KeyError, TypeError, ValueError, IndexError) as e:
            print(f"results_table: {path.name} lacks what the {label} row reads ({e!r})", file=sys.stderr)
            cells[2] = f"(record lacks {e})"
        cells[4] = (spec.seeds or seeds)(rec, runs)
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def table(root: Path = ROOT) -> str:
    """The results table: a `cpu` row per paper table or figure, and a row for every other preset with a record."""
    found = {p.name.split(".")[-2] for p in (root / "results").glob("[0-9][0-9]_*.*.json")}
    presets = ["cpu"] + sorted(found - {"cpu", "smoke"})
    lines = [row(root, spec, p) for spec in ROWS for p in presets
             if p == "cpu" or (root / "results" / f"{spec.notebook}.{p}.json").exists()]
    return "\n".join([HEADER, *lines])


def readme_table(readme: str) -> str:
    """The text between the README's markers."""
    if START not in readme or END not in readme:
        raise SystemExit(f"README.md lacks the markers {START} ... {END}")
    return readme.split(START, 1)[1].split(END, 1)[0].strip("\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="replace the table in README.md")
    ap.add_argument("--check", action="store_true", help="exit 1 when README.md's table differs from results/")
    args = ap.parse_args()
    readme_path, new = ROOT / "README.md", table()
    if args.check:
        old = readme_table(readme_path.read_text())
        if old != new:
            diff = difflib.unified_diff(old.splitlines(), new.splitlines(), "README.md", "results/", lineterm="")
            raise SystemExit("README.md's results table differs from what results/ gives (update it with "
                             "scripts/results_table.py --write):\n" + "\n".join(diff))
    elif args.write:
        readme_table(text := readme_path.read_text())  # checks the markers
        head, rest = text.split(START, 1)
        readme_path.write_text(f"{head}{START}\n{new}\n{END}{rest.split(END, 1)[1]}")
    else:
        print(new)


if __name__ == "__main__":
    main()
