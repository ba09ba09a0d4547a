# %% [markdown]
# # 07 · Summarization: article lead -> headline (Sec. 4.3, Fig. 4, Table 4)
#
# *Does MASS pre-training help a model write a headline from a few training examples, and does it beat the BERT+LM and DAE pre-training baselines?*

# %% [markdown]
# ## What you will learn
#
# - What Sec. 4.3 fine-tunes on (Gigaword article -> title at four training sizes, beam 5, ROUGE-1/2/L F1) and what runs here instead: BBC News lead sentences -> headlines, from checkpoints pre-trained on English text only (Sec. 4.1), beside one pre-trained on en+fr Bible text, with a small training subset and all pairs, and several fine-tuning seeds.
# - How `minimass.recipes.finetune(corpus="bbc")` turns a pre-trained checkpoint into a headline writer: one `mt` task of (lead, headline) pairs, batched by `seq2seq_batch` (both printed below), the checkpoint with the best validation perplexity kept.
# - How the beam search's length penalty and no-repeat n-gram size are chosen per system on the validation articles only, then fixed for the test.
# - How to read ROUGE at this scale: beside two trivial baselines (copy the lead; one constant headline) and beside the validation perplexity of the reference headlines, which moves when ROUGE does not.
# - How the claims of Fig. 4 (MASS against no pre-training) and Table 4 (MASS against BERT+LM and DAE) are called from the recorded runs by the one rule of every notebook, `lab.compare`.
# - How ROUGE-1 F1 is computed, recomputed by you from the headlines a record saved (Exercise 4, checked in the last cell).

# %% [markdown]
# ## The paper's claims
#
# Sec. 4.3 fine-tunes the pre-trained model on Gigaword (article's first sentence -> title) with 10K, 100K, 1M and all 3.8M pairs, decodes with beam 5 and reports ROUGE-1/2/L F1 on the Gigaword test set.
#
# - **Fig. 4**: MASS beats the model trained without pre-training at every size, "more than 10 ROUGE points gain on 10K data and 5 ROUGE points gain on 100K data". The figure's values are not in the text; we quote these two gaps.
# - **Table 4** (3.8M pairs): BERT+LM 37.75 / 18.45 / 34.85, DAE 35.97 / 17.17 / 33.14, MASS 38.73 / 19.71 / 35.96 (ROUGE-1 / 2 / L F1).
#
# ## What we run instead, and why
#
# - **Data.** BBC News (`data.summarization("bbc")`): the article's first sentence -> its headline, the nearest offline analogue of Gigaword's first sentence -> title. Validation (5%) and test (10%) articles are chosen by a hash of the article id. 1,780 training pairs (and 102 validation, 214 test), so Fig. 4's sizes become 300 and all of them.
# - **Pre-training on English only, as Sec. 4.1 does for summarization.** `recipes.pretrained(langs=("en",))` reads `recipes.ENGLISH`: Wikipedia intros, the BBC articles of the summarization train split, the chit-chat train conversations and the English Bible, with an English BPE learned on that text; no sentence of a validation or test article is in it (`tests/test_recipes.py` checks this on the real splits). Beside them, one side row: MASS pre-trained on en+fr Bible text (notebook 04's checkpoint), off the domain and half in another language; English against Bible pre-training is a comparison of its own, beyond the paper.
# - **Equal pre-training.** All three objectives are pre-trained for the same number of steps with the same batches of English text (1,000 steps at `cpu`, about 25 minutes each on one thread when missing).
# - **Fine-tuning until it converges.** The same batches and seed for every system; each run validates every `eval_every` steps and stops when the headlines' validation perplexity has not improved for `patience` validations (or at a `max_steps` cap, flagged `!`); the best checkpoint is kept (the paper's model selection). Warm-up is at most 10% of the shortest run. "No pre-training" uses the English MASS run's tokenizer and random weights.
# - **Decoding.** Beam 5, as the paper. Length penalty and no-repeat n-gram size are chosen per system on the validation articles (seed 0, all training pairs) and then fixed for its test runs.
# - 2 seeds per point at `cpu` (cut from 3 to fit about 3 CPU-hours; the steps are not cut); each seed draws its own training subset, batches and dropout, the same for every system. The seeds vary fine-tuning only: each objective is pre-trained once.
#
# Each run's result is recorded in `results/07_summarization/`; a second execution loads the records.

