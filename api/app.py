"""The FastAPI application: `create_app(settings)`; served by `heritage api`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api import openapi, problems
from api.limits import BodyLimit
from api.routes import approvals as approval_routes
from api.routes import claims, demo, drafts, models, reads, session, simulations, statements, studies, transactions, visual, writes
from api.routes import jobs as job_routes
from api.routes import tokens as token_routes
from api.state import ApiState
from core.config import Settings

DESCRIPTION = """Heritage Ledger's service: the catalogue, lineage, payments and audits of
intangible-heritage works, read from the chain's event index; writes authorised by Ethereum
signatures (EIP-712 for stewards, users' own signed transactions for the rest) and relayed to
the chain. Errors are `application/problem+json` with a named `code`."""


class WriteLimits:
    """Rate limit on writes per client address, and the upload size checked before the body is
    read. Plain ASGI (not BaseHTTPMiddleware): reads pass through at the cost of one comparison."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH", "DELETE"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        state: ApiState = scope["app"].state.heritage
        client = request.client.host if request.client else "unknown"
        refusal = None
        if (wait := state.limiter.allow(client)) is not None:
            refusal = problems.response(request, 429, "rate-limited", f"more than {state.limiter.per_minute} writes a minute "
                                        f"from {client}; retry in {wait:.0f} s", headers={"Retry-After": str(int(wait) + 1)})
        length = request.headers.get("content-length")
        limit = state.settings.api_max_upload_bytes
        if refusal is None and scope["path"] == "/content" and length is not None and int(length) > limit + 64 * 1024:
            refusal = problems.response(request, 413, "upload-too-large", f"{length} bytes is larger than {limit} "
                                        "(settings: api_max_upload_bytes)")
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.heritage = ApiState(settings)
        try:
            yield
        finally:
            app.state.heritage.close()

    app = FastAPI(title="Heritage Ledger", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    problems.install(app)
    app.add_middleware(WriteLimits)
    app.add_middleware(BodyLimit, limit=settings.api_max_json_bytes)  # outermost: nothing reads a body past the limit
    for module in (reads, writes, transactions, claims, simulations, demo, studies, visual, statements, drafts, session, models,
                   approval_routes, token_routes, job_routes):
        app.include_router(module.router)
    openapi.install(app)
    return app
