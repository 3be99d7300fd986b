"""Listening studies and ontology review over HTTP (the rules live in `listening/`).

Data: one SQLite file, `<data_dir>/listening/studies.sqlite`. Credentials are HMAC-signed tokens
(`listening.invites`), sent as `Authorization: Bearer <token>` (a rater's link may carry it as
`?token=` instead), signed with `settings.listening_secret` or a key made once in
`<data_dir>/listening/secret`:
- creating a study answers its researcher token: it builds, opens and closes the study, invites
  raters and reads results;
- an invitation answers a rater token (a link) bound to the study, the rater and an expiry;
- a member token (`role` member, scope "communities", issued by the operator with
  `listening.invites.issue`) shows ratings of restricted works of its communities in results,
  sent as `X-Heritage-Membership`; without it those pieces are left out of every figure;
- ontology review takes a curator token (issued by the operator) to seed labels, open and close
  rounds and issue reviewer tokens, and a reviewer or curator token to review.

A closed study's public results are attested on chain (`chain.attest`, StudyAttestations) with the
researcher token: in demo mode the service sends the attestation from a development account;
otherwise it answers a transaction for the attester's wallet to sign, and relays it once signed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote

import numpy as np
from eth_account import Account
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from fastapi import APIRouter, Depends, Header, Query, Response
from hexbytes import HexBytes
from pydantic import BaseModel, ConfigDict, Field
from web3 import Web3

from api.deps import SettingsDep, State
from api.problems import Problem, refusal
from api.routes.demo import WARNING as DEMO_WARNING
from api.routes.transactions import _dry_run, _unsigned
from api.state import ApiState
from chain.attest import (
    Attestation,
    AttestationVerdict,
    Check,
    Prepared,
    anchored,
    find_attestations,
    prepare_attestation,
    send_attestation,
)
from chain.attest import verify_attestation as verify_on_chain
from core.cid import bytes_cid
from core.types import Cid, CommunityId, WorkId
from listening import tables
from listening.analysis import StudyAnalysis, analyse, piece_rows, summary_for_attestation
from listening.errors import StudyStateError
from listening.invites import MEMBERSHIP_SCOPE, ONTOLOGY_SCOPE, Claims, issue, load_or_create_secret, require, verify
from listening.model import Criterion, Piece, Scale, Study, StudyState, utc_now
from listening.ontology import Change, Ontology, Round, RoundMetrics, WorkLabels, round_metrics
from listening.store import Store, connect
from listening.studies import PieceView, Studies

router = APIRouter(tags=["studies"])
DAY = 86_400


# ---------------------------------------------------------------------- dependencies
def _store(settings: SettingsDep) -> Iterator[Store]:
    with connect(settings.data_dir / "listening" / "studies.sqlite") as store:
        yield store


def _secret(settings: SettingsDep) -> bytes:
    if settings.listening_secret is not None:
        return settings.listening_secret.get_secret_value().encode()
    return load_or_create_secret(settings.data_dir / "listening" / "secret")


def _token(authorization: Annotated[str | None, Header(description="Bearer <token>")] = None,
           token: Annotated[str | None, Query(description="A rater's invitation token (from the link).")] = None) -> str:
    if authorization is not None and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    if token:
        return token
    raise Problem(401, "token-missing", "send your token as 'Authorization: Bearer <token>' (or open your invitation link, "
                  "which carries it as ?token=)")


StoreDep = Annotated[Store, Depends(_store)]
Secret = Annotated[bytes, Depends(_secret)]
Token = Annotated[str, Depends(_token)]


def _claims(token: str, secret: bytes) -> Claims:
    return verify(token, secret=secret, now=utc_now())


def _researcher(store: Store, study_id: str, token: str, secret: bytes) -> Studies:
    """The studies service once the caller is shown to be this study's researcher."""
    studies = Studies(store)
    studies.get(study_id)
    require(_claims(token, secret), "researcher", scope=study_id)
    return studies


def _member_of(header: str | None, secret: bytes) -> frozenset[int]:
    if header is None:
        return frozenset()
    return frozenset(require(_claims(header, secret), "member", scope=MEMBERSHIP_SCOPE).communities)


