"""Build the results tables from the records in results/ (never typed by hand).

    .venv/bin/python scripts/results_table.py           # print what would be written
    .venv/bin/python scripts/results_table.py --write   # refresh every generated block (the one command to run)
    .venv/bin/python scripts/results_table.py --check   # exit 1, showing the difference, if a block is stale

Four blocks, each between its own markers: the full table in docs/results.md; in README.md, the learning path (each
notebook's title, its execution time from results/notebook_times.json and the training time its records hold), a
one-line summary per row of that table (a mark for each claim's verdict) and one real example output (a test
verse translated by the systems of the records in EXAMPLE).

It only renders. Each experiment notebook (05-11) writes a summary record `results/NN_name.PRESET.json` whose
results hold `claims` (a list of {claim, where, measure, verdict, delta, p, seeds}, the schema of
`notebooks/lab.py:claim`), `paper` ({where: the paper's numbers as printed}) and `ours` ({where: the sentence the
notebook writes}). One row per (notebook, where, preset), in notebook order; a row's verdict is the verdicts of
its claims, with the mean difference and Welch's p over seeds. A record written before the claims schema gets one
row saying so; a notebook with no record reads "not run yet".
"""

import argparse
import difflib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "notebooks"))
from lab import TIMES, duration, executed, recorded_run_s  # noqa: E402, F401  (notebook 00 shows them too)

TABLE_FILE, README = "docs/results.md", "README.md"
START, END = "<!-- results-table:start -->", "<!-- results-table:end -->"
SUMMARY = ("<!-- results-summary:start -->", "<!-- results-summary:end -->")
EXAMPLE_MARKERS = ("<!-- results-example:start -->", "<!-- results-example:end -->")
PATH_MARKERS = ("<!-- learning-path:start -->", "<!-- learning-path:end -->")
HEADER = "| paper | paper's number(s) | ours | preset | seeds | verdict | notebook |\n|---|---|---|---|---|---|---|"
FIRST_EXPERIMENT = 5  # notebooks 05 onwards reproduce the paper's experiments
MARKS = {"reproduced": "✅", "partly": "◐", "not reproduced": "❌", "at floor": "▁", "undecided": "?"}
UNJUDGED = "–"  # the mark of a row whose record has no claims (or no record)
# The README's example output: (label, translation record under results/) for each system shown, and the test item.
_CEILING = ("06_low_resource_nmt/beam=5_dir=en-fr_max_steps=5000_max_tokens=2000_n_train=all_patience=3_"
            "pretrain=mass_en-fr_k0.5_mass_cpu_seed0_5000_seed=0_system={}.cpu.json")
EXAMPLE = {"records": [("MASS", _CEILING.format("mass")), ("no pre-training", _CEILING.format("random"))],
           "index": 0}


def number(x: float | None, spec: str = ".3g") -> str:
    """A delta or p for a table cell: number(0.01234) -> '0.0123'; None -> '-'."""
    return "-" if x is None else format(x, spec)


def verdict_cell(claims: list[dict]) -> str:
    """'claim (measure): verdict (delta -1.2, p 0.03)' for each claim, one a line."""
    return "<br>".join(f"{c['claim']} ({c['measure']}): **{c['verdict']}** (delta {number(c['delta'])}, "
                       f"p {number(c['p'], '.2g')})" for c in claims)


def seeds_cell(claims: list[dict]) -> str:
    """The seeds behind a row's claims and what they varied: '3 (fine-tuning)'; several kinds are ' / '-joined."""
    kinds = dict.fromkeys(f"{c['seeds']['n']} ({c['seeds']['varied']})" for c in claims)
    return " / ".join(kinds)


def link(root: Path, nb: str, prefix: str = "") -> str:
    """The notebook as a markdown link (the executed notebook, else its draft), its path preceded by ``prefix``
    (``"../"`` from docs/)."""
    for path in (f"notebooks/{nb}.ipynb", f"notebooks/drafts/{nb}.py"):
        if (root / path).exists():
            return f"[{nb[:2]}{' (draft)' if 'drafts' in path else ''}]({prefix}{path})"
    return nb[:2]


def cells_line(cells: list[str]) -> str:
    """One markdown table line; a '|' or newline inside a cell is escaped."""
    return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def topic(nb: str) -> str:
    """A notebook's name as words: '06_low_resource_nmt' -> 'low resource nmt'."""
    return nb[3:].replace("_", " ")


