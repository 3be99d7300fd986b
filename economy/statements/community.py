"""Statements out: what each community treasury was credited by usage statements, net of routing.

Every `Paid` log a statement made (settlement batches and suspense releases) is routed again with
the router's own rule (chain/routing.py) over the lineage and splits the router holds, and each
credit is kept with the work that was paid and the work whose split credited the treasury (the
lineage it came through). Rows are per period, community, paid work and crediting work.

`reconcile` compares a treasury's statement credits with the router: its withdrawable balance
plus what it has withdrawn. They are equal to the wei when statements are the treasury's only
income (other payments show as the difference).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from chain import gateway as gw
from chain import statements as cs
from chain.client import Chain
from chain.routing import Node, route
from core.types import Wei


@dataclass(frozen=True)
class CommunityRow:
    statement_id: int
    period_start: int
    period_end: int
    community_id: int
    treasury: str
    paid_work: int
    credited_via: int
    """The work whose split credited the treasury (a heritage root for a derivative's upstream share)."""
    amount: Wei


@dataclass(frozen=True)
class Reconciliation:
    community_id: int
    treasury: str
    statements: Wei
    """Credited by statements (sum of the rows)."""
    balance: Wei
    """The router's withdrawable balance now."""
    withdrawn: Wei
    """What the treasury has withdrawn from the router."""

    @property
    def other_income(self) -> int:
        """Credits that did not come from statements (0 when statements are the only income)."""
        return int(self.balance) + int(self.withdrawn) - int(self.statements)


def lineage_nodes(chain: Chain, work: int, into: dict[int, Node]) -> None:
    """Add `work` and its ancestors' routing facts (parents, split, held) as the router holds them."""
    if work in into:
        return
    parents = tuple((int(p.work), int(p.ppm)) for p in gw.parents_of(chain, work))
    split = tuple((str(r.account), int(r.ppm)) for r in gw.split_of(chain, work))
    into[work] = Node(parents, split, gw.node_of(chain, work).held_by is not None)
    for parent, _ in parents:
        lineage_nodes(chain, parent, into)


def treasuries(chain: Chain) -> dict[str, int]:
    """Community id by treasury address (lower case)."""
    out: dict[str, int] = {}
    for cid in range(1, gw.community_count(chain) + 1):
        out.setdefault(gw.community(chain, cid).treasury.lower(), cid)
    return out


def rows(chain: Chain, statement_ids: Iterable[int] | None = None) -> list[CommunityRow]:
    """Net community credits of the given statements (all when None)."""
    ids = list(statement_ids) if statement_ids is not None else list(range(1, cs.statement_count(chain) + 1))
    by_treasury = treasuries(chain)
    nodes: dict[int, Node] = {}
    out: dict[tuple[int, int, int, int], int] = defaultdict(int)
    for sid in ids:
        view = cs.statement(chain, sid)
        for log in cs.settlement_logs(chain, bytes.fromhex(view.root[2:])):
            paid = int(log.args["workId"])
            lineage_nodes(chain, paid, nodes)

            def credit(via: int, account: str, amount: int, paid: int = paid, sid: int = sid) -> None:
                community = by_treasury.get(account.lower())
                if community is not None and amount:
                    out[(sid, community, paid, via)] += amount

            route(nodes, paid, int(log.args["amount"]), on_credit=credit)
    views = {sid: cs.statement(chain, sid) for sid in ids}
    addresses = {c: a for a, c in by_treasury.items()}
    return [CommunityRow(sid, views[sid].period_start, views[sid].period_end, c, str(to_checksum_address(addresses[c])), paid, via,
                         Wei(amount)) for (sid, c, paid, via), amount in sorted(out.items())]


def of_community(chain: Chain, community_id: int) -> list[CommunityRow]:
    return [r for r in rows(chain) if r.community_id == community_id]


def reconcile(chain: Chain, community_id: int, found: list[CommunityRow]) -> Reconciliation:
    treasury = gw.community(chain, community_id).treasury
    withdrawn = sum(int(a) for a in _withdrawn(chain, treasury))
    return Reconciliation(community_id, treasury, Wei(sum(int(r.amount) for r in found if r.community_id == community_id)),
                          gw.balance_of(chain, treasury), Wei(withdrawn))


def credited_by_community(chain: Chain) -> dict[int, Wei]:
    """Net credits of every community's treasury from the router, all income included (statements,
    direct payments, releases): what it can withdraw now plus what it has withdrawn. A treasury
    shared by several communities is counted for the first (lowest id) of them."""
    return {cid: Wei(int(gw.balance_of(chain, treasury)) + sum(_withdrawn(chain, treasury)))
            for treasury, cid in treasuries(chain).items()}


def _withdrawn(chain: Chain, account: str) -> list[int]:
    return [int(log.args["amount"]) for log in cs.withdrawals(chain, account)]


def to_csv(found: list[CommunityRow]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["statement_id", "period_start", "period_end", "community_id", "treasury", "paid_work", "credited_via",
                "amount_wei"])
    for r in found:
        w.writerow([r.statement_id, r.period_start, r.period_end, r.community_id, r.treasury, r.paid_work,
                    r.credited_via, int(r.amount)])
    return buf.getvalue()
