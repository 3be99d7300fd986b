"""Audit a work from its stored file to the chain: content, lineage, protocols, credits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chain import gateway as gw
from chain.client import Chain
from core.blockstore import ContentStore
from core.errors import HeritageError
from core.manifest import DerivativeManifest, from_bytes
from core.types import ETH, Cid, Progress, Wei, WorkKind, WorkStatus


@dataclass
class Verdict:
    check: str
    ok: bool
    detail: str


@dataclass
class WorkAudit:
    work_id: int
    kind: str
    status: str
    content_cid: str
    roots: list[int] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts)

    def to_json(self) -> dict[str, object]:
        return {"work": self.work_id, "kind": self.kind, "status": self.status, "content_cid": self.content_cid,
                "roots": self.roots, "ok": self.ok,
                "checks": [{"check": v.check, "ok": v.ok, "detail": v.detail} for v in self.verdicts]}


def audit_work(chain: Chain, store: ContentStore, work_id: int) -> WorkAudit:
    view = gw.work(chain, work_id)
    result = WorkAudit(work_id, "?" if view.kind == WorkKind.NONE else view.kind.label,
                       "?" if view.status == WorkStatus.NONE else view.status.label, "")
    cid = view.content_cid
    if cid is None:
        result.verdicts.append(Verdict("content", True, "restricted: only a salted commitment is public"))
        return result
    result.content_cid = cid
    try:
        data = b"".join(store.cat(cid))
        same = store.put_bytes(data) == cid
        result.verdicts.append(Verdict("content", same, "stored bytes hash to the on-chain CID" if same
                                       else "stored bytes do NOT hash to the on-chain CID"))
    except HeritageError as err:
        result.verdicts.append(Verdict("content", False, str(err)))
    roots = [int(r) for r in gw.roots_of(chain, work_id)]
    result.roots = roots
    derivative = view.kind == WorkKind.DERIVATIVE
    if view.manifest_cid is not None:
        parents = [int(p.work) for p in gw.parents_of(chain, work_id)] if derivative else []
        result.verdicts.append(_manifest_verdict(store, view.manifest_cid, cid, parents))
    resolved = all(gw.work(chain, r).kind == WorkKind.HERITAGE for r in roots)
    result.verdicts.append(Verdict("lineage", resolved, f"resolves to heritage roots {roots}" if resolved
                                   else f"roots {roots} are not all heritage works"))
    if derivative:
        problems = []
        model_made = bool(gw.provenance_of(chain, work_id).model)
        for r in roots:
            p = gw.protocol_of(chain, r)
            if p.restricted:
                problems.append(f"root {r} is restricted")
            if not p.derivatives_allowed:
                problems.append(f"root {r} now forbids derivatives")
            if model_made and not p.ml_allowed:
                problems.append(f"root {r} now forbids ML use")
        if gw.pending_consents_of(chain, work_id) and view.status == WorkStatus.ACTIVE:
            problems.append("active although consents are missing")
        result.verdicts.append(Verdict("protocols", not problems, "; ".join(problems) or
                                       "every root's protocol is honoured"))
    return result


def _manifest_verdict(store: ContentStore, manifest_cid: Cid, content_cid: str, parents: list[int]) -> Verdict:
    """The manifest must be stored intact, parse, and describe this content and these parents."""
    try:
        manifest = from_bytes(b"".join(store.cat(manifest_cid)))
    except HeritageError as err:
        return Verdict("manifest", False, f"{manifest_cid}: {err}")
    if manifest.content_cid != content_cid:
        return Verdict("manifest", False, f"describes {manifest.content_cid}, not this work's content")
    if isinstance(manifest, DerivativeManifest) and sorted(p.work_id for p in manifest.parents) != sorted(parents):
        return Verdict("manifest", False, f"lists parents {[p.work_id for p in manifest.parents]}, chain has {parents}")
    return Verdict("manifest", True, f"{manifest.kind} manifest {manifest_cid} describes this content")


def audit_catalogue(chain: Chain, store: ContentStore,
                    progress: Progress | None = None) -> tuple[dict[str, object], list[WorkAudit]]:
    """Audit every work, with `summarise`'s summary, and the index against the chain (the last
    entry, work 0 of kind "index"; `index_ok` in the summary)."""
    from chain.indexaudit import audit_index

    total = gw.work_count(chain)
    results = []
    for w in range(1, total + 1):
        results.append(audit_work(chain, store, w))
        if progress is not None:
            progress("auditing", w, total)
    summary = summarise(results)
    index = audit_index(chain)  # the index answers every read: it must say what the chain says
    summary["index_ok"] = index.ok
    summary["index"] = [f"{v.check}: {'ok' if v.ok else 'MISMATCH'}: {v.detail}" for v in index.verdicts]
    return summary, [*results, index]


def summarise(results: list[WorkAudit]) -> dict[str, object]:
    """The works audited, how many passed, and provenance traceability: the share of public works
    whose every check passed and whose lineage resolves."""
    traceable = sum(1 for r in results if r.ok and r.roots)
    public = sum(1 for r in results if r.content_cid)
    return {"works": len(results), "ok": sum(r.ok for r in results),
            "provenance_traceability": traceable / public if public else 1.0}


@dataclass(frozen=True)
class Solvency:
    """What the router holds in ETH and what it owes: every unwithdrawn credit plus escrow."""

    held: Wei
    owed: Wei

    @property
    def ok(self) -> bool:
        return self.held == self.owed


def router_solvency(chain: Chain, accounts: Sequence[str]) -> Solvency:
    """The router's ETH against the credits of `accounts` (every account ever credited, for the check
    to be exact) and the escrow of every work: equal when the router holds exactly what it owes."""
    owed = sum(int(gw.balance_of(chain, a, ETH)) for a in accounts)
    owed += sum(int(gw.escrow_of(chain, w, ETH)) for w in range(1, gw.work_count(chain) + 1))
    return Solvency(gw.router_holdings(chain), Wei(owed))
