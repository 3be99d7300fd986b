"""Writes, authorised by Ethereum signatures; the service holds no user keys.

Two ways in, both checked here before any gas is spent and again by the contracts:
- steward actions (register a heritage work, approve a derivative; withdraw a claim, in
  api/routes/claims.py) are EIP-712 typed data the registry (or HeritageDisputes) itself accepts
  (`…BySig`): the client asks for a draft, the steward's wallet signs it, and the service relays
  it from its own account after checking the signer, the deadline, the nonce (a used one is a
  replay) and the steward's role. A heritage registration is committed by the service (the
  commitment binds the steward) before the signed registration is relayed, in a later block;
- everything else (propose a derivative, pay, withdraw, raise a claim, a committee vote; a steward's own
  transactions such as setting a protocol or a split) is the sender's own signed transaction,
  relayed as it is after checking that it calls one of the platform's functions on this chain,
  and dry-running it to name a refusal.
"""

from __future__ import annotations

import time
from typing import Any

from eth_account import Account
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from fastapi import APIRouter, Request, UploadFile
from hexbytes import HexBytes
from web3 import Web3

from api.deps import State
from api.limits import WorkIdPath, check_typed_data, normalised_signature
from api.models import ApproveDraftIn, Draft, HeritageDraftIn, RawTransactionIn, Relayed, SignedAction, Stored
from api.problems import Problem, refusal
from api.state import ApiState
from chain import calls
from chain import gateway as gw
from chain.signatures import Domain, digest, heritage_message, heritage_params, recover, typed_data
from chain.types import HeritageParams, Protocol, Recipient, everything_to
from core.cid import from_text
from core.errors import InputError
from core.manifest import HeritageManifest, Recording, Source, make, to_bytes
from core.types import Cid, CommunityId, Ppm, WorkId

router = APIRouter(tags=["writes"])

# Functions a user's own signed transaction may call through the relay.
RELAYABLE = {
    "registry": ("registerCommunity", "approveCommunityChange", "commitRegistration", "registerDerivative",
                 "registerRestrictedWork", "setProtocol", "setSplit", "approveDerivative", "rejectDerivative", "cancelNonce"),
    "router": ("pay", "payToken", "withdraw", "withdrawTo", "releaseEscrow", "deployReceiver"),
    "disputes": ("raiseClaim", "expire", "approveWithdrawal", "withdrawBond", "cancelNonce"),
    "arbitrator": ("vote",),
}


# ---------------------------------------------------------------------- content
@router.post("/content", status_code=201, response_model=Stored, summary="Store a file; answers its CID")
async def upload(state: State, request: Request, file: UploadFile) -> Stored:
    limit = state.settings.api_max_upload_bytes
    media = (file.content_type or "application/octet-stream").split(";")[0].strip().lower()
    if not any(media == t or (t.endswith("/") and media.startswith(t)) for t in state.settings.api_media_types):
        raise Problem(415, "unsupported-media-type", f"{media} is not accepted; send audio, MIDI, MusicXML, ABC, kern, "
                      f"PNG/JPEG or JSON (settings: api_media_types)")
    chunks, size = [], 0
    while chunk := await file.read(1 << 20):
        size += len(chunk)
        if size > limit:
            raise Problem(413, "upload-too-large", f"larger than {limit} bytes (settings: api_max_upload_bytes); "
                          "split the recording or ask the operator to raise the limit")
        chunks.append(chunk)
    if size == 0:
        raise Problem(400, "empty-upload", "the file is empty; choose the file again")
    cid = state.store.put_bytes(b"".join(chunks))
    return Stored(cid=cid, size=size, media_type=media)


# ---------------------------------------------------------------------- steward actions
def _now(state: ApiState) -> int:
    """The time the contract will see: the node's clock, which may run ahead of ours."""
    return max(int(time.time()), int(state.chain.w3.eth.get_block("latest")["timestamp"]))


def _draft(state: ApiState, action: str, steward: str, fields: dict[str, Any], *, domain: Domain | None = None,
           nonce: int | None = None) -> Draft:
    """A draft in the registry's domain (or `domain`, with the signer's `nonce` there)."""
    nonce = gw.nonce_of(state.chain, steward) if nonce is None else nonce
    expires = _now(state) + state.settings.api_signature_ttl_s
    doc = typed_data(domain or state.domain, action, {**fields, "nonce": nonce, "deadline": expires})
    return Draft(action=action, typed_data=doc, digest="0x" + digest(doc).hex(), expires=expires)


