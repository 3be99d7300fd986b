"""The router's lineage routing in Python, credit for credit (see contracts/README.md): the one
statement of the rule outside the contract.

`flow` is the rule over the lineage: each parent of a work paid `a` wei gets
`floor(a × ppm / 1,000,000)` and routes it on by the same rule; the work keeps the rest. `route`
adds the last step, each work's kept share split among its recipients (or escrowed while
disputed). The API answers `flow` as GET /works/{id}/route (the dashboard draws it from there);
tests check the contracts against `route`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
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


def flow(parents: Mapping[int, Sequence[tuple[int, int]]], work_id: int, amount: int) -> list[Share]:
    """How `amount` paid to `work_id` is credited through its lineage, the paid work first, then
    in the order works are first reached. `parents[w]`: (parent work id, ppm) of each parent of
    `w`. A work reached by two paths receives once per path, as the router pays it; integers
    only, so the kept amounts add up to `amount`, to the wei."""
    received: dict[int, int] = {}
    kept: dict[int, int] = {}

    def pay(work: int, paid: int) -> None:
        received[work] = received.get(work, 0) + paid
        upstream = 0
        for parent, ppm in parents.get(work, ()):
            share = paid * ppm // PPM
            upstream += share
            pay(parent, share)
        kept[work] = kept.get(work, 0) + paid - upstream

    pay(work_id, amount)
    return [Share(w, received[w], kept[w]) for w in received]


def route(nodes: dict[int, Node], work_id: int, amount: int, credits: Credits | None = None) -> Credits:
    """Credit `amount` paid to `work_id`: the lineage's `flow`, then each work's kept share split
    by its recipients — j>=1 get floor(own*ppm_j/PPM), recipient 0 the remainder. A disputed
    work's own share goes to escrow."""
    credits = credits if credits is not None else Credits()
    for share in flow({w: n.parents for w, n in nodes.items()}, work_id, amount):
        own, node = share.kept, nodes[share.work_id]
        if own == 0:
            continue
        if node.disputed:
            credits.escrow[share.work_id] += own
            continue
        rest = own
        for account, ppm in node.split[1:]:
            part = own * ppm // PPM
            rest -= part
            credits.balances[account] += part
        credits.balances[node.split[0][0]] += rest
    return credits
