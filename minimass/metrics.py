"""Scores the paper reports: BLEU for translation (Sec. 4.2), ROUGE-1/2/L F1 for summarisation
(Sec. 4.3), perplexity for response generation (Sec. 4.4); chrF, a second opinion on translation.

BLEU and chrF come from sacrebleu with its signature, so a number can be reproduced and compared;
hypotheses and references are detokenised strings, one reference per hypothesis."""

from __future__ import annotations

import math

from sacrebleu.metrics import BLEU, CHRF


def _require_pairs(hyps: list[str], refs: list[str]) -> None:
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypotheses but {len(refs)} references: they must pair up")
    if not hyps:
        raise ValueError("no hypotheses to score")

def _corpus_score(metric: BLEU | CHRF, hyps: list[str], refs: list[str]) -> dict:
    _require_pairs(hyps, refs)
    score = metric.corpus_score(list(hyps), [list(refs)])  # the signature exists only after scoring
    return {"score": float(score.score), "signature": str(metric.get_signature())}

def bleu(hyps: list[str], refs: list[str], **kw) -> dict:
    """Corpus BLEU (sacrebleu defaults: 13a tokeniser, exp smoothing): ``{"score": 27.3,
    "signature": ...}``. ``kw`` goes to ``sacrebleu.metrics.BLEU`` (``tokenize="intl"``, ...):
    >>> round(bleu(["the cat sat on the mat"], ["the cat sat on the mat"])["score"], 6)
    100.0"""
    return _corpus_score(BLEU(**kw), hyps, refs)

def chrf(hyps: list[str], refs: list[str], **kw) -> dict:
    """Corpus chrF (character 6-grams), returned as by :func:`bleu`; ``kw`` goes to ``CHRF``."""
    return _corpus_score(CHRF(**kw), hyps, refs)

def rouge(hyps: list[str], refs: list[str]) -> dict:
    """ROUGE-1, -2 and -L F1 x 100 averaged over sentences, with Porter stemming (Sec. 4.3).
    rouge-score keeps only ``[a-z0-9]`` tokens after lowercasing, so it suits English (the paper's
    Gigaword) but scores text in other scripts as empty:
    >>> rouge(["the cats"], ["the cat"])["rouge1"], rouge(["кошка"], ["кошка"])["rouge1"]
    (100.0, 0.0)"""
    _require_pairs(hyps, refs)
    keys = ("rouge1", "rouge2", "rougeL")
    from rouge_score import rouge_scorer  # imported here: only summarisation needs it

    scorer = rouge_scorer.RougeScorer(list(keys), use_stemmer=True)
    totals = dict.fromkeys(keys, 0.0)
    for hyp, ref in zip(hyps, refs):
        scores = scorer.score(ref, hyp)  # (target, prediction)
        for k in keys:
            totals[k] += scores[k].fmeasure
    return {k: 100.0 * v / len(hyps) for k, v in totals.items()}

def perplexity(nll_sum: float, n_tokens: int) -> float:
    """exp(mean negative log-likelihood per token), natural log; ``inf`` rather than an overflow
    when the mean loss is huge (a diverged model):
    >>> perplexity(3 * math.log(2), 3), perplexity(1e6, 1)
    (2.0, inf)"""
    if n_tokens <= 0:
        raise ValueError(f"perplexity needs at least one token, got n_tokens={n_tokens}")
    mean = nll_sum / n_tokens
    return math.exp(mean) if mean < 709.0 else math.inf
