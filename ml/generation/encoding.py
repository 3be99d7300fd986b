"""Scores and songs put on the lattice (`ml.generation.lattice`): a notated metre's cycle, the
layout of a melody on cycles and ticks, Essen-style ABC, any score music21 reads, uploaded content, and
the Essen Han corpus.

Corpus (real data only): `han_corpus()` encodes the Essen Han songs under `chinese_pentatonic`,
taking each song's K: tonic as gong (docs/traditions.md). A written note off the lattice (a
semitone between two degrees, 0.25% of the notes) is kept as its nearest degree (ties to the lower)
with its `deviation` in cents recorded and counted (`snapped`); a song with more than
`MAX_SNAPPED_SHARE` of its notes off the lattice is dropped (its K: tonic is probably not gong), as
are songs in a metre that is none of the tradition's cycles (3/8, 5/8, 6/8, 7/8, 5/4, free metre)
and songs whose written barlines fall off the M: cycle (unnotated metre changes). `Corpus.dropped`
counts each reason. The Essen transcriptions notate no ornaments, so every Han note's ornament is
none. The other traditions (slendro, pelog, Andean siku, maqam rast) have no melodies in the local
corpora: no corpus is made for them; generation for them uses the lattice and the decoding masks
over the network trained on the Han songs, with their conditioning tokens unknown (`…:?`).

Scores other than Essen-style ABC (MusicXML, MIDI, ABC with fields or repeats) are read with music21
(`encode_score`): the tonic is the key's (a Key's tonic, else the key signature's major tonic; the
tradition's reference pitch without either), onsets are rounded to the tick grid.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from core.errors import InputError
from ml.data.corpora import HAN_GENRES, Piece, essen
from ml.data.melody import read_melody
from ml.generation.lattice import (
    BEAT_UNITS,
    HAN,
    OCTAVES,
    TICKS_PER_BEAT,
    Event,
    EventKind,
    LatticePiece,
)
from ml.generation.microtonal import A4_HZ
from ml.tradition import Cycle, Tradition, load_tradition

MAX_SNAPPED_SHARE = 0.10
"""A corpus song with more of its notes off the tuning's degrees than this is dropped."""
ABC_SUBSET = re.compile(r"^[A-Ga-gz\d/,'=^_\-|\]<> ]*$")
"""Body lines `encode_abc` reads itself (the Essen dialect); anything else goes through music21."""


def cycle_for_metre(tradition: Tradition, metre: str) -> Cycle | None:
    """The tradition's cycle for a notated metre: the first whose beats and beat unit are the metre's
    own (M: 6/8 → six eighth notes, M: 3/4 → three quarters), else the first whose length in quarter
    notes is the metre's bar (M: 2/4 → a 2-beat cycle of quarter notes), among cycles with a notated
    beat unit; None for free metre or no match."""
    m = re.fullmatch(r"(\d+)/(\d+)", metre)
    if m is None or int(m.group(2)) == 0:
        return None
    count, unit_ql = int(m.group(1)), 4 / int(m.group(2))
    notated = [(c, BEAT_UNITS[c.beat_unit]) for c in tradition.cycles if c.beat_unit in BEAT_UNITS]
    exact = [c for c, unit in notated if c.beats == count and abs(unit - unit_ql) < 1e-9]
    same_length = [c for c, unit in notated if abs(c.beats * unit - count * unit_ql) < 1e-9]
    found = exact or same_length
    return found[0] if found else None


