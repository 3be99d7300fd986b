"""A Python model of the router's lineage routing, credit for credit (see contracts/README.md).

Used by auditors to check that on-chain credits add up, and by tests to check the contracts
against an independent statement of the rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
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


def route(nodes: dict[int, Node], work_id: int, amount: int, credits: Credits | None = None,
          on_credit: Callable[[int, str, int], None] | None = None) -> Credits:
    """Credit `amount` paid to `work_id`: each parent gets floor(amount*ppm/PPM), recursively;
    the work keeps the rest; recipients j>=1 of its split get floor(own*ppm_j/PPM) and
    recipient 0 the remainder. A disputed work's own share goes to escrow. `on_credit(work,
    account, amount)` hears each balance credit with the work whose split made it."""
    credits = credits if credits is not None else Credits()
    node = nodes[work_id]
    own = amount
    for parent, ppm in node.parents:
        share = amount * ppm // PPM
        if share:
            own -= share
            route(nodes, parent, share, credits, on_credit)
    if own == 0:
        return credits
    if node.disputed:
        credits.escrow[work_id] += own
        return credits
    rest = own
    for account, ppm in node.split[1:]:
        share = own * ppm // PPM
        rest -= share
        credits.balances[account] += share
        if on_credit is not None:
            on_credit(work_id, account, share)
    credits.balances[node.split[0][0]] += rest
    if on_credit is not None:
        on_credit(work_id, node.split[0][0], rest)
    return credits
