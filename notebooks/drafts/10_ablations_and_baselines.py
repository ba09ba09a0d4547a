# %% [markdown]
# # 10 · Ablations and baselines: Discrete and Feed (Table 6), BERT+LM and DAE (Table 3)
#
# *Are MASS's two design choices, a contiguous fragment and a decoder fed only the fragment, what makes it work, and does it beat the pre-training objectives that came before it on unsupervised translation?*

# %% [markdown]
# ## What you will learn
#
# - What MASS's two design choices are (Sec. 4.5): a contiguous fragment rather than scattered tokens (**Discrete**), and a decoder that reads only the fragment rather than every previous token (**Feed**), and what the two earlier objectives it is compared with do (Sec. 4.2): **BERT+LM** (a masked LM for the encoder, a causal LM for the decoder) and **DAE** (rebuild the sentence from a noised copy).
# - How each objective builds its batch in the package: `masking.mass_mask` with `mode="discrete"` or `"feed"`, `mlm_mask` and `clm_batch`, and `dae_noise` (their source is printed below, under the paper's words), and how notebook 05's back-translation (`Trainer.back_translate`, printed too) fine-tunes every one of them the same way.
# - How to test the paper's explanation for Feed directly: how much each decoder's predictions depend on what the encoder says, measured on the pre-trained models before any fine-tuning.
# - How the one rule of every notebook (`lab.compare`) calls Table 6's and Table 3's claims from the seeds, beside trivial baselines and each system's distinct outputs, and why equal pre-training steps for every objective matter more here than more steps for one.
# - How Feed's decoder input differs from MASS's, built by hand (Exercise 4, checked in the last cell against `mass_mask`).

# %% [markdown]
# ## The paper's claims
#
# **Table 6** (Sec. 4.5, unsupervised en-fr BLEU): **Discrete** masks k positions drawn at random instead of one fragment; **Feed** feeds the decoder all previous tokens instead of `[M]` outside the fragment. "Both Discrete and Feed perform worse than MASS": Discrete 36.9, Feed 35.3, MASS 37.5. The paper's reason for Feed: MASS masks the decoder's input where the encoder sees the tokens, "to encourage the decoder to extract more useful information from the encoder side, rather than leveraging the abundant information from the previous tokens".
#
# **Table 3** (Sec. 4.2, unsupervised NMT BLEU; BERT+LM = XLM's MLM+CLM):
#
# | Method | en-fr | fr-en | en-de | de-en | en-ro | ro-en |
# |---|---|---|---|---|---|---|
# | BERT+LM | 33.4 | 32.3 | 24.9 | 32.9 | 31.7 | 30.4 |
# | DAE | 30.1 | 28.3 | 20.9 | 27.5 | 28.8 | 27.6 |
# | MASS | 37.5 | 34.9 | 28.3 | 35.2 | 35.2 | 33.1 |
#
# "BERT+LM achieves higher BLEU score than DAE, and MASS outperforms both BERT+LM and DAE on all the unsupervised translation pairs."
#
# ## What we run instead, and why
#
# - **Pre-training.** Five objectives on the same disjoint en / fr Bible books with the same batches, model and steps: MASS, Discrete, Feed (`TrainConfig.mask_mode`), BERT+LM (MLM for the encoder, causal LM for the decoder, in turn) and DAE (XLM's noise). At `cpu`, 1,000 steps each (MASS is notebook 04's run; notebook 11 reuses all five), each trained when missing. That is a fifth of the 5,000 steps notebook 05's MASS model had; equal steps for every objective matter more here than more steps for one.
# - **Fine-tuning.** Back-translation only, en->fr->en and fr->en->fr in turn, from each checkpoint with the same stopping rule and seeds (notebook 05's recipe, `lab.bt_record`): each run stops when the perplexity of the real Mark pairs (both directions' geometric mean) has not improved for `patience` validations, or at a `max_steps` cap, and its best checkpoint is scored. The paper fine-tuned the baselines with XLM's DAE loss + back-translation; we give every system the same fine-tuning so that only the pre-training differs.
# - **Measures.** BLEU and chrF of greedy translations of Matthew, and the perplexity of the real Matthew translations, in both directions. Notebook 05 found that at this scale BLEU stays near zero and test perplexity is what moves; it is the main measure here. Beside the systems: two trivial baselines (copy the source; the most frequent training verse) and each system's distinct outputs. Seeds per system: 2 at `cpu` (3 at `gpu`); they vary back-translation only, since each objective is pre-trained once. Every claim is called by the one rule of `notebooks/lab.py` (Welch's t-test over seeds at p < 0.05; `at floor` when both systems compared have mean BLEU under 1 (BLEU claims) or outputs that hardly depend on the input, under 20% distinct (any measure)).
# - **The decoder's reliance on the encoder**, the paper's explanation for Feed, measured directly on the pre-trained models: the perplexity of each model's own pre-training targets on held-out Mark verses with the true encoder output, with the encoder output of another sentence, and with zeros.
# - **Budget.** The seeds are cut to 2 per system at `cpu` (10 back-translation runs) to fit about 3 CPU-hours; the steps are not cut. The cell after the runs prints their training time from the logs. Every run is recorded in `results/10_ablations_and_baselines/`, so the notebook runs in pieces. At `gpu`, Table 3 runs all three language pairs.