# %%
import minimass
import lab
from lab import run_once

PRESET = minimass.preset()
# sizes: training pairs (None: all); pre_steps: pre-training steps of every objective; ft:
# fine-tuning overrides; grid: (length_penalty, no_repeat_ngram_size) tried on validation;
# n_test / n_valid: articles scored (None: all).
SIZES = {"smoke": dict(sizes=[100, None], seeds=[0], pre_steps=60, n_test=20, n_valid=20,
                       grid=[(1.0, 0), (1.0, 3)],
                       ft={"max_steps": 12, "eval_every": 4, "save_every": 4, "max_tokens": 1000,
                           "warmup": 1, "patience": 2}),
         "cpu": dict(sizes=[300, None], seeds=[0, 1], pre_steps=1000, n_test=None, n_valid=None,
                     grid=[(lp, nr) for lp in (0.6, 1.0, 2.0) for nr in (0, 3)],
                     ft={"max_steps": 3000, "eval_every": 50, "save_every": 50, "max_tokens": 2000,
                         "warmup": 20, "patience": 3}),
         "gpu": dict(sizes=[200, 600, None], seeds=[0, 1, 2], pre_steps=None, n_test=None,
                     n_valid=None, grid=[(lp, nr) for lp in (0.6, 1.0, 1.4, 2.0) for nr in (0, 3)],
                     ft={"max_steps": 20000, "eval_every": 250, "save_every": 250, "warmup": 100,
                         "patience": 3})}[PRESET]
SEED = 0
FT = SIZES["ft"]
lab.check_warmup(FT)  # warm-up at most 10% of the shortest run early stopping allows
print(PRESET, SIZES)

# %%
import time
from statistics import mean, stdev

import matplotlib.pyplot as plt
import torch

from minimass import data
from minimass.metrics import rouge
from minimass.recipes import finetune, runs_dir
from minimass.search import translate
from minimass.trainer import load_checkpoint, read_log

torch.manual_seed(SEED)
plt.rcParams.update({"figure.dpi": 90, "font.size": 9})
T0 = time.time()
SPLITS = data.summarization("bbc", seed=SEED)
print(f"BBC lead -> headline: {len(SPLITS.train):,} train, {len(SPLITS.valid)} valid, "
      f"{len(SPLITS.test)} test pairs")
print("example:", SPLITS.train[0])

# %% [markdown]
# Articles are held out whole; no test lead or headline is in training, and none is in pre-training, whose BBC part is the train split's articles:

# %%
# NBVAL_CHECK_OUTPUT
train_text = {t for p in SPLITS.train for t in p}
leaks = sum(t in train_text for p in SPLITS.test + SPLITS.valid for t in p)
print(f"validation and test leads or headlines also in training: {leaks}")
assert leaks == 0

# %% [markdown]
# ## The pre-trained models
#
# `pretrained()` returns each objective's checkpoint, training it only when it is missing. BERT+LM pre-trains the encoder with masked LM and the decoder with a causal LM, in turn; DAE rebuilds each sentence from XLM's noise (shuffle 3, drop 0.1, blank 0.1).
#
# The records name each checkpoint by its run folder. `lab.fine_tuning_systems` (through `lab.pretrained_when_needed`) gives those names at once and a checkpoint (with its tokenizer) only when a run that is not yet recorded asks for it, so an execution whose runs are all in `results/07_summarization/` trains nothing.

