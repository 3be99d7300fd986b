"""Training data for optical music recognition: engraved staff lines and their exact symbol sequences.

(Tokenising a tune and engraving it are one algorithm here — each engraved line is re-tokenised
from the same private bar model (`_Bar`, `_bars`, `_line_part`) and checked against verovio's
reading — so they stay in one module; the vocabulary (`ml.omr.tokens`), the MEI reader
(`ml.omr.mei`), the scanned looks (`ml.omr.augment`) and the data set on disk (`ml.omr.dataset`)
live apart.)

A tune (ABC text or a music21 score) becomes one grayscale image per staff line, each with the
token sequence of what that line shows, then copies made to look scanned or photographed.

Tokens (semantic, one per printed symbol, left to right; `VOCABULARY` enumerates them):

- `clef-G2` (treble), `clef-F4` (bass), `clef-C3`, `clef-C4`, …; `-8vb`/`-8va` for octave clefs.
  Every line starts with its clef.
- `key+3` (three sharps), `key-2` (two flats): after the clef on every line whose key has
  sharps or flats; at a key change inside a line always, `key0` for a change to none (the
  cancelling naturals are what is printed).
- `time-6/8`, `time-3+2/8`, `time-C` (common), `time-C|` (cut): on the first line and where
  the metre changes (at a line start too); never repeated on later lines. None in free metre
  (ABC `M:none`, 213 of Essen's tunes), whose bars are as long as the barlines make them.
- `note-<step><accidental><octave>-<type>[-dot|-dotdot]`: `note-F#4-eighth`, `note-Bb3-half-dot`;
  the pitch is the sounding one (key signature and earlier accidentals in the bar applied), as
  in PrIMuS's semantic encoding; accidental `#`, `##`, `b`, `bb`; types `breve`, `whole`,
  `half`, `quarter`, `eighth`, `16th`, `32nd`, `64th`.
- `rest-<type>[-dot|-dotdot]`: a rest filling a bar is written with its own length (`rest-half-dot`
  in 6/8), not as a whole-bar rest.
- `tie` after a note tied to the next (also at a line end, where the tie runs off the staff);
  `tuplet-3` before the first note or rest of a triplet (`tuplet-N`: the printed number).
- Barlines after every bar: `bar`, `bar-double`, `bar-final`, `bar-repeat-end`; `bar-repeat-start`
  at a bar's start; `bar-repeat-both` where an end and a start meet inside a line.

Covered: single-staff, single-voice melodies. Removed before engraving, so neither printed nor
tokenised: slurs and other spanners, articulations, ornaments, fermatas, dynamics, chord symbols,
lyrics, text, tempo marks, grace notes; music21's plain left barlines (its ABC reader gives a dotted
one after `:|:`). Not covered, the tune skipped with the reason (`UnsupportedTune`): several
parts or voices, chords, unpitched notes, volta brackets, clef changes, signature changes inside
a bar or at a repeat start, microtones, nested tuplets, more than two dots, invisible rests,
durations without a single printed type, bars too long for a line, and ABC music21 reads
without bars.

Engraving: music21 → MusicXML → verovio (SVG) → resvg (PNG) → numpy. verovio's own ABC reader
was tried on the Essen files and is not used: it keeps bars running across Essen's phrase lines
(16 bars where music21 re-bars 22 for the first German song) and breaks the system at every
ABC line. The lines are laid out by verovio itself (automatic breaks at the requested width,
every line but the tune's last justified to it); each line is then engraved again as a score of its own (clef, key and,
when due, time at its start; the time signature printed only on the first line and at changes),
so an image is exactly one staff and its tokens are computed for exactly its bars. Every line is
checked: verovio's own reading of the engraved line (its MEI, read with the key signature and
the accidentals it prints, bar by bar) must give the same tokens, or the tune is skipped: the
tokens are what the image shows, not what music21 meant.

Rasterising: `resvg-py` (resvg in a Rust wheel: no system library), without system fonts, so
the pixels do not depend on the machine (verovio draws every music symbol as a path; it prints
no text here). verovio's Python wheel makes SVG only; `cairosvg` would need Debian's libcairo2.
"""