# %%
import minimass
import lab

PRESET = minimass.preset()
# pre_steps: pre-training steps of every objective; bt: back-translation overrides; n_test:
# Matthew pairs scored; n_rel: Mark verses per language for the reliance measure; pairs: language
# pairs of Table 3.
SIZES = {"smoke": dict(pre_steps=60, seeds=[0, 1], n_test=30, n_rel=50, pairs=[("en", "fr")],
                       bt={"max_steps": 10, "eval_every": 5, "save_every": 5, "warmup": 1,
                           "patience": 1}),
         "cpu": dict(pre_steps=1000, seeds=[0, 1], n_test=200, n_rel=300, pairs=[("en", "fr")],
                     bt={"max_steps": 1000, "eval_every": 50, "save_every": 50, "warmup": 20,
                         "patience": 3}),
         "gpu": dict(pre_steps=None, seeds=[0, 1, 2], n_test=None, n_rel=1000,
                     pairs=[("en", "fr"), ("en", "de"), ("en", "ro")],
                     bt={"max_steps": 30000, "eval_every": 2000, "save_every": 2000,
                         "warmup": 800, "patience": 3})}[PRESET]
SEED = 0
BT = SIZES["bt"]
# warm-up at most 10% of the shortest run
lab.check_warmup(BT)
print(PRESET, SIZES)

# %%
import functools
import math
import time
from statistics import mean, stdev

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from minimass import data
from minimass.data import batch_indices, example_len
from lab import paired_bootstrap
from minimass.tokenizer import PAD, lang_id
from minimass.trainer import Task, load_checkpoint, make_batch, train_config

torch.manual_seed(SEED)
plt.rcParams.update({"figure.dpi": 90, "font.size": 9})
T0 = time.time()

# %% [markdown]
# ## The pre-trained models
#
# `lab.pretrained_when_needed(objectives, langs, k, mode, ...)` names each recipe's checkpoint at once (the records cite that name) and calls `recipes.pretrained()`, which trains it only when it is missing, the first time an unrecorded run needs it: with every run recorded, this notebook trains nothing.

# %%
# NBVAL_IGNORE_OUTPUT
RECIPES = {"mass": dict(objectives=("mass",)),
           "discrete": dict(objectives=("mass",), mode="discrete"),
           "feed": dict(objectives=("mass",), mode="feed"),
           "bert+lm": dict(objectives=("mlm", "clm")),
           "dae": dict(objectives=("dae",))}
SYSTEMS = list(RECIPES)
CKPT = {}  # (name, get): the run-folder name now, the checkpoint only for a run not recorded
for pair in SIZES["pairs"]:  # Table 6 is en-fr only; Table 3 has every pair
    for name in SYSTEMS if pair == ("en", "fr") else ("mass", "bert+lm", "dae"):
        CKPT[name, pair] = lab.pretrained_when_needed(langs=pair, preset_name=PRESET, seed=SEED,
                                                      steps=SIZES["pre_steps"], **RECIPES[name])
for (name, pair), (ckpt, _) in CKPT.items():
    print(f"{name:9s} {'-'.join(pair)}  {ckpt}")

