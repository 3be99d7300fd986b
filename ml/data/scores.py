"""Scores from a community's archive (MIDI, MusicXML, ABC, kern) as music21 streams and timed notes.

`load_score` reads a file and says plainly what is wrong with a bad one; `as_score` also takes ABC
text or a stream already parsed; `note_events` and `tempo_map` flatten a score into what a
synthesiser needs (onsets and durations in quarter notes, fractional MIDI pitches, velocities).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from music21 import chord, converter, dynamics, note, stream, tempo

from core.errors import InputError
from ml.data.files import readable

ScoreLike: TypeAlias = stream.Stream[Any] | str | Path
"""A music21 stream, ABC text (anything with a newline), or the path of a score file."""

SCORE_FORMATS: dict[str, str] = {
    ".mid": "midi",
    ".midi": "midi",
    ".musicxml": "musicxml",
    ".xml": "musicxml",
    ".mxl": "musicxml",
    ".abc": "abc",
    ".krn": "humdrum",
}
"""Score file extensions read by `load_score`, with the music21 format each is parsed as."""

DYNAMIC_VELOCITY: dict[str, int] = {"ppp": 16, "pp": 33, "p": 49, "mp": 64, "mf": 80, "f": 96, "ff": 112, "fff": 126}
"""MIDI velocity of a dynamic marking (MuseScore's defaults); a note without one plays mf."""


@dataclass(frozen=True)
class NoteEvent:
    """One sounding note.

    onset, duration: quarter notes from the start of the score (repeats as written).
    pitch: MIDI pitch, fractional for microtones (69.5 is A4 raised by 50 cents).
    velocity: MIDI velocity, 1–127.
    """

    onset: float
    duration: float
    pitch: float
    velocity: int


def load_score(path: Path) -> stream.Score:
    """Read a MIDI, MusicXML (.musicxml/.xml/.mxl), ABC or Humdrum kern file with music21.

    MIDI is read without quantising (performance timing is kept). A file holding several pieces
    (an ABC collection, a kern opus) is refused: split it first (`ml.data.abc.read_collection`).

    Raises InputError for a missing, empty, unreadable or note-less file, or an unknown extension.
    """
    fmt = readable(path, SCORE_FORMATS, what="score", again="export or copy it again",
                   convert=f"export it as one of {', '.join(sorted(SCORE_FORMATS))} (MusicXML from any notation program, MIDI "
                           "from a sequencer)")
    if fmt == "abc":
        return parse_abc(path.read_text(encoding="utf-8", errors="replace"), name=f"score {path}")
    keywords = {"quantizePost": False} if fmt == "midi" else {}
    try:
        parsed = converter.parse(path, format=fmt, forceSource=True, **keywords)
    except Exception as exc:  # music21 raises many unrelated types (ValueError, IndexError, its own) on a bad file
        raise InputError(
            f"score {path} could not be read as {fmt}: {type(exc).__name__}: {str(exc)[:160]}; "
            "check that it opens in a notation program (MuseScore) and export it again"
        ) from exc
    return _single_score(parsed, f"score {path}")


ABC_VERSION_LINE = "%abc-2.1\n"
"""Prepended to ABC text without a version line: music21 carries an accidental to the end of its
bar (ABC 2.1, and what the Essen and O'Neill transcriptions assume: they write `=B` after `_B`
in a bar) only when the text declares a 2.x version; otherwise it reads `_B B` as B♭ then B♮,
which changed the pitches of about 1,070 of Essen's 8,406 tunes."""


def parse_abc(text: str, *, name: str = "ABC text") -> stream.Score:
    """Parse one ABC tune (its text from `X:` on) into a music21 score, with ABC 2.1 semantics
    (accidentals carry to the end of the bar) unless the text declares another version."""
    try:
        parsed = converter.parse(text if text.lstrip().startswith("%abc") else ABC_VERSION_LINE + text, format="abc")
    except Exception as exc:  # as in load_score: the parser's error types are not part of its API
        raise InputError(
            f"{name} is not valid ABC: {type(exc).__name__}: {str(exc)[:160]}; check its X:, L: and K: header lines"
        ) from exc
    return _single_score(parsed, name)


def as_score(score: ScoreLike) -> stream.Score:
    """A music21 score from a stream, ABC text (a string with a newline) or a score file's path."""
    if isinstance(score, stream.Score):
        return score
    if isinstance(score, stream.Stream):
        wrapped = stream.Score()
        wrapped.insert(0, score)
        return wrapped
    if isinstance(score, str) and "\n" in score:
        return parse_abc(score)
    return load_score(Path(score))


def note_events(score: stream.Score) -> list[NoteEvent]:
    """Every sounding note of every part, tied notes merged, sorted by onset then pitch.

    Rests, grace notes (no duration) and unpitched (percussion) notes are left out; chords give one
    event per pitch. Velocity: the note's own (as MIDI files have), else the part's latest dynamic
    marking (DYNAMIC_VELOCITY; others such as sfz keep the previous level), else mf (80).
    Repeats are played once, as written.
    """
    parts: list[stream.Stream[Any]] = [*score.parts] or [score]
    events: list[NoteEvent] = []
    for part in parts:
        marked = DYNAMIC_VELOCITY["mf"]
        for element in part.stripTies().flatten().getElementsByClass([note.Note, chord.Chord, dynamics.Dynamic]):
            if isinstance(element, dynamics.Dynamic):
                marked = DYNAMIC_VELOCITY.get(str(element.value), marked)
                continue
            duration = float(element.duration.quarterLength)
            if duration <= 0:
                continue
            own = element.volume.velocity
            velocity = min(127, max(1, own if own is not None else marked))
            onset = float(element.offset)
            events.extend(NoteEvent(onset=onset, duration=duration, pitch=float(p.ps), velocity=velocity) for p in element.pitches)
    events.sort(key=lambda e: (e.onset, e.pitch))
    return events


def tempo_map(score: stream.Score) -> list[tuple[float, float]]:
    """(onset in quarter notes, quarter notes per minute) at each tempo change, from the score's metronome marks.

    120 until the first mark; where several marks share an onset (MusicXML's printed and playback
    tempos, one per part) the last one read wins.
    """
    marks: dict[float, float] = {0.0: 120.0}
    for mark in score.flatten().getElementsByClass(tempo.MetronomeMark):
        bpm = mark.getQuarterBPM()
        if bpm:
            marks[float(mark.offset)] = float(bpm)
    changes: list[tuple[float, float]] = []
    for onset, bpm in sorted(marks.items()):
        if not changes or changes[-1][1] != bpm:
            changes.append((onset, bpm))
    return changes


def _single_score(parsed: stream.Stream[Any], name: str) -> stream.Score:
    if isinstance(parsed, stream.Opus):
        scores = list(parsed.scores)
        if len(scores) != 1:
            raise InputError(
                f"{name} holds {len(scores)} pieces; pass one at a time (ml.data.abc.read_collection splits an ABC collection)"
            )
        parsed = scores[0]
    result = parsed if isinstance(parsed, stream.Score) else as_score(parsed)
    if not result.flatten().notes:
        raise InputError(f"{name} has no notes: check it is the right file and that it is not only a header")
    return result
