"""The API's JSON answers as the dashboard reads them (a subset of /openapi.json).

Amounts in wei arrive as decimal strings where the API sends strings (JSON numbers lose
precision past 2^53) and are turned into `int` before any arithmetic; never into floats.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class Health(TypedDict):
    status: str
    chain_id: int
    block: int
    index_block: int
    registry: str
    router: str
    relayer: str
    demo: bool


class Community(TypedDict):
    community_id: int
    name: str
    stewards: list[str]
    threshold: int
    treasury: str
    epoch: int
    works: int


class CommunityPage(TypedDict):
    total: int
    offset: int
    limit: int
    index_block: int
    items: list[Community]


class Work(TypedDict):
    work_id: int
    kind: str  # heritage | restricted | derivative
    registrant: str
    block: int
    timestamp: int
    community_id: int | None
    content_cid: str | None
    manifest_cid: str | None
    parents: list[int]
    parent_ppms: list[int]
    roots: list[int]
    status: str  # pending | active | restricted | rejected | none
    commercial: bool
    model_cid: str | None
    disputed: bool
    claim: int | None
    payments: int
    paid_wei: int


class WorkPage(TypedDict):
    total: int
    offset: int
    limit: int
    index_block: int
    items: list[Work]


class WorkDetail(Work):
    ancestors: list[int]
    communities: list[int]
    manifest: dict[str, Any] | None


class LineageNode(TypedDict):
    work_id: int
    kind: str
    status: str
    community_id: int | None
    content_cid: str | None
    disputed: bool
    model_made: bool


class LineageEdge(TypedDict):
    child: int
    parent: int
    ppm: int


class Lineage(TypedDict):
    work_id: int
    nodes: list[LineageNode]
    edges: list[LineageEdge]


class RouteShare(TypedDict):
    work_id: int
    received_wei: str
    kept_wei: str


class CommunityCredit(TypedDict):
    community_id: int
    works: int
    received_wei: str


class TrainingSetCredit(TypedDict):
    model: int
    kept_wei: str
    set_wei: str
    works: int
    communities: list[CommunityCredit]


class Route(TypedDict):
    """GET /works/{id}/route: a payment credited through the lineage by the router's rule, and each
    anchored training set's share by community."""

    work_id: int
    amount_wei: str
    shares: list[RouteShare]
    training_sets: list[TrainingSetCredit]


class AuditCheck(TypedDict):
    check: str
    ok: bool
    detail: str


class Audit(TypedDict):
    work: int
    kind: str
    status: str
    content_cid: str
    roots: list[int]
    ok: bool
    checks: list[AuditCheck]


class Payment(TypedDict):
    work_id: int
    block: int
    timestamp: int
    payer: str
    token: str
    amount: str
    usage_ref: str
    usage_time: int
    tx: str


class Metrics(TypedDict):
    index_block: int
    communities: int
    works: int
    by_kind: dict[str, int]
    by_status: dict[str, int]
    payments: int
    paid_wei: str
    paid_wei_by_community: dict[str, str]
    credited_wei_by_community: NotRequired[dict[str, str]]
    jobs: dict[str, int]


class Job(TypedDict):
    job_id: str
    kind: str
    params: dict[str, Any]
    status: str  # queued | running | done | failed | interrupted
    stage: str
    done: int
    total: int
    created: float
    started: float | None
    finished: float | None
    result: dict[str, Any] | None
    error: str | None
