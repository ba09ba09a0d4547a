"""Joint BPE tokenizer over all languages (Sec. 4.1: one shared vocabulary, as in XLM).

Special ids are fixed so every module agrees on them:
``<pad>=0, <s>=1, </s>=2, <unk>=3, [M]=4``. Languages get their own ids for the
language embedding that the model adds to every token (Sec. 4.1)."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable
from pathlib import Path

import sentencepiece as spm

PAD, BOS, EOS, UNK, MASK = 0, 1, 2, 3, 4
N_SPECIAL = 5  # ids below this are never drawn as "random tokens" by the masking
SPECIALS = ("<pad>", "<s>", "</s>", "<unk>", "[M]")
LANGS = ("en", "fr", "de", "ro")

def lang_id(lang: str) -> int:
    """Language id for the language embedding:
    >>> lang_id("en"), lang_id("fr")
    (0, 1)"""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGS)}")
    return LANGS.index(lang)

class Tokenizer:
    """A sentencepiece BPE model with minimass's special ids.

    >>> tok = Tokenizer.train(["a small text"] * 50, vocab_size=300)  # a soft limit (289 here)
    >>> tok.decode(tok.encode("a small text"))
    'a small text'
    """
    def __init__(self, model_proto: bytes):
        self.proto = model_proto
        self.sp = spm.SentencePieceProcessor(model_proto=model_proto)
        for i, s in enumerate(SPECIALS):
            if self.sp.id_to_piece(i) != s:
                raise ValueError(f"tokenizer: id {i} is {self.sp.id_to_piece(i)!r}, expected {s!r}")

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 8000, character_coverage: float = 1.0,
              max_sentences: int = 2_000_000, seed: int = 0) -> Tokenizer:
        """Train a joint BPE model on ``texts`` (all languages mixed, Sec. 4.1).
        Byte fallback keeps unseen characters round-trippable (256 byte pieces are added)."""
        texts = [t for t in texts if t.strip()]
        if not texts:
            raise ValueError("Tokenizer.train: no non-empty text to train on")
        spm.set_random_generator_seed(seed)
        buf = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(texts), model_writer=buf, vocab_size=vocab_size,
            model_type="bpe", character_coverage=character_coverage, pad_id=PAD, bos_id=BOS,
            eos_id=EOS, unk_id=UNK, user_defined_symbols=["[M]"], input_sentence_size=max_sentences,
            shuffle_input_sentence=True, hard_vocab_limit=False, byte_fallback=True,
            num_threads=os.cpu_count() or 1, normalization_rule_name="nfkc", minloglevel=2)
        return cls(buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> Tokenizer:
        """Load a model written by :meth:`save`."""
        return cls(Path(path).read_bytes())

    def save(self, path: str | Path) -> None:
        """Write the sentencepiece model file."""
        Path(path).write_bytes(self.proto)

    @property
    def vocab_size(self) -> int:
        return self.sp.get_piece_size()

    @property
    def fingerprint(self) -> str:
        """Short hash of the model, used to key tokenisation caches."""
        return hashlib.sha256(self.proto).hexdigest()[:16]

    def encode(self, text: str | list[str], eos: bool = True) -> list[int] | list[list[int]]:
        """Text to ids, ending with ``</s>`` (a MASS fragment may cover it: m counts it)."""
        if isinstance(text, list):
            return [self.encode(t, eos) for t in text]
        ids = self.sp.encode(text)
        return ids + [EOS] if eos else ids

    def decode(self, ids) -> str | list[str]:
        """Ids to text, up to the first ``</s>``; specials and ids past the vocabulary (a larger
        model's, e.g. T5's sentinels) are dropped."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        if ids and isinstance(ids[0], list):
            return [self.decode(x) for x in ids]
        if EOS in ids:
            ids = ids[: ids.index(EOS)]
        return self.sp.decode([i for i in ids if N_SPECIAL <= i < self.vocab_size or i == UNK])
