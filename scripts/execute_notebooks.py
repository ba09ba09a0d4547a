"""Execute notebooks in place at the preset in $MINIMASS_PRESET (default cpu), keeping them small.

    MINIMASS_PRESET=cpu .venv/bin/python scripts/execute_notebooks.py notebooks/04_pretraining.ipynb

Like `jupyter nbconvert --execute --inplace`, except that progress bars are not saved (a tqdm line on
stderr is dropped once the cell has run) and per-cell timing metadata is dropped.
"""

import os
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

TQDM = re.compile(r"\|.*\| *\d+/\d*.*\[[^\]]*(it/s|s/it|batch/s|s/batch)")


def is_progress_bar(output) -> bool:
    """A stderr stream holding only tqdm lines (``desc: 40%|####  | 4/10 [00:01<00:02, 2.1it/s]``)."""
    if output.get("output_type") != "stream" or output.get("name") != "stderr":
        return False
    lines = [ln for ln in output.get("text", "").replace("\r", "\n").splitlines() if ln.strip()]
    return bool(lines) and all(TQDM.search(ln) for ln in lines)


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=None, kernel_name="python3", coalesce_streams=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not is_progress_bar(o)]
    nb.metadata = {"kernelspec": nb.metadata.get("kernelspec", {})}
    nbformat.write(nb, path)


if __name__ == "__main__":
    os.environ.setdefault("MINIMASS_PRESET", "cpu")
    for arg in sys.argv[1:] or sorted(str(p) for p in Path("notebooks").glob("[0-9][0-9]_*.ipynb")):
        print(f"executing {arg} at preset {os.environ['MINIMASS_PRESET']}", flush=True)
        execute(Path(arg))