def record(root: Path, nb: str, preset: str) -> dict | str:
    """A notebook's summary record at one preset (its ``results``), or, when it has no claims, the one sentence
    its row says instead."""
    path = root / "results" / f"{nb}.{preset}.json"
    if not path.exists():
        return "not run yet"
    r = json.loads(path.read_text())["results"]
    return r if "claims" in r else "recorded before the one verdict rule; a re-run is due"


def by_where(claims: list[dict]) -> dict[str, list[dict]]:
    """Claims grouped by their table or figure (``where``), in order of first appearance: one row each."""
    out: dict[str, list[dict]] = {}
    for c in claims:
        out.setdefault(c["where"], []).append(c)
    return out


def rows(root: Path, nb: str, preset: str) -> list[str]:
    """The markdown rows of one notebook's summary record at one preset (links relative to docs/)."""
    r = record(root, nb, preset)
    if isinstance(r, str):
        unjudged = "-" if r == "not run yet" else "not yet judged under the one rule"
        return [cells_line([topic(nb), "-", r, preset, "-", unjudged, link(root, nb, "../")])]
    return [cells_line([where, r.get("paper", {}).get(where, "-"), r.get("ours", {}).get(where, "-"), preset,
                        seeds_cell(cs), verdict_cell(cs), link(root, nb, "../")])
            for where, cs in by_where(r["claims"]).items()]


