"""Where a `gpu`-preset MASS step spends its time on a CUDA GPU: torch.profiler over a few Trainer steps.

    MINIMASS_DATA=/path/to/cache PYTHONPATH=. python3 bench/gpu_profile.py [--max-tokens 24000] [--steps 5]

Prints the operators with the most GPU time and the step's GPU-busy share (GPU kernel time / wall time).
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import gpu_check  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--max-tokens", type=int, default=24000)
    p.add_argument("--steps", type=int, default=5, help="profiled steps (after 8 warm-up steps)")
    p.add_argument("--preset", default="gpu")
    args = p.parse_args()
    args.sentences, args.allow_download, args.device = 20000, False, "cuda"
    with tempfile.TemporaryDirectory() as tmp:
        tasks, tok, _ = gpu_check.build_tasks(args, Path(tmp))
        trainer = gpu_check.new_trainer(args, tasks, tok, Path(tmp), 8 + args.steps)
        for _ in range(8):
            trainer.train_step()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            for _ in range(args.steps):
                trainer.train_step()
            torch.cuda.synchronize()
        wall = time.perf_counter() - t0
    events = prof.key_averages()
    gpu_total = sum(e.self_device_time_total for e in events) / 1e6
    print(f"{args.steps} steps, {wall / args.steps * 1000:.1f} ms/step wall (profiled), GPU kernels "
          f"{gpu_total / args.steps * 1000:.1f} ms/step: GPU busy {gpu_total / wall:.0%}")
    print(events.table(sort_by="self_device_time_total", row_limit=18, max_name_column_width=60))


if __name__ == "__main__":
    main()
