"""The typed gateway to the registry and the router: every read and write the platform makes.

Writes take the frozen parameter types of chain/types.py and a sender, send one transaction
(chain/calls.py builds it) and answer the ids the transaction's own events name — never
`workCount()` read afterwards, which is wrong when another registration lands in between. Reads
answer typed views (`WorkView`, `Protocol`, `NodeView`, …) instead of tuples.

    from chain import gateway as gw
    community = gw.register_community(chain, name="Singers", stewards=[s], threshold=1, treasury=t, sender=s)
    work = gw.register_heritage(chain, HeritageParams(community, cid_bytes(cid), split=everything_to(t)), sender=s)
    gw.work(chain, work).status  # WorkStatus.ACTIVE

Registrations commit first and reveal in a later block (commit–reveal: `commit_registration`);
the salt travels in `HeritageParams.salt` / `DerivativeParams.salt`. Disputes (claims with a
bond, the committee's ruling, escrow release, bonds) are in chain/disputes.py.

A revert raises the contract's named error (chain.errors.ContractRevert); a read of an id the
contract does not know raises web3's error as the node gives it.
"""

from __future__ import annotations

from collections.abc import Sequence

from web3 import Web3
from web3.types import RPCEndpoint

from chain import calls
from chain.client import Chain
from chain.types import (
    CommunityView,
    DerivativeParams,
    HeritageParams,
    MachineProvenance,
    NodeView,
    ParentShare,
    Protocol,
    Recipient,
    Sent,
    WorkView,
    cid_bytes,
)
from core.errors import ChainError
from core.types import ETH, Address, CommunityId, Ppm, Wei, WorkId, WorkStatus

MAX_COMMITMENT_AGE = 86_400
"""Seconds a commitment stays usable (the contracts' MAX_COMMITMENT_AGE)."""

__all__ = [
    "approvals_of",
    "approve_derivative",
    "balance_of",
    "cancel_nonce",
    "commit_registration",
    "community",
    "community_count",
    "consent_needed",
    "credits_of",
    "deploy_receiver",
    "escrow_of",
    "is_steward",
    "needs_commitment",
    "node_of",
    "nonce_of",
    "parents_of",
    "pay",
    "pay_token",
    "pending_consents_of",
    "protocol_of",
    "provenance_of",
    "receiver_of",
    "register_community",
    "register_derivative",
    "register_heritage",
    "register_heritage_batch",
    "register_restricted",
    "reject_derivative",
    "root_shares_of",
    "roots_of",
    "router_holdings",
    "royalty_info",
    "set_protocol",
    "set_split",
    "split_of",
    "status_of",
    "withdraw",
    "work",
    "work_by_content",
    "work_count",
]


def _one(sent: Sent, event: str, key: str = "workId") -> int:
    ids = sent.ids(event, key)
    if len(ids) != 1:
        raise ChainError(f"transaction {sent.tx} emitted {len(ids)} {event} events, not one: it is not the call this "
                         "service made; report it")
    return ids[0]


# ---------------------------------------------------------------------- writes
def register_community(chain: Chain, *, name: str, stewards: Sequence[str], threshold: int, treasury: str,
                       sender: str) -> CommunityId:
    """Register a community with its stewards, k-of-n `threshold` and treasury; its id."""
    sent = calls.send(chain, calls.register_community(chain, name=name, stewards=stewards, threshold=threshold,
                                                       treasury=treasury), sender)
    return CommunityId(_one(sent, "CommunityRegistered", "communityId"))


def commit_registration(chain: Chain, registrant: str, content: bytes, salt: bytes, *, sender: str) -> Sent:
    """Commit `registrant` to `content` with `salt` (`sender` may be a relayer) and wait for the
    commitment's receipt: a registration sent after this returns lands in a later block, as the
    registry requires (the embedded anvil mines each transaction in its own block)."""
    return calls.send(chain, calls.commit_registration(chain, registrant, content, salt), sender)


def chain_time(chain: Chain) -> int:
    """The latest block's timestamp: one JSON-RPC call, without web3's formatting of the block."""
    answer = chain.w3.provider.make_request(RPCEndpoint("eth_getBlockByNumber"), ["latest", False])
    if "result" not in answer or not answer["result"]:
        raise ChainError(f"the node gave no latest block: {answer.get('error', answer)}")
    return int(answer["result"]["timestamp"], 16)


