"""Listening-study results attested on chain and verified, on a real anvil: a study's stored
results and summary anchored and linked to the rated works, every refusal made before anything is
sent, verification that catches missing or mismatched documents, and a deployment recorded before
the attestations contract existed getting it on first use."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chain import gateway as gw
from chain.anvil import Anvil
from chain.attest import (
    MAX_ATTESTED_WORKS,
    attest_study,
    attestation_of,
    attestations_of_work,
    find_attestations,
    summary_cid,
    verify_attestation,
)
from chain.client import Chain, connect
from chain.types import HeritageParams, Protocol, everything_to
from core.blockstore import BlockStore, ContentStore, open_store
from core.cid import bytes_cid, from_text
from core.config import Settings
from core.errors import ChainError, InputError
from core.types import Cid, CommunityId, WorkId
from listening.analysis import analyse, summary_for_attestation
from listening.model import Criterion, Piece, RaterId, Rating, Scale, Study, StudyId, StudyState
from tests.python.chain.connected import connected

_fresh = itertools.count()
OPEN = (True, False, True, True, True, False, 0, 0, 1, 0)


class Env:
    def __init__(self, chain: Chain, store: ContentStore, settings: Settings) -> None:
        self.chain, self.store, self.settings = chain, store, settings
        self.acct = [str(a) for a in chain.w3.eth.accounts]
        self.reg = chain.registry.functions
        self.chain.send(self.reg.registerCommunity("Daur song keepers", [self.acct[1]], 1, self.acct[2]), self.acct[0])
        self.community = int(self.reg.communityCount().call())

    def works(self, n: int) -> list[WorkId]:
        """Register `n` new heritage works; their ids."""
        cids = [from_text(self.store.put_bytes(f"X:{next(_fresh)}\nT:song\nK:D\nDEFG|\n".encode())) for _ in range(n)]
        batch = [HeritageParams(CommunityId(self.community), c, b"", Protocol.from_abi(OPEN), everything_to(self.acct[2]))
                 for c in cids]
        ids = gw.register_heritage_batch(self.chain, batch, sender=self.acct[1])
        return [w for w in ids if w is not None]

    def restricted(self) -> WorkId:
        commitment = hashlib.sha256(f"salt {next(_fresh)}".encode()).digest()
        self.chain.send(self.reg.registerRestrictedWork(self.community, commitment, b"", 0, 1, []), self.acct[1])
        return WorkId(int(self.reg.workCount().call()))

    def study(self, works: list[WorkId]) -> tuple[Cid, bytes]:
        """A closed study rating `works` (two raters, one criterion), its results stored: (results CID, summary)."""
        sid = StudyId(f"s-{next(_fresh)}")
        pieces = tuple(Piece(cid=bytes_cid(f"piece {sid} {w}".encode()), condition="model A", work_id=w) for w in works)
        study = Study(study_id=sid, title="Generated Daur songs", instructions="", blind=True, randomise=True,
                      state=StudyState.CLOSED, created_at=datetime(2026, 1, 1, tzinfo=UTC), pieces=pieces,
                      criteria=(Criterion("authenticity", "How authentic?", Scale(1, 5)),))
        at = datetime(2026, 1, 2, tzinfo=UTC)
        ratings = [Rating(sid, RaterId(r), p.cid, "authenticity", 1 + (i + j) % 5, at)
                   for j, r in enumerate(("r1", "r2")) for i, p in enumerate(pieces)]
        result = analyse(study, ratings)
        return self.store.put_bytes(result.to_json()), summary_for_attestation(result)

    def sent(self) -> tuple[int, int]:
        """(attestations on chain, the node's block number): a refusal leaves both unchanged."""
        return int(self.chain.attestations.functions.attestationCount().call()), int(self.chain.w3.eth.block_number)


@pytest.fixture(scope="module")
def env(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with connected(anvil, tmp_path_factory, "attest") as (chain, settings):
        yield Env(chain, open_store(settings), settings)


def test_attest_then_verify(env: Env) -> None:
    works = env.works(3)
    results_cid, summary = env.study(works)
    before, _ = env.sent()
    a = attest_study(env.chain, env.store, results_cid=results_cid, summary=summary, works=list(reversed(works)),
                     sender=env.acct[4])

    assert a.attestation_id == before + 1 and env.sent()[0] == before + 1
    assert a.attester == env.acct[4] and a.results_cid == results_cid and a.works == tuple(works)
    assert a.summary_hash == "0x" + hashlib.sha256(summary).hexdigest()
    assert a.summary_cid == summary_cid(hashlib.sha256(summary).digest()) == bytes_cid(summary)
    assert b"".join(env.store.cat(a.summary_cid)) == summary  # stored, so anyone can fetch it by the hash on chain
    assert a.tx is not None and a.tx.startswith("0x") and a.block is not None and a.gas_used is not None and a.gas_used > 0
    assert a.timestamp == int(env.chain.w3.eth.get_block(a.block)["timestamp"])
    assert attestation_of(env.chain, a.attestation_id) == dataclasses.replace(a, tx=None, block=None, gas_used=None)
    for w in works:
        assert attestations_of_work(env.chain, w)[-1] == a.attestation_id
    assert [f.attestation_id for f in find_attestations(env.chain, results_cid=results_cid, works=works)] == [a.attestation_id]

    verdict = verify_attestation(env.chain, env.store, a.attestation_id)
    assert verdict.ok, verdict.checks
    assert [c.check for c in verdict.checks] == ["results", "summary", "summary-of-results", "works"]
    assert verdict.summary == json.loads(summary)


def test_verify_reports_what_is_missing_or_does_not_match(env: Env, tmp_path: Path) -> None:
    works = env.works(2)
    results_cid, summary = env.study(works)
    a = attest_study(env.chain, env.store, results_cid=results_cid, summary=summary, works=works, sender=env.acct[4])

    elsewhere = verify_attestation(env.chain, BlockStore(tmp_path / "empty"), a.attestation_id)
    assert not elsewhere.ok
    assert {c.check: c.ok for c in elsewhere.checks} == {"results": False, "summary": False}
    assert all("add" in c.detail for c in elsewhere.checks)

    # Anyone may attest directly on the contract: a summary of other results, and one never stored.
    other_cid, other_summary = env.study(works)
    env.store.put_bytes(other_summary)
    att = env.chain.attestations.functions
    env.chain.send(att.attest(from_text(results_cid), hashlib.sha256(other_summary).digest(), works), env.acct[5])
    mismatched = verify_attestation(env.chain, env.store, int(att.attestationCount().call()))
    assert {c.check: c.ok for c in mismatched.checks} == {"results": True, "summary": True, "summary-of-results": False,
                                                           "works": True}
    env.chain.send(att.attest(from_text(results_cid), b"\x11" * 32, works), env.acct[5])
    unknown = verify_attestation(env.chain, env.store, int(att.attestationCount().call()))
    assert {c.check: c.ok for c in unknown.checks} == {"results": True, "summary": False} and not unknown.ok
    found = find_attestations(env.chain, results_cid=results_cid, works=works)
    assert [f.attestation_id for f in found] == [a.attestation_id, a.attestation_id + 1, a.attestation_id + 2]
    assert [f.attester for f in found] == [env.acct[4], env.acct[5], env.acct[5]]
    assert other_cid != results_cid

    with pytest.raises(InputError, match=r"no attestation 999: there are \d+ \(ids 1 to \d+\); check the id"):
        verify_attestation(env.chain, env.store, 999)


Case = Callable[[Env], dict[str, Any]]


def _good(env: Env) -> dict[str, Any]:
    works = env.works(2)
    results_cid, summary = env.study(works)
    return {"results_cid": results_cid, "summary": summary, "works": works}


def _with(**change: Callable[[Env, dict[str, Any]], Any]) -> Case:
    def case(env: Env) -> dict[str, Any]:
        kw = _good(env)
        return {**kw, **{k: f(env, kw) for k, f in change.items()}}
    return case


def _summary(edit: Callable[[dict[str, Any]], None]) -> Callable[[Env, dict[str, Any]], bytes]:
    def make(env: Env, kw: dict[str, Any]) -> bytes:
        doc = json.loads(kw["summary"])
        edit(doc)
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return make


def _many(env: Env, kw: dict[str, Any]) -> bytes:
    return _summary(lambda d: d.update(work_ids=list(range(1, MAX_ATTESTED_WORKS + 2))))(env, kw)


REFUSALS: dict[str, tuple[Case, str]] = {
    "results not stored": (_with(results_cid=lambda e, kw: bytes_cid(b"never stored")),
                           r"are not in the content store: store them first"),
    "not a CID": (_with(results_cid=lambda e, kw: "Qm-not-a-cid"), r"is not a base32 CIDv1"),
    "summary of other results": (_with(summary=_summary(lambda d: d.update(result_sha256="ab" * 32))),
                                 r"the summary is not of the results .*make the summary from these very results"),
    "summary names other works": (_with(works=lambda e, kw: [kw["works"][0]]),
                                  r"the summary names works \[\d+, \d+\], the attestation would link \[\d+\]"),
    "summary not JSON": (_with(summary=lambda e, kw: b"\xff not json"), r"the summary is not JSON"),
    "summary empty": (_with(summary=lambda e, kw: b""), r"the summary is empty"),
    "summary too large": (_with(summary=lambda e, kw: b" " * (256 * 1024 + 1)), r"more than 262144 .*keep the summary"),
    "no works": (_with(works=lambda e, kw: [], summary=_summary(lambda d: d.update(work_ids=[])), ),
                 r"links at least one registered work"),
    "a work twice": (_with(works=lambda e, kw: [*kw["works"], kw["works"][0]]), r"name a work twice: name each once"),
    "too many works": (_with(works=lambda e, kw: list(range(1, MAX_ATTESTED_WORKS + 2)), summary=_many),
                       r"65 works are more than the 64 .*split the study"),
    "unregistered work": (_with(works=lambda e, kw: [kw["works"][0], 10**6],
                                summary=_summary(lambda d: d.update(work_ids=[d["work_ids"][0], 10**6]))),
                          r"no work 1000000 is registered"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusals_send_nothing(env: Env, case: str) -> None:
    make, match = REFUSALS[case]
    kw = make(env)
    before = env.sent()
    with pytest.raises(InputError, match=match):
        attest_study(env.chain, env.store, sender=env.acct[4], **kw)
    assert env.sent() == before


def test_a_restricted_work_is_never_linked(env: Env) -> None:
    secret, (open_work,) = env.restricted(), env.works(1)
    results_cid, _ = env.study([open_work])
    results = b"".join(env.store.cat(results_cid))
    summary = json.dumps({"result_sha256": hashlib.sha256(results).hexdigest(), "work_ids": sorted([open_work, secret])}).encode()
    before = env.sent()
    with pytest.raises(InputError, match=rf"work {secret} is restricted \(secret/sacred\).*restricted_community_id"):
        attest_study(env.chain, env.store, results_cid=results_cid, summary=summary, works=[open_work, secret],
                     sender=env.acct[4])
    assert env.sent() == before


def test_an_older_deployment_gets_the_contract_on_first_use(env: Env, anvil: Anvil, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, deployments_dir=tmp_path / "deployments", rpc_url=anvil.url)
    first = connect(settings)
    path = settings.deployments_dir / f"{first.deployment.chain_id}.json"
    recorded = json.loads(path.read_text())
    assert recorded["attestations"] == first.attestations.address
    del recorded["attestations"]  # as deployments recorded before StudyAttestations existed
    path.write_text(json.dumps(recorded))

    older = connect(settings)
    assert older.deployment.attestations is None and older.deployment.registry == first.deployment.registry
    contract = older.attestations  # deployed now, over the same registry, and recorded
    assert contract.address != first.attestations.address
    assert str(contract.functions.registry().call()) == older.deployment.registry
    assert json.loads(path.read_text())["attestations"] == contract.address == older.deployment.attestations
    assert connect(settings).attestations.address == contract.address  # found, not deployed again

    recorded["attestations"] = env.chain.attestations.address  # one that serves another registry
    path.write_text(json.dumps(recorded))
    with pytest.raises(ChainError, match=r"reads registry 0x[0-9a-fA-F]{40}, not this deployment's .*remove its "
                                         r"\"attestations\" entry"):
        _ = connect(settings).attestations
