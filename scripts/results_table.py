"""Build the README's results table from the records in results/ (never typed by hand).

    .venv/bin/python scripts/results_table.py           # print the table
    .venv/bin/python scripts/results_table.py --write   # put it in README.md between the markers
    .venv/bin/python scripts/results_table.py --check   # exit 1, showing the difference, if README is stale

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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- results-table:start -->", "<!-- results-table:end -->"
HEADER = "| paper | paper's number(s) | ours | preset | seeds | verdict | notebook |\n|---|---|---|---|---|---|---|"
FIRST_EXPERIMENT = 5  # notebooks 05 onwards reproduce the paper's experiments


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


def link(root: Path, nb: str) -> str:
    """The notebook as a README link: the executed notebook, else its draft."""
    for path in (f"notebooks/{nb}.ipynb", f"notebooks/drafts/{nb}.py"):
        if (root / path).exists():
            return f"[{nb[:2]}{' (draft)' if 'drafts' in path else ''}]({path})"
    return nb[:2]


def cells_line(cells: list[str]) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def rows(root: Path, nb: str, preset: str) -> list[str]:
    """The markdown rows of one notebook's summary record at one preset."""
    path = root / "results" / f"{nb}.{preset}.json"
    if not path.exists():
        return [cells_line([nb[3:].replace("_", " "), "-", "not run yet", preset, "-", "-", link(root, nb)])]
    r = json.loads(path.read_text())["results"]
    if "claims" not in r:
        return [cells_line([nb[3:].replace("_", " "), "-", "recorded before the one verdict rule; a re-run is due",
                            preset, "-", "not yet judged under the one rule", link(root, nb)])]
    groups: dict[str, list[dict]] = {}
    for c in r["claims"]:
        groups.setdefault(c["where"], []).append(c)
    return [cells_line([where, r.get("paper", {}).get(where, "-"), r.get("ours", {}).get(where, "-"), preset,
                        seeds_cell(cs), verdict_cell(cs), link(root, nb)]) for where, cs in groups.items()]


def table(root: Path = ROOT) -> str:
    """The results table: the `cpu` rows of every experiment notebook, then any other preset with a record."""
    notebooks = sorted({p.stem for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb")} |
                       {p.stem for p in (root / "notebooks" / "drafts").glob("[0-9][0-9]_*.py")})
    notebooks = [nb for nb in notebooks if int(nb[:2]) >= FIRST_EXPERIMENT]
    found = {p.name.split(".")[-2] for p in (root / "results").glob("[0-9][0-9]_*.*.json")}
    presets = ["cpu"] + sorted(found - {"cpu", "smoke"})
    lines = [line for nb in notebooks for p in presets
             if p == "cpu" or (root / "results" / f"{nb}.{p}.json").exists() for line in rows(root, nb, p)]
    return "\n".join([HEADER, *lines])


def readme_table(readme: str) -> str:
    """The text between the README's markers."""
    if START not in readme or END not in readme:
        raise SystemExit(f"README.md lacks the markers {START} ... {END}")
    return readme.split(START, 1)[1].split(END, 1)[0].strip("\n")


def main(argv: list[str] | None = None, root: Path = ROOT) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="replace the table in README.md")
    ap.add_argument("--check", action="store_true", help="exit 1 when README.md's table differs from results/")
    args = ap.parse_args(argv)
    readme_path, new = root / "README.md", table(root)
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
