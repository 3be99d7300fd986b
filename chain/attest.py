"""Listening-study results anchored on chain, linked to the rated works, and their verification.

A study's results are canonical JSON stored by CID (`listening.analysis.StudyAnalysis.to_json`);
its summary (`listening.analysis.summary_for_attestation`) states the study, the SHA-256 of the
results' bytes (`result_sha256`), the rated works (`work_ids`) and each criterion's figures.
`attest_study` stores the summary too and calls `StudyAttestations.attest(resultsCid,
sha256(summary), works)`: the summary is one raw block (at most 256 KiB), so the hash on chain is
also its CID's digest and anyone can fetch it by the hash alone. `verify_attestation` fetches both
documents, re-hashes them and compares them with the chain and with each other.

Everything is checked before anything is sent: the results are in the store, the summary is of
these results and names exactly these works, the works are registered and none is restricted
(secret/sacred works are never linked to published ratings). Refusals are InputErrors that say
what to do; nothing is sent.

`chain` never imports `listening` (DESIGN.md): the summary is read as the JSON document of the
`heritage-ledger/listening-attestation` schema, an object with `result_sha256` (hex) and
`work_ids` (ascending integers).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hexbytes import HexBytes
from web3 import Web3

from chain import gateway as gw
from chain.calls import Call
from chain.client import Chain
from core.blockstore import ContentStore
from core.cid import CHUNK_SIZE, RAW, SHA2_256, bytes_cid, from_text, to_text
from core.errors import ChainError, HeritageError, InputError, UnknownWork
from core.types import Cid, WorkId, WorkStatus

# Limits of contracts/StudyAttestations.sol.
MAX_ATTESTED_WORKS = 64
MAX_PAGE = 100
MAX_SUMMARY_BYTES = CHUNK_SIZE
"""A summary of one raw block, so that its SHA-256 (the hash on chain) is its CID's digest."""


@dataclass(frozen=True)
class Prepared:
    """An attestation checked against the store and the chain, ready to send (`call`)."""

    results_cid: Cid
    summary_cid: Cid
    summary_hash: bytes
    works: tuple[WorkId, ...]
    call: Call
    """The contract call `attest(resultsCid, summaryHash, works)`."""


@dataclass(frozen=True)
class Attestation:
    """An attestation on chain, and the transaction that made it (None when read back later)."""

    attestation_id: int
    attester: str
    timestamp: int
    results_cid: Cid
    summary_cid: Cid
    summary_hash: str
    works: tuple[WorkId, ...]
    tx: str | None = None
    block: int | None = None
    gas_used: int | None = None


@dataclass(frozen=True)
class Check:
    check: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class AttestationVerdict:
    attestation: Attestation
    checks: tuple[Check, ...]
    summary: dict[str, Any] | None
    """The stored summary, when it was found and is a JSON object."""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


def summary_cid(summary_hash: bytes) -> Cid:
    """The CID of the one-block summary whose SHA-256 is `summary_hash`."""
    return to_text(bytes([0x01, RAW, SHA2_256, 32]) + summary_hash)


def prepare_attestation(chain: Chain, store: ContentStore, *, results_cid: str, summary: bytes,
                        works: Sequence[int]) -> Prepared:
    """Check an attestation of the stored results `results_cid` with `summary`, linked to
    `works`, as the contract will and more (module doc); store the summary. Raises InputError,
    with nothing sent, when anything is off."""
    results = _results_bytes(store, results_cid)
    doc = _summary_doc(summary)
    if doc.get("result_sha256") != hashlib.sha256(results).hexdigest():
        raise InputError(f"the summary is not of the results {results_cid}: its result_sha256 is "
                         f"{doc.get('result_sha256')!r}, those results hash to {hashlib.sha256(results).hexdigest()}; make the "
                         "summary from these very results (listening.analysis.summary_for_attestation) and attest again")
    ids = _works(works)
    if doc.get("work_ids") != list(ids):
        raise InputError(f"the summary names works {doc.get('work_ids')}, the attestation would link {list(ids)}: link exactly "
                         "the works the summary names")
    _registered(chain, ids)
    summary_hash = hashlib.sha256(summary).digest()
    stored = store.put_bytes(summary)
    assert stored == summary_cid(summary_hash), "a summary of one block has the raw CID of its SHA-256"
    call = Call(chain.attestations.functions.attest(from_text(results_cid), summary_hash, list(ids)))
    return Prepared(Cid(results_cid), stored, summary_hash, ids, call)