# ---------------------------------------------------------------------- bodies
class ScaleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: int = Field(description="Lowest point, e.g. 1.")
    max: int = Field(description="Highest point, e.g. 5.")
    labels: list[str] = Field(default=[], description="One label per point, lowest first; or none.")


class CriterionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern="^[A-Za-z0-9_.-]{1,40}$", description="Short key, e.g. 'authenticity'.")
    prompt: str = Field(default="", max_length=2000, description="The question as raters read it.")
    scale: ScaleIn
    approval_threshold: int | None = Field(default=None, description="Lowest rating counted as approval (Likert questions).")


class CriterionOut(BaseModel):
    name: str
    prompt: str
    scale: ScaleIn
    approval_threshold: int | None


class PieceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cid: str = Field(description="CIDv1 (base32) of the piece's content, uploaded with POST /content.")
    condition: str = Field(min_length=1, max_length=200, description="Condition or model label; hidden from raters when blind.")
    work_id: int | None = Field(default=None, description="The registered work, if any.")
    reference: bool = Field(default=False, description="Played for comparison, not rated.")
    restricted_community_id: int | None = Field(default=None, description="Community whose members alone see its ratings.")


class StudyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300)
    instructions: str = Field(default="", max_length=10_000)
    blind: bool = Field(default=True, description="Hide works and condition/model labels from raters.")
    randomise: bool = Field(default=True, description="Each rater hears the pieces in their own fixed random order.")


class StudyOut(BaseModel):
    study_id: str
    title: str
    instructions: str
    blind: bool
    randomise: bool
    state: Literal["draft", "open", "closed"]
    created_at: datetime
    pieces: list[PieceIn]
    criteria: list[CriterionOut]
    raters: int
    ratings: int


class StudyCreated(StudyOut):
    researcher_token: str = Field(description="Keep it: it alone manages this study and reads its results.")


class InviteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: str | None = Field(default=None, min_length=1, max_length=200,
                                description="An account to give the rater role; omit for an anonymous link.")
    valid_for_s: int = Field(default=14 * DAY, gt=0, le=365 * DAY)


class InvitationOut(BaseModel):
    study_id: str
    rater_id: str
    kind: Literal["link", "account"]
    token: str
    link: str = Field(description="Path of the rater's next piece with the token; prefix the service's address.")
    expires: datetime


class PieceViewOut(BaseModel):
    cid: str
    work_id: int | None = Field(description="Null in a blind study.")
    condition: str | None = Field(description="Null in a blind study.")


class NextOut(BaseModel):
    study_id: str
    title: str
    instructions: str
    done: int = Field(description="Pieces this rater has rated on every criterion.")
    total: int
    position: int | None = Field(description="The next piece's place in this rater's order (1-based); null when done.")
    piece: PieceViewOut | None
    criteria: list[CriterionOut] = Field(description="Criteria still to rate on this piece.")
    references: list[PieceViewOut]


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    piece: str = Field(description="CID of the piece rated.")
    values: dict[str, int | float] = Field(description="{criterion: whole number on its scale}.")


class RatingsStored(BaseModel):
    study_id: str
    piece: str
    values: dict[str, int]
    rated_at: datetime


class PieceRowOut(BaseModel):
    cid: str
    work_id: int | None
    condition: str
    criterion: str
    n: int
    mean: float | None
    sd: float | None
    approval: float | None


class ResultsOut(BaseModel):
    analysis: dict[str, Any] = Field(description="listening.analysis.StudyAnalysis as JSON.")
    cid: str = Field(description="CID the analysis's canonical JSON has (stored only by POST …/results).")
    pieces: list[PieceRowOut]
    withheld_pieces: int = Field(description="Pieces of restricted works left out: membership not shown.")


class SnapshotOut(BaseModel):
    cid: str = Field(description="CID of the stored analysis (public: restricted works are left out).")
    size: int
    attestation: dict[str, Any] = Field(description="listening.analysis.summary_for_attestation, to anchor with the CID.")


class TableOut(BaseModel):
    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str
    markdown: str


