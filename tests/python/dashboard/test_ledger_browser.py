"""The "Real ledger" page in headless Chromium (the fixtures and helpers of test_browser.py): opened
from the sidebar, it shows the API's count of settled usage lines, the fairness table and the
latency histogram."""

from __future__ import annotations

from pathlib import Path

import httpx
from selenium.webdriver.remote.webdriver import WebDriver

from tests.python.dashboard.test_browser import browser, css, dashboard, open_page, pytestmark, screenshot, until

__all__ = ["browser", "dashboard", "pytestmark"]  # the fixtures and the skip condition, shared


def test_real_ledger_in_chromium(dashboard: str, browser: WebDriver, http: httpx.Client, tmp_path: Path) -> None:
    ledger = http.get("/statements/ledger").json()
    assert ledger["periods"], "the demo submits a statement: the ledger has at least one period"
    browser.get(dashboard)
    until(browser, lambda d: bool(css(d, "[data-testid='stSidebarNav'] a")), "the sidebar")
    open_page(browser, "Real ledger")
    until(browser, lambda d: str(len(ledger["latencies_s"])) in [m.text for m in css(d, "[data-testid='stMetricValue']")],
          "the number of settled usage lines")
    until(browser, lambda d: len(css(d, "[data-testid='stDataFrame']")) >= 2, "the fairness and credits tables")
    until(browser, lambda d: bool(css(d, "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg")),
          "the latency histogram")
    assert screenshot(browser, tmp_path, "ledger.png").stat().st_size > 20_000
