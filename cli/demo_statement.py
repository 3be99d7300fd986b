"""The demo's usage statement: a streaming service reports last month's plays of a few works (and
one recording nobody has registered), the statement settles through the router, and one line is
verified against the anchored root and the payment that credited it."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from chain.client import Chain
from core.cid import RAW, cid_bytes, to_text
from core.types import WorkId
from economy.statements.submit import StatementAlreadySubmitted, submit
from economy.statements.trace import trace_file

HEADER = "period_start\tperiod_end\tservice\tterritory\twork\tusage_type\tcount\tamount_wei"
STREAM_WEI = 10**12
"""What the demo's service pays per stream."""


def usage_file(chain: Chain, works: Sequence[WorkId]) -> bytes:
    """Last month's streams (relative to the chain's clock) of `works`, plus one unregistered recording."""
    now = dt.datetime.fromtimestamp(int(chain.w3.eth.get_block("latest")["timestamp"]), tz=dt.UTC).date()
    end = now.replace(day=1) - dt.timedelta(days=1)
    start = end.replace(day=1)
    unknown = to_text(cid_bytes(RAW, b"a live recording nobody has registered yet"))
    rows = [(str(w), 100 + 37 * i, territory) for i, w in enumerate(works) for territory in ("CN", "IE")]
    rows.append((unknown, 55, "CN"))
    lines = [HEADER] + [f"{start}\t{end}\tDemoStream\t{territory}\t{work}\tstream\t{count}\t{count * STREAM_WEI}"
                        for work, count, territory in rows]
    return ("\n".join(lines) + "\n").encode()


def statement_step(chain: Chain, works: Sequence[WorkId], sender: str) -> tuple[int, str, str, str]:
    """Submit the demo statement (once: a rerun finds it anchored) and verify its first line; an
    audit row (statement id, "statement", verdict, root)."""
    data = usage_file(chain, works)
    try:
        submit(chain, data, sender=sender)
    except StatementAlreadySubmitted:
        pass
    t = trace_file(chain, data, 2)
    if not t.ok or t.credit is None:
        return t.statement_id, "statement", f"MISMATCH line 2: proof {t.proof_ok}, contract {t.contract_ok}, {t.status}", t.root
    digest = hashlib.sha256(data).hexdigest()[:12]
    return (t.statement_id, "statement",
            f"line 2 proof OK, credited by tx {t.credit.tx[:12]}… log {t.credit.log_index} (file {digest})", t.root[:18])