class NotEncodable(InputError):
    """A score that cannot be put on the lattice; `reason` is a short key for counting."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def lay_out(notes: Sequence[tuple[float | None, int]], *, tradition: Tradition, cycle: Cycle, tonic_midi: float,
            pickup_ticks: int = 0, barlines: Sequence[int] = (), mode: str | None = None, context: str | None = None,
            cid: str | None = None, title: str = "") -> LatticePiece:
    """Put a melody on the lattice. notes: (MIDI pitch or None for a rest, duration in ticks) in order,
    ties already merged; the first starts `pickup_ticks` before a cycle boundary (0: on one).
    barlines: tick positions (from the first note) of written barlines, each of which must fall on a
    cycle boundary. The mode is the one whose final is the last note's degree unless given."""
    c_ticks = cycle.beats * TICKS_PER_BEAT
    offset = (c_ticks - pickup_ticks % c_ticks) % c_ticks
    for at in barlines:
        if (at + offset) % c_ticks:
            raise NotEncodable("barlines off the cycle", f"a written barline falls {(at + offset) % c_ticks} ticks into a "
                                                          f"{cycle.beats}-beat cycle: the metre changes without an M: field")
    events: list[Event] = [Event("rest", offset)] if offset else []
    now = offset
    for pitch, ticks in notes:
        if ticks <= 0:
            continue
        head = Event("rest", 0) if pitch is None else _snap(tradition, (pitch - tonic_midi) * 100)
        first = True
        while ticks > 0:
            part = min(ticks, c_ticks - now % c_ticks)
            kind: EventKind = head.kind if first or head.kind == "rest" else "tie"
            events.append(replace(head, kind=kind, ticks=part) if kind != "tie" else Event("tie", part))
            now, ticks, first = now + part, ticks - part, False
    if not any(e.kind == "note" for e in events):
        raise NotEncodable("no notes", "the melody has no notes: give a score with at least one note")
    if now % c_ticks:
        events.append(Event("rest", c_ticks - now % c_ticks))
    last = next(e for e in reversed(events) if e.kind == "note")
    if mode is None:
        final = tradition.degrees[last.degree].name
        mode = next((m.name for m in tradition.modes if m.final == final), None)
    return LatticePiece(tradition.id, cycle.name, c_ticks, tuple(events), mode=mode, context=context, cid=cid, title=title)


def _snap(tradition: Tradition, cents: float) -> Event:
    near = tradition.nearest_degree(cents)
    if near.octave not in OCTAVES:
        raise NotEncodable("out of range", f"a note {cents:.0f} cents from the tonic lies outside the lattice's "
                                           f"{len(OCTAVES)} octaves ({OCTAVES[0]}…{OCTAVES[-1]}); transpose the score")
    index = next(i for i, d in enumerate(tradition.degrees) if d.name == near.degree.name)
    return Event("note", 0, near.octave, index, deviation=near.deviation_cents)


def _merge_ties(notes: Sequence[tuple[float | None, float, bool]]) -> list[tuple[float | None, float]]:
    """(pitch, length, tied-to-next) → (pitch, length) with each tie to the same pitch merged."""
    out: list[tuple[float | None, float]] = []
    held = False
    for pitch, length, tied in notes:
        if held and out and pitch is not None and out[-1][0] == pitch:
            out[-1] = (pitch, out[-1][1] + length)
        else:
            out.append((pitch, length))
        held = tied and pitch is not None
    return out


# --- Reading scores ------------------------------------------------------------------------------


