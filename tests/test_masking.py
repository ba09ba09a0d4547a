"""MASS masking (Sec. 3.2, Table 1, Table 6) and the baselines' noise functions."""

import pytest
import torch
from toy import g, sents

from minimass.masking import (
    clm_batch,
    dae_noise,
    decoder_input,
    fragment_length,
    mass_mask,
    mlm_mask,
    pad,
    seq2seq_batch,
)
from minimass.tokenizer import BOS, EOS, MASK, N_SPECIAL, PAD

V = 100
FIG1 = [11, 12, 13, 14, 15, 16, 17, EOS]  # x1..x8 of the paper's Fig. 1


def test_fig1_exact():
    b = mass_mask([FIG1], 0.5, vocab_size=V, probs=(1, 0, 0), starts=[2])
    assert b.src.tolist() == [[11, 12, MASK, MASK, MASK, MASK, 17, EOS]]
    assert b.dec_in.tolist() == [[MASK, 13, 14, 15]]
    assert b.target.tolist() == [[13, 14, 15, 16]]
    assert b.positions.tolist() == [[2, 3, 4, 5]]


def test_fig1_official_first_token():
    b = mass_mask([FIG1], 0.5, vocab_size=V, probs=(1, 0, 0), starts=[2], first="prev")
    assert b.dec_in.tolist() == [[12, 13, 14, 15]]
    b = mass_mask([FIG1], 0.5, vocab_size=V, probs=(1, 0, 0), starts=[0], first="prev")
    assert b.dec_in.tolist() == [[BOS, 11, 12, 13]]


@pytest.mark.parametrize("m,ratio,k", [(8, 0.5, 4), (1, 0.5, 1), (3, 0.0, 1), (7, 1.0, 7), (10, 0.25, 2)])
def test_fragment_length(m, ratio, k):
    assert fragment_length(m, ratio) == k


