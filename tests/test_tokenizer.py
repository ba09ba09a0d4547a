"""Joint BPE tokenizer (Sec. 4.1): specials, languages, round trips."""

import pytest

from minimass.tokenizer import BOS, EOS, MASK, PAD, UNK, Tokenizer, lang_id

TEXTS = [
    "Blessed are those who mourn, for they shall be comforted.",
    "Heureux les affligés, car ils seront consolés! Où est-ce, ça? Noël, garçon.",
    "Glückselig die Trauernden, denn sie werden getröstet werden. Straße, Größe.",
    "Ferice de cei ce plâng, căci ei vor fi mângâiaţi! Şi în ţară, înşişi.",
]


@pytest.fixture(scope="module")
def tok():
    return Tokenizer.train(TEXTS * 20, vocab_size=400)


@pytest.mark.parametrize("text", TEXTS + ["", "Ça coûte 5 € à Zürich.", "héhé"])
def test_round_trip(tok, text):
    ids = tok.encode(text)
    assert ids[-1] == EOS and all(0 <= i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == text


def test_specials_and_save(tok, tmp_path):
    assert [tok.sp.id_to_piece(i) for i in (PAD, BOS, EOS, UNK, MASK)] == ["<pad>", "<s>", "</s>", "<unk>", "[M]"]
    assert MASK in tok.encode("a [M] b")
    tok.save(tmp_path / "bpe.model")
    again = Tokenizer.load(tmp_path / "bpe.model")
    assert again.encode(TEXTS[1]) == tok.encode(TEXTS[1]) and again.fingerprint == tok.fingerprint
    assert tok.decode([[*tok.encode("ab"), 9, 9]]) == ["ab"]


def test_decode_drops_ids_past_the_vocabulary(tok):
    """A model may have more ids than its tokenizer (T5's sentinels, notebook 11): decoding its output drops them."""
    ids = tok.encode("Heureux les affligés", eos=False)
    assert tok.decode([tok.vocab_size + 3, *ids, tok.vocab_size, EOS]) == "Heureux les affligés"


def test_deterministic_training():
    a = Tokenizer.train(TEXTS * 10, vocab_size=350)
    b = Tokenizer.train(TEXTS * 10, vocab_size=350)
    assert a.fingerprint == b.fingerprint


def test_languages_and_errors():
    assert [lang_id(x) for x in ("en", "fr", "de", "ro")] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="known: en, fr"):
        lang_id("xx")
    with pytest.raises(ValueError, match="no non-empty"):
        Tokenizer.train(["", "  "])