from __future__ import annotations

import copy
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import resvg_py
import verovio
from music21 import bar, clef, duration, harmony, key, meter, note, pitch, spanner, stream, tie
from music21.musicxml.m21ToXml import GeneralObjectExporter
from numpy.typing import NDArray
from PIL import Image

from core.errors import InputError
from ml.data.scores import as_score
from ml.omr.augment import augment as augment
from ml.omr.mei import read_mei
from ml.omr.tokens import (
    ALTER_TEXT,
    DOTS,
    DURATION_TYPES,
    key_alter,
    key_token,
)
from ml.omr.tokens import BLANK as BLANK
from ml.omr.tokens import VOCABULARY as VOCABULARY
from ml.omr.tokens import Vocabulary as Vocabulary
from ml.omr.tokens import build_vocabulary as build_vocabulary

# The `X as X` imports above re-export what callers outside ml/omr (benchmarks, tests) still import
# from here; ml/omr itself imports them from ml.omr.tokens and ml.omr.augment.

_VEROVIO_SPACE_PX = 18.0
"""A staff space in verovio's SVG pixels at scale 100 (unit 9 × 2)."""


class UnsupportedTune(InputError):
    """A tune holds notation this data set does not cover; the message says what."""


# ---------------------------------------------------------------- tokens


def symbols(score: stream.Score | str) -> list[str]:
    """The token sequence of a single-staff melody (ABC text or a music21 score), as if printed on
    one line. Raises UnsupportedTune (an InputError) naming what is not covered."""
    return _join(_bars(_prepared_part(as_score(score))), first_line=True)


@dataclass(frozen=True)
class _Bar:
    """One measure of a prepared part, tokenised, with the signatures in force from its start."""

    clef_token: str
    sharps: int
    time_token: str | None
    """None in free metre (ABC `M:none`): no time signature is printed."""
    time_changed: bool
    changes: tuple[str, ...]
    """Signature tokens printed at its start when it is not the first of a line."""
    repeat_start: bool
    body: tuple[str, ...]
    right: str
    clef_object: clef.Clef = field(compare=False, repr=False)
    time_object: meter.TimeSignature | None = field(compare=False, repr=False)


def _join(bars: Sequence[_Bar], *, first_line: bool) -> list[str]:
    """Tokens of `bars` printed as one line (the first line of the tune when `first_line`)."""
    head = bars[0]
    out = [head.clef_token, *([key_token(head.sharps)] if head.sharps else []),
           *([head.time_token] if head.time_token and (first_line or head.time_changed) else [])]
    for i, b in enumerate(bars):
        if i:
            out.extend(b.changes)
        if b.repeat_start:
            if i and out[-1] == "bar-repeat-end":
                out[-1] = "bar-repeat-both"
            else:
                out.append("bar-repeat-start")
        out.extend(b.body)
        out.append(b.right)
    return out


def _duration_token(d: duration.Duration, what: str) -> str:
    if d.type not in DURATION_TYPES or len(d.components) != 1:
        raise UnsupportedTune(f"{what} lasts {d.quarterLength} quarters, which has no single printed type")
    if d.dots > 2:
        raise UnsupportedTune(f"{what} has {d.dots} dots; at most two are covered")
    return str(d.type) + DOTS[d.dots]


def _pitch_token(p: pitch.Pitch) -> str:
    """`F#4`, `Bb3`, `C5` from a music21 pitch; UnsupportedTune for microtones and triple accidentals."""
    alter = p.alter
    if alter != int(alter) or int(alter) not in ALTER_TEXT:
        raise UnsupportedTune(f"pitch {p.nameWithOctave} (alteration {alter}) is outside the vocabulary: no microtones")
    return f"{p.step}{ALTER_TEXT[int(alter)]}{p.octave}"


