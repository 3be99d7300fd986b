"""Signed writes through the API on a real anvil, and every forbidden one refused with its status
and code while nothing changes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from chain.signatures import digest, sign, typed_data
from tests.python.api.conftest import Api, make_settings


def _register(api: Api, data: bytes, **extra: Any) -> int:
    steward = api.keys[1]
    draft = api.heritage_draft(api.upload(data), steward.address, **extra)
    sig = "0x" + sign(draft["typed_data"], steward.key).hex()
    r = api.client.post("/works", json={"typed_data": draft["typed_data"], "signer": steward.address, "signature": sig})
    assert r.status_code == 201, r.text
    return int(r.json()["work_id"])


def test_python_digest_equals_the_registry_view(api: Api) -> None:
    draft = api.heritage_draft(api.upload(os.urandom(300)), api.keys[1].address)
    m = draft["typed_data"]["message"]
    p = m["protocol"]
    params = (m["communityId"], bytes.fromhex(m["contentCid"][2:]), bytes.fromhex(m["manifestCid"][2:]), tuple(p.values()),
              [(r["account"], r["ppm"]) for r in m["split"]], bytes.fromhex(m["salt"][2:]))
    on_chain = api.state.chain.registry.functions.registerHeritageDigest(params, m["nonce"], m["deadline"]).call()
    assert bytes(on_chain) == digest(draft["typed_data"]) == bytes.fromhex(draft["digest"][2:])


def test_register_heritage_by_steward_signature(api: Api) -> None:
    audio = b"RIFF" + os.urandom(2000)
    work = _register(api, audio, tradition="Han Chinese folk song", region="Shaanxi")
    got = api.client.get(f"/works/{work}").json()
    assert got["kind"] == "heritage" and got["community_id"] == api.community and got["registrant"] == api.keys[1].address
    assert got["manifest"]["region"] == "Shaanxi"
    assert api.client.get(f"/content/{got['content_cid']}").content == audio
    audit = api.client.get(f"/works/{work}/audit").json()
    assert audit["ok"], audit
    page = api.client.get("/works", params={"community": api.community, "kind": "heritage", "limit": 1}).json()
    assert page["total"] >= 1 and len(page["items"]) == 1


def test_derivative_consent_payment_and_withdrawal(api: Api) -> None:
    parent = _register(api, os.urandom(700), protocol={"consent_required": True})
    creator, steward, treasury = api.keys[4], api.keys[1], api.keys[2]
    draft = api.client.post("/derivatives/drafts", json={
        "creator": creator.address, "content_cid": api.upload(os.urandom(900)), "title": "A new arrangement",
        "parents": [{"work_id": parent, "ppm": 300_000}]}).json()
    r = api.client.post("/transactions", json={"raw": api.sign_tx(creator, draft["transaction"])})
    assert r.status_code == 201, r.text
    child = r.json()["work_id"]
    assert r.json()["status"] == "pending"
    consent = api.client.post(f"/derivatives/{child}/approvals/drafts",
                              json={"community_id": api.community, "steward": steward.address}).json()
    signature = "0x" + sign(consent["typed_data"], steward.key).hex()
    r = api.client.post(f"/derivatives/{child}/approvals", json={
        "typed_data": consent["typed_data"], "signer": steward.address, "signature": signature})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "active"
    lineage = api.client.get(f"/works/{child}/lineage").json()
    assert lineage["edges"] == [{"child": child, "parent": parent, "ppm": 300_000}]
    before = int(api.client.get(f"/balances/{treasury.address}").json()["amount"])
    pay = api.client.post("/payments/drafts", json={"payer": api.keys[5].address, "work_id": child, "amount_wei": 10**15}).json()
    assert api.client.post("/transactions", json={"raw": api.sign_tx(api.keys[5], pay["transaction"])}).status_code == 201
    after = int(api.client.get(f"/balances/{treasury.address}").json()["amount"])
    assert after - before == 300_000 * 10**15 // 1_000_000  # the parent's share reached its treasury
    assert [p["amount"] for p in api.client.get(f"/works/{child}/payments").json()] == [str(10**15)]
    out = api.client.post("/withdrawals/drafts", json={"account": treasury.address}).json()
    assert api.client.post("/transactions", json={"raw": api.sign_tx(treasury, out["transaction"])}).status_code == 201
    assert api.client.get(f"/balances/{treasury.address}").json()["amount"] == "0"


def _signed_doc(api: Api, signer_index: int, claimed_index: int, *, deadline_offset: int = 600,
                nonce_offset: int = 0) -> dict[str, Any]:
    """A heritage registration signed by keys[signer_index] and claimed to be keys[claimed_index]'s."""
    draft = api.heritage_draft(api.upload(os.urandom(400)), api.keys[1].address)
    doc = draft["typed_data"]
    claimed = api.keys[claimed_index].address
    nonce = int(api.state.chain.registry.functions.nonces(claimed).call()) + nonce_offset
    doc = typed_data(api.state.domain, "RegisterHeritageWork",
                     {**doc["message"], "nonce": nonce, "deadline": int(time.time()) + deadline_offset})
    return {"typed_data": doc, "signer": claimed, "signature": "0x" + sign(doc, api.keys[signer_index].key).hex()}


