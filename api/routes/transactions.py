"""Unsigned transactions for a user's wallet to sign (then POST /transactions relays them):
propose a derivative (its manifest stored here first, its commitment sent by the service),
pay a work, withdraw a balance."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from web3 import Web3

from api.deps import State
from api.limits import UINT16_MAX, UINT64_MAX, UINT256_MAX
from api.models import Address
from api.problems import Problem
from api.relay import wallet_transaction
from api.state import ApiState
from chain import calls
from chain import gateway as gw
from chain.types import DerivativeParams, everything_to, parameters_hash
from core.cid import from_text
from core.errors import InputError
from core.manifest import DerivativeManifest, Recording, make, to_bytes
from core.types import ETH, Cid, Ppm, Wei, WorkId

router = APIRouter(tags=["writes"])
__all__ = ["TxDraft", "_checked", "router"]


class ParentIn(BaseModel):
    work_id: int = Field(ge=1, le=UINT256_MAX)
    ppm: int = Field(gt=0, le=1_000_000, description="Share of each payment routed to this parent.")


class DerivativeDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    creator: str = Address
    content_cid: str
    title: str = Field(min_length=1, max_length=300)
    parents: list[ParentIn] = Field(min_length=1, max_length=8)
    commercial: bool = False
    model_cid: str | None = Field(default=None, description="CID of the model that made it (machine-made).")
    model_architecture: str | None = None
    seed: int | None = Field(default=None, ge=-(2**63), le=UINT64_MAX)
    parameters: dict[str, str] = {}
    media_type: str | None = Field(default=None, max_length=100, description="The content's media type, as uploaded.")


class PaymentDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payer: str = Address
    work_id: int = Field(ge=1, le=UINT256_MAX)
    amount_wei: int = Field(gt=0, le=UINT256_MAX, description="Wei, or with `token` the token's smallest unit.")
    token: str | None = Field(default=None, pattern="^0x[0-9a-fA-F]{40}$", description="An ERC-20 to pay in (approve the "
                              "router first: POST /tokens/{token}/approvals/drafts); ETH when omitted.")
    usage_ref: str = Field(default="", max_length=200, description="Off-chain usage reference (hashed on chain).")


class WithdrawalDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: str = Address
    token: str = Field(default=ETH, pattern="^0x[0-9a-fA-F]{40}$")


class CommunityDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sender: str = Address
    name: str = Field(min_length=1, max_length=200)
    stewards: list[str] = Field(min_length=1, description="Steward addresses (0x…), distinct.")
    threshold: int = Field(ge=1, le=UINT16_MAX, description="Approvals needed among the stewards (k of n; uint16).")
    treasury: str = Address


class TxDraft(BaseModel):
    transaction: dict[str, Any] = Field(description="EIP-1559 fields for the wallet to sign (eth_signTransaction).")
    manifest_cid: str | None = None


def _checked(state: ApiState, cid: str) -> bytes:
    try:
        raw = from_text(cid)
    except (InputError, ValueError) as err:
        raise Problem(400, "invalid-cid", f"{cid!r} is not a CIDv1 in base32 ({err})") from err
    if not state.store.has(Cid(cid)):
        raise Problem(404, "unknown-content", f"no content {cid} here: upload the file with POST /content first")
    return raw


@router.post("/communities/drafts", response_model=TxDraft, summary="A community registration, to sign")
def community_draft(state: State, body: CommunityDraftIn) -> TxDraft:
    sender = Web3.to_checksum_address(body.sender)
    if not all(Web3.is_address(a) for a in body.stewards):
        raise Problem(400, "invalid-address", "every steward must be an address, 0x and 40 hex digits")
    call = calls.register_community(state.chain, name=body.name, stewards=body.stewards, threshold=body.threshold,
                                    treasury=body.treasury)
    return TxDraft(transaction=wallet_transaction(state, call, sender))


@router.post("/derivatives/drafts", response_model=TxDraft, summary="Store a derivative's manifest; its registration to sign")
def derivative_draft(state: State, body: DerivativeDraftIn) -> TxDraft:
    creator = Web3.to_checksum_address(body.creator)
    content = _checked(state, body.content_cid)
    cat = state.catalogue()
    for p in body.parents:
        cat.work(p.work_id)
    model = _checked(state, body.model_cid) if body.model_cid else b""
    maker: dict[str, Any] = {"type": "person", "address": creator}
    params_hash = b"\0" * 32
    if body.model_cid:
        maker = {"type": "model", "model_cid": body.model_cid, "architecture": body.model_architecture or "unspecified",
                 "seed": body.seed, "parameters": body.parameters, "operator": creator}
        params_hash = parameters_hash(body.parameters, body.seed)
    manifest = make(DerivativeManifest, title=body.title, content_cid=body.content_cid, maker=maker,
                    parents=tuple({"work_id": p.work_id, "ppm": p.ppm} for p in body.parents),
                    recording=Recording(media_type=body.media_type) if body.media_type else None)
    manifest_cid = state.store.put_bytes(to_bytes(manifest))
    params = DerivativeParams(content, from_text(manifest_cid), tuple(WorkId(p.work_id) for p in body.parents),
                              tuple(Ppm(p.ppm) for p in body.parents), everything_to(creator), model, params_hash,
                              body.commercial)
    # Commit–reveal: the service commits for the creator now (mined before this answers), so the
    # registration the wallet signs lands in a later block.
    gw.commit_registration(state.chain, creator, params.content, params.salt, sender=state.relayer)
    call = calls.register_derivative(state.chain, params)
    return TxDraft(transaction=wallet_transaction(state, call, creator), manifest_cid=manifest_cid)


@router.post("/payments/drafts", response_model=TxDraft, summary="A payment to a work, to sign")
def payment_draft(state: State, body: PaymentDraftIn) -> TxDraft:
    payer = Web3.to_checksum_address(body.payer)
    state.catalogue().work(body.work_id)
    ref = hashlib.sha256((body.usage_ref or f"api-{time.time_ns()}").encode()).digest()
    if body.token is None:
        call = calls.pay(state.chain, WorkId(body.work_id), Wei(body.amount_wei), usage_ref=ref, usage_time=int(time.time()))
    else:
        call = calls.pay_token(state.chain, WorkId(body.work_id), body.token, body.amount_wei, usage_ref=ref,
                               usage_time=int(time.time()))
    return TxDraft(transaction=wallet_transaction(state, call, payer))


@router.post("/withdrawals/drafts", response_model=TxDraft, summary="A withdrawal of an account's balance, to sign")
def withdrawal_draft(state: State, body: WithdrawalDraftIn) -> TxDraft:
    account = Web3.to_checksum_address(body.account)
    call = calls.withdraw(state.chain, body.token)
    return TxDraft(transaction=wallet_transaction(state, call, account))

