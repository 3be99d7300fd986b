"""Symbolic features from ABC (hand-computed values, music21 cross-check), tasks, evaluation, report."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError
from ml.classification.symbolic import (
    FEATURE_BLOCKS,
    N_FEATURES,
    REGIONS,
    TASKS,
    evaluate_task,
    feature_names,
    features,
    symbolic_features,
    write_report,
)
from ml.data.corpora import PROVINCES, Piece, essen, oneill, ryan
from ml.data.melody import read_melody

SCALE = "X:1\nT:C major scale\nM:4/4\nL:1/4\nK:C\nC D E F | G A B c |]\n"
# In D (F#, C#): a broken (dotted) rhythm, a natural that carries to the end of its bar, then C# again.
DOTTED_IN_D = "X:2\nT:Dotted in D\nM:3/4\nL:1/8\nK:D\nA>B d2 f2 | e3 =c c2 | c2 d4 |]\n"


def block(vector: np.ndarray, name: str) -> np.ndarray:
    start = 0
    for block_name, length, _ in FEATURE_BLOCKS:
        if block_name == name:
            return vector[start:start + length]
        start += length
    raise KeyError(name)


def interval_histogram(counts: dict[int, int]) -> np.ndarray:
    out = np.zeros(27)
    for step, n in counts.items():
        out[step + 13] = n
    return out / sum(counts.values())


def test_symbolic_features_c_major_scale() -> None:
    x = symbolic_features(SCALE)
    assert x.shape == (N_FEATURES,) == (len(feature_names()),)
    expected_pc = np.zeros(12)
    expected_pc[[2, 4, 5, 7, 9, 11]] = 1 / 8
    expected_pc[0] = 2 / 8  # C and c
    np.testing.assert_allclose(block(x, "pitch_class"), expected_pc)
    np.testing.assert_array_equal(block(x, "final"), np.eye(12)[0])
    np.testing.assert_allclose(block(x, "interval"), interval_histogram({1: 2, 2: 5}))
    np.testing.assert_allclose(block(x, "contour"), [1, 0, 0, 12, 12 / 7])
    np.testing.assert_allclose(block(x, "duration"), np.eye(10)[5])  # all quarter notes
    np.testing.assert_allclose(block(x, "rhythm"), [0, 4, 0])  # 8 notes over 2 bars of 4/4
    np.testing.assert_array_equal(block(x, "metre"), np.eye(13)[1])  # 4/4


def test_symbolic_features_dotted_tune_in_d() -> None:
    melody = read_melody(DOTTED_IN_D)
    assert [n.pitch for n in melody.notes] == [69, 71, 74, 78, 76, 72, 72, 73, 74]
    assert [n.quarter_length for n in melody.notes] == [0.75, 0.25, 1, 1, 1.5, 0.5, 1, 1, 2]
    assert melody.tonic == 2
    x = symbolic_features(DOTTED_IN_D)
    # relative to D: A=7 (0.75 q), B=9 (0.25), d=0 (1 + 2), f#=4 (1), e=2 (1.5), c=10 (0.5 + 1), c#=11 (1); 9 quarters
    weights = {7: 0.75, 9: 0.25, 0: 3.0, 4: 1.0, 2: 1.5, 10: 1.5, 11: 1.0}
    np.testing.assert_allclose(block(x, "pitch_class"), [weights.get(k, 0) / 9 for k in range(12)])
    np.testing.assert_array_equal(block(x, "final"), np.eye(12)[0])
    np.testing.assert_allclose(block(x, "interval"), interval_histogram({2: 1, 3: 1, 4: 1, -2: 1, -4: 1, 0: 1, 1: 2}))
    np.testing.assert_allclose(block(x, "contour"), [5 / 8, 2 / 8, 1 / 8, 9, 17 / 8])
    # durations 3/4, 1/4, 1, 1, 3/2, 1/2, 1, 1, 2 at bins 1/8 1/4 1/3 1/2 3/4 1 3/2 2 3 >=4
    np.testing.assert_allclose(block(x, "duration"), np.array([0, 1, 0, 1, 1, 4, 1, 1, 0, 0]) / 9)
    np.testing.assert_allclose(block(x, "rhythm"), [2 / 9, 3, 0])  # dotted: 3/4 and 3/2; 9 notes over 3 bars
    np.testing.assert_array_equal(block(x, "metre"), np.eye(13)[3])  # 3/4


@pytest.mark.parametrize(("abc", "expected", "raises"), [
    ("X:1\nL:1/8\nK:G\n(3cde f-f | {g}f2 z [CEG]2 |\n", ([72, 74, 76, 78, 78, 78, None, 67], [1 / 3] * 3 + [0.5, 0.5, 1, 0.5, 1]),
     nullcontext()),
    # A dorian has G major's F#; an inline [K:Bb] flattens B from there on
    ("X:1\nL:1/8\nK:Ador\nf2 F, A<B [K:Bb] B b' |\n", ([78, 54, 69, 71, 70, 94], [1, 0.5, 0.25, 0.75, 0.5, 0.5]), nullcontext()),
    ("X:1\nM:6/8\nK:F\nB/2c/ B// |\n", ([70, 72, 70], [0.25, 0.25, 0.125]), nullcontext()),
    ("X:1\nT:no key\nC D E\n", None, pytest.raises(InputError, match="K:")),
    ("X:1\nK:C\n| z2 |\n", None, pytest.raises(InputError, match="no notes")),
])
def test_read_melody(abc: str, expected: tuple[list[int | None], list[float]] | None, raises: AbstractContextManager[object]) -> None:
    with raises:
        melody = read_melody(abc)
        assert expected is not None
        assert [n.pitch for n in melody.notes] == expected[0]
        np.testing.assert_allclose([n.quarter_length for n in melody.notes], expected[1])


# Tunes free of the documented divergences (see CROSS_CHECK_EXCEPTIONS), chosen to cover an accidental
# carried through its bar, broken rhythm, triplets, ties, chords, and every corpus.
CROSS_CHECK = ("essen/han1#1", "essen/han2#147", "essen/altdeu10#38", "essen/erk20#248", "essen/dva0#29", "essen/lux#1",
               "oneill1850/0051-0100#85", "oneill1850/0101-0200#120", "oneill1850/0201-0300#225", "oneill1850/0701-0720#704",
               "ryan/AllTheGoReel#1", "ryan/BanishMisfortune#10")
CROSS_CHECK_EXCEPTIONS = """Where music21 10.5 and the ABC 2.1 standard (our reader) part: it drops notes decorated
with H (fermata); it does not apply a broken rhythm across a slur or decoration (`A>(B`, `f>.e`); it reads an
accent annotation `">"` as a broken rhythm; it counts a grace note inside a tuplet as one of the tuplet's notes;
its stripTies joins 'ties' between different pitches. Grace notes are left out on both sides."""


def test_pitches_and_durations_match_music21() -> None:
    from music21 import harmony

    from ml.classification.symbolic import _merged
    from ml.data.scores import parse_abc

    pieces = {p.piece_id: p for p in [*essen(("Chinese Han", "German", "Lorraine", "Luxembourg")), *oneill(), *ryan()]}
    for piece_id in CROSS_CHECK:
        abc = pieces[piece_id].abc
        score = parse_abc("%abc-2.1\n" + abc)  # declare ABC 2.1: music21 then carries accidentals through the bar
        theirs = [(max(round(p.ps) for p in n.pitches), float(n.quarterLength)) for n in score.stripTies().flatten().notes
                  if not isinstance(n, harmony.ChordSymbol) and not n.duration.isGrace]
        pitches, durations = _merged(read_melody(abc).notes)
        assert pitches == [p for p, _ in theirs], piece_id
        np.testing.assert_allclose(durations, [d for _, d in theirs], err_msg=piece_id)


def test_regions_cover_every_province_once() -> None:
    grouped = [p for provinces in REGIONS.values() for p in provinces]
    assert sorted(grouped) == sorted(PROVINCES)
    assert {t for t in TASKS} == {"tradition", "han_region", "han_genre", "dance"}


@pytest.fixture(scope="module")
def han_and_irish() -> list[Piece]:
    return essen(("Chinese Han",))[:80] + oneill()[:80]


def test_evaluate_task_separates_han_from_irish(han_and_irish: list[Piece], tmp_path: Path) -> None:
    result = evaluate_task("tradition", "logreg", pieces=han_and_irish, cache_dir=tmp_path)
    assert result["classes"] == ["Chinese Han", "Irish"]
    assert result["grouped_by"] == "piece"  # Han is two files
    assert sum(result["n"].values()) == len({p.cid for p in han_and_irish})
    assert result["test"]["accuracy"] >= 0.85 > result["majority"] + 0.2
    assert np.array(result["test"]["confusion"]).sum() == result["n"]["test"]
    cached = features(han_and_irish, cache_dir=tmp_path)  # every row now read back from the cache
    np.testing.assert_array_equal(cached[0], symbolic_features(han_and_irish[0].abc))
    assert evaluate_task("tradition", "logreg", pieces=han_and_irish, cache_dir=tmp_path)["test"] == result["test"]


@pytest.mark.parametrize(("task", "model", "raises"), [
    ("han_genre", "random_forest", nullcontext()),
    ("no_such_task", "logreg", pytest.raises(InputError, match="unknown task")),
    ("han_genre", "knn", pytest.raises(InputError, match="unknown model")),
    ("han_region", "logreg", pytest.raises(InputError, match="select more pieces")),  # 40 songs: no region reaches 50
])
def test_evaluate_task_inputs(task: str, model: str, raises: AbstractContextManager[object], tmp_path: Path) -> None:
    pieces = essen(("Chinese Han",))[:40] if task == "han_region" else essen(("Chinese Han",))[:400]
    with raises:
        result = evaluate_task(task, model, pieces=pieces, cache_dir=tmp_path)  # type: ignore[arg-type]
        assert set(result["test"]["recall"]) == set(result["classes"])


def test_write_report(han_and_irish: list[Piece], tmp_path: Path) -> None:
    result = evaluate_task("tradition", "svm", pieces=han_and_irish, cache_dir=tmp_path / "cache")
    timing = {"tunes": 3, "symbolic_features_ms": 0.5, "music21_parse_ms": 20.0, "ratio": 40.0}
    written = write_report([result], tmp_path / "report", timing=timing)
    assert {p.name for p in written} == {"classification_symbolic.md", "classification_symbolic.json",
                                         "classification_symbolic_confusion_tradition_svm.png"}
    assert all(p.stat().st_size > 0 for p in written)
    text = (tmp_path / "report" / "classification_symbolic.md").read_text()
    assert "72.5%" in text and "Chai & Vercoe 2001" in text and "not directly comparable" in text and "40× as long" in text
    assert json.loads((tmp_path / "report" / "classification_symbolic.json").read_text())["results"][0]["model"] == "svm"
