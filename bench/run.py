"""Speed benchmarks (not tests): training tokens/s and decoding time, on whatever device is present.

    .venv/bin/python bench/run.py [--preset cpu] [--steps 20]

Targets (DESIGN.md, 2-core x86 CPU): a ~2M-parameter model trains at 5-7k target tokens/s;
64 sentences decode with beam 5 in about a second. Prints one JSON line per measurement.
"""

import argparse
import json
import statistics
import time

import torch

from minimass.masking import mass_mask, pad
from minimass.model import build_model
from minimass.search import beam_search, greedy
from minimass.trainer import batch_loss, pick_device


def sentences(n, vocab, lo=20, hi=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(5, vocab, (int(torch.randint(lo, hi, (1,), generator=g)),), generator=g).tolist() + [2]
            for _ in range(n)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--preset", default="cpu")
    p.add_argument("--vocab", type=int, default=8000)
    p.add_argument("--steps", type=int, default=10)
    args = p.parse_args()
    dev = pick_device()
    model = build_model(args.preset, vocab_size=args.vocab).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    seqs = sentences(64, args.vocab)
    times, toks = [], 0
    amp = dev.type == "cuda"
    for step in range(args.steps + 2):
        b = mass_mask(seqs, 0.5, vocab_size=args.vocab, generator=torch.Generator().manual_seed(step)).to(dev)
        t = time.perf_counter()
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            loss, n = batch_loss(model, b)
        (loss / n).backward()
        opt.step()
        opt.zero_grad()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        if step >= 2:  # warm-up steps excluded
            times.append(time.perf_counter() - t)
            toks += n
    print(json.dumps({"bench": "train_mass", "preset": args.preset, "device": str(dev),
                      "params": model.num_params(), "tok_per_s": round(toks / sum(times)),
                      "median_step_ms": round(1000 * statistics.median(times), 1)}))
    model.eval()
    src = pad(sentences(64, args.vocab, seed=1)).to(dev)
    for name, fn in (("greedy", lambda: greedy(model, src, 0, 1, max_len_a=1.0, max_len_b=5)),
                     ("beam5", lambda: beam_search(model, src, 0, 1, beam=5, max_len_a=1.0, max_len_b=5))):
        with torch.no_grad():
            t = time.perf_counter()
            fn()
            print(json.dumps({"bench": f"decode_{name}_64", "preset": args.preset, "device": str(dev),
                              "seconds": round(time.perf_counter() - t, 3)}))


if __name__ == "__main__":
    main()