def needs_commitment(chain: Chain, registrant: str, content: bytes, salt: bytes, community: int = 0) -> bool:
    """Whether `registrant` must commit before registering `content` with `salt`: False when a live
    commitment is there already (a resumed registration) or `community` holds the content (a
    k-of-n registration under way: later stewards approve without committing)."""
    reads = calls.commitment_reads(chain, registrant, content, salt)
    record, claim = (tuple(int(v) for v in r.fn.call()) for r in reads)
    return commitment_needed(record, claim, community, now=chain_time(chain))


def commitment_needed(record: tuple[int, ...], claim: tuple[int, ...], community: int, *, now: int) -> bool:
    """`needs_commitment` from what `calls.commitment_reads` read: the commitment's (block, time)
    and the content's claim (community, expiry), at the chain's time `now`."""
    block, at = record
    if block and at + MAX_COMMITMENT_AGE >= now:
        return False
    held, expiry = claim
    return community == 0 or not (held == community and expiry >= now)


def _commit_once(chain: Chain, registrant: str, content: bytes, salt: bytes, community: int, sender: str) -> None:
    if needs_commitment(chain, registrant, content, salt, community):
        commit_registration(chain, registrant, content, salt, sender=sender)


def register_heritage(chain: Chain, params: HeritageParams, *, sender: str) -> WorkId | None:
    """Register a heritage work (`sender`: a steward of `params.community`): commit to its content
    (unless the community holds it already), then reveal it in a later block. Its id, or None
    while the registration awaits more stewards: a split other than everything to the treasury,
    in a community whose threshold k > 1, registers at the k-th steward's call with the same
    `params` (salt included); the earlier calls record approvals (`ApprovalRecorded`)."""
    _commit_once(chain, sender, params.content, params.salt, params.community, sender)
    ids = calls.send(chain, calls.register_heritage(chain, params), sender).ids("HeritageWorkRegistered")
    return WorkId(ids[0]) if ids else None


def register_heritage_batch(chain: Chain, batch: Sequence[HeritageParams], *, sender: str) -> list[WorkId | None]:
    """Register several heritage works in one transaction (each committed first, as in
    `register_heritage`); their ids in `batch`'s order, None for those awaiting more stewards."""
    for params in batch:
        _commit_once(chain, sender, params.content, params.salt, params.community, sender)
    sent = calls.send(chain, calls.register_heritage_batch(chain, batch), sender)
    by_content = {bytes(args["contentCid"]): WorkId(int(args["workId"]))
                  for name, args in sent.events if name == "HeritageWorkRegistered"}
    return [by_content.get(p.content) for p in batch]


def register_restricted(chain: Chain, *, community: CommunityId, commitment: bytes, manifest: bytes = b"",
                        labels: int = 0, labels_version: int = 1, reserved_keys: Sequence[bytes] = (),
                        sender: str) -> WorkId:
    """Register a secret/sacred work as its salted hash `commitment` only; its id. `reserved_keys`
    (keccak256 of binary CIDs, at most 8) can then never register publicly."""
    call = calls.register_restricted(chain, community=community, commitment=commitment, manifest=manifest, labels=labels,
                                     labels_version=labels_version, reserved_keys=reserved_keys)
    return WorkId(_one(calls.send(chain, call, sender), "HeritageWorkRegistered"))


def register_derivative(chain: Chain, params: DerivativeParams, *, sender: str) -> WorkId:
    """Commit to the derivative's content, then register it in a later block; its id (its status
    says whether it awaits consent: `status_of`)."""
    _commit_once(chain, sender, params.content, params.salt, 0, sender)
    return WorkId(_one(calls.send(chain, calls.register_derivative(chain, params), sender), "DerivativeRegistered"))


def approve_derivative(chain: Chain, work: WorkId, community: CommunityId, *, sender: str) -> WorkStatus:
    """One steward's consent of `community` to the pending `work`; the work's status after it."""
    calls.send(chain, calls.approve_derivative(chain, work, community), sender)
    return status_of(chain, work)


