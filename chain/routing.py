"""The router's lineage routing in Python, credit for credit (see contracts/README.md): the one
statement of the rule outside the contract.

`walk` is the rule over the lineage: each parent of a work paid `a` wei gets
`floor(a × ppm / 1,000,000)` and routes it on by the same rule; the work keeps the rest. `flow`
sums what each work receives and keeps; `route` adds the last step, each arrival's kept share
split among the work's recipients (or escrowed while disputed). The API answers `flow` as
GET /works/{id}/route (the dashboard draws it from there); tests check the contracts against `route`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from core.types import PPM


@dataclass(frozen=True)
class Node:
    """One work's routing facts: parents with their shares, and the split of its own share."""

    parents: tuple[tuple[int, int], ...] = ()  # (parent work id, ppm)
    split: tuple[tuple[str, int], ...] = ()  # (account, ppm); ppm sums to PPM
    disputed: bool = False


@dataclass
class Credits:
    """Balances credited by one or more payments, and amounts escrowed per work."""

    balances: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    escrow: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def total(self) -> int:
        return sum(self.balances.values()) + sum(self.escrow.values())


@dataclass(frozen=True)
class Share:
    """What one work gets of a payment to another: received in all (over every path), kept after
    routing its parents' shares on."""

    work_id: int
    received: int
    kept: int


def walk(parents: Mapping[int, Sequence[tuple[int, int]]], work_id: int, amount: int,
         arrive: Callable[[int, int, int], None]) -> None:
    """The rule itself: `amount` arrives at `work_id`; each parent gets floor(amount*ppm/PPM) and it
    arrives there in turn (recursively), parents in order; the work keeps the rest.
    `arrive(work, received, kept)` is called once per arrival — a work reached by two paths is paid
    once per path, and the router splits each arrival's kept share on its own (so must a caller)."""
    upstream = 0
    for parent, ppm in parents.get(work_id, ()):
        share = amount * ppm // PPM
        upstream += share
        walk(parents, parent, share, arrive)
    arrive(work_id, amount, amount - upstream)


def flow(parents: Mapping[int, Sequence[tuple[int, int]]], work_id: int, amount: int) -> list[Share]:
    """How `amount` paid to `work_id` is credited through its lineage, summed per work over every
    path: the paid work first, then its ancestors as the walk first reaches them. `parents[w]`:
    (parent work id, ppm) of each parent of `w`. Integers only, so the kept amounts add up to
    `amount`, to the wei."""
    received: dict[int, int] = {}
    kept: dict[int, int] = {}
    order: list[int] = []

    def arrive(work: int, got: int, keeps: int) -> None:
        received[work] = received.get(work, 0) + got
        kept[work] = kept.get(work, 0) + keeps

    def reach(work: int) -> None:
        if work not in order:
            order.append(work)
            for parent, _ in parents.get(work, ()):
                reach(parent)

    walk(parents, work_id, amount, arrive)
    reach(work_id)
    return [Share(w, received[w], kept[w]) for w in order]


def split_own(own: int, split: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """A work's own share among its recipients, as the router splits it: recipients j >= 1 get
    floor(own × ppm_j / PPM), recipient 0 the remainder (so the parts add up to `own`, to the wei)."""
    parts = [(account, own * ppm // PPM) for account, ppm in split[1:]]
    return [(split[0][0], own - sum(p for _, p in parts)), *parts]


def route(nodes: dict[int, Node], work_id: int, amount: int, credits: Credits | None = None,
          on_credit: Callable[[int, str, int], None] | None = None) -> Credits:
    """Credit `amount` paid to `work_id`: `walk` the lineage, and split each arrival's kept share
    among the work's recipients — j>=1 get floor(own*ppm_j/PPM), recipient 0 the remainder. A
    disputed work's own share goes to escrow. `on_credit(work, account, amount)` hears each
    balance credit with the work whose split made it (statements attribute credits by work)."""
    credits = credits if credits is not None else Credits()

    def arrive(work: int, _received: int, own: int) -> None:
        node = nodes[work]
        if own == 0:
            return
        if node.disputed:
            credits.escrow[work] += own
            return
        for account, part in split_own(own, node.split):
            credits.balances[account] += part
            if on_credit is not None:
                on_credit(work, account, part)

    walk({w: n.parents for w, n in nodes.items()}, work_id, amount, arrive)
    return credits
