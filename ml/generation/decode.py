"""Sampling lattice tokens from the network, with the tradition's constraints as masks on the logits.

`generate` samples one token at a time (temperature, optional top-k, a seeded torch.Generator: the
same inputs and seed give the same piece), on one thread: a step is a few tiny matrix products, for
which intra-op threads cost more than they give (on two busy cores a step took 40× longer with two).
With `Constraints`, each step's logits are masked so that only tokens the tradition allows can be drawn:

- **tuning**: pitch tokens only on the degrees of the mode (all the tuning's degrees without a
  mode; passing degrees with `passing=True`), within the lattice's octaves;
- **intervals**: a pitch whose melodic interval from the previous sounding note (rests skipped) is
  not `Tradition.interval_allowed` (max leap in steps and cents, allowed steps) is masked;
- **cycles**: a duration that would carry an event across the next cycle boundary is masked;
  `<bar>` is allowed only at a boundary and is then the only choice; the piece has exactly
  `bars` cycles and ends on a boundary (`<eos>` is masked until then and then forced); a tie
  only opens a cycle and only after a sounding note;
- **cadence** (`cadence=True` and a mode with a final): the piece ends on the mode's final, the
  degree the mode is named after: a duration that would end the piece is masked while the last
  sounding note is another degree, unless no other duration fits (then the piece ends where it must),
  and an event starting in the piece's last beat is the final (or a rest after it) where the interval
  from the last note allows one;
- **ornaments**: an ornament token not in the tradition's inventory is masked, and so is any
  ornament that would lift the running rate (ornaments per note so far, this note included) above
  `ornament_rate`'s maximum. Below the minimum nothing is forced: a piece may end with fewer
  ornaments than the tradition's pieces show (the report gives each piece's rate).

With `SampleConfig.mask_strength` finite, the tuning and interval masks become soft: a pitch they
forbid is not removed but its logit is lowered by `mask_strength` (the grammar, cycle, cadence and
ornament masks stay hard); infinity (the default) is the hard mask above. `SampleConfig.ornament_bias`
is added to every ornament token's logit before masking (0: the network's own preference).

- **repeats** (a network whose vocabulary has repeat tokens): `rep:k` may open a cycle when there
  is a cycle k back and its tokens, fed one by one, pass every mask above here (a copy the masks
  forbid — a leap from the last note, a cadence the last cycle owes — is not offered). When the
  network draws it, the decoder writes that cycle's tokens after it; the network chose *that* the
  song returns, the copy is exact. `SampleConfig.repeats=False` never draws one.

The grammar (a pitch, rest or tie, then its ornament, then one or more durations) is part of the
cycle mask. Without constraints (`constraints=None`: the unconditioned baseline) nothing is masked;
sampling stops at `<eos>`, once the durations reach the target length, or at `max_tokens`, and
`lattice.from_tokens` reads whatever came out.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import torch

from core.errors import InputError, ModelError
from ml.generation.lattice import (
    BAR,
    BOS,
    COND_KINDS,
    EOS,
    MAX_DEGREES,
    OCTAVES,
    REPEAT,
    REST,
    TICKS_PER_BEAT,
    TIE,
    LatticePiece,
    Vocabulary,
    from_tokens,
    lattice_cents,
    parse_pitch,
)
from ml.generation.model import LatticeGpt
from ml.tradition import Tradition


@dataclass(frozen=True)
class Constraints:
    """The masks' settings: the tradition, its mode (None: all degrees) and cycle, the number of cycles
    the piece has, which masks are on, and the (min, max) ornaments per note (None: no rate mask)."""

    tradition: Tradition
    cycle: str
    bars: int
    mode: str | None = None
    tuning: bool = True
    passing: bool = False
    intervals: bool = True
    ornament_rate: tuple[float, float] | None = (0.0, 0.0)
    cadence: bool = True

    def __post_init__(self) -> None:
        if self.bars < 1:
            raise InputError(f"a piece has at least one cycle, got bars={self.bars}")
        self.tradition.cycle(self.cycle)
        if self.mode is not None:
            self.tradition.mode(self.mode)

    @property
    def cycle_ticks(self) -> int:
        return self.tradition.cycle(self.cycle).beats * TICKS_PER_BEAT

    def describe(self) -> dict[str, object]:
        """Plain values for a manifest or report."""
        return {"tradition": self.tradition.id, "mode": self.mode, "cycle": self.cycle, "bars": self.bars, "tuning": self.tuning,
                "passing_degrees": self.passing, "intervals": self.intervals, "cycle_boundaries": True,
                "ornament_rate": list(self.ornament_rate) if self.ornament_rate else None,
                "cadence": self.final if self.cadence else None}

    @property
    def final(self) -> str | None:
        """The degree the piece must end on: the mode's final (None without a mode or a final)."""
        return self.tradition.mode(self.mode).final if self.mode is not None else None


