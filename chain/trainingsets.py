"""A model's training set on chain (contracts/TrainingSets.sol): anchor its Merkle root with each
community's count, prove a work's membership, and move the training set's share of the model's
income to the communities by count.

    plan = plan_training_set(chain, ["bafk…", …])           # checks every member's protocol
    anchored = anchor(chain, store, model, plan, sender=owner)
    proof = prove(chain, store, model, work)                  # proof.verified: checked on chain

The member list (work id and CID of every leaf) is published in the content store; its CID is in
the `TrainingSetAnchored` event, so anyone can rebuild the tree and prove a membership.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from web3 import Web3
from web3.contract import Contract

from chain import calls
from chain import gateway as gw
from chain.calls import Call
from chain.client import Chain
from chain.deploy import deploy_training_sets, record
from chain.merkle import MemberTree
from chain.routing import split_own
from chain.types import cid_bytes, cid_text
from core.blockstore import ContentStore
from core.errors import ChainError, InputError
from core.types import Address, Cid, CommunityId, Wei, WorkId

FORMAT = "heritage-training-set-v1"
"""The `format` of a published member list (canonical JSON)."""


@dataclass(frozen=True)
class Member:
    work: WorkId
    cid: Cid
    community: CommunityId


@dataclass(frozen=True)
class TrainingSetPlan:
    """A checked training set, ready to anchor: its members, tree and each community's count."""

    members: tuple[Member, ...]
    tree: MemberTree
    counts: tuple[tuple[CommunityId, int], ...]
    """(community, works in the set), ascending by community."""

    @property
    def total(self) -> int:
        return len(self.members)

    def sample(self, community: CommunityId) -> Member:
        """The member shown to the contract for `community` (its first in the list)."""
        return next(m for m in self.members if m.community == community)

    def document(self) -> bytes:
        """The published member list: canonical JSON (sorted keys, no spaces)."""
        body = {"format": FORMAT, "leafEncoding": ["uint256", "bytes"],
                "members": [[int(m.work), str(m.cid)] for m in self.members]}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class TrainingSetView:
    model: WorkId
    root: bytes
    members_cid: Cid | None
    total: int
    anchored_at: int
    arrived: Wei
    distributed: Wei
    counts: tuple[tuple[CommunityId, int], ...]
    withdrawn: tuple[Wei, ...]


@dataclass(frozen=True)
class MembershipProof:
    model: WorkId
    work: WorkId
    cid: Cid
    root: bytes
    proof: tuple[bytes, ...]
    verified: bool
    """`TrainingSets.isMember` answered true for this proof."""


# ---------------------------------------------------------------------- the contract
def contract_of(chain: Chain) -> Contract:
    """The deployment's TrainingSets; deployed here (from the node's first unlocked account) for
    a deployment recorded before the contract existed, and recorded in deployments/<chainId>.json."""
    art = chain.artifacts["TrainingSets"]
    address = chain.deployment.training_sets
    if not address or len(chain.w3.eth.get_code(Web3.to_checksum_address(address))) == 0:
        accounts = chain.accounts()
        if chain.signer is not None:
            address = deploy_training_sets(chain.w3, chain.artifacts, chain.deployment.registry, signer=chain.signer)
        elif accounts:
            address = deploy_training_sets(chain.w3, chain.artifacts, chain.deployment.registry, sender=accounts[0])
        else:
            raise ChainError("this deployment has no TrainingSets contract and the node has no unlocked account to deploy "
                             "it: set HERITAGE_PRIVATE_KEY to a funded key and run this again")
        chain.deployment = replace(chain.deployment, training_sets=address)
        record(chain.deployment, chain.settings.deployments_dir)
    return chain.w3.eth.contract(address=Web3.to_checksum_address(address), abi=art.abi)


