"""The robustness evaluation end to end on tiny models trained here: every condition runs, the
report puts each accuracy beside the clean one, and the invariant conditions keep the clean figure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli.commands.robustness import robustness_app
from core.errors import InputError
from ml import robustness as rb
from ml.classification.audio import AudioModelConfig, train_model
from ml.classification.saved import prepared_patches, save
from ml.data.preprocess import prepare
from tests.python.ml.synthetic import INSTRUMENTS, SR, melody, one_thread, train_tiny_recogniser


@pytest.fixture(scope="module", autouse=True)
def _threads() -> Iterator[None]:
    with one_thread():
        yield


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("models")
    train_tiny_recogniser(d / "tiny.pt")
    x = [prepared_patches(prepare(melody(lab, seed=i), sample_rate=SR)) for lab in INSTRUMENTS for i in range(3)]
    y = [lab for lab, p in zip([lab for lab in INSTRUMENTS for _ in range(3)], x, strict=True) for _ in range(len(p))]
    cfg = AudioModelConfig(cnn_channels=(4, 4, 4, 4), embed=8, epochs=2, batch=4)
    save(d / "cls.pt", "instrument", [train_model("cnn", np.concatenate(x), y, cfg)], learned_from=["bafyTrainedOn"])
    return d / "tiny.pt", d / "cls.pt"


def test_every_condition_is_scored_beside_clean(models: tuple[Path, Path], tmp_path: Path) -> None:
    clips = [rb.Clip(lab, melody(lab, seed=60 + i), SR) for lab in INSTRUMENTS for i in range(2)]
    runs = [(rb.recogniser_model("tiny DNN-HMM", models[0]), clips), (rb.classifier_model("tiny CNN", models[1]), clips)]
    stages: list[str] = []
    report = rb.evaluate(runs, say=lambda stage, done, total: stages.append(stage))
    assert report["clips"] == {"tiny DNN-HMM": 4, "tiny CNN": 4}
    names = [c.name for c in rb.CONDITIONS]
    assert {g["group"] for g in report["conditions"]} >= {"level", "silence", "sample rate", "stereo", "codec", "noise", "pitch",
                                                           "tempo"}
    for per in report["models"].values():
        assert list(per) == names and all(0 <= r["accuracy"] <= 1 for r in per.values())
        for exact in ("peak 0 dBFS", "peak -20 dBFS", "peak -40 dBFS", "1 s leading + 3 s trailing silence"):
            assert per[exact]["accuracy"] == per["clean"]["accuracy"], exact  # the invariances, on held-out clips
    assert "tiny DNN-HMM: MP3" in stages
    rb.write_report(report, tmp_path)
    md = (tmp_path / "robustness.md").read_text()
    assert "## tiny DNN-HMM (4 clips)" in md and "| white noise, SNR 10 dB | noise |" in md and "change from clean" in md
    assert json.loads((tmp_path / "robustness.json").read_text())["clips"]["tiny CNN"] == 4


def test_clips_of_songs_a_model_learned_from_are_left_out(models: tuple[Path, Path], tmp_path: Path) -> None:
    """A held-out set chosen by another split can hold a song the model trained on: that clip is no test."""
    classifier = rb.classifier_model("tiny CNN", models[1])
    assert classifier.learned_from == frozenset({"bafyTrainedOn"})
    always = rb.Model("always flute", classifier.preprocess, lambda p: "flute", classifier.learned_from)
    clips = [rb.Clip("flute", melody("flute", seed=70), SR, "bafyTrainedOn"), rb.Clip("flute", melody("flute", seed=71), SR, "bafyNew"),
             rb.Clip("flute", melody("flute", seed=72), SR)]
    report = rb.evaluate([(always, clips)], conditions=rb.CONDITIONS[:1])
    assert report["clips"] == {"always flute": 2} and report["heard"] == {"always flute": 1}
    assert report["models"]["always flute"]["clean"]["n"] == 2
    rb.write_report(report, tmp_path)
    assert "## always flute (2 clips; 1 more left out: the model learned from their songs)" in (tmp_path / "robustness.md").read_text()


def test_the_command_says_what_it_does_and_refuses_no_models(tmp_path: Path) -> None:
    runner = CliRunner()
    helped = runner.invoke(robustness_app, ["evaluate", "--help"])
    assert helped.exit_code == 0 and "accuracy per condition" in helped.output
    assert "Leave-one-source-out" in runner.invoke(robustness_app, ["sources", "--help"]).output
    none = runner.invoke(robustness_app, ["evaluate", "--model", str(tmp_path / "missing.pt")])
    assert none.exit_code != 0 and "no model to evaluate" in none.output


def test_sources_can_skip_the_users_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--no-users-model measures the folds only: `run` is given no model path, so no all-source model is trained."""
    from core.errors import HeritageError
    from ml.recognition import loso

    seen: list[Path | None] = []

    def fake_run(cfg: loso.LosoConfig, *, cache_dir: Path, say: object = None, model_path: Path | None = None) -> dict[str, object]:
        seen.append(model_path)
        raise HeritageError("stop here")

    monkeypatch.setattr(loso, "run", fake_run)
    runner = CliRunner()
    for flag, expected in (("--no-users-model", None), ("--users-model", tmp_path / "u.pt")):
        r = runner.invoke(robustness_app, ["sources", flag, "--model", str(tmp_path / "u.pt"), "--out", str(tmp_path)])
        assert r.exit_code == 1 and "stop here" in r.output
        assert seen[-1] == expected


def test_conditions_are_chosen_by_name_or_group_with_clean_kept() -> None:
    assert rb.select_conditions([]) == rb.CONDITIONS
    chosen = rb.select_conditions(["Stereo", "white noise, SNR 10 dB"])
    assert [c.group for c in chosen] == ["clean", "stereo", "noise"]
    with pytest.raises(InputError, match="choose from the groups"):
        rb.select_conditions(["reverb"])
