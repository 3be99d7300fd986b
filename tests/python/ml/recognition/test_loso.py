"""Leave-one-source-out on a tiny real set (FluidSynth, both soundfont families, the real tabla), and
the source augmentation it trains with."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ml.data.augment import SourceAugmentConfig, other_source
from ml.recognition.dnn_hmm import DnnHmmConfig
from ml.recognition.gmm_hmm import GmmHmmConfig
from ml.recognition.loso import BASELINE, LosoConfig, run, write_report
from tests.python.ml.synthetic import SR, melody, one_thread


@pytest.fixture(scope="module", autouse=True)
def _threads() -> Iterator[None]:
    with one_thread():
        yield


def test_other_source_is_seeded_and_changes_the_sound() -> None:
    y = melody("reed", seconds=4.0)
    a = other_source(y, sample_rate=SR, rng=np.random.default_rng(1))
    b = other_source(y, sample_rate=SR, rng=np.random.default_rng(1))
    c = other_source(y, sample_rate=SR, rng=np.random.default_rng(2))
    assert a.shape == y.shape and a.dtype == np.float32 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a / np.abs(a).max(), y / np.abs(y).max(), atol=1e-2)


def test_codec_and_reverb_always_on_keep_the_length() -> None:
    y = melody("pluck", seconds=3.5)
    z = other_source(y, sample_rate=SR, rng=np.random.default_rng(0), cfg=SourceAugmentConfig(reverb_p=1.0, codec_p=1.0))
    assert z.shape == y.shape and np.isfinite(z).all()


@pytest.mark.skipif(shutil.which("fluidsynth") is None or not Path("/usr/share/sounds/sf2/TimGM6mb.sf2").exists()
                    or not Path("/usr/share/sonic-pi/samples/loop_tabla.flac").exists(),
                    reason="needs fluidsynth, fluid-soundfont-gm, timgm6mb-soundfont and sonic-pi-samples (apt-get install …)")
def test_tiny_leave_one_source_out(tmp_path: Path) -> None:
    cfg = LosoConfig(pieces=6, instruments=("flute", "bagpipe"), seconds=6.0, gmm=GmmHmmConfig(n_states=2, n_mix=1, n_iter=2),
                     dnn=DnnHmmConfig(hidden=(16,), epochs=1), augment=SourceAugmentConfig(codec_p=0.0))
    report = run(cfg, cache_dir=tmp_path / "cache", model_path=tmp_path / "users.pt")
    assert list(report["rows"]) == [BASELINE, "leave out FluidR3", "leave out TimGM6mb"]
    for r in report["rows"].values():
        assert 0 <= r["DNN-HMM"]["segment_error_rate"] <= 1 and r["DNN-HMM"]["clips"] == 3 * report["pieces"]["test"]
    assert report["rows"]["leave out FluidR3"]["train_clips"] == 2 * report["rows"][BASELINE]["train_clips"]  # + augmented
    assert report["model"]["cid"].startswith("bafk") and report["run"]["seeds"]["augment"] == 0
    write_report(report, tmp_path / "reports")
    md = (tmp_path / "reports" / "recognition_loso.md").read_text()
    assert "| **mean over folds** | | DNN-HMM |" in md and "Reproducing this run" in md
