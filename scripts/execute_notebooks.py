"""Execute notebooks in place at the preset in $MINIMASS_PRESET (default cpu), keeping them small.

    MINIMASS_PRESET=cpu .venv/bin/python scripts/execute_notebooks.py notebooks/04_pretraining.ipynb

Like `jupyter nbconvert --execute --inplace`, except that progress bars are not saved (a tqdm line on
stderr is dropped once the cell has run) and per-cell timing metadata is dropped. It is the maintainers' way to
execute (`make notebooks`, `make reproduce`), so new runs are recorded into results/ (MINIMASS_RECORD=1).
"""

import os
import re
import sys
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


def execute(path: Path) -> None:
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


if __name__ == "__main__":
    os.environ.setdefault("MINIMASS_PRESET", "cpu")
    os.environ.setdefault("MINIMASS_RECORD", "1")
    for arg in sys.argv[1:] or sorted(str(p) for p in Path("notebooks").glob("[0-9][0-9]_*.ipynb")):
        print(f"executing {arg} at preset {os.environ['MINIMASS_PRESET']}", flush=True)
        execute(Path(arg))