def _require_steward(state: ApiState, community_id: int, who: str) -> None:
    state.catalogue().community(community_id)
    if not gw.is_steward(state.chain, community_id, who):
        raise Problem(403, "not-a-steward", f"{who} is not a steward of community {community_id}; a steward acts for its "
                      "own community and nobody else: sign with one of its stewards' keys")


def _verified(state: ApiState, body: SignedAction, action: str, *, work_id: int | None = None,
              domain: Domain | None = None) -> tuple[dict[str, Any], str, bytes]:
    """The message, its signer and the signature, once they pass every check that needs no
    chain state (and, with `work_id`, once the message is about that work). The document's shape
    and size are checked before it is hashed, and nothing here holds the write lock: `_current`
    checks the deadline and nonce under it. `domain`: another contract's (default: the registry's)."""
    doc = body.typed_data
    check_typed_data(doc)
    expected = domain or state.domain
    if doc.get("primaryType") != action:
        raise Problem(400, "wrong-action", f"the typed data is a {doc.get('primaryType')!r}, this endpoint takes {action!r}")
    if doc.get("domain") != expected.to_json():
        raise Problem(400, "wrong-domain", f"signed for domain {doc.get('domain')}, not this platform's "
                      f"{expected.to_json()}: ask for a new draft")
    signature = normalised_signature(bytes(HexBytes(body.signature)))
    try:
        signer = recover(doc, signature)
        message = doc["message"]
        fields = (int(message["deadline"]), int(message["nonce"]), None if work_id is None else int(message["workId"]))
    except Exception as err:  # eth_account raises several types for a malformed document or signature
        raise Problem(400, "signature-malformed", f"cannot recover a signer ({type(err).__name__}: {str(err)[:200]}); "
                      "sign the draft's typed_data unchanged") from err
    claimed = Web3.to_checksum_address(body.signer)
    if signer != claimed:
        raise Problem(401, "signature-invalid", f"the signature is {signer}'s, not {claimed}'s, over this document: "
                      "sign with the claimed account, and do not edit the draft")
    if work_id is not None and fields[2] != work_id:
        raise Problem(400, "wrong-work", f"the signature is for work {message['workId']}, not {work_id}")
    return message, signer, signature


def _current(state: ApiState, message: dict[str, Any], signer: str, *, nonce_of: Any = None) -> None:
    """The deadline has not passed and the nonce is the signer's next one; under `state.write_lock`
    so that the nonce cannot be used between check and relay. `nonce_of(chain, signer)`: another
    contract's nonces (default: the registry's)."""
    if int(message["deadline"]) < _now(state):
        raise Problem(401, "signature-expired", f"the deadline {message['deadline']} has passed: ask for a new draft and sign it")
    current = (nonce_of or gw.nonce_of)(state.chain, signer)
    if int(message["nonce"]) < current:
        raise Problem(409, "signature-replayed", f"nonce {message['nonce']} of {signer} is used already: this signature "
                      "was relayed before (nothing was done twice); ask for a new draft for a new action")
    if int(message["nonce"]) > current:
        raise Problem(401, "signature-invalid", f"nonce {message['nonce']} is ahead of {signer}'s {current}; ask for a new draft")


def _relay(state: ApiState, call: calls.Call) -> Relayed:
    sent = calls.send(state.chain, call, state.relayer)
    state.catalogue(fresh=True)
    return Relayed(tx=sent.tx, block=sent.block, gas_used=sent.gas_used, work_id=calls.work_of_events(sent.events))


