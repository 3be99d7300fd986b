"""Wallets in the browser, end to end in headless Chromium: a fresh API on its own anvil, Streamlit,
and an EIP-1193/EIP-6963 test wallet injected into every frame (test_wallet_provider.js) that
forwards to anvil, which signs for its development accounts. Through the pages' buttons and the
wallet: the wallet starts on the wrong chain and is switched; a community's registration is
rejected in the wallet (nothing is sent) and then made; a steward registers a work whose
derivatives need consent; a creator proposes one; the steward approves it from the queue; a
listener pays it; the treasury withdraws its share; the steward registers a secret/sacred work
(its commitment only); the listener pays in an ERC-20 (the router's approval, then the payment);
two stewards of a 2-of-2 community consent from two wallet accounts (the first signature stored,
the second relaying both); a claim's form and a file's check; the steward signs in with Ethereum.

Screenshots go to the test's tmp folder; with UPDATE_SCREENSHOTS=1 they are also copied to
docs/screenshots/wallet-*.png.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from selenium.common.exceptions import NoSuchElementException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from web3 import Web3

from tests.python.dashboard.services import DEV_ACCOUNTS, streamlit_app

# Importing the fixture makes it this module's too (one Chromium, closed at the end).
from tests.python.dashboard.test_browser import browser as browser
from tests.python.dashboard.test_browser import choose, css, keep, screenshot, until
from tests.python.dashboard.wallet_services import KEYS, community, derivative, heritage
from tests.python.dashboard.wallet_services import fresh_api as fresh_api
from tests.python.erc20 import deploy_token

PROVIDER = Path(__file__).with_name("test_wallet_provider.js")
T = TypeVar("T")
STEWARD, SECOND, CREATOR, LISTENER = 0, 1, 3, 5
"""Development accounts: the community's steward and treasury; a second steward; a creator; a listener."""


@pytest.fixture(scope="module")
def wallet_dashboard(fresh_api: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with streamlit_app(fresh_api, tmp_path_factory.mktemp("streamlit")) as url:
        yield url


def inject_wallet(driver: WebDriver, rpc_url: str) -> None:
    """The test wallet in every document the browser opens from now on, the component's frame included."""
    source = PROVIDER.read_text().replace("__RPC__", rpc_url).replace("__ACCOUNTS__", json.dumps(DEV_ACCOUNTS))
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})


def in_wallet(driver: WebDriver, act: Callable[[], T]) -> T:
    """Run `act` inside the wallet component's frame (found afresh: a rerun may replace it)."""
    driver.switch_to.default_content()
    frames = css(driver, "iframe[title*='heritage_wallet']")
    if not frames:
        raise NoSuchElementException("no wallet component on the page yet")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", frames[0])
    driver.switch_to.frame(frames[0])
    try:
        return act()
    finally:
        driver.switch_to.default_content()


def wallet_text(driver: WebDriver) -> str:
    return in_wallet(driver, lambda: str(driver.find_element(By.TAG_NAME, "body").text))


def click_in_wallet(driver: WebDriver, testid: str) -> None:
    """Click the wallet's button once it is there and enabled."""
    def clicked(d: WebDriver) -> bool:
        def act() -> bool:
            buttons = css(d, f"[data-testid='{testid}']:not([disabled])")
            if buttons:
                d.execute_script("arguments[0].click()", buttons[0])
            return bool(buttons)
        return in_wallet(d, act)
    try:
        until(driver, clicked, f"the wallet's {testid} button")
    except AssertionError as err:
        raise AssertionError(f"{err}\n\nThe wallet shows: {wallet_text(driver)}") from None


def body(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "body").text)


def wallet_state(driver: WebDriver, **values: str) -> None:
    for key, value in values.items():
        driver.execute_script("window.localStorage.setItem(arguments[0], arguments[1])", f"testwallet:{key}", value)


def type_into(driver: WebDriver, label: str, text: str) -> None:
    selector = f"input[aria-label='{label}'], textarea[aria-label='{label}']"
    until(driver, lambda d: bool(css(d, selector)), f"the field {label!r}")
    box = driver.find_element(By.CSS_SELECTOR, selector)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(text)


