"""Unsigned transactions for a user's wallet to sign (then POST /transactions relays them):
propose a derivative (its manifest stored here first), pay a work, withdraw a balance."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from web3 import Web3

from api.deps import State
from api.models import Address
from api.problems import Problem, refusal
from api.state import ApiState
from core.cid import from_text
from core.errors import InputError
from core.manifest import DerivativeManifest, Recording, make, to_bytes
from core.types import ETH, PPM, Cid

router = APIRouter(tags=["writes"])


class ParentIn(BaseModel):
    work_id: int = Field(ge=1)
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
    seed: int | None = None
    parameters: dict[str, str] = {}
    media_type: str | None = Field(default=None, max_length=100, description="The content's media type, as uploaded.")


class PaymentDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payer: str = Address
    work_id: int = Field(ge=1)
    amount_wei: int = Field(gt=0)
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
    threshold: int = Field(ge=1, description="Approvals needed among the stewards (k of n).")
    treasury: str = Address


class TxDraft(BaseModel):
    transaction: dict[str, Any] = Field(description="EIP-1559 fields for the wallet to sign (eth_signTransaction).")
    manifest_cid: str | None = None


def _unsigned(state: ApiState, fn: Any, sender: str, value: int = 0) -> dict[str, Any]:
    w3 = state.chain.w3
    gas = int(fn.estimate_gas({"from": sender, "value": value}) * 1.2) + 10_000
    base = int(w3.eth.get_block("latest").get("baseFeePerGas", 0))
    tip = 10**9
    return {"type": 2, "chainId": state.domain.chain_id, "to": fn.address, "data": fn._encode_transaction_data(),
            "value": value, "gas": gas, "nonce": int(w3.eth.get_transaction_count(Web3.to_checksum_address(sender), "pending")),
            "maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * base + tip}


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
    fn = state.chain.registry.functions.registerCommunity(body.name, [Web3.to_checksum_address(a) for a in body.stewards],
                                                          body.threshold, Web3.to_checksum_address(body.treasury))
    return TxDraft(transaction=_unsigned(state, _dry_run(state, fn, sender), sender))


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
        params_hash = hashlib.sha256(json.dumps({"seed": body.seed, **body.parameters}, sort_keys=True).encode()).digest()
    manifest = make(DerivativeManifest, title=body.title, content_cid=body.content_cid, maker=maker,
                    parents=tuple({"work_id": p.work_id, "ppm": p.ppm} for p in body.parents),
                    recording=Recording(media_type=body.media_type) if body.media_type else None)
    manifest_cid = state.store.put_bytes(to_bytes(manifest))
    params = (content, from_text(manifest_cid), [p.work_id for p in body.parents], [p.ppm for p in body.parents],
              [(creator, PPM)], model, params_hash, body.commercial)
    fn = state.chain.registry.functions.registerDerivative(params)
    return TxDraft(transaction=_unsigned(state, _dry_run(state, fn, creator), creator), manifest_cid=manifest_cid)


@router.post("/payments/drafts", response_model=TxDraft, summary="A payment to a work, to sign")
def payment_draft(state: State, body: PaymentDraftIn) -> TxDraft:
    payer = Web3.to_checksum_address(body.payer)
    state.catalogue().work(body.work_id)
    ref = hashlib.sha256((body.usage_ref or f"api-{time.time_ns()}").encode()).digest()
    fn = state.chain.router.functions.pay(body.work_id, ref, int(time.time()))
    return TxDraft(transaction=_unsigned(state, _dry_run(state, fn, payer, body.amount_wei), payer, body.amount_wei))


@router.post("/withdrawals/drafts", response_model=TxDraft, summary="A withdrawal of an account's balance, to sign")
def withdrawal_draft(state: State, body: WithdrawalDraftIn) -> TxDraft:
    account = Web3.to_checksum_address(body.account)
    fn = state.chain.router.functions.withdraw(Web3.to_checksum_address(body.token))
    return TxDraft(transaction=_unsigned(state, _dry_run(state, fn, account), account))


def _dry_run(state: ApiState, fn: Any, sender: str, value: int = 0) -> Any:
    """`fn` when it would succeed from `sender`; its named contract error otherwise."""
    try:
        fn.call({"from": sender, "value": value})
    except Exception as err:  # web3 raises a custom-error or logic-error type
        raise refusal(state.chain.decoder, err, f"{fn.fn_name} from {sender}") from err
    return fn
