"""What a browser wallet needs beyond the first drafts (api/routes/writes.py, transactions.py):
the chain to switch or add, the steward actions that had no draft (reject a derivative, set a
protocol, change the community's stewards, register a restricted work), the receipt of a
transaction a wallet sent itself, and a file's CID computed without storing the file (the
auditor's check; a secret/sacred recording whose salted commitment is all that is published).

Wallets that cannot sign without sending (MetaMask answers `eth_signTransaction` with 4200) send
a draft to the chain themselves; `POST /transactions/receipts` then waits for it, checks that it
called the platform, and brings the index up to date, so that the page shows the new state.
"""

from __future__ import annotations

from fastapi import APIRouter, UploadFile
from hexbytes import HexBytes
from pydantic import BaseModel, ConfigDict, Field
from web3 import Web3

from api.approvals import call_of
from api.deps import State
from api.limits import WorkIdPath
from api.models import ApproveDraftIn, Draft, ProtocolIn, Relayed, SignedAction
from api.problems import Problem
from api.relay import dry_run, unsigned
from api.routes.transactions import TxDraft
from api.stewards import consent_draft, draft, relay_for_community, require_steward, verified
from chain import calls
from chain import gateway as gw
from chain.types import Protocol
from core.cid import bytes_cid, from_text
from core.errors import InputError
from core.types import CommunityId, Ppm

router = APIRouter(tags=["wallet"])


class ChainOut(BaseModel):
    chain_id: int
    name: str
    rpc_url: str = Field(description="Where a wallet reaches the chain (wallet_addEthereumChain's rpcUrls).")
    registry: str
    router: str


class SentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tx: str = Field(pattern="^0x[0-9a-fA-F]{64}$", description="The hash a wallet's eth_sendTransaction answered.")


class CidOut(BaseModel):
    cid: str
    cid_hex: str = Field(description="The binary CIDv1, 0x-hex (what the registry keys content by, hashed).")
    size: int


class ProtocolDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    community_id: int = Field(ge=1, le=2**256 - 1)
    steward: str = Field(pattern="^0x[0-9a-fA-F]{40}$")
    protocol: ProtocolIn


class RestrictedDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steward: str = Field(pattern="^0x[0-9a-fA-F]{40}$")
    community_id: int = Field(ge=1, le=2**256 - 1)
    commitment: str = Field(pattern="^0x[0-9a-fA-F]{64}$", description="The community's salted hash of the content; "
                            "neither the salt nor the content is sent here.")
    labels: int = Field(default=1 << 14, ge=0, lt=2**64, description="Local Contexts labels (default TK Secret/Sacred).")
    labels_version: int = Field(default=1, ge=0, lt=2**16)
    reserved_cids: list[str] = Field(default=[], max_length=8, description="CIDs of the recording's files that may never "
                                     "register publicly (their keccak256 is published, not the files).")


class StewardChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steward: str = Field(pattern="^0x[0-9a-fA-F]{40}$", description="A current steward, approving.")
    stewards: list[str] = Field(min_length=1, max_length=64, description="The new stewards.")
    threshold: int = Field(ge=1, le=2**16 - 1)
    treasury: str = Field(pattern="^0x[0-9a-fA-F]{40}$")


class StewardChangeDraft(TxDraft):
    approvals: int = Field(description="Identical approvals already counted (this one applies it at the threshold).")
    threshold: int = Field(description="The community's current threshold.")


@router.get("/wallet/chain", response_model=ChainOut, summary="The chain a wallet must be on, and how to reach it")
def chain_info(state: State) -> ChainOut:
    rpc = state.settings.rpc_url or str(getattr(state.chain.w3.provider, "endpoint_uri", ""))
    d = state.chain.deployment
    name = "Heritage Ledger (local anvil)" if d.chain_id == 31337 else f"Heritage Ledger (chain {d.chain_id})"
    return ChainOut(chain_id=d.chain_id, name=name, rpc_url=rpc, registry=Web3.to_checksum_address(d.registry),
                    router=Web3.to_checksum_address(d.router))


@router.post("/content/cid", response_model=CidOut, summary="A file's CID (Kubo-identical); the file is not stored")
async def content_cid(state: State, file: UploadFile) -> CidOut:
    """Of the media types POST /content accepts (a part without one is refused, as there)."""
    media = (file.content_type or "application/octet-stream").split(";")[0].strip().lower()
    if not any(media == t or (t.endswith("/") and media.startswith(t)) for t in state.settings.api_media_types):
        raise Problem(415, "unsupported-media-type", f"{media} is not content of this platform (settings: api_media_types)")
    limit = state.settings.api_max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise Problem(413, "upload-too-large", f"larger than {limit} bytes (settings: api_max_upload_bytes)")
    cid = bytes_cid(data)
    return CidOut(cid=cid, cid_hex="0x" + from_text(cid).hex(), size=len(data))


@router.post("/transactions/receipts", status_code=201, response_model=Relayed,
             summary="The receipt of a draft a wallet sent itself; the index brought up to date")
