"""The experiment notebooks' shared bench (05-11): record each run once, score generated text against trivial
baselines, and call every verdict by one rule. It sits beside the notebooks, not in the package: recording and
statistics are how the lessons report, not ideas of the paper. The notebooks ``import lab`` (they run in this
folder); scripts and tests put this folder on ``sys.path`` first.

The one rule (:func:`compare`): Welch's t-test over seeds, two-sided, at ``ALPHA`` = 0.05. A claim "A beats B"
is ``reproduced`` when A is better and p < 0.05, ``not reproduced`` when B is better and p < 0.05, ``undecided``
otherwise, and ``at floor`` when it rests on a generation metric at its floor for every system compared
(:func:`at_floor`): there the metric cannot tell the systems apart, whatever its p-value. A claim made of several
comparisons is ``partly`` reproduced when some but not all of them are (:func:`overall`).
"""

from __future__ import annotations

import json
import math
import platform
import re
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import mean, variance

import minimass

ROOT = Path(__file__).resolve().parents[1]  # the repository: results/ lives here
ALPHA = 0.05
VERDICTS = ("reproduced", "partly", "not reproduced", "at floor", "undecided")
FLOORS = {"bleu": 1.0, "rouge2": 1.0}  # generation metrics (x 100) and the value under which they are at floor
MIN_DISTINCT = 0.2  # outputs that hardly depend on the input: distinct outputs under 20% of test inputs


# Recording: one JSON per run, reloaded instead of re-run, so that a long notebook can run in pieces.

def throwaway(preset_name: str) -> bool:
    """Whether a run's results are a check, not a measurement: the ``smoke`` preset, or steps capped by
    ``$MINIMASS_MAX_STEPS`` (a preset's real sizes for a few steps). They are never recorded or reloaded."""
    import os
    return preset_name == "smoke" or bool(os.environ.get("MINIMASS_MAX_STEPS"))


def fresh(preset_name: str) -> bool:
    """Whether :func:`run_once` must run anew rather than reload a record: a :func:`throwaway` run, or
    ``$MINIMASS_FRESH=1``."""
    import os
    return throwaway(preset_name) or os.environ.get("MINIMASS_FRESH") == "1"


def recording() -> bool:
    """Whether new results go into the tracked ``results/`` folder: only when asked, by ``$MINIMASS_RECORD=1``
    (``make notebooks`` and ``make reproduce`` set it). A learner's runs go to ``results`` in the data cache
    (``~/.cache/minimass/results``) instead, where :func:`run_once` finds them again."""
    import os
    return os.environ.get("MINIMASS_RECORD") == "1"


def results_roots() -> list[Path]:
    """Where :func:`run_once` looks for a record, in order: the tracked ``results/``, then the data cache's."""
    from minimass import data
    return [ROOT / "results", data.cache_dir() / "results"]


def save_results(name: str, results: dict, preset_name: str, seed: int = 0, **info) -> Path:
    """Write measured numbers with what produced them (preset, seed, data and package versions, commit, date) as
    JSON to ``NAME.PRESET.json`` (``name`` may hold a folder) under ``results/`` when :func:`recording`, else
    under the data cache's ``results``. ``smoke`` and capped runs (:func:`throwaway`) write to a temporary folder,
    so tests never touch the working tree."""
    import torch

    from minimass import data
    root = results_roots()[0 if recording() else 1]
    git = subprocess.run("git rev-parse --short HEAD".split(), cwd=ROOT, text=True, capture_output=True)
    if throwaway(preset_name) or (recording() and not root.is_dir()):
        root = Path(tempfile.mkdtemp(prefix="minimass-results-"))
    path = root / f"{name}.{preset_name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"name": name, "preset": preset_name, "seed": seed, "results": results, **info,
              "commit": git.stdout.strip() or None, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "data_versions": {s: ", ".join(data.fetched(s)) for s in data.SOURCES if data.fetched(s)},
              "versions": {"minimass": minimass.__version__, "torch": torch.__version__,
                           "python": platform.python_version()}}
    path.write_text(json.dumps(record, indent=1, sort_keys=True, default=str) + "\n")
    return path


def stale(rec: dict, recipe: dict, settings: dict | None) -> str | None:
    """Why a record cannot stand for a run now, or None: its recipe, its ``settings`` (everything else that
    produced it: training and decoding options, test size) or the package version differ from the current ones."""
    if rec.get("recipe", {}) != recipe:
        return "its recipe differs"
    if rec.get("settings") != (None if settings is None else json.loads(json.dumps(settings, default=str))):
        return "its settings differ"
    if rec.get("versions", {}).get("minimass") != minimass.__version__:
        return f"it was made by minimass {rec.get('versions', {}).get('minimass')}, not {minimass.__version__}"
    return None