def sections(root: Path) -> list[tuple[str, str]]:
    """(notebook, preset) in table order: every experiment notebook at `cpu`, then at any other preset (not
    `smoke`) that has a summary record."""
    notebooks = sorted({p.stem for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb")} |
                       {p.stem for p in (root / "notebooks" / "drafts").glob("[0-9][0-9]_*.py")})
    notebooks = [nb for nb in notebooks if int(nb[:2]) >= FIRST_EXPERIMENT]
    found = {p.name.split(".")[-2] for p in (root / "results").glob("[0-9][0-9]_*.*.json")}
    presets = ["cpu"] + sorted(found - {"cpu", "smoke"})
    return [(nb, p) for nb in notebooks for p in presets
            if p == "cpu" or (root / "results" / f"{nb}.{p}.json").exists()]


def table(root: Path = ROOT) -> str:
    """The full results table (docs/results.md): one row per (notebook, where, preset)."""
    return "\n".join([HEADER, *(line for nb, p in sections(root) for line in rows(root, nb, p))])


def marks(claims: list[dict]) -> str:
    """The verdicts of a row's claims as marks, grouped by measure in order of first appearance:
    'BLEU ?? · chrF ◐? · valid ppl ✅✅'."""
    by_measure: dict[str, str] = {}
    for c in claims:
        by_measure[c["measure"]] = by_measure.get(c["measure"], "") + MARKS[c["verdict"]]
    return " · ".join(f"{m} {v}" for m, v in by_measure.items())


def summary(root: Path = ROOT) -> str:
    """The README's summary: one line per row of the full table, with a mark for each of its claims' verdicts."""
    lines = []
    for nb, preset in sections(root):
        at = "" if preset == "cpu" else f", `{preset}`"
        r = record(root, nb, preset)
        if isinstance(r, str):
            lines.append(f"- {UNJUDGED} **{topic(nb)}** ({link(root, nb)}{at}): {r}")
        else:
            lines += [f"- **{where}**, {topic(nb)} ({link(root, nb)}{at}): {marks(cs)}"
                      for where, cs in by_where(r["claims"]).items()]
    return "\n".join(lines)


def example(root: Path = ROOT, spec: dict = EXAMPLE) -> str:
    """The README's example output: test item ``spec["index"]`` as each record of ``spec["records"]`` translated
    it (its ``results.hyps``), after its source and reference from ``minimass.data.parallel`` (the pairs the
    records were scored on), with each record's scores over the whole test set. All records must share a
    direction."""
    from minimass import data  # the data cache: only the example needs it

    recs = []
    for label, name in spec["records"]:
        path = root / "results" / name
        if not path.exists():
            raise SystemExit(f"the example's record {path} is missing: update EXAMPLE in scripts/results_table.py")
        recs.append((label, json.loads(path.read_text())))
    dirs = {rec["recipe"]["dir"] for _, rec in recs}
    if len(dirs) != 1:
        raise SystemExit(f"the example's records translate different directions: {sorted(dirs)}")
    (direction,) = dirs
    i, first = spec["index"], recs[0][1]
    src, ref = data.parallel(*direction.split("-")).test[i]
    scores = "; ".join(f"{label} BLEU {rec['results']['bleu']:.1f}, chrF {rec['results']['chrf']:.1f} (best step "
                       f"{rec['results']['best_step']} of at most {rec['recipe']['max_steps']}, stopped: "
                       f"{rec['results']['stopped']})" for label, rec in recs)
    width = max(len(w) for w in ["source", "reference", *(label for label, _ in recs)]) + 2
    lines = [("source:", src), ("reference:", ref)] + [(f"{label}:", rec["results"]["hyps"][i]) for label, rec in recs]
    return "\n".join([
        f"Test verse {i + 1} of {first['results']['n']}, {direction.replace('-', '->')}, each system fine-tuned on "
        f"{first['recipe']['n_train']} training pairs and decoding with beam {first['recipe']['beam']} "
        f"(records: `results/{Path(spec['records'][0][1]).parent}/*n_train={first['recipe']['n_train']}*`):", "", "```",
        *(f"{head:{width}s}{text}" for head, text in lines), "```", "",
        f"Over all {first['results']['n']} test verses: {scores}."])


def learning_path(root: Path = ROOT, preset: str = "cpu") -> str:
    """The README's learning path: one line per notebook with its title (its first heading), the time its last
    execution at ``preset`` took (results/notebook_times.json), and the training time its records hold, which a
    first execution without them spends again; then the machines and dates of those times."""
    lines, machines, loads = [], {}, []
    for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        title = "".join(cells[0]["source"]).splitlines()[0].lstrip("# ").split(" · ", 1)[-1]
        t = executed(path.stem, preset, root)
        when = f"executes in {duration(t['seconds'])}" if t else "not timed yet"
        if t:
            machines.setdefault(t["machine"], set()).add(t["date"])
            loads += [t["load_at_start"]] if t.get("load_at_start") is not None else []
        trained = recorded_run_s(path.stem, preset, root)
        when += f"; the runs it records took {duration(trained)}" if trained else ""
        lines.append(f"- [{path.stem[:2]}](notebooks/{path.name}) {title} ({when})")
    lines.append(f"\nTimes at `{preset}` with the records in place, measured by `scripts/execute_notebooks.py` on "
                 + ("; ".join(f"{m} ({' to '.join(sorted({min(d), max(d)}))})" for m, d in machines.items())
                    or "no machine yet")
                 + (f", while other jobs ran (load average {min(loads):.1f}-{max(loads):.1f} at the start)"
                    if loads and max(loads) >= 1.0 else "") + ".")
    return "\n".join(lines)


def blocks(root: Path = ROOT) -> list[tuple[str, tuple[str, str], str]]:
    """Every generated block: (file, its markers, the text that belongs between them)."""
    return [(TABLE_FILE, (START, END), table(root)), (README, PATH_MARKERS, learning_path(root)),
            (README, SUMMARY, summary(root)), (README, EXAMPLE_MARKERS, example(root))]


def between(text: str, markers: tuple[str, str], name: str = README) -> str:
    """The text between a file's markers (without the newlines next to them)."""
    start, end = markers
    if start not in text or end not in text:
        raise SystemExit(f"{name} lacks the markers {start} ... {end}")
    return text.split(start, 1)[1].split(end, 1)[0].strip("\n")


def replaced(text: str, markers: tuple[str, str], new: str, name: str = README) -> str:
    """``text`` with what lies between ``markers`` replaced by ``new``."""
    between(text, markers, name)  # checks the markers
    start, end = markers
    head, rest = text.split(start, 1)
    return f"{head}{start}\n{new}\n{end}{rest.split(end, 1)[1]}"


def main(argv: list[str] | None = None, root: Path = ROOT) -> None:
    """--check (exit 1 on a stale block), --write (refresh every block), or print the blocks."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="replace every generated block (docs/results.md, README.md)")
    ap.add_argument("--check", action="store_true", help="exit 1 when a generated block differs from results/")
    args = ap.parse_args(argv)
    todo = blocks(root)
    if args.check:
        stale = []
        for name, markers, new in todo:
            old = between((root / name).read_text(), markers, name)
            if old != new:
                stale += difflib.unified_diff(old.splitlines(), new.splitlines(), f"{name} {markers[0]}",
                                              "results/", lineterm="")
        if stale:
            raise SystemExit("generated blocks differ from what results/ gives (update them with "
                             "scripts/results_table.py --write):\n" + "\n".join(stale))
    elif args.write:
        for name in dict.fromkeys(name for name, _, _ in todo):
            text = (root / name).read_text()
            for _, markers, new in (b for b in todo if b[0] == name):
                text = replaced(text, markers, new, name)
            (root / name).write_text(text)
    else:
        print("\n\n".join(f"{name} {markers[0]}\n{new}" for name, markers, new in todo))


if __name__ == "__main__":
    main()
