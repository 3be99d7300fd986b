"""The Studio in headless Chromium with the injected test wallet (test_wallet_provider.js, forwarding to
anvil): a creator connects, makes a piece in a tradition conditioned on a registered song (tiny
models: HERITAGE_MODELS_DIR), watches the job, finds the player and the pitch on the grid, and
registers the piece with one signature in the wallet; the new work credits the song and the
generation model, which the operator registered (`heritage models register`) with its training set
of three songs from two communities anchored; the provenance explorer shows the piece's royalty
route reaching that set, each community paid by its count of works.

With UPDATE_SCREENSHOTS=1 the page is also saved to docs/screenshots/studio.png."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from dashboard.ui import eth
from ml.defaults import FILES
from ml.shipped import manifest
from tests.python.dashboard.services import BIN, DEV_ACCOUNTS, streamlit_app

# Importing the fixture makes it this module's too (one Chromium, closed at the end).
from tests.python.dashboard.test_browser import browser as browser
from tests.python.dashboard.test_browser import choose, css, keep, screenshot, until
from tests.python.dashboard.test_studio_page import serve_studio, song
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
from tests.python.dashboard.wallet_services import KEYS, community

STEWARD, TREASURY = KEYS[1], KEYS[2]

CREATOR = 4  # the development account the Studio's creator signs with
OPERATOR = 5  # the development account that registers the service's model


def press_link(driver: WebDriver, label: str) -> None:
    until(driver, lambda d: any(label in a.text for a in css(d, "a")), f"the link {label!r}")
    link = next(a for a in css(driver, "a") if label in a.text)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()


@pytest.fixture(scope="module")
def studio_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("studio-browser")


@pytest.fixture(scope="module")
def studio_api(studio_root: Path) -> Iterator[tuple[str, list[str]]]:
    with serve_studio(studio_root) as served:
        yield served


@pytest.fixture(scope="module")
def works(studio_api: tuple[str, list[str]], studio_root: Path) -> dict[str, int]:
    """The generator's three songs registered by two communities (two and one), and the generator
    registered by the operator with `heritage models register`, its training set anchored."""
    url, songs = studio_api
    with httpx.Client(base_url=url, timeout=60) as http:
        a = community(http, steward=STEWARD, treasury=TREASURY, name="Han folk singers")
        b = community(http, steward=STEWARD, treasury=TREASURY, name="Tea-picking singers")
        ids = {"open": song(http, a, songs[0]), "second": song(http, a, songs[1]), "other": song(http, b, songs[2]),
               "a": a, "b": b}
    weights = studio_root / "models" / FILES["generation"]
    manifest.write(manifest.Built("generation", weights, settings={"tiny": True}, seeds={"split": 0, "train": 0},
                                  metrics={}, held_out="none (a test's tiny model)", train_seconds=0.0),
                   recipe="generation", build_seconds=0.0, load_seconds=0.0)
    out = subprocess.run([str(BIN / "heritage"), "models", "register", "--kind", "generation", "--folder",
                          str(weights.parent), "--data-dir", str(studio_root / "data"), "--from", str(OPERATOR), "--json"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    [model] = json.loads(out.stdout)["models"]
    assert model["status"] == "registered" and model["members"] == 3, model
    ids["model"] = int(model["work"])
    return ids


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
    assert f"10 % of every payment to #{works['open']}" in body(browser)
    assert f"10 % of every payment to #{works['model']}" in body(browser)
    click_in_wallet(browser, "sign")
    until(browser, lambda d: "Your result is work #" in body(d), "the registered piece", timeout=60)
    new = int(body(browser).split("Your result is work #")[1].split(",")[0].strip())
    child = http.get(f"/works/{new}").json()
    assert child["parents"] == [works["open"], works["model"]] and child["registrant"] == DEV_ACCOUNTS[CREATOR]
    assert child["manifest"]["maker"]["type"] == "model"
    keep([screenshot(browser, tmp_path, "studio.png")])

    # What the piece credits: the provenance explorer, reached from the Studio's link.
    press_link(browser, "What it credits")
    until(browser, lambda d: f"Training set of model #{works['model']}" in body(d), "the model's training set", timeout=90)
    text = body(browser)
    assert f"#{new}" in text and "3 works" in text
    # 1 ETH to the piece: 10 % reaches the model, which keeps 80 % of it (20 % up to one song per community),
    # half of that to its set's pot: 0.04 ETH, two thirds to community a (two songs), one third to b.
    route = http.get(f"/works/{new}/route").json()
    [credit] = route["training_sets"]
    assert credit["model"] == works["model"] and credit["set_wei"] == str(4 * 10**16)
    assert [(c["community_id"], c["works"]) for c in credit["communities"]] == [(works["a"], 2), (works["b"], 1)]
    assert int(credit["communities"][0]["received_wei"]) == 2 * int(credit["communities"][1]["received_wei"]) > 0
    rows = [rf"#{c['community_id']}\s+{c['works']}\s+\d+%\s+{re.escape(eth(c['received_wei']))}" for c in credit["communities"]]
    until(browser, lambda d: all(re.search(row, body(d)) for row in rows), "each community's row: works, share, ETH")
    keep([screenshot(browser, tmp_path, "provenance_training_set.png")])
