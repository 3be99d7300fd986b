"""Claims through HeritageDisputes: a steward raises one with its bond from the wallet (a drafted
transaction relayed by POST /transactions), the dispute committee's members vote the same way,
and the claimant community's stewards withdraw it k-of-n on `WithdrawClaim` signatures (EIP-712
domain "HeritageDisputes") that the service relays."""

from __future__ import annotations

from fastapi import APIRouter
from web3 import Web3

from api.deps import State
from api.limits import DisputeIdPath
from api.models import ClaimDraftIn, ClaimOut, Draft, Relayed, SignedAction, VoteDraftIn, WithdrawClaimDraftIn
from api.problems import Problem
from api.relay import send_call, wallet_transaction
from api.routes.transactions import TxDraft, _checked
from api.state import ApiState
from api.stewards import current, draft, require_steward, verified
from chain import disputes
from chain.signatures import Domain, disputes_domain
from core.types import CommunityId, WorkId

router = APIRouter(tags=["claims"])


def _domain(state: ApiState) -> Domain:
    return disputes_domain(state.domain.chain_id, Web3.to_checksum_address(state.chain.deployment.disputes))


def _claim(state: ApiState, dispute_id: int) -> disputes.DisputeView:
    if not 1 <= dispute_id <= disputes.dispute_count(state.chain):
        raise Problem(404, "unknown-claim", f"there is no claim {dispute_id}; claims are numbered from 1")
    return disputes.dispute(state.chain, dispute_id)


def _open(state: ApiState, dispute_id: int) -> disputes.DisputeView:
    claim = _claim(state, dispute_id)
    if claim.status != disputes.ClaimStatus.OPEN:
        raise Problem(409, "claim-closed", f"claim {dispute_id} is {claim.status.label}")
    return claim


@router.get("/claims/{dispute_id}", response_model=ClaimOut, summary="One claim")
def claim(state: State, dispute_id: DisputeIdPath) -> ClaimOut:
    d = _claim(state, dispute_id)
    return ClaimOut(dispute_id=d.dispute_id, work_id=d.work, community_id=d.community, kind=d.kind.name.lower(),
                    status=d.status.label, heritage_work_id=d.heritage_work, claimed_ppm=d.claimed_ppm,
                    claimant=d.claimant, owner=d.owner, deadline=d.deadline, bond_wei=int(d.bond),
                    arbitrator_case=d.arbitrator_id)


@router.post("/claims/drafts", response_model=TxDraft, summary="A claim with its bond (raiseClaim), to sign")
def claim_draft(state: State, body: ClaimDraftIn) -> TxDraft:
    claimant = Web3.to_checksum_address(body.claimant)
    state.catalogue().work(body.work_id)
    require_steward(state, body.community_id, claimant)
    evidence = _checked(state, body.evidence_cid) if body.evidence_cid else b""
    call = disputes.raise_claim_call(state.chain, WorkId(body.work_id), CommunityId(body.community_id),
                                     heritage_work=body.heritage_work_id, claimed_ppm=body.claimed_ppm, evidence=evidence)
    return TxDraft(transaction=wallet_transaction(state, call, claimant))


@router.post("/claims/{dispute_id}/votes/drafts", response_model=TxDraft, summary="A committee member's vote, to sign")
def vote_draft(state: State, dispute_id: DisputeIdPath, body: VoteDraftIn) -> TxDraft:
    member = Web3.to_checksum_address(body.member)
    claim = _open(state, dispute_id)
    call = disputes.vote_call(state.chain, claim.arbitrator_id, disputes.UPHELD if body.uphold else disputes.DISMISSED)
    return TxDraft(transaction=wallet_transaction(state, call, member))


@router.post("/claims/{dispute_id}/withdrawals/drafts", response_model=Draft,
             summary="Prepare a steward's approval to withdraw a claim (WithdrawClaim) to sign")
def withdrawal_draft(state: State, dispute_id: DisputeIdPath, body: WithdrawClaimDraftIn) -> Draft:
    steward = Web3.to_checksum_address(body.steward)
    claim = _open(state, dispute_id)
    require_steward(state, claim.community, steward)
    return draft(state, "WithdrawClaim", steward, {"disputeId": dispute_id, "workId": claim.work,
                                                    "communityId": claim.community},
                  domain=_domain(state), nonce=disputes.nonce_of(state.chain, steward))


@router.post("/claims/{dispute_id}/withdrawals", status_code=201, response_model=Relayed,
             summary="Relay a steward's signed approval to withdraw a claim")
def withdraw(state: State, dispute_id: DisputeIdPath, body: SignedAction) -> Relayed:
    signed = verified(state, body, "WithdrawClaim", domain=_domain(state))
    m, steward = signed.message, signed.signer
    with state.write_lock:
        current(state, signed, nonce_of=disputes.nonce_of)
        claim = _open(state, dispute_id)
        if int(m["disputeId"]) != dispute_id or int(m["workId"]) != claim.work or int(m["communityId"]) != claim.community:
            raise Problem(400, "wrong-claim", f"the signature is for claim {m['disputeId']} (work {m['workId']}, community "
                          f"{m['communityId']}), not claim {dispute_id}: ask for a draft for this claim")
        call = disputes.approve_withdrawal_by_sig_call(state.chain, dispute_id, steward=steward, deadline=signed.deadline,
                                                       signature=signed.signature)
        out = send_call(state, call)
    return out.model_copy(update={"work_id": claim.work, "status": _claim(state, dispute_id).status.label})