# %% [markdown]
# ### The objectives, in code
#
# Sec. 4.5: "(1) We mask consecutive tokens in the encoder side, and thus predict consecutive tokens in the decoder side ... (2) We mask the input tokens of the decoder which are not masked in the encoder side ... to encourage the decoder to extract more useful information from the encoder side, rather than leveraging the abundant information from the previous tokens." Discrete undoes (1), Feed undoes (2). In `mass_mask` below, `mode="discrete"` draws k positions with `randperm` instead of one start `u`, and `mode="feed"` gives the decoder `s[: where[-1]]`, every token before the fragment's end, while the loss stays on the fragment (`PAD` elsewhere in the target).

# %%
import inspect

from minimass.masking import clm_batch, dae_noise, mass_mask, mlm_mask
from minimass.trainer import Trainer

print(inspect.getsource(mass_mask))

# %% [markdown]
# Sec. 4.2: "The first baseline is BERT+LM, which use masked language modeling in BERT to pre-train the encoder and the standard language modeling to pre-train the decoder. The second baseline is DAE, which simply uses denoising auto-encoder ... to pre-train the encoder and decoder." BERT+LM's two batches train the two halves apart (`mlm_mask` has no decoder input, `clm_batch` no encoder input); the trainer alternates them. DAE's decoder rebuilds the whole clean sentence from a locally shuffled, dropped and blanked copy, so most of what it must write is in its encoder's input, which is the paper's reason for DAE's weakness: "the decoder can still easily learn to copy the unmasked tokens".

# %%
for fn in (mlm_mask, clm_batch, dae_noise):
    print(inspect.getsource(fn))

# %% [markdown]
# Every pre-trained model is then fine-tuned by back-translation alone (notebook 05's recipe): the model translates a batch of monolingual sentences without gradients, and the (translation, original) pairs train it to translate back.

# %%
print(inspect.getsource(Trainer.back_translate))

# %% [markdown]
# ## Back-translation from each checkpoint
#
# Each run is notebook 05's recipe, `lab.bt_record`: back-translation until it converges, then the test scores of its best checkpoint. A recorded run is loaded, not repeated.

# %%
# one tokenizer per pair (MASS's), loaded only when a run is not recorded
TOK = {pair: functools.cache(lambda get=CKPT["mass", pair][1]: load_checkpoint(get())[1])
       for pair in SIZES["pairs"]}


def run_bt(name, seed, pair=("en", "fr")):
    """One recorded back-translation run (`lab.bt_record`) from objective `name`'s checkpoint."""
    ckpt, get = CKPT[name, pair]
    return lab.bt_record("10_ablations_and_baselines", name, get, TOK[pair], pair, seed, PRESET,
                         BT, SIZES["n_test"], ckpt)

# %%
# NBVAL_IGNORE_OUTPUT
res = {(name, pair, seed): run_bt(name, seed, pair) for (name, pair) in CKPT
       for seed in SIZES["seeds"]}
budget = [k for k, r in res.items() if r["stopped"] != "converged"]
print(f"{len(res)} runs: {sum(r['train_s'] for r in res.values()) / 60:.0f} min of "
      f"back-translation training (from the run logs); {len(budget)} stopped on budget: {budget}")
for (name, pair, seed), r in res.items():
    print(f"{name:9s} {'-'.join(pair)} seed {seed}: best_step {r['best_step']:5d}, "
          f"last_step {r['last_step']:5d}, {r['stopped']}")

# %% [markdown]
# ## Table 6 and Table 3 beside ours
#
# Mean ± standard deviation over seeds, each system's distinct outputs (mean over seeds) and `best_step`; a `!` marks a system with a run that stopped on budget. The paper's BLEU beside ours; the trivial baselines under each direction. Lower test perplexity is better.

# %%
PAPER6 = {"discrete": 36.9, "feed": 35.3, "mass": 37.5}
PAPER3 = {"bert+lm": {"en-fr": 33.4, "fr-en": 32.3, "en-de": 24.9, "de-en": 32.9, "en-ro": 31.7,
                      "ro-en": 30.4},
          "dae": {"en-fr": 30.1, "fr-en": 28.3, "en-de": 20.9, "de-en": 27.5, "en-ro": 28.8,
                  "ro-en": 27.6},
          "mass": {"en-fr": 37.5, "fr-en": 34.9, "en-de": 28.3, "de-en": 35.2, "en-ro": 35.2,
                   "ro-en": 33.1}}