# ---------------------------------------------------------------------- planning
def plan_training_set(chain: Chain, cids: Sequence[str]) -> TrainingSetPlan:
    """Resolve each CID to its registered heritage work and check that its protocol allows
    machine-learning use (not restricted, derivatives and ML allowed); InputError naming every
    member that fails, so none is anchored by mistake."""
    if not cids:
        raise InputError("the training set is empty: list the CIDs of the works the model learned from")
    members, problems = [], []
    for text in dict.fromkeys(cids):
        work = gw.work_by_content(chain, text)
        if work is None:
            problems.append(f"{text}: no registered work has this content")
            continue
        community = CommunityId(int(gw.work(chain, work).community))
        if community == 0:
            problems.append(f"{text}: work {work} is a derivative, not a heritage work")
            continue
        p = gw.protocol_of(chain, work)
        if p.restricted or not p.derivatives_allowed or not p.ml_allowed:
            problems.append(f"{text}: work {work}'s protocol forbids machine-learning use")
            continue
        members.append(Member(work, Cid(text), community))
    if problems:
        raise InputError(f"{len(problems)} training-set member(s) cannot be anchored: " + "; ".join(problems[:10])
                         + ("; …" if len(problems) > 10 else "") + ". Leave them out of the set and train again.")
    tree = MemberTree.of([(m.work, cid_bytes(m.cid)) for m in members])
    counts = tuple(sorted(Counter(m.community for m in members).items()))
    return TrainingSetPlan(tuple(members), tree, counts)


# ---------------------------------------------------------------------- writes
def anchor_call(chain: Chain, model: WorkId, plan: TrainingSetPlan, members_cid: Cid) -> Call:
    counts = [(int(c), n) for c, n in plan.counts]
    samples = []
    for c, _ in plan.counts:
        m = plan.sample(c)
        samples.append((int(m.work), cid_bytes(m.cid), plan.tree.proof(m.work)))
    fn = contract_of(chain).functions.anchor(model, plan.tree.root, cid_bytes(members_cid), counts, plan.total, samples)
    return Call(fn)


def anchor(chain: Chain, store: ContentStore, model: WorkId, plan: TrainingSetPlan, *, sender: str) -> TrainingSetView:
    """Publish the member list, anchor the set for `model` (`sender` must own the model's token);
    the anchored set as the contract records it."""
    members_cid = store.put_bytes(plan.document())
    calls.send(chain, anchor_call(chain, model, plan, members_cid), sender)
    return training_set(chain, model)


def deposit(chain: Chain, model: WorkId, amount: Wei, *, sender: str) -> None:
    """Pay `amount` wei to `model`'s training set."""
    calls.send(chain, Call(contract_of(chain).functions.deposit(model), amount), sender)


def sweep(chain: Chain, model: WorkId, *, sender: str) -> None:
    """Move what the router owes `model`'s pot into its training set."""
    calls.send(chain, Call(contract_of(chain).functions.sweep(model)), sender)


def withdraw(chain: Chain, model: WorkId, community: CommunityId, *, sender: str) -> Wei:
    """Send `community`'s treasury (`sender`) what it is owed; the amount (0 when nothing)."""
    before = owed_of(chain, model, community)
    calls.send(chain, Call(contract_of(chain).functions.withdraw(model, community)), sender)
    return before


# ---------------------------------------------------------------------- reads
def training_set(chain: Chain, model: int) -> TrainingSetView:
    """The anchored set of `model`; ContractRevert `TrainingSetsNotAnchored` when there is none."""
    c = contract_of(chain)
    try:
        root, total, at, arrived, distributed = c.functions.trainingSetOf(model).call()
    except Exception as exc:
        raise chain.decoder.from_exception(exc) or exc from exc
    ids, counts, withdrawn = c.functions.entriesOf(model).call()
    return TrainingSetView(WorkId(model), bytes(root), _members_cid(chain, c, model), int(total), int(at), Wei(int(arrived)),
                           Wei(int(distributed)),
                           tuple((CommunityId(int(i)), int(n)) for i, n in zip(ids, counts, strict=True)),
                           tuple(Wei(int(w)) for w in withdrawn))


def counts_of(chain: Chain, model: int) -> tuple[tuple[CommunityId, int], ...]:
    """Each community's count of works in `model`'s anchored set, ascending ids; () when none is
    anchored, or when this deployment has no TrainingSets yet (a read never deploys it; one call, no
    event scan: what a payment's route needs)."""
    address = chain.deployment.training_sets
    if not address:
        return ()
    c = chain.w3.eth.contract(address=Web3.to_checksum_address(address), abi=chain.artifacts["TrainingSets"].abi)
    ids, counts, _ = c.functions.entriesOf(model).call()
    return tuple((CommunityId(int(i)), int(n)) for i, n in zip(ids, counts, strict=True))