def _clef_token(c: clef.Clef) -> str:
    if c.sign not in ("G", "F", "C") or c.line is None:
        raise UnsupportedTune(f"clef {c.sign} is not covered: only G, F and C clefs")
    octave = {0: "", -1: "-8vb", 1: "-8va"}.get(c.octaveChange)
    if octave is None:
        raise UnsupportedTune(f"clef {c.sign}{c.line} shifted {c.octaveChange} octaves is not covered")
    return f"clef-{c.sign}{c.line}{octave}"


def _time_token(ts: meter.TimeSignature) -> str:
    if ts.symbol == "common":
        return "time-C"
    if ts.symbol == "cut":
        return "time-C|"
    return "time-" + str(ts.ratioString).replace(" ", "")


def _prepared_part(score: stream.Score) -> stream.Part:
    """The single part of `score`, copied, with what is not covered removed or refused (module doc)."""
    parts = list(score.parts)
    if len(parts) > 1:
        raise UnsupportedTune(f"the score has {len(parts)} parts; only single-staff melodies are covered")
    if score.recurse().getElementsByClass(spanner.RepeatBracket).first() is not None:
        raise UnsupportedTune("first/second-time endings (volta brackets) are not covered")
    part: stream.Part = copy.deepcopy(parts[0]) if parts else stream.Part(copy.deepcopy(list(score.elements)))  # type: ignore[no-untyped-call]
    for sp in list(part.recurse().getElementsByClass(spanner.Spanner)):
        site = sp.activeSite
        if site is not None:
            site.remove(sp)
    measures = list(part.getElementsByClass(stream.Measure))
    if not measures:
        raise UnsupportedTune("music21 made no bars of this tune: it has no barlines, or music21's ABC reader failed on its "
                              "repeat signs (as it does in some short tunes)")
    for m in measures:
        if m.voices:
            raise UnsupportedTune(f"bar {m.number} has {len(m.voices)} voices; only single-voice melodies are covered")
        for el in list(m.elements):
            _prepare_element(m, el)
    _normalise_left_barlines(measures)
    _drop_restated_signatures(measures)
    part = part.splitAtDurations(recurse=True)[0]
    metred = part.recurse().getElementsByClass(meter.TimeSignature).first() is not None
    if metred and not any(n.beams.beamsList for n in part.recurse().notes):
        stream.makeNotation.makeBeams(part, inPlace=True)  # what music21's exporter would do
    for m in part.getElementsByClass(stream.Measure):
        stream.makeNotation.makeTupletBrackets(m, inPlace=True)
        m.streamStatus.tuplets = True
    return part


def _normalise_left_barlines(measures: Sequence[stream.Measure]) -> None:
    """Keep repeat starts as left barlines; a repeat end there (music21's ABC reader puts some
    `:|` on the next bar's left) moves to the previous bar's right, where it is printed; other
    left barlines go (the reader gives a dotted one after `:|:`)."""
    for i, m in enumerate(measures):
        left = m.leftBarline
        if isinstance(left, bar.Repeat) and left.direction == "end":
            if i == 0 or measures[i - 1].rightBarline is not None:
                raise UnsupportedTune(f"bar {m.number} starts with a repeat end that has no place at the bar before")
            m.leftBarline = None
            measures[i - 1].rightBarline = bar.Repeat(direction="end")
        elif left is not None and not isinstance(left, bar.Repeat):
            m.leftBarline = None


def _drop_restated_signatures(measures: Sequence[stream.Measure]) -> None:
    """Remove a clef, key or time signature equal to the one in force (ABC restates them)."""
    in_force: dict[str, str] = {}
    for m in measures:
        for s in list(m.getElementsByClass([clef.Clef, key.KeySignature, meter.TimeSignature])):
            if isinstance(s, clef.Clef):
                kind, value = "clef", _clef_token(s)
            elif isinstance(s, key.KeySignature):
                kind, value = "key", str(s.sharps)
            else:
                kind, value = "time", _time_token(s)
            if in_force.get(kind) == value:
                m.remove(s)
            in_force[kind] = value


