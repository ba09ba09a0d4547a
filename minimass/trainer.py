"""One Trainer for every objective: MASS pre-training (Sec. 3.2), the baselines (MLM, CLM, DAE),
supervised fine-tuning (Sec. 4.2-4.4) and back-translation (Sec. 4.2).

A run visits its :class:`Task` s round-robin, one batch per step (the official code: a random order
each iteration), so a step's task, batch and masking depend on (seed, step) alone. Checkpoints hold
all a run needs to continue (weights, optimizer, scheduler, RNG states, each task's data position,
the step): a run killed at any moment resumes to the same weights, bit for bit on CPU."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import Tensor, nn, optim
from tqdm import tqdm

from .data import batch_indices, example_len
from .masking import Batch, clm_batch, dae_noise, mass_mask, mlm_mask, pad, seq2seq_batch
from .model import ModelConfig, Seq2Seq, override
from .presets import PRESETS
from .search import greedy
from .tokenizer import EOS, PAD, Tokenizer


@dataclass
class TrainConfig:
    lr: float = 1e-4            # Adam learning rate (Sec. 4.1)
    betas: tuple = (0.9, 0.98)  # Adam betas (XLM)
    warmup: int = 4000          # linear warm-up steps, then inverse-sqrt decay
    max_steps: int = 10000      # optimizer steps to run
    max_time: float = 0.0       # seconds of training, then stop as at max_steps (0: no limit)
    max_tokens: int = 3000      # tokens per batch per GPU (Sec. 4.1)
    accum: int = 1              # batches accumulated per optimizer step
    clip: float = 1.0           # gradient-norm clipping (0 = off)
    label_smoothing: float = 0.0
    mask_ratio: float = 0.5     # MASS fragment length k = 50% of m (Sec. 4.5)
    mask_mode: str = "mass"     # "mass", or the Table 6 ablations "discrete" and "feed"
    mask_first: str = "mask"    # decoder's first input: "mask" (paper) or "prev" (official code)
    bt_max_len_a: float = 1.3   # back-translation length a * src_len + b (XLM's default)
    bt_max_len_b: int = 5
    seed: int = 0               # fixes batches, masking and dropout
    log_every: int = 20         # steps between log lines
    eval_every: int = 500       # steps between validations (0 = only at the end)
    save_every: int = 500       # steps between checkpoints (also saved at the end and on Ctrl-C)
    keep: int = 2               # checkpoints kept on disk (older ones are removed)
    best: str = ""              # validation metric: the model at its lowest is kept in run_dir/best
    patience: int = 0           # early stop after this many validations with no new best (0 = off)
    device: str = "auto"        # "auto": cuda, then mps, then cpu
    bf16: bool = True           # bf16 autocast on CUDA
    cpu_bf16: bool = False      # CPU bf16 autocast: fast only on AVX512-BF16/AMX (bench/README.md)
    progress: bool = True       # tqdm bar
    prefetch: bool = True       # build next step's batches in a thread (not bt: it needs the model)
    compile: bool = False       # torch.compile encode and decode (bucketed lengths: few recompiles)

TRAIN_PRESETS: dict[str, dict] = {name: p["train"] for name, p in PRESETS.items()}  # see presets.py
OBJECTIVES = ("mass", "mlm", "clm", "dae", "mt", "bt")
# More objectives, added from outside the package (notebooks/lab.py: BART's "infill", T5's "span"):
# name -> fn(examples, lang=, vocab_size=, generator=) -> Batch
BATCHERS: dict[str, Callable[..., Batch]] = {}

@dataclass
class Task:
    """One training stream: an objective over examples (id lists, or (src, tgt) pairs for ``mt``).
    ``lang``: the language of the examples, which is the target side of the pairs trained on;
    ``src_lang``: their source side (``bt``: the synthetic source, generated into this language)."""
    objective: str
    data: Sequence
    lang: int = 0
    src_lang: int = 0
    name: str = ""
    valid: Sequence = field(default_factory=list)

    def __post_init__(self):
        if self.objective not in OBJECTIVES + tuple(BATCHERS):
            known = ", ".join(OBJECTIVES + tuple(BATCHERS))
            raise ValueError(f"unknown objective {self.objective!r}; known: {known}")
        if not self.data:
            raise ValueError(f"task {self.name or self.objective}: no training examples")
        self.name = self.name or f"{self.objective}-{self.lang}"

def make_batch(task: Task, examples: list, cfg: TrainConfig, vocab_size: int,
               g: torch.Generator) -> Batch:
    """A task's examples as a :class:`Batch` for its objective (the Trainer handles ``bt``)."""
    o = task.objective
    if o == "mass":
        return mass_mask(examples, cfg.mask_ratio, vocab_size=vocab_size, lang=task.lang,
                         mode=cfg.mask_mode, first=cfg.mask_first, generator=g)
    if o == "mlm":
        return mlm_mask(examples, vocab_size=vocab_size, lang=task.lang, generator=g)
    if o == "clm":
        return clm_batch(examples, lang=task.lang)
    if o == "dae":
        return dae_noise(examples, lang=task.lang, generator=g)
    if o in BATCHERS:
        return BATCHERS[o](examples, lang=task.lang, vocab_size=vocab_size, generator=g)
    return seq2seq_batch(examples, src_lang=task.src_lang, tgt_lang=task.lang)