def community_shares(amount: int, counts: Sequence[tuple[CommunityId, int]]) -> list[tuple[CommunityId, int]]:
    """What each community is owed of `amount` arriving at a set alone, by the contract's rule: the
    set pays in whole multiples of its total, `amount // total × count`; the carry (`amount mod
    total`, under `total` wei) waits for the next arrival."""
    total = sum(n for _, n in counts)
    return [(c, amount // total * n) for c, n in counts] if total else []


@dataclass(frozen=True)
class SetCredit:
    """What a model's training set receives of one payment that reaches the model."""

    model: WorkId
    kept: int
    """What the model keeps of the payment (after its parents' upstream share), wei."""
    pot: int
    """Of that, what its split names the set's pot for, wei."""
    total: int
    """Works in the set."""
    communities: tuple[tuple[CommunityId, int, int], ...]
    """(community, its count of works, wei it is owed of `pot`), ascending ids."""


def set_credit(chain: Chain, model: int, kept: int) -> SetCredit | None:
    """How `kept` wei kept by `model` reaches its training set's communities, by the router's split
    rule and the set's count rule; None when the model has no anchored set."""
    counts = counts_of(chain, model)
    if not counts:
        return None
    pot = pot_of(chain, model).lower()
    split = [(r.account.lower(), int(r.ppm)) for r in gw.split_of(chain, model)]
    to_pot = sum(part for account, part in split_own(kept, split) if account == pot) if split else 0
    return SetCredit(WorkId(model), kept, to_pot, sum(n for _, n in counts),
                     tuple((c, n, wei) for (c, n), (_, wei) in zip(counts, community_shares(to_pot, counts), strict=True)))


def owed_of(chain: Chain, model: int, community: int) -> Wei:
    return Wei(int(contract_of(chain).functions.owedOf(model, community).call()))


def pot_of(chain: Chain, model: int) -> Address:
    """The address to name in the model's split for its training set's share."""
    return Address(str(contract_of(chain).functions.potOf(model).call()))


def members_of(chain: Chain, store: ContentStore, model: int) -> tuple[tuple[WorkId, Cid], ...]:
    """The published member list of `model`'s set, checked against the anchored root."""
    view = training_set(chain, model)
    if view.members_cid is None:
        raise ChainError(f"model {model}'s TrainingSetAnchored event is not on this node: the member list is unknown")
    try:
        doc: Any = json.loads(b"".join(store.cat(view.members_cid)))
        if doc.get("format") != FORMAT:
            raise ValueError(doc.get("format"))
        members = tuple((WorkId(int(w)), Cid(str(c))) for w, c in doc["members"])
        tree = MemberTree.of([(w, cid_bytes(c)) for w, c in members])
    except (ValueError, TypeError, KeyError, AttributeError, InputError) as exc:
        raise ChainError(f"model {model}'s published member list {view.members_cid} is not a {FORMAT} list of "
                         f"(work, CID) members ({exc!r}): the set cannot be rebuilt, so no membership can be proven") from exc
    if tree.root != view.root:
        raise ChainError(f"the member list {view.members_cid} does not rebuild model {model}'s anchored root")
    return members


def prove(chain: Chain, store: ContentStore, model: int, work: int) -> MembershipProof:
    """A Merkle proof that `work` is in `model`'s training set, checked by `isMember` on chain;
    NotMember (an InputError) when it is not in the set."""
    members = members_of(chain, store, model)
    found = dict(members)
    if work not in found:
        raise NotMember(f"work {work} is not in model {model}'s training set ({len(members)} works)")
    tree = MemberTree.of([(w, cid_bytes(c)) for w, c in members])
    proof = tree.proof(work)
    ok = bool(contract_of(chain).functions.isMember(model, work, cid_bytes(found[WorkId(work)]), proof).call())
    return MembershipProof(WorkId(model), WorkId(work), found[WorkId(work)], tree.root, tuple(proof), ok)


class NotMember(InputError):
    """The work is not in the model's training set."""


def _members_cid(chain: Chain, c: Contract, model: int) -> Cid | None:
    logs = c.events.TrainingSetAnchored().get_logs(from_block=chain.deployment.block, argument_filters={"modelId": model})
    if not logs:
        return None
    raw = bytes(logs[0]["args"]["membersCid"])
    return cid_text(raw)
