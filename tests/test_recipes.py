"""The recipes the notebooks share: the cached pre-trained checkpoint of a recipe, fine-tuning on each corpus;
and the notebooks' early-stopped run records (notebooks/lab.py)."""

import sys
from pathlib import Path

import pytest
import torch

from minimass import data, recipes
from minimass.trainer import checkpoints, load_checkpoint, read_log

SMALL = {"vocab": 600, "sentences": 300, "valid": 20}


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIMASS_RUNS", str(tmp_path / "runs"))
    monkeypatch.setitem(recipes.DATA_SIZES, "smoke", SMALL)
    return tmp_path / "runs"


def test_pretrained_trains_once_and_continues_a_shorter_run(runs, monkeypatch):
    calls = []
    real = recipes.pretrain
    monkeypatch.setattr(recipes, "pretrain", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    first = recipes.pretrained(preset_name="smoke", steps=4)
    assert first == runs / "mass_en-fr_k0.5_mass_smoke_seed0_4" / "step_0000004" and first.exists()
    assert recipes.pretrained(preset_name="smoke", steps=4) == first and len(calls) == 1  # cached: not retrained
    longer = recipes.pretrained(preset_name="smoke", steps=8)
    assert longer.parent.name == "mass_en-fr_k0.5_mass_smoke_seed0_8"
    steps = [r["step"] for r in read_log(longer.parent) if "loss" in r]
    assert steps == [4, 8]  # continued from the 4-step run (logged at its end), whose log it carries
    # the same weights as training 8 steps in one go: a run's batches do not depend on max_steps
    direct = recipes.pretrain(runs / "direct", "smoke", train_overrides={"max_steps": 8, "progress": False})
    for a, b in zip(load_checkpoint(longer)[0].state_dict().values(), direct.model.state_dict().values()):
        assert torch.equal(a, b)
    other = recipes.pretrained(k=0.3, preset_name="smoke", steps=4)
    assert other.parent.name == "mass_en-fr_k0.3_mass_smoke_seed0_4"
    assert load_checkpoint(other)[2]["train_config"]["mask_ratio"] == 0.3
    assert [p.name for p in checkpoints(other.parent)][0] == "step_0000004"


def test_english_pretraining_text_holds_no_held_out_summarization_or_dialogue_text():
    """Sec. 4.1 pre-trains summarization and dialogue on English only: the English text (every source of
    recipes.ENGLISH) on the real splits holds no sentence of a summarization or dialogue valid or test item, and
    no Bible verse of the held-out gospels; every source contributes."""
    texts, valid = recipes.pretraining_text(("en",))
    train = set(texts["en"])
    for splits in (data.summarization(), data.dialogue()):
        held = {x for pair in splits.valid + splits.test for x in pair}
        assert held and not held & train, splits.meta["task"]
    gospels = data.monolingual("en", ["bible"])
    assert not set(gospels.valid + gospels.test) & train
    for source in recipes.ENGLISH:
        assert set(data.monolingual("en", [source]).train[:1000]) & train, source
    assert valid["en"] and not set(valid["en"]) & train


def test_pretrain_on_english_only(runs):
    tr = recipes.pretrain(runs / "en", "smoke", ("en",), ("mass",), None, {"max_steps": 2, "progress": False})
    assert [t.name for t in tr.tasks] == ["mass-en"] and tr.tokenizer.vocab_size == SMALL["vocab"]
    english = recipes.pretrained(langs=("en",), preset_name="smoke", steps=2)
    assert english.parent.name == "mass_en_k0.5_mass_smoke_seed0_2"


def test_pretraining_drops_sentences_over_the_length_limit_in_pieces(runs, monkeypatch):
    """Sec. 4.1's 175-token limit is on BPE pieces: a sentence of few words can still encode to more
    (a Wikipedia intro under a small English BPE did, past the model's positions); pre-training drops it."""
    long = " ".join(f"w{i}x{i * 7}q" for i in range(120))  # 120 words, many more pieces
    text = {"en": ["the cat sat on the mat ."] * 50 + [long]}, {"en": ["a dog ran .", long]}
    monkeypatch.setattr(recipes, "pretraining_text", lambda *a, **k: text)
    tr = recipes.pretrain(runs / "long", "smoke", ("en",), ("mass",), None, {"max_steps": 1, "progress": False})
    assert len(tr.tokenizer.encode([long])[0]) > data.MAX_LEN + 1
    assert [len(t.data) for t in tr.tasks] == [50] and len(tr.tasks[0].valid) == 1
    assert max(len(x) for t in tr.tasks for x in t.data + t.valid) <= data.MAX_LEN + 1


@pytest.mark.parametrize("corpus, task", [("bbc", "summarization"), ("chitchat", "dialogue")])
def test_finetune_on_summarization_and_dialogue_pairs(runs, corpus, task, monkeypatch):
    monkeypatch.setattr(data, "MAX_LEN", 40)  # pairs over 40 BPE tokens + </s> are dropped (Sec. 4.1's filter)
    ckpt = recipes.pretrained(preset_name="smoke", steps=2)
    tr = recipes.finetune(runs / corpus, ckpt, "en", "en", n_train=40, preset_name="smoke", seed=1, corpus=corpus,
                          train_overrides={"max_steps": 2, "eval_every": 2, "progress": False})
    train = getattr(data, task)(corpus, seed=1, n_train=40).train
    tok = tr.tokenizer
    kept = [(tok.encode(a), tok.encode(b)) for a, b in train]
    kept = [(a, b) for a, b in kept if max(len(a), len(b)) <= 41]
    assert 0 < len(kept) < len(train) and sorted(tr.tasks[0].data) == sorted(kept)
    assert tr.step == 2 and all(max(len(a), len(b)) <= 41 for a, b in tr.tasks[0].valid)


def test_lab_records_runs_that_stop_early_and_say_why(runs, monkeypatch, tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notebooks"))
    import lab

    monkeypatch.setattr(lab, "ROOT", tmp_path)  # smoke writes no record anyway; nothing may land in the tree
    ckpt = recipes.pretrained(preset_name="smoke", steps=2)
    tok = load_checkpoint(ckpt)[1]
    ft = {"max_steps": 12, "eval_every": 2, "save_every": 2, "max_tokens": 600, "warmup": 1, "patience": 2,
          "progress": False}
    for system, init in (("mass", ckpt), ("random", None)):
        r = lab.nmt_record("06_x", system, init, tok, "en", "fr", 40, 0, "smoke", ft, 6, 1, ckpt.parent.name)
        assert r["stopped"] in ("converged", "budget") and r["best_step"] <= r["last_step"] <= 12
        assert r["best_step"] == min(r["curve"], key=lambda c: c[1])[0] and r["n"] == len(r["hyps"]) == 6
        assert r["stopped"] == "budget" or r["last_step"] - r["best_step"] == 2 * ft["patience"]
    b = lab.bt_record("05_x", "mass", ckpt, tok, ("en", "fr"), 0, "smoke", {**ft, "max_steps": 4}, 5, ckpt.parent.name)
    assert {"en-fr", "fr-en", "best_step", "last_step", "stopped"} <= set(b) and b["last_step"] <= 4
    assert b["en-fr"]["test_ppl"] > 1 and len(b["fr-en"]["hyps"]) == 5


def test_evaluate_translates_the_test_verses_and_scores_them(runs):
    """recipes.evaluate: the first n Matthew pairs, translated by the newest checkpoint of a run, scored."""
    ckpt = recipes.pretrained(preset_name="smoke", steps=2)
    recipes.finetune(runs / "ft", ckpt, "en", "fr", n_train=40, preset_name="smoke",
                     train_overrides={"max_steps": 2, "eval_every": 0, "progress": False})
    res = recipes.evaluate(runs / "ft", "en", "fr", n=5, beam=2)
    test = data.parallel("en", "fr").test[:5]
    assert res["n"] == 5 and res["refs"] == [p[1] for p in test] and len(res["hyps"]) == 5
    assert all(isinstance(h, str) for h in res["hyps"]) and 0 <= res["bleu"]["score"] <= 100
    assert res["chrf"]["signature"].startswith("nrefs:1") and res["bleu"]["signature"].startswith("nrefs:1")
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        recipes.evaluate(runs / "missing")


def test_get_tokenizer_reads_lazy_text_only_to_learn_the_bpe(tmp_path):
    """Given a function, get_tokenizer calls it only when the run has no BPE yet: a learned one is loaded
    without reading the text again (what lab.recipe_tokenizer relies on), and equals the list-given one."""
    texts = [f"in the beginning {w} created the heaven and the earth" for w in ("God", "he", "it", "one")] * 50
    calls = []

    def text():
        calls.append(1)
        return texts

    lazy = recipes.get_tokenizer(tmp_path / "a", text, 400)
    again = recipes.get_tokenizer(tmp_path / "a", text, 400)
    eager = recipes.get_tokenizer(tmp_path / "b", texts, 400)
    assert calls == [1]
    assert lazy.encode(texts[:4]) == again.encode(texts[:4]) == eager.encode(texts[:4])