@router.post("/works/drafts", response_model=Draft, summary="Prepare a heritage registration for a steward to sign")
def heritage_draft(state: State, body: HeritageDraftIn) -> Draft:
    steward = Web3.to_checksum_address(body.steward)
    _require_steward(state, body.community_id, steward)
    try:
        content = from_text(body.content_cid)
    except (InputError, ValueError) as err:
        raise Problem(400, "invalid-cid", f"{body.content_cid!r} is not a CIDv1 in base32 ({err})") from err
    if not state.store.has(Cid(body.content_cid)):
        raise Problem(404, "unknown-content", f"no content {body.content_cid} here: upload the file with POST /content first")
    if existing := gw.work_by_content(state.chain, content):
        raise Problem(409, "already-registered", f"this content is work {existing} already; GET /works/{existing}", work_id=existing)
    community = state.catalogue().community(body.community_id)
    manifest = make(HeritageManifest, title=body.title, content_cid=body.content_cid, community=community.name,
                    community_id=body.community_id, tradition=body.tradition, region=body.region, language=body.language,
                    instruments=tuple(body.instruments), performers=tuple(body.performers), restrictions=body.restrictions,
                    recording=Recording(media_type=body.media_type), source=Source(reference="uploaded through the API"))
    manifest_cid = from_text(state.store.put_bytes(to_bytes(manifest)))
    p = body.protocol
    protocol = Protocol(p.derivatives_allowed, p.consent_required, p.commercial_allowed, p.ml_allowed, p.attribution_required,
                        False, Ppm(p.floor_ppm), p.labels, p.labels_version, p.season)
    split = tuple(Recipient(Web3.to_checksum_address(r.account), Ppm(r.ppm)) for r in body.split) or \
        everything_to(community.treasury)
    params = HeritageParams(CommunityId(body.community_id), content, manifest_cid, protocol, split)
    return _draft(state, "RegisterHeritageWork", steward, heritage_message(params))


@router.post("/works", status_code=201, response_model=Relayed, summary="Relay a steward-signed heritage registration")
def register_heritage(state: State, body: SignedAction) -> Relayed:
    """Commits for the steward (unless a live commitment or the community's pending registration
    holds the content), then relays the signed registration in a later block. A k-of-n
    registration that still awaits stewards answers `work_id` null and status "awaiting-stewards"."""
    m, steward, signature = _verified(state, body, "RegisterHeritageWork")
    with state.write_lock:
        _current(state, m, steward)
        _require_steward(state, int(m["communityId"]), steward)
        params = heritage_params(m)
        if gw.needs_commitment(state.chain, steward, params.content, params.salt, params.community):
            gw.commit_registration(state.chain, steward, params.content, params.salt, sender=state.relayer)
        call = calls.register_heritage_by_sig(state.chain, params, steward=steward, deadline=int(m["deadline"]),
                                              signature=signature)
        out = _relay(state, call)
    return out.model_copy(update={"status": "active" if out.work_id is not None else "awaiting-stewards"})


@router.post("/derivatives/{work_id}/approvals/drafts", response_model=Draft, summary="Prepare a steward's consent to sign")
def approve_draft(state: State, work_id: WorkIdPath, body: ApproveDraftIn) -> Draft:
    steward = Web3.to_checksum_address(body.steward)
    w = state.catalogue().work(work_id)
    if w.kind != "derivative" or w.status != "pending":
        raise Problem(409, "not-pending", f"work {work_id} is a {w.status} {w.kind}; only a pending derivative awaits consent")
    _require_steward(state, body.community_id, steward)
    return _draft(state, "ApproveDerivative", steward, {"workId": work_id, "communityId": body.community_id})


@router.post("/derivatives/{work_id}/approvals", status_code=201, response_model=Relayed, summary="Relay a steward's signed consent")
def approve(state: State, work_id: WorkIdPath, body: SignedAction) -> Relayed:
    m, steward, signature = _verified(state, body, "ApproveDerivative", work_id=work_id)
    with state.write_lock:
        _current(state, m, steward)
        _require_steward(state, int(m["communityId"]), steward)
        call = calls.approve_derivative_by_sig(state.chain, WorkId(work_id), CommunityId(int(m["communityId"])),
                                               steward=steward, deadline=int(m["deadline"]), signature=signature)
        out = _relay(state, call)
    return out.model_copy(update={"work_id": work_id, "status": state.catalogue().work(work_id).status})


# The v1 dispute votes answer 410 with the way to the claims, for clients written against v1; they
# are no longer part of the documented API (nothing valid can be sent to them).
@router.post("/disputes/{work_id}/resolutions/drafts", include_in_schema=False)
def resolve_draft(work_id: WorkIdPath) -> None:
    raise _resolution_gone(work_id)


