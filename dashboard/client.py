"""A small typed client of the Heritage Ledger API: the only way the dashboard reaches the platform.

Every failure becomes an `ApiError` whose message says what went wrong and what to do: a
problem document (`application/problem+json`, with its `code` and `detail`) becomes an
`ApiProblem`; a service that cannot be reached becomes an `ApiUnavailable`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, cast

import httpx

from dashboard.schema import Audit, Community, CommunityPage, Health, Job, Lineage, Metrics, Payment, Work, WorkDetail, WorkPage

DEFAULT_URL = "http://127.0.0.1:8000"
ENV_URL = "HERITAGE_API_URL"
PAGE = 500  # the API's largest page


def api_url() -> str:
    """The API's base URL: `HERITAGE_API_URL`, else the address `heritage api` listens on by default."""
    return os.environ.get(ENV_URL, DEFAULT_URL).rstrip("/")


class ApiError(Exception):
    """The API did not give what was asked; `str(err)` is a message for the user."""


class ApiUnavailable(ApiError):
    """No answer at all: the service is down, the URL is wrong, or it timed out."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Cannot reach the Heritage Ledger API at {url} ({reason}). Start it with "
                         f"`heritage api --port 8000 --data-dir DIR`, or set {ENV_URL} to the address of a running "
                         "service, then reload this page.")
        self.url, self.reason = url, reason


class ApiProblem(ApiError):
    """An answer that is not a success, with the problem document's `code` and `detail`."""

    def __init__(self, method: str, path: str, status: int, code: str, detail: str) -> None:
        super().__init__(f"{method} {path} failed: {detail} (code `{code}`, HTTP {status})")
        self.method, self.path, self.status, self.code, self.detail = method, path, status, code, detail


@dataclass(frozen=True)
class Content:
    """Stored bytes and the media type the API gave them."""

    data: bytes
    media_type: str


class ApiClient:
    """Typed calls to the API; use as a context manager so the connection pool is closed."""

    def __init__(self, base_url: str, *, timeout: float = 15.0, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    @classmethod
    def from_env(cls) -> ApiClient:
        """A client of the API named by `HERITAGE_API_URL`."""
        return cls(api_url())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ transport
    def _send(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None) -> httpx.Response:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, params=query, json=json)
        except httpx.TimeoutException as err:
            raise ApiUnavailable(self.base_url, f"no answer to {method} {path} in time: {type(err).__name__}") from err
        except httpx.TransportError as err:
            raise ApiUnavailable(self.base_url, str(err) or type(err).__name__) from err
        if response.is_success:
            return response
        raise _problem(method, path, response)

    def _json(self, path: str, **params: Any) -> Any:
        return self._send("GET", path, params=params).json()

    # ------------------------------------------------------------------ catalogue
    def health(self) -> Health:
        return cast(Health, self._json("/health"))

    def metrics(self) -> Metrics:
        return cast(Metrics, self._json("/metrics"))

    def communities(self) -> list[Community]:
        """Every community (all pages)."""
        out: list[Community] = []
        while True:
            page = cast(CommunityPage, self._json("/communities", offset=len(out), limit=PAGE))
            out.extend(page["items"])
            if not page["items"] or len(out) >= page["total"]:
                return out

    def works(self, *, community: int | None = None, kind: str | None = None, status: str | None = None,
              offset: int = 0, limit: int = 50) -> WorkPage:
        """One page of the catalogue, filtered."""
        return cast(WorkPage, self._json("/works", community=community, kind=kind, status=status, offset=offset, limit=limit))

    def all_works(self, **filters: Any) -> list[Work]:
        """Every work matching the filters (all pages)."""
        out: list[Work] = []
        while True:
            page = self.works(offset=len(out), limit=PAGE, **filters)
            out.extend(page["items"])
            if not page["items"] or len(out) >= page["total"]:
                return out

    def work(self, work_id: int) -> WorkDetail:
        return cast(WorkDetail, self._json(f"/works/{work_id}"))

    def lineage(self, work_id: int) -> Lineage:
        return cast(Lineage, self._json(f"/works/{work_id}/lineage"))

    def audit(self, work_id: int) -> Audit:
        return cast(Audit, self._json(f"/works/{work_id}/audit"))

    def payments(self, work_id: int) -> list[Payment]:
        return cast(list[Payment], self._json(f"/works/{work_id}/payments"))

    def content(self, cid: str) -> Content:
        response = self._send("GET", f"/content/{cid}")
        media = response.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
        return Content(response.content, media)

    # ------------------------------------------------------------------ simulations
    def jobs(self, kind: str | None = "simulation") -> list[Job]:
        """Jobs, newest first."""
        return cast(list[Job], self._json("/jobs", kind=kind))

    def job(self, job_id: str) -> Job:
        return cast(Job, self._json(f"/jobs/{job_id}"))

    def start_simulation(self, scenario: dict[str, Any]) -> Job:
        """Queue a simulation of `scenario` (fields: economy/scenario.py); poll `job()` for its progress."""
        return cast(Job, self._send("POST", "/simulations", json={"scenario": scenario}).json())

    def simulation_files(self, job_id: str) -> list[str]:
        return cast(list[str], self._json(f"/simulations/{job_id}/files"))

    def simulation_file(self, job_id: str, name: str) -> bytes:
        return self._send("GET", f"/simulations/{job_id}/files/{name}").content

    def simulation_table(self, job_id: str, name: str) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self._json(f"/simulations/{job_id}/tables/{name}"))


def _problem(method: str, path: str, response: httpx.Response) -> ApiProblem:
    """The error an unsuccessful answer becomes; a body that is not a problem document still reads well."""
    code, detail = "http-error", response.reason_phrase or "no detail"
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = str(body.get("code") or code)
        detail = str(body.get("detail") or body.get("title") or detail)
    if response.status_code >= 500 and code == "http-error":
        detail += "; the service failed: see its log"
    return ApiProblem(method, path, response.status_code, code, detail)
