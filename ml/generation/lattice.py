"""The microtonal token lattice: a melody as events on a tradition's degrees and cycle, and its tokens.

A piece is a sequence of `Event`s on a time grid of `TICKS_PER_BEAT` ticks per beat of the cycle's
beat unit: a note (a degree of the tradition's tuning and an octave, i.e. a pitch in cents above the
tonic snapped to the tuning; an optional ornament), a rest, or a tie (the previous note held over a
cycle boundary). Bars are the tradition's rhythmic cycles: an encoded piece starts on a cycle
boundary (a pickup becomes a leading rest), no event crosses a boundary (a note that does is split
into the note and ties) and it ends on a boundary (padded with a rest).

Tokens (`Vocabulary`): conditioning tokens `trad:<id>`, `mode:<tradition>/<mode>`,
`cycle:<tradition>/<cycle>`, `ctx:<context>` (each kind also `…:?` for unknown/dropped); the pitch
lattice `p:<octave>:<degree>` (octave −2…+2 periods, degree = index into the tuning's degrees,
`MAX_DEGREES` at most), `rest`, `tie`; `orn:<name>` for every ornament name of the traditions; `d:<ticks>`
durations (`DURATIONS`; a longer or odd duration is a sum of several); `<bar>` before each cycle;
`<bos>`, `<eos>`, `<pad>`. A piece reads: `<bos> trad mode cycle ctx <bar> p:0:4 d:4 p:0:5 d:4 … <eos>`.

Phrase structure (`repeats`): a vocabulary built with repeats adds `rep:1`…`rep:8`, and a piece's
tokens mark every cycle that repeats an earlier one exactly: `<bar> rep:k` and then the cycle's own
tokens, the copy of the cycle k back (the nearest such k). A network trained on them learns where a
song returns to earlier material; the copy after `rep:k` is never a target of the loss (`train`):
the decoder writes it (`decode`). Reading tokens back ignores the repeat tokens.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

from core.errors import InputError
from ml.data.corpora import HAN_GENRES, Piece, essen
from ml.data.melody import read_melody
from ml.generation.microtonal import A4_HZ, MicroNote
from ml.tradition import Cycle, Tradition, load_tradition, traditions

TICKS_PER_BEAT = 8
"""Time grid: ticks per beat of the cycle's beat unit (a 32nd note when the beat is a quarter)."""
DURATIONS = (32, 24, 16, 12, 8, 6, 4, 3, 2, 1)
"""Duration tokens in ticks, longest first: 4, 3, 2, 1½, 1, ¾, ½, ⅜, ¼, ⅛ beats."""
OCTAVES = (-2, -1, 0, 1, 2)
"""Octaves (periods) of the pitch lattice relative to the tonic's."""
MAX_DEGREES = 12
"""Degrees per period the pitch lattice holds."""
MAX_SNAPPED_SHARE = 0.10
"""A corpus song with more of its notes off the tuning's degrees than this is dropped."""
HAN = "chinese_pentatonic"

PAD, BOS, EOS, BAR, REST, TIE, UNKNOWN = "<pad>", "<bos>", "<eos>", "<bar>", "rest", "tie", "?"
COND_KINDS = ("trad", "mode", "cycle", "ctx")
REPEAT = "rep:"
"""Prefix of the repeat tokens: `rep:k` right after a `<bar>` says the cycle repeats the one k cycles back."""
REPEAT_BACK = 8
"""How far back a repeat token reaches (cycles): in the Essen Han songs 18 % of cycles repeat one of
the 8 before them exactly (k = 4 and 8 most often: phrase-long returns)."""
"""The conditioning tokens, in the order a sequence carries them after <bos>."""
BEAT_UNITS = {"whole note": 4.0, "half note": 2.0, "quarter note": 1.0, "eighth note": 0.5, "sixteenth note": 0.25}
"""Beat units of a cycle that notated metres map to (quarter notes per beat)."""
ABC_SUBSET = re.compile(r"^[A-Ga-gz\d/,'=^_\-|\]<> ]*$")
"""Body lines `encode_abc` reads itself (the Essen dialect); anything else goes through music21."""

EventKind = Literal["note", "rest", "tie"]


