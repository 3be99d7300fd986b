"""The OpenAPI document tells the truth about errors: every operation lists the problem responses
(`application/problem+json`, RFC 9457) it can answer, each status with the codes behind it.

The codes come from the operation's own code: the `Problem(status, "code", …)` raised in its
endpoint and in the module's helpers it calls (read from the source), plus what the layers around
it answer: validation (422), the body limit (413), the write rate limit (429), the node's
refusals and absence (409, 503) for an operation that reaches the chain, and the platform errors
`api/problems.py` maps (unknown work or community, contract reverts, listening-room refusals).
"""

from __future__ import annotations

import inspect
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api import problems
from chain.signatures import SignatureError

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details with a stable `code` to branch on.",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "code": {"type": "string"}, "detail": {"type": "string"}, "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
_RAISED = re.compile(r'Problem\(\s*(\d{3}),\s*f?"([a-z0-9-]+)"')
_CALLED = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\(")
_QUALIFIED = re.compile(r"\b([a-z_][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\(")


def _source(fn: Callable[..., Any]) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return ""


def _reached(endpoint: Callable[..., Any]) -> str:
    """The source of `endpoint` and of every function of the api package it calls (the route
    module's helpers, api/relay.py, api/stewards.py, …), transitively."""
    seen: set[tuple[str, str]] = set()
    texts: list[str] = []
    todo = [endpoint]

    def visit(target: Any) -> None:
        if inspect.isfunction(target) and target.__module__.startswith("api."):
            key = (target.__module__, target.__qualname__)
            if key not in seen:
                seen.add(key)
                todo.append(target)

    while todo:
        fn = todo.pop()
        text = _source(fn)
        texts.append(text)
        scope = getattr(fn, "__globals__", {})
        for name in _CALLED.findall(text):
            visit(scope.get(name))
        for module_name, attr in _QUALIFIED.findall(text):  # `relay.dry_run(…)`: a module of the api package
            module = scope.get(module_name)
            if inspect.ismodule(module):
                visit(getattr(module, attr, None))
    return "\n".join(texts)


def _dependencies(dependant: Any) -> list[Callable[..., Any]]:
    """The functions FastAPI calls before the endpoint (its `Depends`), transitively."""
    out: list[Callable[..., Any]] = []
    for dep in getattr(dependant, "dependencies", []):
        if callable(dep.call):
            out.append(dep.call)
        out += _dependencies(dep)
    return out


def codes_of(route: APIRoute) -> dict[int, set[str]]:
    """Each status the operation can answer with a problem, and its codes."""
    text = _reached(route.endpoint) + "".join(_reached(call) for call in _dependencies(route.dependant))
    out: dict[int, set[str]] = defaultdict(set)
    for status, code in _RAISED.findall(text):
        out[int(status)].add(code)
    if (route.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}:
        out[413].add("body-too-large")
        out[429].add("rate-limited")
    if route.path == "/content" and "POST" in (route.methods or set()):
        out[413].add("upload-too-large")
    if "store" in text:
        out[502].add("content-store")
        out[422].add("content-store")
    if any(k in text for k in ("state.chain", "catalogue(", "state.events", "state.view", "state.relayer")):
        out[503].add("chain-unavailable")
        out[409].add("chain-refused")
        out[400].add("invalid-input")
        out[404].update(("unknown-work", "unknown-community"))
        out[422].add("value-out-of-range")
    if any(k in text for k in ("_relay(", ".relay(", "chain.send(", "_dry_run(", "refusal(", ".call(")):
        out[409].update(("contract-refused", "transaction-refused"))
        for status, code in problems.REVERTS.values():
            out[status].add(code)
        for code, status in problems.NODE_REFUSALS.items():
            out[status].add(code)
    if "verify_signed(" in text or "check_current(" in text:  # chain/signatures.py's typed refusals
        for kind, status, code in problems.BY_TYPE:
            if issubclass(kind, SignatureError):
                out[status].add(code)
    if "state.jobs" in text:
        out[429].add("job-queue-full")
        out[404].add("unknown-job")
    if any(k in text for k in ("study", "studies", "listening", "rater", "round")):
        for _, status, code in problems.LISTENING:
            out[status].add(code)
    if "{" in route.path:
        out[404].add("not-found")
    return dict(out)


def _api_routes(routes: Any) -> list[APIRoute]:
    """The API routes, also those of included routers (FastAPI keeps them behind a wrapper; the
    routers here are included without a prefix)."""
    out: list[APIRoute] = []
    for r in routes:
        if isinstance(r, APIRoute):
            out.append(r)
        elif (inner := getattr(r, "original_router", None)) is not None:
            out += _api_routes(inner.routes)
    return out


def install(app: FastAPI) -> None:
    """Replace the app's OpenAPI document by one with every operation's problem responses."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        doc.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        ref = {"$ref": "#/components/schemas/Problem"}
        for route in _api_routes(app.routes):
            if not route.include_in_schema:
                continue
            for method in route.methods or ():
                op = doc["paths"].get(route.path_format, {}).get(method.lower())
                if op is None:
                    continue
                codes = codes_of(route)
                responses = op.setdefault("responses", {})
                if op.get("parameters") or op.get("requestBody"):
                    codes.setdefault(422, set()).add("invalid-request")
                if op.get("requestBody"):
                    codes.setdefault(400, set()).add("body-unreadable")
                for status, names in sorted(codes.items()):
                    entry = responses.setdefault(str(status), {})
                    entry["description"] = "Problem codes: " + ", ".join(sorted(names))
                    entry["content"] = {problems.MEDIA_TYPE: {"schema": ref}}
                    if status in (429, 503):
                        entry["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
