"""The score-recognition experiment end to end on a tiny real set: engraving, both models, metrics, report."""

from __future__ import annotations

import json
from pathlib import Path

from ml.omr.experiment import NAMES, OmrExperimentConfig, run, write_report
from ml.omr.model import OmrConfig


def test_tiny_experiment_writes_the_report(tmp_path: Path) -> None:
    cfg = OmrExperimentConfig(pieces=8, width_px=512, model=OmrConfig(channels=(4, 8), hidden=8, layers=1, epochs=1))
    stages: list[str] = []
    report = run(cfg, cache_dir=tmp_path, say=lambda s, d, t: stages.append(s))
    assert report["pieces"]["train"] + report["pieces"]["test"] <= 8 and report["lines"]["test"] > 0
    assert set(report["results"]) == set(NAMES.values())
    for r in report["results"].values():
        assert r["clean"]["lines"] == r["scanned"]["lines"] > 0  # one scanned copy of every clean line
        for kind in ("clean", "scanned"):
            assert r[kind]["symbol_error_rate"] >= 0 and 0 <= r[kind]["note_f1"] <= 1
    assert "engraving staff lines" in stages
    write_report(report, tmp_path / "reports")
    assert "| plain CRNN (max-pool + BiLSTM, CTC) | clean" in (tmp_path / "reports" / "omr.md").read_text()
    assert json.loads((tmp_path / "reports" / "omr.json").read_text())["split_id"] == report["split_id"]


def test_without_scanned_copies_only_clean_lines_are_scored(tmp_path: Path) -> None:
    cfg = OmrExperimentConfig(pieces=8, copies=0, width_px=512, model=OmrConfig(channels=(4, 8), hidden=8, layers=1, epochs=1))
    report = run(cfg, cache_dir=tmp_path)
    for r in report["results"].values():
        assert r["clean"]["lines"] == report["lines"]["test"] and "scanned" not in r
    write_report(report, tmp_path / "reports")
    assert "| scanned" not in (tmp_path / "reports" / "omr.md").read_text()
