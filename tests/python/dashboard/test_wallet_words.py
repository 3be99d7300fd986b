"""The words shown before a signature say exactly what the signed document does."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.wallet import words
from dashboard.wallet.flow import media_of

PROTOCOL: dict[str, Any] = {"derivativesAllowed": True, "consentRequired": True, "commercialAllowed": False, "mlAllowed": False,
                            "attributionRequired": True, "restricted": False, "floorPpm": 125_000, "labels": 0,
                            "labelsVersion": 1, "season": 0}


def test_a_protocol_in_words_names_every_flag_and_the_floor() -> None:
    text = words.protocol(PROTOCOL)
    assert text == ("derivatives allowed; the stewards' consent required for each derivative; no commercial use; "
                    "no machine-learning use; attribution required; a community floor of 12.5 % on every derivative")
    seasonal = words.protocol(PROTOCOL | {"season": (3 << 24) | (21 << 16) | (6 << 8) | 20, "labels": 1 << 8})
    assert "derivatives only from 03-21 to 06-20 (UTC)" in seasonal and "Local Contexts labels 0x100 (version 1)" in seasonal


def test_a_heritage_registration_in_words() -> None:
    typed = {"message": {"communityId": 4, "protocol": PROTOCOL, "split": [{"account": "0xA", "ppm": 700_000},
                                                                          {"account": "0xB", "ppm": 300_000}],
                         "nonce": 2, "deadline": 1_800_000_000}}
    text = words.heritage(typed, title="Walking the west pass", community="Han folk singers", cid="bafk")
    assert "steward of Han folk singers (community #4)" in text and "«Walking the west pass» (content bafk)" in text
    assert "Income split: 70 % to 0xA, 30 % to 0xB." in text
    assert "valid until 2027-01-15 08:00:00 UTC and can be used once (nonce 2)" in text


def test_a_transaction_in_words_says_what_it_costs() -> None:
    tx = {"chainId": 31337, "nonce": 7, "value": 25 * 10**16, "gas": 100_000, "maxFeePerGas": 2 * 10**9}
    text = words.transaction(tx, words.payment(work=3, title="x", amount_wei=25 * 10**16), account="0xC")
    assert text.startswith("Pay 0.25 ETH to work #3 «x».")
    assert "A transaction from 0xC on chain 31337 (nonce 7). It sends 0.25 ETH from your account." in text
    assert "Network fee at most 0.0002 ETH (gas limit 100,000)." in text
    assert "It sends no ETH." in words.transaction(tx | {"value": 0}, "w", account="0xC")


@pytest.mark.parametrize(("approvals", "needed", "says"), [(0, 1, "this approval applies it"), (1, 2, "this approval applies it"),
                                                          (0, 3, "when 3 of the current stewards have approved it (0 so far, "
                                                                 "with yours 1)")])
def test_a_steward_change_says_when_it_applies(approvals: int, needed: int, says: str) -> None:
    text = words.steward_change(community="C", stewards=["0xA", "0xB"], threshold=2, treasury="0xT", approvals=approvals,
                                needed=needed)
    assert says in text and "2 of their 2 approvals govern it" in text


@pytest.mark.parametrize(("name", "given", "media"), [("song.abc", None, "text/vnd.abc"), ("song.abc", "application/octet-stream",
                                                                                          "text/vnd.abc"),
                                                      ("a.wav", "audio/x-wav", "audio/x-wav"), ("a.mid", "", "audio/midi"),
                                                      ("blob", None, "application/octet-stream")])
def test_a_files_media_type_from_its_name_where_the_browser_gives_none(name: str, given: str | None, media: str) -> None:
    assert media_of(name, given) == media
