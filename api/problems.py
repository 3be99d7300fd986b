"""One error format for every answer that is not a success: RFC 9457 problem details
(`application/problem+json`) with a named `code` a client can branch on.

Only this layer maps errors to HTTP statuses (STYLE.md): routes raise `Problem` or let a
`HeritageError` through, and the handlers below turn either into a problem document.
"""

from __future__ import annotations

from typing import Any

from eth_abi.exceptions import EncodingError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from web3.exceptions import Web3ValidationError

from api.jobs import QueueFull
from chain import signatures
from chain.errors import ContractRevert, ErrorDecoder
from chain.journal import NodeRefusal, refusal_of
from core.errors import ChainError, ContentStoreError, HeritageError, InputError, NodeUnavailable, UnknownCommunity, UnknownWork
from listening import errors as listening

MEDIA_TYPE = "application/problem+json"

# Contract errors that mean something to a client, with the status and code they get.
REVERTS: dict[str, tuple[int, str]] = {
    "RegistryContentAlreadyRegistered": (409, "already-registered"),
    "RegistryNotSteward": (403, "not-a-steward"),
    "RegistryUnknownWork": (404, "unknown-work"),
    "RegistryUnknownCommunity": (404, "unknown-community"),
    "RegistrySignatureExpired": (401, "signature-expired"),
    "RegistryInvalidSignature": (401, "signature-invalid"),
    "RegistryAncestorRestricted": (409, "work-restricted"),
    "RegistryDerivativesNotAllowed": (409, "protocol-forbids-derivatives"),
    "RegistryMachineLearningNotAllowed": (409, "protocol-forbids-ml"),
    "RegistryCommercialUseNotAllowed": (409, "protocol-forbids-commercial-use"),
    "RegistryFloorNotMet": (409, "floor-share-not-met"),
    "RouterWorkNotPayable": (409, "work-not-payable"),
    "RouterNothingToWithdraw": (409, "nothing-to-withdraw"),
    "StudyAttestationsUnknownWork": (404, "unknown-work"),
    "StudyAttestationsUnknownAttestation": (404, "unknown-attestation"),
    "TrainingSetsNotAnchored": (404, "no-training-set"),
}

# Platform errors by TYPE, with the status and code each gets; the first entry the error is an
# instance of wins, so a subclass stands before its base. Errors whose code is carried by the
# error itself (a node's refusal, a contract's named error, a full job queue) are mapped in
# `from_error`; everything else is here, and nothing is chosen from an error's message text.
BY_TYPE: tuple[tuple[type[HeritageError], int, str], ...] = (
    # the listening room (listening/errors.py), most specific first
    (listening.UnknownStudy, 404, "unknown-study"),
    (listening.StudyNotOpen, 409, "study-not-open"),
    (listening.StudyStateError, 409, "wrong-study-state"),
    (listening.AlreadyInStudy, 409, "already-in-study"),
    (listening.TokenExpired, 401, "token-expired"),
    (listening.InvalidToken, 401, "token-invalid"),
    (listening.NotPermitted, 403, "not-permitted"),
    (listening.NotARater, 403, "not-a-rater"),
    (listening.UnknownPiece, 404, "unknown-piece"),
    (listening.UnknownCriterion, 404, "unknown-criterion"),
    (listening.OffScale, 400, "off-scale"),
    (listening.AlreadyRated, 409, "already-rated"),
    (listening.IccError, 422, "icc-not-computable"),
    (listening.UnknownWorkLabels, 404, "unknown-work-labels"),
    (listening.RoundStateError, 409, "wrong-round-state"),
    (listening.ReviewConflict, 409, "review-conflict"),
    # steward signatures (chain/signatures.py)
    (signatures.WrongAction, 400, "wrong-action"),
    (signatures.WrongDomain, 400, "wrong-domain"),
    (signatures.WrongWork, 400, "wrong-work"),
    (signatures.SignatureMalformed, 400, "signature-malformed"),
    (signatures.SignatureExpired, 401, "signature-expired"),
    (signatures.SignatureReplayed, 409, "signature-replayed"),
    (signatures.SignatureInvalid, 401, "signature-invalid"),
    # the stages (core/errors.py)
    (UnknownWork, 404, "unknown-work"),
    (UnknownCommunity, 404, "unknown-community"),
    (InputError, 400, "invalid-input"),
    (ContentStoreError, 502, "content-store"),
    (NodeUnavailable, 503, "chain-unavailable"),
    (ChainError, 409, "chain-refused"),
)
LISTENING = tuple(row for row in BY_TYPE if issubclass(row[0], listening.ListeningError))
"""The listening room's rows of `BY_TYPE` (api/openapi.py documents them)."""