# ---------------------------------------------------------------------- helpers
def _criterion_out(c: Criterion) -> CriterionOut:
    return CriterionOut(name=c.name, prompt=c.prompt, approval_threshold=c.approval_threshold,
                        scale=ScaleIn(min=c.scale.minimum, max=c.scale.maximum, labels=list(c.scale.labels)))


def _study_out(store: Store, study: Study) -> StudyOut:
    return StudyOut(study_id=study.study_id, title=study.title, instructions=study.instructions, blind=study.blind,
                    randomise=study.randomise, state=study.state.value, created_at=study.created_at,
                    pieces=[PieceIn(cid=p.cid, condition=p.condition, work_id=p.work_id, reference=p.reference,
                                    restricted_community_id=p.restricted_community_id) for p in study.pieces],
                    criteria=[_criterion_out(c) for c in study.criteria], raters=len(store.raters(study.study_id)),
                    ratings=len(store.ratings(study.study_id)))


def _view(p: PieceView) -> PieceViewOut:
    return PieceViewOut(cid=p.cid, work_id=p.work_id, condition=p.condition)


# ---------------------------------------------------------------------- the researcher
@router.post("/studies", status_code=201, response_model=StudyCreated, summary="Create a listening study (a draft)")
def create_study(store: StoreDep, secret: Secret, body: StudyIn) -> StudyCreated:
    studies = Studies(store)
    study = studies.create(title=body.title, instructions=body.instructions, blind=body.blind, randomise=body.randomise)
    token = studies.researcher_token(study.study_id, secret=secret)
    return StudyCreated(**_study_out(store, study).model_dump(), researcher_token=token)


@router.get("/studies/{study_id}", response_model=StudyOut, summary="A study as its researcher sees it")
def get_study(store: StoreDep, secret: Secret, token: Token, study_id: str) -> StudyOut:
    return _study_out(store, _researcher(store, study_id, token, secret).get(study_id))


@router.post("/studies/{study_id}/pieces", status_code=201, response_model=StudyOut, summary="Add a piece to a draft study")
def add_piece(store: StoreDep, secret: Secret, token: Token, study_id: str, body: PieceIn) -> StudyOut:
    piece = Piece(cid=Cid(body.cid), condition=body.condition, reference=body.reference,
                  work_id=None if body.work_id is None else WorkId(body.work_id),
                  restricted_community_id=None if body.restricted_community_id is None else CommunityId(body.restricted_community_id))
    return _study_out(store, _researcher(store, study_id, token, secret).add_piece(study_id, piece))


@router.post("/studies/{study_id}/criteria", status_code=201, response_model=StudyOut, summary="Add a criterion to a draft study")
def add_criterion(store: StoreDep, secret: Secret, token: Token, study_id: str, body: CriterionIn) -> StudyOut:
    studies = _researcher(store, study_id, token, secret)
    criterion = Criterion(name=body.name, prompt=body.prompt, approval_threshold=body.approval_threshold,
                          scale=Scale(body.scale.min, body.scale.max, tuple(body.scale.labels)))
    return _study_out(store, studies.add_criterion(study_id, criterion))


@router.post("/studies/{study_id}/open", response_model=StudyOut, summary="Open a draft study for ratings")
def open_study(store: StoreDep, secret: Secret, token: Token, study_id: str) -> StudyOut:
    return _study_out(store, _researcher(store, study_id, token, secret).open(study_id))


@router.post("/studies/{study_id}/close", response_model=StudyOut, summary="Close an open study: no more ratings")
def close_study(store: StoreDep, secret: Secret, token: Token, study_id: str) -> StudyOut:
    return _study_out(store, _researcher(store, study_id, token, secret).close(study_id))


@router.post("/studies/{study_id}/invitations", status_code=201, response_model=InvitationOut,
             summary="Invite a rater: a signed link, or an account given the rater role")
def invite(store: StoreDep, secret: Secret, token: Token, study_id: str, body: InviteIn) -> InvitationOut:
    inv = _researcher(store, study_id, token, secret).invite(study_id, secret=secret, rater_id=body.account,
                                                             valid_for=timedelta(seconds=body.valid_for_s))
    return InvitationOut(study_id=study_id, rater_id=inv.rater.rater_id, kind=inv.rater.kind, token=inv.token,
                         link=f"/studies/{quote(study_id)}/next?token={quote(inv.token)}", expires=inv.expires)


