"""Real corpora: read, clean, split, tokenise and batch them (Sec. 4.1-4.4). Fetching them is not
an idea of the paper: ``scripts/fetch_corpora.py`` fills ``cache_dir()`` (``make venv`` runs it for
the offline ones); this module reads that cache, or a local copy given as ``path``.
Held-out items are fixed whatever the seed (Bible books; a hash of each article's or conversation's
id), so all builders agree on them and pre-training never holds a valid or test sentence."""

import gzip
import hashlib
import itertools
import json
import os
import random
import re
import sqlite3
import sys
import unicodedata
from collections import namedtuple
from collections.abc import Iterable, Sequence
from contextlib import closing, nullcontext
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
_BIBLE_MARKS = re.compile(r"\(\d+:\d+\)|[\[\]]|\*( ?\*)*")  # [supplied words], '(9:1)', '***'
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“«(]?[A-ZÀ-ÖØ-Þ0-9])")

def cache_dir() -> Path:
    """Cache root: ``$MINIMASS_DATA`` if set, else ``~/.cache/minimass``."""
    return Path(os.environ.get("MINIMASS_DATA") or Path.home() / ".cache" / "minimass")

def corpora() -> str:
    """``$MINIMASS_CORPORA``: ``offline`` (default: Bible, BBC, chit-chat, from PyPI wheels) or
    ``paper``, the paper's own (online: News Crawl + newstest, Gigaword, Cornell; Sec. 4.1-4.4)."""
    _require_known(name := os.environ.get("MINIMASS_CORPORA") or "offline", ("offline", "paper"),
                   "$MINIMASS_CORPORA")
    return name

def fetched(name: str) -> dict[str, Any]:
    """The cache's record ``cache_dir() / name / ".done"`` of source ``name``: each file that
    ``scripts/fetch_corpora.py`` put there (a wheel's pip spec, a download) -> its sha256; or {}."""
    record = cache_dir() / name / ".done"
    return json.loads(record.read_text()) if record.exists() else {}

def _require_known(value: str, known: Iterable[str] = LANGS, what: str = "language") -> None:
    if value not in known:
        raise ValueError(f"unknown {what} {value!r}; known: {', '.join(known)}")

def source_dir(name: str, langs: Iterable[str] | None = None) -> Path:
    """The cache folder of source ``name`` once fetched (and of ``langs``, where files are per
    language: news.2007.en.gz, en-fr); else ``FileNotFoundError`` names the command to fetch it."""
    _require_known(name, SOURCES, "source")
    done, langs = fetched(name), list(langs or [])
    tagged = {t for f in done for t in re.split(r"[.-]", f) if t in LANGS}  # languages of files
    if not done or tagged and set(langs) - tagged:
        only = f" --langs {','.join(langs)}" if langs else ""
        raise FileNotFoundError(f"{name} is not in the cache {cache_dir() / name}: run "
                                f"`python scripts/fetch_corpora.py {name}{only}`")
    return cache_dir() / name

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
    _require_known(lang, ("fr", "de", "ro"), "newstest language")
    return read_parallel(path / f"{split}.en-{lang}.en", path / f"{split}.en-{lang}.{lang}")

# Per source: its languages, its reader(cache folder, **options) and the (valid, test) fractions
# of its items held out by a hash of their id (the Bible holds out books; gigaword has its splits)
Source = namedtuple("Source", "langs reader held_out", defaults=((0.02, 0.02),))
SOURCES = {
    "bible": Source(langs=LANGS, reader=lambda p, version="4": _bible(p, version)),
    "bbc": Source(langs=("en",), reader=_bbc, held_out=(0.05, 0.10)),
    "chitchat": Source(langs=("en",), reader=_chitchat),
    "wiki": Source(langs=("en", "fr"), reader=_wiki),
    "newscrawl": Source(langs=LANGS, reader=_newscrawl, held_out=(0.001, 0.001)),
    "newstest": Source(langs=LANGS, reader=_newstest),
    "gigaword": Source(langs=("en",), reader=_gigaword),
    "cornell": Source(langs=("en",), reader=_cornell)}

