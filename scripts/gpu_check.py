"""One-GPU check of minimass (`make gpu-check`; about 10 minutes on an H100 with every section). Needs no venv
and no network:

    MINIMASS_DATA=/path/to/cache PYTHONPATH=. python3 scripts/gpu_check.py [--out bench/gpu.json]

It measures and checks, each section on its own, so one failure does not lose the others:
  env       device name, torch and CUDA versions
  matmul    the card's bf16 matrix-multiply rate (TFLOP/s), the yardstick for MFU
  train     --steps MASS steps of the `gpu` preset's model (minimass/presets.py) on en+fr Bible text in bf16
            autocast through the package's Trainer: tokens/s from its log, MFU, the share spent waiting
            for batches
  resume    a new Trainer on the same run folder continues from the saved step
  cpu_load  the checkpoint loads on CPU (load_checkpoint), gives the CUDA logits, and translates a sentence
  translate MASS pre-training, then en->fr fine-tuning from it and from random init, beam 5 on Matthew
  notebooks notebooks/NN_*.ipynb at MINIMASS_PRESET=smoke (--notebook-preset gpu: the real sizes, every training
            capped at --notebook-max-steps steps), code cells exec'd in a subprocess (no Jupyter kernel)
Results go to --out (JSON, written after every section); the exit status is 1 if any check failed.

The data cache ($MINIMASS_DATA or ~/.cache/minimass) must hold the Bible (nothing is downloaded unless
--allow-download). `--slim-cache DIR` writes a copy holding only the en+fr Bible (about 29 MB instead of 208 MB):
    python3 scripts/gpu_check.py --slim-cache gpu-data   # then MINIMASS_DATA=$PWD/gpu-data on the GPU machine

For a device session of about 15 minutes, start-up included, two commands of about 5 minutes each, so that a
failed first one can be fixed and rerun in place of the second (as run on 2026-12-04, bench/gpu.json):
    1. --out $OUT/gpu.json --steps 200 --resume-steps 4 --only env,matmul,train,resume,cpu_load,notebooks
       --budget 300 --notebook-timeout 90
    2. --out $OUT/gpu_translate.json --only env,translate --translate-pretrain-s 120 --translate-finetune-s 45
       --record $OUT/gpu_check_translate.gpu.json
each as `make gpu-check GPU_CHECK_ARGS="..."` with MINIMASS_DATA set. The data travelled as one .tar.gz (27 MB) of
the slim cache plus the bbc, wiki and chitchat folders, with rouge_score and nltk from a venv's site-packages
(pure Python) on PYTHONPATH for notebook 07. Merge the outputs into bench/gpu.json and copy the record to
results/06_low_resource_nmt/.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the working tree's minimass, installed or not

import torch  # noqa: E402

from minimass import data  # noqa: E402
from minimass.masking import mass_mask  # noqa: E402
from minimass.model import MODEL_PRESETS, build_model, forward_flops  # noqa: E402
from minimass.recipes import DATA_SIZES  # noqa: E402
from minimass.search import translate  # noqa: E402
from minimass.tokenizer import PAD, Tokenizer, lang_id  # noqa: E402
from minimass.trainer import Task, Trainer, checkpoints, load_checkpoint, read_log, train_config  # noqa: E402

LANGS = ("en", "fr")
# Code that reads a data source, per source (to skip a notebook whose data is not in the cache).
SOURCE_MARKERS = {
    "bible": ("data.monolingual(", "data.parallel(", "data.unsupervised(", "pretrain(", "finetune(",
              'read_source("bible"'),
    "wiki": ("data.monolingual(", 'read_source("wiki"'),
    "bbc": ("data.summarization(", 'read_source("bbc"'),
    "chitchat": ("data.dialogue(", 'read_source("chitchat"'),
}
# Runs in a fresh interpreter per notebook: exec every code cell (IPython magics and shell lines dropped) in
# one namespace, like a kernel would, then report whether CUDA memory was used.
RUNNER = r'''
import json, sys, time, traceback, types
try:
    import IPython  # noqa: F401
except ImportError:  # the GPU image has no IPython: display() prints, as a console would
    ipy, disp = types.ModuleType("IPython"), types.ModuleType("IPython.display")
    disp.display, disp.Markdown = (lambda *a, **k: print(*a)), (lambda text: text)
    ipy.display, ipy.get_ipython = disp, (lambda: None)
    sys.modules["IPython"], sys.modules["IPython.display"] = ipy, disp
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
nb = json.load(open(sys.argv[1], encoding="utf-8"))
cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
ns, res, t0, i = {"__name__": "__main__"}, {"cells": len(cells)}, time.time(), -1
try:
    for i, src in enumerate(cells):
        code = "\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!")))
        exec(compile(code, f"{sys.argv[1]} code cell {i}", "exec"), ns)
        plt.close("all")  # as the inline backend does after each cell
    res["ok"] = True
except BaseException as e:  # noqa: BLE001 - report any failure, including SystemExit
    traceback.print_exc()
    res["ok"], res["failed_cell"] = False, i
    res["error"] = f"code cell {i}: " + (f"{type(e).__name__}: {e}".strip().splitlines() or ["?"])[-1][:500]
res["seconds"] = time.time() - t0
import torch
res["cuda_max_memory_allocated"] = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else 0
res["cuda_used"] = res["cuda_max_memory_allocated"] > 0
print("GPU_CHECK_RESULT " + json.dumps(res), flush=True)
sys.exit(0 if res["ok"] else 1)
'''


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def batch_flops(cfg, b) -> tuple[float, float]:
    """Training FLOPs of one MASS batch: 3 x forward (backward ~ 2 x forward), forward from
    ``minimass.model.forward_flops(cfg, src_len, tgt_len)`` (encoder + decoder + output layer, multiply-adds x 2)
    summed over the batch's sentences. First with each sentence's real lengths (src: non-pad encoder tokens,
    tgt: its fragment's predicted tokens) -- the useful work, used for MFU; second with the padded lengths
    every row is computed at (batches are length-bucketed, so the two are close)."""
    src_len = (b.src != PAD).sum(1).tolist()
    tgt_len = (b.target != PAD).sum(1).tolist()
    real = sum(sum(forward_flops(cfg, s, t).values()) for s, t in zip(src_len, tgt_len))
    padded = len(src_len) * sum(forward_flops(cfg, b.src.size(1), b.target.size(1)).values())
    return 3.0 * real, 3.0 * padded


def check_env(args, dev: torch.device, state: dict) -> dict:
    out = {"torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
           "cuda_available": torch.cuda.is_available(), "device": str(dev), "cpu_count": os.cpu_count(),
           "data_cache": str(data.cache_dir()),
           "cached_sources": [s for s in ("bible", "bbc", "chitchat", "wiki") if data.fetched(s)]}
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda but torch.cuda.is_available() is False")
        p = torch.cuda.get_device_properties(dev)
        out |= {"device_name": torch.cuda.get_device_name(dev), "memory_gib": round(p.total_memory / 2**30, 1),
                "capability": f"{p.major}.{p.minor}", "cudnn": torch.backends.cudnn.version()}
    else:
        out["device_name"] = platform.processor() or platform.machine()
    state["device_name"] = out["device_name"]
    return out


def check_matmul(args, dev: torch.device, state: dict) -> dict:
    n = args.matmul_size or (8192 if dev.type == "cuda" else 1024)
    iters = 20 if dev.type == "cuda" else 3
    # bf16 is what training autocasts to on CUDA; a CPU without bf16 units (AMX) takes minutes, so fp32 there
    dtype = torch.bfloat16 if dev.type == "cuda" else torch.float32
    a, b = (torch.randn(n, n, device=dev, dtype=dtype) for _ in range(2))
    for _ in range(3):  # warm-up: cuBLAS heuristics, clocks
        a @ b
    sync(dev)
    t = time.perf_counter()
    for _ in range(iters):
        a @ b
    sync(dev)
    dt = time.perf_counter() - t
    state["matmul_tflops"] = 2.0 * n**3 * iters / dt / 1e12
    return {"size": n, "dtype": str(dtype), "iters": iters, "seconds": dt, "tflops": state["matmul_tflops"]}


def build_tasks(args, run_dir: Path) -> tuple[list[Task], Tokenizer, dict]:
    """The data of ``minimass.recipes.pretrain``: en and fr sentences from disjoint Bible books
    (``data.unsupervised``), a joint BPE trained on them, one MASS task per language with Mark as validation."""
    if not data.fetched("bible") and not args.allow_download:
        raise RuntimeError(f"the Bible is not in the data cache {data.cache_dir()} (set MINIMASS_DATA to a copy; "
                           "--slim-cache makes a small one; --allow-download fetches it)")
    if not data.fetched("bible"):
        subprocess.run([sys.executable, str(ROOT / "scripts" / "fetch_corpora.py"), "bible"], check=True)
    t0 = time.time()
    size = DATA_SIZES[args.preset]
    splits = data.unsupervised(*LANGS, seed=0)
    texts = {lg: splits.train[lg][: args.sentences] for lg in LANGS}
    tok = Tokenizer.train([t for lg in LANGS for t in texts[lg]], vocab_size=size["vocab"])
    tok.save(run_dir / "tokenizer.model")
    t1 = time.time()
    tasks = [Task("mass", tok.encode(texts[lg]), lang=lang_id(lg), name=f"mass-{lg}",
                  valid=tok.encode([p[i] for p in splits.valid[: size["valid"]]])) for i, lg in enumerate(LANGS)]
    info = {"sentences": {lg: len(texts[lg]) for lg in LANGS}, "valid": len(tasks[0].valid), "vocab": tok.vocab_size,
            "tokens": sum(len(x) for t in tasks for x in t.data), "data_and_bpe_s": t1 - t0,
            "encode_s": time.time() - t1}
    return tasks, tok, info


def new_trainer(args, tasks, tok, run_dir: Path, max_steps: int, seed: int = 0) -> Trainer:
    torch.manual_seed(seed)  # initial weights (the resume check uses another seed: they must be replaced)
    model = build_model(args.preset, vocab_size=tok.vocab_size)
    cfg = train_config(args.preset, {"seed": 0, "max_steps": max_steps, "save_every": args.steps, "eval_every": 0,
                                     "warmup": min(train_config(args.preset).warmup, max(args.steps // 4, 1)),
                                     "log_every": max(args.steps // 20, 1), "device": args.device, "bf16": True,
                                     "progress": False, "prefetch": not args.no_prefetch, "compile": args.compile,
                                     **({"max_tokens": args.max_tokens} if args.max_tokens else {})})
    return Trainer(model, tasks, cfg, run_dir, tokenizer=tok)


def check_train(args, dev: torch.device, state: dict) -> dict:
    run_dir = state["tmp"] / "run"
    run_dir.mkdir(parents=True)
    tasks, tok, info = build_tasks(args, run_dir)
    trainer = new_trainer(args, tasks, tok, run_dir, args.steps)
    mcfg = trainer.model.cfg
    # Time every optimizer step (batch building, masking, forward, backward, clipping, Adam), synchronised;
    # train_step already waits for the GPU when it reads the loss, so the added synchronisation costs nothing.
    # Batches are built on the CPU (masking, padding), in the prefetch thread unless --no-prefetch: `build_s` is
    # that work, `wait_s` the part of it the step waited for.
    steps, built, builds, waits = [], {}, [], []
    step_batches, train_step = trainer.step_batches, trainer.train_step

    def timed_batches(task, step, pos):
        t = time.perf_counter()
        bs, after = step_batches(task, step, pos)
        builds.append(time.perf_counter() - t)
        built[step] = bs[0]
        return bs, after

    def timed_step():
        sync(dev)
        t, step = time.perf_counter(), trainer.step
        m = train_step()
        sync(dev)
        dt = time.perf_counter() - t
        b = built.pop(step)
        waits.append(m["wait_s"])
        steps.append((dt, *batch_flops(mcfg, b), int((b.src != PAD).sum()), m["tokens"], m["loss"]))
        return m

    trainer.step_batches, trainer.train_step = timed_batches, timed_step
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    t0 = time.time()
    trainer.train()  # ends with a validation and a checkpoint at step --steps
    wall = time.time() - t0
    warm = min(max(10, args.steps // 10), args.steps // 2)  # first steps: CUDA context, kernels, allocator
    timed = steps[warm:]
    secs = sum(s[0] for s in timed)
    achieved = sum(s[1] for s in timed) / secs  # FLOP/s of useful training work
    log = [r for r in read_log(run_dir) if "tok_s" in r]
    losses = [s[5] for s in steps]
    out = info | {
        "params": trainer.model.num_params(), "model": {k: getattr(mcfg, k) for k in MODEL_PRESETS[args.preset]},
        "device": str(trainer.device), "steps": trainer.step,
        "train_config": {k: getattr(trainer.cfg, k) for k in ("lr", "warmup", "max_tokens", "bf16", "log_every")},
        "warmup_steps_excluded": warm,
        "timed_steps": len(timed), "timed_s": secs, "train_wall_s": wall,
        "step_ms_median": 1000 * statistics.median(s[0] for s in timed),
        "prefetch": trainer.cfg.prefetch,
        "build_ms_median": 1000 * statistics.median(builds[warm:]),  # in the step time only without prefetch
        "build_share": sum(builds[warm:len(steps)]) / secs,
        "wait_share": sum(waits[warm:]) / secs,  # the share of the step time spent waiting for its batch
        "predicted_tokens_per_s": sum(s[4] for s in timed) / secs,
        "source_tokens_per_s": sum(s[3] for s in timed) / secs,
        "log_tok_s_median": statistics.median(r["tok_s"] for r in log if r["step"] > warm) if
        any(r["step"] > warm for r in log) else None,
        "log_tok_s": [round(r["tok_s"]) for r in log],
        "train_tflops": achieved / 1e12, "padded_tflops": sum(s[2] for s in timed) / secs / 1e12,
        "loss_first": losses[0], "loss_last_10_mean": statistics.mean(losses[-10:]),
        "valid_ppl": {k: v for r in read_log(run_dir) for k, v in r.items() if k.startswith("valid_ppl")},
    }
    if state.get("matmul_tflops"):
        out["mfu"] = achieved / (state["matmul_tflops"] * 1e12)
        out["mfu_basis"] = "train_tflops / the matmul section's measured TFLOP/s"
    if dev.type == "cuda":
        out["peak_memory_gib"] = torch.cuda.max_memory_allocated(dev) / 2**30
    problems = []
    if trainer.step != args.steps:
        problems.append(f"stopped at step {trainer.step}")
    if not all(map(math.isfinite, losses)):
        problems.append("non-finite loss")
    if args.steps >= 100 and not out["loss_last_10_mean"] < out["loss_first"]:
        problems.append("loss did not fall")
    if not checkpoints(run_dir):
        problems.append("no checkpoint written")
    out["problems"] = problems
    out["ok"] = not problems
    state |= {"run_dir": run_dir, "tasks": tasks, "tok": tok, "trainer": trainer}
    return out


def check_resume(args, dev: torch.device, state: dict) -> dict:
    run_dir, first = state["run_dir"], state.pop("trainer")
    saved = checkpoints(run_dir)[0]
    saved_step = int(saved.name[5:])
    target = saved_step + args.resume_steps
    second = new_trainer(args, state["tasks"], state["tok"], run_dir, target, seed=1)
    out = {"saved_checkpoint": saved.name, "step_after_construction": second.step, "target_step": target,
           "same_weights": all(torch.equal(a, b) for a, b in zip(first.model.state_dict().values(),
                                                                  second.model.state_dict().values())),
           "same_data_position": second.pos == first.pos, "device": str(second.device)}
    del first
    t = time.time()
    second.train()
    log = read_log(run_dir)
    out |= {"step_after_train": second.step, "seconds": time.time() - t,
            "checkpoints": [p.name for p in checkpoints(run_dir)],
            "loss_lines_after_resume": [round(r["loss"], 3) for r in log if "loss" in r and r["step"] > saved_step]}
    out["ok"] = (second.step == target and out["step_after_construction"] == saved_step and out["same_weights"]
                 and out["same_data_position"] and checkpoints(run_dir)[0].name == f"step_{target:07d}"
                 and all(map(math.isfinite, out["loss_lines_after_resume"])) and bool(out["loss_lines_after_resume"]))
    state["trainer"] = second
    return out


@torch.no_grad()
def check_cpu_load(args, dev: torch.device, state: dict) -> dict:
    path = checkpoints(state["run_dir"])[0]
    t = time.time()
    model, tok, st = load_checkpoint(path, map_location="cpu")
    out = {"checkpoint": path.name, "step": st["step"], "load_s": time.time() - t,
           "all_on_cpu": all(p.device.type == "cpu" for p in model.parameters()),
           "tokenizer": tok is not None and tok.fingerprint == state["tok"].fingerprint}
    # A MASS batch through the CPU copy and, when the resume check left it, the same weights on the device
    # (both fp32, eval mode): the checkpoint must give the device's logits.
    b = mass_mask(state["tasks"][0].valid[:8], 0.5, vocab_size=model.cfg.vocab_size, lang=lang_id("en"),
                  generator=torch.Generator().manual_seed(0))
    args5 = (b.src, b.src_lang, b.dec_in, b.tgt_lang, b.positions)
    cpu_logits = model.eval()(*args5)
    keep = b.target != PAD
    out["logit_scale"] = float(cpu_logits[keep].abs().max())
    close = True
    if "trainer" in state:
        dev_model = state.pop("trainer").model.eval()
        dev_logits = dev_model(*(x.to(dev) if torch.is_tensor(x) else x for x in args5)).float().cpu()
        out["max_abs_logit_diff_vs_device"] = float((cpu_logits - dev_logits)[keep].abs().max())
        close = out["max_abs_logit_diff_vs_device"] <= 1e-2 * max(out["logit_scale"], 1.0)
        del dev_model
    t = time.time()
    sentence = "In the beginning God created the heavens and the earth."
    out["translation"] = translate(model, tok, [sentence], "en", "fr", beam=1)[0]
    out["translate_s"] = time.time() - t
    out["ok"] = (out["step"] == int(path.name[5:]) and out["all_on_cpu"] and out["tokenizer"]
                 and bool(torch.isfinite(cpu_logits).all()) and close
                 and isinstance(out["translation"], str))
    return out


def check_translate(args, dev: torch.device, state: dict) -> dict:
    """Generation at a scale the CPU cannot reach (Sec. 4.2, low-resource NMT): pre-train MASS on the en+fr Bible
    text for --translate-pretrain-s seconds, fine-tune en->fr on --translate-pairs verse pairs from that checkpoint
    and from random initialisation (each until its validation perplexity stops improving for 3 validations, or
    --translate-finetune-s seconds), then translate --translate-test Matthew verses with beam 5 and score them."""
    from minimass.metrics import bleu, chrf
    from minimass.recipes import finetune

    smoke = args.preset == "smoke"
    run_dir = state["tmp"] / "translate"
    run_dir.mkdir(parents=True)
    t0 = time.time()
    (run_dir / "pretrain").mkdir()
    tasks, tok, info = build_tasks(args, run_dir / "pretrain")
    torch.manual_seed(0)
    pre = {"max_steps": 30 if smoke else 100_000, "max_time": args.translate_pretrain_s, "warmup": 5 if smoke else 200,
           "lr": 1e-3 if smoke else 3e-4, "eval_every": 0, "save_every": 100_000, "device": args.device,
           "progress": False, **({"max_tokens": args.max_tokens} if args.max_tokens else {})}
    trainer = Trainer(build_model(args.preset, vocab_size=tok.vocab_size), tasks, train_config(args.preset, pre),
                      run_dir / "pretrain", tokenizer=tok)
    trainer.train()
    out = info | {"pretrain": {**trainer.summary(), "seconds": time.time() - t0,
                               "valid_ppl": {k: v for r in read_log(trainer.run_dir) for k, v in r.items()
                                             if k.startswith("valid_ppl")}}}
    init, systems = checkpoints(trainer.run_dir)[0], {}
    del trainer
    test = data.parallel("en", "fr").test[: args.translate_test]
    ft = {"max_steps": 20 if smoke else 100_000, "max_time": args.translate_finetune_s,
          "eval_every": 4 if smoke else 50, "save_every": 100_000, "warmup": 2 if smoke else 50,
          "lr": 1e-3 if smoke else 1e-4, "patience": 3,
          "best": "valid_ppl/mt-en-fr", "keep": 1, "device": args.device, "progress": False,
          **({"max_tokens": args.max_tokens} if args.max_tokens else {})}
    for system, start in (("mass", init), ("random", None)):
        t = time.time()
        tr = finetune(run_dir / system, start, "en", "fr", n_train=args.translate_pairs, preset_name=args.preset,
                      train_overrides=ft, seed=0, tokenizer=tok)
        model = load_checkpoint(run_dir / system / "best", map_location=dev)[0]
        t1 = time.time()
        hyps = translate(model, tok, [p[0] for p in test], "en", "fr", beam=5)
        refs = [p[1] for p in test]
        systems[system] = {**tr.summary(), "train_s": t1 - t, "translate_s": time.time() - t1,
                           "bleu": bleu(hyps, refs)["score"], "chrf": chrf(hyps, refs)["score"],
                           "distinct": len(set(hyps)), "n": len(hyps),
                           "curve": read_log(run_dir / system, "valid_ppl/mt-en-fr"),
                           "examples": [{"source": p[0], "reference": p[1], "output": h}
                                        for p, h in zip(test[:5], hyps[:5])]}
        del model, tr
    out |= {"pairs": args.translate_pairs, "test_verses": len(test), "beam": 5, "finetune": ft, "systems": systems,
            "pretrain_config": pre}
    out["ok"] = all(s["n"] == len(test) and math.isfinite(s["bleu"]) for s in systems.values())
    if args.record:
        rec = {"name": "06_low_resource_nmt/gpu_check_translate", "device_name": state.get("device_name"),
               "preset": args.preset, "seed": 0, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                        capture_output=True).stdout.strip() or None,
               "command": sys.argv, "torch": torch.__version__, "results": out,
               "data_versions": {s: ", ".join(data.fetched(s)) for s in data.SOURCES if data.fetched(s)}}
        Path(args.record).parent.mkdir(parents=True, exist_ok=True)
        Path(args.record).write_text(json.dumps(rec, indent=1, default=str) + "\n")
        out["record"] = str(args.record)
    return out


def notebook_skip_reason(path: Path) -> str | None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    missing = [s for s, marks in SOURCE_MARKERS.items()
               if any(m in code for m in marks) and not data.fetched(s)]
    if missing:
        return f"needs data source(s) {', '.join(missing)}, not in the cache {data.cache_dir()}"
    return None


def check_notebooks(args, dev: torch.device, state: dict, deadline: float) -> dict:
    paths = [Path(p) for p in sorted(glob.glob(str(ROOT / "notebooks" / "[0-9][0-9]_*.ipynb")))]
    if args.notebooks:
        paths = [p for p in paths if p.name[:2] in args.notebooks.split(",")]
    tmp = state["tmp"]
    runner = tmp / "nb_runner.py"
    runner.write_text(RUNNER)
    pythonpath = [str(ROOT)]
    env = dict(os.environ, MINIMASS_PRESET=args.notebook_preset, MINIMASS_RUNS=str(tmp / "nb_runs"),
               MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(pythonpath + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    if dev.type != "cuda":
        env["CUDA_VISIBLE_DEVICES"] = ""  # the notebooks' pick_device() would take a GPU
    if args.notebook_preset != "smoke":  # the preset's real sizes, every training capped to a few steps
        env["MINIMASS_MAX_STEPS"] = str(args.notebook_max_steps)
    logs = Path(args.out).with_name(Path(args.out).stem + "-logs")
    logs.mkdir(parents=True, exist_ok=True)
    out: dict = {"logs": str(logs), "preset": args.notebook_preset, "notebooks": {},
                 "max_steps": env.get("MINIMASS_MAX_STEPS")}
    for p in paths:
        rec: dict = {}
        out["notebooks"][p.name] = rec
        left = deadline - time.time()
        reason = notebook_skip_reason(p) or (None if left > 30 else f"time budget ({left:.0f} s left)")
        if reason:
            rec |= {"status": "skipped", "reason": reason}
            print(f"  {p.name}: skipped ({reason})", flush=True)
            continue
        t = time.time()
        try:
            r = subprocess.run([sys.executable, str(runner), p.name], cwd=p.parent, env=env, capture_output=True,
                               text=True, timeout=min(args.notebook_timeout, left))
            text, rc = r.stdout + r.stderr, r.returncode
        except subprocess.TimeoutExpired as e:
            parts = [x.decode(errors="replace") if isinstance(x, bytes) else x or "" for x in (e.stdout, e.stderr)]
            text, rc = "".join(parts) + f"\nTimeoutExpired: no result after {e.timeout:.0f} s", None
        (logs / f"{p.stem}.log").write_text(text)
        found = [ln for ln in text.splitlines() if ln.startswith("GPU_CHECK_RESULT ")]
        res = json.loads(found[-1].split(" ", 1)[1]) if found else {"ok": False}
        tail = [ln for ln in text.strip().splitlines() if ln.strip()][-1:] or [""]
        rec |= {"status": "pass" if res.get("ok") and rc == 0 else "fail", "seconds": time.time() - t,
                "returncode": rc, **{k: v for k, v in res.items() if k != "ok"}}
        if rec["status"] == "fail":
            rec.setdefault("error", tail[0][:500])
        print(f"  {p.name}: {rec['status']} in {rec['seconds']:.0f} s"
              + (f", cuda used: {rec.get('cuda_used')}" if dev.type == "cuda" else "")
              + (f" -- {rec['error']}" if rec["status"] == "fail" else ""), flush=True)
    out["ok"] = all(r["status"] != "fail" for r in out["notebooks"].values())
    return out


def slim_cache(dest: Path, langs: list[str]) -> None:
    """Copy the Bible of ``langs`` (table ``bible``: all that minimass reads from it) into a new cache folder."""
    src_db = data.source_dir("bible") / "bible.db"
    versions = [v for lg in langs for v in data.BIBLE[lg]]
    (dest / "bible").mkdir(parents=True, exist_ok=True)
    db = dest / "bible" / "bible.db"
    db.unlink(missing_ok=True)
    con = sqlite3.connect(db)
    con.execute("ATTACH DATABASE ? AS s", (f"file:{src_db}?mode=ro",))
    con.execute("CREATE TABLE bible (id INTEGER, bbName TEXT, bNumber INTEGER, cNumber INTEGER, vNumber INTEGER, "
                "vText TEXT)")
    con.execute(f"INSERT INTO bible SELECT id, bbName, bNumber, cNumber, vNumber, vText FROM s.bible WHERE bbName IN "
                f"({','.join('?' * len(versions))}) ORDER BY bbName, bNumber, cNumber, vNumber", versions)
    con.commit()
    con.execute("DETACH DATABASE s")
    con.execute("VACUUM")
    con.close()
    shutil.copy(src_db.parent / ".done", dest / "bible" / ".done")  # marks the source as fetched: no download
    print(f"{db}: versions {versions} of {langs}, {db.stat().st_size / 2**20:.1f} MiB")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda")
    p.add_argument("--out", default=str(ROOT / "bench" / "gpu.json"))
    p.add_argument("--steps", type=int, default=300, help="training steps timed for tokens/s and MFU")
    p.add_argument("--resume-steps", type=int, default=20, help="steps trained after resuming")
    p.add_argument("--preset", default="gpu", choices=sorted(MODEL_PRESETS), help="model and train preset")
    p.add_argument("--max-tokens", type=int, default=None, help="tokens per batch (default: the preset's)")
    p.add_argument("--sentences", type=int, default=None, help="training sentences per language (default: all)")
    p.add_argument("--matmul-size", type=int, default=0, help="default 8192 on CUDA, 1024 elsewhere")
    p.add_argument("--skip-notebooks", action="store_true")
    p.add_argument("--notebooks", default="", help="comma-separated numbers, e.g. 02,04 (default: all)")
    p.add_argument("--notebook-timeout", type=float, default=240)
    p.add_argument("--notebook-preset", default="smoke", choices=("smoke", "cpu", "gpu"),
                   help="MINIMASS_PRESET of the notebooks (not smoke: MINIMASS_MAX_STEPS caps training)")
    p.add_argument("--notebook-max-steps", type=int, default=3, help="the cap when not at smoke")
    p.add_argument("--budget", type=float, default=450, help="seconds; no notebook starts after this")
    p.add_argument("--allow-download", action="store_true", help="fetch data missing from the cache")
    p.add_argument("--slim-cache", metavar="DIR", help="write a small data cache (en+fr Bible) to DIR and exit")
    p.add_argument("--no-prefetch", action="store_true", help="train: build each batch inside its step")
    p.add_argument("--compile", action="store_true", help="train: torch.compile the encoder and decoder")
    p.add_argument("--only", default="", help="comma-separated sections to run (default: all), e.g. env,translate")
    p.add_argument("--translate-pretrain-s", type=float, default=150, help="translate: pre-training time cap")
    p.add_argument("--translate-finetune-s", type=float, default=60, help="translate: time cap per fine-tuning")
    p.add_argument("--translate-pairs", type=int, default=10_000, help="translate: training pairs")
    p.add_argument("--translate-test", type=int, default=500, help="translate: Matthew verses scored")
    p.add_argument("--record", default=None, help="translate: also write its result record here (notebook 06 "
                   "shows results/06_low_resource_nmt/gpu_check_translate.gpu.json)")
    args = p.parse_args()
    if args.slim_cache:
        slim_cache(Path(args.slim_cache), list(LANGS))
        return 0
    t_start = time.time()
    dev = torch.device(args.device)
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    report: dict = {"command": sys.argv, "preset": args.preset, "steps": args.steps, "checks": {}}
    tmp = Path(tempfile.mkdtemp(prefix="minimass-gpu-check-"))
    state: dict = {"tmp": tmp}

    def section(name, fn, *extra):
        print(f"[{time.time() - t_start:5.0f} s] {name} ...", flush=True)
        t = time.time()
        try:
            rec = fn(args, dev, state, *extra)
            rec.setdefault("ok", True)
        except Exception as e:  # noqa: BLE001 - record it and go on with the next section
            traceback.print_exc()
            rec = {"ok": False, "error": f"{type(e).__name__}: {e}".strip().splitlines()[-1][:500]}
        rec["section_s"] = time.time() - t
        report["checks"][name] = rec
        report["total_s"] = time.time() - t_start
        out_path.write_text(json.dumps(report, indent=1, default=str) + "\n")
        return rec

    def want(name: str) -> bool:
        return not args.only or name in args.only.split(",")

    if section("env", check_env)["ok"]:
        for name, fn in (("matmul", check_matmul), ("train", check_train)):
            if want(name):
                section(name, fn)
        for name, fn, needs in (("resume", check_resume, "trainer"), ("cpu_load", check_cpu_load, "run_dir")):
            if want(name) and needs in state:
                section(name, fn)
            elif want(name):
                report["checks"][name] = {"ok": False, "error": "not run: the train section failed"}
        state.pop("trainer", None)
        state.pop("tasks", None)
        if dev.type == "cuda":
            torch.cuda.empty_cache()
        if want("translate"):
            section("translate", check_translate)
        if not args.skip_notebooks and want("notebooks"):
            section("notebooks", check_notebooks, t_start + args.budget)
    shutil.rmtree(tmp, ignore_errors=True)
    report["total_s"] = time.time() - t_start
    report["ok"] = all(c["ok"] for c in report["checks"].values())
    out_path.write_text(json.dumps(report, indent=1, default=str) + "\n")
    summarise(report)
    print(f"wrote {out_path}")
    return 0 if report["ok"] else 1


def summarise(r: dict) -> None:
    c = r["checks"]
    env, mm, tr = c.get("env", {}), c.get("matmul", {}), c.get("train", {})
    print(f"\n== minimass gpu-check: {'PASS' if r['ok'] else 'FAIL'} in {r['total_s']:.0f} s ==")
    print(f"device  {env.get('device_name')} | torch {env.get('torch')} | CUDA {env.get('cuda')}")
    for name, rec in c.items():
        print(f"  {name:9s} {'ok' if rec['ok'] else 'FAILED'}" + (f": {rec['error']}" if "error" in rec else ""))
    if "tflops" in mm:
        print(f"matmul  {mm['dtype']} {mm['size']}^3: {mm['tflops']:.2f} TFLOP/s")
    if "train_tflops" in tr:
        print(f"train   {tr['params'] / 1e6:.0f}M params, {tr['timed_steps']} timed steps, "
              f"{tr['step_ms_median']:.1f} ms/step, {tr['predicted_tokens_per_s']:,.0f} predicted tok/s "
              f"({tr['source_tokens_per_s']:,.0f} source tok/s), {tr['train_tflops']:.1f} TFLOP/s"
              + (f", MFU {tr['mfu']:.1%}" if "mfu" in tr else "")
              + f"; loss {tr['loss_first']:.2f} -> {tr['loss_last_10_mean']:.2f}; batch building "
              f"{tr['build_ms_median']:.1f} ms/step, waited for {tr['wait_share']:.0%} of the step time")
    for name, sy in c.get("translate", {}).get("systems", {}).items():
        print(f"translate {name:7s} BLEU {sy['bleu']:5.2f} chrF {sy['chrf']:5.1f} distinct {sy['distinct']}/{sy['n']}"
              f" best step {sy['best_step']} of {sy['last_step']} ({sy['stopped']}), {sy['train_s']:.0f} s training")
    for name, nb in c.get("notebooks", {}).get("notebooks", {}).items():
        print(f"  {name:36s} {nb['status']:7s} " + (f"{nb['seconds']:5.0f} s" if "seconds" in nb else "")
              + (f"  cuda_used={nb.get('cuda_used')}" if "cuda_used" in nb else "")
              + (f"  {nb.get('reason') or nb.get('error') or ''}" if nb["status"] != "pass" else ""))


if __name__ == "__main__":
    sys.exit(main())