@router.get("/studies/{study_id}/results", response_model=ResultsOut,
            summary="Results: per criterion and condition n, mean ± SD, approval, ICC(2,1)/ICC(2,k) with 95% CI")
def results(store: StoreDep, secret: Secret, token: Token, study_id: str,
            x_heritage_membership: Annotated[str | None, Header(description="A member token (restricted works).")] = None
            ) -> ResultsOut:
    studies = _researcher(store, study_id, token, secret)
    member_of = _member_of(x_heritage_membership, secret)
    study, ratings = studies.get(study_id), studies.ratings(study_id)
    result = analyse(study, ratings, member_of=member_of)
    rows = piece_rows(study, ratings, member_of=member_of)
    return ResultsOut(analysis=result.to_dict(), cid=bytes_cid(result.to_json()), withheld_pieces=rows.withheld_pieces,
                      pieces=[PieceRowOut(cid=r.cid, work_id=r.work_id, condition=r.condition, criterion=r.criterion,
                                          n=r.summary.n, mean=r.summary.mean, sd=r.summary.sd, approval=r.summary.approval)
                              for r in rows.rows])


@router.post("/studies/{study_id}/results", status_code=201, response_model=SnapshotOut,
             summary="Store the public analysis by CID and answer the summary to attest on chain")
def store_results(state: State, store: StoreDep, secret: Secret, token: Token, study_id: str) -> SnapshotOut:
    studies = _researcher(store, study_id, token, secret)
    result = analyse(studies.get(study_id), studies.ratings(study_id))  # no membership: the stored copy is public
    data = result.to_json()
    cid = state.store.put_bytes(data)
    return SnapshotOut(cid=cid, size=len(data), attestation=json.loads(summary_for_attestation(result)))


@router.get("/studies/{study_id}/tables/{layout}", response_model=TableOut,
            summary="A seed study's table rebuilt from this study (authenticity | criteria | satisfaction)")
def table(store: StoreDep, secret: Secret, token: Token, study_id: str, layout: Literal["authenticity", "criteria", "satisfaction"],
          criteria: Annotated[list[str] | None, Query(description="Criterion names, when the study's differ.")] = None,
          x_heritage_membership: Annotated[str | None, Header()] = None) -> TableOut:
    studies = _researcher(store, study_id, token, secret)
    result = analyse(studies.get(study_id), studies.ratings(study_id), member_of=_member_of(x_heritage_membership, secret))
    if layout == "authenticity":
        t = tables.authenticity_table(result, **({"criterion": criteria[0]} if criteria else {}))
    elif layout == "criteria":
        t = tables.criteria_table(result, **({"criteria": tuple(criteria)} if criteria else {}))
    else:
        t = tables.satisfaction_table(result, **({"questions": tuple(criteria)} if criteria else {}))
    return TableOut(title=t.title, columns=list(t.columns), rows=[list(r) for r in t.rows], note=t.note, markdown=t.to_markdown())


# ---------------------------------------------------------------------- attestation on chain
class AttestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attester: str | None = Field(default=None, pattern="^0x[0-9a-fA-F]{40}$",
                                 description="Who attests (the researcher's address): the draft is for this account to "
                                             "sign. In demo mode, omit it or name a development account and the service "
                                             "sends the attestation itself.")
    signed: str | None = Field(default=None, pattern="^0x[0-9a-fA-F]+$",
                               description="The transaction this endpoint drafted, signed by the attester's wallet: "
                                           "relayed as it is.")


class CheckOut(BaseModel):
    check: str
    ok: bool
    detail: str


class AttestationOut(BaseModel):
    state: Literal["anchored", "draft"] = Field(description="anchored: on chain now; draft: `transaction` awaits a signature.")
    study_id: str
    results_cid: str = Field(description="CID of the public results (stored here).")
    summary_cid: str = Field(description="CID of the summary (stored here); its digest is the summary hash on chain.")
    summary_hash: str = Field(description="SHA-256 of the summary's bytes, 0x hex.")
    works: list[int] = Field(description="The rated registered works the attestation links, ascending.")
    attester: str
    attestation_id: int | None = None
    tx: str | None = None
    block: int | None = None
    timestamp: int | None = Field(default=None, description="Unix seconds of the attestation's block.")
    transaction: dict[str, Any] | None = Field(default=None, description="draft: EIP-1559 fields for the attester's wallet "
                                               "to sign; POST the signed bytes back here as `signed`.")
    warning: str | None = Field(default=None, description="Set when the service signed with a development account (demo).")


