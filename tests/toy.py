"""A toy corpus that trains in seconds: counting sequences ``a, a+d, a+2d, ... </s>`` over a small vocabulary.

MASS can recover a masked fragment from the visible context, so the loss falls fast.
"""

import torch

from minimass.model import ModelConfig, Seq2Seq
from minimass.tokenizer import EOS, N_SPECIAL

V = 40
TINY = ModelConfig(vocab_size=V, d_model=32, n_heads=4, d_ff=64, n_enc_layers=1, n_dec_layers=1,
                   max_positions=64, dropout=0.1, attn_dropout=0.0)


def counting(n: int, seed: int = 0, min_len: int = 4, max_len: int = 14) -> list[list[int]]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        a, d = (int(x) for x in torch.randint(0, V - N_SPECIAL, (2,), generator=g))
        m = int(torch.randint(min_len, max_len + 1, (1,), generator=g))
        out.append([N_SPECIAL + (a + i * (d % 3 + 1)) % (V - N_SPECIAL) for i in range(m)] + [EOS])
    return out


def tiny_model(seed: int = 0, **kw) -> Seq2Seq:
    torch.manual_seed(seed)
    cfg = TINY if not kw else ModelConfig(**{**TINY.__dict__, **kw})
    return Seq2Seq(cfg)


def g(seed: int = 0) -> torch.Generator:
    """A seeded generator (the masking functions' ``generator``)."""
    return torch.Generator().manual_seed(seed)


def sents(n: int = 16, seed: int = 0, vocab: int = 100) -> list[list[int]]:
    """``n`` random sentences of 1-29 ordinary ids below ``vocab``, each ending with </s>."""
    r = torch.Generator().manual_seed(seed)
    return [torch.randint(N_SPECIAL, vocab, (int(torch.randint(1, 30, (1,), generator=r)),), generator=r).tolist()
            + [EOS] for _ in range(n)]