@dataclass(frozen=True)
class SampleConfig:
    """Decoding weights: temperature, top-k (None: all tokens), the soft mask's strength in logits
    (math.inf: the hard tuning and interval masks), a bias on ornament tokens' logits, and whether
    the network's repeat tokens may be drawn."""

    temperature: float = 1.0
    top_k: int | None = None
    max_tokens: int = 4096
    mask_strength: float = math.inf
    ornament_bias: float = 0.0
    repeats: bool = True


@dataclass(frozen=True)
class Generated:
    """A sampled piece: all its tokens (prefix included), the piece read from them, how many ticks
    of it the prompt gave (0 without one), and whether `max_tokens` cut it short."""

    tokens: tuple[str, ...]
    piece: LatticePiece
    prompt_ticks: int
    truncated: bool


def generate(net: LatticeGpt, vocab: Vocabulary, *, prefix: Sequence[str], tradition: Tradition, cycle: str, target_ticks: int,
             constraints: Constraints | None, seed: int, sample: SampleConfig = SampleConfig()) -> Generated:
    """Sample a piece after `prefix` (<bos>, the conditioning tokens if the network has them, and any
    prompt: `<bar>`-led body tokens of the conditioning works). With constraints, the piece has
    `constraints.bars` cycles (the prompt's included) and every mask of the module docstring holds;
    without, sampling stops once the durations reach `target_ticks`."""
    if not prefix or prefix[0] != BOS:
        raise InputError("a prefix starts with <bos>")
    if sample.temperature <= 0:
        raise InputError(f"temperature must be > 0, got {sample.temperature}")
    if not sample.mask_strength >= 0:
        raise InputError(f"mask_strength must be ≥ 0 (math.inf: the hard mask), got {sample.mask_strength}")
    ids = vocab.ids(prefix)
    keep = 1 + sum(1 for t in prefix[1:5] if t.split(":", 1)[0] in COND_KINDS)  # <bos> and conditioning stay in view
    state = _State(vocab, constraints, tradition)
    soft = constraints is not None and math.isfinite(sample.mask_strength)
    loose = _State(vocab, replace(constraints, tuning=False, intervals=False), tradition) if soft and constraints else None
    for token in prefix[keep:]:
        state.feed(token)
        if loose is not None:
            loose.feed(token)
    prompt_ticks = state.total
    gen = torch.Generator().manual_seed(seed)
    block = net.cfg.block_size
    net.eval()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a step is a few tiny products: intra-op threads cost more than they give (module doc)
    try:
        ids, truncated = _sample_loop(net, vocab, ids, state, loose, keep=keep, block=block, n_prefix=len(prefix),
                                      target_ticks=target_ticks, constraints=constraints, sample=sample, gen=gen)
    finally:
        torch.set_num_threads(threads)
    tokens = vocab.decode(ids)
    ticks = tradition.cycle(cycle).beats * TICKS_PER_BEAT
    head = from_tokens(tokens[1:keep], tradition=tradition.id, cycle=cycle, cycle_ticks=ticks)  # the conditioning only
    piece = from_tokens(tokens[keep:], tradition=tradition.id, cycle=cycle, cycle_ticks=ticks)
    piece = replace(piece, mode=constraints.mode if constraints is not None else head.mode, context=head.context)
    return Generated(tuple(tokens), piece, prompt_ticks, truncated)


