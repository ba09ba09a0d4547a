"""MASS masking (Sec. 3.2, Fig. 1) and the noise functions of the paper's baselines (Tables 3-6);
BART's and T5's, which notebook 11 compares with MASS, are in ``notebooks/lab.py``.

Every function takes a list of token-id sequences (each ending with ``</s>``) and
returns a :class:`Batch`, the one input format of the trainer:

- ``src``: encoder input (B, S), or None for a decoder-only language model;
- ``dec_in``: decoder input (B, T), or None for an encoder-only masked LM;
- ``target``: ids to predict (B, T) (or (B, S) for a masked LM), ``<pad>`` where no loss is taken;
- ``positions``: the decoder's position ids (B, T): MASS feeds only the fragment, each
  token at its original position (Sec. 4.1).

Where the official code differs (docs/paper-vs-code.md): its decoder's first input is the token
before the fragment (``first="prev"``), starts favour sentence ends, k is from the padded batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace

import torch
from torch import Tensor

from .tokenizer import BOS, EOS, MASK, N_SPECIAL, PAD

Sentences = Sequence[Sequence[int]]  # token-id lists, each ending with </s>
Rng = torch.Generator | None  # None: torch's global generator

@dataclass
class Batch:
    """A training batch for any objective (see the module docstring for the fields)."""
    src: Tensor | None
    dec_in: Tensor | None
    target: Tensor
    positions: Tensor | None = None
    src_lang: int = 0
    tgt_lang: int = 0

    @property
    def n_tokens(self) -> int:
        """Number of predicted tokens (the paper's batch size is counted in tokens, Sec. 4.1)."""
        return int((self.target != PAD).sum())

    def _map(self, fn: Callable[[Tensor], Tensor]) -> Batch:
        tensors = {f.name: getattr(self, f.name) for f in fields(self)}
        return replace(self, **{k: fn(v) for k, v in tensors.items() if isinstance(v, Tensor)})

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        """Move every tensor to ``device`` (``non_blocking``: asynchronous, from pinned memory)."""
        return self._map(lambda t: t.to(device, non_blocking=non_blocking))

    def pin_memory(self) -> Batch:
        """Page-locked copies of the tensors, whose copy to a GPU can overlap its computation."""
        return self._map(Tensor.pin_memory)

def pad(seqs: Sentences, pad_id: int = PAD) -> Tensor:
    """Right-pad id lists into a LongTensor:
    >>> pad([[5, 2], [7]]).tolist()
    [[5, 2], [7, 0]]"""
    out = torch.full((len(seqs), max((len(s) for s in seqs), default=0)), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(list(s), dtype=torch.long)
    return out

def _as_id_lists(seqs: Sentences) -> list[list[int]]:
    seqs = [list(map(int, s)) for s in seqs]
    if not seqs:
        raise ValueError("empty batch: no sequences given")
    for i, s in enumerate(seqs):
        if not s:
            raise ValueError(f"sequence {i} is empty (a sentence ends with </s>: length >= 1)")
    return seqs

def _body(s: list[int]) -> tuple[list[int], list[int]]:  # (s without its final </s>, [</s>] or [])
    return (s[:-1], [EOS]) if s[-1] == EOS else (s, [])

def _shifted(seqs: list[list[int]]) -> Tensor:  # teacher forcing: <s> x1 .. x_{m-1} -> x1 .. x_m
    return pad([[BOS] + s[:-1] for s in seqs])

def _replace(tokens: list[int], where: list[int], vocab_size: int, probs: Sequence[float],
             g: Rng) -> list[int]:
    """Sec. 4.1 / BERT: each chosen token becomes [M] (p0), a random token (p1) or stays (p2)."""
    out = list(tokens)
    r = torch.rand(len(where), generator=g).tolist()
    rand_ids = torch.randint(N_SPECIAL, max(vocab_size, N_SPECIAL + 1), (len(where),), generator=g)
    rand_ids = rand_ids.tolist()
    for j, pos in enumerate(where):
        if r[j] < probs[0]:
            out[pos] = MASK
        elif r[j] < probs[0] + probs[1]:
            out[pos] = rand_ids[j]
    return out

def fragment_length(m: int, ratio: float) -> int:
    """k = round(ratio * m), clipped to [1, m] (Sec. 3.2):
    >>> fragment_length(8, 0.5), fragment_length(8, 0.01), fragment_length(8, 1.0)
    (4, 1, 8)"""
    return min(max(round(ratio * m), 1), m)

def mass_mask(seqs: Sentences, ratio: float = 0.5, *, vocab_size: int, lang: int = 0,
              mode: str = "mass", first: str = "mask", probs: Sequence[float] = (0.8, 0.1, 0.1),
              starts: Sequence | None = None, generator: Rng = None) -> Batch:
    """A MASS batch (Sec. 3.2, Fig. 1): mask a fragment of k tokens, predict it in the decoder.
    The paper's Fig. 1: x1..x8 as ids 11..18, k = 4 from position 2, every masked token [M] (4):
    >>> b = mass_mask([list(range(11, 19))], vocab_size=100, starts=[2], probs=(1, 0, 0))
    >>> b.src.tolist(), b.dec_in.tolist(), b.positions.tolist(), b.target.tolist()
    ([[11, 12, 4, 4, 4, 4, 17, 18]], [[4, 13, 14, 15]], [[2, 3, 4, 5]], [[13, 14, 15, 16]])

    ``ratio`` sets k per sentence (k=1 is BERT's masked LM, k=m a standard LM; Table 1).
    ``mode``: ``"mass"``; ``"discrete"`` masks k positions drawn uniformly without replacement
    (they may touch) and predicts them in order (Table 6); ``"feed"`` feeds the decoder every
    previous token instead of only the fragment's (Table 6), the loss still on the fragment only.
    Decoder input at masked position t (:func:`decoder_input`; mass and discrete, as the paper's
    full-length decoder of Fig. 1-2): x[t-1] when position t-1 is masked too, else ``[M]``.
    Discrete, positions 0, 3, 4, 7 of 8 tokens: ``[M] [M] x3 [M]``. ``first="prev"`` feeds x[t-1]
    (``<s>`` at t=0) everywhere instead, as the official code does: for MASS only the fragment's
    first input changes. ``starts``: fixed fragment starts, or for discrete the masked positions."""
    if mode not in ("mass", "discrete", "feed"):
        raise ValueError(f"mode must be 'mass', 'discrete' or 'feed', got {mode!r}")
    if first not in ("mask", "prev"):
        raise ValueError(f"first must be 'mask' or 'prev', got {first!r}")
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be in [0, 1], got {ratio}")
    seqs = _as_id_lists(seqs)
    src, dec_in, target, positions = [], [], [], []
    for i, s in enumerate(seqs):
        m = len(s)
        k = fragment_length(m, ratio)
        if mode == "discrete":
            where = sorted(torch.randperm(m, generator=generator)[:k].tolist() if starts is None
                           else starts[i])
        else:
            u = (int(torch.randint(0, m - k + 1, (1,), generator=generator)) if starts is None
                 else starts[i])
            if not 0 <= u <= m - k:
                raise ValueError(f"starts[{i}]={u} out of range for m={m}, k={k}")
            where = list(range(u, u + k))
        src.append(_replace(s, where, vocab_size, probs, generator))
        if mode == "feed":  # every position up to the fragment's end; loss only on the fragment
            pos, fragment = list(range(where[-1] + 1)), set(where)
            dec_in.append([MASK if first == "mask" else BOS] + s[: where[-1]])
            target.append([s[t] if t in fragment else PAD for t in pos])
        else:
            pos, masked = where, set(where)
            dec_in.append([decoder_input(s, t, masked, first) for t in where])
            target.append([s[t] for t in where])
        positions.append(pos)
    return Batch(pad(src), pad(dec_in), pad(target), pad(positions, 0), lang, lang)

def decoder_input(s: Sequence[int], t: int, masked: set[int], first: str = "mask") -> int:
    """What the decoder reads at masked position ``t`` to predict ``s[t]`` (Sec. 3.2, Fig. 1):
    >>> [decoder_input([11, 12, 13], t, {1, 2}) for t in (1, 2)]  # [M], then x2 (ids 11, 12, 13)
    [4, 12]
    >>> [decoder_input([11, 12, 13], t, {1, 2}, first="prev") for t in (1, 2)]  # official code
    [11, 12]"""
    if t - 1 in masked:  # inside the fragment: the previous fragment token (teacher forcing)
        return s[t - 1]
    if first == "prev":  # the official code at the fragment's start: the token before it (<s> at 0)
        return s[t - 1] if t else BOS
    return MASK  # the paper at the fragment's start (and at a lone Discrete position): [M]

def mlm_mask(seqs: Sentences, p: float = 0.15, *, vocab_size: int, lang: int = 0,
             probs: Sequence[float] = (0.8, 0.1, 0.1), generator: Rng = None) -> Batch:
    """BERT's masked LM for the encoder of the BERT+LM baseline: each token is chosen with
    probability ``p`` (at least one per sentence), replaced 80/10/10, and predicted from the
    encoder's output at its own position (``dec_in`` is None)."""
    seqs = _as_id_lists(seqs)
    src, target = [], []
    for s in seqs:
        chosen = (torch.rand(len(s), generator=generator) < p).nonzero().flatten().tolist()
        if not chosen:
            chosen = [int(torch.randint(0, len(s), (1,), generator=generator))]
        chosen_set = set(chosen)
        src.append(_replace(s, chosen, vocab_size, probs, generator))
        target.append([s[t] if t in chosen_set else PAD for t in range(len(s))])
    return Batch(pad(src), None, pad(target), None, lang, lang)

def clm_batch(seqs: Sentences, *, lang: int = 0) -> Batch:
    """A causal language-model batch for the decoder of BERT+LM (no encoder, ``src`` is None):
    input ``<s> x1 .. x_{m-1}``, target ``x1 .. x_m``:
    >>> b = clm_batch([[11, 12, 2]])
    >>> b.src, b.dec_in.tolist(), b.target.tolist()
    (None, [[1, 11, 12]], [[11, 12, 2]])"""
    seqs = _as_id_lists(seqs)
    return Batch(None, _shifted(seqs), pad(seqs), None, lang, lang)

def seq2seq_batch(pairs: Sequence[tuple[Sequence[int], Sequence[int]]], *, src_lang: int = 0,
                  tgt_lang: int = 0) -> Batch:
    """A supervised batch (fine-tuning, Sec. 4.2-4.4): encode x; ``<s> y`` predicts ``y </s>``."""
    if not pairs:
        raise ValueError("empty batch: no pairs given")
    srcs, tgts = _as_id_lists([p[0] for p in pairs]), _as_id_lists([p[1] for p in pairs])
    return Batch(pad(srcs), _shifted(tgts), pad(tgts), None, src_lang, tgt_lang)

def dae_noise(seqs: Sentences, *, shuffle: float = 3.0, drop: float = 0.1, blank: float = 0.1,
              lang: int = 0, generator: Rng = None) -> Batch:
    """Denoising auto-encoder baseline (Table 3, XLM's noise): shuffle words locally (each moves
    fewer than ``shuffle`` places), drop each with prob. ``drop``, replace each by [M] with prob.
    ``blank``; the decoder rebuilds the whole clean sentence. ``</s>`` is never noised."""
    seqs = _as_id_lists(seqs)
    noisy = []
    for s in seqs:
        body, eos = _body(s)
        if n := len(body):
            order = torch.arange(n) + shuffle * torch.rand(n, generator=generator)
            body = [body[j] for j in order.argsort().tolist()]
            keep = (torch.rand(n, generator=generator) >= drop).tolist()
            if not any(keep):
                keep[int(torch.randint(0, n, (1,), generator=generator))] = True
            body = [t for t, k in zip(body, keep) if k]
            r = torch.rand(len(body), generator=generator).tolist()
            body = [MASK if r[j] < blank else t for j, t in enumerate(body)]
        noisy.append(body + eos)
    return Batch(pad(noisy), _shifted(seqs), pad(seqs), None, lang, lang)
