"""Audit a work from its stored file to the chain: content, lineage, protocols, credits."""

from __future__ import annotations

from dataclasses import dataclass, field

from chain.client import Chain
from core.blockstore import ContentStore
from core.cid import to_text
from core.errors import HeritageError
from core.manifest import DerivativeManifest, from_bytes
from core.types import Cid, Progress

KINDS = {1: "heritage", 2: "derivative"}
STATUSES = {1: "pending", 2: "active", 3: "restricted", 4: "rejected"}


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
    reg = chain.registry.functions
    kind, status, _, _, _, content, _, manifest_cid = reg.workOf(work_id).call()
    result = WorkAudit(work_id, KINDS.get(kind, "?"), STATUSES.get(status, "?"), "")
    if not content:
        result.verdicts.append(Verdict("content", True, "restricted: only a salted commitment is public"))
        return result
    cid = to_text(bytes(content))
    result.content_cid = cid
    try:
        data = b"".join(store.cat(cid))
        same = store.put_bytes(data) == cid
        result.verdicts.append(Verdict("content", same, "stored bytes hash to the on-chain CID" if same
                                       else "stored bytes do NOT hash to the on-chain CID"))
    except HeritageError as err:
        result.verdicts.append(Verdict("content", False, str(err)))
    roots = [int(r) for r in reg.rootsOf(work_id).call()]
    result.roots = roots
    if manifest_cid:
        parents = [int(p) for p in chain.router.functions.parentsOf(work_id).call()[0]] if kind == 2 else []
        result.verdicts.append(_manifest_verdict(store, to_text(bytes(manifest_cid)), cid, parents))
    resolved = all(KINDS.get(reg.workOf(r).call()[0]) == "heritage" for r in roots)
    result.verdicts.append(Verdict("lineage", resolved, f"resolves to heritage roots {roots}" if resolved
                                   else f"roots {roots} are not all heritage works"))
    if kind == 2:
        problems = []
        model_cid, _ = reg.machineProvenanceOf(work_id).call()
        for r in roots:
            p = reg.protocolOf(r).call()
            if p[5]:
                problems.append(f"root {r} is restricted")
            if not p[0]:
                problems.append(f"root {r} now forbids derivatives")
            if model_cid and not p[3]:
                problems.append(f"root {r} now forbids ML use")
        pending = int(reg.pendingConsentsOf(work_id).call())
        if pending and status == 2:
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
    """Audit every work, with `summarise`'s summary."""
    total = int(chain.registry.functions.workCount().call())
    results = []
    for w in range(1, total + 1):
        results.append(audit_work(chain, store, w))
        if progress is not None:
            progress("auditing", w, total)
    return summarise(results), results


def summarise(results: list[WorkAudit]) -> dict[str, object]:
    """The works audited, how many passed, and provenance traceability: the share of public works
    whose every check passed and whose lineage resolves."""
    traceable = sum(1 for r in results if r.ok and r.roots)
    public = sum(1 for r in results if r.content_cid)
    return {"works": len(results), "ok": sum(r.ok for r in results),
            "provenance_traceability": traceable / public if public else 1.0}
