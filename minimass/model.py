"""Transformer encoder-decoder for MASS (Sec. 4.1).

As in XLM and MASS: learned positions, a language embedding added to every token, the sum through
a LayerNorm (XLM's ``layer_norm_emb``), GELU, post-LN by default (``pre_ln=True``: pre-LN).
minimass's own simplification: one embedding table shared by encoder, decoder and output layer, one
cross-attention for all languages (XLM and MASS build two models with their own embeddings, tying
only the decoder's input and output ones, and MASS has one cross-attention output projection per
language). The decoder takes explicit positions: MASS feeds it only the fragment, each token at its
own position (Sec. 4.1, decoder padding removed)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .presets import PRESETS
from .tokenizer import PAD


@dataclass
class ModelConfig:
    vocab_size: int = 8000      # joint BPE vocabulary of all languages (set from the tokenizer)
    n_langs: int = 4            # language embeddings: en, fr, de, ro
    d_model: int = 256          # hidden size (paper: 1024)
    n_heads: int = 4            # attention heads (the paper gives none; XLM and MASS: 8)
    d_ff: int = 1024            # feed-forward inner size (paper: 4096)
    n_enc_layers: int = 3       # encoder layers (paper: 6)
    n_dec_layers: int = 3       # decoder layers (paper: 6)
    max_positions: int = 512    # learned absolute positions (the paper drops sentences over 175)
    dropout: float = 0.1        # on embeddings, residual branches and FFN activations
    attn_dropout: float = 0.1   # on attention weights
    pre_ln: bool = False        # False: post-LN as in XLM/MASS; True: pre-LN (stabler when deep)
    pad_id: int = PAD           # padding token id (never attended to in the encoder)

MODEL_PRESETS: dict[str, dict] = {name: p["model"] for name, p in PRESETS.items()}  # see presets

BOOLS = {"true": True, "1": True, "false": False, "0": False}

def _parse(text: str, like):  # a command line's text as the type of the field's value ``like``
    if isinstance(like, bool):
        return BOOLS[text.lower()]
    if isinstance(like, tuple):  # "1,2" -> (1, 2)
        return tuple(type(like[0])(v) for v in text.split(","))
    return type(like)(text)

def override(cfg, overrides: dict | None = None, **kw):
    """Return a copy of dataclass ``cfg`` with fields replaced; unknown keys are errors.
    String values (from a command line) are converted to the field's type:
    >>> cfg = override(ModelConfig(), {"d_model": "128", "pre_ln": "true"}, dropout=0.0)
    >>> cfg.d_model, cfg.pre_ln, cfg.dropout
    (128, True, 0.0)"""
    changes = {**(overrides or {}), **kw}
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    for key, value in list(changes.items()):
        if key not in fields:
            raise KeyError(f"unknown {type(cfg).__name__} key {key!r}; known: {', '.join(fields)}")
        old = getattr(cfg, key)
        if isinstance(value, str) and not isinstance(old, str) and old is not None:
            try:
                value = _parse(value, old)
            except (ValueError, KeyError):
                raise ValueError(f"{type(cfg).__name__} key {key!r}: expected "
                                 f"{type(old).__name__}, got {value!r}") from None
        changes[key] = value
    return dataclasses.replace(cfg, **changes)

class Attention(nn.Module):
    """Multi-head attention through ``F.scaled_dot_product_attention``, with optional KV cache."""
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.nh, self.p = cfg.n_heads, cfg.attn_dropout
        self.q = nn.Linear(cfg.d_model, cfg.d_model)
        self.kv = nn.Linear(cfg.d_model, 2 * cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)

    def heads(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        return x.view(B, T, self.nh, C // self.nh).transpose(1, 2)  # (B, nh, T, hs)

    def forward(self, x: Tensor, memory: Tensor | None = None, mask: Tensor | None = None,
                causal: bool = False, cache: dict | None = None) -> Tensor:
        q = self.heads(self.q(x))                                      # (B, nh, T, hs)
        if memory is not None and cache is not None and "k" in cache:  # cross-attn: memory is fixed
            k, v = cache["k"], cache["v"]
        else:
            k, v = self.kv(x if memory is None else memory).chunk(2, dim=-1)
            k, v = self.heads(k), self.heads(v)                        # (B, nh, S, hs)
            if cache is not None:
                if memory is None and "k" in cache:                    # self-attn: append this step
                    k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
                cache["k"], cache["v"] = k, v
        T, S = q.size(2), k.size(2)
        if causal and T > 1:  # query t sits at key S-T+t and sees keys up to it
            mask = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(S - T)
        p = self.p if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        return self.out(y.transpose(1, 2).flatten(2))                  # (B, T, C)

class Layer(nn.Module):
    """One encoder layer, or with ``cross=True`` one decoder layer (self-attn, cross-attn, FFN)."""
    def __init__(self, cfg: ModelConfig, cross: bool = False):
        super().__init__()
        self.pre_ln = cfg.pre_ln
        self.self_attn = Attention(cfg)
        self.cross_attn = Attention(cfg) if cross else None
        self.ffn = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_ff), nn.GELU(),
                                 nn.Dropout(cfg.dropout), nn.Linear(cfg.d_ff, cfg.d_model))
        self.norms = nn.ModuleList(nn.LayerNorm(cfg.d_model) for _ in range(3 if cross else 2))
        self.drop = nn.Dropout(cfg.dropout)

    def residual(self, i: int, x: Tensor, f) -> Tensor:
        if self.pre_ln:
            return x + self.drop(f(self.norms[i](x)))
        return self.norms[i](x + self.drop(f(x)))

    def forward(self, x: Tensor, mask: Tensor | None = None, memory: Tensor | None = None,
                mem_mask: Tensor | None = None, cache: dict | None = None) -> Tensor:
        causal = self.cross_attn is not None  # a decoder layer's self-attention
        kv_self, kv_cross = (None, None) if cache is None else (cache["self"], cache["cross"])
        x = self.residual(0, x, lambda h: self.self_attn(h, mask=mask, causal=causal,
                                                         cache=kv_self))
        if self.cross_attn is not None and memory is not None:  # none: decoder-only LM (BERT+LM)
            x = self.residual(1, x, lambda h: self.cross_attn(h, memory, mem_mask, cache=kv_cross))
        return self.residual(len(self.norms) - 1, x, self.ffn)

class Seq2Seq(nn.Module):
    """The MASS encoder-decoder (Sec. 4.1). Tokens are ``(B, T)`` ids; a ``lang`` is an int or (B,).

    >>> model = Seq2Seq(ModelConfig(vocab_size=100, d_model=32, n_heads=2, d_ff=64))
    >>> model(torch.tensor([[5, 6, 2]]), 0, torch.tensor([[4, 5]]), 0).shape
    torch.Size([1, 2, 100])
    """
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        if d % cfg.n_heads:
            raise ValueError(f"d_model={d} is not divisible by n_heads={cfg.n_heads}")
        self.tok_emb = nn.Embedding(cfg.vocab_size, d, padding_idx=cfg.pad_id)
        self.pos_emb = nn.Embedding(cfg.max_positions, d)
        self.lang_emb = nn.Embedding(cfg.n_langs, d)
        self.emb_norm = nn.LayerNorm(d)   # XLM normalises the summed embeddings
        self.drop = nn.Dropout(cfg.dropout)
        self.encoder = nn.ModuleList(Layer(cfg) for _ in range(cfg.n_enc_layers))
        self.decoder = nn.ModuleList(Layer(cfg, cross=True) for _ in range(cfg.n_dec_layers))
        self.enc_norm = nn.LayerNorm(d) if cfg.pre_ln else nn.Identity()
        self.dec_norm = nn.LayerNorm(d) if cfg.pre_ln else nn.Identity()
        self.out_bias = nn.Parameter(torch.zeros(cfg.vocab_size))  # output weights: tok_emb
        self.apply(self._init)

    def _init(self, m: nn.Module) -> None:
        if isinstance(m, nn.Embedding):  # XLM: N(0, d^-1/2), padding row zero
            nn.init.normal_(m.weight, 0.0, self.cfg.d_model ** -0.5)
            if m.padding_idx is not None:
                nn.init.zeros_(m.weight[m.padding_idx])
        elif isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)

    def num_params(self) -> int:
        """Number of parameters (shared embeddings counted once)."""
        return sum(p.numel() for p in self.parameters())

    def embed(self, tokens: Tensor, lang: int | Tensor, positions: Tensor | None = None) -> Tensor:
        """Token + position + language embeddings, then LayerNorm and dropout: ``(B, T, d)``."""
        B, T = tokens.shape
        if positions is None:
            positions = torch.arange(T, device=tokens.device).expand(B, T)
        if int(positions.max()) >= self.cfg.max_positions:
            raise ValueError(f"position {int(positions.max())} >= "
                             f"max_positions={self.cfg.max_positions}")
        lang = torch.as_tensor(lang, device=tokens.device)
        lang = lang.view(-1, 1) if lang.dim() == 1 else lang   # (B,) -> (B, 1); () broadcasts
        x = self.tok_emb(tokens) + self.pos_emb(positions) + self.lang_emb(lang)
        return self.drop(self.emb_norm(x))

    def encode(self, src: Tensor, lang: int | Tensor) -> tuple[Tensor, Tensor]:
        """Encode ``src`` (B, S): the memory (B, S, d) and its attention mask (B, 1, 1, S)."""
        mask = (src != self.cfg.pad_id)[:, None, None, :]   # True = may be attended to
        x = self.embed(src, lang)
        for layer in self.encoder:
            x = layer(x, mask=mask)
        return self.enc_norm(x), mask

    def decode(self, tgt: Tensor, lang: int | Tensor, memory: Tensor | None = None,
               mem_mask: Tensor | None = None, positions: Tensor | None = None,
               cache: list[dict] | None = None, project: bool = True) -> Tensor:
        """Run the decoder on ``tgt`` (B, T) at ``positions`` (default 0..T-1); returns logits
        (B, T, V), or with ``project=False`` the final hidden states (B, T, d).

        With ``cache`` (from :meth:`new_cache`) only the new tokens are fed at each step and
        their positions default to continuing after the cached ones."""
        if positions is None and cache is not None and "k" in cache[0]["self"]:
            past = cache[0]["self"]["k"].size(2)
            positions = torch.arange(past, past + tgt.size(1), device=tgt.device).expand_as(tgt)
        x = self.embed(tgt, lang, positions)
        for layer, kv in zip(self.decoder, cache or [None] * len(self.decoder)):
            x = layer(x, memory=memory, mem_mask=mem_mask, cache=kv)
        return self.project(self.dec_norm(x)) if project else self.dec_norm(x)

    def project(self, h: Tensor) -> Tensor:
        """Output layer tied to the token embeddings: ``(B, T, d) -> (B, T, V)``."""
        return F.linear(h, self.tok_emb.weight, self.out_bias)

    def new_cache(self) -> list[dict]:
        """An empty key/value cache for incremental decoding (one dict per decoder layer)."""
        return [{"self": {}, "cross": {}} for _ in self.decoder]

    @staticmethod
    def reorder_cache(cache: list[dict], index: Tensor) -> None:
        """Select batch rows of every cached tensor in place (beam search)."""
        for layer in cache:
            for part in layer.values():
                for key in part:
                    part[key] = part[key].index_select(0, index)

    def forward(self, src: Tensor, src_lang: int | Tensor, tgt: Tensor, tgt_lang: int | Tensor,
                positions: Tensor | None = None) -> Tensor:
        """Teacher-forced encoder-decoder pass: logits ``(B, T, V)`` for decoder input ``tgt``."""
        memory, mask = self.encode(src, src_lang)
        return self.decode(tgt, tgt_lang, memory, mask, positions)

def build_model(preset: str = "cpu", vocab_size: int = 8000, **overrides) -> Seq2Seq:
    """A model of a named size (:data:`MODEL_PRESETS`):
    >>> build_model("smoke", vocab_size=1000).num_params()  # shared embeddings counted once
    315240"""
    if preset not in MODEL_PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(MODEL_PRESETS)}")
    cfg = override(ModelConfig(vocab_size=vocab_size), MODEL_PRESETS[preset], **overrides)
    return Seq2Seq(cfg)

def forward_flops(cfg: ModelConfig, src_len: int, tgt_len: int) -> dict[str, float]:
    """Rough forward FLOPs (multiply-adds x 2) of the encoder and decoder per sentence.
    Sec. 4.1's claim: removing the decoder padding halves the decoder's compute at k = m/2."""
    d, f = cfg.d_model, cfg.d_ff
    enc = cfg.n_enc_layers * src_len * (2 * 4 * d * d + 2 * 2 * d * f + 2 * 2 * src_len * d)
    # per target token: self-attn q,k,v,out + cross-attn q,out (12 d^2), FFN, attention scores over
    # T + S keys; the cross-attention keys/values of the S memory vectors: once per layer (4 S d^2)
    per_token = 12 * d * d + 4 * d * f + 4 * (tgt_len + src_len) * d
    dec = cfg.n_dec_layers * (tgt_len * per_token + 4 * src_len * d * d)
    output = 2.0 * tgt_len * d * cfg.vocab_size
    return {"encoder": float(enc), "decoder": float(dec), "output": output}
