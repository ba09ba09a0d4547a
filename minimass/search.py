"""Greedy and beam search for the fine-tuned encoder-decoder (Sec. 4.2-4.4).

Conventions shared by every function here:

- the decoder starts from ``bos`` (``<s>``, as in fine-tuning: input ``<s> y1 ..``, target
  ``y1 .. </s>``);
- ``<pad>`` and ``<s>`` are never generated, nor ``[M]`` unless ``allow_mask=True``;
- a sentence gets ``max_len = int(max_len_a * src_len + max_len_b)`` decoding steps (src_len counts
  non-pad tokens), capped by ``model.cfg.max_positions``; ``</s>`` takes a step, and a hypothesis
  with no ``</s>`` after max_len steps is finished as it is: ``src_len=4, a=1.5, b=10 -> 16``;
- ``</s>`` is banned until ``min_len`` tokens have been generated;
- returned tokens exclude ``<s>`` and ``</s>`` (so each list holds at most max_len tokens);
- beam scores are ``sum(log p) / len ** length_penalty`` (the XLM / Hugging Face formula), where
  len counts the generated tokens, ``</s>`` included when the hypothesis has one."""

from __future__ import annotations

import torch
from torch import Tensor
from tqdm import tqdm

from .masking import pad
from .tokenizer import BOS, EOS, MASK, PAD, lang_id

INF = float("inf")
BEAM_ONLY = ("length_penalty", "early_stopping", "nbest")  # options greedy ignores in generate()
Lang = int | Tensor  # a language id, or one per row (B,)

def _rows(lang: Lang, index: Tensor) -> Lang:  # the languages of the rows ``index``
    return lang[index] if torch.is_tensor(lang) and lang.dim() == 1 else lang

def max_lengths(model, src: Tensor, a: float, b: float) -> list[int]:
    """Decoding steps per sentence of ``src`` (B, S): ``a * src_len + b``, in [1, max_positions]."""
    src_len = (src != model.cfg.pad_id).sum(1).tolist()
    return [max(1, min(int(a * n + b), model.cfg.max_positions)) for n in src_len]

def banned_ngram_tokens(seq: list[int], n: int) -> list[int]:
    """Next tokens that would repeat an n-gram of ``seq``:
    >>> banned_ngram_tokens([5, 6, 7, 5], n=2), banned_ngram_tokens([5, 6, 7, 5], n=3)
    ([6], [])"""
    if n <= 0 or len(seq) < n - 1:
        return []
    last = seq[len(seq) - n + 1:]  # the n-1 tokens a new n-gram would start with
    return [seq[i + n - 1] for i in range(len(seq) - n + 1) if seq[i:i + n - 1] == last]

def next_logprobs(model, seqs: Tensor, lang: Lang, memory: Tensor, mem_mask: Tensor,
                  cache: list[dict] | None, step: int, min_len: int, no_repeat: int,
                  allow_mask: bool) -> Tensor:
    """Log-probabilities ``(rows, V)`` of the token after ``seqs`` (rows, step + 1), banned tokens
    at -inf. With a cache only the newest token goes through the decoder; without one the whole
    prefix is re-read (the slow path: same numbers, quadratic cost)."""
    inp = seqs[:, -1:] if cache is not None else seqs
    logits = model.decode(inp, lang, memory, mem_mask, cache=cache)[:, -1]
    logp = logits.float().log_softmax(-1)  # not renormalised after banning, as in fairseq and HF
    banned = [PAD, BOS] + ([] if allow_mask else [MASK]) + ([EOS] if step < min_len else [])
    logp[:, banned] = -INF
    if no_repeat > 0:
        for r, seq in enumerate(seqs[:, 1:].tolist()):
            logp[r, banned_ngram_tokens(seq, no_repeat)] = -INF
    return logp