def batch_loss(model: Seq2Seq, b: Batch, label_smoothing: float = 0.0) -> tuple[Tensor, int]:
    """Summed cross-entropy over the batch's target tokens, and their count.
    Only the positions that have a target are projected onto the vocabulary: padding (and Feed's
    context positions) never reach the output layer, the largest matrix of a small model."""
    if b.dec_in is None:      # encoder-only masked LM (BERT+LM baseline)
        h = model.encode(b.src, b.src_lang)[0]
    elif b.src is None:       # decoder-only causal LM (BERT+LM baseline)
        h = model.decode(b.dec_in, b.tgt_lang, positions=b.positions, project=False)
    else:
        memory = model.encode(b.src, b.src_lang)  # (memory, its mask)
        h = model.decode(b.dec_in, b.tgt_lang, *memory, b.positions, project=False)
    keep = b.target != PAD
    logits = model.project(h[keep])  # (N, V) for the N target tokens
    loss = F.cross_entropy(logits.float(), b.target[keep], reduction="sum",
                           label_smoothing=label_smoothing)
    return loss, b.n_tokens

@torch.no_grad()
def valid_perplexity(model: Seq2Seq, task: Task, cfg: TrainConfig) -> float:
    """The validation perplexity: ``task.valid`` under ``task``'s objective (fixed masking seed)."""
    nll, n, device = 0.0, 0, next(model.parameters()).device
    for k, idx in enumerate(batch_indices([example_len(x) for x in task.valid], cfg.max_tokens, 0)):
        g = torch.Generator().manual_seed(10_007 + k)
        b = make_batch(task, [task.valid[j] for j in idx], cfg, model.cfg.vocab_size, g)
        loss, cnt = batch_loss(model, b.to(device))
        nll, n = nll + float(loss), n + cnt
    return math.exp(min(nll / max(n, 1), 50.0))

