"""Register a trained model as a derivative of the works it learned from (issue 6).

The model file is stored by CID (that CID is both the work's content and its model CID) with a
`DerivativeManifest` whose `ModelMaker.inputs` lists every CID it learned from, registered or not.
Only registered works can be credited, and a derivative names at most 8 parents, so the
registered ones are arranged in a tree under the model:

- up to 8 works: they are the model's parents;
- more: some works stay direct parents and the rest are grouped into *training-set parts*,
  derivatives of at most 8 members each (parts of parts when needed). The plan with the fewest
  nesting levels wins, then the one with the most direct parents; works whose community requires
  consent are direct parents first, so their stewards are asked once (for the model) rather than
  also for a part. A part's content is canonical JSON listing its members' content CIDs, so the
  same group always has the same CID and is registered once, whichever model names it. Its maker
  is the operator (`PersonMaker`): a part is a grouping, not a model output, so it carries no
  model CID; the model's own registration names every root, and there the contract checks each
  root's protocol against machine-learning use.
- Shares: the model routes `upstream_ppm` to its parents, each parent weighted by the number of
  works under it; a part routes the whole (1,000,000 ppm) on to its members the same way, and
  keeps only rounding dust. So every learned-from work receives about `upstream_ppm / n` of each
  payment. The contract's floor (`RegistryFloorNotMet`) applies per heritage root: each root's
  *effective* share of a payment to the model (and to every part) must reach its `floorPpm`, so
  `upstream_ppm / n` must reach the largest floor among n learned-from works.

Everything is checked before anything is sent: protocols (ML use, derivatives, restricted,
commercial), parents' status, the floor and the contract's limits (MAX_PARENTS,
MAX_LINEAGE_DEPTH, MAX_ROUTE_NODES, MAX_ROOTS in contracts/libraries/HeritageTypes.sol), so a
refusal leaves no orphan part behind. Rerunning is idempotent: a model whose content CID is
registered is returned as it is; parts already registered are reused. A part pending consent
cannot be a parent yet (the router takes active parents only): the run stops there, says whose
consent is awaited, and the same call after the stewards approve finishes the job.

`ml` never imports `chain` (DESIGN.md) and this module imports no `ml`: `protocol_sources` returns
`core.provenance.ProtocolSource`s, the type `ml.data.training.Source` names, so the caller hands
them to the training-set choice as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from chain import gateway as gw
from chain.client import Chain
from chain.types import DerivativeParams, Protocol, Recipient, parameters_hash
from core.blockstore import ContentStore
from core.cid import from_text, to_text
from core.errors import ChainError, InputError
from core.manifest import DerivativeManifest, Manifest, ModelMaker, Parent, PersonMaker, make, to_bytes
from core.provenance import ProtocolSource as ProtocolSource
from core.types import PPM, Cid, CommunityId, Ppm, WorkId, WorkStatus

# Limits of contracts/libraries/HeritageTypes.sol.
MAX_PARENTS = 8
MAX_LINEAGE_DEPTH = 8
MAX_ROUTE_NODES = 64
MAX_ROOTS = 16
DEFAULT_UPSTREAM_PPM = Ppm(200_000)
PART_KIND = "heritage-ledger/training-set-part"

def _describe(status: WorkStatus) -> str:
    return {WorkStatus.NONE: "unknown", WorkStatus.PENDING: "pending consent"}.get(status, status.label)


@dataclass(frozen=True)
class Refusal:
    work_id: WorkId
    cid: Cid
    reason: str


class DeriveRefused(InputError):
    """Works the model learned from forbid it; `refusals` says which and why. Nothing was sent."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        self.refusals = tuple(refusals)
        listed = "; ".join(f"work {r.work_id} ({r.cid}): {r.reason}" for r in self.refusals)
        super().__init__(f"the model cannot be registered, nothing was sent: {listed}. Train again without these works "
                         "(ml.data.training.training_set leaves them out given chain.derive.protocol_sources)")