@pytest.mark.parametrize(("case", "status", "code"), [
    ("wrong signer", 401, "signature-invalid"),
    ("expired", 401, "signature-expired"),
    ("nonce ahead", 401, "signature-invalid"),
    ("non-steward", 403, "not-a-steward"),
    ("edited after signing", 401, "signature-invalid"),
    ("other domain", 400, "wrong-domain"),
    ("malformed signature", 400, "signature-malformed"),
])
def test_forbidden_registrations_change_nothing(api: Api, counted: Callable[[], tuple[int, int]],
                                               case: str, status: int, code: str) -> None:
    body = {
        "wrong signer": lambda: _signed_doc(api, 3, 1),
        "expired": lambda: _signed_doc(api, 1, 1, deadline_offset=-3600),
        "nonce ahead": lambda: _signed_doc(api, 1, 1, nonce_offset=1),
        "non-steward": lambda: _signed_doc(api, 3, 3),
        "edited after signing": lambda: _edited(_signed_doc(api, 1, 1)),
        "other domain": lambda: _other_domain(api, _signed_doc(api, 1, 1)),
        "malformed signature": lambda: {**_signed_doc(api, 1, 1), "signature": "0x" + "00" * 65},
    }[case]()
    before = counted()
    r = api.client.post("/works", json=body)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert counted() == before


def _edited(body: dict[str, Any]) -> dict[str, Any]:
    body["typed_data"]["message"]["protocol"]["floorPpm"] = 0
    return body