class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read (truncated, corrupt or missing a file)."""

def save_checkpoint(path: Path, model: Seq2Seq, state: dict,
                    tokenizer: Tokenizer | None = None) -> None:
    """Write ``path`` atomically: files go to a temporary folder that is renamed when complete."""
    path = Path(path)
    tmp = path.with_name(f".tmp-{path.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, tmp / "model.safetensors")
    torch.save({**state, "model_config": asdict(model.cfg)}, tmp / "state.pt")
    if tokenizer is not None:
        tokenizer.save(tmp / "tokenizer.model")
    for f in tmp.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    if path.exists():
        shutil.rmtree(path)
    os.replace(tmp, path)

def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu",
                    weights: bool = True):
    """Read a checkpoint folder without building a model: ``(tensors or None if not weights,
    state)``; ``state`` holds the step, optimizer, scheduler, RNG states, ``train_config`` and
    ``model_config``. Raises :class:`CheckpointError` naming the folder and the bad file."""
    out = {}
    readers = (("state.pt", lambda f: torch.load(f, map_location=map_location, weights_only=True)),
               ("model.safetensors", lambda f: load_file(f, device=str(map_location))))
    for name, read in readers[: 1 + weights]:
        try:
            out[name] = read(Path(path) / name)
        except Exception as e:  # noqa: BLE001 - any failure means the checkpoint is unusable
            msg = f"cannot load checkpoint {path}: {name}: {type(e).__name__}: {e}"
            raise CheckpointError(msg) from e
    return out.get("model.safetensors"), out["state.pt"]

def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu"):
    """Load a checkpoint folder on any device (CPU by default, whatever it was saved on) as
    ``(model, tokenizer or None, state)``; raises :class:`CheckpointError` naming the bad file."""
    tensors, state = read_checkpoint(path, map_location)
    try:
        model = Seq2Seq(ModelConfig(**state.pop("model_config")))
        model.load_state_dict(tensors)
        tok_file = Path(path) / "tokenizer.model"
        tokenizer = Tokenizer.load(tok_file) if tok_file.exists() else None
    except Exception as e:  # noqa: BLE001
        raise CheckpointError(f"cannot load checkpoint {path}: {type(e).__name__}: {e}") from e
    return model, tokenizer, state

# Training-config keys that may change on resumption without changing what the run learns
BOOKKEEPING = ("max_steps", "progress", "device", "log_every", "eval_every", "save_every", "keep")

def check_resume(checkpoint: str | Path | dict, model_cfg: ModelConfig,
                 train_cfg: TrainConfig | None = None) -> dict:
    """Check that a checkpoint (folder, or its state) can be resumed with these configs.
    Model-config differences raise ``ValueError`` naming each key, saved and wanted; training-config
    differences outside ``BOOKKEEPING`` warn and are returned as ``{key: (saved, wanted)}``."""
    state = (checkpoint if isinstance(checkpoint, dict)
             else read_checkpoint(checkpoint, weights=False)[1])
    saved, now = state["model_config"], asdict(model_cfg)
    if diff := {k: (saved.get(k), v) for k, v in now.items() if saved.get(k) != v}:
        keys = ", ".join(f"{k} (saved {a!r}, wanted {b!r})" for k, (a, b) in diff.items())
        raise ValueError(f"cannot resume a checkpoint of another model: {keys}. "
                         "Use another run folder.")
    saved, now = state["train_config"], asdict(train_cfg) if train_cfg else {}
    if diff := {k: (saved[k], v) for k, v in now.items()
                if k in saved and k not in BOOKKEEPING and saved[k] != v}:
        msg = f"resuming with other training settings (saved, wanted): {diff}"
        warnings.warn(msg, stacklevel=2)
    return diff

def checkpoints(run_dir: str | Path) -> list[Path]:
    """Complete checkpoints of a run, newest first."""
    return sorted(Path(run_dir).glob("step_*"), key=lambda p: int(p.name[5:]), reverse=True)

def pick_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA, then Apple MPS, then CPU. On CUDA, cuDNN's attention is switched off for the
    process: it plans anew for every sequence length (2.8-4.7x slower steps, bench/gpu-profile*)."""
    if name == "auto":
        mps = torch.backends.mps.is_available()
        name = "cuda" if torch.cuda.is_available() else "mps" if mps else "cpu"
    device = torch.device(name)
    if device.type == "cuda":
        torch.backends.cuda.enable_cudnn_sdp(False)
    return device

