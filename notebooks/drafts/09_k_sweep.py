# %% [markdown]
# # 09 · The fragment length k (Sec. 4.5, Fig. 5)
#
# *How long should the masked fragment be? The paper sweeps k from one token (BERT's masked LM) to the whole sentence (a language model) and finds the best near half the sentence.*

# %% [markdown]
# ## The paper's claim
#
# Sec. 4.5: k is varied "from 10% to 90% percentage of the sentence length m with a step size of 10%, plus with k = 1 and k = m", and Fig. 5 plots, against k:
#
# - (a, b) the perplexity of the pre-trained model on English and on French validation sentences (newstest2013): "the pre-trained model achieves the best validation PPL when k is between 50% and 70% of the sentence length m";
# - (c) the validation BLEU of unsupervised en-fr translation, (d) the validation ROUGE-2 F1 of summarization, (e) the validation perplexity of response generation: "MASS achieves best performance on these downstream tasks when k is nearly 50% of the sentence length m". "Neither k = 1 nor k = m can achieve good performance."
#
# The figure's values are not printed in the text; we compare the shape: where the best k lies, and whether the two ends are worse.
#
# ## What we run instead, and why
#
# - **Eleven pre-trainings**, everything equal but `mask_ratio` (k = round(ratio * m), at least 1): ratio 0 gives k = 1, ratio 1 gives k = m. At `cpu`, 500 steps each on the en+fr Bible books, about 8 minutes each on 2 cores (half the steps of the other notebooks' checkpoints, so that eleven of them fit in about 1.5 hours; notebook 04's 1,000-step run is therefore not reused). `recipes.pretrained()` keeps every finished checkpoint in the run cache and resumes an interrupted one, and `run_once` records each measured point in `results/09_k_sweep/`, so the notebook runs in pieces: stop it at any time and run it again.
# - At k = m, 80% of the encoder's tokens are `[M]`, 10% random and 10% unchanged (Sec. 4.1's replacement), so the encoder is not quite empty; at k = 1 the decoder reads only `[M]`.
# - **(a, b) which k scores the perplexity?** A model's loss on its own k measures a different task at each k (predicting one token from the whole sentence is easier than predicting the whole sentence from nothing), so that curve is U-shaped by construction. We show both: each model on its own k, and every model on the same task, k = 50%, which compares the models rather than the tasks. Both are cheap.
# - **Downstream, shortened to fit** (validation sets throughout, as the paper's Fig. 5; the test sets are not used): (c) 50 back-translation steps (notebook 05 ran 500) and the greedy BLEU and chrF of Mark, with the perplexity of the real Mark translations beside them; (d) 100 fine-tuning steps on BBC lead -> headline and ROUGE-2 of beam-5 headlines (length penalty 1, no repeated trigram, fixed in advance), with the perplexity of the real headlines beside it, since notebook 07 found ROUGE near zero at this scale; (e) 100 fine-tuning steps on chit-chat and the perplexity of the validation responses.
# - **Noise.** At k = 50% the downstream runs are repeated with 3 seeds, so the spread between seeds is visible beside the differences between k.

# %%
import minimass

PRESET = minimass.preset()
# ks: mask ratios (0 -> k = 1 token, 1 -> k = m); pre_steps: pre-training steps per k; bt / ft: fine-tuning
# overrides; n_valid: validation examples scored; noise_seeds: seeds of the repeated runs at k = 50%.
SIZES = {"smoke": dict(ks=[0.0, 0.5, 1.0], pre_steps=60, n_valid=30, noise_seeds=[1],
                       bt={"max_steps": 8, "eval_every": 8, "save_every": 8},
                       ft={"max_steps": 8, "eval_every": 4, "save_every": 8, "max_tokens": 1000, "warmup": 4}),
         "cpu": dict(ks=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], pre_steps=500, n_valid=200,
                     noise_seeds=[1, 2], bt={"max_steps": 50, "eval_every": 25, "save_every": 50},
                     ft={"max_steps": 100, "eval_every": 25, "save_every": 100, "max_tokens": 1000, "warmup": 50}),
         "gpu": dict(ks=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], pre_steps=None, n_valid=None,
                     noise_seeds=[1, 2], bt={"max_steps": 10000, "eval_every": 2000, "save_every": 2000},
                     ft={"max_steps": 3000, "eval_every": 250, "save_every": 3000})}[PRESET]