def _prepare_element(m: stream.Measure, el: Any) -> None:
    if isinstance(el, harmony.Harmony):  # a chord symbol: text above the staff (and a Chord to music21)
        m.remove(el)
    elif isinstance(el, note.GeneralNote):
        if el.duration.isGrace:
            m.remove(el)
            return
        if isinstance(el, note.Unpitched) or not isinstance(el, note.Note | note.Rest):
            raise UnsupportedTune(f"bar {m.number} holds a {type(el).__name__}; only single notes and rests are covered")
        el.articulations = []
        el.expressions = []
        el.lyrics = []
        if isinstance(el, note.Rest):
            if el.style.hideObjectOnPrint:
                raise UnsupportedTune(f"bar {m.number} has an invisible rest, which is not covered")
            el.fullMeasure = False
        elif el.tie is not None and el.tie.type not in ("start", "stop", "continue"):
            raise UnsupportedTune(f"bar {m.number} has a {el.tie.type!r} tie, which is not covered")
    elif isinstance(el, clef.Clef | key.KeySignature | meter.TimeSignature | bar.Barline):
        return
    else:  # text, dynamics, chord symbols, tempo and layout marks, spanners
        m.remove(el)


def _bars(part: stream.Part) -> list[_Bar]:
    """Tokenise a prepared part bar by bar."""
    bars: list[_Bar] = []
    current_clef: clef.Clef | None = None
    current_time: meter.TimeSignature | None = None
    current_key = 0
    for i, m in enumerate(part.getElementsByClass(stream.Measure)):
        where = f"bar {m.number}"
        signatures = list(m.getElementsByClass([clef.Clef, key.KeySignature, meter.TimeSignature]))
        if any(s.offset != 0 for s in signatures):
            raise UnsupportedTune(f"{where} changes clef, key or metre inside the bar, which is not covered")
        changes: list[str] = []
        time_changed = False
        for s in signatures:  # restated signatures are gone (_prepared_part): each one here is a change
            if isinstance(s, clef.Clef):
                if i:
                    raise UnsupportedTune(f"{where} changes the clef, which is not covered")
                current_clef = s
            elif isinstance(s, key.KeySignature):
                if s.isNonTraditional:
                    raise UnsupportedTune(f"{where} has a non-traditional key signature, which is not covered")
                if i:
                    changes.insert(0, key_token(s.sharps))
                current_key = s.sharps
            else:
                if s.style.hideObjectOnPrint:
                    raise UnsupportedTune(f"{where} has a hidden time signature, which is not covered")
                if i:
                    changes.append(_time_token(s))
                    time_changed = True
                current_time = s
        if current_clef is None:
            raise UnsupportedTune("the tune has no clef at its start")
        repeat_start = isinstance(m.leftBarline, bar.Repeat) and m.leftBarline.direction == "start"
        if repeat_start and changes:
            raise UnsupportedTune(f"{where} changes key or metre at a repeat start, which is not covered")
        time_token = _time_token(current_time) if current_time is not None else None
        bars.append(_Bar(_clef_token(current_clef), current_key, time_token, time_changed, tuple(changes),
                         repeat_start, tuple(_body(m, where)), _right_barline(m, where), current_clef, current_time))
    return bars


def _body(m: stream.Measure, where: str) -> list[str]:
    out: list[str] = []
    for el in m.notesAndRests:
        tuplets = el.duration.tuplets
        if len(tuplets) > 1:
            raise UnsupportedTune(f"{where} has nested tuplets, which are not covered")
        if tuplets and tuplets[0].type in ("start", "startStop"):
            out.append(f"tuplet-{tuplets[0].numberNotesActual}")
        length = _duration_token(el.duration, f"a note in {where}")
        if isinstance(el, note.Rest):
            out.append(f"rest-{length}")
            continue
        assert isinstance(el, note.Note)  # _prepared_part refused everything else
        out.append(f"note-{_pitch_token(el.pitch)}-{length}")
        if el.tie is not None and el.tie.type in ("start", "continue"):
            out.append("tie")
    return out


