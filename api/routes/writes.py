"""Writes, authorised by Ethereum signatures; the service holds no user keys.

Two ways in, both checked here before any gas is spent and again by the contracts:
- steward actions (register a heritage work, approve a derivative, resolve a dispute) are
  EIP-712 typed data the registry itself accepts (`…BySig`): the client asks for a draft, the
  steward's wallet signs it, and the service relays it from its own account after checking
  the signer, the deadline, the nonce (a used one is a replay) and the steward's role;
- everything else (propose a derivative, pay, withdraw, raise a dispute; a steward's own
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
from web3.logs import DISCARD

from api.deps import State
from api.models import ApproveDraftIn, Draft, HeritageDraftIn, RawTransactionIn, Relayed, ResolveDraftIn, SignedAction, Stored
from api.problems import Problem, refusal
from api.state import ApiState
from chain.signatures import PROTOCOL_FIELDS, digest, recover, typed_data
from core.cid import from_text
from core.errors import InputError
from core.manifest import HeritageManifest, Recording, Source, make, to_bytes
from core.types import PPM, Cid

router = APIRouter(tags=["writes"])

# Functions a user's own signed transaction may call through the relay.
RELAYABLE = {
    "registry": ("registerCommunity", "approveCommunityChange", "registerDerivative", "registerRestrictedWork", "setProtocol",
                 "setSplit", "approveDerivative", "rejectDerivative", "raiseDispute", "resolveDispute"),
    "router": ("pay", "payToken", "withdraw", "withdrawTo", "releaseEscrow"),
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


def _draft(state: ApiState, action: str, steward: str, fields: dict[str, Any]) -> Draft:
    nonce = int(state.chain.registry.functions.nonces(steward).call())
    expires = _now(state) + state.settings.api_signature_ttl_s
    doc = typed_data(state.domain, action, {**fields, "nonce": nonce, "deadline": expires})
    return Draft(action=action, typed_data=doc, digest="0x" + digest(doc).hex(), expires=expires)


def _require_steward(state: ApiState, community_id: int, who: str) -> None:
    state.catalogue().community(community_id)
    if not state.chain.registry.functions.isSteward(community_id, who).call():
        raise Problem(403, "not-a-steward", f"{who} is not a steward of community {community_id}; a steward acts for its "
                      "own community and nobody else: sign with one of its stewards' keys")


def _verified(state: ApiState, body: SignedAction, action: str, *, work_id: int | None = None) -> tuple[dict[str, Any], str, bytes]:
    """The message, its signer and the signature, once they pass every check the contract makes
    (and, with `work_id`, once the message is about that work). Call under `state.write_lock` so
    that the nonce cannot be used between check and relay."""
    doc = body.typed_data
    if doc.get("primaryType") != action:
        raise Problem(400, "wrong-action", f"the typed data is a {doc.get('primaryType')!r}, this endpoint takes {action!r}")
    if doc.get("domain") != state.domain.to_json():
        raise Problem(400, "wrong-domain", f"signed for domain {doc.get('domain')}, not this registry's "
                      f"{state.domain.to_json()}: ask for a new draft")
    signature = bytes(HexBytes(body.signature))
    try:
        signer = recover(doc, signature)
    except Exception as err:  # eth_account raises several types for a malformed document or signature
        raise Problem(400, "signature-malformed", f"cannot recover a signer ({type(err).__name__}: {err}); "
                      "sign the draft's typed_data unchanged") from err
    claimed = Web3.to_checksum_address(body.signer)
    if signer != claimed:
        raise Problem(401, "signature-invalid", f"the signature is {signer}'s, not {claimed}'s, over this document: "
                      "sign with the claimed account, and do not edit the draft")
    message = doc["message"]
    if work_id is not None and int(message["workId"]) != work_id:
        raise Problem(400, "wrong-work", f"the signature is for work {message['workId']}, not {work_id}")
    if int(message["deadline"]) < _now(state):
        raise Problem(401, "signature-expired", f"the deadline {message['deadline']} has passed: ask for a new draft and sign it")
    current = int(state.chain.registry.functions.nonces(signer).call())
    if int(message["nonce"]) < current:
        raise Problem(409, "signature-replayed", f"nonce {message['nonce']} of {signer} is used already: this signature "
                      "was relayed before (nothing was done twice); ask for a new draft for a new action")
    if int(message["nonce"]) > current:
        raise Problem(401, "signature-invalid", f"nonce {message['nonce']} is ahead of {signer}'s {current}; ask for a new draft")
    return message, signer, signature


def _relay(state: ApiState, fn: Any) -> Relayed:
    receipt = state.chain.send(fn, state.relayer)
    state.catalogue(fresh=True)
    return Relayed(tx=HexBytes(receipt["transactionHash"]).to_0x_hex(), block=int(receipt["blockNumber"]),
                   gas_used=int(receipt["gasUsed"]), work_id=_work_of(state, receipt))


def _work_of(state: ApiState, receipt: Any) -> int | None:
    reg = state.chain.registry.events
    for event in (reg.HeritageWorkRegistered, reg.DerivativeRegistered, reg.DerivativeConsented, reg.DisputeResolved):
        for log in event().process_receipt(receipt, errors=DISCARD):
            return int(log["args"]["workId"])
    return None


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
    if existing := int(state.chain.registry.functions.workByContent(content).call()):
        raise Problem(409, "already-registered", f"this content is work {existing} already; GET /works/{existing}", work_id=existing)
    community = state.catalogue().community(body.community_id)
    manifest = make(HeritageManifest, title=body.title, content_cid=body.content_cid, community=community.name,
                    community_id=body.community_id, tradition=body.tradition, region=body.region, language=body.language,
                    instruments=tuple(body.instruments), performers=tuple(body.performers), restrictions=body.restrictions,
                    recording=Recording(media_type=body.media_type), source=Source(reference="uploaded through the API"))
    manifest_cid = from_text(state.store.put_bytes(to_bytes(manifest)))
    p = body.protocol
    protocol = dict(zip(PROTOCOL_FIELDS, (p.derivatives_allowed, p.consent_required, p.commercial_allowed, p.ml_allowed,
                                          p.attribution_required, False, p.floor_ppm, p.labels, p.labels_version), strict=True))
    split = [{"account": Web3.to_checksum_address(r.account), "ppm": r.ppm} for r in body.split] or \
        [{"account": community.treasury, "ppm": PPM}]
    fields = {"communityId": body.community_id, "contentCid": "0x" + content.hex(), "manifestCid": "0x" + manifest_cid.hex(),
              "protocol": protocol, "split": split}
    return _draft(state, "RegisterHeritageWork", steward, fields)


@router.post("/works", status_code=201, response_model=Relayed, summary="Relay a steward-signed heritage registration")
def register_heritage(state: State, body: SignedAction) -> Relayed:
    with state.write_lock:
        m, steward, signature = _verified(state, body, "RegisterHeritageWork")
        _require_steward(state, int(m["communityId"]), steward)
        proto = m["protocol"]
        split = [(Web3.to_checksum_address(r["account"]), int(r["ppm"])) for r in m["split"]]
        params = (int(m["communityId"]), bytes(HexBytes(m["contentCid"])), bytes(HexBytes(m["manifestCid"])),
                  tuple(proto[f] for f in PROTOCOL_FIELDS), split)
        fn = state.chain.registry.functions.registerHeritageWorkBySig(params, steward, int(m["deadline"]), signature)
        out = _relay(state, fn)
    return out.model_copy(update={"status": "active"})


@router.post("/derivatives/{work_id}/approvals/drafts", response_model=Draft, summary="Prepare a steward's consent to sign")
def approve_draft(state: State, work_id: int, body: ApproveDraftIn) -> Draft:
    steward = Web3.to_checksum_address(body.steward)
    w = state.catalogue().work(work_id)
    if w.kind != "derivative" or w.status != "pending":
        raise Problem(409, "not-pending", f"work {work_id} is a {w.status} {w.kind}; only a pending derivative awaits consent")
    _require_steward(state, body.community_id, steward)
    return _draft(state, "ApproveDerivative", steward, {"workId": work_id, "communityId": body.community_id})


@router.post("/derivatives/{work_id}/approvals", status_code=201, response_model=Relayed, summary="Relay a steward's signed consent")
def approve(state: State, work_id: int, body: SignedAction) -> Relayed:
    with state.write_lock:
        m, steward, signature = _verified(state, body, "ApproveDerivative", work_id=work_id)
        _require_steward(state, int(m["communityId"]), steward)
        fn = state.chain.registry.functions.approveDerivativeBySig(work_id, int(m["communityId"]), steward, int(m["deadline"]),
                                                                   signature)
        out = _relay(state, fn)
    return out.model_copy(update={"work_id": work_id, "status": state.catalogue().work(work_id).status})


@router.post("/disputes/{work_id}/resolutions/drafts", response_model=Draft, summary="Prepare a steward's dispute vote to sign")
def resolve_draft(state: State, work_id: int, body: ResolveDraftIn) -> Draft:
    steward = Web3.to_checksum_address(body.steward)
    _require_steward(state, _disputing_community(state, work_id), steward)
    return _draft(state, "ResolveDispute", steward, {"workId": work_id, "upheld": body.upheld})


def _disputing_community(state: ApiState, work_id: int) -> int:
    """The community with an open dispute on `work_id`; 409 when there is none."""
    community = int(state.chain.registry.functions.disputeOf(work_id).call())
    if not community:
        raise Problem(409, "not-disputed", f"work {work_id} has no open dispute")
    return community


@router.post("/disputes/{work_id}/resolutions", status_code=201, response_model=Relayed, summary="Relay a signed dispute vote")
def resolve(state: State, work_id: int, body: SignedAction) -> Relayed:
    with state.write_lock:
        m, steward, signature = _verified(state, body, "ResolveDispute", work_id=work_id)
        _require_steward(state, _disputing_community(state, work_id), steward)
        fn = state.chain.registry.functions.resolveDisputeBySig(work_id, bool(m["upheld"]), steward, int(m["deadline"]),
                                                                signature)
        out = _relay(state, fn)
    return out.model_copy(update={"work_id": work_id})


# ---------------------------------------------------------------------- users' own transactions
@router.post("/transactions", status_code=201, response_model=Relayed,
             summary="Relay a user's signed transaction (derivative, payment, withdrawal, dispute)")
def relay_transaction(state: State, body: RawTransactionIn) -> Relayed:
    raw = bytes(HexBytes(body.raw))
    try:
        sender = Web3.to_checksum_address(Account.recover_transaction(raw))
        tx = _fields(raw)
    except Exception as err:  # eth_account raises several types for undecodable bytes
        raise Problem(400, "transaction-malformed", f"not a signed transaction ({type(err).__name__}: {err})") from err
    if tx["chainId"] is not None and int(tx["chainId"]) != state.domain.chain_id:
        raise Problem(400, "wrong-chain", f"signed for chain {tx['chainId']}, this is chain {state.domain.chain_id}")
    target = _target(state, tx)
    try:
        state.chain.w3.eth.call({"from": sender, "to": tx["to"], "data": tx["data"], "value": tx["value"]})
    except Exception as err:  # web3 raises several types for a revert
        raise refusal(state.chain.decoder, err, target) from err
    with state.write_lock:
        try:
            tx_hash = state.chain.w3.eth.send_raw_transaction(raw)
        except ValueError as err:  # the node's refusal: nonce too low (a replay), fee too low, …
            text = str(err)
            code = "transaction-replayed" if "nonce" in text.lower() else "transaction-refused"
            raise Problem(409, code, f"the node refused it: {text}") from err
        receipt = state.chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=state.settings.tx_timeout_s)
    if receipt["status"] != 1:
        raise Problem(409, "transaction-failed", f"{target} failed on chain in {tx_hash.to_0x_hex()}; check the gas limit")
    state.catalogue(fresh=True)
    status = None
    work = _work_of(state, receipt)
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
    contracts = {"registry": state.chain.registry, "router": state.chain.router}
    for name, c in contracts.items():
        if tx["to"].lower() == c.address.lower():
            try:
                fn, _ = c.decode_function_input(tx["data"])
            except ValueError as err:
                raise Problem(400, "not-relayable", f"calldata does not match a function of the {name}") from err
            if fn.fn_name not in RELAYABLE[name]:
                raise Problem(403, "not-relayable", f"{name}.{fn.fn_name} is not relayed here; relayable: "
                              f"{', '.join(f'{n}.{f}' for n, fs in RELAYABLE.items() for f in fs)}")
            return f"{name}.{fn.fn_name}"
    raise Problem(403, "not-relayable", f"the transaction goes to {tx['to']}, not to this platform's registry or router")