def press(driver: WebDriver, label: str) -> None:
    until(driver, lambda d: any(b.text.strip() == label and b.is_enabled() for b in css(d, "button")), f"the button {label!r}")
    button = next(b for b in css(driver, "button") if b.text.strip() == label)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()


def tick(driver: WebDriver, label: str) -> None:
    box = next(c for c in css(driver, "[data-testid='stCheckbox'] label") if c.text.strip() == label)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()


def pick(driver: WebDriver, option: str) -> None:
    """Pick the radio button `option`."""
    until(driver, lambda d: any(c.text.strip() == option for c in css(d, "[data-testid='stRadio'] label")), f"the option {option!r}")
    choice = next(c for c in css(driver, "[data-testid='stRadio'] label") if c.text.strip() == option)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", choice)
    choice.click()


def choose_many(driver: WebDriver, label: str, option: str) -> None:
    """Add `option` (by the start of its text) in the multiselect labelled `label`."""
    box = driver.find_element(By.CSS_SELECTOR, f"input[role='combobox'][aria-label*='{label}']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    until(driver, lambda d: any(o.text.startswith(option) for o in css(d, "[role='option']")), f"option {option!r}")
    next(o for o in css(driver, "[role='option']") if o.text.startswith(option)).click()
    driver.find_element(By.TAG_NAME, "h1").click()  # close the list


def attach(driver: WebDriver, file: Path, *, form: str = "the form") -> None:
    """Choose `file` in the page's file input (once `form` shows it) and wait until the page names it."""
    until(driver, lambda d: bool(css(d, "input[type='file']")), form)
    driver.find_element(By.CSS_SELECTOR, "input[type='file']").send_keys(str(file))
    until(driver, lambda d: file.name in body(d), "the chosen file")


def open_at(driver: WebDriver, url: str, heading: str) -> None:
    driver.get(url)
    until(driver, lambda d: any(h.text.startswith(heading) for h in css(d, "h1")), f"the {heading} page")


def test_the_whole_journey_through_the_wallet(
        wallet_dashboard: str, fresh_api: str, browser: WebDriver, tmp_path: Path) -> None:
    http = httpx.Client(base_url=fresh_api, timeout=30)
    chain = http.get("/wallet/chain").json()
    inject_wallet(browser, chain["rpc_url"])
    shots: list[Path] = []

    # The wallet is on chain 1: the page says so, and switching is one click.
    browser.get(wallet_dashboard)
    wallet_state(browser, chain="1", account=str(STEWARD), connected="0", reject="0", log="[]")
    open_at(browser, f"{wallet_dashboard}/act-community", "Register a community")
    until(browser, lambda d: "Heritage test wallet" in wallet_text(d), "the test wallet, discovered by EIP-6963")
    click_in_wallet(browser, "connect")
    until(browser, lambda d: "Heritage Ledger is on chain 31337" in wallet_text(d), "the wrong-chain warning")
    until(browser, lambda d: "Switch your wallet to chain 31337" in body(d), "the page's hint to switch")
    assert not css(browser, "[data-testid='stForm']")
    shots.append(screenshot(browser, tmp_path, "wallet-wrong-chain.png"))
    click_in_wallet(browser, "switch")
    until(browser, lambda d: bool(css(d, "[data-testid='stForm']")), "the form, once on the platform's chain")
    assert DEV_ACCOUNTS[STEWARD] in wallet_text(browser)

    # A registration rejected in the wallet: a clear message, nothing sent.
    type_into(browser, "Name", "Han folk singers of Shaanxi")
    press(browser, "Prepare the registration")
    until(browser, lambda d: "What will happen" in body(d) and "Han folk singers of Shaanxi" in body(d), "the words before signing")
    assert "1 of their 1 approvals" in body(browser) and "Network fee at most" in body(browser)
    shots.append(screenshot(browser, tmp_path, "wallet-before-signing.png"))
    wallet_state(browser, reject="1")
    click_in_wallet(browser, "sign")
    until(browser, lambda d: "You rejected the request in your wallet" in body(d), "the rejection message")
    assert http.get("/communities").json()["total"] == 0
    shots.append(screenshot(browser, tmp_path, "wallet-rejected.png"))

    # Again, confirmed: signed by the wallet, relayed by the API, the community on screen.
    press(browser, "Prepare the registration")
    until(browser, lambda d: "What will happen" in body(d), "the words before signing")
    click_in_wallet(browser, "sign")
    until(browser, lambda d: "Community #1: Han folk singers of Shaanxi" in body(d), "the registered community", timeout=60)
    assert http.get("/communities").json()["items"][0]["stewards"] == [DEV_ACCOUNTS[STEWARD]]
    shots.append(screenshot(browser, tmp_path, "wallet-community.png"))

    # The steward registers a work: upload, fields, protocol, split; an EIP-712 signature.
    song = tmp_path / "song.abc"
    song.write_text("X:1\nT:Walking the west pass\nM:2/4\nK:G\nGA Bd|e2 dB|\n")
    open_at(browser, f"{wallet_dashboard}/act-work", "Register a heritage work")
    attach(browser, song, form="the form (the wallet reconnected by itself)")
    type_into(browser, "Title", "Walking the west pass")
    type_into(browser, "Region", "Shaanxi")
    tick(browser, "Each derivative needs the stewards' consent")
    press(browser, "Prepare the registration")
    until(browser, lambda d: "What will happen" in body(d) and "Protocol: derivatives allowed" in body(d), "the words")
    assert "the stewards' consent required for each derivative" in body(browser)
    assert "a community floor of 10 %" in body(browser) and "100 % to" in body(browser) and "valid until" in body(browser)
    click_in_wallet(browser, "sign")
    until(browser, lambda d: "Work #1: Walking the west pass" in body(d), "the registered work", timeout=60)
    assert http.get("/works/1").json()["registrant"] == DEV_ACCOUNTS[STEWARD]
    shots.append(screenshot(browser, tmp_path, "wallet-work.png"))

    # A creator proposes a derivative: the page says it needs the community's consent.
    wallet_state(browser, account=str(CREATOR))
    arrangement = tmp_path / "arrangement.abc"
    arrangement.write_text("X:1\nT:West pass, for two fiddles\nM:2/4\nK:D\nAB de|f2 ed|\n")
    open_at(browser, f"{wallet_dashboard}/act-derivative", "Propose a derivative")
    until(browser, lambda d: DEV_ACCOUNTS[CREATOR] in wallet_text(d), "the creator's account")
    until(browser, lambda d: bool(css(d, "input[role='combobox'][aria-label*='Parents']")), "the parents' selector")
    choose_many(browser, "Parents", "#1 ")
    until(browser, lambda d: "Needs consent from work #1's community" in body(d), "whose consent it needs")
    attach(browser, arrangement)
    type_into(browser, "Title", "West pass, for two fiddles")
    press(browser, "Prepare the registration")
    until(browser, lambda d: "What will happen" in body(d) and "20 % of every payment to #1" in body(d), "the words")
    assert "pending until the stewards of work #1's community consent" in body(browser)
    click_in_wallet(browser, "sign")
    until(browser, lambda d: "work #2, status pending" in body(d), "the pending derivative", timeout=60)
    shots.append(screenshot(browser, tmp_path, "wallet-derivative.png"))

    # The steward approves it from the queue.
    wallet_state(browser, account=str(STEWARD))
    open_at(browser, f"{wallet_dashboard}/act-steward", "Steward's queue")
    until(browser, lambda d: "#2 West pass, for two fiddles" in body(d), "the derivative in the queue")
    press(browser, "Approve")
    until(browser, lambda d: "You consent to, for Han folk singers of Shaanxi" in body(d), "the words before consenting")
    shots.append(screenshot(browser, tmp_path, "wallet-steward.png"))
    click_in_wallet(browser, "sign")
    until(browser, lambda d: "Derivative #2 is now active" in body(d), "the approval", timeout=60)
    assert http.get("/works/2").json()["status"] == "active"

    # A listener pays the derivative from another account, with a wallet that sends drafts itself
    # (as MetaMask does: no eth_signTransaction); a fifth reaches the community.
    wallet_state(browser, account=str(LISTENER), sendonly="1")
    open_at(browser, f"{wallet_dashboard}/act-pay", "Pay and withdraw")
    until(browser, lambda d: DEV_ACCOUNTS[LISTENER] in wallet_text(d), "the listener's account")
    until(browser, lambda d: bool(css(d, "[data-testid='stForm']")), "the payment form")
    choose(browser, "Work", "#2 ")
    type_into(browser, "Amount (ETH)", "0.25")
    press(browser, "Prepare the payment")
    until(browser, lambda d: "Pay 0.25 ETH to work #2" in body(d), "the words before paying")
    assert "It sends 0.25 ETH from your account" in body(browser)
    click_in_wallet(browser, "sign")
    until(browser, lambda d: "Done: transaction" in body(d), "the payment's receipt", timeout=60)
    assert [p["amount"] for p in http.get("/works/2/payments").json()] == [str(25 * 10**16)]
    shots.append(screenshot(browser, tmp_path, "wallet-pay.png"))
    wallet_state(browser, sendonly="0")

    # The treasury withdraws what it was credited.
    wallet_state(browser, account=str(STEWARD))
    open_at(browser, f"{wallet_dashboard}/act-pay", "Pay and withdraw")
    until(browser, lambda d: DEV_ACCOUNTS[STEWARD] in wallet_text(d), "the treasury's account")
    until(browser, lambda d: any(m.text == "0.05 ETH" for m in css(d, "[data-testid='stMetricValue']")), "its balance")
    press(browser, "Prepare a withdrawal")
    until(browser, lambda d: "Withdraw your whole balance, 0.05 ETH" in body(d), "the words before withdrawing")
    click_in_wallet(browser, "sign")
    until(browser, lambda d: "Done: transaction" in body(d), "the withdrawal's receipt", timeout=60)
    assert http.get(f"/balances/{DEV_ACCOUNTS[STEWARD]}").json()["amount"] == "0"

    # A secret/sacred recording: only its salted hash goes on chain, and its bytes are reserved.
    sacred = tmp_path / "sacred.abc"
    sacred.write_text("X:7\nT:(not to be published)\nK:E\nEF GA|\n")
    open_at(browser, f"{wallet_dashboard}/act-restricted", "Register a restricted work")
    attach(browser, sacred)
    press(browser, "Prepare the registration")
    until(browser, lambda d: "a secret/sacred work as the commitment 0x" in body(d), "the words before signing")
    click_in_wallet(browser, "sign")
    until(browser, lambda d: "Restricted work #3 (restricted)" in body(d), "the restricted work", timeout=60)
    assert http.get("/works/3").json()["content_cid"] is None
    shots.append(screenshot(browser, tmp_path, "wallet-restricted.png"))

    # Paying in an ERC-20, with a wallet that sends what it signs (as MetaMask does): the router's
    # approval first, then the payment: two prompts, and the page says which step is which.
    token = deploy_token(Web3(Web3.HTTPProvider(chain["rpc_url"])), DEV_ACCOUNTS[0],
                         mint={DEV_ACCOUNTS[LISTENER]: 10 * 10**18})
    wallet_state(browser, account=str(LISTENER), sendonly="1")
    open_at(browser, f"{wallet_dashboard}/act-pay", "Pay and withdraw")
    until(browser, lambda d: DEV_ACCOUNTS[LISTENER] in wallet_text(d), "the listener's account")
    pick(browser, "An ERC-20 token")
    type_into(browser, "Token address (ERC-20)", token + Keys.ENTER)
    until(browser, lambda d: "You hold 10 MOCK" in body(d), "the listener's tokens")
    choose(browser, "Work", "#2 ")
    type_into(browser, "Amount (MOCK)", "1.5")
    press(browser, "Prepare the payment")
    until(browser, lambda d: "Step 1 of 2: allow the royalty router to take 1.5 MOCK" in body(d), "the approval's words")
    click_in_wallet(browser, "sign")
    until(browser, lambda d: "The router may now take 1.5 MOCK" in body(d), "the approval", timeout=60)
    press(browser, "Prepare the payment")
    until(browser, lambda d: "Pay 1.5 MOCK to work #2" in body(d), "the payment's words")
    click_in_wallet(browser, "sign")
    until(browser, lambda d: "Done: transaction" in body(d), "the token payment's receipt", timeout=60)
    assert http.get(f"/balances/{DEV_ACCOUNTS[STEWARD]}", params={"token": token}).json()["amount"] == str(3 * 10**17)
    shots.append(screenshot(browser, tmp_path, "wallet-pay-token.png"))
    wallet_state(browser, sendonly="0")

    # Two stewards, both needed (2 of 2), in two wallet accounts: the first's consent is stored and
    # nothing is sent; the second's reaches the threshold and both are relayed.
    keepers = community(http, steward=KEYS[STEWARD], treasury=KEYS[STEWARD], name="Two keepers",
                        stewards=[KEYS[STEWARD], KEYS[SECOND]], threshold=2)
    child = derivative(http, heritage(http, keepers, KEYS[STEWARD], consent_required=True), KEYS[CREATOR])
    for account, before in ((STEWARD, 0), (SECOND, 1)):
        wallet_state(browser, account=str(account))
        open_at(browser, f"{wallet_dashboard}/act-steward", "Steward's queue")
        until(browser, lambda d: DEV_ACCOUNTS[account] in wallet_text(d), "the steward's account")  # noqa: B023
        until(browser, lambda d: f"Consent: approvals {before} of 2" in body(d), "the approvals so far")  # noqa: B023
        press(browser, "Approve")
        until(browser, lambda d: f"Approvals {before} of 2 so far; with yours {before + 1} of 2" in body(d), "the words")  # noqa: B023
        click_in_wallet(browser, "sign")
        if before == 0:
            until(browser, lambda d: "Your signature is stored: approvals 1 of 2" in body(d), "the stored approval", timeout=60)
            assert http.get(f"/works/{child}").json()["status"] == "pending"
            shots.append(screenshot(browser, tmp_path, "wallet-approvals-1-of-2.png"))
    until(browser, lambda d: f"Derivative #{child} is now active" in body(d), "the consent at 2 of 2", timeout=60)
    shots.append(screenshot(browser, tmp_path, "wallet-approvals-2-of-2.png"))

    # A claim's form, and the auditor's check of a file by its CID.
    wallet_state(browser, account=str(STEWARD))
    open_at(browser, f"{wallet_dashboard}/act-claim", "Raise a claim")
    until(browser, lambda d: bool(css(d, "[data-testid='stForm']")), "the claim form")
    shots.append(screenshot(browser, tmp_path, "wallet-claim.png"))
    open_at(browser, f"{wallet_dashboard}/check-file", "Check a file")
    type_into(browser, "Or a CID", http.get("/works/1").json()["content_cid"] + Keys.ENTER)
    until(browser, lambda d: "Work #1: Walking the west pass" in body(d), "the work the file is")
    shots.append(screenshot(browser, tmp_path, "wallet-check-file.png"))

    # Sign-In with Ethereum: the steward's own works and payouts.
    open_at(browser, f"{wallet_dashboard}/account", "My account")
    press(browser, "Sign in with Ethereum")
    until(browser, lambda d: "a message, not a transaction" in body(d), "the words before signing in")
    click_in_wallet(browser, "sign")
    until(browser, lambda d: "Signed in as" in body(d) and "My works" in body(d), "the account page", timeout=60)
    shots.append(screenshot(browser, tmp_path, "wallet-account.png"))

    log = json.loads(browser.execute_script("return window.localStorage.getItem('testwallet:log')"))
    assert {"eth_requestAccounts", "wallet_switchEthereumChain", "eth_signTransaction", "eth_sendTransaction",
            "eth_signTypedData_v4", "personal_sign"} <= set(log)
    http.close()
    keep(shots)
