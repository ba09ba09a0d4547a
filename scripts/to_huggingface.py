"""Export a trained minimass model to a Hugging Face ``BartForConditionalGeneration`` folder for one language pair.

    .venv/bin/python scripts/to_huggingface.py RUN_OR_CHECKPOINT en fr hf-en-fr

The MASS model of Sec. 4.1 is a post-LN Transformer encoder-decoder with learned positions, shared token
embeddings tied to the output layer, GELU and a LayerNorm over the summed embeddings: BART's architecture.
The one thing BART lacks, the language embedding, is constant per side for a fixed pair, so it is folded
into each side's copy of the position table. ``transformers`` is optional: ``pip install -e ".[hf]"``.
An interoperability tool rather than an idea of the paper, it lives beside the package (``bench/run.py`` and
``tests/test_export.py`` load it from here), which keeps ``minimass/`` within its 2,000 lines."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch

from minimass.model import Seq2Seq
from minimass.recipes import latest
from minimass.tokenizer import BOS, EOS, MASK, lang_id
from minimass.trainer import load_checkpoint

MAPPED = {"vocab_size", "n_langs", "d_model", "n_heads", "d_ff", "n_enc_layers", "n_dec_layers", "max_positions",
          "dropout", "attn_dropout", "pre_ln", "pad_id"}  # ModelConfig fields with a BART counterpart (pre_ln: False)

def to_huggingface(model: Seq2Seq, src_lang: str | int, tgt_lang: str | int, path: str | Path) -> Path:
    """Write ``model`` translating ``src_lang`` -> ``tgt_lang`` as a BART folder (config.json, model.safetensors).
    The BART model's logits equal ``model(src, src_lang, dec_in, tgt_lang)`` for decoder input ``<s> y ..``
    at positions 0..T-1; its generation config bans ``<pad>``, ``<s>`` and ``[M]`` as minimass's search does.
    Raises ValueError for what BART cannot express (``pre_ln=True``, unknown config fields)."""
    try:
        from transformers import BartConfig, BartForConditionalGeneration
    except ImportError as e:
        raise ImportError('to_huggingface needs transformers: pip install -e ".[hf]"') from e
    cfg = model.cfg
    if unknown := [f.name for f in dataclasses.fields(cfg) if f.name not in MAPPED]:
        raise ValueError(f"cannot export to BART: model config field(s) {', '.join(unknown)} have no BART counterpart")
    if cfg.pre_ln:
        raise ValueError("cannot export to BART: pre_ln=True (BART is post-LN only)")
    langs = [lang_id(x) if isinstance(x, str) else int(x) for x in (src_lang, tgt_lang)]
    if not all(0 <= x < cfg.n_langs for x in langs):
        raise ValueError(f"language ids {langs} out of range for n_langs={cfg.n_langs}")
    hf_cfg = BartConfig(
        vocab_size=cfg.vocab_size, max_position_embeddings=cfg.max_positions, d_model=cfg.d_model,
        encoder_layers=cfg.n_enc_layers, decoder_layers=cfg.n_dec_layers, encoder_attention_heads=cfg.n_heads,
        decoder_attention_heads=cfg.n_heads, encoder_ffn_dim=cfg.d_ff, decoder_ffn_dim=cfg.d_ff,
        activation_function="gelu", dropout=cfg.dropout, attention_dropout=cfg.attn_dropout,
        activation_dropout=cfg.dropout, encoder_layerdrop=0.0, decoder_layerdrop=0.0, scale_embedding=False,
        tie_word_embeddings=True, pad_token_id=cfg.pad_id, bos_token_id=BOS, eos_token_id=EOS,
        decoder_start_token_id=BOS, forced_bos_token_id=None, forced_eos_token_id=None)
    ms = {k: v.detach() for k, v in model.state_dict().items()}
    tok = ms["tok_emb.weight"]
    sd = {"model.shared.weight": tok, "lm_head.weight": tok, "final_logits_bias": ms["out_bias"][None]}

    def put(dst: str, src: str) -> None:
        sd[f"{dst}.weight"], sd[f"{dst}.bias"] = ms[f"{src}.weight"], ms[f"{src}.bias"]

    for side, lang, n_layers in (("encoder", langs[0], cfg.n_enc_layers), ("decoder", langs[1], cfg.n_dec_layers)):
        pre = f"model.{side}."
        sd[pre + "embed_tokens.weight"] = tok
        pos = ms["pos_emb.weight"] + ms["lang_emb.weight"][lang]          # language folded into positions
        sd[pre + "embed_positions.weight"] = torch.cat([pos.new_zeros(2, cfg.d_model), pos])  # BART offset 2
        put(pre + "layernorm_embedding", "emb_norm")                      # shared by both sides in minimass
        attns = ["self_attn"] + (["encoder_attn"] if side == "decoder" else [])
        norms = [f"{a}_layer_norm" for a in attns] + ["final_layer_norm"]
        for i in range(n_layers):
            dst, src = f"{pre}layers.{i}.", f"{side}.{i}."
            for a, m in zip(attns, ["self_attn", "cross_attn"]):
                put(f"{dst}{a}.q_proj", f"{src}{m}.q")
                put(f"{dst}{a}.out_proj", f"{src}{m}.out")
                for s in ("weight", "bias"):  # fused kv: first half k, second half v
                    sd[f"{dst}{a}.k_proj.{s}"], sd[f"{dst}{a}.v_proj.{s}"] = ms[f"{src}{m}.kv.{s}"].chunk(2, 0)
            for j, n in enumerate(norms):
                put(dst + n, f"{src}norms.{j}")
            put(dst + "fc1", src + "ffn.0")
            put(dst + "fc2", src + "ffn.3")
    hf = BartForConditionalGeneration(hf_cfg).to(tok.dtype)
    hf.load_state_dict({k: v.contiguous().cpu() for k, v in sd.items()}, strict=True)
    hf.generation_config.suppress_tokens = [cfg.pad_id, BOS, MASK]
    path = Path(path)
    hf.save_pretrained(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", help="a checkpoint folder, or a run folder (its newest checkpoint is used)")
    ap.add_argument("src_lang", help="source language, e.g. en")
    ap.add_argument("tgt_lang", help="target language, e.g. fr")
    ap.add_argument("out", help="the Hugging Face folder to write")
    args = ap.parse_args()
    model = load_checkpoint(latest(args.checkpoint))[0]
    print(f"wrote {to_huggingface(model, args.src_lang, args.tgt_lang, args.out)}")


if __name__ == "__main__":
    main()
