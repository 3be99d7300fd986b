"""The microtonal lattice: events on a tradition's degrees and cycles, tokens both ways, reading scores."""

from __future__ import annotations

import warnings
from contextlib import AbstractContextManager, nullcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InputError
from ml.data.corpora import essen
from ml.generation.encoding import Corpus, NotEncodable, encode_abc, encode_content, han_corpus
from ml.generation.lattice import (
    BAR,
    DURATIONS,
    HAN,
    TICKS_PER_BEAT,
    Event,
    LatticePiece,
    Vocabulary,
    body_tokens,
    duration_tokens,
    from_tokens,
    lattice_cents,
    micro_notes,
    timed_notes,
    to_tokens,
)
from ml.tradition import load_tradition, traditions

HAN_T = load_tradition(HAN)
TUNE = "X:1\nT:test\nR:Shange. x]\nM:2/4\nL:1/8\nK:D\nA | d2 e2 | f2 d2- | d2 e>f | a4 | f2 e2 | d4 |]\n"
"""K:D read as gong = D4: A is zhi (0, 4), d gong an octave up (1, 0), e shang, f jue, a zhi; a pickup of one eighth."""


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return han_corpus(sorted(essen(("Chinese Han",)), key=lambda p: p.cid)[:120])


def test_vocabulary_has_every_traditions_conditions_and_names_unknown_ones() -> None:
    vocab = Vocabulary.build(contexts=("Shange",))
    assert vocab.tokens[0] == "<pad>" and len(set(vocab.tokens)) == len(vocab)
    for tid in traditions():
        t = load_tradition(tid)
        assert f"trad:{tid}" in vocab.index and all(f"mode:{tid}/{m.name}" in vocab.index for m in t.modes)
        assert all(f"orn:{o}" in vocab.index for o in t.ornament_names())
    assert vocab.id("mode:nowhere/none") == vocab.id("mode:?") and vocab.id("ctx:Haozi") == vocab.id("ctx:?")
    with pytest.raises(InputError, match="not in the model's vocabulary"):
        vocab.id("p:+9:0")
    with pytest.raises(InputError, match="<pad> first"):
        Vocabulary(("a", "a"))


@given(st.integers(min_value=1, max_value=600))
def test_any_duration_is_a_sum_of_duration_tokens(ticks: int) -> None:
    tokens = duration_tokens(ticks)
    assert sum(int(t[2:]) for t in tokens) == ticks and all(int(t[2:]) in DURATIONS for t in tokens)


def test_a_tune_goes_on_the_lattice_with_its_pickup_ties_mode_and_context() -> None:
    piece = encode_abc(TUNE, tradition=HAN_T, cid="x")
    assert (piece.cycle, piece.cycle_ticks, piece.mode, piece.context) == ("yiban yiyan", 16, "gong", None)
    e = piece.events
    assert e[0] == Event("rest", 12) and e[1] == Event("note", 4, 0, 4)  # the pickup, right-aligned in its cycle
    assert e[2:5] == (Event("note", 8, 1, 0), Event("note", 8, 1, 1), Event("note", 8, 1, 2))
    assert e[5] == Event("note", 8, 1, 0) and e[6] == Event("tie", 8)  # d2- | d2: held over the boundary
    assert e[7:9] == (Event("note", 6, 1, 1), Event("note", 2, 1, 2))  # e>f: broken rhythm
    assert [sum(x.ticks for x in bar) for bar in piece.bars()] == [16] * 7  # full cycles, padded at the end
    notes = timed_notes(piece, HAN_T)
    assert [n.ticks for n in notes[3:6]] == [8, 16, 6]  # the tie merged into its note
    assert notes[0].cents == 700.0 and notes[2].cents == 1400.0
    micro = micro_notes(piece, HAN_T, bpm=120)
    assert micro[0].onset == pytest.approx(12 * 0.5 / TICKS_PER_BEAT) and micro[4].duration == pytest.approx(1.0)


def test_tokens_read_back_to_the_same_piece(corpus: Corpus) -> None:
    for piece in corpus.pieces[:40]:
        tokens = to_tokens(piece)
        assert tokens[:2] == ["<bos>", f"trad:{HAN}"] and tokens[-1] == "<eos>"
        back = from_tokens(tokens[1:], tradition=HAN, cycle=piece.cycle, cycle_ticks=piece.cycle_ticks)
        def plain(p: LatticePiece) -> list[tuple[str, int, int, int]]:
            return [(e.kind, e.ticks, e.octave, e.degree) for e in p.events]

        assert plain(back) == plain(piece)
        assert (back.mode, back.context) == (piece.mode, piece.context)
        assert body_tokens(piece).count(BAR) == len(piece.bars())


