"""chain/signatures.py's checks of a signed steward action, each refusal a named type (the API maps
them to statuses by type: api/problems.py). No node: the checks that need chain state take the
clock and the nonce as arguments."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest
from eth_account import Account

from chain.signatures import (
    Domain,
    SignatureError,
    SignatureExpired,
    SignatureInvalid,
    SignatureMalformed,
    SignatureReplayed,
    Signed,
    WrongAction,
    WrongDomain,
    WrongWork,
    check_current,
    disputes_domain,
    sign,
    typed_data,
    verify_signed,
)
from core.errors import InputError

STEWARD, OTHER = Account.from_key("0x" + "11" * 32), Account.from_key("0x" + "22" * 32)
DOMAIN = Domain(31337, "0x" + "ab" * 20)
DOC = typed_data(DOMAIN, "ApproveDerivative", {"workId": 7, "communityId": 1, "nonce": 3, "deadline": 1_000})


def _verify(doc: dict[str, Any], signature: bytes, **overrides: Any) -> Signed:
    kwargs: dict[str, Any] = {"action": "ApproveDerivative", "domain": DOMAIN, "claimed": STEWARD.address, "work_id": 7}
    return verify_signed(doc, signature, **{**kwargs, **overrides})


GOOD = sign(DOC, STEWARD.key)


@pytest.mark.parametrize(("doc", "signature", "overrides", "outcome"), [
    (DOC, GOOD, {}, nullcontext()),
    (DOC, GOOD, {"work_id": None}, nullcontext()),
    (DOC, sign(DOC, OTHER.key), {}, pytest.raises(SignatureInvalid)),  # another key
    (DOC, GOOD, {"claimed": OTHER.address}, pytest.raises(SignatureInvalid)),
    (DOC, GOOD, {"action": "RejectDerivative"}, pytest.raises(WrongAction)),
    (DOC, GOOD, {"domain": Domain(1, DOMAIN.registry)}, pytest.raises(WrongDomain)),  # another chain
    (DOC, GOOD, {"domain": disputes_domain(31337, DOMAIN.registry)}, pytest.raises(WrongDomain)),
    (DOC, GOOD, {"work_id": 8}, pytest.raises(WrongWork)),
    (DOC, GOOD[:-1], {}, pytest.raises(SignatureMalformed)),
    (DOC, b"\0" * 65, {}, pytest.raises(SignatureMalformed)),
    ({**DOC, "message": {**DOC["message"], "workId": 8}}, GOOD, {"work_id": 8}, pytest.raises(SignatureInvalid)),  # edited
])
def test_verify_signed(doc: dict[str, Any], signature: bytes, overrides: dict[str, Any],
                       outcome: AbstractContextManager[Any]) -> None:
    with outcome:
        signed = _verify(doc, signature, **overrides)
        assert (signed.signer, signed.nonce, signed.deadline) == (STEWARD.address, 3, 1_000)


@pytest.mark.parametrize(("now", "nonce", "outcome"), [
    (1_000, 3, nullcontext()),  # the deadline's own second still counts
    (1_001, 3, pytest.raises(SignatureExpired)),
    (999, 4, pytest.raises(SignatureReplayed)),  # the nonce was used: a replay
    (999, 2, pytest.raises(SignatureInvalid)),  # a nonce ahead of the signer's
])
def test_check_current(now: int, nonce: int, outcome: AbstractContextManager[Any]) -> None:
    with outcome:
        check_current(_verify(DOC, GOOD), now=now, nonce=nonce)


def test_every_refusal_is_an_input_error_the_api_maps_by_type() -> None:
    from api.problems import BY_TYPE, from_error

    for kind in (WrongAction, WrongDomain, WrongWork, SignatureMalformed, SignatureInvalid, SignatureExpired, SignatureReplayed):
        assert issubclass(kind, SignatureError) and issubclass(kind, InputError)
        assert any(k is kind for k, _, _ in BY_TYPE), kind
    assert (from_error(SignatureReplayed("x")).status, from_error(SignatureReplayed("x")).code) == (409, "signature-replayed")
    assert from_error(SignatureExpired("x")).code == "signature-expired"
