"""Decoding with constraint masks: every sampled piece keeps the tradition's tuning, intervals, cycles and
ornament rate, whatever the network prefers; the same seed gives the same piece."""

from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import InputError
from ml.data.corpora import essen
from ml.generation.decode import Constraints, Generated, generate
from ml.generation.encoding import han_corpus
from ml.generation.lattice import (
    BAR,
    BOS,
    EOS,
    HAN,
    OCTAVES,
    REPEAT,
    Vocabulary,
    body_tokens,
    condition_tokens,
    lattice_cents,
    timed_notes,
)
from ml.generation.model import GptConfig, LatticeGpt
from ml.tradition import Tradition, load_tradition, traditions

VOCAB = Vocabulary.build(contexts=("Xiaodiao",))
TRADITIONS = {t: load_tradition(t) for t in traditions()}


class Hostile(LatticeGpt):
    """A random network whose logits carry a large fixed bias: it wants what the masks must refuse
    (the bias is drawn per example, so some examples push leaps, others long notes, ornaments or <eos>)."""

    def __init__(self, cfg: GptConfig, *, bias_seed: int, scale: float = 6.0, favour: list[int] | None = None) -> None:
        super().__init__(cfg)
        self.bias = torch.randn(cfg.vocab_size, generator=torch.Generator().manual_seed(bias_seed)) * scale  # (V,)
        if favour:
            self.bias[favour] += 3 * scale

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return super().forward(idx) + self.bias  # (B, T, V)


def _net(bias_seed: int, **kw: object) -> Hostile:
    torch.manual_seed(bias_seed)
    return Hostile(GptConfig(vocab_size=len(VOCAB), block_size=48), bias_seed=bias_seed, **kw).eval()  # type: ignore[arg-type]


def _sample(t: Tradition, *, mode: str | None, cycle: str, bars: int, seed: int, net: LatticeGpt,
            rate: tuple[float, float] | None = (0.0, 0.0), prompt: list[str] | None = None) -> tuple[Generated, Constraints]:
    c = Constraints(tradition=t, cycle=cycle, bars=bars, mode=mode, ornament_rate=rate)
    prefix = [BOS, *condition_tokens(tradition=t.id, mode=mode, cycle=cycle, context=None), *(prompt or [])]
    g = generate(net, VOCAB, prefix=prefix, tradition=t, cycle=cycle, target_ticks=bars * c.cycle_ticks, constraints=c, seed=seed)
    return g, c


def _check(g: Generated, c: Constraints, *, skip_ticks: int = 0) -> None:
    """Every mask's promise, checked from the output alone."""
    t, piece = c.tradition, g.piece
    body = [x for x in g.tokens[5:] if not x.startswith(REPEAT)]  # a repeat token is followed by the cycle it copies
    assert body[-1] == EOS and body.count(BAR) == c.bars and not g.truncated
    for a, b in itertools.pairwise(body[:-1]):  # grammar: an event's durations follow it at once
        if a.startswith("p:"):
            assert b.startswith(("d:", "orn:"))
        if a in ("rest", "tie") or a.startswith("orn:"):
            assert b.startswith("d:")
        if b == "tie":
            assert a == BAR
    assert piece.total_ticks == c.bars * c.cycle_ticks  # exactly `bars` cycles, ending on a boundary
    for onset, e in zip(piece.onsets, piece.events, strict=True):
        assert onset // c.cycle_ticks == (onset + e.ticks - 1) // c.cycle_ticks  # no event crosses a boundary
    allowed = {d.name for d in t.scale_degrees(c.mode)}
    notes = [n for n in timed_notes(piece, t) if n.onset >= skip_ticks]
    for e in piece.events:
        if e.kind == "note":
            assert e.octave in OCTAVES and t.degrees[e.degree].name in allowed
    for first, second in itertools.pairwise(notes):
        assert t.interval_allowed(first.cents, second.cents, mode=c.mode), (first, second)
    played = [e for e in piece.events if e.kind == "note"]
    if c.final is not None and c.cadence and played:  # ends on the mode's final, where an allowed interval reaches it
        cents = [lattice_cents(t, octave=e.octave, degree=e.degree) for e in played]
        finals = [lattice_cents(t, octave=o, degree=d) for o in OCTAVES for d, x in enumerate(t.degrees) if x.name == c.final]
        reachable = len(played) < 2 or any(t.interval_allowed(cents[-2], f, mode=c.mode) for f in finals)
        assert t.degrees[played[-1].degree].name == c.final or not reachable, (t.degrees[played[-1].degree].name, c.final)
    labels = [n.ornament for n in notes]
    assert all(o is None or o in t.ornament_names() for o in labels)
    if c.ornament_rate is not None:
        for k in range(1, len(labels) + 1):  # the running rate never passes the maximum
            assert sum(o is not None for o in labels[:k]) / k <= c.ornament_rate[1] + 1e-9