TRIVIAL = {}
for pair in SIZES["pairs"]:
    sp = data.unsupervised(*pair, seed=SEED)
    for d, (i, j) in (("-".join(pair), (0, 1)), ("-".join(pair[::-1]), (1, 0))):
        test_d = sp.test[: SIZES["n_test"]]
        outs = lab.trivial_baselines([p[i] for p in test_d], sp.train[pair[j]])
        TRIVIAL["-".join(pair), d] = {k: lab.score_outputs(v, [p[j] for p in test_d])
                                      for k, v in outs.items()}


def stats(name, pair, d, key):
    v = [res[name, pair, s][d][key] for s in SIZES["seeds"]]
    return mean(v), (stdev(v) if len(v) > 1 else 0.0)

# %%
# NBVAL_IGNORE_OUTPUT
for table, names in (("Table 6", ("discrete", "feed", "mass")),
                     ("Table 3", ("bert+lm", "dae", "mass"))):
    print(f"{table}: {'system':9s} {'dir':6s} {'BLEU':>13s} {'chrF':>13s} {'test ppl':>15s} "
          f"{'distinct':>8s} {'best_step':>9s}   paper BLEU")
    for pair in SIZES["pairs"] if table == "Table 3" else [("en", "fr")]:
        for d in ("-".join(pair), "-".join(pair[::-1])):
            for name in names:
                if (name, pair) not in CKPT:
                    continue
                cells = "  ".join("{:6.2f} ± {:4.2f}".format(*stats(name, pair, d, k))
                                  for k in ("bleu", "chrf"))
                paper = (PAPER6.get(name) if table == "Table 6" and d == "en-fr"
                         else PAPER3.get(name, {}).get(d, ""))
                rs = [res[name, pair, s] for s in SIZES["seeds"]]
                flag = "!" if any(r["stopped"] != "converged" for r in rs) else " "
                print(f"{'':9s}{name:9s} {d:6s} {cells}  "
                      f"{'{:7.1f} ± {:5.1f}'.format(*stats(name, pair, d, 'test_ppl'))}"
                      f" {mean(r[d]['distinct'] for r in rs):8.0f} "
                      f"{mean(r['best_step'] for r in rs):9.0f}{flag}  "
                      f"{paper if table == 'Table 3' or d == 'en-fr' else ''}")
            for base, r in TRIVIAL["-".join(pair), d].items():
                print(f"{'':9s}{base + ' *':9s} {d:6s} {r['bleu']:6.2f}{'':9s}{r['chrf']:6.2f}"
                      f"{'':24s} {r['distinct']:8d}")
    print()
print("* trivial baselines: copy = the source as output; constant = the most frequent training "
      "verse")

# %% [markdown]
# ## Back-translation curves
#
# The perplexity of the real Mark translations (fr->en) while back-translating, seed 0; each curve ends where its run stopped, and the dotted line marks its best step.

# %%
fig, ax = plt.subplots(figsize=(5, 3))
for name, color in zip(SYSTEMS, ("C0", "C1", "C2", "C3", "C4")):
    r = res[name, ("en", "fr"), SIZES["seeds"][0]]  # seed 0: runs may stop at different steps
    ax.plot([c["step"] for c in r["curve"]], [c["valid_ppl/bt-fr-en"] for c in r["curve"]], "-o",
            ms=3, color=color, label=name)
    ax.axvline(r["best_step"], color=color, ls=":", lw=1)
ax.set_yscale("log")
ax.set_xlabel("back-translation step")
ax.set_ylabel("valid ppl (fr->en, real pairs)")
ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Example translations
#
# Seed 0, en->fr, each system after back-translation.

# %%
# NBVAL_IGNORE_OUTPUT
test = data.unsupervised("en", "fr", seed=SEED).test[: SIZES["n_test"]]
for k in (0, 5):
    print(f"source:    {test[k][0]}\nreference: {test[k][1]}")
    for name in SYSTEMS:
        print(f"  {name:9s} {res[name, ('en', 'fr'), SIZES['seeds'][0]]['en-fr']['hyps'][k]}")
    print()

