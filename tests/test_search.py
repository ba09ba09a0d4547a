"""Decoding (minimass.search): greedy = beam 1, beam = exhaustive search on a tiny vocabulary, cache, constraints."""

import itertools

import pytest
import torch

from minimass.masking import pad
from minimass.model import ModelConfig, Seq2Seq
from minimass.search import banned_ngram_tokens, beam_search, generate, greedy, max_lengths, translate
from minimass.tokenizer import BOS, EOS, MASK, PAD, Tokenizer

CFG = ModelConfig(vocab_size=40, d_model=32, n_heads=4, d_ff=64, n_enc_layers=2, n_dec_layers=2,
                  max_positions=64, dropout=0.0, attn_dropout=0.0)


def tiny_model(cfg=CFG, eos_bias=-1.0, seed=0):
    """A random model whose </s> is made a little less likely, so outputs are not all empty."""
    torch.manual_seed(seed)
    model = Seq2Seq(cfg).eval()
    with torch.no_grad():
        model.out_bias[EOS] += eos_bias
    return model


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def src():
    gen = torch.Generator().manual_seed(1)
    return pad([torch.randint(5, 40, (n,), generator=gen).tolist() + [EOS] for n in (6, 2, 9, 4, 0)])


def test_outputs_are_not_trivial(model, src):
    outs = greedy(model, src, 0, 1, max_len_b=8)
    assert any(len(o) >= 2 for o in outs) and len({tuple(o) for o in outs}) > 1


@pytest.mark.parametrize("kw", [{}, {"min_len": 3}, {"no_repeat_ngram_size": 2}, {"use_cache": False}])
def test_beam_size_one_equals_greedy(model, src, kw):
    best = [hyps[0][0] for hyps in beam_search(model, src, 0, 1, beam=1, **kw)]
    assert best == greedy(model, src, 0, 1, **kw)


@pytest.mark.parametrize("kw", [{}, {"no_repeat_ngram_size": 1, "min_len": 2}])
def test_cached_and_uncached_decoding_agree(model, src, kw):
    assert greedy(model, src, 0, 1, use_cache=True, **kw) == greedy(model, src, 0, 1, use_cache=False, **kw)
    fast = beam_search(model, src, 0, 1, beam=4, nbest=4, use_cache=True, **kw)
    slow = beam_search(model, src, 0, 1, beam=4, nbest=4, use_cache=False, **kw)
    assert [[h for h, _ in n] for n in fast] == [[h for h, _ in n] for n in slow]
    for f, s in zip(fast, slow):
        assert [x for _, x in f] == pytest.approx([x for _, x in s], abs=1e-4)


def exhaustive(model, src, max_len, alpha, min_len):
    """Score every possible output (the tokens that may be generated, up to max_len steps) by brute force."""
    allowed = [t for t in range(model.cfg.vocab_size) if t not in (PAD, BOS, MASK, EOS)]
    seqs = [list(p) + [EOS] for n in range(min_len, max_len) for p in itertools.product(allowed, repeat=n)]
    seqs += [list(p) for p in itertools.product(allowed, repeat=max_len)]  # no </s>: finished as they are
    with torch.no_grad():
        logits = model(src.expand(len(seqs), -1), 0, pad([[BOS] + s[:-1] for s in seqs]), 1)
    logp = logits.log_softmax(-1)
    scored = []
    for i, s in enumerate(seqs):
        total = sum(logp[i, t, tok].item() for t, tok in enumerate(s))
        scored.append((total / len(s) ** alpha, s[:-1] if s[-1] == EOS else s))
    return sorted(scored, key=lambda x: -x[0])


# best outputs of these models: [6], [5, 5], [5, 5, 5, 5] (no </s>), [5, 5, 5, 5], [] (empty: min_len=0)
@pytest.mark.parametrize("alpha,min_len,seed,eos_bias", [(0.0, 1, 0, 1.5), (0.0, 2, 1, 2.0), (1.0, 1, 2, 1.0),
                                                         (2.0, 0, 3, 0.0), (1.0, 0, 4, 3.0)])
