"""Writes, authorised by Ethereum signatures; the service holds no user keys.

Two ways in, both checked before any gas is spent (api/stewards.py and chain/signatures.py for
signed steward actions, api/relay.py for transactions) and again by the contracts:
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

from fastapi import APIRouter, Request, UploadFile
from hexbytes import HexBytes
from web3 import Web3

from api import relay
from api.approvals import call_of, registration_commitment
from api.deps import State
from api.limits import WorkIdPath
from api.models import ApproveDraftIn, Draft, HeritageDraftIn, RawTransactionIn, Relayed, SignedAction, Stored
from api.problems import Problem
from api.relay import RELAYABLE as RELAYABLE
from api.stewards import consent_draft, draft, relay_for_community, require_steward, verified
from chain import gateway as gw
from chain.signatures import heritage_message
from chain.types import HeritageParams, Protocol, Recipient, everything_to
from core.cid import from_text
from core.errors import InputError
from core.manifest import HeritageManifest, Recording, Source, make, to_bytes
from core.types import Cid, CommunityId, Ppm

router = APIRouter(tags=["writes"])


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
@router.post("/works/drafts", response_model=Draft, summary="Prepare a heritage registration for a steward to sign")
def heritage_draft(state: State, body: HeritageDraftIn) -> Draft:
    steward = Web3.to_checksum_address(body.steward)
    require_steward(state, body.community_id, steward)
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
    return draft(state, "RegisterHeritageWork", steward, heritage_message(params))


@router.post("/works", status_code=201, response_model=Relayed, summary="Relay a steward-signed heritage registration")
def register_heritage(state: State, body: SignedAction) -> Relayed:
    """Commits for the steward (unless a live commitment or the community's pending registration
    holds the content), then relays the signed registration in a later block. A k-of-n
    registration that still awaits stewards answers `work_id` null and status "awaiting-stewards"."""
    signed = verified(state, body, "RegisterHeritageWork")
    reads, decide, keys = registration_commitment(state, signed)
    out = relay_for_community(state, signed, lambda: call_of(state, signed, "RegisterHeritageWork", committed=True),
                              commit=(reads, decide), keys=keys)
    return out.model_copy(update={"status": "active" if out.work_id is not None else "awaiting-stewards"})


@router.post("/derivatives/{work_id}/approvals/drafts", response_model=Draft, summary="Prepare a steward's consent to sign")
def approve_draft(state: State, work_id: WorkIdPath, body: ApproveDraftIn) -> Draft:
    return consent_draft(state, "ApproveDerivative", work_id, body.community_id, body.steward, only="awaits consent")


@router.post("/derivatives/{work_id}/approvals", status_code=201, response_model=Relayed, summary="Relay a steward's signed consent")
def approve(state: State, work_id: WorkIdPath, body: SignedAction) -> Relayed:
    signed = verified(state, body, "ApproveDerivative", work_id=work_id)
    out = relay_for_community(state, signed, lambda: call_of(state, signed, "ApproveDerivative"))
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
    return relay.relay_signed(state, bytes(HexBytes(body.raw)))
