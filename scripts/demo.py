"""`make demo`: the paper's central comparison in about ten minutes on 2 CPU cores.

Fine-tune en->fr twice on the same Bible verse pairs, with the same steps, seed and tokenizer: once
from a MASS pre-trained checkpoint (Sec. 3.2, 4.1) and once from random initialisation (the paper's
"no pre-training" baseline, Fig. 3). Print both validation-perplexity curves, BLEU and chrF on held-out
Matthew verses, and three translations side by side. Whatever it measures is printed as it is.

    .venv/bin/python scripts/demo.py [--run runs/demo] [--pretrain-steps 200] [--finetune-steps 100]

The shared MASS checkpoint of the run cache is reused when one exists (``recipes.pretrained``: notebook 04's 1,000
steps, notebook 05's 5,000, or an earlier demo's; ``$MINIMASS_RUNS``, by default ``~/.cache/minimass/runs``);
otherwise the demo pre-trains that recipe for ``--pretrain-steps`` steps, which notebook 04 later continues
(resumable: an interrupted demo continues where it stopped).
"""

import argparse
import math
import time
from pathlib import Path

from minimass import data, recipes
from minimass.metrics import bleu, chrf
from minimass.search import translate
from minimass.trainer import load_checkpoint, read_log


def pretrained(steps: int, preset_name: str = "cpu") -> Path:
    """The shared MASS checkpoint of the run cache (``recipes.pretrained``, as notebooks 04 and 05 leave it): the
    longest finished run of the recipe if there is one, else one of ``steps`` steps, trained now (resumable)."""
    name = recipes.recipe_name(preset_name=preset_name)
    runs = recipes.runs_dir()
    done = [int(p.name[len(name) + 1:]) for p in runs.glob(f"{name}_*") if p.name[len(name) + 1:].isdigit()]
    done = [s for s in done if (runs / f"{name}_{s}" / f"step_{s:07d}").exists()]
    if done:
        print(f"reusing the shared MASS checkpoint {name}_{max(done)} (step {max(done)}); not pre-training")
    else:
        print(f"no MASS checkpoint in {recipes.runs_dir()}: pre-training {steps} steps (resumes if interrupted)")
    return recipes.pretrained(preset_name=preset_name, steps=max(done) if done else steps)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", default="runs/demo", help="folder for this demo's runs")
    p.add_argument("--pretrain-steps", type=int, default=200)
    p.add_argument("--finetune-steps", type=int, default=100)
    p.add_argument("--pairs", type=int, default=10_000, help="en-fr training pairs")
    p.add_argument("--test", type=int, default=200, help="held-out Matthew verses to translate")
    args = p.parse_args()
    t0, run = time.time(), Path(args.run)
    ckpt = pretrained(args.pretrain_steps)
    tok = load_checkpoint(ckpt)[1]
    n, every = args.finetune_steps, max(args.finetune_steps // 6, 1)
    short = {"max_steps": n, "warmup": min(100, n // 2), "eval_every": every, "save_every": n}
    systems = {"MASS": ckpt, "random init": None}
    folders = {name: run / f"ft-{name.split()[0].lower()}" for name in systems}
    for name, init in systems.items():
        print(f"\nfine-tuning en->fr from {name}: {n} steps on {args.pairs:,} pairs")
        recipes.finetune(folders[name], init, "en", "fr", n_train=args.pairs, train_overrides=short, tokenizer=tok)
    curves = {name: read_log(folders[name], "valid_ppl/mt-en-fr") for name in systems}
    print("\nvalidation perplexity (Mark verses), lower is better")
    print(f"{'step':>6}" + "".join(f"{name:>14}" for name in systems))
    for row in zip(*curves.values()):
        print(f"{row[0][0]:>6}" + "".join(f"{ppl:>14.1f}" for _, ppl in row))
    pairs = data.parallel("en", "fr").test[: args.test]
    src, refs = [p[0] for p in pairs], [p[1] for p in pairs]
    outs, scores = {}, {}
    for name in systems:
        model = load_checkpoint(recipes.latest(folders[name]))[0]
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
