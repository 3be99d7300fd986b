"""A small typed client of the Heritage Ledger API: the only way the dashboard reaches the platform.

Every failure becomes an `ApiError` whose message says what went wrong and what to do: a
problem document (`application/problem+json`, with its `code` and `detail`) becomes an
`ApiProblem`; a service that cannot be reached becomes an `ApiUnavailable`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypedDict, cast
from urllib.parse import quote

import httpx

from dashboard.schema import Audit, Community, CommunityPage, Health, Job, Lineage, Metrics, Payment, Route, Work, WorkDetail, WorkPage

DEFAULT_URL = "http://127.0.0.1:8000"
ENV_URL = "HERITAGE_API_URL"
PAGE = 500  # the API's largest page
VISUAL_TIMEOUT = 180.0  # s: the first look at a long recording runs pYIN over it (later looks come from the API's cache)


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
    def _send(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
              headers: dict[str, str] | None = None, timeout: float | None = None) -> httpx.Response:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, params=query, json=json, headers=headers,
                                          timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout)
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

    def ledger(self) -> dict[str, Any]:
        """The real ledger from usage statements: per-period fairness and settlement latency."""
        return cast(dict[str, Any], self._json("/statements/ledger"))

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

    def route(self, work_id: int, amount_wei: int) -> Route:
        """How `amount_wei` paid to the work is credited through its lineage (the API computes it)."""
        return cast(Route, self._json(f"/works/{work_id}/route", amount_wei=amount_wei))

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

    def tuning_front(self) -> dict[str, Any] | None:
        """The latest `heritage tune economy` study (every trial, the rule, the chosen point), or None."""
        try:
            return cast(dict[str, Any], self._json("/tuning/economy"))
        except ApiProblem as err:
            if err.code == "no-tuning-study":
                return None
            raise

    # ------------------------------------------------------------------ visualisation
    def traditions(self) -> list[Grid]:
        """The traditions whose tuning grids the visualisation can draw."""
        return cast(list[Grid], self._json("/visual/traditions"))

    def visual(self, work_id: int, *, tradition: str | None = None, tonic_hz: float | None = None,
               columns: int | None = None) -> Visual:
        """A recording's waveform, spectrogram, pitch against a tuning grid, band amplitudes and fractal dimension."""
        params = {"tradition": tradition, "tonic_hz": tonic_hz, "columns": columns}
        return cast(Visual, self._send("GET", f"/works/{work_id}/visual", params=params, timeout=VISUAL_TIMEOUT).json())

    # ------------------------------------------------------------------ listening studies
    def study(self, study_id: str, token: str) -> Study:
        """A study as its researcher sees it (a researcher token)."""
        return cast(Study, self._send("GET", _study(study_id), headers=_bearer(token)).json())

    def next_piece(self, study_id: str, token: str) -> NextPiece:
        """A rater's next piece, progress and criteria (a rater token)."""
        return cast(NextPiece, self._send("GET", _study(study_id, "next"), headers=_bearer(token)).json())

    def rate(self, study_id: str, token: str, piece: str, values: dict[str, int]) -> RatingsStored:
        """A rater's ratings of one piece: all stored, or none."""
        return cast(RatingsStored, self._send("POST", _study(study_id, "ratings"), headers=_bearer(token),
                                              json={"piece": piece, "values": values}).json())

    def study_results(self, study_id: str, token: str, *, membership: str | None = None) -> Results:
        """Per criterion and condition n, mean ± SD, approval, ICC(2,1)/ICC(2,k); restricted works'
        ratings only with a member token of their community (`membership`)."""
        headers = _bearer(token) | ({"X-Heritage-Membership": membership} if membership else {})
        return cast(Results, self._send("GET", _study(study_id, "results"), headers=headers).json())

    def study_table(self, study_id: str, token: str, layout: str, *, criteria: list[str] | None = None,
                    membership: str | None = None) -> StudyTable:
        """A seed study's table (authenticity | criteria | satisfaction) rebuilt from this study."""
        headers = _bearer(token) | ({"X-Heritage-Membership": membership} if membership else {})
        return cast(StudyTable, self._send("GET", _study(study_id, "tables", layout), params={"criteria": criteria or None},
                                           headers=headers).json())

    def invite(self, study_id: str, token: str, *, valid_for_s: int | None = None) -> Invitation:
        """Invite an anonymous rater: a signed token for a link."""
        body = {} if valid_for_s is None else {"valid_for_s": valid_for_s}
        return cast(Invitation, self._send("POST", _study(study_id, "invitations"), headers=_bearer(token), json=body).json())

    def store_results(self, study_id: str, token: str) -> Snapshot:
        """Store the public analysis by CID; the summary to attest on chain."""
        return cast(Snapshot, self._send("POST", _study(study_id, "results"), headers=_bearer(token)).json())

    def attest(self, study_id: str, token: str) -> dict[str, Any]:
        """Anchor a closed study's results on chain (the service signs in demo mode; otherwise a draft)."""
        return cast(dict[str, Any], self._send("POST", _study(study_id, "attestation"), headers=_bearer(token), json={}).json())

    def attestations(self, study_id: str, token: str) -> dict[str, Any]:
        """Every attestation of the study's results, each re-checked against the store and the chain."""
        return cast(dict[str, Any], self._send("GET", _study(study_id, "attestation"), headers=_bearer(token)).json())


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _study(study_id: str, *parts: str) -> str:
    return "/".join(["/studies", quote(study_id, safe=""), *parts])


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


