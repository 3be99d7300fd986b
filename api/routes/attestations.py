"""A closed study's public results attested on chain (`chain.attest`, StudyAttestations), with the
researcher token: in demo mode the service sends the attestation from a development account;
otherwise it answers a transaction for the attester's wallet to sign, and relays it once signed
(api/relay.py checks, dry-runs and relays it). GET verifies every attestation of the results."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from fastapi import APIRouter, Response
from hexbytes import HexBytes
from pydantic import BaseModel, ConfigDict, Field
from web3 import Web3

from api import relay
from api.deps import State
from api.problems import Problem
from api.routes.demo import WARNING as DEMO_WARNING
from api.routes.study_common import Secret, StoreDep, Token, researcher
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
from listening.analysis import StudyAnalysis, analyse, summary_for_attestation
from listening.errors import StudyStateError
from listening.model import StudyState
from listening.studies import Studies

router = APIRouter(tags=["studies"])


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
    tx = relay.decode_signed(bytes(HexBytes(body.signed or "0x")), typed_only=True)
    relay.check_chain(state, tx)
    if tx.to != prepared.call.to or tx.value != 0 or tx.data != HexBytes(prepared.call.data):
        raise Problem(400, "wrong-transaction", "the signed transaction is not this study's attestation (another contract, "
                      "function or arguments): ask for a new draft and sign it unchanged")
    if body.attester is not None and tx.sender != Web3.to_checksum_address(body.attester):
        raise Problem(401, "signature-invalid", f"the transaction is signed by {tx.sender}, not by the attester "
                      f"{body.attester}: sign with the attester's key")
    _refuse_repeat(state, prepared, tx.sender)
    relay.dry_run_signed(state, tx, "StudyAttestations.attest")
    receipt = relay.send_signed(state, tx, "StudyAttestations.attest")  # the caller holds the write lock
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
    result = _attestable(researcher(store, study_id, token, secret), study_id)
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
    draft = relay.wallet_transaction(state, prepared.call, attester)
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
    studies = researcher(store, study_id, token, secret)
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