def sent_receipt(state: State, body: SentIn) -> Relayed:
    w3 = state.chain.w3
    try:
        tx = w3.eth.get_transaction(HexBytes(body.tx))
    except Exception as err:  # web3 raises TransactionNotFound (and others for a bad hash)
        raise Problem(404, "unknown-transaction", f"the chain has no transaction {body.tx}: was it sent to chain "
                      f"{state.domain.chain_id}?") from err
    if tx["to"] is None or calls.contract_at(state.chain, str(tx["to"])) is None:
        raise Problem(403, "not-relayable", f"{body.tx} goes to {tx['to']}, not to one of this platform's contracts")
    receipt = w3.eth.wait_for_transaction_receipt(HexBytes(body.tx), timeout=state.settings.tx_timeout_s)
    if receipt["status"] != 1:
        raise Problem(409, "transaction-failed", f"{body.tx} failed on chain; ask for a new draft")
    state.catalogue(fresh=True)
    work = calls.work_of_receipt(state.chain, receipt)
    status = state.catalogue().work(work).status if work is not None else None
    return Relayed(tx=HexBytes(receipt["transactionHash"]).to_0x_hex(), block=int(receipt["blockNumber"]),
                   gas_used=int(receipt["gasUsed"]), work_id=work, status=status)


# ---------------------------------------------------------------------- reject a derivative
@router.post("/derivatives/{work_id}/rejections/drafts", response_model=Draft, summary="Prepare a steward's refusal to sign")
def reject_draft(state: State, work_id: WorkIdPath, body: ApproveDraftIn) -> Draft:
    return consent_draft(state, "RejectDerivative", work_id, body.community_id, body.steward, only="can be refused")


@router.post("/derivatives/{work_id}/rejections", status_code=201, response_model=Relayed,
             summary="Relay a steward's signed refusal")
def reject(state: State, work_id: WorkIdPath, body: SignedAction) -> Relayed:
    signed = verified(state, body, "RejectDerivative", work_id=work_id)
    out = relay_for_community(state, signed, lambda: call_of(state, signed, "RejectDerivative"))
    return out.model_copy(update={"work_id": work_id, "status": state.catalogue().work(work_id).status})


# ---------------------------------------------------------------------- set a protocol
@router.post("/works/{work_id}/protocol/drafts", response_model=Draft, summary="Prepare a protocol change for a steward to sign")
def protocol_draft(state: State, work_id: WorkIdPath, body: ProtocolDraftIn) -> Draft:
    steward = Web3.to_checksum_address(body.steward)
    w = state.catalogue().work(work_id)
    if w.kind != "heritage" or w.community_id != body.community_id:
        raise Problem(409, "not-a-heritage-work", f"work {work_id} is a {w.kind} work of community {w.community_id}; a "
                      f"protocol belongs to a heritage work of its own community")
    require_steward(state, body.community_id, steward)
    p = body.protocol
    protocol = Protocol(p.derivatives_allowed, p.consent_required, p.commercial_allowed, p.ml_allowed, p.attribution_required,
                        gw.protocol_of(state.chain, work_id).restricted, Ppm(p.floor_ppm), p.labels, p.labels_version,
                        p.season)
    return draft(state, "SetProtocol", steward, {"workId": work_id, "communityId": body.community_id,
                                                   "protocol": protocol.to_typed()})


@router.post("/works/{work_id}/protocol", status_code=201, response_model=Relayed,
             summary="Relay a steward's signed protocol change (a loosening counts toward the community's threshold)")
def set_protocol(state: State, work_id: WorkIdPath, body: SignedAction) -> Relayed:
    signed = verified(state, body, "SetProtocol", work_id=work_id)
    out = relay_for_community(state, signed, lambda: call_of(state, signed, "SetProtocol"))
    return out.model_copy(update={"work_id": work_id})


# ---------------------------------------------------------------------- steward changes
@router.post("/communities/{community_id}/changes/drafts", response_model=StewardChangeDraft,
             summary="A steward's approval of new stewards, threshold and treasury, to sign")
def steward_change_draft(state: State, community_id: int, body: StewardChangeIn) -> StewardChangeDraft:
    steward = Web3.to_checksum_address(body.steward)
    if not all(Web3.is_address(a) for a in body.stewards):
        raise Problem(400, "invalid-address", "every steward must be an address, 0x and 40 hex digits")
    require_steward(state, community_id, steward)
    stewards = [Web3.to_checksum_address(a) for a in body.stewards]
    call = calls.approve_community_change(state.chain, CommunityId(community_id), stewards=stewards,
                                          threshold=body.threshold, treasury=body.treasury)
    subject = calls.community_change_subject(stewards, body.threshold, body.treasury)
    return StewardChangeDraft(transaction=unsigned(state, dry_run(state, call, steward), steward),
                              approvals=gw.approvals_of(state.chain, community_id, subject),
                              threshold=state.catalogue().community(community_id).threshold)


# ---------------------------------------------------------------------- restricted works
@router.post("/works/restricted/drafts", response_model=TxDraft,
             summary="A secret/sacred work's registration (its commitment only), to sign")
def restricted_draft(state: State, body: RestrictedDraftIn) -> TxDraft:
    steward = Web3.to_checksum_address(body.steward)
    require_steward(state, body.community_id, steward)
    try:
        keys = [calls.content_key(from_text(c)) for c in body.reserved_cids]
    except (InputError, ValueError) as err:
        raise Problem(400, "invalid-cid", f"a reserved CID is not a CIDv1 in base32 ({err})") from err
    call = calls.register_restricted(state.chain, community=CommunityId(body.community_id),
                                     commitment=bytes(HexBytes(body.commitment)), labels=body.labels,
                                     labels_version=body.labels_version, reserved_keys=keys)
    return TxDraft(transaction=unsigned(state, dry_run(state, call, steward), steward))
