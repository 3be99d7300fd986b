"""The API client against the running API: typed answers, problem documents, a service that is down."""

from __future__ import annotations

import httpx
import pytest

from dashboard.client import ApiClient, ApiProblem, ApiUnavailable, api_url
from tests.python.dashboard.conftest import Service
from tests.python.dashboard.services import free_port


def test_all_works_pages_through_the_catalogue(api_url: str, http: httpx.Client) -> None:
    with ApiClient(api_url) as api:
        works = api.all_works()
        derivatives = api.all_works(kind="derivative")
    assert len(works) == http.get("/metrics").json()["works"]
    assert [w["work_id"] for w in works] == sorted(w["work_id"] for w in works)
    assert derivatives and all(w["kind"] == "derivative" for w in derivatives)


def test_a_problem_document_becomes_an_error_with_its_code_and_advice(api_url: str) -> None:
    with ApiClient(api_url) as api, pytest.raises(ApiProblem) as caught:
        api.work(10_000)
    assert (caught.value.status, caught.value.code) == (404, "unknown-work")
    assert "check the id" in str(caught.value)


def test_an_unreachable_api_says_how_to_start_one() -> None:
    with ApiClient(f"http://127.0.0.1:{free_port()}", timeout=5) as api, pytest.raises(ApiUnavailable) as caught:
        api.health()
    assert "heritage api" in str(caught.value) and "HERITAGE_API_URL" in str(caught.value)


def test_the_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERITAGE_API_URL", "http://example.invalid:9/")
    assert api_url() == "http://example.invalid:9"
    monkeypatch.delenv("HERITAGE_API_URL")
    assert api_url() == "http://127.0.0.1:8000"


def test_the_route_of_a_real_lineage_reaches_every_root_and_conserves(service: Service) -> None:
    with ApiClient(service.url) as api:
        lineage = api.lineage(service.midi_work)
        roots = api.work(service.midi_work)["roots"]
        route = api.route(service.midi_work, 10**18 + 7)
    shares = {s["work_id"]: s for s in route["shares"]}
    assert list(shares) == [n["work_id"] for n in lineage["nodes"]]
    assert sum(int(s["kept_wei"]) for s in shares.values()) == 10**18 + 7
    assert int(shares[service.midi_work]["received_wei"]) == 10**18 + 7
    assert all(int(shares[r]["received_wei"]) > 0 for r in roots)


def test_content_and_simulation_results_arrive_as_bytes_and_records(service: Service) -> None:
    with ApiClient(service.url) as api:
        work = api.work(service.audio_work)
        assert work["content_cid"] is not None
        assert api.content(work["content_cid"]).data[8:12] == b"WAVE"
        assert api.simulation_file(service.job_id, "latency.png").startswith(b"\x89PNG")
        records = api.simulation_table(service.job_id, "fairness_per_epoch.csv")
    assert {"arm", "epoch", "gini", "theil_t", "jain"} <= set(records[0])
