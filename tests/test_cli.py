"""The ``minimass`` command: help, overrides, translate from stdin, finetune and evaluate."""

import subprocess
import sys

import pytest
from toy import tiny_model

from minimass.recipes import latest
from minimass.tokenizer import Tokenizer
from minimass.trainer import save_checkpoint
from minimass_cli import UsageError, split_overrides

TEXTS = ["the cat sat on the mat", "le chat est sur le tapis", "a dog ran far away", "un chien court loin"] * 30


def run(*args, stdin=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "minimass", *args], input=stdin, capture_output=True, text=True,
                          cwd=cwd)


def test_help():
    out = run("--help")
    assert out.returncode == 0 and "pretrain" in out.stdout and "--model.KEY=VALUE" in out.stdout


def test_overrides_are_checked(tmp_path):
    assert split_overrides(["--model.d_model=128", "--train.lr=3e-4"]) == ({"d_model": "128"}, {"lr": "3e-4"})
    for bad in (["--lr=3"], ["--optim.lr=3"], ["--train.lr"], ["-x"]):
        with pytest.raises(UsageError):
            split_overrides(bad)
    out = run("pretrain", "--run", "r", "--train.learning_rate=1", cwd=tmp_path)
    assert out.returncode == 2 and "unknown TrainConfig key 'learning_rate'" in out.stderr
    assert not (tmp_path / "r").exists()  # rejected before any work


@pytest.mark.parametrize("args, named", [
    (["pretrain", "--run", "r", "--model.d_model=abc"], "d_model"),
    (["pretrain", "--run", "r", "--train.bf16=maybe"], "bf16"),
    (["--preset", "huge", "pretrain", "--run", "r"], "--preset"),
    (["pretrain", "--run", "r", "--langs", "en,xx"], "'xx'"),
    (["pretrain", "--run", "r", "--objectives", "electra"], "'electra'"),
    (["finetune", "--run", "r", "--corpus", "bbc"], "--langs en,en"),
    (["finetune", "--run", "r", "--corpus", "wiki"], "--corpus"),
    (["translate", "--checkpoint", "missing"], "missing"),
    (["translate", "--checkpoint", "r", "--src", "klingon"], "--src"),
    (["evaluate", "--checkpoint", "missing"], "missing"),
])
def test_user_errors_are_one_line_exit_2(tmp_path, args, named):
    out = run(*args, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("minimass: error: ") and out.stderr.count("\n") == 1, out.stderr
    assert named in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "r").exists()
    assert "Traceback" in run(*args, "--debug", cwd=tmp_path).stderr  # --debug shows it


def test_translate_reads_stdin_in_order(tmp_path):
    tok = Tokenizer.train(TEXTS, vocab_size=300)
    big = tiny_model(vocab_size=tok.vocab_size, max_positions=64)
    save_checkpoint(tmp_path / "run" / "step_0000001", big, {"step": 1}, tok)
    assert latest(tmp_path / "run").name == "step_0000001"
    lines = ["the cat", "", "un chien court loin", "a dog"]
    out = run("translate", "--checkpoint", str(tmp_path / "run"), "--beam", "2", stdin="\n".join(lines) + "\n")
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.split("\n")) == len(lines) + 1
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        latest(tmp_path)
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n")
    out = run("translate", "--checkpoint", str(tmp_path / "run"), "--beam", "2", "--input", str(tmp_path / "in.txt"),
              "--output", str(tmp_path / "out.txt"))
    assert out.returncode == 0 and out.stdout == "" and len((tmp_path / "out.txt").read_text().split("\n")) == 5
    (tmp_path / "bad.txt").write_bytes(b"the cat\nle chat \xe9tait\n")
    for how in (dict(args=("--input", str(tmp_path / "bad.txt"))), dict(stdin=b"the cat\nle chat \xe9tait\n")):
        out = subprocess.run([sys.executable, "-m", "minimass", "translate", "--checkpoint", str(tmp_path / "run"),
                              *how.get("args", ())], input=how.get("stdin", b""), capture_output=True)
        assert out.returncode == 2 and b":2: not valid UTF-8" in out.stderr and out.stderr.count(b"\n") == 1
    (tmp_path / "run" / "step_0000001" / "model.safetensors").write_bytes(b"not a safetensors file")
    out = run("translate", "--checkpoint", str(tmp_path / "run"), stdin="the cat\n")
    assert out.returncode == 2 and "cannot load checkpoint" in out.stderr and "model.safetensors" in out.stderr


def test_finetune_then_evaluate_from_the_command_line(tmp_path):
    tok = Tokenizer.train(TEXTS, vocab_size=300)
    save_checkpoint(tmp_path / "pre" / "step_0000001", tiny_model(vocab_size=tok.vocab_size, max_positions=256),
                    {"step": 1}, tok)
    out = run("--preset", "smoke", "finetune", "--init", str(tmp_path / "pre"), "--run", str(tmp_path / "ft"),
              "--n-train", "30", "--train.max_steps=3", "--train.eval_every=3", "--train.progress=false")
    assert out.returncode == 0, out.stderr
    assert latest(tmp_path / "ft").name == "step_0000003"
    out = run("--preset", "smoke", "evaluate", "--checkpoint", str(tmp_path / "ft"), "--n", "4", "--beam", "1")
    assert out.returncode == 0, out.stderr
    assert "BLEU" in out.stdout and "chrF" in out.stdout and "nrefs:1" in out.stdout
