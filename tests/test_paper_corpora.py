"""MINIMASS_CORPORA=paper: the task builders read the paper's own corpora (News Crawl + newstest,
Gigaword, Cornell) from small fixtures in their real file formats, in a temporary cache."""

import gzip
import json

import pytest

from minimass import data

SEP = " +++$+++ "


def put(root, name, files: dict) -> None:
    """Write a source's files, and the .done record that scripts/fetch_corpora.py leaves."""
    folder = root / name
    folder.mkdir(parents=True)
    for fname, text in files.items():
        if fname.endswith(".gz"):
            with gzip.open(folder / fname, "wt", encoding="utf-8") as f:
                f.write(text)
        else:
            (folder / fname).write_text(text, encoding="latin-1" if name == "cornell" else "utf-8")
    (folder / ".done").write_text(json.dumps({f: "0" * 64 for f in files}))


@pytest.fixture
def paper(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIMASS_DATA", str(tmp_path))
    monkeypatch.setenv("MINIMASS_CORPORA", "paper")
    lines = lambda lang, n: "".join(f"{lang} news sentence number {i}.\n" for i in range(n))  # noqa: E731
    put(tmp_path, "newscrawl", {"news.2010.en.gz": lines("en", 50), "news.2010.fr.gz": lines("fr", 40)})
    put(tmp_path, "newstest", {f"{s}.en-fr.{lg}": "".join(f"{s} {lg} {i}.\n" for i in range(5))
                               for s in ("valid", "test") for lg in ("en", "fr")})
    put(tmp_path, "gigaword", {f"{s}.{side}.txt": "".join(f"{s} {side} {i}\n" for i in range(8))
                               for s in ("train", "dev", "test") for side in ("src", "tgt")})
    movie_lines = "".join(f"L{i}{SEP}u0{SEP}m0{SEP}A{SEP}line {i} of the film\n" for i in range(1500))
    convs = "".join(f"u0{SEP}u1{SEP}m0{SEP}['L{3 * c}', 'L{3 * c + 1}', 'L{3 * c + 2}']\n" for c in range(500))
    put(tmp_path, "cornell", {"movie_lines.txt": movie_lines, "movie_conversations.txt": convs})
    return tmp_path


def test_the_default_corpora_are_offline_and_a_bad_name_is_refused(monkeypatch):
    monkeypatch.delenv("MINIMASS_CORPORA", raising=False)
    assert data.corpora() == "offline"
    monkeypatch.setenv("MINIMASS_CORPORA", "wmt")
    with pytest.raises(ValueError, match=r"\$MINIMASS_CORPORA 'wmt'; known: offline, paper"):
        data.corpora()


def test_unsupervised_nmt_reads_news_crawl_and_newstest(paper):
    s = data.unsupervised("en", "fr", max_sentences=30)
    assert len(s.train["en"]) == len(s.train["fr"]) == 30
    assert set(s.train["en"]) <= {f"en news sentence number {i}." for i in range(50)}
    assert s.valid == [(f"valid en {i}.", f"valid fr {i}.") for i in range(5)]
    assert sorted(s.test) == [(f"test en {i}.", f"test fr {i}.") for i in range(5)]
    assert data.unsupervised("fr", "en").valid[0] == ("valid fr 0.", "valid en 0.")  # flipped
    assert len(data.unsupervised("fr", "en").train["fr"]) == 40  # no limit: all of it
    with pytest.raises(ValueError, match="newstest pairs are en-X, not fr-de"):
        data.unsupervised("fr", "de")


def test_summarization_and_dialogue_default_to_gigaword_and_cornell(paper):
    s = data.summarization()
    assert s.meta["task"] == "summarization gigaword" and ("dev src 0", "dev tgt 0") in s.valid
    assert sorted(s.test) == sorted((f"test src {i}", f"test tgt {i}") for i in range(8))
    d = data.dialogue()
    assert d.meta["task"] == "dialogue cornell"
    assert ("line 0 of the film", "line 1 of the film") in d.train + d.valid + d.test
    assert len(d.train) + len(d.valid) + len(d.test) == 1000  # two (utterance, response) per film scene


def test_low_resource_nmt_names_the_missing_corpus(paper):
    with pytest.raises(ValueError, match="WMT parallel training data"):
        data.parallel("en", "fr")