# %%
# NBVAL_IGNORE_OUTPUT
# Sec. 4.1: English text only (Wikipedia, BBC train articles, chit-chat train, the English Bible);
# the side row "mass-bible": MASS pre-trained on en + fr Bible text (notebook 04's checkpoint)
RECIPES = {"mass": dict(objectives=("mass",), langs=("en",)),
           "bert+lm": dict(objectives=("mlm", "clm"), langs=("en",)),
           "dae": dict(objectives=("dae",), langs=("en",)),
           "mass-bible": dict(objectives=("mass",), langs=("en", "fr"))}
# PRETRAIN: what the records cite; `ckpt` and `tok` (system -> checkpoint, tokenizer) load, or
# pre-train, only when a run needs them
PRETRAIN, ckpt, tok = lab.fine_tuning_systems(RECIPES, PRESET, SEED, SIZES["pre_steps"])
SYSTEMS = ["none", "mass", "bert+lm", "dae", "mass-bible"]


# what each checkpoint cost: its log while the run cache holds it, else this notebook's record
COST = {PRETRAIN[n]: lab.pretraining_cost(PRETRAIN[n], "07_summarization", PRESET) for n in RECIPES}
for name in RECIPES:
    c = COST[PRETRAIN[name]]
    cost = f"{c['steps']:,} steps, {lab.duration(c['train_s'])} of training" if c else "not yet trained"
    print(f"{name:10s} {PRETRAIN[name]:38s} {cost}")

# %% [markdown]
# ## Fine-tuning, and the decoding settings chosen on validation
#
# `recipes.finetune(..., corpus="bbc")` trains on the seeded subset, validates every `eval_every` steps and keeps the best model in `RUN/best`. A second call on a finished run only loads it.

# %% [markdown]
# ### The fine-tuning step, in code
#
# Sec. 4.3 fine-tunes the whole pre-trained model on article-title pairs: the article goes into the encoder, the title is what the decoder reads and learns to write, and at test time a beam of 5 writes it. The loss is Eq. (1)'s log-likelihood with the masked sentence replaced by the article and the fragment by the whole title: $-\log P(y \mid x; \theta) = -\sum_t \log P(y_t \mid y_{<t}, x; \theta)$.
#
# `recipes.finetune`, printed below, is that step. With `corpus="bbc"` it reads the (lead, headline) pairs of `data.summarization`; `encode_pairs` encodes both sides with the pre-trained run's tokenizer and drops the pairs over the length limit; the pairs become one `Task` with the objective `"mt"`, for which `make_batch` calls `seq2seq_batch` (printed second): the lead is the encoder input, `<s>` and the headline shifted by one the decoder input, the headline and `</s>` the target. The `Trainer` minimises `batch_loss` over those targets (notebook 04 prints it) and validates on the headlines' perplexity, `valid_ppl/mt-en-en`, which picks the checkpoint kept in `RUN/best` (`"best"` in the overrides of `train` below). Both sides are English: source and target get the same language embedding.

# %%
import inspect

from minimass.masking import seq2seq_batch

print(inspect.getsource(finetune))
print(inspect.getsource(seq2seq_batch))

# %%
def run_dir(system, n, seed):
    return runs_dir() / f"07_ft-{system}_n{n}_{PRESET}_seed{seed}"

def train(system, n, seed):
    """Fine-tune until the headlines' validation perplexity stops improving (`patience`)."""
    run = run_dir(system, n, seed)
    tr = finetune(run, ckpt(system), "en", "en", n_train=n, preset_name=PRESET, seed=seed,
                  tokenizer=tok(system), corpus="bbc",
                  train_overrides={**FT, "best": "valid_ppl/mt-en-en", "keep": 1})
    return run, load_checkpoint(run / "best"), tr.summary()

def headlines(model, system, pairs, lp, nr):
    return translate(model, tok(system), [p[0] for p in pairs], "en", "en", beam=5,
                     length_penalty=lp, no_repeat_ngram_size=nr)

def tune(system):
    _, (model, _, _), _ = train(system, None, SEED)
    valid = SPLITS.valid[: SIZES["n_valid"]]
    scores = {f"{lp},{nr}": rouge(headlines(model, system, valid, lp, nr), [p[1] for p in valid])
              for lp, nr in SIZES["grid"]}
    best = max(scores, key=lambda k: scores[k]["rouge2"] + 1e-3 * scores[k]["rougeL"])
    return {"valid_rouge": scores, "length_penalty": float(best.split(",")[0]),
            "no_repeat": int(best.split(",")[1])}

