"""Claims through HeritageDisputes and the committee arbitrator: typed views, calls and the gateway.

A steward of a community raises a claim on a work with a bond (`claim_bond`); the router escrows
the work's own share (and its descendants', registered while the claim is open). The committee
(CommitteeArbitrator, members that are not parties) votes; its majority rules: upheld (the claimant
community's treasury is awarded its share of the escrow, the bond returns) or dismissed (the escrow
goes to the work's split, the bond to the work's owner). After DISPUTE_PERIOD without a ruling anyone
may `expire` it (dismissed, bond back to the claimant). The claimant community may withdraw it,
k-of-n, directly or on `WithdrawClaim` signatures (EIP-712 domain "HeritageDisputes" v1). Escrow is
then credited per token by `release_escrow` (anyone); bonds are withdrawn by their holder.

    d = disputes.raise_claim(chain, work, community, evidence=cid_bytes(cid), sender=steward)
    disputes.vote(chain, disputes.dispute(chain, d).arbitrator_id, disputes.DISMISSED, sender=member)
    disputes.release_escrow(chain, work, ETH, sender=anyone)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from web3 import Web3

from chain import calls
from chain.calls import Call
from chain.client import Chain
from chain.types import Sent
from core.errors import ChainError
from core.types import ETH, Address, ChainEnum, CommunityId, Ppm, Wei, WorkId

UPHELD = 1
DISMISSED = 2
"""The committee's choices (0, a refusal to rule, dismisses too)."""


class ClaimKind(IntEnum):
    NONE = 0
    LINEAGE = 1
    """The work descends from the community's heritage without (enough) consent or credit."""
    OMISSION = 2
    """The work should have named one of the community's heritage works as a parent."""
    CONTESTED = 3
    """A heritage work registered by another community."""


class ClaimStatus(ChainEnum):
    NONE = 0
    OPEN = 1
    UPHELD = 2
    DISMISSED = 3
    EXPIRED = 4
    WITHDRAWN = 5


@dataclass(frozen=True)
class DisputeView:
    """One claim (`HeritageDisputes.disputeOf`)."""

    dispute_id: int
    work: WorkId
    community: CommunityId
    heritage_work: WorkId | None
    """The omitted heritage work of an omission claim; None otherwise."""
    arbitrator_id: int
    claimant: Address
    owner: Address
    deadline: int
    claimed_ppm: Ppm
    kind: ClaimKind
    status: ClaimStatus
    bond: Wei

    @classmethod
    def from_abi(cls, dispute_id: int, raw: Sequence[Any]) -> DisputeView:
        work, community, heritage, arb, claimant, owner, deadline, ppm, kind, status, bond = raw
        return cls(dispute_id, WorkId(int(work)), CommunityId(int(community)), WorkId(int(heritage)) if int(heritage) else None,
                   int(arb), Address(str(claimant)), Address(str(owner)), int(deadline), Ppm(int(ppm)), ClaimKind(int(kind)),
                   ClaimStatus(int(status)), Wei(int(bond)))


# ---------------------------------------------------------------------- calls
def raise_claim_call(chain: Chain, work: WorkId, community: CommunityId, *, heritage_work: int = 0, claimed_ppm: int = 0,
                     evidence: bytes = b"") -> Call:
    """`raiseClaim` with its bond (CLAIM_BOND + the arbitrator's cost) as the value. A lineage claim
    leaves `heritage_work` and `claimed_ppm` 0; an omission names both; a contested heritage work
    names `claimed_ppm` only."""
    fn = chain.disputes.functions.raiseClaim(work, community, heritage_work, claimed_ppm, evidence)
    return Call(fn, value=claim_bond(chain))


def vote_call(chain: Chain, arbitrator_id: int, choice: int) -> Call:
    return Call(chain.arbitrator.functions.vote(arbitrator_id, choice))


def expire_call(chain: Chain, dispute_id: int) -> Call:
    return Call(chain.disputes.functions.expire(dispute_id))


def approve_withdrawal_call(chain: Chain, dispute_id: int) -> Call:
    return Call(chain.disputes.functions.approveWithdrawal(dispute_id))


def approve_withdrawal_by_sig_call(chain: Chain, dispute_id: int, *, steward: str, deadline: int, signature: bytes) -> Call:
    return Call(chain.disputes.functions.approveWithdrawalBySig(dispute_id, Web3.to_checksum_address(steward), deadline,
                                                                signature))


def withdraw_bond_call(chain: Chain, to: str) -> Call:
    return Call(chain.disputes.functions.withdrawBond(Web3.to_checksum_address(to)))


def cancel_nonce_call(chain: Chain) -> Call:
    return Call(chain.disputes.functions.cancelNonce())


# ---------------------------------------------------------------------- writes
def raise_claim(chain: Chain, work: WorkId, community: CommunityId, *, heritage_work: int = 0, claimed_ppm: int = 0,
                evidence: bytes = b"", sender: str) -> int:
    """Raise a claim on `work` for `community` (`sender`: one of its stewards, who posts the bond);
    the dispute id. The work's own share is escrowed from now on."""
    call = raise_claim_call(chain, work, community, heritage_work=heritage_work, claimed_ppm=claimed_ppm, evidence=evidence)
    return _one(calls.send(chain, call, sender), "ClaimRaised", "disputeId")


