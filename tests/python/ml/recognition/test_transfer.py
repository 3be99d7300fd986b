"""The transfer-learned CNN: source training, frozen mid/high/fused features, the SVM, and a
user's labelled CSV cross-validated (the `heritage recognition csv` command)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from core.errors import InputError
from ml.recognition.transfer import CnnConfig, cross_validate, csv_dataset, load_source, train_source

TINY = CnnConfig(channels=(4, 8, 8, 16), penultimate=12, epochs=3, batch=8)


def _patches(n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """Log-mel-like patches: 'low' has its energy in the low bands, 'high' in the high ones."""
    x = rng.normal(-60, 3, size=(n, 128, 128)).astype(np.float32)
    labels = []
    for i in range(n):
        band = slice(0, 40) if i % 2 == 0 else slice(88, 128)
        x[i, band] += 40
        labels.append("low" if i % 2 == 0 else "high")
    return x, labels


def test_source_training_and_feature_levels(tmp_path: Path) -> None:
    x, y = _patches(24, np.random.default_rng(0))
    ticks: list[int] = []
    model = train_source(x, y, TINY, progress=lambda done, total: ticks.append(done))
    assert ticks == [1, 2, 3] and model.labels == ["high", "low"] and len(model.losses) == 3
    assert model.features(x[:5], "mid").shape == (5, 2 * 8)
    assert model.features(x[:5], "high").shape == (5, 12)
    fused = model.features(x[:5], "fused")
    assert np.allclose(fused, np.concatenate([model.features(x[:5], "mid"), model.features(x[:5], "high")], axis=1))
    with pytest.raises(InputError, match="feature level"):
        model.features(x[:1], "low")
    model.save(tmp_path / "cnn.pt", learned_from=["bafy-test"])
    again = load_source(tmp_path / "cnn.pt")
    assert np.allclose(again.features(x[:5]), fused, atol=1e-5)
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(InputError, match="not a transfer CNN"):
        load_source(tmp_path / "junk.pt")
    with pytest.raises(InputError, match="no transfer CNN"):
        load_source(tmp_path / "missing.pt")


def test_cross_validation_is_grouped_by_file_and_scores_separable_labels() -> None:
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(12), 3)
    labels = ["calm" if g % 2 else "lively" for g in groups]
    # every dimension informative, as a CNN's pooled features are (an RBF kernel on standardised
    # features drowns a lone informative dimension among pure-noise ones)
    x = rng.normal(size=(36, 6)) + np.array([[2.0 if lab == "calm" else -2.0] * 6 for lab in labels])
    r = cross_validate(x, labels, list(groups), folds=3)
    assert r["folds"] == 3 and r["files"] == 12 and r["segment_accuracy"] == 1.0 and r["file_accuracy"] == 1.0
    assert sum(map(sum, r["confusion"])) == 12
    shuffled = list(rng.permutation(labels))  # labels unrelated to the features: no better than chance, about
    noise = cross_validate(rng.normal(size=(36, 6)), shuffled, list(range(36)), folds=3)
    assert noise["segment_accuracy"] < 0.9
    with pytest.raises(InputError, match="at least two"):
        cross_validate(x, ["calm"] * 36, list(groups))
    with pytest.raises(InputError, match="at least two files"):
        cross_validate(x[:6], ["calm", "calm", "calm", "lively", "lively", "lively"], [0, 0, 0, 1, 1, 1])


def _tone(path: Path, freq: float, seconds: float = 6.2) -> None:
    t = np.arange(int(seconds * 22_050)) / 22_050
    soundfile.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), 22_050)


def test_labelled_csv_through_the_cli(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    x, y = _patches(16, np.random.default_rng(2))
    train_source(x, y, TINY).save(tmp_path / "cnn.pt", learned_from=[])
    rows = ["file,label"]
    for i in range(8):
        name = f"clip{i}.wav"
        _tone(tmp_path / name, 150 + 10 * i if i % 2 else 3000 + 100 * i)
        rows.append(f"{name},{'sombre' if i % 2 else 'bright'}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(app, ["recognition", "csv", str(tmp_path / "labels.csv"), "--cnn", str(tmp_path / "cnn.pt"),
                                      "--folds", "4", "--json"])
    assert result.exit_code == 0, result.output
    r = json.loads(result.stdout)
    assert r["labels"] == ["bright", "sombre"] and r["files"] == 8 and r["segments"] == 16
    assert r["file_accuracy"] >= 0.75  # low tones against high ones: even a tiny CNN's features separate them

    (tmp_path / "bad.csv").write_text("clip0.wav\n")
    with pytest.raises(InputError, match="is not `file,label`"):
        csv_dataset(tmp_path / "bad.csv", load_source(tmp_path / "cnn.pt"))
    (tmp_path / "gone.csv").write_text("missing.wav,calm\n")
    with pytest.raises(InputError, match="does not exist"):
        csv_dataset(tmp_path / "gone.csv", load_source(tmp_path / "cnn.pt"))
    _tone(tmp_path / "short.wav", 440, seconds=1.0)
    (tmp_path / "short.csv").write_text("short.wav,calm\n")
    with pytest.raises(InputError, match=r"row 1 .*shorter than one"):
        csv_dataset(tmp_path / "short.csv", load_source(tmp_path / "cnn.pt"))