_LOADED: list[tuple[str, dict]] = []  # records loaded in the running notebook cell, summed up after it


def _loaded(where: str, rec: dict) -> None:
    """Say that a record was loaded: in a notebook, one line per cell for all of them (:func:`_say_loaded`
    runs after each cell); elsewhere, one line per record."""
    try:
        from IPython import get_ipython
        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is None:
        print(f"loaded {where} (measured {rec.get('date', '?')}, commit {rec.get('commit')})")
        return
    if _say_loaded not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _say_loaded)
    _LOADED.append((where, rec))


def _say_loaded(*_) -> None:
    """After a notebook cell: 'loaded 12 records from results/06_x/ (measured 2026-12-02 23:38 to ...)'."""
    if not _LOADED:
        return
    folders = sorted({w.rsplit("/", 1)[0] + "/" for w, _ in _LOADED})
    dates = sorted(r.get("date", "?") for _, r in _LOADED)
    commits = sorted({str(r.get("commit")) for _, r in _LOADED})
    span = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    print(f"loaded {len(_LOADED)} record{'s' * (len(_LOADED) > 1)} from {', '.join(folders)} (measured {span}; "
          f"commit{'s' * (len(commits) > 1)} {', '.join(commits[:4])}{' ...' * (len(commits) > 4)}) "
          "instead of running again")
    _LOADED.clear()


def run_once(name: str, fn: Callable[[], dict], preset_name: str, seed: int = 0, recipe: dict | None = None,
             settings: dict | None = None, **info) -> dict:
    """``fn()``'s results, measured once per (``name``, ``recipe``, preset, seed) and written by
    :func:`save_results` as ``NAME/RECIPE.PRESET.json`` with the wall time. A record is loaded instead, and said
    so, only when everything that produced it matches (:func:`stale`: the recipe, ``settings`` and the package
    version); never when :func:`fresh`. So that a long notebook can run in pieces, and an exercise that changes a
    setting gets a new run, not an old record. With no record at all, a run that converged under a lower
    ``max_steps`` cap stands for this one (:func:`converged_under_lower_cap`)."""
    recipe = recipe or {}
    key = "_".join(f"{k}={v}" for k, v in sorted({**recipe, "seed": seed}.items()))
    key = f"{name}/{re.sub(r'[^A-Za-z0-9_=.,+-]+', '-', key)}"
    paths = [] if fresh(preset_name) else [root / f"{key}.{preset_name}.json" for root in results_roots()]
    found = [p for p in paths if p.exists()]
    for path in found:
        rec = json.loads(path.read_text())
        if (why := stale(rec, recipe, settings)) is None:
            where = f"results/{key}.{preset_name}.json" if path.is_relative_to(ROOT / "results") else str(path)
            _loaded(where, rec)
            return rec["results"]
        print(f"not reusing {path.name}: {why}; running it anew")
    if paths and not found:  # none recorded: perhaps under a lower max_steps cap
        lower = converged_under_lower_cap(name, recipe, settings, seed, preset_name)
        if lower != (recipe, settings):
            return run_once(name, fn, preset_name, seed, *lower, **info)
    t0 = time.time()
    results = fn()
    extra = {} if settings is None else {"settings": settings}
    save_results(key, results, preset_name, seed, recipe=recipe, wall_s=round(time.time() - t0, 1), **extra, **info)
    return results


def _with_cap(obj, cap: int):
    """``obj`` (a recipe or settings, nested dicts) with every ``max_steps`` set to ``cap``."""
    if not isinstance(obj, dict):
        return obj
    return {k: cap if k == "max_steps" else _with_cap(v, cap) for k, v in obj.items()}


def converged_under_lower_cap(name: str, recipe: dict, settings: dict | None, seed: int,
                              preset_name: str) -> tuple[dict, dict | None]:
    """The recipe and settings of a recorded run of ``name`` that early stopping ended before a lower
    ``max_steps`` cap, all else equal (:func:`stale`); else ``recipe`` and ``settings`` themselves. Such a run
    is the same run under the higher cap, since neither the learning-rate schedule nor the batch order depends
    on the cap: a notebook that raises its cap reloads the runs that converged and re-runs only those that
    stopped on budget. A recipe without an integer ``max_steps`` has no lower cap."""
    if fresh(preset_name) or not isinstance(recipe.get("max_steps"), int):
        return recipe, settings
    for root in results_roots():
        for path in sorted(root.glob(f"{name}/*.{preset_name}.json")):
            rec = json.loads(path.read_text())
            cap, res = rec.get("recipe", {}).get("max_steps"), rec.get("results", {})
            if (isinstance(cap, int) and cap < recipe["max_steps"] and rec.get("seed") == seed
                    and res.get("stopped") == "converged" and res.get("last_step", cap) < cap
                    and stale(rec, _with_cap(recipe, cap), _with_cap(settings, cap)) is None):
                return _with_cap(recipe, cap), _with_cap(settings, cap)
    return recipe, settings


