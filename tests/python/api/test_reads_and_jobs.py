"""Reads, the error format, OpenAPI, and jobs that survive a restart of the service."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.jobs import JobManager
from tests.python.api.conftest import Api, make_settings


def test_health_and_communities(api: Api) -> None:
    h = api.client.get("/health").json()
    assert h["chain_id"] == 31337 and h["demo"] is True and h["index_block"] <= h["block"]
    page = api.client.get("/communities").json()
    assert page["total"] >= 1
    c = api.client.get(f"/communities/{api.community}").json()
    assert c["stewards"] == [api.keys[1].address] and c["treasury"] == api.keys[2].address


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/works/999999", 404, "unknown-work"),
    ("/communities/999", 404, "unknown-community"),
    ("/works?kind=song", 422, "invalid-request"),
    ("/works?limit=0", 422, "invalid-request"),
    ("/works/abc", 422, "invalid-request"),
    ("/content/not-a-cid", 400, "invalid-cid"),
    ("/content/bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am", 404, "unknown-content"),
    ("/balances/0x12", 400, "invalid-address"),
    ("/jobs/nope", 404, "unknown-job"),
    ("/no/such/thing", 404, "not-found"),
])
def test_errors_are_problem_documents(api: Api, path: str, status: int, code: str) -> None:
    r = api.client.get(path)
    assert r.status_code == status, r.text
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == code and body["status"] == status and body["detail"]


def test_openapi_documents_every_field(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    assert {"/works", "/works/drafts", "/transactions", "/simulations", "/jobs/{job_id}"} <= set(doc["paths"])
    work = doc["components"]["schemas"]["Work"]["properties"]
    assert work["content_cid"]["description"] and work["parent_ppms"]["description"]


def _wait(client: TestClient, job_id: str, timeout: float = 240) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}").json()
        if job["status"] in ("done", "failed", "interrupted"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_simulation_job_runs_and_survives_a_restart(tmp_path: Path) -> None:
    scenario = {"name": "tiny", "seed": 3, "catalogue": {"communities": 3, "max_works_per_community": 6},
                "listeners": {"count": 40, "days": 8, "warmup_days": 4}}
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings)) as client:
        bad = client.post("/simulations", json={"scenario": {"listeners": {"count": -1}}})
        assert (bad.status_code, bad.json()["code"]) == (422, "invalid-request")
        assert "listeners.count" in bad.json()["detail"]
        job = client.post("/simulations", json={"scenario": scenario}).json()
        done = _wait(client, job["job_id"])
        assert done["status"] == "done", done["error"]
        assert done["total"] > 0 and done["done"] == done["total"]
        assert "table2" in done["result"]
    with TestClient(create_app(settings)) as client:  # a restarted service keeps the finished result
        again = client.get(f"/jobs/{job['job_id']}").json()
        assert again["status"] == "done" and again["result"] == done["result"]
        assert "latency.png" in client.get(f"/simulations/{job['job_id']}/files").json()
        rows = client.get(f"/simulations/{job['job_id']}/tables/table2.csv").json()
        assert rows[0]["measure"] == "median settlement days" and set(rows[0]) == {"measure", "archive", "unconditioned", "ours"}
        latencies = client.get(f"/simulations/{job['job_id']}/tables/latency.parquet").json()
        assert {r["arm"] for r in latencies} == {"archive", "unconditioned", "ours"}
        png = client.get(f"/simulations/{job['job_id']}/files/latency.png")
        assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
        assert client.get(f"/simulations/{job['job_id']}/files/..%2Fjob.json").status_code == 404


def test_a_job_running_at_shutdown_is_marked_interrupted(tmp_path: Path) -> None:
    jobs = JobManager(tmp_path)
    started = []

    def slow(folder: Path, progress: Any) -> dict[str, Any]:
        started.append(folder)
        progress("working", 1, 10)
        time.sleep(30)
        return {}

    job = jobs.submit("test", {}, slow)
    while not started:
        time.sleep(0.05)
    reopened = JobManager(tmp_path)  # as a new process would see the folder
    assert reopened.get(job.job_id).status == "interrupted"
    assert "start it again" in (reopened.get(job.job_id).error or "")


def test_protocol_split_and_machine_provenance(api: Api) -> None:
    """A derivative shows its roots' protocols and its model CID (the registry emits the model's
    event before the derivative's; the catalogue must keep it)."""
    import os

    from chain.signatures import sign

    steward = api.keys[1]
    draft = api.heritage_draft(api.upload(os.urandom(800)), steward.address, protocol={"floor_ppm": 150_000}, media_type="audio/wav")
    sig = "0x" + sign(draft["typed_data"], steward.key).hex()
    body = {"typed_data": draft["typed_data"], "signer": steward.address, "signature": sig}
    parent = api.client.post("/works", json=body).json()["work_id"]
    model = api.upload(b"model weights" * 20, "application/json", "model.json")
    creator = api.keys[4]
    d = api.client.post("/derivatives/drafts", json={
        "creator": creator.address, "content_cid": api.upload(b"MThd" + os.urandom(60), "audio/midi", "gen.mid"), "title": "generated",
        "parents": [{"work_id": parent, "ppm": 200_000}], "model_cid": model, "seed": 7, "media_type": "audio/midi"}).json()
    child = api.client.post("/transactions", json={"raw": api.sign_tx(creator, d["transaction"])}).json()["work_id"]
    got = api.client.get(f"/works/{child}").json()
    assert got["model_cid"] == model
    assert api.client.get(f"/works/{child}/lineage").json()["nodes"][0]["model_made"] is True
    protocols = api.client.get(f"/works/{child}/protocol").json()
    assert [(p["work_id"], p["floor_ppm"]) for p in protocols] == [(parent, 150_000)]
    assert api.client.get(f"/works/{child}/split").json()["recipients"] == [{"account": creator.address, "ppm": 1_000_000}]
    assert api.client.get(f"/content/{got['content_cid']}").headers["content-type"] == "audio/midi"
    parent_content = api.client.get(f"/works/{parent}").json()["content_cid"]
    assert api.client.get(f"/content/{parent_content}").headers["content-type"] == "audio/wav"


def test_catalogue_audit_job(api: Api) -> None:
    job = api.client.post("/audits").json()
    done = _wait(api.client, job["job_id"], timeout=120)
    assert done["status"] == "done", done["error"]
    summary = done["result"]["summary"]
    assert summary["works"] == int(api.state.chain.registry.functions.workCount().call())
    assert summary["provenance_traceability"] == 1.0 and done["result"]["failed"] == []