@pytest.mark.parametrize("ratio", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_target_is_fragment_at_original_positions(ratio):
    seqs = sents()
    b = mass_mask(seqs, ratio, vocab_size=V, generator=g(1))
    for i, s in enumerate(seqs):
        k = fragment_length(len(s), ratio)
        tgt, pos = b.target[i, :k].tolist(), b.positions[i, :k].tolist()
        assert (b.target[i, k:] == PAD).all()
        assert pos == list(range(pos[0], pos[0] + k))           # contiguous
        assert tgt == s[pos[0]: pos[0] + k]                     # the fragment itself
        assert b.dec_in[i, :k].tolist() == [MASK] + tgt[:-1]    # shifted right, [M] first
        unmasked = [t for t in range(len(s)) if t not in pos]
        assert all(b.src[i, t] == s[t] for t in unmasked)       # the rest untouched
    assert b.src.shape == pad(seqs).shape


def test_k1_is_bert_and_km_is_lm():
    """Table 1: k=1 -> decoder input has no token information (masked LM); k=m -> encoder all [M] (LM)."""
    seqs = sents()
    b = mass_mask(seqs, 0.0, vocab_size=V, probs=(1, 0, 0), generator=g())
    assert (b.dec_in[:, 0] == MASK).all() and b.dec_in.shape[1] == 1
    assert all(int((b.src[i] == MASK).sum()) == 1 for i in range(len(seqs)))
    b = mass_mask(seqs, 1.0, vocab_size=V, probs=(1, 0, 0), generator=g())
    for i, s in enumerate(seqs):
        assert b.src[i, : len(s)].tolist() == [MASK] * len(s)
        assert b.dec_in[i, : len(s)].tolist() == [MASK] + s[:-1]
        assert b.positions[i, : len(s)].tolist() == list(range(len(s)))


def test_discrete_and_feed():
    seqs = sents()
    b = mass_mask(seqs, 0.5, vocab_size=V, mode="discrete", probs=(1, 0, 0), generator=g(2))
    for i, s in enumerate(seqs):
        k = fragment_length(len(s), 0.5)
        pos = b.positions[i, :k].tolist()
        assert pos == sorted(set(pos)) and b.target[i, :k].tolist() == [s[t] for t in pos]
        assert [t for t in range(len(s)) if b.src[i, t] == MASK] == pos
        prev_masked = [t > 0 and t - 1 in pos for t in pos]
        assert b.dec_in[i, :k].tolist() == [s[t - 1] if p else MASK for t, p in zip(pos, prev_masked)]
    b = mass_mask([FIG1], 0.5, vocab_size=V, mode="feed", probs=(1, 0, 0), starts=[2])
    assert b.dec_in.tolist() == [[MASK, 11, 12, 13, 14, 15]]
    assert b.target.tolist() == [[PAD, PAD, 13, 14, 15, 16]]
    assert b.positions.tolist() == [[0, 1, 2, 3, 4, 5]]


def test_discrete_hand_worked():
    """Table 6 Discrete, as the paper's full-length decoder: masked 0, 3, 4, 7 of x0..x7 -> [M] [M] x3 [M]."""
    x = [10, 11, 12, 13, 14, 15, 16, EOS]
    b = mass_mask([x], 0.5, vocab_size=V, mode="discrete", probs=(1, 0, 0), starts=[[0, 3, 4, 7]])
    assert b.dec_in.tolist() == [[MASK, MASK, 13, MASK]]
    assert b.target.tolist() == [[10, 13, 14, EOS]] and b.positions.tolist() == [[0, 3, 4, 7]]
    assert b.src.tolist() == [[MASK, 11, 12, MASK, MASK, 15, 16, MASK]]
    code = mass_mask([x], 0.5, vocab_size=V, mode="discrete", first="prev", probs=(1, 0, 0), starts=[[0, 3, 4, 7]])
    assert code.dec_in.tolist() == [[BOS, 12, 13, 16]]  # the official code: the real previous word
    fig1 = mass_mask([FIG1], 0.5, vocab_size=V, first="prev", probs=(1, 0, 0), starts=[2])
    assert fig1.dec_in.tolist() == [[12, 13, 14, 15]]


def test_80_10_10_within_tolerance():
    seqs = [[50 + (i % 40) for i in range(99)] + [EOS]] * 200
    b = mass_mask(seqs, 0.5, vocab_size=V, generator=g(3))
    masked = b.src[b.positions.new_zeros(b.src.shape, dtype=torch.bool).scatter_(1, b.positions, True)]
    orig = pad(seqs)[b.positions.new_zeros(b.src.shape, dtype=torch.bool).scatter_(1, b.positions, True)]
    n = masked.numel()
    frac_mask = (masked == MASK).sum().item() / n
    frac_same = (masked == orig).sum().item() / n
    frac_rand = 1 - frac_mask - frac_same
    assert abs(frac_mask - 0.8) < 0.01 and abs(frac_same - 0.1) < 0.01 + 1 / V and abs(frac_rand - 0.1) < 0.01
    rand = masked[(masked != MASK) & (masked != orig)]  # the random replacements are real tokens, never specials
    assert rand.numel() > 0 and rand.min() >= N_SPECIAL and rand.max() < V


def test_seeded_and_validation():
    a = mass_mask(sents(), 0.5, vocab_size=V, generator=g(5))
    b = mass_mask(sents(), 0.5, vocab_size=V, generator=g(5))
    assert all(torch.equal(x, y) for x, y in zip([a.src, a.dec_in, a.positions], [b.src, b.dec_in, b.positions]))
    with pytest.raises(ValueError, match="empty"):
        mass_mask([[]], vocab_size=V)
    with pytest.raises(ValueError, match="mode"):
        mass_mask([FIG1], vocab_size=V, mode="span")
    with pytest.raises(ValueError, match="starts"):
        mass_mask([FIG1], vocab_size=V, starts=[6])


def test_baselines():
    seqs = sents()
    b = mlm_mask(seqs, vocab_size=V, generator=g())
    assert b.dec_in is None and b.target.shape == b.src.shape
    hit = b.target != PAD
    assert hit.any(dim=1).all() and (b.target[hit] == pad(seqs)[hit]).all()
    c = clm_batch(seqs)
    assert c.src is None and (c.dec_in[:, 0] == BOS).all() and torch.equal(c.target, pad(seqs))
    d = dae_noise(seqs, generator=g())
    assert torch.equal(d.target, pad(seqs))
    for i, s in enumerate(seqs):
        noisy = [t for t in d.src[i].tolist() if t != PAD]
        assert noisy[-1] == EOS and 2 <= len(noisy) <= len(s) or len(s) == 1
        assert set(noisy) - {MASK} <= set(s)
    clean = dae_noise(seqs, shuffle=0, drop=0, blank=0)
    assert torch.equal(clean.src, pad(seqs))
    p = seq2seq_batch([([5, 6, EOS], [7, EOS])], src_lang=0, tgt_lang=1)
    assert p.dec_in.tolist() == [[BOS, 7]] and p.target.tolist() == [[7, EOS]] and p.tgt_lang == 1


def test_dae_shuffle_is_local():
    s = list(range(10, 60)) + [EOS]
    for seed in range(20):
        out = dae_noise([s], shuffle=3, drop=0, blank=0, generator=g(seed)).src[0].tolist()
        assert sorted(out) == sorted(s)
        assert all(abs(out.index(t) - s.index(t)) < 3 for t in s)


def test_decoder_input_rule_case_by_case():
    s, masked = [7, 8, 9, 10], {1, 2}  # the fragment is x1 x2
    assert decoder_input(s, 2, masked) == 8  # inside the fragment: the previous fragment token
    assert decoder_input(s, 1, masked) == MASK  # its first position: [M] (the paper)
    assert decoder_input(s, 1, masked, first="prev") == 7  # or the real token before it (the official code)
    assert decoder_input(s, 0, {0}, first="prev") == BOS  # which is <s> at the sentence start