class VerdictOut(BaseModel):
    attestation_id: int
    attester: str
    timestamp: int
    results_cid: str
    summary_cid: str
    summary_hash: str
    works: list[int]
    ok: bool = Field(description="Every check passed.")
    checks: list[CheckOut]


class AttestationsOut(BaseModel):
    study_id: str
    results_cid: str = Field(description="CID of the study's public results now.")
    verified: bool = Field(description="At least one attestation of these results passes every check.")
    attestations: list[VerdictOut] = Field(description="Every attestation of these results, by any attester, oldest first.")


def _attestable(studies: Studies, study_id: str) -> StudyAnalysis:
    """The public results of a closed study that rated registered works."""
    study = studies.get(study_id)
    if study.state is not StudyState.CLOSED:
        raise StudyStateError(f"study {study_id} is {study.state.value}: only a closed study's results are attested, so close "
                              f"it first (POST /studies/{study_id}/close); an attestation stays on chain for good, and the "
                              "results of a study still open change")
    result = analyse(study, studies.ratings(study_id))  # no membership: the attested results are public
    if not result.work_ids:
        raise Problem(409, "nothing-to-attest", f"no rated piece of study {study_id} is a registered, unrestricted work, and an "
                      "attestation links results to works on chain: give pieces their work_id when building a study")
    return result


def _anchored_out(study_id: str, a: Attestation, *, warning: str | None = None) -> AttestationOut:
    return AttestationOut(state="anchored", study_id=study_id, results_cid=a.results_cid, summary_cid=a.summary_cid,
                          summary_hash=a.summary_hash, works=list(a.works), attester=a.attester,
                          attestation_id=a.attestation_id, tx=a.tx, block=a.block, timestamp=a.timestamp, warning=warning)


def _refuse_repeat(state: ApiState, prepared: Prepared, attester: str) -> None:
    """409 when `attester` has attested these results with this summary already."""
    for a in find_attestations(state.chain, results_cid=prepared.results_cid, works=prepared.works):
        if a.attester.lower() == attester.lower() and a.summary_hash == "0x" + prepared.summary_hash.hex():
            raise Problem(409, "already-attested", f"{attester} attested these results as attestation {a.attestation_id} "
                          "already (nothing was sent again): GET this endpoint to verify it", attestation_id=a.attestation_id)


def _relay_signed(state: ApiState, prepared: Prepared, body: AttestIn) -> Attestation:
    """Relay the attester's signed draft, once it is exactly this study's attestation."""
    raw = bytes(HexBytes(body.signed or "0x"))
    try:
        sender = Web3.to_checksum_address(Account.recover_transaction(raw))
        tx = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
    except Exception as err:  # eth_account raises several types for undecodable bytes
        raise Problem(400, "transaction-malformed", f"not a signed EIP-1559 transaction ({type(err).__name__}: {err}): sign "
                      "the draft this endpoint answered, unchanged") from err
    if int(tx.get("chainId", -1)) != state.domain.chain_id:
        raise Problem(400, "wrong-chain", f"signed for chain {tx.get('chainId')}, this is chain {state.domain.chain_id}")
    if (Web3.to_checksum_address(tx["to"]) != prepared.call.to or int(tx["value"]) != 0
            or HexBytes(tx["data"]) != HexBytes(prepared.call.data)):
        raise Problem(400, "wrong-transaction", "the signed transaction is not this study's attestation (another contract, "
                      "function or arguments): ask for a new draft and sign it unchanged")
    if body.attester is not None and sender != Web3.to_checksum_address(body.attester):
        raise Problem(401, "signature-invalid", f"the transaction is signed by {sender}, not by the attester {body.attester}: "
                      "sign with the attester's key")
    _refuse_repeat(state, prepared, sender)
    try:
        state.chain.w3.eth.call({"from": sender, "to": prepared.call.to, "data": HexBytes(tx["data"])})
    except Exception as err:  # web3 raises several types for a revert
        raise refusal(state.chain.decoder, err, "StudyAttestations.attest") from err
    receipt = state.chain.relay(raw)  # journalled first; the node's refusals are named (chain/journal.py)
    tx_hash = HexBytes(receipt["transactionHash"])
    if receipt["status"] != 1:
        raise Problem(409, "transaction-failed", f"the attestation failed on chain in {tx_hash.to_0x_hex()}; check the gas limit")
    return anchored(state.chain, receipt)