def _sample_loop(net: LatticeGpt, vocab: Vocabulary, ids: list[int], state: _State, loose: _State | None, *, keep: int,
                 block: int, n_prefix: int,
                 target_ticks: int, constraints: Constraints | None, sample: SampleConfig,
                 gen: torch.Generator) -> tuple[list[int], bool]:
    """Sample until <eos>, the length or max_tokens; the ids and whether max_tokens cut it short."""
    truncated = False
    ornaments = vocab.of_kind("orn:")
    repeat_ids = list(vocab.repeats)
    with torch.inference_mode():
        while True:
            if len(ids) - n_prefix >= sample.max_tokens:
                truncated = True
                break
            if constraints is None and state.total >= target_ticks and state.phase != "need_dur":
                break
            window = ids if len(ids) <= block else ids[:keep] + ids[len(ids) - (block - keep):]
            logits = net(torch.tensor([window]))[0, -1] / sample.temperature  # (V,)
            if sample.ornament_bias:
                logits[ornaments] += sample.ornament_bias
            if repeat_ids and not sample.repeats:
                logits[repeat_ids] = float("-inf")
            if constraints is not None:
                allowed = state.allowed()  # (V,)
                if loose is not None:  # soft tuning and interval masks: what only they forbid is lowered
                    relaxed = loose.allowed()
                    logits = logits - sample.mask_strength * (relaxed & ~allowed).to(logits.dtype)
                    allowed = relaxed
                if not bool(allowed.any()):
                    raise ModelError(f"no token is allowed after {vocab.decode(ids[-6:])}: the constraints contradict each other")
                logits = logits.masked_fill(~allowed, float("-inf"))
            if sample.top_k is not None:
                kth = torch.topk(logits, min(sample.top_k, logits.numel())).values[-1]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            choice = int(torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=gen).item())
            ids.append(choice)
            token = vocab.tokens[choice]
            if token == EOS:
                break
            copied = state.copy_of(vocab.repeats[choice]) if choice in vocab.repeats else []
            ids += vocab.ids(copied)  # after a repeat token the decoder writes the cycle it names
            for t in (token, *copied):
                state.feed(t)
                if loose is not None:
                    loose.feed(t)
    return ids, truncated