def encode_abc(abc: str, *, tradition: Tradition, cid: str | None = None, title: str = "", context: str | None = None,
               ) -> LatticePiece:
    """One ABC tune in the Essen dialect (notes, rests, ties, broken rhythm, barlines; no fields, chords,
    repeats or tuplets after the K: line) on the lattice, with the K: tonic as the tradition's tonic degree.
    The barlines must fall on the M: metre's cycle. NotEncodable otherwise (`encode_score` reads the rest)."""
    lines = abc.splitlines()
    head = next((i for i, line in enumerate(lines) if line.startswith("K:")), None)
    if head is None:
        raise NotEncodable("no K: line", "the ABC tune has no K: line: add the key, e.g. 'K:C'")
    body = [line.split("%", 1)[0] for line in lines[head + 1:]]
    if not all(ABC_SUBSET.match(line) for line in body):
        raise NotEncodable("ABC beyond the Essen dialect", "the ABC body has fields, chords, repeats or decorations: "
                                                           "read it with encode_score (music21)")
    header = "\n".join(lines[: head + 1])
    melody = read_melody(abc)
    cycle = cycle_for_metre(tradition, melody.metre)
    if cycle is None:
        raise NotEncodable(f"metre {melody.metre} has no cycle", f"metre {melody.metre} is none of {tradition.id}'s "
                                                                  "cycles: give --cycle or a score in a metre the tradition has")
    beat_ql = BEAT_UNITS[cycle.beat_unit]
    notes: list[tuple[float | None, float, bool]] = []
    barlines: list[int] = []
    now = 0.0
    for segment in " ".join(body).split("|"):
        if not re.search(r"[A-Ga-gz]", segment):
            continue
        if notes:
            barlines.append(_ticks(now, beat_ql))
        part = read_melody(f"{header}\nC{segment}\n").notes[1:]  # a leading C keeps rest-only bars readable
        notes += [(n.pitch, n.quarter_length, n.tied) for n in part]
        now += sum(n.quarter_length for n in part)
    merged = [(p, _ticks(q, beat_ql)) for p, q in _merge_ties(notes)]
    pickup = barlines[0] if barlines else 0  # the music before the first barline ends on a cycle boundary
    return lay_out(merged, tradition=tradition, cycle=cycle, tonic_midi=60 + melody.tonic, pickup_ticks=pickup,
                   barlines=barlines, context=context, cid=cid, title=title)


def _ticks(quarter_length: float, beat_ql: float) -> int:
    return round(quarter_length / beat_ql * TICKS_PER_BEAT)


def encode_score(score: Any, *, tradition: Tradition, cycle: str | None = None, cid: str | None = None, title: str = "",
                 context: str | None = None) -> LatticePiece:
    """A music21 score (MusicXML, MIDI, any ABC) on the lattice: the first part's line (a chord's
    highest note; overlapping notes cut at the next onset), onsets rounded to the tick grid, the
    pickup from the first measure. Tonic: the score's Key, else its key signature's major tonic, else
    the tradition's reference pitch. The cycle is `cycle` or the one matching the time signature."""
    from music21 import chord, key, meter, note

    parts = list(score.parts) or [score]
    flat = parts[0].stripTies().flatten()
    sig = next(iter(parts[0].recurse().getElementsByClass(meter.TimeSignature)), None)
    chosen = tradition.cycle(cycle) if cycle else (cycle_for_metre(tradition, sig.ratioString) if sig else None)
    if chosen is None:
        raise NotEncodable("no cycle", f"the score's metre ({sig.ratioString if sig else 'none'}) is none of "
                                       f"{tradition.id}'s cycles: pass the cycle (--cycle) explicitly")
    beat_ql = BEAT_UNITS.get(chosen.beat_unit, 1.0)
    keys = list(flat.getElementsByClass(key.Key))
    signatures = list(flat.getElementsByClass(key.KeySignature))
    if keys:
        tonic_midi = 60.0 + keys[0].tonic.pitchClass
    elif signatures:
        tonic_midi = 60.0 + signatures[0].asKey("major").tonic.pitchClass
    else:
        tonic_midi = 69 + 12 * math.log2(tradition.tonic_hz / A4_HZ)
    sounding: dict[int, float] = {}
    ends: dict[int, int] = {}
    for element in flat.getElementsByClass([note.Note, chord.Chord]):
        onset = _ticks(float(element.offset), beat_ql)
        length = max(1, _ticks(float(element.duration.quarterLength), beat_ql))
        top = max(float(p.ps) for p in element.pitches)
        if onset not in sounding or top > sounding[onset]:
            sounding[onset], ends[onset] = top, onset + length
    if not sounding:
        raise NotEncodable("no notes", "the score has no notes: give a score with at least one note")
    notes: list[tuple[float | None, int]] = []
    starts = sorted(sounding)
    for i, onset in enumerate(starts):
        if i == 0 and onset > 0:
            notes.append((None, onset))
        end = min(ends[onset], starts[i + 1]) if i + 1 < len(starts) else ends[onset]
        notes.append((sounding[onset], end - onset))
        if i + 1 < len(starts) and starts[i + 1] > end:
            notes.append((None, starts[i + 1] - end))
    measures = list(parts[0].getElementsByClass("Measure"))
    c_ql = chosen.beats * beat_ql
    pickup = 0
    if measures and float(measures[0].duration.quarterLength) < c_ql - 1e-9 and len(measures) > 1:
        pickup = _ticks(float(measures[1].offset), beat_ql)
    return lay_out(notes, tradition=tradition, cycle=chosen, tonic_midi=tonic_midi,
                   pickup_ticks=pickup, context=context, cid=cid, title=title)


