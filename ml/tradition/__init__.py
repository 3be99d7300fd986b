"""Tradition knowledge as data: tunings in cents, modes, intervals, cycles and ornaments.

Each tradition is one YAML file in `files/` (docs/traditions.md describes the fields and how to
add one): adding a tradition means adding a file, not code. `load_tradition(id)` reads and validates
a file (pydantic, at this edge) and returns a frozen `Tradition`, whose helpers answer what the
generator and the fidelity metrics ask of a tradition:

- `nearest_degree(cents)` / `deviations(cents)`: the canonical degree nearest to a pitch, folded
  over the tuning's period (1200 cents, or a stretched octave such as slendro's 1208), and the
  signed deviation from it in cents;
- `steps_between(a, b)` and `interval_allowed(a, b)`: melodic intervals in scale steps and cents;
- `cycle_position(onset, cycle=...)`: where an onset falls in a rhythmic cycle and whether it is strong.

Pitches are cents above the tradition's tonic degree (0 = the tonic, `tonic_hz` in Hz when rendered).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Protocol, Self, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import InputError
from core.yamlfile import read_mapping


class _Named(Protocol):
    """Anything looked up by its name (a mode, a cycle)."""

    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)

TRADITIONS_DIR = Path(__file__).parent / "files"
"""The tradition data files shipped with the repository, one `<id>.yaml` each (the folder is not called
`traditions/`: a subpackage of that name would shadow the function `traditions` for type checkers)."""

OrnamentKind = Literal["grace", "slide", "trill", "vibrato", "mordent", "turn", "tremolo", "beating", "other"]
_Ints = NDArray[np.int64]
Range = Annotated[tuple[float, float], Field(description="[low, high], low ≤ high")]


# --- The file format (pydantic: this is where files come in) ------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class SourceSpec(_Strict):
    id: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    url: str | None = None
    scala_file: str | None = Field(default=None, pattern=r"^[\w.+-]+\.scl$")
    scala_description: str | None = None


class DegreeSpec(_Strict):
    name: str = Field(min_length=1)
    cents: float = Field(ge=0)
    local_name: str | None = None
    role: Literal["core", "passing"] = "core"


class ScalaRef(_Strict):
    file: str = Field(pattern=r"^[\w.+-]+\.scl$")
    description: str = Field(min_length=1)


class TuningSpec(_Strict):
    period_cents: float = Field(default=1200.0, gt=0, le=2400)
    source: str
    scala: ScalaRef | None = None
    assumption: str = Field(min_length=1)
    degrees: tuple[DegreeSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        cents = [d.cents for d in self.degrees]
        if cents[0] != 0:
            raise ValueError(f"degrees: the first degree is the tonic and must be at 0 cents, not {cents[0]}")
        if any(b <= a for a, b in itertools.pairwise(cents)):
            raise ValueError(f"degrees: cents must rise strictly, got {cents}")
        if cents[-1] >= self.period_cents:
            raise ValueError(f"degrees: every degree must be below period_cents {self.period_cents}, got {cents[-1]}")
        _unique("degrees", [d.name for d in self.degrees])
        return self


class TonicSpec(_Strict):
    degree: str
    reference_hz: float = Field(gt=0, le=20000)
    note: str = Field(min_length=1)


class ModeSpec(_Strict):
    name: str = Field(min_length=1)
    degrees: tuple[str, ...] = Field(min_length=1)
    final: str | None = None
    important: tuple[str, ...] = ()
    local_name: str | None = None
    notes: str | None = None


class PartSpec(_Strict):
    name: str = Field(min_length=1)
    degrees: tuple[str, ...] = Field(min_length=1)
    notes: str | None = None


class IntervalSpec(_Strict):
    max_leap_steps: int = Field(ge=0)
    max_leap_cents: float = Field(gt=0)
    allowed_steps: tuple[int, ...] | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _steps(self) -> Self:
        if self.allowed_steps is not None and any(not 0 <= s <= self.max_leap_steps for s in self.allowed_steps):
            raise ValueError(f"allowed_steps must lie in 0..max_leap_steps ({self.max_leap_steps}), got {list(self.allowed_steps)}")
        return self


class CycleSpec(_Strict):
    name: str = Field(min_length=1)
    beats: int = Field(ge=1, le=1024)
    beat_unit: str = Field(min_length=1)
    strong_positions: tuple[int, ...]
    strokes: dict[str, tuple[int, ...]] = Field(default_factory=dict)
    local_name: str | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _positions(self) -> Self:
        for label, positions in [("strong_positions", self.strong_positions), *self.strokes.items()]:
            if any(not 1 <= p <= self.beats for p in positions):
                raise ValueError(f"{label}: positions are 1-based and must lie in 1..{self.beats}, got {list(positions)}")
        return self


class OrnamentSpec(_Strict):
    name: str = Field(min_length=1)
    kind: OrnamentKind
    local_name: str | None = None
    rate_hz: Range | None = None
    depth_cents: Range | None = None
    duration_ms: Range | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _ranges(self) -> Self:
        for label, span in [("rate_hz", self.rate_hz), ("depth_cents", self.depth_cents), ("duration_ms", self.duration_ms)]:
            if span is not None and not 0 <= span[0] <= span[1]:
                raise ValueError(f"{label} must be [low, high] with 0 ≤ low ≤ high, got {list(span)}")
        return self


class FormSpec(_Strict):
    name: str = Field(min_length=1)
    labels: str = Field(min_length=1, description="One letter per section, e.g. AABBCC.")
    local_name: str | None = None
    notes: str | None = None


class TraditionFile(_Strict):
    """The schema of a `files/<id>.yaml` file (docs/traditions.md)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    region: str = Field(min_length=1)
    corpus: str | None = None
    sources: tuple[SourceSpec, ...] = Field(min_length=1)
    tonic: TonicSpec
    tuning: TuningSpec
    modes: tuple[ModeSpec, ...] = Field(min_length=1)
    parts: tuple[PartSpec, ...] = ()
    intervals: IntervalSpec
    cycles: tuple[CycleSpec, ...] = Field(min_length=1)
    ornaments: tuple[OrnamentSpec, ...] = Field(min_length=1)
    forms: tuple[FormSpec, ...] = ()
    assumptions: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Self:
        _unique("sources", [s.id for s in self.sources])
        _unique("modes", [m.name for m in self.modes])
        _unique("cycles", [c.name for c in self.cycles])
        _unique("ornaments", [o.name for o in self.ornaments])
        if self.tuning.source not in {s.id for s in self.sources}:
            raise ValueError(f"tuning.source {self.tuning.source!r} is not the id of an entry in sources")
        names = [d.name for d in self.tuning.degrees]
        if self.tonic.degree != names[0]:
            raise ValueError(f"tonic.degree must be the 0-cent degree {names[0]!r}, got {self.tonic.degree!r}")
        named = [("modes", m.name, {*m.degrees, *m.important, *([m.final] if m.final else [])}) for m in self.modes]
        named += [("parts", p.name, set(p.degrees)) for p in self.parts]
        for group, name, wanted in named:
            unknown = sorted(wanted - set(names))
            if unknown:
                raise ValueError(f"{group} {name!r} names degrees {unknown} that are not in tuning.degrees {names}")
        for mode in self.modes:
            if mode.final is not None and mode.final not in mode.degrees:
                raise ValueError(f"modes {mode.name!r}: final {mode.final!r} is not one of its degrees")
        return self