# Times: what a notebook took, from what its execution and its records measured (never typed in).

TIMES = "results/notebook_times.json"  # {notebook: {preset: {seconds, machine, date}}}, scripts/execute_notebooks.py


def duration(seconds: float) -> str:
    """A time for prose: duration(40) -> '40 s', duration(1040) -> '17 min', duration(12_852) -> '3.6 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def executed(nb: str, preset: str = "cpu", root: Path = ROOT) -> dict | None:
    """The last timed execution of notebook ``nb`` (its file stem) at ``preset``: {seconds, machine, date}."""
    times = json.loads((root / TIMES).read_text()) if (root / TIMES).exists() else {}
    return times.get(nb, {}).get(preset)


def recorded_run_s(nb: str, preset: str = "cpu", root: Path = ROOT) -> float:
    """The run time notebook ``nb``'s records hold, in seconds, which a first execution without them spends
    again: each run record's ``train_s`` (else its ``wall_s``: what :func:`run_once` measured) under results/NB/,
    and its summary record's ``train_wall_s`` or ``train_minutes`` (a number or a dict of them)."""
    total = 0.0
    for path in (root / "results" / nb).glob(f"*.{preset}.json"):
        rec = json.loads(path.read_text())
        r = rec["results"] if isinstance(rec["results"], dict) else {}
        total += next((x for x in (r.get("train_s"), r.get("wall_s"), rec.get("wall_s")) if x is not None), 0.0)
    path = root / "results" / f"{nb}.{preset}.json"
    if path.exists():
        r = json.loads(path.read_text())["results"]
        minutes = r.get("train_minutes", 0.0)
        total += r.get("train_wall_s", 0.0) + 60 * (sum(minutes.values()) if isinstance(minutes, dict) else minutes)
    return total


# Statistics: one test, one set of verdicts.

