"""Export to Hugging Face BART: same logits, same greedy and beam outputs, clear refusals."""

import dataclasses
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from toy import counting, tiny_model

from minimass.masking import mass_mask, pad, seq2seq_batch
from minimass.model import ModelConfig
from minimass.search import beam_search, greedy
from minimass.tokenizer import BOS, EOS, MASK, PAD, lang_id

transformers = pytest.importorskip("transformers")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from to_huggingface import to_huggingface  # noqa: E402 (scripts/: beside the package, not in it)


def trained_model(steps: int = 100):
    """A 2+2-layer toy model after 100 Adam steps of en->fr copying and MASS (en, fr): no weight is at init,
    and outputs depend on the source but are still uncertain (a fair test of beam search)."""
    torch.manual_seed(0)
    model = tiny_model(n_enc_layers=2, n_dec_layers=2)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for step in range(steps):
        seqs = counting(16, seed=100 + step)
        if step % 4 == 3:
            b = mass_mask(seqs, vocab_size=model.cfg.vocab_size, lang=step % 8 // 4, generator=gen)
        else:
            b = seq2seq_batch([(s, s) for s in seqs], src_lang=0, tgt_lang=1)
        logits = model(b.src, b.src_lang, b.dec_in, b.tgt_lang, b.positions)
        loss = F.cross_entropy(logits.flatten(0, 1), b.target.flatten(), ignore_index=PAD)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.double().eval()


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    torch.set_num_threads(1)
    model = trained_model()
    path = to_huggingface(model, "en", "fr", tmp_path_factory.mktemp("bart"))
    hf = transformers.BartForConditionalGeneration.from_pretrained(path).double().eval()
    return model, hf


def test_folder_and_config(pair, tmp_path):
    model, _ = pair
    path = to_huggingface(model, 2, 3, tmp_path / "out")
    assert (path / "model.safetensors").exists()
    cfg = json.loads((path / "config.json").read_text())
    assert cfg["model_type"] == "bart" and cfg["decoder_start_token_id"] == BOS and cfg["pad_token_id"] == PAD
    assert cfg["forced_eos_token_id"] is None and cfg.get("forced_bos_token_id") is None
    assert cfg["max_position_embeddings"] == model.cfg.max_positions and cfg["scale_embedding"] is False


def test_command_line_exports_a_run_folder(pair, tmp_path):
    """``scripts/to_huggingface.py RUN en fr OUT`` takes the run's newest checkpoint; its BART gives the same logits."""
    import copy
    import subprocess

    from minimass.trainer import save_checkpoint

    model, hf = pair
    save_checkpoint(tmp_path / "run" / "step_0000007", copy.deepcopy(model).float(), {"step": 7})
    script = Path(__file__).resolve().parents[1] / "scripts" / "to_huggingface.py"
    r = subprocess.run([sys.executable, str(script), str(tmp_path / "run"), "en", "fr", str(tmp_path / "hf")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    again = transformers.BartForConditionalGeneration.from_pretrained(tmp_path / "hf")
    assert all(torch.equal(a.float(), b) for a, b in zip(hf.state_dict().values(), again.state_dict().values()))
    assert next(again.parameters()).dtype == torch.float32


@pytest.mark.parametrize("langs", [("en", "fr"), (2, 3)])
def test_logits_match(pair, tmp_path, langs):
    model, hf = pair
    if langs != ("en", "fr"):
        path = to_huggingface(model, *langs, tmp_path)
        hf = transformers.BartForConditionalGeneration.from_pretrained(path).double().eval()
    sl, tl = (lang_id(x) if isinstance(x, str) else x for x in langs)
    seqs = counting(6, seed=7)
    src = pad(seqs)                                  # different lengths: right-padded
    dec = pad([[BOS] + s[:-1] for s in counting(6, seed=8)])
    assert (src == PAD).any()
    with torch.no_grad():
        ours = model(src, sl, dec, tl)
        theirs = hf(input_ids=src, attention_mask=(src != PAD).long(), decoder_input_ids=dec).logits
    assert theirs.dtype == torch.float64
    assert (ours - theirs).abs().max().item() < 1e-9


def hf_tokens(row: list[int]) -> list[int]:
    """Generated tokens without the start token, cut at </s>, pads dropped."""
    row = row[1:]
    row = row[: row.index(EOS)] if EOS in row else row
    return [t for t in row if t not in (PAD, BOS)]


@pytest.mark.parametrize("beam, length_penalty, min_len", [(1, 1.0, 1), (4, 1.0, 1), (3, 0.6, 3)],
                         ids=["greedy", "beam4", "beam3-lp0.6-min3"])
def test_generate_matches(pair, beam, length_penalty, min_len):
    """Greedy output, or the whole beam's n-best list (tokens and scores), equals HF generate's."""
    model, hf = pair
    groups = defaultdict(list)  # equal-length sources share one max length
    for s in counting(32, seed=11, min_len=3, max_len=10):
        groups[len(s)].append(s)
    a, b = 1.5, 4
    differ, outs = [], []
    for n, seqs in sorted(groups.items()):
        src = torch.tensor(seqs)
        kw = dict(max_new_tokens=int(a * n + b), min_new_tokens=min_len, do_sample=False)  # suppress_tokens: config
        lens = dict(max_len_a=a, max_len_b=b, min_len=min_len)
        with torch.no_grad():
            if beam == 1:
                ours = [[(o, None)] for o in greedy(model, src, 0, 1, **lens)]
                theirs = [[(hf_tokens(t), None)] for t in hf.generate(src, **kw).tolist()]
            else:
                ours = beam_search(model, src, 0, 1, beam=beam, nbest=beam, length_penalty=length_penalty, **lens)
                out = hf.generate(src, num_beams=beam, num_return_sequences=beam, length_penalty=length_penalty,
                                  early_stopping=True, return_dict_in_generate=True, output_scores=True, **kw)
                rows, scores = out.sequences.tolist(), out.sequences_scores.tolist()
                theirs = [[(hf_tokens(rows[r]), scores[r]) for r in range(k * beam, (k + 1) * beam)]
                          for k in range(len(seqs))]
        for s, o, t in zip(seqs, ours, theirs):
            outs.append(o[0][0])
            same = [x for x, _ in o] == [x for x, _ in t]
            if not same or any(p is not None and abs(p - q) > 1e-4 for (_, p), (_, q) in zip(o, t)):
                differ.append((s, o, t))
    assert all(MASK not in o for o in outs) and len({tuple(o) for o in outs}) > 8  # non-trivial outputs
    assert not differ, f"{len(differ)}/{len(outs)} differ (src, minimass, hf): {differ}"


def test_missing_transformers_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # makes `from transformers import ...` fail
    with pytest.raises(ImportError, match=re.escape('pip install -e ".[hf]"')):
        to_huggingface(tiny_model(), "en", "fr", tmp_path)


def test_refuses_pre_ln(tmp_path):
    model = tiny_model(pre_ln=True)
    with pytest.raises(ValueError, match="pre_ln"):
        to_huggingface(model, "en", "fr", tmp_path)
    assert not any(tmp_path.iterdir())


def test_refuses_unknown_config_field(tmp_path):
    model = tiny_model()
    extra = dataclasses.make_dataclass("Extra", [("rel_pos", bool, True)], bases=(ModelConfig,))
    model.cfg = extra(**dataclasses.asdict(model.cfg))
    with pytest.raises(ValueError, match="rel_pos"):
        to_huggingface(model, "en", "fr", tmp_path)