Splits = namedtuple("Splits", "train valid test meta")  # train: a list, or {lang: list} for bt

def _root(name: str, path: str | Path | None, langs: Iterable[str] | None = None) -> Path:
    return Path(path) if path else source_dir(name, langs)

def _finish(parts: dict, what: str, seed: int, tokenizer: Any, max_len: int,
            n_train: int | None = None, roots: dict | None = None, **meta: Any) -> Splits:
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
    meta |= {"task": what, "seed": seed, "max_len": max_len, "sources": {  # what was read: the
        s: list(fetched(s)) if r == cache_dir() / s else [str(r)]  # fetched files, or a local copy
        for s, r in (roots or {}).items()}}
    return Splits(trains if isinstance(parts["train"], dict) else trains[""], valid, test, meta)

def _documents(source: str, root: Path, lang: str, limit: int | None) -> Iterable:
    """(key, sentences) per held-out unit of a monolingual source other than the Bible."""
    if source == "bbc":  # an article: its headline, then its sentences
        return ((key, [head, *sentences]) for key, head, sentences in _bbc(root))
    if source == "newscrawl":  # shuffled sentences: each is a unit of its own
        return ((x, [x]) for x in _newscrawl(root, lang, limit))
    if source == "wiki":  # articles: their sentences
        return _wiki(root, lang)
    return SOURCES[source].reader(root)  # conversations: their turns

def monolingual(lang: str, sources: Sequence[str] | None = None, seed: int = 0,
                tokenizer: Any = None, max_len: int = MAX_LEN, paths: dict | None = None,
                max_sentences: int | None = None) -> Splits:
    """Sentences of ``lang`` for pre-training (Sec. 4.1); ``sources`` default: all Bible versions
    and Wikipedia. Bible valid/test = Mark/Matthew, and no version of Matthew, Mark or Luke is in
    train; other sources hold out the task builders' hashed items. ``paths``: local copies."""
    _require_known(lang)
    sources = sources or [s for s in ("bible", "wiki") if lang in SOURCES[s].langs]
    parts: dict[str, list[str]] = {"train": [], "valid": [], "test": []}
    roots: dict[str, Path] = {}  # source -> the folder or file read
    sentence_sources = ("bible", "wiki", "bbc", "chitchat", "cornell", "newscrawl")
    for s in sources:
        _require_known(s, sentence_sources, "monolingual source")
        _require_known(lang, SOURCES[s].langs, f"language of source {s!r}")
        root = roots[s] = _root(s, (paths or {}).get(s), [lang])
        if s == "bible":
            verses = [_bible(root, v) for v in BIBLE[lang]]
            got = {"train": [t for vs in verses for k, t in vs.items() if k[0] not in HELD_OUT],
                   "valid": [t for k, t in verses[0].items() if k[0] == VALID_BOOK],
                   "test": [t for k, t in verses[0].items() if k[0] == TEST_BOOK]}
        else:
            got = _by_bucket(_documents(s, root, lang, max_sentences), SOURCES[s].held_out)
        for k in parts:
            parts[k] += got[k]
    return _finish(parts, f"monolingual {lang}", seed, tokenizer, max_len, roots=roots)

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
    if corpora() == "paper" and not path:
        raise ValueError("paper corpora: no loader reads Sec. 4.2's WMT parallel training data; "
                         "low-resource NMT reads Bible pairs (MINIMASS_CORPORA=offline)")
    root = _root("bible", path)
    books = {b for b, _, _ in _bible(root, BIBLE[src_lang][0])} - HELD_OUT
    parts = {k: _verse_pairs(root, src_lang, tgt_lang, bs)
             for k, bs in (("train", books), ("valid", [VALID_BOOK]), ("test", [TEST_BOOK]))}
    return _finish(parts, f"parallel {src_lang}-{tgt_lang}", seed, tokenizer, max_len, n_train,
                   {"bible": root}, versions=(BIBLE[src_lang][0], BIBLE[tgt_lang][0]))