def encode_content(data: bytes, *, tradition: Tradition, cycle: str | None = None, cid: str | None = None, title: str = "",
                   ) -> LatticePiece:
    """A stored score's bytes on the lattice, whatever its format: MIDI (`MThd`), MusicXML (`<?xml`,
    `<score-partwise`, or a compressed .mxl) or ABC (a `K:` line; the Essen dialect read directly, any
    other ABC through music21). The context is the ABC's R: genre when it names one of HAN_GENRES."""
    import tempfile
    from pathlib import Path

    from ml.data.scores import load_score, parse_abc

    head = data[:512].lstrip()
    if head.startswith(b"MThd") or head.startswith(b"PK") or head.startswith(b"<?xml") or b"<score-partwise" in head:
        suffix = ".mid" if head.startswith(b"MThd") else ".mxl" if head.startswith(b"PK") else ".musicxml"
        with tempfile.TemporaryDirectory(prefix="heritage-lattice-") as tmp:
            path = Path(tmp) / f"score{suffix}"
            path.write_bytes(data)
            return encode_score(load_score(path), tradition=tradition, cycle=cycle, cid=cid, title=title)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if not re.search(r"^K:", text, flags=re.M):
        raise InputError("the content is not a score this reader knows: give ABC (with a K: line), MusicXML or MIDI")
    genre = re.search(r"^R:\s*([A-Za-z]+)", text, flags=re.M)
    context = genre.group(1) if genre and genre.group(1) in HAN_GENRES else None
    if cycle is None:
        try:
            return encode_abc(text, tradition=tradition, cid=cid, title=title, context=context)
        except NotEncodable as err:
            if err.reason in ("off the tuning", "out of range", "no notes"):
                raise
    return encode_score(parse_abc(text), tradition=tradition, cycle=cycle, cid=cid, title=title, context=context)


# --- The corpus ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """Encoded pieces and what was left out: `dropped` counts pieces per reason."""

    pieces: tuple[LatticePiece, ...]
    dropped: dict[str, int] = field(default_factory=dict)
    notes: int = 0
    snapped: int = 0

    def summary(self) -> dict[str, Any]:
        return {"pieces": len(self.pieces), "dropped": dict(self.dropped), "notes": self.notes, "snapped_notes": self.snapped,
                "snapped_share": self.snapped / max(self.notes, 1)}


def han_corpus(pieces: Sequence[Piece] | None = None, *, tradition: Tradition | None = None) -> Corpus:
    """The Essen Han songs (all, or `pieces`) encoded under chinese_pentatonic (module docstring),
    each with its genre as context. Real data only."""
    t = tradition or load_tradition(HAN)
    songs = list(pieces) if pieces is not None else essen(("Chinese Han",))
    kept: list[LatticePiece] = []
    dropped: Counter[str] = Counter()
    for song in songs:
        try:
            piece = encode_abc(song.abc, tradition=t, cid=song.cid, title=song.title, context=song.genre)
        except NotEncodable as err:
            dropped[err.reason] += 1
            continue
        notes = sum(1 for e in piece.events if e.kind == "note")
        if piece.snapped > MAX_SNAPPED_SHARE * notes:
            dropped["off the tuning (K: tonic not gong?)"] += 1
            continue
        kept.append(piece)
    return Corpus(tuple(kept), dict(sorted(dropped.items())), sum(sum(1 for e in p.events if e.kind == "note") for p in kept),
                  sum(p.snapped for p in kept))
