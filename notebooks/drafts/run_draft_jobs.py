"""Run a draft notebook's recorded runs in parallel, one worker process per core, from the repository root:

    OMP_NUM_THREADS=1 MINIMASS_PRESET=cpu .venv/bin/python notebooks/drafts/run_draft_jobs.py \\
        notebooks/drafts/05_unsupervised_nmt.py bt_run CLAIMS_DIR &

A worker executes the draft's code cells in order until the first cell that calls FUNCTION (the draft's own
function for one recorded run, e.g. 05's ``bt_run(init, seed)``), so that every setting is the notebook's own.
It then takes each job of JOBS[draft] that no other worker has claimed (a file in CLAIMS_DIR) and calls
FUNCTION on it; the function records the run (``lab.run_once``), and executing the notebook afterwards loads
the records. A killed worker's run resumes from its checkpoint once its claim file is removed.
"""

import os
import sys
from pathlib import Path

import torch

JOBS = {"05_unsupervised_nmt": [(init, seed) for seed in (0, 1) for init in ("mass", "random")],
        "10_ablations_and_baselines": [(name, seed) for seed in (0, 1)
                                       for name in ("mass", "discrete", "feed", "bert+lm", "dae")]}


def code_cells(draft: Path) -> list[str]:
    """The code cells of a `# %%` cell-format source, in order."""
    cells, cur, is_code = [], [], False
    for line in draft.read_text().splitlines():
        if line.startswith("# %%"):
            if is_code:
                cells.append("\n".join(cur))
            cur, is_code = [], not line.startswith("# %% [markdown]")
        elif is_code:
            cur.append(line)
    if is_code:
        cells.append("\n".join(cur))
    return cells


os.environ.setdefault("MINIMASS_RECORD", "1")  # the runs are recorded into results/


def main(draft: Path, function: str, claims: Path) -> None:
    torch.set_num_threads(1)
    sys.path.insert(0, str(draft.resolve().parents[1]))  # notebooks/, for `import lab`
    ns: dict = {"__name__": "__draft__"}
    for cell in code_cells(draft):
        if f"{function}(" in cell and f"def {function}(" not in cell:
            break
        exec(compile(cell, str(draft), "exec"), ns)
    else:
        raise SystemExit(f"{draft}: no cell calls {function}()")
    claims.mkdir(parents=True, exist_ok=True)
    for job in JOBS[draft.stem]:
        try:
            os.close(os.open(claims / "_".join(map(str, job)), os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            continue
        r = ns[function](*job)
        print(job, {k: r.get(k) for k in ("best_step", "last_step", "stopped")}, flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
