"""The rerun spread of `recognition evaluate`: figures read from the run files, min/median/max per
row, CIDs compared, runs on different splits refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.commands.recognition import recognition_app
from ml.recognition.reruns import spread, write_spread

OTHER = "test, other family (TimGM6mb)"


def _report(seg: float, clip: float, *, cid: str = "bafyA", split: str = "s" * 64, wall: float = 60.0) -> dict[str, Any]:
    row = {"segment_error_rate": seg, "clip_error_rate": clip, "confusion": [[1]]}
    return {"split_id": split, "model": {"cid": cid}, "cnn_model": {"cid": "bafyC"}, "wall_seconds": wall,
            "results": {"DNN-HMM": {"train_seconds": 10.0, OTHER: row},
                        "GMM-HMM": {"train_seconds": 5.0, OTHER: {**row, "segment_error_rate": 0.3}}}}


def test_min_median_max_and_baseline_per_row() -> None:
    s = spread([_report(0.262, 0.218), _report(0.223, 0.192), _report(0.25, 0.2)], baseline=_report(0.223, 0.192))
    dnn = next(r for r in s["rows"] if r["model"] == "DNN-HMM")
    seg = dnn["segment_error_rate"]
    assert seg["runs"] == [0.262, 0.223, 0.25]
    assert (seg["min"], seg["median"], seg["max"], seg["baseline"]) == (0.223, 0.25, 0.262, 0.223)
    assert dnn["clip_error_rate"]["median"] == 0.2
    assert s["cids"]["model"]["identical"] and s["cids"]["cnn_model"]["identical"]
    assert s["baseline_split_matches"] is True


def test_differing_cids_are_reported_not_hidden() -> None:
    s = spread([_report(0.2, 0.2, cid="bafyA"), _report(0.2, 0.2, cid="bafyB")])
    assert not s["cids"]["model"]["identical"] and s["cids"]["model"]["values"] == ["bafyA", "bafyB"]
    assert s["baseline_split_matches"] is None


def test_a_missing_cid_is_not_called_identical() -> None:
    a, b = _report(0.2, 0.2), _report(0.2, 0.2)
    a["model"] = b["model"] = {}
    assert not spread([a, b])["cids"]["model"]["identical"]


def test_refuses_one_run_and_runs_on_different_splits() -> None:
    with pytest.raises(ValueError, match="at least two"):
        spread([_report(0.2, 0.2)])
    with pytest.raises(ValueError, match="different splits"):
        spread([_report(0.2, 0.2), _report(0.2, 0.2, split="t" * 64)])


def test_a_row_missing_from_one_run_is_left_out() -> None:
    a, b = _report(0.2, 0.2), _report(0.3, 0.3)
    del b["results"]["GMM-HMM"]
    s = spread([a, b])
    assert [r["model"] for r in s["rows"]] == ["DNN-HMM"] and list(s["train_seconds"]) == ["DNN-HMM"]


def test_markdown_carries_the_run_values(tmp_path: Path) -> None:
    s = spread([_report(0.262, 0.218, wall=1320), _report(0.223, 0.192, cid="bafyB", wall=1200)], baseline=_report(0.2, 0.1))
    write_spread(s, tmp_path, sources=["run1.json", "run2.json"], baseline="reports/recognition.json")
    md = (tmp_path / "recognition_reruns.md").read_text()
    assert "| DNN-HMM | test, other family (TimGM6mb) | segment | 26.2 | 22.3 | 22.3 | 24.2 | 26.2 | 3.9 | 20.0 |" in md
    assert "DNN-HMM: CIDs differ" in md and "transfer CNN: CIDs identical" in md
    assert "22.0 min, 20.0 min" in md
    assert json.loads((tmp_path / "recognition_reruns.json").read_text())["sources"] == ["run1.json", "run2.json"]


def test_cli_writes_the_spread_and_rejects_bad_input(tmp_path: Path) -> None:
    files = []
    for i, r in enumerate((_report(0.2, 0.2), _report(0.3, 0.2))):
        files.append(tmp_path / f"run{i}.json")
        files[-1].write_text(json.dumps(r))
    runner = CliRunner()
    ok = runner.invoke(recognition_app, ["spread", *map(str, files), "--baseline", str(tmp_path / "none.json"),
                                         "--out", str(tmp_path / "out")])
    assert ok.exit_code == 0, ok.output
    assert "| 20.0 | 30.0 | 20.0 | 25.0 | 30.0 | 10.0 | – |" in (tmp_path / "out" / "recognition_reruns.md").read_text()
    (tmp_path / "bad.json").write_text("{not json")
    bad = runner.invoke(recognition_app, ["spread", str(files[0]), str(tmp_path / "bad.json")])
    assert bad.exit_code == 2
    one = runner.invoke(recognition_app, ["spread", str(files[0]), "--out", str(tmp_path / "o2")])
    assert one.exit_code == 2 and not (tmp_path / "o2").exists()