@router.post("/studies/{study_id}/attestation", status_code=201, response_model=AttestationOut,
             responses={200: {"description": "A draft: the attestation as a transaction for the attester to sign."}},
             summary="Anchor a closed study's public results and summary on chain, linked to its rated works")
def attest(state: State, store: StoreDep, secret: Secret, token: Token, study_id: str, response: Response,
           body: AttestIn | None = None) -> AttestationOut:
    """Stores the public results and their summary, checks them (`chain.attest.prepare_attestation`),
    then: with `signed`, relays the attester's signed draft; in demo mode, without an attester or
    with a development account, sends the attestation from that account; otherwise answers the
    unsigned transaction (200) for `attester` to sign and send back as `signed`."""
    body = body or AttestIn()
    result = _attestable(_researcher(store, study_id, token, secret), study_id)
    results_cid = state.store.put_bytes(result.to_json())
    with state.write_lock:  # one attestation at a time: the repeat check and the send must not interleave
        prepared = prepare_attestation(state.chain, state.store, results_cid=results_cid,
                                       summary=summary_for_attestation(result), works=result.work_ids)
        if body.signed is not None:
            return _anchored_out(study_id, _relay_signed(state, prepared, body))
        unlocked = {a.lower(): a for a in state.chain.accounts()} if state.demo else {}
        attester = body.attester or (state.relayer if state.demo else None)
        if attester is None:
            raise Problem(400, "attester-missing", "name the attester's address (`attester`): the answer is the attestation "
                          "as a transaction for that account to sign")
        attester = Web3.to_checksum_address(attester)
        _refuse_repeat(state, prepared, attester)
        if attester.lower() in unlocked:
            a = send_attestation(state.chain, prepared, unlocked[attester.lower()])
            return _anchored_out(study_id, a, warning=DEMO_WARNING)
    response.status_code = 200
    draft = _unsigned(state, _dry_run(state, prepared.call, attester), attester)
    return AttestationOut(state="draft", study_id=study_id, results_cid=prepared.results_cid, summary_cid=prepared.summary_cid,
                          summary_hash="0x" + prepared.summary_hash.hex(), works=list(prepared.works), attester=attester,
                          transaction=draft)


def _verdict_out(v: AttestationVerdict, expected_summary: bytes) -> VerdictOut:
    a = v.attestation
    same = a.summary_hash == "0x" + hashlib.sha256(expected_summary).hexdigest()
    checks = [*v.checks, Check("summary-of-study", same, "the summary is the one this study's results give" if same else
                               "the summary is not the one this study's results give (listening.analysis."
                               "summary_for_attestation): the attester stated other figures")]
    return VerdictOut(attestation_id=a.attestation_id, attester=a.attester, timestamp=a.timestamp, results_cid=a.results_cid,
                      summary_cid=a.summary_cid, summary_hash=a.summary_hash, works=list(a.works),
                      ok=all(c.ok for c in checks), checks=[CheckOut(check=c.check, ok=c.ok, detail=c.detail) for c in checks])


@router.get("/studies/{study_id}/attestation", response_model=AttestationsOut,
            summary="Verify the on-chain attestations of the study's public results: stored documents re-hashed against the chain")
