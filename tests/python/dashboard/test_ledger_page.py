"""The "Real ledger" page, run by Streamlit's AppTest against the running API (the demo's data, which
holds one usage statement, plus one submitted here): its figures are the API's."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from tests.python.dashboard.conftest import Service

APP = Path(__file__).resolve().parents[3] / "dashboard" / "app.py"
HEADER = "period_start\tperiod_end\tservice\tterritory\twork\tusage_type\tcount\tamount_wei"


def test_real_ledger_shows_the_apis_fairness_and_latency(api_url: str, http: httpx.Client, service: Service,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    usage = "\n".join([HEADER, f"2025-03-01\t2025-03-31\tPageTest\tFR\t{service.audio_work}\tstream\t10\t3000",
                       f"2025-03-01\t2025-03-31\tPageTest\tFR\t{service.midi_work}\tstream\t10\t7000"]) + "\n"
    r = http.post("/statements", files={"file": ("usage.tsv", usage.encode(), "text/tab-separated-values")})
    assert r.status_code in (201, 409), r.text  # 409: an earlier run of this test in the same session
    ledger = http.get("/statements/ledger").json()
    assert len(ledger["periods"]) >= 2  # the demo's month and March 2025

    monkeypatch.setenv("HERITAGE_API_URL", api_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/ledger.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Real ledger"
    fairness = at.dataframe[0].value
    march = fairness[fairness["period"] == "2025-03-01 – 2025-03-31"].iloc[0]
    period = next(p for p in ledger["periods"] if p["period_end"] - p["period_start"] == 31 * 86_400 - 1
                  and p["period_start"] == 1_740_787_200)
    assert (march["Gini"], march["Jain"], march["Theil T"]) == (round(period["gini"], 4), round(period["jain"], 4),
                                                                round(period["theil_t"], 4))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Usage lines settled"] == str(len(ledger["latencies_s"]))
    assert metrics["Median"] == f"{ledger['median_s'] / 86_400:.2f} days"
