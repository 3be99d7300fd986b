"""The API under abuse and faults: each former 500 is now its named 4xx, bodies are bounded,
the node's refusals are named, and a node killed under a burst of writes loses no 201."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from eth_account import Account
from fastapi.testclient import TestClient

from api.app import create_app
from chain.signatures import sign
from tests.python.api.conftest import Api, make_settings


def _signed_registration(api: Api, data: bytes) -> dict[str, Any]:
    steward = api.keys[1]
    draft = api.heritage_draft(api.upload(data), steward.address)
    sig = "0x" + sign(draft["typed_data"], steward.key).hex()
    return {"typed_data": draft["typed_data"], "signer": steward.address, "signature": sig}


def test_a_64_mib_typed_data_body_is_refused_at_once_and_writes_go_on(api: Api) -> None:
    body = b'{"typed_data": {"message": "' + b"a" * (64 * 2**20) + b'"}, "signer": "0x", "signature": "0x"}'
    started = time.monotonic()
    r = api.client.post("/works", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "body-too-large"
    assert time.monotonic() - started < 1.0
    r = api.client.post("/works", json=_signed_registration(api, os.urandom(500)))  # another write is unaffected
    assert r.status_code == 201, r.text


def test_a_chunked_body_past_the_limit_is_refused(api: Api) -> None:
    def chunks() -> Any:
        for _ in range(4):
            yield b"x" * 2**20

    r = api.client.post("/works", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_oversized_typed_data_is_refused_before_hashing(api: Api) -> None:
    signed = _signed_registration(api, os.urandom(400))
    signed["typed_data"]["message"]["split"] = [{"account": "0x" + "11" * 20, "ppm": 1}] * 5_000
    r = api.client.post("/works", json=signed)
    assert r.status_code == 400 and r.json()["code"] == "typed-data-too-large"


def test_the_same_signed_transaction_twice_is_a_named_replay(api: Api) -> None:
    reg = api.state.chain.registry.functions
    w3 = api.state.chain.w3
    key = api.keys[3]
    tx = reg.registerCommunity("Twice", [key.address], 1, key.address).build_transaction(
        {"from": key.address, "nonce": w3.eth.get_transaction_count(key.address, "pending"), "chainId": 31337, "gas": 500_000})
    raw = api.sign_tx(key, tx)
    assert api.client.post("/transactions", json={"raw": raw}).status_code == 201
    r = api.client.post("/transactions", json={"raw": raw})
    assert r.status_code == 409 and r.json()["code"] in ("transaction-replayed", "nonce-too-low"), r.text


def test_legacy_transactions_without_a_chain_id_are_refused(api: Api) -> None:
    key = api.keys[3]
    reg = api.state.chain.registry.functions
    data = reg.registerCommunity("Legacy", [key.address], 1, key.address)._encode_transaction_data()
    tx = {"nonce": 0, "gasPrice": 2 * 10**9, "gas": 500_000, "to": api.state.chain.registry.address, "value": 0, "data": data}
    raw = Account.sign_transaction(tx, key.key).raw_transaction.to_0x_hex()
    r = api.client.post("/transactions", json={"raw": raw})
    assert r.status_code == 400 and r.json()["code"] == "legacy-transaction", r.text


def test_a_sender_without_funds_is_named(api: Api) -> None:
    poor = Account.create()
    reg = api.state.chain.registry.functions
    tx = reg.registerCommunity("Poor", [poor.address], 1, poor.address).build_transaction(
        {"from": poor.address, "nonce": 0, "chainId": 31337, "gas": 500_000, "maxFeePerGas": 10**10,
         "maxPriorityFeePerGas": 10**9})
    r = api.client.post("/transactions", json={"raw": poor.sign_transaction(tx).raw_transaction.to_0x_hex()})
    assert r.status_code == 409 and r.json()["code"] == "insufficient-funds", r.text


def test_signature_v_0_or_1_is_normalised(api: Api) -> None:
    signed = _signed_registration(api, os.urandom(600))
    sig = bytes.fromhex(signed["signature"][2:])
    signed["signature"] = "0x" + (sig[:64] + bytes([sig[64] - 27])).hex()
    r = api.client.post("/works", json=signed)
    assert r.status_code == 201, r.text


def test_numbers_out_of_their_abi_range_are_422_with_the_field(api: Api) -> None:
    r = api.client.post("/derivatives/-1/approvals/drafts", json={"steward": api.keys[1].address, "community_id": 1})
    assert r.status_code == 422 and "work_id" in r.json()["detail"], r.text
    r = api.client.post("/disputes/-1/resolutions/drafts", json={"steward": api.keys[1].address, "upheld": True})
    assert r.status_code == 422 and "work_id" in r.json()["detail"], r.text  # the v1 route, gone (410) for valid ids
    r = api.client.post("/communities/drafts", json={"sender": api.keys[0].address, "name": "Big", "threshold": 70_000,
                                                     "stewards": [api.keys[1].address], "treasury": api.keys[2].address})
    assert r.status_code == 422 and "threshold" in r.json()["detail"], r.text
    r = api.client.post("/payments/drafts", json={"payer": api.keys[0].address, "work_id": 1, "amount_wei": 2**256})
    assert r.status_code == 422 and "amount_wei" in r.json()["detail"], r.text


def test_simulation_files_of_an_audit_job_are_404(api: Api) -> None:
    job = api.client.post("/audits").json()["job_id"]
    for path in (f"/simulations/{job}/files", f"/simulations/{job}/tables/x.csv"):
        r = api.client.get(path)
        assert r.status_code == 404 and r.json()["code"] == "not-a-simulation", r.text


def test_the_job_queue_is_bounded(api: Api) -> None:
    jobs = api.state.jobs
    saved = jobs.max_queued
    jobs.max_queued = 0
    try:
        r = api.client.post("/audits")
        assert r.status_code == 429 and r.json()["code"] == "job-queue-full" and int(r.headers["Retry-After"]) > 0
    finally:
        jobs.max_queued = saved


def test_demo_sign_refuses_bad_documents_by_name(api: Api) -> None:
    r = api.client.post("/demo/sign", json={"account": 1, "typed_data": {"types": {}, "domain": {}, "primaryType": "X",
                                                                         "message": {}}})
    assert r.status_code == 400 and r.json()["code"] == "typed-data-malformed", r.text
    r = api.client.post("/demo/sign", json={"account": 1, "typed_data": {"nonsense": 1}})
    assert r.status_code == 400, r.text
    r = api.client.post("/demo/sign", json={"account": 1, "transaction": {"to": "0x" + "00" * 20}})
    assert r.status_code == 400 and r.json()["code"] == "transaction-malformed", r.text


def test_405_says_what_is_allowed(api: Api) -> None:
    r = api.client.delete("/works")
    assert r.status_code == 405 and "GET" in r.headers["Allow"]


def test_kill_9_under_a_burst_of_writes_loses_no_201(tmp_path: Path) -> None:
    from chain.sender import dev_account

    with TestClient(create_app(make_settings(tmp_path, anvil_state_interval_s=5))) as client:  # a dump before the kill
        api = Api(client, [dev_account(i) for i in range(6)], 0)
        reg = api.state.chain.registry.functions
        assert api.send(api.keys[0], reg.registerCommunity("Singers", [api.keys[1].address], 1, api.keys[2].address)).status_code == 201
        api.community = int(reg.communityCount().call())
        cid = api.upload(b"kept while the node is down")
        started = time.monotonic()
        acked: dict[int, str] = {}
        refused: list[int] = []
        stop = threading.Event()

        def burst() -> None:
            while not stop.is_set():
                try:
                    data = os.urandom(300)
                    signed = _signed_registration(api, data)
                except AssertionError:
                    refused.append(0)
                    continue
                r = client.post("/works", json=signed)
                if r.status_code == 201:
                    acked[int(r.json()["work_id"])] = signed["typed_data"]["message"]["contentCid"]
                else:
                    assert r.status_code == 503 and "Retry-After" in r.headers, r.text
                    refused.append(r.status_code)

        writer = threading.Thread(target=burst)
        writer.start()
        while len(acked) < 5 or time.monotonic() - started < 6.5:  # past one of anvil's 5-s state dumps
            time.sleep(0.05)
        anvil = api.state.chain.anvil
        assert anvil is not None and anvil.pid is not None
        pid = anvil.pid
        os.kill(pid, signal.SIGKILL)
        assert client.get(f"/content/{cid}").status_code == 200  # needs no chain
        deadline = time.monotonic() + 60
        while api.state.supervisor.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        stop.set()
        writer.join(timeout=60)
        assert api.state.supervisor.restarts >= 1
        assert not Path(f"/proc/{pid}").exists(), "the killed node is reaped, not left a zombie"
        chain = api.state.chain
        assert chain.replayed is not None and not chain.replayed.lost
        for work_id, content in acked.items():  # every 201 is on chain with its id
            assert int(chain.registry.functions.workByContent(bytes.fromhex(content[2:])).call()) == work_id
        works = client.get("/works").json()
        assert works["total"] == int(chain.registry.functions.workCount().call())  # the index equals the chain
        for work_id in acked:
            assert client.get(f"/works/{work_id}").status_code == 200


def test_an_amount_beyond_the_payers_funds_is_named_not_the_nodes_raw_text(api: Api) -> None:
    steward = api.keys[1]
    work = api.client.post("/works", json=_signed_registration(api, os.urandom(800))).json()["work_id"]
    r = api.client.post("/payments/drafts", json={"payer": steward.address, "work_id": work, "amount_wei": 10**40})
    assert r.status_code == 409 and r.json()["code"] == "insufficient-funds", r.text
