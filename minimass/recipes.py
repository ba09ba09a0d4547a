"""Recipes the notebooks and the command line call: pre-train (Sec. 3-4.1) and the cached pre-trained checkpoint
of a recipe, fine-tune (Sec. 4.2-4.4), back-translate (Sec. 4.2), evaluate."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from . import data
from .metrics import bleu, chrf
from .model import Seq2Seq, build_model
from .search import translate
from .tokenizer import Tokenizer, lang_id
from .trainer import Task, Trainer, checkpoints, load_checkpoint, train_config

# Data sizes per preset: BPE vocabulary, sentences per language (None: all), validation examples.
DATA_SIZES = {"smoke": dict(vocab=1000, sentences=3000, valid=100), "cpu": dict(vocab=8000, sentences=None, valid=300),
              "gpu": dict(vocab=16000, sentences=None, valid=1000)}
PRETRAIN_STEPS = {"smoke": 60, "cpu": 5000, "gpu": 100000}  # the shared pre-trained checkpoints' steps

def runs_dir() -> Path:
    """Where runs are cached: ``$MINIMASS_RUNS``, else ``~/.cache/minimass/runs`` (under ``$MINIMASS_DATA``)."""
    return Path(os.environ.get("MINIMASS_RUNS") or data.cache_dir() / "runs")

def get_tokenizer(run_dir: Path, texts: Sequence[str], vocab_size: int) -> Tokenizer:
    """The run's joint BPE (Sec. 4.1), trained once on ``texts`` and kept as ``run_dir/tokenizer.model``."""
    path = Path(run_dir) / "tokenizer.model"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        Tokenizer.train(texts, vocab_size=vocab_size).save(path)
    return Tokenizer.load(path)

def pretrain(run_dir: str | Path, preset_name: str = "cpu", langs: Sequence[str] = ("en", "fr"),
             objectives: Sequence[str] = ("mass",), model_overrides: dict | None = None,
             train_overrides: dict | None = None, seed: int = 0, sentences: int | None = -1) -> Trainer:
    """Pre-train on monolingual text of each language (Sec. 4.1), one task per objective and language.
    The languages' sentences come from disjoint Bible books (``data.unsupervised``), so the result also
    serves unsupervised NMT honestly; Matthew (test), Mark (valid) and Luke are never seen.
    ``objectives``: ``("mass",)``, the baselines ``("mlm", "clm")`` (BERT+LM) and ``("dae",)``, or MASS's
    successors ``("infill",)`` (BART) and ``("span",)`` (T5)."""
    size = DATA_SIZES[preset_name]
    n = size["sentences"] if sentences == -1 else sentences
    splits = data.unsupervised(langs[0], langs[1], seed=seed)
    texts = {lg: splits.train[lg][:n] for lg in langs}
    tok = get_tokenizer(Path(run_dir), [t for lg in langs for t in texts[lg]], size["vocab"])
    tasks = []
    for lg in langs:
        ids = data.encode_cached(tok, texts[lg], f"pretrain-{lg}")
        valid = data.encode_cached(tok, [p[langs.index(lg)] for p in splits.valid[: size["valid"]]], f"valid-{lg}")
        tasks += [Task(o, ids, lang=lang_id(lg), name=f"{o}-{lg}", valid=valid) for o in objectives]
    return _train(run_dir, preset_name, None, tasks, tok, seed, model_overrides, train_overrides)