def attest_study(chain: Chain, store: ContentStore, *, results_cid: str, summary: bytes, works: Sequence[int],
                 sender: str) -> Attestation:
    """Anchor the stored results `results_cid` and the hash of their `summary` on chain, linked to
    the registered `works`, sent by `sender` (who is named the attester). Checks everything first
    (`prepare_attestation`); a contract refusal raises its named error."""
    return send_attestation(chain, prepare_attestation(chain, store, results_cid=results_cid, summary=summary, works=works),
                            sender)


def send_attestation(chain: Chain, prepared: Prepared, sender: str) -> Attestation:
    """Send a prepared attestation from `sender` (an unlocked account or the signing key's)."""
    return anchored(chain, chain.send(prepared.call.fn, sender))


def anchored(chain: Chain, receipt: Any) -> Attestation:
    """The attestation a successful `attest` transaction made, from its receipt (web3's or the
    raw JSON one of a locally signed transaction)."""
    topic = HexBytes(Web3.keccak(text="StudyAttested(uint256,address,bytes,bytes32,uint256[])"))
    where = chain.attestations.address.lower()
    for log in receipt["logs"]:
        topics = [HexBytes(t) for t in log["topics"]]
        if str(log["address"]).lower() == where and topics and topics[0] == topic:
            return replace(attestation_of(chain, int.from_bytes(topics[1], "big")),
                           tx=HexBytes(receipt["transactionHash"]).to_0x_hex(), block=_int(receipt["blockNumber"]),
                           gas_used=_int(receipt["gasUsed"]))
    raise ChainError(f"transaction {HexBytes(receipt['transactionHash']).to_0x_hex()} made no attestation: it is not a call "
                     "of StudyAttestations.attest; send the attestation itself")


def attestation_of(chain: Chain, attestation_id: int) -> Attestation:
    """One attestation as the chain holds it; InputError for an id that names none."""
    count = int(chain.attestations.functions.attestationCount().call())
    if not 1 <= attestation_id <= count:
        raise InputError(f"no attestation {attestation_id}: there are {count}" + (f" (ids 1 to {count})" if count else "")
                         + "; check the id")
    attester, timestamp, cid, summary_hash, works = chain.attestations.functions.attestationOf(attestation_id).call()
    return Attestation(attestation_id=attestation_id, attester=str(attester), timestamp=int(timestamp),
                       results_cid=to_text(bytes(cid)), summary_cid=summary_cid(bytes(summary_hash)),
                       summary_hash="0x" + bytes(summary_hash).hex(), works=tuple(WorkId(int(w)) for w in works))


def attestations_of_work(chain: Chain, work_id: int) -> tuple[int, ...]:
    """Ids of every attestation linking `work_id`, oldest first (read page by page)."""
    ids: list[int] = []
    while True:
        page, total = chain.attestations.functions.attestationsOfWork(work_id, len(ids), MAX_PAGE).call()
        ids.extend(int(i) for i in page)
        if not page or len(ids) >= int(total):
            return tuple(ids)


def find_attestations(chain: Chain, *, results_cid: str, works: Sequence[int]) -> tuple[Attestation, ...]:
    """The attestations of the results `results_cid` that link `works` (any attester), oldest
    first: read from the work with the fewest attestations."""
    ids = _works(works)
    fewest = min(ids, key=lambda w: int(chain.attestations.functions.attestationsOfWork(w, 0, 0).call()[1]))
    found = (attestation_of(chain, i) for i in attestations_of_work(chain, fewest))
    return tuple(a for a in found if a.results_cid == results_cid and a.works == ids)


