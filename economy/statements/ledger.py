"""The real ledger's figures, from statements on chain: per period, the net credits of every
community (after routing, as `community.rows` computes them) with Theil T, Gini and Jain over
them (economy/indices.py); and settlement latency per usage line, from its period's end to the
block time of the `Paid` log that credited it (median, p90 and the values for a histogram).

A line's latency needs its statement's usage file (kept under the data directory at submission,
`submit.stored`); a statement whose file is not here counts one latency per `Paid` log.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from eth_utils.crypto import keccak

from chain import gateway as gw
from chain import statements as cs
from chain.client import Chain
from core.errors import InputError
from economy.indices import gini, jain, theil_t
from economy.statements import community
from economy.statements.submit import stored_statement


@dataclass(frozen=True)
class PeriodFigures:
    period_start: int
    period_end: int
    credits: dict[int, int]
    """Net wei credited per community id."""
    theil_t: float
    gini: float
    jain: float


@dataclass(frozen=True)
class Ledger:
    periods: tuple[PeriodFigures, ...]
    latencies_s: tuple[int, ...]
    """One per settled usage line (held lines not yet paid have none)."""

    @property
    def median_s(self) -> float | None:
        return float(np.median(self.latencies_s)) if self.latencies_s else None

    @property
    def p90_s(self) -> float | None:
        return float(np.percentile(self.latencies_s, 90)) if self.latencies_s else None


def ledger(chain: Chain) -> Ledger:
    rows = community.rows(chain)
    by_period: dict[tuple[int, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        by_period[(r.period_start, r.period_end)][r.community_id] += int(r.amount)
    periods = []
    for (start, end), credits in sorted(by_period.items()):
        amounts = [credits[c] for c in sorted(credits)]
        periods.append(PeriodFigures(start, end, dict(sorted(credits.items())), theil_t(amounts), gini(amounts),
                                     jain(amounts)))
    latencies: list[int] = []
    for sid in range(1, cs.statement_count(chain) + 1):
        latencies.extend(_latencies(chain, sid))
    return Ledger(tuple(periods), tuple(latencies))


def _latencies(chain: Chain, statement_id: int) -> list[int]:
    view = cs.statement(chain, statement_id)
    paid = cs.settlement_logs(chain, bytes.fromhex(view.root[2:]))
    times = {b: cs.block_time(chain, b) for b in {p.block for p in paid}}
    logs = cs.statement_logs(chain, statement_id)
    batches = {log.tx for log in logs if log.event == "BatchSettled"}
    settled = {int(p.args["workId"]): times[p.block] for p in paid if p.tx in batches}
    by_tx = {p.tx: times[p.block] for p in paid}
    released = {bytes(log.args["key"]): by_tx[log.tx] for log in logs if log.event == "SuspenseReleased" and log.tx in by_tx}
    held = {bytes(log.args["key"]) for log in logs if log.event == "SuspenseHeld"}
    try:
        statement, _ = stored_statement(chain, view.root)
    except InputError:
        return [times[p.block] - view.period_end for p in paid]
    out = []
    works: dict[bytes, int | None] = {}
    for line in statement.lines:
        ident = line.work.identifier
        key = keccak(ident)
        if key in held:
            at = released.get(key)
        elif line.work.work_id is not None:
            at = settled.get(line.work.work_id)
        else:
            cid = line.work.cid or b""
            if cid not in works:
                found = gw.work_by_content(chain, cid)
                works[cid] = None if found is None else int(found)
            work = works[cid]
            at = None if work is None else settled.get(work)
        if at is not None:
            out.append(at - view.period_end)
    return out
