"""The OMR token grammar's pieces and its vocabulary (the grammar itself: `ml.omr.data`'s docstring):
printed types, dots, barlines, clefs, metres, octaves, the CTC blank, key-signature tokens, and
`VOCABULARY`, the fixed token ↔ id map the readers are trained and decoded with. Light on purpose:
the models and the transcriber import it without the engraving stack (music21, verovio)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from core.errors import InputError

DURATION_TYPES = ("breve", "whole", "half", "quarter", "eighth", "16th", "32nd", "64th")
"""Printed note and rest types, longest first."""
DOTS = ("", "-dot", "-dotdot")
BARLINES = ("bar", "bar-double", "bar-final", "bar-repeat-start", "bar-repeat-end", "bar-repeat-both")
CLEFS = ("clef-G2", "clef-G1", "clef-G2-8vb", "clef-G2-8va", "clef-F4", "clef-F3", "clef-F4-8vb", "clef-C1", "clef-C2",
         "clef-C3", "clef-C4", "clef-C5")
TIMES = ("time-C", "time-C|", "time-2/2", "time-3/2", "time-4/2", "time-6/2", "time-1/4", "time-2/4", "time-3/4", "time-4/4",
         "time-5/4", "time-6/4", "time-7/4", "time-8/4", "time-9/4", "time-12/4", "time-2/8", "time-3/8", "time-4/8", "time-5/8",
         "time-6/8", "time-7/8", "time-8/8", "time-9/8", "time-10/8", "time-12/8", "time-3/16", "time-6/16", "time-9/16")
OCTAVES = range(2, 7)
"""Octaves of the note tokens in VOCABULARY: C2 (two ledger lines below the bass staff) to B6."""
BLANK = "<blank>"

STEPS = "CDEFGAB"
ALTER_TEXT = {-2: "bb", -1: "b", 0: "", 1: "#", 2: "##"}
SHARP_ORDER = "FCGDAEB"


def key_token(sharps: int) -> str:
    return f"key{sharps:+d}" if sharps else "key0"


def key_alter(sharps: int, step: str) -> int:
    if sharps > 0:
        return 1 if step in SHARP_ORDER[:sharps] else 0
    return -1 if step in SHARP_ORDER[::-1][:-sharps] else 0


@dataclass(frozen=True)
class Vocabulary:
    """Token ↔ integer id, with the CTC blank at id 0."""

    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.tokens or self.tokens[0] != BLANK or len(set(self.tokens)) != len(self.tokens):
            raise InputError(f"a vocabulary is {BLANK!r} followed by distinct tokens: build one with build_vocabulary()")

    @cached_property
    def ids(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of `tokens` (never 0, the blank)."""
        ids = self.ids
        unknown = sorted({t for t in tokens if t not in ids or t == BLANK})
        if unknown:
            raise InputError(f"tokens {unknown[:5]} are not in the vocabulary: add them with build_vocabulary(extra=...)")
        return [ids[t] for t in tokens]

    def decode(self, ids: Iterable[int], *, ctc: bool = False) -> list[str]:
        """Tokens of `ids`; with `ctc`, a CTC path: repeats merged, then blanks dropped."""
        out: list[str] = []
        previous = -1
        for i in ids:
            if not 0 <= i < len(self.tokens):
                raise InputError(f"id {i} is outside the vocabulary (0–{len(self.tokens) - 1}): "
                                 "decode with the vocabulary that encoded it")
            if ctc and (i == previous or i == 0):
                previous = i
                continue
            previous = i
            out.append(self.tokens[i])
        return out


def build_vocabulary(extra: Iterable[str] = ()) -> Vocabulary:
    """The blank, then the fixed tokens (clefs, keys −7…+7, common metres, notes in OCTAVES with
    0–2 accidentals in every type with 0–2 dots, rests, tuplets 2–9, tie, barlines), then `extra`
    tokens not among them, sorted. The fixed part never changes order, so ids stay stable."""
    durations = [t + d for t in DURATION_TYPES for d in DOTS]
    fixed = [*CLEFS, *(f"key{n:+d}" if n else "key0" for n in range(-7, 8)), *TIMES,
             *(f"note-{s}{a}{o}-{d}" for o in OCTAVES for s in STEPS for a in ALTER_TEXT.values() for d in durations),
             *(f"rest-{d}" for d in durations), "tie", *(f"tuplet-{n}" for n in range(2, 10)), *BARLINES]
    known = set(fixed)
    return Vocabulary((BLANK, *fixed, *sorted({t for t in extra if t not in known and t != BLANK})))


VOCABULARY = build_vocabulary()
"""The fixed vocabulary (about 4,300 tokens); `build_dataset` keeps only lines it can encode."""
