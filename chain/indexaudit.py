"""The audit's check on the event index: the index must say what the chain says, as of the
index's last block: the same number of works, each work's record (kind, status, content and
manifest CIDs), and the same payments (count and ETH total, from the chain's own logs). Reads
are answered from the index, so a mismatch here means the service would answer wrongly: it is
a failed audit, never a warning."""

from __future__ import annotations

from chain.audit import Verdict, WorkAudit
from chain.catalogue import load
from chain.client import Chain
from core.cid import to_text
from core.types import ETH

STATUSES = {1: "pending", 2: "active", 3: "restricted", 4: "rejected"}


def audit_index(chain: Chain) -> WorkAudit:
    """The index's verdicts, as an audit entry of its own (work 0, kind "index")."""
    idx = chain.index()
    cat = load(idx)
    block = idx.last_block()
    result = WorkAudit(0, "index", f"block {block}", "")
    reg = chain.registry.functions
    on_chain = int(reg.workCount().call(block_identifier=block)) if block >= 0 else 0
    result.verdicts.append(Verdict("index: works", on_chain == len(cat.works),
                                   f"{len(cat.works)} indexed, {on_chain} on chain at block {block}"))
    wrong: list[str] = []
    for w in range(1, on_chain + 1):
        _, status, _, _, _, content, _, manifest = reg.workOf(w).call(block_identifier=block)
        row = cat.works.get(w)
        if row is None:
            wrong.append(f"{w} missing")
            continue
        chain_content = to_text(bytes(content)) if content else None
        if STATUSES.get(int(status)) != row.status:
            wrong.append(f"{w} status {row.status} (chain: {STATUSES.get(int(status))})")
        if row.content_cid != chain_content:
            wrong.append(f"{w} content {row.content_cid} (chain: {chain_content})")
        if manifest and row.manifest_cid != to_text(bytes(manifest)):
            wrong.append(f"{w} manifest {row.manifest_cid}")
    if extra := sorted(set(cat.works) - set(range(1, on_chain + 1))):
        wrong.append(f"works {extra[:10]} indexed but not on chain")
    result.verdicts.append(Verdict("index: records", not wrong, "; ".join(wrong[:20]) or
                                   f"all {on_chain} works' records match the chain"))
    count, wei = 0, 0
    if block >= chain.deployment.block:
        for log in chain.router.events.Paid().get_logs(from_block=chain.deployment.block, to_block=block):
            count += 1
            wei += int(log["args"]["amount"]) if str(log["args"]["token"]).lower() == ETH.lower() else 0
    indexed_count = sum(w.payments for w in cat.works.values())
    indexed_wei = sum(w.paid_wei for w in cat.works.values())
    same = (count, wei) == (indexed_count, indexed_wei)
    result.verdicts.append(Verdict("index: payments", same, f"{indexed_count} payments, {indexed_wei} wei indexed; "
                                   f"the chain's logs: {count} payments, {wei} wei"))
    return result