def tuned(system):
    """`tune(system)`, recorded once (lab.run_once)."""
    recipe = {"system": system, "max_steps": FT["max_steps"], "patience": FT["patience"],
              "grid": len(SIZES["grid"]), "pretrain": PRETRAIN[system]}
    return run_once("07_summarization/tune", lambda: tune(system), PRESET, SEED, recipe,
                    {"ft": FT, "grid": SIZES["grid"], "n_valid": SIZES["n_valid"]})

# %%
# NBVAL_IGNORE_OUTPUT
DECODE = {system: tuned(system) for system in SYSTEMS}
for system, d in DECODE.items():
    print(f"{system:10s} length_penalty {d['length_penalty']}, no_repeat {d['no_repeat']}")

# %% [markdown]
# ## The runs
#
# Every (system, size, seed) is fine-tuned, its best checkpoint decodes the test leads with its system's settings, and ROUGE-1/2/L F1 (rouge-score, stemmed) scores the headlines.

# %%
TEST = SPLITS.test[: SIZES["n_test"]]

def run_test(system, n, seed):
    t0 = time.time()
    run, (model, _, state), ended = train(system, n, seed)
    d = DECODE[system]
    hyps = headlines(model, system, TEST, d["length_penalty"], d["no_repeat"])
    key = "valid_ppl/mt-en-en"
    return {**rouge(hyps, [p[1] for p in TEST]), "valid_ppl": min(v for _, v in read_log(run, key)),
            **ended, "curve": read_log(run, key), "hyps": hyps, "wall_s": time.time() - t0}

# Fig. 4's sizes for MASS and no pre-training; Table 4's systems on all pairs
RUNS = ([(s, n) for n in SIZES["sizes"] for s in ("none", "mass")]
        + [(s, None) for s in ("bert+lm", "dae", "mass-bible")])

def recorded(system, n, seed):
    """`run_test(system, n, seed)`, recorded once (lab.run_once)."""
    recipe = {"system": system, "n_train": n or "all", "max_steps": FT["max_steps"],
              "patience": FT["patience"], "pretrain": PRETRAIN[system]}
    settings = {"ft": FT, "n_test": SIZES["n_test"], "decode": DECODE[system]["length_penalty"],
                "no_repeat": DECODE[system]["no_repeat"]}
    return run_once("07_summarization", lambda: run_test(system, n, seed), PRESET, seed, recipe,
                    settings)

# %%
# NBVAL_IGNORE_OUTPUT
res = {(system, n, seed): recorded(system, n, seed)
       for system, n in RUNS for seed in SIZES["seeds"]}
budget = [k for k, r in res.items() if r["stopped"] != "converged"]
print(f"{len(res)} runs, {sum(r['wall_s'] for r in res.values()) / 60:.1f} min of fine-tuning "
      f"and decoding; {len(budget)} stopped on budget: {budget}")

# %% [markdown]
# ## Fig. 4: ROUGE against the training size, MASS against no pre-training
#
# Mean over seeds, each seed a dot.

# %%
KEYS = [("rouge1", "ROUGE-1"), ("rouge2", "ROUGE-2"), ("rougeL", "ROUGE-L")]
xs = [n or len(SPLITS.train) for n in SIZES["sizes"]]
fig, axes = plt.subplots(1, 3, figsize=(12, 3))
for ax, (key, label) in zip(axes, KEYS):
    for system, color in (("mass", "C0"), ("none", "C3")):
        vals = [[res[system, n, s][key] for s in SIZES["seeds"]] for n in SIZES["sizes"]]
        ax.plot(xs, [mean(v) for v in vals], "-o", color=color,
                label="MASS" if system == "mass" else "no pre-training")
        for x, v in zip(xs, vals):
            ax.scatter([x] * len(v), v, color=color, s=8, alpha=0.5)
    ax.set_xscale("log")
    ax.set_title(f"{label} F1 (test)")
    ax.set_xlabel("training pairs")