def vote(chain: Chain, arbitrator_id: int, choice: int, *, sender: str) -> bool:
    """One committee member's vote (`UPHELD` or `DISMISSED`) on the arbitrator's case; True once the
    committee has ruled (the claim is then closed)."""
    sent = calls.send(chain, vote_call(chain, arbitrator_id, choice), sender)
    return any(name == "RulingGiven" for name, _ in sent.events)


def expire(chain: Chain, dispute_id: int, *, sender: str) -> None:
    """Dismiss a claim the committee did not rule on within the dispute period (anyone may)."""
    calls.send(chain, expire_call(chain, dispute_id), sender)


def approve_withdrawal(chain: Chain, dispute_id: int, *, sender: str) -> bool:
    """One steward of the claimant community approves withdrawing the claim; True once withdrawn (k-of-n)."""
    sent = calls.send(chain, approve_withdrawal_call(chain, dispute_id), sender)
    return any(name == "ClaimClosed" for name, _ in sent.events)


def approve_withdrawal_by_sig(chain: Chain, dispute_id: int, *, steward: str, deadline: int, signature: bytes,
                              sender: str) -> bool:
    """`approve_withdrawal` on a steward's `WithdrawClaim` signature, relayed by `sender`."""
    call = approve_withdrawal_by_sig_call(chain, dispute_id, steward=steward, deadline=deadline, signature=signature)
    return any(name == "ClaimClosed" for name, _ in calls.send(chain, call, sender).events)


def release_escrow(chain: Chain, work: WorkId, token: str = ETH, *, sender: str) -> Wei:
    """Credit `work`'s escrow of `token` after its claim closed (anyone may); the amount released."""
    sent = calls.send(chain, calls.release_escrow(chain, work, token), sender)
    return Wei(sum(sent.ids("EscrowReleased", "amount")))


def withdraw_bond(chain: Chain, *, to: str | None = None, sender: str) -> Wei:
    """Withdraw `sender`'s returned or won bonds (to `to`, by default `sender`); the amount."""
    sent = calls.send(chain, withdraw_bond_call(chain, to or sender), sender)
    return Wei(sum(sent.ids("BondWithdrawn", "amount")))


def cancel_nonce(chain: Chain, *, sender: str) -> int:
    """Void every `WithdrawClaim` signature `sender` made with its current nonce; that nonce."""
    return _one(calls.send(chain, cancel_nonce_call(chain), sender), "NonceCancelled", "nonce")


# ---------------------------------------------------------------------- reads
def claim_bond(chain: Chain) -> Wei:
    """What `raiseClaim` must be sent: CLAIM_BOND plus the arbitrator's cost."""
    bond = int(chain.disputes.functions.CLAIM_BOND().call())
    return Wei(bond + int(chain.arbitrator.functions.arbitrationCost(b"").call()))


def dispute_count(chain: Chain) -> int:
    return int(chain.disputes.functions.disputeCount().call())


def dispute(chain: Chain, dispute_id: int) -> DisputeView:
    return DisputeView.from_abi(dispute_id, chain.disputes.functions.disputeOf(dispute_id).call())


def open_dispute_of(chain: Chain, work: int) -> DisputeView | None:
    """The open claim escrowing `work`'s own share; None when there is none."""
    held, _ = chain.router.functions.holdOf(work).call()
    return dispute(chain, int(held)) if int(held) else None


def held_descendants_of(chain: Chain, dispute_id: int) -> tuple[WorkId, ...]:
    return tuple(WorkId(int(w)) for w in chain.disputes.functions.heldDescendantsOf(dispute_id).call())


def award_ppm_of(chain: Chain, dispute_id: int) -> Ppm:
    """The claimant's share of the escrow if the claim were upheld now."""
    return Ppm(int(chain.disputes.functions.awardPpmOf(dispute_id).call()))


def withdrawal_approvals_of(chain: Chain, dispute_id: int) -> int:
    return int(chain.disputes.functions.withdrawalApprovalsOf(dispute_id).call())


def bond_of(chain: Chain, account: str) -> Wei:
    return Wei(int(chain.disputes.functions.bondOf(Web3.to_checksum_address(account)).call()))


def nonce_of(chain: Chain, account: str) -> int:
    """The next `WithdrawClaim` nonce of a steward (the disputes domain's own)."""
    return int(chain.disputes.functions.nonces(Web3.to_checksum_address(account)).call())


def withdrawal_digest(chain: Chain, dispute_id: int, steward: str, deadline: int) -> bytes:
    return bytes(chain.disputes.functions.withdrawalDigest(dispute_id, Web3.to_checksum_address(steward), deadline).call())


def members(chain: Chain) -> tuple[Address, ...]:
    """The committee's members."""
    return tuple(Address(str(m)) for m in chain.arbitrator.functions.members().call())


def is_party(chain: Chain, arbitrator_id: int, account: str) -> bool:
    """Whether `account` is a party to the case (and so may not vote on it)."""
    return bool(chain.disputes.functions.isPartyTo(arbitrator_id, Web3.to_checksum_address(account)).call())


def _one(sent: Sent, event: str, key: str) -> int:
    ids = sent.ids(event, key)
    if len(ids) != 1:
        raise ChainError(f"transaction {sent.tx} emitted {len(ids)} {event} events, not one; report it")
    return ids[0]
