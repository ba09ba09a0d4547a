"""Trainer: every objective trains, runs resume bit for bit after SIGKILL, bad checkpoints and NaNs are caught."""

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from toy import counting, tiny_model

from minimass.masking import seq2seq_batch
from minimass.tokenizer import EOS
from minimass.trainer import (
    CheckpointError,
    Task,
    Trainer,
    batch_loss,
    check_resume,
    checkpoints,
    load_checkpoint,
    make_batch,
    read_log,
    train_config,
)

HERE = Path(__file__).resolve().parent
SCRIPT = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
from toy import counting, tiny_model
from minimass.trainer import Task, Trainer, train_config
cfg = train_config("smoke", {{"max_steps": int(sys.argv[2]), "max_tokens": 300, "save_every": 5, "eval_every": 0,
                             "progress": False, "lr": 3e-3}})
Trainer(tiny_model(), [Task("mass", counting(300), lang=0), Task("mass", counting(300, seed=2), lang=1)],
        cfg, sys.argv[1]).train()
"""


def cfg(**kw):
    return train_config("smoke", {"progress": False, "eval_every": 0, "max_tokens": 300, "lr": 3e-3, **kw})


def test_mass_loss_falls(tmp_path):
    valid = counting(60, seed=9)
    t = Trainer(tiny_model(), [Task("mass", counting(400), valid=valid)], cfg(max_steps=150), tmp_path)
    before = t.evaluate()["valid_ppl/mass-0"]
    after = t.train()["valid_ppl/mass-0"]
    assert after < before / 3
    losses = [r["loss"] for r in read_log(tmp_path) if "loss" in r]
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("objective", ["mlm", "clm", "dae", "mt", "bt"])
def test_every_objective_trains(tmp_path, objective):
    data = counting(200)
    if objective == "mt":  # reverse the sequence: a supervised task
        data = [(s, s[-2::-1] + [EOS]) for s in data]
    task = Task(objective, data, lang=1, src_lang=0, valid=data[:20] if objective != "bt" else [])
    t = Trainer(tiny_model(), [task], cfg(max_steps=25), tmp_path)
    before = t.evaluate()
    after = t.train()
    log = [r for r in read_log(tmp_path) if "loss" in r]
    assert len(log) >= 2 and log[-1]["loss"] < log[0]["loss"]  # it learns: the loss falls
    for key in before:  # and on held-out examples (bt validates on none here)
        assert after[key] < 0.9 * before[key], (key, before[key], after[key])
    assert checkpoints(tmp_path)[0].name == "step_0000025"


def test_log_lines_give_the_time_and_threads_of_their_steps(tmp_path):
    """A run's log alone says how long its training took (tokens / tok_s over its lines) and with how many CPU
    threads: notebook 04 reports a checkpoint trained by another notebook from them."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t0 = time.time()
        Trainer(tiny_model(), [Task("mass", counting(100))], cfg(max_steps=10, log_every=5), tmp_path).train()
        wall = time.time() - t0
    finally:
        torch.set_num_threads(old)
    log = [r for r in read_log(tmp_path) if "tok_s" in r]
    assert [r["step"] for r in log] == [5, 10] and {r["threads"] for r in log} == {1}
    assert 0 < sum(r["tokens"] / r["tok_s"] for r in log) <= wall