def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, c, d = 1e-300, 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= c * d
        if abs(c * d - 1.0) < 1e-14:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), for x in [0, 1]."""
    if x <= 0.0 or x >= 1.0:
        return 0.0 if x <= 0.0 else 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def welch(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """Welch's unequal-variance t-test: ``(t, degrees of freedom, two-sided p)``. Needs two values per side.
    Two constant samples give p = 1 when their means are equal and p = 0 when they differ."""
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"Welch's t-test needs at least 2 values per system, got {len(a)} and {len(b)}")
    va, vb = variance(a) / len(a), variance(b) / len(b)
    diff = mean(a) - mean(b)
    if va + vb == 0.0:
        return (0.0, math.inf, 1.0) if diff == 0 else (math.copysign(math.inf, diff), math.inf, 0.0)
    t = diff / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return t, df, betainc(df / 2.0, 0.5, df / (df + t * t))


def compare(a_per_seed: Sequence[float], b_per_seed: Sequence[float], lower_is_better: bool,
            floor: bool = False) -> dict:
    """The one comparison of every notebook: does system A (the one the paper favours) beat system B?
    ``{"delta": mean(A) - mean(B), "p": Welch's two-sided p over seeds (None under 2 seeds a side),
    "verdict": one of VERDICTS}``; ``floor=True`` (see :func:`at_floor`) gives ``at floor`` whatever the numbers.

    >>> compare([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], lower_is_better=True)["verdict"]
    'reproduced'
    """
    a, b = [float(x) for x in a_per_seed], [float(x) for x in b_per_seed]
    if not a or not b:
        raise ValueError(f"compare needs values for both systems, got {len(a)} and {len(b)}")
    delta = mean(a) - mean(b)
    p = welch(a, b)[2] if len(a) > 1 and len(b) > 1 else None
    gain = -delta if lower_is_better else delta
    if floor:
        verdict = "at floor"
    elif p is None or p >= ALPHA or gain == 0:
        verdict = "undecided"
    else:
        verdict = "reproduced" if gain > 0 else "not reproduced"
    return {"delta": delta, "p": p, "verdict": verdict}


def overall(verdicts: Sequence[str]) -> str:
    """One verdict for a claim made of several comparisons (sizes, directions, tasks): ``reproduced`` when every
    one is, ``partly`` when some are, else ``not reproduced`` when some go the other way, else ``undecided`` when
    some could not be decided, else ``at floor``."""
    vs = set(verdicts)
    if not vs or vs - set(VERDICTS):
        raise ValueError(f"verdicts must be a non-empty list from {VERDICTS}, got {list(verdicts)}")
    if vs == {"reproduced"}:
        return "reproduced"
    for v in ("reproduced", "not reproduced", "undecided"):
        if v in vs:
            return "partly" if v == "reproduced" else v
    return "at floor"


def distinct(outputs: Sequence[str]) -> int:
    """How many different outputs a system wrote (a model that ignores its input writes few)."""
    return len(set(outputs))


def at_floor(measure: str, value: float, outputs: Sequence[str] | None = None) -> bool:
    """Whether one system's score is at the floor of a generation metric: BLEU < 1 or ROUGE-2 < 1 (``measure`` in
    ``FLOORS``), or, for any metric scored on the outputs, outputs that hardly depend on the input (distinct
    outputs under 20% of them). A perplexity (``"ppl"`` in ``measure``) scores the references, not the outputs,
    and has no floor: ``at_floor("ppl", 900.0, ["x"] * 10) -> False``."""
    if "ppl" in measure:
        return False
    if outputs is not None and len(outputs) and distinct(outputs) < MIN_DISTINCT * len(outputs):
        return True
    return measure in FLOORS and value < FLOORS[measure]


def check_warmup(ft: dict) -> dict:
    """Fine-tuning overrides ``ft`` (``warmup``, ``eval_every``, ``patience``), checked so that the warm-up is at most
    10% of the shortest run early stopping allows: ``eval_every * (patience + 1)`` steps, the first validation and
    ``patience`` more without a new best. A longer warm-up would end runs before the peak learning rate."""
    shortest = ft["eval_every"] * (ft["patience"] + 1)
    if ft["warmup"] > 0.1 * shortest:
        raise ValueError(f"warmup={ft['warmup']} is over 10% of the shortest run early stopping allows "
                         f"({shortest} steps: eval_every={ft['eval_every']}, patience={ft['patience']})")
    return ft


def trivial_baselines(sources: Sequence[str], train_targets: Sequence[str]) -> dict[str, list[str]]:
    """The two outputs every task table shows beside its systems: ``copy`` (each source as its own output) and
    ``constant`` (the most frequent training target, for every input)."""
    if not train_targets:
        raise ValueError("trivial_baselines needs the training targets")
    top = Counter(train_targets).most_common(1)[0][0]
    return {"copy": list(sources), "constant": [top] * len(sources)}


def claim(text: str, where: str, measure: str, verdict: str, delta: float | None = None, p: float | None = None,
          seeds: int = 1, varied: str = "fine-tuning") -> dict:
    """One entry of a summary record's ``claims``, the fixed schema that ``scripts/results_table.py`` renders:
    ``claim`` (the paper's claim, in a line), ``where`` (its table or figure), ``measure``, ``verdict`` (from
    VERDICTS), ``delta`` (favoured minus other system), ``p``, and ``seeds``: how many, and what they varied."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict {verdict!r} is not one of {VERDICTS}")
    return {"claim": text, "where": where, "measure": measure, "verdict": verdict,
            "delta": None if delta is None else round(float(delta), 4),
            "p": None if p is None else _p4(float(p)), "seeds": {"n": int(seeds), "varied": varied}}


def _p4(p: float) -> float:
    """``p`` to 4 decimals, or to 2 significant figures below 0.0001, so that a tiny p-value never reads 0."""
    return round(p, 4) if p >= 1e-4 else float(f"{p:.2g}")


def paired_bootstrap(baseline: list[str], system: list[str], refs: list[str],
                     n: int = 1000) -> dict:
    """sacrebleu's paired bootstrap resampling (Koehn, 2004) of two systems' outputs on the same
    test set, for BLEU and chrF: ``{"BLEU": {"baseline": 3.1, "system": 4.2, "baseline_ci": 0.9,
    "system_ci": 1.0, "p_value": 0.02, "signature": ...}, "chrF": {...}}``; ``p_value``: how often
    a resample does not favour the observed winner (1.0 when the two scores are equal: sacrebleu
    would give its smallest p-value to two identical systems)."""
    from sacrebleu.metrics import BLEU, CHRF
    from sacrebleu.significance import PairedTest

    if not len(baseline) == len(system) == len(refs) or not refs:
        raise ValueError(f"{len(baseline)} baseline and {len(system)} system outputs for {len(refs)} "
                         "references: they must pair up, and not be empty")
    systems = [("baseline", list(baseline)), ("system", list(system))]
    metrics = {"BLEU": BLEU(), "chrF": CHRF()}
    sigs, scores = PairedTest(systems, metrics, [list(refs)], test_type="bs", n_samples=n)()
    results = [scores[k] for k in scores if k != "System"]  # per metric: [baseline's, system's]
    return {m: {"baseline": b.score, "system": s.score, "baseline_ci": float(b.ci),
                "system_ci": float(s.ci), "signature": str(sig),
                "p_value": float(s.p_value) if s.score != b.score else 1.0}
            for m, sig, (b, s) in zip(metrics, sigs.values(), results)}


# Scoring a model on pairs.

