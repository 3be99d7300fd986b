"""Every page, run by Streamlit's AppTest against the running API: what it shows is what the API says."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.python.dashboard.conftest import Service
from tests.python.dashboard.services import free_port

APP = Path(__file__).resolve().parents[3] / "dashboard" / "app.py"
PAGES = ["views/overview.py", "views/provenance.py", "views/catalogue.py", "views/simulation.py"]
Open = Callable[[str], AppTest]


def texts(at: AppTest) -> str:
    """Every markdown, caption and header of the run, as one string."""
    parts = [e.value for kind in (at.title, at.header, at.subheader, at.markdown, at.caption) for e in kind]
    return "\n".join(str(p) for p in parts)


def table2(at: AppTest) -> pd.DataFrame | None:
    """Table 2 of the run shown (metrics × regimes), if the page shows one."""
    return next((d.value for d in at.dataframe if "median settlement days" in d.value.index), None)


def elements(at: AppTest, kind: str) -> list[Any]:
    return list(at.get(kind))


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


@pytest.fixture()
def open_page(api_url: str, monkeypatch: pytest.MonkeyPatch) -> Open:
    """Run the app, then switch to `page` (a path relative to dashboard/app.py) and run it."""
    monkeypatch.setenv("HERITAGE_API_URL", api_url)

    def open_(page: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60).run()
        if page != PAGES[0]:
            at.switch_page(page).run()
        return at

    return open_


def test_overview_shows_the_catalogue_the_api_reports(open_page: Open, http: httpx.Client, service: Service) -> None:
    at = ok(open_page(PAGES[0]))
    metrics = http.get("/metrics").json()
    shown = {m.label: m.value for m in at.metric}
    assert shown["Works"] == str(metrics["works"])
    assert shown["Communities"] == str(metrics["communities"])
    assert shown["Derivatives"] == str(metrics["by_kind"]["derivative"])
    communities = at.dataframe[0].value
    assert sorted(communities["community"]) == sorted(c["name"] for c in http.get("/communities").json()["items"])
    assert '"field": "community"' in elements(at, "vega_lite_chart")[0].proto.spec, "no payments chart"


def test_overview_shows_the_latest_simulation(open_page: Open, service: Service) -> None:
    at = ok(open_page(PAGES[0]))
    assert f"(job `{service.job_id}`)" in texts(at)
    table = table2(at)
    assert table is not None and list(table.columns) == ["archive", "unconditioned", "ours"]
    latency = at.dataframe[1].value.set_index("regime")
    assert latency.loc["archive", "median (days)"] == table.loc["median settlement days", "archive"]
    specs = [e.proto.spec for e in elements(at, "vega_lite_chart")]
    for index in ("Theil T", "Gini", "Jain"):
        assert any(f'"{index}"' in spec and '"line"' in spec for spec in specs), f"no line chart of {index}"
    assert elements(at, "image"), "no latency plot"


def test_provenance_draws_the_lineage_edges_with_their_shares(open_page: Open, http: httpx.Client, service: Service) -> None:
    at = open_page(PAGES[1])
    at.selectbox(key="provenance_work").set_value(service.midi_work).run()
    ok(at)
    dot = elements(at, "graphviz_chart")[0].proto.spec
    lineage = http.get(f"/works/{service.midi_work}/lineage").json()
    assert len(lineage["edges"]) >= 3
    for edge in lineage["edges"]:
        assert f'w{edge["child"]} -> w{edge["parent"]} [label="' in dot
        assert f'({edge["ppm"]:,} ppm)' in dot
    for n in lineage["nodes"]:
        assert f'w{n["work_id"]} [label="#{n["work_id"]}\\n{n["kind"]} · {n["status"]}' in dot
    assert "audit passed" in dot and "pending" in dot
    checks = at.dataframe[0].value
    audit = http.get(f"/works/{service.midi_work}/audit").json()
    assert list(checks["check"]) == [c["check"] for c in audit["checks"]]
    route = at.dataframe[1].value
    assert len(route) == len(lineage["nodes"]) and route["receives (ETH)"].iloc[0] == "1"


def test_provenance_opens_the_work_named_in_the_url(api_url: str, monkeypatch: pytest.MonkeyPatch, service: Service) -> None:
    monkeypatch.setenv("HERITAGE_API_URL", api_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGES[1])
    at.query_params["work"] = str(service.audio_work)
    ok(at.run())
    assert at.header[0].value.startswith(f"#{service.audio_work} A test tone")
    assert "digraph" in elements(at, "graphviz_chart")[0].proto.spec


def test_catalogue_filters_and_pages(open_page: Open, http: httpx.Client) -> None:
    at = open_page(PAGES[2])
    at.selectbox(key="catalogue_kind").set_value("derivative").run()
    ok(at)
    table = at.dataframe[0].value
    expected = http.get("/works", params={"kind": "derivative"}).json()
    assert set(table["kind"]) == {"derivative"} and len(table) == expected["total"]
    at.selectbox(key="catalogue_kind").set_value("any").run()
    at.selectbox(key="catalogue_size").set_value(10).run()
    at.number_input(key="catalogue_page").set_value(2).run()
    ok(at)
    second = http.get("/works", params={"offset": 10, "limit": 10}).json()["items"]
    assert list(at.dataframe[0].value["id"]) == [w["work_id"] for w in second]


def test_catalogue_plays_audio_shows_scores_and_offers_midi(open_page: Open, service: Service) -> None:
    at = open_page(PAGES[2])
    at.selectbox(key="catalogue_size").set_value(100).run()
    at.selectbox(key="catalogue_work").set_value(service.audio_work).run()
    ok(at)
    audio = elements(at, "audio")
    assert len(audio) == 1 and audio[0].proto.url.endswith(".wav")
    assert "audio/wav" in texts(at)
    at.selectbox(key="catalogue_work").set_value(service.midi_work).run()
    ok(at)
    assert not elements(at, "audio")
    assert any("does not play in the browser" in i.value for i in at.info)
    assert elements(at, "download_button")
    at.selectbox(key="catalogue_work").set_value(1).run()
    ok(at)
    assert at.code[0].value.startswith("X:")


def test_simulation_shows_a_finished_run(open_page: Open, service: Service) -> None:
    at = open_page(PAGES[3])
    at.selectbox(key="simulation_job").set_value(service.job_id).run()
    ok(at)
    table = table2(at)
    assert table is not None and list(table.columns) == ["archive", "unconditioned", "ours"]
    assert len(elements(at, "image")) >= 3  # latency, indices per epoch, exposure per community
    assert {m.label for m in at.metric} >= {"Communities", "Works", "Run time"}


def test_simulation_form_starts_a_run_and_follows_it_to_the_end(open_page: Open, http: httpx.Client) -> None:
    at = open_page(PAGES[3])
    before = {j["job_id"] for j in http.get("/jobs").json()}
    at.text_input[0].input("from the form")
    for label, value in (("Listeners", 10), ("Days of listening", 3), ("Warm-up days", 1), ("Communities", 2),
                         ("Works per community", 3)):
        next(n for n in at.number_input if n.label == label).set_value(value)
    at.button[0].click().run()
    ok(at)
    started = [j for j in http.get("/jobs").json() if j["job_id"] not in before]
    assert len(started) == 1 and started[0]["params"]["listeners"]["count"] == 10
    assert started[0]["params"]["name"] == "from the form"
    seen_progress, deadline = bool(at.get("progress")), time.monotonic() + 120
    while table2(at) is None and time.monotonic() < deadline:
        time.sleep(1)
        ok(at.run())
        seen_progress = seen_progress or bool(at.get("progress"))
    assert seen_progress, "no progress bar while the run was going"
    assert f"(job `{started[0]['job_id']}`)" in texts(at)
    assert list(table2(at).columns) == ["archive", "unconditioned", "ours"]  # type: ignore[union-attr]


@pytest.mark.parametrize("page", PAGES)
def test_an_unreachable_api_is_a_message_not_a_traceback(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERITAGE_API_URL", f"http://127.0.0.1:{free_port()}")
    at = AppTest.from_file(APP, default_timeout=30).run()
    if page != PAGES[0]:
        at.switch_page(page).run()
    assert not at.exception
    messages = [e.value for e in at.error]
    assert any("Cannot reach the Heritage Ledger API" in m and "heritage api" in m for m in messages), messages
