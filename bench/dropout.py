"""What dropout costs in a cpu-size MASS step (bench/README.md, "Measured and not adopted").

    .venv/bin/python bench/dropout.py [rounds]

Four `cpu` models train side by side on the same 44 random sentences of 20-45 tokens, 2 threads: the
shipped dropout (0.1, attention 0.1), no attention dropout, no dropout at all, and the shipped rates with
the mask drawn by ``rand_like`` instead of ``bernoulli_`` (``fast``). The variants take turns, 3 steps
each per round, so machine noise hits all of them alike; the median step time of each is printed.
"""

import statistics
import sys
import time
import types

import torch
from torch import nn

from minimass.masking import mass_mask
from minimass.model import build_model
from minimass.trainer import batch_loss


def fast_forward(self, x):  # the same distribution as nn.Dropout, mask from rand_like instead of bernoulli_
    return x * ((torch.rand_like(x) >= self.p) * (1 / (1 - self.p))) if self.training and self.p > 0 else x


def main(rounds: int = 6) -> None:
    torch.set_num_threads(2)
    g = torch.Generator().manual_seed(0)
    seqs = [torch.randint(5, 8000, (int(torch.randint(20, 45, (1,), generator=g)),), generator=g).tolist() + [2]
            for _ in range(44)]
    kws = {"default": {}, "noattn": dict(attn_dropout=0.0), "none": dict(dropout=0.0, attn_dropout=0.0), "fast": {}}
    runs = {}
    for name, kw in kws.items():
        torch.manual_seed(0)
        model = build_model("cpu", vocab_size=8000, **kw)
        if name == "fast":
            for m in model.modules():
                if isinstance(m, nn.Dropout):
                    m.forward = types.MethodType(fast_forward, m)
        runs[name] = (model, torch.optim.Adam(model.parameters(), lr=1e-4), [])
    for r in range(rounds + 1):
        for model, opt, times in runs.values():
            for step in range(3):
                b = mass_mask(seqs, 0.5, vocab_size=8000, generator=torch.Generator().manual_seed(3 * r + step))
                t = time.perf_counter()
                loss, n = batch_loss(model, b)
                (loss / n).backward()
                opt.step()
                opt.zero_grad()
                if r:  # round 0 warms up
                    times.append(time.perf_counter() - t)
    base = statistics.median(runs["default"][2])
    for name, (_, _, times) in runs.items():
        t = statistics.median(times)
        print(f"{name:8s} {t * 1000:6.0f} ms/step  {base / t:5.2f}x  (n={len(times)}, min {min(times) * 1000:.0f} ms)")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