def pretrained(objectives: Sequence[str] = ("mass",), langs: Sequence[str] = ("en", "fr"), k: float = 0.5,
               mode: str = "mass", preset_name: str = "cpu", seed: int = 0, steps: int | None = None) -> Path:
    """The checkpoint of a pre-training recipe (Sec. 4.1; ``k``: the fragment ratio, ``mode``: Table 6's ablations),
    trained only when missing from :func:`runs_dir` and resumed when interrupted. A finished run of the same recipe
    with fewer steps is continued rather than redone: its batches and schedule do not depend on ``max_steps``."""
    steps = steps or PRETRAIN_STEPS[preset_name]
    name, run = recipe_name(objectives, langs, k, mode, preset_name, seed), runs_dir()
    final = run / f"{name}_{steps}" / f"step_{steps:07d}"
    if not final.exists():
        if not checkpoints(final.parent):
            done = [(int(p.name[len(name) + 1:]), p) for p in run.glob(f"{name}_*") if p.name[len(name) + 1:].isdigit()]
            done = [(s, p) for s, p in done if s < steps and (p / f"step_{s:07d}").exists()]
            if done:
                shorter = max(done)[1]
                shutil.copytree(shorter, final.parent, ignore=shutil.ignore_patterns(".tmp-*"))
                print(f"continuing {shorter.name} to {steps} steps")
        pretrain(final.parent, preset_name, langs, objectives, None, {"max_steps": steps, "mask_ratio": k,
                                                                      "mask_mode": mode}, seed)
    return final

def recipe_name(objectives: Sequence[str] = ("mass",), langs: Sequence[str] = ("en", "fr"), k: float = 0.5,
                mode: str = "mass", preset_name: str = "cpu", seed: int = 0) -> str:
    """The run-cache name of a pre-training recipe; :func:`pretrained` keeps its runs in ``NAME_STEPS`` folders."""
    name = f"{'+'.join(objectives)}_{'-'.join(langs)}" + (f"_k{k:g}_{mode}" if "mass" in objectives else "")
    return f"{name}_{preset_name}_seed{seed}"

def _train(run_dir: str | Path, preset_name: str, model: Seq2Seq | None, tasks: list[Task], tok: Tokenizer, seed: int,
           model_overrides: dict | None, train_overrides: dict | None, validate=None) -> Trainer:
    """Build the model (seeded) unless given, and the preset's TrainConfig with overrides; train in ``run_dir``."""
    if model is None:
        torch.manual_seed(seed)  # initial weights
        over = {"vocab_size": tok.vocab_size, **(model_overrides or {})}  # larger: ids no text uses (T5's sentinels)
        if over["vocab_size"] < tok.vocab_size:
            raise ValueError(f"model vocab_size={over['vocab_size']} is smaller than the tokenizer's {tok.vocab_size}")
        model = build_model(preset_name, **over)
    cfg = train_config(preset_name, {"seed": seed, **(train_overrides or {})})
    trainer = Trainer(model, tasks, cfg, run_dir, tokenizer=tok, validate=validate)
    trainer.train()
    return trainer

def _init(init: str | Path | None, tokenizer: Tokenizer | None) -> tuple[Seq2Seq | None, Tokenizer]:
    if init is None and tokenizer is None:
        raise ValueError("fine-tuning without init needs a tokenizer (pass the pre-trained run's)")
    model, tok, _ = load_checkpoint(init) if init is not None else (None, None, None)
    return model, tokenizer or tok

def _pairs(tok: Tokenizer, pairs: Sequence[tuple], src: str, tgt: str, name: str, flip: bool = False) -> list:
    a, b = (data.encode_cached(tok, [p[i] for p in pairs], f"{name}-{g}") for i, g in ((flip, src), (1 - flip, tgt)))
    return [(x, y) for x, y in zip(a, b) if max(len(x), len(y)) <= data.MAX_LEN + 1]  # Sec. 4.1: <= 175 BPE + </s>