@dataclass(frozen=True)
class Consent:
    """A consent still awaited: `community`'s stewards must approve `work`
    (`heritage derivative approve WORK --community COMMUNITY`)."""

    work: WorkId
    community: CommunityId


@dataclass(frozen=True)
class Derived:
    model_cid: Cid
    model_work: WorkId | None
    """None while a training-set part awaits consent: run again once it is given."""
    manifest_cid: Cid | None
    parts: tuple[WorkId, ...]
    pending: bool
    awaiting: tuple[Consent, ...]
    unregistered: tuple[Cid, ...]
    """Learned-from content not registered on chain: listed in the manifest, credited nothing."""
    existing: bool = False
    """The model was registered already; nothing was sent."""


@dataclass(frozen=True)
class _Leaf:
    work: WorkId
    cid: Cid
    depth: int
    route: int
    weight: int = 1


@dataclass(frozen=True)
class _Part:
    members: tuple[_Leaf | _Part, ...]

    @property
    def weight(self) -> int:
        return sum(m.weight for m in self.members)

    @property
    def depth(self) -> int:
        return 1 + max(m.depth for m in self.members)

    @property
    def route(self) -> int:
        return 1 + sum(m.route for m in self.members)


class _View:
    """Cached reads of the registry and router (chain.gateway)."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self._roots: dict[int, tuple[WorkId, ...]] = {}
        self._protocols: dict[int, Protocol] = {}

    def work_by(self, cid: str) -> WorkId | None:
        return gw.work_by_content(self.chain, cid)

    def roots(self, work: WorkId) -> tuple[WorkId, ...]:
        if work not in self._roots:
            self._roots[work] = gw.roots_of(self.chain, work)
        return self._roots[work]

    def protocol(self, root: WorkId) -> Protocol:
        if root not in self._protocols:
            self._protocols[root] = gw.protocol_of(self.chain, root)
        return self._protocols[root]

    def status(self, work: WorkId) -> WorkStatus:
        return gw.node_of(self.chain, work).status

    def parents(self, work: WorkId) -> list[WorkId]:
        return [p.work for p in gw.parents_of(self.chain, work)]

    def awaiting(self, work: WorkId) -> list[Consent]:
        communities = {gw.work(self.chain, r).community for r in self.roots(work) if self.protocol(r).consent_required}
        return [Consent(work, c) for c in sorted(communities) if gw.consent_needed(self.chain, work, c)]


def protocol_sources(chain: Chain, cids: Iterable[str]) -> tuple[ProtocolSource, ...]:
    """What each content's protocols allow, for `ml.data.training.training_set`: a registered work
    allows ML use when every heritage root allows ML use and derivatives (a model is a derivative);
    it is restricted when a root is. Unregistered content gets the defaults and `work_id` None (a
    secret/sacred work is registered as a salted commitment, so its CID is never found here)."""
    view = _View(chain)
    out = []
    for cid in cids:
        work = view.work_by(cid)
        if work is None:
            out.append(ProtocolSource(Cid(cid)))
            continue
        protocols = [view.protocol(r) for r in view.roots(work)]
        out.append(ProtocolSource(Cid(cid), ml_allowed=all(p.ml_allowed and p.derivatives_allowed for p in protocols),
                                  restricted=any(p.restricted for p in protocols), work_id=work))
    return tuple(out)


def conditioning_cids(chain: Chain, works: Sequence[int]) -> dict[int, Cid]:
    """The content CID of each work a model is to be conditioned on (or read), by work id, after
    checking that every one may be used by a model: InputError naming each refused work (restricted,
    or a root's protocol forbids ML use or derivatives) before anything is read."""
    count = gw.work_count(chain)
    refusals, cids = [], {}
    for w in dict.fromkeys(works):
        if not 1 <= w <= count:
            raise InputError(f"work {w} does not exist: `heritage work list` shows the registered works")
        view = gw.work(chain, w)
        if view.status == WorkStatus.RESTRICTED or view.content_cid is None:
            refusals.append(f"work {w}: restricted (secret/sacred), never read")
            continue
        cids[w] = view.content_cid
    for w, source in zip(list(cids), protocol_sources(chain, list(cids.values())), strict=True):
        if source.restricted:
            refusals.append(f"work {w}: restricted (secret/sacred), never read")
        elif not source.ml_allowed:
            refusals.append(f"work {w}: its community's protocol forbids machine-learning use (or derivatives)")
    if refusals:
        raise InputError("nothing was generated or sent: " + "; ".join(refusals) +
                         ". Condition on works whose communities allow machine-learning use")
    return cids


def register_model(chain: Chain, store: ContentStore, *, model_file: Path, architecture: str,
                   learned_from: Sequence[str], operator: str, parameters: Mapping[str, Any] | None = None,
                   seed: int | None = None, metrics: Mapping[str, float] | None = None, title: str | None = None,
                   upstream_ppm: int = DEFAULT_UPSTREAM_PPM, commercial: bool = False) -> Derived:
    """Store `model_file` and register it, sent by `operator` (its split's sole recipient), as a
    derivative of the registered works among `learned_from` (content CIDs), through training-set
    parts when there are more than 8. `parameters` must be JSON values; they and `seed` are hashed
    into the on-chain parameters hash as `heritage derivative register` does.

    Raises InputError (nothing sent) when no learned-from work is registered, the floor or a limit
    is not met, or a work is not active; DeriveRefused (an InputError) when a protocol forbids it."""
    model_cid = store.put_file(model_file)
    inputs = tuple(sorted({to_text(from_text(c)) for c in learned_from}))
    return _derive(chain, store, content=model_cid, model_cid=model_cid, architecture=architecture, inputs=inputs,
                   operator=operator, parameters=parameters, seed=seed, metrics=metrics, upstream_ppm=upstream_ppm,
                   commercial=commercial, renditions=None,
                   title=title or f"{architecture} model trained on {len(inputs)} pieces",
                   description=lambda unregistered: f"A trained model. It learned from {len(inputs)} pieces (maker.inputs); "
                                                    f"{unregistered} of them are not registered on chain and receive no "
                                                    "royalties.")


def register_output(chain: Chain, store: ContentStore, *, content: Path, model_file: Path, architecture: str,
                    made_from: Sequence[str], operator: str, title: str, description: str,
                    renditions: Mapping[str, Path] | None = None, parameters: Mapping[str, Any] | None = None,
                    seed: int | None = None, metrics: Mapping[str, float] | None = None,
                    upstream_ppm: int = DEFAULT_UPSTREAM_PPM, commercial: bool = False) -> Derived:
    """Store a model's output (`content`, the primary file; `renditions` the same piece in other
    formats by media type) and the model file, and register the output, sent by `operator`, as a
    derivative of the registered works among `made_from` (content CIDs: what the model read or was
    conditioned on), with the model's CID and parameters hash on chain. The same protocol checks,
    parts, consent and idempotence as `register_model`; `Derived.model_cid` is the output's CID."""
    model_cid = store.put_file(model_file)
    output = store.put_file(content)
    files = {media: store.put_file(path) for media, path in sorted((renditions or {}).items())}
    inputs = tuple(sorted({to_text(from_text(c)) for c in made_from}))
    return _derive(chain, store, content=output, model_cid=model_cid, architecture=architecture, inputs=inputs,
                   operator=operator, parameters=parameters, seed=seed, metrics=metrics, upstream_ppm=upstream_ppm,
                   commercial=commercial, renditions=files or None, title=title,
                   description=lambda unregistered: description + (f" {unregistered} of the works it was made from are "
                                                                   "not registered on chain and receive no royalties."
                                                                   if unregistered else ""))


def _derive(chain: Chain, store: ContentStore, *, content: Cid, model_cid: Cid, architecture: str, inputs: tuple[Cid, ...],
            operator: str, parameters: Mapping[str, Any] | None, seed: int | None, metrics: Mapping[str, float] | None,
            upstream_ppm: int, commercial: bool, renditions: Mapping[str, Cid] | None, title: str,
            description: Callable[[int], str]) -> Derived:
    """Register stored `content`, made by the model `model_cid` from `inputs`, under the registered
    ones among them (module doc); `description(n_unregistered)` is the manifest's description."""
    if not inputs:
        raise InputError("the model read nothing: give the content CIDs of the works it learned from or was made from")
    view = _View(chain)
    found = {cid: view.work_by(cid) for cid in inputs}
    works = {cid: w for cid, w in found.items() if w is not None}
    unregistered = tuple(cid for cid, w in found.items() if w is None)
    if (existing := view.work_by(content)) is not None:
        return _existing(view, existing, content, works, inputs)
    if not works:
        raise InputError(f"none of the {len(inputs)} pieces the model read is registered on chain, so no community can "
                         "be credited: register the source works first (`heritage work register FILE --community ID`) "
                         "and run this again")
    plan = _check(view, works, upstream_ppm=upstream_ppm, commercial=commercial)
    run = _Run(chain, view, store, operator)
    parents = [node.work if isinstance(node, _Leaf) else run.part(node) for node in plan]
    if run.blocked:
        return Derived(content, None, None, tuple(run.parts), True, tuple(run.awaiting), unregistered)
    weights = [n.weight for n in plan]
    params = dict(parameters or {})
    manifest = make(
        DerivativeManifest, title=title, content_cid=content,
        maker=ModelMaker(model_cid=model_cid, architecture=architecture, parameters=params, seed=seed, inputs=inputs,
                         metrics=dict(metrics or {}), operator=operator),
        parents=tuple(Parent(work_id=w, ppm=p) for w, p in zip(_known(parents), _shares(upstream_ppm, weights), strict=True)),
        description=description(len(unregistered)), renditions=dict(renditions) if renditions else None,
    )
    work = run.register(content, manifest, _known(parents), weights, upstream_ppm, model_cid=from_text(model_cid),
                        params_hash=parameters_hash(params, seed), commercial=commercial)
    pending = view.status(work) == WorkStatus.PENDING
    return Derived(content, work, _manifest_of(view, work), tuple(run.parts), pending,
                   tuple(run.awaiting + (view.awaiting(work) if pending else [])), unregistered)


def _check(view: _View, works: Mapping[Cid, WorkId], *, upstream_ppm: int, commercial: bool) -> tuple[_Leaf | _Part, ...]:
    """The plan (`_plan`) of the model's parents, works requiring consent first; raises when the
    chain would refuse it, before anything is sent."""
    refusals: list[Refusal] = []
    leaves: list[_Leaf] = []
    consent: set[WorkId] = set()
    for cid, work in sorted(works.items(), key=lambda kv: kv[1]):
        node = gw.node_of(view.chain, work)
        status, depth, route = node.status, node.depth, node.route_size
        if status != WorkStatus.ACTIVE:
            raise InputError(f"work {work} ({cid}) is {_describe(status)} and cannot be a parent: "
                             + ("wait for its communities' consent and run this again" if status == WorkStatus.PENDING
                                else "train again without it"))
        for root in view.roots(work):
            p = view.protocol(root)
            reason = ("restricted (secret/sacred): no derivative may exist" if p.restricted else
                      "its community does not allow derivatives" if not p.derivatives_allowed else
                      "its community does not allow machine-learning use" if not p.ml_allowed else
                      "its community does not allow commercial use: register as non-commercial"
                      if commercial and not p.commercial_allowed else None)
            if reason is not None:
                refusals.append(Refusal(work, cid, reason + ("" if root == work else f" (heritage root {root})")))
            if p.consent_required:
                consent.add(work)
        leaves.append(_Leaf(work, cid, depth, route))
    if refusals:
        raise DeriveRefused(refusals)
    roots = {r for w in works.values() for r in view.roots(w)}
    if len(roots) > MAX_ROOTS:
        raise InputError(f"the works the model learned from descend from {len(roots)} heritage works; a derivative may "
                         f"descend from at most {MAX_ROOTS} (MAX_ROOTS): train on works of fewer heritage roots")
    if not len(leaves) <= upstream_ppm <= PPM:
        raise InputError(f"upstream_ppm {upstream_ppm} is out of range: at least 1 ppm per registered work "
                         f"({len(leaves)}) and at most {PPM}")
    leaves.sort(key=lambda leaf: leaf.work not in consent)
    plan = _plan(leaves)
    _check_floors(view, plan, upstream_ppm)
    depth, route = 1 + max(n.depth for n in plan), 1 + sum(n.route for n in plan)
    if depth > MAX_LINEAGE_DEPTH or route > MAX_ROUTE_NODES:
        raise InputError(f"the model's lineage would be {depth} deep with {route} works on a payment's route; the chain "
                         f"allows {MAX_LINEAGE_DEPTH} and {MAX_ROUTE_NODES}: train on fewer or shallower works")
    return plan


def _check_floors(view: _View, plan: Sequence[_Leaf | _Part], upstream_ppm: int) -> None:
    """Every heritage root must receive at least its protocol's floor of a payment to each
    derivative above it (the model and every part), its effective share computed as the registry
    does (ProtocolRules.mergeRootShares: share × root share / PPM, rounded down, summed over paths)."""
    def merged(nodes: Sequence[_Leaf | _Part], total: int) -> dict[WorkId, int]:
        out: dict[WorkId, int] = {}
        for node, share in zip(nodes, _shares(total, [n.weight for n in nodes]), strict=True):
            below = ({s.work: int(s.ppm) for s in gw.root_shares_of(view.chain, node.work)} if isinstance(node, _Leaf)
                     else merged(node.members, PPM))
            for root, ppm in below.items():
                out[root] = out.get(root, 0) + share * ppm // PPM
        return out

    def check(nodes: Sequence[_Leaf | _Part], total: int) -> None:
        for root, effective in sorted(merged(nodes, total).items()):
            floor = view.protocol(root).floor_ppm
            if effective < floor:
                raise InputError(f"heritage work {root} would receive {effective} ppm of each payment; it must receive at "
                                 f"least {floor} ppm, the floor of heritage work {root}'s protocol, through every "
                                 "generation: raise upstream_ppm or train on fewer works")
        for node in nodes:
            if isinstance(node, _Part):
                check(node.members, PPM)

    check(plan, upstream_ppm)


def _plan(leaves: Sequence[_Leaf]) -> tuple[_Leaf | _Part, ...]:
    """The model's parents: the first `direct` leaves, and the rest grouped into parts of at most
    8, nested until they fit the slots left. Fewest nesting levels first, then most direct."""
    best: tuple[tuple[int, int], tuple[_Leaf | _Part, ...]] | None = None
    for direct in range(min(len(leaves), MAX_PARENTS), -1, -1):
        slots, levels = MAX_PARENTS - direct, 0
        rest: list[_Leaf | _Part] = list(leaves[direct:])
        if rest and not slots:
            continue
        while len(rest) > slots:
            k = -(-len(rest) // MAX_PARENTS)
            q, r = divmod(len(rest), k)
            bounds = [i * q + min(i, r) for i in range(k + 1)]
            rest = [_Part(tuple(rest[a:b])) for a, b in pairwise(bounds)]
            levels += 1
        if best is None or (levels, -direct) < best[0]:
            best = ((levels, -direct), (*leaves[:direct], *rest))
    assert best is not None
    return best[1]


def _shares(total: int, weights: Sequence[int]) -> list[int]:
    """`total` ppm in proportion to `weights`; the rounding remainder goes one ppm each to the first."""
    whole = sum(weights)
    shares = [total * w // whole for w in weights]
    for i in range(total - sum(shares)):
        shares[i] += 1
    return shares


def _part_bytes(part: _Part, cids: Sequence[Cid]) -> bytes:
    doc = {"kind": PART_KIND, "schema_version": 1, "works": part.weight, "members": list(cids)}
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


@dataclass
class _Run:
    chain: Chain
    view: _View
    store: ContentStore
    operator: str
    parts: list[WorkId] = field(default_factory=list)
    awaiting: list[Consent] = field(default_factory=list)
    blocked: bool = False

    def part(self, part: _Part) -> WorkId | None:
        """Register `part` after its member parts; None while a member awaits consent."""
        found = [m.work if isinstance(m, _Leaf) else self.part(m) for m in part.members]
        ids = _known(found)
        if len(ids) < len(found):
            return None
        cids = [m.cid if isinstance(m, _Leaf) else _content_of(self.view, w) for m, w in zip(part.members, ids, strict=True)]
        content = self.store.put_bytes(_part_bytes(part, cids))
        weights = [m.weight for m in part.members]
        work = self.view.work_by(content)
        if work is None:
            manifest = make(
                DerivativeManifest, title=f"Training-set part: {part.weight} works", content_cid=content,
                maker=PersonMaker(address=self.operator),
                parents=tuple(Parent(work_id=w, ppm=p) for w, p in zip(ids, _shares(PPM, weights), strict=True)),
                description="Groups works a model learned from so that it can name them all as ancestors (a derivative "
                            "has at most 8 parents); routes every payment on to them.",
            )
            work = self.register(content, manifest, ids, weights, PPM)
        elif sorted(self.view.parents(work)) != sorted(ids):
            raise ChainError(f"training-set part {content} is registered as work {work} with other parents than its "
                             "members: it was not registered by this service; report it")
        self.parts.append(work)
        if self.view.status(work) != WorkStatus.ACTIVE:
            self.blocked = True
            self.awaiting.extend(self.view.awaiting(work))
            return None
        return work

    def register(self, content: Cid, manifest: Manifest, parents: Sequence[WorkId], weights: Sequence[int], upstream: int, *,
                 model_cid: bytes = b"", params_hash: bytes = b"\0" * 32, commercial: bool = False) -> WorkId:
        manifest_cid = from_text(self.store.put_bytes(to_bytes(manifest)))
        params = DerivativeParams(from_text(content), manifest_cid, tuple(parents),
                                  tuple(Ppm(p) for p in _shares(upstream, weights)), (Recipient(self.operator, PPM),),
                                  model_cid, params_hash, commercial)
        return gw.register_derivative(self.chain, params, sender=self.operator)


def _known(works: Sequence[WorkId | None]) -> list[WorkId]:
    return [w for w in works if w is not None]


def _content_of(view: _View, work: WorkId) -> Cid:
    cid = gw.work(view.chain, work).content_cid
    assert cid is not None, "a training-set part is public content"
    return cid


def _manifest_of(view: _View, work: WorkId) -> Cid | None:
    return gw.work(view.chain, work).manifest_cid


def _existing(view: _View, model: WorkId, model_cid: Cid, works: Mapping[Cid, WorkId], inputs: Sequence[Cid]) -> Derived:
    """The result for a model registered already, read from the chain: its parts are the works
    between it and the learned-from works; a learned-from piece outside its lineage (unregistered
    then, perhaps registered since) is unregistered for this model."""
    parts: list[WorkId] = []
    reached: set[WorkId] = set()
    frontier = view.parents(model)
    while frontier:
        work = frontier.pop(0)
        if work in works.values():
            reached.add(work)
        elif work not in parts:
            parts.append(work)
            frontier.extend(view.parents(work))
    pending = view.status(model) == WorkStatus.PENDING
    unregistered = tuple(c for c in inputs if works.get(c) not in reached)
    return Derived(model_cid, model, _manifest_of(view, model), tuple(sorted(parts)), pending,
                   tuple(view.awaiting(model)) if pending else (), unregistered, existing=True)