SEED = 0
print(PRESET, SIZES)

# %%
import time
from statistics import mean, stdev

import matplotlib.pyplot as plt
import torch

from minimass import data
from minimass.metrics import bleu, chrf, rouge
from minimass.recipes import back_translation, finetune, pretrained, run_once, runs_dir
from minimass.search import translate
from minimass.tokenizer import lang_id
from minimass.trainer import Task, load_checkpoint, read_log, train_config, valid_perplexity

torch.manual_seed(SEED)
plt.rcParams.update({"figure.dpi": 90, "font.size": 9})
T0 = time.time()
LABEL = {k: "1" if k == 0 else "m" if k == 1 else f"{k:.0%}" for k in SIZES["ks"]}
MARK = data.unsupervised("en", "fr", seed=SEED).valid[: SIZES["n_valid"]]
BBC = data.summarization("bbc", seed=SEED).valid[: SIZES["n_valid"]]
CHAT = data.dialogue("chitchat", seed=SEED).valid[: SIZES["n_valid"]]

# %% [markdown]
# ## The measures, one function each

# %%
def pair_ppl(model, tok, pairs, src, tgt):
    """Perplexity of the real targets of (source, target) pairs under the model (teacher-forced)."""
    ids = list(zip(tok.encode([p[0] for p in pairs]), tok.encode([p[1] for p in pairs])))
    ids = [(x, y) for x, y in ids if max(len(x), len(y)) <= data.MAX_LEN + 1]
    return valid_perplexity(model.eval(), Task("mt", ids, lang=lang_id(tgt), src_lang=lang_id(src), valid=ids),
                            train_config(PRESET))


def pretraining(k):
    """(a, b): Mark perplexity of the MASS objective, at the model's own k and at k = 50%."""
    model, tok, _ = load_checkpoint(CKPT[k])
    out = {}
    for i, lg in enumerate(("en", "fr")):
        ids = tok.encode([p[i] for p in MARK])
        task = Task("mass", ids, lang=lang_id(lg), valid=ids)
        for name, ratio in (("own", k), ("k50", 0.5)):
            out[f"{name}_{lg}"] = valid_perplexity(model.eval(), task, train_config(PRESET, {"mask_ratio": ratio}))
    return out


def unsupervised(k, seed):
    """(c): back-translation, then greedy BLEU / chrF and real-pair perplexity on Mark, both directions."""
    run = runs_dir() / f"09_bt-k{k:g}_{PRESET}_seed{seed}"
    tr = back_translation(run, CKPT[k], "en", "fr", PRESET, SIZES["bt"], seed)
    out = {}
    for src, tgt, i, j in (("en", "fr", 0, 1), ("fr", "en", 1, 0)):
        hyps, refs = translate(tr.model, tr.tokenizer, [p[i] for p in MARK], src, tgt, beam=1), [p[j] for p in MARK]
        out[f"{src}-{tgt}"] = {"bleu": bleu(hyps, refs)["score"], "chrf": chrf(hyps, refs)["score"],
                               "ppl": pair_ppl(tr.model, tr.tokenizer, [(p[i], p[j]) for p in MARK], src, tgt)}
    return out


def summarization(k, seed):
    """(d): fine-tune on BBC lead -> headline; ROUGE of beam-5 headlines for the validation articles."""
    run = runs_dir() / f"09_sum-k{k:g}_{PRESET}_seed{seed}"
    tr = finetune(run, CKPT[k], "en", "en", preset_name=PRESET, train_overrides=SIZES["ft"], seed=seed, corpus="bbc")
    hyps = translate(tr.model, tr.tokenizer, [p[0] for p in BBC], "en", "en", beam=5, no_repeat_ngram_size=3)
    return {**rouge(hyps, [p[1] for p in BBC]), "ppl": pair_ppl(tr.model, tr.tokenizer, BBC, "en", "en")}