def verify_attestation(chain: Chain, store: ContentStore, attestation_id: int) -> AttestationVerdict:
    """Fetch the attested results and summary from `store`, re-hash both and compare them with
    the chain and with each other. Checks: `results` (stored, re-hashing to the CID on chain),
    `summary` (stored, hashing to the hash on chain), `summary-of-results` (its result_sha256 is
    the results' SHA-256), `works` (the summary and the results name exactly the works linked)."""
    a = attestation_of(chain, attestation_id)
    checks: list[Check] = []
    results: bytes | None = None
    try:
        results = b"".join(store.cat(a.results_cid))
        same = bytes_cid(results) == a.results_cid
        checks.append(Check("results", same, f"the stored results re-hash to {a.results_cid}, the CID on chain" if same
                            else f"the stored results re-hash to {bytes_cid(results)}, not {a.results_cid}"))
    except HeritageError as err:
        checks.append(Check("results", False, f"the results {a.results_cid} cannot be read here ({err}); add them to this "
                            "content store (from IPFS or the researcher) and verify again"))
    doc: dict[str, Any] | None = None
    try:
        summary = store.get_block(a.summary_cid)  # verified: a block whose bytes do not hash to its CID is an error
    except HeritageError as err:
        checks.append(Check("summary", False, f"the summary {a.summary_cid} (SHA-256 {a.summary_hash}) cannot be read here "
                            f"({err}); add its bytes to this content store and verify again"))
    else:
        digest = "0x" + hashlib.sha256(summary).hexdigest()
        try:
            doc = _summary_doc(summary) if digest == a.summary_hash else None
            checks.append(Check("summary", doc is not None, f"the stored summary hashes to {a.summary_hash}, the hash on chain"
                                if doc is not None else f"the stored summary hashes to {digest}, not {a.summary_hash}"))
        except InputError as err:
            checks.append(Check("summary", False, f"the bytes hashing to {a.summary_hash} are no attestation summary: {err}"))
    if results is not None and doc is not None:
        digest = hashlib.sha256(results).hexdigest()
        same = doc.get("result_sha256") == digest
        checks.append(Check("summary-of-results", same, "the summary states the results' SHA-256" if same
                            else f"the summary states result_sha256 {doc.get('result_sha256')!r}, the results hash to {digest}"))
        checks.append(_works_check(a.works, doc, results))
    return AttestationVerdict(a, tuple(checks), doc)


def _works_check(works: tuple[WorkId, ...], doc: dict[str, Any], results: bytes) -> Check:
    linked = list(works)
    try:
        in_results = json.loads(results).get("work_ids")
    except (ValueError, AttributeError):
        in_results = None
    if doc.get("work_ids") != linked:
        return Check("works", False, f"the summary names works {doc.get('work_ids')}, the chain links {linked}")
    if in_results is not None and in_results != linked:
        return Check("works", False, f"the results name works {in_results}, the chain links {linked}")
    return Check("works", True, f"the summary and the results name works {linked}, as the chain links them")


def _results_bytes(store: ContentStore, results_cid: str) -> bytes:
    from_text(results_cid)
    if not store.has(Cid(results_cid)):
        raise InputError(f"the results {results_cid} are not in the content store: store them first "
                         "(ContentStore.put_bytes of the results' canonical JSON) and attest again")
    return b"".join(store.cat(Cid(results_cid)))


def _summary_doc(summary: bytes) -> dict[str, Any]:
    if not summary:
        raise InputError("the summary is empty: give the summary's bytes (listening.analysis.summary_for_attestation)")
    if len(summary) > MAX_SUMMARY_BYTES:
        raise InputError(f"the summary is {len(summary)} bytes, more than {MAX_SUMMARY_BYTES} (one block, so that its hash "
                         "is its CID): leave per-piece figures in the results and keep the summary to the study's totals")
    try:
        doc = json.loads(summary)
    except ValueError as err:
        raise InputError(f"the summary is not JSON ({err}): give the bytes listening.analysis.summary_for_attestation "
                         "answers") from err
    if not isinstance(doc, dict):
        raise InputError("the summary is JSON but not an object: give the bytes listening.analysis.summary_for_attestation "
                         "answers")
    return doc


def _works(works: Sequence[int]) -> tuple[WorkId, ...]:
    ids = tuple(WorkId(int(w)) for w in sorted(works))
    if not ids:
        raise InputError("an attestation links at least one registered work, and none was given: a study's results can be "
                         "attested once it has rated pieces that are registered works (pieces with a work_id)")
    if len(set(ids)) != len(ids):
        raise InputError(f"works {list(works)} name a work twice: name each once")
    if len(ids) > MAX_ATTESTED_WORKS:
        raise InputError(f"{len(ids)} works are more than the {MAX_ATTESTED_WORKS} one attestation may link "
                         "(MAX_ATTESTED_WORKS): split the study by condition and attest each part")
    return ids


def _registered(chain: Chain, works: tuple[WorkId, ...]) -> None:
    count = gw.work_count(chain)
    for w in works:
        if not 1 <= w <= count:
            raise UnknownWork(f"no work {w} is registered (ids run from 1 to {count}): link only registered works; "
                             "a piece that is not registered has no work_id")
        if gw.status_of(chain, w) == WorkStatus.RESTRICTED:
            raise InputError(f"work {w} is restricted (secret/sacred): its ratings are shown only to its community, so an "
                             "attestation may not link it; mark its piece restricted_community_id and store the results again")


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)