# ---------------------------------------------------------------------- answers of /visual and /studies
# (the TypedDicts of the other routes are in schema.py)
class Degree(TypedDict):
    name: str
    cents: float


class Grid(TypedDict):
    tradition: str | None
    title: str
    tonic_hz: float
    period_cents: float
    degrees: list[Degree]


class Waveform(TypedDict):
    times_s: list[float]
    minimum: list[float]
    maximum: list[float]


class Spectrogram(TypedDict):
    times_s: list[float]
    mel_hz: list[float]
    db: list[list[float]]  # (mel bands × times), dB relative to the loudest bin
    n_fft: int
    hop_length: int
    top_db: float


class Pitch(TypedDict):
    times_s: list[float]
    f0_hz: list[float | None]
    voiced_probability: list[float]
    frame_length: int
    hop_length: int
    fmin_hz: float
    fmax_hz: float
    cents: list[float | None]
    degree: list[int | None]
    deviation_cents: list[float | None]
    voiced_share: float
    median_abs_deviation_cents: float | None


class Band(TypedDict):
    low_hz: float
    high_hz: float
    centre_hz: float
    label: str


class Bands(TypedDict):
    times_s: list[float]
    bands: list[Band]
    db: list[list[float]]  # (bands × times), dB relative to full scale
    filter: str


class Fractal(TypedDict):
    times_s: list[float]
    katz: list[float | None]
    higuchi: list[float | None]
    frame_length: int
    hop_length: int
    kmax: int


class Visual(TypedDict):
    work_id: int
    content_cid: str
    cached: bool
    sample_rate: int
    source_rate: int
    duration_s: float
    analysed_s: float
    columns: int
    grid: Grid
    waveform: Waveform
    spectrogram: Spectrogram
    pitch: Pitch
    bands: Bands
    fractal: Fractal


class Scale(TypedDict):
    min: int
    max: int
    labels: list[str]


class Criterion(TypedDict):
    name: str
    prompt: str
    scale: Scale
    approval_threshold: int | None


class StudyPiece(TypedDict):
    cid: str
    condition: str
    work_id: int | None
    reference: bool
    restricted_community_id: int | None


class Study(TypedDict):
    study_id: str
    title: str
    instructions: str
    blind: bool
    randomise: bool
    state: str  # draft | open | closed
    created_at: str
    pieces: list[StudyPiece]
    criteria: list[Criterion]
    raters: int
    ratings: int


class PieceView(TypedDict):
    cid: str
    work_id: int | None  # null in a blind study
    condition: str | None  # null in a blind study


class NextPiece(TypedDict):
    study_id: str
    title: str
    instructions: str
    done: int
    total: int
    position: int | None
    piece: PieceView | None
    criteria: list[Criterion]
    references: list[PieceView]


class RatingsStored(TypedDict):
    study_id: str
    piece: str
    values: dict[str, int]
    rated_at: str


class PieceRow(TypedDict):
    cid: str
    work_id: int | None
    condition: str
    criterion: str
    n: int
    mean: float | None
    sd: float | None
    approval: float | None


class Results(TypedDict):
    analysis: dict[str, Any]  # listening.analysis.StudyAnalysis as JSON
    cid: str
    pieces: list[PieceRow]
    withheld_pieces: int


class StudyTable(TypedDict):
    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str
    markdown: str


class Invitation(TypedDict):
    study_id: str
    rater_id: str
    kind: str
    token: str
    link: str
    expires: str


class Snapshot(TypedDict):
    cid: str
    size: int
    attestation: dict[str, Any]
