"""End to end in headless Chromium: `streamlit run dashboard/app.py` against the running API, every
page opened from the sidebar (the listening room from a study's signed links), real content waited
for on each, and a screenshot of each saved.

The screenshots go to the test's tmp folder; with UPDATE_SCREENSHOTS=1 they are also copied to
docs/screenshots/. Debian's chromium and chromedriver are used as installed (selenium-manager
never downloads a browser).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.python.dashboard.conftest import REPO, Service
from tests.python.dashboard.services import streamlit_app
from tests.python.dashboard.test_pages import make_study

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENSHOTS = REPO / "docs" / "screenshots"
WIDTH = 1440

pytestmark = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                reason="needs Debian's chromium at /usr/bin/chromium and its driver at /usr/bin/chromedriver "
                                       "(apt-get install chromium chromium-driver)")


@pytest.fixture(scope="module")
def dashboard(api_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run dashboard/app.py` on a free port, reading the test API; its URL."""
    with streamlit_app(api_url, tmp_path_factory.mktemp("streamlit")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={WIDTH},1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=ChromeService(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def until(driver: WebDriver, condition: Callable[[WebDriver], object], what: str, timeout: float = 30) -> None:
    """Wait for `condition`; on failure say what was awaited and what the page showed."""
    def safe(d: WebDriver) -> object:
        try:
            return condition(d)
        except (StaleElementReferenceException, WebDriverException):
            return False

    try:
        WebDriverWait(driver, timeout, poll_frequency=0.25).until(safe)
    except Exception as err:
        body = driver.find_element(By.TAG_NAME, "body").text[:2000]
        raise AssertionError(f"waited {timeout} s for {what}; the page shows:\n{body}") from err


def css(driver: WebDriver, selector: str) -> list[WebElement]:
    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def idle(driver: WebDriver) -> bool:
    """The script run is over (no 'Running…' widget) and every image has loaded."""
    images_loaded = driver.execute_script("return [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    return not css(driver, "[data-testid='stStatusWidget']") and bool(images_loaded)


def open_page(driver: WebDriver, title: str) -> None:
    """Click the page's link in the sidebar."""
    link = next(a for a in css(driver, "[data-testid='stSidebarNav'] a") if a.text.strip().endswith(title))
    link.click()
    until(driver, lambda d: any(h.text == title or h.text.startswith(title) for h in css(d, "h1")), f"the {title} page")


def choose(driver: WebDriver, label: str, option: str) -> None:
    """Pick `option` (by the start of its text) in the select box labelled `label`, typing to filter the list."""
    box = driver.find_element(By.CSS_SELECTOR, f"input[role='combobox'][aria-label='{label}']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    box.send_keys(option)
    until(driver, lambda d: any(o.text.startswith(option) for o in css(d, "[role='option']")), f"option {option!r} of {label!r}")
    next(o for o in css(driver, "[role='option']") if o.text.startswith(option)).click()


def keep(shots: list[Path]) -> None:
    """With UPDATE_SCREENSHOTS=1, copy the screenshots to docs/screenshots/ (the README shows them)."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for path in shots:
            shutil.copyfile(path, SCREENSHOTS / path.name)


def screenshot(driver: WebDriver, folder: Path, name: str) -> Path:
    """The whole page: the window is made as tall as the content (Streamlit scrolls inside its main block)."""
    until(driver, idle, "the page to finish running")
    driver.execute_script("document.activeElement?.blur()")
    driver.execute_script("document.querySelector('[data-testid=\"stMain\"]')?.scrollTo(0, 0)")
    height = int(driver.execute_script("return document.querySelector('[data-testid=\"stMain\"]').scrollHeight"))
    driver.set_window_size(WIDTH, min(max(height + 140, 900), 4000))
    until(driver, idle, "the page to settle at its new size")
    path = folder / name
    driver.save_screenshot(str(path))
    driver.set_window_size(WIDTH, 1000)
    return path


def test_every_page_shows_real_content_in_chromium(dashboard: str, browser: WebDriver, http: httpx.Client, service: Service,
                                                   tmp_path: Path) -> None:
    shots = []
    metrics = http.get("/metrics").json()

    browser.get(dashboard)
    until(browser, lambda d: str(metrics["works"]) in [m.text for m in css(d, "[data-testid='stMetricValue']")],
          "the number of works in the overview")
    until(browser, lambda d: len(css(d, "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg")) >= 4,
          "the payments chart and the three fairness charts")
    until(browser, lambda d: "Table 2" in d.find_element(By.TAG_NAME, "body").text, "Table 2")
    assert "Cannot reach" not in browser.find_element(By.TAG_NAME, "body").text
    shots.append(screenshot(browser, tmp_path, "overview.png"))

    open_page(browser, "Provenance explorer")
    until(browser, lambda d: "work=" in d.current_url, "the selected work in the URL")
    work = int(browser.current_url.split("work=")[1].split("&")[0])
    lineage = http.get(f"/works/{work}/lineage").json()
    until(browser, lambda d: len(css(d, "[data-testid='stGraphVizChart'] svg g.node")) == len(lineage["nodes"]),
          f"a node per work of the lineage of #{work}")
    graph = css(browser, "[data-testid='stGraphVizChart'] svg")[0].text
    assert len(css(browser, "[data-testid='stGraphVizChart'] svg g.edge")) == len(lineage["edges"])
    assert "audit passed" in graph and f"{lineage['edges'][0]['ppm']:,} ppm" in graph
    shots.append(screenshot(browser, tmp_path, "provenance.png"))

    open_page(browser, "Catalogue")
    until(browser, lambda d: bool(css(d, "[data-testid='stDataFrame']")), "the table of works")
    choose(browser, "Per page", "50")
    until(browser, lambda d: idle(d) and f"{metrics['works']} works match" in d.find_element(By.TAG_NAME, "body").text,
          "the count of matching works")
    choose(browser, "Work", f"#{service.audio_work} ")
    until(browser, lambda d: bool(css(d, "audio")) and any("A test tone" in h.text for h in css(d, "h3")), "the audio player")
    shots.append(screenshot(browser, tmp_path, "catalogue.png"))

    open_page(browser, "Simulation")
    until(browser, lambda d: len(css(d, "[data-testid='stImage'] img")) >= 3, "the simulation's plots")
    until(browser, lambda d: "Table 2" in d.find_element(By.TAG_NAME, "body").text, "Table 2")
    assert css(browser, "[data-testid='stForm']"), "no scenario form"
    shots.append(screenshot(browser, tmp_path, "simulation.png"))

    for path in shots:
        assert path.stat().st_size > 20_000, f"{path.name} looks empty"
    keep(shots)


def pick(driver: WebDriver, question: str, option: str) -> None:
    """Click `option` (its label's text) in the radio group whose label starts with the criterion `question`."""
    group = next(g for g in css(driver, "[data-testid='stRadio']") if g.text.startswith(question))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", group)
    next(lab for lab in group.find_elements(By.CSS_SELECTOR, "label") if lab.text.strip() == option).click()


def test_a_piece_and_the_listening_room_in_chromium(dashboard: str, browser: WebDriver, http: httpx.Client, service: Service,
                                                    tmp_path: Path) -> None:
    shots = []
    browser.get(dashboard)
    until(browser, lambda d: any(a.text.strip().endswith("Piece") for a in css(d, "[data-testid='stSidebarNav'] a")), "the sidebar")
    open_page(browser, "Piece")
    until(browser, lambda d: bool(css(d, "input[role='combobox'][aria-label='Work']")), "the work selector")
    choose(browser, "Work", f"#{service.audio_work} ")
    until(browser, lambda d: bool(css(d, "audio")) and "Pitch against the tuning grid" in d.find_element(By.TAG_NAME, "body").text,
          "the audio player and the pitch section", timeout=90)
    until(browser, lambda d: len(css(d, "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg")) >= 6,
          "the waveform, pitch, deviation, band and two fractal-dimension charts")
    until(browser, lambda d: bool(css(d, "[data-testid='stImage'] img")), "the spectrogram")
    assert "no endpoint for embedding maps" in browser.find_element(By.TAG_NAME, "body").text
    shots.append(screenshot(browser, tmp_path, "piece.png"))

    lab = make_study(http, service, raters=3, rated=2)
    browser.get(f"{dashboard}/listening?study={lab.study_id}&token={lab.researcher}")
    until(browser, lambda d: any(h.text == "Test tones" for h in css(d, "h2")), "the study's results")
    until(browser, lambda d: len(css(d, "[data-testid='stDataFrame']")) >= 2 and len(css(d, "[data-testid='stTable']")) >= 1,
          "the tables of results")
    shots.append(screenshot(browser, tmp_path, "study_results.png"))

    browser.get(f"{dashboard}/listening?study={lab.study_id}&token={lab.raters[2]}")
    until(browser, lambda d: bool(css(d, "audio")) and len(css(d, "[data-testid='stRadio']")) == 4, "the first piece and its questions")
    for question, option in (("authenticity", "4 · mostly"), ("overall", "3"), ("performance", "3"), ("visualisation", "2")):
        pick(browser, question, option)
    shots.append(screenshot(browser, tmp_path, "listening.png"))
    css(browser, "[data-testid='stFormSubmitButton'] button")[0].click()
    until(browser, lambda d: "Your ratings of piece 1 are stored" in d.find_element(By.TAG_NAME, "body").text
          and any(h.text == "Piece 2 of 3" for h in css(d, "h3")), "the ratings stored and the next piece")
    auth = {"Authorization": f"Bearer {lab.researcher}"}
    assert http.get(f"/studies/{lab.study_id}", headers=auth).json()["ratings"] == 2 * 3 * 4 + 4

    for path in shots:
        assert path.stat().st_size > 20_000, f"{path.name} looks empty"
    keep(shots)
