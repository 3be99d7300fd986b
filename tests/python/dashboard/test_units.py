"""The dashboard's pure parts: the lineage graph, media detection, result tables (the royalty route is
the API's: tests/python/chain/test_routing.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dashboard.charts import fairness_frame, latency_quantiles, table2
from dashboard.lineage import to_dot
from dashboard.media import classify
from dashboard.schema import Lineage, LineageNode
from tests.python.dashboard.services import one_note_midi, tone_wav


def node(work_id: int, kind: str = "heritage", community: int | None = 1) -> LineageNode:
    return LineageNode(work_id=work_id, kind=kind, status="active", community_id=community, content_cid=None, disputed=False,
                       model_made=False)


# 10 ← 11 ← 13 → 12 → 10: work 10 is reached by two paths.
DIAMOND = Lineage(work_id=13, nodes=[node(13, "derivative", None), node(11, "derivative", None), node(12, "derivative", None),
                                     node(10)],
                  edges=[{"child": 13, "parent": 11, "ppm": 333_333}, {"child": 13, "parent": 12, "ppm": 250_000},
                         {"child": 11, "parent": 10, "ppm": 100_001}, {"child": 12, "parent": 10, "ppm": 500_000}])


def test_dot_draws_every_edge_with_its_share_and_colours_by_verdict() -> None:
    dot = to_dot(DIAMOND, {13: True, 11: False})
    assert 'w13 -> w11 [label="33.3333% (333,333 ppm)"]' in dot
    assert 'w12 -> w10 [label="50% (500,000 ppm)"]' in dot
    assert dot.count("->") == 4
    assert "audit passed" in dot and "audit FAILED" in dot and "not audited" in dot
    assert "peripheries=2" in dot.split("w13 [")[1].split("\n")[0]


@pytest.mark.parametrize(("data", "declared", "media", "presentation"), [
    (tone_wav(0.01), "application/octet-stream", "audio/wav", "audio"),
    (b"anything", "audio/mpeg", "audio/mpeg", "audio"),
    (one_note_midi(), "application/octet-stream", "audio/midi", "download"),
    (b"X:1\nT:A tune\nK:G\nGAB|", "application/octet-stream", "text/vnd.abc", "score"),
    (b"X:1\nT:A tune\n", "text/vnd.abc; charset=utf-8", "text/vnd.abc", "score"),
    (b"\x00\x01\x02", "application/octet-stream", "application/octet-stream", "download"),
])
def test_classify_plays_audio_shows_scores_and_offers_the_rest(data: bytes, declared: str, media: str, presentation: str) -> None:
    kind = classify(data, declared)
    assert (kind.media_type, kind.presentation) == (media, presentation)


SUMMARY = {"table2": {"ours": {"median settlement days": 0.6, "p90 settlement days": 0.9},
                      "archive": {"median settlement days": 38.0, "p90 settlement days": 53.0}}}


def test_table2_orders_regimes_and_latency_reads_it() -> None:
    assert list(table2(SUMMARY).columns) == ["archive", "ours"]
    rows = latency_quantiles(SUMMARY).set_index("regime")
    assert rows.loc["archive", "p90 (days)"] == 53.0


def test_fairness_frame_drops_the_whole_run_rows() -> None:
    records = [{"arm": "ours", "epoch": "0", "gini": 0.1, "theil_t": 0.02, "jain": 0.9, "paid_wei": 1.0},
               {"arm": "ours", "epoch": "all", "gini": 0.1, "theil_t": 0.02, "jain": 0.9, "paid_wei": 1.0}]
    long = fairness_frame(records)
    assert sorted(long["index"]) == ["Gini", "Jain", "Theil T"]
    assert set(long["epoch"]) == {0}


def test_the_dashboard_reads_the_platform_over_http_only() -> None:
    forbidden = {"web3", "eth_account", "chain", "api", "economy", "core", "ml", "cli"}
    root = Path(__file__).resolve().parents[3] / "dashboard"
    for path in root.rglob("*.py"):
        for stmt in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in stmt.names] if isinstance(stmt, ast.Import) else \
                [stmt.module or ""] if isinstance(stmt, ast.ImportFrom) and stmt.level == 0 else []
            assert not {n.split(".")[0] for n in names} & forbidden, f"{path.name} imports {names}"