axes[0].legend()
plt.tight_layout()
plt.show()

def stats(system, n, key):
    v = [res[system, n, s][key] for s in SIZES["seeds"]]
    return mean(v), (stdev(v) if len(v) > 1 else 0.0)

# %%
# NBVAL_IGNORE_OUTPUT
TRIVIAL = {k: lab.score_outputs(v, [p[1] for p in TEST], "rouge")
           for k, v in lab.trivial_baselines([p[0] for p in TEST],
                                             [p[1] for p in SPLITS.train]).items()}
print(f"{'size':>5s} {'system':10s} | " + " | ".join(f"{label:>13s}" for _, label in KEYS)
      + " | valid ppl | distinct")
for n in SIZES["sizes"]:
    for system in ("none", "mass"):
        cells = " | ".join("{:6.2f} ± {:4.2f}".format(*stats(system, n, k)) for k, _ in KEYS)
        dist = mean(lab.distinct(res[system, n, s]["hyps"]) for s in SIZES["seeds"])
        print(f"{n or 'all':>5} {system:10s} | {cells} | "
              f"{stats(system, n, 'valid_ppl')[0]:9.1f} | {dist:5.0f}/{len(TEST)}")
for name, r in TRIVIAL.items():
    cells = " | ".join(f"{r[k]:6.2f}{'':7s}" for k, _ in KEYS)
    print(f"{'-':>5} {name + ' *':10s} | {cells} | {'-':>9s} | {r['distinct']:5d}/{len(TEST)}")
print("* trivial baselines: copy = the lead sentence as the headline; "
      "constant = the most frequent training headline")
print("paper, Gigaword: MASS gains > 10 ROUGE points at 10K pairs and 5 at 100K (Fig. 4)")

# %% [markdown]
# ## Table 4: MASS against the pre-training baselines, all training pairs
#
# Mean ± standard deviation over seeds; the paper's Gigaword numbers (3.8M pairs) beside ours.

# %%
# NBVAL_IGNORE_OUTPUT
PAPER = {"bert+lm": (37.75, 18.45, 34.85), "dae": (35.97, 17.17, 33.14),
         "mass": (38.73, 19.71, 35.96)}
print(f"{'system':10s} | " + " | ".join(f"{label:>13s}" for _, label in KEYS)
      + " | valid ppl | distinct | best_step | paper (R-1 / R-2 / R-L)")
for system in SYSTEMS:
    cells = " | ".join("{:6.2f} ± {:4.2f}".format(*stats(system, None, k)) for k, _ in KEYS)
    rs = [res[system, None, s] for s in SIZES["seeds"]]
    flag = "!" if any(r["stopped"] != "converged" for r in rs) else " "
    dist = mean(lab.distinct(r["hyps"]) for r in rs)
    paper = " / ".join(map(str, PAPER[system])) if system in PAPER else "-"
    print(f"{system:10s} | {cells} | {stats(system, None, 'valid_ppl')[0]:9.1f} | "
          f"{dist:4.0f}/{len(TEST)} | {mean(r['best_step'] for r in rs):8.0f}{flag} | {paper}")
print("! a run that stopped on budget (max_steps) while still improving")

# %% [markdown]
# ## Fine-tuning curves
#
# Validation perplexity of the headlines against the fine-tuning step (all training pairs, seed 0), and each run's best step against its last: a run that stopped on budget is marked.

# %%
# NBVAL_IGNORE_OUTPUT
for system, n in RUNS:
    rs = [res[system, n, s] for s in SIZES["seeds"]]
    print(f"{system:10s} {n or 'all':>4} pairs: best step {[r['best_step'] for r in rs]} of "
          f"{[r['last_step'] for r in rs]}, {[r['stopped'] for r in rs]}")