def test_sigkill_resume_is_bit_identical(tmp_path):
    py = sys.executable
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([py, "-c", SCRIPT, str(tmp_path / "ref"), "30"], check=True, env=env)
    proc = subprocess.Popen([py, "-c", SCRIPT, str(tmp_path / "run"), "30"], env=env)
    deadline = time.time() + 60
    while not (tmp_path / "run" / "step_0000010").exists() and time.time() < deadline:
        time.sleep(0.005)
    time.sleep(0.03)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert checkpoints(tmp_path / "run")[0].name != "step_0000030", "the run ended before it was killed"
    subprocess.run([py, "-c", SCRIPT, str(tmp_path / "run"), "30"], check=True, env=env)
    a = load_file(tmp_path / "ref" / "step_0000030" / "model.safetensors")
    b = load_file(tmp_path / "run" / "step_0000030" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    steps = [r["step"] for r in read_log(tmp_path / "run")]
    assert steps == sorted(set(steps))  # no step logged twice after the resume


def test_corrupt_checkpoint_falls_back(tmp_path, capsys):
    Trainer(tiny_model(), [Task("mass", counting(100))], cfg(max_steps=10, save_every=5), tmp_path).train()
    newest = checkpoints(tmp_path)[0]
    data = (newest / "model.safetensors").read_bytes()
    (newest / "model.safetensors").write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(CheckpointError, match="model.safetensors|step_0000010"):
        load_checkpoint(newest)
    t = Trainer(tiny_model(), [Task("mass", counting(100))], cfg(max_steps=10, save_every=5), tmp_path)
    assert t.step == 5 and "trying an older checkpoint" in capsys.readouterr().out + capsys.readouterr().err


def test_nan_loss_stops_and_keeps_last_good(tmp_path):
    t = Trainer(tiny_model(), [Task("mass", counting(100))], cfg(max_steps=20, save_every=5), tmp_path)
    t.train()
    t.cfg = cfg(max_steps=40, save_every=5)
    with torch.no_grad():
        t.model.out_bias.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="last good checkpoint"):
        t.train()
    model, _, state = load_checkpoint(checkpoints(tmp_path)[0])
    assert state["step"] == 20 and not torch.isnan(model.out_bias).any()


def test_checkpoint_loads_on_cpu_and_rejects_unknown_keys(tmp_path):
    t = Trainer(tiny_model(), [Task("mass", counting(50))], cfg(max_steps=2), tmp_path)
    t.train()
    model, tok, state = load_checkpoint(tmp_path / "step_0000002", map_location="cpu")
    assert tok is None and state["step"] == 2 and next(model.parameters()).device.type == "cpu"
    assert json.loads(json.dumps(state["train_config"]))["max_steps"] == 2
    with pytest.raises(KeyError, match="unknown TrainConfig key"):
        train_config("smoke", {"learning_rate": 1})
    with pytest.raises(ValueError, match="unknown objective"):
        Task("electra", [[5, EOS]])


DDP_SCRIPT = f"""
import sys, torch, torch.distributed as dist
sys.path.insert(0, {str(HERE)!r})
from toy import counting, tiny_model
from minimass.trainer import Task, Trainer, train_config
if sys.argv[2] == "ddp":
    dist.init_process_group("gloo")
tokens = 200 if sys.argv[2] == "ddp" else 400
cfg = train_config("smoke", {{"max_steps": 8, "max_tokens": tokens, "log_every": 1, "progress": False, "eval_every": 0,
                             "save_every": 8, "lr": 3e-3}})
model = tiny_model(dropout=0.0)
Trainer(model, [Task("mass", counting(200))], cfg, sys.argv[1]).train()
if sys.argv[2] == "ddp":
    dist.destroy_process_group()
"""


def test_ddp_two_processes_match_one(tmp_path):
    """torchrun with 2 CPU processes (gloo), 200 tokens each, matches 1 process with 400-token batches."""
    py = sys.executable
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([py, "-c", DDP_SCRIPT, str(tmp_path / "one"), "single"], check=True, env=env)
    (tmp_path / "ddp.py").write_text(DDP_SCRIPT)
    subprocess.run([py, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29617",
                    str(tmp_path / "ddp.py"), str(tmp_path / "two"), "ddp"], check=True, env=env, timeout=240)
    a = load_file(tmp_path / "one" / "step_0000008" / "model.safetensors")
    b = load_file(tmp_path / "two" / "step_0000008" / "model.safetensors")
    # Adam turns the float noise of zero-expectation gradients (key biases) into lr-sized steps: compare
    # the weights loosely, and the per-step losses and gradient norms (which Adam's scaling would hide) tightly
    assert all(torch.allclose(a[k], b[k], atol=2e-3) for k in a)
    la = [r for r in read_log(tmp_path / "one") if "loss" in r]
    lb = [r for r in read_log(tmp_path / "two") if "loss" in r]
    assert len(la) == len(lb) == 8 and [r["tokens"] for r in la] == [r["tokens"] for r in lb]
    for x, y in zip(la, lb):
        assert x["loss"] == pytest.approx(y["loss"], rel=1e-4) and x["gnorm"] == pytest.approx(y["gnorm"], rel=1e-3)
    assert any(not torch.equal(a[k], tiny_model(dropout=0.0).state_dict()[k]) for k in a)


