"""The encoder-decoder (Sec. 4.1): causality, explicit positions, KV cache, overfitting."""

import subprocess
import sys

import pytest
import torch
from toy import tiny_model

from minimass.model import MODEL_PRESETS, ModelConfig, Seq2Seq, build_model, forward_flops, override
from minimass.tokenizer import EOS

CFG = ModelConfig(vocab_size=50, d_model=32, n_heads=4, d_ff=64, n_enc_layers=2, n_dec_layers=2,
                  max_positions=64, dropout=0.0, attn_dropout=0.0)


@pytest.fixture(params=[False, True], ids=["post_ln", "pre_ln"])
def model(request):
    torch.manual_seed(0)
    return Seq2Seq(override(CFG, pre_ln=request.param)).eval()


def data(B=3, S=7, T=6):
    gen = torch.Generator().manual_seed(1)
    src = torch.randint(5, 50, (B, S), generator=gen)
    src[0, -2:] = 0  # padding in one row
    return src, torch.randint(5, 50, (B, T), generator=gen)


def test_future_decoder_tokens_do_not_change_earlier_logits(model):
    src, tgt = data()
    a = model(src, 0, tgt, 1)
    tgt2 = tgt.clone()
    tgt2[:, 4:] = 7
    b = model(src, 0, tgt2, 1)
    assert torch.allclose(a[:, :4], b[:, :4], atol=1e-5) and not torch.allclose(a[:, 4:], b[:, 4:])


def test_source_padding_is_ignored(model):
    src, tgt = data()
    src2 = src.clone()
    src2[0, -2:] = 0
    a = model(src2, 0, tgt, 1)
    b = model(src2[:1, :-2], 0, tgt[:1], 1)
    assert torch.allclose(a[:1], b, atol=1e-5)


def test_cached_decoding_equals_full_pass(model):
    src, tgt = data()
    full = model(src, 0, tgt, 1)
    memory, mask = model.encode(src, 0)
    cache = model.new_cache()
    steps = [model.decode(tgt[:, t: t + 1], 1, memory, mask, cache=cache) for t in range(tgt.size(1))]
    assert torch.allclose(full, torch.cat(steps, 1), atol=1e-5)
    # reorder_cache selects rows
    cache = model.new_cache()
    model.decode(tgt[:, :3], 1, memory, mask, cache=cache)
    idx = torch.tensor([2, 0, 1])
    model.reorder_cache(cache, idx)
    step = model.decode(tgt[idx, 3:4], 1, memory[idx], mask[idx], cache=cache)
    assert torch.allclose(step, full[idx, 3:4], atol=1e-5)


def test_explicit_positions(model):
    src, tgt = data()
    none = model(src, 0, tgt, 1)
    same = model(src, 0, tgt, 1, positions=torch.arange(tgt.size(1)).expand_as(tgt))
    moved = model(src, 0, tgt, 1, positions=torch.arange(10, 10 + tgt.size(1)).expand_as(tgt))
    assert torch.equal(none, same) and not torch.allclose(none, moved, atol=1e-3)
    with pytest.raises(ValueError, match="max_positions"):
        model(src, 0, tgt, 1, positions=torch.full_like(tgt, 64))


def test_language_embedding_matters(model):
    src, tgt = data()
    assert not torch.allclose(model(src, 0, tgt, 1), model(src, 0, tgt, 2), atol=1e-3)
    per_row = model(src, torch.tensor([0, 0, 0]), tgt, torch.tensor([1, 1, 1]))
    assert torch.allclose(per_row, model(src, 0, tgt, 1), atol=1e-6)


def test_decoder_only_mode(model):
    _, tgt = data()
    assert model.decode(tgt, 0).shape == (3, 6, 50)