def reject_derivative(chain: Chain, work: WorkId, community: CommunityId, *, sender: str) -> WorkStatus:
    """One steward's refusal of `community` of the pending `work`; the work's status after it."""
    calls.send(chain, calls.reject_derivative(chain, work, community), sender)
    return status_of(chain, work)


def set_protocol(chain: Chain, work: WorkId, protocol: Protocol, *, sender: str) -> bool:
    """Change a heritage work's protocol; whether it applied. A change that only tightens applies
    on one steward's call; one that loosens records this steward's approval (False) and applies
    at the community's threshold (True)."""
    return _applied(calls.send(chain, calls.set_protocol(chain, work, protocol), sender), "ProtocolSet", work)


def set_split(chain: Chain, work: WorkId, split: Sequence[Recipient], *, sender: str) -> bool:
    """Change a work's split; whether it applied: a heritage work's at the k-th steward's call
    (False before: an approval recorded), a derivative's at once by its owner."""
    return _applied(calls.send(chain, calls.set_split(chain, work, split), sender), "SplitSet", work)


def _applied(sent: Sent, event: str, work: int) -> bool:
    return work in sent.ids(event)


def cancel_nonce(chain: Chain, *, sender: str) -> int:
    """Void every registry signature `sender` made with its current nonce; the nonce cancelled."""
    return _one(calls.send(chain, calls.cancel_nonce(chain), sender), "NonceCancelled", "nonce")


def approvals_of(chain: Chain, community: int, subject: bytes) -> int:
    """Approvals counted for `subject` (an `ApprovalRecorded` subject) under the community's current stewards."""
    return int(chain.registry.functions.approvalsOf(community, subject).call())


def pay(chain: Chain, work: WorkId, amount: Wei, *, usage_ref: bytes, usage_time: int, sender: str) -> Sent:
    """Pay `amount` wei to `work`; credits flow up its lineage."""
    return calls.send(chain, calls.pay(chain, work, amount, usage_ref=usage_ref, usage_time=usage_time), sender)


def pay_token(chain: Chain, work: WorkId, token: str, amount: int, *, usage_ref: bytes, usage_time: int,
              sender: str) -> Sent:
    """Pay `amount` units of the ERC-20 `token` to `work` (the router must be approved first)."""
    call = calls.pay_token(chain, work, token, amount, usage_ref=usage_ref, usage_time=usage_time)
    return calls.send(chain, call, sender)


def withdraw(chain: Chain, token: str = ETH, *, sender: str) -> Wei:
    """Withdraw `sender`'s whole balance of `token`; the amount moved."""
    sent = calls.send(chain, calls.withdraw(chain, token), sender)
    return Wei(sum(sent.ids("Withdrawn", "amount")))


# ---------------------------------------------------------------------- reads
def work_count(chain: Chain) -> int:
    return int(chain.registry.functions.workCount().call())


def community_count(chain: Chain) -> int:
    return int(chain.registry.functions.communityCount().call())


def work(chain: Chain, work_id: int) -> WorkView:
    return WorkView.from_abi(work_id, chain.registry.functions.workOf(work_id).call())


def work_by_content(chain: Chain, cid: str | bytes) -> WorkId | None:
    """The work registered with this content CID (text or binary) or restricted commitment; None if none."""
    found = int(chain.registry.functions.workByContent(cid_bytes(cid)).call())
    return WorkId(found) if found else None


def protocol_of(chain: Chain, work_id: int) -> Protocol:
    """The protocol of a heritage work (a derivative answers its roots' through `roots_of`)."""
    return Protocol.from_abi(chain.registry.functions.protocolOf(work_id).call())


def roots_of(chain: Chain, work_id: int) -> tuple[WorkId, ...]:
    """The heritage works `work_id` descends from (a heritage work is its own root)."""
    return tuple(WorkId(int(r)) for r in chain.registry.functions.rootsOf(work_id).call())


