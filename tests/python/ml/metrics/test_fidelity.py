"""Fidelity and piano-roll metrics on hand-computed cases and synthetic signals."""

from __future__ import annotations

import math
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from core.errors import InputError
from ml.generation.microtonal import render_additive, scale_notes
from ml.metrics import fidelity, pianoroll
from ml.tradition import load_tradition

SR = 22050


# --- modal error -------------------------------------------------------------------------------


def test_modal_error_from_symbols_is_zero_on_the_tuning() -> None:
    pelog = load_tradition("javanese_pelog")
    error = fidelity.modal_error_symbols(pelog.scale_cents(octaves=2), tradition=pelog)
    assert (error.mean_abs_cents, error.n_notes) == (0.0, 15)


def test_modal_error_from_symbols_hand_computed() -> None:
    pelog = load_tradition("javanese_pelog")
    error = fidelity.modal_error_symbols([10.0, 130.0, 1195.0, 530.0], tradition=pelog)  # +10 on 1, +10 on 2, −5 on 1', −10 on 4
    assert error.deviations == pytest.approx((10.0, 10.0, -5.0, -10.0))
    assert error.mean_abs_cents == pytest.approx(8.75)
    assert error.median_abs_cents == pytest.approx(10.0)


def test_twelve_tet_melody_against_pelog_is_far_off() -> None:
    pelog = load_tradition("javanese_pelog")
    error = fidelity.modal_error_symbols(np.arange(0, 1200, 100.0), tradition=pelog)
    assert error.mean_abs_cents > 15


@pytest.fixture(scope="module")
def pelog_render() -> tuple[NDArray[np.float32], list[tuple[float, float]]]:
    pelog = load_tradition("javanese_pelog")
    notes = scale_notes(pelog.scale_cents(), note_s=0.5, gap_s=0.1)
    return render_additive(notes, tonic_hz=pelog.tonic_hz, sample_rate=SR), [(n.onset, n.onset + n.duration) for n in notes]


def test_modal_error_from_audio_of_an_exact_scale_is_at_the_noise_floor(pelog_render: tuple[NDArray[np.float32], list[Any]]) -> None:
    y, spans = pelog_render
    pelog = load_tradition("javanese_pelog")
    known = fidelity.modal_error_audio(y, sample_rate=SR, tradition=pelog, spans=spans, fmin=150, fmax=900)
    segmented = fidelity.modal_error_audio(y, sample_rate=SR, tradition=pelog, fmin=150, fmax=900)
    assert known.n_notes == 8 and known.untracked == 0 and known.mean_abs_cents < 2.0
    assert segmented.n_notes == 8 and segmented.mean_abs_cents < 2.0


def test_modal_error_from_audio_sees_a_detuned_tonic(pelog_render: tuple[NDArray[np.float32], list[Any]]) -> None:
    y, spans = pelog_render
    pelog = load_tradition("javanese_pelog")
    sharp_tonic = pelog.tonic_hz * 2 ** (25 / 1200)
    flat = fidelity.modal_error_audio(y, sample_rate=SR, tradition=pelog, tonic_hz=sharp_tonic, spans=spans, fmin=150, fmax=900)
    assert flat.mean_abs_cents == pytest.approx(25.0, abs=2.0)


# --- rhythm DTW --------------------------------------------------------------------------------


def test_rhythm_dtw_is_zero_for_identical_sequences_and_tempo_changes() -> None:
    iois = [0.5, 0.25, 0.25, 1.0, 0.5]
    assert fidelity.rhythm_dtw(iois, iois) == 0.0
    assert fidelity.rhythm_dtw(iois, [2 * x for x in iois]) == pytest.approx(0.0)
    assert fidelity.rhythm_dtw(iois, [2 * x for x in iois], tempo_invariant=False) == pytest.approx(1.0)  # every pair a doubling


