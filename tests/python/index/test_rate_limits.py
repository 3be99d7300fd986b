"""The API's rate limiter counts in the index's database (api/shared.py), on both backends: every
worker counts together, a refusal is not counted, the window slides, and many processes at once
are allowed no more than the limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from api.shared import RateLimiter
from chain.indexer import Index


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_limit_is_shared_and_slides(index_url: str) -> None:
    clock = Clock(600_000.0)  # the start of a minute
    workers = [RateLimiter(5, Index(index_url).engine, clock=clock) for _ in range(2)]
    assert [workers[i % 2].allow("10.0.0.1") for i in range(5)] == [None] * 5
    wait = workers[1].allow("10.0.0.1")
    assert wait is not None and 0 < wait <= 60, "the second worker sees the first one's writes"
    assert workers[0].allow("10.0.0.2") is None, "another client has its own count"
    assert workers[0].allow("10.0.0.1") is not None, "a refusal is not counted, and does not reset anything"
    clock.now += 60 + 30  # half of the last minute still lies in the window: 5 × 0.5 = 2.5 counted
    answers = [workers[0].allow("10.0.0.1") for _ in range(3)]
    assert answers[:2] == [None, None] and answers[2] is not None, answers
    clock.now += 120
    assert workers[1].allow("10.0.0.1") is None, "two minutes later, nothing counts"


@pytest.mark.parametrize("limit", [1, 25])
def test_concurrent_writers_get_no_more_than_the_limit(index_url: str, limit: int) -> None:
    clock = Clock(1_200_000.0)
    engines = [Index(index_url).engine for _ in range(4)]
    limiters = [RateLimiter(limit, e, clock=clock) for e in engines]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: limiters[i % 4].allow("203.0.113.9"), range(60)))
    assert sum(a is None for a in answers) == limit
