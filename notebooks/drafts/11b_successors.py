# %% [markdown]
# # 11, part B · MASS against its successors at equal compute
#
# *Draft: it needs `masking.text_infilling` and `masking.span_corruption` (`notebooks/drafts/issue-14-noise.patch`); once they are in the package, these cells join notebook 11 after part A.*
#
# BART's text infilling (Lewis et al., 2020) and T5's span corruption (Raffel et al., 2020) came after MASS. All three hide spans of a sentence from the encoder; they differ in what the decoder writes:
#
# | objective | encoder input | decoder writes | decoder length per sentence of m tokens |
# |---|---|---|---|
# | MASS (k = 50%) | one fragment of m/2 tokens replaced by `[M]` | the fragment | m/2 |
# | BART text infilling | spans (Poisson(3) lengths, 30% of tokens), each run replaced by one `[M]` | the whole sentence | m |
# | T5 span corruption | 15% of tokens in spans of mean length 3, each span replaced by a sentinel | the spans, each after its sentinel | about 0.15 m + 0.05 m + 1 |
#
# Equal steps would give BART's decoder twice MASS's work and T5's a third of it, so each is pre-trained with **the same number of training FLOPs** as MASS's 1,000-step checkpoint (at `cpu`). The FLOPs of a step are counted, not estimated: PyTorch's `FlopCounterMode` over the forward and backward pass of the same sentences under each objective.

# %%
import minimass

PRESET = minimass.preset()
# mass_steps: MASS's pre-training steps (the budget); n_flops: batches whose FLOPs are counted; seeds: downstream
# seeds; nmt / sum / chat: fine-tuning sizes and TrainConfig overrides; n_test: test examples scored.
FT = {"smoke": {"max_steps": 8, "eval_every": 8, "save_every": 8, "max_tokens": 1000, "warmup": 4},
      "cpu": {"max_steps": 100, "eval_every": 50, "save_every": 100, "max_tokens": 1000, "warmup": 50},
      "gpu": {"max_steps": 3000, "eval_every": 500, "save_every": 3000}}[PRESET]
SIZES = {"smoke": dict(mass_steps=60, n_flops=2, seeds=[0], n_nmt=300, n_test=30),
         "cpu": dict(mass_steps=1000, n_flops=8, seeds=[0, 1, 2], n_nmt=1500, n_test=200),
         "gpu": dict(mass_steps=None, n_flops=16, seeds=[0, 1, 2], n_nmt=10000, n_test=None)}[PRESET]
SEED = 0
print(PRESET, SIZES, FT)

# %%
from statistics import mean

import torch
from torch.utils.flop_counter import FlopCounterMode

from minimass import data
from minimass.data import batch_indices
from minimass.metrics import chrf
from minimass.recipes import PRETRAIN_STEPS, finetune, pretrained, run_once, runs_dir
from minimass.search import translate
from minimass.tokenizer import lang_id
from minimass.trainer import Task, batch_loss, load_checkpoint, make_batch, train_config, valid_perplexity

OBJ = {"MASS": ("mass",), "BART": ("infill",), "T5": ("span",)}
MASS_STEPS = SIZES["mass_steps"] or PRETRAIN_STEPS[PRESET]
BASE = pretrained(preset_name=PRESET, seed=SEED, steps=MASS_STEPS)


def step_flops(objective):
    """Mean training FLOPs (forward + backward) of one pre-training batch of ``objective``: the same English
    sentences batched as the trainer batches them, counted by FlopCounterMode (weights do not change the count)."""
    model, tok, _ = load_checkpoint(BASE)
    cfg = train_config(PRESET)
    ids = data.encode_cached(tok, data.unsupervised("en", "fr", seed=SEED).train["en"][:4000], "pretrain-en-flops")
    task, counts = Task(objective, ids, lang=lang_id("en")), []
    for k, idx in enumerate(batch_indices([len(x) for x in ids], cfg.max_tokens, SEED)[: SIZES["n_flops"]]):
        b = make_batch(task, [ids[j] for j in idx], cfg, model.cfg.vocab_size, torch.Generator().manual_seed(k))
        with FlopCounterMode(display=False) as fc:
            batch_loss(model.train(), b)[0].backward()
        counts.append(fc.get_total_flops())
        model.zero_grad()
    return mean(counts)


