"""A study's results: per criterion and per condition/model, n, mean ± SD, approval shares and
inter-rater reliability (ICC(2,1), ICC(2,k), ICC(3,·) with confidence intervals, `listening.icc`).

Reliability uses the pieces as targets and the raters as raters. Only complete rows enter the
table: a piece that some rater of that criterion has not rated is dropped, and the result says
how many were. Reference pieces are not rated and so not analysed.

Restricted works: ratings of a piece that carries `restricted_community_id` are only ever shown
to members of that community. `analyse(..., member_of=...)` leaves out of every figure the pieces
of communities the caller is not a member of, and counts them in `withheld_pieces`: an aggregate
over one such piece would show its ratings as surely as a per-piece row. The result meant to be
stored and attested publicly is the one computed with `member_of=()`.

`StudyAnalysis.to_json()` is canonical JSON (sorted keys, no whitespace, UTF-8), so the same
ratings always give the same bytes and the same CID. Storing those bytes by CID and anchoring
`summary_for_attestation(result)` on chain (linked to the rated works' ids) is the caller's job:
this module neither stores nor signs anything. `listening.tables` rebuilds the seed studies'
tables from a result.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from listening.errors import IccError, UnknownCriterion
from listening.icc import Icc, icc
from listening.model import Piece, Rating, Study

SCHEMA = "heritage-ledger/listening-analysis"
ATTESTATION_SCHEMA = "heritage-ledger/listening-attestation"
VERSION = 1


@dataclass(frozen=True)
class Summary:
    """Descriptive statistics of a set of ratings: `sd` is the sample SD (n − 1), None below two
    ratings; `approval` the share of ratings ≥ the criterion's approval threshold (None without one)."""

    n: int
    mean: float | None
    sd: float | None
    approval: float | None


@dataclass(frozen=True)
class Estimate:
    value: float
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class Reliability:
    """ICCs of the complete pieces × raters table; `note` says why they are None when they are."""

    targets: int
    raters: int
    dropped_targets: int
    icc2_1: Estimate | None
    icc2_k: Estimate | None
    icc3_1: Estimate | None
    icc3_k: Estimate | None
    note: str


@dataclass(frozen=True)
class ConditionResult:
    condition: str
    pieces: int
    summary: Summary
    reliability: Reliability


@dataclass(frozen=True)
class CriterionResult:
    name: str
    scale_min: int
    scale_max: int
    approval_threshold: int | None
    summary: Summary
    reliability: Reliability
    conditions: tuple[ConditionResult, ...]


@dataclass(frozen=True)
class StudyAnalysis:
    schema: str
    version: int
    study_id: str
    title: str
    state: str
    blind: bool
    confidence: float
    pieces: int
    raters: int
    ratings: int
    withheld_pieces: int
    work_ids: tuple[int, ...]
    criteria: tuple[CriterionResult, ...]

    def criterion(self, name: str) -> CriterionResult:
        for c in self.criteria:
            if c.name == name:
                return c
        raise UnknownCriterion(f"the results of study {self.study_id} have no criterion {name!r}; they have: "
                               f"{', '.join(c.name for c in self.criteria) or 'none'}")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def to_json(self) -> bytes:
        """Canonical JSON bytes: store them by CID (the same ratings always give the same CID)."""
        return canonical(self.to_dict())


def canonical(doc: object) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def summarise(values: Sequence[int], threshold: int | None) -> Summary:
    if not values:
        return Summary(n=0, mean=None, sd=None, approval=None)
    x = np.sort(np.asarray(values, dtype=np.float64))  # sorted: the same sums, to the last bit, whatever the order given
    return Summary(n=len(x), mean=float(x.mean()), sd=float(x.std(ddof=1)) if len(x) > 1 else None,
                   approval=None if threshold is None else float((x >= threshold).mean()))


def _estimate(i: Icc) -> Estimate:
    def finite(v: float) -> float | None:
        return v if math.isfinite(v) else None

    return Estimate(value=i.value, ci_low=finite(i.ci_low), ci_high=finite(i.ci_high))


def reliability(pieces: Sequence[Piece], ratings: Sequence[Rating], *, confidence: float) -> Reliability:
    """ICCs of one criterion's ratings of `pieces` (targets) by every rater who rated any of
    them; pieces missing any of those raters' ratings are dropped."""
    raters = sorted({r.rater_id for r in ratings})
    cells = {(r.piece_cid, r.rater_id): r.value for r in ratings}
    complete = [p for p in pieces if all((p.cid, q) in cells for q in raters)]
    dropped = len(pieces) - len(complete)
    table = np.array([[cells[(p.cid, q)] for q in raters] for p in complete], dtype=np.float64).reshape(len(complete), len(raters))

    def missing(note: str) -> Reliability:
        return Reliability(targets=len(complete), raters=len(raters), dropped_targets=dropped, icc2_1=None, icc2_k=None,
                           icc3_1=None, icc3_k=None, note=note)

    try:
        r = icc(table, confidence=confidence)
    except IccError as err:
        return missing(f"{err}" + (f" ({dropped} of {len(pieces)} pieces dropped for a missing rating)" if dropped else ""))
    if not all(math.isfinite(v.value) for v in (r.icc2_1, r.icc2_k, r.icc3_1, r.icc3_k)):
        return missing("the ICC(2,k) estimator broke down (error variance far above the variance between pieces)")
    return Reliability(targets=len(complete), raters=len(raters), dropped_targets=dropped, icc2_1=_estimate(r.icc2_1),
                       icc2_k=_estimate(r.icc2_k), icc3_1=_estimate(r.icc3_1), icc3_k=_estimate(r.icc3_k), note="")