def test_rhythm_dtw_hand_computed() -> None:
    assert fidelity.rhythm_dtw([1.0, 2.0], [1.0, 2.0, 2.0], tempo_invariant=False) == 0.0  # a repeated IOI aligns for free
    # log2 IOIs (0, 1, 2) against (0, 3): best path (0,0) → (1,0) → (2,1), costs 0 + 1 + 1 over 3 steps
    assert fidelity.rhythm_dtw([1.0, 2.0, 4.0], [1.0, 8.0], tempo_invariant=False) == pytest.approx(2 / 3)


def test_rhythm_dtw_to_corpus_mean_and_min() -> None:
    corpus = [[1.0, 1.0, 2.0], [1.0, 1.0, 1.0, 1.0]]
    piece = [1.0, 1.0, 2.0]
    assert fidelity.rhythm_dtw_to_corpus(piece, corpus, reduce="min") == 0.0
    assert fidelity.rhythm_dtw_to_corpus(piece, corpus) == pytest.approx(fidelity.rhythm_dtw(piece, corpus[1]) / 2)


def test_inter_onset_intervals_merge_chords() -> None:
    np.testing.assert_allclose(fidelity.inter_onset_intervals([0.0, 0.0, 0.5, 1.0, 1.0, 2.0]), [0.5, 0.5, 1.0])


def test_rhythm_dtw_refuses_zero_intervals() -> None:
    with pytest.raises(InputError, match="merge simultaneous onsets"):
        fidelity.rhythm_dtw([0.5, 0.0], [0.5, 0.5])


# --- ornament KL -------------------------------------------------------------------------------


def test_ornament_kl_is_zero_for_identical_distributions() -> None:
    inventory = (*load_tradition("maqam_rast").ornament_names(), "none")
    labels = ["vibrato", "none", "none", "trill", "grace"]
    assert fidelity.ornament_kl(labels, list(reversed(labels)), inventory=inventory) == pytest.approx(0.0)


def test_kl_hand_computed_with_laplace_smoothing() -> None:
    # counts [1, 0] and [0, 1] smoothed by 1: P = (2/3, 1/3), Q = (1/3, 2/3); KL = (1/3) ln 2
    assert fidelity.kl_divergence([1, 0], [0, 1]) == pytest.approx(math.log(2) / 3)
    with pytest.raises(InputError, match="alpha > 0"):
        fidelity.kl_divergence([1, 0], [0, 1], alpha=0.0)


def test_ornament_outside_the_inventory_is_refused() -> None:
    with pytest.raises(InputError, match=r"\['yodel'\] are not in the inventory"):
        fidelity.ornament_kl(["yodel"], ["grace"], inventory=load_tradition("chinese_pentatonic").ornament_names())


# --- structure ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "normalise", "distance"),
    [("kitten", "sitting", False, 3.0), ("kitten", "sitting", True, 3 / 7), ("", "", True, 0.0), ("AABBCC", "AABBCC", False, 0.0)],
)
def test_edit_distance(a: str, b: str, normalise: bool, distance: float) -> None:
    assert fidelity.edit_distance(a, b, normalise=normalise) == pytest.approx(distance)


def test_pattern_labels_and_structural_distance() -> None:
    bars = [("C", "D"), ("C", "D"), ("E",), ("C", "D")]
    assert fidelity.pattern_labels(bars) == "AABA"
    assert fidelity.structural_distance(bars, [("G",), ("G",), ("A", "B"), ("G",)]) == 0.0  # the same form in other material
    assert fidelity.structural_distance(bars, [1, 2, 3, 4]) == pytest.approx(3 / 4)  # AABA → ABCD: three substitutions


def test_structural_distance_is_length_fair() -> None:
    """The old rule (the generation report's until 2026-12-05) cut both pieces to the shorter one's
    bars, so a two-bar piece was "identical" to any song that opens with two different bars."""
    song = ["a", "b", "a", "b", "c", "c", "a", "b"]  # ABABCCAB
    stub = ["x", "y"]  # AB: only the opening's form

    def old_rule(a: list[str], b: list[str]) -> float:
        k = min(len(a), len(b))
        return fidelity.edit_distance(fidelity.pattern_labels(a[:k]), fidelity.pattern_labels(b[:k]), normalise=True)
    assert old_rule(stub, song) == 0.0  # the defect: a short piece looks perfect
    assert fidelity.structural_distance(stub, song) == pytest.approx(6 / 8)  # six bars missing of eight
    assert fidelity.structural_distance(song, stub) == fidelity.structural_distance(stub, song)
    assert fidelity.structural_distance(list(range(70)), list(range(70))) == 0.0  # no alphabet limit on the units
    assert fidelity.structural_distance([], song) == 1.0 and fidelity.structural_distance([], []) == 0.0