def test_large_beam_finds_the_exhaustive_best(alpha, min_len, seed, eos_bias):
    cfg = ModelConfig(vocab_size=8, d_model=16, n_heads=2, d_ff=32, n_enc_layers=1, n_dec_layers=1,
                      max_positions=16, dropout=0.0, attn_dropout=0.0)
    model = tiny_model(cfg, eos_bias=eos_bias, seed=seed)
    src = torch.tensor([[5, 6, 7, EOS]])
    truth = exhaustive(model, src, 4, alpha, min_len)  # 4 allowed tokens: at most 4^4 + 4^3 + .. + 1 outputs
    beam = 400  # more than all possible outputs, so nothing is ever pruned
    hyps = beam_search(model, src, 0, 1, beam=beam, nbest=beam, length_penalty=alpha, early_stopping=False,
                       min_len=min_len, max_len_a=0, max_len_b=4)[0]
    assert hyps[0][0] == truth[0][1] and hyps[0][1] == pytest.approx(truth[0][0], abs=1e-4)
    assert [h for h, _ in hyps[:20]] == [s for _, s in truth[:20]]  # and the whole n-best order agrees
    assert len(hyps) == len(truth)


@pytest.mark.parametrize("seq,n,banned", [([5, 6, 7, 5], 2, [6]), ([5, 6, 5, 6, 5], 2, [6, 6]), ([], 2, []),
                                          ([5, 6], 1, [5, 6]), ([5, 6], 0, []), ([9], 3, [])])
def test_banned_ngram_tokens(seq, n, banned):
    assert banned_ngram_tokens(seq, n) == banned


@pytest.mark.parametrize("n", [1, 2, 3])
def test_no_repeated_ngrams(n):
    model = tiny_model(eos_bias=-5.0)  # long outputs, which repeat themselves without the constraint
    src = pad([[7, 8, 9, 10, EOS], [11, 12, EOS]])
    for beam in (1, 3):
        for out in generate(model, src, 0, 1, beam=beam, no_repeat_ngram_size=n, max_len_b=20):
            grams = [tuple(out[i:i + n]) for i in range(len(out) - n + 1)]
            assert len(grams) == len(set(grams))


def test_min_len_and_special_tokens(model, src):
    for beam in (1, 3):
        outs = generate(model, src, 0, 1, beam=beam, min_len=6, max_len_b=12)
        assert all(len(o) >= 6 and not {PAD, BOS, EOS, MASK} & set(o) for o in outs)


def test_max_length_formula():
    model = tiny_model(eos_bias=-100.0)  # never ends: every output runs to its maximum length
    src = pad([[5, 6, EOS], [5, 6, 7, 8, EOS], [9, EOS]])
    assert max_lengths(model, src, 1.5, 1) == [5, 8, 4]  # int(1.5 * src_len + 1), src_len without <pad>
    for beam in (1, 2):
        assert [len(o) for o in generate(model, src, 0, 1, beam=beam, max_len_a=1.5, max_len_b=1)] == [5, 8, 4]
    assert max_lengths(model, src, 0, 1000) == [64] * 3  # capped by max_positions
    assert [len(o) for o in greedy(model, src, 0, 1, max_len_a=0, max_len_b=1000)] == [64] * 3


def test_nbest_sorted_and_distinct(model, src):
    for alpha in (0.0, 1.0):
        for hyps in beam_search(model, src, 0, 1, beam=5, nbest=5, length_penalty=alpha, min_len=1):
            scores = [s for _, s in hyps]
            assert len(hyps) == 5 and scores == sorted(scores, reverse=True)
            assert len({tuple(h) for h, _ in hyps}) == 5
    with pytest.raises(ValueError, match="nbest"):
        beam_search(model, src, 0, 1, beam=2, nbest=3)