fig, ax = plt.subplots(figsize=(5, 3))
for system, color in zip(SYSTEMS, ("C3", "C0", "C2", "C1", "C4")):
    curve = res[system, None, SIZES["seeds"][0]]["curve"]  # seed 0: runs stop at different steps
    ax.plot([st for st, _ in curve], [v for _, v in curve], "-o", ms=3, color=color, label=system)
ax.set_yscale("log")
ax.set_xlabel("fine-tuning step")
ax.set_ylabel("valid perplexity")
ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Example headlines
#
# Seed 0, all training pairs, each system's tuned beam search.

# %%
# NBVAL_IGNORE_OUTPUT
for k in (0, 3, 11, 40, 100):  # five test leads
    if k < len(TEST):
        print(f"lead:      {TEST[k][0]}\nreference: {TEST[k][1]}")
        for system in SYSTEMS:
            print(f"  {system:10s} {res[system, None, SIZES['seeds'][0]]['hyps'][k]}")
        print()

# %% [markdown]
# ## Verdict
#
# Each claim is called by the one rule of `notebooks/lab.py` (`lab.compare`: Welch's t-test over the fine-tuning seeds, p < 0.05): Fig. 4's (MASS above no pre-training at every size, the gain larger with less data) and Table 4's (MASS above BERT+LM and DAE) on ROUGE-1/2/L. A ROUGE-2 claim is at floor when every system compared has ROUGE-2 under 1, and any ROUGE claim when every system compared writes distinct headlines for under 20% of the test leads (`lab.at_floor`). The validation perplexity of the reference headlines is added: it is not a claim of the paper, but it is the measure that moves first when ROUGE is at its floor. The seeds vary fine-tuning only; each objective is pre-trained once.

# %%
MEASURES = [*KEYS, ("valid_ppl", "valid ppl")]
SEEDS = SIZES["seeds"]


def vals(system, n, key):
    return [res[system, n, s][key] for s in SEEDS]


def floor(key, n, systems):
    """Whether `key` is at its floor for every system compared (lab.at_floor: ROUGE-2 < 1, or few
    distinct outputs; a perplexity never is)."""
    return all(lab.at_floor(key, mean(vals(s, n, key)), res[s, n, SEEDS[0]]["hyps"])
               for s in systems)

# %%
claims = []
for key, label in MEASURES:
    lower = key == "valid_ppl"
    per_size = [lab.compare(vals("mass", n, key), vals("none", n, key), lower,
                            floor(key, n, ("mass", "none")))
                for n in SIZES["sizes"]]
    claims.append(lab.claim("MASS beats no pre-training at every size", "Fig. 4", label,
                            lab.overall([c["verdict"] for c in per_size]),
                            mean(c["delta"] for c in per_size),
                            max(1.0 if c["p"] is None else c["p"] for c in per_size), len(SEEDS)))
    small, large = SIZES["sizes"][0], SIZES["sizes"][-1]
    gains = [[(-1 if lower else 1) * (a - b)
              for a, b in zip(vals("mass", n, key), vals("none", n, key))]
             for n in (small, large)]
    c = lab.compare(gains[0], gains[1], False,
                    floor(key, small, ("mass", "none")) and floor(key, large, ("mass", "none")))
    claims.append(lab.claim(f"the gain is larger with {small} pairs than with all", "Fig. 4", label,
                            c["verdict"], c["delta"], c["p"], len(SEEDS)))
    for base in ("bert+lm", "dae"):
        c = lab.compare(vals("mass", None, key), vals(base, None, key), lower,
                        floor(key, None, ("mass", base)))
        claims.append(lab.claim(f"MASS beats {base.upper()}", "Table 4", label, c["verdict"],
                                c["delta"], c["p"], len(SEEDS)))
    c = lab.compare(vals("mass", None, key), vals("mass-bible", None, key), lower,
                    floor(key, None, ("mass", "mass-bible")))
    claims.append(lab.claim("English pre-training beats en+fr Bible pre-training",
                            "Sec. 4.1, English pre-training", label, c["verdict"], c["delta"],
                            c["p"], len(SEEDS)))
