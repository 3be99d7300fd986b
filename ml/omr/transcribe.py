"""Transcription: a score image (a page or one staff line) → its staves → tokens → MusicXML and MIDI.

Staves (`find_staves`): the page is levelled (`deskew`: the rotation that makes the ink's row
histogram sharpest, within ±5°) and flattened against its own background (a wide grey closing,
so uneven light and a darker photo edge do not read as ink); a grey opening along the rows
keeps only horizontal strokes at least 1/50 of the width long, with their darkness, and rows
are scored by their mean (each counted on the rows beside it too, so a line falling between two
rows still scores): no fixed ink threshold, so a blurred, light scan reads as a sharp one.
Peaks of that profile are candidate staff lines; five in a row with near-equal gaps (within 25 %
of their median) are a staff. Each staff is cut out as the reader was trained: 16 staff spaces
high centred on the middle line, from two spaces before the staff lines start to two after
they end, and scaled so that a staff space is 8 pixels (a 128-pixel-high line, `ml.omr.data`).

Tokens → score (`to_score`): the token grammar of `ml.omr.data`, read leniently, since a reader's
output need not be well formed: a line's clef, key or time that repeats what is in force is not
printed again; a note before any clef is read in the treble clef; `tie` ties the note before it
to the next one; `tuplet-N` makes the next N notes and rests N in the time of the largest power
of two below N (3:2, 5:4; 2:3 for a duplet); a barline closes a bar; tokens that make no sense
where they stand (a tie after a rest, a tuplet with no notes after it) are counted in
`Transcript.ignored` rather than guessed at. Bars are kept as the image shows them: a short
first bar stays a pickup, nothing is re-barred.

The written files are deterministic (music21's MusicXML carries the day's date, which is
removed), so the same image and model always give the same CIDs.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import numpy as np
from music21 import bar, clef, duration, instrument, key, metadata, meter, note, pitch, stream, tie
from music21.exceptions21 import Music21Exception
from music21.midi.translate import streamToMidiFile
from music21.musicxml.m21ToXml import GeneralObjectExporter
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError
from scipy import ndimage, signal

from core.errors import InputError
from ml.omr.model import TrainedOmr
from ml.omr.tokens import VOCABULARY

STAFF_SPACE_PX = 8.0
"""Staff space of the training lines (128 px high, a 16-space window): `ml.omr.data.render_lines`."""
WINDOW_SPACES = 16.0
MARGIN_SPACES = 2.0


@dataclass(frozen=True)
class Staff:
    """One staff found on a page: its five line rows (pixels, page coordinates), the columns
    its lines span, and the cut-out line image (uint8 (128, W), 255 paper)."""

    lines: tuple[float, ...]
    columns: tuple[int, int]
    image: NDArray[np.uint8]

    @property
    def space(self) -> float:
        return float(np.median(np.diff(self.lines)))


@dataclass(frozen=True)
class Transcript:
    """What a reader made of an image: each staff's tokens, the score built from them and how many
    tokens could not be placed."""

    staves: tuple[Staff, ...]
    tokens: tuple[tuple[str, ...], ...]
    score: stream.Score
    ignored: int


def read_image(path: Path) -> NDArray[np.uint8]:
    """A score image (PNG, JPEG, TIFF, …) as grayscale uint8 (H, W); a file that is not an image
    is an InputError."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("L"), dtype=np.uint8)
    except FileNotFoundError as exc:
        raise InputError(f"no image at {path}: give the path of a PNG or JPEG of the score") from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{path} is not an image Pillow can read ({exc}): give a PNG, JPEG or TIFF of the score") from exc


