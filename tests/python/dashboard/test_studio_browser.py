"""The Studio in headless Chromium with the injected test wallet (test_wallet_provider.js, forwarding to
anvil): a creator connects, makes a piece in a tradition conditioned on a registered song (tiny
models: HERITAGE_MODELS_DIR), watches the job, finds the player and the pitch on the grid, and
registers the piece with one signature in the wallet; the new work credits the song.

With UPDATE_SCREENSHOTS=1 the page is also saved to docs/screenshots/studio.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from tests.python.dashboard.services import DEV_ACCOUNTS, streamlit_app

# Importing the fixtures makes them this module's too (one Chromium, one API, closed at the end).
from tests.python.dashboard.test_browser import browser as browser
from tests.python.dashboard.test_browser import choose, css, keep, screenshot, until
from tests.python.dashboard.test_studio_page import studio_api as studio_api
from tests.python.dashboard.test_studio_page import works as works
from tests.python.dashboard.test_wallet_browser import (
    body,
    choose_many,
    click_in_wallet,
    inject_wallet,
    open_at,
    press,
    type_into,
    wallet_state,
)

CREATOR = 4  # the development account the Studio's creator signs with


@pytest.fixture(scope="module")
def studio_dashboard(studio_api: tuple[str, list[str]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with streamlit_app(studio_api[0], tmp_path_factory.mktemp("streamlit")) as url:
        yield url


def test_make_a_piece_in_the_studio_and_register_it_with_the_wallet(
        studio_dashboard: str, studio_api: tuple[str, list[str]], works: dict[str, int], browser: WebDriver,
        tmp_path: Path) -> None:
    http = httpx.Client(base_url=studio_api[0], timeout=30)
    inject_wallet(browser, http.get("/wallet/chain").json()["rpc_url"])
    browser.get(studio_dashboard)
    wallet_state(browser, chain="31337", account=str(CREATOR), connected="0", reject="0", log="[]")
    open_at(browser, f"{studio_dashboard}/studio", "Studio")
    click_in_wallet(browser, "connect")
    until(browser, lambda d: "Model: generation-conditioned.pt" in body(d), "the model line")
    until(browser, lambda d: bool(css(d, "input[role='combobox'][aria-label='Tradition']")), "the piece's form")
    choose(browser, "Tradition", "Chinese Han")
    try:
        choose_many(browser, "Condition on works", f"#{works['open']} ")
    except ElementClickInterceptedException:  # closing the list by its heading, under the toolbar here: Escape closes it too
        browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    press(browser, "Run")
    until(browser, lambda d: "Pitch against the grid" in body(d), "the finished piece", timeout=180)
    until(browser, lambda d: bool(css(d, "[data-testid='stAudio'], audio")), "the player")
    assert "median |deviation|" in body(browser)
    until(browser, lambda d: bool(css(d, "[data-testid*='DataFrame']")), "the metrics' table (drawn on a canvas)")

    type_into(browser, "Title", "A Studio piece")
    press(browser, "Register with my wallet")
    until(browser, lambda d: "What will happen" in body(d) and "A Studio piece" in body(d), "the words before signing")
    assert f"20 % of every payment to #{works['open']}" in body(browser)
    click_in_wallet(browser, "sign")
    until(browser, lambda d: "Your result is work #" in body(d), "the registered piece", timeout=60)
    new = int(body(browser).split("Your result is work #")[1].split(",")[0].strip())
    child = http.get(f"/works/{new}").json()
    assert child["parents"] == [works["open"]] and child["registrant"] == DEV_ACCOUNTS[CREATOR]
    assert child["manifest"]["maker"]["type"] == "model"
    keep([screenshot(browser, tmp_path, "studio.png")])