def finetune(run_dir: str | Path, init: str | Path | None, src: str = "en", tgt: str = "fr",
             n_train: int | None = None, preset_name: str = "cpu", model_overrides: dict | None = None,
             train_overrides: dict | None = None, seed: int = 0, tokenizer: Tokenizer | None = None,
             valid_bleu: int = 0, corpus: str = "bible") -> Trainer:
    """Fine-tune on (src, tgt) pairs of ``corpus``: ``bible`` verses (Sec. 4.2, low-resource NMT), ``bbc`` lead ->
    headline (Sec. 4.3) or ``chitchat`` utterance -> response (Sec. 4.4; both en -> en); ``init=None`` is the
    no-pre-training baseline (it needs ``tokenizer``, e.g. the pre-trained run's, for a fair comparison).
    ``valid_bleu=N`` adds greedy BLEU on the first N validation pairs to every validation."""
    model, tokenizer = _init(init, tokenizer)
    splits = (data.parallel(src, tgt, n_train=n_train, seed=seed) if corpus == "bible" else
              (data.summarization if corpus in ("bbc", "gigaword") else data.dialogue)(corpus, seed, n_train=n_train))
    task = Task("mt", _pairs(tokenizer, splits.train, src, tgt, "ft-train"), lang=lang_id(tgt), src_lang=lang_id(src),
                name=f"mt-{src}-{tgt}", valid=_pairs(tokenizer, splits.valid[: DATA_SIZES[preset_name]["valid"]],
                                                     src, tgt, "ft-valid"))
    pairs = splits.valid[:valid_bleu]

    def validate(m):
        return {"valid_bleu": bleu(translate(m, tokenizer, [p[0] for p in pairs], src, tgt, beam=1),
                                   [p[1] for p in pairs])["score"]}

    return _train(run_dir, preset_name, model, [task], tokenizer, seed, model_overrides, train_overrides,
                  validate if pairs else None)

def back_translation(run_dir: str | Path, init: str | Path | None, l1: str = "en", l2: str = "fr",
                     preset_name: str = "cpu", train_overrides: dict | None = None, seed: int = 0,
                     tokenizer: Tokenizer | None = None, validate: Callable[[Seq2Seq], dict] | None = None) -> Trainer:
    """Unsupervised NMT (Sec. 4.2): back-translation only, l1->l2->l1 and l2->l1->l2 in turn, on the disjoint-book
    monolingual text of pre-training. Validation: perplexity of the real valid pairs (task ``bt-SRC-TGT``), and
    ``validate(model) -> dict`` (e.g. greedy BLEU) if given."""
    model, tokenizer = _init(init, tokenizer)
    size = DATA_SIZES[preset_name]
    splits = data.unsupervised(l1, l2, seed=seed)
    tasks = [Task("bt", data.encode_cached(tokenizer, splits.train[a][: size["sentences"]], f"pretrain-{a}"),
                  lang=lang_id(a), src_lang=lang_id(b), name=f"bt-{b}-{a}",
                  valid=_pairs(tokenizer, splits.valid[: size["valid"]], b, a, "bt-valid", flip=a == l1))
             for a, b in ((l1, l2), (l2, l1))]
    return _train(run_dir, preset_name, model, tasks, tokenizer, seed, None, train_overrides, validate)

def evaluate(checkpoint: str | Path, src: str = "en", tgt: str = "fr", split: str = "test", n: int | None = None,
             beam: int = 5, seed: int = 0) -> dict:
    """Translate the Bible test (Matthew) or valid (Mark) pairs and score them with sacrebleu; ``hyps`` and
    ``refs`` are kept for a paired comparison (:func:`minimass.metrics.paired_bootstrap`)."""
    model, tok, _ = load_checkpoint(latest(checkpoint))
    pairs = getattr(data.parallel(src, tgt, seed=seed), split)[:n]
    hyps, refs = translate(model, tok, [p[0] for p in pairs], src, tgt, beam=beam), [p[1] for p in pairs]
    return {"bleu": bleu(hyps, refs), "chrf": chrf(hyps, refs), "n": len(pairs), "hyps": hyps, "refs": refs}

def latest(path: str | Path) -> Path:
    """A checkpoint folder, or the newest checkpoint of a run folder."""
    path = Path(path)
    if not (found := [path] if (path / "state.pt").exists() else checkpoints(path)):
        raise FileNotFoundError(f"no checkpoint in {path} (expected {path}/step_*/state.pt)")
    return found[0]