@dataclass(frozen=True)
class Event:
    """One lattice event, `ticks` long (≥ 1). A note has a degree (index into the tradition's degrees)
    and an octave, an optional ornament name, and `deviation` = written − lattice cents (0 on the lattice)."""

    kind: EventKind
    ticks: int
    octave: int = 0
    degree: int = 0
    ornament: str | None = None
    deviation: float = 0.0


@dataclass(frozen=True)
class LatticePiece:
    """A melody on the lattice: its events from the first cycle boundary, the cycle they count in
    (`cycle_ticks` = beats × TICKS_PER_BEAT), and its conditioning facts."""

    tradition: str
    cycle: str
    cycle_ticks: int
    events: tuple[Event, ...]
    mode: str | None = None
    context: str | None = None
    cid: str | None = None
    title: str = ""

    @property
    def onsets(self) -> tuple[int, ...]:
        """Onset of each event in ticks from the start."""
        out, now = [], 0
        for e in self.events:
            out.append(now)
            now += e.ticks
        return tuple(out)

    @property
    def total_ticks(self) -> int:
        return sum(e.ticks for e in self.events)

    @property
    def snapped(self) -> int:
        """Notes moved onto the lattice (written off the tuning's degrees)."""
        return sum(1 for e in self.events if e.kind == "note" and abs(e.deviation) > 1e-6)

    def bars(self) -> list[tuple[Event, ...]]:
        """The events grouped by the cycle their onset falls in (cycles without an onset are empty)."""
        n = -(-self.total_ticks // self.cycle_ticks) if self.events else 0
        out: list[list[Event]] = [[] for _ in range(n)]
        for onset, e in zip(self.onsets, self.events, strict=True):
            out[onset // self.cycle_ticks].append(e)
        return [tuple(b) for b in out]

    def first_bars(self, n: int) -> LatticePiece:
        """The piece cut after its first `n` cycles (an event crossing the cut is shortened)."""
        limit, kept, now = n * self.cycle_ticks, [], 0
        for e in self.events:
            if now >= limit:
                break
            kept.append(replace(e, ticks=min(e.ticks, limit - now)))
            now += e.ticks
        return replace(self, events=tuple(kept))


@dataclass(frozen=True)
class TimedNote:
    """A sounding note (ties merged): onset and duration in ticks, `cents` above the tonic on the
    lattice, `written_cents` as written (lattice + deviation), the ornament name or None."""

    onset: int
    ticks: int
    cents: float
    written_cents: float
    ornament: str | None


# --- Vocabulary ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """Token strings and their ids (module docstring). A model file stores its own list."""

    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(set(self.tokens)) != len(self.tokens) or self.tokens[:1] != (PAD,):
            raise InputError("a vocabulary lists distinct tokens with <pad> first: build it with Vocabulary.build")

    @cached_property
    def index(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def id(self, token: str) -> int:
        """The id of `token`; a conditioning token the vocabulary lacks becomes its kind's `?`."""
        found = self.index.get(token)
        if found is not None:
            return found
        kind = token.split(":", 1)[0]
        if kind in COND_KINDS:
            return self.index[f"{kind}:{UNKNOWN}"]
        raise InputError(f"token {token!r} is not in the model's vocabulary: the model was trained on another lattice; "
                         "train it again (`heritage generation train`)")

    def ids(self, tokens: Iterable[str]) -> list[int]:
        return [self.id(t) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] for i in ids]

    def of_kind(self, prefix: str) -> list[int]:
        """Ids of the tokens starting with `prefix` (e.g. "p:", "d:", "orn:")."""
        return [i for i, t in enumerate(self.tokens) if t.startswith(prefix)]

    @cached_property
    def repeats(self) -> dict[int, int]:
        """Repeat token id → how many cycles back it copies (empty for a vocabulary without them)."""
        return {i: int(t[len(REPEAT):]) for i, t in enumerate(self.tokens) if t.startswith(REPEAT)}

    @classmethod
    def build(cls, known: Sequence[Tradition] | None = None, *, contexts: Sequence[str] = (), repeats: bool = False) -> Vocabulary:
        """The lattice's vocabulary for these traditions (all tradition files by default) and context
        labels; with `repeats`, the repeat tokens last (so the other ids are those of a vocabulary without)."""
        ts = list(known) if known is not None else [load_tradition(t) for t in traditions()]
        cond = [f"{k}:{UNKNOWN}" for k in COND_KINDS]
        cond += [f"trad:{t.id}" for t in ts] + [f"mode:{t.id}/{m.name}" for t in ts for m in t.modes]
        cond += [f"cycle:{t.id}/{c.name}" for t in ts for c in t.cycles] + [f"ctx:{c}" for c in contexts]
        ornaments = sorted({o for t in ts for o in t.ornament_names()})
        pitches = [pitch_token(o, d) for o in OCTAVES for d in range(MAX_DEGREES)]
        return cls((PAD, BOS, EOS, BAR, REST, TIE, *cond, *pitches, *(f"orn:{o}" for o in ornaments),
                    *(f"d:{t}" for t in sorted(DURATIONS)), *(repeat_token(k) for k in range(1, REPEAT_BACK + 1) if repeats)))


def pitch_token(octave: int, degree: int) -> str:
    return f"p:{octave:+d}:{degree}"


def parse_pitch(token: str) -> tuple[int, int]:
    """(octave, degree) of a `p:` token."""
    _, octave, degree = token.split(":")
    return int(octave), int(degree)


def condition_tokens(*, tradition: str | None, mode: str | None, cycle: str | None, context: str | None) -> list[str]:
    """The four conditioning tokens (unknown ones as `?`)."""
    def tok(kind: str, value: str | None, scoped: bool) -> str:
        if value is None or (scoped and tradition is None):
            return f"{kind}:{UNKNOWN}"
        return f"{kind}:{tradition}/{value}" if scoped else f"{kind}:{value}"

    return [tok("trad", tradition, False), tok("mode", mode, True), tok("cycle", cycle, True), tok("ctx", context, False)]


def duration_tokens(ticks: int) -> list[str]:
    """`ticks` as duration tokens, longest first (greedy: every count ≥ 1 is a sum of DURATIONS)."""
    if ticks < 1:
        raise InputError(f"an event lasts at least one tick, got {ticks}")
    out = []
    for d in DURATIONS:
        while ticks >= d:
            out.append(f"d:{d}")
            ticks -= d
    return out


def repeat_token(back: int) -> str:
    return f"{REPEAT}{back}"


def to_tokens(piece: LatticePiece, *, conditioned: bool = True, repeats: bool = False) -> list[str]:
    """The piece's tokens from <bos> to <eos>; `conditioned` puts the four conditioning tokens after <bos>;
    `repeats` marks the cycles that repeat an earlier one (module docstring)."""
    out = [BOS]
    if conditioned:
        out += condition_tokens(tradition=piece.tradition, mode=piece.mode, cycle=piece.cycle, context=piece.context)
    out += body_tokens(piece, repeats=repeats)
    return [*out, EOS]


def cycles_of(tokens: Sequence[str]) -> list[list[str]]:
    """Body tokens cut at each <bar>: every cycle's tokens after its <bar>, repeat tokens left out
    (tokens before the first <bar> are dropped)."""
    out: list[list[str]] = []
    for t in tokens:
        if t == BAR:
            out.append([])
        elif out and not t.startswith(REPEAT):
            out[-1].append(t)
    return out


def repeat_back(cycles: Sequence[Any], b: int) -> int | None:
    """How many cycles back the nearest cycle equal to cycles[b] is (≤ REPEAT_BACK), or None."""
    return next((k for k in range(1, min(REPEAT_BACK, b) + 1) if cycles[b - k] == cycles[b]), None)


def mark_repeats(tokens: Sequence[str]) -> list[str]:
    """Body tokens with `rep:k` after the <bar> of every cycle whose tokens equal those of the cycle k
    back (the nearest, k ≤ REPEAT_BACK); tokens already marked are marked afresh."""
    out = [t for t in tokens if not t.startswith(REPEAT)]
    lead = out.index(BAR) if BAR in out else len(out)
    marked, cycles = out[:lead], cycles_of(out)
    for b, cycle in enumerate(cycles):
        marked.append(BAR)
        back = repeat_back(cycles, b) if cycle else None
        if back is not None:
            marked.append(repeat_token(back))
        marked += cycle
    return marked


def body_tokens(piece: LatticePiece, *, repeats: bool = False) -> list[str]:
    """The events' tokens with a <bar> before each cycle an onset reaches (no <bos>, no <eos>); with
    `repeats`, repeated cycles marked (`mark_repeats`)."""
    out: list[str] = []
    bar = -1
    for onset, e in zip(piece.onsets, piece.events, strict=True):
        while onset // piece.cycle_ticks > bar:
            out.append(BAR)
            bar += 1
        if e.kind == "note":
            out.append(pitch_token(e.octave, e.degree))
            if e.ornament is not None:
                out.append(f"orn:{e.ornament}")
        else:
            out.append(REST if e.kind == "rest" else TIE)
        out += duration_tokens(e.ticks)
    return mark_repeats(out) if repeats else out


def from_tokens(tokens: Sequence[str], *, tradition: str, cycle: str, cycle_ticks: int) -> LatticePiece:
    """Read tokens back into a piece, leniently (an unconstrained sampler may break the grammar):
    timing is the running sum of durations (`<bar>` tokens do not move time); a duration with no
    event before it lengthens the previous event; an event with no duration is dropped; an ornament
    applies to the note it follows; conditioning tokens before the body give mode and context; repeat
    tokens are passed over (the copy that follows them is read); reading stops at <eos>."""
    events: list[Event] = []
    current: Event | None = None
    mode = context = None
    started = False  # conditioning tokens count only before the body

    def close() -> None:
        nonlocal current
        if current is not None and current.ticks > 0:
            events.append(current)
        current = None

    for token in tokens:
        if token == EOS:
            break
        started = started or token == BAR or token in (REST, TIE) or token.startswith(("p:", "d:"))
        if token.startswith("p:"):
            close()
            octave, degree = parse_pitch(token)
            current = Event("note", 0, octave, degree)
        elif token in (REST, TIE):
            close()
            current = Event("rest" if token == REST else "tie", 0)
        elif token.startswith("d:"):
            ticks = int(token[2:])
            if current is not None:
                current = replace(current, ticks=current.ticks + ticks)
            elif events:
                events[-1] = replace(events[-1], ticks=events[-1].ticks + ticks)
        elif token.startswith("orn:") and current is not None and current.kind == "note":
            current = replace(current, ornament=token[4:])
        elif token.startswith(f"mode:{tradition}/") and not started:
            mode = token.split("/", 1)[1]
        elif token.startswith("ctx:") and not token.endswith(UNKNOWN) and not started:
            context = token[4:]
    close()
    return LatticePiece(tradition, cycle, cycle_ticks, tuple(events), mode=mode, context=context)


# --- Pitch and time ------------------------------------------------------------------------------


def lattice_cents(tradition: Tradition, *, octave: int, degree: int) -> float:
    """Cents above the tonic of lattice point (octave, degree). A degree index beyond the tuning's
    (a network trained on a larger tuning) folds into the periods above: degree mod n, octave + degree // n."""
    n = len(tradition.degrees)
    return tradition.degrees[degree % n].cents + (octave + degree // n) * tradition.period_cents


def timed_notes(piece: LatticePiece, tradition: Tradition) -> list[TimedNote]:
    """The sounding notes, ties merged into the note before them (a tie after a rest is silence)."""
    out: list[TimedNote] = []
    sounding = False
    for onset, e in zip(piece.onsets, piece.events, strict=True):
        if e.kind == "note":
            cents = lattice_cents(tradition, octave=e.octave, degree=e.degree)
            out.append(TimedNote(onset, e.ticks, cents, cents + e.deviation, e.ornament))
            sounding = True
        elif e.kind == "tie" and sounding and out[-1].onset + out[-1].ticks == onset:
            out[-1] = replace(out[-1], ticks=out[-1].ticks + e.ticks)
        else:
            sounding = False
    return out


def micro_notes(piece: LatticePiece, tradition: Tradition, *, bpm: float, written: bool = False, velocity: int = 80,
                ) -> list[MicroNote]:
    """The notes to render (`ml.generation.microtonal`): onsets and durations in seconds at `bpm`
    beats per minute, pitch in cents above the tradition's tonic (the lattice's, or as written)."""
    if not bpm > 0:
        raise InputError(f"bpm must be > 0, got {bpm}")
    tick_s = 60.0 / bpm / TICKS_PER_BEAT
    return [MicroNote(onset=n.onset * tick_s, duration=n.ticks * tick_s, cents=n.written_cents if written else n.cents,
                      velocity=velocity) for n in timed_notes(piece, tradition)]


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
