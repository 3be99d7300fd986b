"""Limits checked before any work is done on a request: the size of a JSON body (413 before more
of it is read), the shape and size of EIP-712 typed data (before any hashing), and the ranges of
numbers the contracts' ABI types can hold (422 naming the field, never an encoder's traceback)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems

UINT16_MAX = 2**16 - 1
UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1

WorkIdPath = Annotated[int, Path(ge=1, le=UINT256_MAX, description="A work id (uint256).")]
DisputeIdPath = Annotated[int, Path(ge=1, le=UINT256_MAX, description="A claim's dispute id (uint256).")]

TYPED_DATA_MAX_DEPTH = 6
TYPED_DATA_MAX_ITEMS = 2_000
TYPED_DATA_MAX_STRING = 4_096


UPLOADS = ("/content", "/content/cid")
"""Multipart paths, limited by api_max_upload_bytes instead."""


class BodyLimit:
    """Refuses a request body larger than `limit` bytes with 413: at once when Content-Length
    says so, else as soon as that many bytes have arrived; the rest is never read. Multipart
    uploads (POST /content, POST /content/cid) have their own, larger limit (api_max_upload_bytes)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH") or scope["path"] in UPLOADS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(scope, receive, send, length.decode(errors="replace"))
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
            if len(body) > self.limit:
                await self._refuse(scope, receive, send, f"more than {self.limit}")
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, size: str) -> None:
        from fastapi import Request

        response = problems.response(Request(scope), 413, "body-too-large",
                                     f"the body is {size} bytes; JSON bodies are limited to {self.limit} bytes "
                                     "(settings: api_max_json_bytes)", headers={"Connection": "close"})
        await response(scope, receive, send)


def check_typed_data(doc: Any, *, path: str = "typed_data", depth: int = 0, budget: list[int] | None = None) -> None:
    """Refuse (400 `typed-data-too-large` / `typed-data-malformed`) a typed-data document too deep,
    too big or of the wrong shape, before anything hashes it."""
    budget = budget if budget is not None else [TYPED_DATA_MAX_ITEMS]
    if depth == 0:
        if not isinstance(doc, dict) or not {"types", "domain", "primaryType", "message"} <= doc.keys():
            raise problems.Problem(400, "typed-data-malformed", "typed_data must be an EIP-712 document with types, domain, "
                                   "primaryType and message: send the draft's typed_data unchanged")
        if not isinstance(doc["types"], dict) or not isinstance(doc["message"], dict) or not isinstance(doc["domain"], dict):
            raise problems.Problem(400, "typed-data-malformed", "typed_data's types, domain and message must be objects")
    budget[0] -= 1
    if depth > TYPED_DATA_MAX_DEPTH or budget[0] < 0:
        raise problems.Problem(400, "typed-data-too-large", f"{path}: typed data deeper than {TYPED_DATA_MAX_DEPTH} or with "
                               f"more than {TYPED_DATA_MAX_ITEMS} values is not a draft of this service")
    if isinstance(doc, dict):
        for k, v in doc.items():
            check_typed_data(v, path=f"{path}.{k}", depth=depth + 1, budget=budget)
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            check_typed_data(v, path=f"{path}.{i}", depth=depth + 1, budget=budget)
    elif isinstance(doc, str) and len(doc) > TYPED_DATA_MAX_STRING:
        raise problems.Problem(400, "typed-data-too-large", f"{path}: a string of {len(doc)} characters")


def normalised_signature(signature: bytes) -> bytes:
    """A 65-byte signature with v = 0/1 (some wallets) as 27/28, which the contracts expect."""
    if len(signature) == 65 and signature[64] in (0, 1):
        return signature[:64] + bytes([signature[64] + 27])
    return signature
