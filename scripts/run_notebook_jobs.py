"""Run a notebook's recorded runs in parallel, one worker process per core, from the repository root:

    OMP_NUM_THREADS=1 MINIMASS_PRESET=cpu .venv/bin/python scripts/run_notebook_jobs.py \\
        notebooks/05_unsupervised_nmt.ipynb bt_run CLAIMS_DIR &

NOTEBOOK is an executed notebook (.ipynb) or a draft's cell-format source (notebooks/drafts/NN_name.py). A worker
executes its code cells in order until the first cell that calls FUNCTION (the notebook's own function for one
job, e.g. 05's ``bt_run(init, seed)``), so that every setting is the notebook's own. It then takes each job of
JOBS[notebook, FUNCTION] (computed from the notebook's own sizes) that no other worker has claimed (a file in
CLAIMS_DIR) and calls FUNCTION on it. A run function records its run (``lab.run_once``), and executing the
notebook afterwards loads the records; ``ckpt`` (07, 08) pre-trains a system's checkpoint into the run cache.
A killed worker's job resumes from its checkpoint once its claim file is removed.

Some functions need others' jobs done first: 07 runs ``ckpt``, then ``tuned`` (the decoding settings), then
``recorded``; 08 runs ``ckpt``, then ``recorded``. Start the next phase's workers when the last one's are done:
two workers must never pre-train the same checkpoint.
"""

import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_notebook import cells_of  # noqa: E402

JOBS = {  # (notebook, function): the jobs, from the namespace of the cells before the function's first call
    ("05_unsupervised_nmt", "bt_run"): lambda ns: [(init, seed) for seed in ns["SEEDS"] for init in ("mass", "random")],
    ("10_ablations_and_baselines", "run_bt"): lambda ns: [(name, seed) for seed in ns["SIZES"]["seeds"]
                                                          for name in ns["SYSTEMS"]],
    ("07_summarization", "ckpt"): lambda ns: [(name,) for name in ns["RECIPES"]],
    ("07_summarization", "tuned"): lambda ns: [(system,) for system in ns["SYSTEMS"]],
    ("07_summarization", "recorded"): lambda ns: [(system, n, seed) for system, n in ns["RUNS"]
                                                  for seed in ns["SIZES"]["seeds"]],
    ("08_dialogue", "ckpt"): lambda ns: [(name,) for name in ns["RECIPES"]],
    ("08_dialogue", "recorded"): lambda ns: [(system, n, seed) for n in ns["SIZES"]["sizes"]
                                             for system in ns["SYSTEMS"] for seed in ns["SIZES"]["seeds"]]}


def code_cells(draft: Path) -> list[str]:
    """The code cells of a notebook or of a `# %%` cell-format source (read as scripts/build_notebook.py
    builds it), in order."""
    cells = (json.loads(draft.read_text())["cells"] if draft.suffix == ".ipynb"
             else cells_of(draft.read_text()))
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def first_call(cells: list[str], function: str) -> int | None:
    """The index of the first code cell that calls ``function`` without defining it (None: no cell does)."""
    return next((i for i, c in enumerate(cells) if f"{function}(" in c and f"def {function}(" not in c), None)


os.environ.setdefault("MINIMASS_RECORD", "1")  # the runs are recorded into results/


def main(draft: Path, function: str, claims: Path) -> None:
    """Run every unclaimed job of JOBS[draft] with the notebook's FUNCTION, after the cells before its first call."""
    torch.set_num_threads(1)
    draft, claims = draft.resolve(), claims.resolve()
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "notebooks"))  # for `import lab`
    os.chdir(root / "notebooks")  # where a notebook runs
    if (draft.stem, function) not in JOBS:
        raise SystemExit(f"{draft}: no jobs for {function}(); JOBS has {sorted(JOBS)}")
    cells = code_cells(draft)
    first = first_call(cells, function)
    if first is None:  # refused before anything runs
        raise SystemExit(f"{draft}: no cell calls {function}()")
    ns: dict = {"__name__": "__draft__"}
    for cell in cells[:first]:
        exec(compile(cell, str(draft), "exec"), ns)
    claims.mkdir(parents=True, exist_ok=True)
    for job in JOBS[draft.stem, function](ns):
        try:
            os.close(os.open(claims / "_".join(map(str, job)), os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            continue
        r = ns[function](*job)
        print(job, {k: r.get(k) for k in ("best_step", "last_step", "stopped")} if isinstance(r, dict) else r,
              flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