def scorable(tok, pairs: Sequence[tuple[str, str]], src: str, tgt: str) -> list[tuple[list[int], list[int]]]:
    """``pairs`` as token ids, without those over the paper's 175-token limit (Sec. 4.1), as fine-tuning keeps them."""
    from minimass.recipes import encode_pairs
    return encode_pairs(tok, pairs, src, tgt, "ppl")


def pair_ppl(model, tok, pairs: Sequence[tuple[str, str]], src: str, tgt: str, max_tokens: int = 2000) -> float:
    """Perplexity of the real targets of ``pairs`` given their sources (teacher-forced), over the :func:`scorable`
    pairs, as each fine-tuning run's validation computes it. The one such function of every notebook."""
    from minimass.tokenizer import lang_id
    from minimass.trainer import Task, TrainConfig, valid_perplexity
    if not (ids := scorable(tok, pairs, src, tgt)):
        raise ValueError(f"pair_ppl: none of the {len(pairs)} pairs is short enough to score")
    task = Task("mt", ids, lang=lang_id(tgt), src_lang=lang_id(src), valid=ids)
    return valid_perplexity(model.eval(), task, TrainConfig(max_tokens=max_tokens))


def pieces_per_word(tok, pairs: Sequence[tuple[str, str]], src: str, tgt: str) -> float:
    """Target pieces per target word over the :func:`scorable` pairs, each target counting one word more for its
    ``</s>``. A perplexity per piece raised to this power is the perplexity per word: the same total negative
    log-likelihood spread over words, which compares models whose tokenizers differ."""
    from minimass import data
    a, b = (tok.encode([p[i] for p in pairs]) for i in (0, 1))
    kept = [(len(y), len(p[1].split()) + 1) for p, x, y in zip(pairs, a, b)
            if max(len(x), len(y)) <= data.MAX_LEN + 1]  # encode_pairs's length limit
    if not kept:
        raise ValueError(f"pieces_per_word: none of the {len(pairs)} pairs is short enough to score")
    return sum(k[0] for k in kept) / sum(k[1] for k in kept)


def score_outputs(hyps: Sequence[str], refs: Sequence[str], measure: str = "bleu") -> dict:
    """A system's test outputs scored for a task table: BLEU and chrF (translation) or ROUGE-1/2/L (``measure``
    ``"rouge"``), with the distinct-output count and whether the outputs are at floor (:func:`at_floor`)."""
    from minimass.metrics import bleu, chrf, rouge
    if measure == "rouge":
        out = rouge(list(hyps), list(refs))
        floor = at_floor("rouge2", out["rouge2"], hyps)
    else:
        out = {"bleu": bleu(list(hyps), list(refs))["score"], "chrf": chrf(list(hyps), list(refs))["score"]}
        floor = at_floor("bleu", out["bleu"], hyps)
    return {**out, "distinct": distinct(hyps), "n": len(hyps), "at_floor": floor}


def nmt_record(name: str, system: str, init, tok, src: str, tgt: str, n_train: int | None, seed: int,
               preset_name: str, ft: dict, n_test: int | None, beam: int, pretrain: str) -> dict:
    """Low-resource NMT (Sec. 4.2) as notebook 06 runs it, recorded once by :func:`run_once`: fine-tune ``system``
    (``init``: a pre-trained checkpoint, or None for no pre-training, with the same tokenizer ``tok``) on
    ``n_train`` Bible pairs (None: all) until validation perplexity stops improving (``ft``: TrainConfig overrides
    with ``patience``), then translate ``n_test`` Matthew verses with the best checkpoint. ``init`` and ``tok``
    may be zero-argument functions, called only when the run is not recorded (:func:`pretrained_when_needed`)."""
    from minimass import data
    from minimass.recipes import finetune, runs_dir
    from minimass.search import translate
    from minimass.trainer import load_checkpoint, read_log

    recipe = {"system": system, "dir": f"{src}-{tgt}", "n_train": n_train or "all", "pretrain": pretrain,
              "max_steps": ft["max_steps"], "patience": ft["patience"], "max_tokens": ft["max_tokens"], "beam": beam}

    def run() -> dict:
        init_, tok_ = (x() if callable(x) else x for x in (init, tok))
        run_dir = runs_dir() / f"{name[:2]}_{system}_{src}-{tgt}_n{n_train or 'all'}_t{ft['max_tokens']}" \
                               f"_p{ft['patience']}_{preset_name}_seed{seed}"
        key = f"valid_ppl/mt-{src}-{tgt}"
        trainer = finetune(run_dir, init_, src, tgt, n_train=n_train, preset_name=preset_name, seed=seed,
                           train_overrides={**ft, "best": key, "keep": 1}, tokenizer=tok_)
        model = load_checkpoint(run_dir / "best")[0]
        test = data.parallel(src, tgt).test[:n_test]
        hyps = translate(model, tok_, [p[0] for p in test], src, tgt, beam=beam)
        return {**score_outputs(hyps, [p[1] for p in test]), **trainer.summary(), "valid_ppl": trainer.best,
                "warmup": trainer.cfg.warmup, "curve": [(r["step"], r[key]) for r in read_log(run_dir) if key in r],
                "hyps": hyps}

    return run_once(name, run, preset_name, seed, recipe, {"ft": ft, "n_test": n_test})


