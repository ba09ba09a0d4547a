"""minimass against Hugging Face BART on CPU: same weights, same inputs, same process run (`make bench`).

    .venv/bin/python bench/run.py              # the suite: bench/results.json + the table in bench/README.md
    .venv/bin/python bench/run.py --quick      # smoke-size end-to-end check of this script (about a minute)
    .venv/bin/python bench/run.py --profile    # torch.profiler's top ops of one cpu-size minimass MASS step
    .venv/bin/python bench/run.py --only mass-cpu-fp32,decode-cpu-fp32   # some groups (results to a temp file)

Every HF model is ``scripts/to_huggingface.py`` of the minimass model it is compared with (a
BartForConditionalGeneration with identical weights), so both start from the same numbers.

Groups (each runs in a fresh subprocess with ``--threads`` torch threads, default 2; minimass first, then HF,
and the peak RSS of each phase is read with ``getrusage`` after resetting the high-water mark):

- ``matmul``: the fp32 matmul rate, 2048x2048 @ 2048x2048 and the output-layer shape 2000x256 @ 256x8000: the
  yardstick for "% of peak" below.
- ``mass-{smoke,cpu}-{fp32,bf16}``: one MASS pre-training step (forward, backward, Adam) on Bible verses (English,
  the run's own BPE: vocab 1000 for smoke, 8000 for cpu) in token-budget batches of 2000 padded tokens, masked by
  ``mass_mask`` (k = 50%). minimass runs its decoder on the fragment only (``batch_loss``); HF gets what a BART user
  would run: the full-length decoder input ([M] everywhere but x[t-1] at fragment positions t > u) and labels
  -100 outside the fragment, so both predict the same tokens with the same loss (summed CE / n). FLOPs from
  ``model.forward_flops`` x 3 per sentence at real lengths (HF: decoder length = source length).
- ``finetune-{smoke,cpu}-{fp32,bf16}``: one supervised step on identical en-fr batches (``seq2seq_batch``; HF:
  input_ids, attention_mask, decoder_input_ids, labels -100 at pad). The first batch's loss in eval mode is
  checked equal.
- ``decode-cpu-fp32``: greedy and beam-5 decoding of 64 held-out English verses (Matthew) with a cpu-size model
  trained once for a few minutes to copy English verses (see ``prepare_checkpoint`` for why not en->fr) and
  cached in ``~/.cache/minimass/bench`` (``$MINIMASS_DATA/bench``). One call over all 64 sentences each:
  minimass's ``greedy`` / ``beam_search``, HF's ``generate``, with settings that match exactly (one length limit
  for all sentences, min length 1, the same banned tokens); identical outputs are counted.

bf16 groups run only where the CPU has native bf16 (AVX512-BF16 or AMX; ``--force-bf16`` runs them anyway).
Times are medians over steps after warm-up (training) or over repeated calls (decoding); counts are recorded.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the working tree's minimass, installed or not
sys.path.insert(1, str(ROOT / "scripts"))  # to_huggingface.py

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from minimass import data, recipes  # noqa: E402
from minimass.masking import mass_mask, pad, seq2seq_batch  # noqa: E402
from minimass.model import build_model, forward_flops  # noqa: E402
from minimass.search import beam_search, greedy  # noqa: E402
from minimass.tokenizer import BOS, EOS, MASK, PAD, Tokenizer  # noqa: E402
from minimass.trainer import TRAIN_PRESETS, Task, TrainConfig, Trainer, batch_loss, load_checkpoint, train_config  # noqa: E402

MAX_TOKENS = 2000          # padded tokens per training batch (the cpu preset's max_tokens)
MAX_LEN = 150              # longest sentence kept for training batches (BPE tokens)
N_BATCHES = 40             # training batches prepared (more than any group uses)
N_DECODE = 64              # held-out sentences decoded
BEAM = 5
DECODE_BUDGET_S = 20       # a decoding measurement stops after 2 calls once its calls took this long
ADAM = dict(lr=TRAIN_PRESETS["cpu"]["lr"], betas=TrainConfig().betas)  # the same for minimass and HF
# The decoding checkpoint (prepare_checkpoint): trained to each step count in turn until its outputs vary.
CKPT = {"cpu": dict(steps=(150, 200, 300, 400), train={"max_tokens": 1000, "lr": 1e-3, "warmup": 50}),
        "smoke": dict(steps=(180, 300), train={"max_tokens": 1000, "lr": 3e-3, "warmup": 30},
                      model={"max_positions": 512})}
INPUTS_VERSION = 1         # bump when the prepared inputs change meaning
NO_BF16 = "skipped: no native bf16 (AVX512-BF16/AMX) on this CPU (--force-bf16 measures it anyway)"
MARKER = "<!-- results: everything below is written by bench/run.py -->"


# --- settings -------------------------------------------------------------------------------------------------
def plan(args) -> dict:
    """Sizes, step counts and groups for a full or a --quick run."""
    if args.quick:
        p = dict(sizes=["smoke"], decode="smoke", warmup=1, steps={"smoke": 3}, decode_reps=1, matmul_reps=3)
    else:
        p = dict(sizes=["smoke", "cpu"], decode="cpu", warmup=3, steps={"smoke": 20, "cpu": 15}, decode_reps=3,
                 matmul_reps=10)
    groups = ["matmul"] + [f"{kind}-{size}-{dt}" for kind in ("mass", "finetune") for dt in ("fp32", "bf16")
                           for size in p["sizes"]] + [f"decode-{p['decode']}-fp32"]
    if args.only:
        want = args.only.split(",")
        unknown = [g for g in want if g not in groups]
        if unknown:
            raise SystemExit(f"--only: unknown group(s) {unknown}; known here: {groups}")
        groups = [g for g in groups if g in want]
    p["groups"] = groups
    return p


def vocab_of(size: str) -> int:
    """The BPE size asked for at this model size (the tokenizer may come out slightly smaller)."""
    return recipes.DATA_SIZES[size]["vocab"]


def bf16_native() -> bool:
    """Whether the CPU computes bf16 natively (AVX512-BF16 or AMX on x86, BF16 on Arm), from /proc/cpuinfo."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())  # no cpuinfo: oneDNN's own answer
    return bool(flags & {"avx512_bf16", "amx_bf16", "bf16"})


