"""Execute notebooks in place at the preset in $MINIMASS_PRESET (default cpu), keeping them small.

    MINIMASS_PRESET=cpu .venv/bin/python scripts/execute_notebooks.py notebooks/04_pretraining.ipynb

Like `jupyter nbconvert --execute --inplace`, except that progress-bar updates are merged into
their final line (coalesced streams) and per-cell timing metadata is dropped.
"""

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=None, kernel_name="python3", coalesce_streams=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata = {"kernelspec": nb.metadata.get("kernelspec", {})}
    nbformat.write(nb, path)


if __name__ == "__main__":
    os.environ.setdefault("MINIMASS_PRESET", "cpu")
    for arg in sys.argv[1:] or sorted(str(p) for p in Path("notebooks").glob("[0-9][0-9]_*.ipynb")):
        print(f"executing {arg} at preset {os.environ['MINIMASS_PRESET']}", flush=True)
        execute(Path(arg))
