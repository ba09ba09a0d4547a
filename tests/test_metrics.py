"""Metrics: sacrebleu BLEU/chrF with signatures, ROUGE F1, perplexity; exact hand-checked cases."""

import math

import pytest

from minimass.metrics import bleu, chrf, perplexity, rouge

SENTS = ["the cat sat on the mat today", "a dog runs in the big park", "le chat est sur le tapis rouge"]


def test_identical_outputs_score_100():
    assert bleu(SENTS, SENTS)["score"] == pytest.approx(100.0)
    assert chrf(SENTS, SENTS)["score"] == pytest.approx(100.0)
    assert rouge(SENTS, SENTS) == pytest.approx({"rouge1": 100.0, "rouge2": 100.0, "rougeL": 100.0})


def test_bleu_by_hand():
    # n-gram precisions 5/6, 3/5, 2/4, 1/3; same length so no brevity penalty: BLEU = (1/12) ** (1/4)
    out = bleu(["the cat sat on the mat"], ["the cat sat on a mat"])
    assert out["score"] == pytest.approx(100 * (1 / 12) ** 0.25, abs=1e-6)


def test_rouge_by_hand():
    # unigrams 2 of 3 match, bigrams 1 of 2, longest common subsequence 2 of 3
    out = rouge(["the cat sat"], ["the cat ran"])
    assert out == pytest.approx({"rouge1": 200 / 3, "rouge2": 50.0, "rougeL": 200 / 3})
    assert rouge(["the cats"], ["the cat"])["rouge1"] == pytest.approx(100.0)  # stemming
    assert rouge(["a b", "x"], ["a b", "y"])["rouge1"] == pytest.approx(50.0)  # mean over sentences


def test_signatures():
    assert "tok:13a" in bleu(SENTS, SENTS)["signature"]
    assert "nrefs:1" in chrf(SENTS, SENTS)["signature"]
    assert "lc" in bleu(SENTS, SENTS, lowercase=True)["signature"].split("|")[1]  # case:lc


@pytest.mark.parametrize("metric", [bleu, chrf, rouge])
def test_mismatched_or_empty_inputs_raise(metric):
    with pytest.raises(ValueError, match="2 hypotheses but 3 references"):
        metric(SENTS[:2], SENTS)
    with pytest.raises(ValueError, match="no hypotheses"):
        metric([], [])


def test_perplexity():
    assert perplexity(5 * math.log(2), 5) == pytest.approx(2.0)
    assert perplexity(0.0, 7) == 1.0
    assert perplexity(1e6, 1) == math.inf
    with pytest.raises(ValueError, match="n_tokens=0"):
        perplexity(1.0, 0)
