"""Training data for score recognition: tokens, engraved staff lines, scan-like copies, the data set on disk."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from core.errors import InputError
from ml.data.corpora import Piece, essen
from ml.omr.augment import AugmentParams, apply_augment, augment, augment_params
from ml.omr.data import (
    BLANK,
    VOCABULARY,
    StaffImage,
    UnsupportedTune,
    build_vocabulary,
    render_lines,
    staff_lines,
    symbols,
)
from ml.omr.dataset import ManifestEntry, build_dataset

HEADER = "X:1\nT:Hand-written jig\nM:6/8\nL:1/8\nK:G\n"
JIG = HEADER + "|:B>cB A2G|F3- F2=F|(3GAB c e2d|G3 z3:|\n"
JIG_TOKENS = [
    "clef-G2", "key+1", "time-6/8", "bar-repeat-start",
    "note-B4-eighth-dot", "note-C5-16th", "note-B4-eighth", "note-A4-quarter", "note-G4-eighth", "bar",
    "note-F#4-quarter-dot", "tie", "note-F#4-quarter", "note-F4-eighth", "bar",  # F# from the key, =F cancels it
    "tuplet-3", "note-G4-eighth", "note-A4-eighth", "note-B4-eighth", "note-C5-eighth", "note-E5-quarter", "note-D5-eighth", "bar",
    "note-G4-quarter-dot", "rest-quarter-dot", "bar-repeat-end",
]  # fmt: skip


@pytest.fixture(scope="module")
def jig_lines() -> list[StaffImage]:
    return render_lines(JIG)


@pytest.fixture(scope="module")
def han_tunes() -> list[Piece]:
    return essen(("Chinese Han",))[:3]


def test_symbols_of_a_hand_written_tune_token_by_token() -> None:
    assert symbols(JIG) == JIG_TOKENS


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('"G"(B>c)B A2G|{g}F3 F2=F|(3GAB c e2d|!fermata!G3 z3|]\n', nullcontext()),  # chord symbol, slur, grace, fermata
        ("B>cB A2G|F3 F2=F|(3GAB c e2d|G3 z3|]\n", nullcontext()),
        ("[GB]>cB A2G|F3 F2=F|(3GAB c e2d|G3 z3|]\n", pytest.raises(UnsupportedTune, match="Chord")),
        ("|:B>cB A2G|F3 F2=F|1 (3GAB c e2d:|2 G3 z3|]\n", pytest.raises(UnsupportedTune, match="volta")),
    ],
)
def test_covered_and_unsupported_notation(body: str, expected: AbstractContextManager[Any]) -> None:
    with expected:
        tokens = symbols(HEADER + body)
        assert tokens[:3] == ["clef-G2", "key+1", "time-6/8"] and tokens[-1] == "bar-final"
        assert not any(t.startswith(("tie", "grace", "slur")) for t in tokens) and len(tokens) == 24


def test_signature_changes_free_metre_and_refusals() -> None:
    changes = symbols("X:1\nT:Changes\nM:3/4\nL:1/8\nK:D\nd2 c2 B2|A6|\nM:2/4\nK:C\nc2 B2|G4|]\n")
    assert changes[changes.index("note-A4-half-dot") + 1:][:3] == ["bar", "key0", "time-2/4"]
    with pytest.raises(UnsupportedTune, match="2 parts"):
        symbols(HEADER.replace("K:G", "V:1\nK:G") + "B3 A3|G6|B3 A3|G6|]\nV:2\nG3 F3|D6|G3 F3|D6|]\n")
    free = symbols(HEADER.replace("M:6/8", "M:none") + "B3 A3|G6 F2|B3 A3|G6|]\n")  # free metre: no time signature
    assert free[:3] == ["clef-G2", "key+1", "note-B4-quarter-dot"] and not any(t.startswith("time") for t in free)
    with pytest.raises(UnsupportedTune, match="no bars"):
        symbols(HEADER.replace("M:6/8", "M:none") + "B3 A3 G6 F2 B3 A3 G6\n")
    with pytest.raises(InputError, match="not valid ABC"):
        symbols("X:1\nT:Broken\nM:6/8\nK:G\n[[[\n")


def test_vocabulary_encodes_and_decodes_with_the_ctc_blank_at_zero() -> None:
    assert VOCABULARY.tokens[0] == BLANK and len(VOCABULARY) > 4000
    ids = VOCABULARY.encode(JIG_TOKENS)
    assert 0 not in ids and VOCABULARY.decode(ids) == JIG_TOKENS
    a, b = ids[0], ids[1]
    assert VOCABULARY.decode([0, a, a, 0, a, b, b, 0], ctc=True) == [JIG_TOKENS[0], JIG_TOKENS[0], JIG_TOKENS[1]]
    with pytest.raises(InputError, match="build_vocabulary"):
        VOCABULARY.encode(["time-11/8"])
    with pytest.raises(InputError, match="outside the vocabulary"):
        VOCABULARY.decode([len(VOCABULARY)])
    extended = build_vocabulary(extra=["time-11/8", "key+1"])
    assert extended.tokens[: len(VOCABULARY)] == VOCABULARY.tokens and extended.tokens[-1] == "time-11/8"
    assert extended.decode(extended.encode(["time-11/8"])) == ["time-11/8"]


def test_a_rendered_line_is_an_engraved_staff_with_the_tunes_tokens(jig_lines: list[StaffImage]) -> None:
    (line,) = jig_lines
    assert line.tokens == tuple(JIG_TOKENS) and line.bars == (0, 4) and line.line == 0
    image = line.image
    assert image.dtype == np.uint8 and image.shape == (128, 1024)
    assert (image > 200).mean() > 0.85, "mostly white paper"
    rows = staff_lines(image)
    assert len(rows) == 5, "five staff lines"
    gaps = np.diff(rows)
    assert gaps.max() - gaps.min() < 1.0 and abs(gaps.mean() - 128 / 16) < 0.5, "evenly spaced, 8 px apart"
    assert abs(rows[2] - 64) <= 1, "the staff is centred in the window"
    dark = [image[round(r) - 1 : round(r) + 2].min(axis=0) < 160 for r in rows]  # (W,) each: ink on or next to the line
    ends = np.flatnonzero(dark[2])[[0, -1]]
    assert 400 < ends[1] - ends[0] < 1024 - 2 * 16, "one short line (unjustified: the tune's last) within the margins"
    assert all(d[ends[0] : ends[1] + 1].mean() > 0.95 for d in dark), "each staff line unbroken over the same columns"


def test_lines_split_consistently_with_the_tokens() -> None:
    tune = essen(("Chinese Han",))[0].abc  # 2/4, no key signature, 11 bars
    lines = render_lines(tune, width_px=400)
    assert len(lines) >= 3 and [line.line for line in lines] == list(range(len(lines)))
    assert [line.bars[0] for line in lines[1:]] == [line.bars[1] for line in lines[:-1]]
    for line in lines:
        assert line.image.shape[0] == 128 and line.image.shape[1] <= 400 and len(staff_lines(line.image)) == 5
        assert line.tokens[0] == "clef-G2" and ("time-2/4" in line.tokens) == (line.line == 0)
    assert list(chain.from_iterable(without_header(line.tokens) for line in lines)) == without_header(symbols(tune))


def without_header(tokens: Sequence[str]) -> list[str]:
    """Tokens after a line's clef and the key and time signatures printed with it."""
    i = 1
    while i < len(tokens) and tokens[i].startswith(("key", "time")):
        i += 1
    return list(tokens[i:])


