"""Listening studies and ontology review through the API, end to end: a researcher builds and
opens a blind study, invited raters rate through their links, the researcher reads and stores the
results; every refusal answers its problem code and leaves the study database unchanged.

Most of these routes need no chain, so their app is the studies router on the real problem
handlers with the settings and the content store given directly (no anvil); the attestation
tests at the end use the anvil-backed service of conftest.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api import problems
from api.app import create_app
from api.deps import get_settings, get_state
from api.routes import studies
from core.blockstore import BlockStore
from core.cid import bytes_cid
from core.config import Settings
from core.types import Cid
from listening.invites import Claims, issue
from listening.model import Piece
from listening.store import connect
from listening.studies import rater_order
from tests.python.api.conftest import make_settings

SECRET = "an-api-test-secret-of-32-bytes!!"


@dataclass
class Lab:
    client: TestClient
    settings: Settings
    blocks: BlockStore

    def dump(self) -> dict[str, list[tuple[object, ...]]]:
        with connect(self.settings.data_dir / "listening" / "studies.sqlite") as s:
            return s.dump()

    def token(self, role: str, subject: str, scope: str, **extra: Any) -> str:
        return issue(Claims(role, subject, scope, **extra), secret=SECRET.encode())  # type: ignore[arg-type]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def _lab(folder: Path) -> Iterator[Lab]:
    settings = make_settings(folder, listening_secret=SecretStr(SECRET))
    blocks = BlockStore(settings.blocks_dir)
    app = FastAPI()
    problems.install(app)
    app.include_router(studies.router)
    app.dependency_overrides[get_settings] = lambda: settings
    app.dependency_overrides[get_state] = lambda: SimpleNamespace(settings=settings, store=blocks)
    with TestClient(app) as client:
        yield Lab(client, settings, blocks)


@pytest.fixture()
def lab(tmp_path: Path) -> Iterator[Lab]:
    with _lab(tmp_path) as it:
        yield it


def piece_cid(i: int) -> Cid:
    return bytes_cid(f"generated song {i}".encode())


@dataclass
class Study:
    study_id: str
    researcher: str
    raters: dict[str, str]  # rater id → token
    links: dict[str, str]


def build(lab: Lab, *, open_it: bool = True) -> Study:
    """A blind study: pieces 0-3 (0, 1 model A; 2, 3 model B, 3 restricted to community 7), piece 9
    a reference; authenticity 1-5 and satisfaction 1-4 (approval ≥ 3); raters: a link and an account."""
    r = lab.client.post("/studies", json={"title": "Generated Daur songs", "instructions": "Listen to the reference first."})
    assert r.status_code == 201, r.text
    created = r.json()
    sid, researcher = created["study_id"], created["researcher_token"]
    assert created["state"] == "draft" and created["blind"] and created["randomise"]
    h = bearer(researcher)
    for i, cond in ((0, "model A"), (1, "model A"), (2, "model B"), (3, "model B"), (9, "original")):
        body: dict[str, Any] = {"cid": piece_cid(i), "condition": cond, "work_id": 10 + i, "reference": i == 9}
        if i == 3:
            body["restricted_community_id"] = 7
        assert lab.client.post(f"/studies/{sid}/pieces", json=body, headers=h).status_code == 201
    for c in ({"name": "authenticity", "prompt": "How authentic?", "scale": {"min": 1, "max": 5}},
              {"name": "satisfaction", "prompt": "Satisfied?", "scale": {"min": 1, "max": 4, "labels": ["no", "rather not",
                                                                                                   "rather", "yes"]},
               "approval_threshold": 3}):
        assert lab.client.post(f"/studies/{sid}/criteria", json=c, headers=h).status_code == 201
    raters, links = {}, {}
    for account in (None, "0x1111111111111111111111111111111111111111"):
        r = lab.client.post(f"/studies/{sid}/invitations", json={} if account is None else {"account": account}, headers=h)
        assert r.status_code == 201, r.text
        inv = r.json()
        assert inv["kind"] == ("link" if account is None else "account")
        raters[inv["rater_id"]], links[inv["rater_id"]] = inv["token"], inv["link"]
    if open_it:
        assert lab.client.post(f"/studies/{sid}/open", headers=h).json()["state"] == "open"
    return Study(sid, researcher, raters, links)


def rate_everything(lab: Lab, study: Study, rater: str, value: int) -> list[str]:
    heard: list[str] = []
    while True:
        nxt = lab.client.get(study.links[rater])
        assert nxt.status_code == 200, nxt.text
        body = nxt.json()
        if body["piece"] is None:
            assert body["done"] == body["total"] == 4
            return heard
        assert body["piece"]["condition"] is None and body["piece"]["work_id"] is None  # blind
        assert [r["cid"] for r in body["references"]] == [piece_cid(9)] and body["references"][0]["condition"] is None
        heard.append(body["piece"]["cid"])
        values = {c["name"]: min(value, c["scale"]["max"]) for c in body["criteria"]}
        r = lab.client.post(f"/studies/{study.study_id}/ratings", json={"piece": body["piece"]["cid"], "values": values},
                            headers=bearer(study.raters[rater]))
        assert r.status_code == 201, r.text
        assert r.json()["values"] == values and r.json()["rated_at"].endswith(("Z", "+00:00"))


def test_a_study_end_to_end(lab: Lab) -> None:
    study = build(lab)
    link_rater, account = sorted(study.raters, key=lambda r: r.startswith("0x"))
    a = rate_everything(lab, study, link_rater, 4)
    b = rate_everything(lab, study, account, 2)
    assert sorted(a) == sorted(b) == sorted(piece_cid(i) for i in range(4))
    assert rate_everything(lab, study, link_rater, 4) == []  # a reload: nothing left, the same answer

    h = bearer(study.researcher)
    res = lab.client.get(f"/studies/{study.study_id}/results", headers=h)
    assert res.status_code == 200, res.text
    body = res.json()
    analysis = body["analysis"]
    assert (analysis["pieces"], analysis["withheld_pieces"], analysis["raters"], analysis["ratings"]) == (3, 1, 2, 12)
    auth = next(c for c in analysis["criteria"] if c["name"] == "authenticity")
    assert auth["summary"]["n"] == 6 and auth["summary"]["mean"] == 3.0
    assert auth["reliability"]["raters"] == 2 and "same mean" in auth["reliability"]["note"]  # every piece got 4 and 2
    sat = next(c for c in analysis["criteria"] if c["name"] == "satisfaction")
    assert sat["summary"]["approval"] == 0.5
    assert body["withheld_pieces"] == 1 and piece_cid(3) not in {r["cid"] for r in body["pieces"]}
    assert body["cid"] == bytes_cid(json.dumps(analysis, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())

    member = lab.token("member", "steward", "communities", communities=(7,))
    full = lab.client.get(f"/studies/{study.study_id}/results", headers={**h, "X-Heritage-Membership": member}).json()
    assert full["withheld_pieces"] == 0 and (full["analysis"]["pieces"], full["analysis"]["ratings"]) == (4, 16)
    assert piece_cid(3) in {r["cid"] for r in full["pieces"]}

    stored = lab.client.post(f"/studies/{study.study_id}/results", headers=h)
    assert stored.status_code == 201, stored.text
    snap = stored.json()
    assert b"".join(lab.blocks.cat(Cid(snap["cid"]))) == json.dumps(analysis, sort_keys=True, separators=(",", ":"),
                                                                      ensure_ascii=False).encode()
    assert snap["attestation"]["study_id"] == study.study_id and snap["attestation"]["work_ids"] == [10, 11, 12]

    table = lab.client.get(f"/studies/{study.study_id}/tables/satisfaction", params={"criteria": ["satisfaction"]}, headers=h)
    assert table.status_code == 200 and table.json()["rows"][0][3] == "50.00%"
    assert lab.client.get(f"/studies/{study.study_id}/tables/authenticity", headers=h).json()["rows"][-1][0] == "All conditions"

    assert lab.client.post(f"/studies/{study.study_id}/close", headers=h).json()["state"] == "closed"
    late = lab.client.get(study.links[link_rater])
    assert (late.status_code, late.json()["code"]) == (409, "study-not-open")


def test_restricted_piece_is_rated_but_shown_only_to_members(lab: Lab) -> None:
    study = build(lab)
    rater = next(iter(study.raters))
    r = lab.client.post(f"/studies/{study.study_id}/ratings", json={"piece": piece_cid(3), "values": {"authenticity": 5}},
                        headers=bearer(study.raters[rater]))
    assert r.status_code == 201
    h = bearer(study.researcher)
    public = lab.client.get(f"/studies/{study.study_id}/results", headers=h).json()
    assert public["analysis"]["ratings"] == 0 and public["pieces"] and all(p["n"] == 0 for p in public["pieces"])
    wrong = lab.token("member", "steward", "communities", communities=(8,))
    assert lab.client.get(f"/studies/{study.study_id}/results", headers={**h, "X-Heritage-Membership": wrong}).json() == public
    member = lab.token("member", "steward", "communities", communities=(7,))
    full = lab.client.get(f"/studies/{study.study_id}/results", headers={**h, "X-Heritage-Membership": member}).json()
    assert full["analysis"]["ratings"] == 1 and [p["mean"] for p in full["pieces"] if p["cid"] == piece_cid(3)] == [5.0, None]


Refusal = tuple[str, str, str, dict[str, Any] | None, dict[str, str], int, str]
"""(what, method, path, body, headers, status, problem code)"""


def _refusals(lab: Lab) -> list[Refusal]:
    study, draft = build(lab), build(lab, open_it=False)
    sid = study.study_id
    rater = sorted(study.raters)[0]
    r, h = bearer(study.raters[rater]), bearer(study.researcher)
    lab.client.post(f"/studies/{sid}/ratings", json={"piece": piece_cid(0), "values": {"authenticity": 3}}, headers=r)
    expired = lab.token("rater", rater, sid, expires=datetime(2020, 1, 1, tzinfo=UTC))
    good = {"piece": piece_cid(1), "values": {"authenticity": 3}}
    rating = f"/studies/{sid}/ratings"
    return [
        # (what, method, path, body, headers, status, code)
        ("good rating", "POST", rating, good, r, 201, ""),
        ("unknown study", "POST", "/studies/s-nope/ratings", good, r, 404, "unknown-study"),
        ("draft study", "POST", f"/studies/{draft.study_id}/ratings", good, bearer(next(iter(draft.raters.values()))), 409,
         "study-not-open"),
        ("no token", "POST", rating, good, {}, 401, "token-missing"),
        ("bad token", "POST", rating, good, bearer("abc.def"), 401, "token-invalid"),
        ("expired token", "POST", rating, good, bearer(expired), 401, "token-expired"),
        ("rater of another study", "POST", rating, good, bearer(next(iter(draft.raters.values()))), 403, "not-a-rater"),
        ("researcher's token", "POST", rating, good, h, 403, "not-permitted"),
        ("off the scale", "POST", rating, {"piece": piece_cid(1), "values": {"authenticity": 6}}, r, 400, "off-scale"),
        ("a fraction", "POST", rating, {"piece": piece_cid(1), "values": {"authenticity": 3.5}}, r, 400, "off-scale"),
        ("second rating", "POST", rating, {"piece": piece_cid(0), "values": {"authenticity": 4}}, r, 409, "already-rated"),
        ("unknown piece", "POST", rating, {"piece": piece_cid(7), "values": {"authenticity": 4}}, r, 404, "unknown-piece"),
        ("reference piece", "POST", rating, {"piece": piece_cid(9), "values": {"authenticity": 4}}, r, 404, "unknown-piece"),
        ("unknown criterion", "POST", rating, {"piece": piece_cid(1), "values": {"valence": 4}}, r, 404, "unknown-criterion"),
        ("malformed body", "POST", rating, {"values": {"authenticity": 4}}, r, 422, "invalid-request"),
        ("a rater reading results", "GET", f"/studies/{sid}/results", None, r, 403, "not-permitted"),
        ("another study's researcher", "GET", f"/studies/{sid}/results", None, bearer(draft.researcher), 403, "not-permitted"),
        ("a piece added once open", "POST", f"/studies/{sid}/pieces", {"cid": piece_cid(5), "condition": "x"}, h, 409,
         "wrong-study-state"),
        ("a piece twice", "POST", f"/studies/{draft.study_id}/pieces", {"cid": piece_cid(0), "condition": "x"},
         bearer(draft.researcher), 409, "already-in-study"),
        ("a bad scale", "POST", f"/studies/{draft.study_id}/criteria", {"name": "q", "scale": {"min": 4, "max": 1}},
         bearer(draft.researcher), 400, "invalid-input"),
        ("opening twice", "POST", f"/studies/{sid}/open", None, h, 409, "wrong-study-state"),
        ("member token as researcher", "GET", f"/studies/{sid}", None,
         bearer(lab.token("member", "x", "communities", communities=(7,))), 403, "not-permitted"),
    ]


CASES = ["good rating", "unknown study", "draft study", "no token", "bad token", "expired token", "rater of another study",
         "researcher's token", "off the scale", "a fraction", "second rating", "unknown piece", "reference piece",
         "unknown criterion", "malformed body", "a rater reading results", "another study's researcher",
         "a piece added once open", "a piece twice", "a bad scale", "opening twice", "member token as researcher"]


@pytest.fixture(scope="module")
def refusals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, dict[str, Refusal]]]:
    """One lab for every case: each case checks that it changed nothing (or, the good one, that it worked)."""
    with _lab(tmp_path_factory.mktemp("refusals")) as it:
        yield it, {c[0]: c for c in _refusals(it)}


@pytest.mark.parametrize("case", CASES)
def test_refusals_answer_their_code_and_store_nothing(refusals: tuple[Lab, dict[str, Refusal]], case: str) -> None:
    lab, cases = refusals
    assert sorted(cases) == sorted(CASES)
    _, method, path, body, headers, status, code = cases[case]
    before = lab.dump()
    r = lab.client.request(method, path, json=body, headers=headers)
    assert r.status_code == status, r.text
    if code:
        problem = r.json()
        assert r.headers["content-type"].startswith("application/problem+json")
        assert problem["code"] == code and problem["status"] == status and problem["detail"]
        assert lab.dump() == before, f"{case}: a refused request changed the study database"


def test_each_rater_hears_their_own_fixed_order(lab: Lab) -> None:
    r = lab.client.post("/studies", json={"title": "Order", "blind": True})
    sid, h = r.json()["study_id"], bearer(r.json()["researcher_token"])
    pieces = [Piece(cid=piece_cid(i), condition="m") for i in range(10)]
    for p in pieces:
        lab.client.post(f"/studies/{sid}/pieces", json={"cid": p.cid, "condition": p.condition}, headers=h)
    lab.client.post(f"/studies/{sid}/criteria", json={"name": "q", "scale": {"min": 1, "max": 3}}, headers=h)
    invitations = [lab.client.post(f"/studies/{sid}/invitations", json={}, headers=h).json() for _ in range(3)]
    lab.client.post(f"/studies/{sid}/open", headers=h)
    for inv in invitations:
        order = [p.cid for p in rater_order(sid, inv["rater_id"], pieces)]
        heard = []
        for _ in range(3):
            nxt = lab.client.get(inv["link"]).json()
            assert lab.client.get(inv["link"]).json() == nxt  # a reload: the same piece
            heard.append(nxt["piece"]["cid"])
            lab.client.post(f"/studies/{sid}/ratings", json={"piece": heard[-1], "values": {"q": 2}}, headers=bearer(inv["token"]))
        assert heard == order[:3]


def test_ontology_review_through_the_api(lab: Lab) -> None:
    curator = bearer(lab.token("curator", "curator", "ontology"))
    for w, tags, cluster in ((1, ["Han"], "k0"), (2, ["Han"], "k1"), (3, ["Daur"], "k1"), (4, ["Daur"], "k0")):
        assert lab.client.post("/ontology/labels", json={"work_id": w, "tags": tags, "cluster": cluster},
                               headers=curator).status_code == 201
    reviewer = lab.client.post("/ontology/reviewers", json={"reviewer": "Dr. Ana"}, headers=curator).json()["token"]
    rh = bearer(reviewer)
    early = lab.client.post("/ontology/reviews", json={"work_id": 1, "target": "tag", "action": "accept", "old": "Han"},
                            headers=rh)
    assert (early.status_code, early.json()["code"]) == (409, "wrong-round-state")
    assert lab.client.post("/ontology/rounds", headers=rh).json()["code"] == "not-permitted"
    assert lab.client.post("/ontology/rounds", headers=curator).json()["round"] == 1
    for w, old, new in ((1, "k0", "k1"), (4, "k0", "k1")):
        r = lab.client.post("/ontology/reviews", json={"work_id": w, "target": "cluster", "action": "correct", "old": old,
                                                       "new": new}, headers=rh)
        assert r.status_code == 201 and r.json()["reviewer"] == "Dr. Ana"
    stale = lab.client.post("/ontology/reviews", json={"work_id": 1, "target": "cluster", "action": "accept", "old": "k0"},
                            headers=rh)
    assert (stale.status_code, stale.json()["code"]) == (409, "review-conflict")
    assert lab.client.post("/ontology/rounds/close", headers=curator).status_code == 200
    changes = lab.client.get("/ontology/changes", params={"round": 1}).json()
    assert [(c["work_id"], c["old"], c["new"]) for c in changes] == [(1, "k0", "k1"), (4, "k0", "k1")]
    now = {x["work_id"]: x for x in lab.client.get("/ontology/labels").json()}
    assert now[1]["cluster"] == "k1" and lab.client.get("/ontology/labels", params={"round": 0}).json()[0]["cluster"] == "k0"
    emb = [[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]]
    m = lab.client.post("/ontology/metrics", json={"work_ids": [1, 2, 3, 4], "embeddings": emb})
    assert m.status_code == 200, m.text
    assert [x["round"] for x in m.json()] == [0, 1] and all(x["items"] == 4 for x in m.json())
    assert lab.client.post("/ontology/metrics", json={"work_ids": [1, 2], "embeddings": [[1.0], [1.0, 2.0]]}).status_code == 400


def test_the_service_includes_the_studies_routes(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))  # routes only: the lifespan (and its chain) is not started
    paths = set(app.openapi()["paths"])
    assert {"/studies", "/studies/{study_id}/ratings", "/studies/{study_id}/next", "/ontology/reviews"} <= paths


# ---------------------------------------------------------------------- attestation on chain
# These need the chain: the anvil-backed `api` fixture of conftest.py (demo mode on), one app for
# the module. build() rates works 10-12 (13 is restricted), so the fixture's chain gets 13 works.

def _chain_lab(api: Any) -> Lab:
    from core.cid import from_text
    from core.types import Ppm

    chain = api.state.chain
    reg = chain.registry.functions
    missing = 13 - int(reg.workCount().call())
    if missing > 0:
        from chain import gateway as gw
        from chain.types import HeritageParams, Protocol, everything_to

        batch = [HeritageParams(api.community, from_text(bytes_cid(f"attested song {i}".encode())), b"",
                                Protocol(floor_ppm=Ppm(0)), everything_to(api.keys[2].address)) for i in range(missing)]
        gw.register_heritage_batch(chain, batch, sender=api.keys[1].address)
    return Lab(api.client, api.state.settings, api.state.store)


def _closed(lab: Lab) -> Study:
    study = build(lab)
    for rater, value in zip(sorted(study.raters), (4, 2), strict=True):
        rate_everything(lab, study, rater, value)
    assert lab.client.post(f"/studies/{study.study_id}/close", headers=bearer(study.researcher)).status_code == 200
    return study


def _sent(api: Any) -> tuple[int, int]:
    """(attestations on chain, block number): a refusal leaves both unchanged."""
    chain = api.state.chain
    return int(chain.attestations.functions.attestationCount().call()), int(chain.w3.eth.block_number)


def test_a_closed_study_is_attested_on_chain_and_verified(api: Any) -> None:
    lab = _chain_lab(api)
    study = build(lab)
    h, path = bearer(study.researcher), f"/studies/{study.study_id}/attestation"
    for rater, value in zip(sorted(study.raters), (4, 2), strict=True):
        rate_everything(lab, study, rater, value)
    before = _sent(api)
    early = lab.client.post(path, headers=h)
    assert (early.status_code, early.json()["code"]) == (409, "wrong-study-state") and "close it first" in early.json()["detail"]
    assert _sent(api) == before
    lab.client.post(f"/studies/{study.study_id}/close", headers=h)
    missing = lab.client.get(path, headers=h)
    assert (missing.status_code, missing.json()["code"]) == (404, "not-attested")

    r = lab.client.post(path, headers=h)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["state"] == "anchored" and out["works"] == [10, 11, 12] and out["attester"] == api.state.relayer
    assert out["warning"] and "development key" in out["warning"]
    assert _sent(api)[0] == before[0] + 1 == out["attestation_id"]
    summary = b"".join(lab.blocks.cat(Cid(out["summary_cid"])))
    stored = lab.client.post(f"/studies/{study.study_id}/results", headers=h).json()
    assert stored["cid"] == out["results_cid"] and json.loads(summary) == stored["attestation"]

    again = lab.client.post(path, headers=h)
    assert (again.status_code, again.json()["code"], again.json()["attestation_id"]) == (409, "already-attested",
                                                                                          out["attestation_id"])
    v = lab.client.get(path, headers=h)
    assert v.status_code == 200, v.text
    verdict = v.json()
    assert verdict["verified"] and verdict["results_cid"] == out["results_cid"]
    (only,) = verdict["attestations"]
    assert only["ok"] and only["attestation_id"] == out["attestation_id"]
    assert [c["check"] for c in only["checks"]] == ["results", "summary", "summary-of-results", "works", "summary-of-study"]
    rater = bearer(next(iter(study.raters.values())))
    assert lab.client.get(path, headers=rater).json()["code"] == "not-permitted"


def test_an_attester_signs_the_draft_and_the_service_relays_it(api: Any) -> None:
    from eth_account import Account

    lab = _chain_lab(api)
    study = _closed(lab)
    h, path = bearer(study.researcher), f"/studies/{study.study_id}/attestation"
    w3 = api.state.chain.w3
    wallet, stranger = Account.create(), Account.create()
    for who in (wallet, stranger):
        w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": who.address,
                                                                     "value": 10**18}))
    before = _sent(api)
    r = lab.client.post(path, json={"attester": wallet.address}, headers=h)
    assert r.status_code == 200, r.text
    draft = r.json()
    assert draft["state"] == "draft" and draft["attestation_id"] is None and draft["warning"] is None
    tx = draft["transaction"]
    assert tx["to"] == api.state.chain.attestations.address and tx["chainId"] == 31337
    assert _sent(api) == before

    def signed(key: Any, **change: Any) -> str:
        return str(key.sign_transaction({**tx, **change}).raw_transaction.to_0x_hex())

    other = lab.client.post("/studies", json={"title": "Another"}).json()
    refusals = [
        ({"signed": signed(wallet, data=tx["data"][:-2] + "00")}, 400, "wrong-transaction"),
        ({"signed": signed(wallet, to=api.state.chain.registry.address)}, 400, "wrong-transaction"),
        ({"signed": signed(wallet, chainId=1)}, 400, "wrong-chain"),
        ({"signed": "0x1234"}, 400, "transaction-malformed"),
        ({"signed": signed(stranger, nonce=w3.eth.get_transaction_count(stranger.address)), "attester": wallet.address}, 401,
         "signature-invalid"),
    ]
    for body, status, code in refusals:
        bad = lab.client.post(path, json=body, headers=h)
        assert (bad.status_code, bad.json()["code"]) == (status, code), bad.text
        assert _sent(api) == before
    assert lab.client.post(f"/studies/{other['study_id']}/attestation", headers=bearer(other["researcher_token"])
                           ).json()["code"] == "wrong-study-state"

    r = lab.client.post(path, json={"signed": signed(wallet)}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["attester"] == wallet.address and r.json()["warning"] is None
    assert _sent(api)[0] == before[0] + 1
    again = lab.client.post(path, json={"signed": signed(wallet)}, headers=h)
    assert (again.status_code, again.json()["code"]) == (409, "already-attested")
    verdict = lab.client.get(path, headers=h).json()
    assert verdict["verified"] and [a["attester"] for a in verdict["attestations"]] == [wallet.address]


def test_without_demo_mode_the_service_only_drafts(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    lab = _chain_lab(api)
    study = _closed(lab)
    h, path = bearer(study.researcher), f"/studies/{study.study_id}/attestation"
    monkeypatch.setattr(api.state.settings, "api_demo", False)
    before = _sent(api)
    r = lab.client.post(path, headers=h)
    assert (r.status_code, r.json()["code"]) == (400, "attester-missing")
    relayer = lab.client.post(path, json={"attester": api.state.relayer}, headers=h)  # unlocked, but not signed for here
    assert relayer.status_code == 200 and relayer.json()["state"] == "draft" and relayer.json()["transaction"]["data"]
    assert _sent(api) == before


def test_a_study_of_no_registered_work_has_nothing_to_attest(api: Any) -> None:
    lab = _chain_lab(api)
    r = lab.client.post("/studies", json={"title": "Unregistered songs"})
    sid, h = r.json()["study_id"], bearer(r.json()["researcher_token"])
    lab.client.post(f"/studies/{sid}/pieces", json={"cid": piece_cid(40), "condition": "m"}, headers=h)
    lab.client.post(f"/studies/{sid}/criteria", json={"name": "q", "scale": {"min": 1, "max": 3}}, headers=h)
    lab.client.post(f"/studies/{sid}/open", headers=h)
    lab.client.post(f"/studies/{sid}/close", headers=h)
    before = _sent(api)
    r = lab.client.post(f"/studies/{sid}/attestation", headers=h)
    assert (r.status_code, r.json()["code"]) == (409, "nothing-to-attest") and "work_id" in r.json()["detail"]
    assert lab.client.get(f"/studies/{sid}/attestation", headers=h).json()["code"] == "not-attested"
    assert lab.client.post(f"/studies/{sid}/attestation", headers={}).json()["code"] == "token-missing"
    assert _sent(api) == before