CASES = [(tid, m, cy.name) for tid, t in TRADITIONS.items() for m in (*(x.name for x in t.modes), None) for cy in t.cycles[:2]]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CASES), seed=st.integers(0, 2**31 - 1), bias_seed=st.integers(0, 10_000), bars=st.integers(1, 4),
       rate=st.sampled_from([(0.0, 0.0), (0.0, 0.3), None]))
def test_every_sampled_piece_respects_every_mask(case: tuple[str, str | None, str], seed: int, bias_seed: int, bars: int,
                                                 rate: tuple[float, float] | None) -> None:
    tid, mode, cycle = case
    g, c = _sample(TRADITIONS[tid], mode=mode, cycle=cycle, bars=bars, seed=seed, net=_net(bias_seed), rate=rate)
    _check(g, c)


def test_the_ornament_rate_is_held_at_its_maximum_against_a_network_that_wants_ornaments() -> None:
    t = TRADITIONS[HAN]
    net = _net(3, favour=VOCAB.of_kind("orn:"))
    g, c = _sample(t, mode="zhi", cycle="yiban yiyan", bars=12, seed=1, net=net, rate=(0.0, 0.25))
    _check(g, c)
    notes = timed_notes(g.piece, t)
    rate = sum(n.ornament is not None for n in notes) / len(notes)
    assert 0.15 < rate <= 0.25  # used up to the maximum, never beyond
    none, _ = _sample(t, mode="zhi", cycle="yiban yiyan", bars=12, seed=1, net=net, rate=(0.0, 0.0))
    assert all(n.ornament is None for n in timed_notes(none.piece, t))


def test_the_same_seed_gives_the_same_piece_and_another_seed_another() -> None:
    t, net = TRADITIONS["javanese_pelog"], _net(5, scale=1.0)
    a, _ = _sample(t, mode="pathet nem", cycle="lancaran", bars=2, seed=7, net=net)
    b, _ = _sample(t, mode="pathet nem", cycle="lancaran", bars=2, seed=7, net=net)
    other, _ = _sample(t, mode="pathet nem", cycle="lancaran", bars=2, seed=8, net=net)
    assert a.tokens == b.tokens and a.tokens != other.tokens


def test_a_prompt_opens_the_piece_and_the_masks_hold_after_it() -> None:
    t = TRADITIONS[HAN]
    song = han_corpus(sorted(essen(("Chinese Han",)), key=lambda p: p.cid)[:5]).pieces[0]
    prompt = song.first_bars(2)
    g, c = _sample(t, mode=song.mode, cycle=song.cycle, bars=6, seed=0, net=_net(1, scale=1.0), prompt=body_tokens(prompt))
    assert g.prompt_ticks == 2 * song.cycle_ticks and g.piece.events[: len(prompt.events)] == prompt.events
    _check(g, c, skip_ticks=g.prompt_ticks)


def test_without_constraints_nothing_is_masked_and_sampling_stops_at_the_length() -> None:
    t = TRADITIONS[HAN]
    net = _net(11, scale=1.0)
    g = generate(net, VOCAB, prefix=[BOS], tradition=t, cycle="yiban yiyan", target_ticks=64, constraints=None, seed=0)
    assert g.piece.total_ticks >= 64 or g.tokens[-1] == EOS or g.truncated
    assert g.piece.mode is None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"bars": 0}, "at least one cycle"),
    ({"mode": "lydian"}, "has no mode 'lydian'"),
    ({"cycle": "waltz"}, "has no cycle 'waltz'"),
])
def test_impossible_constraints_are_refused(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"tradition": TRADITIONS[HAN], "cycle": "yiban yiyan", "bars": 4, **kwargs}
    with pytest.raises(InputError, match=message):
        Constraints(**args)  # type: ignore[arg-type]
