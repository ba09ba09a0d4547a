"""What notebooks/lab.py adds beside the package: MASS's successors as trainer objectives (BART's text
infilling, T5's span corruption; notebook 11) and the paired bootstrap over test sentences."""

import sys
from pathlib import Path

import pytest
from toy import counting, g, sents, tiny_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notebooks"))
from lab import paired_bootstrap, span_corruption, text_infilling  # noqa: E402

from minimass import recipes  # noqa: E402
from minimass.tokenizer import BOS, EOS, MASK, PAD  # noqa: E402
from minimass.trainer import Task, Trainer, checkpoints, read_log, train_config  # noqa: E402

V = 100


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIMASS_RUNS", str(tmp_path / "runs"))
    monkeypatch.setitem(recipes.DATA_SIZES, "smoke", {"vocab": 600, "sentences": 300, "valid": 20})
    return tmp_path / "runs"


@pytest.mark.parametrize("objective", ["infill", "span"])
def test_the_registered_objectives_train(tmp_path, objective):
    """Importing lab registers BART's and T5's objectives with the trainer, and a model learns them."""
    data = counting(200)
    cfg = train_config("smoke", {"progress": False, "eval_every": 0, "max_tokens": 300, "lr": 3e-3,
                                 "max_steps": 25})
    t = Trainer(tiny_model(), [Task(objective, data, lang=1, valid=data[:20])], cfg, tmp_path)
    before = t.evaluate()[f"valid_ppl/{objective}-1"]
    after = t.train()[f"valid_ppl/{objective}-1"]
    log = [r for r in read_log(tmp_path) if "loss" in r]
    assert len(log) >= 2 and log[-1]["loss"] < log[0]["loss"] and after < 0.9 * before
    assert checkpoints(tmp_path)[0].name == "step_0000025"


X6 = [11, 12, 13, 14, 15, 16, EOS]


def test_text_infilling_hand_worked():
    b = text_infilling([X6], spans=[[(1, 2), (4, 0)]])
    assert b.src.tolist() == [[11, MASK, 14, MASK, 15, 16, EOS]]  # one [M] per span, an inserted one for length 0
    assert b.dec_in.tolist() == [[BOS] + X6[:-1]] and b.target.tolist() == [X6]  # the whole sentence is rebuilt


def test_text_infilling_masks_the_ratio_and_keeps_order():
    for s in sents(32, seed=3):
        src = [t for t in text_infilling([s], 0.3, generator=g(len(s))).src[0].tolist() if t != PAD]
        kept = [t for t in src if t != MASK]
        assert src[-1] == EOS and len(kept) == len(s) - round(0.3 * (len(s) - 1))  # exactly 30% of the body masked
        it = iter(s)
        assert all(t in it for t in kept)  # the survivors are a subsequence of the sentence, in order


def test_span_corruption_hand_worked():
    b = span_corruption([X6], vocab_size=V, spans=[[(1, 2), (4, 1)]])
    s0, s1, s2 = V - 1, V - 2, V - 3
    assert b.src.tolist() == [[11, s0, 14, s1, 16, EOS]]
    assert b.target.tolist() == [[s0, 12, 13, s1, 15, s2, EOS]]
    assert b.dec_in.tolist() == [[BOS, s0, 12, 13, s1, 15, s2]]


def test_span_corruption_round_trip():
    for s in sents(32, seed=4):
        b = span_corruption([s], vocab_size=10 * V, generator=g(len(s)))  # sentinels 999, 998, ..: apart from s
        src, tgt = [t for t in b.src[0].tolist() if t != PAD], [t for t in b.target[0].tolist() if t != PAD]
        spans, cur = {}, None
        for t in tgt[:-1]:
            if t >= V:
                cur = spans.setdefault(t, [])
            else:
                cur.append(t)
        rebuilt = [x for t in src for x in (spans[t] if t in spans else [t])]
        assert rebuilt == s  # the encoder input with each sentinel replaced by its span is the sentence
        n = len(s) - 1
        noise = sum(map(len, spans.values()))
        assert noise == (min(max(round(0.15 * n), 1), n - 1) if n >= 2 else 0)
        assert src[0] == s[0] or n < 2  # T5's segmentation starts with kept tokens


@pytest.mark.parametrize("spans", [[(5, 3)], [(-1, 1)]])
def test_text_infilling_rejects_spans_outside(spans):
    with pytest.raises(ValueError, match=r"spans\[0\]"):
        text_infilling([X6], spans=[spans])


@pytest.mark.parametrize("spans", [[(1, 2), (2, 1)], [(0, 0)], [(5, 2)]])
def test_span_corruption_rejects_bad_spans(spans):
    with pytest.raises(ValueError, match=r"spans\[0\]"):
        span_corruption([X6], vocab_size=V, spans=[spans])



def test_pretrain_model_vocab_may_exceed_the_tokenizer(runs):
    """A model vocabulary larger than the tokenizer's leaves ids no text uses: T5's sentinels land there (notebook
    11, exercise 5). It used to raise TypeError (vocab_size passed twice); a smaller one is refused by name."""
    tr = recipes.pretrain(runs / "t5", "smoke", objectives=("span",), model_overrides={"vocab_size": 620},
                          train_overrides={"max_steps": 2, "progress": False})
    assert tr.model.cfg.vocab_size == 620 and tr.tokenizer.vocab_size == 600
    b = tr.build(tr.tasks[0], tr.next_examples(tr.tasks[0]), 0)
    assert (b.src >= 600).any() and (b.target >= 600).any()  # the sentinels are ids above the text's
    with pytest.raises(ValueError, match="vocab_size=500 is smaller than the tokenizer's 600"):
        recipes.pretrain(runs / "small", "smoke", model_overrides={"vocab_size": 500})


def test_paired_bootstrap_tells_a_clear_winner():
    refs = [f"the {w} sat on the mat today" for w in ("cat", "dog", "bird", "fox", "cow")] * 8
    good = [r.replace("today", "now") for r in refs]
    bad = [" ".join(r.split()[:2]) for r in refs]
    res = paired_bootstrap(bad, good, refs, n=200)
    assert set(res) == {"BLEU", "chrF"}
    for m in res.values():
        assert m["system"] > m["baseline"] and m["p_value"] < 0.05 and "bs:200" in m["signature"]
    # two systems with the same kind of error on different halves of the test set: no real difference
    half_a = [g if i % 2 else r for i, (g, r) in enumerate(zip(good, refs))]
    half_b = [r if i % 2 else g for i, (g, r) in enumerate(zip(good, refs))]
    assert paired_bootstrap(good, good, refs, n=200)["BLEU"]["p_value"] == 1.0  # equal: no evidence of a difference
    tie = paired_bootstrap(half_a, half_b, refs, n=200)["BLEU"]
    assert tie["system"] == pytest.approx(tie["baseline"]) and tie["p_value"] > 0.2
    with pytest.raises(ValueError, match="pair up"):
        paired_bootstrap(good, good[:-1], refs)