def find_staves(page: NDArray[np.uint8], *, height_px: int = 128) -> list[Staff]:
    """The five-line staves of a grayscale page (uint8 (H, W), 255 paper), top to bottom, each cut
    out and scaled for the reader (module doc). Raises InputError when none is found."""
    if page.ndim != 2 or page.shape[0] < 16 or page.shape[1] < 32:
        raise InputError(f"the image is {page.shape}: give a grayscale page at least 32 × 16 pixels")
    page = deskew(page)
    flat = _flatten(page)  # (H, W) float, 0 paper … 1 ink
    run = max(15, page.shape[1] // 50)
    lines = ndimage.grey_opening(flat, size=(1, run))  # (H, W): only horizontal strokes ≥ run px long keep their ink
    profile = lines.mean(axis=1)  # (H,)
    spread = ndimage.grey_dilation(lines, size=(3, 1)).mean(axis=1)  # a line between two rows still peaks
    peaks, _ = signal.find_peaks(spread, height=0.3 * spread.max(), distance=3)
    rows = [float(np.average(np.arange(p - 2, p + 3), weights=profile[p - 2: p + 3] + 1e-9))
            for p in peaks.tolist() if 2 <= p < len(profile) - 2]
    staves: list[Staff] = []
    i = 0
    while i + 5 <= len(rows):
        five = rows[i: i + 5]
        gaps = np.diff(five)
        if gaps.min() >= 3 and np.all(np.abs(gaps - np.median(gaps)) <= 0.25 * np.median(gaps)):
            staves.append(_cut(page, lines, tuple(five), height_px=height_px))
            i += 5
        else:
            i += 1
    if not staves:
        raise InputError("no five-line staff was found in the image: give a score page or line, upright, with the staff "
                         "lines at least 3 pixels apart (scan at 150 dpi or more)")
    return staves


def skew_degrees(page: NDArray[np.uint8], *, limit: float = 5.0, step: float = 0.025) -> float:
    """The page's skew in degrees (counter-clockwise positive), within ±limit, to `step`: the angle at
    which the ink's row histogram, taken along lines of that slope, is sharpest (largest sum of
    squares); searched every 10 steps first, then step by step around the best. Staff lines
    dominate it on a score."""
    ys, xs = np.nonzero(_flatten(page) > 0.25)
    if ys.size == 0:
        return 0.0
    if ys.size > 400_000:  # a large page: every k-th ink pixel is plenty for a histogram of rows
        k = -(-ys.size // 400_000)
        ys, xs = ys[::k], xs[::k]

    def sharpness(a: float) -> float:
        rows = np.rint(ys + xs * np.tan(np.radians(a))).astype(np.int64)
        counts = np.bincount(rows - rows.min())
        return float(np.dot(counts, counts))

    coarse = max(np.arange(-limit, limit + 5 * step, 10 * step), key=sharpness)
    return float(max(np.arange(coarse - 10 * step, coarse + 10.5 * step, step), key=sharpness))


def deskew(page: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """`page` rotated so that its staff lines are level (`skew_degrees`), paper-coloured fill."""
    angle = skew_degrees(page)
    if abs(angle) < 0.05:
        return page
    paper = int(np.percentile(page, 90))
    with Image.fromarray(page) as im:
        return np.asarray(im.rotate(-angle, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=paper), dtype=np.uint8)


def _flatten(page: NDArray[np.uint8]) -> NDArray[np.float64]:
    """Ink darkness against the local paper: 1 − page / background less its median (the paper's own
    level, noise included), clipped to [0, 1]; the background is a grey closing wide enough to
    remove the notes (1/20 of the larger side)."""
    size = max(15, max(page.shape) // 20)
    small = max(1, size // 15)  # the closing runs on a reduced copy: the background varies slowly
    with Image.fromarray(page) as im:
        reduced = np.asarray(im.reduce(small), dtype=np.uint8) if small > 1 else page
        closed = ndimage.grey_closing(reduced, size=(max(3, size // small),) * 2)
        background = np.asarray(Image.fromarray(closed).resize((page.shape[1], page.shape[0]), Image.Resampling.BILINEAR),
                                dtype=np.float64)
    dark = 1.0 - page.astype(np.float64) / np.maximum(background, 1.0)
    return np.clip(dark - np.median(dark), 0.0, 1.0)  # the closing takes noise's peaks as paper: the median is paper


def _cut(page: NDArray[np.uint8], strokes: NDArray[np.float64], lines: tuple[float, ...], *, height_px: int) -> Staff:
    """The staff at rows `lines`, cut and scaled (module doc); `strokes` is the page's long horizontal ink."""
    space = float(np.median(np.diff(lines)))
    bands = [strokes[max(0, round(r) - 1): round(r) + 2].max(axis=0) for r in lines]  # 5 × (W,)
    on_lines = np.stack([b > 0.3 * np.percentile(b, 95) for b in bands])  # (5, W)
    covered = on_lines.sum(axis=0) >= 4
    covered = ndimage.binary_closing(covered, structure=np.ones(max(3, round(space)), dtype=bool))
    spans, n = ndimage.label(covered)
    if n == 0:
        raise InputError("a staff's lines could not be followed across the image: give a sharper or straighter image")
    longest = int(np.argmax(np.bincount(spans.ravel())[1:])) + 1
    cols = np.flatnonzero(spans == longest)
    left, right = int(cols[0]), int(cols[-1]) + 1
    half = WINDOW_SPACES / 2 * space
    margin = MARGIN_SPACES * space
    top, bottom = round(lines[2] - half), round(lines[2] + half)
    x0, x1 = round(left - margin), round(right + margin)
    window = np.full((bottom - top, x1 - x0), 255, dtype=np.uint8)
    sy0, sy1, sx0, sx1 = max(0, top), min(page.shape[0], bottom), max(0, x0), min(page.shape[1], x1)
    window[sy0 - top: sy1 - top, sx0 - x0: sx1 - x0] = page[sy0:sy1, sx0:sx1]
    width = max(1, round(window.shape[1] * height_px / window.shape[0]))
    with Image.fromarray(window) as im:
        image = np.asarray(im.resize((width, height_px), Image.Resampling.LANCZOS), dtype=np.uint8)
    return Staff(lines, (left, right), image)


def transcribe(reader: TrainedOmr, page: NDArray[np.uint8]) -> Transcript:
    """Read every staff of `page` (grayscale uint8 (H, W)) with `reader` and build the score."""
    staves = find_staves(page, height_px=reader.cfg.height)
    tokens = tuple(tuple(VOCABULARY.decode(ids)) for ids in reader.predict([s.image for s in staves]))
    score, ignored = to_score(tokens)
    return Transcript(tuple(staves), tokens, score, ignored)


# ---------------------------------------------------------------- tokens → score

_NOTE = re.compile(r"^(note|rest)-(?:([A-G])(##|#|bb|b|)(\d))?-?(breve|whole|half|quarter|eighth|16th|32nd|64th)(-dot|-dotdot)?$")
_ALTER = {"": 0, "#": 1, "##": 2, "b": -1, "bb": -2}
_RIGHT = {"bar": "regular", "bar-double": "double", "bar-final": "final"}


def to_score(lines: Sequence[Sequence[str]], *, title: str = "Transcription") -> tuple[stream.Score, int]:
    """A one-part score from the tokens of each staff line (module doc), and the number of tokens ignored."""
    builder = _Builder()
    for tokens in lines:
        builder.line(tokens)
    part = builder.finish()
    melody = instrument.Instrument()
    melody.partId = "P1"  # music21 would name the part after an object's memory address
    part.insert(0, melody)
    score = stream.Score([part])
    score.metadata = metadata.Metadata(title=title)
    return score, builder.ignored


class _Builder:
    def __init__(self) -> None:
        self.part = stream.Part()  # type: ignore[no-untyped-call]
        self.measure = stream.Measure(number=1)
        self.clef: str | None = None
        self.sharps: int | None = None
        self.time: str | None = None
        self.tie_next = False
        self.tuplet: tuple[int, int] | None = None
        self.tuplet_left = 0
        self.ignored = 0
        self.last: note.Note | None = None

    def line(self, tokens: Sequence[str]) -> None:
        for token in tokens:
            self.token(token)

    def token(self, t: str) -> None:
        if t.startswith("clef-"):
            if t != self.clef:
                self.clef = t
                self.measure.insert(self._offset(), _clef(t))
        elif t.startswith("key"):
            sharps = int(t[3:])
            if sharps != self.sharps:
                self.sharps = sharps
                self.measure.insert(self._offset(), key.KeySignature(sharps))
        elif t.startswith("time-"):
            if t != self.time:
                self.time = t
                self.measure.insert(self._offset(), _time(t))
        elif t == "tie":
            if self.last is None:
                self.ignored += 1
            else:
                self.last.tie = tie.Tie("start" if self.last.tie is None else "continue")  # type: ignore[no-untyped-call]
                self.tie_next = True
        elif t.startswith("tuplet-"):
            n = int(t[len("tuplet-"):])
            self.tuplet, self.tuplet_left = (n, 3 if n == 2 else 2 ** (n.bit_length() - 1)), n
        elif t in _RIGHT or t.startswith("bar-repeat"):
            self._bar(t)
        elif (m := _NOTE.match(t)) is not None:
            self._event(m)
        else:
            self.ignored += 1

    def _offset(self) -> float:
        return float(self.measure.highestTime)

    def _event(self, m: re.Match[str]) -> None:
        what, step, accidental, octave, kind, dots = m.groups()
        d = duration.Duration(type=kind, dots={None: 0, "-dot": 1, "-dotdot": 2}[dots])
        if self.tuplet is not None and self.tuplet_left > 0:
            d.appendTuplet(duration.Tuplet(self.tuplet[0], self.tuplet[1]))
            self.tuplet_left -= 1
        if what == "rest":
            if self.tie_next:
                self.ignored += 1  # a tie into a rest
                self.tie_next = False
                assert self.last is not None
                self.last.tie = None
            self.measure.append(note.Rest(duration=d))  # type: ignore[no-untyped-call]
            self.last = None
            return
        if self.clef is None:
            self.clef = "clef-G2"
            self.measure.insert(0, clef.TrebleClef())  # type: ignore[no-untyped-call]
        p = pitch.Pitch(step=cast(Any, step), octave=int(octave), accidental=_ALTER[accidental] if accidental else None)
        n = note.Note(p, duration=d)
        if self.tie_next:
            n.tie = tie.Tie("stop")  # type: ignore[no-untyped-call]
            self.tie_next = False
        self.measure.append(n)  # type: ignore[no-untyped-call]
        self.last = n

    def _bar(self, t: str) -> None:
        if t == "bar-repeat-start":
            if self.measure.notesAndRests:
                self._close("regular")
            self.measure.leftBarline = bar.Repeat(direction="start")
            return
        if not self.measure.notesAndRests:
            self.ignored += 1  # a barline with nothing before it
            return
        if t == "bar-repeat-end":
            self.measure.rightBarline = bar.Repeat(direction="end")
            self._close(None)
        elif t == "bar-repeat-both":
            self.measure.rightBarline = bar.Repeat(direction="end")
            self._close(None)
            self.measure.leftBarline = bar.Repeat(direction="start")
        else:
            self._close(_RIGHT[t])

    def _close(self, right: str | None) -> None:
        if right is not None and right != "regular":
            self.measure.rightBarline = bar.Barline(right)  # type: ignore[no-untyped-call]
        self.part.append(self.measure)  # type: ignore[no-untyped-call]
        self.measure = stream.Measure(number=self.measure.number + 1)

    def finish(self) -> stream.Part:
        if self.tie_next and self.last is not None:
            self.last.tie = None if self.last.tie is not None and self.last.tie.type == "start" else self.last.tie
        if self.measure.notesAndRests:
            self.part.append(self.measure)  # type: ignore[no-untyped-call]
        if not self.part.getElementsByClass(stream.Measure):
            raise InputError("the reader found no notes or rests in the image: check it is a score, upright and sharp, "
                             "and that the model was trained (`heritage omr evaluate`)")
        first = self.part.getElementsByClass(stream.Measure)[0]
        ts = first.getElementsByClass(meter.TimeSignature).first()
        if ts is not None and Fraction(first.duration.quarterLength) < Fraction(ts.barDuration.quarterLength):
            first.number = 0  # a pickup
            first.paddingLeft = float(ts.barDuration.quarterLength - first.duration.quarterLength)
        for m in self.part.getElementsByClass(stream.Measure):
            try:
                m.makeBeams(inPlace=True)  # type: ignore[no-untyped-call]
            except Music21Exception:  # a bar whose notes do not fill its metre: leave it unbeamed
                pass
        return self.part


def _clef(t: str) -> clef.Clef:
    m = re.fullmatch(r"clef-([GFC])(\d)(-8vb|-8va)?", t)
    assert m is not None, t
    c = clef.clefFromString(m.group(1) + m.group(2), octaveShift={None: 0, "-8vb": -1, "-8va": 1}[m.group(3)])
    return c


def _time(t: str) -> meter.TimeSignature:
    text = t[len("time-"):]
    if text == "C":
        ts = meter.TimeSignature("4/4")
        ts.symbol = "common"
        return ts
    if text == "C|":
        ts = meter.TimeSignature("2/2")
        ts.symbol = "cut"
        return ts
    return meter.TimeSignature(text)


# ---------------------------------------------------------------- files

_ENCODING_DATE = re.compile(rb"\s*<encoding-date>[^<]*</encoding-date>")


def musicxml_bytes(score: stream.Score) -> bytes:
    """MusicXML of `score`, without the export date (so the same score always gives the same bytes)."""
    exporter = GeneralObjectExporter(score)
    exporter.makeNotation = False  # would pad short bars (a pickup) with hidden rests; beams are made in to_score
    raw: bytes = exporter.parse()
    return _ENCODING_DATE.sub(b"", raw)


def midi_bytes(score: stream.Score) -> bytes:
    """A standard MIDI file of `score`."""
    mf = streamToMidiFile(score)
    buffer = io.BytesIO()
    buffer.write(mf.writestr())
    return buffer.getvalue()
