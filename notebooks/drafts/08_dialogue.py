# %% [markdown]
# # 08 · Conversational response generation (Sec. 4.4, Table 5)
#
# *Does MASS pre-training make a response model less perplexed by real replies, with little data and with all of it, and does it beat BERT+LM?*

# %% [markdown]
# ## What you will learn
#
# - What Sec. 4.4 and Table 5 measure (Cornell movie dialogue pairs, 10K and all 110K of them, the perplexity of the test responses) and what runs here instead: chit-chat turn pairs with whole conversations held out, at several training sizes, with several fine-tuning seeds.
# - How notebook 07's `recipes.finetune`, with `corpus="chitchat"`, fine-tunes MASS, BERT+LM and a randomly initialised model on utterance -> response pairs, with the same steps, batches and seed for every system.
# - How the test perplexity is computed: `lab.pair_ppl` and `trainer.valid_perplexity` (source printed below), teacher-forced, summed over every response token, `</s>` included, and divided once.
# - Why perplexities from other tokenizers and corpora compare by the order of the systems and the size of their gaps, not by their absolute values.
# - How the one rule of every notebook, `lab.compare`, calls Table 5's claims from the recorded seeds, and how generic the generated responses still are.
# - How to compute a perplexity by hand from a model's logits (Exercise 4, checked in the last cell).

# %% [markdown]
# ## The paper's claim
#
# Sec. 4.4 fine-tunes on the Cornell Movie Dialog corpus (140K conversation pairs: 10K validation, 20K test, the rest training), "with the same optimization hyperparameters from the pre-training stage", on 10K randomly chosen pairs and on all 110K, and reports the perplexity of the test responses (Table 5):
#
# | Method | 10K | 110K |
# |---|---|---|
# | Baseline (no pre-training) | 82.39 | 26.38 |
# | BERT+LM | 80.11 | 24.84 |
# | MASS | 74.32 | 23.52 |
#
# "MASS achieves lower PPL than the baseline on both the 10K and 110K data", and lower than BERT+LM (the text also names DAE, which Table 5 does not list).
#
# ## What we run instead, and why
#
# - **Data.** The chit-chat dataset (`data.dialogue("chitchat")`, offline): each pair is one turn and the next turn of a conversation, about 120K training pairs, close to the paper's 110K. Validation and test are **whole conversations** held out by a hash of their id (2% each), so no turn of a test conversation, as utterance or as response, is seen in training.
# - **Pre-training on English only, as Sec. 4.1 does for dialogue.** MASS and BERT+LM from `recipes.pretrained(langs=("en",))` (Wikipedia intros, BBC train articles, chit-chat train conversations and the English Bible, with an English BPE; no validation or test conversation is in it), 1,000 steps each at `cpu`, the same checkpoints as notebook 07's; no pre-training uses the English MASS run's tokenizer and random weights. Side row: MASS pre-trained on en+fr Bible text (notebook 04's checkpoint), off the domain; English against Bible pre-training is a comparison beyond the paper.
# - **Sizes.** 1K and 10K pairs at `cpu` (the paper: 10K and all 110K). With early stopping a run on all 120K chit-chat pairs would take hours on one CPU thread, so the sizes are cut, not the steps; at `gpu`, 10K and all pairs.
# - **Fine-tuning until it converges.** The same batches and seed for every system (2,000-token batches); each run stops when the validation perplexity has not improved for `patience` validations (or at a `max_steps` cap, reported as `budget`), and its best checkpoint is scored on the test conversations. Warm-up is at most 10% of the shortest run. 2 seeds at `cpu` (cut from 3 to fit about 3 CPU-hours), varying fine-tuning only.
# - **Generation.** Beyond perplexity (the paper's only measure), each model answers the first test utterances with beam 5: its distinct replies and chrF against the real reply, beside two trivial baselines (repeat the utterance; the most frequent training reply), and five examples.
#
# Each run's result is recorded in `results/08_dialogue/`; a second execution loads the records.

# %%
import minimass
import lab
from lab import run_once

