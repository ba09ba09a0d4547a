"""Quiet, readable notebooks: what the saved outputs and the code cells of notebooks/NN_*.ipynb may hold.

The notebooks are read as JSON; nothing is executed. A failure names the notebook (the test id), the cell
(its index in the notebook's list of cells, markdown included) and the line.
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PROGRESS_BARS = ("it/s]", "s/it]", "batch/s]")  # the end of a tqdm line: rate and closing bracket
MACHINE_PATHS = ("/root/", "/home/", "/tmp/", "/work/")
MAX_CELL_LINES = 30
MAX_LINE_CHARS = 100


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def text(value) -> str:
    """A notebook text field, stored as one string or as a list of lines."""
    return "".join(value) if isinstance(value, list) else str(value)


def output_texts(output: dict) -> list[str]:
    """The text an output shows: a stream's text, an error's traceback, the text forms of a result or display."""
    if output.get("output_type") == "stream":
        return [text(output.get("text", ""))]
    if output.get("output_type") == "error":
        return [text(output.get("traceback", [])), f"{output.get('ename')}: {output.get('evalue')}"]
    data = output.get("data", {})
    return [text(v) for mime, v in data.items() if mime.startswith("text/") or mime == "application/json"]


def saved_lines(path: Path):
    """(cell index, output index, line) for every line of text in the notebook's saved outputs."""
    for i, cell in enumerate(cells(path)):
        for j, output in enumerate(cell.get("outputs", [])):
            for t in output_texts(output):
                for line in t.replace("\r", "\n").splitlines():
                    yield i, j, line


def code_cells(path: Path):
    """(cell index, source lines) for every code cell."""
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] == "code":
            yield i, text(cell["source"]).splitlines()


def report(problems: list[str], what: str) -> str:
    return f"{len(problems)} {what}:\n" + "\n".join(problems)


def test_the_notebooks_are_found():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_progress_bar_in_outputs(path):
    problems = [f"cell {i}, output {j}: {line.strip()[:120]!r}" for i, j, line in saved_lines(path)
                if any(bar in line for bar in PROGRESS_BARS)]
    assert not problems, report(problems, "progress-bar lines in saved outputs")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_error_in_outputs(path):
    problems = []
    for i, cell in enumerate(cells(path)):
        for j, o in enumerate(cell.get("outputs", [])):
            if o.get("output_type") == "error":
                problems.append(f"cell {i}, output {j}: an error output ({o.get('ename')}: {o.get('evalue')})")
            elif o.get("output_type") == "stream" and o.get("name") == "stderr" and "Traceback" in text(o["text"]):
                line = next(n for n, s in enumerate(text(o["text"]).splitlines(), 1) if "Traceback" in s)
                problems.append(f"cell {i}, output {j}: a traceback on stderr (line {line})")
    assert not problems, report(problems, "errors in saved outputs")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_machine_path_in_outputs(path):
    problems = [f"cell {i}, output {j}: {line.strip()[:120]!r}" for i, j, line in saved_lines(path)
                if any(p in line for p in MACHINE_PATHS)]
    assert not problems, report(problems, f"saved output lines with a machine path {MACHINE_PATHS}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_are_short(path):
    problems = [f"cell {i}: {len(lines)} lines" for i, lines in code_cells(path) if len(lines) > MAX_CELL_LINES]
    assert not problems, report(problems, f"code cells over {MAX_CELL_LINES} lines")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_lines_are_narrow(path):
    problems = [f"cell {i}, line {n}: {len(line)} characters: {line.strip()[:60]!r}..."
                for i, lines in code_cells(path) for n, line in enumerate(lines, 1) if len(line) > MAX_LINE_CHARS]
    assert not problems, report(problems, f"code lines over {MAX_LINE_CHARS} characters")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cells_with_outputs_were_run(path):
    """nbval refuses a code cell that has outputs but no execution count ("Unrun reference cell has outputs")."""
    problems = [f"cell {i}" for i, cell in enumerate(cells(path))
                if cell["cell_type"] == "code" and cell.get("outputs") and cell.get("execution_count") is None]
    assert not problems, report(problems, "code cells with outputs and no execution count")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_a_unique_id(path):
    """nbformat 4.5 cells carry an ``id``; one without it draws nbformat's MissingIDFieldWarning, which future
    nbformat versions make an error."""
    ids = [cell.get("id") for cell in cells(path)]
    problems = [f"cell {i}" for i, cell_id in enumerate(ids) if not cell_id or ids.count(cell_id) > 1]
    assert not problems, report(problems, "cells without an id, or with another cell's id")