def _right_barline(m: stream.Measure, where: str) -> str:
    b = m.rightBarline
    if b is None:
        return "bar"
    if isinstance(b, bar.Repeat):
        if b.direction != "end":
            raise UnsupportedTune(f"{where} has a repeat start at its end, which is not covered")
        return "bar-repeat-end"
    token = {"regular": "bar", "double": "bar-double", "final": "bar-final"}.get(b.type)
    if token is None:
        raise UnsupportedTune(f"{where} ends with a {b.type!r} barline, which is not covered")
    return token


# ---------------------------------------------------------------- engraving


@dataclass(frozen=True)
class StaffImage:
    """One engraved staff line.

    image: grayscale uint8, shape (height_px, width): 255 paper, 0 ink.
    tokens: what the line shows (module doc), left to right.
    line: 0-based index of the line in the tune; bars: [first, last) positions of its bars.
    """

    image: NDArray[np.uint8]
    tokens: tuple[str, ...]
    line: int
    bars: tuple[int, int]


def render_lines(score: stream.Score | str, *, width_px: int = 1024, height_px: int = 128, window_spaces: float = 16.0,
                 ) -> list[StaffImage]:
    """Engrave a melody (ABC text or a music21 score) and cut it into staff lines.

    verovio lays the tune out on a page `width_px` wide at a staff space of
    height_px / window_spaces pixels (8 px by default); each line is engraved again alone,
    justified to that width, and rasterised, and a window of `window_spaces` staff spaces centred
    on the staff is cut out (height_px high). Images are at most width_px wide, and narrower
    (their staff drawn smaller) where notes reach past the window, which then grows and is scaled
    down to height_px, or where verovio let the page's last line run past the width (it is then
    engraved at its natural width and scaled to fit).

    Raises UnsupportedTune (an InputError) for notation outside the vocabulary, or when verovio's
    reading of a line disagrees with its tokens.
    """
    if width_px < 256 or height_px < 32 or not 8 <= window_spaces <= 40:
        raise InputError(f"render_lines needs width_px ≥ 256, height_px ≥ 32 and 8 ≤ window_spaces ≤ 40 (got {width_px}, "
                         f"{height_px}, {window_spaces}): the defaults are 1024, 128, 16")
    part = _prepared_part(as_score(score))
    bars = _bars(part)
    measures = list(part.getElementsByClass(stream.Measure))
    zoom = height_px / window_spaces / _VEROVIO_SPACE_PX
    toolkit = _toolkit(page_width=round(width_px / zoom))
    whole = _musicxml(_line_part(measures, bars, 0, len(measures)))
    if not toolkit.loadData(whole):
        raise UnsupportedTune(f"verovio cannot read music21's MusicXML of this tune: {toolkit.getLog()[:200]}")
    counts = _bars_per_system(toolkit.renderToSVG(1))
    if sum(counts) != len(measures):
        raise UnsupportedTune(f"verovio laid out {sum(counts)} bars of {len(measures)}; the tune cannot be split into lines")
    toolkit.setOptions({"breaks": "encoded"})
    lines = []
    start = 0
    for index, count in enumerate(counts):
        stop = start + count
        tokens = _join(bars[start:stop], first_line=index == 0)
        xml = _musicxml(_line_part(measures, bars, start, stop))
        toolkit.setOptions({"minLastJustification": 0.8 if stop == len(measures) else 0.0})  # a short last line stays short
        toolkit.loadData(xml)
        svg = toolkit.renderToSVG(1)
        line_zoom = zoom
        if len(_bars_per_system(svg)) > 1:  # verovio let the page's last line run past the width
            toolkit.setOptions({"breaks": "none"})
            toolkit.loadData(xml)
            svg = toolkit.renderToSVG(1)
            toolkit.setOptions({"breaks": "encoded"})
            line_zoom = min(zoom, width_px / _svg_width(svg))
            if line_zoom < 0.75 * zoom:
                raise UnsupportedTune(f"line {index}: a bar is too long for a line {width_px} px wide")
        seen = read_mei(toolkit.getMEI())
        if seen != tokens:
            raise UnsupportedTune(f"line {index}: verovio's engraving reads {_first_difference(seen, tokens)}; "
                                  "music21's MusicXML of this tune is not what its tokens say")
        raster = _rasterise(svg, zoom=line_zoom)
        lines.append(StaffImage(_staff_window(raster, height_px, f"line {index}"), tuple(tokens), index, (start, stop)))
        start = stop
    return lines