def bt_record(name: str, system: str, init, tok, pair: tuple[str, str], seed: int, preset_name: str, bt: dict,
              n_test: int | None, pretrain: str, validate: Callable | None = None,
              extra: Callable | None = None) -> dict:
    """Unsupervised NMT (Sec. 4.2) as notebooks 05 and 10 run it, recorded once by :func:`run_once`: back-translate
    from ``init`` (a checkpoint, or None: random weights with tokenizer ``tok``) in both directions until the
    geometric-mean perplexity of the real validation pairs stops improving (``bt``: TrainConfig overrides with
    ``patience``); then score the best checkpoint on ``n_test`` Matthew pairs each way: greedy BLEU, chrF, distinct
    outputs, and the perplexity of the real translations (``test_ppl``). ``validate(model)`` adds metrics to each
    validation (curves), ``extra(model)`` to the record. ``init`` and ``tok`` may be zero-argument functions, called
    only when the run is not recorded (:func:`pretrained_when_needed`)."""
    from minimass import data
    from minimass.recipes import back_translation, runs_dir
    from minimass.search import translate
    from minimass.trainer import load_checkpoint, read_log

    recipe = {"system": system, "pair": "-".join(pair), "pretrain": pretrain, "max_steps": bt["max_steps"],
              "patience": bt["patience"], "n_test": n_test or "all"}

    def run() -> dict:
        init_, tok_ = (x() if callable(x) else x for x in (init, tok))
        run_dir = runs_dir() / f"{name[:2]}_bt-{system}_{'-'.join(pair)}_p{bt['patience']}_{preset_name}_seed{seed}"
        trainer = back_translation(run_dir, init_, *pair, preset_name, {**bt, "best": "valid_ppl", "keep": 1}, seed,
                                   tokenizer=tok_, validate=validate)
        model = load_checkpoint(run_dir / "best")[0].eval()
        test, out = data.unsupervised(*pair, seed=seed).test[:n_test], {}
        for src, tgt in (pair, pair[::-1]):
            i, j = pair.index(src), pair.index(tgt)
            hyps = translate(model, tok_, [p[i] for p in test], src, tgt, beam=1)
            out[f"{src}-{tgt}"] = {**score_outputs(hyps, [p[j] for p in test]), "hyps": hyps,
                                   "test_ppl": pair_ppl(model, tok_, [(p[i], p[j]) for p in test], src, tgt)}
        log = read_log(run_dir)
        return {**out, **(extra(model) if extra else {}), **trainer.summary(), "warmup": trainer.cfg.warmup,
                "curve": [r for r in log if "valid_ppl" in r],
                "train_s": train_seconds(log)}

    return run_once(name, run, preset_name, seed, recipe, {"bt": bt, "n_test": n_test})


# Pre-trained checkpoints, named without training them.

def pretrained_when_needed(objectives: Sequence[str] = ("mass",), langs: Sequence[str] = ("en", "fr"),
                           k: float = 0.5, mode: str = "mass", preset_name: str = "cpu", seed: int = 0,
                           steps: int | None = None) -> tuple[str, Callable[[], Path]]:
    """A checkpoint of :func:`minimass.recipes.pretrained` (same arguments), named now and obtained only when used:
    ``(name, get)``. ``name`` is its run folder, ``recipe_name(...)_STEPS`` (what run records cite as their
    ``pretrain``); ``get()`` returns the checkpoint, pre-training it on its first call when it is missing. A notebook
    names its records by ``name`` and calls ``get`` only inside the functions it gives :func:`run_once`, so an
    execution whose runs are all recorded trains nothing."""
    from functools import cache

    from minimass.recipes import PRETRAIN_STEPS, pretrained, recipe_name
    steps = steps or PRETRAIN_STEPS[preset_name]
    name = f"{recipe_name(objectives, langs, k, mode, preset_name, seed)}_{steps}"

    @cache
    def get() -> Path:
        path = pretrained(objectives, langs, k, mode, preset_name, seed, steps)
        if path.parent.name != name:
            raise RuntimeError(f"pretrained() returned {path}, not a checkpoint of {name}: its folder naming changed")
        return path

    return name, get


def train_seconds(log: Sequence[dict]) -> float:
    """The training time a run's ``log.jsonl`` lines add up to: each training line's predicted tokens over its
    tokens/s, i.e. the time since the line before (the loop's evaluations and saves included)."""
    return sum(r["tokens"] / r["tok_s"] for r in log if r.get("tok_s"))


