"""scripts/run_notebook_jobs.py: a worker runs the cells before the job function's first call, then every job that no
other worker has claimed, each once."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

DRAFT = '''# %% [markdown]
# A toy notebook.

# %%
SIZES = {"seeds": [0, 1]}
SYSTEMS = ["a", "b"]

# %%
def job(name, seed):
    with open(OUT, "a") as f:
        f.write(f"{name} {seed}\\n")
    return {"best_step": seed, "last_step": 2, "stopped": "converged"}

# %%
res = {(n, s): job(n, s) for n in SYSTEMS for s in SIZES["seeds"]}
'''


@pytest.fixture
def jobs(monkeypatch, tmp_path):
    """The script as a module, with the toy notebook's jobs, without changing this process's settings for good."""
    monkeypatch.setenv("MINIMASS_RECORD", "0")  # the script only sets it when unset
    monkeypatch.chdir(tmp_path)  # main() changes directory; monkeypatch changes it back
    spec = importlib.util.spec_from_file_location("run_notebook_jobs", ROOT / "scripts" / "run_notebook_jobs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setitem(mod.JOBS, ("toy", "job"), lambda ns: [(n, s) for s in ns["SIZES"]["seeds"]
                                                             for n in ns["SYSTEMS"]])
    threads = torch.get_num_threads()
    yield mod
    torch.set_num_threads(threads)


def toy(tmp_path: Path) -> Path:
    out = tmp_path / "out.txt"
    draft = tmp_path / "toy.py"
    draft.write_text(DRAFT.replace("SIZES = ", f"OUT = {json.dumps(str(out))}\nSIZES = "))
    return draft


def test_every_job_runs_once_across_workers(jobs, tmp_path, capsys):
    draft, claims = toy(tmp_path), tmp_path / "claims"
    claims.mkdir()
    (claims / "b_0").touch()  # claimed by another worker
    jobs.main(draft, "job", claims)
    jobs.main(draft, "job", claims)  # a second worker finds every job claimed
    assert (tmp_path / "out.txt").read_text().splitlines() == ["a 0", "a 1", "b 1"]
    assert sorted(p.name for p in claims.iterdir()) == ["a_0", "a_1", "b_0", "b_1"]
    assert "('a', 1) {'best_step': 1, 'last_step': 2, 'stopped': 'converged'}" in capsys.readouterr().out


def test_a_function_no_cell_calls_or_without_jobs_is_refused(jobs, tmp_path):
    draft = toy(tmp_path)
    jobs.JOBS["toy", "nothing"] = lambda ns: [()]
    with pytest.raises(SystemExit, match="no cell calls nothing"):  # before any cell runs
        jobs.main(draft, "nothing", tmp_path / "claims")
    jobs.JOBS.pop(("toy", "job"))  # jobs: the module is this test's own copy
    with pytest.raises(SystemExit, match="no jobs for job"):
        jobs.main(draft, "job", tmp_path / "claims")
    assert not (tmp_path / "out.txt").exists()


@pytest.mark.parametrize("stem, function", [
    ("05_unsupervised_nmt", "bt_run"), ("07_summarization", "ckpt"), ("07_summarization", "tuned"),
    ("07_summarization", "recorded"), ("08_dialogue", "ckpt"), ("08_dialogue", "recorded"),
    ("10_ablations_and_baselines", "run_bt")])
def test_each_notebook_calls_its_job_functions(jobs, stem, function):
    """The function of each JOBS entry is called in a code cell of its notebook (or draft), after the cell that
    defines it (``ckpt``: the cell that makes it with ``lab.fine_tuning_systems``)."""
    assert (stem, function) in jobs.JOBS
    path = next(p for p in (ROOT / "notebooks" / "drafts" / f"{stem}.py", ROOT / "notebooks" / f"{stem}.ipynb")
                if p.exists())  # a draft, while there is one, is the notebook's source
    cells = jobs.code_cells(path)
    first = jobs.first_call(cells, function)
    assert first is not None, f"{path.name}: no cell calls {function}"
    made = f"def {function}(" if function != "ckpt" else ", ckpt, tok = "
    assert any(made in c for c in cells[:first]), f"{path.name}: {function} is called before it is made"
