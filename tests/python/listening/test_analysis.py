"""Study analysis: descriptive statistics, reliability of the complete rows, approval shares,
restricted works left out for non-members, canonical JSON, and the seed studies' tables."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest

from core.cid import bytes_cid
from core.types import CommunityId, WorkId
from listening.analysis import analyse, piece_rows, summary_for_attestation
from listening.errors import UnknownCriterion
from listening.icc import icc
from listening.model import Criterion, Piece, RaterId, Rating, Scale, Study, StudyId, StudyState
from listening.tables import authenticity_table, criteria_table, satisfaction_table

AT = datetime(2026, 3, 1, tzinfo=UTC)
# Shrout & Fleiss (1979), Table 2: 6 pieces × 4 raters, ICC(2,1) = 0.29, ICC(2,k) = 0.62.
SF = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], dtype=float)


def make(tables: dict[str, np.ndarray], conditions: Sequence[str], *, scales: dict[str, Scale] | None = None,
         thresholds: dict[str, int] | None = None, restricted: dict[int, int] | None = None) -> tuple[Study, list[Rating]]:
    """A study whose criterion `name` has the ratings `tables[name]` (pieces × raters, NaN = not
    rated); piece i is in `conditions[i]`, work 100 + i, restricted to `restricted[i]` if given."""
    n = len(conditions)
    pieces = tuple(Piece(cid=bytes_cid(f"p{i}".encode()), condition=conditions[i], work_id=WorkId(100 + i),
                         restricted_community_id=CommunityId(restricted[i]) if restricted and i in restricted else None)
                   for i in range(n))
    criteria = tuple(Criterion(name, name, (scales or {}).get(name, Scale(1, 10)), (thresholds or {}).get(name))
                     for name in tables)
    study = Study(study_id=StudyId("s-a"), title="A study", instructions="", blind=True, randomise=True, state=StudyState.CLOSED,
                  created_at=AT, pieces=pieces, criteria=criteria)
    ratings = [Rating(study_id=study.study_id, rater_id=RaterId(f"r{j}"), piece_cid=pieces[i].cid, criterion=name,
                      value=int(t[i, j]), rated_at=AT)
               for name, t in tables.items() for i in range(n) for j in range(t.shape[1]) if not np.isnan(t[i, j])]
    return study, ratings


def test_means_sds_and_reliability_per_criterion_and_condition() -> None:
    study, ratings = make({"authenticity": SF}, ["A", "A", "A", "B", "B", "B"])
    result = analyse(study, ratings)
    c = result.criterion("authenticity")
    assert (result.pieces, result.raters, result.ratings, result.withheld_pieces) == (6, 4, 24, 0)
    assert c.summary.n == 24 and c.summary.mean == pytest.approx(127 / 24)
    assert c.summary.sd == pytest.approx(float(np.std(SF, ddof=1)))
    assert c.summary.approval is None  # no threshold
    r = c.reliability
    assert (r.targets, r.raters, r.dropped_targets, r.note) == (6, 4, 0, "")
    expected = icc(SF)
    assert r.icc2_1 is not None and r.icc2_k is not None and r.icc3_k is not None
    assert (r.icc2_1.value, r.icc2_1.ci_low, r.icc2_1.ci_high) == (expected.icc2_1.value, expected.icc2_1.ci_low,
                                                                   expected.icc2_1.ci_high)
    assert round(r.icc2_1.value, 2) == 0.29 and round(r.icc2_k.value, 2) == 0.62
    a, b = c.conditions
    assert (a.condition, a.pieces, a.summary.n, b.condition, b.summary.n) == ("A", 3, 12, "B", 12)
    assert a.summary.mean == pytest.approx(SF[:3].mean()) and b.summary.sd == pytest.approx(float(np.std(SF[3:], ddof=1)))
    assert a.reliability.icc2_k is not None
    assert a.reliability.icc2_k.value == pytest.approx(icc(SF[:3]).icc2_k.value)


def test_only_complete_rows_enter_the_icc_and_the_dropped_are_counted() -> None:
    table = SF.copy()
    table[1, 2] = np.nan  # rater 2 skipped piece 1
    table[4, 0] = np.nan  # rater 0 skipped piece 4
    study, ratings = make({"authenticity": table}, ["A"] * 6)
    r = analyse(study, ratings).criterion("authenticity").reliability
    assert (r.targets, r.raters, r.dropped_targets) == (4, 4, 2)
    assert r.icc2_k is not None and r.icc2_k.value == pytest.approx(icc(SF[[0, 2, 3, 5]]).icc2_k.value)
    assert analyse(study, ratings).criterion("authenticity").summary.n == 22  # the means use every rating


def test_reliability_that_cannot_be_computed_says_why() -> None:
    study, ratings = make({"authenticity": SF[:, :1]}, ["A"] * 6)  # one rater
    r = analyse(study, ratings).criterion("authenticity").reliability
    assert r.icc2_1 is None and r.icc2_k is None and "at least 2 targets and 2 raters" in r.note
    study, ratings = make({"authenticity": np.array([[3.0, np.nan], [np.nan, 4.0], [2.0, 2.0]])}, ["A"] * 3)
    r = analyse(study, ratings).criterion("authenticity").reliability
    assert r.icc2_k is None and r.dropped_targets == 2 and "2 of 3 pieces dropped" in r.note


def test_approval_share_of_a_likert_question() -> None:
    table = np.array([[4.0], [3.0], [2.0], [1.0], [3.0]])
    study, ratings = make({"satisfaction": table}, ["A"] * 5, scales={"satisfaction": Scale(1, 4)},
                          thresholds={"satisfaction": 3})
    assert analyse(study, ratings).criterion("satisfaction").summary.approval == pytest.approx(0.6)


def test_restricted_works_are_left_out_for_non_members() -> None:
    study, ratings = make({"authenticity": SF}, ["A", "A", "A", "B", "B", "B"], restricted={5: 7})
    public = analyse(study, ratings)
    member = analyse(study, ratings, member_of={7})
    other = analyse(study, ratings, member_of={3})
    assert (public.pieces, public.withheld_pieces, public.ratings) == (5, 1, 20)
    assert other == public
    assert (member.pieces, member.withheld_pieces, member.ratings) == (6, 0, 24)
    assert 105 not in public.work_ids and 105 not in member.work_ids  # never linked publicly
    assert public.criterion("authenticity").conditions[1].summary.mean == pytest.approx(SF[3:5].mean())
    rows = piece_rows(study, ratings)
    assert rows.withheld_pieces == 1 and {r.cid for r in rows.rows} == {p.cid for p in study.pieces[:5]}
    rows = piece_rows(study, ratings, member_of={7})
    assert rows.withheld_pieces == 0 and len(rows.rows) == 6
    last = next(r for r in rows.rows if r.cid == study.pieces[5].cid)
    assert last.summary.n == 4 and last.summary.mean == pytest.approx(SF[5].mean())


def test_json_is_canonical_and_deterministic() -> None:
    study, ratings = make({"authenticity": SF, "harmony": SF[:, ::-1]}, ["A", "A", "A", "B", "B", "B"])
    result = analyse(study, ratings)
    data = result.to_json()
    assert data == analyse(study, ratings[::-1]).to_json()  # the order ratings come in does not matter
    doc = json.loads(data)
    assert data == json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert doc["schema"] == "heritage-ledger/listening-analysis" and doc["criteria"][1]["name"] == "harmony"
    summary = json.loads(summary_for_attestation(result))
    assert summary["result_sha256"] == hashlib.sha256(data).hexdigest()
    assert summary["work_ids"] == [100, 101, 102, 103, 104, 105] and summary["study_id"] == "s-a"
    assert summary["criteria"]["authenticity"]["icc2_k"] == pytest.approx(0.62, abs=0.005)


def test_json_of_a_study_without_ratings() -> None:
    study, _ = make({"authenticity": SF}, ["A"] * 6)
    doc = json.loads(analyse(study, []).to_json())
    assert doc["ratings"] == 0 and doc["criteria"][0]["summary"] == {"n": 0, "mean": None, "sd": None, "approval": None}


# ---------------------------------------------------------------------- the seed studies' tables
def test_authenticity_table_per_condition_with_icc2k() -> None:
    study, ratings = make({"authenticity": SF}, ["baseline", "baseline", "baseline", "ours", "ours", "ours"])
    t = authenticity_table(analyse(study, ratings))
    assert t.columns == ("Condition", "Pieces", "Ratings", "Mean ± SD", "ICC(2,k) [95% CI]")
    assert [r[0] for r in t.rows] == ["baseline", "ours", "All conditions"]
    assert t.rows[-1][3] == f"{127 / 24:.2f} ± {np.std(SF, ddof=1):.2f}"
    assert t.rows[-1][4].startswith("0.62 [0.07, 0.93]")
    assert "4 raters, 6 pieces" in t.note and "| ours |" in t.to_markdown()


def test_five_criteria_table_per_model() -> None:
    rng = np.random.default_rng(0)
    names = ("valence", "arousal", "authenticity", "harmony", "overall")
    tables = {n: rng.integers(1, 6, size=(4, 3)).astype(float) for n in names}
    study, ratings = make(tables, ["model A", "model A", "model B", "model B"], scales=dict.fromkeys(names, Scale(1, 5)))
    t = criteria_table(analyse(study, ratings))
    assert t.columns == ("Model", *names) and [r[0] for r in t.rows] == ["model A", "model B"]
    for col, name in enumerate(names, 1):
        x = tables[name][2:]
        assert t.rows[1][col] == f"{x.mean():.2f} ± {np.std(x, ddof=1):.2f}"


def test_satisfaction_table_with_approval_percentages() -> None:
    # 55 listeners: 44 approve of the performance (80.00 %), 37 of the visualisation (67.27 %)
    performance = np.array([[4.0] * 20 + [3.0] * 24 + [2.0] * 8 + [1.0] * 3])
    visualisation = np.array([[4.0] * 17 + [3.0] * 20 + [2.0] * 18])
    study, ratings = make({"performance": performance, "visualisation": visualisation}, ["live"],
                          scales={"performance": Scale(1, 4), "visualisation": Scale(1, 4)},
                          thresholds={"performance": 3, "visualisation": 3})
    t = satisfaction_table(analyse(study, ratings))
    assert [(r[0], r[1], r[2], r[3]) for r in t.rows] == [("performance", "55", "≥ 3 of 1–4", "80.00%"),
                                                          ("visualisation", "55", "≥ 3 of 1–4", "67.27%")]


def test_a_table_asks_for_criteria_the_study_has() -> None:
    study, ratings = make({"authenticity": SF}, ["A"] * 6)
    with pytest.raises(UnknownCriterion, match="they have: authenticity"):
        satisfaction_table(analyse(study, ratings))
    assert satisfaction_table(analyse(study, ratings), questions=("authenticity",)).rows[0][3] == "—"
