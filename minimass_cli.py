"""The ``minimass`` command: pre-train (Sec. 3-4.1), fine-tune (Sec. 4.2-4.4), translate, evaluate.
A thin command line over :mod:`minimass.recipes`, kept beside the package (as fairseq keeps
``fairseq_cli``): the package holds the ideas of the paper, this module only parses and reports.

``minimass pretrain --preset cpu --run runs/mass --train.max_steps=2000 --model.d_model=256``:
every ``--model.KEY=VALUE`` / ``--train.KEY=VALUE`` must be a field of ModelConfig / TrainConfig."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from minimass import PRESETS, data, preset, recipes
from minimass.model import ModelConfig, override
from minimass.search import translate
from minimass.tokenizer import LANGS, Tokenizer
from minimass.trainer import OBJECTIVES, CheckpointError, load_checkpoint, train_config

PRETRAINING = [o for o in OBJECTIVES if o not in ("mt", "bt")]  # mt and bt need pairs or a model


def split_overrides(extra: Sequence[str]) -> tuple[dict, dict]:
    """The ``--model.KEY=VALUE`` and ``--train.KEY=VALUE`` overrides, values still strings:
    >>> split_overrides(["--model.d_model=128", "--train.lr=3e-4"])
    ({'d_model': '128'}, {'lr': '3e-4'})"""
    out: dict[str, dict] = {"model": {}, "train": {}}
    for arg in extra:
        key, eq, value = arg.removeprefix("--").partition("=")
        section, dot, name = key.partition(".")
        if not (arg.startswith("--") and eq and dot and section in out):
            raise UsageError(f"unknown argument {arg!r} (overrides: --model.KEY=V, --train.KEY=V)")
        out[section][name] = value
    return out["model"], out["train"]

class UsageError(Exception):
    """A mistake in the command line: reported in one line, exit status 2."""

class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage and exits; we report one line
        raise UsageError(message)

def _names(known: Sequence[str], what: str) -> Callable[[str], list[str]]:
    def names(text: str) -> list[str]:  # an argparse type: comma-separated names, each of ``known``
        if bad := [n for n in text.split(",") if n not in known]:
            raise argparse.ArgumentTypeError(f"unknown {what} {bad[0]!r}; known: {','.join(known)}")
        return text.split(",")
    return names

def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="minimass", description=__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=PRESETS, default=None, help="$MINIMASS_PRESET, else cpu")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = p.add_subparsers(dest="cmd", required=True)
    pre = sub.add_parser("pretrain", help="MASS pre-training on monolingual en/fr")
    fine = sub.add_parser("finetune", help="fine-tune on pairs (NMT, headlines, dialogue)")
    for s in (pre, fine):
        s.add_argument("--run", required=True, help="run folder (resumed when it has checkpoints)")
        s.add_argument("--langs", type=_names(LANGS, "language"), default="en,fr",
                       help="languages, e.g. en,fr (finetune: src,tgt)")
        s.add_argument("--seed", type=int, default=0)
    pre.add_argument("--objectives", type=_names(PRETRAINING, "objective"), default="mass",
                     help="mass | mlm,clm | dae")
    fine.add_argument("--init", help="pre-trained checkpoint or run folder")
    fine.add_argument("--corpus", default="bible", choices=("bible", "bbc", "chitchat", "gigaword",
                      "cornell"), help="pairs: Bible verses, or headlines / dialogue (en,en)")
    fine.add_argument("--n-train", type=int, default=None, help="training pairs to keep")
    fine.add_argument("--tokenizer", help="tokenizer.model for a run without --init")
    fine.add_argument("--valid-bleu", type=int, default=0, help="BLEU on N valid pairs")
    trans = sub.add_parser("translate", help="one sentence a line, batched")
    score = sub.add_parser("evaluate", help="BLEU/chrF on Matthew")
    for s in (trans, score):
        s.add_argument("--checkpoint", required=True, help="checkpoint or run folder (its newest)")
        s.add_argument("--src", default="en", choices=LANGS)
        s.add_argument("--tgt", default="fr", choices=LANGS)
        s.add_argument("--beam", type=int, default=5)
    trans.add_argument("--input", default="-", help="UTF-8 text file (default: stdin)")
    trans.add_argument("--output", default="-", help="file to write (default: stdout)")
    score.add_argument("--n", type=int, default=None, help="first N test pairs")
    return p

def run(argv: Sequence[str] | None = None) -> None:
    """Parse ``argv`` and run the command; user errors raise (see :func:`main`)."""
    args, extra = _parser().parse_known_args(argv)  # names of languages, objectives: checked
    model_o, train_o = split_overrides([a for a in extra if a != "--debug"])
    pr = args.preset or preset()
    override(ModelConfig(), model_o)  # unknown keys and bad values fail here, before any work
    train_config(pr, train_o)
    if args.cmd == "pretrain":
        recipes.pretrain(args.run, pr, args.langs, args.objectives, model_o, train_o, args.seed)
    elif args.cmd == "finetune":
        if len(args.langs) != 2:
            got = ",".join(args.langs)
            raise UsageError(f"--langs: finetune needs two languages src,tgt, got {got!r}")
        if args.corpus != "bible" and args.langs != ["en", "en"]:
            raise UsageError(f"--corpus {args.corpus} is English to English: add --langs en,en")
        tok = Tokenizer.load(args.tokenizer) if args.tokenizer else None
        init = recipes.latest(args.init) if args.init else None
        recipes.finetune(args.run, init, *args.langs, args.n_train, pr, model_o, train_o, args.seed,
                         tok, args.valid_bleu, args.corpus)
    elif args.cmd == "translate":
        model, tok, _ = load_checkpoint(recipes.latest(args.checkpoint))
        out = translate(model, tok, data.read_lines(args.input), args.src, args.tgt, beam=args.beam)
        stdout = args.output == "-"
        with open(sys.stdout.fileno() if stdout else args.output, "w", closefd=not stdout) as f:
            f.writelines(line + "\n" for line in out)
    else:
        res = recipes.evaluate(args.checkpoint, args.src, args.tgt, n=args.n, beam=args.beam)
        print(f"BLEU {res['bleu']['score']:.2f} ({res['bleu']['signature']})\n"
              f"chrF {res['chrf']['score']:.2f} ({res['chrf']['signature']}) on {res['n']} pairs")

def main(argv: Sequence[str] | None = None) -> None:
    """The ``minimass`` command. A user error (bad argument, override, language, objective, missing
    or corrupt checkpoint, unreadable input) prints one line ``minimass: error: ...``; exit 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        run(argv)
    except (UsageError, ValueError, KeyError, OSError, CheckpointError) as e:
        if "--debug" in argv:
            raise
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        print(f"minimass: error: {msg}", file=sys.stderr)
        sys.exit(2)
