"""`make demo`: the paper's central comparison in about ten minutes on 2 CPU cores.

Fine-tune en->fr twice on the same Bible verse pairs, with the same steps, seed and tokenizer: once
from a MASS pre-trained checkpoint (Sec. 3.2, 4.1) and once from random initialisation (the paper's
"no pre-training" baseline, Fig. 3). Print both validation-perplexity curves, BLEU and chrF on held-out
Matthew verses, and three translations side by side. Whatever it measures is printed as it is.

    .venv/bin/python scripts/demo.py [--run runs/demo] [--pretrain-steps 200] [--finetune-steps 100]

A MASS checkpoint is reused when one exists: notebook 04's (``$MINIMASS_RUNS/pretrain-cpu``, by default
``~/.cache/minimass/runs``) or this script's own from an earlier run; otherwise it pre-trains for
``--pretrain-steps`` steps (resumable: an interrupted demo continues where it stopped).
"""

import argparse
import math
import os
import time
from pathlib import Path

from minimass import cli, data
from minimass.metrics import bleu, chrf
from minimass.search import translate
from minimass.trainer import checkpoints, load_checkpoint, read_log


def pretrained(run: Path, steps: int) -> Path:
    """The newest finished MASS checkpoint: notebook 04's if present, else this demo's (trained if missing)."""
    shared = Path(os.environ.get("MINIMASS_RUNS", Path.home() / ".cache" / "minimass" / "runs")) / "pretrain-cpu"
    for folder in (shared, run):
        found = checkpoints(folder)
        if found and int(found[0].name[5:]) >= (steps if folder == run else 1):
            print(f"reusing the MASS checkpoint {found[0]} (step {int(found[0].name[5:])}); not pre-training")
            return found[0]
    print(f"no MASS checkpoint found: pre-training {steps} steps in {run} (resumes if interrupted)")
    cli.pretrain(run, "cpu", train_overrides={"max_steps": steps, "warmup": min(200, steps // 2),
                                              "eval_every": steps, "save_every": 50})
    return cli.latest(run)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", default="runs/demo", help="folder for this demo's runs")
    p.add_argument("--pretrain-steps", type=int, default=200)
    p.add_argument("--finetune-steps", type=int, default=100)
    p.add_argument("--pairs", type=int, default=10_000, help="en-fr training pairs")
    p.add_argument("--test", type=int, default=200, help="held-out Matthew verses to translate")
    args = p.parse_args()
    t0, run = time.time(), Path(args.run)
    ckpt = pretrained(run / "pretrain", args.pretrain_steps)
    tok = load_checkpoint(ckpt)[1]
    n, every = args.finetune_steps, max(args.finetune_steps // 6, 1)
    short = {"max_steps": n, "warmup": min(100, n // 2), "eval_every": every, "save_every": n}
    systems = {"MASS": ckpt, "random init": None}
    folders = {name: run / f"ft-{name.split()[0].lower()}" for name in systems}
    for name, init in systems.items():
        print(f"\nfine-tuning en->fr from {name}: {n} steps on {args.pairs:,} pairs")
        cli.finetune(folders[name], init, "en", "fr", n_train=args.pairs, train_overrides=short, tokenizer=tok)
    curves = {name: read_log(folders[name], "valid_ppl/mt-en-fr") for name in systems}
    print("\nvalidation perplexity (Mark verses), lower is better")
    print(f"{'step':>6}" + "".join(f"{name:>14}" for name in systems))
    for row in zip(*curves.values()):
        print(f"{row[0][0]:>6}" + "".join(f"{ppl:>14.1f}" for _, ppl in row))
    pairs = data.parallel("en", "fr").test[: args.test]
    src, refs = [p[0] for p in pairs], [p[1] for p in pairs]
    outs, scores = {}, {}
    for name in systems:
        model = load_checkpoint(cli.latest(folders[name]))[0]
        outs[name] = translate(model, tok, src, "en", "fr", beam=5, batch_size=256)  # one batch: no bar
        scores[name] = (bleu(outs[name], refs), chrf(outs[name], refs))
    print(f"\n{len(pairs)} held-out Matthew verses, beam 5:")
    for name, (b, c) in scores.items():
        print(f"  {name:12s} BLEU {b['score']:5.2f}  chrF {c['score']:5.2f}")
    print(f"  ({scores['MASS'][0]['signature']})")
    for i in range(3):
        print(f"\n  source:      {src[i]}\n  reference:   {refs[i]}")
        for name in systems:
            print(f"  {name + ':':12s} {outs[name][i]}")
    (s_m, p_m), (_, p_r) = curves["MASS"][-1], curves["random init"][-1]
    print(f"\nafter {s_m} steps the MASS-initialised model has validation perplexity {p_m:.1f} against {p_r:.1f} "
          f"(a {math.log(p_r / p_m):+.2f} nat difference per token); total {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