class Trainer:
    """Trains ``model`` on ``tasks`` in ``run_dir``, resuming from the newest good checkpoint there.
    ``validate(model) -> dict`` adds task-specific metrics (BLEU, ROUGE) to each validation.
    Under ``torchrun`` each process builds the same global batch and keeps its share of rows;
    gradients are summed over processes once a step (DistributedDataParallel without its hooks)."""
    def __init__(self, model: Seq2Seq, tasks: Sequence[Task], cfg: TrainConfig,
                 run_dir: str | Path, tokenizer: Tokenizer | None = None,
                 validate: Callable[[Seq2Seq], dict] | None = None):
        if not tasks:
            raise ValueError("Trainer needs at least one Task")
        self.cfg, self.tasks, self.tokenizer, self.validate = cfg, list(tasks), tokenizer, validate
        self.run_dir = Path(run_dir)
        self.ddp = dist.is_available() and dist.is_initialized()
        self.rank, self.world = (dist.get_rank(), dist.get_world_size()) if self.ddp else (0, 1)
        self.device = pick_device(cfg.device)
        self.model = model.to(self.device)
        fused = self.device.type == "cuda"  # one kernel for the whole update
        self.opt = optim.Adam(model.parameters(), lr=cfg.lr, betas=tuple(cfg.betas), fused=fused)
        if cfg.compile:
            model.encode, model.decode = torch.compile(model.encode), torch.compile(model.decode)
        w = max(cfg.warmup, 1)
        self.sched = optim.lr_scheduler.LambdaLR(
            self.opt, lambda s: min((s + 1) / w, math.sqrt(w / (s + 1))))
        self.step, self.best = 0, math.inf  # best: the lowest value of cfg.best so far
        self.best_step, self.stale, self.stopped = 0, 0, ""  # stale: evals since best; stopped: why
        self.pos = {t.name: [0, 0] for t in self.tasks}   # task -> [epoch, batch index]
        self._order: dict[str, tuple[int, list]] = {}
        self._pool, self._ahead = None, None  # prefetch thread, and (key, future) of its batches
        self.log_path = self.run_dir / "log.jsonl"
        self.resume()

    def examples_at(self, task: Task, pos: list) -> tuple[list, list]:
        """The task's global batch of examples at ``pos`` ([epoch, index]) and the next position."""
        epoch, i = pos
        if self._order.get(task.name, (None,))[0] != epoch:
            seed = self.cfg.seed * 1_000_003 + epoch * 7919 + sum(map(ord, task.name))
            self._order[task.name] = (epoch, batch_indices([example_len(x) for x in task.data],
                                                           self.cfg.max_tokens * self.world, seed))
        order = self._order[task.name][1]
        examples = [task.data[j] for j in order[i]]
        return examples, [epoch + (i + 1 == len(order)), (i + 1) % len(order)]

    def next_examples(self, task: Task) -> list:
        """The task's next global batch of examples; advances its (epoch, index) position."""
        examples, self.pos[task.name] = self.examples_at(task, self.pos[task.name])
        return examples

    def build(self, task: Task, examples: list, step: int) -> Batch:
        """The CPU batch of ``step`` from ``examples``: masking depends on (seed, step) alone."""
        g = torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + step)
        if task.objective == "bt":
            examples = self.back_translate(task, examples)
        b = make_batch(task, examples, self.cfg, self.model.cfg.vocab_size, g)
        if self.world > 1:  # keep this process's rows of the global batch
            rows = {k: getattr(b, k) for k in ("src", "dec_in", "target", "positions")}
            mine = {k: v[self.rank::self.world] if v is not None else None for k, v in rows.items()}
            b = Batch(**mine, src_lang=b.src_lang, tgt_lang=b.tgt_lang)
        return b.pin_memory() if self.device.type == "cuda" else b

    def step_batches(self, task: Task, step: int, pos: list) -> tuple[list[Batch], list]:
        """Optimizer step ``step``'s ``accum`` CPU batches from ``pos``, and the next position."""
        batches = []
        for micro in range(self.cfg.accum):
            examples, pos = self.examples_at(task, pos)
            batches.append(self.build(task, examples, step * self.cfg.accum + micro))
        return batches, pos

    @torch.no_grad()
    def back_translate(self, task: Task, sents: list) -> list:
        """Sec. 4.2: translate monolingual ``sents`` (language ``lang``) into ``src_lang``
        greedily in eval mode, and return synthetic pairs (translation, original) to train on."""
        was = self.model.training
        self.model.eval()
        out = greedy(self.model, pad(sents).to(self.device), task.lang, task.src_lang,
                     max_len_a=self.cfg.bt_max_len_a, max_len_b=self.cfg.bt_max_len_b)
        self.model.train(was)
        return [(list(y) + [EOS], list(x)) for y, x in zip(out, sents)]

    def state(self) -> dict:
        rng = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return dict(step=self.step, best=self.best, pos=self.pos, optimizer=self.opt.state_dict(),
                    best_step=self.best_step, stale=self.stale, stopped=self.stopped,
                    scheduler=self.sched.state_dict(), rng=rng, train_config=asdict(self.cfg))

    def save(self, name: str = "") -> None:
        if self.rank == 0:
            path = self.run_dir / (name or f"step_{self.step:07d}")
            save_checkpoint(path, self.model, self.state(), self.tokenizer)
            for old in checkpoints(self.run_dir)[max(self.cfg.keep, 1):]:
                shutil.rmtree(old, ignore_errors=True)
        if self.ddp:
            dist.barrier()

    def resume(self) -> None:
        """Continue from the newest checkpoint that loads; a corrupt one is reported and skipped."""
        for path in checkpoints(self.run_dir):
            try:
                tensors, st = read_checkpoint(path, self.device)
            except CheckpointError as e:
                tqdm.write(f"warning: {e}; trying an older checkpoint")
                continue
            check_resume(st, self.model.cfg, self.cfg)
            self.model.load_state_dict(tensors)
            self.opt.load_state_dict(st["optimizer"])
            self.sched.load_state_dict(st["scheduler"])
            self.step, self.pos, self.best = st["step"], st["pos"], st.get("best", math.inf)
            self.best_step, self.stale = st.get("best_step", 0), st.get("stale", 0)
            self.stopped = st.get("stopped", "")
            torch.set_rng_state(st["rng"]["cpu"].cpu())
            if "cuda" in st["rng"] and torch.cuda.is_available():
                torch.cuda.set_rng_state_all([s.cpu() for s in st["rng"]["cuda"]])
            if self.rank == 0 and self.log_path.exists():  # drop log lines past the checkpoint
                logged = self.log_path.read_text().splitlines()
                lines = [ln for ln in logged if json.loads(ln)["step"] <= self.step]
                self.log_path.write_text("".join(ln + "\n" for ln in lines))
            return

    def log(self, record: dict) -> None:
        if self.rank == 0:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "a") as f:
                f.write(json.dumps(record) + "\n")

    def all_sum(self, x: float) -> float:
        """Sum a number over processes (identity without DDP)."""
        if not self.ddp:
            return x
        t = torch.tensor(float(x), dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return type(x)(t.item())

    def train_step(self) -> dict:
        """One optimizer step over ``accum`` batches of the current task; returns its metrics."""
        task = self.tasks[self.step % len(self.tasks)]
        self.model.train()
        self.opt.zero_grad(set_to_none=True)
        amp = (self.cfg.bf16 if self.device.type == "cuda"
               else self.cfg.cpu_bf16 and self.device.type == "cpu")
        t0, key = time.perf_counter(), (self.step, task.name, tuple(self.pos[task.name]))
        if self._ahead and self._ahead[0] == key:  # built in the background while the last step ran
            batches, self.pos[task.name] = self._ahead[1].result()
        else:
            batches, self.pos[task.name] = self.step_batches(task, self.step, self.pos[task.name])
        nxt, self._ahead = self.tasks[(self.step + 1) % len(self.tasks)], None
        if self._pool and nxt.objective != "bt" and self.step + 1 < self.cfg.max_steps:
            pos = list(self.pos[nxt.name])  # built off the critical path
            self._ahead = ((self.step + 1, nxt.name, tuple(pos)),
                           self._pool.submit(self.step_batches, nxt, self.step + 1, pos))
        wait = time.perf_counter() - t0  # seconds this step waited for its batches
        batches = [b.to(self.device, non_blocking=True) for b in batches]
        n_tok = self.all_sum(sum(b.n_tokens for b in batches))  # predicted tokens of the whole step
        loss_sum = 0.0
        for b in batches:
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=amp):
                loss = batch_loss(self.model, b, self.cfg.label_smoothing)[0]
            (loss / max(n_tok, 1)).backward()  # all-reduced below: d(global sum) / (global count)
            loss_sum += float(loss.detach())
        if self.ddp:  # data parallel: one all-reduce sums every gradient over the processes
            grads = [p.grad for p in self.model.parameters() if p.grad is not None]
            flat = torch.cat([g.flatten() for g in grads])
            dist.all_reduce(flat)
            for g, v in zip(grads, flat.split([g.numel() for g in grads])):
                g.copy_(v.view_as(g))
        loss_sum = self.all_sum(loss_sum)
        if not math.isfinite(loss_sum):
            raise FloatingPointError(
                f"loss is {loss_sum} at step {self.step} (task {task.name}); stopping. "
                f"The last good checkpoint is kept in {self.run_dir}: "
                "lower train.lr or raise train.warmup and resume.")
        max_norm = self.cfg.clip if self.cfg.clip > 0 else math.inf
        gnorm = nn.utils.clip_grad_norm_(self.model.parameters(), max_norm)
        self.opt.step()
        self.sched.step()
        self.step += 1
        return {"task": task.name, "loss": loss_sum / max(n_tok, 1), "tokens": n_tok,
                "gnorm": float(gnorm), "wait_s": wait}

    @torch.no_grad()
    def evaluate(self) -> dict:
        """Validation perplexity per task (fixed masking seed), their geometric mean ``valid_ppl``
        when there are several, plus ``validate(model)`` metrics."""
        self.model.eval()  # a bt task's valid examples are real (src, tgt) pairs
        out = {f"valid_ppl/{t.name}": valid_perplexity(self.model, t, self.cfg)
               for t in self.tasks if t.valid}
        if len(out) > 1:  # one number to select on over tasks (both directions of back-translation)
            out["valid_ppl"] = math.exp(sum(map(math.log, out.values())) / len(out))
        if self.validate is not None:
            out.update(self.validate(self.model))
        self.model.train()
        return out

    def summary(self) -> dict:
        """How the run ended: ``best`` (the lowest ``cfg.best``), its ``best_step``, ``last_step``,
        and ``stopped``: ``"converged"`` (no new best for ``patience`` validations), ``"budget"``
        (``max_steps`` or ``max_time`` came first) or ``""`` (still running, or interrupted)."""
        return {"best": self.best, "best_step": self.best_step, "last_step": self.step,
                "stopped": self.stopped}

    def _select(self, metrics: dict) -> None:
        """Model selection (Sec. 4.2: the best model on the development set) and early stopping."""
        if self.cfg.best not in metrics:
            raise ValueError(f"train.best={self.cfg.best!r} is not a validation metric; "
                             f"they are: {', '.join(metrics)}")
        if metrics[self.cfg.best] < self.best:
            self.best, self.best_step, self.stale = metrics[self.cfg.best], self.step, 0
            self.save("best")
        else:
            self.stale += 1
        if self.cfg.patience and self.stale >= self.cfg.patience:
            self.stopped = "converged"

    def train(self) -> dict:
        """Run to ``max_steps``, or until early stopping (``cfg.patience``), resuming where a
        previous run stopped; returns the last validation (see :meth:`summary` for how it ended)."""
        cfg, last_eval = self.cfg, {}
        if cfg.patience and not cfg.best:
            raise ValueError("train.patience needs train.best, the validation metric to stop on")
        if self.stopped == "budget" and self.step < cfg.max_steps:
            self.stopped = ""  # a finished run given more steps goes on
        bar = tqdm(total=cfg.max_steps, initial=self.step, desc=f"train {self.run_dir.name}",
                   disable=not cfg.progress or self.rank != 0, dynamic_ncols=True)
        t0, agg, waited = time.time(), {}, 0.0  # task -> [summed loss, tokens] since last log line
        deadline = time.time() + cfg.max_time if cfg.max_time else math.inf
        main = threading.current_thread() is threading.main_thread()  # `kill` saves like Ctrl-C
        old = signal.signal(signal.SIGTERM, signal.default_int_handler) if main else None
        self._pool = ThreadPoolExecutor(1, "prefetch") if cfg.prefetch else None
        try:
            while self.step < cfg.max_steps and not self.stopped:
                m = self.train_step()
                a = agg.setdefault(m["task"], [0.0, 0])
                a[0], a[1] = a[0] + m["loss"] * m["tokens"], a[1] + m["tokens"]
                waited += m["wait_s"]
                bar.update(1)
                end = self.step == cfg.max_steps or time.time() >= deadline
                if self.step % cfg.log_every == 0 or end:
                    toks = sum(n for _, n in agg.values())
                    loss = sum(x for x, _ in agg.values()) / max(toks, 1)
                    rate, lr = toks / max(time.time() - t0, 1e-9), self.sched.get_last_lr()[0]
                    bar.set_postfix(loss=f"{loss:.3f}", lr=f"{lr:.1e}", tok_s=f"{rate:.0f}")
                    per_task = {f"loss/{k}": x / max(n, 1) for k, (x, n) in agg.items()}
                    wait = waited / max(time.time() - t0, 1e-9)  # share of time waiting on batches
                    self.log({"step": self.step, "loss": loss, **per_task, "tokens": toks,
                              "gnorm": m["gnorm"], "lr": lr, "tok_s": rate, "wait": wait,
                              "threads": torch.get_num_threads()})  # tok_s depends on it
                    t0, agg, waited = time.time(), {}, 0.0
                if (cfg.eval_every and self.step % cfg.eval_every == 0) or end:
                    last_eval = self.evaluate()
                    if last_eval:
                        self.log({"step": self.step, **last_eval})
                    if cfg.best:
                        self._select(last_eval)
                if end and not self.stopped:
                    self.stopped = "budget"
                if self.step % cfg.save_every == 0 or self.stopped:
                    self.save()
        except KeyboardInterrupt:
            tqdm.write(f"interrupted at step {self.step}: saving a checkpoint to resume from")
            self.save()
            raise
        finally:
            bar.close()
            if self._pool:
                self._pool.shutdown(cancel_futures=True)
            self._pool, self._ahead = None, None
            if main:
                signal.signal(signal.SIGTERM, old)
        return last_eval

def train_config(preset: str = "cpu", overrides: dict | None = None) -> TrainConfig:
    """A :class:`TrainConfig` from a named preset plus overrides (unknown keys are errors).
    ``$MINIMASS_MAX_STEPS`` caps ``max_steps``: a check that every code path runs at a preset's real
    sizes in a few steps (``scripts/gpu_check.py --notebook-preset gpu``)."""
    if preset not in TRAIN_PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(TRAIN_PRESETS)}")
    cfg = override(TrainConfig(), {**TRAIN_PRESETS[preset], **(overrides or {})})
    cap = int(os.environ.get("MINIMASS_MAX_STEPS") or 0)
    return replace(cfg, max_steps=min(cfg.max_steps, cap)) if cap else cfg

def read_log(run_dir: str | Path, key: str | None = None) -> list:
    """The run's JSONL records, or with ``key`` the ``(step, value)`` pairs having it (to plot)."""
    p = Path(run_dir) / "log.jsonl"
    records = [json.loads(ln) for ln in p.read_text().splitlines()] if p.exists() else []
    return records if key is None else [(r["step"], r[key]) for r in records if key in r]