@router.post("/disputes/{work_id}/resolutions", include_in_schema=False)
def resolve(work_id: WorkIdPath) -> None:
    raise _resolution_gone(work_id)


def _resolution_gone(work_id: int) -> Problem:
    return Problem(410, "dispute-resolution-removed", f"stewards no longer resolve disputes on work {work_id}: a claim is "
                   "raised with a bond (POST /claims/drafts) and ruled on by the dispute committee (POST "
                   "/claims/{id}/votes/drafts); the claimant community may withdraw it (POST /claims/{id}/withdrawals/drafts)")


# ---------------------------------------------------------------------- users' own transactions
@router.post("/transactions", status_code=201, response_model=Relayed,
             summary="Relay a user's signed transaction (derivative, payment, withdrawal, claim, committee vote)")
def relay_transaction(state: State, body: RawTransactionIn) -> Relayed:
    raw = bytes(HexBytes(body.raw))
    try:
        sender = Web3.to_checksum_address(Account.recover_transaction(raw))
        tx = _fields(raw)
    except Exception as err:  # eth_account raises several types for undecodable bytes
        raise Problem(400, "transaction-malformed", f"not a signed transaction ({type(err).__name__}: {err})") from err
    if tx["chainId"] is None:
        raise Problem(400, "legacy-transaction", "a transaction without a chain id (pre-EIP-155) could be replayed on any "
                      "chain: sign an EIP-1559 transaction (the drafts' type 2) for chain " + str(state.domain.chain_id))
    if int(tx["chainId"]) != state.domain.chain_id:
        raise Problem(400, "wrong-chain", f"signed for chain {tx['chainId']}, this is chain {state.domain.chain_id}")
    target = _target(state, tx)
    try:
        state.chain.w3.eth.call({"from": sender, "to": tx["to"], "data": tx["data"], "value": tx["value"]}, "pending")
    except Exception as err:  # web3 raises several types for a revert
        raise refusal(state.chain.decoder, err, target) from err
    with state.write_lock:
        receipt = state.chain.relay(raw)  # journalled first; the node's refusals are named (chain/journal.py)
    tx_hash = HexBytes(receipt["transactionHash"])
    if receipt["status"] != 1:
        raise Problem(409, "transaction-failed", f"{target} failed on chain in {tx_hash.to_0x_hex()}; check the gas limit")
    state.catalogue(fresh=True)
    status = None
    work = calls.work_of_receipt(state.chain, receipt)
    if work is not None:
        status = state.catalogue().work(work).status
    return Relayed(tx=tx_hash.to_0x_hex(), block=int(receipt["blockNumber"]), gas_used=int(receipt["gasUsed"]),
                   work_id=work, status=status)


def _fields(raw: bytes) -> dict[str, Any]:
    """to, data, value and chain id of a signed transaction, typed (EIP-2718) or legacy."""
    if raw[0] < 0x7F:
        d = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
        return {"to": Web3.to_checksum_address(d["to"]), "data": HexBytes(d["data"]), "value": int(d["value"]),
                "chainId": d.get("chainId")}
    import rlp  # type: ignore[import-untyped]

    _, _, _, to, value, data, v, *_ = rlp.decode(raw)
    v_int = int.from_bytes(v, "big")
    chain_id = (v_int - 35) // 2 if v_int >= 35 else None
    return {"to": Web3.to_checksum_address(to), "data": HexBytes(data), "value": int.from_bytes(value, "big"), "chainId": chain_id}


def _target(state: ApiState, tx: dict[str, Any]) -> str:
    """The platform function a transaction calls; anything else is refused."""
    name = calls.contract_at(state.chain, tx["to"])
    if name is not None:
        try:
            fn_name = calls.function_called(state.chain, name, tx["data"])
        except ValueError as err:
            raise Problem(400, "not-relayable", f"calldata does not match a function of the {name}") from err
        if fn_name not in RELAYABLE[name]:
            raise Problem(403, "not-relayable", f"{name}.{fn_name} is not relayed here; relayable: "
                          f"{', '.join(f'{n}.{f}' for n, fs in RELAYABLE.items() for f in fs)}")
        return f"{name}.{fn_name}"
    raise Problem(403, "not-relayable", f"the transaction goes to {tx['to']}, not to this platform's registry, router, "
                  "disputes contract or arbitrator")
