"""`report_metrics`: the cross-family error rates of a saved model, read from the evaluation report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cid import file_cid
from ml.recognition.model import report_metrics

OTHER = "test, other family (TimGM6mb)"


def _report(tmp: Path, model: Path, *, key: str = "model", variant: str = "DNN-HMM", cid: str | None = None) -> Path:
    path = tmp / "recognition.json"
    path.write_text(json.dumps({key: {"cid": cid or file_cid(model)},
                                "results": {variant: {OTHER: {"segment_error_rate": 0.25, "clip_error_rate": 0.2}}}}))
    return path


@pytest.mark.parametrize(("architecture", "key", "variant"), [
    ("recognition/timbre-dnn-hmm", "model", "DNN-HMM"),
    ("recognition/transfer-cnn", "cnn_model", "CNN-transfer (mid+high) + SVM"),
])
def test_the_report_of_this_model_gives_its_cross_family_rates(tmp_path: Path, architecture: str, key: str,
                                                               variant: str) -> None:
    model = tmp_path / "m.pt"
    model.write_bytes(b"weights")
    assert report_metrics(_report(tmp_path, model, key=key, variant=variant), model=model, architecture=architecture) == {
        "cross_family_segment_error_rate": 0.25, "cross_family_clip_error_rate": 0.2}


def test_a_report_of_another_model_or_none_gives_nothing(tmp_path: Path) -> None:
    model = tmp_path / "m.pt"
    model.write_bytes(b"weights")
    other = _report(tmp_path, model, cid=file_cid(Path(__file__)))
    assert report_metrics(other, model=model, architecture="recognition/timbre-dnn-hmm") == {}
    assert report_metrics(tmp_path / "missing.json", model=model, architecture="recognition/timbre-dnn-hmm") == {}
    wrong_variant = _report(tmp_path, model, variant="GMM-HMM")
    assert report_metrics(wrong_variant, model=model, architecture="recognition/timbre-dnn-hmm") == {}