def test_language_tensor_and_generate_dispatch(model, src):
    langs = torch.ones(src.size(0), dtype=torch.long)
    assert generate(model, src, 0, langs, beam=3) == generate(model, src, 0, 1, beam=3)
    assert generate(model, src, 0, 1, beam=1, length_penalty=2.0, nbest=1) == greedy(model, src, 0, 1)


TEXTS = ["the cat sat on the mat.", "a dog runs in the park!", "le chat est sur le tapis.",
         "un chien court dans le parc?", "où est la gare, s'il vous plaît?", "the sun is warm today."]


@pytest.fixture(scope="module")
def tok():
    return Tokenizer.train(TEXTS * 30, vocab_size=300)


def test_translate_keeps_order_and_batching_does_not_matter(tok):
    cfg = ModelConfig(vocab_size=tok.vocab_size, d_model=32, n_heads=4, d_ff=64, n_enc_layers=1,
                      n_dec_layers=1, max_positions=64, dropout=0.1, attn_dropout=0.0)
    model = tiny_model(cfg, eos_bias=-3.0).train()
    sentences = TEXTS + ["", "ok", TEXTS[0] * 3]
    kw = dict(max_len_a=1.0, max_len_b=3, no_repeat_ngram_size=2)
    for beam in (1, 3):
        out = translate(model, tok, sentences, "en", "fr", beam=beam, batch_size=64, **kw)
        assert model.training  # train mode restored
        assert out == translate(model, tok, sentences, "en", "fr", beam=beam, batch_size=1, **kw)
        assert out[2] == translate(model, tok, [sentences[2]], "en", "fr", beam=beam, **kw)[0]
        assert len(out) == len(sentences) and all(isinstance(s, str) for s in out) and len(set(out)) > 1
    assert translate(model, tok, [], "en", "fr") == []
    with pytest.raises(ValueError, match="unknown language"):
        translate(model, tok, ["hi"], "en", "xx")



class Scripted:
    """A fake decoder whose next-token probabilities are a table keyed by the prefix (no encoder, no cache)."""

    A, B, X, Y, F = range(5, 10)
    TABLE = {(): {A: 0.55, B: 0.40}, (A,): {X: 0.5, EOS: 0.45}, (B,): {EOS: 0.6, Y: 0.35}}

    def __init__(self):
        self.cfg = ModelConfig(vocab_size=10, max_positions=64)

    def encode(self, src, lang):
        return torch.zeros(src.size(0), src.size(1), 1), (src != PAD)[:, None, None, :]

    def decode(self, seqs, lang, memory, mem_mask, cache=None):
        logits = torch.full((seqs.size(0), seqs.size(1), 10), -1e9)
        for r, prefix in enumerate(seqs[:, 1:].tolist()):
            probs = self.TABLE.get(tuple(prefix), {EOS: 0.9})
            probs = {**probs, self.F: 1 - sum(probs.values())}  # the rest on a filler token
            for tok, p in probs.items():
                logits[r, -1, tok] = float(torch.tensor(p).log())
        return logits


def test_only_top_k_eos_candidates_finish():
    """K=2, step 1: A-x, A-</s>, B-</s>, B-y. B-</s> ranks 3rd: finishing it filled the K slots and stopped the
    search at [A] (score -0.70); the top-K rule keeps searching and finds [A, x] (-0.47)."""
    m, s = Scripted(), Scripted
    out = beam_search(m, torch.tensor([[5, EOS]]), 0, 1, beam=2, nbest=2, use_cache=False, max_len_b=8)[0]
    assert out[0][0] == [s.A, s.X] and out[0][1] == pytest.approx(float(torch.tensor([0.55, 0.5, 0.9]).log().sum()) / 3)
    assert out[1][0] == [s.B, s.Y]  # -0.690 beats A-</s> (-0.698), which finished at step 1 but is third
    assert generate(m, torch.tensor([[5, EOS]]), 0, 1, beam=2, use_cache=False) == [[s.A, s.X]]