# %% [markdown]
# ## Does the decoder use the encoder? (the reason the paper gives for Feed)
#
# For each pre-trained model, the perplexity of its own pre-training targets (MASS's fragment, Discrete's positions, Feed's fragment after the full prefix, DAE's whole sentence) on held-out Mark verses, three ways: with the true encoder output, with the encoder output of another sentence of the batch, and with zeros in its place. The ratio wrong / true is how much the decoder's predictions depend on what the encoder says. BERT+LM has no such number: its decoder was trained without an encoder.

# %%
OBJECTIVE = {"mass": ("mass", "mass"), "discrete": ("mass", "discrete"), "feed": ("mass", "feed"),
             "dae": ("dae", "mass")}


@torch.no_grad()
def reliance(model, tok, objective, mode, sents, lang):
    """Perplexity of the objective's targets with the true, another sentence's, and a zero encoder
    output."""
    model.eval()
    cfg = train_config(PRESET, {"mask_mode": mode})
    ids = tok.encode(sents)
    task = Task(objective, ids, lang=lang_id(lang), valid=ids)
    nll, n = dict.fromkeys(("true", "other", "zeros"), 0.0), 0
    for k, idx in enumerate(batch_indices([example_len(x) for x in ids], cfg.max_tokens, 0)):
        b = make_batch(task, [ids[j] for j in idx], cfg, model.cfg.vocab_size,
                       torch.Generator().manual_seed(10_007 + k))
        memory, mask = model.encode(b.src, b.src_lang)
        keep = b.target != PAD
        for name, (mem, msk) in {"true": (memory, mask),
                                 "other": (memory.roll(1, 0), mask.roll(1, 0)),
                                 "zeros": (torch.zeros_like(memory), mask)}.items():
            h = model.decode(b.dec_in, b.tgt_lang, mem, msk, b.positions, project=False)
            nll[name] += float(F.cross_entropy(model.project(h[keep]).float(), b.target[keep],
                                               reduction="sum"))
        n += int(keep.sum())
    return {name: math.exp(v / n) for name, v in nll.items()}

# %%
mark = data.unsupervised("en", "fr", seed=SEED).valid[: SIZES["n_rel"]]


def measure_reliance(name, objective, mode):
    model, tok, _ = load_checkpoint(CKPT[name, ("en", "fr")][1]())
    return {lg: reliance(model, tok, objective, mode, [p[i] for p in mark], lg)
            for i, lg in enumerate(("en", "fr"))}


REL = {name: lab.run_once("10_ablations_and_baselines",
                          lambda a=(name, objective, mode): measure_reliance(*a), PRESET, SEED,
                          {"measure": "reliance", "pretrain": CKPT[name, ("en", "fr")][0],
                           "objective": objective, "mode": mode, "n_rel": len(mark)})
       for name, (objective, mode) in OBJECTIVE.items()}

# %%
# NBVAL_IGNORE_OUTPUT
print(f"{'model':9s} {'lang':4s} {'true enc':>9s} {'other':>9s} {'zeros':>9s} {'other/true':>11s} "
      f"{'zeros/true':>11s}")
for name, r in REL.items():
    for lg, v in r.items():
        print(f"{name:9s} {lg:4s} {v['true']:9.1f} {v['other']:9.1f} {v['zeros']:9.1f} "
              f"{v['other'] / v['true']:11.2f} {v['zeros'] / v['true']:11.2f}")

# %% [markdown]
# ## Verdict
#
# Each claim "A beats B" is called by `lab.compare` over the seeds, on test perplexity (the measure that moves at this scale), chrF and BLEU, in both en-fr directions; a claim is at floor where both systems' mean BLEU is under 1 (BLEU) or both systems' outputs hardly depend on the input (under 20% distinct, any measure). `lab.overall` joins a claim's directions. The paired bootstrap over test verses is printed for seed 0 beside it.

# %%
test = data.unsupervised("en", "fr", seed=SEED).test[: SIZES["n_test"]]
refs = {"en-fr": [p[1] for p in test], "fr-en": [p[0] for p in test]}
LOWER, MEASURE = ({"test_ppl": True, "chrf": False, "bleu": False},
                  {"test_ppl": "test ppl", "chrf": "chrF", "bleu": "BLEU"})