def machine_info(args) -> dict:
    def git(*cmd):
        r = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                   if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import transformers
        hf_version = transformers.__version__
    except ImportError:
        hf_version = None
    dirty = git("status", "--porcelain")
    return {"cpu": cpu, "cores": os.cpu_count(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "bf16_native": bf16_native(), "torch": torch.__version__, "transformers": hf_version,
            "python": platform.python_version(), "platform": platform.platform(), "threads": args.threads,
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "git_commit": git("rev-parse", "HEAD"), "git_dirty": dirty.splitlines() if dirty else []}


# --- inputs: tokenizer, batches, the decoding checkpoint (prepared once, cached) --------------------------------
def bench_dir() -> Path:
    d = data.cache_dir() / "bench"
    d.mkdir(parents=True, exist_ok=True)
    return d


_SPLITS = {}


def splits():
    if not _SPLITS:
        _SPLITS["en-fr"] = data.parallel("en", "fr")
    return _SPLITS["en-fr"]


def tokenizer(vocab: int) -> Tokenizer:
    """A joint en+fr BPE of ``vocab`` pieces trained on the en-fr training pairs, once."""
    path = bench_dir() / f"tok-{vocab}.model"
    if path.exists():
        return Tokenizer.load(path)
    log(f"training a {vocab}-piece BPE on the en-fr training pairs (once)")
    tok = Tokenizer.train([s for p in splits().train for s in p], vocab_size=vocab)
    tok.save(path)
    return tok


def inputs_path(vocab: int) -> Path:
    return bench_dir() / f"inputs-v{INPUTS_VERSION}-{vocab}-{tokenizer(vocab).fingerprint}.json"


def prepare_inputs(vocab: int) -> Path:
    """Token batches for both frameworks: MASS (en verses), fine-tuning (en-fr pairs), decoding sources."""
    path = inputs_path(vocab)
    if path.exists():
        return path
    log(f"preparing token batches (vocab {vocab})")
    tok, sp = tokenizer(vocab), splits()
    en = data.encode_cached(tok, [p[0] for p in sp.train], "bench-train-en")
    fr = data.encode_cached(tok, [p[1] for p in sp.train], "bench-train-fr")
    mono = [s for s in en if len(s) <= MAX_LEN]
    pairs = [(a, b) for a, b in zip(en, fr) if max(len(a), len(b)) <= MAX_LEN]
    out = {"mass": data.token_batches(mono, MAX_TOKENS, seed=0)[:N_BATCHES],
           "finetune": [[list(p) for p in b] for b in data.token_batches(pairs, MAX_TOKENS, seed=0)[:N_BATCHES]],
           "test_en": tok.encode([p[0] for p in sp.test[:N_DECODE]])}
    path.write_text(json.dumps(out))
    return path


def checkpoint_dir(size: str) -> Path:
    c = CKPT[size]
    return bench_dir() / f"copy-{size}-{'-'.join(map(str, c['steps']))}-{tokenizer(vocab_of(size)).fingerprint}"


def load_trained(size: str):
    """The cached decoding checkpoint ``(model, tokenizer, info)``, or None when missing or unreadable."""
    run = checkpoint_dir(size)
    try:
        info = json.loads((run / "ready.json").read_text())
        model, tok, _ = load_checkpoint(recipes.latest(run))
    except Exception:  # noqa: BLE001 - missing, unfinished, or written by an older minimass: train it again
        return None
    return model, tok, info


def greedy_lengths(model, src: torch.Tensor, limit: int) -> dict:
    """How varied the greedy outputs of ``model`` are: distinct lengths, outputs at the length limit."""
    was = model.training
    out = greedy(model.eval(), src, 0, 0, max_len_a=0.0, max_len_b=limit)
    model.train(was)
    n = [len(o) for o in out]
    return {"distinct_lengths": len(set(n)), "at_limit": sum(k >= limit for k in n), "distinct_outputs":
            len(set(map(tuple, out))), "len_min_median_max": [min(n), statistics.median(n), max(n)]}


def prepare_checkpoint(size: str) -> None:
    """Train the decoding checkpoint once: ``size`` model, copying English verses (en -> en, ``Task("mt")``).

    A few minutes of en->fr fine-tuning from scratch give one output for every source (the 150-step
    checkpoint translated all 64 verses to the same 55 tokens), so nothing finishes at its own length; copying
    is learnt fast and gives source-dependent outputs that stop at their own lengths, like translations. It
    trains to each of ``CKPT[size]["steps"]`` in turn and stops once the greedy outputs of the 64 sources vary.
    """
    if load_trained(size) is not None:
        return
    c, run = CKPT[size], checkpoint_dir(size)
    if run.exists():
        shutil.rmtree(run)
    tok, sp = tokenizer(vocab_of(size)), splits()
    en = data.encode_cached(tok, [p[0] for p in sp.train], "bench-train-en")
    pairs = [(x, x) for x in en if len(x) <= MAX_LEN]
    src = pad(tok.encode([p[0] for p in sp.test[:N_DECODE]]))
    limit = decode_limit(src, c.get("model", {}).get("max_positions", 512))
    torch.manual_seed(0)
    model = build_model(size, vocab_size=tok.vocab_size, **c.get("model", {}))
    t = time.time()
    for steps in c["steps"]:
        log(f"training the {size}-size decoding checkpoint (copy en -> en, once) to step {steps}: {run}")
        cfg = train_config(size, {**c["train"], "max_steps": steps, "eval_every": 0, "save_every": steps,
                                  "device": "cpu", "progress": False})
        Trainer(model, [Task("mt", pairs, lang=0, src_lang=0, name="copy-en")], cfg, run, tokenizer=tok).train()
        variety = greedy_lengths(model, src, limit)
        log(f"  step {steps}, {time.time() - t:.0f} s: greedy outputs of the {len(src)} sources: {variety}")
        if variety["distinct_lengths"] >= 8 and variety["at_limit"] <= len(src) // 4:
            break
    info = {"task": "copy en->en", "steps": steps, "train_s": round(time.time() - t, 1), "greedy": variety,
            "train": c["train"]}
    (run / "ready.json").write_text(json.dumps(info))


def decode_limit(src: torch.Tensor, max_positions: int) -> int:
    """One length limit for all sentences (so one generate() call covers them): minimass's default
    1.5 * len + 10 of the longest source."""
    return min(int(1.5 * max(lengths(src)) + 10), max_positions - 1)


def load_inputs(vocab: int) -> dict:
    return json.loads(inputs_path(vocab).read_text())


# --- measuring helpers --------------------------------------------------------------------------------------------
def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def stats(xs: list[float], digits: int = 6) -> dict:
    """Median, count and every value of a repeated measurement."""
    return {"median": round(statistics.median(xs), digits), "n": len(xs), "runs": [round(x, digits) for x in xs]}


def reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark (Linux: also what getrusage's ru_maxrss reports)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)  # bytes on macOS


def rss_mb() -> float | None:
    try:
        return round(int(next(ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("VmRSS:"))) / 1024, 1)
    except (OSError, StopIteration):
        return None


def phase(fn):
    """Run ``fn()``; returns its result, the RSS before it (both models, inputs, libraries) and the peak RSS
    during it (what was resident before included)."""
    gc.collect()
    before, reset = rss_mb(), reset_peak_rss()
    out = fn()
    return out, {"rss_before_mb": before, "peak_rss_mb": peak_rss_mb(), "peak_rss_is_phase_only": reset}


def hf_model(model, src_lang: str, tgt_lang: str):
    """The BART copy of ``model`` (same weights) through ``to_huggingface``."""
    import transformers
    from to_huggingface import to_huggingface

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    with tempfile.TemporaryDirectory() as d:
        to_huggingface(model, src_lang, tgt_lang, d)
        hf = transformers.BartForConditionalGeneration.from_pretrained(d)
    return hf.train(model.training)


def lengths(x: torch.Tensor) -> list[int]:
    return (x != PAD).sum(1).tolist()


# --- benchmarks ---------------------------------------------------------------------------------------------------
def bench_matmul(args, p) -> dict:
    """fp32 (and bf16 where enabled) matmul rate: the peak the training steps are compared with."""
    shapes = {"2048x2048 @ 2048x2048": (2048, 2048, 2048), "2000x256 @ 256x8000": (2000, 256, 8000)}
    dtypes = [torch.float32] + ([torch.bfloat16] if args.bf16 else [])
    out = {}
    for dt in dtypes:
        for name, (m, k, n) in shapes.items():
            a, w = torch.randn(m, k, dtype=dt), torch.randn(n, k, dtype=dt)  # F.linear: a @ w.T, as the layers do
            times = []
            for i in range(2 + p["matmul_reps"]):
                t = time.perf_counter()
                F.linear(a, w)
                if i >= 2:
                    times.append(time.perf_counter() - t)
            out[f"{name} {str(dt)[6:]}"] = {"time_s": stats(times),
                                            "gflop_per_s": round(2 * m * k * n / statistics.median(times) / 1e9, 1)}
    return out


def mass_for_hf(b) -> dict:
    """The full-length-decoder version of a MASS batch: [M] everywhere in the sentence, x[t-1] at fragment
    positions t > u (the fragment's own decoder inputs), labels -100 outside the fragment."""
    B, S = b.src.shape
    dec = torch.full((B, S), MASK, dtype=torch.long).masked_fill(b.src == PAD, PAD)
    labels = torch.full((B, S), -100, dtype=torch.long)
    real = b.target != PAD
    rows = torch.arange(B)[:, None].expand_as(b.target)[real]
    dec[rows, b.positions[real]] = b.dec_in[real]
    labels[rows, b.positions[real]] = b.target[real]
    return {"input_ids": b.src, "attention_mask": (b.src != PAD).long(), "decoder_input_ids": dec, "labels": labels}


def seq2seq_for_hf(b) -> dict:
    return {"input_ids": b.src, "attention_mask": (b.src != PAD).long(), "decoder_input_ids": b.dec_in,
            "labels": b.target.masked_fill(b.target == PAD, -100)}


def train_flops(cfg, src_lens: list[int], tgt_lens: list[int]) -> float:
    """Forward + backward FLOPs of one batch: 3 x forward_flops per sentence at its real lengths."""
    return 3 * sum(sum(forward_flops(cfg, s, t).values()) for s, t in zip(src_lens, tgt_lens))


def timed_steps(step, batches, warmup: int) -> list[float]:
    times = []
    for i, b in enumerate(batches):
        t = time.perf_counter()
        step(b)
        if i >= warmup:
            times.append(time.perf_counter() - t)
    return times


def bench_train(args, p, kind: str, size: str, dtype: str) -> dict:
    """One training step (forward, backward, Adam) of minimass and of its HF BART copy on the same batches."""
    vocab, amp = tokenizer(vocab_of(size)).vocab_size, dtype == "bf16"
    n = p["warmup"] + p["steps"][size]
    torch.manual_seed(0)
    model = build_model(size, vocab_size=vocab)
    cfg, raw = model.cfg, load_inputs(vocab_of(size))[kind][:n]
    if kind == "mass":
        batches = [mass_mask(seqs, 0.5, vocab_size=vocab, lang=0, generator=torch.Generator().manual_seed(i))
                   for i, seqs in enumerate(raw)]
        hf_batches = [mass_for_hf(b) for b in batches]
        langs = ("en", "en")
    else:
        batches = [seq2seq_batch([tuple(x) for x in pairs], src_lang=0, tgt_lang=1) for pairs in raw]
        hf_batches = [seq2seq_for_hf(b) for b in batches]
        langs = ("en", "fr")
    hf = hf_model(model, *langs)
    src_lens = [lengths(b.src) for b in batches]
    tokens = [b.n_tokens for b in batches]
    flops = {"minimass": [train_flops(cfg, s, lengths(b.target)) for s, b in zip(src_lens, batches)],
             "hf": [train_flops(cfg, s, s if kind == "mass" else lengths(b.target)) for s, b in zip(src_lens, batches)]}

    with torch.no_grad():  # the first batch's loss in eval mode (no dropout): equal for fine-tuning
        model.eval()
        hf.eval()
        loss, cnt = batch_loss(model, batches[0])
        check = {"minimass": float(loss) / cnt, "hf": float(hf(**hf_batches[0]).loss)}
        model.train()
        hf.train()
    check["abs_diff"] = abs(check["minimass"] - check["hf"])
    if kind == "mass":
        check["note"] = "differs by design: HF's full-length decoder also sees the [M] inputs outside the fragment"
    else:
        check["equal"] = check["abs_diff"] < 1e-4

    def run(name, net, step_batches, forward):
        opt = torch.optim.Adam(net.parameters(), **ADAM)

        def step(b):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
                loss = forward(b)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        times, mem = phase(lambda: timed_steps(step, step_batches, p["warmup"]))
        w = p["warmup"]
        return {"step_s": stats(times),
                "tok_per_s": stats([k / t for k, t in zip(tokens[w:], times)], 1),
                "flop_per_s": stats([f / t for f, t in zip(flops[name][w:], times)], 0),
                "tok_per_s_overall": round(sum(tokens[w:]) / sum(times), 1),
                "params": sum(x.numel() for x in net.parameters()), **mem}

    def ours(b):
        loss, cnt = batch_loss(model, b)
        return loss / cnt

    res = {"minimass": run("minimass", model, batches, ours),
           "hf": run("hf", hf, hf_batches, lambda x: hf(**x).loss)}  # HF's loss: mean CE over labels = sum / n
    w = p["warmup"]
    # The same batch, one after the other: the paired time ratio is the robust speed-up (equal tokens per batch).
    res["minimass_over_hf_paired"] = stats([h / m for h, m in zip(res["hf"]["step_s"]["runs"],
                                                                    res["minimass"]["step_s"]["runs"])], 3)
    return {**res, "kind": kind, "size": size, "dtype": dtype, "vocab": vocab, "warmup_steps": w,
            "target_tokens_per_step": stats(tokens[w:], 1), "sentences_per_step": stats([len(s) for s in src_lens[w:]]),
            "flops_per_step": {k: stats(v[w:], 0)["median"] for k, v in flops.items()}, "loss_check": check}


def hf_tokens(row: list[int]) -> list[int]:
    """A generate() row as minimass returns it: no start token, cut at </s>, no pads."""
    row = row[1:]
    row = row[: row.index(EOS)] if EOS in row else row
    return [t for t in row if t not in (PAD, BOS)]


def bench_decode(args, p, size: str) -> dict:
    """Greedy and beam-5 decoding of 64 held-out sentences: minimass's search against HF generate."""
    model, tok, info = load_trained(size)
    model.eval()
    hf = hf_model(model, "en", "en").eval()
    src = pad(load_inputs(vocab_of(size))["test_en"][:N_DECODE])
    limit = decode_limit(src, model.cfg.max_positions)
    lim = dict(max_len_a=0.0, max_len_b=limit, min_len=1)
    hf_kw = dict(max_new_tokens=limit, min_new_tokens=1, do_sample=False)  # suppress_tokens: from the export
    runs = {
        "minimass": {
            "greedy": lambda s: greedy(model, s, 0, 0, **lim),
            "beam5": lambda s: [h[0][0] if h else [] for h in beam_search(
                model, s, 0, 0, beam=BEAM, length_penalty=1.0, early_stopping=True, **lim)]},
        "hf": {
            "greedy": lambda s: [hf_tokens(r) for r in
                                 hf.generate(input_ids=s, attention_mask=(s != PAD).long(), num_beams=1,
                                             **hf_kw).tolist()],
            "beam5": lambda s: [hf_tokens(r) for r in
                                hf.generate(input_ids=s, attention_mask=(s != PAD).long(), num_beams=BEAM,
                                            length_penalty=1.0, early_stopping=True, **hf_kw).tolist()]}}

    def measure(fns):
        out = {}
        for mode, fn in fns.items():
            with torch.inference_mode():
                fn(src[:8])  # warm-up
                times, outs = [], None
                while len(times) < p["decode_reps"] and not (len(times) >= 2 and sum(times) > DECODE_BUDGET_S):
                    t = time.perf_counter()
                    outs = fn(src)
                    times.append(time.perf_counter() - t)
            out[mode] = {"time_s": stats(times), "sent_per_s": round(len(src) / statistics.median(times), 2),
                         "outputs": outs}
        return out

    res = {}
    for name, fns in runs.items():
        res[name], mem = phase(lambda fns=fns: measure(fns))
        res[name].update(mem)
    modes = {}
    for mode in ("greedy", "beam5"):
        a, b = res["minimass"][mode], res["hf"][mode]
        ours, theirs = a.pop("outputs"), b.pop("outputs")
        n = [len(o) for o in ours]
        modes[mode] = {"identical_outputs": sum(x == y for x, y in zip(ours, theirs)), "sentences": len(ours),
                       "minimass_over_hf": round(a["sent_per_s"] / b["sent_per_s"], 3),
                       "output_len": {"min": min(n), "median": statistics.median(n), "max": max(n),
                                      "at_limit": sum(k >= limit for k in n)},
                       "example": tok.decode(ours[0])}
    return {**res, "modes": modes, "size": size, "limit": limit, "src_len": stats(lengths(src), 1),
            "checkpoint": str(checkpoint_dir(size)), "checkpoint_info": info, "vocab": tok.vocab_size}


# --- the parent: prepare, run every group in a fresh subprocess, write results --------------------------------------
def run_group(group: str, args, p) -> dict:
    kind, size, dtype = (group.split("-") + ["", ""])[:3]
    if dtype == "bf16" and not args.bf16:
        return {"skipped": NO_BF16}
    if kind == "matmul":
        return bench_matmul(args, p)
    if kind == "decode":
        return bench_decode(args, p, size)
    return bench_train(args, p, kind, size, dtype)


def child(args) -> None:
    """``--child GROUP``: measure one group in this fresh process and write its JSON to ``--result``."""
    torch.set_num_threads(args.threads)
    t = time.time()
    res = run_group(args.child, args, plan(args))
    res["peak_rss_mb_group"] = peak_rss_mb()  # whole process since the last reset (Linux) or since start
    res["wall_s"] = round(time.time() - t, 1)
    Path(args.result).write_text(json.dumps(res))


def spawn(group: str, args) -> dict:
    with tempfile.TemporaryDirectory() as d:
        result = Path(d) / "result.json"
        cmd = [sys.executable, __file__, "--child", group, "--result", str(result), "--threads", str(args.threads)]
        cmd += ["--quick"] * args.quick + ["--force-bf16"] * args.force_bf16
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
        r = subprocess.run(cmd, env=env, stdout=sys.stderr, stderr=subprocess.PIPE, text=True)
        sys.stderr.write(r.stderr)
        if r.returncode or not result.exists():
            return {"error": f"exit status {r.returncode}: " + r.stderr.strip()[-2000:]}
        return json.loads(result.read_text())


def derive(groups: dict) -> float | None:
    """Training speed-ups (median over batches of HF time / minimass time), and achieved FLOP/s as a fraction
    of the fp32 matmul peak measured in the same run (returned, in GFLOP/s)."""
    mm = groups.get("matmul", {})
    peak = max((v["gflop_per_s"] for k, v in mm.items() if isinstance(v, dict) and k.endswith("float32")),
               default=None)
    for g in groups.values():
        if "loss_check" in g:
            g["minimass_over_hf"] = g["minimass_over_hf_paired"]["median"]
            for name in ("minimass", "hf"):
                if peak:
                    g[name]["fraction_of_fp32_peak"] = round(g[name]["flop_per_s"]["median"] / 1e9 / peak, 4)
    return peak


def fmt(x, digits=0):
    return "-" if x is None else f"{x:,.{digits}f}"


def table(res: dict) -> str:
    """The markdown tables of a results dict."""
    m, g = res["machine"], res["groups"]
    dirty = f", uncommitted changes in {len(m['git_dirty'])} file(s)" if m["git_dirty"] else ""
    lines = [f"Run of {m['date']} on {m['cpu']} ({m['cores']} cores, {m['cpu_capability']}, native bf16: "
             f"{'yes' if m['bf16_native'] else 'no'}), {m['threads']} threads, torch {m['torch']}, transformers "
             f"{m['transformers']}, commit `{(m['git_commit'] or '?')[:10]}`{dirty}; whole run "
             f"{res['runtime_s']:.0f} s{' (--quick)' if res['settings']['quick'] else ''}.", ""]
    lines += ["**Training step** (forward + backward + Adam): predicted (target) tokens/s, median over steps; "
              "speed-up: median over batches of HF time / minimass time on the same batch.", "",
              "| benchmark | minimass tok/s | HF BART tok/s | speed-up (paired) | step ms minimass / HF "
              "| % of fp32 peak minimass / HF | peak RSS MB minimass / HF | steps |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in g.items():
        if not name.startswith(("mass", "finetune")):
            continue
        if "loss_check" not in r:
            lines.append(f"| {name} | {r.get('skipped') or r.get('error', '?')[:120]} |||||||")
            continue
        a, b = r["minimass"], r["hf"]
        pct = " / ".join(fmt(100 * x["fraction_of_fp32_peak"], 1) if "fraction_of_fp32_peak" in x else "-"
                         for x in (a, b))
        lines.append(f"| {name} | {fmt(a['tok_per_s']['median'])} | {fmt(b['tok_per_s']['median'])} | "
                     f"{fmt(r.get('minimass_over_hf'), 2)} | {fmt(1e3 * a['step_s']['median'], 1)} / "
                     f"{fmt(1e3 * b['step_s']['median'], 1)} | {pct} | {fmt(a['peak_rss_mb'])} / "
                     f"{fmt(b['peak_rss_mb'])} | {a['step_s']['n']} |")
    for name, r in g.items():
        if not name.startswith("decode"):
            continue
        steps = r.get("checkpoint_info", {}).get("steps", "?")
        lines += ["", f"**Decoding** {N_DECODE} held-out verses ({name}: a model trained {steps} steps to copy "
                  f"English, one call over all sentences, length limit {r.get('limit', '?')}): sentences/s, "
                  "median over calls.", "",
                  "| search | minimass sent/s | HF sent/s | speed-up | identical outputs | output length "
                  "min / median / max (at limit) | peak RSS MB minimass / HF | calls |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        if "modes" not in r:
            lines.append(f"| {r.get('error', '?')[:200]} ||||||||")
            continue
        for mode, x in r["modes"].items():
            a, b, ol = r["minimass"][mode], r["hf"][mode], x["output_len"]
            lines.append(f"| {mode} | {fmt(a['sent_per_s'], 1)} | {fmt(b['sent_per_s'], 1)} | "
                         f"{fmt(x['minimass_over_hf'], 2)} | {x['identical_outputs']} / {x['sentences']} | "
                         f"{ol['min']} / {ol['median']:g} / {ol['max']} ({ol['at_limit']}) | "
                         f"{fmt(r['minimass']['peak_rss_mb'])} / {fmt(r['hf']['peak_rss_mb'])} | "
                         f"{a['time_s']['n']} |")
    mm = g.get("matmul", {})
    if "error" not in mm:
        lines += ["", "**Matmul peak** (`F.linear`, median of calls): "
                  + "; ".join(f"{k}: {v['gflop_per_s']:,.1f} GFLOP/s" for k, v in mm.items()
                              if isinstance(v, dict) and "gflop_per_s" in v) + "."]
    return "\n".join(lines) + "\n"


def write_readme(path: Path, res: dict) -> None:
    """Replace everything below MARKER in the README with the tables; the prose above it is kept."""
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    head = text.split(MARKER)[0].rstrip("\n")
    path.write_text(f"{head}\n\n{MARKER}\n\n{table(res)}")


def profile(args) -> None:
    """torch.profiler's top ops (self CPU time) for one minimass MASS step of the cpu model (smoke at --quick)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    torch.set_num_threads(args.threads)
    size = "smoke" if args.quick else "cpu"
    raw = json.loads(prepare_inputs(vocab_of(size)).read_text())["mass"]
    vocab = tokenizer(vocab_of(size)).vocab_size
    torch.manual_seed(0)
    model = build_model(size, vocab_size=vocab)
    opt = torch.optim.Adam(model.parameters(), **ADAM)
    batches = [mass_mask(s, 0.5, vocab_size=vocab, lang=0, generator=torch.Generator().manual_seed(i))
               for i, s in enumerate(raw[:3])]

    def step(b):
        loss, n = batch_loss(model, b)
        (loss / n).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for b in batches[:2]:  # warm-up
        step(b)
    with torch_profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        step(batches[2])
    b = batches[2]
    print(f"one MASS step, {size} model, {args.threads} threads: batch {tuple(b.src.shape)}, decoder "
          f"{tuple(b.dec_in.shape)}, {b.n_tokens} target tokens")
    ka = prof.key_averages()
    print(ka.table(sort_by="self_cpu_time_total", row_limit=25))
    print("by input shape:")
    print(prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=15))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke-size model only, few steps: checks the script")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--force-bf16", action="store_true", help="measure bf16 even without native bf16 on this CPU")
    ap.add_argument("--profile", action="store_true", help="print the top ops of one cpu-size MASS step and exit")
    ap.add_argument("--only", help="comma-separated groups (e.g. mass-cpu-fp32,decode-cpu-fp32)")
    ap.add_argument("--out", help="results JSON (default: bench/results.json for a full run, else a temp file)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.bf16 = bf16_native() or args.force_bf16
    if args.child:
        return child(args)
    if args.profile:
        return profile(args)

    t0 = time.time()
    torch.set_num_threads(args.threads)
    p = plan(args)
    official = not (args.quick or args.only)
    out = Path(args.out) if args.out else ROOT / "bench" / "results.json" if official else Path(
        tempfile.mkdtemp(prefix="minimass-bench-")) / "results.json"
    log(f"groups: {', '.join(p['groups'])}; {args.threads} threads; results -> {out}")
    for size in p["sizes"]:
        prepare_inputs(vocab_of(size))
    failed = {}
    if any(g.startswith("decode") for g in p["groups"]):
        try:
            prepare_inputs(vocab_of(p["decode"]))
            prepare_checkpoint(p["decode"])
        except Exception:  # noqa: BLE001 - the other groups still run
            traceback.print_exc()
            failed[f"decode-{p['decode']}-fp32"] = {"error": "preparing the checkpoint failed: "
                                                    + traceback.format_exc()[-1500:]}
    groups = {}
    for g in p["groups"]:
        t = time.time()
        log(f"{g} ...")
        if g in failed:
            groups[g] = failed[g]
        elif g.endswith("bf16") and not args.bf16:
            groups[g] = {"skipped": NO_BF16}
        else:
            groups[g] = spawn(g, args)
        log(f"{g}: {'error' if 'error' in groups[g] else 'skipped' if 'skipped' in groups[g] else 'done'} "
            f"in {time.time() - t:.0f} s")
    peak = derive(groups)
    res = {"machine": machine_info(args), "runtime_s": round(time.time() - t0, 1),
           "settings": {"quick": args.quick, "threads": args.threads, "force_bf16": args.force_bf16,
                        "max_tokens": MAX_TOKENS, "max_len": MAX_LEN, "warmup_steps": p["warmup"],
                        "steps": p["steps"], "decode_calls": p["decode_reps"], "matmul_calls": p["matmul_reps"],
                        "adam": ADAM, "mask_ratio": 0.5, "decode_checkpoint": CKPT[p["decode"]]},
           "peak_fp32_gflop_per_s": peak, "groups": groups}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    print(table(res))
    if official:
        write_readme(ROOT / "bench" / "README.md", res)
        log("wrote bench/results.json and the table in bench/README.md")
    log(f"results: {out}; whole run {res['runtime_s']:.0f} s")
    if any("error" in g for g in groups.values() if isinstance(g, dict)):
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