def test_accumulation_gives_the_token_mean_gradient(tmp_path):
    """accum=2 over a 1-pair and a 4-pair batch equals one batch holding all 5 pairs (token mean, not mean of means)."""
    pairs = [(s, s[-2::-1] + [EOS]) for s in counting(5, seed=4)]
    parts = [pairs[:1], pairs[1:]]
    t = Trainer(tiny_model(dropout=0.0), [Task("mt", pairs, lang=1)], cfg(max_steps=1, accum=2, clip=0), tmp_path)
    ref = tiny_model(dropout=0.0)
    ref.load_state_dict(t.model.state_dict())
    t.examples_at = lambda task, pos: (parts.pop(0), pos)
    t.train_step()
    loss, n = batch_loss(ref, seq2seq_batch(pairs, tgt_lang=1))
    (loss / n).backward()
    for (name, p), q in zip(t.model.named_parameters(), ref.parameters()):
        assert p.grad is not None and torch.allclose(p.grad, q.grad, atol=1e-6, rtol=0), name


def test_resume_refuses_another_model_naming_the_keys(tmp_path):
    Trainer(tiny_model(), [Task("mass", counting(50))], cfg(max_steps=2), tmp_path).train()
    with pytest.raises(ValueError, match=r"d_model \(saved 32, wanted 48\).*d_ff \(saved 64, wanted 96\)"):
        Trainer(tiny_model(d_model=48, d_ff=96), [Task("mass", counting(50))], cfg(max_steps=4), tmp_path)
    with pytest.warns(UserWarning, match="'lr': \\(0.003, 0.001\\)"):
        t = Trainer(tiny_model(), [Task("mass", counting(50))], cfg(max_steps=4, lr=1e-3), tmp_path)
    assert t.step == 2
    assert check_resume(checkpoints(tmp_path)[0], t.model.cfg, cfg(max_steps=9)) == {}  # max_steps: bookkeeping


@pytest.mark.parametrize("objective", ["mass", "feed", "mlm", "clm", "mt"])
def test_batch_loss_equals_full_projection(objective):
    """Projecting only the target positions gives the loss of the full (B, T, V) logits with padding ignored."""
    model, data = tiny_model(dropout=0.0).eval(), counting(12, seed=5)
    task = Task("mt" if objective == "mt" else "mass" if objective == "feed" else objective,
                [(s, s[::-1][1:] + [EOS]) for s in data] if objective == "mt" else data)
    b = make_batch(task, task.data, cfg(mask_mode="feed" if objective == "feed" else "mass"), 40, torch.Generator())
    if b.dec_in is None:
        logits = model.project(model.encode(b.src, 0)[0])
    elif b.src is None:
        logits = model.decode(b.dec_in, 0, positions=b.positions)
    else:
        logits = model(b.src, 0, b.dec_in, 0, b.positions)
    full = F.cross_entropy(logits.flatten(0, 1), b.target.flatten(), ignore_index=0, reduction="sum",
                           label_smoothing=0.1)
    loss, n = batch_loss(model, b, label_smoothing=0.1)
    assert n == int((b.target != 0).sum()) and torch.allclose(loss, full, rtol=1e-5)


def test_best_checkpoint_is_the_lowest_validation(tmp_path):
    valid = counting(40, seed=9)
    t = Trainer(tiny_model(), [Task("mass", counting(200), valid=valid)],
                cfg(max_steps=40, eval_every=10, save_every=10, best="valid_ppl/mass-0"), tmp_path)
    t.train()
    evals = [(r["step"], r["valid_ppl/mass-0"]) for r in read_log(tmp_path) if "valid_ppl/mass-0" in r]
    step, low = min(evals, key=lambda e: e[1])
    _, _, state = load_checkpoint(tmp_path / "best")
    assert state["step"] == step and state["best"] == low == t.best
    assert "best" not in [p.name for p in checkpoints(tmp_path)]  # never pruned nor resumed from