# --- piano rolls -------------------------------------------------------------------------------


def tiny_roll() -> NDArray[np.int64]:
    """Two bars of 16 steps, 24 pitches from C4 (60): bar 1 plays C4, E4, C5; bar 2 plays C4, G4."""
    roll = np.zeros((32, 24), dtype=np.int64)
    roll[0:4, 0] = roll[4:8, 4] = roll[8:12, 12] = 1  # bar 1: onsets at 0, 4, 8; pitch classes C, E
    roll[16:20, 0] = roll[20:24, 7] = 1  # bar 2: onsets at 0, 4; pitch classes C, G
    return roll


def test_upc_gc_ebr_hand_computed() -> None:
    roll = tiny_roll()
    assert pianoroll.used_pitch_classes(roll, steps_per_bar=16, lowest_pitch=60) == 2.0
    assert pianoroll.groove_consistency(roll, steps_per_bar=16) == pytest.approx(1 - 1 / 16)  # bars differ at step 8 only
    assert pianoroll.empty_beat_rate(roll, steps_per_beat=4) == pytest.approx(3 / 8)  # beats 4, 7, 8 of 8 are silent


def test_upc_counts_pitch_classes_not_pitches() -> None:
    roll = np.zeros((16, 36))
    roll[:, [0, 12, 24, 1]] = 1  # three Cs and a C#
    assert pianoroll.used_pitch_classes(roll, steps_per_bar=16, lowest_pitch=48) == 2.0


@pytest.mark.parametrize(
    ("roll", "expectation"),
    [
        (np.tile(np.repeat([1, 0, 1, 0], 4), 2)[:, None], nullcontext(1.0)),  # struck on beats 1 and 3 of both bars
        (np.ones((32, 4)), nullcontext(1 - 1 / 16)),  # held across the barline: bar 2 has no onset
        (np.zeros((32, 4)), nullcontext(1.0)),
        (np.ones((8, 4)), pytest.raises(InputError, match="two bars")),
        (np.ones(32), pytest.raises(InputError, match=r"shape \(time steps, pitches\)")),
    ],
)
def test_groove_consistency_edges(roll: NDArray[np.float64], expectation: AbstractContextManager[Any]) -> None:
    with expectation as expected:
        assert pianoroll.groove_consistency(roll, steps_per_bar=16) == expected


def test_empty_beat_rate_bounds() -> None:
    assert pianoroll.empty_beat_rate(np.ones((16, 4)), steps_per_beat=4) == 0.0
    assert pianoroll.empty_beat_rate(np.zeros((16, 4)), steps_per_beat=4) == 1.0
    assert pianoroll.empty_beat_rate(np.ones((18, 4)), steps_per_beat=4) == 0.0  # a partial last beat is padded, still sounding


def test_groove_consistency_with_explicit_onsets() -> None:
    roll = np.ones((32, 1))  # one held note: the roll shows a single onset
    onsets = np.zeros(32)
    onsets[::4] = 1  # but it was struck every beat
    assert pianoroll.groove_consistency(roll, steps_per_bar=16) == pytest.approx(1 - 1 / 16)
    assert pianoroll.groove_consistency(roll, steps_per_bar=16, onsets=onsets) == 1.0


# --- perplexity --------------------------------------------------------------------------------


def test_perplexity_of_a_uniform_model_is_its_vocabulary_size() -> None:
    assert fidelity.perplexity(np.full(10, math.log(1 / 4))) == pytest.approx(4.0)
    assert fidelity.perplexity(np.full(3, -3.0), base=2) == pytest.approx(8.0)
    with pytest.raises(InputError, match="≤ 0"):
        fidelity.perplexity([0.5])