def unsupervised(l1: str = "en", l2: str = "fr", seed: int = 0, tokenizer: Any = None,
                 max_len: int = MAX_LEN, path: str | Path | None = None,
                 max_sentences: int | None = None) -> Splits:
    """Unsupervised NMT (Sec. 4.2): ``train = {l1: [...], l2: [...]}`` from DISJOINT Bible books
    (all versions of a language; books that retell each other on one side; seeded, balanced in
    verses); valid/test = Mark/Matthew pairs; Luke is in no split (more text: ``monolingual``).
    With ``corpora() == "paper"``: the first ``max_sentences`` of News Crawl per language, and
    newstest's valid and test pairs."""
    for lang in (l1, l2):
        _require_known(lang)
    if corpora() == "paper" and not path:  # News Crawl per language; newstest valid and test
        if "en" not in (l1, l2):
            raise ValueError(f"paper corpora: newstest pairs are en-X, not {l1}-{l2}")
        x = l2 if l1 == "en" else l1
        tests = source_dir("newstest", [x])
        pairs = {k: [p if l1 == "en" else p[::-1] for p in _newstest(tests, x, k)]
                 for k in ("valid", "test")}
        news = {lg: _newscrawl(source_dir("newscrawl", [lg]), lg, max_sentences) for lg in (l1, l2)}
        return _finish({"train": news, **pairs}, f"unsupervised {l1}-{l2}", seed, tokenizer,
                       max_len, None, {"newscrawl": source_dir("newscrawl"), "newstest": tests})
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
    return _finish(parts, f"unsupervised {l1}-{l2}", seed, tokenizer, max_len, None,
                   {"bible": root}, books={lg: sorted(b) for lg, b in side.items()})

def summarization(source: str | None = None, seed: int = 0, lead: int = 1,
                  n_train: int | None = None, tokenizer: Any = None, max_len: int = MAX_LEN,
                  path: str | Path | None = None) -> Splits:
    """(article lead, headline) pairs (Sec. 4.3, as Gigaword): ``bbc``: first ``lead`` sentences ->
    headline, 5% valid, 10% test by a hash of the article id; ``gigaword`` (online): its own.
    ``source`` None: ``gigaword`` when ``corpora() == "paper"``, else ``bbc``."""
    source = source or ("gigaword" if corpora() == "paper" else "bbc")
    _require_known(source, ("bbc", "gigaword"), "summarization source")
    root = _root(source, path)
    if source == "gigaword":  # its own train, dev and test files
        parts = {k: _gigaword(root, f) for k, f in [("train", "train"), ("valid", "dev"),
                                                     ("test", "test")]}
    else:
        leads = ((k, [(" ".join(s[:lead]), head)]) for k, head, s in _bbc(root))
        parts = _by_bucket(leads, SOURCES["bbc"].held_out)
    return _finish(parts, f"summarization {source}", seed, tokenizer, max_len, n_train,
                   {source: root}, lead=lead)

def dialogue(source: str | None = None, seed: int = 0, n_train: int | None = None,
             tokenizer: Any = None, max_len: int = MAX_LEN,
             path: str | Path | None = None) -> Splits:
    """(utterance, response) pairs of consecutive turns (Sec. 4.4) of ``chitchat`` or ``cornell``
    (online; the default when ``corpora() == "paper"``); whole conversations are held out (2%
    valid, 2% test by a hash of their id)."""
    source = source or ("cornell" if corpora() == "paper" else "chitchat")
    _require_known(source, ("chitchat", "cornell"), "dialogue source")
    convs = SOURCES[source].reader(root := _root(source, path))
    turns = ((k, list(zip(ts, ts[1:]))) for k, ts in convs)
    parts = _by_bucket(turns, SOURCES[source].held_out)
    return _finish(parts, f"dialogue {source}", seed, tokenizer, max_len, n_train, {source: root})

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