def _toolkit(*, page_width: int) -> verovio.toolkit:
    verovio.enableLog(verovio.LOG_ERROR)  # "encoded breaks but none provided" is what a one-line score is
    toolkit = verovio.toolkit()
    toolkit.setOptions({"inputFrom": "xml", "xmlIdSeed": 1, "header": "none", "footer": "none", "breaks": "auto",
                        "pageWidth": page_width, "pageMarginLeft": 40, "pageMarginRight": 40, "adjustPageHeight": True,
                        "minLastJustification": 0.0, "staffLineWidth": 0.2})  # 1.6 px: a line stays dark on any sub-pixel offset
    return toolkit


def _line_part(measures: Sequence[stream.Measure], bars: Sequence[_Bar], start: int, stop: int) -> stream.Part:
    """Bars [start, stop) as a score of their own: the signatures in force at its start (time
    hidden unless it is the tune's start or changes there), no tie arriving from before, and
    accidentals printed by the rule `read_mei` reads them with. Only the first bar is copied: the
    others join the line as they are (a music21 object can sit in several streams), and what
    `_spell_accidentals` sets on them is the same in every line and in the whole tune."""
    line = stream.Part()  # type: ignore[no-untyped-call]
    for i in range(start, stop):
        m = copy.deepcopy(measures[i]) if i == start else measures[i]
        if i == start:
            for s in list(m.getElementsByClass([clef.Clef, key.KeySignature, meter.TimeSignature])):
                m.remove(s)
            b = bars[i]
            if b.time_object is not None:
                ts = copy.deepcopy(b.time_object)
                ts.style.hideObjectOnPrint = i > 0 and not b.time_changed
                m.insert(0, ts)
            m.insert(0, key.KeySignature(b.sharps))
            m.insert(0, copy.deepcopy(b.clef_object))
            first = m.notesAndRests.first()
            if isinstance(first, note.Note) and first.tie is not None and first.tie.type != "start":
                continues = first.tie.type == "continue"
                first.tie = tie.Tie("start") if continues else None  # type: ignore[no-untyped-call]
        line.append(m)  # type: ignore[no-untyped-call]
    _spell_accidentals(line)
    return line


def _spell_accidentals(line: stream.Part) -> None:
    """Print an accidental where the pitch differs from what the key signature and the bar's
    earlier accidentals (same step and octave) give; none on a note tied from the one before."""
    sharps = 0
    for m in line.getElementsByClass(stream.Measure):
        ks = m.getElementsByClass(key.KeySignature).first()
        sharps = ks.sharps if ks is not None else sharps
        carried: dict[tuple[str, int], int] = {}
        for n in m.notes:
            assert isinstance(n, note.Note)
            p = n.pitch
            alter = int(p.alter)
            tied = n.tie is not None and n.tie.type in ("stop", "continue")
            expected = carried.get((p.step, p.implicitOctave), key_alter(sharps, p.step))
            if tied or alter == expected:
                if p.accidental is not None:
                    p.accidental.displayStatus = False
                continue
            if p.accidental is None:
                p.accidental = "natural"
            assert p.accidental is not None
            p.accidental.displayStatus = True
            carried[(p.step, p.implicitOctave)] = alter
    line.streamStatus.accidentals = True