for c in claims:
    print(f"{c['where']}: {c['claim']} ({c['measure']}): {c['verdict']} "
          f"(delta {c['delta']}, p {c['p']})")

# %%
ours = {"Fig. 4": "; ".join(f"{n or 'all'} pairs: ROUGE-1 / 2 MASS "
                            f"{mean(vals('mass', n, 'rouge1')):.2f} / "
                            f"{mean(vals('mass', n, 'rouge2')):.2f} "
                            f"vs none {mean(vals('none', n, 'rouge1')):.2f} / "
                            f"{mean(vals('none', n, 'rouge2')):.2f}, "
                            f"valid ppl {mean(vals('mass', n, 'valid_ppl')):.0f}"
                            f" vs {mean(vals('none', n, 'valid_ppl')):.0f}"
                            for n in SIZES["sizes"]),
        "Table 4": "; ".join(f"{s}: ROUGE-1 / 2 / L "
                             + " / ".join(f"{mean(vals(s, None, k)):.2f}" for k, _ in KEYS)
                             + f", valid ppl {mean(vals(s, None, 'valid_ppl')):.0f}"
                             for s in ("mass", "bert+lm", "dae", "mass-bible"))}
ours["Sec. 4.1, English pre-training"] = (
    "all pairs, ROUGE-1 / 2 / L and valid ppl: English MASS "
    + " / ".join(f"{mean(vals('mass', None, k)):.2f}" for k, _ in MEASURES)
    + " vs en+fr Bible MASS " + " / ".join(f"{mean(vals('mass-bible', None, k)):.2f}"
                                           for k, _ in MEASURES))
paper = {"Fig. 4": "MASS over no pre-training: > 10 ROUGE points at 10K pairs, 5 at 100K "
                   "(Gigaword; Sec. 4.3)",
         "Sec. 4.1, English pre-training": "summarization is pre-trained on English monolingual "
                                           "data only (no number)",
         "Table 4": "ROUGE-1 / 2 / L at 3.8M pairs: MASS 38.73 / 19.71 / 35.96, "
                    "BERT+LM 37.75 / 18.45 / 34.85, DAE 35.97 / 17.17 / 33.14"}
summary = {"claims": claims, "paper": paper, "ours": ours, "sizes": SIZES["sizes"], "seeds": SEEDS,
           "ft": SIZES["ft"],
           "decoding": {s: {k: DECODE[s][k] for k in ("length_penalty", "no_repeat")}
                        for s in SYSTEMS}, "trivial": TRIVIAL,
           "table": {f"{s} {n or 'all'}": {k: vals(s, n, k) for k in ("rouge1", "rouge2", "rougeL",
                                                                       "valid_ppl", "best_step",
                                                                       "last_step", "stopped")}
                     | {"distinct": [lab.distinct(res[s, n, seed]["hyps"]) for seed in SEEDS]}
                     for s, n in RUNS},
           "pretrained": {s: PRETRAIN[s] for s in RECIPES}, "pretraining": COST, "n_test": len(TEST),
           "notebook_wall_s": time.time() - T0}
DATA = ("BBC News (bbc-news-summary wheel): first sentence -> headline; valid 5% / test 10% of "
        "articles by id hash")
path = lab.save_results("07_summarization", summary, PRESET, SEED, data=DATA)
print("recorded" if path.parent.name == "results" else "smoke: written to a temporary folder")

# %% [markdown]
# ## What the `cpu` run shows
#
# (Draft: written from the cpu records once they exist; every number quoted from a cell above.)