def _unique(field: str, names: Sequence[str]) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{field}: names must be unique, {duplicates} repeated")


# --- What the rest of the code uses (frozen dataclasses) ----------------------------------------


@dataclass(frozen=True)
class Degree:
    """A canonical degree: name, cents above the tonic (0 ≤ cents < period), role core or passing."""

    name: str
    cents: float
    role: str = "core"
    local_name: str | None = None


@dataclass(frozen=True)
class Mode:
    """A named subset of degrees (listed from the final upwards), with its final and important tones."""

    name: str
    degrees: tuple[str, ...]
    final: str | None = None
    important: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cycle:
    """A rhythmic cycle of `beats` beats; positions are 1-based (a gamelan gong falls on position `beats`)."""

    name: str
    beats: int
    beat_unit: str
    strong_positions: frozenset[int]
    strokes: tuple[tuple[str, tuple[int, ...]], ...] = ()

    def strokes_at(self, beat: int) -> tuple[str, ...]:
        """Names of the structural strokes (gong, kenong, dum, ban …) sounding on 1-based `beat`."""
        return tuple(name for name, positions in self.strokes if beat in positions)


@dataclass(frozen=True)
class Ornament:
    """An ornament of the inventory; ranges are (low, high) or None where the file gives none."""

    name: str
    kind: str
    rate_hz: tuple[float, float] | None = None
    depth_cents: tuple[float, float] | None = None
    duration_ms: tuple[float, float] | None = None


@dataclass(frozen=True)
class NearestDegree:
    """The canonical degree nearest a pitch: `degree`, its `octave` (periods above the tonic's), its
    pitch `canonical_cents` = degree.cents + octave · period, and `deviation_cents` = pitch − canonical."""

    degree: Degree
    octave: int
    canonical_cents: float
    deviation_cents: float


@dataclass(frozen=True)
class CyclePosition:
    """Where an onset falls: `cycle_index` (0-based count of whole cycles before it), 1-based `beat`,
    `offset` within the beat (0 ≤ offset < 1, in beats), `strong` (on a strong beat, offset 0) and the
    structural strokes sounding with it (none off the beat)."""

    cycle_index: int
    beat: int
    offset: float
    strong: bool
    strokes: tuple[str, ...]


