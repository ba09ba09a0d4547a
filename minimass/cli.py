"""Recipes and the ``minimass`` command: pre-train (Sec. 3-4.1), fine-tune (Sec. 4.2-4.4), translate, evaluate.

``minimass pretrain --preset cpu --run runs/mass --train.max_steps=2000 --model.d_model=256``:
every ``--model.KEY=VALUE`` / ``--train.KEY=VALUE`` must name a field of ModelConfig / TrainConfig.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from . import PRESETS, data, preset
from .metrics import bleu, chrf
from .model import ModelConfig, Seq2Seq, build_model, override
from .search import translate
from .tokenizer import LANGS, Tokenizer, lang_id
from .trainer import CheckpointError, Task, Trainer, checkpoints, load_checkpoint, train_config

# Data sizes per preset: BPE vocabulary, sentences per language (None: all), validation examples.
DATA_SIZES = {"smoke": dict(vocab=1000, sentences=3000, valid=100), "cpu": dict(vocab=8000, sentences=None, valid=300),
              "gpu": dict(vocab=16000, sentences=None, valid=1000)}

def get_tokenizer(run_dir: Path, texts: Sequence[str], vocab_size: int) -> Tokenizer:
    """The run's joint BPE (Sec. 4.1), trained once on ``texts`` and kept as ``run_dir/tokenizer.model``."""
    path = Path(run_dir) / "tokenizer.model"
    if path.exists():
        return Tokenizer.load(path)
    tok = Tokenizer.train(texts, vocab_size=vocab_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(path)
    return tok

def pretrain(run_dir: str | Path, preset_name: str = "cpu", langs: Sequence[str] = ("en", "fr"),
             objectives: Sequence[str] = ("mass",), model_overrides: dict | None = None,
             train_overrides: dict | None = None, seed: int = 0, sentences: int | None = -1) -> Trainer:
    """Pre-train on monolingual text of each language (Sec. 4.1), one task per objective and language.

    The languages' sentences come from disjoint Bible books (``data.unsupervised``), so the result also
    serves unsupervised NMT honestly; Matthew (test), Mark (valid) and Luke are never seen.
    ``objectives``: ``("mass",)``, or the baselines ``("mlm", "clm")`` (BERT+LM) and ``("dae",)``.
    """
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

def _train(run_dir: str | Path, preset_name: str, model: Seq2Seq | None, tasks: list[Task], tok: Tokenizer, seed: int,
           model_overrides: dict | None, train_overrides: dict | None, validate=None) -> Trainer:
    """Build the model (seeded) unless given, and the preset's TrainConfig with overrides; train in ``run_dir``."""
    if model is None:
        torch.manual_seed(seed)  # initial weights
        model = build_model(preset_name, vocab_size=tok.vocab_size, **(model_overrides or {}))
    cfg = train_config(preset_name, {"seed": seed, **(train_overrides or {})})
    trainer = Trainer(model, tasks, cfg, run_dir, tokenizer=tok, validate=validate)
    trainer.train()
    return trainer

def finetune(run_dir: str | Path, init: str | Path | None, src: str = "en", tgt: str = "fr",
             n_train: int | None = None, preset_name: str = "cpu", model_overrides: dict | None = None,
             train_overrides: dict | None = None, seed: int = 0, tokenizer: Tokenizer | None = None,
             valid_bleu: int = 0) -> Trainer:
    """Fine-tune on (src, tgt) Bible pairs (Sec. 4.2, low-resource NMT); ``init=None`` is the
    no-pre-training baseline (it needs ``tokenizer``, e.g. the pre-trained run's, for a fair comparison).
    ``valid_bleu=N`` adds greedy BLEU on the first N validation pairs to every validation."""
    model = None
    if init is not None:
        model, tok, _ = load_checkpoint(init)
        tokenizer = tokenizer or tok
    elif tokenizer is None:
        raise ValueError("finetune without init needs a tokenizer (pass the pre-trained run's)")
    size = DATA_SIZES[preset_name]
    splits = data.parallel(src, tgt, n_train=n_train, seed=seed)

    def encode(pairs, name):
        a = data.encode_cached(tokenizer, [p[0] for p in pairs], f"{name}-{src}")
        b = data.encode_cached(tokenizer, [p[1] for p in pairs], f"{name}-{tgt}")
        return list(zip(a, b))

    task = Task("mt", encode(splits.train, "ft-train"), lang=lang_id(tgt), src_lang=lang_id(src),
                name=f"mt-{src}-{tgt}", valid=encode(splits.valid[: size["valid"]], "ft-valid"))
    pairs = splits.valid[:valid_bleu]

    def validate(m):
        return {"valid_bleu": bleu(translate(m, tokenizer, [p[0] for p in pairs], src, tgt, beam=1),
                                   [p[1] for p in pairs])["score"]}

    return _train(run_dir, preset_name, model, [task], tokenizer, seed, model_overrides, train_overrides,
                  validate if pairs else None)

def evaluate(checkpoint: str | Path, src: str = "en", tgt: str = "fr", split: str = "test", n: int | None = None,
             beam: int = 5, seed: int = 0) -> dict:
    """Translate the Bible test (Matthew) or valid (Mark) pairs and score them with sacrebleu."""
    model, tok, _ = load_checkpoint(latest(checkpoint))
    pairs = getattr(data.parallel(src, tgt, seed=seed), split)[:n]
    hyps = translate(model, tok, [p[0] for p in pairs], src, tgt, beam=beam)
    return {"bleu": bleu(hyps, [p[1] for p in pairs]), "chrf": chrf(hyps, [p[1] for p in pairs]),
            "n": len(pairs), "examples": list(zip([p[0] for p in pairs[:3]], hyps[:3], [p[1] for p in pairs[:3]]))}

def latest(path: str | Path) -> Path:
    """A checkpoint folder, or the newest checkpoint of a run folder."""
    path = Path(path)
    if (path / "state.pt").exists():
        return path
    found = checkpoints(path)
    if not found:
        raise FileNotFoundError(f"no checkpoint in {path} (expected {path}/step_*/state.pt)")
    return found[0]

def split_overrides(extra: Sequence[str]) -> tuple[dict, dict]:
    """``["--model.d_model=128", "--train.lr=3e-4"]`` -> ({"d_model": "128"}, {"lr": "3e-4"})."""
    out: dict[str, dict] = {"model": {}, "train": {}}
    for arg in extra:
        key, eq, value = arg.removeprefix("--").partition("=")
        section, dot, name = key.partition(".")
        if not (arg.startswith("--") and eq and dot and section in out):
            raise UsageError(f"unrecognised argument {arg!r} (overrides: --model.KEY=V, --train.KEY=V)")
        out[section][name] = value
    return out["model"], out["train"]

class UsageError(Exception):
    """A mistake in the command line: reported in one line, exit status 2."""

class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage and exits; we report one line like every user error
        raise UsageError(message)

def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="minimass", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=PRESETS, default=None, help="default: $MINIMASS_PRESET or cpu")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("data", help="print the table of data sources")
    for name, helptext in (("pretrain", "MASS pre-training on monolingual en/fr"),
                           ("finetune", "fine-tune on en-fr pairs (low-resource NMT)")):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("--run", required=True, help="run folder (resumed when it has checkpoints)")
        s.add_argument("--langs", default="en,fr", help="languages, e.g. en,fr (finetune: src,tgt)")
        s.add_argument("--seed", type=int, default=0)
    sub.choices["pretrain"].add_argument("--objectives", default="mass", help="mass | mlm,clm | dae")
    sub.choices["finetune"].add_argument("--init", help="pre-trained checkpoint or run folder")
    sub.choices["finetune"].add_argument("--n-train", type=int, default=None, help="training pairs to keep")
    sub.choices["finetune"].add_argument("--tokenizer", help="tokenizer.model for a run without --init")
    sub.choices["finetune"].add_argument("--valid-bleu", type=int, default=0, help="BLEU on N valid pairs")
    for name in ("translate", "evaluate"):
        s = sub.add_parser(name, help="one sentence a line, batched" if name == "translate" else "BLEU/chrF on Matthew")
        s.add_argument("--checkpoint", required=True, help="checkpoint or run folder (newest checkpoint)")
        s.add_argument("--src", default="en", choices=LANGS)
        s.add_argument("--tgt", default="fr", choices=LANGS)
        s.add_argument("--beam", type=int, default=5)
    sub.choices["translate"].add_argument("--input", default="-", help="UTF-8 text file (default: stdin)")
    sub.choices["translate"].add_argument("--output", default="-", help="file to write (default: stdout)")
    sub.choices["evaluate"].add_argument("--n", type=int, default=None, help="first N test pairs")
    return p

