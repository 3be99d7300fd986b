"""api/problems.py maps platform errors to statuses by their TYPE, in one table: the message text
plays no part (a message may be reworded, or quote user input, without changing the status)."""

from __future__ import annotations

import pytest

from api.problems import BY_TYPE, from_error
from chain.journal import NodeRefusal
from core.errors import ChainError, ContentStoreError, HeritageError, InputError, NodeUnavailable, UnknownCommunity, UnknownWork
from listening.errors import UnknownStudy


@pytest.mark.parametrize(("err", "status", "code"), [
    (UnknownWork("anything at all"), 404, "unknown-work"),
    (UnknownCommunity("anything at all"), 404, "unknown-community"),
    (InputError("no work 5 in the index"), 400, "invalid-input"),  # the words of a 404 do not make one
    (ContentStoreError("does not match"), 502, "content-store"),
    (NodeUnavailable("gone"), 503, "chain-unavailable"),
    (ChainError("the node did not answer"), 409, "chain-refused"),  # only the type says "unavailable"
    (NodeRefusal("nonce-too-low", "x"), 409, "nonce-too-low"),
    (NodeRefusal("too-many-in-flight", "x"), 429, "too-many-in-flight"),
    (UnknownStudy("s"), 404, "unknown-study"),
    (HeritageError("unforeseen"), 500, "internal"),
])
def test_from_error_maps_by_type(err: HeritageError, status: int, code: str) -> None:
    p = from_error(err)
    assert (p.status, p.code, p.detail) == (status, code, str(err))
    assert ("Retry-After" in (p.headers or {})) == (status in (429, 503))


def test_a_subclass_stands_before_its_base() -> None:
    kinds = [kind for kind, _, _ in BY_TYPE]
    for i, kind in enumerate(kinds):
        for later in kinds[i + 1:]:
            assert not issubclass(later, kind) or later is kind, f"{later.__name__} is hidden behind {kind.__name__}"