def _other_domain(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    body["typed_data"]["domain"]["chainId"] = 1
    return body


def test_replayed_signature_is_refused_and_nothing_happens_twice(api: Api, counted: Callable[[], tuple[int, int]]) -> None:
    body = _signed_doc(api, 1, 1)
    assert api.client.post("/works", json=body).status_code == 201
    before = counted()
    r = api.client.post("/works", json=body)
    assert (r.status_code, r.json()["code"]) == (409, "signature-replayed")
    assert counted() == before


def test_draft_for_a_non_steward_and_known_content(api: Api) -> None:
    cid = api.upload(os.urandom(500))
    r = api.client.post("/works/drafts", json={"community_id": api.community, "steward": api.keys[3].address, "content_cid": cid,
                                               "title": "x"})
    assert (r.status_code, r.json()["code"]) == (403, "not-a-steward")
    work = _register(api, b"known content" * 10)
    r = api.client.post("/works/drafts", json={"community_id": api.community, "steward": api.keys[1].address,
                                               "content_cid": api.upload(b"known content" * 10), "title": "again"})
    assert (r.status_code, r.json()["code"], r.json()["work_id"]) == (409, "already-registered", work)


@pytest.mark.parametrize(("files", "status", "code"), [
    ({"file": ("a.exe", b"MZ" * 100, "application/x-msdownload")}, 415, "unsupported-media-type"),
    ({"file": ("big.wav", b"\0" * 5000, "audio/wav")}, 413, "upload-too-large"),
    ({"file": ("empty.wav", b"", "audio/wav")}, 400, "empty-upload"),
    ({"file": ("ok.mid", b"MThd" + b"\0" * 100, "audio/midi")}, 201, None),
])
def test_upload_limits(tmp_path: Path, files: dict[str, Any], status: int, code: str | None) -> None:
    with TestClient(create_app(make_settings(tmp_path, api_max_upload_bytes=4096))) as client:
        blocks = tmp_path / "blocks"
        before = sorted(blocks.rglob("*")) if blocks.exists() else []
        r = client.post("/content", files=files)
        assert r.status_code == status, r.text
        if code is not None:
            assert r.json()["code"] == code
            assert (sorted(blocks.rglob("*")) if blocks.exists() else []) == before


def test_rate_limit_on_writes(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, api_writes_per_minute=3))) as client:
        codes = [client.post("/content", files={"file": ("a.wav", os.urandom(10), "audio/wav")}).status_code for _ in range(4)]
        assert codes == [201, 201, 201, 429]
        assert client.get("/health").status_code == 200  # reads are not limited


def test_refused_transactions(api: Api, counted: Callable[[], tuple[int, int]]) -> None:
    restricted = api.state.chain.registry.functions.registerRestrictedWork(api.community, b"\x11" * 32, b"", 0, 1, [])
    api.state.chain.send(restricted, api.keys[1].address)
    api.state.catalogue(fresh=True)
    work = int(api.state.chain.registry.functions.workCount().call())
    before = counted()
    r = api.client.post("/payments/drafts", json={"payer": api.keys[5].address, "work_id": work, "amount_wei": 1000})
    assert (r.status_code, r.json()["code"]) == (409, "work-not-payable")
    r = api.client.post("/payments/drafts", json={"payer": api.keys[5].address, "work_id": 10_000, "amount_wei": 1000})
    assert (r.status_code, r.json()["code"]) == (404, "unknown-work")
    router = api.state.chain.router.functions
    r = api.send(api.keys[5], router.bindRegistry(api.keys[5].address))
    assert (r.status_code, r.json()["code"]) == (403, "not-relayable")
    r = api.send(api.keys[5], router.pay(work, b"\0" * 32, 0), value=1000)  # a signed payment to the restricted work
    assert (r.status_code, r.json()["code"]) == (409, "work-not-payable")
    assert api.client.post("/transactions", json={"raw": "0x1234"}).json()["code"] == "transaction-malformed"
    assert counted() == before


def test_demo_signing_says_so_and_is_off_by_default(api: Api, tmp_path: Path) -> None:
    draft = api.heritage_draft(api.upload(os.urandom(321)), api.keys[1].address)
    r = api.client.post("/demo/sign", json={"account": 1, "typed_data": draft["typed_data"]}).json()
    assert "development key" in r["warning"]
    relayed = api.client.post("/works", json={"typed_data": draft["typed_data"], "signer": r["address"], "signature": r["signature"]})
    assert relayed.status_code == 201
    settings = make_settings(tmp_path).model_copy(update={"api_demo": False})
    with TestClient(create_app(settings)) as client:
        off = client.post("/demo/sign", json={"account": 1, "typed_data": draft["typed_data"]})
        assert (off.status_code, off.json()["code"]) == (403, "demo-off")


def test_the_incrementally_folded_catalogue_equals_a_full_fold(api: Api) -> None:
    """After every write above, the service folded only new events; a fold from scratch agrees."""
    from chain.catalogue import load

    served = api.state.catalogue(fresh=True)
    full = load(api.state.index)
    assert served.works == full.works and served.communities == full.communities and served.last_block == full.last_block
    assert len(full.works) > 5