def run(argv: Sequence[str] | None = None) -> None:
    """Parse ``argv`` and run the command; user errors raise (see :func:`main`)."""
    args, extra = _parser().parse_known_args(argv)
    model_o, train_o = split_overrides([a for a in extra if a != "--debug"])
    pr = args.preset or preset()
    override(ModelConfig(), model_o), train_config(pr, train_o)  # unknown keys and bad values fail before any work
    langs = args.langs.split(",") if hasattr(args, "langs") else []
    for lg in langs:
        lang_id(lg)
    for o in getattr(args, "objectives", "").split(",") if args.cmd == "pretrain" else []:
        Task(o, [[0]])  # an unknown objective fails here
    if args.cmd == "data":
        print(data.source_table())
    elif args.cmd == "pretrain":
        pretrain(args.run, pr, langs, args.objectives.split(","), model_o, train_o, args.seed)
    elif args.cmd == "finetune":
        if len(langs) != 2:
            raise UsageError(f"--langs: finetune needs two languages src,tgt, got {args.langs!r}")
        tok = Tokenizer.load(args.tokenizer) if args.tokenizer else None
        finetune(args.run, latest(args.init) if args.init else None, *langs, args.n_train, pr, model_o, train_o,
                 args.seed, tok, args.valid_bleu)
    elif args.cmd == "translate":
        model, tok, _ = load_checkpoint(latest(args.checkpoint))
        out = translate(model, tok, data.read_lines(args.input), args.src, args.tgt, beam=args.beam)
        with open(sys.stdout.fileno(), "w", closefd=False) if args.output == "-" else open(args.output, "w") as f:
            f.writelines(line + "\n" for line in out)
    else:
        res = evaluate(args.checkpoint, args.src, args.tgt, n=args.n, beam=args.beam)
        print(f"BLEU {res['bleu']['score']:.2f} ({res['bleu']['signature']})\n"
              f"chrF {res['chrf']['score']:.2f} ({res['chrf']['signature']}) on {res['n']} pairs")

def main(argv: Sequence[str] | None = None) -> None:
    """The ``minimass`` command. A user error (bad argument, override, language, objective, missing or corrupt
    checkpoint, unreadable input) prints one line ``minimass: error: ...`` and exits with status 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        run(argv)
    except (UsageError, ValueError, KeyError, OSError, CheckpointError) as e:
        if "--debug" in argv:
            raise
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        print(f"minimass: error: {msg}", file=sys.stderr)
        sys.exit(2)