def test_augmentation_is_deterministic_per_seed_and_keeps_shape(jig_lines: list[StaffImage]) -> None:
    image = jig_lines[0].image
    first = augment(image, np.random.default_rng(7))
    again = augment(image, np.random.default_rng(7))
    other = augment(image, np.random.default_rng(8))
    assert first.shape == image.shape and first.dtype == np.uint8
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert (first != image).mean() > 0.2
    assert np.array_equal(augment(image, np.random.default_rng(7), strength=0.0), image)
    with pytest.raises(InputError, match="outside 0–1"):
        augment(image, np.random.default_rng(7), strength=2.0)


def test_augmentation_parameters_stay_in_their_documented_ranges() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = augment_params(rng, strength=1.0)
        assert abs(p.rotation_deg) <= 2 and 0 <= p.blur_sigma_px <= 1.2 and 0 <= p.light_gradient <= 0.4
        assert 0 <= p.vignette <= 0.3 and 0 <= p.noise_sigma <= 12 and all(0.2 <= c <= 0.8 for c in p.vignette_centre)
        assert p.jpeg_quality is None or 35 <= p.jpeg_quality <= 95
    lit = np.full((64, 256), 255, dtype=np.uint8)
    dark_edge = AugmentParams(0.0, 0.0, 0.4, 0.0, 0.0, (0.5, 0.5), 0.0, 0, None)
    shaded = apply_augment(lit, dark_edge)
    assert shaded[:, 0].mean() > 250 and shaded[:, -1].mean() < 160, "a gradient from the lit to the dark edge"


def test_build_dataset_writes_a_manifest_matching_its_files(tmp_path: Path, han_tunes: list[Piece]) -> None:
    chord = Piece("test", "test/chord", "1", "test", "Chord", HEADER + "[GB]>cB A2G|F3 F2=F|(3GAB c e2d|G3 z3|]\n")
    broken = Piece("test", "test/broken", "2", "test", "Broken", "X:2\nT:Broken\nM:6/8\nK:G\n[[[\n")
    calls: list[tuple[int, int]] = []
    manifest = build_dataset([*han_tunes, chord, broken], tmp_path, augment_copies=1, seed=3,
                             progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (5, 5)
    entries = [ManifestEntry.model_validate_json(line) for line in manifest.read_text().splitlines()]
    assert {e.cid for e in entries} == {p.cid for p in han_tunes}
    for e in entries:
        with Image.open(tmp_path / e.image) as im:
            assert im.mode == "L" and im.size[1] == 128 and im.size[0] <= 1024
        assert VOCABULARY.encode(e.tokens) and e.tokens[0] == "clef-G2"
    clean = [e for e in entries if e.augmentation is None]
    assert len(entries) == 2 * len(clean) and all(set(e.augmentation or {}) >= {"rotation_deg", "noise_seed"} for e in entries
                                                  if e not in clean)
    skipped = {s["piece_id"]: s["reason"] for s in map(json.loads, (tmp_path / "skipped.jsonl").read_text().splitlines())}
    assert "Chord" in skipped["test/chord#1"] and "not valid ABC" in skipped["test/broken#2"]

    before = manifest.read_text()
    with manifest.open("a") as f:
        f.write('{"image": "images/torn')  # an interrupted write
    assert build_dataset([*han_tunes, chord, broken], tmp_path, augment_copies=1, seed=3) == manifest
    assert manifest.read_text() == before, "resumed: nothing made twice, the torn line cut off"
    with pytest.raises(InputError, match="another folder"):
        build_dataset(han_tunes, tmp_path, augment_copies=2, seed=3)