def visible_pieces(study: Study, member_of: Collection[int]) -> tuple[tuple[Piece, ...], int]:
    """The rated pieces whose ratings the caller may see, and how many others were withheld."""
    shown = tuple(p for p in study.rated_pieces
                  if p.restricted_community_id is None or p.restricted_community_id in member_of)
    return shown, len(study.rated_pieces) - len(shown)


def analyse(study: Study, ratings: Sequence[Rating], *, member_of: Collection[int] = (),
            confidence: float = 0.95) -> StudyAnalysis:
    """The study's results, over the pieces the caller may see (see the module docstring)."""
    pieces, withheld = visible_pieces(study, member_of)
    seen = {p.cid for p in pieces}
    ratings = [r for r in ratings if r.piece_cid in seen]
    conditions = list(dict.fromkeys(p.condition for p in pieces))
    out = []
    for c in study.criteria:
        mine = [r for r in ratings if r.criterion == c.name]
        per_condition = []
        for cond in conditions:
            ps = [p for p in pieces if p.condition == cond]
            cids = {p.cid for p in ps}
            rs = [r for r in mine if r.piece_cid in cids]
            per_condition.append(ConditionResult(condition=cond, pieces=len(ps), summary=summarise([r.value for r in rs],
                                                 c.approval_threshold), reliability=reliability(ps, rs, confidence=confidence)))
        out.append(CriterionResult(name=c.name, scale_min=c.scale.minimum, scale_max=c.scale.maximum,
                                   approval_threshold=c.approval_threshold,
                                   summary=summarise([r.value for r in mine], c.approval_threshold),
                                   reliability=reliability(pieces, mine, confidence=confidence), conditions=tuple(per_condition)))
    work_ids = tuple(sorted({p.work_id for p in pieces if p.work_id is not None and p.restricted_community_id is None}))
    return StudyAnalysis(schema=SCHEMA, version=VERSION, study_id=study.study_id, title=study.title, state=study.state.value,
                         blind=study.blind, confidence=confidence, pieces=len(pieces), raters=len({r.rater_id for r in ratings}),
                         ratings=len(ratings), withheld_pieces=withheld, work_ids=work_ids, criteria=tuple(out))


def summary_for_attestation(result: StudyAnalysis) -> bytes:
    """Canonical JSON of what an on-chain attestation of `result` states: the study, the SHA-256
    of the full result's bytes, the rated works (non-restricted ones) and each criterion's mean
    and ICC(2,k). Storing `result.to_json()` by CID and anchoring this (or its hash) with that
    CID, linked to `work_ids`, is the caller's job (the chain layer's attestation contract)."""
    criteria = {c.name: {"n": c.summary.n, "mean": c.summary.mean, "sd": c.summary.sd, "approval": c.summary.approval,
                         "icc2_k": None if c.reliability.icc2_k is None else c.reliability.icc2_k.value}
                for c in result.criteria}
    return canonical({"schema": ATTESTATION_SCHEMA, "version": VERSION, "study_id": result.study_id,
                      "result_sha256": hashlib.sha256(result.to_json()).hexdigest(), "work_ids": list(result.work_ids),
                      "raters": result.raters, "ratings": result.ratings, "criteria": criteria})


@dataclass(frozen=True)
class PieceRow:
    """One piece's ratings on one criterion."""

    cid: str
    work_id: int | None
    condition: str
    criterion: str
    summary: Summary


@dataclass(frozen=True)
class PieceRows:
    rows: tuple[PieceRow, ...]
    withheld_pieces: int


def piece_rows(study: Study, ratings: Sequence[Rating], *, member_of: Collection[int] = ()) -> PieceRows:
    """Per piece and criterion: n, mean ± SD, approval. Pieces of restricted works appear only when
    their community is in `member_of` (the caller layer establishes membership)."""
    pieces, withheld = visible_pieces(study, member_of)
    rows = []
    for p in pieces:
        for c in study.criteria:
            values = [r.value for r in ratings if r.piece_cid == p.cid and r.criterion == c.name]
            rows.append(PieceRow(cid=p.cid, work_id=p.work_id, condition=p.condition, criterion=c.name,
                                 summary=summarise(values, c.approval_threshold)))
    return PieceRows(rows=tuple(rows), withheld_pieces=withheld)