def test_shared_embeddings_and_presets():
    m = build_model("smoke", vocab_size=1000)
    assert m.cfg.d_model == MODEL_PRESETS["smoke"]["d_model"]
    # By hand for the toy model (V=40, d=32, FFN 64, 64 positions, 4 languages): embeddings 40*32 + 64*32 + 4*32,
    # their LayerNorm 2*32, the output bias 40 (its weights are the token embeddings): 3,560. An attention block has
    # q, k, v and out projections with biases, 4*(32*32 + 32) = 4,224; an FFN 2*32*64 + 64 + 32 = 4,192. Encoder
    # layer: attention + FFN + 2 LayerNorms = 8,544; decoder layer: 2 attentions + FFN + 3 LayerNorms = 12,832.
    assert tiny_model().num_params() == 3560 + 8544 + 12832
    assert tiny_model(n_enc_layers=2, n_dec_layers=3).num_params() == 3560 + 2 * 8544 + 3 * 12832
    with pytest.raises(ValueError, match="unknown preset"):
        build_model("huge")
    with pytest.raises(KeyError, match="n_layer"):
        override(CFG, {"n_layer": 4})
    assert override(CFG, {"d_model": "48", "pre_ln": "true"}).d_model == 48


def test_tiny_model_overfits_one_batch():
    torch.manual_seed(0)
    model = Seq2Seq(CFG)
    src, tgt = data(B=4, S=8, T=6)
    tgt[:, -1] = EOS
    dec_in = torch.cat([torch.ones(4, 1, dtype=torch.long), tgt[:, :-1]], 1)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(150):
        loss = torch.nn.functional.cross_entropy(model(src, 0, dec_in, 1).flatten(0, 1), tgt.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05


def test_importing_the_model_leaves_torch_settings_alone():
    """cuDNN's attention is switched off where a run picks CUDA (trainer.pick_device), not at import."""
    code = ("import torch; before = torch.backends.cuda.cudnn_sdp_enabled(); import minimass.model, "
            "minimass.trainer; assert torch.backends.cuda.cudnn_sdp_enabled() == before")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_preset_table_states_each_presets_size():
    """minimass/presets.py's table: layers, widths, parameters and batch tokens match the presets it describes."""
    from minimass import presets

    lines = presets.__doc__.splitlines()
    rows = {ln.split()[0]: ln for ln in lines if ln.split()[:1] in [[n] for n in presets.PRESETS]}
    assert set(rows) == set(presets.PRESETS)
    for name, p in presets.PRESETS.items():
        m, cells = p["model"], rows[name].split()
        assert cells[1] == f"{m['n_enc_layers']}+{m['n_dec_layers']},"
        params = build_model(name, vocab_size=p["data"]["vocab"]).num_params() / 1e6
        assert f"{params:.1f}M" in cells
        assert f"{p['train']['max_tokens']:,}" in cells and f"{p['pretrain_steps']:,}" in cells


def test_forward_flops_matches_pytorchs_flop_counter():
    """model.forward_flops, the one FLOP count (notebooks 03 and 11, bench/, gpu_check), equals what
    torch.utils.flop_counter counts for the encoder, the decoder layers and the output layer."""
    from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

    ops = {}  # PyTorch does not count the CPU flash-attention kernel by default: count it as SDPA
    if hasattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu"):
        ops[torch.ops.aten._scaled_dot_product_flash_attention_for_cpu] = (
            lambda q, k, v, *a, out_shape=None, **kw: sdpa_flop_count(q, k, v))
    model, B, S, T = tiny_model(dropout=0.0).eval(), 3, 11, 5
    src = torch.randint(5, model.cfg.vocab_size, (B, S))
    tgt = torch.randint(5, model.cfg.vocab_size, (B, T))
    counted = {}
    with torch.no_grad():
        with FlopCounterMode(display=False, custom_mapping=ops) as fc:
            memory, mask = model.encode(src, 0)
        counted["encoder"] = fc.get_total_flops()
        with FlopCounterMode(display=False, custom_mapping=ops) as fc:
            h = model.decode(tgt, 1, memory, mask, project=False)
        counted["decoder"] = fc.get_total_flops()
        with FlopCounterMode(display=False, custom_mapping=ops) as fc:
            model.project(h)
        counted["output"] = fc.get_total_flops()
    formula = {k: B * v for k, v in forward_flops(model.cfg, S, T).items()}
    assert counted == formula