FLOPS = {name: step_flops(obj[0]) for name, obj in OBJ.items()}
STEPS = {name: round(MASS_STEPS * FLOPS["MASS"] / f) for name, f in FLOPS.items()}
for name in OBJ:
    print(f"{name:5s} {FLOPS[name] / 1e9:7.1f} GFLOPs per step -> {STEPS[name]:5d} steps for MASS's budget")

# %% [markdown]
# ## Pre-training at equal FLOPs, then three downstream tasks
#
# Each pre-training runs once (cached and resumable); each downstream run is recorded once per (objective, task, seed) in `results/11_beyond_the_paper/`. Downstream: low-resource en->fr translation (notebook 06's recipe), BBC lead -> headline (07) and chit-chat responses (08), each fine-tuned for the same number of steps from each checkpoint. At this scale BLEU and ROUGE barely move (notebooks 05-09), so the measure is the perplexity of the real test targets, with chrF beside it for translation.

# %%
# NBVAL_IGNORE_OUTPUT
CKPT = {name: pretrained(objectives=obj, preset_name=PRESET, seed=SEED, steps=STEPS[name]) for name, obj in OBJ.items()}
TASKS = {"nmt": ("en", "fr", "bible"), "headline": ("en", "en", "bbc"), "chat": ("en", "en", "chitchat")}


def test_pairs(task):
    src, tgt, corpus = TASKS[task]
    splits = data.parallel(src, tgt) if corpus == "bible" else (
        data.summarization(corpus) if corpus == "bbc" else data.dialogue(corpus))
    return splits.test[: SIZES["n_test"]]


def downstream(name, task, seed):
    """Fine-tune ``name``'s checkpoint on ``task``; the test perplexity of the real targets (and chrF for nmt)."""
    src, tgt, corpus = TASKS[task]
    run = runs_dir() / f"11_{task}-{name.lower()}_{PRESET}_seed{seed}"
    tr = finetune(run, CKPT[name], src, tgt, n_train=SIZES["n_nmt"] if task == "nmt" else None, preset_name=PRESET,
                  train_overrides=FT, seed=seed, corpus=corpus)
    pairs = test_pairs(task)
    ids = [(x, y) for x, y in zip(tr.tokenizer.encode([p[0] for p in pairs]), tr.tokenizer.encode([p[1] for p in pairs]))
           if max(len(x), len(y)) <= data.MAX_LEN + 1]
    out = {"test_ppl": valid_perplexity(tr.model.eval(), Task("mt", ids, lang=lang_id(tgt), src_lang=lang_id(src),
                                                               valid=ids), train_config(PRESET))}
    if task == "nmt":
        hyps = translate(tr.model, tr.tokenizer, [p[0] for p in pairs], src, tgt, beam=1)
        out["chrf"] = chrf(hyps, [p[1] for p in pairs])["score"]
    return out


RES = {}
for name in OBJ:
    for task in TASKS:
        for seed in SIZES["seeds"]:
            recipe = {"part": "B", "objective": name, "task": task, "pretrain": CKPT[name].parent.name,
                      "steps": FT["max_steps"]}
            RES[name, task, seed] = run_once("11_beyond_the_paper", lambda a=(name, task, seed): downstream(*a),
                                             PRESET, seed, recipe)
for task in TASKS:
    print(task, "  ".join(f"{n} {mean(RES[n, task, s]['test_ppl'] for s in SIZES['seeds']):.1f}" for n in OBJ))

# %% [markdown]
# ## Verdicts
#
# An objective beats MASS on a task when its mean test perplexity over the seeds is lower and the gap is beyond the seed spread (the two ranges of seed values do not overlap).

# %%
# NBVAL_IGNORE_OUTPUT
successors = {}
for other in ("BART", "T5"):
    for task in TASKS:
        a = [RES["MASS", task, s]["test_ppl"] for s in SIZES["seeds"]]
        b = [RES[other, task, s]["test_ppl"] for s in SIZES["seeds"]]
        spread = ("one seed" if len(a) < 2 else "beyond the seed spread" if max(a) < min(b) or max(b) < min(a)
                  else "within the seed spread")
        successors[f"{other} beats MASS at equal FLOPs ({task}, test ppl)"] = (
            f"{'yes' if mean(b) < mean(a) else 'no'}: {mean(b):.1f} vs {mean(a):.1f}, {spread}")
for claim, v in successors.items():
    print(f"{claim}: {v}")
