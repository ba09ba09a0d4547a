"""scripts/gpu_check.py end to end at the smoke preset on the CPU: the train and translate sections (the GPU run
uses the same code at the gpu preset)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_train_and_translate_at_smoke_on_cpu(tmp_path):
    out, record = tmp_path / "gpu.json", tmp_path / "record.json"
    cmd = [sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--device", "cpu", "--preset", "smoke",
           "--only", "train,translate", "--steps", "12", "--skip-notebooks", "--out", str(out),
           "--translate-pairs", "300", "--translate-test", "20", "--record", str(record)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "OMP_NUM_THREADS": "1", "MINIMASS_RUNS": str(tmp_path / "runs")})
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    checks = json.loads(out.read_text())["checks"]
    assert set(checks) == {"env", "train", "translate"}
    train = checks["train"]
    assert train["steps"] == 12 and train["prefetch"] and 0 <= train["wait_share"] <= 1
    systems = checks["translate"]["systems"]
    assert set(systems) == {"mass", "random"}
    for s in systems.values():
        assert s["n"] == 20 and len(s["examples"]) == 5 and 0 <= s["bleu"] <= 100 and 1 <= s["distinct"] <= 20
        assert s["stopped"] in ("converged", "budget") and 0 < s["best_step"] <= s["last_step"] <= 20
    rec = json.loads(record.read_text())
    assert rec["preset"] == "smoke" and rec["results"]["systems"]["mass"]["bleu"] == systems["mass"]["bleu"]


def test_the_notebook_runner_displays_without_ipython(tmp_path):
    """The GPU image has no IPython (notebook 00 failed there on its `IPython.display` import): the runner that
    executes each notebook's cells gives `display` and `Markdown` that print instead."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import gpu_check

    (tmp_path / "runner.py").write_text(gpu_check.RUNNER)
    cells = ["from IPython.display import Markdown, display", "display(Markdown('| a | b |'))"]
    nb = {"cells": [{"cell_type": "code", "source": [c]} for c in cells]}
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb))
    no_ipython = "import sys, runpy; sys.modules['IPython'] = None; sys.argv = sys.argv[1:]; " \
                 "runpy.run_path(sys.argv[0], run_name='__main__')"
    r = subprocess.run([sys.executable, "-c", no_ipython, str(tmp_path / "runner.py"), "nb.ipynb"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120, env={**os.environ, "MPLBACKEND": "Agg"})
    result = json.loads(r.stdout.split("GPU_CHECK_RESULT ", 1)[1].splitlines()[0])
    assert r.returncode == 0 and result["ok"] and result["cells"] == 2, r.stdout[-2000:] + r.stderr[-2000:]
    assert "| a | b |" in r.stdout
