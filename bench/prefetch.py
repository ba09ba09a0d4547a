"""How long a training step waits for its batch, with and without the prefetch thread (``TrainConfig.prefetch``).

Runs the same MASS pre-training steps twice (English + French Bible text, the preset's model and batches, one
seed), once building each batch in the step and once in the background thread, and writes the share of wall time
the steps spent waiting for batches, their median step time and tokens/s to ``bench/prefetch.json``:

    .venv/bin/python bench/prefetch.py                  # cpu preset, 60 steps each, 1 thread
    .venv/bin/python bench/prefetch.py --preset smoke --steps 20 --out /tmp/p.json
"""

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from minimass import data
from minimass.model import build_model
from minimass.recipes import get_tokenizer
from minimass.trainer import Task, Trainer, read_log, train_config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(Path(__file__).with_name("prefetch.json")))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    texts = {lang: data.monolingual(lang, seed=0).train[:20000] for lang in ("en", "fr")}
    with tempfile.TemporaryDirectory() as tmp:
        vocab = {"smoke": 1000}.get(args.preset, 8000)
        tok = get_tokenizer(Path(tmp), texts["en"] + texts["fr"], vocab)
        tasks = [Task("mass", data.encode_cached(tok, texts[lg], f"bench-prefetch-{lg}-{vocab}"), lang=i, name=lg)
                 for i, lg in enumerate(("en", "fr"))]
        out = {"preset": args.preset, "steps": args.steps, "threads": args.threads, "cpu": platform.processor()
               or platform.machine(), "torch": torch.__version__, "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                                    time.gmtime())}
        for prefetch in (False, True):
            torch.manual_seed(0)
            model = build_model(args.preset, vocab_size=tok.vocab_size)
            cfg = train_config(args.preset, {"max_steps": args.steps, "log_every": 1, "eval_every": 0,
                                             "save_every": args.steps, "progress": False, "prefetch": prefetch})
            run = Path(tmp) / f"prefetch{prefetch}"
            t0 = time.time()
            Trainer(model, tasks, cfg, run).train()
            log = [r for r in read_log(run) if "tok_s" in r][3:]  # the first steps warm up
            out["prefetch" if prefetch else "in_step"] = {
                "wait_share": statistics.mean(r["wait"] for r in log),
                "step_s_median": statistics.median(r["tokens"] / r["tok_s"] for r in log),
                "tok_s_median": statistics.median(r["tok_s"] for r in log), "wall_s": time.time() - t0}
    out["load"] = os.getloadavg()[0]  # other work on the machine during the run (1-minute load average)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