@torch.no_grad()
def greedy(model, src: Tensor, src_lang: Lang, tgt_lang: Lang, *, max_len_a: float = 1.5,
           max_len_b: float = 10, min_len: int = 1, no_repeat_ngram_size: int = 0,
           use_cache: bool = True, bos: int = BOS, allow_mask: bool = False) -> list[list[int]]:
    """Take the most likely token at each step, all sentences at once (back-translation, Sec. 4.2).
    ``src`` is (B, S) with ``<pad>`` = 0; returns B token lists without ``<s>``/``</s>``."""
    B, dev = src.size(0), src.device
    memory, mem_mask = model.encode(src, src_lang)
    limit = torch.tensor(max_lengths(model, src, max_len_a, max_len_b), device=dev)
    seqs = torch.full((B, 1), bos, dtype=torch.long, device=dev)  # (rows, t + 1): those still going
    rows, out = torch.arange(B, device=dev), [[] for _ in range(B)]
    cache = model.new_cache() if use_cache else None
    for t in range(int(limit.max())):
        logp = next_logprobs(model, seqs, tgt_lang, memory, mem_mask, cache, t, min_len,
                             no_repeat_ngram_size, allow_mask)
        seqs = torch.cat([seqs, logp.argmax(-1)[:, None]], 1)
        done = (seqs[:, -1] == EOS) | (limit <= t + 1)
        if bool(done.any()):  # finished sentences leave the batch
            for r, row in zip(rows[done].tolist(), seqs[done, 1:].tolist()):
                out[r] = row[: (row + [EOS]).index(EOS)]
            keep = (~done).nonzero().flatten()
            if not len(keep):
                break
            rows, seqs, limit = rows[keep], seqs[keep], limit[keep]
            memory, mem_mask, tgt_lang = memory[keep], mem_mask[keep], _rows(tgt_lang, keep)
            if cache is not None:
                model.reorder_cache(cache, keep)
    return out

def keep_best(hyps: list[tuple[float, list[int]]], beam: int, score: float,
              tokens: list[int]) -> None:
    """Add a finished hypothesis to ``hyps`` (sorted best first) and keep only the ``beam`` best."""
    hyps.append((score, tokens))
    hyps.sort(key=lambda h: -h[0])
    del hyps[beam:]

@torch.no_grad()
def beam_search(model, src: Tensor, src_lang: Lang, tgt_lang: Lang, *, beam: int = 5,
                length_penalty: float = 1.0, early_stopping: bool = True, min_len: int = 1,
                max_len_a: float = 1.5, max_len_b: float = 10, no_repeat_ngram_size: int = 0,
                nbest: int = 1, use_cache: bool = True, bos: int = BOS,
                allow_mask: bool = False) -> list[list[tuple[list[int], float]]]:
    """Keep the ``beam`` best prefixes of every sentence: B * beam decoder rows, one decoder call
    per step. Returns, per sentence, up to ``nbest`` ``(tokens, score)`` pairs, best first.
    A sentence is done once it has ``beam`` finished hypotheses and either ``early_stopping`` is
    True or no live prefix can still beat the worst of them (its log-prob can only fall as it
    grows, so ``score / n ** length_penalty`` is bounded by its values at the extreme lengths)."""
    if not 1 <= nbest <= beam:
        raise ValueError(f"need 1 <= nbest <= beam, got nbest={nbest}, beam={beam}")
    B, K, dev = src.size(0), beam, src.device
    memory, mem_mask = model.encode(src, src_lang)
    memory, mem_mask = memory.repeat_interleave(K, 0), mem_mask.repeat_interleave(K, 0)  # B*K rows
    if torch.is_tensor(tgt_lang) and tgt_lang.dim() == 1:
        tgt_lang = tgt_lang.repeat_interleave(K)
    limit = max_lengths(model, src, max_len_a, max_len_b)
    seqs = torch.full((B * K, 1), bos, dtype=torch.long, device=dev)  # row a*K+k: beam k, active[a]
    scores = torch.full((B, K), -INF, device=dev)
    scores[:, 0] = 0.0  # one live prefix at the start, so the first step does not pick duplicates
    finished = [[] for _ in range(B)]  # per sentence: (score, tokens) of its finished hypotheses
    active = list(range(B))  # the sentences still searching
    cache = model.new_cache() if use_cache else None
    for t in range(max(limit)):
        logp = next_logprobs(model, seqs, tgt_lang, memory, mem_mask, cache, t, min_len,
                             no_repeat_ngram_size, allow_mask)
        V = logp.size(-1)
        cand = (scores[:, :, None] + logp.view(len(active), K, V)).view(len(active), K * V)
        top, idx = cand.topk(2 * K, dim=1)  # at most K of them end in </s>, so K stay live
        top, idx, hist = top.tolist(), idx.tolist(), seqs[:, 1:].tolist()
        rows, toks, new_scores, going = [], [], [], []
        for a, b in enumerate(active):
            live = []  # (row, token, score) of the K best prefixes that go on
            for rank, (s, i) in enumerate(zip(top[a], idx[a])):
                if len(live) == K:
                    break
                row, tok = a * K + i // V, i % V
                if tok != EOS:
                    live.append((row, tok, s))
                elif rank < K and s > -INF:  # only a top-K </s> finishes (fairseq, HF): t+1 tokens
                    keep_best(finished[b], K, s / (t + 1) ** length_penalty, hist[row])
            if t + 1 >= limit[b]:  # out of steps: live prefixes finish as they are
                for row, tok, s in live:
                    if s > -INF:
                        keep_best(finished[b], K, s / (t + 1) ** length_penalty, hist[row] + [tok])
                continue
            if len(finished[b]) == K:
                best = max(s for _, _, s in live)
                # the best score any later length (between t + 2 and limit[b]) could reach
                bound = max(best / n ** length_penalty for n in (t + 2, limit[b]))
                if early_stopping or bound <= finished[b][-1][0]:
                    continue
            going.append(b)
            rows += [r for r, _, _ in live]
            toks += [x for _, x, _ in live]
            new_scores += [s for _, _, s in live]
        if not going:
            break
        index = torch.tensor(rows, device=dev)
        seqs = torch.cat([seqs[index], torch.tensor(toks, device=dev)[:, None]], 1)
        scores = torch.tensor(new_scores, device=dev).view(len(going), K)
        if len(going) < len(active):  # finished sentences leave (a sentence's memory rows match)
            memory, mem_mask, tgt_lang = memory[index], mem_mask[index], _rows(tgt_lang, index)
        active = going
        if cache is not None:
            model.reorder_cache(cache, index)  # self and cross k/v follow their prefix
    return [[(tokens, score) for score, tokens in f[:nbest]] for f in finished]

