"""Execute notebooks in place at the preset in $MINIMASS_PRESET (default cpu), keeping them small.

    MINIMASS_PRESET=cpu .venv/bin/python scripts/execute_notebooks.py notebooks/04_pretraining.ipynb

Like `jupyter nbconvert --execute --inplace`, except that progress bars are not saved (a tqdm line on
stderr is dropped once the cell has run) and per-cell timing metadata is dropped. It is the maintainers' way to
execute (`make notebooks`, `make reproduce`), so new runs are recorded into results/ (MINIMASS_RECORD=1), and so
is each notebook's execution time at a preset other than `smoke` (results/notebook_times.json: the README's
learning path quotes it).
"""

import json
import os
import re
import sys
import time
from datetime import date
from pathlib import Path

import nbformat
from nbclient import NotebookClient

TQDM = re.compile(r"\|.*\| *\d+/\d*.*\[[^\]]*(it/s|s/it|batch/s|s/batch)")


def without_progress_bars(outputs: list) -> list:
    """The outputs less their tqdm lines (``desc: 40%|####  | 4/10 [00:01<00:02, 2.1it/s]``) on stderr; a stream
    left empty is dropped."""
    kept = []
    for o in outputs:
        if o.get("output_type") == "stream" and o.get("name") == "stderr":
            text = o.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            lines = [ln for ln in text.replace("\r", "\n").splitlines() if ln.strip() and not TQDM.search(ln)]
            if not lines:
                continue
            o["text"] = "\n".join(lines) + "\n"
        kept.append(o)
    return kept


TIMES = Path(__file__).resolve().parents[1] / "results" / "notebook_times.json"


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo where there is one) and its core count."""
    try:
        names = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                 if ln.startswith("model name")]
    except OSError:
        names = []
    return f"{os.cpu_count()}-core {names[0] if names else 'CPU'}"


def record_time(path: Path, preset: str, seconds: float, load: float, times: Path = TIMES) -> None:
    """Write one notebook's execution time at ``preset`` into ``times`` (a JSON object: notebook -> preset ->
    seconds, date, machine, and the 1-minute load average when it started, which says whether other jobs shared
    the cores)."""
    table = json.loads(times.read_text()) if times.exists() else {}
    table.setdefault(path.stem, {})[preset] = {"seconds": round(seconds, 1), "date": date.today().isoformat(),
                                               "machine": cpu_name(), "load_at_start": round(load, 2)}
    times.write_text(json.dumps(dict(sorted(table.items())), indent=1) + "\n")


def execute(path: Path) -> None:
    """Execute one notebook in place (see the module's docstring), and record its execution time."""
    t0, load = time.time(), os.getloadavg()[0]
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=None, kernel_name="python3", coalesce_streams=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = without_progress_bars(cell.outputs)
    nb.metadata = {"kernelspec": nb.metadata.get("kernelspec", {})}
    nbformat.write(nb, path)
    preset = os.environ.get("MINIMASS_PRESET", "cpu")
    if preset != "smoke" and os.environ.get("MINIMASS_RECORD") == "1":
        record_time(path, preset, time.time() - t0, load)


if __name__ == "__main__":
    os.environ.setdefault("MINIMASS_PRESET", "cpu")
    os.environ.setdefault("MINIMASS_RECORD", "1")
    for arg in sys.argv[1:] or sorted(str(p) for p in Path("notebooks").glob("[0-9][0-9]_*.ipynb")):
        print(f"executing {arg} at preset {os.environ['MINIMASS_PRESET']}", flush=True)
        execute(Path(arg))
