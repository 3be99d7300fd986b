"""The corpora as labelled pieces, and the fast ABC reader checked against music21's parser."""

from __future__ import annotations

from collections import Counter

import music21
import pytest

from ml.data.abc import music21_corpus_dir, read_collection
from ml.data.corpora import HAN_GENRES, essen, oneill, ryan


def test_essen_han_songs_with_province_and_genre() -> None:
    han = essen(("Chinese Han",))
    assert len(han) == 1224
    genres = Counter(p.genre for p in han)
    assert set(HAN_GENRES) <= set(genres) and all(genres[g] >= 50 for g in HAN_GENRES)
    provinces = Counter(p.province for p in han if p.province)
    assert sum(provinces.values()) / len(han) > 0.95 and len(provinces) >= 20
    assert provinces["Shaanxi"] > 30 and provinces["Sichuan"] > 30


def test_european_sets_and_dance_collections() -> None:
    traditions = Counter(p.tradition for p in essen())
    assert traditions["German"] > 5000 and traditions["Lorraine"] > 500 and traditions["Luxembourg"] == 614
    dances = Counter(p.dance for p in ryan())
    assert dances["reel"] > 300 and dances["hornpipe"] > 200 and dances["jig"] > 200 and dances["strathspey"] > 30
    assert Counter(p.dance for p in oneill())["slip jig"] > 50


def test_unknown_tradition_is_refused() -> None:
    with pytest.raises(Exception, match="known: Chinese Han"):
        essen(("Martian",))


def test_piece_identity_is_the_cid_of_its_text() -> None:
    a, b = essen(("Irish",))[:2]
    assert a.cid != b.cid and a.cid.startswith("bafk")
    assert a.piece_id == "essen/irl#" + a.number


@pytest.mark.parametrize("name", ["testd.abc", "teste.abc"])
def test_fast_reader_agrees_with_music21(name: str) -> None:
    path = music21_corpus_dir() / "essenFolksong" / name
    ours = list(read_collection(path))
    theirs = music21.converter.parse(path)
    scores = list(theirs.scores)
    assert len(ours) == len(scores)
    for tune, score in zip(ours, scores, strict=True):
        assert tune.title == score.metadata.title
        again = music21.converter.parse(tune.text, format="abc")  # each tune's own text parses alone to the same notes
        assert [n.pitch.midi for n in again.recurse().notes if n.isNote] == [n.pitch.midi for n in score.recurse().notes if n.isNote]
