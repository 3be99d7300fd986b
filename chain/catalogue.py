"""The catalogue as the index sees it: communities, works, lineage and payments, read from the
indexed events rather than from the chain (see chain.indexer).

Everything here is a fold over events in block order, so it answers for any indexed block range
and costs the node nothing. The audit (chain.audit) deliberately reads the chain instead: it is
the check that the index and the store tell the truth.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from chain.indexer import Index
from core.cid import to_text
from core.errors import UnknownCommunity, UnknownWork
from core.types import ETH, WorkStatus


def _cid(hex_value: str) -> str | None:
    raw = bytes.fromhex(hex_value.removeprefix("0x"))
    return to_text(raw) if raw else None


@dataclass
class CommunityRow:
    community_id: int
    name: str
    stewards: list[str]
    threshold: int
    treasury: str
    epoch: int = 0
    works: int = 0


@dataclass
class WorkRow:
    work_id: int
    kind: str  # heritage | restricted | derivative
    registrant: str
    block: int
    timestamp: int
    community_id: int | None = None
    content_cid: str | None = None
    manifest_cid: str | None = None
    parents: list[int] = field(default_factory=list)
    parent_ppms: list[int] = field(default_factory=list)
    roots: list[int] = field(default_factory=list)
    status: str = "active"
    commercial: bool = False
    model_cid: str | None = None
    disputed: bool = False
    """Its own share is escrowed by an open claim (the router's EscrowHeld … HoldEnded)."""
    claim: int | None = None
    """The open claim (HeritageDisputes id) holding it; None when there is none."""
    payments: int = 0
    paid_wei: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Catalogue:
    communities: dict[int, CommunityRow]
    works: dict[int, WorkRow]
    last_block: int
    pending_models: dict[int, str] = field(default_factory=dict)
    """Model CIDs whose MachineProvenanceRecorded came before the work's DerivativeRegistered
    (the registry emits it first)."""
    index_epoch: int = 0
    """The index's rollback count this was folded at: after a rollback it is folded afresh."""

    def work(self, work_id: int) -> WorkRow:
        if work_id not in self.works:
            known = f"works 1..{max(self.works)}" if self.works else "no works yet"
            raise UnknownWork(
                f"no work {work_id} in the index (it holds {known} up to block {self.last_block}); "
                "check the id, or wait for the registration to reach the confirmation depth"
            )
        return self.works[work_id]

    def community(self, community_id: int) -> CommunityRow:
        if community_id not in self.communities:
            raise UnknownCommunity(f"no community {community_id} in the index; `heritage community list` shows them")
        return self.communities[community_id]

    def select(self, *, community: int | None = None, kind: str | None = None, status: str | None = None,
               offset: int = 0, limit: int | None = None) -> list[WorkRow]:
        """Works in id order, filtered; a community's works include derivatives rooted in it."""
        rows = [w for w in self.works.values()
                if (community is None or community in self.communities_of(w.work_id))
                and (kind is None or w.kind == kind) and (status is None or w.status == status)]
        rows.sort(key=lambda w: w.work_id)
        return rows[offset: None if limit is None else offset + limit]

    def communities_of(self, work_id: int) -> set[int]:
        """The communities whose heritage works this work descends from (its own, for a heritage work)."""
        return {c for r in self.work(work_id).roots if r in self.works
                and (c := self.works[r].community_id) is not None}

    def ancestors(self, work_id: int) -> list[int]:
        """Every work upstream of `work_id`, nearest first, each once."""
        seen: list[int] = []
        frontier = list(self.work(work_id).parents)
        while frontier:
            nxt = []
            for p in frontier:
                if p not in seen:
                    seen.append(p)
                    nxt.extend(self.works[p].parents if p in self.works else [])
            frontier = nxt
        return seen


def load(index: Index, into: Catalogue | None = None) -> Catalogue:
    """Fold the indexed events into the catalogue; with `into`, only the events of blocks after
    `into.last_block` are folded onto a copy of it (the API refreshes this way after every write).
    Rows are replaced, never changed in place, so a catalogue handed out is never altered."""
    # Another process may be indexing meanwhile: the last block is read first and only events up
    # to it are folded (they were committed with it); a rollback in between is seen as a new epoch.
    while True:
        epoch = index.epoch()
        if into is not None and into.index_epoch != epoch:
            into = None  # the index rolled back under it: blocks it folded may be gone
        last = index.last_block()
        cat = Catalogue({}, {}, -1, index_epoch=epoch) if into is None else \
            Catalogue(dict(into.communities), dict(into.works), into.last_block, dict(into.pending_models), epoch)
        found = index.events(after_block=cat.last_block, upto_block=last)
        if index.epoch() == epoch:
            break
    for e in found:
        _fold(cat, e)
    cat.last_block = max(last, cat.last_block)
    return cat


def _fold(cat: Catalogue, e: dict[str, Any]) -> None:
    communities, works = cat.communities, cat.works
    a, name = e["args"], e["name"]
    if name == "CommunityRegistered":
        cid = int(a["communityId"])
        communities[cid] = CommunityRow(cid, a["name"], list(a["stewards"]), int(a["threshold"]), a["treasury"])
    elif name == "CommunityChanged" and int(a["communityId"]) in communities:
        cid = int(a["communityId"])
        communities[cid] = replace(communities[cid], stewards=list(a["stewards"]), threshold=int(a["threshold"]),
                                   treasury=a["treasury"], epoch=int(a["epoch"]))
    elif name == "HeritageWorkRegistered":
        content = _cid(a["contentCid"])
        works[e["work_id"]] = WorkRow(
            e["work_id"], "heritage" if content else "restricted", a["registrant"], e["block"], e["timestamp"],
            community_id=int(a["communityId"]), content_cid=content, manifest_cid=_cid(a["manifestCid"]),
            roots=[e["work_id"]], status="active" if content else "restricted",
        )
        if (cid := int(a["communityId"])) in communities:
            communities[cid] = replace(communities[cid], works=communities[cid].works + 1)
    elif name == "DerivativeRegistered":
        works[e["work_id"]] = WorkRow(
            e["work_id"], "derivative", a["registrant"], e["block"], e["timestamp"],
            content_cid=_cid(a["contentCid"]), manifest_cid=_cid(a["manifestCid"]),
            parents=[int(p) for p in a["parents"]], parent_ppms=[int(p) for p in a["parentPpms"]],
            roots=[int(r) for r in a["roots"]], status=WorkStatus(int(a["status"])).label, commercial=bool(a["commercial"]),
            model_cid=cat.pending_models.pop(e["work_id"], None),
        )
    elif name == "MachineProvenanceRecorded" and e["work_id"] not in works:
        if (model := _cid(a["modelCid"])) is not None:
            cat.pending_models[e["work_id"]] = model
    elif (w := works.get(e["work_id"])) is not None:
        if name == "MachineProvenanceRecorded":
            works[w.work_id] = replace(w, model_cid=_cid(a["modelCid"]))
        elif name == "StatusChanged":
            works[w.work_id] = replace(w, status=WorkStatus(int(a["status"])).label)
        elif name == "EscrowHeld":
            works[w.work_id] = replace(w, disputed=True, claim=int(a["disputeId"]))
        elif name == "HoldEnded":
            works[w.work_id] = replace(w, disputed=False, claim=None)
        elif name == "Paid":
            eth = int(a["amount"]) if a["token"].lower() == ETH.lower() else 0
            works[w.work_id] = replace(w, payments=w.payments + 1, paid_wei=w.paid_wei + eth)