def test_every_corpus_piece_fills_whole_cycles_and_none_is_made_up(corpus: Corpus) -> None:
    summary = corpus.summary()
    assert summary["pieces"] + sum(summary["dropped"].values()) == 120
    assert 0 < summary["snapped_share"] < 0.01
    for piece in corpus.pieces:
        assert piece.total_ticks % piece.cycle_ticks == 0
        for onset, e in zip(piece.onsets, piece.events, strict=True):
            assert onset // piece.cycle_ticks == (onset + e.ticks - 1) // piece.cycle_ticks  # no event crosses a boundary
            assert e.ornament is None  # the Essen transcriptions notate no ornaments
        assert piece.tradition == HAN and piece.cid


@pytest.mark.parametrize(("abc", "problem"), [
    (TUNE, nullcontext()),
    (TUNE.replace("M:2/4", "M:3/8"), pytest.raises(NotEncodable, match="metre 3/8")),
    (TUNE.replace("| a4 |", "| a4 f |"), pytest.raises(NotEncodable, match="barline falls")),  # an unnotated metre change
    (TUNE.replace("K:D\n", "K:D\n[M:3/4]"), pytest.raises(NotEncodable, match="fields, chords")),
    (TUNE.replace("K:D\n", ""), pytest.raises(NotEncodable, match="no K: line")),
])
def test_what_the_fast_reader_refuses(abc: str, problem: AbstractContextManager[object]) -> None:
    with problem:
        encode_abc(abc, tradition=HAN_T)


def test_a_note_off_the_degrees_is_kept_as_the_nearest_with_its_deviation() -> None:
    piece = encode_abc(TUNE.replace("| f2 e2 |", "| ^g2 e2 |"), tradition=HAN_T)  # G#: 600 cents, between 500 and 700
    off = [e for e in piece.events if abs(e.deviation) > 0]
    assert piece.snapped == 1 and off[0].degree == 3 and off[0].deviation == pytest.approx(100.0)  # qingjue (500) + 100
    assert timed_notes(piece, HAN_T)[-3].written_cents == pytest.approx(1800.0)


@pytest.mark.parametrize(("tune", "fmt"), [(TUNE, "musicxml"), (TUNE.replace("A | d2", "d2"), "midi")])
def test_musicxml_and_midi_of_a_tune_give_the_abcs_lattice(tune: str, fmt: str) -> None:
    """MIDI carries no measures, so its pickup cannot be told from a downbeat: that case has none."""
    from music21 import converter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = converter.parse(tune, format="abc").write(fmt)  # type: ignore[no-untyped-call]
    want = encode_content(tune.encode(), tradition=HAN_T)
    got = encode_content(path.read_bytes(), tradition=HAN_T)
    assert want.context == "Shange" and got.context is None
    assert (got.cycle, got.mode) == (want.cycle, want.mode)
    assert [(n.onset, n.ticks, n.cents) for n in timed_notes(got, HAN_T)] == [(n.onset, n.ticks, n.cents)
                                                                             for n in timed_notes(want, HAN_T)]


def test_content_that_is_no_score_is_refused() -> None:
    with pytest.raises(InputError, match="not a score"):
        encode_content(b"\x00\x01 nothing", tradition=HAN_T)


def test_degree_indices_beyond_a_tuning_fold_into_the_next_period() -> None:
    slendro = load_tradition("javanese_slendro")
    assert lattice_cents(slendro, octave=0, degree=6) == pytest.approx(231 + 1208)
    piece = LatticePiece("javanese_slendro", "lancaran", 128, (Event("note", 8, 0, 5), Event("rest", 120)))
    assert timed_notes(piece, slendro)[0].cents == pytest.approx(1208)


def test_lenient_reading_of_broken_token_streams() -> None:
    tokens = ["d:4", "p:+0:1", "orn:vibrato", "<bar>", "d:3", "rest", "p:+0:2", "d:2", "d:2", "mode:other/x", "<eos>", "p:+0:0", "d:8"]
    piece = from_tokens(tokens, tradition=HAN, cycle="yiban yiyan", cycle_ticks=16)
    assert piece.events == (Event("note", 3, 0, 1, "vibrato"), Event("note", 4, 0, 2))  # the rest had no duration
    assert piece.mode is None