# %% [markdown]
# ## Summary
#
# - Summarization fine-tunes the whole pre-trained encoder-decoder on (lead, headline) pairs; MASS's decoder has learned to generate a missing fragment from the encoder's view of the rest, which is the shape of this task.
# - `recipes.finetune(corpus="bbc")` with the best-validation checkpoint, beam 5 with the length penalty and no-repeat size chosen on validation only, ROUGE from rouge-score.
# - The three objectives are pre-trained for the same steps on the same English text, which holds the BBC train articles but no validation or test article; the en+fr Bible MASS row shows what the domain and language of pre-training change.
#
# ## Exercises
#
# 1. Pre-train MASS on one English source only (`recipes.pretraining_text(("en",))` mixes four): Wikipedia alone, or the BBC train articles alone. Which matters more for headlines, the amount of text or its domain?
#    *Hint:* `data.monolingual("en", ("bbc",), seed)` gives one source's train/valid split; train a `Task("mass", ...)` on it with `Trainer` as `recipes.pretrain` does (printed by `inspect.getsource(recipes.pretrain)`), then pass its checkpoint to `finetune` as `init`.
# 2. Use the first three sentences as the source (`data.summarization("bbc", lead=3)`). Does ROUGE rise, and for which system most?
#    *Hint:* `finetune` (printed above) always reads one lead sentence; copy it with `data.summarization(corpus, seed, lead=3, n_train=n_train)`, decode `data.summarization("bbc", lead=3).test`, and count how many pairs `encode_pairs` now drops for being too long.
# 3. Score the headlines without stemming (`rouge_scorer.RougeScorer(..., use_stemmer=False)`). Does the ranking of the systems change?
#    *Hint:* no training is needed: every run's record keeps its test headlines, `res[system, n, seed]["hyps"]`, in the order of `TEST`; score them against `[p[1] for p in TEST]` with `scorer.score(reference, headline)`.
# 4. **(checkable)** Recompute ROUGE-1 F1 yourself from the saved headlines: write `your_rouge1(hyps, refs)` in the check cell below, which compares it with the records for every system and with the copy-the-lead baseline.
#    *Hint:* tokenize as rouge-score does, `rouge_score.tokenizers.DefaultTokenizer(use_stemmer=True).tokenize(text)`; per pair, the overlap is the sum of the smaller counts of each word (`Counter(h) & Counter(r)`), precision = overlap / headline words, recall = overlap / reference words, F1 = 2PR / (P + R) (0 without overlap); average over the pairs, times 100.
#
# Exercise 4's reference answer is in the next cell, collapsed in JupyterLab: expand it once you have tried.

# %%
from collections import Counter

from rouge_score.tokenizers import DefaultTokenizer


def reference_rouge1(hyps, refs):
    # Exercise 4: unigram-overlap F1 on rouge-score's stemmed words, averaged over the pairs, x 100.
    words = DefaultTokenizer(use_stemmer=True).tokenize
    total = 0.0
    for hyp, ref in zip(hyps, refs):
        h, r = Counter(words(hyp)), Counter(words(ref))
        overlap = sum((h & r).values())
        if overlap:
            precision, recall = overlap / sum(h.values()), overlap / sum(r.values())
            total += 2 * precision * recall / (precision + recall)
    return 100 * total / len(hyps)

# %% [markdown]
# The check for Exercise 4: replace `None` by your function. On the saved test headlines of every system (all pairs, the first seed) and on the leads themselves (the copy baseline), it must give the ROUGE-1 the records hold; with `None` the cell checks the reference answer. It trains and decodes nothing.

# %%
import math

your_rouge1 = None  # Exercise 4: a function (hyps, refs) -> ROUGE-1 F1 x 100, averaged over pairs


def check_rouge1(rouge1_fn):
    refs, seed, lines = [p[1] for p in TEST], SIZES["seeds"][0], []
    saved = {s: (res[s, None, seed]["hyps"], res[s, None, seed]["rouge1"]) for s in SYSTEMS}
    saved["copy"] = ([p[0] for p in TEST], TRIVIAL["copy"]["rouge1"])
    for name, (hyps, want) in saved.items():
        got = rouge1_fn(hyps, refs)
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), (name, got, want)
        lines.append(f"{name} {got:.2f}")
    return f"ROUGE-1 of {len(refs)} test headlines, as the records hold it: " + ", ".join(lines)


print(check_rouge1(your_rouge1 or reference_rouge1))