def verify_attestation(state: State, store: StoreDep, secret: Secret, token: Token, study_id: str) -> AttestationsOut:
    studies = _researcher(store, study_id, token, secret)
    result = analyse(studies.get(study_id), studies.ratings(study_id))
    results_cid = bytes_cid(result.to_json())
    found = find_attestations(state.chain, results_cid=results_cid, works=result.work_ids) if result.work_ids else ()
    if not found:
        raise Problem(404, "not-attested", f"no attestation of study {study_id}'s public results ({results_cid}) is on chain: "
                      f"close the study and POST /studies/{study_id}/attestation")
    summary = summary_for_attestation(result)
    verdicts = [_verdict_out(verify_on_chain(state.chain, state.store, a.attestation_id), summary) for a in found]
    return AttestationsOut(study_id=study_id, results_cid=results_cid, verified=any(v.ok for v in verdicts),
                           attestations=verdicts)


# ---------------------------------------------------------------------- the rater
@router.get("/studies/{study_id}/next", response_model=NextOut, summary="A rater's next piece (blind: no labels)")
def next_piece(store: StoreDep, secret: Secret, token: Token, study_id: str) -> NextOut:
    studies = Studies(store)
    rater = studies.rater_of(study_id, token, secret=secret)
    study = studies.get(study_id)
    p = studies.progress(study_id, rater)
    n = p.next
    return NextOut(study_id=study_id, title=study.title, instructions=study.instructions, done=p.done, total=p.total,
                   position=None if n is None else n.position, piece=None if n is None else _view(n.piece),
                   criteria=[] if n is None else [_criterion_out(c) for c in n.criteria],
                   references=[] if n is None else [_view(r) for r in n.references])


@router.post("/studies/{study_id}/ratings", status_code=201, response_model=RatingsStored,
             summary="A rater's ratings of one piece: all stored, or none")
def rate(store: StoreDep, secret: Secret, token: Token, study_id: str, body: RatingIn) -> RatingsStored:
    studies = Studies(store)
    rater = studies.rater_of(study_id, token, secret=secret)
    stored = studies.submit(study_id, rater, body.piece, body.values)
    return RatingsStored(study_id=study_id, piece=body.piece, values={r.criterion: r.value for r in stored},
                         rated_at=stored[0].rated_at)


# ---------------------------------------------------------------------- ontology review
class ReviewerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reviewer: str = Field(min_length=1, max_length=200)
    valid_for_s: int = Field(default=30 * DAY, gt=0, le=365 * DAY)


class TokenOut(BaseModel):
    role: str
    subject: str
    token: str
    expires: datetime | None


class LabelsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    work_id: int = Field(ge=1)
    tags: list[str] = Field(description="Tradition tags, as the catalogue or a classifier gave them.")
    cluster: str | None = Field(default=None, description="The work's cluster on the embedding map.")


class LabelsOut(BaseModel):
    work_id: int
    tags: list[str]
    cluster: str | None


class RoundOut(BaseModel):
    round: int
    opened_at: datetime
    closed_at: datetime | None


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    work_id: int
    target: Literal["tag", "cluster"]
    action: Literal["accept", "reject", "correct"]
    old: str | None = Field(default=None, description="The tag or cluster reviewed, as it is now (None: add a tag).")
    new: str | None = Field(default=None, description="The correction.")


class ChangeOut(BaseModel):
    seq: int
    round: int
    reviewer: str
    work_id: int
    target: str
    action: str
    old: str | None
    new: str | None
    at: datetime


class MetricsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    work_ids: list[int] = Field(min_length=2)
    embeddings: list[list[float]] = Field(description="One row per work id, every row the same length.")
    metric: Literal["cosine", "euclidean"] = "cosine"


class RoundMetricsOut(BaseModel):
    round: int
    items: int
    excluded: int
    tag_labels: int
    cluster_labels: int
    silhouette_tags: float | None
    silhouette_clusters: float | None
    ami_tags_clusters: float | None
    note: str


def _curator(token: str, secret: bytes) -> Claims:
    return require(_claims(token, secret), "curator", scope=ONTOLOGY_SCOPE)


def _labels_out(w: WorkLabels) -> LabelsOut:
    return LabelsOut(work_id=w.work_id, tags=sorted(w.tags), cluster=w.cluster)


def _round_out(r: Round) -> RoundOut:
    return RoundOut(round=r.number, opened_at=r.opened_at, closed_at=r.closed_at)


def _change_out(c: Change) -> ChangeOut:
    return ChangeOut(seq=c.seq, round=c.round, reviewer=c.reviewer, work_id=c.work_id, target=c.target, action=c.action,
                     old=c.old, new=c.new, at=c.at)