class _State:
    """Where the sampler is in the grammar and the cycle, and the masks that follow (module docstring).
    Fed every body token (prompt and sampled); tolerant of any token when there are no constraints."""

    def __init__(self, vocab: Vocabulary, constraints: Constraints | None, tradition: Tradition) -> None:
        self.vocab, self.c, self.tradition = vocab, constraints, tradition
        self.phase = "start"  # start | event | need_dur | need_dur_no_orn | after_dur
        self.pos = self.total = self.bars = self.notes = self.ornaments = 0
        self.prev_pitch: int | None = None  # index into self.pitch_ids of the last sounding note
        self.sounding = False
        self.cycles: list[list[str]] = []  # each cycle's tokens after its <bar> (repeat tokens left out)
        self.offer_repeats = True  # False while a copy is tried out (`_copy_fits`)
        self.final: torch.Tensor | None = None  # (V,) bool: the pitch tokens on the mode's final, when the cadence holds
        v = len(vocab)
        self.pitch_ids = vocab.of_kind("p:")
        self.duration = {i: int(vocab.tokens[i][2:]) for i in vocab.of_kind("d:")}
        if constraints is None:
            return
        self.cycle_ticks = constraints.cycle_ticks
        legal, table = _pitch_tables(constraints.tradition, constraints.mode, constraints.tuning, constraints.passing,
                                     constraints.intervals, tuple(vocab.tokens[i] for i in self.pitch_ids))
        self.legal = torch.zeros(v, dtype=torch.bool)
        self.legal[[i for i, ok in zip(self.pitch_ids, legal, strict=True) if ok]] = True
        self.follows = torch.zeros(len(self.pitch_ids), v, dtype=torch.bool)  # row: previous pitch → allowed next ids
        for row, allowed in enumerate(table):
            self.follows[row, [i for i, ok in zip(self.pitch_ids, allowed, strict=True) if ok]] = True
        inventory = set(constraints.tradition.ornament_names())
        self.ornament_ids = [i for i in vocab.of_kind("orn:") if vocab.tokens[i][4:] in inventory]
        final = constraints.final if constraints.cadence else None
        if final is not None:
            names = [d.name for d in constraints.tradition.degrees]
            degrees = {i: parse_pitch(vocab.tokens[i])[1] for i in self.pitch_ids}
            self.final = torch.zeros(v, dtype=torch.bool)
            self.final[[i for i, d in degrees.items() if d < len(names) and names[d] == final]] = True
        self.special = {t: vocab.index[t] for t in (BAR, EOS, REST, TIE)}
        self.empty = torch.zeros(v, dtype=torch.bool)

    def feed(self, token: str) -> None:
        if token.startswith(REPEAT):
            return
        if token == BAR:
            self.cycles.append([])
        elif self.cycles:
            self.cycles[-1].append(token)
        if token == BAR:
            self.bars += 1
            self.pos, self.phase = 0, "event"
        elif token.startswith("p:"):
            self.phase = "need_dur"
            self.notes += 1
            self.prev_pitch = self.vocab.index[token] if token in self.vocab.index else None
            self.sounding = True
        elif token in (REST, TIE):
            self.phase = "need_dur_no_orn"
            if token == REST:
                self.sounding = False
        elif token.startswith("orn:"):
            self.ornaments += 1
            self.phase = "need_dur_no_orn"
        elif token.startswith("d:"):
            ticks = int(token[2:])
            self.pos += ticks
            self.total += ticks
            self.phase = "after_dur"

    def copy_of(self, back: int) -> list[str]:
        """The tokens of the cycle `back` cycles before this one, if this one has just opened (empty
        otherwise: a repeat token anywhere else copies nothing)."""
        b = len(self.cycles) - 1
        if self.phase != "event" or self.pos != 0 or self.cycles[-1:] != [[]] or not 0 <= b - back < b:
            return []
        return list(self.cycles[b - back])

    def _copy_fits(self, tokens: Sequence[str]) -> bool:
        """Whether feeding `tokens` from here passes every mask, token by token."""
        trial = copy.copy(self)
        trial.cycles, trial.offer_repeats = [*self.cycles[:-1], list(self.cycles[-1])], False
        for t in tokens:
            if not bool(trial.allowed()[self.vocab.index[t]]):
                return False
            trial.feed(t)
        return True

    def allowed(self) -> torch.Tensor:
        """(V,) bool: the tokens the constraints allow next."""
        assert self.c is not None
        out = self.empty.clone()
        room = self.cycle_ticks - self.pos
        if self.phase == "start":
            out[self.special[BAR]] = True
            return out
        if self.phase in ("need_dur", "need_dur_no_orn", "after_dur"):
            fits = [i for i, d in self.duration.items() if d <= room]
            if self.final is not None and self.bars >= self.c.bars and not self._on_final():
                shorter = [i for i in fits if self.duration[i] < room]  # not the end yet: the final must come
                # After a duration, a new event (the final) is the way on; a note that must have one falls back.
                fits = shorter if shorter or self.phase == "after_dur" else fits
            out[fits] = True
            if self.phase == "need_dur" and self._ornament_fits():
                out[self.ornament_ids] = True
        if self.phase in ("event", "after_dur"):
            if room == 0:
                out[self.special[EOS] if self.bars >= self.c.bars else self.special[BAR]] = True
                return out
            pitches = self.legal if self.prev_pitch is None else self.legal & self.follows[self.pitch_ids.index(self.prev_pitch)]
            rest = True
            if self.final is not None and self.bars >= self.c.bars and room <= TICKS_PER_BEAT:
                # The last beat belongs to the final, if the interval from the last note allows it.
                finals = pitches & self.final
                if bool(finals.any()):
                    pitches, rest = finals, self._on_final()
            out |= pitches
            out[self.special[REST]] = rest
            if self.pos == 0 and self.sounding and self.bars > 1:
                out[self.special[TIE]] = True
            for i, back in (self.vocab.repeats if self.offer_repeats else {}).items():
                cycle = self.copy_of(back)
                if cycle and self._copy_fits(cycle):
                    out[i] = True
        return out

    def _on_final(self) -> bool:
        """Whether the last sounding note is on the mode's final."""
        return self.final is not None and self.prev_pitch is not None and bool(self.final[self.prev_pitch])

    def _ornament_fits(self) -> bool:
        assert self.c is not None
        if not self.ornament_ids:
            return False
        if self.c.ornament_rate is None:
            return True
        return (self.ornaments + 1) / max(self.notes, 1) <= self.c.ornament_rate[1] + 1e-12


@lru_cache(maxsize=64)
def _pitch_tables(tradition: Tradition, mode: str | None, tuning: bool, passing: bool, intervals: bool,
                  tokens: tuple[str, ...]) -> tuple[tuple[bool, ...], tuple[tuple[bool, ...], ...]]:
    """Per pitch token: legal on this tuning (and mode), and per pair: the interval allowed."""
    n = len(tradition.degrees)
    if n > MAX_DEGREES:
        raise InputError(f"tradition {tradition.id} has {n} degrees per period; the lattice holds {MAX_DEGREES}")
    names = {d.name for d in tradition.scale_degrees(mode)} if tuning else {d.name for d in tradition.degrees}
    if tuning and passing:
        names |= {d.name for d in tradition.degrees if d.role == "passing"}
    points = [parse_pitch(t) for t in tokens]
    legal = tuple(d < n and o in OCTAVES and tradition.degrees[d].name in names for o, d in points)
    cents = [lattice_cents(tradition, octave=o, degree=d) if d < n else 0.0 for o, d in points]
    table = tuple(tuple(not intervals or (legal[i] and legal[j] and tradition.interval_allowed(cents[i], cents[j], mode=mode))
                        for j in range(len(points))) for i in range(len(points)))
    return legal, table
