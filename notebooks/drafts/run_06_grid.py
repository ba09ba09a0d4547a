"""Notebook 06's `cpu` grid in parallel, one worker per core, from the repository root:

    OMP_NUM_THREADS=1 MINIMASS_PRESET=cpu .venv/bin/python notebooks/drafts/run_06_grid.py CLAIMS_DIR &

Each worker takes the next run that no worker has claimed (a file in CLAIMS_DIR) and records it with
`lab.nmt_record`, exactly as the notebook's grid cell would (same settings, same record keys); the notebook
then reloads the records. A killed worker's run resumes from its checkpoint once its claim file is removed.
"""

import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import lab  # noqa: E402

from minimass.recipes import pretrained  # noqa: E402
from minimass.trainer import load_checkpoint  # noqa: E402

FT = {"max_steps": 3000, "eval_every": 100, "save_every": 100, "max_tokens": 2000, "warmup": 40, "patience": 3}
JOBS = [(system, n, seed) for seed in (0, 1, 2) for n in (1500, 300) for system in ("random", "mass")]


os.environ.setdefault("MINIMASS_RECORD", "1")  # the runs are recorded into results/


def main(claims: Path) -> None:
    torch.set_num_threads(1)
    ckpt = pretrained(langs=("en", "fr"), preset_name="cpu", seed=0)
    tok = load_checkpoint(ckpt)[1]
    claims.mkdir(parents=True, exist_ok=True)
    for system, n, seed in JOBS:
        try:
            os.close(os.open(claims / f"{system}_{n}_{seed}", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            continue
        r = lab.nmt_record("06_low_resource_nmt", system, ckpt if system == "mass" else None, tok, "en", "fr", n,
                           seed, "cpu", FT, 200, 1, ckpt.parent.name)
        print(system, n, seed, r["bleu"], r["chrf"], r["best_step"], r["last_step"], r["stopped"], flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