def _musicxml(part: stream.Part) -> str:
    exporter = GeneralObjectExporter(stream.Score([part]))
    exporter.makeNotation = False  # the part is already notation: splitting, beams, tuplets, accidentals; 6× faster
    try:
        return exporter.parse().decode("utf-8")
    except Exception as exc:  # music21's exporter raises many types; none is part of its API
        raise UnsupportedTune(f"music21 cannot write this tune as MusicXML: {type(exc).__name__}: {str(exc)[:160]}") from exc


def _svg_width(svg: str) -> float:
    """The width of verovio's SVG page in its pixels (the root's `width="2304px"`)."""
    return float(ET.fromstring(svg).get("width", "0").removesuffix("px"))


def _bars_per_system(svg: str) -> list[int]:
    """How many bars each system of verovio's SVG page holds, top to bottom."""
    counts: list[int] = []
    for kind in re.findall(r'<g\b[^>]*\bclass="(system|measure)"', svg):
        if kind == "system":
            counts.append(0)
        elif counts:
            counts[-1] += 1
    return counts


def _first_difference(seen: Sequence[str], tokens: Sequence[str]) -> str:
    i = next((k for k, (a, b) in enumerate(zip(seen, tokens, strict=False)) if a != b), min(len(seen), len(tokens)))
    return f"{list(seen[max(0, i - 2):i + 3])} where the tokens have {list(tokens[max(0, i - 2):i + 3])} (token {i})"


def _rasterise(svg: str, *, zoom: float) -> NDArray[np.uint8]:
    png = resvg_py.svg_to_bytes(svg_string=svg, background="white", zoom=zoom, skip_system_fonts=True)
    with Image.open(io.BytesIO(bytes(png))) as im:
        return np.asarray(im.convert("L"), dtype=np.uint8)


def staff_lines(image: NDArray[np.uint8]) -> list[float]:
    """Row positions (pixels, sub-pixel centroids) of the staff lines of a staff image: rows whose
    longest unbroken run of ink (grey < 200) is at least 80 % of the longest in the image, grouped
    when adjacent. Five for a clean engraved staff; ledger lines, beams and ties are shorter."""
    ink = image < 200  # (H, W)
    padded = np.zeros((ink.shape[0], ink.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = ink
    longest = np.zeros(ink.shape[0], dtype=np.int64)
    for r, row in enumerate(np.diff(padded, axis=1)):  # +1 where a run starts, -1 after it ends
        starts, ends = np.flatnonzero(row == 1), np.flatnonzero(row == -1)
        longest[r] = int((ends - starts).max()) if starts.size else 0
    rows = np.flatnonzero(longest >= max(0.8 * longest.max(), 1))
    darkness = (255.0 - image.astype(np.float64)).sum(axis=1)  # (H,)
    groups: list[list[int]] = []
    for r in rows.tolist():
        if groups and r - groups[-1][-1] <= 1:
            groups[-1].append(r)
        else:
            groups.append([r])
    return [float(np.average(g, weights=darkness[g])) for g in groups]


def _staff_window(raster: NDArray[np.uint8], height_px: int, where: str) -> NDArray[np.uint8]:
    """Rows of `raster` centred on its staff, height_px of them; more, scaled down to height_px,
    where ink reaches further."""
    lines = staff_lines(raster)
    if len(lines) != 5:
        raise UnsupportedTune(f"{where}: found {len(lines)} staff lines in the engraving instead of 5")
    centre = lines[2]
    half = height_px / 2
    ink_rows = np.flatnonzero((raster < 200).any(axis=1))
    reach = max(centre - ink_rows[0], ink_rows[-1] - centre) + 2
    half_window = max(half, reach)
    top = round(centre - half_window)
    size = round(2 * half_window)
    padded = np.full((size, raster.shape[1]), 255, dtype=np.uint8)
    src_top, src_bottom = max(0, top), min(raster.shape[0], top + size)
    padded[src_top - top:src_bottom - top] = raster[src_top:src_bottom]
    if size == height_px:
        return padded
    width = max(1, round(raster.shape[1] * height_px / size))
    with Image.fromarray(padded) as im:
        return np.asarray(im.resize((width, height_px), Image.Resampling.LANCZOS), dtype=np.uint8)