class Problem(Exception):
    """An answer with an HTTP status, a stable code, and a detail that says what to do."""

    def __init__(self, status: int, code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra
        self.headers = headers


def response(request: Request, status: int, code: str, detail: str, headers: dict[str, str] | None = None,
             **extra: Any) -> JSONResponse:
    body = {"type": f"urn:heritage-ledger:problem:{code}", "title": code.replace("-", " "), "status": status,
            "code": code, "detail": detail, "instance": str(request.url.path), **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def refusal(decoder: ErrorDecoder, err: Exception, what: str) -> Exception:
    """What a failed dry run of `what` becomes: the contract's named error, the chain error of a
    node that is gone, or a 409 with web3's message."""
    revert = decoder.from_exception(err)
    if revert is not None:
        return revert
    if isinstance(err, ChainError):
        return err
    named = refusal_of(err)  # the node's own refusal (insufficient funds, a value out of range, …)
    if named.code != "transaction-refused":
        return named
    return Problem(409, "transaction-refused", f"{what} would revert: {str(err)[:300]}")


# The node's refusals of a transaction (chain/journal.py: refusal_of), by code.
NODE_REFUSALS: dict[str, int] = {
    "transaction-replayed": 409, "nonce-too-low": 409, "nonce-too-high": 409, "insufficient-funds": 409,
    "fee-too-low": 409, "gas-too-low": 400, "gas-too-high": 400, "amount-out-of-range": 422, "transaction-refused": 409,
    "too-many-in-flight": 429,
}
RETRY_AFTER_S = 2
"""What a 503 (the node is down; the service is reconnecting or restarting it) tells a client."""


def from_error(err: HeritageError) -> Problem:
    """The problem a platform error becomes."""
    if isinstance(err, NodeRefusal):
        status = NODE_REFUSALS.get(err.code, 409)
        headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 429 else None
        return Problem(status, err.code, str(err), headers=headers)
    if isinstance(err, QueueFull):
        return Problem(429, "job-queue-full", str(err), headers={"Retry-After": str(err.retry_after_s)})
    if isinstance(err, ContractRevert):
        status, code = REVERTS.get(err.name, (409, "contract-refused"))
        return Problem(status, code, str(err), contract_error=err.name)
    for kind, status, code in BY_TYPE:
        if isinstance(err, kind):
            headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None
            return Problem(status, code, str(err), headers=headers)
    return Problem(500, "internal", str(err))


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return response(request, exc.status, exc.code, exc.detail, headers=exc.headers, **exc.extra)

    @app.exception_handler(HeritageError)
    async def _heritage(request: Request, exc: HeritageError) -> JSONResponse:
        p = from_error(exc)
        return response(request, p.status, p.code, p.detail, headers=p.headers, **p.extra)

    async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
        return response(request, 422, "value-out-of-range", f"a number does not fit the contract's type ({type(exc).__name__}: "
                        f"{str(exc)[:300]}); see /docs for each field's range")

    for kind in (Web3ValidationError, EncodingError, OverflowError):
        app.add_exception_handler(kind, _out_of_range)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(x) for x in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        first = errors[0] if errors else {"field": "?", "message": "invalid"}
        return response(request, 422, "invalid-request", f"{first['field']}: {first['message']}; see /docs for the fields",
                         errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "body-unreadable", 404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        detail = "no such resource; /docs lists them" if exc.status_code == 404 else str(exc.detail)
        return response(request, exc.status_code, code, detail, headers=dict(exc.headers or {}) or None)