pair, claims = ("en", "fr"), []
for claim, (a, b), where in (("MASS beats Discrete", ("mass", "discrete"), "Table 6"),
                             ("MASS beats Feed", ("mass", "feed"), "Table 6"),
                             ("MASS beats BERT+LM", ("mass", "bert+lm"), "Table 3"),
                             ("MASS beats DAE", ("mass", "dae"), "Table 3"),
                             ("BERT+LM beats DAE", ("bert+lm", "dae"), "Table 3")):
    for key in LOWER:
        per_dir = []
        for d in ("en-fr", "fr-en"):
            va, vb = ([res[n, pair, s][d][key] for s in SIZES["seeds"]] for n in (a, b))
            floor = all(lab.at_floor(key, mean([res[n, pair, s][d][key] for s in SIZES["seeds"]]),
                                     res[n, pair, SIZES["seeds"][0]][d]["hyps"]) for n in (a, b))
            per_dir.append(lab.compare(va, vb, LOWER[key], floor))
            boot = paired_bootstrap(res[b, pair, SIZES["seeds"][0]][d]["hyps"],
                                    res[a, pair, SIZES["seeds"][0]][d]["hyps"],
                                    refs[d])["chrF"] if key == "chrf" else None
            print(f"{where} {claim}, {d}, {MEASURE[key]}: delta {per_dir[-1]['delta']:+.2f}, "
                  f"p {per_dir[-1]['p']}, {per_dir[-1]['verdict']}"
                  + (f" (seed-0 bootstrap p {boot['p_value']:.3f})" if boot else ""))
        claims.append(lab.claim(f"{claim} on en-fr and fr-en", where, MEASURE[key],
                                lab.overall([c["verdict"] for c in per_dir]),
                                mean(c["delta"] for c in per_dir),
                                max(1.0 if c["p"] is None else c["p"] for c in per_dir),
                                len(SIZES["seeds"]), "back-translation"))

# %%
rel = {name: mean(REL[name][lg]["zeros"] / REL[name][lg]["true"] for lg in ("en", "fr"))
       for name in REL}
print(f"\nReliance on the encoder, Feed against MASS (zeros/true perplexity ratio, one "
      f"pre-training each): Feed {rel['feed']:.2f}, MASS {rel['mass']:.2f}")
for c in claims:
    print(f"{c['where']}: {c['claim']} ({c['measure']}): {c['verdict']} (delta {c['delta']}, "
          f"p {c['p']})")

# %%
def ours_row(names):
    return "; ".join(f"{n}: test ppl "
                     f"{mean(res[n, pair, s][d]['test_ppl'] for s in SIZES['seeds']):.0f}, chrF "
                     f"{mean(res[n, pair, s][d]['chrf'] for s in SIZES['seeds']):.1f}, BLEU "
                     f"{mean(res[n, pair, s][d]['bleu'] for s in SIZES['seeds']):.2f} ({d})"
                     for n in names for d in ("en-fr", "fr-en"))


summary = {"claims": claims,
           "paper": {"Table 6": "en-fr BLEU: MASS 37.5, Discrete 36.9, Feed 35.3",
                     "Table 3": "BLEU en-fr / fr-en: MASS 37.5 / 34.9, BERT+LM 33.4 / 32.3, "
                                "DAE 30.1 / 28.3"},
           "ours": {"Table 6": ours_row(("mass", "discrete", "feed")),
                    "Table 3": ours_row(("mass", "bert+lm", "dae"))},
           "seeds": SIZES["seeds"], "bt": BT, "pre_steps": SIZES["pre_steps"], "reliance": REL,
           "trivial": {f"{k[0]} {k[1]}": v for k, v in TRIVIAL.items()},
           "runs": {f"{n} {'-'.join(p)} {s}": {k: r[k] for k in ("best_step", "last_step",
                                                                  "stopped")}
                    for (n, p, s), r in res.items()},
           "pretrained": {f"{n} {'-'.join(p)}": c[0] for (n, p), c in CKPT.items()},
           "table": {f"{n} {'-'.join(p)}": {d: {k: [res[n, p, s][d][k] for s in SIZES["seeds"]]
                                                for k in ("bleu", "chrf", "test_ppl", "distinct")}
                                            for d in ("-".join(p), "-".join(p[::-1]))}
                     for (n, p) in CKPT},
           "n_test": SIZES["n_test"], "notebook_wall_s": time.time() - T0}