@router.post("/ontology/reviewers", status_code=201, response_model=TokenOut, tags=["ontology"],
             summary="Issue an expert's reviewer token (curator)")
def add_reviewer(secret: Secret, token: Token, body: ReviewerIn) -> TokenOut:
    _curator(token, secret)
    expires = (utc_now() + timedelta(seconds=body.valid_for_s)).replace(microsecond=0)
    claims = Claims(role="reviewer", subject=body.reviewer, scope=ONTOLOGY_SCOPE, expires=expires)
    return TokenOut(role="reviewer", subject=body.reviewer, token=issue(claims, secret=secret), expires=expires)


@router.post("/ontology/labels", status_code=201, response_model=LabelsOut, tags=["ontology"],
             summary="A work's baseline tags and cluster, before review (curator)")
def seed_labels(store: StoreDep, secret: Secret, token: Token, body: LabelsIn) -> LabelsOut:
    _curator(token, secret)
    return _labels_out(Ontology(store).seed(body.work_id, tags=body.tags, cluster=body.cluster))


@router.get("/ontology/labels", response_model=list[LabelsOut], tags=["ontology"], summary="Every work's labels after a round")
def labels(store: StoreDep, round: Annotated[int | None, Query(ge=0, description="0: the baseline; default: now.")] = None
           ) -> list[LabelsOut]:
    onto = Ontology(store)
    if round is None:
        rounds = onto.rounds()
        round = rounds[-1].number if rounds else 0
    return [_labels_out(w) for w in onto.labels_after(round).values()]


@router.post("/ontology/rounds", status_code=201, response_model=RoundOut, tags=["ontology"],
             summary="Open the next review round (curator)")
def open_round(store: StoreDep, secret: Secret, token: Token) -> RoundOut:
    _curator(token, secret)
    return _round_out(Ontology(store).open_round())


@router.post("/ontology/rounds/close", response_model=RoundOut, tags=["ontology"], summary="Close the open round (curator)")
def close_round(store: StoreDep, secret: Secret, token: Token) -> RoundOut:
    _curator(token, secret)
    return _round_out(Ontology(store).close_round())


@router.get("/ontology/rounds", response_model=list[RoundOut], tags=["ontology"], summary="Review rounds so far")
def rounds(store: StoreDep) -> list[RoundOut]:
    return [_round_out(r) for r in Ontology(store).rounds()]


@router.post("/ontology/reviews", status_code=201, response_model=ChangeOut, tags=["ontology"],
             summary="Accept, reject or correct a work's tag or cluster in the open round (reviewer)")
def review(store: StoreDep, secret: Secret, token: Token, body: ReviewIn) -> ChangeOut:
    who = require(_claims(token, secret), "reviewer", "curator", scope=ONTOLOGY_SCOPE).subject
    change = Ontology(store).review(reviewer=who, work_id=body.work_id, target=body.target, action=body.action,
                                    old=body.old, new=body.new)
    return _change_out(change)


@router.get("/ontology/changes", response_model=list[ChangeOut], tags=["ontology"], summary="Who changed what, oldest first")
def changes(store: StoreDep, round: Annotated[int | None, Query(ge=1)] = None,
            work_id: Annotated[int | None, Query(ge=1)] = None) -> list[ChangeOut]:
    return [_change_out(c) for c in Ontology(store).changes(round=round, work_id=work_id)]


@router.post("/ontology/metrics", response_model=list[RoundMetricsOut], tags=["ontology"],
             summary="Silhouette and AMI of given embeddings under each round's labels")
def metrics(store: StoreDep, body: MetricsIn) -> list[RoundMetricsOut]:
    widths = {len(row) for row in body.embeddings}
    if len(widths) != 1 or 0 in widths:
        raise Problem(400, "invalid-input", "every embedding row must have the same, non-zero length")
    out: tuple[RoundMetrics, ...] = round_metrics(Ontology(store).labels_by_round(), body.work_ids,
                                                  np.asarray(body.embeddings, dtype=np.float64), metric=body.metric)
    return [RoundMetricsOut(**vars(m)) for m in out]