def root_shares_of(chain: Chain, work_id: int) -> tuple[ParentShare, ...]:
    """Each heritage root's effective share of a payment to `work_id` (product along paths, summed)."""
    roots, ppms = chain.registry.functions.rootSharesOf(work_id).call()
    return tuple(ParentShare(WorkId(int(r)), Ppm(int(p))) for r, p in zip(roots, ppms, strict=True))


def provenance_of(chain: Chain, work_id: int) -> MachineProvenance:
    model, params_hash = chain.registry.functions.machineProvenanceOf(work_id).call()
    return MachineProvenance(bytes(model), bytes(params_hash))


def pending_consents_of(chain: Chain, work_id: int) -> int:
    return int(chain.registry.functions.pendingConsentsOf(work_id).call())


def consent_needed(chain: Chain, work_id: int, community_id: int) -> bool:
    return bool(chain.registry.functions.consentNeeded(work_id, community_id).call())


def community(chain: Chain, community_id: int) -> CommunityView:
    return CommunityView.from_abi(community_id, chain.registry.functions.communityOf(community_id).call())


def is_steward(chain: Chain, community_id: int, account: str) -> bool:
    return bool(chain.registry.functions.isSteward(community_id, account).call())


def nonce_of(chain: Chain, account: str) -> int:
    """The next EIP-712 nonce of a steward (`nonces`)."""
    return int(chain.registry.functions.nonces(account).call())


def status_of(chain: Chain, work_id: int) -> WorkStatus:
    return WorkStatus(int(chain.router.functions.statusOf(work_id).call()))


def node_of(chain: Chain, work_id: int) -> NodeView:
    return NodeView.from_abi(chain.router.functions.nodeOf(work_id).call())


def parents_of(chain: Chain, work_id: int) -> tuple[ParentShare, ...]:
    parents, shares = chain.router.functions.parentsOf(work_id).call()
    return tuple(ParentShare(WorkId(int(p)), Ppm(int(s))) for p, s in zip(parents, shares, strict=True))


def split_of(chain: Chain, work_id: int) -> tuple[Recipient, ...]:
    return tuple(Recipient.from_abi(r) for r in chain.router.functions.splitOf(work_id).call())


def balance_of(chain: Chain, account: str, token: str = ETH) -> Wei:
    """What `account` can withdraw of `token` (ETH by default)."""
    return Wei(int(chain.router.functions.balanceOf(Web3.to_checksum_address(token),
                                                    Web3.to_checksum_address(account)).call()))


def escrow_of(chain: Chain, work_id: int, token: str = ETH) -> Wei:
    """What the router holds in escrow for the disputed `work_id`."""
    return Wei(int(chain.router.functions.escrowOf(work_id, Web3.to_checksum_address(token)).call()))


def credits_of(chain: Chain, work_id: int) -> tuple[int, int]:
    """(split cap, route credits) of `work_id`: how many recipients its split may have and the
    route credits its registrant holds (`RoyaltyRouter.creditsOf`)."""
    cap, credits = chain.router.functions.creditsOf(work_id).call()
    return int(cap), int(credits)


def receiver_of(chain: Chain, work_id: int) -> Address:
    """The work's ERC-2981 royalty receiver (deterministic: known before it is deployed)."""
    return Address(str(chain.router.functions.receiverOf(work_id).call()))


def deploy_receiver(chain: Chain, work_id: WorkId, *, sender: str) -> Address:
    """Create the work's royalty receiver if it is not there yet; its address."""
    address = receiver_of(chain, work_id)
    if len(chain.w3.eth.get_code(Web3.to_checksum_address(address))) == 0:
        calls.send(chain, calls.deploy_receiver(chain, work_id), sender)
    return address


def royalty_info(chain: Chain, work_id: int, sale_price: Wei) -> tuple[Address, Wei]:
    """ERC-2981 `royaltyInfo`: (receiver, amount) for an active work, (zero address, 0) otherwise."""
    receiver, amount = chain.registry.functions.royaltyInfo(work_id, sale_price).call()
    return Address(str(receiver)), Wei(int(amount))


def router_holdings(chain: Chain) -> Wei:
    """The router's own ETH balance (what the solvency check compares with what it owes)."""
    return Wei(int(chain.w3.eth.get_balance(Web3.to_checksum_address(chain.router.address))))