def dialogue(k, seed):
    """(e): fine-tune on chit-chat; perplexity of the validation responses."""
    run = runs_dir() / f"09_chat-k{k:g}_{PRESET}_seed{seed}"
    tr = finetune(run, CKPT[k], "en", "en", preset_name=PRESET, train_overrides=SIZES["ft"], seed=seed,
                  corpus="chitchat")
    return {"ppl": pair_ppl(tr.model, tr.tokenizer, CHAT, "en", "en")}


# %% [markdown]
# ## The sweep
#
# One pre-training per k (trained only when missing), then the four measures, each recorded once per (k, seed). The cell prints which results it loaded from `results/09_k_sweep/` and when they were measured.

# %%
# NBVAL_IGNORE_OUTPUT
CKPT, res = {}, {}
MEASURES = {"pretraining": pretraining, "unsupervised": unsupervised, "summarization": summarization,
            "dialogue": dialogue}
for k in SIZES["ks"]:
    CKPT[k] = pretrained(k=k, preset_name=PRESET, seed=SEED, steps=SIZES["pre_steps"])
    for name, fn in MEASURES.items():
        seeds = [SEED] + (SIZES["noise_seeds"] if k == 0.5 and name != "pretraining" else [])
        for seed in seeds:
            recipe = {"measure": name, "k": k, "pretrain": CKPT[k].parent.name}
            if name != "pretraining":
                recipe["steps"] = SIZES["bt" if name == "unsupervised" else "ft"]["max_steps"]
            if name == "summarization":
                recipe["scores"] = "rouge+ppl"  # ROUGE, and the headline perplexity that moves at this scale (07)
            res[name, k, seed] = run_once("09_k_sweep", lambda f=fn, a=(k, seed)[: 1 if name == "pretraining" else 2]:
                                          f(*a), PRESET, seed, recipe)
    print(f"k = {LABEL[k]}: done ({(time.time() - T0) / 60:.1f} min so far)")

# %% [markdown]
# ## What the sweep cost
#
# The training time of every run, read from its log (tokens / tokens per second, summed). Runs that were trained outside this execution (in an earlier piece, or by a background job) count too; this execution's own wall time is printed beside it.

# %%
# NBVAL_IGNORE_OUTPUT
def train_minutes(run):
    """Training minutes of a run folder, from its log lines (tokens / tok_s)."""
    return sum(r["tokens"] / r["tok_s"] for r in read_log(run) if r.get("tok_s")) / 60


COST = {"pre-training": sum(train_minutes(c.parent) for c in CKPT.values()),
        "downstream": sum(train_minutes(p) for p in runs_dir().glob(f"09_*_{PRESET}_seed*"))}
print(", ".join(f"{k} {v / 60:.2f} h" for k, v in COST.items()) + f"; this execution {(time.time() - T0) / 60:.1f} min")


# %% [markdown]
# ## Fig. 5, ours
#
# One panel per measure, k on the x-axis; k = 1 (BERT-like) and k = m (LM-like) are marked. At k = 50% the grey bar spans the seeds' values.

# %%
def curve(name, get):
    return [get(res[name, k, SEED]) for k in SIZES["ks"]]


PANELS = [("(a) English ppl, own k", "pretraining", lambda r: r["own_en"], "log"),
          ("(a) English ppl, k = 50%", "pretraining", lambda r: r["k50_en"], "log"),
          ("(b) French ppl, own k", "pretraining", lambda r: r["own_fr"], "log"),
          ("(b) French ppl, k = 50%", "pretraining", lambda r: r["k50_fr"], "log"),
          ("(c) unsup. en-fr valid BLEU", "unsupervised", lambda r: r["en-fr"]["bleu"], "linear"),
          ("(c) unsup. en-fr valid chrF", "unsupervised", lambda r: r["en-fr"]["chrf"], "linear"),
          ("(c) unsup. en-fr real-pair ppl", "unsupervised", lambda r: r["en-fr"]["ppl"], "log"),
          ("(d) summarization valid ROUGE-2", "summarization", lambda r: r["rouge2"], "linear"),
          ("(d) summarization headline valid ppl", "summarization", lambda r: r["ppl"], "log"),
          ("(e) dialogue valid ppl", "dialogue", lambda r: r["ppl"], "log")]