def pretraining_cost(name: str, nb: str, preset_name: str, root: Path = ROOT) -> dict | None:
    """What pre-training the checkpoint folder ``name`` cost: ``{steps, train_s, threads}``, from its ``log.jsonl``
    in the run cache (train_s: :func:`train_seconds`, which covers the loop's evaluations and saves but not the
    start-up; threads: the CPU threads of the last log line, None in logs older than that field), else from
    notebook ``nb``'s summary record (its ``pretraining`` field, written when the log was there); None when neither
    has it. The run's log, not a clock around the call: a checkpoint trained by another notebook reports it too."""
    from minimass.recipes import runs_dir
    from minimass.trainer import read_log
    log = [r for r in read_log(runs_dir() / name) if r.get("tok_s")]
    if log:
        return {"steps": max(r["step"] for r in log), "train_s": train_seconds(log), "threads": log[-1].get("threads")}
    path = root / "results" / f"{nb}.{preset_name}.json"
    rec = json.loads(path.read_text())["results"] if path.exists() else {}
    return rec.get("pretraining", {}).get(name)


def recipe_tokenizer(langs: Sequence[str] = ("en", "fr"), preset_name: str = "cpu", seed: int = 0):
    """The BPE (Sec. 4.1) that pre-training on ``langs`` learns first (:func:`minimass.recipes.pretrain`: the same
    text, so the same model file), without the pre-training: what a random-initialisation baseline needs to share
    the pre-trained model's tokenizer. Learned once into the run cache's ``tokenizers`` folder."""
    from minimass.recipes import DATA_SIZES, get_tokenizer, pretraining_text, runs_dir
    size = DATA_SIZES[preset_name]

    def text() -> list[str]:  # read only when the BPE is not learned yet
        texts, _ = pretraining_text(langs, seed, size["sentences"], size["valid"])
        return [t for lg in langs for t in texts[lg]]

    where = runs_dir() / "tokenizers" / f"{'-'.join(langs)}_{preset_name}_seed{seed}"
    return get_tokenizer(where, text, size["vocab"])


def fine_tuning_systems(recipes: dict[str, dict], preset_name: str, seed: int = 0, steps: int | None = None
                        ) -> tuple[dict[str, str], Callable, Callable]:
    """The systems a fine-tuning notebook compares (07, 08): ``"none"`` (random weights) and one pre-trained
    checkpoint per ``recipes`` entry ({system: :func:`pretrained_when_needed` arguments}), named now and trained
    only when a run needs it. Returns ``(names, ckpt, tok)``: the names the records cite (``"none"`` for none),
    ``ckpt(system)`` (None for none) and ``tok(system)``, the checkpoint's tokenizer (none: the ``"mass"`` recipe's,
    so that the two differ only in their initial weights; :func:`recipe_tokenizer`, so none needs no pre-training)."""
    from functools import cache

    from minimass.trainer import load_checkpoint
    pre = {name: pretrained_when_needed(**kw, preset_name=preset_name, seed=seed, steps=steps)
           for name, kw in recipes.items()}

    def ckpt(system: str) -> Path | None:
        return None if system == "none" else pre[system][1]()

    @cache
    def tok(system: str):  # one load per system
        if system == "none":
            return recipe_tokenizer(recipes["mass"].get("langs", ("en", "fr")), preset_name, seed)
        return load_checkpoint(pre[system][1]())[1]

    return {"none": "none"} | {name: p[0] for name, p in pre.items()}, ckpt, tok


# MASS's successors as trainer objectives (notebook 11, beyond the paper). Not ideas of MASS, so they live here;
# importing lab registers them as "infill" (BART) and "span" (T5) in minimass.trainer.BATCHERS.

import torch  # noqa: E402

from minimass.masking import Batch, _as_id_lists, _body, _shifted, pad  # noqa: E402 (the package's helpers)
from minimass.tokenizer import EOS, MASK  # noqa: E402


