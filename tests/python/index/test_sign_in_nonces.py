"""A signed Sign-In with Ethereum message opens one session across the API's workers: the used
nonces live in the index's database (api/shared.py `UsedNonces`), on both backends. Two workers
are two `Sessions` over two engines of one database; the attacker replays the captured message
to the other worker, and then many times at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from api.shared import UsedNonces
from api.siwe import SessionRefused, Sessions
from chain.indexer import Index

KEY = Account.create()


def _signed(sessions: Sessions) -> tuple[str, str]:
    text, _ = sessions.challenge(KEY.address, domain="127.0.0.1:8000", uri="http://127.0.0.1:8000/")
    return text, Account.sign_message(encode_defunct(text=text), KEY.key).signature.hex()


def _workers(index_url: str, tmp_path: Path, n: int) -> list[Sessions]:
    return [Sessions.in_dir(tmp_path, 31337, UsedNonces(Index(index_url).engine).spend) for _ in range(n)]


def test_a_sign_in_message_opens_one_session_whichever_worker_it_reaches(index_url: str, tmp_path: Path) -> None:
    first, second = _workers(index_url, tmp_path, 2)
    message, signature = _signed(first)
    address, token, _ = first.sign_in(message, signature)
    assert address == KEY.address and second.holder(token)[0] == KEY.address  # one secret: sessions hold everywhere
    with pytest.raises(SessionRefused, match="used already"):
        second.sign_in(message, signature)  # the replay to the other worker
    fresh, signature2 = _signed(second)
    assert second.sign_in(fresh, signature2)[0] == KEY.address  # a new challenge still works


def test_a_burst_of_replays_opens_one_session(index_url: str, tmp_path: Path) -> None:
    workers = _workers(index_url, tmp_path, 4)
    message, signature = _signed(workers[0])

    def attempt(i: int) -> bool:
        try:
            workers[i % 4].sign_in(message, signature)
        except SessionRefused:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(attempt, range(16))) == 1
