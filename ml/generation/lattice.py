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

Scores, ABC and the Essen corpus are put on the lattice by `ml.generation.encoding`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Literal

from core.errors import InputError
from ml.generation.microtonal import MicroNote
from ml.tradition import Tradition, load_tradition, traditions

TICKS_PER_BEAT = 8
"""Time grid: ticks per beat of the cycle's beat unit (a 32nd note when the beat is a quarter)."""
DURATIONS = (32, 24, 16, 12, 8, 6, 4, 3, 2, 1)
"""Duration tokens in ticks, longest first: 4, 3, 2, 1½, 1, ¾, ½, ⅜, ¼, ⅛ beats."""
OCTAVES = (-2, -1, 0, 1, 2)
"""Octaves (periods) of the pitch lattice relative to the tonic's."""
MAX_DEGREES = 12
"""Degrees per period the pitch lattice holds."""
HAN = "chinese_pentatonic"

PAD, BOS, EOS, BAR, REST, TIE, UNKNOWN = "<pad>", "<bos>", "<eos>", "<bar>", "rest", "tie", "?"
COND_KINDS = ("trad", "mode", "cycle", "ctx")
"""The conditioning tokens, in the order a sequence carries them after <bos>."""
REPEAT = "rep:"
"""Prefix of the repeat tokens: `rep:k` right after a `<bar>` says the cycle repeats the one k cycles back."""
REPEAT_BACK = 8
"""How far back a repeat token reaches (cycles): in the Essen Han songs 18 % of cycles repeat one of
the 8 before them exactly (k = 4 and 8 most often: phrase-long returns)."""
BEAT_UNITS = {"whole note": 4.0, "half note": 2.0, "quarter note": 1.0, "eighth note": 0.5, "sixteenth note": 0.25}
"""Beat units of a cycle that notated metres map to (quarter notes per beat)."""

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