@dataclass(frozen=True)
class Tradition:
    """One tradition's knowledge, as loaded from its data file. See the module docstring."""

    id: str
    name: str
    tonic_hz: float
    period_cents: float
    degrees: tuple[Degree, ...]
    modes: tuple[Mode, ...]
    cycles: tuple[Cycle, ...]
    ornaments: tuple[Ornament, ...]
    max_leap_steps: int
    max_leap_cents: float
    allowed_steps: frozenset[int] | None
    forms: tuple[tuple[str, str], ...]
    sources: tuple[str, ...]
    path: Path

    def mode(self, name: str) -> Mode:
        """The mode called `name`; InputError listing the modes otherwise."""
        return self._named(self.modes, "mode", name)

    def cycle(self, name: str) -> Cycle:
        """The cycle called `name`; InputError listing the cycles otherwise."""
        return self._named(self.cycles, "cycle", name)

    def _named(self, items: tuple[N, ...], kind: str, name: str) -> N:
        for item in items:
            if item.name == name:
                return item
        raise InputError(f"tradition {self.id!r} has no {kind} {name!r}: use one of {[i.name for i in items]}")

    def ornament_names(self) -> tuple[str, ...]:
        """The ornament inventory's names, in file order."""
        return tuple(o.name for o in self.ornaments)

    def scale_degrees(self, mode: str | None = None) -> tuple[Degree, ...]:
        """The degrees of `mode` (all tuning degrees if None), sorted by cents."""
        if mode is None:
            return self.degrees
        wanted = set(self.mode(mode).degrees)
        return tuple(d for d in self.degrees if d.name in wanted)

    def scale_cents(self, mode: str | None = None, *, octaves: int = 1) -> NDArray[np.float64]:
        """An exact ascending scale in cents above the tonic, shape (n·octaves + 1,): all tuning degrees
        from the tonic (mode None), or the degrees of `mode` from its final (its lowest degree if it
        names none), over `octaves` periods and closed by the starting degree `octaves` periods up."""
        if octaves < 1:
            raise InputError(f"octaves must be at least 1, got {octaves}")
        degrees = self.scale_degrees(mode)
        final = self.mode(mode).final if mode is not None else None
        start = next((i for i, d in enumerate(degrees) if d.name == final), 0)
        cents = np.array([d.cents for d in degrees])
        base = np.concatenate([cents[start:], cents[:start] + self.period_cents])  # (n,) rising from the start degree
        rows = [base + k * self.period_cents for k in range(octaves)]
        return np.concatenate([*rows, base[:1] + octaves * self.period_cents])

    def nearest_degree(self, cents: float, *, mode: str | None = None) -> NearestDegree:
        """The canonical degree (of `mode`, or of the whole tuning) nearest a pitch in cents above the
        tonic, folded over the period; ties go to the lower degree."""
        index, octave, deviation = self._nearest(np.asarray([cents], dtype=np.float64), mode)
        pool = self.scale_degrees(mode)
        degree = pool[int(index[0])]
        return NearestDegree(degree, int(octave[0]), float(cents - deviation[0]), float(deviation[0]))

    def deviations(self, cents: ArrayLike, *, mode: str | None = None) -> NDArray[np.float64]:
        """Signed deviation in cents of each pitch (cents above the tonic, shape (n,)) from its nearest
        canonical degree; shape (n,), each within ±period/2."""
        return self._nearest(_finite(cents, "pitches"), mode)[2]

    def steps_between(self, a: float, b: float, *, mode: str | None = None) -> int:
        """Scale steps from pitch a to pitch b (cents above the tonic), each snapped to its nearest
        degree of `mode` (all degrees if None); positive upwards, an octave is len(degrees) steps."""
        index, octave, _ = self._nearest(np.asarray([a, b], dtype=np.float64), mode)
        n = len(self.scale_degrees(mode))
        lattice = octave * n + index
        return int(lattice[1] - lattice[0])

    def interval_allowed(self, a: float, b: float, *, mode: str | None = None) -> bool:
        """Whether the melodic interval a → b is allowed: both pitches snapped to their nearest degrees,
        at most max_leap_steps steps and max_leap_cents cents apart, and a step count in allowed_steps
        when the file gives that list."""
        steps = abs(self.steps_between(a, b, mode=mode))
        span = abs(self.nearest_degree(b, mode=mode).canonical_cents - self.nearest_degree(a, mode=mode).canonical_cents)
        if steps > self.max_leap_steps or span > self.max_leap_cents + 1e-9:
            return False
        return self.allowed_steps is None or steps in self.allowed_steps

    def cycle_position(self, onset_beats: float, *, cycle: str) -> CyclePosition:
        """Where an onset (in beats of the cycle's unit, 0 = the first beat of the first cycle) falls."""
        if not math.isfinite(onset_beats) or onset_beats < 0:
            raise InputError(f"onset_beats must be a finite number ≥ 0, got {onset_beats}")
        c = self.cycle(cycle)
        index, within = divmod(onset_beats, c.beats)
        whole = math.floor(within + 1e-9)
        offset = max(0.0, within - whole)
        if offset < 1e-9:
            offset = 0.0
        beat = whole % c.beats + 1
        on_beat = offset == 0.0
        return CyclePosition(int(index), beat, offset, on_beat and beat in c.strong_positions, c.strokes_at(beat) if on_beat else ())

    def _nearest(self, cents: NDArray[np.float64], mode: str | None) -> tuple[_Ints, _Ints, NDArray[np.float64]]:
        """(index into scale_degrees(mode), octave, deviation) of each pitch; shapes (n,)."""
        grid = np.array([d.cents for d in self.scale_degrees(mode)])  # (k,)
        period = self.period_cents
        octave = np.floor(cents / period)  # (n,)
        folded = cents - octave * period  # (n,) in [0, period)
        candidates = np.concatenate([grid - period, grid, grid + period])  # (3k,)
        diff = folded[:, None] - candidates[None, :]  # (n, 3k)
        best = np.argmin(np.abs(diff), axis=1)  # (n,)
        block = best // grid.size - 1  # -1, 0, +1: the nearest lies in the octave below, the same, above
        deviation = diff[np.arange(cents.size), best]
        return (best % grid.size).astype(np.int64), (octave + block).astype(np.int64), deviation.astype(np.float64)


