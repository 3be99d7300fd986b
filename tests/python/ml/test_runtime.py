"""Reproducible runs: the same tiny training twice gives the same weights bytes, hence the same CID;
the run record says what a rerun needs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from core.cid import file_cid
from ml.classification.audio import AudioModelConfig, train_model
from ml.classification.saved import prepared_patches, save
from ml.data.preprocess import prepare
from ml.recognition.transfer import CnnConfig, train_source
from ml.runtime import report_lines, reproducible, run_record
from tests.python.ml.synthetic import INSTRUMENTS, SR, melody, one_thread, train_tiny_recogniser


@pytest.fixture(scope="module", autouse=True)
def _threads() -> Iterator[None]:
    with one_thread():
        yield


def test_the_same_tiny_recogniser_twice_has_the_same_cid(tmp_path: Path) -> None:
    train_tiny_recogniser(tmp_path / "a.pt")
    train_tiny_recogniser(tmp_path / "b.pt")
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
    assert file_cid(tmp_path / "a.pt") == file_cid(tmp_path / "b.pt")
    train_tiny_recogniser(tmp_path / "c.pt", seed=1)  # and the seed matters: the test could not pass by accident
    assert file_cid(tmp_path / "c.pt") != file_cid(tmp_path / "a.pt")


@pytest.mark.parametrize("kind", ["cnn", "lstm", "crnn"])
def test_the_same_tiny_classifier_twice_has_the_same_cid(tmp_path: Path, kind: str) -> None:
    x = np.concatenate([prepared_patches(prepare(melody(lab, seed=i), sample_rate=SR)) for lab in INSTRUMENTS for i in range(2)])
    y = [lab for lab in INSTRUMENTS for _ in range(len(x) // 2)]
    cfg = AudioModelConfig(cnn_channels=(4, 4, 4, 4), embed=8, rnn_hidden=8, crnn_channels=8, gru_hidden=4, attention=4,
                           epochs=2, batch=4)
    for name in ("a", "b"):
        save(tmp_path / f"{name}.pt", "t", [train_model(kind, x, y, cfg)], learned_from=[])
    assert file_cid(tmp_path / "a.pt") == file_cid(tmp_path / "b.pt")


def test_the_same_tiny_transfer_cnn_twice_has_the_same_cid(tmp_path: Path) -> None:
    x = np.concatenate([prepared_patches(prepare(melody(lab, seed=i), sample_rate=SR)) for lab in INSTRUMENTS for i in range(2)])
    y = [lab for lab in INSTRUMENTS for _ in range(len(x) // 2)]
    for name in ("a", "b"):
        train_source(x, y, CnnConfig(channels=(4, 4, 8, 8), penultimate=8, epochs=2, batch=4)).save(tmp_path / f"{name}.pt")
    assert file_cid(tmp_path / "a.pt") == file_cid(tmp_path / "b.pt")


def test_reproducible_fixes_threads_and_determinism() -> None:
    threads = reproducible(threads=1)
    assert threads["torch_intra_op"] == 1 and threads["torch_deterministic"] and torch.are_deterministic_algorithms_enabled()
    assert all(p["threads"] == 1 for p in threads["pools"])
    with pytest.raises(ValueError, match="at least 1"):
        reproducible(threads=0)


def test_the_run_record_and_its_report_lines() -> None:
    record = run_record(settings={"epochs": 3}, seeds={"split": 0})
    assert record["versions"]["torch"] == torch.__version__.split("+")[0] or record["versions"]["torch"] == torch.__version__
    assert record["settings"] == {"epochs": 3} and record["machine"]["cpus"] >= 1
    text = "\n".join(report_lines({"run": record, "wall_seconds": 90.0}))
    assert "Wall time 1.5 min" in text and "Seeds: split 0" in text and "torch 1 intra-op" in text
    assert report_lines({}) == []


def test_two_threads_as_the_commands_run_also_give_the_same_cid(tmp_path: Path) -> None:
    """The experiments run with DEFAULT_THREADS = 2: intra-op parallelism must not change the bytes either."""
    reproducible(threads=2)
    try:
        train_tiny_recogniser(tmp_path / "a.pt")
        train_tiny_recogniser(tmp_path / "b.pt")
    finally:
        reproducible(threads=1)
    assert file_cid(tmp_path / "a.pt") == file_cid(tmp_path / "b.pt")