DATA = ("Bible, data.unsupervised: disjoint en / fr books for pre-training and back-translation; "
        "test Matthew")
path = lab.save_results("10_ablations_and_baselines", summary, PRESET, SEED, data=DATA)
print("recorded" if path.parent.name == "results" else "smoke: written to a temporary folder")

# %% [markdown]
# ## What we found
#
# To be written from the `cpu` outputs above once they are recorded (this draft has none yet).
#
# ## Summary
#
# - Discrete and Feed change one design choice of MASS each: which tokens are masked (scattered, not contiguous), and what the decoder reads (the whole prefix, not only the fragment). BERT+LM and DAE are the pre-training objectives MASS was compared with.
# - Every system here has the same data, model, pre-training steps, back-translation stopping rule and seeds; only the objective differs.
# - The reliance measure tests the paper's explanation directly, on the pre-trained models, before any fine-tuning.
#
# ## Exercises
#
# 1. Score every model on the MASS objective (`OBJECTIVE[name] = ("mass", "mass")`) instead of its own. Which decoder makes the most use of the encoder when the task is the same for all?
#    *Hint:* only the reliance cell changes; the BERT+LM decoder still has no number, since it never learned to read an encoder.
# 2. Continue all five pre-trainings to 5,000 steps (`SIZES["pre_steps"]`; `pretrained()` continues the 1,000-step runs). Does the order of the systems change?
#    *Hint:* the back-translation records name their checkpoint, so new pre-training steps give new records, not the recorded ones; budget about 2 CPU-hours per objective at `cpu`.
# 3. Add XLM's denoising loss to back-translation for BERT+LM and DAE, as the paper did (a `dae` task beside the `bt` tasks). Does it close their gap to MASS?
#    *Hint:* `recipes.back_translation` builds the two `bt` tasks; a `Task("dae", mono, lang=...)` per language added to its list trains the denoising loss in turn with them.
# 4. **(checkable)** Write Feed's decoder input and target for one sentence `s` (a list of ids) and the fragment `s[u:u + k]`: the input starts with `[M]` (id 4) and then reads every token before the fragment's last one; the target holds the fragment's tokens at their positions and `PAD` (id 0) before them. The cell after the next checks your function against `mass_mask(..., mode="feed")`.
#    *Hint:* both lists have `u + k` entries.

# %%
from minimass.tokenizer import MASK


def reference_feed(s, u, k):
    # Exercise 4: Feed's decoder input and target for the fragment s[u:u + k].
    dec_in = [MASK] + s[: u + k - 1]
    target = [s[t] if t >= u else PAD for t in range(u + k)]
    return dec_in, target

# %% [markdown]
# The check for Exercise 4: replace `None` by your function. It compares it with `mass_mask(mode="feed")` on Fig. 1's sentence and on 200 random ones (every token masked by `[M]` in the encoder, so only the decoder side differs); it trains nothing.

# %%
import random

from minimass.masking import fragment_length

your_feed = None  # Exercise 4: a function (s, u, k) -> (decoder input, target)


def check_feed(fn):
    rng, cases = random.Random(0), [(list(range(11, 19)), 2)]  # Fig. 1: x1..x8, fragment x3..x6
    for _ in range(200):
        s = [rng.randrange(5, 100) for _ in range(rng.randrange(1, 30))]
        cases.append((s, rng.randrange(len(s) - fragment_length(len(s), 0.5) + 1)))
    for s, u in cases:
        b = mass_mask([s], vocab_size=100, mode="feed", starts=[u], probs=(1, 0, 0))
        want = (b.dec_in[0].tolist(), b.target[0].tolist())
        assert fn(s, u, fragment_length(len(s), 0.5)) == want, (s, u, want)
    return (f"Feed's decoder side as mass_mask builds it, for {len(cases)} sentences; Fig. 1's: "
            f"{want_fig1()}")


def want_fig1():
    b = mass_mask([list(range(11, 19))], vocab_size=100, mode="feed", starts=[2], probs=(1, 0, 0))
    return f"decoder input {b.dec_in[0].tolist()}, target {b.target[0].tolist()}"


print(check_feed(your_feed or reference_feed))