def test_back_translation_task_validates_on_real_pairs(tmp_path):
    pairs = [(x, x) for x in counting(30, seed=5)]
    t = Trainer(tiny_model(), [Task("bt", counting(100), lang=1, src_lang=0, valid=pairs)], cfg(max_steps=2), tmp_path)
    ppl = t.evaluate()["valid_ppl/bt-1"]
    with torch.no_grad():
        loss, n = batch_loss(t.model.eval(), seq2seq_batch(pairs, src_lang=0, tgt_lang=1))
    assert ppl == pytest.approx(math.exp(float(loss) / n), rel=1e-5)


STOP_SCRIPT = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
from toy import counting, tiny_model
from minimass.trainer import Task, Trainer, train_config
cfg = train_config("smoke", {{"max_steps": 100, "max_tokens": 300, "save_every": 10, "eval_every": 10, "lr": 3e-3,
                             "progress": False, "best": "score", "patience": 3, "warmup": 5}})
t = Trainer(tiny_model(), [Task("mass", counting(300), lang=0)], cfg, sys.argv[1],
            validate=lambda m: {{"score": float(abs(t.step - 30) + 1)}})  # best at step 30, then worse
t.train()
"""


def scripted(scores):
    """A validate function that returns the next of ``scores`` as ``score`` at each validation."""
    it = iter(scores)
    return lambda model: {"score": next(it)}


def test_early_stopping_stops_after_patience_and_records_why(tmp_path):
    t = Trainer(tiny_model(), [Task("mass", counting(100))],
                cfg(max_steps=200, eval_every=10, save_every=50, best="score", patience=2), tmp_path,
                validate=scripted([5.0, 4.0, 3.0, 3.5, 3.2, 1.0]))
    t.train()
    assert t.summary() == {"best": 3.0, "best_step": 30, "last_step": 50, "stopped": "converged"}
    assert load_checkpoint(tmp_path / "best")[2]["step"] == 30
    assert checkpoints(tmp_path)[0].name == "step_0000050"  # saved where it stopped
    again = Trainer(tiny_model(), [Task("mass", counting(100))],
                    cfg(max_steps=200, eval_every=10, save_every=50, best="score", patience=2), tmp_path)
    again.train()  # a converged run does not train on when resumed
    assert again.step == 50 and again.summary()["stopped"] == "converged"


def test_a_run_that_hits_max_steps_while_improving_stopped_on_budget(tmp_path):
    c = cfg(max_steps=30, eval_every=10, save_every=50, best="score", patience=2)
    t = Trainer(tiny_model(), [Task("mass", counting(100))], c, tmp_path, validate=scripted([3.0, 2.0, 1.0]))
    t.train()
    assert t.summary() == {"best": 1.0, "best_step": 30, "last_step": 30, "stopped": "budget"}
    t.cfg = cfg(max_steps=45, eval_every=10, save_every=50, best="score", patience=2)
    t.validate = scripted([0.5, 0.6])
    t.train()  # given more steps it goes on, saving only at save_every and at the end
    assert t.summary()["stopped"] == "budget" and t.step == 45 and t.best_step == 40
    assert [p.name for p in checkpoints(tmp_path)] == ["step_0000045", "step_0000030"]


def test_patience_without_a_metric_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="patience needs train.best"):
        Trainer(tiny_model(), [Task("mass", counting(50))], cfg(max_steps=5, patience=2), tmp_path).train()


def test_early_stopping_resumes_exactly_after_sigkill(tmp_path):
    py = sys.executable
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([py, "-c", STOP_SCRIPT, str(tmp_path / "ref")], check=True, env=env)
    proc = subprocess.Popen([py, "-c", STOP_SCRIPT, str(tmp_path / "run")], env=env)
    deadline = time.time() + 60
    while not (tmp_path / "run" / "step_0000040").exists() and time.time() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert checkpoints(tmp_path / "run")[0].name != "step_0000060", "the run ended before it was killed"
    subprocess.run([py, "-c", STOP_SCRIPT, str(tmp_path / "run")], check=True, env=env)
    for run in ("ref", "run"):  # best at 30; no better at 40, 50, 60: stopped at 60
        state = load_checkpoint(checkpoints(tmp_path / run)[0])[2]
        assert (state["step"], state["best_step"], state["stopped"]) == (60, 30, "converged")
    for folder in ("step_0000060", "best"):
        a = load_file(tmp_path / "ref" / folder / "model.safetensors")
        b = load_file(tmp_path / "run" / folder / "model.safetensors")
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_several_tasks_give_one_mean_perplexity_to_select_on(tmp_path):
    tasks = [Task("mass", counting(80), lang=0, name="a", valid=counting(20, seed=3)),
             Task("mass", counting(80, seed=1), lang=1, name="b", valid=counting(20, seed=4))]
    out = Trainer(tiny_model(), tasks, cfg(max_steps=2), tmp_path).evaluate()
    assert out["valid_ppl"] == pytest.approx(math.sqrt(out["valid_ppl/a"] * out["valid_ppl/b"]))
    one = Trainer(tiny_model(), tasks[:1], cfg(max_steps=2), tmp_path / "one").evaluate()
    assert set(one) == {"valid_ppl/a"}


def test_learning_rate_warms_up_linearly_then_decays_as_inverse_sqrt(tmp_path):
    t = Trainer(tiny_model(), [Task("mass", counting(50))], cfg(max_steps=12, lr=1e-3, warmup=4), tmp_path)
    lrs = []
    for _ in range(12):
        t.train_step()
        lrs.append(t.sched.get_last_lr()[0])
    # after optimizer step s the rate is lr * min((s + 1) / w, sqrt(w / (s + 1))), w = 4
    assert lrs[:3] == pytest.approx([5e-4, 7.5e-4, 1e-3])
    assert lrs[3] == pytest.approx(1e-3 * math.sqrt(4 / 5)) and lrs[11] == pytest.approx(1e-3 * math.sqrt(4 / 13))


def test_only_the_newest_checkpoints_are_kept(tmp_path):
    Trainer(tiny_model(), [Task("mass", counting(50))], cfg(max_steps=20, save_every=5, keep=2), tmp_path).train()
    assert [p.name for p in checkpoints(tmp_path)] == ["step_0000020", "step_0000015"]


def test_ctrl_c_saves_a_checkpoint_to_resume_from(tmp_path):
    t = Trainer(tiny_model(), [Task("mass", counting(50))], cfg(max_steps=50, save_every=100), tmp_path)
    real = t.train_step

    def step():
        if t.step == 7:
            raise KeyboardInterrupt
        return real()

    t.train_step = step
    with pytest.raises(KeyboardInterrupt):
        t.train()
    assert [p.name for p in checkpoints(tmp_path)] == ["step_0000007"]
    assert Trainer(tiny_model(), [Task("mass", counting(50))], cfg(max_steps=50), tmp_path).step == 7


@pytest.mark.parametrize(("first", "mode"), [("prev", "mass"), ("mask", "discrete"), ("mask", "feed")])
def test_masking_settings_reach_the_trainer_batches(tmp_path, first, mode):
    t = Trainer(tiny_model(), [Task("mass", counting(50))], cfg(max_steps=1, mask_first=first, mask_mode=mode),
                tmp_path)
    task = t.tasks[0]
    examples = t.next_examples(task)
    b = t.build(task, examples, 0)
    g = torch.Generator().manual_seed(t.cfg.seed * 1_000_003 + 0)
    from minimass.masking import mass_mask
    want = mass_mask(examples, 0.5, vocab_size=t.model.cfg.vocab_size, lang=0, mode=mode, first=first, generator=g)
    assert torch.equal(b.dec_in, want.dec_in) and torch.equal(b.src, want.src)
    default = mass_mask(examples, 0.5, vocab_size=t.model.cfg.vocab_size, lang=0,
                        generator=torch.Generator().manual_seed(0))
    assert not torch.equal(b.dec_in, default.dec_in) or (first, mode) == ("mask", "mass")


def test_cpu_bf16_autocast_trains_close_to_fp32(tmp_path):
    losses = {}
    for bf16 in (False, True):
        t = Trainer(tiny_model(), [Task("mass", counting(100))], cfg(max_steps=1, cpu_bf16=bf16), tmp_path / str(bf16))
        losses[bf16] = t.train_step()["loss"]
    assert losses[True] != losses[False] and losses[True] == pytest.approx(losses[False], rel=0.02)


def test_sigterm_saves_a_checkpoint_like_ctrl_c(tmp_path):
    script = SCRIPT.replace('"save_every": 5', '"save_every": 10000')
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path), "100000"],
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (tmp_path / "log.jsonl").exists() and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=60)[0]
    assert "interrupted at step" in out and proc.returncode != 0
    saved = checkpoints(tmp_path)
    assert len(saved) == 1 and 10 <= int(saved[0].name[5:]) < 100000  # no periodic save came before it


def test_selecting_on_a_metric_validation_lacks_is_an_error(tmp_path):
    t = Trainer(tiny_model(), [Task("mass", counting(50), valid=counting(10, seed=4))],
                cfg(max_steps=4, eval_every=2, best="valid_ppl/typo", patience=2), tmp_path)
    with pytest.raises(ValueError, match="'valid_ppl/typo' is not a validation metric; they are: valid_ppl/mass-0"):
        t.train()


def test_prefetching_builds_the_same_batches_and_losses(tmp_path):
    """Batches built in the background thread are the ones the step would build itself: equal batches, equal logged
    losses, equal weights; the thread is used from the second step on (the first has nothing built ahead)."""
    tasks = [Task("mass", counting(80), lang=0), Task("mass", counting(80, seed=2), lang=1)]
    out = {}
    for prefetch in (False, True):
        c = cfg(max_steps=6, accum=2, log_every=1, prefetch=prefetch)
        t = Trainer(tiny_model(), tasks, c, tmp_path / str(prefetch))
        built, step_batches = [], t.step_batches

        def spy(task, step, pos, f=step_batches, built=built):
            batches, after = f(task, step, pos)
            built.append((step, threading.current_thread().name, [b.to("cpu") for b in batches]))
            return batches, after

        t.step_batches = spy
        t.train()
        out[prefetch] = built, [r["loss"] for r in read_log(t.run_dir) if "loss" in r], t.model.state_dict()
    (b0, l0, w0), (b1, l1, w1) = out[False], out[True]
    assert {name for _, name, _ in b0} == {"MainThread"}
    assert [s for s, name, _ in b1 if name != "MainThread"] == [1, 2, 3, 4, 5]  # built ahead; the last step builds none
    assert len(b1) == 6 and [s for s, *_ in b1] == list(range(6))
    for (_, _, x), (_, _, y) in zip(b0, b1):
        for bx, by in zip(x, y):
            assert all(torch.equal(getattr(bx, k), getattr(by, k)) for k in ("src", "dec_in", "target", "positions"))
    assert l0 == l1 and len(l0) == 6
    assert all(torch.equal(w0[k], w1[k]) for k in w0)


def test_max_time_stops_on_budget_validated_and_saved(tmp_path):
    """A run out of time stops as at max_steps: it validates, saves, records "budget"; with more time it goes on."""
    tasks = [Task("mass", counting(60), valid=counting(8, seed=5))]
    c = cfg(max_steps=1000, max_time=1e-9, best="valid_ppl/mass-0", save_every=1000)
    t = Trainer(tiny_model(), tasks, c, tmp_path)
    t.train()
    assert t.summary() == {"best": t.best, "best_step": 1, "last_step": 1, "stopped": "budget"}
    assert checkpoints(tmp_path)[0].name == "step_0000001" and (tmp_path / "best").exists()
    again = Trainer(tiny_model(), tasks, c, tmp_path)
    again.train()
    assert again.step == 2 and again.stopped == "budget"


def test_minimass_max_steps_caps_every_preset(monkeypatch):
    """$MINIMASS_MAX_STEPS caps max_steps (a few steps at a preset's real sizes); unset, nothing changes."""
    assert train_config("gpu").max_steps == 2500 and train_config("cpu", {"max_steps": 7}).max_steps == 7
    monkeypatch.setenv("MINIMASS_MAX_STEPS", "3")
    assert train_config("gpu").max_steps == 3 and train_config("cpu", {"max_steps": 2}).max_steps == 2