PRESET = minimass.preset()
# sizes: training pairs (None: all); pre_steps: pre-training steps of every objective; ft:
# fine-tuning overrides; n_test: test pairs scored (None: all).
# n_gen: test utterances answered with beam 5 (distinct responses, chrF, the trivial baselines).
SIZES = {"smoke": dict(sizes=[100, 1000], seeds=[0], pre_steps=60, n_test=100, n_gen=20,
                       ft={"max_steps": 12, "eval_every": 4, "save_every": 4, "max_tokens": 1000,
                           "warmup": 1, "patience": 2}),
         "cpu": dict(sizes=[1000, 10000], seeds=[0, 1], pre_steps=1000, n_test=None, n_gen=200,
                     ft={"max_steps": 3000, "eval_every": 50, "save_every": 50, "max_tokens": 2000,
                         "warmup": 20, "patience": 3}),
         "gpu": dict(sizes=[10000, None], seeds=[0, 1, 2], pre_steps=None, n_test=None,
                     n_gen=1000, ft={"max_steps": 20000, "eval_every": 500, "save_every": 500,
                                     "warmup": 200, "patience": 3})}[PRESET]
SEED = 0
FT = SIZES["ft"]
# warm-up at most 10% of the shortest run early stopping allows
lab.check_warmup(FT)
print(PRESET, SIZES)

# %%
import time
from statistics import mean, stdev

import matplotlib.pyplot as plt
import torch

from minimass import data
from minimass.recipes import finetune, runs_dir
from minimass.search import translate
from minimass.tokenizer import lang_id
from minimass.trainer import Task, load_checkpoint, read_log, train_config, valid_perplexity

torch.manual_seed(SEED)
plt.rcParams.update({"figure.dpi": 90, "font.size": 9})
T0 = time.time()
SPLITS = data.dialogue("chitchat", seed=SEED)
print(f"chit-chat turn pairs: {len(SPLITS.train):,} train, {len(SPLITS.valid):,} valid, "
      f"{len(SPLITS.test):,} test")
print("example:", SPLITS.train[0])

# %% [markdown]
# Whole conversations are held out, and `data` also drops any training pair that shares a turn with validation or test (a generic "Hi!" can open many conversations). So no test turn is seen in training, as an utterance or as a response:

# %%
# NBVAL_CHECK_OUTPUT
train_turns = {t for p in SPLITS.train for t in p}
leaks = sum(t in train_turns for p in SPLITS.test + SPLITS.valid for t in p)
print(f"validation and test turns also in training: {leaks}")
assert leaks == 0

# %% [markdown]
# ## The pre-trained models
#
# The records name each checkpoint by its run folder. `lab.fine_tuning_systems` (through `lab.pretrained_when_needed`) gives those names at once and a checkpoint (with its tokenizer) only when a run that is not yet recorded asks for it, so an execution whose runs are all in `results/08_dialogue/` trains nothing. "No pre-training" uses the MASS run's tokenizer.

# %%
# NBVAL_IGNORE_OUTPUT
# Sec. 4.1: English text only (Wikipedia, BBC train articles, chit-chat train, the English Bible);
# the side row "mass-bible": MASS pre-trained on en + fr Bible text (notebook 04's checkpoint)
RECIPES = {"mass": dict(objectives=("mass",), langs=("en",)),
           "bert+lm": dict(objectives=("mlm", "clm"), langs=("en",)),
           "mass-bible": dict(objectives=("mass",), langs=("en", "fr"))}
# PRETRAIN: what the records cite; `ckpt` and `tok` (system -> checkpoint, tokenizer) load, or
# pre-train, only when a run needs them
PRETRAIN, ckpt, tok = lab.fine_tuning_systems(RECIPES, PRESET, SEED, SIZES["pre_steps"])
SYSTEMS = ["none", "bert+lm", "mass", "mass-bible"]


for name in RECIPES:
    print(f"{name:10s} {PRETRAIN[name]}")

# %% [markdown]
# ## The runs
#
# `recipes.finetune(..., corpus="chitchat")` trains on the seeded subset and keeps the best-validation model. Test perplexity is `trainer.valid_perplexity` of that model on every test pair that passes the paper's length filter (175 BPE tokens a side, as in fine-tuning): the exponential of the mean negative log-likelihood per response token, `</s>` included.