# --- Loading -------------------------------------------------------------------------------------


def hz_to_cents(hz: ArrayLike, *, tonic_hz: float) -> NDArray[np.float64]:
    """Cents above `tonic_hz` of frequencies in Hz (NaN stays NaN); same shape as `hz`."""
    return 1200.0 * np.log2(np.asarray(hz, dtype=np.float64) / tonic_hz)


def traditions(*, directory: Path = TRADITIONS_DIR) -> list[str]:
    """The ids of the tradition files in `directory` (`<id>.yaml`), sorted."""
    if not directory.is_dir():
        raise InputError(f"tradition directory {directory} does not exist: pass the folder holding the <id>.yaml files")
    return sorted(p.stem for p in directory.glob("*.yaml"))


def read_tradition_file(path: Path) -> TraditionFile:
    """Read and validate one tradition file. InputError naming the file and the failing field."""
    raw = read_mapping(path, what="tradition file", fields="id, name, tuning …")
    try:
        spec = TraditionFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"field {_location(e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise InputError(f"tradition file {path} is invalid - {problems}. Fix the file (fields: docs/traditions.md)") from exc
    if spec.id != path.stem:
        raise InputError(f"tradition file {path} declares id {spec.id!r}: the id must equal the file name ({path.stem!r}); rename one")
    return spec


def load_tradition(tradition_id: str, *, directory: Path = TRADITIONS_DIR) -> Tradition:
    """The tradition `tradition_id` from `directory`/<id>.yaml. InputError listing the known ids when
    there is no such file, or naming the field when the file is invalid."""
    known = traditions(directory=directory)
    if tradition_id not in known:
        raise InputError(f"unknown tradition {tradition_id!r}: known traditions are {', '.join(known) or '(none)'} in {directory}")
    path = directory / f"{tradition_id}.yaml"
    return _from_spec(read_tradition_file(path), path)


def _from_spec(spec: TraditionFile, path: Path) -> Tradition:
    return Tradition(
        id=spec.id,
        name=spec.name,
        tonic_hz=spec.tonic.reference_hz,
        period_cents=spec.tuning.period_cents,
        degrees=tuple(Degree(d.name, d.cents, d.role, d.local_name) for d in spec.tuning.degrees),
        modes=tuple(Mode(m.name, m.degrees, m.final, m.important) for m in spec.modes),
        cycles=tuple(
            Cycle(c.name, c.beats, c.beat_unit, frozenset(c.strong_positions), tuple(sorted(c.strokes.items()))) for c in spec.cycles
        ),
        ornaments=tuple(Ornament(o.name, o.kind, o.rate_hz, o.depth_cents, o.duration_ms) for o in spec.ornaments),
        max_leap_steps=spec.intervals.max_leap_steps,
        max_leap_cents=spec.intervals.max_leap_cents,
        allowed_steps=None if spec.intervals.allowed_steps is None else frozenset(spec.intervals.allowed_steps),
        forms=tuple((f.name, f.labels) for f in spec.forms),
        sources=tuple(s.citation for s in spec.sources),
        path=path,
    )


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _finite(values: ArrayLike, what: str) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(array)):
        raise InputError(f"{what} must be finite numbers (cents above the tonic); drop NaN/inf (unvoiced frames) first")
    return array