def generate(model, src: Tensor, src_lang: Lang, tgt_lang: Lang, beam: int = 1,
             **kw) -> list[list[int]]:
    """Best output per sentence: greedy if ``beam == 1`` (beam-only options ignored), else beam."""
    if beam == 1:
        greedy_kw = {k: v for k, v in kw.items() if k not in BEAM_ONLY}
        return greedy(model, src, src_lang, tgt_lang, **greedy_kw)
    hyps = beam_search(model, src, src_lang, tgt_lang, beam=beam, **kw)
    return [h[0][0] if h else [] for h in hyps]

def translate(model, tokenizer, sentences: list[str], src_lang: str, tgt_lang: str, *,
              beam: int = 5, batch_size: int = 64, device: torch.device | str | None = None,
              **kw) -> list[str]:
    """Translate (or summarise, or answer) plain strings:
    ``translate(model, tok, ["Hello."], "en", "fr")``. Sentences are sorted by length into batches
    of ``batch_size`` and returned in input order. Runs in eval mode under ``no_grad`` and restores
    train mode afterwards. ``device`` defaults to the model's; given, the model is moved there.
    Inputs longer than ``max_positions`` are truncated. ``kw`` goes to :func:`generate`
    (``max_len_a``, ``length_penalty``, ``no_repeat_ngram_size``, ...)."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    P = model.cfg.max_positions
    ids = [s if len(s) <= P else s[: P - 1] + [EOS] for s in tokenizer.encode(list(sentences))]
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))  # longest first: OOM shows early
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    out, was_training = [""] * len(ids), model.training
    model.to(device).eval()
    try:
        with torch.no_grad():
            for batch in tqdm(batches, desc="translate", unit="batch", disable=len(batches) <= 1):
                src = pad([ids[i] for i in batch]).to(device)
                hyps = generate(model, src, lang_id(src_lang), lang_id(tgt_lang), beam, **kw)
                for i, hyp in zip(batch, hyps):
                    out[i] = tokenizer.decode(hyp)
    finally:
        model.train(was_training)
    return out
