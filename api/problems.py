"""One error format for every answer that is not a success: RFC 9457 problem details
(`application/problem+json`) with a named `code` a client can branch on.

Only this layer maps errors to HTTP statuses (STYLE.md): routes raise `Problem` or let a
`HeritageError` through, and the handlers below turn either into a problem document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from chain.errors import ContractRevert, ErrorDecoder
from core.errors import ChainError, ContentStoreError, HeritageError, InputError
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
}

# Refusals of the listening room (listening/errors.py), most specific first; the rest: invalid-input.
LISTENING: tuple[tuple[type[listening.ListeningError], int, str], ...] = (
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
)


class Problem(Exception):
    """An answer with an HTTP status, a stable code, and a detail that says what to do."""

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra


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
    return Problem(409, "transaction-refused", f"{what} would revert: {err}")


def from_error(err: HeritageError) -> Problem:
    """The problem a platform error becomes."""
    if isinstance(err, ContractRevert):
        status, code = REVERTS.get(err.name, (409, "contract-refused"))
        return Problem(status, code, str(err), contract_error=err.name)
    for kind, status, code in LISTENING:
        if isinstance(err, kind):
            return Problem(status, code, str(err))
    if isinstance(err, InputError):
        text = str(err)
        if text.startswith(("no work", "no community")):
            return Problem(404, "unknown-work" if text.startswith("no work") else "unknown-community", text)
        return Problem(400, "invalid-input", text)
    if isinstance(err, ContentStoreError):
        return Problem(422 if "does not match" in str(err) else 502, "content-store", str(err))
    if isinstance(err, ChainError):
        return Problem(503 if "answer" in str(err) else 409, "chain-unavailable" if "answer" in str(err) else "chain-refused", str(err))
    return Problem(500, "internal", str(err))


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return response(request, exc.status, exc.code, exc.detail, **exc.extra)

    @app.exception_handler(HeritageError)
    async def _heritage(request: Request, exc: HeritageError) -> JSONResponse:
        p = from_error(exc)
        return response(request, p.status, p.code, p.detail, **p.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(x) for x in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        first = errors[0] if errors else {"field": "?", "message": "invalid"}
        return response(request, 422, "invalid-request", f"{first['field']}: {first['message']}; see /docs for the fields",
                         errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        detail = "no such resource; /docs lists them" if exc.status_code == 404 else str(exc.detail)
        return response(request, exc.status_code, code, detail)
