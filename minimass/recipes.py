"""The public API that the notebooks, the command line, bench/ and scripts/ call: pre-train
(Sec. 3-4.1) and the cached checkpoint of a recipe, fine-tune (Sec. 4.2-4.4), back-translate
(Sec. 4.2), evaluate."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from . import data
from .metrics import bleu, chrf
from .model import Seq2Seq, build_model
from .presets import PRESETS
from .search import translate
from .tokenizer import Tokenizer, lang_id
from .trainer import Task, Trainer, checkpoints, load_checkpoint, train_config

# Per preset (the table in minimass.presets): BPE size, sentences per language, validation
# examples; the steps of the shared pre-trained checkpoints.
DATA_SIZES = {name: p["data"] for name, p in PRESETS.items()}
PRETRAIN_STEPS = {name: p["pretrain_steps"] for name, p in PRESETS.items()}

def runs_dir() -> Path:
    """Where runs are cached: ``$MINIMASS_RUNS``, else ``runs`` in the data cache."""
    return Path(os.environ.get("MINIMASS_RUNS") or data.cache_dir() / "runs")

def get_tokenizer(run_dir: Path, texts: Sequence[str] | Callable, vocab_size: int) -> Tokenizer:
    """The run's joint BPE (Sec. 4.1), trained once on ``texts`` (or on ``texts()``, called only
    then, so a learned BPE costs no text reading): ``run_dir/tokenizer.model``."""
    path = Path(run_dir) / "tokenizer.model"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        Tokenizer.train(texts() if callable(texts) else texts, vocab_size=vocab_size).save(path)
    return Tokenizer.load(path)

def pretrain(run_dir: str | Path, preset_name: str = "cpu", langs: Sequence[str] = ("en", "fr"),
             objectives: Sequence[str] = ("mass",), model_overrides: dict | None = None,
             train_overrides: dict | None = None, seed: int = 0,
             sentences: int | None = -1) -> Trainer:
    """Pre-train on monolingual text of each language (Sec. 4.1; :func:`pretraining_text`), one
    task per objective and language, with a BPE learned on that text. ``objectives``:
    ``("mass",)``, the baselines ``("mlm", "clm")`` (BERT+LM) and ``("dae",)``, or one registered
    in ``trainer.BATCHERS``."""
    size = DATA_SIZES[preset_name]
    n = size["sentences"] if sentences == -1 else sentences
    texts, held = pretraining_text(langs, seed, n, size["valid"])
    tok = get_tokenizer(Path(run_dir), [t for lg in langs for t in texts[lg]], size["vocab"])
    tasks = []
    for lg in langs:  # Sec. 4.1's length limit, in BPE pieces (a few words can make many)
        ids, valid = ([x for x in data.encode_cached(tok, t, f"{g}-{lg}")
                       if len(x) <= data.MAX_LEN + 1]
                      for t, g in ((texts[lg], "pretrain"), (held[lg], "valid")))
        tasks += [Task(o, ids, lang=lang_id(lg), name=f"{o}-{lg}", valid=valid) for o in objectives]
    return _train(run_dir, preset_name, None, tasks, tok, seed, model_overrides, train_overrides)

ENGLISH = ("bible", "wiki", "bbc", "chitchat")  # the English-only pre-training text (offline)

def pretraining_text(langs: Sequence[str], seed: int = 0, n: int | None = None,
                     n_valid: int | None = None) -> tuple[dict, dict]:
    """Training and validation sentences per language (Sec. 4.1). Two languages: disjoint Bible
    books (``data.unsupervised``), so the model also serves unsupervised NMT honestly; Matthew,
    Mark and Luke are never seen. One (English, as Sec. 4.1 pre-trains summarization and dialogue):
    ``data.monolingual`` of ``ENGLISH``, whose train split holds no sentence of an article or a
    conversation that ``data.summarization`` or ``data.dialogue`` holds out."""
    if len(langs) == 2:
        s = data.unsupervised(langs[0], langs[1], seed=seed, max_sentences=n)
        return ({lg: s.train[lg][:n] for lg in langs},
                {lg: [p[i] for p in s.valid[:n_valid]] for i, lg in enumerate(langs)})
    s = data.monolingual(langs[0], ENGLISH, seed)
    return {langs[0]: s.train[:n]}, {langs[0]: s.valid[:n_valid]}

def pretrained(objectives: Sequence[str] = ("mass",), langs: Sequence[str] = ("en", "fr"),
               k: float = 0.5, mode: str = "mass", preset_name: str = "cpu", seed: int = 0,
               steps: int | None = None) -> Path:
    """The checkpoint of a pre-training recipe (Sec. 4.1; ``k``: the fragment ratio, ``mode``:
    Table 6's ablations), trained only when missing from :func:`runs_dir`, resumed when
    interrupted. A finished run of the recipe with fewer steps is continued, not redone: its
    batches and schedule do not depend on ``max_steps``."""
    steps = steps or PRETRAIN_STEPS[preset_name]
    name, run = recipe_name(objectives, langs, k, mode, preset_name, seed), runs_dir()
    final = run / f"{name}_{steps}" / f"step_{steps:07d}"
    if not final.exists():
        if not checkpoints(final.parent):  # a finished shorter run of this recipe, to continue
            done = [(int(p.name[len(name) + 1:]), p) for p in run.glob(f"{name}_*")
                    if p.name[len(name) + 1:].isdigit()]
            done = [(s, p) for s, p in done if s < steps and (p / f"step_{s:07d}").exists()]
            if done:
                shorter = max(done)[1]
                shutil.copytree(shorter, final.parent, ignore=shutil.ignore_patterns(".tmp-*"))
                print(f"continuing {shorter.name} to {steps} steps")
        train = {"max_steps": steps, "mask_ratio": k, "mask_mode": mode}
        pretrain(final.parent, preset_name, langs, objectives, None, train, seed)
    return final

def recipe_name(objectives: Sequence[str] = ("mass",), langs: Sequence[str] = ("en", "fr"),
                k: float = 0.5, mode: str = "mass", preset_name: str = "cpu", seed: int = 0) -> str:
    """The run-cache name of a pre-training recipe (:func:`pretrained`: ``NAME_STEPS`` folders)."""
    name = f"{'+'.join(objectives)}_{'-'.join(langs)}"
    name += f"_k{k:g}_{mode}" if "mass" in objectives else ""
    return f"{name}_{preset_name}_seed{seed}"

def _train(run_dir: str | Path, preset_name: str, model: Seq2Seq | None, tasks: list[Task],
           tok: Tokenizer, seed: int, model_overrides: dict | None, train_overrides: dict | None,
           validate=None) -> Trainer:
    """Build the model (seeded) unless given, and the preset's TrainConfig with overrides; train."""
    if model is None:
        torch.manual_seed(seed)  # initial weights
        # a vocab_size larger than the tokenizer's: ids that no text uses (T5's sentinels)
        over = {"vocab_size": tok.vocab_size, **(model_overrides or {})}
        if over["vocab_size"] < tok.vocab_size:
            raise ValueError(f"model vocab_size={over['vocab_size']} is smaller than the "
                             f"tokenizer's {tok.vocab_size}")
        model = build_model(preset_name, **over)
    cfg = train_config(preset_name, {"seed": seed, **(train_overrides or {})})
    trainer = Trainer(model, tasks, cfg, run_dir, tokenizer=tok, validate=validate)
    trainer.train()
    return trainer

def _init(init: str | Path | None, tokenizer: Tokenizer | None) -> tuple[Seq2Seq | None, Tokenizer]:
    """The model and tokenizer of checkpoint ``init`` (None: no model, the given tokenizer)."""
    if init is None and tokenizer is None:
        raise ValueError("fine-tuning without init needs a tokenizer (pass the pre-trained run's)")
    model, tok, _ = load_checkpoint(init) if init is not None else (None, None, None)
    return model, tokenizer or tok

def encode_pairs(tok: Tokenizer, pairs: Sequence[tuple], src: str, tgt: str, name: str,
                 flip: bool = False) -> list:
    """(source ids, target ids) of text pairs (``flip``: the second side is the source), less
    the pairs over the paper's length limit (Sec. 4.1: 175 pieces, plus ``</s>``)."""
    a, b = (data.encode_cached(tok, [p[i] for p in pairs], f"{name}-{g}")
            for i, g in ((flip, src), (1 - flip, tgt)))
    return [(x, y) for x, y in zip(a, b) if max(len(x), len(y)) <= data.MAX_LEN + 1]

def finetune(run_dir: str | Path, init: str | Path | None, src: str = "en", tgt: str = "fr",
             n_train: int | None = None, preset_name: str = "cpu",
             model_overrides: dict | None = None, train_overrides: dict | None = None,
             seed: int = 0, tokenizer: Tokenizer | None = None, valid_bleu: int = 0,
             corpus: str = "bible") -> Trainer:
    """Fine-tune on (src, tgt) pairs of ``corpus``: ``bible`` verses (Sec. 4.2, low-resource
    NMT), ``bbc`` lead -> headline (Sec. 4.3) or ``chitchat`` utterance -> response (Sec. 4.4;
    both en -> en). ``init=None`` is the no-pre-training baseline: it needs ``tokenizer`` (the
    pre-trained run's, for a fair comparison). ``valid_bleu=N`` adds greedy BLEU on N validation
    pairs to each validation."""
    model, tokenizer = _init(init, tokenizer)
    if corpus == "bible":
        splits = data.parallel(src, tgt, n_train=n_train, seed=seed)
    elif corpus in ("bbc", "gigaword"):
        splits = data.summarization(corpus, seed, n_train=n_train)
    else:
        splits = data.dialogue(corpus, seed, n_train=n_train)
    train = encode_pairs(tokenizer, splits.train, src, tgt, "ft-train")
    valid = encode_pairs(tokenizer, splits.valid[: DATA_SIZES[preset_name]["valid"]], src, tgt,
                         "ft-valid")
    task = Task("mt", train, lang=lang_id(tgt), src_lang=lang_id(src), name=f"mt-{src}-{tgt}",
                valid=valid)
    pairs = splits.valid[:valid_bleu]

    def validate(m):
        hyps = translate(m, tokenizer, [p[0] for p in pairs], src, tgt, beam=1)
        return {"valid_bleu": bleu(hyps, [p[1] for p in pairs])["score"]}

    return _train(run_dir, preset_name, model, [task], tokenizer, seed, model_overrides,
                  train_overrides, validate if pairs else None)

def back_translation(run_dir: str | Path, init: str | Path | None, l1: str = "en",
                     l2: str = "fr", preset_name: str = "cpu", train_overrides: dict | None = None,
                     seed: int = 0, tokenizer: Tokenizer | None = None,
                     validate: Callable[[Seq2Seq], dict] | None = None) -> Trainer:
    """Unsupervised NMT (Sec. 4.2): back-translation only, l1->l2->l1 and l2->l1->l2 in turn, on
    the disjoint-book monolingual text of pre-training. Validation: perplexity of the real valid
    pairs (task ``bt-SRC-TGT``), and ``validate(model) -> dict`` (e.g. greedy BLEU) if given."""
    model, tokenizer = _init(init, tokenizer)
    size = DATA_SIZES[preset_name]
    splits = data.unsupervised(l1, l2, seed=seed, max_sentences=size["sentences"])
    tasks = []
    for a, b in ((l1, l2), (l2, l1)):  # monolingual a, back-translated into b, trains b -> a
        mono = data.encode_cached(tokenizer, splits.train[a][: size["sentences"]], f"pretrain-{a}")
        held = splits.valid[: size["valid"]]
        real = encode_pairs(tokenizer, held, b, a, "bt-valid", flip=a == l1)
        tasks.append(Task("bt", mono, lang=lang_id(a), src_lang=lang_id(b), name=f"bt-{b}-{a}",
                          valid=real))
    return _train(run_dir, preset_name, model, tasks, tokenizer, seed, None, train_overrides,
                  validate)

def evaluate(checkpoint: str | Path, src: str = "en", tgt: str = "fr", split: str = "test",
             n: int | None = None, beam: int = 5, seed: int = 0) -> dict:
    """Translate the Bible test (Matthew) or valid (Mark) pairs and score them with sacrebleu;
    ``hyps`` and ``refs`` are kept for a paired comparison."""
    model, tok, _ = load_checkpoint(latest(checkpoint))
    pairs = getattr(data.parallel(src, tgt, seed=seed), split)[:n]
    refs = [p[1] for p in pairs]
    hyps = translate(model, tok, [p[0] for p in pairs], src, tgt, beam=beam)
    return {"bleu": bleu(hyps, refs), "chrf": chrf(hyps, refs), "n": len(pairs), "hyps": hyps,
            "refs": refs}

def latest(path: str | Path) -> Path:
    """A checkpoint folder, or the newest checkpoint of a run folder."""
    path = Path(path)
    if not (found := [path] if (path / "state.pt").exists() else checkpoints(path)):
        raise FileNotFoundError(f"no checkpoint in {path} (expected {path}/step_*/state.pt)")
    return found[0]