xs = list(range(len(SIZES["ks"])))
fig, axes = plt.subplots(4, 3, figsize=(12, 10.5))
BEST = {}
for ax, (title, name, get, scale) in zip(axes.flat, PANELS):
    ys = curve(name, get)
    ax.plot(xs, ys, "-o", ms=4)
    for end in (0, len(xs) - 1):
        ax.plot([end], [ys[end]], "s", color="C3", ms=7)
    if 0.5 in SIZES["ks"] and name != "pretraining":
        vals = [get(res[name, 0.5, s]) for s in [SEED] + SIZES["noise_seeds"]]
        i = SIZES["ks"].index(0.5)
        ax.plot([i, i], [min(vals), max(vals)], color="grey", lw=4, alpha=0.5)
    lower_better = "ppl" in title
    BEST[title] = SIZES["ks"][(min if lower_better else max)(xs, key=lambda i: ys[i])]
    ax.set_xticks(xs, [LABEL[k] for k in SIZES["ks"]], fontsize=7)
    ax.set_yscale(scale)
    ax.set_title(title)
for ax in axes.flat[len(PANELS):]:
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Where the best k lies, against the paper's 50-70%
#
# Each panel's best k, and the spread between seeds at k = 50% beside the range of each downstream curve: a curve whose range is within that spread cannot place its best k.

# %%
# NBVAL_IGNORE_OUTPUT
verdict = {}
for title, name, get, _ in PANELS:
    ys = curve(name, get)
    best = BEST[title]
    line = f"best k = {LABEL[best]}"
    if name != "pretraining" and 0.5 in SIZES["ks"]:
        vals = [get(res[name, 0.5, s]) for s in [SEED] + SIZES["noise_seeds"]]
        line += f"; curve range {max(ys) - min(ys):.2f}, seed spread at 50% {max(vals) - min(vals):.2f}"
    ends_worse = all(ys[e] != (min(ys) if "ppl" in title else max(ys)) for e in (0, len(ys) - 1))
    verdict[title] = line + f"; k = 1 and k = m both worse than the best: {'yes' if ends_worse else 'no'}"
    verdict[title] += f"; best within 50-70%: {'yes' if 0.5 <= best <= 0.7 else 'no'}"
for title, v in verdict.items():
    print(f"{title}: {v}")

summary = {"verdict": verdict, "ks": SIZES["ks"], "pre_steps": SIZES["pre_steps"], "bt": SIZES["bt"],
           "ft": SIZES["ft"], "n_valid": SIZES["n_valid"], "noise_seeds": SIZES["noise_seeds"],
           "curves": {title: curve(name, get) for title, name, get, _ in PANELS},
           "pretrained": {LABEL[k]: c.parent.name for k, c in CKPT.items()}, "train_minutes": COST,
           "notebook_wall_s": time.time() - T0}
DATA = "Bible (pre-training, Mark for (a-c)), BBC valid (d), chit-chat valid (e); no test split is used"
path = minimass.save_results("09_k_sweep", summary, PRESET, SEED, data=DATA)
print("recorded" if path.parent.name == "results" else "smoke: written to a temporary folder")

# %% [markdown]
# ## Summary
#
# - k sets how the work is split between encoder and decoder: with k = 1 the decoder has nothing to model, with k = m the encoder has nothing to encode. Sec. 4.5 finds the best pre-training perplexity at k = 50-70% and the best downstream results near 50%.
# - Each k is a full pre-training, so the sweep is the most expensive experiment of the paper; `pretrained()` and `run_once` let it run in pieces.
# - Scored on its own k, the perplexity mixes the model with the difficulty of its task; scored at a common k = 50%, it compares the models.
#
# ## Exercises
#
# 1. Which k gives the lowest perplexity on the k = 50% task? Is it k = 50% itself, and why might it not be?
# 2. Repeat (c) with 500 back-translation steps for k = 10%, 50% and 90% only. Does the order change with longer fine-tuning?
# 3. Plot the fill-in accuracy of notebook 04 against k for the pre-trained models. Which k makes the best "fragment writer"?
