"""A small ABC reader of our own: a tune's ABC text → its melody (notes with pitch, onset and length
in quarter notes, bars, metre, key), about 0.5 ms a tune where music21's parse alone takes 18–36 ms
(benchmarks/classification_symbolic.py). The symbolic classifier's features, the generation
lattice and the multimodal views all read melodies through it.

It follows ABC 2.1: an accidental carries to the end of the bar for that letter in every octave
(`%%propagate-accidentals pitch`, the standard's default). music21 only does so for text that
declares `%abc-2.x`; without it (as in its bundled files) it reads `_B B` as B♭ B♮.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import InputError

_STEP = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_FIFTHS = {"C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F": -1}
_MODE_FIFTHS = {"": 0, "maj": 0, "ion": 0, "m": -3, "min": -3, "aeo": -3, "mix": -1, "dor": -2, "phr": -4, "lyd": 1, "loc": -5}
_SHARP_ORDER, _FLAT_ORDER = "FCGDAEB", "BEADGCF"
_ALTER = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
_FIELD_LINE = re.compile(r"^([A-Za-z]):(?![|:])(.*)$")
_KEY = re.compile(r"^\s*([A-Ga-g])([#b]?)\s*([A-Za-z]*)((?:\s+(?:\^\^|\^|__|_|=)[A-Ga-g])*)")
_TOKEN = re.compile(
    r"""(?P<string>"[^"]*")                                    # chord symbols, annotations, fingerings
      | (?P<deco>![^!]*!|\+[^+\s]*\+)                          # decorations
      | (?P<grace>\{[^}]*\})                                   # grace notes: left out (no duration)
      | (?P<field>\[[A-Za-z]:[^\]]*\])                         # inline field: [K:D], [M:3/4], [L:1/8]
      | (?P<bar>::|:*\[?\|+\]?:*\d*)                           # |  ||  |]  [|  |:  :|  ::  |1  :|2
      | (?P<ending>\[\d)                                       # variant ending [1 [2
      | (?P<chord>\[(?P<cbody>[^\]\[|"]*)\](?P<clen>\d*/*\d*))  # chord: the top note sounds the melody
      | (?P<tuplet>\((?P<p>\d)(?::(?P<q>\d*))?(?::(?P<r>\d*))?)  # (3  (3:2:3
      | (?P<note>(?P<acc>\^\^|\^|__|_|=)?(?P<letter>[A-Ga-g])(?P<oct>[',]*)(?P<len>\d*/*\d*))
      | (?P<rest>[zx](?P<rlen>\d*/*\d*))
      | (?P<tie>-)
      | (?P<broken>[<>]+)""",
    re.X,
)
_CHORD_NOTE = re.compile(r"(\^\^|\^|__|_|=)?([A-Ga-g])([',]*)(\d*/*\d*)")


@dataclass(frozen=True, slots=True)
class MelodyNote:
    """One notated note or rest, as written (ties not merged, repeats not expanded).

    pitch: MIDI number (middle C, ABC `C`, is 60), None for a rest.
    quarter_length: duration in quarter notes (L: unit × the note's length, broken rhythm and
        tuplets applied).
    tied: tied to the next note (`-`).
    """

    pitch: int | None
    quarter_length: float
    tied: bool = False


@dataclass(frozen=True)
class Melody:
    """The sounding line of one ABC tune.

    notes: grace notes and `Z` multi-bar rests left out; a chord is its highest note.
    tonic: pitch class (0 = C … 11 = B) of the K: field's tonic (K:Ador → 9); 0 without a readable K:.
    metre: the M: field normalised ("4/4" for C, "2/2" for C|, "free" for none/FREI/absent).
    bars: barlines that close a bar holding notes or rests, plus one for unclosed music at the end.
    """

    notes: tuple[MelodyNote, ...]
    tonic: int
    metre: str
    bars: int


@dataclass
class _State:
    key: dict[str, int]  # letter → alteration from the key signature
    unit: float  # L: in quarter notes
    metre: str
    bar: dict[str, int]  # letter → accidental written earlier in this bar
    bars: int = 0  # closed bars holding notes or rests
    open_bar: bool = False  # notes or rests since the last barline
    tuplet_left: int = 0  # notes still in the current tuplet
    tuplet_factor: float = 1.0  # q/p of the current tuplet
    broken_next: float = 1.0  # factor a broken rhythm (a>b) leaves for the next note


def read_melody(abc: str) -> Melody:
    """Read the melody of one ABC tune (its text from `X:`; the header up to the first K: line).

    Pitches follow ABC 2.1 (accidentals carry to the end of the bar for that letter in all
    octaves); durations are in quarter notes. Raises InputError when the text has no K: line or
    no notes.
    """
    lines = abc.splitlines()
    head = next((i for i, line in enumerate(lines) if line.startswith("K:")), None)
    if head is None:
        raise InputError("ABC tune has no K: (key) line, which ends the header: add one, e.g. 'K:C'")
    fields: dict[str, str] = {}
    for line in lines[:head]:
        m = _FIELD_LINE.match(line)
        if m and m.group(1) in "LM":
            fields[m.group(1)] = m.group(2).strip()
    metre = _metre(fields.get("M", ""))
    unit = _unit(fields.get("L"), metre)
    key, tonic = _key(lines[head][2:])
    state = _State(key=key, unit=unit, metre=metre, bar={})
    notes: list[MelodyNote] = []
    for line in lines[head + 1:]:
        line = line.split("%", 1)[0]
        m = _FIELD_LINE.match(line)
        if m:
            _field(state, m.group(1), m.group(2))
            continue
        _read_line(line, state, notes)
    if not any(n.pitch is not None for n in notes):
        raise InputError("ABC tune has no notes after its K: line: check that the music follows the header")
    return Melody(notes=tuple(notes), tonic=tonic, metre=metre, bars=state.bars + state.open_bar)


def _read_line(line: str, state: _State, notes: list[MelodyNote]) -> None:
    for m in _TOKEN.finditer(line):
        kind = m.lastgroup
        if kind == "bar":
            state.bar.clear()
            state.bars += state.open_bar
            state.open_bar = False
        elif kind == "field":
            _field(state, m.group(0)[1], m.group(0)[3:-1])
        elif kind in ("note", "rest", "chord"):
            if kind == "note":
                pitch: int | None = _pitch(m.group("acc"), m.group("letter"), m.group("oct"), state)
                length = _length(m.group("len"))
            elif kind == "rest":
                pitch, length = None, _length(m.group("rlen"))
            else:
                inner = _CHORD_NOTE.findall(m.group("cbody"))
                if not inner:
                    continue
                pitch = max(_pitch(a, letter, o, state) for a, letter, o, _ in inner)
                length = _length(inner[0][3]) * _length(m.group("clen"))
            ql = length * state.unit * state.broken_next
            state.broken_next = 1.0
            if state.tuplet_left:
                ql *= state.tuplet_factor
                state.tuplet_left -= 1
            notes.append(MelodyNote(pitch, ql))
            state.open_bar = True
        elif kind == "tie" and notes:
            notes[-1] = MelodyNote(notes[-1].pitch, notes[-1].quarter_length, tied=True)
        elif kind == "broken" and notes:
            n = len(m.group(0))
            short = 0.5**n
            first, state.broken_next = (2 - short, short) if m.group(0)[0] == ">" else (short, 2 - short)
            last = notes[-1]
            notes[-1] = MelodyNote(last.pitch, last.quarter_length * first, last.tied)
        elif kind == "tuplet":
            p = int(m.group("p"))
            q = int(m.group("q")) if m.group("q") else _tuplet_q(p, state.metre)
            state.tuplet_left = int(m.group("r")) if m.group("r") else p
            state.tuplet_factor = q / p


def _pitch(acc: str | None, letter: str, octave: str, state: _State) -> int:
    step = letter.upper()
    if acc:
        alter = state.bar[step] = _ALTER[acc]
    else:
        alter = state.bar.get(step, state.key.get(step, 0))
    base = 60 if letter.isupper() else 72
    return base + _STEP[step] + alter + 12 * (octave.count("'") - octave.count(","))


def _length(text: str) -> float:
    """ABC length multiplier: '' → 1, '3' → 3, '/' → 1/2, '//' → 1/4, '3/2' → 1.5, '/4' → 1/4."""
    if not text:
        return 1.0
    num, _, rest = text.partition("/")
    numerator = float(num) if num else 1.0
    if "/" not in text:
        return numerator
    den_digits = rest.lstrip("/")
    slashes = text.count("/")
    denominator = float(den_digits) * 2 ** (slashes - 1) if den_digits else 2.0**slashes
    return numerator / denominator


def _tuplet_q(p: int, metre: str) -> int:
    if p in (2, 4, 8):
        return 3
    if p in (3, 6):
        return 2
    num = int(metre.split("/")[0]) if "/" in metre else 4
    return 3 if num % 3 == 0 and num > 3 else 2  # 5, 7, 9: n is 3 in compound metre, else 2


def _field(state: _State, name: str, value: str) -> None:
    if name == "K":
        state.key, _ = _key(value)
    elif name == "L":
        state.unit = _unit(value, state.metre)
    elif name == "M":
        state.metre = _metre(value)


def _metre(value: str) -> str:
    value = value.strip()
    if value == "C":
        return "4/4"
    if value == "C|":
        return "2/2"
    m = re.fullmatch(r"(\d+)/(\d+)", value)
    return f"{int(m.group(1))}/{int(m.group(2))}" if m else "free"


def _unit(value: str | None, metre: str) -> float:
    """L: in quarter notes; ABC's default without L: is 1/16 below a 3/4 metre, else 1/8."""
    m = re.fullmatch(r"\s*(\d+)/(\d+)\s*", value or "")
    if m and int(m.group(2)):
        return 4 * int(m.group(1)) / int(m.group(2))
    if metre != "free":
        num, den = (int(x) for x in metre.split("/"))
        if den and num / den < 0.75:
            return 0.25
    return 0.5


def _key(value: str) -> tuple[dict[str, int], int]:
    """Key signature (letter → alteration) and tonic pitch class of a K: value such as 'Ador' or 'Bb'."""
    m = _KEY.match(value)
    if not m:
        return {}, 0
    letter, acc, mode, extra = m.groups()
    tonic_fifths = _FIFTHS[letter.upper()] + {"#": 7, "b": -7, "": 0}[acc]
    fifths = tonic_fifths + _MODE_FIFTHS.get(mode.lower()[:3], 0)
    signature = {s: 1 for s in _SHARP_ORDER[:max(0, fifths)]} | {f: -1 for f in _FLAT_ORDER[:max(0, -fifths)]}
    for a, note_letter in re.findall(r"(\^\^|\^|__|_|=)([A-Ga-g])", extra):
        signature[note_letter.upper()] = _ALTER[a]
    tonic = (_STEP[letter.upper()] + {"#": 1, "b": -1, "": 0}[acc]) % 12
    return signature, tonic
