"""Inference with a trained lattice generator: the conditioning prefix, the length in cycles, and
decoding a piece with every mask (`generate_ours`) or none (`generate_unconditioned`). What
`heritage generate` and the generation experiments both call."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from core.errors import InputError
from ml.generation.decode import Constraints, Generated, SampleConfig, generate
from ml.generation.lattice import BOS, TICKS_PER_BEAT, LatticePiece, body_tokens, condition_tokens
from ml.generation.train import SavedGenerator, TrainedGenerator
from ml.tradition import Tradition

MODEL_FILES = {"conditioned": "generation-conditioned.pt", "unconditioned": "generation-unconditioned.pt"}
"""The trained networks' file names (`heritage generation train` writes them, `generate` reads them)."""


def conditioning_prefix(model: TrainedGenerator, facts: Mapping[str, Any], *, tradition: str, mode: str | None, cycle: str,
                        context: str | None) -> list[str]:
    """<bos> and, for a conditioned network, the conditioning tokens, each one the network never saw in
    training (`facts["seen_conditions"]`) replaced by its kind's `?`."""
    if not model.conditioned:
        return [BOS]
    seen = set(facts.get("seen_conditions", ()))
    tokens = condition_tokens(tradition=tradition, mode=mode, cycle=cycle, context=context)
    return [BOS, *(t if t in seen else f"{t.split(':', 1)[0]}:?" for t in tokens)]


def bars_for(seconds: float, *, bpm: float, beats: int) -> int:
    """Cycles of `beats` beats that `seconds` at `bpm` fill (rounded up, at least one)."""
    return max(1, math.ceil(seconds * bpm / 60.0 / beats - 1e-9))


def generate_ours(saved: SavedGenerator, *, tradition: Tradition, mode: str | None, cycle: str, context: str | None, bars: int,
                  prompt: Sequence[LatticePiece], seed: int, sample: SampleConfig = SampleConfig(),
                  ornament_rate: tuple[float, float] | None = None, passing: bool = False) -> tuple[Generated, Constraints]:
    """The conditioned network with every mask, after the conditioning tokens and the prompt pieces'
    body tokens (each prompt piece already cut to the cycles it lends)."""
    constraints = Constraints(tradition=tradition, cycle=cycle, bars=bars, mode=mode, passing=passing,
                              ornament_rate=ornament_rate)
    prefix = conditioning_prefix(saved.trained, saved.facts, tradition=tradition.id, mode=mode, cycle=cycle, context=context)
    for p in prompt:
        prefix += body_tokens(p, repeats=bool(saved.trained.vocab.repeats))  # as the network learned them
    prompt_bars = sum(-(-p.total_ticks // p.cycle_ticks) for p in prompt)
    if prompt_bars >= bars:
        raise InputError(f"the prompt fills {prompt_bars} cycles of the {bars} asked for: ask for more seconds or fewer prompt bars")
    g = generate(saved.trained.net, saved.trained.vocab, prefix=prefix, tradition=tradition, cycle=cycle,
                 target_ticks=bars * constraints.cycle_ticks, constraints=constraints, seed=seed, sample=sample)
    return g, constraints


def generate_unconditioned(saved: SavedGenerator, *, tradition: Tradition, cycle: str, bars: int, seed: int,
                           sample: SampleConfig = SampleConfig()) -> Generated:
    """The unconditioned network from <bos>, no masks, to the same length."""
    ticks = bars * tradition.cycle(cycle).beats * TICKS_PER_BEAT
    return generate(saved.trained.net, saved.trained.vocab, prefix=[BOS], tradition=tradition, cycle=cycle, target_ticks=ticks,
                    constraints=None, seed=seed, sample=sample)