# %% [markdown]
# ### How the test perplexity is computed
#
# Sec. 4.4 fine-tunes with the optimisation settings of pre-training and, following Vinyals & Le (2015), scores each model by the perplexity of the real test responses: the exponential of the mean negative log-likelihood per response token, the encoder reading the utterance and the decoder the true previous tokens of the response (teacher forcing). The fine-tuning step is notebook 07's `recipes.finetune` (printed there) with `corpus="chitchat"`.
#
# The score is `lab.pair_ppl`, printed below with the package function it calls, `trainer.valid_perplexity`. The test pairs become the validation set of an `mt` task; they are batched by length up to `max_tokens`, each batch (`seq2seq_batch`: `<s>` and the response shifted by one in, the response and `</s>` out) is scored by `batch_loss` (notebook 04 prints it), and the summed losses and token counts are divided once, at the end: a long response weighs by its length, and every `</s>` counts as a token. `min(..., 50.0)` caps a diverged model's perplexity instead of overflowing.

# %%
import inspect

print(inspect.getsource(lab.pair_ppl))
print(inspect.getsource(valid_perplexity))

# %%
TEST = SPLITS.test[: SIZES["n_test"]]
GEN = SPLITS.test[: SIZES["n_gen"]]  # answered by every model; the first five are shown

def run_test(system, n, seed):
    t0 = time.time()
    run = runs_dir() / f"08_ft-{system}_n{n}_{PRESET}_seed{seed}"
    key = "valid_ppl/mt-en-en"
    tr = finetune(run, ckpt(system), "en", "en", n_train=n, preset_name=PRESET, seed=seed,
                  tokenizer=tok(system), corpus="chitchat",
                  train_overrides={**FT, "best": key, "keep": 1})  # until it converges
    model, _, state = load_checkpoint(run / "best")
    test = lab.scorable(tok(system), TEST, "en", "en")  # the filter of fine-tuning
    ppl = lab.pair_ppl(model, tok(system), TEST, "en", "en", train_config(PRESET, FT).max_tokens)
    hyps = translate(model, tok(system), [p[0] for p in GEN], "en", "en", beam=5,
                     no_repeat_ngram_size=3)
    ppw = lab.pieces_per_word(tok(system), TEST, "en", "en")  # per piece -> per word
    return {"test_ppl": ppl, "pieces_per_word": ppw, "word_ppl": ppl ** ppw,
            "n_test": len(test), **tr.summary(),
            **lab.score_outputs(hyps, [p[1] for p in GEN]),
            "valid_ppl": min(v for _, v in read_log(run, key)), "curve": read_log(run, key),
            "hyps": hyps, "wall_s": time.time() - t0}

def recorded(system, n, seed):
    """`run_test(system, n, seed)`, recorded once (lab.run_once)."""
    recipe = {"system": system, "n_train": n or "all", "max_steps": FT["max_steps"],
              "patience": FT["patience"], "pretrain": PRETRAIN[system]}
    settings = {"ft": FT, "n_test": SIZES["n_test"], "n_gen": SIZES["n_gen"]}
    return run_once("08_dialogue", lambda: run_test(system, n, seed), PRESET, seed, recipe,
                    settings)

# %%
# NBVAL_IGNORE_OUTPUT
res = {(system, n, seed): recorded(system, n, seed)
       for n in SIZES["sizes"] for system in SYSTEMS for seed in SIZES["seeds"]}
budget = [k for k, r in res.items() if r["stopped"] != "converged"]
print(f"{len(res)} runs, {sum(r['wall_s'] for r in res.values()) / 60:.1f} min of fine-tuning "
      f"and scoring; {len(budget)} stopped on budget: {budget}")

# %% [markdown]
# ## Table 5 beside ours
#
# Test perplexity, mean ± standard deviation over seeds. Perplexities from different tokenizers and corpora are not comparable in absolute value (the paper's are per word-piece of Cornell movie lines, ours per piece of the English BPE of chat turns); compare the order of the systems and the size of their gaps. The en+fr Bible BPE of `mass-bible` cuts a chat turn into more, shorter pieces, each easier to guess, so its row is compared per word: the per-piece perplexity raised to its tokenizer's pieces per word on the test responses (`lab.pieces_per_word`: the same total negative log-likelihood spread over words, each word and `</s>` counting one), printed beside.

# %%
# NBVAL_IGNORE_OUTPUT
PAPER = {"none": (82.39, 26.38), "bert+lm": (80.11, 24.84), "mass": (74.32, 23.52),
         "mass-bible": ("-", "-")}

