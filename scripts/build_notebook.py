"""Build a notebook from a cell-format source: cells start at lines '# %%' (code) or '# %% [markdown]'
(markdown, each line's leading '# ' removed). Outputs are empty: execute it with scripts/execute_notebooks.py.

    .venv/bin/python scripts/build_notebook.py notebooks/drafts/NN_name.py notebooks/NN_name.ipynb
"""

import sys

import nbformat


def cells_of(text: str) -> list:
    cells, kind, buf = [], None, []

    def flush():
        body = "\n".join(buf).strip("\n")
        if kind == "md":
            lines = [ln[2:] if ln.startswith("# ") else ln.removeprefix("#") for ln in body.splitlines()]
            cells.append(nbformat.v4.new_markdown_cell("\n".join(lines)))
        elif kind == "code":
            cells.append(nbformat.v4.new_code_cell(body))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, buf = ("md" if line.startswith("# %% [markdown]") else "code"), []
        else:
            buf.append(line)
    flush()
    return cells


if __name__ == "__main__":
    src, dst = sys.argv[1:3]
    nb = nbformat.v4.new_notebook(cells=cells_of(open(src, encoding="utf-8").read()))
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}
    nbformat.write(nb, dst)
