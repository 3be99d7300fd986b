"""The audio classification experiment end to end on a tiny real set: FluidSynth renders of Han
songs in both soundfont families, every member and both ensembles, the symbolic path on the same
split, the report, and `heritage classify` on a real file with the saved models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import soundfile

from ml.classification.audio import AudioModelConfig
from ml.classification.experiment import ClassifyConfig, run_task, write_report
from ml.classification.saved import load
from ml.data.preprocess import PreprocessConfig

pytestmark = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or not Path("/usr/share/sounds/sf2/TimGM6mb.sf2").exists(),
    reason="needs fluidsynth, fluid-soundfont-gm and timgm6mb-soundfont (apt-get install …)")

TINY = ClassifyConfig(per_class=12, seconds=4.0, instruments=("piano", "flute"),
                      model=AudioModelConfig(epochs=1, cnn_channels=(4, 4, 8, 8), embed=8, rnn_hidden=8, rnn_layers=1,
                                             crnn_channels=8, crnn_blocks=2, gru_hidden=4, attention=4))


def test_tiny_task_runs_every_model_and_the_symbolic_path(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli.main import app
    from core.errors import InputError
    from ml.data.corpora import essen
    from ml.data.render import render, soundfonts

    stages: list[str] = []
    report = run_task("han_genre", TINY, cache_dir=tmp_path / "cache", say=lambda s, d, t: stages.append(s),
                      model_path=tmp_path / "models" / "han_genre.pt")
    assert report["classes"] == ["Haozi", "Shange", "Wuge", "Xiaodiao"]
    assert sum(report["n"].values()) == 4 * 12 and report["grouped_by"] == "piece"
    for test in ("test (FluidR3)", "test (TimGM6mb)"):
        r = report["results"][test]
        assert {"cnn", "rnn", "lstm", "crnn", "cnn_svm"} <= set(r)
        stacks = [k for k in r if k.startswith("stack")]
        assert len(stacks) == 1 and "beats_best_member" in r[stacks[0]]
        for m in r.values():
            assert sum(map(sum, m["confusion"])) == report["n"]["test"] and 0 <= m["accuracy"] <= 1
    assert report["stack_fitted_on"]["split"] == "validation"
    assert report["symbolic"]["confusion"] and any("symbolic path" in s for s in stages)
    write_report([report], tmp_path / "reports")
    md = (tmp_path / "reports" / "classification_audio.md").read_text()
    assert "| symbolic features, random forest |" in md and "84.27%" in md
    assert (tmp_path / "reports" / "classification_audio_confusion_han_genre.png").read_bytes()[:4] == b"\x89PNG"

    saved = load(tmp_path / "models" / "han_genre.pt")
    assert saved.task == "han_genre" and saved.ensemble.labels == report["classes"]
    assert saved.preprocess == PreprocessConfig()
    font = next(f for f in soundfonts() if f.family == "FluidR3")
    wav = tmp_path / "song.wav"
    soundfile.write(wav, render(essen(("Chinese Han",))[5].abc, program="flute", soundfont=font.path), 22_050)
    result = CliRunner().invoke(app, ["classify", str(wav), "--models", str(tmp_path / "models"), "--json"])
    assert result.exit_code == 0, result.output
    dist = json.loads(result.stdout)["han_genre"]
    assert set(dist) == set(report["classes"]) and abs(sum(dist.values()) - 1) < 1e-6

    missing = CliRunner().invoke(app, ["classify", str(wav), "--models", str(tmp_path / "none")])
    assert missing.exit_code != 0 and "classification evaluate" in missing.output
    with pytest.raises(InputError, match="unknown task"):
        run_task("weather", TINY, cache_dir=tmp_path / "cache")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(InputError, match="not a classifier"):
        load(tmp_path / "junk.pt")