def stats(system, n, key="test_ppl"):
    v = [res[system, n, s][key] for s in SIZES["seeds"]]
    return mean(v), (stdev(v) if len(v) > 1 else 0.0)

labels = [f"{n:,} pairs" if n else f"all ({len(SPLITS.train):,})" for n in SIZES["sizes"]]
print(f"{'system':10s} | " + " | ".join(f"{lb:>16s}" for lb in labels) + " | paper 10K / 110K"
      + " | per word, " + " / ".join(labels))
for system in SYSTEMS:
    cells = " | ".join("{:7.1f} ± {:6.1f}".format(*stats(system, n)) for n in SIZES["sizes"])
    words = " / ".join(f"{stats(system, n, 'word_ppl')[0]:.0f}" for n in SIZES["sizes"])
    print(f"{system:10s} | {cells} | {PAPER[system][0]} / {PAPER[system][1]} | {words}")

# %% [markdown]
# The step of each run's best checkpoint (the one scored on the test conversations): a run whose best is its last validation stopped while still improving. Right of the plot below, the validation curves with all pairs.

# %%
# NBVAL_IGNORE_OUTPUT
for n, label in zip(SIZES["sizes"], labels):
    for s in SYSTEMS:
        rs = [res[s, n, seed] for seed in SIZES["seeds"]]
        print(f"{label:>16s} {s:10s} best step {[r['best_step'] for r in rs]} of "
              f"{[r['last_step'] for r in rs]}, {[r['stopped'] for r in rs]}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
for system, color in zip(SYSTEMS, ("C3", "C2", "C0", "C4")):
    m = [stats(system, n)[0] for n in SIZES["sizes"]]
    axes[0].plot(labels, m, "-o", color=color, label=system)
    for x, n in zip(labels, SIZES["sizes"]):
        axes[0].scatter([x] * len(SIZES["seeds"]),
                        [res[system, n, s]["test_ppl"] for s in SIZES["seeds"]],
                        color=color, s=8, alpha=0.5)
    curve = res[system, SIZES["sizes"][-1], SIZES["seeds"][0]]["curve"]  # runs stop apart
    axes[1].plot([st for st, _ in curve], [v for _, v in curve], "-o", ms=3, color=color,
                 label=system)
axes[0].set_yscale("log")
axes[0].set_title("test perplexity (lower is better)")
axes[1].set_yscale("log")
axes[1].set_title(f"valid perplexity while fine-tuning, {labels[-1]}, seed 0")
axes[1].set_xlabel("fine-tuning step")
axes[0].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Example responses
#
# Seed 0, the largest training size, beam 5 with no repeated trigram: chrF and distinct replies on the first test utterances beside the trivial baselines, then five of them.

# %%
# NBVAL_IGNORE_OUTPUT
TRIVIAL = {k: lab.score_outputs(v, [p[1] for p in GEN])
           for k, v in lab.trivial_baselines([p[0] for p in GEN],
                                             [p[1] for p in SPLITS.train]).items()}
n_big = SIZES["sizes"][-1]
print(f"{len(GEN)} test utterances, {labels[-1]}: chrF against the real response, distinct replies")
for system in SYSTEMS:
    rs = [res[system, n_big, s] for s in SIZES["seeds"]]
    print(f"  {system:10s} chrF {mean(r['chrf'] for r in rs):5.1f}  distinct "
          f"{mean(r['distinct'] for r in rs):5.0f}/{len(GEN)}")
for name, r in TRIVIAL.items():
    print(f"  {name + ' *':10s} chrF {r['chrf']:5.1f}  distinct {r['distinct']:5d}/{len(GEN)}")
print("* trivial baselines: copy = the utterance as its own reply; constant = the most frequent "
      "training reply")
print()
for k in range(min(5, len(GEN))):  # five test utterances
    print(f"utterance: {GEN[k][0]}\nreal reply: {GEN[k][1]}")
    for system in SYSTEMS:
        print(f"  {system:10s} {res[system, n_big, SIZES['seeds'][0]]['hyps'][k]}")
    print()

# %% [markdown]
# ## Verdict
#
# Table 5's claims, each called by the one rule of `notebooks/lab.py` (`lab.compare`: Welch's t-test over the fine-tuning seeds, p < 0.05): at each size, MASS's test perplexity is below no pre-training's and below BERT+LM's, and BERT+LM's below no pre-training's (the paper's order). Perplexity has no floor. The seeds vary fine-tuning only; each objective is pre-trained once.

# %%
SEEDS = SIZES["seeds"]


def vals(system, n, key="test_ppl"):
    return [res[system, n, s][key] for s in SEEDS]

# %%
claims = []
NAMES = {"mass": "MASS", "bert+lm": "BERT+LM", "none": "no pre-training",
         "mass-bible": "MASS pre-trained on en+fr Bible text"}
for a, b in (("mass", "none"), ("mass", "bert+lm"), ("bert+lm", "none"), ("mass", "mass-bible")):
    where = "Table 5" if b != "mass-bible" else "Sec. 4.1, English pre-training"
    key = "test_ppl" if b != "mass-bible" else "word_ppl"  # tokenizers differ: per word
    for n, label in zip(SIZES["sizes"], labels):
        c = lab.compare(vals(a, n, key), vals(b, n, key), lower_is_better=True)
        claims.append(lab.claim(f"{NAMES[a]} beats {NAMES[b]} at {label}", where,
                                "test ppl" if key == "test_ppl" else "test ppl per word",
                                c["verdict"], c["delta"], c["p"], len(SEEDS)))
for c in claims:
    print(f"{c['claim']}: {c['verdict']} (delta {c['delta']}, p {c['p']})")
ours = {"Table 5": "test ppl at " + " / ".join(labels) + ": " + "; ".join(
    f"{s} " + " / ".join(f"{mean(vals(s, n)):.0f}" for n in SIZES["sizes"])
    for s in ("mass", "bert+lm", "none"))}
ours["Sec. 4.1, English pre-training"] = (
    "test ppl per word at " + " / ".join(labels) + ": English MASS "
    + " / ".join(f"{mean(vals('mass', n, 'word_ppl')):.0f}" for n in SIZES["sizes"])
    + "; en+fr Bible MASS "
    + " / ".join(f"{mean(vals('mass-bible', n, 'word_ppl')):.0f}" for n in SIZES["sizes"]))
paper = {"Table 5": "PPL at 10K / 110K pairs: MASS 74.32 / 23.52, BERT+LM 80.11 / 24.84, "
                    "none 82.39 / 26.38",
         "Sec. 4.1, English pre-training": "dialogue is pre-trained on English monolingual data "
                                           "only (no number)"}
summary = {"claims": claims, "paper": paper, "ours": ours, "sizes": SIZES["sizes"], "seeds": SEEDS,
           "ft": SIZES["ft"],
           "table": {f"{s} {n or 'all'}": {k: [res[s, n, seed][k] for seed in SEEDS]
                                          for k in ("test_ppl", "word_ppl", "valid_ppl",
                                                    "best_step", "last_step", "stopped", "chrf",
                                                    "distinct")}
                     for s in SYSTEMS for n in SIZES["sizes"]},
           "pretrained": {s: PRETRAIN[s] for s in RECIPES}, "n_test": len(TEST), "trivial": TRIVIAL,
           "notebook_wall_s": time.time() - T0}
DATA = ("chitchat-dataset 0.9.0 (data.dialogue): consecutive turns; valid/test = 2% / 2% of "
        "conversations by id hash")
path = lab.save_results("08_dialogue", summary, PRESET, SEED, data=DATA)
print("recorded" if path.parent.name == "results" else "smoke: written to a temporary folder")

# %% [markdown]
# ## What the `cpu` run shows
#
# (Draft: written from the cpu records once they exist; every number quoted from a cell above.)

# %% [markdown]
# ## Summary
#
# - Response generation is fine-tuned like translation, utterance -> response, and scored by the perplexity of the real responses of held-out conversations (the paper follows Vinyals & Le, 2015).
# - The comparison is paired: the same subset, batches, steps and seed for every system, and one pre-training budget for MASS and BERT+LM.
# - The verdict above is computed from the measured table; the fine-tuning curves show how much of the gap is a head start that closes with more steps.
#
# ## Exercises
#
# 1. Add the DAE checkpoint of notebook 07 as a fourth system. Where does it fall?
#    *Hint:* add `"dae": dict(objectives=("dae",), langs=("en",))` to `RECIPES` and `"dae"` to `SYSTEMS` (and a `("-", "-")` entry to `PAPER`, since Table 5 has no DAE row): `lab.pretrained_when_needed` finds notebook 07's DAE run in the run cache, or trains it, and the other systems' records are reused.
# 2. Fine-tune on all training pairs (`SIZES["sizes"].append(None)`). Does the gap between MASS and no pre-training shrink, as the paper's 110K column suggests?
#    *Hint:* the other sizes' records are reused, so only the new runs train: budget about an hour per run on one thread, since early stopping lets them run until the validation perplexity stops improving.
# 3. Score the responses of the seed-0 models with BLEU against the references. Does it order the systems as perplexity does?
#    *Hint:* every record keeps its replies to `GEN` (`res[system, n, seed]["hyps"]`); score them with `minimass.metrics.bleu(hyps, [p[1] for p in GEN])` and compare the order with the test perplexity table.
# 4. **(checkable)** Compute a perplexity by hand: write `your_ppl(model, pairs)` in the check cell below, which compares it with `valid_perplexity` on tokenized test pairs and a small untrained model.
#    *Hint:* for each (utterance ids, response ids) pair, feed the utterance to the encoder and `[BOS] + response[:-1]` to the decoder (`model(src, lang, dec_in, lang)`, each a `(1, length)` tensor); sum `F.cross_entropy(logits, response, reduction="sum")` and the response lengths over all pairs, then `math.exp(total / count)`. One pair at a time needs no padding; `model.eval()` turns dropout off.
#
# Exercise 4's reference answer is in the next cell, collapsed in JupyterLab: expand it once you have tried.

# %%
import math

import torch.nn.functional as F

from minimass.tokenizer import BOS


@torch.no_grad()
def reference_ppl(model, pairs):
    # Exercise 4: exp(summed NLL of every response token, </s> included / their number).
    model.eval()
    en, nll, count = lang_id("en"), 0.0, 0
    for x, y in pairs:  # one pair at a time: no padding
        src, dec_in = torch.tensor([x]), torch.tensor([[BOS] + y[:-1]])
        logits = model(src, en, dec_in, en)[0]  # (len(y), V)
        nll += float(F.cross_entropy(logits.float(), torch.tensor(y), reduction="sum"))
        count += len(y)
    return math.exp(nll / count)

# %% [markdown]
# The check for Exercise 4: replace `None` by your function. It trains a small BPE on a few hundred training turns (a second or so; no checkpoint is needed), tokenizes the first test pairs with it, and compares your perplexity of their responses under a small untrained model with `valid_perplexity`'s; with `None` the cell checks the reference answer. Untrained, the model is no better than a guess over its vocabulary: notebook 04 explains why its perplexity lands above the vocabulary size $V$, printed beside it.

# %%
from minimass.model import ModelConfig, Seq2Seq
from minimass.tokenizer import Tokenizer

your_ppl = None  # Exercise 4: a function (model, pairs of id lists) -> perplexity of the responses


def check_ppl(ppl_fn):
    small = Tokenizer.train([t for p in SPLITS.train[:300] for t in p], vocab_size=500)
    ids = [small.encode([p[i] for p in TEST[:40]]) for i in (0, 1)]
    pairs = [(x, y) for x, y in zip(*ids) if max(len(x), len(y)) <= 176]  # the 175-token limit
    torch.manual_seed(SEED)
    model = Seq2Seq(ModelConfig(vocab_size=small.vocab_size, d_model=64, n_heads=2, d_ff=128,
                                n_enc_layers=1, n_dec_layers=1)).eval()
    task = Task("mt", pairs, lang=lang_id("en"), src_lang=lang_id("en"), valid=pairs)
    want = valid_perplexity(model, task, train_config(PRESET, FT))
    got = ppl_fn(model, pairs)
    assert math.isclose(got, want, rel_tol=1e-4), (got, want)
    return (f"{len(pairs)} test pairs, {sum(len(y) for _, y in pairs)} response tokens: perplexity "
            f"{got:.1f}, valid_perplexity says {want:.1f} (V = {small.vocab_size})")


print(check_ppl(your_ppl or reference_ppl))