def text_infilling(seqs: Sequence[Sequence[int]], ratio: float = 0.3, mean_span: float = 3.0, *, lang: int = 0,
                   spans: Sequence | None = None, generator: torch.Generator | None = None) -> Batch:
    """BART's text infilling (Lewis et al., 2020; notebook 11, beyond the paper): spans of
    Poisson(``mean_span``) length at uniform starts are masked until ``round(ratio * n)`` tokens
    are; each run of masked tokens becomes ONE [M], and a length-0 span inserts an [M]. The decoder
    rebuilds the whole sentence; ``</s>`` is never masked. ``spans``: fixed (start, length) lists.
    x1..x6 </s> (ids 11..16, 2) with spans (1, 2), (4, 0): encoder ``x1 [M] x4 [M] x5 x6 </s>``:
    >>> b = text_infilling([[11, 12, 13, 14, 15, 16, 2]], spans=[[(1, 2), (4, 0)]])
    >>> b.src.tolist(), b.target.tolist()
    ([[11, 4, 14, 4, 15, 16, 2]], [[11, 12, 13, 14, 15, 16, 2]])"""
    seqs, noisy = _as_id_lists(seqs), []
    for i, s in enumerate(seqs):
        body, eos = _body(s)
        todo = list(spans[i]) if spans is not None else []  # (start, length) of every span
        n, goal, masked = len(body), round(ratio * len(body)), set()
        while spans is None and len(masked) < goal:
            draw = int(torch.poisson(torch.tensor(float(mean_span)), generator=generator))
            length = min(draw, goal - len(masked))
            todo.append((int(torch.randint(0, n - length + 1, (1,), generator=generator)), length))
            masked |= set(range(todo[-1][0], todo[-1][0] + length))
        if bad := [(u, k) for u, k in todo if not (0 <= u <= n - k and k >= 0)]:
            raise ValueError(f"spans[{i}]: {bad} fall outside the {n} tokens before </s>")
        masked, out = {t for u, k in todo for t in range(u, u + k)}, []
        for t in range(n + 1):
            out += [MASK] * sum(u == t and k == 0 for u, k in todo)  # insertions before token t
            if t < n and (t not in masked or t - 1 not in masked):  # a masked run: its first [M]
                out.append(MASK if t in masked else body[t])
        noisy.append(out + eos)
    return Batch(pad(noisy), _shifted(seqs), pad(seqs), None, lang, lang)

def _runs(total: int, parts: int, g: torch.Generator | None) -> list[int]:  # T5: non-empty runs summing to total
    cuts = sorted((torch.randperm(total - 1, generator=g)[: parts - 1] + 1).tolist())
    return [b - a for a, b in zip([0, *cuts], [*cuts, total])]

def span_corruption(seqs: Sequence[Sequence[int]], ratio: float = 0.15, mean_span: float = 3.0, *,
                    vocab_size: int, lang: int = 0, spans: Sequence | None = None,
                    generator: torch.Generator | None = None) -> Batch:
    """T5's span corruption (Raffel et al., 2020; notebook 11): ``round(ratio * n)`` tokens in
    ``round(noise / mean_span)`` spans (T5's random segmentation: kept run, span, kept run, ...),
    each replaced by one sentinel, the i-th being id ``vocab_size - 1 - i`` (T5's are its last
    ids); the decoder predicts each span after its sentinel, then a final sentinel. ``spans``:
    fixed sorted (start, length) lists. x1..x6 </s> (ids 11..16, 2) with spans (1, 2), (4, 1):
    encoder ``x1 S0 x4 S1 x6 </s>``, target ``S0 x2 x3 S1 x5 S2 </s>`` (S0 = 99 of 100 ids):
    >>> b = span_corruption([[11, 12, 13, 14, 15, 16, 2]], vocab_size=100, spans=[[(1, 2), (4, 1)]])
    >>> b.src.tolist(), b.target.tolist()
    ([[11, 99, 14, 98, 16, 2]], [[99, 12, 13, 98, 15, 97, 2]])"""
    seqs, src, tgt = _as_id_lists(seqs), [], []
    for i, s in enumerate(seqs):
        body, eos = _body(s)
        todo = list(spans[i]) if spans is not None else []  # (start, length) of every span
        if spans is None and (n := len(body)) >= 2:  # one token is kept: nothing is corrupted
            noise = min(max(round(ratio * n), 1), n - 1)
            parts, t = min(max(round(noise / mean_span), 1), noise, n - noise), 0
            lengths = _runs(noise, parts, generator)
            for keep, length in zip(_runs(n - noise, parts, generator), lengths):
                todo.append((t + keep, length))
                t += keep + length
        enc, dec, t = [], [], 0
        for j, (u, k) in enumerate(todo):
            if u < t or k < 1 or u + k > len(body):
                raise ValueError(f"spans[{i}]: ({u}, {k}) is empty, overlaps or runs past "
                                 f"{len(body)} tokens")
            sentinel = vocab_size - 1 - j
            enc += body[t:u] + [sentinel]
            dec += [sentinel] + body[u:u + k]
            t = u + k
        src.append(enc + body[t:] + eos)
        tgt.append(dec + [vocab_size - 1 - len(todo), EOS])
    return Batch(pad(src), _shifted(tgt), pad(tgt), None, lang, lang)


def _register() -> None:
    from minimass import trainer
    trainer.BATCHERS["infill"] = lambda examples, lang, vocab_size, generator: text_infilling(
        examples, lang=lang, generator=generator)
    trainer.BATCHERS["span"] = span_corruption


_register()
